"""The seed's KPI sheet: its 13 columns, and one indicator's row filled in, built once for every report.

The group notebooks show one row per indicator (as a two-column table), the
scorecard notebook the whole sheet, and `scorecard.xlsx` the same rows as
spreadsheet cells: all of them call `sheet_row`, so the three can never say
different things.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .messages import both
from .numbers import plain
from .result import IndicatorRecord
from .template import Template

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


def target_text(template: Template, record: IndicatorRecord, lang: str) -> str:
    """The target column: the template's words, then the department's number (`≥ 90%`) when it has one."""
    ind = template.indicator(record.id)
    words = ind.target_text(lang)
    if record.target is None or ind.direction not in SIGNS:
        return words
    return f"{words}; {SIGNS[ind.direction]} {plain(record.target)}%"


def method_name(template: Template, method: str, lang: str) -> str:
    return template.methods[method](lang) if method in template.methods else method


def sheet_row(template: Template, record: IndicatorRecord, lang: str) -> SheetRow:
    """One indicator's row of the seed's sheet, filled in with its recorded result (in `lang`)."""
    ind = template.indicator(record.id)
    ex = record.explain
    result = "; ".join(p for p in (ex.formula_line, ex.survey_line, ex.rule_line) if p) if ex else "—"
    cells = (
        ind.id,
        ind.statement(lang),
        target_text(template, record, lang),
        f"{plain(record.weight)}%",
        ind.rule(lang),
        ind.collector(lang),
        ind.source(lang),
        ind.schedule_text(lang),
        method_name(template, ex.method, lang) if ex else "—",
        result,
        ind.prerequisites_text(lang) or "—",
        ind.resources(lang) or "—",
        ind.formula(lang),
    )
    return SheetRow(cells, record.weight, record.score)
