"""Tables read from a database: params `tables.<table>.sql: {url, query}`.

A CRM or ticket system keeps its records in a database; instead of exporting a
CSV by hand, a department's params may read a table with one query:

    tables:
      complaints:
        sql:
          url: ${CRM_URL}                 # or sqlite:///crm.sqlite, postgresql://kpi@db.example/crm
          query: >
            SELECT ticket_no, team, opened_at, closed_at, happy
            FROM tickets WHERE opened_at >= :start AND opened_at < :end
        columns: {complaint_id: ticket_no, department: team, received_at: opened_at,
                  resolved_at: closed_at, satisfied: happy}

What a user and an auditor can rely on:

- **The URL** is an SQLAlchemy URL. `postgresql://` goes through psycopg 3 as
  written; `sqlite:///file.sqlite` needs nothing installed; any other works
  where its driver is installed (a missing one is named with the package to
  install). `${NAME}` is taken from the environment when the table is read (a
  variable that is not set is an error naming it): keep passwords there, never
  in the params. A relative SQLite path resolves against the folder of the YAML
  file that names the table. `connect_timeout` (seconds, default 10) bounds the
  wait for a server.
- **The query** is exactly one statement that reads: SELECT or WITH, comments
  allowed, no second statement, no data-modifying word (INSERT, UPDATE, DELETE,
  INTO …) outside quotes; anything else is refused when the params are loaded,
  before anything is sent. It runs in a read-only transaction where the database
  has one (PostgreSQL `SET TRANSACTION READ ONLY`; SQLite opened read-only with
  `PRAGMA query_only`), so even a data-modifying CTE fails. Bound parameters
  offered: `:start` and `:end` (the period's window, end exclusive: the first
  day 00:00 and the day after the last day 00:00; in SQLite, whose dates are
  text, the day `YYYY-MM-DD`, which compares rightly with ISO dates and
  timestamps), `:period` (`2026-Q4`) and `:department` (the id). A query need
  not use them; only those it names are bound. PostgreSQL sessions use the
  params' time zone, so `:start` is local midnight there too.
- **Types** are read exactly: DATE as a date, TIMESTAMP as a local time,
  TIMESTAMP WITH TIME ZONE as an instant converted to the params' time zone,
  BOOLEAN (or 0/1) as a boolean, INTEGER and NUMERIC as exact decimals, REAL and
  DOUBLE at 15 significant digits like a spreadsheet (a 4-byte REAL at its own
  precision: 1.1, not 1.100000023841858), NULL as an empty cell, text as text.
  The result then goes through the same `columns:`, `values:`, `constants:` and
  `date_format` as a file, and the same validation.
- **Problems** name the table as `<table> (sql)` (e.g. `complaints (sql), row 3,
  column resolved_at: …`), the row as its 1-based position in the query's result,
  and the row's key value.
- **Once per run, kept, never again**: each distinct (URL, query, bound values
  it names) is sent once per `kpi run` and shared by the departments that read
  it. What it returned is kept as Parquet in the period's store
  (`outputs/<period>/.sources/<sha256>.parquet`, the exact cells: see `snapshot`)
  and listed in each department's manifest under `inputs.queries` with the query
  text, the URL with its password masked, the bound values and the sha256. `kpi
  verify --recompute` and `kpi diff` read that copy and never connect. The
  incremental fingerprint hashes the result, so a changed result runs the
  department again.
- **Secrets**: a password never appears in an output, a manifest, a notebook, a
  log line or an error: URLs are shown masked (`postgresql://kpi:***@db/crm`,
  password-like query keys too) and every message from a driver is scrubbed.
- **Failures** (refused connection, timeout, wrong password, a query the
  database rejects) are a problem of that table: the departments that read it
  fail with one line naming the table and the host; the others go on.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd

from ..base.errors import AuditError, Code, Problem, Refusal
from ..base.files import sha256_bytes
from ..base.layout import query_copy
from .readers import MAX_PARQUET_ROWS, RawTable, from_columns, narrow_float, typed_cell
from .snapshot import read_frame, write_frame

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from .period import Period

OFFERED = ("start", "end", "period", "department")
DEFAULT_TIMEOUT = 10
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WRITES = (
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "UPSERT",
    "INTO",
    "DROP",
    "CREATE",
    "ALTER",
    "TRUNCATE",
    "GRANT",
    "REVOKE",
    "COPY",
    "CALL",
    "EXEC",
    "EXECUTE",
    "ATTACH",
    "DETACH",
    "VACUUM",
    "REINDEX",
    "PRAGMA",
    "LOCK",
)
_WRITE_WORD = re.compile(r"\b(" + "|".join(_WRITES) + r")\b", re.IGNORECASE)
_SECRET_KEY = re.compile(r"pass|secret|token|key|credential", re.IGNORECASE)
# the pip package of a driver module a URL needs (when they differ)
_PACKAGES = {"MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary", "psycopg": "psycopg[binary]"}


class Refused(Refusal):
    """A query or URL refused before anything is sent; the message never holds a password."""


# -- the statement --------------------------------------------------------------------------
def _skeleton(query: str) -> str:
    """The query with comments, string literals and quoted identifiers blanked (what is left is SQL words)."""
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        two = query[i : i + 2]
        if two == "--":
            end = query.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif two == "/*":
            depth, i = 1, i + 2
            while i < n and depth:
                if query.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif query.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            if depth:
                raise Refused("an unterminated /* comment; expected one complete statement", Code.NOT_A_READ)
            out.append(" ")
        elif c in "'\"`":
            escaped = c == "'" and i > 0 and query[i - 1] in "eE" and (i < 2 or not query[i - 2].isalnum())
            i += 1
            while True:
                if i >= n:
                    raise Refused(f"an unterminated {c} quote; expected one complete statement", Code.NOT_A_READ)
                if escaped and query[i] == "\\":
                    i += 2
                    continue
                if query[i] == c:
                    if query[i + 1 : i + 2] == c:  # a doubled quote inside
                        i += 2
                        continue
                    i += 1
                    break
                i += 1
            out.append(" 0 ")
        elif c == "$" and (tag := re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", query[i:])):
            close = query.find(tag.group(0), i + len(tag.group(0)))
            if close < 0:
                raise Refused(f"an unterminated {tag.group(0)} quote; expected one complete statement", Code.NOT_A_READ)
            i = close + len(tag.group(0))
            out.append(" 0 ")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check_query(query: str) -> tuple[str, ...]:
    """The bound parameters a reading query names; `Refused` when it is not exactly one statement that reads."""
    skeleton = _skeleton(query).strip()
    body = skeleton[:-1].rstrip() if skeleton.endswith(";") else skeleton
    if not body:
        raise Refused("empty; expected one SELECT (or WITH … SELECT) statement", Code.NOT_A_READ)
    if ";" in body:
        raise Refused(
            "holds more than one statement (a ; before the end); expected exactly one SELECT or WITH statement",
            Code.NOT_A_READ,
        )
    first = re.match(r"[(\s]*([A-Za-z]+)", body)
    word = first.group(1).upper() if first else body.split()[0]
    if word not in ("SELECT", "WITH"):
        raise Refused(
            f"starts with {word[:20]}; expected one statement that only reads: SELECT, or WITH … SELECT",
            Code.NOT_A_READ,
        )
    writes = _WRITE_WORD.search(body)
    if writes:
        raise Refused(
            f"holds {writes.group(1).upper()}; expected a statement that only reads (a column of that name: "
            'quote it as an identifier, "name")',
            Code.NOT_A_READ,
        )
    return _bind_names(query)


def _bind_names(query: str) -> tuple[str, ...]:
    """The `:name` parameters SQLAlchemy's `text()` finds in the query; `Refused` for one not offered."""
    from sqlalchemy import text

    names = tuple(text(query).compile().params)
    unknown = [name for name in names if name not in OFFERED]
    if unknown:
        raise Refused(
            f"names the parameter :{unknown[0]}; the toolkit offers :start, :end, :period and :department "
            f"(a colon that is no parameter: write \\:{unknown[0]})",
            Code.UNKNOWN_PARAMETER,
        )
    return names


def bound_values(query: str, period: Period | None, department: str | None, *, dialect: str = "") -> dict[str, Any]:
    """The values of the parameters the query names (`Refused` when it needs a period or department and has none)."""
    values: dict[str, Any] = {}
    for name in _bind_names(query):
        if name == "department":
            if department is None:
                raise Refused(
                    "names :department, but no department is being read; read it through a department's params",
                    Code.UNKNOWN_PARAMETER,
                )
            values[name] = department
            continue
        if period is None:
            raise Refused(
                f"names :{name}, but no period is being appraised; give one (e.g. --period 2026-Q4)",
                Code.UNKNOWN_PARAMETER,
            )
        if name == "period":
            values[name] = str(period)
        else:
            moment = period.start_ts if name == "start" else period.end_ts
            values[name] = moment.date().isoformat() if dialect == "sqlite" else moment
    return values


# -- the URL --------------------------------------------------------------------------------
def expand(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`${NAME}` replaced from the environment; `Refused` naming the first variable that is not set."""
    env = os.environ if environ is None else environ
    for name in _VARIABLE.findall(text):
        if name not in env:
            raise Refused(
                f"the URL names ${{{name}}}, but the environment variable {name} is not set; "
                f"set it (e.g. export {name}=... in the shell that runs kpi) before running",
                Code.UNSET_VARIABLE,
            )
    return _VARIABLE.sub(lambda m: env[m.group(1)], text)


def check_url(text: str) -> None:
    """`Refused` when a URL as written in the params holds a password (or a secret-looking query value) itself.

    Params are copied into every run's outputs, so a password there would be
    written out; it belongs in the environment: `url: ${CRM_URL}`, or
    `postgresql://kpi:${CRM_PASSWORD}@db/crm`.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    names = _VARIABLE.findall(text)
    marked = _VARIABLE.sub(lambda m: f"KPIVAR{names.index(m.group(1))}X", text)
    try:
        url = make_url(marked.strip())
    except (ArgumentError, ValueError):
        if re.fullmatch(r"(KPIVAR\d+X)+", marked.strip()):
            return  # the whole URL comes from the environment: checked when the table is read
        raise Refused(  # never shown: a libpq key=value string or a URL without its scheme may hold a password
            "is not a database URL (its value is not shown: it may hold a password); expected e.g. "
            "sqlite:///crm.sqlite, postgresql://user@host/db, or ${CRM_URL} with the URL in the environment",
            Code.BAD_URL,
        ) from None
    literal = [url.password] if url.password is not None else []
    literal += [v for k, v in url.query.items() if _SECRET_KEY.search(k) for v in ([v] if isinstance(v, str) else v)]
    if any(str(secret) and not re.fullmatch(r"(KPIVAR\d+X)+", str(secret)) for secret in literal):
        raise Refused(
            "holds a password; params are copied into every run's outputs, so keep it in the environment: "
            "write url: ${CRM_URL} (or postgresql://user:${CRM_PASSWORD}@host/db) and set the variable before running",
            Code.PASSWORD_IN_PARAMS,
        )


def engine_url(text: str, base: Path, written: str | None = None) -> URL:
    """The SQLAlchemy URL of `text` (after `expand`): psycopg 3 for PostgreSQL, a relative SQLite file under `base`.

    A text that is no URL is never shown (a libpq `key=value` string or a URL without its
    scheme holds its password in the clear): the message shows the URL as the params
    wrote it (`written`, which holds no password: `check_url`), e.g. `${CRM_URL}`.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = f"the URL {written!r}" if written and written.strip() != text.strip() else "the URL"
    try:
        url = make_url(text.strip())
    except (ArgumentError, ValueError):
        raise Refused(
            f"{shown} is not a database URL (its value is not shown: it may hold a password); "
            "expected e.g. sqlite:///crm.sqlite or postgresql://user@host/db",
            Code.BAD_URL,
        ) from None
    if "@" in (url.host or "") or ("@" in (url.database or "") and url.get_backend_name() != "sqlite"):
        raise Refused(
            f"{shown} has an @ in its user or password that is not written as %40 (its value is not shown: "
            "it holds a password); percent-encode the password, e.g. p%40ss for p@ss",
            Code.BAD_URL,
        )
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database).expanduser()
        if url.database.startswith("file:"):
            raise Refused("a sqlite file: URI; expected sqlite:///path/to/file.sqlite", Code.BAD_URL)
        url = url.set(database=str(path if path.is_absolute() else (base / path).resolve()))
    return url


def masked(url: URL) -> str:
    """The URL as shown anywhere: its password, and query values whose key looks secret, as ***."""
    mark = "KPIMASKED"  # a placeholder URL quoting keeps as it is, then shown as ***
    hidden = url.set(query={k: (mark if _SECRET_KEY.search(k) else v) for k, v in url.query.items()})
    return hidden.render_as_string(hide_password=True).replace(mark, "***")


def secrets_of(url: URL) -> list[str]:
    """What must never be shown: the password (as written and URL-quoted) and secret-looking query values."""
    found = [str(url.password)] if url.password else []
    for key, value in url.query.items():
        if _SECRET_KEY.search(key):
            found.extend([value] if isinstance(value, str) else list(value))
    return [s for secret in found if secret for s in dict.fromkeys((secret, quote(secret, safe="")))]


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced by ***, and any `password=…` a driver echoes.

    A short secret (under 8 characters) is replaced only where it stands as a word of
    its own: replaced inside other words it would turn every message into a key to it
    (`c***nnot` for the password `a`).
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 8:
            text = text.replace(secret, "***")
        else:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", text, flags=re.IGNORECASE)


_USERINFO_PASSWORD = re.compile(r"://[^/\s@:]*:([^@\s/]+)@")
_PASSWORD_PAIR = re.compile(r"\b(?:password|pwd)\s*=\s*([^\s;&]+)", re.IGNORECASE)
_ONLY_VARIABLES = re.compile(r"(\$\{[A-Za-z_][A-Za-z0-9_]*\})+")


def holds_password(text: str) -> bool:
    """Whether `text` looks like it holds a password (`scheme://user:pw@`, `password=pw`) other than a `${NAME}`."""
    found = [m.group(1) for m in _USERINFO_PASSWORD.finditer(text)] + [
        m.group(1) for m in _PASSWORD_PAIR.finditer(text)
    ]
    return any(not _ONLY_VARIABLES.fullmatch(secret) for secret in found)


def password_problems(document: Any, file: str, path: str = "") -> list[Problem]:
    """A params or company file's values (not its `url`s, which `check_url` refuses itself) that hold a password.

    Those files are copied into every run's outputs, so such a value is refused, and never shown.
    """
    if isinstance(document, dict):
        return [
            p
            for key, value in document.items()
            if str(key) != "url"
            for p in password_problems(value, file, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(document, list):
        return [p for i, value in enumerate(document) for p in password_problems(value, file, f"{path}.{i}")]
    if isinstance(document, str) and holds_password(document):
        return [
            Problem(
                file=file,
                message=f"{path}: holds what looks like a password (not shown); this file is copied into every "
                "run's outputs, so keep the password in the environment: url: ${CRM_URL}",
                code=Code.PASSWORD_IN_PARAMS,
            )
        ]
    return []


# -- running a query ------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """One query ready to send: where (the URL, in memory only), what, and the values it binds."""

    table: str
    url: URL
    query: str
    values: Mapping[str, Any]
    timezone: str
    timeout: int = DEFAULT_TIMEOUT

    @property
    def shown(self) -> str:
        return masked(self.url)

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two queries the same: URL (password included, never shown), text and bound values."""
        return (
            self.url.render_as_string(hide_password=False),
            self.query,
            tuple(sorted((k, str(v)) for k, v in self.values.items())),
            self.timezone,
        )


@dataclass
class Result:
    """What one query returned: its cells (None when it failed), the Parquet bytes kept, or its problems."""

    table: str
    shown: str
    query: str
    bound: dict[str, str]
    frame: pd.DataFrame | None = None
    data: bytes = b""
    problems: list[Problem] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data) if self.data else ""

    @property
    def ok(self) -> bool:
        return self.frame is not None and not self.problems

    @property
    def rows(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    def entry(self, stored: str) -> dict[str, Any]:
        """The manifest's record of this query (`inputs.queries`): no password, ever."""
        return {
            "table": self.table,
            "url": self.shown,
            "query": self.query,
            "bound": dict(sorted(self.bound.items())),
            "rows": self.rows,
            "sha256": self.sha256,
            "stored": stored,
        }


def label(table: str) -> str:
    """How problems and evidence name a table read from a database."""
    return f"{table} (sql)"


def prepare(
    url: str,
    query: str,
    *,
    table: str,
    base: Path,
    period: Period | None,
    department: str | None,
    timezone: str,
    timeout: int = DEFAULT_TIMEOUT,
) -> Query:
    """The query of a table, its URL expanded and resolved, its bound values; `Refused` for what cannot be sent."""
    check_query(query)
    resolved = engine_url(expand(url), base, written=url)
    values = bound_values(query, period, department, dialect=resolved.get_backend_name())
    return Query(table, resolved, query.strip(), values, timezone, timeout)


class Queries:
    """The queries of one run, each distinct one sent once (`sent` counts what was sent; tests count it)."""

    def __init__(self) -> None:
        self._results: dict[tuple[Any, ...], Result] = {}
        self.sent = 0

    def get(self, query: Query) -> Result:
        if query.key not in self._results:
            self.sent += 1
            self._results[query.key] = run(query)
        return self._results[query.key]


def run(query: Query) -> Result:
    """Send `query` (read-only) and keep what it returned; a failure is the result's problem, never raised."""
    bound = {k: (v.isoformat(sep=" ") if isinstance(v, datetime) else str(v)) for k, v in query.values.items()}
    result = Result(query.table, query.shown, query.query, bound)
    file = label(query.table)
    try:
        header, columns = _fetch(query)
        frame = _frame(header, columns)
        unkept = _unkept(frame)
        if unkept:
            raise Refused(unkept, Code.UNSUPPORTED_CELL)
        if query.url.get_backend_name() == "sqlite" and {"start", "end"} & set(query.values):
            offset = _text_with_offset(frame)
            if offset:
                raise Refused(
                    f"filters by :start/:end, but the database keeps times as text with an offset ({offset}); "
                    "SQLite compares them as text with the period's local dates, which leaves out rows of the "
                    "period's first or last hours; drop the time condition from the query (kpi keeps only the "
                    "period's rows itself) or store local times",
                    Code.UNSAFE_WINDOW,
                )
        result.data, result.frame = kept(frame)
    except Refusal as exc:
        result.frame = None
        result.problems = [Problem(file=file, message=scrub(str(exc), secrets_of(query.url)), code=exc.code)]
    return result


def _engine(query: Query) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    url = query.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database
        if not database or database == ":memory:":
            return create_engine("sqlite://", poolclass=NullPool)
        path = Path(database)
        if not path.is_file():
            raise Refused(f"no SQLite database file {path}; expected the file the URL names", Code.CONNECT_FAILED)
        target = f"file:{quote(str(path))}?mode=ro"
        return create_engine("sqlite://", creator=lambda: sqlite3.connect(target, uri=True), poolclass=NullPool)
    arguments: dict[str, Any] = {}
    if backend in ("postgresql", "mysql", "mariadb") and "connect_timeout" not in url.query:
        arguments["connect_timeout"] = query.timeout
    return create_engine(url, poolclass=NullPool, connect_args=arguments)


def _fetch(query: Query) -> tuple[list[str], list[list[Any]]]:
    """The result's column names and cells (by column); `Refused` naming the host for what went wrong."""
    from sqlalchemy import text
    from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

    secrets = secrets_of(query.url)
    host = query.url.host or query.url.database or "the database"
    try:
        engine = _engine(query)
    except NoSuchModuleError:
        raise Refused(
            f"{query.shown}: no SQLAlchemy dialect {query.url.drivername!r}; expected e.g. postgresql://, mysql+pymysql:// or sqlite:///",
            Code.BAD_URL,
        ) from None
    except ImportError as exc:
        module = (exc.name or str(exc)).split(".")[0]
        package = _PACKAGES.get(module, module)
        raise Refused(
            f"{query.shown}: the driver {module} for {query.url.drivername} is not installed; install {package} "
            f"(pip install {package}) where kpi runs",
            Code.MISSING_DRIVER,
        ) from None
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise Refused(
                f"cannot connect to {host} ({query.shown}): {_reason(exc, secrets)}", Code.CONNECT_FAILED
            ) from None
        with connection:
            try:
                dialect = connection.dialect.name
                if dialect == "postgresql":
                    connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                    connection.execute(text("SELECT set_config('TimeZone', :tz, true)"), {"tz": query.timezone})
                elif dialect == "sqlite":
                    connection.exec_driver_sql("PRAGMA query_only = ON")
                check_query(query.query)  # again, just before it is sent
                cursor = connection.execute(text(query.query), dict(query.values))
                header = [str(name) for name in cursor.keys()]
                narrow = _narrow_columns(dialect, cursor.cursor.description)
                rows = _fetch_rows(cursor, MAX_PARQUET_ROWS + 1)
                if len(rows) > MAX_PARQUET_ROWS:
                    raise Refused(
                        f"the query returned more than {MAX_PARQUET_ROWS:,} rows; expected at most that many "
                        "(take only the period's rows with :start and :end, or the department's with :department)",
                        Code.TOO_MANY_ROWS,
                    )
                connection.rollback()
            except SQLAlchemyError as exc:
                raise Refused(
                    f"the query failed on {host} ({query.shown}): {_reason(exc, secrets)}", Code.QUERY_FAILED
                ) from None
    finally:
        engine.dispose()
    columns = [list(cells) for cells in zip(*rows, strict=True)] if rows else [[] for _ in header]
    for i in narrow:
        columns[i] = [None if v is None else narrow_float(v) for v in columns[i]]
    return header, columns


def _fetch_rows(cursor: Any, limit: int) -> list[Any]:
    """Up to `limit` rows of a result. SQLAlchemy hands a driver's values through unchanged when the result has no
    processors (a `text()` query names no column types) and no tuple filter; then the driver's own rows are read
    (the same values, without a SQLAlchemy Row per row), else SQLAlchemy's."""
    metadata = getattr(cursor, "_metadata", None)
    processors = getattr(metadata, "_processors", None)
    plain = (
        isinstance(processors, list)
        and all(p is None for p in processors)
        and getattr(metadata, "_tuplefilter", None) is None
        and getattr(cursor, "cursor", None) is not None
    )
    if not plain:
        return list(cursor.fetchmany(limit))
    return list(cursor.cursor.fetchmany(limit))


def _narrow_columns(dialect: str, description: Any) -> list[int]:
    """Which columns hold 4-byte floats (PostgreSQL REAL), read at their own precision."""
    if dialect != "postgresql" or not description:
        return []
    return [i for i, column in enumerate(description) if getattr(column, "type_code", None) == 700]


def _reason(exc: Exception, secrets: list[str]) -> str:
    """A driver's message, one line, scrubbed of secrets (psycopg may echo the connection string)."""
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split()) or type(original).__name__
    return scrub(text, secrets)[:300]


# -- the cells kept -------------------------------------------------------------------------
_KEPT = (str, bool, int, float, Decimal, date)


def _frame(header: list[str], columns: list[list[Any]]) -> pd.DataFrame:
    """The result as a frame of exact cells (UUIDs as their text), columns as the query named them."""
    data = {
        i: pd.Series(
            [str(v) if isinstance(v, uuid.UUID) else v for v in cells]
            if any(issubclass(t, uuid.UUID) for t in _kinds(cells))
            else cells,
            dtype=object,
        )
        for i, cells in enumerate(columns)
    }
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(columns[0]) if columns else 0))
    frame.columns = pd.Index(header, dtype=object, tupleize_cols=False)
    return frame


_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s?(?:Z|[+-]\d{2}:?\d{2})$")


def _text_with_offset(frame: pd.DataFrame) -> str:
    """The first text cell that is a timestamp with an offset (`column 'opened_at', row 3: '…Z'`), or "".

    Only the text cells that may be one are matched (`_may_have_offset`), each as before.
    """
    for position, name in enumerate(frame.columns):
        cells = frame.iloc[:, position].tolist()
        for row in _may_have_offset(cells):
            value = cells[row - 1]
            if isinstance(value, str) and _WITH_OFFSET.match(value.strip()):
                return f"column {name!r}, row {row}: {value[:60]!r}"
    return ""


def _may_have_offset(cells: list[Any]) -> list[int]:
    """The rows (from 1) of the cells `_WITH_OFFSET` may match: any cell but text, and text that holds a Z, a +,
    or a - after its 10th character (an offset comes after a date and a time); every row when not all are text."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not _kinds(cells) <= {str, type(None)}:
        return list(range(1, len(cells) + 1))
    array = pa.array(cells, type=pa.string())
    maybe = pc.or_(
        pc.or_(pc.match_substring(array, "Z"), pc.match_substring(array, "+")),
        pc.match_substring_regex(array, r"(?s)^.{10,}-"),
    )
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(pc.fill_null(maybe, False).to_numpy(zero_copy_only=False)))]


def _kinds(cells: list[Any]) -> set[type]:
    """The exact types of a column's cells."""
    return set(map(type, cells))


def _unkept(frame: pd.DataFrame) -> str:
    """Why a result cannot be kept exactly ("" when it can): a column of another type than text, numbers, dates."""
    for position, name in enumerate(frame.columns):
        cells = frame.iloc[:, position].tolist()
        if all(t is type(None) or issubclass(t, _KEPT) for t in _kinds(cells)):
            continue  # (every cell is kept: no need to find the first that is not)
        for row, value in enumerate(cells, start=1):
            if value is not None and not isinstance(value, _KEPT):
                return (
                    f"column {name!r}, row {row}: a value of type {type(value).__name__}; expected text, numbers, "
                    "booleans, dates or timestamps (cast it in the query, e.g. CAST(x AS TEXT))"
                )
    return ""


def keep(frame: pd.DataFrame) -> bytes:
    """The Parquet bytes that keep a result exactly (`snapshot.write_frame`); the same cells give the same bytes."""
    return kept(frame)[0]


def kept(frame: pd.DataFrame) -> tuple[bytes, pd.DataFrame]:
    """`keep`'s bytes and the frame they read back to (`read_frame_bytes` of them: read once, not twice)."""
    with tempfile.TemporaryDirectory(prefix="kpi-sql-") as tmp:
        path = Path(tmp) / "result.parquet"
        back = write_frame(frame, path, what="the query's result")
        return path.read_bytes(), back


def read_frame_bytes(data: bytes) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(prefix="kpi-sql-") as tmp:
        path = Path(tmp) / "result.parquet"
        path.write_bytes(data)
        return read_frame(path)


def kept_path(data_folder: Path, table: str) -> Path:
    """Where a snapshot holds the result kept for `table`, beside its `data/` folder."""
    return data_folder.parent / query_copy(table)


def read_kept(path: Path) -> tuple[pd.DataFrame, str]:
    """A kept result and its sha256 (`AuditError` when it is missing or not one): no connection, ever."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"{path}: the kept result of the query cannot be read ({exc.strerror or exc})") from None
    return read_frame(path), sha256_bytes(data)


def raw_table(frame: pd.DataFrame, table: str, wanted: Callable[[str], bool] | None = None) -> RawTable:
    """A kept result as a table's raw cells: row i of the result is row i (1-based), headers checked like a file's.

    With `wanted` (which headers the mapping or the template can read, as for a file), only those
    columns are converted; the others are in the kept copy and its sha256, never parsed.
    """
    every = [str(name) for name in frame.columns]
    keep = [i for i, name in enumerate(every) if wanted is None or wanted(name.strip())]
    columns = [_typed_cells(frame.iloc[:, i].tolist()) for i in keep]
    raw = from_columns(label(table), [every[i] for i in keep], columns, row_base=1)
    return raw if wanted is None else replace(raw, headers=every)


_AS_THEY_ARE = frozenset({str, bool, int, Decimal, date, datetime, type(None)})  # (cells `typed_cell` keeps)


def _typed_cells(cells: list[Any]) -> list[Any]:
    """`typed_cell` of each cell; a column of cells it keeps as they are (text, numbers, dates) is kept whole,
    and of floats only a NaN or infinity is replaced."""
    kinds = _kinds(cells)
    if kinds <= _AS_THEY_ARE:
        return cells
    if kinds <= _AS_THEY_ARE | {float}:
        return [typed_cell(v) if type(v) is float and not math.isfinite(v) else v for v in cells]
    return [typed_cell(v) for v in cells]


def key_text(raw: RawTable, key: tuple[str, ...], row: int) -> str:
    """The key of the result's row `row` as `complaint_id=C-7` (its cells as returned), or "" when not all are there."""
    names = {str(h).strip().casefold(): h for h in raw.frame.columns}
    position = row - raw.row_base
    parts = []
    for column in key:
        header = names.get(column.casefold())
        if header is None or not 0 <= position < len(raw.frame):
            return ""
        value = raw.frame[header].iloc[position]
        if value is None:
            return ""
        parts.append(f"{column}={value}")
    return ", ".join(parts)


__all__ = [
    "DEFAULT_TIMEOUT",
    "OFFERED",
    "Queries",
    "Query",
    "Refused",
    "Result",
    "bound_values",
    "check_query",
    "engine_url",
    "expand",
    "keep",
    "kept_path",
    "label",
    "masked",
    "prepare",
    "raw_table",
    "read_kept",
    "run",
    "scrub",
]
