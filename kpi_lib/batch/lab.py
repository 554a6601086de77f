"""Analysts in JupyterLab: the scorecard's results folder kept up to date, and committed notebooks kept clean.

Two things an analyst meets in Lab, and the choices made for them:

- **Results follow the parameters.** The scorecard notebook's `results_dir` is a
  parameter that `kpi run` fills in (`.`, the department's folder it runs in).
  Left at `None`, as in Lab, it is derived: `<outputs>/<period>/<department>`,
  where `<outputs>` is the `outputs/` folder next to the params folder
  (`params/x.yaml` → `outputs/`), the folder `kpi run` writes by default when run
  from the project root. Before reading it, `bring_up_to_date` runs the same
  batch `kpi run PARAMS --period P` runs (`runner.run_batch`), so the runner
  alone decides (`incremental`) whether the department's folder is still good
  (reused, at the cost of hashing) or must be written again; nothing here
  judges staleness a second way. A refusal (a signed-off department whose
  inputs changed) or a failure becomes an error naming the folder and what to do.
- **Committed notebooks stay clean.** `make lab` starts Lab with
  `jupyter_server_config.py`, which calls `configure`: Lab is rooted at the project
  (params, data and outputs reachable) and opens `lab/scorecard.ipynb`, a
  git-ignored working copy of each committed notebook made when absent (same
  depth as `notebooks/`, so `../params/…` still resolves); a pre-save hook
  refuses every save into `notebooks/` with a message saying where to work
  instead. Refusing is simpler and more honest than stripping outputs and
  restoring parameters on the way to disk (the analyst's file would silently
  differ from the one on screen).

This module sits in the orchestration layer (it calls the runner) although the
scorecard notebook reaches it through `notebook.Run.load_recorded`: the notebook
asks for a folder, and keeping the runner call here keeps `notebook` free of it.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import warnings
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tornado.web import HTTPError

from ..base.errors import AuditError, OutputError
from ..base.layout import OUTPUTS, SCORECARD, notebook
from ..base.messages import say
from ..inputs.period import Period
from .incremental import why_text
from .runner import run_batch

NOTEBOOKS = "notebooks"  # the committed notebooks, relative to the project root
WORKING = "lab"  # their git-ignored working copies, at the same depth


def project_of(params_path: Path) -> Path:
    """The project a params file belongs to: the folder holding its `params/` folder."""
    return params_path.resolve().parent.parent


def outputs_of(params_path: Path) -> Path:
    """The outputs folder of a params file's project: `kpi run`'s default `--out`, run from the project root."""
    return project_of(params_path) / OUTPUTS


@dataclass(frozen=True)
class Update:
    """What `bring_up_to_date` did: the department's folder, whether the runner ran it (else reused it), and why."""

    folder: Path
    ran: bool
    why: str
    seconds: float
    problems: tuple[str, ...] = ()

    def line(self, lang: str) -> str:
        """One line for the notebook's output, in the department's language."""
        fields = {"folder": str(self.folder), "why": why_text(self.why, lang), "seconds": f"{self.seconds:.1f}"}
        text = say("lab.ran", lang, **fields) if self.ran else say("lab.up_to_date", lang, **fields)
        return "\n".join([text, *self.problems])


def bring_up_to_date(params_path: Path, period: Period) -> Update:
    """Run `kpi run PARAMS --period P`'s batch for one department, then name its folder; raise when it was refused or failed.

    The batch starts its own worker processes and kernels, so it works from
    inside a notebook's kernel; it holds the period folder's lock like any run
    (a `kpi run` of the same period at the same time is refused, and says so).
    """
    params = params_path.resolve()
    out = outputs_of(params)
    result = run_batch([params], period, out=out, jobs=os.cpu_count() or 1)
    department = result.departments[0]
    folder = out / str(period) / department.label
    if department.refused:
        raise AuditError(
            f"{department.error.splitlines()[0]}\n"
            f"The scorecard was not brought up to date. In a terminal at {project_of(params)}: "
            f'`kpi run {params.relative_to(project_of(params))} --period {period} --force --reason "…"` to run it again '
            f"(the signed run is kept in history/), or set results_dir to the signed folder to read it as it is."
        )
    if department.failed:
        cls = OutputError if department.unwritable else AuditError
        raise cls(
            f"{folder}: kpi run of {params} for {period} failed, so the scorecard has no group results to read:\n"
            f"{department.error}\n(see {folder} for the executed notebooks up to the failing cell)"
        )
    return Update(folder, not department.reused, department.why, result.seconds, tuple(result.problems))


# -- the Lab server -----------------------------------------------------------------------------
@functools.cache
def refuse_saves_into(folder: Path) -> Callable[..., None]:
    """A Jupyter contents manager `pre_save_hook` refusing (HTTP 403, shown by Lab) any save into `folder`.

    Lab's autosave would write outputs and edited parameters into the committed
    notebooks; refused, Lab shows the message, and the file on disk stays as committed.
    One hook per folder (cached), whichever configs ask for it.
    """
    guarded = folder.resolve()

    def hook(model: Any = None, path: str = "", contents_manager: Any = None, **kwargs: Any) -> None:
        root = Path(getattr(contents_manager, "root_dir", "") or ".")
        target = (root / path.lstrip("/")).resolve()
        if target == guarded or guarded in target.parents:
            working = guarded.parent / WORKING / target.name
            raise HTTPError(
                403,
                f"{path}: not saved: {guarded} holds the committed notebooks, kept without outputs or edited "
                f"parameters. Work in the git-ignored copy {working} (made by `make lab`); to change a committed "
                f"notebook, edit it outside Lab and commit it without outputs.",
            )

    return hook


def working_copies(root: Path) -> list[str]:
    """Copy each committed notebook into `lab/` when it has no working copy yet; lines saying what was done or differs.

    An existing working copy is never overwritten (it holds the analyst's work);
    one whose cells no longer match the committed notebook is named, with how to
    get a fresh copy.
    """
    source, target = root / NOTEBOOKS, root / WORKING
    target.mkdir(exist_ok=True)
    lines = []
    for committed in sorted(source.glob("*.ipynb")):
        copy = target / committed.name
        if not copy.exists():
            shutil.copyfile(committed, copy)
            lines.append(f"{copy}: working copy of {committed}")
        elif _cells(copy) != _cells(committed):
            lines.append(
                f"{copy}: its cells differ from {committed} (your edits, or a newer notebook); "
                f"delete it and run `make lab` again for a fresh copy"
            )
    return lines


def _cells(path: Path) -> list[tuple[str, str]]:
    """A notebook's cells as (type, source), outputs left aside; [] when it does not read as a notebook."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        return [(c.get("cell_type", ""), "".join(c.get("source", ""))) for c in cells]
    except (OSError, ValueError, AttributeError):
        return []


def terminal_path(environ: MutableMapping[str, str] | None = None) -> str:
    """PATH with this Python's `bin/` (the project's `.venv/bin`) first, so `kpi` and `jupyter` are the project's."""
    environ = os.environ if environ is None else environ
    here = str(Path(sys.executable).parent)
    rest = [p for p in environ.get("PATH", "").split(os.pathsep) if p and p != here]
    return os.pathsep.join([here, *rest])


NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"


def without_news_prompt(handler: Any, page_config: dict[str, Any]) -> dict[str, Any]:
    """Lab's page without its announcements plugin: with no news feed (`news_url` None) it would only ask to fetch one."""
    disabled = list(page_config.get("disabledExtensions", []))
    page_config["disabledExtensions"] = [*disabled, NEWS_PLUGIN] if NEWS_PLUGIN not in disabled else disabled
    return page_config


def configure(c: Any, root: Path) -> list[str]:
    """Set up a Jupyter server config `c` for the project at `root` (see the module docstring); lines to print.

    - `root_dir` is the project root and the default page the scorecard's working copy;
    - `allow_root` when running as root (containers), where Jupyter refuses to start otherwise;
    - terminals start the user's shell without `-l` (a login shell reads /etc/profile, which
      resets PATH) and with this environment's `bin/` first on PATH (`kpi` in Lab's terminal);
      kernels inherit the same PATH;
    - nothing is fetched at run time: no news feed (nor its prompt), no update check, no extension catalog.
    """
    root = root.resolve()
    os.environ["PATH"] = terminal_path()
    c.ServerApp.root_dir = str(root)
    c.ServerApp.allow_root = os.geteuid() == 0
    c.ServerApp.terminado_settings = {"shell_command": [os.environ.get("SHELL") or shutil.which("bash") or "sh"]}
    c.LabApp.default_url = f"/lab/tree/{WORKING}/{notebook(SCORECARD)}"
    c.LabApp.news_url = None
    c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
    c.LabApp.extension_manager = "readonly"
    c.ContentsManager.pre_save_hook = refuse_saves_into(root / NOTEBOOKS)
    c.ServerApp.contents_manager_class = (
        "kpi_lib.batch.labserver.GuardedContentsManager"  # no rename, move or delete there
    )
    c.GuardedContentsManager.guarded = str(root / NOTEBOOKS)
    # jupyter_server warns whenever the hook is set on a manager that has one, and it applies the config twice
    warnings.filterwarnings("ignore", message=r"Overriding existing pre_save_hook \(hook\)", category=UserWarning)
    c.ServerApp.tornado_settings = {"page_config_hook": without_news_prompt}
    return working_copies(root)
