"""Rates: each indicator's value computed from raw rows, with its evidence.

A rate is a small pure function found by name in `RATES`; the template says which
kind an indicator uses and with which table and columns, e.g.

    rate: {kind: on_time, table: communications, start: created_at, end: sent_at}

Every rate returns an `Evidence`: the value (a percentage rounded half-up to 2
decimals, or the count n), its numerator and denominator, the rows of the
window that counted with an `outcome` each, the rows left out with a `reason`
each (excused, approved overrun, excluded by key in the params: `excluded_by_params`),
and `facts` a report shows next to the number
(the deadline, the budget …). A rate whose denominator is 0 returns value None:
the scoring policy's `on_empty` decides what that means.

The `observation` method bypasses the rate: `observe()` takes the value recorded
by a collector in the `observations` table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import pandas as pd

from ..base.errors import Code, DataError, Problem
from ..inputs.params import sla_parts
from ..inputs.period import Period
from ..inputs.tables import DEFAULT_TIMEZONE
from ..inputs.template import RATE_KINDS, RateSpec
from ..inputs.workdays import CHINA, Calendar
from ..inputs.zones import day_ends, fold_column, instants, wall_clock

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def percent(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """numerator / denominator × 100, rounded half-up to 2 decimals; None when the denominator is 0."""
    if not denominator:
        return None
    with (
        localcontext() as context
    ):  # wide enough for any ratio of bounded numbers (kpi_lib.base.numbers): never an overflow
        context.prec = 80
        return (Decimal(numerator) / Decimal(denominator) * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RateInput:
    """What a rate may look at: its spec from the template, the period, and the department's rows."""

    spec: RateSpec
    period: Period
    rows: Callable[[str], pd.DataFrame]
    file: Callable[[str], str]
    satisfied_min_score: Decimal = Decimal(4)
    sla: str | None = None
    timezone: str = DEFAULT_TIMEZONE  # durations are real elapsed time between instants in this zone
    calendar: Calendar = CHINA  # working days of "<N>wd" deadlines


@dataclass(frozen=True)
class Evidence:
    table: str
    file: str
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    facts: Mapping[str, Any] = field(default_factory=dict)
    responses: int | None = None  # survey answers behind the value (survey-based rates only)

    @property
    def empty(self) -> bool:
        return self.value is None


RateFn = Callable[[RateInput], Evidence]
RATES: dict[str, RateFn] = {}

# The values each rate kind can produce: (lowest, highest or None, whole numbers only). An observed value
# outside its kind's range is an error, never a score. Kinds not listed are percentages from 0 to 100.
PERCENT: tuple[Decimal, Decimal | None, bool] = (Decimal(0), HUNDRED, False)
VALUE_RANGES: dict[str, tuple[Decimal, Decimal | None, bool]] = {
    "unfinished_items": (Decimal(0), None, True),
    "overrun": (Decimal(0), None, False),
}


def register(kind: str) -> Callable[[RateFn], RateFn]:
    """Register the function of a rate kind named in `template.RATE_KINDS` (which says what its spec must set)."""
    if kind not in RATE_KINDS:
        raise TypeError(f"rate kind {kind!r} is not in template.RATE_KINDS")  # a bug of ours, at import

    def add(fn: RateFn) -> RateFn:
        RATES[kind] = fn
        return fn

    return add


def in_dates(frame: pd.DataFrame, column: str, period: Period) -> pd.Series:
    """Rows whose date column falls on a day of the window."""
    col = frame[column]
    return (col >= pd.Timestamp(period.start)) & (col <= pd.Timestamp(period.end))


def in_times(frame: pd.DataFrame, column: str, period: Period) -> pd.Series:
    """Rows whose timestamp falls in [first day 00:00, day after the last day 00:00)."""
    col = frame[column]
    return (col >= pd.Timestamp(period.start_ts)) & (col < pd.Timestamp(period.end_ts))


def _filtered(inp: RateInput) -> pd.DataFrame:
    frame = inp.rows(inp.spec.table)
    for column, wanted in inp.spec.filter:
        values = frame[column]
        if isinstance(wanted, bool):
            mask = values.fillna(False) == wanted
        else:
            mask = values == wanted
        frame = frame[mask.astype(bool)]
    return frame


def unmatched(
    spec: RateSpec, frame: pd.DataFrame, vocabulary: Mapping[str, tuple[str, ...]], period: Period
) -> pd.DataFrame:
    """Rows of the window whose filter value matches no value any rate looks for, with the reason they are left out.

    (A value that only nearly matches one is an error when the table is read; these match nothing at all,
    e.g. a survey kind the template does not know.)
    """
    reasons = pd.Series(None, index=frame.index, dtype=object)
    for column, _ in spec.filter:
        known = vocabulary.get(column)
        if not known:
            continue
        values = frame[column]
        odd = values.notna() & ~values.isin(known)
        reasons = reasons.mask(
            odd & reasons.isna(), values.map(lambda v, c=column, k=known: f"{c} {v!r} matches none of {', '.join(k)}")
        )
    left = frame[reasons.notna()]
    moment = spec.date or spec.start
    if moment and len(left):
        left = left[in_times(left, moment, period)]
    return _left_out(left, reasons[left.index])


EXCLUDED_BY_PARAMS = "excluded by the params: "  # the reason of a row `tables.<table>.exclude` leaves out, then its own


def excluded_by_params(spec: RateSpec | None, frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The rows the params exclude by key (`frame`, with their `reason`) that a rate would have looked at.

    Those whose filter values are the rate's (or empty: a cell that did not parse is not guessed away) and
    whose window column falls in the period (or is empty); a rate without a window column (`lost_share`)
    looks at all. `spec` None: every row. Their reason reads `excluded by the params: <the params' reason>`.
    """
    if not len(frame):
        return frame
    keep = pd.Series(True, index=frame.index)
    if spec is not None:
        for column, wanted in spec.filter:
            values = frame[column]
            keep &= (values.isna() | (values == wanted)).fillna(False).astype(bool)
        moment = spec.date or spec.start
        if moment:
            keep &= (frame[moment].isna() | in_times(frame, moment, period)).astype(bool)
    left = frame[keep.to_numpy(dtype=bool)]
    return _left_out(left, EXCLUDED_BY_PARAMS + left["reason"].astype(str))


def _excused(frame: pd.DataFrame, inp: RateInput) -> pd.Series:
    column = inp.spec.excused
    if not column:
        return pd.Series(False, index=frame.index)
    return frame[column].fillna(False).astype(bool)


def _excuse_reasons(frame: pd.DataFrame, excused: pd.Series, inp: RateInput) -> pd.Series | str:
    """Why each excused row is left out: "excused: <its reason>" when the table has a reason column."""
    column = inp.spec.reason
    if not column:
        return "excused"
    given: pd.Series[str] = frame.loc[excused, column].fillna("(no reason given)").astype(str)
    return "excused: " + given


def _left_out(frame: pd.DataFrame, reasons: pd.Series | str) -> pd.DataFrame:
    out = frame.copy()
    out["reason"] = reasons
    return out


def _with_outcome(frame: pd.DataFrame, outcome: pd.Series | str) -> pd.DataFrame:
    out = frame.copy()
    out["outcome"] = outcome
    return out


def _evidence(
    inp: RateInput,
    value: Decimal | None,
    num: Decimal | int,
    den: Decimal | int,
    rows: pd.DataFrame,
    excluded: pd.DataFrame | None = None,
    responses: int | None = None,
    **facts: Any,
) -> Evidence:
    table = inp.spec.table
    return Evidence(
        table=table,
        file=inp.file(table),
        value=value,
        numerator=Decimal(num),
        denominator=Decimal(den),
        rows=rows,
        excluded=excluded if excluded is not None else rows.iloc[0:0].assign(reason=pd.Series(dtype=object)),
        facts=facts,
        responses=responses,
    )


@register("unfinished_items")
def unfinished_items(inp: RateInput) -> Evidence:
    """CS01: items planned in the window, unfinished = not completed by the planned date; excused rows left out."""
    s = inp.spec
    frame = _filtered(inp)
    frame = frame[in_dates(frame, s.date, inp.period)]
    excused = _excused(frame, inp)
    counted = frame[~excused]
    unfinished = counted[s.done].isna() | (counted[s.done] > counted[s.date])
    outcome = pd.Series("finished", index=counted.index).mask(unfinished, "unfinished")
    reasons = _excuse_reasons(frame, excused, inp)
    n = int(unfinished.sum())
    value = Decimal(n) if len(frame) else None
    return _evidence(inp, value, n, len(frame), _with_outcome(counted, outcome), _left_out(frame[excused], reasons))


@register("score_share")
def score_share(inp: RateInput) -> Evidence:
    """CS02, CS10, CS12: responses scoring at least the satisfied mark / responses × 100."""
    s = inp.spec
    frame = _filtered(inp)
    frame = frame[in_dates(frame, s.date, inp.period)]
    satisfied = frame[s.score].map(lambda v: v >= inp.satisfied_min_score).astype(bool)
    outcome = pd.Series("satisfied", index=frame.index).mask(~satisfied, "not satisfied")
    n = int(satisfied.sum())
    rows = _with_outcome(frame, outcome)
    return _evidence(
        inp,
        percent(n, len(frame)),
        n,
        len(frame),
        rows,
        responses=len(frame),
        satisfied_min_score=inp.satisfied_min_score,
    )


@register("quantity_ratio")
def quantity_ratio(inp: RateInput) -> Evidence:
    """CS03: Σ actual / Σ planned × 100 over the window's rows that are not excused."""
    s = inp.spec
    frame = _filtered(inp)
    frame = frame[in_dates(frame, s.date, inp.period)]
    excused = _excused(frame, inp)
    counted = frame[~excused]
    actual = sum(counted[s.numerator], Decimal(0))
    planned = sum(counted[s.denominator], Decimal(0))
    short = (
        counted[s.numerator].combine(counted[s.denominator], lambda a, p: a < p)
        if len(counted)
        else pd.Series(dtype=bool)
    )
    outcome = pd.Series("complete", index=counted.index).mask(short.astype(bool), "short")
    reasons = _excuse_reasons(frame, excused, inp)
    return _evidence(
        inp,
        percent(actual, planned),
        actual,
        planned,
        _with_outcome(counted, outcome),
        _left_out(frame[excused], reasons),
    )


@register("on_time")
def on_time(inp: RateInput) -> Evidence:
    """CS04, CS05: answered within the deadline `sla` ("<N>h" real hours, "<N>wd" working days).

    Both ends are turned into instants in the params' time zone (`kpi_lib.inputs.zones`): across a daylight-saving
    change 24h is 24 real hours, not 24 hours of wall clock. A working-day deadline falls at the end of the
    N-th working day of the department's calendar, local time. The `deadline` column shows local wall-clock
    time; `hours_taken` is real elapsed time."""
    s = inp.spec
    if not inp.sla:
        raise DataError(
            f"{s.table}: no response deadline (sla) set; it is a prerequisite of this indicator",
            file=inp.file(s.table),
            code=Code.MISSING_PREREQUISITE,
        )
    parts = sla_parts(inp.sla)
    if parts is None:
        raise DataError(
            f"deadline {inp.sla!r} is not valid; expected <N>h or <N>wd", file=inp.file(s.table), code=Code.BAD_SLA
        )
    amount, unit = parts
    frame = _filtered(inp)
    frame = frame[in_times(frame, s.start, inp.period)].copy()
    start: pd.Series[pd.Timestamp] = frame[s.start]
    end: pd.Series[pd.Timestamp] = frame[s.end]
    zone = inp.timezone
    start_at = instants(start, zone, frame.get(fold_column(s.start)))
    end_at = instants(end, zone, frame.get(fold_column(s.end)))
    if unit == "h":
        due_at = start_at + pd.Timedelta(hours=amount)
        ok = end.notna() & (end_at <= due_at)
        deadline = wall_clock(due_at, zone)
    else:
        deadline = inp.calendar.deadlines(start, amount)  # the next local midnight
        ok = end.notna() & (end_at < day_ends(deadline, zone))
        deadline = deadline - pd.Timedelta(seconds=1)
    frame["deadline"] = deadline
    taken: pd.Series[pd.Timedelta] = end_at - start_at
    frame["hours_taken"] = taken / pd.Timedelta(hours=1)
    outcome = pd.Series("on time", index=frame.index).mask(~ok.astype(bool), "late").mask(end.isna(), "unanswered")
    n = int(ok.sum())
    facts: dict[str, Any] = {"sla": inp.sla}
    if unit == "wd":
        facts["calendar"] = inp.calendar.code
    return _evidence(inp, percent(n, len(frame)), n, len(frame), _with_outcome(frame, outcome), **facts)


@register("distinct_done")
def distinct_done(inp: RateInput) -> Evidence:
    """CS06, CS09: distinct entities planned in the window; done when a done date is not after the window's end."""
    s = inp.spec
    frame = _filtered(inp)
    frame = frame[in_dates(frame, s.date, inp.period)]
    done = frame[s.done].notna() & (frame[s.done] <= pd.Timestamp(inp.period.end))
    per_entity = done.groupby(frame[s.entity]).any() if len(frame) else pd.Series(dtype=bool)
    outcome = (
        pd.Series("done", index=frame.index)
        .mask(~done, "not done")
        .mask(frame[s.done] > pd.Timestamp(inp.period.end), "done after the window")
    )
    n = int(per_entity.sum())
    return _evidence(
        inp, percent(n, len(per_entity)), n, len(per_entity), _with_outcome(frame, outcome), planned_rows=len(frame)
    )


@register("flag_share")
def flag_share(inp: RateInput) -> Evidence:
    """CS07: rows whose flag is true / all rows in the window; an unresolved row (no `done`) never counts.

    A resolved row with an empty flag is an error: whether the customer was satisfied is not guessed.
    """
    s = inp.spec
    frame = _filtered(inp)
    frame = frame[in_times(frame, s.date, inp.period)]
    resolved = frame[s.done].notna() if s.done else pd.Series(True, index=frame.index)
    unknown = frame[resolved & frame[s.flag].isna()]
    if len(unknown):  # an empty cell is not a "no": never guessed
        file = inp.file(s.table)
        raise DataError(
            [
                Problem(
                    file=file,
                    row=int(r),
                    column=s.flag,
                    message=f"empty, but the row is resolved ({s.done} is set); expected true or false",
                    code=Code.EMPTY_VALUE,
                )
                for r in unknown["_row"]
            ]
        )
    flag = frame[s.flag].fillna(False).astype(bool) & resolved
    outcome = pd.Series("satisfied", index=frame.index).mask(~flag, "not satisfied").mask(~resolved, "unresolved")
    n = int(flag.sum())
    return _evidence(inp, percent(n, len(frame)), n, len(frame), _with_outcome(frame, outcome))


@register("lost_share")
def lost_share(inp: RateInput) -> Evidence:
    """CS08: accounts active at the window's start; value = those lost within the window / active × 100."""
    s = inp.spec
    frame = _filtered(inp)
    start, end = pd.Timestamp(inp.period.start), pd.Timestamp(inp.period.end)
    since, lost = frame[s.since], frame[s.lost]
    active = frame[(since <= start) & (lost.isna() | (lost >= start))]
    lost_in = active[s.lost].notna() & (active[s.lost] <= end)
    outcome = pd.Series("kept", index=active.index).mask(lost_in, "lost")
    n = int(lost_in.sum())
    return _evidence(inp, percent(n, len(active)), n, len(active), _with_outcome(active, outcome))


@register("overrun")
def overrun(inp: RateInput) -> Evidence:
    """CS11: max(0, Σ unapproved spending in the window − budget) / budget × 100; approved overruns left out."""
    s = inp.spec
    frame = _filtered(inp)
    frame = frame[in_dates(frame, s.date, inp.period)]
    approved = frame[s.approved].fillna(False).astype(bool)
    counted = frame[~approved]
    spent = sum(counted[s.amount], Decimal(0))
    budget_table = s.budget_table
    budgets = inp.rows(budget_table)
    matching = budgets[budgets["period"] == str(inp.period)]
    file = inp.file(budget_table)
    if matching.empty:
        held = sorted({str(p) for p in budgets["period"]})
        holds = (
            f" (this department's rows are for {', '.join(held[:6])}{' …' if len(held) > 6 else ''})" if held else ""
        )
        raise DataError(
            [
                Problem(
                    file=file,
                    column="period",
                    message=f"no budget row for period {inp.period}; expected one row with this department and period {inp.period}{holds}",
                    code=Code.MISSING_ROW,
                )
            ]
        )
    budget = matching.iloc[0]["amount"]
    if budget <= 0:
        row = int(matching.iloc[0]["_row"])
        raise DataError(
            [
                Problem(
                    file=file,
                    row=row,
                    column="amount",
                    value=str(budget),
                    message="expected a budget above 0 (the overrun is a percentage of it)",
                    code=Code.OUT_OF_RANGE,
                )
            ]
        )
    over = max(Decimal(0), spent - budget)
    approved_sum = sum(frame.loc[approved, s.amount], Decimal(0))
    return _evidence(
        inp,
        percent(over, budget),
        over,
        budget,
        _with_outcome(counted, "counted"),
        _left_out(frame[approved], "overrun approved by senior management"),
        spent=spent,
        budget=budget,
        approved=approved_sum,
        budget_row=int(matching.iloc[0]["_row"]),
        budget_file=file,
    )


def observe(indicator_id: str, period: Period, observations: pd.DataFrame, file: str, kind: str = "") -> Evidence:
    """The `observation` method: the one recorded value of this indicator, department and period.

    The value must be one the indicator's rate kind can produce (`VALUE_RANGES`): a percentage
    from 0 to 100, an overrun of at least 0, a whole count.
    """
    rows = observations[(observations["indicator"] == indicator_id) & (observations["period"] == str(period))]
    if rows.empty:
        raise DataError(
            [
                Problem(
                    file=file,
                    column="indicator",
                    message=f"no observation of {indicator_id} for period {period}; expected one row (method: observation)",
                    code=Code.MISSING_ROW,
                )
            ]
        )
    if len(rows) > 1:
        listed = ", ".join(str(r) for r in rows["_row"])
        raise DataError(
            [
                Problem(
                    file=file,
                    row=int(rows.iloc[1]["_row"]),
                    column="indicator",
                    message=f"{len(rows)} observations of {indicator_id} for period {period} (rows {listed}); expected one",
                    code=Code.DUPLICATE_KEY,
                )
            ]
        )
    row = rows.iloc[0]
    value = Decimal(row["value"])
    low, high, whole = VALUE_RANGES.get(kind, PERCENT)
    if value < low or (high is not None and value > high) or (whole and value != value.to_integral_value()):
        expected = ("a whole number" if whole else "a number") + (
            f" from {low} to {high}" if high is not None else f" of at least {low}"
        )
        raise DataError(
            [
                Problem(
                    file=file,
                    row=int(row["_row"]),
                    column="value",
                    value=str(row["value"]),
                    message=f"not a possible value of {indicator_id}; expected {expected} ({kind})",
                    code=Code.OUT_OF_RANGE,
                )
            ]
        )
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    collected = row["collected_on"]
    responses = row.get("responses")
    return Evidence(
        table="observations",
        file=file,
        value=value,
        numerator=None,
        denominator=None,
        rows=_with_outcome(rows, "observed"),
        excluded=rows.iloc[0:0].assign(reason=pd.Series(dtype=object)),
        facts={
            "collector": _text(row["collector"]),
            "collected_on": None if pd.isna(collected) else collected.date().isoformat(),
            "source": _text(row["source"]),
            "note": _text(row["note"]),
            "row": int(row["_row"]),
        },
        responses=None if responses is None or pd.isna(responses) else int(responses),
    )


def _text(value: Any) -> str | None:
    """A text cell of a frame (pandas `str`: NaN when empty) as the fact shown: the text, or None."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
