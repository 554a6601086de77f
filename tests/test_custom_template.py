"""A template with groups of its own runs end to end, beside the packaged one, with no notebook copied (issue 9 §1).

The template is the call centre's: two indicators in two groups the packaged
template does not have (`calls`, `quality`), made from two of the packaged
indicators. One batch runs a department on it and another on the packaged
template: every group notebook is executed from the one generic notebook,
reported, linked from the index and the scorecard's sheet, hashed in the
manifest, recomputed by `kpi verify --recompute` and signed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kpi_lib.base.layout import DepartmentFolder, PeriodFolder
from kpi_lib.batch.demo import write_demo
from kpi_lib.inputs.template import load_template
from kpi_lib.reports import executed

from .conftest import kpi

pytestmark = pytest.mark.slow
GROUPS = {"calls": {"zh": "呼叫", "en": "Calls"}, "quality": {"zh": "质量", "en": "Quality"}}


def call_centre_template(path: Path) -> Path:
    """The packaged template cut to CS10 (as CC01, group calls) and CS04 (as CC02, group quality)."""
    packaged = yaml.safe_load(Path(load_template().path).read_text(encoding="utf-8"))
    by_id = {i["id"]: i for i in packaged["indicators"]}
    packaged.update(id="call_centre", name={"zh": "呼叫中心考核指标", "en": "Call centre KPIs"}, groups=GROUPS)
    packaged["indicators"] = [
        {**by_id["CS10"], "id": "CC01", "group": "calls"},
        {**by_id["CS04"], "id": "CC02", "group": "quality"},
    ]
    path.write_text(yaml.safe_dump(packaged, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company, with cs-west appraised on the call centre's template instead (a mixed batch)."""
    root = tmp_path_factory.mktemp("company")
    write_demo(root)
    (root / "templates").mkdir()
    template = call_centre_template(root / "templates" / "call_centre.yaml")  # beside params/, not in it
    west = yaml.safe_load((root / "params" / "cs-west.yaml").read_text(encoding="utf-8"))
    west["template"] = f"../templates/{template.name}"  # relative to the params file
    west["indicators"] = {
        "CC01": {"weight": 60, "target": 90, "step": 1, "penalty": 2, "bonus": 1},
        "CC02": {"weight": 40, "target": 95, "step": 1, "penalty": 2, "bonus": 1, "sla": "24h"},
    }
    (root / "params" / "cs-west.yaml").write_text(yaml.safe_dump(west, allow_unicode=True), encoding="utf-8")
    (root / "params" / "cs-north.yaml").unlink()  # two departments keep the batch short
    done = kpi("run", "--all", "--period", "2026-Q4", "--jobs", "2", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_every_group_of_each_template_is_executed_and_reported(company: Path) -> None:
    period = PeriodFolder(company / "outputs" / "2026-Q4")
    for department, groups in (("cs-west", tuple(GROUPS)), ("cs-east", tuple(load_template().groups))):
        folder = period.department(department)
        for name in (*groups, "scorecard"):
            assert folder.notebook(name).is_file(), (department, name)
            assert folder.reader_html(name).is_file() and folder.audit_html(name).is_file(), (department, name)
        other = {"calls", "quality"} if department == "cs-east" else set(load_template().groups)
        assert not any(folder.notebook(g).exists() for g in other), department
        manifest = json.loads(folder.manifest.read_text(encoding="utf-8"))
        assert {f"{g}.ipynb" for g in groups} | {f"{g}.html" for g in groups} <= set(manifest["outputs"])
        assert json.loads(folder.meta.read_text(encoding="utf-8"))["groups"] == list(groups)


def test_the_custom_departments_result_has_its_own_indicators(company: Path) -> None:
    folder = DepartmentFolder(company / "outputs" / "2026-Q4" / "cs-west")
    result = json.loads(folder.result.read_text(encoding="utf-8"))
    assert [(i["id"], i["group"]) for i in result["indicators"]] == [("CC01", "calls"), ("CC02", "quality")]
    assert result["total"] is not None and result["grade"]
    recorded = executed.read_scorecard(folder.notebook("scorecard"))
    assert recorded.to_json() == result  # result.json is what the scorecard notebook recorded
    assert [r.id for r in executed.read_group(folder.notebook("calls")).indicators] == ["CC01"]
    score = kpi("score", str(company / "params" / "cs-west.yaml"), "--period", "2026-Q4", "--json", cwd=company)
    assert json.loads(score.stdout) == result


def test_the_index_links_every_groups_report(company: Path) -> None:
    index = (company / "outputs" / "2026-Q4" / "index.html").read_text(encoding="utf-8")
    for group in GROUPS:
        assert f'href="cs-west/{group}.html"' in index
    for group in load_template().groups:
        assert f'href="cs-east/{group}.html"' in index
    summary = (company / "outputs" / "2026-Q4" / "summary.csv").read_text(encoding="utf-8-sig").splitlines()
    assert summary[0].split(",")[8:10] == ["CC01", "CC02"]  # every indicator of either template is a column


def test_verify_recomputes_and_sign_binds_the_custom_department(company: Path) -> None:
    period = company / "outputs" / "2026-Q4"
    verified = kpi("verify", str(period), "--recompute", cwd=company)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    signed = kpi("sign", str(period / "cs-west"), "--role", "manager", "--name", "Lee", cwd=company)
    assert signed.returncode == 0, signed.stderr
    again = kpi("verify", str(period), "--recompute", cwd=company)
    assert again.returncode == 0 and "signature 1" in again.stdout, again.stdout + again.stderr


def test_a_changed_recorded_score_of_a_custom_group_is_found(company: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "2026-Q4"
    shutil.copytree(company / "outputs" / "2026-Q4", copy)
    notebook = copy / "cs-west" / "quality.ipynb"
    notebook.write_text(notebook.read_text(encoding="utf-8").replace('"score": ', '"score": 1', 1), encoding="utf-8")
    found = kpi("verify", str(copy), "--recompute", cwd=company)
    assert found.returncode == 1
    assert "quality.ipynb" in found.stdout + found.stderr
