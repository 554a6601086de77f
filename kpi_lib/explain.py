"""Words next to numbers: formulas with their numbers substituted, the rule applied, labels (zh/en).

Shared by the CLI scorecard, the notebooks and the HTML reports, so every place
explains a score the same way.
"""

from __future__ import annotations

from decimal import Decimal

from .appraisal import IndicatorResult
from .result import Explanation

LABELS = {
    "id": ("序号", "No."),
    "name": ("考评项目及考评指标", "Indicator"),
    "target": ("指标", "Target"),
    "weight": ("权重", "Weight"),
    "rule": ("计分标准", "Scoring standard"),
    "collector": ("信息采集者", "Collector"),
    "source": ("信息采集点", "Collection point"),
    "schedule": ("信息采集时间", "Collection time"),
    "methods": ("信息采集方法", "Collection method"),
    "result": ("信息采集结果", "Collected result"),
    "prerequisites": ("必备条件", "Prerequisites"),
    "resources": ("所需资源", "Resources"),
    "formula": ("说明", "Formula / notes"),
    "value": ("结果", "Value"),
    "score": ("得分", "Score"),
    "status": ("状态", "Status"),
    "total": ("加权总分", "Weighted total"),
    "grade": ("等级", "Grade"),
    "department": ("部门", "Department"),
    "period": ("考核期间", "Period"),
    "window": ("考核窗口", "Window"),
    "manager_sign": ("部门经理签字", "Department manager's signature"),
    "supervisor_sign": ("上级主管领导签字", "Supervising leader's signature"),
}

STATUS = {
    "scored": ("已计分", "scored"),
    "observed": ("笔录计分", "observed"),
    "excluded": ("无数据，未计入", "excluded (no rows)"),
}


# English names of the default grade labels (SPEC §4); a params file's own labels are shown as written.
GRADE_LABELS_EN = {"优秀": "excellent", "良好": "good", "合格": "pass", "基本合格": "basic pass", "不合格": "fail"}


def grade_label(text: str, lang: str) -> str:
    return GRADE_LABELS_EN.get(text, text) if lang == "en" else text


def label(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return zh if lang == "zh" else en


def status_text(status: str, lang: str) -> str:
    zh, en = STATUS[status]
    return zh if lang == "zh" else en


def plain(number: Decimal | None, places: int | None = None) -> str:
    """A decimal without exponent or trailing noise; `places` fixes the decimals."""
    if number is None:
        return "—"
    if places is not None:
        return f"{number:.{places}f}"
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def is_percent(result: IndicatorResult) -> bool:
    return result.indicator.direction != "count"


def value_text(result: IndicatorResult) -> str:
    if result.value is None:
        return "—"
    return f"{plain(result.value, 2)}%" if is_percent(result) else plain(result.value)


def formula_line(result: IndicatorResult, lang: str) -> str:
    """The formula with its actual numbers, e.g. `93.50% = 187 / 200 × 100%`."""
    ev = result.evidence
    zh = lang == "zh"
    if result.method == "observation":
        who = ev.facts.get("collector") or "?"
        when = ev.facts.get("collected_on") or "?"
        source = ev.facts.get("source") or "?"
        if zh:
            return f"{value_text(result)}（{who} 于 {when} 笔录，来源：{source}，observations 第 {ev.facts.get('row')} 行）"
        return f"{value_text(result)} (recorded by {who} on {when}, source: {source}, observations row {ev.facts.get('row')})"
    if result.value is None:
        return f"{'无数据' if zh else 'no rows'}: {plain(ev.numerator)} / {plain(ev.denominator)}"
    if result.indicator.direction == "count":
        excused = result.excluded_rows
        if zh:
            return f"n = {plain(ev.numerator)}（计划 {plain(ev.denominator)} 项，未完成且非免责 {plain(ev.numerator)} 项，免责 {excused} 项）"
        return f"n = {plain(ev.numerator)} ({plain(ev.denominator)} planned, {plain(ev.numerator)} unfinished and not excused, {excused} excused)"
    if "budget" in ev.facts:
        spent, budget = ev.facts["spent"], ev.facts["budget"]
        return f"{value_text(result)} = max(0, {plain(spent)} − {plain(budget)}) / {plain(budget)} × 100%"
    return f"{value_text(result)} = {plain(ev.numerator)} / {plain(ev.denominator)} × 100%"


def rule_line(result: IndicatorResult, lang: str) -> str:
    """The scoring rule applied, e.g. `target 95%, 1 step short × 2 points → 98.00`."""
    zh = lang == "zh"
    spec, scored = result.params, result.scored
    if scored is None:
        return "未计入总分（无数据，on_empty: exclude）" if zh else "left out of the total (no rows, on_empty: exclude)"
    if result.value is None:
        return (
            f"无数据，按 on_empty 计 {plain(scored.score, 2)} 分"
            if zh
            else f"no rows; on_empty gives {plain(scored.score, 2)}"
        )
    clamp = ("（截至上下限）" if zh else " (clamped)") if scored.clamped else ""
    if result.indicator.direction == "count":
        if zh:
            return f"100 − {plain(result.value)} 项 × {plain(spec.per_item)} 分 = {plain(scored.raw)} → {plain(scored.score, 2)}{clamp}"
        return f"100 − {plain(result.value)} item(s) × {plain(spec.per_item)} points = {plain(scored.raw)} → {plain(scored.score, 2)}{clamp}"
    target = f"{plain(spec.target)}%"
    steps = plain(scored.steps)
    if scored.short:
        if zh:
            return f"目标 {target}，未达 {steps} 步（每步 {plain(spec.step)}%）× {plain(spec.penalty)} 分 → {plain(scored.score, 2)}{clamp}"
        return f"target {target}, {steps} step(s) of {plain(spec.step)}% short × {plain(spec.penalty)} points → {plain(scored.score, 2)}{clamp}"
    if zh:
        return f"目标 {target}，优于 {steps} 步（每步 {plain(spec.step)}%）× {plain(spec.bonus)} 分 → {plain(scored.score, 2)}{clamp}"
    return f"target {target}, {steps} step(s) of {plain(spec.step)}% better × {plain(spec.bonus)} points → {plain(scored.score, 2)}{clamp}"


def survey_line(result: IndicatorResult, lang: str, min_responses: int) -> str:
    """n and the 95% Wilson interval of a survey-based rate, with a warning below `min_responses`; "" otherwise."""
    interval = result.interval
    n = result.evidence.responses
    if interval is None or n is None:
        return ""
    low, high = interval
    zh = lang == "zh"
    text = (
        f"n = {n}，95% 置信区间 {plain(low, 2)}% – {plain(high, 2)}%"
        if zh
        else f"n = {n}, 95% CI {plain(low, 2)}% – {plain(high, 2)}%"
    )
    if n < min_responses:
        text += (
            f"（⚠ 样本不足 {min_responses} 份，结果可信度低）"
            if zh
            else f" (⚠ fewer than {min_responses} responses: the rate rests on too few answers)"
        )
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
