"""Periods follow each other within their kind; a department's history reads only its own results of that kind."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from kpi_lib.base.errors import UsageError
from kpi_lib.batch.incremental import PARTS, decide
from kpi_lib.inputs.period import Period
from kpi_lib.reports.history import department_history, earlier_results, previous_results

PREVIOUS = [
    ("2026-Q1", "2025-Q4"),
    ("2026-Q4", "2026-Q3"),
    ("2026-01", "2025-12"),
    ("2026-10", "2026-09"),
    ("2026-H1", "2025-H2"),
    ("2026-H2", "2026-H1"),
    ("2026", "2025"),
]


@pytest.mark.parametrize(("period", "before"), PREVIOUS)
def test_previous_period_is_of_the_same_kind(period: str, before: str) -> None:
    got = Period.parse(period).previous()
    assert str(got) == before
    assert got.kind == Period.parse(period).kind
    assert got.end.toordinal() + 1 == Period.parse(period).start.toordinal()


def test_no_period_before_the_first_year() -> None:
    with pytest.raises(UsageError):
        Period.parse("1900-Q1").previous()


def _result(root: Path, period: str, department: str, total: float | None, grade: str | None = "B") -> Path:
    window = Period.parse(period).window()
    folder = root / period / department
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "department": department,
        "period": period,
        "window": window,
        "total": total,
        "grade": grade,
        "indicators": [],
    }
    (folder / "result.json").write_text(json.dumps(data), encoding="utf-8")
    return folder / "result.json"


def test_history_keeps_its_kind_and_nothing_later(tmp_path: Path) -> None:
    for period, total in [("2026-Q2", 80.5), ("2026-Q3", 85.25), ("2026-Q4", 90.0), ("2027-Q1", 70.0)]:
        _result(tmp_path, period, "cs-east", total)
    _result(tmp_path, "2026", "cs-east", 99.0)  # another kind
    _result(tmp_path, "2026-10", "cs-east", 99.0)
    _result(tmp_path, "2026-Q3", "cs-west", 10.0)  # another department
    (tmp_path / "notes").mkdir()
    history = department_history(tmp_path, "cs-east", Period.parse("2026-Q4"))
    assert [str(r.period) for r in history.results] == ["2026-Q2", "2026-Q3", "2026-Q4"]
    assert history.previous is not None and history.previous.total == Decimal("85.25")
    assert history.change(Decimal("90.00")) == Decimal("4.75")
    assert history.skipped == ()


@pytest.mark.parametrize(
    "damage",
    ["not json", json.dumps({"department": "cs-west", "period": "2026-Q3"}), json.dumps([1, 2])],
)
def test_an_unreadable_result_is_left_out_and_named(tmp_path: Path, damage: str) -> None:
    _result(tmp_path, "2026-Q4", "cs-east", 90.0)
    bad = _result(tmp_path, "2026-Q3", "cs-east", 85.0)
    bad.write_text(damage, encoding="utf-8")
    history = department_history(tmp_path, "cs-east", Period.parse("2026-Q4"))
    assert [str(r.period) for r in history.results] == ["2026-Q4"]
    assert [p for p, _ in history.skipped] == [bad]
    assert history.previous is None and history.change(Decimal(90)) is None


def test_a_result_of_another_department_does_not_count(tmp_path: Path) -> None:
    _result(tmp_path, "2026-Q3", "cs-west", 85.0)
    (tmp_path / "2026-Q3" / "cs-west").rename(tmp_path / "2026-Q3" / "cs-east")
    history = department_history(tmp_path, "cs-east", Period.parse("2026-Q4"))
    assert history.results == () and len(history.skipped) == 1


def test_previous_results_of_every_department(tmp_path: Path) -> None:
    _result(tmp_path, "2026-Q3", "cs-east", 85.0)
    _result(tmp_path, "2026-Q3", "cs-west", None, None)
    (tmp_path / "2026-Q4").mkdir()
    found = previous_results(tmp_path / "2026-Q4", Period.parse("2026-Q4"))
    assert sorted(found) == ["cs-east", "cs-west"]
    assert found["cs-east"].total == Decimal("85.0") and found["cs-west"].total is None
    assert previous_results(tmp_path / "2026-Q3", Period.parse("2026-Q3")) == {}


def test_earlier_results_are_what_the_trend_reads(tmp_path: Path) -> None:
    for period in ("2026-Q2", "2026-Q3", "2026-Q4", "2026"):
        _result(tmp_path, period, "cs-east", 80.0)
    found = earlier_results(tmp_path, "cs-east", Period.parse("2026-Q4"))
    assert sorted(found) == ["2026-Q2", "2026-Q3"]  # not Q4 itself, not the year
    before = found["2026-Q3"]
    _result(tmp_path, "2026-Q3", "cs-east", 81.0)
    assert earlier_results(tmp_path, "cs-east", Period.parse("2026-Q4"))["2026-Q3"] != before


_PARTS = {part: part for part in PARTS}
_MOVED = {**_PARTS, "history": {"2026-Q3": "new"}}


@pytest.mark.parametrize(
    ("now", "signed", "reuse", "why"),
    [
        (_PARTS, False, True, "unchanged: same params"),
        (_PARTS, True, True, "unchanged: same params"),
        (_MOVED, False, False, "changed: the earlier periods' results its trend shows"),
        (_MOVED, True, True, "signed: its trend keeps the earlier periods' results it was signed with"),
        ({**_MOVED, "params": "edited"}, True, False, "changed: its params file"),
        ({**_MOVED, "params": "edited"}, False, False, "changed: its params file, the earlier periods' results"),
    ],
)
def test_a_moved_history_runs_an_unsigned_department_and_keeps_a_signed_one(
    now: dict[str, object], signed: bool, reuse: bool, why: str
) -> None:
    previous = {"status": "ok", "fingerprint": _PARTS}
    decision = decide(previous, now, fresh=False, adapters=False, signed=signed)
    assert decision.reuse is reuse
    assert why in decision.why
