"""Periods that stay consistent: which period folders show another period as it was, and what brings them up to date.

A period's outputs read other period folders of the same outputs folder in two places:

- each department's **scorecard** shows its trend and its change since the previous
  period: the `result.json` of its earlier periods of the same kind, recorded by sha256 in
  its manifest's fingerprint (`history` part, `history.earlier_results`);
- the period's **index** shows the change since the previous period and, for a year, the
  totals of its quarters (or halves, or months); it carries a record of what it used
  (`dashboard.Sources`).

A run of one period can change what those read: run 2026-Q4, then 2026-Q3, and Q4's pages
still say "2026-Q3 has no results". `out_of_date(outputs, changed)` finds every period
folder that read one of the `changed` periods and shows it as it was: the later periods of
the same kind (their trend and change since) and the years whose index shows the changed
period as a part. It compares only what each recorded of the changed periods, so a page
that is stale for another reason is not blamed on this run.

- `kpi run` ends by naming them (`Stale.line`) with the command that brings each up to date:
  `kpi run --period 2026-Q4 --all`, or the same run again with `--and-later`;
- `kpi run --period 2026-Q3 --and-later` runs 2026-Q3, then each later period of the same
  kind that has a folder in the outputs folder, oldest first, then each year folder whose
  index the runs left out of date (`and_later`, `years_to_refresh`), for the same
  departments. Departments whose fingerprint did not change are reused as always, so a
  later period costs only what actually moved;
- `kpi verify` of such a period notes it (`trend_notes` for the scorecards; the index's own
  notes come from `dashboard.check_sources`): a note, never a difference, since the pages
  are exactly what their run wrote.

A **signed** department keeps the trend it was signed with: the later run reuses it and
says why (see `incremental`), and the lines here name it as signed rather than asking for
a run that would not change it (re-running it needs `--force`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.errors import AuditError, KpiError
from ..base.files import read_json
from ..base.layout import INDEX, MANIFEST, RESULT
from ..inputs.period import Period
from ..reports.dashboard import read_results, read_sources, recorded_sources
from ..reports.history import earlier_results
from .signoff import is_signed


@dataclass(frozen=True)
class Stale:
    """A period folder that shows one of the changed periods as it was: its index, and which departments' trends."""

    period: Period
    index: bool = False
    departments: tuple[str, ...] = ()
    signed: tuple[str, ...] = ()
    seen: tuple[Period, ...] = field(default_factory=tuple)  # the changed periods it shows as they were

    @property
    def needs_run(self) -> bool:
        """Whether running this period again would bring something up to date (a signed trend stays as signed)."""
        return self.index or bool(self.departments)

    def what(self) -> str:
        """`its index and the scorecards of cs-east, cs-north`."""
        parts = []
        if self.index:
            parts.append(f"{INDEX}")
        if self.departments:
            parts.append(f"the scorecards of {', '.join(self.departments)}")
        return " and ".join(parts)


def period_folders(outputs: Path) -> list[tuple[Period, Path]]:
    """(period, folder) of every folder of `outputs` named exactly as a period and written by `kpi run` (a manifest)."""
    found = []
    for folder in sorted(outputs.iterdir()) if outputs.is_dir() else ():
        try:
            period = Period.parse(folder.name)
        except KpiError:
            continue
        if period.text == folder.name and folder.is_dir() and not folder.is_symlink() and (folder / MANIFEST).is_file():
            found.append((period, folder))
    return sorted(found, key=lambda pair: (pair[0].start, pair[0].end))


def later_periods(outputs: Path, period: Period) -> list[Period]:
    """The periods of `period`'s kind after it that have a folder in `outputs`, oldest first."""
    return [p for p, _ in period_folders(outputs) if p.kind == period.kind and p.start > period.end]


def _recorded_history(folder: Path) -> Mapping[str, Any] | None:
    """The earlier periods' result sha256s a department's run recorded; None when it recorded none (or failed)."""
    try:
        manifest = read_json(folder / MANIFEST)
    except AuditError:
        return None
    fingerprint = manifest.get("fingerprint")
    if manifest.get("status") != "ok" or not isinstance(fingerprint, dict):
        return None
    history = fingerprint.get("history")
    return history if isinstance(history, dict) else None


def _departments(period_dir: Path) -> list[Path]:
    return [
        p
        for p in sorted(period_dir.iterdir())
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and (p / MANIFEST).is_file()
    ]


def trend_moved(folder: Path, period: Period, changed: Iterable[Period] | None = None) -> list[Period]:
    """The earlier periods whose result a department's trend shows as it was (of `changed` only, when given)."""
    recorded = _recorded_history(folder)
    if recorded is None:
        return []
    now = earlier_results(folder.parent.parent, folder.name, period)
    names = {str(p) for p in changed} if changed is not None else set(recorded) | set(now)
    moved = [name for name in names if recorded.get(name) != now.get(name)]
    return sorted((Period.parse(name) for name in moved), key=lambda p: p.start)


def index_moved(period_dir: Path, period: Period, changed: Iterable[Period]) -> list[Period]:
    """Of `changed`, the periods the index of `period_dir` shows as they were (totals that moved, results come or gone)."""
    try:
        page = (period_dir / INDEX).read_text(encoding="utf-8")
        recorded = recorded_sources(page, str(period_dir / INDEX))
    except (OSError, UnicodeDecodeError, AuditError):
        return []  # verify says what is wrong with the page itself
    if recorded is None:
        return []
    wanted = set(changed)
    moved = []
    for other in recorded.others:
        if other.period not in wanted:
            continue
        folder = period_dir.parent / str(other.period)
        now = {} if other.role == "year" else read_results(folder, other.period)  # a year: only its link
        if {d: s.sha256 for d, s in other.results.items()} != {d: s.sha256 for d, s in now.items()} or (
            other.index != (folder / INDEX).is_file()
        ):
            moved.append(other.period)
    pairs = {(o.role, o.period) for o in recorded.others}
    for other in read_sources(period_dir, period).others:  # a year whose parts were of no kind, or of another, then
        if other.period in wanted and (other.role, other.period) not in pairs and (other.results or other.index):
            moved.append(other.period)
    return moved


def out_of_date(outputs: Path, changed: Iterable[Period]) -> list[Stale]:
    """Every other period folder of `outputs` that shows one of `changed` as it was, in the order to run them."""
    changed = list(changed)
    found = []
    for period, folder in period_folders(outputs):
        if period in changed:
            continue
        readers = [c for c in changed if _reads(period, c)]
        if not readers:
            continue
        seen = set(index_moved(folder, period, readers))
        index = bool(seen)
        departments: list[str] = []
        signed: list[str] = []
        for department in _departments(folder):
            moved = trend_moved(department, period, [c for c in readers if c.kind == period.kind])
            if moved:
                seen.update(moved)
                (signed if is_signed(department) else departments).append(department.name)
        if index or departments or signed:
            shown = tuple(sorted(seen, key=lambda p: p.start))
            found.append(Stale(period, index, tuple(departments), tuple(signed), shown))
    return sorted(found, key=_run_order)


def _reads(period: Period, other: Period) -> bool:
    """Whether `period`'s pages read `other`: a later period of the same kind, or the year `other` is a part of."""
    if period.kind == other.kind:
        return period.start > other.end
    return period.kind == "year" and period.start <= other.start and other.end <= period.end


def _run_order(stale: Stale) -> tuple[int, Any]:
    """Same-kind periods first, oldest first (each one's trend reads the one before), then the years."""
    return (stale.period.kind == "year", stale.period.start)


def and_later(outputs: Path, period: Period) -> list[Period]:
    """The periods `kpi run --period P --and-later` runs, in order: P, then each later period of its kind in `outputs`."""
    return [period, *later_periods(outputs, period)]


def years_to_refresh(outputs: Path, ran: Iterable[Period]) -> list[Period]:
    """The year folders (not run) whose index shows one of the periods `ran` as it was: `--and-later` runs them last."""
    ran = list(ran)
    return [s.period for s in out_of_date(outputs, ran) if s.period.kind == "year" and s.index]


def lines(stale: Iterable[Stale], changed: Period, command: Callable[[Period], str]) -> list[str]:
    """What `kpi run` says at its end about the periods it left out of date; `command(period)` runs one period
    (`kpi run --period 2026-Q4 --all`)."""
    said = []
    for s in stale:
        shown = ", ".join(str(p) for p in s.seen) or str(changed)
        if s.needs_run:
            said.append(
                f"{s.period}: {s.what()} {'show' if s.departments else 'shows'} {shown} as it was before this run; "
                f"bring it up to date with `{command(s.period)}`"
            )
        if s.signed:
            said.append(
                f"{s.period}: {', '.join(s.signed)} signed off and keep the trend they were signed with "
                f'({shown} as it was); re-running them needs --force --reason "…"'
            )
    if any(s.needs_run for s in stale):
        said.append(f"or run this period and every later one: `{command(changed)} --and-later`")
    return said


def trend_notes(folder: Path, period: Period) -> list[str]:
    """`kpi verify`'s notes for a department whose trend shows earlier periods as they were when it ran."""
    notes = []
    recorded = _recorded_history(folder) or {}
    for other in trend_moved(folder, period):
        path = folder.parent.parent / str(other) / folder.name / RESULT
        then = "no result" if str(other) not in recorded else "its result then"
        since = "is there now" if str(other) not in recorded else "is gone" if not path.is_file() else "has changed"
        notes.append(
            f"{folder}: its trend and change since show {other} as it was when it ran ({then}); {path} {since}"
        )
    if notes:
        keep = " (it is signed off: it keeps the trend it was signed with)" if is_signed(folder) else ""
        notes.append(f"{folder}: run `kpi run --period {period}` again to bring its trend up to date{keep}")
    return notes
