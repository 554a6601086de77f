"""The period's departments as rows (rank, result or error) and the two summary files made of them.

`department_rows` reads every department folder of a period: its `result.json`
as the typed `DepartmentResult` (`read_result`), or its `error.txt`, with the
name, language, grade labels and groups its `department.json` records. Ranking:
departments with a result by total (highest first, then id), ranked 1…n; then
the failed ones by id. `summary.csv` (for people and HR systems) and
`summary.xlsx` are written from these rows; `index.html` (`reports`) too. Each row
also says where the department's sign-off stands (`signoff`, last column: 未签 /
部门经理已签 / 全部签署, and whether an earlier round was superseded), so
`kpi sign` renders the summaries again.

A department's own entries are in its language: `IndexRow.grade_label` gives the
English name of a default grade label (`grade.*` of the catalog) to an English
department, a params file's own labels as written. Indicator names for the
summary.xlsx headers (`CS04 客户服务信息传递`) come from the template copy each
department folder keeps (`inputs/template.yaml`), in Chinese, the seed's language.
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

from .errors import AuditError, KpiError, shorten
from .explain import grade_label
from .exports import append_row, csv_cell, new_sheet, workbook_bytes
from .layout import TEMPLATE_COPY, DepartmentFolder
from .numbers import round2
from .result import DepartmentResult, json_real
from .signing import sign_state
from .template import load_template


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
    signoff: str = (
        ""  # where its sign-off stands, in its language (未签 / 部门经理已签 / 全部签署; see `signing.SignState`)
    )

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
        row.names = _names(folder)
        row.signoff = sign_state(folder.path).text(row.lang)
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


def _names(folder: DepartmentFolder) -> dict[str, str]:
    """Each indicator's Chinese name from the department's template copy; {} when it has none that loads."""
    copy = folder.inputs / TEMPLATE_COPY
    if not copy.is_file():
        return {}
    try:
        template = load_template(str(copy))
    except KpiError:  # a damaged copy: verify names it (its hash); the summary falls back to the ids
        return {}
    return {ind.id: ind.name("zh") for ind in template.indicators}


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
            r.signoff,
        ]
        writer.writerow([csv_cell(c) for c in cells])
    return "\ufeff" + buffer.getvalue()


def _cents(value: Decimal | None) -> Decimal | None:
    """A score as the number it prints as with two decimals (a number, so `csv_cell` leaves it alone)."""
    return None if value is None else round2(value)


def summary_headers(rows: Sequence[IndexRow], ids: Sequence[str]) -> list[str]:
    """Each indicator column's header: `CS04 客户服务信息传递`, or the id alone when the departments' templates
    do not give it one name (none kept, or two templates naming the same id differently)."""
    out = []
    for iid in ids:
        names = {r.names[iid] for r in rows if r.result is not None and iid in r.names}
        out.append(f"{iid} {names.pop()}" if len(names) == 1 else iid)
    return out


SUMMARY_WIDTHS = {"rank": 8, "department": 14, "name": 18, "period": 10, "status": 8, "total": 10, "grade": 8}


def summary_xlsx(period: str, rows: Sequence[IndexRow], when: datetime | None = None) -> bytes:
    """One row per department: rank, id, name, total, grade, every indicator's score (for import into HR systems).

    The header row is frozen and carries an auto-filter; totals and scores are numbers shown
    with two decimals (`0.00`), the cents every report shows; each department's grade label is
    in its own language. The header words are bilingual: the sheet is the company's, not one
    department's; `crosscheck` reads the columns by the header's last word (or its first, the id).
    """
    ids = summary_ids(rows)
    book, sheet = new_sheet(period)
    header = ["名次 rank", "部门编号 department", "部门 name", "期间 period", "状态 status", "加权总分 total"]
    append_row(sheet, [*header, "等级 grade", "等级名称 grade_label", *summary_headers(rows, ids), "签字 signoff"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    numbers = [6, *range(9, 9 + len(ids))]  # the total and every score column (1-based)
    for r in rows:
        scores = r.scores()
        cells = [r.rank, r.department, r.name, period, r.status, json_real(r.total), r.grade, r.grade_label]
        append_row(sheet, [*cells, *(json_real(scores.get(i)) for i in ids), r.signoff])
        for column in numbers:
            sheet.cell(row=sheet.max_row, column=column).number_format = "0.00"
    widths = [*SUMMARY_WIDTHS.values(), 12, *(16 for _ in ids), 16]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{max(sheet.max_row, 1)}"
    return workbook_bytes(book, when)
