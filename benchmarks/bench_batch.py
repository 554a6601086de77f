"""`make bench`: the figures of issues 10 and 20, each measured against its floor in the same run, into bench/results.{md,json}.

The machines are shared and noisy, so every figure is a ratio of two things
measured in the same run on the same machine (or a size), never seconds
compared across runs. The figures come in groups (`--figures`), cheapest first;
the results files are rewritten after each group:

| group | figure | compares | target |
|---|---|---|---|
| `demo` | `demo_vs_naive` | `kpi run` of the demo vs papermill CLI + nbconvert CLI ×2 per notebook, one after another | ≥ 20× |
| | `report_max_kb`, `report_mean_kb` | the reader's HTML reports of the demo, largest and mean | ≤ 150 KB |
| | `disk_mb` | the demo's period folder / departments | ≤ 1.5 MB |
| `profile` | `cpu_per_department_*` | `benchmarks/profile.py`: py-spy over `kpi run` of one department and of the demo, tables by process kind and category | — |
| `big` | `big_time_<kind>`, `big_memory_<kind>` | `kpi score` of one department with M rows per big table from a plain CSV, a mapped CSV, Parquet and SQLite (`benchmarks/sources.py`) vs `floors.arrow` reading the same data | ≤ 3× time, ≤ 2× memory |
| `rerun` | `rerun` | a second `kpi run` of 20 departments with nothing changed vs the full run | ≥ 50× faster |
| | `dask_equal` | `kpi run --executor dask` of the 20 vs the local pool: same files, byte-identical `result.json` | all identical |
| `company` | `batch_vs_floor` | `kpi run` of 200 departments vs all of them scored in one process (`floors.in_process`) | ≤ 5× |
| | `batch_peak_mb`, `rerun_company`, `year_*` | the batch's peak memory (RSS summed over its process tree, sampled with psutil), the unchanged re-run of the 200, the projected yearly wall time and disk of 200 departments × 12 months | — |

plus the time `kpi demo --rows M` takes. Cross-checks compare the floors'
numbers with `kpi score --json`, and each source kind's `kpi score --json` with
the plain CSV's; a difference is printed, never hidden.

Every process is measured on its own: wall time, CPU seconds and peak RSS from
`os.wait4` (the child and the descendants it waited for). Progress goes to stderr.

    python benchmarks/bench_batch.py [--departments 200] [--rerun-departments 20] [--rows 1000000] [--jobs N]
        [--quick] [--figures demo,profile,big,rerun,company] [--skip-big] [--skip-dask] [--profile-rate 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `benchmarks.sources` and `benchmarks.profile` are imported from here
    sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
FLOORS = Path(__file__).resolve().parent / "floors.py"
PERIOD = "2026-Q4"
YEAR_DEPARTMENTS, YEAR_PERIODS = 200, 12  # the projected company: 200 departments appraised monthly
EPOCH = "1798761600"  # SOURCE_DATE_EPOCH for every run: identical inputs give identical bytes (2027-01-01)
VERSIONS = ("kpi-appraisal", "pandas", "pyarrow", "numpy", "papermill", "nbclient", "nbconvert", "jupyter_client",
            "ipykernel", "distributed", "psutil")  # fmt: skip
MB = 1024 * 1024
CACHE = "cache"  # under work/: the kpi runs' font subsets and remembered hashes (see run_batch)


@dataclass
class Measured:
    """One process: wall seconds, its peak RSS (bytes, from wait4), the sampled peak of its whole tree, its output."""

    seconds: float
    cpu: float  # user + system seconds of the process and the descendants it waited for (`os.wait4`)
    peak_rss: int
    tree_peak: int | None
    returncode: int
    stdout: str
    stderr: str
    tree_cpu: dict[str, float] = field(default_factory=dict)  # with `tree`: sampled CPU seconds by process kind

    def check(self, what: str) -> Measured:
        if self.returncode != 0:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{what} exited with {self.returncode}:\n{tail}")
        return self


class TreeSampler:
    """The process tree under `pid`, sampled with psutil: the peak of its RSS summed over every member, and each
    member's CPU seconds as last seen (user + system) with its kind (`profile.process_kind`: main, worker, zygote,
    kernel, other). A kernel forked by the zygote is counted although nobody waits for it; what a process spends
    after its last sample is missed."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.cpu: dict[int, tuple[str, float]] = {}

    def sample(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for p in members:
            try:
                with p.oneshot():
                    total += p.memory_info().rss
                    times = p.cpu_times()
                    kind = self.cpu[p.pid][0] if p.pid in self.cpu else self._kind(p)
                    self.cpu[p.pid] = (kind, times.user + times.system)
            except psutil.Error:
                pass
        self.peak = max(self.peak, total)

    def _kind(self, p: Any) -> str:
        """`launcher` for the root (`LAUNCHER`), `main` for the command it started, then by command line."""
        from benchmarks.profile import process_kind

        if p.pid == self.pid:
            return "launcher"
        parent = p.parent()
        if parent is None or parent.pid == self.pid:
            return "main"
        return process_kind(["main", " ".join(parent.cmdline()), " ".join(p.cmdline())])

    def cpu_by_kind(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for kind, seconds in self.cpu.values():
            if kind != "launcher":
                found[kind] = found.get(kind, 0.0) + seconds
        return found


# Every measured command is started by this small process, which reports the command's own peak RSS and CPU
# (`os.wait4`). Started from the bench itself, the command's peak RSS would start at the bench's RSS: Linux keeps
# the largest RSS of a process across `exec`, and a child begins with its parent's memory (issue 10's bench
# measured the bench's own few hundred MB as the floor's peak).
LAUNCHER = """import os, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(min(255, abs(os.waitstatus_to_exitcode(status))))
"""


def measure(
    cmd: Sequence[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None, tree: bool = False
) -> Measured:
    """Run `cmd` to its end (started by `LAUNCHER`); its wall time, CPU and peak RSS (`os.wait4`'s, which cover the
    descendants it waited for) and, with `tree`, the peak of the RSS summed over its process tree and the CPU seconds
    of each member, sampled every 0.1 s (`TreeSampler`)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage"
        started = time.perf_counter()
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report)]
        proc = subprocess.Popen([*launcher, *map(str, cmd)], cwd=cwd, env=env, stdout=out, stderr=err)
        tree_sampler = TreeSampler(proc.pid)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                tree_sampler.sample()

        sampler = threading.Thread(target=sample, daemon=True) if tree else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        maxrss, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime  # the launcher's, if it could not report
        if report.is_file():
            text = report.read_text(encoding="utf-8").split()
            maxrss, cpu = int(text[0]), float(text[1])
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        done.set()
        if sampler:
            sampler.join()
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds,
            cpu,
            maxrss * 1024,  # KiB on Linux
            max(tree_sampler.peak, maxrss * 1024) if tree else None,
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            tree_sampler.cpu_by_kind(),
        )


@dataclass
class Figure:
    """One row of the results table: today's value, its target and whether it is met (None: no target)."""

    key: str
    name: str
    value: float | None
    shown: str
    target: str = ""
    met: bool | None = None
    detail: str = ""


def at_least(value: float, goal: float) -> bool:
    return value >= goal


def at_most(value: float, goal: float) -> bool:
    return value <= goal


def figure(
    key: str, name: str, value: float, shown: str, goal: float | None = None, better: str = "", detail: str = ""
) -> Figure:
    """A figure with target `better` (`>=` or `<=`) `goal`, met or not; no goal: information only."""
    if goal is None:
        return Figure(key, name, value, shown, detail=detail)
    met = at_least(value, goal) if better == ">=" else at_most(value, goal)
    return Figure(key, name, value, shown, f"{better} {goal:g}", met, detail)


@dataclass
class Settings:
    departments: int = 200
    rows: int = 1_000_000
    jobs: int = os.cpu_count() or 1
    period: str = PERIOD
    out: Path = ROOT / "bench"
    quick: bool = False
    skip_big: bool = False
    skip_dask: bool = False
    rerun_departments: int = 20  # the unchanged re-run (target ≥ 50×) and the Dask equality run
    profile_rate: int = 50  # py-spy samples per second
    demo_departments: int = 3  # the demo of `make demo`
    naive_departments: int = 3  # how many of them the naive loop runs (a ratio per department)
    big_departments: int = 3
    figures: list[str] = field(default_factory=lambda: list(FIGURES))


@dataclass
class Context:
    """What the figures share: the settings, the environment of every run, what was measured so far."""

    settings: Settings
    env: dict[str, str]
    fresh: bool  # `kpi run --fresh` exists (incremental runs): the full runs pass it
    work: Path
    crosschecks: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)  # markdown after the table (the profile's tables)
    extra: dict[str, Any] = field(default_factory=dict)  # results.json beside the figures (the profile's seconds)

    def kpi(self, *args: str | Path, tree: bool = False, cwd: Path | None = None) -> Measured:
        return measure([BIN / "kpi", *args], env=self.env, tree=tree, cwd=cwd)


def make_company(ctx: Context, name: str, departments: int, rows: int | None = None) -> tuple[list[Path], Measured]:
    """`kpi demo --departments N [--rows M]` into work/<name>/; its params files and the measured generation."""
    folder = ctx.work / name
    shutil.rmtree(folder, ignore_errors=True)
    extra = ["--rows", str(rows)] if rows else []
    made = ctx.kpi("demo", "--out", folder, "--departments", str(departments), *extra).check(f"kpi demo ({name})")
    return sorted((folder / "params").glob("*.yaml")), made


def run_batch(ctx: Context, params: list[Path], out: Path, *, fresh: bool = True, executor: str = "local") -> Measured:
    """`kpi run PARAMS… --period P --out OUT --jobs J` (`--fresh` when it exists and `fresh`), process tree sampled.

    The runs keep their font subsets and remembered hashes in work/cache/ (`KPI_FONT_CACHE`, `KPI_HASH_CACHE`), never
    in the user's: a full run starts with none (cold, as a first run), a re-run finds what the full run left.
    """
    s = ctx.settings
    extra = ["--fresh"] if fresh and ctx.fresh else []
    if fresh:  # a full run starts as a new user's first: no font subsets or file hashes kept from an earlier run
        shutil.rmtree(ctx.work / CACHE, ignore_errors=True)
    if executor != "local":
        extra += ["--executor", executor]
    return ctx.kpi("run", *params, "--period", s.period, "--out", out, "--jobs", str(s.jobs), *extra, tree=True).check(
        f"kpi run ({out.name}, {executor})"
    )


def template_groups(params: Path) -> list[str]:
    from kpi_lib import load_params

    return list(load_params(params).template.groups)


def naive_loop(ctx: Context, params: list[Path], out: Path) -> float:
    """The naive way: per notebook the papermill CLI, then the nbconvert CLI twice (reader `--no-input`, audit)."""
    s = ctx.settings
    started = time.perf_counter()
    for path in params:
        folder = (out / path.stem).resolve()  # papermill's --cwd: every path given to it is absolute
        folder.mkdir(parents=True, exist_ok=True)
        groups = template_groups(path)
        for name in (*groups, "scorecard"):
            executed = folder / f"{name}.ipynb"
            source = "scorecard" if name == "scorecard" else "group"
            extra = ["-p", "group", name] if name != "scorecard" else ["-p", "results_dir", str(folder)]
            base = ["-p", "params_path", str(path.resolve()), "-p", "period", s.period]
            cmd = [BIN / "papermill", ROOT / "notebooks" / f"{source}.ipynb", executed, *base, *extra]
            measure([*cmd, "--cwd", folder, "--no-progress-bar"], env=ctx.env).check(f"papermill {executed}")
            nbconvert = [BIN / "jupyter", "nbconvert", "--to", "html"]
            measure([*nbconvert, "--no-input", executed, "--output", f"{name}.html"], env=ctx.env).check("nbconvert")
            measure([*nbconvert, executed, "--output", f"{name}.audit.html"], env=ctx.env).check("nbconvert")
    return time.perf_counter() - started


def reader_reports(period_folder: Path) -> list[Path]:
    """The reader's HTML reports of every department folder (not the audit ones, not the index)."""
    return sorted(
        p
        for p in period_folder.glob("*/*.html")
        if not p.name.endswith(".audit.html") and not p.parent.name.startswith(".")
    )


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def department_folders(period_folder: Path) -> list[Path]:
    return sorted(p for p in period_folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def report_size(period_folder: Path) -> list[Figure]:
    sizes = [p.stat().st_size for p in reader_reports(period_folder)]
    if not sizes:
        raise RuntimeError(f"{period_folder}: no reader reports")
    largest, mean = max(sizes) / 1024, sum(sizes) / len(sizes) / 1024
    detail = f"{len(sizes)} reader reports"
    return [
        figure(
            "report_max_kb", "reader report size on the demo, largest", largest, f"{largest:.0f} KB", 150, "<=", detail
        ),
        figure("report_mean_kb", "reader report size on the demo, mean", mean, f"{mean:.0f} KB", 150, "<=", detail),
    ]


def disk_per_department(period_folder: Path) -> tuple[float, int]:
    """Bytes of the whole period folder (shared files included) per department folder, and the department count."""
    count = len(department_folders(period_folder))
    return folder_bytes(period_folder) / max(count, 1), count


def demo_vs_naive(ctx: Context) -> list[Figure]:
    """The demo's batch vs the naive loop, then the demo's report sizes and disk per department per period."""
    s = ctx.settings
    params, _ = make_company(ctx, "demo", s.demo_departments)
    out = ctx.work / "demo-out"
    shutil.rmtree(out, ignore_errors=True)
    progress(f"kpi run of the demo, {len(params)} departments, jobs {s.jobs}")
    batch = run_batch(ctx, params, out / "batch")
    naive_params = params[: s.naive_departments]
    progress(f"the naive loop over {len(naive_params)} department(s): papermill CLI + nbconvert CLI ×2 per notebook")
    naive = naive_loop(ctx, naive_params, out / "naive")
    # per department, so a naive loop over fewer departments (--quick) still compares like with like
    ratio = (naive / len(naive_params)) / (batch.seconds / len(params))
    period_folder = out / "batch" / s.period
    per_department, count = disk_per_department(period_folder)
    return [
        figure(
            "demo_vs_naive",
            "demo batch vs naive loop (papermill CLI + nbconvert CLI ×2), same run",
            ratio,
            f"{ratio:.2f}×",
            20,
            ">=",
            f"kpi run {batch.seconds:.1f} s for {len(params)} department(s); naive {naive:.1f} s for {len(naive_params)}",
        ),
        *report_size(period_folder),
        figure(
            "disk_mb",
            "disk per department per period on the demo",
            per_department / MB,
            f"{per_department / MB:.2f} MB",
            1.5,
            "<=",
            f"{folder_bytes(period_folder) / MB:.1f} MB for {count} department(s) (shared period files included)",
        ),
    ]


def same_outputs(a: Path, b: Path) -> tuple[int, int, list[str]]:
    """Departments whose `result.json` is byte-identical in period folders `a` and `b`, of how many, and differences
    (a different result.json, or a file in one tree only; the run's log and lock aside)."""

    def files(root: Path) -> set[str]:
        skip = {".kernels.log", ".lock"}
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name not in skip}

    only_a, only_b = sorted(files(a) - files(b)), sorted(files(b) - files(a))
    differences = [f"only in {a.name} of {a.parent.name}: {p}" for p in only_a] + [
        f"only in {b.name} of {b.parent.name}: {p}" for p in only_b
    ]
    names = sorted({p.name for p in department_folders(a)} | {p.name for p in department_folders(b)})
    same = 0
    for name in names:
        ra, rb = a / name / "result.json", b / name / "result.json"
        if ra.is_file() and rb.is_file() and ra.read_bytes() == rb.read_bytes():
            same += 1
        else:
            differences.append(f"{name}/result.json differs (or is missing)")
    return same, len(names), differences


def scores_equal(floor: dict[str, Any], card: dict[str, Any]) -> list[str]:
    """Where two SPEC §7 objects of one department differ (total, grade, each indicator's numbers)."""
    lines = []
    for key in ("department", "period", "total", "grade"):
        if floor.get(key) != card.get(key):
            lines.append(f"{key}: floor {floor.get(key)!r}, kpi {card.get(key)!r}")
    theirs = {i["id"]: i for i in card.get("indicators", [])}
    for item in floor.get("indicators", []):
        other = theirs.get(item["id"], {})
        for key in ("value", "numerator", "denominator", "score", "status"):
            if item.get(key) != other.get(key):
                lines.append(f"{item['id']} {key}: floor {item.get(key)!r}, kpi {other.get(key)!r}")
    return lines


def rates_equal(floor: dict[str, Any], card: dict[str, Any]) -> list[str]:
    """Where the arrow floor's rates (text numbers) differ from `kpi score --json`'s, compared as decimals."""
    theirs = {i["id"]: i for i in card["indicators"]}
    lines = []
    for iid, numbers in floor["indicators"].items():
        for key, text in numbers.items():
            mine = None if text is None else Decimal(text)
            other = theirs.get(iid, {}).get(key)
            other_dec = None if other is None else Decimal(str(other))
            if mine != other_dec:
                lines.append(f"{iid} {key}: floor {text}, kpi {other}")
    return lines


def floor_crosschecks(ctx: Context, params: list[Path], cards: dict[str, Any], period_folder: Path) -> None:
    """The in-process floor's card of the first department vs `kpi score --json`, and every total and grade vs the
    batch's result.json (printed as cross-checks)."""
    s = ctx.settings
    first = params[0]
    scored = ctx.kpi("score", first, "--period", s.period, "--json").check("kpi score")
    differences = scores_equal(cards[first.stem], json.loads(scored.stdout))
    ctx.crosschecks.append(
        f"in-process floor vs `kpi score --json` for {first.stem}: "
        + ("equal" if not differences else "DIFFER: " + "; ".join(differences))
    )
    totals = 0
    for name, card in cards.items():
        result = period_folder / name / "result.json"
        if result.is_file():
            recorded = json.loads(result.read_text(encoding="utf-8"))
            totals += recorded.get("total") == card["total"] and recorded.get("grade") == card["grade"]
    ctx.crosschecks.append(
        f"in-process floor vs the batch's result.json (total and grade), {len(cards)} departments: "
        f"{totals}/{len(cards)} equal"
    )


def rerun_figure(key: str, departments: int, full: Measured, rerun: Measured, goal: float | None) -> Figure:
    speedup = full.seconds / rerun.seconds
    return figure(
        key,
        f"unchanged re-run vs full run, {departments} departments (how many times faster)",
        speedup,
        f"{speedup:.2f}×",
        goal,
        ">=" if goal else "",
        f"full {full.seconds:.1f} s, re-run {rerun.seconds:.2f} s ({rerun.seconds / departments:.3f} s per department)",
    )


def batch_vs_floor(ctx: Context) -> list[Figure]:
    """N departments (200): the batch vs the in-process floor, peak memory, the unchanged re-run, the projection."""
    s = ctx.settings
    params, _ = make_company(ctx, "company", s.departments)
    out = ctx.work / "company-out"
    shutil.rmtree(out, ignore_errors=True)
    progress(f"kpi run of {len(params)} departments, jobs {s.jobs}")
    full = run_batch(ctx, params, out / "local")
    progress(f"in-process floor of {len(params)} departments (after {full.seconds:.0f} s of kpi run)")
    floor = measure([sys.executable, FLOORS, "in-process", *params, "--period", s.period], env=ctx.env).check("floor")
    period_folder = out / "local" / s.period
    floor_crosschecks(ctx, params, json.loads(floor.stdout), period_folder)
    progress("unchanged re-run")
    rerun = run_batch(ctx, params, out / "local", fresh=False)
    ratio = full.seconds / floor.seconds
    per_department, _ = disk_per_department(period_folder)
    yearly = YEAR_DEPARTMENTS * YEAR_PERIODS
    return [
        figure(
            "batch_vs_floor",
            f"{s.departments} departments × 1 quarter: batch wall vs in-process floor",
            ratio,
            f"{ratio:.2f}×",
            5,
            "<=",
            f"kpi run {full.seconds:.1f} s ({max(full.cpu, sum(full.tree_cpu.values())):.0f} s CPU), "
            f"floor {floor.seconds:.1f} s "
            f"({floor.cpu:.1f} s CPU), jobs {s.jobs}",
        ),
        figure(
            "batch_peak_mb",
            f"peak memory of the batch ({s.departments} departments, process tree, sampled)",
            (full.tree_peak or 0) / MB,
            f"{(full.tree_peak or 0) / MB:.0f} MB",
            detail=f"in-process floor {floor.peak_rss / MB:.0f} MB",
        ),
        rerun_figure("rerun_company", s.departments, full, rerun, None),
        figure(
            "year_wall_h",
            f"projected wall time of {YEAR_DEPARTMENTS} departments × {YEAR_PERIODS} months on this machine",
            full.seconds / len(params) * yearly / 3600,
            f"{full.seconds / len(params) * yearly / 3600:.1f} h",
            detail=f"{full.seconds / len(params):.2f} s per department-period, jobs {s.jobs}",
        ),
        figure(
            "year_disk_gb",
            f"projected disk of {YEAR_DEPARTMENTS} departments × {YEAR_PERIODS} months",
            per_department * yearly / 1024**3,
            f"{per_department * yearly / 1024**3:.1f} GB",
            detail=f"{per_department / MB:.2f} MB per department-period",
        ),
    ]


def rerun_and_dask(ctx: Context) -> list[Figure]:
    """N departments (20): the full run, the unchanged re-run (≥ 50×), and `--executor dask` (identical results)."""
    s = ctx.settings
    n = s.rerun_departments
    params, _ = make_company(ctx, "rerun", n)
    out = ctx.work / "rerun-out"
    shutil.rmtree(out, ignore_errors=True)
    progress(f"kpi run of {n} departments, jobs {s.jobs}")
    full = run_batch(ctx, params, out / "local")
    progress("unchanged re-run")
    rerun = run_batch(ctx, params, out / "local", fresh=False)
    figures = [rerun_figure("rerun", n, full, rerun, 50)]
    if not s.skip_dask:
        progress(f"kpi run --executor dask of {n} departments")
        dask = run_batch(ctx, params, out / "dask", executor="dask")
        same, total, differences = same_outputs(out / "local" / s.period, out / "dask" / s.period)
        shown = f"{same}/{total} identical" + ("" if not differences else f", {len(differences)} difference(s)")
        figures.append(
            Figure(
                "dask_equal",
                f"`--executor dask` vs local pool: byte-identical result.json and same files ({n} departments)",
                same / total if total else 0.0,
                shown,
                "all identical",
                not differences and same == total,
                "; ".join([f"local {full.seconds:.1f} s, dask {dask.seconds:.1f} s", *differences[:5]]),
            )
        )
    return figures


def big(ctx: Context) -> list[Figure]:
    """M rows per big table from each source kind: `kpi score` of one department vs the pyarrow floor reading the
    same data, time and peak memory; every kind's `kpi score --json` compared with the plain CSV's."""
    from benchmarks.sources import KINDS, write_variants

    s = ctx.settings
    params, made = make_company(ctx, "big", s.big_departments, s.rows)
    progress(f"writing the {s.rows}-row tables as a mapped CSV, Parquet and SQLite")
    started = time.perf_counter()
    variants = write_variants(ctx.work / "big")
    written = time.perf_counter() - started
    data = ctx.work / "big" / "data" / "demo"
    ctx.inputs["big_csv_mb"] = round(sum(p.stat().st_size for p in data.glob("*.csv")) / MB, 1)
    index = min(1, len(params) - 1)  # cs-north: CS02 from surveys (cs-east observes it)
    figures: list[Figure] = []
    cards: dict[str, Any] = {}
    for kind in KINDS:
        department = variants[kind][index]
        progress(f"kpi score and the pyarrow floor, {kind}")
        scored = ctx.kpi("score", department, "--period", s.period, "--json").check(f"kpi score ({kind})")
        floor = measure([sys.executable, FLOORS, "arrow", department, "--period", s.period], env=ctx.env).check(
            f"pyarrow floor ({kind})"
        )
        cards[kind] = json.loads(scored.stdout)
        differences = rates_equal(json.loads(floor.stdout), cards[kind])
        ctx.crosschecks.append(
            f"pyarrow floor vs `kpi score --json`, {kind}, {department.stem} ({s.rows} rows per table): "
            + ("equal" if not differences else "DIFFER: " + "; ".join(differences))
        )
        if kind != "csv":
            differences = same_card(cards["csv"], cards[kind])
            ctx.crosschecks.append(
                f"`kpi score --json` from {kind} vs from the plain CSV, {department.stem}: "
                + ("equal" if not differences else "DIFFER: " + "; ".join(differences))
            )
        time_ratio = scored.seconds / floor.seconds
        memory_ratio = scored.peak_rss / floor.peak_rss
        figures += [
            figure(
                f"big_time_{kind}",
                f"{s.rows} rows per table, {SOURCE_NAMES[kind]}: `kpi score` vs pyarrow floor, time",
                time_ratio,
                f"{time_ratio:.2f}×",
                3,
                "<=",
                f"kpi score {scored.seconds:.1f} s, floor {floor.seconds:.1f} s",
            ),
            figure(
                f"big_memory_{kind}",
                f"{s.rows} rows per table, {SOURCE_NAMES[kind]}: `kpi score` vs pyarrow floor, peak memory",
                memory_ratio,
                f"{memory_ratio:.2f}×",
                2,
                "<=",
                f"kpi score {scored.peak_rss / MB:.0f} MB, floor {floor.peak_rss / MB:.0f} MB",
            ),
        ]
    return [
        *figures,
        figure(
            "big_generate_s",
            f"`kpi demo --departments {s.big_departments} --rows {s.rows}` (generating the CSVs)",
            made.seconds,
            f"{made.seconds:.1f} s",
            detail=f"{ctx.inputs['big_csv_mb']} MB of CSV; the mapped CSV, Parquet and SQLite copies in {written:.1f} s",
        ),
    ]


SOURCE_NAMES = {
    "csv": "plain CSV",
    "mapped": "mapped CSV (columns, values, date formats)",
    "parquet": "Parquet",
    "sqlite": "SQLite (SQL source)",
}


def same_card(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Where two `kpi score --json` objects differ: the scores first (`scores_equal`), then any other key."""
    if a == b:
        return []
    lines = scores_equal(a, b)
    theirs = {i["id"]: i for i in b.get("indicators", [])}
    for item in a.get("indicators", []):
        other = theirs.get(item["id"], {})
        lines += [f"{item['id']} {k}: {v!r} vs {other.get(k)!r}" for k, v in item.items() if other.get(k) != v]
    lines += [
        f"{k}: {a.get(k)!r} vs {b.get(k)!r}"
        for k in sorted(set(a) | set(b))
        if k != "indicators" and a.get(k) != b.get(k)
    ]
    return sorted(set(lines)) or ["the objects differ (order of indicators)"]


def profile_group(ctx: Context) -> list[Figure]:
    """`benchmarks/profile.py`: py-spy over `kpi run` of one department (--jobs 1) and of the demo, by process kind
    and category (tables in results.md), each beside the same run without the profiler (wall and CPU seconds)."""
    from benchmarks import profile

    s = ctx.settings
    params, _ = make_company(ctx, "profile", s.demo_departments)
    out = ctx.work / "profile-out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    one = params[min(1, len(params) - 1)]
    runs = [
        (f"one department ({one.stem}), --jobs 1", "one", [one], 1),
        (f"the demo, {len(params)} departments, --jobs {s.jobs}", "demo", params, s.jobs),
    ]
    figures = []
    ctx.extra["profile"] = {}
    for title, key, chosen, jobs in runs:
        args: list[str | Path] = [
            "run",
            *chosen,
            "--period",
            s.period,
            "--jobs",
            str(jobs),
            *(["--fresh"] if ctx.fresh else []),
        ]
        progress(f"kpi run of {title}, without the profiler")
        plain = ctx.kpi(*args, "--out", out / f"{key}-plain", tree=True).check(f"kpi run ({title})")
        cpu = max(plain.cpu, sum(plain.tree_cpu.values()))  # each misses some: see `TreeSampler`, `measure`
        kinds = ", ".join(f"{k} {plain.tree_cpu[k]:.1f} s" for k in profile.KINDS if k in plain.tree_cpu)
        progress(f"kpi run of {title}, under py-spy at {s.profile_rate} samples/s")
        found = profile.profile_run(
            [BIN / "kpi", *args, "--out", out / f"{key}-profiled"], out / f"{key}.raw", rate=s.profile_rate, env=ctx.env
        )
        note = (
            f"Without the profiler: {plain.seconds:.1f} s wall, {cpu:.1f} s CPU ({cpu / len(chosen):.2f} s per "
            f"department; {plain.cpu:.1f} s in the processes it waited for (os.wait4), "
            f"{sum(plain.tree_cpu.values()):.1f} s in its process tree sampled by psutil every 0.1 s: {kinds}). "
            f"Under py-spy ({s.profile_rate} samples/s): "
            f"{found.wall:.1f} s wall, {found.busy():.1f} s sampled busy. A sample counts a thread that runs or waits "
            "for a core, so on a loaded machine the seconds below exceed the CPU seconds: read the shares."
        )
        ctx.sections.append(profile.table(f"Where the time goes: {title}", found, note))
        ctx.extra["profile"][key] = {
            **profile.as_json(found), "title": title, "wall_s": round(plain.seconds, 2), "cpu_s": round(cpu, 2),
            "cpu_by_kind_s": {k: round(v, 2) for k, v in plain.tree_cpu.items()},
        }  # fmt: skip
        figures.append(
            figure(
                f"cpu_per_department_{key}",
                f"CPU seconds per department-period, {title}",
                cpu / len(chosen),
                f"{cpu / len(chosen):.2f} s",
                detail=f"wall {plain.seconds:.1f} s for {len(chosen)} department(s)",
            )
        )
    return figures


def progress(text: str) -> None:
    print(f"bench:   {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "-"
    found["python"] = platform.python_version()
    return found


def commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return head + (" (uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def render(
    figures: Iterable[Figure], inputs: dict[str, Any], crosschecks: list[str], sections: Sequence[str] = ()
) -> str:
    """results.md: the inputs, one row per figure (value, target, met), the cross-checks, then `sections`."""
    mark = {True: "met", False: "**not met**", None: ""}
    lines = [
        "# `make bench` results",
        "",
        ", ".join(f"{k}: {v}" for k, v in inputs.items() if k != "versions"),
        "",
        "versions: " + ", ".join(f"{k} {v}" for k, v in inputs["versions"].items()),
        "",
        "| figure | today | target | met | detail |",
        "|---|---:|---:|---|---|",
        *(f"| {f.name} | {f.shown} | {f.target} | {mark[f.met]} | {f.detail} |" for f in figures),
        "",
        "Cross-checks:",
        "",
        *(f"- {line}" for line in crosschecks),
        "",
        *(f"{section}\n" for section in sections),
    ]
    return "\n".join(lines)


FIGURES: dict[str, Callable[[Context], list[Figure]]] = {
    "demo": demo_vs_naive,
    "profile": profile_group,
    "big": big,
    "rerun": rerun_and_dask,
    "company": batch_vs_floor,
}  # cheapest first: the results files are rewritten after each, so a long run leaves what it measured so far


def settings_from(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--departments", type=int, default=None, help="departments of the company run (200)")
    parser.add_argument(
        "--rerun-departments", type=int, default=None, help="departments of the re-run and Dask figures (20)"
    )
    parser.add_argument("--profile-rate", type=int, default=50, help="py-spy samples per second of the profile (50)")
    parser.add_argument("--rows", type=int, default=None, help="rows per big table for `kpi score` (1,000,000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--period", default=PERIOD)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the bench in a few minutes")
    parser.add_argument("--skip-big", action="store_true", help="leave out the million-row figure")
    parser.add_argument("--skip-dask", action="store_true", help="leave out the Dask equality run")
    parser.add_argument(
        "--figures", default=",".join(FIGURES), help=f"which groups of figures, comma-separated ({', '.join(FIGURES)})"
    )
    args = parser.parse_args(argv)
    quick = {
        "departments": 2,
        "rows": 3000,
        "rerun_departments": 2,
        "demo_departments": 1,
        "naive_departments": 1,
        "big_departments": 2,
    }
    s = Settings(
        jobs=args.jobs,
        period=args.period,
        out=args.out.resolve(),
        quick=args.quick,
        skip_big=args.skip_big,
        skip_dask=args.skip_dask,
        profile_rate=args.profile_rate,
    )
    if args.quick:
        for key, value in quick.items():
            setattr(s, key, value)
    s.departments = s.departments if args.departments is None else args.departments
    s.rows = s.rows if args.rows is None else args.rows
    if args.rerun_departments is not None:
        s.rerun_departments = args.rerun_departments
    s.figures = [name.strip() for name in args.figures.split(",") if name.strip()]
    unknown = sorted(set(s.figures) - set(FIGURES))
    if unknown:
        parser.error(f"--figures {args.figures}: unknown {', '.join(unknown)}; expected some of {', '.join(FIGURES)}")
    for name in ("departments", "rows", "jobs", "rerun_departments", "profile_rate"):
        if getattr(s, name) < 1:
            parser.error(f"--{name.replace('_', '-')} {getattr(s, name)}: expected 1 or more")
    return s


def main(argv: list[str] | None = None) -> dict[str, Any]:
    s = settings_from(argv)
    s.out.mkdir(parents=True, exist_ok=True)
    work = s.out / "work"
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": EPOCH,
        "PYTHONHASHSEED": "0",
        "KPI_FONT_CACHE": str(work / CACHE / "fonts"),
        "KPI_HASH_CACHE": str(work / CACHE / "sha256.json"),
    }
    help_text = measure([BIN / "kpi", "run", "--help"], env=env).stdout
    ctx = Context(s, env, "--fresh" in help_text, work)
    ctx.inputs = {
        "departments": s.departments,
        "rerun departments": s.rerun_departments,
        "rows": s.rows,
        "jobs": s.jobs,
        "cores": os.cpu_count(),
        "period": s.period,
        "demo departments": s.demo_departments,
        "quick": s.quick,
        "fresh flag": ctx.fresh,
        "commit": commit(),
        "machine": f"{platform.system()} {platform.machine()}",
        "versions": versions(),
    }
    figures: list[Figure] = []
    results = write_results(s.out, figures, ctx)
    for name, fn in FIGURES.items():
        if name not in s.figures or (name == "big" and s.skip_big):
            continue
        started = time.perf_counter()
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        figures += fn(ctx)
        print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        results = write_results(s.out, figures, ctx)
    print(render(figures, ctx.inputs, ctx.crosschecks, ctx.sections))
    return results


def write_results(out: Path, figures: list[Figure], ctx: Context) -> dict[str, Any]:
    """bench/results.json and bench/results.md as measured so far."""
    results = {
        "inputs": ctx.inputs,
        "figures": [asdict(f) for f in figures],
        "crosschecks": ctx.crosschecks,
        **ctx.extra,
    }
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "results.md").write_text(render(figures, ctx.inputs, ctx.crosschecks, ctx.sections), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
