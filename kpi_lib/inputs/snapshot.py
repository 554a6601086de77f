"""What a run keeps of its inputs, so that `kpi verify --recompute` and `kpi diff` never execute code.

A department's `inputs/` folder is laid out in separate namespaces, so two
copies can never collide:

    inputs/params.yaml              the params file
    inputs/template.yaml            the template
    inputs/data/<path>              every table file read, at its path inside the data folder
                                    (`a/tickets.csv` and `b/tickets.csv` are both kept)
    inputs/adapters/<path>          an adapter's source, at its path inside the params folder
                                    (hashed and kept for people to read; never imported again)
    inputs/adapted/<table>.parquet  the frame the adapter returned for that table

Recomputing reads `adapted/<table>.parquet` instead of running the adapter, then
applies the rest of the mapping (headers, value codes, constants) as a run does.

The frame is kept exactly. Table readers look at cells, so each column's cells
are stored with their Python type: a column whose cells are all text (or None)
is a plain Parquet string column; any other column is a string column of tagged
cells (`i:42`, `f:1.5`, `d:1.50` for a Decimal, `b:1`, `t:2026-10-01T09:30:00+08:00|Asia/Shanghai`
for a pandas Timestamp, `D:` a datetime, `y:` a date, `h:` a time, `s:` text,
`T:` NaT, `A:` pandas NA, null for None). The index (the file's row numbers)
and the column names are tagged the same way. The schema's metadata key
`kpi-appraisal` says which column is which. Reading it builds the cells back
with no code from the file: no pickle, no pandas extension types. A frame whose
cells are of another type (a list, an object) is refused, and every frame is
read back and compared after it is written, so a snapshot is exact or the run
stops.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from ..base.errors import AuditError

DATA = "data"
ADAPTERS = "adapters"
ADAPTED = "adapted"
META_KEY = b"kpi-appraisal"
FORMAT = "kpi-appraisal exact frame"
INDEX_COLUMN = "__index__"


class _Unsupported(Exception):
    """A cell of a type the snapshot cannot keep exactly."""


def adapted_path(data_folder: Path, table: str) -> Path:
    """Where the frame an adapter returned for `table` is kept, beside a snapshot's `data/` folder."""
    return data_folder.parent / ADAPTED / f"{table}.parquet"


# -- cells ----------------------------------------------------------------------------------
def _tz_name(tz: tzinfo | None) -> str:
    if tz is None:
        return ""
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return str(key) if key else ""


def encode_cell(value: Any) -> str | None:
    """One cell as tagged text (None stays None); raise `_Unsupported` for a type that cannot be kept exactly."""
    if value is None:
        return None
    if value is pd.NaT:
        return "T:"
    if value is pd.NA:
        return "A:"
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64):
        value = value.item()
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, bool):
        return f"b:{int(value)}"
    if isinstance(value, int):
        return f"i:{value}"
    if isinstance(value, float):
        return f"f:{value!r}"
    if isinstance(value, Decimal):
        return f"d:{value}"
    if isinstance(value, str):
        return f"s:{value}"
    if isinstance(value, pd.Timestamp):
        return f"t:{value.isoformat()}|{_tz_name(value.tz)}"
    if isinstance(value, datetime):
        return f"D:{value.isoformat()}|{_tz_name(value.tzinfo)}"
    if isinstance(value, date):
        return f"y:{value.isoformat()}"
    if isinstance(value, time):
        return f"h:{value.isoformat()}|{_tz_name(value.tzinfo)}"
    raise _Unsupported(type(value).__name__)


def _zone(name: str, fallback: tzinfo) -> tzinfo:
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def decode_cell(text: str | None) -> Any:
    """The cell `encode_cell` wrote; raise ValueError for text it never writes."""
    if text is None:
        return None
    tag, sep, body = text.partition(":")
    if not sep:
        raise ValueError(f"untagged cell {text[:40]!r}")
    if tag == "T":
        return pd.NaT
    if tag == "A":
        return pd.NA
    if tag == "b" and body in ("0", "1"):
        return body == "1"
    if tag == "i":
        return int(body)
    if tag == "f":
        return float(body)
    if tag == "d":
        try:
            return Decimal(body)
        except InvalidOperation:
            raise ValueError(f"bad decimal {body[:40]!r}") from None
    if tag == "s":
        return body
    if tag in ("t", "D", "h"):
        moment, bar, zone = body.rpartition("|")
        if not bar:
            raise ValueError(f"a moment without its time zone field {body[:40]!r}")
        if tag == "t":
            stamp = pd.Timestamp(moment)
            return stamp.tz_convert(_zone(zone, stamp.tz)) if stamp.tz is not None else stamp
        if tag == "D":
            parsed = datetime.fromisoformat(moment)
            return parsed.astimezone(_zone(zone, parsed.tzinfo)) if parsed.tzinfo is not None else parsed
        clock = time.fromisoformat(moment)
        return clock.replace(tzinfo=_zone(zone, clock.tzinfo)) if clock.tzinfo is not None else clock
    if tag == "y":
        return date.fromisoformat(body)
    raise ValueError(f"unknown cell tag {tag!r}")


def _same(a: Any, b: Any) -> bool:
    """Two cells are the same value of the same type (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and np.isnan(a):
        return bool(np.isnan(b))
    if isinstance(a, Decimal) and a.is_nan():
        return b.is_nan() and str(a) == str(b)
    if a is pd.NaT or a is pd.NA or a is None:
        return a is b
    try:
        return bool(a == b) and str(a) == str(b)
    except (TypeError, ValueError):
        return False


def _normal(value: Any) -> Any:
    """A cell as `Series.tolist()` hands it to the table readers (numpy scalars become Python ones)."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- frames ---------------------------------------------------------------------------------
def write_frame(frame: pd.DataFrame, path: Path, *, what: str) -> pd.DataFrame:
    """Keep `frame` exactly as Parquet at `path` (and return it as read back); raise `AuditError` naming the cell
    that cannot be kept.

    `what` names the frame in messages (e.g. "adapter telco_adapter.py:key_accounts for table key_accounts").
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(frame.columns, pd.MultiIndex) or isinstance(frame.index, pd.MultiIndex):
        raise AuditError(
            f"{what}: returned a frame with a MultiIndex; return a flat frame that keeps the raw frame's index"
        )
    rows = list(frame.index)
    try:
        index = _encoded(rows)
        if index is None:
            index = [encode_cell(v) for v in rows]
        names = [encode_cell(c) for c in frame.columns]
    except _Unsupported as exc:
        raise AuditError(f"{what}: returned an index or column name of type {exc}; expected text or numbers") from None
    columns: list[Any] = []
    meta: list[dict[str, Any]] = []
    for position in range(frame.shape[1]):
        cells = frame.iloc[:, position].tolist()
        label = frame.columns[position]
        kinds = _kinds(cells)
        if kinds <= {str, type(None)} or all(c is None or isinstance(c, str) for c in cells):
            columns.append(pa.array(cells, type=pa.string()))
            meta.append({"name": names[position], "kind": "text"})
            continue
        quick = _encoded(cells, kinds)
        if quick is not None:
            columns.append(pa.array(quick, type=pa.string()))
            meta.append({"name": names[position], "kind": "tagged"})
            continue
        encoded = []
        for row, cell in zip(rows, cells, strict=True):
            try:
                encoded.append(encode_cell(cell))
            except _Unsupported as exc:
                raise AuditError(
                    f"{what}: column {label!r}, index {row!r}: a cell of type {exc}; expected text, numbers, booleans, dates or timestamps "
                    "(the run keeps an exact copy of what the adapter returned)"
                ) from None
        columns.append(pa.array(encoded, type=pa.string()))
        meta.append({"name": names[position], "kind": "tagged"})
    plain = [str(c) for c in frame.columns]
    unique = len(set(plain)) == len(plain) and INDEX_COLUMN not in plain
    arrow_names = [INDEX_COLUMN, *(plain if unique else [f"{i}:{n}" for i, n in enumerate(plain)])]
    document = {
        "format": FORMAT,
        "version": 1,
        "columns": meta,
        "index": "integer" if pd.api.types.is_integer_dtype(frame.index) else "object",
    }
    schema = pa.schema(
        [pa.field(n, pa.string()) for n in arrow_names],
        metadata={META_KEY: json.dumps(document, ensure_ascii=False).encode("utf-8")},
    )
    table = pa.Table.from_arrays([pa.array(index, type=pa.string()), *columns], schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    back = read_frame(path)
    if not _identical(frame, back):
        raise AuditError(
            f"{what}: the returned frame does not read back exactly from {path}; its cells cannot be kept as they are"
        )
    return back


# Columns of one plain type are encoded, decoded and compared a column at a time, with the same text and the
# same answers as `encode_cell`, `decode_cell` and `_same` cell by cell; any other column goes cell by cell.
_TAGS: dict[type, Callable[[Any], str]] = {
    int: lambda v: f"i:{v}",
    float: lambda v: f"f:{v!r}",
    Decimal: lambda v: f"d:{v}",
    bool: lambda v: f"b:{int(v)}",
}


def _kinds(cells: list[Any]) -> set[type]:
    """The exact types of a column's cells."""
    return set(map(type, cells))


def _encoded(cells: list[Any], kinds: set[type] | None = None) -> list[str | None] | None:
    """`encode_cell` of every cell when each is of a type of `_TAGS` (or None), else None."""
    kinds = _kinds(cells) if kinds is None else kinds
    if not kinds - {type(None)} <= _TAGS.keys():
        return None
    return [None if v is None else _TAGS[type(v)](v) for v in cells]


def _decoded(column: Any) -> list[Any]:
    """`decode_cell` of every cell of a tagged column (`ValueError` for text it never writes, as `decode_cell`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return [decode_cell(v) for v in column.to_pylist()]  # (not what `write_frame` writes: as before)
    tags = set(pc.unique(pc.utf8_slice_codeunits(column, 0, 2)).to_pylist()) - {None}
    if tags == {"i:"}:  # (pyarrow reads only the digits `encode_cell` writes; anything else: cell by cell)
        try:
            numbers: list[Any] = pc.cast(pc.utf8_slice_codeunits(column, 2), pa.int64()).to_pylist()
            return numbers
        except pa.ArrowException:
            pass
    texts = list(column.to_numpy(zero_copy_only=False))
    if tags <= _READ.keys():  # (what `decode_cell` does with these tags, without its other branches)
        return [None if t is None else _READ[t[:2]](t[2:]) for t in texts]
    return [decode_cell(v) for v in texts]


_READ: dict[str, Callable[[str], Any]] = {"i:": int, "f:": float, "s:": str}


def read_frame(path: Path) -> pd.DataFrame:
    """A frame `write_frame` kept: object columns holding the exact cells, with the original index and names."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise AuditError(f"{path}: not found; the run recorded no copy of what the adapter returned") from None
    except (OSError, pa.ArrowException) as exc:
        raise AuditError(f"{path}: not a readable Parquet file ({exc})") from None
    try:
        document = json.loads((table.schema.metadata or {})[META_KEY].decode("utf-8"))
        if document.get("format") != FORMAT or document.get("version") != 1:
            raise ValueError(f"format {document.get('format')!r} version {document.get('version')!r}")
        meta = document["columns"]
        if len(meta) != table.num_columns - 1 or table.schema.names[0] != INDEX_COLUMN:
            raise ValueError("the columns do not match the metadata")
        if any(not isinstance(m, dict) or m.get("kind") not in ("text", "tagged") for m in meta):
            raise ValueError("a column of an unknown kind")
        index = _decoded(table.column(0))
        data = {}
        for position, column in enumerate(meta):
            arrow = table.column(position + 1)
            if column["kind"] == "tagged":
                cells = _decoded(arrow)
            elif pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
                cells = list(arrow.to_numpy(zero_copy_only=False))  # (text or None: to_pylist's values, faster)
            else:
                cells = arrow.to_pylist()
                if any(c is not None and not isinstance(c, str) for c in cells):
                    raise ValueError("a text column holds something else")
            data[position] = pd.Series(cells, dtype=object)
        names = [decode_cell(m["name"]) for m in meta]
        integer = document.get("index") == "integer"
        if integer and any(type(v) is not int for v in index):
            raise ValueError("an integer index holds something else")
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        UnicodeDecodeError,
        OverflowError,
        pa.ArrowException,
    ) as exc:
        raise AuditError(f"{path}: not a frame snapshot written by kpi run ({type(exc).__name__}: {exc})") from None
    frame = pd.DataFrame(data, index=range(len(index)))
    frame.columns = pd.Index(names, dtype=object, tupleize_cols=False)
    frame.index = pd.Index(index, dtype="int64" if integer else object, tupleize_cols=False)
    return frame


def _identical(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same shape, names, index and cells (by type and value), as the table readers see them."""
    if a.shape != b.shape or len(a.index) != len(b.index):
        return False
    if not all(_same(_normal(x), _normal(y)) for x, y in zip(a.columns, b.columns, strict=True)):
        return False
    if not _all_same(a.index.tolist(), b.index.tolist()):
        return False
    if len(a.index) and pd.api.types.is_integer_dtype(a.index) != pd.api.types.is_integer_dtype(b.index):
        return False
    return all(_all_same(a.iloc[:, p].tolist(), b.iloc[:, p].tolist()) for p in range(a.shape[1]))


def _all_same(left: list[Any], right: list[Any]) -> bool:
    """`_same` for every pair of cells; a column at a time when all its cells are text or all integers (or None:
    exact types), for which `_same` is `==`, or of the types in `_BY_REPR`, compared by type and repr."""
    kinds = _kinds(left) | _kinds(right)
    if kinds <= {str, type(None)} or kinds <= {int, type(None)}:
        return left == right
    if kinds <= _BY_REPR:
        return list(map(type, left)) == list(map(type, right)) and list(map(repr, left)) == list(map(repr, right))
    return all(_same(_normal(x), _normal(y)) for x, y in zip(left, right, strict=True))


# Cells for which `_same` is: the same type and the same repr (floats: 0.0 is not -0.0, NaN is NaN; Decimal: 1.0 is
# not 1.00, NaN is NaN)
_BY_REPR = frozenset({str, int, float, bool, Decimal, type(None)})
