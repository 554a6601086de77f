"""The vectorized readers agree with the exact ones on every cell (issue 10 §3).

`tables._parse_cell` (the per-cell parser) is the definition. A CSV column is
parsed as a whole (`tables._parse_text_column`): cells a pattern finds plainly
valid are converted at once, the rest go through `_parse_cell`. These tests
parse the same cells both ways and compare every value and every problem
(message, code, row, column, value, department); `plain_mask` is checked to
select cells of each class as expected, so a pattern that admits too much shows
up as a disagreement, not as a silently wrong value. The fast CSV reader
(pyarrow) is compared with the csv module's on files of every shape.
"""

from __future__ import annotations

import csv
import math
import sqlite3
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_lib.base.files import sha256_file
from kpi_lib.inputs import readers, snapshot, sql
from kpi_lib.inputs.params import SqlSource, TableSource
from kpi_lib.inputs.readers import cell_text, read_csv
from kpi_lib.inputs.snapshot import write_frame
from kpi_lib.inputs.tables import (
    ReadRules,
    Table,
    _Departments,
    _formatted,
    _parse_column,
    _parse_text_column,
    _parser,
    _Places,
    _plain_kind,
    _simple_format,
    _typed,
    load_query,
    load_table,
    plain_mask,
)
from kpi_lib.inputs.template import Column, load_template

RULES = ReadRules(
    identifiers=frozenset({"department", "message_id", "survey"}),
    vocabulary={"survey": ("policy_execution", "customer_satisfaction")},
)
COLUMNS = {
    "date": Column("d", "date"),
    "date!": Column("d", "date", required=True),
    "timestamp": Column("t", "timestamp"),
    "timestamp!": Column("t", "timestamp", required=True),
    "decimal": Column("x", "decimal", min=0),
    "score": Column("score", "decimal", required=True, min=1, max=5),
    "int": Column("n", "int"),
    "bool": Column("b", "bool"),
    "department": Column("department", "str", required=True),
    "identifier": Column("message_id", "str", required=True),
    "vocabulary": Column("survey", "str", required=True),
    "text": Column("title", "str"),
    "period": Column("period", "period"),
}
# Cells of every class: plainly valid, nearly valid, wrong in each way the parser names.
CELLS = {
    "date": [
        "2026-10-01",
        "1900-01-01",
        "2100-12-31",
        "1899-12-31",
        "2101-01-01",
        "2026-02-29",
        "2024-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "2026-1-1",
        "26-10-01",
        " 2026-10-01",
        "2026-10-01 ",
        "2026-10-01\t",
        "２０２６-10-01",
        "2026/10/01",
        "2026-10-01 00:00",
        "",
        " ",
        "0000-01-01",
        "9999-12-31",
    ],
    "timestamp": [
        "2026-10-01 09:00",
        "2026-10-01 09:00:00",
        "2026-10-01T09:00",
        "2026-10-01T09:00:59",
        "2026-10-01 23:59:59",
        "2026-10-01 24:00",
        "2026-10-01 23:60",
        "2026-10-01 23:59:60",
        "2026-02-30 10:00",
        "2026-10-01 9:00",
        "2026-10-01 09:00:00.5",
        "2026-10-01 09:00+08:00",
        "2026-10-01 09:00Z",
        "2026-10-01 09:00 +0100",
        "2026-10-01",
        "1899-12-31 23:59",
        "2100-12-31 23:59:59",
        " 2026-10-01 09:00",
        "2026-10-01  09:00",
        "",
        "2026-10-01 09:00:00+14:30",
        "１２:00",
    ],
    "decimal": [
        "0",
        "1",
        "12.5",
        "-1",
        "-0",
        "0.000001",
        "0.0000001",
        "123456789012345",
        "1234567890123456",
        "007",
        "1.",
        ".5",
        "1e3",
        "1E-30",
        "+1",
        " 1",
        "1 ",
        "1,000",
        "１２",
        "NaN",
        "inf",
        "1.1234560",
        "12.50",
        "",
        "-0.5",
        "99999999999999.999999",
    ],
    "score": ["1", "5", "0", "6", "4.5", "5.000001", "0.999999", "", "3"],
    "int": ["0", "7", "-3", "1.0", "1.5", "1e2", "", "12345678901234567"],
    "bool": [
        "true",
        "TRUE",
        "True",
        "tRuE",
        "false",
        "FALSE",
        "1",
        "0",
        "yes",
        "YES",
        "no",
        "No",
        "是",
        "否",
        " true",
        "true ",
        "ture",
        "y",
        "n",
        "2",
        "",
        "Yes\u200b",
        "ｔｒｕｅ",
    ],
    "department": [
        "cs-east",
        "cs_east",
        "cs1",
        "CS-East",
        "cs-east ",
        " cs-east",
        "cs east",
        "ｃｓ－ｅａｓｔ",
        "cs\u200beast",
        "",
        " ",
        "财务部",
        "cs-east\t",
        "a",
    ],
    "identifier": [
        "M001",
        "EAST-M00001",
        "m 001",
        " M001",
        "M001 ",
        "M\u00a0001",
        "Ｍ001",
        "M\x01",
        "编号1",
        "~!@#",
        "",
        "\t",
    ],
    "vocabulary": [
        "policy_execution",
        "customer_satisfaction",
        "Policy_Execution",
        "policy_execution ",
        "other",
        "",
    ],
    "text": [
        "hello",
        "多 words here",
        " padded",
        "padded ",
        "tab\tinside",
        "new\nline",
        "bell\x07",
        "del\x7f",
        "c1\x85",
        "nbsp\u00a0",
        "\u00a0lead",
        "",
        "   ",
        "x",
        "全角　空格",
        "a,b",
        'quote"d',
    ],
    "period": ["2026", "2026-Q4", "2026-H1", "2026-12", "2026-Q5", "26", " 2026", "２０２６", ""],
}
# Which classes the fast patterns must take (the rest must go cell by cell): they may not grow silently.
PLAIN = {
    "date": {"2026-10-01", "1900-01-01", "2100-12-31", "2024-02-29"},
    "timestamp": {
        "2026-10-01 09:00",
        "2026-10-01 09:00:00",
        "2026-10-01T09:00",
        "2026-10-01T09:00:59",
        "2026-10-01 23:59:59",
        "2100-12-31 23:59:59",
    },
    "decimal": {"0", "1", "12.5", "-0", "0.000001", "123456789012345", "12.50", "-0.5", "99999999999999.999999"},
    "score": {"1", "5", "4.5", "3"},
    "int": {"0", "7", "-3"},
}


def _both(kind: str, cells: list[str], departments: list[str | None] | None = None) -> tuple[list, list]:
    col = COLUMNS[kind]
    parse = _parser(col, RULES, None)
    rows = np.arange(2, len(cells) + 2, dtype="int64")
    depts = _Departments(None if departments is None else pd.Series(departments, dtype=object), len(cells))
    exact: list = []
    slow = _typed(col, _parse_column(list(cells), col, parse, _Places("f.csv", rows, depts, None), exact))
    fast: list = []
    quick = _parse_text_column(
        pd.Series(cells, dtype="str"),
        col,
        parse,
        _plain_kind(col, RULES, None),
        _Places("f.csv", rows, depts, None),
        fast,
    )
    return [_cell(v) for v in slow], [_cell(v) for v in quick], exact, fast


def _cell(value: object) -> object:
    """A value compared with its type: Decimal('1.0') and Decimal('1') differ here, as they print differently."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return (type(value).__name__, str(value))


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_fast_and_exact_agree_on_every_class_of_cell(kind: str) -> None:
    cells = CELLS.get(kind.rstrip("!"), CELLS.get(kind, []))
    slow, quick, exact, fast = _both(kind, cells, [f"d{i % 3}" for i in range(len(cells))])
    assert quick == slow
    assert fast == exact


@pytest.mark.parametrize("kind", sorted(PLAIN))
def test_the_fast_patterns_take_what_they_should_and_no_more(kind: str) -> None:
    col = COLUMNS[kind]
    cells = CELLS[kind]
    mask = plain_mask(pd.Series(cells, dtype="str"), _plain_kind(col, RULES, None) or "")
    taken = {c for c, m in zip(cells, mask, strict=True) if m}
    # out-of-range values still match a pattern; the conversion sends them back to the per-cell parser
    assert taken - PLAIN[kind] <= {
        "1899-12-31",
        "2101-01-01",
        "0000-01-01",
        "9999-12-31",
        "2026-02-29",
        "2026-04-31",
        "2026-02-30 10:00",
        "1899-12-31 23:59",
        "0",
        "6",
        "5.000001",
        "0.999999",
        "-1",
    }
    assert PLAIN[kind] <= taken


def test_the_same_text_repeated_gives_every_row_its_problem_in_row_order() -> None:
    cells = ["x", "2026-10-01", "x", "", "2026-13-01", "x"]
    slow, quick, exact, fast = _both("date!", cells)
    assert quick == slow and fast == exact
    assert [p.row for p in fast] == [2, 4, 5, 6, 7]


SAMPLE = st.sampled_from([c for cells in CELLS.values() for c in cells])
NOISE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
DIGITS = st.from_regex(r"\A[0-9 .:T+\-Z]{0,22}\Z")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(COLUMNS)), cells=st.lists(st.one_of(SAMPLE, NOISE, DIGITS), max_size=12))
def test_fast_and_exact_agree_on_random_cells(kind: str, cells: list[str]) -> None:
    slow, quick, exact, fast = _both(kind, cells)
    assert quick == slow
    assert fast == exact


# -- the CSV readers ------------------------------------------------------------------------
HEADER = "message_id,department,customer_id,created_at,sent_at"
FILES = {
    "plain": f"{HEADER}\nM1,cs-east,C1,2026-10-01 09:00,2026-10-01 10:00\nM2,cs-east,C2,2026-10-02 09:00,\n",
    "no final newline": f"{HEADER}\nM1,cs-east,C1,2026-10-01 09:00,\nM2,cs-east,C2,2026-10-02 09:00,",
    "crlf": f"{HEADER}\r\nM1,cs-east,C1,2026-10-01 09:00,\r\nM2,cs-east,,2026-10-02 09:00,\r\n",
    "bare cr": f"{HEADER}\rM1,cs-east,C1,2026-10-01 09:00,\rM2,cs-east,,2026-10-02 09:00,\r",
    "blank line": f"{HEADER}\n\nM1,cs-east,C1,2026-10-01 09:00,\n",
    "blank line at the end": f"{HEADER}\nM1,cs-east,C1,2026-10-01 09:00,\n\n",
    "line of separators": f"{HEADER}\n,,,,\nM1,cs-east,C1,2026-10-01 09:00,\n",
    "line of spaces": f"{HEADER}\nM1,cs-east,C1,2026-10-01 09:00,\n   \nM2,cs-east,C2,2026-10-02 09:00,\n",
    "blank first line": f"\n{HEADER}\nM1,cs-east,C1,2026-10-01 09:00,\n",
    "quoted comma": f'{HEADER}\nM1,cs-east,"C1,x",2026-10-01 09:00,\n"M2",cs-east,"C""2",2026-10-02 09:00,\n',
    "quoted newline": f'{HEADER}\nM1,cs-east,"C1\nsecond line",2026-10-01 09:00,\nM2,cs-east,C2,2026-10-02 09:00,\n',
    "quote mid-field": f'{HEADER}\nM1,cs-east,C"1,2026-10-01 09:00,\n',
    "text after a closing quote": f'{HEADER}\nM1,cs-east,"C1"x,2026-10-01 09:00,\n',
    "too many fields": f"{HEADER}\nM1,cs-east,C1,2026-10-01 09:00,,extra\nM2,cs-east,C2,2026-10-02 09:00,\n",
    "too few fields": f"{HEADER}\nM1,cs-east,C1\nM2,cs-east,C2,2026-10-02 09:00,\n",
    "header only": f"{HEADER}\n",
    "duplicate header": "message_id,department,Message_ID,created_at,sent_at\nM1,cs-east,C1,2026-10-01 09:00,\n",
    "empty header": "message_id,department,,created_at,sent_at\nM1,cs-east,C1,2026-10-01 09:00,\n",
    "spaces in header": " message_id ,department,customer_id,created_at,sent_at\nM1,cs-east,C1,2026-10-01 09:00,\n",
    "extra column": f"{HEADER},note\nM1,cs-east,C1,2026-10-01 09:00,,hello\n",
    "chinese": "信息编号,部门,客户编号,产生时间,传递时间\n编号1,cs-east,客户,2026-10-01 09:00,\n",
    "nbsp-only line": f"{HEADER}\nM1,cs-east,C1,2026-10-01 09:00,\n\u00a0\n",
    "control characters": f"{HEADER}\nM1\x01,cs-east,C\x07,2026-10-01 09:00,\n",
}
SPEC = load_template().tables["communications"]


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_fast_csv_reader_reads_what_the_exact_reader_reads(tmp_path: Path, name: str, encoding: str) -> None:
    path = tmp_path / "communications.csv"
    path.write_bytes(FILES[name].encode(encoding))
    wanted = {"message_id", "department", "customer_id", "created_at", "sent_at", "信息编号", "部门"}.__contains__
    try:
        exact = readers._read_exact_csv(path, readers.decode(path.read_bytes()), wanted)
    except readers.Unreadable as refused:
        with pytest.raises(readers.Unreadable) as also:
            read_csv(path, wanted)
        assert (str(also.value), also.value.code) == (str(refused), refused.code)
        return
    fast = read_csv(path, wanted)
    assert list(fast.frame.columns) == list(exact.frame.columns)
    assert fast.frame.astype(object).to_dict("list") == exact.frame.to_dict("list")
    assert list(fast.frame.index) == list(exact.frame.index)
    assert fast.problems == exact.problems
    assert fast.headers == exact.headers


def test_files_that_need_the_exact_reader_go_to_it(tmp_path: Path) -> None:
    path = tmp_path / "communications.csv"
    for name, body in FILES.items():
        path.write_bytes(body.encode())
        fast = readers._read_plain_csv(path, body.encode(), str.isidentifier)
        plain = name in {
            "plain",
            "no final newline",
            "crlf",
            "quoted comma",
            "spaces in header",
            "extra column",
            "chinese",
            "control characters",
            "quote mid-field",
            "header only",
        }
        assert (fast is not None) == plain, name


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_table_reads_alike_through_either_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    (tmp_path / "communications.csv").write_text(FILES[name], encoding="utf-8")
    fast = load_table(tmp_path, SPEC)
    monkeypatch.setattr(readers, "_read_plain_csv", lambda *a: None)
    exact = load_table(tmp_path, SPEC)
    assert fast.problems == exact.problems
    pd.testing.assert_frame_equal(fast.frame, exact.frame)


# -- every source kind: column at a time and cell by cell agree (issue 20 §2) ---------------
# The same cells, of every class the parsers tell apart, written as a mapped CSV (renamed headers, a `values`
# map, a `date_format` and a column's own format), an xlsx sheet, Parquet files of several Arrow types, a SQLite
# table read by a query, and an adapter's frame; each read twice, with `readers.VECTORIZED` on and off (cell by
# cell everywhere: the definition), and compared value by value (with its type: Decimal 1.0 is not 1.00) and
# problem by problem. Berlin's clocks go forward on 2026-03-29 02:00 and back on 2026-10-25 03:00.
MIX = replace(
    load_template().tables["complaints"],
    name="mix",
    columns=(
        Column("id", "str", required=True),
        Column("department", "str", required=True),
        Column("opened", "timestamp", required=True),
        Column("closed", "timestamp"),
        Column("day", "date"),
        Column("amount", "decimal", min=0),
        Column("count", "int"),
        Column("flag", "bool"),
        Column("note", "str"),
        Column("period", "period"),
    ),
    key=("id",),
    order=(("opened", "closed"),),
)
MIX_RULES = ReadRules(identifiers=frozenset({"id", "department"}), timezone="Europe/Berlin")
D, T = date, datetime
# column → cells (one per row), homogeneous per column so that Parquet can hold them; None is an empty cell
MIX_CELLS: dict[str, list[Any]] = {
    "id": ["K1", "K2", "K3", "K2", " K5", "K6", None, "K8", "K9", "K10", "K11", "K12"],
    "department": [
        "cs-east",
        "cs-east",
        "CS-East",
        "cs-west",
        "cs-east",
        "cs-eats",
        "cs-east",
        None,
        "cs-east",
        "cs west",
        "cs-east",
        "cs-east",
    ],
    "opened": [
        T(2026, 10, 1, 9, 0),
        T(2026, 3, 29, 2, 30),  # skipped in Berlin
        T(2026, 10, 25, 2, 30),  # repeated in Berlin
        T(1899, 12, 31, 23, 0),
        T(2026, 10, 1, 9, 0, 0, 500),
        T(2026, 10, 2, 9, 0),
        T(2026, 10, 3, 0, 0),
        None,
        T(2101, 1, 1),
        T(2026, 10, 1, 9, 0),
        T(2026, 12, 31, 23, 59, 59),
        T(2026, 10, 5, 8, 0),
    ],
    "closed": [
        T(2026, 10, 1, 10, 0),
        None,
        T(2026, 10, 25, 2, 45),
        T(2026, 10, 1, 8, 0),
        T(2026, 9, 30, 9, 0),  # before opened
        T(2026, 10, 2, 9, 0),
        T(2026, 10, 3, 0, 0),
        T(2026, 10, 4),
        None,
        T(2026, 3, 29, 2, 0),
        T(2026, 10, 1, 9, 0),
        T(2026, 10, 5, 7, 0),
    ],
    "day": [
        D(2026, 10, 1),
        D(1899, 12, 31),
        D(2100, 12, 31),
        None,
        D(2026, 2, 28),
        D(2101, 1, 1),
        D(1900, 1, 1),
        D(2026, 10, 1),
        D(2026, 10, 1),
        None,
        D(2024, 2, 29),
        D(2026, 10, 2),
    ],
    "amount": [
        1.5,
        -0.0,
        0.0,
        float("nan"),
        float("inf"),
        1e20,
        0.1 + 0.2,
        123456789012345.6,
        -1.0,
        None,
        3.0,
        0.000001,
    ],
    "count": [1, -5, 10**16, None, 0, 7, 7, 2, 3, 4, 5, 6],
    "flag": [True, False, None, True, True, False, False, True, None, True, False, True],
    "note": ["ok", " padded ", "bell\x07", "", None, "tab\tin", "多 words", "ok", "ok", "new\nline", "x", "y"],
    "period": [
        "2026-Q4",
        "2026-Q5",
        None,
        "2026",
        " 2026",
        "2026-12",
        "2026-Q4",
        "2026-Q4",
        "26",
        "2026-H1",
        "2026-Q4",
        "2026-Q4",
    ],
}
ROWS = len(MIX_CELLS["id"])


def _kept(cell: object) -> object:
    """A parsed value with its type, for comparison (NaN and NaT as None)."""
    if cell is None or (not isinstance(cell, (str, list)) and pd.isna(cell)):
        return None
    return (type(cell).__name__, str(cell))


def _read_both_ways(monkeypatch: pytest.MonkeyPatch, read: Any) -> tuple[Any, Any]:
    fast = read()
    with monkeypatch.context() as m:
        m.setattr(readers, "VECTORIZED", False)
        exact = read()
    return fast, exact


def _agree(fast: Table, exact: Table) -> None:
    assert [str(p) for p in fast.problems] == [str(p) for p in exact.problems]
    assert fast.problems == exact.problems
    assert list(fast.frame.columns) == list(exact.frame.columns)
    assert list(fast.frame.dtypes) == list(exact.frame.dtypes)
    for column in fast.frame.columns:
        assert [_kept(v) for v in fast.frame[column]] == [_kept(v) for v in exact.frame[column]], column
    pd.testing.assert_frame_equal(fast.frame, exact.frame)


def _text_of(column: str, cell: Any, formats: dict[str, str] | None = None) -> str:
    if cell is None:
        return ""
    if formats and column in formats and isinstance(cell, date):
        return cell.strftime(formats[column])
    return cell_text(cell)


def _xlsx_cell(cell: Any) -> Any:
    """A cell as a workbook can hold it: NaN and infinity as text, no control character."""
    if isinstance(cell, float) and not math.isfinite(cell):
        return str(cell)
    return cell.replace("\x07", "") if isinstance(cell, str) else cell


def _write_parquet(path: Path, types: dict[str, Any], cells: dict[str, list[Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({c: pa.array(v, type=types.get(c)) for c, v in cells.items()}), path)


def _mapped_source(tmp_path: Path) -> tuple[Path, TableSource]:
    """A CSV export with its own headers, department codes, Y/N flags and dates written day first."""
    formats = {"opened": "%d/%m/%Y %H:%M:%S", "closed": "%d/%m/%Y %H:%M:%S", "day": "%d.%m.%Y"}
    codes = {"cs-east": "EAST", "cs-west": "WEST"}
    header = [f"{c.upper()} X" for c in MIX_CELLS]
    lines = []
    for r in range(ROWS):
        cells = []
        for column, values in MIX_CELLS.items():
            cell = values[r]
            if column == "department":
                text = codes.get(cell, cell or "")
            elif column == "flag":
                text = "" if cell is None else "Y" if cell else "N"
            else:
                text = _text_of(column, cell, formats)
            cells.append(text)
        lines.append(cells)
    # cells a format or a code map reads only cell by cell: a one-digit day, spaces, a near code, a lower-case code
    lines[1][2], lines[5][3], lines[6][4] = "1/10/2026 09:00:00", " 02/10/2026 09:00:00\t", "1.10.2026"
    lines[9][7], lines[11][7], lines[3][1] = "y", "Yes", "East"
    data = tmp_path / "export.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(lines)
    source = TableSource(
        file="export.csv",
        columns={c: f"{c.upper()} X" for c in MIX_CELLS},
        values={"department": {v: k for k, v in codes.items()}, "flag": {"Y": True, "N": False}},
        date_format="%d/%m/%Y %H:%M:%S",
        formats={"day": "%d.%m.%Y"},
    )
    return data, source


SOURCES = ["mapped csv", "xlsx", "parquet", "parquet of other types", "sqlite", "adapter"]


def _source(kind: str, tmp_path: Path) -> tuple[Any, TableSource]:
    """Write the cells as `kind`; the params' mapping that reads them."""
    import pyarrow as pa

    if kind == "mapped csv":
        return _mapped_source(tmp_path)
    if kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(list(MIX_CELLS))
        for r in range(ROWS):
            sheet.append([_xlsx_cell(MIX_CELLS[c][r]) for c in MIX_CELLS])
        # mixed types in a column, as spreadsheets hold them: text numbers, a whole float, a date as text, a percentage
        sheet["F3"], sheet["G4"], sheet["E5"], sheet["H6"], sheet["C7"] = (
            "12.50",
            3.0,
            "2026-10-01",
            "yes",
            "2026-10-02 09:00",
        )
        sheet["F8"], sheet["F8"].number_format = 0.95, "0%"
        sheet["G9"] = "=1+1"  # a formula without a cached value
        sheet["D10"] = T(2026, 10, 25, 2, 30, 0, 0)
        book.save(tmp_path / "mix.xlsx")
        return tmp_path / "mix.xlsx", TableSource(file="mix.xlsx", columns={"id": "id"})
    if kind == "parquet":
        types = {"opened": pa.timestamp("us"), "closed": pa.timestamp("us", tz="UTC"), "day": pa.date32()}
        _write_parquet(tmp_path / "mix.parquet", types, MIX_CELLS)
        return tmp_path / "mix.parquet", TableSource(file="mix.parquet", columns={"id": "id"})
    if kind == "parquet of other types":
        cells = dict(MIX_CELLS)
        cells["department"] = [v or "cs-east" for v in MIX_CELLS["department"]]  # (text without nulls)
        cells["amount"] = [
            None if v is None or not math.isfinite(v) or abs(v) > 1e9 else Decimal(str(round(v, 2)))
            for v in MIX_CELLS["amount"]
        ]
        cells["count"] = [
            None if v is None else float(v) / (2 if i % 3 == 0 else 1) for i, v in enumerate(MIX_CELLS["count"])
        ]
        cells["flag"] = [None if v is None else int(v) + (2 if i == 4 else 0) for i, v in enumerate(MIX_CELLS["flag"])]
        cells["day"] = [
            None if d is None else T(d.year, d.month, d.day, 12 if i == 2 else 0)
            for i, d in enumerate(MIX_CELLS["day"])
        ]
        cells["opened"] = [
            None if v is None else pd.Timestamp(v) + pd.Timedelta(nanoseconds=1 if i == 5 else 0)
            for i, v in enumerate(MIX_CELLS["opened"])
        ]
        cells["closed"] = [
            None if v is None else v.replace(tzinfo=ZoneInfo("Europe/Berlin"), fold=1) for v in MIX_CELLS["closed"]
        ]
        types = {
            "amount": pa.decimal128(12, 2),
            "count": pa.float64(),
            "flag": pa.int64(),
            "day": pa.timestamp("ms"),
            "opened": pa.timestamp("ns"),
            "closed": pa.timestamp("us", tz="Europe/Berlin"),
            "note": pa.large_string(),
        }
        _write_parquet(tmp_path / "mix.parquet", types, cells)
        return tmp_path / "mix.parquet", TableSource(file="mix.parquet", columns={"id": "id"})
    if kind == "sqlite":
        path = tmp_path / "crm.sqlite"
        connection = sqlite3.connect(path)
        with connection:
            connection.execute(f"CREATE TABLE mix ({', '.join(f'{c} ANY' for c in MIX_CELLS)})")
            for r in range(ROWS):
                row = [
                    None
                    if MIX_CELLS[c][r] is None
                    else cell_text(MIX_CELLS[c][r])
                    if isinstance(MIX_CELLS[c][r], date)
                    else MIX_CELLS[c][r]
                    for c in MIX_CELLS
                ]
                row[5] = None if row[5] is not None and not math.isfinite(row[5]) else row[5]
                if r % 4 == 1:  # SQLite keeps any type in any column: a number as text, text in a number column
                    row[5], row[6] = "12.50", "7"
                connection.execute(
                    f"INSERT INTO mix VALUES ({', '.join('?' for _ in row)})",
                    [int(v) if isinstance(v, bool) else v for v in row],
                )
        connection.close()
        query = f"SELECT {', '.join(MIX_CELLS)} FROM mix"
        return sql.prepare(
            f"sqlite:///{path}",
            query,
            table="mix",
            base=tmp_path,
            period=None,
            department=None,
            timezone="Europe/Berlin",
        ), TableSource(sql=SqlSource(url=f"sqlite:///{path}", query=query), columns={"id": "id"})
    assert kind == "adapter"
    (tmp_path / "mix.csv").write_text("id\n" + "".join(f"R{r}\n" for r in range(ROWS)), encoding="utf-8")
    (tmp_path / "adapt.py").write_text(ADAPTER, encoding="utf-8")
    return tmp_path / "mix.csv", TableSource(file="mix.csv", adapter="adapt.py:adapt", columns={"id": "ID"})


ADAPTER = """
from datetime import date, datetime, time, timezone, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd


def adapt(raw, options):
    n = len(raw)
    out = pd.DataFrame(index=raw.index)
    out["ID"] = [f"A{i % 9}" for i in range(n)]
    out["department"] = ["cs-east"] * (n - 2) + ["CS-East", None]
    out["opened"] = pd.Series(pd.date_range("2026-10-24 23:00", periods=n, freq="37min"), index=raw.index).astype(
        "datetime64[ns]"
    )  # a datetime64 column
    out.loc[out.index[2], "opened"] = pd.Timestamp("2026-10-25 02:30")  # repeated in Berlin
    out.loc[out.index[3], "opened"] = pd.Timestamp("2026-10-01 09:00:00.000000001")
    out["closed"] = [
        datetime(2026, 10, 25, 2, 40, fold=1),
        datetime(2026, 10, 25, 2, 40),
        datetime(2026, 10, 25, 1, 0, tzinfo=timezone.utc),
        pd.Timestamp("2026-10-26 09:00"),
        "2026-10-26 09:00+01:00",
        date(2026, 10, 27),
        datetime(2026, 3, 29, 2, 30),
        None,
        np.datetime64("2026-10-28T09:00"),
        datetime(2026, 10, 28, 9, 0, tzinfo=timezone(timedelta(hours=1))),
        time(9, 0),
        1.5,
    ][:n]
    out["day"] = [date(2026, 10, 1), datetime(2026, 10, 1), datetime(2026, 10, 1, 1), pd.Timestamp("2026-10-02"), None, "2026-10-03", date(1899, 1, 1), 20261001, True, datetime(2026, 10, 1, tzinfo=timezone.utc), pd.NaT, date(2026, 10, 1)][:n]
    out["amount"] = [Decimal("1.0"), Decimal("1.00"), 1, 1.0, -0.0, 0.0, 2.5, np.int64(3), "4.5", True, Decimal("NaN"), float("nan")][:n]
    out["count"] = [1, 1.0, True, np.int64(2), Decimal("3"), "4", None, 2.5, -1, 10**17, 0, 5][:n]
    out["flag"] = [True, False, 1, 0, "yes", "Y", np.bool_(True), None, 1.0, 2, "是", "false "][:n]
    out["note"] = ["a", 1, 1.5, None, ["list"], b"bytes", "x\\x01", date(2026, 1, 1), "ok", "ok", "  ", "z"][:n]
    out["period"] = ["2026-Q4", 2026, "2026-Q4", None, "2026-q4", 2026.0, "2026-Q4", "2026-Q4", "2026-Q4", "2026-Q4", "2026-Q4", "2026-Q4"][:n]
    return out
"""


@pytest.mark.parametrize("kind", SOURCES)
def test_every_source_kind_reads_alike_column_at_a_time_and_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    where, source = _source(kind, tmp_path)
    if kind == "sqlite":

        def read() -> tuple[Table, bytes]:
            result = sql.run(where)
            assert result.ok, result.problems
            return load_query(MIX, source, rules=MIX_RULES, result=result), result.data

        (fast, fast_kept), (exact, exact_kept) = _read_both_ways(monkeypatch, read)
        assert fast_kept == exact_kept  # the result kept (its sha256 is in the manifest) is the same bytes
    else:
        fast, exact = _read_both_ways(
            monkeypatch, lambda: load_table(tmp_path, MIX, source, base=tmp_path, rules=MIX_RULES)
        )
        assert fast.sha256 == exact.sha256 == sha256_file(where)
    _agree(fast, exact)
    assert len(fast.frame) == ROWS
    assert len(fast.problems) >= 10  # (the cells hold problems of many kinds: they are compared, not absent)
    if kind == "adapter":

        def kept() -> bytes:
            target = tmp_path / "kept.parquet"
            write_frame(fast.adapted.drop(columns=["note"]), target, what="the adapter")  # (a list: not kept)
            return target.read_bytes()

        assert kept() == _read_both_ways(monkeypatch, kept)[1]


# -- an export's own date format, read at once ----------------------------------------------
FORMATS = [
    "%d/%m/%Y %H:%M:%S",
    "%Y%m%d",
    "%d.%m.%Y",
    "%Y年%m月%d日 %H时%M分",
    "%m/%d/%Y %H:%M",
    "%H:%M %d-%m-%Y",
    "%d/%m/%y",
]
FORMATTED = [
    "01/10/2026 09:00:00",
    "1/10/2026 09:00:00",
    "29/02/2026 10:00:00",
    "29/02/2024 10:00:00",
    "31/04/2026 10:00:00",
    "01/10/2026 24:00:00",
    "01/10/2026 23:59:60",
    "01/10/1899 09:00:00",
    "01/10/2101 09:00:00",
    " 01/10/2026 09:00:00\t",
    "01/10/2026 09:00:00 x",
    "٠١/10/2026 09:00:00",
    "20261001",
    "20260229",
    "01.10.2026",
    "1.10.2026",
    "2026年10月01日 09时05分",
    "10/01/2026 09:00",
    "09:00 01-10-2026",
    "01/10/26",
    "29/03/2026 02:30:00",
    "25/10/2026 02:30:00",
    "",
    "   ",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["timestamp!", "date"])
def test_an_export_format_reads_alike_at_once_and_cell_by_cell(fmt: str, kind: str) -> None:
    col = COLUMNS[kind]
    rules = replace(RULES, timezone="Europe/Berlin")
    parse = _parser(col, rules, fmt)
    cells = FORMATTED + [datetime(2026, 10, d, 9, 30).strftime(fmt) for d in range(1, 29)]
    rows = np.arange(2, len(cells) + 2, dtype="int64")
    depts = _Departments(None, len(cells))
    exact: list = []
    slow = _typed(col, _parse_column(list(cells), col, parse, _Places("f.csv", rows, depts, None), exact))
    fast: list = []
    quick = _parse_text_column(
        pd.Series(cells, dtype="str"),
        col,
        parse,
        _plain_kind(col, rules, fmt),
        _Places("f.csv", rows, depts, None),
        fast,
        timezone="Europe/Berlin",
        fmt=fmt,
    )
    assert [_cell(v) for v in quick] == [_cell(v) for v in slow]
    assert fast == exact
    if _simple_format(fmt):  # (the cells written in the format are taken at once, not cell by cell)
        assert _formatted(pd.Series(cells, dtype="str"), fmt)[0].sum() >= 28


# -- a kept frame compared a column at a time -----------------------------------------------
SAME = [
    0.0,
    -0.0,
    float("nan"),
    float("inf"),
    1,
    True,
    1.0,
    Decimal("1.0"),
    Decimal("1.00"),
    Decimal("NaN"),
    "1",
    "",
    None,
    10**20,
    False,
    0,
    "x",
]


@pytest.mark.parametrize("left", range(len(SAME)))
def test_columns_compared_at_once_agree_with_cell_by_cell(left: int) -> None:
    for right in range(len(SAME)):
        pair = [SAME[left]], [SAME[right]]
        assert snapshot._all_same(*pair) == snapshot._same(SAME[left], SAME[right]), (SAME[left], SAME[right])
        column = [SAME[left], *SAME], [SAME[right], *SAME]
        assert snapshot._all_same(*column) == all(snapshot._same(x, y) for x, y in zip(*column, strict=True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float64(2.5), "2.5"),
        (np.float64(0.1), "0.1"),
        (np.float64(1 / 3), "0.333333333333333"),
        (np.float64(-0.0), "-0"),
        (np.float64(12345678.9), "12345678.9"),
    ],
)
def test_a_numpy_float_in_an_adapters_frame_is_the_number_a_float_is(value: float, expected: str) -> None:
    """numpy 2 writes `np.float64(2.5)` for its repr: a cell of an adapter's object column must still be 2.5."""
    from decimal import Decimal

    from kpi_lib.base.numbers import from_float

    assert from_float(value) == from_float(float(value)) == Decimal(expected)


def test_a_numpy_nan_is_refused_as_a_floats_nan_is() -> None:
    from kpi_lib.base.numbers import NotANumber, from_float

    with pytest.raises(NotANumber):
        from_float(np.float64("nan"))
