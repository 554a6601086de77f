"""`kpi template import`: bring a department's KPI sheet from Excel into a template and a params skeleton.

The sheet is laid out like the seed: a header row with the 13 Chinese column
names (序号, 考评项目及考评指标, 指标, 权重, 计分标准, 信息采集者, 信息采集点,
信息采集时间, 信息采集方法, 信息采集结果, 必备条件, 所需资源, 说明; line breaks
inside a header are ignored), then one row per indicator whose 序号 is a number.
Repeated header rows (续表) and rows without a number are skipped.

What the sheet says is kept as the template's Chinese text. What it does not say
is taken from the packaged template when an indicator's name (the text before
the colon) matches one of its indicators: the direction, how the value is
computed (`rate`), the groups and the English text. Numbers are read where the
sheet has them: the weight (权重), the target (指标, else a percentage in the
statement), and the step, penalty, bonus or points per item from the scoring
standard (每降1%，扣2分 …). A placeholder (×, ××) or a blank cell is never
guessed: the params skeleton leaves it empty and the report names the cell.

Where it writes (`write_import`): the params skeleton `<id>.params.yaml` into `--out` (beside
the template when `--out` is a `params` folder, which `--all` reads whole), the
template `<id>.yaml` into `--templates` (default `templates/` inside `--out`, or beside it
when `--out` is a `params` folder; never a folder named `params`, where `kpi run --all`
reads every YAML file as a department). Neither replaces a file that holds other bytes
unless `--force`: both are checked before either is written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ..base import yamlfile
from ..base.errors import UsageError
from ..base.files import refuse_replacing, write_atomic
from ..base.text import PLAIN_ID, id_length_problem
from ..inputs.template import Indicator, Template, load_template

HEADERS = {
    "序号": "id",
    "考评项目及考评指标": "statement",
    "指标": "target",
    "权重": "weight",
    "计分标准": "rule",
    "信息采集者": "collector",
    "信息采集点": "source",
    "信息采集时间": "schedule",
    "信息采集方法": "methods",
    "信息采集结果": "result",
    "必备条件": "prerequisites",
    "所需资源": "resources",
    "说明": "formula",
}
SCHEDULES = {
    "年度绩效考核前一周": "annual_review_minus_1w",
    "每月最后一个工作日": "monthly_last_workday",
    "6月和12月最后一周": "semiannual_last_week",
    "每季度最后半月": "quarterly_last_half_month",
    "计划完成时间": "plan_due",
}
METHODS = {"数据查证法": "records", "问卷调查法": "survey", "现场笔录法": "observation"}
NUMBER = r"(\d+(?:\.\d+)?)"
TEMPLATE_ID = PLAIN_ID  # (kpi_lib.base.text)


def check_id(value: str, option: str = "--id", names: str = "the files <id>.yaml and <id>.params.yaml") -> str:
    """An id given on the command line names files or folders (`names`): lowercase letters, digits, - and _ only,
    at most 64 characters; else `UsageError` naming the `option`. A template's id (`--id`), a department's."""
    if not TEMPLATE_ID.fullmatch(value):
        raise UsageError(f"{option} {value!r}: expected lowercase letters, digits, - and _ only (it names {names})")
    if too_long := id_length_problem(value):
        raise UsageError(f"{option} {value[:20]}…: {too_long}")
    return value


def _squash(value: Any) -> str:
    return re.sub(r"\s+", "", "" if value is None else str(value))


def _text(value: Any) -> str:
    return "" if value is None else re.sub(r"[ \t]*\n[ \t]*", "", str(value)).strip()


def _number(value: Any, number_format: str = "General") -> float | None:
    """A number from a cell: 15, a %-formatted cell 0.15 (shown as 15%) read as 15, "15%", "15"; None for ×, ××, blanks and text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return float(number * 100 if "%" in (number_format or "") else number)
    match = re.fullmatch(r"\s*" + NUMBER + r"\s*%?\s*", str(value))
    return float(match.group(1)) if match else None


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else number


@dataclass
class Imported:
    template: dict[str, Any]
    params: dict[str, Any]
    needs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _find_header(sheet: Any) -> tuple[int, dict[str, int]]:
    for row in sheet.iter_rows(min_row=1, max_row=min(sheet.max_row, 40)):
        found = {HEADERS[_squash(c.value)]: c.column for c in row if _squash(c.value) in HEADERS}
        if "id" in found and "statement" in found:
            return row[0].row, found
    raise UsageError(
        f"sheet {sheet.title!r}: no header row with 序号 and 考评项目及考评指标; expected the seed's layout"
    )


def _rule_numbers(direction: str, text: str) -> dict[str, float | None]:
    squashed = _squash(text).replace("，", ",").replace("；", ";")
    if direction == "count":
        match = re.search(r"每有一项[^;]*?扣" + NUMBER + "分", squashed)
        return {"per_item": float(match.group(1)) if match else None}
    worse, better = ("降", "增") if direction == "higher" else ("(?:增加|超支|增)", "(?:减少|降)")
    penalty = re.search(f"每{worse}" + NUMBER + "%[^;]*?扣" + NUMBER + "分", squashed)
    bonus = re.search(f"每{better}" + NUMBER + "%[^;]*?加" + NUMBER + "分", squashed)
    numbers: dict[str, float | None] = {"step": None, "penalty": None, "bonus": 0.0}
    if penalty:
        numbers["step"], numbers["penalty"] = float(penalty.group(1)), float(penalty.group(2))
    if bonus:
        numbers["bonus"] = float(bonus.group(2))
        numbers["step"] = numbers["step"] or float(bonus.group(1))
    elif re.search(f"每{better}[×x]+%", squashed):
        numbers["bonus"] = None  # the sheet has a bonus, with placeholders
    return numbers


def _direction(statement: str, rule: str, known: Indicator | None) -> tuple[str, bool]:
    """(direction, inferred): the packaged indicator's, else read from the wording."""
    if known is not None:
        return known.direction, False
    if "每有一项" in rule:
        return "count", True
    if any(word in statement for word in ("流失", "超支", "以内", "控制在")):
        return "lower", True
    return "higher", True


def import_sheet(
    path: Path, *, template_id: str | None = None, sheet_name: str | None = None, base: Template | None = None
) -> Imported:
    """Read a KPI sheet in the seed's layout into a template document and a params skeleton."""
    if template_id is not None:
        check_id(template_id)
    if not path.is_file():
        raise UsageError(f"{path}: file not found; expected an .xlsx KPI sheet")
    try:
        book = load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise UsageError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    if sheet_name is not None and sheet_name not in book.sheetnames:
        raise UsageError(
            f"{path}: no sheet {sheet_name!r}; the workbook has {', '.join(repr(n) for n in book.sheetnames)}"
        )
    sheet = book[sheet_name] if sheet_name else book.worksheets[0]
    header_row, columns = _find_header(sheet)
    missing = [zh for zh, key in HEADERS.items() if key not in columns]
    base = base or load_template()
    by_name = {ind.name.zh: ind for ind in base.indicators}
    tid = template_id or re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_") or "imported"
    result = Imported(template={}, params={})
    if missing:
        result.notes.append(
            f"{path}: the header row {header_row} has no {', '.join(missing)}; those columns are left empty"
        )
    indicators, params_indicators, used_groups = [], {}, {}
    for row in sheet.iter_rows(min_row=header_row + 1):
        cells = {key: row[col - 1] for key, col in columns.items() if col - 1 < len(row)}
        number = _number(cells["id"].value) if "id" in cells else None
        if number is None or not float(number).is_integer():
            continue
        value = {key: _text(cell.value) for key, cell in cells.items()}
        refs = {key: f"{sheet.title}!{get_column_letter(column)}{row[0].row}" for key, column in columns.items()}
        iid = f"CS{int(number):02d}"
        statement = value.get("statement", "")
        name = re.split(r"[:：]", statement, maxsplit=1)[0].strip() or iid
        known = by_name.get(name)
        direction, inferred = _direction(statement, value.get("rule", ""), known)
        if inferred:
            result.notes.append(
                f"{iid} {name}: not in template {base.id}; direction {direction!r} read from the wording, check it"
            )
        schedule = SCHEDULES.get(_squash(value.get("schedule", "")), known.schedule if known else None)
        if schedule is None:
            result.needs.append(
                f"{iid} 信息采集时间 ({refs.get('schedule')}): {value.get('schedule')!r} is not a known schedule; expected one of {', '.join(SCHEDULES)}"
            )
        methods = [code for word, code in METHODS.items() if word in value.get("methods", "")] or (
            list(known.methods) if known else []
        )
        target_words = value.get("target", "")
        if direction == "count" and "×" in target_words:  # no number fills it: the sheet could not be filled in
            target_words = known.target_text.zh if known else ""
            result.notes.append(
                f"{iid} 指标 ({refs.get('target')}): {value.get('target')!r} is a placeholder, but a count indicator has no "
                f"target; its words are {target_words!r}"
            )
        entry: dict[str, Any] = {
            "id": iid,
            "group": known.group if known else "general",
            "name": {"zh": name, "en": known.name.en if known else name},
            "statement": {"zh": statement, "en": known.statement.en if known else statement},
            "target_text": {
                "zh": target_words,
                "en": known.target_text.en if known else target_words,
            },
            "direction": direction,
            "weight": value.get("weight") or "×%",
            "rule": {"zh": value.get("rule", ""), "en": known.rule.en if known else value.get("rule", "")},
            "collector": {
                "zh": value.get("collector", ""),
                "en": known.collector.en if known else value.get("collector", ""),
            },
            "source": {"zh": value.get("source", ""), "en": known.source.en if known else value.get("source", "")},
            "schedule": schedule or "annual_review_minus_1w",
            "schedule_text": {
                "zh": value.get("schedule", ""),
                "en": known.schedule_text.en if known else value.get("schedule", ""),
            },
            "methods": methods or ["records"],
            "prerequisites": list(known.prerequisites) if known else [],
            "prerequisites_text": {
                "zh": value.get("prerequisites", ""),
                "en": known.prerequisites_text.en if known else value.get("prerequisites", ""),
            },
            "resources": {"zh": value.get("resources", ""), "en": value.get("resources", "")},
            "formula": {"zh": value.get("formula", ""), "en": known.formula.en if known else value.get("formula", "")},
        }
        if known is not None:
            entry["rate"] = known.rate.as_dict()
        else:
            result.needs.append(
                f"{iid} {name}: no rate definition (which table, which rows count); write `rate:` in the template (see kpi_lib/scoring/rates.py)"
            )
        indicators.append(entry)
        used_groups[entry["group"]] = base.groups[entry["group"]] if entry["group"] in base.groups else None

        spec: dict[str, Any] = {}
        open_cells: list[str] = []
        weight = _number(cells["weight"].value, cells["weight"].number_format) if "weight" in cells else None
        spec["weight"] = None if weight is None else _plain(weight)
        if weight is None:
            open_cells.append(
                f"weight 权重 ({refs.get('weight', 'no column')}: {value.get('weight') or 'blank'}; never guessed)"
            )
        if direction != "count":
            target = _number(cells["target"].value, cells["target"].number_format) if "target" in cells else None
            if target is None:
                match = re.search(NUMBER + "%", statement)
                target = float(match.group(1)) if match and "×" not in statement else None
            spec["target"] = None if target is None else _plain(target)
            if target is None:
                open_cells.append(f"target 指标 ({refs.get('target', 'no column')}: {value.get('target') or 'blank'})")
        numbers = _rule_numbers(direction, value.get("rule", ""))
        for key, number in numbers.items():
            spec[key] = None if number is None else _plain(number)
        unread = [key for key, number in numbers.items() if number is None]
        if unread:
            open_cells.append(
                f"{', '.join(unread)} 计分标准 ({refs.get('rule', 'no column')}: no number in the scoring standard)"
            )
        for prerequisite in entry["prerequisites"]:
            spec[prerequisite] = None
            open_cells.append(f"{prerequisite} 必备条件 ({value.get('prerequisites') or 'blank'}; e.g. 24h or 2wd)")
        if open_cells:
            result.needs.append(f"indicators.{iid} {name}: " + "; ".join(open_cells))
        params_indicators[iid] = spec
    if not indicators:
        raise UsageError(
            f"{path}: sheet {sheet.title!r} has no indicator rows below the header (a 序号 number in each)"
        )
    groups = {
        g: ({"zh": t.zh, "en": t.en} if t is not None else {"zh": "其他", "en": "General"})
        for g, t in used_groups.items()
    }
    result.template = {
        "id": tid,
        "name": {"zh": f"{path.stem} 绩效量化考核指标", "en": f"{path.stem} KPIs"},
        "source_document": str(path.name),
        "groups": groups,
        "methods": {k: {"zh": v.zh, "en": v.en} for k, v in base.methods.items()},
        "tables": _tables_document(base),
        "indicators": indicators,
    }
    result.params = {
        "department": "change-me",
        "name": "",
        "template": f"{tid}.yaml",
        "data": "data",
        "lang": "zh",
        "review_date": None,
        "indicators": params_indicators,
    }
    return result


def _tables_document(template: Template) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for name, spec in template.tables.items():
        columns = {}
        for c in spec.columns:
            column: dict[str, Any] = {"type": c.type, "zh": c.alias}
            if c.required:
                column["required"] = True
            if c.optional:
                column["optional"] = True
            if c.min is not None:
                column["min"] = c.min
            if c.max is not None:
                column["max"] = c.max
            columns[c.name] = column
        tables[name] = {"label": {"zh": spec.label.zh, "en": spec.label.en}, "columns": columns}
        if spec.key:
            tables[name]["key"] = list(spec.key)
        if spec.order:
            tables[name]["order"] = [list(pair) for pair in spec.order]
    return tables


def write_import(
    result: Imported, out: Path, templates: Path | None = None, *, force: bool = False
) -> tuple[Path, Path]:
    """Write the params skeleton `<id>.params.yaml` into `out` and the template `<id>.yaml` into `templates`
    (default: `templates/` inside `out`, or beside it when `out` is a `params` folder); returns both paths.
    When `out` is a `params` folder, the skeleton goes beside the template too: unfilled, it would fail
    every `kpi run --all` and `kpi validate params/*.yaml` until it was moved.

    The template never goes where `kpi run --all` looks (a folder named `params`), so that one
    import does not break every later run; the skeleton's `template:` is the path from it to the template. A file already there is left alone when it holds
    exactly these bytes; one that differs (a real params file, an edited template) is refused,
    naming it, unless `force`: nothing is written then.
    """
    tid = check_id(str(result.template["id"]))
    folder = templates
    if folder is None:
        folder = out / "templates" if out.resolve().name != "params" else out.resolve().parent / "templates"
    if folder.resolve().name == "params":
        raise UsageError(
            f"--templates {folder}: kpi run --all reads every YAML file in params/ as a department; "
            "put templates elsewhere (the default is templates/)"
        )
    template_path = folder / f"{tid}.yaml"
    # An unfilled skeleton in params/ would be read by `kpi run --all` as a department (and fail): it goes beside
    # the template instead, to be filled in and then moved into params/.
    params_path = (folder if out.resolve().name == "params" else out) / f"{tid}.params.yaml"
    if template_path.resolve() == params_path.resolve():
        raise UsageError(
            f"--templates {folder} and --out {out}: the template and the params skeleton would be one file"
        )
    relative = Path(os.path.relpath(template_path.resolve(), params_path.resolve().parent)).as_posix()
    params = {**result.params, "template": relative}
    head = "# Imported by `kpi template import`; the Chinese text is the sheet's own.\n"
    needs = "".join(f"#   - {line}\n" for line in result.needs) or "#   (nothing: every number was in the sheet)\n"
    params_head = (
        "# Params skeleton written by `kpi template import`. Fill in what the sheet left open:\n"
        f"{needs}"
        "# and set department, name, data and review_date. An empty value fails `kpi validate` until it is set.\n"
    )
    texts = {template_path: head + yamlfile.dump(result.template), params_path: params_head + yamlfile.dump(params)}
    if not force:
        for path, text in texts.items():
            refuse_replacing(path, text.encode("utf-8"))
    for path, text in texts.items():
        write_atomic(path, text)
    return template_path, params_path
