"""Analysts in JupyterLab (issue 11 §9): the scorecard finds and refreshes its results, committed notebooks stay clean.

Fast: where results are looked for, what the runner's answers become, the pre-save
hook and the working copies, the server settings, and the real contents manager of
Jupyter Server refusing a save into `notebooks/` under the project's config file.
Slow: the acceptance flow (a fresh copy of the project, `kpi demo`, `kpi run` for
2026-Q4, the scorecard's working copy run for 2026-Q3 from its own folder, `git
status` clean) and a real `jupyter lab` started with the config: saves refused,
`kpi` on PATH in its terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import nbformat
import pytest
from tornado.web import HTTPError
from traitlets.config import Config, PyFileConfigLoader

from kpi_lib.base.errors import AuditError, OutputError
from kpi_lib.batch import lab
from kpi_lib.batch.runner import BatchResult, DepartmentRun
from kpi_lib.inputs.period import Period
from kpi_lib.reports import executed

from .conftest import kpi

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "jupyter_server_config.py"


# -- where the scorecard looks for its results ------------------------------------------------
@pytest.mark.parametrize(
    ("cwd", "params", "outputs"),
    [
        ("proj/notebooks", "../params/cs-east.yaml", "proj/outputs"),  # the committed notebook's default
        ("proj/lab", "../params/cs-east.yaml", "proj/outputs"),  # the working copy, same depth
        ("proj", "params/cs-east.yaml", "proj/outputs"),  # kpi run's --out default, run at the project root
        ("elsewhere", "../proj/params/x.yml", "proj/outputs"),
        ("proj/notebooks", "../../other/params/cs-west.yaml", "other/outputs"),  # another project's params
    ],
)
def test_outputs_are_next_to_the_params_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cwd: str, params: str, outputs: str
) -> None:
    (tmp_path / cwd).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / cwd)
    assert lab.outputs_of(Path(params)) == (tmp_path / outputs).resolve()


def _batch(tmp_path: Path, **run: Any) -> BatchResult:
    department = DepartmentRun(tmp_path / "params" / "cs-east.yaml", "cs-east", **run)
    return BatchResult("2026-Q3", tmp_path / "outputs" / "2026-Q3", [department], None, 1.25)


@pytest.mark.parametrize(
    ("run", "error", "words"),
    [
        ({"reused": True, "why": "unchanged: its own rows are the same"}, None, ["is up to date", "unchanged"]),
        ({"why": "changed: its params file"}, None, ["ran kpi run", "changed: its params file", "1.2 s"]),
        (
            {"refused": True, "error": "/x/outputs/2026-Q3/cs-east: signed off by A; refusing to overwrite (…)"},
            AuditError,
            ["signed off by A", "not brought up to date", "kpi run params/cs-east.yaml --period 2026-Q3 --force"],
        ),
        (
            {"error": "service.ipynb: cell 4: DataError: surveys.csv, row 7, column score: found 'x'"},
            AuditError,
            ["kpi run of", "failed", "surveys.csv, row 7, column score", "executed notebooks up to the failing cell"],
        ),
        (
            {"error": "/x/outputs: cannot write: No space left on device", "unwritable": True},
            OutputError,
            ["No space left on device"],
        ),
    ],
)
def test_what_the_runner_did_becomes_a_line_or_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: dict[str, Any], error: type | None, words: list[str]
) -> None:
    called: list[tuple[Any, ...]] = []

    def run_batch(files: list[Path], window: Period, **kw: Any) -> BatchResult:
        called.append((files, window, kw["out"]))
        return _batch(tmp_path, **run)

    monkeypatch.setattr(lab, "run_batch", run_batch)
    params = tmp_path / "params" / "cs-east.yaml"
    if error is None:
        update = lab.bring_up_to_date(params, Period.parse("2026-Q3"))
        text = update.line("en")
        assert update.folder == tmp_path / "outputs" / "2026-Q3" / "cs-east"
        assert update.ran is not run.get("reused", False)
    else:
        with pytest.raises(error) as caught:
            lab.bring_up_to_date(params, Period.parse("2026-Q3"))
        text = str(caught.value)
    assert all(w in text for w in words), text
    assert called == [([params], Period.parse("2026-Q3"), tmp_path / "outputs")]  # one department, one period


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("ran", [True, False])
def test_the_note_is_in_the_departments_language(lang: str, ran: bool) -> None:
    line = lab.Update(Path("/p/outputs/2026-Q3/cs-east"), ran, "why", 2.0).line(lang)
    assert "/p/outputs/2026-Q3/cs-east" in line and "why" in line and "2.0" in line
    assert ("已" in line) is (lang == "zh") and ("kpi run" in line) is ran


# -- committed notebooks stay clean -----------------------------------------------------------
def _project(tmp_path: Path) -> Path:
    """The project's Lab-relevant files in a temporary folder: its config file and its committed notebooks."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copyfile(ROOT / CONFIG, tmp_path / CONFIG)
    return tmp_path


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("notebooks/scorecard.ipynb", True),
        ("/notebooks/group.ipynb", True),  # API paths may start with a slash
        ("notebooks/new.ipynb", True),  # Save As, a new file, an upload
        ("notebooks/sub/x.ipynb", True),
        ("notebooks", True),
        ("lab/../notebooks/scorecard.ipynb", True),
        ("linked/scorecard.ipynb", True),  # a symlink to notebooks/
        ("lab/scorecard.ipynb", False),
        ("notebooks-old/scorecard.ipynb", False),  # a name that only starts like it
        ("outputs/2026-Q4/cs-east/scorecard.ipynb", False),
        ("scorecard.ipynb", False),
    ],
)
def test_saves_into_the_committed_notebooks_are_refused(tmp_path: Path, path: str, refused: bool) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "notebooks")
    hook = lab.refuse_saves_into(tmp_path / "notebooks")
    manager = type("Manager", (), {"root_dir": str(tmp_path)})()
    if refused:
        with pytest.raises(HTTPError) as caught:
            hook(model={}, path=path, contents_manager=manager)
        assert caught.value.status_code == 403
        assert "not saved" in str(caught.value) and str(tmp_path / "lab") in str(caught.value)
    else:
        hook(model={}, path=path, contents_manager=manager)


def test_jupyters_contents_manager_refuses_under_the_projects_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's own contents manager, configured by the project's config file: notebooks/ stays as committed."""
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))  # configure() puts this Python's bin/ first
    project = _project(tmp_path)
    config = PyFileConfigLoader(CONFIG, path=str(project)).load_config()
    manager = AsyncLargeFileManager(config=config, root_dir=str(project))
    committed = (project / "notebooks" / "scorecard.ipynb").read_bytes()
    notebook = nbformat.reads(committed.decode("utf-8"), as_version=4)
    notebook.cells[1].source = notebook.cells[1].source.replace('"2026-Q4"', '"2026-Q3"')
    notebook.cells[1].execution_count = 1
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="total 97.95")]
    model = {"type": "notebook", "format": "json", "content": notebook}
    with pytest.raises(HTTPError) as caught:
        asyncio.run(manager.save(model, "notebooks/scorecard.ipynb"))
    assert caught.value.status_code == 403 and "lab/scorecard.ipynb" in str(caught.value)
    assert (project / "notebooks" / "scorecard.ipynb").read_bytes() == committed
    asyncio.run(manager.save(model, "lab/scorecard.ipynb"))  # the working copy takes the analyst's work
    saved = nbformat.read(str(project / "lab" / "scorecard.ipynb"), as_version=4)
    assert '"2026-Q3"' in saved.cells[1].source and saved.cells[1].outputs


@pytest.mark.parametrize(
    ("action", "old", "new", "refused"),
    [
        ("delete", "notebooks/group.ipynb", "", True),
        ("delete", "/notebooks/scorecard.ipynb", "", True),
        ("rename", "notebooks/scorecard.ipynb", "notebooks/x.ipynb", True),
        ("rename", "notebooks/scorecard.ipynb", "lab/moved.ipynb", True),  # moved out
        ("rename", "lab/scorecard.ipynb", "notebooks/scorecard2.ipynb", True),  # moved in
        ("rename", "lab/../notebooks/group.ipynb", "lab/group2.ipynb", True),
        ("rename", "lab/scorecard.ipynb", "lab/mine.ipynb", False),
        ("delete", "lab/group.ipynb", "", False),
    ],
)
def test_the_committed_notebooks_cannot_be_renamed_moved_or_deleted_from_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, action: str, old: str, new: str, refused: bool
) -> None:
    """Lab's file browser renames and deletes through the contents manager the project's config installs."""
    from traitlets.utils.importstring import import_item

    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    project = _project(tmp_path)
    config = PyFileConfigLoader(CONFIG, path=str(project)).load_config()
    manager = import_item(config.ServerApp.contents_manager_class)(config=config, root_dir=str(project))
    before = sorted(p.name for p in (project / "notebooks").iterdir())
    call = manager.delete_file(old) if action == "delete" else manager.rename_file(old, new)
    if refused:
        with pytest.raises(HTTPError) as caught:
            asyncio.run(call)
        assert caught.value.status_code == 403 and "committed notebooks" in str(caught.value)
    else:
        asyncio.run(call)
    assert sorted(p.name for p in (project / "notebooks").iterdir()) == before


def test_working_copies_are_made_once_and_never_overwritten(tmp_path: Path) -> None:
    project = _project(tmp_path)
    lines = lab.working_copies(project)
    names = sorted(p.name for p in (project / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (project / "lab").glob("*.ipynb")) == names
    assert [line.split(":")[0] for line in lines] == [str(project / "lab" / n) for n in names]
    assert lab.working_copies(project) == []  # same cells: nothing to say
    copy = project / "lab" / "scorecard.ipynb"
    edited = copy.read_text(encoding="utf-8").replace("2026-Q4", "2026-Q3")
    copy.write_text(edited, encoding="utf-8")
    lines = lab.working_copies(project)
    assert len(lines) == 1 and "differ" in lines[0] and "delete it" in lines[0]
    assert copy.read_text(encoding="utf-8") == edited  # the analyst's work is kept


def test_the_server_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", str(Path(sys.executable).parent), "/bin"]))
    monkeypatch.setenv("SHELL", "/bin/bash")
    c = Config()
    lab.configure(c, _project(tmp_path))
    assert c.ServerApp.root_dir == str(tmp_path.resolve())  # params, data and outputs reachable
    assert c.LabApp.default_url == "/lab/tree/lab/scorecard.ipynb" and (tmp_path / "lab" / "scorecard.ipynb").is_file()
    assert c.ServerApp.allow_root is (os.geteuid() == 0)
    assert c.ServerApp.terminado_settings["shell_command"] == ["/bin/bash"]  # no -l: /etc/profile would reset PATH
    assert os.environ["PATH"].split(os.pathsep) == [str(Path(sys.executable).parent), "/usr/bin", "/bin"]
    assert c.LabApp.news_url is None and c.LabApp.extension_manager == "readonly"
    page = c.ServerApp.tornado_settings["page_config_hook"](None, {"disabledExtensions": ["x"]})
    assert page["disabledExtensions"] == ["x", lab.NEWS_PLUGIN]


# -- the acceptance flow and a real server ----------------------------------------------------
def _git(project: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the project's committed files, as a git repository, after `make demo` (2026-Q4)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    project = tmp_path_factory.mktemp("clone")
    for name in _git(ROOT, "ls-files", "-z").split("\0"):
        if name and (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, project / name)
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "committed files")
    for args in (("demo", "--out", "."), ("run", "--all", "--period", "2026-Q4", "--jobs", "2")):
        done = kpi(*args, cwd=project)
        assert done.returncode == 0, done.stdout + done.stderr
    return project


def _run_all(path: Path, period: str) -> nbformat.NotebookNode:
    """Run All, as Lab does: the kernel in the notebook's folder; the notebook saved where it was (Lab's autosave)."""
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace('period = "2026-Q4"', f'period = "{period}"')
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    nbformat.write(notebook, str(path))
    return notebook


def _streams(notebook: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "stream")


@pytest.mark.slow
def test_changing_the_period_in_the_scorecard_just_works(clone: Path) -> None:
    assert _git(clone, "status", "--porcelain") == ""  # make demo leaves git status clean
    lab.working_copies(clone)
    copy = clone / "lab" / "scorecard.ipynb"
    first = _run_all(copy, "2026-Q3")
    folder = clone / "outputs" / "2026-Q3" / "cs-east"
    assert f"已用 kpi run 更新 {folder}" in _streams(first)  # cs-east's language; Q3 had no outputs yet
    expected = json.loads(kpi("score", "params/cs-east.yaml", "--period", "2026-Q3", "--json", cwd=clone).stdout)
    shown = executed.scorecard_of(first, copy)
    assert (shown.department, str(shown.period)) == ("cs-east", "2026-Q3")
    assert shown.total == Decimal(str(expected["total"])) and shown.grade == expected["grade"]
    plain = [o.data["text/plain"] for c in first.cells for o in c.get("outputs", []) if "data" in o]
    assert f"total {expected['total']:.2f} grade {expected['grade']} for cs-east 2026-Q3" in plain
    assert (folder / "result.json").is_file()
    second = _run_all(copy, "2026-Q3")  # nothing changed: the runner reuses the folder
    assert f"{folder} 已是最新" in _streams(second)
    assert executed.scorecard_of(second, copy).total == shown.total
    assert _git(clone, "status", "--porcelain") == ""  # outputs/ and lab/ are ignored, notebooks/ untouched


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """`jupyter lab` with the project's config (as `make lab` starts it), on a free port, its PATH without this venv."""
    project = _project(tmp_path)
    port, token = _free_port(), "kpi-lab-test"
    env = {**os.environ, "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    command = [sys.executable, "-m", "jupyterlab", f"--config={CONFIG}", "--no-browser", f"--port={port}"]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [*command, f"--IdentityProvider.token={token}"], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # readiness, not speed: up to a minute on a busy machine
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(tmp_path / 'server.log').read_text()}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        yield base, token, project
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def _call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(base + path, method=method, headers=headers, data=data)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.mark.slow
def test_make_labs_server(server: tuple[str, str, Path]) -> None:
    """Rooted at the project, on the working copy, saves into notebooks/ refused, `kpi` first on its terminal's PATH."""
    from tornado.websocket import websocket_connect

    base, token, project = server
    status, model = _call(base, token, "GET", "/api/contents/notebooks/scorecard.ipynb")
    assert status == 200
    committed = (project / "notebooks" / "scorecard.ipynb").read_bytes()
    body = {"type": "notebook", "format": "json", "content": model["content"]}
    body["content"]["cells"][1]["source"] = 'params_path = "x"\nperiod = "2026-Q3"\nresults_dir = None'
    status, reply = _call(base, token, "PUT", "/api/contents/notebooks/scorecard.ipynb", body)
    assert status == 403 and "not saved" in reply["message"], reply
    assert (project / "notebooks" / "scorecard.ipynb").read_bytes() == committed
    assert _call(base, token, "PUT", "/api/contents/lab/scorecard.ipynb", body)[0] == 200
    assert _call(base, token, "GET", "/api/contents/lab/scorecard.ipynb")[0] == 200  # the working copy, at the root
    status, terminal = _call(base, token, "POST", "/api/terminals")
    assert status == 200

    async def ask() -> str:
        url = f"{base.replace('http', 'ws')}/terminals/websocket/{terminal['name']}?token={token}"
        socket = await websocket_connect(url)
        socket.write_message(json.dumps(["stdin", "echo KPI=$(command -v kpi) HERE=$(pwd)\r"]))
        seen = ""
        while "KPI=/" not in seen or "\n" not in seen.split("KPI=/")[-1]:
            message = await asyncio.wait_for(socket.read_message(), 60)
            kind, *rest = json.loads(str(message))
            seen += rest[0] if kind == "stdout" else ""
        socket.close()
        return next(line for line in seen.splitlines() if "KPI=/" in line)

    line = asyncio.run(ask())
    assert f"KPI={Path(sys.executable).parent / 'kpi'} " in line and f"HERE={project}" in line
