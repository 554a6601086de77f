"""What the notebooks call: thin, so that a notebook reads like the report it produces.

A group notebook (`notebooks/group.ipynb`, any group of any template) does

    run = start(params_path, period, group)   # shows parameters and provenance
    card = run.appraise()                     # computes the group; the cell that fails on bad data
    for result in card.results:
        run.show(result)                      # the sheet's row, formula with numbers, rule, evidence, chart
    run.record(card)                          # records the group's `GroupRecord`

and the scorecard notebook reads the recorded records back from the executed
group notebooks (`executed.read_group`), combines them with the same
`appraisal.combine()` the CLI uses, shows the filled-in sheet and records the
`DepartmentResult` that `result.json`, the xlsx, the index and `kpi verify`
read: one source of truth for every number (see `result`).

HTML comes from the Jinja2 templates of `pages` (autoescaped); words from the
message catalog (`messages`) in the department's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import HTML, Image, display

from . import charts, clock, executed, lab
from .appraisal import IndicatorResult, Scorecard, appraise, combine
from .errors import AuditError
from .explain import explanation, grade_label, label, status_text, value_text
from .files import git_commit, sha256_file, versions
from .layout import SCORECARD
from .messages import both, say
from .numbers import plain
from .pages import Markup, render, signoff_html
from .params import Department, Params, load_params
from .partitions import PartitionFolder
from .period import Period
from .result import DepartmentResult, GroupRecord, IndicatorRecord
from .schedule import findings
from .sheet import headers, sheet_row
from .template import Template

MIME = executed.MIME
SAMPLE_ROWS = 10


def _show(html: str) -> None:
    display(HTML(html))


def _show_png(data: bytes) -> None:
    display(Image(data=data, format="png"))


def _show_record(payload: Mapping[str, Any], summary: str) -> None:
    display({MIME: dict(payload), "text/plain": summary}, raw=True)


@dataclass
class Run:
    """One notebook's appraisal session: the department, the period and the language of its text."""

    params_path: Path
    period: Period
    group: str
    department: Department
    params: Params
    partitions: Path | None = None  # the department's own rows, kept by `kpi run` (None: read the data folder)

    @property
    def lang(self) -> str:
        return self.params.lang

    @property
    def template(self) -> Template:
        return self.department.template

    # -- header -------------------------------------------------------------------------
    def show_header(self, injected: Mapping[str, Any]) -> None:
        groups = self.template.groups
        group = groups[self.group](self.lang) if self.group in groups else say("notebook.scorecard", self.lang)
        title = f"{self.params.name or self.params.department} · {group} · {self.period}"
        rows: list[tuple[str, Any]] = [(f"{k} (parameter)", v) for k, v in injected.items()]
        rows += [
            (label("department", self.lang), f"{self.params.name} ({self.params.department})"),
            (label("window", self.lang), f"{self.period.start} – {self.period.end}"),
            ("params file", f"{self.params_path.resolve()}  sha256 {sha256_file(self.params_path)}"),
            ("template", f"{self.template.id}: {self.template.path}  sha256 {self.template.sha256}"),
            ("data folder", str(self.department.data_folder)),
            ("git commit", git_commit(Path(__file__).resolve().parent)),
            ("executed at", clock.stamp()),
        ]
        rows += [(f"version: {k}", v) for k, v in versions().items()]
        _show(render("header.html.j2", title=title, rows=rows))

    # -- group notebooks ------------------------------------------------------------------
    def appraise(self) -> Scorecard:
        """Compute this notebook's group; raises (and so fails the cell) on bad data."""
        data = None if self.partitions is None else PartitionFolder(self.department, self.partitions)
        card = appraise(self.department, self.period, groups=[self.group], data=data)
        tables = [{"name": name, "file": self._file_of(card, name), "sha256": sha} for name, sha in card.files.items()]
        rows = [
            {
                "id": r.id,
                "name": r.indicator.name(self.lang),
                "weight": plain(r.params.weight),
                "value": value_text(r),
                "score": plain(r.score, 2),
                "status": status_text(r.status, self.lang),
            }
            for r in card.results
        ]
        columns = [label(k, self.lang) for k in ("id", "name", "weight", "value", "score", "status")]
        heading = say("notebook.input_tables", self.lang)
        kept = "" if self.partitions is None else say("notebook.partitions", self.lang, folder=str(self.partitions))
        _show(render("group.html.j2", heading=heading, kept=kept, tables=tables, rows=rows, columns=columns))
        return card

    def _file_of(self, card: Scorecard, table: str) -> str:
        for r in card.results:
            if r.evidence.table == table:
                return r.evidence.file
        return str(self.department.data_folder / f"{table}.*")

    def _record_of(self, result: IndicatorResult, card: Scorecard) -> IndicatorRecord:
        sha = card.files.get(result.evidence.table) if result.evidence.table else None
        return result.record(explanation(result, self.lang, self.params.policy.min_responses, sha))

    def show(self, result: IndicatorResult) -> None:
        """Everything about one indicator: its row of the sheet, the formula with numbers, the rule, the evidence, a chart."""
        lang, ind = self.lang, result.indicator
        record = result.record(explanation(result, lang, self.params.policy.min_responses, None))
        ex = record.explain
        other = "en" if lang == "zh" else "zh"
        _show(
            render(
                "indicator.html.j2",
                heading=f"{ind.id} {ind.name(lang)} / {ind.name(other)}",
                definition=sheet_row(self.template, record, lang, self.params).pairs(),
                formula_line=ex.formula_line if ex else "",
                survey_line=ex.survey_line if ex else "",
                warn=bool(ex and "⚠" in ex.survey_line),
                rule_line=ex.rule_line if ex else "",
                evidence=self._evidence(result),
                findings=[f.message for f in findings(result, self.params.review_date)],
                labels={
                    "formula": label("formula", lang),
                    "rule": label("rule", lang),
                    "evidence": say("notebook.evidence", lang),
                    "excluded": say("notebook.excluded_rows", lang),
                    "failing": say("notebook.failing_rows", lang),
                    "finding": say("notebook.finding", lang),
                },
            )
        )
        chart = charts.chart_of(result, lang)
        if chart:
            _show_png(chart)

    def _evidence(self, result: IndicatorResult) -> dict[str, Any]:
        """What the evidence block shows: outcome counts, facts, rows left out, a sample of failing rows."""
        ev = result.evidence
        shown: dict[str, Any] = {"file": ev.file, "counts": [], "facts": [], "excluded": None, "failing": None}
        if result.method == "observation":
            shown["facts"] = [(k, ev.facts.get(k)) for k in ("collector", "collected_on", "source", "note", "row")]
            return shown
        if len(ev.rows) and "outcome" in ev.rows:
            counts = ev.rows["outcome"].value_counts().sort_index()
            shown["counts"] = [(str(k), int(v)) for k, v in counts.items()]
        shown["facts"] = [
            (k, plain(v) if isinstance(v, Decimal) else v) for k, v in ev.facts.items() if k not in ("budget_file",)
        ]
        if len(ev.excluded):
            shown["excluded"] = Markup(_rows_html(ev.excluded, "reason"))
            shown["excluded_count"] = len(ev.excluded)
        if len(ev.rows) and "outcome" in ev.rows:
            bad = ev.rows[~ev.rows["outcome"].isin(charts.GOOD_OUTCOMES)]
            if len(bad):
                shown["failing"] = Markup(_rows_html(bad.head(SAMPLE_ROWS), "outcome"))
                shown["failing_shown"], shown["failing_count"] = min(len(bad), SAMPLE_ROWS), len(bad)
        return shown

    def record(self, card: Scorecard) -> GroupRecord:
        """Record this group's indicator records (SPEC §7 objects with their explanations), for the scorecard."""
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
        _show(render("recorded.html.j2", rows=rows))
        return [found[i] for i in self.template.ids]

    def scorecard(self, recorded: Sequence[IndicatorRecord]) -> DepartmentResult:
        """The seed's sheet filled in with the recorded results, the weighted total and the grade."""
        lang = self.lang
        summary = combine(recorded, self.params)
        result = DepartmentResult(self.params.department, self.period, summary.total, summary.grade, tuple(recorded))
        grade = f"{summary.grade} {grade_label(summary.label, lang)}" if summary.grade else "—"
        _show(
            render(
                "sheet.html.j2",
                title=self.template.name(lang),
                headers=headers(),
                rows=[sheet_row(self.template, item, lang, self.params) for item in recorded],
                labels={"total": label("total", lang), "grade": label("grade", lang)},
                total=plain(summary.total, 2),
                formula=say("notebook.total_formula", lang),
                scored_weight=plain(summary.scored_weight),
                grade=grade,
                excluded=", ".join(summary.excluded),
                excluded_note=say("notebook.excluded_from_total", lang),
            )
        )
        return result

    def show_points_lost(self, recorded: Sequence[IndicatorRecord]) -> None:
        """Weighted points each indicator lost (or gained) against a full 100, as a chart."""
        scored = [i for i in recorded if i.counts and i.score is not None]
        weights = sum((i.weight for i in scored), Decimal(0)) or Decimal(1)
        lost = [(Decimal(100) - (i.score or Decimal(0))) * i.weight / weights for i in scored]
        names = [f"{i.id} {self.template.indicator(i.id).name(self.lang)}" for i in scored]
        title = " ".join(both("chart.points_lost"))
        _show_png(charts.hbars(names, [float(v) for v in lost], title, say("chart.points", self.lang)))

    def show_signoff(self) -> None:
        """The seed's sign-off block, blank until `kpi sign` re-renders the reports with the signatures."""
        _show(signoff_html([]))

    def record_scorecard(self, result: DepartmentResult) -> None:
        """Record the department's result: what `result.json`, the xlsx, the index and `kpi verify` read."""
        _show_record(
            {"kind": "scorecard", "result": result.to_record()},
            f"total {plain(result.total, 2)} grade {result.grade} for {result.department} {result.period}",
        )


def _rows_html(frame: pd.DataFrame, last: str) -> str:
    """Rows as an escaped HTML table (pandas escapes every cell): spreadsheet row number first, department dropped."""
    shown = frame.drop(columns=[c for c in ("department",) if c in frame]).copy()
    columns = ["_row", *[c for c in shown.columns if c not in ("_row", last)], last]
    shown = shown[columns].rename(columns={"_row": "row"})
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "", regex=False)
        elif column == "hours_taken":
            shown[column] = shown[column].round(1)
        elif pd.api.types.is_bool_dtype(shown[column]):
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "")
    return str(shown.to_html(index=False, escape=True, na_rep="", border=0))


def start(
    params_path: str | Path, period: str, group: str, partitions: str | Path | None = None, **injected: Any
) -> Run:
    """Open a notebook's session and show its parameters and provenance (`group` "scorecard" for the scorecard).

    `partitions` is the folder of the department's own rows that `kpi run` kept
    (`inputs/`, see `kpi_lib.partitions`): the group then reads those, never the
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


__all__ = ["MIME", "SCORECARD", "Run", "start"]
