"""Executed notebooks as files: settling what papermill wrote, and reading back what a notebook recorded.

A group notebook records its `GroupRecord`, and the scorecard notebook its
`DepartmentResult`, as a display output of MIME type `MIME` (JSON), so the
numbers live inside the executed notebook an auditor reads, next to the cells
that made them. `read_group` and `read_scorecard` are the only readers of those
outputs (the scorecard notebook, the runner, `kpi sign` and `kpi verify` use
them); they return the typed records of `result`.

After papermill has written an executed notebook, the runner calls `settle` on it:
cell ids become `cell-<index>` (papermill gives the cell it injects a random one);
papermill's `output_path`, the staging folder that stops existing when the
department's folder is renamed into place, becomes the notebook's file name (it
lives next to it); and with `SOURCE_DATE_EPOCH` set every papermill and nbclient
time in it is `clock.now()` and every duration 0. So the notebook, and the sha256
the scorecard shows of it, depend only on the inputs, not on the run or on `--out`.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import clock
from ..base.errors import AuditError, shorten
from ..base.files import write_atomic
from ..scoring.result import DepartmentResult, GroupRecord

if TYPE_CHECKING:
    from nbformat import NotebookNode

MIME = "application/vnd.kpi-appraisal.result+json"


def read_notebook(path: Path) -> NotebookNode:
    """An executed notebook; `AuditError` naming the file when it is missing or damaged."""
    if not Path(path).is_file():
        raise AuditError(
            f"{path}: executed notebook not found; run `kpi run PARAMS --period P` first (it executes the group notebooks)"
        )
    import nbformat  # deferred: nbformat's schema validation costs seconds at start-up

    try:
        notebook: NotebookNode = nbformat.read(str(path), as_version=4)
        return notebook
    except Exception as exc:  # noqa: BLE001 - not JSON, not a notebook, cut short by a killed writer
        raise AuditError(f"{path}: not a readable notebook ({type(exc).__name__}: {shorten(exc)})") from None


def recorded(notebook: NotebookNode, kind: str, where: Path) -> Mapping[str, Any]:
    """The last result of `kind` ("group" or "scorecard") recorded in a notebook's outputs."""
    found = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}) if isinstance(output, Mapping) else {}
            payload = data.get(MIME) if isinstance(data, Mapping) else None
            if isinstance(payload, Mapping) and payload.get("kind") == kind:
                found = payload
    if found is None:
        raise AuditError(f"{where}: no recorded {kind} result; the notebook did not run to its end")
    return found


def read_group(path: Path) -> GroupRecord:
    """The `GroupRecord` an executed group notebook recorded."""
    return GroupRecord.from_json(recorded(read_notebook(path), "group", path), str(path))


def scorecard_of(notebook: NotebookNode, where: Path) -> DepartmentResult:
    """The `DepartmentResult` (with explanations) an executed scorecard notebook recorded."""
    payload = recorded(notebook, "scorecard", where)
    return DepartmentResult.from_json(payload.get("result"), str(where))


def read_scorecard(path: Path) -> DepartmentResult:
    return scorecard_of(read_notebook(path), path)


def settle(path: Path) -> None:
    """Rewrite an executed notebook so that it depends only on its inputs (see the module docstring)."""
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    if notebook.get("nbformat_minor", 0) >= 5:  # cell ids exist from nbformat 4.5 on
        for index, cell in enumerate(notebook.cells):
            cell["id"] = f"cell-{index}"
    papermill = notebook.metadata.get("papermill")
    if papermill and papermill.get("output_path"):
        papermill["output_path"] = path.name
    if clock.reproducible():
        when = clock.now().astimezone(UTC)
        iso, zulu = when.isoformat(), when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # papermill's and nbclient's forms
        _retime(papermill, iso)
        for cell in notebook.cells:
            _retime(cell.metadata.get("papermill"), iso)
            execution = cell.metadata.get("execution")
            if execution:
                cell.metadata["execution"] = {key: zulu for key in execution}
    write_atomic(path, nbformat.writes(notebook))


def _retime(papermill: MutableMapping[str, Any] | None, iso: str) -> None:
    """papermill's start and end times to `iso`, its duration to 0 (keys it left empty stay empty)."""
    if not papermill:
        return
    for key, value in (("start_time", iso), ("end_time", iso), ("duration", 0)):
        if papermill.get(key) is not None:
            papermill[key] = value
