"""A quiet, helpful terminal (issue 11, item 8): packaging, `kpi --version`, usage errors, counts, `kpi demo`'s
refusal to replace files it did not write, and the notebook-by-notebook progress of `kpi run`.

The usage-error table is generated from the real command tree (every command, every required parameter, every
option that takes a value, every count option), so a command or option added later is covered without a new row.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata
import io
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console

import kpi_lib
from kpi_lib.batch.demo import write_demo
from kpi_lib.batch.runner import DepartmentRun
from kpi_lib.cli import COUNT, BatchProgress, app

from .conftest import kpi

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kpi_lib"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
USAGE = re.compile(r"^kpi: (?P<what>.+); see '(?P<command>kpi[a-z ]*) --help'$")


# -- packaging -----------------------------------------------------------------------------------
def _package_files() -> list[Path]:
    """Every file of the package tree (what the code can read at run time), caches left out."""
    return sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _dotted(folder: Path) -> str:
    return ".".join(folder.relative_to(ROOT).parts)


def test_the_license_is_an_spdx_string_and_the_build_backend_knows_it() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    (requirement,) = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert int(re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", requirement).group(1)) >= 77, requirement  # type: ignore[union-attr]


def test_every_folder_of_kpi_lib_is_a_package_and_every_data_file_ships() -> None:
    """The setuptools config read as setuptools reads it: found packages (namespaces too), package-data globs."""
    config = PYPROJECT["tool"]["setuptools"]
    find = config["packages"]["find"]
    assert find.get("namespaces", True), "data-only folders are namespace packages; find must include them"
    folders = {p.parent for p in _package_files()}
    for folder in folders:
        assert any(fnmatch.fnmatchcase(_dotted(folder), pattern) for pattern in find["include"]), folder
    data = config["package-data"]
    unshipped = []
    for path in _package_files():
        if path.suffix == ".py":
            continue
        globs = [*data.get("*", []), *data.get(_dotted(path.parent), [])]
        if not any(fnmatch.fnmatchcase(path.name, glob) for glob in globs):
            unshipped.append(path.relative_to(ROOT).as_posix())
    assert unshipped == [], f"not in [tool.setuptools.package-data]: {unshipped}"


@pytest.mark.slow
def test_the_wheel_builds_without_warnings_and_holds_every_package_file(tmp_path: Path) -> None:
    try:
        version = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        version = 0
    if version < 77:
        pytest.skip("needs setuptools>=77 in this environment (the `test` extra installs it) to build offline")
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "kpi_lib", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    noise = [line for line in (built.stdout + built.stderr).splitlines() if re.search(r"warn|deprecat|!!", line, re.I)]
    assert noise == []
    (wheel,) = (tmp_path / "dist").glob("kpi_appraisal-*.whl")
    members = set(zipfile.ZipFile(wheel).namelist())
    missing = [
        p.relative_to(ROOT).as_posix() for p in _package_files() if p.relative_to(ROOT).as_posix() not in members
    ]
    assert missing == []
    metadata = zipfile.ZipFile(wheel).read(f"kpi_appraisal-{kpi_lib.__version__}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata and "License-File: LICENSE" in metadata
    assert f"kpi_appraisal-{kpi_lib.__version__}.dist-info/licenses/LICENSE" in members


# -- kpi --version -------------------------------------------------------------------------------
def test_version_prints_the_installed_version() -> None:
    result = kpi("--version", in_process=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"kpi-appraisal {kpi_lib.__version__}\n", "")
    assert importlib.metadata.version("kpi-appraisal") == kpi_lib.__version__


@pytest.mark.slow
@pytest.mark.parametrize("command", [[sys.executable, "-m", "kpi_lib"], [str(Path(sys.executable).with_name("kpi"))]])
def test_version_through_both_entry_points(command: list[str]) -> None:
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"kpi-appraisal {kpi_lib.__version__}\n", "")


# -- usage errors --------------------------------------------------------------------------------
# A value for each required option, so that one mistake at a time can be made (a new required option fails here).
VALUES = {"--period": "2026-Q4", "--year": "2026", "--role": "manager", "--name": "M"}


def _commands() -> Iterator[tuple[list[str], Any]]:
    """(["run"], command) for every leaf command of the real tree, `template import` included."""

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    yield from walk(typer.main.get_command(app), [])


def _name(param: Any) -> str:
    return next(o for o in param.opts if o.startswith("--")) if param.param_type_name == "option" else param.name


def _count_options(command: Any) -> list[str]:
    """The options parsed as counts (whole numbers ≥ 1)."""
    return [
        _name(p)
        for p in command.params
        if p.param_type_name == "option"
        and "_count" in getattr(p.type_descriptor.parameter_info.parser, "__qualname__", "")
    ]


def _base(command: Any) -> list[str]:
    """Arguments that fill every required parameter of `command`."""
    args: list[str] = []
    for p in command.params:
        if p.required and p.param_type_name == "argument":
            args.append("x")
        elif p.required:
            args += [_name(p), VALUES[_name(p)]]
    return args


def _without(args: list[str], param: Any) -> list[str]:
    """`args` without a required option and its value."""
    i = args.index(_name(param))
    return args[:i] + args[i + 2 :]


def _drop_one_argument(args: list[str]) -> list[str]:
    i = len(args) - 1 - args[::-1].index("x")
    return args[:i] + args[i + 1 :]


def _mistakes() -> Iterator[Any]:
    """(argv, the command path, what the line must say) for every command × mistake."""
    for path, command in _commands():
        base = _base(command)
        where = " ".join(["kpi", *path])
        yield pytest.param([*path, *base, "--bogus"], where, "no such option --bogus", id=f"{where} --bogus")
        arguments = [p for p in command.params if p.required and p.param_type_name == "argument"]
        if arguments:  # positional: leaving one out leaves out the last
            shown = arguments[-1].name.upper()
            argv = [*path, *_drop_one_argument(base)]
            yield pytest.param(argv, where, f"missing argument {shown}", id=f"{where} without {shown}")
        for p in command.params:
            if p.required and p.param_type_name == "option":
                argv = [*path, *_without(base, p)]
                yield pytest.param(argv, where, f"missing option {_name(p)}", id=f"{where} without {_name(p)}")
            if p.param_type_name == "option" and not p.is_flag:
                trimmed = _without(base, p) if p.required else base
                yield pytest.param(
                    [*path, *trimmed, _name(p)], where, _name(p), id=f"{where} {_name(p)} without its value"
                )
        for option in _count_options(command):
            for value in ("0", "-1", "abc", "2.5", ""):
                yield pytest.param(
                    [*path, *base, option, value], where, f"{option} {value}: {COUNT}", id=f"{where} {option} {value!r}"
                )
        if not any(p.param_type_name == "argument" and p.nargs == -1 for p in command.params):
            yield pytest.param([*path, *base, "stray1", "stray2"], where, "stray", id=f"{where} stray arguments")


@pytest.mark.parametrize(("argv", "command", "what"), list(_mistakes()))
def test_every_usage_error_reads_the_same_and_points_at_its_help(argv: list[str], command: str, what: str) -> None:
    result = kpi(*argv, in_process=True)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    match = USAGE.match(lines[0])
    assert match, lines[0]
    assert match["command"] == command
    assert what in match["what"], (what, lines[0])
    assert not re.search(r"Error:|Usage:|Traceback|Invalid value|Input should|\(see ", lines[0]), lines[0]


@pytest.mark.parametrize(("path", "command"), [(path, command) for path, command in _commands()])
def test_the_help_each_error_points_at_exists(path: list[str], command: Any) -> None:
    result = kpi(*path, "--help", in_process=True)
    assert result.returncode == 0 and "Usage" in result.stdout, result.stderr


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["frobnicate"], "kpi: no such command 'frobnicate'; see 'kpi --help'"),
        (["run", "--period", "2026-Q4"], "kpi: no department given; pass PARAMS files or --all; see 'kpi run --help'"),
        (
            ["run", "--period", "2026-Q4", "--all", "--executor", "slurm"],
            "kpi: --executor 'slurm': expected local or dask; see 'kpi run --help'",
        ),
        (
            ["calendar", "--year", "1800"],
            "kpi: --year 1800: expected a year from 1900 to 2100; see 'kpi calendar --help'",
        ),
        (["calendar", "--year", "MMXXVI"], "kpi: --year MMXXVI: expected a whole number; see 'kpi calendar --help'"),
        (
            ["score", "x", "--period", "2026", "--jsn"],
            "kpi: no such option --jsn (did you mean --json?); see 'kpi score --help'",
        ),
        (["template", "import"], "kpi: missing argument SHEET; see 'kpi template import --help'"),
    ],
)
def test_usage_lines_word_for_word(argv: list[str], line: str) -> None:
    result = kpi(*argv, in_process=True)
    assert (result.returncode, result.stderr.splitlines()) == (2, [line])


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["score", "{missing}", "--period", "2026-Q4"], "params file not found"),
        (["run", "{missing}", "--period", "2026-Q4"], "params file not found"),
        (["calendar", "{missing}", "--year", "2026"], "params file not found"),
        (["verify", "{missing}"], "not a folder"),
        (["sign", "{missing}", "--role", "manager", "--name", "x"], "not a folder"),
        (["diff", "{missing}", "{missing}"], "no manifest.json"),
        (["pdf", "{missing}"], "not a folder"),
        (["pdf", "{file}"], "not a folder"),
        (["template", "import", "{missing}"], "file not found"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_a_path_that_is_not_there_is_a_usage_error_of_its_command(argv: list[str], what: str, tmp_path: Path) -> None:
    """A mistyped path is the clerk's commonest mistake: one usage line naming it, never an internal error."""
    (tmp_path / "notes.txt").write_text("not a folder", encoding="utf-8")
    paths = {"{missing}": str(tmp_path / "missing"), "{file}": str(tmp_path / "notes.txt")}
    result = kpi(*(paths.get(a, a) for a in argv), in_process=True)
    assert result.returncode == 2, result.stderr
    match = USAGE.match(result.stderr.strip())
    assert match, result.stderr
    assert what in match["what"] and str(tmp_path) in match["what"], result.stderr
    assert match["command"] == ("kpi template import" if argv[0] == "template" else f"kpi {argv[0]}")


def test_a_usage_error_of_the_toolkit_points_at_the_help_too(tmp_path: Path) -> None:
    result = kpi("score", str(tmp_path / "missing.yaml"), "--period", "2026-Q4", in_process=True)
    assert result.returncode == 2
    assert USAGE.match(result.stderr.strip()) and "params file not found" in result.stderr


@pytest.mark.parametrize("argv", [[], ["template"]])
def test_a_group_alone_prints_its_help(argv: list[str]) -> None:
    result = kpi(*argv, in_process=True)
    assert result.returncode == 2 and result.stderr.startswith("Usage: kpi") and "\nCommands:\n" in result.stderr
    assert not re.search(r"^kpi: ", result.stderr, re.M)  # the help as it is, not an error line


def test_every_int_option_is_parsed_by_the_toolkit() -> None:
    """typer's own int conversion names neither option nor value: every int option goes through `_count`/`_whole`."""
    plain = [
        f"kpi {' '.join(path)} {_name(p)}"
        for path, command in _commands()
        for p in command.params
        if p.type_descriptor.annotation is int and p.type_descriptor.parameter_info.parser is None
    ]
    assert plain == []
    assert {o for _, c in _commands() for o in _count_options(c)} == {"--jobs", "--timeout", "--departments", "--rows"}


# -- kpi demo never silently replaces a file -----------------------------------------------------
def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _append(name: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        with (root / name).open("a", encoding="utf-8") as handle:
            handle.write(text)

    return change


def _replace(name: str, text: str) -> Callable[[Path], None]:
    return lambda root: (root / name).write_text(text, encoding="utf-8") and None


ONE = ["-n", "1"]


@pytest.mark.parametrize(
    ("change", "args", "refused"),
    [
        pytest.param(_append("params/cs-east.yaml", "# my note\n"), ONE, ["params/cs-east.yaml"], id="edited params"),
        pytest.param(
            _replace("params/cs-east.yaml", "department: cs-east\n"),
            ONE,
            ["params/cs-east.yaml"],
            id="rewritten params",
        ),
        pytest.param(
            _append("data/demo/budgets.csv", "cs-east,2027,1.00\n"), ONE, ["data/demo/budgets.csv"], id="edited table"
        ),
        pytest.param(
            _replace("data/demo/surveys.csv", "response_id\n"),
            ONE,
            ["data/demo/surveys.csv"],
            id="a company's own table",
        ),
        pytest.param(
            None, [*ONE, "--rows", "50"], ["data/demo/communications.csv", "data/demo/expenses.csv"], id="other --rows"
        ),
        pytest.param(None, ["-n", "2"], ["data/demo/budgets.csv", "data/demo/work_plan.csv"], id="other --departments"),
    ],
)
def test_kpi_demo_refuses_to_replace_what_it_did_not_write(
    tmp_path: Path, change: Callable[[Path], None] | None, args: list[str], refused: list[str]
) -> None:
    root = tmp_path / "root"
    write_demo(root, departments=1)
    if change is not None:
        change(root)
    before = _hashes(root)
    result = kpi("demo", "--out", str(root), *args, in_process=True)
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert USAGE.match(line) and "--force replaces them" in line and "nothing was written" in line, line
    for name in refused:
        assert str(root / name) in line, (name, line)
    if "params/cs-east.yaml" not in refused:
        assert "cs-east.yaml" not in line  # the same bytes: not refused
    assert _hashes(root) == before  # nothing replaced, no .tmp left behind
    forced = kpi("demo", "--out", str(root), *args, "--force", in_process=True)
    assert forced.returncode == 0, forced.stderr
    fresh = kpi("demo", "--out", str(tmp_path / "fresh"), *args, in_process=True)
    assert fresh.returncode == 0, fresh.stderr
    assert _hashes(root) == _hashes(tmp_path / "fresh")


def test_kpi_demo_twice_is_fine_and_leaves_other_files_alone(tmp_path: Path) -> None:
    """`make demo` run again: the same bytes are no change; a file kpi demo never writes is not its business."""
    first = kpi("demo", "--out", str(tmp_path), in_process=True)
    (tmp_path / "params" / "my-dept.yaml").write_text("department: my-dept\n", encoding="utf-8")
    before = _hashes(tmp_path)
    again = kpi("demo", "--out", str(tmp_path), in_process=True)
    assert first.returncode == again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert _hashes(tmp_path) == before


# -- progress ------------------------------------------------------------------------------------
def _screen(console_file: io.StringIO) -> list[str]:
    """What a terminal shows last on each line (cursor moves and colours dropped)."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", console_file.getvalue())
    return [part.split("\r")[-1] for part in text.split("\n") if part.split("\r")[-1].strip()]


def _drive(progress: BatchProgress) -> None:
    progress.start(15)
    progress.note("took over the lock")
    progress.done(DepartmentRun(Path("cs-north.yaml"), "cs-north", reused=True), 5)
    progress.begin("cs-east · management")
    progress.begin("cs-east · service")
    progress.end("cs-east · management", 1)
    progress.end("cs-east · service", 0)  # its worker died: it runs again
    progress.begin("cs-east · service")
    progress.done(DepartmentRun(Path("cs-west.yaml"), "cs-west", error="boom"), 5)


@pytest.mark.parametrize("width", [160, 80])
def test_the_bar_counts_notebooks_names_the_one_running_and_labels_the_time(width: int) -> None:
    screen = io.StringIO()
    progress = BatchProgress(Console(file=screen, force_terminal=True, width=width, color_system=None))
    _drive(progress)
    progress.progress.refresh()
    last = _screen(screen)[-1]
    progress.stop()
    assert re.search(r"\b11/15 notebooks · elapsed \d:\d\d:\d\d", last), last
    assert "1 failed" in last and "-:--:--" not in last
    if width > 100:
        assert last.endswith("· cs-east · service")
    else:  # cut with an ellipsis on a narrow terminal, never wrapped onto a second line
        assert last.endswith("…") and len(last) <= width
    assert "kpi: took over the lock" in _screen(screen)


def test_the_bar_is_off_when_stderr_is_not_a_terminal() -> None:
    screen = io.StringIO()
    progress = BatchProgress(Console(file=screen, force_terminal=False, width=120))
    _drive(progress)
    progress.stop()
    assert screen.getvalue() == "kpi: took over the lock\n"


class Recorder:
    """A `runner.Progress` that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def start(self, total: int) -> None:
        self.calls.append(("start", total))

    def begin(self, what: str) -> None:
        self.calls.append(("begin", what))

    def end(self, what: str, steps: int) -> None:
        self.calls.append(("end", what, steps))

    def done(self, run: DepartmentRun, steps: int) -> None:
        self.calls.append(("done", run.label, steps, run.reused, run.failed))

    def note(self, line: str) -> None:
        self.calls.append(("note", line))

    def stop(self) -> None:
        self.calls.append(("stop",))


@pytest.mark.slow
def test_the_runner_reports_each_notebook_as_it_starts_and_ends(demo_dir: Path, tmp_path: Path) -> None:
    from kpi_lib import Period
    from kpi_lib.batch.runner import run_batch

    bad = tmp_path / "cs-bad.yaml"
    text = (demo_dir / "params" / "cs-west.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("department: cs-west", "department: cs-bad").replace("weight: 5,", "weight: 4,", 1))
    params = [demo_dir / "params" / "cs-east.yaml", bad]
    window, out = Period.parse("2026-Q4"), tmp_path / "out"
    groups = ("management", "service", "key_accounts", "cost")

    first = Recorder()
    run_batch(params, window, out=out, jobs=2, progress=first)
    assert first.calls[0] == ("start", 5 + 1)  # cs-east: 4 groups and the scorecard; cs-bad: its finishing step
    begun = [c[1] for c in first.calls if c[0] == "begin"]
    assert sorted(begun) == sorted(f"cs-east · {name}" for name in (*groups, "scorecard"))
    ended = [c[1] for c in first.calls if c[0] == "end"]
    assert sorted(ended) == sorted(begun) and all(c[2] == 1 for c in first.calls if c[0] == "end")
    for what in begun:
        assert first.calls.index(("begin", what)) < first.calls.index(("end", what, 1)), what
    scorecard = first.calls.index(("begin", "cs-east · scorecard"))
    assert all(first.calls.index(("end", f"cs-east · {name}", 1)) < scorecard for name in groups)
    assert ("done", "cs-bad", 1, False, True) in first.calls and ("done", "cs-east", 0, False, False) in first.calls
    steps = sum(c[2] for c in first.calls if c[0] in ("end", "done"))
    assert steps == 6 and first.calls[-1] == ("stop",)

    again = Recorder()
    run_batch(params, window, out=out, jobs=2, progress=again)
    assert again.calls[0] == ("start", 6)
    assert [c for c in again.calls if c[0] in ("begin", "end")] == []  # reused: no notebook runs
    assert ("done", "cs-east", 5, True, False) in again.calls  # and advances at once by its notebooks
