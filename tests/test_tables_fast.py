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

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_lib.inputs import readers
from kpi_lib.inputs.readers import read_csv
from kpi_lib.inputs.tables import (
    ReadRules,
    _Departments,
    _parse_column,
    _parse_text_column,
    _parser,
    _Places,
    _plain_kind,
    _typed,
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
