"""Appraise one department for one period: rates → scores → weighted total → grade.

`appraise(department, period)` reads each needed table once, checks every
problem of those tables for this department first (all reported together),
then computes each indicator of the template in order. It returns a
`Scorecard` whose `to_json()` is exactly the result object (`result.json`).

Group notebooks call `appraise(..., groups=["service"])` and record the
indicator objects; the scorecard notebook combines recorded objects with
`combine()`, the same function `appraise` uses, so the total can never be
computed two ways.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pandas as pd

from ..base.errors import Code, DataError, Problem
from ..inputs.params import Department, IndicatorParams, Params
from ..inputs.period import Period
from ..inputs.scope import Scope
from ..inputs.scope import method_of as method_in_force
from ..inputs.tables import DataFolder
from ..inputs.template import OBSERVATIONS, Indicator
from .rates import RATES, Evidence, RateInput, excluded_by_params, observe, unmatched
from .result import DepartmentResult, Explanation, IndicatorRecord
from .scoring import Rule, Scored, grade_of, score, weighted_total
from .statistics import wilson


@dataclass(frozen=True)
class IndicatorResult:
    indicator: Indicator
    params: IndicatorParams
    method: str
    status: str
    evidence: Evidence
    scored: Scored | None

    @property
    def id(self) -> str:
        return self.indicator.id

    @property
    def score(self) -> Decimal | None:
        return None if self.scored is None else self.scored.score

    @property
    def value(self) -> Decimal | None:
        return self.evidence.value

    @property
    def excluded_rows(self) -> int:
        return len(self.evidence.excluded)

    def record(self, explain: Explanation | None = None) -> IndicatorRecord:
        """This indicator's record (the result object's), with its explanation when given."""
        ev, interval = self.evidence, self.interval
        return IndicatorRecord(
            id=self.id,
            group=self.indicator.group,
            weight=self.params.weight,
            direction=self.indicator.direction,
            target=self.params.target,
            value=ev.value,
            numerator=ev.numerator,
            denominator=ev.denominator,
            steps=self.scored.steps if self.scored else None,
            score=self.score,
            status=self.status,
            excluded_rows=self.excluded_rows,
            n=ev.responses,
            ci_low=interval[0] if interval else None,
            ci_high=interval[1] if interval else None,
            explain=explain,
        )

    def to_json(self) -> dict[str, Any]:
        """The indicator object of `result.json`."""
        return self.record().to_json()

    @property
    def interval(self) -> tuple[Decimal, Decimal] | None:
        """The 95% Wilson interval of a survey-based rate, in percent; None for other indicators."""
        ev = self.evidence
        n = ev.responses
        if not n or ev.value is None or self.indicator.direction == "count":
            return None
        exact = ev.numerator / ev.denominator if ev.numerator is not None and ev.denominator else ev.value / 100
        return wilson(min(max(exact, Decimal(0)), Decimal(1)), n)


@dataclass(frozen=True)
class Summary:
    """The weighted total of the scored indicators and its grade."""

    total: Decimal | None
    grade: str | None
    label: str
    scored_weight: Decimal
    excluded: tuple[str, ...]


@dataclass(frozen=True)
class Scorecard:
    department: str
    name: str
    period: Period
    params: Params
    results: tuple[IndicatorResult, ...]
    summary: Summary | None = None
    files: Mapping[str, str | None] = field(default_factory=dict)

    def result(self) -> DepartmentResult:
        """The department's result record (`result.json`); total and grade are None for a part (`groups`) of the template."""
        summary = self.summary
        return DepartmentResult(
            department=self.department,
            period=self.period,
            total=summary.total if summary else None,
            grade=summary.grade if summary else None,
            indicators=tuple(r.record() for r in self.results),
        )

    def to_json(self) -> dict[str, Any]:
        """The object `kpi score --json` prints (`result.json`)."""
        return self.result().to_json()


def method_of(indicator: Indicator, spec: IndicatorParams) -> str:
    """The collection method in force: the params' choice, else the template's first computed method."""
    return method_in_force(indicator, spec)


def tables_needed(params: Params, indicators: Iterable[Indicator]) -> list[str]:
    needed: list[str] = []
    for ind in indicators:
        names = ("observations",) if method_of(ind, params.indicators[ind.id]) == "observation" else ind.tables()
        needed.extend(n for n in names if n not in needed)
    return needed


def appraise(
    department: Department,
    period: Period,
    *,
    groups: Sequence[str] | None = None,
    data: DataFolder | None = None,
) -> Scorecard:
    """Compute every indicator (of `groups`, or all) of one department for one period."""
    params = department.for_period(period)
    data = data or DataFolder.of(department, period)
    indicators = [i for i in department.template.indicators if groups is None or i.group in groups]
    needed = tables_needed(params, indicators)
    data.check(params.department, needed, Scope.of(department.template, params, period))
    results: list[IndicatorResult] = []
    problems: list[Problem] = []
    for ind in indicators:
        try:
            results.append(evaluate(ind, params, period, data))
        except DataError as exc:
            problems.extend(data.locate(p) for p in exc.problems)
    if problems:
        raise DataError(problems)
    summary = combine([r.record() for r in results], params) if groups is None else None
    files = {name: data.table(name).sha256 for name in needed}
    return Scorecard(params.department, params.name, period, params, tuple(results), summary, files)


def evaluate(ind: Indicator, params: Params, period: Period, data: DataFolder) -> IndicatorResult:
    spec = params.indicators[ind.id]
    method = method_of(ind, spec)
    policy = params.policy
    dept = params.department
    if method == "observation":
        table = data.table(OBSERVATIONS)
        evidence = observe(ind.id, period, table.rows_of(dept), table.file, ind.rate.kind)
        left = table.excluded_of(dept)
        mine = (left["indicator"].isna() | (left["indicator"] == ind.id)) & (
            left["period"].isna() | (left["period"] == str(period))
        )
        evidence = _with_excluded(evidence, excluded_by_params(None, left[mine.astype(bool)], period))
    else:
        rate = RATES[ind.rate.kind]
        evidence = rate(
            RateInput(
                spec=ind.rate,
                period=period,
                rows=lambda name: data.table(name).rows_of(dept),
                file=lambda name: data.table(name).file,
                satisfied_min_score=policy.satisfied_min_score,
                sla=spec.sla,
                timezone=params.timezone,
                calendar=params.working_calendar,
            )
        )
        source = data.table(ind.table)
        left = unmatched(ind.rate, source.rows_of(dept), source.rules.vocabulary, period)
        evidence = _with_excluded(evidence, left)
        evidence = _with_excluded(evidence, excluded_by_params(ind.rate, source.excluded_of(dept), period))
    rule = Rule(ind.direction, spec.target, spec.step, spec.penalty, spec.bonus, spec.per_item)
    if evidence.value is not None:
        scored = score(
            evidence.value, rule, rounding=policy.step_rounding, min_score=policy.min_score, max_score=policy.max_score
        )
        return IndicatorResult(ind, spec, method, "observed" if method == "observation" else "scored", evidence, scored)
    if policy.on_empty == "error":
        raise DataError(
            [
                Problem(
                    file=evidence.file,
                    message=f"{ind.id} has no rows in period {period} for department {dept} (policy on_empty: error)",
                    code=Code.NO_ROWS_IN_PERIOD,
                )
            ]
        )
    if policy.on_empty == "exclude":
        return IndicatorResult(ind, spec, method, "excluded", evidence, None)
    fixed = Decimal(100) if policy.on_empty == "full" else Decimal(0)
    fixed = min(max(fixed, policy.min_score), policy.max_score)
    return IndicatorResult(
        ind, spec, method, "scored", evidence, Scored(score=fixed, steps=None, short=False, raw=fixed, clamped=False)
    )


def _with_excluded(evidence: Evidence, left: pd.DataFrame) -> Evidence:
    """`evidence` with the rows `left` (each with its reason) added to the rows left out."""
    if not len(left):
        return evidence
    return replace(evidence, excluded=pd.concat([evidence.excluded, left]) if len(evidence.excluded) else left)


def combine(indicators: Sequence[IndicatorRecord], params: Params) -> Summary:
    """Weighted total and grade of indicator records (recorded by the group notebooks, or just computed)."""
    pairs = [(item.weight, item.score) for item in indicators if item.counts and item.score is not None]
    excluded = tuple(item.id for item in indicators if item.status == "excluded")
    total = weighted_total(pairs)
    grade = grade_of(total, [(b.grade, b.min) for b in params.grades]) if total is not None else None
    label = next((b.label for b in params.grades if b.grade == grade), "")
    return Summary(total, grade, label, sum((w for w, _ in pairs), Decimal(0)), excluded)
