"""A small valid company written in any of the three table formats, with cells a case may replace.

Every table holds rows of `cs-test` (the department scored) and of `cs-other`,
so a value that only nearly names `cs-test` is told apart from another
department's rows. A cell may be replaced by a marker that only some formats can
hold: `Formula`, `ErrorCell`, `PercentCell`, `TimeCell` (xlsx), `Typed` (a
Parquet/xlsx cell of a non-text type such as a float NaN or an aware datetime).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from kpi_lib.batch.demo import TABLE_COLUMNS

from ..conftest import params_document

DEPT = "cs-test"
PERIOD = "2026-Q4"
FORMATS = ("csv", "xlsx", "parquet")
SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "parquet": ".parquet"}

ROWS: dict[str, list[list[str]]] = {
    "policy_plan": [
        ["P1", DEPT, "投诉处理制度", "2026-10-10", "2026-10-09", "false", ""],
        ["P2", DEPT, "回访制度", "2026-11-10", "", "true", "预算未批"],
        ["P3", "cs-other", "制度", "2026-11-10", "", "false", ""],
    ],
    "work_plan": [
        ["T1", DEPT, "培训", "2026-10-15", "10", "9", "false", ""],
        ["T2", DEPT, "巡检", "2026-11-15", "4", "4", "false", ""],
        ["T3", "cs-other", "巡检", "2026-11-15", "4", "1", "false", ""],
    ],
    "surveys": [
        ["R1", DEPT, "customer_satisfaction", "张三", "2026-10-05", "5"],
        ["R2", DEPT, "customer_satisfaction", "李四", "2026-11-05", "3"],
        ["R3", DEPT, "policy_execution", "王五", "2026-12-20", "4"],
        ["R4", DEPT, "assigned_tasks", "赵六", "2026-12-20", "5"],
        ["R5", "cs-other", "customer_satisfaction", "钱七", "2026-10-05", "4"],
    ],
    "communications": [
        ["M1", DEPT, "C1", "2026-10-01 09:00", "2026-10-01 10:00"],
        ["M2", DEPT, "C2", "2026-10-02 09:00:00", ""],
        ["M3", "cs-other", "C9", "2026-10-02 09:00", "2026-10-02 09:30"],
    ],
    "feedback": [
        ["F1", DEPT, "C1", "2026-10-08 09:00", "2026-10-09 09:00"],
        ["F2", DEPT, "C3", "2026-11-08 09:00", "2026-11-20 09:00"],
        ["F3", "cs-other", "C9", "2026-11-08 09:00", ""],
    ],
    "revisits": [
        ["C1", DEPT, "false", "2026-10-10", "2026-10-11"],
        ["C2", DEPT, "true", "2026-11-10", ""],
        ["C3", DEPT, "true", "2026-11-12", "2026-11-13"],
        ["C9", "cs-other", "false", "2026-11-10", ""],
    ],
    "complaints": [
        ["K1", DEPT, "2026-10-01 09:00", "2026-10-01 12:00", "是"],
        ["K2", DEPT, "2026-11-01 09:00", "", ""],
        ["K3", DEPT, "2026-12-01 09:00", "2026-12-02 09:00", "yes"],
        ["K4", "cs-other", "2026-12-01 09:00", "2026-12-02 09:00", "否"],
    ],
    "key_accounts": [
        ["A1", DEPT, "客户甲", "2025-01-01", ""],
        ["A2", DEPT, "客户乙", "2025-06-01", "2026-11-20"],
        ["A3", "cs-other", "客户丙", "2025-06-01", ""],
    ],
    "expenses": [
        ["E1", DEPT, "2026-10-03", "差旅", "1000.50", "false"],
        ["E2", DEPT, "2026-11-03", "培训", "500", "true"],
        ["E3", "cs-other", "2026-11-03", "培训", "80", "false"],
    ],
    "budgets": [
        [DEPT, PERIOD, "2000"],
        ["cs-other", PERIOD, "1000"],
    ],
    "observations": [
        ["CS02", DEPT, PERIOD, "92", "李四", "2026-12-20", "现场", "", "30"],
        ["CS02", "cs-other", PERIOD, "80", "李四", "2026-12-20", "现场", "", "30"],
    ],
}
HEADERS: dict[str, list[str]] = {**TABLE_COLUMNS, "observations": [*TABLE_COLUMNS["observations"], "responses"]}


@dataclass(frozen=True)
class Formula:
    """An xlsx formula cell saved without a cached value (as openpyxl and many generators write it)."""

    text: str = "=1/0"


@dataclass(frozen=True)
class ErrorCell:
    """An xlsx error cell (#DIV/0!, #N/A …), as Excel saves a formula that failed."""

    code: str


@dataclass(frozen=True)
class PercentCell:
    """An xlsx number shown as a percentage (0.95 shown as 95%)."""

    value: float


@dataclass(frozen=True)
class TimeCell:
    """An xlsx time-of-day cell without a date."""

    value: time


@dataclass(frozen=True)
class Typed:
    """A typed (non-text) cell; the rest of its column is converted to the same type by `cast`."""

    value: Any
    cast: str  # float | datetime


def write_table(folder: Path, name: str, fmt: str, rows: list[list[Any]], header: list[str] | None = None) -> Path:
    header = header or HEADERS[name]
    path = folder / f"{name}{SUFFIX[fmt]}"
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([[_csv_text(c) for c in row] for row in rows])
    elif fmt == "xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(header)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                _xlsx_cell(sheet.cell(row=r, column=c), value)
        book.save(path)
    else:
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
        arrays = {h: _parquet_column(list(col)) for h, col in zip(header, columns, strict=True)}
        pq.write_table(pa.table(arrays), path)
    return path


def _csv_text(value: Any) -> str:
    if isinstance(value, Typed):
        return str(value.value)
    if isinstance(value, (Formula, ErrorCell, PercentCell, TimeCell)):
        raise ValueError(f"{value} cannot be written to CSV")
    return "" if value is None else str(value)


def _xlsx_cell(cell: Any, value: Any) -> None:
    if isinstance(value, Formula):
        cell.value = value.text
    elif isinstance(value, ErrorCell):
        cell.value = value.code  # openpyxl stores a known error code as an error cell (data type "e")
    elif isinstance(value, PercentCell):
        cell.value = value.value
        cell.number_format = "0%"
    elif isinstance(value, TimeCell):
        cell.value = value.value
    elif isinstance(value, Typed):
        cell.value = value.value.replace(tzinfo=None) if isinstance(value.value, datetime) else value.value
    else:
        cell.value = None if value in (None, "") else value
        if isinstance(cell.value, str):
            cell.data_type = "s"  # text stays text, even when it starts with "="


def _parquet_column(cells: list[Any]) -> pa.Array:
    typed = next((c for c in cells if isinstance(c, Typed)), None)
    if typed is None:
        return pa.array([None if c in (None, "") else str(c) for c in cells], type=pa.string())
    values = []
    for cell in cells:
        if isinstance(cell, Typed):
            values.append(cell.value)
        elif cell in (None, ""):
            values.append(None)
        elif typed.cast == "float":
            values.append(float(cell))
        else:
            local = datetime.fromisoformat(str(cell))
            zone = typed.value.tzinfo
            values.append(local.replace(tzinfo=_shanghai()).astimezone(zone) if zone else local)
    nanos = any(getattr(v, "nanosecond", 0) for v in values if v is not None)
    return pa.array(values, type=pa.timestamp("ns") if nanos else None)


def _shanghai() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def write_company(
    root: Path, fmt: str, rows: dict[str, list[list[Any]]] | None = None, params_text: str | None = None, **params: Any
) -> Path:
    """Write data/ in format `fmt` and cs-test.yaml; return the params path."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, table_rows in (rows or ROWS).items():
        write_table(data, name, fmt, table_rows)
    path = root / f"{DEPT}.yaml"
    text = (
        params_text
        if params_text is not None
        else yaml.safe_dump(params_document(DEPT, **params), allow_unicode=True, sort_keys=False)
    )
    path.write_text(text, encoding="utf-8")
    return path
