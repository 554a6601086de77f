"""Faults lose nothing (issue 8 §3), and the runner never crashes (§2): each fault is tried for real.

Concurrent runs, `kill -9` of the runner and of a worker, a full disk, a read-only
output folder, stale locks and leftovers of interrupted runs, usage errors, console
markup in names and errors, corrupt records of other departments. Tests that start
kernels or whole runs are marked `slow`; tests that mount a tmpfs need root and are
skipped otherwise, with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest

from kpi_lib.base.errors import OutputError
from kpi_lib.base.files import write_atomic
from kpi_lib.batch.lock import PeriodLock
from kpi_lib.batch.runner import NotebookJob, Outcome, _reports_of, all_params

from .conftest import KPI, kpi

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-Q4"
TOKEN = "KPI_FAULT_TEST"  # an environment variable every descendant of a run under test inherits


# -- helpers --------------------------------------------------------------------------------
def assert_no_crash(result: subprocess.CompletedProcess[str]) -> None:
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "internal error" not in text, text


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The `kpi: …` lines on stderr (the progress bar shares stderr)."""
    return [line for line in result.stderr.splitlines() if line.startswith("kpi: ")]


def department_files(root: Path, demo_dir: Path, names: dict[str, str]) -> list[Path]:
    """Params files named `file -> department id`, copied from the demo with the demo data's absolute path."""
    folder = root / "params"
    folder.mkdir(exist_ok=True)
    for file, department in names.items():
        text = (demo_dir / "params" / f"{department}.yaml").read_text(encoding="utf-8")
        (folder / file).write_text(
            text.replace("data: ../data/demo", f"data: {demo_dir / 'data' / 'demo'}"), encoding="utf-8"
        )
    return [folder / file for file in names]


def broken_params(root: Path, text: str = "department: [\n") -> Path:
    """A params file that does not load: a run of it starts no kernel, so it tries the runner's frame in a second."""
    path = root / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def sha256_tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def processes() -> dict[int, tuple[int, str, str, bytes]]:
    """Every live process: pid -> (parent pid, state, command line, environment); a /proc scan, no psutil."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found[int(entry.name)] = (int(fields[1]), fields[0], command, (entry / "environ").read_bytes())
        except (OSError, IndexError, ValueError):
            continue
    return found


def descendants(token: str) -> dict[int, str]:
    """Live (not zombie) processes that carry `token` in their environment: a run under test and everything it started."""
    needle = f"{TOKEN}={token}".encode()
    return {
        pid: command
        for pid, (_, state, command, env) in processes().items()
        if needle in env.split(b"\0") and state != "Z"
    }


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting {seconds:.0f} s for {what}")


def gone_within(token: str, seconds: float) -> dict[int, str]:
    """What still runs of `token`'s processes after `seconds` (empty as soon as all are gone)."""
    deadline = time.monotonic() + seconds
    while (left := descendants(token)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@contextmanager
def mounted(target: Path, *options: str) -> Iterator[Path]:
    """A tmpfs (or a read-only bind mount with `--bind`) on `target`, for the length of a test; skipped without root."""
    if os.geteuid() != 0:
        pytest.skip(
            "needs root to mount a small tmpfs or a read-only bind mount (as a non-root user, chmod cannot stop root-like writes reliably)"
        )
    target.mkdir(parents=True, exist_ok=True)
    command = (
        ["mount", *options, str(target)]
        if "--bind" in options
        else ["mount", "-t", "tmpfs", *options, "tmpfs", str(target)]
    )
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount ({' '.join(command)}): {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """`folder` bind-mounted onto itself read-only (root ignores chmod, not a read-only mount)."""
    with mounted(folder, "--bind", str(folder)):
        done = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"cannot remount {folder} read-only: {done.stderr.strip()}")
        yield folder


# -- usage errors ---------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--jobs", "0"),
        ("--jobs", "-1"),
        ("--jobs", "-8"),
        ("--jobs", "100000"),
        ("--timeout", "0"),
        ("--timeout", "-5"),
        ("--timeout", "99999999999999"),
    ],
)
def test_jobs_and_timeout_below_1_are_usage_errors(tmp_path: Path, demo_dir: Path, option: str, value: str) -> None:
    out = tmp_path / "out"
    result = kpi("run", demo_dir / "params" / "cs-east.yaml", "--period", PERIOD, "--out", out, option, value)
    assert result.returncode == 2, result.stderr
    assert_no_crash(result)
    assert error_lines(result) == [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines(result)) == 1 and f"{option} {value}" in result.stderr
    assert not out.exists()  # refused before anything was written


# -- the lock -------------------------------------------------------------------------------
def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "note"),
    [
        (
            lambda: json.dumps(
                {
                    "pid": dead_pid(),
                    "host": socket.gethostname(),
                    "started": "2026-12-31T09:00:00",
                    "command": "kpi run --all",
                }
            ),
            "which is no longer running",
        ),
        (
            lambda: json.dumps({"pid": 1, "host": "another-host", "started": "", "command": "kpi run x.yaml"}),
            "pid 1 (kpi run x.yaml, on host another-host), which no longer holds it",
        ),
        (lambda: "\x00\xff garbage {", "an unknown process"),
        (lambda: "", None),
    ],
    ids=["dead pid", "other host", "garbage", "empty"],
)
def test_a_lock_nobody_holds_is_taken_over_saying_whose_it_was(
    tmp_path: Path, content: Callable[[], str], note: str | None
) -> None:
    (tmp_path / ".lock").write_text(content(), encoding="utf-8")
    with PeriodLock(tmp_path, "kpi run --period 2026-Q4") as lock:
        assert (note in lock.takeover_note()) if note else lock.takeover_note() == ""
        record = json.loads((tmp_path / ".lock").read_text(encoding="utf-8"))
        assert record["pid"] == os.getpid() and record["command"] == "kpi run --period 2026-Q4"
    assert (tmp_path / ".lock").read_text(encoding="utf-8") == ""  # a clean release empties it; the file stays


HOLD = """
import sys, time
from pathlib import Path
from kpi_lib.batch.lock import PeriodLock
with PeriodLock(Path(sys.argv[1]), "kpi run --all --period 2026-Q4"):
    print("locked", flush=True)
    time.sleep(120)
"""


@contextmanager
def lock_held_by_another_process(folder: Path) -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            yield holder
        finally:
            holder.kill()


@pytest.mark.slow
def test_a_held_lock_refuses_at_once_naming_the_holder(tmp_path: Path) -> None:
    with lock_held_by_another_process(tmp_path) as holder:
        with pytest.raises(OutputError) as caught:
            PeriodLock(tmp_path).acquire()
        assert f"pid {holder.pid} (kpi run --all --period 2026-Q4" in str(caught.value)
    with PeriodLock(tmp_path) as lock:  # killed (-9): the kernel dropped its lock, and the file still names it
        assert f"pid {holder.pid}" in lock.takeover_note() and "no longer running" in lock.takeover_note()


@pytest.mark.slow
def test_kpi_run_refuses_a_period_another_process_holds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / PERIOD).mkdir(parents=True)
    with lock_held_by_another_process(out / PERIOD) as holder:
        started = time.monotonic()
        result = kpi("run", broken_params(tmp_path), "--period", PERIOD, "--out", out)
        assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert_no_crash(result)
    [line] = error_lines(result)
    assert line.startswith(
        f"kpi: {out / PERIOD}: another kpi run is writing this period: pid {holder.pid} (kpi run --all --period 2026-Q4, started "
    )
    assert sorted(p.name for p in (out / PERIOD).iterdir()) == [".lock"]  # nothing else touched


@pytest.mark.slow
def test_kpi_sign_waits_for_no_run_it_refuses_while_one_holds_the_period(tmp_path: Path) -> None:
    department = tmp_path / "out" / PERIOD / "cs-east"
    department.mkdir(parents=True)
    for name in ("manifest.json", "department.json"):  # a department folder (anything else is refused before the lock)
        (department / name).write_text("{}", encoding="utf-8")
    with lock_held_by_another_process(department.parent) as holder:
        result = kpi("sign", department, "--role", "manager", "--name", "王经理")
    assert result.returncode == 1
    assert_no_crash(result)
    [line] = error_lines(result)
    assert f"another kpi run is writing this period: pid {holder.pid}" in line
    assert sorted(p.name for p in department.iterdir()) == ["department.json", "manifest.json"]  # nothing signed


@pytest.mark.slow
def test_kpi_run_takes_over_a_stale_lock(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / PERIOD).mkdir(parents=True)
    pid = dead_pid()
    (out / PERIOD / ".lock").write_text(
        json.dumps(
            {"pid": pid, "host": socket.gethostname(), "started": "2026-12-31T09:00:00", "command": "kpi run --all"}
        ),
        encoding="utf-8",
    )
    result = kpi("run", broken_params(tmp_path), "--period", PERIOD, "--out", out)
    assert_no_crash(result)
    assert (
        f"kpi: {out / PERIOD / '.lock'}: took over the lock left by pid {pid} (kpi run --all, started 2026-12-31T09:00:00, on host {socket.gethostname()}), which is no longer running"
        in result.stderr
    )
    assert (out / PERIOD / ".lock").read_text(encoding="utf-8") == ""


# -- what an interrupted run left ------------------------------------------------------------
OLD = ".old-cs-east-20261231120000-4242"


def _leftover_staging(period: Path, root: Path) -> None:
    (period / ".staging-cs-east" / "inputs").mkdir(parents=True)
    (period / ".staging-cs-east" / "service.ipynb").write_text("{half", encoding="utf-8")


def _moved_aside_only(period: Path, root: Path) -> None:
    (period / OLD).mkdir()
    (period / OLD / "result.json").write_text("previous", encoding="utf-8")


def _moved_aside_and_replaced(period: Path, root: Path) -> None:
    _moved_aside_only(period, root)
    (period / "cs-east").mkdir()
    (period / "cs-east" / "result.json").write_text("new", encoding="utf-8")


def _signed_moved_aside_and_replaced(period: Path, root: Path) -> None:
    _moved_aside_and_replaced(period, root)
    (period / OLD / "manifest.json").write_text(json.dumps({"created": "2026-12-31T12:00:00"}), encoding="utf-8")
    (period / OLD / "signoffs.jsonl").write_text(json.dumps({"role": "manager", "name": "王"}) + "\n", encoding="utf-8")


def _temporary_file(period: Path, root: Path) -> None:
    (period / ".index.html.x1y2z3.tmp").write_text("<html", encoding="utf-8")


def _staging_is_a_symlink_out(period: Path, root: Path) -> None:
    (root / "precious").mkdir()
    (root / "precious" / "keep.txt").write_text("keep", encoding="utf-8")
    (period / ".staging-cs-east").symlink_to(root / "precious", target_is_directory=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setup", "note", "after"),
    [
        (_leftover_staging, ".staging-cs-east: removed the unfinished work of an interrupted run", {}),
        (_moved_aside_only, "cs-east: put back the previous run", {"cs-east/result.json": "previous"}),
        (
            _moved_aside_and_replaced,
            f"{OLD}: removed the previous run, already replaced",
            {"cs-east/result.json": "new"},
        ),
        (
            _signed_moved_aside_and_replaced,
            "cs-east/history/2026-12-31T12-00-00: kept the signed run",
            {"cs-east/result.json": "new", "cs-east/history/2026-12-31T12-00-00/result.json": "previous"},
        ),
        (_temporary_file, None, {}),
        (
            _staging_is_a_symlink_out,
            ".staging-cs-east: removed the unfinished work",
            {"../../precious/keep.txt": "keep"},
        ),
    ],
    ids=[
        "staging",
        "moved aside, folder missing",
        "moved aside and replaced",
        "signed, moved aside and replaced",
        "temporary file",
        "staging symlink",
    ],
)
def test_the_next_run_cleans_up_after_an_interrupted_one(
    tmp_path: Path, setup: Callable[[Path, Path], None], note: str | None, after: dict[str, str]
) -> None:
    period = tmp_path / "out" / PERIOD
    period.mkdir(parents=True)
    setup(period, tmp_path)
    result = kpi("run", broken_params(tmp_path), "--period", PERIOD, "--out", tmp_path / "out")
    assert result.returncode == 1  # the broken params file
    assert_no_crash(result)
    if note:
        assert any(note in line for line in error_lines(result)), result.stderr
    assert not [
        p.name for p in period.iterdir() if p.name.startswith((".staging-", ".old-")) or p.name.endswith(".tmp")
    ]
    for rel, text in after.items():
        assert (period / rel).read_text(encoding="utf-8") == text, rel


@pytest.mark.slow
@pytest.mark.parametrize(
    "log", ["not json\n", '{"role": "manager"}\n{"role": \n', "\xff\xfe"], ids=["garbage", "cut line", "not utf-8"]
)
def test_an_unreadable_sign_off_log_counts_as_signed(tmp_path: Path, demo_dir: Path, log: str) -> None:
    folder = tmp_path / "out" / PERIOD / "cs-east"
    folder.mkdir(parents=True)
    (folder / "signoffs.jsonl").write_bytes(log.encode("latin-1"))
    before = sha256_tree(folder)
    result = kpi("run", demo_dir / "params" / "cs-east.yaml", "--period", PERIOD, "--out", tmp_path / "out")
    assert result.returncode == 1
    assert_no_crash(result)
    [line] = error_lines(result)
    assert (
        line.startswith(f"kpi: {folder}: its sign-off log signoffs.jsonl cannot be read (")
        and "refusing to overwrite (its previous run left no readable manifest; pass --force" in line
    )
    assert sha256_tree(folder) == before


# -- which params files run, and what a failed one writes -----------------------------------
def test_all_ignores_dotfiles_and_editor_leftovers(tmp_path: Path) -> None:
    params = tmp_path / "params"
    params.mkdir()
    for name in ("cs-east.yaml", "cs-west.yml", ".cs-x.yaml", ".cs-east.yaml.swp", "cs-east.yaml~", "#cs-east.yaml#"):
        (params / name).write_text("department: cs-x\n", encoding="utf-8")
    (params / ".#cs-east.yaml").symlink_to("root@host.1234:1700000000")  # emacs's lock: a dangling symlink
    (params / "folder.yaml").mkdir()
    assert [p.name for p in all_params(tmp_path)] == ["cs-east.yaml", "cs-west.yml"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "department: [\n",
        'department: "[/x] [bold]"\ndata: .\nindicators: {}\n',
        'department: "cs-east\\n"\ndata: .\nindicators: {}\n',
        'department: "../../etc"\ndata: .\nindicators: {}\n',
        "name: no department at all\n",
    ],
    ids=["yaml error", "markup id", "newline in id", "path in id", "no id"],
)
def test_a_params_file_that_does_not_load_gets_a_summary_line_and_no_folder(tmp_path: Path, text: str) -> None:
    out = tmp_path / "out"
    path = broken_params(tmp_path, text)
    result = kpi("run", path, "--period", PERIOD, "--out", out)
    assert result.returncode == 1
    assert_no_crash(result)
    lines = error_lines(result)
    assert (
        len(lines) == 1 and str(path) in lines[0] and lines[0].endswith("(the department did not run; nothing written)")
    ), lines
    assert path.name in result.stdout and "failed" in result.stdout  # the run summary lists it
    assert not [p for p in (out / PERIOD).iterdir() if p.is_dir()]  # no folder, in particular none named "broken"
    assert not (tmp_path / "etc").exists()


# -- console markup is text -----------------------------------------------------------------
MARKUP = "[/x] [bold]loud[/bold] [link=http://x]y[/link] :warning: [/]"


def test_run_summary_prints_markup_as_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kpi_lib.cli import print_batch, stdout

    monkeypatch.setattr(stdout, "width", 2000)  # no wrapping inside a cell, so the text can be found whole
    from kpi_lib.batch.runner import BatchResult, DepartmentRun

    runs = [
        DepartmentRun(
            tmp_path / "a.yaml",
            "cs-east",
            final=tmp_path / "cs-east",
            error=f"data.csv, row 2: found '{MARKUP}'",
            notes=[MARKUP],
        ),
        DepartmentRun(
            tmp_path / "x.yaml", error=f"{tmp_path / 'x.yaml'}: department: found '{MARKUP}', expected an id"
        ),
        DepartmentRun(tmp_path / "b.yaml", "cs-west", final=tmp_path / "cs-west", total=90.0, grade="A"),
    ]
    print_batch(BatchResult(PERIOD, tmp_path, runs, None, 1.0, problems=[MARKUP]))
    out, err = capsys.readouterr()
    assert out.count(MARKUP) == 2 and "⚠" not in out  # the error cells
    assert err.count(MARKUP) == 4 and "⚠" not in err  # a note, two failures, a problem


@pytest.mark.slow
def test_scorecard_prints_a_markup_name_as_written(tmp_path: Path, demo_dir: Path) -> None:
    params = department_files(tmp_path, demo_dir, {"cs-east.yaml": "cs-east"})[0]
    params.write_text(
        params.read_text(encoding="utf-8").replace("name: 华东客服部", f'name: "{MARKUP}"'), encoding="utf-8"
    )
    result = kpi("score", params, "--period", PERIOD)
    assert result.returncode == 0, result.stderr
    assert_no_crash(result)
    assert MARKUP in result.stdout


@pytest.mark.slow
def test_calendar_prints_markup_in_a_template_as_written(tmp_path: Path) -> None:
    template = tmp_path / "markup.yaml"
    text = (ROOT / "kpi_lib" / "inputs" / "templates" / "customer_service.yaml").read_text(encoding="utf-8")
    template.write_text(text.replace("{zh: 督察员或考核员,", '{zh: "[/x] [bold]督察员或考核员",'), encoding="utf-8")
    result = kpi("calendar", "--year", "2026", "--template", template, env={**os.environ, "COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    assert_no_crash(result)
    assert "[/x] [bold]督察员或考核员" in result.stdout


# -- corrupt records of other departments ----------------------------------------------------
RESULT = {
    "department": "cs-old",
    "period": PERIOD,
    "total": 90.5,
    "grade": "A",
    "indicators": [{"id": "CS01", "score": 100.0}],
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("result.json", b'{"total": 9'),
        ("result.json", b"[1, 2, 3]"),
        ("result.json", json.dumps({**RESULT, "total": "90.5"}).encode()),
        ("result.json", json.dumps({**RESULT, "total": True}).encode()),
        ("result.json", json.dumps(RESULT).replace("90.5", "NaN").encode()),
        ("result.json", json.dumps({**RESULT, "indicators": {"CS01": 1}}).encode()),
        ("result.json", json.dumps({**RESULT, "indicators": [{"id": "CS01", "score": "full"}]}).encode()),
        ("result.json", json.dumps({k: v for k, v in RESULT.items() if k != "grade"}).encode()),
        ("department.json", b"\xff\xfe not utf-8"),
        ("department.json", json.dumps({"name": ["x"]}).encode()),
        ("department.json", json.dumps({"labels": {"A": 1}}).encode()),
        ("error.txt", b"\xff\xfe\x00 not utf-8"),
    ],
    ids=[
        "truncated",
        "a list",
        "total as text",
        "total true",
        "total NaN",
        "indicators a mapping",
        "score as text",
        "no grade",
        "meta not utf-8",
        "name a list",
        "label a number",
        "error not utf-8",
    ],
)
def test_a_corrupt_record_of_another_department_is_named_and_the_run_goes_on(
    tmp_path: Path, name: str, content: bytes
) -> None:
    folder = tmp_path / "out" / PERIOD / "cs-old"
    folder.mkdir(parents=True)
    if name != "result.json":
        (folder / ("result.json" if name == "department.json" else "department.json")).write_text(
            json.dumps(RESULT if name == "department.json" else {}), encoding="utf-8"
        )
    (folder / name).write_bytes(content)
    result = kpi("run", broken_params(tmp_path), "--period", PERIOD, "--out", tmp_path / "out")
    assert result.returncode == 1
    assert_no_crash(result)
    lines = error_lines(result)
    assert any(line.startswith(f"kpi: {folder / name}: ") and "run the department again" in line for line in lines), (
        lines
    )
    assert any("were not brought up to date" in line for line in lines)
    assert "kpi run · 2026-Q4" in result.stdout  # the summary is printed


def test_a_damaged_notebook_fails_its_reports_with_a_line_naming_it(tmp_path: Path) -> None:
    """A group's reports are made by the job that executed it (`runner._reports_of`), the scorecard's by `finish`."""
    (tmp_path / "management.ipynb").write_text('{"cells": [{"cell_type": "code", "sour', encoding="utf-8")
    job = NotebookJob("group.ipynb", str(tmp_path / "management.ipynb"), {}, str(tmp_path), title="cs-east · 2026-Q4")
    outcome = _reports_of(job, Outcome("management", True, 1.0))
    assert not outcome.ok and not outcome.unwritable
    assert (
        outcome.error.startswith(f"{tmp_path / 'management.ipynb'}: cannot make its HTML reports")
        and "run the department again" in outcome.error
    )
    assert "Traceback" not in outcome.error and len(outcome.error.splitlines()) == 1


# -- a disk that refuses writes ----------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_write_atomic_names_the_path_and_leaves_nothing(tmp_path: Path, fault: str) -> None:
    with mounted(tmp_path / "disk", "-o", "size=64k" if fault == "full" else "ro,size=64k") as disk:
        target = disk / "summary.csv"
        with pytest.raises(OutputError) as caught:
            write_atomic(target, b"x" * 1_000_000)
        cause = "No space left on device" if fault == "full" else "Read-only file system"
        assert str(caught.value).startswith(f"{target}: cannot write: {cause}; ")
        assert list(disk.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("period_exists", [True, False], ids=["previous run", "new period"])
def test_a_read_only_output_folder_is_one_line_and_nothing_changes(
    tmp_path: Path, demo_dir: Path, period_exists: bool
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if period_exists:
        (out / PERIOD / "cs-east").mkdir(parents=True)
        (out / PERIOD / "cs-east" / "result.json").write_text(json.dumps(RESULT), encoding="utf-8")
    before = sha256_tree(out)
    with read_only(out):
        result = kpi("run", demo_dir / "params" / "cs-east.yaml", "--period", PERIOD, "--out", out)
    assert result.returncode == 1
    assert_no_crash(result)
    where = (
        f"{out / PERIOD / '.lock'}: cannot create the run's lock file"
        if period_exists
        else f"{out / PERIOD}: cannot create the period folder"
    )
    assert error_lines(result) == [
        f"kpi: {where}: Read-only file system; the folder is on a read-only file system; write to another folder (--out)"
    ]
    assert sha256_tree(out) == before


@pytest.mark.slow
def test_a_full_disk_fails_each_department_in_one_line_and_keeps_the_previous_run(
    tmp_path: Path, demo_dir: Path
) -> None:
    files = department_files(tmp_path, demo_dir, {"cs-east.yaml": "cs-east", "cs-west.yaml": "cs-west"})
    with mounted(tmp_path / "disk", "-o", "size=2m") as disk:
        previous = disk / PERIOD / "cs-east"
        previous.mkdir(parents=True)
        (previous / "result.json").write_text(json.dumps(RESULT), encoding="utf-8")
        (previous / "scorecard.html").write_text("<html>previous</html>", encoding="utf-8")
        (previous / "error.txt").write_text("cs-east failed\n", encoding="utf-8")  # a run's folder, not someone else's
        before = sha256_tree(previous)
        result = kpi("run", *files, "--period", PERIOD, "--out", disk, "--jobs", "2")
        assert result.returncode == 1
        assert_no_crash(result)
        lines = error_lines(result)
        for department in ("cs-east", "cs-west"):
            mine = [line for line in lines if line.startswith(f"kpi: {department} failed: {disk}")]
            assert len(mine) == 1 and "No space left on device; free some space" in mine[0], lines
        assert "its previous outputs are unchanged" in next(line for line in lines if "cs-east failed" in line)
        assert sha256_tree(previous) == before
        assert not (disk / PERIOD / "cs-west").exists()
        leftovers = [p for p in (disk / PERIOD).rglob("*") if p.name.startswith(".staging-") or p.name.endswith(".tmp")]
        assert leftovers == []
        assert all("Traceback" not in p.read_text(encoding="utf-8", errors="replace") for p in disk.rglob("error.txt"))


# -- kill -9 of the runner, and a second run meanwhile ----------------------------------------
@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> dict[str, Any]:
    """Run three departments (params files not named like their ids); refuse a second run meanwhile; kill -9 the first
    once one department is finished; then run the unfinished departments again and verify the period."""
    root = tmp_path_factory.mktemp("killed")
    names = {"east office.yaml": "cs-east", "North.yaml": "cs-north", "west-2.yaml": "cs-west"}
    files = dict(zip(names.values(), department_files(root, demo_dir, names), strict=True))
    out, token = root / "out", uuid.uuid4().hex
    period = out / PERIOD
    env = {**os.environ, TOKEN: token}
    first = subprocess.Popen(
        [*KPI, "run", *files.values(), "--period", PERIOD, "--out", str(out), "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_for(lambda: any("ipykernel" in c for c in descendants(token).values()), 300, "a kernel of the first run")
        second = kpi("run", files["cs-east"], "--period", PERIOD, "--out", out)
        second_while_first_ran = first.poll() is None
        wait_for(
            lambda: any((period / d / "manifest.json").is_file() for d in files), 600, "a first department to finish"
        )
        running = descendants(token)
        first.send_signal(signal.SIGKILL)
        first.wait()
        survivors = gone_within(token, 10)
    finally:
        first.kill()
    finished = {
        d: (period / d / "manifest.json").read_bytes() for d in files if (period / d / "manifest.json").is_file()
    }
    staged = sorted(p.name for p in period.iterdir() if p.name.startswith(".staging-"))
    verified_at_once = {d: kpi("verify", period / d, "--recompute") for d in finished}  # before any new run
    unfinished = [files[d] for d in files if d not in finished]
    rerun = kpi("run", *unfinished, "--period", PERIOD, "--out", out, "--jobs", "2") if unfinished else None
    return {
        "first": first, "second": second, "second_while_first_ran": second_while_first_ran, "running": running, "survivors": survivors,
        "finished": finished, "verified_at_once": verified_at_once, "staged": staged, "rerun": rerun, "period": period, "files": files, "verify": kpi("verify", period, "--recompute"),
    }  # fmt: skip


@pytest.mark.slow
def test_a_second_run_on_the_same_period_is_refused_naming_the_first(killed: dict[str, Any]) -> None:
    second = killed["second"]
    assert killed["second_while_first_ran"], "the second run waited for the first instead of being refused at once"
    assert second.returncode == 1
    assert_no_crash(second)
    [line] = error_lines(second)
    assert (
        f"another kpi run is writing this period: pid {killed['first'].pid} (kpi run " in line
        and "east office.yaml" in line
    )


@pytest.mark.slow
def test_kill_9_of_the_runner_leaves_no_process_behind(killed: dict[str, Any]) -> None:
    kinds = " ".join(killed["running"].values())
    assert (
        "ipykernel" in kinds and "multiprocessing.spawn" in kinds and "resource_tracker" in kinds
    )  # there was something to leave behind
    assert killed["survivors"] == {}


@pytest.mark.slow
def test_the_next_run_takes_over_the_lock_and_cleans_staging(killed: dict[str, Any]) -> None:
    assert killed["staged"], "the kill left no staging folder: nothing was tried"
    rerun = killed["rerun"]
    assert rerun is not None and rerun.returncode == 0, rerun and rerun.stderr
    assert_no_crash(rerun)
    assert (
        f"took over the lock left by pid {killed['first'].pid}" in rerun.stderr
        and "which is no longer running" in rerun.stderr
    )
    assert all(f"{killed['period'] / name}: removed the unfinished work" in rerun.stderr for name in killed["staged"])
    assert not [p.name for p in killed["period"].iterdir() if p.name.startswith((".staging-", ".old-"))]


@pytest.mark.slow
def test_after_the_kill_verify_passes_and_finished_departments_are_untouched(killed: dict[str, Any]) -> None:
    assert killed["verified_at_once"] and all(
        result.returncode == 0 for result in killed["verified_at_once"].values()
    ), killed["verified_at_once"]
    assert killed["verify"].returncode == 0, killed["verify"].stderr
    for department, manifest in killed["finished"].items():
        assert (killed["period"] / department / "manifest.json").read_bytes() == manifest
    assert sorted(p.name for p in killed["period"].iterdir() if p.is_dir() and not p.name.startswith(".")) == sorted(
        killed["files"]
    )  # named by id


# -- a worker process that dies ---------------------------------------------------------------
KILL_MY_WORKER = """import os, pathlib
if pathlib.Path.cwd().name == ".staging-{victim}" and ({always} or not pathlib.Path({marker!r}).exists()):
    pathlib.Path({marker!r}).touch()
    os.kill(int(os.environ["JPY_PARENT_PID"]), 9)  # the worker running this notebook (a forked kernel's parent is its zygote)"""


def notebooks_killing_a_worker(root: Path, victim: str, always: bool) -> Path:
    """The project's notebooks plus a `cost.ipynb` (it takes the group notebook's place for group cost, as any
    `<group>.ipynb` in the notebooks folder does) whose first cell SIGKILLs its worker when it runs for `victim`."""
    folder = root / "notebooks"
    shutil.copytree(ROOT / "notebooks", folder)
    notebook = nbformat.read(str(folder / "group.ipynb"), as_version=4)
    notebook.cells.insert(
        0,
        nbformat.v4.new_code_cell(
            KILL_MY_WORKER.format(victim=victim, always=always, marker=str(root / "killed-once"))
        ),
    )
    nbformat.write(notebook, str(folder / "cost.ipynb"))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("always", [False, True], ids=["dies once: retried", "dies every time: fails alone"])
def test_a_worker_that_dies_fails_only_its_department(tmp_path: Path, demo_dir: Path, always: bool) -> None:
    files = department_files(tmp_path, demo_dir, {"cs-east.yaml": "cs-east", "cs-west.yaml": "cs-west"})
    notebooks = notebooks_killing_a_worker(tmp_path, "cs-west", always)
    token = uuid.uuid4().hex
    result = kpi(
        "run",
        *files,
        "--period",
        PERIOD,
        "--out",
        tmp_path / "out",
        "--jobs",
        "2",
        "--notebooks",
        notebooks,
        env={**os.environ, TOKEN: token},
    )
    assert_no_crash(result)
    assert (tmp_path / "killed-once").exists()  # the worker was killed
    assert gone_within(token, 10) == {}  # the dead worker's kernel did not outlive it
    period = tmp_path / "out" / PERIOD
    assert "kpi run · 2026-Q4" in result.stdout and (period / "index.html").is_file()
    assert (period / "cs-east" / "result.json").is_file()
    assert "kpi: cs-west: cost.ipynb: the worker process running it died; ran it again" in result.stderr
    if always:
        assert result.returncode == 1
        assert "kpi: cs-west failed: cost.ipynb: the worker process running it died twice" in result.stderr
        assert not (period / "cs-west" / "result.json").exists() and "died twice" in (
            period / "cs-west" / "error.txt"
        ).read_text(encoding="utf-8")
    else:
        assert result.returncode == 0, result.stderr
        assert (period / "cs-west" / "result.json").is_file()
        assert kpi("verify", period).returncode == 0
