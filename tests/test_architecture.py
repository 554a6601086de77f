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
import functools
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kpi_lib"
# The layers, lowest first: each package imports only the ones before it (and itself); cli on top of all.
LAYERS = ["base", "inputs", "scoring", "words", "reports", "audit", "batch"]
TOP = ["__init__", "__main__", "cli", "notebook"]  # the two front doors: operators (cli) and analysts (notebook)


def _key(path: Path) -> str:
    """`base.errors` for kpi_lib/base/errors.py, `base` for kpi_lib/base/__init__.py, `cli` for kpi_lib/cli.py."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1]) if parts[-1] == "__init__" and len(parts) > 1 else ".".join(parts)


MODULES = {_key(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def _path(name: str) -> str:
    return str(MODULES[name].relative_to(PACKAGE.parent))


def layer_of(name: str) -> int:
    """The module's place in LAYERS (len(LAYERS) for the top: the package itself, `__main__`, `cli`)."""
    first = name.split(".")[0]
    return LAYERS.index(first) if first in LAYERS else len(LAYERS)


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
    "PIL": "with matplotlib: a chart is quantized when it is drawn, and commands that draw none start without it",
    "rich": "the progress bar of `kpi run`",
    "jupyter_client": "the kernel manager of a worker",
    "nbformat": "its schema validation costs seconds at start-up; only commands that read notebooks pay it",
    "nbconvert": "only `kpi run` and `kpi sign` make HTML reports",
    "fontTools": "only pages with Chinese text need the font subset",
    "sqlalchemy": "only tables read from a database (params `sql:`) need it and its drivers",
}


@functools.cache  # read-only here (`_code_only` parses its own copy to change it): one parse per module per run
def _tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"), filename=str(MODULES[name]))


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import statements inside `if TYPE_CHECKING:` (annotations only: they never run)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            inside.update(id(n) for n in ast.walk(node))
    return inside


def _resolve(name: str, node: ast.ImportFrom) -> list[str]:
    """The kpi_lib modules (keys of MODULES) an import statement of module `name` imports."""
    if node.level:
        package = (
            [] if name in TOP else name.split(".") if MODULES[name].name == "__init__.py" else name.split(".")[:-1]
        )
        base = package[: len(package) - (node.level - 1)]
    elif (node.module or "").split(".")[0] == "kpi_lib":
        base = []
        node = ast.ImportFrom(
            module=node.module.split(".", 1)[1] if "." in (node.module or "") else None, names=node.names
        )
    else:
        return []
    where = [*base, *node.module.split(".")] if node.module else base
    found = []
    for alias in node.names:
        inner = ".".join([*where, alias.name])
        found.append(inner if inner in MODULES else ".".join(where))
    return [m for m in found if m in MODULES]


def _internal_imports(name: str) -> list[tuple[str, ast.stmt]]:
    """(imported kpi_lib module, the import statement) for every import of the package's own modules that runs."""
    found = []
    tree = _tree(name)
    typing_only = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) not in typing_only and isinstance(node, ast.ImportFrom):
            found.extend((module, node) for module in _resolve(name, node))
    return found


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


def test_every_module_lives_in_its_layer() -> None:
    # Folders are the layers: nothing but the package's own entry points sits beside them.
    loose = [n for n in MODULES if n not in TOP and n.split(".")[0] not in LAYERS]
    assert not loose, f"modules outside a layer package: {loose}"
    assert {n for n in MODULES if "." not in n} == {*LAYERS, *TOP}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_layer_imports_only_the_layers_before_it(name: str) -> None:
    for module, node in _internal_imports(name):
        assert layer_of(module) <= layer_of(name) or module == "", (
            f"{_path(name)}:{node.lineno}: the {LAYERS[layer_of(name)] if layer_of(name) < len(LAYERS) else 'top'} "
            f"layer imports kpi_lib.{module} of a layer above it ({' < '.join(LAYERS)} < cli)"
        )


def test_the_layer_check_sees_imports() -> None:
    # the resolver is what the layer test stands on: a few known edges, relative and absolute
    assert {m for m, _ in _internal_imports("batch.runner")} >= {"base.errors", "audit.trail", "batch.incremental"}
    assert {m for m, _ in _internal_imports("cli")} >= {"batch.runner", "base.errors"}
    assert "scoring.appraisal" in {m for m, _ in _internal_imports("__init__")}


def test_architecture_md_lists_each_layer_as_its_folder_holds_it() -> None:
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for layer in LAYERS:
        row = re.search(rf"^\| `{layer}/` \|([^|]*)\|", text, flags=re.M)
        assert row, f"ARCHITECTURE.md: no row for the {layer}/ layer"
        listed = set(re.findall(r"`(\w+)`", row.group(1)))
        held = {n.split(".")[1] for n in MODULES if n.startswith(layer + ".")}
        assert listed == held, f"ARCHITECTURE.md, {layer}/: lists {sorted(listed)}, the folder holds {sorted(held)}"


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
                f"{_path(name)}:{node.lineno}: imports a kpi_lib module inside a function; import it at the top"
            )
        roots = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for root in (r.split(".")[0] for r in roots):
            assert root in DEFERRED, (
                f"{_path(name)}:{node.lineno}: {root} imported inside a function; move it to the top or list it in DEFERRED with a reason"
            )


OUTPUT_NAMES = re.compile(
    r"""["'](result\.json|manifest\.json|department\.json|error\.txt|signoffs\.jsonl|index\.html|summary\.csv|summary\.xlsx|scorecard\.xlsx|\.staging-|\.kernels\.log)["']"""
)


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"base.layout"}))
def test_output_file_names_live_in_layout(name: str) -> None:
    source = MODULES[name].read_text(encoding="utf-8")
    code = _code_only(source)
    found = OUTPUT_NAMES.findall(code)
    assert not found, f"{_path(name)} spells {sorted(set(found))}: use kpi_lib.base.layout"


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


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"base.files"}))
def test_hashing_lives_in_files(name: str) -> None:
    code = _code_only(MODULES[name].read_text(encoding="utf-8"))
    assert "hashlib" not in code, f"{_path(name)} hashes by itself: use files.sha256_bytes / sha256_file"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_hand_made_html_escaping(name: str) -> None:
    code = _code_only(MODULES[name].read_text(encoding="utf-8"))
    assert "html.escape" not in code and "def h(" not in code, f"{_path(name)} escapes HTML by hand: use pages.render"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_assert_for_runtime_checks(name: str) -> None:
    asserts = [n.lineno for n in ast.walk(_tree(name)) if isinstance(n, ast.Assert)]
    assert not asserts, f"{_path(name)}: assert at lines {asserts}; raise the right KpiError instead"


def test_every_rate_kind_the_template_knows_has_its_function() -> None:
    from kpi_lib.inputs.template import RATE_KINDS
    from kpi_lib.scoring.rates import RATES

    assert set(RATES) == set(RATE_KINDS)


def _private_imports(source: str) -> list[str]:
    """Modules of other packages imported by a private name (`typer._click`, `pandas._libs`): they change unannounced."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] not in ("kpi_lib", "tests") and any(
                p.startswith("_") and not p.startswith("__") for p in parts
            ):
                found.append(f"{node.lineno}: {name}")
    return found


def test_private_import_finder() -> None:
    assert _private_imports("from typer._click.exceptions import X\nimport pandas._libs\nfrom __future__ import a") == [
        "1: typer._click.exceptions",
        "2: pandas._libs",
    ]
    assert _private_imports("from kpi_lib.base import files\nimport typer\nfrom .x import _y") == []


@pytest.mark.parametrize(
    "path", sorted(p for folder in ("kpi_lib", "tests", "benchmarks") for p in (PACKAGE.parent / folder).rglob("*.py"))
)
def test_no_private_modules_of_other_packages(path: Path) -> None:
    found = _private_imports(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.relative_to(PACKAGE.parent)} imports private modules: {found}; use the package's public API"
    )


# Users have the package, its docs and this repository; the contract it was built to lives elsewhere. Nothing they
# read (code and its docstrings, which the reference and `--help` show, data files, the project's documents) names it.
READ_BY_USERS = sorted(
    p
    for pattern in ("kpi_lib/**/*", "*.md", "Makefile", "pyproject.toml", "examples/**/*", "notebooks/*.ipynb")
    for p in PACKAGE.parent.glob(pattern)
    if p.is_file() and "__pycache__" not in p.parts and p.name != "CHANGELOG.md"
)


@pytest.mark.parametrize("path", READ_BY_USERS, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_nothing_users_read_points_at_a_file_they_do_not_have(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    found = [n for n, line in enumerate(text.splitlines(), 1) if re.search(r"\bSPEC\b|SPEC\.md", line)]
    assert not found, f"{path.relative_to(PACKAGE.parent)}: lines {found} point at SPEC, which users do not have"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_relative_imports_name_real_modules(name: str) -> None:
    # `from . import executed` in kpi_lib/notebook.py would still work through the package's lazy `__getattr__`,
    # hiding where the module lives (and from the layer check): every relative import names a module or a package.
    for node in ast.walk(_tree(name)):
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        for alias in node.names:
            if node.module is None and alias.name == "__version__":
                continue
            package = (
                [] if name in TOP else name.split(".")[: len(name.split(".")) - (MODULES[name].name != "__init__.py")]
            )
            where = [*package[: len(package) - (node.level - 1)], *(node.module.split(".") if node.module else [])]
            target = ".".join(where) if node.module else ".".join([*where, alias.name])
            assert target in MODULES, f"{_path(name)}:{node.lineno}: `{alias.name}` is no module at kpi_lib.{target}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_ones_private_names(name: str) -> None:
    # a name with a leading underscore is its module's own business: make it public where another module needs it
    private = [
        f"{node.lineno}: {alias.name}"
        for node in ast.walk(_tree(name))
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("kpi_lib"))
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert not private, f"{_path(name)} imports private names of other modules: {private}"
