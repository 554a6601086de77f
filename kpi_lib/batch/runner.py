"""The batch: execute every department's notebooks with papermill, convert them, write `outputs/`.

A run holds the period folder's lock (`outputs/<period>/.lock`, see `lock.py`)
from start to end: a second run on the same folder is refused at once, naming
the first; a lock left by a run that died is taken over, saying so. Holding it,
the run first cleans what an interrupted run left in the period folder:
`.staging-*` folders are removed; a `.old-<dept>-*` folder (a previous run moved
aside while its replacement was renamed in) is renamed back when its
department's folder is missing, kept in that folder's `history/` when it was
signed off, and removed otherwise.

For each department and period:

1. its params are loaded in the main process. A params file that fails
   validation but declares a valid department id (`department: cs-north`, weights
   wrong) gets that department's folder with `error.txt`, like any failed
   department. One without a valid id gets no folder at all (a folder is never
   named after a file): its problems are printed, naming the file, and it is
   listed as failed in the run summary (but not in `index.html`, which lists
   department folders);
2. the group notebooks run in parallel, each in a fresh kernel, with ASCII
   parameters (`params_path`, `period`, `group`) and the department's output
   folder as working directory;
3. when all succeeded, the scorecard notebook runs (it reads the group
   notebooks' recorded results from `.`), `result.json` is written from the
   scorecard's recorded output, and both HTML reports of every notebook are made;
4. the department's folder replaces the previous one whole.

A department's folder is named by its validated id, never by a file name. Work
happens in `outputs/<period>/.staging-<department>/` and the finished folder is
renamed into place, so a department's outputs are never half-written and a
re-run replaces them whole. A department that fails keeps its executed notebooks
up to the failing cell (papermill saves them), an `error.txt`, and no
`result.json`; the others carry on. When the disk refuses a write (full,
read-only, no permission) the department's staging folder is removed and its
previous folder is left as it was: an `OutputError` line names the path and the
cause. Nothing outside the period folder is moved or removed, except a replaced
signed run, which goes into the new folder's `history/`.

Notebooks run through a `concurrent.futures.Executor` (`workers.py`), at most
`jobs` at a time, a department's finishing step first. A notebook whose kernel
fails to start or dies is retried once (papermill issue 511: two kernels can race
for a port); so is a job whose worker process died under it. A cell error or a
cell timeout is not retried.
"""

from __future__ import annotations

import errno
import getpass
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from ..audit import consistency, signoff, trail
from ..base import clock, yamlfile
from ..base.errors import (
    WRITE_ERRNOS,
    AuditError,
    InternalError,
    KpiError,
    OutputError,
    UsageError,
    output_error,
    shorten,
)
from ..base.files import StatMemo, git_commit, read_json, sha256_file, write_atomic, write_json
from ..base.layout import (
    DEPARTMENT,
    ERROR,
    GROUP_NOTEBOOK,
    HISTORY,
    INPUTS,
    MANIFEST,
    OLD_FOLDER,
    PDFS,
    PERIOD_FILES,
    SCORECARD,
    STAGING,
    DepartmentFolder,
    PeriodFolder,
    notebook,
    pdf,
)
from ..base.text import PLAIN_ID, id_length_problem
from ..inputs.params import Department, load_params
from ..inputs.partitions import SharedTables
from ..inputs.period import Period
from ..reports import executed
from ..reports.convert import department_reports, write_index
from ..reports.exports import chromium, html_to_pdf
from ..reports.history import earlier_results
from ..reports.summary import read_result
from ..scoring.appraisal import tables_needed
from . import incremental
from .incremental import Decision
from .lock import PeriodLock
from .workers import local_executor, tied_kernel_manager, written_at_the_end

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 600
MAX_TIMEOUT = 7 * 24 * 3600
MAX_JOBS = 512
FOLDER_NAME = PLAIN_ID  # (kpi_lib.base.text)
DEVICE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})  # a refused write, whatever the file


@dataclass(frozen=True)
class NotebookJob:
    """One notebook to execute (picklable: it crosses into a worker process)."""

    source: str
    output: str
    parameters: Mapping[str, Any]
    cwd: str
    timeout: int = DEFAULT_TIMEOUT
    title: str = ""  # a group's: its two HTML reports are made right after it ran, titled "<department> · <period>"


@dataclass(frozen=True)
class Outcome:
    """How one job ended; `unwritable` when the disk refused a write (then nothing of the department is kept)."""

    name: str
    ok: bool
    seconds: float
    error: str = ""
    attempts: int = 1
    unwritable: bool = False


@dataclass(frozen=True)
class FinishJob:
    """Run the scorecard (when every group succeeded), write result.json, scorecard.xlsx and the reports."""

    department: str
    title: str
    folder: str
    scorecard: NotebookJob | None
    groups: tuple[str, ...] = ()
    pdf: bool = False


@dataclass
class DepartmentRun:
    """One params file's way through the batch; `department` is "" (and there is no folder) when the file did not load."""

    params_path: Path
    department: str = ""
    staging: Path | None = None
    final: Path | None = None
    name: str = ""
    lang: str = "zh"
    labels: dict[str, str] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""
    refused: bool = False
    unwritable: bool = False
    notes: list[str] = field(default_factory=list)
    groups: tuple[str, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)
    effective: Any = None
    total: Decimal | None = None
    grade: str | None = None
    started: float = field(default_factory=time.monotonic)
    reused: bool = False
    why: str = ""
    fingerprint: dict[str, Any] = field(default_factory=dict)
    notebooks: int = 0  # the notebooks this department counts for on the progress bar (`_count_notebooks`)
    counted: int = 0  # how many of them the progress bar has been told about

    @property
    def failed(self) -> bool:
        return bool(self.error)

    @property
    def label(self) -> str:
        """The department id, or the params file's name when it did not load."""
        return self.department or self.params_path.name


class Progress(Protocol):
    """What the runner reports to while it works (the CLI's progress bar), notebook by notebook.

    The unit is a notebook of a department: each group notebook and the finishing
    step (scorecard and reports), so `total` is departments × notebooks. Workers
    run in other processes (`workers.py`); the runner's main loop is the one place
    that sees every job handed over and every job ended, so it reports both from
    there: `begin` when a job is submitted (the runner submits at most `jobs` at a
    time, so a submitted job is a running one) and `end` when its future is done.
    `what` names it as `cs-east · service`. A department that needs no notebook
    (reused, refused, or failed before running) counts its notebooks as passed at
    once, in `done`, as does a department whose later notebooks were not run
    (a group failed, a write was refused).
    """

    def start(self, total: int) -> None: ...
    def begin(self, what: str) -> None: ...
    def end(self, what: str, steps: int) -> None:
        """`what` is no longer running; `steps` is 1, or 0 when its worker died and it runs again."""

    def done(self, run: DepartmentRun, steps: int) -> None:
        """The department is finished; `steps` notebooks of it that never ran count as passed now."""

    def note(self, line: str) -> None: ...
    def stop(self) -> None: ...


# -- worker side ----------------------------------------------------------------------------
def _kernel_failure(exc: BaseException) -> bool:
    """True when the kernel failed to start or died (worth one retry), not when a cell failed."""
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    return not isinstance(exc, (PapermillExecutionError, CellTimeoutError, KeyboardInterrupt))


def refused_write(exc: OSError, folder: Path) -> bool:
    """Whether an OSError is the environment refusing a write (disk full, read-only, no permission in `folder`)."""
    if exc.errno in DEVICE_ERRNOS:
        return True
    inside = isinstance(exc.filename, (str, bytes)) and Path(os.fsdecode(exc.filename)).resolve().is_relative_to(
        folder.resolve()
    )
    return exc.errno in WRITE_ERRNOS and inside


def execute(job: NotebookJob) -> Outcome:
    """Execute one notebook with papermill in a fresh kernel, then settle what it wrote (`executed.settle`); never raises."""
    outcome = _papermill(job)
    output = Path(job.output)
    if output.is_file():
        try:
            executed.settle(output)
        except Exception as exc:  # noqa: BLE001 - a notebook papermill could not finish writing
            if outcome.ok:
                return Outcome(
                    outcome.name,
                    False,
                    outcome.seconds,
                    f"{output.name}: unreadable after execution: {type(exc).__name__}: {exc}",
                    outcome.attempts,
                )
    if job.title:
        return _reports_of(job, outcome)
    return outcome


def _reports_of(job: NotebookJob, outcome: Outcome) -> Outcome:
    """Both HTML reports of a group notebook, made by the worker that executed it, while other workers run the
    department's other groups (a failed notebook gets them too: it is the evidence); a problem fails the job."""
    folder = Path(job.cwd)
    try:
        department_reports(folder, job.title, [Path(job.output).stem])
        return outcome
    except OutputError as exc:
        return replace(outcome, ok=False, error=_lines(str(exc), outcome.error), unwritable=True)
    except KpiError as exc:
        return replace(outcome, ok=False, error=_lines(outcome.error, *exc.lines()))
    except OSError as exc:
        if refused_write(exc, folder):
            error = str(output_error(exc, exc.filename or folder))
            return replace(outcome, ok=False, error=_lines(error, outcome.error), unwritable=True)
        return replace(
            outcome, ok=False, error=_lines(outcome.error, f"{exc.filename or folder}: {exc.strerror or exc}")
        )
    except Exception as exc:  # noqa: BLE001 - a bug of ours: the department fails with one line, the batch goes on
        line = f"{folder}: reports failed: {type(exc).__name__}: {shorten(exc, 200)} (please report it)"
        return replace(outcome, ok=False, error=_lines(outcome.error, line))


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def _papermill(job: NotebookJob) -> Outcome:
    """Execute one notebook with papermill in a fresh kernel (tied to this process's life); never raises."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    name = Path(job.output).stem
    started = time.monotonic()
    for attempt in (1, 2):
        try:
            papermill.execute_notebook(
                job.source,
                job.output,
                parameters=dict(job.parameters),
                cwd=job.cwd,
                progress_bar=False,
                log_output=False,
                engine_name=written_at_the_end(),  # the notebook written once, when it ends
                execution_timeout=job.timeout,
                start_timeout=120,
                kernel_manager_class=tied_kernel_manager(),
            )
            return Outcome(name, True, time.monotonic() - started, attempts=attempt)
        except PapermillExecutionError as exc:
            lines = [f"{name}.ipynb, cell [{exc.exec_count}]: {exc.ename}", *str(exc.evalue).splitlines()]
            return Outcome(name, False, time.monotonic() - started, "\n".join(lines), attempt)
        except BaseException as exc:  # noqa: BLE001 - reported as the department's error, never a crash of the batch
            if isinstance(exc, OSError) and refused_write(exc, Path(job.cwd)):
                return Outcome(
                    name,
                    False,
                    time.monotonic() - started,
                    str(output_error(exc, exc.filename or job.output)),
                    attempt,
                    unwritable=True,
                )
            if attempt == 1 and _kernel_failure(exc):
                continue
            what = (
                "kernel failed to start or died"
                if _kernel_failure(exc)
                else "interrupted"
                if isinstance(exc, KeyboardInterrupt)
                else "timed out"
            )
            return Outcome(
                name,
                False,
                time.monotonic() - started,
                f"{name}.ipynb: {what}: {type(exc).__name__}: {shorten(exc, 200)}",
                attempt,
            )
    raise InternalError(f"{name}.ipynb: ran out of attempts without an outcome (please report it)")


def finish(job: FinishJob) -> Outcome:
    """Scorecard, result.json and reports of one department; never raises.

    Reports are made for a department that failed too (its notebooks are its
    evidence), unless the disk refused a write: then nothing more is written.
    """
    started = time.monotonic()
    folder = Path(job.folder)
    errors: list[str] = []
    unwritable = False
    try:
        if job.scorecard is not None:
            outcome = execute(job.scorecard)
            if outcome.ok:
                _write_result(folder)
            else:
                errors.append(outcome.error)
                unwritable = outcome.unwritable
        if not unwritable:
            _write_reports(folder, job)
    except OutputError as exc:
        errors.insert(0, str(exc))  # a refused write is the department's first line
        unwritable = True
    except KpiError as exc:
        errors.extend(exc.lines())
    except OSError as exc:
        unwritable = refused_write(exc, folder)
        if unwritable:
            errors.insert(0, str(output_error(exc, exc.filename or folder)))
        else:
            errors.append(f"{exc.filename or folder}: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - a bug of ours: the department fails with one line, the batch goes on
        errors.append(f"{folder}: reports failed: {type(exc).__name__}: {shorten(exc, 200)} (please report it)")
    return Outcome(SCORECARD, not errors, time.monotonic() - started, "\n".join(errors), unwritable=unwritable)


def _write_result(folder: Path) -> None:
    """`result.json` and `scorecard.xlsx` from the result the scorecard notebook recorded (read once)."""
    where = DepartmentFolder(folder)
    result = executed.read_scorecard(where.notebook(SCORECARD))
    write_json(where.result, result.to_json())
    write_atomic(where.scorecard_xlsx, trail.scorecard_xlsx_bytes(folder, result))


def _write_reports(folder: Path, job: FinishJob) -> None:
    """Both HTML reports of the scorecard (each group's were made after it ran: `execute`); PDFs of the reader's, if asked."""
    names = [*job.groups, SCORECARD]
    department_reports(folder, job.title, [SCORECARD])
    if job.pdf:  # into <period>/pdf/<dept>/, beside `kpi pdf`'s; the period manifest records them (`trail.record_pdfs`)
        where = DepartmentFolder(folder)
        for name in names:
            if where.reader_html(name).is_file():
                html_to_pdf(where.reader_html(name), folder.parent / PDFS / job.department / pdf(name))


# -- main side ------------------------------------------------------------------------------
def notebooks_folder(given: Path | None) -> Path:
    folder = given or PROJECT_ROOT / "notebooks"
    missing = [notebook(n) for n in (GROUP_NOTEBOOK, SCORECARD) if not (folder / notebook(n)).is_file()]
    if missing:
        raise UsageError(f"{folder}: notebooks not found ({', '.join(missing)}); pass --notebooks DIR")
    return folder


def all_params(cwd: Path | None = None) -> list[Path]:
    """Every params file under `params/` of the working directory, else of the project; dotfiles (editor backups) are skipped."""
    for base in (cwd or Path.cwd(), PROJECT_ROOT):
        found = [
            p
            for p in sorted((base / "params").glob("*.yaml")) + sorted((base / "params").glob("*.yml"))
            if not p.name.startswith((".", "#")) and p.is_file()
        ]
        if found:
            return found
    raise UsageError("--all: no params/*.yaml in the working directory or the project; pass PARAMS files")


def check_limits(jobs: int, timeout: int) -> None:
    """`--jobs` and `--timeout` are whole numbers from 1 up (a usage error otherwise)."""
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(
            f"--jobs {jobs}: expected a number of notebooks to run at once, 1 to {MAX_JOBS} (leave --jobs out to use every core)"
        )
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise UsageError(f"--timeout {timeout}: expected the seconds a notebook cell may run, 1 to {MAX_TIMEOUT}")


@dataclass
class BatchResult:
    """What a run did: every department, the index, and lines about the period folder (`notes` informative, `problems` errors)."""

    period: str
    out: Path
    departments: list[DepartmentRun]
    index: Path | None
    seconds: float
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[DepartmentRun]:
        return [d for d in self.departments if d.failed]


def run_batch(
    params_files: list[Path],
    window: Period,
    *,
    out: Path,
    jobs: int,
    notebooks: Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    executor: Callable[[int, Path], Executor] = local_executor,
    progress: Progress | None = None,
    force: bool = False,
    pdf: bool = False,
    command: str | None = None,
    fresh: bool = False,
    reason: str = "",
    by: str = "",
) -> BatchResult:
    """Execute, convert and write every department of `params_files` for one period.

    A department whose inputs, params, template, notebooks and toolkit are
    unchanged since its last good run is reused as it is (`incremental`), unless
    `fresh`. A department that was signed off and changed is refused (its outputs
    stay as they are) unless `force`, which keeps the signed run in the new
    folder's `history/`; an unchanged signed department is reused. `force` needs a
    `reason`, recorded with `by` (default: the operating-system user) and the time in
    the new run's sign-off log and the period's manifest (`_override`).
    `command` is what the lock file records (default: this process's command line).
    """
    started = time.monotonic()
    if force:
        by = _override_by(by)
        why = signoff.reason_problem(reason)
        if why:
            raise UsageError(
                f"--force replaces signed runs (each kept in history/) and records who, when and why: "
                f'--reason {why} (e.g. --reason "corrected complaints export")'
            )
    check_limits(jobs, timeout)
    clock.source_date_epoch()  # a malformed SOURCE_DATE_EPOCH is a usage error before anything runs
    source = notebooks_folder(notebooks)
    if pdf:
        chromium()  # fail early, with the install hint, before any notebook runs
    period_dir = (out / str(window)).resolve()
    try:
        period_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(exc, period_dir, "cannot create the period folder") from None
    batch = _Batch(window, period_dir, source, timeout, pdf, force, progress, fresh, reason=reason.strip(), by=by)
    try:
        with PeriodLock(period_dir, command) as lock:
            batch.note(lock.takeover_note())
            _clean_period(batch)
            loaded = _load_all(params_files, batch)
            runs = [run for run, _ in loaded]
            if progress is not None:
                progress.start(sum(_count_notebooks(run, department) for run, department in loaded))
            with executor(jobs, PeriodFolder(period_dir).kernels_log) as pool:
                _drive(batch, deque(loaded), pool, jobs)
            index = _write_period_files(batch, runs)
            batch.memo.save()
    finally:
        if progress is not None:
            progress.stop()
    return BatchResult(str(window), period_dir, runs, index, time.monotonic() - started, batch.notes, batch.problems)


@dataclass
class _Batch:
    """What every step of one run needs to know, and the lines it collects about the period folder."""

    window: Period
    period_dir: Path
    source: Path
    timeout: int
    pdf: bool
    force: bool
    progress: Progress | None
    fresh: bool = False
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    shared: SharedTables = field(default_factory=SharedTables)
    hashes: dict[Path, str] = field(default_factory=dict)  # source file → sha256, hashed once per run
    memo: StatMemo = field(default_factory=StatMemo.here)  # sha256 of files untouched since an earlier run
    stored_ok: set[str] = field(default_factory=set)  # store entries checked whole in this run
    stored_files: dict[Path, tuple[str, str]] = field(default_factory=dict)  # full sources stored in this run
    reason: str = ""  # why --force replaces signed runs
    by: str = ""  # who forced it
    overrides: list[dict[str, Any]] = field(default_factory=list)  # the signed runs this run replaced

    @property
    def store(self) -> Path:
        return PeriodFolder(self.period_dir).sources

    def sha256(self, path: Path) -> str:
        if path not in self.hashes:
            self.hashes[path] = self.memo.sha256(path)
        return self.hashes[path]

    def options(self) -> dict[str, Any]:
        """What of the command line and environment shapes a department's outputs (see `incremental`)."""
        return {"pdf": self.pdf, "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH")}

    def note(self, line: str) -> None:
        if line:
            self.notes.append(line)
            if self.progress is not None:
                self.progress.note(line)

    def source_of(self, name: str) -> Path:
        """The source of notebook `name`: `<name>.ipynb` from the notebooks folder, else (a group) the generic group notebook."""
        source = self.source / notebook(name)
        if name != SCORECARD and not source.is_file():
            source = self.source / notebook(GROUP_NOTEBOOK)
        return source

    def notebook(self, run: DepartmentRun, name: str, **parameters: str) -> NotebookJob:
        """The job of one notebook (see `source_of`), run in the department's staging folder; a group's job makes its reports."""
        staging = _staging(run)
        source = self.source_of(name)
        injected = {"params_path": str(run.params_path), "period": str(self.window), **parameters}
        title = ""
        if name != SCORECARD:
            injected["partitions"] = INPUTS  # the group reads its own rows, kept by the run (see `partitions`)
            title = self.title(run)
        return NotebookJob(str(source), str(staging / notebook(name)), injected, str(staging), self.timeout, title)

    def title(self, run: DepartmentRun) -> str:
        """What a department's pages are titled by: its name (or id) and the period."""
        return f"{run.name or run.department} · {self.window}"


def _staging(run: DepartmentRun) -> Path:
    """The staging folder of a department that has one (only a params file that did not load has none)."""
    if run.staging is None:
        raise InternalError(
            f"{run.params_path}: internal error: no staging folder for this department (please report it)"
        )
    return run.staging


# -- cleaning up after an interrupted run ---------------------------------------------------
def _prune_store(batch: _Batch) -> None:
    """Remove from the period's store every file no department manifest (history included) refers to any more."""
    store = batch.store
    if not store.is_dir():
        return
    keep = trail.stored_names(batch.period_dir)
    for entry in sorted(store.iterdir()):
        if entry.name not in keep:
            try:
                _remove(entry)
            except OSError as exc:
                batch.problems.append(f"{entry}: no longer used and cannot be removed ({shorten(exc, 200)})")


def _clean_period(batch: _Batch) -> None:
    """Remove stale staging folders and temporary files; put back or retire folders moved aside (we hold the lock)."""
    for entry in sorted(batch.period_dir.iterdir()):
        try:
            if entry.name.startswith(STAGING):
                _remove(entry)
                batch.note(f"{entry}: removed the unfinished work of an interrupted run")
            elif entry.is_symlink() and OLD_FOLDER.fullmatch(entry.name):  # not ours: a run never moves a link aside
                entry.unlink()
                batch.note(f"{entry}: removed a symbolic link posing as a run moved aside (its target was not touched)")
            elif match := OLD_FOLDER.fullmatch(entry.name):
                batch.note(_recover_old(entry, batch.period_dir / match["department"]))
            elif entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file():
                entry.unlink()
        except (OSError, KpiError) as exc:
            batch.problems.append(
                f"{entry}: left by an interrupted run and cannot be cleaned up ({shorten(exc, 200)}); remove it by hand"
            )


def _recover_old(old: Path, final: Path) -> str:
    """A previous run moved aside by an interrupted swap: back into place, into history/ when signed, else removed."""
    if not final.exists() and not final.is_symlink():
        old.rename(final)
        return f"{final}: put back the previous run, which an interrupted run had moved aside"
    if _signed(old):
        kept = trail.keep_history(old, final)
        return f"{kept}: kept the signed run that an interrupted run had replaced"
    trail.keep_history(old, final, whole=False)
    _remove(old)
    return f"{old}: removed the previous run, already replaced by an interrupted run"


def _sign_state(folder: Path) -> str:
    """ "signed off", or why the sign-off log cannot be read (it then counts as signed: kept, never lost), or "" when unsigned."""
    if not trail.is_signed(folder):
        return ""
    damaged = next((line for line in trail.read_log(folder) if line.problem), None)
    if damaged is not None:
        return f"its sign-off log {trail.SIGNOFFS} cannot be read (line {damaged.number}: {shorten(damaged.problem)})"
    return "signed off"


def _signed(folder: Path) -> bool:
    return bool(_sign_state(folder))


def _remove(path: Path) -> None:
    """Remove a file or folder of the period folder; a symlink is unlinked, never followed."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


# -- preparing each department --------------------------------------------------------------
def _load_all(params_files: list[Path], batch: _Batch) -> list[tuple[DepartmentRun, Department | None]]:
    """Load every params file (each department's staging comes later, just before its notebooks: `_drive`).

    Two params files of one department are a usage error, before anything runs.
    """
    loaded = [_load(path, batch) for path in params_files]
    seen: dict[str, Path] = {}
    for run, _ in loaded:
        if run.department in seen:
            raise UsageError(
                f"{run.params_path}: department {run.department} is also defined by {seen[run.department]}; expected one params file per department"
            )
        if run.department:
            seen[run.department] = run.params_path
    batch.shared.departments = frozenset(seen)  # every department of the run is real, never a typo of another's id
    return loaded


def _load(path: Path, batch: _Batch) -> tuple[DepartmentRun, Department | None]:
    """A params file's run and its loaded department (None when it did not load: then the run has no folder)."""
    path = path.resolve()
    if not path.is_file():
        raise UsageError(f"{path}: params file not found")
    try:
        department = load_params(path)
    except KpiError as exc:
        declared = _declared_id(path)
        if declared is None:  # no valid id to name a folder after: the summary says why, nothing is written
            return DepartmentRun(path, error="\n".join(exc.lines())), None
        if foreign := not_ours(batch.period_dir / declared):
            return DepartmentRun(path, declared, error=f"{foreign}\n" + "\n".join(exc.lines()), refused=True), None
        return DepartmentRun(
            path,
            declared,
            batch.period_dir / f"{STAGING}{declared}",
            batch.period_dir / declared,
            error="\n".join(exc.lines()),
        ), None
    if not FOLDER_NAME.fullmatch(department.id):
        return DepartmentRun(
            path,
            error=f"{path}: department {department.id!r}: expected lower-case letters, digits, '-' and '_' (it names a folder)",
        ), None
    staging, final = batch.period_dir / f"{STAGING}{department.id}", batch.period_dir / department.id
    foreign = not_ours(final)
    if foreign:
        return DepartmentRun(path, department.id, error=foreign, refused=True), None
    return DepartmentRun(path, department.id, staging, final), department


def not_ours(final: Path) -> str:
    """Why the department's place holds something `kpi run` did not write ("" when it is free or a run's folder).

    A run replaces its department's folder whole; a link, a file or a folder with none of a
    run's files (manifest.json, department.json, error.txt, or the sign-off log `kpi sign`
    writes: a damaged log is judged by the sign-off check; or an executed notebook, as an
    analyst's Run All leaves before the scorecard brings the folder up to date) is someone
    else's: never replaced.
    """
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        what = "a symbolic link" if final.is_symlink() else "a file"
    elif (
        final.is_dir()
        and any(final.iterdir())
        and not any((final / name).is_file() for name in (MANIFEST, DEPARTMENT, ERROR, trail.SIGNOFFS))
        and not any(p.is_file() for p in final.glob("*.ipynb"))  # notebooks executed in JupyterLab (Run All) into it
    ):
        what = "a folder kpi run did not write (no manifest.json, department.json or error.txt)"
    else:
        return ""
    return f"{final}: {what}; refusing to replace it (move it away, then run again)"


def _declared_id(path: Path) -> str | None:
    """The department id a params file that failed validation declares, when it is a valid one (it then names the failed folder)."""
    try:
        raw = yamlfile.load(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, yamlfile.YamlProblem):
        return None
    declared = raw.get("department") if isinstance(raw, dict) else None
    valid = isinstance(declared, str) and FOLDER_NAME.fullmatch(declared) and not id_length_problem(declared)
    return declared if valid and isinstance(declared, str) else None


def _stage(run: DepartmentRun, department: Department | None, batch: _Batch) -> None:
    """Reuse an unchanged department, refuse a changed signed one (unless forced), or stage it: inputs and department.json."""
    staging, final = _staging(run), _final(run)
    signed = _sign_state(final)
    previous = _previous_manifest(final)
    decision = Decision(False, "its params did not load" if run.failed else "")
    if department is not None and not run.failed:
        try:
            decision = _decide(run, department, batch, previous, signed=bool(signed))
        except KpiError as exc:  # its params for the period are wrong: the staging step below says so
            decision = Decision(False, f"cannot be compared with its previous run ({shorten(exc)})")
        if decision.reuse and _reuse(run, final, decision.why, batch):
            return
    run.why = run.why or decision.why
    if signed and not batch.force and decision.reuse is not None:
        _refuse(run, final, signed)
        return
    try:
        _remove(staging)
        staging.mkdir(parents=True)
        if department is not None:
            _describe(run, department, batch)
            if decision.reuse is None and previous and not run.failed:
                rows = incremental.decide_rows(previous, run.fingerprint["rows"], run.fingerprint["sources"])
                if rows.reuse and _reuse(run, final, rows.why, batch):
                    _remove(staging)
                    return
                run.why = run.why or rows.why
        if signed and not batch.force:
            _remove(staging)
            _refuse(run, final, signed)
            return
        meta = {
            "department": run.department,
            "name": run.name,
            "lang": run.lang,
            "labels": run.labels,
            "params": str(run.params_path),
            "groups": list(run.groups),
        }
        write_json(DepartmentFolder(staging).meta, meta)
    except OutputError as exc:
        _unwritable(run, str(exc))
    except OSError as exc:
        if refused_write(exc, staging):
            _unwritable(run, str(output_error(exc, exc.filename or staging)))
        else:
            run.error = run.error or f"{exc.filename or staging}: cannot be read: {exc.strerror or exc}"


def _refuse(run: DepartmentRun, final: Path, signed: str) -> None:
    run.refused = True
    why = f"{run.why}; " if run.why else ""
    run.error = f'{final}: {signed}; refusing to overwrite ({why}pass --force --reason "…" to re-run and keep the signed run in history/)'


def _restore_sources(manifest: Mapping[str, Any], batch: _Batch) -> str:
    """Check (once per run) each stored source the manifest names, putting back a bad one; the first that cannot be, or ""."""
    inputs = manifest.get("inputs", {})
    for entry in inputs.get("queries", []) if isinstance(inputs, dict) else []:
        name = entry.get("stored") if isinstance(entry, dict) else None
        kept = batch.store / str(name)
        if not (isinstance(name, str) and kept.is_file() and batch.memo.sha256(kept) == entry.get("sha256")):
            return str(name)  # a query's result cannot be put back without asking the database again
    for entry in inputs.get("tables", []) if isinstance(inputs, dict) else []:
        name = entry.get("stored") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in batch.stored_ok:
            continue
        kept = batch.store / name
        try:
            good = kept.is_file() and batch.memo.sha256(kept) == entry.get("sha256")
            if not good and batch.sha256(Path(str(entry.get("path")))) == entry.get("sha256"):
                trail.store_bytes(batch.store, Path(str(entry["path"])).read_bytes(), str(entry["sha256"]), kept.suffix)
                good = sha256_file(kept) == entry.get("sha256")
                batch.note(f"{kept}: the stored copy was missing or changed; put back from {entry['path']}")
        except OSError:
            good = False
        if not good:
            return name
        batch.stored_ok.add(name)
    return ""


def _previous_manifest(final: Path) -> dict[str, Any] | None:
    """The manifest of the department's previous run; None when there is none, {} when it cannot be read."""
    where = DepartmentFolder(final).manifest
    if not final.is_dir() or final.is_symlink():
        return None
    try:
        return read_json(where) if where.is_file() else {}
    except AuditError:
        return {}


def _decide(
    run: DepartmentRun, department: Department, batch: _Batch, previous: dict[str, Any] | None, *, signed: bool
) -> Decision:
    """The department's fingerprint (all but its rows, see `incremental`) and what it says about its previous run."""
    params = department.for_period(batch.window)
    data = batch.shared.folder(department, batch.window)
    sources: dict[str, list[str]] = {}
    adapters = False
    for name in tables_needed(params, department.template.indicators):
        sources[name] = [batch.sha256(path) for path in data.files(name)]
        query = data.query(name)  # sent once per run: its result's sha256, so a changed result runs again
        if query is not None:
            sources[name].append(f"sql {query.sha256}" if query.ok else f"sql failed: {query.problems[0].code}")
        adapter = data.adapter_file(name)
        if adapter is not None:
            adapters = True
            sources[name].append(f"adapter {sha256_file(adapter)}")
    notebooks = {name: sha256_file(batch.source_of(name)) for name in (*department.template.groups, SCORECARD)}
    run.fingerprint = {
        "toolkit": incremental.toolkit(),
        "notebooks": notebooks,
        "params": sha256_file(department.path),
        "template": department.template.sha256,
        "options": batch.options(),
        "sources": sources,
        "history": earlier_results(batch.period_dir.parent, run.department, batch.window),
    }
    if department.company is not None:  # only then: a department without one keeps the fingerprint it had
        run.fingerprint["company"] = sha256_file(department.company.path)
    return incremental.decide(previous, run.fingerprint, fresh=batch.fresh, adapters=adapters, signed=signed)


def _reuse(run: DepartmentRun, final: Path, why: str, batch: _Batch) -> bool:
    """Keep the previous folder as it is, when its outputs are still those its manifest records; else say why not.

    The full sources its manifest names must be in the period's store, whole: a
    stored copy that went missing or changed is put back from the company's file
    when that file still has the recorded sha256, else the department runs again.
    """
    changed = trail.outputs_changed(final, batch.memo.sha256)
    if changed:
        run.why = f"its outputs differ from its manifest ({shorten(changed[0], 200)})"
        return False
    missing = _restore_sources(read_json(DepartmentFolder(final).manifest), batch)
    if missing:
        run.why = f"its stored source {missing} is missing or changed"
        return False
    if DepartmentFolder(final).result.is_file():
        try:
            result = read_result(DepartmentFolder(final).result)
        except AuditError as exc:
            run.why = f"its result.json cannot be read ({shorten(exc, 200)})"
            return False
        run.total, run.grade = result.total, result.grade
    run.reused, run.why = True, why
    return True


def _final(run: DepartmentRun) -> Path:
    if run.final is None:
        raise InternalError(
            f"{run.params_path}: internal error: no output folder for this department (please report it)"
        )
    return run.final


def _describe(run: DepartmentRun, department: Department, batch: _Batch) -> None:
    """The department's groups (its template's), names and effective params, and a snapshot of its inputs.

    A problem becomes the department's error.
    """
    try:
        params = department.for_period(batch.window)
        run.groups = tuple(department.template.groups)
        run.name, run.lang = params.name, params.lang
        run.labels = {b.grade: b.label for b in params.grades}
        run.effective = params.model_dump(mode="json")
        run.inputs = trail.snapshot_inputs(
            department,
            batch.window,
            _staging(run),
            data=batch.shared.folder(department, batch.window),
            store=batch.store,
            stored_files=batch.stored_files,
        )
        run.fingerprint["rows"] = {entry["table"]: entry["sha256"] for entry in run.inputs["partitions"]}
        shared = batch.shared.folder(department, batch.window)
        for entry in run.inputs["partitions"]:  # a survey kind no indicator looks for: its rows are left out, said once
            run.notes.extend(shared.table(entry["table"]).unknown_values(department.id))
    except OutputError:
        raise
    except KpiError as exc:
        run.error = run.error or "\n".join(exc.lines())


def _unwritable(run: DepartmentRun, line: str) -> None:
    """The disk refused a write: that comes first in the department's error, and nothing of this run will be kept."""
    run.error = "\n".join(x for x in (line, run.error) if x)
    run.unwritable = True


def _discard(run: DepartmentRun) -> None:
    """Remove the staging folder of a department whose writes were refused; its previous folder stays as it was."""
    kept = run.final is not None and run.final.exists()
    first, *rest = run.error.splitlines() or [""]
    run.error = "\n".join([f"{first} (nothing written{'; its previous outputs are unchanged' if kept else ''})", *rest])
    if run.staging is not None:
        try:
            _remove(run.staging)
        except OSError:
            pass  # a read-only folder: the next run removes it


# -- running the notebooks ------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One job for the pool: a group notebook, or a department's finishing step; attempt 2 reruns a job whose worker died."""

    run: DepartmentRun
    kind: str
    fn: Callable[[Any], Outcome]
    job: Any
    attempt: int = 1

    @property
    def what(self) -> str:
        return "the scorecard and reports" if self.kind == SCORECARD else f"{self.kind}.ipynb"


def _count_notebooks(run: DepartmentRun, department: Department | None) -> int:
    """Set and return the notebooks `run` counts for on the progress bar: its groups and the finishing step.

    Counted when the params file is loaded, before the department is staged: its template's
    groups (a reused department keeps a run of the same template, so of the same groups),
    and the finishing step when it has a folder (one that fails writes error.txt there). A
    params file that did not load counts its finishing step only, and one that names no
    folder counts none. However the department ends, `_report_done` counts what did not run.
    """
    groups = len(department.template.groups) if department is not None else 0
    run.notebooks = groups + (run.final is not None)
    return run.notebooks


def _progress_what(task: Task) -> str:
    return f"{task.run.label} · {task.kind}"


def _drive(batch: _Batch, unstaged: deque[tuple[DepartmentRun, Department | None]], pool: Executor, jobs: int) -> None:
    """Stage each department and run its jobs, at most `jobs` at a time; finalize each as its last job ends.

    A department is staged (`_stage`: reused, refused, or its inputs snapshot) when the
    workers are about to need work, not all of them before the first notebook: so the
    workers start while the next departments are staged, and staging a company of hundreds
    of departments overlaps their notebooks instead of coming before them. Finishing a
    department comes before starting the next one's notebooks: fewer half-done departments.
    """
    ready: deque[Task] = deque()
    running: dict[Future[Outcome], Task] = {}
    begun: set[Future[Outcome]] = set()  # handed to a worker (and so to the progress bar), not skipped
    while unstaged or ready or running:
        while True:  # hand out work, then stage ahead until `jobs` more tasks wait for the next free worker
            while ready and len(running) < jobs:
                task = ready.popleft()
                if task.run.unwritable:
                    running[_skipped(task)] = task
                    continue
                future = _submit(pool, task)
                running[future] = task
                begun.add(future)
                if batch.progress is not None:
                    batch.progress.begin(_progress_what(task))
            if not unstaged or len(ready) >= jobs:
                break
            run, department = unstaged.popleft()
            if run.final is not None:
                _stage(run, department, batch)
            if run.reused:
                _report_done(run, batch)
            elif run.failed:
                _finalize(run, batch)
            else:
                ready.extend(Task(run, group, execute, batch.notebook(run, group, group=group)) for group in run.groups)
        if not running:
            continue
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            task = running.pop(future)
            outcome = _outcome(future, task, batch)
            if future in begun:
                begun.discard(future)
                task.run.counted += outcome is not None  # a skipped job counts when its department is done
                if batch.progress is not None:
                    batch.progress.end(_progress_what(task), 0 if outcome is None else 1)
            if outcome is None:
                task.run.notes.append(f"{task.what}: the worker process running it died; ran it again")
                ready.appendleft(replace(task, attempt=2))
                continue
            follow = _record(task, outcome, batch)
            if follow is not None:
                ready.appendleft(follow)  # finishing a department comes first: fewer half-done departments at any time


def _skipped(task: Task) -> Future[Outcome]:
    """A job of a department whose writes were refused is not run: nothing of that department will be kept."""
    skipped: Future[Outcome] = Future()
    skipped.set_result(Outcome(task.kind, False, 0.0, "", unwritable=True))
    return skipped


def _submit(pool: Executor, task: Task) -> Future[Outcome]:
    try:
        return pool.submit(task.fn, task.job)
    except Exception as exc:  # noqa: BLE001 - a pool that cannot take work fails this job, not the batch
        failed: Future[Outcome] = Future()
        failed.set_exception(exc)
        return failed


def _outcome(future: Future[Outcome], task: Task, batch: _Batch) -> Outcome | None:
    """The job's outcome; None when its worker process died for the first time (run it again)."""
    try:
        return future.result()
    except BrokenExecutor:
        if task.attempt == 1:
            return None
        log = PeriodFolder(batch.period_dir).kernels_log
        return Outcome(
            task.kind,
            False,
            0.0,
            f"{task.what}: the worker process running it died twice (killed, or out of memory); see {log}",
            2,
        )
    except Exception as exc:  # noqa: BLE001 - a worker that failed outright (dask: KilledWorker, a lost scheduler)
        return Outcome(
            task.kind,
            False,
            0.0,
            f"{task.what}: worker failed: {type(exc).__name__}: {shorten(exc, 200)}",
            task.attempt,
        )


def _record(task: Task, outcome: Outcome, batch: _Batch) -> Task | None:
    """Take one job's outcome; return the department's finishing step when its last group notebook ended."""
    run = task.run
    run.outcomes.append(outcome)
    if outcome.unwritable:
        _unwritable(run, outcome.error)
    if task.kind == SCORECARD:
        if not outcome.ok and not run.error:
            run.error = outcome.error
        _finalize(run, batch)
        return None
    if sum(1 for o in run.outcomes if o.name in run.groups) < len(run.groups):
        return None
    run.error = "\n".join(
        [*([run.error] if run.error else []), *(o.error for o in run.outcomes if not o.ok and not o.unwritable)]
    )
    if run.unwritable:
        _finalize(run, batch)
        return None
    scorecard = None if run.error else batch.notebook(run, SCORECARD, results_dir=".")
    return Task(
        run,
        SCORECARD,
        finish,
        FinishJob(run.department, batch.title(run), str(run.staging), scorecard, run.groups, batch.pdf),
    )


# -- finishing each department --------------------------------------------------------------
def _finalize(run: DepartmentRun, batch: _Batch) -> None:
    """error.txt or the result's numbers, then the manifest (last), then swap the staging folder into place.

    A refused write on the way removes the staging folder and leaves the previous folder as it was.
    """
    if run.final is not None and not run.refused:
        if not run.unwritable:
            try:
                _complete(run, batch)
            except OutputError as exc:
                _unwritable(run, str(exc))
            except OSError as exc:
                _unwritable(run, str(output_error(exc, exc.filename or run.final)))
        if run.unwritable:
            _discard(run)
    _report_done(run, batch)


def _report_done(run: DepartmentRun, batch: _Batch) -> None:
    """Tell the progress bar the department is finished, counting the notebooks of it that did not run."""
    if batch.progress is not None:
        batch.progress.done(run, max(0, run.notebooks - run.counted))
    run.counted = run.notebooks


def _complete(run: DepartmentRun, batch: _Batch) -> None:
    staging = DepartmentFolder(_staging(run))
    _check_inputs_unchanged(run)
    if not run.failed:
        try:
            result = read_result(staging.result)
            run.total, run.grade = result.total, result.grade
        except AuditError as exc:
            run.error = f"{staging.result}: not as the scorecard wrote it ({shorten(exc)}); run again"
    if run.failed:
        staging.result.unlink(missing_ok=True)
        run.total = run.grade = None
        write_atomic(staging.error, f"{run.department} failed\n{run.error}\n")
    if not run.failed and trail.carry_signoffs(_final(run), staging.path):  # a forced re-run of a signed department
        run.notes.append(
            f"{_final(run) / trail.SIGNOFFS}: its signatures carried over as a superseded round; sign again"
        )
    printed = batch.period_dir / PDFS / run.department
    if not batch.pdf and printed.is_dir():  # printed from the run this one replaces: verify will call them stale
        run.notes.append(f"{printed}: printed from the previous run; print them again with kpi pdf {batch.period_dir}")
    history, replaced = trail.planned_history(_final(run))
    manifest = trail.build_manifest(
        staging.path,
        department=run.department,
        period=batch.period_dir.name,
        status="failed" if run.failed else "ok",
        inputs=run.inputs,
        effective=run.effective,
        commit=git_commit(),
        fingerprint=run.fingerprint,
        why=run.why,
        history=history,
    )
    write_json(staging.manifest, manifest)
    if replaced is not None:
        _override(run, batch, history[replaced], replaced)
    run.notes.extend(_swap(staging.path, _final(run)))


def _override_by(by: str) -> str:
    """Who forces a re-run: `--by`, else the operating-system user; `UsageError` when that is no signer's name."""
    try:
        who = by.strip() or getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        raise UsageError("--force: cannot tell who you are from the operating system; pass --by NAME") from None
    why = signoff.name_problem(who)
    if why:
        raise UsageError(f"--by {who!r} {why}")
    return who


def _override(run: DepartmentRun, batch: _Batch, replaced_sha: str, entry: str) -> None:
    """Record that this run replaces a signed run: in the new folder's sign-off log and (at the end) the period's manifest."""
    record = signoff.append_override(
        _staging(run),
        by=batch.by or _override_by(""),
        time=clock.stamp(),
        reason=batch.reason,
        replaced_manifest_sha256=replaced_sha,
        history=f"{HISTORY}/{entry}",
    )
    batch.overrides.append(
        {
            "department": run.department,
            **{
                k: record[k] for k in ("by", "time", "reason", "replaced_manifest_sha256", "history", "manifest_sha256")
            },
        }
    )
    run.notes.append(f"{_final(run) / HISTORY / entry}: the signed run replaced by --force ({batch.reason})")


def _check_inputs_unchanged(run: DepartmentRun) -> None:
    """A data file that changed (or went away) while the run read it fails the department: its snapshot may not be what was scored."""
    changed = []
    for table in run.inputs.get("tables", []):
        path = Path(table["path"])
        try:
            if path.is_file() and sha256_file(path) != table["sha256"]:
                changed.append(f"{path}: changed while the run was reading it; run again")
        except OSError as exc:
            changed.append(f"{path}: cannot be read any more ({exc.strerror}); run again")
    if changed and not run.error:
        run.error = "\n".join(changed)


def _swap(staging: Path, final: Path) -> list[str]:
    """Replace `final` with `staging` whole; the old folder goes into history/ when signed, else away. Returns notes.

    The old folder is renamed aside first (`.old-<dept>-<time>-<pid>`), so an
    interruption at any point leaves either folder whole; `_clean_period` sorts it out.
    """
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f".old-{final.name}-{datetime.now():%Y%m%d%H%M%S}-{os.getpid()}")
        final.rename(old)
    try:
        staging.rename(final)
    except OSError:
        if old is not None:
            old.rename(final)
        raise
    if old is None:
        return []
    try:
        if _signed(old):
            return [f"{trail.keep_history(old, final)}: kept the signed run it replaced"]
        trail.keep_history(old, final, whole=False)  # the signed runs before it stay
        _remove(old)
    except (OSError, KpiError) as exc:
        return [f"{old}: the run it replaced could not be put away ({shorten(exc, 200)}); the next run retries"]
    return []


# -- the period's files ---------------------------------------------------------------------
def _write_period_files(batch: _Batch, departments: list[DepartmentRun]) -> Path | None:
    """index.html, summary.csv, summary.xlsx and the period manifest; a problem is one line, and the manifest is then left alone.

    The period manifest records, for each department of this run, whether it was
    reused or ran and why (departments not in this run keep what they had).
    """
    period = str(batch.window)
    runs = {
        d.department: {
            "run": "reused" if d.reused else "refused" if d.refused else "failed" if d.failed else "ran",
            "why": d.why,
        }
        for d in departments
        if d.department
    }
    try:
        index = write_index(batch.period_dir, period)[0]
        trail.write_period_manifest(batch.period_dir, period, runs, batch.overrides)
        if batch.pdf:
            trail.record_pdfs(batch.period_dir, [d.department for d in departments if d.department and not d.failed])
        _prune_store(batch)
        return index
    except KpiError as exc:
        batch.problems.extend(exc.lines())
    except OSError as exc:
        batch.problems.append(str(output_error(exc, exc.filename or batch.period_dir)))
    except Exception as exc:  # noqa: BLE001 - a bug of ours: the departments are written, say so in one line
        batch.problems.append(
            f"{batch.period_dir}: index failed: {type(exc).__name__}: {shorten(exc, 200)} (please report it)"
        )
    batch.problems.append(
        f"{batch.period_dir}: index.html, the summary files and the period manifest were not brought up to date; fix the above and run again"
    )
    return None


# -- a period and the later ones that compared against it (see `consistency`) --------------------
@dataclass
class PeriodsRun:
    """What `kpi run` did over one or more periods, and the period folders still showing one of them as it was."""

    batches: list[BatchResult]
    stale: list[consistency.Stale]

    @property
    def failed(self) -> bool:
        return any(b.failed or b.problems for b in self.batches)


def run_periods(
    params_files: list[Path],
    window: Period,
    *,
    out: Path,
    and_later: bool = False,
    progress: Callable[[], Progress | None] = lambda: None,
    each: Callable[[BatchResult], None] = lambda batch: None,
    **options: Any,
) -> PeriodsRun:
    """`run_batch` of `window`; with `and_later`, then of each later period of its kind in `out`, oldest first, and of
    each year folder whose index those runs left showing them as they were (same departments, same options).

    `each` is called with each period's result as it ends. The result's `stale` lists the period folders
    that still show a period of this run as it was (`consistency.out_of_date`): with `and_later`, only
    signed departments (they keep the trend they were signed with); without, whatever compared against `window`.
    """
    root = out.resolve()
    ran: list[Period] = []
    batches: list[BatchResult] = []
    for period in consistency.and_later(root, window) if and_later else [window]:
        check_period_folder(root / str(period))
        batches.append(run_batch(params_files, period, out=out, progress=progress(), **options))
        ran.append(period)
        each(batches[-1])
    if and_later:
        for year in consistency.years_to_refresh(root, ran):
            check_period_folder(root / str(year))
            batches.append(run_batch(params_files, year, out=out, progress=progress(), **options))
            ran.append(year)
            each(batches[-1])
    return PeriodsRun(batches, consistency.out_of_date(root, ran))


def check_period_folder(period_dir: Path) -> None:
    """`UsageError` when a period folder holds an index or summary file but no manifest: files kpi run did not write,
    which writing the period's files would replace."""
    if (period_dir / MANIFEST).is_file() or period_dir.is_symlink():
        return
    found = [name for name in PERIOD_FILES if (period_dir / name).exists() or (period_dir / name).is_symlink()]
    if found:
        raise UsageError(
            f"{period_dir / found[0]}: already there and not written by kpi run (the folder has no manifest.json); "
            "refusing to replace it: move it away or pass another --out"
        )
