"""Shared helpers and fixtures: `kpi()` runs the command line, a tiny company is written from Python dicts, and the demo
is written once per session."""

from __future__ import annotations

import contextlib
import copy
import csv
import fcntl
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from kpi_lib.batch.demo import TABLE_COLUMNS, write_demo

# The complete params example of SPEC §5 (CS02 computed from surveys here).
SPEC_INDICATORS: dict[str, dict[str, Any]] = {
    "CS01": {"weight": 5, "per_item": 10},
    "CS02": {"weight": 5, "target": 90, "step": 1, "penalty": 2, "bonus": 1},
    "CS03": {"weight": 15, "target": 100, "step": 1, "penalty": 2, "bonus": 1},
    "CS04": {"weight": 8, "target": 95, "step": 1, "penalty": 2, "bonus": 1, "sla": "24h"},
    "CS05": {"weight": 8, "target": 95, "step": 1, "penalty": 2, "bonus": 1, "sla": "2wd"},
    "CS06": {"weight": 8, "target": 90, "step": 1, "penalty": 2, "bonus": 1},
    "CS07": {"weight": 10, "target": 90, "step": 1, "penalty": 5, "bonus": 1},
    "CS08": {"weight": 10, "target": 5, "step": 1, "penalty": 3, "bonus": 1},
    "CS09": {"weight": 8, "target": 95, "step": 1, "penalty": 2, "bonus": 1},
    "CS10": {"weight": 10, "target": 90, "step": 1, "penalty": 2, "bonus": 1},
    "CS11": {"weight": 8, "target": 0, "step": 5, "penalty": 10, "bonus": 0},
    "CS12": {"weight": 5, "target": 90, "step": 1, "penalty": 2, "bonus": 1},
}


PARAMETER_SET = type(pytest.param(None))  # what pytest.param makes (its class is not public API)
KPI = [sys.executable, "-m", "kpi_lib"]  # the `kpi` command as a user runs it, whatever the PATH


# Commands that start worker processes and kernels: always run in a process of their own, as a user runs them.
OWN_PROCESS = frozenset({"run", "lab"})


def kpi(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    in_process: bool | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `kpi ARGS…` and return its exit code, stdout and stderr; never raises on a failing command.

    In a new process through the real entry point (`python -m kpi_lib`), in `cwd`, with `env` as the whole
    environment (None: this one's), when `in_process=False`, when `cwd` or `env` is given, or for `kpi run` and
    `kpi lab` (`OWN_PROCESS`); such a test is `slow`. Otherwise (`in_process` left out or True) it calls
    `kpi_lib.cli.main` in this interpreter: the same exit codes and text without two seconds of start-up and
    imports per call. `tests/test_cli.py` runs every command through the real entry point (`kpi_process`).
    """
    argv = [str(a) for a in args]
    if in_process is None:
        in_process = cwd is None and env is None and not OWN_PROCESS.intersection(argv[:1])
    if not in_process:
        return subprocess.run([*KPI, *argv], capture_output=True, text=True, cwd=cwd, env=env, check=False)
    if cwd is not None or env is not None:
        raise ValueError("kpi(): cwd and env need a process of their own; leave in_process out")
    from kpi_lib.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return subprocess.CompletedProcess([*KPI, *argv], code, out.getvalue(), err.getvalue())


def kpi_process(
    *args: str | Path, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`kpi ARGS…` always in a new process through the real entry point (`python -m kpi_lib`)."""
    return kpi(*args, cwd=cwd, env=env, in_process=False)


def fast_sample(cases: Iterable[Any], every: int) -> list[Any]:
    """Table-driven cases as pytest params: all of them run in `make test`, a fixed sample in `make test-fast`.

    The first case and every `every`-th after it stay unmarked; the others are marked `slow`. The sample goes by
    position, not chance, so the fast run tries the same cases every time and a failure in it comes back.
    """
    params = [case if isinstance(case, PARAMETER_SET) else pytest.param(case) for case in cases]
    return [
        p if n % every == 0 else pytest.param(*p.values, marks=[*p.marks, pytest.mark.slow], id=p.id)
        for n, p in enumerate(params)
    ]


def write_csv(path: Path, header: list[str], rows: list[dict[str, Any]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in header])
    return path


def params_document(name: str = "cs-test", **changes: Any) -> dict[str, Any]:
    """The SPEC §5 params of a test department; `indicators` changes merge per indicator (None drops one)."""
    doc: dict[str, Any] = {
        "department": name,
        "name": "测试客服部",
        "template": "customer_service",
        "data": "data",
        "lang": "zh",
        "review_date": "2026-12-20",
        "indicators": copy.deepcopy(SPEC_INDICATORS),
    }
    for key, value in changes.items():
        if key == "indicators":
            for iid, spec in value.items():
                if spec is None:
                    doc["indicators"].pop(iid, None)
                else:
                    doc["indicators"].setdefault(iid, {}).update(spec)
        else:
            doc[key] = value
    return doc


def messages(n_on_time: int, n_late: int, start: datetime = datetime(2026, 11, 2, 9, 0)) -> list[dict[str, Any]]:
    rows = []
    for i in range(n_on_time + n_late):
        created = start + timedelta(minutes=i)
        sent = created + (timedelta(hours=23) if i < n_on_time else timedelta(hours=25))
        rows.append(
            {"message_id": f"M{i}", "created_at": f"{created:%Y-%m-%d %H:%M:%S}", "sent_at": f"{sent:%Y-%m-%d %H:%M}"}
        )
    return rows


class Company:
    """A data folder plus params files, built table by table in a test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        for name, header in TABLE_COLUMNS.items():
            write_csv(self.data / f"{name}.csv", header, [])
        self.budgets: list[dict[str, Any]] = []
        for period in ("2026", "2026-H2", "2026-Q4", "2026-10", "2026-11", "2026-12"):
            self.budget("cs-test", period, 100000)

    def table(self, name: str, rows: list[dict[str, Any]], department: str = "cs-test") -> Path:
        rows = [{"department": department, **row} for row in rows]
        return write_csv(self.data / f"{name}.csv", TABLE_COLUMNS[name], rows)

    def budget(self, department: str, period: str, amount: Any) -> None:
        """Set (or replace) one budget row."""
        self.budgets = [b for b in self.budgets if (b["department"], b["period"]) != (department, period)]
        self.budgets.append({"department": department, "period": period, "amount": amount})
        write_csv(self.data / "budgets.csv", TABLE_COLUMNS["budgets"], self.budgets)

    def params(self, name: str = "cs-test", **changes: Any) -> Path:
        doc = params_document(name, **changes)
        path = self.root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path


@pytest.fixture
def company(tmp_path: Path) -> Company:
    return Company(tmp_path)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_demo(out)
    return out


@pytest.fixture(scope="session", autouse=True)
def font_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Font subsets (and remembered hashes) kept for this `pytest` run only (shared by its xdist workers), never in
    the user's ~/.cache."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    os.environ["KPI_FONT_CACHE"] = str(shared / "font-cache")
    os.environ["KPI_HASH_CACHE"] = str(shared / "sha256.json")  # and the hashes incremental runs remember
    return shared / "font-cache"


DEMO_PERIODS = ("2026-Q3", "2026-Q4")
DEMO_DEPARTMENTS = ("cs-east", "cs-west")  # zh, en


@pytest.fixture(scope="session")
def demo_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's cs-east (Chinese) and cs-west (English) run by `kpi run` for 2026-Q3, then 2026-Q4, into one
    outputs folder: made once per `pytest` run, shared by every xdist worker (the first makes it, under a lock).

    Read it, never write into it: a test that changes or adds files copies it first (`shutil.copytree`).
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # .../pytest-N/popen-gwK: the parent is the run's, shared by workers
        shared = shared.parent
    root = shared / "demo-run"
    with (shared / "demo-run.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, by this worker or its death
        if not (root / "done").exists():
            shutil.rmtree(root, ignore_errors=True)  # what a worker that failed half-way left
            write_demo(root)
            params = []
            for name in DEMO_DEPARTMENTS:
                text = (root / "params" / f"{name}.yaml").read_text(encoding="utf-8")
                path = root / f"{name}.yaml"
                path.write_text(text.replace("data: ../data/demo", f"data: {root / 'data' / 'demo'}"), encoding="utf-8")
                params.append(path)
            for period in DEMO_PERIODS:
                done = kpi("run", *params, "--period", period, "--out", root / "outputs", "--jobs", "2")
                assert done.returncode == 0, done.stderr
            (root / "done").touch()
    return root / "outputs"


@pytest.fixture
def indicator(company: Company) -> Callable[..., dict[str, Any]]:
    """Score one department of `company` for a period and return one indicator's JSON object."""
    from kpi_lib import Period, appraise, load_params

    def run(iid: str, period: str = "2026-Q4", **params: Any) -> dict[str, Any]:
        card = appraise(load_params(company.params(**params)), Period.parse(period))
        return next(i for i in card.to_json()["indicators"] if i["id"] == iid)

    return run
