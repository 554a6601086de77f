"""The one typed result (kpi_lib.scoring.result): SPEC §7's JSON both ways, in the SPEC's key order, every field checked."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from kpi_lib import Period, appraise, load_params
from kpi_lib.base.errors import AuditError
from kpi_lib.scoring.result import INDICATOR_KEYS, RESULT_KEYS, DepartmentResult, GroupRecord, IndicatorRecord

from .conftest import Company


@pytest.fixture
def scored(company: Company) -> dict[str, Any]:
    """`kpi score --json` of a small company, with rows enough for every kind of number (whole, decimal, null)."""
    company.table(
        "surveys",
        [
            {
                "response_id": f"S{i}",
                "survey": "customer_satisfaction",
                "respondent": f"r{i}",
                "date": "2026-10-05",
                "score": s,
            }
            for i, s in enumerate([5, 4, 3, 5, 2, 4, 5])
        ],
    )
    company.table(
        "communications",
        [
            {"message_id": "M1", "customer_id": "C1", "created_at": "2026-10-02 09:00", "sent_at": "2026-10-02 10:00"},
            {"message_id": "M2", "customer_id": "C2", "created_at": "2026-10-03 09:00", "sent_at": "2026-10-05 10:00"},
        ],
    )
    card = appraise(load_params(company.params(policy={"on_empty": "exclude"})), Period.parse("2026-Q4"))
    return json.loads(json.dumps(card.to_json()))


def test_keys_in_spec_order(scored: dict[str, Any]) -> None:
    assert tuple(scored) == RESULT_KEYS
    assert list(scored["window"]) == ["start", "end"]
    assert all(tuple(item) == INDICATOR_KEYS for item in scored["indicators"])


def test_round_trip_is_exact(scored: dict[str, Any]) -> None:
    result = DepartmentResult.from_json(scored, "result.json")
    assert result.to_json() == scored
    assert json.dumps(result.to_json(), ensure_ascii=False) == json.dumps(scored, ensure_ascii=False)
    shuffled = {k: scored[k] for k in reversed(RESULT_KEYS)}  # an executed notebook stores sorted keys
    shuffled["indicators"] = [dict(sorted(i.items())) for i in scored["indicators"]]
    assert list(DepartmentResult.from_json(shuffled, "x").to_json()) == list(RESULT_KEYS)


def test_numbers_are_decimals_read_by_their_shortest_text(scored: dict[str, Any]) -> None:
    result = DepartmentResult.from_json(scored, "result.json")
    for record, item in zip(result.indicators, scored["indicators"], strict=True):
        for key in ("weight", "value", "score", "target"):
            value = getattr(record, key)
            assert value is None or (isinstance(value, Decimal) and value == Decimal(repr(item[key])))


def test_weight_is_whole_when_whole_and_value_always_has_a_point() -> None:
    record = IndicatorRecord(
        "X1", "g", Decimal("5.0"), "higher", Decimal(90), Decimal(100), Decimal(3), Decimal(3), Decimal(10),
        Decimal("110.00"), "scored", 0, None, None, None,
    )  # fmt: skip
    out = json.dumps(record.to_json())
    assert '"weight": 5,' in out and '"value": 100.0,' in out and '"score": 110.0,' in out and '"steps": 10,' in out


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


BROKEN = [
    (("total",), "96.5", "total"),
    (("total",), True, "total"),
    (("total",), float("nan"), "finite"),
    (("grade",), 3, "grade"),
    (("period",), "2026-Q5", "period"),
    (("window", "start"), "2026-01-01", "window"),
    (("indicators",), {}, "indicators"),
    (("indicators", 0, "score"), "100", "score"),
    (("indicators", 0, "weight"), None, "weight"),
    (("indicators", 0, "status"), "great", "status"),
    (("indicators", 0, "excluded_rows"), -1, "excluded_rows"),
    (("indicators", 0, "excluded_rows"), 1.5, "excluded_rows"),
    (("indicators", 0, "n"), False, "n"),
    (("indicators", 0, "id"), 7, "id"),
    (("indicators", 0, "ci_low"), KeyError, "ci_low is missing"),
    (("department",), KeyError, "department"),
]


@pytest.mark.parametrize(
    ("path", "value", "named"), BROKEN, ids=[f"{'.'.join(map(str, p))}={v!r}" for p, v, _ in BROKEN]
)
def test_a_field_not_as_kpi_writes_it_is_named(
    scored: dict[str, Any], path: tuple[Any, ...], value: Any, named: str
) -> None:
    with pytest.raises(AuditError) as raised:
        DepartmentResult.from_json(_set(scored, path, value), "outputs/2026-Q4/cs-test/result.json")
    text = str(raised.value)
    assert text.startswith("outputs/2026-Q4/cs-test/result.json: ") and named in text, text


def test_group_record_round_trip(scored: dict[str, Any]) -> None:
    result = DepartmentResult.from_json(scored, "x")
    group = GroupRecord("cs-test", result.period, "service", result.indicators[:2])
    again = GroupRecord.from_json(json.loads(json.dumps(group.to_json())), "service.ipynb")
    assert again == group
