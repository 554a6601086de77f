"""Why did my score change? (kpi_lib/audit/diff.py): two runs of a department compared indicator by indicator.

Each run folder here is made the way `kpi run` makes one, without notebooks: the
inputs copied by `audit.snapshot_inputs`, the manifest of `audit.build_manifest`
with the effective params, and `result.json` as `kpi score --json` prints it.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kpi_lib import AuditError, KpiError, Period, UsageError, appraise, load_params
from kpi_lib.audit.diff import MAX_ROWS, diff_runs
from kpi_lib.audit.trail import MANIFEST, build_manifest, snapshot_inputs

from .conftest import Company, kpi, messages

PERIOD = "2026-Q4"


def run(company: Company, folder: Path, **changes: Any) -> Path:
    """A department output folder of `company` as it stands now, params changed by `changes`."""
    department = load_params(company.params(**changes))
    period = Period.parse(PERIOD)
    card = appraise(department, period)
    folder.mkdir(parents=True)
    inputs = snapshot_inputs(department, period, folder)
    (folder / "result.json").write_text(json.dumps(card.to_json(), ensure_ascii=False), encoding="utf-8")
    effective = department.for_period(period).model_dump(mode="json")
    manifest = build_manifest(
        folder, department="cs-test", period=PERIOD, status="ok", inputs=inputs, effective=effective, commit="test"
    )
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return folder


def body(lines: list[str]) -> list[str]:
    """The lines after the two that name the runs."""
    assert lines[0].startswith("A: ") and lines[1].startswith("B: ")
    return lines[2:]


def as_before(company: Company) -> Company:
    company.table("communications", messages(187, 13))  # CS04 93.5% → 98.00; every other indicator has no rows
    return company


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run A (made once: no test changes it)."""
    root = tmp_path_factory.mktemp("before")
    return run(as_before(Company(root / "company")), root / "a")


@pytest.fixture
def now(company: Company) -> Company:
    """A company with run A's data and params, for a test to change and run again as B."""
    return as_before(company)


def test_a_run_against_itself_shows_only_the_totals(before: Path) -> None:
    assert body(diff_runs(before, before)) == ["total: 99.0 → 99.0; grade: A → A"]


def test_a_changed_parameter_is_the_reason_given(now: Company, before: Path, tmp_path: Path) -> None:
    after = run(now, tmp_path / "b", indicators={"CS04": {"target": 97}})
    assert body(diff_runs(before, after)) == [
        "total: 99.0 → 97.0; grade: A → A",  # (94 × 8 + 100 × 8) / 16: CS04 and CS11
        "CS04: value 93.5 → 93.5, score 98.0 → 94.0",  # 3 whole steps short of 97 instead of 1 short of 95
        "    because parameter indicators.CS04.target: 95 → 97",
    ]


def test_a_policy_change_is_named_for_every_indicator(now: Company, before: Path, tmp_path: Path) -> None:
    after = run(now, tmp_path / "b", policy={"on_empty": "zero"})
    lines = body(diff_runs(before, after))
    assert lines[1] == "parameters changed for every indicator: policy.on_empty: exclude → zero"
    cs07 = lines.index("CS07: value None → None, score None → 0.0, status excluded → scored")
    assert lines[cs07 + 1] == "    because of the scoring policy or rows outside this department's tables (see above)"
    assert not any(line.startswith("CS04") for line in lines)  # scored alike in both runs


def test_added_removed_and_edited_rows_by_key_with_row_numbers(now: Company, before: Path, tmp_path: Path) -> None:
    rows = messages(187, 13)
    removed = rows.pop(0)  # M0, on time; the rest move up a line
    rows[0] = {**rows[0], "sent_at": "2026-11-10 09:00"}  # M1 answered late now
    rows.append({"message_id": "M999", "created_at": "2026-12-01 09:00:00", "sent_at": "2026-12-01 10:00"})
    now.table("communications", rows)
    after = run(now, tmp_path / "b")
    lines = body(diff_runs(before, after))
    assert lines[1:3] == [
        "CS04: value 93.5 → 93.0, score 98.0 → 96.0",
        "    because input communications changed: 1 row(s) added, 1 removed, 1 edited",
    ]
    table = lines.index(f"input communications ({now.data / 'communications.csv'}):")
    assert lines[table + 1 :] == [
        "    added: row 201 (M999)",
        f"    removed: row 2 ({removed['message_id']})",
        "    edited: row 3 → 2 (M1): sent_at: 2026-11-03 08:01:00 → 2026-11-10 09:00:00",
    ]


def test_an_excluded_row_is_the_reason_given_for_the_indicators_reading_its_table(
    now: Company, before: Path, tmp_path: Path
) -> None:
    reason = "sent by a test account"
    after = run(now, tmp_path / "b", tables={"communications": {"exclude": {"M0": reason}}})
    assert body(diff_runs(before, after)) == [
        "total: 99.0 → 99.0; grade: A → A",
        "CS04: value 93.5 → 93.47, score 98.0 → 98.0",  # 186 / 199 on time once M0 (on time) is left out
        f"    because parameter tables.communications.exclude.M0: (unset) → {reason}",
    ]


def test_a_file_changed_only_in_another_departments_rows(now: Company, before: Path, tmp_path: Path) -> None:
    other = {"message_id": "X1", "department": "cs-other", "created_at": "2026-10-01 09:00", "sent_at": ""}
    now.table("communications", [*messages(187, 13), other])
    after = run(now, tmp_path / "b")
    lines = body(diff_runs(before, after))
    assert lines[1:] == [
        "CS04: value 93.5 → 93.5, score 98.0 → 98.0",
        "    because input communications changed: 0 row(s) added, 0 removed, 0 edited",
        "input communications: file changed, but not this department's rows",
    ]


def test_a_long_list_of_rows_is_cut_at_max_rows(now: Company, before: Path, tmp_path: Path) -> None:
    extra = messages(MAX_ROWS + 5, 0, start=datetime(2026, 12, 1, 9, 0))
    now.table("communications", [*messages(187, 13), *({**r, "message_id": f"N{r['message_id']}"} for r in extra)])
    lines = body(diff_runs(before, run(now, tmp_path / "b")))
    assert sum(line.startswith("    added: row ") for line in lines) == MAX_ROWS
    assert lines[-1] == "    … 5 more added"


def test_a_failed_run_has_nothing_to_compare(before: Path, tmp_path: Path) -> None:
    failed = Path(shutil.copytree(before, tmp_path / "failed"))
    (failed / "result.json").unlink()
    with pytest.raises(KpiError, match=r"no result\.json \(the department failed in that run\); nothing to compare"):
        diff_runs(before, failed)


@pytest.mark.parametrize(
    ("damage", "error", "expected"),
    [
        ("no manifest", UsageError, "no manifest.json; expected a department folder written by kpi run"),
        ("no period", AuditError, "manifest.json: no period; expected a manifest written by kpi run"),
        ("no scores", AuditError, "result.json: expected the object kpi score --json prints"),
    ],
)
def test_a_folder_that_is_no_run_is_named(
    before: Path, tmp_path: Path, damage: str, error: type[KpiError], expected: str
) -> None:
    broken = Path(shutil.copytree(before, tmp_path / "broken"))
    if damage == "no manifest":
        (broken / MANIFEST).unlink()
    elif damage == "no period":
        manifest = json.loads((broken / MANIFEST).read_text(encoding="utf-8"))
        del manifest["period"]
        (broken / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    else:
        (broken / "result.json").write_text(json.dumps({"total": 1, "grade": "A", "indicators": [{"id": "CS01"}]}))
    with pytest.raises(error, match=expected):
        diff_runs(before, broken)


def test_kpi_diff_prints_the_lines(now: Company, before: Path, tmp_path: Path) -> None:
    after = run(now, tmp_path / "b", indicators={"CS04": {"target": 97}})
    result = kpi("diff", before, after, in_process=True)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines() == diff_runs(before, after)
