"""The mainland China working-day calendar, with adjusted working days (调休).

Backed by the `holidays` package's China calendar, whose `is_working_day`
counts public holidays and their substituted days off as rest days and the
adjusted weekend working days (e.g. Saturday 2026-02-28, Sunday 2026-09-20) as
working days. A test cross-checks 2024–2026 against `chinesecalendar`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache, lru_cache

from holidays import HolidayBase
from holidays.countries.china import China  # what `holidays.China` loads on first use


@cache
def _china(year: int) -> HolidayBase:
    return China(years=year)


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    return bool(_china(day.year).is_working_day(day))


@lru_cache(maxsize=4096)
def nth_workday_after(day: date, n: int) -> date:
    """The n-th working day strictly after `day` (n >= 1); `day` itself if n == 0."""
    current = day
    remaining = n
    while remaining > 0:
        current += timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def workday_deadline(created: datetime, n: int) -> datetime:
    """Due at the end of the n-th working day after the creation date (exclusive bound: next midnight)."""
    due_day = nth_workday_after(created.date(), n)
    return datetime.combine(due_day + timedelta(days=1), datetime.min.time())


def last_workday_of_month(year: int, month: int) -> date:
    day = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    while not is_workday(day):
        day -= timedelta(days=1)
    return day
