"""Reports for people: nbconvert HTML per executed notebook, the period's index.html and summary.csv.

Every executed notebook gets two self-contained HTML files:

- `<notebook>.html`, the reader's report: outputs only (`exclude_input`; papermill's
  report mode is ignored by nbconvert);
- `<notebook>.audit.html`, the auditor's report: code and outputs.

Both use the `kpi` nbconvert template (`report_templates/kpi`), written for these pages
rather than extending JupyterLab's: lean markup and the few CSS rules they use
(`kpi.css`), pruned per page to the classes it holds (`prune_css`), and identical
`<style>` blocks that the notebook's HTML fragments repeat kept once (`dedupe_styles`).
Nothing is fetched (no require.js, MathJax, mermaid), so a report opens offline. On the
demo a reader report went from 430–540 KB to 50–100 KB.

Chinese text renders with real glyphs on any machine: each page embeds its own subset
of Noto Sans CJK SC (shipped by `mplfonts`) holding exactly the non-ASCII characters it
uses, as WOFF2 without hinting or layout features (`font_subset`). Measured on the demo,
a subset per page is smaller in total than one per department (a group's pages need
60–70% of the department's characters, and glyphs are what weighs), so every page pays
only for its own text; the pages of a department are cut from one cut to all their
characters, which costs a third of cutting each from the 16 MB source and gives the
same bytes. A subset, being a pure function of its characters, is also kept on disk
(`FontCache`), so a page whose characters an earlier run already cut costs no cut at all.

With `SOURCE_DATE_EPOCH` set the pages are byte-identical across runs: the executed
notebooks they are made from carry no run-dependent ids or times (`notebook.settle`),
nbconvert adds none of its own (heading anchors are derived from the text, cell
anchors from the cell ids), and the font subset keeps the source font's dates.

Exporters are created once per process and reused (`_exporters`). Every file is
written to a temporary name and renamed into place (`files.write_atomic`).

Which notebooks a department folder has comes from its template's groups (the
runner passes them; `department.json` records them for the index), never from a
fixed list: a template with groups of its own gets their reports and links too.
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.errors import AuditError, KpiError, shorten
from ..base.files import sha256_bytes, write_atomic
from ..base.layout import (
    ERROR,
    INDEX,
    INDEX_LINK,
    RESULT,
    SCORECARD,
    SCORECARD_XLSX,
    SUMMARY_CSV,
    SUMMARY_XLSX,
    TEMPLATE_COPY,
    DepartmentFolder,
    audit_html,
    reader_html,
)
from ..base.messages import say
from ..base.numbers import plain
from ..inputs.period import Period
from ..inputs.template import load_template
from ..words.charts import cjk_font_path
from ..words.pages import AUDIT_TAG, render
from .dashboard import (
    SOURCES_ID,
    Sources,
    bars,
    change,
    change_text,
    heat_map,
    period_links,
    read_sources,
    trend,
)
from .summary import company_lang, department_rows, read_meta, summary_csv_text, summary_ids, summary_xlsx

if TYPE_CHECKING:
    from nbconvert import HTMLExporter
    from nbformat import NotebookNode

PLACEHOLDER = "/*KPI-CJK-FONT*/"
CSS_PLACEHOLDER = "/*KPI-CSS*/"
FONT_FAMILY = "KPI CJK"
TEMPLATE = "kpi"


@cache
def _exporters(reader: bool, lang: str = "zh") -> HTMLExporter:
    """One HTML exporter per kind, language and process, reused for every notebook.

    The reader's exporter shows outputs only, and not all of them: no code, no prompts, no
    markdown cells (the notebooks' prose is written for the analyst, in both languages; every
    heading a reader needs is emitted by code in the department's language), and no output
    tagged `audit` (provenance: parameters, versions, hashes, the recorded records; see
    `notebook.AUDIT_TAG`), dropped by nbconvert's `TagRemovePreprocessor`. The auditor's
    exporter shows everything. `lang` is the page's `<html lang>` (the department's language).
    """
    from nbconvert import HTMLExporter  # deferred, like nbformat: only `kpi run` and `kpi sign` make reports
    from nbconvert.preprocessors import TagRemovePreprocessor

    folder = str(resources.files(__package__) / "report_templates")
    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[folder])
    if reader:
        audit = TagRemovePreprocessor(remove_single_output_tags={AUDIT_TAG}, remove_cell_tags={AUDIT_TAG})
        exporter.register_preprocessor(audit, enabled=True)
    exporter.exclude_input = reader
    exporter.exclude_input_prompt = reader
    exporter.exclude_output_prompt = reader
    exporter.exclude_markdown = reader
    exporter.language_code = lang  # the page's language (nbconvert's trait, not the resources, sets <html lang>)
    return exporter


@cache
def report_css() -> str:
    """The reports' stylesheet (`report_templates/kpi/kpi.css`), one rule per line."""
    return (resources.files(__package__) / "report_templates" / TEMPLATE / "kpi.css").read_text(encoding="utf-8")


_RULE = re.compile(r"(?P<selectors>[^@{}/][^{}]*)\{(?P<body>[^{}]*)\}")
_CLASS = re.compile(r"\.(-?[_a-zA-Z][-_a-zA-Z0-9]*)")
_CLASS_ATTRIBUTE = re.compile(r"""\sclass=(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_STYLE_BLOCK = re.compile(r"<style>.*?</style>", re.DOTALL)


def page_classes(page: str) -> frozenset[str]:
    """Every class named by a `class` attribute of the page (quoted or not)."""
    return frozenset(name for found in _CLASS_ATTRIBUTE.findall(page) for value in found for name in value.split())


def prune_css(css: str, classes: Iterable[str]) -> str:
    """The rules of `css` (one per line) that can match on a page with these classes.

    A selector is kept when every class it names is among `classes` (an element
    selector names none and is always kept); a rule is kept with its kept selectors,
    or dropped when none is left. Comment lines are dropped; any other line
    (an at-rule, say) is kept as written. A page is static (no script adds a
    class later), so a dropped rule could never have applied.

    A block at-rule (`@media print {` on a line of its own, its rules one per line,
    `}` alone on the last) is pruned rule by rule the same way, and left out whole
    when none of its rules is kept. Blocks do not nest (none of ours needs to).
    """
    present = set(classes)
    kept: list[str] = []
    block: list[str] | None = None  # the open block at-rule's lines, its head first
    for line in css.splitlines():
        line = line.strip()
        if not line or line.startswith("/*"):
            continue
        if line.startswith("@") and line.endswith("{"):
            block = [line]
            continue
        if line == "}" and block is not None:
            if len(block) > 1:
                kept += [*block, line]
            block = None
            continue
        rule = _RULE.fullmatch(line)
        if rule is None:
            (kept if block is None else block).append(line)
            continue
        selectors = [s.strip() for s in rule["selectors"].split(",") if set(_CLASS.findall(s)) <= present]
        if selectors:
            (kept if block is None else block).append(f"{', '.join(selectors)} {{{rule['body'].strip()}}}")
    if block is not None:
        raise ValueError(f"kpi.css: the block {block[0]!r} is not closed by a line holding only '}}'")
    return "\n".join(kept)


def dedupe_styles(page: str) -> str:
    """The page with each repeated `<style>` block kept only where it first appears.

    Every HTML fragment a notebook displays carries the same `<style>` (so that it is
    styled in Jupyter too, `html/fragment.html.j2`); a report needs it once. CSS applies
    to the whole page wherever it stands, so a second identical block adds nothing.
    """
    seen: set[str] = set()

    def first(match: re.Match[str]) -> str:
        block = match.group(0)
        if block in seen:
            return ""
        seen.add(block)
        return block

    return _STYLE_BLOCK.sub(first, page)


def notebook_html(path: Path, *, reader: bool, title: str, lang: str = "zh") -> str:
    import nbformat

    return notebook_node_html(nbformat.read(str(path), as_version=4), reader=reader, title=title, lang=lang)


def notebook_node_html(notebook: NotebookNode, *, reader: bool, title: str, lang: str = "zh") -> str:
    """HTML of a notebook, its CSS pruned to the page, with the font placeholder still in it (see `font_css`)."""
    lang = "en" if lang == "en" else "zh"
    body, _ = _exporters(reader, lang).from_notebook_node(
        notebook, resources={"metadata": {"name": title}, "language_code": lang}
    )
    page = dedupe_styles(str(body))
    return page.replace(
        CSS_PLACEHOLDER, prune_css(report_css(), page_classes(page)) + "\n" + page_margins_css(title), 1
    )


def page_margins_css(title: str) -> str:
    """The printed page's header and footer: the page's title (department · period · report) and `n / N`.

    CSS page-margin boxes (`@top-left`, `@bottom-right` with `counter(page)`), which Chromium
    draws when it prints (`exports.html_to_pdf`, `--no-pdf-header-footer` leaving out its own
    date and URL lines). The title is a CSS string with every character that could end it or
    the `<style>` block escaped; its glyphs are in the page's font subset (the `<title>` holds them).
    """
    font = f'font-family: "{FONT_FAMILY}", system-ui, sans-serif; font-size: 8pt; color: #555'
    return (
        f"@page {{@top-left {{content: {css_string(title)}; {font}}} "
        f'@bottom-right {{content: counter(page) " / " counter(pages); {font}}}}}'
    )


def css_string(text: str) -> str:
    """`text` as a double-quoted CSS string: quotes, backslashes, markup and control characters escaped as hex."""
    safe = (c if c.isprintable() and c not in '"\\<>&' else f"\\{ord(c):x} " for c in text)
    return '"' + "".join(safe) + '"'


def page_characters(texts: Iterable[str]) -> str:
    """The non-ASCII characters of `texts`, sorted: what the embedded font must cover.

    Spaces need no glyph (any font shows a no-break space), except the ideographic space,
    whose full width is part of the layout. Leaving the no-break space of the audit page's
    prompts out gives a reader page and its audit page one subset, made once.
    """
    return "".join(sorted({c for text in texts for c in text if ord(c) > 0x7F and not _blank(c)}))


def _blank(c: str) -> bool:
    return c.isspace() and c != "\u3000"


def font_css(texts: Iterable[str], *, within: str = "") -> str:
    """An @font-face rule embedding the CJK font subset to the characters of `texts`, and the font stacks.

    `within` (characters that include those of `texts`, e.g. a whole department's) only
    makes it faster: see `font_subset`.
    """
    chars = page_characters(texts)
    # The subset holds only non-ASCII characters, so putting it first changes no Latin text, and
    # no system font (which may answer for CJK with empty boxes) gets a chance at the Chinese.
    stack_sans = f'"{FONT_FAMILY}", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif'
    stack_mono = f'"{FONT_FAMILY}", "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace'
    rules = f"body {{font-family: {stack_sans}}}\npre, code, kbd, samp {{font-family: {stack_mono}}}\n"
    if not chars or cjk_font_path() is None:
        return rules
    encoded = base64.b64encode(font_subset(chars, within)).decode("ascii")
    return f'@font-face {{font-family: "{FONT_FAMILY}"; src: url(data:font/woff2;base64,{encoded}) format("woff2")}}\n{rules}'


@lru_cache(maxsize=32)
def font_subset(chars: str, within: str = "") -> bytes:
    """WOFF2 of the CJK font cut to `chars`: a pure function of them (cached: a reader and an audit page share one).

    Cut for a static page (measured on the demo: 88 KB of OTF per department became
    21–34 KB per page): hinting is dropped (screens at these sizes antialias anyway), and
    so are the OpenType layout features (GSUB/GPOS, half of a CJK subset's bytes:
    vertical forms, other locales' glyphs, proportional punctuation; horizontal Simplified
    Chinese needs none of them and takes each glyph from the cmap) and vertical metrics. Charstrings are
    desubroutinized, which Chromium needs (it drops glyphs of CID-keyed subsets that keep
    per-FD subroutines). The source font's own dates and bounding boxes are kept (not
    recomputed: that costs a third of the time, and no browser lays text out by them), so
    the bytes depend on nothing but `chars`.

    Cutting from the 16 MB source costs about 0.35 s; cutting from a small font costs a
    third of that and gives the same bytes (fontTools keeps the source's glyph order and
    names: a test checks it). So every subset is cut from this process's plain cut of the
    source (`_covering`), which grows to cover the characters asked for: a batch's worker
    cuts the source about once per new department name, not once per page. `within`
    (characters that include those of `chars`, e.g. a whole department's) only makes it
    faster: the cut grows by all of them at once.
    """
    cache = FontCache.here()
    kept = cache.get(chars) if cache is not None else None
    if kept is not None:
        return kept
    cut = _cut(io.BytesIO(_covering(chars + within)), chars, "woff2")
    if cache is not None:
        cache.put(chars, cut)
    return cut


FONT_CACHE = "KPI_FONT_CACHE"  # the environment variable: a folder for the cache, or "off"


@dataclass(frozen=True)
class FontCache:
    """Font subsets kept on disk between runs, one file per set of characters.

    A subset is a pure function of its characters, the source font and the cutting code,
    so its key is the sha256 of exactly those: the characters, the font file (path, size
    and modification time), fontTools' version and the source of `_cut`, so a changed
    font, library or cut makes new keys and never serves old bytes. The file's name also
    carries the sha256 of its bytes: a damaged or partly written file is not that file,
    and is cut again. Writes go to a temporary name renamed into place (two processes
    may write one key: both write the same bytes). A cache that cannot be read or written
    is skipped: it only ever saves time.

    The folder is `$KPI_FONT_CACHE` (`off`: no cache), else `kpi-appraisal/fonts` in
    `$XDG_CACHE_HOME` or `~/.cache`; it can be deleted at any time. It belongs to the
    account that runs kpi, like the toolkit's own files.
    """

    folder: Path

    @staticmethod
    def here() -> FontCache | None:
        setting = os.environ.get(FONT_CACHE, "")
        if setting.strip().lower() == "off":
            return None
        if setting:
            return FontCache(Path(setting).expanduser())
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return FontCache(Path(base) / "kpi-appraisal" / "fonts")

    def _key(self, chars: str) -> str | None:
        font = cjk_font_path()
        if font is None:
            return None
        try:
            stat = font.stat()
        except OSError:
            return None
        identity = [str(font), stat.st_size, stat.st_mtime_ns, _fonttools_version(), _cut_source(), chars]
        return sha256_bytes(json.dumps(identity, ensure_ascii=False).encode("utf-8"))

    def get(self, chars: str) -> bytes | None:
        key = self._key(chars)
        if key is None:
            return None
        try:
            for path in self.folder.glob(f"{key}.*.woff2"):
                data = path.read_bytes()
                if path.name == f"{key}.{sha256_bytes(data)[:16]}.woff2":
                    return data
        except OSError:
            return None
        return None

    def put(self, chars: str, data: bytes) -> None:
        key = self._key(chars)
        if key is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self.folder / f"{key}.{sha256_bytes(data)[:16]}.woff2", data)
        except (OSError, KpiError):
            pass  # a read-only or full disk: the next page is cut again, nothing is lost


@cache
def _fonttools_version() -> str:
    return metadata.version("fonttools")


@cache
def _cut_source() -> str:
    return inspect.getsource(_cut)


_grown: tuple[frozenset[str], bytes] = (frozenset(), b"")  # this process's plain cut: its characters, its bytes
_growing = threading.Lock()


def _covering(chars: str) -> bytes:
    """This process's plain (OpenType, quick to read back) cut of the source, grown first when it lacks one of `chars`."""
    global _grown
    with _growing:
        have, font = _grown
        if not set(chars) <= have:
            have = have | set(chars)
            font = _cut(str(cjk_font_path()), "".join(sorted(have)), None)
            _grown = (have, font)
        return font


def _cut(source: str | io.BytesIO, chars: str, flavor: str | None) -> bytes:
    from fontTools import subset  # deferred: only pages with Chinese text need the font subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = flavor
    options.hinting = False
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]  # emptied, or for vertical text
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    buffer = io.BytesIO()
    with TTFont(source, lazy=True, recalcTimestamp=False, recalcBBoxes=False) as font:
        subsetter.subset(font)
        font.flavor = flavor
        font.save(buffer)
    return buffer.getvalue()


def department_reports(folder: Path, title: str, notebooks: Sequence[str]) -> list[Path]:
    """Both HTML reports of each executed notebook named (groups, then the scorecard), each with its own font subset.

    A page's title names the group in the department's language (`department.json` records
    it; the template copy in `inputs/` names the groups).
    """
    where = DepartmentFolder(folder)
    lang, names = language_and_names(where)
    pages: dict[Path, str] = {}
    for name in notebooks:
        notebook = where.notebook(name)
        if not notebook.is_file():
            continue
        shown = names.get(name, name)
        try:
            pages[where.reader_html(name)] = notebook_html(notebook, reader=True, title=f"{title} · {shown}", lang=lang)
            pages[where.audit_html(name)] = notebook_html(
                notebook, reader=False, title=f"{title} · {shown} ({say('report.audit', lang)})", lang=lang
            )
        except Exception as exc:  # noqa: BLE001 - a damaged notebook (its writer was killed) or a rendering bug: name the file
            raise AuditError(
                f"{notebook}: cannot make its HTML reports ({type(exc).__name__}: {shorten(exc)}); "
                "the executed notebook may be damaged: run the department again"
            ) from None
    if SCORECARD in notebooks and not where.notebook(SCORECARD).is_file():
        pages[where.reader_html(SCORECARD)] = unfinished_page(f"{title} · {names[SCORECARD]}", lang)
    everything = page_characters(pages.values())
    for path, page in pages.items():
        write_atomic(path, page.replace(PLACEHOLDER, font_css([page], within=everything), 1))
    return list(pages)


def unfinished_page(title: str, lang: str) -> str:
    """The reader's scorecard of a department whose run stopped before its scorecard ran (a group failed).

    Its group pages link to `scorecard.html` like any department's; rather than a dead
    link, the page says in the department's language that there is no total and points
    at `error.txt`, which the runner writes beside it.
    """
    words = {"index": say("report.nav.index", lang), "unfinished": say("report.unfinished", lang, file=ERROR)}
    return render(
        "unfinished.html.j2", lang=lang, title=title, font_css=PLACEHOLDER, index=INDEX_LINK, error=ERROR, words=words
    )


def language_and_names(where: DepartmentFolder) -> tuple[str, dict[str, str]]:
    """The department's language and its notebooks' names in it (zh and the notebooks' file names when unknown)."""
    try:
        meta = read_meta(where)
    except (KpiError, OSError):
        meta = {}
    lang = "en" if meta.get("lang") == "en" else "zh"
    names = {SCORECARD: say("report.nav.scorecard", lang)}
    copy = where.inputs / TEMPLATE_COPY
    if copy.is_file():
        try:
            template = load_template(str(copy))
        except (KpiError, OSError):
            return lang, names
        names.update({group: text(lang) for group, text in template.groups.items()})
    return lang, names


# -- the period's index ---------------------------------------------------------------------
def write_index(period_dir: Path, period: str) -> tuple[Path, Path]:
    """`index.html` (the period's dashboard, see `dashboard`), `summary.csv` and `summary.xlsx`."""
    for name, data in render_index(period_dir, period).items():
        write_atomic(period_dir / name, data)
    return period_dir / INDEX, period_dir / SUMMARY_CSV


def _link(href: str, text: str) -> dict[str, str]:
    return {"href": href, "text": text}


def render_index(period_dir: Path, period: str, sources: Sources | None = None) -> dict[str, bytes]:
    """The period's summary files as they are written (nothing written): a pure function of the folders it reads.

    The department folders give the ranking, the bars and the heat map; `sources` (what the
    page shows of other periods: the previous one, the year, the year's parts) is read from
    the folders beside `period_dir` unless given. `kpi verify` renders them again, `index.html`
    from the `sources` it records (`dashboard.recorded_sources`), and compares: a page or a
    sheet that shows other numbers than the departments' results, by text, style or number
    format, is caught even when its stored values were left alone.
    """
    when = Period.parse(period)
    rows = department_rows(period_dir)
    if sources is None:
        sources = read_sources(period_dir, when)
    previous, parts = sources.previous, sources.parts
    lang = company_lang(period_dir, rows)  # the company's page: its words in one language
    columns = [
        {"zh": text, "en": "", "href": ""}
        for text in (
            say("index.rank", lang),
            say("label.department", lang),
            say("index.id", lang),
            say("label.total", lang),
            say("label.grade", lang),
        )
    ]
    notes = []
    if previous is not None:
        columns.append({"zh": say("index.change", lang, period=str(previous.period)), "en": "", "href": ""})
        absent = [r.department for r in rows if r.result is not None and previous.total(r.department) is None]
        if absent and not previous.results:
            notes.append(say("index.no_previous", lang, period=str(previous.period)))
        elif absent:
            departments = ", ".join(absent)
            notes.append(say("index.some_previous", lang, departments=departments, period=str(previous.period)))
    for part in parts:
        columns.append({"zh": str(part.period), "en": "", "href": f"../{part.period}/{INDEX}" if part.index else ""})
    if parts:
        notes.append(say("index.parts", lang, first=str(parts[0].period), last=str(parts[-1].period)))
    labels = [f"{c['zh']} {c['en']}".strip() for c in columns[5:]]
    columns.append({"zh": say("index.reports", lang), "en": "", "href": ""})
    shown = []
    for r in rows:
        folder = DepartmentFolder(period_dir / r.department)
        _, names = language_and_names(folder)  # a group's link says its name in the department's language
        groups = [
            _link(f"{r.department}/{reader_html(g)}", names.get(g, g))
            for g in r.groups
            if folder.reader_html(g).is_file()
        ]
        entry: dict[str, Any] = {
            "ok": r.result is not None,
            "department": r.department,
            "name": r.name,
            "groups": groups,
            "signoff": r.signoff(lang),
            "lang": r.lang,
        }
        texts = ["—"] * len(labels)
        classes = ["num"] * len(labels)
        if r.result is not None:
            reports = [
                _link(f"{r.department}/{page}", text)
                for page, text in (
                    (reader_html(SCORECARD), say("index.report", lang)),
                    (audit_html(SCORECARD), say("index.audit", lang)),
                )
                if (folder.path / page).is_file()
            ]
            files = [_link(f"{r.department}/{RESULT}", RESULT), _link(f"{r.department}/{SCORECARD_XLSX}", "xlsx")]
            texts = [plain(p.total(r.department), 2) for p in parts]
            if previous is not None:
                moved = change(r.total, previous.total(r.department))
                texts.insert(0, change_text(moved))
                classes[0] = f"num change {trend(moved)}"
            links = [(reports, " · "), (groups, " · "), (files, " · ")]
            entry.update(
                rank=r.rank,
                total=plain(r.total, 2),
                grade=r.grade or "",
                label=r.grade_label,
                links=[{"links": part, "between": between} for part, between in links if part],
            )
        else:
            entry.update(
                error=r.error.splitlines()[-1] if r.error else "",
                error_file=f"{r.department}/{ERROR}",
                error_file_name=ERROR,
            )
        entry["cells"] = [
            {"text": t, "classes": c, "label": lab} for t, c, lab in zip(texts, classes, labels, strict=True)
        ]
        shown.append(entry)
    page = render(
        "index.html.j2",
        title=f"{say('index.title', lang)} · {period}",
        lang=lang,
        font_css=PLACEHOLDER,
        words={
            "lead": say("index.lead", lang),
            "ranking": say("index.ranking", lang),
            "details": say("index.details", lang),
            "heat_map": say("index.heat_map", lang),
            "heat_note": say("index.heat_note", lang),
            "failed": say("index.failed", lang),
            "periods": say("index.periods", lang),
        },
        summary_csv=SUMMARY_CSV,
        summary_xlsx=SUMMARY_XLSX,
        columns=columns,
        rows=shown,
        bars=bars(rows),
        heat=heat_map(period_dir, rows, summary_ids(rows), lang),
        notes=notes,
        links=period_links(sources, lang),
        sources_id=SOURCES_ID,
        sources=sources.to_json(),
    )
    return {
        INDEX: page.replace(PLACEHOLDER, font_css([page]), 1).encode("utf-8"),
        SUMMARY_CSV: summary_csv_text(period, rows).encode("utf-8"),
        SUMMARY_XLSX: summary_xlsx(period, rows, lang=lang),
    }
