"""The period's departments as rows (rank, result or error) and the two summary files made of them.

`department_rows` reads every department folder of a period: its `result.json`
as the typed `DepartmentResult` (`read_result`), or its `error.txt`, with the
name, language, grade labels and groups its `department.json` records. Ranking:
departments with a result by total (highest first, then id), ranked 1…n; then
the failed ones by id. `summary.csv` (for people and HR systems) and
`summary.xlsx` are written from these rows; `index.html` (`reports`) too.
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

from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .errors import AuditError, shorten
from .exports import append_row, csv_cell, new_sheet, workbook_bytes
from .layout import DepartmentFolder
from .numbers import round2
from .result import DepartmentResult, json_real


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
        return self.labels.get(self.grade or "", "")

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
    header = ("rank", "department", "name", "period", "status", "total", "grade", "grade_label", *ids, "error")
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
        ]
        writer.writerow([csv_cell(c) for c in cells])
    return "\ufeff" + buffer.getvalue()


def _cents(value: Decimal | None) -> Decimal | None:
    """A score as the number it prints as with two decimals (a number, so `csv_cell` leaves it alone)."""
    return None if value is None else round2(value)


def summary_xlsx(period: str, rows: Sequence[IndexRow], when: datetime | None = None) -> bytes:
    """One row per department: rank, id, name, total, grade, every indicator's score (for import into HR systems)."""
    ids = summary_ids(rows)
    book, sheet = new_sheet(period)
    header = ["名次 rank", "部门编号 department", "部门 name", "期间 period", "状态 status", "加权总分 total"]
    append_row(sheet, [*header, "等级 grade", "等级名称 grade_label", *ids])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in rows:
        scores = r.scores()
        cells = [r.rank, r.department, r.name, period, r.status, json_real(r.total), r.grade, r.grade_label]
        append_row(sheet, [*cells, *(json_real(scores.get(i)) for i in ids)])
    for column in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 14
    return workbook_bytes(book, when)
