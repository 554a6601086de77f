"""`kpi demo`: the classic three departments byte for byte, N departments, M rows per big table, refusals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kpi_lib import Period, UsageError, appraise, load_params
from kpi_lib.batch.demo import BIG_TABLES, PROFILES, TABLE_COLUMNS, profiles, write_demo
from kpi_lib.inputs.schemas import SCHEMA_COMMENT, schema_files
from kpi_lib.inputs.tables import DataFolder
from kpi_lib.scoring.appraisal import tables_needed

from .conftest import fast_sample, kpi

# sha256 of every file `kpi demo` writes by default (what `make demo` runs): a change here changes the demo.
CLASSIC = {
    "data/demo/budgets.csv": "4c697f77a086b249e7dd5ebf7c1364b0a09f74f80ce098eb202921c0b9bdf5e1",
    "data/demo/communications.csv": "491805b8d41cca4c43548ee8cf3041ff5c7e1f3fd07b4dd2faa3178f809ca00d",
    "data/demo/complaints.csv": "2ff7f1972b26d054421cfa7a7b5836999a4fcaa527a305e2760548a60664b328",
    "data/demo/expenses.csv": "697adef46d3c9c578104413ab77139f35d55af5525fc48ef32cd342ea0fc516d",
    "data/demo/feedback.csv": "b7fd8037a9c4b046d4eddb4ef97434fc01929f3f444ddb1ef8d9e1ae134ad0fc",
    "data/demo/key_accounts.csv": "6c542d0e194702cb65baa4dfef9102aabc9a0f4c77f5386f3690848253a502d8",
    "data/demo/observations.csv": "a0c969e6cfa5d08db3a3afee53e8396c7878fb16126ea6180dc5374764cea272",
    "data/demo/policy_plan.csv": "db5d8d8e1bf38ca2dfa14d2bbbff51b01392e2bc28ce4297bc616a2797052148",
    "data/demo/revisits.csv": "3672b86c06bb0538056f26d7b5b2f85f39e64f0a2e571b5f57347bf6a2bc66a7",
    "data/demo/surveys.csv": "94a271e4c329f4151dd1ed6c2bceeb707b177c890d2a4ebc8e396fbf744aad6d",
    "data/demo/work_plan.csv": "a0eb395a8b942aba17d8a46139371d8ea50ee34726851ac1d829d80f8def4abf",
    "params/cs-east.yaml": "2fa20fb1c2dba54b31d8e00436f0bee93702de01aeadccf87ae7b87bd416af15",
    "params/cs-north.yaml": "9592dbf8c574bb2935078c37f3e6f3d7446d967d540831be3074e92c52d978a6",
    "params/cs-west.yaml": "de796e5c1db7f68f1609f85d96381db781b079795793148f13cb73855b7b322b",
}


def _hashes(root: Path) -> dict[str, str]:
    """The sha256 of every file but the schemas (which follow the models and pydantic: `test_schemas.py`)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.parent.name != "schemas"
    }


def test_the_default_demo_is_the_classic_one_byte_for_byte(demo_dir: Path, tmp_path: Path) -> None:
    assert _hashes(demo_dir) == CLASSIC
    write_demo(tmp_path, departments=3)
    assert _hashes(tmp_path) == CLASSIC
    assert {p: p.read_text(encoding="utf-8") for p in (tmp_path / "schemas").iterdir()} == schema_files(tmp_path)


def test_a_demo_written_before_the_schema_line_is_replaced_without_force(tmp_path: Path) -> None:
    """Params an earlier kpi demo wrote (no schema line) and a schema kpi wrote are the demo's; another file is not."""
    write_demo(tmp_path, departments=1)
    params = tmp_path / "params" / "cs-east.yaml"
    params.write_bytes(params.read_bytes().split(b"\n", 1)[1])
    schema = tmp_path / "schemas" / "params.schema.json"
    schema.write_text(json.dumps({"$comment": SCHEMA_COMMENT.format(kind="params"), "older": True}))
    write_demo(tmp_path, departments=1)
    assert params.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../schemas/params.schema.json\n"
    )
    assert schema.read_text(encoding="utf-8") == schema_files(tmp_path)[schema]
    schema.write_text('{"title": "my own"}')
    with pytest.raises(UsageError, match="schemas/params.schema.json"):
        write_demo(tmp_path, departments=1)


@pytest.mark.parametrize(
    ("departments", "rows"),
    fast_sample([pytest.param(*c) for c in [(1, None), (2, None), (4, None), (1, 50), (3, 500), (5, 1234)]], 3),
)
def test_n_departments_load_and_score(tmp_path: Path, departments: int, rows: int | None) -> None:
    written = write_demo(tmp_path, departments=departments, rows=rows)
    assert [p.name for p in written] == [f"{p.id}.yaml" for p in profiles(departments)]
    assert sorted(p.name for p in (tmp_path / "params").iterdir()) == sorted(p.name for p in written)
    data: DataFolder | None = None
    for path in written:
        department = load_params(path)
        data = data or DataFolder.of(department)
        data.check(department.id, tables_needed(department.base, department.template.indicators))  # all valid
        card = appraise(department, Period.parse("2026-Q4"), data=data)
        assert card.summary is not None and card.summary.total is not None
    for name in TABLE_COLUMNS:
        header = (tmp_path / "data" / "demo" / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(TABLE_COLUMNS[name])


@pytest.mark.parametrize("rows", [12, 999, 5000])
def test_rows_scales_the_big_tables_only(tmp_path: Path, rows: int) -> None:
    write_demo(tmp_path, departments=3, rows=rows)
    folder = tmp_path / "data" / "demo"
    for name in BIG_TABLES:
        lines = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        extra = 3 * len(PROFILES) if name == "expenses" else 0  # three approved customer events a department
        assert len(lines) - 1 == max(rows, 12 * 3) + extra, name
    # the small tables are the demo's own
    for name in ("policy_plan", "work_plan", "key_accounts", "observations"):
        assert hashlib.sha256((folder / f"{name}.csv").read_bytes()).hexdigest() == CLASSIC[f"data/demo/{name}.csv"]


@pytest.mark.parametrize(("departments", "rows"), [(5, None), (4, 3000)])
def test_same_arguments_same_bytes(tmp_path: Path, departments: int, rows: int | None) -> None:
    write_demo(tmp_path / "a", departments=departments, rows=rows)
    write_demo(tmp_path / "b", departments=departments, rows=rows)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")


def test_a_bigger_company_only_adds_departments() -> None:
    assert profiles(7)[:5] == profiles(5)
    assert profiles(2) == PROFILES[:2]
    assert len({p.id for p in profiles(40)}) == 40


@pytest.mark.slow
def test_the_company_has_a_spread_of_scores(tmp_path: Path) -> None:
    written = write_demo(tmp_path, departments=12)
    data: DataFolder | None = None
    grades, totals = set(), set()
    for path in written:
        department = load_params(path)
        data = data or DataFolder.of(department)
        summary = appraise(department, Period.parse("2026"), data=data).summary
        assert summary is not None
        grades.add(summary.grade)
        totals.add(summary.total)
    assert len(totals) == 12
    assert len(grades) >= 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--departments", "0"], "--departments 0: expected a whole number ≥ 1"),
        (["--departments", "-3"], "--departments -3: expected a whole number ≥ 1"),
        (["-n", "1.5"], "--departments 1.5: expected a whole number ≥ 1"),
        (["--rows", "0"], "--rows 0: expected a whole number ≥ 1"),
        (["--rows", "-10", "--departments", "2"], "--rows -10: expected a whole number ≥ 1"),
        (["--rows", "many"], "--rows many: expected a whole number ≥ 1"),
    ],
)
def test_counts_below_one_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    result = kpi("demo", "--out", str(tmp_path), *args, in_process=True)
    assert result.returncode == 2
    assert result.stderr == f"kpi: {message}; see 'kpi demo --help'\n"
    assert not (tmp_path / "params").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"departments": 0}, "--departments 0: expected a whole number ≥ 1"),
        ({"rows": 0}, "--rows 0: expected a whole number ≥ 1"),
    ],
)
def test_write_demo_refuses_counts_below_one_too(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        write_demo(tmp_path, **kwargs)
    assert not (tmp_path / "params").exists()


def test_the_demo_written_twice_is_the_same_and_an_edit_is_kept(tmp_path: Path) -> None:
    """What `make demo` does on a second run: no change; an edited params file is refused, then replaced with --force."""
    write_demo(tmp_path)
    write_demo(tmp_path)
    assert _hashes(tmp_path) == CLASSIC
    edited = tmp_path / "params" / "cs-west.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("weight: 5", "weight: 6", 1), encoding="utf-8")
    with pytest.raises(UsageError, match=r"1 existing file\(s\) differ .*cs-west.yaml; nothing was written"):
        write_demo(tmp_path)
    assert _hashes(tmp_path)["params/cs-west.yaml"] != CLASSIC["params/cs-west.yaml"]
    write_demo(tmp_path, force=True)
    assert _hashes(tmp_path) == CLASSIC


def test_kpi_demo_departments_through_the_command_line(tmp_path: Path) -> None:
    result = kpi("demo", "--out", str(tmp_path), "--departments", "4", "--rows", "400", in_process=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("wrote ") == 6  # 4 params files, the tables, the schemas
    card = kpi("score", str(tmp_path / "params" / "cs-d004.yaml"), "--period", "2026-Q4", "--json", in_process=True)
    assert card.returncode == 0, card.stderr
    assert json.loads(card.stdout)["department"] == "cs-d004"
