"""Parameters (SPEC §5): validation names the file, the key and what is expected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kpi_lib import ParamsError, Period, UsageError, load_params

from .conftest import Company


def problems(path: Path) -> list[str]:
    with pytest.raises(ParamsError) as caught:
        load_params(path)
    return caught.value.lines()


def test_spec_example_loads_with_exact_decimals(company: Company) -> None:
    dept = load_params(company.params(indicators={"CS04": {"target": 95.5}}))
    assert dept.base.indicators["CS04"].target == Decimal("95.5")
    assert dept.base.policy.step_rounding == "floor" and dept.base.policy.max_score == 120
    assert [b.grade for b in dept.base.grades] == ["A", "B", "C", "D", "E"]
    assert dept.data_folder == company.data.resolve()


def test_weights_must_sum_to_100(company: Company) -> None:
    lines = problems(company.params(indicators={"CS04": {"weight": 3}}))
    assert len(lines) == 1
    assert "cs-test.yaml: indicators: weights sum to 95, expected 100" in lines[0]
    assert "CS04=3" in lines[0] and "CS12=5" in lines[0]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"indicators": {"CS13": {"weight": 0}}}, "indicators.CS13: unknown indicator"),
        ({"indicators": {"CS04": {"sla": None}}}, "indicators.CS04.sla: missing prerequisite"),
        ({"indicators": {"CS04": {"sla": "tomorrow"}}}, "indicators.CS04.sla: found 'tomorrow', expected \"<N>h\""),
        ({"indicators": {"CS07": {"target": None}}}, "indicators.CS07.target: missing"),
        ({"indicators": {"CS07": {"step": -1}}}, "indicators.CS07.step: found -1, expected greater than 0"),
        (
            {"indicators": {"CS05": None}},
            "indicators.CS05: missing; every indicator of the template needs at least a weight",
        ),
        ({"indicators": {"CS01": {"per_item": None}}}, "indicators.CS01.per_item: missing"),
        ({"indicators": {"CS07": {"colour": "red"}}}, "indicators.CS07.colour: unknown key"),
        ({"indicators": {"CS07": {"method": "records"}}}, "indicators.CS07.method: 'records' is not a method of CS07"),
        ({"department": "../evil"}, "department: found '../evil', expected an id of lowercase letters"),
        ({"department": "cs/east"}, "department: found 'cs/east'"),
        (
            {"policy": {"step_rounding": "round"}},
            "policy.step_rounding: found 'round', expected 'floor', 'ceil' or 'exact'",
        ),
        ({"owner": "me"}, "owner: unknown key"),
        ({"calender": "US-NY"}, "calender: unknown key (did you mean calendar?); expected one of department, name"),
        ({"policy": {"on_emtpy": "full"}}, "policy.on_emtpy: unknown key (did you mean on_empty?); expected one of"),
        (
            {"tables": {"complaints": {"exlcude": {"K1": "x"}}}},
            "tables.complaints.exlcude: unknown key (did you mean exclude?); expected one of file, sql",
        ),
        ({"periods": {"2026-Q5": {}}}, "periods.2026-Q5: period '2026-Q5' is not valid"),
        (
            {"periods": {"2026-Q4": {"indicators": {"CS04": {"target": "high"}}}}},
            "periods.2026-Q4 → indicators.CS04.target",
        ),
        ({"grades": [{"grade": "A", "min": 50}]}, "grades: the lowest band's min is 50"),
    ],
)
def test_bad_params_name_file_key_and_expectation(company: Company, changes: dict, expected: str) -> None:
    path = company.params(**changes)
    lines = problems(path)
    assert any(expected in line for line in lines), lines
    assert all(line.startswith(str(path)) for line in lines)


def test_every_problem_is_reported_at_once(company: Company) -> None:
    lines = problems(
        company.params(indicators={"CS04": {"sla": None}, "CS07": {"target": None}, "CS13": {"weight": 1}})
    )
    assert len(lines) == 3


def test_missing_params_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("department: [unclosed\n", encoding="utf-8")
    assert "line 2: not valid YAML" in problems(path)[0]


def test_period_override(company: Company) -> None:
    dept = load_params(
        company.params(
            periods={"2026-Q4": {"indicators": {"CS04": {"target": 97}}, "policy": {"step_rounding": "exact"}}}
        )
    )
    q4 = dept.for_period(Period.parse("2026-Q4"))
    assert (
        q4.indicators["CS04"].target == 97 and q4.indicators["CS04"].weight == 8 and q4.indicators["CS04"].sla == "24h"
    )
    assert q4.policy.step_rounding == "exact"
    assert dept.for_period(Period.parse("2026-Q3")).indicators["CS04"].target == 95


def test_type_errors_and_template_demands_are_reported_together(company: Company) -> None:
    lines = problems(company.params(indicators={"CS04": {"weight": "eight", "sla": None}, "CS07": {"target": None}}))
    assert any("indicators.CS04.weight: found 'eight'" in line for line in lines)
    assert any("indicators.CS04.sla: missing prerequisite" in line for line in lines)
    assert any("indicators.CS07.target: missing" in line for line in lines)
