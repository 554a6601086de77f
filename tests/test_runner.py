"""`kpi run` end to end: the layout of SPEC §8, one source of truth, failure isolation, escaping."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from .conftest import kpi

ROOT = Path(__file__).resolve().parents[1]
XSS = "<script>alert('x')</script> 华东"


@pytest.fixture(scope="module")
def batch(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two good demo departments (one with a hostile name) and one whose communications table is broken."""
    root = tmp_path_factory.mktemp("batch")
    params = root / "params"
    params.mkdir()
    east = (demo_dir / "params" / "cs-east.yaml").read_text(encoding="utf-8")
    east = east.replace("name: 华东客服部", f'name: "{XSS}"').replace(
        "data: ../data/demo", f"data: {demo_dir / 'data' / 'demo'}"
    )
    (params / "cs-east.yaml").write_text(east, encoding="utf-8")
    west = (
        (demo_dir / "params" / "cs-west.yaml")
        .read_text(encoding="utf-8")
        .replace("data: ../data/demo", f"data: {demo_dir / 'data' / 'demo'}")
    )
    (params / "cs-west.yaml").write_text(west, encoding="utf-8")
    bad_data = root / "bad-data"
    shutil.copytree(demo_dir / "data" / "demo", bad_data)
    for table in bad_data.glob("*.csv"):  # cs-north's rows become cs-bad's, so the only fault is the broken table below
        table.write_text(table.read_text(encoding="utf-8").replace("cs-north", "cs-bad"), encoding="utf-8")
    lines = (bad_data / "communications.csv").read_text(encoding="utf-8").splitlines()
    (bad_data / "communications.csv").write_text(
        "\n".join(",".join(line.split(",")[:4]) for line in lines) + "\n", encoding="utf-8"
    )
    bad = (
        (demo_dir / "params" / "cs-north.yaml")
        .read_text(encoding="utf-8")
        .replace("department: cs-north", "department: cs-bad")
    )
    (params / "cs-bad.yaml").write_text(bad.replace("data: ../data/demo", f"data: {bad_data}"), encoding="utf-8")
    out = root / "outputs"
    files = [str(params / f"{d}.yaml") for d in ("cs-east", "cs-west", "cs-bad")]
    result = kpi("run", *files, "--period", "2026-Q4", "--out", str(out), "--jobs", "2")
    return {"result": result, "out": out / "2026-Q4", "params": params}


@pytest.mark.slow
def test_exit_1_with_a_summary_line_for_the_failed_department(batch: dict) -> None:
    result = batch["result"]
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("kpi: cs-bad failed")]
    assert len(failed) == 1 and "communications.csv" in failed[0] or "service.ipynb" in failed[0]
    assert "index: " in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("department", ["cs-east", "cs-west"])
def test_good_departments_are_complete(batch: dict, department: str) -> None:
    folder = batch["out"] / department
    names = {p.name for p in folder.iterdir()}
    for notebook in ("management", "service", "key_accounts", "cost", "scorecard"):
        assert {f"{notebook}.ipynb", f"{notebook}.html", f"{notebook}.audit.html"} <= names
    assert "result.json" in names and "error.txt" not in names
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]


@pytest.mark.slow
@pytest.mark.parametrize("department", ["cs-east", "cs-west"])
def test_result_json_equals_kpi_score(batch: dict, department: str) -> None:
    recorded = json.loads((batch["out"] / department / "result.json").read_text(encoding="utf-8"))
    scored = kpi("score", str(batch["params"] / f"{department}.yaml"), "--period", "2026-Q4", "--json")
    assert recorded == json.loads(scored.stdout)
    assert list(recorded) == list(json.loads(scored.stdout))  # the SPEC's key order, too
    assert list(recorded["indicators"][0]) == list(json.loads(scored.stdout)["indicators"][0])


@pytest.mark.slow
def test_dask_executor_gives_the_same_results(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "dask"
    result = kpi(
        "run",
        str(demo_dir / "params" / "cs-north.yaml"),
        "--period",
        "2026-H2",
        "--out",
        str(out),
        "--executor",
        "dask",
        "--jobs",
        "2",
    )
    assert result.returncode == 0, result.stderr
    recorded = json.loads((out / "2026-H2" / "cs-north" / "result.json").read_text(encoding="utf-8"))
    scored = kpi("score", str(demo_dir / "params" / "cs-north.yaml"), "--period", "2026-H2", "--json")
    assert recorded == json.loads(scored.stdout)
    assert kpi("verify", str(out / "2026-H2"), "--recompute").returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("department", ["cs-east", "cs-west"])
def test_reports_show_the_numbers_of_result_json(batch: dict, department: str) -> None:
    result = json.loads((batch["out"] / department / "result.json").read_text(encoding="utf-8"))
    reader = (batch["out"] / department / "scorecard.html").read_text(encoding="utf-8")
    assert f"{result['total']:.2f}" in reader
    for item in result["indicators"]:
        if item["score"] is not None:
            assert f"<b>{item['score']:.2f}</b>" in reader, item["id"]
    index = (batch["out"] / "index.html").read_text(encoding="utf-8")
    assert f"<b>{result['total']:.2f}</b>" in index


@pytest.mark.slow
def test_reader_reports_hide_code_and_audit_reports_show_it(batch: dict) -> None:
    reader = (batch["out"] / "cs-west" / "service.html").read_text(encoding="utf-8")
    audit = (batch["out"] / "cs-west" / "service.audit.html").read_text(encoding="utf-8")
    code = '<span class="n">appraise</span>'
    editor = '<div class="source">'  # a code cell's input, not the CSS rule
    assert code not in reader and editor not in reader
    assert code in audit and audit.count(editor) >= 5
    cs04 = next(
        i
        for i in json.loads((batch["out"] / "cs-west" / "result.json").read_text(encoding="utf-8"))["indicators"]
        if i["id"] == "CS04"
    )
    assert f"{cs04['value']:.2f}% = {cs04['numerator']} / {cs04['denominator']} × 100%" in reader


@pytest.mark.slow
def test_reports_are_self_contained(batch: dict) -> None:
    for page in batch["out"].rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', text), page
        assert "@font-face" in text and "data:font/woff2;base64," in text, page


@pytest.mark.slow
def test_names_from_params_are_escaped(batch: dict) -> None:
    for page in [batch["out"] / "index.html", *(batch["out"] / "cs-east").glob("*.html")]:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(" not in text, page
    assert "&lt;script&gt;alert(" in (batch["out"] / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in (batch["out"] / "cs-east" / "scorecard.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_failed_department_keeps_its_evidence_and_has_no_result(batch: dict) -> None:
    folder = batch["out"] / "cs-bad"
    assert not (folder / "result.json").exists() and not (folder / "scorecard.ipynb").exists()
    error = (folder / "error.txt").read_text(encoding="utf-8")
    assert "service.ipynb" in error and "communications.csv, row 1, column sent_at: missing column" in error
    executed = nbformat.read(str(folder / "service.ipynb"), as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and "sent_at" in "".join(errors[0]["traceback"])
    assert (folder / "management.ipynb").exists() and (folder / "service.html").exists()


@pytest.mark.slow
def test_summary_csv_has_one_row_per_department(batch: dict) -> None:
    text = (batch["out"] / "summary.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(text.splitlines()))
    by_id = {r["department"]: r for r in rows}
    assert set(by_id) == {"cs-east", "cs-west", "cs-bad"}
    assert by_id["cs-bad"]["status"] == "failed" and by_id["cs-bad"]["total"] == ""
    for department in ("cs-east", "cs-west"):
        result = json.loads((batch["out"] / department / "result.json").read_text(encoding="utf-8"))
        assert by_id[department]["total"] == f"{result['total']:.2f}" and by_id[department]["grade"] == result["grade"]
    assert by_id["cs-east"]["rank"] == "1" and by_id["cs-west"]["rank"] == "2"


@pytest.mark.slow
def test_injected_parameters_are_ascii(batch: dict) -> None:
    executed = nbformat.read(str(batch["out"] / "cs-east" / "service.ipynb"), as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert injected.source.isascii() and "params_path" in injected.source


@pytest.mark.slow
def test_rerun_replaces_a_departments_outputs_whole(batch: dict) -> None:
    folder = batch["out"] / "cs-bad"
    (folder / "stray.txt").write_text("left over", encoding="utf-8")
    result = kpi(
        "run",
        str(batch["params"] / "cs-bad.yaml"),
        "--period",
        "2026-Q4",
        "--out",
        str(batch["out"].parent),
        "--jobs",
        "2",
    )
    assert result.returncode == 1
    assert not (folder / "stray.txt").exists() and (folder / "error.txt").exists()
    assert (batch["out"] / "cs-east" / "result.json").exists()  # other departments untouched
    assert not [p for p in batch["out"].iterdir() if p.name.startswith((".staging", ".old"))]


@pytest.mark.slow
def test_embedded_font_covers_every_chinese_character(batch: dict) -> None:
    import base64
    import html as html_lib
    import io

    from fontTools.ttLib import TTFont

    page = (batch["out"] / "cs-east" / "scorecard.html").read_text(encoding="utf-8")
    font = TTFont(io.BytesIO(base64.b64decode(re.search(r"data:font/woff2;base64,([A-Za-z0-9+/=]+)\)", page).group(1))))
    cmap = font.getBestCmap()
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", page.split("</head>", 1)[1]))
    missing = {c for c in text if ord(c) > 0x2E7F and ord(c) not in cmap}
    assert not missing
    assert "考核汇总表" in text and "部门经理签字" in text


@pytest.mark.slow
def test_every_font_rule_of_ours_names_the_embedded_font_first(batch: dict) -> None:
    page = (batch["out"] / "cs-east" / "service.html").read_text(encoding="utf-8")
    ours = re.findall(r"\.(?:kpi|formula)[^{}]*\{[^}]*font-family:\s*([^;}]*)", page)
    assert ours and all(rule.startswith('"KPI CJK"') for rule in ours), ours
    stacks = re.findall(r"font-family:\s*([^;}]*)", page)  # the report template's rules too: no rule skips ours
    assert len(stacks) > len(ours) and all(s.startswith('"KPI CJK"') for s in stacks), stacks
