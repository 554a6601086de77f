"""What changed on an HTML page, in values a reader would name: `scorecard.html: total 96.54 → 99.99`.

A hash says only that a page changed. `kpi verify` renders the page again from what
the run recorded (the executed notebooks, the departments' results: nothing is
executed) and hands both texts here. `page_text` reads a page as a reader does (the
text of its elements; no markup, styles or scripts), `changed_values` compares the two
texts word by word and names each changed stretch: by what it is, when the recorded
text was one of the department's key values (`key_values` of its `result.json`:
`total`, `grade`, each indicator's `score` and `value`), else by the words just before
it on the page. A page that changed only in its markup or styles has no changed words;
`explain` says so. Only the first few are named (`SHOWN`), then `… and N more`.

When a page cannot be rendered again, `missing_values` says which key values of
`result.json` the page no longer shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from html.parser import HTMLParser
from typing import Any

from ..base.errors import shorten
from ..base.numbers import plain

SHOWN = 3  # changed values named per page; the rest are counted
CONTEXT = 3  # words before a changed stretch that name it when no key value does
_WORD = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?%?|\w+|[^\w\s]")


class _Text(HTMLParser):
    """The text of a page's elements, scripts and styles left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in ("br", "p", "div", "td", "th", "li", "tr", "h1", "h2", "h3", "dt", "dd"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        else:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The page's text as a reader sees it, whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def words(text: str) -> list[str]:
    """Numbers (with their sign, decimals and %), words, and each other mark on its own."""
    return _WORD.findall(text)


def _numbers(value: Any) -> list[str]:
    """A recorded number as pages write it: with two decimals (`98.50`) and plain (`98.5`)."""
    if isinstance(value, bool) or value is None or isinstance(value, str) and not value:
        return []
    try:
        number = Decimal(str(value))
        return list(dict.fromkeys([plain(number, 2), plain(number)]))
    except (InvalidOperation, ValueError):
        return []


def key_values(result: Mapping[str, Any] | None) -> dict[str, str]:
    """A department's key values as a page shows them, text → what it is (`total`, `grade`, `CS04 score` …).

    The first name wins when two values read the same (a total of 100 and a score of 100: `total`).
    """
    if not isinstance(result, Mapping):
        return {}
    named: dict[str, str] = {}
    for text in _numbers(result.get("total")):
        named.setdefault(text, "total")
    if isinstance(result.get("grade"), str) and result["grade"]:
        named.setdefault(result["grade"], "grade")
    for item in result.get("indicators", []) if isinstance(result.get("indicators"), list) else []:
        if not isinstance(item, Mapping):
            continue
        for key in ("score", "value"):
            for text in _numbers(item.get(key)):
                named.setdefault(text, f"{item.get('id')} {key}")
    return named


def _cut(tokens: Sequence[str]) -> str:
    return shorten(" ".join(tokens), 60) if tokens else "(nothing)"


def changed_values(found: str, expected: str, known: Mapping[str, str] | None = None) -> list[str]:
    """Each changed stretch of text, `what old → new`, in page order (`found`: the page now; `expected`: rendered again)."""
    old, new = words(expected), words(found)
    known = known or {}
    changes = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 - i1 == j2 - j1 > 1:  # words replaced one for one: each changed word on its own
            stretches = [
                (i, i + 1, j, j + 1) for i, j in zip(range(i1, i2), range(j1, j2), strict=True) if old[i] != new[j]
            ]
        else:
            stretches = [(i1, i2, j1, j2)]
        for a1, a2, b1, b2 in stretches:
            was = " ".join(old[a1:a2])
            what = known.get(was) or known.get(was.rstrip("%"))
            if what is None:
                before = [w for w in old[max(0, a1 - 4 * CONTEXT) : a1] if any(c.isalnum() for c in w)]
                what = " ".join(before[-CONTEXT:]) or "start of page"  # words, not the marks between them
            changes.append(f"{shorten(what, 40)} {_cut(old[a1:a2])} → {_cut(new[b1:b2])}")
    return changes


def explain(name: str, found: str, expected: str, known: Mapping[str, str] | None = None) -> list[str]:
    """Lines naming the first values that differ on page `name` (HTML texts), then `… and N more`."""
    found_changes = changed_values(page_text(found), page_text(expected), known)
    if not found_changes:
        return [f"{name}: the same text as rendered again; its markup, styles or links were changed"]
    counted: dict[
        str, int
    ] = {}  # one change made in several places (a total in the verdict and the table) is said once
    for change in found_changes:
        counted[change] = counted.get(change, 0) + 1
    changes = [f"{change} ({n} places)" if n > 1 else change for change, n in counted.items()]
    lines = [f"{name}: {change}" for change in changes[:SHOWN]]
    if len(changes) > SHOWN:
        lines.append(f"… and {len(changes) - SHOWN} more")
    return lines


def missing_values(name: str, found: str, known: Mapping[str, str]) -> list[str]:
    """Key values (`key_values`) that page `name` no longer shows anywhere: when it cannot be rendered again."""
    shown = {word.rstrip("%") for word in words(page_text(found))}
    forms: dict[str, list[str]] = {}  # what → the texts it may be shown as (`98.50`, `98.5`)
    for text, what in known.items():
        forms.setdefault(what, []).append(text)
    missing = [f"{what} {texts[0]}" for what, texts in forms.items() if not any(t in shown for t in texts)]
    if not missing:
        return []
    lines = [f"{name}: no longer shows {m} (result.json)" for m in missing[:SHOWN]]
    if len(missing) > SHOWN:
        lines.append(f"… and {len(missing) - SHOWN} more")
    return lines
