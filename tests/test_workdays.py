"""The China working-day calendar, checked against a second, independent source."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pandas as pd
import pytest

from kpi_lib.inputs.workdays import (
    is_workday,
    last_workday_of_month,
    nth_workday_after,
    workday_deadline,
    workday_deadlines,
)


def test_agrees_with_chinesecalendar_2024_to_2026() -> None:
    day, disagree = date(2024, 1, 1), []
    while day <= date(2026, 12, 31):
        if is_workday(day) != chinese_calendar.is_workday(day):
            disagree.append(day)
        day += timedelta(days=1)
    assert disagree == []


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (date(2026, 2, 28), True),
        (date(2026, 9, 20), True),
        (date(2026, 10, 10), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 11), False),
    ],
)
def test_adjusted_days_2026(day: date, works: bool) -> None:
    assert is_workday(day) is works


def test_nth_workday_after() -> None:
    assert nth_workday_after(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert nth_workday_after(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert nth_workday_after(date(2026, 10, 9), 2) == date(2026, 10, 12)


@pytest.mark.parametrize(
    ("month", "day"),
    [(2, date(2026, 2, 28)), (10, date(2026, 10, 30)), (1, date(2026, 1, 30)), (12, date(2026, 12, 31))],
)
def test_last_workday_of_month(month: int, day: date) -> None:
    assert last_workday_of_month(2026, month) == day


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 10, 30])
def test_deadlines_of_a_column_agree_with_one_by_one(n: int) -> None:
    moments = [datetime(2023, 12, 20, 9, 30) + timedelta(days=d, hours=d % 7) for d in range(0, 1200, 3)]
    column = pd.Series([*moments, None], dtype="datetime64[ns]")
    got = workday_deadlines(column, n)
    assert got.iloc[:-1].tolist() == [pd.Timestamp(workday_deadline(m, n)) for m in moments]
    assert pd.isna(got.iloc[-1])
