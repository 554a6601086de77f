"""Input tables: find, read, parse and validate, once per data folder.

A data folder holds `<table>.csv`, `<table>.xlsx` or `<table>.parquet`, read by
`kpi_lib.inputs.readers` cell for cell (CSV as UTF-8, UTF-8 with BOM, UTF-16 with BOM or
GB18030/GBK). Headers may be the template's column names (any letter case) or the
template's Chinese aliases.

Every cell is parsed by its column's type, exactly as written or refused (the trust rules:
nothing guessed); every problem of a file is gathered (missing file or column, unparseable
value, out-of-range value, duplicate key, reversed order) before anything is
reported:

- identifiers (the department, a table's key columns, the columns a rate filters
  or counts distinct values of) are compared as written: spaces around them,
  invisible, control or full-width characters are errors that say what the value
  nearly matches; a department value or a survey kind that differs from an
  expected one only by letter case is an error for that department ("did you mean
  cs-east?"); so is a typing slip (`kpi_lib.base.text`: one character missing, extra,
  different or two swapped; two for a survey kind of 10 characters or more; never
  in words under 4 characters or where the digits differ). A filter value that
  matches nothing at all, nearly or not, is left out of the indicators that
  filter on it, with the reason, in their evidence, and `kpi run`, `score` and
  `validate` name it once (`Table.unknown_values`);
- a department value is taken for a typo of the department appraised (say
  `cs-eats` for `cs-east`) only when it is no department known to the run: the
  department's own id, the ids of the params files beside its params file, the
  departments of the same `kpi run`, and the ids the table's `values:
  {department: …}` map writes (`DataFolder.known_departments`). That a value
  occurs in the file proves nothing (a typo occurs in the file too); that a
  params file or the map names it does. So `d01` … `d50` (digits differ),
  `cs-east`/`cs-west` and `sales-east`/`sales-west` (two apart: department ids
  allow one slip) are never confused, and a `d02` with a params file is a
  department. A run's copy of the params (`kpi verify --recompute`) does not
  decide this again: the other params files are not part of it;
- free text may hold tabs and newlines, never other control characters;
- numbers are ASCII decimals within `kpi_lib.base.numbers`' bounds; `int` columns take
  whole numbers only;
- dates are `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM[:SS[.ffffff]]` with an
  optional UTC offset (`Z`, `+08:00`); years run from 1900 to 2100. A timestamp
  that carries an offset (text, or a time-zone-aware Parquet value) is converted
  to the params' `timezone` (default Asia/Shanghai); one without is already in
  it, and must name one instant there: a local time the zone skips (clocks go
  forward) or repeats (clocks go back) is refused (`kpi_lib.inputs.zones`). Dates are
  calendar days and are not checked against the clock;
- booleans are true/false/1/0/yes/no/是/否 (ASCII letters in any case).

A problem carries the department of its row, so one department's bad row fails
that department only; a problem that belongs to no row (a missing column, a row
whose fields do not line up with the header) fails every department. A table
with rows, none of which is the department's, is an error for that department
that names the department values the file holds (a mapping that maps nothing
must not read as "no data"), unless the params' mapping says `allow_no_rows`.

Rows excluded by key (params `tables.<table>.exclude: {<key>: <reason>}`): the
key is the table's key as the template defines it, its cells' text after the
mapping joined with `|` in the template's key order (`key_texts`;
`cs-east|2026-Q4` for budgets), compared as written. Every row with that key is
left out of every indicator (`Table.rows_of`) and listed with its reason in the
evidence of the indicators that would have read it (`Table.excluded_of`,
`rates.excluded_by_params`); the problems of its own cells do not stop the
department (the source system holds a wrong row that cannot be fixed there),
but its key and department must parse. A key that is the key of no row of the
whole table is an error naming the params file, the table and the key; the key
of another department's row leaves nothing out (the same exclusions may serve
every department). A table without a key cannot exclude rows.

Row numbers are the ones a person finds the record on (see `kpi_lib.inputs.readers`):
CSV physical lines, xlsx sheet rows (with the cell, `complaints.xlsx!E12`),
Parquet records from row 2.

Parsed frames hold: `datetime64[ns]` for date and timestamp columns (NaT when
empty), pandas' nullable `boolean` for booleans, `Decimal` objects for numbers
(never binary floats; one object per distinct text, shared by its rows), pandas'
pyarrow-backed `str` for text and periods (NaN when empty); plus `_row`, the row
number.

Timestamps are kept as naive local wall-clock time in the params' time zone:
windows are local calendar days, evidence shows the times people read on their
clocks, and partitions, `kpi verify --recompute` and `kpi diff` compare them as
they are. A wall-clock time names one instant except in the hour that repeats
when clocks go back; a cell there can only have come with an offset, and which
of the two it was is kept in a nullable `boolean` column `_fold:<column>` (True:
the second), added after `_row` only for a timestamp column that has such a cell
(so no Asia/Shanghai frame since 1991 has one). It travels with the rows through
filters and partitions; durations and the order check turn local times into
instants with it (`kpi_lib.inputs.zones.instants`).

Strict where it counts (see `kpi_lib.inputs.scope` for the whole rule): every problem
is found and kept in `Table.problems`, but which stop a department is decided
when it asks (`Table.sorted_problems(department, scope)`), by what it reads in
the period. A column is *read* when an indicator of the department reads it under
the method in force: the table's `department` and key columns, every column the
rate names (window date, `start`/`end`, `done`, `excused`/`reason`, `score` …),
the columns it filters on, a budget's `period` and `amount`, every column of
`observations` under `method: observation` (which then reads nothing of its rate's
table). A problem in any other column (a descriptive one, an unnamed pandas index,
a header given twice that nothing reads, values right of an xlsx table) is a note,
and so is a problem of a row whose window column parses and falls outside the
period (outside for every indicator that reads the table; budgets and observations
by their `period`; key accounts not active at the window's start). A problem that
names no row, or a mapping that maps nothing, always stops. The table is read
once: the same `Table` answers for every department and period. `read_columns`
gives the read columns (a SQL source converts only those).

Million-row tables (issue 10 §3, issue 20 §2): a CSV is read by pyarrow when it is plain
(`kpi_lib.inputs.readers`), only the columns the template (or the mapping) names; each text column is
then parsed as a whole: a pattern (`PLAIN`) picks the cells that are plainly
valid and converts them at once, and every other cell goes through the per-cell
parser (`_parse_cell`, the definition), once per distinct text, so a problem
keeps its exact message, code, row, column, value and department. A date or
timestamp column in an export's own format (`date_format`, `formats`) is read at
once when the format is of %Y %m %d [%H %M %S] (`_formatted`); other formats once
per distinct text. Typed cells (xlsx, Parquet, a query's result, an adapter's
frame, a column a `values` map rewrote) are parsed once per group of equal cells
(`_parse_typed_column`: equal by value or by repr, so 1.0 and 1.00, 0.0 and -0.0,
an offset or a fold are told apart; a cell of an unknown type alone), and the two
classes of many distinct values at once: floats of a number column and naive
datetimes of a date or timestamp column. Text with NULLs (a database's, a Parquet
file's) is read as text. `readers.VECTORIZED = False` sends every cell the exact
way, one by one; `tests/test_tables_fast.py` reads every source kind both ways
and compares every value and problem. Keys are
checked with `duplicated()`, order with one comparison per pair. Every
row of the file is validated whatever department is appraised (so every column the
template names is read, not only those the department's indicators read: a problem
in another column is a note `kpi validate` shows); a Parquet file is
read for the template's (or the mapping's) columns only, an xlsx sheet whole (openpyxl
reads every cell, and values outside the table are problems), a query's result whole
(what it returned is kept and hashed) but converted for the wanted columns only, a
file with an adapter whole (an adapter may read any column). A table file is read
once for its sha256 and its cells (`readers.read_hashed`).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..base import yamlfile
from ..base.errors import (
    Code,
    DataError,
    InputError,
    InternalError,
    KpiError,
    Place,
    Problem,
    Refusal,
    UsageError,
    place,
    problem_lines,
)
from ..base.numbers import FLOAT_DIGITS, NotANumber, check_bounds, from_float, from_text
from ..base.text import (
    PLAIN_ID,
    control_problem,
    exactness_problem,
    fold,
    how_it_differs,
    id_skeleton,
    is_control,
    is_invisible,
    is_typo,
    near_match,
    squash,
)
from . import readers, sql
from .period import FIRST_YEAR, LAST_YEAR, Period
from .readers import BadCell, RawTable, Unreadable, cell_text, read_hashed, read_raw
from .scope import Scope
from .scope import read_columns as read_columns  # (a SQL source converts only these columns)
from .snapshot import adapted_path, read_frame
from .sources import adapt, adapter_path, inside, reshape, source_path, table_file_problem
from .template import Column, TableSpec, Template
from .zones import LocalTimeProblem, check_local, fold_column, instants, problem_mask

if TYPE_CHECKING:
    from .params import Department, TableSource

SUFFIXES = (".csv", ".xlsx", ".parquet")
TRUE = {"true", "1", "yes", "是"}
FALSE = {"false", "0", "no", "否"}
DEFAULT_TIMEZONE = "Asia/Shanghai"
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
TIMESTAMP_TEXT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s?(Z|[+-]\d{2}:?\d{2})?$", re.ASCII
)


class _Bad(Refusal):
    """A cell that does not parse; the message says what was expected, the code what is wrong."""


@dataclass(frozen=True)
class ReadRules:
    """What a table's cells are checked against beyond their types (from the template and the params)."""

    identifiers: frozenset[str] = frozenset()  # columns compared as written
    vocabulary: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # column → the values rates look for
    timezone: str = DEFAULT_TIMEZONE
    allow_no_rows: bool = False


def _is_missing(value: Any) -> bool:
    """An empty cell: nothing, or only ordinary spaces (invisible characters are not nothing)."""
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, str) and not value.strip(" \t\r\n")


def _parse_text(value: Any) -> str:
    """Free text: tabs and newlines allowed, other control characters refused; ordinary spaces around it dropped."""
    text = cell_text(value)
    if (problem := control_problem(text, free_text=True)) is not None:
        raise _Bad(problem, Code.CONTROL_CHARACTER)
    return text.strip(" \t\r\n")


def _parse_identifier(value: Any, vocabulary: tuple[str, ...] = ()) -> str:
    """An identifier exactly as written; what it nearly matches is named, never taken for it."""
    text = cell_text(value)
    match = near_match(text, vocabulary, typos=True) if vocabulary and text not in vocabulary else None
    if match is not None:
        raise _Bad(
            f"did you mean {match!r}? The value {how_it_differs(text, match)}; expected one of {', '.join(vocabulary)} as written",
            Code.NEAR_MATCH,
        )
    problem = exactness_problem(text)
    if problem is not None:
        cleaned = _cleaned(text)
        hint = f"; did you mean {cleaned!r}?" if cleaned and cleaned != text else ""
        code = Code.CONTROL_CHARACTER if control_problem(text) is not None else Code.NOT_EXACT
        raise _Bad(f"{problem}{hint} Expected the value exactly as elsewhere", code)
    return text


def _parse_department(value: Any) -> str:
    """A department id exactly as written; anything else names the id it was written for, if any (`_department`)."""
    text = cell_text(value)
    if PLAIN_ID.fullmatch(text):
        return text
    meant = id_skeleton(text)
    why = exactness_problem(text) or "is not lowercase letters, digits, - and _ only"
    if meant:
        raise _Bad(
            f"did you mean {meant}? Not a department id as written: the value {why}; it counts for no department, and {meant} stops until it is fixed",
            Code.NEAR_MATCH,
        )
    raise _Bad(
        f"Not a department id: the value {why}; it can belong to no department, so every department that reads this table stops until it is fixed"
        " or mapped in the params (tables.<table>.values.department: {<code>: <department id>}; a team you do not"
        " appraise may get an id of its own)",
        Code.BAD_ID,
    )


def _cleaned(text: str) -> str:
    """`text` without what `exactness_problem` objects to (a suggestion, never used as the value)."""
    normal = unicodedata.normalize("NFKC", text)
    return "".join(c for c in normal if not (is_control(c) or is_invisible(c))).strip()


def _in_range(moment: datetime) -> datetime:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise _Bad(
            f"year {moment.year} is outside {FIRST_YEAR}–{LAST_YEAR}; expected a real date", Code.DATE_OUT_OF_RANGE
        )
    return moment


def _local(moment: datetime, timezone: str) -> datetime:
    """A moment in the params' time zone, naive; an offset-free moment is taken to be in it already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def _parse_date(value: Any, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    if isinstance(value, datetime):
        value = _local(value, timezone)
        if value.time() != datetime.min.time():
            raise _Bad("expected a date without a time of day (YYYY-MM-DD)", Code.BAD_DATE)
        return _in_range(datetime.combine(value.date(), datetime.min.time()))
    if isinstance(value, date):
        return _in_range(datetime.combine(value, datetime.min.time()))
    text = cell_text(value).strip(" \t")
    if not DATE_TEXT.match(text):
        raise _Bad("expected a date as YYYY-MM-DD (ASCII digits)", Code.BAD_DATE)
    try:
        return _in_range(datetime.combine(date.fromisoformat(text), datetime.min.time()))
    except ValueError:
        raise _Bad("expected a real calendar date as YYYY-MM-DD", Code.BAD_DATE) from None


def _instant(moment: datetime, timezone: str) -> datetime:
    """A timestamp as local wall-clock time that names one instant (`kpi_lib.inputs.zones`): an offset-carrying one is
    converted (its `fold` says which of a repeated hour it was); a naive one must exist, and occur once, in the zone."""
    if moment.tzinfo is not None:
        return _local(moment, timezone)
    try:
        return check_local(moment, timezone)
    except LocalTimeProblem as exc:
        raise _Bad(str(exc), exc.code) from None


def _parse_timestamp(value: Any, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    if isinstance(value, datetime):
        return _instant(_in_range(pd.Timestamp(value).to_pydatetime(warn=False)), timezone)
    if isinstance(value, date):
        return _instant(_in_range(datetime.combine(value, datetime.min.time())), timezone)
    text = cell_text(value).strip(" \t")
    match = TIMESTAMP_TEXT.match(text)
    if not match:
        raise _Bad(
            "expected a timestamp as YYYY-MM-DD HH:MM[:SS] (ASCII digits), optionally with a UTC offset such as +08:00",
            Code.BAD_TIMESTAMP,
        )
    day, clock, offset = match.groups()
    iso = f"{day}T{clock}" + (
        ""
        if offset is None
        else "+00:00"
        if offset == "Z"
        else offset
        if ":" in offset
        else f"{offset[:3]}:{offset[3:]}"
    )
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise _Bad("expected a real timestamp as YYYY-MM-DD HH:MM[:SS]", Code.BAD_TIMESTAMP) from None
    if moment.utcoffset() is not None and abs(moment.utcoffset() or timedelta()) > timedelta(hours=14):
        raise _Bad("expected a UTC offset between -14:00 and +14:00", Code.BAD_TIMESTAMP)
    return _in_range(_instant(moment, timezone))


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = cell_text(value).strip(" \t").lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    match = near_match(text, sorted(TRUE | FALSE))
    hint = f"did you mean {match!r}? The value {how_it_differs(text, match)}; " if match else ""
    raise _Bad(
        f"{hint}expected a boolean: true/false, 1/0, yes/no or 是/否", Code.NEAR_MATCH if match else Code.NOT_A_BOOLEAN
    )


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Bad("expected a number, found a boolean", Code.NOT_A_NUMBER)
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = from_float(value)
        elif isinstance(value, str):
            number = from_text(value)
        else:
            raise _Bad(f"expected a number, found a {type(value).__name__}", Code.NOT_A_NUMBER)
        return check_bounds(number)
    except NotANumber as exc:
        raise _Bad(str(exc), exc.code) from None


def _parse_int(value: Any) -> Decimal:
    number = _parse_decimal(value)
    if number != number.to_integral_value():
        raise _Bad("expected a whole number (a count)", Code.NOT_A_WHOLE_NUMBER)
    return number


def _with_format(parse: Callable[[Any], Any], fmt: str, kind: str) -> Callable[[Any], Any]:
    """A date/timestamp parser that reads text in an export's own format (`strptime`)."""

    def parse_formatted(value: Any) -> Any:
        if not isinstance(value, str):
            return parse(value)
        try:
            moment = datetime.strptime(value.strip(" \t"), fmt)
        except ValueError:
            raise _Bad(
                f"expected a {kind} in the format {fmt}", Code.BAD_DATE if kind == "date" else Code.BAD_TIMESTAMP
            ) from None
        return parse(moment)

    return parse_formatted


def _parse_period(value: Any) -> str:
    text = cell_text(value)
    try:
        return str(Period.parse(text))
    except UsageError:
        raise _Bad(
            "expected a period: YYYY, YYYY-H1, YYYY-Q1 … or YYYY-MM (ASCII digits, years 1900–2100)", Code.BAD_PERIOD
        ) from None


def _parser(col: Column, rules: ReadRules, fmt: str | None) -> Callable[[Any], Any]:
    """The cell parser of one column under these rules."""
    kind = col.type
    if kind == "date":
        parse: Callable[[Any], Any] = lambda v: _parse_date(v, rules.timezone)  # noqa: E731
    elif kind == "timestamp":
        parse = lambda v: _parse_timestamp(v, rules.timezone)  # noqa: E731
    elif kind == "str" and col.name == "department":
        parse = _parse_department
    elif kind == "str" and col.name in rules.identifiers:
        vocabulary = rules.vocabulary.get(col.name, ())
        parse = lambda v: _parse_identifier(v, vocabulary)  # noqa: E731
    elif kind == "period" and col.name in rules.identifiers:
        parse = lambda v: _parse_period(_parse_identifier(v))  # noqa: E731
    else:
        parse = PARSERS[kind]
    if fmt and kind in ("date", "timestamp"):
        parse = _with_format(parse, fmt, kind)
    return parse


PARSERS: dict[str, Callable[[Any], Any]] = {
    "str": _parse_text,
    "date": _parse_date,
    "timestamp": _parse_timestamp,
    "bool": _parse_bool,
    "decimal": _parse_decimal,
    "int": _parse_int,
    "period": _parse_period,
}


# Problems that stop whatever columns a department reads: a mapping the params wrote that maps nothing or clashes.
ALWAYS_STOPS = frozenset({Code.MAPPING_UNMATCHED, Code.MAPPING_CONFLICT, Code.VALUES_WITHOUT_COLUMN})
# Problems of a column no one can read, having no header: values under no header, or right of the table.
UNNAMED = frozenset({Code.UNNAMED_COLUMN, Code.VALUE_OUTSIDE_TABLE})
_CELL_ROW = re.compile(r"^[A-Z]+([0-9]+)$")


def _row_of(problem: Problem) -> int | None:
    """The row a problem names: its row, or the row of its xlsx cell (E12 → 12)."""
    if problem.row is not None:
        return problem.row
    match = _CELL_ROW.match(problem.cell or "")
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Sorted:
    """A department's problems of one table under a `Scope`: what stops it, and the notes (why each stops nothing)."""

    stops: list[Problem]
    unread: list[Problem] = field(default_factory=list)  # in a column the department's indicators do not read
    outside: list[Problem] = field(default_factory=list)  # in a row outside the period's window


@dataclass
class Table:
    """One input table as read: the parsed frame, its file and every problem found."""

    spec: TableSpec
    file: str
    sha256: str | None
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    rules: ReadRules = field(default_factory=ReadRules)
    letters: Mapping[str, str] = field(default_factory=dict)  # column → xlsx column letter
    adapted: pd.DataFrame | None = None  # what the table's adapter returned (a run keeps it: see `snapshot`)
    exclude: Mapping[str, str] = field(default_factory=dict)  # key text → reason: rows the params leave out
    exclude_file: str = ""  # the params file that names `exclude` (its problems name it)
    known_departments: frozenset[str] | None = None  # ids known to the run; None: no typo check of department values
    _masks: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)  # department → excluded
    headers: Mapping[str, str] = field(default_factory=dict)  # column → the file's header it was read from

    def place(self, row: int | None, column: str) -> Place:
        """Where a cell is, for a `Problem`: the xlsx cell reference when there is one, else the row."""
        letter = self.letters.get(column)
        return place(row, letter)

    def viewed(self, exclude: Mapping[str, str], exclude_file: str, departments: frozenset[str] | None) -> Table:
        """This table as one department's params see it: their exclusions, the departments known to the run.

        The parsed frame and its per-department positions are shared, not copied (`copy.copy`).
        """
        same = dict(exclude) == dict(self.exclude) and exclude_file == self.exclude_file
        if same and departments == self.known_departments:
            return self
        self._departments  # noqa: B018 - worked out once here, so that every department's view shares it
        if exclude:
            self._keys  # noqa: B018 - (likewise)
        view = copy.copy(self)
        view.exclude, view.exclude_file, view.known_departments = dict(exclude), exclude_file, departments
        view._masks = {}
        return view

    def own_rows(self, department: str) -> pd.DataFrame:
        """Every row of one department, those the params exclude included (positions grouped once per table)."""
        positions = self._positions.get(department)
        if positions is None:
            return self.frame.iloc[0:0]
        return self.frame.iloc[positions]

    def rows_of(self, department: str) -> pd.DataFrame:
        """The rows of one department that count: its own rows but those its params exclude by key."""
        rows = self.own_rows(department)
        if not self.exclude or not len(rows):
            return rows
        return rows[~self._excluded(department)]

    def excluded_of(self, department: str) -> pd.DataFrame:
        """The department's rows its params exclude by key, with the params' `reason` (an empty frame when none)."""
        rows = self.own_rows(department)
        if not self.exclude or not len(rows):
            return rows.iloc[0:0].assign(reason=pd.Series(dtype=object))
        mask = self._excluded(department)
        keys = key_texts(rows[mask], self.spec.key)
        return rows[mask].assign(reason=keys.map(self.exclude).astype(object))

    def exclusions_of(self, department: str) -> dict[str, str]:
        """The params' exclusions that match rows of `department` (key → reason), in the params' order."""
        rows = self.own_rows(department)
        if not self.exclude or not len(rows):
            return {}
        found = set(key_texts(rows, self.spec.key).dropna())
        return {key: reason for key, reason in self.exclude.items() if key in found}

    def unknown_values(self, department: str) -> list[str]:
        """One line per value of a filtered column (`ReadRules.vocabulary`: a survey kind …) that no indicator looks
        for, among the department's rows: those rows are left out of every indicator (`rates.unmatched`)."""
        rows = self.rows_of(department)
        lines = []
        for column, known in self.rules.vocabulary.items():
            if column not in rows or not len(rows):
                continue
            values = rows[column]
            counts = values[values.notna() & ~values.isin(known)].value_counts(sort=False)
            for value, n in sorted(counts.items(), key=lambda item: str(item[0])):
                lines.append(
                    f"{self.file}: {column} {str(value)!r} matches no known value ({', '.join(known)}); "
                    f"its {n} row(s) of {department} are left out"
                )
        return lines

    def _excluded(self, department: str) -> np.ndarray:
        """Which of the department's own rows the params exclude (their key, as written, is one of `exclude`'s)."""
        if department not in self._masks:
            keys = key_texts(self.own_rows(department), self.spec.key)
            self._masks[department] = keys.isin(list(self.exclude)).to_numpy(dtype=bool)
        return self._masks[department]

    @cached_property
    def _positions(self) -> dict[str, np.ndarray]:
        """Each department value's row positions, in file order (empty cells left out)."""
        column = self.frame["department"]
        codes, uniques = pd.factorize(column)
        if not len(uniques):
            return {}
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        return {value: order[bounds[k] : bounds[k + 1]] for k, value in enumerate(uniques) if isinstance(value, str)}

    @cached_property
    def _departments(self) -> dict[str, np.ndarray]:
        """Each department value of the file and its row positions (empty cells left out), in order of first appearance."""
        return dict(sorted(self._positions.items(), key=lambda item: int(item[1][0])))

    def problems_of(self, department: str, scope: Scope | None = None) -> list[Problem]:
        """Problems that stop this department: its own rows', the file's, values that nearly name it, and no rows at all.

        With a `scope` (what the department reads in a period), problems in columns it
        does not read and in rows outside the period's window are left out: they are
        notes (`sorted_problems`). The problems of rows its params exclude by key are
        not among them either (they are left out with their reason); an exclusion
        whose key is no row of the table is.
        """
        return self.sorted_problems(department, scope).stops

    def sorted_problems(self, department: str, scope: Scope | None = None) -> Sorted:
        """The department's problems sorted by `scope` (see `kpi_lib.inputs.scope`): what stops it, and the notes."""
        mine = self._own_problems(department)
        if scope is None or not scope.reads(self.spec.name):
            stops, unread, outside = mine, list[Problem](), list[Problem]()
        else:
            stops, unread, outside = self._sort(mine, scope)
        stops.extend(self._no_rows(department, stops))
        return Sorted(stops, unread, outside)

    def _sort(self, problems: list[Problem], scope: Scope) -> tuple[list[Problem], list[Problem], list[Problem]]:
        read = scope.columns(self.spec.name)
        stops: list[Problem] = []
        unread: list[Problem] = []
        rows: list[tuple[Problem, int]] = []
        for p in problems:
            if not self._in_read_column(p, read):
                unread.append(p)
                continue
            row = _row_of(p)
            position = None if row is None else self._row_positions.get(row)
            if position is None:
                stops.append(p)
            else:
                rows.append((p, position))
        outside: list[Problem] = []
        if rows:
            mask = scope.outside(self.spec.name, self.frame)
            for p, position in rows:
                (outside if mask[position] else stops).append(p)
        order = {id(p): i for i, p in enumerate(problems)}
        stops.sort(key=lambda p: order[id(p)])
        return stops, unread, outside

    def _in_read_column(self, problem: Problem, read: frozenset[str]) -> bool:
        """False when the problem is in a column no indicator of the scope reads (an unnamed one included)."""
        if problem.code in ALWAYS_STOPS:
            return True
        if problem.code in UNNAMED:
            return False
        column = problem.column
        if column is None:
            return True
        if column in self._columns:
            return column in read
        if problem.code == Code.DUPLICATE_COLUMN:  # a file header given twice: is it the header of a read column?
            return any(c in read for c in self._columns_of_header(column))
        return True  # (a key of several columns, a name we do not know: stops, as before)

    def _columns_of_header(self, header: str) -> list[str]:
        """The template columns a file header would be read as (by name, alias or the params' mapping)."""
        text = header.strip()
        return [
            c.name
            for c in self.spec.columns
            if text.casefold() == c.name.casefold()
            or (c.alias and text == c.alias)
            or text.casefold() == str(self.headers.get(c.name, c.name)).strip().casefold()
        ]

    @cached_property
    def _columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.spec.columns)

    @cached_property
    def _row_positions(self) -> dict[int, int]:
        """Each row number (`_row`) and its position in the frame."""
        return {int(r): i for i, r in enumerate(self.frame["_row"].to_numpy().tolist())}

    def _own_problems(self, department: str) -> list[Problem]:
        problems = [p for p in self.problems if p.department in (None, department)]
        if self.exclude:
            rows = self.own_rows(department)
            left = set(rows["_row"].to_numpy()[self._excluded(department)].tolist()) if len(rows) else set()
            problems = [p for p in problems if not (p.department == department and _row_of(p) in left)]
            problems.extend(self._unmatched_exclusions(department))
        key = squash(fold(department))
        for value, positions in self._departments.items():
            if value == department:
                continue
            if squash(fold(value)) == key or (
                self.known_departments is not None
                and value not in self.known_departments
                and is_typo(value, department, max_slips=1)
            ):
                reason = how_it_differs(value, department)
                own = (
                    f" (if {value} is a department of its own, give it a params file beside this one's "
                    f"or name it in tables.{self.spec.name}.values.department)"
                    if squash(fold(value)) != key
                    else ""
                )
                for row in self.frame["_row"].to_numpy()[positions].tolist():
                    problems.append(
                        Problem(
                            file=self.file,
                            **self.place(row, "department"),
                            column="department",
                            value=value,
                            department=department,
                            message=f"did you mean {department}? The value {reason}; the row counts for no department until it is written exactly{own}",
                            code=Code.NEAR_MATCH,
                        )
                    )
        return problems

    def _no_rows(self, department: str, stops: list[Problem]) -> list[Problem]:
        """The "no row of department …" problem, when nothing else stops it and every row is another department's."""
        problems: list[Problem] = []
        if not stops and department not in self._departments and self._departments and not self.rules.allow_no_rows:
            values = sorted(self._departments)
            shown = ", ".join(values[:8]) + (f" … ({len(values)} values)" if len(values) > 8 else "")
            problems.append(
                Problem(
                    file=self.file,
                    column="department",
                    department=department,
                    message=f"no row of department {department}; the file's department values are {shown}; expected rows whose department is exactly {department} "
                    f"(check the department column or the params' tables mapping; if the department truly has none, set tables.{self.spec.name}.allow_no_rows: true)",
                    code=Code.NO_ROWS_OF_DEPARTMENT,
                )
            )
        return problems

    @cached_property
    def _keys(self) -> frozenset[str]:
        """The key of every row of the table (every department's), as `exclude` writes keys."""
        return frozenset(key_texts(self.frame, self.spec.key).dropna()) if len(self.frame) else frozenset()

    def _unmatched_exclusions(self, department: str) -> list[Problem]:
        """An exclusion whose key is the key of no row of the whole table (another department's row is no problem)."""
        every = self._keys
        columns = "|".join(self.spec.key)
        problems = []
        for key in self.exclude:
            if key in every:
                continue
            near = near_match(key, sorted(every)) if len(every) <= NEAR_KEYS else None
            hint = f" (did you mean {near!r}? it {how_it_differs(key, near)})" if near else ""
            problems.append(
                Problem(
                    file=self.exclude_file,
                    department=department,
                    message=f"tables.{self.spec.name}.exclude: key {key!r} matches no row of {self.file} ({columns}){hint}; "
                    f"expected the {columns} of a row exactly as the file writes it",
                    code=Code.EXCLUDE_UNMATCHED,
                )
            )
        return problems


NEAR_KEYS = 200_000  # tables up to this many rows name the key an unmatched exclusion nearly is


def key_texts(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    """Each row's key as params' `exclude` writes it: its key cells as text (after mapping), joined with `|`.

    None where a key cell is empty (or did not parse). Dates read YYYY-MM-DD, timestamps YYYY-MM-DD HH:MM:SS.
    """
    if not key:
        return pd.Series(None, index=frame.index, dtype=object)
    parts = [_key_part(frame[column]) for column in key]
    if len(parts) == 1:
        return pd.Series(parts[0], index=frame.index, dtype=object)
    joined = [None if None in cells else "|".join(cells) for cells in zip(*parts, strict=True)]
    return pd.Series(joined, index=frame.index, dtype=object)


def _key_part(series: pd.Series) -> list[Any]:
    """A key column's cells as text, None where empty."""
    if isinstance(series.dtype, pd.StringDtype):  # text (the usual key): as it is
        return series.astype(object).where(series.notna(), None).tolist()
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d %H:%M:%S").str.removesuffix(" 00:00:00")
    else:
        text = series.map(lambda v: str(_python(v)), na_action="ignore")
    return [t if set_ else None for t, set_ in zip(text.tolist(), series.notna().tolist(), strict=True)]


def params_ids(folder: Path) -> frozenset[str]:
    """The department ids of the params files (`*.yaml`, `*.yml`) in `folder`; files that do not read as params are skipped."""
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return frozenset()
    return _params_ids(str(folder), stamp)


@lru_cache(maxsize=64)
def _params_ids(folder: str, stamp: tuple[tuple[str, int, int], ...]) -> frozenset[str]:
    found = set()
    for name, _, _ in stamp:
        try:
            document = yamlfile.load((Path(folder) / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yamlfile.YamlProblem):
            continue
        value = document.get("department") if isinstance(document, dict) else None
        if isinstance(value, str) and PLAIN_ID.fullmatch(value):
            found.add(value)
    return frozenset(found)


def note_lines(found: Sorted, department: str, period: Period | None) -> list[str]:
    """The notes of `found` as lines for `kpi validate`: one per unread column, then the rows outside the window."""
    lines: list[str] = []
    columns: dict[tuple[str, str | None, str], list[Problem]] = {}
    for p in found.unread:
        key = (p.file, p.column, "") if p.column is not None else (p.file, None, str(p))
        columns.setdefault(key, []).append(p)
    for (_, column, _), problems in columns.items():
        more = f" ({len(problems)} problems in this column)" if len(problems) > 1 else ""
        what = f"column {column} is" if column is not None else "a column without a header is"
        lines.append(f"{problems[0]}{more}; {what} read by no indicator of {department}: nothing stops")
    within = f" {period}" if period is not None else ""
    lines.extend(
        f"{line} (the row is outside the period{within}, so it cannot count: nothing stops)"
        for line in problem_lines(found.outside)
    )
    return lines


def find_table_file(folder: Path, name: str) -> list[Path]:
    return [folder / f"{name}{suffix}" for suffix in SUFFIXES if (folder / f"{name}{suffix}").is_file()]


def empty_frame(spec: TableSpec) -> pd.DataFrame:
    return _frame(spec, {c.name: _typed(c, []) for c in spec.columns}, [])


def _failed(spec: TableSpec, file: str, sha: str | None, problems: list[Problem], rules: ReadRules) -> Table:
    return Table(spec, file, sha, empty_frame(spec), problems, rules)


def load_table(
    folder: Path,
    spec: TableSpec,
    source: TableSource | None = None,
    *,
    base: Path | None = None,
    snapshot: bool = False,
    rules: ReadRules | None = None,
    owner: str = "params file",
) -> Table:
    """Read and validate one table of a data folder; never raises for bad content.

    `source` is the params' export mapping of this table (see `sources`), `base`
    the folder of the `owner` file that names the table (adapters live there), `snapshot` true when reading a
    run's `inputs/data/` copies (mapped files at their paths there; a table with
    an adapter from the frame the run kept, without running the adapter), `rules`
    what cells are checked against beyond their types. A table file that resolves
    outside `folder` is a problem, never read.
    """
    rules = rules or ReadRules()
    if source is not None and _reshapes(source):
        return _load_mapped(folder, spec, source, base or folder, snapshot, rules, owner)
    candidates = find_table_file(folder, spec.name)
    shown = folder / f"{spec.name}.csv"
    if not candidates:
        return _failed(
            spec,
            str(shown),
            None,
            [
                Problem(
                    file=str(folder / spec.name),
                    message=f"missing file; expected {spec.name}.csv, .xlsx or .parquet in {folder}",
                    code=Code.MISSING_FILE,
                )
            ],
            rules,
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        return _failed(
            spec,
            str(candidates[0]),
            None,
            [
                Problem(
                    file=str(folder / spec.name),
                    message=f"ambiguous: {names}; keep one file per table",
                    code=Code.AMBIGUOUS_FILE,
                )
            ],
            rules,
        )
    path = candidates[0]
    outside = table_file_problem(folder, path)
    if outside is not None:
        return _failed(spec, str(path), None, [outside], rules)
    try:
        data, sha = read_hashed(path)  # (read once: the bytes hashed are the bytes parsed)
        raw = read_raw(path, wanted=wanted_headers(spec), data=data)
        del data
    except (Unreadable, OSError) as exc:
        return _failed(spec, str(path), None, [_unreadable(path, exc)], rules)
    return parse_table(raw, spec, str(path), sha, rules=rules)


def _reshapes(source: TableSource) -> bool:
    """Whether a table's params say more than which of its rows to leave out (`exclude` alone reads it as unmapped)."""
    return bool(source.model_dump(exclude={"exclude"}, exclude_defaults=True))


def wanted_headers(spec: TableSpec) -> Callable[[str], bool]:
    """Which (stripped) headers of a file `_map_headers` may take for a column of `spec`: only those are read."""
    names = {c.name.lower() for c in spec.columns}
    aliases = {c.alias for c in spec.columns if c.alias}
    return lambda header: header.lower() in names or header in aliases


def mapped_headers(spec: TableSpec, source: TableSource) -> Callable[[str], bool]:
    """`wanted_headers` of a mapped table: the template's names and aliases, and the headers `columns` maps."""
    plain = wanted_headers(spec)
    mapped = {str(header).strip() for header in source.columns.values()}
    return lambda header: header in mapped or plain(header)


def _unreadable(path: Path, exc: Unreadable | OSError) -> Problem:
    """The problem of a table file that cannot be read at all."""
    if isinstance(exc, OSError):
        message = f"cannot read the file: {exc.strerror or exc}; check that it exists and may be read"
        return Problem(file=str(path), message=message, code=Code.UNREADABLE_FILE)
    return Problem(file=str(path), message=str(exc), code=exc.code)


def _load_mapped(
    folder: Path,
    spec: TableSpec,
    source: TableSource,
    base: Path,
    snapshot: bool,
    rules: ReadRules,
    owner: str = "params file",
) -> Table:
    try:
        path = source_path(folder, spec.name, source, snapshot=snapshot)
        adapter = None if snapshot else adapter_path(base, source, table=spec.name, owner=owner)
    except InputError as refused:
        return _failed(spec, str(folder / spec.name), None, refused.problems, rules)
    if path is None:
        found = find_table_file(folder, spec.name)
        path = found[0] if len(found) == 1 else folder / f"{spec.name}.csv"
    if not path.is_file():
        return _failed(
            spec,
            str(path),
            None,
            [
                Problem(
                    file=str(path),
                    message=f"missing file; the params map table {spec.name} to it",
                    code=Code.MISSING_FILE,
                )
            ],
            rules,
        )
    outside = table_file_problem(folder, path)
    if outside is not None:
        return _failed(spec, str(path), None, [outside], rules)
    adapted = None
    try:
        data, sha = read_hashed(path)  # (read once: the bytes hashed are the bytes parsed)
        if snapshot and source.adapter:  # verify executes no code: the frame the adapter returned when the run was made
            kept = adapted_path(folder, spec.name)
            try:
                raw = RawTable(read_frame(kept))
            except KpiError as exc:
                lines = [Problem(file=str(kept), message=line, code=Code.UNREADABLE_FILE) for line in exc.lines()]
                return _failed(spec, str(path), sha, lines, rules)
        else:  # an adapter may read any column; otherwise only the headers the mapping or the template names
            raw = read_raw(
                path,
                sheet=source.sheet,
                wanted=None if adapter is not None else mapped_headers(spec, source),
                data=data,
            )
        del data
    except (Unreadable, OSError) as exc:
        return _failed(spec, str(path), None, [_unreadable(path, exc)], rules)
    if adapter is not None:
        adapted, failed = adapt(raw.frame, source, str(path), adapter)
        if adapted is None:  # the adapter failed: its problem says it all
            return _failed(spec, str(path), sha, failed, rules)
        raw = RawTable(adapted, raw.header_row, raw.letters, raw.problems)
    table = _reshaped(raw, spec, source, str(path), sha, rules)
    table.adapted = adapted
    return table


def _reshaped(
    raw: RawTable, spec: TableSpec, source: TableSource, file: str, sha: str | None, rules: ReadRules
) -> Table:
    """A mapped table's cells (a file's, an adapter's or a query's) reshaped by its mapping, parsed and validated."""
    reshaped, problems = reshape(raw, source, file)
    formats = dict(source.formats)
    if source.date_format:
        for column in spec.columns:
            if column.type in ("date", "timestamp"):
                formats.setdefault(column.name, source.date_format)
    table = parse_table(reshaped, spec, file, sha, formats=formats, rules=rules)
    table.problems[:0] = problems
    table.headers = {**table.headers, **{column: str(header) for column, header in source.columns.items()}}
    return table


def load_query(
    spec: TableSpec,
    source: TableSource,
    *,
    rules: ReadRules,
    result: sql.Result | None = None,
    kept: Path | None = None,
) -> Table:
    """Table `spec` from what its `sql` query returned (`result`, see `DataFolder.query`), or, with `kept`, from the
    result a run kept (no connection).

    Never raises for bad content: a refused query, a failed connection or a bad
    cell is a problem of the table. Problems of a row name its key value.
    """
    file = sql.label(spec.name)
    if kept is not None:
        try:
            frame, sha = sql.read_kept(kept)
        except KpiError as exc:
            return _failed(
                spec,
                file,
                None,
                [Problem(file=file, message=line, code=Code.UNREADABLE_FILE) for line in exc.lines()],
                rules,
            )
    else:
        if result is None:
            raise InternalError(f"table {spec.name}: neither a query's result nor a kept one (please report it)")
        if not result.ok or result.frame is None:
            return _failed(spec, file, None, result.problems, rules)
        frame, sha = result.frame, result.sha256
        if not len(frame) and not rules.allow_no_rows:
            message = (
                "the query returned no rows; expected the rows the indicators count (check its WHERE against "
                "how the database stores the values; if there truly are none, set "
                f"tables.{spec.name}.allow_no_rows: true)"
            )
            return _failed(spec, file, sha, [Problem(file=file, message=message, code=Code.EMPTY_RESULT)], rules)
    raw = sql.raw_table(frame, spec.name, wanted=mapped_headers(spec, source))
    table = _reshaped(raw, spec, source, file, sha, rules)
    if spec.key and any(p.file == file and p.row is not None for p in table.problems):
        reshaped = reshape(raw, source, file)[0]  # (again, only to name the key of a row with a problem)
        for i, problem in enumerate(table.problems):
            if problem.file == file and problem.row is not None and problem.code != Code.DUPLICATE_KEY:
                key = sql.key_text(reshaped, spec.key, problem.row)
                if key:
                    table.problems[i] = replace(
                        problem, message=f"{problem.message} (the query's row {problem.row}: {key})"
                    )
    return table


def _map_headers(raw: RawTable, spec: TableSpec, file: str) -> tuple[dict[str, Any], list[Problem]]:
    """Each template column's header in the file (by name in any letter case, or by Chinese alias)."""
    problems: list[Problem] = []
    by_name = {c.name.lower(): c.name for c in spec.columns}
    by_alias = {c.alias: c.name for c in spec.columns if c.alias}
    found: dict[str, Any] = {}
    for header in raw.frame.columns:
        text = str(header).strip()
        name = by_name.get(text.lower()) or by_alias.get(text)
        if name is None:
            continue  # extra columns are allowed and ignored
        if name in found:
            problems.append(
                Problem(
                    file=file,
                    **_header_place(raw, header),
                    column=text,
                    message=f"column {name} appears twice (as {found[name]!r} and {header!r})",
                    code=Code.DUPLICATE_COLUMN,
                )
            )
            continue
        found[name] = header
    for col in spec.columns:
        if col.name not in found and not col.optional:
            alias = f" (or {col.alias})" if col.alias else ""
            near = next(
                (
                    h
                    for h in (raw.frame.columns if raw.headers is None else raw.headers)
                    if fold(str(h)) in (fold(col.name), fold(col.alias or col.name))
                ),
                None,
            )
            hint = (
                f"; header {near!r} nearly matches it but {exactness_problem(str(near)) or 'differs'}"
                if near is not None
                else ""
            )
            problems.append(
                Problem(
                    file=file,
                    row=raw.header_row,
                    column=col.name,
                    message=f"missing column; expected a header {col.name}{alias}{hint}",
                    code=Code.MISSING_COLUMN,
                )
            )
    return found, problems


def _header_place(raw: RawTable, header: Any) -> Place:
    letter = raw.letters.get(str(header))
    return place(raw.header_row, letter)


def parse_table(
    raw: RawTable | pd.DataFrame,
    spec: TableSpec,
    file: str,
    sha: str | None,
    formats: dict[str, str] | None = None,
    rules: ReadRules | None = None,
) -> Table:
    """Parse raw cells by the table spec, gathering every problem.

    Row numbers come from the frame's index (0 → row 2), so a frame an adapter
    filtered still points at the file's rows.
    """
    rules = rules or ReadRules()
    if isinstance(raw, pd.DataFrame):
        raw = RawTable(raw)
    frame = raw.frame
    headers, problems = _map_headers(raw, spec, file)
    problems[:0] = raw.problems
    integer_index = pd.api.types.is_integer_dtype(frame.index) and (len(frame.index) == 0 or frame.index.min() >= 0)
    base = raw.row_base
    rows = (
        frame.index.to_numpy(dtype="int64") + base
        if integer_index
        else np.arange(base, len(frame) + base, dtype="int64")
    )
    departments = _Departments(frame[headers["department"]] if "department" in headers else None, len(frame))
    letters = {name: raw.letters[str(header)] for name, header in headers.items() if str(header) in raw.letters}
    values: dict[str, pd.Series] = {}
    folds: dict[str, np.ndarray] = {}  # timestamp column → its cells in the second of a repeated hour (if any)
    for col in spec.columns:
        if col.name not in headers:
            values[col.name] = _typed(col, [None] * len(frame))
            continue
        fmt = (formats or {}).get(col.name)
        parse = _parser(col, rules, fmt)
        places = _Places(file, rows, departments, letters.get(col.name))
        cells = frame[headers[col.name]]
        text = _as_text(cells)
        if text is not None:
            values[col.name] = _parse_text_column(
                text,
                col,
                parse,
                _plain_kind(col, rules, fmt),
                places,
                problems,
                timezone=rules.timezone,
                folds=folds,
                fmt=fmt,
            )
        elif readers.VECTORIZED:
            values[col.name] = _parse_typed_column(
                cells, col, parse, places, problems, timezone=rules.timezone, folds=folds
            )
        else:
            parsed = _parse_column(cells.tolist(), col, parse, places, problems)
            if col.type == "timestamp":
                _note_folds(folds, col.name, np.array([getattr(v, "fold", 0) == 1 for v in parsed], dtype=bool))
            values[col.name] = _typed(col, parsed)
    places_of = {name: _Places(file, rows, departments, letters.get(name)) for name in values}
    _check_keys(spec, values, places_of, problems)
    _check_order(spec, values, places_of, problems, rules.timezone, folds)
    for name, mask in folds.items():
        values[fold_column(name)] = pd.Series(pd.array(mask, dtype="boolean"))
    table = Table(spec, file, sha, _frame(spec, values, rows), problems, rules, letters)
    table.headers = {name: str(header) for name, header in headers.items()}
    return table


def _note_folds(folds: dict[str, np.ndarray], name: str, mask: np.ndarray) -> None:
    """Keep which cells of timestamp column `name` are second occurrences, when any is (see `kpi_lib.inputs.zones`)."""
    if mask.any():
        folds[name] = mask


def _department(value: Any) -> str | None:
    """The department a row's problems belong to: its value, or the id it nearly is (so that department fails); None (every department) when it is no id at all."""
    if _is_missing(value) or isinstance(value, BadCell):
        return None
    text = cell_text(value)
    return text if PLAIN_ID.fullmatch(text) else id_skeleton(text)


class _Departments:
    """Each row's department for its problems (`_department`), worked out for the whole column on the first problem."""

    def __init__(self, cells: pd.Series | None, rows: int) -> None:
        self._cells = cells
        self._rows = rows
        self._found: np.ndarray | None = None

    def of(self, i: int) -> str | None:
        if self._found is None:
            cells = self._cells
            self._found = np.full(self._rows, None, dtype=object) if cells is None else _departments_of(cells)
        value: str | None = self._found[i]
        return value


@dataclass(frozen=True)
class _Places:
    """Where the cells of one column are: the file, each row and its department, the xlsx column letter."""

    file: str
    rows: np.ndarray  # int64 row numbers
    departments: _Departments
    letter: str | None

    def problem(self, i: int, column: str, message: str, code: Code, value: Any = None) -> Problem:
        row = int(self.rows[i])
        where = place(row, self.letter)
        return Problem(
            file=self.file,
            **where,
            column=column,
            value=value,
            department=self.departments.of(i),
            message=message,
            code=code,
        )


def _parse_column(
    cells: list[Any], col: Column, parse: Callable[[Any], Any], places: _Places, problems: list[Problem]
) -> list[Any]:
    """Parse a column of typed cells (xlsx, Parquet, an adapter's frame) one by one: the exact path."""
    out: list[Any] = []
    low, high = _bounds(col)
    for i, cell in enumerate(cells):
        value, bad = _parse_cell(cell, col, parse, low, high)
        if bad is not None:
            problems.append(places.problem(i, col.name, *bad))
        out.append(value)
    return out


def _bounds(col: Column) -> tuple[Decimal | None, Decimal | None]:
    return (
        None if col.min is None else Decimal(str(col.min)),
        None if col.max is None else Decimal(str(col.max)),
    )


_Wrong = tuple[str, Code, Any]  # a cell's problem: message, code, the value shown


def _parse_cell(
    cell: Any, col: Column, parse: Callable[[Any], Any], low: Decimal | None, high: Decimal | None
) -> tuple[Any, _Wrong | None]:
    """One cell's value, or None and what is wrong with it: the definition every faster path agrees with."""
    if isinstance(cell, BadCell):
        return None, (cell.reason, cell.code, cell.shown)
    if _is_missing(cell):
        if col.required:
            return None, (f"empty; expected a {col.type} value", Code.EMPTY_VALUE, None)
        return None, None
    try:
        value = parse(cell)
    except _Bad as bad:
        return None, (str(bad), bad.code, cell_text(cell))
    if (low is not None and value < low) or (high is not None and value > high):
        return None, (_range_text(col), Code.OUT_OF_RANGE, cell_text(cell))
    return value, None


def _range_text(col: Column) -> str:
    if col.min is not None and col.max is not None:
        return f"expected a number from {col.min} to {col.max}"
    if col.min is not None:
        return "expected a number that is not negative" if col.min == 0 else f"expected a number of at least {col.min}"
    return f"expected a number of at most {col.max}"


def _check_keys(
    spec: TableSpec, values: dict[str, pd.Series], places: dict[str, _Places], problems: list[Problem]
) -> None:
    """Each key once: rows whose key (all of it set) repeats an earlier row's, in row order (pandas' duplicated)."""
    if not spec.key:
        return
    place = places[spec.key[-1]]
    keys = pd.DataFrame({c: values[c] for c in spec.key})
    keys = keys[keys.notna().all(axis=1)]
    if len(spec.key) == 1 and isinstance(keys.dtypes.iloc[0], pd.StringDtype):
        single = keys.iloc[:, 0].array.__arrow_array__()
        if pc.count_distinct(single).as_py() == len(keys):
            return  # every key once (the usual case: one hash pass, no factorizing)
    repeated = keys.duplicated(keep="first")
    if not repeated.any():
        return
    involved = keys[keys.duplicated(keep=False)]
    first: dict[tuple[Any, ...], int] = {}
    for i in involved.index[~repeated[involved.index]]:
        first[_key_tuple(keys, i, spec.key)] = int(place.rows[i])
    for i in repeated.index[repeated.to_numpy()]:
        key = _key_tuple(keys, i, spec.key)
        shown = ", ".join(f"{c}={v}" for c, v in zip(spec.key, key, strict=False))
        problems.append(
            place.problem(
                int(i),
                ",".join(spec.key),
                f"duplicate {shown}: already in row {first[key]}; expected each once",
                Code.DUPLICATE_KEY,
            )
        )


def _key_tuple(keys: pd.DataFrame, i: Any, columns: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(_python(keys.at[i, c]) for c in columns)


def _python(value: Any) -> Any:
    """A frame's cell as the Python value the per-cell parser gave (datetime, bool, Decimal, str)."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime(warn=False)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _check_order(
    spec: TableSpec,
    values: dict[str, pd.Series],
    places: dict[str, _Places],
    problems: list[Problem],
    timezone: str = DEFAULT_TIMEZONE,
    folds: Mapping[str, np.ndarray] | None = None,
) -> None:
    """`later` not before `earlier` in any row where both are set (one vectorized comparison per pair).

    Two timestamps are compared as instants (`kpi_lib.inputs.zones`): 01:10 in the second of a repeated hour is
    after 01:50 in the first."""
    types = {c.name: c.type for c in spec.columns}
    folds = folds or {}
    for earlier, later in spec.order:
        place = places[later]
        a, b = values[earlier], values[later]
        both = (a.notna() & b.notna()).to_numpy(dtype=bool)
        if not both.any():
            continue
        if types.get(earlier) == types.get(later) == "timestamp":
            fold_a, fold_b = folds.get(earlier), folds.get(later)
            a = instants(a, timezone, None if fold_a is None else pd.Series(fold_a, index=a.index))
            b = instants(b, timezone, None if fold_b is None else pd.Series(fold_b, index=b.index))
        wrong = np.zeros(len(a), dtype=bool)
        wrong[both] = (b[both] < a[both]).to_numpy(dtype=bool)
        for i in np.flatnonzero(wrong):
            first, second = _python(values[earlier].iloc[i]), _python(values[later].iloc[i])
            problems.append(
                place.problem(
                    int(i),
                    later,
                    f"is before {earlier} ({first}); expected {later} not before {earlier}",
                    Code.WRONG_ORDER,
                    str(second),
                )
            )


TEXT_TYPES = ("str", "period")


def _typed(col: Column, column: list[Any]) -> pd.Series:
    """A column of parsed Python values (the per-cell path) in the frame's dtype for its type.

    Dates and timestamps `datetime64[ns]` (NaT when empty), booleans nullable `boolean`, text and periods
    pandas' `str` (pyarrow-backed, NaN when empty: no Python object per cell), numbers `Decimal` objects.
    """
    if col.type in ("date", "timestamp"):
        return pd.to_datetime(pd.Series(column, dtype=object), errors="raise").astype("datetime64[ns]")
    if col.type == "bool":
        return pd.Series(pd.array(column, dtype="boolean"))
    if col.type in TEXT_TYPES:
        return pd.Series(column, dtype="str")
    return pd.Series(column, dtype=object)


def _frame(spec: TableSpec, values: dict[str, pd.Series], rows: np.ndarray | list[int]) -> pd.DataFrame:
    data: dict[str, Any] = {col.name: values[col.name].reset_index(drop=True) for col in spec.columns}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    frame["_row"] = pd.Series(np.asarray(rows, dtype="int64"))
    for col in spec.columns:  # which cells were the second of a repeated hour (`kpi_lib.inputs.zones`), when any was
        if fold_column(col.name) in values:
            frame[fold_column(col.name)] = values[fold_column(col.name)].reset_index(drop=True)
    return frame


# -- vectorized parsing ---------------------------------------------------------------------
# A column of text cells (a CSV's) is parsed as a whole: a regular expression on the whole column finds
# the cells that are plainly valid for their type, and those are converted at once (dates and timestamps
# by pandas with a fixed format, decimals once per distinct text). Every other cell (empty where a value
# is required, spaces around it, an offset, a near match, out of range …) goes through `_parse_cell`, the
# definition, once per distinct text: its problems carry the same message, code, row and value as if
# every cell had been parsed one by one. `tests/test_tables_fast.py` checks that both agree on every
# class of cell the patterns admit.
_DAY = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
PLAIN: dict[str, str] = {
    "date": _DAY,
    "timestamp": _DAY + r"[ T](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?",
    "decimal": r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,6})?",
    "int": r"-?(?:0|[1-9][0-9]{0,14})",
    "department": PLAIN_ID.pattern,
    "identifier": r"[!-~](?:[ -~]*[!-~])?",  # printable ASCII, no space around it (no vocabulary to nearly match)
    "text": r"[^\x00-\x20\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\x9f])?",  # no control character
}


def _cases(word: str) -> list[str]:
    """Every spelling of an ASCII word in upper and lower case letters."""
    spellings = [""]
    for char in word:
        spellings = [s + c for s in spellings for c in dict.fromkeys((char.lower(), char.upper()))]
    return spellings


BOOL_WORDS: dict[str, bool] = {
    spelling: word in TRUE for word in sorted(TRUE | FALSE) for spelling in _cases(word)
}  # what `_parse_bool` reads as a boolean exactly, spelled as written (no spaces around it)


def _plain_kind(col: Column, rules: ReadRules, fmt: str | None) -> str | None:
    """Which `PLAIN` pattern (or `BOOL_WORDS`) finds the plainly valid cells of a column; None: all go cell by cell."""
    kind = col.type
    if kind in ("date", "timestamp"):
        return None if fmt else kind
    if kind == "str":
        if col.name == "department":
            return "department"
        if col.name in rules.identifiers:
            return None if rules.vocabulary.get(col.name) else "identifier"
        return "text"
    if kind in ("decimal", "int", "bool"):
        return kind
    return None  # periods: few distinct values, each parsed once


def _as_text(cells: pd.Series) -> pd.Series | None:
    """The column as pandas `str` when every cell is text (a CSV's), else None (typed cells: `_parse_typed_column`).

    A column of text and None (a database's or a Parquet file's text with NULLs) is text too, each None read as
    "": both are an empty cell to every parser (`_is_missing`, `_department`), with the same problem.
    """
    if isinstance(cells.dtype, pd.StringDtype):
        return cells
    if not len(cells) or cells.dtype != object:
        return None
    if pd.api.types.infer_dtype(cells, skipna=False) == "string":
        return pd.Series(pd.array(cells.to_numpy(), dtype="str"))
    if not readers.VECTORIZED:
        return None
    values = cells.to_numpy()
    if set(map(type, values)) != {str, type(None)}:
        return None
    none = _IS_NONE(values).astype(bool)
    values = values.copy()
    values[none] = ""
    return pd.Series(pd.array(values, dtype="str"))


_TYPE_OF = np.frompyfunc(type, 1, 1)  # each cell's exact type (numpy, once per cell, no Python loop)
_IS_NONE = np.frompyfunc(lambda v: v is None, 1, 1)


def plain_mask(text: pd.Series, kind: str) -> np.ndarray:
    """Which cells of a `str` column match `PLAIN[kind]` (or are `BOOL_WORDS` for "bool") exactly."""
    if kind == "bool":
        return text.isin(list(BOOL_WORDS)).to_numpy(dtype=bool)
    array = text.array.__arrow_array__()
    return np.asarray(
        pc.match_substring_regex(array, f"^(?:{PLAIN[kind]})$").to_numpy(zero_copy_only=False), dtype=bool
    )


def _parse_text_column(
    text: pd.Series,
    col: Column,
    parse: Callable[[Any], Any],
    kind: str | None,
    places: _Places,
    problems: list[Problem],
    *,
    timezone: str = DEFAULT_TIMEZONE,
    folds: dict[str, np.ndarray] | None = None,
    fmt: str | None = None,
) -> pd.Series:
    """A column of text cells parsed as a whole (see `PLAIN`); the result has `_typed`'s dtype.

    Plain timestamps (no offset) that the time zone skips or repeats go to the per-cell parser, which refuses
    them; `folds` receives which cells are the second of a repeated hour (cells with an offset). A date or
    timestamp column read with an export's own format `fmt` takes the cells `_formatted` finds at once."""
    n = len(text)
    text = text.reset_index(drop=True)
    low, high = _bounds(col)
    empty = (text == "").to_numpy(dtype=bool)
    plain = plain_mask(text, kind) if kind is not None else np.zeros(n, dtype=bool)
    stamps = None
    if fmt and col.type in ("date", "timestamp") and readers.VECTORIZED and _simple_format(fmt):
        plain, stamps = _formatted(text, fmt)
    data = np.zeros(n, dtype=bool)  # booleans: the values and which are set
    known = np.zeros(n, dtype=bool)
    out: np.ndarray = (
        np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        if col.type in ("date", "timestamp")
        else np.full(n, None, dtype=object)
    )
    if col.type in ("date", "timestamp"):
        if plain.any():
            moments = _moments(text[plain], col.type) if stamps is None else stamps[plain].reset_index(drop=True)
            years = moments.dt.year
            good = (moments.notna() & (years >= FIRST_YEAR) & (years <= LAST_YEAR)).to_numpy(dtype=bool)
            if stamps is not None and col.type == "date":  # (a format with a time of day: midnight only)
                good = good & (moments == moments.dt.normalize()).to_numpy(dtype=bool)
            if col.type == "timestamp":
                good = good & ~problem_mask(moments, timezone)
            where = np.flatnonzero(plain)
            out[where[good]] = moments[good].to_numpy(dtype="datetime64[ns]")
            plain[where[~good]] = False
    elif col.type == "bool":
        data[plain] = text[plain].isin([w for w, truth in BOOL_WORDS.items() if truth]).to_numpy(dtype=bool)
        known[plain] = True
    elif col.type in ("decimal", "int") and plain.any():
        codes, uniques = pd.factorize(text[plain])
        numbers = [Decimal(u) for u in uniques]  # one Decimal per distinct text, shared by its rows
        within = np.array([(low is None or v >= low) and (high is None or v <= high) for v in numbers], dtype=bool)
        shared = np.empty(len(numbers), dtype=object)
        shared[:] = numbers
        where = np.flatnonzero(plain)
        ok = within[codes]
        out[where[ok]] = shared[codes[ok]]
        plain[where[~ok]] = False  # out of range: the per-cell parser says so
    # every other cell: the per-cell parser, once per distinct text, problems in row order
    rest_values: tuple[np.ndarray, np.ndarray] | None = None
    rest = ~plain & ~(empty & (not col.required))
    if rest.any():
        where = np.flatnonzero(rest)
        codes, uniques = pd.factorize(text[rest])
        parsed = [_parse_cell(u, col, parse, low, high) for u in uniques]
        wrong = np.array([w is not None for _, w in parsed], dtype=bool)
        for i, code in zip(where[wrong[codes]], codes[wrong[codes]], strict=True):
            problems.append(places.problem(int(i), col.name, *parsed[code][1]))
        got = [v for v, _ in parsed]
        if col.type == "bool":
            data[where] = np.array([bool(v) for v in got], dtype=bool)[codes]
            known[where] = np.array([v is not None for v in got], dtype=bool)[codes]
        elif col.type in ("date", "timestamp"):
            out[where] = np.array(got, dtype="datetime64[ns]")[codes]
            if col.type == "timestamp" and folds is not None:
                second = np.zeros(n, dtype=bool)
                second[where] = np.array([getattr(v, "fold", 0) == 1 for v in got], dtype=bool)[codes]
                _note_folds(folds, col.name, second)
        elif col.type in TEXT_TYPES:
            shared = np.empty(len(got), dtype=object)
            shared[:] = got
            values = shared[codes]
            out[where] = values
            rest_values = (where, values)
        else:
            shared = np.empty(len(got), dtype=object)
            shared[:] = got
            out[where] = shared[codes]
    if col.type in TEXT_TYPES:  # the text itself where plain (no copy to Python objects), the parsed text elsewhere
        result = text.where(pd.Series(plain))
        if rest_values is not None and len(rest_values[0]):
            changed = rest_values[1] != None  # noqa: E711 - elementwise over objects
            result.iloc[rest_values[0][changed]] = rest_values[1][changed]
        return result
    if col.type == "bool":
        return pd.Series(pd.arrays.BooleanArray(data, ~known))
    if col.type in ("date", "timestamp"):
        return pd.Series(out, dtype="datetime64[ns]")
    return pd.Series(out, dtype=object)


# -- typed cells, a column at a time --------------------------------------------------------------
# A column of typed cells (xlsx, Parquet, a query's result, an adapter's frame, a mapped column's codes) is
# parsed once per distinct cell of each type, then spread over its rows, with `_parse_cell` (the definition):
# a cell's value and problem depend on the cell alone, so equal cells give equal results. Cells are grouped by
# exact type; within a type, cells are "equal" only when the parser cannot tell them apart:
# - by value: str, bool, int, date, None, `BadCell` (equal values of one of these types are the same value);
# - by repr: float (0.0 and -0.0 differ), Decimal (1.0 and 1.00 differ), datetime and pandas Timestamp (an
#   offset, a fold, nanoseconds), time;
# - any other type (a list, a numpy scalar, an object): one by one.
# Two classes of many distinct values are converted at once: floats for a decimal or int column (the repr of
# each distinct float, taken as the decimal `from_float` gives when it matches `PLAIN["decimal"]` with at most 15
# significant digits, else `_parse_cell`), and naive datetimes (fold 0) or a datetime64 column for a date or
# timestamp column (in range, a date at midnight, a timestamp that names one instant: `problem_mask`; any
# other goes to `_parse_cell`). Problems are added in row order, as the exact path adds them.
_BY_VALUE = frozenset({str, bool, int, date, type(None), BadCell})
_BY_REPR = frozenset({float, Decimal, datetime, pd.Timestamp, time})
_NAIVE = np.frompyfunc(lambda v: v.tzinfo is None and v.fold == 0, 1, 1)
_REPR = np.frompyfunc(repr, 1, 1)


def _parse_typed_column(
    cells: pd.Series,
    col: Column,
    parse: Callable[[Any], Any],
    places: _Places,
    problems: list[Problem],
    *,
    timezone: str = DEFAULT_TIMEZONE,
    folds: dict[str, np.ndarray] | None = None,
) -> pd.Series:
    """A column of typed cells parsed a group of equal cells at a time (see above); the result has `_typed`'s dtype."""
    n = len(cells)
    low, high = _bounds(col)
    moments = col.type in ("date", "timestamp")
    out: np.ndarray = (
        np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]") if moments else np.full(n, None, dtype=object)
    )
    data = np.zeros(n, dtype=bool)  # booleans: the values and which are set
    known = np.zeros(n, dtype=bool)
    second = np.zeros(n, dtype=bool)  # timestamps: the second of a repeated hour
    wrong: list[tuple[int, _Wrong]] = []

    def put(where: np.ndarray, got: list[Any], codes: np.ndarray) -> None:
        """Spread the parsed value of each group (`got[code]`) over its rows `where`."""
        if col.type == "bool":
            data[where] = np.array([bool(v) for v in got], dtype=bool)[codes]
            known[where] = np.array([v is not None for v in got], dtype=bool)[codes]
        elif moments:
            out[where] = np.array(got, dtype="datetime64[ns]")[codes]
            second[where] = np.array([getattr(v, "fold", 0) == 1 for v in got], dtype=bool)[codes]
        else:
            shared = np.empty(len(got), dtype=object)
            shared[:] = got
            out[where] = shared[codes]

    def each(where: np.ndarray, cells: np.ndarray, keys: np.ndarray) -> None:
        """Parse one cell of each group of equal `keys` with `_parse_cell`; spread the results."""
        codes, uniques = pd.factorize(keys, use_na_sentinel=False)
        firsts = np.unique(codes, return_index=True)[1]
        parsed = [_parse_cell(cells[i], col, parse, low, high) for i in firsts]
        bad = np.array([w is not None for _, w in parsed], dtype=bool)
        for i, code in zip(where[bad[codes]], codes[bad[codes]], strict=True):
            wrong.append((int(i), parsed[code][1]))
        put(where, [v for v, _ in parsed], codes)

    if moments and cells.dtype == np.dtype("datetime64[ns]"):  # (an adapter's datetime64 column, naive)
        stamps = cells.to_numpy(dtype="datetime64[ns]")
        unset = np.isnat(stamps)
        if col.required and unset.any():
            each(np.flatnonzero(unset), np.full(int(unset.sum()), None, dtype=object), np.zeros(int(unset.sum())))
        whole = stamps.view("int64") % 1000 == 0  # (nanoseconds: the exact path cuts them; one by one)
        good = _moments_that_parse(stamps, ~unset & whole, col.type, timezone)
        out[good] = stamps[good]
        rest = np.flatnonzero(~unset & ~good)
        if len(rest):
            objects = cells.iloc[rest].to_numpy(dtype=object)
            each(rest, objects, _REPR(objects).astype(str))
        return _assembled(col, out, data, known, second, wrong, places, problems, folds)

    values = _cells_of(cells)
    kinds = _TYPE_OF(values)
    codes, types = pd.factorize(kinds, use_na_sentinel=False)
    for k, kind in enumerate(types):
        where = np.flatnonzero(codes == k)
        group = values[where]
        if kind is float and col.type in ("decimal", "int"):
            _floats(where, group, col, low, high, out, each)
        elif kind is datetime and moments:
            naive = _NAIVE(group).astype(bool)
            stamps = np.full(len(group), np.datetime64("NaT"), dtype="datetime64[us]")
            if naive.any():  # (pandas converts at once; a year it cannot hold is NaT, and goes to `_parse_cell`)
                converted = pd.to_datetime(group[naive], errors="coerce").as_unit("us").to_numpy()
                stamps[naive] = converted
                naive[np.flatnonzero(naive)[np.isnat(converted)]] = False
            good = _moments_that_parse(stamps, naive, col.type, timezone)
            out[where[good]] = stamps[good].astype("datetime64[ns]")
            if (~good).any():
                each(where[~good], group[~good], _REPR(group[~good]).astype(str))
        elif kind in _BY_VALUE:
            each(where, group, group)
        elif kind in _BY_REPR:
            each(where, group, _REPR(group).astype(str))
        else:  # one by one
            each(where, group, np.arange(len(group)))
    return _assembled(col, out, data, known, second, wrong, places, problems, folds)


def _cells_of(cells: pd.Series) -> np.ndarray:
    """An object array of the cells the exact path parses (`cells.tolist()`): an object column's own array."""
    if cells.dtype == object:
        return cells.to_numpy()
    return np.fromiter(cells.tolist(), dtype=object, count=len(cells))


def _floats(
    where: np.ndarray,
    group: np.ndarray,
    col: Column,
    low: Decimal | None,
    high: Decimal | None,
    out: np.ndarray,
    each: Callable[[np.ndarray, np.ndarray, np.ndarray], None],
) -> None:
    """Floats of a decimal or int column: each distinct repr that is a plain decimal (`PLAIN`) of at most 15
    significant digits within the column's bounds is the Decimal `from_float` gives; any other `_parse_cell`."""
    texts = _REPR(group).astype(str)
    codes, uniques = pd.factorize(texts)
    plain = plain_mask(pd.Series(pd.array(uniques, dtype="str")), "int" if col.type == "int" else "decimal")
    numbers = np.empty(len(uniques), dtype=object)
    fine = np.zeros(len(uniques), dtype=bool)
    for u in np.flatnonzero(plain):
        number = Decimal(str(uniques[u]))
        if (
            len(number.as_tuple().digits) <= FLOAT_DIGITS
            and (low is None or number >= low)
            and (high is None or number <= high)
        ):
            numbers[u], fine[u] = number, True
    ok = fine[codes]
    out[where[ok]] = numbers[codes[ok]]
    if (~ok).any():
        each(where[~ok], group[~ok], texts[~ok])


def _moments_that_parse(stamps: np.ndarray, candidates: np.ndarray, kind: str, timezone: str) -> np.ndarray:
    """Which naive moments (`candidates` of datetime64 `stamps`) parse as they are: in range, a date at
    midnight, a timestamp that names one instant in the zone (`problem_mask`)."""
    good = candidates.copy()
    if not good.any():
        return good
    moments = pd.Series(stamps[good].astype("datetime64[us]"))
    years = moments.dt.year.to_numpy()
    fine = (years >= FIRST_YEAR) & (years <= LAST_YEAR)
    if kind == "date":
        fine &= (moments == moments.dt.normalize()).to_numpy(dtype=bool)
    elif fine.any():
        inside = np.flatnonzero(fine)
        fine[inside] = ~problem_mask(moments.iloc[inside].astype("datetime64[ns]").reset_index(drop=True), timezone)
    good[np.flatnonzero(good)[~fine]] = False
    return good


def _assembled(
    col: Column,
    out: np.ndarray,
    data: np.ndarray,
    known: np.ndarray,
    second: np.ndarray,
    wrong: list[tuple[int, _Wrong]],
    places: _Places,
    problems: list[Problem],
    folds: dict[str, np.ndarray] | None,
) -> pd.Series:
    """The parsed column in `_typed`'s dtype; its problems added in row order."""
    for i, bad in sorted(wrong, key=lambda item: item[0]):
        problems.append(places.problem(i, col.name, *bad))
    if col.type == "timestamp" and folds is not None:
        _note_folds(folds, col.name, second)
    if col.type == "bool":
        return pd.Series(pd.arrays.BooleanArray(data, ~known))
    if col.type in ("date", "timestamp"):
        return pd.Series(out, dtype="datetime64[ns]")
    if col.type in TEXT_TYPES:
        return pd.Series(out, dtype="str")
    return pd.Series(out, dtype=object)


# An export's own date format (`date_format`, `formats`) read at once: a format of %Y, %m and %d once each,
# at most one each of %H, %M and %S, and characters other than % between them. A cell (stripped of spaces and
# tabs, as `_with_format` strips it) is taken only when it is the format written out exactly, every field in
# ASCII digits zero-padded in its place (%Y four, the others two), and pyarrow's strptime reads it to a moment
# whose fields are those digits (so 29/02/2026, which a lenient parser might roll over, is not taken). Such a
# text `datetime.strptime` reads to that same moment; any other cell (a one-digit day, text around it, a moment
# pyarrow does not read) goes to `_parse_cell`.
_FIELDS = {
    "%Y": (4, pc.year),
    "%m": (2, pc.month),
    "%d": (2, pc.day),
    "%H": (2, pc.hour),
    "%M": (2, pc.minute),
    "%S": (2, pc.second),
}


def _simple_format(fmt: str) -> bool:
    """A format `_formatted` reads at once: %Y, %m and %d once each, %H, %M and %S at most once, no other %."""
    directives = re.findall(r"%.?", fmt, re.DOTALL)
    return (
        all(d in ("%Y", "%m", "%d", "%H", "%M", "%S") for d in directives)
        and len(set(directives)) == len(directives)
        and {"%Y", "%m", "%d"} <= set(directives)
    )


def _formatted(text: pd.Series, fmt: str) -> tuple[np.ndarray, pd.Series]:
    """Which cells read in format `fmt` at once (see `_FIELDS`), and their moments (NaT elsewhere)."""
    array = pc.utf8_trim(text.array.__arrow_array__(), " \t")
    pieces = re.split(r"(%[YmdHMS])", fmt)
    layout = "".join(f"[0-9]{{{_FIELDS[p][0]}}}" if p in _FIELDS else re.escape(p) for p in pieces)
    taken = pc.match_substring_regex(array, f"^{layout}$")
    parsed = pc.strptime(array, format=fmt, unit="s", error_is_null=True)
    start = 0
    for piece in pieces:
        if piece in _FIELDS:
            width, field = _FIELDS[piece]
            digits = pc.utf8_slice_codeunits(array, start, start + width)
            number = pc.cast(pc.if_else(taken, digits, pa.scalar("0")), pa.int64())
            taken = pc.and_(taken, pc.equal(number, field(parsed)))
        start += _FIELDS[piece][0] if piece in _FIELDS else len(piece)
    years = pc.year(parsed)
    inside = pc.and_(pc.greater_equal(years, 1678), pc.less_equal(years, 2261))
    taken = pc.fill_null(pc.and_(taken, inside), False)
    moments = pc.if_else(taken, parsed, pa.scalar(None, parsed.type))  # (beyond datetime64[ns]: `_parse_cell`)
    mask = np.asarray(taken.to_numpy(zero_copy_only=False), dtype=bool)
    stamps = pd.Series(pc.cast(moments, pa.timestamp("ns")).to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
    return mask, stamps


def _moments(text: pd.Series, kind: str) -> pd.Series:
    """Plain date or timestamp texts (`PLAIN`) as datetime64[ns]: pyarrow's ISO 8601 cast, or pandas cell by
    cell (NaT where a text is no real moment, e.g. 2026-02-30) when the cast refuses one of them."""
    try:
        cast = pc.cast(text.array.__arrow_array__(), pa.timestamp("ns"))
        return pd.Series(cast.to_numpy(), index=text.index, dtype="datetime64[ns]")
    except pa.ArrowException:
        return pd.to_datetime(text, format="%Y-%m-%d" if kind == "date" else "ISO8601", errors="coerce")


def _departments_of(cells: pd.Series) -> np.ndarray:
    """Each row's department for its problems (`_department`): plain ids at once, other values once each."""
    text = _as_text(cells)
    if text is None and not readers.VECTORIZED:
        return np.array([_department(v) for v in cells], dtype=object)
    if text is None:  # typed cells: once per group of equal cells (`readers.group_cells`)
        values = _cells_of(cells)
        groups, firsts = readers.group_cells(values)
        named = np.empty(len(firsts), dtype=object)
        named[:] = [_department(v) for v in values[firsts]]
        found: np.ndarray = named[groups]
        return found
    text = text.reset_index(drop=True)
    plain = plain_mask(text, "department")
    out = np.full(len(text), None, dtype=object)
    if plain.any():
        codes, uniques = pd.factorize(text[plain])
        out[plain] = uniques.to_numpy(dtype=object)[codes]
    if (~plain).any():
        codes, uniques = pd.factorize(text[~plain])
        named = np.empty(len(uniques), dtype=object)
        named[:] = [_department(u) for u in uniques]
        out[~plain] = named[codes]
    return out


class DataFolder:
    """The tables of one data folder, each read and validated once, on first use.

    `sources` are the params' export mappings by table name, `base` the params
    file's folder, `snapshot` true for a run's `inputs/` copies, `timezone` the
    params' time zone that timestamps with an offset are converted to. `bases`
    gives the folder of each table whose entry a company file gave
    (`Department.table_base`); `base_of(name)` is the folder a table's relative
    paths outside the data folder (its adapter) resolve against.
    """

    def __init__(
        self,
        folder: Path,
        template: Template,
        sources: Mapping[str, TableSource] | None = None,
        base: Path | None = None,
        snapshot: bool = False,
        timezone: str = DEFAULT_TIMEZONE,
        *,
        bases: Mapping[str, Path] | None = None,
        params_file: str = "",
        departments: frozenset[str] | None = None,
        period: Period | None = None,
        department: str | None = None,
        queries: sql.Queries | None = None,
    ) -> None:
        self.folder = folder
        self.template = template
        self.sources = dict(sources or {})
        self.base = base or folder
        self.bases = dict(bases or {})
        self.snapshot = snapshot
        self.timezone = timezone
        self.params_file = params_file  # named by a problem of the params' `exclude`
        self.departments = departments  # ids known to the run (None: department values are not checked for typos)
        self.period = period  # the period appraised (a query's :start, :end, :period)
        self.department = department  # the department appraised (a query's :department)
        self.queries = queries or sql.Queries()  # each distinct query sent once
        self._tables: dict[str, Table] = {}

    @classmethod
    def of(cls, department: Department, period: Period | None = None) -> DataFolder:
        """The data folder of a loaded department, with its export mappings and time zone (and the period appraised).

        The departments known to it (see `known_departments`) are its own id and the ids of the params
        files beside its own; a run's copy of the params (`snapshot`) checks no department value for typos
        (what the run decided is recomputed, not decided again without the other params files).
        """
        base = department.base
        known = None if department.snapshot else frozenset({department.id, *params_ids(department.path.parent)})
        return cls(
            department.data_folder,
            department.template,
            base.tables,
            department.path.parent,
            department.snapshot,
            base.timezone,
            bases=department.table_bases(),
            params_file=str(department.path),
            departments=known,
            period=period,
            department=department.id,
        )

    def base_of(self, name: str) -> Path:
        """The folder of the YAML file that names table `name` (its adapter, a relative SQLite path): the company file's or the params file's."""
        return self.bases.get(name, self.base)

    def _owner(self, name: str) -> str:
        return "company file" if name in self.bases else "params file"

    def known_departments(self, name: str) -> frozenset[str] | None:
        """The department values of table `name` that are real departments, never typos of another:

        the ids known to the run (the department's own, those of the params files beside its params, the
        departments of the run) and the ids the table's `values: {department: …}` map writes.
        """
        if self.departments is None:
            return None
        source = self.sources.get(name)
        mapped = getattr(source, "values", {}).get("department", {}) if source is not None else {}
        return self.departments | {str(v) for v in mapped.values()}

    def viewed(self, name: str, table: Table) -> Table:
        """`table` as this department's params see it: their exclusions of table `name`, the departments known."""
        source = self.sources.get(name)
        exclude = getattr(source, "exclude", None) or {}
        return table.viewed(exclude, self.params_file, self.known_departments(name))

    def is_query(self, name: str) -> bool:
        """True when table `name` is read from a database (`sql` in its mapping)."""
        source = self.sources.get(name)
        return source is not None and source.sql is not None

    def bound_key(self, name: str) -> tuple[Any, ...]:
        """What of the period and department a table's query binds (part of what makes two reads the same)."""
        source = self.sources.get(name)
        if source is None or source.sql is None or self.snapshot:
            return ()
        try:
            values = sql.bound_values(source.sql.query, self.period, self.department)
        except Refusal:
            return ("refused",)
        return tuple(sorted((k, str(v)) for k, v in values.items()))

    def query(self, name: str) -> sql.Result | None:
        """What table `name`'s query returned in this run (sent once), or None when it is no query or a snapshot's."""
        source = self.sources.get(name)
        if source is None or source.sql is None or self.snapshot:
            return None
        try:
            prepared = sql.prepare(
                source.sql.url,
                source.sql.query,
                table=name,
                base=self.base_of(name),
                period=self.period,
                department=self.department,
                timezone=self.timezone,
                timeout=source.sql.connect_timeout,
            )
        except Refusal as exc:
            return sql.Result(
                name,
                "",
                source.sql.query,
                {},
                problems=[Problem(file=sql.label(name), message=str(exc), code=exc.code)],
            )
        return self.queries.get(prepared)

    def rules(self, name: str) -> ReadRules:
        """What the cells of table `name` are checked against: the template's identifiers and vocabulary, the time zone."""
        source = self.sources.get(name)
        return ReadRules(
            identifiers=self.template.identifiers(name),
            vocabulary=self.template.vocabulary(name),
            timezone=self.timezone,
            allow_no_rows=bool(getattr(source, "allow_no_rows", False)),
        )

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = self.viewed(name, self.load(name))
        return self._tables[name]

    def load(self, name: str) -> Table:
        """Read table `name`, from its file or its query (every department's rows, no exclusions applied: see `viewed`)."""
        if self.is_query(name):
            return load_query(
                self.template.tables[name],
                self.sources[name],
                rules=self.rules(name),
                result=self.query(name),
                kept=sql.kept_path(self.folder, name) if self.snapshot else None,
            )
        return load_table(
            self.folder,
            self.template.tables[name],
            self.sources.get(name),
            base=self.base_of(name),
            snapshot=self.snapshot,
            rules=self.rules(name),
            owner=self._owner(name),
        )

    def files(self, name: str) -> list[Path]:
        """The file(s) table `name` is read from, inside the data folder: what a run's snapshot copies.

        A path that is refused (outside the data folder) is left out; reading the
        table reports it.
        """
        if self.is_query(name):
            return []  # read from a database: the run keeps its result instead (see `query`)
        try:
            mapped = source_path(self.folder, name, self.sources.get(name), snapshot=self.snapshot)
        except InputError:
            return []
        found = [mapped] if mapped is not None else find_table_file(self.folder, name)
        return [p for p in found if p.is_file() and inside(self.folder, p)]

    def adapter_file(self, name: str) -> Path | None:
        """The adapter's source file of table `name` (inside `base_of(name)`), or None."""
        try:
            path = adapter_path(self.base_of(name), self.sources.get(name), table=name, owner=self._owner(name))
        except InputError:
            return None
        return path if path is not None and path.is_file() else None

    def locate(self, problem: Problem) -> Problem:
        """`problem` with its xlsx cell reference, when it names a row and column of an xlsx table read here."""
        if problem.cell or problem.row is None or problem.column is None:
            return problem
        for table in self._tables.values():
            if table.file == problem.file and problem.column in table.letters:
                return replace(problem, cell=table.place(problem.row, problem.column).get("cell"))
        return problem

    def check(self, department: str, names: list[str] | tuple[str, ...], scope: Scope | None = None) -> None:
        """Raise one `DataError` with every problem of these tables that stops `department` (under `scope`)."""
        problems = [p for name in names for p in self.table(name).problems_of(department, scope)]
        if problems:
            raise DataError(problems)
