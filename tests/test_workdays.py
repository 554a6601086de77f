"""The China working-day calendar, checked against a second, independent source."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from kpi_lib.workdays import is_workday, last_workday_of_month, nth_workday_after


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
