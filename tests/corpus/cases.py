"""The bad-input corpus (issue 8 §1): one row per case, each a class of hostile or merely messy input.

A `Cell` case replaces one cell of the valid company (`company.ROWS`) and names
what `kpi score` must do: exit 1 with a line naming the file, the row (or the
xlsx cell) and the column, and a phrase of the message; or exit 0 with exactly
the clean company's result (`same`: a value written another exact way, such as
a timestamp with a UTC offset). A `Whole` case edits a whole table or file, a
`ParamsCase` the params file or the command line.

Every case that exits 1 also names `problem_code`: the `kpi_lib.base.errors.Code` the
problem behind that line carries (`code` is the exit code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

from .company import DEPT, FORMATS, ErrorCell, Formula, PercentCell, TimeCell, Typed

TEXT_FORMATS = ("csv", "parquet")  # xlsx cannot hold control characters at all (openpyxl refuses them)
OBSERVED = {"indicators": {"CS02": {"method": "observation"}}}


@dataclass(frozen=True)
class Cell:
    table: str
    row: int  # index into company.ROWS[table]
    column: str
    value: Any
    expect: str = ""  # a phrase of the error line; "" with code 0
    code: int = 1
    formats: tuple[str, ...] = FORMATS
    params: dict[str, Any] = field(default_factory=dict)
    same: bool = False  # exit 0 with the clean company's JSON
    problem_code: str = ""  # the Code of the problem behind the line; "" with code 0


def cells(table: str, row: int, column: str, values: list[Any], expect: str, **kw: Any) -> list[Cell]:
    return [Cell(table, row, column, v, expect, **kw) for v in values]


DEPARTMENT_NEAR = [
    "CS-TEST",
    "Cs-Test",
    "cs-test\u200b",
    "\u200bcs-test",
    "\u00a0cs-test",
    "cs-test\u00a0",
    " cs-test",
    "cs-test ",
    "ｃｓ－ｔｅｓｔ",
    "cs-test\u3000",
    "cs-test\ufeff",
    "CS-test\u2060",
]
SURVEY_NEAR = [
    "Customer_Satisfaction",
    "CUSTOMER_SATISFACTION",
    "customer_satisfaction ",
    "customer_satisfaction\u200b",
    "ｃｕｓｔｏｍｅｒ_ｓａｔｉｓｆａｃｔｉｏｎ",
    "\u00a0customer_satisfaction",
]
BOOLEAN_NEAR = ["ｔｒｕｅ", "true\u200b", "TRUE\u00a0", "ｙｅｓ", "是\u200b", "false\u3000", "ｆａｌｓｅ"]
CONTROL = [
    ("complaints", 0, "complaint_id", "K1\x00"),
    ("policy_plan", 1, "excuse_reason", "预算\x07未批"),
    ("observations", 0, "note", "笔录\x1b"),
    ("observations", 0, "collector", "李\x7f四"),
]
# The same characters in a column no indicator reads (descriptive text): a note of `kpi validate`, never an error.
CONTROL_UNREAD = [
    ("policy_plan", 0, "title", "制度\x00A"),
    ("surveys", 0, "respondent", "张\x07三"),
    ("communications", 0, "customer_id", "C1\x1b"),
    ("key_accounts", 0, "name", "客户\x7f甲"),
    ("expenses", 0, "category", "差旅\x85"),
]

CELL_CASES: list[Cell] = [
    # a department id that only nearly matches: case, invisible or surrounding whitespace, full-width
    *[
        Cell(
            ("complaints", "surveys", "expenses", "revisits")[i % 4],
            0,
            "department",
            v,
            "did you mean",
            params={},
            problem_code="near_match",
        )
        for i, v in enumerate(DEPARTMENT_NEAR)
    ],
    # a department value that is no id at all: a dash look-alike, a space, the display name, a Cyrillic letter
    *[
        Cell("surveys", 1, "department", v, "did you mean cs-test? Not a department id", problem_code="near_match")
        for v in ("cs–test", "cs‑test", "cs−test", "cs test", "cs-te\u0301st")
    ],
    *[
        Cell("surveys", 1, "department", v, "Not a department id", problem_code="bad_id")
        for v in ("测试客服部", "сs-test", "cs.test!")
    ],
    Cell("surveys", 1, "department", "cs_test", "did you mean cs-test?", problem_code="near_match"),
    # a survey kind that only nearly matches
    *cells("surveys", 0, "survey", SURVEY_NEAR[:5], "did you mean 'customer_satisfaction'", problem_code="near_match"),
    Cell(
        "surveys",
        2,
        "survey",
        SURVEY_NEAR[5].replace("customer_satisfaction", "policy_execution"),
        "did you mean 'policy_execution'",
        problem_code="near_match",
    ),
    # a boolean that only nearly matches
    *[
        Cell(
            ("revisits", "complaints", "expenses")[i % 3],
            0,
            {"revisits": "key_account", "complaints": "satisfied", "expenses": "approved_overrun"}[
                ("revisits", "complaints", "expenses")[i % 3]
            ],
            v,
            "did you mean",
            problem_code="near_match",
        )
        for i, v in enumerate(BOOLEAN_NEAR)
    ],
    # control characters in identifiers and in free text
    *[
        Cell(
            t,
            r,
            c,
            v,
            "control character",
            formats=TEXT_FORMATS,
            problem_code="control_character",
            params=OBSERVED if t == "observations" else {},
        )
        for t, r, c, v in CONTROL
    ],
    *[Cell(t, r, c, v, code=0, formats=TEXT_FORMATS, same=True) for t, r, c, v in CONTROL_UNREAD],
    # numbers that are not exact decimals within bounds
    *cells(
        "expenses",
        0,
        "amount",
        ["NaN", "inf", "-inf", "１０００", "1,000", "12.5.3", "0x10"],
        "number",
        problem_code="not_a_number",
    ),
    *cells("expenses", 0, "amount", ["1e308", "1000.1234567"], "number", problem_code="number_out_of_bounds"),
    Cell("expenses", 0, "amount", "-5", "not negative", problem_code="out_of_range"),
    *cells("budgets", 0, "amount", ["1E-30", "1e308", "9" * 16], "number", problem_code="number_out_of_bounds"),
    Cell("work_plan", 0, "planned_qty", "1e20", "too large", problem_code="number_out_of_bounds"),
    *cells("surveys", 0, "score", ["6", "0", "-1"], "from 1 to 5", problem_code="out_of_range"),
    Cell("expenses", 0, "amount", "1" * 100_000 + "x", "characters long", problem_code="number_out_of_bounds"),
    Cell("surveys", 0, "score", "四", "ASCII digits", problem_code="not_a_number"),
    # dates and timestamps that are not on the calendar or not in the accepted forms
    *cells(
        "policy_plan",
        0,
        "planned_date",
        ["2026-02-30", "2026-13-01", "２０２６-10-10", "2026/10/10", "10/10/2026", "2026-10-10 09:00", "20261010"],
        "date",
        problem_code="bad_date",
    ),
    *cells(
        "policy_plan",
        0,
        "planned_date",
        ["1899-12-31", "2101-01-01", "0001-01-01"],
        "outside 1900–2100",
        problem_code="date_out_of_range",
    ),
    *cells(
        "complaints",
        0,
        "received_at",
        [
            "2026-10-01 25:00",
            "2026-10-32 09:00",
            "2026-10-01 09:00 PM",
            "2026-10-01 09:00+25:00",
            "２０２６-10-01 09:00",
            "2026-10-01",
        ],
        "timestamp",
        problem_code="bad_timestamp",
    ),
    Cell("complaints", 0, "received_at", "2101-10-01 09:00", "outside 1900–2100", problem_code="date_out_of_range"),
    # a timestamp written another exact way reads the same (converted to the params' time zone)
    *cells(
        "complaints",
        0,
        "received_at",
        [
            "2026-10-01T01:00:00Z",
            "2026-10-01 09:00+08:00",
            "2026-10-01T03:00:00+02:00",
            "2026-10-01 09:00:00.000",
            "2026-10-01 01:00+0000",
        ],
        "",
        code=0,
        same=True,
    ),
    Cell(
        "complaints",
        0,
        "received_at",
        Typed(datetime(2026, 10, 1, 1, 0, tzinfo=UTC), "datetime"),
        "",
        code=0,
        same=True,
        formats=("parquet",),
    ),
    Cell(
        "complaints",
        0,
        "received_at",
        Typed(datetime(2026, 10, 1, 9, 0, tzinfo=timezone(timedelta(hours=8))), "datetime"),
        "",
        code=0,
        same=True,
        formats=("parquet",),
    ),
    # values no indicator can have
    *[
        Cell(
            "observations", 0, "value", v, "not a possible value of CS02", params=OBSERVED, problem_code="out_of_range"
        )
        for v in ("101", "-1", "100.01")
    ],
    Cell("observations", 0, "responses", "1.5", "whole number", params=OBSERVED, problem_code="not_a_whole_number"),
    Cell("observations", 0, "indicator", "cs02", "did you mean 'CS02'", params=OBSERVED, problem_code="near_match"),
    Cell("observations", 0, "period", "２０２６-Q4", "period", params=OBSERVED, problem_code="not_exact"),
    Cell("observations", 0, "period", "2026-q4", "period", params=OBSERVED, problem_code="bad_period"),
    # keys, order, required cells
    Cell("complaints", 1, "complaint_id", "K1", "duplicate complaint_id=K1", problem_code="duplicate_key"),
    Cell(
        "complaints",
        0,
        "resolved_at",
        "2026-09-30 09:00",
        "expected resolved_at not before received_at",
        problem_code="wrong_order",
    ),
    Cell("surveys", 0, "score", "", "empty", problem_code="empty_value"),
    Cell("complaints", 0, "satisfied", "", "empty, but the row is resolved", problem_code="empty_value"),
    Cell("expenses", 0, "date", "", "empty", problem_code="empty_value"),
    # xlsx cells that hold no plain value
    *cells(
        "expenses",
        0,
        "amount",
        [ErrorCell(c) for c in ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!")],
        "error cell",
        formats=("xlsx",),
        problem_code="error_cell",
    ),
    *[
        Cell(
            table,
            0,
            column,
            Formula(text),
            "formula without a cached value",
            formats=("xlsx",),
            problem_code="formula_without_value",
        )
        for table, column, text in (("expenses", "amount", "=1/0"), ("complaints", "satisfied", "=TRUE()"))
    ],
    Cell(
        "surveys",
        0,
        "score",
        PercentCell(0.95),
        "percentage-formatted cell",
        formats=("xlsx",),
        problem_code="percent_cell",
    ),
    Cell(
        "complaints",
        0,
        "received_at",
        TimeCell(time(9, 0)),
        "time of day without a date",
        formats=("xlsx",),
        problem_code="unsupported_cell",
    ),
    # Parquet cells that are not values
    Cell(
        "expenses", 0, "amount", Typed(float("nan"), "float"), "NaN", formats=("parquet",), problem_code="not_a_number"
    ),
    Cell(
        "expenses",
        0,
        "amount",
        Typed(float("inf"), "float"),
        "infinite",
        formats=("parquet",),
        problem_code="not_a_number",
    ),
    Cell(
        "complaints",
        0,
        "received_at",
        Typed(__import__("pandas").Timestamp("2026-10-01 09:00:00.000000001"), "datetime"),
        "nanoseconds",
        formats=("parquet",),
        problem_code="unsupported_cell",
    ),
]


@dataclass(frozen=True)
class Whole:
    """A case that edits a table's rows or its file as a whole; `where` is the expected location text."""

    id: str
    table: str
    edit: Callable[[list[list[Any]]], list[list[Any]]] | None
    expect: str
    where: str = ""  # e.g. "row 5" or "!C3"; "" when the check is the phrase alone
    code: int = 1
    formats: tuple[str, ...] = FORMATS
    raw: Callable[[bytes], bytes] | None = None  # CSV only: edit the written bytes
    sheet: Callable[[Any], None] | None = None  # xlsx only: edit the worksheet
    check: Callable[[dict[str, Any]], bool] | None = None  # exit 0: a check of the JSON result
    params: dict[str, Any] = field(default_factory=dict)  # params changes (e.g. a `tables:` mapping)
    problem_code: str = ""  # the Code of the problem behind the line; "" with code 0


def _all(dept: str) -> Callable[[list[list[Any]]], list[list[Any]]]:
    return lambda rows: [[dept if v == DEPT else v for v in row] for row in rows]


def _cs10_left_out(card: dict[str, Any]) -> bool:
    cs10 = next(i for i in card["indicators"] if i["id"] == "CS10")
    return bool(cs10["excluded_rows"] == 1 and cs10["denominator"] == 1)


WHOLE_CASES: list[Whole] = [
    Whole(
        "no-rows-of-department",
        "complaints",
        _all("cs-other"),
        "no row of department cs-test; the file's department values are cs-other",
        problem_code="no_rows_of_department",
    ),
    Whole(
        "no-rows-mapped-away",
        "surveys",
        _all("CSTEST"),
        "no row of department cs-test",
        problem_code="no_rows_of_department",
    ),
    Whole(
        "unknown-survey-kind-left-out",
        "surveys",
        lambda rows: [["R1", DEPT, "nps", "x", "2026-10-05", "5"], *rows[1:]],
        "",
        code=0,
        check=_cs10_left_out,
    ),
    Whole(
        "blank-lines-count",
        "surveys",
        None,
        "row 4, column score",
        raw=lambda b: b.replace(b"\nR1,", b"\n\n\nR1,").replace(b",5\n", b",9\n", 1),
        formats=("csv",),
        problem_code="out_of_range",
    ),
    Whole(
        "quoted-newline-counts",
        "surveys",
        lambda rows: [[*rows[0][:3], "张\n三", *rows[0][4:]], [*rows[1][:5], "9"], *rows[2:]],
        "row 4, column score",
        formats=("csv",),
        problem_code="out_of_range",
    ),
    Whole(
        "extra-field",
        "complaints",
        lambda rows: [[*rows[0], "x"], *rows[1:]],
        "row 2: 6 fields, but the header (line 1) has 5",
        formats=("csv",),
        problem_code="wrong_field_count",
    ),
    Whole(
        "missing-field",
        "complaints",
        lambda rows: [rows[0][:4], *rows[1:]],
        "row 2: 4 fields, but the header (line 1) has 5",
        formats=("csv",),
        problem_code="wrong_field_count",
    ),
    Whole(
        "header-twice",
        "complaints",
        None,
        "header given twice",
        raw=lambda b: b.replace(b"satisfied\n", b"satisfied,satisfied\n", 1),
        formats=("csv",),
        problem_code="duplicate_column",
    ),
    Whole(
        "header-twice-case",
        "complaints",
        None,
        "differing only in letter case",
        raw=lambda b: b.replace(b"received_at,", b"received_at,Received_At,", 1),
        formats=("csv",),
        problem_code="duplicate_column",
    ),
    Whole(
        "utf8-then-bad-byte",
        "complaints",
        None,
        "is not UTF-8, though the rest of the file is; encodings tried",
        raw=lambda b: b + b"K9,cs-test,2026-10-01 09:00,,\xff\n",
        formats=("csv",),
        problem_code="bad_encoding",
    ),
    Whole(
        "undecodable",
        "complaints",
        None,
        "encodings tried",
        raw=lambda b: b + b"K9,cs-test,\x81\x20,,\n",
        formats=("csv",),
        problem_code="bad_encoding",
    ),
    Whole(
        "utf16-with-bom-reads",
        "complaints",
        None,
        "",
        code=0,
        raw=lambda b: b.decode("utf-8").encode("utf-16"),
        formats=("csv",),
        check=lambda card: card["total"] is not None,
    ),
    Whole(
        "gb18030-reads",
        "complaints",
        None,
        "",
        code=0,
        raw=lambda b: b.decode("utf-8").encode("gb18030"),
        formats=("csv",),
        check=lambda card: card["total"] is not None,
    ),
    Whole(
        "utf16-without-bom",
        "complaints",
        None,
        "UTF-16 without a byte-order mark",
        raw=lambda b: b.decode("utf-8").encode("utf-16-le"),
        formats=("csv",),
        problem_code="bad_encoding",
    ),
    Whole(
        "unterminated-quote",
        "complaints",
        None,
        "not valid CSV",
        raw=lambda b: b.replace(b"K2,", b'"K2,', 1),
        formats=("csv",),
        problem_code="bad_csv",
    ),
    Whole(
        "nul-in-cell",
        "complaints",
        None,
        "control character",
        where="row 3, column complaint_id",
        raw=lambda b: b.replace(b"K2,", b"K\x002,", 1),
        formats=("csv",),
        problem_code="control_character",
    ),
    Whole(
        "two-sheets-with-data",
        "complaints",
        None,
        "holds data on 2 sheets",
        formats=("xlsx",),
        sheet=lambda ws: ws.parent.create_sheet("Dec").append(["K9"]),
        problem_code="ambiguous_file",
    ),
    Whole(
        "hidden-sheet-with-data",
        "complaints",
        None,
        "(hidden)",
        formats=("xlsx",),
        sheet=lambda ws: (
            setattr(ws.parent.create_sheet("old", 0), "sheet_state", "hidden") or ws.parent["old"].append(["x"])
        ),
        problem_code="ambiguous_file",
    ),
    Whole(  # far away and under no header: read by no indicator, a note (and costs nothing: read sparsely)
        "far-stray-cell",
        "complaints",
        None,
        "",
        code=0,
        formats=("xlsx",),
        sheet=lambda ws: ws.cell(row=20000, column=16384, value="x"),
        check=lambda card: card["total"] is not None,
    ),
    Whole(
        "code-nearly-matches",
        "complaints",
        lambda rows: [
            [*r[:4], {"是": "Yes", "yes": "Yes"}.get(r[4], "No") if i else "yes"] for i, r in enumerate(rows)
        ],
        "did you mean 'Yes'?",
        params={
            "tables": {
                "complaints": {
                    "columns": {"satisfied": "satisfied"},
                    "values": {"satisfied": {"Yes": True, "No": False}},
                }
            }
        },
        problem_code="near_match",
    ),
    Whole(
        "constant-over-a-column",
        "complaints",
        None,
        "constants.department",
        params={"tables": {"complaints": {"constants": {"department": DEPT}}}},
        problem_code="mapping_conflict",
    ),
    Whole(
        "mapped-and-spec-header",
        "complaints",
        None,
        "also has a header",
        params={"tables": {"complaints": {"columns": {"resolved_at": "received_at"}}}},
        problem_code="mapping_conflict",
    ),
    Whole(
        "merged-range",
        "complaints",
        None,
        "merged cells inside the data",
        where="complaints.xlsx!B2:B3",
        formats=("xlsx",),
        sheet=lambda ws: ws.merge_cells("B2:B3"),
        problem_code="merged_cells",
    ),
    Whole(  # values under no header are read by no indicator: a note of `kpi validate`
        "value-right-of-table",
        "complaints",
        None,
        "",
        code=0,
        formats=("xlsx",),
        sheet=lambda ws: ws.cell(row=3, column=8, value="note"),
        check=lambda card: card["total"] is not None,
    ),
]


@dataclass(frozen=True)
class ParamsCase:
    """A params file or command line that must be refused: exit code and a phrase of the message."""

    id: str
    text: str | None  # the params YAML (None: the valid one with `changes`)
    expect: str
    code: int = 1
    period: str = "2026-Q4"
    raw: bytes | None = None  # the params file's bytes, when not text
    problem_code: str = ""  # the Code of the problem behind the line; "" with code 2 (a usage error has no problem)


VALID = """department: cs-test
template: customer_service
data: data
review_date: 2026-12-20
indicators:
  CS01: {weight: 5, per_item: 10}
  CS02: {weight: 5, target: 90, step: 1, penalty: 2, bonus: 1}
  CS03: {weight: 15, target: 100, step: 1, penalty: 2, bonus: 1}
  CS04: {weight: 8, target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h}
  CS05: {weight: 8, target: 95, step: 1, penalty: 2, bonus: 1, sla: 2wd}
  CS06: {weight: 8, target: 90, step: 1, penalty: 2, bonus: 1}
  CS07: {weight: 10, target: 90, step: 1, penalty: 5, bonus: 1}
  CS08: {weight: 10, target: 5, step: 1, penalty: 3, bonus: 1}
  CS09: {weight: 8, target: 95, step: 1, penalty: 2, bonus: 1}
  CS10: {weight: 10, target: 90, step: 1, penalty: 2, bonus: 1}
  CS11: {weight: 8, target: 0, step: 5, penalty: 10, bonus: 0}
  CS12: {weight: 5, target: 90, step: 1, penalty: 2, bonus: 1}
"""


def _swap(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)

PARAMS_CASES: list[ParamsCase] = [
    ParamsCase(
        "key-twice-top",
        VALID + "data: other\n",
        "key 'data' given twice (lines 3 and 18)",
        problem_code="yaml_duplicate_key",
    ),
    ParamsCase(
        "key-twice-indicator",
        _swap("  CS12:", "  CS04: {weight: 8}\n  CS12:"),
        "key 'CS04' given twice",
        problem_code="yaml_duplicate_key",
    ),
    ParamsCase(
        "key-twice-inner",
        _swap(
            "{weight: 8, target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h}",
            "{weight: 8, target: 95, target: 97, step: 1, penalty: 2, bonus: 1, sla: 24h}",
        ),
        "key 'target' given twice",
        problem_code="yaml_duplicate_key",
    ),
    ParamsCase(
        "key-twice-policy",
        VALID + "policy:\n  min_score: 0\n  min_score: 10\n",
        "key 'min_score' given twice (lines 19 and 20)",
        problem_code="yaml_duplicate_key",
    ),
    ParamsCase(
        "anchor", _swap("  CS05: {", "  CS05: &five {"), "anchor &five is not allowed", problem_code="yaml_alias"
    ),
    ParamsCase(
        "alias",
        _swap(
            "  CS06: {weight: 8, target: 90, step: 1, penalty: 2, bonus: 1}",
            "  CS06: {weight: 8, target: 90, step: 1, penalty: 2, bonus: 1}\nx: &v 1\ny: *v",
        ),
        "is not allowed",
        problem_code="yaml_alias",
    ),
    ParamsCase("billion-laughs", LAUGHS, "anchor &a is not allowed", problem_code="yaml_alias"),
    ParamsCase(
        "merge-key",
        _swap(
            "  CS06: {weight: 8, target: 90, step: 1, penalty: 2, bonus: 1}",
            "  CS06: {<<: {weight: 8}, target: 90, step: 1, penalty: 2, bonus: 1}",
        ),
        "merge keys",
        problem_code="yaml_alias",
    ),
    ParamsCase(
        "nan-target",
        _swap(
            "target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h",
            "target: .nan, step: 1, penalty: 2, bonus: 1, sla: 24h",
        ),
        "not a finite number",
        problem_code="not_a_number",
    ),
    ParamsCase(
        "inf-weight",
        _swap("CS04: {weight: 8,", "CS04: {weight: .inf,"),
        "not a finite number",
        problem_code="not_a_number",
    ),
    ParamsCase(
        "string-nan-target",
        _swap(
            "target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h",
            "target: NaN, step: 1, penalty: 2, bonus: 1, sla: 24h",
        ),
        "CS04.target",
        problem_code="not_a_number",
    ),
    ParamsCase(
        "huge-target",
        _swap(
            "target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h",
            "target: 1e308, step: 1, penalty: 2, bonus: 1, sla: 24h",
        ),
        "too large",
        problem_code="number_out_of_bounds",
    ),
    ParamsCase(
        "tiny-step",
        _swap(
            "target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h",
            "target: 95, step: 1.0e-30, penalty: 2, bonus: 1, sla: 24h",
        ),
        "decimal places",
        problem_code="number_out_of_bounds",
    ),
    ParamsCase(
        "target-above-100",
        _swap(
            "target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h",
            "target: 101, step: 1, penalty: 2, bonus: 1, sla: 24h",
        ),
        "expected a percentage from 0 to 100",
        problem_code="out_of_range",
    ),
    ParamsCase(
        "target-below-0",
        _swap("CS08: {weight: 10, target: 5,", "CS08: {weight: 10, target: -5,"),
        "expected a percentage from 0 to 100",
        problem_code="out_of_range",
    ),
    ParamsCase("sla-hours-over-a-year", _swap("sla: 24h", "sla: 9000h"), "longer than a year", problem_code="bad_sla"),
    ParamsCase(
        "sla-workdays-over-a-year", _swap("sla: 2wd", "sla: 400wd"), "longer than a year", problem_code="bad_sla"
    ),
    ParamsCase("sla-full-width", _swap("sla: 24h", "sla: ２４h"), "ASCII digits", problem_code="bad_sla"),
    ParamsCase(
        "sla-huge", _swap("sla: 24h", "sla: 99999999999999999999999h"), "longer than a year", problem_code="bad_sla"
    ),
    ParamsCase(
        "invalid-review-date",
        _swap("review_date: 2026-12-20", "review_date: 2026-02-30"),
        "not a real date",
        problem_code="bad_date",
    ),
    ParamsCase(
        "review-date-out-of-range",
        _swap("review_date: 2026-12-20", "review_date: 1800-01-01"),
        "1900–2100",
        problem_code="date_out_of_range",
    ),
    ParamsCase(
        "bad-timezone", VALID + "timezone: Mars/Olympus_Mons\n", "IANA time zone", problem_code="unknown_timezone"
    ),
    ParamsCase(
        "full-width-period-key",
        VALID + "periods:\n  ２０２６-Q4: {indicators: {CS04: {target: 97}}}\n",
        "periods.",
        problem_code="bad_period",
    ),
    ParamsCase(
        "values-on-unmapped-column",
        VALID + "tables:\n  complaints:\n    values: {department: {PWDx: pwdx}}\n",
        "a values map applies only to a column mapped in columns",
        problem_code="values_without_column",
    ),
    ParamsCase(
        "not-utf8", None, "not UTF-8", raw=(VALID + "name: 测试客服部\n").encode("gb18030"), problem_code="bad_encoding"
    ),
    ParamsCase("a-list", "- department: cs-test\n", "expected a mapping", problem_code="wrong_type"),
    ParamsCase(
        "upper-case-department",
        _swap("department: cs-test", "department: CS-Test"),
        "lowercase letters",
        problem_code="bad_id",
    ),
    ParamsCase("bad-yaml", VALID + "indicators: [\n", "not valid YAML", problem_code="yaml_syntax"),
    ParamsCase(
        "negative-weight", _swap("CS04: {weight: 8,", "CS04: {weight: -8,"), "CS04.weight", problem_code="out_of_range"
    ),
    ParamsCase(
        "octal-looking-is-not-octal",
        _swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: 0x5a,"),
        "ASCII digits",
        problem_code="not_a_number",
    ),
    ParamsCase(
        "base-60",
        _swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: 1:30,"),
        "ASCII digits",
        problem_code="not_a_number",
    ),
    ParamsCase(
        "underscore-digits",
        _swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: 9_0,"),
        "ASCII digits",
        problem_code="not_a_number",
    ),
    ParamsCase(
        "quoted-full-width-number",
        _swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: '９０',"),
        "ASCII digits",
        problem_code="not_a_number",
    ),
    ParamsCase(
        "quoted-boolean-weight",
        _swap("CS07: {weight: 10,", "CS07: {weight: true,"),
        "CS07.weight",
        problem_code="not_a_number",
    ),
    ParamsCase(
        "five-thousand-digits",
        _swap("CS07: {weight: 10, target: 90,", "CS07: {weight: 10, target: " + "9" * 5000 + ","),
        "digits; expected at most",
        problem_code="number_out_of_bounds",
    ),
    ParamsCase(
        "period-key-with-a-space",
        VALID + "periods:\n  '2026-Q4 ': {indicators: {CS04: {target: 97}}}\n",
        "expected the period written exactly as '2026-Q4'",
        problem_code="near_match",
    ),
    ParamsCase(
        "period-key-twice",
        VALID + "periods:\n  2026: {indicators: {CS04: {target: 97}}}\n  '2026': {indicators: {CS04: {target: 50}}}\n",
        "given twice",
        problem_code="duplicate_entry",
    ),
    ParamsCase(
        "override-changes-department",
        VALID + "periods:\n  2026-Q4: {department: cs-other}\n",
        "may override only indicators, policy, grades",
        problem_code="override_not_allowed",
    ),
    ParamsCase(
        "override-changes-data",
        VALID + "periods:\n  2026-Q4: {data: /etc}\n",
        "may override only",
        problem_code="override_not_allowed",
    ),
    ParamsCase(
        "periods-not-a-mapping",
        VALID + "periods: [2026-Q4]\n",
        "periods: expected a mapping",
        problem_code="wrong_type",
    ),
    ParamsCase(
        "date-format-drops-zone",
        VALID + "tables:\n  complaints: {date_format: '%Y-%m-%d %H:%M %Z'}\n",
        "%Z reads a time zone name",
        problem_code="bad_date_format",
    ),
    ParamsCase(
        "date-format-ignores-pm",
        VALID + "tables:\n  complaints: {date_format: '%Y-%m-%d %H:%M %p'}\n",
        "%p (AM/PM) is ignored",
        problem_code="bad_date_format",
    ),
    ParamsCase("period-full-width", None, "ASCII digits", code=2, period="２０２６-Q4"),
    ParamsCase("period-year-2101", None, "outside 1900–2100", code=2, period="2101"),
    ParamsCase("period-year-1899", None, "outside 1900–2100", code=2, period="1899-Q1"),
    ParamsCase("period-lower-q", None, "is not valid", code=2, period="2026-q4"),
    ParamsCase("period-month-13", None, "no month 13", code=2, period="2026-13"),
]
