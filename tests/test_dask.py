"""`kpi run --executor dask` writes what the local pool writes: the same files, byte-identical `result.json`.

Both runs use `SOURCE_DATE_EPOCH`, so any difference is the executor's doing.
The README's "Many machines" recipe (a `dask scheduler`, `dask worker`s, `kpi run
--scheduler`) is run here too, with a scheduler and two workers on this machine.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi_lib.base.errors import SetupError
from kpi_lib.batch.workers import DaskExecutor

from .conftest import kpi

PERIOD = "2026-Q4"
SKIP = {".kernels.log", ".lock"}  # the run's own log and lock, not outputs


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in SKIP
    }


def _results(root: Path) -> dict[str, bytes]:
    return {name: data for name, data in _files(root).items() if name.endswith("/result.json")}


def test_missing_dask_is_a_setup_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    with pytest.raises(SetupError, match=r"pip install 'kpi-appraisal\[dask\]'"):
        DaskExecutor(1, tmp_path / "log")


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], dict[str, bytes]]]:
    """`kpi demo --departments 4` and its local-pool run (with SOURCE_DATE_EPOCH): params folder, env, files."""
    root = tmp_path_factory.mktemp("company")
    assert kpi("demo", "--out", str(root), "--departments", "4").returncode == 0
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1798761600"}
    params = sorted(str(p) for p in (root / "params").glob("*.yaml"))
    local = kpi("run", *params, "--period", PERIOD, "--out", str(root / "local"), "--jobs", "2", env=env)
    assert local.returncode == 0, local.stderr
    files = _files(root / "local" / PERIOD)
    assert len(_results(root / "local" / PERIOD)) == 4
    yield root, env, files


@pytest.mark.slow
def test_dask_local_cluster_writes_what_the_local_pool_writes(
    company: tuple[Path, dict[str, str], dict[str, bytes]],
) -> None:
    root, env, local = company
    params = sorted(str(p) for p in (root / "params").glob("*.yaml"))
    out = root / "dask"
    done = kpi("run", *params, "--period", PERIOD, "--out", str(out), "--jobs", "2", "--executor", "dask", env=env)
    assert done.returncode == 0, done.stderr
    theirs = _files(out / PERIOD)
    assert sorted(theirs) == sorted(local)
    assert _results(out / PERIOD) == {k: v for k, v in local.items() if k.endswith("/result.json")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_a_scheduler_and_two_workers_as_the_readme_says(company: tuple[Path, dict[str, str], dict[str, bytes]]) -> None:
    """`dask scheduler`, two `dask worker tcp://…` (as on two machines sharing the folders), `kpi run --scheduler`."""
    root, env, local = company
    bin_ = Path(sys.executable).parent
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = root / "dask-logs"
    logs.mkdir(exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as files:
        try:
            started.append(
                subprocess.Popen(
                    [bin_ / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                    stdout=subprocess.DEVNULL, stderr=files.enter_context((logs / "scheduler.log").open("wb")), env=env,
                )
            )  # fmt: skip
            for k in range(2):
                started.append(
                    subprocess.Popen(
                        [bin_ / "dask", "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                         "--local-directory", str(logs / f"worker{k}")],
                        stdout=subprocess.DEVNULL, stderr=files.enter_context((logs / f"worker{k}.log").open("wb")),
                        env=env,
                    )
                )  # fmt: skip
            deadline = time.monotonic() + 60
            while True:  # the scheduler needs a moment to listen; kpi run refuses an unreachable one
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                assert time.monotonic() < deadline, (logs / "scheduler.log").read_text(errors="replace")
                time.sleep(0.5)
            params = sorted(str(p) for p in (root / "params").glob("*.yaml"))
            out = root / "scheduler"
            done = kpi(
                "run", *params, "--period", PERIOD, "--out", str(out), "--jobs", "2",
                "--executor", "dask", "--scheduler", address, env=env,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert sorted(_files(out / PERIOD)) == sorted(local)
            assert _results(out / PERIOD) == {k: v for k, v in local.items() if k.endswith("/result.json")}
        finally:
            for proc in reversed(started):
                proc.terminate()
            for proc in started:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
