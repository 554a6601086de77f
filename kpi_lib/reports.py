"""Reports for people: nbconvert HTML per executed notebook, the period's index.html and summary.csv.

Every executed notebook gets two self-contained HTML files:

- `<notebook>.html`, the reader's report: outputs only (`exclude_input`; papermill's
  report mode is ignored by nbconvert);
- `<notebook>.audit.html`, the auditor's report: code and outputs.

Both use the `kpi` nbconvert template (`report_templates/kpi`): JupyterLab's
template without require.js, MathJax or mermaid from a CDN, so a report opens
offline. Chinese text renders with real glyphs on any machine: each
department's reports embed one subset of Noto Sans CJK SC (shipped by
`mplfonts`) holding exactly the characters they use, made once per department;
its `head.modified` comes from `clock.now()`.

With `SOURCE_DATE_EPOCH` set the pages are byte-identical across runs: the executed
notebooks they are made from carry no run-dependent ids or times (`notebook.settle`),
nbconvert adds none of its own (heading anchors are derived from the text, cell
anchors from the cell ids), and the font subset is dated by the clock.

Exporters are created once per process and reused (`_exporters`). Every file is
written to a temporary name and renamed into place (`files.write_atomic`).

Which notebooks a department folder has comes from its template's groups (the
runner passes them; `department.json` records them for the index), never from a
fixed list: a template with groups of its own gets their reports and links too.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .charts import cjk_font_path
from .errors import AuditError, shorten
from .files import write_atomic
from .layout import (
    ERROR,
    INDEX,
    RESULT,
    SCORECARD,
    SCORECARD_XLSX,
    SUMMARY_CSV,
    SUMMARY_XLSX,
    DepartmentFolder,
    audit_html,
    reader_html,
)
from .numbers import plain
from .pages import render
from .summary import department_rows, summary_csv_text, summary_xlsx

if TYPE_CHECKING:
    from nbconvert import HTMLExporter
    from nbformat import NotebookNode

PLACEHOLDER = "/*KPI-CJK-FONT*/"
FONT_FAMILY = "KPI CJK"


@cache
def _exporters(reader: bool) -> HTMLExporter:
    """One HTML exporter per kind and process, reused for every notebook."""
    from nbconvert import HTMLExporter  # deferred, like nbformat: only `kpi run` and `kpi sign` make reports

    folder = str(resources.files("kpi_lib") / "report_templates")
    exporter = HTMLExporter(template_name="kpi", extra_template_basedirs=[folder])
    exporter.exclude_input = reader
    exporter.exclude_input_prompt = reader
    exporter.exclude_output_prompt = reader
    return exporter


def notebook_html(path: Path, *, reader: bool, title: str) -> str:
    import nbformat

    return notebook_node_html(nbformat.read(str(path), as_version=4), reader=reader, title=title)


def notebook_node_html(notebook: NotebookNode, *, reader: bool, title: str) -> str:
    """HTML of a notebook, with the font placeholder still in it (see `font_css`)."""
    body, _ = _exporters(reader).from_notebook_node(
        notebook, resources={"metadata": {"name": title}, "language_code": "zh"}
    )
    return str(body)


def font_css(texts: Iterable[str]) -> str:
    """An @font-face rule embedding the CJK font subset to the characters of `texts`."""
    chars = {c for text in texts for c in text if ord(c) > 0x7F}
    # The subset holds only non-ASCII characters, so putting it first changes no Latin text, and
    # no system font (which may answer for CJK with empty boxes) gets a chance at the Chinese.
    stack_sans = f'"{FONT_FAMILY}", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif'
    stack_mono = f'"{FONT_FAMILY}", "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace'
    rules = (
        f":root {{--jp-content-font-family: {stack_sans}; --jp-ui-font-family: {stack_sans}; --jp-code-font-family: {stack_mono};"
        f" --jp-code-font-family-default: {stack_mono}; --jp-cell-prompt-font-family: {stack_mono};}}\n"
        f"body, table, th, td, p, h1, h2, h3, div {{font-family: {stack_sans};}}\n"
        f"pre, code, .formula {{font-family: {stack_mono};}}\n"
    )
    path = cjk_font_path()
    if not chars or path is None:
        return rules
    from fontTools import subset  # deferred: only pages with Chinese text need the font subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = None
    options.desubroutinize = True  # Chromium drops glyphs of CID-keyed subsets that keep per-FD subroutines
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    buffer = io.BytesIO()
    with TTFont(
        str(path), lazy=True, recalcTimestamp=False
    ) as font:  # keeps the source font's own date: a pure function of the text
        subsetter.subset(font)
        font.save(buffer)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    face = (
        f'@font-face {{font-family: "{FONT_FAMILY}"; src: url(data:font/otf;base64,{encoded}) format("opentype");}}\n'
    )
    return face + rules


def department_reports(folder: Path, title: str, notebooks: Sequence[str]) -> list[Path]:
    """Both HTML reports of each executed notebook named (groups, then the scorecard), with one shared font subset."""
    where = DepartmentFolder(folder)
    pages: dict[Path, str] = {}
    for name in notebooks:
        notebook = where.notebook(name)
        if not notebook.is_file():
            continue
        try:
            pages[where.reader_html(name)] = notebook_html(notebook, reader=True, title=f"{title} · {name}")
            pages[where.audit_html(name)] = notebook_html(notebook, reader=False, title=f"{title} · {name} (audit)")
        except Exception as exc:  # noqa: BLE001 - a damaged notebook (its writer was killed) or a rendering bug: name the file
            raise AuditError(
                f"{notebook}: cannot make its HTML reports ({type(exc).__name__}: {shorten(exc)}); "
                "the executed notebook may be damaged: run the department again"
            ) from None
    css = font_css(pages.values())
    for path, page in pages.items():
        write_atomic(path, page.replace(PLACEHOLDER, css, 1))
    return list(pages)


# -- the period's index ---------------------------------------------------------------------
def write_index(period_dir: Path, period: str) -> tuple[Path, Path]:
    """`index.html` ranking the departments with links to their reports, `summary.csv` and `summary.xlsx`."""
    for name, data in render_index(period_dir, period).items():
        write_atomic(period_dir / name, data)
    return period_dir / INDEX, period_dir / SUMMARY_CSV


def _link(href: str, text: str) -> dict[str, str]:
    return {"href": href, "text": text}


def render_index(period_dir: Path, period: str) -> dict[str, bytes]:
    """The period's summary files as they are written (nothing written): a pure function of the department folders.

    `kpi verify` renders them again and compares: a page or a sheet that shows
    other numbers than the departments' results, by text, style or number format,
    is caught even when its stored values were left alone.
    """
    rows = department_rows(period_dir)
    shown = []
    for r in rows:
        folder = DepartmentFolder(period_dir / r.department)
        groups = [_link(f"{r.department}/{reader_html(g)}", g) for g in r.groups if folder.reader_html(g).is_file()]
        entry: dict[str, Any] = {
            "ok": r.result is not None,
            "department": r.department,
            "name": r.name,
            "groups": groups,
        }
        if r.result is not None:
            reports = [
                _link(f"{r.department}/{page}", text)
                for page, text in ((reader_html(SCORECARD), "考核表 report"), (audit_html(SCORECARD), "审计 audit"))
                if (folder.path / page).is_file()
            ]
            files = [_link(f"{r.department}/{RESULT}", RESULT), _link(f"{r.department}/{SCORECARD_XLSX}", "xlsx")]
            entry.update(
                rank=r.rank,
                total=plain(r.total, 2),
                grade=r.grade or "",
                label=r.grade_label,
                reports=reports,
                files=files,
            )
        else:
            entry.update(
                error=r.error.splitlines()[-1] if r.error else "",
                error_file=f"{r.department}/{ERROR}",
                error_file_name=ERROR,
            )
        shown.append(entry)
    columns = [
        ("名次", "Rank"),
        ("部门", "Department"),
        ("编号", "Id"),
        ("加权总分", "Total"),
        ("等级", "Grade"),
        ("报告", "Reports"),
    ]
    page = render(
        "index.html.j2",
        title=f"绩效量化考核 KPI appraisal · {period}",
        font_css=PLACEHOLDER,
        summary_csv=SUMMARY_CSV,
        summary_xlsx=SUMMARY_XLSX,
        columns=columns,
        rows=shown,
    )
    return {
        INDEX: page.replace(PLACEHOLDER, font_css([page]), 1).encode("utf-8"),
        SUMMARY_CSV: summary_csv_text(period, rows).encode("utf-8"),
        SUMMARY_XLSX: summary_xlsx(period, rows),
    }
