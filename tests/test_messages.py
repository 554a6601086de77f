"""The zh/en message catalog (`kpi_lib/base/messages.yaml`): complete, used, and saying exactly what the reports say."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import kpi_lib
from kpi_lib import Period, appraise, load_params
from kpi_lib.base.messages import LANGS, both, catalog, fields_of, say
from kpi_lib.scoring.appraisal import IndicatorResult
from kpi_lib.words.explain import formula_line, grade_label, label, rule_line, status_text, survey_line, value_text

from .conftest import Company
from .test_rates import messages as communications

CATALOG = catalog()
SOURCES = sorted(Path(kpi_lib.__file__).parent.glob("**/*.py"))

# A key passed to say( or both( as a literal: "explain.rule.short", or f"label.{key}" (built from data).
CALL = re.compile(r"""\b(?:say|both)\(\s*(f?)(["'])(.*?)\2""", re.DOTALL)

# Keys built from data, by prefix: each is an f-string in the code, and every catalog key under it counts as used.
DYNAMIC_PREFIXES = {
    "label.": "explain.label(key, lang): the seed's column names and other labels",
    "status.": "explain.status_text(status, lang): an indicator's status",
    "grade.": "explain.grade_label(text, lang): the English names of the default grade labels",
    "outcome.": "explain.outcome_text(outcome, lang): an evidence row's outcome, as the rates name it",
    "fact.": "explain.fact_label(key, lang): a fact beside an indicator's number, as the rates name it",
    "column.": "explain.column_label(spec, column, lang): a column the rates add to evidence rows",
    "report.sla.": "explain.sla_text(sla, lang): a deadline's unit (h, wd) in words",
    "summary.": "summary.summary_xlsx / crosscheck: summary.xlsx's header words, by column",
    "summary.status.": "summary.summary_status(status, lang): a department's status in summary.xlsx",
    "why.is.": "incremental.why_text(why, lang): why a department ran or was reused, said whole",
    "why.part.": "incremental.why_text(why, lang): what changed since a department's previous run",
}


def keys_in_code() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Literal keys and f-string key templates passed to say()/both(), each with the files that pass it."""
    literal: dict[str, list[str]] = {}
    built: dict[str, list[str]] = {}
    for path in SOURCES:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            is_f, key = match.group(1), match.group(3)
            where = built if is_f and "{" in key else literal
            where.setdefault(key, []).append(path.name)
    return literal, built


LITERAL_KEYS, BUILT_KEYS = keys_in_code()


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_entry_has_both_languages_with_the_same_fields(key: str) -> None:
    entry = CATALOG[key]
    assert set(entry) == set(LANGS)
    assert all(isinstance(entry[lang], str) and entry[lang].strip() for lang in LANGS), f"{key}: an empty text"
    assert fields_of(entry["zh"]) == fields_of(entry["en"]), f"{key}: zh and en fill in different fields"


def test_the_code_passes_keys_to_the_catalog() -> None:
    """The scan itself works: it finds the explain and cli keys (a broken regex would make the next tests vacuous)."""
    assert "explain.rule.short" in LITERAL_KEYS and "cli.scorecard.finding" in LITERAL_KEYS
    assert {"label.{key}", "status.{status}", "grade.{text}"} <= set(BUILT_KEYS)


@pytest.mark.parametrize("key", sorted(LITERAL_KEYS))
def test_every_key_the_code_uses_exists(key: str) -> None:
    assert key in CATALOG, f"{key} (used in {', '.join(LITERAL_KEYS[key])}) is not in messages.yaml"


@pytest.mark.parametrize("template", sorted(BUILT_KEYS))
def test_every_key_built_from_data_has_a_documented_prefix(template: str) -> None:
    prefix = template.split("{")[0]
    assert prefix in DYNAMIC_PREFIXES, f"{template} (in {', '.join(BUILT_KEYS[template])}): add its prefix here"
    assert any(key.startswith(prefix) for key in CATALOG)


@pytest.mark.parametrize("prefix", sorted(DYNAMIC_PREFIXES))
def test_every_documented_prefix_is_still_built_in_the_code(prefix: str) -> None:
    assert any(template.startswith(prefix) for template in BUILT_KEYS), f"no f-string key starts with {prefix}"


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_entry_is_used(key: str) -> None:
    used = key in LITERAL_KEYS or any(key.startswith(prefix) for prefix in DYNAMIC_PREFIXES)
    assert used, f"{key} is in messages.yaml but no code says it"


def test_say_and_both() -> None:
    assert say("label.weight", "zh") == "权重" and say("label.weight", "en") == "Weight"
    assert say("label.weight", "fr") == "Weight"  # anything but zh is English
    assert both("cli.scorecard.finding", finding="x") == ("采集时间提示: x", "finding: x")
    with pytest.raises(KeyError):
        say("no.such.key", "zh")


def test_labels_statuses_and_grades_read_the_catalog() -> None:
    assert (label("manager_sign", "zh"), label("manager_sign", "en")) == (
        "部门经理签字",
        "Department manager's signature",
    )
    assert (status_text("excluded", "zh"), status_text("excluded", "en")) == ("无数据，未计入", "excluded (no rows)")
    assert [grade_label(g, "en") for g in ("优秀", "良好", "合格", "基本合格", "不合格")] == [
        "excellent",
        "good",
        "pass",
        "basic pass",
        "fail",
    ]
    assert grade_label("优秀", "zh") == "优秀"
    assert grade_label("A 档", "en") == "A 档"  # a params file's own label is shown as written


# -- every explain text, from real results of a tiny company


def _company(root: Path, **params: Any) -> dict[str, IndicatorResult]:
    company = Company(root)
    company.table("communications", communications(187, 13))  # CS04: 93.50%, 1 step short of 95
    company.table(
        "expenses",  # CS11: 12.50% over budget, 2 steps of 5% short of 0
        [{"entry_id": "E1", "date": "2026-12-31", "amount": "112500", "approved_overrun": ""}],
    )
    company.table(
        "policy_plan",  # CS01: 1 unfinished of 5 planned, 1 excused
        [
            {"item_id": "P1", "planned_date": "2026-10-10", "completed_date": "2026-10-09"},
            {"item_id": "P2", "planned_date": "2026-10-20", "completed_date": "2026-10-20"},
            {"item_id": "P3", "planned_date": "2026-11-10", "completed_date": "2026-11-30"},
            {"item_id": "P4", "planned_date": "2026-11-20", "completed_date": "", "excused": "是"},
            {"item_id": "P5", "planned_date": "2026-12-01", "completed_date": "2026-11-28"},
        ],
    )
    company.table(  # CS10: 12 of 12 satisfied, 10 steps better × 5 points = 150, clamped to 120
        "surveys",
        [
            {"response_id": f"R{i}", "survey": "customer_satisfaction", "date": "2026-12-20", "score": 5}
            for i in range(12)
        ],
    )
    company.table(  # CS02 observed: 91.46%, 1 step better than 90
        "observations",
        [
            {
                "indicator": "CS02",
                "period": "2026-Q4",
                "value": "91.456",
                "collector": "督察员 李",
                "collected_on": "2026-12-14",
                "source": "高层主管",
            }
        ],
    )
    indicators = {"CS02": {"method": "observation"}, "CS10": {"bonus": 5}}
    card = appraise(load_params(company.params(indicators=indicators, **params)), Period.parse("2026-Q4"))
    return {r.id: r for r in card.results}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, IndicatorResult]:
    """Named results of two appraisals of the tiny company: on_empty exclude (the default) and full."""
    default = _company(tmp_path_factory.mktemp("exclude"))
    full = _company(tmp_path_factory.mktemp("full"), policy={"on_empty": "full"})
    return {
        "rate_short": default["CS04"],
        "overrun_short": default["CS11"],
        "count": default["CS01"],
        "survey_better_clamped": default["CS10"],
        "observation_better": default["CS02"],
        "no_rows_excluded": default["CS07"],
        "no_rows_on_empty_full": full["CS07"],
    }


def _survey_30(result: IndicatorResult, lang: str) -> str:
    return survey_line(result, lang, 30)


def _survey_10(result: IndicatorResult, lang: str) -> str:
    return survey_line(result, lang, 10)


def _value(result: IndicatorResult, lang: str) -> str:
    return value_text(result)  # numbers only: the same in both languages


TEXTS: list[tuple[Callable[[IndicatorResult, str], str], str, str, str]] = [
    # formula_line: explain.formula.*
    (formula_line, "rate_short", "zh", "93.50% = 187 / 200 × 100%"),
    (formula_line, "rate_short", "en", "93.50% = 187 / 200 × 100%"),
    (formula_line, "overrun_short", "zh", "12.50% = max(0, 112500 − 100000) / 100000 × 100%"),
    (formula_line, "overrun_short", "en", "12.50% = max(0, 112500 − 100000) / 100000 × 100%"),
    (formula_line, "count", "zh", "n = 1（计划 5 项，未完成且非免责 1 项，免责 1 项）"),
    (formula_line, "count", "en", "n = 1 (5 planned, 1 unfinished and not excused, 1 excused)"),
    (formula_line, "survey_better_clamped", "zh", "100.00% = 12 / 12 × 100%"),
    (formula_line, "survey_better_clamped", "en", "100.00% = 12 / 12 × 100%"),
    (
        formula_line,
        "observation_better",
        "zh",
        "91.46%（督察员 李 于 2026-12-14 笔录，来源：高层主管，现场笔录表第 2 行）",
    ),
    (
        formula_line,
        "observation_better",
        "en",
        "91.46% (recorded by 督察员 李 on 2026-12-14, source: 高层主管, observations row 2)",
    ),
    (formula_line, "no_rows_excluded", "zh", "无数据: 0 / 0"),
    (formula_line, "no_rows_excluded", "en", "no rows: 0 / 0"),
    # rule_line: explain.rule.*
    (rule_line, "rate_short", "zh", "目标 95%，未达目标 1.50%，计 1 个 1% 步长 × 2 分 → 98.00"),
    (rule_line, "rate_short", "en", "target 95%, short by 1.50%: 1 step(s) of 1% × 2 points → 98.00"),
    (rule_line, "overrun_short", "zh", "目标 0%，超出目标 12.50%，计 2 个 5% 步长 × 10 分 → 80.00"),
    (rule_line, "overrun_short", "en", "target 0%, over by 12.50%: 2 step(s) of 5% × 10 points → 80.00"),
    (rule_line, "count", "zh", "100 − 1 项 × 10 分 = 90 → 90.00"),
    (rule_line, "count", "en", "100 − 1 item(s) × 10 points = 90 → 90.00"),
    (
        rule_line,
        "survey_better_clamped",
        "zh",
        "目标 90%，优于目标 10.00%，计 10 个 1% 步长 × 5 分 → 120.00（截至上下限）",
    ),
    (
        rule_line,
        "survey_better_clamped",
        "en",
        "target 90%, better by 10.00%: 10 step(s) of 1% × 5 points → 120.00 (clamped)",
    ),
    (rule_line, "observation_better", "zh", "目标 90%，优于目标 1.46%，计 1 个 1% 步长 × 1 分 → 101.00"),
    (rule_line, "observation_better", "en", "target 90%, better by 1.46%: 1 step(s) of 1% × 1 points → 101.00"),
    (rule_line, "no_rows_excluded", "zh", "未计入总分（无数据，其权重不参与加权）"),
    (rule_line, "no_rows_excluded", "en", "left out of the total (no rows; its weight drops out)"),
    (rule_line, "no_rows_on_empty_full", "zh", "无数据，按无数据规则计 100.00 分"),
    (rule_line, "no_rows_on_empty_full", "en", "no rows; the rule for no rows gives 100.00"),
    # survey_line: explain.survey.* (min_responses 30: warned; 10: not; a rate not from surveys: nothing)
    (
        _survey_30,
        "survey_better_clamped",
        "zh",
        "n = 12，95% 置信区间 75.75% – 100.00%（⚠ 样本不足 30 份，结果可信度低）",
    ),
    (
        _survey_30,
        "survey_better_clamped",
        "en",
        "n = 12, 95% CI 75.75% – 100.00% (⚠ fewer than 30 responses: the rate rests on too few answers)",
    ),
    (_survey_10, "survey_better_clamped", "zh", "n = 12，95% 置信区间 75.75% – 100.00%"),
    (_survey_10, "survey_better_clamped", "en", "n = 12, 95% CI 75.75% – 100.00%"),
    (_survey_30, "rate_short", "zh", ""),
    (_survey_30, "rate_short", "en", ""),
    # value_text: a percentage with 2 decimals, a count as is, — without rows
    (_value, "rate_short", "zh", "93.50%"),
    (_value, "rate_short", "en", "93.50%"),
    (_value, "count", "zh", "1"),
    (_value, "count", "en", "1"),
    (_value, "no_rows_excluded", "zh", "—"),
    (_value, "no_rows_excluded", "en", "—"),
]


@pytest.mark.parametrize(
    ("function", "name", "lang", "expected"),
    TEXTS,
    ids=[f"{f.__name__.lstrip('_')}-{name}-{lang}" for f, name, lang, _ in TEXTS],
)
def test_explain_texts(
    results: dict[str, IndicatorResult],
    function: Callable[[IndicatorResult, str], str],
    name: str,
    lang: str,
    expected: str,
) -> None:
    assert function(results[name], lang) == expected
