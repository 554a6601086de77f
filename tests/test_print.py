"""Pages that print and read well (issue 18 §6).

Fast: the printed page's header/footer CSS (`reports.page_margins_css`, its title escaped),
no template prints `None`, the sheet's folded cells open on a tap (`<details>`), summary.xlsx's
print setup and verify comparing it.

Slow (one `kpi run --pdf` of the demo's Chinese cs-east and English cs-west, after a run of
the period before so that page 1 has the trend chart too, shared by the module): page 1 of each scorecard PDF holds the total and grade; a scorecard takes at most 3
A4 landscape pages; every page's text has the department, the period and its page number; no
English word of the sheet is cut inside its column; no rendered HTML page shows a raw Python
value (`None`, `nan`, `[]` …) outside the auditor's code cells.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from kpi_lib.audit.crosscheck import same_sheets
from kpi_lib.reports.convert import css_string, page_margins_css
from kpi_lib.reports.summary import summary_xlsx
from kpi_lib.words.pages import render

from .conftest import kpi

PERIOD = "2026-Q4"
EARLIER = "2026-Q3"
CHROMIUM = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian's chromium is not installed (make pdf-deps)"
)
RAW = (
    "None",
    "nan",
    "NaN",
    "NaT",
    "True",
    "False",
    "[]",
    "{}",
    "null",
)  # Python's (and JSON's) words, never a reader's


# -- fast --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("华东客服部 · 2026-Q4", '"华东客服部 · 2026-Q4"'),
        ('a "quoted" name', '"a \\22 quoted\\22  name"'),
        ("back\\slash", '"back\\5c slash"'),
        ("</style><script>", '"\\3c /style\\3e \\3c script\\3e "'),
        ("line\nbreak", '"line\\a break"'),
        ("R&D", '"R\\26 D"'),
    ],
)
def test_a_title_becomes_a_css_string_that_cannot_end_early(text: str, expected: str) -> None:
    assert css_string(text) == expected


def test_every_printed_page_gets_the_title_in_its_header_and_page_n_of_n_in_its_footer() -> None:
    css = page_margins_css("West service desk · 2026-Q4 · Scorecard")
    assert '@top-left {content: "West service desk · 2026-Q4 · Scorecard"' in css
    assert 'counter(page) " / " counter(pages)' in css
    assert css.count("{") == css.count("}")


@pytest.mark.parametrize(
    ("template", "context", "absent"),
    [
        (  # the auditor's report without earlier periods printed Jinja's literal `none`: "None"
            "trend_sources.html.j2",
            {
                "heading": "h",
                "none_text": "no other period",
                "columns": [],
                "rows": [],
                "skipped": [],
                "skipped_note": "",
            },
            "None",
        ),
        (  # any missing value a template prints shows as a dash
            "trend_sources.html.j2",
            {
                "heading": None,
                "none_text": None,
                "columns": [],
                "rows": [],
                "skipped": [],
                "skipped_note": "",
            },
            "None",
        ),
    ],
)
def test_no_template_prints_none(template: str, context: dict[str, object], absent: str) -> None:
    page = render(template, **context)
    assert absent not in page
    assert "<p>" in page


def _sheet_cell(long: bool) -> str:
    column = {"key": "rule", "text": "Scoring standard"}
    cell = {"key": "rule", "text": "A completion rate of 100% scores full marks", "long": long}
    return render(
        "sheet.html.j2",
        heading="h",
        title="t",
        columns=[column],
        rows=[{"href": "#x", "cells": [cell]}],
        labels={"total": "Total", "grade": "Grade"},
        total="1.00",
        formula="f",
        scored_weight="w",
        grade="A",
        excluded="",
        excluded_note="",
    )


@pytest.mark.parametrize(("long", "folded"), [(True, True), (False, False)])
def test_a_long_sheet_cell_opens_on_a_tap_not_only_on_hover(long: bool, folded: bool) -> None:
    page = _sheet_cell(long)
    assert ("<details><summary>A completion rate of 100% scores full marks</summary></details>" in page) is folded
    assert "A completion rate of 100% scores full marks" in page  # the whole text is in the page either way
    assert "td.long details[open] summary" in page  # opened, it is shown whole


def _summary(print_it: bool) -> bytes:
    data = summary_xlsx(PERIOD, [])
    if print_it:
        return data
    book = load_workbook(io.BytesIO(data))
    book.active.page_setup.orientation = "portrait"  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_summary_xlsx_prints_on_a4_landscape_one_page_wide_with_its_header_row_repeated() -> None:
    sheet = load_workbook(io.BytesIO(summary_xlsx(PERIOD, []))).active
    assert sheet is not None
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == str(sheet.PAPERSIZE_A4)
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr is not None and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"


@pytest.mark.parametrize(("print_it", "differs"), [(True, False), (False, True)])
def test_verify_compares_summary_xlsx_print_setup(tmp_path: Path, print_it: bool, differs: bool) -> None:
    found = tmp_path / "summary.xlsx"
    found.write_bytes(_summary(print_it))
    problems = same_sheets(found, summary_xlsx(PERIOD, []))
    assert bool(problems) is differs
    if differs:
        assert "prints as" in problems[0] and "portrait" in problems[0]


# -- slow: one run of the demo, printed once in Chinese and once in English ---------------------
@pytest.fixture(scope="module")
def printed(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("print-demo")
    for name in ("cs-east", "cs-west"):
        text = (demo_dir / "params" / f"{name}.yaml").read_text(encoding="utf-8")
        (root / f"{name}.yaml").write_text(
            text.replace("data: ../data/demo", f"data: {demo_dir / 'data' / 'demo'}"), encoding="utf-8"
        )
    args = ("run", root / "cs-east.yaml", root / "cs-west.yaml", "--out", root / "outputs")
    earlier = kpi(*args, "--period", EARLIER)  # a trend chart beside the points lost: the fuller first page
    assert earlier.returncode == 0, earlier.stderr
    done = kpi(*args, "--period", PERIOD, "--pdf")
    assert done.returncode == 0, done.stderr
    return root / "outputs" / PERIOD


def _pages(pdf: Path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]


DEPARTMENTS = ["cs-east", "cs-west"]  # zh, en


@pytest.mark.slow
@CHROMIUM
@pytest.mark.parametrize("department", DEPARTMENTS)
def test_page_1_of_the_scorecard_pdf_holds_the_total_and_grade(printed: Path, department: str) -> None:
    result = json.loads((printed / department / "result.json").read_text(encoding="utf-8"))
    first = _pages(printed / "pdf" / department / "scorecard.pdf")[0]
    assert f"{result['total']:.2f}" in first
    assert re.search(rf"(?<![A-Za-z]){result['grade']}(?![A-Za-z])", first), first[:300]


@pytest.mark.slow
@CHROMIUM
@pytest.mark.parametrize("department", DEPARTMENTS)
def test_a_scorecard_prints_on_at_most_3_a4_landscape_pages(printed: Path, department: str) -> None:
    reader = PdfReader(printed / "pdf" / department / "scorecard.pdf")
    assert 1 <= len(reader.pages) <= 3
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)


@pytest.mark.slow
@CHROMIUM
@pytest.mark.parametrize(("department", "report"), [(d, r) for d in DEPARTMENTS for r in ("scorecard", "service")])
def test_every_printed_page_names_the_department_the_period_and_its_number(
    printed: Path, department: str, report: str
) -> None:
    name = json.loads((printed / department / "department.json").read_text(encoding="utf-8"))["name"]
    pages = _pages(printed / "pdf" / department / f"{report}.pdf")
    for n, text in enumerate(pages, start=1):
        assert name in text and PERIOD in text and f"{n} / {len(pages)}" in text, (n, text[:200])


class _SheetText(HTMLParser):
    """The text of the page's `table.sheet` (headers and cells)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "sheet") in attrs or self.depth and tag == "table":
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


@pytest.mark.slow
@CHROMIUM
@pytest.mark.parametrize(
    ("department", "must"),
    [
        ("cs-west", {"Collection", "method", "Prerequisites", "Resources"}),  # the English columns that broke
        ("cs-east", {"senior", "management", "interview"}),  # English inside a Chinese sheet
    ],
)
def test_no_english_word_of_the_sheet_is_cut_inside_its_column(printed: Path, department: str, must: set[str]) -> None:
    parser = _SheetText()
    parser.feed((printed / department / "scorecard.html").read_text(encoding="utf-8"))
    words = set(re.findall(r"[A-Za-z]{3,}", " ".join(parser.text)))
    assert must <= words
    ligatures = {"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl"}
    text = " ".join(_pages(printed / "pdf" / department / "scorecard.pdf"))
    for ligature, letters in ligatures.items():
        text = text.replace(ligature, letters)
    printed_words = set(re.findall(r"[A-Za-z]+", text))
    assert sorted(words - printed_words) == []  # a word cut across lines prints as two pieces


class _ReaderText(HTMLParser):
    """A page's text as a reader sees it: no style, script, or the auditor's code cells (`div.input`)."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is it (inside) something skipped
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        skipped = bool(self.stack and self.stack[-1]) or tag in ("style", "script") or "input" in classes
        self.stack.append(skipped)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.text.append(data)


def _reader_text(page: Path) -> str:
    parser = _ReaderText()
    parser.feed(page.read_text(encoding="utf-8"))
    return unescape(" ".join(parser.text))


@pytest.mark.slow
@pytest.mark.parametrize(
    "page",
    [
        f"{period}/{page}"
        for period in (EARLIER, PERIOD)  # without an earlier period, and with one
        for page in (
            "index.html",
            *(
                f"{d}/{n}{k}.html"
                for d in DEPARTMENTS
                for n in ("scorecard", "service", "cost")
                for k in ("", ".audit")
            ),
        )
    ],
)
def test_no_page_shows_a_raw_python_value(printed: Path, page: str) -> None:
    text = _reader_text(printed.parent / page)
    assert len(text) > 200
    found = [
        text[max(0, m.start() - 40) : m.end() + 20]
        for token in RAW
        for m in re.finditer(rf"(?<![\w\[{{]){re.escape(token)}(?![\w\]}}])", text)
    ]
    assert found == []
