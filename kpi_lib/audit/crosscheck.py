"""The period's summary files checked value by value against the departments' `result.json`.

`index.html`, `summary.csv` and `summary.xlsx` are written from the department
folders; hashes in the period manifest only prove they were not changed after
that manifest was written, and whoever edits a file can also re-hash it. So
`kpi verify` reads each summary back and compares it with what the departments'
own `result.json` files say: the list of departments in rank order, each one's
status, rank, total and grade, and (in the CSV and xlsx) every indicator's
score. Totals and scores are compared to the cent, as the summaries show them.

A CSV text cell may carry a leading `'` (the spreadsheet-injection guard); it
is dropped before comparing.

`summary.xlsx` and `index.html` speak the company's language: their headers and status
words are read in either language of the catalog (`summary.*`, `index.*`), `summary.csv`
by its machine column names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from ..base.errors import shorten
from ..base.messages import LANGS, say
from ..base.numbers import round2
from ..reports.exports import print_setup

INJECTION = ("=", "+", "-", "@", "\t", "\r")
KEYS = ("rank", "department", "status", "total", "grade")


def _header_words() -> dict[str, str]:
    """summary.xlsx's header words in either language (`summary.<key>`) → the key they name."""
    return {say(f"summary.{key}", lang).lower(): key for key in KEYS for lang in LANGS}


def _index_words() -> dict[str, str]:
    """index.html's ranking headers in either language → the word `check_index` reads (rank, id, department, total, grade)."""
    words = {"index.rank": "rank", "index.id": "id", "label.department": "department", "label.total": "total"}
    found = {say(key, lang).lower(): word for key, word in words.items() for lang in LANGS}
    return found | {say("label.grade", lang).lower(): "grade" for lang in LANGS}


def _status(text: str) -> str:
    """A status as a summary shows it (`ok`, `完成` …) → the status it names."""
    for status in ("ok", "failed"):
        if text in (say(f"summary.status.{status}", lang) for lang in LANGS):
            return status
    return text


@dataclass
class Expected:
    """One department as its folder says: from `result.json` (ok), `error.txt` (failed), or unreadable (unknown)."""

    department: str
    status: str
    total: Any = None
    grade: Any = None
    scores: dict[str, Any] = field(default_factory=dict)
    rank: int | None = None


def ranked(rows: Sequence[Expected]) -> list[Expected]:
    """The order the reports use: ok departments by total (highest first, then id), ranked 1…n; then the others by id."""

    def total(row: Expected) -> float:
        return float(row.total) if isinstance(row.total, (int, float)) and not isinstance(row.total, bool) else -1.0

    ok = sorted((r for r in rows if r.status == "ok"), key=lambda r: (-total(r), r.department))
    for rank, row in enumerate(ok, start=1):
        row.rank = rank
    return ok + sorted((r for r in rows if r.status != "ok"), key=lambda r: r.department)


def _text(cell: Any) -> str:
    text = "" if cell is None else str(cell).strip()
    if text.startswith("'") and text[1:2] and text[1] in INJECTION:
        text = text[1:]
    return text


def _cents(cell: Any) -> Decimal | None:
    text = _text(cell)
    if text == "":
        return None
    try:
        return round2(Decimal(text))
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


def _same_number(cell: Any, expected: Any) -> bool:
    found = _cents(cell)
    if expected is None:
        return found is None
    if found is None or found.is_nan():
        return False
    try:
        return found == round2(Decimal(str(expected)))
    except (InvalidOperation, ValueError):
        return False


class _Compare:
    """Differences of one summary file, each naming the file, the department and the value."""

    def __init__(self, path: Path, expected: Sequence[Expected]) -> None:
        self.path = path
        self.expected = list(expected)
        self.lines: list[str] = []
        self.unknown = any(r.status == "unknown" for r in expected)

    def order(self, found: Sequence[str]) -> bool:
        want = [r.department for r in self.expected]
        if list(found) != want:
            self.lines.append(
                f"{self.path}: lists departments {', '.join(found) or '(none)'}; their folders' result.json give {', '.join(want) or '(none)'}"
            )
            return False
        return True

    def value(self, department: str, what: str, found: Any, expected: Any, number: bool = False) -> None:
        same = _same_number(found, expected) if number else _text(found) == ("" if expected is None else str(expected))
        if same:
            return
        row = next((r for r in self.expected if r.department == department), None)
        if row is not None and row.status == "failed":
            source = f"{department} failed (error.txt, no result.json), so its {what} is {'(empty)' if expected is None else expected}"
        else:
            source = f"{department}/result.json gives {'(none)' if expected is None else expected}"
        self.lines.append(f"{self.path}: {department} {what} is {shorten(_text(found)) or '(empty)'}, but {source}")

    def row(self, department: str, cells: Mapping[str, Any], ids: Sequence[str]) -> None:
        """Compare one row's cells (by column key) with the department's expected values."""
        row = next(r for r in self.expected if r.department == department)
        if row.status == "unknown":
            return  # its result.json is unreadable: named elsewhere
        if "status" in cells:
            self.value(department, "status", _status(_text(cells["status"])), row.status)
        if "rank" in cells and not self.unknown:
            self.value(department, "rank", cells["rank"], row.rank)
        self.value(department, "total", cells.get("total"), row.total if row.status == "ok" else None, number=True)
        self.value(department, "grade", cells.get("grade"), row.grade if row.status == "ok" else None)
        for iid in ids:
            if iid in cells or row.scores.get(iid) is not None:
                self.value(department, f"{iid} score", cells.get(iid), row.scores.get(iid), number=True)


def _ids(expected: Sequence[Expected]) -> list[str]:
    return sorted({iid for r in expected for iid in r.scores})


def _keyed(header: Sequence[Any], ids: Sequence[str]) -> dict[int, str]:
    """Column position → key: rank, department, status, total, grade (the header's last word) or an indicator id
    (the header's first word: summary.xlsx names it, `CS04 客户服务信息传递`)."""
    keys: dict[int, str] = {}
    for position, cell in enumerate(header):
        text = _text(cell)
        first = text.split()[0] if text.split() else ""
        if first in ids and first not in keys.values():
            keys[position] = first
            continue
        word = _header_words().get(text.lower()) or (text.split()[-1].lower() if text.split() else "")
        if word in KEYS and word not in keys.values():
            keys[position] = word
    return keys


def check_table(path: Path, rows: Sequence[Sequence[Any]], expected: Sequence[Expected]) -> list[str]:
    """A summary table (header row, then one row per department) against the expected departments."""
    compare = _Compare(path, expected)
    if not rows:
        return [f"{path}: empty; expected a header and one row per department"]
    ids = _ids(expected)
    keys = _keyed(rows[0], ids)
    missing = [k for k in ("department", "total", "grade") if k not in keys.values()]
    if missing:
        return [f"{path}: no column {', '.join(missing)} in the header; cannot check it against result.json"]
    by_key = [
        {keys[i]: cell for i, cell in enumerate(row) if i in keys} for row in rows[1:] if any(_text(c) for c in row)
    ]
    if compare.order([_text(cells.get("department")) for cells in by_key]):
        for cells in by_key:
            compare.row(_text(cells["department"]), cells, ids)
    return compare.lines


def check_csv(path: Path, expected: Sequence[Expected]) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [f"{path}: cannot be read as UTF-8 CSV ({exc}); cannot check it against result.json"]
    return check_table(path, rows, expected)


def check_xlsx(path: Path, expected: Sequence[Expected]) -> list[str]:
    try:
        book = load_workbook(path, read_only=True, data_only=False)
        rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is a difference, never a crash
        return [
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc}); cannot check it against result.json"
        ]
    return check_table(path, rows, expected)


def same_sheets(path: Path, fresh: bytes) -> list[str]:
    """Differences between a workbook and a fresh rendering: sheets, every cell's value, type and number format, print setup, conditional formats."""
    try:
        found, wanted = load_workbook(path), load_workbook(io.BytesIO(fresh))
    except Exception as exc:  # noqa: BLE001 - an unreadable workbook is a difference
        return [f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})"]
    if found.sheetnames != wanted.sheetnames:
        return [f"{path}: sheets {found.sheetnames}, expected {wanted.sheetnames}"]
    for name in wanted.sheetnames:
        a, b = found[name], wanted[name]
        if (a.max_row, a.max_column) != (b.max_row, b.max_column):
            return [f"{path}: sheet {name!r} spans {a.dimensions}, expected {b.dimensions}"]
        for row_a, row_b in zip(a.iter_rows(), b.iter_rows(), strict=True):
            for x, y in zip(row_a, row_b, strict=True):
                if (x.value, x.data_type, x.number_format) != (y.value, y.data_type, y.number_format):
                    return [
                        f"{path}!{x.coordinate}: shows {x.value!r} as {x.number_format!r}, expected {y.value!r} as {y.number_format!r} (rendered again from the departments' results)"
                    ]
        if print_setup(a) != print_setup(b):
            return [
                f"{path}: sheet {name!r} prints as {print_setup(a)}, expected {print_setup(b)} (paper, orientation, fit, repeated rows)"
            ]
        if len(list(a.conditional_formatting)) != len(list(b.conditional_formatting)) or a.sheet_state != b.sheet_state:
            return [f"{path}: sheet {name!r} has conditional formats or a visibility the toolkit never writes"]
    return []


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts (a cell spanning n columns counts n times).

    `table[i]` numbers the table row `i` belongs to (the page's n-th `<table>`), so that a
    check reads one table's rows and not those of the tables after it.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.table: list[int] = []
        self.tables = 0
        self.cell: list[str] | None = None
        self.span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows.append([])
            self.table.append(self.tables)
        elif tag in ("td", "th") and self.rows:
            self.cell = []
            try:
                self.span = max(1, min(50, int(dict(attrs).get("colspan") or 1)))
            except ValueError:
                self.span = 1
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.rows:
            self.rows[-1].extend([" ".join("".join(self.cell).split())] * self.span)
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _index_word(cell: str) -> str:
    """What a ranking header cell names: its whole text in either language, else its last word (`Weighted total`)."""
    return _index_words().get(cell.strip().lower()) or (cell.split()[-1].lower() if cell.split() else "")


def check_index(path: Path, expected: Sequence[Expected]) -> list[str]:
    """`index.html`'s ranking table: ids in order, rank, total and grade (the grade cell starts with the grade).

    Only the rows of the table whose header names Rank, Id, Total and Grade: the page's other
    tables (the heat map of scores) are not a ranking.
    """
    try:
        parser = _Tables()
        parser.feed(path.read_text(encoding="utf-8"))
        parser.close()
    except Exception as exc:  # noqa: BLE001 - an unreadable page is a difference, never a crash
        return [
            f"{path}: cannot be read as UTF-8 HTML ({type(exc).__name__}: {exc}); cannot check it against result.json"
        ]
    rows = parser.rows
    start = next(
        (i for i, row in enumerate(rows) if {"rank", "id", "total", "grade"} <= {_index_word(c) for c in row}),
        None,
    )
    if start is None:
        return [f"{path}: no ranking table (columns Rank, Id, Total, Grade); cannot check it against result.json"]
    header = [_index_word(c) for c in rows[start]]
    header = ["department" if c == "id" else "name" if c == "department" else c for c in header]
    table = [
        header,
        *[row for n, row in enumerate(rows[start + 1 :], start + 1) if row and parser.table[n] == parser.table[start]],
    ]
    compare = _Compare(path, expected)
    keys = {i: c for i, c in enumerate(header) if c in ("rank", "department", "total", "grade")}
    cells = [{keys[i]: cell for i, cell in enumerate(row) if i in keys} for row in table[1:]]
    if not compare.order([c.get("department", "") for c in cells]):
        return compare.lines
    for found in cells:
        department = found["department"]
        row = next(r for r in expected if r.department == department)
        if row.status == "unknown":
            continue
        if row.status == "ok":
            if not compare.unknown:
                compare.value(department, "rank", found.get("rank"), row.rank)
            compare.value(department, "total", found.get("total"), row.total, number=True)
            grade = (found.get("grade") or "").split()
            compare.value(department, "grade", grade[0] if grade else "", row.grade)
        elif not any(say("index.failed", lang).lower() in (found.get("total") or "").lower() for lang in LANGS):
            compare.lines.append(
                f"{path}: {department} shows total {found.get('total')!r}, but the department failed (no result.json)"
            )
    return compare.lines
