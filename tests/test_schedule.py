"""The collection schedule (SPEC §6): calendar, iCalendar export and collection compliance."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import icalendar
import pytest

from kpi_lib import ParamsError, Period, appraise, load_params, load_template
from kpi_lib.scoring.schedule import findings, tasks, windows

from .conftest import Company, kpi


def official_last_workday(year: int, month: int) -> date:
    day = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    while not chinese_calendar.is_workday(day):
        day -= timedelta(days=1)
    return day


def test_monthly_tasks_fall_on_the_official_last_working_day() -> None:
    spans = windows("monthly_last_workday", 2026)
    assert spans == [(official_last_workday(2026, m), official_last_workday(2026, m)) for m in range(1, 13)]
    assert (date(2026, 2, 28), date(2026, 2, 28)) in spans  # a Saturday that works (调休)
    assert (date(2026, 10, 30), date(2026, 10, 30)) in spans  # Friday: 10-31 is a Saturday off


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "quarterly_last_half_month",
            [
                (date(2026, 3, 16), date(2026, 3, 31)),
                (date(2026, 6, 16), date(2026, 6, 30)),
                (date(2026, 9, 16), date(2026, 9, 30)),
                (date(2026, 12, 16), date(2026, 12, 31)),
            ],
        ),
        ("semiannual_last_week", [(date(2026, 6, 24), date(2026, 6, 30)), (date(2026, 12, 25), date(2026, 12, 31))]),
    ],
)
def test_quarterly_and_semiannual_windows(rule: str, expected: list[tuple[date, date]]) -> None:
    assert windows(rule, 2026) == expected


def test_department_calendar_uses_review_date_and_plan_rows(company: Company) -> None:
    company.table(
        "work_plan",
        [
            {"task_id": f"T{i}", "due_date": d, "planned_qty": 1, "actual_qty": 1}
            for i, d in enumerate(["2026-03-10", "2026-03-10", "2026-11-02", "2025-12-31"])
        ],
    )
    department = load_params(company.params(review_date="2026-12-20"))
    found = tasks(department.template, 2026, department=department)
    cs01 = [(t.start, t.end) for t in found if t.indicator.id == "CS01"]
    assert cs01 == [(date(2026, 12, 13), date(2026, 12, 19))]
    cs03 = [(t.start, t.end) for t in found if t.indicator.id == "CS03"]
    assert cs03 == [(date(2026, 3, 10), date(2026, 3, 10)), (date(2026, 11, 2), date(2026, 11, 2))]
    assert {t.department for t in found} == {"cs-test"}
    assert {t.indicator.id for t in found} == {f"CS{i:02d}" for i in range(1, 13)}


def test_department_calendar_needs_a_review_date(company: Company) -> None:
    path = company.params()
    path.write_text(path.read_text(encoding="utf-8").replace("review_date: '2026-12-20'\n", ""), encoding="utf-8")
    with pytest.raises(ParamsError, match="review_date: missing"):
        tasks(load_template(), 2026, department=load_params(path))


@pytest.mark.slow
def test_ics_parses_and_lists_every_indicator(company: Company, tmp_path: Path) -> None:
    ics = tmp_path / "tasks.ics"
    result = kpi("calendar", "--year", "2026", str(company.params()), "--ics", str(ics))
    assert result.returncode == 0, result.stderr
    assert "2026-02-28" in result.stdout and "2026-10-30" in result.stdout
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    events = calendar.walk("VEVENT")
    assert {str(e["SUMMARY"]).split()[0] for e in events} == {f"CS{i:02d}" for i in range(1, 13)}
    for event in events:
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        assert type(start) is date and end > start  # all-day events, DTEND exclusive
    cs04 = sorted(e["DTSTART"].dt for e in events if str(e["SUMMARY"]).startswith("CS04"))
    assert cs04 == [official_last_workday(2026, m) for m in range(1, 13)]


@pytest.mark.slow
def test_template_level_calendar(tmp_path: Path) -> None:
    result = kpi("calendar", "--year", "2026", "--review-date", "2026-12-20", "--ics", str(tmp_path / "t.ics"))
    assert result.returncode == 0, result.stderr
    events = icalendar.Calendar.from_ical((tmp_path / "t.ics").read_bytes()).walk("VEVENT")
    assert {str(e["SUMMARY"]).split()[0] for e in events} == {f"CS{i:02d}" for i in range(1, 13)}
    assert kpi("calendar", "--year", "2026", "--review-date", "20/12/2026").returncode == 2


@pytest.mark.slow
def test_evidence_outside_its_window_is_a_finding_not_an_error(company: Company) -> None:
    company.table(
        "surveys",
        [
            {"response_id": "R1", "survey": "customer_satisfaction", "date": "2026-12-20", "score": 5},
            {"response_id": "R2", "survey": "customer_satisfaction", "date": "2026-11-03", "score": 5},
        ],
    )
    company.table(
        "observations",
        [{"indicator": "CS02", "period": "2026-Q4", "value": "95", "collector": "x", "collected_on": "2026-12-28"}],
    )
    params = company.params(indicators={"CS02": {"method": "observation"}})
    card = appraise(load_params(params), Period.parse("2026-Q4"))
    found = {f.indicator: f.message for r in card.results for f in findings(r, date(2026, 12, 20))}
    assert set(found) == {"CS02", "CS10"}
    assert "1 of 2 row(s) collected outside" in found["CS10"] and "row 3 (2026-11-03)" in found["CS10"]
    assert "2026-12-13 – 2026-12-19" in found["CS02"] and "(2026-12-28)" in found["CS02"]
    checked = kpi("validate", str(params), "--period", "2026-Q4")
    assert checked.returncode == 0, checked.stderr
    # a Chinese department's findings are in Chinese (the reason too, not only the prefix)
    assert "采集时间提示" in checked.stdout and "CS10: 1/2 行在采集时间窗口之外采集" in checked.stdout
    assert "collected outside" not in checked.stdout
