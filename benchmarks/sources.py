"""The big company of `make bench` from every source kind: the same rows as a mapped CSV, Parquet and SQLite.

`kpi demo --departments N --rows M` writes plain CSVs in the template's own
layout (`data/demo/<table>.csv`, read by `params/<dept>.yaml`). `write_variants`
writes the six big tables again, beside them, the ways a company's data
arrives, with params that read each one; every variant holds the same records,
so `kpi score --json` must give the same numbers from each (the bench compares):

- `mapped`: a CRM's own export, `data/demo/mapped/<table>.csv`, with its own
  headers (`Created At`), department codes (`EAST` for `cs-east`), `Y`/`N` for
  satisfied, and day-first dates (`31/12/2026 23:59:59`); `company-mapped.yaml`
  maps them back (`columns:`, `values:`, `date_format`, `formats`) and
  `params-mapped/<dept>.yaml` names it (`company: ../company-mapped.yaml`);
- `parquet`: `data/demo/parquet/<table>.parquet`, typed columns as pyarrow reads
  the CSV (timestamps, dates, integers, booleans, doubles), read through
  `tables.<table>.file` in `params-parquet/<dept>.yaml`;
- `sqlite`: every table in `data/demo/crm.sqlite` laid out as `kpi demo --sqlite`
  lays it out (typed columns, complaints as the ticket system's `tickets`), read
  with SQL by `params-sqlite/<dept>.yaml` (the demo's own `sqlite_params`).

Each file is written in batches with pyarrow, so a million rows per table take
seconds and little memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KINDS = ("csv", "mapped", "parquet", "sqlite")
# Template columns read as timestamps or dates (customer_service), for the mapped export's own formats
TIMESTAMPS = {"created_at", "sent_at", "received_at", "responded_at", "resolved_at"}
DATES = {"date", "planned_date", "done_date"}
STAMP_FORMAT, DAY_FORMAT = "%d/%m/%Y %H:%M:%S", "%d/%m/%Y"
SATISFIED = {"Y": "yes", "N": "no"}  # the mapped export's codes for complaints.satisfied


def _big_tables() -> tuple[str, ...]:
    from kpi_lib.batch.demo import BIG_TABLES

    return tuple(BIG_TABLES)


def _read_text(path: Path) -> Any:
    """A CSV as a pyarrow table of text (cells as written, empty cells null)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split(",")
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True)
    return pacsv.read_csv(path, convert_options=convert)


def department_code(department: str) -> str:
    """The mapped export's code of a department: `cs-east` → `EAST`, `cs-d004` → `D004`."""
    return department.removeprefix("cs-").upper()


def export_header(column: str) -> str:
    """The mapped export's header of a template column: `created_at` → `Created At`."""
    return column.replace("_", " ").title()


def _mapped_table(table: Any, departments: dict[str, str]) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name in table.column_names:
        column = table.column(name)
        if name in TIMESTAMPS or name in DATES:
            iso = "%Y-%m-%d %H:%M:%S" if name in TIMESTAMPS else "%Y-%m-%d"
            parsed = pc.strptime(column, format=iso, unit="s", error_is_null=False)
            column = pc.strftime(parsed, format=STAMP_FORMAT if name in TIMESTAMPS else DAY_FORMAT)
        elif name == "department":
            codes = pa.array(list(departments), pa.string())
            column = pc.take(pa.array(list(departments.values()), pa.string()), pc.index_in(column, codes))
        elif name == "satisfied":
            back = {v: k for k, v in SATISFIED.items()}
            column = pa.chunked_array([pa.array([back.get(v, v) for v in column.to_pylist()], pa.string())])
        columns.append(column)
    return pa.table(columns, names=[export_header(n) for n in table.column_names])


def _company_mapped(departments: dict[str, str], headers: dict[str, list[str]]) -> str:
    """company-mapped.yaml: each big table from the mapped export, mapped back to the template's layout."""
    lines = [
        "# The bench's mapped export (benchmarks/sources.py): own headers, codes and day-first dates",
        "tables:",
    ]
    codes = ", ".join(f'"{code}": {dept}' for dept, code in departments.items())
    for table, header in headers.items():
        columns = ", ".join(f'{c}: "{export_header(c)}"' for c in header)
        lines += [f"  {table}:", f"    file: mapped/{table}.csv", f"    columns: {{{columns}}}"]
        values = [f"department: {{{codes}}}"]
        if "satisfied" in header:
            values.append("satisfied: {" + ", ".join(f'"{k}": {v}' for k, v in SATISFIED.items()) + "}")
        lines.append(f"    values: {{{', '.join(values)}}}")
        lines.append(f'    date_format: "{STAMP_FORMAT}"')
        days = [c for c in header if c in DATES]
        if days:
            lines.append("    formats: {" + ", ".join(f'{c}: "{DAY_FORMAT}"' for c in days) + "}")
    return "\n".join(lines) + "\n"


def _write_mapped(company: Path, departments: list[str]) -> None:
    import pyarrow.csv as pacsv

    data = company / "data" / "demo"
    (data / "mapped").mkdir(exist_ok=True)
    codes = {d: department_code(d) for d in departments}
    headers = {}
    for table in _big_tables():
        text = _read_text(data / f"{table}.csv")
        headers[table] = list(text.column_names)
        mapped = _mapped_table(text, codes)
        pacsv.write_csv(mapped, data / "mapped" / f"{table}.csv")  # quoted where needed
    (company / "company-mapped.yaml").write_text(_company_mapped(codes, headers), encoding="utf-8")


def _write_parquet(company: Path) -> str:
    """Each big table as typed Parquet (pyarrow's own inference from the CSV); the params' `tables:` entries."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    data = company / "data" / "demo"
    (data / "parquet").mkdir(exist_ok=True)
    entries = ["tables:                      # the big tables from Parquet (benchmarks/sources.py)"]
    for table in _big_tables():
        typed = pacsv.read_csv(data / f"{table}.csv")
        pq.write_table(typed, data / "parquet" / f"{table}.parquet")
        entries.append(f"  {table}: {{file: parquet/{table}.parquet}}")
    return "\n".join(entries) + "\n"


def _sql_rows(text: Any, kinds: list[str]) -> Iterator[list[Any]]:
    """The rows of a table of text as the demo database holds them (`kpi_lib.batch.demo._sql_cell`)."""
    from kpi_lib.batch.demo import _sql_cell

    for batch in text.to_batches(max_chunksize=50_000):
        columns = [[_sql_cell(kind, v) for v in batch.column(i).to_pylist()] for i, kind in enumerate(kinds)]
        yield from (list(row) for row in zip(*columns, strict=True))


def _write_sqlite(company: Path) -> None:
    """Every table into data/demo/crm.sqlite as `kpi demo --sqlite` lays it out (a decimal column of whole numbers
    declared INTEGER, as the demo declares it)."""
    import pyarrow.compute as pc

    from kpi_lib.batch.demo import _SQL_TYPES, SQLITE, TABLE_COLUMNS, _sql_table
    from kpi_lib.inputs.template import load_template

    spec = load_template().tables
    path = company / "data" / "demo" / SQLITE
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        with connection:
            for name, header in TABLE_COLUMNS.items():
                table, columns = _sql_table(name)
                text = _read_text(company / "data" / "demo" / f"{name}.csv")
                kinds = [spec[name].column(c).type for c in header]
                for i, kind in enumerate(kinds):
                    if kind == "decimal" and not pc.any(pc.match_substring(text.column(i), ".")).as_py():
                        kinds[i] = "int"
                declared = ", ".join(f"{c} {_SQL_TYPES[k]}" for c, k in zip(columns, kinds, strict=True))
                connection.execute(f"CREATE TABLE {table} ({declared})")
                marks = ", ".join("?" for _ in columns)
                connection.executemany(f"INSERT INTO {table} VALUES ({marks})", _sql_rows(text, kinds))
    finally:
        connection.close()


def write_variants(company: Path, kinds: tuple[str, ...] = KINDS) -> dict[str, list[Path]]:
    """The params files of each source kind of the `kpi demo` company in `company` (see the module docstring)."""
    from kpi_lib.batch.demo import sqlite_params

    originals = sorted((company / "params").glob("*.yaml"))
    departments = [p.stem for p in originals]
    found: dict[str, list[Path]] = {}
    parquet_tables = _write_parquet(company) if "parquet" in kinds else ""
    if "mapped" in kinds:
        _write_mapped(company, departments)
    if "sqlite" in kinds:
        _write_sqlite(company)
    for kind in kinds:
        if kind == "csv":
            found[kind] = originals
            continue
        folder = company / f"params-{kind}"
        folder.mkdir(exist_ok=True)
        found[kind] = []
        for original in originals:
            text = original.read_text(encoding="utf-8")
            if kind == "mapped":
                text += "company: ../company-mapped.yaml\n"
            elif kind == "parquet":
                text += parquet_tables
            else:
                text = sqlite_params(text)
            (folder / original.name).write_text(text, encoding="utf-8")
            found[kind].append(folder / original.name)
    return found
