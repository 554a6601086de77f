"""JSON Schemas of the files people write: params, company and template files (`kpi schema`).

Editors that speak the YAML language server (VS Code's YAML extension, JetBrains,
Neovim …) complete and check keys from a schema named on a file's first line:

    # yaml-language-server: $schema=../schemas/params.schema.json

`kpi demo` and `kpi init` write the three schemas into `schemas/` of the company
folder (`write_schemas`) and start each YAML file they write with that line
(`schema_line`), its path relative to the file, so the line works wherever the
folder is moved.

The schemas come from the models that read the files, so they never drift:

- params: `params.Params` (pydantic's `model_json_schema()`), plus `company`,
  the one key `load_params` reads before the model; `department` is required,
  and `data` and `indicators` unless a company file gives them; no key of an
  indicator is required (a company file may give some, the department the rest:
  `kpi validate` checks the merged whole);
- company: the same keys without a department's own (`company.NOT_IN_COMPANY`),
  none required;
- template: `TemplateFile` below, the shape `template.load_template` reads (a
  test checks that the packaged templates fit it). The loader's own checks (an
  indicator's rate, its table's columns) go further than a schema can say.

A schema file holds `SCHEMA_COMMENT` under `$comment`: a file there with that
comment was written by kpi and is replaced when the schema changes (a newer
pydantic, a new key); any other file of that name is refused (see `ours`).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..base.files import json_text
from .company import NOT_IN_COMPANY
from .params import Params

KINDS = ("params", "company", "template")
FOLDER = "schemas"  # in the company folder, beside params/ and data/
SCHEMA_COMMENT = "Written by kpi (kpi schema {kind}); kpi demo and kpi init write it again when it changes."
LINE_PREFIX = "# yaml-language-server: $schema="


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Words(BaseModel):
    """A text in both languages of the reports."""

    model_config = ConfigDict(extra="forbid")
    zh: str = Field(description="Chinese")
    en: str = Field(description="English")


class ColumnSpec(BaseModel):
    """One column of an input table: its type, its Chinese header, whether a value must be there."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["str", "date", "timestamp", "bool", "decimal", "int", "period"]
    zh: str = Field(default="", description="the Chinese header accepted in files, beside the column's own name")
    required: bool = Field(default=False, description="every row must hold a value")
    optional: bool = Field(default=False, description="the whole column may be absent from a file")
    min: float | None = Field(default=None, description="inclusive lower bound of a number")
    max: float | None = Field(default=None, description="inclusive upper bound of a number")


class TableFile(BaseModel):
    """One input table: its label, its columns, the columns whose values are unique."""

    model_config = ConfigDict(extra="forbid")
    label: Words
    key: list[str] = Field(default=[], description="columns whose values together are unique")
    order: list[list[str]] = Field(default=[], description="[earlier, later] column pairs never reversed in a row")
    columns: dict[str, ColumnSpec]


class RateFile(_Open):
    """How an indicator's value is computed: a rate kind, the table it reads, the columns it uses."""

    kind: str = Field(description="a rate kind: on_time, done_share, score_share, quantity_ratio, …")
    table: str = Field(description="the input table the rate reads")
    filter: dict[str, Any] = Field(default={}, description="keep the rows whose column equals the value")


class IndicatorFile(_Open):
    """One indicator: the seed's 13 columns, its direction and its rate."""

    id: str
    group: str
    name: Words
    statement: Words
    target_text: Words
    direction: Literal["higher", "lower", "count"]
    weight: str = Field(description="the seed's text, e.g. ×%; each department's params give the number")
    rule: Words
    collector: Words
    source: Words
    schedule: str = Field(description="when the evidence is collected, e.g. monthly_last_workday")
    schedule_text: Words
    methods: list[str]
    prerequisites: list[str] = Field(default=[], description="params keys that must be set, e.g. sla")
    prerequisites_text: Words | None = None
    resources: Words | None = None
    formula: Words
    rate: RateFile


class SignRoleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    zh: str
    en: str


class TemplateFile(_Open):
    """A KPI template: the indicators, their groups and methods, the input tables they read, who signs."""

    id: str
    name: Words
    source_document: str = ""
    signoff: list[SignRoleFile] = Field(default=[], description="who signs, in order (default: the seed's two roles)")
    groups: dict[str, Words]
    methods: dict[str, Words]
    tables: dict[str, TableFile]
    indicators: list[IndicatorFile]


def _comment(document: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"$comment": SCHEMA_COMMENT.format(kind=kind), **document}


BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}
DECIMAL_TEXT = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$"  # a number written as a string (`"2.5"`): kpi reads it exactly


def _json_bounds(node: Any) -> Any:
    """pydantic writes a bound on a union (a number or its text) as its own `gt`/`ge` beside `anyOf`, which JSON
    Schema does not know: an editor would take `step: 0` for valid. The bound goes onto the number branch, where it
    means what kpi checks; a string branch gets the shape of a decimal number (its bound is kpi's to say)."""
    if isinstance(node, list):
        return [_json_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_bounds(value) for key, value in node.items()}
    bounds = {BOUNDS[key]: node.pop(key) for key in list(node) if key in BOUNDS}
    branches = node.get("anyOf", [])
    for branch in branches:
        if branch.get("type") == "number":
            branch.update(bounds)
        elif branch.get("type") == "string" and any(b.get("type") == "number" for b in branches):
            branch.setdefault("pattern", DECIMAL_TEXT)
    return node


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a `kind` file (params, company or template); `ValueError` for another kind."""
    if kind == "template":
        return _comment(_json_bounds(TemplateFile.model_json_schema()), kind)
    base = _json_bounds(Params.model_json_schema())
    # An indicator's keys may come from both files (the company gives sla, the department weight): none required here.
    base["$defs"]["IndicatorParams"].pop("required", None)
    if kind == "params":
        document = copy.deepcopy(base)
        document["title"] = "Params"
        document["properties"]["company"] = {
            "description": "the company file whose keys this department shares, relative to this file's folder",
            "title": "Company",
            "type": "string",
        }
        document["required"] = ["department"]
        document["anyOf"] = [{"required": ["company"]}, {"required": ["data", "indicators"]}]
        return _comment(document, kind)
    if kind == "company":
        document = copy.deepcopy(base)
        document["title"] = "CompanyFile"
        for key in NOT_IN_COMPANY:
            document["properties"].pop(key, None)
        document.pop("required", None)
        return _comment(document, kind)
    raise ValueError(f"{kind!r}: expected one of {', '.join(KINDS)}")


def schema_text(kind: str) -> str:
    """The schema as `kpi schema` prints it and `write_schemas` writes it."""
    return json_text(schema(kind))


def file_name(kind: str) -> str:
    return f"{kind}.schema.json"


def schema_line(kind: str, yaml_file: Path, root: Path) -> str:
    """The first line of a YAML file at `yaml_file` naming `root/schemas/<kind>.schema.json`, relative to the file."""
    target = root / FOLDER / file_name(kind)
    relative = Path(os.path.relpath(target.resolve(), yaml_file.resolve().parent)).as_posix()
    return f"{LINE_PREFIX}{relative}\n"


def ours(held: bytes) -> bool:
    """A schema file kpi wrote (any version of it): JSON whose `$comment` is `SCHEMA_COMMENT` of its kind."""
    try:
        document = json.loads(held.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(document, dict) and document.get("$comment") in {SCHEMA_COMMENT.format(kind=k) for k in KINDS}


def schema_files(root: Path) -> dict[Path, str]:
    """The schema files of a company folder at `root` and their text."""
    return {root / FOLDER / file_name(kind): schema_text(kind) for kind in KINDS}


__all__ = [
    "FOLDER",
    "KINDS",
    "LINE_PREFIX",
    "TemplateFile",
    "file_name",
    "ours",
    "schema",
    "schema_files",
    "schema_line",
    "schema_text",
]
