"""The error tree and the problem codes (issue 9): every code is defined once, produced, and named by its line.

`CASES` is the table: one input that goes wrong, through the public loading
functions (`load_params`, `load_template`, `appraise` over a `DataFolder`), the
code its problem must carry, and the places its line must still name (the file,
the row or xlsx cell, the column or params key). Every code of `Code` is
produced by a row of it, or listed in `PRODUCED_ELSEWHERE` with the reason.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import kpi_lib
from kpi_lib import (
    AuditError,
    DataError,
    InputError,
    KpiError,
    OutputError,
    ParamsError,
    Period,
    Problem,
    SetupError,
    TemplateError,
    UsageError,
    appraise,
    load_params,
    load_template,
)
from kpi_lib.base.errors import CODES, Code
from kpi_lib.inputs.template import template_path

from .conftest import fast_sample
from .corpus.cases import VALID
from .corpus.company import DEPT, HEADERS, PERIOD, ROWS, ErrorCell, Formula, PercentCell, TimeCell, write_company

# -- building a company that goes wrong ------------------------------------------------------------------------


def _rows(**changes: Callable[[list[list[Any]]], list[list[Any]]]) -> dict[str, list[list[Any]]]:
    """The corpus company's rows, each named table edited by its function."""
    rows = {name: [list(r) for r in table] for name, table in ROWS.items()}
    for name, edit in changes.items():
        rows[name] = edit(rows[name])
    return rows


def _set(table: str, row: int, column: str, value: Any) -> dict[str, list[list[Any]]]:
    """The corpus company with one cell replaced."""

    def edit(rows: list[list[Any]]) -> list[list[Any]]:
        rows[row][HEADERS[table].index(column)] = value
        return rows

    return _rows(**{table: edit})


def _score(path: Path) -> None:
    appraise(load_params(path), Period.parse(PERIOD))


@dataclass(frozen=True)
class Case:
    """An input that goes wrong: `build` writes it under a folder and returns what to call; `where` the line names."""

    id: str
    code: str
    build: Callable[[Path], Callable[[], Any]]
    where: tuple[str, ...] = ()
    error: type[InputError] = DataError
    marks: tuple[Any, ...] = ()


def cell(id: str, code: str, table: str, row: int, column: str, value: Any, fmt: str = "csv", **params: Any) -> Case:
    """A case of one bad cell: the line names the file and the row (or the xlsx cell) and the column."""

    def build(root: Path) -> Callable[[], Any]:
        path = write_company(root, fmt, _set(table, row, column, value), **params)
        return lambda: _score(path)

    if fmt == "xlsx":
        where: tuple[str, ...] = (f"{table}.xlsx!{'ABCDEFGHIJ'[HEADERS[table].index(column)]}{row + 2}",)
    else:
        where = (f"{table}.{fmt}", f"row {row + 2}")
    return Case(id, code, build, (*where, f"column {column}"))


def data(
    id: str,
    code: str,
    where: tuple[str, ...],
    fmt: str = "csv",
    rows: dict[str, list[list[Any]]] | None = None,
    files: Callable[[Path], Any] | None = None,
    **params: Any,
) -> Case:
    """A case of the data folder as a whole: `files` edits the written company (its root) before scoring."""

    def build(root: Path) -> Callable[[], Any]:
        path = write_company(root, fmt, rows, **params)
        if files is not None:
            files(root)
        return lambda: _score(path)

    return Case(id, code, build, where)


def params(id: str, code: str, text: str | bytes, *where: str) -> Case:
    """A case of a params file (YAML text, or bytes): the line names the file and the key."""

    def build(root: Path) -> Callable[[], Any]:
        path = write_company(root, "csv", params_text=VALID)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return lambda: _score(path)

    return Case(id, code, build, (f"{DEPT}.yaml", *where), ParamsError)


def company(id: str, code: str, text: str, *where: str) -> Case:
    """A case of a company file (YAML text) the valid params name: the line names the company file, the line and the key."""

    def build(root: Path) -> Callable[[], Any]:
        (root / "company.yaml").write_text(text, encoding="utf-8")
        path = write_company(root, "csv", params_text="company: company.yaml\n" + VALID)
        return lambda: _score(path)

    return Case(id, code, build, ("company.yaml", *where), ParamsError)


def changed(id: str, code: str, *where: str, **changes: Any) -> Case:
    """A case of the test params with `changes` (see conftest.params_document): the line names the file and the key."""

    def build(root: Path) -> Callable[[], Any]:
        path = write_company(root, "csv", **changes)
        return lambda: _score(path)

    return Case(id, code, build, (f"{DEPT}.yaml", *where), ParamsError)


def swap(old: str, new: str) -> str:
    if old not in VALID:
        raise ValueError(f"{old!r} is not in the valid params")
    return VALID.replace(old, new, 1)


def template(id: str, code: str, change: Callable[[dict[str, Any]], Any], *where: str) -> Case:
    """A case of a template file: the packaged one with `change` applied; the line names the file and the entry."""

    def build(root: Path) -> Callable[[], Any]:
        document = yaml.safe_load(template_path("customer_service").read_text(encoding="utf-8"))
        change(document)
        path = root / "broken.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        return lambda: load_template(str(path))

    return Case(id, code, build, ("broken.yaml", *where), TemplateError)


def _write(relative: str, content: bytes | str) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)

    return write


def _edit(relative: str, edit: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        path = root / relative
        path.write_bytes(edit(path.read_bytes()))

    return write


def _sheet(edit: Callable[[Any], Any]) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        import openpyxl

        path = root / "data" / "complaints.xlsx"
        book = openpyxl.load_workbook(path)
        edit(book.active)
        book.save(path)

    return write


def _binary_cell(root: Path) -> None:
    """complaints.parquet whose satisfied column holds bytes."""
    rows = ROWS["complaints"]
    columns = {h: pa.array([r[i] or None for r in rows], pa.string()) for i, h in enumerate(HEADERS["complaints"])}
    columns["satisfied"] = pa.array([b"\x01"] * len(rows), pa.binary())
    pq.write_table(pa.table(columns), root / "data" / "complaints.parquet")


def _many_rows(root: Path) -> Callable[[], Any]:
    """A Parquet company read with a row limit of 1 (the real limit is millions of rows)."""
    path = write_company(root, "parquet")

    def run() -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("kpi_lib.inputs.readers.MAX_PARQUET_ROWS", 1)
            _score(path)

    return run


HAPPY = {"complaints": {"columns": {"satisfied": "Happy"}}}
OBSERVED = {"indicators": {"CS02": {"method": "observation"}}}
ADAPTER = {"tables": {"complaints": {"adapter": "shape.py:shape"}}}


def _tasks_without_review_date(root: Path) -> Callable[[], Any]:
    from kpi_lib.scoring.schedule import tasks

    path = write_company(root, "csv", params_text=VALID.replace("review_date: 2026-12-20\n", ""))
    department = load_params(path)
    return lambda: tasks(department.template, 2026, department=department)


def _in_july(rows: list[list[Any]]) -> list[list[Any]]:
    """Complaints all received and resolved in July: none in the fourth quarter."""
    return [[r[0], r[1], "2026-07-01 09:00", "2026-07-01 10:00", "是"] for r in rows]


CASES: list[Case] = [
    # -- a file as a whole
    data(
        "missing-file",
        "missing_file",
        ("complaints", "missing file"),
        files=lambda root: (root / "data" / "complaints.csv").unlink(),
    ),
    data(
        "missing-mapped-file",
        "missing_file",
        ("exports/tickets.csv", "the params map table complaints"),
        tables={"complaints": {"file": "exports/tickets.csv"}},
    ),
    data("two-files", "ambiguous_file", ("complaints", "ambiguous"), files=_write("data/complaints.xlsx", b"")),
    data(
        "two-sheets",
        "ambiguous_file",
        ("complaints.xlsx", "holds data on 2 sheets"),
        "xlsx",
        files=_sheet(lambda ws: ws.parent.create_sheet("Dec").append(["K9"])),
    ),
    data(
        "no-such-sheet",
        "missing_sheet",
        ("complaints.xlsx", "no sheet 'Export'"),
        "xlsx",
        tables={"complaints": {"sheet": "Export"}},
    ),
    data(
        "text-file",
        "unsupported_file_type",
        ("complaints.txt", "unsupported file type"),
        tables={"complaints": {"file": "complaints.txt"}},
        files=_write("data/complaints.txt", "complaint_id\n"),
    ),
    data(
        "damaged-xlsx",
        "unreadable_file",
        ("complaints.xlsx", "not a readable .xlsx file"),
        "xlsx",
        files=_write("data/complaints.xlsx", b"PK\x03\x04 not really"),
    ),
    data(
        "damaged-parquet",
        "unreadable_file",
        ("complaints.parquet", "not a readable Parquet file"),
        "parquet",
        files=_write("data/complaints.parquet", b"PAR1 not really"),
    ),
    data(
        "utf16-without-bom",
        "bad_encoding",
        ("complaints.csv", "UTF-16 without a byte-order mark"),
        files=_edit("data/complaints.csv", lambda b: b.decode("utf-8").encode("utf-16-le")),
    ),
    data(
        "bad-byte",
        "bad_encoding",
        ("complaints.csv", "line 6", "is not UTF-8"),
        files=_edit("data/complaints.csv", lambda b: b + b"K9,cs-test,2026-10-01 09:00,,\xff\n"),
    ),
    params("params-not-utf8", "bad_encoding", (VALID + "name: 测试客服部\n").encode("gb18030"), "not UTF-8"),
    data(
        "unterminated-quote",
        "bad_csv",
        ("complaints.csv", "not valid CSV"),
        files=_edit("data/complaints.csv", lambda b: b.replace(b"K2,", b'"K2,', 1)),
    ),
    data("empty-csv", "empty_file", ("complaints.csv", "is empty"), files=_write("data/complaints.csv", b"")),
    Case("many-rows", "too_many_rows", _many_rows, ("complaints.parquet", "holds 4 rows")),
    data(
        "file-climbs-out",
        "path_outside",
        ("data", "tables.complaints.file", "'../complaints.csv'"),
        tables={"complaints": {"file": "../complaints.csv"}},
    ),
    data(
        "adapter-climbs-out",
        "path_outside",
        ("tables.complaints.adapter", "'../shape.py' climbs out with '..'"),
        tables={"complaints": {"adapter": "../shape.py:shape"}},
    ),
    data(
        "symlink-out",
        "path_outside",
        ("complaints.csv", "outside the data folder"),
        files=lambda root: (
            (root / "elsewhere.csv").write_bytes((root / "data" / "complaints.csv").read_bytes()),
            (root / "data" / "complaints.csv").unlink(),
            (root / "data" / "complaints.csv").symlink_to(root / "elsewhere.csv"),
        ),
    ),
    # -- YAML
    params("yaml-syntax", "yaml_syntax", VALID + "indicators: [\n", "line 19", "not valid YAML"),
    params("yaml-key-twice", "yaml_duplicate_key", VALID + "data: other\n", "key 'data' given twice (lines 3 and 18)"),
    params("yaml-anchor", "yaml_alias", swap("  CS05: {", "  CS05: &five {"), "line 10", "anchor &five"),
    params("yaml-alias", "yaml_alias", VALID + "x: &v 1\ny: *v\n", "not allowed"),
    params("yaml-merge-key", "yaml_alias", swap("  CS06: {", "  CS06: {<<: {weight: 8}, "), "line 11", "merge keys"),
    # -- the shape of a table
    data(
        "missing-column",
        "missing_column",
        ("complaints.csv", "row 1", "column satisfied", "missing column"),
        files=_edit("data/complaints.csv", lambda b: b.replace(b",satisfied\n", b",happy\n", 1)),
    ),
    data(
        "header-twice",
        "duplicate_column",
        ("complaints.csv", "row 1", "column satisfied", "header given twice"),
        files=_edit("data/complaints.csv", lambda b: b.replace(b"satisfied\n", b"satisfied,satisfied\n", 1)),
    ),
    data(
        "alias-and-name",
        "duplicate_column",
        ("complaints.csv", "row 1", "column 是否满意", "appears twice"),
        files=_edit("data/complaints.csv", lambda b: b.replace(b"satisfied\n", "satisfied,是否满意\n".encode(), 1)),
        rows=_rows(complaints=lambda rows: [[*r, r[4]] for r in rows]),
    ),
    data(
        "extra-field",
        "wrong_field_count",
        ("complaints.csv", "row 2", "6 fields, but the header (line 1) has 5"),
        rows=_rows(complaints=lambda rows: [[*rows[0], "x"], *rows[1:]]),
    ),
    data(
        "merged-range",
        "merged_cells",
        ("complaints.xlsx!B2:B3", "merged cells"),
        "xlsx",
        files=_sheet(lambda ws: ws.merge_cells("B2:B3")),
    ),
    # -- one cell
    cell("required-empty", "empty_value", "surveys", 0, "score", ""),
    cell("resolved-without-flag", "empty_value", "complaints", 0, "satisfied", ""),
    cell("thousands-separator", "not_a_number", "expenses", 0, "amount", "1,000"),
    cell("full-width-digits", "not_a_number", "expenses", 0, "amount", "１０００"),
    cell("nan-text", "not_a_number", "expenses", 0, "amount", "NaN"),
    cell("huge", "number_out_of_bounds", "expenses", 0, "amount", "1e308"),
    cell("too-many-places", "number_out_of_bounds", "expenses", 0, "amount", "1000.1234567"),
    cell("long-number", "number_out_of_bounds", "expenses", 0, "amount", "1" * 100),
    cell("fraction-count", "not_a_whole_number", "observations", 0, "responses", "1.5", **OBSERVED),
    cell("not-a-boolean", "not_a_boolean", "complaints", 0, "satisfied", "maybe"),
    cell("not-on-calendar", "bad_date", "policy_plan", 0, "planned_date", "2026-02-30"),
    cell("slashed-date", "bad_date", "policy_plan", 0, "planned_date", "2026/10/10"),
    cell("date-with-time", "bad_date", "policy_plan", 0, "planned_date", "2026-10-10 09:00"),
    cell("hour-25", "bad_timestamp", "complaints", 0, "received_at", "2026-10-01 25:00"),
    cell("offset-25h", "bad_timestamp", "complaints", 0, "received_at", "2026-10-01 09:00+25:00"),
    cell(
        "clocks-go-forward",
        "nonexistent_time",
        "complaints",
        0,
        "received_at",
        "2026-03-08 02:30",
        timezone="America/New_York",
    ),
    cell("clocks-go-back", "ambiguous_time", "complaints", 0, "received_at", "2026-11-01 01:30", timezone="US/Eastern"),
    cell("year-1899", "date_out_of_range", "policy_plan", 0, "planned_date", "1899-12-31"),
    cell("year-2101", "date_out_of_range", "complaints", 0, "received_at", "2101-10-01 09:00"),
    cell("lower-q", "bad_period", "observations", 0, "period", "2026-q4", **OBSERVED),
    cell("score-6", "out_of_range", "surveys", 0, "score", "6"),
    cell("negative-amount", "out_of_range", "expenses", 0, "amount", "-5"),
    cell("impossible-observation", "out_of_range", "observations", 0, "value", "101", **OBSERVED),
    cell("nul-in-id", "control_character", "complaints", 0, "complaint_id", "K1\x00"),
    cell("bell-in-text", "control_character", "policy_plan", 1, "excuse_reason", "预算\x07未批"),
    cell("space-after-id", "not_exact", "complaints", 0, "complaint_id", "K1 "),
    cell("zero-width-in-id", "not_exact", "complaints", 0, "complaint_id", "K1\u200b"),
    cell("department-case", "near_match", "complaints", 0, "department", "CS-TEST"),
    cell("department-separator", "near_match", "surveys", 1, "department", "cs_test"),
    cell("survey-case", "near_match", "surveys", 0, "survey", "Customer_Satisfaction"),
    cell("boolean-full-width", "near_match", "complaints", 0, "satisfied", "ｔｒｕｅ"),
    cell("indicator-case", "near_match", "observations", 0, "indicator", "cs02", **OBSERVED),
    cell("department-dash", "near_match", "surveys", 1, "department", "cs–test"),
    cell("department-cyrillic", "bad_id", "surveys", 1, "department", "сs-test"),
    cell("department-name", "bad_id", "surveys", 1, "department", "测试客服部"),
    cell("error-cell", "error_cell", "expenses", 0, "amount", ErrorCell("#DIV/0!"), "xlsx"),
    cell("formula", "formula_without_value", "expenses", 0, "amount", Formula("=1/0"), "xlsx"),
    cell("percent", "percent_cell", "surveys", 0, "score", PercentCell(0.95), "xlsx"),
    cell("time-alone", "unsupported_cell", "complaints", 0, "received_at", TimeCell(time(9)), "xlsx"),
    data(
        "binary-cell",
        "unsupported_cell",
        ("complaints.parquet", "row 2", "column satisfied", "binary data"),
        "parquet",
        files=_binary_cell,
    ),
    # -- rows
    cell("key-twice", "duplicate_key", "complaints", 1, "complaint_id", "K1"),
    data(
        "observation-twice",
        "duplicate_key",
        ("observations.csv", "row 3", "column indicator,department,period", "duplicate indicator=CS02"),
        rows=_rows(observations=lambda rows: [rows[0], [*rows[0][:3], "90", *rows[0][4:]], rows[1]]),
        **OBSERVED,
    ),
    cell("resolved-before-received", "wrong_order", "complaints", 0, "resolved_at", "2026-09-30 09:00"),
    data(
        "no-rows-of-department",
        "no_rows_of_department",
        ("complaints.csv", "column department", "no row of department cs-test"),
        rows=_rows(complaints=lambda rows: [[("cs-other" if v == DEPT else v) for v in r] for r in rows]),
    ),
    data(
        "no-budget",
        "missing_row",
        ("budgets.csv", "column period", "no budget row for period 2026-Q4"),
        rows=_rows(budgets=lambda rows: [[DEPT, "2026-Q3", "2000"], rows[1]]),
    ),
    data(
        "no-observation",
        "missing_row",
        ("observations.csv", "column indicator", "no observation of CS02"),
        rows=_rows(observations=lambda rows: [["CS03", *rows[0][1:]], rows[1]]),
        **OBSERVED,
    ),
    data(
        "zero-budget",
        "out_of_range",
        ("budgets.csv", "row 2", "column amount", "expected a budget above 0"),
        rows=_rows(budgets=lambda rows: [[DEPT, PERIOD, "0"], rows[1]]),
    ),
    Case(
        "empty-indicator",
        "no_rows_in_period",
        lambda root: (
            lambda: appraise(
                load_params(write_company(root, "csv", _rows(complaints=_in_july), policy={"on_empty": "error"})),
                Period.parse(PERIOD),
            )
        ),
        ("complaints.csv", "no rows in period 2026-Q4"),
    ),
    # -- a params export mapping or adapter
    data(
        "header-not-in-file",
        "mapping_unmatched",
        ("complaints.csv", "row 1", "column Happy", "which the file does not have"),
        tables=HAPPY,
    ),
    data(
        "code-matches-nothing",
        "mapping_unmatched",
        ("complaints.csv", "row 1", "column satisfied", "matches no value of this column"),
        tables={"complaints": {"columns": {"satisfied": "satisfied"}, "values": {"satisfied": {"Y": True}}}},
    ),
    data(
        "code-nearly-matches",
        "near_match",
        ("complaints.csv", "row 2", "column satisfied", "did you mean 'Yes'?"),
        rows=_rows(complaints=lambda rows: [[*r[:4], "yes" if i == 0 else "Yes"] for i, r in enumerate(rows)]),
        tables={"complaints": {"columns": {"satisfied": "satisfied"}, "values": {"satisfied": {"Yes": True}}}},
    ),
    data(
        "constant-over-column",
        "mapping_conflict",
        ("complaints.csv", "row 1", "column department", "constants.department"),
        tables={"complaints": {"constants": {"department": DEPT}}},
    ),
    data(
        "mapped-and-spec-header",
        "mapping_conflict",
        ("complaints.csv", "row 1", "column resolved_at", "also has a header"),
        tables={"complaints": {"columns": {"resolved_at": "received_at"}}},
    ),
    changed(
        "values-on-unmapped-column",
        "values_without_column",
        "tables.complaints.values.satisfied",
        tables={"complaints": {"values": {"satisfied": {"Y": True}}}},
    ),
    data(
        "adapter-raises",
        "adapter_failed",
        ("shape.py", "adapter shape() failed on", "ZeroDivisionError"),
        files=_write("shape.py", "def shape(raw, options):\n    return 1 / 0\n"),
        **ADAPTER,
    ),
    data(
        "adapter-returns-list",
        "adapter_failed",
        ("shape.py", "returned list; expected a pandas DataFrame"),
        files=_write("shape.py", "def shape(raw, options):\n    return []\n"),
        **ADAPTER,
    ),
    changed(
        "adapter-not-python", "bad_adapter", "tables.complaints.adapter", tables={"complaints": {"adapter": "x.sh"}}
    ),
    changed(
        "exclude-key-not-text",
        "bad_exclude_key",
        "tables.complaints.exclude",
        "in quotes",
        tables={"complaints": {"exclude": {1: "a wrong row"}}},
    ),
    data(
        "exclude-key-of-no-row",
        "exclude_unmatched",
        (f"{DEPT}.yaml", "tables.complaints.exclude", "'K9'", "complaints.csv"),
        tables={"complaints": {"exclude": {"K9": "a wrong row"}}},
    ),
    changed(
        "date-format-drops-zone",
        "bad_date_format",
        "tables.complaints.date_format",
        tables={"complaints": {"date_format": "%Y-%m-%d %H:%M %Z"}},
    ),
    changed(
        "date-format-12-hour-clock-without-am-pm",
        "bad_date_format",
        "tables.complaints.date_format",
        "%I (12-hour clock) without %p",
        tables={"complaints": {"date_format": "%Y/%m/%d %I:%M"}},
    ),
    changed(
        "date-format-no-year",
        "bad_date_format",
        "tables.complaints.formats: '%m-%d'",
        tables={"complaints": {"formats": {"received_at": "%m-%d"}}},
    ),
    # -- params
    params("params-a-list", "wrong_type", "- department: cs-test\n", "expected a mapping"),
    params("indicators-a-list", "wrong_type", "department: cs-test\ndata: data\nindicators: [CS01]\n", "indicators:"),
    changed("unknown-key", "unknown_key", "colour", colour="red"),
    changed("unknown-policy-key", "unknown_key", "policy.rounding", policy={"rounding": "floor"}),
    company(
        "unconfirmed-suggestion",
        "unconfirmed_suggestion",
        'suggested:\n  tables.complaints: "from tickets.csv: the file tickets.csv"\n',
        "company.yaml",
        "line 2: suggested.tables.complaints: unconfirmed proposal of kpi init (from tickets.csv",
        "delete this line under suggested:",
    ),
    params("missing-data", "missing_key", VALID.replace("data: data\n", ""), "data: missing"),
    changed(
        "count-without-per-item", "missing_key", "indicators.CS01.per_item", indicators={"CS01": {"per_item": None}}
    ),
    changed("rate-without-step", "missing_key", "indicators.CS02.step", indicators={"CS02": {"step": None}}),
    params(
        "period-without-target",
        "missing_key",
        swap("CS06: {weight: 8, target: 90,", "CS06: {weight: 8,"),
        "indicators.CS06.target",
    ),
    Case(
        "schedule-without-review-date",
        "missing_key",
        _tasks_without_review_date,
        (f"{DEPT}.yaml", "review_date: missing"),
        ParamsError,
    ),
    changed("target-on-count", "key_not_used", "indicators.CS01.target", indicators={"CS01": {"target": 1}}),
    changed("per-item-on-rate", "key_not_used", "indicators.CS02.per_item", indicators={"CS02": {"per_item": 1}}),
    changed("rounding-up", "not_a_choice", "policy.step_rounding", policy={"step_rounding": "up"}),
    changed("survey-for-cs01", "not_a_choice", "indicators.CS01.method", indicators={"CS01": {"method": "survey"}}),
    changed("unknown-table", "unknown_table", "tables.calls", tables={"calls": {}}),
    changed(
        "unknown-mapped-column",
        "unknown_column",
        "tables.complaints.columns.mood",
        tables={"complaints": {"columns": {"mood": "Mood"}}},
    ),
    changed("unknown-indicator", "unknown_indicator", "indicators.CS99", indicators={"CS99": {"weight": 0}}),
    changed("indicator-left-out", "missing_indicator", "indicators.CS12", indicators={"CS12": None}),
    changed("no-sla", "missing_prerequisite", "indicators.CS04.sla", indicators={"CS04": {"sla": None}}),
    changed("sla-in-words", "bad_sla", "indicators.CS04.sla", indicators={"CS04": {"sla": "24 hours"}}),
    changed("sla-over-a-year", "bad_sla", "indicators.CS05.sla", indicators={"CS05": {"sla": "400wd"}}),
    changed("mars-time", "unknown_timezone", "timezone", timezone="Mars/Olympus_Mons"),
    changed("calendar-typo", "unknown_calendar", "calendar", "did you mean US-NY?", calendar="us-ny"),
    changed("weights-101", "weights_not_100", "indicators: weights sum to 101", indicators={"CS01": {"weight": 6}}),
    changed("min-above-max", "min_above_max", "policy: min_score 50", policy={"min_score": 50, "max_score": 40}),
    changed(
        "no-grade-for-low-totals", "grades_incomplete", "grades: the lowest band", grades=[{"grade": "A", "min": 50}]
    ),
    changed("no-grades", "empty_section", "grades: expected at least one band", grades=[]),
    changed(
        "grade-twice",
        "duplicate_entry",
        "grades: duplicate grade names",
        grades=[{"grade": "A", "min": 50}, {"grade": "A", "min": 0}],
    ),
    params(
        "period-twice",
        "duplicate_entry",
        VALID + "periods:\n  2026: {indicators: {CS04: {target: 97}}}\n  '2026': {indicators: {CS04: {target: 50}}}\n",
        "periods.2026: given twice",
    ),
    params(
        "override-data",
        "override_not_allowed",
        VALID + "periods:\n  2026-Q4: {data: /etc}\n",
        "periods.2026-Q4.data: a period may override only",
    ),
    params("period-key-q5", "bad_period", VALID + "periods:\n  2026-Q5: {}\n", "periods.2026-Q5"),
    params(
        "period-key-space",
        "near_match",
        VALID + "periods:\n  '2026-Q4 ': {}\n",
        "expected the period written exactly as",
    ),
    params("periods-a-list", "wrong_type", VALID + "periods: [2026-Q4]\n", "periods: expected a mapping"),
    params(
        "override-a-list", "wrong_type", VALID + "periods:\n  2026-Q4: [1]\n", "periods.2026-Q4: expected a mapping"
    ),
    params("department-upper-case", "bad_id", swap("department: cs-test", "department: CS-Test"), "department: found"),
    params(
        "department-too-long",
        "id_too_long",
        swap("department: cs-test", "department: " + "d" * 240),
        "240 characters long",
    ),
    params(
        "nan-target",
        "not_a_number",
        swap(
            "target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h",
            "target: .nan, step: 1, penalty: 2, bonus: 1, sla: 24h",
        ),
        "line 9",
        "not a finite number",
    ),
    params(
        "text-nan-target",
        "not_a_number",
        swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: NaN,"),
        "indicators.CS07.target",
    ),
    params(
        "boolean-weight", "not_a_number", swap("CS07: {weight: 10,", "CS07: {weight: true,"), "indicators.CS07.weight"
    ),
    params(
        "huge-target",
        "number_out_of_bounds",
        swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: 1e308,"),
        "indicators.CS07.target",
    ),
    params(
        "five-thousand-digits",
        "number_out_of_bounds",
        swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: " + "9" * 5000 + ","),
        "line 12",
        "digits; expected at most",
    ),
    params(
        "negative-weight", "out_of_range", swap("CS04: {weight: 8,", "CS04: {weight: -8,"), "indicators.CS04.weight"
    ),
    params(
        "target-101",
        "out_of_range",
        swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: 101,"),
        "indicators.CS07.target",
    ),
    params("min-responses-0", "out_of_range", VALID + "policy: {min_responses: 0}\n", "policy.min_responses"),
    params("min-responses-text", "not_a_number", VALID + "policy: {min_responses: many}\n", "policy.min_responses"),
    params(
        "min-responses-fraction", "not_a_whole_number", VALID + "policy: {min_responses: 1.5}\n", "policy.min_responses"
    ),
    params(
        "empty-weight", "empty_value", swap("CS07: {weight: 10,", "CS07: {weight: ,"), "indicators.CS07.weight: empty"
    ),
    params("empty-grade-name", "empty_value", VALID + "grades: [{grade: '', min: 0}]\n", "grades.0.grade"),
    params(
        "review-date-not-on-calendar",
        "bad_date",
        swap("review_date: 2026-12-20", "review_date: 2026-02-30"),
        "line 4",
        "not a real date",
    ),
    params("review-date-text", "bad_date", swap("review_date: 2026-12-20", "review_date: '2026-02-30'"), "review_date"),
    params(
        "review-date-1800",
        "date_out_of_range",
        swap("review_date: 2026-12-20", "review_date: 1800-01-01"),
        "review_date",
    ),
    # -- templates
    Case(
        "template-is-a-folder",
        "unreadable_file",
        lambda root: lambda: load_template(str(root)),
        ("cannot read the template",),
        TemplateError,
    ),
    template(
        "template-groups-empty", "empty_section", lambda d: d.update(groups={}), "groups: expected at least one group"
    ),
    template(
        "template-no-indicators",
        "empty_section",
        lambda d: d.update(indicators=[]),
        "indicators: expected at least one",
    ),
    template(
        "template-label-a-list", "wrong_type", lambda d: d["groups"].update(cost=[1]), "groups.cost: expected a text"
    ),
    template("template-entry-a-text", "wrong_type", lambda d: d["indicators"].append("CS13"), "indicator entry 13"),
    template(
        "template-entry-no-id", "missing_key", lambda d: d["indicators"].append({"group": "cost"}), "indicator entry 13"
    ),
    template(
        "template-weight-missing",
        "missing_key",
        lambda d: d["indicators"][4].pop("weight"),
        "indicator CS05: weight is missing",
    ),
    template(
        "template-rate-no-kind",
        "missing_key",
        lambda d: d["indicators"][3]["rate"].pop("kind"),
        "indicator CS04: rate must be",
    ),
    template(
        "template-table-no-columns",
        "missing_key",
        lambda d: d["tables"]["budgets"].pop("columns"),
        "table budgets: expected a mapping",
    ),
    template(
        "template-group-name", "bad_id", lambda d: d["groups"].update({"Cost Centre": "x"}), "group 'Cost Centre'"
    ),
    template(
        "template-group-too-long", "id_too_long", lambda d: d["groups"].update({"g" * 65: "x"}), "65 characters long"
    ),
    template(
        "template-id-twice",
        "duplicate_entry",
        lambda d: d["indicators"][1].update(id="CS01"),
        "indicator CS01: duplicate id",
    ),
    template(
        "template-direction",
        "not_a_choice",
        lambda d: d["indicators"][0].update(direction="up"),
        "indicator CS01: unknown direction",
    ),
    template(
        "template-group",
        "not_a_choice",
        lambda d: d["indicators"][0].update(group="sales"),
        "indicator CS01: unknown group",
    ),
    template(
        "template-rate-kind",
        "not_a_choice",
        lambda d: d["indicators"][3]["rate"].update(kind="magic"),
        "unknown rate kind",
    ),
    template(
        "template-rate-table",
        "unknown_table",
        lambda d: d["indicators"][3]["rate"].update(table="calls"),
        "unknown table 'calls'",
    ),
    template(
        "template-no-department",
        "missing_column",
        lambda d: d["tables"]["budgets"]["columns"].pop("department"),
        "table budgets: every table needs a department column",
    ),
    template(
        "template-key-unknown",
        "unknown_column",
        lambda d: d["tables"]["complaints"].update(key=["ticket"]),
        "table complaints: key or order names unknown column 'ticket'",
    ),
    template(
        "template-column-type",
        "not_a_choice",
        lambda d: d["tables"]["budgets"]["columns"]["amount"].update(type="money"),
        "table budgets, column amount: unknown type 'money'",
    ),
    params("company-missing", "missing_company_file", "company: ../nowhere.yaml\n" + VALID, "line 1", "company"),
    company("company-names-a-department", "not_in_company_file", "lang: zh\nname: Shared\n", "line 2", "name"),
]


# A table read from a database (kpi_lib/inputs/sql.py): params cases, then what reading it finds (tests/test_sql.py has more).
def _sql(url: str, query: str = "SELECT * FROM complaints", **more: Any) -> dict[str, Any]:
    return {"tables": {"complaints": {"sql": {"url": url, "query": query}, **more}}}


def _empty_sqlite(root: Path) -> None:
    sqlite3.connect(root / "crm.sqlite").close()


def _complaints_sqlite(*rows: tuple[Any, ...]) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        with contextlib.closing(sqlite3.connect(root / "crm.sqlite")) as db, db:
            db.execute(
                "CREATE TABLE complaints (complaint_id TEXT, department TEXT, received_at TEXT, resolved_at TEXT, satisfied INTEGER)"
            )
            db.executemany("INSERT INTO complaints VALUES (?, ?, ?, ?, ?)", rows)

    return write


CASES += [
    changed("sql-and-file", "exclusive_keys", "tables.complaints", **_sql("sqlite:///crm.sqlite", file="c.csv")),
    changed("sql-delete", "not_a_read", "tables.complaints.sql.query", **_sql("sqlite:///c.sqlite", "DELETE FROM t")),
    changed("sql-parameter", "unknown_parameter", "tables.complaints.sql.query", **_sql("sqlite:///c", "SELECT :x")),
    changed("sql-password", "password_in_params", "tables.complaints.sql.url", **_sql("postgresql://u:pw@h/db")),
    data("sql-unset", "unset_variable", ("complaints (sql)", "KPI_TEST_UNSET_17"), **_sql("${KPI_TEST_UNSET_17}")),
    changed("sql-bad-url", "bad_url", "tables.complaints.sql.url", "not a database URL", **_sql("crm.sqlite")),
    data(
        "sql-empty-result",
        "empty_result",
        ("complaints (sql)", "returned no rows", "allow_no_rows"),
        files=_complaints_sqlite(),
        **_sql("sqlite:///crm.sqlite"),
    ),
    data(
        "sql-window-on-text-with-offsets",
        "unsafe_window",
        ("complaints (sql)", ":start/:end", "2026-10-02T01:00:00Z"),
        files=_complaints_sqlite(("K1", DEPT, "2026-10-02T01:00:00Z", "2026-10-02T02:00:00Z", 1)),
        **_sql("sqlite:///crm.sqlite", "SELECT * FROM complaints WHERE received_at >= :start"),
    ),
    data("sql-no-driver", "missing_driver", ("complaints (sql)", "install pymysql"), **_sql("mysql+pymysql://u@h/db")),
    data(
        "sql-no-file", "connect_failed", ("complaints (sql)", "no SQLite database file"), **_sql("sqlite:///no.sqlite")
    ),
    data(
        "sql-no-table",
        "query_failed",
        ("complaints (sql)", "no such table"),
        files=_empty_sqlite,
        **_sql("sqlite:///crm.sqlite"),
    ),
]

# Codes no row of `CASES` produces, each with where it comes from and why not here.
PRODUCED_ELSEWHERE: dict[str, str] = {
    "unnamed_column": "a column without a header is read by no indicator: a note of kpi validate (tests/test_strict.py)",
    "value_outside_table": "values right of an xlsx table are under no header: a note (tests/test_strict.py)",
    "source_dropped": "a department's table entry dropping the company's source (tests/test_company.py)",
}


@pytest.mark.parametrize("case", fast_sample([pytest.param(c, id=c.id, marks=c.marks) for c in CASES], 2))
def test_a_problem_carries_its_code_and_still_names_its_place(case: Case, tmp_path: Path) -> None:
    run = case.build(tmp_path)
    with pytest.raises(case.error) as raised:
        run()
    found = [p for p in raised.value.problems if p.code == case.code]
    assert found, [(p.code, str(p)) for p in raised.value.problems]
    assert any(all(part in str(p) for part in case.where) for p in found), (case.where, [str(p) for p in found])
    assert all(line.count(":") >= 1 for line in raised.value.lines())


def test_every_code_is_produced_by_a_case_or_listed_as_produced_elsewhere() -> None:
    produced = {c.code for c in CASES}
    assert produced | set(PRODUCED_ELSEWHERE) == set(CODES), {
        "dead (no case)": sorted(set(CODES) - produced - set(PRODUCED_ELSEWHERE)),
        "not a code": sorted((produced | set(PRODUCED_ELSEWHERE)) - set(CODES)),
    }
    assert not produced & set(PRODUCED_ELSEWHERE), "a code with a case is not produced elsewhere only"


# -- the registry ----------------------------------------------------------------------------------------------


def test_codes_are_snake_case_with_a_one_line_meaning() -> None:
    assert CODES and set(CODES) == {code.value for code in Code}
    for code, meaning in CODES.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code), code
        assert meaning and "\n" not in meaning and len(meaning) <= 100, code
        assert Code[code.upper()] == code and Code(code).meaning == meaning


def test_a_problem_with_an_unknown_code_fails_loudly() -> None:
    with pytest.raises(ValueError, match="'missing_colum' is not one of kpi_lib.base.errors.Code"):
        Problem(file="a.csv", message="x", code="missing_colum")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="code"):
        Problem(file="a.csv", message="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="needs the problem's code"):
        DataError("x", file="a.csv")


def test_a_code_given_as_text_is_the_code_and_never_printed() -> None:
    problem = Problem(
        file="a.csv",
        row=3,
        column="score",
        value="7",
        message="expected 1 to 5",
        code="out_of_range",  # type: ignore[arg-type]
    )
    assert problem.code is Code.OUT_OF_RANGE and problem.code == "out_of_range"
    error = DataError([problem])
    assert error.lines() == ["a.csv, row 3, column score: found '7', expected 1 to 5"] == str(error).splitlines()
    assert ParamsError("not UTF-8", file="p.yaml", code=Code.BAD_ENCODING).lines() == ["p.yaml: not UTF-8"]


def test_an_input_error_crosses_a_process_boundary_with_its_problems() -> None:
    error = ParamsError(
        [
            Problem(file="p.yaml", message="x", code=Code.WEIGHTS_NOT_100),
            Problem(file="p.yaml", message="y", code=Code.BAD_SLA),
        ]
    )
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ParamsError and again.problems == error.problems and again.lines() == error.lines()


# -- the tree --------------------------------------------------------------------------------------------------

TREE = {
    UsageError: (KpiError, 2),
    InputError: (KpiError, 1),
    TemplateError: (InputError, 1),
    ParamsError: (InputError, 1),
    DataError: (InputError, 1),
    AuditError: (KpiError, 1),
    OutputError: (KpiError, 1),
    SetupError: (KpiError, 1),
}


def test_the_error_tree_and_exit_codes() -> None:
    for error, (parent, exit_code) in TREE.items():
        assert error.__bases__ == (parent,), error
        assert error.exit_code == exit_code, error
        assert getattr(kpi_lib, error.__name__) is error and error.__name__ in kpi_lib.__all__
    assert kpi_lib.__all__ == sorted(kpi_lib.__all__)
    output_side = (AuditError, OutputError, SetupError)
    assert not any(issubclass(a, b) for a in output_side for b in output_side if a is not b)
    assert not any(issubclass(a, InputError) or issubclass(a, UsageError) for a in output_side)


@pytest.mark.parametrize("error", [UsageError, AuditError, OutputError, SetupError])
def test_kpi_prints_each_error_as_a_line_and_exits_with_its_code(
    error: type[KpiError], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kpi_lib.cli import main

    def refuse(cls: type, text: object) -> Period:
        raise error(f"{error.__name__} refused {text}")

    monkeypatch.setattr(Period, "parse", classmethod(refuse))
    assert main(["score", str(tmp_path / "p.yaml"), "--period", "2026"]) == error.exit_code
    pointer = "; see 'kpi score --help'" if error is UsageError else ""  # a usage error points at the command's help
    assert capsys.readouterr().err.splitlines() == [f"kpi: {error.__name__} refused 2026{pointer}"]


def test_a_run_folder_without_its_result_is_an_audit_error(tmp_path: Path) -> None:
    from kpi_lib.audit.diff import diff_runs

    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        manifest = {"department": DEPT, "period": PERIOD, "inputs": {"tables": []}, "status": "failed"}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(AuditError, match="no result.json"):
        diff_runs(tmp_path / "a", tmp_path / "b")


def test_signing_a_failed_department_is_an_audit_error(tmp_path: Path) -> None:
    from kpi_lib.audit.signoff import ROLES
    from kpi_lib.audit.trail import sign

    (tmp_path / "manifest.json").write_text(json.dumps({"status": "failed"}), encoding="utf-8")
    with pytest.raises(AuditError, match="the department failed in this run; there is nothing to sign"):
        sign(tmp_path, role=ROLES[0], name="王经理")
