"""Words next to numbers (kpi_lib/words/explain.py): the formula with its numbers, the rule applied and the survey line,
for every rate kind and both languages, from real scorecards of a small company whose numbers are worked out here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import cast

import pandas as pd
import pytest

from kpi_lib import IndicatorResult, Period, appraise, load_params
from kpi_lib.base.messages import both, catalog
from kpi_lib.base.numbers import plain
from kpi_lib.inputs.params import DEFAULT_GRADES, GradeBand, IndicatorParams
from kpi_lib.inputs.template import load_template
from kpi_lib.scoring import rates
from kpi_lib.scoring.scoring import Rule, Scored, score
from kpi_lib.words.explain import (
    cell_text,
    change_text,
    column_label,
    fact_value,
    formula_line,
    grade_bands,
    grade_label,
    label,
    outcome_text,
    reason_text,
    rule_line,
    sla_text,
    status_text,
    survey_line,
    value_text,
)

from .conftest import Company, kpi, messages

ROWS = {
    "policy_plan": [  # CS01: 5 planned in the window, P3 late, P4 excused → 1 unfinished
        {"item_id": "P1", "planned_date": "2026-10-10", "completed_date": "2026-10-09", "excused": "否"},
        {"item_id": "P2", "planned_date": "2026-10-20", "completed_date": "2026-10-20"},
        {"item_id": "P3", "planned_date": "2026-11-10", "completed_date": "2026-11-30"},
        {"item_id": "P4", "planned_date": "2026-11-20", "completed_date": "", "excused": "是", "excuse_reason": "取消"},
        {"item_id": "P5", "planned_date": "2026-12-01", "completed_date": "2026-11-28"},
    ],
    "surveys": [  # CS02 2 of 3 satisfied, CS10 3 of 4, CS12 1 of 1
        {"response_id": f"{survey}-{i}", "survey": survey, "date": "2026-11-11", "score": score}
        for survey, scores in (
            ("policy_execution", [5, 4, 3]),
            ("customer_satisfaction", [5, 5, 5, 1]),
            ("assigned_tasks", [4]),
        )
        for i, score in enumerate(scores)
    ],
    "work_plan": [  # CS03: 39.5 of 40 (T3 excused)
        {"task_id": "T1", "due_date": "2026-10-31", "planned_qty": "10", "actual_qty": "9.5"},
        {"task_id": "T2", "due_date": "2026-11-30", "planned_qty": "30", "actual_qty": "30"},
        {"task_id": "T3", "due_date": "2026-12-01", "planned_qty": "60", "actual_qty": "0", "excused": "true"},
    ],
    "communications": messages(187, 13),  # CS04: 187 of 200 within 24h
    "revisits": [  # CS06: customers C1 and C3 of four done; CS09: key account C1 of C1 and C4
        {"customer_id": "C1", "key_account": "1", "planned_date": "2026-11-05", "done_date": "2026-11-06"},
        {"customer_id": "C2", "key_account": "0", "planned_date": "2026-12-20", "done_date": "2027-01-03"},
        {"customer_id": "C3", "key_account": "否", "planned_date": "2026-12-20", "done_date": "2026-12-31"},
        {"customer_id": "C4", "key_account": "是", "planned_date": "2026-12-20", "done_date": ""},
    ],
    "complaints": [  # CS07: 2 of 3 satisfied; unresolved counts as not
        {"complaint_id": "K1", "received_at": "2026-10-01 00:00", "resolved_at": "2026-10-02 10:00", "satisfied": "是"},
        {"complaint_id": "K2", "received_at": "2026-11-01 08:00", "resolved_at": "2026-11-02 10:00", "satisfied": "是"},
        {"complaint_id": "K3", "received_at": "2026-11-01 08:00", "resolved_at": "", "satisfied": ""},
    ],
    "key_accounts": [  # CS08: 3 of 40 lost
        {"account_id": f"A{i}", "since": "2025-01-01", "lost_on": "2026-11-15" if i < 3 else ""} for i in range(40)
    ],
    "expenses": [  # CS11: 112500 spent against 100000 (E3's approved overrun left out)
        {"entry_id": "E1", "date": "2026-10-05", "amount": "100000.00", "approved_overrun": "false"},
        {"entry_id": "E2", "date": "2026-12-31", "amount": "12500", "approved_overrun": ""},
        {"entry_id": "E3", "date": "2026-11-05", "amount": "5000", "approved_overrun": "true"},
    ],
    "observations": [
        {
            "indicator": "CS02",
            "period": "2026-Q4",
            "value": "91.456",
            "collector": "督察员 李",
            "collected_on": "2026-12-14",
            "source": "高层主管",
        }
    ],
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, IndicatorResult]]:
    """Three scorecards of the company above (feedback left empty, so CS05 has no rows), by indicator id:
    `records` with the defaults, `observed` with CS02 by observation, `full` with policy on_empty: full."""
    company = Company(tmp_path_factory.mktemp("explain"))
    for table, rows in ROWS.items():
        company.table(table, rows)
    period = Period.parse("2026-Q4")
    changes = {
        "records": {},
        "observed": {"indicators": {"CS02": {"method": "observation"}}},
        "full": {"policy": {"on_empty": "full"}},
    }
    found = {}
    for name, change in changes.items():  # one params file, rewritten: each is loaded before the next is written
        found[name] = {r.id: r for r in appraise(load_params(company.params(**change)), period).results}
    return found


# The numbers of every line are worked out from ROWS and SPEC_INDICATORS (conftest) by hand.
FORMULAS = [
    ("CS01", "zh", "n = 1（计划 5 项，未完成且非免责 1 项，免责 1 项）"),
    ("CS01", "en", "n = 1 (5 planned, 1 unfinished and not excused, 1 excused)"),
    ("CS02", "zh", "66.67% = 2 / 3 × 100%"),  # score_share
    ("CS02", "en", "66.67% = 2 / 3 × 100%"),
    ("CS03", "en", "98.75% = 39.5 / 40 × 100%"),  # quantity_ratio
    ("CS04", "zh", "93.50% = 187 / 200 × 100%"),  # on_time
    ("CS06", "en", "50.00% = 2 / 4 × 100%"),  # distinct_done
    ("CS09", "zh", "50.00% = 1 / 2 × 100%"),
    ("CS07", "en", "66.67% = 2 / 3 × 100%"),  # flag_share
    ("CS08", "zh", "7.50% = 3 / 40 × 100%"),  # lost_share
    ("CS11", "zh", "12.50% = max(0, 112500 − 100000) / 100000 × 100%"),  # overrun
    ("CS11", "en", "12.50% = max(0, 112500 − 100000) / 100000 × 100%"),
]
RULES = [
    ("CS01", "zh", "100 − 1 项 × 10 分 = 90 → 90.00"),
    ("CS01", "en", "100 − 1 item(s) × 10 points = 90 → 90.00"),
    ("CS02", "zh", "目标 90%，未达目标 23.33%，计 23 个 1% 步长 × 2 分 → 54.00"),
    ("CS02", "en", "target 90%, short by 23.33%: 23 step(s) of 1% × 2 points → 54.00"),
    ("CS03", "en", "target 100%, short by 1.25%: 1 step(s) of 1% × 2 points → 98.00"),
    ("CS04", "zh", "目标 95%，未达目标 1.50%，计 1 个 1% 步长 × 2 分 → 98.00"),
    ("CS07", "zh", "目标 90%，未达目标 23.33%，计 23 个 1% 步长 × 5 分 → 0.00（截至上下限）"),
    ("CS07", "en", "target 90%, short by 23.33%: 23 step(s) of 1% × 5 points → 0.00 (clamped)"),
    ("CS08", "en", "target 5%, over by 2.50%: 2 step(s) of 1% × 3 points → 94.00"),  # lower is better
    ("CS11", "zh", "目标 0%，超出目标 12.50%，计 2 个 5% 步长 × 10 分 → 80.00"),
    ("CS12", "zh", "目标 90%，优于目标 10.00%，计 10 个 1% 步长 × 1 分 → 110.00"),
    ("CS12", "en", "target 90%, better by 10.00%: 10 step(s) of 1% × 1 points → 110.00"),
]


@pytest.mark.parametrize(("iid", "lang", "expected"), FORMULAS)
def test_formula_line(results: dict[str, dict[str, IndicatorResult]], iid: str, lang: str, expected: str) -> None:
    assert formula_line(results["records"][iid], lang) == expected


@pytest.mark.parametrize(("iid", "lang", "expected"), RULES)
def test_rule_line(results: dict[str, dict[str, IndicatorResult]], iid: str, lang: str, expected: str) -> None:
    assert rule_line(results["records"][iid], lang) == expected


@pytest.mark.parametrize(
    ("lang", "formula", "rule"),
    [
        (
            "zh",
            "91.46%（督察员 李 于 2026-12-14 笔录，来源：高层主管，现场笔录表第 2 行）",
            "目标 90%，优于目标 1.46%，计 1 个 1% 步长 × 1 分 → 101.00",
        ),
        (
            "en",
            "91.46% (recorded by 督察员 李 on 2026-12-14, source: 高层主管, observations row 2)",
            "target 90%, better by 1.46%: 1 step(s) of 1% × 1 points → 101.00",
        ),
    ],
)
def test_an_observation_names_who_when_and_where(
    results: dict[str, dict[str, IndicatorResult]], lang: str, formula: str, rule: str
) -> None:
    cs02 = results["observed"]["CS02"]
    assert (formula_line(cs02, lang), rule_line(cs02, lang)) == (formula, rule)


@pytest.mark.parametrize(
    ("scorecard", "lang", "formula", "rule"),
    [
        ("records", "zh", "无数据: 0 / 0", "未计入总分（无数据，其权重不参与加权）"),
        ("records", "en", "no rows: 0 / 0", "left out of the total (no rows; its weight drops out)"),
        ("full", "zh", "无数据: 0 / 0", "无数据，按无数据规则计 100.00 分"),
        ("full", "en", "no rows: 0 / 0", "no rows; the rule for no rows gives 100.00"),
    ],
)
def test_no_rows_say_so_and_what_on_empty_did(
    results: dict[str, dict[str, IndicatorResult]], scorecard: str, lang: str, formula: str, rule: str
) -> None:
    cs05 = results[scorecard]["CS05"]  # the feedback table is empty
    assert (formula_line(cs05, lang), rule_line(cs05, lang)) == (formula, rule)


@pytest.mark.parametrize(
    ("iid", "lang", "minimum", "expected"),
    [
        (
            "CS02",
            "en",
            30,
            "n = 3, 95% CI 20.77% – 93.85% (⚠ fewer than 30 responses: the rate rests on too few answers)",
        ),
        ("CS02", "zh", 30, "n = 3，95% 置信区间 20.77% – 93.85%（⚠ 样本不足 30 份，结果可信度低）"),
        ("CS10", "en", 4, "n = 4, 95% CI 30.06% – 95.44%"),  # exactly the minimum: no warning
        ("CS10", "zh", 3, "n = 4，95% 置信区间 30.06% – 95.44%"),
        (
            "CS10",
            "en",
            5,
            "n = 4, 95% CI 30.06% – 95.44% (⚠ fewer than 5 responses: the rate rests on too few answers)",
        ),
        ("CS04", "en", 30, ""),  # not a survey
        ("CS01", "zh", 30, ""),
    ],
)
def test_survey_line(
    results: dict[str, dict[str, IndicatorResult]], iid: str, lang: str, minimum: int, expected: str
) -> None:
    assert survey_line(results["records"][iid], lang, minimum) == expected


def test_an_observed_survey_rate_has_no_survey_line(results: dict[str, dict[str, IndicatorResult]]) -> None:
    assert survey_line(results["observed"]["CS02"], "en", 30) == ""  # no `responses` column given


@pytest.mark.parametrize(
    ("iid", "text"), [("CS01", "1"), ("CS02", "66.67%"), ("CS08", "7.50%"), ("CS11", "12.50%"), ("CS05", "—")]
)
def test_value_text(results: dict[str, dict[str, IndicatorResult]], iid: str, text: str) -> None:
    assert value_text(results["records"][iid]) == text


@pytest.mark.parametrize(
    ("number", "places", "text"),
    [
        (None, None, "—"),
        (None, 2, "—"),
        (Decimal("39.50"), None, "39.5"),
        (Decimal("100000.00"), None, "100000"),
        (Decimal("1E+2"), None, "100"),
        (Decimal("0.000"), None, "0"),
        (Decimal("-0.5"), None, "-0.5"),
        (Decimal("93.5"), 2, "93.50"),
        (Decimal("7.317"), 2, "7.32"),
        (Decimal("97.125"), 2, "97.13"),  # half-up, SPEC §4's rounding
        (Decimal("0.005"), 2, "0.01"),
    ],
)
def test_plain(number: Decimal | None, places: int | None, text: str) -> None:
    assert plain(number, places) == text


@pytest.mark.parametrize(
    ("key", "zh", "en"),
    [
        ("total", "加权总分", "Weighted total"),
        ("rule", "计分标准", "Scoring standard"),
        ("formula", "说明", "Formula / notes"),
    ],
)
def test_labels_in_both_languages(key: str, zh: str, en: str) -> None:
    assert (label(key, "zh"), label(key, "en")) == (zh, en)


def test_every_label_has_two_different_texts() -> None:
    labels = [both(key) for key in catalog() if key.startswith("label.")]
    assert labels and all(zh and en and zh != en for zh, en in labels)


@pytest.mark.parametrize(
    ("status", "zh", "en"),
    [
        ("scored", "已计分", "scored"),
        ("observed", "笔录计分", "observed"),
        ("excluded", "无数据，未计入", "excluded (no rows)"),
    ],
)
def test_status_text(status: str, zh: str, en: str) -> None:
    assert (status_text(status, "zh"), status_text(status, "en")) == (zh, en)


@pytest.mark.parametrize(
    ("text", "en"),
    [
        ("优秀", "excellent"),
        ("良好", "good"),
        ("合格", "pass"),
        ("基本合格", "basic pass"),
        ("不合格", "fail"),
        ("卓越", "卓越"),
    ],
)
def test_grade_labels_in_english_and_a_params_own_label_as_written(text: str, en: str) -> None:
    assert (grade_label(text, "en"), grade_label(text, "zh")) == (en, text)


@pytest.mark.slow
def test_too_few_responses_are_warned_about(company: Company) -> None:
    company.table(
        "surveys",
        [
            {"response_id": f"R{i}", "survey": "customer_satisfaction", "date": "2026-12-20", "score": 5}
            for i in range(12)
        ],
    )
    out = kpi("score", str(company.params(lang="en")), "--period", "2026-Q4")
    assert out.returncode == 0, out.stderr
    assert "n = 12, 95% CI 75.75% – 100.00% (⚠ fewer than 30 responses" in out.stdout
    quiet = kpi("score", str(company.params(lang="en", policy={"min_responses": 10})), "--period", "2026-Q4")
    assert "n = 12, 95% CI" in quiet.stdout and "⚠" not in quiet.stdout


# -- the reader's words (issue 11): every sub-step case of a rule, deadlines, outcomes, reasons, change ------------
@dataclass(frozen=True)
class _Ind:
    direction: str


@dataclass(frozen=True)
class _Result:
    """What `rule_line` reads of an `IndicatorResult`, with a `Scored` from the real scoring function."""

    indicator: _Ind
    params: IndicatorParams
    value: Decimal
    scored: Scored


def _scored(value: str, direction: str, target: str, step: str, penalty: str, bonus: str, rounding: str) -> _Result:
    spec = IndicatorParams(weight=Decimal(5), target=target, step=step, penalty=penalty, bonus=bonus)
    rule = Rule(direction, spec.target, spec.step, spec.penalty, spec.bonus)
    return _Result(_Ind(direction), spec, Decimal(value), score(Decimal(value), rule, rounding=rounding))


# (value, direction, target, step, penalty, bonus, rounding, lang, expected)
SUB_STEPS = [
    # the case: CS02 at 89.90% against 90%, floor steps of 1%: short, but less than one step
    (
        "89.90",
        "higher",
        "90",
        "1",
        "2",
        "1",
        "floor",
        "en",
        "target 90%, short by 0.10%, less than one 1% step: no deduction → 100.00",
    ),
    (
        "89.90",
        "higher",
        "90",
        "1",
        "2",
        "1",
        "floor",
        "zh",
        "目标 90%，未达目标 0.10%，不足一个 1% 步长，不扣分 → 100.00",
    ),
    # ceil rounds the same gap up to a whole step: one step short
    (
        "89.90",
        "higher",
        "90",
        "1",
        "2",
        "1",
        "ceil",
        "en",
        "target 90%, short by 0.10%: 1 step(s) of 1% × 2 points → 98.00",
    ),
    # exactly on target
    ("90.00", "higher", "90", "1", "2", "1", "floor", "en", "target 90% met exactly → 100.00"),
    ("90.00", "higher", "90", "1", "2", "1", "floor", "zh", "恰好达到目标 90% → 100.00"),
    # better, but less than a step; better with no bonus in the params; better by whole steps
    (
        "90.50",
        "higher",
        "90",
        "1",
        "2",
        "1",
        "floor",
        "en",
        "target 90%, better by 0.50%, less than one 1% step: no bonus → 100.00",
    ),
    (
        "90.50",
        "higher",
        "90",
        "1",
        "2",
        "1",
        "floor",
        "zh",
        "目标 90%，优于目标 0.50%，不足一个 1% 步长，不加分 → 100.00",
    ),
    (
        "96.44",
        "higher",
        "90",
        "1",
        "2",
        "0",
        "floor",
        "en",
        "target 90%, better by 6.44%: no bonus (0 points per step) → 100.00",
    ),
    ("96.44", "higher", "90", "1", "2", "0", "floor", "zh", "目标 90%，优于目标 6.44%；加分为 0，不加分 → 100.00"),
    (
        "96.44",
        "higher",
        "90",
        "1",
        "2",
        "1",
        "floor",
        "en",
        "target 90%, better by 6.44%: 6 step(s) of 1% × 1 points → 106.00",
    ),
    # lower is better: above the target is short
    (
        "5.40",
        "lower",
        "5",
        "1",
        "3",
        "1",
        "floor",
        "en",
        "target 5%, over by 0.40%, less than one 1% step: no deduction → 100.00",
    ),
    ("3.00", "lower", "5", "1", "3", "1", "floor", "zh", "目标 5%，优于目标 2.00%，计 2 个 1% 步长 × 1 分 → 102.00"),
    # exact (proportional) steps
    (
        "87.50",
        "higher",
        "90",
        "1",
        "2",
        "1",
        "exact",
        "en",
        "target 90%, short by 2.50%: 2.5 step(s) of 1% × 2 points → 95.00",
    ),
]


@pytest.mark.parametrize(
    ("value", "direction", "target", "step", "penalty", "bonus", "rounding", "lang", "expected"), SUB_STEPS
)
def test_rule_line_says_the_gap_and_what_it_cost(
    value: str,
    direction: str,
    target: str,
    step: str,
    penalty: str,
    bonus: str,
    rounding: str,
    lang: str,
    expected: str,
) -> None:
    result = _scored(value, direction, target, step, penalty, bonus, rounding)
    assert rule_line(cast(IndicatorResult, result), lang) == expected


@pytest.mark.parametrize(
    ("sla", "lang", "expected"),
    [
        ("24h", "en", "24 hours"),
        ("24h", "zh", "24小时"),
        ("2wd", "en", "2 working days"),
        ("2wd", "zh", "2个工作日"),
        ("1h", "zh", "1小时"),
        (None, "en", "—"),
    ],
)
def test_deadlines_read_as_words(sla: str | None, lang: str, expected: str) -> None:
    assert sla_text(sla, lang) == expected
    assert fact_value("sla", sla, lang) == expected


OUTCOMES = [
    "finished",
    "unfinished",
    "satisfied",
    "not satisfied",
    "complete",
    "short",
    "on time",
    "late",
    "unanswered",
    "done",
    "not done",
    "done after the window",
    "unresolved",
    "kept",
    "lost",
    "counted",
    "observed",
]


def _rate_outcomes() -> set[str]:
    """Every outcome word a rate writes (read from rates.py: `pd.Series("…"` and `.mask(…, "…")`, `_with_outcome(…, "…")`)."""
    source = (Path(rates.__file__)).read_text(encoding="utf-8")
    found = set(re.findall(r'pd\.Series\("([a-z ]+)", index', source))
    found |= set(re.findall(r'\.mask\([^()]*(?:\([^()]*\))?[^()]*, "([a-z ]+)"\)', source))
    found |= set(re.findall(r'_with_outcome\([^()]*, "([a-z ]+)"\)', source))
    return found


def test_every_outcome_a_rate_writes_has_words_in_both_languages() -> None:
    written = _rate_outcomes()
    assert {
        "on time",
        "late",
        "unanswered",
        "not satisfied",
        "done after the window",
        "observed",
    } <= written  # the scan works
    assert written <= set(OUTCOMES)
    for outcome in OUTCOMES:
        zh, en = outcome_text(outcome, "zh"), outcome_text(outcome, "en")
        assert en == outcome and not re.search(r"[A-Za-z]", zh), (outcome, zh)


@pytest.mark.parametrize(
    ("reason", "lang", "expected"),
    [
        ("excused", "zh", "免责"),
        ("excused: 客户取消", "zh", "免责：客户取消"),
        ("excused: (no reason given)", "en", "excused: (no reason given)"),
        ("overrun approved by senior management", "zh", "超支已经高层主管批准"),
        (
            "survey 'annual' matches none of policy_execution, assigned_tasks",
            "zh",
            "survey 的值 'annual' 不属于 policy_execution, assigned_tasks 中任何一个",
        ),
        ("something an adapter wrote", "zh", "something an adapter wrote"),  # a data value: as written
    ],
)
def test_reasons_in_the_departments_language(reason: str, lang: str, expected: str) -> None:
    assert reason_text(reason, lang) == expected


@pytest.mark.parametrize(
    ("value", "column", "lang", "expected"),
    [
        (True, "excused", "zh", "是"),
        (False, "excused", "en", "no"),
        (None, "sent_at", "zh", ""),
        (float("nan"), "hours_taken", "zh", ""),
        (84.31666, "hours_taken", "en", "84.3"),
        (pd.Timestamp("2026-10-17 18:24:43"), "created_at", "zh", "2026-10-17 18:24:43"),
        (pd.Timestamp("2026-10-17"), "planned_date", "zh", "2026-10-17"),
        (Decimal("808.730"), "amount", "zh", "808.73"),
        ("late", "outcome", "zh", "超时"),
        ("=HYPERLINK(1)", "title", "zh", "=HYPERLINK(1)"),  # data as written (the CSV writer neutralises it)
    ],
)
def test_cell_text(value: object, column: str, lang: str, expected: object) -> None:
    assert cell_text(value, column, lang) == expected


def test_column_labels_come_from_the_template_in_the_departments_language() -> None:
    template = load_template()
    spec = template.tables["communications"]
    assert [column_label(spec, c, "zh") for c in ("message_id", "created_at", "hours_taken", "row")] == [
        "信息编号",
        "产生时间",
        "用时（小时）",
        "行号",
    ]
    assert [column_label(spec, c, "en") for c in ("message_id", "created_at", "hours_taken", "row")] == [
        "message id",
        "created at",
        "hours taken",
        "row",
    ]


@pytest.mark.parametrize(
    ("total", "earlier", "lang", "expected"),
    [
        ("96.54", [("2026-Q3", "90.00")], "en", "up 6.54 points on 2026-Q3 (90.00)"),
        ("96.54", [("2026-Q3", "90.00")], "zh", "比上期 2026-Q3（90.00）提高 6.54 分"),
        ("80.00", [("2026-Q2", "70.00"), ("2026-Q3", "85.50")], "en", "down 5.50 points on 2026-Q3 (85.50)"),
        ("85.50", [("2026-Q3", "85.50")], "zh", "与上期 2026-Q3（85.50）持平"),
        # the scorecard is a snapshot of the outputs folder (a period run later is not in it): said so, not "first"
        (
            "80.00",
            [("2026-Q2", "70.00")],
            "en",
            "no result for 2026-Q3 when this report was made; +10.00 points against 2026-Q2 (70.00)",
        ),
        (
            "80.00",
            [("2026-Q2", "70.00")],
            "zh",
            "本报告生成时上期 2026-Q3 无结果；与最近一期 2026-Q2（70.00）相比 +10.00 分",
        ),
        ("80.00", [], "en", "no earlier period on record when this report was made: nothing to compare with"),
        ("80.00", [], "zh", "本报告生成时没有更早考核期的记录，无上期可比"),
        (
            "80.00",
            [("2026-Q3", None)],
            "en",
            "no earlier period on record when this report was made: nothing to compare with",
        ),
        (None, [("2026-Q3", "85.50")], "en", "no weighted total this period"),
    ],
)
def test_change_against_the_previous_period(
    total: str | None, earlier: list[tuple[str, str | None]], lang: str, expected: str
) -> None:
    shown = [(p, Decimal(t) if t else None) for p, t in earlier]
    assert change_text(Decimal(total) if total else None, "2026-Q3", shown, lang) == expected


def test_grade_bands_highest_first_in_the_departments_language() -> None:
    bands = load_params_bands()
    assert grade_bands(bands, "en")[0] == {"grade": "A", "range": "90 and above", "label": "excellent"}
    assert [b["label"] for b in grade_bands(bands, "zh")] == ["优秀", "良好", "合格", "基本合格", "不合格"]


def load_params_bands() -> tuple[GradeBand, ...]:
    return tuple(GradeBand.model_validate(b) for b in reversed(DEFAULT_GRADES))  # given lowest first
