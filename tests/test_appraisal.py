"""Appraising one department for one period (kpi_lib/scoring/appraisal.py): indicators in order, on_empty, the weighted
total and grade (`combine`), the SPEC §7 objects, and agreement with an independent computation."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from kpi_lib import DataError, Period, appraise, combine, load_params, load_template
from kpi_lib.scoring.appraisal import method_of, tables_needed
from kpi_lib.scoring.result import INDICATOR_KEYS, RESULT_KEYS, IndicatorRecord, json_number, json_real

from . import independent
from .conftest import Company, fast_sample, messages

Q4 = Period.parse("2026-Q4")


@pytest.mark.parametrize(
    ("department", "period"),
    fast_sample(  # the fast run: cs-east 2026-10, cs-north 2026-Q4, cs-west 2026-H1
        [
            pytest.param(d, p, id=f"{d}-{p}")
            for d in ("cs-east", "cs-north", "cs-west")
            for p in ("2026-10", "2026-Q4", "2026-H1", "2026")
        ],
        every=5,
    ),
)
def test_agrees_with_an_independent_computation(demo_dir: Path, department: str, period: str) -> None:
    path = demo_dir / "params" / f"{department}.yaml"
    card = appraise(load_params(path), Period.parse(period)).to_json()
    expected = independent.score_card(path, period)
    got = {i["id"]: (i["value"], i["score"], i["status"], i["excluded_rows"]) for i in card["indicators"]}
    assert got == expected["indicators"]
    assert (card["total"], card["grade"]) == (expected["total"], expected["grade"])


@pytest.mark.parametrize(
    ("policy", "status", "score", "total_counts"),
    [("exclude", "excluded", None, False), ("full", "scored", 100.0, True), ("zero", "scored", 0.0, True)],
)
def test_on_empty_policies(company: Company, policy: str, status: str, score: float | None, total_counts: bool) -> None:
    company.table("communications", messages(187, 13))
    card = appraise(load_params(company.params(policy={"on_empty": policy})), Period.parse("2026-Q4")).to_json()
    cs07 = next(i for i in card["indicators"] if i["id"] == "CS07")
    assert (cs07["status"], cs07["score"], cs07["value"]) == (status, score, None)
    scored = [i for i in card["indicators"] if i["status"] in ("scored", "observed")]
    expected = round(sum(i["weight"] * i["score"] for i in scored) / sum(i["weight"] for i in scored) + 1e-9, 2)
    assert card["total"] == pytest.approx(expected, abs=0.005)
    assert any(i["id"] == "CS07" for i in scored) is total_counts


def test_on_empty_error_fails_the_department(company: Company) -> None:
    with pytest.raises(DataError, match="CS0.*no rows in period 2026-Q4.*on_empty: error"):
        appraise(load_params(company.params(policy={"on_empty": "error"})), Period.parse("2026-Q4"))


def test_custom_grade_bands(company: Company) -> None:
    company.table("communications", messages(187, 13))
    grades = [
        {"grade": "S", "min": 99, "label": "卓越"},
        {"grade": "P", "min": 50, "label": "通过"},
        {"grade": "F", "min": 0, "label": "未通过"},
    ]
    card = appraise(load_params(company.params(grades=grades)), Period.parse("2026-Q4")).to_json()
    assert card["total"] == 99.0  # (98 × 8 + 100 × 8) / 16: CS04 and CS11; the empty indicators drop out
    assert card["grade"] == "S"


def test_tables_are_read_once_per_department(company: Company, monkeypatch: pytest.MonkeyPatch) -> None:
    import kpi_lib.inputs.tables as tables

    reads: list[str] = []
    original = tables.read_raw
    monkeypatch.setattr(tables, "read_raw", lambda path, **kw: reads.append(path.name) or original(path, **kw))
    appraise(load_params(company.params()), Period.parse("2026-Q4"))
    assert sorted(reads) == sorted(
        set(reads)
    )  # surveys feeds CS02, CS10 and CS12, revisits CS06 and CS09: read once each
    assert "surveys.csv" in reads and "revisits.csv" in reads


# -- the weighted total and grade -----------------------------------------------------------
def item(iid: str, weight: float, score: float | None, status: str = "scored") -> IndicatorRecord:
    """An indicator record as a group notebook records it (`combine` reads its weight, score and status)."""
    return IndicatorRecord.from_json(
        {
            "id": iid, "group": "g", "weight": weight, "direction": "higher", "target": None, "value": None,
            "numerator": None, "denominator": None, "steps": None, "score": score, "status": status,
            "excluded_rows": 0, "n": None, "ci_low": None, "ci_high": None,
        },
        "test",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("items", "total", "grade", "label", "scored_weight", "excluded"),
    [
        pytest.param([item("A", 60, 100), item("B", 40, 50)], "80.00", "B", "良好", 100, (), id="weighted mean"),
        pytest.param(
            [item("A", 60, 100), item("C", 20, None, "excluded"), item("B", 40, 50)],
            "80.00",
            "B",
            "良好",
            100,
            ("C",),
            id="an excluded weight drops out",
        ),
        pytest.param(
            [item("A", 50, 80, "observed"), item("B", 50, 80.01)], "80.01", "B", "良好", 100, (), id="half-up"
        ),
        pytest.param(
            [item("A", 50, 90), item("B", 50, 89.99)], "90.00", "A", "优秀", 100, (), id="graded after rounding"
        ),
        pytest.param([item("A", 3, 59.99)], "59.99", "E", "不合格", 3, (), id="below every band but the last"),
        pytest.param([item("A", 8, None, "excluded")], None, None, "", 0, ("A",), id="nothing scored"),
        pytest.param([item("A", 0, 100)], None, None, "", 0, (), id="weights all zero"),
    ],
)
def test_combine(
    company: Company,
    items: list[IndicatorRecord],
    total: str | None,
    grade: str | None,
    label: str,
    scored_weight: int,
    excluded: tuple[str, ...],
) -> None:
    summary = combine(items, load_params(company.params()).for_period(Q4))
    assert summary.total == (None if total is None else Decimal(total))
    assert (summary.grade, summary.label, summary.scored_weight, summary.excluded) == (
        grade,
        label,
        scored_weight,
        excluded,
    )


def test_combine_takes_the_params_bands_and_labels(company: Company) -> None:
    grades = [{"grade": "甲", "min": 85, "label": "上"}, {"grade": "乙", "min": 0, "label": "下"}]
    params = load_params(company.params(grades=grades)).for_period(Q4)
    assert (combine([item("A", 1, 85)], params).grade, combine([item("A", 1, 85)], params).label) == ("甲", "上")
    assert combine([item("A", 1, 84.99)], params).label == "下"


def test_appraise_totals_its_own_indicators_with_combine(company: Company) -> None:
    company.table("communications", messages(187, 13))
    department = load_params(company.params())
    card = appraise(department, Q4)
    again = combine(card.result().indicators, department.for_period(Q4))
    assert card.summary == again
    assert card.to_json()["total"] == 99.0 and card.to_json()["grade"] == "A"


# -- which indicators, which method, which tables -------------------------------------------
def test_groups_score_only_their_indicators_and_give_no_total(company: Company) -> None:
    department = load_params(company.params())
    card = appraise(department, Q4, groups=["service"])
    service = [i.id for i in department.template.indicators if i.group == "service"]
    assert service and [r.id for r in card.results] == service
    assert card.summary is None
    assert (card.to_json()["total"], card.to_json()["grade"]) == (None, None)
    assert [i["id"] for i in appraise(department, Q4).to_json()["indicators"]] == [f"CS{n:02d}" for n in range(1, 13)]


@pytest.mark.parametrize(
    ("iid", "chosen", "expected"),
    [
        ("CS01", None, "records"),  # the template lists [observation, records]: the first computed method
        ("CS12", None, "survey"),  # [observation, survey]
        ("CS04", None, "records"),  # [records, survey]
        ("CS02", "observation", "observation"),  # the params' choice wins
        ("CS04", "survey", "survey"),
    ],
)
def test_method_of(company: Company, iid: str, chosen: str | None, expected: str) -> None:
    department = load_params(company.params(indicators={iid: {"method": chosen}} if chosen else {}))
    indicator = department.template.indicator(iid)
    assert method_of(indicator, department.for_period(Q4).indicators[iid]) == expected


def test_method_of_an_indicator_that_can_only_be_observed(company: Company) -> None:
    cs01 = load_template().indicator("CS01")
    observed_only = replace(cs01, methods=("observation",))
    spec = load_params(company.params()).for_period(Q4).indicators["CS01"]
    assert (method_of(cs01, spec), method_of(observed_only, spec)) == ("records", "observation")


def test_tables_needed_once_each_in_template_order(company: Company) -> None:
    department = load_params(company.params())
    needed = tables_needed(department.for_period(Q4), department.template.indicators)
    assert len(needed) == len(set(needed))
    assert needed[:3] == ["policy_plan", "surveys", "work_plan"]  # CS01, CS02, CS03 (surveys again for CS10, CS12)
    assert {"expenses", "budgets"} <= set(needed) and "observations" not in needed
    observed = load_params(company.params(indicators={"CS11": {"method": "observation"}}))
    needed = tables_needed(observed.for_period(Q4), observed.template.indicators)
    assert "observations" in needed and not {"expenses", "budgets"} & set(needed)


# -- on_empty bounds and problems -----------------------------------------------------------
@pytest.mark.parametrize(
    ("on_empty", "bounds", "score"), [("full", {"max_score": 90}, 90.0), ("zero", {"min_score": 10}, 10.0)]
)
def test_on_empty_scores_stay_within_the_policy_bounds(
    company: Company, on_empty: str, bounds: dict[str, int], score: float
) -> None:
    card = appraise(load_params(company.params(policy={"on_empty": on_empty, **bounds})), Q4).to_json()
    cs07 = next(i for i in card["indicators"] if i["id"] == "CS07")
    assert (cs07["status"], cs07["value"], cs07["score"], cs07["steps"]) == ("scored", None, score, None)


def test_every_indicators_problems_are_reported_together(company: Company) -> None:
    observed = {"CS02": {"method": "observation"}, "CS10": {"method": "observation"}}
    with pytest.raises(DataError) as caught:
        appraise(load_params(company.params(indicators=observed)), Q4)
    lines = caught.value.lines()
    assert any("no observation of CS02 for period 2026-Q4" in line for line in lines), lines
    assert any("no observation of CS10 for period 2026-Q4" in line for line in lines), lines


# -- the objects of SPEC §7 -----------------------------------------------------------------
def test_to_json_keys_in_spec_order(company: Company) -> None:
    company.table("communications", messages(96, 4))
    card = appraise(load_params(company.params()), Q4).to_json()
    assert tuple(card) == RESULT_KEYS
    assert card["window"] == {"start": "2026-10-01", "end": "2026-12-31"}
    assert all(tuple(i) == INDICATOR_KEYS for i in card["indicators"])
    cs04 = card["indicators"][3]
    assert (cs04["id"], cs04["value"], cs04["numerator"], cs04["denominator"], cs04["target"]) == (
        "CS04",
        96.0,
        96,
        100,
        95,
    )
    assert type(cs04["numerator"]) is int and type(cs04["value"]) is float


@pytest.mark.parametrize(
    ("value", "as_number", "as_real"),
    [
        (None, None, None),
        (Decimal("5"), 5, 5.0),
        (Decimal("5.00"), 5, 5.0),
        (Decimal("2.50"), 2.5, 2.5),
        (Decimal("-0.1"), -0.1, -0.1),
        (Decimal("100000"), 100000, 100000.0),
    ],
)
def test_number_and_real(value: Decimal | None, as_number: int | float | None, as_real: float | None) -> None:
    assert json_number(value) == as_number and type(json_number(value)) is type(as_number)
    assert json_real(value) == as_real and type(json_real(value)) is type(as_real)
