"""Fuzzing the table readers and the params loader (hypothesis): no crash, and never a score from a table that failed.

Whatever the bytes of a CSV, the cells of an xlsx or the text of a params file,
reading gives problems or values, scoring gives a `KpiError` or a scorecard, and
a scorecard only when the tables it read have no problem for the department.
"""

from __future__ import annotations

import csv
import io
import string
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_lib import KpiError, Period, appraise, load_params, load_template
from kpi_lib.inputs.tables import DataFolder, load_table
from kpi_lib.scoring.appraisal import tables_needed

from .corpus.cases import VALID
from .corpus.company import DEPT, HEADERS, ROWS, write_company

TEMPLATE = load_template()
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\u200b",
        "\u00a0",
        "\x00",
        "\x07",
        "ｃｓ",
        "是",
        "否",
        "NaN",
        "inf",
        "1e308",
        "1E-30",
        "-0",
        "2026-02-30",
        "2026-10-01T09:00Z",
        "\r",
        "\n",
        '"',
        ",",
        "=1+1",
        "#N/A",
        DEPT,
    ]
)
CELL_TEXT = st.one_of(NASTY, st.text(max_size=12), st.text(alphabet=string.digits + "-:. +TZe", max_size=20))


def _score_or_refuse(path: Path) -> None:
    """Score the department; a scorecard is allowed only when its tables hold no problem for it."""
    department = load_params(path)
    period = Period.parse("2026-Q4")
    try:
        card = appraise(department, period)
    except KpiError:
        return
    data = DataFolder.of(department)
    needed = tables_needed(department.for_period(period), department.template.indicators)
    assert not [p for name in needed for p in data.table(name).problems_of(DEPT)], "scored despite problems"
    assert card.summary is not None


@pytest.mark.slow
@FUZZ
@given(rows=st.lists(st.lists(CELL_TEXT, min_size=0, max_size=7), max_size=6))
def test_csv_cells(rows: list[list[str]], tmp_path_factory: Any) -> None:
    root = tmp_path_factory.mktemp("csv")
    path = write_company(root, "csv")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS["complaints"])
    writer.writerows(ROWS["complaints"][:2] + rows)
    (root / "data" / "complaints.csv").write_text(buffer.getvalue(), encoding="utf-8")
    load_table(root / "data", TEMPLATE.tables["complaints"])
    _score_or_refuse(path)


@pytest.mark.slow
@FUZZ
@given(data=st.binary(max_size=300))
def test_csv_bytes(data: bytes, tmp_path_factory: Any) -> None:
    root = tmp_path_factory.mktemp("bytes")
    path = write_company(root, "csv")
    header = ",".join(HEADERS["surveys"]).encode() + b"\n"
    (root / "data" / "surveys.csv").write_bytes(header + data)
    _score_or_refuse(path)


TYPED = st.one_of(
    CELL_TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 1, 1)),
)


@pytest.mark.slow
@FUZZ
@given(cells=st.lists(TYPED, min_size=6, max_size=6), column=st.integers(min_value=0, max_value=5))
def test_xlsx_cells(cells: list[Any], column: int, tmp_path_factory: Any) -> None:
    root = tmp_path_factory.mktemp("xlsx")
    path = write_company(root, "xlsx")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS["expenses"])
    for row in ROWS["expenses"]:
        sheet.append(row)
    for r, value in enumerate(cells, start=2):
        if isinstance(value, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
            continue  # openpyxl refuses control characters in a cell; the CSV fuzz covers them
        sheet.cell(row=r, column=column + 1, value=value)
    book.save(root / "data" / "expenses.xlsx")
    _score_or_refuse(path)


@FUZZ
@given(
    offset=st.integers(min_value=-14 * 60, max_value=14 * 60), minutes=st.integers(min_value=0, max_value=60 * 24 * 90)
)
def test_offset_timestamps_read_as_the_same_instant(offset: int, minutes: int, tmp_path_factory: Any) -> None:
    """A timestamp written with any UTC offset is the same local moment as its Asia/Shanghai reading."""
    local = datetime(2026, 10, 1) + timedelta(minutes=minutes)
    shanghai = timezone(timedelta(hours=8))
    moment = local.replace(tzinfo=shanghai).astimezone(timezone(timedelta(minutes=offset)))
    root = tmp_path_factory.mktemp("tz")
    rows = [["K1", DEPT, moment.isoformat(timespec="seconds"), "", ""]]
    with (root / "complaints.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([HEADERS["complaints"], *rows])
    table = load_table(root, TEMPLATE.tables["complaints"])
    assert table.problems == []
    assert table.frame["received_at"].iloc[0].to_pydatetime() == local


YAML_PIECES = st.sampled_from(
    [
        "&a ",
        "*a",
        "<<: ",
        "{",
        "}",
        "[",
        "]",
        ": ",
        "- ",
        "\n",
        "  ",
        ".nan",
        ".inf",
        "1e308",
        "2026-02-30",
        "~",
        "'",
        '"',
        "!!python/object:os.system ",
        "CS04",
        "target",
        "weight: ",
        "department: ",
        "x",
    ]
)


@pytest.mark.slow
@FUZZ
@given(pieces=st.lists(YAML_PIECES, max_size=25), at=st.integers(min_value=0, max_value=len(VALID)))
def test_params_text(pieces: list[str], at: int, tmp_path_factory: Any) -> None:
    root = tmp_path_factory.mktemp("params")
    path = write_company(root, "csv", params_text=VALID[:at] + "".join(pieces) + VALID[at:])
    try:
        _score_or_refuse(path)
    except KpiError:
        pass
