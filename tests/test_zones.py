"""Clocks that change: durations are real elapsed time between instants in the params' time zone.

One table of cases (a message created and sent across a daylight-saving change of
New York, Berlin, Sydney, and Shanghai in 1988) is written through every source
kind (`SOURCES`: CSV text, xlsx date cells, Parquet timestamps, an adapter's frame, a database query; a new kind of
source is one more writer there), read as a data folder and scored by
`rates.on_time`: the outcome and the real hours taken, or the problem that refuses
the cell. Plus the repeated hour's second occurrence kept through a partition, the
order check on instants, and one `kpi score`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from kpi_lib.base.errors import Code
from kpi_lib.batch.demo import TABLE_COLUMNS
from kpi_lib.inputs.params import TableSource, _Invalid, _strptime_format
from kpi_lib.inputs.partitions import partition_bytes, read_partition
from kpi_lib.inputs.period import Period
from kpi_lib.inputs.tables import DataFolder, ReadRules, Table, parse_table
from kpi_lib.inputs.template import load_template
from kpi_lib.inputs.zones import fold_column
from kpi_lib.scoring.rates import RateInput, on_time

from .conftest import Company, kpi

DEPT = "cs-test"
TEMPLATE = load_template()
HEADER = TABLE_COLUMNS["communications"]


def _moment(text: str) -> datetime:
    """A cell as Python sees it: naive, or with its offset (`Z` is UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _write_csv(path: Path, created: str, sent: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerow(["M1", DEPT, "C1", created, sent])


def _write_xlsx(path: Path, created: str, sent: str) -> None:
    """Naive times as real xlsx date cells; a time with an offset as text (a date cell has no offset)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    cells = [_moment(v) if _moment(v).tzinfo is None else v for v in (created, sent)]
    sheet.append(["M1", DEPT, "C1", *cells])
    book.save(path)


def _write_parquet(path: Path, created: str, sent: str) -> None:
    """Naive times as naive timestamps; a time with an offset as a time-zone-aware (UTC) timestamp."""

    def column(text: str) -> pa.Array:
        moment = _moment(text)
        if moment.tzinfo is None:
            return pa.array([moment], pa.timestamp("us"))
        return pa.array([moment.astimezone(UTC)], pa.timestamp("us", tz="UTC"))

    table = pa.table(
        {
            "message_id": pa.array(["M1"]),
            "department": pa.array([DEPT]),
            "customer_id": pa.array(["C1"]),
            "created_at": column(created),
            "sent_at": column(sent),
        }
    )
    pq.write_table(table, path)


def _write_frame(path: Path, created: str, sent: str) -> None:
    """An adapter's frame (kept as Parquet by a run): pandas timestamps, naive or with their zone (UTC)."""

    def cell(text: str) -> pd.Timestamp:
        moment = pd.Timestamp(_moment(text))
        return moment if moment.tzinfo is None else moment.tz_convert("UTC")

    path.write_bytes(b"")  # the adapter's own file is not read by this test
    FRAMES[path.parent] = pd.DataFrame(
        {
            "message_id": ["M1"],
            "department": [DEPT],
            "customer_id": ["C1"],
            "created_at": pd.Series([cell(created)]),
            "sent_at": pd.Series([cell(sent)]),
        }
    )


FRAMES: dict[Path, pd.DataFrame] = {}


def _write_sqlite(path: Path, created: str, sent: str) -> None:
    """A database table as SQLite keeps timestamps: text as written (naive, or with its offset); read by a query."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE messages (id TEXT, team TEXT, customer TEXT, created TIMESTAMP, sent TIMESTAMP)")
        db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", ("M1", DEPT, "C1", created, sent))


SQL_SOURCE = {
    "sql": {"query": "SELECT id, team, customer, created, sent FROM messages"},
    "columns": {
        "message_id": "id",
        "department": "team",
        "customer_id": "customer",
        "created_at": "created",
        "sent_at": "sent",
    },
}

# Every kind of source a table can come from: its file suffix and how a test writes one row of cells into it
# ("frame" is an adapter's pandas frame, read by `parse_table` as a run reads what an adapter returns).
SOURCES: dict[str, tuple[str, Callable[[Path, str, str], None]]] = {
    "csv": (".csv", _write_csv),
    "xlsx": (".xlsx", _write_xlsx),
    "parquet": (".parquet", _write_parquet),
    "frame": (".frame", _write_frame),
    "sql": (".sqlite", _write_sqlite),
}


@dataclass(frozen=True)
class Clock:
    """A message created and sent in `zone`; either its outcome under `sla` with the real hours taken, or the code
    of the problem that refuses a cell (and words of its message)."""

    id: str
    zone: str
    created: str
    sent: str
    sla: str = "24h"
    outcome: str | None = None
    hours: float | None = None
    refused: Code | None = None
    words: str = ""


NY, BERLIN, SYDNEY, SHANGHAI = "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Shanghai"
CASES = [
    # New York: clocks go forward 2026-03-08 02:00 → 03:00, back 2026-11-01 02:00 → 01:00
    Clock("ny-23.5-real-hours-within-24h", NY, "2026-03-07 12:00", "2026-03-08 12:30", outcome="on time", hours=23.5),
    Clock("ny-24.5-real-hours-not-within-24h", NY, "2026-10-31 12:00", "2026-11-01 11:30", outcome="late", hours=24.5),
    Clock(
        "ny-80-minutes-not-within-1h",
        NY,
        "2026-11-01 01:30-04:00",
        "2026-11-01 01:50-05:00",
        sla="1h",
        outcome="late",
        hours=80 / 60,
    ),
    Clock("ny-20-minutes-in-utc", NY, "2026-11-01T05:50:00Z", "2026-11-01T06:10:00Z", "1h", "on time", 20 / 60),
    Clock("ny-20-minutes-with-offsets", NY, "2026-11-01 01:50-04:00", "2026-11-01 01:10-05:00", "1h", "on time", 1 / 3),
    Clock("ny-exactly-24h-across-the-change", NY, "2026-03-07 12:00", "2026-03-08 13:00", outcome="on time", hours=24),
    Clock("ny-skipped-time-with-offset", NY, "2026-03-08 01:50", "2026-03-08 02:10-05:00", "1h", "on time", 20 / 60),
    Clock(
        "ny-skipped-time",
        NY,
        "2026-03-08 01:00",
        "2026-03-08 02:30",
        refused=Code.NONEXISTENT_TIME,
        words="2026-03-08 02:30 does not exist in America/New_York: clocks go forward from 02:00 to 03:00",
    ),
    Clock(
        "ny-repeated-time",
        NY,
        "2026-11-01 01:30",
        "2026-11-01 03:00",
        refused=Code.AMBIGUOUS_TIME,
        words="2026-11-01 01:30 occurs twice in America/New_York: clocks go back from 02:00 to 01:00",
    ),
    # Berlin: forward 2026-03-29 02:00 → 03:00, back 2026-10-25 03:00 → 02:00
    Clock("berlin-23.5-real-hours", BERLIN, "2026-03-28 12:00", "2026-03-29 12:30", outcome="on time", hours=23.5),
    Clock("berlin-24.5-real-hours", BERLIN, "2026-10-24 12:00", "2026-10-25 11:30", outcome="late", hours=24.5),
    Clock("berlin-skipped-time", BERLIN, "2026-03-29 02:30", "2026-03-29 05:00", refused=Code.NONEXISTENT_TIME),
    Clock("berlin-repeated-time", BERLIN, "2026-10-25 01:00", "2026-10-25 02:30", refused=Code.AMBIGUOUS_TIME),
    Clock(
        "berlin-repeated-time-with-offsets",
        BERLIN,
        "2026-10-25 02:40+02:00",
        "2026-10-25 02:10+01:00",
        "1h",
        "on time",
        0.5,
    ),
    Clock("berlin-in-utc", BERLIN, "2026-10-25T00:40:00+00:00", "2026-10-25T01:10:00+00:00", "1h", "on time", 0.5),
    # Sydney: back 2026-04-05 03:00 → 02:00, forward 2026-10-04 02:00 → 03:00
    Clock("sydney-24.5-real-hours", SYDNEY, "2026-04-04 12:00", "2026-04-05 11:30", outcome="late", hours=24.5),
    Clock("sydney-23.5-real-hours", SYDNEY, "2026-10-03 12:00", "2026-10-04 12:30", outcome="on time", hours=23.5),
    Clock("sydney-skipped-time", SYDNEY, "2026-10-04 02:30", "2026-10-04 05:00", refused=Code.NONEXISTENT_TIME),
    Clock("sydney-repeated-time", SYDNEY, "2026-04-05 02:30", "2026-04-05 05:00", refused=Code.AMBIGUOUS_TIME),
    Clock(
        "sydney-repeated-time-with-offsets",
        SYDNEY,
        "2026-04-05 02:50+11:00",
        "2026-04-05 02:10+10:00",
        "1h",
        "on time",
        20 / 60,
    ),
    # Shanghai had daylight saving 1986–1991: forward 1988-04-17 02:00 → 03:00, back 1988-09-11 02:00 → 01:00
    Clock(
        "shanghai-1988-23.5-real-hours", SHANGHAI, "1988-04-16 12:00", "1988-04-17 12:30", outcome="on time", hours=23.5
    ),
    Clock(
        "shanghai-1988-24.5-real-hours", SHANGHAI, "1988-09-10 12:00", "1988-09-11 11:30", outcome="late", hours=24.5
    ),
    Clock(
        "shanghai-1988-skipped-time", SHANGHAI, "1988-04-17 02:30", "1988-04-17 05:00", refused=Code.NONEXISTENT_TIME
    ),
    Clock("shanghai-1988-repeated-time", SHANGHAI, "1988-09-11 01:30", "1988-09-11 05:00", refused=Code.AMBIGUOUS_TIME),
    Clock(
        "shanghai-1988-repeated-with-offsets",
        SHANGHAI,
        "1988-09-11 01:40+09:00",
        "1988-09-11 01:10+08:00",
        "1h",
        "on time",
        0.5,
    ),
    # Shanghai today: wall clock and real time agree; a file written in UTC is read as its instants
    Clock("shanghai-exactly-24h", SHANGHAI, "2026-10-01 09:00", "2026-10-02 09:00", outcome="on time", hours=24),
    Clock("shanghai-in-utc", SHANGHAI, "2026-10-01T01:00:00Z", "2026-10-01T01:20:00Z", "1h", "on time", 20 / 60),
]


def _read(tmp_path: Path, source: str, case: Clock) -> Table:
    suffix, write = SOURCES[source]
    write(tmp_path / f"communications{suffix}", case.created, case.sent)
    if source == "frame":
        spec = TEMPLATE.tables["communications"]
        frame = FRAMES.pop(tmp_path)
        return parse_table(frame, spec, "adapter.py", None, rules=ReadRules(timezone=case.zone))
    if source == "sql":
        url = f"sqlite:///{tmp_path / 'communications.sqlite'}"
        mapping = TableSource.model_validate({**SQL_SOURCE, "sql": {**SQL_SOURCE["sql"], "url": url}})
        folder = DataFolder(tmp_path, TEMPLATE, {"communications": mapping}, timezone=case.zone, department=DEPT)
        return folder.table("communications")
    return DataFolder(tmp_path, TEMPLATE, timezone=case.zone).table("communications")


def _on_time(table: Table, case: Clock) -> pd.DataFrame:
    created = table.frame["created_at"].iloc[0]
    indicator = next(i for i in TEMPLATE.indicators if i.rate.kind == "on_time" and i.rate.table == "communications")
    evidence = on_time(
        RateInput(
            spec=indicator.rate,
            period=Period.parse(f"{created:%Y-%m}"),
            rows=lambda name: table.rows_of(DEPT),
            file=lambda name: table.file,
            sla=case.sla,
            timezone=case.zone,
        )
    )
    assert evidence.denominator == 1
    return evidence.rows


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_elapsed_time_is_real_time_between_instants(case: Clock, source: str, tmp_path: Path) -> None:
    table = _read(tmp_path, source, case)
    if case.refused is not None:
        codes = [p.code for p in table.problems]
        assert case.refused in codes, [str(p) for p in table.problems]
        problem = next(p for p in table.problems if p.code == case.refused)
        assert problem.row == (1 if source == "sql" else 2) or problem.cell is not None
        assert case.zone in problem.message and case.words in problem.message, problem.message
        return
    assert table.problems == [], [str(p) for p in table.problems]
    rows = _on_time(table, case)
    assert rows["outcome"].tolist() == [case.outcome]
    assert rows["hours_taken"].iloc[0] == pytest.approx(case.hours)


@pytest.mark.parametrize("source", list(SOURCES))
def test_a_refused_cell_names_file_row_column_value_and_zone(source: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "ny-skipped-time")
    (problem,) = _read(tmp_path, source, case).problems
    line = str(problem)
    shown = {"frame": "adapter.py", "sql": "communications (sql)"}.get(source, f"communications{SOURCES[source][0]}")
    assert shown in line
    assert {"xlsx": "communications.xlsx!E2", "sql": "row 1"}.get(source, "row 2") in line
    assert "column sent_at" in line and "2026-03-08 02:30" in line
    assert "does not exist in America/New_York: clocks go forward" in line


def test_the_second_of_a_repeated_hour_is_kept_through_a_partition(tmp_path: Path) -> None:
    """01:10-05:00 is after 01:50-04:00: the frame shows 01:10 (local wall clock) and marks it the second."""
    case = next(c for c in CASES if c.id == "ny-20-minutes-with-offsets")
    table = _read(tmp_path, "csv", case)
    frame = table.rows_of(DEPT)
    assert frame["sent_at"].tolist() == [pd.Timestamp("2026-11-01 01:10")]  # shown as people read the clock
    assert frame[fold_column("sent_at")].tolist() == [True]
    assert fold_column("created_at") not in frame  # only where a second occurrence is
    data, _ = partition_bytes(table, DEPT)
    path = tmp_path / "part.parquet"
    path.write_bytes(data)
    back = read_partition(path, DEPT, table.rules, None, table.spec)
    pd.testing.assert_frame_equal(back.rows_of(DEPT).reset_index(drop=True), frame.reset_index(drop=True))
    rows = _on_time(back, case)
    assert rows["outcome"].tolist() == ["on time"] and rows["hours_taken"].iloc[0] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("created", "sent", "refused"),
    [
        ("2026-11-01 01:50-04:00", "2026-11-01 01:10-05:00", False),  # 20 minutes later, though the clock says 01:10
        ("2026-11-01T05:50:00Z", "2026-11-01T06:10:00Z", False),  # the same, written in UTC
        ("2026-11-01 01:10-05:00", "2026-11-01 01:50-04:00", True),  # truly sent 40 minutes before
        ("2026-11-01 00:30", "2026-11-01 00:20", True),
    ],
)
def test_sent_before_created_compares_instants(created: str, sent: str, refused: bool, tmp_path: Path) -> None:
    table = _read(tmp_path, "csv", Clock("order", NY, created, sent))
    assert [p.code for p in table.problems] == ([Code.WRONG_ORDER] if refused else [])


@pytest.mark.parametrize(
    ("fmt", "refused"),
    [
        ("%Y/%m/%d %I:%M", "%I (12-hour clock) without %p"),
        ("%Y/%m/%d %I:%M:%S", "%I (12-hour clock) without %p"),
        ("%Y/%m/%d %H:%M %p", "%p (AM/PM) is ignored with %H"),
        ("%Y/%m/%d %I:%M %p", None),
        ("%Y/%m/%d %H:%M", None),
    ],
)
def test_a_12_hour_clock_needs_am_pm(fmt: str, refused: str | None) -> None:
    if refused is None:
        assert _strptime_format(fmt) == fmt
        return
    with pytest.raises(_Invalid, match=refused.replace("(", r"\(").replace(")", r"\)")) as raised:
        _strptime_format(fmt)
    assert raised.value.code == Code.BAD_DATE_FORMAT


def test_kpi_score_counts_real_hours_in_new_york(company: Company) -> None:
    company.table(
        "communications",
        [
            {"message_id": "M1", "created_at": "2026-10-31 12:00", "sent_at": "2026-11-01 11:30"},  # 24.5 real hours
            {"message_id": "M2", "created_at": "2026-11-02 09:00", "sent_at": "2026-11-03 08:00"},  # 23 hours
            {"message_id": "M3", "created_at": "2026-11-01T05:50:00Z", "sent_at": "2026-11-01T06:10:00Z"},
        ],
    )
    path = company.params(timezone=NY, calendar="US-NY")
    result = kpi("score", path, "--period", "2026-11", "--json", in_process=True)
    assert result.returncode == 0, result.stderr
    cs04 = next(i for i in json.loads(result.stdout)["indicators"] if i["id"] == "CS04")
    assert (cs04["numerator"], cs04["denominator"], cs04["value"]) == (2, 2, 100.0)  # M1 is October's
    result = kpi("score", path, "--period", "2026-10", "--json", in_process=True)
    cs04 = next(i for i in json.loads(result.stdout)["indicators"] if i["id"] == "CS04")
    assert (cs04["numerator"], cs04["denominator"]) == (0, 1)
    bad = company.params(timezone=NY)
    company.table("communications", [{"message_id": "M1", "created_at": "2026-11-01 01:30", "sent_at": ""}])
    result = kpi("score", bad, "--period", "2026-11", in_process=True)
    assert result.returncode == 1
    assert "communications.csv" in result.stderr and "row 2" in result.stderr and "column created_at" in result.stderr
    assert "2026-11-01 01:30 occurs twice in America/New_York" in result.stderr


@pytest.mark.parametrize(
    ("fmt", "cell", "refused", "second"),
    [
        ("%m/%d/%Y %I:%M %p", "11/01/2026 01:30 AM", Code.AMBIGUOUS_TIME, False),
        ("%m/%d/%Y %I:%M %p", "03/08/2026 02:30 AM", Code.NONEXISTENT_TIME, False),
        ("%m/%d/%Y %I:%M %p %z", "11/01/2026 01:30 AM -0500", None, True),
        ("%m/%d/%Y %I:%M %p %z", "11/01/2026 01:30 AM -0400", None, False),
        ("%m/%d/%Y %I:%M %p", "11/01/2026 12:30 PM", None, False),
    ],
)
def test_an_exports_own_date_format_is_checked_against_the_clock_too(
    fmt: str, cell: str, refused: Code | None, second: bool, tmp_path: Path
) -> None:
    _write_csv(tmp_path / "communications.csv", "2026-10-31 09:00", cell)
    sources = {"communications": TableSource(formats={"sent_at": fmt})}
    table = DataFolder(tmp_path, TEMPLATE, sources, timezone=NY).table("communications")
    assert [p.code for p in table.problems] == ([refused] if refused else [])
    if refused is not None:
        return
    if second:
        assert table.frame[fold_column("sent_at")].tolist() == [True]
    else:
        assert fold_column("sent_at") not in table.frame
