"""The mainland China working-day calendar, with adjusted working days (调休).

Backed by the `holidays` package's China calendar, whose `is_working_day`
counts public holidays and their substituted days off as rest days and the
adjusted weekend working days (e.g. Saturday 2026-02-28, Sunday 2026-09-20) as
working days. A test cross-checks 2024–2026 against `chinesecalendar`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache, lru_cache

import numpy as np
import pandas as pd
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


def workday_deadlines(created: pd.Series, n: int) -> pd.Series:
    """`workday_deadline` of a whole column of timestamps at once (NaT stays NaT).

    The working days of the years involved (the calendar above, so adjusted
    working days count) are one sorted array; the n-th working day strictly after
    a date is found by `searchsorted` for the whole column, not one loop per row.
    """
    days = pd.Series(created, dtype="datetime64[ns]").dt.normalize()
    out = pd.Series(pd.NaT, index=created.index, dtype="datetime64[ns]")
    known = days.notna().to_numpy()
    if not known.any():
        return out
    values = days[known].to_numpy().astype("datetime64[D]")
    if n == 0:
        out[known] = (values + np.timedelta64(1, "D")).astype("datetime64[ns]")
        return out
    first, last = pd.Timestamp(values.min()).year, pd.Timestamp(values.max()).year
    span = last + 1 + n // 200  # enough years for the n-th working day after the last date
    calendar = _working_days(first, span)
    due = np.searchsorted(calendar, values, side="right") + (n - 1)
    out[known] = (calendar[due] + np.timedelta64(1, "D")).astype("datetime64[ns]")
    return out


@cache
def _working_days(first: int, last: int) -> np.ndarray:
    """Every working day of the years `first` to `last`, in order (datetime64[D])."""
    start, end = date(first, 1, 1), date(last, 12, 31)
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    return np.array([d for d in days if is_workday(d)], dtype="datetime64[D]")


def last_workday_of_month(year: int, month: int) -> date:
    day = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    while not is_workday(day):
        day -= timedelta(days=1)
    return day
