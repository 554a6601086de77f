"""The documentation: its Reference pages list every key, table, command, problem code and output file the
code has (so a new one without words fails here), nothing user-facing names a file users do not have, the
README routes into the docs, and the site loads nothing from the network.

`make docs` and `make test` build the site itself with `mkdocs build --strict` (a broken link or a missing
page fails there); these tests check what that build is made of, in milliseconds.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from pydantic import BaseModel

from kpi_lib.base import layout
from kpi_lib.base.errors import Code
from kpi_lib.cli import app
from kpi_lib.inputs.company import NOT_IN_COMPANY
from kpi_lib.inputs.params import Params
from kpi_lib.inputs.template import Column, Indicator, RateSpec, TableSpec, template_path
from tests.conftest import kpi

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
HOOKS = DOCS / "hooks"


def _hook(name: str) -> types.ModuleType:
    """A MkDocs hook of docs/hooks/ as a module (MkDocs loads them by path, not as a package)."""
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", HOOKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


reference = _hook("reference")
offline = _hook("offline")


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return typing.cast(dict[str, str], reference.pages())


def _rows(markdown: str) -> list[str]:
    """The first cells of a page's table rows: `| `key` | …` → key."""
    return re.findall(r"^\| `([^`]+)` \|", markdown, re.MULTILINE)


def _section(markdown: str, heading: str) -> str:
    start = markdown.index(heading)
    end = markdown.find("\n## ", start + len(heading))
    return markdown[start : end if end >= 0 else None]


# -- every key of every file -----------------------------------------------------------------------------------


def _model_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key a pydantic model accepts, read from its fields (not from its JSON Schema, as the page is)."""
    paths = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.add(path)
        for kind in _models_in(info.annotation):
            origin = typing.get_origin(info.annotation)
            args = typing.get_args(info.annotation)
            if origin is dict:
                paths |= _model_paths(kind, f"{path}.<{_placeholder(name)}>.")
            elif origin is tuple or (args and typing.get_origin(args[0]) is tuple):
                paths |= _model_paths(kind, f"{path}[].")
            else:
                paths |= _model_paths(kind, f"{path}.")
    return paths


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _placeholder(name: str) -> str:
    return {"indicators": "indicator", "tables": "table"}[name]


def test_the_params_reference_lists_every_key_the_params_model_accepts(pages: dict[str, str]) -> None:
    listed = set(_rows(_section(pages["reference/params.md"], "## Params file")))
    accepted = _model_paths(Params) | {"company"}  # `company` is read before the model (kpi_lib.inputs.company)
    assert listed == accepted


def test_the_company_reference_lists_every_key_a_company_file_accepts(pages: dict[str, str]) -> None:
    section = _section(pages["reference/params.md"], "## Company file")
    listed = set(re.findall(r"`([a-z_]+)`", section.split("Accepted top-level keys:")[1]))
    assert listed == set(Params.model_fields) - set(NOT_IN_COMPANY)


def _yaml_paths(node: Any, prefix: str = "") -> set[str]:
    """The keys a template file writes, named as the reference names them (`indicators[].rate.kind` …)."""
    paths: set[str] = set()
    if isinstance(node, list):
        for item in node:
            paths |= _yaml_paths(item, prefix.rstrip(".") + "[].")
        return paths
    if not isinstance(node, dict) or set(node) == {"zh", "en"} and prefix.rstrip(".").split(".")[-1] != "signoff[]":
        return paths
    for key, value in node.items():
        path = f"{prefix}{key}"
        paths.add(path)
        if key in ("groups", "methods", "collectors", "filter"):
            continue  # free names, each a text or a value
        if key in ("tables", "columns"):
            name = "<table>" if key == "tables" else "<column>"
            for entry in value.values():
                paths |= _yaml_paths(entry, f"{path}.{name}.")
        else:
            paths |= _yaml_paths(value, f"{path}.")
    return paths


def test_the_template_reference_lists_every_key_of_the_packaged_template(pages: dict[str, str]) -> None:
    listed = set(_rows(_section(pages["reference/params.md"], "## Template file")))
    written = yaml.safe_load(template_path("customer_service").read_text(encoding="utf-8"))
    assert _yaml_paths(written) - {"signoff[]", "indicators[]"} <= listed


@pytest.mark.parametrize(
    ("fields_of", "prefix", "renamed"),
    [
        (Indicator, "indicators[].", {}),
        (RateSpec, "indicators[].rate.", {}),
        (TableSpec, "tables.<table>.", {"name": None}),
        (Column, "tables.<table>.columns.<column>.", {"name": None, "alias": "zh"}),
    ],
    ids=["indicator", "rate", "table", "column"],
)
def test_the_template_reference_lists_every_field_the_template_loader_fills(
    pages: dict[str, str], fields_of: type, prefix: str, renamed: dict[str, str | None]
) -> None:
    listed = set(_rows(_section(pages["reference/params.md"], "## Template file")))
    expected = {
        f"{prefix}{renamed.get(f.name, f.name)}" for f in fields(fields_of) if renamed.get(f.name, "") is not None
    }
    assert expected <= listed


@pytest.mark.parametrize("kind", ["params", "template"])
def test_every_key_has_words_and_no_words_name_a_key_that_is_gone(kind: str) -> None:
    keys = [key.path for key in reference.keys_of(kind)]
    words = reference.key_words()[kind]
    assert sorted(set(keys) - set(words)) == [], "keys without words in docs/hooks/keys.yaml"
    assert sorted(set(words) - set(keys)) == [], "words in docs/hooks/keys.yaml for keys the files no longer take"
    assert [k for k in keys if not words[k].get("meaning") or not words[k].get("example")] == []


def test_a_required_key_shows_as_required_and_a_default_as_its_value(pages: dict[str, str]) -> None:
    page = pages["reference/params.md"]
    assert re.search(r"^\| `department` \| text<br>\*\*required\*\*", page, re.MULTILINE)
    assert re.search(
        r"^\| `policy\.step_rounding` \| one of `floor`, `ceil`, `exact`<br>default `floor`", page, re.MULTILINE
    )
    assert re.search(r"^\| `indicators\.<indicator>\.bonus` \| number<br>default `0`", page, re.MULTILINE)


# -- tables, commands, problem codes, outputs ------------------------------------------------------------------


def test_the_tables_reference_lists_every_table_and_column_of_the_packaged_template(pages: dict[str, str]) -> None:
    page = pages["reference/tables.md"]
    written = yaml.safe_load(template_path("customer_service").read_text(encoding="utf-8"))
    for table, spec in written["tables"].items():
        section = _section(page, f"## `{table}`")
        assert set(_rows(section)) == set(spec["columns"]), table


def _command_names() -> list[str]:
    """Every command as `kpi --help` and each group's `--help` list them (the text a user sees)."""
    names = []

    def visit(*group: str) -> None:
        done = kpi(*group, "--help", in_process=True)
        assert done.returncode == 0, done.stderr
        listed = done.stdout.split("Commands:")[1] if "Commands:" in done.stdout else ""
        for name in re.findall(r"^  ([a-z][a-z-]*)\s", listed, re.MULTILINE):
            before = len(names)
            sub = kpi(*group, name, "--help", in_process=True).stdout
            if "Commands:" in sub:
                visit(*group, name)
            if len(names) == before:
                names.append(" ".join(["kpi", *group, name]))

    visit()
    return names


def test_the_commands_reference_lists_every_command_and_option(pages: dict[str, str]) -> None:
    page = pages["reference/commands.md"]
    names = _command_names()
    assert "kpi score" in names and "kpi template import" in names
    assert re.findall(r"^## `(kpi [^`]+)`", page, re.MULTILINE) == names
    root = typer.main.get_command(app)
    for name in names:
        command, ctx = root, root.context_class(root, info_name="kpi")
        for part in name.split()[1:]:
            command = command.get_command(ctx, part)
            ctx = command.context_class(command, info_name=part, parent=ctx)
        section = _section(page, f"## `{name}`")
        for param in command.params:
            shown = (
                [f"`{param.name.upper()}`"] if param.param_type_name == "argument" else [f"`{o}`" for o in param.opts]
            )
            assert all(s in section for s in shown), (name, param.name)


def test_the_problem_codes_page_lists_every_code_with_its_meaning(pages: dict[str, str]) -> None:
    page = pages["reference/problems.md"]
    assert _rows(page) == [code.value for code in Code]
    for code in Code:
        assert reference._prose(code.meaning) in page


def test_the_output_tree_names_every_file_of_the_layout_with_words() -> None:
    names = reference.layout_names()
    assert set(names) == set(reference.key_words()["outputs"]), "layout names without words (or words for none)"
    assert {"RESULT", "MANIFEST", "INDEX", "SUMMARY_CSV", "SIGNOFFS"} <= set(names)
    assert names["RESULT"] == layout.RESULT


# -- words users see -------------------------------------------------------------------------------------------

# ARCHITECTURE.md is a page of the site too (docs/architecture.md includes it).
USER_FILES = sorted(
    [ROOT / "README.md", ROOT / "ARCHITECTURE.md", ROOT / "mkdocs.yml", *DOCS.rglob("*.md"), HOOKS / "keys.yaml"]
)


@pytest.mark.parametrize("path", USER_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_user_facing_file_points_at_the_specification(path: Path) -> None:
    """Users never have the project's specification: the docs say it in their own words."""
    assert "SPEC" not in path.read_text(encoding="utf-8")


def test_no_generated_page_or_help_text_points_at_the_specification(pages: dict[str, str]) -> None:
    assert [uri for uri, text in pages.items() if "SPEC" in text] == []
    helps = [kpi(*name.split()[1:], "--help", in_process=True).stdout for name in _command_names()]
    assert [h.splitlines()[0] for h in helps if "SPEC" in h] == []


def test_the_readme_is_short_shows_the_two_commands_first_and_routes_into_the_docs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    first_block = text.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    relative = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert {"docs/index.md", "docs/tutorial.md", "docs/concepts.md", "docs/audit.md", "docs/operations.md"} <= set(
        relative
    )
    assert [link for link in relative if not (ROOT / link).is_file()] == []
    picture = ROOT / "docs" / "images" / "scorecard.png"
    assert "docs/images/scorecard.png" in relative and picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- the site works offline ------------------------------------------------------------------------------------


def test_the_site_is_configured_to_work_offline() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["theme"]["name"] == "material" and config["theme"]["font"] is False
    assert "offline" in config["plugins"] and config["strict"] is True and config["use_directory_urls"] is False
    assert {"docs/hooks/reference.py", "docs/hooks/offline.py"} <= {h.split()[0] for h in config["hooks"]}
    assert all("iframe-worker" in p and not re.match(r"(https?:)?//", p) for p in config["extra"]["polyfills"])
    nav = yaml.safe_dump(config["nav"])
    pages_on_disk = {str(p.relative_to(DOCS)) for p in DOCS.glob("*.md")}
    assert {p for p in pages_on_disk if p not in nav} == set()
    assert {f"reference/{name}.md" for name in reference.PAGES} <= set(re.findall(r"reference/\w+\.md", nav))


@pytest.mark.parametrize(
    ("text", "css", "remote"),
    [
        ('<script src="https://unpkg.com/iframe-worker/shim"></script>', False, True),
        ("<script src='//cdn.example/x.js'></script>", False, True),
        ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">', False, True),
        ('<link href="https://fonts.gstatic.com" rel="preconnect">', False, True),
        ('<img alt="" src="http://example.com/a.png">', False, True),
        ('<style>@import url("https://example.com/a.css");</style>', False, True),
        ("body {background: url(https://example.com/a.png)}", True, True),
        ('@import "//example.com/a.css";', True, True),
        ('<a href="https://pypi.org/project/holidays/">holidays</a>', False, False),
        ('<link rel="canonical" href="https://example.com/">', False, False),
        ('<script src="javascripts/iframe-worker.js"></script>', False, False),
        ('<link rel="stylesheet" href="../stylesheets/extra.css">', False, False),
        ('@font-face {src: url(data:font/woff2;base64,AAAA) format("woff2")}', True, False),
    ],
)
def test_the_offline_check_finds_what_a_page_would_load_from_the_network(text: str, css: bool, remote: bool) -> None:
    assert bool(offline.remote_resources(text, css=css)) is remote


def _recipe(target: str) -> list[str]:
    """The command lines of a Makefile target."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    body = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n)+)", text, re.MULTILINE)
    assert body is not None, f"no target {target} in the Makefile"
    return [line.strip() for line in body.group(1).splitlines()]


def test_make_test_builds_the_site_strictly_before_the_tests_and_make_docs_builds_it() -> None:
    """A broken link or a missing page fails `make test` (the site is built once, not again by a test)."""
    steps = _recipe("test")
    build = [i for i, line in enumerate(steps) if "mkdocs build" in line and "--strict" in line]
    tests = [i for i, line in enumerate(steps) if "pytest" in line]
    assert build and tests and build[0] < tests[0], steps
    assert any("mkdocs build" in line and "--strict" in line for line in _recipe("docs"))
