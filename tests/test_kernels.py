"""Kernels forked from a zygote (issue 10 §1): fresh state in every notebook, the kernel's life as jupyter_client sees it.

The tests that start kernels run `runner.execute` in this process, which then plays
the worker: its zygote serves every notebook of the module, so "notebook B after
notebook A" means "after A, on the same zygote". Each isolation check is proved able
to fail by running it after its pollution in one shared kernel.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from kpi_lib.batch import kernels
from kpi_lib.batch.runner import NotebookJob, execute
from kpi_lib.batch.workers import die_with_parent, tied_kernel_manager

ROOT = Path(__file__).resolve().parents[1]

# -- isolation: one row per item a notebook could leak (item, pollution in A, check in B: True when pristine) ----
POLLUTIONS = [
    ("global variable", "kpi_leak = 1", "'kpi_leak' not in globals()"),
    (
        "module attribute",
        "from decimal import Decimal; import kpi_lib.base.numbers as n; n.CENT = Decimal('0.1'); n.LEAK = 1",
        "from decimal import Decimal; import kpi_lib.base.numbers as n; n.CENT == Decimal('0.01') and not hasattr(n, 'LEAK')",
    ),
    (
        "sys.modules entry",
        "import sys, types; sys.modules['kpi_leak_module'] = types.ModuleType('kpi_leak_module')",
        "import sys; 'kpi_leak_module' not in sys.modules",
    ),
    (
        "functools cache",
        "from datetime import date; from kpi_lib import workdays; workdays.is_workday(date(2031, 5, 6))",
        "from kpi_lib import workdays; workdays.is_workday.cache_info().currsize == 0",
    ),
    (
        "matplotlib rcParams",
        "import matplotlib; matplotlib.rcParams['lines.linewidth'] = 7.25",
        "import matplotlib; matplotlib.rcParams['lines.linewidth'] == matplotlib.rcParamsDefault['lines.linewidth']",
    ),
    (
        "pandas option",
        "import pandas as pd; pd.set_option('display.max_rows', 7)",
        "import pandas as pd; pd.get_option('display.max_rows') == 60",
    ),
    ("environment variable set", "import os; os.environ['KPI_LEAK'] = '1'", "import os; 'KPI_LEAK' not in os.environ"),
    (
        "environment variable removed",
        "import os; os.environ.pop('KPI_KEEP')",
        "import os; os.environ.get('KPI_KEEP') == 'kept'",
    ),
    ("working directory", "import os; os.chdir('/')", "import os; os.getcwd() == CWD"),
    (
        "numpy's global random state",
        "import numpy; numpy.random.seed(1234)",
        "import numpy; numpy.random.get_state()[1][:8].tolist() != numpy.random.RandomState(1234).get_state()[1][:8].tolist()",
    ),
]


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("CWD = ''", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def _check_cell() -> str:
    """One cell that prints {item: pristine?} for every row of POLLUTIONS, each check in a namespace of its own."""
    rows = {item: check for item, _, check in POLLUTIONS}
    return (
        "import json as _json\n"
        f"_checks = {rows!r}\n"
        "_found = {}\n"
        "for _item, _code in _checks.items():\n"
        "    *_setup, _last = _code.split('; ')\n"
        "    _ns = {'CWD': CWD, '__builtins__': __builtins__, 'globals': lambda: globals()}\n"
        "    exec('; '.join(_setup) or 'pass', _ns)\n"
        "    _found[_item] = bool(eval(_last, _ns))\n"
        "print(_json.dumps(_found))"
    )


def _run(tmp: Path, name: str, *cells: str, timeout: int = 120) -> tuple[Any, list[Any]]:
    source = _notebook(tmp / f"{name}-source.ipynb", *cells)
    outcome = execute(NotebookJob(str(source), str(tmp / f"{name}.ipynb"), {"CWD": str(tmp)}, str(tmp), timeout))
    cells = nbformat.read(tmp / f"{name}.ipynb", as_version=4).cells
    ours = [c for c in cells if not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))]
    return outcome, [None, *ours]  # cells[1] is the first of `cells`


def _stdout(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


@pytest.fixture
def keep_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KPI_KEEP", "kept")
    monkeypatch.delenv(kernels.SWITCH, raising=False)
    yield


@pytest.mark.slow
def test_a_notebook_leaks_nothing_into_the_next_on_the_same_zygote(tmp_path: Path, keep_env: None) -> None:
    polluter, _ = _run(tmp_path, "a", *(pollute for _, pollute, _ in POLLUTIONS), "import os; print(os.getppid())")
    assert polluter.ok, polluter.error
    checker, cells = _run(tmp_path, "b", _check_cell(), "import os; print(os.getppid())")
    assert checker.ok, checker.error
    found = json.loads(_stdout(cells[1]))
    assert found == {item: True for item, _, _ in POLLUTIONS}, [item for item, ok in found.items() if not ok]
    zygote = next(iter(kernels.zygotes().live.values()))
    assert int(_stdout(cells[2])) == zygote.pid  # both kernels were children of the same zygote


@pytest.mark.slow
def test_every_check_fails_after_its_pollution_in_a_shared_kernel(tmp_path: Path, keep_env: None) -> None:
    """The same checks, run in the kernel that polluted: each must see its pollution (else the test above proves nothing)."""
    outcome, cells = _run(tmp_path, "shared", *(pollute for _, pollute, _ in POLLUTIONS), _check_cell())
    assert outcome.ok, outcome.error
    found = json.loads(_stdout(cells[-1]))
    assert found == {item: False for item, _, _ in POLLUTIONS}, [item for item, ok in found.items() if ok]


# -- a forked kernel's state equals a fresh kernel's -----------------------------------------------------
FINGERPRINT = """
import json, os, sys, signal, threading, warnings, locale
import matplotlib, pandas as pd
fp = {
    "env": dict(os.environ), "cwd": os.getcwd(), "argv": [sys.argv[0], *sys.argv[3:]], "path": sys.path,
    "orig_argv": sys.orig_argv[1:3], "flags": repr(sys.flags), "umask": os.umask(0o22),
    "signals": {s.name: repr(signal.getsignal(s)) for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP)},
    "own session": os.getsid(0) == os.getpid() == os.getpgid(0),
    "descriptors": sorted(int(f) for f in os.listdir("/proc/self/fd"))[:3],
    "stdin": os.readlink("/proc/self/fd/0").split(":")[0],
    "rcParams": {k: repr(v) for k, v in matplotlib.rcParams.items()},
    "pandas options": {k: repr(pd.get_option(k)) for k in pd._config.config._registered_options},
    "encodings": [sys.stdout.encoding, sys.getfilesystemencoding(), locale.setlocale(locale.LC_ALL)],
    "warning filters (as a set)": sorted(map(repr, warnings.filters)),
    "threads": sorted(t.name for t in threading.enumerate()),
    "recursion limit": sys.getrecursionlimit(),
}
os.umask(fp["umask"])
print(json.dumps(fp, sort_keys=True))
"""


@pytest.mark.slow
def test_a_forked_kernel_starts_in_the_state_of_a_fresh_one(
    tmp_path: Path, keep_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same environment, paths, argv, signals, umask, session, rcParams, pandas options … as `python -m ipykernel_launcher`.

    Warning filters are compared as a set: ipykernel's shell adds one (Trio's) when it starts, before a fresh
    kernel's notebook imports numpy and after the zygote did, so the order differs; no warning matches two of them.
    """
    seen = {}
    for mode in ("fresh", "forked"):
        monkeypatch.setenv(kernels.SWITCH, "0" if mode == "fresh" else "1")
        outcome, cells = _run(tmp_path, mode, FINGERPRINT)
        assert outcome.ok, outcome.error
        seen[mode] = json.loads(_stdout(cells[1]))
        seen[mode]["env"].pop(kernels.SWITCH)
    fresh, forked = seen["fresh"], seen["forked"]
    differences = {
        f"{key}[{inner}]" if isinstance(fresh[key], dict) else key
        for key in fresh
        for inner in (fresh[key] if isinstance(fresh[key], dict) else [None])
        if (
            fresh[key].get(inner) != forked[key].get(inner)
            if isinstance(fresh[key], dict)
            else fresh[key] != forked[key]
        )
    }
    assert not differences, {d: (fresh, forked) for d in sorted(differences)[:1]} and sorted(differences)
    assert set(fresh) == set(forked)


@pytest.mark.slow
def test_the_group_notebook_comes_out_byte_identical_from_a_forked_kernel(
    tmp_path: Path, demo_dir: Path, keep_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real notebook (tables, charts, the recorded result), fresh against forked, with SOURCE_DATE_EPOCH set."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1798675200")
    made = {}
    for mode in ("fresh", "forked"):
        monkeypatch.setenv(kernels.SWITCH, "0" if mode == "fresh" else "1")
        folder = tmp_path / mode
        folder.mkdir()
        job = NotebookJob(
            str(ROOT / "notebooks" / "group.ipynb"),
            str(folder / "service.ipynb"),
            {"params_path": str(demo_dir / "params" / "cs-east.yaml"), "period": "2026-Q4", "group": "service"},
            str(folder),
        )
        outcome = execute(job)
        assert outcome.ok, outcome.error
        made[mode] = (folder / "service.ipynb").read_bytes()
    assert b"image/png" in made["fresh"]  # charts were drawn
    assert made["fresh"] == made["forked"]


# -- where kernels come from -----------------------------------------------------------------------------
@pytest.mark.slow
def test_kernels_come_from_the_zygote_and_a_dead_zygote_is_replaced(
    tmp_path: Path, keep_env: None, capfd: pytest.CaptureFixture[str]
) -> None:
    pool = kernels.zygotes()
    outcome, cells = _run(tmp_path, "one", "import os; print(os.getppid())")
    assert outcome.ok, outcome.error
    first = next(iter(pool.live.values()))
    assert int(_stdout(cells[1])) == first.pid
    forked = pool.forked
    os.kill(first.pid, signal.SIGKILL)
    first.process.wait()
    outcome, cells = _run(tmp_path, "two", "import os; print(os.getppid())")
    assert outcome.ok, outcome.error
    second = next(iter(pool.live.values()))
    assert second.pid != first.pid and int(_stdout(cells[1])) == second.pid
    assert pool.forked == forked + 1
    assert f"the kernel zygote (pid {first.pid}) died" in capfd.readouterr().err


@pytest.mark.slow
def test_a_zygote_that_cannot_start_means_fresh_kernels_and_one_line(
    tmp_path: Path, keep_env: None, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KPI_FRESH_TEST", "1")  # another environment: a zygote of its own
    monkeypatch.setattr(kernels, "BOOT", "import sys; sys.exit(3)")
    pool = kernels.zygotes()
    fresh = pool.fresh
    outcome, cells = _run(tmp_path, "fallback", "import os; print(os.getppid())")
    assert outcome.ok, outcome.error
    assert int(_stdout(cells[1])) == os.getpid()  # a child of this process: launched the usual way
    assert pool.fresh == fresh + 1
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("kpi kernels:")]
    assert len(lines) == 1 and "could not start" in lines[0] and "exit code 3" in lines[0], lines


@pytest.mark.slow
def test_a_zygote_with_a_thread_after_its_imports_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without FORK_SAFE_ENV pyarrow starts jemalloc's background thread at import: the zygote must notice."""
    monkeypatch.setattr(kernels, "FORK_SAFE_ENV", {})
    env = {k: v for k, v in os.environ.items() if k not in {"JE_ARROW_MALLOC_CONF"}} | {"OPENBLAS_NUM_THREADS": "1"}
    with pytest.raises(kernels.ZygoteError, match="not fork-safe after its imports: 2 threads"):
        kernels.Zygote(sys.executable, env)


# -- the kernel's life through jupyter_client: interrupt, restart, kill, timeout ------------------------
@pytest.mark.slow
def test_interrupt_restart_and_shutdown_of_a_forked_kernel(keep_env: None) -> None:
    async def scenario() -> dict[str, Any]:
        km = tied_kernel_manager()(kernel_name="python3")
        await km.start_kernel()
        client = km.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        first = km.provisioner.process
        assert isinstance(first, kernels.ForkedKernel)
        msg_id = client.execute("import time; time.sleep(60)")
        await asyncio.sleep(1)
        started = time.monotonic()
        await km.interrupt_kernel()
        while True:
            reply = await client.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        interrupted = (reply["content"]["status"], reply["content"].get("ename"), time.monotonic() - started)
        await km.restart_kernel(now=True)
        second = km.provisioner.process
        await client.wait_for_ready(timeout=60)
        alive = await km.is_alive()
        client.stop_channels()
        await km.shutdown_kernel(now=True)
        return {"interrupted": interrupted, "first": first, "second": second, "alive": alive}

    result = asyncio.run(scenario())
    status, ename, _ = result["interrupted"]
    assert (status, ename) == ("error", "KeyboardInterrupt")
    assert result["alive"] and isinstance(result["second"], kernels.ForkedKernel)
    assert result["first"].pid != result["second"].pid
    assert result["first"].returncode is not None and result["second"].poll() is not None
    for kernel in (result["first"], result["second"]):
        with pytest.raises(ProcessLookupError):
            os.kill(kernel.pid, 0)  # reaped by the zygote, not left behind


@pytest.mark.slow
def test_a_cell_timeout_ends_the_forked_kernel(tmp_path: Path, keep_env: None) -> None:
    outcome, cells = _run(
        tmp_path, "slow", "import os; print(os.getpid(), flush=True)", "import time; time.sleep(600)", timeout=3
    )
    assert not outcome.ok and "timed out" in outcome.error, outcome.error
    pid = int(_stdout(cells[1]))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the timed-out kernel {pid} still runs")


# -- fast: what may be forked, and how an exit status is read -------------------------------------------
CMD = [sys.executable, "-m", "ipykernel_launcher", "-f", "/tmp/k.json"]
TIE = {"preexec_fn": __import__("functools").partial(die_with_parent, 1)}


@pytest.mark.parametrize(
    ("cmd", "options", "why"),
    [
        (CMD, {}, ""),
        (CMD + ["--HistoryManager.hist_file=:memory:"], TIE, ""),
        (CMD, {"cwd": "/tmp", "stdout": 1, "stderr": sys.stderr, "independent": False}, ""),
        (["R", "--slave", "-e", "IRkernel::main()", "--args", "/tmp/k.json"], {}, "not ipykernel's launch command"),
        (CMD[:3], {}, "not ipykernel's launch command"),
        (CMD, {"preexec_fn": os.getpid}, "a preexec_fn other than die_with_parent"),
        (CMD, {"stdout": subprocess.PIPE}, "stdout=-1"),
        (CMD, {"stderr": subprocess.DEVNULL}, "stderr=-3"),
        (CMD, {"stdin": subprocess.PIPE}, "a stdin of its own"),
        (CMD, {"independent": True}, "an independent kernel"),
        (CMD, {"close_fds": False}, "launch options a zygote cannot reproduce: close_fds"),
        (CMD, {"env": {kernels.SWITCH: "0"}}, f"{kernels.SWITCH}=0"),
    ],
)
def test_only_what_a_zygote_reproduces_is_forked(cmd: list[str], options: dict[str, Any], why: str) -> None:
    found = kernels.refusal(cmd, {"env": {}, **options})
    assert (found == "") if not why else (why in found), found


@pytest.mark.parametrize(
    ("written", "code"),
    [
        (b"0", 0),
        (str(3 << 8).encode(), 3),
        (str(signal.SIGKILL).encode(), -signal.SIGKILL),
        (str(signal.SIGINT).encode(), -signal.SIGINT),
        (b"", -signal.SIGKILL),  # the zygote died without a word: its kernels die with it (PDEATHSIG)
    ],
)
def test_a_forked_kernels_exit_status(written: bytes, code: int) -> None:
    read, write = os.pipe()
    kernel = kernels.ForkedKernel(os.getpid(), read, None)  # type: ignore[arg-type]
    assert kernel.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        kernel.wait(timeout=0.01)
    os.write(write, written)
    os.close(write)
    assert kernel.wait() == code and kernel.poll() == code and kernel.returncode == code
    kernel.send_signal(signal.SIGTERM)  # ended: no signal goes anywhere (it would hit this very process)


def test_umask_is_read_without_changing_it() -> None:
    mask = os.umask(0o027)
    try:
        assert kernels.current_umask() == 0o027
    finally:
        os.umask(mask)
