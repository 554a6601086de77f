"""The `kpi` command (SPEC §7). Exit 0 on success, 1 when any department failed, 2 on bad usage.

Errors are printed to stderr as one readable line each (`kpi: <file>: row …`),
never as a traceback: `main()` runs the typer app in non-standalone mode and
turns click's usage errors and the toolkit's `KpiError`s into lines and exit
codes itself.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.exceptions import TyperException
from rich.console import Console
from rich.table import Table as RichTable

from .appraisal import Scorecard, appraise
from .demo import write_demo
from .errors import KpiError
from .explain import formula_line, grade_label, label, plain, rule_line, status_text, value_text
from .params import load_params
from .period import Period
from .runner import DEFAULT_TIMEOUT, BatchResult, all_params, run_batch
from .tables import DataFolder

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="kpi: quantified department performance appraisal (绩效量化考核).",
)

stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def _error(line: str) -> None:
    stderr.print(f"kpi: {line}", markup=False)


def _period(text: str) -> Period:
    return Period.parse(text)


@app.command()
def score(
    params: Annotated[Path, typer.Argument(help="The department's params YAML.")],
    period: Annotated[str, typer.Option("--period", "-p", help="2026, 2026-H2, 2026-Q4 or 2026-10.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON object of SPEC §7 and nothing else.")] = False,
) -> None:
    """Compute one department for one period and print its scorecard."""
    window = _period(period)
    department = load_params(params)
    card = appraise(department, window)
    if as_json:
        sys.stdout.write(json.dumps(card.to_json(), ensure_ascii=False) + "\n")
        return
    print_scorecard(card, department.base.lang)


def print_scorecard(card: Scorecard, lang: str) -> None:
    """A compact table (fits 80 columns), then one line per indicator with its formula and rule."""
    title = f"{card.name or card.department} ({card.department}) · {label('period', lang)} {card.period} [{card.period.start} – {card.period.end}]"
    table = RichTable(title=title, title_justify="left")
    for key, justify in (("id", "left"), ("name", "left"), ("weight", "right"), ("target", "right"), ("value", "right"), ("score", "right"), ("status", "left")):
        table.add_column(label(key, lang), justify=justify)  # type: ignore[arg-type]
    for r in card.results:
        target = "—" if r.params.target is None else f"{plain(r.params.target)}%"
        table.add_row(r.id, r.indicator.name(lang), plain(r.params.weight), target, value_text(r), plain(r.score, 2), status_text(r.status, lang))
    summary = card.summary
    assert summary is not None
    grade = f"{summary.grade} {grade_label(summary.label, lang)}".strip() if summary.grade else "—"
    table.add_section()
    table.add_row("", label("total", lang), plain(summary.scored_weight), "", "", plain(summary.total, 2), grade)
    stdout.print(table)
    for r in card.results:
        stdout.print(f"{r.id}  {formula_line(r, lang)}", markup=False)
        stdout.print(f"      {rule_line(r, lang)}", markup=False)
    if summary.excluded:
        note = "无数据、未计入总分（其权重不参与加权）" if lang == "zh" else "left out of the total for lack of rows (their weight drops out)"
        stdout.print(f"{note}: {', '.join(summary.excluded)}", markup=False)


@app.command()
def validate(
    params: Annotated[list[Path], typer.Argument(help="One or more params YAML files.")],
    period: Annotated[Optional[str], typer.Option("--period", "-p", help="Also compute this period (catches a missing budget or observation).")] = None,
) -> None:
    """Check parameters and every input table of each department; list all problems."""
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
    try:
        department = load_params(path)
        data = DataFolder(department.data_folder, department.template)
        names = [n for ind in department.template.indicators for n in ind.tables()] + ["observations"]
        needed = [n for n in dict.fromkeys(names) if n != "observations" or _uses_observations(department)]
        lines = [str(p) for n in needed for p in data.table(n).problems_of(department.id)]
        if not lines and window is not None:
            appraise(department, window, data=data)
        return lines
    except KpiError as exc:
        return exc.lines()


def _uses_observations(department: object) -> bool:
    from .params import Department

    assert isinstance(department, Department)
    raws = [department.base, *(department.for_period(Period.parse(p)) for p in department.base.periods)]
    return any(spec.method == "observation" for params in raws for spec in params.indicators.values())


class BatchProgress:
    """Departments done and failed, and the time left, on stderr."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=stderr,
            transient=False,
        )
        self.failed = 0
        self.task: Any = None

    def start(self, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("departments", total=total, failed=0)

    def advance(self, run: Any) -> None:
        self.failed += int(run.failed)
        self.progress.update(self.task, advance=1, failed=self.failed)

    def stop(self) -> None:
        self.progress.stop()


@app.command(name="run")
def run_command(
    params: Annotated[Optional[list[Path]], typer.Argument(help="Params YAML files (or --all).")] = None,
    period: Annotated[str, typer.Option("--period", "-p", help="2026, 2026-H2, 2026-Q4 or 2026-10.")] = "",
    all_: Annotated[bool, typer.Option("--all", help="Every params file under params/.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Notebooks run at once (default: the number of cores).")] = 0,
    out: Annotated[Path, typer.Option("--out", help="Where outputs/<period>/ is written.")] = Path("outputs"),
    notebooks: Annotated[Optional[Path], typer.Option("--notebooks", help="Folder of the source notebooks (default: the project's notebooks/).")] = None,
    timeout: Annotated[int, typer.Option("--timeout", help="Seconds a notebook cell may run.")] = DEFAULT_TIMEOUT,
    executor: Annotated[str, typer.Option("--executor", help="local (a process pool).")] = "local",
) -> None:
    """Execute the notebooks of every department with papermill and write reports to outputs/<period>/."""
    if not period:
        raise UsageError("Missing option '--period'")
    window = _period(period)
    if executor != "local":
        raise UsageError(f"--executor {executor!r} is not available; expected local")
    if all_ and params:
        raise UsageError("pass PARAMS files or --all, not both")
    files = all_params() if all_ else list(params or [])
    if not files:
        raise UsageError("no department given; pass PARAMS files or --all")
    result = run_batch(files, str(window), out=out, jobs=jobs or os.cpu_count() or 1, notebooks=notebooks, timeout=timeout, progress=BatchProgress())
    print_batch(result)
    if result.failed:
        raise typer.Exit(1)


def print_batch(result: BatchResult) -> None:
    table = RichTable(title=f"kpi run · {result.period} · {result.seconds:.1f} s", title_justify="left")
    for name, justify in (("department", "left"), ("status", "left"), ("total", "right"), ("grade", "left"), ("error", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for d in result.departments:
        first = d.error.splitlines()
        error = " | ".join(first[:3]) if first else ""
        table.add_row(d.department, "failed" if d.failed else "ok", "" if d.total is None else f"{d.total:.2f}", d.grade or "", error)
    stdout.print(table)
    for d in result.failed:
        _error(f"{d.department} failed: {d.error.splitlines()[0] if d.error else ''} (see {d.final / 'error.txt'})")
    stdout.print(f"index: {result.index}", markup=False)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder to write params/ and data/demo/ into.")] = Path("."),
) -> None:
    """Write the deterministic demo data and params of three departments."""
    written = write_demo(out)
    for path in written:
        stdout.print(f"wrote {path}", markup=False)
    stdout.print(f"wrote {out / 'data' / 'demo'}/*.csv", markup=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kpi` console script; returns the exit code.

    typer's own exception base (`TyperException`, which its usage errors derive
    from) carries `exit_code` (2 for usage) and `format_message()`.
    """
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="kpi", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _error("aborted")
        return 130
    except KpiError as exc:
        for line in exc.lines():
            _error(line)
        return exc.exit_code
    except TyperException as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        code = int(getattr(exc, "exit_code", 2))
        _error(f"{message} (see kpi --help)" if code == 2 else message)
        return code
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())


__all__ = ["app", "main", "run"]
