"""Appraisal periods: `YYYY`, `YYYY-H1|H2`, `YYYY-Q1..Q4`, `YYYY-MM`.

A period's window is every calendar day from `start` to `end`, both included.
Timestamps are local and naive; a timestamp belongs to the window when
`start 00:00:00 <= ts < (end + 1 day) 00:00:00`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..base.errors import UsageError

ACCEPTED_FORMS = (
    "YYYY, YYYY-H1, YYYY-H2, YYYY-Q1..YYYY-Q4 or YYYY-MM in ASCII digits (e.g. 2026, 2026-H2, 2026-Q4, 2026-10)"
)

_PATTERN = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?$", re.ASCII)
FIRST_YEAR, LAST_YEAR = 1900, 2100


@dataclass(frozen=True, order=True)
class Period:
    """One appraisal period; `str(period)` gives back its canonical text."""

    start: date
    end: date
    text: str

    @classmethod
    def parse(cls, text: object) -> Period:
        """Parse a period, raising `UsageError` that names the accepted forms."""
        raw = str(text).strip()
        match = _PATTERN.match(raw)
        if not match:
            raise UsageError(f"period {raw!r} is not valid; expected {ACCEPTED_FORMS}")
        year, part = int(match.group(1)), match.group(2)
        if part is None:
            first, last = 1, 12
        elif part[0] == "H":
            first = 1 if part == "H1" else 7
            last = first + 5
        elif part[0] == "Q":
            first = 3 * (int(part[1]) - 1) + 1
            last = first + 2
        else:
            first = last = int(part)
            if not 1 <= first <= 12:
                raise UsageError(f"period {raw!r} has no month {part}; expected {ACCEPTED_FORMS}")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise UsageError(
                f"period {raw!r}: year {year} is outside {FIRST_YEAR}–{LAST_YEAR}; expected {ACCEPTED_FORMS}"
            )
        end = date(year, last, calendar.monthrange(year, last)[1])
        return cls(start=date(year, first, 1), end=end, text=raw)

    def __str__(self) -> str:
        return self.text

    @property
    def start_ts(self) -> datetime:
        """First instant of the window."""
        return datetime.combine(self.start, datetime.min.time())

    @property
    def end_ts(self) -> datetime:
        """First instant after the window (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def window(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @property
    def kind(self) -> str:
        """ "year", "half", "quarter" or "month": periods of one kind tile the calendar and follow each other."""
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        return {12: "year", 6: "half", 3: "quarter", 1: "month"}[months]

    def previous(self) -> Period:
        """The period of the same kind just before this one (2026-Q1 → 2025-Q4, 2026-01 → 2025-12, 2026 → 2025).

        Raises `UsageError` before the first year periods can name.
        """
        year, kind = self.start.year, self.kind
        if kind == "year":
            return Period.parse(f"{year - 1:04d}")
        first = self.start.month - {"half": 6, "quarter": 3, "month": 1}[kind]
        if first < 1:
            year, first = year - 1, first + 12
        if kind == "half":
            return Period.parse(f"{year:04d}-H{1 if first == 1 else 2}")
        if kind == "quarter":
            return Period.parse(f"{year:04d}-Q{(first - 1) // 3 + 1}")
        return Period.parse(f"{year:04d}-{first:02d}")
