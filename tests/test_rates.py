"""Rates from raw rows (SPEC §3) and the worked examples of SPEC §4, end to end through tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from kpi_lib import DataError, Period, appraise, load_params

from .conftest import Company, messages

Indicator = Callable[..., dict[str, Any]]


@pytest.mark.parametrize(
    ("on_time", "rounding", "value", "steps", "score"),
    [
        (187, "floor", 93.5, 1, 98.0),
        (199, "floor", 99.5, 4, 104.0),
        (187, "exact", 93.5, 1.5, 97.0),
        (187, "ceil", 93.5, 2, 96.0),
    ],
)
def test_cs04_worked_examples(
    company: Company, indicator: Indicator, on_time: int, rounding: str, value: float, steps: float, score: float
) -> None:
    company.table("communications", messages(on_time, 200 - on_time))
    result = indicator("CS04", policy={"step_rounding": rounding})
    assert (result["numerator"], result["denominator"]) == (on_time, 200)
    assert (result["value"], result["steps"], result["score"]) == (value, steps, score)


def test_cs08_worked_example(company: Company, indicator: Indicator) -> None:
    accounts = [
        {"account_id": f"A{i}", "since": "2025-01-01", "lost_on": "2026-11-15" if i < 3 else ""} for i in range(40)
    ]
    accounts += [
        {"account_id": "OLD", "since": "2024-01-01", "lost_on": "2026-09-30"},  # lost before the window: not active
        {"account_id": "NEW", "since": "2026-10-02", "lost_on": "2026-12-01"},  # joined after the start: not active
        {"account_id": "EDGE", "since": "2026-10-01", "lost_on": ""},  # since == start: active, kept
    ]
    company.table("key_accounts", accounts)
    result = indicator("CS08")
    assert (result["numerator"], result["denominator"]) == (3, 41)
    assert result["value"] == 7.32  # 3 / 41 = 7.317… → 7.32
    company.table("key_accounts", accounts[:40])
    result = indicator("CS08")
    assert (result["value"], result["steps"], result["score"]) == (7.5, 2, 94.0)


def test_cs01_worked_example(company: Company, indicator: Indicator) -> None:
    company.table(
        "policy_plan",
        [
            {"item_id": "P1", "planned_date": "2026-10-10", "completed_date": "2026-10-09", "excused": "否"},
            {"item_id": "P2", "planned_date": "2026-10-20", "completed_date": "2026-10-20"},
            {"item_id": "P3", "planned_date": "2026-11-10", "completed_date": "2026-11-30"},  # late: unfinished
            {
                "item_id": "P4",
                "planned_date": "2026-11-20",
                "completed_date": "",
                "excused": "是",
                "excuse_reason": "计划取消",
            },
            {"item_id": "P5", "planned_date": "2026-12-01", "completed_date": "2026-11-28"},
            {"item_id": "P6", "planned_date": "2026-09-30", "completed_date": ""},  # outside the window
        ],
    )
    result = indicator("CS01")
    assert (result["value"], result["numerator"], result["denominator"]) == (1, 1, 5)
    assert (result["score"], result["excluded_rows"], result["target"], result["steps"]) == (90.0, 1, None, None)


def test_cs11_worked_example(company: Company, indicator: Indicator) -> None:
    company.table(
        "expenses",
        [
            {"entry_id": "E1", "date": "2026-10-05", "amount": "100000.00", "approved_overrun": "false"},
            {"entry_id": "E2", "date": "2026-12-31", "amount": "12500", "approved_overrun": ""},
            {"entry_id": "E3", "date": "2026-11-05", "amount": "5000", "approved_overrun": "true"},
            {"entry_id": "E4", "date": "2027-01-01", "amount": "99999", "approved_overrun": "false"},  # outside
        ],
    )
    result = indicator("CS11")
    assert (result["value"], result["steps"], result["score"], result["excluded_rows"]) == (12.5, 2, 80.0, 1)
    assert (result["numerator"], result["denominator"]) == (12500, 100000)


def test_cs11_under_budget_is_zero_overrun(company: Company, indicator: Indicator) -> None:
    company.table("expenses", [{"entry_id": "E1", "date": "2026-10-05", "amount": "90000", "approved_overrun": "0"}])
    result = indicator("CS11")
    assert (result["value"], result["score"]) == (0.0, 100.0)


def test_cs11_without_budget_row_fails_naming_the_file(company: Company) -> None:
    # and names the periods the department's budget rows are for: a budget kept per quarter, checked for a year
    with pytest.raises(
        DataError, match=r"budgets\.csv.*no budget row for period 2026-Q3;.*rows are for 2026, .*2026-Q4\)"
    ):
        appraise(load_params(company.params()), Period.parse("2026-Q3"))


def test_cs07_worked_example_unresolved_counts_as_not_satisfied(company: Company, indicator: Indicator) -> None:
    company.table(
        "complaints",
        [
            {
                "complaint_id": "K1",
                "received_at": "2026-10-01 00:00",
                "resolved_at": "2026-10-02 10:00",
                "satisfied": "是",
            },
            {
                "complaint_id": "K2",
                "received_at": "2026-12-31 23:59:59",
                "resolved_at": "2027-01-02 10:00",
                "satisfied": "yes",
            },
            {"complaint_id": "K3", "received_at": "2026-11-01 08:00", "resolved_at": "", "satisfied": ""},
            {
                "complaint_id": "K4",
                "received_at": "2027-01-01 00:00",
                "resolved_at": "2027-01-01 01:00",
                "satisfied": "1",
            },
        ],
    )
    result = indicator("CS07")
    assert (result["numerator"], result["denominator"], result["value"]) == (2, 3, 66.67)
    assert (result["steps"], result["score"]) == (23, 0.0)


def test_cs02_cs10_cs12_share_their_table_by_survey(company: Company, indicator: Indicator) -> None:
    rows = []
    for survey, scores in (
        ("policy_execution", [5, 4, 3]),
        ("customer_satisfaction", [5, 5, 5, 1]),
        ("assigned_tasks", [4]),
    ):
        rows += [
            {"response_id": f"{survey}-{i}", "survey": survey, "date": "2026-11-11", "score": s}
            for i, s in enumerate(scores)
        ]
    company.table("surveys", rows)
    assert indicator("CS02")["value"] == 66.67
    assert indicator("CS10")["value"] == 75.0
    assert indicator("CS12")["value"] == 100.0
    assert indicator("CS02", policy={"satisfied_min_score": 3})["value"] == 100.0


def test_cs03_sums_quantities_and_leaves_out_excused(company: Company, indicator: Indicator) -> None:
    company.table(
        "work_plan",
        [
            {"task_id": "T1", "due_date": "2026-10-31", "planned_qty": "10", "actual_qty": "9.5"},
            {"task_id": "T2", "due_date": "2026-11-30", "planned_qty": "30", "actual_qty": "30"},
            {
                "task_id": "T3",
                "due_date": "2026-12-01",
                "planned_qty": "60",
                "actual_qty": "0",
                "excused": "true",
                "excuse_reason": "cancelled",
            },
        ],
    )
    result = indicator("CS03")
    assert (result["numerator"], result["denominator"], result["value"], result["excluded_rows"]) == (
        39.5,
        40,
        98.75,
        1,
    )


def test_cs06_and_cs09_count_distinct_customers(company: Company, indicator: Indicator) -> None:
    company.table(
        "revisits",
        [
            {"customer_id": "C1", "key_account": "1", "planned_date": "2026-10-05", "done_date": ""},
            {"customer_id": "C1", "key_account": "1", "planned_date": "2026-11-05", "done_date": "2026-11-06"},
            {
                "customer_id": "C2",
                "key_account": "0",
                "planned_date": "2026-12-20",
                "done_date": "2027-01-03",
            },  # done after the window
            {"customer_id": "C3", "key_account": "否", "planned_date": "2026-12-20", "done_date": "2026-12-31"},
            {"customer_id": "C4", "key_account": "是", "planned_date": "2026-12-20", "done_date": ""},
        ],
    )
    cs06 = indicator("CS06")
    assert (cs06["numerator"], cs06["denominator"], cs06["value"]) == (2, 4, 50.0)
    cs09 = indicator("CS09")
    assert (cs09["numerator"], cs09["denominator"], cs09["value"]) == (1, 2, 50.0)


def test_working_day_deadline_across_national_day(company: Company, indicator: Indicator) -> None:
    # 2026: 10-01..10-07 off (10-06 and 10-07 substitute the working Sunday 09-20 and Saturday 10-10).
    # Received Wed 09-30, 2wd: working days after it are 10-08 (Thu) and 10-09 (Fri) → due end of 10-09.
    # Received Fri 10-09, 2wd: 10-10 is an adjusted working Saturday → 10-10 and 10-12 → due end of 10-12.
    rows = [
        {"feedback_id": "F1", "received_at": "2026-10-01 10:00", "responded_at": "2026-10-09 23:59:59"},  # on time
        {"feedback_id": "F2", "received_at": "2026-10-01 10:00", "responded_at": "2026-10-10 00:00"},  # late
        {
            "feedback_id": "F3",
            "received_at": "2026-10-09 17:00",
            "responded_at": "2026-10-12 18:00",
        },  # on time (Sat 10-10 works)
        {"feedback_id": "F4", "received_at": "2026-10-09 17:00", "responded_at": "2026-10-13 08:00"},  # late
        {"feedback_id": "F5", "received_at": "2026-10-02 10:00", "responded_at": ""},  # unanswered
    ]
    company.table("feedback", rows)
    result = indicator("CS05", indicators={"CS05": {"sla": "2wd"}})
    assert (result["numerator"], result["denominator"]) == (2, 5)


def test_working_day_deadline_across_adjusted_sunday(company: Company, indicator: Indicator) -> None:
    # Sunday 2026-09-20 is a working day: received Fri 09-18, 1wd → due end of Sun 09-20.
    company.table(
        "feedback",
        [
            {"feedback_id": "F1", "received_at": "2026-09-18 12:00", "responded_at": "2026-09-20 20:00"},
            {"feedback_id": "F2", "received_at": "2026-09-18 12:00", "responded_at": "2026-09-21 09:00"},
        ],
    )
    company.budget("cs-test", "2026-09", 1000)
    result = indicator("CS05", period="2026-09", indicators={"CS05": {"sla": "1wd"}})
    assert (result["numerator"], result["denominator"]) == (1, 2)


def test_hour_deadline_is_inclusive(company: Company, indicator: Indicator) -> None:
    company.table(
        "communications",
        [
            {"message_id": "M1", "created_at": "2026-10-01 00:00:00", "sent_at": "2026-10-02 00:00:00"},
            {"message_id": "M2", "created_at": "2026-10-01 00:00:00", "sent_at": "2026-10-02 00:00:01"},
        ],
    )
    assert indicator("CS04")["numerator"] == 1


def test_observation_method(company: Company, indicator: Indicator) -> None:
    company.table(
        "observations",
        [
            {
                "indicator": "CS02",
                "period": "2026-Q4",
                "value": "91.456",
                "collector": "督察员 李",
                "collected_on": "2026-12-14",
                "source": "高层主管",
                "note": "笔录",
            },
            {
                "indicator": "CS02",
                "period": "2026-Q3",
                "value": "50",
                "collector": "督察员 李",
                "collected_on": "2026-09-14",
                "source": "高层主管",
                "note": "",
            },
        ],
    )
    result = indicator("CS02", indicators={"CS02": {"method": "observation"}})
    assert (result["status"], result["value"], result["score"]) == ("observed", 91.46, 101.0)
    assert result["numerator"] is None and result["denominator"] is None


def test_observation_missing_or_twice_is_an_error(company: Company) -> None:
    params = company.params(indicators={"CS02": {"method": "observation"}})
    with pytest.raises(DataError, match="no observation of CS02 for period 2026-Q4"):
        appraise(load_params(params), Period.parse("2026-Q4"))
    row = {"indicator": "CS02", "period": "2026-Q4", "value": "90", "collector": "x"}
    company.table("observations", [row, {**row, "collector": "y"}])
    with pytest.raises(DataError, match="duplicate"):
        appraise(load_params(params), Period.parse("2026-Q4"))


@pytest.mark.parametrize(
    ("period", "expected"),
    [("2026-10", (1, 1)), ("2026-11", (1, 2)), ("2026-Q4", (2, 3)), ("2026-H2", (3, 4)), ("2026", (3, 4))],
)
def test_windows_of_month_quarter_half_and_year(
    company: Company, indicator: Indicator, period: str, expected: tuple[int, int]
) -> None:
    company.table(
        "complaints",
        [
            {
                "complaint_id": "K1",
                "received_at": "2026-10-31 23:59:59",
                "resolved_at": "2026-11-01 00:00",
                "satisfied": "是",
            },
            {
                "complaint_id": "K2",
                "received_at": "2026-11-01 00:00:00",
                "resolved_at": "2026-11-02 00:00",
                "satisfied": "是",
            },
            {"complaint_id": "K3", "received_at": "2026-11-30 12:00:00", "resolved_at": "", "satisfied": ""},
            {
                "complaint_id": "K4",
                "received_at": "2026-07-01 00:00:00",
                "resolved_at": "2026-07-01 00:10",
                "satisfied": "是",
            },
        ],
    )
    result = indicator("CS07", period=period)
    assert (result["numerator"], result["denominator"]) == expected


def test_period_override_merges_key_by_key(company: Company, indicator: Indicator) -> None:
    company.table("communications", messages(96, 4))
    base = indicator("CS04", periods={"2026-Q4": {"indicators": {"CS04": {"target": 97}}}})
    assert (base["target"], base["weight"], base["score"]) == (97, 8, 98.0)
    other = indicator("CS04", period="2026-11", periods={"2026-Q4": {"indicators": {"CS04": {"target": 97}}}})
    assert other["target"] == 95


def test_one_departments_bad_rows_do_not_fail_another(company: Company) -> None:
    rows = messages(10, 0)
    company.table(
        "communications",
        rows + [{"message_id": "BAD", "department": "cs-other", "created_at": "yesterday", "sent_at": ""}],
    )
    card = appraise(load_params(company.params()), Period.parse("2026-Q4")).to_json()
    assert next(i for i in card["indicators"] if i["id"] == "CS04")["denominator"] == 10


def test_dates_are_compared_as_days() -> None:
    assert Period.parse("2026-Q4").contains(date(2026, 12, 31))
