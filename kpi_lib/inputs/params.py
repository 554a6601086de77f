"""Department parameters: one YAML file per department, validated against its template.

`load_params(path)` parses the file (YAML numbers become exact `Decimal`s, never
binary floats), checks its shape with pydantic and then against the template:
every indicator present with a weight, the keys each direction needs, weights
summing to 100, prerequisites such as a response deadline (`sla`), methods the
template allows. Every problem is gathered and raised as one `ParamsError`
whose lines name the file, the key and what is expected.

Period overrides (`periods: {2026-Q4: {...}}`) are merged key by key into the
base; `Params.for_period(period)` returns the effective parameters, and every
override section is validated at load time, so a bad override is reported
before any run.

A params file may name a company file (`company: ../company.yaml`) holding
what every department shares; `load_params` reads it (the same strict YAML) and
merges the params over it before any check: a `tables` entry replaces the
company's entry for that table whole, `indicators` (per id, then per key),
`policy` and `periods` merge key by key, anything else replaces. Paths the
company file gives resolve against its folder (`Department.folder_of`,
`Department.table_base`), and a problem with a value it gave names it and the
line of the key. The rules, and which keys it may hold, are in `kpi_lib.inputs.company`.

`method: observation` is accepted for every indicator: the value is then the
one an inspector recorded in the `observations` table (the bundled params example does this
for CS02, whose seed method is a survey). `records` and `survey` must be among
the template's methods for that indicator; both compute the template's rate.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from ..base import yamlfile
from ..base.errors import Code, ParamsError, Problem, Refusal, UsageError
from ..base.numbers import NotANumber, check_bounds, from_float, from_text
from ..base.text import PLAIN_ID, control_problem, exactness_problem, id_length_problem
from . import sql
from .company import NOT_IN_COMPANY, CompanyFile, at_line, deep_merge, dropped_sources, key_problems, relocate
from .company import merge as merge_company
from .company import owner as company_owner
from .period import FIRST_YEAR, LAST_YEAR, Period
from .tables import DEFAULT_TIMEZONE
from .template import TableSpec, Template, load_template
from .workdays import DEFAULT_CALENDAR, Calendar, UnknownCalendar, calendar_of

DEPARTMENT_ID = PLAIN_ID  # (kpi_lib.base.text)
SLA = re.compile(r"^(\d+)(h|wd)$", re.ASCII)
SLA_LIMITS = {"h": 366 * 24, "wd": 250}  # a deadline longer than a year is a typo, not a policy


class _Invalid(Refusal, ValueError):
    """A validator's refusal with its `Code` (pydantic keeps the exception: see `_pydantic_code`)."""


def sla_parts(text: str | None) -> tuple[int, str] | None:
    """A deadline as (amount, unit): "24h" → (24, "h"), "2wd" → (2, "wd"); None when `text` is not one."""
    match = SLA.match(text or "")
    return (int(match.group(1)), match.group(2)) if match else None


def _exact_number(value: Any) -> Any:
    """A params number as written: YAML numbers, or text of plain ASCII digits (`'90'`, not `'９０'` or `'0_5'`)."""
    try:
        if isinstance(value, bool):
            raise NotANumber("expected a number, found a boolean", Code.NOT_A_NUMBER)
        if isinstance(value, str):
            return from_text(value)
        if isinstance(value, float):
            return from_float(value)
        return value
    except NotANumber as exc:
        raise _Invalid(str(exc), exc.code) from None


def _bounded(number: Decimal) -> Decimal:
    try:
        return check_bounds(number)
    except NotANumber as exc:
        raise _Invalid(str(exc), exc.code) from None


Number = Annotated[Decimal, BeforeValidator(_exact_number), AfterValidator(_bounded)]

DEFAULT_GRADES = (
    {"grade": "A", "min": 90, "label": "优秀"},
    {"grade": "B", "min": 80, "label": "良好"},
    {"grade": "C", "min": 70, "label": "合格"},
    {"grade": "D", "min": 60, "label": "基本合格"},
    {"grade": "E", "min": 0, "label": "不合格"},
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Policy(_Model):
    step_rounding: Literal["floor", "ceil", "exact"] = "floor"
    min_score: Number = Decimal(0)
    max_score: Number = Decimal(120)
    on_empty: Literal["exclude", "full", "zero", "error"] = "exclude"
    satisfied_min_score: Number = Field(default=Decimal(4), ge=1, le=5)
    min_responses: int = Field(default=30, ge=1)


class GradeBand(_Model):
    grade: str = Field(min_length=1)
    min: Number
    label: str = ""


class IndicatorParams(_Model):
    weight: Number = Field(ge=0)
    target: Number | None = None
    step: Number | None = Field(default=None, gt=0)
    penalty: Number | None = Field(default=None, ge=0)
    bonus: Number = Field(default=Decimal(0), ge=0)
    per_item: Number | None = Field(default=None, ge=0)
    method: Literal["records", "survey", "observation"] | None = None
    sla: str | None = None

    @field_validator("sla", mode="before")
    @classmethod
    def _sla(cls, value: Any) -> Any:
        if value is None:
            return None
        parts = sla_parts(str(value).strip())
        if parts is None:
            raise _Invalid(
                'expected "<N>h" (calendar hours) or "<N>wd" (working days) with ASCII digits, e.g. 24h or 2wd',
                Code.BAD_SLA,
            )
        if parts[0] > SLA_LIMITS[parts[1]]:
            raise _Invalid(
                f"a deadline longer than a year; expected at most {SLA_LIMITS['h']}h or {SLA_LIMITS['wd']}wd",
                Code.BAD_SLA,
            )
        return str(value).strip()

    @property
    def sla_parts(self) -> tuple[int, str] | None:
        """The deadline as (amount, unit), or None without one (see `sla_parts`)."""
        return sla_parts(self.sla)


def _strptime_format(fmt: str) -> str:
    """A date format that reads every part it shows: no %Z (a zone name strptime reads and drops), no %p without
    %I, no %I without %p (a 12-hour clock without AM/PM)."""
    if "%Z" in fmt:
        raise _Invalid(
            f"{fmt!r}: %Z reads a time zone name and throws it away; use %z for an offset such as +0800, or the params' timezone",
            Code.BAD_DATE_FORMAT,
        )
    if "%p" in fmt and "%I" not in fmt:
        raise _Invalid(f"{fmt!r}: %p (AM/PM) is ignored with %H; use %I (12-hour clock) with %p", Code.BAD_DATE_FORMAT)
    if "%I" in fmt and "%p" not in fmt:
        raise _Invalid(
            f"{fmt!r}: %I (12-hour clock) without %p reads 12:30 as 00:30; add %p (AM/PM), or use %H (24-hour clock)",
            Code.BAD_DATE_FORMAT,
        )
    if not any(code in fmt for code in ("%Y", "%y")):
        raise _Invalid(f"{fmt!r}: expected a format with the year (%Y)", Code.BAD_DATE_FORMAT)
    return fmt


class SqlSource(_Model):
    """A table read from a database (see kpi_lib.inputs.sql): an SQLAlchemy URL and one query that reads."""

    url: str = Field(min_length=1)
    query: str = Field(min_length=1)
    connect_timeout: int = Field(default=sql.DEFAULT_TIMEOUT, ge=1, le=600)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            sql.check_url(value)
        except sql.Refused as exc:
            raise _Invalid(str(exc), exc.code) from None
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        try:
            sql.check_query(value)
        except sql.Refused as exc:
            raise _Invalid(str(exc), exc.code) from None
        return value


class TableSource(_Model):
    """How one table is read from a real export (see kpi_lib.inputs.sources) or a database (`sql`, see kpi_lib.inputs.sql)."""

    file: str | None = None
    sql: SqlSource | None = None
    sheet: str | None = None
    columns: dict[str, str] = {}
    values: dict[str, dict[str, Any]] = {}
    constants: dict[str, Any] = {}
    date_format: str | None = None
    formats: dict[str, str] = {}
    adapter: str | None = None
    options: dict[str, Any] = {}
    allow_no_rows: bool = (
        False  # the department truly has no rows in this table (else "no row of department" is an error)
    )
    exclude: dict[
        str, str
    ] = {}  # key (key columns joined with |) → why the row is left out (see kpi_lib.inputs.tables)

    @field_validator("exclude", mode="before")
    @classmethod
    def _exclude(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # (pydantic names the wrong type)
        for key, reason in value.items():
            if not isinstance(key, str):
                shown = "null" if key is None else key.isoformat() if isinstance(key, date) else str(key)
                raise _Invalid(
                    f"key {shown} is not text (YAML read it as a {type(key).__name__}); write it in quotes exactly "
                    f'as the file writes it, leading zeros included, e.g. "{shown}"',
                    Code.BAD_EXCLUDE_KEY,
                )
            if not key or exactness_problem(key) is not None:
                raise _Invalid(
                    f"key {key!r} {exactness_problem(key) or 'is empty'}; expected the key exactly as the file writes it",
                    Code.BAD_EXCLUDE_KEY,
                )
            if not isinstance(reason, str) or not reason.strip():
                raise _Invalid(
                    f"key {key!r}: expected a reason (text) why the row is left out; it is shown in the evidence",
                    Code.EMPTY_VALUE,
                )
            if (problem := control_problem(reason, free_text=True)) is not None:
                raise _Invalid(f"key {key!r}: the reason {problem}", Code.CONTROL_CHARACTER)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> TableSource:
        if self.sql is not None:
            for key in ("file", "sheet", "adapter"):
                if getattr(self, key) is not None:
                    raise _Invalid(
                        f"{key} and sql cannot be given together; a table is read from a file or from a database "
                        "(shape the rows in the query)",
                        Code.EXCLUSIVE_KEYS,
                    )
        return self

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        return None if value is None else _strptime_format(value)

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: dict[str, str]) -> dict[str, str]:
        return {column: _strptime_format(fmt) for column, fmt in value.items()}

    @field_validator("adapter")
    @classmethod
    def _adapter(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[^:]+\.py(:[A-Za-z_][A-Za-z0-9_]*)?$", value):
            raise _Invalid('expected "file.py:function" (a Python file beside the params file)', Code.BAD_ADAPTER)
        return value


class Params(_Model):
    department: str
    name: str = ""
    template: str = "customer_service"
    data: str
    lang: Literal["zh", "en"] = "zh"
    timezone: str = DEFAULT_TIMEZONE
    calendar: str = DEFAULT_CALENDAR  # working days: CN, a `holidays` country code such as US-NY, or weekdays
    days_off: tuple[date, ...] = ()  # dates added as days off (a company shutdown)
    workdays: tuple[date, ...] = ()  # dates added as working days (a working Saturday)
    review_date: date | None = None
    policy: Policy = Policy()
    grades: tuple[GradeBand, ...] = tuple(GradeBand.model_validate(g) for g in DEFAULT_GRADES)
    indicators: dict[str, IndicatorParams]
    tables: dict[str, TableSource] = {}
    periods: dict[str, dict[str, Any]] = {}
    # What `kpi init --from` proposed and nobody has confirmed yet: key → how it was found. Each entry fails
    # `load_params` (see `unconfirmed`) until it is deleted; never part of the effective params.
    suggested: dict[str, str] = Field(
        default={},
        exclude=True,
        description="proposals of kpi init --from not yet confirmed: check each key it names, then delete its line",
    )

    @field_validator("department")
    @classmethod
    def _department(cls, value: str) -> str:
        if not DEPARTMENT_ID.fullmatch(value):
            raise _Invalid("expected an id of lowercase letters, digits, - and _ only (it names folders)", Code.BAD_ID)
        if too_long := id_length_problem(value):
            raise _Invalid(too_long, Code.ID_TOO_LONG)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise _Invalid(
                "expected an IANA time zone name such as Asia/Shanghai or Europe/Berlin", Code.UNKNOWN_TIMEZONE
            ) from None
        return value

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, value: str) -> str:
        try:
            calendar_of(value)
        except UnknownCalendar as exc:
            raise _Invalid(str(exc), Code.UNKNOWN_CALENDAR) from None
        return value

    @field_validator("days_off", "workdays")
    @classmethod
    def _added_days(cls, value: tuple[date, ...]) -> tuple[date, ...]:
        for day in value:
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise _Invalid(f"{day}: expected dates in the years {FIRST_YEAR}–{LAST_YEAR}", Code.DATE_OUT_OF_RANGE)
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _days_once(self) -> Params:
        both = sorted(set(self.days_off) & set(self.workdays))
        if both:
            raise _Invalid(
                f"days_off and workdays both list {', '.join(map(str, both))}; expected each date in one of them",
                Code.DUPLICATE_ENTRY,
            )
        return self

    @property
    def working_calendar(self) -> Calendar:
        """The department's working days: `calendar` with `days_off` and `workdays` added (see `kpi_lib.inputs.workdays`)."""
        return calendar_of(self.calendar, self.days_off, self.workdays)

    @field_validator("review_date")
    @classmethod
    def _review_date(cls, value: date | None) -> date | None:
        if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise _Invalid(f"expected a date in the years {FIRST_YEAR}–{LAST_YEAR}", Code.DATE_OUT_OF_RANGE)
        return value


class Department:
    """A loaded params file: the validated base, its template, and where its data lives."""

    def __init__(
        self,
        path: Path,
        raw: dict[str, Any],
        params: Params,
        template: Template,
        data: Path | None = None,
        *,
        company: CompanyFile | None = None,
        own: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.raw = raw  # the params merged over the company file's keys (or the params alone)
        self.base = params
        self.template = template
        self.company = company  # the company file it names, loaded (None without `company:`)
        self.own = raw if own is None else own  # the params file's own keys
        self._data = data
        self._periods: dict[Period, Params] = {}

    def folder_of(self, key: str) -> Path:
        """The folder relative paths under `key` (`data`, `template`, `tables.<t>`) resolve against.

        The company file's folder when the value came from the company file, else
        the params file's (see kpi_lib.inputs.company).
        """
        return _folder_of(key, self.path, self.company, self.own)

    def table_base(self, name: str) -> Path:
        """The folder of the YAML file that defined table `name`'s entry: where its adapter and a relative database file are.

        The company file's folder for an entry the company file gave (and the
        params file did not replace), else the params file's folder.
        """
        return self.folder_of(f"tables.{name}")

    def table_bases(self) -> dict[str, Path]:
        """`table_base` of every table whose entry the company file gave (the others: the params file's folder)."""
        return {name: self.table_base(name) for name in self.base.tables if self.table_base(name) != self.path.parent}

    @property
    def snapshot(self) -> bool:
        """True when reading a run's `inputs/` copies (the data folder was overridden)."""
        return self._data is not None

    @property
    def id(self) -> str:
        return self.base.department

    @property
    def data_folder(self) -> Path:
        if self._data is not None:
            return self._data
        folder = Path(self.base.data).expanduser()
        return folder if folder.is_absolute() else (self.folder_of("data") / folder).resolve()

    def for_period(self, period: Period) -> Params:
        """The effective parameters of one period, with its override merged in (validated once per period).

        `Params` is frozen, so every caller of one period shares the same object.
        """
        if period not in self._periods:
            try:
                self._periods[period] = _effective(self.path, self.raw, str(period), self.template)
            except ParamsError as exc:
                raise ParamsError(_located(exc.problems, self.path, self.company, self.own)) from None
        return self._periods[period]


def load_params(
    path: str | Path, *, template: str | Path | None = None, data: Path | None = None, company: Path | None = None
) -> Department:
    """Load a params file and check it against its template; raise `ParamsError` listing every problem.

    `template` and `data` override the file's own `template` and `data`, and
    `company` the company file its `company:` key names (the audit trail
    recomputes from the copies in a run's `inputs/` folder this way).
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: params file not found; expected a YAML file such as params/cs-east.yaml")
    raw, text = _read_yaml(path, "params file", "expected a mapping with department, data and indicators")
    problems: list[Problem] = sql.password_problems(raw, str(path))
    shared = None
    if "company" in raw:
        shared = _load_company(path, raw.pop("company"), text, company, problems)
    raw["periods"] = _period_sections(raw.get("periods"), str(path), problems)
    own = raw
    if shared is not None:
        problems.extend(dropped_sources(shared, own, str(path)))
        raw = merge_company(shared.raw, own)
    template_name = str(template or raw.get("template") or "customer_service")
    loaded = load_template(template_name, base=_folder_of("template", path, shared, own))
    base = _validate(path, raw, loaded, problems)
    for key, override in raw["periods"].items():
        _validate(path, deep_merge(raw, override), loaded, problems, prefix=f"periods.{key}")
    problems.extend(unconfirmed(path, own, shared))
    if problems or base is None:  # (`_validate` gives None only with a problem)
        raise ParamsError(_located(problems, path, shared, own))
    return Department(path, raw, base, loaded, data, company=shared, own=own)


def unconfirmed(path: Path, own: dict[str, Any], company: CompanyFile | None) -> list[Problem]:
    """One problem per entry of `suggested:` (in the params file or its company file): a proposal of `kpi init --from`
    that nobody has confirmed, named with what it proposes and how to confirm it."""
    found: list[Problem] = []
    for raw, file, lines in (
        (own, str(path), None),
        *(((company.raw, str(company.path), company),) if company is not None else ()),
    ):
        entries = raw.get("suggested")
        if not isinstance(entries, dict):
            continue  # (not a mapping: the model names it)
        for key, why in entries.items():
            problem = Problem(
                file=file,
                message=f"suggested.{key}: unconfirmed proposal of kpi init ({why}); check {key} in this file, "
                "then delete this line under suggested: to confirm it (delete suggested: when it is empty)",
                code=Code.UNCONFIRMED_SUGGESTION,
            )
            found.append(at_line(problem, lines.line(("suggested", str(key)))) if lines is not None else problem)
    return found


def _folder_of(key: str, path: Path, company: CompanyFile | None, own: dict[str, Any]) -> Path:
    """The folder a relative path under `key` resolves against: the company file's when the company gave it, else the params file's."""
    if company is not None and company_owner(tuple(key.split(".")), company.raw, own) == "company":
        return company.folder
    return path.parent


def _located(problems: list[Problem], path: Path, company: CompanyFile | None, own: dict[str, Any]) -> list[Problem]:
    """Problems about values the company file gave, named in the company file with their line (see kpi_lib.inputs.company)."""
    if company is None:
        return problems
    return [relocate(p, str(path), company, own) for p in problems]


def _read_yaml(path: Path, what: str, expected: str) -> tuple[dict[str, Any], str]:
    """A params or company file's mapping (keys as text) and its text; `ParamsError` naming the file when it is not one."""
    try:
        text = path.read_bytes().decode("utf-8")
        raw = yamlfile.load(text)
    except OSError as exc:
        raise ParamsError(
            f"cannot read the {what}: {exc.strerror or exc}", file=str(path), code=Code.UNREADABLE_FILE
        ) from None
    except UnicodeDecodeError as exc:
        raise ParamsError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=str(path), code=Code.BAD_ENCODING
        ) from None
    except yamlfile.YamlProblem as exc:
        raise ParamsError(str(exc), file=str(path), code=exc.code) from None
    if not isinstance(raw, dict):
        raise ParamsError(expected, file=str(path), code=Code.WRONG_TYPE)
    return {str(k): v for k, v in raw.items()}, text


def _load_company(path: Path, named: Any, text: str, override: Path | None, problems: list[Problem]) -> CompanyFile:
    """The company file the params file at `path` names (or `override`, a run's copy); its own problems into `problems`.

    A `company:` that is no file name, or names no file, raises `ParamsError`
    naming the params file and the line of its `company:` key.
    """
    line = yamlfile.key_lines(text).get(("company",))
    if not isinstance(named, str) or not named.strip():
        raise ParamsError(
            [
                at_line(
                    Problem(
                        file=str(path),
                        message="company: expected the path of the company file, e.g. company: ../company.yaml",
                        code=Code.WRONG_TYPE,
                    ),
                    line,
                )
            ]
        )
    where = override if override is not None else Path(named).expanduser()
    where = where if where.is_absolute() else path.parent / where
    if not where.is_file():
        raise ParamsError(
            [
                at_line(
                    Problem(
                        file=str(path),
                        message=f"company: {named!r}: no such file ({where.resolve()}); expected the YAML file every department shares, "
                        "its path relative to this params file's folder",
                        code=Code.MISSING_COMPANY_FILE,
                    ),
                    line,
                )
            ]
        )
    where = where.resolve()
    raw, company_text = _read_yaml(
        where, "company file", "expected a mapping of the keys every department shares (data, template, tables …)"
    )
    company = CompanyFile(where, raw, yamlfile.key_lines(company_text))
    problems += key_problems(company, Params.model_fields)
    problems += [company.with_line(p) for p in sql.password_problems(raw, str(where))]
    for key in [k for k in raw if k in NOT_IN_COMPANY or k not in Params.model_fields]:
        del raw[key]  # named once above, not again as an unknown key of the params
    if "periods" in raw:
        found: list[Problem] = []
        raw["periods"] = _period_sections(raw["periods"], str(where), found)
        problems += [company.with_line(p) for p in found]
    return company


PERIOD_KEYS = (
    "indicators",
    "policy",
    "grades",
)  # what a period may override; who and where a department is may not change


def _period_sections(sections: Any, file: str, problems: list[Problem]) -> dict[str, dict[str, Any]]:
    """The `periods:` overrides by canonical period text; a key that is not one (`"2026-Q4 "`, `2026` and `"2026"` both) is a problem."""
    if sections is None:
        return {}
    if not isinstance(sections, dict):
        problems.append(
            Problem(
                file=file,
                message="periods: expected a mapping of period → overrides, e.g. 2026-Q4: {indicators: {CS04: {target: 97}}}",
                code=Code.WRONG_TYPE,
            )
        )
        return {}
    found: dict[str, dict[str, Any]] = {}
    for key, override in sections.items():
        text = str(key)
        try:
            canonical = str(Period.parse(text))
        except UsageError as exc:
            problems.append(Problem(file=file, message=f"periods.{text}: {exc}", code=Code.BAD_PERIOD))
            continue
        if canonical != text:
            problems.append(
                Problem(
                    file=file,
                    message=f"periods.{text!r}: expected the period written exactly as {canonical!r}",
                    code=Code.NEAR_MATCH,
                )
            )
            continue
        if canonical in found:
            problems.append(
                Problem(
                    file=file,
                    message=f"periods.{canonical}: given twice (once as a number, once as text); expected each period once",
                    code=Code.DUPLICATE_ENTRY,
                )
            )
            continue
        if not isinstance(override, dict):
            problems.append(
                Problem(
                    file=file, message=f"periods.{canonical}: expected a mapping of overrides", code=Code.WRONG_TYPE
                )
            )
            continue
        extra = [str(k) for k in override if str(k) not in PERIOD_KEYS]
        if extra:
            problems.append(
                Problem(
                    file=file,
                    message=f"periods.{canonical}.{extra[0]}: a period may override only {', '.join(PERIOD_KEYS)}",
                    code=Code.OVERRIDE_NOT_ALLOWED,
                )
            )
            continue
        found[canonical] = override
    return found


def _effective(path: Path, raw: dict[str, Any], period: str, template: Template) -> Params:
    override = raw.get("periods", {}).get(period)
    data = deep_merge(raw, override) if override else raw
    problems: list[Problem] = []
    params = _validate(path, data, template, problems)
    if problems or params is None:
        raise ParamsError(problems)
    return params


def _validate(
    path: Path, raw: dict[str, Any], template: Template, problems: list[Problem], prefix: str = ""
) -> Params | None:
    file = str(path)

    def where(key: str) -> str:
        return f"{prefix} → {key}" if prefix else key

    try:
        params = Params.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(part) for part in err["loc"])
            head = f"{where(key)}: " if key or prefix else ""  # (a check of the whole file names its keys itself)
            problems.append(Problem(file=file, message=f"{head}{_pydantic_message(err)}", code=_pydantic_code(err)))
        indicators = raw.get("indicators")
        if isinstance(indicators, dict):  # what the template asks of each indicator, reported in the same pass
            _check_indicators(
                {str(k): v for k, v in indicators.items() if isinstance(v, dict)}, template, file, where, problems
            )
        return None
    before = len(problems)
    _check_indicators(
        {iid: spec.model_dump() for iid, spec in params.indicators.items()}, template, file, where, problems
    )
    for name, source in params.tables.items():
        key = f"tables.{name}"
        if name not in template.tables:
            problems.append(
                Problem(
                    file=file,
                    message=f"{where(key)}: unknown table; template {template.id} has {', '.join(template.tables)}",
                    code=Code.UNKNOWN_TABLE,
                )
            )
            continue
        columns = {c.name for c in template.tables[name].columns}
        for part in ("columns", "values", "constants", "formats"):
            for column in getattr(source, part):
                if column not in columns:
                    problems.append(
                        Problem(
                            file=file,
                            message=f"{where(f'{key}.{part}.{column}')}: unknown column of {name}; expected one of {', '.join(sorted(columns))}",
                            code=Code.UNKNOWN_COLUMN,
                        )
                    )
        problems.extend(_exclude_problems(source, template.tables[name], file, where(f"{key}.exclude")))
        for column in source.values:
            if column in columns and column not in source.columns:
                problems.append(
                    Problem(
                        file=file,
                        message=f"{where(f'{key}.values.{column}')}: a values map applies only to a column mapped in columns; "
                        f"add columns: {{{column}: <the file's header>}} (a header read by its own column name is not mapped)",
                        code=Code.VALUES_WITHOUT_COLUMN,
                    )
                )
    if len(problems) == before:
        total = sum((spec.weight for spec in params.indicators.values()), Decimal(0))
        if total != 100:
            listed = ", ".join(f"{iid}={_plain(spec.weight)}" for iid, spec in params.indicators.items())
            problems.append(
                Problem(
                    file=file,
                    message=f"{where('indicators')}: weights sum to {_plain(total)}, expected 100 ({listed})",
                    code=Code.WEIGHTS_NOT_100,
                )
            )
    if params.policy.min_score > params.policy.max_score:
        problems.append(
            Problem(
                file=file,
                message=f"{where('policy')}: min_score {params.policy.min_score} is above max_score {params.policy.max_score}",
                code=Code.MIN_ABOVE_MAX,
            )
        )
    grades = params.grades
    if not grades:
        problems.append(
            Problem(file=file, message=f"{where('grades')}: expected at least one band", code=Code.EMPTY_SECTION)
        )
    elif min(b.min for b in grades) > min(params.policy.min_score, Decimal(0)):
        problems.append(
            Problem(
                file=file,
                message=f"{where('grades')}: the lowest band's min is {_plain(min(b.min for b in grades))}; expected one band with min 0 (or min_score) so every total gets a grade",
                code=Code.GRADES_INCOMPLETE,
            )
        )
    if len({b.grade for b in grades}) != len(grades):
        problems.append(
            Problem(file=file, message=f"{where('grades')}: duplicate grade names", code=Code.DUPLICATE_ENTRY)
        )
    return params if len(problems) == before else None


def _exclude_problems(source: TableSource, spec: TableSpec, file: str, where: str) -> list[Problem]:
    """Each excluded key has one part per key column of the table (joined with `|`); a table without a key has none."""
    if not source.exclude:
        return []
    if not spec.key:
        return [
            Problem(
                file=file,
                message=f"{where}: table {spec.name} has no key, so no row of it can be excluded by key",
                code=Code.BAD_EXCLUDE_KEY,
            )
        ]
    problems = []
    for key in source.exclude:
        parts = key.split("|") if len(spec.key) > 1 else [key]
        if len(parts) != len(spec.key) or not all(parts):
            shape = "|".join(f"<{c}>" for c in spec.key)
            problems.append(
                Problem(
                    file=file,
                    message=f"{where}: key {key!r} is not {shape}; expected the {len(spec.key)} key values of {spec.name} joined with |",
                    code=Code.BAD_EXCLUDE_KEY,
                )
            )
    return problems


def _check_indicators(
    indicators: dict[str, dict[str, Any]],
    template: Template,
    file: str,
    where: Callable[[str], str],
    problems: list[Problem],
) -> None:
    """The template's demands on each indicator's keys: known ids, keys by direction, prerequisites, methods."""
    for iid in indicators:
        if iid not in template.ids:
            problems.append(
                Problem(
                    file=file,
                    message=f"{where('indicators.' + iid)}: unknown indicator; template {template.id} has {', '.join(template.ids)}",
                    code=Code.UNKNOWN_INDICATOR,
                )
            )
    for ind in template.indicators:
        key = f"indicators.{ind.id}"
        spec = indicators.get(ind.id)
        if spec is None:
            problems.append(
                Problem(
                    file=file,
                    message=f"{where(key)}: missing; every indicator of the template needs at least a weight",
                    code=Code.MISSING_INDICATOR,
                )
            )
            continue
        if ind.direction == "count":
            if spec.get("per_item") is None:
                problems.append(
                    Problem(
                        file=file,
                        message=f"{where(key + '.per_item')}: missing; {ind.id} is a count indicator and needs per_item (points per unfinished item)",
                        code=Code.MISSING_KEY,
                    )
                )
            for extra in ("target", "step", "penalty"):
                if spec.get(extra) is not None:
                    problems.append(
                        Problem(
                            file=file,
                            message=f"{where(key + '.' + extra)}: not used by a count indicator; expected weight and per_item only",
                            code=Code.KEY_NOT_USED,
                        )
                    )
        else:
            for need in ("target", "step", "penalty"):
                if spec.get(need) is None:
                    problems.append(
                        Problem(
                            file=file,
                            message=f"{where(key + '.' + need)}: missing; a {ind.direction} indicator needs target, step and penalty",
                            code=Code.MISSING_KEY,
                        )
                    )
            target = spec.get("target")
            if isinstance(target, (int, Decimal)) and not 0 <= target <= 100:
                problems.append(
                    Problem(
                        file=file,
                        message=f"{where(key + '.target')}: found {target}, expected a percentage from 0 to 100 ({ind.id} is a rate)",
                        code=Code.OUT_OF_RANGE,
                    )
                )
            if spec.get("per_item") is not None:
                problems.append(
                    Problem(
                        file=file,
                        message=f"{where(key + '.per_item')}: only for count indicators; {ind.id} is {ind.direction}",
                        code=Code.KEY_NOT_USED,
                    )
                )
        for prerequisite in ind.prerequisites:
            if spec.get(prerequisite) is None:
                what = ind.prerequisites_text.en or prerequisite
                problems.append(
                    Problem(
                        file=file,
                        message=f"{where(key + '.' + prerequisite)}: missing prerequisite (必备条件): {what}; e.g. sla: 24h or sla: 2wd",
                        code=Code.MISSING_PREREQUISITE,
                    )
                )
        method = spec.get("method")
        if method in ("records", "survey") and method not in ind.methods:
            problems.append(
                Problem(
                    file=file,
                    message=f"{where(key + '.method')}: {method!r} is not a method of {ind.id}; expected one of {', '.join((*ind.methods, 'observation'))}",
                    code=Code.NOT_A_CHOICE,
                )
            )


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f") if number == number.to_integral_value() else str(number)


def section_keys(loc: tuple[int | str, ...], model: type[BaseModel] | None = None) -> list[str]:
    """The keys a params section accepts, by its place (`("policy",)`, `("tables", "complaints")`); [] if unknown."""
    kind: Any = model or Params
    parts = list(loc)
    while True:
        while get_origin(kind) in (dict, tuple, list) or get_origin(kind) in (Union, UnionType):
            args = [a for a in get_args(kind) if a is not type(None) and a is not Ellipsis]
            if get_origin(kind) in (dict, tuple, list):
                if not parts:
                    return []
                parts.pop(0)  # a table name, an indicator id, a position
            kind = args[-1] if args else None
        if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
            return []
        if not parts:
            return list(kind.model_fields)
        field = kind.model_fields.get(str(parts.pop(0)))
        if field is None:
            return []
        kind = field.annotation


def _pydantic_message(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        keys = section_keys(tuple(err["loc"][:-1])) + (["company"] if len(err["loc"]) == 1 else [])
        near = difflib.get_close_matches(str(err["loc"][-1]), keys, n=1) if keys else []
        hint = f" (did you mean {near[0]}?)" if near else ""
        return f"unknown key{hint}; expected one of {', '.join(keys)}" if keys else "unknown key"
    if kind == "missing":
        return "missing; this key is required"
    if kind == "literal_error":
        return f"found {err.get('input')!r}, {err['msg'].replace('Input should be', 'expected')}"
    message = err["msg"].replace("Input should be", "expected").replace("Value error, ", "")
    found = err.get("input")
    if isinstance(found, str) and (err["loc"][-1:] == ("url",) or sql.holds_password(found)):
        return message  # a database URL is never echoed: what is wrong with it may be where its password is
    if found is None and "input" in err:
        return "empty; fill in a value"
    if isinstance(found, str):
        return f"found {found!r}, {message}"
    if isinstance(found, (int, Decimal, float)):
        return f"found {found}, {message}"
    return message


_PYDANTIC_CODES = {
    "extra_forbidden": Code.UNKNOWN_KEY,
    "missing": Code.MISSING_KEY,
    "literal_error": Code.NOT_A_CHOICE,
    "greater_than": Code.OUT_OF_RANGE,
    "greater_than_equal": Code.OUT_OF_RANGE,
    "less_than": Code.OUT_OF_RANGE,
    "less_than_equal": Code.OUT_OF_RANGE,
    "string_too_short": Code.EMPTY_VALUE,
    "int_parsing": Code.NOT_A_NUMBER,
    "int_from_float": Code.NOT_A_WHOLE_NUMBER,
    "bool_parsing": Code.NOT_A_BOOLEAN,
}


def _pydantic_code(err: Any) -> Code:
    """The `Code` of one pydantic error (the same cases as `_pydantic_message`): a validator's own, else by type."""
    refused = (err.get("ctx") or {}).get("error")
    if isinstance(refused, Refusal):
        return refused.code
    kind = err["type"]
    if kind in ("extra_forbidden", "missing", "literal_error"):
        return _PYDANTIC_CODES[kind]
    if err.get("input") is None and "input" in err:
        return Code.EMPTY_VALUE
    if kind.startswith(("date_", "datetime_")):
        return Code.BAD_DATE
    return _PYDANTIC_CODES.get(kind, Code.WRONG_TYPE)
