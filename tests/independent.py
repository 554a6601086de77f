"""A second, independent reading of SPEC §3–4 for UTF-8 CSV data in canonical column names.

Written from the SPEC's words with the standard library only (csv, fractions,
datetime, chinesecalendar for working days), sharing no code with kpi_lib, so
that agreement between the two is evidence rather than an echo.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

TRUE = {"true", "1", "yes", "是"}


def _rows(folder: Path, table: str, dept: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["department"] == dept]


def _d(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _ts(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _true(text: str) -> bool:
    return text.strip().lower() in TRUE


def _window(period: str) -> tuple[date, date]:
    year = int(period[:4])
    rest = period[5:]
    if not rest:
        return date(year, 1, 1), date(year, 12, 31)
    if rest[0] == "H":
        first = 1 if rest == "H1" else 7
        last = first + 5
    elif rest[0] == "Q":
        first = 3 * int(rest[1]) - 2
        last = first + 2
    else:
        first = last = int(rest)
    end = date(year + (last == 12), last % 12 + 1, 1) - timedelta(days=1)
    return date(year, first, 1), end


def _half_up(x: Fraction, places: int = 2) -> Fraction:
    scale = 10**places
    return Fraction(math.floor(x * scale + Fraction(1, 2)), scale)


def _pct(num: Fraction, den: Fraction) -> Fraction | None:
    return None if den == 0 else _half_up(num / den * 100)


def _workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year whose official schedule is not yet published: weekdays minus New Year's Day
        return day.weekday() < 5 and (day.month, day.day) != (1, 1)


def _due(created: datetime, sla: str) -> datetime:
    if sla.endswith("wd"):
        n, day = int(sla[:-2]), created.date()
        while n:
            day += timedelta(days=1)
            if _workday(day):
                n -= 1
        return datetime.combine(day, datetime.max.time())
    return created + timedelta(hours=int(sla[:-1]))


def measure(
    folder: Path, dept: str, period: str, iid: str, spec: dict[str, Any], policy: dict[str, Any]
) -> tuple[Fraction | None, int]:
    """(value, excluded_rows) of one indicator."""
    start, end = _window(period)
    inside = lambda d: d is not None and start <= (d.date() if isinstance(d, datetime) else d) <= end  # noqa: E731
    if spec.get("method") == "observation":
        rows = [r for r in _rows(folder, "observations", dept) if r["indicator"] == iid and r["period"] == period]
        assert len(rows) == 1
        return _half_up(Fraction(rows[0]["value"])), 0
    if iid == "CS01":
        rows = [r for r in _rows(folder, "policy_plan", dept) if inside(_d(r["planned_date"]))]
        excused = [r for r in rows if _true(r["excused"])]
        n = sum(
            1
            for r in rows
            if not _true(r["excused"]) and (not r["completed_date"] or _d(r["completed_date"]) > _d(r["planned_date"]))
        )
        return (Fraction(n) if rows else None), len(excused)
    if iid in ("CS02", "CS10", "CS12"):
        survey = {"CS02": "policy_execution", "CS10": "customer_satisfaction", "CS12": "assigned_tasks"}[iid]
        rows = [r for r in _rows(folder, "surveys", dept) if r["survey"] == survey and inside(_d(r["date"]))]
        good = sum(1 for r in rows if Fraction(r["score"]) >= Fraction(str(policy.get("satisfied_min_score", 4))))
        return _pct(Fraction(good), Fraction(len(rows))), 0
    if iid == "CS03":
        rows = [r for r in _rows(folder, "work_plan", dept) if inside(_d(r["due_date"]))]
        kept = [r for r in rows if not _true(r["excused"])]
        return _pct(
            sum((Fraction(r["actual_qty"]) for r in kept), Fraction(0)),
            sum((Fraction(r["planned_qty"]) for r in kept), Fraction(0)),
        ), len(rows) - len(kept)
    if iid in ("CS04", "CS05"):
        table, a, b = (
            ("communications", "created_at", "sent_at")
            if iid == "CS04"
            else ("feedback", "received_at", "responded_at")
        )
        rows = [r for r in _rows(folder, table, dept) if inside(_ts(r[a]))]
        ok = sum(1 for r in rows if r[b] and _ts(r[b]) <= _due(_ts(r[a]), str(spec["sla"])))
        return _pct(Fraction(ok), Fraction(len(rows))), 0
    if iid in ("CS06", "CS09"):
        rows = [
            r
            for r in _rows(folder, "revisits", dept)
            if inside(_d(r["planned_date"])) and (iid == "CS06" or _true(r["key_account"]))
        ]
        customers = {r["customer_id"] for r in rows}
        done = {r["customer_id"] for r in rows if r["done_date"] and _d(r["done_date"]) <= end}
        return _pct(Fraction(len(done)), Fraction(len(customers))), 0
    if iid == "CS07":
        rows = [r for r in _rows(folder, "complaints", dept) if inside(_ts(r["received_at"]))]
        good = sum(1 for r in rows if r["resolved_at"] and _true(r["satisfied"]))
        return _pct(Fraction(good), Fraction(len(rows))), 0
    if iid == "CS08":
        rows = [
            r
            for r in _rows(folder, "key_accounts", dept)
            if _d(r["since"]) <= start and (not r["lost_on"] or _d(r["lost_on"]) >= start)
        ]
        lost = sum(1 for r in rows if r["lost_on"] and _d(r["lost_on"]) <= end)
        return _pct(Fraction(lost), Fraction(len(rows))), 0
    if iid == "CS11":
        rows = [r for r in _rows(folder, "expenses", dept) if inside(_d(r["date"]))]
        approved = [r for r in rows if _true(r["approved_overrun"])]
        spent = sum((Fraction(r["amount"]) for r in rows if not _true(r["approved_overrun"])), Fraction(0))
        budget = Fraction(next(r["amount"] for r in _rows(folder, "budgets", dept) if r["period"] == period))
        return _half_up(max(Fraction(0), (spent - budget) / budget * 100)), len(approved)
    raise AssertionError(iid)


def score_card(params_path: Path, period: str) -> dict[str, Any]:
    """{"total", "grade", "indicators": {id: (value, score, status, excluded_rows)}} as floats."""
    params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    override = (params.get("periods") or {}).get(period, {})
    for iid, changes in (override.get("indicators") or {}).items():
        params["indicators"][iid].update(changes)
    policy = {**(params.get("policy") or {}), **(override.get("policy") or {})}
    rounding = policy.get("step_rounding", "floor")
    lo, hi = Fraction(str(policy.get("min_score", 0))), Fraction(str(policy.get("max_score", 120)))
    folder = (params_path.parent / params["data"]).resolve()
    results, weighted, weights = {}, Fraction(0), Fraction(0)
    for iid, spec in params["indicators"].items():
        value, excluded_rows = measure(folder, params["department"], period, iid, spec, policy)
        if value is None:
            results[iid] = (None, None, "excluded", excluded_rows)
            continue
        if iid == "CS01":
            raw = 100 - value * Fraction(str(spec["per_item"]))
        else:
            target, step = Fraction(str(spec["target"])), Fraction(str(spec["step"]))
            diff = (value - target) if iid not in ("CS08", "CS11") else (target - value)
            steps = abs(diff) / step
            steps = {"floor": Fraction(math.floor(steps)), "ceil": Fraction(math.ceil(steps)), "exact": steps}[rounding]
            raw = (
                100 - steps * Fraction(str(spec["penalty"]))
                if diff < 0
                else 100 + steps * Fraction(str(spec.get("bonus", 0)))
            )
        score = _half_up(min(max(raw, lo), hi))
        status = "observed" if spec.get("method") == "observation" else "scored"
        results[iid] = (float(value), float(score), status, excluded_rows)
        w = Fraction(str(spec["weight"]))
        weighted += w * score
        weights += w
    total = _half_up(weighted / weights)
    bands = params.get("grades") or [
        {"grade": g, "min": m} for g, m in (("A", 90), ("B", 80), ("C", 70), ("D", 60), ("E", 0))
    ]
    grade = next(b["grade"] for b in sorted(bands, key=lambda b: -b["min"]) if total >= Fraction(str(b["min"])))
    return {"total": float(total), "grade": grade, "indicators": results}
