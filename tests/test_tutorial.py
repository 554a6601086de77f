"""The tutorial "Appraise your own department" (docs/tutorial.md), executed as written, so it cannot rot.

How the page is read (`steps`), in order:

- a fenced block with a title, ```` ```yaml title="company.yaml" ````, is a file: written (whole) at that path,
  relative to the tutorial's current folder;
- a ```` ```console ```` block holds commands: each line starting with `$ ` is run with bash in the current folder
  (`cd DIR` changes it); the lines after a command are what it prints: each part between `…` must appear in its
  output (spaces collapsed);
- `<!-- tutorial: exit N -->` (an HTML comment, not shown on the site) right before a console block: its
  commands must exit with N; every other command must exit 0;
- any other block (no title, another language) is an illustration and is not run.

One run of the whole tutorial (two `kpi run`s, two signatures, the PDFs), in a new empty folder: slow. Without
Chromium (`make pdf-deps`) the `kpi pdf` line is left out, as the other PDF tests are skipped; the rest still runs.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer

from kpi_lib.audit.trail import read_log
from kpi_lib.base.errors import SetupError
from kpi_lib.cli import app
from kpi_lib.reports.exports import chromium

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
FENCE = re.compile(
    r"(?:<!-- tutorial: exit (?P<exit>\d+) -->\n+)?^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$",
    re.M | re.S,
)
TITLE = re.compile(r'title="([^"]+)"')


@dataclass
class Command:
    line: str
    shown: list[str] = field(default_factory=list)  # what the page says it prints
    exit: int = 0


@dataclass
class File:
    path: str
    text: str


def steps(text: str) -> list[Command | File]:
    """The files and commands of the page, in the order a reader meets them."""
    found: list[Command | File] = []
    for block in FENCE.finditer(text):
        title = TITLE.search(block["info"])
        if title:
            found.append(File(title.group(1), block["body"]))
        elif block["lang"] == "console":
            for line in block["body"].splitlines():
                if line.startswith("$ "):
                    found.append(Command(line[2:], exit=int(block["exit"] or 0)))
                elif line.strip() and found and isinstance(found[-1], Command):
                    found[-1].shown.append(line)
    return found


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def test_the_tutorial_has_commands_and_files() -> None:
    """What the slow run executes is there (a changed fence convention would make it run nothing)."""
    found = steps(TUTORIAL.read_text(encoding="utf-8"))
    commands = [s.line for s in found if isinstance(s, Command)]
    assert [s.path for s in found if isinstance(s, File)] == [
        "exports/tickets.csv",
        "company.yaml",
        "params/cs-east.yaml",
    ]
    assert any(c.startswith("kpi init ") and " --from " in c for c in commands)
    assert [c.split()[1] for c in commands if c.startswith("kpi ")].count("sign") == 2
    assert commands[-1].startswith("kpi verify ")
    assert [s.line for s in found if isinstance(s, Command) and s.exit] == ["kpi validate params/cs-east.yaml"]


def test_the_tutorial_names_only_real_commands_and_options() -> None:
    """Every `kpi …` line of the page parses as the command line it is (fast: nothing runs)."""
    root = typer.main.get_command(app)
    for step in steps(TUTORIAL.read_text(encoding="utf-8")):
        if not isinstance(step, Command) or not step.line.startswith("kpi "):
            continue
        words = shlex.split(step.line)[1:]
        command = root.get_command(None, words[0])  # type: ignore[attr-defined]
        assert command is not None, step.line
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        used = [w for w in words if w.startswith("--")]
        assert set(used) <= options, f"{step.line}: {set(used) - options}"


@pytest.mark.slow
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "200",
    }
    env.pop("SOURCE_DATE_EPOCH", None)
    printing = _has_chromium()  # as the other PDF tests: without Chromium (make pdf-deps) only `kpi pdf` is left out
    here = tmp_path
    for step in steps(TUTORIAL.read_text(encoding="utf-8")):
        if isinstance(step, File):
            (here / step.path).parent.mkdir(parents=True, exist_ok=True)
            (here / step.path).write_text(step.text, encoding="utf-8")
            continue
        words = shlex.split(step.line)
        if words[:2] == ["kpi", "pdf"] and not printing:
            continue
        if words[0] == "cd":
            here = (here / words[1]).resolve()
            assert here.is_dir(), step.line
            continue
        done = subprocess.run(
            ["bash", "-c", step.line], cwd=here, env=env, capture_output=True, text=True, check=False, timeout=900
        )
        said = _squeeze(done.stdout + "\n" + done.stderr)
        assert done.returncode == step.exit, f"{step.line}\n{done.stdout}\n{done.stderr}"
        for line in step.shown:
            for part in filter(None, (_squeeze(p) for p in line.split("…"))):
                assert part in said, f"{step.line}: the page shows {part!r}, which it did not print:\n{said}"
    department = here / "outputs" / "2026-Q4" / "cs-east"
    assert [(line.record or {}).get("role") for line in read_log(department)] == ["manager", "supervisor"]
    assert "on 2026-Q3" in (department / "scorecard.html").read_text(encoding="utf-8")
    assert (here / "outputs" / "2026-Q4" / "pdf" / "cs-east" / "scorecard.pdf").is_file() or not printing


def _has_chromium() -> bool:
    try:
        chromium()
    except SetupError:
        return False
    return True
