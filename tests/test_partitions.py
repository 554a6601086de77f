"""Each table read once per run; each department's own rows kept as its partition (kpi_lib/inputs/partitions.py).

The partition path must give exactly what reading the company's files gives:
the same result for every department and period, and for bad input the same
problems, with the same rows, failing the same departments.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from kpi_lib import DataError, InternalError, Period, appraise, load_params
from kpi_lib.base.errors import Code, Problem
from kpi_lib.inputs import tables as tables_module
from kpi_lib.inputs.partitions import PartitionFolder, SharedTables, partition_bytes, read_partition, write_partition
from kpi_lib.inputs.scope import Scope
from kpi_lib.inputs.tables import ReadRules, Table
from kpi_lib.inputs.template import load_template
from kpi_lib.scoring.appraisal import tables_needed

from .conftest import fast_sample

DEPARTMENTS = ("cs-east", "cs-north", "cs-west")


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo company (data and params), free to be damaged."""
    shutil.copytree(demo_dir / "data", tmp_path / "data")
    shutil.copytree(demo_dir / "params", tmp_path / "params")
    return tmp_path


def keep_partitions(root: Path, period: Period) -> tuple[SharedTables, dict[str, Path]]:
    """Read every table once for the three departments and write each one's partitions, as `kpi run` does."""
    shared = SharedTables()
    folders = {}
    for dept in DEPARTMENTS:
        department = load_params(root / "params" / f"{dept}.yaml")
        data = shared.folder(department)
        inputs = root / "outputs" / dept / "inputs"
        params = department.for_period(period)
        scope = Scope.of(department.template, params, period)  # what stops it in the period, as `kpi run` keeps it
        for name in tables_needed(params, department.template.indicators):
            write_partition(data.table(name), dept, inputs, scope)
        folders[dept] = inputs
    return shared, folders


def outcome(dept: str, root: Path, period: Period, inputs: Path | None) -> object:
    """The department's result, or the lines of the problems that stop it."""
    department = load_params(root / "params" / f"{dept}.yaml")
    data = None if inputs is None else PartitionFolder(department, inputs)
    try:
        return appraise(department, period, data=data).to_json()
    except DataError as exc:
        return exc.lines()


@pytest.mark.parametrize("period", fast_sample(["2026-Q4", "2026-10", "2026-H2", "2026"], 4))
def test_every_department_scores_the_same_from_its_partition(demo: Path, period: str) -> None:
    window = Period.parse(period)
    _, folders = keep_partitions(demo, window)
    for dept in DEPARTMENTS:
        assert outcome(dept, demo, window, folders[dept]) == outcome(dept, demo, window, None), dept


def test_each_table_is_read_once_for_all_departments(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real = tables_module.load_table

    def counting(folder: Path, spec: object, *args: object, **kwargs: object) -> Table:
        reads.append(spec.name)  # type: ignore[attr-defined]
        return real(folder, spec, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tables_module, "load_table", counting)
    shared, folders = keep_partitions(demo, Period.parse("2026-Q4"))
    assert sorted(reads) == sorted(set(reads)), "a table was read twice"
    assert shared.loads == len(reads) == len(set(reads)) >= 10
    monkeypatch.setattr(tables_module, "load_table", lambda *a, **k: pytest.fail("a partition read a company file"))
    for dept in DEPARTMENTS:  # the notebooks' side: partitions only
        assert isinstance(outcome(dept, demo, Period.parse("2026-Q4"), folders[dept]), dict)


def _line(path: Path, department: str, having: str = "") -> int:
    """The 0-based index of the first line of `department` in a CSV (that holds `having`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines) if f",{department}," in line and having in line)


def _edit(
    table: str, department: str, change: Callable[[list[str]], list[str]], having: str = ""
) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / "data" / "demo" / f"{table}.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        i = _line(path, department, having)
        lines[i] = ",".join(change(lines[i].split(",")))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    return apply


def _append_copy(table: str, department: str, having: str = "") -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / "data" / "demo" / f"{table}.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join([*lines, lines[_line(path, department, having)]]) + "\n", encoding="utf-8")

    return apply


def _drop(table: str) -> Callable[[Path], None]:
    return lambda root: (root / "data" / "demo" / f"{table}.csv").unlink()


# (damage, the departments it must stop): each class of bad input, as the full read sees it.
DAMAGE = {
    "a bad date in cs-east's survey row": (
        _edit("surveys", "cs-east", lambda c: [*c[:4], "2026-13-01", *c[5:]]),
        {"cs-east"},
    ),
    "a score out of range in cs-west's row": (_edit("surveys", "cs-west", lambda c: [*c[:5], "9"]), {"cs-west"}),
    "a department value that nearly names cs-north": (
        _edit("complaints", "cs-north", lambda c: [c[0], "CS-North", *c[2:]], having=",cs-north,2026-1"),
        {"cs-north"},
    ),
    "an empty department stops everybody": (
        _edit("expenses", "cs-west", lambda c: [c[0], "", *c[2:]], having=",2026-11-"),
        set(DEPARTMENTS),
    ),
    "an empty department in a row outside the period stops nobody": (
        _edit("expenses", "cs-west", lambda c: [c[0], "", *c[2:]], having=",2026-03-"),
        set(),
    ),
    "a duplicate key of cs-east": (_append_copy("feedback", "cs-east", ",2026-1"), {"cs-east"}),
    "a duplicate key of cs-east outside the period": (_append_copy("feedback", "cs-east", ",2026-03-"), set()),
    "a missing file stops everybody": (_drop("revisits"), set(DEPARTMENTS)),
}


@pytest.mark.parametrize("case", fast_sample(DAMAGE, 3))
def test_bad_rows_fail_their_own_department_with_the_same_messages(demo: Path, case: str) -> None:
    damage, stopped = DAMAGE[case]
    damage(demo)
    window = Period.parse("2026-Q4")
    _, folders = keep_partitions(demo, window)
    for dept in DEPARTMENTS:
        direct = outcome(dept, demo, window, None)
        assert outcome(dept, demo, window, folders[dept]) == direct, dept
        assert isinstance(direct, list) == (dept in stopped), (dept, direct)


SPEC = load_template().tables["expenses"]


def _table(frame: pd.DataFrame, problems: list[Problem]) -> Table:
    return Table(SPEC, "/data/expenses.xlsx", "f" * 64, frame, problems, ReadRules(), {"amount": "D"})


def _frame(**columns: list[object]) -> pd.DataFrame:
    base = {c.name: pd.Series([None] * 3, dtype=object) for c in SPEC.columns}
    for name, values in columns.items():
        base[name] = pd.Series(values, dtype=object)
    frame = pd.DataFrame(base)
    for c in SPEC.columns:
        if c.type in ("date", "timestamp"):
            frame[c.name] = pd.to_datetime(frame[c.name]).astype("datetime64[ns]")
    frame["department"] = ["cs-x"] * 3
    frame["_row"] = pd.Series([2, 7, 12], dtype="int64")
    frame.index = pd.Index([0, 5, 10], dtype="int64")
    return frame


# Cells a partition must keep exactly: exponents of decimals, NaT, empty text, Chinese, row numbers, the index.
ROUND_TRIPS = {
    "decimals keep their exponent": _frame(amount=[Decimal("1.50"), Decimal("1E+3"), Decimal("-0")]),
    "empty cells": _frame(amount=[None, Decimal("0"), None]),
    "dates with NaT": _frame(date=["2026-10-01", None, "2026-12-31"]),
}


@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_a_partition_reads_back_exactly(case: str, tmp_path: Path) -> None:
    frame = ROUND_TRIPS[case]
    problems = [
        Problem(
            file="/data/expenses.xlsx",
            message="m",
            row=7,
            column="amount",
            value=Decimal("1.5"),
            department="cs-x",
            cell="D7",
            code=Code.OUT_OF_RANGE,
        ),
        Problem(file="/data/expenses.xlsx", message="missing column", code=Code.MISSING_COLUMN),
    ]
    write_partition(_table(frame, problems), "cs-x", tmp_path)
    back = read_partition(tmp_path / "tables" / "expenses.parquet", "cs-x", ReadRules(), None, SPEC)
    pd.testing.assert_frame_equal(back.frame, frame)
    for column in frame.columns:
        assert [(type(v), str(v)) for v in back.frame[column]] == [(type(v), str(v)) for v in frame[column]]
    assert [str(p) for p in back.problems] == [str(p) for p in problems]
    assert back.letters == {"amount": "D"} and back.file == "/data/expenses.xlsx"


def test_a_partition_is_a_pure_function_of_the_rows(tmp_path: Path) -> None:
    frame = ROUND_TRIPS["decimals keep their exponent"]
    one, _ = partition_bytes(_table(frame, []), "cs-x")
    assert one == partition_bytes(_table(frame.copy(), []), "cs-x")[0]
    changed = frame.copy()
    changed.loc[5, "amount"] = Decimal("1.5")  # the same number, written differently
    assert partition_bytes(_table(changed, []), "cs-x")[0] != one


def test_a_column_of_something_else_is_refused() -> None:
    with pytest.raises(InternalError, match="column amount holds"):
        partition_bytes(_table(_frame(amount=[1.5, Decimal("1"), None]), []), "cs-x")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: p.write_bytes(b"not parquet"), "cannot be read as a partition"),
        (lambda p: p.unlink(), "missing"),
    ],
)
def test_a_damaged_partition_is_refused(demo: Path, damage: Callable[[Path], None], expected: str) -> None:
    _, folders = keep_partitions(demo, Period.parse("2026-Q4"))
    damage(folders["cs-east"] / "tables" / "surveys.parquet")
    department = load_params(demo / "params" / "cs-east.yaml")
    with pytest.raises(Exception, match=expected):
        appraise(department, Period.parse("2026-Q4"), data=PartitionFolder(department, folders["cs-east"]))


def test_another_departments_partition_is_refused(demo: Path) -> None:
    _, folders = keep_partitions(demo, Period.parse("2026-Q4"))
    shutil.copy(folders["cs-west"] / "tables" / "surveys.parquet", folders["cs-east"] / "tables" / "surveys.parquet")
    department = load_params(demo / "params" / "cs-east.yaml")
    with pytest.raises(Exception, match="of department 'cs-west'; expected surveys of cs-east"):
        appraise(department, Period.parse("2026-Q4"), data=PartitionFolder(department, folders["cs-east"]))
