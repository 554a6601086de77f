"""Periods that stay consistent: a run that changes a period names the later ones that compared against it.

Cheap level: outputs trees made by hand as a run leaves them (result.json, a manifest whose fingerprint
records the earlier results the trend read, the index with its record of other periods), then
`consistency.out_of_date`, its lines, `--and-later`'s order and verify's notes, table-driven.
One slow test runs the issue's case for real: Q4, then Q3, then Q3 `--and-later`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kpi_lib.audit import consistency
from kpi_lib.audit.trail import verify_period
from kpi_lib.inputs.period import Period
from kpi_lib.reports.convert import write_index
from kpi_lib.reports.history import earlier_results

from .conftest import kpi
from .test_dashboard import put, ranking_rows

DEPARTMENTS = ("cs-a", "cs-b")


def ran(outputs: Path, period: str, totals: dict[str, float] | None = None, signed: tuple[str, ...] = ()) -> None:
    """What `kpi run --period <period>` leaves: each department's result and manifest (its trend as read now),
    the index with its record of other periods, the period manifest."""
    window = Period.parse(period)
    for department in DEPARTMENTS:
        total = (totals or {}).get(department, 80.0)
        if (outputs / period / department).exists():
            shutil.rmtree(outputs / period / department)
        folder = put(outputs, period, department, total, "B", CS01=total)
        history = earlier_results(outputs, department, window)
        manifest = {"status": "ok", "fingerprint": {"history": history}}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        if department in signed:
            (folder / "signoffs.jsonl").write_text('{"role": "manager"}\n', encoding="utf-8")
    write_index(outputs / period, period)
    (outputs / period / "manifest.json").write_text("{}", encoding="utf-8")


def stale(outputs: Path, *changed: str) -> list[tuple[str, bool, tuple[str, ...], tuple[str, ...]]]:
    found = consistency.out_of_date(outputs, [Period.parse(c) for c in changed])
    return [(str(s.period), s.index, s.departments, s.signed) for s in found]


BOTH = ("cs-a", "cs-b")
CASES: list[tuple[str, Callable[[Path], None], str, list[tuple[str, bool, tuple[str, ...], tuple[str, ...]]]]] = [
    ("Q4 then Q3: Q4 shows Q3 as it was", lambda o: (ran(o, "2026-Q4"), ran(o, "2026-Q3")), "2026-Q3", [("2026-Q4", True, BOTH, ())]),
    ("Q3 then Q4: nothing", lambda o: (ran(o, "2026-Q3"), ran(o, "2026-Q4")), "2026-Q3", []),
    (
        "Q3, Q4, Q3 again with another total",
        lambda o: (ran(o, "2026-Q3"), ran(o, "2026-Q4"), ran(o, "2026-Q3", {"cs-a": 60.0})),
        "2026-Q3",
        [("2026-Q4", True, ("cs-a",), ())],
    ),
    (
        "Q3, Q4, Q3 again with the same results: nothing",
        lambda o: (ran(o, "2026-Q3"), ran(o, "2026-Q4"), ran(o, "2026-Q3")),
        "2026-Q3",
        [],
    ),
    (
        "Q4 then Q2: the trend moved, the index (change since Q3) did not",
        lambda o: (ran(o, "2026-Q4"), ran(o, "2026-Q2")),
        "2026-Q2",
        [("2026-Q4", False, BOTH, ())],
    ),
    (
        "Q4 then Q3 and Q2: both later quarters, oldest first",
        lambda o: (ran(o, "2026-Q4"), ran(o, "2026-Q3"), ran(o, "2026-Q2")),
        "2026-Q2",
        [("2026-Q3", True, BOTH, ()), ("2026-Q4", False, BOTH, ())],
    ),
    (
        "the year shows Q3 as a part",
        lambda o: (ran(o, "2026-Q3"), ran(o, "2026"), ran(o, "2026-Q3", {"cs-b": 50.0})),
        "2026-Q3",
        [("2026", True, (), ())],
    ),
    (
        "the year written before any quarter",
        lambda o: (ran(o, "2026"), ran(o, "2026-Q3")),
        "2026-Q3",
        [("2026", True, (), ())],
    ),
    ("another kind is never compared", lambda o: (ran(o, "2026-Q4"), ran(o, "2026-09")), "2026-09", []),
    ("an earlier period is never stale", lambda o: (ran(o, "2026-Q2"), ran(o, "2026-Q3")), "2026-Q3", []),
    (
        "a signed department keeps its trend",
        lambda o: (ran(o, "2026-Q4", signed=("cs-b",)), ran(o, "2026-Q3")),
        "2026-Q3",
        [("2026-Q4", True, ("cs-a",), ("cs-b",))],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "history", "changed", "expected"), CASES, ids=[c[0] for c in CASES])
def test_out_of_date_names_what_shows_the_changed_period_as_it_was(
    tmp_path: Path, name: str, history: Callable[[Path], None], changed: str, expected: list[object]
) -> None:
    history(tmp_path)
    assert stale(tmp_path, changed) == expected


def test_the_end_of_a_run_names_each_later_period_and_the_command(tmp_path: Path) -> None:
    ran(tmp_path, "2026-Q4", signed=("cs-b",))
    ran(tmp_path, "2026-Q3")
    found = consistency.out_of_date(tmp_path, [Period.parse("2026-Q3")])
    lines = consistency.lines(found, Period.parse("2026-Q3"), lambda p: f"kpi run --period {p} --all")
    assert lines == [
        "2026-Q4: index.html and the scorecards of cs-a show 2026-Q3 as it was before this run; "
        "bring it up to date with `kpi run --period 2026-Q4 --all`",
        "2026-Q4: cs-b signed off and keep the trend they were signed with (2026-Q3 as it was); "
        're-running them needs --force --reason "…"',
        "or run this period and every later one: `kpi run --period 2026-Q3 --all --and-later`",
    ]
    assert consistency.lines([], Period.parse("2026-Q3"), str) == []
    year = consistency.Stale(Period.parse("2026"), index=True, seen=(Period.parse("2026-Q3"),))
    assert consistency.lines([year], Period.parse("2026-Q3"), lambda p: f"kpi run --period {p} --all")[0] == (
        "2026: index.html shows 2026-Q3 as it was before this run; bring it up to date with `kpi run --period 2026 --all`"
    )


@pytest.mark.parametrize(
    ("folders", "period", "order"),
    [
        (["2026-Q1", "2026-Q2", "2026-Q4", "2027-Q1", "2026", "2026-10"], "2026-Q2", ["2026-Q2", "2026-Q4", "2027-Q1"]),
        (["2026-Q3"], "2026-Q4", ["2026-Q4"]),  # nothing later: only the period itself
        (["2025", "2026", "2027"], "2026", ["2026", "2027"]),
        (["2026-H1", "2026-H2", "2026-Q4"], "2026-H1", ["2026-H1", "2026-H2"]),
    ],
)
def test_and_later_runs_the_later_periods_of_the_kind_oldest_first(
    tmp_path: Path, folders: list[str], period: str, order: list[str]
) -> None:
    for folder in folders:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "2028-Q1").mkdir()  # no manifest: not a folder kpi run wrote
    assert [str(p) for p in consistency.and_later(tmp_path, Period.parse(period))] == order


def test_and_later_refreshes_the_year_whose_index_shows_a_part_that_ran(tmp_path: Path) -> None:
    ran(tmp_path, "2026-Q3")
    ran(tmp_path, "2026")
    ran(tmp_path, "2025")
    ran(tmp_path, "2026-Q3", {"cs-a": 55.0})
    assert [str(p) for p in consistency.years_to_refresh(tmp_path, [Period.parse("2026-Q3")])] == ["2026"]


def test_verify_notes_a_trend_that_shows_an_earlier_period_as_it_was(tmp_path: Path) -> None:
    ran(tmp_path, "2026-Q4")
    ran(tmp_path, "2026-Q3")
    folder = tmp_path / "2026-Q4" / "cs-a"
    notes = consistency.trend_notes(folder, Period.parse("2026-Q4"))
    assert notes == [
        f"{folder}: its trend and change since show 2026-Q3 as it was when it ran (no result); "
        f"{tmp_path / '2026-Q3' / 'cs-a' / 'result.json'} is there now",
        f"{folder}: run `kpi run --period 2026-Q4` again to bring its trend up to date",
    ]
    ran(tmp_path, "2026-Q4")  # brought up to date
    assert consistency.trend_notes(folder, Period.parse("2026-Q4")) == []


# -- the case, run for real ---------------------------------------------------------------
@pytest.mark.slow
def test_q4_then_q3_then_and_later(tmp_path: Path) -> None:
    assert kpi("demo", "--out", str(tmp_path), "--departments", "1", "--rows", "40", in_process=True).returncode == 0
    run = ["run", "--all", "--jobs", "2"]
    q4 = kpi(*run, "--period", "2026-Q4", cwd=tmp_path)
    assert q4.returncode == 0, q4.stderr
    assert "--and-later" not in q4.stderr  # nothing later than Q4 yet

    q3 = kpi(*run, "--period", "2026-Q3", cwd=tmp_path)
    assert q3.returncode == 0, q3.stderr
    assert (
        "kpi: 2026-Q4: index.html and the scorecards of cs-east show 2026-Q3 as it was before this run; "
        "bring it up to date with `kpi run --period 2026-Q4 --all`"
    ) in q3.stderr
    assert "`kpi run --period 2026-Q3 --all --and-later`" in q3.stderr
    total_q3 = json.loads((tmp_path / "outputs" / "2026-Q3" / "cs-east" / "result.json").read_text())["total"]

    stale = verify_period(tmp_path / "outputs" / "2026-Q4")
    assert stale.ok, stale.differences  # a note, not a difference
    assert any("its trend and change since show 2026-Q3 as it was when it ran (no result)" in n for n in stale.notes)
    assert any("index.html: shows 2026-Q3 cs-east as it was" in n for n in stale.notes)
    page = (tmp_path / "outputs" / "2026-Q4" / "index.html").read_text(encoding="utf-8")
    assert ranking_rows(page)["cs-east"][5] == "—"

    later = kpi(*run, "--period", "2026-Q3", "--and-later", cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    assert re.search(r"kpi run · 2026-Q3 .*kpi run · 2026-Q4 ", later.stdout, re.DOTALL), later.stdout
    assert "as it was before this run" not in later.stderr
    page = (tmp_path / "outputs" / "2026-Q4" / "index.html").read_text(encoding="utf-8")
    total_q4 = json.loads((tmp_path / "outputs" / "2026-Q4" / "cs-east" / "result.json").read_text())["total"]
    change = float(total_q4) - float(total_q3)
    assert ranking_rows(page)["cs-east"][5] == f"{change:+.2f}"
    fresh = verify_period(tmp_path / "outputs" / "2026-Q4")
    assert fresh.ok and fresh.notes == [], fresh.notes
