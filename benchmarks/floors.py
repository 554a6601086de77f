"""The floors `make bench` compares kpi with: the same work written plainly, without notebooks.

- `in_process`: every department scored in one process with `kpi_lib.scoring.appraisal`
  (load params, `appraise`), departments that share a data folder sharing its
  `DataFolder`, so each table is read and validated once: the lower bound of
  what `kpi run` can cost for scoring alone (no notebooks, reports or audit).
- `arrow`: one department's rates on the six big tables computed by hand, the way
  a pandas user would: `pd.read_csv(engine="pyarrow")` of only the needed
  columns, filter the department and the period, count. It follows SPEC §3
  (windows, deadlines in calendar hours or mainland working days with 调休 from
  the `holidays` package, distinct customers, half-up rounding to 2 decimals) and
  validates nothing; its numbers must equal `kpi score --json`'s (the bench
  compares them). CS01, CS03 and CS08 (small tables) are left out.

Run as a script (`python benchmarks/floors.py in-process|arrow PARAMS… --period P`),
each prints a JSON object; the bench measures the process (time, peak RSS).
"""

from __future__ import annotations

import argparse
import calendar
import json
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

SURVEYS = {"CS02": "policy_execution", "CS10": "customer_satisfaction", "CS12": "assigned_tasks"}


def window(period: str) -> tuple[date, date]:
    """First and last day of `2026`, `2026-H2`, `2026-Q4` or `2026-10`."""
    year, _, rest = period.partition("-")
    y = int(year)
    if not rest:
        first, last = 1, 12
    elif rest[0] == "H":
        first = 6 * (int(rest[1]) - 1) + 1
        last = first + 5
    elif rest[0] == "Q":
        first = 3 * (int(rest[1]) - 1) + 1
        last = first + 2
    else:
        first = last = int(rest)
    return date(y, first, 1), date(y, last, calendar.monthrange(y, last)[1])


def percent(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rate(numerator: int | Decimal, denominator: int | Decimal) -> dict[str, Any]:
    value = percent(numerator, denominator)
    return {
        "value": None if value is None else str(value),
        "numerator": str(numerator),
        "denominator": str(denominator),
    }


def _read(folder: Path, table: str, columns: list[str]) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", engine="pyarrow", usecols=columns)


def _days(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column, format="%Y-%m-%d")


def _deadline_days(days: pd.Series, n: int) -> pd.Series:
    """End of the n-th mainland working day after each day, as the next midnight (mapped per distinct day)."""
    import holidays

    china = holidays.China(years=range(int(days.dt.year.min()), int(days.dt.year.max()) + 2))

    def due(day: pd.Timestamp) -> pd.Timestamp:
        current, left = day.date(), n
        while left:
            current += timedelta(days=1)
            left -= bool(china.is_working_day(current))
        return pd.Timestamp(current + timedelta(days=1))

    distinct = days.drop_duplicates()
    return days.map(dict(zip(distinct, map(due, distinct), strict=True)))


def arrow(params_path: Path, period: str) -> dict[str, Any]:
    """The rates of one department on the six big tables, by hand (see the module docstring)."""
    params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    folder = (params_path.parent / params["data"]).resolve()
    dept = params["department"]
    indicators = params["indicators"]
    satisfied_min = (params.get("policy") or {}).get("satisfied_min_score", 4)
    first, last = window(period)
    start, end = pd.Timestamp(first), pd.Timestamp(last)
    stop = end + pd.Timedelta(days=1)
    out: dict[str, Any] = {}

    surveys = _read(folder, "surveys", ["department", "survey", "date", "score"])
    surveys = surveys[surveys["department"] == dept]
    day = _days(surveys["date"])
    surveys = surveys[(day >= start) & (day <= end)]
    for iid, name in SURVEYS.items():
        if indicators.get(iid, {}).get("method") == "observation":
            continue
        answers = surveys[surveys["survey"] == name]
        out[iid] = rate(int((answers["score"] >= satisfied_min).sum()), len(answers))

    for iid, table, opened, closed in (
        ("CS04", "communications", "created_at", "sent_at"),
        ("CS05", "feedback", "received_at", "responded_at"),
    ):
        rows = _read(folder, table, ["department", opened, closed])
        rows = rows[(rows["department"] == dept) & (rows[opened] >= start) & (rows[opened] < stop)]
        sla = str(indicators[iid]["sla"])
        if sla.endswith("wd"):
            on_time = rows[closed] < _deadline_days(rows[opened].dt.normalize(), int(sla[:-2]))
        else:
            on_time = rows[closed] <= rows[opened] + pd.Timedelta(hours=int(sla[:-1]))
        out[iid] = rate(int((rows[closed].notna() & on_time).sum()), len(rows))

    revisits = _read(folder, "revisits", ["customer_id", "department", "key_account", "planned_date", "done_date"])
    revisits = revisits[revisits["department"] == dept]
    planned = _days(revisits["planned_date"])
    revisits = revisits[(planned >= start) & (planned <= end)]
    done = _days(revisits["done_date"]) <= end  # NaT compares false: not done
    for iid, rows in (
        ("CS06", done),
        ("CS09", done[revisits["key_account"].astype(str).str.lower().isin(("1", "true", "yes", "是"))]),
    ):
        per_customer = rows.groupby(revisits.loc[rows.index, "customer_id"]).any()
        out[iid] = rate(int(per_customer.sum()), len(per_customer))

    complaints = _read(folder, "complaints", ["department", "received_at", "resolved_at", "satisfied"])
    complaints = complaints[
        (complaints["department"] == dept) & (complaints["received_at"] >= start) & (complaints["received_at"] < stop)
    ]
    satisfied = complaints["resolved_at"].notna() & complaints["satisfied"].astype(str).str.lower().isin(
        ("yes", "true", "1", "是")
    )
    out["CS07"] = rate(int(satisfied.sum()), len(complaints))

    expenses = _read(folder, "expenses", ["department", "date", "amount", "approved_overrun"])
    expenses = expenses[expenses["department"] == dept]
    day = _days(expenses["date"])
    expenses = expenses[(day >= start) & (day <= end) & ~expenses["approved_overrun"].astype(bool)]
    spent = Decimal(int((expenses["amount"] * 100).round().sum())) / 100  # cents: exact for 2-decimal amounts
    budgets = _read(folder, "budgets", ["department", "period", "amount"])
    budget_row = budgets[(budgets["department"] == dept) & (budgets["period"].astype(str) == period)]
    budget = Decimal(str(budget_row["amount"].iloc[0])).quantize(Decimal("0.01"))
    out["CS11"] = rate(max(Decimal(0), spent - budget), budget)
    return {"department": dept, "period": period, "indicators": out}


def in_process(params: Sequence[Path], period: str) -> dict[str, Any]:
    """Every department scored in this process (`kpi_lib.scoring.appraisal.appraise`), tables shared per data folder."""
    from kpi_lib import Period, appraise, load_params
    from kpi_lib.inputs.tables import DataFolder

    window_ = Period.parse(period)
    shared: dict[tuple[str, ...], DataFolder] = {}
    cards = {}
    for path in params:
        department = load_params(path)
        base = department.base  # what DataFolder.of reads: the same key, the same tables
        key = (
            str(department.data_folder),
            str(department.path.parent),
            base.template,
            base.timezone,
            repr(base.tables),
        )
        data = shared.setdefault(key, DataFolder.of(department))
        cards[department.id] = appraise(department, window_, data=data).to_json()
    return cards


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("floor", choices=("in-process", "arrow"))
    parser.add_argument("params", nargs="+", type=Path)
    parser.add_argument("--period", required=True)
    args = parser.parse_args(argv)
    result = in_process(args.params, args.period) if args.floor == "in-process" else arrow(args.params[0], args.period)
    json.dump(result, sys.stdout, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
