"""The floors `make bench` compares kpi with: the same work written plainly, without notebooks.

- `in_process`: every department scored in one process with `kpi_lib.scoring.appraisal`
  (load params, `appraise`), departments that share a data folder sharing its
  `DataFolder`, so each table is read and validated once: the lower bound of
  what `kpi run` can cost for scoring alone (no notebooks, reports or audit).
- `arrow`: one department's rates on the six big tables computed by hand, the way
  a pandas user would: `pd.read_csv(engine="pyarrow")` of only the needed
  columns (or `pd.read_parquet`, or `pd.read_sql_query` of the params' SQLite
  query; `Tables` reads where the params say and maps an export's own headers,
  codes and date formats back), filter the department and the period, count. It follows the scoring rules
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


TIMESTAMPS = {"created_at", "sent_at", "received_at", "responded_at", "resolved_at"}
DATES = {"date", "planned_date", "done_date"}
TRUE = ("1", "1.0", "true", "yes", "是")


class Tables:
    """The big tables of one department's params as a pandas user reads them, from wherever the params say.

    A table without an entry in `tables:` (the params', over the company file's) is
    `<data>/<table>.csv`; an entry's `file` is a CSV or a Parquet file, its `sql` a
    SQLite query (the period's `:start`/`:end`/`:period`/`:department` bound). Only
    the needed columns are read, under the export's own names (`columns:`), renamed
    back, codes mapped (`values:`), dates and timestamps parsed with the entry's
    formats (`date_format`, `formats`) or as ISO text.
    """

    def __init__(self, params_path: Path, params: dict[str, Any], period: str) -> None:
        self.folder = (params_path.parent / params["data"]).resolve()
        self.entries: dict[str, tuple[Path, dict[str, Any]]] = {}
        if params.get("company"):
            company_path = (params_path.parent / params["company"]).resolve()
            company = yaml.safe_load(company_path.read_text(encoding="utf-8")) or {}
            self.entries |= {t: (company_path.parent, e or {}) for t, e in (company.get("tables") or {}).items()}
        self.entries |= {t: (params_path.parent, e or {}) for t, e in (params.get("tables") or {}).items()}
        first, last = window(period)
        self.bound = {
            "start": first.isoformat(),
            "end": (last + timedelta(days=1)).isoformat(),
            "period": period,
            "department": params["department"],
        }

    def read(self, table: str, columns: list[str]) -> pd.DataFrame:
        base, entry = self.entries.get(table, (self.folder, {}))
        mapped = entry.get("columns") or {}
        names = [str(mapped.get(c, c)) for c in columns]
        if entry.get("sql"):
            frame = self._query(base, entry["sql"], names)
        else:
            path = self.folder / str(entry.get("file") or f"{table}.csv")
            if path.suffix == ".parquet":
                frame = pd.read_parquet(path, columns=names)
            else:
                frame = pd.read_csv(path, engine="pyarrow", usecols=names)
        frame = frame.rename(columns={str(mapped.get(c, c)): c for c in columns})[columns]
        for column, codes in (entry.get("values") or {}).items():
            if column in frame:
                text = frame[column].astype(str)
                frame[column] = text.map({str(k): v for k, v in codes.items()}).fillna(frame[column])
        formats = entry.get("formats") or {}
        for column in columns:
            if column in TIMESTAMPS or column in DATES:
                how = formats.get(column) or entry.get("date_format")
                if how is None and column in DATES:
                    how = "%Y-%m-%d"
                elif how is None:
                    how = "ISO8601"
                values = frame[column]
                if not pd.api.types.is_datetime64_any_dtype(values):
                    values = pd.to_datetime(values.astype("string"), format=how)
                frame[column] = values.dt.normalize() if column in DATES else values
        return frame

    def _query(self, base: Path, sql: dict[str, Any], names: list[str]) -> pd.DataFrame:
        import sqlite3
        from contextlib import closing

        url = str(sql["url"])
        path = Path(url.removeprefix("sqlite:///"))
        query = str(sql["query"])
        with closing(sqlite3.connect((base / path).resolve())) as connection:
            bound = {k: v for k, v in self.bound.items() if f":{k}" in query}
            return pd.read_sql_query(query, connection, params=bound)[names]


def _truthy(column: pd.Series) -> pd.Series:
    return column.astype(str).str.strip().str.lower().isin(TRUE)


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
    tables = Tables(params_path, params, period)
    dept = params["department"]
    indicators = params["indicators"]
    satisfied_min = (params.get("policy") or {}).get("satisfied_min_score", 4)
    first, last = window(period)
    start, end = pd.Timestamp(first), pd.Timestamp(last)
    stop = end + pd.Timedelta(days=1)
    out: dict[str, Any] = {}

    surveys = tables.read("surveys", ["department", "survey", "date", "score"])
    surveys = surveys[surveys["department"] == dept]
    surveys = surveys[(surveys["date"] >= start) & (surveys["date"] <= end)]
    for iid, name in SURVEYS.items():
        if indicators.get(iid, {}).get("method") == "observation":
            continue
        answers = surveys[surveys["survey"] == name]
        out[iid] = rate(int((answers["score"] >= satisfied_min).sum()), len(answers))

    for iid, table, opened, closed in (
        ("CS04", "communications", "created_at", "sent_at"),
        ("CS05", "feedback", "received_at", "responded_at"),
    ):
        rows = tables.read(table, ["department", opened, closed])
        rows = rows[(rows["department"] == dept) & (rows[opened] >= start) & (rows[opened] < stop)]
        sla = str(indicators[iid]["sla"])
        if sla.endswith("wd"):
            on_time = rows[closed] < _deadline_days(rows[opened].dt.normalize(), int(sla[:-2]))
        else:
            on_time = rows[closed] <= rows[opened] + pd.Timedelta(hours=int(sla[:-1]))
        out[iid] = rate(int((rows[closed].notna() & on_time).sum()), len(rows))

    revisits = tables.read("revisits", ["customer_id", "department", "key_account", "planned_date", "done_date"])
    revisits = revisits[revisits["department"] == dept]
    revisits = revisits[(revisits["planned_date"] >= start) & (revisits["planned_date"] <= end)]
    done = revisits["done_date"] <= end  # NaT compares false: not done
    for iid, rows in (
        ("CS06", done),
        ("CS09", done[_truthy(revisits["key_account"])]),
    ):
        per_customer = rows.groupby(revisits.loc[rows.index, "customer_id"]).any()
        out[iid] = rate(int(per_customer.sum()), len(per_customer))

    complaints = tables.read("complaints", ["department", "received_at", "resolved_at", "satisfied"])
    complaints = complaints[
        (complaints["department"] == dept) & (complaints["received_at"] >= start) & (complaints["received_at"] < stop)
    ]
    satisfied = complaints["resolved_at"].notna() & _truthy(complaints["satisfied"])
    out["CS07"] = rate(int(satisfied.sum()), len(complaints))

    expenses = tables.read("expenses", ["department", "date", "amount", "approved_overrun"])
    expenses = expenses[expenses["department"] == dept]
    day = expenses["date"]
    expenses = expenses[(day >= start) & (day <= end) & ~_truthy(expenses["approved_overrun"])]
    spent = Decimal(int((expenses["amount"] * 100).round().sum())) / 100  # cents: exact for 2-decimal amounts
    budgets = tables.read("budgets", ["department", "period", "amount"])
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
