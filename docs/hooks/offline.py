"""A MkDocs hook: the built site loads nothing from the network.

After the build, `on_post_build` reads every page and stylesheet of the site and fails the
build when one would fetch a resource from elsewhere: a script, image, frame or stylesheet
from an `http(s)://` or `//` address, a CSS `url(…)` or `@import` of one. Links a reader may
follow (`<a href="https://…">`) are fine. So `make docs` (and `make test`, which builds the
site) fail on a theme option, plugin or page that would need a CDN, web fonts or analytics.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

REMOTE = r"""(?:https?:)?//"""
HTML_RESOURCE = re.compile(
    r"""<(?:script|img|iframe|source|audio|video|embed)\b[^>]*?\bsrc\s*=\s*["']?"""
    + REMOTE
    + r"""|<link\b(?=[^>]*\brel\s*=\s*["']?(?:stylesheet|preload|prefetch|preconnect|icon|modulepreload|dns-prefetch))"""
    + r"""[^>]*?\bhref\s*=\s*["']?"""
    + REMOTE,
    re.IGNORECASE,
)
CSS_RESOURCE = re.compile(r"""url\(\s*["']?""" + REMOTE + r"""|@import\s+(?:url\()?\s*["']?""" + REMOTE, re.IGNORECASE)


def remote_resources(text: str, css: bool = False) -> list[str]:
    """What `text` (a page, or a stylesheet when `css`) would fetch from the network: each match's text."""
    pattern = CSS_RESOURCE if css else HTML_RESOURCE
    found = [m.group(0) for m in pattern.finditer(text)]
    if not css:  # and the page's own <style> blocks
        for block in re.findall(r"<style\b[^>]*>(.*?)</style>", text, re.IGNORECASE | re.DOTALL):
            found += remote_resources(block, css=True)
    return found


def on_post_build(config: Any) -> None:
    site = Path(config["site_dir"])
    problems = []
    for path in sorted(site.rglob("*")):
        if path.suffix in (".html", ".css"):
            for match in remote_resources(path.read_text(encoding="utf-8"), css=path.suffix == ".css"):
                problems.append(f"{path.relative_to(site)}: loads {match[:80]!r} from the network")
    if problems:
        from mkdocs.exceptions import PluginError

        raise PluginError("the site must work offline:\n" + "\n".join(problems))
