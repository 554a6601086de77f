"""Scoring (计分标准): pure decimal functions, no I/O.

- `higher`: d = value − target; `lower`: d = target − value.
  d < 0: score = 100 − R(−d / step) × penalty; d ≥ 0: score = 100 + R(d / step) × bonus.
- `count`: score = 100 − n × per_item.
- Clamp to [min_score, max_score], round half-up to 2 decimals.
- R, the step rounding: `floor` (whole steps only), `ceil`, or `exact` (proportional).
- Total = Σ weight × score / Σ weight over scored indicators, rounded half-up to 2 decimals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

from ..base.errors import InternalError

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

STEP_ROUNDINGS: dict[str, Callable[[Decimal], Decimal]] = {
    "floor": lambda steps: steps.to_integral_value(rounding=ROUND_FLOOR),
    "ceil": lambda steps: steps.to_integral_value(rounding=ROUND_CEILING),
    "exact": lambda steps: steps,
}


def round2(number: Decimal) -> Decimal:
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rule:
    """The numbers of one indicator's 计分标准."""

    direction: str
    target: Decimal | None = None
    step: Decimal | None = None
    penalty: Decimal | None = None
    bonus: Decimal = Decimal(0)
    per_item: Decimal | None = None


@dataclass(frozen=True)
class Scored:
    """A score and how it came about: whole (or exact) steps short of or beyond the target, before clamping."""

    score: Decimal
    steps: Decimal | None
    short: bool
    raw: Decimal
    clamped: bool


def score(
    value: Decimal,
    rule: Rule,
    *,
    rounding: str = "floor",
    min_score: Decimal = Decimal(0),
    max_score: Decimal = Decimal(120),
) -> Scored:
    """Score one value on its 100-point scale (in an 80-digit context: bounded inputs never round or overflow)."""
    with localcontext() as context:
        context.prec = 80
        return _score(value, rule, rounding, min_score, max_score)


def _score(value: Decimal, rule: Rule, rounding: str, min_score: Decimal, max_score: Decimal) -> Scored:
    if rule.direction == "count":
        if rule.per_item is None:
            raise InternalError("a count rule without per_item (params validation requires it; please report it)")
        raw = HUNDRED - value * rule.per_item
        steps, short = None, value > 0
    else:
        if rule.target is None or rule.step is None or rule.penalty is None:
            raise InternalError(
                "a rule without target, step or penalty (params validation requires them; please report it)"
            )
        diff = value - rule.target if rule.direction == "higher" else rule.target - value
        steps = STEP_ROUNDINGS[rounding](abs(diff) / rule.step)
        short = diff < 0
        raw = HUNDRED - steps * rule.penalty if short else HUNDRED + steps * rule.bonus
    clamped = min(max(raw, min_score), max_score)
    return Scored(score=round2(clamped), steps=steps, short=short, raw=raw, clamped=clamped != raw)


def weighted_total(items: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Σ weight × score / Σ weight, rounded half-up; None when nothing was scored or the weights are all 0."""
    pairs = list(items)
    weights = sum((w for w, _ in pairs), Decimal(0))
    if not pairs or weights == 0:
        return None
    return round2(sum((w * s for w, s in pairs), Decimal(0)) / weights)


def grade_of(total: Decimal, bands: Sequence[tuple[str, Decimal]]) -> str | None:
    """The first band, highest minimum first, whose minimum the total reaches."""
    for grade, minimum in sorted(bands, key=lambda band: band[1], reverse=True):
        if total >= minimum:
            return grade
    return None
