"""Benchmark: `kpi run` against the naive way (papermill CLI, then nbconvert CLI, one notebook after another).

Both produce the same files for the same departments and period: every executed
notebook plus its reader's and auditor's HTML. Both are measured in the same run
on the same machine, and the table reports the ratio (the machines are shared and
noisy: compare ratios, not seconds across runs).

    python benchmarks/bench_batch.py [--period 2026-Q4] [--jobs N] [--out bench]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GROUPS = ("management", "service", "key_accounts", "cost")


def naive(params: list[Path], period: str, out: Path) -> float:
    started = time.perf_counter()
    for path in params:
        folder = out / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        for name in (*GROUPS, "scorecard"):
            executed = folder / f"{name}.ipynb"
            extra = ["-p", "group", name] if name in GROUPS else ["-p", "results_dir", "."]
            subprocess.run(
                [
                    str(BIN / "papermill"),
                    str(ROOT / "notebooks" / f"{name}.ipynb"),
                    str(executed),
                    "-p",
                    "params_path",
                    str(path),
                    "-p",
                    "period",
                    period,
                    *extra,
                    "--cwd",
                    str(folder),
                    "--no-progress-bar",
                ],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [
                    str(BIN / "jupyter"),
                    "nbconvert",
                    "--to",
                    "html",
                    "--no-input",
                    str(executed),
                    "--output",
                    f"{name}.html",
                ],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", str(executed), "--output", f"{name}.audit.html"],
                check=True,
                capture_output=True,
            )
    return time.perf_counter() - started


def batch(params: list[Path], period: str, out: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "kpi"), "run", *map(str, params), "--period", period, "--out", str(out), "--jobs", str(jobs)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default="2026-Q4")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    args = parser.parse_args()
    params = sorted((ROOT / "params").glob("*.yaml"))
    if not params or not (ROOT / "data" / "demo").is_dir():
        subprocess.run([str(BIN / "kpi"), "demo", "--out", str(ROOT)], check=True, capture_output=True)
        params = sorted((ROOT / "params").glob("*.yaml"))
    shutil.rmtree(args.out, ignore_errors=True)
    notebooks = len(params) * (len(GROUPS) + 1)
    ours = batch(params, args.period, args.out / "batch", args.jobs)
    theirs = naive(params, args.period, args.out / "naive")
    rows = [
        ("naive: papermill CLI + nbconvert CLI ×2, sequential", theirs),
        (f"kpi run --jobs {args.jobs}", ours),
    ]
    lines = [
        f"# Batch benchmark ({len(params)} departments × {len(GROUPS) + 1} notebooks = {notebooks}, period {args.period}, {os.cpu_count()} cores)",
        "",
        "| way | wall s | s per notebook |",
        "|---|---:|---:|",
        *(f"| {name} | {secs:.1f} | {secs / notebooks:.2f} |" for name, secs in rows),
        "",
        f"speed-up (naive / kpi run): **{theirs / ours:.2f}×**",
    ]
    text = "\n".join(lines) + "\n"
    (args.out / "results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
