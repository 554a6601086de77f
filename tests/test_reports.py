"""Reports for people (kpi_lib/reports.py): the period's ranking in index.html and summary.csv, rendered from a
folder of department results as `kpi run` leaves them; atomic writes; the embedded font; HTML of a notebook."""

from __future__ import annotations

import io
import json
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import nbformat
import openpyxl
import pytest
from markupsafe import escape
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kpi_lib import AuditError
from kpi_lib.files import write_atomic
from kpi_lib.reports import (
    FONT_FAMILY,
    PLACEHOLDER,
    department_reports,
    font_css,
    render_index,
    write_index,
)
from kpi_lib.summary import summary_csv_text

PERIOD = "2026-Q4"
XSS = "<script>alert('x')</script>"


def department(
    period_dir: Path,
    folder: str,
    result: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    error: str | None = None,
) -> Path:
    """A department folder as a run leaves it: result.json (done), error.txt (failed), department.json (both)."""
    path = period_dir / folder
    path.mkdir(parents=True)
    if result is not None:
        (path / "result.json").write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    if meta is not None:
        (path / "department.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    if error is not None:
        (path / "error.txt").write_text(error, encoding="utf-8")
    return path


def result(total: float | None, grade: str | None, **scores: float | None) -> dict[str, Any]:
    """A result.json as a run writes it (SPEC §7), with these scores; the other numbers are left empty."""
    empty = dict.fromkeys(("target", "value", "numerator", "denominator", "steps", "n", "ci_low", "ci_high"))
    return {
        "department": "ignored here",
        "period": PERIOD,
        "window": {"start": "2026-10-01", "end": "2026-12-31"},
        "total": total,
        "grade": grade,
        "indicators": [
            {**empty, "id": iid, "group": "service", "weight": 10, "direction": "higher", "score": score, "status": "scored",
             "excluded_rows": 0}
            for iid, score in scores.items()
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two departments tied on 85.5 (ranked by id), one ahead, one failed, and folders the index must not show."""
    period = tmp_path_factory.mktemp("reports") / PERIOD
    department(period, "cs-c", result(85.5, "B", CS01=80, CS02=91))  # no department.json: no name, no labels
    department(
        period,
        "cs-a",
        result(85.5, "B", CS01=100.0, CS02=71.333),
        {"name": "华东客服部", "lang": "zh", "labels": {"B": "良好"}},
    )
    department(
        period, "cs-b", result(92, "A", CS01=90, CS03=100), {"name": "West", "lang": "en", "labels": {"A": "excellent"}}
    )
    department(period, "cs-d", meta={"name": XSS, "lang": "zh", "labels": {}}, error="cs-d: params failed\nlast line")
    department(period, "cs-e")  # neither result nor error: not a department of this run
    department(period, ".staging-cs-x", result(99, "A", CS01=99))  # a run's staging folder
    (period / "notes.txt").write_text("not a folder", encoding="utf-8")
    for page in ("scorecard.html", "service.html"):  # cs-a's reports were made, no other department's
        (period / "cs-a" / page).write_text("<html></html>", encoding="utf-8")
    return period


@pytest.fixture(scope="module")
def rendered(pristine: Path) -> dict[str, bytes]:
    """The period's summary files (each rendering embeds a font subset: made once)."""
    return render_index(pristine, PERIOD)


@pytest.fixture
def period_dir(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the period folder, for a test that changes or writes files."""
    return Path(shutil.copytree(pristine, tmp_path / PERIOD))


def csv_rows(data: bytes) -> list[list[str]]:
    import csv

    text = data.decode("utf-8")
    assert text.startswith("\ufeff")  # a BOM, so Excel reads the Chinese names as UTF-8
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_summary_csv_ranks_by_total_then_id_and_lists_failures_last(rendered: dict[str, bytes]) -> None:
    rows = csv_rows(rendered["summary.csv"])
    assert rows == [
        [
            "rank",
            "department",
            "name",
            "period",
            "status",
            "total",
            "grade",
            "grade_label",
            "CS01",
            "CS02",
            "CS03",
            "error",
        ],
        ["1", "cs-b", "West", PERIOD, "ok", "92.00", "A", "excellent", "90.00", "", "100.00", ""],
        ["2", "cs-a", "华东客服部", PERIOD, "ok", "85.50", "B", "良好", "100.00", "71.33", "", ""],
        ["3", "cs-c", "", PERIOD, "ok", "85.50", "B", "", "80.00", "91.00", "", ""],
        ["", "cs-d", XSS, PERIOD, "failed", "", "", "", "", "", "", "cs-d: params failed"],
    ]


def test_write_index_writes_what_render_index_renders(rendered: dict[str, bytes], period_dir: Path) -> None:
    text = rendered["summary.csv"].decode("utf-8")
    assert text.splitlines()[1] == "1,cs-b,West,2026-Q4,ok,92.00,A,excellent,90.00,,100.00,"
    index, summary = write_index(period_dir, PERIOD)
    assert (index, summary) == (period_dir / "index.html", period_dir / "summary.csv")
    assert summary.read_bytes() == rendered["summary.csv"] and index.read_bytes() == rendered["index.html"]
    assert openpyxl.load_workbook(period_dir / "summary.xlsx").active.max_row == 5


def test_summary_csv_of_no_department_is_its_header() -> None:
    assert summary_csv_text(PERIOD, []) == "\ufeffrank,department,name,period,status,total,grade,grade_label,error\n"


def test_summary_xlsx_has_the_same_ranking(rendered: dict[str, bytes]) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(rendered["summary.xlsx"])).active
    departments = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert departments == ["cs-b", "cs-a", "cs-c", "cs-d"]


def test_index_html_ranks_escapes_and_links_only_what_exists(rendered: dict[str, bytes]) -> None:
    page = rendered["index.html"].decode("utf-8")
    ids = re.findall(r"<td><code>([^<]+)</code></td>", page)
    assert ids == ["cs-b", "cs-a", "cs-c", "cs-d"]
    assert "<td class=num><b>92.00</b></td>" in page and "<td>B 良好</td>" in page
    assert XSS not in page and str(escape(XSS)) in page  # Jinja2 autoescaping (markupsafe)
    assert "last line" in page and "params failed" not in page  # a failed row shows the error's last line
    assert '<a href="cs-a/scorecard.html">' in page and '<a href="cs-a/service.html">service</a>' in page
    assert '<a href="cs-b/scorecard.html">' not in page and '<a href="cs-a/scorecard.audit.html">' not in page
    assert ".staging-cs-x" not in page and "cs-e" not in page
    assert PLACEHOLDER not in page and FONT_FAMILY in page


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        ("result.json", "{not json", "not readable JSON"),
        ("result.json", "[1, 2]", "not a JSON object"),
        ("result.json", json.dumps({**result(85.5, "B"), "total": "85.5"}), "total is '85.5'; expected a number"),
        ("result.json", json.dumps({**result(85.5, "B"), "total": True}), "total is True; expected a number"),
        ("result.json", json.dumps({"grade": "B", "indicators": []}), "window, total missing"),
        ("result.json", json.dumps(result(85.5, "B", CS01=float("nan"))), "score is nan; expected a finite number"),
        ("result.json", json.dumps({**result(85.5, "B"), "indicators": [{"score": 1}]}), "an indicator: id is missing"),
        ("result.json", json.dumps({**result(85.5, "B"), "period": "2026-Q9"}), "period '2026-Q9' is not a period"),
        ("department.json", json.dumps({"name": "x", "labels": {"B": 1}}), "field labels"),
        ("department.json", json.dumps({"name": 7}), "field name"),
    ],
)
def test_a_damaged_file_is_an_audit_error_naming_it(period_dir: Path, file: str, content: str, expected: str) -> None:
    (period_dir / "cs-a" / file).write_text(content, encoding="utf-8")
    with pytest.raises(AuditError) as caught:
        render_index(period_dir, PERIOD)
    message = str(caught.value)
    assert message.startswith(str(period_dir / "cs-a" / file)) and expected in message, message


def test_an_error_file_that_is_not_utf8_is_an_audit_error(period_dir: Path) -> None:
    (period_dir / "cs-d" / "error.txt").write_bytes(b"\xff\xfe broken")
    with pytest.raises(AuditError, match=r"error\.txt: cannot be read"):
        render_index(period_dir, PERIOD)


# -- writing --------------------------------------------------------------------------------
def test_write_atomic_replaces_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "summary.csv"
    write_atomic(target, "华东,1\n")
    assert target.read_bytes() == "华东,1\n".encode()
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in target.parent.iterdir()] == ["summary.csv"]


def test_write_atomic_gives_the_mode_open_would_give(tmp_path: Path) -> None:
    write_atomic(tmp_path / "atomic.txt", "x")  # through a temporary file, which is made private (0600)
    (tmp_path / "plain.txt").write_text("x")
    modes = {stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("atomic.txt", "plain.txt")}
    assert len(modes) == 1, [oct(m) for m in modes]


# -- the embedded font ----------------------------------------------------------------------
def test_ascii_text_needs_no_font_and_every_rule_names_ours_first() -> None:
    css = font_css(["Weighted total 92.00"])
    assert "@font-face" not in css
    stacks = re.findall(r"font-family: ([^;}]+)", css)
    assert stacks and all(s.strip().startswith(f'"{FONT_FAMILY}"') for s in stacks)


def test_chinese_text_embeds_a_subset_of_exactly_its_characters() -> None:
    from kpi_lib.charts import cjk_font_path

    if cjk_font_path() is None:
        pytest.skip("no CJK font installed (mplfonts), so no subset is embedded")
    import base64

    from fontTools.ttLib import TTFont

    css = font_css(["华东客服部 ok"])
    found = re.search(r"base64,([A-Za-z0-9+/=]+)\)", css)
    assert css.startswith("@font-face") and found
    font = TTFont(io.BytesIO(base64.b64decode(found.group(1))))
    covered = {chr(c) for c in font.getBestCmap()}
    assert set("华东客服部") <= covered and "总" not in covered and "o" not in covered
    assert font_css(["部服客东华"]) == css  # the same characters in another order: the same bytes


# -- HTML of executed notebooks -------------------------------------------------------------
def test_department_reports_hide_code_from_readers_and_show_it_to_auditors(tmp_path: Path) -> None:
    notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    code = new_code_cell("secret_formula = 6 * 7\nprint(secret_formula)", execution_count=1)
    code.outputs = [new_output("stream", name="stdout", text="42\n")]
    notebook.cells = [new_markdown_cell("# 服务质量 service"), code]
    nbformat.write(notebook, str(tmp_path / "service.ipynb"))
    written = department_reports(tmp_path, "华东客服部 · 2026-Q4", ["service", "scorecard"])
    assert sorted(p.name for p in written) == ["service.audit.html", "service.html"]
    reader = (tmp_path / "service.html").read_text(encoding="utf-8")
    audit = (tmp_path / "service.audit.html").read_text(encoding="utf-8")
    assert "42" in reader and "secret_formula" not in reader
    assert "secret_formula" in audit and "42" in audit
    for page in (reader, audit):
        assert PLACEHOLDER not in page and "华东客服部 · 2026-Q4" in page
        assert not re.search(r"<script[^>]+src=\"https?://", page)  # opens offline


def test_a_department_with_every_indicator_excluded_has_no_total_and_ranks_after_the_scored(tmp_path: Path) -> None:
    """`total: null` (every indicator excluded under on_empty: exclude) is a result, shown as — and ranked last of the ok."""
    period = tmp_path / PERIOD
    department(period, "cs-a", result(None, None, CS01=None))
    department(period, "cs-b", result(60, "D", CS01=60))
    rendered = render_index(period, PERIOD)
    rows = csv_rows(rendered["summary.csv"])
    assert [r[:7] for r in rows[1:]] == [
        ["1", "cs-b", "", PERIOD, "ok", "60.00", "D"],
        ["2", "cs-a", "", PERIOD, "ok", "", ""],
    ]
    page = rendered["index.html"].decode("utf-8")
    assert "<code>cs-a</code></td><td class=num><b>—</b>" in page
