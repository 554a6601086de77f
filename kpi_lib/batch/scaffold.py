"""`kpi init`: a new company folder, without the demo, ready for a department's own exports.

`init_company(folder, department=…)` writes, into a folder that is new or empty:

    company.yaml          what every department shares (template, data folder, time zone, calendar, policy)
    params/<dept>.yaml    one department: its id, name, weights and targets (the seed's example numbers)
    data/                 the exports (empty without --from)
    schemas/*.json        JSON Schemas of the YAML files, for editors (see kpi_lib.inputs.schemas)
    README.md             where to go next: the tutorial "Appraise your own department"

The files load as they are (`kpi validate` then names the tables data/ lacks),
and `kpi run --all` run inside the folder picks up `params/*.yaml`.

`--from EXPORT …` (`read_export`, `propose`): each export (a CSV, xlsx (every
sheet), Parquet file, or `URL#table` of a database) is read, its headers matched
with each template table's columns (`match_columns`), and each export is placed
in the table it matches best. A header matches a column by the column's name
(any letter case, as the reader itself reads it), by its Chinese header (zh
alias), or written differently (letter case, spaces, `-` or `_`, punctuation:
`Received at`, `RECEIVED-AT`, `是否满意？`). Nothing is guessed silently:

- an export that matches two tables equally, or no table, is listed, not placed;
- two exports for one table are listed, and neither is placed;
- a column two headers match equally (or a header two columns match) is listed,
  not mapped;
- every placement that needs a `tables.<t>` entry (another file name, a mapping
  written differently, department codes) is written into company.yaml with a
  `suggested: {tables.<t>: how it was found}` line, which fails `kpi validate`
  and `kpi run` (`params.unconfirmed`) until someone has checked the entry and
  deleted the line. An export whose file name is its table's and whose headers
  the reader takes by themselves needs no entry and no confirmation: the reader
  reads it that way anyway.

File exports are copied into data/ (the reader reads only inside the data
folder); a database table is read with `sql: {url, query}`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from ..base import yamlfile
from ..base.errors import UsageError
from ..base.files import write_atomic
from ..base.text import PLAIN_ID, fold
from ..inputs import sql
from ..inputs.readers import Unreadable, cell_text, read_raw
from ..inputs.schemas import schema_files, schema_line
from ..inputs.tables import BOOL_WORDS, DATE_TEXT, DEFAULT_TIMEZONE, TIMESTAMP_TEXT
from ..inputs.template import TableSpec, Template, load_template
from .demo import PROFILES
from .demo import params_text as demo_params_text
from .importer import check_id

TUTORIAL = "“Appraise your own department”, the tutorial page of kpi's documentation (tutorial.html on the site, docs/tutorial.md in the source)"
SHOWN_VALUES = 8  # department values listed per table; the rest are counted

# How a header was matched: the reader's own rules (EXACT), then written differently.
EXACT = ("name", "zh alias")


# -- matching headers with columns ---------------------------------------------------------------
def squeezed(text: str) -> str:
    """A header without what may vary between exports: fold (case, width, invisible characters), then only
    letters and digits (`Received at`, `RECEIVED_AT` and `received-at` are one)."""
    return "".join(c for c in fold(text) if unicodedata.category(c)[0] in "LN")


def _how(header: str, column: str, alias: str) -> str | None:
    """How `header` matches a column (`HOW`), or None."""
    text = header.strip()
    if text.lower() == column.lower():
        return "name"
    if alias and text == alias:
        return "zh alias"
    key = squeezed(text)
    if key and key == squeezed(column):
        return "name written differently"
    if alias and key and key == squeezed(alias):
        return "zh alias written differently"
    return None


@dataclass
class ColumnMatch:
    """The headers of one export against one table's columns."""

    found: dict[str, tuple[str, str]] = field(default_factory=dict)  # column → (header, how)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # column → headers that match it equally
    missing: list[str] = field(default_factory=list)  # columns no header matches
    unused: list[str] = field(default_factory=list)  # headers no column takes

    @property
    def score(self) -> int:
        return len(self.found) + len(self.ambiguous)


def match_columns(spec: TableSpec, headers: list[str]) -> ColumnMatch:
    """Each column of `spec`: the one header that matches it best, or the headers that tie, or none.

    Two levels: what the reader itself takes (the name in any letter case, the zh
    alias: `EXACT`) beats what is written differently. Two headers on one level
    (`complaint_id` and `投诉编号`, which the reader would call a column given twice)
    are ambiguous; so is a header that is the best match of two columns. A header
    used nowhere is listed as unused.
    """
    result = ColumnMatch()
    best: dict[str, tuple[bool, list[str], str]] = {}
    for col in spec.columns:
        ranked = [(how not in EXACT, h, how) for h in headers if (how := _how(h, col.name, col.alias)) is not None]
        if not ranked:
            result.missing.append(col.name)
            continue
        top = min(level for level, _, _ in ranked)
        level_best = [(h, how) for level, h, how in ranked if level == top]
        best[col.name] = (top, [h for h, _ in level_best], level_best[0][1])
    claims = Counter(h for _, tied, _ in best.values() for h in tied)
    for name, (_, tied, how) in best.items():
        if len(tied) == 1 and claims[tied[0]] == 1:
            result.found[name] = (tied[0], how)
        else:
            result.ambiguous[name] = tied
    taken = {h for tied in result.ambiguous.values() for h in tied} | {h for h, _ in result.found.values()}
    result.unused = [h for h in headers if h not in taken]
    return result


# -- reading exports ---------------------------------------------------------------------------------
@dataclass
class Export:
    """One export's headers and cells: a file (a sheet of a workbook) or a database table."""

    shown: str  # how messages name it: tickets.csv, book.xlsx[Sheet1], sqlite:///crm.sqlite#tickets
    headers: list[str]
    frame: pd.DataFrame
    path: Path | None = None
    sheet: str | None = None
    sheets: int = 1  # sheets of the workbook with data
    url: str | None = None
    table: str | None = None

    @property
    def stem(self) -> str:
        return self.table if self.table else self.sheet if self.sheets > 1 and self.sheet else Path(self.shown).stem


SQL_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def read_export(text: str) -> list[Export]:
    """The export(s) `text` names: a file (every sheet of a workbook) or `URL#table`; `UsageError` naming what fails."""
    if "://" in text:
        return [_read_sql(text)]
    path = Path(text)
    if not path.is_file():
        raise UsageError(f"--from {text}: no such file; expected a .csv, .xlsx or .parquet export, or URL#table")
    try:
        if path.suffix.lower() != ".xlsx":
            raw = read_raw(path)
            return [Export(str(path), [str(h) for h in raw.frame.columns], raw.frame, path=path)]
        book = load_workbook(path, read_only=True)
        names = list(book.sheetnames)
        book.close()
        found = []
        for name in names:
            try:
                raw = read_raw(path, sheet=name)
            except Unreadable:
                continue  # an empty sheet
            found.append(Export(f"{path}[{name}]", [str(h) for h in raw.frame.columns], raw.frame, path, name))
        for export in found:
            export.sheets = len(found)
        if not found:
            raise UsageError(f"--from {text}: no sheet with a header row")
        return found
    except Unreadable as exc:
        raise UsageError(f"--from {text}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"--from {text}: cannot read it ({exc.strerror or exc})") from None


def _read_sql(text: str) -> Export:
    url, _, table = text.rpartition("#")
    if not url or not SQL_TABLE.fullmatch(table):
        raise UsageError(
            f"--from {text}: expected a database URL and a table, URL#table, e.g. sqlite:///crm.sqlite#tickets"
        )
    try:
        sql.check_url(url)
        query = sql.prepare(
            url,
            f"SELECT * FROM {table}",
            table=table,
            base=Path.cwd(),
            period=None,
            department=None,
            timezone=DEFAULT_TIMEZONE,
        )
    except sql.Refused as exc:
        raise UsageError(f"--from {table} of a database: the URL {exc}") from None
    result = sql.run(query)
    if result.frame is None or result.problems:
        reasons = "; ".join(p.message for p in result.problems) or "no result"
        raise UsageError(f"--from {query.shown}#{table}: {reasons}")
    return Export(f"{query.shown}#{table}", [str(h) for h in result.frame.columns], result.frame, url=url, table=table)


# -- proposing ----------------------------------------------------------------------------------------
@dataclass
class Placement:
    """An export placed in a table: the entry it needs in company.yaml (empty: none) and what the person must check."""

    table: str
    export: Export
    match: ColumnMatch
    entry: dict[str, Any]
    why: str  # the `suggested:` line (empty: nothing to confirm)
    comments: list[str]  # what was not matched, shown above the entry
    departments: Counter[str]


@dataclass
class Proposal:
    placed: list[Placement] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)  # exports listed, not placed, and why

    def lines(self) -> list[str]:
        """What `kpi init` prints: each placement, what was not matched, and each export not placed."""
        out = []
        for p in self.placed:
            mapped = ", ".join(f"{c} ← {h!r} ({how})" for c, (h, how) in p.match.found.items())
            out.append(f"{p.export.shown} → table {p.table}: {mapped}")
            out += [f"  {line}" for line in p.comments]
            if not p.why:
                out.append("  read as it is: nothing to confirm")
        out += [f"not placed (not copied into data/): {line}" for line in self.unplaced]
        return out


def _values_line(found: Counter[str]) -> str:
    shown = ", ".join(f"{v!r} ({n} rows)" for v, n in found.most_common(SHOWN_VALUES))
    more = f" and {len(found) - SHOWN_VALUES} more" if len(found) > SHOWN_VALUES else ""
    return f"{shown}{more}"


def _blank(value: Any) -> bool:
    """No value: None, NaN, pandas' NA or NaT."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _texts(cells: pd.Series, *, text_only: bool = False) -> list[str]:
    """The non-empty cells of a column as text, stripped; `text_only`: only the cells that are text (a workbook's
    dates and a Parquet file's timestamps are typed, and never need a format)."""
    kept = (v for v in cells if isinstance(v, str) or not (text_only or _blank(v)))
    return [t for t in (cell_text(v).strip() for v in kept) if t]


def _place(export: Export, spec: TableSpec, match: ColumnMatch, department: str, copied: str | None) -> Placement:
    entry: dict[str, Any] = {}
    reasons: list[str] = []
    comments: list[str] = []
    if export.url is not None:
        entry["sql"] = {"url": export.url, "query": f"SELECT * FROM {export.table}"}
        reasons.append(f"table {export.table} of the database")
    elif copied is not None and (export.sheets > 1 or Path(copied).stem != spec.name):
        entry["file"] = copied
        if export.sheets > 1:
            entry["sheet"] = export.sheet
        reasons.append(f"the file {copied}" + (f", sheet {export.sheet}" if export.sheets > 1 else ""))
    columns = {c: h for c, (h, how) in match.found.items() if how not in EXACT or entry.get("sql")}
    if columns:
        reasons.append(f"{len(columns)} column(s) mapped")
    found: Counter[str] = Counter()
    if "department" in match.found:
        header = match.found["department"][0]
        found = Counter(_texts(export.frame[header]))
        comments.append(f"department values in {header!r}: {_values_line(found) or 'none'}")
        if department in found:
            comments.append(f"the rows of {department} are this department's")
        else:
            code = next(iter(found), "")
            if len(found) == 1 and not PLAIN_ID.fullmatch(code):
                columns["department"] = header
                entry["values"] = {"department": {code: department}}
                reasons.append(f"its one department value {code!r} read as {department}")
            else:
                # several values, or one that is a department id of its own (`cs-east`, `101`): whose rows they
                # are is for a person to say; a guess here would score another department's rows as this one's
                its_own = f"{code!r} is a department id of its own, so these rows are {code}'s; " if found else ""
                comments.append(
                    f"none of them is {department}: {its_own}if one is your department's, map it in "
                    f'tables.{spec.name}.values.department (e.g. {{"<your department\'s value>": {department}}}) '
                    f"and add department: {header!r} to its columns"
                )
    elif "department" in match.missing:
        comments.append(
            f"no header for department: map it in columns (and its codes in values), or, for an export of "
            f"{department} alone, write constants: {{department: {department}}}"
        )
    if columns:
        entry["columns"] = columns
    for column in spec.columns:
        if column.type in ("date", "timestamp") and column.name in match.found:
            header = match.found[column.name][0]
            pattern = DATE_TEXT if column.type == "date" else TIMESTAMP_TEXT
            odd = next((t for t in _texts(export.frame[header], text_only=True) if not pattern.match(t)), None)
            if odd is not None:
                shape = "YYYY-MM-DD" + (" HH:MM[:SS]" if column.type == "timestamp" else "")
                comments.append(
                    f"{column.name} ({header!r}) holds {odd!r}, which is not written {shape}; give the format of the "
                    'export\'s dates in date_format (every date column) or formats (one column), e.g. "%d.%m.%Y %H:%M"'
                )
        if column.type == "bool" and column.name in match.found:
            header = match.found[column.name][0]
            unread = Counter(t for t in _texts(export.frame[header]) if t not in BOOL_WORDS)
            if unread:
                comments.append(
                    f"{column.name} ({header!r}) holds {_values_line(unread)}, which are no yes/no words; map them "
                    f'in values, e.g. {column.name}: {{"<the value meaning yes>": true, "<the value meaning no>": false}}'
                )
    for name, headers in match.ambiguous.items():
        comments.append(f"ambiguous: {name} could be {' or '.join(repr(h) for h in headers)}; map one in columns")
    required = [c.name for c in spec.columns if not c.optional and c.name in match.missing and c.name != "department"]
    if required:
        comments.append(
            f"no header for the column(s) {', '.join(required)}; map them in columns (one that no indicator of the "
            "department reads, other than the key, may stay out: kpi validate notes it and goes on)"
        )
    if match.unused:
        comments.append(f"headers no column takes: {', '.join(repr(h) for h in match.unused)}")
    why = f"from {export.shown}: " + ", ".join(reasons) if entry else ""
    if entry and (required or match.ambiguous or "department" in match.missing):
        why += ", some columns still need a header (see the comments above it)"
    return Placement(spec.name, export, match, entry, why, comments, found)


def propose(exports: list[Export], template: Template, department: str) -> Proposal:
    """Place each export in the table its headers match best; list what is ambiguous or matches nothing."""
    proposal = Proposal()
    by_table: dict[str, list[tuple[Export, ColumnMatch]]] = {}
    for export in exports:
        matches = {name: match_columns(spec, export.headers) for name, spec in template.tables.items()}
        top = max(m.score for m in matches.values())
        if top < 2:
            proposal.unplaced.append(
                f"{export.shown}: its headers ({', '.join(export.headers[:8])}) match no table's columns "
                f"(at least two needed); write its tables.<table> entry yourself"
            )
            continue
        tied = [name for name, m in matches.items() if m.score == top]
        named = [name for name in tied if squeezed(export.stem) == squeezed(name)]
        if len(tied) > 1 and len(named) != 1:
            proposal.unplaced.append(
                f"{export.shown}: matches the tables {' and '.join(tied)} equally ({top} columns each); "
                "write its tables.<table> entry yourself"
            )
            continue
        name = named[0] if len(tied) > 1 else tied[0]
        by_table.setdefault(name, []).append((export, matches[name]))
    for name, found in by_table.items():
        if len(found) > 1:
            shown = " and ".join(e.shown for e, _ in found)
            proposal.unplaced.append(f"{shown}: all match table {name}; place one with tables.{name}")
            continue
        export, match = found[0]
        copied = export.path.name if export.path is not None else None
        proposal.placed.append(_place(export, template.tables[name], match, department, copied))
    order = list(template.tables)
    proposal.placed.sort(key=lambda p: order.index(p.table))
    return proposal


# -- writing the folder ---------------------------------------------------------------------------------
PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}


def _flow(value: Any) -> str:
    """A value on one line of YAML: a flow mapping of scalars, text plain when it is a plain word, else in double
    quotes (JSON's escapes are YAML's)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        plain = PLAIN.fullmatch(value) and value.lower() not in YAML_WORDS
        return value if plain else json.dumps(value, ensure_ascii=False)
    text = yamlfile.dump(value).rstrip("\n")
    return text.removesuffix("\n...").removesuffix("...").rstrip()


LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def one_line(text: str) -> str:
    """`text` for one comment line of a YAML file: every character a YAML reader (or a person's editor) would take
    for a line break written as its escape, so an export's header such as `统计\\n月份` cannot end the comment and
    add a line of its own (a key that changes a number)."""
    return text.translate(LINE_BREAKS)


def _company_text(root: Path, proposal: Proposal | None) -> str:
    head = (
        schema_line("company", root / "company.yaml", root)
        + "# The company file: what every department shares. Each params file in params/ names it\n"
        + "# (company: ../company.yaml) and adds its own id, name, weights and targets.\n"
        + f"# Step by step: {TUTORIAL}.\n"
        + "template: customer_service   # the packaged customer-service template (12 indicators)\n"
        + "data: data                   # the exports, relative to this file\n"
        + "timezone: Asia/Shanghai      # how times without an offset are read\n"
        + "calendar: CN                 # working days: CN, a country code such as US-NY or DE-BY, or weekdays\n"
        + "policy:\n"
        + "  step_rounding: floor       # only whole steps count (ceil: a started one counts; exact: proportional)\n"
        + "  on_empty: exclude          # an indicator without rows in a period is left out of the total\n"
    )
    if proposal is None or not proposal.placed and not proposal.unplaced:
        return head
    lines = []
    entries = [p for p in proposal.placed if p.entry]
    for p in proposal.placed:
        if not p.entry:
            copied = f" (data/{p.export.path.name})" if p.export.path is not None else ""
            lines.append(one_line(f"# {p.export.shown}: read as table {p.table} as it is{copied}"))
            lines += [
                one_line(f"#   {line}")
                for line in p.comments
                if not line.startswith(("department values", "the rows of"))
            ]
    for line in proposal.unplaced:
        lines.append(one_line(f"# not placed (not copied into data/): {line}"))
    if entries:
        lines.append("tables:                      # proposed by kpi init --from: check each, see suggested: below")
        for p in entries:
            lines += [one_line(f"  # {line}") for line in p.comments]
            lines.append(f"  {p.table}:")
            for key, value in p.entry.items():
                lines.append(f"    {key}: {_flow(value)}")
        lines.append("# Each line below names an entry kpi init proposed. kpi validate and kpi run refuse the")
        lines.append("# department until you have checked the entry and deleted its line here.")
        lines.append("suggested:")
        for p in entries:
            lines.append(f"  tables.{p.table}: {_flow(p.why)}")
    return head + "\n".join(lines) + "\n"


def _params_text(root: Path, path: Path, department: str, name: str, lang: str) -> str:
    example = yamlfile.load(demo_params_text(PROFILES[1]))  # cs-north: the seed's numbers, no observation, no override
    indicators = "".join(f"  {iid}: {_flow(spec)}\n" for iid, spec in example["indicators"].items())
    return (
        schema_line("params", path, root)
        + "# One department's params: its id, name, and the weight and target of each indicator.\n"
        + "# The numbers below are the seed's example: set your department's own (weights sum to 100).\n"
        + f"# Step by step: {TUTORIAL}.\n"
        + "company: ../company.yaml\n"
        + f"department: {department}\n"
        + f"name: {_flow(name)}\n"
        + f"lang: {lang}                     # the reports' language: zh or en\n"
        + "# review_date: 2026-12-20    # the annual appraisal day (the surveys are collected the week before)\n"
        + "indicators:\n"
        + indicators
    )


README = """# {name}

A company folder for kpi (quantified department performance appraisal), written by `kpi init`.

- `company.yaml`: what every department shares (template, data folder, time zone, working days).
- `params/{department}.yaml`: one department's weights and targets; add a file per department.
- `data/`: the exports the indicators are computed from (one file per table).
- `schemas/`: JSON Schemas that let an editor complete and check the YAML keys.

Next: follow {tutorial}. In short, inside this folder:

    kpi validate params/{department}.yaml       # names every missing table, column or value
    kpi run --period 2026-Q4 --all           # the reports go to outputs/2026-Q4/
    kpi sign outputs/2026-Q4/{department} --role manager --name "…"
"""


def relocated_url(url: str, root: Path) -> str:
    """A SQLite URL with a path relative to the working directory, made relative to the company folder `root`
    (where the company file's URLs resolve); any other URL as it is."""
    from sqlalchemy.engine import make_url

    if "${" in url:
        return url
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or Path(database).is_absolute():
        return url
    relative = Path(os.path.relpath(Path(database).resolve(), root.resolve())).as_posix()
    return f"{url.split(':///', 1)[0]}:///{relative}"


def refuse_not_empty(folder: Path) -> None:
    """`UsageError` unless `folder` is new or an empty folder."""
    if folder.is_symlink() and not folder.exists():
        raise UsageError(f"{folder}: a link to {os.readlink(folder)}, which does not exist; give a new or empty folder")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: a file, not a folder; kpi init writes a new company folder")
    if folder.is_dir():
        held = sorted(p.name for p in folder.iterdir())
        if held:
            shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
            raise UsageError(f"{folder}: not empty ({shown}); kpi init writes only into a new or empty folder")


def init_company(
    folder: Path,
    *,
    department: str = "my-department",
    name: str = "",
    lang: str = "zh",
    exports: tuple[str, ...] | list[str] = (),
) -> tuple[list[Path], Proposal | None]:
    """Write a new company folder (see the module docstring); return the files written and what --from proposed."""
    check_id(department, "--department", "folders")
    if lang not in ("zh", "en"):
        raise UsageError(f"--lang {lang!r}: expected zh or en")
    refuse_not_empty(folder)
    proposal = None
    if exports:
        read = [export for text in exports for export in read_export(text)]
        files = list(dict.fromkeys(e.path for e in read if e.path is not None))  # one per file, its sheets together
        same = Counter(path.resolve() for path in files)
        again = [path for path in files if same[path.resolve()] > 1]
        if again:
            raise UsageError(f"--from: {again[0]} and {again[1]} are one file; give each export once")
        names = Counter(path.name for path in files)  # as copied into data/: the name given, a link's own
        twice = [n for n, count in names.items() if count > 1]
        if twice:
            raise UsageError(f"--from: two exports named {twice[0]}; data/ keeps one file of each name, rename one")
        proposal = propose(read, load_template(), department)
    root = folder
    for placed in proposal.placed if proposal else []:
        if "sql" in placed.entry:
            placed.entry["sql"]["url"] = relocated_url(placed.entry["sql"]["url"], root)
    params = root / "params" / f"{department}.yaml"
    texts = {
        **schema_files(root),
        root / "company.yaml": _company_text(root, proposal),
        params: _params_text(root, params, department, name or department, lang),
        root / "README.md": README.format(name=name or department, department=department, tutorial=TUTORIAL),
    }
    (root / "data").mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in texts.items():
        write_atomic(path, text)
        written.append(path)
    copied = {e.path for p in (proposal.placed if proposal else []) for e in [p.export] if e.path is not None}
    for source in sorted(copied):
        target = root / "data" / source.name
        shutil.copyfile(source, target)
        written.append(target)
    return written, proposal


__all__ = ["ColumnMatch", "Export", "Proposal", "init_company", "match_columns", "propose", "read_export", "squeezed"]
