"""`kpi schema`: JSON Schemas from the models, the files that name them, and the schemas committed beside params/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kpi_lib.base import yamlfile
from kpi_lib.inputs.company import NOT_IN_COMPANY
from kpi_lib.inputs.params import Params
from kpi_lib.inputs.schemas import KINDS, LINE_PREFIX, TemplateFile, schema, schema_files
from kpi_lib.inputs.template import template_path

from .conftest import kpi

ROOT = Path(__file__).resolve().parent.parent


def _document(path: Path) -> Any:
    """A YAML file as JSON Schema sees it: numbers as numbers, dates as text (what an editor's YAML server reads)."""
    return json.loads(json.dumps(yamlfile.load(path.read_text(encoding="utf-8")), default=str))


def _numbers(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: _numbers(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_numbers(v) for v in document]
    if isinstance(document, str):
        try:
            return float(document) if document.replace(".", "", 1).lstrip("-").isdigit() else document
        except ValueError:
            return document
    return document


@pytest.mark.parametrize("kind", KINDS)
def test_kpi_schema_prints_the_schema(kind: str) -> None:
    result = kpi("schema", kind, in_process=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == schema(kind)
    jsonschema.Draft202012Validator.check_schema(json.loads(result.stdout))


def test_kpi_schema_refuses_another_kind() -> None:
    result = kpi("schema", "department", in_process=True)
    assert (result.returncode, result.stderr) == (
        2,
        "kpi: 'department': expected one of params, company, template; see 'kpi schema --help'\n",
    )


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        ("params", {*Params.model_fields, "company"}),
        ("company", set(Params.model_fields) - set(NOT_IN_COMPANY)),
    ],
)
def test_the_schema_has_every_key_the_model_accepts(kind: str, keys: set[str]) -> None:
    document = schema(kind)
    assert set(document["properties"]) == keys
    assert document["additionalProperties"] is False


@pytest.mark.parametrize(
    ("kind", "document", "valid"),
    [
        ("params", {"department": "d", "company": "../company.yaml"}, True),
        ("params", {"department": "d", "data": "data", "indicators": {}}, True),
        ("params", {"department": "d", "data": "data"}, False),  # no company file: indicators needed
        ("params", {"data": "data", "indicators": {}, "company": "c.yaml"}, False),  # no department
        ("params", {"department": "d", "company": "c.yaml", "colour": "red"}, False),  # unknown key
        ("company", {"data": "data", "suggested": {"tables.complaints": "from tickets.csv"}}, True),
        ("company", {"department": "d"}, False),  # a department's own key
        ("company", {"indicators": {"CS04": {"sla": "24h", "step": 1}}}, True),  # the weight is the department's
        ("params", {"department": "d", "company": "c.yaml", "indicators": {"CS04": {"weight": 8}}}, True),
        ("params", {"department": "d", "company": "c.yaml", "indicators": {"CS04": {"wieght": 8}}}, False),
        ("company", {"policy": {"step_rounding": "sometimes"}}, False),
        # bounds kpi checks hold in an editor too: on a number, and a number written as text has a number's shape
        ("company", {"indicators": {"CS04": {"step": 0}}}, False),
        ("company", {"indicators": {"CS04": {"step": 0.5}}}, True),
        ("company", {"indicators": {"CS04": {"penalty": -2}}}, False),
        ("company", {"indicators": {"CS04": {"penalty": 0}}}, True),
        ("params", {"department": "d", "company": "c.yaml", "indicators": {"CS04": {"weight": "five"}}}, False),
        ("params", {"department": "d", "company": "c.yaml", "indicators": {"CS04": {"weight": "8.5"}}}, True),
        ("params", {"department": "d", "company": "c.yaml", "indicators": {"CS04": {"target": "90%"}}}, False),
    ],
)
def test_the_schemas_accept_and_refuse_like_the_files(kind: str, document: dict[str, Any], valid: bool) -> None:
    errors = list(jsonschema.Draft202012Validator(schema(kind)).iter_errors(document))
    assert (errors == []) is valid, errors


def test_the_packaged_template_fits_the_template_model_and_schema() -> None:
    path = template_path("customer_service")
    loaded = TemplateFile.model_validate(yamlfile.load(path.read_text(encoding="utf-8")))
    assert set(loaded.model_extra or {}) == {"collectors"}  # documented in the file, not read by the loader
    assert all(not ind.model_extra for ind in loaded.indicators)
    jsonschema.validate(_numbers(_document(path)), schema("template"))


def test_demo_and_init_files_name_their_schema_and_fit_it(demo_dir: Path, tmp_path: Path) -> None:
    assert kpi("init", str(tmp_path / "acme"), in_process=True).returncode == 0
    files = [(p, "params") for p in sorted((demo_dir / "params").glob("*.yaml"))] + [
        (tmp_path / "acme" / "company.yaml", "company"),
        (tmp_path / "acme" / "params" / "my-department.yaml", "params"),
    ]
    for path, kind in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"{LINE_PREFIX}{'' if kind == 'company' else '../'}schemas/{kind}.schema.json", path
        named = json.loads((path.parent / first.removeprefix(LINE_PREFIX)).read_text(encoding="utf-8"))
        assert named == schema(kind)
        jsonschema.validate(_document(path), named)


def test_the_committed_schemas_are_the_models_own() -> None:
    """The repository's schemas/ (named by params/*.yaml) is what `make demo` writes; after a change to a model,
    `kpi demo --out .` writes it again."""
    for path, text in schema_files(ROOT).items():
        assert path.read_text(encoding="utf-8") == text, f"{path}: out of date; run kpi demo --out ."
