"""Reading a table file's cells exactly as they are: CSV, xlsx and Parquet.

`read_raw(path)` returns a `RawTable`: a frame of untouched cells (text from CSV,
typed cells from xlsx and Parquet) whose index is the row number minus 2, so
that `index + 2` is the row a person finds the record on:

- CSV: the file's physical line (blank lines and newlines inside quoted cells
  counted, as a text editor counts them); the header is the first non-blank line.
- xlsx: the sheet's row number, with each column's letter kept so a problem can
  say `complaints.xlsx!E12`.
- Parquet: row 2 is the first record (as if the header were row 1).

Nothing is dropped, shifted or guessed here. What cannot be read as one plain
value becomes a `BadCell` that the table parser reports with its row, column and
department: an xlsx formula without a cached value, an error cell (`#DIV/0!`), a
percentage-formatted cell, a Parquet NaN, infinity, list or binary value.
Problems of the file's shape are gathered as `Problem`s: an undecodable byte
(naming the line and the encodings tried), a record with more or fewer fields
than the header, a merged range inside the data, values under no header.

CSV text is decoded as UTF-8 (with or without BOM), UTF-16 with a BOM, or
GB18030/GBK (what Chinese Excel writes). A file that is UTF-8 up to a bad byte
is refused rather than read as GB18030, which would turn every Chinese text in
it into other characters.

Two ways to read a CSV, with the same result. When the caller names the columns
it needs (`wanted`), a file is read by pyarrow (`pyarrow.csv`, every column as
text, only those columns), if it is plain enough that pyarrow's records are
exactly the csv module's, one per physical line: no blank line (or line of only
separators and spaces), no carriage return outside CRLF, a header of distinct
non-empty names, the same number of records as lines after the header, and
every line that holds a quote character parsed alone by the csv module to the
same cells (so no quoted field spans lines). Record i is then on line i + 2.
Any other file, and any file pyarrow refuses, is read by the exact reader (the
csv module, physical lines counted), which reports every problem. The fast
reader's columns are pandas' pyarrow-backed `str`; the exact reader's objects.

A Parquet column of a plain Arrow type (text, integers, booleans, decimals, dates,
timestamps of at most microseconds) holds its values as they are, without a call
per cell; a 64-bit float column is checked for NaN and infinity at once; other
types (nanoseconds, binary, lists …) are looked at cell by cell. `VECTORIZED =
False` reads every cell one by one (the definition the tests compare with).
A table file's bytes are read once, hashed and parsed (`read_hashed`); `file_sha256`
gives that sha256 again without reading the file while it is unchanged.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell, MergedCell
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

from ..base import files
from ..base.errors import Code, Problem, Refusal, place

ENCODINGS_TRIED = "utf-8, utf-8 with BOM, utf-16 with BOM, gb18030"
# False: every cell of every source goes the exact way, one by one (the definition the column-at-a-time paths of
# `kpi_lib.inputs.tables` and `kpi_lib.inputs.sources` agree with; tests/test_tables_fast.py reads both ways)
VECTORIZED = True


@dataclass(frozen=True)
class BadCell:
    """A cell that holds no plain value: `shown` is what the file shows, `reason` what is wrong, `code` its `Code`."""

    shown: str
    reason: str
    code: Code

    def __str__(self) -> str:
        return self.shown


@dataclass
class RawTable:
    """A file's cells, untouched, with where they came from."""

    frame: pd.DataFrame
    header_row: int | None = 1  # None: a database query's result (no header row to name)
    letters: dict[str, str] = field(default_factory=dict)  # header → xlsx column letter
    problems: list[Problem] = field(default_factory=list)
    headers: list[str] | None = None  # every header of the file when `frame` holds only the wanted columns
    row_base: int = 2  # a record's row is its index + row_base (a query's result: 1, its position in the result)


class Unreadable(Refusal):
    """The file cannot be read at all; the message says where and why, the code what kind of failure."""


Wanted = Callable[[str], bool]  # which (stripped) headers a caller needs


def read_raw(
    path: Path, sheet: str | None = None, wanted: Wanted | None = None, *, data: bytes | None = None
) -> RawTable:
    """Read a table file's cells; raise `Unreadable` when the file as a whole cannot be read.

    With `wanted`, a CSV's or Parquet file's frame may hold only the columns whose
    stripped header it accepts (`RawTable.headers` then lists them all): a Parquet
    file's other columns are never read (pyarrow's `columns=`); xlsx is read whole
    (openpyxl reads a sheet's cells row by row, all of them). `data`: the file's
    bytes, already read (`read_hashed`), so that what is hashed is what is parsed.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, wanted, data=data)
    if suffix == ".xlsx":
        return read_xlsx(path, sheet, data=data)
    if suffix == ".parquet":
        return read_parquet(path, wanted, data=data)
    raise Unreadable(f"unsupported file type {suffix}; expected .csv, .xlsx or .parquet", Code.UNSUPPORTED_FILE_TYPE)


_HASHED: dict[Path, tuple[tuple[int, int, int], str]] = {}  # path → (its stat when read, the sha256 of what was read)


def read_hashed(path: Path) -> tuple[bytes, str]:
    """A file's bytes and their sha256, read once: the table is parsed from the bytes that were hashed.

    The sha256 is remembered with the file's size, mtime and inode (`file_sha256`).
    """
    before = _stamp(path)
    data = path.read_bytes()
    sha = files.sha256_bytes(data)
    if before is not None and before == _stamp(path):
        _HASHED[path] = (before, sha)
    return data, sha


def file_sha256(path: Path) -> str:
    """The sha256 of a file: the one `read_hashed` found when the file's size, mtime and inode are still the
    same (no second read of a big table file), else hashed now."""
    known = _HASHED.get(path)
    stamp = _stamp(path)
    if known is not None and stamp is not None and known[0] == stamp:
        return known[1]
    return files.sha256_file(path)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """A file's size, mtime and inode, or None when it cannot be stat'ed."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


# -- CSV ------------------------------------------------------------------------------------
def decode(data: bytes) -> str:
    """The text of a CSV file, or `Unreadable` naming the line of the first bad byte and the encodings tried."""
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with ("utf-8", "utf-8-sig", "utf-16" or "gb18030")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", offset=3), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "utf-16"
    head = data[:4096]
    if head and head.count(0) > len(head) // 8:
        raise Unreadable(
            "holds many NUL bytes: UTF-16 without a byte-order mark, or not a text file; save it as CSV UTF-8",
            Code.BAD_ENCODING,
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if _mostly_utf8(data):
            raise Unreadable(
                f"line {_line_of(data, exc.start)}: byte 0x{data[exc.start]:02x} is not UTF-8, though the rest of the file is; "
                f"encodings tried: {ENCODINGS_TRIED}; fix or re-save the file as CSV UTF-8",
                Code.BAD_ENCODING,
            ) from None
    return _strict(data, "gb18030"), "gb18030"


def _mostly_utf8(data: bytes) -> bool:
    """True when the text is UTF-8 but for a few bad bytes (not GB18030 whose bytes now and then form UTF-8)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for c in text if c > "\x7f") - bad
    return good >= bad


def _strict(data: bytes, encoding: str, offset: int = 0) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = (
            _line_of(data, exc.start)
            if encoding != "utf-16"
            else data[: exc.start].decode("utf-16", errors="ignore").count("\n") + 1
        )
        raise Unreadable(
            f"line {line}: cannot decode byte 0x{data[exc.start]:02x} as {encoding} (byte {exc.start + offset}); "
            f"encodings tried: {ENCODINGS_TRIED}; re-save the file as CSV UTF-8",
            Code.BAD_ENCODING,
        ) from None


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def read_csv(path: Path, wanted: Wanted | None = None, *, data: bytes | None = None) -> RawTable:
    """Read a CSV file (or its bytes `data`); rows are physical line numbers (fast when `wanted` is given and the file is plain)."""
    if data is None:
        data = path.read_bytes()
    text, encoding = _decode(data)
    if wanted is not None:
        body = data[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else text.encode("utf-8")
        del data
        fast = _read_plain_csv(path, body, wanted)
        if fast is not None:
            return fast
        del body
    return _read_exact_csv(path, text, wanted)


def _read_exact_csv(path: Path, text: str, wanted: Wanted | None = None) -> RawTable:
    """The csv module's reading: every record with its physical line, every problem of the file's shape."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    file = str(path)
    problems: list[Problem] = []
    header: list[str] | None = None
    header_row = 1
    records: list[list[str]] = []
    rows: list[int] = []
    last = 0
    try:
        for record in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line (or one of empty fields) is not a record
            if header is None:
                header, header_row = record, line
                continue
            if len(record) != len(header):
                problems.append(
                    Problem(
                        file=file,
                        row=line,
                        message=f"{len(record)} fields, but the header (line {header_row}) has {len(header)}; values would be shifted, so the row is not read; check for a missing or extra separator or quote",
                        code=Code.WRONG_FIELD_COUNT,
                    )
                )
                continue
            records.append(record)
            rows.append(line)
    except csv.Error as exc:
        raise Unreadable(f"line {reader.line_num}: not valid CSV ({exc}); check the quotes", Code.BAD_CSV) from None
    if header is None:
        raise Unreadable("is empty; expected a header line and records", Code.EMPTY_FILE)
    raw = _frame(
        file,
        header,
        [list(col) for col in zip(*records, strict=True)] if records else [[] for _ in header],
        rows,
        header_row,
        {},
        problems,
    )
    if wanted is None:
        return raw
    headers = [str(h) for h in raw.frame.columns]
    raw.frame = raw.frame[[h for h in headers if wanted(h)]]
    raw.headers = headers
    return raw


# Bytes a line may hold and still be blank to the csv module (separators, quotes, whitespace; any
# non-ASCII byte, since some non-ASCII characters are whitespace): a line of only these reads slowly.
_BLANKISH = bytes([9, 11, 12, 13, 28, 29, 30, 31, 32, 34, 44, *range(128, 256)])


def _read_plain_csv(path: Path, body: bytes, wanted: Wanted) -> RawTable | None:
    """pyarrow's reading of a plain CSV (UTF-8 `body`), or None when the exact reader must read it.

    None for: a blank line anywhere (it shifts line numbers), a CR that is not
    part of CRLF, a header with an empty or repeated name, anything pyarrow
    refuses (a record with the wrong number of fields …), a record count other
    than the number of lines after the header, or a line holding a quote that
    the csv module, reading it alone, does not read to the same cells.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
        return None
    ends = body.endswith(b"\n")
    cut = body.find(b"\n")
    if cut < 0:
        return None  # a header alone, without a newline
    first_text = body[:cut].decode("utf-8").removesuffix("\r")
    try:
        header = next(csv.reader([first_text], strict=True))
    except csv.Error:
        return None
    if not any(cell.strip() for cell in header):
        return None  # a blank first line: the header is further down
    # the header is not blank (csv says so: it may be all Chinese); below it, a line of only separators,
    # spaces and non-ASCII bytes (some are spaces) leaves two newlines side by side: the exact reader decides
    solid = body.translate(None, _BLANKISH)
    below = solid[solid.find(b"\n") :]
    if below.startswith(b"\n\n") or b"\n\n" in below or (not ends and below.endswith(b"\n")):
        return None
    del solid, below
    lines = body.count(b"\n") + (0 if ends else 1)
    content = memoryview(body)[: len(body) - ends]
    labels = [h.strip() for h in header]
    if any(not h for h in labels) or len({h.casefold() for h in labels}) != len(labels):
        return None
    names = [f"c{i}" for i in range(len(header))]
    keep = [i for i, h in enumerate(labels) if wanted(h)]
    try:
        table = pcsv.read_csv(
            io.BytesIO(body),
            read_options=pcsv.ReadOptions(skip_rows=1, column_names=names, use_threads=False),
            parse_options=pcsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                include_columns=[names[i] for i in keep],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # `body` is UTF-8 already (decoded once above)
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if table.num_rows != lines - 1:
        return None
    if b'"' in body and not _quoted_lines_agree(bytes(content), table, keep, len(header)):
        return None
    frame = pd.DataFrame(
        {labels[i]: pd.Series(pd.array(table.column(names[i]), dtype="str")) for i in keep},
        index=pd.RangeIndex(table.num_rows),
    )
    return RawTable(frame, 1, {}, [], labels)


def _quoted_lines_agree(content: bytes, table: Any, keep: list[int], width: int) -> bool:
    """Every line holding a quote, read alone by the csv module: one record of `width` cells equal to pyarrow's."""
    for number, line in enumerate(content.split(b"\n")):
        if b'"' not in line:
            continue
        text = line.decode("utf-8").removesuffix("\r")
        try:
            cells = list(csv.reader([text], strict=True))
        except csv.Error:
            return False
        if number == 0:
            continue  # the header: read the same way above
        if len(cells) != 1 or len(cells[0]) != width:
            return False
        if any(table.column(f"c{i}")[number - 1].as_py() != cells[0][i] for i in keep):
            return False
    return True


# -- xlsx -----------------------------------------------------------------------------------
def read_xlsx(path: Path, sheet: str | None = None, *, data: bytes | None = None) -> RawTable:
    """Read one worksheet's cells as the file defines them (sparse: a stray cell far away costs nothing).

    The sheet is the one named, else the only sheet that holds data: a workbook
    with data on several sheets (a hidden one included) is refused rather than read
    from its first. A formula is taken at its cached value; one without a cached
    value is a `BadCell`, and so is every formula of a workbook that asks Excel to
    recalculate on load (its cached values may be stale).
    """
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    file = str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on styles and extensions it does not read
            book = load_workbook(path if data is None else io.BytesIO(data), data_only=True)
            with_formulas = load_workbook(path if data is None else io.BytesIO(data), data_only=False)
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file is not a readable xlsx
        raise Unreadable(f"not a readable .xlsx file ({type(exc).__name__}: {exc})", Code.UNREADABLE_FILE) from None
    ws = _worksheet(book, sheet)
    formulas = {key for key, cell in with_formulas[ws.title]._cells.items() if cell.data_type == "f"}
    stale = bool(formulas) and bool(getattr(book.calculation, "fullCalcOnLoad", False))
    values = {key: _xlsx_value(cell, key in formulas, stale) for key, cell in ws._cells.items()}
    filled = sorted(key for key, value in values.items() if not _blank(value))
    if not filled:
        raise Unreadable(f"sheet {ws.title!r} is empty; expected a header row and records", Code.EMPTY_FILE)
    header_row = filled[0][0]
    width = max(c for r, c in filled if r == header_row)
    header = [cell_text(values.get((header_row, c)) or "") for c in range(1, width + 1)]
    letters = [get_column_letter(c) for c in range(1, width + 1)]
    problems = [
        Problem(
            file=file,
            cell=f"{get_column_letter(c)}{r}",
            message="a value right of the table, under no header; expected it inside the table or removed",
            code=Code.VALUE_OUTSIDE_TABLE,
        )
        for r, c in filled
        if r > header_row and c > width
    ]
    rows = sorted({r for r, c in filled if r > header_row and c <= width})
    columns = [[values.get((r, c)) for r in rows] for c in range(1, width + 1)]
    for merged in ws.merged_cells.ranges:
        if merged.max_row > header_row and merged.min_col <= width:
            problems.append(
                Problem(
                    file=file,
                    cell=merged.coord,
                    message="merged cells inside the data; expected one value in every cell (unmerge and fill each cell)",
                    code=Code.MERGED_CELLS,
                )
            )
    return _frame(file, header, columns, rows, header_row, dict(zip(header, letters, strict=True)), problems)


def _worksheet(book: Workbook, sheet: str | None) -> Worksheet:
    """The sheet named, else the only one with data; several with data (hidden ones too) is `Unreadable`."""
    if sheet is not None:
        if sheet not in book.sheetnames:
            raise Unreadable(f"no sheet {sheet!r}; the file has {', '.join(book.sheetnames)}", Code.MISSING_SHEET)
        return book[sheet]
    with_data = [ws for ws in book.worksheets if any(not _blank(c.value) for c in ws._cells.values())]
    if len(with_data) > 1:
        names = ", ".join(
            f"{ws.title!r}" + ("" if ws.sheet_state == "visible" else f" ({ws.sheet_state})") for ws in with_data
        )
        raise Unreadable(
            f"holds data on {len(with_data)} sheets ({names}); name the one to read with `sheet:` in the params' tables mapping",
            Code.AMBIGUOUS_FILE,
        )
    return with_data[0] if with_data else book.worksheets[0]


def _xlsx_value(cell: Cell | MergedCell, formula: bool, stale: bool = False) -> Any:
    value = cell.value
    if cell.data_type == "e":
        return BadCell(
            str(value),
            f"an error cell ({value}); expected a value (fix the formula or type the value)",
            Code.ERROR_CELL,
        )
    if formula and value is None:
        return BadCell(
            "formula",
            "a formula without a cached value (the file was never opened in Excel after it was written); open and save it in Excel, or paste values",
            Code.FORMULA_WITHOUT_VALUE,
        )
    if formula and stale:
        return BadCell(
            f"formula = {value}",
            "a formula in a workbook that asks Excel to recalculate on opening, so its saved value may be stale; open and save it in Excel, or paste values",
            Code.FORMULA_WITHOUT_VALUE,
        )
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (cell.number_format or ""):
        return BadCell(
            f"{value:%}",
            "a percentage-formatted cell; expected a plain number (format the cell as a number: 95 for 95%)",
            Code.PERCENT_CELL,
        )
    if isinstance(value, time) and not isinstance(value, datetime):
        return BadCell(
            value.isoformat(), "a time of day without a date; expected a date or a date and time", Code.UNSUPPORTED_CELL
        )
    if isinstance(value, float):
        return _float_cell(value)
    return value


# -- Parquet --------------------------------------------------------------------------------
MAX_PARQUET_ROWS = 5_000_000  # a compressed file can hold far more rows than memory (a 364 KB file, 20M rows)


def read_parquet(path: Path, wanted: Wanted | None = None, *, data: bytes | None = None) -> RawTable:
    """Read a Parquet file; nulls are empty cells, NaN and infinity are refused, not taken for empty.

    A timestamp with nanoseconds is refused (Python keeps microseconds: it would be
    cut), and so is a file of more than `MAX_PARQUET_ROWS` rows; a 32- or 16-bit float is read as the shortest text of its own precision
    (`1000.1`, not `1000.0999755859375`). With `wanted`, only the columns it accepts
    are read from the file (the others cost neither time nor memory).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    every: list[str] | None = None
    try:
        parquet = pq.ParquetFile(path if data is None else pa.BufferReader(data))
        rows = parquet.metadata.num_rows
        if rows > MAX_PARQUET_ROWS:
            raise Unreadable(
                f"holds {rows:,} rows; expected at most {MAX_PARQUET_ROWS:,} (split the export by period or department)",
                Code.TOO_MANY_ROWS,
            )
        names = [str(name) for name in parquet.schema_arrow.names]
        keep = [n for n in names if wanted(n.strip())] if wanted is not None else names
        if wanted is not None and len(set(keep)) == len(
            keep
        ):  # (a wanted name given twice: read whole, reported below)
            every = names
            table = parquet.read(columns=keep)
        elif wanted is not None:
            table = parquet.read()  # (the dataset reader refuses a name given twice; this one reads it for `_frame`)
        else:
            table = pq.read_table(path if data is None else pa.BufferReader(data))
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file is not a readable Parquet file
        raise Unreadable(f"not a readable Parquet file ({type(exc).__name__}: {exc})", Code.UNREADABLE_FILE) from None
    header = [str(name) for name in table.column_names]
    columns: list[Any] = []
    for i, name in enumerate(header):
        column = table.column(i)
        cells: Any
        try:
            if pa.types.is_float32(column.type) or pa.types.is_float16(column.type):
                cells = [None if v is None else _float_cell(v) for v in _narrow_floats(column)]
            elif VECTORIZED and wanted is not None and _text_without_nulls(column):
                cells = pd.Series(pd.array(column, dtype="str"))  # (as the fast CSV reader's: no object per cell)
            elif VECTORIZED and _as_they_are(column.type):
                cells = _python_cells(column)  # (cells `_parquet_value` keeps as they are: no call per cell)
            elif VECTORIZED and pa.types.is_float64(column.type):
                cells = _double_cells(column)
            else:
                cells = [_parquet_value(v) for v in column.to_pylist()]
        except (OverflowError, ValueError, pa.ArrowException) as exc:
            raise Unreadable(
                f"column {name!r} ({column.type}) holds a value outside what can be read ({type(exc).__name__}: {exc}); expected dates from 1900 to 2100",
                Code.DATE_OUT_OF_RANGE,
            ) from None
        columns.append(cells)
    raw = _frame(str(path), header, columns, list(range(2, table.num_rows + 2)), 1, {}, [])
    raw.headers = every
    return raw


def _text_without_nulls(column: Any) -> bool:
    """A text column without a null: its cells are all text, held as pandas `str` (the caller named its columns)."""
    import pyarrow as pa

    return bool((pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) and not column.null_count)


def _as_they_are(kind: Any) -> bool:
    """Whether every value of an Arrow type is a cell as `_parquet_value` leaves it (text, integers, booleans,
    decimals, dates, timestamps of at most microseconds): such a column's values need no call per cell."""
    import pyarrow as pa

    t = pa.types
    if t.is_timestamp(kind):
        return bool(kind.unit != "ns")  # (nanoseconds: pandas Timestamps, checked one by one)
    return bool(
        t.is_string(kind)
        or t.is_large_string(kind)
        or t.is_integer(kind)
        or t.is_boolean(kind)
        or t.is_decimal(kind)
        or t.is_date(kind)
        or t.is_null(kind)
    )


def _python_cells(column: Any) -> list[Any]:
    """`column.to_pylist()`, the same Python values, through numpy where that is faster (to_pylist makes an Arrow
    scalar per cell): text as objects, integers and booleans as numbers, naive timestamps and dates via datetime64."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    t = pa.types
    kind = column.type
    if t.is_string(kind) or t.is_large_string(kind):
        values = column.to_numpy(zero_copy_only=False)  # (str objects, None for nulls)
    elif t.is_integer(kind) or t.is_boolean(kind):
        filled = pc.fill_null(column, False if t.is_boolean(kind) else 0).to_numpy(zero_copy_only=False)
        values = np.empty(len(column), dtype=object)
        values[:] = filled.tolist()
    elif (t.is_timestamp(kind) and kind.tz is None) or t.is_date32(kind):
        stamps = column.to_numpy(zero_copy_only=False)  # (datetime64 of the column's unit, NaT for nulls)
        known = stamps[~np.isnat(stamps)]
        if len(known) and (known.min() < np.datetime64("0001-01-01") or known.max() > np.datetime64("9999-12-31")):
            return list(column.to_pylist())  # (beyond Python's years: to_pylist says so, `Unreadable`)
        values = stamps.astype(object)  # (datetime.datetime, or datetime.date for days; None for NaT)
    else:
        return list(column.to_pylist())
    if column.null_count:
        values[np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = None
    return list(values)


def _double_cells(column: Any) -> list[Any]:
    """A 64-bit float column's cells (`_float_cell`): the values, a `BadCell` only where one is NaN or infinite."""
    import numpy as np
    import pyarrow.compute as pc

    cells: list[Any] = column.to_pylist()
    odd = pc.fill_null(pc.or_(pc.is_nan(column), pc.is_inf(column)), False)
    for i in np.flatnonzero(np.asarray(odd.to_numpy(zero_copy_only=False), dtype=bool)):
        cells[i] = _float_cell(cells[i])
    return cells


def _narrow_floats(column: Any) -> list[Any]:
    """A 32/16-bit float column as the shortest decimal text of each value at its own precision."""
    return [None if v is None else narrow_float(v) for v in column.to_pylist()]


def narrow_float(value: float) -> float:
    """A 32-bit float (widened to Python's 64 bits) as the shortest decimal of its own precision: 1.1, not 1.100000023841858."""
    import numpy as np

    return float(str(np.float32(value)))


def typed_cell(value: Any) -> Any:
    """A value a typed source holds (Parquet, a database driver) as a cell: plain values kept, others a `BadCell`."""
    return _parquet_value(value)


def from_columns(file: str, header: list[str], columns: list[list[Any]], *, row_base: int = 2) -> RawTable:
    """A `RawTable` of typed cells by column, headers checked as a file's are; record i is row i + row_base.

    Without a header row (a database query's result): a problem of the header names no row.
    """
    raw = _frame(file, header, columns, list(range(2, len(columns[0]) + 2)) if columns else [], 1, {}, [])
    problems = [replace(p, row=None) if p.row == 1 else p for p in raw.problems]
    return RawTable(raw.frame, None, {}, problems, None, row_base)


def _parquet_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):  # (a datetime too: checked first)
        if value.nanosecond:
            return BadCell(
                str(value),
                "a timestamp with nanoseconds; expected at most microseconds (they would be cut)",
                Code.UNSUPPORTED_CELL,
            )
        return value.to_pydatetime()
    if value is None or isinstance(value, (str, bool, int, Decimal, date)):
        return value
    if isinstance(value, float):
        return _float_cell(value)
    if isinstance(value, (bytes, bytearray)):
        return BadCell(f"<{len(value)} bytes>", "binary data; expected text, a number or a date", Code.UNSUPPORTED_CELL)
    if isinstance(value, (list, tuple, dict)):
        return BadCell(str(value), f"a {type(value).__name__}; expected one value per cell", Code.UNSUPPORTED_CELL)
    return BadCell(
        str(value),
        f"a value of type {type(value).__name__}; expected text, a number, a date or a boolean",
        Code.UNSUPPORTED_CELL,
    )


def _float_cell(value: float) -> Any:
    if math.isnan(value):
        return BadCell("NaN", "not a number (NaN); expected a number or an empty cell", Code.NOT_A_NUMBER)
    if math.isinf(value):
        return BadCell(str(value), "infinite; expected a finite number", Code.NOT_A_NUMBER)
    return value


# -- shared ---------------------------------------------------------------------------------
# Cells that every function of a cell alone treats alike, found at once: cells are grouped by exact type and,
# within a type, by value (str, bool, int, date, None, `BadCell`: equal values are the same value) or by repr
# (float: 0.0 and -0.0 differ; Decimal: 1.0 and 1.00 differ; datetime and pandas Timestamp: an offset, a fold,
# nanoseconds; time); a cell of any other type (a list, a numpy scalar, an object) is a group of its own.
BY_VALUE = frozenset({str, bool, int, date, type(None), BadCell})
BY_REPR = frozenset({float, Decimal, datetime, pd.Timestamp, time})


def _types() -> Any:
    import numpy as np

    return np.frompyfunc(type, 1, 1), np.frompyfunc(repr, 1, 1)


TYPE_OF, REPR = _types()  # (numpy ufuncs: a cell's exact type, its repr; once per cell, no Python loop)


def group_cells(values: Any) -> tuple[Any, Any]:
    """Groups of equal cells of an object array (see above): each cell's group (0, 1 … in no particular
    order) and the position of the first cell of each group."""
    import numpy as np

    n = len(values)
    codes = np.empty(n, dtype="int64")
    firsts: list[Any] = []
    kinds, types = pd.factorize(TYPE_OF(values), use_na_sentinel=False)
    taken = 0
    for k, kind in enumerate(types):
        where = np.flatnonzero(kinds == k)
        group = values[where]
        keys = group if kind in BY_VALUE else REPR(group).astype(str) if kind in BY_REPR else np.arange(len(group))
        inner, uniques = pd.factorize(keys, use_na_sentinel=False)
        codes[where] = inner + taken
        firsts.append(where[np.unique(inner, return_index=True)[1]])
        taken += len(uniques)
    return codes, (np.concatenate(firsts) if firsts else np.zeros(0, dtype="int64"))


def cell_text(value: Any) -> str:
    """A cell as the text a person reads in it (a whole float without ".0", a date as YYYY-MM-DD)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _frame(
    file: str,
    header: list[str],
    columns: list[list[Any]] | list[Any],
    rows: list[int],
    header_row: int,
    letters: dict[str, str],
    problems: list[Problem],
) -> RawTable:
    """Cells by header, each column a list of cells or a pandas `str` Series (a header given twice or under no
    name is a problem, the copy is not read)."""
    data: dict[str, Any] = {}
    index = pd.Index([r - 2 for r in rows], dtype="int64")
    for i, (name, cells) in enumerate(zip(header, columns, strict=True)):
        label = name.strip()
        letter = letters.get(name)
        where = place(header_row, letter)
        if not label:
            if any(not _blank(c) for c in cells):
                problems.append(
                    Problem(
                        file=file,
                        **where,
                        message=f"column {letter or i + 1} holds values but has no header; expected a header name",
                        code=Code.UNNAMED_COLUMN,
                    )
                )
            continue
        twin = next((h for h in data if h.casefold() == label.casefold()), None)
        if twin is not None:
            kind = "twice" if twin == label else f"twice, differing only in letter case ({twin!r} and {label!r})"
            problems.append(
                Problem(
                    file=file,
                    **where,
                    column=label,
                    message=f"header given {kind}; expected each column once",
                    code=Code.DUPLICATE_COLUMN,
                )
            )
            continue
        data[label] = cells
    frame = pd.DataFrame(
        {
            k: v.set_axis(index) if isinstance(v, pd.Series) else pd.Series(v, dtype=object, index=index)
            for k, v in data.items()
        },
        index=index,
    )
    return RawTable(
        frame, header_row, {h.strip(): letter for h, letter in letters.items() if h.strip() in data}, problems
    )


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())
