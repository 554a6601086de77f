"""Where a batch's time goes: `py-spy record --subprocesses` over `kpi run`, summed by process kind and category.

py-spy samples every thread of `kpi run` and of every process it starts (the
pool's workers, the kernel zygote, the kernels forked from it) `rate` times a
second and writes each sample's stack (`-f raw`: one line per distinct stack,
`process …;frame;frame… count`). `summarize` gives each sample

- a **process kind** from the chain of processes it was taken in: `main` (the
  `kpi run` process), `worker` (a pool worker, `multiprocessing.spawn`), `zygote`
  (the process that preloads the kernel's imports and forks kernels), `kernel`
  (a kernel forked from the zygote, or an `ipykernel_launcher`), `other`;
- a **category** from its frames, by the first rule of `RULES` that matches
  (an idle thread first: a thread blocked in `select`, `poll`, a lock or a pipe
  read, or with no Python frame at all, is sampled like a busy one, so those
  samples are counted apart as `idle`, never as time spent).

Samples / rate is seconds a thread was on (or waiting for) a core: on a machine
shared with others a runnable thread waiting for its turn counts too, so the
shares are what to read; the bench also runs the same command without the
profiler and gives its wall time and CPU seconds (`os.wait4`: the process tree it
waited for) beside the table.

The `profile` group of `make bench` runs it on one demo department (`--jobs 1`)
and on the demo's three departments and writes both tables into
bench/results.md; on its own:

    python benchmarks/profile.py [--rate 50] [--jobs 2] [--out bench/profile]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMPORTS_SHOWN = 8
KINDS = ("main", "worker", "zygote", "kernel", "other")
IDLE = "idle (blocked threads, not counted)"
# Where a blocked thread sits: the innermost Python frame of an idle sample (function name, then file).
IDLE_LEAVES = (
    r"^(EpollSelector|PollSelector|SelectSelector|_PollLikeSelector|DefaultSelector)\.select ",
    r"^Condition\.wait ",
    r"^Event\.wait ",
    r"^Thread\.join ",
    r"^OutStream\._watch_pipe_fd ",
    r"^ParentPollerUnix\.run ",
    r"^device \(.*zmq",
    r"^Poller\.poll ",
    r"^(Socket\.recv|Socket\.recv_multipart|Socket\.poll) ",
    r"^select \(",
    r"^wait \(.*(multiprocessing|threading)",
    r"^_recv_bytes |^_recv |^Connection\.(recv|poll|_poll) ",
    r"^(Popen\._wait|Popen\.wait|_try_wait|waitpid) ",
    r"^(sleep|_sleep) ",
    r"^SimpleQueue\.get |^Queue\.get ",
    r"^_worker \(.*concurrent/futures/thread",
)
# (category, pattern): the first rule that any frame of a sample matches wins, so an import inside a cell counts as
# an import, a font subset inside a page as a font subset, and a hash inside staging as hashing.
RULES: tuple[tuple[str, str], ...] = (
    ("imports", r"^_find_and_load |^_handle_fromlist |^import_module |^_gcd_import "),
    ("font subsets", r"^font_subset |fontTools/|^_cut \(.*reports/convert"),
    ("index and summaries", r"^write_index |^render_index |^_write_period_files |summary"),
    ("nbconvert pages", r"nbconvert/|^department_reports |^_write_reports |reports/convert\.py|mistune/|bleach/"),
    ("charts (matplotlib)", r"matplotlib/|PIL/|words/charts\.py"),
    ("HTML (Jinja)", r"jinja2/|markupsafe/"),
    ("hashing", r"^(sha256_file|sha256_bytes|output_hashes|_hashes|fingerprint_versions|[A-Za-z_.]*\.sha256) |hashlib"),
    ("scoring", r"kpi_lib/scoring/|^appraise "),
    ("reading tables", r"kpi_lib/inputs/|pandas/io/|pyarrow/"),
    ("papermill writes", r"^write \(.*nbformat|^write_ipynb |papermill/iorw\.py|nbformat/v4/nbjson|^_write_notebook "),
    ("staging", r"^_stage |^_prepare |^_describe |^_decide "),
    ("audit (manifest, trail, checks)", r"kpi_lib/audit/"),
    ("cell execution (other)", r"^InteractiveShell\.run_cell |^InteractiveShell\.run_code "),
    ("kernel start", r"kernels\.py|ipykernel/kernelapp\.py|^IPKernelApp\.|ipykernel_launcher|traitlets/"),
    ("notebook client (papermill, nbclient)", r"papermill/|nbclient/|jupyter_client/|nbformat/"),
    ("messaging (zmq, tornado, asyncio)", r"zmq/|tornado/|asyncio/|ipykernel/"),
)
IDLE_LEAF = re.compile("|".join(f"(?:{p})" for p in IDLE_LEAVES))
COMPILED = tuple((name, re.compile(pattern)) for name, pattern in RULES)
PROCESS = re.compile(r'process \d+:"(.*?)"(?:;|$)')


def process_kind(chain: Sequence[str]) -> str:
    """The kind of the innermost process of a sample's chain of process command lines (outermost first)."""
    if len(chain) <= 1:
        return "main"
    line = chain[-1]
    if "kpi_zygote" in line:
        return "kernel" if "kpi_zygote" in chain[-2] else "zygote"
    if "ipykernel_launcher" in line:
        return "kernel"
    if "resource_tracker" in line:
        return "other"
    if "spawn_main" in line or "multiprocessing" in line:
        return "worker"
    return "other"


def category(frames: Sequence[str]) -> str:
    """The category of one sample's Python frames (outermost first; see `RULES`)."""
    if not frames or IDLE_LEAF.search(frames[-1]):
        return IDLE
    for name, rule in COMPILED:
        if any(rule.search(f) for f in frames):
            return name
    return "other"


@dataclass
class Profile:
    """Seconds (samples / rate) by (process kind, category), and the wall time of the profiled run."""

    rate: int
    seconds: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    imports: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))  # by package
    wall: float = 0.0

    def busy(self) -> float:
        return sum(v for (_, c), v in self.seconds.items() if c != IDLE)


def split_stack(stack: str) -> tuple[list[str], list[str]]:
    """A raw stack's process command lines (outermost first) and its Python frames. A command line may hold `;`
    (`python -c "import runpy, sys; …"`), so the processes are matched whole, then the rest is split."""
    chain, end = [], 0
    while match := PROCESS.match(stack, end):
        chain.append(match.group(1))
        end = match.end()
    rest = stack[end:]
    return chain, rest.split(";") if rest else []


MODULE = re.compile(r"^<module> \((.*?)(?::\d+)?\)$")
IMPORT = re.compile(COMPILED[0][1].pattern)


def imported_package(frames: Sequence[str]) -> str:
    """The package whose import a sample is in: the outermost module run by an import (`papermill`, `kpi_lib.batch`,
    `json`), so an import that pulls in others is counted once, under the package imported first."""
    inside = False
    for frame in frames:
        if IMPORT.search(frame):
            inside = True
        elif inside and (match := MODULE.match(frame)):
            path = match.group(1)  # py-spy names a file relative to its sys.path entry where it can
            for root in ("site-packages/", "/lib/python3.11/", "/lib/python3.12/", "/lib/python3.13/"):
                path = path.split(root, 1)[-1]
            if "kpi_lib/" in path:
                parts = path.split("kpi_lib/", 1)[1].split("/")
                return "kpi_lib" + ("." + parts[0] if len(parts) > 1 else "")
            return path.lstrip("/").split("/", 1)[0].removesuffix(".py")
    return "(import machinery)"


def summarize(lines: Iterable[str], rate: int) -> Profile:
    """A py-spy `-f raw` output summed by process kind and category."""
    found = Profile(rate)
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        chain, frames = split_stack(stack)
        kind, name = process_kind(chain), category(frames)
        found.seconds[(kind, name)] += int(count) / rate
        if name == "imports":
            found.imports[(kind, imported_package(frames))] += int(count) / rate
    return found


def record(cmd: Sequence[str | Path], raw: Path, *, rate: int, env: dict[str, str], cwd: Path | None = None) -> float:
    """`py-spy record --subprocesses -f raw` of `cmd` into `raw`; the wall seconds. py-spy starts the process itself
    (no ptrace permission over other processes needed)."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise RuntimeError("py-spy is not installed: pip install -e '.[bench]'")
    started = time.perf_counter()
    done = subprocess.run(
        [spy, "record", "--subprocesses", "--format", "raw", "--rate", str(rate), "--output", str(raw), "--",
         *map(str, cmd)],
        env=env, cwd=cwd, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not raw.is_file():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"py-spy record of {' '.join(map(str, cmd))} exited with {done.returncode}:\n{tail}")
    return time.perf_counter() - started


def table(title: str, profile: Profile, note: str = "") -> str:
    """The markdown table of one profile: a row per category (busiest first), a column per process kind."""
    kinds = [k for k in KINDS if any(kind == k for kind, _ in profile.seconds)]
    categories: defaultdict[str, float] = defaultdict(float)
    for (_, name), value in profile.seconds.items():
        categories[name] += value
    busy = profile.busy() or 1.0
    ranked = sorted(categories, key=lambda name: -categories[name])
    rows = [name for name in ranked if name != IDLE] + ([IDLE] if IDLE in categories else [])
    lines = [
        f"### {title}",
        "",
        *([note, ""] if note else []),
        "| category | " + " | ".join(kinds) + " | total s | share |",
        "|---|" + "---:|" * (len(kinds) + 2),
    ]
    for name in rows:
        cells = [f"{profile.seconds.get((k, name), 0.0):.2f}" for k in kinds]
        share = "" if name == IDLE else f"{categories[name] / busy:.0%}"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {categories[name]:.2f} | {share} |")
    totals = [sum(v for (k, c), v in profile.seconds.items() if k == kind and c != IDLE) for kind in kinds]
    lines.append("| **busy, all categories** | " + " | ".join(f"{t:.2f}" for t in totals) + f" | {busy:.2f} | 100% |")
    packages: defaultdict[str, float] = defaultdict(float)
    for (_, package), value in profile.imports.items():
        packages[package] += value
    if packages:
        lines += [
            "",
            f"Imports by the package imported first (the {IMPORTS_SHOWN} largest):",
            "",
            "| package | " + " | ".join(kinds) + " | total s |",
            "|---|" + "---:|" * (len(kinds) + 1),
        ]
        for package in sorted(packages, key=lambda p: -packages[p])[:IMPORTS_SHOWN]:
            cells = [f"{profile.imports.get((k, package), 0.0):.2f}" for k in kinds]
            lines.append(f"| {package} | " + " | ".join(cells) + f" | {packages[package]:.2f} |")
    return "\n".join(lines) + "\n"


def as_json(profile: Profile) -> dict[str, Any]:
    return {
        "rate": profile.rate,
        "wall_profiled_s": round(profile.wall, 2),
        "busy_s": round(profile.busy(), 2),
        "seconds": [
            {"kind": kind, "category": name, "seconds": round(value, 2)}
            for (kind, name), value in sorted(profile.seconds.items())
        ],
        "imports": [
            {"kind": kind, "package": package, "seconds": round(value, 2)}
            for (kind, package), value in sorted(profile.imports.items())
        ],
    }


def profile_run(
    cmd: Sequence[str | Path], raw: Path, *, rate: int, env: dict[str, str], cwd: Path | None = None
) -> Profile:
    wall = record(cmd, raw, rate=rate, env=env, cwd=cwd)
    with raw.open(encoding="utf-8", errors="replace") as lines:
        found = summarize(lines, rate)
    found.wall = wall
    return found


def main(argv: list[str] | None = None) -> None:
    """Profile `kpi run` of one demo department (--jobs 1) and of the demo's three (--jobs J); print both tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=int, default=50, help="samples per second (50)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--period", default="2026-Q4")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "bench" / "profile")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import bench_batch

    bench_batch.main(
        ["--figures", "profile", "--jobs", str(args.jobs), "--period", args.period, "--out", str(args.out),
         "--profile-rate", str(args.rate)]
    )  # fmt: skip


if __name__ == "__main__":
    main()
