"""Working-day calendars: the department's `calendar` (params), one frozen `Calendar` object each.

A calendar is written as the params key `calendar`:

- `CN` (the default): mainland China with adjusted working days (调休), from the
  `holidays` package's China calendar, whose `is_working_day` counts public
  holidays and their substituted days off as rest days and the adjusted weekend
  working days (e.g. Saturday 2026-02-28, Sunday 2026-09-20) as working days. A
  test cross-checks 2024–2026 against `chinesecalendar`;
- any country code of the `holidays` package, with an optional subdivision after
  a hyphen: `US-NY`, `US-MA`, `DE-BY`, `GB-SCT`, `HK`, `JP` … The country's own
  weekend is used (Friday and Saturday in some countries: `holidays`' `weekend`),
  and its public holidays are days off;
- `weekdays`: Monday to Friday, no holidays.

The params keys `days_off: [dates]` (a company shutdown) and `workdays: [dates]`
(a working Saturday) add dates to it; a date in both is a params error. An unknown
country or subdivision is a params error naming the nearest ones (`parse_code`).

`calendar_of(code, days_off, workdays)` gives the one `Calendar` of those
settings (cached: every department on `US-NY` shares its year tables). It is used
by working-day deadlines (`rates.on_time`: `deadlines`, vectorized over a whole
column), the collection schedule (`schedule`: `monthly_last_workday` …) and
`kpi calendar`. A deadline of N working days falls at the end of the N-th working
day after the creation date, local time: the value here is the next midnight
(exclusive); `rates` turns it into an instant in the params' time zone.

The module-level `is_workday`, `nth_workday_after`, `workday_deadline(s)` and
`last_workday_of_month` are the default (`CN`) calendar's.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache

import holidays as holidays_package
import numpy as np
import pandas as pd
from holidays import HolidayBase
from holidays.countries.china import China  # what `holidays.China` loads on first use

DEFAULT_CALENDAR = "CN"
WEEKDAYS = "weekdays"


class UnknownCalendar(ValueError):
    """A `calendar` code the `holidays` package does not know; the message names the nearest ones."""


@cache
def _countries() -> dict[str, tuple[str, ...]]:
    """Every country code of the `holidays` package and its subdivision codes."""
    found = holidays_package.list_supported_countries(include_aliases=False)
    return {code: tuple(subdivs) for code, subdivs in found.items()}


def _nearest(text: str, known: Iterable[str]) -> list[str]:
    choices = list(known)
    by_upper = {c.upper(): c for c in choices}
    if text.upper() in by_upper and by_upper[text.upper()] != text:
        return [by_upper[text.upper()]]
    upper = difflib.get_close_matches(text.upper(), list(by_upper), n=3, cutoff=0.5)
    return [by_upper[u] for u in upper]


def _alias_of(country: str) -> str | None:
    """The ISO code the holidays package reads an alias as (`UK` → `GB`), or None."""
    if country not in holidays_package.list_supported_countries(include_aliases=True):
        return None
    found = str(holidays_package.country_holidays(country).country)
    return found if found != country and found in _countries() else None


def parse_code(code: str) -> tuple[str, str | None]:
    """`"US-NY"` → `("US", "NY")`, `"JP"` → `("JP", None)`, `"weekdays"` → `("weekdays", None)`.

    `UnknownCalendar` when the country or its subdivision is not one of the `holidays` package's.
    """
    if code == WEEKDAYS:
        return WEEKDAYS, None
    country, _, subdiv = code.partition("-")
    countries = _countries()
    if country not in countries:
        near = _nearest(country, [*countries, WEEKDAYS])
        if code.upper() != code and code.upper() != WEEKDAYS.upper():
            try:
                parse_code(code.upper())
                near = [code.upper()]
            except UnknownCalendar:
                pass
        canonical = _alias_of(country)
        if canonical:  # an alias the holidays package knows (UK): the calendar is named by its ISO code
            near = [f"{canonical}-{subdiv}" if subdiv else canonical]
        hint = f"did you mean {' or '.join(near)}? " if near else ""
        raise UnknownCalendar(
            f"{hint}expected CN, weekdays or a country code of the holidays package with an optional "
            f"subdivision (US-NY, DE-BY, GB-SCT, HK, JP …)"
        )
    if not subdiv:
        if code.endswith("-"):
            raise UnknownCalendar(f"expected a subdivision after {country}- (or {country} alone)")
        return country, None
    known = countries[country]
    if subdiv not in known:
        near = _nearest(subdiv, known)
        hint = f"did you mean {' or '.join(f'{country}-{n}' for n in near)}? " if near else ""
        listed = ", ".join(known[:12]) + (" …" if len(known) > 12 else "") if known else "none"
        raise UnknownCalendar(f"{hint}{country} has no subdivision {subdiv}; its subdivisions are {listed}")
    return country, subdiv


@dataclass(frozen=True)
class Calendar:
    """Which days are working days: a country's (and subdivision's) calendar, or Monday to Friday, plus added dates."""

    country: str = DEFAULT_CALENDAR  # a `holidays` country code, or "weekdays"
    subdiv: str | None = None
    days_off: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @property
    def code(self) -> str:
        """As written in the params: `CN`, `US-NY`, `weekdays`."""
        return f"{self.country}-{self.subdiv}" if self.subdiv else self.country

    @property
    def label(self) -> str:
        """The code and the dates the params add, for a report's provenance: `US-NY; days_off: 2026-12-24`."""
        parts = [self.code]
        for key, days in (("days_off", self.days_off), ("workdays", self.workdays)):
            if days:
                parts.append(f"{key}: {', '.join(str(d) for d in sorted(days))}")
        return "; ".join(parts)

    def is_workday(self, day: date) -> bool:
        return _is_workday(self, day)

    def nth_workday_after(self, day: date, n: int) -> date:
        """The n-th working day strictly after `day` (n >= 1); `day` itself if n == 0."""
        return _nth_workday_after(self, day, n)

    def deadline(self, created: datetime, n: int) -> datetime:
        """Due at the end of the n-th working day after the creation date (exclusive bound: next midnight, local)."""
        due_day = self.nth_workday_after(created.date(), n)
        return datetime.combine(due_day + timedelta(days=1), datetime.min.time())

    def deadlines(self, created: pd.Series, n: int) -> pd.Series:
        """`deadline` of a whole column of local timestamps at once (NaT stays NaT).

        The working days of the years involved are one sorted array; the n-th working
        day strictly after a date is found by `searchsorted` for the whole column.
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
        working = _working_days(self, first, span)
        due = np.searchsorted(working, values, side="right") + (n - 1)
        out[known] = (working[due] + np.timedelta64(1, "D")).astype("datetime64[ns]")
        return out

    def last_workday_of_month(self, year: int, month: int) -> date:
        day = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day


@lru_cache(maxsize=256)
def calendar_of(code: str = DEFAULT_CALENDAR, days_off: Iterable[date] = (), workdays: Iterable[date] = ()) -> Calendar:
    """The calendar of the params' `calendar`, `days_off` and `workdays` (one object per distinct settings)."""
    country, subdiv = parse_code(code)
    return Calendar(country, subdiv, frozenset(days_off), frozenset(workdays))


@cache
def _holidays(country: str, subdiv: str | None, year: int) -> HolidayBase:
    if country == DEFAULT_CALENDAR and subdiv is None:
        return China(years=year)
    return holidays_package.country_holidays(country, subdiv=subdiv, years=year)


@lru_cache(maxsize=65536)
def _is_workday(calendar: Calendar, day: date) -> bool:
    if day in calendar.workdays:
        return True
    if day in calendar.days_off:
        return False
    if calendar.country == WEEKDAYS:
        return day.weekday() < 5
    return bool(_holidays(calendar.country, calendar.subdiv, day.year).is_working_day(day))


@lru_cache(maxsize=4096)
def _nth_workday_after(calendar: Calendar, day: date, n: int) -> date:
    current = day
    remaining = n
    while remaining > 0:
        current += timedelta(days=1)
        if calendar.is_workday(current):
            remaining -= 1
    return current


@lru_cache(maxsize=256)
def _working_days(calendar: Calendar, first: int, last: int) -> np.ndarray:
    """Every working day of the years `first` to `last`, in order (datetime64[D])."""
    start, end = date(first, 1, 1), date(last, 12, 31)
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    return np.array([d for d in days if calendar.is_workday(d)], dtype="datetime64[D]")


CHINA = Calendar()


# -- the default calendar's functions (mainland China with 调休) ------------------------------
@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    return CHINA.is_workday(day)


def nth_workday_after(day: date, n: int) -> date:
    """The n-th working day strictly after `day` (n >= 1); `day` itself if n == 0."""
    return CHINA.nth_workday_after(day, n)


def workday_deadline(created: datetime, n: int) -> datetime:
    """Due at the end of the n-th working day after the creation date (exclusive bound: next midnight)."""
    return CHINA.deadline(created, n)


def workday_deadlines(created: pd.Series, n: int) -> pd.Series:
    """`workday_deadline` of a whole column of timestamps at once (NaT stays NaT)."""
    return CHINA.deadlines(created, n)


def last_workday_of_month(year: int, month: int) -> date:
    return CHINA.last_workday_of_month(year, month)
