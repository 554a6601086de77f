"""Strict where it counts, and nowhere else (`kpi_lib.inputs.scope`, `tables.Table.sorted_problems`, `errors.problem_lines`).

- A problem in a column no indicator reads (an unnamed pandas index, a duplicate or
  junk extra column, junk in a descriptive column) stops nothing, in every source kind,
  and `kpi validate` notes it once per column; the same problem in a read column stops.
- A problem in a row whose window column puts it outside the period stops nothing;
  inside the window it stops, as before; a partition keeps only what stops.
- Problems of one kind in one column: five lines, then one line for the rest.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kpi_lib import DataError, Period, appraise, load_params
from kpi_lib.base.errors import Code, Problem, problem_lines
from kpi_lib.inputs.partitions import PartitionFolder, write_partition
from kpi_lib.inputs.scope import Scope
from kpi_lib.inputs.tables import DataFolder, read_columns
from kpi_lib.inputs.template import load_template
from kpi_lib.scoring.appraisal import tables_needed

from .conftest import fast_sample, kpi
from .corpus.company import DEPT, HEADERS, PERIOD, ROWS, ErrorCell, _parquet_column, write_company, write_table

FORMS = ("csv-exact", "csv-plain", "xlsx", "parquet")
WINDOW = Period.parse(PERIOD)  # 2026-Q4


def _write(root: Path, form: str, edits: dict[str, tuple[list[str], list[list[Any]]]], **params: Any) -> Path:
    """The corpus company in `form`, with `edits` written under their own header; csv-exact adds a blank line
    to those tables (so the csv module reads them cell by cell, not pyarrow)."""
    fmt = form.split("-")[0]
    path = write_company(root, fmt, **params)
    data = root / "data"
    for name, (header, rows) in edits.items():
        if fmt == "parquet":  # (write_table would fold a header given twice)
            columns = list(zip(*rows, strict=True))
            arrays = [_parquet_column(list(col)) for col in columns]
            pq.write_table(pa.Table.from_arrays(arrays, names=header), data / f"{name}.parquet")
        else:
            write_table(data, name, fmt, rows, header)
        if form == "csv-exact":
            with (data / f"{name}.csv").open("a", encoding="utf-8") as handle:
                handle.write("\n")
    return path


def _result(path: Path) -> dict[str, Any]:
    return appraise(load_params(path), WINDOW).to_json()


def _validate(path: Path) -> tuple[int, list[str], str]:
    done = kpi("validate", str(path), "--period", PERIOD, in_process=True)
    return done.returncode, [line for line in done.stdout.splitlines() if line.startswith("note")], done.stderr


def _rows(table: str) -> list[list[Any]]:
    return copy.deepcopy(ROWS[table])


def _junk(form: str) -> Any:
    """A text cell that does not parse: a control character (xlsx cannot hold one: an error cell instead)."""
    return ErrorCell("#N/A") if form == "xlsx" else "张\x07三"


# -- columns nobody reads ------------------------------------------------------------------------
Edit = Callable[[str], dict[str, tuple[list[str], list[list[Any]]]]]


def _index_column(name: str) -> Edit:
    """A pandas index written with the frame: a first column under `name`, 0, 1, 2 …"""
    return lambda form: {
        "complaints": ([name, *HEADERS["complaints"]], [[str(i), *r] for i, r in enumerate(_rows("complaints"))])
    }


def _twice_extra(form: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    return {"complaints": ([*HEADERS["complaints"], "note", "note"], [[*r, "a", "b"] for r in _rows("complaints")])}


def _junk_unread(form: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    rows = _rows("surveys")
    rows[0][HEADERS["surveys"].index("respondent")] = _junk(form)
    return {"surveys": (HEADERS["surveys"], rows)}


def _null_extra(form: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    return {"complaints": ([*HEADERS["complaints"], "extra"], [[*r, ""] for r in _rows("complaints")])}


# (edit, notes per form): Parquet columns the template does not name are never read, so never noted
UNREAD: dict[str, tuple[Edit, dict[str, int]]] = {
    "empty header": (_index_column(""), {"csv-exact": 1, "csv-plain": 1, "xlsx": 1, "parquet": 0}),
    "Unnamed: 0": (_index_column("Unnamed: 0"), dict.fromkeys(FORMS, 0)),
    "duplicate header": (_twice_extra, {"csv-exact": 1, "csv-plain": 1, "xlsx": 1, "parquet": 0}),
    "junk in an unread column": (_junk_unread, dict.fromkeys(FORMS, 1)),
    "an all-null extra column": (_null_extra, dict.fromkeys(FORMS, 0)),
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The clean company's result in each form."""
    return {form: _result(_write(tmp_path_factory.mktemp(form), form, {})) for form in FORMS}


@pytest.mark.parametrize(
    ("case", "form"),
    fast_sample((pytest.param(c, f, id=f"{c}-{f}") for c in UNREAD for f in FORMS), 3),
)
def test_a_problem_in_a_column_nobody_reads_stops_nothing(
    case: str, form: str, tmp_path: Path, clean: dict[str, dict[str, Any]]
) -> None:
    edit, notes = UNREAD[case]
    path = _write(tmp_path, form, edit(form))
    assert _result(path) == clean[form]
    code, noted, err = _validate(path)
    assert code == 0, err
    assert len(noted) == notes[form], noted
    assert all("read by no indicator of cs-test" in line for line in noted), noted


def _junk_read(form: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    rows = _rows("policy_plan")
    rows[1][HEADERS["policy_plan"].index("excuse_reason")] = _junk(form)  # CS01 shows why a row is excused
    return {"policy_plan": (HEADERS["policy_plan"], rows)}


def _twice_read(form: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    return {"complaints": ([*HEADERS["complaints"], "satisfied"], [[*r, r[4]] for r in _rows("complaints")])}


READ: dict[str, tuple[Edit, Code]] = {
    "junk in a read column": (_junk_read, Code.CONTROL_CHARACTER),
    "a read column's header twice": (_twice_read, Code.DUPLICATE_COLUMN),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", list(READ))
def test_the_same_problem_in_a_read_column_still_stops(case: str, form: str, tmp_path: Path) -> None:
    edit, code = READ[case]
    path = _write(tmp_path, form, edit(form))
    with pytest.raises(DataError) as raised:
        _result(path)
    codes = {p.code for p in raised.value.problems}
    assert code in codes or (form == "xlsx" and Code.ERROR_CELL in codes), raised.value.lines()
    assert _validate(path)[0] == 1


def test_a_parquet_file_is_read_only_for_the_template_s_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "parquet", {})
    table = pq.read_table(tmp_path / "data" / "complaints.parquet")
    wide = table
    for i in range(60):
        wide = wide.append_column(f"extra_{i}", pa.array([None] * len(table), pa.string()))
    wide = wide.append_column("bad", pa.array([[1]] * len(table)))  # a list cell: unreadable, were it read
    pq.write_table(wide, tmp_path / "data" / "complaints.parquet")
    loaded = DataFolder.of(load_params(path)).table("complaints")
    assert loaded.problems == []
    assert list(loaded.frame.columns) == [*HEADERS["complaints"], "_row"]


# -- rows outside the window ---------------------------------------------------------------------
WHEN = {"before": "2026-09-30 23:59", "after": "2027-01-01 00:00", "inside": "2026-12-31 23:59"}
DAY = {"before": "2026-09-30", "after": "2027-01-01", "inside": "2026-12-31"}


def _complaint(when: str, resolved: str, satisfied: str, key: str = "K9") -> Edit:
    row = [key, DEPT, when, resolved, satisfied]
    return lambda form: {"complaints": (HEADERS["complaints"], [*_rows("complaints"), row])}


def _survey(day: str, score: str) -> Edit:
    row = ["R9", DEPT, "customer_satisfaction", "周九", day, score]
    return lambda form: {"surveys": (HEADERS["surveys"], [*_rows("surveys"), row])}


EARLIER = {"before": "2026-09-29 10:00", "after": "2026-12-31 22:00", "inside": "2026-12-30 10:00"}


KINDS: dict[str, tuple[Callable[[str], Edit], Code]] = {
    "closed before opened": (lambda at: _complaint(WHEN[at], EARLIER[at], "yes"), Code.WRONG_ORDER),
    "a bad boolean": (lambda at: _complaint(WHEN[at], WHEN[at], "maybe"), Code.NOT_A_BOOLEAN),
    "a bad number": (lambda at: _survey(DAY[at], "lots"), Code.NOT_A_NUMBER),
    "a key given twice": (lambda at: _complaint(WHEN[at], WHEN[at], "yes", key="K1"), Code.DUPLICATE_KEY),
}


@pytest.mark.parametrize(
    ("kind", "at"), fast_sample((pytest.param(k, a, id=f"{k}-{a}") for k in KINDS for a in WHEN), 2)
)
def test_a_bad_row_outside_the_period_stops_nothing(
    kind: str, at: str, tmp_path: Path, clean: dict[str, dict[str, Any]]
) -> None:
    make, code = KINDS[kind]
    path = _write(tmp_path, "csv-plain", make(at)(""))
    code_, noted, err = _validate(path)
    if at == "inside":
        with pytest.raises(DataError) as raised:
            _result(path)
        assert code in {p.code for p in raised.value.problems}, raised.value.lines()
        assert code_ == 1
        return
    assert _result(path) == clean["csv-plain"]
    assert code_ == 0, err
    assert len(noted) == 1 and f"outside the period {PERIOD}" in noted[0], noted


@pytest.mark.parametrize("at", ["before", "inside"])
def test_a_partition_keeps_what_stops_and_scores_as_the_full_read(at: str, tmp_path: Path) -> None:
    """`kpi run` writes partitions under the period's scope; `kpi verify` and the notebooks read them back."""
    path = _write(tmp_path, "csv-plain", KINDS["closed before opened"][0](at)(""))
    department = load_params(path)
    params = department.for_period(WINDOW)
    scope = Scope.of(department.template, params, WINDOW)
    data = DataFolder.of(department)
    inputs = tmp_path / "inputs"
    for name in tables_needed(params, department.template.indicators):
        write_partition(data.table(name), DEPT, inputs, scope)

    def outcome(folder: DataFolder | None) -> object:
        try:
            return appraise(department, WINDOW, data=folder).to_json()
        except DataError as exc:
            return exc.lines()

    assert outcome(PartitionFolder(department, inputs)) == outcome(None)
    assert isinstance(outcome(None), list) == (at == "inside")


def test_a_month_scores_though_other_months_hold_broken_rows(tmp_path: Path) -> None:
    """The NYC 311 case: rows of other months closed before they were opened do not stop November."""
    broken = [["K8", DEPT, "2026-10-20 10:00", "2026-10-19 10:00", "yes"], ["K9", DEPT, "2026-12-03 10:00", "", "x"]]
    budgets = [*_rows("budgets"), [DEPT, "2026-10", "700"], [DEPT, "2026-11", "700"]]
    path = _write(
        tmp_path,
        "csv-plain",
        {
            "complaints": (HEADERS["complaints"], [*_rows("complaints"), *broken]),
            "budgets": (HEADERS["budgets"], budgets),
        },
    )
    november = appraise(load_params(path), Period.parse("2026-11")).to_json()
    assert november["period"] == "2026-11"
    with pytest.raises(DataError):
        appraise(load_params(path), Period.parse("2026-10"))


# -- which columns are read ----------------------------------------------------------------------
TEMPLATE = load_template()
OBSERVED = {"CS02": {"method": "observation"}}


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("complaints", {"complaint_id", "department", "received_at", "resolved_at", "satisfied"}),
        ("surveys", {"response_id", "department", "survey", "date", "score"}),
        ("policy_plan", {"item_id", "department", "planned_date", "completed_date", "excused", "excuse_reason"}),
        ("communications", {"message_id", "department", "created_at", "sent_at"}),
        ("revisits", {"customer_id", "department", "key_account", "planned_date", "done_date"}),
        ("key_accounts", {"account_id", "department", "since", "lost_on"}),
        ("expenses", {"entry_id", "department", "date", "amount", "approved_overrun"}),
        ("budgets", {"department", "period", "amount"}),
        ("observations", set()),
    ],
)
def test_read_columns_of_the_template_s_methods(table: str, expected: set[str]) -> None:
    assert read_columns(TEMPLATE, TEMPLATE.indicators, table) == expected


@pytest.mark.parametrize(
    ("table", "methods", "expected"),
    [
        ("observations", OBSERVED, {c.name for c in TEMPLATE.tables["observations"].columns}),
        ("surveys", OBSERVED, {"response_id", "department", "survey", "date", "score"}),  # still CS10, CS12
        ("complaints", {"CS07": {"method": "observation"}}, set()),
        ("complaints", {}, {"complaint_id", "department", "received_at", "resolved_at", "satisfied"}),
    ],
)
def test_read_columns_under_a_department_s_methods(
    table: str, methods: dict[str, Any], expected: set[str], tmp_path: Path
) -> None:
    path = write_company(tmp_path, "csv", indicators=methods)
    department = load_params(path)
    assert read_columns(department.template, department.for_period(WINDOW), table) == expected
    assert read_columns(department.template, department, table) == expected  # (its base params)


# -- five of a kind, then one line ---------------------------------------------------------------
def _bad(n: int, column: str = "received_at", first: int = 12) -> list[Problem]:
    return [
        Problem(file="complaints.csv", row=first + i, column=column, value="x", message="bad", code=Code.BAD_TIMESTAMP)
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("problems", "expected"),
    [
        (_bad(3), 3),
        (_bad(5), 5),
        (_bad(6), 6),  # the sixth shown itself, not "… and 1 more"
        (_bad(7), 6),
        (_bad(600), 6),
        ([*_bad(6), *_bad(7, "resolved_at")], 12),
        ([*_bad(7), *_bad(7, "resolved_at")], 12),
        ([p for pair in zip(_bad(8), _bad(8, "resolved_at"), strict=True) for p in pair], 12),
    ],
)
def test_problems_of_a_kind_beyond_five_are_one_line(problems: list[Problem], expected: int) -> None:
    lines = problem_lines(problems)
    assert len(lines) == expected
    assert DataError(problems).lines() == lines == str(DataError(problems)).splitlines()

    def shown(p: Problem) -> bool:
        same = [q for q in problems if q.column == p.column]
        return len(same) <= 6 or same.index(p) < 5

    assert [line for line in lines if "more like this" not in line] == [str(p) for p in problems if shown(p)]


@pytest.mark.parametrize(
    ("n", "line"),
    [
        (7, "complaints.csv: … and 2 more like this in column received_at (rows 17–18)"),
        (600, "complaints.csv: … and 595 more like this in column received_at (rows 17–611)"),
    ],
)
def test_the_line_for_the_rest_names_the_column_and_the_rows(n: int, line: str) -> None:
    assert problem_lines(_bad(n))[-1] == line


def test_a_wrong_date_format_prints_a_few_lines_not_hundreds(tmp_path: Path) -> None:
    rows = [[f"K{i}", DEPT, "2026-11-01 09:00", "2026-11-01 10:00", "yes"] for i in range(600)]
    path = _write(
        tmp_path,
        "csv-plain",
        {"complaints": (HEADERS["complaints"], rows)},
        tables={"complaints": {"date_format": "%d/%m/%Y %H:%M"}},
    )
    with pytest.raises(DataError) as raised:
        _result(path)
    assert len(raised.value.problems) == 1200
    lines = raised.value.lines()
    assert len(lines) == 12, lines
    assert lines[5] == "… and 595 more like this in column received_at (rows 7–601)" or lines[5].endswith(
        "… and 595 more like this in column received_at (rows 7–601)"
    )
    code, _, err = _validate(path)
    assert code == 1 and len(err.splitlines()) <= 13, err


BOSTON = ["", "case_enquiry_id", "dept", "open_dt", "closed_dt", "ontime", "description", "Unnamed: 7"]
BOSTON_MAPPING = {
    "complaints": {
        "columns": {
            "complaint_id": "case_enquiry_id",
            "department": "dept",
            "received_at": "open_dt",
            "resolved_at": "closed_dt",
            "satisfied": "ontime",
        },
        "values": {"satisfied": {"ONTIME": True, "OVERDUE": False}},
    }
}


@pytest.mark.parametrize("form", ["csv-plain", "xlsx", "parquet"])
def test_a_boston_311_export_with_a_pandas_index_loads_through_mappings_alone(
    form: str, tmp_path: Path, clean: dict[str, dict[str, Any]]
) -> None:
    happy = {"是": "ONTIME", "yes": "ONTIME", "否": "OVERDUE", "": ""}
    rows = [
        [str(i), *r[:4], happy[r[4]], "Pothole" if form == "xlsx" else "Pothole\x07", ""]
        for i, r in enumerate(_rows("complaints"))
    ]
    path = _write(tmp_path, form, {"complaints": (BOSTON, rows)}, tables=BOSTON_MAPPING)
    assert _result(path) == clean[form]
    code, noted, err = _validate(path)
    assert code == 0, err
    assert len(noted) == (0 if form == "parquet" else 1), noted  # the index column; Parquet never reads it


@pytest.mark.slow
def test_kpi_run_and_verify_recompute_with_a_bad_row_of_another_period(tmp_path: Path) -> None:
    """End to end: the run scores, keeps the partition without the note, and `kpi verify --recompute` agrees."""
    path = _write(tmp_path, "csv-plain", KINDS["closed before opened"][0]("before")(""))
    out = tmp_path / "outputs"
    run = kpi("run", str(path), "--period", PERIOD, "--out", str(out), "--jobs", "1")
    assert run.returncode == 0, run.stderr
    assert (out / PERIOD / DEPT / "result.json").is_file()
    verify = kpi("verify", str(out / PERIOD), "--recompute")
    assert verify.returncode == 0, verify.stdout + verify.stderr
