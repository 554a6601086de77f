"""Local wall-clock times and the real instants they name, in the params' `timezone`.

Frames keep timestamps as naive local wall-clock time (`datetime64[ns]`, see
`kpi_lib.inputs.tables`): periods and windows are local calendar days, and evidence is
shown as people wrote it. A duration (`sla: 24h`) is real elapsed time, so it is
taken between instants: `instants()` turns a column of local times into UTC.

Two local times are not one instant each:

- a time the zone skips (clocks go forward: 2026-03-08 02:30 in New York) names
  no instant. Written without an offset it is refused (`Code.NONEXISTENT_TIME`);
  with an offset it is converted and is some other, existing, local time;
- a time that occurs twice (clocks go back: 2026-11-01 01:30 in New York) names
  two. Written without an offset it is refused (`Code.AMBIGUOUS_TIME`); with one
  it is kept, and which of the two it was is kept too: Python's `fold` (0 the
  first time, 1 the second) of the parsed value, and in a frame the boolean
  column `fold_column(name)` (`_fold:<name>`), present only when some cell of
  that column is the second occurrence (so Asia/Shanghai's frames since 1991
  never have one). The column travels with the rows (filters, partitions).

`check_local` is the per-cell check of the parsers; `problem_mask` finds the
cells of a whole column that need it (the vectorized path).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..base.errors import Code

FOLD = "_fold:"


def fold_column(name: str) -> str:
    """The frame column that marks the cells of timestamp column `name` in the second of a repeated hour."""
    return f"{FOLD}{name}"


def is_fold_column(name: object) -> bool:
    return isinstance(name, str) and name.startswith(FOLD)


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class LocalTimeProblem(ValueError):
    """A naive local time that names no instant, or two; `code` says which."""

    def __init__(self, message: str, code: Code) -> None:
        super().__init__(message)
        self.code = code


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _transition(moment: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of the offset change nearest a local time that is skipped or repeated."""
    low = (moment - timedelta(days=1)).replace(tzinfo=UTC)
    high = (moment + timedelta(days=1)).replace(tzinfo=UTC)
    before = low.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


def check_local(moment: datetime, zone_name: str) -> datetime:
    """A naive local time that names exactly one instant in the zone, as given; `LocalTimeProblem` otherwise."""
    tz = zone(zone_name)
    first = moment.replace(tzinfo=tz, fold=0)
    second = moment.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return moment
    back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    change = _transition(moment, tz)
    old, new = (change - timedelta(seconds=1)).astimezone(tz), change.astimezone(tz)
    shown = moment.strftime("%Y-%m-%d %H:%M")
    if back != moment:  # no instant has this wall-clock time
        raise LocalTimeProblem(
            f"{shown} does not exist in {zone_name}: clocks go forward from {old + timedelta(seconds=1):%H:%M} "
            f"to {new:%H:%M} on {new:%Y-%m-%d} (UTC{_offset(old.utcoffset())} → UTC{_offset(new.utcoffset())}); "
            "expected a local time that exists, or the time with its UTC offset",
            Code.NONEXISTENT_TIME,
        )
    raise LocalTimeProblem(
        f"{shown} occurs twice in {zone_name}: clocks go back from {old + timedelta(seconds=1):%H:%M} "
        f"to {new:%H:%M} on {new:%Y-%m-%d}; expected the time with its UTC offset "
        f"({shown}{_offset(first.utcoffset())} the first time, {shown}{_offset(second.utcoffset())} the second)",
        Code.AMBIGUOUS_TIME,
    )


def problem_mask(local: pd.Series, zone_name: str) -> np.ndarray:
    """Which cells of a column of naive local times are skipped or repeated in the zone (need `check_local`)."""
    aware = local.dt.tz_localize(zone_name, ambiguous="NaT", nonexistent="NaT")
    mask: np.ndarray = (aware.isna() & local.notna()).to_numpy(dtype=bool)
    return mask


def instants(local: pd.Series, zone_name: str, fold: pd.Series | None = None) -> pd.Series:
    """The UTC instants (naive `datetime64[ns]`) of a column of local times; `fold` marks second occurrences.

    A repeated time without a fold is the first occurrence; a skipped one (never in a
    parsed frame) is read with the offset before the change, as Python does.
    """
    local = pd.Series(local, dtype="datetime64[ns]")
    aware = local.dt.tz_localize(zone_name, ambiguous="NaT", nonexistent="NaT")
    utc: pd.Series = aware.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    odd = np.flatnonzero((utc.isna() & local.notna()).to_numpy(dtype=bool))
    if len(odd):
        tz = zone(zone_name)
        folds = np.zeros(len(local), dtype=bool) if fold is None else pd.Series(fold).fillna(False).to_numpy(dtype=bool)
        values = utc.to_numpy(copy=True)
        for i in odd:
            moment = local.iloc[i].to_pydatetime().replace(tzinfo=tz, fold=int(folds[i]))
            values[i] = np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "ns")
        utc = pd.Series(values, index=local.index, dtype="datetime64[ns]")
    return utc


def day_ends(local: pd.Series, zone_name: str) -> pd.Series:
    """The instants (UTC, naive) at which local midnights fall: a skipped midnight is the change, a repeated one
    its first occurrence (the end of a local day is the first moment of the next)."""
    local = pd.Series(local, dtype="datetime64[ns]")
    aware = local.dt.tz_localize(zone_name, ambiguous="NaT", nonexistent="shift_forward")
    ends: pd.Series = instants(local, zone_name).where(aware.isna(), aware.dt.tz_convert("UTC").dt.tz_localize(None))
    return ends


def wall_clock(utc: pd.Series, zone_name: str) -> pd.Series:
    """UTC instants (naive) as naive local wall-clock time in the zone."""
    local: pd.Series = (
        pd.Series(utc, dtype="datetime64[ns]")
        .dt.tz_localize("UTC")
        .dt.tz_convert(zone_name)
        .dt.tz_localize(None)
        .astype("datetime64[ns]")
    )
    return local
