"""`kpi template import`: a KPI sheet in the seed's layout becomes a template that scores demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook

from kpi_lib import Period, appraise, load_params, load_template

from .conftest import kpi

HEADERS = [
    "序号",
    "考评项目及考评指标",
    "指标",
    "权重",
    "计分标准",
    "信息\n采集者",
    "信息\n采集点",
    "信息采集时间",
    "信息采集方法",
    "信息采集结果",
    "必备条件",
    "所需资源",
    "说明",
]
METHOD_WORDS = {"records": "数据查证法", "survey": "问卷调查法", "observation": "现场笔录法"}


def filled_rule(text: str, spec: dict) -> str:
    """The seed's scoring standard with its × placeholders replaced by this department's numbers."""
    step = spec.get("step", 1)
    replacements = [
        ("每有一项计划未完成,扣×分", f"每有一项计划未完成,扣{spec.get('per_item')}分"),
        ("每降×%,扣×分", f"每降{step}%,扣{spec.get('penalty')}分"),
        ("每增×%,加×分", f"每增{step}%,加{spec.get('bonus')}分"),
        ("每增加×%,扣×分", f"每增加{step}%,扣{spec.get('penalty')}分"),
        ("每减少×%,加×分", f"每减少{step}%,加{spec.get('bonus')}分"),
        ("每超支×%,扣×分", f"每超支{step}%,扣{spec.get('penalty')}分"),
    ]
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def write_sheet(path: Path, params: dict, blank_weight: str = "CS05") -> None:
    template = load_template()
    book = Workbook()
    sheet = book.active
    sheet.title = "客服部"
    sheet.append(["客服部的绩效量化考核指标案例及模板"])
    sheet.append(HEADERS)
    for n, ind in enumerate(template.indicators, start=1):
        if n == 7:
            sheet.append(["续表"])
            sheet.append(HEADERS)
        spec = params["indicators"][ind.id]
        target = f"{spec['target']}%" if "target" in spec else "×%"
        weight = None if ind.id == blank_weight else spec["weight"]
        methods = "或".join(METHOD_WORDS[m] for m in ind.methods)
        sheet.append(
            [
                n,
                ind.statement.zh,
                target,
                weight,
                filled_rule(ind.rule.zh, spec),
                ind.collector.zh,
                ind.source.zh,
                ind.schedule_text.zh,
                methods,
                "",
                ind.prerequisites_text.zh,
                "",
                ind.formula.zh,
            ]
        )
    sheet.append(["……"])
    sheet.append(["部门经理签字:                上级主管领导签字:"])
    book.save(path)


@pytest.mark.slow
def test_a_sheet_in_the_seeds_layout_imports_and_scores_like_the_packaged_template(
    demo_dir: Path, tmp_path: Path
) -> None:
    source = yaml.safe_load((demo_dir / "params" / "cs-north.yaml").read_text(encoding="utf-8"))
    source.pop("periods")
    source["indicators"]["CS02"].pop("method", None)
    sheet = tmp_path / "华北客服部KPI.xlsx"
    write_sheet(sheet, source)
    out = tmp_path / "imported"
    result = kpi("template", "import", str(sheet), "--out", str(out), "--id", "north")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "(12 indicators)" in result.stdout
    needs = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    assert any(
        "indicators.CS05" in line and "weight 权重 (客服部!D7: blank; never guessed)" in line for line in needs
    ), needs
    assert any("indicators.CS04" in line and "sla 必备条件" in line for line in needs)
    assert not any("indicators.CS07" in line for line in needs)  # every number of CS07 was in the sheet

    params = yaml.safe_load((out / "north.params.yaml").read_text(encoding="utf-8"))
    assert params["indicators"]["CS05"]["weight"] is None  # never guessed
    assert params["indicators"]["CS07"] == {"weight": 10, "target": 90, "step": 1, "penalty": 5, "bonus": 1}
    assert params["indicators"]["CS01"] == {"weight": 5, "per_item": 10}
    params["indicators"]["CS05"]["weight"] = 8
    params["indicators"]["CS04"]["sla"] = "24h"
    params["indicators"]["CS05"]["sla"] = "2wd"
    params.update(
        department="cs-north", name="华北客服部", data=str(demo_dir / "data" / "demo"), review_date="2026-12-20"
    )
    filled = out / "north.params.yaml"
    filled.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")

    imported = appraise(load_params(filled), Period.parse("2026-Q3")).to_json()
    packaged_params = tmp_path / "packaged.yaml"
    packaged_params.write_text(
        yaml.safe_dump({**source, "data": str(demo_dir / "data" / "demo")}, allow_unicode=True), encoding="utf-8"
    )
    packaged = appraise(load_params(packaged_params), Period.parse("2026-Q3")).to_json()
    assert json.dumps(imported) == json.dumps(packaged)
    assert load_template(str(out / "templates" / "north.yaml")).indicator("CS05").rule.zh.startswith("反馈及时率达到")

    # …and `kpi run` takes the imported template as it is: its groups' notebooks, reports, result (issue 9 §1)
    run = kpi("run", str(filled), "--period", "2026-Q3", "--out", str(tmp_path / "outputs"), "--jobs", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    folder = tmp_path / "outputs" / "2026-Q3" / "cs-north"
    assert json.loads((folder / "result.json").read_text(encoding="utf-8")) == json.loads(json.dumps(packaged))
    for group in load_template(str(out / "templates" / "north.yaml")).groups:
        assert (folder / f"{group}.ipynb").is_file() and (folder / f"{group}.html").is_file(), group


@pytest.mark.slow
def test_an_unfilled_skeleton_fails_validation_naming_the_gaps(tmp_path: Path, demo_dir: Path) -> None:
    source = yaml.safe_load((demo_dir / "params" / "cs-north.yaml").read_text(encoding="utf-8"))
    write_sheet(tmp_path / "kpi.xlsx", source)
    assert kpi("template", "import", str(tmp_path / "kpi.xlsx"), "--out", str(tmp_path)).returncode == 0
    checked = kpi("validate", str(tmp_path / "kpi.params.yaml"))
    assert checked.returncode == 1
    assert "indicators.CS05.weight: empty; fill in a value" in checked.stderr
    assert "indicators.CS04.sla: missing prerequisite" in checked.stderr  # reported in the same pass


@pytest.mark.slow
def test_not_a_kpi_sheet(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["name", "score"])
    book.save(tmp_path / "other.xlsx")
    result = kpi("template", "import", str(tmp_path / "other.xlsx"))
    assert result.returncode == 2 and "no header row with 序号 and 考评项目及考评指标" in result.stderr


def test_percent_formatted_cells_read_as_the_percentage_they_show(tmp_path: Path, demo_dir: Path) -> None:
    """A cell typed as 95% holds 0.95: the import reads 95, as the sheet shows it (weights too: 8% → 8)."""
    from openpyxl import load_workbook

    from kpi_lib.batch.importer import import_sheet

    source = yaml.safe_load((demo_dir / "params" / "cs-north.yaml").read_text(encoding="utf-8"))
    text_sheet, number_sheet = tmp_path / "text.xlsx", tmp_path / "numbers.xlsx"
    write_sheet(text_sheet, source)
    book = load_workbook(text_sheet)
    for row in book.active.iter_rows():
        for cell in row:
            if (
                cell.column_letter == "C"
                and isinstance(cell.value, str)
                and cell.value.endswith("%")
                and cell.value[:-1].isdigit()
            ):
                cell.value, cell.number_format = int(cell.value[:-1]) / 100, "0%"
            elif cell.column_letter == "D" and isinstance(cell.value, int) and cell.row > 2:
                cell.value, cell.number_format = cell.value / 100, "0.00%"
    book.save(number_sheet)
    from_text = import_sheet(text_sheet, template_id="t").params["indicators"]
    from_numbers = import_sheet(number_sheet, template_id="t").params["indicators"]
    assert from_numbers == from_text
    assert from_numbers["CS07"]["target"] == 90 and from_numbers["CS07"]["weight"] == 10
