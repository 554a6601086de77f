"""Why did my score change? Compare two department runs indicator by indicator.

`diff_runs(a, b)` takes two department output folders (a run and its re-run in
`history/`, two periods, two departments) and, from their manifests, results
and `inputs/` copies, says per indicator: the old and new value and score, and
the reasons: which parameters changed (after period overrides; a table's own, such
as the rows `tables.<table>.exclude` leaves out, for the indicators reading it), which input
tables changed, and which of the department's rows were added, removed or
edited (by the table's key, with spreadsheet row numbers and old → new values).

Each folder in a period's folder (or its `history/`) is verified first (its manifest, outputs, sign-off log and stored
inputs, as `kpi verify` checks a `history/` entry): one that fails is refused, so a
forged history total is never shown as what was signed. Like `kpi verify`, it executes no code: a table read through an adapter is read
from the frame the run kept (`inputs/adapted/`), never by importing the adapter.
A manifest or result that is missing a field is an `AuditError` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..base.errors import AuditError, KpiError, UsageError
from ..base.files import read_json
from ..base.layout import HISTORY, INPUTS, MANIFEST, PARTITIONS, RESULT
from ..inputs.params import TableSource
from ..inputs.partitions import PartitionFolder
from ..inputs.period import Period
from ..inputs.sources import no_code
from ..inputs.tables import DataFolder
from ..inputs.template import Template, load_template
from ..inputs.zones import fold_column, is_fold_column
from .trail import recorded_department, verify_department

MAX_ROWS = 20


@dataclass
class RunFolder:
    path: Path
    manifest: dict[str, Any]
    result: dict[str, Any] | None
    template: Template
    _data: DataFolder | None = None

    @classmethod
    def open(cls, path: Path) -> RunFolder:
        if not (path / MANIFEST).is_file():
            raise UsageError(
                f"{path}: no manifest.json; expected a department folder written by kpi run (or one of its history/ entries)"
            )
        manifest = read_json(path / MANIFEST)
        for key in ("department", "period"):
            if not isinstance(manifest.get(key), str):
                raise AuditError(f"{path / MANIFEST}: no {key}; expected a manifest written by kpi run")
        result = read_json(path / RESULT) if (path / RESULT).is_file() else None
        if result is not None:
            items = result.get("indicators")
            if not (
                "total" in result
                and "grade" in result
                and isinstance(items, list)
                and all(
                    isinstance(i, dict) and {"id", "value", "score"} <= set(i) and isinstance(i["id"], str)
                    for i in items
                )
            ):
                raise AuditError(
                    f"{path / RESULT}: expected the object kpi score --json prints (total, grade, indicators with id, value and score)"
                )
        try:
            template = load_template(str(path / INPUTS / "template.yaml"))
        except KpiError:
            template = load_template()
        return cls(path, manifest, result, template)

    def tables(self) -> dict[str, dict[str, Any]]:
        """Per table: its file's path and one sha256 over its file and adapter (if any), or its query's kept result."""
        found: dict[str, dict[str, Any]] = {}
        inputs = self.manifest.get("inputs")
        entries = inputs.get("tables") if isinstance(inputs, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if not (
                isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("table", "path", "sha256"))
            ):
                raise AuditError(f"{self.path / MANIFEST}: inputs.tables has an entry without table, path and sha256")
            known = found.setdefault(entry["table"], {"path": entry["path"], "sha256": ""})
            known["sha256"] += entry["sha256"]
        queries = inputs.get("queries") if isinstance(inputs, dict) else None
        for entry in queries if isinstance(queries, list) else []:  # a table read from a database: its kept result
            if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("table", "url", "sha256"))):
                raise AuditError(f"{self.path / MANIFEST}: inputs.queries has an entry without table, url and sha256")
            found[entry["table"]] = {"path": f"{entry['url']}: {entry.get('query', '')}", "sha256": entry["sha256"]}
        return found

    def rows(self, table: str) -> pd.DataFrame:
        if self._data is None:  # the department's own rows as the run kept them (older runs: copies of the files)
            department = recorded_department(self.path)
            kept = self.path / INPUTS
            self._data = (
                PartitionFolder(department, kept) if (kept / PARTITIONS).is_dir() else DataFolder.of(department)
            )
        frame = self._data.table(table).frame
        mine: pd.Series[bool] = frame["department"] == self.manifest["department"]
        return frame[mine]


@dataclass
class TableChange:
    table: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.edited)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            if key == "periods":
                continue
            out.update(_flatten(inner, f"{prefix}{key}."))
        return out
    if isinstance(value, (list, tuple)):
        return {prefix[:-1]: repr(value)}
    return {prefix[:-1]: value}


def _key_of(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    columns = list(key) or [c for c in frame.columns if c != "_row" and not is_fold_column(c)]
    return frame[columns].astype(str).agg(" | ".join, axis=1)


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S").replace(" 00:00:00", "")
    return str(value)


def _shown(row: pd.Series, column: str) -> str:
    """A row's cell for the diff; a time in the second of a repeated hour says so (`kpi_lib.inputs.zones`)."""
    second = row.get(fold_column(column))
    return _cell(row[column]) + (" (the second time: clocks went back)" if pd.notna(second) and bool(second) else "")


def table_change(a: RunFolder, b: RunFolder, table: str) -> TableChange:
    """The department's rows added, removed and edited between the two runs' copies of a table."""
    change = TableChange(table)
    spec = b.template.tables.get(table)
    if spec is None or table not in a.template.tables:
        return change  # a table the template does not know: only its hash can be compared
    old, new = a.rows(table), b.rows(table)
    old_keys, new_keys = _key_of(old, spec.key), _key_of(new, spec.key)
    old_by = {k: r for k, (_, r) in zip(old_keys, old.iterrows(), strict=False)}
    new_by = {k: r for k, (_, r) in zip(new_keys, new.iterrows(), strict=False)}
    columns = [c.name for c in spec.columns]
    for key in new_by.keys() - old_by.keys():
        change.added.append(f"row {new_by[key]['_row']} ({key})")
    for key in old_by.keys() - new_by.keys():
        change.removed.append(f"row {old_by[key]['_row']} ({key})")
    for key in sorted(old_by.keys() & new_by.keys()):
        before, after = old_by[key], new_by[key]
        edits = [
            f"{c}: {_shown(before, c)} → {_shown(after, c)}" for c in columns if _shown(before, c) != _shown(after, c)
        ]
        if edits:
            change.edited.append(f"row {before['_row']} → {after['_row']} ({key}): {'; '.join(edits)}")
    change.added.sort()
    change.removed.sort()
    return change


def _in_outputs(path: Path) -> bool:
    """True for a `history/` entry or a folder of a period's folder (`outputs/<period>/<dept>`), where `kpi run` writes."""
    place = Path(os.path.abspath(path))
    if place.parent.name == HISTORY:
        return True
    try:
        Period.parse(place.parent.name)
    except KpiError:
        return False
    return True


def _verified(path: Path) -> None:
    """A folder whose files no longer match its manifest (a `history/` entry edited …) is refused: its numbers are not shown as true.

    What the run kept is checked (its manifest, outputs, sign-off log and stored
    inputs); the company's files, which have moved on since, are not.
    """
    if not (path / MANIFEST).is_file() or not _in_outputs(path):
        return  # RunFolder.open says what is missing; a folder outside outputs/ is not a run's place
    report = verify_department(path, history_entry=True)
    if report.differences or report.broken:
        found = [*report.differences, *report.broken]
        raise AuditError(
            "\n".join(
                [
                    f"{path}: fails verification, so its numbers are not shown (kpi verify names every problem):",
                    *found[:5],
                    *([f"… and {len(found) - 5} more"] if len(found) > 5 else []),
                ]
            )
        )


def diff_runs(path_a: Path, path_b: Path) -> list[str]:
    """Readable lines: totals, then per indicator the change and its reasons (no code runs)."""

    with no_code("kpi diff"):
        return _diff_runs(path_a, path_b)


def _diff_runs(path_a: Path, path_b: Path) -> list[str]:
    for path in (path_a, path_b):
        _verified(path)
    a, b = RunFolder.open(path_a), RunFolder.open(path_b)
    lines = [f"A: {a.path} ({a.manifest['department']} {a.manifest['period']}, {a.manifest.get('created', '')})"]
    lines.append(f"B: {b.path} ({b.manifest['department']} {b.manifest['period']}, {b.manifest.get('created', '')})")
    if a.result is None or b.result is None:
        missing = a.path if a.result is None else b.path
        raise AuditError(f"{missing}: no result.json (the department failed in that run); nothing to compare")
    lines.append(f"total: {a.result['total']} → {b.result['total']}; grade: {a.result['grade']} → {b.result['grade']}")

    params_a, params_b = (
        _without_defaults(_flatten(a.manifest.get("effective_params") or {})),
        _without_defaults(_flatten(b.manifest.get("effective_params") or {})),
    )
    changed_params = {
        k: (params_a.get(k), params_b.get(k))
        for k in sorted(params_a.keys() | params_b.keys())
        if params_a.get(k) != params_b.get(k)
    }
    tables_a, tables_b = a.tables(), b.tables()
    changed_tables: dict[str, TableChange] = {}
    for table in sorted(tables_a.keys() | tables_b.keys()):
        if tables_a.get(table, {}).get("sha256") != tables_b.get(table, {}).get("sha256"):
            changed_tables[table] = (
                table_change(a, b, table) if table in tables_a and table in tables_b else TableChange(table)
            )

    read = {t for i in b.template.indicators for t in i.tables()} | {"observations"}
    shared = [k for k in changed_params if not k.startswith("indicators.") and _params_table(k) not in read]
    if shared:
        lines.append(
            "parameters changed for every indicator: "
            + "; ".join(f"{k}: {_v(v[0])} → {_v(v[1])}" for k in shared for v in [changed_params[k]])
        )
    old_items = {i["id"]: i for i in a.result["indicators"]}
    for item in b.result["indicators"]:
        iid = item["id"]
        before = old_items.get(iid)
        if before is None:
            lines.append(f"{iid}: new in B: value {item['value']}, score {item['score']}")
            continue
        reasons = [
            f"parameter {k}: {_v(v[0])} → {_v(v[1])}"
            for k, v in changed_params.items()
            if k.startswith(f"indicators.{iid}.")
        ]
        indicator = b.template.indicator(iid) if iid in b.template.ids else None
        used = indicator.tables() if indicator is not None else ()
        if item.get("status") == "observed" or before.get("status") == "observed":
            used = (*used, "observations")
        reasons += [  # how a table is read (its mapping, the rows it excludes) is a reason of those that read it
            f"parameter {k}: {_v(v[0])} → {_v(v[1])}" for k, v in changed_params.items() if _params_table(k) in used
        ]
        for table in used:
            if table in changed_tables:
                change = changed_tables[table]
                reasons.append(
                    f"input {table} changed: {len(change.added)} row(s) added, {len(change.removed)} removed, {len(change.edited)} edited"
                )
        same = all(before.get(k) == item.get(k) for k in ("value", "score", "status", "target", "weight"))
        if same and not reasons:
            continue
        head = f"{iid}: value {before['value']} → {item['value']}, score {before['score']} → {item['score']}"
        if before.get("status") != item.get("status"):
            head += f", status {before['status']} → {item['status']}"
        lines.append(head)
        lines.extend(
            f"    because {r}"
            for r in reasons or ["of the scoring policy or rows outside this department's tables (see above)"]
        )
    for table, change in changed_tables.items():
        if not change.count:
            lines.append(f"input {table}: file changed, but not this department's rows")
            continue
        lines.append(f"input {table} ({tables_b.get(table, tables_a.get(table, {})).get('path', '')}):")
        for kind, entries in (("added", change.added), ("removed", change.removed), ("edited", change.edited)):
            for entry in entries[:MAX_ROWS]:
                lines.append(f"    {kind}: {entry}")
            if len(entries) > MAX_ROWS:
                lines.append(f"    … {len(entries) - MAX_ROWS} more {kind}")
    return lines


TABLE_DEFAULTS = _flatten(TableSource().model_dump(mode="json"))


def _without_defaults(flat: dict[str, Any]) -> dict[str, Any]:
    """The flattened params without a table's keys left at their defaults (a table entry added for its
    `exclude` has not changed `allow_no_rows`)."""
    return {
        k: v
        for k, v in flat.items()
        if not (_params_table(k) and k.split(".", 2)[2] in TABLE_DEFAULTS and TABLE_DEFAULTS[k.split(".", 2)[2]] == v)
    }


def _params_table(key: str) -> str | None:
    """The table a flattened params key is about (`tables.feedback.exclude.F1` → feedback), or None."""
    parts = key.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "tables" else None


def _v(value: Any) -> str:
    return "(unset)" if value is None else str(value)
