"""Survey statistics: n and the 95% Wilson interval beside survey-based rates."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from kpi_lib import Period, appraise, load_params
from kpi_lib.scoring.statistics import wilson

from .conftest import Company


def wilson_float(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half) * 100, min(1.0, centre + half) * 100


@pytest.mark.parametrize(
    ("x", "n"), [(0, 1), (1, 1), (12, 18), (355, 450), (11, 15), (0, 30), (30, 30), (1, 3), (999, 1000)]
)
def test_agrees_with_an_independent_float_computation(x: int, n: int) -> None:
    low, high = wilson(Decimal(x) / Decimal(n), n)
    expected = wilson_float(x, n)
    assert abs(float(low) - expected[0]) <= 0.005 + 1e-9 and abs(float(high) - expected[1]) <= 0.005 + 1e-9
    assert low <= Decimal(x * 100) / n <= high


def test_needs_a_response() -> None:
    with pytest.raises(ValueError):
        wilson(Decimal(0), 0)


def test_survey_rates_carry_n_and_interval_others_do_not(company: Company) -> None:
    rows = [
        {"response_id": f"R{i}", "survey": "customer_satisfaction", "date": "2026-12-20", "score": 5 if i < 18 else 2}
        for i in range(20)
    ]
    company.table("surveys", rows)
    company.table(
        "complaints",
        [
            {
                "complaint_id": "K1",
                "received_at": "2026-10-01 09:00",
                "resolved_at": "2026-10-01 10:00",
                "satisfied": "是",
            }
        ],
    )
    card = appraise(load_params(company.params()), Period.parse("2026-Q4")).to_json()
    cs10 = next(i for i in card["indicators"] if i["id"] == "CS10")
    low, high = wilson_float(18, 20)
    assert cs10["n"] == 20 and abs(cs10["ci_low"] - low) < 0.006 and abs(cs10["ci_high"] - high) < 0.006
    cs07 = next(i for i in card["indicators"] if i["id"] == "CS07")
    assert (cs07["n"], cs07["ci_low"], cs07["ci_high"]) == (None, None, None)
    assert cs10["score"] == 100.0  # the interval never changes the score


def test_an_observation_with_its_number_of_responses(company: Company) -> None:
    from kpi_lib.batch.demo import TABLE_COLUMNS

    from .conftest import write_csv

    row = {
        "indicator": "CS02",
        "department": "cs-test",
        "period": "2026-Q4",
        "value": "90",
        "collector": "x",
        "responses": "40",
    }
    write_csv(company.data / "observations.csv", [*TABLE_COLUMNS["observations"], "responses"], [row])
    card = appraise(
        load_params(company.params(indicators={"CS02": {"method": "observation"}})), Period.parse("2026-Q4")
    ).to_json()
    cs02 = next(i for i in card["indicators"] if i["id"] == "CS02")
    low, high = wilson_float(36, 40)
    assert cs02["n"] == 40 and abs(cs02["ci_low"] - low) < 0.006 and abs(cs02["ci_high"] - high) < 0.006
