"""The `kpi` command (docs: reference/cli). Exit 0 on success, 1 when any department failed, 2 on bad usage.

Errors are printed to stderr as one readable line each (`kpi: <file>: row …`),
never as a traceback: `main()` runs the typer app in non-standalone mode and
turns typer's usage errors and the toolkit's `KpiError`s into lines and exit
codes itself.

Every usage error (exit 2), whether typer found it (a missing option, an unknown
one, a value that does not convert) or a command did (`UsageError`), reads the
same way and points at the help of the command that was called:

    kpi: missing option --period; see 'kpi run --help'
    kpi: --jobs 0: expected a whole number ≥ 1; see 'kpi run --help'

The `kpi: ` prefix stays on every line kpi writes to stderr (the progress bar
shares stderr; scripts and tests pick kpi's lines by it). Count options (`--jobs`,
`--timeout`, `--departments`, `--rows`) are parsed by `_count`, which names the
option and the value, where typer's own conversion names neither.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text
from typer.exceptions import TyperException

from . import __version__
from .audit.consistency import lines as consistency_lines
from .audit.diff import diff_runs
from .audit.trail import read_log, record_pdfs, refresh_pdfs, verify_period
from .audit.trail import sign as sign_off
from .base.errors import InternalError, KpiError, UsageError, problem_lines
from .base.files import refuse_replacing, write_atomic
from .base.layout import DEPARTMENT, ERROR, HISTORY, MANIFEST, PDFS
from .base.messages import both, say
from .base.numbers import plain
from .batch.demo import write_demo
from .batch.importer import import_sheet, write_import
from .batch.lock import PeriodLock
from .batch.runner import DEFAULT_TIMEOUT, BatchResult, DepartmentRun, PeriodsRun, all_params, run_periods
from .batch.scaffold import init_company
from .batch.workers import dask_executor, local_executor
from .inputs import template as templates
from .inputs.params import Department, load_params
from .inputs.period import FIRST_YEAR, LAST_YEAR, Period
from .inputs.schemas import KINDS, schema_text
from .inputs.scope import Scope
from .inputs.tables import DataFolder, note_lines
from .inputs.template import load_template
from .inputs.workdays import DEFAULT_CALENDAR, UnknownCalendar, calendar_of
from .reports.exports import chromium, html_to_pdf
from .scoring.appraisal import Scorecard, appraise, tables_needed
from .scoring.schedule import ICS_PRODID, Task, findings, tasks, to_ics
from .words.explain import formula_line, grade_label, label, rule_line, status_text, survey_line, value_text

if TYPE_CHECKING:
    from rich.progress import Task as BarTask

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="kpi: quantified department performance appraisal (绩效量化考核).",
)

# Piped output (no terminal) gets a wide page rather than rich's 80 columns, so tables stay readable.
# Text from data, params or errors is printed as written: no console markup (`[bold]`), no emoji codes (`:x:`).
stdout = Console(
    highlight=False,
    soft_wrap=True,
    emoji=False,
    width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", 160)),
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def _error(line: str) -> None:
    stderr.print(f"kpi: {line}", markup=False)


def _table(title: str, columns: list[tuple[str, str]], no_wrap: tuple[str, ...] = ()) -> RichTable:
    """A rich table whose title and headers are plain text; add rows with `_row` (cells are plain text too)."""
    table = RichTable(title=Text(title), title_justify="left")
    for name, justify in columns:
        table.add_column(Text(name), justify=justify, no_wrap=name in no_wrap)  # type: ignore[arg-type]
    return table


def _row(table: RichTable, *cells: object) -> None:
    """One row of plain-text cells: a value like `[/x]` is shown as written, never read as markup."""
    table.add_row(*(Text(str(cell)) for cell in cells))


def _period(text: str) -> Period:
    return Period.parse(text)


COUNT = "expected a whole number ≥ 1"


def _count(option: str) -> Callable[[object], int]:
    """The parser of a count option (`typer.Option(parser=…)`): a whole number ≥ 1, else a usage error naming both.

    `-1`, `0`, `2.5`, `abc` and `` are refused as `--jobs 0: expected a whole number ≥ 1`;
    typer passes the default (an int) through the parser too.
    """

    def parse(value: object) -> int:
        text = str(value).strip()
        if not re.fullmatch(r"\+?[0-9]+", text) or int(text) < 1:
            raise UsageError(f"{option} {value}: {COUNT}")
        return int(text)

    return parse


def _whole(option: str) -> Callable[[object], int]:
    """The parser of a whole-number option that is not a count (`--year`): its range is checked by the command."""

    def parse(value: object) -> int:
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise UsageError(f"{option} {value}: expected a whole number")
        return int(text)

    return parse


def _version(value: bool) -> None:
    if value:
        stdout.print(f"kpi-appraisal {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print kpi-appraisal's version and exit."),
    ] = False,
) -> None:
    """kpi: quantified department performance appraisal (绩效量化考核)."""


@app.command()
def score(
    params: Annotated[Path, typer.Argument(help="The department's params YAML.")],
    period: Annotated[str, typer.Option("--period", "-p", help="2026, 2026-H2, 2026-Q4 or 2026-10.")],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the result as one JSON object (total, grade, each indicator's numbers) and nothing else.",
        ),
    ] = False,
) -> None:
    """Compute one department for one period and print its scorecard."""
    window = _period(period)
    department = load_params(params)
    data = DataFolder.of(department, window)
    card = appraise(department, window, data=data)
    for line in unknown_values(department, data, window):
        _error(line)
    if as_json:
        sys.stdout.write(json.dumps(card.to_json(), ensure_ascii=False) + "\n")
        return
    print_scorecard(card, department.base.lang)


def print_scorecard(card: Scorecard, lang: str) -> None:
    """A compact table (fits 80 columns), then one line per indicator with its formula and rule."""
    title = f"{card.name or card.department} ({card.department}) · {label('period', lang)} {card.period} [{card.period.start} – {card.period.end}]"
    keys = (
        ("id", "left"),
        ("name", "left"),
        ("weight", "right"),
        ("target", "right"),
        ("value", "right"),
        ("score", "right"),
        ("status", "left"),
    )
    table = _table(title, [(label(key, lang), justify) for key, justify in keys])
    for r in card.results:
        target = "—" if r.params.target is None else f"{plain(r.params.target)}%"
        _row(
            table,
            r.id,
            r.indicator.name(lang),
            plain(r.params.weight),
            target,
            value_text(r),
            plain(r.score, 2),
            status_text(r.status, lang),
        )
    summary = card.summary
    if summary is None:  # appraise() of the whole template always combines; a part of it has no total
        raise InternalError(f"{card.department} {card.period}: no weighted total (only some groups were computed)")
    grade = f"{summary.grade} {grade_label(summary.label, lang)}".strip() if summary.grade else "—"
    table.add_section()
    _row(table, "", label("total", lang), plain(summary.scored_weight), "", "", plain(summary.total, 2), grade)
    stdout.print(table)
    for r in card.results:
        stdout.print(f"{r.id}  {formula_line(r, lang)}", markup=False)
        survey = survey_line(r, lang, card.params.policy.min_responses)
        if survey:
            stdout.print(f"      {survey}", markup=False)
        stdout.print(f"      {rule_line(r, lang)}", markup=False)
    if summary.excluded:
        stdout.print(say("cli.scorecard.excluded", lang, indicators=", ".join(summary.excluded)), markup=False)
    for finding in card_findings(card, lang):
        stdout.print(say("cli.scorecard.finding", lang, finding=finding), markup=False)


def card_findings(card: Scorecard, lang: str = "en") -> list[Any]:
    """Evidence collected outside its collection window (information, not an error), in `lang`."""
    review, working = card.params.review_date, card.params.working_calendar
    return [f for r in card.results for f in findings(r, review, working, lang)]


@app.command()
def validate(
    params: Annotated[list[Path], typer.Argument(help="One or more params YAML files.")],
    period: Annotated[
        str | None,
        typer.Option(
            "--period", "-p", help="The period to compute (default: the year of review_date, else this year)."
        ),
    ] = None,
) -> None:
    """Check parameters and every input table of each department; list all problems.

    Then compute the period (catching a missing budget or observation) and list
    findings: evidence collected outside its collection window (not errors).
    """
    window = _period(period) if period else None
    failed = 0
    for path in params:
        lines = _validate_one(path, window)
        if lines:
            failed += 1
            for line in lines:
                _error(line)
        else:
            stdout.print(f"ok  {path}", markup=False)
    if failed:
        raise typer.Exit(1)


def _validate_one(path: Path, window: Period | None) -> list[str]:
    """Problems (errors) of one department; notes and findings are printed as they are found.

    A problem that cannot change a number of the period (in a column no indicator
    reads, in a row outside the period's window) is a note: printed, never an error.
    """
    try:
        department = load_params(path)
        review = department.base.review_date
        period = window or Period.parse(str(review.year if review else date.today().year))
        data = DataFolder.of(department, period)
        needed = _tables_of_every_period(department)
        scope = Scope.of(department.template, department.for_period(period), period)
        found = [data.table(n).sorted_problems(department.id, scope) for n in needed]
        notes = (note for each in found for note in note_lines(each, department.id, period))
        for note in dict.fromkeys(notes):  # tables read from one file share its notes: each said once
            stdout.print(f"note  {path}: {note}", markup=False)
        lines = problem_lines(p for each in found for p in each.stops)
        if lines:
            return lines
        for line in [*unknown_values(department, data), *shared_codes(department)]:
            stdout.print(f"note  {path}: {line}", markup=False)
        lang = department.base.lang  # lines about the department are in its language
        for finding in card_findings(appraise(department, period, data=data), lang):
            stdout.print(say("cli.validate.finding", lang, path=path, period=period, finding=finding), markup=False)
        return []
    except KpiError as exc:
        return exc.lines()


def shared_codes(department: Department) -> list[str]:
    """Department codes a table's `values:` map gives this department more than one of (a copy-paste slip, or two
    codes of one department): said, so that another department's rows never count here unseen."""
    lines = []
    for name, source in department.base.tables.items():
        codes = [str(code) for code, target in source.values.get("department", {}).items() if target == department.id]
        if len(codes) > 1:
            lines.append(
                f"tables.{name}.values.department gives {department.id} the rows of {len(codes)} codes: "
                f"{', '.join(codes)}; check that each is one of its own"
            )
    return lines


def unknown_values(department: Department, data: DataFolder, period: Period | None = None) -> list[str]:
    """Values of the department's filtered columns no indicator looks for (a survey kind …): its rows are left out."""
    needed = tables_needed(department.for_period(period), department.template.indicators) if period else None
    names = needed if needed is not None else _tables_of_every_period(department)
    return [line for name in names for line in data.table(name).unknown_values(department.id)]


def _tables_of_every_period(department: Department) -> list[str]:
    """The tables the department needs in its base params or any period override (and no others)."""
    every = [department.base, *(department.for_period(Period.parse(p)) for p in department.base.periods)]
    return list(dict.fromkeys(n for params in every for n in tables_needed(params, department.template.indicators)))


def _clock(seconds: float | None) -> str:
    """`0:01:05` (H:MM:SS, whole seconds)."""
    whole = int(seconds or 0)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class BatchProgress:
    """The bar of `kpi run` on stderr: notebooks done of all, time, failed departments, the notebook running.

    `━━━━━━━╸━━━━━━━━  7/15 notebooks · elapsed 0:00:12 · left 0:00:14 · cs-east · service (+1)`

    It advances per notebook (see `runner.Progress`). "left" appears once rich can
    estimate it from finished notebooks (no `-:--:--` placeholder), "1 failed" once
    a department failed; several notebooks running show as the oldest and a count,
    cut with an ellipsis on a narrow terminal (the counts and times never wrap).
    Only on a terminal: piped or redirected (CI logs, tests) the bar is off, notes
    still print as `kpi: …` lines, and the summary table on stdout tells how the run went.
    """

    def __init__(self, console: Console | None = None) -> None:
        from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
        from rich.table import Column

        class Clock(ProgressColumn):
            """`elapsed 0:00:12 · left 0:00:30 · 1 failed`: "left" once estimated, "failed" once any."""

            def render(self, task: BarTask) -> Text:
                left = None if task.finished else task.time_remaining
                failed = task.fields.get("failed", 0)
                return Text(
                    f"elapsed {_clock(task.elapsed)}"
                    + ("" if left is None else f" · left {_clock(left)}")
                    + (f" · {failed} failed" if failed else "")
                )

        class Running(ProgressColumn):
            """The notebook running; the one column a narrow terminal shortens (with an ellipsis)."""

            def render(self, task: BarTask) -> Text:
                return Text(task.fields.get("running", ""), no_wrap=True, overflow="ellipsis")

        self.console = console or stderr
        self.progress = Progress(
            BarColumn(bar_width=12, table_column=Column(no_wrap=True)),
            TextColumn("{task.completed:.0f}/{task.total:.0f} notebooks ·", table_column=Column(no_wrap=True)),
            Clock(table_column=Column(no_wrap=True)),
            Running(),
            console=self.console,
            transient=False,
            disable=not self.console.is_terminal,
        )
        self.failed = 0
        self.running: list[str] = []  # the notebooks handed to workers and not yet ended, oldest first
        self.task: Any = None

    def start(self, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("notebooks", total=total, failed=0, running="")

    def _running(self) -> str:
        if not self.running:
            return ""
        more = f" (+{len(self.running) - 1})" if len(self.running) > 1 else ""
        return f"· {self.running[0]}{more}"

    def begin(self, what: str) -> None:
        self.running.append(what)
        self.progress.update(self.task, running=self._running())

    def end(self, what: str, steps: int) -> None:
        if what in self.running:
            self.running.remove(what)
        self.progress.update(self.task, advance=steps, running=self._running())

    def done(self, run: DepartmentRun, steps: int) -> None:
        self.failed += int(run.failed)
        self.progress.update(self.task, advance=steps, failed=self.failed)

    def note(self, line: str) -> None:
        """A line about the period folder (a lock taken over, a clean-up), shown at once above the bar."""
        self.progress.console.print(f"kpi: {line}", markup=False)

    def stop(self) -> None:
        self.progress.stop()


@app.command(name="run")
def run_command(
    period: Annotated[str, typer.Option("--period", "-p", help="2026, 2026-H2, 2026-Q4 or 2026-10.")],
    params: Annotated[list[Path] | None, typer.Argument(help="Params YAML files (or --all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every params file under params/.")] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            parser=_count("--jobs"),
            metavar="N",
            help="Notebooks run at once, 1 or more (leave out for the number of cores).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where outputs/<period>/ is written.")] = Path("outputs"),
    notebooks: Annotated[
        Path | None,
        typer.Option("--notebooks", help="Folder of the source notebooks (default: the project's notebooks/)."),
    ] = None,
    timeout: Annotated[
        int,
        typer.Option(
            "--timeout",
            parser=_count("--timeout"),
            metavar="SECONDS",
            help="Seconds a notebook cell may run, 1 or more.",
        ),
    ] = DEFAULT_TIMEOUT,
    executor: Annotated[
        str, typer.Option("--executor", help="local (a process pool) or dask (dask.distributed).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="With --executor dask: a scheduler address (default: a local cluster)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Re-run signed departments, keeping the signed run in history/ (needs --reason)."),
    ] = False,
    reason: Annotated[
        str,
        typer.Option("--reason", help="With --force: why the signed runs are replaced (recorded with who and when)."),
    ] = "",
    by: Annotated[
        str, typer.Option("--by", help="With --force: who forces it (default: your operating-system user name).")
    ] = "",
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print every reader's report to PDF (needs Chromium).")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Run every department again, even those whose inputs and params are unchanged."),
    ] = False,
    and_later: Annotated[
        bool,
        typer.Option(
            "--and-later",
            help="Then run every later period of the same kind in the outputs folder (and the year), oldest first.",
        ),
    ] = False,
) -> None:
    """Execute the notebooks of every department with papermill and write reports to outputs/<period>/.

    A department whose own rows, params, template, notebooks and toolkit are
    unchanged since its last good run is reused as it is (--fresh runs it again);
    outputs/<period>/manifest.json says, for each department, whether it was
    reused or ran and why. One run per period folder at a time
    (outputs/<period>/.lock); a run that was interrupted is cleaned up by the next one.

    A run that changes a period later periods compared against (their trend, their
    change since) ends by naming them and the command that brings them up to date;
    --and-later runs them too, oldest first.
    """
    window = _period(period)
    if executor not in ("local", "dask"):
        raise UsageError(f"--executor {executor!r}: expected local or dask")
    if scheduler and executor != "dask":
        raise UsageError("--scheduler goes with --executor dask")
    if all_ and params:
        raise UsageError("pass PARAMS files or --all, not both")
    if (reason or by) and not force:
        raise UsageError("--reason and --by go with --force (they record why and by whom signed runs were replaced)")
    files = all_params() if all_ else list(params or [])
    if not files:
        raise UsageError("no department given; pass PARAMS files or --all")
    pool = dask_executor(scheduler) if executor == "dask" else local_executor
    done = run_periods(
        files, window, out=out, and_later=and_later, progress=BatchProgress, each=print_batch,
        jobs=os.cpu_count() or 1 if jobs is None else jobs, notebooks=notebooks, timeout=timeout,
        force=force, pdf=pdf, executor=pool, fresh=fresh, reason=reason, by=by,
    )  # fmt: skip
    for line in stale_lines(done, window, run_again(files if not all_ else None, out)):
        _error(line)
    if done.failed:
        raise typer.Exit(1)


def run_again(files: list[Path] | None, out: Path) -> Callable[[Period], str]:
    """How to run the same departments for another period: `kpi run --period 2026-Q4 --all` (files: None for --all)."""
    who = "--all" if files is None else " ".join(shlex.quote(str(f)) for f in files)
    where = "" if out == Path("outputs") else f" --out {shlex.quote(str(out))}"
    return lambda period: f"kpi run --period {period} {who}{where}"


def stale_lines(done: PeriodsRun, window: Period, command: Callable[[Period], str]) -> list[str]:
    """The end of `kpi run`: the period folders that still show a period of this run as it was, and what to run."""
    return consistency_lines(done.stale, window, command)


def print_batch(result: BatchResult) -> None:
    """The summary table, one line per failed department (and per problem of the period folder), the index."""
    columns = [("department", "left"), ("status", "left"), ("total", "right"), ("grade", "left"), ("error", "left")]
    table = _table(f"kpi run · {result.period} · {result.seconds:.1f} s", columns)
    for d in result.departments:
        error = " | ".join(d.error.splitlines()[:3])
        _row(
            table,
            d.label,
            "refused" if d.refused else "failed" if d.failed else "reused" if d.reused else "ok",
            "" if d.total is None else f"{d.total:.2f}",
            d.grade or "",
            error,
        )
    stdout.print(table)
    for d in result.departments:
        for note in d.notes:
            _error(f"{d.label}: {note}")
    for d in result.failed:
        _error(_failure_line(d))
    for line in result.problems:
        _error(line)
    if result.index is not None:
        stdout.print(f"index: {result.index}", markup=False)


def _failure_line(d: DepartmentRun) -> str:
    """Why a department failed, in one line, and where to read more."""
    if d.refused:
        return d.error
    if not d.department:  # the params file did not load: its problems, no folder
        return " | ".join(d.error.splitlines()) + " (the department did not run; nothing written)"
    first = d.error.splitlines()[0] if d.error else ""
    return (
        f"{d.department} failed: {first}"
        if d.unwritable
        else f"{d.department} failed: {first} (see {d.final / ERROR if d.final else ''})"
    )


@app.command()
def verify(
    folder: Annotated[Path, typer.Argument(help="outputs/<period> (or one department folder).")],
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Also recompute every score from the recorded inputs.")
    ] = False,
    pubkey: Annotated[
        Path | None, typer.Option("--pubkey", help="Ed25519 public key (PEM) to check signatures with.")
    ] = None,
) -> None:
    """Re-hash inputs, parameters and outputs against the manifests; report signatures; exit 0 only when all match.

    A changed HTML page is rendered again from what the run recorded and the first
    values that differ are named under it. The last line sums the check up:
    `verify: 0 problems in 54 outputs`, or `verify: 3 problems in 2 departments`,
    where a problem is one difference (a file or value changed, deleted, added or
    unreadable) or one broken sign-off record; notes are not problems.
    """

    report = verify_period(folder, recompute=recompute, pubkey=pubkey)
    for line in report.differences:
        _error(line)
    for line in report.notes:
        stdout.print(f"note  {line}", markup=False)
    for line in report.signatures:
        if line not in report.broken:
            stdout.print(line, markup=False)
        else:
            _error(line)
    if report.ok:
        what = " and every score recomputed" if recompute else ""
        stdout.print(f"ok  {folder}: {report.checked} output(s) match their manifests{what}", markup=False)
    stdout.print(report.closing_line(), markup=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def sign(
    folder: Annotated[Path, typer.Argument(help="outputs/<period>/<department>.")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="A sign-off role of the department's template, signing in order; the seed's: manager (部门经理), then supervisor (上级主管领导).",
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Who signs.")],
    comment: Annotated[str, typer.Option("--comment", help="A remark kept with the signature.")] = "",
    key: Annotated[
        Path | None, typer.Option("--key", help="Ed25519 private key (PEM) to sign the manifest hash with.")
    ] = None,
) -> None:
    """Sign off a department's results, role after role; refused when its outputs no longer match their manifest.

    A role signs after every role before it, once per evidence; a forced re-run starts
    a new round (the earlier one stays shown as superseded). The reports, scorecard.xlsx,
    the index, the summaries and any PDF already printed under <period>/pdf/ show it.

    Signing holds the period folder's lock, like `kpi run`: a run that is replacing
    the department's folder and a sign-off of it never interleave.
    """

    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder; expected outputs/<period>/<department> written by kpi run")
    if folder.resolve().parent.name == HISTORY:
        raise UsageError(
            f"{folder}: a run kept in history/ (replaced by a forced re-run); it is not signed again: "
            f"sign the department's current run, {folder.resolve().parent.parent}"
        )
    if not (folder / MANIFEST).is_file() or not (folder / DEPARTMENT).is_file():  # before the lock: nothing written
        raise UsageError(
            f"{folder}: not a department folder (no manifest.json and department.json); "
            "expected outputs/<period>/<department> written by kpi run"
        )
    with PeriodLock(folder.resolve().parent) as lock:
        if lock.takeover_note():
            stderr.print(f"kpi: {lock.takeover_note()}", markup=False)
        record = sign_off(folder, role=role, name=name, comment=comment, key=key)
        printed = refresh_pdfs(folder)  # the PDFs already printed show the signatures too
    signed = " with an Ed25519 signature" if "signature" in record else ""
    stdout.print(
        f"signed {folder} as {role} {name} at {record['time']}{signed} (manifest sha256 {record['manifest_sha256']})",
        markup=False,
    )
    head = read_log(folder)[-1].sha256
    stdout.print(
        f"sign-off log head: {head} (keep it outside outputs/: kpi verify prints the head it finds, and only this shows a removed last record)",
        markup=False,
    )
    for line in printed:
        (stdout if line.endswith("with the signatures") else stderr).print(
            line if line.endswith("with the signatures") else f"kpi: {line}", markup=False
        )


@app.command()
def diff(
    run_a: Annotated[Path, typer.Argument(help="A department output folder (e.g. its history/<time>/).")],
    run_b: Annotated[Path, typer.Argument(help="Another department output folder.")],
) -> None:
    """Per indicator: old and new value and score, and why: which parameters, input files and rows changed."""

    for line in diff_runs(run_a, run_b):
        stdout.print(line, markup=False, soft_wrap=True)


@app.command()
def pdf(
    folder: Annotated[Path, typer.Argument(help="outputs/<period> (or one department folder).")],
    out: Annotated[Path | None, typer.Option("--out", help="Where the PDFs go (default: <period>/pdf/).")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --out: replace PDFs already there (<period>/pdf/ is always kpi's).")
    ] = False,
) -> None:
    """Print the reader's HTML reports to PDF with headless Chromium.

    Into <period>/pdf/ (the period folder's own) a PDF is always made again; into a
    folder given with --out, a file already there that kpi pdf did not print is refused unless --force.
    """

    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder; expected outputs/<period> (or one department folder inside it)")
    chromium()
    departments = (
        [folder]
        if (folder / DEPARTMENT).is_file()
        else sorted(p for p in folder.iterdir() if (p / DEPARTMENT).is_file())
    )
    if not departments:
        raise UsageError(f"{folder}: no department reports here; expected outputs/<period> written by kpi run")
    period_dir = folder.parent if departments == [folder] else folder
    target = out or period_dir / PDFS
    pages = [
        (page, target / department.name / page.with_suffix(".pdf").name)
        for department in departments
        for page in sorted(department.glob("*.html"))
        if not page.name.endswith(".audit.html")
    ]
    if out is not None and not force:
        for _, made in pages:  # every file checked before any is written
            refuse_replacing(made, ours=printed_headless)
    for page, made in pages:
        html_to_pdf(page, made)
    if target.resolve() == (period_dir / PDFS).resolve():  # the period's own: recorded, so verify checks them
        with PeriodLock(period_dir.resolve()):
            record_pdfs(period_dir, [d.name for d in departments])
    stdout.print(f"wrote {target}", markup=False)


def printed_headless(data: bytes) -> bool:
    """A PDF headless Chromium printed (as `kpi pdf` does), not one a person saved or another program made."""
    return data.startswith(b"%PDF-") and b"/Producer (Skia/PDF" in data and b"HeadlessChrome" in data


@app.command()
def calendar(
    year: Annotated[
        int, typer.Option("--year", "-y", parser=_whole("--year"), metavar="YEAR", help="The calendar year.")
    ],
    params: Annotated[
        list[Path] | None, typer.Argument(help="Params files: tasks per department (default: the packaged template).")
    ] = None,
    ics: Annotated[Path | None, typer.Option("--ics", help="Also write an iCalendar file.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --ics: replace a file there that kpi calendar did not write.")
    ] = False,
    review_date: Annotated[
        str | None,
        typer.Option(
            "--review-date", help="Template-level only: the annual review day (default: the year's last working day)."
        ),
    ] = None,
    template: Annotated[
        str, typer.Option("--template", help="Template-level only: a packaged name or a path.")
    ] = "customer_service",
    calendar_code: Annotated[
        str,
        typer.Option(
            "--calendar",
            help="Template-level only: the working-day calendar (CN, a country code such as US-NY or DE-BY, or weekdays).",
        ),
    ] = DEFAULT_CALENDAR,
) -> None:
    """Every collection task of a year: window, indicator, collector, source, method."""

    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UsageError(f"--year {year}: expected a year from {FIRST_YEAR} to {LAST_YEAR}")
    found: list[Task] = []
    lang = "zh"
    methods: dict[str, templates.Text] = {}
    calendars: list[str] = []
    if params:
        for path in params:
            department = load_params(path)
            lang, methods = department.base.lang, {**department.template.methods, **methods}
            found += tasks(department.template, year, department=department)
            calendars.append(department.base.working_calendar.label)
    else:
        try:
            working = calendar_of(calendar_code)
        except UnknownCalendar as exc:
            raise UsageError(f"--calendar {calendar_code!r}: {exc}") from None
        calendars.append(working.label)
        try:
            review = date.fromisoformat(review_date) if review_date else None
        except ValueError:
            raise UsageError(f"--review-date {review_date!r}: expected YYYY-MM-DD") from None
        loaded = load_template(template)
        methods = dict(loaded.methods)
        found = tasks(loaded, year, review_date=review, calendar=working)
    found.sort(key=lambda t: (t.start, t.department, t.indicator.id))
    columns = [
        (name, "left")
        for name in ("window", "indicator", "collector", "source", "method", *(("department",) if params else ()))
    ]
    title = " ".join(both("cli.calendar.title"))
    shown = ", ".join(dict.fromkeys(calendars))
    table = _table(f"{title} {year} · {len(found)} tasks · {shown}", columns, no_wrap=("window",))
    for t in found:
        ind = t.indicator
        window = str(t.start) if t.start == t.end else f"{t.start} – {t.end:%m-%d}"
        how = ", ".join(methods[m](lang) if m in methods else m for m in ind.methods)
        _row(
            table,
            window,
            f"{ind.id} {ind.name(lang)}",
            ind.collector(lang),
            ind.source(lang),
            how,
            *((t.department,) if params else ()),
        )
    stdout.print(table)
    if ics is not None:
        data = to_ics(found, lang)
        if not force:
            refuse_replacing(ics, data, ours=lambda held: held.startswith(b"BEGIN:VCALENDAR") and ICS_PRODID in held)
        write_atomic(ics, data)
        stdout.print(f"wrote {ics} ({len(found)} events)", markup=False)


template_app = typer.Typer(no_args_is_help=True, help="Work with indicator templates.")
app.add_typer(template_app, name="template")


@template_app.command(name="import")
def template_import(
    sheet: Annotated[
        Path, typer.Argument(help="An .xlsx KPI sheet laid out like the seed (the 13 Chinese column headers).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the params skeleton <id>.params.yaml.")] = Path("."),
    template_id: Annotated[
        str | None, typer.Option("--id", help="The template's id (default: from the file name).")
    ] = None,
    sheet_name: Annotated[str | None, typer.Option("--sheet", help="The worksheet (default: the first).")] = None,
    templates_dir: Annotated[
        Path | None,
        typer.Option(
            "--templates",
            help="Folder for the template <id>.yaml (default: templates/ in --out, or beside it when --out is params/).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a template or skeleton already there that differs.")
    ] = False,
) -> None:
    """Read a KPI sheet into a template file and a params skeleton; list the cells that need numbers.

    The skeleton goes to --out as <id>.params.yaml, the template to --templates (never
    params/, where kpi run --all looks); a different file already there is refused unless --force.
    """

    result = import_sheet(sheet, template_id=template_id, sheet_name=sheet_name)
    template_path, params_path = write_import(result, out, templates_dir, force=force)
    count = len(result.template["indicators"])
    stdout.print(f"wrote {template_path} ({count} indicators) and {params_path}", markup=False)
    for line in result.notes:
        stdout.print(f"note: {line}", markup=False)
    if result.needs:
        stdout.print(f"needs a number or a definition ({len(result.needs)}), never guessed:", markup=False)
        for line in result.needs:
            stdout.print(f"  - {line}", markup=False)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder to write params/ and data/demo/ into.")] = Path("."),
    departments: Annotated[
        int,
        typer.Option(
            "--departments",
            "-n",
            parser=_count("--departments"),
            metavar="N",
            help="How many departments, 1 or more (the demo's 3 by default).",
        ),
    ] = 3,
    rows: Annotated[
        int | None,
        typer.Option(
            "--rows",
            parser=_count("--rows"),
            metavar="N",
            help="About this many rows in each big table (communications … expenses), 1 or more.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace files that differ from what kpi demo writes (edited params …).")
    ] = False,
    sqlite: Annotated[
        bool,
        typer.Option("--sqlite", help="Write the tables into data/demo/crm.sqlite and params that read them with SQL."),
    ] = False,
) -> None:
    """Write the deterministic demo data and params (three departments, or --departments N).

    Also schemas/*.schema.json, the JSON Schemas each params file names on its first line for editors.

    A file that is already there is left alone when it holds exactly the bytes
    this command would write (a second `make demo` is fine); one that differs
    (edited params, another --departments or --rows) is refused unless --force.
    """
    written = write_demo(out, departments=departments, rows=rows, force=force, sqlite=sqlite)
    for path in written:
        stdout.print(f"wrote {path}", markup=False)
    tables = "crm.sqlite" if sqlite else "*.csv"
    stdout.print(f"wrote {out / 'data' / 'demo'}/{tables}", markup=False)
    stdout.print(f"wrote {out / 'schemas'}/*.schema.json (for editors: kpi schema --help)", markup=False)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The new company folder (it must not exist, or be empty).")],
    department: Annotated[
        str,
        typer.Option(
            "--department", "-d", help="The department's id: lowercase letters, digits, - and _ (it names folders)."
        ),
    ] = "my-department",
    name: Annotated[str, typer.Option("--name", help="The department's name as the reports show it.")] = "",
    lang: Annotated[str, typer.Option("--lang", help="The reports' language: zh or en.")] = "zh",
    from_: Annotated[
        bool,
        typer.Option(
            "--from",
            help="Map the EXPORTS given: .csv, .xlsx or .parquet files, or database tables as URL#table "
            "(e.g. sqlite:///crm.sqlite#tickets); their headers are matched with the template's columns.",
        ),
    ] = False,
    exports: Annotated[
        list[str] | None, typer.Argument(help="With --from: the exports to map.", metavar="EXPORT")
    ] = None,
) -> None:
    """Start a company folder without the demo: company.yaml, params/<department>.yaml, an empty data/ and a README.

    Run kpi in that folder: `kpi validate params/<department>.yaml` names every table
    data/ still lacks, `kpi run --period 2026-Q4 --all` runs every params/*.yaml.
    The numbers in the params file are the seed's example: set your own.

    With --from EXPORT…, each export's headers are matched with the template's tables by
    column name, Chinese header, or either written differently (case, spaces, - or _);
    file exports are copied into data/. Each table entry this proposes is written into
    company.yaml with a line under suggested:, and kpi validate and kpi run refuse the
    department until you have checked the entry and deleted that line. What matches
    two ways, or nothing, is listed and left for you to map; nothing is guessed.
    A folder that is not empty is refused.
    """
    if exports and not from_:
        raise UsageError(f"got {len(exports)} argument(s) after the folder; to map exports, write --from before them")
    if from_ and not exports:
        raise UsageError("--from: expected one or more exports after it (files, or URL#table)")
    written, proposal = init_company(folder, department=department, name=name, lang=lang, exports=exports or [])
    for path in written:
        stdout.print(f"wrote {path}", markup=False)
    if proposal is not None:
        for line in proposal.lines():
            stdout.print(line, markup=False)
        waiting = [p.table for p in proposal.placed if p.why]
        if waiting:
            stdout.print(
                f"to confirm in {folder / 'company.yaml'} (under suggested:): {', '.join(waiting)}", markup=False
            )
    stdout.print(f"next: cd {shlex.quote(str(folder))} && kpi validate params/{department}.yaml", markup=False)


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(help="params, company or template.", metavar="KIND")],
) -> None:
    """Print the JSON Schema of params, company or template files (for editors and other tools).

    kpi init and kpi demo write the three into schemas/ and start each YAML file with
    `# yaml-language-server: $schema=…`, so an editor with a YAML language server
    completes and checks the keys as you type.
    """
    if kind not in KINDS:
        raise UsageError(f"{kind!r}: expected one of {', '.join(KINDS)}")
    sys.stdout.write(schema_text(kind))


def _command_path(args: list[str]) -> str:
    """`kpi run` for `kpi run …`, `kpi template import` for `kpi template import …`: the commands named in `args`."""
    path, command = ["kpi"], typer.main.get_command(app)
    for arg in args:
        commands = getattr(command, "commands", None)
        if not isinstance(commands, dict) or arg not in commands:
            break
        path.append(arg)
        command = commands[arg]
    return " ".join(path)


def _param_name(param: Any) -> str:
    """An option by its long name (`--period`), an argument as its usage line shows it (`PARAMS`)."""
    opts = [o for o in getattr(param, "opts", None) or [] if isinstance(o, str)]
    if getattr(param, "param_type_name", "") == "option" and opts:
        return next((o for o in opts if o.startswith("--")), opts[0])
    return str(getattr(param, "metavar", None) or getattr(param, "name", None) or "?").upper()


def _plain(message: str) -> str:
    """typer's message as a clause: no capital, no final period, option names unquoted (`'--x'` → `--x`)."""
    text = re.sub(r"'(--?[\w-]+)'", r"\1", " ".join(message.split())).rstrip(".")
    return text[:1].lower() + text[1:]


def is_a(exc: BaseException, kind: str) -> bool:
    """Whether typer raised its usage error `kind` (`MissingParameter`, `NoSuchOption`, `NoArgsIsHelpError`).

    typer keeps those classes in a private module (only `typer.BadParameter` and
    `typer.exceptions.TyperException` are public), so they are told by class name,
    the way typer's own `rich_utils` tells `NoArgsIsHelpError`, never imported."""
    return any(cls.__name__ == kind for cls in type(exc).__mro__)


def usage_line(exc: Exception, args: list[str]) -> str:
    """The one line of a usage error: what is wrong, then `; see '<command> --help'`."""
    param = getattr(exc, "param", None)
    if is_a(exc, "MissingParameter") and param is not None:
        what = f"missing {param.param_type_name} {_param_name(param)}"
    elif is_a(exc, "NoSuchOption"):
        possibilities = getattr(exc, "possibilities", None) or []
        maybe = f" (did you mean {' or '.join(sorted(possibilities))}?)" if possibilities else ""
        what = f"no such option {getattr(exc, 'option_name', '?')}{maybe}"
    elif isinstance(exc, typer.BadParameter) and exc.param is not None:
        what = f"{_param_name(exc.param)}: {_plain(exc.message)}"
    elif isinstance(exc, KpiError):
        what = " | ".join(exc.lines())
    else:
        what = _plain(exc.format_message() if isinstance(exc, TyperException) else str(exc))
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None and ctx.command_path else _command_path(args)
    return f"{what}; see '{command} --help'"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kpi` console script; returns the exit code.

    typer's own exception base (`TyperException`, which its usage errors derive
    from) carries `exit_code` (2 for usage) and `format_message()`. `kpi` or
    `kpi template` alone prints the group's help to stderr and exits 2, as click does.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        command = typer.main.get_command(app)
        result = command.main(args=args, prog_name="kpi", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _error("interrupted; run again (a new run cleans up what this one left)")
        return 130
    except KpiError as exc:
        if exc.exit_code == 2:
            _error(usage_line(exc, args))
        else:
            for line in exc.lines():
                _error(line)
        return exc.exit_code
    except TyperException as exc:
        if is_a(exc, "NoArgsIsHelpError"):
            stderr.print(exc.format_message(), markup=False)
            return 2
        code = int(getattr(exc, "exit_code", 2))
        _error(usage_line(exc, args) if code == 2 else exc.format_message())
        return code
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line for the user, the traceback on request
        if os.environ.get("KPI_DEBUG"):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (set KPI_DEBUG=1 for the traceback, and please report it)")
        return 1
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())


__all__ = ["app", "main", "run"]
