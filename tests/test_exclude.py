"""Rows excluded by key with a reason (params `tables.<table>.exclude`, kpi_lib/inputs/tables.py).

`CASES` is the table: an edit of the corpus company (`tests/corpus/company.py`: rows of
`cs-test` and of `cs-other` in every table), the exclusions in the params, and what must
come out: the indicator's value and rows left out, or the problem that stops the
department. The rest checks the paths the same rows travel: a partition and its read-back,
one read shared by departments with different exclusions, the evidence's words and the
rows CSV, `kpi score --json`, and `kpi diff`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kpi_lib import DataError, ParamsError, Period, appraise, load_params
from kpi_lib.inputs.partitions import SharedTables, partition_bytes, read_partition
from kpi_lib.inputs.tables import DataFolder, key_texts
from kpi_lib.notebook import rows_csv_text

from .conftest import kpi
from .corpus.company import DEPT, HEADERS, PERIOD, ROWS, write_company

Rows = dict[str, list[list[Any]]]


def edited(*changes: tuple[str, int, str, Any], extra: Rows | None = None) -> Rows:
    """The corpus company's rows with cells replaced ((table, row, column, value)) and rows added."""
    rows = {name: [list(r) for r in table] for name, table in ROWS.items()}
    for table, row, column, value in changes:
        rows[table][row][HEADERS[table].index(column)] = value
    for table, added in (extra or {}).items():
        rows[table].extend(added)
    return rows


@dataclass(frozen=True)
class Case:
    id: str
    exclude: dict[str, dict[str, str]]  # table → key → reason
    rows: Rows = field(default_factory=lambda: edited())
    indicator: str | None = None  # whose value and rows left out are checked
    value: str | None = None
    left_out: tuple[tuple[int, str], ...] = ()  # (row, reason) of that indicator, params' exclusions only
    code: str | None = None  # the problem that stops the department instead
    names: tuple[str, ...] = ()  # what that problem's line names
    params: dict[str, Any] = field(default_factory=dict)  # other params changes


OBSERVED = {"indicators": {"CS02": {"method": "observation"}}}  # reads the observations table


REASON = "closed before it was opened in the source system; ticket 311-7781 raised"
CASES = [
    Case("baseline: nothing excluded", {}, indicator="CS07", value="66.67"),
    Case(  # K1 (satisfied, resolved) would have counted: 2 of 3 → 1 of 2
        "single key: a row that would have counted",
        {"complaints": {"K1": REASON}},
        indicator="CS07",
        value="50.00",
        left_out=((2, REASON),),
    ),
    Case(
        "single key: a row that is wrong (closed before opened) no longer stops the department",
        {"complaints": {"K1": REASON}},
        rows=edited(("complaints", 0, "resolved_at", "2026-09-30 09:00")),
        indicator="CS07",
        value="50.00",
        left_out=((2, REASON),),
    ),
    Case(
        "the same wrong row without the exclusion stops it",
        {},
        rows=edited(("complaints", 0, "resolved_at", "2026-09-30 09:00")),
        code="wrong_order",
        names=("complaints.csv", "row 2", "column resolved_at"),
    ),
    Case(
        "a row with a bad boolean is left out, not refused",
        {"complaints": {"K3": "satisfaction recorded as 'maybe'"}},
        rows=edited(("complaints", 2, "satisfied", "maybe")),
        indicator="CS07",
        value="50.00",
        left_out=((4, "satisfaction recorded as 'maybe'"),),
    ),
    Case(
        "a survey answer: left out of its survey's indicator only",
        {"surveys": {"R2": "answered twice"}},
        indicator="CS10",
        value="100.00",
        left_out=((3, "answered twice"),),
    ),
    Case(
        "a survey answer of another survey is not listed here",
        {"surveys": {"R3": "test answer"}},
        indicator="CS10",
        value="50.00",
    ),
    Case(
        "composite key (|): a wrong observation of the period no longer stops the department",
        {"observations": {f"CS03|{DEPT}|{PERIOD}": "entered by mistake"}},
        rows=edited(extra={"observations": [["CS03", DEPT, PERIOD, "abc", "李四", "2026-09-20", "现场", "", ""]]}),
        indicator="CS02",
        value="92.00",
        params=OBSERVED,
    ),
    Case(
        "composite key: an observation of this period is listed in its indicator's evidence",
        {"observations": {f"CS02|{DEPT}|{PERIOD}": "recorded twice"}},
        rows=edited(extra={"observations": [["CS02", DEPT, "2026-Q3", "70", "李四", "2026-09-20", "现场", "", ""]]}),
        code="missing_row",
        names=("observations.csv", "no observation of CS02 for period 2026-Q4"),
        params=OBSERVED,
    ),
    Case(
        "composite key: the same wrong observation without the exclusion stops it",
        {},
        rows=edited(extra={"observations": [["CS03", DEPT, PERIOD, "abc", "李四", "2026-09-20", "现场", "", ""]]}),
        code="not_a_number",
        names=("observations.csv", "row 4", "column value"),
        params=OBSERVED,
    ),
    Case(
        "a key that matches no row is an error naming the params file, the table and the key",
        {"complaints": {"K9": REASON}},
        code="exclude_unmatched",
        names=(f"{DEPT}.yaml", "tables.complaints.exclude", "'K9'", "complaints.csv"),
    ),
    Case(
        "a key written otherwise than in the file is no match (and the line says which one it nearly is)",
        {"complaints": {"k1": REASON}},
        code="exclude_unmatched",
        names=(f"{DEPT}.yaml", "'k1'", "did you mean 'K1'?"),
    ),
    Case(  # (with one company file, the same exclusions serve every department)
        "a key of another department's row is no error and leaves nothing out here",
        {"complaints": {"K4": REASON}},
        indicator="CS07",
        value="66.67",
    ),
    Case(
        "a composite key of no row",
        {"budgets": {f"{DEPT}|2026-Q3": "old budget"}},
        code="exclude_unmatched",
        names=("tables.budgets.exclude", f"'{DEPT}|2026-Q3'", "(department|period)"),
    ),
]


def named(start: str) -> Case:
    """The case whose id starts with `start`."""
    return next(c for c in CASES if c.id.startswith(start))


COUNTED, WRONG = named("single key: a row that would"), named("single key: a row that is wrong")
ELSEWHERE, NOWHERE = named("a key of another department"), named("a key that matches no row")


def _params(root: Path, case: Case) -> Path:
    return write_company(
        root, "csv", case.rows, tables={t: {"exclude": e} for t, e in case.exclude.items()}, **case.params
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rows_excluded_by_key(case: Case, tmp_path: Path) -> None:
    department = load_params(_params(tmp_path, case))
    if case.code is not None:
        with pytest.raises(DataError) as raised:
            appraise(department, Period.parse(PERIOD))
        lines = [str(p) for p in raised.value.problems if p.code == case.code]
        assert lines, raised.value.lines()
        assert any(all(part in line for part in case.names) for line in lines), lines
        return
    card = appraise(department, Period.parse(PERIOD))
    result = next(r for r in card.results if r.id == case.indicator)
    assert result.value == Decimal(case.value or "")
    left = result.evidence.excluded
    by_params = left[left["reason"].str.startswith("excluded by the params: ")] if len(left) else left
    assert [
        (int(r), str(why).removeprefix("excluded by the params: "))
        for r, why in zip(by_params.get("_row", []), by_params.get("reason", []), strict=True)
    ] == list(case.left_out)
    assert result.record().excluded_rows == len(left)  # counted in result.json's excluded_rows


@pytest.mark.parametrize(
    ("exclude", "code", "names"),
    [
        ({"complaints": {1: "x"}}, "bad_exclude_key", ("tables.complaints.exclude", "in quotes")),
        ({"complaints": {"K1": ""}}, "empty_value", ("tables.complaints.exclude", "'K1'", "reason")),
        ({"complaints": {"K1": None}}, "empty_value", ("tables.complaints.exclude", "'K1'")),
        ({"complaints": {" K1": "x"}}, "bad_exclude_key", ("spaces around it",)),
        ({"complaints": {"K1": "x\x1b"}}, "control_character", ("U+001B",)),
        ({"budgets": {DEPT: "x"}}, "bad_exclude_key", ("tables.budgets.exclude", "<department>|<period>")),
        ({"budgets": {f"{DEPT}|": "x"}}, "bad_exclude_key", ("<department>|<period>",)),
        ({"revisits": {"C1": "x"}}, "bad_exclude_key", ("table revisits has no key",)),
        ({"complaints": ["K1"]}, "wrong_type", ("tables.complaints.exclude",)),
    ],
    ids=[
        "number",
        "empty reason",
        "no reason",
        "spaces",
        "control character",
        "one part of two",
        "empty part",
        "no key",
        "a list",
    ],
)
def test_exclusions_are_checked_with_the_params(
    exclude: dict[str, Any], code: str, names: tuple[str, ...], tmp_path: Path
) -> None:
    path = write_company(tmp_path, "csv", tables={t: {"exclude": e} for t, e in exclude.items()})
    with pytest.raises(ParamsError) as raised:
        load_params(path)
    found = [str(p) for p in raised.value.problems if p.code == code]
    assert any(all(n in line for n in (f"{DEPT}.yaml", *names)) for line in found), raised.value.lines()


@pytest.mark.parametrize(
    ("rows", "key", "expected"),
    [
        ([["a", "x"]], ("k",), ["a"]),
        ([["a", "x"], [None, "y"]], ("k", "v"), ["a|x", None]),
    ],
)
def test_key_texts_join_the_key_cells_with_a_bar(
    rows: list[list[Any]], key: tuple[str, ...], expected: list[Any]
) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["k", "v"]).astype("str").where(pd.DataFrame(rows, columns=["k", "v"]).notna())
    assert key_texts(frame, key).tolist() == expected


def test_a_partition_keeps_excluded_rows_with_their_reason_and_reads_back_the_same(tmp_path: Path) -> None:
    case = WRONG
    department = load_params(_params(tmp_path, case))
    data = DataFolder.of(department)
    table = data.table("complaints")
    assert table.problems_of(DEPT) == []
    assert list(table.rows_of(DEPT)["complaint_id"]) == ["K2", "K3"]
    raw, rows = partition_bytes(table, DEPT)
    assert rows == 3  # the excluded row is kept, with the exclusion that matched it
    path = tmp_path / "complaints.parquet"
    path.write_bytes(raw)
    back = read_partition(path, DEPT, data.rules("complaints"), None, table.spec)
    assert back.exclude == {"K1": REASON}
    assert list(back.rows_of(DEPT)["complaint_id"]) == ["K2", "K3"]
    assert back.excluded_of(DEPT)[["complaint_id", "reason"]].values.tolist() == [["K1", REASON]]
    assert back.problems_of(DEPT) == []
    # another department's exclusions name rows of this one: its partition holds none of them
    assert b'"excluded"' not in partition_bytes(table, "cs-other")[0]


def test_a_partition_without_exclusions_keeps_its_bytes(tmp_path: Path) -> None:
    plain = DataFolder.of(load_params(write_company(tmp_path / "a", "csv"))).table("complaints")
    other = DataFolder.of(load_params(_params(tmp_path / "b", ELSEWHERE))).table("complaints")  # K4: cs-other's
    assert partition_bytes(plain, DEPT)[0] == partition_bytes(other, DEPT, shown={other.file: plain.file})[0]


def test_departments_with_different_exclusions_share_one_read(tmp_path: Path) -> None:
    shared = SharedTables()
    a = load_params(_params(tmp_path, COUNTED))
    b = load_params(
        write_company(tmp_path, "csv", tables={"complaints": {"exclude": {"K2": "x"}}}).rename(tmp_path / "b.yaml")
    )
    one, two = shared.folder(a).table("complaints"), shared.folder(b).table("complaints")
    assert shared.loads == 1 and one.frame is two.frame
    assert one._positions is two._positions  # (each department's rows found once for all)
    assert list(one.rows_of(DEPT)["complaint_id"]) == ["K2", "K3"]
    assert list(two.rows_of(DEPT)["complaint_id"]) == ["K1", "K3"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh", "参数中按编号排除：" + REASON), ("en", "excluded by key in the params: " + REASON)],
)
def test_the_rows_csv_lists_the_excluded_row_with_its_reason(lang: str, words: str, tmp_path: Path) -> None:
    department = load_params(_params(tmp_path, COUNTED))
    card = appraise(department, Period.parse(PERIOD))
    result = next(r for r in card.results if r.id == "CS07")
    text = rows_csv_text(result, department.template, lang)
    row = next(line for line in text.splitlines() if line.startswith("2,"))
    assert words in row and "K1" in row


def test_kpi_score_json_counts_the_excluded_rows(tmp_path: Path) -> None:
    path = _params(tmp_path, COUNTED)
    done = kpi("score", path, "--period", PERIOD, "--json", in_process=True)
    assert done.returncode == 0, done.stderr
    items = {i["id"]: i for i in json.loads(done.stdout)["indicators"]}
    assert items["CS07"]["excluded_rows"] == 1 and items["CS07"]["value"] == 50.0
    assert items["CS04"]["excluded_rows"] == 0


def test_kpi_score_names_the_key_that_matches_no_row(tmp_path: Path) -> None:
    done = kpi("score", _params(tmp_path, NOWHERE), "--period", PERIOD, in_process=True)
    assert done.returncode == 1
    assert "tables.complaints.exclude: key 'K9' matches no row of" in done.stderr


@pytest.mark.slow
def test_kpi_run_leaves_the_wrong_row_out_lists_it_and_verify_recomputes_it(tmp_path: Path) -> None:
    rows = {**WRONG.rows, "surveys": [*WRONG.rows["surveys"], ["R6", DEPT, "nps", "x", "2026-10-05", "5"]]}
    path = _params(tmp_path, Case("wrong and nps", WRONG.exclude, rows))  # K1 resolved before received, excluded
    out = tmp_path / "out"
    done = kpi("run", path, "--period", PERIOD, "--jobs", "1", "--out", out, in_process=True)
    assert done.returncode == 0, done.stdout + done.stderr
    unknown = [line for line in done.stderr.splitlines() if "survey 'nps' matches no known value" in line]
    assert len(unknown) == 1 and "its 1 row(s) of cs-test are left out" in unknown[0], done.stderr
    folder = out / PERIOD / DEPT
    items = {i["id"]: i for i in json.loads((folder / "result.json").read_text(encoding="utf-8"))["indicators"]}
    assert items["CS07"]["excluded_rows"] == 1 and items["CS07"]["value"] == 50.0
    rows = (folder / "rows" / "CS07.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[1].startswith(f"2,不计入,,参数中按编号排除：{REASON},K1,")
    assert f"参数中按编号排除：{REASON}" in (folder / "service.html").read_text(encoding="utf-8")
    verified = kpi("verify", out / PERIOD, "--recompute", in_process=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_an_excluded_rows_problems_are_left_out_in_every_format(fmt: str, tmp_path: Path) -> None:
    """(An xlsx problem names its cell, `complaints.xlsx!C2`, not its row: it is the excluded row's all the same.)"""
    tables = {"complaints": {"exclude": {"K1": REASON}}}
    department = load_params(write_company(tmp_path, fmt, WRONG.rows, tables=tables))
    assert DataFolder.of(department).table("complaints").problems_of(DEPT) == []
    without = load_params(write_company(tmp_path / "without", fmt, WRONG.rows))
    assert [p.code for p in DataFolder.of(without).table("complaints").problems_of(DEPT)] == ["wrong_order"]
