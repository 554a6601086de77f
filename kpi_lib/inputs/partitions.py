"""Each table read and validated once per run; each department's own rows kept as its partition.

`kpi run` reads every input table once (`SharedTables`: departments that read the
same file the same way, same folder, template table, export mapping and checks,
share one read), then writes into each department's `inputs/`:

    inputs/tables/<table>.parquet   the department's own rows, parsed and validated (its partition)
    inputs/sources.json             each table's full source: the path shown in the evidence and its sha256

and the group notebooks read their partition (`PartitionFolder`) instead of the
company's files. A partition holds everything the department's computation
takes from the table: its rows (with the file's row numbers in `_row` and the
frame's index), its problems exactly as the full read found them (its own rows',
the file's, values that nearly name it, "no row of this department": those that
stop it in the period, see `kpi_lib.inputs.scope`), and the
xlsx column letters; so a bad row fails its own department with the same
message and row number as before, and the other departments' rows never reach
a department's folder. Rows the params exclude by key (`tables.<table>.exclude`)
are kept in it too, with the exclusions that matched them (key → reason, in the
metadata only when there are some) so that the notebooks leave them out and list
them with their reason; their own problems are not the department's.

A partition's bytes are a pure function of its content (no time, no source
hash, no pandas metadata; columns in the table's order), so its sha256 says
whether a department's inputs changed (incremental runs) even when other
departments' rows of the same file did.

The columns are the table's, `_row`, and a timestamp column's `_fold:<column>` when
some of its cells are the second of a repeated hour (see `kpi_lib.inputs.zones`).
Columns are stored by what they hold: `datetime64`, `boolean` and `int64`
columns as their Arrow types; an object column of text as strings; an object
column of `Decimal`s as their exact text (`1.50` stays `1.50`). A column of
anything else is refused. Every partition is read back and compared with the
frame it came from before it counts: exact or the department stops.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..base.errors import AuditError, InternalError, Problem
from ..base.files import sha256_bytes, sha256_file, write_atomic
from ..base.layout import SOURCES_JSON, partition
from .scope import Scope
from .sql import Queries
from .tables import DataFolder, ReadRules, Table
from .zones import fold_column

if TYPE_CHECKING:
    from .params import Department
    from .period import Period
    from .template import TableSpec

FORMAT = "kpi-appraisal partition"
META_KEY = b"kpi-appraisal"
INDEX = "__index__"
TEXT, DECIMAL = "text", "decimal"


@dataclass(frozen=True)
class Written:
    """A partition as written: the file's sha256 and how many rows of the department it holds."""

    sha256: str
    rows: int


# -- writing --------------------------------------------------------------------------------
def partition_bytes(
    table: Table, department: str, *, shown: Mapping[str, str] | None = None, scope: Scope | None = None
) -> tuple[bytes, int]:
    """The Parquet bytes of `department`'s partition of `table` (not written), and its number of rows.

    `shown` renames files (`kpi verify` reads copies of the sources: their problems
    and rows must name the files the run named). The problems kept are those that
    stop the department under `scope` (what it reads in the period): notes (an
    unread column, a row outside the window) change no number, so they are not kept
    and do not change the partition's sha256.
    """
    shown = shown or {}
    frame = table.own_rows(department)
    problems = [replace(p, file=shown.get(p.file, p.file)) for p in table.problems_of(department, scope)]
    excluded = table.exclusions_of(department)
    columns: dict[str, pa.Array] = {}
    kinds: list[list[str]] = []  # [name, kind] in the frame's order (the metadata's keys are sorted)
    for name in frame.columns:
        columns[str(name)], kind = _encode(frame[name], table.file, str(name))
        kinds.append([str(name), kind])
    if not pd.api.types.is_integer_dtype(frame.index):
        raise InternalError(f"{table.file}: the frame's index is not the file's rows (please report it)")
    columns[INDEX] = pa.array(frame.index.to_numpy(dtype="int64"), pa.int64())
    meta = {
        "format": FORMAT,
        "table": table.spec.name,
        "department": department,
        "file": shown.get(table.file, table.file),
        "letters": dict(sorted(table.letters.items())),
        "columns": kinds,
        "problems": [_problem_json(p) for p in problems],
    }
    if excluded:  # (only then: a partition without exclusions keeps the bytes it always had)
        meta["excluded"] = excluded
    schema = pa.schema([pa.field(n, a.type) for n, a in columns.items()]).with_metadata(
        {META_KEY: json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")}
    )
    buffer = io.BytesIO()
    pq.write_table(pa.table(list(columns.values()), schema=schema), buffer, compression="zstd")
    data = buffer.getvalue()
    back = _decode(pq.read_table(io.BytesIO(data)), str(table.file))
    if (
        not _same(frame, back.frame)
        or [_problem_json(p) for p in back.problems] != meta["problems"]
        or back.meta.get("excluded", {}) != excluded
    ):
        raise InternalError(
            f"{table.file}: the rows of department {department} do not read back exactly from their partition (please report it)"
        )
    return data, len(frame)


def write_partition(table: Table, department: str, inputs: Path, scope: Scope | None = None) -> Written:
    """Write `department`'s partition of `table` into `inputs/tables/`; its sha256 and rows (`partition_bytes`)."""
    data, rows = partition_bytes(table, department, scope=scope)
    write_atomic(inputs / partition(table.spec.name), data)
    return Written(sha256_bytes(data), rows)


def write_sources(inputs: Path, sources: Mapping[str, Mapping[str, Any]]) -> bytes:
    """`inputs/sources.json`: per table, the full source's path (as the evidence names it) and sha256."""
    data = (json.dumps(dict(sorted(sources.items())), ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    write_atomic(inputs / SOURCES_JSON, data)
    return data


def _encode(series: pd.Series, file: str, column: str) -> tuple[pa.Array, str]:
    if series.dtype != object:
        return pa.Array.from_pandas(series), str(series.dtype)
    values = series.tolist()
    if all(v is None or isinstance(v, str) for v in values):
        return pa.array(values, pa.string()), TEXT
    if all(v is None or isinstance(v, Decimal) for v in values):
        return pa.array([None if v is None else str(v) for v in values], pa.string()), DECIMAL
    kinds = sorted({type(v).__name__ for v in values})
    raise InternalError(f"{file}: column {column} holds {', '.join(kinds)}; a partition keeps text or decimals")


def _problem_json(problem: Problem) -> dict[str, Any]:
    data = asdict(problem)
    data["code"] = str(problem.code)
    if data["value"] is not None and not isinstance(data["value"], str):
        data["value"] = str(data["value"])  # shown as text either way (`Problem.__str__`)
    return data


# -- reading --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Read:
    meta: dict[str, Any]
    frame: pd.DataFrame
    problems: list[Problem]


def _decode(arrow: pa.Table, where: str) -> _Read:
    try:
        meta = json.loads((arrow.schema.metadata or {})[META_KEY])
        kinds: list[list[str]] = meta["columns"]
        if meta.get("format") != FORMAT or not isinstance(kinds, list):
            raise KeyError("format")
        data: dict[str, Any] = {}
        for name, kind in kinds:
            column = arrow.column(name)
            if kind == TEXT:
                data[name] = pd.Series(column.to_pylist(), dtype=object)
            elif kind == DECIMAL:
                data[name] = pd.Series([None if v is None else Decimal(v) for v in column.to_pylist()], dtype=object)
            else:
                data[name] = column.to_pandas().astype(kind)
        frame = pd.DataFrame(data, columns=[name for name, _ in kinds])
        frame.index = pd.Index(arrow.column(INDEX).to_numpy(), dtype="int64")
        problems = [Problem(**p) for p in meta["problems"]]
    except (KeyError, TypeError, ValueError, InvalidOperation, pa.ArrowException) as exc:
        raise AuditError(
            f"{where}: not a partition written by kpi run ({type(exc).__name__}: {exc}); run again"
        ) from None
    return _Read(meta, frame, problems)


def read_partition(path: Path, department: str, rules: ReadRules, sha256: str | None, spec: TableSpec) -> Table:
    """The `Table` a department's partition holds; `AuditError` when it is missing, damaged or another's."""
    try:
        arrow = pq.read_table(path)
    except FileNotFoundError:
        raise AuditError(f"{path}: missing; the department's rows of {spec.name} were not kept; run again") from None
    except (OSError, pa.ArrowException) as exc:
        raise AuditError(f"{path}: cannot be read as a partition ({exc}); run again") from None
    read = _decode(arrow, str(path))
    if read.meta.get("department") != department or read.meta.get("table") != spec.name:
        raise AuditError(
            f"{path}: holds table {read.meta.get('table')!r} of department {read.meta.get('department')!r}; "
            f"expected {spec.name} of {department}"
        )
    expected = [c.name for c in spec.columns] + ["_row"]
    folds = [fold_column(c.name) for c in spec.columns if c.type == "timestamp"]  # (kpi_lib.inputs.zones)
    found = list(read.frame.columns)
    if found[: len(expected)] != expected or any(c not in folds for c in found[len(expected) :]):
        raise AuditError(f"{path}: columns {', '.join(read.frame.columns)}; expected {', '.join(expected)}")
    excluded = read.meta.get("excluded", {})
    if not isinstance(excluded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in excluded.items()
    ):
        raise AuditError(f"{path}: its exclusions are not a mapping of key to reason; run again")
    return Table(
        spec,
        str(read.meta["file"]),
        sha256,
        read.frame,
        read.problems,
        rules,
        dict(read.meta["letters"]),
        exclude=excluded,
    )


def recorded_file(path: Path) -> str | None:
    """The source file a partition names (as the run showed it), or None when it is not a readable partition."""
    try:
        meta = json.loads((pq.read_schema(path).metadata or {})[META_KEY])
        return str(meta["file"])
    except (OSError, KeyError, TypeError, ValueError, pa.ArrowException):
        return None


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same columns, dtypes, index and cells; object cells compared by type and text (`1.5` is not `1.50`)."""
    if list(a.columns) != list(b.columns) or list(a.index) != list(b.index):
        return False
    for name in a.columns:
        x, y = a[name], b[name]
        if x.dtype != y.dtype:
            return False
        if x.dtype == object:
            if [(type(v), str(v)) for v in x] != [(type(v), str(v)) for v in y]:
                return False
        elif not x.reset_index(drop=True).equals(y.reset_index(drop=True)):
            return False
    return True


def _settings(base: DataFolder) -> dict[str, Any]:
    """What a department's folder reads by (`DataFolder.of`): kept by the views built on it below."""
    return {
        "folder": base.folder,
        "template": base.template,
        "sources": base.sources,
        "base": base.base,
        "snapshot": base.snapshot,
        "timezone": base.timezone,
        "bases": base.bases,
        "params_file": base.params_file,
    }


class PartitionFolder(DataFolder):
    """A department's `inputs/` as its notebooks read it: each table from its partition, never the company's file."""

    def __init__(self, department: Department, inputs: Path) -> None:
        base = DataFolder.of(department)
        super().__init__(**_settings(base))
        self.inputs = Path(inputs)
        self.department = self.owner = department.id

    def table(self, name: str) -> Table:
        """The department's partition of table `name`; its `sha256` is the partition's (its own rows), not the whole file's.

        So a department's notebooks show the same whatever other departments' rows
        of the file hold: an incremental run that reuses it stays identical to a fresh one.
        """
        if name not in self._tables:
            path = self.inputs / partition(name)
            self._tables[name] = read_partition(
                path,
                self.owner,
                self.rules(name),
                sha256_file(path) if path.is_file() else None,
                self.template.tables[name],
            )
        return self._tables[name]


class SharedTables:
    """Every table of a run, read once and shared by the departments that read it the same way.

    `loads` counts the reads (tests count them). A department's view is
    `folder(department)`: a `DataFolder` whose tables come from here.
    """

    def __init__(self, departments: frozenset[str] = frozenset()) -> None:
        self._tables: dict[tuple[Any, ...], Table] = {}
        self.loads = 0
        self.departments = departments  # the ids of the run's params: real departments, never typos of another
        self.queries = Queries()  # each distinct database query sent once per run (see `sql`)

    def folder(self, department: Department, period: Period | None = None) -> DataFolder:
        return _SharedFolder(department, self, period)

    def get(self, key: tuple[Any, ...], load: Any) -> Table:
        if key not in self._tables:
            self.loads += 1
            self._tables[key] = load()
        return self._tables[key]


class _SharedFolder(DataFolder):
    def __init__(self, department: Department, shared: SharedTables, period: Period | None = None) -> None:
        base = DataFolder.of(department)
        known = None if base.departments is None else base.departments | shared.departments
        super().__init__(
            **_settings(base),
            departments=known,
            period=period,
            department=department.id,
            queries=shared.queries,
        )
        self.shared = shared

    def table(self, name: str) -> Table:
        if name not in self._tables:
            source = self.sources.get(name)
            key = (
                str(self.folder),
                str(self.base_of(name)),
                self.snapshot,
                self.template.sha256,
                name,
                None if source is None else source.model_dump_json(exclude={"exclude"}),
                _rules_key(self.rules(name)),
                str(self.base_of(name)),
                self.bound_key(name),
            )  # (exclusions are the department's view of the table read once: `viewed`)
            self._tables[name] = self.viewed(name, self.shared.get(key, lambda: self.load(name)))
        return self._tables[name]


def _rules_key(rules: ReadRules) -> tuple[Any, ...]:
    return (
        tuple(sorted(rules.identifiers)),
        tuple(sorted((k, tuple(v)) for k, v in rules.vocabulary.items())),
        rules.timezone,
        rules.allow_no_rows,
    )


__all__ = [
    "PartitionFolder",
    "SharedTables",
    "Written",
    "partition_bytes",
    "read_partition",
    "recorded_file",
    "write_partition",
]
