"""The codebase's shape, checked: layers without import cycles, and each concept in one home (issue 9 §3).

- No import cycle among kpi_lib's modules, counting every import that runs wherever
  it is written (a cycle hidden by an import inside a function is still a cycle);
  imports under `if TYPE_CHECKING:` serve annotations only and never run.
- kpi_lib's own modules are imported at module top. A third-party import may be
  deferred into a function only when it is listed in `DEFERRED` with its reason.
- Every file and folder name of an output tree is spelled in `layout.py` only.
- Hashing happens in `files.py` only.
- HTML is built from Jinja2 templates (`pages.py`): no hand-made escaping helper.
- No `assert` for runtime checks in kpi_lib.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kpi_lib"
MODULES = {p.stem: p for p in sorted(PACKAGE.glob("*.py")) if p.stem != "__main__"}

# Third-party imports deferred into functions, with why (each costs start-up time or is optional).
DEFERRED = {
    "papermill": "runs in the worker that executes a notebook; the CLI's other commands never need it",
    "nbclient": "papermill's executor, same as papermill",
    "distributed": "the optional `dask` extra",
    "icalendar": "only `kpi calendar --ics` writes calendars",
    "cryptography": "only signing and verifying signatures need it",
    "pyarrow": "only Parquet inputs and adapted frames need it",
    "numpy": "with pyarrow, for Parquet inputs",
    "openpyxl": "only xlsx inputs need the reader (exports import it at top)",
    "matplotlib": "the font manager is loaded once, when the first chart is drawn",
    "rich": "the progress bar of `kpi run`",
    "jupyter_client": "the kernel manager of a worker",
    "nbformat": "its schema validation costs seconds at start-up; only commands that read notebooks pay it",
    "nbconvert": "only `kpi run` and `kpi sign` make HTML reports",
    "fontTools": "only pages with Chinese text need the font subset",
    "sqlalchemy": "only tables read from a database (params `sql:`) need it and its drivers",
}


def _tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"), filename=str(MODULES[name]))


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import statements inside `if TYPE_CHECKING:` (annotations only: they never run)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            inside.update(id(n) for n in ast.walk(node))
    return inside


def _internal_imports(name: str) -> list[tuple[str, ast.stmt]]:
    """(imported kpi_lib module, the import statement) for every import of the package's own modules that runs."""
    found = []
    tree = _tree(name)
    typing_only = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.append((node.module.split(".")[0], node))
            else:
                found.extend((alias.name, node) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kpi_lib."):
            found.append((node.module.split(".")[1], node))  # type: ignore[union-attr]
    return [(module, node) for module, node in found if module in MODULES]


def _graph() -> dict[str, set[str]]:
    return {name: {module for module, _ in _internal_imports(name)} for name in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, as the list of modules on it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, " → ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def _in_functions(name: str) -> list[ast.stmt]:
    inner = []
    for node in ast.walk(_tree(name)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner.extend(n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return inner


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_at_module_top(name: str) -> None:
    for node in _in_functions(name):
        if isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(
                f"kpi_lib/{name}.py:{node.lineno}: imports a kpi_lib module inside a function; import it at the top"
            )
        roots = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for root in (r.split(".")[0] for r in roots):
            assert root in DEFERRED, (
                f"kpi_lib/{name}.py:{node.lineno}: {root} imported inside a function; move it to the top or list it in DEFERRED with a reason"
            )


OUTPUT_NAMES = re.compile(
    r"""["'](result\.json|manifest\.json|department\.json|error\.txt|signoffs\.jsonl|index\.html|summary\.csv|summary\.xlsx|scorecard\.xlsx|\.staging-|\.kernels\.log)["']"""
)


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"layout"}))
def test_output_file_names_live_in_layout(name: str) -> None:
    source = MODULES[name].read_text(encoding="utf-8")
    code = _code_only(source)
    found = OUTPUT_NAMES.findall(code)
    assert not found, f"kpi_lib/{name}.py spells {sorted(set(found))}: use kpi_lib.layout"


def _code_only(source: str) -> str:
    """The source without docstrings and comments (prose may name the files)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            body[0].value.value = ""
    return ast.unparse(tree)


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"files"}))
def test_hashing_lives_in_files(name: str) -> None:
    code = _code_only(MODULES[name].read_text(encoding="utf-8"))
    assert "hashlib" not in code, f"kpi_lib/{name}.py hashes by itself: use files.sha256_bytes / sha256_file"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_hand_made_html_escaping(name: str) -> None:
    code = _code_only(MODULES[name].read_text(encoding="utf-8"))
    assert "html.escape" not in code and "def h(" not in code, (
        f"kpi_lib/{name}.py escapes HTML by hand: use pages.render"
    )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_assert_for_runtime_checks(name: str) -> None:
    asserts = [n.lineno for n in ast.walk(_tree(name)) if isinstance(n, ast.Assert)]
    assert not asserts, f"kpi_lib/{name}.py: assert at lines {asserts}; raise the right KpiError instead"


def test_every_rate_kind_the_template_knows_has_its_function() -> None:
    from kpi_lib.rates import RATES
    from kpi_lib.template import RATE_KINDS

    assert set(RATES) == set(RATE_KINDS)
