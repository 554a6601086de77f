"""Reports seen in a real browser: measurements and screenshots from headless Chromium.

What a reader sees is checked where it is drawn. `measure` opens a copy of a page in
headless Chromium at a given width and returns what the layout gives: the viewport's
width, the page's scroll width and height, and where the named elements are. The
acceptance test (`tests/test_browser.py`) asks of the reports of a real run: at 1400 px
the total and grade are in the first 900 px; at 420 px nothing scrolls sideways.
`screenshots` (`make screenshots`) draws the index, a scorecard and a group report
at both widths for a person to look at.

How, without a driver package: Chromium's command line has `--dump-dom` (the DOM after
load, printed) and `--screenshot`; `--virtual-time-budget` lets the page settle first.
Headless Chromium keeps its window at least 500 px wide, so the page is shown in an
`<iframe>` of exactly the width asked for, inside a wrapper page: the copy of the page
gets a script that, once loaded and its fonts ready, measures itself and posts the
figures to the wrapper, which writes them into its own DOM for `--dump-dom` to print.
The report itself is never changed (the copy lives in a temporary folder). Scrollbars
are hidden, as on a phone, so a tall page's width is its viewport's. A screenshot is
the wrapper drawn at the page's full height, cropped to the iframe.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import Path

from PIL import Image

from ..base.errors import KpiError, SetupError
from ..base.layout import DEPARTMENT, INDEX, SCORECARD, SCREENSHOTS, reader_html
from .exports import chromium, chromium_command

WIDTHS = (1400, 420)  # a desktop browser, a phone
HEIGHT = 900  # the first screen of a desktop browser
MIN_WINDOW = 500  # headless Chromium does not make a window narrower than this
MAX_HEIGHT = 16384  # the tallest screenshot drawn (a longer page is cut there)
README_SIZE = (1400, 1280)  # the README's scorecard picture: the verdict, the chart and the sheet's first rows
_MEASURED = re.compile(r'<pre id="kpi-measured">(.*?)</pre>', re.DOTALL)

_PROBE = """<script>
addEventListener("load", function () {
  document.fonts.ready.then(function () {
    var root = document.documentElement, boxes = {}, wider = [], scrollers = [];
    function name(e) {
      return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\\s+/).join(".") : "");
    }
    document.querySelectorAll(".table-box").forEach(function (box) { box.scrollLeft = SCROLL; });
    SELECTORS.forEach(function (selector) {
      var found = document.querySelector(selector), r = found && found.getBoundingClientRect();
      boxes[selector] = r ? {left: r.left + scrollX, top: r.top + scrollY, right: r.right + scrollX, bottom: r.bottom + scrollY} : null;
    });
    if (root.scrollWidth > innerWidth) {
      document.querySelectorAll("body *").forEach(function (e) {
        var up = e.parentElement.getBoundingClientRect();
        if (e.getBoundingClientRect().right > innerWidth + 0.5 && up.right <= innerWidth + 0.5 && wider.length < 8) {
          wider.push(name(e));
        }
      });
    }
    document.querySelectorAll("body *").forEach(function (e) {
      var style = getComputedStyle(e);  // folded on purpose (an ellipsis shows it) is not cut
      if (e.scrollWidth > e.clientWidth + 1 && style.overflowX !== "visible" && style.textOverflow !== "ellipsis" && scrollers.length < 20) {
        scrollers.push(name(e));
      }
    });
    parent.postMessage(JSON.stringify({innerWidth: innerWidth, scrollWidth: root.scrollWidth,
      scrollHeight: root.scrollHeight, boxes: boxes, wider: wider, scrollers: scrollers}), "*");
  });
});
</script>
"""

_WRAPPER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>html, body {margin: 0} iframe {display: block; border: 0}</style></head>
<body><iframe src="page.html" width="WIDTH" height="HEIGHT"></iframe>
<script>
addEventListener("message", function (event) {
  var out = document.createElement("pre");
  out.id = "kpi-measured";
  out.textContent = event.data;
  document.body.appendChild(out);
});
</script></body></html>
"""


@dataclass(frozen=True)
class Box:
    """An element's box in page coordinates (CSS px from the page's top left, not the viewport's)."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Measurement:
    """A page laid out at one width: what a reader's browser would show."""

    page: Path
    width: int
    inner_width: int
    scroll_width: int
    scroll_height: int
    boxes: dict[str, Box | None]  # selector → its first element's box (None: no such element)
    wider: tuple[str, ...]  # when the page scrolls sideways: the outermost elements that stick out
    scrollers: tuple[
        str, ...
    ]  # elements whose content is wider than they are, scrolled or cut, not folded with an ellipsis

    @property
    def scrolls_sideways(self) -> bool:
        return self.scroll_width > self.inner_width

    def box(self, selector: str) -> Box:
        found = self.boxes.get(selector)
        if found is None:
            raise KpiError(f"{self.page}: no element matches {selector!r}")
        return found


def _stage(page: Path, folder: Path, width: int, height: int, selectors: Sequence[str], scroll: int = 0) -> Path:
    """The copy of `page` with the probe, and the wrapper that shows it `width` px wide; the wrapper's path."""
    probe = _PROBE.replace("SELECTORS", json.dumps(list(selectors))).replace("SCROLL", str(int(scroll)))
    text = page.read_text(encoding="utf-8")
    end = text.rfind("</body>")
    (folder / "page.html").write_text(text[:end] + probe + text[end:] if end >= 0 else text + probe, encoding="utf-8")
    wrapper = folder / "wrapper.html"
    wrapper.write_text(_WRAPPER.replace("WIDTH", str(width)).replace("HEIGHT", str(height)), encoding="utf-8")
    return wrapper


def _chromium(page: Path, folder: Path, width: int, height: int, *flags: str, timeout: int) -> str:
    """Chromium's stdout for the wrapper staged in `folder` (its window at least `MIN_WINDOW` wide)."""
    command = chromium_command(
        folder / "profile",
        "--hide-scrollbars",
        f"--window-size={max(width, MIN_WINDOW)},{height}",
        "--virtual-time-budget=10000",
        *flags,
        (folder / "wrapper.html").as_uri(),
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise SetupError(f"{page}: Chromium failed (exit code {done.returncode}): {said}")
    return done.stdout


def measure(
    page: Path,
    width: int,
    selectors: Sequence[str] = (),
    *,
    height: int = HEIGHT,
    scroll: int = 0,
    timeout: int = 120,
) -> Measurement:
    """`page` laid out by headless Chromium in a viewport `width` × `height` px, with the boxes of `selectors`.

    `scroll`: px each `.table-box` is scrolled to the right before the boxes are measured
    (what stays in place is sticky).
    """
    with tempfile.TemporaryDirectory(prefix="kpi-browser-") as tmp:
        folder = Path(tmp)
        _stage(page, folder, width, height, selectors, scroll)
        dumped = _chromium(page, folder, width, height + 200, "--dump-dom", timeout=timeout)
    found = _MEASURED.search(dumped)
    if found is None:
        raise SetupError(f"{page}: Chromium loaded it but the page never reported its layout (did it load?)")
    data = json.loads(unescape(found.group(1)))
    return Measurement(
        page=page,
        width=width,
        inner_width=int(data["innerWidth"]),
        scroll_width=int(data["scrollWidth"]),
        scroll_height=int(data["scrollHeight"]),
        boxes={s: None if b is None else Box(**b) for s, b in data["boxes"].items()},
        wider=tuple(data["wider"]),
        scrollers=tuple(data["scrollers"]),
    )


def screenshot(page: Path, png: Path, width: int, *, timeout: int = 120) -> Path:
    """A PNG of the whole of `page` (up to `MAX_HEIGHT` px) as a browser `width` px wide draws it."""
    height = min(max(measure(page, width, timeout=timeout).scroll_height, HEIGHT), MAX_HEIGHT)
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kpi-browser-") as tmp:
        folder = Path(tmp)
        _stage(page, folder, width, height, ())
        drawn = folder / "drawn.png"
        _chromium(page, folder, width, height, f"--screenshot={drawn}", timeout=timeout)
        if not drawn.is_file():
            raise SetupError(f"{page}: Chromium drew no screenshot")
        with Image.open(drawn) as image:
            image.crop((0, 0, width, min(height, image.height))).save(png, optimize=True)
    return png


def report_pages(period_dir: Path) -> list[Path]:
    """The pages to look at: the period's index, then the first department's scorecard and first group report."""
    if not (period_dir / INDEX).is_file():
        raise KpiError(f"{period_dir}: no {INDEX} here; run `make demo` (or `kpi run`) first")
    pages = [period_dir / INDEX]
    for folder in sorted(p for p in period_dir.iterdir() if (p / DEPARTMENT).is_file()):
        scorecard = folder / reader_html(SCORECARD)
        if not scorecard.is_file():
            continue
        meta = json.loads((folder / DEPARTMENT).read_text(encoding="utf-8"))
        groups = [folder / reader_html(g) for g in meta.get("groups", []) if (folder / reader_html(g)).is_file()]
        pages += [scorecard, *groups[:1]]
        break
    missing = [p for p in pages if not p.is_file()]
    if missing or len(pages) < 3:
        raise KpiError(
            f"{period_dir}: no reports to draw ({', '.join(map(str, missing)) or 'no department'}); run `make demo`"
        )
    return pages


def screenshots(period_dir: Path, out: Path | None = None, widths: Iterable[int] = WIDTHS) -> list[Path]:
    """Screenshots of `report_pages` at each width, named `<department>-<page>-<width>.png` in `out`."""
    target = out or period_dir / SCREENSHOTS
    made = []
    for page in report_pages(period_dir):
        stem = page.stem if page.parent == period_dir else f"{page.parent.name}-{page.stem}"
        for width in widths:
            made.append(screenshot(page, target / f"{stem}-{width}.png", width))
    return made


def readme_picture(period_dir: Path, png: Path) -> Path:
    """The README's picture: the scorecard of the first department in English (else the first), its top part."""
    folders = sorted(
        p for p in period_dir.iterdir() if (p / DEPARTMENT).is_file() and (p / reader_html(SCORECARD)).is_file()
    )
    if not folders:
        raise KpiError(f"{period_dir}: no department with a scorecard; run `make demo` first")
    english = [f for f in folders if json.loads((f / DEPARTMENT).read_text(encoding="utf-8")).get("lang") == "en"]
    width, height = README_SIZE
    with tempfile.TemporaryDirectory(prefix="kpi-readme-") as tmp:
        whole = screenshot((english or folders)[0] / reader_html(SCORECARD), Path(tmp) / "whole.png", width)
        with Image.open(whole) as image:
            png.parent.mkdir(parents=True, exist_ok=True)
            image.crop((0, 0, width, min(height, image.height))).save(png, optimize=True)
    return png


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m kpi_lib.reports.browser outputs/<period>`: what `make screenshots` runs."""
    parser = argparse.ArgumentParser(prog="python -m kpi_lib.reports.browser", description=main.__doc__)
    parser.add_argument("period_dir", type=Path, help="outputs/<period>, written by kpi run")
    parser.add_argument("--out", type=Path, default=None, help="where the PNGs go (default: <period_dir>/screenshots)")
    parser.add_argument("--readme", type=Path, default=None, help="also draw the README's scorecard picture here")
    args = parser.parse_args(argv)
    try:
        chromium()
        for path in screenshots(args.period_dir, args.out):
            print(f"wrote {path}")
        if args.readme is not None:
            print(f"wrote {readme_picture(args.period_dir, args.readme)}")
    except KpiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
