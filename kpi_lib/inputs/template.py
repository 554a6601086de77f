"""The indicator template as data: the seed's 13 columns, the groups and the input tables.

A template is a YAML file (the packaged one is `templates/customer_service.yaml`)
loaded into frozen dataclasses. `load_template("customer_service")` takes the
packaged file; any other value is a path. Loading gathers every problem (missing
weight, duplicate id, unknown group, unknown table, unknown rate kind …) and
raises one `TemplateError` naming each entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from ..base import yamlfile
from ..base.errors import Code, Problem, TemplateError, shorten
from ..base.files import sha256_bytes
from ..base.messages import say
from ..base.text import PLAIN_ID, id_length_problem

DIRECTIONS = ("higher", "lower", "count")
METHODS = ("records", "survey", "observation")
COLUMN_TYPES = ("str", "date", "timestamp", "bool", "decimal", "int", "period")
SCHEDULES = (
    "annual_review_minus_1w",
    "monthly_last_workday",
    "semiannual_last_week",
    "quarterly_last_half_month",
    "plan_due",
)
PACKAGED = ("customer_service",)
# The rate kinds (the input tables), each with the RateSpec columns it reads; `rates.RATES` holds their functions.
RATE_KINDS: dict[str, tuple[str, ...]] = {
    "unfinished_items": ("date", "done"),
    "score_share": ("date", "score"),
    "quantity_ratio": ("date", "numerator", "denominator"),
    "on_time": ("start", "end"),
    "distinct_done": ("date", "done", "entity"),
    "flag_share": ("date", "flag"),
    "lost_share": ("since", "lost"),
    "overrun": ("date", "amount", "approved", "budget_table"),
}
OBSERVATIONS = "observations"  # the table the `observation` method reads (the input tables)
NAME = PLAIN_ID  # (kpi_lib.base.text)

# -- the seed's blanks ----------------------------------------------------------------------
PLACEHOLDER = "×"
_RUN = re.compile("×+")
MULTIPLICATION = re.compile(r"(?<!×)×(?!×)(?=[ \t\u00a0\u3000]*\d)")  # `× 100%`, `×100%`: not a blank
# The recognised contexts: a pattern whose group 1 is the blank, and the number it stands for.
# `penalty` is the indicator's per_item when it is a count indicator (扣×分 per unfinished item).
CONTEXTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"每(?:降低?|下降|增加?|减少|提高|上升|超支|超出|多|少)(×+)%"), "step"),
    (re.compile(r"扣(×+)分"), "penalty"),
    (re.compile(r"加(×+)分"), "bonus"),
    (re.compile(r"(×+)%(?=以上|以内|以下|之内)"), "target"),
    (re.compile(r"(?i)\beach (×+)%"), "step"),
    (re.compile(r"(?i)\b(?:costs|loses) (×+) points?\b"), "penalty"),
    (re.compile(r"(?i)\b(?:adds|gains) (×+) points?\b"), "bonus"),
    (
        re.compile(r"(?i)\b(?:at least|at or above|at most|at or below|within|no more than|no less than) (×+)%"),
        "target",
    ),
)
WEIGHT_CONTEXT = re.compile(r"^\s*(×+)\s*%\s*$")  # `×%` and nothing else (the weight, or a bare target)
CLAUSE_END = re.compile(r"[;；]")
SLOTS_OF = {  # the numbers each direction has (params.IndicatorParams)
    "higher": frozenset({"weight", "target", "step", "penalty", "bonus"}),
    "lower": frozenset({"weight", "target", "step", "penalty", "bonus"}),
    "count": frozenset({"weight", "penalty"}),
}
# The template texts a sheet shows (each may hold blanks; the weight is a plain string), with the seed's column of each.
FILLED = {
    "name": "name",
    "statement": "name",
    "target_text": "target",
    "weight": "weight",
    "rule": "rule",
    "collector": "collector",
    "source": "source",
    "schedule_text": "schedule",
    "prerequisites_text": "prerequisites",
    "resources": "resources",
    "formula": "formula",
}
BLANKS_HELP = (
    "recognised blanks: ××% before 以上/以内/以下 or after 'at least'/'within'/'at most' (the target), "
    "每降×%/每增×% or 'each ×%' (the step), 扣×分 or 'costs × points' (the penalty; per_item for a count indicator), "
    "加×分 or 'adds × points' (the bonus), ×% alone in the weight or the target; a single × before a number (× 100%) is the "
    "multiplication sign"
)


@dataclass(frozen=True)
class Blank:
    """One placeholder of a text: where its `×` run stands, and which number it stands for."""

    start: int
    end: int
    slot: str


def blanks(text: str, column: str) -> tuple[tuple[Blank, ...], tuple[int, ...]]:
    """(the recognised blanks of `text`, in order; the positions of every other `×` that is no multiplication sign)."""
    found: list[Blank] = []
    alone = WEIGHT_CONTEXT.match(text) if column in ("weight", "target_text") else None
    if alone:  # `×%` alone: the weight in its column; the target in the seed's 指标 column
        found.append(Blank(alone.start(1), alone.end(1), "weight" if column == "weight" else "target"))
    elif column != "weight":
        for pattern, slot in CONTEXTS:
            found.extend(Blank(m.start(1), m.end(1), slot) for m in pattern.finditer(text))
    found.sort(key=lambda b: b.start)
    covered = {i for b in found for i in range(b.start, b.end)}
    signs = {m.start() for m in MULTIPLICATION.finditer(text)}
    unknown = tuple(
        run.start() for run in _RUN.finditer(text) if run.start() not in covered and run.start() not in signs
    )
    return tuple(found), unknown


def bonus_clause(text: str, blank: Blank) -> tuple[int, int]:
    """The clause holding a bonus blank: from after the `;` before it to the `;` after it (or the text's ends)."""
    start = max((m.end() for m in CLAUSE_END.finditer(text, 0, blank.start)), default=0)
    end = next((m.start() for m in CLAUSE_END.finditer(text, blank.end)), len(text))
    return start, end


def blank_problems(ind: Indicator, file: str) -> list[Problem]:
    """Every blank of an indicator's texts that `sheet.fill` could not fill, each naming the column and the text."""
    problems: list[Problem] = []
    for column, seed in FILLED.items():
        value = getattr(ind, column)
        texts = {"zh": value, "en": value} if isinstance(value, str) else {"zh": value.zh, "en": value.en}
        for lang, text in dict.fromkeys(texts.items()):
            where = f"indicator {ind.id}, {column} ({say(f'label.{seed}', 'zh')}, {lang})"
            found, unknown = blanks(text, column)
            for position in unknown:
                problems.append(
                    Problem(
                        file=file,
                        message=f"{where}: cannot fill the placeholder × at character {position + 1} of {text!r}; {BLANKS_HELP}",
                        column=column,
                        value=text,
                        code=Code.NOT_A_CHOICE,
                    )
                )
            for blank in found:
                if blank.slot not in SLOTS_OF.get(ind.direction, frozenset()):
                    problems.append(
                        Problem(
                            file=file,
                            message=f"{where}: the placeholder {text[blank.start : blank.end]} stands for the {blank.slot} in {text!r}, but a {ind.direction} indicator has no {blank.slot}; write the words without it",
                            column=column,
                            value=text,
                            code=Code.KEY_NOT_USED,
                        )
                    )
                elif blank.slot == "bonus":
                    start, end = bonus_clause(text, blank)
                    others = [b.slot for b in found if start <= b.start < end and b.slot not in ("step", "bonus")]
                    if others:
                        problems.append(
                            Problem(
                                file=file,
                                message=f"{where}: the bonus placeholder shares its clause with the {', '.join(others)} in {text!r}; put the bonus in a clause of its own, between ; (with bonus 0 the clause is said in words)",
                                column=column,
                                value=text,
                                code=Code.NOT_A_CHOICE,
                            )
                        )
    return problems


@dataclass(frozen=True)
class Text:
    """A bilingual text."""

    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    alias: str = ""
    required: bool = False
    optional: bool = False  # the whole column may be absent from a file
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    label: Text
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    order: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


FilterValue = str | bool | int | Decimal  # what a rate's `filter` compares a column with


@dataclass(frozen=True)
class RateSpec:
    """How an indicator's value is computed (the template's `rate:`), checked when the template loads.

    `kind` names the function in `rates.RATES`, `table` the input table it reads. The other
    fields name columns of that table; each kind reads only some of them (`rates.NEEDS` lists
    those it cannot do without), and a column it does not use is "". `filter` keeps the rows
    whose column equals the value, for each pair.
    """

    kind: str
    table: str
    filter: tuple[tuple[str, FilterValue], ...] = ()
    date: str = ""  # the day (or moment) that puts a row in the window
    start: str = ""  # on_time: when the clock starts …
    end: str = ""  # … and when the answer went out
    done: str = ""  # when the item was finished, the entity visited, the complaint resolved
    excused: str = ""  # true on a row left out of the count
    reason: str = ""  # why it was excused
    score: str = ""  # score_share: the survey answer's score
    collected: str = ""  # when the evidence was collected (the schedule's compliance check)
    numerator: str = ""  # quantity_ratio: actual …
    denominator: str = ""  # … and planned quantity
    entity: str = ""  # distinct_done: what is counted once
    flag: str = ""  # flag_share: true on a row that counts
    since: str = ""  # lost_share: when the account became active …
    lost: str = ""  # … and when it was lost
    amount: str = ""  # overrun: the money spent
    approved: str = ""  # overrun: true on an approved overrun
    budget_table: str = ""  # overrun: the table of budgets per period

    def as_dict(self) -> dict[str, str | dict[str, FilterValue]]:
        """The template's `rate:` mapping again (kind, table, then the keys that are set)."""
        out: dict[str, str | dict[str, FilterValue]] = {"kind": self.kind, "table": self.table}
        if self.filter:
            out["filter"] = dict(self.filter)
        for key in RATE_COLUMNS:
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


# The rate keys that name a column (or, budget_table, a table): every field of RateSpec but kind, table and filter.
RATE_COLUMNS = tuple(f.name for f in fields(RateSpec) if f.name not in ("kind", "table", "filter"))


@dataclass(frozen=True)
class Indicator:
    """One row of the seed's table; `rate` says how its value is computed from records."""

    id: str
    group: str
    name: Text
    statement: Text
    target_text: Text
    direction: str
    weight: str
    rule: Text
    collector: Text
    source: Text
    schedule: str
    schedule_text: Text
    methods: tuple[str, ...]
    prerequisites: tuple[str, ...]
    prerequisites_text: Text
    resources: Text
    formula: Text
    rate: RateSpec

    @property
    def table(self) -> str:
        return self.rate.table

    def tables(self) -> tuple[str, ...]:
        """Every input table the computed rate reads."""
        extra = self.rate.budget_table
        return (self.table, extra) if extra else (self.table,)


@dataclass(frozen=True)
class SignRole:
    """A sign-off role of the template (`signoff:`): its id (`kpi sign --role`) and its name in both languages."""

    id: str
    label: Text


# The seed's sign-off line, "部门经理签字:  上级主管领导签字:": the roles, in the order they sign.
SEED_ROLES = (
    SignRole("manager", Text("部门经理", "Department manager")),
    SignRole("supervisor", Text("上级主管领导", "Supervising leader")),
)


@dataclass(frozen=True)
class Template:
    id: str
    name: Text
    groups: Mapping[str, Text]
    methods: Mapping[str, Text]
    tables: Mapping[str, TableSpec]
    indicators: tuple[Indicator, ...]
    path: str
    sha256: str
    signoff: tuple[SignRole, ...] = SEED_ROLES  # who signs, in order (a template without `signoff:` has the seed's)

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(ind.id for ind in self.indicators)

    def in_group(self, group: str) -> tuple[Indicator, ...]:
        return tuple(ind for ind in self.indicators if ind.group == group)

    def vocabulary(self, table: str) -> dict[str, tuple[str, ...]]:
        """The text values rates look for in a table's columns: filter values (survey kinds), and indicator ids in observations."""
        found: dict[str, list[str]] = {}
        for ind in self.indicators:
            if ind.rate.table == table:
                for column, wanted in ind.rate.filter:
                    if isinstance(wanted, str) and wanted not in found.setdefault(column, []):
                        found[column].append(wanted)
        if table == OBSERVATIONS:
            found["indicator"] = list(self.ids)
        return {column: tuple(values) for column, values in found.items()}

    def identifiers(self, table: str) -> frozenset[str]:
        """Columns of a table compared exactly as written: department, keys, filtered and distinct-counted columns."""
        spec = self.tables.get(table)
        if spec is None:
            return frozenset()
        names = {"department", *spec.key, *self.vocabulary(table)}
        for ind in self.indicators:
            if ind.rate.table == table:
                names.update(column for column, _ in ind.rate.filter)
                if ind.rate.entity:
                    names.add(ind.rate.entity)
        known = {c.name for c in spec.columns}
        return frozenset(n for n in names if n in known)


def template_path(name_or_path: str, *, base: Path | None = None) -> Path:
    """Where a template lives: a packaged name, or a path (relative to `base`)."""
    if name_or_path in PACKAGED:
        return Path(str(resources.files(__package__) / "templates" / f"{name_or_path}.yaml"))
    path = Path(name_or_path).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def load_template(name_or_path: str = "customer_service", *, base: Path | None = None) -> Template:
    """Load and check a template; raise `TemplateError` listing every problem."""
    path = template_path(name_or_path, base=base)
    shown = str(path) if name_or_path not in PACKAGED else f"template {name_or_path}"
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise TemplateError(
            f"cannot read the template: {exc.strerror}; expected a packaged name "
            f"({', '.join(PACKAGED)}) or a path to a template YAML file",
            file=str(path),
            code=Code.UNREADABLE_FILE,
        ) from None
    return _loaded(raw_bytes, shown, str(path))


_BUILT: dict[tuple[bytes, str], Template] = {}  # see _loaded
_KEEP = 16


def _loaded(raw_bytes: bytes, shown: str, path: str) -> Template:
    """The template those bytes make (remembered: a batch loads one template, or copies of it, for every department).

    A `Template` is frozen, so callers share one. What it is depends on its bytes and,
    for the id of a template without one, the file's name; so it is remembered by those,
    and a copy of it elsewhere (each department folder keeps one) gets the same template
    with its own `path`. One that does not load is checked again each time (an exception
    is never remembered), its problems naming the file asked for.
    """
    key = (raw_bytes, Path(path).stem)
    if key in _BUILT:
        return replace(_BUILT[key], path=path)
    if len(_BUILT) >= _KEEP:
        _BUILT.clear()
    _BUILT[key] = _build_bytes(raw_bytes, shown, path)
    return _BUILT[key]


def _build_bytes(raw_bytes: bytes, shown: str, path: str) -> Template:
    try:
        data = yamlfile.load(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise TemplateError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=shown, code=Code.BAD_ENCODING
        ) from None
    except yamlfile.YamlProblem as exc:
        raise TemplateError(str(exc), file=shown, code=exc.code) from None
    if not isinstance(data, dict):
        raise TemplateError(
            "expected a mapping with id, groups, tables and indicators", file=shown, code=Code.WRONG_TYPE
        )
    return _build(data, shown, sha256_bytes(raw_bytes), path)


def _text(value: Any, where: str, problems: list[Problem], file: str) -> Text:
    if isinstance(value, dict) and "zh" in value and "en" in value:
        return Text(zh=str(value["zh"] or ""), en=str(value["en"] or ""))
    if isinstance(value, str):
        return Text(zh=value, en=value)
    problems.append(
        Problem(file=file, message=f"{where}: expected a text or a mapping with zh and en", code=Code.WRONG_TYPE)
    )
    return Text("", "")


def _build(data: dict[str, Any], file: str, sha: str, path: str) -> Template:
    problems: list[Problem] = []
    groups = {str(k): _text(v, f"groups.{k}", problems, file) for k, v in (data.get("groups") or {}).items()}
    methods = {str(k): _text(v, f"methods.{k}", problems, file) for k, v in (data.get("methods") or {}).items()}
    if not groups:
        problems.append(Problem(file=file, message="groups: expected at least one group", code=Code.EMPTY_SECTION))
    for kind, names in (("group", groups), ("table", data.get("tables") or {})):
        for name in names:  # each names a file: <group>.ipynb, <table>.csv
            if not NAME.fullmatch(str(name)):
                problems.append(
                    Problem(
                        file=file,
                        message=f"{kind} {str(name)!r}: expected a name of lowercase letters, digits, - and _ only (it names files)",
                        code=Code.BAD_ID,
                    )
                )
            elif too_long := id_length_problem(str(name)):
                problems.append(Problem(file=file, message=f"{kind} {name}: {too_long}", code=Code.ID_TOO_LONG))
    tables = {}
    for name, spec in (data.get("tables") or {}).items():
        table = _table(str(name), spec, problems, file)
        if table is not None:
            tables[table.name] = table
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for pos, entry in enumerate(data.get("indicators") or [], start=1):
        ind = _indicator(pos, entry, groups, tables, problems, file)
        if ind is None:
            continue
        if ind.id in seen:
            problems.append(
                Problem(file=file, message=f"indicator {ind.id}: duplicate id (entry {pos})", code=Code.DUPLICATE_ENTRY)
            )
        seen.add(ind.id)
        indicators.append(ind)
    if not indicators and not problems:
        problems.append(
            Problem(file=file, message="indicators: expected at least one indicator", code=Code.EMPTY_SECTION)
        )
    roles = _roles(data.get("signoff"), problems, file) if "signoff" in data else SEED_ROLES
    if problems:
        raise TemplateError(problems)
    return Template(
        id=str(data.get("id") or Path(path).stem),
        name=_text(data.get("name") or str(data.get("id", "")), "name", problems, file),
        groups=groups,
        methods=methods,
        tables=tables,
        indicators=tuple(indicators),
        path=path,
        sha256=sha,
        signoff=roles,
    )


def _roles(value: Any, problems: list[Problem], file: str) -> tuple[SignRole, ...]:
    """The template's sign-off roles in signing order: a list of `{id, zh, en}`, ids unique, at least one."""
    if not isinstance(value, list) or not value:
        problems.append(
            Problem(
                file=file,
                message="signoff: expected a list of roles in signing order, each {id, zh, en} (e.g. - {id: manager, zh: 部门经理, en: Department manager})",
                code=Code.EMPTY_SECTION if isinstance(value, list) else Code.WRONG_TYPE,
            )
        )
        return SEED_ROLES
    roles: list[SignRole] = []
    for pos, entry in enumerate(value, start=1):
        role_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(role_id, str) or not NAME.fullmatch(role_id):
            problems.append(
                Problem(
                    file=file,
                    message=f"signoff entry {pos}: id {shorten(role_id)!r}; expected lowercase letters, digits, - and _ (it is what kpi sign --role takes)",
                    code=Code.BAD_ID,
                )
            )
            continue
        if any(r.id == role_id for r in roles):
            problems.append(
                Problem(
                    file=file, message=f"signoff role {role_id}: duplicate id (entry {pos})", code=Code.DUPLICATE_ENTRY
                )
            )
            continue
        zh, en = (entry.get(k) if isinstance(entry.get(k), str) and entry.get(k).strip() else "" for k in ("zh", "en"))
        roles.append(SignRole(role_id, Text(zh or en or role_id, en or zh or role_id)))
    return tuple(roles) or SEED_ROLES


def _table(name: str, spec: Any, problems: list[Problem], file: str) -> TableSpec | None:
    if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
        code = Code.MISSING_KEY if isinstance(spec, dict) and "columns" not in spec else Code.WRONG_TYPE
        problems.append(Problem(file=file, message=f"table {name}: expected a mapping with columns", code=code))
        return None
    columns = []
    for col, cspec in spec["columns"].items():
        cspec = cspec or {}
        if not isinstance(cspec, dict):
            problems.append(
                Problem(
                    file=file,
                    message=f"table {name}, column {col}: found {cspec!r}; expected a mapping such as {{type: decimal}}",
                    code=Code.WRONG_TYPE,
                )
            )
            continue
        ctype = cspec.get("type", "str")
        if ctype not in COLUMN_TYPES:
            problems.append(
                Problem(
                    file=file,
                    message=f"table {name}, column {col}: unknown type {ctype!r}; expected one of {', '.join(COLUMN_TYPES)}",
                    code=Code.NOT_A_CHOICE,
                )
            )
        columns.append(
            Column(
                name=str(col),
                type=ctype,
                alias=str(cspec.get("zh") or ""),
                required=bool(cspec.get("required", False)),
                optional=bool(cspec.get("optional", False)),
                min=cspec.get("min"),
                max=cspec.get("max"),
            )
        )
    names = {c.name for c in columns}
    if "department" not in names:
        problems.append(
            Problem(file=file, message=f"table {name}: every table needs a department column", code=Code.MISSING_COLUMN)
        )
    key = tuple(spec.get("key") or ())
    order = tuple(tuple(pair) for pair in spec.get("order") or ())
    for col in (*key, *(c for pair in order for c in pair)):
        if col not in names:
            problems.append(
                Problem(
                    file=file,
                    message=f"table {name}: key or order names unknown column {col!r}",
                    code=Code.UNKNOWN_COLUMN,
                )
            )
    return TableSpec(
        name=name,
        label=_text(spec.get("label") or name, f"table {name} label", problems, file),
        columns=tuple(columns),
        key=key,
        order=order,
    )


def _indicator(
    pos: int,
    entry: Any,
    groups: Mapping[str, Text],
    tables: Mapping[str, TableSpec],
    problems: list[Problem],
    file: str,
) -> Indicator | None:
    if not isinstance(entry, dict) or not entry.get("id"):
        code = Code.MISSING_KEY if isinstance(entry, dict) else Code.WRONG_TYPE
        problems.append(Problem(file=file, message=f"indicator entry {pos}: expected a mapping with an id", code=code))
        return None
    iid = str(entry["id"])
    where = f"indicator {iid}"
    before = len(problems)

    def need(key: str) -> Any:
        if entry.get(key) in (None, ""):
            problems.append(Problem(file=file, message=f"{where}: {key} is missing", code=Code.MISSING_KEY))
        return entry.get(key)

    group = need("group")
    if group is not None and group not in groups:
        problems.append(
            Problem(
                file=file,
                message=f"{where}: unknown group {group!r}; expected one of {', '.join(groups)}",
                code=Code.NOT_A_CHOICE,
            )
        )
    direction = need("direction")
    if direction is not None and direction not in DIRECTIONS:
        problems.append(
            Problem(
                file=file,
                message=f"{where}: unknown direction {direction!r}; expected one of {', '.join(DIRECTIONS)}",
                code=Code.NOT_A_CHOICE,
            )
        )
    weight = entry.get("weight")
    if weight in (None, ""):
        problems.append(
            Problem(
                file=file,
                message=f"{where}: weight is missing; write a number, or ×% to leave it to each department's params (a missing weight is never guessed)",
                code=Code.MISSING_KEY,
            )
        )
    schedule = need("schedule")
    if schedule is not None and schedule not in SCHEDULES:
        problems.append(
            Problem(
                file=file,
                message=f"{where}: unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}",
                code=Code.NOT_A_CHOICE,
            )
        )
    listed = entry.get("methods") or ()
    if not isinstance(listed, (list, tuple)):
        problems.append(
            Problem(
                file=file,
                message=f"{where}: methods: found {listed!r}; expected a list such as [records]",
                code=Code.WRONG_TYPE,
            )
        )
        listed = ()
    methods = tuple(listed)
    for method in methods:
        if method not in METHODS:
            problems.append(
                Problem(
                    file=file,
                    message=f"{where}: unknown method {method!r}; expected one of {', '.join(METHODS)}",
                    code=Code.NOT_A_CHOICE,
                )
            )
    if not methods:
        problems.append(Problem(file=file, message=f"{where}: methods is missing", code=Code.MISSING_KEY))
    rate = entry.get("rate")
    spec: RateSpec | None = None
    if not isinstance(rate, dict) or "kind" not in rate or "table" not in rate:
        code = Code.MISSING_KEY if isinstance(rate, dict) else Code.WRONG_TYPE
        problems.append(Problem(file=file, message=f"{where}: rate must be a mapping with kind and table", code=code))
        rate = {}
    else:
        known = len(problems)
        if rate["kind"] not in RATE_KINDS:
            problems.append(
                Problem(
                    file=file,
                    message=f"{where}: unknown rate kind {rate['kind']!r}; expected one of {', '.join(RATE_KINDS)}",
                    code=Code.NOT_A_CHOICE,
                )
            )
        for key in ("table", "budget_table"):
            if key in rate and rate[key] not in tables:
                problems.append(
                    Problem(
                        file=file,
                        message=f"{where}: unknown table {rate[key]!r}; expected one of {', '.join(tables)}",
                        code=Code.UNKNOWN_TABLE,
                    )
                )
        if len(problems) == known:
            spec = _rate(rate, RATE_KINDS[rate["kind"]], where, problems, file)
    for key in ("name", "statement", "rule", "formula"):
        need(key)
    if len(problems) > before or spec is None:
        return None

    def text(key: str) -> Text:
        return _text(entry.get(key) or "", f"{where}: {key}", problems, file)

    indicator = Indicator(
        id=iid,
        group=str(group),
        name=text("name"),
        statement=text("statement"),
        target_text=text("target_text"),
        direction=str(direction),
        weight=str(weight),
        rule=text("rule"),
        collector=text("collector"),
        source=text("source"),
        schedule=str(schedule),
        schedule_text=text("schedule_text"),
        methods=methods,
        prerequisites=tuple(entry.get("prerequisites") or ()),
        prerequisites_text=text("prerequisites_text"),
        resources=text("resources"),
        formula=text("formula"),
        rate=spec,
    )
    problems.extend(blank_problems(indicator, file))
    return indicator


def _rate(
    rate: dict[str, Any], needs: tuple[str, ...], where: str, problems: list[Problem], file: str
) -> RateSpec | None:
    """The checked `rate:` of an indicator whose kind and tables are known: column names as text, a filter
    mapping column names to plain values, and every column the kind reads (`needs`); None after a problem."""
    before = len(problems)
    kind, table = str(rate["kind"]), str(rate["table"])
    columns: dict[str, str] = {}
    for key in RATE_COLUMNS:
        value = rate.get(key)
        if not value:  # absent, as a kind's optional column always was when empty
            if key in needs:
                what = "a table" if key == "budget_table" else f"a column of {table}"
                problems.append(
                    Problem(file=file, message=f"{where}: rate {kind} needs {key} ({what})", code=Code.MISSING_KEY)
                )
        elif isinstance(value, str):
            columns[key] = value
        else:
            problems.append(
                Problem(
                    file=file,
                    message=f"{where}: rate {key}: found {value!r}, expected a column name",
                    code=Code.WRONG_TYPE,
                )
            )
    wanted = rate.get("filter") or {}
    if not isinstance(wanted, dict):
        problems.append(
            Problem(
                file=file, message=f"{where}: rate filter: expected a mapping of column → value", code=Code.WRONG_TYPE
            )
        )
        wanted = {}
    pairs: list[tuple[str, FilterValue]] = []
    for column, value in wanted.items():
        if isinstance(column, str) and isinstance(value, (str, bool, int, Decimal)):
            pairs.append((column, value))
        else:
            problems.append(
                Problem(
                    file=file,
                    message=f"{where}: rate filter {column!r}: {value!r}; expected a column name and a text, number, true or false",
                    code=Code.WRONG_TYPE,
                )
            )
    if len(problems) > before:
        return None
    return RateSpec(kind=kind, table=table, filter=tuple(pairs), **columns)
