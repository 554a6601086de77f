"""The period's dashboard in `index.html`: ranking bars, a score heat map, change since the previous period, a year's parts.

What the page shows of the period itself comes from its department folders
(`summary.department_rows`). What it shows of **other periods** comes from the folders
beside it in the outputs folder, read by `read_sources` into a `Sources` record:

- the previous period of the same kind (`Period.previous`): each department's total, for
  the change column, and whether its `index.html` exists (linked);
- for a quarter, half or month, its year: whether the year's `index.html` exists (linked);
- for a year, the parts of that year of the first kind that has a folder there (quarters,
  else halves, else months): each department's total in each part, shown beside the
  year's total, and each part's index (linked). Every part of that kind gets a column,
  "—" where its folder or the department's result is absent.

Only what `kpi run` wrote counts, as in `history`: a `result.json` must read as a
`DepartmentResult` naming that department (its folder) and that period; one that does not
is left out ("—"), never an error of this page. The dashboard reads each such file once, as
bytes, so that the value it shows and the sha256 it records are of the same file;
`history.previous_results` gives the same values (a test checks it) but not the bytes.

**Verify stays honest.** `kpi verify` renders the index again and compares bytes
(`audit._check_rendering`), but the other periods move on by themselves: 2026-Q3 may be run
again after 2026-Q4's index was written. So the index carries the `Sources` it was rendered
from, as JSON in `<script type="application/json" id="kpi-sources">` (data, never run; the
period manifest's sha256 of `index.html` covers it), and verify renders again from that
record, not from the folders as they are now. Then `check_sources` compares the record with
the folders now:

- a recorded result whose file still has the recorded sha256 must give the recorded total
  and grade, else the record was edited: a **difference** (verify fails);
- a file that changed, appeared or went away since, or an index that appeared or went,
  is a **note** (the index shows the other period as it was when written; `kpi run` for
  this period brings it up to date), never a failure;
- a record that is not as `read_sources` writes it, or names other periods than this
  period's previous / year / parts, is a difference.

A hand-edited number, link or style on the page differs from the rendering of its own
record; a removed record makes the page differ from one rendered with a record. Recording
in the page rather than in the period manifest keeps one writer (`reports.write_index`)
for both, so no other run can slip between writing the page and recording what it used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..base.errors import AuditError, KpiError, shorten
from ..base.files import sha256_bytes
from ..base.layout import INDEX, RESULT, SCORECARD, DepartmentFolder, reader_html
from ..base.messages import say
from ..base.numbers import plain, round2
from ..inputs.period import Period
from ..scoring.result import DepartmentResult
from .summary import IndexRow

SCHEMA = 1
SOURCES_ID = "kpi-sources"
ROLES = ("previous", "year", "part")
PART_KINDS = ("quarter", "half", "month")
SHA256 = re.compile(r"[0-9a-f]{64}")
_RECORD = re.compile(
    rf'<script type="application/json" id="{SOURCES_ID}">(?P<json>.*?)</script>', re.DOTALL | re.IGNORECASE
)

# The heat map's colour bands of an indicator score (100 = the target met exactly; bonus goes higher), lowest first.
BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(0), "h0"),
    (Decimal(60), "h60"),
    (Decimal(75), "h75"),
    (Decimal(90), "h90"),
    (Decimal(100), "h100"),
)


# -- what the page used of other periods -----------------------------------------------------------
@dataclass(frozen=True)
class Seen:
    """One department's result in another period as the page used it: total, grade, and its file's sha256."""

    total: Decimal | None
    grade: str | None
    sha256: str


@dataclass(frozen=True)
class Elsewhere:
    """Another period's folder as the page saw it: its role, whether its index exists, each department's result."""

    period: Period
    role: str
    index: bool
    results: Mapping[str, Seen] = field(default_factory=dict)

    def total(self, department: str) -> Decimal | None:
        seen = self.results.get(department)
        return seen.total if seen else None


@dataclass(frozen=True)
class Sources:
    """Everything the index of `period` shows of other periods (see the module docstring)."""

    period: Period
    others: tuple[Elsewhere, ...] = ()

    def _of(self, role: str) -> tuple[Elsewhere, ...]:
        return tuple(o for o in self.others if o.role == role)

    @property
    def previous(self) -> Elsewhere | None:
        return next(iter(self._of("previous")), None)

    @property
    def year(self) -> Elsewhere | None:
        return next(iter(self._of("year")), None)

    @property
    def parts(self) -> tuple[Elsewhere, ...]:
        return self._of("part")

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "period": str(self.period),
            "others": [
                {
                    "period": str(o.period),
                    "role": o.role,
                    "index": o.index,
                    "results": {
                        d: {"total": None if s.total is None else str(s.total), "grade": s.grade, "sha256": s.sha256}
                        for d, s in sorted(o.results.items())
                    },
                }
                for o in self.others
            ],
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> Sources:
        """The record as `to_json` writes it; `AuditError` naming `where` and the field otherwise."""
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA or not isinstance(data.get("others"), list):
            raise AuditError(f"{where}: not a record of other periods as kpi run writes it (schema {SCHEMA}, others)")
        period = _period(data.get("period"), f"{where}: period")
        others = []
        for n, item in enumerate(data["others"], start=1):
            at = f"{where}: others[{n}]"
            if (
                not isinstance(item, Mapping)
                or item.get("role") not in ROLES
                or not isinstance(item.get("index"), bool)
            ):
                raise AuditError(f"{at}: expected role ({', '.join(ROLES)}), index (true/false) and results")
            results = item.get("results")
            if not isinstance(results, Mapping):
                raise AuditError(f"{at}: results is not an object")
            others.append(
                Elsewhere(
                    _period(item.get("period"), f"{at}.period"),
                    item["role"],
                    item["index"],
                    {str(d): _seen(s, f"{at}.results.{shorten(d)}") for d, s in results.items()},
                )
            )
        return cls(period, tuple(others))


def _period(value: Any, at: str) -> Period:
    try:
        if not isinstance(value, str):
            raise AuditError("")
        period = Period.parse(value)
    except KpiError:
        raise AuditError(f"{at} is {shorten(repr(value))}; expected a period such as 2026-Q3") from None
    if period.text != value:
        raise AuditError(f"{at} is {shorten(repr(value))}; expected a period such as 2026-Q3")
    return period


def _seen(value: Any, at: str) -> Seen:
    if not isinstance(value, Mapping):
        raise AuditError(f"{at}: not an object")
    total, grade, sha = value.get("total"), value.get("grade"), value.get("sha256")
    if not isinstance(sha, str) or not SHA256.fullmatch(sha):
        raise AuditError(f"{at}.sha256 is {shorten(repr(sha))}; expected 64 hex digits")
    if grade is not None and not isinstance(grade, str):
        raise AuditError(f"{at}.grade is {shorten(repr(grade))}; expected text or null")
    if total is None:
        return Seen(None, grade, sha)
    try:
        if not isinstance(total, str):
            raise ValueError
        number = Decimal(total)
        if not number.is_finite() or str(number) != total:
            raise ValueError
    except (ArithmeticError, ValueError):
        raise AuditError(f"{at}.total is {shorten(repr(total))}; expected a decimal number as text, or null") from None
    return Seen(number, grade, sha)


def parts_of(year: Period, kind: str) -> tuple[Period, ...]:
    """The periods of `kind` ("quarter", "half", "month") that tile `year`, in order."""
    y = f"{year.start.year:04d}"
    names = {
        "quarter": [f"{y}-Q{q}" for q in range(1, 5)],
        "half": [f"{y}-H1", f"{y}-H2"],
        "month": [f"{y}-{m:02d}" for m in range(1, 13)],
    }[kind]
    return tuple(Period.parse(n) for n in names)


def expected_periods(period: Period, part_kind: str | None) -> list[tuple[str, Period]]:
    """(role, period) of every other period the index of `period` looks at, in the page's order."""
    found: list[tuple[str, Period]] = []
    try:
        found.append(("previous", period.previous()))
    except KpiError:
        pass  # before the first year periods can name
    if period.kind != "year":
        found.append(("year", Period.parse(f"{period.start.year:04d}")))
    elif part_kind is not None:
        found.extend(("part", p) for p in parts_of(period, part_kind))
    return found


def read_sources(period_dir: Path, period: Period) -> Sources:
    """What the index of `period` shows of the other period folders beside `period_dir`, as they are now."""
    outputs = period_dir.parent
    kind = None
    if period.kind == "year":
        kind = next((k for k in PART_KINDS if any((outputs / str(p)).is_dir() for p in parts_of(period, k))), None)
    others = []
    for role, other in expected_periods(period, kind):
        folder = outputs / str(other)
        results = {} if role == "year" else read_results(folder, other)
        others.append(Elsewhere(other, role, (folder / INDEX).is_file(), results))
    return Sources(period, tuple(others))


def read_results(folder: Path, period: Period) -> dict[str, Seen]:
    """Each department's result in the period folder `folder` (by department id); unreadable or foreign ones left out."""
    found: dict[str, Seen] = {}
    for path in sorted(folder.glob(f"*/{RESULT}")) if folder.is_dir() else ():
        department = path.parent.name
        if department.startswith("."):
            continue  # a staging folder or a run being put away
        try:
            data = path.read_bytes()
            result = DepartmentResult.from_json(json.loads(data), str(path))
        except (OSError, ValueError, RecursionError, KpiError):
            continue
        if result.department == department and result.period == period:
            found[department] = Seen(result.total, result.grade, sha256_bytes(data))
    return found


# -- the record in the page, and verify's look at it -------------------------------------------
def recorded_sources(page: str, where: str) -> Sources | None:
    """The record of other periods an index page carries; None when it has none; `AuditError` when it is damaged."""
    match = _RECORD.search(page)
    if match is None:
        return None
    try:
        data = json.loads(match["json"])
    except (ValueError, RecursionError) as exc:
        raise AuditError(f"{where}: its record of other periods is not JSON ({shorten(exc)})") from None
    return Sources.from_json(data, f"{where}: record of other periods")


def check_sources(recorded: Sources, now: Sources, period: Period, where: Path) -> tuple[list[str], list[str]]:
    """(differences, notes): the record an index carries against the other period folders as they are now."""
    differences: list[str] = []
    notes: list[str] = []
    if recorded.period != period:
        differences.append(f"{where}: its record of other periods is for {recorded.period}, not {period}")
        return differences, notes
    kinds = {o.period.kind for o in recorded.parts}
    wanted = expected_periods(period, next(iter(kinds)) if len(kinds) == 1 else None)
    found = [(o.role, o.period) for o in recorded.others]
    if found != wanted:
        listed = ", ".join(f"{r} {p}" for r, p in found) or "(none)"
        differences.append(
            f"{where}: its record of other periods lists {listed}; "
            f"period {period} looks at {', '.join(f'{r} {p}' for r, p in wanted) or '(none)'}"
        )
        return differences, notes
    outputs = where.parent.parent
    live = {(o.role, o.period): o for o in now.others}
    for other in recorded.others:
        current = live.get((other.role, other.period))
        folder = outputs / str(other.period)
        if current is None:  # the index now looks at another kind of parts (a quarter folder of the year appeared)
            notes.append(f"{where}: shows {other.period}, but the outputs folder now has other periods of the year")
            continue
        if other.index != current.index:
            state = "now exists" if current.index else "is gone"
            notes.append(f"{where}: {folder / INDEX} {state} since the page was written")
        for department in sorted(set(other.results) | set(current.results)):
            was, is_ = other.results.get(department), current.results.get(department)
            path = folder / department / RESULT
            if was is not None and is_ is not None and was.sha256 == is_.sha256:
                if (was.total, was.grade) != (is_.total, is_.grade):
                    differences.append(
                        f"{where}: records {other.period} {department} total {plain(was.total, 2)} grade {was.grade}, "
                        f"but {path} (unchanged since: same sha256) gives {plain(is_.total, 2)} {is_.grade}"
                    )
            elif was != is_:
                then = "no result" if was is None else f"total {plain(was.total, 2)}"
                since = "is gone or unreadable" if is_ is None else f"gives total {plain(is_.total, 2)}"
                notes.append(
                    f"{where}: shows {other.period} {department} as it was when the page was written ({then}); "
                    f"{path} {since} now"
                )
    seen = {(o.role, o.period) for o in recorded.others}
    for other in now.others:
        if (other.role, other.period) not in seen and (other.results or other.index):
            notes.append(f"{where}: {outputs / str(other.period)} is there now, and was not when the page was written")
    if notes:
        notes.append(f"{where}: run `kpi run --period {period}` again to show the other periods as they are now")
    return differences, notes


# -- what the page shows -----------------------------------------------------------------------
def band(score: Decimal | None) -> str:
    """The heat map's colour class of an indicator score ("h-none" when it has none)."""
    if score is None:
        return "h-none"
    return next((name for low, name in reversed(BANDS) if score >= low), BANDS[0][1])


def change(total: Decimal | None, before: Decimal | None) -> Decimal | None:
    """`total` minus the previous period's total, half-up to 2 decimals as the page shows it; None when either is missing.

    Totals are already whole cents (`scoring.weighted_total`), so the rounding changes nothing
    there; it keeps a total from elsewhere (a hand-made record) from showing more decimals.
    """
    if total is None or before is None:
        return None
    moved = round2(total - before)
    return moved if moved != 0 else Decimal("0.00")  # never -0.00


def change_text(moved: Decimal | None) -> str:
    """A change as the page shows it: +1.20, -0.50, 0.00, or — when there is nothing to compare with."""
    if moved is None:
        return "—"
    text = plain(moved, 2)
    return f"+{text}" if moved > 0 else text


def trend(moved: Decimal | None) -> str:
    """The change's class on the page (its colour): up, down, same, or none."""
    if moved is None:
        return "none"
    return "up" if moved > 0 else "down" if moved < 0 else "same"


def bars(rows: Sequence[IndexRow]) -> list[dict[str, Any]]:
    """The ranking as bars: one per department, its width the total's share of the axis (0 to 100, or the top total)."""
    totals = [r.total for r in rows if r.total is not None]
    axis = max([Decimal(100), *totals])
    shown = []
    for r in rows:
        width = "0" if r.total is None else plain(r.total * 100 / axis, 2)
        shown.append(
            {
                "ok": r.result is not None,
                "rank": r.rank,
                "name": r.name or r.department,
                "department": r.department,
                "lang": r.lang,
                "total": plain(r.total, 2),
                "grade": r.grade or "",
                "label": r.grade_label,  # in the department's language
                "width": f"{width}%",
            }
        )
    return shown


def heat_map(period_dir: Path, rows: Sequence[IndexRow], ids: Sequence[str], lang: str = "zh") -> dict[str, Any]:
    """Department × indicator scores: each cell the score as text, a colour band, a link to its group report's section.

    The names of the indicators under it are in `lang`, the page's (the company's) language.
    """
    titles: dict[str, str] = {}  # each id's name in the first template that has it, in the page's language
    for r in rows:
        for iid in r.names:
            name = r.name_of(iid, lang)
            if name:
                titles.setdefault(iid, name)
    shown = []
    for r in rows:
        cells = []
        if r.result is not None:
            by_id = {i.id: i for i in r.result.indicators}
            folder = DepartmentFolder(period_dir / r.department)
            for iid in ids:
                item = by_id.get(iid)
                if item is None:
                    cells.append({"text": "", "band": "h-absent", "href": ""})
                    continue
                report = folder.reader_html(item.group)
                href = f"{r.department}/{reader_html(item.group)}#{iid}" if report.is_file() else ""
                cells.append({"text": plain(item.score, 2), "band": band(item.score), "href": href})
        scorecard = DepartmentFolder(period_dir / r.department).reader_html(SCORECARD)
        href = f"{r.department}/{reader_html(SCORECARD)}" if scorecard.is_file() else ""
        shown.append({"ok": r.result is not None, "name": r.name or r.department, "href": href, "cells": cells})
    return {
        "ids": [{"id": iid, "title": titles.get(iid, "")} for iid in ids],
        "rows": shown,
        "bands": [{"band": name, "text": _band_text(n)} for n, (_, name) in enumerate(BANDS)],
    }


def _band_text(n: int) -> str:
    low = BANDS[n][0]
    if n + 1 == len(BANDS):
        return f"≥ {low}"
    return f"{low}–{BANDS[n + 1][0]}" if n else f"< {BANDS[n + 1][0]}"


def period_links(sources: Sources, lang: str = "zh") -> list[dict[str, str]]:
    """Links to the other periods' indexes that exist: the previous period, the year, the year's parts."""
    links = []
    for other in sources.others:
        if not other.index:
            continue
        text = str(other.period)
        if other.role == "previous":
            text = say("index.nav.previous", lang, period=text)
        elif other.role == "year":
            text = say("index.nav.year", lang, period=text)
        links.append({"href": f"../{other.period}/{INDEX}", "text": text})
    return links
