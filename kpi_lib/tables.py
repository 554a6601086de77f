"""Input tables (SPEC §3): find, read, parse and validate, once per data folder.

A data folder holds `<table>.csv`, `<table>.xlsx` or `<table>.parquet`. CSV text
may be UTF-8, UTF-8 with BOM or GB18030/GBK: the encoding is detected (UTF-8 is
tried first; GB18030 decodes any byte string UTF-8 rejects as Chinese Excel
writes it). Headers may be the SPEC's names or the template's Chinese aliases.

Every cell is parsed by its column's type; every problem of a file is gathered
(missing file or column, unparseable value, out-of-range value, duplicate key,
reversed order) before anything is reported. A problem carries the department
of its row, so one department's bad row fails that department only; a problem
that belongs to no row (a missing column) fails every department.

Row numbers are spreadsheet rows: the header is row 1, the first record row 2
(the same for `.parquet`, where row 2 is the first record).

Parsed frames hold: `datetime64` for date and timestamp columns (NaT when
empty), pandas' nullable `boolean` for booleans, `Decimal` objects for numbers
(never binary floats), `str` for text and periods; plus `_row`, the row number.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import DataError, Problem, UsageError
from .period import Period
from .sources import table_file_problem
from .template import Column, TableSpec, Template

SUFFIXES = (".csv", ".xlsx", ".parquet")
TRUE = {"true", "1", "yes", "是"}
FALSE = {"false", "0", "no", "否"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")


class _Bad(Exception):
    """A cell that does not parse; the message says what was expected."""


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _parse_str(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_date(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise _Bad("expected a date without a time of day (YYYY-MM-DD)")
        return datetime.combine(value.date(), datetime.min.time())
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    text = str(value).strip()
    if not _DATE.match(text):
        raise _Bad("expected a date as YYYY-MM-DD")
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    except ValueError:
        raise _Bad("expected a real calendar date as YYYY-MM-DD") from None


def _parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return pd.Timestamp(value).to_pydatetime().replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    text = str(value).strip()
    if not _TIMESTAMP.match(text):
        raise _Bad("expected a timestamp as YYYY-MM-DD HH:MM[:SS]")
    try:
        return datetime.fromisoformat(text.replace("T", " "))
    except ValueError:
        raise _Bad("expected a real timestamp as YYYY-MM-DD HH:MM[:SS]") from None


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise _Bad("expected a boolean: true/false, 1/0, yes/no or 是/否")


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Bad("expected a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that round-trips, not the binary expansion
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise _Bad("expected a number") from None
    if not number.is_finite():
        raise _Bad("expected a finite number")
    return number


def _with_format(parse: Callable[[Any], Any], fmt: str, kind: str) -> Callable[[Any], Any]:
    """A date/timestamp parser that reads text in an export's own format (`strptime`)."""

    def parse_formatted(value: Any) -> Any:
        if not isinstance(value, str):
            return parse(value)
        try:
            moment = datetime.strptime(value.strip(), fmt)
        except ValueError:
            raise _Bad(f"expected a {kind} in the format {fmt}") from None
        return parse(moment)

    return parse_formatted


def _parse_period(value: Any) -> str:
    text = _parse_str(value)
    try:
        return str(Period.parse(text))
    except UsageError:
        raise _Bad("expected a period: YYYY, YYYY-H1, YYYY-Q1 … or YYYY-MM") from None


PARSERS: dict[str, Callable[[Any], Any]] = {
    "str": _parse_str,
    "date": _parse_date,
    "timestamp": _parse_timestamp,
    "bool": _parse_bool,
    "decimal": _parse_decimal,
    "period": _parse_period,
}


@dataclass
class Table:
    """One input table as read: the parsed frame, its file and every problem found."""

    spec: TableSpec
    file: str
    sha256: str | None
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    adapted: pd.DataFrame | None = None  # what the table's adapter returned (a run keeps it: see `snapshot`)

    def rows_of(self, department: str) -> pd.DataFrame:
        """The rows of one department."""
        return self.frame[self.frame["department"] == department]

    def problems_of(self, department: str) -> list[Problem]:
        """Problems that stop this department: its own rows' and the file's."""
        return [p for p in self.problems if p.department in (None, department)]


def find_table_file(folder: Path, name: str) -> list[Path]:
    return [folder / f"{name}{suffix}" for suffix in SUFFIXES if (folder / f"{name}{suffix}").is_file()]


def read_raw(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """Read a file's cells without interpreting them (strings from CSV, typed cells from xlsx/parquet)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype=object, engine="openpyxl", sheet_name=sheet or 0)
    if suffix == ".parquet":
        return pd.read_parquet(path).astype(object)
    raise ValueError(f"unsupported file type {suffix}")


def empty_frame(spec: TableSpec) -> pd.DataFrame:
    return _frame(spec, {c.name: [] for c in spec.columns}, [])


def load_table(folder: Path, spec: TableSpec, source: Any = None, *, base: Path | None = None, snapshot: bool = False) -> Table:
    """Read and validate one table of a data folder; never raises for bad content.

    `source` is the params' export mapping of this table (see `sources`), `base`
    the params file's folder (adapters live there), `snapshot` true when reading a
    run's `inputs/data/` copies (mapped files at their paths there; a table with
    an adapter from the frame the run kept, without running the adapter). A table
    file that resolves outside `folder` is a problem, never read.
    """
    if source is not None:
        return _load_mapped(folder, spec, source, base or folder, snapshot)
    candidates = find_table_file(folder, spec.name)
    shown = folder / f"{spec.name}.csv"
    if not candidates:
        return Table(
            spec,
            str(shown),
            None,
            empty_frame(spec),
            [Problem(file=str(folder / spec.name), message=f"missing file; expected {spec.name}.csv, .xlsx or .parquet in {folder}")],
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        return Table(spec, str(candidates[0]), None, empty_frame(spec), [Problem(file=str(folder / spec.name), message=f"ambiguous: {names}; keep one file per table")])
    path = candidates[0]
    outside = table_file_problem(folder, path)
    if outside is not None:
        return Table(spec, str(path), None, empty_frame(spec), [outside])
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        raw = read_raw(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a problem of this file
        return Table(spec, str(path), sha, empty_frame(spec), [Problem(file=str(path), message=f"cannot read the file: {exc}")])
    return parse_table(raw, spec, str(path), sha)


def _load_mapped(folder: Path, spec: TableSpec, source: Any, base: Path, snapshot: bool) -> Table:
    from .errors import InputError, KpiError
    from .sources import adapt, adapter_path, reshape, source_path

    try:
        path = source_path(folder, spec.name, source, snapshot=snapshot)
        adapter = None if snapshot else adapter_path(base, source, table=spec.name)
    except InputError as refused:
        return Table(spec, str(folder / spec.name), None, empty_frame(spec), refused.problems)
    if path is None:
        found = find_table_file(folder, spec.name)
        path = found[0] if len(found) == 1 else folder / f"{spec.name}.csv"
    if not path.is_file():
        return Table(spec, str(path), None, empty_frame(spec), [Problem(file=str(path), message=f"missing file; the params map table {spec.name} to it")])
    outside = table_file_problem(folder, path)
    if outside is not None:
        return Table(spec, str(path), None, empty_frame(spec), [outside])
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    adapted = None
    if snapshot and source.adapter:  # verify executes no code: the frame the adapter returned when the run was made
        from .snapshot import adapted_path, read_frame

        try:
            raw = read_frame(adapted_path(folder, spec.name))
        except KpiError as exc:
            return Table(spec, str(path), sha, empty_frame(spec), [Problem(file=str(adapted_path(folder, spec.name)), message=line) for line in exc.lines()])
    else:
        try:
            raw = read_raw(path, sheet=source.sheet)
        except Exception as exc:  # noqa: BLE001
            return Table(spec, str(path), sha, empty_frame(spec), [Problem(file=str(path), message=f"cannot read the file: {exc}")])
        if adapter is not None:
            adapted, failed = adapt(raw, source, str(path), adapter)
            if adapted is None:  # the adapter failed: its problem says it all
                return Table(spec, str(path), sha, empty_frame(spec), failed)
            raw = adapted
    frame, problems = reshape(raw, source, str(path), None)
    if frame is None:
        return Table(spec, str(path), sha, empty_frame(spec), problems)
    formats = dict(source.formats)
    if source.date_format:
        for column in spec.columns:
            if column.type in ("date", "timestamp"):
                formats.setdefault(column.name, source.date_format)
    table = parse_table(frame, spec, str(path), sha, formats=formats)
    table.problems[:0] = problems
    table.adapted = adapted
    return table


def _map_headers(raw: pd.DataFrame, spec: TableSpec, file: str) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []
    by_name = {c.name.lower(): c.name for c in spec.columns}
    by_alias = {c.alias: c.name for c in spec.columns if c.alias}
    found: dict[str, Any] = {}
    for header in raw.columns:
        text = str(header).strip()
        name = by_name.get(text.lower()) or by_alias.get(text)
        if name is None:
            continue  # extra columns are allowed and ignored
        if name in found:
            problems.append(Problem(file=file, row=1, column=text, message=f"column {name} appears twice (as {found[name]!r} and {header!r})"))
            continue
        found[name] = header
    for col in spec.columns:
        if col.name not in found and not col.optional:
            alias = f" (or {col.alias})" if col.alias else ""
            problems.append(Problem(file=file, row=1, column=col.name, message=f"missing column; expected a header {col.name}{alias}"))
    return found, problems


def parse_table(raw: pd.DataFrame, spec: TableSpec, file: str, sha: str | None, formats: dict[str, str] | None = None) -> Table:
    """Parse raw cells by the table spec, gathering every problem.

    Row numbers come from the frame's index (0 → spreadsheet row 2), so a frame
    an adapter filtered still points at the file's rows.
    """
    headers, problems = _map_headers(raw, spec, file)
    integer_index = pd.api.types.is_integer_dtype(raw.index) and (len(raw.index) == 0 or raw.index.min() >= 0)
    rows = [int(i) + 2 for i in raw.index] if integer_index else list(range(2, len(raw) + 2))
    departments = [_department(v) for v in raw[headers["department"]]] if "department" in headers else [None] * len(raw)
    values: dict[str, list[Any]] = {}
    for col in spec.columns:
        if col.name not in headers:
            values[col.name] = [None] * len(raw)
            continue
        fmt = (formats or {}).get(col.name)
        values[col.name] = _parse_column(raw[headers[col.name]].tolist(), col, file, rows, departments, problems, fmt)
    _check_keys(spec, values, file, rows, departments, problems)
    _check_order(spec, values, file, rows, departments, problems)
    return Table(spec, file, sha, _frame(spec, values, rows), problems)


def _department(value: Any) -> str | None:
    return None if _is_missing(value) else _parse_str(value)


def _parse_column(
    cells: list[Any], col: Column, file: str, rows: list[int], departments: list[str | None], problems: list[Problem], fmt: str | None = None
) -> list[Any]:
    parse = PARSERS[col.type]
    if fmt and col.type in ("date", "timestamp"):
        parse = _with_format(parse, fmt, col.type)
    out: list[Any] = []
    for cell, row, dept in zip(cells, rows, departments, strict=False):
        if _is_missing(cell):
            if col.required:
                problems.append(Problem(file=file, row=row, column=col.name, department=dept, message=f"empty; expected a {col.type} value"))
            out.append(None)
            continue
        try:
            value = parse(cell)
        except _Bad as bad:
            problems.append(Problem(file=file, row=row, column=col.name, value=str(cell), department=dept, message=str(bad)))
            out.append(None)
            continue
        if col.min is not None and value < Decimal(str(col.min)):
            problems.append(Problem(file=file, row=row, column=col.name, value=str(cell), department=dept, message=_range_text(col)))
            value = None
        elif col.max is not None and value > Decimal(str(col.max)):
            problems.append(Problem(file=file, row=row, column=col.name, value=str(cell), department=dept, message=_range_text(col)))
            value = None
        out.append(value)
    return out


def _range_text(col: Column) -> str:
    if col.min is not None and col.max is not None:
        return f"expected a number from {col.min} to {col.max}"
    if col.min is not None:
        return "expected a number that is not negative" if col.min == 0 else f"expected a number of at least {col.min}"
    return f"expected a number of at most {col.max}"


def _check_keys(spec: TableSpec, values: dict[str, list[Any]], file: str, rows: list[int], departments: list[str | None], problems: list[Problem]) -> None:
    if not spec.key:
        return
    first: dict[tuple[Any, ...], int] = {}
    for i, row in enumerate(rows):
        key = tuple(values[c][i] for c in spec.key)
        if any(v is None for v in key):
            continue
        if key in first:
            shown = ", ".join(f"{c}={v}" for c, v in zip(spec.key, key, strict=False))
            problems.append(
                Problem(file=file, row=row, column=",".join(spec.key), department=departments[i], message=f"duplicate {shown}: already in row {first[key]}; expected each once")
            )
        else:
            first[key] = row


def _check_order(spec: TableSpec, values: dict[str, list[Any]], file: str, rows: list[int], departments: list[str | None], problems: list[Problem]) -> None:
    for earlier, later in spec.order:
        for i, row in enumerate(rows):
            a, b = values[earlier][i], values[later][i]
            if a is not None and b is not None and b < a:
                problems.append(
                    Problem(file=file, row=row, column=later, value=str(b), department=departments[i], message=f"is before {earlier} ({a}); expected {later} not before {earlier}")
                )


def _frame(spec: TableSpec, values: dict[str, list[Any]], rows: list[int]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for col in spec.columns:
        column = values[col.name]
        if col.type in ("date", "timestamp"):
            data[col.name] = pd.to_datetime(pd.Series(column, dtype=object), errors="raise").astype("datetime64[ns]")
        elif col.type == "bool":
            data[col.name] = pd.array(column, dtype="boolean")
        else:
            data[col.name] = pd.Series(column, dtype=object)
    frame = pd.DataFrame(data)
    frame["_row"] = pd.Series(rows, dtype="int64")
    return frame


class DataFolder:
    """The tables of one data folder, each read and validated once, on first use.

    `sources` are the params' export mappings by table name, `base` the params
    file's folder, `snapshot` true for a run's `inputs/` copies.
    """

    def __init__(self, folder: Path, template: Template, sources: Mapping[str, Any] | None = None, base: Path | None = None, snapshot: bool = False) -> None:
        self.folder = folder
        self.template = template
        self.sources = dict(sources or {})
        self.base = base or folder
        self.snapshot = snapshot
        self._tables: dict[str, Table] = {}

    @classmethod
    def of(cls, department: Any) -> DataFolder:
        """The data folder of a loaded department, with its export mappings."""
        return cls(department.data_folder, department.template, department.base.tables, department.path.parent, department.snapshot)

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = load_table(self.folder, self.template.tables[name], self.sources.get(name), base=self.base, snapshot=self.snapshot)
        return self._tables[name]

    def files(self, name: str) -> list[Path]:
        """The file(s) table `name` is read from, inside the data folder: what a run's snapshot copies.

        A path that is refused (outside the data folder) is left out; reading the
        table reports it.
        """
        from .errors import InputError
        from .sources import inside, source_path

        try:
            mapped = source_path(self.folder, name, self.sources.get(name), snapshot=self.snapshot)
        except InputError:
            return []
        found = [mapped] if mapped is not None else find_table_file(self.folder, name)
        return [p for p in found if p.is_file() and inside(self.folder, p)]

    def adapter_file(self, name: str) -> Path | None:
        """The adapter's source file of table `name` (inside the params file's folder), or None."""
        from .errors import InputError
        from .sources import adapter_path

        try:
            path = adapter_path(self.base, self.sources.get(name), table=name)
        except InputError:
            return None
        return path if path is not None and path.is_file() else None

    def check(self, department: str, names: list[str] | tuple[str, ...]) -> None:
        """Raise one `DataError` with every problem of these tables that concerns `department`."""
        problems = [p for name in names for p in self.table(name).problems_of(department)]
        if problems:
            raise DataError(problems)
