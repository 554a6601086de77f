"""The audit trail: manifests, verification, sign-off bound to the evidence, history.

Per department and period, `outputs/<period>/<dept>/` holds:

- `inputs/`: exact copies of every input the run used, taken before the notebooks
  start (layout in `snapshot`): `params.yaml`, `company.yaml` (the company file
  the params name, if they name one), `template.yaml`, the table files
  under `data/` at their paths inside the data folder, adapters' sources under
  `adapters/`, and the frame each adapter returned as `adapted/<table>.parquet`.
  `kpi verify --recompute` and `kpi diff` read these, so a run stays
  reproducible after the company's data files move on, and no code runs.
- `manifest.json`, written last: the department id, the period and the status
  (`ok` or `failed`); sha256 of every input (original path and copy, adapters'
  sources and outputs included); the effective parameters after period
  overrides; package versions, Python, the toolkit's version and git commit; the
  time; sha256 of every output file (`outputs`) and of the sign-off views
  (`views`: `scorecard.html`, `scorecard.audit.html`, `scorecard.xlsx`, which
  `kpi sign` re-renders to show the signatures).
- `signoffs.jsonl`: append-only sign-off records, chained by the sha256 of the
  previous line, each optionally signed with Ed25519 over its canonical
  encoding (the record without `signature` as sorted-key, whitespace-free UTF-8
  JSON); the format and its checks are in `signoff`.

`outputs/<period>/manifest.json` records the period and covers the period's
`index.html`, `summary.csv`, `summary.xlsx` and the sha256 of each department's
manifest, and (`pdfs`) each PDF printed under `pdf/<dept>/` with the sha256 of
the page it was printed from (`record_pdfs`): verify names an edited, deleted,
added or stale PDF (`check_pdfs`). `kpi sign` renders the summaries again (they
show each department's sign-off state) and prints the department's PDFs again.

`verify_period` never executes code (an adapter is never imported: see
`sources.no_code`). It re-hashes everything against the manifests and names every
difference (changed, deleted, added); checks each department folder's identity
(the department and period its manifest, `result.json` and `department.json`
record against the folder's name and place, so swapped folders show); checks the
summary files value by value against the departments' `result.json`
(`crosscheck`); and judges every line of each sign-off log: a line that is not a
record is broken (named by its line number), a record is broken when its chain,
its manifest, the files it covers or its Ed25519 signature do not hold. With
`recompute` it recomputes every department that has a `result.json`, whatever
its manifest says, from `inputs/`, and compares with `result.json` and the
results recorded in the executed notebooks. A missing or unreadable file of one
department is named and the others are still verified.

A changed HTML page is explained, not only hashed: `explain_page` renders it again
from the executed notebook (and the sign-off log, for the scorecard's pages) and
`pagediff` names the first values that differ under the difference's line
(`scorecard.html: total 96.54 → 99.99`); the index likewise from the departments'
results. `Report.closing_line` sums a check up in one line (`verify: 0 problems in
54 outputs`, `verify: 3 problems in 2 departments`); a problem is one difference or
one broken sign-off record.

History: a signed run replaced by `kpi run --force --reason` moves whole into
`<dept>/history/<time>/` (`keep_history`, named `2026-12-06T21-24-26` by
`history_name`). The department's manifest lists its entries with the sha256 of
each entry's manifest (`history`, from `planned_history`), so a deleted, added or
changed entry is a difference; each entry is verified as a department is, its
company files aside (`check_history`). `stored_names` keeps every store file a
history entry refers to.

Reuse: a company table file that changed since a department's run is a
difference only when the department's own rows in it changed; when only other
departments' rows did (the department was reused), it is a note: its partition
is the evidence (`_rows_moved`).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..base import clock
from ..base.errors import AuditError, KpiError, SetupError, UsageError, shorten
from ..base.files import read_json, sha256_bytes, sha256_file, versions, write_atomic, write_json
from ..base.layout import (
    ADAPTERS,
    COMPANY_COPY,
    DATA,
    DEPARTMENT,
    ERROR,
    HISTORY,
    INDEX,
    INPUTS,
    MANIFEST,
    PARAMS_COPY,
    PARTITIONS,
    PDFS,
    PERIOD_FILES,
    RESULT,
    SCORECARD,
    SIGNOFFS,
    SOURCES,
    SOURCES_JSON,
    SUMMARY_CSV,
    SUMMARY_XLSX,
    TEMPLATE_COPY,
    VIEWS,
    DepartmentFolder,
    adapted_copy,
    audit_html,
    partition,
    query_copy,
    reader_html,
    stored,
)
from ..base.messages import say
from ..inputs.params import DEPARTMENT_ID, Department, load_params
from ..inputs.partitions import partition_bytes, recorded_file, write_partition, write_sources
from ..inputs.period import Period
from ..inputs.scope import Scope
from ..inputs.signing import current_manifest, roles_of, rounds_of
from ..inputs.snapshot import write_frame
from ..inputs.sources import inside, no_code
from ..inputs.tables import DataFolder
from ..reports import executed
from ..reports.convert import PLACEHOLDER, font_css, language_and_names, notebook_html, notebook_node_html, render_index
from ..reports.dashboard import Sources, check_sources, read_sources, recorded_sources
from ..reports.exports import html_to_pdf, scorecard_xlsx
from ..reports.summary import read_meta
from ..scoring.appraisal import appraise, tables_needed
from ..scoring.result import DepartmentResult, IndicatorRecord
from ..words.pages import signoff_html
from . import signoff
from .consistency import trend_notes
from .crosscheck import Expected, check_csv, check_index, check_xlsx, ranked, same_sheets
from .pagediff import explain, key_values, missing_values
from .signoff import ROLES, canonical, check_signatures, is_override, is_signed, read_log, read_signoffs

Hasher = Callable[[Path], str]  # a file's sha256: `sha256_file`, or an incremental run's `StatMemo.sha256`

__all__ = [
    "HISTORY",
    "INPUTS",
    "MANIFEST",
    "ROLES",
    "SIGNOFFS",
    "Report",
    "build_manifest",
    "canonical",
    "is_signed",
    "check_history",
    "history_name",
    "keep_history",
    "planned_history",
    "read_log",
    "read_signoffs",
    "outputs_changed",
    "record_pdfs",
    "refresh_pdfs",
    "recorded_department",
    "recorded_inputs",
    "refresh_period",
    "render_views",
    "scorecard_xlsx_bytes",
    "sign",
    "snapshot_inputs",
    "verify_department",
    "verify_period",
    "write_period_manifest",
]


# -- writing --------------------------------------------------------------------------------
def snapshot_inputs(
    department: Department,
    period: Period,
    folder: Path,
    *,
    data: DataFolder | None = None,
    store: Path | None = None,
    stored_files: dict[Path, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Keep what the department's period was computed from; return the manifest's input section.

    Into `folder/inputs/`: the params and template, adapters' sources under
    `adapters/`, the department's partition of every table it needs
    (`tables/<table>.parquet`, its own rows only: see `partitions`) and
    `sources.json` (each table's full source: path and sha256). The full source
    files, and the frames adapters returned, go once into the period's store
    (`store`, default `<period>/.sources/`), named by their sha256, where
    `kpi verify --recompute` reads them back. `data` is the run's shared view of
    the tables (each read once per run), `stored_files` the run's record of full
    sources already stored (path → sha256 and stored name: each file is read,
    hashed and stored once per run, not once per department). Raises `AuditError` when an adapter
    returned something that cannot be kept exactly, `OutputError` when a write is refused.
    """
    target = folder / INPUTS
    target.mkdir(parents=True, exist_ok=True)
    store = store or _store_of(folder)

    def copy(source: Path, rel: str) -> dict[str, Any]:
        raw = source.read_bytes()
        write_atomic(target / rel, raw)
        return {"path": str(source.resolve()), "sha256": sha256_bytes(raw), "copy": f"{INPUTS}/{rel}"}

    section: dict[str, Any] = {
        "params": copy(department.path, PARAMS_COPY),
        "template": {"id": department.template.id, **copy(Path(department.template.path), TEMPLATE_COPY)},
    }
    # The company file beside the params file; no key at all without one (such manifests stay as they were).
    if department.company is not None:
        section = {"params": section["params"], "company": copy(department.company.path, COMPANY_COPY), **section}
    tables: list[dict[str, Any]] = []
    adapted: list[dict[str, Any]] = []
    queries: list[dict[str, Any]] = []
    partitions: list[dict[str, Any]] = []
    sources: dict[str, dict[str, Any]] = {}
    try:
        params = department.for_period(period)
        names = tables_needed(params, department.template.indicators)
        scope: Scope | None = Scope.of(department.template, params, period)
    except KpiError:
        names, scope = [], None
    data = data or DataFolder.of(department, period)
    for name in names:
        for path in data.files(name):
            if stored_files is None or path not in stored_files:
                raw = path.read_bytes()
                sha = sha256_bytes(raw)
                done = (sha, store_bytes(store, raw, sha, path.suffix.lower()))
                if stored_files is not None:
                    stored_files[path] = done
            sha, kept = done if stored_files is None else stored_files[path]
            rel = path.relative_to(data.folder).as_posix()
            tables.append(
                {"table": name, "role": "file", "path": str(path.resolve()), "sha256": sha, "rel": rel, "stored": kept}
            )
        query = data.query(name)  # a table read from a database: what its query returned, kept like a file
        if query is not None and query.ok:
            queries.append(query.entry(store_bytes(store, query.data, query.sha256, ".parquet")))
        adapter = data.adapter_file(name)
        if adapter is not None:
            rel = adapter.relative_to(data.base_of(name)).as_posix()
            code = copy(adapter, f"{ADAPTERS}/{'company/' if name in data.bases else ''}{rel}")
            tables.append({"table": name, "role": "adapter", **code})
        table = data.table(name)  # runs the adapter (this is `kpi run`); a failure is the department's problem
        if adapter is not None and table.adapted is not None:
            store.mkdir(parents=True, exist_ok=True)
            buffer = store / f".{name}-{os.getpid()}.tmp"
            write_frame(table.adapted, buffer, what=f"{adapter}: the adapter of table {name}")
            raw = buffer.read_bytes()
            buffer.unlink()
            sha = sha256_bytes(raw)
            adapted.append(
                {
                    "table": name,
                    "adapter": data.sources[name].adapter,
                    "adapter_sha256": code["sha256"],
                    "sha256": sha,
                    "stored": store_bytes(store, raw, sha, ".parquet"),
                }
            )
        written = write_partition(table, department.id, target, scope)
        partitions.append(
            {"table": name, "sha256": written.sha256, "rows": written.rows, "copy": f"{INPUTS}/{partition(name)}"}
        )
        sources[name] = {"file": table.file, "sha256": table.sha256}
    kept_sources = write_sources(target, sources)
    section["tables"] = tables
    section["adapted"] = adapted
    if queries:
        section["queries"] = queries
    section["partitions"] = partitions
    section["sources"] = {"sha256": sha256_bytes(kept_sources), "copy": f"{INPUTS}/{SOURCES_JSON}"}
    return section


def store_bytes(store: Path, raw: bytes, sha: str, suffix: str) -> str:
    """Keep a full source in the period's store under its sha256 (once: a good copy already there is kept); its name."""
    name = stored(sha, suffix)
    path = store / name
    if not (path.is_file() and sha256_file(path) == sha):
        store.mkdir(parents=True, exist_ok=True)
        write_atomic(path, raw)
    return name


def _store_of(folder: Path) -> Path:
    """The store of the period a department folder (or staging folder, or history entry) belongs to."""
    place = Path(os.path.abspath(folder))
    if place.parent.name == HISTORY:
        place = place.parent.parent
    return place.parent / SOURCES


def stored_names(period_dir: Path) -> set[str]:
    """Every store entry a manifest of the period (departments and their history) refers to."""
    names: set[str] = set()
    for manifest in [*period_dir.glob(f"*/{MANIFEST}"), *period_dir.glob(f"*/{HISTORY}/*/{MANIFEST}")]:
        try:
            inputs = read_json(manifest).get("inputs", {})
        except AuditError:
            continue
        for kind in ("tables", "adapted", "queries"):
            for entry in inputs.get(kind, []) if isinstance(inputs, dict) else []:
                if isinstance(entry, dict) and isinstance(entry.get("stored"), str):
                    names.add(entry["stored"])
    return names


def output_hashes(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(outputs, views): sha256 of every file the manifest covers, by path relative to `folder`."""
    outputs: dict[str, str] = {}
    views: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if (
            not path.is_file()
            or rel in (MANIFEST, SIGNOFFS)
            or rel.split("/")[0] in (INPUTS, HISTORY)
            or any(p.startswith(".") for p in rel.split("/"))
        ):
            continue
        (views if rel in VIEWS else outputs)[rel] = sha256_file(path)
    return outputs, views


def build_manifest(
    folder: Path,
    *,
    department: str,
    period: str,
    status: str,
    inputs: Mapping[str, Any],
    effective: Any,
    commit: str,
    fingerprint: Mapping[str, Any] | None = None,
    why: str = "",
    history: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The department's manifest; `fingerprint` is what an incremental run compares (see `incremental`), `why` why it ran.

    `history`: the department's `history/` entries after this run, each with the sha256 of its manifest (`planned_history`).
    """
    outputs, views = output_hashes(folder)
    return {
        "schema": 1,
        "department": department,
        "period": period,
        "status": status,
        "created": clock.stamp(),
        "toolkit": {"version": versions()["kpi-appraisal"], "git_commit": commit},
        "python": platform.python_version(),
        "packages": versions(),
        "inputs": dict(inputs),
        "effective_params": effective,
        "outputs": outputs,
        "views": views,
        "fingerprint": dict(fingerprint or {}),
        "why": why,
        "history": dict(sorted((history or {}).items())),
    }


def write_period_manifest(
    period_dir: Path,
    period: str,
    runs: Mapping[str, Mapping[str, str]] | None = None,
    overrides: Iterable[Mapping[str, Any]] = (),
) -> Path:
    """The period's manifest: its files, each department's manifest, and how each department came about.

    `runs` says, for the departments of this run, whether each was reused or ran and
    why; departments left out of this run keep what the previous manifest said.
    `overrides` are the signed runs this run replaced (`kpi run --force --reason`):
    added to those the previous manifest recorded, never dropped.
    """
    files = {name: sha256_file(period_dir / name) for name in PERIOD_FILES if (period_dir / name).is_file()}
    departments = {
        p.name: sha256_file(p / MANIFEST)
        for p in sorted(period_dir.iterdir())
        if p.is_dir() and (p / MANIFEST).is_file()
    }
    before: dict[str, Any] = {}
    try:
        previous = read_json(period_dir / MANIFEST).get("runs") if (period_dir / MANIFEST).is_file() else None
        before = previous if isinstance(previous, dict) else {}
    except AuditError:
        pass
    kept = previous_overrides(period_dir)
    recorded = {name: dict(before[name]) for name in departments if isinstance(before.get(name), dict)}
    recorded.update({name: dict(entry) for name, entry in (runs or {}).items() if name in departments})
    manifest = {
        "schema": 1,
        "period": period,
        "created": clock.stamp(),
        "files": files,
        "departments": departments,
        "runs": dict(sorted(recorded.items())),
    }
    try:  # the printed reports it recorded (`record_pdfs`) stay recorded: verify compares each with its file
        pdfs = read_json(period_dir / MANIFEST).get("pdfs") if (period_dir / MANIFEST).is_file() else None
    except AuditError:
        pdfs = None
    if isinstance(pdfs, dict) and pdfs:
        manifest["pdfs"] = pdfs
    every = [*kept, *(dict(entry) for entry in overrides)]
    if every:
        manifest["overrides"] = every
    write_json(period_dir / MANIFEST, manifest)
    return period_dir / MANIFEST


# -- printed reports ------------------------------------------------------------------------
def record_pdfs(period_dir: Path, departments: Iterable[str]) -> None:
    """Record in the period manifest (`pdfs`) each PDF of these departments under `pdf/<dept>/`: its sha256 and the page it printed.

    `pdfs` maps `<dept>/<page>.pdf` to {sha256, html (the reader's page inside the period
    folder), html_sha256 (that page when it was printed)}: verify names a PDF that was
    edited or deleted, and one made before its page last changed (a signature, a run) as stale.
    """
    path = period_dir / MANIFEST
    if not path.is_file():
        return
    manifest = read_json(path)
    found = manifest.get("pdfs")
    pdfs: dict[str, Any] = found if isinstance(found, dict) else {}
    for department in departments:
        folder = period_dir / PDFS / department
        for printed in sorted(folder.glob("*.pdf")) if folder.is_dir() else []:
            page = period_dir / department / reader_html(printed.stem)
            if printed.is_file() and page.is_file():
                pdfs[f"{department}/{printed.name}"] = {
                    "sha256": sha256_file(printed),
                    "html": f"{department}/{page.name}",
                    "html_sha256": sha256_file(page),
                }
    manifest["pdfs"] = dict(sorted(pdfs.items()))
    write_json(path, manifest)


def check_pdfs(period_dir: Path, manifest: Mapping[str, Any]) -> list[str]:
    """`pdf/` like any other output: each recorded PDF unchanged and printed from its page as it is now; none added."""
    recorded = manifest.get("pdfs", {})
    differences: list[str] = []
    if not isinstance(recorded, dict):
        return [f"{period_dir / MANIFEST}: pdfs is not a mapping of printed reports"]
    base = period_dir / PDFS
    for rel, entry in sorted(recorded.items()):
        printed = _member(base, rel)
        page = _member(period_dir, entry.get("html")) if isinstance(entry, dict) else None
        if printed is None or page is None or not isinstance(entry.get("sha256"), str):
            differences.append(
                f"{period_dir / MANIFEST}: pdfs names {shorten(rel)!r}, which is not a printed report of {base}"
            )
            continue
        if not _compare(printed, entry["sha256"], "printed report (PDF)", differences):
            continue
        now = sha256_file(page) if page.is_file() else None
        if now != entry.get("html_sha256"):
            differences.append(
                f"{printed}: stale: printed before {page.relative_to(period_dir)} last changed (a signature or a run); "
                f"print it again with kpi pdf {period_dir}"
            )
    present = {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()} if base.is_dir() else set()
    for rel in sorted(present - set(recorded)):
        differences.append(f"{base / rel}: printed report added (not in the period manifest); print it with kpi pdf")
    return differences


def refresh_pdfs(folder: Path) -> list[str]:
    """Print again the department's PDFs under `<period>/pdf/<dept>/` whose page changed since; what happened, in lines.

    Without Chromium the PDFs are left as they are (verify names them stale) and the line says so.
    """
    period_dir = folder.parent
    target = period_dir / PDFS / folder.name
    if not target.is_dir():
        return []
    try:
        manifest = read_json(period_dir / MANIFEST) if (period_dir / MANIFEST).is_file() else {}
    except AuditError:
        manifest = {}
    found = manifest.get("pdfs")
    recorded: dict[str, Any] = found if isinstance(found, dict) else {}
    lines: list[str] = []
    for printed in sorted(target.glob("*.pdf")):
        page = folder / reader_html(printed.stem)
        entry = recorded.get(f"{folder.name}/{printed.name}")
        if not page.is_file() or (isinstance(entry, dict) and entry.get("html_sha256") == sha256_file(page)):
            continue
        try:
            html_to_pdf(page, printed)
        except SetupError as exc:
            lines.append(f"{printed}: not printed again, now stale ({exc}); then run kpi pdf {period_dir}")
            continue
        lines.append(f"{printed}: printed again with the signatures")
    if any(line.endswith("with the signatures") for line in lines):
        record_pdfs(period_dir, [folder.name])
    return lines


def previous_overrides(period_dir: Path) -> list[dict[str, Any]]:
    """The overrides of signed runs the period's manifest records (none when it has no readable manifest)."""
    try:
        found = read_json(period_dir / MANIFEST).get("overrides") if (period_dir / MANIFEST).is_file() else None
    except AuditError:
        return []
    return [dict(entry) for entry in found if isinstance(entry, dict)] if isinstance(found, list) else []


# -- reading --------------------------------------------------------------------------------
def _member(folder: Path, rel: Any) -> Path | None:
    """`folder/rel` when `rel` (from a manifest) is a plain relative path that stays inside `folder`; else None."""
    if (
        not isinstance(rel, str)
        or not rel
        or "\x00" in rel
        or rel.startswith(("/", "\\"))
        or ".." in rel.replace("\\", "/").split("/")
    ):
        return None
    path = folder / rel
    return path if inside(folder, path) else None


# -- verification ---------------------------------------------------------------------------
@dataclass
class Report:
    """What `kpi verify` found: differences (each fails the check) and signature verdicts."""

    differences: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # the verdicts of `signatures` that are broken
    notes: list[str] = field(default_factory=list)  # worth saying, never a failure (another period moved on)
    checked: int = 0
    departments: set[str] = field(default_factory=set)  # the departments (folder names) with a problem
    department_problems: int = 0  # of `problems`, those found in the department folders

    @property
    def ok(self) -> bool:
        return not self.differences and not self.broken

    @property
    def problems(self) -> int:
        """How many problems: each difference (a file or value changed, deleted, added or unreadable) and each broken
        sign-off record counts one; notes and good signatures count none."""
        return len(self.differences) + len(self.broken)

    def closing_line(self) -> str:
        """`verify: 0 problems in 54 outputs`, or `verify: 3 problems in 2 departments` (or in the period's own files)."""
        if self.ok:
            return f"verify: 0 problems in {self.checked} output{'' if self.checked == 1 else 's'}"
        n, count = self.problems, len(self.departments)
        places = [f"{count} department{'' if count == 1 else 's'}"] if count else []
        if n > self.department_problems:
            places.append("the period's own files")
        return f"verify: {n} problem{'' if n == 1 else 's'} in {' and '.join(places)}"

    def verdict(self, line: str, *, broken: bool) -> None:
        self.signatures.append(line)
        if broken:
            self.broken.append(line)

    def add(self, other: Report) -> None:
        self.differences.extend(other.differences)
        self.signatures.extend(other.signatures)
        self.broken.extend(other.broken)
        self.notes.extend(other.notes)
        self.checked += other.checked
        self.departments |= other.departments
        self.department_problems += other.department_problems


def _compare(path: Path, expected: Any, label: str, out: list[str], hasher: Hasher = sha256_file) -> bool:
    try:
        present = path.is_file()
    except (OSError, ValueError) as exc:  # a recorded path too long to be a path, or with a NUL byte
        out.append(f"{shorten(path, 120)}: {label} cannot be looked up ({shorten(exc, 120)})")
        return False
    if not present:
        out.append(f"{path}: {label} deleted (expected sha256 {expected})")
        return False
    try:
        found = hasher(path)
    except OSError as exc:
        out.append(f"{path}: {label} cannot be read ({exc.strerror or exc})")
        return False
    if found != expected:
        out.append(f"{path}: {label} changed: expected sha256 {expected}, found {found}")
        return False
    return True


def _identity(folder: Path) -> tuple[str, str | None]:
    """(department, period) a department folder's place says: `<period>/<dept>` or `<period>/<dept>/history/<time>`.

    The place is the path as given (made absolute, symlinks not resolved): the
    names a person sees, so a symlink cannot lend a folder another's identity.
    """
    place = Path(os.path.abspath(folder))
    if place.parent.name == HISTORY:
        place = place.parent.parent
    try:
        period: str | None = str(Period.parse(place.parent.name)) if place.parent.name else None
    except KpiError:
        period = None  # a department folder copied somewhere else: its folder name still says which it is
    return place.name, period


def _hashes(folder: Path, manifest: Mapping[str, Any], key: str, diffs: list[str]) -> dict[str, str]:
    """A manifest's `outputs` or `views` as {relative path: sha256}; a difference for each entry that is not one."""
    entries = manifest.get(key, {})
    if not isinstance(entries, dict):
        diffs.append(f"{folder / MANIFEST}: {key} is not a mapping of files to sha256")
        return {}
    found = {}
    for rel, sha in entries.items():
        if _member(folder, rel) is None or not isinstance(sha, str):
            diffs.append(f"{folder / MANIFEST}: {key} names {shorten(rel)!r}, which is not a file inside {folder}")
            continue
        found[rel] = sha
    return found


STORED_NAME = re.compile(r"[0-9a-f]{64}\.[a-z]+")


def _input_entries(
    folder: Path, manifest: Mapping[str, Any], diffs: list[str]
) -> list[tuple[str, Mapping[str, Any], Path]]:
    """The manifest's inputs as (kind, entry, the kept file); a difference for each entry that is malformed.

    A kept file is a copy inside `inputs/` (`copy`) or a full source in the
    period's store (`stored`, a sha256 name). The params and template copies may
    be absent only for a department that failed before anything was copied (bad
    params): one with a result must have them.
    """
    inputs = manifest.get("inputs", {})
    if not isinstance(inputs, dict):
        diffs.append(f"{folder / MANIFEST}: inputs is not a mapping")
        return []
    entries: list[tuple[str, Any]] = [("params", inputs.get("params")), ("template", inputs.get("template"))]
    if "company" in inputs:
        entries.append(("company", inputs["company"]))
    if "sources" in inputs:
        entries.append(("sources", inputs["sources"]))
    for kind in ("tables", "adapted", "queries", "partitions"):
        listed = inputs.get(kind, [])
        if not isinstance(listed, list):
            diffs.append(f"{folder / MANIFEST}: inputs.{kind} is not a list")
            continue
        entries += [(kind, e) for e in listed]
    good: list[tuple[str, Mapping[str, Any], Path]] = []
    store = _store_of(folder)
    for kind, entry in entries:
        if entry is None and kind in ("params", "template"):
            if manifest.get("status") == "ok" or (folder / RESULT).is_file():
                diffs.append(f"{folder / MANIFEST}: inputs.{kind} is missing, but the department has a result")
            continue
        has_path = kind in ("params", "company", "template", "tables")
        path_ok = not has_path or (
            isinstance(entry, dict) and isinstance(entry.get("path"), str) and "\x00" not in entry["path"]
        )
        copy = entry.get("copy") if isinstance(entry, dict) else None
        name = entry.get("stored") if isinstance(entry, dict) else None
        kept: Path | None = None
        if isinstance(copy, str) and copy.startswith(f"{INPUTS}/"):
            kept = _member(folder, copy)
        elif kind in ("tables", "adapted", "queries") and isinstance(name, str) and STORED_NAME.fullmatch(name):
            kept = store / name
        if not (isinstance(entry, dict) and path_ok and isinstance(entry.get("sha256"), str) and kept is not None):
            diffs.append(
                f"{folder / MANIFEST}: inputs.{kind} has an entry that is not a recorded file inside {folder / INPUTS} "
                f"or the period's store {store}: {shorten(json.dumps(entry, ensure_ascii=False, default=str))}"
            )
            continue
        good.append((kind, entry, kept))
    return good


def verify_department(
    folder: Path, *, recompute: bool = False, pubkey: Path | None = None, history_entry: bool = False
) -> Report:
    """Verify one department folder: identity, every hash, optionally every score, the sign-off log and its history.

    A missing or unreadable manifest or `result.json` is a difference naming the
    file; whatever can still be checked is checked. A table file of the company's
    that changed since the run is a difference only when the department's own rows
    in it changed: a reused department (other departments' rows of a shared file
    changed) keeps its partition as the evidence, and the new version is a note
    (`_rows_moved`). `history_entry`: the folder is a `history/` entry (see `check_history`).
    """
    report = Report()
    diffs = report.differences
    manifest_path = folder / MANIFEST
    expected_department, expected_period = _identity(folder)
    manifest: dict[str, Any] = {}
    if not manifest_path.is_file():
        diffs.append(f"{manifest_path}: manifest deleted or never written")
    else:
        try:
            manifest = read_json(manifest_path)
        except AuditError as exc:
            diffs.extend(exc.lines())
    result: dict[str, Any] | None = None
    if (folder / RESULT).is_file():
        try:
            result = read_json(folder / RESULT)
        except AuditError as exc:
            diffs.extend(exc.lines())
    period = _check_identity(folder, manifest, result, expected_department, expected_period, diffs)
    if manifest:
        copies = set()
        moved: list[Mapping[str, Any]] = []
        for kind, entry, kept in _input_entries(folder, manifest, diffs):
            if kind in ("params", "company", "template") and not history_entry:
                _compare(Path(entry["path"]), entry["sha256"], "input", diffs)
            elif kind == "tables" and not history_entry:
                found: list[str] = []
                if _compare(Path(entry["path"]), entry["sha256"], "input", found):
                    pass
                elif _is_file(Path(entry["path"])):
                    moved.append(entry)  # the company's file moved on: its rows decide (`_rows_moved`)
                else:
                    diffs.extend(found)
            if "copy" in entry:
                _compare(kept, entry["sha256"], "recorded input copy", diffs)
                copies.add(entry["copy"])
            else:
                _compare(kept, entry["sha256"], f"stored source of {shorten(entry.get('table'))}", diffs)
        for path in sorted((folder / INPUTS).rglob("*")):
            if (
                not path.is_dir() and path.relative_to(folder).as_posix() not in copies
            ):  # files, links, FIFOs, sockets …
                diffs.append(f"{path}: recorded input added (not in the manifest)")
        for path in sorted(folder.rglob("*")):
            if not (path.is_dir() or path.is_file()) or (
                path.is_symlink() and INPUTS not in path.relative_to(folder).parts
            ):
                diffs.append(f"{path}: not a regular file (a link, FIFO or device); a run writes none")
        report.checked += _check_outputs(folder, manifest, diffs, explained=True)
        if moved:
            _rows_moved(folder, manifest, moved, report)
    if recompute and (folder / RESULT).is_file():  # whatever the manifest claims
        if period is None:
            diffs.append(
                f"{folder}: cannot recompute: no period (the manifest does not say, nor does the folder's place)"
            )
        else:
            diffs.extend(recompute_department(folder, period))
    if manifest_path.is_file():
        check_signatures(folder, manifest_path, read_log(folder), report, pubkey)
    if manifest and not history_entry:
        report.add(check_history(folder, manifest, recompute=recompute, pubkey=pubkey))
    if not report.ok:  # one department (its history entries' problems are its own)
        report.departments = {folder.name}
        report.department_problems = report.problems
    return report


def _is_file(path: Path) -> bool:
    """`path.is_file()`, False for a path the system cannot even look up (too long, a bad byte): a manifest is evidence."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _rows_moved(folder: Path, manifest: Mapping[str, Any], moved: list[Mapping[str, Any]], report: Report) -> None:
    """Company files that changed since the run: a note when the department's own rows in them are the same, else a difference.

    The files now are read as the run read its stored copies (`recorded_inputs` with
    `current=True`: no code runs), and each table's partition recomputed from them is
    compared with the one the run kept. A table read through an adapter cannot be
    read again without running code: its change stays a difference.
    """
    tables = {str(entry.get("table")) for entry in moved}

    def changed(entry: Mapping[str, Any]) -> str:
        return f"{entry['path']}: input changed: expected sha256 {entry['sha256']}, found {sha256_file(Path(entry['path']))}"

    inputs = manifest.get("inputs", {})
    adapted = {e.get("table") for e in inputs.get("adapted", []) if isinstance(e, dict)}
    partitions = {e.get("table"): e.get("sha256") for e in inputs.get("partitions", []) if isinstance(e, dict)}
    if adapted & tables or not tables <= set(partitions):
        report.differences.extend(changed(entry) for entry in moved)
        return
    try:
        period = Period.parse(str(manifest.get("period")))
        with recorded_inputs(folder, current=True) as (department, shown):
            data = DataFolder.of(department, period)
            scope = Scope.of(department.template, department.for_period(period), period)
            again = {}
            for name in sorted(tables):
                table = data.table(name)
                named = recorded_file(folder / INPUTS / partition(name)) or shown.get(table.file, table.file)
                rows = partition_bytes(table, department.id, shown={**shown, table.file: named}, scope=scope)[0]
                again[name] = sha256_bytes(rows)
    except (KpiError, OSError) as exc:
        report.differences.extend(changed(entry) for entry in moved)
        report.notes.append(f"{folder}: its rows of the changed file(s) could not be read again ({shorten(exc, 200)})")
        return
    for entry in moved:
        name = str(entry.get("table"))
        if again.get(name) == partitions.get(name):
            report.notes.append(
                f"{entry['path']}: changed since this run, but not {manifest.get('department')}'s rows in it "
                f"(its partition {INPUTS}/{partition(name)} is the evidence; the run read the stored copy {entry.get('stored')})"
            )
        else:
            report.differences.append(
                f"{changed(entry)}; {manifest.get('department')}'s own rows in it changed (run again)"
            )


def _check_outputs(
    folder: Path,
    manifest: Mapping[str, Any],
    diffs: list[str],
    *,
    explained: bool = False,
    hasher: Hasher = sha256_file,
) -> int:
    """Every output and sign-off view against the manifest (or the last sign-off's views); returns how many were checked.

    `explained`: a changed HTML page's difference goes on to name the values that differ (`explain_page`).
    """
    checked = 0
    listed = _hashes(folder, manifest, "outputs", diffs)
    outputs, views = output_hashes(folder)
    for rel, sha in listed.items():
        if not _compare(folder / rel, sha, "output", diffs, hasher) and explained:
            _explained(diffs, folder, rel)
        checked += 1
    for rel in sorted(set(outputs) - set(listed)):
        diffs.append(f"{folder / rel}: output added (not in the manifest)")
    log = read_log(folder)
    # The views the last signature of the current round rendered; the manifest's when no one signed this evidence yet.
    rounds = rounds_of(
        [line.record for line in log if line.record is not None and not line.problem and not is_override(line.record)],
        current_manifest(folder),
    )
    records = rounds[-1].records if rounds and rounds[-1].current else []
    last_views = records[-1].get("views", {}) if records else None
    expected_views = last_views if isinstance(last_views, dict) else _hashes(folder, manifest, "views", diffs)
    for rel, sha in expected_views.items():
        if _member(folder, rel) is None:
            diffs.append(f"{folder / SIGNOFFS}: views names {shorten(rel)!r}, which is not a file inside {folder}")
            continue
        if not _compare(folder / rel, sha, "sign-off view" if records else "output", diffs, hasher) and explained:
            _explained(diffs, folder, rel)
        checked += 1
    for rel in sorted(set(views) - set(expected_views)):
        diffs.append(f"{folder / rel}: output added (not in the manifest)")
    return checked


def _explained(diffs: list[str], folder: Path, rel: str) -> None:
    """The last difference (a changed file) followed by the values that differ, one indented line each (HTML pages)."""
    if not rel.endswith(".html") or not diffs or " changed: expected sha256 " not in diffs[-1]:
        return
    lines = explain_page(folder, rel)
    if lines:
        diffs[-1] = "\n".join([diffs[-1], *(f"    {line}" for line in lines)])


def explain_page(folder: Path, rel: str) -> list[str]:
    """Which values a department's HTML page shows differently from the page rendered again from what the run recorded.

    The scorecard's pages are rendered again as `kpi sign` renders them (the executed
    scorecard notebook and the sign-off log), a group's from its executed notebook: no
    code runs. A page that cannot be rendered again (its notebook is gone or damaged, or
    the page is not a notebook's) is read for the key values of `result.json` it no
    longer shows. Lines as `pagediff.explain` gives them; [] when nothing can be said.
    """
    where = DepartmentFolder(folder)
    try:
        found = (folder / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    try:
        known = key_values(read_json(where.result)) if where.result.is_file() else {}
    except AuditError:
        known = {}
    try:
        fresh = _page_again(folder, rel)
    except Exception:  # noqa: BLE001 - words for a difference already found; never a crash (tests/test_voice.py)
        fresh = None
    if fresh is None:
        return missing_values(rel, found, known)
    return explain(rel, found, fresh, known)


def _page_again(folder: Path, rel: str) -> str | None:
    """A department's HTML page rendered again from its executed notebook (None when no notebook makes it)."""
    if rel in (reader_html(SCORECARD), audit_html(SCORECARD)):
        records: list[Mapping[str, Any]] = list(read_signoffs(folder))
        return render_views(folder, records)[rel].decode("utf-8")
    where = DepartmentFolder(folder)
    reader = not rel.endswith(".audit.html")
    group = rel.removesuffix(".audit.html" if not reader else ".html")
    if "/" in rel or group == SCORECARD or not where.notebook(group).is_file():
        return None
    meta = read_meta(where)
    lang, names = language_and_names(where)
    title = f"{meta.get('name') or folder.name} · {folder.parent.name} · {names.get(group, group)}"
    if not reader:
        title = f"{title} ({say('report.audit', lang)})"
    return notebook_html(where.notebook(group), reader=reader, title=title, lang=lang)


def outputs_changed(folder: Path, hasher: Hasher = sha256_file) -> list[str]:
    """What differs between a department folder and its manifest, cheaply (before an incremental run reuses it).

    Its outputs, sign-off views and the inputs kept inside it are hashed with `hasher`
    (the runner's `files.StatMemo`: a file untouched since it was last hashed is not
    read again; the period's stored sources are the runner's to check: see `runner._reuse`).
    Nothing else is read; `kpi verify` hashes every byte and checks the rest.
    """
    diffs: list[str] = []
    try:
        manifest = read_json(folder / MANIFEST)
    except AuditError as exc:
        return exc.lines()
    period_manifest = folder.parent / MANIFEST
    try:  # the department manifest the period vouches for: an edited one (and what it hashes) is never reused
        vouched = read_json(period_manifest).get("departments") if period_manifest.is_file() else None
    except AuditError:
        vouched = None
    if isinstance(vouched, dict) and vouched.get(folder.name) not in (None, sha256_file(folder / MANIFEST)):
        diffs.append(
            f"{folder / MANIFEST}: is not the manifest {period_manifest} records for it (edited since its run)"
        )
    for _kind, entry, kept in _input_entries(folder, manifest, diffs):
        if "copy" in entry:
            _compare(kept, entry["sha256"], "recorded input copy", diffs, hasher)
    _check_outputs(folder, manifest, diffs, hasher=hasher)
    return diffs


def _check_identity(
    folder: Path,
    manifest: Mapping[str, Any],
    result: Mapping[str, Any] | None,
    department: str,
    period: str | None,
    diffs: list[str],
) -> str | None:
    """The folder is the department and period its manifest, result.json and department.json say; returns the period.

    An empty `manifest` (missing or unreadable, named elsewhere) skips the manifest's own checks.
    """
    where = folder / MANIFEST
    recorded_period: str | None = None
    if manifest:
        recorded_department, recorded_period = manifest.get("department"), manifest.get("period")
        if recorded_department != department:
            diffs.append(
                f"{where}: records department {shorten(recorded_department)!r}, but the folder is {department!r}; department folders were renamed or swapped"
            )
        if not isinstance(recorded_period, str):
            diffs.append(f"{where}: records no period")
            recorded_period = None
        elif period is not None and recorded_period != period:
            diffs.append(
                f"{where}: records period {shorten(recorded_period)!r}, but the folder is in {period!r}; folders were moved between periods"
            )
        status = manifest.get("status")
        has_result = (folder / RESULT).is_file()
        if status == "ok" and not has_result:
            diffs.append(f"{folder / RESULT}: missing, but the manifest says the department ran ok")
        elif status == "failed" and has_result:
            diffs.append(
                f"{folder / RESULT}: present, but the manifest says the department failed (a failed run writes no result.json)"
            )
        elif status not in ("ok", "failed"):
            diffs.append(f"{where}: status {shorten(status)!r}; expected ok or failed")
    if result is not None:
        for key, want in (("department", department), ("period", recorded_period or period)):
            if want is not None and result.get(key) != want:
                diffs.append(f"{folder / RESULT}: {key} {shorten(result.get(key))!r}, but the folder is {want!r}")
    meta_path = folder / DEPARTMENT
    if meta_path.is_file():
        try:
            meta = read_json(meta_path)
        except AuditError as exc:
            diffs.extend(exc.lines())
        else:
            if meta.get("department") != department:
                diffs.append(
                    f"{meta_path}: department {shorten(meta.get('department'))!r}, but the folder is {department!r}"
                )
    return recorded_period or period


def recompute_department(folder: Path, period: str) -> list[str]:
    """Recompute every score from `inputs/` (no code runs: adapters' outputs are read back); compare with what was recorded.

    The recorded results are `result.json`, the scorecard notebook's `DepartmentResult`
    and each group notebook's `GroupRecord`, all read as their typed records.
    """
    where = DepartmentFolder(folder)
    differences: list[str] = []
    try:
        with recorded_inputs(folder) as (department, shown):
            appraised = Period.parse(period)
            data = DataFolder.of(department, appraised)
            expected = appraise(department, appraised, data=data).result()
            scope = Scope.of(department.template, department.for_period(appraised), appraised)
            differences += _check_partitions(folder, department, data, shown, scope)
    except KpiError as exc:
        return [f"{folder}: cannot recompute: {line}" for line in exc.lines()]
    whole: list[tuple[Path, DepartmentResult]] = []
    parts: list[tuple[Path, tuple[IndicatorRecord, ...]]] = []
    try:
        whole.append((where.result, DepartmentResult.from_json(read_json(where.result), str(where.result))))
    except AuditError as exc:
        differences.extend(exc.lines())
    try:
        whole.append((where.notebook(SCORECARD), executed.read_scorecard(where.notebook(SCORECARD))))
    except AuditError as exc:
        differences.extend(exc.lines())
    for group in department.template.groups:
        try:
            parts.append((where.notebook(group), executed.read_group(where.notebook(group)).indicators))
        except AuditError as exc:
            differences.extend(exc.lines())
    fresh = expected.to_json()
    for path, recorded in whole:
        found = recorded.to_json()
        for key in ("department", "period", "window", "total", "grade"):
            if found[key] != fresh[key]:
                differences.append(f"{path}: {key} recorded {shorten(found[key])}, recomputed {fresh[key]}")
        ids = [i.id for i in recorded.indicators]
        if ids != [i.id for i in expected.indicators]:
            differences.append(
                f"{path}: indicators recorded {', '.join(ids)}, recomputed {', '.join(i.id for i in expected.indicators)}"
            )
        parts.append((path, recorded.indicators))
    by_id = {i.id: i.to_json() for i in expected.indicators}
    for path, items in parts:
        for item in items:
            again = by_id.get(item.id)
            if again is None:
                differences.append(f"{path}: indicator {shorten(item.id)} is not in the recomputed result")
                continue
            for key, value in item.to_json().items():
                if again[key] != value:
                    differences.append(f"{path}: {item.id} {key} recorded {shorten(value)}, recomputed {again[key]}")
    return differences


def _check_partitions(
    folder: Path, department: Department, data: DataFolder, shown: Mapping[str, str], scope: Scope
) -> list[str]:
    """Each partition the notebooks read is exactly the department's rows of the stored full source."""
    try:
        entries = read_json(folder / MANIFEST).get("inputs", {}).get("partitions", [])
    except (AuditError, AttributeError):
        return []
    found = []
    for entry in entries if isinstance(entries, list) else []:
        name = entry.get("table") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name not in department.template.tables:
            found.append(
                f"{folder / MANIFEST}: inputs.partitions names table {shorten(name)!r}, not one of the template's"
            )
            continue
        table = data.table(name)
        # The copy read here is named as the run named the file (a tree moved since names the old place).
        named = recorded_file(folder / INPUTS / partition(name)) or shown.get(table.file, table.file)
        again = sha256_bytes(partition_bytes(table, department.id, shown={**shown, table.file: named}, scope=scope)[0])
        if again != entry.get("sha256"):
            found.append(
                f"{folder / INPUTS / partition(name)}: not the department's rows of the stored source "
                f"(recorded sha256 {shorten(entry.get('sha256'))}, recomputed {again})"
            )
    return found


@contextmanager
def recorded_inputs(folder: Path, *, current: bool = False) -> Iterator[tuple[Department, dict[str, str]]]:
    """The department as a run recorded it, with every table readable again; and the recorded file names.

    A run that kept partitions reads its full sources back from the period's store:
    they are copied (after checking each one's sha256) into a temporary folder laid
    out as the data folder was, so they read exactly as the run read them. The
    mapping gives, for each copy, the path the run showed (problems and partitions
    name the company's file, not the copy). Older runs kept copies in `inputs/data/`.
    `current`: the company's table files as they are now, in place of the stored
    ones (whatever their sha256; adapters' outputs and queries' results are still the stored ones).
    """
    inputs = folder.resolve() / INPUTS
    if not (inputs / PARTITIONS).is_dir():
        yield recorded_department(folder), {}
        return
    manifest = read_json(folder / MANIFEST)
    recorded = manifest.get("inputs", {})
    store = _store_of(folder)
    with tempfile.TemporaryDirectory(prefix="kpi-recorded-") as tmp:
        root = Path(tmp) / INPUTS
        kept = [
            inputs / PARAMS_COPY,
            inputs / COMPANY_COPY,
            inputs / TEMPLATE_COPY,
            *sorted((inputs / ADAPTERS).rglob("*")),
        ]
        for path in kept:  # regular files only: a link, FIFO or device is a difference `verify` names
            if path.is_file() and not path.is_symlink():
                (root / path.relative_to(inputs)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, root / path.relative_to(inputs))
        shown: dict[str, str] = {}
        for kind, base in (("tables", root / DATA), ("adapted", root), ("queries", root)):
            for entry in recorded.get(kind, []) if isinstance(recorded, dict) else []:
                if not isinstance(entry, dict) or "stored" not in entry:
                    continue
                copies = {"adapted": adapted_copy, "queries": query_copy}
                rel = copies[kind](str(entry["table"])) if kind in copies else entry.get("rel")
                target = _member(base, rel)
                name = entry["stored"]
                if target is None or not isinstance(name, str) or not STORED_NAME.fullmatch(name):
                    raise AuditError(
                        f"{folder / MANIFEST}: inputs.{kind} has an entry that names no place: {shorten(entry)}"
                    )
                try:
                    raw = (
                        Path(str(entry.get("path"))).read_bytes()
                        if current and kind == "tables"
                        else (store / name).read_bytes()
                    )
                except OSError as exc:
                    raise AuditError(
                        f"{store / name}: the stored source of {entry.get('table')} cannot be read ({exc.strerror or exc})"
                    ) from None
                if not (current and kind == "tables") and sha256_bytes(raw) != entry.get("sha256"):
                    raise AuditError(f"{store / name}: the stored source of {entry.get('table')} changed since the run")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(raw)
                if kind == "tables":
                    shown[str(target)] = shown[str(target.resolve())] = str(entry.get("path"))
        (root / DATA).mkdir(exist_ok=True)
        yield (
            load_params(
                root / PARAMS_COPY, template=root / TEMPLATE_COPY, data=root / DATA, company=root / COMPANY_COPY
            ),
            shown,
        )


def recorded_department(folder: Path) -> Department:
    """The department as a run recorded it: its params, template and tables from `inputs/` (adapters' outputs, not their code)."""
    inputs = folder.resolve() / INPUTS
    data = inputs / DATA if (inputs / DATA).is_dir() else inputs  # runs before inputs/data/ kept tables at the top
    return load_params(inputs / PARAMS_COPY, template=inputs / TEMPLATE_COPY, data=data, company=inputs / COMPANY_COPY)


def _is_department(folder: Path) -> bool:
    return any((folder / name).exists() for name in (MANIFEST, RESULT, DEPARTMENT, ERROR, INPUTS))


def verify_period(period_dir: Path, *, recompute: bool = False, pubkey: Path | None = None) -> Report:
    """Verify a period folder (or one department folder): manifests, identities, summaries, departments. Never runs code."""
    with no_code("kpi verify"):
        return _verify_period(period_dir, recompute=recompute, pubkey=pubkey)


def _verify_period(period_dir: Path, *, recompute: bool, pubkey: Path | None) -> Report:
    if not period_dir.is_dir():
        raise UsageError(f"{period_dir}: not a folder; expected outputs/<period> (or one department folder inside it)")
    manifest_path = period_dir / MANIFEST
    manifest: dict[str, Any] | None = None
    problem = ""
    if manifest_path.is_file():
        try:
            manifest = read_json(manifest_path)
        except AuditError as exc:
            problem = str(exc)
    # A period folder holds department folders; that decides, never what a manifest claims (a forged period
    # manifest with a "department" key must not turn the check of every department into the check of none).
    holds_departments = any(_is_department(p) for p in period_dir.iterdir() if p.is_dir() and not p.is_symlink())
    if not holds_departments and (
        (manifest is not None and "department" in manifest) or (manifest is None and _is_department(period_dir))
    ):
        if period_dir.resolve().parent.name == HISTORY:  # a history entry alone: checked as its department's check does
            return verify_department(period_dir, recompute=recompute, pubkey=pubkey, history_entry=True)
        return _with_trend_notes(verify_department(period_dir, recompute=recompute, pubkey=pubkey), period_dir)
    if manifest is None and not problem:
        raise UsageError(f"{period_dir}: no manifest.json; expected a folder written by kpi run")
    report = Report()
    diffs = report.differences
    if problem:
        diffs.append(problem)
    manifest = manifest or {}
    if manifest and manifest.get("period") != period_dir.name:
        diffs.append(
            f"{manifest_path}: records period {shorten(manifest.get('period'))!r}, but the folder is {period_dir.name!r}"
        )
    files = manifest.get("files", {}) if isinstance(manifest.get("files", {}), dict) else {}
    for name, sha in files.items():
        if name not in PERIOD_FILES:
            diffs.append(f"{manifest_path}: files names {shorten(name)!r}; expected only {', '.join(PERIOD_FILES)}")
            continue
        _compare(period_dir / name, sha, "output", diffs)
        report.checked += 1
    listed = manifest.get("departments", {}) if isinstance(manifest.get("departments", {}), dict) else {}
    present = {p.name for p in period_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and _is_department(p)}
    if manifest:
        for name in sorted(present - set(listed)):
            diffs.append(f"{period_dir / name}: department added (not in the period manifest)")
    for name, sha in listed.items():
        if not isinstance(name, str) or not DEPARTMENT_ID.fullmatch(name):
            diffs.append(f"{manifest_path}: departments names {shorten(name)!r}, which is not a department id")
            continue
        folder = period_dir / name
        if not (folder / MANIFEST).is_file():
            diffs.append(f"{folder / MANIFEST}: department manifest deleted (expected sha256 {sha})")
        else:
            _compare(folder / MANIFEST, sha, "department manifest", diffs)
    for name in sorted(
        present | {n for n in listed if isinstance(n, str) and DEPARTMENT_ID.fullmatch(n) and (period_dir / n).is_dir()}
    ):
        report.add(
            _with_trend_notes(
                verify_department(period_dir / name, recompute=recompute, pubkey=pubkey), period_dir / name
            )
        )
    diffs.extend(check_summaries(period_dir, sorted(present), notes=report.notes))
    diffs.extend(check_pdfs(period_dir, manifest))
    printed = manifest.get("pdfs")
    report.checked += len(printed) if isinstance(printed, dict) else 0  # the PDFs count as outputs checked
    report.notes.extend(_unrecorded_overrides(period_dir, manifest, sorted(present), diffs))
    return report


def _with_trend_notes(report: Report, folder: Path) -> Report:
    """A department folder's report with notes on earlier periods its trend shows as they were (`consistency`)."""
    try:
        period = Period.parse(folder.parent.name)
    except KpiError:
        return report
    if period.text == folder.parent.name:
        report.notes.extend(trend_notes(folder, period))
    return report


def _unrecorded_overrides(
    period_dir: Path, manifest: Mapping[str, Any], departments: Iterable[str], differences: list[str]
) -> list[str]:
    """The period manifest's overrides against the departments' sign-off logs and history; returns notes.

    Each override the period's manifest records must be in its department's log, with
    the same who, when, why and entry, and the other way round (a removed or edited
    override record, or an edited `overrides`, is a difference); a history entry no
    override names is a note (replaced by an older toolkit, or an interrupted run).
    """
    overrides = manifest.get("overrides", [])
    recorded: dict[tuple[Any, Any], dict[str, Any]] = {
        (o.get("department"), o.get("replaced_manifest_sha256")): o
        for o in (overrides if isinstance(overrides, list) else [])
        if isinstance(o, dict)
    }
    fields = ("by", "time", "reason", "history")
    notes = []
    for name in departments:
        try:
            listing = read_json(period_dir / name / MANIFEST).get("history")
        except AuditError:
            continue  # named by the department's own check
        logged = {
            (name, line.record.get("replaced_manifest_sha256")): line.record
            for line in read_log(period_dir / name)
            if line.record is not None and is_override(line.record)
        }
        for key, record in logged.items():
            said = recorded.get(key)
            if said is None:
                differences.append(
                    f"{period_dir / name / SIGNOFFS}: holds an override ({shorten(record.get('history'), 60)}) "
                    f"that {period_dir / MANIFEST} does not record"
                )
            elif any(said.get(f) != record.get(f) for f in fields):
                differences.append(
                    f"{period_dir / MANIFEST}: its override of {name} ({shorten(record.get('history'), 60)}) "
                    f"differs from the record in {SIGNOFFS} (who, when, why or entry)"
                )
        for key, said in recorded.items():
            if key[0] == name and key not in logged:
                differences.append(
                    f"{period_dir / MANIFEST}: records an override of {name} ({shorten(said.get('history'), 60)}, "
                    f"by {shorten(said.get('by'), 64)}) that {period_dir / name / SIGNOFFS} no longer holds "
                    "(the record was removed)"
                )
        kept = set(listing.values()) if isinstance(listing, dict) else set()
        for key in recorded:
            if key[0] == name and key[1] not in kept:
                differences.append(
                    f"{period_dir / MANIFEST}: records an override of {name} that replaced manifest "
                    f"{shorten(key[1], 16)}…, which {period_dir / name / HISTORY} no longer keeps"
                )
        for entry, sha in sorted(listing.items()) if isinstance(listing, dict) else []:
            if (name, sha) not in recorded:
                notes.append(
                    f"{period_dir / name / HISTORY / str(entry)}: {period_dir / MANIFEST} records no override "
                    "(who forced the re-run, when and why) for this signed run"
                )
    for key in recorded:
        if key[0] not in set(departments):
            differences.append(f"{period_dir / MANIFEST}: records an override of {shorten(key[0])}, which is not here")
    return notes


def check_summaries(period_dir: Path, departments: Iterable[str], *, notes: list[str] | None = None) -> list[str]:
    """`index.html`, `summary.csv` and `summary.xlsx`, value by value, against the departments' result.json.

    What the index shows of other periods is checked against the record it carries
    (`dashboard.check_sources`); what has moved on there since is added to `notes`.
    """
    rows = []
    for name in departments:
        folder = DepartmentFolder(period_dir / name)
        if folder.result.is_file():
            try:
                result = DepartmentResult.from_json(read_json(folder.result), str(folder.result))
                scores = {i.id: i.to_json()["score"] for i in result.indicators}
                rows.append(Expected(name, "ok", result.to_json()["total"], result.grade, scores))
            except AuditError:
                rows.append(Expected(name, "unknown"))
        elif folder.error.is_file():
            rows.append(Expected(name, "failed"))
    expected = ranked(rows)
    differences = []
    for file, check in zip(PERIOD_FILES, (check_index, check_csv, check_xlsx), strict=True):
        if (period_dir / file).is_file():
            differences.extend(check(period_dir / file, expected))
    recorded, problems = _index_sources(period_dir, notes if notes is not None else [])
    differences.extend(problems)
    if not differences:
        differences.extend(_check_rendering(period_dir, recorded))
    return differences


def _index_sources(period_dir: Path, notes: list[str]) -> tuple[Sources | None, list[str]]:
    """The record of other periods `index.html` carries, checked against those folders now (see `dashboard`).

    Returns the record (None when the page has none, or is not there) and the differences;
    what changed in the other periods since the page was written goes to `notes`.
    """
    index = period_dir / INDEX
    if not index.is_file():
        return None, []
    try:
        period = Period.parse(period_dir.name)
        recorded = recorded_sources(index.read_text(encoding="utf-8"), str(index))
    except AuditError as exc:
        return None, [str(exc)]
    except (KpiError, OSError, UnicodeDecodeError):
        return None, []  # not a period's folder, or an unreadable page: named by the checks above
    if recorded is None:
        return None, []  # the page, rendered again with a record, will differ
    differences, found = check_sources(recorded, read_sources(period_dir, period), period, index)
    notes.extend(found)
    return recorded, differences


def _check_rendering(period_dir: Path, sources: Sources | None = None) -> list[str]:
    """The summaries as a reader sees them: rendered again from the department folders, and compared.

    `index.html` and `summary.csv` byte for byte (the index with what it recorded of other
    periods, `sources`); `summary.xlsx` cell by cell with its number formats, sheets and
    conditional formats (its document dates differ).
    """
    try:
        fresh = render_index(period_dir, period_dir.name, sources)
    except (KpiError, OSError, ValueError, KeyError, TypeError):
        return []  # a damaged department record: reported by the checks above and by the department's own verification
    differences = []
    for name in (INDEX, SUMMARY_CSV):
        path = period_dir / name
        if path.is_file() and path.read_bytes() != fresh[name]:
            line = f"{path}: differs from the page rendered again from the departments' results (its text, styles or links were changed)"
            if name == INDEX:
                found = path.read_bytes().decode("utf-8", errors="replace")
                shown = explain(name, found, fresh[name].decode("utf-8"))
                line = "\n".join([line, *(f"    {each}" for each in shown)])
            differences.append(line)
    if (period_dir / SUMMARY_XLSX).is_file():
        differences.extend(same_sheets(period_dir / SUMMARY_XLSX, fresh[SUMMARY_XLSX]))
    return differences


def render_views(folder: Path, signoffs: list[Mapping[str, Any]]) -> dict[str, bytes]:
    """The scorecard's HTML reports and xlsx with the sign-off block filled in (nothing written)."""
    from nbformat.v4 import new_output

    where = DepartmentFolder(folder)
    notebook = executed.read_notebook(where.notebook(SCORECARD))
    meta = read_meta(where)
    block = signoff_html(  # in the department's language, as the notebook showed it; every round, times in its zone
        signoffs,
        str(meta.get("lang", "zh")),
        roles=roles_of(folder),
        zone=department_zone(folder),
        current=current_manifest(folder),
    )
    for cell in notebook.cells:
        if "signoff" in cell.metadata.get("tags", []):
            cell.outputs = [new_output("display_data", data={"text/html": block, "text/plain": "sign-off"})]
    title = f"{meta.get('name') or folder.name} · {folder.parent.name}"
    lang, names = language_and_names(where)  # the same titles and language as `reports.department_reports`
    shown = f"{title} · {names.get(SCORECARD, SCORECARD)}"
    pages = {
        reader_html(SCORECARD): notebook_node_html(notebook, reader=True, title=shown, lang=lang),
        audit_html(SCORECARD): notebook_node_html(
            notebook, reader=False, title=f"{shown} ({say('report.audit', lang)})", lang=lang
        ),
    }
    css = font_css(pages.values())
    views = {rel: page.replace(PLACEHOLDER, css, 1).encode("utf-8") for rel, page in pages.items()}
    result = executed.scorecard_of(notebook, where.notebook(SCORECARD))
    views[where.scorecard_xlsx.name] = scorecard_xlsx_bytes(folder, result, signoffs)
    return views


def scorecard_xlsx_bytes(folder: Path, result: DepartmentResult, signoffs: Iterable[Mapping[str, Any]] = ()) -> bytes:
    """The department's scorecard.xlsx from its recorded result (with the explanations the scorecard recorded)."""
    where = DepartmentFolder(folder)
    meta = read_meta(where)
    department = recorded_department(folder)  # the params and template the run kept: they fill the sheet's blanks
    params = department.for_period(result.period)
    lang = meta.get("lang", params.lang)
    template = department.template
    title = f"{template.name(lang)} · {meta.get('name') or result.department} ({result.department}) · {result.period}"
    return scorecard_xlsx(
        template,
        lang,
        title,
        result,
        meta.get("labels", {}),
        params,
        list(signoffs),
        roles=template.signoff,
        zone=params.timezone,
        current=current_manifest(folder),
    )


def department_zone(folder: Path) -> str:
    """The department's `timezone` as its run recorded it (sign-off times are shown in it); "" when it cannot be read."""
    try:
        return recorded_department(folder).base.timezone
    except (KpiError, OSError):
        return ""


def sign(folder: Path, *, role: str, name: str, comment: str = "", key: Path | None = None) -> dict[str, Any]:
    """Sign a department folder off (see `signoff.sign`): verified first, its views re-rendered with the signature.

    The period's `index.html`, `summary.csv` and `summary.xlsx` show each department's
    sign-off state, so they are rendered again (with what the index recorded of other
    periods) and the period manifest is brought up to date.
    """
    record = signoff.sign(
        folder,
        role=role,
        name=name,
        comment=comment,
        key=key,
        zone=department_zone(folder),
        lang=str(read_meta(DepartmentFolder(folder)).get("lang", "zh")),
        verify=verify_department,
        render=render_views,
    )
    refresh_period(folder.parent)
    return record


def refresh_period(period_dir: Path) -> bool:
    """Render the period's summaries again from its departments and re-write its manifest; False when it is no period folder."""
    manifest = period_dir / MANIFEST
    try:
        recorded = read_json(manifest) if manifest.is_file() else None
        period = Period.parse(period_dir.name)
    except (KpiError, OSError):
        return False
    if not isinstance(recorded, dict) or recorded.get("period") != period_dir.name or "department" in recorded:
        return False
    sources = None
    if (period_dir / INDEX).is_file():
        try:
            sources = recorded_sources((period_dir / INDEX).read_text(encoding="utf-8"), str(period_dir / INDEX))
        except (AuditError, OSError, UnicodeDecodeError):
            sources = None
    for name, data in render_index(period_dir, str(period), sources).items():
        write_atomic(period_dir / name, data)
    write_period_manifest(period_dir, str(period))
    return True


def carry_signoffs(old: Path, new: Path) -> bool:
    """Carry a replaced run's sign-off log into the run replacing it, and show its rounds as superseded there.

    A forced re-run changes the evidence: the signatures stay in the log (chained on),
    now a superseded round (the run they signed is kept in `history/`), and the new
    folder's sign-off views show them as such; the next `kpi sign` starts a new round.
    Call it before the new folder's manifest is written. False when there is no log to carry.
    """
    log = old / SIGNOFFS
    if not log.is_file() or log.is_symlink() or not is_signed(old):
        return False
    write_atomic(new / SIGNOFFS, log.read_bytes())
    if DepartmentFolder(new).notebook(SCORECARD).is_file() and (new / RESULT).is_file():
        records: list[Mapping[str, Any]] = [line.record for line in read_log(new) if line.record is not None]
        for rel, data in render_views(new, records).items():
            write_atomic(new / rel, data)
    return True


# -- history --------------------------------------------------------------------------------
def history_name(old: Path, taken: Iterable[str] = ()) -> str:
    """The `history/` name of a run: its manifest's time as `2026-12-06T21-24-26` (`-2`, `-3` … after a name in `taken`).

    A manifest is evidence, not a path: only the time it parses to names the entry,
    so nothing in it may point the move elsewhere (no time: the clock's).
    """
    try:
        stamp = read_json(old / MANIFEST).get("created")
    except AuditError:
        stamp = None
    try:
        when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else clock.now()
    except ValueError:
        when = clock.now()
    name = when.strftime("%Y-%m-%dT%H-%M-%S")
    taken = set(taken)
    found, n = name, 1
    while found in taken:
        n += 1
        found = f"{name}-{n}"
    return found


def _entries(folder: Path) -> list[Path]:
    history = folder / HISTORY
    if history.is_symlink() or not history.is_dir():
        return []
    return sorted(history.iterdir())


def planned_history(final: Path) -> tuple[dict[str, str], str | None]:
    """The history a run replacing `final` leaves: {entry: sha256 of its manifest}, and the name `final` itself gets.

    The entries `final`'s manifest recorded (and still as recorded: one added or
    changed since stays unrecorded, so `verify` keeps naming it) and, when `final`
    is signed (`keep_history` will keep it whole), `final` under its `history_name`.
    A manifest from before history was recorded lends every entry there.
    """
    try:
        manifest = read_json(final / MANIFEST) if (final / MANIFEST).is_file() else {}
    except AuditError:
        manifest = {}
    recorded = manifest.get("history")
    listing: dict[str, str] = {}
    for entry in _entries(final):
        try:
            sha = sha256_file(entry / MANIFEST)
        except OSError:
            continue
        if not isinstance(recorded, dict) or recorded.get(entry.name) == sha:
            listing[entry.name] = sha
    if not (is_signed(final) and (final / MANIFEST).is_file()):
        return listing, None
    names = {e.name for e in _entries(final)}
    name = history_name(final, names)
    listing[name] = sha256_file(final / MANIFEST)
    return listing, name


def keep_history(old: Path, new: Path, *, whole: bool = True) -> Path:
    """Move a previous run (and its own history) into `new/history/`, keeping it whole; returns where it went.

    The entry is named by `history_name`. With `whole=False` only its history
    entries move (an unsigned run replaced: the signed runs before it are kept);
    returns `new/history`.
    """
    for link in (old, old / HISTORY, new / HISTORY):
        if link.is_symlink():  # never move through a link: it could reach outside the period folder
            raise AuditError(
                f"{link}: is a symbolic link; refusing to move a signed run through it (remove the link, then run again)"
            )
    history = new / HISTORY
    entries = _entries(old)
    if entries or whole:
        history.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        shutil.move(str(entry), str(history / entry.name))
    if entries:
        (old / HISTORY).rmdir()
    if not whole:
        return history
    target = history / history_name(old, (p.name for p in history.iterdir()))
    shutil.move(str(old), str(target))
    return target


def check_history(folder: Path, manifest: Mapping[str, Any], *, recompute: bool, pubkey: Path | None) -> Report:
    """Every `history/` entry of a department: recorded by its manifest (none deleted, added or changed), each verified whole.

    Each entry is checked as a department is (manifest, outputs, sign-off records,
    its inputs in `inputs/` and the period's store; with `recompute`, every score),
    except that the company's files are not compared: they have moved on since, and
    the copies the entry kept are its evidence.
    """
    report = Report()
    diffs = report.differences
    recorded = manifest.get("history")
    present = {entry.name: entry for entry in _entries(folder)}
    if (folder / HISTORY).is_symlink():
        diffs.append(f"{folder / HISTORY}: is a symbolic link; a run writes none")
    if recorded is None:
        if present:
            report.notes.append(
                f"{folder / HISTORY}: its entries are not recorded by {folder / MANIFEST} (written before history was recorded)"
            )
        recorded = {}
    elif not isinstance(recorded, dict):
        diffs.append(f"{folder / MANIFEST}: history is not a mapping of entries to sha256")
        recorded = {}
    for name, sha in recorded.items():
        entry = folder / HISTORY / str(name)
        if not isinstance(name, str) or _member(folder / HISTORY, name) is None or "/" in name:
            diffs.append(
                f"{folder / MANIFEST}: history names {shorten(name)!r}, which is not an entry of {folder / HISTORY}"
            )
        elif name not in present:
            diffs.append(
                f"{entry}: history entry deleted (the department's manifest records it, manifest sha256 {sha})"
            )
        elif not (entry / MANIFEST).is_file():
            diffs.append(f"{entry / MANIFEST}: manifest of the history entry {name} deleted (expected sha256 {sha})")
        else:
            _compare(entry / MANIFEST, sha, f"manifest of the history entry {name}", diffs)
    for name in sorted(set(present) - set(recorded)):
        if manifest.get("history") is not None:
            diffs.append(f"{present[name]}: history entry added (not recorded by the department's manifest)")
    for entry in sorted(present.values()):
        if entry.is_symlink() or not entry.is_dir():
            diffs.append(f"{entry}: history entry is not a folder (a link or a file); a run writes none")
            continue
        found = verify_department(entry, recompute=recompute, pubkey=pubkey, history_entry=True)
        # a stored input lives outside the entry: its line still names the entry it belongs to
        found.differences = [line if str(entry) in line else f"{entry}: {line}" for line in found.differences]
        report.add(found)
    return report
