"""Near matches (kpi_lib/base/text.py, kpi_lib/inputs/tables.py): a value that nearly matches a known one is an error naming
it, a typing slip included; a value that matches nothing is left out and named once on the terminal.

Three places know their words: the survey kinds a rate filters on (the template's vocabulary), a department value
(the departments known to the run), and the codes of a `values:` map. Each is a table of cases here, with the
company-shaped cases that must never raise a false alarm (`d01`/`d02`, `cs-east`/`cs-west`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kpi_lib import DataError, Period, appraise, load_params
from kpi_lib.base.text import edit_distance, is_typo, near_match
from kpi_lib.inputs.partitions import SharedTables
from kpi_lib.inputs.tables import DataFolder

from .conftest import kpi, params_document
from .corpus.company import DEPT, HEADERS, PERIOD, ROWS, write_company, write_table

KINDS = ("policy_execution", "customer_satisfaction", "assigned_tasks")


@pytest.mark.parametrize(
    ("text", "known", "expected"),
    [
        ("customer_satisfacton", KINDS, "customer_satisfaction"),  # a letter missing
        ("custmer_satisfaction", KINDS, "customer_satisfaction"),
        ("customer_satisfactoin", KINDS, "customer_satisfaction"),  # two swapped
        ("customer_satisfaxtion", KINDS, "customer_satisfaction"),  # one different
        ("customer_satisfactionn", KINDS, "customer_satisfaction"),  # one too many
        ("custmer_satisfacton", KINDS, "customer_satisfaction"),  # two slips in a long word
        ("customer_satisfaction ", KINDS, "customer_satisfaction"),  # spaces (no slip)
        ("Customer_Satisfaction", KINDS, "customer_satisfaction"),  # letter case
        ("cusmer_satisfacton", KINDS, None),  # three slips
        ("nps", KINDS, None),
        ("customer_happiness", KINDS, None),
        ("assigned_task", KINDS, "assigned_tasks"),
        ("asigned_tsks", KINDS, "assigned_tasks"),  # two slips, 14 characters
        ("polcy", ("policy",), "policy"),
        ("plcy", ("policy",), None),  # two slips in a word under 10
        ("cs-west", ("cs-east",), None),  # two apart: another department
        ("d02", ("d01",), None),  # digits differ
        ("dept-12", ("dept-21",), None),
        ("CS05", ("CS04",), None),
        ("nps", ("ces",), None),  # under 4 characters: another code
        ("yse", ("yes",), None),
        ("Satisfed", ("Satisfied", "Unsatisfied"), "Satisfied"),
    ],
)
def test_near_match_with_typos(text: str, known: tuple[str, ...], expected: str | None) -> None:
    assert near_match(text, known, typos=True) == expected


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("abc", "abc", 0), ("abc", "acb", 1), ("abc", "ab", 1), ("ca", "abc", 3), ("kitten", "sitting", 3), ("", "ab", 2)],
)
def test_edit_distance_is_optimal_string_alignment(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 5) == distance
    assert edit_distance(a, b, 1) == min(distance, 2)  # capped above the limit


def test_department_ids_allow_one_slip_however_long() -> None:
    assert is_typo("sales-esat", "sales-east", max_slips=1)
    assert not is_typo("sales-west", "sales-east", max_slips=1)
    assert is_typo("sales-west", "sales-east")  # (a long survey kind would allow two)


# -- survey kinds: the template's vocabulary --------------------------------------------------------------------
def _surveys(root: Path, kind: str) -> Path:
    rows = {name: [list(r) for r in table] for name, table in ROWS.items()}
    rows["surveys"][1][HEADERS["surveys"].index("survey")] = kind  # R2, cs-test, 2026-11-05
    return write_company(root, "csv", rows)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("customer_satisfacton", "did you mean 'customer_satisfaction'? The value misses a character"),
        ("custmer_satisfaction", "did you mean 'customer_satisfaction'? The value misses a character"),
        ("customer_satisfaction ", "did you mean 'customer_satisfaction'? The value has spaces around it"),
        ("Customer_Satisfaction", "did you mean 'customer_satisfaction'? The value differs in letter case"),
    ],
)
def test_a_survey_kind_that_nearly_matches_is_an_error(kind: str, words: str, tmp_path: Path) -> None:
    with pytest.raises(DataError) as raised:
        appraise(load_params(_surveys(tmp_path, kind)), Period.parse(PERIOD))
    lines = [str(p) for p in raised.value.problems if p.code == "near_match"]
    assert any("surveys.csv, row 3, column survey" in line and words in line for line in lines), lines


def test_an_unknown_kind_is_left_out_and_named_once_by_score_and_validate(tmp_path: Path) -> None:
    path = _surveys(tmp_path, "nps")
    line = "survey 'nps' matches no known value (policy_execution, customer_satisfaction, assigned_tasks); its 1 row(s) of cs-test are left out"
    score = kpi("score", path, "--period", PERIOD, "--json", in_process=True)
    assert score.returncode == 0, score.stderr
    assert [x for x in score.stderr.splitlines() if line in x] == [f"kpi: {tmp_path / 'data' / 'surveys.csv'}: {line}"]
    validate = kpi("validate", path, "--period", PERIOD, in_process=True)
    assert validate.stdout.count(line) == 1, validate.stdout
    card = appraise(load_params(path), Period.parse(PERIOD))
    cs10 = next(r for r in card.results if r.id == "CS10")
    assert cs10.excluded_rows == 1 and "nps" in str(cs10.evidence.excluded["reason"].iloc[0])


# -- department values: the departments known to the run --------------------------------------------------------
def _department_file(root: Path, department: str, values: list[str], siblings: tuple[str, ...] = ()) -> Path:
    """A complaints file with one row per department value, and `department`'s params (with `siblings` beside)."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    rows = [[f"K{i}", v, "2026-10-01 09:00", "2026-10-01 12:00", "yes"] for i, v in enumerate(values)]
    write_table(data, "complaints", "csv", rows)
    import yaml

    for name in (department, *siblings):
        (root / f"{name}.yaml").write_text(yaml.safe_dump(params_document(name)), encoding="utf-8")
    return root / f"{department}.yaml"


@pytest.mark.parametrize(
    ("department", "values", "siblings", "alarm"),
    [
        ("cs-test", ["cs-test", "cs-tset"], (), "cs-tset"),  # two swapped
        ("cs-test", ["cs-test", "cs-tes"], (), "cs-tes"),  # a letter missing
        ("cs-test", ["cs-test", "cs-Test"], (), "cs-Test"),  # (letter case: always)
        ("cs-east", ["cs-east", "cs-west"], (), None),  # two apart
        ("sales-east", ["sales-east", "sales-west"], (), None),  # two apart, however long
        ("d01", ["d01", "d02", "d10", "d11"], (), None),  # digits differ
        ("dept01", ["dept01", "dept02"], (), None),
        ("team-a", ["team-a", "team-b"], (), "team-b"),  # one apart, no params file of team-b …
        ("team-a", ["team-a", "team-b"], ("team-b",), None),  # … and with one beside: a department
        ("cs-test", ["cs-test", "cs-tests"], ("cs-tests",), None),
    ],
)
def test_a_department_value_is_a_typo_only_when_no_department_is_known_by_it(
    department: str, values: list[str], siblings: tuple[str, ...], alarm: str | None, tmp_path: Path
) -> None:
    path = _department_file(tmp_path, department, values, siblings)
    problems = DataFolder.of(load_params(path)).table("complaints").problems_of(department)
    found = [p.value for p in problems if p.code == "near_match"]
    assert found == ([alarm] if alarm else []), [str(p) for p in problems]
    if alarm:
        assert f"did you mean {department}?" in str(problems[0])


def test_a_department_of_the_run_is_known(tmp_path: Path) -> None:
    path = _department_file(tmp_path, "team-a", ["team-a", "team-b"])
    shared = SharedTables(departments=frozenset({"team-a", "team-b"}))
    assert shared.folder(load_params(path)).table("complaints").problems_of("team-a") == []


def test_a_department_the_values_map_writes_is_known(tmp_path: Path) -> None:
    path = _department_file(tmp_path, "team-a", ["team-a", "Team B"])
    params: dict[str, Any] = params_document(
        "team-a",
        tables={
            "complaints": {"columns": {"department": "department"}, "values": {"department": {"Team B": "team-b"}}}
        },
    )
    import yaml

    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    assert DataFolder.of(load_params(path)).table("complaints").problems_of("team-a") == []


def test_a_runs_copy_of_the_params_does_not_decide_typos_again(tmp_path: Path) -> None:
    path = _department_file(tmp_path, "team-a", ["team-a", "team-b"])
    copy = load_params(path, data=tmp_path / "data")  # (as `kpi verify --recompute` loads the recorded inputs)
    assert copy.snapshot and DataFolder.of(copy).table("complaints").problems_of("team-a") == []


# -- the codes of a values: map ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "alarm"),
    [
        ("Satisfed", "did you mean 'Satisfied'? The cell misses a character"),
        ("satisfied", "differs in letter case"),
        ("Unknown", None),
    ],
)
def test_a_cell_that_nearly_matches_a_values_code_is_an_error(cell: str, alarm: str | None, tmp_path: Path) -> None:
    rows = {name: [list(r) for r in table] for name, table in ROWS.items()}
    column = HEADERS["complaints"].index("satisfied")
    codes = {"是": "Satisfied", "yes": "Satisfied", "否": "Unsatisfied", "": ""}
    for row in rows["complaints"]:
        row[column] = codes[row[column]]
    rows["complaints"][0][column] = cell
    path = write_company(
        tmp_path,
        "csv",
        rows,
        tables={
            "complaints": {
                "columns": {"satisfied": "satisfied"},
                "values": {"satisfied": {"Satisfied": True, "Unsatisfied": False}},
            }
        },
    )
    problems = DataFolder.of(load_params(path)).table("complaints").problems_of(DEPT)
    near = [str(p) for p in problems if p.code == "near_match"]
    if alarm is None:
        assert not near and any(p.code == "not_a_boolean" for p in problems), [str(p) for p in problems]
    else:
        assert len(near) == 1 and alarm in near[0] and "column satisfied" in near[0], near
