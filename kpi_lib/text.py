"""Exact text: what a cell or a key holds, compared as written, and what it nearly matches.

SPEC §9 "exact or refused": a value is read as written. Text that only differs
from an expected value by letter case, surrounding or invisible whitespace
(zero-width space, NBSP …), control characters or full-width forms
(`ｃｓ－ｅａｓｔ`) is never silently taken for it, and never silently taken for
something else either: it is an error that names the value it nearly matches.

`fold(text)` is the comparison key for "nearly": Unicode NFKC (full-width →
ASCII), invisible characters and control characters removed, surrounding
whitespace stripped, letter case folded. Two texts nearly match when their folds
are equal and the texts are not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Whitespace a spreadsheet user cannot see is not whitespace Python's str.isspace() always knows.
INVISIBLE = frozenset(
    "\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
# An id that names a folder or a file (a department, a template, a group, a table): match it with fullmatch.
PLAIN_ID = re.compile(r"[a-z0-9_-]+")
# In free text (a title, a note) these are ordinary; in an identifier they are not.
TEXT_CONTROLS = frozenset("\t\n\r")


def is_control(char: str) -> bool:
    """A control character (C0, DEL, C1): never part of a value someone typed."""
    return unicodedata.category(char) == "Cc"


def is_invisible(char: str) -> bool:
    """A character that shows as nothing or as a plain space: NBSP, zero-width and format characters."""
    return char in INVISIBLE or unicodedata.category(char) == "Cf"


def fold(text: str) -> str:
    """The key under which texts "nearly match": NFKC, no invisible or control characters, stripped, case-folded."""
    normal = unicodedata.normalize("NFKC", text)
    spaced = (" " if unicodedata.category(c) == "Zs" else c for c in normal)  # NBSP, ideographic space → space
    kept = "".join(c for c in spaced if c == " " or not (is_control(c) or is_invisible(c)))
    return kept.strip().casefold()


def control_problem(text: str, *, free_text: bool = False) -> str | None:
    """What is wrong when `text` holds control characters (tab and newlines are allowed in free text)."""
    allowed = TEXT_CONTROLS if free_text else frozenset()
    bad = sorted({c for c in text if is_control(c) and c not in allowed})
    if not bad:
        return None
    names = ", ".join(f"U+{ord(c):04X}" for c in bad)
    return f"holds control character(s) {names}; expected printable text (was the file exported as text?)"


def exactness_problem(text: str) -> str | None:
    """Why `text` is not a clean identifier (spaces around it, invisible, control or full-width characters), or None."""
    if (control := control_problem(text)) is not None:
        return control
    invisible = sorted({c for c in text if is_invisible(c)})
    if invisible:
        names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'invisible character').lower()}" for c in invisible)
        return f"holds invisible character(s) ({names})"
    if text != text.strip():
        return "has spaces around it"
    if unicodedata.normalize("NFKC", text) != text:
        return "holds full-width or compatibility characters"
    return None


def near_match(text: str, expected: Iterable[str]) -> str | None:
    """The expected value `text` nearly matches (same fold, different text), or None."""
    key = fold(text)
    for candidate in expected:
        if candidate != text and fold(candidate) == key:
            return candidate
    return None


def how_it_differs(text: str, expected: str) -> str:
    """A short reason why `text` is not `expected` although they nearly match."""
    reason = exactness_problem(text)
    if reason is not None:
        return reason
    return "differs in letter case" if text.casefold() == expected.casefold() else "differs in its separators (- or _)"


def id_skeleton(text: str) -> str | None:
    """The plain id `text` is written for (`CS–Test ` → `cs-test`), or None when a character has no ASCII reading (Cyrillic с, 客)."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    kept = "".join(
        "-" if unicodedata.category(c) == "Pd" or c in "\u2212 " else c
        for c in decomposed
        if not unicodedata.combining(c)
    )
    return kept if kept and PLAIN_ID.fullmatch(kept) else None


def squash(text: str) -> str:
    """An id without its separators: `cs_test`, `cs-test` and `cstest` are one."""
    return text.replace("-", "").replace("_", "")
