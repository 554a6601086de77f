"""Deterministic demo data: three customer-service departments through all of 2026.

`write_demo(out)` writes `out/data/demo/<table>.csv` (one file per table, all
departments together, as a company export would) and `out/params/<dept>.yaml`.
The same call writes the same bytes every time: every random draw comes from a
`random.Random` seeded with the department id.

The departments differ on purpose:

- `cs-east` 华东客服部: strong; CS02 is taken from a recorded observation.
- `cs-north` 华北客服部: middling; a Q4 override raises the CS04 target.
- `cs-west` West service desk (English reports): weak, over budget, losing key accounts;
  proportional (`exact`) step rounding.

The data carries excused plan items, late and unanswered replies (some across
the 2026 National Day holiday and its adjusted working Sundays), lost key
accounts, approved budget overruns and observation rows for every period.
Surveys are dated in their collection windows (quarter ends; the week before the
12-20 review), with a few collected too early for the compliance check to flag,
so monthly periods and Q1–Q3 have no CS02/CS12 answers (those indicators are
then excluded, as the scoring rules say).

From a database (`write_demo(out, sqlite=True)`, `kpi demo --sqlite`): the same
rows go into one SQLite file, `data/demo/crm.sqlite`, with typed columns (DATE,
TIMESTAMP as ISO text, INTEGER, NUMERIC, BOOLEAN as 0/1, NULL for an empty
cell), and the params read every table with SQL (`tables.<table>.sql`, the URL
relative to params/). Complaints live in a `tickets` table under the ticket
system's own column names (mapped back with `columns:`), and the complaints and
communications queries take only the period's window (`:start`, `:end`). A run
from it scores exactly as from the CSVs: the same `result.json` bytes.

A bigger company for benchmarks (`write_demo(out, departments=N, rows=M)`):

- `departments` beyond the three adds `cs-d004`, `cs-d005` … whose quality,
  spending, churn, language and rounding are drawn from a `random.Random` seeded
  with the id, so the batch meets a realistic spread of scores; fewer than three
  takes the first ones. With the default three the output is byte for byte the
  classic demo.
- `rows` replaces the six big tables (communications, feedback, surveys,
  complaints, revisits, expenses) with about `rows` rows each, split evenly over
  the departments and drawn with numpy (a generator seeded with the department
  id) under the same rules as the row-by-row demo, then written with pyarrow's
  CSV writer: a million rows per table takes seconds, not minutes. The budgets
  follow the spending so CS11 stays near each department's `spend`.

Every value is valid by construction (unique ids, ordered timestamps, scores
1–5), so a run fails only when the toolkit is wrong.

Beside them, `out/schemas/` holds the JSON Schemas of params, company and template
files (`kpi_lib.inputs.schemas`), and each params file starts with the line that names
its schema, so an editor completes and checks its keys.

`write_demo` never silently replaces a file it did not write: every file is
first written beside its target (`<name>.tmp`), then compared byte for byte
with the file already there. A file that holds exactly what `kpi demo` writes
now is "written by kpi demo and unchanged" (so a second `make demo` is a no-op);
any other (edited params, a table of another `--departments`/`--rows`, a
company's own `data/demo/…`) stops the whole call before anything is replaced,
unless `force`. Comparing with what would be written is the simplest rule that
is always right: no stamp or hash file to keep in step, and a file edited back
to the demo's bytes is the demo's again.
"""

from __future__ import annotations

import csv
import filecmp
import random
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..base.errors import UsageError
from ..inputs.period import Period
from ..inputs.schemas import FOLDER, LINE_PREFIX, file_name, schema_files
from ..inputs.schemas import ours as schema_ours
from ..inputs.tables import TRUE
from ..inputs.template import load_template

YEAR = 2026
PERIODS = [
    str(YEAR),
    f"{YEAR}-H1",
    f"{YEAR}-H2",
    *(f"{YEAR}-Q{q}" for q in range(1, 5)),
    *(f"{YEAR}-{m:02d}" for m in range(1, 13)),
]


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    lang: str
    quality: float  # 0..1: how good the department is
    spend: float  # spending as a share of budget
    churn: float  # share of key accounts lost in the year
    rounding: str = "floor"


PROFILES = (
    Profile("cs-east", "华东客服部", "zh", quality=0.96, spend=0.97, churn=0.03),
    Profile("cs-north", "华北客服部", "zh", quality=0.88, spend=1.03, churn=0.07),
    Profile("cs-west", "West service desk", "en", quality=0.78, spend=1.12, churn=0.14, rounding="exact"),
)

TABLE_COLUMNS = {
    "policy_plan": ["item_id", "department", "title", "planned_date", "completed_date", "excused", "excuse_reason"],
    "work_plan": [
        "task_id",
        "department",
        "title",
        "due_date",
        "planned_qty",
        "actual_qty",
        "excused",
        "excuse_reason",
    ],
    "surveys": ["response_id", "department", "survey", "respondent", "date", "score"],
    "communications": ["message_id", "department", "customer_id", "created_at", "sent_at"],
    "feedback": ["feedback_id", "department", "customer_id", "received_at", "responded_at"],
    "revisits": ["customer_id", "department", "key_account", "planned_date", "done_date"],
    "complaints": ["complaint_id", "department", "received_at", "resolved_at", "satisfied"],
    "key_accounts": ["account_id", "department", "name", "since", "lost_on"],
    "expenses": ["entry_id", "department", "date", "category", "amount", "approved_overrun"],
    "budgets": ["department", "period", "amount"],
    "observations": ["indicator", "department", "period", "value", "collector", "collected_on", "source", "note"],
}

MONTHLY_BUDGET = 60000
BIG_TABLES = ("communications", "feedback", "surveys", "complaints", "revisits", "expenses")


def _day(rng: random.Random, month: int) -> date:
    start = date(YEAR, month, 1)
    end = date(YEAR + (month == 12), month % 12 + 1, 1)
    return start + timedelta(days=rng.randrange((end - start).days))


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def _office_time(rng: random.Random, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randrange(8, 19), rng.randrange(60), rng.randrange(60))


def _rows(p: Profile, monthly_budget: int = MONTHLY_BUDGET) -> dict[str, list[list[Any]]]:
    rng = random.Random(p.id)
    q = p.quality
    rows: dict[str, list[list[Any]]] = {name: [] for name in TABLE_COLUMNS}
    code = p.id.split("-")[1].upper()

    for i in range(12):
        planned = date(YEAR, i + 1, 20)
        finished = rng.random() < q
        completed = (
            planned - timedelta(days=rng.randrange(0, 15))
            if finished
            else (planned + timedelta(days=rng.randrange(5, 40)) if rng.random() < 0.5 else None)
        )
        excused = not finished and rng.random() < 0.4
        reason = "上级调整年度计划 / plan changed by senior management" if excused else ""
        rows["policy_plan"].append(
            [
                f"{code}-P{i + 1:03d}",
                p.id,
                f"客服管理制度第{i + 1}项",
                _iso(planned),
                _iso(completed),
                "是" if excused else "否",
                reason,
            ]
        )

    for i in range(150):
        due = _day(rng, i % 12 + 1)
        quantity = rng.randrange(20, 101)
        actual = max(0, round(quantity * rng.uniform(q - 0.12, min(1.08, q + 0.1))))
        excused = actual < quantity * 0.7 and rng.random() < 0.3
        rows["work_plan"].append(
            [
                f"{code}-T{i + 1:04d}",
                p.id,
                f"工作任务 {i + 1}",
                _iso(due),
                quantity,
                actual,
                "true" if excused else "false",
                "客户取消 / cancelled by the customer" if excused else "",
            ]
        )

    response = 0
    # Surveys are collected in their schedule's windows, with a few stragglers the
    # compliance check flags: customer satisfaction in the last half month of each quarter,
    # the senior-management and assigned-task surveys in the week before the 12-20 review.
    for survey, count, respondents in (
        ("policy_execution", 40, "高层主管"),
        ("customer_satisfaction", 450, "客户"),
        ("assigned_tasks", 30, "主管领导"),
    ):
        quarters = (3, 6, 9, 12) if survey == "customer_satisfaction" else (12,)
        for month in quarters:
            for k in range(count):
                response += 1
                good = rng.random() < q
                score = rng.choice((4, 5, 5)) if good else rng.choice((1, 2, 3, 3))
                if k % 37 == 36:
                    day = date(YEAR, month, rng.randrange(1, 16))  # collected too early: a finding
                elif survey == "customer_satisfaction":
                    day = date(YEAR, month, rng.randrange(16, 31 if month in (6, 9) else 32))
                else:
                    day = date(YEAR, 12, rng.randrange(13, 20))
                rows["surveys"].append(
                    [f"{code}-S{response:05d}", p.id, survey, f"{respondents}{rng.randrange(1, 40)}", _iso(day), score]
                )

    for i in range(3600):
        created = _office_time(rng, _day(rng, i % 12 + 1))
        roll = rng.random()
        if roll < 0.01:
            sent = None
        elif roll < q:
            sent = created + timedelta(minutes=rng.randrange(5, 24 * 60))
        else:
            sent = created + timedelta(minutes=rng.randrange(24 * 60 + 1, 96 * 60))
        rows["communications"].append(
            [f"{code}-M{i + 1:05d}", p.id, f"C{rng.randrange(1, 900):04d}", _stamp(created), _stamp(sent)]
        )

    for i in range(1500):
        received = _office_time(rng, _day(rng, i % 12 + 1))
        roll = rng.random()
        if roll < 0.015:
            responded = None
        else:
            # days to answer: mostly within two working days; holidays (2026 National Day) push some past it
            days = rng.choice((0, 0, 1, 1, 2, 2)) if roll < q else rng.choice((3, 4, 5, 6))
            responded = received + timedelta(days=days, minutes=rng.randrange(0, 300))
        rows["feedback"].append(
            [f"{code}-F{i + 1:05d}", p.id, f"C{rng.randrange(1, 900):04d}", _stamp(received), _stamp(responded)]
        )

    for c in range(600):
        key = c < 60
        for half in (0, 1):
            planned = _day(rng, rng.randrange(1, 7) + 6 * half)
            done = (
                planned + timedelta(days=rng.randrange(0, 20))
                if rng.random() < (q + (0.02 if key else -0.03))
                else None
            )
            rows["revisits"].append([f"C{c + 1:04d}", p.id, "1" if key else "0", _iso(planned), _iso(done)])

    for i in range(300):
        received = _office_time(rng, _day(rng, i % 12 + 1))
        resolved = received + timedelta(hours=rng.randrange(2, 120)) if rng.random() < 0.97 else None
        satisfied = resolved is not None and rng.random() < q
        rows["complaints"].append(
            [
                f"{code}-K{i + 1:04d}",
                p.id,
                _stamp(received),
                _stamp(resolved),
                ("yes" if satisfied else "no") if resolved else "",
            ]
        )

    for a in range(60):
        since = date(rng.randrange(2018, 2026), rng.randrange(1, 13), rng.randrange(1, 29))
        if a >= 55:
            since = date(YEAR, rng.randrange(2, 10), rng.randrange(1, 29))  # joined during the year
        lost = _day(rng, rng.randrange(1, 13)) if rng.random() < p.churn * 1.2 else None
        if lost is not None and lost < since:
            lost = None
        rows["key_accounts"].append([f"{code}-A{a + 1:03d}", p.id, f"大客户{a + 1:03d}", _iso(since), _iso(lost)])

    entry = 0
    for month in range(1, 13):
        spend_target = Decimal(MONTHLY_BUDGET) * Decimal(str(round(p.spend + rng.uniform(-0.05, 0.05), 3)))
        spent = Decimal(0)
        while spent < spend_target:
            entry += 1
            amount = Decimal(rng.randrange(20000, 180000)) / 100
            rows["expenses"].append(
                [
                    f"{code}-E{entry:05d}",
                    p.id,
                    _iso(_day(rng, month)),
                    rng.choice(("差旅 travel", "培训 training", "办公 office", "礼品 gifts")),
                    f"{amount:.2f}",
                    "false",
                ]
            )
            spent += amount
        if month in (3, 9, 11):
            entry += 1
            rows["expenses"].append(
                [
                    f"{code}-E{entry:05d}",
                    p.id,
                    _iso(date(YEAR, month, 28)),
                    "客户活动 customer event",
                    "8000.00",
                    "true",
                ]
            )

    for period in PERIODS:
        window = Period.parse(period)
        months = (window.end.year - window.start.year) * 12 + window.end.month - window.start.month + 1
        rows["budgets"].append([p.id, period, f"{monthly_budget * months:.2f}"])

    if p.id == "cs-east":
        for period in PERIODS:
            window = Period.parse(period)
            value = Decimal(str(round(88 + 8 * rng.random(), 1)))
            collected = (
                date(YEAR, 12, 28) if period == f"{YEAR}-Q4" else date(YEAR, 12, 15)
            )  # Q4's was noted late: a finding
            rows["observations"].append(
                [
                    "CS02",
                    p.id,
                    period,
                    f"{value}",
                    "督察员 王敏",
                    _iso(collected),
                    "高层主管访谈 / senior management interview",
                    "问卷汇总后笔录 / noted after the survey",
                ]
            )
    return rows


def params_text(p: Profile) -> str:
    cs02 = "method: observation, " if p.id == "cs-east" else ""
    override = (
        "periods:                     # this period only: a stricter delivery target\n"
        "  2026-Q4:\n"
        "    indicators:\n"
        "      CS04: {target: 97}\n"
        if p.id == "cs-north"
        else ""
    )
    return f"""{SCHEMA_LINE}# Demo parameters written by `kpi demo` (deterministic; safe to regenerate).
department: {p.id}
name: {p.name}
template: customer_service
data: ../data/demo
lang: {p.lang}
review_date: {YEAR}-12-20
policy:
  step_rounding: {p.rounding}
  min_score: 0
  max_score: 120
  on_empty: exclude
  satisfied_min_score: 4
indicators:
  CS01: {{weight: 5, per_item: 10}}
  CS02: {{weight: 5, target: 90, step: 1, penalty: 2, bonus: 1, {cs02}}}
  CS03: {{weight: 15, target: 100, step: 1, penalty: 2, bonus: 1}}
  CS04: {{weight: 8, target: 95, step: 1, penalty: 2, bonus: 1, sla: 24h}}
  CS05: {{weight: 8, target: 95, step: 1, penalty: 2, bonus: 1, sla: 2wd}}
  CS06: {{weight: 8, target: 90, step: 1, penalty: 2, bonus: 1}}
  CS07: {{weight: 10, target: 90, step: 1, penalty: 5, bonus: 1}}
  CS08: {{weight: 10, target: 5, step: 1, penalty: 3, bonus: 1}}
  CS09: {{weight: 8, target: 95, step: 1, penalty: 2, bonus: 1}}
  CS10: {{weight: 10, target: 90, step: 1, penalty: 2, bonus: 1}}
  CS11: {{weight: 8, target: 0, step: 5, penalty: 10, bonus: 0}}
  CS12: {{weight: 5, target: 90, step: 1, penalty: 2, bonus: 1}}
{override}""".replace(", }", "}")


SQLITE = "crm.sqlite"
SQLITE_URL = f"sqlite:///../data/demo/{SQLITE}"  # relative to the params file's folder
# The ticket system's own names for complaints (the params map them back with `columns:`).
TICKETS = {
    "complaint_id": "ticket_no",
    "department": "team",
    "received_at": "opened_at",
    "resolved_at": "closed_at",
    "satisfied": "happy",
}
WINDOWED = {"complaints": "opened_at", "communications": "created_at"}  # queries that take only the period's rows
_SQL_TYPES = {
    "str": "TEXT",
    "period": "TEXT",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "bool": "BOOLEAN",
    "int": "INTEGER",
    "decimal": "NUMERIC",
}


def _sql_table(name: str) -> tuple[str, list[str]]:
    """The demo database's table and column names for template table `name`."""
    if name == "complaints":
        return "tickets", [TICKETS[c] for c in TABLE_COLUMNS[name]]
    return name, list(TABLE_COLUMNS[name])


def _sql_cell(kind: str, value: Any) -> Any:
    """A demo cell as the database holds it: NULL for empty, 0/1 for booleans, numbers as written (NUMERIC converts)."""
    if value == "" or value is None:
        return None
    if kind == "bool":
        return 1 if str(value).strip().lower() in TRUE else 0
    return value


def _write_sqlite(path: Path, tables: dict[str, list[list[Any]]]) -> None:
    """Every demo table into one SQLite file with typed columns (one transaction: the same bytes every time)."""
    spec = load_template().tables
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        with connection:
            for name, header in TABLE_COLUMNS.items():
                table, columns = _sql_table(name)
                kinds = [spec[name].column(c).type for c in header]
                for i, kind in enumerate(kinds):
                    values = [row[i] for row in tables[name] if row[i] not in ("", None)]
                    if kind == "decimal" and values and all(isinstance(v, int) for v in values):
                        kinds[i] = "int"
                declared = ", ".join(f"{c} {_SQL_TYPES[k]}" for c, k in zip(columns, kinds, strict=True))
                connection.execute(f"CREATE TABLE {table} ({declared})")
                marks = ", ".join("?" for _ in columns)
                connection.executemany(
                    f"INSERT INTO {table} VALUES ({marks})",
                    [[_sql_cell(k, v) for k, v in zip(kinds, row, strict=True)] for row in tables[name]],
                )
    finally:
        connection.close()


def _sql_params(name: str) -> str:
    """The params' `tables:` entry that reads demo table `name` from the SQLite file."""
    table, columns = _sql_table(name)
    where = f" WHERE {WINDOWED[name]} >= :start AND {WINDOWED[name]} < :end" if name in WINDOWED else ""
    query = f"SELECT {', '.join(columns)} FROM {table}{where}"
    lines = [f"  {name}:", "    sql:", f"      url: {SQLITE_URL}", f'      query: "{query}"']
    if name == "complaints":
        mapped = ", ".join(f"{c}: {TICKETS[c]}" for c in TABLE_COLUMNS[name])
        lines.append(f"    columns: {{{mapped}}}")
    return "\n".join(lines) + "\n"


def sqlite_params(text: str) -> str:
    """Demo params `text` reading every table from the demo's SQLite file."""
    return (
        text
        + "tables:                      # every table from the demo's database (kpi demo --sqlite)\n"
        + "".join(_sql_params(name) for name in TABLE_COLUMNS)
    )


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def profiles(departments: int = len(PROFILES)) -> tuple[Profile, ...]:
    """The first `departments` departments: the demo's three, then `cs-d004` … drawn from a seeded `random.Random`.

    Each extra department's traits come from its own seed (its id), so department
    k is the same whatever N is: a bigger company only adds departments.
    """
    if departments < 1:
        raise UsageError(f"--departments {departments}: expected a whole number ≥ 1")
    width = max(3, len(str(departments)))
    extra = []
    for k in range(len(PROFILES) + 1, departments + 1):
        ident = f"cs-d{k:0{width}d}"
        rng = random.Random(ident)
        lang = rng.choice(("zh", "zh", "en"))
        extra.append(
            Profile(
                ident,
                f"客服{k:0{width}d}部" if lang == "zh" else f"Service desk {k:0{width}d}",
                lang,
                quality=round(rng.uniform(0.72, 0.99), 3),
                spend=round(rng.uniform(0.9, 1.15), 3),
                churn=round(rng.uniform(0.01, 0.16), 3),
                rounding=rng.choice(("floor", "floor", "exact")),
            )
        )
    return (*PROFILES[:departments], *extra)


def _shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` whole numbers differing by at most one (the first ones get the remainder)."""
    return [total // parts + (k < total % parts) for k in range(parts)]


def _big_tables(people: tuple[Profile, ...], rows: int) -> dict[str, Any]:
    """The six big tables as pyarrow tables of text (None: an empty cell), about `rows` rows each, and the monthly budgets.

    Vectorized (numpy draws, pyarrow text functions): the same rules as `_rows`
    (office hours, reply delays by quality, survey windows and early stragglers,
    unresolved complaints, unanswered messages), not the same draws.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    month_starts = np.arange(np.datetime64(f"{YEAR}-01"), np.datetime64(f"{YEAR + 1}-01") + 1, dtype="datetime64[M]")
    month_first = month_starts.astype("datetime64[D]")
    month_days = np.diff(month_first).astype(np.int64)
    second = np.timedelta64(1, "s")

    def ids(prefix: str, n: int) -> Any:
        numbers = pc.utf8_lpad(pa.array(np.arange(1, n + 1)).cast(pa.string()), width=7, padding="0")
        return pc.binary_join_element_wise(pa.scalar(prefix), numbers, "")

    def text(values: Any, width: int = 0) -> Any:
        out = pa.array(values).cast(pa.string())
        return pc.utf8_lpad(out, width=width, padding="0") if width else out

    def stamps(moments: Any, missing: Any = None) -> Any:
        """`YYYY-MM-DD HH:MM:SS` (pyarrow's cast of timestamp[s] to text; much faster than strftime)."""
        return pa.array(moments.astype("datetime64[s]"), mask=missing).cast(pa.string())

    def days(moments: Any, missing: Any = None) -> Any:
        return pa.array(moments.astype("datetime64[D]"), mask=missing).cast(pa.string())

    def in_month(g: Any, months: Any) -> Any:
        """A day of each (1-based) month, uniformly."""
        index = months - 1
        return month_first[index] + (g.random(len(months)) * month_days[index]).astype(np.int64)

    def office(g: Any, day: Any) -> Any:
        return day.astype("datetime64[s]") + (g.integers(8 * 3600, 19 * 3600, len(day)) * second)

    def customers(g: Any, n: int, prefix: str) -> Any:
        numbers = text(g.integers(1, max(900, n // 4), n), width=6)
        return pc.binary_join_element_wise(pa.scalar(prefix), numbers, "")

    categories = np.array(["差旅 travel", "培训 training", "办公 office", "礼品 gifts"])
    events_category = np.array(["客户活动 customer event"] * 3)
    tables: dict[str, list[Any]] = {name: [] for name in BIG_TABLES}
    budgets: dict[str, int] = {}
    for p, n in zip(people, _shares(rows, len(people)), strict=True):
        n = max(n, 12)
        g = np.random.default_rng(list(p.id.encode()))
        q = p.quality
        code = p.id.split("-")[1].upper()
        dept = pa.array([p.id] * n, pa.string())
        months = np.arange(n) % 12 + 1

        created = office(g, in_month(g, months))
        roll = g.random(n)
        delay = np.where(roll < q, g.integers(5, 24 * 60, n), g.integers(24 * 60 + 1, 96 * 60, n)) * 60 * second
        tables["communications"].append(
            pa.table(
                {
                    "message_id": ids(f"{code}-M", n),
                    "department": dept,
                    "customer_id": customers(g, n, "C"),
                    "created_at": stamps(created),
                    "sent_at": stamps(created + delay, missing=roll < 0.01),
                }
            )
        )

        received = office(g, in_month(g, months))
        roll = g.random(n)
        late = roll >= q
        waited = np.where(late, g.choice((3, 4, 5, 6), n), g.choice((0, 0, 1, 1, 2, 2), n)) * 86400
        answered = received + (waited + g.integers(0, 300, n) * 60) * second
        tables["feedback"].append(
            pa.table(
                {
                    "feedback_id": ids(f"{code}-F", n),
                    "department": dept,
                    "customer_id": customers(g, n, "C"),
                    "received_at": stamps(received),
                    "responded_at": stamps(answered, missing=roll < 0.015),
                }
            )
        )

        # surveys: the demo's mix (40 policy_execution, 1800 customer_satisfaction, 30 assigned_tasks)
        kind = g.choice(3, n, p=np.array([40, 1800, 30]) / 1870)
        quarter_end = g.choice((3, 6, 9, 12), n)
        survey_month = np.where(kind == 1, quarter_end, 12)
        first = month_first[survey_month - 1]
        window = np.where(kind == 1, month_days[survey_month - 1] - 15, 7)
        day = first + np.where(kind == 1, 15, 12) + (g.random(n) * window).astype(np.int64)
        early = np.arange(n) % 37 == 36  # collected too early: a finding
        day = np.where(early, first + g.integers(0, 15, n), day)
        good = g.random(n) < q
        score = np.where(good, g.choice((4, 5, 5), n), g.choice((1, 2, 3, 3), n))
        names = np.array(["policy_execution", "customer_satisfaction", "assigned_tasks"])
        who = np.array(["高层主管", "客户", "主管领导"])
        tables["surveys"].append(
            pa.table(
                {
                    "response_id": ids(f"{code}-S", n),
                    "department": dept,
                    "survey": pa.array(names[kind]),
                    "respondent": pc.binary_join_element_wise(pa.array(who[kind]), text(g.integers(1, 40, n)), ""),
                    "date": days(day),
                    "score": text(score),
                }
            )
        )

        received = office(g, in_month(g, months))
        resolved_ok = g.random(n) < 0.97
        resolved = received + g.integers(2, 120, n) * 3600 * second
        satisfied = np.where(g.random(n) < q, "yes", "no")
        tables["complaints"].append(
            pa.table(
                {
                    "complaint_id": ids(f"{code}-K", n),
                    "department": dept,
                    "received_at": stamps(received),
                    "resolved_at": stamps(resolved, missing=~resolved_ok),
                    "satisfied": pa.array(satisfied, mask=~resolved_ok),
                }
            )
        )

        customer = np.arange(n) // 2
        half = np.arange(n) % 2
        key = customer < max(1, n // 20)
        planned = in_month(g, g.integers(1, 7, n) + 6 * half)
        done = planned + g.integers(0, 20, n)
        tables["revisits"].append(
            pa.table(
                {
                    "customer_id": pc.binary_join_element_wise(pa.scalar("C"), text(customer + 1, width=7), ""),
                    "department": dept,
                    "key_account": pa.array(np.where(key, "1", "0")),
                    "planned_date": days(planned),
                    "done_date": days(done, missing=g.random(n) >= np.where(key, q + 0.02, q - 0.03)),
                }
            )
        )

        # expenses: amounts of 200–1800 × the month's spending share; the budget is what the entries average to
        spending = np.round(p.spend + g.uniform(-0.05, 0.05, 12), 3)
        cents = np.round(g.uniform(20000, 180000, n) * spending[months - 1]).astype(np.int64)
        events = np.array([3, 9, 11])  # an approved customer event, as in the demo
        entry_days = np.concatenate([in_month(g, months), month_first[events - 1] + 27])
        cents = np.concatenate([cents, np.full(3, 800000)])
        budgets[p.id] = round(1000 * n / 12)
        amount = pc.binary_join_element_wise(text(cents // 100), text(cents % 100, width=2), ".")
        tables["expenses"].append(
            pa.table(
                {
                    "entry_id": ids(f"{code}-E", n + 3),
                    "department": pa.array([p.id] * (n + 3), pa.string()),
                    "date": days(entry_days),
                    "category": pa.array(np.concatenate([categories[g.integers(0, 4, n)], events_category])),
                    "amount": amount,
                    "approved_overrun": pa.array(np.where(np.arange(n + 3) >= n, "true", "false")),
                }
            )
        )
    return {
        "tables": {name: pa.concat_tables(parts) for name, parts in tables.items()},
        "budgets": budgets,
    }


def _write_arrow_csv(path: Path, table: Any) -> None:
    """A pyarrow table of text as CSV: header, no quotes (no value needs them), empty cells for nulls."""
    import pyarrow.csv as pacsv

    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none", quoting_header="none"))


SHOWN = 10  # files named in a refusal; the rest are counted
# The first line of each params file: the JSON Schema `write_demo` writes into schemas/, for editors (kpi_lib.inputs.schemas).
SCHEMA_LINE = f"{LINE_PREFIX}../{FOLDER}/{file_name('params')}\n"


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _differing(targets: list[Path]) -> list[Path]:
    """The targets that exist and differ from the `.tmp` file written beside each (compared byte for byte).

    Two kinds of file count as the demo's too: a params file as an earlier kpi demo wrote it (without the schema
    line it now starts with), and a schema file kpi wrote (`schemas.ours`), which changes with the models.
    """
    return [path for path in targets if path.exists() and not filecmp.cmp(_tmp(path), path, shallow=False)
            and not _earlier(path)]  # fmt: skip


def _earlier(path: Path) -> bool:
    """A file an earlier `kpi demo` (or `kpi init`) wrote where this one writes newer bytes of the same thing."""
    try:
        held = path.read_bytes()
    except OSError:
        return False
    if path.suffix == ".json":
        return schema_ours(held)
    written = _tmp(path).read_bytes()
    return written.startswith(SCHEMA_LINE.encode()) and held == written[len(SCHEMA_LINE.encode()) :]


def _refuse_overwrite(changed: list[Path]) -> UsageError:
    names = ", ".join(str(p) for p in changed[:SHOWN]) + (
        f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
    )
    return UsageError(
        f"{len(changed)} existing file(s) differ from what kpi demo writes (edited since, or not written by it): "
        f"{names}; nothing was written; --force replaces them"
    )


def write_demo(
    out: Path,
    departments: int = len(PROFILES),
    rows: int | None = None,
    *,
    force: bool = False,
    sqlite: bool = False,
) -> list[Path]:
    """Write the demo data and params of `departments` departments under `out`; return the params files.

    `rows`: about that many rows in each big table (`BIG_TABLES`), generated
    vectorized; None keeps the demo's own sizes (3,600 messages a department …).
    A target that exists with other bytes than these is refused (`UsageError`,
    nothing replaced) unless `force` (see the module docstring). `sqlite`: the
    tables go into `data/demo/crm.sqlite` instead of CSVs, and the params read
    them with SQL.
    """
    if rows is not None and rows < 1:
        raise UsageError(f"--rows {rows}: expected a whole number ≥ 1")
    if rows is not None and sqlite:
        raise UsageError("--sqlite writes the demo's own tables; leave out --rows")
    people = profiles(departments)
    data = out / "data" / "demo"
    params = out / "params"
    data.mkdir(parents=True, exist_ok=True)
    params.mkdir(parents=True, exist_ok=True)
    big = _big_tables(people, rows) if rows is not None else None
    tables: dict[str, list[list[Any]]] = {name: [] for name in TABLE_COLUMNS}
    written = []
    targets = []
    try:
        for profile in people:
            budget = big["budgets"][profile.id] if big else MONTHLY_BUDGET
            for name, found in _rows(profile, budget).items():
                tables[name].extend(found)
            path = params / f"{profile.id}.yaml"
            targets.append(path)
            text = params_text(profile)
            _tmp(path).write_text(sqlite_params(text) if sqlite else text, encoding="utf-8")
            written.append(path)
        for path, text in schema_files(out).items():
            targets.append(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            _tmp(path).write_text(text, encoding="utf-8")
        if sqlite:
            targets.append(data / SQLITE)
            _write_sqlite(_tmp(data / SQLITE), tables)
        for name, header in () if sqlite else TABLE_COLUMNS.items():
            path = data / f"{name}.csv"
            targets.append(path)
            if big and name in BIG_TABLES:
                _write_arrow_csv(_tmp(path), big["tables"][name].select(header))
            else:
                _write_csv(_tmp(path), header, tables[name])
        changed = [] if force else _differing(targets)
        if changed:
            raise _refuse_overwrite(changed)
        for path in targets:
            _tmp(path).replace(path)
    finally:
        for path in targets:
            _tmp(path).unlink(missing_ok=True)
    return written
