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
validated exactly like a table in the SPEC's own layout, with `formats` deciding
how its dates read. A value not listed in `values` passes through unchanged (and
must then parse by itself).

Keys of `values` are compared as text with the cells as written; quote them in
YAML anyway ("Y", "No"). A `values` map applies only to a column mapped through
`columns` (a header matched by its SPEC name is read as it is). A mapping that
maps nothing (a header the file lacks, a code no cell holds) is an error. When a
department truly has no row in a mapped table, `allow_no_rows: true` says so
(otherwise "no row of department …" is an error naming the values the file holds).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import Problem
from .readers import BadCell, RawTable, cell_text
from .text import fold


def source_path(folder: Path, name: str, source: Any | None, *, snapshot: bool = False) -> Path | None:
    """The file a mapped table is read from (None when the table is not mapped to a file)."""
    if source is None or not source.file:
        return None
    path = Path(source.file).expanduser()
    if snapshot:
        return folder / path.name
    return path if path.is_absolute() else folder / path


def adapter_path(base: Path, source: Any | None, folder: Path, *, snapshot: bool = False) -> Path | None:
    if source is None or not source.adapter:
        return None
    file = Path(source.adapter.split(":", 1)[0]).expanduser()
    if snapshot:
        return folder / file.name
    return file if file.is_absolute() else base / file


def load_adapter(path: Path, function: str) -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location(f"kpi_adapter_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise ValueError(f"{path} has no function {function}()")
    return fn  # type: ignore[no-any-return]


def reshape(raw: RawTable, source: Any, file: str, adapter: Path | None) -> tuple[RawTable | None, list[Problem]]:
    """Apply an export mapping to a file's cells; problems name the file and the header or adapter (None: adapter failed).

    A mapping that maps nothing is a problem, never a silent no-op: a `columns`
    entry whose header the file lacks, a `values` code that no cell of its column
    holds (codes are compared with cells as written, ordinary spaces around them
    aside).
    """
    problems: list[Problem] = []
    frame = raw.frame
    if adapter is not None:
        function = source.adapter.split(":", 1)[1] if ":" in source.adapter else "adapt"
        try:
            frame = load_adapter(adapter, function)(frame.copy(), dict(source.options))
        except Exception as exc:  # noqa: BLE001 - the user's code: report it as a problem of this table
            return None, [Problem(file=str(adapter), message=f"adapter {function}() failed on {file}: {type(exc).__name__}: {exc}")]
        if not isinstance(frame, pd.DataFrame):
            return None, [Problem(file=str(adapter), message=f"adapter {function}() returned {type(frame).__name__}; expected a pandas DataFrame")]
    headers = {str(h).strip(): h for h in frame.columns}
    renames = {}
    for column, header in source.columns.items():
        if str(header) not in headers:
            near = [h for h in headers if fold(h) == fold(str(header))]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(Problem(file=file, row=raw.header_row, column=str(header), message=f"the mapping reads {column} from header {header!r}, which the file does not have{hint}"))
            continue
        renames[headers[str(header)]] = column
    frame = frame.rename(columns=renames)
    letters = {renames.get(h, h): letter for h, letter in raw.letters.items()}
    for column, codes in source.values.items():
        if column not in frame or column not in source.columns:
            continue  # params validation requires values only on columns mapped through `columns`; a missing header is reported above
        cells = frame[column]
        present = {cell_text(c).strip(" \t") for c in cells if not _blank(c)}
        lookup = {str(k).strip(" \t"): v for k, v in codes.items()}
        for code in lookup:
            if code not in present:
                shown = ", ".join(sorted(present)[:8]) or "no value at all"
                problems.append(
                    Problem(file=file, row=raw.header_row, column=str(source.columns[column]), value=code, message=f"the mapping's values.{column} code matches no value of this column (the file holds {shown}); expected codes as the file writes them")
                )
        frame[column] = cells.map(lambda cell, lookup=lookup: cell if _blank(cell) else lookup.get(cell_text(cell).strip(" \t"), cell))
    for column, value in source.constants.items():
        frame[column] = value
    return RawTable(frame, raw.header_row, letters, list(raw.problems)), problems


def _blank(cell: Any) -> bool:
    return cell is None or isinstance(cell, BadCell) or (isinstance(cell, str) and not cell.strip(" \t\r\n"))
