"""Tables read from a database (kpi_lib/inputs/sql.py): statements, URLs, secrets, types, sharing, and real runs.

The fast tests run on SQLite in this process. The slow ones run `kpi run` three times
in all: the demo from CSV and from SQLite (the same `result.json` bytes; the SQLite run
then verified with the database file deleted), and two departments read from a real
PostgreSQL server started for the module (tests/pg.py), one through a company file: one fails on a closed port,
the other is verified with the server stopped, and every output is searched for the
password. The type table runs on both databases.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from kpi_lib.audit.diff import RunFolder
from kpi_lib.base.errors import Code, DataError, ParamsError
from kpi_lib.batch import demo, runner
from kpi_lib.batch.demo import write_demo
from kpi_lib.inputs import sql
from kpi_lib.inputs.params import load_params
from kpi_lib.inputs.partitions import SharedTables
from kpi_lib.inputs.period import Period
from kpi_lib.inputs.tables import DataFolder, ReadRules, _parser
from kpi_lib.inputs.template import Column, load_template
from kpi_lib.scoring.appraisal import appraise

from . import pg
from .conftest import Company, kpi

Q4 = Period.parse("2026-Q4")
TICKETS = demo.TICKETS  # the ticket system's names of the complaints columns, as the SQLite demo maps them


def _tickets(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("DROP TABLE IF EXISTS tickets")
        connection.execute(
            "CREATE TABLE tickets (ticket_no TEXT, team TEXT, opened_at TIMESTAMP, closed_at TIMESTAMP, happy BOOLEAN)"
        )
        connection.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?)", rows)
    connection.close()
    return path


ROWS = [
    ("K1", "cs-test", "2026-10-02 09:00:00", "2026-10-02 10:00:00", 1),
    ("K2", "cs-test", "2026-11-02 09:00:00", "2026-11-02 12:00:00", 0),
    ("K3", "cs-test", "2026-09-02 09:00:00", None, None),  # outside Q4: the query's window leaves it out
]
WINDOWED = "SELECT * FROM tickets WHERE opened_at >= :start AND opened_at < :end"


def _params(company: Company, url: str, query: str = WINDOWED, name: str = "cs-test", **more: Any) -> Path:
    return company.params(
        name, tables={"complaints": {"sql": {"url": url, "query": query}, "columns": TICKETS, **more}}
    )


@pytest.fixture
def crm(company: Company) -> Company:
    _tickets(company.root / "crm.sqlite", ROWS)
    return company


# -- the statement --------------------------------------------------------------------------
REFUSED = [
    ("insert", "INSERT INTO tickets VALUES ('x')"),
    ("update", "UPDATE tickets SET happy = 1"),
    ("delete", "DELETE FROM tickets"),
    ("drop", "DROP TABLE tickets"),
    ("two statements", "SELECT 1; SELECT 2"),
    ("select then delete", "SELECT * FROM tickets; DELETE FROM tickets"),
    ("data-modifying CTE", "WITH gone AS (DELETE FROM tickets RETURNING *) SELECT * FROM gone"),
    ("comment hides nothing", "SELECT 1 /* harmless */; DROP TABLE tickets"),
    ("line comment then statement", "SELECT 1 -- a comment\n; DELETE FROM tickets"),
    ("select into", "SELECT * INTO copy FROM tickets"),
    ("pragma", "PRAGMA writable_schema = 1"),
    ("lowercase update", "with x as (select 1) update tickets set happy = 0"),
    ("unterminated quote", "SELECT 'open"),
    ("unterminated comment", "SELECT 1 /* open"),
    ("empty", "  -- nothing\n ; "),
    ("unknown parameter", "SELECT * FROM tickets WHERE team = :team"),
]
ACCEPTED = [
    ("select", "SELECT * FROM tickets", ()),
    ("trailing semicolon", "SELECT * FROM tickets;", ()),
    ("with", "WITH t AS (SELECT * FROM tickets) SELECT * FROM t", ()),
    ("parenthesised", "(SELECT 1)", ()),
    ("semicolon in a string", "SELECT ';' AS x, 'DROP TABLE t' AS y", ()),
    ("words in comments", "SELECT 1 -- DELETE; UPDATE\n/* INSERT; */", ()),
    ("quoted identifier", 'SELECT "update", "into" FROM tickets', ()),
    ("dollar quote", "SELECT $$;DELETE$$ AS x", ()),
    ("words inside names", "SELECT updated_at, deleted, inserted_by FROM tickets", ()),
    ("parameters", "SELECT * FROM t WHERE d >= :start AND d < :end AND p = :period AND dep = :department", None),
    ("a cast and a time", "SELECT x::date, '10:30' FROM t", ()),
]


@pytest.mark.parametrize(("case", "query"), REFUSED, ids=[c for c, _ in REFUSED])
def test_a_query_that_is_not_one_read_is_refused_before_it_is_sent(case: str, query: str) -> None:
    with pytest.raises(sql.Refused) as refused:
        sql.check_query(query)
    assert refused.value.code in (Code.NOT_A_READ, Code.UNKNOWN_PARAMETER)


@pytest.mark.parametrize(("case", "query", "names"), ACCEPTED, ids=[c for c, _, _ in ACCEPTED])
def test_one_reading_statement_is_accepted(case: str, query: str, names: tuple[str, ...] | None) -> None:
    found = sql.check_query(query)
    assert found == (names if names is not None else ("start", "end", "period", "department"))


@pytest.mark.parametrize(("case", "query"), REFUSED[:6], ids=[c for c, _ in REFUSED[:6]])
def test_params_name_the_key_of_a_refused_query(company: Company, case: str, query: str) -> None:
    with pytest.raises(ParamsError) as refused:
        load_params(_params(company, "sqlite:///crm.sqlite", query))
    (problem,) = refused.value.problems
    assert problem.code == Code.NOT_A_READ
    assert str(problem).startswith(f"{company.root / 'cs-test.yaml'}, ") or "tables.complaints.sql.query" in str(
        problem
    )
    assert "tables.complaints.sql.query" in str(problem)


@pytest.mark.parametrize("key", [{"file": "tickets.csv"}, {"sheet": "Export"}, {"adapter": "x.py:f"}])
def test_file_and_sql_are_mutually_exclusive(company: Company, key: dict[str, str]) -> None:
    with pytest.raises(ParamsError) as refused:
        load_params(_params(company, "sqlite:///crm.sqlite", **key))
    (problem,) = refused.value.problems
    assert problem.code == Code.EXCLUSIVE_KEYS
    assert "tables.complaints" in str(problem) and next(iter(key)) in str(problem)


def test_the_database_itself_refuses_a_write(crm: Company, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read-only at the database too: with the statement check out of the way, a DELETE still fails."""
    query = sql.prepare(
        "sqlite:///crm.sqlite",
        "SELECT 1",
        table="complaints",
        base=crm.root,
        period=None,
        department=None,
        timezone="Asia/Shanghai",
    )
    monkeypatch.setattr(sql, "check_query", lambda text: ())
    result = sql.run(sql.Query("complaints", query.url, "DELETE FROM tickets", {}, "Asia/Shanghai"))
    assert not result.ok
    assert result.problems[0].code == Code.QUERY_FAILED
    assert "readonly" in result.problems[0].message.replace("-", "").replace(" ", "")
    assert sqlite3.connect(crm.root / "crm.sqlite").execute("SELECT count(*) FROM tickets").fetchone() == (3,)


# -- URLs and secrets -----------------------------------------------------------------------
URLS = [
    ("postgresql://kpi:pw@db/crm", "postgresql+psycopg://kpi:***@db/crm"),
    ("postgres://kpi:pw@db:5433/crm", "postgresql+psycopg://kpi:***@db:5433/crm"),
    ("postgresql+psycopg://kpi@db/crm", "postgresql+psycopg://kpi@db/crm"),
    (
        "postgresql://kpi@db/crm?password=pw&sslmode=require",
        "postgresql+psycopg://kpi@db/crm?password=***&sslmode=require",
    ),
    ("mysql+pymysql://kpi:p%40ss@db/crm", "mysql+pymysql://kpi:***@db/crm"),
]


@pytest.mark.parametrize(("url", "shown"), URLS)
def test_urls_are_shown_masked_and_postgresql_goes_through_psycopg3(url: str, shown: str) -> None:
    resolved = sql.engine_url(url, Path("/params"))
    assert sql.masked(resolved) == shown
    secrets = sql.secrets_of(resolved)
    for secret in secrets:
        assert secret not in sql.masked(resolved)
    scrubbed = sql.scrub(f"failed for {url}: password=pw", secrets)
    assert "pw" not in scrubbed.replace("psycopg", "")


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("postgresql://kpi:pw@db/crm", True),
        ("postgresql://kpi@db/crm?password=pw", True),
        ("postgresql://kpi:pw${X}@db/crm", True),
        ("${CRM_URL}", False),
        ("postgresql://kpi:${CRM_PASSWORD}@db/crm", False),
        ("postgresql://kpi@db/crm?password=${CRM_PASSWORD}", False),
        ("postgresql://kpi@db/crm", False),
        ("sqlite:///crm.sqlite", False),
    ],
)
def test_a_password_written_in_the_params_is_refused(company: Company, url: str, refused: bool) -> None:
    path = _params(company, url)
    if not refused:
        assert load_params(path).base.tables["complaints"].sql is not None
        return
    with pytest.raises(ParamsError) as error:
        load_params(path)
    (problem,) = error.value.problems
    assert problem.code == Code.PASSWORD_IN_PARAMS and "tables.complaints.sql.url" in str(problem)
    assert "pw" not in str(problem).replace("password", "")


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("sqlite:///crm.sqlite", "/params/crm.sqlite"),
        ("sqlite:///../data/demo/crm.sqlite", "/data/demo/crm.sqlite"),
        ("sqlite:////abs/crm.sqlite", "/abs/crm.sqlite"),
    ],
)
def test_a_relative_sqlite_path_resolves_against_the_yaml_files_folder(url: str, database: str) -> None:
    assert sql.engine_url(url, Path("/params")).database == database


# Connection strings that are no URL, or whose password has a bare @: refused, and never echoed
LEAKY = [
    ("libpq key=value", "host=h dbname=db user=kpi password=Sekret99"),
    ("no scheme", "kpi:Sekret99@127.0.0.1:1/crm"),
    ("ADO.NET", "Server=h;Database=db;User Id=kpi;Password=Sekret99;"),
    ("a bare @ in the password", "postgresql://kpi:p@Sekret99@127.0.0.1:1/crm"),
]


@pytest.mark.parametrize(("case", "value"), LEAKY, ids=[c for c, _ in LEAKY])
def test_a_connection_string_from_the_environment_is_refused_without_showing_it(
    crm: Company, monkeypatch: pytest.MonkeyPatch, case: str, value: str
) -> None:
    monkeypatch.setenv("KPI_TEST_CRM_URL", value)
    department = load_params(_params(crm, "${KPI_TEST_CRM_URL}"))
    lines = [str(p) for p in DataFolder.of(department, Q4).table("complaints").problems]
    assert lines and all("Sekret99" not in line for line in lines), lines
    assert any("${KPI_TEST_CRM_URL}" in line and "not shown" in line for line in lines), lines


@pytest.mark.parametrize(("case", "value"), LEAKY[:3], ids=[c for c, _ in LEAKY[:3]])
def test_a_connection_string_written_in_the_params_is_refused_without_showing_it(
    company: Company, case: str, value: str
) -> None:
    with pytest.raises(ParamsError) as raised:
        load_params(_params(company, value))
    assert "Sekret99" not in str(raised.value) and "not a database URL" in str(raised.value), str(raised.value)


def test_a_variable_is_read_when_the_table_is_read_and_an_unset_one_is_named(
    crm: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KPI_TEST_CRM_URL", raising=False)
    department = load_params(_params(crm, "${KPI_TEST_CRM_URL}"))  # loading does not need it
    table = DataFolder.of(department, Q4).table("complaints")
    (problem,) = table.problems_of("cs-test")
    assert problem.code == Code.UNSET_VARIABLE and "KPI_TEST_CRM_URL" in str(problem)
    monkeypatch.setenv("KPI_TEST_CRM_URL", "sqlite:///crm.sqlite")
    table = DataFolder.of(department, Q4).table("complaints")
    assert table.problems_of("cs-test") == []
    assert list(table.frame["complaint_id"]) == ["K1", "K2"]


def test_a_missing_driver_names_the_package_and_never_the_password(
    crm: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("sqlalchemy")
    try:
        import pymysql  # noqa: F401

        pytest.fail("pymysql is installed here; this test needs a driver that is not")
    except ImportError:
        pass
    monkeypatch.setenv("KPI_TEST_CRM_URL", "mysql+pymysql://kpi:Secret-77@db.example/crm")
    department = load_params(_params(crm, "${KPI_TEST_CRM_URL}"))
    (problem,) = DataFolder.of(department, Q4).table("complaints").problems_of("cs-test")
    assert problem.code == Code.MISSING_DRIVER
    assert "install pymysql" in str(problem) and "Secret-77" not in str(problem)


def test_a_closed_port_fails_the_table_with_one_line_naming_the_host(
    crm: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = pg._free_port()  # nothing listens there
    crm.budget("cs-down", "2026-Q4", 100000)
    monkeypatch.setenv("KPI_TEST_PASSWORD", "Secret-77")
    url = f"postgresql://kpi:${{KPI_TEST_PASSWORD}}@127.0.0.1:{port}/crm"
    department = load_params(_params(crm, url, name="cs-down"))
    with pytest.raises(DataError) as failed:
        appraise(department, Q4)
    lines = failed.value.lines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("complaints (sql): cannot connect to 127.0.0.1")
    assert "Secret-77" not in lines[0] and f":{port}/crm" in lines[0]
    other = load_params(crm.params("cs-test"))  # a department reading files goes on
    assert appraise(other, Q4).result().department == "cs-test"


# -- what the query returned ----------------------------------------------------------------
def test_rows_outside_the_window_are_not_read_and_problems_name_the_query_row_and_key(crm: Company) -> None:
    _tickets(crm.root / "crm.sqlite", [*ROWS, ("K4", "cs-test", "2026-12-02 09:00:00", "2026-12-01 10:00:00", 1)])
    table = DataFolder.of(load_params(_params(crm, "sqlite:///crm.sqlite")), Q4).table("complaints")
    assert list(table.frame["_row"]) == [1, 2, 3]  # the result's own positions, 1-based
    (problem,) = table.problems_of("cs-test")
    assert str(problem).startswith("complaints (sql), row 3, column resolved_at: found '2026-12-01 10:00:00'")
    assert "complaint_id=K4" in str(problem)


# A query's columns no indicator reads are kept with the result but never parsed: what they hold stops nothing
UNREAD_SQL = [
    ("an unnamed expression", "SELECT *, 1 + 1 FROM tickets"),
    ("a column given twice", "SELECT *, team AS note, opened_at AS note FROM tickets"),
    ("control characters in free text", "SELECT *, 'a' || char(7) AS remark FROM tickets"),
]


@pytest.mark.parametrize(("case", "query"), UNREAD_SQL, ids=[c for c, _ in UNREAD_SQL])
def test_what_a_query_returns_beyond_the_read_columns_stops_nothing(crm: Company, case: str, query: str) -> None:
    plain = appraise(load_params(_params(crm, "sqlite:///crm.sqlite", "SELECT * FROM tickets")), Q4).to_json()
    wide = load_params(_params(crm, "sqlite:///crm.sqlite", query))
    assert DataFolder.of(wide, Q4).table("complaints").problems_of("cs-test") == []
    assert appraise(wide, Q4).to_json() == plain


@pytest.mark.parametrize("happy", ["x'01' AS happy", "happy, x'00ff' AS attachment"])
def test_a_result_that_cannot_be_kept_exactly_is_refused_naming_the_column(crm: Company, happy: str) -> None:
    """The whole result is kept as evidence, so a binary value is refused wherever it is (cast it in the query)."""
    query = f"SELECT ticket_no, team, opened_at, closed_at, {happy} FROM tickets"
    (problem,) = (
        DataFolder.of(load_params(_params(crm, "sqlite:///crm.sqlite", query)), Q4).table("complaints").problems
    )
    assert problem.code == Code.UNSUPPORTED_CELL and "CAST(x AS TEXT)" in str(problem), str(problem)
    assert ("'happy'" if happy.startswith("x") else "'attachment'") in str(problem)


def test_each_distinct_query_is_sent_once_and_shared(crm: Company) -> None:
    shared = SharedTables()
    first = shared.folder(load_params(_params(crm, "sqlite:///crm.sqlite", name="cs-test")), Q4)
    second = shared.folder(load_params(_params(crm, "sqlite:///crm.sqlite", name="cs-other")), Q4)
    first.table("complaints"), second.table("complaints"), first.query("complaints"), second.query("complaints")
    assert shared.queries.sent == 1
    per = "SELECT * FROM tickets WHERE team = :department"
    third = shared.folder(load_params(_params(crm, "sqlite:///crm.sqlite", per, name="cs-test")), Q4)
    fourth = shared.folder(load_params(_params(crm, "sqlite:///crm.sqlite", per, name="cs-other")), Q4)
    third.table("complaints"), fourth.table("complaints")
    assert shared.queries.sent == 3  # :department binds another value per department


def test_the_kept_result_changes_with_the_data_and_is_read_back_without_connecting(crm: Company) -> None:
    department = load_params(_params(crm, "sqlite:///crm.sqlite"))
    before = DataFolder.of(department, Q4).query("complaints")
    again = DataFolder.of(department, Q4).query("complaints")
    assert before is not None and again is not None and before.sha256 == again.sha256
    _tickets(crm.root / "crm.sqlite", [*ROWS[:1], ("K2", "cs-test", "2026-11-02 09:00:00", "2026-11-02 12:00:00", 1)])
    after = DataFolder.of(department, Q4).query("complaints")
    assert after is not None and after.sha256 != before.sha256
    kept = crm.root / "snapshot" / "data"
    sql.kept_path(kept, "complaints").parent.mkdir(parents=True)
    sql.kept_path(kept, "complaints").write_bytes(before.data)
    (crm.root / "crm.sqlite").unlink()
    snapshot = DataFolder(
        kept, department.template, department.base.tables, crm.root, snapshot=True, timezone="Asia/Shanghai"
    )
    table = snapshot.table("complaints")
    assert table.sha256 == before.sha256 and list(table.frame["satisfied"]) == [True, False]


# -- types ----------------------------------------------------------------------------------
TYPES = [
    ("date", "'2026-10-05'", "DATE '2026-10-05'", "date", datetime(2026, 10, 5)),
    (
        "timestamp",
        "'2026-10-05 09:30:00'",
        "TIMESTAMP '2026-10-05 09:30:00'",
        "timestamp",
        datetime(2026, 10, 5, 9, 30),
    ),
    (
        "timestamp with time zone",
        "'2026-10-05T01:30:00Z'",
        "TIMESTAMPTZ '2026-10-05 01:30:00+00'",
        "timestamp",
        datetime(2026, 10, 5, 9, 30),
    ),
    ("boolean true", "1", "TRUE", "bool", True),
    ("boolean false", "0", "FALSE", "bool", False),
    ("integer", "42", "42", "decimal", Decimal(42)),
    ("numeric", "CAST('12.50' AS NUMERIC)", "NUMERIC '12.50'", "decimal", Decimal("12.5")),
    ("double", "0.1 + 0.2", "0.1::float8 + 0.2::float8", "decimal", Decimal("0.3")),
    ("real", "1.1", "REAL '1.1'", "decimal", Decimal("1.1")),
    ("null", "NULL", "NULL", "decimal", None),
    ("text", "'华东 desk'", "'华东 desk'", "str", "华东 desk"),
    ("integer as an id", "7", "7", "str", "7"),
]


def _read_cell(url: str, expression: str, base: Path) -> Any:
    query = sql.prepare(
        url,
        f"SELECT {expression} AS v",
        table="complaints",
        base=base,
        period=None,
        department=None,
        timezone="Asia/Shanghai",
    )
    result = sql.run(query)
    assert result.ok and result.frame is not None, result.problems
    return sql.raw_table(result.frame, "complaints").frame["v"].iloc[0]


def _parsed(cell: Any, kind: str) -> Any:
    if cell is None:
        return None
    return _parser(Column("v", kind), ReadRules(), None)(cell)


@pytest.mark.parametrize(("case", "sqlite", "_pg", "kind", "expected"), TYPES, ids=[t[0] for t in TYPES])
def test_sqlite_types_are_read_exactly(
    tmp_path: Path, case: str, sqlite: str, _pg: str, kind: str, expected: Any
) -> None:
    sqlite3.connect(tmp_path / "t.sqlite").close()
    assert _parsed(_read_cell("sqlite:///t.sqlite", sqlite, tmp_path), kind) == expected


# -- real runs (slow) -----------------------------------------------------------------------
@pytest.mark.slow
def test_the_demo_from_sqlite_scores_as_from_csv_and_verifies_without_the_database(tmp_path: Path) -> None:
    runs = {}
    for kind in ("csv", "sqlite"):
        out = tmp_path / kind
        write_demo(out, sqlite=kind == "sqlite")
        result = kpi("run", "--all", "--period", "2026-Q4", cwd=out)
        assert result.returncode == 0, result.stdout + result.stderr
        runs[kind] = out / "outputs" / "2026-Q4"
    assert not list((tmp_path / "sqlite" / "data" / "demo").glob("*.csv"))
    for department in ("cs-east", "cs-north", "cs-west"):
        csv_bytes = (runs["csv"] / department / "result.json").read_bytes()
        assert (runs["sqlite"] / department / "result.json").read_bytes() == csv_bytes
    manifest = json.loads((runs["sqlite"] / "cs-east" / "manifest.json").read_text(encoding="utf-8"))
    queries = {entry["table"]: entry for entry in manifest["inputs"]["queries"]}
    assert queries["complaints"]["bound"] == {"start": "2026-10-01", "end": "2027-01-01"}
    assert (runs["sqlite"] / ".sources" / queries["complaints"]["stored"]).is_file()
    (tmp_path / "sqlite" / "data" / "demo" / "crm.sqlite").unlink()
    verified = kpi("verify", "--recompute", runs["sqlite"], cwd=tmp_path / "sqlite")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "every score recomputed" in verified.stdout


@pytest.fixture(scope="module")
def server() -> Iterator[pg.Server]:
    started = pg.start()
    try:
        yield started
    finally:
        started.remove()


@pytest.mark.slow
@pytest.mark.parametrize(("case", "_sqlite", "expression", "kind", "expected"), TYPES, ids=[t[0] for t in TYPES])
def test_postgresql_types_are_read_exactly(
    server: pg.Server, tmp_path: Path, case: str, _sqlite: str, expression: str, kind: str, expected: Any
) -> None:
    cell = _read_cell(server.url(), expression, tmp_path)
    assert _parsed(cell, kind) == expected
    if case == "numeric":
        assert str(cell) == "12.50"  # NUMERIC exactly as the database holds it


@pytest.mark.slow
def test_postgresql_refuses_a_data_modifying_cte_even_past_the_check(
    server: pg.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg.execute(server, "CREATE TABLE IF NOT EXISTS victims (id int)", "INSERT INTO victims VALUES (1)")
    query = sql.prepare(
        server.url(), "SELECT 1", table="complaints", base=tmp_path, period=None, department=None, timezone="UTC"
    )
    monkeypatch.setattr(sql, "check_query", lambda text: ())
    cte = "WITH gone AS (DELETE FROM victims RETURNING *) SELECT * FROM gone"
    result = sql.run(sql.Query("complaints", query.url, cte, {}, "UTC"))
    assert not result.ok and "read-only transaction" in result.problems[0].message
    assert pg.PASSWORD not in result.problems[0].message


@pytest.mark.slow
def test_a_run_from_postgresql_verifies_with_the_server_stopped_and_never_shows_the_password(
    server: pg.Server, company: Company
) -> None:
    pg.execute(
        server,
        "CREATE TABLE tickets (ticket_no text, team text, opened_at timestamptz, closed_at timestamp, happy boolean)",
        "INSERT INTO tickets VALUES ('K1', 'cs-test', '2026-10-02 01:00:00+00', '2026-10-02 10:00:00', true),"
        " ('K2', 'cs-test', '2026-11-02 01:00:00+00', '2026-11-02 12:00:00', false),"
        " ('K3', 'cs-test', '2026-11-03 01:00:00+00', NULL, NULL),"
        " ('K0', 'cs-test', '2026-09-30 15:59:59+00', NULL, NULL)",  # 23:59:59 in Shanghai: before Q4
        "CREATE TABLE ledger (entry_id text, department text, date date, category text, amount numeric(12,2), "
        "approved_overrun boolean, score real, n integer)",
        "INSERT INTO ledger VALUES ('E1', 'cs-test', '2026-10-05', 'office', 60000.10, false, 1.1, 3),"
        " ('E2', 'cs-test', '2026-11-05', 'travel', 50000.00, true, 2.5, 4)",
    )
    company.table(
        "surveys",
        [
            {"response_id": f"S{i}", "survey": kind, "respondent": "r", "date": "2026-11-20", "score": 5}
            for i, kind in enumerate(("policy_execution", "customer_satisfaction", "assigned_tasks"))
        ],
    )
    url = "${KPI_TEST_PG_URL}"
    complaints = {
        "sql": {"url": url, "query": "SELECT * FROM tickets WHERE opened_at >= :start AND opened_at < :end"},
        "columns": TICKETS,
    }
    expenses = {"sql": {"url": url, "query": "SELECT * FROM ledger WHERE department = :department"}}
    shared = company.root / "company" / "company.yaml"  # the complaints table as the company file describes it
    shared.parent.mkdir()
    shared.write_text(yaml.safe_dump({"tables": {"complaints": complaints}}, sort_keys=False), encoding="utf-8")
    mine = company.params(company="company/company.yaml", tables={"expenses": expenses})
    down = {"sql": {"url": "${KPI_TEST_PG_DOWN}", "query": "SELECT * FROM tickets"}, "columns": TICKETS}
    theirs = company.params("cs-down", tables={"complaints": down})
    env = {**os.environ, "KPI_TEST_PG_URL": server.url(), "KPI_TEST_PG_DOWN": server.url(port=pg._free_port())}
    ran = kpi("run", mine, theirs, "--period", "2026-Q4", "--out", company.root / "outputs", cwd=company.root, env=env)
    period = company.root / "outputs" / "2026-Q4"
    assert (period / "cs-test" / "result.json").is_file(), ran.stdout + ran.stderr
    assert not (period / "cs-down" / "result.json").exists()
    error = (period / "cs-down" / "error.txt").read_text(encoding="utf-8")
    assert any(line.startswith("complaints (sql): cannot connect to 127.0.0.1") for line in error.splitlines()), error
    result = json.loads((period / "cs-test" / "result.json").read_text(encoding="utf-8"))
    cs07 = next(i for i in result["indicators"] if i["id"] == "CS07")
    assert (cs07["numerator"], cs07["denominator"]) == (1, 3)  # K0 is 2026-09-30 23:59:59 local: not in Q4
    manifest = json.loads((period / "cs-test" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["company"]["sha256"]  # the company file that names the query is evidence too
    recorded = {entry["table"]: entry for entry in manifest["inputs"]["queries"]}
    assert recorded["expenses"]["bound"] == {"department": "cs-test"}
    assert recorded["complaints"]["url"].startswith(f"postgresql+psycopg://{pg.ROLE}:***@127.0.0.1:")
    server.stop()
    verified = kpi("verify", "--recompute", period, cwd=company.root)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    secrets = (pg.PASSWORD, quote(pg.PASSWORD, safe=""))
    for text in (ran.stdout, ran.stderr, verified.stdout, verified.stderr):
        assert not any(secret in text for secret in secrets)
    files = [path for path in (company.root / "outputs").rglob("*") if path.is_file()]
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        assert not any(secret.encode() in data for secret in secrets), path


def test_kpi_diff_sees_a_query_whose_result_changed(tmp_path: Path) -> None:
    def folder(sha: str) -> RunFolder:
        entry = {"table": "complaints", "url": "sqlite:////crm.sqlite", "query": "SELECT 1", "sha256": sha}
        return RunFolder(tmp_path, {"inputs": {"tables": [], "queries": [entry]}}, None, load_template())

    before, after = folder("a" * 64).tables(), folder("b" * 64).tables()
    assert before["complaints"]["sha256"] != after["complaints"]["sha256"]
    assert before["complaints"]["path"] == "sqlite:////crm.sqlite: SELECT 1"


def test_a_result_of_too_many_rows_is_refused(crm: Company, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "MAX_PARQUET_ROWS", 2)
    department = load_params(_params(crm, "sqlite:///crm.sqlite", "SELECT * FROM tickets"))
    (problem,) = DataFolder.of(department, Q4).table("complaints").problems_of("cs-test")
    assert problem.code == Code.TOO_MANY_ROWS and "more than 2 rows" in str(problem)


def test_the_incremental_fingerprint_asks_the_database_again_each_run(crm: Company, tmp_path: Path) -> None:
    """A run compares the query's result, not the params: the same result keeps the sources, another changes them."""
    department = load_params(_params(crm, "sqlite:///crm.sqlite"))

    def sources() -> Any:
        batch = runner._Batch(
            Q4, tmp_path / "outputs" / "2026-Q4", runner.notebooks_folder(None), 60, False, False, None
        )
        run = runner.DepartmentRun(department.path, department.id)
        runner._decide(run, department, batch, None, signed=False)
        return run.fingerprint["sources"]["complaints"], batch.shared.queries.sent

    first, sent = sources()
    assert sent == 1 and first[0].startswith("sql ")
    assert sources()[0] == first
    _tickets(crm.root / "crm.sqlite", [*ROWS, ("K9", "cs-test", "2026-12-24 09:00:00", None, None)])
    assert sources()[0] != first


def test_a_server_that_does_not_answer_fails_within_the_connect_timeout(crm: Company) -> None:
    """10.255.255.1 is not routed: the connection hangs (or is refused at once) and fails within `connect_timeout`."""
    department = load_params(
        crm.params(
            tables={
                "complaints": {
                    "sql": {"url": "postgresql://kpi@10.255.255.1/crm", "query": WINDOWED, "connect_timeout": 2},
                    "columns": TICKETS,
                }
            }
        )
    )
    started = time.monotonic()
    (problem,) = DataFolder.of(department, Q4).table("complaints").problems_of("cs-test")
    assert time.monotonic() - started < 20
    assert problem.code == Code.CONNECT_FAILED and "cannot connect to 10.255.255.1" in str(problem)


def test_the_sqlite_demo_has_typed_columns_and_is_written_the_same_twice(tmp_path: Path) -> None:
    write_demo(tmp_path, sqlite=True)
    write_demo(tmp_path, sqlite=True)  # the same bytes: not refused as edited
    database = sqlite3.connect(tmp_path / "data" / "demo" / "crm.sqlite")
    declared = {row[1]: row[2] for row in database.execute("PRAGMA table_info(tickets)")}
    assert declared == {
        "ticket_no": "TEXT",
        "team": "TEXT",
        "opened_at": "TIMESTAMP",
        "closed_at": "TIMESTAMP",
        "happy": "BOOLEAN",
    }
    assert {row[0] for row in database.execute("SELECT DISTINCT happy FROM tickets")} == {0, 1, None}
    kinds = {row[1]: row[2] for row in database.execute("PRAGMA table_info(expenses)")}
    assert (kinds["date"], kinds["amount"]) == ("DATE", "NUMERIC")
    assert dict(database.execute("SELECT name, type FROM pragma_table_info('surveys')"))["score"] == "INTEGER"
    department = load_params(tmp_path / "params" / "cs-east.yaml")
    assert all(source.sql is not None for source in department.base.tables.values())
    assert not list((tmp_path / "data" / "demo").glob("*.csv"))


# A password written anywhere in a params or company file (both are copied into every run's outputs)
ELSEWHERE = [
    ("sql as one string", {"sql": "postgresql://u:Zq9secret@127.0.0.1:1/crm"}),
    ("file", {"file": "postgresql://u:Zq9secret@127.0.0.1:1/crm"}),
    ("an adapter option", {"options": {"dsn": "host=h dbname=crm password=Zq9secret"}}),
]


@pytest.mark.parametrize("where", ["params", "company"])
@pytest.mark.parametrize(("case", "entry"), ELSEWHERE, ids=[c for c, _ in ELSEWHERE])
def test_a_password_anywhere_in_params_or_company_is_refused_and_never_shown(
    company: Company, case: str, entry: dict[str, Any], where: str
) -> None:
    if where == "company":
        (company.root / "company.yaml").write_text(yaml.safe_dump({"tables": {"complaints": entry}}), encoding="utf-8")
        path = company.params(company="company.yaml")
    else:
        path = company.params(tables={"complaints": entry})
    with pytest.raises(ParamsError) as raised:
        load_params(path)
    assert "Zq9secret" not in str(raised.value), str(raised.value)
    assert any(p.code == Code.PASSWORD_IN_PARAMS for p in raised.value.problems), raised.value.lines()
    shown = str(raised.value)
    assert "tables.complaints." in shown and (where != "company" or re.search(r"company\.yaml: line \d+: ", shown))


@pytest.mark.parametrize(
    ("secret", "text", "shown"),
    [
        ("a", "cannot connect to 127.0.0.1 (postgresql+psycopg://u:***@127.0.0.1:1/crm): failed", None),
        (
            "sql",
            "the query failed on h (postgresql+psycopg://u:***@h/db): sql error",
            "the query failed on h (postgresql+psycopg://u:***@h/db): *** error",
        ),
        ("Con", "Connection refused", None),
        ("s3cret-long", "auth failed for s3cret-long and xs3cret-longx", "auth failed for *** and x***x"),
        ("pw", "password=pw rejected", "password=*** rejected"),
    ],
)
def test_a_short_password_is_scrubbed_only_where_it_stands_alone(secret: str, text: str, shown: str | None) -> None:
    assert sql.scrub(text, [secret]) == (text if shown is None else shown)
