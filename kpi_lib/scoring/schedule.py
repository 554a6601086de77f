"""The collection schedule (信息采集时间): when each indicator's evidence is collected.

Rules (the template's `schedule` of each indicator):

| rule | window |
|---|---|
| `monthly_last_workday` | the last working day of each month on the department's `calendar` (`kpi_lib.inputs.workdays`; the default, CN, counts adjusted working days: 2026-02-28 is a Saturday that works) |
| `quarterly_last_half_month` | the 16th to the last day of March, June, September and December |
| `semiannual_last_week` | the last seven days of June (24–30) and of December (25–31) |
| `annual_review_minus_1w` | the seven days before the department's `review_date` |
| `plan_due` | each plan row's own due date (the indicator's rate table and date column) |

`tasks()` lists every collection task of a year, per department when given one.
Without a department (template-level calendar) the review date is the one given
(default: the last working day of the year). Where there are no plan rows to
date `plan_due` tasks (template level, or a department with nothing due that
year) it becomes one task per month, "on each plan item's due date", so every
indicator appears in the calendar.

`findings()` flags evidence collected outside its windows: survey answers
(the rate's `collected` column) and observations (`collected_on`). A finding is
information for the inspector, never an error; the score does not change.
"""

from __future__ import annotations

import calendar as cal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from ..base import clock
from ..base.errors import Code, ParamsError, Problem
from ..base.messages import say
from ..inputs.period import Period
from ..inputs.tables import DataFolder
from ..inputs.template import Indicator, Template
from ..inputs.workdays import CHINA, Calendar

if TYPE_CHECKING:
    from ..inputs.params import Department
    from .rates import Evidence

Window = tuple[date, date]


@dataclass(frozen=True)
class Task:
    start: date
    end: date
    indicator: Indicator
    department: str = ""
    note: str = ""


def _month_end(year: int, month: int) -> date:
    return date(year, month, cal.monthrange(year, month)[1])


def windows(
    rule: str,
    year: int,
    *,
    review_date: date | None = None,
    plan_dates: Iterable[date] = (),
    calendar: Calendar = CHINA,
) -> list[Window]:
    """The collection windows of one rule in one year, in order (working days on `calendar`)."""
    if rule == "monthly_last_workday":
        return [(d, d) for d in (calendar.last_workday_of_month(year, m) for m in range(1, 13))]
    if rule == "quarterly_last_half_month":
        return [(date(year, m, 16), _month_end(year, m)) for m in (3, 6, 9, 12)]
    if rule == "semiannual_last_week":
        return [(date(year, 6, 24), date(year, 6, 30)), (date(year, 12, 25), date(year, 12, 31))]
    if rule == "annual_review_minus_1w":
        if review_date is None:
            return []
        review = review_date.replace(year=year) if review_date.year != year else review_date
        return [(review - timedelta(days=7), review - timedelta(days=1))]
    if rule == "plan_due":
        return [(d, d) for d in sorted(set(plan_dates)) if d.year == year]
    raise ValueError(f"unknown schedule rule {rule!r}")


def default_review_date(year: int, calendar: Calendar = CHINA) -> date:
    return calendar.last_workday_of_month(year, 12)


def plan_dates(department: Department, indicator: Indicator, year: int | None = None) -> list[date]:
    """Due dates of the department's plan rows for a `plan_due` indicator (a table's query reads `year` as its period)."""

    table = DataFolder.of(department, Period.parse(str(year)) if year else None).table(indicator.table)
    column: pd.Series[pd.Timestamp] = table.rows_of(department.id)[indicator.rate.date].dropna()
    return [ts.date() for ts in column]


def tasks(
    template: Template,
    year: int,
    *,
    department: Department | None = None,
    review_date: date | None = None,
    calendar: Calendar = CHINA,
) -> list[Task]:
    """Every collection task of the year, in date order (a department's own calendar, else `calendar`)."""
    found: list[Task] = []
    if department is not None:
        review_date = department.base.review_date
        if review_date is None and any(i.schedule == "annual_review_minus_1w" for i in template.indicators):
            raise ParamsError(
                [
                    Problem(
                        file=str(department.path),
                        message="review_date: missing; the annual_review_minus_1w schedule counts back from it (e.g. review_date: 2026-12-20)",
                        code=Code.MISSING_KEY,
                    )
                ]
            )
    calendar = department.base.working_calendar if department is not None else calendar
    review = review_date or default_review_date(year, calendar)
    dept = department.id if department is not None else ""
    for ind in template.indicators:
        dates = plan_dates(department, ind, year) if ind.schedule == "plan_due" and department is not None else []
        if ind.schedule == "plan_due" and not any(d.year == year for d in dates):
            # no plan rows to date the tasks (template level, or none due this year): one task per month
            for month in range(1, 13):
                found.append(
                    Task(
                        date(year, month, 1),
                        _month_end(year, month),
                        ind,
                        dept,
                        "on each plan item's due date 计划完成时间",
                    )
                )
            continue
        for start, end in windows(ind.schedule, year, review_date=review, plan_dates=dates, calendar=calendar):
            found.append(Task(start, end, ind, dept))
    return sorted(found, key=lambda t: (t.start, t.department, t.indicator.id))


ICS_PRODID = b"-//kpi-appraisal//collection schedule//EN"  # how `kpi calendar --ics` knows a file it wrote


def to_ics(found: list[Task], lang: str = "zh") -> bytes:
    """An iCalendar file: one all-day event per task; SUMMARY starts with the indicator id (DTSTAMP from `clock.now()`)."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", ICS_PRODID.decode())
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "绩效考核信息采集 KPI collection schedule")
    stamp = clock.now().astimezone(UTC)
    for task in found:
        ind = task.indicator
        event = Event()
        who = f" · {task.department}" if task.department else ""
        event.add("uid", f"{ind.id}-{task.department or 'template'}-{task.start:%Y%m%d}@kpi-appraisal")
        event.add("dtstamp", stamp)
        event.add("dtstart", task.start)
        event.add("dtend", task.end + timedelta(days=1))
        event.add("summary", f"{ind.id} {ind.name(lang)} · {'信息采集' if lang == 'zh' else 'collect evidence'}{who}")
        lines = [
            f"{ind.schedule_text('zh')} / {ind.schedule_text('en')} ({ind.schedule})",
            f"信息采集者 collector: {ind.collector('zh')} / {ind.collector('en')}",
            f"信息采集点 source: {ind.source('zh')} / {ind.source('en')}",
            f"信息采集方法 methods: {', '.join(ind.methods)}",
        ]
        if task.note:
            lines.append(task.note)
        event.add("description", "\n".join(lines))
        event.add("categories", [ind.group])
        calendar.add_component(event)
    return bytes(calendar.to_ical())


# -- compliance -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    indicator: str
    message: str

    def __str__(self) -> str:
        return f"{self.indicator}: {self.message}"


def _fmt(window: Window) -> str:
    return window[0].isoformat() if window[0] == window[1] else f"{window[0]} – {window[1]}"


class Result(Protocol):
    """What the compliance check reads of an indicator's result (an `appraisal.IndicatorResult`)."""

    @property
    def indicator(self) -> Indicator: ...
    @property
    def method(self) -> str: ...
    @property
    def evidence(self) -> Evidence: ...


def collection_dates(result: Result) -> tuple[pd.DataFrame, str] | None:
    """The evidence rows of a result that carry a collection date, and that column's name."""
    rows = result.evidence.rows
    column = "collected_on" if result.method == "observation" else result.indicator.rate.collected
    if not column or rows is None or column not in rows:
        return None
    return rows, column


@dataclass(frozen=True)
class Outside:
    """What the collection check found for one indicator: `unchecked` (no review_date to place the
    annual window), else the dated rows, those outside their year's windows (row, day), and the windows."""

    unchecked: bool
    dated: int = 0
    rows: tuple[tuple[int, date], ...] = ()
    windows: tuple[Window, ...] = ()

    @property
    def spans(self) -> str:
        return "; ".join(_fmt(w) for w in self.windows)


def outside_windows(result: Result, review_date: date | None, calendar: Calendar = CHINA) -> Outside | None:
    """The collection check of one indicator's evidence (each dated row against its own year's windows).

    None when there is nothing to say: no collection dates, a `plan_due` schedule, no dated
    row, or every row inside its window. `findings` words it for the CLI, and
    `explain.finding_lines` in a report's language.
    """
    found = collection_dates(result)
    ind = result.indicator
    if found is None or ind.schedule == "plan_due":
        return None
    rows, column = found
    dated = rows[rows[column].notna()]
    if dated.empty:
        return None
    if ind.schedule == "annual_review_minus_1w" and review_date is None:
        return Outside(unchecked=True)
    outside: list[tuple[int, date]] = []
    shown: dict[int, list[Window]] = {}
    for _, row in dated.iterrows():
        day = row[column].date()
        year_windows = windows(ind.schedule, day.year, review_date=review_date, calendar=calendar)
        shown.setdefault(day.year, year_windows)
        if not any(start <= day <= end for start, end in year_windows):
            outside.append((int(row["_row"]), day))
    if not outside:
        return None
    spans = tuple(w for year in sorted(shown) for w in shown[year])
    return Outside(False, len(dated), tuple(outside), spans)


def findings(result: Result, review_date: date | None, calendar: Calendar = CHINA, lang: str = "en") -> list[Finding]:
    """Evidence of one indicator collected outside its schedule's windows, in `lang` (the department's, for the CLI)."""
    check = outside_windows(result, review_date, calendar)
    ind = result.indicator
    if check is None:
        return []
    if check.unchecked:
        return [Finding(ind.id, say("finding.unchecked", lang))]
    sample = ", ".join(say("finding.row", lang, row=r, date=d) for r, d in check.rows[:5])
    sample += " …" if len(check.rows) > 5 else ""
    what = say("finding.observation", lang) if result.method == "observation" else say("finding.rows", lang)
    text = say(
        "finding.outside",
        lang,
        count=len(check.rows),
        dated=check.dated,
        what=what,
        schedule=ind.schedule_text(lang),
        spans=check.spans,
        sample=sample,
    )
    return [Finding(ind.id, text)]
