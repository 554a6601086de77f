"""Working-day calendars of any country (params `calendar`, `days_off`, `workdays`).

(code, date) → working day or not for mainland China with 调休 and six other
places, each checked against the `holidays` package directly; Monday-to-Friday;
dates the params add; unknown codes naming the nearest ones; and 2- and 5-working
-day deadlines on the New York State calendar across Juneteenth and July 4th.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import holidays
import pytest

from kpi_lib import Period, appraise, load_params
from kpi_lib.base.errors import Code, ParamsError
from kpi_lib.inputs.workdays import UnknownCalendar, calendar_of, parse_code
from kpi_lib.scoring.schedule import windows
from kpi_lib.words.explain import facts_shown

from .conftest import Company, kpi

D = date.fromisoformat
DAYS = [
    # mainland China with adjusted working days (调休)
    ("CN", "2026-02-28", True),  # a Saturday that works
    ("CN", "2026-10-01", False),  # National Day
    ("CN", "2026-10-10", True),  # a Saturday that works
    ("CN", "2026-10-12", True),
    # New York State
    ("US-NY", "2026-02-12", False),  # Lincoln's Birthday (a New York holiday)
    ("US-NY", "2026-04-20", True),
    ("US-NY", "2026-06-19", False),  # Juneteenth
    ("US-NY", "2026-07-03", False),  # Independence Day, observed on the Friday
    ("US-NY", "2026-07-06", True),
    ("US-NY", "2026-06-20", False),  # Saturday
    # Massachusetts
    ("US-MA", "2026-04-20", False),  # Patriots' Day
    ("US-MA", "2026-06-19", False),
    # Bavaria and Berlin
    ("DE-BY", "2026-06-04", False),  # Corpus Christi
    ("DE-BE", "2026-06-04", True),
    ("DE-BY", "2026-10-03", False),  # Saturday (German Unity Day)
    # Scotland and England
    ("GB-SCT", "2026-01-02", False),
    ("GB-ENG", "2026-01-02", True),
    ("GB-SCT", "2026-11-30", False),  # St Andrew's Day
    # Hong Kong: Saturday is a working day in its calendar
    ("HK", "2026-07-01", False),
    ("HK", "2026-10-03", True),
    ("HK", "2026-10-04", False),
    # Japan
    ("JP", "2026-05-04", False),  # Greenery Day
    ("JP", "2026-05-07", True),
    # Saudi Arabia: the weekend is Friday and Saturday
    ("SA", "2026-12-04", False),
    ("SA", "2026-12-06", True),
]


@pytest.mark.parametrize(("code", "day", "works"), DAYS, ids=[f"{c}-{d}" for c, d, _ in DAYS])
def test_a_country_calendar_agrees_with_the_holidays_package(code: str, day: str, works: bool) -> None:
    country, subdiv = parse_code(code)
    direct = holidays.country_holidays(country, subdiv=subdiv, years=D(day).year).is_working_day(D(day))
    assert direct is works  # the table says what the package says
    assert calendar_of(code).is_workday(D(day)) is works


@pytest.mark.parametrize(
    ("settings", "day", "works"),
    [
        ({"code": "weekdays"}, "2026-10-01", True),  # no holidays at all
        ({"code": "weekdays"}, "2026-10-03", False),
        ({"code": "weekdays"}, "2026-02-28", False),
        ({"code": "CN", "days_off": (D("2026-10-09"),)}, "2026-10-09", False),  # a company shutdown
        ({"code": "CN", "workdays": (D("2026-10-11"),)}, "2026-10-11", True),  # a working Sunday
        ({"code": "US-NY", "workdays": (D("2026-07-03"),)}, "2026-07-03", True),
        ({"code": "US-NY", "days_off": (D("2026-12-24"),)}, "2026-12-24", False),
        ({"code": "US-NY", "days_off": (D("2026-12-24"),)}, "2026-12-23", True),
    ],
)
def test_weekdays_and_dates_the_params_add(settings: dict[str, object], day: str, works: bool) -> None:
    calendar = calendar_of(settings["code"], settings.get("days_off", ()), settings.get("workdays", ()))  # type: ignore[arg-type]
    assert calendar.is_workday(D(day)) is works


@pytest.mark.parametrize(
    ("code", "nearest"),
    [
        ("us-ny", "US-NY"),
        ("US-NYC", "US-NY"),
        ("GB-SCO", "GB-SCT"),
        ("DE-by", "DE-BY"),
        ("weekday", "weekdays"),
        ("Weekdays", "weekdays"),
        ("USA", "US"),
        ("UK", "GB"),  # an alias of the holidays package: the calendar is named by its ISO code
        ("UK-SCT", "GB-SCT"),
        ("US-", None),
        ("ZZZZZZ", None),
    ],
)
def test_an_unknown_code_names_the_nearest(code: str, nearest: str | None) -> None:
    with pytest.raises(UnknownCalendar) as raised:
        calendar_of(code)
    if nearest is None:
        assert "did you mean" not in str(raised.value)
    else:
        assert f"did you mean {nearest}" in str(raised.value)


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"calendar": "US-NYC"}, Code.UNKNOWN_CALENDAR, "calendar: found 'US-NYC', did you mean US-NY"),
        (
            {"calendar": "US-NY", "days_off": ["2026-07-06"], "workdays": ["2026-07-06"]},
            Code.DUPLICATE_ENTRY,
            "days_off and workdays both list 2026-07-06",
        ),
        ({"days_off": ["1850-01-01"]}, Code.DATE_OUT_OF_RANGE, "days_off"),
    ],
)
def test_calendar_params_errors(company: Company, changes: dict[str, object], code: Code, words: str) -> None:
    with pytest.raises(ParamsError) as raised:
        load_params(company.params(**changes))
    assert any(p.code == code and words in str(p) for p in raised.value.problems), raised.value.lines()


def test_params_give_the_department_its_calendar(company: Company) -> None:
    params = load_params(company.params(calendar="DE-BY", days_off=["2026-12-24"], workdays=["2026-12-27"])).base
    assert params.working_calendar == calendar_of("DE-BY", (D("2026-12-24"),), (D("2026-12-27"),))
    assert params.working_calendar.label == "DE-BY; days_off: 2026-12-24; workdays: 2026-12-27"
    assert load_params(company.params()).base.working_calendar.code == "CN"


def test_the_last_working_day_of_a_month_is_the_calendars() -> None:
    # October 2026 ends on a Saturday: Friday the 30th on Monday-to-Friday, Thursday the 29th in Saudi Arabia
    assert windows("monthly_last_workday", 2026, calendar=calendar_of("weekdays"))[9] == (D("2026-10-30"),) * 2
    assert windows("monthly_last_workday", 2026, calendar=calendar_of("SA"))[9] == (D("2026-10-29"),) * 2
    # February 2026: Saturday the 28th works in mainland China
    assert windows("monthly_last_workday", 2026)[1] == (D("2026-02-28"),) * 2


def test_kpi_calendar_uses_the_departments_calendar(company: Company, tmp_path: Path) -> None:
    path = company.params(calendar="weekdays")
    ics = tmp_path / "tasks.ics"
    result = kpi("calendar", "--year", "2026", path, "--ics", ics, in_process=True)
    assert result.returncode == 0, result.stderr
    assert "weekdays" in result.stdout
    text = ics.read_text(encoding="utf-8")
    assert "DTSTART;VALUE=DATE:20261030" in text and "DTSTART;VALUE=DATE:20260228" not in text
    result = kpi("calendar", "--year", "2026", "--calendar", "us-ny", in_process=True)
    assert result.returncode == 2 and "did you mean US-NY" in result.stderr


# -- deadlines of N working days on the New York State calendar ------------------------------------
# Juneteenth (Fri 06-19) and Independence Day observed (Fri 07-03) are days off in New York, working days in China.
ANSWERS = [
    # id, received, responded, sla, on time in US-NY, on time in CN
    ("2wd-end-of-tuesday", "2026-06-18 10:00", "2026-06-23 23:59:59", "2wd", True, True),  # (Dragon Boat 06-19)
    ("2wd-wednesday", "2026-06-18 10:00", "2026-06-24 00:00", "2wd", False, False),
    ("2wd-in-utc", "2026-06-18 10:00", "2026-06-24T03:30:00Z", "2wd", True, True),  # 23:30 New York time
    ("2wd-monday", "2026-06-18 10:00", "2026-06-22 17:00", "2wd", True, True),
    ("5wd-thursday-after-july-4th", "2026-07-01 09:00", "2026-07-09 18:00", "5wd", True, False),
    ("5wd-friday", "2026-07-01 09:00", "2026-07-10 08:00", "5wd", False, False),
    ("5wd-wednesday", "2026-07-01 09:00", "2026-07-08 18:00", "5wd", True, True),
]


@pytest.mark.parametrize("calendar", ["US-NY", "CN"])
@pytest.mark.parametrize(("sla", "period"), [("2wd", "2026-06"), ("5wd", "2026-07")])
def test_working_day_deadlines_on_the_new_york_calendar(company: Company, calendar: str, sla: str, period: str) -> None:
    cases = [c for c in ANSWERS if c[3] == sla]
    company.table(
        "feedback",
        [{"feedback_id": cid, "received_at": got, "responded_at": sent} for cid, got, sent, *_ in cases],
    )
    company.budget("cs-test", period, 1000)
    path = company.params(timezone="America/New_York", calendar=calendar, indicators={"CS05": {"sla": sla}})
    card = appraise(load_params(path), Period.parse(period))
    cs05 = next(r for r in card.results if r.id == "CS05")
    outcomes = dict(zip(cs05.evidence.rows["feedback_id"], cs05.evidence.rows["outcome"], strict=True))
    expected = {cid: "on time" if (ny if calendar == "US-NY" else cn) else "late" for cid, _, _, _, ny, cn in cases}
    assert outcomes == expected
    assert cs05.evidence.facts["calendar"] == calendar
    words = dict(facts_shown(cs05.evidence.facts, "en"))
    assert words["deadline"] == f"{sla[0]} working days ({calendar} calendar)"
    assert dict(facts_shown(cs05.evidence.facts, "zh"))["答复时限"] == f"{sla[0]}个工作日（{calendar} 日历）"


def test_kpi_score_on_the_new_york_calendar(company: Company) -> None:
    company.table(
        "feedback",
        [{"feedback_id": cid, "received_at": got, "responded_at": sent} for cid, got, sent, *_ in ANSWERS[:4]],
    )
    company.budget("cs-test", "2026-06", 1000)
    path = company.params(timezone="America/New_York", calendar="US-NY", indicators={"CS05": {"sla": "2wd"}})
    result = kpi("score", path, "--period", "2026-06", "--json", in_process=True)
    assert result.returncode == 0, result.stderr
    cs05 = next(i for i in json.loads(result.stdout)["indicators"] if i["id"] == "CS05")
    assert (cs05["numerator"], cs05["denominator"], cs05["value"]) == (3, 4, 75.0)
