"""The period dashboard (kpi_lib/reports/dashboard.py, index.html): change since the previous period, a year's parts, the heat
map, each department's words in its language, the phone layout; and `kpi verify` with other periods that move on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import kpi_lib
from kpi_lib import AuditError
from kpi_lib.audit.crosscheck import Expected, check_index, ranked
from kpi_lib.audit.trail import check_summaries
from kpi_lib.inputs.period import Period
from kpi_lib.reports.convert import render_index, write_index
from kpi_lib.reports.dashboard import (
    SOURCES_ID,
    Sources,
    band,
    change,
    change_text,
    check_sources,
    parts_of,
    read_sources,
    recorded_sources,
)
from kpi_lib.reports.history import previous_results


def result_json(department: str, period: str, total: float | None, grade: str | None, **scores: Any) -> dict[str, Any]:
    """A result.json as a run writes it (SPEC §7), with these scores (`CS04=80` or `CS04=(80, "service")`)."""
    empty = dict.fromkeys(("target", "value", "numerator", "denominator", "steps", "n", "ci_low", "ci_high"))
    indicators = []
    for iid, score in scores.items():
        value, group = score if isinstance(score, tuple) else (score, "service")
        indicators.append(
            {**empty, "id": iid, "group": group, "weight": 10, "direction": "higher", "score": value,
             "status": "scored" if value is not None else "excluded", "excluded_rows": 0}
        )  # fmt: skip
    return {
        "department": department,
        "period": period,
        "window": Period.parse(period).window(),
        "total": total,
        "grade": grade,
        "indicators": indicators,
    }


def put(
    outputs: Path,
    period: str,
    department: str,
    total: float | None = None,
    grade: str | None = None,
    *,
    meta: dict[str, Any] | None = None,
    error: str | None = None,
    **scores: Any,
) -> Path:
    """A department folder of `outputs/<period>/` as a run leaves it (result.json, or error.txt when `error`)."""
    folder = outputs / period / department
    folder.mkdir(parents=True, exist_ok=True)
    if error is not None:
        (folder / "error.txt").write_text(error, encoding="utf-8")
    else:
        data = result_json(department, period, total, grade, **scores)
        (folder / "result.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    if meta is not None:
        (folder / "department.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return folder


def page_of(outputs: Path, period: str) -> str:
    return render_index(outputs / period, period)["index.html"].decode("utf-8")


def ranking_rows(page: str) -> dict[str, list[str]]:
    """Each department's cells of the ranking table (by department id), as text."""
    table = re.search(r"<table class=ranking>.*?</table>", page, re.DOTALL)
    assert table is not None
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(0), re.DOTALL):
        cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        if cells:
            rows[" ".join(cells[2])] = [" ".join(c) for c in cells]
    return rows


def header_cells(page: str) -> list[str]:
    table = re.search(r"<table class=ranking>.*?</thead>", page, re.DOTALL)
    assert table is not None
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<th>(.*?)</th>", table.group(0))]


# -- change since the previous period of the same kind ------------------------------------------
CHANGES = [
    # (this period, its total, the previous period's folder, the department's total there or a case, shown)
    ("2026-Q4", 85.5, "2026-Q3", 80.0, "+5.50"),
    ("2026-Q4", 80.0, "2026-Q3", 85.25, "-5.25"),
    ("2026-Q4", 70.0, "2026-Q3", 70.0, "0.00"),
    ("2026-Q4", 99.99, "2026-Q3", 0.0, "+99.99"),
    ("2026-Q4", 60.01, "2026-Q3", 60.02, "-0.01"),
    ("2026-Q1", 90.0, "2025-Q4", 88.8, "+1.20"),  # across the year
    ("2026-11", 75.0, "2026-10", 76.0, "-1.00"),
    ("2026-H2", 75.0, "2026-H1", 74.5, "+0.50"),
    ("2026", 75.0, "2025", 70.0, "+5.00"),
    ("2026-Q4", 85.5, "2026-Q3", "no result", "—"),  # the department did not run in Q3
    ("2026-Q4", 85.5, "2026-Q3", "failed", "—"),  # it failed in Q3 (error.txt)
    ("2026-Q4", 85.5, "2026-Q3", "null total", "—"),  # every indicator excluded in Q3
    ("2026-Q4", None, "2026-Q3", 80.0, "—"),  # every indicator excluded now
    ("2026-Q4", 85.5, "2026-Q3", "other period", "—"),  # Q3's folder holds a result that says 2026-Q2
    ("2026-Q4", 85.5, "2026-Q3", "damaged", "—"),  # Q3's result.json is not JSON
    ("2026-Q4", 85.5, "2026-Q2", 80.0, "—"),  # not the previous period
    ("2026-Q4", 85.5, "2026-10", 80.0, "—"),  # another kind: a month is never compared with a quarter
    ("2026-Q4", 85.5, "2026", 80.0, "—"),
    ("2026-Q4", 85.5, "2027-Q3", 80.0, "—"),
]


@pytest.mark.parametrize(("period", "total", "other", "before", "shown"), CHANGES)
def test_each_department_shows_its_change_since_the_previous_period(
    tmp_path: Path, period: str, total: float | None, other: str, before: Any, shown: str
) -> None:
    put(tmp_path, period, "cs-a", total, "B" if total is not None else None, CS01=total)
    put(tmp_path, period, "cs-z", 50.0, "E", CS01=50)  # another department, absent elsewhere
    if isinstance(before, float):
        put(tmp_path, other, "cs-a", before, "B", CS01=before)
    elif before == "failed":
        put(tmp_path, other, "cs-a", error="cs-a: params failed")
    elif before == "null total":
        put(tmp_path, other, "cs-a", None, None, CS01=None)
    elif before == "other period":
        folder = put(tmp_path, other, "cs-a", 80.0, "B", CS01=80)
        data = result_json("cs-a", "2026-Q2", 80.0, "B", CS01=80)
        (folder / "result.json").write_text(json.dumps(data), encoding="utf-8")
    elif before == "damaged":
        (put(tmp_path, other, "cs-a", 80.0, "B", CS01=80) / "result.json").write_text("{", encoding="utf-8")
    elif before == "no result":
        put(tmp_path, other, "cs-b", 80.0, "B", CS01=80)
    page = page_of(tmp_path, period)
    rows = ranking_rows(page)
    previous = str(Period.parse(period).previous())
    assert header_cells(page)[5] == f"较 {previous}"
    assert rows["cs-a"][5] == shown
    assert rows["cs-z"][5] == "—"
    trend = (
        "up" if shown.startswith("+") else "down" if shown.startswith("-") else "same" if shown == "0.00" else "none"
    )
    assert f'<td class="num change {trend}" data-label="较 {previous}">{shown}</td>' in page
    # the same values as history.previous_results, which the scorecard's trend uses
    before_now = previous_results(tmp_path / period, Period.parse(period)).get("cs-a")
    expected = change(Decimal(str(total)) if total is not None else None, before_now.total if before_now else None)
    assert change_text(expected) == shown


@pytest.mark.parametrize(
    ("folders", "note"),
    [
        ([], "上期 2026-Q3 在输出目录中没有结果，故不显示变化（—）。"),
        (["cs-b"], "cs-a 在上期 2026-Q3 没有结果，故不显示变化（—）。"),
        (["cs-a", "cs-b"], None),
    ],
)
def test_a_missing_previous_result_is_said_in_a_note(tmp_path: Path, folders: list[str], note: str | None) -> None:
    for department in ("cs-a", "cs-b"):
        put(tmp_path, "2026-Q4", department, 80.0, "B", CS01=80)
    for department in folders:
        put(tmp_path, "2026-Q3", department, 70.0, "C", CS01=70)
    notes = re.findall(r"<p class=note>(.*?)</p>", page_of(tmp_path, "2026-Q4"))
    change_notes = [n for n in notes if "2026-Q3" in n]
    if note is None:
        assert change_notes == []
    else:
        assert len(change_notes) == 1 and note in change_notes[0], change_notes


@pytest.mark.parametrize(
    ("moved", "text"),
    [
        (Decimal("1.2"), "+1.20"),
        (Decimal("-0.5"), "-0.50"),
        (Decimal("0.00"), "0.00"),
        (Decimal("120"), "+120.00"),
        (None, "—"),
    ],
)
def test_change_text(moved: Decimal | None, text: str) -> None:
    assert change_text(moved) == text


@pytest.mark.parametrize(
    ("total", "before", "moved"),
    [
        (Decimal("85.50"), Decimal("80.00"), Decimal("5.50")),
        (Decimal("80.004"), Decimal("80.000"), Decimal("0.00")),  # never -0.00 or +0.00: rounded first
        (Decimal("80.000"), Decimal("80.004"), Decimal("0.00")),
        (Decimal("80.005"), Decimal("80"), Decimal("0.01")),  # half-up
        (Decimal("80"), Decimal("80.005"), Decimal("-0.01")),
        (None, Decimal("80"), None),
        (Decimal("80"), None, None),
    ],
)
def test_change_is_exact_decimal_rounded_half_up(total: Decimal | None, before: Decimal | None, moved: Any) -> None:
    found = change(total, before)
    assert found == moved and str(found) == str(moved)  # two decimals, and 0.00 never signed


# -- a year reads as a year --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "present", "expected"),
    [
        ("quarter", {"2026-Q1": 70.0, "2026-Q2": 80.0, "2026-Q4": 90.5}, ["70.00", "80.00", "—", "90.50"]),
        ("half", {"2026-H1": 61.0, "2026-H2": 62.25}, ["61.00", "62.25"]),
        ("month", {"2026-01": 50.0, "2026-12": 99.0}, ["50.00", *["—"] * 10, "99.00"]),
    ],
)
def test_a_year_shows_each_departments_totals_in_the_parts_of_the_year(
    tmp_path: Path, kind: str, present: dict[str, float], expected: list[str]
) -> None:
    put(tmp_path, "2026", "cs-a", 81.0, "B", CS01=81)
    put(tmp_path, "2026", "cs-b", 75.0, "C", CS01=75)
    for period, total in present.items():
        put(tmp_path, period, "cs-a", total, "B", CS01=total)
    first = next(iter(present))
    (tmp_path / first / "index.html").write_text("<html></html>", encoding="utf-8")
    page = page_of(tmp_path, "2026")
    parts = [str(p) for p in parts_of(Period.parse("2026"), kind)]
    assert header_cells(page)[5:-1] == ["较 2025", *parts]
    rows = ranking_rows(page)
    assert rows["cs-a"][6:-1] == expected and rows["cs-b"][6:-1] == ["—"] * len(parts)
    assert f'<th><a href="../{first}/index.html">{first}</a></th>' in page  # a part's index, when it exists
    assert all(f'href="../{p}/index.html"' not in page for p in parts if p != first)
    assert f"{parts[0]} … {parts[-1]} 列为该部门在同年各期的加权总分" in page


def test_a_year_prefers_quarters_and_shows_no_part_column_without_part_folders(tmp_path: Path) -> None:
    put(tmp_path, "2026", "cs-a", 81.0, "B", CS01=81)
    assert header_cells(page_of(tmp_path, "2026"))[5:] == ["较 2025", "报告"]
    put(tmp_path, "2026-H1", "cs-a", 60.0, "D", CS01=60)
    put(tmp_path, "2026-Q2", "cs-a", 70.0, "C", CS01=70)
    assert header_cells(page_of(tmp_path, "2026"))[6:-1] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]


@pytest.mark.parametrize(
    ("period", "indexes", "links"),
    [
        ("2026-Q4", ["2026-Q3", "2026"], ["上期 2026-Q3", "全年 2026"]),
        ("2026-Q4", ["2026"], ["全年 2026"]),
        ("2026-Q4", ["2026-Q2", "2025"], []),  # neither the previous quarter nor the year
        ("2026-Q1", ["2025-Q4", "2026"], ["上期 2025-Q4", "全年 2026"]),
        ("2026-07", ["2026-06"], ["上期 2026-06"]),
        ("2026", ["2025", "2026-Q1", "2026-Q3"], ["上期 2025", "2026-Q1", "2026-Q3"]),
    ],
)
def test_the_page_links_the_previous_period_and_the_year_or_its_parts(
    tmp_path: Path, period: str, indexes: list[str], links: list[str]
) -> None:
    put(tmp_path, period, "cs-a", 81.0, "B", CS01=81)
    for other in indexes:
        (tmp_path / other).mkdir(parents=True, exist_ok=True)
        (tmp_path / other / "index.html").write_text("<html></html>", encoding="utf-8")
    page = page_of(tmp_path, period)
    nav = re.search(r"<nav class=periods>(.*?)</nav>", page)
    found = re.findall(r'<a href="\.\./([^/]+)/index\.html">([^<]*)</a>', nav.group(1)) if nav else []
    assert [text for _, text in found] == links
    assert all(href in indexes for href, _ in found)


# -- the ranking, the bars and the heat map ------------------------------------------------------
@pytest.fixture
def company_period(tmp_path: Path) -> Path:
    """A zh department, an en one with the default labels, one with labels of its own, one failed."""
    put(tmp_path, "2026-Q4", "cs-zh", 91.0, "A", meta={"name": "华东客服部", "lang": "zh", "labels": {"A": "优秀"}},
        CS01=(100.0, "management"), CS04=(82.5, "service"))  # fmt: skip
    put(tmp_path, "2026-Q4", "cs-en", 67.23, "D", meta={"name": "West desk", "lang": "en", "labels": {"D": "基本合格"}},
        CS01=(59.99, "management"), CS04=(None, "service"), CS08=(103.21, "key_accounts"))  # fmt: skip
    put(tmp_path, "2026-Q4", "cs-own", 75.0, "C", meta={"name": "Own", "lang": "en", "labels": {"C": "steady"}},
        CS01=(75.0, "management"))  # fmt: skip
    put(tmp_path, "2026-Q4", "cs-bad", meta={"name": "Broken", "lang": "zh", "labels": {}}, error="x\ncs-bad: no data")
    (tmp_path / "2026-Q4" / "cs-zh" / "service.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "2026-Q4" / "cs-zh" / "scorecard.html").write_text("<html></html>", encoding="utf-8")
    return tmp_path / "2026-Q4"


def test_each_departments_grade_label_is_in_its_own_language(company_period: Path) -> None:
    page = render_index(company_period, "2026-Q4")["index.html"].decode("utf-8")
    rows = ranking_rows(page)
    assert [rows[d][4] for d in ("cs-zh", "cs-en", "cs-own")] == ["A 优秀", "D basic pass", "C steady"]
    assert '<span lang="en">D basic pass</span>' in page and '<span lang="zh">A 优秀</span>' in page
    assert "基本合格" not in page  # the en department's default label, never in Chinese


# A group report's link on the index says the group's name in the department's language (its template copy in
# `inputs/` names the groups), never the group's id; without a readable template copy, the id.
GROUP_LINKS = [
    ("zh", True, ["内部管理", "客户服务", "大客户", "费用"]),
    ("en", True, ["Internal management", "Customer service", "Key accounts", "Cost"]),
    ("zh", False, ["management", "service", "key_accounts", "cost"]),
]


@pytest.mark.parametrize(("lang", "copy", "shown"), GROUP_LINKS)
def test_a_group_reports_link_names_the_group_in_the_departments_language(
    tmp_path: Path, lang: str, copy: bool, shown: list[str]
) -> None:
    groups = ["management", "service", "key_accounts", "cost"]
    meta = {"name": "Desk", "lang": lang, "labels": {"A": "优秀"}, "groups": groups}
    folder = put(tmp_path, "2026-Q4", "cs-a", 91.0, "A", meta=meta, CS01=(91.0, "management"))
    for group in groups:
        (folder / f"{group}.html").write_text("<html></html>", encoding="utf-8")
    if copy:
        (folder / "inputs").mkdir()
        shutil.copyfile(
            Path(kpi_lib.__file__).parent / "inputs" / "templates" / "customer_service.yaml",
            folder / "inputs" / "template.yaml",
        )
    page = page_of(tmp_path, "2026-Q4")
    found = re.findall(r'<a href="cs-a/(\w+)\.html">([^<]*)</a>', page)
    assert [text for href, text in found if href in groups] == shown


def test_the_bars_show_every_department_with_its_numbers_as_text(company_period: Path) -> None:
    page = render_index(company_period, "2026-Q4")["index.html"].decode("utf-8")
    bars = re.findall(r"<li>(.*?)</li>", re.search(r"<ol class=bars>(.*?)</ol>", page, re.DOTALL).group(1))
    assert [re.sub(r"<[^>]+>", "", b) for b in bars] == [
        "1. 华东客服部91.00 A 优秀",
        "2. Own75.00 C steady",
        "3. West desk67.23 D basic pass",
        "— Broken失败",
    ]
    assert re.findall(r'style="width: ([^"]+)"', page) == ["91.00%", "75.00%", "67.23%"]  # an axis of 0 to 100


def test_bars_of_a_total_above_100_scale_to_the_top_total(tmp_path: Path) -> None:
    put(tmp_path, "2026-Q4", "cs-a", 120.0, "A", CS01=120)
    put(tmp_path, "2026-Q4", "cs-b", 60.0, "D", CS01=60)
    assert re.findall(r'style="width: ([^"]+)"', page_of(tmp_path, "2026-Q4")) == ["100.00%", "50.00%"]


def test_the_heat_map_shows_each_score_as_text_in_its_band_linked_to_its_section(company_period: Path) -> None:
    page = render_index(company_period, "2026-Q4")["index.html"].decode("utf-8")
    heat = re.search(r"<table class=heat>(.*?)</table>", page, re.DOTALL).group(1)
    assert re.findall(r'<th class=num>([^<]*)</th>', heat) == ["CS01", "CS04", "CS08"]  # fmt: skip
    rows = re.findall(r"<tr><th class=who>(.*?)</th>(.*?)</tr>", heat)
    cells = {
        re.sub(r"<[^>]+>", "", name): re.findall(r'<td class="?([^" >]+)"?[^>]*>(.*?)</td>', row) for name, row in rows
    }
    assert cells["华东客服部"] == [
        ("h100", "100.00"),
        ("h75", '<a href="cs-zh/service.html#CS04">82.50</a>'),  # the group report exists: linked to the section
        ("h-absent", ""),  # not an indicator of its template
    ]
    assert cells["West desk"] == [("h0", "59.99"), ("h-none", "—"), ("h100", "103.21")]
    assert cells["Broken"] == [("bad", "失败")]
    assert '<a href="cs-zh/scorecard.html">华东客服部</a>' in heat


@pytest.mark.parametrize(
    ("score", "name"),
    [
        (None, "h-none"),
        (Decimal("0"), "h0"),
        (Decimal("59.99"), "h0"),
        (Decimal("60"), "h60"),
        (Decimal("74.99"), "h60"),
        (Decimal("75.00"), "h75"),
        (Decimal("89.99"), "h75"),
        (Decimal("90"), "h90"),
        (Decimal("99.99"), "h90"),
        (Decimal("100"), "h100"),
        (Decimal("120"), "h100"),
    ],
)
def test_heat_bands_at_their_boundaries(score: Decimal | None, name: str) -> None:
    assert band(score) == name


def test_failed_departments_are_listed_with_their_error(company_period: Path) -> None:
    page = render_index(company_period, "2026-Q4")["index.html"].decode("utf-8")
    row = ranking_rows(page)["cs-bad"]
    assert row[:4] == ["—", "Broken", "cs-bad", "失败"] and row[-1] == "cs-bad: no data error.txt"
    assert len(row) == len(ranking_rows(page)["cs-zh"]) - 1  # the failed cell spans total and grade


def test_the_page_has_a_viewport_and_a_phone_layout(company_period: Path) -> None:
    page = render_index(company_period, "2026-Q4")["index.html"].decode("utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media (max-width: 640px)" in page and "<div class=wide><table class=heat>" in page
    assert "position: sticky" in page


@pytest.mark.parametrize("period", ["2026-Q4", "2026"])
def test_verify_reads_the_ranking_table_and_not_the_tables_after_it(tmp_path: Path, period: str) -> None:
    """crosscheck.check_index reads the ranking, not the heat map or the parts' totals after it."""
    put(tmp_path, period, "cs-a", 91.0, "A", CS01=91)
    put(tmp_path, period, "cs-b", 81.0, "B", CS01=81)
    put(tmp_path, period, "cs-c", error="failed")
    put(tmp_path, "2026-Q3" if period != "2026" else "2026-Q1", "cs-a", 70.0, "C", CS01=70)
    write_index(tmp_path / period, period)
    expected = ranked(
        [
            Expected("cs-a", "ok", 91.0, "A", {"CS01": 91.0}),
            Expected("cs-b", "ok", 81.0, "B", {"CS01": 81.0}),
            Expected("cs-c", "failed"),
        ]
    )
    index = tmp_path / period / "index.html"
    assert check_index(index, expected) == []
    index.write_text(index.read_text(encoding="utf-8").replace("<b>81.00</b>", "<b>81.50</b>"), encoding="utf-8")
    assert check_index(index, expected) == [f"{index}: cs-b total is 81.50, but cs-b/result.json gives 81.0"]


# -- verify: the record of other periods ---------------------------------------------------------
@pytest.fixture
def quarters(tmp_path: Path) -> Path:
    """outputs/ with 2026-Q3 and 2026-Q4 of two departments, Q4's index written (Q3's too)."""
    for department, q3, q4 in (("cs-a", 80.0, 85.5), ("cs-b", 90.0, 88.25)):
        put(tmp_path, "2026-Q3", department, q3, "B", CS01=q3)
        put(tmp_path, "2026-Q4", department, q4, "B", CS01=q4)
    write_index(tmp_path / "2026-Q3", "2026-Q3")
    write_index(tmp_path / "2026-Q4", "2026-Q4")
    return tmp_path


def verify_summaries(period_dir: Path) -> tuple[list[str], list[str]]:
    notes: list[str] = []
    departments = sorted(p.name for p in period_dir.iterdir() if p.is_dir())
    return check_summaries(period_dir, departments, notes=notes), notes


def rerun(outputs: Path, period: str, department: str, total: float) -> None:
    """What `kpi run` does to another period's department: a new result.json, in a new folder."""
    shutil.rmtree(outputs / period / department)
    put(outputs, period, department, total, "B", CS01=total)


def test_the_index_records_what_it_showed_of_other_periods(quarters: Path) -> None:
    page = (quarters / "2026-Q4" / "index.html").read_text(encoding="utf-8")
    assert f'<script type="application/json" id="{SOURCES_ID}">' in page
    recorded = recorded_sources(page, "index.html")
    assert recorded is not None and recorded == read_sources(quarters / "2026-Q4", Period.parse("2026-Q4"))
    assert recorded.previous is not None and recorded.previous.index
    assert {d: s.total for d, s in recorded.previous.results.items()} == {
        "cs-a": Decimal("80.0"),
        "cs-b": Decimal("90.0"),
    }
    assert Sources.from_json(json.loads(json.dumps(recorded.to_json())), "x") == recorded
    assert [r[5] for r in ranking_rows(page).values()] == ["-1.75", "+5.50"]


def test_verify_passes_an_untouched_index(quarters: Path) -> None:
    assert verify_summaries(quarters / "2026-Q4") == ([], [])


@pytest.mark.parametrize(
    ("change_q3", "note"),
    [
        (lambda q: rerun(q, "2026-Q3", "cs-a", 60.0), "2026-Q3 cs-a as it was when the page was written (total 80.00)"),
        (lambda q: shutil.rmtree(q / "2026-Q3" / "cs-b"), "2026-Q3/cs-b/result.json is gone or unreadable now"),
        (lambda q: put(q, "2026-Q3", "cs-c", 70.0, "C", CS01=70), "2026-Q3 cs-c as it was when the page was written (no result)"),
        (lambda q: (q / "2026-Q3" / "index.html").unlink(), "2026-Q3/index.html is gone since the page was written"),
        (lambda q: (q / "2026").mkdir() or (q / "2026" / "index.html").write_text("x"), "2026/index.html now exists"),
    ],
)  # fmt: skip
def test_another_period_that_moved_on_since_is_a_note_not_a_failure(quarters: Path, change_q3: Any, note: str) -> None:
    """2026-Q3 run again (or removed, or the year written) after 2026-Q4's index: Q4 still verifies, with a note."""
    change_q3(quarters)
    differences, notes = verify_summaries(quarters / "2026-Q4")
    assert differences == []
    assert any(note in n for n in notes), notes
    assert notes[-1].endswith("run `kpi run --period 2026-Q4` again to show the other periods as they are now")


def test_a_part_of_the_year_that_appears_after_the_years_index_is_a_note(tmp_path: Path) -> None:
    put(tmp_path, "2026", "cs-a", 81.0, "B", CS01=81)
    write_index(tmp_path / "2026", "2026")
    put(tmp_path, "2026-Q2", "cs-a", 70.0, "C", CS01=70)
    differences, notes = verify_summaries(tmp_path / "2026")
    assert (
        differences == [] and f"{tmp_path / '2026-Q2'} is there now, and was not when the page was written" in notes[0]
    )


def test_a_hand_edited_index_is_caught_even_after_the_other_period_moved_on(quarters: Path) -> None:
    rerun(quarters, "2026-Q3", "cs-a", 60.0)
    index = quarters / "2026-Q4" / "index.html"
    page = index.read_text(encoding="utf-8")
    index.write_text(page.replace(">+5.50</td>", ">+25.50</td>"), encoding="utf-8")
    differences, _ = verify_summaries(quarters / "2026-Q4")
    assert differences == [
        f"{index}: differs from the page rendered again from the departments' results (its text, styles or links were changed)"
        "\n    index.html: a 85.50 B +5.50 → +25.50"  # the value that differs, named
    ]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # the record says Q3's cs-a had 60, the page shows the change from 60: the file, unchanged since, says 80
        (
            lambda p: p.replace('"total": "80.0"', '"total": "60.0"').replace(">+5.50</td>", ">+25.50</td>"),
            "records 2026-Q3 cs-a total 60.00 grade B, but {q3}/cs-a/result.json (unchanged since: same sha256) gives 80.00 B",
        ),
        (lambda p: re.sub(r"<script type=\"application/json\".*?</script>\n", "", p), "differs from the page rendered again"),
        (lambda p: p.replace('"schema": 1', '"schema": 2'), "not a record of other periods as kpi run writes it"),
        (lambda p: p.replace('"period": "2026-Q3"', '"period": "2026-Q2"'), "lists previous 2026-Q2, year 2026"),
        (lambda p: p.replace('id="kpi-sources">{', 'id="kpi-sources">{{'), "its record of other periods is not JSON"),
        (lambda p: p.replace('"index": true', '"index": "yes"'), "expected role (previous, year, part), index"),
        (lambda p: re.sub(r'"sha256": "[0-9a-f]+"', '"sha256": "x"', p, count=1), "sha256 is 'x'; expected 64 hex"),
        (lambda p: p.replace('"total": "80.0"', '"total": "8e1"'), "total is '8e1'; expected a decimal number"),
    ],
)  # fmt: skip
def test_an_edited_record_of_other_periods_is_a_difference(quarters: Path, edit: Any, expected: str) -> None:
    index = quarters / "2026-Q4" / "index.html"
    page = index.read_text(encoding="utf-8")
    edited = edit(page)
    assert edited != page
    index.write_text(edited, encoding="utf-8")
    differences, _ = verify_summaries(quarters / "2026-Q4")
    assert len(differences) == 1 and expected.format(q3=quarters / "2026-Q3") in differences[0], differences


def test_check_sources_table_of_recorded_and_present(quarters: Path) -> None:
    period = Period.parse("2026-Q4")
    where = quarters / "2026-Q4" / "index.html"
    now = read_sources(quarters / "2026-Q4", period)
    assert check_sources(now, now, period, where) == ([], [])
    other = Sources(Period.parse("2026-Q3"), now.others)
    assert check_sources(other, now, period, where)[0] == [
        f"{where}: its record of other periods is for 2026-Q3, not 2026-Q4"
    ]
    with pytest.raises(AuditError, match="not a record of other periods"):
        Sources.from_json({"schema": 1, "period": "2026-Q4"}, "x")


# -- in a browser ---------------------------------------------------------------------------------
def browser_widths(page: Path, width: int) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the page laid out in a `width` px frame of headless Chromium."""
    host = page.parent / "probe-host.html"
    host.write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe id=f src="{page.name}" width={width} height=900 '
        'style="border:0"></iframe><script>document.getElementById("f").onload = function () {'
        "var d = this.contentDocument.documentElement;"
        'document.body.setAttribute("data-w", d.scrollWidth + "/" + d.clientWidth)};</script></body></html>',
        encoding="utf-8",
    )
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium is not None
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
         "--window-size=1600,1000", "--virtual-time-budget=5000", "--dump-dom", host.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    found = re.search(r'data-w="(\d+)/(\d+)"', out.stdout)
    assert found is not None, out.stderr[-2000:]
    return int(found.group(1)), int(found.group(2))


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="no chromium (make pdf-deps)"
)
@pytest.mark.parametrize("width", [420, 1400])
def test_the_index_has_no_horizontal_scroll_in_chromium(tmp_path: Path, width: int) -> None:
    """Twelve indicators, a year's four quarters and long names: wide tables scroll in their own box, not the page."""
    scores = {f"CS{n:02d}": 80.0 + n for n in range(1, 13)}
    for n, department in enumerate(("cs-east", "cs-north", "cs-west-with-a-long-identifier")):
        meta = {"name": "华东客服部客户服务中心" if n == 0 else "West customer service desk", "lang": "zh" if n == 0 else "en",
                "labels": {"B": "良好"}}  # fmt: skip
        put(tmp_path, "2026", department, 85.0 + n, "B", meta=meta, **scores)
        for q in ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"):
            put(tmp_path, q, department, 80.0 + n, "B", **scores)
    put(tmp_path, "2026", "cs-failed", error="Traceback\n" + "cs-failed: a long error " * 10)
    write_index(tmp_path / "2026", "2026")
    scroll, client = browser_widths(tmp_path / "2026" / "index.html", width)
    assert scroll <= client, f"{scroll} px of content in a {client} px wide page"
