"""The Reference pages of the documentation, generated from the code each time the site is built.

MkDocs runs this file as a hook (`hooks:` in mkdocs.yml): `on_files` adds the pages below
to the site, so they never drift from the code they describe:

    reference/params.md     every key of a params file, a company file and a template file
                            (type, default, example, meaning), from the pydantic models' JSON
                            Schema and the template loader's own names
    reference/tables.md     every input table and column of the packaged template
    reference/commands.md   every `kpi` command and option, walked from the typer app
    reference/problems.md   every problem code with its meaning (`Code`)
    reference/outputs.md    the output tree: every file and folder name of the layout module

The words about each key live in `keys.yaml` beside this file; tests/test_docs.py fails
when a key the models accept has no words there (or words name a key that is gone).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import typer.main
import yaml

from kpi_lib.base import layout
from kpi_lib.base.errors import Code
from kpi_lib.batch.demo import write_demo
from kpi_lib.cli import app
from kpi_lib.inputs.company import NOT_IN_COMPANY
from kpi_lib.inputs.params import Params
from kpi_lib.inputs.template import (
    COLUMN_TYPES,
    DIRECTIONS,
    METHODS,
    RATE_COLUMNS,
    RATE_KINDS,
    SCHEDULES,
    Column,
    Indicator,
    RateSpec,
    TableSpec,
    load_template,
)

HERE = Path(__file__).parent
# The indicator keys the template loader asks for (`need`, and weight, methods and rate checked on their own).
INDICATOR_REQUIRED = (
    "id",
    "group",
    "name",
    "statement",
    "direction",
    "weight",
    "rule",
    "schedule",
    "methods",
    "formula",
    "rate",
)
KEYS = HERE / "keys.yaml"
PAGES = ("params", "tables", "commands", "problems", "outputs")

# -- JSON Schemas ------------------------------------------------------------------------------------------------


def _text_schema() -> dict[str, Any]:
    """A text of the template: one string for both languages, or `{zh: …, en: …}`."""
    return {
        "anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}},
        ],
        "x-bilingual": True,
    }


def template_schema() -> dict[str, Any]:
    """The keys the template loader (`kpi_lib.inputs.template.load_template`) reads, as a JSON Schema.

    Built from the loader's own names (its dataclasses' fields and its lists of directions,
    methods, column types, schedules and rate kinds), so a field added there shows here."""
    text = _text_schema()
    # Indicator fields that are bilingual texts (Text) in the dataclass.
    texts = {f.name for f in fields(Indicator) if f.type in ("Text", "'Text'")}
    indicator: dict[str, Any] = {}
    for f in fields(Indicator):
        if f.name in texts:
            indicator[f.name] = text
        elif f.name == "direction":
            indicator[f.name] = {"enum": list(DIRECTIONS)}
        elif f.name == "schedule":
            indicator[f.name] = {"enum": list(SCHEDULES)}
        elif f.name == "methods":
            indicator[f.name] = {"type": "array", "items": {"enum": list(METHODS)}}
        elif f.name == "prerequisites":
            indicator[f.name] = {"type": "array", "items": {"type": "string"}}
        elif f.name == "rate":
            rate: dict[str, Any] = {
                "kind": {"enum": list(RATE_KINDS)},
                "table": {"type": "string"},
                "filter": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
            }
            rate |= {name: {"type": "string"} for name in RATE_COLUMNS}
            _same_keys("rate", set(rate), {f.name for f in fields(RateSpec)})
            indicator[f.name] = {"type": "object", "properties": rate, "required": ["kind", "table"]}
        else:
            indicator[f.name] = {"type": "string"}
    column = {  # Column's fields, as the YAML spells them (`alias` is written `zh`; `name` is the mapping's key)
        ("zh" if f.name == "alias" else f.name): (
            {"enum": list(COLUMN_TYPES), "default": "str"}
            if f.name == "type"
            else {"type": "boolean", "default": False}
            if f.type in ("bool", "'bool'")
            else {"type": "number"}
            if f.name in ("min", "max")
            else {"type": "string"}
        )
        for f in fields(Column)
        if f.name != "name"
    }
    table = {
        "label": text,
        "columns": {"type": "object", "additionalProperties": {"type": "object", "properties": column}},
        "key": {"type": "array", "items": {"type": "string"}},
        "order": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
    }
    _same_keys("table", set(table), {f.name for f in fields(TableSpec)} - {"name"})
    return {
        "title": "kpi-appraisal template",
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": text,
            "source_document": {"type": "string"},
            "signoff": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "zh": {"type": "string"}, "en": {"type": "string"}},
                },
            },
            "groups": {"type": "object", "additionalProperties": text},
            "methods": {"type": "object", "additionalProperties": text},
            "collectors": {"type": "object", "additionalProperties": text},
            "tables": {"type": "object", "additionalProperties": {"type": "object", "properties": table}},
            "indicators": {
                "type": "array",
                "items": {"type": "object", "properties": indicator, "required": list(INDICATOR_REQUIRED)},
            },
        },
        "required": ["groups", "tables", "indicators"],
    }


def _same_keys(what: str, described: set[str], loaded: set[str]) -> None:
    """Stop the build when the template loader fills a field this schema does not describe (or the reverse)."""
    if described != loaded:
        raise ValueError(
            f"template {what}: the reference describes {sorted(described)}, the loader fills {sorted(loaded)}"
        )


def params_schema() -> dict[str, Any]:
    """A params file's keys: the `Params` model's JSON Schema, plus `company` (read before the model)."""
    schema = Params.model_json_schema()
    schema["properties"] = {"company": {"type": "string"}, **schema["properties"]}
    return schema


def company_schema() -> dict[str, Any]:
    """A company file's keys: every params key but a department's own (`NOT_IN_COMPANY`), none required."""
    schema = params_schema()
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in NOT_IN_COMPANY}
    schema["required"] = []
    return schema


SCHEMAS = {"params": params_schema, "company": company_schema, "template": template_schema}

# -- walking a schema into rows ----------------------------------------------------------------------------------

# What each free-named mapping key stands for in a key's path.
PLACEHOLDERS = {
    "indicators": "<indicator>",
    "tables": "<table>",
    "periods": "<period>",
    "columns": "<column>",
    "values": "<column>",
    "formats": "<column>",
    "constants": "<column>",
    "exclude": "<key>",
    "groups": "<group>",
    "methods": "<method>",
    "collectors": "<collector>",
    "filter": "<column>",
    "options": "<name>",
}


@dataclass(frozen=True)
class Key:
    path: str  # policy.step_rounding, indicators.<indicator>.weight, grades[].min
    type: str
    default: str  # "required", "—" (optional, no default) or the default as YAML
    top: str  # the top-level key it belongs to


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _options(node: Mapping[str, Any], root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    node = _resolve(node, root)
    if "anyOf" in node:
        return [o for sub in node["anyOf"] for o in _options(sub, root) if o.get("type") != "null"]
    return [node]


def type_words(node: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    """A schema node's type in words: number, text, date, one of `a`, `b`, list of …, mapping of … → …"""
    if _resolve(node, root).get("x-bilingual"):
        return "text, or `{zh: …, en: …}`"
    options = _options(node, root)
    kinds = {o.get("type") if isinstance(o.get("type"), str) else None for o in options}
    if kinds == {"number", "string"}:  # exact decimals: a YAML number (or its text)
        return "number"
    words = []
    for o in options:
        if "enum" in o:
            words.append("one of " + ", ".join(f"`{v}`" for v in o["enum"]))
        elif o.get("type") == "array":
            words.append("list of " + type_words(o.get("items", {}), root))
        elif o.get("type") == "object" and "properties" in o:
            words.append("mapping")
        elif o.get("type") == "object":
            extra = o.get("additionalProperties", True)
            words.append("mapping" if extra is True else f"mapping of names to {type_words(extra, root)}")
        elif isinstance(o.get("type"), list):
            words.append(" or ".join(_SCALAR.get(t, t) for t in o["type"]))
        elif o.get("format") == "date":
            words.append("date")
        else:
            words.append(_SCALAR.get(o.get("type", ""), "any value"))
    return " or ".join(dict.fromkeys(words))


_SCALAR = {"string": "text", "integer": "whole number", "number": "number", "boolean": "true or false", "": "any value"}


def _default(name: str, node: Mapping[str, Any], parent: Mapping[str, Any]) -> str:
    if name in parent.get("required", ()):
        return "required"
    if "default" not in node:
        return "—"
    value = node["default"]
    if value is None or value in ({}, [], ""):
        return "—"
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text.strip('"') if isinstance(value, str) else text


def walk(schema: Mapping[str, Any]) -> list[Key]:
    """Every key a file of this schema accepts, depth first, in the model's order."""
    return list(_walk(schema, schema, "", ""))


def _walk(node: Mapping[str, Any], root: Mapping[str, Any], prefix: str, top: str) -> Iterator[Key]:
    node = _resolve(node, root)
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield Key(path, type_words(sub, root), _default(name, sub, node), top or name)
        yield from _children(sub, root, path, name, top or name)


def _children(sub: Mapping[str, Any], root: Mapping[str, Any], path: str, name: str, top: str) -> Iterator[Key]:
    if _resolve(sub, root).get("x-bilingual"):
        return
    for option in _options(sub, root):
        if option.get("type") == "object" and "properties" in option:
            yield from _walk(option, root, f"{path}.", top)
        elif option.get("type") == "object" and isinstance(option.get("additionalProperties"), dict):
            inner = _resolve(option["additionalProperties"], root)
            if "properties" in inner:
                yield from _walk(inner, root, f"{path}.{PLACEHOLDERS.get(name, '<name>')}.", top)
        elif option.get("type") == "array":
            inner = _resolve(option.get("items", {}), root)
            if "properties" in inner:
                yield from _walk(inner, root, f"{path}[].", top)


def keys_of(kind: str) -> list[Key]:
    return walk(SCHEMAS[kind]())


def key_words() -> dict[str, dict[str, dict[str, str]]]:
    """keys.yaml: for params and template, each key's path → {meaning, example} (every value as written: text)."""
    with KEYS.open(encoding="utf-8") as fh:
        data: dict[str, dict[str, dict[str, str]]] = yaml.load(fh, Loader=yaml.BaseLoader)  # examples as written
    return data


# -- pages --------------------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text for inside a table cell's code span: one line, no column bar."""
    return text.replace("|", "\\|").replace("\n", " ")


def _prose(text: str) -> str:
    """Text from the code for a table cell or paragraph: markup characters shown as written outside its code spans
    (`outputs/<period>/` is not an HTML tag)."""
    parts = _cell(text).split("`")
    for i in range(0, len(parts), 2):  # outside the backticks
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")
    return "`".join(parts)


def _example(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"`{_cell(text)}`" if text else ""


def _key_table(kind: str, words: Mapping[str, Mapping[str, str]]) -> list[str]:
    """One row per key: the key, its type and default, its meaning with an example."""
    lines = ["| key | type | meaning |", "|---|---|---|"]
    for key in keys_of(kind):
        entry = words.get(key.path, {})
        if key.default == "required":
            default = "<br>**required**"
        elif key.default == "—":
            default = ""
        else:
            default = f"<br>default `{_cell(key.default)}`"
        example = _example(entry.get("example", ""))
        lines.append(
            f"| `{_cell(key.path)}` | {_cell(key.type)}{default} "
            f"| {_prose(entry.get('meaning', ''))}{f'<br>e.g. {example}' if example else ''} |"
        )
    return lines


def params_page() -> str:
    words = key_words()
    company_tops = [k.path for k in keys_of("company") if "." not in k.path and "[" not in k.path]
    own = ", ".join(f"`{k}`" for k in NOT_IN_COMPANY)
    return "\n".join(
        [
            "# Params, company and template files",
            "",
            "Generated from the code each time this site is built: the keys below are exactly the keys",
            "`kpi validate` accepts. A key not listed here is refused, naming the file, the line and the",
            "nearest key. `<indicator>`, `<table>`, `<period>`, `<column>` stand for a name you choose",
            "(an indicator id such as `CS04`, a table such as `complaints`, a period such as `2026-Q4` …).",
            "",
            "Numbers are exact decimals: write them as YAML numbers (`95`, `2.5`) and they are read digit",
            "for digit, never as binary floats. Dates are `YYYY-MM-DD`.",
            "",
            *(
                [
                    "Editors check and complete these keys from a JSON Schema: `kpi schema params` (and `company`,",
                    "`template`) prints it ([Commands](commands.md#kpi-schema)).",
                    "",
                ]
                if "kpi schema" in commands()
                else []
            ),
            "## Params file (`params/<department>.yaml`)",
            "",
            "One file per department. How the values are used: [Concepts](../concepts.md).",
            "",
            *_key_table("params", words["params"]),
            "",
            "A complete example: the demo's West service desk, `params/cs-west.yaml` as `kpi demo` writes it.",
            "",
            "```yaml",
            demo_params("cs-west").rstrip("\n"),
            "```",
            "",
            "## Company file",
            "",
            "A file that a params file names with `company:`, holding what every department shares.",
            f"It takes every key of a params file except a department's own ({own}); none is required",
            "there. Its keys mean the same as above; how the two files combine is told in",
            "[One company file for every department](../concepts.md#one-company-file-for-every-department).",
            "",
            "Accepted top-level keys: " + ", ".join(f"`{k}`" for k in company_tops) + ".",
            "",
            "## Template file",
            "",
            "The indicators themselves: which input tables exist, what each indicator computes and how the",
            "seed's 13 columns read. The packaged template is `customer_service`; a params file names another",
            "with `template: path/to/file.yaml`. See [Concepts](../concepts.md#the-template).",
            "",
            *_key_table("template", words["template"]),
            "",
        ]
    )


def demo_params(department: str) -> str:
    """A demo department's params file exactly as `kpi demo` writes it (into a folder of its own)."""
    with tempfile.TemporaryDirectory(prefix="kpi-docs-") as tmp:
        written = {path.stem: path for path in write_demo(Path(tmp))}
        return written[department].read_text(encoding="utf-8")


def tables_page() -> str:
    template = load_template("customer_service")
    users: dict[str, list[str]] = {name: [] for name in template.tables}
    for ind in template.indicators:
        for table in ind.tables():
            users[table].append(ind.id)
    users.setdefault("observations", [])
    lines = [
        "# Input tables",
        "",
        "Generated from the packaged template (`customer_service`) each time this site is built.",
        "A data folder holds one file per table, `<table>.csv`, `.xlsx` or `.parquet` (or the params map",
        "another file, a sheet or an SQL query to it: [Operations](../operations.md)). A header may be the",
        "column name (any letter case) or its Chinese alias. *required*: a row must have a value.",
        "A table is needed only when an indicator of the department reads it, and a column only when one",
        "reads that column (the `department` column and the key always count as read): another may be",
        "absent (`kpi validate` notes it) or hold anything.",
        "",
        "Column types: `str` text as written, `date` `YYYY-MM-DD`, `timestamp` `YYYY-MM-DD HH:MM[:SS]`",
        "(an offset such as `+08:00` or `Z` is converted to the department's time zone), `bool`",
        "true/false/1/0/yes/no/是/否, `decimal` an exact number, `int` a whole number, `period` such as `2026-Q4`.",
        "",
    ]
    for name, spec in template.tables.items():
        used = ", ".join(users.get(name, [])) or "any indicator whose `method` is `observation`"
        lines += [
            f"## `{name}` — {spec.label('en')} ({spec.label('zh')})",
            "",
            f"Read by: {used}." + (f" Key: `{'|'.join(spec.key)}` (unique per row)." if spec.key else ""),
        ]
        if spec.order:
            lines.append("Order: " + ", ".join(f"`{a}` ≤ `{b}`" for a, b in spec.order) + " within a row.")
        lines += ["", "| column | type | Chinese header | rule |", "|---|---|---|---|"]
        for col in spec.columns:
            rule = []
            if col.required:
                rule.append("required")
            if col.optional:
                rule.append("the column may be absent")
            if col.min is not None:
                rule.append(f"≥ {col.min}")
            if col.max is not None:
                rule.append(f"≤ {col.max}")
            lines.append(f"| `{col.name}` | `{col.type}` | {col.alias} | {', '.join(rule)} |")
        lines.append("")
    lines += ["## Which indicator reads what", "", "| indicator | group | direction | rate | table | reads |"]
    lines.append("|---|---|---|---|---|---|")
    for ind in template.indicators:
        rate = ind.rate.as_dict()
        reads = ", ".join(
            f"{k} `{v}`"
            if not isinstance(v, dict)
            else "filter " + ", ".join(f"`{c}` = `{_yaml_scalar(x)}`" for c, x in v.items())
            for k, v in rate.items()
            if k not in ("kind", "table")
        )
        lines.append(
            f"| {ind.id} {_cell(ind.name('en'))} | `{ind.group}` | `{ind.direction}` | `{ind.rate.kind}` "
            f"| `{ind.table}` | {_cell(reads)} |"
        )
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: object) -> str:
    """A filter value as the template writes it (`true`, not Python's `True`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _commands() -> Iterator[tuple[str, Any]]:
    """(full name, command) of every `kpi` command, groups' subcommands included, in help order."""
    root = typer.main.get_command(app)

    def visit(group: Any, name: str, parent: Any) -> Iterator[tuple[str, Any]]:
        ctx = group.context_class(group, info_name=name, parent=parent)
        for sub in group.list_commands(ctx):
            command = group.get_command(ctx, sub)
            if command is None or command.hidden:
                continue
            full = f"{name} {sub}"
            if hasattr(command, "list_commands"):
                yield from visit(command, full, ctx)
            else:
                yield full, command

    yield from visit(root, "kpi", None)


def commands() -> dict[str, list[str]]:
    """Every command's full name → its options (long forms) and arguments (upper case), for tests."""
    out = {}
    for name, command in _commands():
        out[name] = [
            p.opts[0] if p.param_type_name == "option" else p.name.upper() for p in command.params if not p.hidden
        ]
    return out


def commands_page() -> str:
    root = typer.main.get_command(app)
    lines = [
        "# Commands",
        "",
        "Generated from the `kpi` command itself each time this site is built; `kpi COMMAND --help`",
        "prints the same. Exit codes: 0 ok; 1 bad data or params, a failed department, a difference",
        "found by `kpi verify`; 2 bad usage (one line naming the option and the value, pointing at the",
        "command's help).",
        "",
        f"`kpi --version` prints the version. {_prose(root.help or '')}",
        "",
    ]
    for name, command in _commands():
        args = " ".join(
            (p.name.upper() + ("…" if p.nargs == -1 else "")) if p.required else f"[{p.name.upper()}…]"
            for p in command.params
            if p.param_type_name == "argument"
        )
        lines += [f"## `{name}`", "", "```text", f"{name} [OPTIONS] {args}".rstrip(), "```", ""]
        lines += [_cell_block(command.help or ""), ""]
        rows = []
        for p in command.params:
            if p.hidden:
                continue
            if p.param_type_name == "argument":
                form = f"`{p.name.upper()}`"
            else:
                form = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
                if not getattr(p, "is_flag", False):
                    form += " *value*"
            default = "**required**" if p.required else _shown_default(p)
            rows.append(f"| {form} | {default} | {_prose(getattr(p, 'help', None) or '')} |")
        if rows:
            lines += ["| option | default | what |", "|---|---|---|", *rows, ""]
    return "\n".join(lines)


def _cell_block(text: str) -> str:
    """A command's help as Markdown paragraphs (typer's \\b markers and single newlines folded)."""
    paragraphs = [_prose(" ".join(part.replace("\b", "").split())) for part in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def _shown_default(p: Any) -> str:
    value = p.default
    if value is None or value is False or value in ((), [], ""):
        return "—"
    if getattr(p, "is_flag", False) and value is True:
        return "on"
    return f"`{_cell(str(value))}`"


def problems_page() -> str:
    lines = [
        "# Problem codes",
        "",
        "Generated from the toolkit's list of problem codes each time this site is built.",
        "Every line `kpi validate`, `kpi score` or `kpi run` prints about an input names the file, the",
        "row (or the xlsx cell), the column, the value found and what was expected. The code is not",
        "printed: it is for a program that calls `kpi_lib` and branches on what went wrong",
        "(`problem.code` of each `Problem` of an `InputError`'s `problems`; `kpi_lib.base.errors.CODES`",
        "maps each code to its meaning).",
        "",
        "| code | meaning |",
        "|---|---|",
        *(f"| `{code.value}` | {_prose(code.meaning)} |" for code in Code),
        "",
    ]
    return "\n".join(lines)


def layout_names() -> dict[str, str]:
    """The layout module's file and folder names: constant → name (plain text constants only)."""
    return {
        name: value
        for name, value in vars(layout).items()
        if name.isupper() and isinstance(value, str) and not name.startswith("_")
    }


def outputs_page() -> str:
    words = key_words()["outputs"]
    names = layout_names()
    lines = [
        "# The output tree",
        "",
        "Generated from the toolkit's one list of output file names each time this site is built.",
        "`kpi run --period P` writes `outputs/P/` (another folder with `--out`).",
        "",
        "```text",
        *tree(),
        "```",
        "",
        "| name | what it is |",
        "|---|---|",
    ]
    for const, name in names.items():
        lines.append(f"| `{_cell(name)}` | {_prose(words.get(const, ''))} |")
    return "\n".join([*lines, ""])


def tree() -> list[str]:
    """The output tree drawn with the layout module's names, each branch's comment aligned."""
    L = layout
    rows = [
        ("outputs/<period>/", ""),
        (f"├── {L.INDEX}, {L.SUMMARY_CSV}, {L.SUMMARY_XLSX}, {L.MANIFEST}", ""),
        (f"├── {L.PDFS}/<department>/<report>.pdf", "kpi pdf, kpi run --pdf"),
        (f"├── {L.SCREENSHOTS}/", "make screenshots"),
        (f"├── {L.SOURCES}/<sha256>.<csv|xlsx|parquet>", "every full input, stored once"),
        (f"├── {L.LOCK}, {L.KERNELS_LOG}", ""),
        ("└── <department>/", ""),
        ("    ├── <group>.ipynb, <group>.html, <group>.audit.html", "one set per group of the template"),
        (f"    ├── {L.SCORECARD}.ipynb, {L.SCORECARD}.html, {L.SCORECARD}.audit.html", ""),
        (f"    ├── {L.SCORECARD_XLSX}, {L.RESULT}, {L.DEPARTMENT}, {L.MANIFEST}", f"{L.ERROR} when it failed"),
        (f"    ├── {L.ROWS}/<indicator>.csv", ""),
        (f"    ├── {L.SIGNOFFS}, {L.HISTORY}/<time>/", "after kpi sign; kpi run --force"),
        (f"    └── {L.INPUTS}/", ""),
        (f"        ├── {L.PARAMS_COPY}, {L.COMPANY_COPY}, {L.TEMPLATE_COPY}, {L.SOURCES_JSON}", ""),
        (f"        ├── {L.PARTITIONS}/<table>.parquet", "the department's own rows"),
        (f"        └── {L.ADAPTERS}/", ""),
    ]
    width = max(len(entry) for entry, _ in rows) + 3
    return [f"{entry:<{width}}{comment}".rstrip() for entry, comment in rows]


GENERATORS = {
    "params": params_page,
    "tables": tables_page,
    "commands": commands_page,
    "problems": problems_page,
    "outputs": outputs_page,
}


def pages() -> dict[str, str]:
    """reference/<name>.md → its Markdown."""
    return {f"reference/{name}.md": GENERATORS[name]() for name in PAGES}


# -- the MkDocs hook ----------------------------------------------------------------------------------------------


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for uri, text in pages().items():
        files.append(File.generated(config, uri, content=text))
    return files
