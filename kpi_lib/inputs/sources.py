"""Where a table comes from, and how a real export is reshaped into it (params key `tables`).

A CRM or ERP export has its own file name, headers, value codes and date format.
Instead of editing the spreadsheet, a department's params say, per table:

    tables:
      complaints:
        file: exports/tickets.xlsx      # any name, relative to the data folder
        sheet: Export                   # xlsx only
        columns: {complaint_id: Ticket, received_at: Opened, resolved_at: Closed, satisfied: "Happy?"}
        values: {satisfied: {"Y": true, "N": false}}
        constants: {department: cs-east}    # a one-department export has no department column
        date_format: "%d-%m-%Y %H:%M"       # every date/timestamp column …
        formats: {resolved_at: "%m/%d/%y"}  # … or one column's own
        adapter: telco.py:accounts          # optional escape hatch, beside the params file
        options: {as_of: 2026-12-31}        # passed to the adapter

The steps, in order: read the file (cells untouched), call the adapter if any
(`adapter(raw: DataFrame, options: dict) -> DataFrame`, which must keep the raw
frame's index so row numbers still point at the file), rename the mapped
headers, map the listed values, add the constants. The result is then parsed and
validated exactly like a table in the template's own layout, with `formats` deciding
how its dates read. A value not listed in `values` passes through unchanged (and
must then parse by itself).

Keys of `values` are compared as text with the cells as written; quote them in
YAML anyway ("Y", "No"). A cell that nearly matches a code (letter case, spaces,
invisible characters, or a typing slip: `Satisfed` for `Satisfied`, see
`kpi_lib.base.text`) is an error naming the code, never passed through. A `values` map applies only to a column mapped through
`columns` (a header matched by its template name is read as it is). A mapping that
maps nothing (a header the file lacks, a code no cell holds) is an error. When a
department truly has no row in a mapped table, `allow_no_rows: true` says so
(otherwise "no row of department …" is an error naming the values the file holds).

A table may instead be read from a database with one query (`sql: {url, query}`
instead of `file`, `sheet` and `adapter`): its result goes through the same
`columns`, `values`, `constants` and formats (see `kpi_lib.inputs.sql`).

Paths stay inside their folders: `file` is relative to the data folder, `adapter`
to the folder of the file that names it (the params file, or the company file for
a table entry it gave: `Department.table_base`); an absolute path, a `..` or a symlink that resolves
outside is refused, naming the key and the path. Adapters run only in `kpi run`,
`score` and `validate`: a run keeps the frame each adapter returned (see
`snapshot`), and `kpi verify --recompute` and `kpi diff` read that instead of
importing the adapter again (`no_code` makes `load_adapter` refuse while they work).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..base.errors import AuditError, Code, DataError, ParamsError, Problem, place
from ..base.text import fold, how_it_differs, near_match
from . import readers
from .readers import BadCell, RawTable, cell_text

if TYPE_CHECKING:
    from .params import TableSource


def inside(folder: Path, path: Path) -> bool:
    """True when `path`, symlinks resolved, is `folder` (resolved) or below it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        return False


def _refusal(text: str, folder: Path) -> str | None:
    """Why `text` (a path from the params) is not a plain relative path inside `folder`, or None."""
    if not text.strip() or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "is empty or holds a control character"
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute() or PureWindowsPath(text).drive:
        return "is an absolute path"
    if ".." in PurePosixPath(text).parts or ".." in PureWindowsPath(text).parts:
        return "climbs out with '..'"
    target = folder / text
    if not inside(folder, target):
        try:
            where = str(target.resolve())
        except (OSError, RuntimeError):
            where = "a symlink loop"
        return f"resolves to {where}, outside {folder}"
    return None


def source_path(folder: Path, name: str, source: TableSource | None, *, snapshot: bool = False) -> Path | None:
    """The file a mapped table is read from (None when the table is not mapped to a file).

    The path is relative to the data folder and stays inside it, symlinks
    resolved; anything else raises `DataError` naming the key and the path. A
    run's snapshot mirrors the data folder (`inputs/data/`), so `snapshot` reads
    the same relative path there.
    """
    if source is None or not source.file:
        return None
    why = _refusal(source.file, folder)
    if why:
        where = "the run's copy of the data folder" if snapshot else "the data folder"
        raise DataError(
            [
                Problem(
                    file=str(folder),
                    message=f"tables.{name}.file: {source.file!r} {why}; expected a path inside {where} (no absolute path, no '..', no symlink out of it)",
                    code=Code.PATH_OUTSIDE,
                )
            ]
        )
    return folder / source.file


def adapter_path(base: Path, source: TableSource | None, *, table: str, owner: str = "params file") -> Path | None:
    """The adapter's Python file: inside `base`, the folder of the `owner` file that names it (the params or the
    company file), symlinks resolved; else `ParamsError`."""
    if source is None or not source.adapter:
        return None
    file = source.adapter.split(":", 1)[0]
    why = _refusal(file, base)
    if why:
        raise ParamsError(
            [
                Problem(
                    file=str(base),
                    message=f"tables.{table}.adapter: {file!r} {why}; expected a .py file in the {owner}'s folder (no absolute path, no '..', no symlink out of it)",
                    code=Code.PATH_OUTSIDE,
                )
            ]
        )
    return base / file


def table_file_problem(folder: Path, path: Path) -> Problem | None:
    """A problem when a table file of the data folder resolves (through a symlink) outside it."""
    if inside(folder, path):
        return None
    try:
        where = str(path.resolve())
    except (OSError, RuntimeError):
        where = "a symlink loop"
    return Problem(
        file=str(path),
        message=f"resolves to {where}, outside the data folder {folder}; keep table files inside the data folder (a symlink must point inside it too)",
        code=Code.PATH_OUTSIDE,
    )


_NO_CODE: ContextVar[str | None] = ContextVar("kpi_no_code", default=None)


@contextmanager
def no_code(what: str) -> Iterator[None]:
    """Within this block `load_adapter` refuses: `kpi verify` and `kpi diff` never execute code."""
    token = _NO_CODE.set(what)
    try:
        yield
    finally:
        _NO_CODE.reset(token)


def load_adapter(path: Path, function: str) -> Callable[..., Any]:
    """Import an adapter's module and return its function (only `kpi run`, `score` and `validate` get here)."""
    refused = _NO_CODE.get()
    if refused is not None:
        raise AuditError(f"{path}: {refused} executes no code; it reads the recorded adapter output instead")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    spec = importlib.util.spec_from_file_location(f"kpi_adapter_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise ValueError(f"{path} has no function {function}()")
    return fn  # type: ignore[no-any-return]


def adapt(
    raw: pd.DataFrame, source: TableSource, file: str, adapter: Path
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Call the table's adapter on the raw frame; (None, the problem) when it fails or returns no DataFrame."""
    named = source.adapter or ""  # set: `adapter_path` gave the adapter's file
    function = named.split(":", 1)[1] if ":" in named else "adapt"
    try:
        frame = load_adapter(adapter, function)(raw.copy(), dict(source.options))
    except AuditError:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's code (even a sys.exit()): a problem of this table
        return None, [
            Problem(
                file=str(adapter),
                message=f"adapter {function}() failed on {file}: {type(exc).__name__}: {exc}",
                code=Code.ADAPTER_FAILED,
            )
        ]
    if not isinstance(frame, pd.DataFrame):
        return None, [
            Problem(
                file=str(adapter),
                message=f"adapter {function}() returned {type(frame).__name__}; expected a pandas DataFrame",
                code=Code.ADAPTER_FAILED,
            )
        ]
    return frame, []


def reshape(raw: RawTable, source: TableSource, file: str) -> tuple[RawTable, list[Problem]]:
    """Apply an export mapping to a file's cells (after its adapter, if any: see `adapt`); problems name the file and the header.

    A mapping that maps nothing is a problem, never a silent no-op: a `columns`
    entry whose header the file lacks, a `values` code that no cell of its column
    holds (codes are compared with cells as written, ordinary spaces around them
    aside).
    """
    problems: list[Problem] = []
    frame = raw.frame
    headers = {str(h).strip(): h for h in frame.columns}
    renames = {}
    for column, header in source.columns.items():
        if str(header) not in headers:
            near = [h for h in (raw.headers or headers) if fold(h) == fold(str(header))]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(
                Problem(
                    file=file,
                    row=raw.header_row,
                    column=str(header),
                    message=f"the mapping reads {column} from header {header!r}, which the file does not have{hint}",
                    code=Code.MAPPING_UNMATCHED,
                )
            )
            continue
        clash = next((h for h in headers if h.casefold() == column.casefold() and h != str(header)), None)
        if clash is not None:
            problems.append(
                Problem(
                    file=file,
                    row=raw.header_row,
                    column=clash,
                    message=f"the mapping reads {column} from header {header!r}, but the file also has a header {clash!r}; expected one source for {column} (drop one header or the mapping)",
                    code=Code.MAPPING_CONFLICT,
                )
            )
            continue
        renames[headers[str(header)]] = column
    frame = frame.rename(columns=renames)
    letters = {renames.get(h, h): letter for h, letter in raw.letters.items()}
    for column, codes in source.values.items():
        if column not in frame or column not in source.columns:
            continue  # params validation requires values only on columns mapped through `columns`; a missing header is reported above
        cells = frame[column]
        if readers.VECTORIZED:
            frame[column] = _mapped(cells, column, codes, source, raw, letters, file, problems)
            continue
        held = {cell_text(c).strip(" \t") for c in cells if not _blank(c)}
        lookup = {str(k).strip(" \t"): v for k, v in codes.items()}
        _unmatched_codes(lookup, held, column, source, raw, file, problems)
        nearly: dict[str, str | None] = {}  # each distinct text's near match (a typing slip included), once
        for index, cell in cells.items():
            text = "" if _blank(cell) else cell_text(cell).strip(" \t")
            if text and text not in lookup and text not in nearly:
                nearly[text] = near_match(text, list(lookup), typos=not _known_department(column, text, codes))
            match = nearly.get(text) if text and text not in lookup else None
            if match is not None:
                row = int(index) + raw.row_base if isinstance(index, int) else None
                letter = letters.get(column)
                where = place(row, letter)
                problems.append(
                    Problem(
                        file=file,
                        **where,
                        column=column,
                        value=cell_text(cell),
                        message=f"did you mean {match!r}? The cell {how_it_differs(text, match)}, so the mapping's values.{column} does not apply; expected the code as written",
                        code=Code.NEAR_MATCH,
                    )
                )
        frame[column] = cells.map(
            lambda cell, lookup=lookup: cell if _blank(cell) else lookup.get(cell_text(cell).strip(" \t"), cell)
        )
    for column, value in source.constants.items():
        present = next((str(h) for h in frame.columns if str(h).strip().casefold() == column.casefold()), None)
        if present is not None:
            problems.append(
                Problem(
                    file=file,
                    row=raw.header_row,
                    column=present,
                    message=f"the mapping sets constants.{column}, but the file has a column {present!r}; a constant would overwrite its values (drop one)",
                    code=Code.MAPPING_CONFLICT,
                )
            )
            continue
        frame[column] = value
    return RawTable(frame, raw.header_row, letters, list(raw.problems), None, raw.row_base), problems


def _unmatched_codes(
    lookup: dict[str, Any],
    held: set[str],
    column: str,
    source: TableSource,
    raw: RawTable,
    file: str,
    problems: list[Problem],
) -> None:
    """A problem for each code of the mapping's `values.<column>` that no cell of the column holds."""
    for code in lookup:
        if code not in held:
            listed = ", ".join(sorted(held)[:8]) or "no value at all"
            problems.append(
                Problem(
                    file=file,
                    row=raw.header_row,
                    column=str(source.columns[column]),
                    value=code,
                    message=f"the mapping's values.{column} code matches no value of this column (the file holds {listed}); expected codes as the file writes them",
                    code=Code.MAPPING_UNMATCHED,
                )
            )


def _mapped(
    cells: pd.Series,
    column: str,
    codes: dict[str, Any],
    source: TableSource,
    raw: RawTable,
    letters: dict[str, str],
    file: str,
    problems: list[Problem],
) -> pd.Series:
    """A `values` map applied to a column once per group of equal cells (`readers.group_cells`), with the
    problems of the cell-by-cell loop of `reshape` (the definition), in the same order."""
    if isinstance(cells.dtype, pd.StringDtype) and not cells.isna().any():
        groups, uniques = pd.factorize(cells)  # (a CSV's text: equal texts are equal cells, numbered in order)
        values: list[Any] = [str(u) for u in uniques]
    else:
        everything = (
            cells.to_numpy() if cells.dtype == object else np.fromiter(cells.tolist(), dtype=object, count=len(cells))
        )  # (the cells the loop of `reshape` sees)
        groups, firsts = readers.group_cells(everything)
        values = list(everything[firsts])
    blank = [_blank(c) for c in values]
    texts = ["" if b else cell_text(c).strip(" \t") for c, b in zip(values, blank, strict=True)]
    held = {t for t, b in zip(texts, blank, strict=True) if not b}
    lookup = {str(k).strip(" \t"): v for k, v in codes.items()}
    _unmatched_codes(lookup, held, column, source, raw, file, problems)
    nearly: dict[str, str | None] = {}
    matches: list[str | None] = []
    for text in texts:
        if text and text not in lookup and text not in nearly:
            nearly[text] = near_match(text, list(lookup), typos=not _known_department(column, text, codes))
        matches.append(nearly.get(text) if text and text not in lookup else None)
    matched = np.array([m is not None for m in matches], dtype=bool)
    if matched.any():
        labels = cells.index.tolist()
        letter = letters.get(column)
        for i in np.flatnonzero(matched[groups]):
            g = int(groups[i])
            index, match = labels[i], matches[g]
            row = int(index) + raw.row_base if isinstance(index, int) else None
            problems.append(
                Problem(
                    file=file,
                    **place(row, letter),
                    column=column,
                    value=cell_text(values[g]),
                    message=f"did you mean {match!r}? The cell {how_it_differs(texts[g], str(match))}, so the mapping's values.{column} does not apply; expected the code as written",
                    code=Code.NEAR_MATCH,
                )
            )
    shared = np.empty(len(values), dtype=object)
    shared[:] = [c if b else lookup.get(t, c) for c, b, t in zip(values, blank, texts, strict=True)]
    return pd.Series(shared[groups], index=cells.index, dtype=object)


def _known_department(column: str, text: str, codes: dict[str, Any]) -> bool:
    """A department cell that is itself an id the map writes (`values: {department: {Team A: team-a}}` and a cell
    `team-a`): a department, never a typo of a code."""
    return column == "department" and text in {str(v) for v in codes.values()}


def _blank(cell: Any) -> bool:
    return cell is None or isinstance(cell, BadCell) or (isinstance(cell, str) and not cell.strip(" \t\r\n"))
