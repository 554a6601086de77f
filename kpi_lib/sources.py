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

Keys of `values` are compared as text; quote them in YAML anyway ("Y", "No").
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import Problem


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


def reshape(raw: pd.DataFrame, source: Any, file: str, adapter: Path | None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Apply an export mapping to a raw frame; problems name the file and the header or adapter (frame None: adapter failed)."""
    problems: list[Problem] = []
    frame = raw
    if adapter is not None:
        function = source.adapter.split(":", 1)[1] if ":" in source.adapter else "adapt"
        try:
            frame = load_adapter(adapter, function)(raw.copy(), dict(source.options))
        except Exception as exc:  # noqa: BLE001 - the user's code: report it as a problem of this table
            return None, [Problem(file=str(adapter), message=f"adapter {function}() failed on {file}: {type(exc).__name__}: {exc}")]
        if not isinstance(frame, pd.DataFrame):
            return None, [Problem(file=str(adapter), message=f"adapter {function}() returned {type(frame).__name__}; expected a pandas DataFrame")]
    headers = {str(h).strip(): h for h in frame.columns}
    renames = {}
    for column, header in source.columns.items():
        if str(header) not in headers:
            problems.append(Problem(file=file, row=1, column=str(header), message=f"the mapping reads {column} from header {header!r}, which the file does not have"))
            continue
        renames[headers[str(header)]] = column
    frame = frame.rename(columns=renames)
    for column, codes in source.values.items():
        if column in frame:
            lookup = {str(k).strip(): v for k, v in codes.items()}
            frame[column] = frame[column].map(lambda cell, lookup=lookup: lookup.get(str(cell).strip(), cell) if not _blank(cell) else cell)
    for column, value in source.constants.items():
        frame[column] = value
    return frame, problems


def _blank(cell: Any) -> bool:
    try:
        return bool(pd.isna(cell)) or (isinstance(cell, str) and not cell.strip())
    except (TypeError, ValueError):
        return False
