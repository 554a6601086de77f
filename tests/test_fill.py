"""The seed's sheet filled in (issue 11 §2): every blank (×, ××) becomes the department's number, nothing else changes.

`template.blanks` decides what is a placeholder (by the words around it) and what is the
multiplication sign of a formula; `sheet.fill` writes the period's params into the
placeholders, and says a bonus of 0 in words. The tables give the exact texts for every
seed indicator in both languages; the cross-product checks that no placeholder is left in
any column of any indicator, whatever the params.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from kpi_lib.base.errors import AuditError
from kpi_lib.inputs.params import IndicatorParams, Params, load_params
from kpi_lib.inputs.period import Period
from kpi_lib.inputs.template import FILLED, Template, blanks, load_template
from kpi_lib.scoring.result import IndicatorRecord
from kpi_lib.words.sheet import fill, sheet_row, target_text, with_target

TEMPLATE = load_template()
LANGS = ("zh", "en")
# Every number distinct, so a number in the wrong blank shows: target 92.5 (5 for lower), step 0.5, penalty 2, bonus 3.
BASE = {"weight": "10", "target": "92.5", "step": "0.5", "penalty": "2", "bonus": "3"}
VARIANTS = {
    "base": {},
    "bonus0": {"bonus": "0"},
    "step5": {"step": "5"},
    "target100": {"target": "100"},
    "bonus1": {"bonus": "1"},
}


def indicator_params(iid: str, change: dict[str, str] | None = None) -> IndicatorParams:
    ind = TEMPLATE.indicator(iid)
    if ind.direction == "count":
        return IndicatorParams(weight=Decimal(5), per_item=Decimal("7.5"))
    values = {**BASE, "target": "5" if ind.direction == "lower" else BASE["target"], **(change or {})}
    return IndicatorParams(**{key: Decimal(value) for key, value in values.items()})


# (indicator, lang, statement, target column words, scoring standard) with the BASE numbers.
FILLED_TEXTS = [
    (
        "CS01",
        "zh",
        "制度制订:按照年度计划完成客服管理规章制度的制订与修订,完成率100%",
        "完成率100%",
        "按计划完成规章制度的制订与修订工作,得满分;由于工作人员责任,每有一项计划未完成,扣7.5分",
    ),
    (
        "CS01",
        "en",
        "Policy making: draft and revise the customer-service rules and regulations as the annual plan says; completion rate 100%",
        "completion rate 100%",
        "All planned rules drafted or revised on time scores full marks; each planned item left unfinished through the staff's fault costs 7.5 points",
    ),
    (
        "CS02",
        "zh",
        "制度执行:对客服管理规章制度的执行进行监督、检查和指导,高层主管对执行满意率达到92.5%以上",
        "满意率92.5%以上",
        "高层主管满意率达到92.5%以上,得满分;满意率每降0.5%,扣2分;满意率每增0.5%,加3分",
    ),
    (
        "CS02",
        "en",
        "Policy execution: supervise, inspect and guide how the rules are carried out; senior management's satisfaction rate at least 92.5%",
        "satisfaction rate at least 92.5%",
        "Senior management's satisfaction at or above 92.5% scores full marks; each 0.5% lower costs 2 points; each 0.5% higher adds 3 points",
    ),
    (
        "CS03",
        "zh",
        "客服工作计划完成:年度考核期内,客服工作计划完成率达到100%",
        "完成率100%",
        "客服工作计划完成率达到100%,得满分;由于工作人员责任,完成率每降0.5%,扣2分;完成率每增0.5%,加3分",
    ),
    (
        "CS03",
        "en",
        "Work plan completion: within the appraisal period the customer-service work plan is 100% completed",
        "completion rate 100%",
        "A completion rate of 100% scores full marks; each 0.5% lower through the staff's fault costs 2 points; each 0.5% higher adds 3 points",
    ),
    (
        "CS04",
        "zh",
        "客户服务信息传递:按照客户信息传递规定时间,按时完成各项信息的传递,传递及时率达到92.5%以上",
        "传递及时率92.5%以上",
        "传递及时率达到92.5%以上,得满分;传递及时率每降0.5%,扣2分;传递及时率每增0.5%,加3分",
    ),
    (
        "CS04",
        "en",
        "Service information delivery: deliver every piece of customer information within the set time; on-time rate at least 92.5%",
        "on-time rate at least 92.5%",
        "An on-time rate at or above 92.5% scores full marks; each 0.5% lower costs 2 points; each 0.5% higher adds 3 points",
    ),
    (
        "CS05",
        "zh",
        "客户意见反馈:按照要求时间对客户意见反馈的及时率达到92.5%以上",
        "反馈及时率92.5%以上",
        "反馈及时率达到92.5%以上,得满分;反馈及时率每降0.5%,扣2分;反馈及时率每增0.5%,加3分",
    ),
    (
        "CS05",
        "en",
        "Customer feedback response: answer customer feedback within the required time; on-time rate at least 92.5%",
        "on-time rate at least 92.5%",
        "An on-time rate at or above 92.5% scores full marks; each 0.5% lower costs 2 points; each 0.5% higher adds 3 points",
    ),
    (
        "CS06",
        "zh",
        "客户回访:在年度考核期内客户回访率达到92.5%以上",
        "回访率92.5%以上",
        "客户回访率达到92.5%以上,得满分;回访率每增0.5%,加3分;回访率每降0.5%,扣2分",
    ),
    (
        "CS06",
        "en",
        "Customer revisits: within the appraisal period the revisit rate is at least 92.5%",
        "revisit rate at least 92.5%",
        "A revisit rate at or above 92.5% scores full marks; each 0.5% higher adds 3 points; each 0.5% lower costs 2 points",
    ),
    (
        "CS07",
        "zh",
        "客户投诉解决:在年度考核期内,客户投诉解决满意率达到92.5%以上",
        "投诉解决满意率92.5%以上",
        "客户投诉解决满意率达到92.5%以上,得满分;满意率每增0.5%,加3分;满意率每降0.5%,扣2分",
    ),
    (
        "CS07",
        "en",
        "Complaint resolution: within the appraisal period customers' satisfaction with complaint resolution is at least 92.5%",
        "resolution satisfaction at least 92.5%",
        "Resolution satisfaction at or above 92.5% scores full marks; each 0.5% higher adds 3 points; each 0.5% lower costs 2 points",
    ),
    (
        "CS08",
        "zh",
        "大客户流失:在年度考核期内,大客户流失数量控制在5%以内",
        "流失率5%以内",
        "大客户流失数量控制在5%以内,得满分;流失量每增加0.5%,扣2分;流失量每减少0.5%,加3分",
    ),
    (
        "CS08",
        "en",
        "Key account churn: within the appraisal period no more than 5% of key accounts are lost",
        "churn at most 5%",
        "Churn within 5% scores full marks; each 0.5% more costs 2 points; each 0.5% less adds 3 points",
    ),
    (
        "CS09",
        "zh",
        "大客户回访:在年度考核期内,大客户回访率达到92.5%以上",
        "大客户回访率92.5%以上",
        "大客户回访率达到92.5%以上,得满分;回访率每增0.5%,加3分;回访率每降0.5%,扣2分",
    ),
    (
        "CS09",
        "en",
        "Key account revisits: within the appraisal period the key account revisit rate is at least 92.5%",
        "key account revisit rate at least 92.5%",
        "A key account revisit rate at or above 92.5% scores full marks; each 0.5% higher adds 3 points; each 0.5% lower costs 2 points",
    ),
    (
        "CS10",
        "zh",
        "客户满意率:在年度考核期内,客户对客服工作满意率达到92.5%以上",
        "满意率92.5%以上",
        "客服工作满意率达到92.5%以上,得满分;满意率每增0.5%,加3分;满意率每降0.5%,扣2分",
    ),
    (
        "CS10",
        "en",
        "Customer satisfaction: within the appraisal period customers' satisfaction with the service is at least 92.5%",
        "satisfaction at least 92.5%",
        "Satisfaction at or above 92.5% scores full marks; each 0.5% higher adds 3 points; each 0.5% lower costs 2 points",
    ),
    (
        "CS11",
        "zh",
        "费用管理:年度考核期内,各种经费开支控制在预算之内,超支金额为0",
        "超支金额为0",
        "经费开支控制在预算之内,得满分;未经有关高层主管批准,经费每超支0.5%,扣2分",
    ),
    (
        "CS11",
        "en",
        "Cost control: within the appraisal period all spending stays within budget; overrun 0",
        "overrun 0",
        "Spending within budget scores full marks; each 0.5% over budget not approved by senior management costs 2 points",
    ),
    (
        "CS12",
        "zh",
        "交办任务:完成领导交办的临时工作任务,主管领导的满意率达到92.5%以上",
        "满意率92.5%以上",
        "主管领导的满意率达到92.5%以上,得满分;满意率每降0.5%,扣2分;满意率每增0.5%,加3分",
    ),
    (
        "CS12",
        "en",
        "Assigned tasks: complete ad-hoc tasks assigned by the leadership; the supervising leader's satisfaction at least 92.5%",
        "satisfaction at least 92.5%",
        "The supervising leader's satisfaction at or above 92.5% scores full marks; each 0.5% lower costs 2 points; each 0.5% higher adds 3 points",
    ),
]


@pytest.mark.parametrize(("iid", "lang", "statement", "target", "rule"), FILLED_TEXTS)
def test_every_seed_indicator_filled_in_both_languages(
    iid: str, lang: str, statement: str, target: str, rule: str
) -> None:
    params = indicator_params(iid)
    assert fill(TEMPLATE, iid, "statement", params, lang) == statement
    assert fill(TEMPLATE, iid, "target_text", params, lang) == target
    assert fill(TEMPLATE, iid, "rule", params, lang) == rule


def test_the_table_covers_every_indicator_in_both_languages() -> None:
    assert {(row[0], row[1]) for row in FILLED_TEXTS} == {(i, lang) for i in TEMPLATE.ids for lang in LANGS}


# The scoring standard under other params: bonus 0 said in words (each direction, the clause first or last),
# a step of 5, a target of 100, a bonus of 1 (`adds 1 point`); CS01 counts items (per_item), CS11 has no bonus.
VARIANT_TEXTS = [
    ("bonus0", "CS01", "zh", "按计划完成规章制度的制订与修订工作,得满分;由于工作人员责任,每有一项计划未完成,扣7.5分"),
    (
        "bonus0",
        "CS01",
        "en",
        "All planned rules drafted or revised on time scores full marks; each planned item left unfinished through the staff's fault costs 7.5 points",
    ),
    ("bonus0", "CS02", "zh", "高层主管满意率达到92.5%以上,得满分;满意率每降0.5%,扣2分;超过目标不加分"),
    (
        "bonus0",
        "CS02",
        "en",
        "Senior management's satisfaction at or above 92.5% scores full marks; each 0.5% lower costs 2 points; no bonus above the target",
    ),
    ("bonus0", "CS06", "zh", "客户回访率达到92.5%以上,得满分;超过目标不加分;回访率每降0.5%,扣2分"),
    (
        "bonus0",
        "CS06",
        "en",
        "A revisit rate at or above 92.5% scores full marks; no bonus above the target; each 0.5% lower costs 2 points",
    ),
    ("bonus0", "CS08", "zh", "大客户流失数量控制在5%以内,得满分;流失量每增加0.5%,扣2分;低于目标不加分"),
    (
        "bonus0",
        "CS08",
        "en",
        "Churn within 5% scores full marks; each 0.5% more costs 2 points; no bonus below the target",
    ),
    ("bonus0", "CS11", "zh", "经费开支控制在预算之内,得满分;未经有关高层主管批准,经费每超支0.5%,扣2分"),
    (
        "bonus0",
        "CS11",
        "en",
        "Spending within budget scores full marks; each 0.5% over budget not approved by senior management costs 2 points",
    ),
    ("step5", "CS02", "zh", "高层主管满意率达到92.5%以上,得满分;满意率每降5%,扣2分;满意率每增5%,加3分"),
    (
        "step5",
        "CS02",
        "en",
        "Senior management's satisfaction at or above 92.5% scores full marks; each 5% lower costs 2 points; each 5% higher adds 3 points",
    ),
    ("step5", "CS06", "zh", "客户回访率达到92.5%以上,得满分;回访率每增5%,加3分;回访率每降5%,扣2分"),
    (
        "step5",
        "CS08",
        "en",
        "Churn within 5% scores full marks; each 5% more costs 2 points; each 5% less adds 3 points",
    ),
    ("step5", "CS11", "zh", "经费开支控制在预算之内,得满分;未经有关高层主管批准,经费每超支5%,扣2分"),
    ("target100", "CS02", "zh", "高层主管满意率达到100%以上,得满分;满意率每降0.5%,扣2分;满意率每增0.5%,加3分"),
    (
        "target100",
        "CS06",
        "en",
        "A revisit rate at or above 100% scores full marks; each 0.5% higher adds 3 points; each 0.5% lower costs 2 points",
    ),
    ("target100", "CS08", "zh", "大客户流失数量控制在100%以内,得满分;流失量每增加0.5%,扣2分;流失量每减少0.5%,加3分"),
    ("bonus1", "CS02", "zh", "高层主管满意率达到92.5%以上,得满分;满意率每降0.5%,扣2分;满意率每增0.5%,加1分"),
    (
        "bonus1",
        "CS02",
        "en",
        "Senior management's satisfaction at or above 92.5% scores full marks; each 0.5% lower costs 2 points; each 0.5% higher adds 1 point",
    ),
    (
        "bonus1",
        "CS08",
        "en",
        "Churn within 5% scores full marks; each 0.5% more costs 2 points; each 0.5% less adds 1 point",
    ),
]


@pytest.mark.parametrize(("variant", "iid", "lang", "rule"), VARIANT_TEXTS)
def test_the_scoring_standard_under_other_params(variant: str, iid: str, lang: str, rule: str) -> None:
    assert fill(TEMPLATE, iid, "rule", indicator_params(iid, VARIANTS[variant]), lang) == rule


def test_per_item_of_one_reads_as_one_point() -> None:
    params = IndicatorParams(weight=Decimal(5), per_item=Decimal(1))
    assert fill(TEMPLATE, "CS01", "rule", params, "en").endswith("costs 1 point")


def _placeholders_left(text: str, column: str) -> list[str]:
    found, unknown = blanks(text, column)
    return [text[b.start : b.end] for b in found] + [text[i] for i in unknown]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("iid", TEMPLATE.ids)
def test_no_placeholder_is_left_in_any_column(iid: str, lang: str, variant: str) -> None:
    """Every column of every indicator, filled: no blank left, every × left is a multiplication sign before a number."""
    params = indicator_params(iid, VARIANTS[variant])
    for column in FILLED:
        text = fill(TEMPLATE, iid, column, params, lang)
        assert _placeholders_left(text, column) == [], (column, text)
        assert all(re.match(r"×[ ]?\d", text[i:]) for i, c in enumerate(text) if c == "×"), (column, text)


# What a placeholder is: a run of × in a recognised context (its number in the third column); a single ×
# whose next non-space character is a digit is the multiplication sign; any other × is a blank nobody can fill.
BLANK_CASES = [
    ("满意率每降×%,扣×分", "rule", ["step", "penalty"], 0),
    ("满意率每增×%,加×分", "rule", ["step", "bonus"], 0),
    ("流失量每增加×%,扣×分;每减少×%,加×分", "rule", ["step", "penalty", "step", "bonus"], 0),
    ("经费每超支×%,扣×分", "rule", ["step", "penalty"], 0),
    ("达到××%以上", "statement", ["target"], 0),
    ("控制在×%以内", "statement", ["target"], 0),
    ("at least ××%", "statement", ["target"], 0),
    ("Churn within ×% scores full marks", "rule", ["target"], 0),
    ("each ×% lower costs × points; each ×% higher adds × points", "rule", ["step", "penalty", "step", "bonus"], 0),
    ("×%", "weight", ["weight"], 0),
    ("××%", "target_text", ["target"], 0),
    ("×%", "statement", [], 1),  # a bare ×% outside the weight and target columns: no context says what it is
    ("满意率 = 满意数 / 问卷总数 × 100%", "formula", [], 0),  # the multiplication sign
    ("传递信息总次数× 100%", "formula", [], 0),
    ("应完成量×100%", "formula", [], 0),
    ("100 − 1 项 × 10 分", "formula", [], 0),
    ("weight × score", "formula", [], 1),  # × before a word: refused (write the words, or × before a number)
    ("问卷总数 ×× 100%", "formula", [], 1),  # a double × is never a sign
    ("每降×%", "weight", [], 1),  # the weight column holds `×%` alone
]


@pytest.mark.parametrize(("text", "column", "slots", "unknown"), BLANK_CASES)
def test_what_a_placeholder_is(text: str, column: str, slots: list[str], unknown: int) -> None:
    found, left = blanks(text, column)
    assert [b.slot for b in found] == slots
    assert len(left) == unknown


@pytest.mark.parametrize(
    ("iid", "target", "lang", "shown"),
    [
        ("CS04", "95", "zh", "传递及时率95%以上"),  # the blank says the target: no suffix
        ("CS04", "95", "en", "on-time rate at least 95%"),
        ("CS03", "100", "zh", "完成率100%"),  # the seed's fixed words say it
        ("CS03", "95", "zh", "完成率100%; ≥ 95%"),  # … or not: the department's number follows
        ("CS03", "95", "en", "completion rate 100%; ≥ 95%"),
        ("CS11", "0", "zh", "超支金额为0"),
        ("CS11", "5", "en", "overrun 0; ≤ 5%"),
        ("CS08", "5", "en", "churn at most 5%"),
    ],
)
def test_the_target_column_states_the_departments_target_once(iid: str, target: str, lang: str, shown: str) -> None:
    params = indicator_params(iid, {"target": target})
    assert target_text(TEMPLATE, _record(iid, params), params, lang) == shown


@pytest.mark.parametrize(
    ("iid", "column", "target", "lang", "ends"),
    [
        ("CS03", "rule", "95", "zh", "（本期目标 ≥ 95%）"),  # the seed's fixed 100% is not this department's target
        ("CS03", "statement", "95", "zh", "（本期目标 ≥ 95%）"),
        ("CS03", "rule", "95", "en", " (this period's target: ≥ 95%)"),
        ("CS03", "rule", "100", "zh", ""),  # the fixed number is the target: the words stand
        ("CS04", "rule", "97", "zh", ""),  # a target blank, filled with 97: nothing to add
        ("CS01", "rule", None, "zh", ""),  # a count indicator has no target
    ],
)
def test_fixed_words_that_name_another_target_are_followed_by_the_departments(
    iid: str, column: str, target: str | None, lang: str, ends: str
) -> None:
    params = indicator_params(iid, {"target": target} if target else None)
    shown = with_target(TEMPLATE, _record(iid, params), params, column, lang)
    plain_words = fill(TEMPLATE, iid, column, params, lang)
    assert shown == plain_words + ends


def _record(iid: str, params: IndicatorParams) -> IndicatorRecord:
    ind = TEMPLATE.indicator(iid)
    return IndicatorRecord(
        id=iid, group=ind.group, weight=params.weight, direction=ind.direction, target=params.target, value=None,
        numerator=None, denominator=None, steps=None, score=Decimal(100), status="scored", excluded_rows=0, n=None,
        ci_low=None, ci_high=None,
    )  # fmt: skip


def _params(template: Template, lang: str, change: dict[str, str] | None = None) -> Params:
    indicators = {iid: indicator_params(iid, change) for iid in template.ids}
    return Params(department="cs-x", data=".", lang=lang, indicators=indicators)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", LANGS)
def test_sheet_rows_carry_no_placeholder(lang: str) -> None:
    params = _params(TEMPLATE, lang)
    for iid in TEMPLATE.ids:
        row = sheet_row(TEMPLATE, _record(iid, params.indicators[iid]), lang, params)
        for cell in row.cells:
            assert not re.search(r"×(?![ ]?\d)", cell), (iid, cell)
        assert row.cells[3] == f"{params.indicators[iid].weight}%"


@pytest.mark.parametrize("field", ["weight", "target"])
def test_params_that_differ_from_the_recorded_result_are_refused(field: str) -> None:
    """The sheet would state numbers that were not scored: refused, naming the indicator and both numbers."""
    params = _params(TEMPLATE, "zh")
    recorded = _record("CS04", indicator_params("CS04", {field: "50"}))
    with pytest.raises(
        AuditError, match="indicator CS04 of cs-x: the params give weight 10, target 92.5, but the recorded"
    ):
        sheet_row(TEMPLATE, recorded, "zh", params)


def test_filling_is_a_pure_function_of_template_and_params() -> None:
    before = TEMPLATE.indicator("CS04").rule.zh
    first = fill(TEMPLATE, "CS04", "rule", indicator_params("CS04"), "zh")
    assert fill(TEMPLATE, "CS04", "rule", indicator_params("CS04"), "zh") == first
    assert TEMPLATE.indicator("CS04").rule.zh == before and "×" in before  # the template keeps its placeholders


@pytest.mark.parametrize("department", ["cs-east", "cs-west", "cs-north"])
def test_the_demo_departments_sheets_are_filled_from_their_params(demo_dir: Path, department: str) -> None:
    """Through `load_params` and `for_period`, as the notebooks and scorecard.xlsx call it."""
    loaded = load_params(demo_dir / "params" / f"{department}.yaml")
    params = loaded.for_period(Period.parse("2026-Q4"))
    for ind in loaded.template.indicators:
        mine = params.indicators[ind.id]
        row = sheet_row(loaded.template, _record(ind.id, mine), params.lang, params)
        assert not any(re.search(r"×(?![ ]?\d)", cell) for cell in row.cells), (ind.id, row.cells)
        if "target" in {b.slot for b in blanks(ind.rule(params.lang), "rule")[0]}:
            assert f"{mine.target}%" in row.cells[4], (ind.id, row.cells[4])
