"""The `kpi` command through its real entry point: exit codes and the text a user sees."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import Company
from .conftest import kpi_process as kpi

ROOT = Path(__file__).resolve().parents[1]


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int, *expected: str) -> list[str]:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("kpi: ") for line in lines), lines
    for text in expected:
        assert any(text in line for line in lines), (text, lines)
    return lines


@pytest.mark.slow
def test_score_json_is_exactly_the_spec_object(demo_dir: Path) -> None:
    result = kpi("score", str(demo_dir / "params" / "cs-east.yaml"), "--period", "2026-Q4", "--json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert list(card) == ["department", "period", "window", "total", "grade", "indicators"]
    assert card["window"] == {"start": "2026-10-01", "end": "2026-12-31"}
    assert [i["id"] for i in card["indicators"]] == [f"CS{i:02d}" for i in range(1, 13)]
    keys = [
        "id",
        "group",
        "weight",
        "direction",
        "target",
        "value",
        "numerator",
        "denominator",
        "steps",
        "score",
        "status",
        "excluded_rows",
        "n",
        "ci_low",
        "ci_high",
    ]
    assert all(list(i) == keys for i in card["indicators"])
    assert result.stderr == ""


@pytest.mark.slow
def test_score_is_byte_identical_across_runs(demo_dir: Path) -> None:
    args = ("score", str(demo_dir / "params" / "cs-west.yaml"), "--period", "2026-H2", "--json")
    assert kpi(*args).stdout == kpi(*args).stdout


@pytest.mark.slow
def test_score_table_in_the_params_language(demo_dir: Path) -> None:
    zh = kpi("score", str(demo_dir / "params" / "cs-east.yaml"), "--period", "2026-Q4")
    en = kpi("score", str(demo_dir / "params" / "cs-west.yaml"), "--period", "2026-Q4")
    assert zh.returncode == en.returncode == 0
    assert "加权总分" in zh.stdout and "客户满意率" in zh.stdout
    assert "Weighted total" in en.stdout and "Cost control" in en.stdout and "D basic pass" in en.stdout
    card = json.loads(kpi("score", str(demo_dir / "params" / "cs-east.yaml"), "--period", "2026-Q4", "--json").stdout)
    cs04 = next(i for i in card["indicators"] if i["id"] == "CS04")
    assert f"CS04  {cs04['value']:.2f}% = {cs04['numerator']} / {cs04['denominator']} × 100%" in zh.stdout
    assert f"{card['total']:.2f}" in zh.stdout


@pytest.mark.slow
def test_demo_is_deterministic_and_matches_the_committed_params(tmp_path: Path, demo_dir: Path) -> None:
    result = kpi("demo", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for path in sorted((demo_dir / "data" / "demo").iterdir()):
        assert (tmp_path / "data" / "demo" / path.name).read_bytes() == path.read_bytes(), path.name
    for path in sorted((ROOT / "params").glob("*.yaml")):
        assert (tmp_path / "params" / path.name).read_bytes() == path.read_bytes(), path.name
    assert (tmp_path / "data" / "demo" / "communications.csv").read_text(encoding="utf-8").count("\n") > 3000


@pytest.mark.slow
def test_validate_ok_and_with_problems(company: Company, demo_dir: Path) -> None:
    ok = kpi("validate", str(demo_dir / "params" / "cs-east.yaml"), str(demo_dir / "params" / "cs-west.yaml"))
    assert ok.returncode == 0 and ok.stdout.count("ok ") == 2
    company.table(
        "surveys", [{"response_id": "R1", "survey": "customer_satisfaction", "date": "2026-13-01", "score": "7"}]
    )
    company.table(
        "complaints",
        [{"complaint_id": "K1", "received_at": "2026-10-01 09:00", "resolved_at": "", "satisfied": "maybe"}],
    )
    bad = kpi("validate", str(company.params()))
    assert_clean_failure(
        bad,
        1,
        "surveys.csv, row 2, column date",
        "surveys.csv, row 2, column score: found '7', expected a number from 1 to 5",
        "complaints.csv, row 2, column satisfied",
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("changes", "code", "text"),
    [
        ({"indicators": {"CS04": {"weight": 3}}}, 1, "weights sum to 95, expected 100"),
        ({"indicators": {"CS99": {"weight": 0}}}, 1, "indicators.CS99: unknown indicator"),
        ({"indicators": {"CS05": {"sla": None}}}, 1, "indicators.CS05.sla: missing prerequisite"),
        ({"department": "../x"}, 1, "department: found '../x'"),
    ],
)
def test_bad_params_exit_1_with_one_line_each(company: Company, changes: dict, code: int, text: str) -> None:
    assert_clean_failure(kpi("score", str(company.params(**changes)), "--period", "2026-Q4"), code, text)


@pytest.mark.slow
def test_bad_data_exits_1_naming_file_row_column(company: Company) -> None:
    company.table("feedback", [{"feedback_id": "F1", "received_at": "2026-10-01", "responded_at": "2026-10-02 10:00"}])
    with (company.data / "complaints.csv").open("w", encoding="utf-8") as handle:
        handle.write("complaint_id,department,received_at,resolved_at\n")
    lines = assert_clean_failure(
        kpi("score", str(company.params()), "--period", "2026-Q4", "--json"),
        1,
        "feedback.csv, row 2, column received_at: found '2026-10-01', expected a timestamp as YYYY-MM-DD HH:MM[:SS]",
        "complaints.csv, row 1, column satisfied: missing column",
    )
    assert len(lines) == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("score", "PARAMS", "--period", "2026-Q5"), "period '2026-Q5' is not valid"),
        (("score", "missing.yaml", "--period", "2026-Q4"), "missing.yaml: params file not found"),
        (("score", "PARAMS"), "kpi: missing option --period; see 'kpi score --help'"),
        (
            ("score", "PARAMS", "--period", "2026-Q4", "--colour"),
            "kpi: no such option --colour; see 'kpi score --help'",
        ),
        (("frobnicate",), "kpi: no such command 'frobnicate'; see 'kpi --help'"),
    ],
)
def test_bad_usage_exits_2(company: Company, args: tuple[str, ...], text: str) -> None:
    params = str(company.params())
    result = kpi(*(params if a == "PARAMS" else a for a in args))
    lines = assert_clean_failure(result, 2, text)
    assert len(lines) == 1
    assert result.stdout == ""


@pytest.mark.slow
def test_help_lists_the_commands() -> None:
    result = kpi("--help")
    assert result.returncode == 0
    for command in ("score", "validate", "demo"):
        assert command in result.stdout


@pytest.mark.slow
def test_validate_needs_only_the_tables_the_department_uses(company: Company) -> None:
    (company.data / "expenses.csv").unlink()
    (company.data / "budgets.csv").unlink()
    company.table(
        "observations",
        [{"indicator": "CS11", "period": "2026-Q4", "value": "0", "collector": "x", "collected_on": "2026-12-15"}],
    )
    params = company.params(indicators={"CS11": {"method": "observation"}})
    checked = kpi("validate", str(params), "--period", "2026-Q4")
    assert checked.returncode == 0, checked.stderr
    scored = kpi("score", str(params), "--period", "2026-Q4", "--json")
    assert scored.returncode == 0 and json.loads(scored.stdout)["indicators"][10]["status"] == "observed"
    missing = kpi(
        "validate", str(company.params()), "--period", "2026-Q4"
    )  # computed from records: the ledger is needed
    assert_clean_failure(missing, 1, "expenses: missing file", "budgets: missing file")
