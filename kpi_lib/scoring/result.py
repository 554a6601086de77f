"""A department's result for one period: one frozen, typed record from the notebooks to `kpi verify`.

    IndicatorRecord     one indicator object of result.json (+ its explanation, for the reports)
    GroupRecord         what a group notebook records: its department, period, group and indicators
    DepartmentResult    the object of result.json: department, period, window, total, grade, indicators

The numbers flow one way. `appraise` computes them (`appraisal.IndicatorResult`);
a group notebook records them once as `IndicatorRecord`s; the scorecard notebook
combines the recorded records with `appraisal.combine` and records the
`DepartmentResult`; `result.json`, `scorecard.xlsx`, the index and `kpi verify`
all read that record (`executed.read_scorecard`, `DepartmentResult.from_json`).
Nothing downstream computes a number again, except `kpi verify --recompute`,
whose point is to.

JSON. `to_json()` gives the keys in their documented order. A number is written as the documented
examples show: `weight`, `target`, `numerator`, `denominator` and `steps` as
an integer when whole, else a decimal number (`json_number`); `value`, `score`,
`total`, `ci_low` and `ci_high` always as a decimal number (`json_real`, `100.0`).
`from_json()` takes such an object in any key order (an executed notebook stores
its outputs with sorted keys), checks every field's type, and raises `AuditError`
naming the file and field otherwise; `to_json(from_json(x)) == x`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from ..base.errors import AuditError, KpiError, shorten
from ..inputs.period import Period

RESULT_KEYS = ("department", "period", "window", "total", "grade", "indicators")
INDICATOR_KEYS = (
    "id",
    "group",
    "weight",
    "direction",
    "target",
    "value",
    "numerator",
    "denominator",
    "steps",
    "score",
    "status",
    "excluded_rows",
    "n",
    "ci_low",
    "ci_high",
)
STATUSES = ("scored", "observed", "excluded")
WHOLE_WHEN_WHOLE = frozenset({"weight", "target", "numerator", "denominator", "steps"})  # 5, or 5.5
REAL = frozenset({"value", "score", "ci_low", "ci_high"})  # always 5.0


def json_number(value: Decimal | None) -> int | float | None:
    """A decimal as a JSON number: an int when whole, else the float with the same shortest text."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def json_real(value: Decimal | None) -> float | None:
    """A decimal as a JSON number with a point (`100.0`)."""
    return None if value is None else float(value)


@dataclass(frozen=True)
class Explanation:
    """How an indicator's number came about, in the department's language (shown in the sheet and the xlsx)."""

    method: str
    file: str
    sha256: str | None
    value_text: str
    formula_line: str
    rule_line: str
    survey_line: str

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Any, where: str) -> Explanation:
        if not isinstance(data, Mapping):
            raise AuditError(f"{where}: explain is not an object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if f.name == "sha256" and value is None:
                values[f.name] = None
            elif not isinstance(value, str):
                raise AuditError(f"{where}: explain.{f.name} is {shorten(repr(value))}; expected text")
            else:
                values[f.name] = value
        return cls(**values)


@dataclass(frozen=True)
class IndicatorRecord:
    """One indicator object of `result.json`; `explain` is kept beside it in the notebooks, never in result.json."""

    id: str
    group: str
    weight: Decimal
    direction: str
    target: Decimal | None
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    steps: Decimal | None
    score: Decimal | None
    status: str
    excluded_rows: int
    n: int | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    explain: Explanation | None = None

    @property
    def counts(self) -> bool:
        """Whether the indicator counts in the weighted total (it got a score)."""
        return self.status in ("scored", "observed")

    def to_json(self) -> dict[str, Any]:
        """The indicator object of `result.json`, in its key order."""
        out: dict[str, Any] = {}
        for key in INDICATOR_KEYS:
            value = getattr(self, key)
            if key in WHOLE_WHEN_WHOLE:
                value = json_number(value)
            elif key in REAL:
                value = json_real(value)
            out[key] = value
        return out

    def to_record(self) -> dict[str, Any]:
        """The object a group notebook records: `result.json`'s keys plus `explain`."""
        return {**self.to_json(), "explain": None if self.explain is None else self.explain.to_json()}

    @classmethod
    def from_json(cls, data: Any, where: str) -> IndicatorRecord:
        """An indicator object (with or without `explain`); `AuditError` naming `where` and the field when one is wrong."""
        if not isinstance(data, Mapping):
            raise AuditError(f"{where}: an indicator entry is not an object")
        ident = data.get("id")
        at = f"{where}: indicator {shorten(ident)}" if isinstance(ident, str) else f"{where}: an indicator"
        values: dict[str, Any] = {}
        for key in INDICATOR_KEYS:
            if key not in data:
                raise AuditError(f"{at}: {key} is missing")
            values[key] = _field(key, data[key], at)
        explain = data.get("explain")
        values["explain"] = None if explain is None else Explanation.from_json(explain, at)
        return cls(**values)


def _field(key: str, value: Any, at: str) -> Any:
    """One field of an indicator object, typed; `AuditError` when it is not what kpi writes."""
    if key in ("id", "group", "direction", "status"):
        if not isinstance(value, str) or (key == "status" and value not in STATUSES):
            raise AuditError(f"{at}: {key} is {shorten(repr(value))}; expected {_expected(key)}")
        return value
    if key in ("excluded_rows", "n"):
        if value is None and key == "n":
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise AuditError(f"{at}: {key} is {shorten(repr(value))}; expected a whole number from 0 up")
        return value
    if value is None and key != "weight":
        return None
    return decimal_of(value, f"{at}: {key}")


def _expected(key: str) -> str:
    return f"one of {', '.join(STATUSES)}" if key == "status" else "text"


def decimal_of(value: Any, at: str) -> Decimal:
    """A JSON number as the exact decimal it prints as (a float by its shortest text); `AuditError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AuditError(f"{at} is {shorten(repr(value))}; expected a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise AuditError(f"{at} is {value!r}; expected a finite number")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@dataclass(frozen=True)
class GroupRecord:
    """What a group notebook records: the indicators of one group of one department and period."""

    department: str
    period: Period
    group: str
    indicators: tuple[IndicatorRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "group",
            "group": self.group,
            "department": self.department,
            "period": str(self.period),
            "indicators": [i.to_record() for i in self.indicators],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> GroupRecord:
        department, group, items = data.get("department"), data.get("group"), data.get("indicators")
        if not isinstance(department, str) or not isinstance(group, str) or not isinstance(items, list):
            raise AuditError(f"{where}: the recorded group result is not as a group notebook records it")
        return cls(department, _period(data.get("period"), where), group, _indicators(items, where))


@dataclass(frozen=True)
class DepartmentResult:
    """The result object (`result.json`, `kpi score --json`), with each indicator's explanation when recorded."""

    department: str
    period: Period
    total: Decimal | None
    grade: str | None
    indicators: tuple[IndicatorRecord, ...]

    @property
    def window(self) -> dict[str, str]:
        return self.period.window()

    def indicator(self, indicator_id: str) -> IndicatorRecord:
        return next(i for i in self.indicators if i.id == indicator_id)

    def scores(self) -> dict[str, Decimal | None]:
        return {i.id: i.score for i in self.indicators}

    def to_json(self) -> dict[str, Any]:
        """The result object in its key order (no explanations)."""
        return {
            "department": self.department,
            "period": str(self.period),
            "window": self.window,
            "total": json_real(self.total),
            "grade": self.grade,
            "indicators": [i.to_json() for i in self.indicators],
        }

    def to_record(self) -> dict[str, Any]:
        """What the scorecard notebook records: the result object with each indicator's explanation."""
        return {**self.to_json(), "indicators": [i.to_record() for i in self.indicators]}

    @classmethod
    def from_json(cls, data: Any, where: str) -> DepartmentResult:
        """A result object (result.json, or recorded in a notebook); `AuditError` naming `where` and the field."""
        if not isinstance(data, Mapping):
            raise AuditError(f"{where}: expected a JSON object")
        missing = [k for k in RESULT_KEYS if k not in data]
        if missing:
            raise AuditError(f"{where}: {', '.join(missing)} missing")
        department, grade, items = data["department"], data["grade"], data["indicators"]
        if not isinstance(department, str):
            raise AuditError(f"{where}: department is {shorten(repr(department))}; expected text")
        if grade is not None and not isinstance(grade, str):
            raise AuditError(f"{where}: grade is {shorten(repr(grade))}; expected text")
        if not isinstance(items, list):
            raise AuditError(f"{where}: indicators is not a list")
        period = _period(data["period"], where)
        if data["window"] != period.window():
            raise AuditError(f"{where}: window {shorten(data['window'])} is not period {period}'s {period.window()}")
        total = None if data["total"] is None else decimal_of(data["total"], f"{where}: total")
        return cls(department, period, total, grade, _indicators(items, where))


def _period(value: Any, where: str) -> Period:
    if not isinstance(value, str):
        raise AuditError(f"{where}: period is {shorten(repr(value))}; expected text such as 2026-Q4")
    try:
        return Period.parse(value)
    except KpiError:
        raise AuditError(f"{where}: period {shorten(repr(value))} is not a period") from None


def _indicators(items: Sequence[Any], where: str) -> tuple[IndicatorRecord, ...]:
    return tuple(IndicatorRecord.from_json(item, where) for item in items)
