"""Periods (SPEC §2)."""

from __future__ import annotations

from datetime import date

import pytest

from kpi_lib import Period, UsageError


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_windows(text: str, start: date, end: date) -> None:
    period = Period.parse(text)
    assert (period.start, period.end, str(period)) == (start, end, text)


@pytest.mark.parametrize(
    "text", ["2026-Q5", "2026-Q0", "2026-H3", "2026-13", "2026-00", "26", "2026Q4", "2026-q4", "", "2026-1"]
)
def test_bad_periods_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(UsageError, match="YYYY, YYYY-H1, YYYY-H2, YYYY-Q1..YYYY-Q4 or YYYY-MM"):
        Period.parse(text)


def test_timestamp_bounds() -> None:
    period = Period.parse("2026-10")
    assert str(period.start_ts) == "2026-10-01 00:00:00"
    assert str(period.end_ts) == "2026-11-01 00:00:00"
