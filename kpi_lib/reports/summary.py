"""The period's departments as rows (rank, result or error) and the two summary files made of them.

`department_rows` reads every department folder of a period: its `result.json`
as the typed `DepartmentResult` (`read_result`), or its `error.txt`, with the
name, language, grade labels and groups its `department.json` records. Ranking:
departments with a result by total (highest first, then id), ranked 1…n; then
the failed ones by id. `summary.csv` (for people and HR systems) and
`summary.xlsx` are written from these rows; `index.html` (`reports`) too. Each row
also says where the department's sign-off stands (`signoff`, last column: 未签 /
部门经理已签 / 全部签署, and whether an earlier round was superseded; in the
company's language in index.html and summary.xlsx, in English in summary.csv,
a machine file), so `kpi sign` renders the summaries again.

A department's own entries are in its language: `IndexRow.grade_label` gives the
English name of a default grade label (`grade.*` of the catalog) to an English
department, a params file's own labels as written. Indicator names for the
summary.xlsx headers (`CS04 客户服务信息传递`) come from the template copy each
department folder keeps (`inputs/template.yaml`).

The company-wide files speak the company's language (`company_lang`): `index.html`
and `summary.xlsx` (headers, status, indicator names) are in it, each department's
own words (its name, grade label) in the department's. `summary.csv` is for machines:
its column names and `ok`/`failed` stay as they are whatever the language.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..base.errors import AuditError, KpiError, shorten
from ..base.layout import COMPANY_COPY, TEMPLATE_COPY, DepartmentFolder
from ..base.messages import say
from ..base.numbers import round2
from ..base.yamlfile import load as load_yaml
from ..inputs.signing import SignState, sign_state
from ..inputs.template import load_template
from ..scoring.result import DepartmentResult, json_real
from ..words.explain import grade_label
from .exports import append_row, csv_cell, new_sheet, print_on_a4_landscape, workbook_bytes


@dataclass
class IndexRow:
    """One department of the period as the index and the summaries show it: its result, or its error."""

    department: str
    name: str = ""
    lang: str = "zh"
    labels: Mapping[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    result: DepartmentResult | None = None
    error: str = ""
    rank: int | None = None
    names: Mapping[str, str] = field(default_factory=dict)  # indicator id → its name in the template (zh)
    names_en: Mapping[str, str] = field(default_factory=dict)  # … and in English

    def name_of(self, iid: str, lang: str) -> str | None:
        """Indicator `iid`'s name in `lang` (None when the template copy gives none)."""
        return (self.names_en if lang == "en" else self.names).get(iid)

    sign: SignState | None = None  # where its sign-off stands (see `signing.SignState`)

    def signoff(self, lang: str) -> str:
        """未签 / 部门经理已签 / 全部签署 (or the English) in `lang`; "" for a department without a result."""
        return self.sign.text(lang) if self.sign is not None else ""

    @property
    def status(self) -> str:
        return "ok" if self.result is not None else "failed"

    @property
    def total(self) -> Decimal | None:
        return self.result.total if self.result else None

    @property
    def grade(self) -> str | None:
        return self.result.grade if self.result else None

    @property
    def grade_label(self) -> str:
        """The grade's label in the department's language (`explain.grade_label`)."""
        return grade_label(self.labels.get(self.grade or "", ""), self.lang)

    def scores(self) -> dict[str, Decimal | None]:
        return self.result.scores() if self.result else {}


def department_rows(period_dir: Path) -> list[IndexRow]:
    """One row per department folder that holds a result or an error, ranked; `AuditError` names a file that cannot be read."""
    folders = sorted(p for p in period_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    rows = [row for folder in folders if (row := _department_row(DepartmentFolder(folder)))]
    ok = sorted(
        (r for r in rows if r.result is not None),
        key=lambda r: (-(r.total if r.total is not None else Decimal(-1)), r.department),
    )
    for rank, row in enumerate(ok, start=1):
        row.rank = rank
    return ok + [r for r in rows if r.result is None]


def _department_row(folder: DepartmentFolder) -> IndexRow | None:
    """What the index shows of one department folder (None when it holds neither result nor error)."""
    meta = read_meta(folder)
    row = IndexRow(
        folder.path.name,
        name=meta.get("name", ""),
        lang=meta.get("lang", "zh"),
        labels=meta.get("labels", {}),
        groups=tuple(meta.get("groups", ())),
    )
    if folder.result.is_file():
        row.result = read_result(folder.result)
        if not row.groups:  # a folder written before department.json named its groups
            row.groups = tuple(dict.fromkeys(i.group for i in row.result.indicators))
        row.names, row.names_en = _names(folder, "zh"), _names(folder, "en")
        row.sign = sign_state(folder.path)
    elif folder.error.is_file():
        try:
            row.error = folder.error.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditError(
                f"{folder.error}: cannot be read ({exc}); restore the file or run the department again"
            ) from None
    else:
        return None
    return row


def _names(folder: DepartmentFolder, lang: str = "zh") -> dict[str, str]:
    """Each indicator's name in `lang` from the department's template copy; {} when it has none that loads."""
    copy = folder.inputs / TEMPLATE_COPY
    if not copy.is_file():
        return {}
    try:
        template = load_template(str(copy))
    except KpiError:  # a damaged copy: verify names it (its hash); the summary falls back to the ids
        return {}
    return {ind.id: ind.name(lang) for ind in template.indicators}


def company_lang(period_dir: Path, rows: Sequence[IndexRow]) -> str:
    """The language of the period's company-wide files: `lang` of the company file the departments were run with
    (the copy the first department folder, by id, keeps), else the first department's; Chinese when none says.

    Read from the department folders, never from the company's files now: `kpi verify` renders the
    index again from the folders and must get the language the run used.
    """
    for row in sorted(rows, key=lambda r: r.department):
        copy = DepartmentFolder(period_dir / row.department).inputs / COMPANY_COPY
        if copy.is_file():
            try:
                loaded = load_yaml(copy.read_text(encoding="utf-8"))
            except (KpiError, OSError, UnicodeDecodeError, ValueError):
                continue
            if isinstance(loaded, dict) and loaded.get("lang") in ("zh", "en"):
                return str(loaded["lang"])
    first = min(rows, key=lambda r: r.department, default=None)
    return "en" if first is not None and first.lang == "en" else "zh"


def read_result(path: Path) -> DepartmentResult:
    """A department's `result.json` as its typed record; `AuditError` naming the file and field otherwise."""
    try:
        return DepartmentResult.from_json(_read_object(path), str(path))
    except AuditError as exc:
        raise AuditError(f"{exc}; not as kpi run writes it: restore the file or run the department again") from None


def read_meta(folder: DepartmentFolder) -> dict[str, Any]:
    """`department.json` (name, language, grade labels, groups), checked; {} when the folder has none."""
    if not folder.meta.is_file():
        return {}
    meta = _read_object(folder.meta)
    kinds: dict[str, type] = {"name": str, "lang": str, "labels": dict, "groups": list}
    bad = [k for k, kind in kinds.items() if k in meta and not isinstance(meta[k], kind)]
    if not bad and not all(isinstance(v, str) for v in meta.get("labels", {}).values()):
        bad.append("labels")
    if not bad and not all(isinstance(g, str) for g in meta.get("groups", [])):
        bad.append("groups")
    if bad:
        raise AuditError(
            f"{folder.meta}: not as kpi run writes it (field {', '.join(bad)}); "
            "restore the file or run the department again"
        )
    return meta


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AuditError(
            f"{path}: not readable JSON ({shorten(exc)}); restore the file or run the department again"
        ) from None
    if not isinstance(data, dict):
        raise AuditError(f"{path}: not a JSON object; restore the file or run the department again")
    return data


def summary_ids(rows: Sequence[IndexRow]) -> list[str]:
    """The indicator columns of the summaries: every indicator id of any department, sorted."""
    return sorted({i.id for r in rows if r.result for i in r.result.indicators})


def summary_csv_text(period: str, rows: Sequence[IndexRow]) -> str:
    """The text of `summary.csv`: one row per department (UTF-8 with BOM, so Excel shows the Chinese names)."""
    ids = summary_ids(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = (
        "rank",
        "department",
        "name",
        "period",
        "status",
        "total",
        "grade",
        "grade_label",
        *ids,
        "error",
        "signoff",
    )
    writer.writerow([csv_cell(c) for c in header])
    for r in rows:
        scores = r.scores()
        first_error = r.error.splitlines()[0] if r.error else ""
        cells = [
            r.rank,
            r.department,
            r.name,
            period,
            r.status,
            _cents(r.total),
            r.grade,
            r.grade_label,
            *(_cents(scores.get(i)) for i in ids),
            first_error,
            r.signoff("en"),  # a machine file: its words stay English
        ]
        writer.writerow([csv_cell(c) for c in cells])
    return "\ufeff" + buffer.getvalue()


def _cents(value: Decimal | None) -> Decimal | None:
    """A score as the number it prints as with two decimals (a number, so `csv_cell` leaves it alone)."""
    return None if value is None else round2(value)


def summary_headers(rows: Sequence[IndexRow], ids: Sequence[str], lang: str = "zh") -> list[str]:
    """Each indicator column's header: `CS04 客户服务信息传递` (the name in `lang`), or the id alone when the
    departments' templates do not give it one name (none kept, or two templates naming the same id differently)."""
    out = []
    for iid in ids:
        names = {n for r in rows if r.result is not None and (n := r.name_of(iid, lang)) is not None}
        out.append(f"{iid} {names.pop()}" if len(names) == 1 else iid)
    return out


SUMMARY_WIDTHS = {"rank": 8, "department": 14, "name": 18, "period": 10, "status": 8, "total": 10, "grade": 8}


SUMMARY_COLUMNS = ("rank", "department", "name", "period", "status", "total", "grade", "grade_label")


def summary_status(status: str, lang: str) -> str:
    """A department's status as summary.xlsx shows it, in `lang` (`ok` → 完成)."""
    return say(f"summary.status.{status}", lang)


def summary_xlsx(period: str, rows: Sequence[IndexRow], when: datetime | None = None, lang: str = "zh") -> bytes:
    """One row per department: rank, id, name, total, grade, every indicator's score (for import into HR systems).

    The header row is frozen and carries an auto-filter; totals and scores are numbers shown
    with two decimals (`0.00`), the cents every report shows; each department's grade label is
    in its own language. The header words and the status are in the company's language
    (`lang`, see `company_lang`); `crosscheck` reads the columns by those words (or the
    header's first word, the id).
    It prints on A4 landscape, one page wide, the header row repeated on every page.
    """
    ids = summary_ids(rows)
    book, sheet = new_sheet(period)
    header = [say(f"summary.{column}", lang) for column in SUMMARY_COLUMNS]
    append_row(sheet, [*header, *summary_headers(rows, ids, lang), say("summary.signoff", lang)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    numbers = [6, *range(9, 9 + len(ids))]  # the total and every score column (1-based)
    for r in rows:
        scores = r.scores()
        status = summary_status(r.status, lang)
        cells = [r.rank, r.department, r.name, period, status, json_real(r.total), r.grade, r.grade_label]
        append_row(sheet, [*cells, *(json_real(scores.get(i)) for i in ids), r.signoff(lang)])
        for column in numbers:
            sheet.cell(row=sheet.max_row, column=column).number_format = "0.00"
    widths = [*SUMMARY_WIDTHS.values(), 12, *(16 for _ in ids), 16]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{max(sheet.max_row, 1)}"
    print_on_a4_landscape(sheet, title_rows=1)
    return workbook_bytes(book, when)
