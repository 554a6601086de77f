"""What verify says (an edited page's values, one closing line) and one language per reader (CLI lines, index, summary.xlsx)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from kpi_lib.audit.crosscheck import Expected, check_index, check_xlsx, ranked
from kpi_lib.audit.pagediff import explain, key_values, missing_values
from kpi_lib.audit.trail import Report
from kpi_lib.base.messages import LANGS, say
from kpi_lib.batch.incremental import WORDS, decide, why_text
from kpi_lib.batch.lab import Update
from kpi_lib.reports.convert import render_index
from kpi_lib.reports.summary import company_lang, department_rows

from .test_dashboard import header_cells, put

RESULT = {
    "total": 96.54,
    "grade": "A",
    "indicators": [{"id": "CS01", "score": 100, "value": 98.5}, {"id": "CS02", "score": 87.25, "value": 12}],
}
PAGE = (
    "<html><head><style>b {color: red}</style><script>var total = 1</script></head><body>"
    "<h1>东区 · 2026-Q4</h1><p>加权总分 <b>96.54</b> 等级 A</p>"
    "<table><tr><td>CS01</td><td>98.5%</td><td>100.00</td></tr><tr><td>CS02</td><td>12</td><td>87.25</td></tr></table>"
    "</body></html>"
)


# -- part 7: an edited page names the values that differ -------------------------------------------------
@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        ([("96.54", "99.99")], ["scorecard.html: total 96.54 → 99.99"]),
        # an added word: the words before it name it
        ([("<td>CS01</td>", "<td>96.54</td><td>CS01</td>")], ["scorecard.html: 96.54 等级 A (nothing) → 96.54"]),
        (
            [("</body>", "<p>加权总分 <b>96.54</b></p></body>")],
            ["scorecard.html: CS02 12 87.25 (nothing) → 加权总分 96.54"],
        ),
        ([("<td>87.25</td>", "<td>97.25</td>")], ["scorecard.html: CS02 score 87.25 → 97.25"]),
        ([("98.5%", "99%")], ["scorecard.html: CS01 value 98.5% → 99%"]),
        ([("等级 A", "等级 B")], ["scorecard.html: grade A → B"]),
        ([("东区", "西区")], ["scorecard.html: start of page 东区 → 西区"]),
        (
            [("color: red", "color: blue")],
            ["scorecard.html: the same text as rendered again; its markup, styles or links were changed"],
        ),
        (
            [("var total = 1", "var total = 2")],
            ["scorecard.html: the same text as rendered again; its markup, styles or links were changed"],
        ),
        (
            [
                ("96.54", "99.99"),
                ("98.5%", "1%"),
                ("<td>100.00</td>", "<td>1.00</td>"),
                ("87.25", "1.25"),
                ("东区", "x"),
            ],
            [
                "scorecard.html: start of page 东区 → x",
                "scorecard.html: total 96.54 → 99.99",
                "scorecard.html: CS01 value 98.5% → 1%",
                "… and 2 more",
            ],
        ),
    ],
)
def test_an_edited_page_names_the_first_values_that_differ(edits: list[tuple[str, str]], expected: list[str]) -> None:
    edited = PAGE
    for old, new in edits:
        edited = edited.replace(old, new)
    assert explain("scorecard.html", edited, PAGE, key_values(RESULT)) == expected


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("", ""), []),
        (("96.54", "99.99"), ["scorecard.html: no longer shows total 96.54 (result.json)"]),
        (("87.25", "1"), ["scorecard.html: no longer shows CS02 score 87.25 (result.json)"]),
    ],
)
def test_a_page_that_cannot_be_rendered_again_is_read_for_the_key_values(
    edit: tuple[str, str], expected: list[str]
) -> None:
    page = PAGE.replace(*edit) if edit[0] else PAGE
    assert missing_values("scorecard.html", page, key_values(RESULT)) == expected


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (Report(checked=54), "verify: 0 problems in 54 outputs"),
        (Report(checked=1), "verify: 0 problems in 1 output"),
        (Report(differences=["a"], departments={"cs-a"}, department_problems=1), "verify: 1 problem in 1 department"),
        (
            Report(differences=["a", "b"], broken=["c"], departments={"cs-a", "cs-b"}, department_problems=3),
            "verify: 3 problems in 2 departments",
        ),
        (Report(differences=["index.html changed"]), "verify: 1 problem in the period's own files"),
        (
            Report(differences=["a", "index.html changed"], departments={"cs-a"}, department_problems=1),
            "verify: 2 problems in 1 department and the period's own files",
        ),
    ],
)
def test_verify_ends_with_one_closing_line(report: Report, expected: str) -> None:
    assert report.closing_line() == expected


def test_a_change_after_punctuation_is_named_by_the_words_before_it() -> None:
    page = "<p>上期没有结果（—）。</p><h2>各指标得分</h2>"
    assert explain("index.html", page.replace("各指标", "各项"), page) == [
        "index.html: 上期没有结果 各指标得分 → 各项得分"
    ]


def test_one_change_made_in_several_places_is_said_once() -> None:
    page = PAGE.replace("</body>", "<p>总计 96.54</p></body>")
    edited = page.replace("96.54", "99.99")
    assert explain("scorecard.html", edited, page, key_values(RESULT)) == [
        "scorecard.html: total 96.54 → 99.99 (2 places)"
    ]


def test_a_period_report_counts_the_departments_it_adds() -> None:
    period = Report(checked=3)
    period.add(Report(checked=20, differences=["x"], departments={"cs-a"}, department_problems=1))
    period.add(Report(checked=31))
    period.differences.append("summary.csv changed")
    assert (period.checked, period.problems, period.closing_line()) == (
        54,
        2,
        "verify: 2 problems in 1 department and the period's own files",
    )


# -- part 8: one language per reader -------------------------------------------------------------------------
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
NAMES = {"--fresh", "review_date", "kpi_lib", "SOURCE_DATE_EPOCH", "--pdf", "complaints", "surveys", "kpi", "run"}
PERIOD = re.compile(r"\b\d{4}(?:-[QH]\d|-\d\d)?\b")


def speaks_only(text: str, lang: str) -> bool:
    """Chinese text holds no English word (names aside); English text no Chinese character."""
    if lang == "en":
        return not CJK.search(text)
    words = re.findall(r"--?[A-Za-z_]+|[A-Za-z_][A-Za-z_0-9]*", PERIOD.sub("", text))
    return all(w in NAMES or len(w) == 1 for w in words)


WHYS = [
    decide(None, {}, fresh=True, adapters=False).why,
    decide(None, {}, fresh=False, adapters=False).why,
    decide({}, {}, fresh=False, adapters=False).why,
    decide({"status": "failed"}, {}, fresh=False, adapters=False).why,
    decide({"status": "ok"}, {}, fresh=False, adapters=False).why,
    *(f"changed: {text}" for text in WORDS.values()),
    "changed: " + ", ".join(WORDS.values()),
    "changed: its rows of complaints, surveys",
    "unchanged: same params, template, notebooks, toolkit and input files",
    "unchanged: same params, template, notebooks, toolkit and input files (signed: its trend keeps the earlier periods' results it was signed with)",
    "unchanged: its own rows are the same",
    "unchanged: its own rows are the same (other rows of complaints changed)",
]


@pytest.mark.parametrize("why", WHYS)
@pytest.mark.parametrize("lang", LANGS)
def test_why_a_department_ran_is_said_in_its_language(why: str, lang: str) -> None:
    said = why_text(why, lang)
    assert speaks_only(said, lang), said
    assert (said == why) == (lang == "en" or why == "--fresh")


@pytest.mark.parametrize("lang", LANGS)
def test_the_lab_status_line_is_in_the_departments_language(lang: str) -> None:
    update = Update(Path("outputs/2026-Q4/cs-east"), True, "changed: its params file, its template", 1.25)
    line = update.line(lang).replace("outputs/2026-Q4/cs-east", "")
    assert speaks_only(line, lang), line


def test_a_reason_the_catalog_has_no_words_for_is_kept() -> None:
    why = "its outputs differ from its manifest (scorecard.html: output changed)"
    assert why_text(why, "zh") == why


FINDINGS = [
    ("finding.unchecked", {}),
    (
        "finding.outside",
        {
            "count": 1,
            "dated": 2,
            "what": "",
            "schedule": "",
            "spans": "2026-12-13 – 2026-12-19",
            "sample": "",
        },
    ),
    ("finding.rows", {}),
    ("finding.observation", {}),
    ("finding.row", {"row": 3, "date": "2026-11-03"}),
    ("cli.validate.finding", {"path": "params/cs-east.yaml", "period": "2026-Q4", "finding": ""}),
    ("cli.scorecard.finding", {"finding": ""}),
    ("lab.ran", {"folder": "", "why": "", "seconds": "1.0"}),
    ("lab.up_to_date", {"folder": "", "why": "", "seconds": "1.0"}),
    *((f"summary.{key}", {}) for key in ("rank", "department", "name", "period", "status", "total", "grade")),
    ("summary.grade_label", {}),
    ("summary.status.ok", {}),
    ("summary.status.failed", {}),
    ("index.heat_note", {}),
    ("index.change", {"period": "2026-Q3"}),
]


@pytest.mark.parametrize(("key", "fields"), FINDINGS, ids=[k for k, _ in FINDINGS])
@pytest.mark.parametrize("lang", LANGS)
def test_each_message_kind_speaks_one_language(key: str, fields: dict[str, Any], lang: str) -> None:
    text = say(key, lang, **fields).replace("params/cs-east.yaml", "")
    assert speaks_only(text, lang), text


def _period(tmp_path: Path, langs: dict[str, str], company: str | None = None) -> Path:
    for n, (department, lang) in enumerate(sorted(langs.items())):
        folder = put(tmp_path, "2026-Q4", department, 90.0 - n, "A", meta={"lang": lang, "name": department}, CS01=90)
        if company is not None:
            (folder / "inputs").mkdir()
            (folder / "inputs" / "company.yaml").write_text(f"lang: {company}\n", encoding="utf-8")
    put(tmp_path, "2026-Q4", "zz-failed", error="zz-failed: no data")
    return tmp_path / "2026-Q4"


@pytest.mark.parametrize(
    ("langs", "company", "expected"),
    [
        ({"cs-a": "zh", "cs-b": "en"}, None, "zh"),  # the first department's, by id
        ({"cs-a": "en", "cs-b": "zh"}, None, "en"),
        ({"cs-a": "zh", "cs-b": "zh"}, "en", "en"),  # the company file's, over the departments'
        ({"cs-a": "en"}, "zh", "zh"),
    ],
)
def test_the_company_pages_speak_the_companys_language(
    tmp_path: Path, langs: dict[str, str], company: str | None, expected: str
) -> None:
    period_dir = _period(tmp_path, langs, company)
    rows = department_rows(period_dir)
    assert company_lang(period_dir, rows) == expected
    files = render_index(period_dir, "2026-Q4")
    page = files["index.html"].decode("utf-8")
    assert f'<html lang="{expected}">' in page
    chrome = [*header_cells(page), *re.findall(r"<h[12]>(.*?)</h[12]>", page)]
    assert all(speaks_only(cell.replace("2026-Q4", "").replace("KPI", ""), expected) for cell in chrome), chrome
    sheet = load_workbook(io.BytesIO(files["summary.xlsx"])).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:8] == [
        say(f"summary.{key}", expected)
        for key in ("rank", "department", "name", "period", "status", "total", "grade", "grade_label")
    ]
    assert [sheet.cell(row=r, column=5).value for r in range(2, sheet.max_row + 1)][-1] == say(
        "summary.status.failed", expected
    )
    csv = files["summary.csv"].decode("utf-8-sig").splitlines()
    assert csv[0].startswith("rank,department,name,period,status,total,grade,grade_label")  # a machine file
    assert ",ok," in csv[1] and ",failed," in csv[-1]
    # verify reads the company's words back: the summaries still check against the departments' results
    (period_dir / "index.html").write_bytes(files["index.html"])
    (period_dir / "summary.xlsx").write_bytes(files["summary.xlsx"])
    expected_rows = ranked(
        [
            Expected(
                r.department,
                r.status,
                90.0 - n if r.result else None,
                "A" if r.result else None,
                {"CS01": 90.0} if r.result else {},
            )
            for n, r in enumerate(sorted(rows, key=lambda r: r.department))
        ]
    )
    assert check_index(period_dir / "index.html", expected_rows) == []
    assert check_xlsx(period_dir / "summary.xlsx", expected_rows) == []


@pytest.mark.parametrize(
    "notebook",
    [None, b"{not json", b'{"cells": 3}', b"\xff\xfe"],
    ids=["missing", "not json", "not a notebook", "not utf-8"],
)
@pytest.mark.parametrize("rel", ["scorecard.html", "scorecard.audit.html", "service.html"])
def test_explaining_a_page_whose_notebook_is_damaged_falls_back_to_the_key_values(
    tmp_path: Path, notebook: bytes | None, rel: str
) -> None:
    """`audit.explain_page` only adds words to a difference already found: a notebook it cannot render is no crash."""
    import json

    from kpi_lib.audit.trail import explain_page

    folder = tmp_path / "2026-Q4" / "cs-east"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(RESULT), encoding="utf-8")
    (folder / rel).write_text(PAGE.replace("96.54", "99.99"), encoding="utf-8")
    if notebook is not None:
        (folder / f"{rel.split('.')[0]}.ipynb").write_bytes(notebook)
    assert explain_page(folder, rel) == [f"{rel}: no longer shows total 96.54 (result.json)"]
