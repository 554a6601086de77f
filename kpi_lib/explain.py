"""Words next to numbers: formulas with their numbers substituted, the rule applied, labels (zh/en).

Shared by the CLI scorecard, the notebooks and the HTML reports, so every place
explains a score the same way. The words are the message catalog's (`messages.yaml`:
`label.*`, `status.*`, `grade.*`, `explain.*`); this module fills in the numbers.
"""

from __future__ import annotations

from .appraisal import IndicatorResult
from .messages import catalog, say
from .numbers import plain
from .result import Explanation


def grade_label(text: str, lang: str) -> str:
    """The English name of a default grade label (SPEC §4) in "en"; a params file's own labels as written."""
    if lang != "en" or f"grade.{text}" not in catalog():
        return text
    return say(f"grade.{text}", lang)


def label(key: str, lang: str) -> str:
    return say(f"label.{key}", lang)


def status_text(status: str, lang: str) -> str:
    return say(f"status.{status}", lang)


def is_percent(result: IndicatorResult) -> bool:
    return result.indicator.direction != "count"


def value_text(result: IndicatorResult) -> str:
    if result.value is None:
        return "—"
    return f"{plain(result.value, 2)}%" if is_percent(result) else plain(result.value)


def formula_line(result: IndicatorResult, lang: str) -> str:
    """The formula with its actual numbers, e.g. `93.50% = 187 / 200 × 100%`."""
    ev = result.evidence
    if result.method == "observation":
        return say(
            "explain.formula.observation",
            lang,
            value=value_text(result),
            collector=ev.facts.get("collector") or "?",
            collected_on=ev.facts.get("collected_on") or "?",
            source=ev.facts.get("source") or "?",
            row=ev.facts.get("row"),
        )
    numerator, denominator = plain(ev.numerator), plain(ev.denominator)
    if result.value is None:
        return say("explain.formula.no_rows", lang, numerator=numerator, denominator=denominator)
    if result.indicator.direction == "count":
        return say(
            "explain.formula.count", lang, unfinished=numerator, planned=denominator, excused=result.excluded_rows
        )
    if "budget" in ev.facts:
        spent, budget = plain(ev.facts["spent"]), plain(ev.facts["budget"])
        return say("explain.formula.overrun", lang, value=value_text(result), spent=spent, budget=budget)
    return say("explain.formula.rate", lang, value=value_text(result), numerator=numerator, denominator=denominator)


def rule_line(result: IndicatorResult, lang: str) -> str:
    """The scoring rule applied, e.g. `target 95%, 1 step short × 2 points → 98.00`."""
    spec, scored = result.params, result.scored
    if scored is None:
        return say("explain.rule.excluded", lang)
    score = plain(scored.score, 2)
    if result.value is None:
        return say("explain.rule.on_empty", lang, score=score)
    clamp = say("explain.rule.clamped", lang) if scored.clamped else ""
    if result.indicator.direction == "count":
        value, per_item, raw = plain(result.value), plain(spec.per_item), plain(scored.raw)
        return say("explain.rule.count", lang, value=value, per_item=per_item, raw=raw, score=score, clamp=clamp)
    rule = {"target": plain(spec.target), "steps": plain(scored.steps), "step": plain(spec.step)}
    if scored.short:
        return say("explain.rule.short", lang, **rule, penalty=plain(spec.penalty), score=score, clamp=clamp)
    return say("explain.rule.better", lang, **rule, bonus=plain(spec.bonus), score=score, clamp=clamp)


def survey_line(result: IndicatorResult, lang: str, min_responses: int) -> str:
    """n and the 95% Wilson interval of a survey-based rate, with a warning below `min_responses`; "" otherwise."""
    interval = result.interval
    n = result.evidence.responses
    if interval is None or n is None:
        return ""
    low, high = interval
    text = say("explain.survey.interval", lang, n=n, low=plain(low, 2), high=plain(high, 2))
    if n < min_responses:
        text += say("explain.survey.few_responses", lang, min_responses=min_responses)
    return text


def explanation(result: IndicatorResult, lang: str, min_responses: int, sha256: str | None) -> Explanation:
    """How one indicator's number came about, in `lang`: what its record keeps beside the numbers."""
    return Explanation(
        method=result.method,
        file=result.evidence.file,
        sha256=sha256,
        value_text=value_text(result),
        formula_line=formula_line(result, lang),
        rule_line=rule_line(result, lang),
        survey_line=survey_line(result, lang, min_responses),
    )
