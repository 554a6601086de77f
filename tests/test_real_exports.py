"""Real public exports as they come, scored through mappings alone and checked against a hand count (issue 17).

tests/corpus/real/ holds a Boston 311 export re-saved by pandas (its first column the
index, with no header) and a NYC 311 sample (American 12-hour dates, rows of other
months closed before they were opened), shaped after the public files (see the README
there). Their params map them with `columns:`, `values:`, `constants:` and `date_format`
only: no adapter.

Each expected number is counted here by hand with the standard library and `holidays`,
not with kpi_lib: the cells are parsed with `strptime`, a row counts when its opening
falls on a local calendar day of the period, a duration is the real time between the two
instants in America/New_York (daylight saving included), and a working-day deadline is
the end of the local day of the N-th working day after the opening day on the state's
calendar (`holidays` US-MA / US-NY). `kpi score --json` must print exactly those values,
numerators and denominators, and the total they give.

The same rows are read four ways: the CSV named by the department's params, the CSV
named by a company file shared by three Boston departments, and both again from a SQLite
database (`tables.<t>.sql`). Then a NYC row of June closed before it was opened: it stops
the department until `exclude:` names its key with a reason.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pandas as pd
import pytest
import yaml

from .conftest import kpi

REAL = Path(__file__).resolve().parent / "corpus" / "real"
NEW_YORK = ZoneInfo("America/New_York")
BOSTON_FORMAT = "%Y-%m-%d %H:%M:%S"
NYC_FORMAT = "%m/%d/%Y %I:%M:%S %p"
CENT = Decimal("0.01")

# The periods appraised, as local calendar days (first, last), written out by hand.
WINDOWS = {
    "2023-03": (date(2023, 3, 1), date(2023, 3, 31)),
    "2023-04": (date(2023, 4, 1), date(2023, 4, 30)),
    "2023-Q2": (date(2023, 4, 1), date(2023, 6, 30)),
    "2023-06": (date(2023, 6, 1), date(2023, 6, 30)),
    "2023-07": (date(2023, 7, 1), date(2023, 7, 31)),
}
BOSTON_CODES = {"bos-pwd": "PWDx", "bos-btd": "BTDT", "bos-info": "INFO"}
BOSTON_PERIODS = ("2023-03", "2023-04")
NYC_PERIODS = ("2023-Q2", "2023-06", "2023-07")


# -- the hand count ---------------------------------------------------------------------------------------------------


def instant(local: datetime) -> float:
    """A naive New York wall-clock time as seconds since the epoch (the real instant)."""
    return local.replace(tzinfo=NEW_YORK).timestamp()


@cache
def state_holidays(state: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", subdiv=state, years=year))


def working(day: date, state: str | None) -> bool:
    """Monday to Friday and not a public holiday of the state (None: no holidays at all)."""
    return day.weekday() < 5 and (state is None or day not in state_holidays(state, day.year))


def due_end(opened: datetime, days: int, state: str | None) -> datetime:
    """The end of the local day of the `days`-th working day after the opening day (the next midnight)."""
    day, left = opened.date(), days
    while left:
        day += timedelta(days=1)
        left -= working(day, state)
    return datetime.combine(day + timedelta(days=1), time())


def within_hours(start: datetime, end: datetime | None, hours: int, *, real: bool = True) -> bool:
    if end is None:
        return False
    taken = instant(end) - instant(start) if real else (end - start).total_seconds()
    return taken <= hours * 3600


def within_workdays(start: datetime, end: datetime | None, days: int, state: str | None) -> bool:
    return end is not None and instant(end) < instant(due_end(start, days, state))


def percent(n: int, d: int) -> Decimal | None:
    return None if d == 0 else (Decimal(n) * 100 / Decimal(d)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Count:
    """One indicator as counted by hand: value, numerator, denominator (None for an observed value)."""

    value: Decimal | None
    numerator: int | None
    denominator: int | None


def share(flags: list[bool]) -> Count:
    return Count(percent(sum(flags), len(flags)), sum(flags), len(flags))


def in_window(moment: datetime, period: str) -> bool:
    first, last = WINDOWS[period]
    return first <= moment.date() <= last


def stamp(text: str, fmt: str) -> datetime | None:
    return datetime.strptime(text, fmt) if text.strip() else None


@cache
def boston_cases() -> tuple[dict[str, Any], ...]:
    """boston311.csv read with the csv module: the index column (header "") is just another cell."""
    with (REAL / "boston311.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(
        {
            "id": r["case_enquiry_id"],
            "code": r["department"],
            "opened": stamp(r["open_dt"], BOSTON_FORMAT),
            "closed": stamp(r["closed_dt"], BOSTON_FORMAT),
            "on_time": r["on_time"],
        }
        for r in rows
    )


@cache
def nyc_requests(path: Path = REAL / "nyc311.csv") -> tuple[dict[str, Any], ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(
        {
            "key": r["Unique Key"],
            "agency": r["Agency"],
            "created": stamp(r["Created Date"], NYC_FORMAT),
            "closed": stamp(r["Closed Date"], NYC_FORMAT),
            "updated": stamp(r["Resolution Action Updated Date"], NYC_FORMAT),
            "line": n,
        }
        for n, r in enumerate(rows, start=2)
    )


def boston_count(department: str, period: str) -> dict[str, Count]:
    """CS04 closed within 24 real hours, CS05 within 2 working days (US-MA), CS07 closed and ONTIME."""
    cases = [c for c in boston_cases() if c["code"] == BOSTON_CODES[department] and in_window(c["opened"], period)]
    return {
        "CS04": share([within_hours(c["opened"], c["closed"], 24) for c in cases]),
        "CS05": share([within_workdays(c["opened"], c["closed"], 2, "MA") for c in cases]),
        "CS07": share([c["closed"] is not None and c["on_time"] == "ONTIME" for c in cases]),
    }


def nyc_count(period: str, skip: frozenset[str] = frozenset(), path: Path = REAL / "nyc311.csv") -> dict[str, Count]:
    """CS04 resolution updated within 2 working days, CS05 closed within 5 (US-NY); DOT's requests only."""
    rows = [r for r in nyc_requests(path) if r["agency"] == "DOT" and in_window(r["created"], period)]
    return {
        "CS04": share([within_workdays(r["created"], r["updated"], 2, "NY") for r in rows]),
        "CS05": share([within_workdays(r["created"], r["closed"], 5, "NY") for r in rows if r["key"] not in skip]),
    }


@cache
def observed() -> dict[tuple[str, str, str], Count]:
    with (REAL / "observations.csv").open(encoding="utf-8", newline="") as handle:
        return {
            (r["department"], r["period"], r["indicator"]): Count(
                Decimal(r["value"]).quantize(CENT, rounding=ROUND_HALF_UP), None, None
            )
            for r in csv.DictReader(handle)
        }


def hand_count(department: str, period: str) -> dict[str, Count]:
    counted = boston_count(department, period) if department in BOSTON_CODES else nyc_count(period)
    notes = {iid: c for (d, p, iid), c in observed().items() if (d, p) == (department, period)}
    assert not set(counted) & set(notes) and len(counted) + len(notes) == 12
    return {**counted, **notes}


def hand_score(value: Decimal, spec: dict[str, Any], direction: str) -> Decimal:
    """SPEC §4 with floor steps, clamped to [0, 120]."""
    if direction == "count":
        raw = 100 - value * Decimal(str(spec["per_item"]))
    else:
        d = value - Decimal(str(spec["target"])) if direction == "higher" else Decimal(str(spec["target"])) - value
        steps = (abs(d) / Decimal(str(spec["step"]))).to_integral_value(rounding=ROUND_FLOOR)
        raw = 100 - steps * Decimal(str(spec["penalty"])) if d < 0 else 100 + steps * Decimal(str(spec["bonus"]))
    return min(max(raw, Decimal(0)), Decimal(120)).quantize(CENT, rounding=ROUND_HALF_UP)


DIRECTIONS = {"CS01": "count", "CS08": "lower", "CS11": "lower"}


def hand_total(counts: dict[str, Count], indicators: dict[str, dict[str, Any]]) -> Decimal | None:
    pairs = [
        (Decimal(str(indicators[iid]["weight"])), hand_score(c.value, indicators[iid], DIRECTIONS.get(iid, "higher")))
        for iid, c in counts.items()
        if c.value is not None
    ]
    weight = sum((w for w, _ in pairs), Decimal(0))
    if not weight:
        return None
    return (sum((w * s for w, s in pairs), Decimal(0)) / weight).quantize(CENT, rounding=ROUND_HALF_UP)


# -- the four ways of reading the same rows ---------------------------------------------------------------------------

BOSTON_QUERY = (
    "SELECT case_enquiry_id, department, open_dt, closed_dt, on_time FROM boston_311 "
    "WHERE date(open_dt) >= date(:start) AND date(open_dt) < date(:end)"
)
NYC_QUERY = (
    'SELECT "Unique Key", "Agency", "Created Date", "Closed Date", "Resolution Action Updated Date" FROM nyc_311'
)


def load_sqlite(path: Path) -> Path:
    """The exports' rows in a SQLite database as a CRM would hold them: typed ids, NULL for empty, no pandas index."""
    with sqlite3.connect(path) as db:
        for table, file, integer in (
            ("boston_311", "boston311.csv", "case_enquiry_id"),
            ("nyc_311", "nyc311.csv", "Unique Key"),
        ):
            with (REAL / file).open(encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                rows = list(reader)
            keep = [i for i, h in enumerate(header) if h]  # the pandas index is no column of the database
            kinds = {
                integer: "INTEGER",
                "latitude": "REAL",
                "longitude": "REAL",
                "Latitude": "REAL",
                "Longitude": "REAL",
            }
            columns = ", ".join(f'"{header[i]}" {kinds.get(header[i], "TEXT")}' for i in keep)
            db.execute(f"CREATE TABLE {table} ({columns})")
            db.executemany(
                f"INSERT INTO {table} VALUES ({', '.join('?' for _ in keep)})",
                [[_typed(header[i], row[i], kinds) for i in keep] for row in rows],
            )
    db.close()
    return path


def _typed(header: str, cell: str, kinds: dict[str, str]) -> Any:
    if cell == "":
        return None
    kind = kinds.get(header)
    return int(cell) if kind == "INTEGER" else float(cell) if kind == "REAL" else cell


def as_sql(doc: dict[str, Any], url: str) -> dict[str, Any]:
    """The same params with every table read from the database instead of the CSV file."""
    doc = copy.deepcopy(doc)
    for source in doc["tables"].values():
        file = source.pop("file")
        source["sql"] = {"url": url, "query": BOSTON_QUERY if file == "boston311.csv" else NYC_QUERY}
    return doc


def write_yaml(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def read_yaml(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


@dataclass(frozen=True)
class Way:
    """One way of reading the rows: the params file of a department."""

    id: str
    params: Callable[[Path, str], Path]  # (scratch folder, department) → params path


def _file(_: Path, department: str) -> Path:
    return REAL / ("boston-pwd.yaml" if department == "bos-pwd" else "nyc-dot.yaml")


def _company(_: Path, department: str) -> Path:
    return REAL / "boston" / f"{department}.yaml"


def _sql(scratch: Path, department: str) -> Path:
    folder = scratch / "sql"
    if not (folder / "crm.sqlite").exists():
        folder.mkdir(parents=True, exist_ok=True)
        load_sqlite(folder / "crm.sqlite")
        shutil.copy(REAL / "observations.csv", folder / "observations.csv")
    doc = as_sql(read_yaml(_file(scratch, department)), "sqlite:///crm.sqlite")  # relative to the params' folder
    return write_yaml(folder / f"{department}.yaml", doc)


def _company_sql(scratch: Path, department: str) -> Path:
    folder = scratch / "company-sql"
    boston = folder / "boston"
    if not (boston / "crm.sqlite").exists():
        boston.mkdir(parents=True, exist_ok=True)
        load_sqlite(boston / "crm.sqlite")
        shutil.copy(REAL / "observations.csv", folder / "observations.csv")
        write_yaml(boston / "company.yaml", as_sql(read_yaml(REAL / "boston" / "company.yaml"), "sqlite:///crm.sqlite"))
    return write_yaml(boston / f"{department}.yaml", read_yaml(REAL / "boston" / f"{department}.yaml"))


WAYS = {
    w.id: w for w in (Way("file", _file), Way("company", _company), Way("sql", _sql), Way("company-sql", _company_sql))
}
CARDS = [
    *((way, "bos-pwd", p) for way in ("file", "sql") for p in BOSTON_PERIODS),
    *((way, d, p) for way in ("company", "company-sql") for d in BOSTON_CODES for p in BOSTON_PERIODS),
    *((way, "nyc-dot", p) for way in ("file", "sql") for p in NYC_PERIODS),
]


def effective_indicators(params: Path) -> dict[str, dict[str, Any]]:
    """The params' indicators, over the company file's defaults key by key when it names one."""
    doc = read_yaml(params)
    merged: dict[str, dict[str, Any]] = {}
    if "company" in doc:
        merged = copy.deepcopy(read_yaml(params.parent / doc["company"])["indicators"])
    for iid, spec in doc.get("indicators", {}).items():
        merged.setdefault(iid, {}).update(spec)
    return merged


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str, str], tuple[Path, dict[str, Any]]]:
    """`kpi score PARAMS --period P --json` of one (way, department, period), run once per module."""
    scratch = tmp_path_factory.mktemp("real")
    runs: dict[tuple[str, str, str], tuple[Path, subprocess.CompletedProcess[str]]] = {}

    def score(way: str, department: str, period: str) -> tuple[Path, dict[str, Any]]:
        if (way, department, period) not in runs:  # a failed run too: its tests fail on the same lines, once run
            params = WAYS[way].params(scratch, department)
            runs[way, department, period] = params, kpi("score", params, "--period", period, "--json", in_process=True)
        params, result = runs[way, department, period]
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr
        return params, json.loads(result.stdout)

    return score


def indicator_cases() -> Iterator[Any]:
    for way, department, period in CARDS:
        for iid in sorted(hand_count(department, period)):
            yield pytest.param(way, department, period, iid, id=f"{way}-{department}-{period}-{iid}")


@pytest.mark.parametrize(("way", "department", "period", "iid"), list(indicator_cases()))
def test_each_indicator_is_the_hand_count(
    way: str, department: str, period: str, iid: str, scored: Callable[[str, str, str], tuple[Path, dict[str, Any]]]
) -> None:
    _, card = scored(way, department, period)
    assert (card["department"], card["period"]) == (department, period)
    got = next(i for i in card["indicators"] if i["id"] == iid)
    want = hand_count(department, period)[iid]
    value = None if got["value"] is None else Decimal(str(got["value"]))
    assert (value, got["numerator"], got["denominator"]) == (want.value, want.numerator, want.denominator), got
    assert got["status"] == ("observed" if want.numerator is None else "scored")
    assert got["excluded_rows"] == 0


@pytest.mark.parametrize(("way", "department", "period"), [pytest.param(*c, id="-".join(c)) for c in CARDS])
def test_the_total_is_the_hand_total(
    way: str, department: str, period: str, scored: Callable[[str, str, str], tuple[Path, dict[str, Any]]]
) -> None:
    params, card = scored(way, department, period)
    total = hand_total(hand_count(department, period), effective_indicators(params))
    assert card["window"] == {"start": str(WINDOWS[period][0]), "end": str(WINDOWS[period][1])}
    assert (None if card["total"] is None else Decimal(str(card["total"]))) == total


@pytest.mark.parametrize(
    ("params", "period"),
    [("boston-pwd.yaml", p) for p in BOSTON_PERIODS] + [("nyc-dot.yaml", p) for p in NYC_PERIODS],
)
def test_validate_passes_what_cannot_change_a_number(params: str, period: str) -> None:
    """The unnamed index column and the broken rows of other months are notes, each said once, not refusals."""
    result = kpi("validate", REAL / params, "--period", period, in_process=True)
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    lines = [line for line in shown.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), shown  # three tables read the file: still one note per thing
    if params == "boston-pwd.yaml":
        assert any("boston311.csv" in line for line in lines), shown  # the column with no header is mentioned
    else:
        broken = [r for r in nyc_requests() if r["agency"] == "DOT" and r["closed"] and r["closed"] < r["created"]]
        assert broken and all(f"nyc311.csv, row {r['line']}" in shown for r in broken), shown


# -- a broken row inside the period, and `exclude:` -------------------------------------------------------------------


def june_row_to_break() -> dict[str, Any]:
    """A DOT request of June 2023, closed, whose Closed Date the case below moves before its Created Date."""
    return next(
        r
        for r in nyc_requests()
        if r["agency"] == "DOT" and in_window(r["created"], "2023-06") and r["closed"] and r["created"].hour >= 1
    )


@pytest.mark.parametrize(
    ("exclude", "code", "expect"),
    [
        pytest.param(None, 1, ("nyc311.csv", "ROW", "responded_at"), id="no-exclude-refused"),
        pytest.param("BROKEN", 0, (), id="excluded-with-reason"),
        pytest.param("99999999", 1, ("exclude", "99999999"), id="key-matching-no-row-refused"),
    ],
)
def test_a_broken_row_of_the_period_stops_the_department_until_excluded(
    exclude: str | None, code: int, expect: tuple[str, ...], tmp_path: Path
) -> None:
    row = june_row_to_break()
    before = row["created"] - timedelta(hours=1)
    with (REAL / "nyc311.csv").open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    header = lines[0]
    target = lines[row["line"] - 1]
    assert target[header.index("Unique Key")] == row["key"]
    target[header.index("Closed Date")] = before.strftime(NYC_FORMAT)
    with (tmp_path / "nyc311.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(lines)
    shutil.copy(REAL / "observations.csv", tmp_path / "observations.csv")
    doc = read_yaml(REAL / "nyc-dot.yaml")
    reason = "closed before it was opened in the source system; ticket 311-7781 raised"
    if exclude is not None:
        doc["tables"]["feedback"]["exclude"] = {row["key"] if exclude == "BROKEN" else exclude: reason}
    params = write_yaml(tmp_path / "nyc-dot.yaml", doc)
    result = kpi("score", params, "--period", "2023-06", "--json", in_process=True)
    assert result.returncode == code, result.stderr
    if code:
        phrases = [f"row {row['line']}," if p == "ROW" else p for p in expect]
        lines = result.stderr.splitlines()
        assert any(all(p in line for p in phrases) for line in lines), (phrases, result.stderr)
        assert not result.stdout.strip()
        return
    card = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    want = nyc_count("2023-06", skip=frozenset({row["key"]}), path=tmp_path / "nyc311.csv")
    for iid in ("CS04", "CS05"):
        got = card[iid]
        assert (Decimal(str(got["value"])), got["numerator"], got["denominator"]) == (
            want[iid].value,
            want[iid].numerator,
            want[iid].denominator,
        ), got
    assert card["CS05"]["excluded_rows"] == 1 and card["CS04"]["excluded_rows"] == 0


# -- the fixtures are what they claim to be (these pass on any code) --------------------------------------------------


def test_the_exports_parse_as_the_public_files_do() -> None:
    boston = pd.read_csv(REAL / "boston311.csv", index_col=0, dtype=str, keep_default_na=False)
    assert (REAL / "boston311.csv").read_text(encoding="utf-8").startswith(",case_enquiry_id,open_dt,sla_target_dt,")
    assert list(boston.index) == [str(i) for i in range(len(boston))]  # pandas' own index, 0 … n-1
    assert set(boston["on_time"]) == {"ONTIME", "OVERDUE"} and set(boston["case_status"]) == {"Open", "Closed"}
    assert set(boston["department"]) == set(BOSTON_CODES.values())
    assert (boston["case_status"] == "Open").eq(boston["closed_dt"] == "").all()
    for column in ("open_dt", "closed_dt", "sla_target_dt"):
        pd.to_datetime(boston[column].replace("", None), format=BOSTON_FORMAT)
    nyc = pd.read_csv(REAL / "nyc311.csv", dtype=str, keep_default_na=False)
    assert list(nyc.columns[:5]) == ["Unique Key", "Created Date", "Closed Date", "Agency", "Agency Name"]
    assert len(nyc.columns) == 41 and nyc["Unique Key"].is_unique
    for column in ("Created Date", "Closed Date", "Due Date", "Resolution Action Updated Date"):
        pd.to_datetime(nyc[column].replace("", None), format=NYC_FORMAT)
    assert {"DOT", "NYPD", "DSNY", "HPD", "DEP"} == set(nyc["Agency"])
    for name in ("boston311.csv", "nyc311.csv", "observations.csv"):
        assert (REAL / name).stat().st_size < 200_000


def test_the_broken_rows_all_fall_outside_the_periods() -> None:
    """NYC rows closed (or updated) before they were created: DOT's of November 2022 and August 2023 only."""
    broken = [r for r in nyc_requests() if any(r[c] is not None and r[c] < r["created"] for c in ("closed", "updated"))]
    assert {(r["agency"], r["created"].strftime("%Y-%m")) for r in broken} == {
        ("DOT", "2022-11"),
        ("DOT", "2023-08"),
        ("DSNY", "2022-11"),
    }
    assert not any(in_window(r["created"], p) for r in broken for p in NYC_PERIODS)
    assert not any(c["closed"] is not None and c["closed"] < c["opened"] for c in boston_cases())


@pytest.mark.parametrize(
    ("department", "period", "iid", "naive"),
    [
        # wall-clock hours across the spring-forward night of 2023-03-12
        ("bos-pwd", "2023-03", "CS04", lambda c: within_hours(c["opened"], c["closed"], 24, real=False)),
        # Monday to Friday without Patriots' Day (2023-04-17)
        ("bos-pwd", "2023-04", "CS05", lambda c: within_workdays(c["opened"], c["closed"], 2, None)),
        # without Juneteenth (2023-06-19) and Independence Day (2023-07-04)
        ("nyc-dot", "2023-06", "CS04", lambda r: within_workdays(r["created"], r["updated"], 2, None)),
        ("nyc-dot", "2023-06", "CS05", lambda r: within_workdays(r["created"], r["closed"], 5, None)),
        ("nyc-dot", "2023-07", "CS04", lambda r: within_workdays(r["created"], r["updated"], 2, None)),
        # Memorial Day (2023-05-29) in the quarter
        ("nyc-dot", "2023-Q2", "CS04", lambda r: within_workdays(r["created"], r["updated"], 2, None)),
    ],
)
def test_the_exports_tell_the_right_clock_and_calendar_from_a_naive_one(
    department: str, period: str, iid: str, naive: Callable[[dict[str, Any]], bool]
) -> None:
    """Each clock or holiday the params name changes a count: a wall-clock or holiday-blind count would differ."""
    if department in BOSTON_CODES:
        rows = [c for c in boston_cases() if c["code"] == BOSTON_CODES[department] and in_window(c["opened"], period)]
    else:
        rows = [r for r in nyc_requests() if r["agency"] == "DOT" and in_window(r["created"], period)]
    assert sum(naive(r) for r in rows) != hand_count(department, period)[iid].numerator


def test_every_code_of_the_mappings_is_held_by_each_month_of_the_query() -> None:
    """The SQL way reads Boston one window at a time: each window still holds every mapped code (else a mapping maps nothing)."""
    for period in BOSTON_PERIODS:
        cases = [c for c in boston_cases() if in_window(c["opened"], period)]
        assert {c["code"] for c in cases} == set(BOSTON_CODES.values())
        assert {c["on_time"] for c in cases} == {"ONTIME", "OVERDUE"}


@pytest.mark.parametrize("form", ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d"])
@pytest.mark.parametrize("period", BOSTON_PERIODS)
def test_the_database_holds_the_export_s_rows(period: str, form: str, tmp_path: Path) -> None:
    """The SQLite copy: the window's Boston cases whatever text the window is bound as, and every NYC request."""
    db = sqlite3.connect(load_sqlite(tmp_path / "crm.sqlite"))
    first, last = WINDOWS[period]
    bounds = {
        "start": datetime.combine(first, time()).strftime(form),
        "end": datetime.combine(last + timedelta(days=1), time()).strftime(form),
    }
    got = sorted(str(r[0]) for r in db.execute(BOSTON_QUERY, bounds))
    assert got == sorted(c["id"] for c in boston_cases() if in_window(c["opened"], period))
    nyc = db.execute(NYC_QUERY).fetchall()
    assert [str(r[0]) for r in nyc] == [r["key"] for r in nyc_requests()]
    assert all(isinstance(r[0], int) for r in nyc) and sum(r[3] is None for r in nyc) == sum(
        r["closed"] is None for r in nyc_requests()
    )
    db.close()


@pytest.mark.parametrize(
    ("opened", "closed", "rule", "on_time"),
    [
        # the hand count's own rules, on cases worked out on paper
        ("2023-03-11 09:00:00", "2023-03-12 10:00:00", "24h", True),  # 25 h on the wall, 24 h real
        ("2023-03-11 22:10:00", "2023-03-12 23:20:00", "24h", False),  # 24 h 10 min real
        ("2023-04-13 08:15:00", "2023-04-18 16:30:00", "2wd-MA", True),  # Fri 14, (Mon 17 Patriots' Day), Tue 18
        ("2023-04-14 11:30:00", "2023-04-20 00:00:00", "2wd-MA", False),  # due at the end of Wed 19
        ("2023-06-15 10:12:00", "2023-06-20 23:59:59", "2wd-NY", True),  # Fri 16, (Mon 19 Juneteenth), Tue 20
        ("2023-06-28 08:00:00", "2023-07-06 22:00:00", "5wd-NY", True),  # Jun 29, 30, Jul 3, (4), 5, 6
        ("2023-06-28 08:00:00", "2023-07-07 00:00:00", "5wd-NY", False),
    ],
)
def test_the_hand_rules(opened: str, closed: str, rule: str, on_time: bool) -> None:
    start, end = datetime.fromisoformat(opened), datetime.fromisoformat(closed)
    if rule == "24h":
        assert within_hours(start, end, 24) is on_time
    else:
        days, state = int(rule[0]), rule.split("-")[1]
        assert within_workdays(start, end, days, state) is on_time
