"""The reader's reports as `kpi run` writes them (issue 11, items 1–5): two demo departments, one Chinese and one
English, run for 2026-Q3 and 2026-Q4 into one outputs folder.

- verdict first: department, period, total and grade in `#verdict`, grade bands, the change against Q3, the trend;
  no notebook-author text and no provenance on a reader page (the auditor's page has both, and the trend's sources);
- links: every link of every reader page resolves, to a file and, with a fragment, to an element with that id;
- every row behind a number: `rows/<id>.csv` per indicator, in the manifest, and an edited one is caught by verify;
- one language per page: no English UI word on the Chinese department's pages, no Chinese on the English one's,
  apart from the seed's own texts and the data (the checker is shown to catch both);
- the sheet's layout for the stylesheet: column order, `c-<key>` classes, `long` cells, table boxes.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kpi_lib.base.layout import rows_csv
from kpi_lib.base.messages import catalog
from kpi_lib.inputs.template import Text, load_template

from .conftest import kpi

pytestmark = pytest.mark.slow

DEPARTMENTS = {"cs-east": "zh", "cs-west": "en"}
PERIODS = ("2026-Q3", "2026-Q4")
GROUPS = ("management", "service", "key_accounts", "cost")
PAGES = ("scorecard", *GROUPS)


@pytest.fixture(scope="module")
def outputs(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Q3, then Q4, of a Chinese and an English demo department, run by `kpi run` into one outputs folder."""
    root = tmp_path_factory.mktemp("reader")
    params = []
    for department in DEPARTMENTS:
        text = (demo_dir / "params" / f"{department}.yaml").read_text(encoding="utf-8")
        path = root / f"{department}.yaml"
        path.write_text(text.replace("data: ../data/demo", f"data: {demo_dir / 'data' / 'demo'}"), encoding="utf-8")
        params.append(path)
    for period in PERIODS:
        result = kpi("run", *params, "--period", period, "--out", root / "outputs", "--jobs", "2")
        assert result.returncode == 0, result.stderr
    return root / "outputs"


# -- reading a page -------------------------------------------------------------------------------
class Page(HTMLParser):
    """What a reader sees of a page (text nodes, `alt` texts, the title) and its links and element ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.classes: list[tuple[str, str]] = []  # (tag, class attribute) in document order
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if found.get("alt"):
            self.texts.append(str(found["alt"]))
        if found.get("class"):
            self.classes.append((tag, str(found["class"])))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def read_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def pages(outputs: Path, period: str = "2026-Q4") -> Iterator[tuple[str, str, Path]]:
    for department, lang in DEPARTMENTS.items():
        for name in PAGES:
            yield department, lang, outputs / period / department / f"{name}.html"


# -- one language per page --------------------------------------------------------------------------
CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")  # CJK characters and full-width punctuation
ASCII_WORD = re.compile(r"[A-Za-z]{3,}")
# ASCII words a Chinese page may hold that are no UI words: the function in the seed's overrun formula.
ZH_ALLOWED_WORDS = frozenset({"max"})


def template_texts(lang: str) -> set[str]:
    """Every text of the seed's template in `lang`: names and quotations, which stay as written."""
    template = load_template()
    found: set[str] = {template.name(lang)}
    found |= {text(lang) for text in template.groups.values()}
    found |= {text(lang) for text in template.methods.values()}
    for spec in template.tables.values():
        found.add(spec.label(lang))
        found |= {c.alias for c in spec.columns if c.alias}
    for ind in template.indicators:
        found |= {value(lang) for value in vars(ind).values() if isinstance(value, Text)}
    return {t for t in found if t}


def data_values(data: Path) -> tuple[set[str], set[str]]:
    """(every cell of the demo's files, the free-text ones among them: with a space or a CJK character)."""
    cells: set[str] = set()
    for path in data.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                cells |= {c.strip() for c in row if c.strip()}
    files = {path.name for path in data.glob("*.csv")}  # a table's file, named beside its label
    return cells | files, files | {c for c in cells if " " in c or CJK.search(c)}


def foreign(texts: list[str], lang: str, whole: set[str], inside: set[str]) -> list[str]:
    """The words of `texts` not in `lang`, once the seed's texts and the data are taken out.

    A text node that is a data value or a seed text as a whole is dropped; the seed's
    texts, names and free-text data values are cut out of the rest (longest first). What
    is left is read for any ASCII word of 3 or more letters (a Chinese page) or any CJK
    character (an English page).
    """
    cut = sorted(inside, key=len, reverse=True)
    found = []
    for text in texts:
        if text in whole:
            continue
        for known in cut:
            if known in text:
                text = text.replace(known, " ")
        if lang == "zh":
            found += [w for w in ASCII_WORD.findall(text) if w not in ZH_ALLOWED_WORDS]
        else:
            found += CJK.findall(text)
    return found


@pytest.fixture(scope="module")
def allowed(demo_dir: Path) -> dict[str, tuple[set[str], set[str]]]:
    """Per language: (whole text nodes allowed, strings cut out of text nodes)."""
    cells, free = data_values(demo_dir / "data" / "demo")
    out = {}
    for department, lang in DEPARTMENTS.items():
        names = {
            department,
            *re.findall(
                r"^name: (.+)$", (demo_dir / "params" / f"{department}.yaml").read_text(encoding="utf-8"), re.M
            ),
        }
        files = {rows_csv(i) for i in load_template().ids}
        seed = template_texts(lang)
        out[lang] = (cells | seed | names | files, seed | free | names | files)
    return out


def test_the_language_checker_catches_a_word_of_the_other_language(
    allowed: dict[str, tuple[set[str], set[str]]],
) -> None:
    """The checker below can fail: an English status word on a Chinese page, a Chinese one on an English page."""
    assert foreign(["超时 late 40"], "zh", *allowed["zh"]) == ["late"]
    assert foreign(["grade: D 基本合格"], "en", *allowed["en"]) == list("基本合格")
    assert foreign(["目标 95%，not satisfied"], "zh", *allowed["zh"]) == ["not", "satisfied"]
    assert foreign(["25 rows"], "zh", *allowed["zh"]) == ["rows"]


@pytest.mark.parametrize(("department", "name"), [(d, n) for d in DEPARTMENTS for n in PAGES])
def test_a_reader_page_speaks_the_departments_language_only(
    outputs: Path, allowed: dict[str, tuple[set[str], set[str]]], department: str, name: str
) -> None:
    lang = DEPARTMENTS[department]
    page = read_page(outputs / "2026-Q4" / department / f"{name}.html")
    assert foreign(page.texts, lang, *allowed[lang]) == []
    html = (outputs / "2026-Q4" / department / f"{name}.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in html


# -- verdict first, no author text, no provenance -------------------------------------------------------
def verdict(path: Path) -> tuple[str, str, str]:
    html = path.read_text(encoding="utf-8")
    # (nbconvert writes an HTML output's attributes in its own order)
    section = re.search(
        r'<section (?:id="verdict" class="verdict"|class="verdict" id="verdict")>(.*?)</section>', html, re.S
    )
    assert section, f"{path}: no verdict section"
    total = re.search(r'<div class="total">([^<]*)</div>', section.group(1))
    grade = re.search(r'<div class="grade">([^<]*)</div>', section.group(1))
    change = re.search(r'<p class="change">([^<]*)</p>', section.group(1))
    assert total and grade and change
    return total.group(1), grade.group(1), change.group(1)


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_the_scorecard_opens_with_the_verdict_and_the_change_since_the_previous_quarter(
    outputs: Path, department: str
) -> None:
    q3 = json.loads((outputs / "2026-Q3" / department / "result.json").read_text(encoding="utf-8"))
    q4 = json.loads((outputs / "2026-Q4" / department / "result.json").read_text(encoding="utf-8"))
    path = outputs / "2026-Q4" / department / "scorecard.html"
    total, grade, change = verdict(path)
    assert total == f"{Decimal(str(q4['total'])):.2f}" and grade.split()[0] == q4["grade"]
    delta = Decimal(str(q4["total"])) - Decimal(str(q3["total"]))
    assert f"{abs(delta):.2f}" in change and "2026-Q3" in change and f"{Decimal(str(q3['total'])):.2f}" in change
    word = {("zh", True): "提高", ("zh", False): "下降", ("en", True): "up", ("en", False): "down"}
    assert word[(DEPARTMENTS[department], delta > 0)] in change
    html = path.read_text(encoding="utf-8")
    first = html.index('id="verdict"')
    assert first < html.index('class="sheet"') < html.index('id="signoff"')  # verdict, then the sheet, then sign-off
    figures = re.findall(r'<img [^>]*src="data:image/png;base64,', html[first : html.index("</section>", first)])
    assert len(figures) == 2  # the trend (Q3 and Q4) and the points lost
    assert html.count('<table class="bands">') == 1


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_the_first_period_on_record_says_so(outputs: Path, department: str) -> None:
    _, _, change = verdict(outputs / "2026-Q3" / department / "scorecard.html")
    words = catalog()["report.change.first"][DEPARTMENTS[department]]
    assert change == words


@pytest.mark.parametrize(("department", "lang", "path"), list(pages(Path("."))), ids=lambda v: str(v))
def test_no_author_text_and_no_provenance_on_a_reader_page(
    outputs: Path, department: str, lang: str, path: Path
) -> None:
    html = (outputs / path).read_text(encoding="utf-8")
    for absent in (
        "make demo",
        "Run All",
        "sha256",
        "version:",
        "params file",
        "git commit",
        "results_dir",
        "indicator(s) of group",
    ):
        assert absent not in html, absent
    audit = (outputs / path).with_suffix(".audit.html").read_text(encoding="utf-8")
    assert "sha256" in audit and "params file" in audit and "version:" in audit


def test_the_auditors_scorecard_names_the_results_the_trend_used(outputs: Path) -> None:
    audit = (outputs / "2026-Q4" / "cs-east" / "scorecard.audit.html").read_text(encoding="utf-8")
    q3 = outputs / "2026-Q3" / "cs-east" / "result.json"
    assert str(q3.resolve()) in audit and catalog()["report.trend.sources"]["zh"] in audit


# -- links ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("department", "lang", "path"), list(pages(Path("."))), ids=lambda v: str(v))
def test_every_link_of_a_reader_page_resolves(outputs: Path, department: str, lang: str, path: Path) -> None:
    page_path = outputs / path
    page = read_page(page_path)
    assert "../index.html" in page.links and "scorecard.html" in page.links
    for href in page.links:
        assert not re.match(r"^[a-z]+:", href) and not href.startswith("/"), f"{href}: not a relative link"
        target, _, fragment = href.partition("#")
        file = (page_path.parent / target).resolve() if target else page_path
        if target == "../index.html":
            continue  # written by the index's own step; checked by its tests
        assert file.is_file(), f"{page_path.name}: {href} leads nowhere"
        if fragment:
            assert fragment in read_page(file).ids, f"{page_path.name}: {href}: no element with id {fragment}"


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_each_sheet_row_links_to_its_indicators_section(outputs: Path, department: str) -> None:
    folder = outputs / "2026-Q4" / department
    links = [h for h in read_page(folder / "scorecard.html").links if "#" in h]
    template = load_template()
    assert links == [f"{ind.group}.html#{ind.id}" for ind in template.indicators]
    for group in GROUPS:
        ids = read_page(folder / f"{group}.html").ids
        assert {ind.id for ind in template.in_group(group)} <= ids


# -- every row behind a number --------------------------------------------------------------------------
@pytest.mark.parametrize("department", DEPARTMENTS)
def test_every_indicator_has_its_rows_csv_in_the_manifest_and_linked(outputs: Path, department: str) -> None:
    folder = outputs / "2026-Q4" / department
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for ind in load_template().indicators:
        rel = rows_csv(ind.id)
        assert (folder / rel).is_file() and rel in manifest["outputs"]
        assert rel in read_page(folder / f"{ind.group}.html").links


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_the_rows_csv_lists_every_row_behind_the_number(outputs: Path, department: str) -> None:
    """CS04 (on time): the counted rows are the denominator, those on time the numerator, sorted by source row."""
    folder = outputs / "2026-Q4" / department
    record = next(
        i for i in json.loads((folder / "result.json").read_text(encoding="utf-8"))["indicators"] if i["id"] == "CS04"
    )
    raw = (folder / rows_csv("CS04")).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header, body = rows[0], rows[1:]
    lang = DEPARTMENTS[department]
    say = {key: entry[lang] for key, entry in catalog().items()}
    assert header[:4] == [say["column.row"], say["column.status"], say["column.outcome"], say["column.reason"]]
    numbers = [int(r[0]) for r in body]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    counted = [r for r in body if r[1] == say["report.counted"]]
    assert len(counted) == record["denominator"]
    assert sum(1 for r in counted if r[2] == say["outcome.on_time"]) == record["numerator"]


def test_verify_catches_an_edited_rows_csv(outputs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "2026-Q4"
    shutil.copytree(outputs / "2026-Q4", copy)
    assert kpi("verify", copy / "cs-east").returncode == 0
    path = copy / "cs-east" / rows_csv("CS04")
    path.write_text(path.read_text(encoding="utf-8-sig").replace("超时", "按时", 1), encoding="utf-8-sig")
    result = kpi("verify", copy / "cs-east")
    assert result.returncode != 0 and "CS04.csv" in result.stdout + result.stderr


# -- the sheet's layout ---------------------------------------------------------------------------------
SHEET_ORDER = ["id", "name", "weight", "score", "target", "rule", "result", "collector", "source", "schedule",
               "methods", "prerequisites", "resources", "formula"]  # fmt: skip


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_the_sheet_puts_score_and_weight_beside_the_indicator_and_classes_each_column(
    outputs: Path, department: str
) -> None:
    html = (outputs / "2026-Q4" / department / "scorecard.html").read_text(encoding="utf-8")
    assert '<div class="table-box"><table class="sheet">' in html
    sheet = html[html.index('<table class="sheet">') : html.index("</table>", html.index('<table class="sheet">'))]
    assert re.findall(r'<th class="c-([a-z]+)">', sheet) == SHEET_ORDER
    rows = re.findall(r"<tr>(.*?)</tr>", sheet, re.S)[1:]
    assert len(rows) == len(load_template().indicators)
    for row in rows:
        assert re.findall(r'<td class="c-([a-z]+)', row) == SHEET_ORDER
    assert 'class="c-name long"' in sheet and 'class="c-score num"' in sheet
    service = (outputs / "2026-Q4" / department / "service.html").read_text(encoding="utf-8")
    assert '<div class="table-box"><table class="rows">' in service
