"""Incremental runs (kpi_lib/batch/incremental.py): unchanged departments are reused, one changed department reruns alone.

One demo company goes through a sequence of runs, each after one change; after
each, the period manifest must say, for every department, whether it was reused
or ran and why. At the end, the outputs an incremental run left must be byte for
byte those of a fresh full run (`SOURCE_DATE_EPOCH` set).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kpi_lib.base.layout import INPUTS, MANIFEST, SIGNOFFS

from .conftest import kpi

pytestmark = pytest.mark.slow

DEPARTMENTS = ("cs-east", "cs-north", "cs-west")
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}


class World:
    def __init__(self, root: Path, demo_dir: Path) -> None:
        self.root = root
        shutil.copytree(demo_dir / "data", root / "data")
        shutil.copytree(demo_dir / "params", root / "params")
        self.out = root / "outputs"
        self.period = self.out / "2026-Q4"

    def run(self, *extra: str) -> tuple[int, dict[str, dict[str, str]]]:
        result = kpi(
            "run", "--all", "--period", "2026-Q4", "--out", self.out, "--jobs", "2", *extra, cwd=self.root, env=ENV
        )
        runs = json.loads((self.period / MANIFEST).read_text(encoding="utf-8"))["runs"]
        return result.returncode, runs

    def edit_row(self, table: str, department: str, old: str, new: str) -> None:
        path = self.root / "data" / "demo" / f"{table}.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        i = next(i for i, line in enumerate(lines) if f",{department}," in line and line.endswith(old))
        lines[i] = lines[i][: -len(old)] + new
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def edit_params(self, department: str, old: str, new: str) -> None:
        path = self.root / "params" / f"{department}.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


def outputs(period: Path) -> dict[str, bytes]:
    """Every output file of the period folder by path (what reports and results are made of; not inputs/ or manifests)."""
    found = {}
    for path in sorted(period.rglob("*")):
        rel = path.relative_to(period)
        hidden = any(part.startswith(".") for part in rel.parts)  # the kernels' log, the lock, the store
        if path.is_file() and not hidden and INPUTS not in rel.parts and path.name not in (MANIFEST, SIGNOFFS):
            found[rel.as_posix()] = path.read_bytes()
    return found


# (what changes, then for each department: "reused"/"ran"/"refused" and words its `why` holds)
Step = tuple[str, Callable[["World"], None], dict[str, tuple[str, str]]]
STEPS: list[Step] = [
    ("nothing", lambda w: None, {d: ("reused", "unchanged: same params") for d in DEPARTMENTS}),
    (
        "one row of cs-west in a shared export",
        lambda w: w.edit_row("surveys", "cs-west", ",1", ",5"),
        {
            "cs-west": ("ran", "changed: its rows of surveys"),
            "cs-east": ("reused", "other rows of surveys changed"),
            "cs-north": ("reused", "other rows of surveys changed"),
        },
    ),
    (
        "cs-north's params",
        lambda w: w.edit_params("cs-north", "name: ", "name: 新"),
        {
            "cs-north": ("ran", "changed: its params file"),
            "cs-east": ("reused", "unchanged"),
            "cs-west": ("reused", "unchanged"),
        },
    ),
    (
        "an output of cs-east edited by hand",
        lambda w: (w.period / "cs-east" / "service.html").write_text("edited", encoding="utf-8"),
        {
            "cs-east": ("ran", "its outputs differ from its manifest"),
            "cs-north": ("reused", "unchanged"),
            "cs-west": ("reused", "unchanged"),
        },
    ),
    (
        "a partition of cs-west replaced by cs-east's",
        lambda w: shutil.copy(
            w.period / "cs-east" / INPUTS / "tables" / "surveys.parquet",
            w.period / "cs-west" / INPUTS / "tables" / "surveys.parquet",
        ),
        {
            "cs-west": ("ran", "its outputs differ from its manifest"),
            "cs-east": ("reused", "unchanged"),
            "cs-north": ("reused", "unchanged"),
        },
    ),
]
SIGNED: list[Step] = [
    (
        "cs-east signed off, nothing else",
        lambda w: kpi("sign", w.period / "cs-east", "--role", "manager", "--name", "王经理", env=ENV),
        {"cs-east": ("reused", "unchanged"), "cs-west": ("reused", "unchanged"), "cs-north": ("reused", "unchanged")},
    ),
    (
        "signed cs-east's rows changed",
        lambda w: w.edit_row("surveys", "cs-east", ",1", ",5"),
        {
            "cs-east": ("refused", "changed: its rows of surveys"),
            "cs-west": ("reused", "other rows of surveys changed"),
            "cs-north": ("reused", "other rows of surveys changed"),
        },
    ),
]


def steps(world: World, sequence: list[Step]) -> None:
    for what, change, expected in sequence:
        change(world)
        code, runs = world.run()
        for dept, (run, words) in expected.items():
            assert runs[dept]["run"] == run and words in runs[dept]["why"], (what, dept, runs[dept])
        assert code == (1 if any(run == "refused" for run, _ in expected.values()) else 0), what


def test_each_department_is_reused_or_run_with_its_reason(demo_dir: Path, tmp_path: Path) -> None:
    world = World(tmp_path, demo_dir)
    code, runs = world.run()
    assert code == 0 and {d: r["run"] for d, r in runs.items()} == dict.fromkeys(DEPARTMENTS, "ran")
    steps(world, STEPS)
    verify = kpi("verify", world.period, "--recompute", env=ENV)
    assert verify.returncode == 0, verify.stderr
    left = outputs(world.period)  # after reusing some departments and running others, many times over
    code, runs = world.run("--fresh")
    assert code == 0 and all(r["run"] == "ran" and r["why"] == "--fresh" for r in runs.values()), runs
    fresh = outputs(world.period)
    assert sorted(left) == sorted(fresh)
    assert [name for name in left if left[name] != fresh[name]] == []
    steps(world, SIGNED)
