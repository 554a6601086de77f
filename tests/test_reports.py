"""Reports for people (kpi_lib/reports/convert.py): the period's ranking in index.html and summary.csv, rendered from a
folder of department results as `kpi run` leaves them; atomic writes; the embedded font; HTML of a notebook; lean
pages (self-contained, CSS pruned to the page, the font covering the page's text, charts as palette PNGs)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import openpyxl
import pytest
from fontTools.ttLib import TTFont
from markupsafe import escape
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

import kpi_lib
from kpi_lib import AuditError
from kpi_lib.base.files import write_atomic
from kpi_lib.reports.convert import (
    CSS_PLACEHOLDER,
    FONT_FAMILY,
    PLACEHOLDER,
    dedupe_styles,
    department_reports,
    font_css,
    page_classes,
    prune_css,
    render_index,
    write_index,
)
from kpi_lib.reports.summary import summary_csv_text
from kpi_lib.words.charts import PALETTE_COLOURS, bars, hbars, histogram
from kpi_lib.words.pages import AUDIT_TAG

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
            "signoff",
        ],
        ["1", "cs-b", "West", PERIOD, "ok", "92.00", "A", "excellent", "90.00", "", "100.00", "", "unsigned"],
        ["2", "cs-a", "华东客服部", PERIOD, "ok", "85.50", "B", "良好", "100.00", "71.33", "", "", "unsigned"],
        ["3", "cs-c", "", PERIOD, "ok", "85.50", "B", "", "80.00", "91.00", "", "", "unsigned"],
        ["", "cs-d", XSS, PERIOD, "failed", "", "", "", "", "", "", "cs-d: params failed", ""],
    ]


def test_write_index_writes_what_render_index_renders(rendered: dict[str, bytes], period_dir: Path) -> None:
    text = rendered["summary.csv"].decode("utf-8")
    assert text.splitlines()[1] == "1,cs-b,West,2026-Q4,ok,92.00,A,excellent,90.00,,100.00,,unsigned"
    index, summary = write_index(period_dir, PERIOD)
    assert (index, summary) == (period_dir / "index.html", period_dir / "summary.csv")
    assert summary.read_bytes() == rendered["summary.csv"] and index.read_bytes() == rendered["index.html"]
    assert openpyxl.load_workbook(period_dir / "summary.xlsx").active.max_row == 5


def test_summary_csv_of_no_department_is_its_header() -> None:
    assert (
        summary_csv_text(PERIOD, [])
        == "\ufeffrank,department,name,period,status,total,grade,grade_label,error,signoff\n"
    )


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
    ("lang", "links"),
    [
        ("zh", '<a href="cs-g/management.html">内部管理</a> · <a href="cs-g/cost.html">费用</a>'),
        ("en", '<a href="cs-g/management.html">Internal management</a> · <a href="cs-g/cost.html">Cost</a>'),
    ],
)
def test_the_index_names_group_reports_in_the_departments_language(tmp_path: Path, lang: str, links: str) -> None:
    """A group report's link reads as its title in the department's language, set off by " · " like the others."""
    period = tmp_path / PERIOD
    meta = {"name": "G", "lang": lang, "labels": {}, "groups": ["management", "cost"]}
    folder = department(period, "cs-g", result(80, "B", CS01=80), meta)
    (folder / "inputs").mkdir()
    shutil.copyfile(
        Path(kpi_lib.__file__).parent / "inputs" / "templates" / "customer_service.yaml",
        folder / "inputs" / "template.yaml",
    )
    for page in ("scorecard.html", "management.html", "cost.html"):
        (folder / page).write_text("<html></html>", encoding="utf-8")
    page = render_index(period, PERIOD)["index.html"].decode("utf-8")
    assert links in page
    assert ">management<" not in page and ">cost<" not in page


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
    from kpi_lib.words.charts import cjk_font_path

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


@pytest.mark.parametrize(
    "steps",
    [
        [("华东客服部", "华东客服部总分考核，（）"), ("，（）", ""), ("考核", "考核汇总表")],  # within: grown once
        [("考核", "考核")],  # the process's cut holds exactly the page's characters
        [("考核", ""), ("华东", ""), ("考东", "")],  # grown by each new character; the last is cut from the grown font
        [("考核", "考")],  # within lacks a character: the cut covers the page's characters all the same
        [("华东客服部", ""), ("部", "")],  # a page of one character, cut from a larger cut
    ],
)
def test_a_subset_cut_from_the_processes_grown_cut_is_the_same_bytes(
    steps: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page's subset is cut from this process's cut of the source, grown as pages ask: no byte may change."""
    from kpi_lib.reports import convert
    from kpi_lib.words.charts import cjk_font_path

    if cjk_font_path() is None:
        pytest.skip("no CJK font installed (mplfonts)")
    monkeypatch.setattr(convert, "_grown", (frozenset(), b""))
    monkeypatch.setenv(convert.FONT_CACHE, "off")  # every subset cut here, none taken from an earlier run
    convert.font_subset.cache_clear()
    for chars, within in steps:
        fast = convert.font_subset(chars, within)
        assert set(chars) <= convert._grown[0]
        assert fast == convert._cut(str(cjk_font_path()), chars, "woff2")  # as cut straight from the source
        font = TTFont(io.BytesIO(fast))
        assert font.flavor == "woff2" and {chr(c) for c in font.getBestCmap()} == set(chars)
        assert not {"GSUB", "GPOS", "vmtx"} & set(font.keys())  # layout features, vertical metrics: a page needs none
    convert.font_subset.cache_clear()


def _damage(folder: Path) -> None:
    for path in folder.glob("*.woff2"):
        path.write_bytes(path.read_bytes()[:-7] + b"damaged")


def _truncate(folder: Path) -> None:
    for path in folder.glob("*.woff2"):
        path.write_bytes(path.read_bytes()[:100])


def _swap(folder: Path) -> None:  # another set's subset under this set's name: its bytes do not match the name
    from kpi_lib.reports import convert

    other = convert._cut(str(convert.cjk_font_path()), "部", "woff2")
    for path in folder.glob("*.woff2"):
        path.write_bytes(other)


@pytest.mark.parametrize(
    ("harm", "served_from_disk"),
    [
        (None, True),  # kept: the second process takes it from disk, no cut
        (_damage, False),  # damaged bytes: not that file, cut again
        (_truncate, False),  # cut short (a writer killed before the rename cannot leave one: see write_atomic)
        (_swap, False),  # another subset's bytes under this key
    ],
)
def test_the_font_cache_serves_only_the_subset_it_was_given(
    harm: Callable[[Path], None] | None, served_from_disk: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kpi_lib.reports import convert

    if convert.cjk_font_path() is None:
        pytest.skip("no CJK font installed (mplfonts)")
    monkeypatch.setenv(convert.FONT_CACHE, str(tmp_path / "fonts"))
    convert.font_subset.cache_clear()
    chars = "华东客服部"
    expected = convert._cut(str(convert.cjk_font_path()), chars, "woff2")
    assert convert.font_subset(chars) == expected
    assert len(list((tmp_path / "fonts").glob("*.woff2"))) == 1
    if harm is not None:
        harm(tmp_path / "fonts")
    convert.font_subset.cache_clear()  # as a new process
    cuts = []
    real = convert._cut
    monkeypatch.setattr(convert, "_cut", lambda *a, **k: cuts.append(a[1:]) or real(*a, **k))
    assert convert.font_subset(chars) == expected
    assert (not cuts) == served_from_disk
    convert.font_subset.cache_clear()


@pytest.mark.parametrize("setting", ["off", "file"])
def test_no_font_cache_or_an_unusable_one_still_gives_the_subset(
    setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kpi_lib.reports import convert

    if convert.cjk_font_path() is None:
        pytest.skip("no CJK font installed (mplfonts)")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(convert.FONT_CACHE, "off" if setting == "off" else str(blocker / "fonts"))
    convert.font_subset.cache_clear()
    assert convert.font_subset("考核") == convert._cut(str(convert.cjk_font_path()), "考核", "woff2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]
    convert.font_subset.cache_clear()


# -- HTML of executed notebooks -------------------------------------------------------------
def test_the_readers_page_drops_audit_outputs_and_markdown_and_keeps_errors(tmp_path: Path) -> None:
    """Provenance is tagged `audit` (kpi_lib.notebook) and the notebooks' prose is for the analyst: neither is on the
    reader's page, both are on the auditor's; an error is never hidden; the page is in the department's language."""
    notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    shown = new_code_cell("run.show(result)", execution_count=1)
    shown.outputs = [
        new_output("display_data", data={"text/html": "<p>PROVENANCE-TABLE</p>"}, metadata={"tags": [AUDIT_TAG]}),
        new_output("display_data", data={"text/html": "<p>READER-VERDICT</p>"}),
    ]
    failing = new_code_cell("run.appraise()", execution_count=2)
    failing.outputs = [
        new_output(
            "error",
            ename="DataError",
            evalue="communications.csv row 7",
            traceback=["DataError: communications.csv row 7"],
        )
    ]
    notebook.cells = [new_markdown_cell("Run `make demo` first (AUTHOR-NOTE)"), shown, failing]
    nbformat.write(notebook, str(tmp_path / "service.ipynb"))
    (tmp_path / "department.json").write_text(json.dumps({"department": "cs-west", "lang": "en"}), encoding="utf-8")
    department_reports(tmp_path, "West · 2026-Q4", ["service"])
    reader = (tmp_path / "service.html").read_text(encoding="utf-8")
    audit = (tmp_path / "service.audit.html").read_text(encoding="utf-8")
    assert "READER-VERDICT" in reader and "PROVENANCE-TABLE" not in reader and "AUTHOR-NOTE" not in reader
    assert "READER-VERDICT" in audit and "PROVENANCE-TABLE" in audit and "AUTHOR-NOTE" in audit
    assert "communications.csv row 7" in reader and "communications.csv row 7" in audit
    assert '<html lang="en">' in reader and '<html lang="en">' in audit
    assert (
        "<title>West · 2026-Q4 · service</title>" in reader
        and "<title>West · 2026-Q4 · service (audit)</title>" in audit
    )


def test_department_reports_hide_code_from_readers_and_show_it_to_auditors(tmp_path: Path) -> None:
    notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    code = new_code_cell("secret_formula = 6 * 7\nprint(secret_formula)", execution_count=1)
    code.outputs = [new_output("stream", name="stdout", text="42\n")]
    notebook.cells = [new_markdown_cell("# 服务质量 service"), code]
    nbformat.write(notebook, str(tmp_path / "service.ipynb"))
    written = department_reports(tmp_path, "华东客服部 · 2026-Q4", ["service", "scorecard"])
    # no scorecard notebook (the run stopped before it): its reader page says so rather than being a dead link
    assert sorted(p.name for p in written) == ["scorecard.html", "service.audit.html", "service.html"]
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


# -- lean pages: what the template, the CSS pruning and the style dedupe promise -------------
@pytest.mark.parametrize(
    ("css", "classes", "expected"),
    [
        ("body {margin: 0}", set(), "body {margin: 0}"),  # no class: always kept
        (".cell {padding: 5px}", {"cell"}, ".cell {padding: 5px}"),
        (".cell {padding: 5px}", {"cells", "xcell"}, ""),  # whole names only
        (".highlight .k {color: green}", {"highlight"}, ""),  # every class of a selector must be there
        (".highlight .k {color: green}", {"highlight", "k"}, ".highlight .k {color: green}"),
        (".a, .b, p {x: 1}", {"b"}, ".b, p {x: 1}"),  # selectors of a list are kept one by one
        (".a, .b {x: 1}", set(), ""),
        (".output > .prompt {color: red}", {"output"}, ""),
        ("/* a comment */\n.a {x: 1}", {"a"}, ".a {x: 1}"),
        ("@page {margin: .5in}", set(), "@page {margin: .5in}"),
        (".a {x: 1}\n\n.b {y: 2}", {"a", "b"}, ".a {x: 1}\n.b {y: 2}"),
        ("a:hover {color: #0d47a1}", set(), "a:hover {color: #0d47a1}"),  # colours are not classes
    ],
)
def test_prune_css_keeps_the_rules_that_can_match(css: str, classes: set[str], expected: str) -> None:
    assert prune_css(css, classes) == expected


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ('<div class="cell input">', {"cell", "input"}),
        ("<td class=num>1</td>", {"num"}),
        ("<p class='bad x'>", {"bad", "x"}),
        ('<div data-class="no">class="text in a paragraph"', set()),
        ("<div>no classes</div>", set()),
    ],
)
def test_page_classes_reads_quoted_and_bare_attributes(page: str, expected: set[str]) -> None:
    assert page_classes(page) == expected


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("<style>a</style>x<style>a</style>y", "<style>a</style>xy"),
        ("<style>a</style><style>b</style><style>a</style>", "<style>a</style><style>b</style>"),
        ("<style>a\nb</style>1<style>a\nb</style>2<style>a\nb</style>", "<style>a\nb</style>12"),
        ("<style>a</style>&lt;style&gt;a&lt;/style&gt;", "<style>a</style>&lt;style&gt;a&lt;/style&gt;"),
        ("no style", "no style"),
    ],
)
def test_dedupe_styles_keeps_each_block_where_it_first_appears(page: str, expected: str) -> None:
    assert dedupe_styles(page) == expected


def embedded_font(page: str) -> TTFont | None:
    found = re.findall(r"url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)", page)
    assert len(found) <= 1
    return TTFont(io.BytesIO(base64.b64decode(found[0]))) if found else None


def page_problems(page: str) -> list[str]:
    """What a lean, self-contained report must never hold; [] for a good page."""
    problems = []
    head, body = page.split("</head>", 1)
    for tag in ("<script", "<link", "<iframe", "<object", "<embed", "@import"):
        if tag in page.lower():
            problems.append(f"{tag} in the page")
    for url in re.findall(r"""(?:\ssrc=|url\()\s*["']?([^"')\s>]*)""", page):
        if not url.startswith("data:"):
            problems.append(f"fetches {url[:60]}")
    font = embedded_font(page)
    needed = {c for c in page if ord(c) > 0x7F and not (c.isspace() and c != "\u3000")}
    covered = {chr(c) for c in font.getBestCmap()} if font is not None else set()
    if needed - covered:
        problems.append(f"the embedded font lacks {''.join(sorted(needed - covered))!r}")
    if font is not None and font.flavor != "woff2":
        problems.append(f"the font is {font.flavor}, not woff2")
    present = page_classes(body)
    head_css = "".join(re.findall(r"<style>(.*?)</style>", head, re.DOTALL))
    for selectors in re.findall(r"([^{}]+)\{[^{}]*\}", re.sub(r"url\([^)]*\)", "", head_css)):
        for selector in selectors.split(","):
            unused = set(re.findall(r"\.(-?[_a-zA-Z][-_a-zA-Z0-9]*)", selector)) - present
            if unused:
                problems.append(f"the rule for {selector.strip()!r} names classes not on the page: {sorted(unused)}")
    styles = re.findall(r"<style>.*?</style>", body, re.DOTALL)
    if len(styles) != len(set(styles)):
        problems.append("a <style> block is repeated")
    for data in re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', page):
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            if image.format != "PNG":
                problems.append(f"an image is {image.format}")
    return problems


@pytest.fixture(scope="module")
def synthetic_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Both reports of a notebook with every kind of output ours display: markdown, HTML fragments, charts, text."""
    from kpi_lib.words.charts import bars
    from kpi_lib.words.pages import render

    folder = tmp_path_factory.mktemp("lean")
    notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    chart = base64.b64encode(bars(["满意", "不满意"], [8, 2], "满意度 satisfaction", "n", [False, True])).decode()
    fragment = render("recorded.html.j2", rows=[{"group": "服务", "path": "service.ipynb", "sha256": "ab", "count": 5}])
    code = new_code_cell('from kpi_lib import notebook as kn\nrun = kn.start("p.yaml")  # 参数', execution_count=1)
    code.outputs = [
        new_output("display_data", data={"text/html": fragment, "text/plain": "table"}),
        new_output("display_data", data={"text/html": fragment, "text/plain": "table"}),
        new_output("display_data", data={"image/png": chart, "text/plain": "<Figure>"}),
        new_output("stream", name="stdout", text="总分 96.54\n"),
        new_output("execute_result", data={"text/plain": "'完成'"}, execution_count=1),
        new_output(
            "display_data", data={"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'}
        ),
        new_output("display_data", data={"application/javascript": "fetch('https://example.com')"}),
        new_output("error", ename="ValueError", evalue="坏", traceback=["\x1b[0;31mValueError\x1b[0m: 坏"]),
    ]
    notebook.cells = [new_markdown_cell("# 指标组 Indicator group\n\n说明 `code` *em*"), code]
    nbformat.write(notebook, str(folder / "service.ipynb"))
    department_reports(folder, "华东客服部 · 2026-Q4", ["service"])
    return {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.html")}


@pytest.mark.parametrize("name", ["service.html", "service.audit.html"])
def test_a_report_is_self_contained_lean_and_covered_by_its_font(synthetic_reports: dict[str, str], name: str) -> None:
    page = synthetic_reports[name]
    assert page_problems(page) == []
    assert embedded_font(page) is not None and len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == 1
    assert page.count(".kpi h2") == 1  # the fragment's style block, shown twice, is kept once
    assert re.search(r'<img [^>]*src="data:image/svg\+xml;base64,', page) and "example.com" not in page
    assert '<span class="ansi-red-fg">ValueError</span>' in page and ".ansi-red-fg {" in page
    assert PLACEHOLDER not in page and CSS_PLACEHOLDER not in page and '<html lang="zh">' in page


def test_the_audit_report_shows_code_and_prompts_and_the_reader_report_neither(
    synthetic_reports: dict[str, str],
) -> None:
    reader, audit = synthetic_reports["service.html"], synthetic_reports["service.audit.html"]
    assert 'class="highlight' not in reader and 'class="prompt"' not in reader and "Out[" not in reader
    assert '<span class="kn">import</span>' in audit and "In\xa0[1]:" in audit and "Out[1]:" in audit
    assert ".highlight .kn {" in audit and ".highlight" not in reader.split("</head>")[0]
    reader_font, audit_font = embedded_font(reader), embedded_font(audit)
    assert reader_font is not None and audit_font is not None
    extra = {chr(c) for c in audit_font.getBestCmap()} - {chr(c) for c in reader_font.getBestCmap()}
    # each page its own subset: the code's comment, the markdown cell (with its heading's ¶ anchor) and the
    # title's "审计" are the audit page's alone (the reader's page has no markdown: it is written for the analyst)
    assert extra == set("参数") | set("指标组说明") | set("审计¶")


@pytest.mark.parametrize(
    ("problem", "page"),
    [
        ("<script", '<html><head></head><body><script src="x.js"></script></body></html>'),
        ("fetches https://cdn", '<html><head></head><body><img src="https://cdn/x.png"></body></html>'),
        (
            "fetches http://x",
            '<html><head><style>a {background: url("http://x/y.png")}</style></head><body></body></html>',
        ),
        ("lacks '华'", "<html><head></head><body>华</body></html>"),
        ("names classes not on the page", "<html><head><style>.unused {x: 1}</style></head><body></body></html>"),
        ("repeated", "<html><head></head><body><style>a</style><style>a</style></body></html>"),
    ],
)
def test_page_problems_catches_each_fault(problem: str, page: str) -> None:
    """The checks above can fail: each kind of bad page is caught."""
    assert any(problem in p for p in page_problems(page)), page_problems(page)


@pytest.mark.parametrize(
    "draw",
    [
        lambda: histogram([1.0, 2.5, 30.0, 4.0] * 50, 24.0, "响应用时 CS04", "小时", "期限"),
        lambda: bars(["1", "2", "3", "4", "5"], [3, 1, 4, 10, 20], "评分分布", "n", [True, True, True, False, False]),
        lambda: hbars(["CS01 制度制订", "CS02 制度执行", "CS03 计划"], [0.0, 1.2, -0.5], "各指标失分", "分"),
    ],
    ids=["histogram", "bars", "hbars"],
)
def test_charts_are_palette_pngs_and_the_same_figure_gives_the_same_bytes(draw: Callable[[], bytes]) -> None:
    data = draw()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.mode == "P"
        colours = image.getcolors()
        assert colours is not None and 8 <= len(colours) <= PALETTE_COLOURS  # flat colours kept, antialiasing too
        assert image.width >= 500  # legible: matplotlib's size at 110 dpi, not a thumbnail
    assert draw() == data


@pytest.fixture(scope="module")
def demo_department(demo_outputs: Path) -> Path:
    """One demo department run by `kpi run` as a user runs it: its 10 real reports (shared by the session, after
    2026-Q3: see `demo_outputs`)."""
    return demo_outputs / PERIOD / "cs-west"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ["management", "service", "key_accounts", "cost", "scorecard"])
@pytest.mark.parametrize("suffix", [".html", ".audit.html"])
def test_every_demo_report_is_self_contained_lean_and_covered_by_its_font(
    demo_department: Path, notebook: str, suffix: str
) -> None:
    page = (demo_department / f"{notebook}{suffix}").read_text(encoding="utf-8")
    assert page_problems(page) == []
    assert embedded_font(page) is not None and re.search(r'<img [^>]*src="data:image/png;base64,', page)


@pytest.mark.parametrize(("lang", "says"), [("zh", "本期考核未完成"), ("en", "did not finish")])
def test_a_department_stopped_before_its_scorecard_gets_a_page_naming_its_error(
    tmp_path: Path, lang: str, says: str
) -> None:
    """Its group pages link to scorecard.html: the link must land on a page saying why there is no total."""
    import re

    from kpi_lib.base.files import write_json
    from kpi_lib.base.layout import ERROR, INDEX_LINK, SCORECARD, DepartmentFolder
    from kpi_lib.reports.convert import department_reports

    folder = tmp_path / "cs-x"
    folder.mkdir()
    write_json(DepartmentFolder(folder).meta, {"name": "X", "lang": lang, "labels": {}, "groups": ["service"]})
    written = department_reports(folder, "X", ["service", SCORECARD])
    page = DepartmentFolder(folder).reader_html(SCORECARD)
    assert written == [page]
    html = page.read_text(encoding="utf-8")
    assert says in html and f'href="{ERROR}"' in html and f'href="{INDEX_LINK}"' in html and f'lang="{lang}"' in html
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.S).replace(ERROR, "")
    if lang == "en":
        assert not re.search(r"[\u4e00-\u9fff]", text)
    else:
        assert not re.search(r"[A-Za-z]{3,}", text)
