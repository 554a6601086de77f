"""Words next to numbers: formulas with their numbers substituted, the rule applied, labels (zh/en).

Shared by the CLI scorecard, the notebooks and the HTML reports, so every place
explains a score the same way. The words are the message catalog's (`messages.yaml`:
`label.*`, `status.*`, `grade.*`, `explain.*`, and for the reader's reports `report.*`,
`outcome.*`, `fact.*`, `column.*`); this module fills in the numbers.

One language per report: everything here takes the department's `lang` and says it in
that language only. What the rates produce as codes (an outcome such as `on time`, a
reason such as `excused: …`, a fact key such as `sla`, a computed column such as
`hours_taken`) is turned into words here; a code without an entry in the catalog raises
`KeyError` (a new rate kind must bring its words), so no English code ever reaches a
Chinese page unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..base.messages import catalog, say
from ..base.numbers import plain
from ..inputs.params import GradeBand, sla_parts
from ..inputs.template import TableSpec
from ..inputs.workdays import CHINA, Calendar
from ..scoring.appraisal import IndicatorResult
from ..scoring.rates import EXCLUDED_BY_PARAMS
from ..scoring.result import Explanation
from ..scoring.schedule import outside_windows


def grade_label(text: str, lang: str) -> str:
    """The English name of a default grade label in "en"; a params file's own labels as written."""
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
        return say("explain.formula.count", lang, unfinished=numerator, planned=denominator, excused=_excused(result))
    if "budget" in ev.facts:
        spent, budget = plain(ev.facts["spent"]), plain(ev.facts["budget"])
        return say("explain.formula.overrun", lang, value=value_text(result), spent=spent, budget=budget)
    return say("explain.formula.rate", lang, value=value_text(result), numerator=numerator, denominator=denominator)


def _excused(result: IndicatorResult) -> int:
    """The excused rows of a count indicator (not those the params exclude by key: they are no planned items)."""
    left = result.evidence.excluded
    if not len(left) or "reason" not in left:
        return result.excluded_rows
    return int((~left["reason"].astype(str).str.startswith(EXCLUDED_BY_PARAMS)).sum())


def rule_line(result: IndicatorResult, lang: str) -> str:
    """The scoring rule applied, in words, e.g. `target 95%, short by 1.22%: 1 step(s) of 1% × 2 points → 98.00`.

    The gap to the target is always said, so a result within one step reads as what it is
    ("short by 0.10%, less than one 1% step: no deduction"), never as "0 steps".
    """
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
    gap = abs(result.value - spec.target) if spec.target is not None else None
    rule = {"target": plain(spec.target), "step": plain(spec.step), "score": score, "clamp": clamp}
    if not gap:
        return say("explain.rule.met", lang, **rule)
    rule.update(gap=plain(gap, 2), steps=plain(scored.steps))
    if scored.short:  # short of a higher-is-better target, over a lower-is-better one
        if result.indicator.direction == "lower":
            if not scored.steps:
                return say("explain.rule.over_under_step", lang, **rule)
            return say("explain.rule.over", lang, **rule, penalty=plain(spec.penalty))
        if not scored.steps:
            return say("explain.rule.short_under_step", lang, **rule)
        return say("explain.rule.short", lang, **rule, penalty=plain(spec.penalty))
    if not spec.bonus:
        return say("explain.rule.no_bonus", lang, **rule)
    if not scored.steps:
        return say("explain.rule.better_under_step", lang, **rule)
    return say("explain.rule.better", lang, **rule, bonus=plain(spec.bonus))


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


# -- the reader's words for what the rates produce as codes --------------------------------------
def sla_text(sla: object, lang: str, calendar: object = None) -> str:
    """A response deadline as words: `24h` → "24 hours" / "24小时", `2wd` → "2 working days" / "2个工作日";
    with the calendar the working days were counted on: "2 working days (US-NY calendar)" / "2个工作日（US-NY 日历）"."""
    parts = sla_parts(str(sla)) if sla is not None else None
    if parts is None:
        return "—" if sla in (None, "") else str(sla)
    amount, unit = parts
    if unit == "wd" and calendar:
        return say("report.sla.wd_on", lang, n=amount, calendar=calendar)
    return say(f"report.sla.{unit}", lang, n=amount)


def outcome_text(outcome: object, lang: str) -> str:
    """An evidence row's outcome (`on time`, `not satisfied` …) in `lang`."""
    return say(f"outcome.{str(outcome).replace(' ', '_')}", lang)


def reason_text(reason: object, lang: str) -> str:
    """Why a row was left out, in `lang`: the rates' reasons (`excused`, `excused: <the row's own reason>` …).

    The row's own reason (a data value) is kept as written; a reason this module does not
    know is shown as written too (it is then a data value of an adapter's frame).
    """
    text = str(reason)
    if text == "excused":
        return say("report.reason.excused", lang)
    if text.startswith("excused: "):
        return say("report.reason.excused_because", lang, reason=text.removeprefix("excused: "))
    if text == "overrun approved by senior management":
        return say("report.reason.approved", lang)
    if text.startswith(EXCLUDED_BY_PARAMS):
        return say("report.reason.excluded", lang, reason=text.removeprefix(EXCLUDED_BY_PARAMS))
    column, _, rest = text.partition(" ")
    value, found, known = rest.rpartition(" matches none of ")
    if found:
        return say("report.reason.unmatched", lang, column=column, value=value, known=known)
    return text


def fact_label(key: str, lang: str) -> str:
    return say(f"fact.{key}", lang)


def fact_value(key: str, value: object, lang: str) -> str:
    """A fact beside an indicator's number, as the reader sees it (a deadline in words, numbers plainly)."""
    if key == "sla":
        return sla_text(value, lang)
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, (date, datetime, pd.Timestamp)):
        return value.isoformat()[:10]
    return "—" if value is None or (isinstance(value, float) and value != value) else str(value)


COMPUTED_COLUMNS = ("row", "status", "outcome", "reason", "deadline", "hours_taken")


def column_label(spec: TableSpec | None, column: str, lang: str) -> str:
    """An evidence table's column header in `lang`: the template's Chinese header (zh) or its column name (en)."""
    if column in COMPUTED_COLUMNS:
        return say(f"column.{column}", lang)
    found = next((c for c in spec.columns if c.name == column), None) if spec is not None else None
    if lang == "zh" and found is not None and found.alias:
        return found.alias
    return column.replace("_", " ")


def cell_text(value: Any, column: str, lang: str) -> Any:
    """One evidence cell as shown and written: outcomes and reasons in words, yes/no, times without `00:00:00`."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()  # numpy's bool, int, float as Python's
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if column == "outcome":
        return outcome_text(value, lang)
    if column == "reason":
        return reason_text(value, lang)
    if isinstance(value, bool):
        return say("report.yes", lang) if value else say("report.no", lang)
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    if isinstance(value, date):
        return value.isoformat()
    if column == "hours_taken" and isinstance(value, float):
        return plain(Decimal(repr(value)), 1)
    if isinstance(value, Decimal):
        return plain(value)
    return value


# -- grades and change ---------------------------------------------------------------------------
def grade_bands(bands: Sequence[GradeBand], lang: str) -> list[dict[str, str]]:
    """The params' grade bands, highest first: grade, "90 and above", its label in `lang`."""
    ordered = sorted(bands, key=lambda band: band.min, reverse=True)
    return [
        {"grade": b.grade, "range": say("report.band", lang, min=plain(b.min)), "label": grade_label(b.label, lang)}
        for b in ordered
    ]


def change_text(
    total: Decimal | None,
    previous: str,
    earlier: Sequence[tuple[str, Decimal | None]],
    lang: str,
) -> str:
    """The change against the previous period of the same kind, in words.

    `previous` names that period; `earlier` holds (period, total) of the periods on record
    before this one, oldest first. Without the previous period's result the change is said
    against the latest one on record, naming it; with none, "first period on record".
    """
    if total is None:
        return say("report.change.no_total", lang)
    scored = [(p, t) for p, t in earlier if t is not None]
    if not scored:
        return say("report.change.first", lang)
    last, last_total = scored[-1]
    delta = total - last_total
    if last != previous:
        return say(
            "report.change.missing",
            lang,
            previous=previous,
            last=last,
            total=plain(last_total, 2),
            change=_signed(delta),
        )
    shown = {"previous": previous, "total": plain(last_total, 2), "change": plain(abs(delta), 2)}
    if delta > 0:
        return say("report.change.up", lang, **shown)
    if delta < 0:
        return say("report.change.down", lang, **shown)
    return say("report.change.same", lang, previous=previous, total=plain(last_total, 2))


def _signed(delta: Decimal) -> str:
    return ("+" if delta > 0 else "") + plain(delta, 2)


# -- collection findings -------------------------------------------------------------------------
def finding_lines(
    result: IndicatorResult, review_date: date | None, lang: str, calendar: Calendar = CHINA
) -> list[str]:
    """`schedule.outside_windows` in `lang`: rows of evidence collected outside the schedule's windows."""
    check = outside_windows(result, review_date, calendar)
    if check is None:
        return []
    if check.unchecked:
        return [say("report.finding.no_review_date", lang)]
    sample = ", ".join(say("report.finding.row", lang, row=r, day=d.isoformat()) for r, d in check.rows[:5])
    sample += " …" if len(check.rows) > 5 else ""
    return [
        say(
            "report.finding.outside",
            lang,
            outside=len(check.rows),
            dated=check.dated,
            schedule=result.indicator.schedule_text(lang),
            spans=check.spans,
            sample=sample,
        )
    ]


def facts_shown(facts: Mapping[str, Any], lang: str, hidden: Sequence[str] = ("budget_file",)) -> list[tuple[str, str]]:
    """An evidence's facts as (label, value) in `lang`, in the rate's order (a deadline's calendar in its words)."""
    if "sla" in facts and "calendar" in facts:
        facts = {k: v for k, v in facts.items() if k != "calendar"} | {
            "sla": sla_text(facts["sla"], lang, facts["calendar"])
        }
        return [
            (fact_label(k, lang), v if k == "sla" else fact_value(k, v, lang))
            for k, v in facts.items()
            if k not in hidden
        ]
    return [(fact_label(k, lang), fact_value(k, v, lang)) for k, v in facts.items() if k not in hidden]
