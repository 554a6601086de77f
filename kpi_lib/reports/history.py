"""A department's results of other periods, read from the outputs folder: its trend and its change.

The outputs folder holds one folder per period (`outputs/2026-Q3/`, `outputs/2026-Q4/` …).
A department's history is the `result.json` it has in the folders of periods **of the
same kind** (quarters with quarters, months with months) up to and including the
period asked about, oldest first: a year is never compared with a quarter, and a later
period's result never shows in an earlier period's report.

Only what `kpi run` wrote counts: each `result.json` is read through `summary.read_result`
(the same typed check `kpi verify` and the index use) and must name this department and
that period. A folder whose result cannot be read is left out of the trend and named in
`History.skipped` with the reason, so a page can say so; it never stops the report it
would only have decorated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..base.errors import KpiError
from ..base.files import sha256_file
from ..base.layout import RESULT, DepartmentFolder
from ..inputs.period import Period
from .summary import read_result


@dataclass(frozen=True)
class PastResult:
    """One period's weighted total and grade of a department, as its `result.json` holds them."""

    period: Period
    total: Decimal | None
    grade: str | None


@dataclass(frozen=True)
class History:
    """A department's results up to a period, oldest first, and the folders left out (path, reason)."""

    department: str
    period: Period
    results: tuple[PastResult, ...] = ()
    skipped: tuple[tuple[Path, str], ...] = field(default_factory=tuple)

    def of(self, period: Period) -> PastResult | None:
        return next((r for r in self.results if r.period == period), None)

    @property
    def previous(self) -> PastResult | None:
        """The result of the period just before (same kind), when its outputs exist."""
        try:
            before = self.period.previous()
        except KpiError:
            return None
        return self.of(before)

    def change(self, total: Decimal | None) -> Decimal | None:
        """`total` minus the previous period's total; None when either is missing."""
        previous = self.previous
        if total is None or previous is None or previous.total is None:
            return None
        return total - previous.total


def _result_files(outputs_root: Path, department: str, period: Period) -> list[tuple[Period, Path]]:
    """(period, result.json) of the department in the folders of `period`'s kind up to `period`, by folder name."""
    found = []
    for folder in sorted(outputs_root.iterdir()) if outputs_root.is_dir() else ():
        try:
            other = Period.parse(folder.name)
        except KpiError:
            continue
        if other.kind != period.kind or other.end > period.end or other.text != folder.name:
            continue
        path = DepartmentFolder(folder / department).result
        if path.is_file():
            found.append((other, path))
    return found


def earlier_results(outputs_root: Path, department: str, period: Period) -> dict[str, str]:
    """sha256 of each earlier period's `result.json` the trend of `period` reads, by period: the incremental
    fingerprint's `history` part, so that an unsigned department's trend follows a re-run earlier period."""
    return {
        str(other): sha256_file(path)
        for other, path in _result_files(outputs_root, department, period)
        if other.end < period.start
    }


def department_history(outputs_root: Path, department: str, period: Period) -> History:
    """The department's results in `outputs_root`'s period folders of `period`'s kind, up to `period`, oldest first."""
    results: list[PastResult] = []
    skipped: list[tuple[Path, str]] = []
    for other, path in _result_files(outputs_root, department, period):
        try:
            result = read_result(path)
        except KpiError as exc:
            skipped.append((path, str(exc)))
            continue
        if result.department != department or result.period != other:
            skipped.append((path, f"records {result.department} {result.period}, not {department} {other}"))
            continue
        results.append(PastResult(other, result.total, result.grade))
    results.sort(key=lambda r: r.period.start)
    return History(department, period, tuple(results), tuple(skipped))


def previous_results(period_dir: Path, period: Period) -> dict[str, PastResult]:
    """Every department's result in the previous period's folder beside `period_dir` (by department id)."""
    try:
        before = period.previous()
    except KpiError:
        return {}
    folder = period_dir.parent / str(before)
    found: dict[str, PastResult] = {}
    for path in sorted(folder.glob(f"*/{RESULT}")) if folder.is_dir() else ():
        try:
            result = read_result(path)
        except KpiError:
            continue
        if result.period == before and result.department == path.parent.name:
            found[result.department] = PastResult(before, result.total, result.grade)
    return found
