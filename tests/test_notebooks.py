"""The committed notebooks: clean, thin, parameterized; and each notebook runs in a fresh kernel."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from kpi_lib.base.layout import GROUP_NOTEBOOK, SCORECARD
from kpi_lib.batch.runner import NotebookJob, execute
from kpi_lib.inputs.template import load_template
from kpi_lib.reports import executed

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = (GROUP_NOTEBOOK, SCORECARD)


def load(name: str) -> nbformat.NotebookNode:
    return nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name: str) -> None:
    for cell in load(name).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: strip outputs before committing"


@pytest.mark.parametrize("name", NAMES)
def test_no_function_or_class_definitions(name: str) -> None:
    for cell in load(name).cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            defined = [
                n
                for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
            ]
            assert not defined, f"{name}: logic belongs in kpi_lib"


@pytest.mark.parametrize("name", NAMES)
def test_parameters_cell_of_primitive_defaults(name: str) -> None:
    cells = [c for c in load(name).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), ast.dump(node)


def test_one_group_notebook_serves_every_group() -> None:
    """No notebook per group: the generic one takes `group`, and its default is a group of the packaged template."""
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)
    source = next(c.source for c in load(GROUP_NOTEBOOK).cells if "parameters" in c.metadata.get("tags", []))
    default = ast.literal_eval(next(n.value for n in ast.parse(source).body if n.targets[0].id == "group"))  # type: ignore[attr-defined]
    assert default in load_template().groups


def _tiny(path: Path, source: str) -> Path:
    notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    cell = new_code_cell("")
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell, new_code_cell(source)]
    nbformat.write(notebook, str(path))
    return path


@pytest.mark.slow
def test_no_state_leaks_from_one_notebook_into_the_next(tmp_path: Path) -> None:
    first = _tiny(
        tmp_path / "first.ipynb",
        "import matplotlib, pandas as pd\nLEAK = 1\npd.set_option('display.max_rows', 3)\nmatplotlib.rcParams['font.size'] = 31",
    )
    second = _tiny(
        tmp_path / "second.ipynb",
        "import matplotlib, pandas as pd\nassert 'LEAK' not in globals()\n"
        "assert pd.get_option('display.max_rows') == 60\nassert matplotlib.rcParams['font.size'] == 10.0",
    )
    ran = [
        execute(NotebookJob(str(nb), str(tmp_path / f"out-{nb.name}"), {}, str(tmp_path), 120))
        for nb in (first, second)
    ]
    assert [o.ok for o in ran] == [True, True], [o.error for o in ran]


@pytest.mark.slow
def test_a_cell_error_is_reported_and_not_retried(tmp_path: Path) -> None:
    notebook = _tiny(tmp_path / "bad.ipynb", "raise ValueError('bad data in row 7')")
    outcome = execute(NotebookJob(str(notebook), str(tmp_path / "out.ipynb"), {}, str(tmp_path), 120))
    assert not outcome.ok and outcome.attempts == 1
    assert "ValueError" in outcome.error and "bad data in row 7" in outcome.error
    saved = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert any(
        o.get("output_type") == "error" for c in saved.cells for o in c.get("outputs", [])
    )  # papermill kept the evidence


@pytest.mark.slow
def test_a_dead_kernel_is_retried_once(tmp_path: Path) -> None:
    notebook = _tiny(tmp_path / "dies.ipynb", "import os\nos._exit(1)")
    outcome = execute(NotebookJob(str(notebook), str(tmp_path / "out.ipynb"), {}, str(tmp_path), 120))
    assert not outcome.ok and outcome.attempts == 2
    assert "kernel failed to start or died" in outcome.error


@pytest.mark.slow
def test_run_all_with_the_defaults_works(tmp_path: Path) -> None:
    """What an analyst does after `make demo`: open a notebook and Run All, parameters untouched."""
    import shutil

    import papermill

    from kpi_lib.batch.demo import write_demo

    write_demo(tmp_path)
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    results = tmp_path / "outputs" / "2026-Q4" / "cs-east"
    results.mkdir(parents=True)
    # the group notebook once per group (its default group untouched, the others set), then the scorecard
    runs = [
        (group, {} if i == 0 else {"group": group})
        for i, group in enumerate(["service", "management", "key_accounts", "cost"])
    ]
    runs.append((SCORECARD, {}))
    for name, parameters in runs:
        source = SCORECARD if name == SCORECARD else GROUP_NOTEBOOK
        papermill.execute_notebook(
            str(tmp_path / "notebooks" / f"{source}.ipynb"),
            str(results / f"{name}.ipynb"),
            parameters=parameters,
            cwd=str(tmp_path / "notebooks"),
            progress_bar=False,
        )
    result = executed.read_scorecard(results / "scorecard.ipynb")
    assert (result.department, str(result.period), len(result.indicators)) == ("cs-east", "2026-Q4", 12)
    assert result.total is not None


GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize(("golden", "source"), [("calls", GROUP_NOTEBOOK), (SCORECARD, SCORECARD)])
def test_golden_notebooks_are_the_committed_notebooks_executed(golden: str, source: str) -> None:
    """The golden set (checked by nbval) runs today's notebooks: same cells, plus papermill's injected parameters."""
    executed_cells = nbformat.read(str(GOLDEN / f"{golden}.ipynb"), as_version=4).cells
    kept = [c for c in executed_cells if "injected-parameters" not in c.metadata.get("tags", [])]
    assert [(c.cell_type, c.source) for c in kept] == [(c.cell_type, c.source) for c in load(source).cells], (
        f"tests/golden/{golden}.ipynb is stale: run `python tests/golden/make_golden.py` and review the diff"
    )
