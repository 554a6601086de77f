"""Scoring arithmetic (SPEC §4): the worked examples at the rule level, and properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_lib.scoring.scoring import Rule, grade_of, round2, score, weighted_total

D = Decimal
CS04 = Rule("higher", target=D(95), step=D(1), penalty=D(2), bonus=D(1))


@pytest.mark.parametrize(
    ("value", "rule", "rounding", "steps", "expected"),
    [
        (D("93.50"), CS04, "floor", D(1), D("98.00")),
        (D("99.50"), CS04, "floor", D(4), D("104.00")),
        (D("93.50"), CS04, "exact", D("1.5"), D("97.00")),
        (D("93.50"), CS04, "ceil", D(2), D("96.00")),
        (D("7.50"), Rule("lower", target=D(5), step=D(1), penalty=D(3), bonus=D(1)), "floor", D(2), D("94.00")),
        (D("12.50"), Rule("lower", target=D(0), step=D(5), penalty=D(10), bonus=D(0)), "floor", D(2), D("80.00")),
        (D("66.67"), Rule("higher", target=D(90), step=D(1), penalty=D(5), bonus=D(1)), "floor", D(23), D("0.00")),
        (D(1), Rule("count", per_item=D(10)), "floor", None, D("90.00")),
        # boundaries: exactly on target, exactly one step, a fraction of a step
        (D("95.00"), CS04, "floor", D(0), D("100.00")),
        (D("94.00"), CS04, "floor", D(1), D("98.00")),
        (D("94.99"), CS04, "floor", D(0), D("100.00")),
        (D("94.99"), CS04, "ceil", D(1), D("98.00")),
    ],
)
def test_worked_examples(value: Decimal, rule: Rule, rounding: str, steps: Decimal | None, expected: Decimal) -> None:
    result = score(value, rule, rounding=rounding)
    assert result.steps == steps
    assert result.score == expected


def test_clamps_to_policy_bounds() -> None:
    assert score(D(100), CS04, max_score=D(102)).score == D("102.00")
    assert score(D(100), CS04, max_score=D(102)).clamped
    assert score(D(0), CS04, min_score=D(20)).score == D("20.00")


def test_count_below_zero_is_clamped() -> None:
    assert score(D(30), Rule("count", per_item=D(10))).score == D("0.00")


def test_exact_rounding_keeps_cents_half_up() -> None:
    # 1/3 of a step × 2 points = 0.666… → 99.33 (half-up at the cent)
    result = score(D("94.6666666"), CS04, rounding="exact")
    assert result.score == D("99.33")


def test_weighted_total_drops_excluded_weights() -> None:
    assert weighted_total([(D(8), D(98)), (D(10), D(100))]) == round2(D(8 * 98 + 10 * 100) / 18)
    assert weighted_total([]) is None


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (D("90.00"), "A"),
        (D("89.99"), "B"),
        (D("80"), "B"),
        (D("70"), "C"),
        (D("60"), "D"),
        (D("59.99"), "E"),
        (D(0), "E"),
    ],
)
def test_default_grade_bands(total: Decimal, grade: str) -> None:
    bands = [("A", D(90)), ("B", D(80)), ("C", D(70)), ("D", D(60)), ("E", D(0))]
    assert grade_of(total, bands) == grade


values = st.decimals(min_value=0, max_value=100, places=2)
rules = st.builds(
    Rule,
    direction=st.sampled_from(["higher", "lower"]),
    target=st.decimals(min_value=0, max_value=100, places=2),
    step=st.decimals(min_value=D("0.5"), max_value=10, places=1),
    penalty=st.decimals(min_value=0, max_value=10, places=1),
    bonus=st.decimals(min_value=0, max_value=5, places=1),
)
roundings = st.sampled_from(["floor", "ceil", "exact"])


@given(a=values, b=values, rule=rules, rounding=roundings)
def test_a_better_value_never_scores_lower(a: Decimal, b: Decimal, rule: Rule, rounding: str) -> None:
    worse, better = sorted((a, b)) if rule.direction == "higher" else sorted((a, b), reverse=True)
    assert score(better, rule, rounding=rounding).score >= score(worse, rule, rounding=rounding).score


@given(value=values, rule=rules, rounding=roundings, low=st.integers(0, 50), high=st.integers(100, 150))
def test_scores_stay_within_bounds(value: Decimal, rule: Rule, rounding: str, low: int, high: int) -> None:
    result = score(value, rule, rounding=rounding, min_score=D(low), max_score=D(high))
    assert D(low) <= result.score <= D(high)


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=D("0.5"), max_value=50, places=1), st.decimals(min_value=0, max_value=120, places=2)
        ),
        min_size=1,
        max_size=12,
    )
)
def test_total_lies_between_lowest_and_highest_score(items: list[tuple[Decimal, Decimal]]) -> None:
    total = weighted_total(items)
    assert total is not None
    scores = [s for _, s in items]
    assert min(scores) <= total <= max(scores)


@given(n=st.integers(0, 20), per_item=st.decimals(min_value=0, max_value=20, places=1))
def test_fewer_unfinished_items_never_score_lower(n: int, per_item: Decimal) -> None:
    rule = Rule("count", per_item=per_item)
    assert score(D(n), rule).score >= score(D(n + 1), rule).score
