"""What one department reads of its tables in one period: the columns its numbers rest on, and the window.

Strict where it counts, and nowhere else. A problem of an input table stops a
department only when it can change one of its numbers; every other problem is a
note (`kpi validate` lists it, nothing stops). This module says which is which;
`tables.Table.problems_of` and `sorted_problems` sort a table's problems by it.

**Read columns.** A column of a table is read by a department when one of its
indicators reads it, under the method in force for the period (`method_of`: an
indicator under `method: observation` reads `observations`, not its rate's table):

- the table's `department` column and its key columns;
- every column the indicator's rate names (`date`, `start`/`end`, `done`,
  `excused`/`reason`, `score`, `numerator`/`denominator`, `entity`, `flag`,
  `since`/`lost`, `amount`, `approved`, `collected`) and the columns it filters on;
- the budget table of an `overrun` rate: `period` and `amount`;
- `observations`: every column (each one is the evidence: value, collector, date,
  source, note).

Every other column is unread: a descriptive column of the template (`title`,
`respondent`, `customer_id` of communications, `category` …), and any column of
the file the template does not name (a pandas index written with an empty header
or as `Unnamed: 0`, a CRM's forty extra fields). Problems in an unread column (a
value that does not parse, a duplicate or missing header, an unnamed column with
values) are notes. An unread template column is still shown in the evidence rows:
as written when it parses, empty when it does not.

**Rows outside the window.** A row whose window column parses and puts it
outside the period cannot count, so its problems are notes. The window column
comes from the rates that read the table: `date` (or `start` for `on_time`) in
the period's window; for `lost_share`, an account not active at the window's
start (`since` after it, or `lost` before it); for a budget table and for
`observations`, a `period` other than the appraised one. A table read by several
indicators: a row is outside only when it is outside for every one of them. A
row whose window column is empty or does not parse is inside (it might count).

A problem that belongs to no row (a missing file or column, a mapping that maps
nothing, a record whose fields do not line up) always stops, and so does every
problem of a table no indicator of the period reads in this scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union, cast

import numpy as np
import pandas as pd

from .period import Period
from .template import OBSERVATIONS, RATE_COLUMNS, Indicator, RateSpec, Template

if TYPE_CHECKING:
    from .params import Department, IndicatorParams, Params

BUDGET_COLUMNS = ("period", "amount")  # what an overrun rate reads of its budget table (`rates.overrun`)


def method_of(indicator: Indicator, spec: IndicatorParams | None) -> str:
    """The collection method in force: the params' choice, else the template's first computed method."""
    if spec is not None and spec.method:
        return spec.method
    computed = [m for m in indicator.methods if m != "observation"]
    return computed[0] if computed else "observation"


@dataclass(frozen=True)
class Use:
    """How one indicator reads one table: the columns, and which rows it can count (`window`).

    `window` is ("moment", column): the column in the period's window; ("active", since, lost):
    active at the window's start; ("period", column): the period itself; () none (every row may count).
    """

    indicator: str
    columns: frozenset[str]
    window: tuple[str, ...] = ()


def _uses(template: Template, methods: Iterable[tuple[Indicator, str]]) -> dict[str, list[Use]]:
    found: dict[str, list[Use]] = {}

    def add(table: str, indicator: str, columns: Iterable[str], window: tuple[str, ...]) -> None:
        spec = template.tables.get(table)
        if spec is None:
            return
        known = {c.name for c in spec.columns}
        read = {"department", *spec.key, *columns}
        found.setdefault(table, []).append(Use(indicator, frozenset(read & known), window))

    for ind, method in methods:
        if method == "observation":
            spec = template.tables.get(OBSERVATIONS)
            if spec is not None:
                add(OBSERVATIONS, ind.id, (c.name for c in spec.columns), ("period", "period"))
            continue
        rate = ind.rate
        add(rate.table, ind.id, _rate_columns(rate), _window(rate))
        if rate.budget_table:
            add(rate.budget_table, ind.id, BUDGET_COLUMNS, ("period", "period"))
    return found


def _rate_columns(rate: RateSpec) -> list[str]:
    named = [getattr(rate, key) for key in RATE_COLUMNS if key != "budget_table" and getattr(rate, key)]
    return [*named, *(column for column, _ in rate.filter)]


def _window(rate: RateSpec) -> tuple[str, ...]:
    if rate.kind == "lost_share" and rate.since and rate.lost:
        return ("active", rate.since, rate.lost)
    moment = rate.start if rate.kind == "on_time" else rate.date
    return ("moment", moment) if moment else ()


Who = Union["Params", "Department", Iterable[Indicator], None]  # whose indicators read the tables


def _pairs(template: Template, who: Who) -> list[tuple[Indicator, str]]:
    """(indicator, method in force) for a period's params (a department: its base params), or for
    indicators under their template method (None: every indicator of the template)."""
    base = getattr(who, "base", None)  # a `Department`: the methods of its base params
    indicators: Any = getattr(base if base is not None else who, "indicators", None)
    if isinstance(indicators, Mapping):
        return [(ind, method_of(ind, indicators.get(ind.id))) for ind in template.indicators if ind.id in indicators]
    listed = template.indicators if who is None else cast("Iterable[Indicator]", who)
    return [(ind, method_of(ind, None)) for ind in listed]


def read_columns(template: Template, who: Who, table: str) -> frozenset[str]:
    """The columns of `table` the indicators read: of a period's `Params` (the methods in force; a
    `Department`: its base params'), or of `Indicator`s under their template method.

    Empty when none of them reads the table. (A SQL source converts only these; see the module docstring.)
    """
    return frozenset().union(*(u.columns for u in _uses(template, _pairs(template, who)).get(table, [])))


@dataclass(frozen=True)
class Scope:
    """What a department reads in one period (`Scope.of`); `period` None judges no row outside its window."""

    uses: Mapping[str, tuple[Use, ...]]
    period: Period | None = None

    @classmethod
    def of(cls, template: Template, who: Who, period: Period | None) -> Scope:
        found = _uses(template, _pairs(template, who))
        return cls({name: tuple(uses) for name, uses in found.items()}, period)

    def reads(self, table: str) -> bool:
        """True when an indicator of the scope reads `table` (else every problem of it stops)."""
        return bool(self.uses.get(table))

    def columns(self, table: str) -> frozenset[str]:
        return frozenset().union(*(u.columns for u in self.uses.get(table, ())))

    def outside(self, table: str, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of `frame` (a parsed table) cannot count in the period: outside for every use of the table."""
        uses = self.uses.get(table, ())
        if self.period is None or not uses or not len(frame):
            return np.zeros(len(frame), dtype=bool)
        out = np.ones(len(frame), dtype=bool)
        for use in uses:
            out &= _outside(use.window, frame, self.period)
        return out


def _outside(window: tuple[str, ...], frame: pd.DataFrame, period: Period) -> np.ndarray:
    """Rows whose window column(s) parse and put them outside `period` for one use (`Use.window`)."""
    if not window or any(c not in frame.columns for c in window[1:]):
        return np.zeros(len(frame), dtype=bool)
    kind = window[0]
    if kind == "moment":
        col = frame[window[1]]
        inside = (col >= pd.Timestamp(period.start_ts)) & (col < pd.Timestamp(period.end_ts))
        return (col.notna() & ~inside.fillna(False)).to_numpy(dtype=bool)
    if kind == "active":
        start = pd.Timestamp(period.start)
        since, lost = frame[window[1]], frame[window[2]]
        late = since.notna() & (since > start)
        gone = lost.notna() & (lost < start)
        return (late | gone).to_numpy(dtype=bool)
    if kind == "period":
        col = frame[window[1]]
        return (col.notna() & (col != str(period))).to_numpy(dtype=bool)
    return np.zeros(len(frame), dtype=bool)


__all__ = ["BUDGET_COLUMNS", "Scope", "Use", "method_of", "read_columns"]
