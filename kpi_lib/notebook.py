"""What the notebooks call: thin, so that a notebook reads like the report it produces.

A group notebook (`notebooks/group.ipynb`, any group of any template) does

    run = start(params_path, period, group)   # parameters and provenance (for the auditor)
    card = run.appraise()                     # computes the group; the cell that fails on bad data
    run.show_summary(card)                    # the reader's page starts here: title, links, the group's scores
    for result in card.results:
        run.show(result)                      # the sheet's row, formula with numbers, rule, evidence, chart
    record = run.record(card)                 # records the group's `GroupRecord`

and the scorecard notebook reads the recorded records back from the executed
group notebooks (`executed.read_group`), shows the verdict (total, grade, grade
bands, change, trend, points lost), the filled-in sheet (combined with the same
`appraisal.combine()` the CLI uses) and the sign-off block, and records the
`DepartmentResult` that `result.json`, the xlsx, the index and `kpi verify`
read: one source of truth for every number (see `result`).

Two readers, one notebook. What only the auditor needs (parameters, versions,
hashes, the recorded records, which other periods the trend used) is displayed
with the output tag `audit` (`AUDIT_TAG`); the reader's exporter drops those
outputs and every markdown cell (written for the analyst), so a reader page holds
only what the code emits for it, in the department's language (`lang`), and the
auditor's page holds everything. Errors are never tagged: a failing cell shows in both.

HTML comes from the Jinja2 templates of `pages` (autoescaped); words from the
message catalog (`messages`) and `explain` in the department's language, one
language per page. Links are relative: each page links back to the period's
`../index.html`, to the scorecard and to the group pages, and each sheet row to
its indicator's section (`service.html#CS04`).

The trend on the scorecard reads the earlier periods' `result.json` when this period
runs (`history.department_history` over the outputs folder). Their sha256 are the
incremental fingerprint's `history` part (`incremental`): re-running Q3 runs an
unsigned Q4 again, so its change agrees with the index; a signed Q4 keeps the trend
it was signed with rather than being refused. The auditor's page names the results
the trend used.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML, Image, display

from .base import clock
from .base.errors import AuditError, KpiError
from .base.files import git_commit, sha256_file, versions, write_atomic
from .base.layout import INDEX_LINK, SCORECARD, DepartmentFolder, reader_html, rows_csv
from .base.messages import say
from .base.numbers import plain
from .batch import lab
from .inputs.params import Department, Params, load_params
from .inputs.partitions import PartitionFolder
from .inputs.period import Period
from .inputs.template import Template
from .inputs.zones import is_fold_column
from .reports import executed
from .reports.exports import csv_cell
from .reports.history import History, department_history
from .scoring.appraisal import IndicatorResult, Scorecard, appraise, combine
from .scoring.result import DepartmentResult, GroupRecord, IndicatorRecord
from .words import charts
from .words.explain import (
    cell_text,
    change_text,
    column_label,
    explanation,
    facts_shown,
    finding_lines,
    grade_bands,
    grade_label,
    label,
    outcome_text,
    status_text,
    value_text,
)
from .words.pages import AUDIT_TAG, render, signoff_html
from .words.sheet import SHEET_KEYS, sheet_row

MIME = executed.MIME
SAMPLE_ROWS = 10

# The sheet as the reader's page lays it out: score and weight beside the indicator, the long columns after.
SHEET_VIEW = (
    "id",
    "name",
    "weight",
    "score",
    "target",
    "rule",
    "result",
    *(k for k in SHEET_KEYS if k not in ("id", "name", "weight", "target", "rule", "result")),
)
LONG_TEXT = 30  # characters: a cell longer than this is marked `long` (the stylesheet folds it)


def _show(html: str, *, audit: bool = False) -> None:
    display(HTML(html), metadata={"tags": [AUDIT_TAG]} if audit else None)


def _show_png(data: bytes) -> None:
    display(Image(data=data, format="png"))


def _show_record(payload: Mapping[str, Any], summary: str) -> None:
    display({MIME: dict(payload), "text/plain": summary}, raw=True, metadata={"tags": [AUDIT_TAG]})


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


@dataclass
class Run:
    """One notebook's appraisal session: the department, the period and the language of its text."""

    params_path: Path
    period: Period
    group: str
    department: Department
    params: Params
    partitions: Path | None = None  # the department's own rows, kept by `kpi run` (None: read the data folder)
    history: History | None = field(default=None, repr=False)  # what the verdict's trend read (see `show_verdict`)

    @property
    def lang(self) -> str:
        return self.params.lang

    @property
    def template(self) -> Template:
        return self.department.template

    @property
    def title(self) -> str:
        return self.params.name or self.params.department

    def _nav(self) -> list[dict[str, str]]:
        """Links of every reader page: the period's index, the scorecard, each group's page (relative)."""
        links = [{"href": INDEX_LINK, "text": say("report.nav.index", self.lang), "current": ""}]
        links.append(
            {
                "href": reader_html(SCORECARD),
                "text": say("report.nav.scorecard", self.lang),
                "current": "true" if self.group == SCORECARD else "",
            }
        )
        for group, name in self.template.groups.items():
            current = "true" if group == self.group else ""
            links.append({"href": reader_html(group), "text": name(self.lang), "current": current})
        return links

    # -- header -------------------------------------------------------------------------
    def show_header(self, injected: Mapping[str, Any]) -> None:
        """Parameters and provenance, for the auditor's report (tagged `audit`: not on the reader's page)."""
        groups = self.template.groups
        group = groups[self.group](self.lang) if self.group in groups else say("notebook.scorecard", self.lang)
        title = f"{self.title} · {group} · {self.period}"
        rows: list[tuple[str, Any]] = [(f"{k} (parameter)", v) for k, v in injected.items()]
        rows += [
            (label("department", self.lang), f"{self.params.name} ({self.params.department})"),
            (label("window", self.lang), f"{self.period.start} – {self.period.end}"),
            ("params file", f"{self.params_path.resolve()}  sha256 {sha256_file(self.params_path)}"),
            *(
                [("company file", f"{company.path}  sha256 {sha256_file(company.path)}")]
                if (company := self.department.company) is not None
                else []
            ),
            ("template", f"{self.template.id}: {self.template.path}  sha256 {self.template.sha256}"),
            ("data folder", str(self.department.data_folder)),
            ("time zone", self.params.timezone),
            ("working-day calendar", self.params.working_calendar.label),
            ("git commit", git_commit(Path(__file__).resolve().parent)),
            ("executed at", clock.stamp()),
        ]
        rows += [(f"version: {k}", v) for k, v in versions().items()]
        _show(render("header.html.j2", title=title, rows=rows), audit=True)

    # -- group notebooks ------------------------------------------------------------------
    def appraise(self) -> Scorecard:
        """Compute this notebook's group; raises (and so fails the cell) on bad data. Shows the input tables (audit)."""
        data = None if self.partitions is None else PartitionFolder(self.department, self.partitions)
        card = appraise(self.department, self.period, groups=[self.group], data=data)
        tables = [{"name": name, "file": self._file_of(card, name), "sha256": sha} for name, sha in card.files.items()]
        heading = say("notebook.input_tables", self.lang)
        kept = "" if self.partitions is None else say("notebook.partitions", self.lang, folder=str(self.partitions))
        _show(render("group.html.j2", heading=heading, kept=kept, tables=tables), audit=True)
        return card

    def show_summary(self, card: Scorecard) -> None:
        """The top of the group's reader page: department, group, period, links, and each indicator's score."""
        lang = self.lang
        rows = [
            {
                "id": r.id,
                "name": r.indicator.name(lang),
                "weight": plain(r.params.weight),
                "value": value_text(r),
                "score": plain(r.score, 2),
                "status": status_text(r.status, lang),
            }
            for r in card.results
        ]
        group = self.template.groups[self.group](lang) if self.group in self.template.groups else self.group
        _show(
            render(
                "summary.html.j2",
                nav=self._nav(),
                title=f"{self.title} · {group}",
                period=self._period_line(),
                heading=say("report.summary", lang),
                columns=[label(k, lang) for k in ("id", "name", "weight", "value", "score", "status")],
                rows=rows,
            )
        )

    def _file_of(self, card: Scorecard, table: str) -> str:
        for r in card.results:
            if r.evidence.table == table:
                return r.evidence.file
        return str(self.department.data_folder / f"{table}.*")

    def _record_of(self, result: IndicatorResult, card: Scorecard) -> IndicatorRecord:
        sha = card.files.get(result.evidence.table) if result.evidence.table else None
        return result.record(explanation(result, self.lang, self.params.policy.min_responses, sha))

    def show(self, result: IndicatorResult) -> None:
        """Everything about one indicator, in its `<section id="CS04">`: its row of the sheet, the formula with
        numbers, the rule, the evidence (with every row in `rows/CS04.csv` when `kpi run` runs it), a chart."""
        lang, ind = self.lang, result.indicator
        record = result.record(explanation(result, lang, self.params.policy.min_responses, None))
        ex = record.explain
        rows_link = self.write_rows(result)
        chart = charts.chart_of(result, lang)
        _show(
            render(
                "indicator.html.j2",
                id=ind.id,
                heading=f"{ind.id} {ind.name(lang)}",
                definition=[
                    (label(k, lang), cell)
                    for k, cell in zip(
                        SHEET_KEYS, sheet_row(self.template, record, lang, self.params).cells, strict=True
                    )
                ],
                formula_line=ex.formula_line if ex else "",
                survey_line=ex.survey_line if ex else "",
                warn=bool(ex and "⚠" in ex.survey_line),
                rule_line=ex.rule_line if ex else "",
                evidence=self._evidence(result, rows_link),
                findings=finding_lines(result, self.params.review_date, lang, self.params.working_calendar),
                chart=_png_uri(chart) if chart else "",
                labels={
                    "formula": say("report.formula", lang),
                    "rule": label("rule", lang),
                    "evidence": say("notebook.evidence", lang),
                    "excluded": say("notebook.excluded_rows", lang),
                    "failing": say("notebook.failing_rows", lang),
                    "finding": say("notebook.finding", lang),
                    "chart": f"{ind.id} {ind.name(lang)}",
                },
            )
        )

    def _evidence(self, result: IndicatorResult, rows_link: str) -> dict[str, Any]:
        """What the evidence block shows: the table, outcome counts, facts, rows left out, a sample of failing rows."""
        ev, lang = result.evidence, self.lang
        spec = self.template.tables.get(ev.table) if ev.table else None
        table = spec.label(lang) if spec is not None else ev.table
        shown: dict[str, Any] = {
            "table": say("report.table", lang, table=table, file=Path(ev.file).name) if ev.file else "",
            "counts": [],
            "facts": [],
            "excluded": None,
            "failing": None,
            "all_rows": None,
        }
        total = len(ev.rows) + len(ev.excluded)
        if rows_link:
            shown["all_rows"] = {"href": rows_link, "text": say("report.all_rows", lang, n=total, file=rows_link)}
        if result.method == "observation":
            keys = ("collector", "collected_on", "source", "note", "row")
            shown["facts"] = facts_shown({k: ev.facts.get(k) for k in keys}, lang)
            return shown
        if len(ev.rows) and "outcome" in ev.rows:
            counts = ev.rows["outcome"].value_counts().sort_index()
            shown["counts"] = [(outcome_text(k, lang), int(v)) for k, v in counts.items()]
        shown["facts"] = facts_shown(ev.facts, lang)
        if len(ev.excluded):
            shown["excluded"] = _rows_view(ev.excluded, "reason", spec, lang)
            shown["excluded_count"] = len(ev.excluded)
        if len(ev.rows) and "outcome" in ev.rows:
            bad = ev.rows[~ev.rows["outcome"].isin(charts.GOOD_OUTCOMES)]
            if len(bad):
                shown["failing"] = _rows_view(bad.head(SAMPLE_ROWS), "outcome", spec, lang)
                shown["failing_shown"], shown["failing_count"] = min(len(bad), SAMPLE_ROWS), len(bad)
        return shown

    def write_rows(self, result: IndicatorResult) -> str:
        """`rows/<id>.csv` beside the reports: every row behind the number; returns its link ("" outside `kpi run`).

        Written only when `kpi run` runs the notebook (it passes `partitions`, relative to the
        department's staging folder, which is the notebook's working folder): the manifest then
        hashes it with every other output. Counted rows (with their outcome) and rows left out
        (with the reason) in one list, by the source file's row number; words in the
        department's language, text cells through `exports.csv_cell`; UTF-8 with a BOM (Excel
        shows the Chinese), `\\n` line ends: the same rows give the same bytes.
        """
        if self.partitions is None:
            return ""
        rel = rows_csv(result.id)
        path = self.partitions.parent / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, rows_csv_text(result, self.template, self.lang))
        return rel

    def record(self, card: Scorecard) -> GroupRecord:
        """Record this group's indicator records (result objects with their explanations), for the scorecard."""
        record = GroupRecord(
            self.params.department, self.period, self.group, tuple(self._record_of(r, card) for r in card.results)
        )
        _show_record(
            record.to_json(),
            f"recorded {len(record.indicators)} indicator(s) of group {self.group} "
            f"for {self.params.department} {self.period}",
        )
        return record

    # -- scorecard notebook ---------------------------------------------------------------
    def load_recorded(self, results_dir: str | Path | None = None) -> list[IndicatorRecord]:
        """The indicator records of the executed group notebooks in `results_dir`, in template order.

        `results_dir` None (the notebook's default, in Lab): the department's folder of
        the period under the project's outputs, first brought up to date by the runner
        (`lab.bring_up_to_date`), with one line saying what it did.
        """
        if results_dir is None:
            update = lab.bring_up_to_date(self.params_path, self.period)
            print(update.line(self.lang), flush=True)
            results_dir = update.folder
        folder = Path(results_dir)
        found: dict[str, IndicatorRecord] = {}
        rows = []
        for group in self.template.groups:
            path = folder / f"{group}.ipynb"
            record = executed.read_group(path)
            if record.department != self.params.department or record.period != self.period:
                raise AuditError(
                    f"{path}: recorded for {record.department} {record.period}, "
                    f"expected {self.params.department} {self.period}; re-run kpi run"
                )
            for item in record.indicators:
                found[item.id] = item
            rows.append(
                {"group": group, "path": str(path), "sha256": sha256_file(path), "count": len(record.indicators)}
            )
        missing = [i for i in self.template.ids if i not in found]
        if missing:
            raise AuditError(
                f"{folder}: no recorded result for {', '.join(missing)}; "
                f"expected every indicator of template {self.template.id}"
            )
        _show(render("recorded.html.j2", rows=rows), audit=True)
        return [found[i] for i in self.template.ids]

    def scorecard(self, recorded: Sequence[IndicatorRecord]) -> DepartmentResult:
        """The seed's sheet filled in with the recorded results (the reader's layout, see `SHEET_VIEW`), and the result."""
        lang = self.lang
        summary = combine(recorded, self.params)
        result = DepartmentResult(self.params.department, self.period, summary.total, summary.grade, tuple(recorded))
        columns = [{"key": key, "text": label(key, lang)} for key in SHEET_VIEW]
        rows = []
        for item in recorded:
            row = sheet_row(self.template, item, lang, self.params)
            cells = dict(zip(SHEET_KEYS, row.cells, strict=True)) | {"score": row.score_text}
            rows.append(
                {
                    "id": item.id,
                    "href": f"{reader_html(item.group)}#{item.id}",
                    "cells": [
                        {"key": key, "text": cells[key], "long": key != "id" and len(cells[key]) > LONG_TEXT}
                        for key in SHEET_VIEW
                    ],
                }
            )
        _show(
            render(
                "sheet.html.j2",
                heading=say("report.sheet", lang),
                title=self.template.name(lang),
                columns=columns,
                rows=rows,
                labels={"total": label("total", lang), "grade": label("grade", lang)},
                total=plain(summary.total, 2),
                formula=say("notebook.total_formula", lang),
                scored_weight=say("report.scored_weight", lang, weight=plain(summary.scored_weight)),
                grade=self._grade_text(summary.grade, summary.label),
                excluded=", ".join(summary.excluded),
                excluded_note=say("notebook.excluded_from_total", lang),
            )
        )
        return result

    def _period_line(self) -> str:
        p = self.period
        return say("report.period_line", self.lang, period=str(p), start=p.start.isoformat(), end=p.end.isoformat())

    def _grade_text(self, grade: str | None, text: str) -> str:
        return f"{grade} {grade_label(text, self.lang)}".strip() if grade else "—"

    def show_verdict(self, recorded: Sequence[IndicatorRecord], results_dir: str | Path | None = None) -> None:
        """The first screen of the reader's scorecard: department, period, total and grade, the grade bands, the
        change against the previous period of the same kind, the trend over the periods on record, points lost.

        The other periods are read from the outputs folder (`results_dir/../..`: the folder of
        period folders; without `results_dir`, `outputs/` beside the params' folder), as they are
        now: a snapshot (see the module's docstring). Which results were read is shown to the
        auditor (tagged `audit`).
        """
        lang = self.lang
        summary = combine(recorded, self.params)
        history = department_history(outputs_root(results_dir, self.params_path), self.params.department, self.period)
        self.history = history
        earlier = [r for r in history.results if r.period != self.period]
        try:
            previous = str(self.period.previous())
        except KpiError:
            previous = "—"
        change = change_text(summary.total, previous, [(str(r.period), r.total) for r in earlier], lang)
        points = [(str(r.period), r.total) for r in earlier if r.total is not None]
        if summary.total is not None:
            points.append((str(self.period), summary.total))
        trend = ""
        if len(points) > 1:
            trend = _png_uri(
                charts.line(
                    [p for p, _ in points],
                    [float(t) for _, t in points],
                    say("chart.trend", lang),
                    label("total", lang),
                )
            )
        _show(
            render(
                "verdict.html.j2",
                nav=self._nav(),
                title=self.title,
                period=self._period_line(),
                labels={
                    "total": label("total", lang),
                    "grade": label("grade", lang),
                    "bands": say("report.bands", lang),
                    "trend": say("report.trend.caption", lang),
                    "points_lost": say("chart.points_lost", lang),
                },
                total=plain(summary.total, 2) if summary.total is not None else "—",
                grade=self._grade_text(summary.grade, summary.label),
                current=summary.grade or "",
                change=change,
                bands=grade_bands(self.params.grades, lang),
                trend=trend,
                points_lost=_png_uri(self._points_lost_png(recorded)),
            )
        )
        root = outputs_root(results_dir, self.params_path)
        used = []
        for r in earlier:
            path = DepartmentFolder(root / str(r.period) / self.params.department).result
            used.append(
                {
                    "period": str(r.period),
                    "total": plain(r.total, 2),
                    "grade": r.grade or "—",
                    "file": str(path),
                    "sha256": sha256_file(path) if path.is_file() else "—",
                }
            )
        _show(
            render(
                "trend_sources.html.j2",
                heading=say("report.trend.sources", lang),
                none_text=say("report.trend.none", lang),
                columns=[label("period", lang), label("total", lang), label("grade", lang), say("report.file", lang)],
                rows=used,
                skipped=[{"file": str(path), "reason": reason} for path, reason in history.skipped],
                skipped_note=say("report.trend.skipped", lang),
            ),
            audit=True,
        )

    def _points_lost_png(self, recorded: Sequence[IndicatorRecord]) -> bytes:
        scored = [i for i in recorded if i.counts and i.score is not None]
        weights = sum((i.weight for i in scored), Decimal(0)) or Decimal(1)
        lost = [(Decimal(100) - (i.score or Decimal(0))) * i.weight / weights for i in scored]
        names = [f"{i.id} {self.template.indicator(i.id).name(self.lang)}" for i in scored]
        title = say("chart.points_lost", self.lang)
        return charts.hbars(names, [float(v) for v in lost], title, say("chart.points", self.lang))

    def show_points_lost(self, recorded: Sequence[IndicatorRecord]) -> None:
        """Weighted points each indicator lost (or gained) against a full 100, as a chart (also part of the verdict)."""
        _show_png(self._points_lost_png(recorded))

    def show_signoff(self) -> None:
        """The seed's sign-off block, blank until `kpi sign` re-renders the reports with the signatures."""
        _show(signoff_html([], self.lang, roles=self.template.signoff))

    def record_scorecard(self, result: DepartmentResult) -> None:
        """Record the department's result: what `result.json`, the xlsx, the index and `kpi verify` read."""
        _show_record(
            {"kind": "scorecard", "result": result.to_record()},
            f"total {plain(result.total, 2)} grade {result.grade} for {result.department} {result.period}",
        )


def outputs_root(results_dir: str | Path | None, params_path: Path) -> Path:
    """The folder of period folders: `results_dir/../..` (a department folder's grandparent; under `kpi run` the
    staging folder's), else the project's outputs folder (`lab.outputs_of`, where `load_recorded` looked)."""
    if results_dir not in (None, ""):
        return Path(str(results_dir)).resolve().parent.parent
    return lab.outputs_of(params_path)


def _ordered_columns(frames: Sequence[pd.DataFrame], drop: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for frame in frames:
        seen += [c for c in frame.columns if c not in seen and c not in drop and not is_fold_column(c)]
    return seen


def _rows_view(frame: pd.DataFrame, last: str, spec: Any, lang: str) -> dict[str, Any]:
    """Evidence rows for a table in `lang`: spreadsheet row number first, then the data, then `last` (outcome or reason)."""
    data = _ordered_columns([frame], ("department", "_row", "outcome", "reason"))
    keys = ["_row", *data, last]
    columns = [column_label(spec, "row" if k == "_row" else k, lang) for k in keys]
    rows = [[cell_text(record.get(k), k, lang) for k in keys] for record in frame.to_dict("records")]
    return {"columns": columns, "rows": rows, "numeric": [k in ("_row", "hours_taken") for k in keys]}


def rows_csv_text(result: IndicatorResult, template: Template, lang: str) -> str:
    """The text of `rows/<id>.csv`: every row behind one indicator's number (see `Run.write_rows`)."""
    ev = result.evidence
    spec = template.tables.get(ev.table) if ev.table else None
    counted, left = ev.rows, ev.excluded
    data = _ordered_columns([f for f in (counted, left) if f is not None], ("department", "_row", "outcome", "reason"))
    keys = ["row", "status", "outcome", "reason", *data]
    listed: list[tuple[int, int, list[Any]]] = []
    statuses = (say("report.counted", lang), say("report.left_out", lang))
    for order, (frame, status) in enumerate(((counted, statuses[0]), (left, statuses[1]))):
        if frame is None or not len(frame):
            continue
        for record in frame.to_dict("records"):
            row = record.get("_row")
            cells = [
                row,
                status,
                cell_text(record.get("outcome"), "outcome", lang),
                cell_text(record.get("reason"), "reason", lang),
                *(cell_text(record.get(k), k, lang) for k in data),
            ]
            listed.append((int(row) if row is not None else 0, order, cells))
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(column_label(spec, k, lang)) for k in keys])
    for _, _, cells in sorted(listed, key=lambda item: (item[0], item[1])):
        writer.writerow([csv_cell(c) for c in cells])
    return buffer.getvalue()


def start(
    params_path: str | Path, period: str, group: str, partitions: str | Path | None = None, **injected: Any
) -> Run:
    """Open a notebook's session and show its parameters and provenance (`group` "scorecard" for the scorecard).

    `partitions` is the folder of the department's own rows that `kpi run` kept
    (`inputs/`, see `kpi_lib.inputs.partitions`): the group then reads those, never the
    company's files. Left out (an analyst's Run All), the data folder is read.
    """
    path = Path(params_path)
    department = load_params(path)
    window = Period.parse(period)
    kept = None if partitions in (None, "") else Path(str(partitions))
    run = Run(path, window, group, department, department.for_period(window), kept)
    shown = {"params_path": str(params_path), "period": period, "group": group}
    if kept is not None:
        shown["partitions"] = str(partitions)
    run.show_header({**shown, **injected})
    return run


__all__ = ["AUDIT_TAG", "MIME", "SCORECARD", "Run", "start"]
