"""A MkDocs hook: the CJK font the site's pages need, cut to the characters they use.

The site uses the reader's system fonts (`theme.font: false`: nothing is fetched from the web),
and a machine without a CJK font would show the Chinese of these pages (绩效量化考核, 部门 …)
as empty boxes. After the build, `on_post_build` collects every non-ASCII character of the
built pages that need it and writes `stylesheets/cjk.css`: an @font-face rule embedding Noto Sans CJK SC
(the font the reports embed) cut to exactly those characters, as a data URL, so it loads from
file:// too. `stylesheets/extra.css` puts it first in the font stacks.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from kpi_lib.reports.convert import FONT_FAMILY, font_subset, page_characters
from kpi_lib.words.charts import cjk_font_path

CSS = "stylesheets/cjk.css"
# Only Chinese needs the font: ideographs, CJK punctuation and full-width forms. Latin text and symbols
# such as × − → Σ keep the system font (the CJK font draws them full-width).
CJK_RANGES = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
)


def cjk(chars: str) -> str:
    """The characters of `chars` that need the CJK font."""
    return "".join(c for c in chars if any(low <= ord(c) <= high for low, high in CJK_RANGES))


def on_post_build(config: Any) -> None:
    site = Path(config["site_dir"])
    texts = (page.read_text(encoding="utf-8") for page in sorted(site.rglob("*.html")))
    chars = cjk(page_characters(texts))
    css = site / CSS
    css.parent.mkdir(parents=True, exist_ok=True)
    if not chars or cjk_font_path() is None:
        css.write_text("/* no CJK font needed (or the font package is missing) */\n", encoding="utf-8")
        return
    encoded = base64.b64encode(font_subset(chars)).decode("ascii")
    css.write_text(
        f'@font-face {{font-family: "{FONT_FAMILY}"; src: url(data:font/woff2;base64,{encoded}) format("woff2")}}\n',
        encoding="utf-8",
    )
