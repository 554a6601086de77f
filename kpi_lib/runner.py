"""The batch: execute every department's notebooks with papermill, convert them, write `outputs/` (SPEC §8).

For each department and period:

1. its params are loaded in the main process (a bad params file fails the
   department at once, with `error.txt`);
2. the group notebooks run in parallel, each in a fresh kernel, with ASCII
   parameters (`params_path`, `period`, `group`) and the department's output
   folder as working directory;
3. when all succeeded, the scorecard notebook runs (it reads the group
   notebooks' recorded results from `.`), `result.json` is written from the
   scorecard's recorded output, and both HTML reports of every notebook are made;
4. the department's folder replaces the previous one whole.

Work happens in `outputs/<period>/.staging-<department>/` and the finished
folder is renamed into place, so a department's outputs are never half-written
and a re-run replaces them whole. A department that fails keeps its executed
notebooks up to the failing cell (papermill saves them), an `error.txt`, and no
`result.json`; the others carry on.

Notebooks run through a `concurrent.futures.Executor` (a process pool by
default), so another executor with the same interface can be dropped in. A
notebook whose kernel fails to start or dies is retried once (papermill issue
511: two kernels can race for a port); a cell error or a cell timeout is not.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import audit, clock
from .appraisal import in_spec_order
from .errors import KpiError, UsageError
from .params import load_params
from .period import Period
from .reports import department_reports, write_atomic, write_index

GROUPS = ("management", "service", "key_accounts", "cost")  # the packaged template's groups; a department runs its template's
SCORECARD = "scorecard"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT = 600


@dataclass(frozen=True)
class NotebookJob:
    """One notebook to execute (picklable: it crosses into a worker process)."""

    source: str
    output: str
    parameters: Mapping[str, Any]
    cwd: str
    timeout: int = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    seconds: float
    error: str = ""
    attempts: int = 1


@dataclass(frozen=True)
class FinishJob:
    """Run the scorecard (when every group succeeded), write result.json, scorecard.xlsx and the reports."""

    department: str
    title: str
    folder: str
    scorecard: NotebookJob | None
    pdf: bool = False


@dataclass
class DepartmentRun:
    department: str
    params_path: Path
    staging: Path
    final: Path
    name: str = ""
    lang: str = "zh"
    labels: dict[str, str] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""
    refused: bool = False
    groups: tuple[str, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)
    effective: Any = None
    total: float | None = None
    grade: str | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def failed(self) -> bool:
        return bool(self.error)


# -- worker side ----------------------------------------------------------------------------
def _kernel_failure(exc: BaseException) -> bool:
    """True when the kernel failed to start or died (worth one retry), not when a cell failed."""
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    return not isinstance(exc, (PapermillExecutionError, CellTimeoutError, KeyboardInterrupt))


def execute(job: NotebookJob) -> Outcome:
    """Execute one notebook with papermill in a fresh kernel, then settle what it wrote (`notebook.settle`); never raises."""
    from .notebook import settle

    outcome = _papermill(job)
    output = Path(job.output)
    if output.is_file():
        try:
            settle(output)
        except Exception as exc:  # noqa: BLE001 - a notebook papermill could not finish writing
            if outcome.ok:
                return Outcome(outcome.name, False, outcome.seconds, f"{output.name}: unreadable after execution: {type(exc).__name__}: {exc}", outcome.attempts)
    return outcome


def _papermill(job: NotebookJob) -> Outcome:
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
                execution_timeout=job.timeout,
                start_timeout=120,
            )
            return Outcome(name, True, time.monotonic() - started, attempts=attempt)
        except PapermillExecutionError as exc:
            lines = [f"{name}.ipynb, cell [{exc.exec_count}]: {exc.ename}", *str(exc.evalue).splitlines()]
            return Outcome(name, False, time.monotonic() - started, "\n".join(lines), attempt)
        except BaseException as exc:  # noqa: BLE001 - reported as the department's error, never a crash of the batch
            if attempt == 1 and _kernel_failure(exc):
                continue
            what = "kernel failed to start or died" if _kernel_failure(exc) else "timed out"
            return Outcome(name, False, time.monotonic() - started, f"{name}.ipynb: {what}: {type(exc).__name__}: {exc}", attempt)
    raise AssertionError("unreachable")


def finish(job: FinishJob) -> Outcome:
    """Scorecard, result.json and reports of one department; never raises."""
    from .notebook import read_record

    started = time.monotonic()
    folder = Path(job.folder)
    error = ""
    try:
        if job.scorecard is not None:
            outcome = execute(job.scorecard)
            if outcome.ok:
                record = read_record(folder / f"{SCORECARD}.ipynb", kind="scorecard")
                result = in_spec_order(record["result"])
                write_atomic(folder / "result.json", json.dumps(result, ensure_ascii=False, indent=2) + "\n")
                write_atomic(folder / "scorecard.xlsx", audit.scorecard_xlsx_bytes(folder))
            else:
                error = outcome.error
        pages = department_reports(folder, job.title)
        if job.pdf:
            from .exports import html_to_pdf

            for page in pages:
                if not page.name.endswith(".audit.html"):
                    html_to_pdf(page, page.with_suffix(".pdf"))
    except Exception as exc:  # noqa: BLE001
        error = error or f"reports: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    return Outcome(SCORECARD, not error, time.monotonic() - started, error)


# -- main side ------------------------------------------------------------------------------
def notebooks_folder(given: Path | None) -> Path:
    folder = given or PROJECT_ROOT / "notebooks"
    missing = [f"{n}.ipynb" for n in (SCORECARD,) if not (folder / f"{n}.ipynb").is_file()]
    if missing:
        raise UsageError(f"{folder}: notebooks not found ({', '.join(missing)}); pass --notebooks DIR")
    return folder


def all_params(cwd: Path | None = None) -> list[Path]:
    """Every params file under `params/` of the working directory, else of the project."""
    for base in (cwd or Path.cwd(), PROJECT_ROOT):
        found = sorted((base / "params").glob("*.yaml")) + sorted((base / "params").glob("*.yml"))
        if found:
            return found
    raise UsageError("--all: no params/*.yaml in the working directory or the project; pass PARAMS files")


def _send_stderr_to(log: str) -> None:
    """Worker initializer: kernels inherit the worker's stderr; their chatter goes to a log, not the terminal."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def local_executor(jobs: int, log: Path) -> Executor:
    """A process pool whose workers start clean (spawn), so no parent state leaks into them."""
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_send_stderr_to, initargs=(str(log),))


class DaskExecutor(Executor):
    """A dask.distributed cluster behind the `concurrent.futures.Executor` interface.

    With `scheduler` None a local cluster of `jobs` single-threaded worker processes
    is started and stopped with the executor; otherwise the workers of the
    scheduler at that address run the notebooks (they need kpi_lib installed and
    the same paths to the params, data, notebooks and outputs).
    """

    def __init__(self, jobs: int, log: Path, scheduler: str | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UsageError("--executor dask needs dask.distributed: pip install 'kpi-appraisal[dask]'") from None
        self.cluster = None if scheduler else LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        try:
            self.client = Client(scheduler or self.cluster, timeout=30)
        except OSError as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot reach the dask scheduler ({exc})") from None
        self.client.run(_send_stderr_to, str(log))
        self.inner = self.client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def dask_executor(scheduler: str | None = None) -> Callable[[int, Path], Executor]:
    return lambda jobs, log: DaskExecutor(jobs, log, scheduler)


@dataclass
class BatchResult:
    period: str
    out: Path
    departments: list[DepartmentRun]
    index: Path | None
    seconds: float

    @property
    def failed(self) -> list[DepartmentRun]:
        return [d for d in self.departments if d.failed]


def run_batch(
    params_files: list[Path],
    period: str,
    *,
    out: Path,
    jobs: int,
    notebooks: Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    executor: Callable[[int, Path], Executor] = local_executor,
    progress: Any = None,
    force: bool = False,
    pdf: bool = False,
) -> BatchResult:
    """Execute, convert and write every department of `params_files` for one period.

    A department that was signed off is refused (its outputs stay as they are)
    unless `force`, which keeps the signed run in the new folder's `history/`.
    """
    started = time.monotonic()
    window = Period.parse(period)
    clock.source_date_epoch()  # a malformed SOURCE_DATE_EPOCH is a usage error before anything runs
    source = notebooks_folder(notebooks)
    if pdf:
        from .exports import chromium

        chromium()  # fail early, with the install hint, before any notebook runs
    period_dir = (out / str(window)).resolve()
    period_dir.mkdir(parents=True, exist_ok=True)
    runs = _prepare(params_files, window, period_dir, force, source)
    if progress is not None:
        progress.start(len(runs))
    pending: dict[Future[Outcome], tuple[DepartmentRun, str]] = {}
    with executor(max(1, jobs), period_dir / ".kernels.log") as pool:

        def submit(run: DepartmentRun, kind: str, fn: Callable[[Any], Outcome], job: Any) -> None:
            pending[pool.submit(fn, job)] = (run, kind)

        for run in runs:
            if run.failed:
                _finalize(run, period_dir, progress, force)
                continue
            for group in run.groups:
                parameters = {"params_path": str(run.params_path), "period": str(window), "group": group}
                submit(run, group, execute, NotebookJob(str(source / f"{group}.ipynb"), str(run.staging / f"{group}.ipynb"), parameters, str(run.staging), timeout))
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                run, kind = pending.pop(future)
                outcome = _outcome(future, kind)
                run.outcomes.append(outcome)
                if kind != SCORECARD:
                    if sum(1 for o in run.outcomes if o.name in run.groups) < len(run.groups):
                        continue
                    errors = [o.error for o in run.outcomes if not o.ok]
                    run.error = "\n".join(errors)
                    scorecard = None
                    if not errors:
                        parameters = {"params_path": str(run.params_path), "period": str(window), "results_dir": "."}
                        scorecard = NotebookJob(str(source / f"{SCORECARD}.ipynb"), str(run.staging / f"{SCORECARD}.ipynb"), parameters, str(run.staging), timeout)
                    title = f"{run.name or run.department} · {window}"
                    submit(run, SCORECARD, finish, FinishJob(run.department, title, str(run.staging), scorecard, pdf))
                else:
                    if not outcome.ok and not run.error:
                        run.error = outcome.error
                    _finalize(run, period_dir, progress, force)
    index = write_index(period_dir, str(window))[0]
    audit.write_period_manifest(period_dir, str(window))
    if progress is not None:
        progress.stop()
    return BatchResult(str(window), period_dir, runs, index, time.monotonic() - started)


def _outcome(future: Future[Outcome], kind: str) -> Outcome:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a worker that crashed outright
        return Outcome(kind, False, 0.0, f"{kind}: worker failed: {type(exc).__name__}: {exc}")


def _prepare(params_files: list[Path], window: Period, period_dir: Path, force: bool, source: Path) -> list[DepartmentRun]:
    """Load every params file, refuse signed departments (unless forced), snapshot each one's inputs."""
    runs: list[DepartmentRun] = []
    seen: dict[str, Path] = {}
    for path in params_files:
        path = path.resolve()
        if not path.is_file():
            raise UsageError(f"{path}: params file not found")
        try:
            department = load_params(path)
            params = department.for_period(window)
            dept_id, error = department.id, ""
        except KpiError as exc:
            department, params = None, None
            dept_id, error = path.stem, "\n".join(exc.lines())
        if dept_id in seen:
            raise UsageError(f"{path}: department {dept_id} is also defined by {seen[dept_id]}; expected one params file per department")
        seen[dept_id] = path
        staging = period_dir / f".staging-{dept_id}"
        run = DepartmentRun(dept_id, path, staging, period_dir / dept_id, error=error)
        runs.append(run)
        if audit.is_signed(run.final) and not force:
            run.refused = True
            run.error = f"{run.final}: signed off; refusing to overwrite (pass --force to re-run and keep the signed run in history/)"
            continue
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if params is not None and department is not None:
            run.groups = tuple(department.template.groups)
            missing = [g for g in run.groups if not (source / f"{g}.ipynb").is_file()]
            if missing:
                run.error = f"{source}: no notebook for group(s) {', '.join(missing)} of template {department.template.id}; expected <group>.ipynb"
            run.name, run.lang = params.name, params.lang
            run.labels = {b.grade: b.label for b in params.grades}
            run.effective = params.model_dump(mode="json")
            try:
                run.inputs = audit.snapshot_inputs(department, window, staging)
            except KpiError as exc:  # an adapter's output that cannot be kept exactly: the department fails, the others run
                run.error = run.error or "\n".join(exc.lines())
        meta = {"department": run.department, "name": run.name, "lang": run.lang, "labels": run.labels, "params": str(run.params_path)}
        write_atomic(staging / "department.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    return runs


def _finalize(run: DepartmentRun, period_dir: Path, progress: Any, force: bool = False) -> None:
    """error.txt or the result's numbers, then the manifest (last), then swap the staging folder into place."""
    if run.refused:
        if progress is not None:
            progress.advance(run)
        return
    changed = [t["path"] for t in run.inputs.get("tables", []) if Path(t["path"]).is_file() and audit.sha256_file(Path(t["path"])) != t["sha256"]]
    if changed and not run.error:
        run.error = "\n".join(f"{path}: changed while the run was reading it; run again" for path in changed)
    if run.failed:
        (run.staging / "result.json").unlink(missing_ok=True)
        write_atomic(run.staging / "error.txt", f"{run.department} failed\n{run.error}\n")
    else:
        result = json.loads((run.staging / "result.json").read_text(encoding="utf-8"))
        run.total, run.grade = result["total"], result["grade"]
    manifest = audit.build_manifest(
        run.staging,
        department=run.department,
        period=period_dir.name,
        status="failed" if run.failed else "ok",
        inputs=run.inputs,
        effective=run.effective,
        commit=audit.git_commit(),
    )
    write_atomic(run.staging / audit.MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    if force and audit.is_signed(run.final):
        audit.keep_history(run.final, run.staging)
    _swap(run.staging, run.final)
    if progress is not None:
        progress.advance(run)


def _swap(staging: Path, final: Path) -> None:
    """Replace `final` with `staging` whole: the old folder is moved aside, then removed."""
    trash = None
    if final.exists():
        trash = final.with_name(f".old-{final.name}-{datetime.now():%Y%m%d%H%M%S}-{os.getpid()}")
        final.rename(trash)
    staging.rename(final)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
