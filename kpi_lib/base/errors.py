"""Errors of the toolkit: one tree, each carrying what a person needs to fix the input.

    KpiError                    anything the toolkit reports on purpose (never a traceback)
    ├── UsageError              bad command line: unknown period form, missing params file (exit 2)
    ├── InputError              bad data or parameters of one department (exit 1)
    │   ├── TemplateError       the indicator template file
    │   ├── ParamsError         a department's params YAML
    │   └── DataError           an input table, or evidence a rate needs and cannot find
    ├── AuditError              the audit trail: a manifest, sign-off log or recorded result that
    │                           is missing, unreadable or inconsistent (exit 1)
    ├── OutputError             the environment refused a write: disk full, read-only folder,
    │                           another run holding the period's lock (exit 1)
    ├── SetupError              something the machine lacks: Chromium, a font, git, a Jupyter
    │                           kernel (exit 1)
    └── InternalError           a bug of ours caught on its way out: named, "please report it" (exit 1)

An `InputError` holds a list of `Problem`s: validation gathers every problem of a
file before it reports, so a spreadsheet is fixed in one pass. Each problem renders
as one line naming the file, the row (counted as a spreadsheet user counts: the
header is row 1), the column, the value found (shortened to 60 characters) and
what was expected. Problems become lines for people in one place, `problem_lines`:
of problems of the same kind in one column, the first five are shown and the rest
are one line (`complaints.csv: … and 582 more like this in column received_at (rows
12–1911)`), so
a wrong date format reads as six lines, not six hundred.

Each `Problem` also carries a `Code` (`problem.code == "missing_column"`): a stable
snake_case name of what is wrong, for a caller to branch on, never printed. Every
code is defined once, in `Code`, with its meaning; a `Problem` with any other code
is a bug of ours and fails at once (ValueError). Low-level checks raise a
`Refusal` (a message and its code) that their caller turns into a `Problem`.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

VALUE_WIDTH = 60


def shorten(value: object, width: int = VALUE_WIDTH) -> str:
    """`value` as text of at most `width` characters (an ellipsis marks a cut)."""
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


class Place(TypedDict, total=False):
    """Where a `Problem` is, as `Problem(**place)` takes it: the xlsx cell, else the row."""

    row: int | None
    cell: str


def place(row: int | None, letter: str | None = None) -> Place:
    """Where a `Problem` is: the xlsx cell (`cell="E12"`) when the column letter is known, else the row."""
    return {"cell": f"{letter}{row}"} if letter and row is not None else {"row": row}


class Code(StrEnum):
    """What is wrong, as a stable snake_case name (the value) with its meaning (`Code.X.meaning`)."""

    meaning: str

    def __new__(cls, value: str, meaning: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    # -- a file as a whole
    MISSING_FILE = "missing_file", "a table's file is not in the data folder (or where the params map it)"
    AMBIGUOUS_FILE = "ambiguous_file", "which file or sheet holds a table is ambiguous (two files, data on two sheets)"
    MISSING_SHEET = "missing_sheet", "the sheet the params name is not in the workbook"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type", "a table file that is not .csv, .xlsx or .parquet"
    UNREADABLE_FILE = "unreadable_file", "a file that cannot be opened or read as its kind (permissions, damaged)"
    BAD_ENCODING = (
        "bad_encoding",
        "not text in an accepted encoding (YAML: UTF-8; CSV: UTF-8, UTF-16 with a BOM, GB18030)",
    )
    BAD_CSV = "bad_csv", "a CSV file that does not parse (an unterminated quote)"
    EMPTY_FILE = "empty_file", "a CSV file or sheet without even a header"
    TOO_MANY_ROWS = "too_many_rows", "a Parquet file or a query's result with more rows than the toolkit reads"
    PATH_OUTSIDE = (
        "path_outside",
        "a path not plainly inside its folder (absolute, '..', a symlink out, a control character)",
    )
    # -- YAML (params and templates)
    YAML_SYNTAX = (
        "yaml_syntax",
        "not YAML the toolkit reads: a syntax error, a key that is no plain value, deep nesting",
    )
    YAML_DUPLICATE_KEY = "yaml_duplicate_key", "a key given twice in one YAML mapping"
    YAML_ALIAS = "yaml_alias", "a YAML anchor, alias or merge key (each value must be written out)"
    # -- the shape of a table
    MISSING_COLUMN = "missing_column", "a column the table needs has no header (a template table: no department column)"
    DUPLICATE_COLUMN = "duplicate_column", "a column given twice in a header (by name, alias or letter case)"
    UNNAMED_COLUMN = "unnamed_column", "a column that holds values but has no header"
    WRONG_FIELD_COUNT = "wrong_field_count", "a CSV record with more or fewer fields than its header"
    VALUE_OUTSIDE_TABLE = "value_outside_table", "an xlsx value right of the table, under no header"
    MERGED_CELLS = "merged_cells", "an xlsx merged range inside the data"
    # -- one cell (or one params value)
    EMPTY_VALUE = "empty_value", "empty where a value is required"
    NOT_A_NUMBER = "not_a_number", "not an exact finite decimal (NaN, infinity, 1,000, full-width digits, a boolean)"
    NUMBER_OUT_OF_BOUNDS = "number_out_of_bounds", "a number with too many digits before or after the decimal point"
    NOT_A_WHOLE_NUMBER = "not_a_whole_number", "a number with a fractional part where a count is expected"
    NOT_A_BOOLEAN = "not_a_boolean", "not one of the accepted booleans (true/false, 1/0, yes/no, 是/否)"
    BAD_DATE = "bad_date", "not a real date in the accepted form (YYYY-MM-DD, or the params' date format)"
    BAD_TIMESTAMP = "bad_timestamp", "not a real timestamp in the accepted form (YYYY-MM-DD HH:MM[:SS][offset])"
    DATE_OUT_OF_RANGE = "date_out_of_range", "a date or timestamp outside the years 1900–2100"
    NONEXISTENT_TIME = "nonexistent_time", "a local time the time zone skips (clocks go forward) and no UTC offset"
    AMBIGUOUS_TIME = "ambiguous_time", "a local time that occurs twice (clocks go back) written without its UTC offset"
    BAD_PERIOD = "bad_period", "not a period (YYYY, YYYY-H1, YYYY-Q1 … or YYYY-MM)"
    OUT_OF_RANGE = "out_of_range", "a number outside the range its column, key or indicator allows"
    CONTROL_CHARACTER = "control_character", "a control character (NUL, ESC …) in a value"
    NOT_EXACT = "not_exact", "an identifier with spaces around it, invisible or full-width characters"
    NEAR_MATCH = "near_match", "a value that nearly matches an expected one (letter case, spaces …); names the match"
    BAD_ID = "bad_id", "an id (department, group, table) that is not lowercase letters, digits, - and _"
    ID_TOO_LONG = (
        "id_too_long",
        "an id that names folders or files (department, template, group, table) over 64 characters",
    )
    ERROR_CELL = "error_cell", "an xlsx error cell (#DIV/0!, #N/A …)"
    FORMULA_WITHOUT_VALUE = "formula_without_value", "an xlsx formula whose saved value is missing or may be stale"
    PERCENT_CELL = "percent_cell", "an xlsx number formatted as a percentage"
    UNSUPPORTED_CELL = (
        "unsupported_cell",
        "a cell of a kind no column holds (binary, a list, a time of day alone, nanoseconds)",
    )
    # -- rows
    DUPLICATE_KEY = "duplicate_key", "a row whose key columns repeat an earlier row's (a complaint_id given twice …)"
    WRONG_ORDER = "wrong_order", "a row whose later date is before its earlier one (resolved before received)"
    NO_ROWS_OF_DEPARTMENT = "no_rows_of_department", "a table with rows, none of them the department's"
    MISSING_ROW = "missing_row", "a row a computation needs is not there (the period's budget, an observation)"
    NO_ROWS_IN_PERIOD = "no_rows_in_period", "an indicator without rows in the period, under policy on_empty: error"
    # -- a params export mapping or adapter
    MAPPING_UNMATCHED = "mapping_unmatched", "a mapping that maps nothing (a header or a code the file does not hold)"
    MAPPING_CONFLICT = "mapping_conflict", "a mapping that clashes with the file (a header also present, a constant)"
    VALUES_WITHOUT_COLUMN = "values_without_column", "a values map on a column the mapping does not read from a header"
    ADAPTER_FAILED = "adapter_failed", "a table's adapter raised, or returned something other than a DataFrame"
    BAD_ADAPTER = "bad_adapter", 'an adapter not written as "file.py:function"'
    BAD_EXCLUDE_KEY = (
        "bad_exclude_key",
        "an excluded key that is not text, or not one value per key column joined with |",
    )
    EXCLUDE_UNMATCHED = "exclude_unmatched", "an excluded key (tables.<table>.exclude) that is the key of no row"
    BAD_DATE_FORMAT = (
        "bad_date_format",
        "a date format that would drop a part it reads (%Z, %p with %H, %I without %p, no year)",
    )
    # -- a table read from a database (params `tables.<table>.sql`)
    EXCLUSIVE_KEYS = "exclusive_keys", "two keys that cannot be given together (a table's file and its sql)"
    NOT_A_READ = "not_a_read", "a query that is not exactly one statement that reads (SELECT or WITH)"
    UNKNOWN_PARAMETER = (
        "unknown_parameter",
        "a query naming a bound parameter other than :start, :end, :period, :department",
    )
    BAD_URL = "bad_url", "a database URL that does not parse, or names no database the toolkit can open"
    PASSWORD_IN_PARAMS = (
        "password_in_params",
        "a database URL in the params holding a password (params are copied into outputs: use ${NAME})",
    )
    UNSET_VARIABLE = "unset_variable", "a ${NAME} in a database URL whose environment variable is not set"
    MISSING_DRIVER = "missing_driver", "the Python driver a database URL needs is not installed"
    CONNECT_FAILED = "connect_failed", "the database could not be reached (refused, timed out, wrong password)"
    QUERY_FAILED = "query_failed", "the database refused or failed the query"
    UNSAFE_WINDOW = (
        "unsafe_window",
        "a SQLite query filtering by :start/:end on times kept as text with an offset (compared as text)",
    )
    EMPTY_RESULT = "empty_result", "a query that returned no rows (a filter that matches nothing reads as no data)"
    # -- params and templates
    WRONG_TYPE = "wrong_type", "a value (or a whole file) of the wrong kind: a list for a mapping, text for a list …"
    UNKNOWN_KEY = "unknown_key", "a key the section does not have"
    UNCONFIRMED_SUGGESTION = (
        "unconfirmed_suggestion",
        "a mapping kpi init --from proposed (under suggested:) that nobody has confirmed yet",
    )
    MISSING_KEY = "missing_key", "a key the section (or the indicator's direction, or a schedule) needs is missing"
    KEY_NOT_USED = "key_not_used", "a key the indicator's direction does not use (target on a count indicator …)"
    NOT_A_CHOICE = "not_a_choice", "a value not among those allowed (a direction, a method, a rounding, a group …)"
    UNKNOWN_TABLE = "unknown_table", "a table the template does not have"
    UNKNOWN_COLUMN = "unknown_column", "a column the table does not have"
    UNKNOWN_INDICATOR = "unknown_indicator", "an indicator the template does not have"
    MISSING_INDICATOR = "missing_indicator", "an indicator of the template the params leave out"
    MISSING_PREREQUISITE = "missing_prerequisite", "an indicator's prerequisite (必备条件), such as a deadline sla"
    BAD_SLA = "bad_sla", 'a deadline not written "<N>h" or "<N>wd", or longer than a year'
    UNKNOWN_TIMEZONE = "unknown_timezone", "not an IANA time zone name"
    UNKNOWN_CALENDAR = "unknown_calendar", "a calendar that is not CN, weekdays or a holidays country (and subdivision)"
    WEIGHTS_NOT_100 = "weights_not_100", "indicator weights that do not sum to 100"
    MIN_ABOVE_MAX = "min_above_max", "a policy min_score above its max_score"
    GRADES_INCOMPLETE = "grades_incomplete", "grade bands that leave some totals without a grade"
    EMPTY_SECTION = "empty_section", "a section that must list at least one entry is empty (groups, indicators, grades)"
    DUPLICATE_ENTRY = "duplicate_entry", "an entry given twice (an indicator id, a grade name, a period)"
    OVERRIDE_NOT_ALLOWED = "override_not_allowed", "a period override of a key a period may not change"
    SOURCE_DROPPED = (
        "source_dropped",
        "a params table entry dropping the company file's file or sql (the default file would be read)",
    )
    MISSING_COMPANY_FILE = "missing_company_file", "the company file a params file names (company:) is not there"
    NOT_IN_COMPANY_FILE = (
        "not_in_company_file",
        "a key a company file may not hold: a department's own (department, name) or another company file",
    )


CODES: dict[str, str] = {code.value: code.meaning for code in Code}  # code → meaning, for docs and callers
CODE_BY_VALUE: dict[str, Code] = {code.value: code for code in Code}


def code_of(value: Code | str) -> Code:
    """The `Code` named by `value`; ValueError for any other (a bug of ours: every code is defined in `Code`)."""
    found = CODE_BY_VALUE.get(str(value))
    if found is None:
        raise ValueError(f"Problem code {value!r} is not one of kpi_lib.base.errors.Code")
    return found


class Refusal(Exception):
    """A low-level check's refusal: the message and its `Code`; the caller turns it into a `Problem`."""

    def __init__(self, message: str, code: Code | str) -> None:
        super().__init__(message)
        self.code = code_of(code)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of one input file; `code` says what, for a caller to branch on."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    department: str | None = None
    cell: str | None = None  # an xlsx cell reference (E12), shown as file!E12 instead of the row
    code: Code = field(kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", code_of(self.code))

    def __str__(self) -> str:
        where = [f"{self.file}!{self.cell}" if self.cell else self.file]
        if self.row is not None and not self.cell:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        text = ", ".join(where) + ": "
        if self.value is not None and self.value != "":
            text += f"found {shorten(self.value)!r}, "
        return text + self.message


SHOWN_PER_KIND = 5  # problems of one kind in one column shown in full; the rest in one line


def problem_lines(problems: Iterable[Problem]) -> list[str]:
    """Problems as lines for people: one per problem, but of the same kind (code) in one column of one file
    only the first `SHOWN_PER_KIND`, then one line for the rest, where the sixth stood:
    `complaints.csv: … and 582 more like this in column received_at (rows 12–1911)`. One problem more
    than that is shown itself: a line saying "1 more" would take its place and say less."""
    problems = list(problems)
    kinds: dict[tuple[str, str | None, str], list[Problem]] = {}
    for p in problems:
        kinds.setdefault((p.file, p.column, p.code.value), []).append(p)
    lines: list[str] = []
    seen: dict[tuple[str, str | None, str], int] = {}
    for p in problems:
        kind = (p.file, p.column, p.code.value)
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= SHOWN_PER_KIND or len(kinds[kind]) == SHOWN_PER_KIND + 1:
            lines.append(str(p))
        elif seen[kind] == SHOWN_PER_KIND + 1:
            lines.append(_more_line(kinds[kind][SHOWN_PER_KIND:]))
    return lines


def _more_line(rest: list[Problem]) -> str:
    """`file: … and N more like this in column C (rows a–b)` for the problems of a kind not shown."""
    first = rest[0]
    where = f" in column {first.column}" if first.column is not None else ""
    rows = sorted({r for r in (_row_number(p) for p in rest) if r is not None})
    span = "" if not rows else f" (row {rows[0]})" if len(rows) == 1 else f" (rows {rows[0]}–{rows[-1]})"
    return f"{first.file}: … and {len(rest)} more like this{where}{span}"


def _row_number(problem: Problem) -> int | None:
    if problem.row is not None:
        return problem.row
    digits = "".join(c for c in problem.cell or "" if c.isdigit())
    return int(digits) if digits else None


class KpiError(Exception):
    """Base of every error the toolkit raises on purpose."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The error as readable lines, one per problem."""
        return str(self).splitlines() or [type(self).__name__]

    def _render_traceback_(self) -> list[str]:
        """How IPython shows this error in a notebook: the problems, not a stack of frames."""
        return [f"{type(self).__name__}:", *self.lines()]


class UsageError(KpiError):
    """The command was called wrongly (exit code 2)."""

    exit_code = 2


class InputError(KpiError):
    """Bad input of one department: every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem] | str, *, file: str = "", code: Code | str | None = None) -> None:
        if isinstance(problems, str):
            if code is None:
                raise TypeError(f"{type(self).__name__}(message) needs the problem's code")
            problems = [Problem(file=file, message=problems, code=code_of(code))]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(problem_lines(self.problems)))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its problems (a worker process raises it, the parent reports it)."""
        return (type(self), (self.problems,))

    def lines(self) -> list[str]:
        """One line per problem, problems of one kind in one column beyond the first five in one line (`problem_lines`)."""
        return problem_lines(self.problems)


class TemplateError(InputError):
    """The template file is malformed."""


class ParamsError(InputError):
    """A params file is malformed or inconsistent with its template."""


class DataError(InputError):
    """An input table is malformed, or evidence an indicator needs is missing."""


class AuditError(KpiError):
    """The audit trail is missing, unreadable or inconsistent (a manifest, a sign-off log, a recorded result)."""


class OutputError(KpiError):
    """Writing outputs failed for a reason of the environment (disk full, read-only, locked by another run)."""


class SetupError(KpiError):
    """The machine lacks something the toolkit needs (Chromium, a font, git, a Jupyter kernel); the message says what to install."""


class InternalError(KpiError):
    """A bug of ours, caught before it becomes a traceback: the line names it and asks for a report."""


_WRITE_HINTS = {
    errno.ENOSPC: "free some space on that disk, then run again",
    errno.EDQUOT: "the disk quota is used up; free some space, then run again",
    errno.EFBIG: "the file system refuses a file this large; write to another folder (--out)",
    errno.EROFS: "the folder is on a read-only file system; write to another folder (--out)",
    errno.EACCES: "no permission to write there; fix the folder's permissions or write to another folder (--out)",
    errno.EPERM: "no permission to write there; fix the folder's permissions or write to another folder (--out)",
}
WRITE_ERRNOS = frozenset(_WRITE_HINTS)


def output_error(exc: OSError, path: object = None, what: str = "cannot write") -> OutputError:
    """An `OutputError` for a write the environment refused: the path, the cause and what to do, on one line."""
    where = path if path is not None else exc.filename
    cause = exc.strerror or type(exc).__name__
    hint = _WRITE_HINTS.get(exc.errno or 0, "check the disk and the folder, then run again")
    return OutputError(f"{where}: {what}: {cause}; {hint}")
