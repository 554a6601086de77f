"""What the notebooks call: thin, so that a notebook reads like the report it produces.

A group notebook does

    run = start(params_path, period, group)   # shows parameters and provenance
    card = run.appraise()                     # computes the group; the cell that fails on bad data
    for result in card.results:
        run.show(result)                      # definition, formula with numbers, rule, evidence, chart
    run.record(card)                          # the recorded result the scorecard reads

and the scorecard notebook reads the recorded results back from the executed
group notebooks (`load_recorded`, with nbformat) and combines them with the same
`combine()` the CLI uses: one source of truth for every number.

Results are recorded as display outputs of MIME type `MIME` (JSON), so they live
inside the executed notebook an auditor reads, next to the cells that made them.
All text that comes from data or params is HTML-escaped before display.

After papermill has written an executed notebook, the runner calls `settle` on it:
cell ids become `cell-<index>` (papermill gives the cell it injects a random one);
papermill's `output_path`, the staging folder that stops existing when the
department's folder is renamed into place, becomes the notebook's file name (it
lives next to it); and with `SOURCE_DATE_EPOCH` set every papermill and nbclient
time in it is `clock.now()` and every duration 0. So the notebook, and the sha256
the scorecard shows of it, depend only on the inputs, not on the run or on `--out`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from . import charts, clock
from .appraisal import IndicatorResult, Scorecard, appraise, combine
from .audit import git_commit, sha256_file, versions
from .errors import KpiError
from .explain import LABELS, formula_line, grade_label, label, plain, rule_line, status_text, survey_line, value_text
from .params import Department, Params, load_params
from .period import Period
from .schedule import findings

MIME = "application/vnd.kpi-appraisal.result+json"
GOOD_OUTCOMES = {"on time", "finished", "satisfied", "complete", "done", "kept", "counted", "observed"}
SAMPLE_ROWS = 10

# "KPI CJK" is the font reports embed (reports.FONT_FAMILY): name it first wherever a rule sets a font.
STYLE = """<style>
.kpi h2, .kpi h3 {margin: .6em 0 .3em}
.kpi table {border-collapse: collapse; margin: .3em 0 .8em; font-size: 13px}
.kpi table th, .kpi table td {border: 1px solid #c8c8c8; padding: 3px 7px; text-align: left !important; vertical-align: top}
.kpi table th {background: #f2f2f2}
.kpi table td.num {text-align: right !important; font-variant-numeric: tabular-nums; white-space: nowrap}
.kpi table.sheet {font-size: 12px}
.kpi table.sheet td {min-width: 4em}
.kpi .formula {font-family: "KPI CJK", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 14px; background: #f7f7f2; padding: 4px 8px; display: inline-block}
.kpi .bad {color: #b3261e}
.kpi .sign {display: flex; gap: 4em; margin-top: 1.5em; font-size: 15px}
.kpi .sign span.line {display: inline-block; min-width: 12em; border-bottom: 1px solid #333}
</style>"""


def h(value: Any) -> str:
    """HTML-escape any value shown to a reader."""
    return html.escape("" if value is None else str(value))


def _display_html(body: str) -> None:
    from IPython.display import HTML, display

    display(HTML(f'{STYLE}<div class="kpi">{body}</div>'))


def _display_png(data: bytes) -> None:
    from IPython.display import Image, display

    display(Image(data=data, format="png"))


def _display_record(payload: Mapping[str, Any], summary: str) -> None:
    from IPython.display import display

    display({MIME: dict(payload), "text/plain": summary}, raw=True)


def _table(rows: Sequence[tuple[str, Any]], raw_html: bool = False) -> str:
    cells = "".join(f"<tr><th>{h(k)}</th><td>{v if raw_html else h(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


@dataclass
class Run:
    """One notebook's appraisal session: the department, the period and the language of its text."""

    params_path: Path
    period: Period
    group: str
    department: Department
    params: Params
    notes: list[str] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.params.lang

    @property
    def template(self):  # type: ignore[no-untyped-def]
        return self.department.template

    # -- header -------------------------------------------------------------------------
    def show_header(self, injected: Mapping[str, Any]) -> None:
        zh = self.lang == "zh"
        group = (
            self.template.groups[self.group](self.lang)
            if self.group in self.template.groups
            else ("考核汇总表" if zh else "Scorecard")
        )
        title = f"{h(self.params.name or self.params.department)} · {h(group)} · {h(self.period)}"
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
        _display_html(f"<h2>{title}</h2>{_table(rows)}")

    # -- group notebooks ------------------------------------------------------------------
    def appraise(self) -> Scorecard:
        """Compute this notebook's group; raises (and so fails the cell) on bad data."""
        card = appraise(self.department, self.period, groups=[self.group])
        files = "".join(
            f"<tr><td>{h(name)}</td><td>{h(self._file_of(card, name))}</td><td><code>{h(sha)}</code></td></tr>"
            for name, sha in card.files.items()
        )
        head = "输入表 Input tables" if self.lang == "zh" else "Input tables 输入表"
        rows = "".join(self._summary_row(r) for r in card.results)
        cols = "".join(
            f"<th>{h(label(k, self.lang))}</th>" for k in ("id", "name", "weight", "value", "score", "status")
        )
        _display_html(
            f"<h3>{head}</h3><table><tr><th>table</th><th>file</th><th>sha256</th></tr>{files}</table><table><tr>{cols}</tr>{rows}</table>"
        )
        return card

    def _file_of(self, card: Scorecard, table: str) -> str:
        for r in card.results:
            if r.evidence.table == table:
                return r.evidence.file
        return str(self.department.data_folder / f"{table}.*")

    def _summary_row(self, r: IndicatorResult) -> str:
        return (
            f"<tr><td>{h(r.id)}</td><td>{h(r.indicator.name(self.lang))}</td><td class=num>{h(plain(r.params.weight))}</td>"
            f"<td class=num>{h(value_text(r))}</td><td class=num>{h(plain(r.score, 2))}</td><td>{h(status_text(r.status, self.lang))}</td></tr>"
        )

    def show(self, result: IndicatorResult) -> None:
        """Everything about one indicator: its 13 columns, the formula with numbers, the rule, the evidence, a chart."""
        lang, ind = self.lang, result.indicator
        body = f"<h3>{h(ind.id)} {h(ind.name(lang))} / {h(ind.name('en' if lang == 'zh' else 'zh'))}</h3>"
        body += _table(
            [
                (f"{zh} {en}", v)
                for (zh, en), v in zip((LABELS[k] for k in DEFINITION_KEYS), self.definition(result), strict=False)
            ]
        )
        survey = survey_line(result, lang, self.params.policy.min_responses)
        survey_html = f'<br><span class="formula{" bad" if "⚠" in survey else ""}">{h(survey)}</span>' if survey else ""
        body += f'<p><b>{h(label("formula", lang))}</b><br><span class="formula">{h(formula_line(result, lang))}</span>{survey_html}</p>'
        body += f'<p><b>{h(label("rule", lang))}</b><br><span class="formula">{h(rule_line(result, lang))}</span></p>'
        body += self._evidence_html(result)
        for finding in findings(result, self.params.review_date):
            body += f'<p class="bad">⚠ {h("采集时间提示" if lang == "zh" else "Collection finding")}: {h(finding.message)}</p>'
        _display_html(body)
        chart = CHARTS.get("observation" if result.method == "observation" else ind.rate.kind)
        if chart is not None and result.evidence.rows is not None and len(result.evidence.rows):
            data = chart(result, lang)
            if data:
                _display_png(data)

    def definition(self, result: IndicatorResult) -> list[str]:
        """The seed's 13 columns for this indicator, filled in (values in the params' language)."""
        lang, ind, spec = self.lang, result.indicator, result.params
        if ind.direction == "count":
            target = f"{ind.target_text(lang)} (0 {'项未完成' if lang == 'zh' else 'unfinished items'})"
            numbers = f"per_item = {plain(spec.per_item)}"
        else:
            sign = "≥" if ind.direction == "higher" else "≤"
            target = f"{ind.target_text(lang)}: {sign} {plain(spec.target)}%"
            numbers = f"step = {plain(spec.step)}%, penalty = {plain(spec.penalty)}, bonus = {plain(spec.bonus)}"
        methods = ", ".join(self.template.methods[m](lang) if m in self.template.methods else m for m in ind.methods)
        used = self.template.methods[result.method](lang) if result.method in self.template.methods else result.method
        prerequisites = ind.prerequisites_text(lang) + "".join(
            f"; {p} = {getattr(spec, p, None)}" for p in ind.prerequisites
        )
        return [
            ind.id,
            ind.statement(lang),
            target,
            f"{plain(spec.weight)}%",
            f"{ind.rule(lang)} [{numbers}; step_rounding = {self.params.policy.step_rounding}]",
            ind.collector(lang),
            ind.source(lang),
            f"{ind.schedule_text(lang)} ({ind.schedule})",
            f"{methods} → {used}",
            f"{value_text(result)} · {label('score', lang)} {plain(result.score, 2)} · {status_text(result.status, lang)}",
            prerequisites.strip("; ") or "—",
            ind.resources(lang) or "—",
            ind.formula(lang),
        ]

    def _evidence_html(self, result: IndicatorResult) -> str:
        zh = self.lang == "zh"
        ev = result.evidence
        parts = [f"<p><b>{'证据' if zh else 'Evidence'}</b> · {h(ev.file)}</p>"]
        if result.method == "observation":
            facts = [(k, ev.facts.get(k)) for k in ("collector", "collected_on", "source", "note", "row")]
            return parts[0] + _table(facts)
        if len(ev.rows) and "outcome" in ev.rows:
            counts = ev.rows["outcome"].value_counts().sort_index()
            parts.append(_table([(str(k), int(v)) for k, v in counts.items()]))
        facts = {k: v for k, v in ev.facts.items() if k not in ("budget_file",)}
        if facts:
            parts.append(_table([(k, plain(v) if isinstance(v, Decimal) else v) for k, v in facts.items()]))
        if len(ev.excluded):
            title = "不计入的行及原因" if zh else "Rows left out, and why"
            parts.append(f"<p>{title} ({len(ev.excluded)})</p>{_rows_html(ev.excluded, 'reason')}")
        if len(ev.rows) and "outcome" in ev.rows:
            bad = ev.rows[~ev.rows["outcome"].isin(GOOD_OUTCOMES)]
            if len(bad):
                title = "未达标的行（样本）" if zh else "Failing rows (sample)"
                parts.append(
                    f"<p>{title}: {min(len(bad), SAMPLE_ROWS)} / {len(bad)}</p>{_rows_html(bad.head(SAMPLE_ROWS), 'outcome')}"
                )
        return "".join(parts)

    def record(self, card: Scorecard) -> None:
        """Record this group's indicator objects (SPEC §7) with their explanations, for the scorecard."""
        items = []
        for r in card.results:
            items.append(
                {
                    **r.to_json(),
                    "explain": {
                        "survey_line": survey_line(r, self.lang, self.params.policy.min_responses),
                        "value_text": value_text(r),
                        "formula_line": formula_line(r, self.lang),
                        "rule_line": rule_line(r, self.lang),
                        "method": r.method,
                        "file": r.evidence.file,
                        "sha256": card.files.get(r.evidence.table),
                    },
                }
            )
        payload = {
            "kind": "group",
            "group": self.group,
            "department": self.params.department,
            "period": str(self.period),
            "indicators": items,
        }
        _display_record(
            payload,
            f"recorded {len(items)} indicator(s) of group {self.group} for {self.params.department} {self.period}",
        )

    # -- scorecard notebook ---------------------------------------------------------------
    def load_recorded(self, results_dir: str | Path) -> list[dict[str, Any]]:
        """The indicator objects recorded by the executed group notebooks in `results_dir`, in template order."""
        folder = Path(results_dir)
        found: dict[str, dict[str, Any]] = {}
        rows = []
        for group in self.template.groups:
            path = folder / f"{group}.ipynb"
            record = read_record(path, kind="group")
            if record.get("department") != self.params.department or record.get("period") != str(self.period):
                raise KpiError(
                    f"{path}: recorded for {record.get('department')} {record.get('period')}, expected {self.params.department} {self.period}; re-run kpi run"
                )
            for item in record["indicators"]:
                found[item["id"]] = item
            rows.append((group, str(path), sha256_file(path), len(record["indicators"])))
        missing = [i for i in self.template.ids if i not in found]
        if missing:
            raise KpiError(
                f"{folder}: no recorded result for {', '.join(missing)}; expected every indicator of template {self.template.id}"
            )
        cells = "".join(
            f"<tr><td>{h(g)}</td><td>{h(p)}</td><td><code>{h(s)}</code></td><td class=num>{n}</td></tr>"
            for g, p, s, n in rows
        )
        _display_html(
            f"<table><tr><th>group</th><th>notebook</th><th>sha256</th><th>indicators</th></tr>{cells}</table>"
        )
        return [found[i] for i in self.template.ids]

    def scorecard(self, recorded: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The seed's table filled in with the recorded results, the weighted total and the grade."""
        lang = self.lang
        summary = combine(recorded, self.params)
        result = {
            "department": self.params.department,
            "period": str(self.period),
            "window": self.period.window(),
            "total": None if summary.total is None else float(summary.total),
            "grade": summary.grade,
            "indicators": [{k: v for k, v in item.items() if k != "explain"} for item in recorded],
        }
        header = "".join(f"<th>{h(LABELS[k][0])}<br>{h(LABELS[k][1])}</th>" for k in (*DEFINITION_KEYS, "score"))
        body = ""
        for item in recorded:
            ind = self.template.indicator(item["id"])
            ex = item["explain"]
            target = "—" if item["target"] is None else f"{'≥' if ind.direction == 'higher' else '≤'} {item['target']}%"
            cells = [
                ind.id,
                ind.statement(lang),
                f"{ind.target_text(lang)}; {target}",
                f"{item['weight']}%",
                ind.rule(lang),
                ind.collector(lang),
                ind.source(lang),
                ind.schedule_text(lang),
                self.template.methods[ex["method"]](lang) if ex["method"] in self.template.methods else ex["method"],
                "; ".join(part for part in (ex["formula_line"], ex.get("survey_line", ""), ex["rule_line"]) if part),
                ind.prerequisites_text(lang) or "—",
                ind.resources(lang) or "—",
                ind.formula(lang),
            ]
            score = "—" if item["score"] is None else f"{item['score']:.2f}"
            body += "<tr>" + "".join(f"<td>{h(c)}</td>" for c in cells) + f"<td class=num><b>{h(score)}</b></td></tr>"
        grade = f"{summary.grade} {grade_label(summary.label, lang)}" if summary.grade else "—"
        total = plain(summary.total, 2)
        note = ""
        if summary.excluded:
            text = (
                "无数据、未计入总分（其权重不参与加权）"
                if lang == "zh"
                else "left out of the total for lack of rows (their weight drops out)"
            )
            note = f"<p>{h(text)}: {h(', '.join(summary.excluded))}</p>"
        title = self.template.name(lang)
        formula = (
            "加权总分 = Σ 权重 × 得分 / Σ 权重" if lang == "zh" else "Weighted total = Σ weight × score / Σ weight"
        )
        _display_html(
            f"<h2>{h(title)}</h2><table class=sheet><tr>{header}</tr>{body}</table>"
            f"<p><b>{h(label('total', lang))}</b>: <span class=formula>{h(total)}</span> ({h(formula)}, Σ weight = {h(plain(summary.scored_weight))}) "
            f"&nbsp; <b>{h(label('grade', lang))}</b>: <span class=formula>{h(grade)}</span></p>{note}"
        )
        return result

    def show_points_lost(self, recorded: Sequence[Mapping[str, Any]]) -> None:
        """Weighted points each indicator lost (or gained) against a full 100, as a chart and a table."""
        scored = [i for i in recorded if i["status"] in ("scored", "observed")]
        weights = sum((Decimal(str(i["weight"])) for i in scored), Decimal(0)) or Decimal(1)
        lost = [((Decimal(100) - Decimal(str(i["score"]))) * Decimal(str(i["weight"])) / weights) for i in scored]
        names = [f"{i['id']} {self.template.indicator(i['id']).name(self.lang)}" for i in scored]
        title = "各指标失分（加权）Weighted points lost per indicator"
        _display_png(charts.hbars(names, [float(v) for v in lost], title, "points" if self.lang == "en" else "分"))

    def show_signoff(self) -> None:
        """The seed's sign-off block, blank until `kpi sign` re-renders the reports with the signatures."""
        from IPython.display import HTML, display

        display(HTML(signoff_html([])))

    def record_scorecard(self, result: Mapping[str, Any]) -> None:
        _display_record(
            {"kind": "scorecard", "result": dict(result)},
            f"total {result['total']} grade {result['grade']} for {result['department']} {result['period']}",
        )


def signoff_html(signoffs: Sequence[Mapping[str, Any]]) -> str:
    """The seed's sign-off block (部门经理签字 / 上级主管领导签字): who signed, when, which manifest."""
    by_role: dict[str, Mapping[str, Any]] = {}
    for record in signoffs:
        by_role[str(record.get("role"))] = record  # the latest signature of each role
    cells = []
    for role, key in (("manager", "manager_sign"), ("supervisor", "supervisor_sign")):
        signed = by_role.get(role)
        if signed:
            who = f"{h(signed.get('name'))} · {h(signed.get('time'))}"
            extra = f"<br><small>manifest sha256 {h(str(signed.get('manifest_sha256'))[:16])}… {h(signed.get('comment') or '')}</small>"
        else:
            who, extra = "&nbsp;", ""
        cells.append(f'<div>{h(LABELS[key][0])} {h(LABELS[key][1])}：<span class="line">{who}</span>{extra}</div>')
    return f'{STYLE}<div class="kpi"><div class="sign">{"".join(cells)}</div></div>'


DEFINITION_KEYS = (
    "id",
    "name",
    "target",
    "weight",
    "rule",
    "collector",
    "source",
    "schedule",
    "methods",
    "result",
    "prerequisites",
    "resources",
    "formula",
)


def _rows_html(frame: pd.DataFrame, last: str) -> str:
    """Rows as an escaped HTML table: spreadsheet row number first, department dropped."""
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
    return shown.to_html(index=False, escape=True, na_rep="", border=0)


def read_record(path: Path, kind: str) -> dict[str, Any]:
    """The last result of `kind` recorded in an executed notebook."""
    if not Path(path).is_file():
        raise KpiError(
            f"{path}: executed notebook not found; run `kpi run PARAMS --period P` first (it executes the group notebooks)"
        )
    import nbformat  # imported here: it costs a second and only the scorecard reads notebooks

    notebook = nbformat.read(str(path), as_version=4)
    found = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data and data[MIME].get("kind") == kind:
                found = data[MIME]
    if found is None:
        raise KpiError(f"{path}: no recorded {kind} result; the notebook did not run to its end")
    return dict(found)


def settle(path: Path) -> None:
    """Rewrite an executed notebook so that it depends only on its inputs (see the module docstring)."""
    import nbformat

    from .reports import write_atomic

    notebook = nbformat.read(str(path), as_version=4)
    if notebook.get("nbformat_minor", 0) >= 5:  # cell ids exist from nbformat 4.5 on
        for index, cell in enumerate(notebook.cells):
            cell["id"] = f"cell-{index}"
    papermill = notebook.metadata.get("papermill")
    if papermill and papermill.get("output_path"):
        papermill["output_path"] = path.name
    if clock.reproducible():
        when = clock.now().astimezone(UTC)
        iso, zulu = when.isoformat(), when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # papermill's and nbclient's forms
        _retime(papermill, iso)
        for cell in notebook.cells:
            _retime(cell.metadata.get("papermill"), iso)
            execution = cell.metadata.get("execution")
            if execution:
                cell.metadata["execution"] = {key: zulu for key in execution}
    write_atomic(path, nbformat.writes(notebook))


def _retime(papermill: MutableMapping[str, Any] | None, iso: str) -> None:
    """papermill's start and end times to `iso`, its duration to 0 (keys it left empty stay empty)."""
    if not papermill:
        return
    for key, value in (("start_time", iso), ("end_time", iso), ("duration", 0)):
        if papermill.get(key) is not None:
            papermill[key] = value


def start(params_path: str | Path, period: str, group: str, **injected: Any) -> Run:
    """Open a notebook's session and show its parameters and provenance."""
    path = Path(params_path)
    department = load_params(path)
    window = Period.parse(period)
    run = Run(path, window, group, department, department.for_period(window))
    run.show_header({"params_path": str(params_path), "period": period, "group": group, **injected})
    return run


# -- one chart per rate kind -----------------------------------------------------------------
def _chart_on_time(r: IndicatorResult, lang: str) -> bytes:
    rows = r.evidence.rows
    hours = rows["hours_taken"].dropna().astype(float)
    sla = str(r.evidence.facts.get("sla", ""))
    deadline = float(sla[:-1]) if sla.endswith("h") and not sla.endswith("wd") else None
    cap = max(hours.quantile(0.99) if len(hours) else 0, deadline or 0) * 1.1 or 1
    zh = lang == "zh"
    title = f"{r.id} {'响应用时分布' if zh else 'time to answer'} (sla {sla})"
    return charts.histogram(hours.clip(upper=cap).tolist(), deadline, title, "小时 hours", "期限 deadline")


def _chart_scores(r: IndicatorResult, lang: str) -> bytes:
    scores = r.evidence.rows["score"].map(float)
    counts = [int((scores == s).sum()) for s in (1, 2, 3, 4, 5)]
    threshold = float(r.evidence.facts.get("satisfied_min_score", 4))
    title = f"{r.id} {'评分分布' if lang == 'zh' else 'score distribution'} (≥ {threshold:g} = {'满意' if lang == 'zh' else 'satisfied'})"
    return charts.bars(["1", "2", "3", "4", "5"], counts, title, "n", [s < threshold for s in (1, 2, 3, 4, 5)])


def _chart_outcomes(r: IndicatorResult, lang: str) -> bytes:
    counts = r.evidence.rows["outcome"].value_counts().sort_index()
    title = f"{r.id} {r.indicator.name(lang)}"
    return charts.bars(
        [str(k) for k in counts.index],
        [int(v) for v in counts.values],
        title,
        "rows",
        [k not in GOOD_OUTCOMES for k in counts.index],
    )


def _chart_quantities(r: IndicatorResult, lang: str) -> bytes:
    zh = lang == "zh"
    labels = ["应完成量 planned", "实际完成量 actual"] if zh else ["planned", "actual"]
    return charts.bars(
        labels,
        [charts.as_float(r.evidence.denominator), charts.as_float(r.evidence.numerator)],
        f"{r.id} {r.indicator.name(lang)}",
    )


def _chart_budget(r: IndicatorResult, lang: str) -> bytes:
    f = r.evidence.facts
    labels = ["预算 budget", "计入支出 counted", "已批准超支 approved"]
    values = [charts.as_float(f.get("budget")), charts.as_float(f.get("spent")), charts.as_float(f.get("approved"))]
    return charts.bars(labels, values, f"{r.id} {r.indicator.name(lang)}", "", [False, values[1] > values[0], False])


CHARTS: dict[str, Callable[[IndicatorResult, str], bytes]] = {
    "on_time": _chart_on_time,
    "score_share": _chart_scores,
    "quantity_ratio": _chart_quantities,
    "overrun": _chart_budget,
    "unfinished_items": _chart_outcomes,
    "distinct_done": _chart_outcomes,
    "flag_share": _chart_outcomes,
    "lost_share": _chart_outcomes,
}

__all__ = ["MIME", "Run", "read_record", "settle", "start"]
