"""The template as data (SPEC §1)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kpi_lib import TemplateError, load_template
from kpi_lib.inputs.template import template_path

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_83521a5db3651fe1.txt"


def test_packaged_template_has_the_seeds_twelve_indicators_and_four_groups() -> None:
    template = load_template()
    assert template.ids == tuple(f"CS{i:02d}" for i in range(1, 13))
    groups = {g: [i.id for i in template.in_group(g)] for g in template.groups}
    assert groups == {
        "management": ["CS01", "CS02", "CS03", "CS12"],
        "service": ["CS04", "CS05", "CS06", "CS07", "CS10"],
        "key_accounts": ["CS08", "CS09"],
        "cost": ["CS11"],
    }
    directions = {i.id: i.direction for i in template.indicators}
    assert directions["CS01"] == "count" and directions["CS08"] == "lower" and directions["CS11"] == "lower"
    assert set(template.tables) == {
        "policy_plan",
        "work_plan",
        "surveys",
        "communications",
        "feedback",
        "revisits",
        "complaints",
        "key_accounts",
        "expenses",
        "budgets",
        "observations",
    }


def test_every_indicator_carries_every_column_in_both_languages() -> None:
    for ind in load_template().indicators:
        for text in (
            ind.name,
            ind.statement,
            ind.target_text,
            ind.rule,
            ind.collector,
            ind.source,
            ind.schedule_text,
            ind.formula,
        ):
            assert text.zh and text.en, ind.id
        assert ind.weight == "×%"  # the number is each department's (never guessed)
        assert ind.methods and ind.schedule


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed document is not beside this checkout")
def test_chinese_text_comes_from_the_seed() -> None:
    seed = SEED.read_text(encoding="utf-8").replace(" ", "")
    for ind in load_template().indicators:
        assert ind.rule.zh.replace(" ", "") in seed, ind.id
        assert ind.statement.zh.replace(" ", "") in seed, ind.id


def _broken(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(template_path("customer_service").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["indicators"][4].pop("weight"), "indicator CS05: weight is missing"),
        (lambda d: d["indicators"][1].update(id="CS01"), "indicator CS01: duplicate id"),
        (lambda d: d["indicators"][0].update(group="sales"), "indicator CS01: unknown group 'sales'"),
        (lambda d: d["indicators"][3]["rate"].update(table="calls"), "indicator CS04: unknown table 'calls'"),
        (lambda d: d["indicators"][3]["rate"].update(kind="magic"), "indicator CS04: unknown rate kind 'magic'"),
        (lambda d: d["indicators"][3]["rate"].pop("start"), "indicator CS04: rate on_time needs start"),
        (
            lambda d: d["indicators"][10]["rate"].pop("budget_table"),
            r"CS11: rate overrun needs budget_table \(a table\)",
        ),
        (lambda d: d["indicators"][0]["rate"].update(done=["a", "b"]), "indicator CS01: rate done: found"),
        (
            lambda d: d["indicators"][1]["rate"].update(filter="survey"),
            "indicator CS02: rate filter: expected a mapping",
        ),
        (lambda d: d["indicators"][8]["rate"]["filter"].update(key_account=None), "indicator CS09: rate filter"),
        (
            lambda d: d["tables"]["expenses"]["columns"].update(amount="decimal"),
            r"table expenses, column amount: found 'decimal'; expected a mapping such as \{type: decimal\}",
        ),
        (
            lambda d: d["indicators"][2].update(methods="records"),
            r"indicator CS03: methods: found 'records'; expected a list",
        ),
    ],
)
def test_broken_templates_are_rejected_naming_the_entry(tmp_path: Path, change, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load_template(str(_broken(tmp_path, change)))


def _set(index: int, column: str, lang: str | None, text: str):
    """A change that writes `text` into one column of one indicator (both languages when `lang` is None)."""

    def change(data: dict) -> None:
        entry = data["indicators"][index]
        if lang is None:
            entry[column] = text
        else:
            entry[column] = {**entry[column], lang: text}

    return change


# A placeholder the sheet could not fill is refused when the template loads: the file, the indicator, the
# column (with the seed's name) and the text are named, so nothing reaches a report with a `×` left in it.
@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            _set(3, "rule", "zh", "传递及时率每降×%,扣2分;每×次加分"),
            "CS04, rule (计分标准, zh)",
        ),  # no recognised context
        (_set(3, "rule", "en", "each ×% lower costs × marks"), "CS04, rule (计分标准, en)"),  # `marks`, not points
        (_set(3, "formula", "en", "rate = on time / all × hundred"), "CS04, formula (说明, en)"),  # × before a word
        (_set(3, "formula", "zh", "及时率 = 按时次数 / 总次数 ×× 100%"), "CS04, formula (说明, zh)"),  # ×× is no sign
        (_set(3, "statement", "zh", "传递及时率达到××%"), "CS04, statement (考评项目及考评指标, zh)"),  # no 以上
        (_set(3, "weight", None, "×"), "CS04, weight (权重, zh)"),  # the weight blank is `×%`
        (_set(3, "collector", "en", "× inspectors"), "CS04, collector (信息采集者, en)"),
        (_set(0, "target_text", "zh", "完成率××%以上"), "count indicator has no target"),  # CS01 counts items
        (_set(0, "rule", "en", "each ×% lower costs × points"), "count indicator has no step"),
        (
            _set(3, "rule", "zh", "每降×%扣×分,每增×%加×分"),
            "shares its clause with the penalty",
        ),  # bonus needs its own ;
    ],
)
def test_a_placeholder_the_sheet_cannot_fill_is_refused(tmp_path: Path, change, named: str) -> None:
    path = _broken(tmp_path, change)
    with pytest.raises(TemplateError) as raised:
        load_template(str(path))
    text = str(raised.value)
    assert str(path) in text and named in text, text
    assert "×" in text  # the text itself is quoted


@pytest.mark.parametrize(
    ("change"),
    [
        _set(3, "formula", "zh", "及时率 = 按时次数 / 总次数 × 100%"),  # the multiplication sign, spaced
        _set(3, "formula", "zh", "及时率 = 按时次数 / 总次数×100%"),  # … and not
        _set(3, "rule", "en", "At least ××% scores full marks; each ×% lower costs × points"),  # capitals
        _set(3, "target_text", "zh", "××%"),  # a bare target, as an imported sheet's 指标 column has it
        _set(3, "weight", None, "12"),  # a template may fix the weight
    ],
)
def test_placeholders_in_recognised_contexts_and_the_multiplication_sign_load(tmp_path: Path, change) -> None:
    load_template(str(_broken(tmp_path, change)))


def test_rate_specs_keep_every_key_of_the_template() -> None:
    """The typed RateSpec holds each rate mapping of the packaged template whole (nothing dropped, nothing added)."""
    data = yaml.safe_load(template_path("customer_service").read_text(encoding="utf-8"))
    written = {entry["id"]: entry["rate"] for entry in data["indicators"]}
    template = load_template()
    assert {ind.id: ind.rate.as_dict() for ind in template.indicators} == written
    assert template.indicator("CS09").rate.filter == (("key_account", True),)
    assert template.indicator("CS11").tables() == ("expenses", "budgets")


def test_a_second_template_loads_from_a_path(tmp_path: Path) -> None:
    def only_two(data: dict) -> None:
        data["id"] = "mini"
        data["indicators"] = data["indicators"][3:5]

    template = load_template(str(_broken(tmp_path, only_two)))
    assert template.id == "mini" and template.ids == ("CS04", "CS05")


def test_missing_template_file() -> None:
    with pytest.raises(TemplateError, match="cannot read the template"):
        load_template("/nonexistent/template.yaml")
