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
written to a temporary name and renamed into place (`write_atomic`).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import html
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .charts import cjk_font_path
from .errors import AuditError, KpiError, output_error, shorten

PLACEHOLDER = "/*KPI-CJK-FONT*/"
FONT_FAMILY = "KPI CJK"
NOTEBOOKS = ("management", "service", "key_accounts", "cost", "scorecard")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then a rename.

    A write the environment refuses (disk full, read-only folder) raises `OutputError` naming `path`.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise output_error(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise output_error(exc, path) from None
        raise


@lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@cache
def _exporters(reader: bool) -> Any:
    """One HTML exporter per kind and process, reused for every notebook."""
    from nbconvert import HTMLExporter

    folder = str(resources.files("kpi_lib") / "report_templates")
    exporter = HTMLExporter(template_name="kpi", extra_template_basedirs=[folder])
    exporter.exclude_input = reader
    exporter.exclude_input_prompt = reader
    exporter.exclude_output_prompt = reader
    return exporter


def notebook_html(path: Path, *, reader: bool, title: str) -> str:
    import nbformat

    return notebook_node_html(nbformat.read(str(path), as_version=4), reader=reader, title=title)


def notebook_node_html(notebook: Any, *, reader: bool, title: str) -> str:
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
    from fontTools import subset
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


def department_reports(folder: Path, title: str) -> list[Path]:
    """Both HTML reports of every executed notebook in a department folder, with one shared font subset."""
    pages: dict[Path, str] = {}
    for name in NOTEBOOKS:
        notebook = folder / f"{name}.ipynb"
        if not notebook.is_file():
            continue
        try:
            pages[folder / f"{name}.html"] = notebook_html(notebook, reader=True, title=f"{title} · {name}")
            pages[folder / f"{name}.audit.html"] = notebook_html(
                notebook, reader=False, title=f"{title} · {name} (audit)"
            )
        except Exception as exc:  # noqa: BLE001 - a damaged notebook (its writer was killed) or a rendering bug: name the file
            raise KpiError(
                f"{notebook}: cannot make its HTML reports ({type(exc).__name__}: {shorten(exc)}); the executed notebook may be damaged: run the department again"
            ) from None
    css = font_css(pages.values())
    for path, page in pages.items():
        write_atomic(path, page.replace(PLACEHOLDER, css, 1))
    return list(pages)


# -- the period's index ---------------------------------------------------------------------
def _department_rows(period_dir: Path) -> list[dict[str, Any]]:
    """One row per department folder that holds a result or an error; `AuditError` names a file that cannot be read."""
    rows = [
        row
        for folder in sorted(p for p in period_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        if (row := _department_row(folder))
    ]
    ok = sorted(
        (r for r in rows if r["status"] == "ok"),
        key=lambda r: (-(r["total"] if r["total"] is not None else -1), r["department"]),
    )
    for rank, row in enumerate(ok, start=1):
        row["rank"] = rank
    failed = [dict(r, rank=None) for r in rows if r["status"] != "ok"]
    return ok + failed


def _department_row(folder: Path) -> dict[str, Any] | None:
    """What the index shows of one department folder (None when it holds neither result nor error)."""
    result_file, error_file, meta_file = folder / "result.json", folder / "error.txt", folder / "department.json"
    meta = (
        _read_checked(meta_file, {"name": (str,), "lang": (str,), "labels": (dict,)}, required=False)
        if meta_file.is_file()
        else {}
    )
    if not all(isinstance(v, str) for v in meta.get("labels", {}).values()):
        raise AuditError(f"{meta_file}: a grade label is not text; restore the file or run the department again")
    row: dict[str, Any] = {
        "department": folder.name,
        "name": meta.get("name", ""),
        "lang": meta.get("lang", "zh"),
        "labels": meta.get("labels", {}),
    }
    if result_file.is_file():
        result = _read_checked(
            result_file,
            {"total": (int, float, type(None)), "grade": (str, type(None)), "indicators": (list,)},
            required=True,
        )
        scores = [
            result["total"],
            *(
                i.get("score") if isinstance(i, dict) and isinstance(i.get("id"), str) else "?"
                for i in result["indicators"]
            ),
        ]
        if not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)) for v in scores
        ):
            raise AuditError(
                f"{result_file}: its total or an indicator's id or score is not as kpi run writes it; restore the file or run the department again"
            )
        row.update(status="ok", total=result["total"], grade=result["grade"], indicators=result["indicators"], error="")
    elif error_file.is_file():
        try:
            error = error_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditError(
                f"{error_file}: cannot be read ({exc}); restore the file or run the department again"
            ) from None
        row.update(status="failed", total=None, grade=None, indicators=[], error=error)
    else:
        return None
    return row


def _read_checked(path: Path, fields: Mapping[str, tuple[type, ...]], *, required: bool) -> dict[str, Any]:
    """A JSON object whose `fields` (all present when `required`) have the expected types; else `AuditError` naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AuditError(
            f"{path}: not readable JSON ({shorten(exc)}); restore the file or run the department again"
        ) from None
    if not isinstance(data, dict):
        raise AuditError(f"{path}: not a JSON object; restore the file or run the department again")
    bad = [
        key
        for key, kinds in fields.items()
        if (required or key in data)
        and (key not in data or not isinstance(data[key], kinds) or isinstance(data[key], bool))
    ]
    if bad:
        raise AuditError(
            f"{path}: not as kpi run writes it (field {', '.join(bad)}); restore the file or run the department again"
        )
    return data


def write_summary_csv(period: str, rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """One row per department (UTF-8 with BOM, so Excel shows the Chinese names); every field through `csv_cell`."""
    write_atomic(path, summary_csv_text(period, rows))


def summary_csv_text(period: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """The text of `summary.csv` (see `write_summary_csv`)."""
    from .exports import csv_cell

    ids = sorted({i["id"] for r in rows for i in r["indicators"]})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            csv_cell(c)
            for c in ("rank", "department", "name", "period", "status", "total", "grade", "grade_label", *ids, "error")
        ]
    )
    for r in rows:
        scores = {i["id"]: i["score"] for i in r["indicators"]}
        label = r["labels"].get(r["grade"] or "", "")
        first_error = r["error"].splitlines()[0] if r["error"] else ""
        cells = [
            r["rank"],
            r["department"],
            r["name"],
            period,
            r["status"],
            _two_places(r["total"]),
            r["grade"],
            label,
            *(_two_places(scores.get(i)) for i in ids),
            first_error,
        ]
        writer.writerow([csv_cell(c) for c in cells])
    return "\ufeff" + buffer.getvalue()


def _two_places(value: Any) -> Decimal | None:
    """A score as the number it prints as with two decimals (a number, so `csv_cell` leaves it alone)."""
    return None if value is None else Decimal(f"{value:.2f}")


def write_index(period_dir: Path, period: str) -> tuple[Path, Path]:
    """`index.html` ranking the departments with links to their reports, `summary.csv` and `summary.xlsx`."""
    for name, data in render_index(period_dir, period).items():
        write_atomic(period_dir / name, data)
    return period_dir / "index.html", period_dir / "summary.csv"


def render_index(period_dir: Path, period: str) -> dict[str, bytes]:
    """The period's summary files as they are written (nothing written): a pure function of the department folders.

    `kpi verify` renders them again and compares: a page or a sheet that shows
    other numbers than the departments' results, by text, style or number format,
    is caught even when its stored values were left alone.
    """
    from .exports import summary_xlsx

    rows = _department_rows(period_dir)
    e = html.escape
    body = []
    for r in rows:
        dept = e(r["department"])
        links = " · ".join(
            f'<a href="{dept}/{name}{suffix}">{label}</a>'
            for name, suffix, label in (
                ("scorecard", ".html", "考核表 report"),
                ("scorecard", ".audit.html", "审计 audit"),
            )
            if (period_dir / r["department"] / f"{name}{suffix}").is_file()
        )
        groups = " ".join(
            f'<a href="{dept}/{name}.html">{e(name)}</a>'
            for name in NOTEBOOKS[:-1]
            if (period_dir / r["department"] / f"{name}.html").is_file()
        )
        if r["status"] == "ok":
            label = e(r["labels"].get(r["grade"] or "", ""))
            cells = f"<td class=num>{r['rank']}</td><td>{e(r['name'])}</td><td><code>{dept}</code></td><td class=num><b>{r['total']:.2f}</b></td><td>{e(r['grade'] or '')} {label}</td>"
            extra = f'{links} · {groups} · <a href="{dept}/result.json">result.json</a> · <a href="{dept}/scorecard.xlsx">xlsx</a>'
            body.append(f"<tr>{cells}<td>{extra}</td></tr>")
        else:
            error = e(r["error"].splitlines()[-1] if r["error"] else "")
            cells = (
                f"<td>—</td><td>{e(r['name'])}</td><td><code>{dept}</code></td><td colspan=2 class=bad>失败 failed</td>"
            )
            body.append(
                f'<tr>{cells}<td class=bad>{error}<br><a href="{dept}/error.txt">error.txt</a> {groups}</td></tr>'
            )
    head = "".join(
        f"<th>{t}</th>"
        for t in (
            "名次<br>Rank",
            "部门<br>Department",
            "编号<br>Id",
            "加权总分<br>Total",
            "等级<br>Grade",
            "报告<br>Reports",
        )
    )
    title = f"绩效量化考核 KPI appraisal · {e(period)}"
    page = f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>{title}</title>
<style>{PLACEHOLDER}
body {{margin: 2em; color: #222}} table {{border-collapse: collapse}} th, td {{border: 1px solid #ccc; padding: 4px 9px; text-align: left; vertical-align: top}}
th {{background: #f2f2f2}} .num {{text-align: right}} .bad {{color: #b3261e}} a {{color: #1a5fb4}}
</style></head><body>
<h1>{title}</h1>
<p>Departments ranked by weighted total. 部门按加权总分排名。 <a href="summary.csv">summary.csv</a> · <a href="summary.xlsx">summary.xlsx</a></p>
<table><tr>{head}</tr>
{"".join(body)}
</table></body></html>
"""
    return {
        "index.html": page.replace(PLACEHOLDER, font_css([page]), 1).encode("utf-8"),
        "summary.csv": summary_csv_text(period, rows).encode("utf-8"),
        "summary.xlsx": summary_xlsx(period, rows),
    }
