"""The seed's KPI sheet: its 13 columns, and one indicator's row filled in, built once for every report.

The group notebooks show one row per indicator (as a two-column table), the
scorecard notebook the whole sheet, and `scorecard.xlsx` the same rows as
spreadsheet cells: all of them call `sheet_row`, so the three can never say
different things.

Filling the seed's blanks. The template keeps the seed's placeholders (`××%`,
`每降×%,扣×分`); `fill` puts in the department's numbers for the period, a pure
function of the template text and the effective params (`Params.for_period`):
`客户满意率达到90%以上`, `每降1%,扣2分;每增1%,加1分`. Which number a blank stands for
is decided by where it stands (`template.blanks`, checked when the template loads,
so every blank here has its number); the multiplication sign of the formulas is
left alone. A bonus of 0 leaves the seed's bonus clause without meaning, so that
clause is said in words from the catalog (`超过目标不加分`). Numbers are written
with `numbers.plain`. `sheet_row` refuses params whose weight or target differ from
the recorded result's: the sheet would otherwise state numbers that were not scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ..base.errors import AuditError, InternalError
from ..base.messages import both, say
from ..base.numbers import plain
from ..inputs.params import IndicatorParams, Params
from ..inputs.template import Blank, Indicator, Template, blanks, bonus_clause
from ..scoring.result import IndicatorRecord

SHEET_KEYS = (
    "id",
    "name",
    "target",
    "weight",
    "rule",
    "collector",
    "source",
    "schedule",
    "methods",
    "result",
    "prerequisites",
    "resources",
    "formula",
)
SIGNS = {"higher": "≥", "lower": "≤"}
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def headers() -> list[tuple[str, str]]:
    """The sheet's column names (zh, en): the seed's 13 columns, then the score."""
    return [both(f"label.{key}") for key in (*SHEET_KEYS, "score")]


@dataclass(frozen=True)
class SheetRow:
    """One indicator's row: the 13 columns as text, and the weight and score as numbers (for the xlsx cells)."""

    cells: tuple[str, ...]
    weight: Decimal
    score: Decimal | None

    @property
    def score_text(self) -> str:
        return plain(self.score, 2)

    def pairs(self) -> list[tuple[tuple[str, str], str]]:
        """(column name (zh, en), cell) for the 13 columns, for a two-column table."""
        return list(zip(headers(), self.cells, strict=False))


def numbers(ind: Indicator, params: IndicatorParams) -> dict[str, str]:
    """The text of each number a blank can stand for (`template.SLOTS_OF`), from one indicator's params."""
    penalty = params.per_item if ind.direction == "count" else params.penalty
    found = {
        "weight": params.weight,
        "target": params.target,
        "step": params.step,
        "penalty": penalty,
        "bonus": params.bonus,
    }
    return {slot: plain(number) for slot, number in found.items() if number is not None}


def _text_of(ind: Indicator, column: str, lang: str) -> str:
    value = getattr(ind, column)
    return value if isinstance(value, str) else str(value(lang))


def fill(template: Template, indicator_id: str, column: str, params: IndicatorParams, lang: str) -> str:
    """One template text (`column`: a key of `template.FILLED`) in `lang` with its blanks filled from `params`."""
    ind = template.indicator(indicator_id)
    text = _text_of(ind, column, lang)
    found, unknown = blanks(text, column)
    values = numbers(ind, params)
    missing = [b.slot for b in found if b.slot not in values]
    if unknown or missing:  # `load_template` refuses both; a template changed after loading is a bug of ours
        raise InternalError(
            f"{template.path}: indicator {ind.id}, {column} ({lang}): cannot fill {text!r} "
            f"({'unrecognised placeholder' if unknown else 'no ' + ', '.join(missing) + ' in the params'})"
        )
    drop = [bonus_clause(text, b) for b in found if b.slot == "bonus"] if params.bonus == 0 else []
    out, at = [], 0
    for start, end in sorted(drop):
        out.append(_put(text[at:start], at, found, values))
        out.append(_in_words(text[start:end], ind.direction, lang))
        at = end
    out.append(_put(text[at:], at, found, values))
    return "".join(out)


def _put(part: str, offset: int, found: tuple[Blank, ...], values: dict[str, str]) -> str:
    """`part` (which starts at `offset` of its text) with each blank inside it replaced by its number."""
    out, at = [], 0
    for blank in found:
        start, end = blank.start - offset, blank.end - offset
        if 0 <= start and end <= len(part):
            out += [part[at:start], values[blank.slot]]
            at = end
            if values[blank.slot] == "1" and part.startswith(" points", at):  # `costs × points` → `costs 1 point`
                out.append(" point")
                at += len(" points")
    return "".join(out) + part[at:]


def _in_words(clause: str, direction: str, lang: str) -> str:
    """A bonus clause whose bonus is 0, said in words; its spaces around are kept (`; no bonus above the target`)."""
    words = say("sheet.no_bonus_lower", lang) if direction == "lower" else say("sheet.no_bonus_higher", lang)
    stripped = clause.strip()
    lead = clause[: len(clause) - len(clause.lstrip())]
    tail = clause[len(clause.rstrip()) :]
    end = stripped[-1] if stripped and stripped[-1] in ".。" else ""
    return f"{lead}{words}{end}{tail}"


def target_text(template: Template, record: IndicatorRecord, params: IndicatorParams, lang: str) -> str:
    """The target column: the template's words filled in, then the department's number (`≥ 90%`) unless the words say it.

    The words say it when a blank was filled with the target, or when every number in them is the
    target (the seed's `完成率100%` with target 100); `完成率100%` with target 95 gets `; ≥ 95%`.
    """
    ind = template.indicator(record.id)
    words = fill(template, record.id, "target_text", params, lang)
    if record.target is None or ind.direction not in SIGNS:
        return words
    said = {b.slot for b in blanks(_text_of(ind, "target_text", lang), "target_text")[0]}
    written = [Decimal(n) for n in NUMBER.findall(words)]
    if "target" in said or (written and all(n == record.target for n in written)):
        return words
    number = f"{SIGNS[ind.direction]} {plain(record.target)}%"
    return f"{words}; {number}" if words else number


def with_target(template: Template, record: IndicatorRecord, params: IndicatorParams, column: str, lang: str) -> str:
    """A statement or scoring-standard column filled in, followed by the department's target when its words
    name another: the seed writes `完成率达到100%,得满分` with a fixed 100, and a department scored against 95
    must not read "full marks at 100%" (`…得满分…（本期目标 ≥ 95%）`). Words with a target blank, or whose
    fixed numbers include the target, or with no number at all, are shown as they are.
    """
    ind = template.indicator(record.id)
    words = fill(template, record.id, column, params, lang)
    if record.target is None or ind.direction not in SIGNS:
        return words
    original = _text_of(ind, column, lang)
    if any(b.slot == "target" for b in blanks(original, column)[0]):
        return words
    fixed = [Decimal(n) for n in NUMBER.findall(original)]
    if not fixed or record.target in fixed:
        return words
    return words + say("sheet.target_now", lang, number=f"{SIGNS[ind.direction]} {plain(record.target)}%")


def method_name(template: Template, method: str, lang: str) -> str:
    return template.methods[method](lang) if method in template.methods else method


def sheet_row(template: Template, record: IndicatorRecord, lang: str, params: Params) -> SheetRow:
    """One indicator's row of the seed's sheet in `lang`, its blanks filled from the period's `params`, with its recorded result."""
    ind = template.indicator(record.id)
    mine = params.indicators.get(record.id)
    if mine is None or mine.weight != record.weight or (record.target is not None and mine.target != record.target):
        shown = "no entry" if mine is None else f"weight {plain(mine.weight)}, target {plain(mine.target)}"
        raise AuditError(
            f"indicator {record.id} of {params.department}: the params give {shown}, but the recorded result "
            f"weight {plain(record.weight)}, target {plain(record.target)}; the sheet is filled from the params the "
            "result was computed with: run the department again"
        )
    ex = record.explain
    result = "; ".join(p for p in (ex.formula_line, ex.survey_line, ex.rule_line) if p) if ex else "—"

    def filled(column: str) -> str:
        return fill(template, record.id, column, mine, lang)

    cells = (
        ind.id,
        with_target(template, record, mine, "statement", lang),
        target_text(template, record, mine, lang),
        f"{plain(record.weight)}%",
        with_target(template, record, mine, "rule", lang),
        filled("collector"),
        filled("source"),
        filled("schedule_text"),
        method_name(template, ex.method, lang) if ex else "—",
        result,
        filled("prerequisites_text") or "—",
        filled("resources") or "—",
        filled("formula"),
    )
    return SheetRow(cells, record.weight, record.score)
