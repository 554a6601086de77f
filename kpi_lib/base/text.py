"""Exact text: what a cell or a key holds, compared as written, and what it nearly matches.

The trust rule "exact or refused": a value is read as written. Text that only differs
from an expected value by letter case, surrounding or invisible whitespace
(zero-width space, NBSP …), control characters or full-width forms
(`ｃｓ－ｅａｓｔ`) is never silently taken for it, and never silently taken for
something else either: it is an error that names the value it nearly matches.

`fold(text)` is the comparison key for "nearly": Unicode NFKC (full-width →
ASCII), invisible characters and control characters removed, surrounding
whitespace stripped, letter case folded. Two texts nearly match when their folds
are equal and the texts are not.

Where a value must be one of a few known words (a survey kind, a `values:`
code, a department id), a small typing slip is a near match too
(`near_match(..., typos=True)`, `is_typo`): the folds are one deletion,
insertion, substitution or transposition of neighbours apart (optimal string
alignment distance 1), or two apart when the known word is long (10 characters
or more: `custmer_satisfacton`). Never a typo:

- a word shorter than 4 characters (`nps`, `ces`, `Y`, `d01`): one letter is a
  third of it, so one letter apart is another code, not a slip;
- texts whose digits differ (`d01`/`d02`, `dept-7`/`dept-17`, `CS04`/`CS05`):
  a number in a code names something else.

So `cs-east` and `cs-west` (two apart, 7 characters) are not typos of each
other, while `customer_satisfacton` and `custmer_satisfaction` are typos of
`customer_satisfaction`. Department ids allow one slip only, however long
(`sales-east` and `sales-west` are two apart: two departments); see
`kpi_lib.inputs.tables` for which department values are never taken for typos.
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
# The longest such id, in characters (and bytes: a plain id is ASCII). The longest name the toolkit makes from one,
# `.old-<id>-<yyyymmddHHMMSS>-<pid>`, then stays under 100 bytes, well below the file systems' 255.
ID_MAX = 64


def id_length_problem(value: str) -> str:
    """Why an id that names folders or files is too long ("" when it is not): its length and the limit."""
    size = len(value.encode("utf-8"))
    if size <= ID_MAX:
        return ""
    return f"{size} characters long; expected at most {ID_MAX} (it names folders and files)"


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


def near_match(text: str, expected: Iterable[str], *, typos: bool = False) -> str | None:
    """The expected value `text` nearly matches (same fold, different text), or None.

    With `typos`, a typing slip counts too (`is_typo`): the closest such value, the first of equals.
    """
    key = fold(text)
    candidates = [c for c in expected if c != text]
    for candidate in candidates:
        if fold(candidate) == key:
            return candidate
    if not typos:
        return None
    best: tuple[int, str] | None = None
    for candidate in candidates:
        distance = typo_distance(text, candidate)
        if distance is not None and (best is None or distance < best[0]):
            best = (distance, candidate)
    return None if best is None else best[1]


TYPO_MIN_LENGTH = 4  # shorter known words: one letter apart is another code
TYPO_LONG = 10  # known words this long may be two slips apart


def typo_limit(expected: str) -> int:
    """How many slips apart a text may be from the known word `expected` and still be a typo of it (0: never)."""
    size = len(fold(expected))
    return 0 if size < TYPO_MIN_LENGTH else 1 if size < TYPO_LONG else 2


def typo_distance(text: str, expected: str, *, max_slips: int = 2) -> int | None:
    """How many slips `text` is from the known word `expected` (1 or 2), or None when it is no typo of it.

    None too when their folds are equal (that is a near match of another kind, see `how_it_differs`).
    `max_slips` caps the slips allowed however long the word (department ids: 1).
    """
    a, b = fold(text), fold(expected)
    limit = min(typo_limit(expected), max_slips)
    if a == b or not limit or abs(len(a) - len(b)) > limit:
        return None
    if [c for c in a if c.isdigit()] != [c for c in b if c.isdigit()]:
        return None
    distance = edit_distance(a, b, limit)
    return distance if distance <= limit else None


def is_typo(text: str, expected: str, *, max_slips: int = 2) -> bool:
    """True when `text` is a typing slip away from the known word `expected` (see the module's docstring)."""
    return typo_distance(text, expected, max_slips=max_slips) is not None


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance of `a` and `b` (Damerau-Levenshtein without re-editing a transposed pair);
    any distance above `limit` is returned as `limit + 1`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[len(b)], limit + 1)


def how_it_differs(text: str, expected: str) -> str:
    """A short reason why `text` is not `expected` although they nearly match."""
    reason = exactness_problem(text)
    if reason is not None:
        return reason
    if fold(text) != fold(expected):
        return _slip(fold(text), fold(expected))
    return "differs in letter case" if text.casefold() == expected.casefold() else "differs in its separators (- or _)"


def _slip(a: str, b: str) -> str:
    """What kind of typing slip `a` is of `b` (folded texts a typo apart)."""
    if edit_distance(a, b, 1) > 1:
        return "is spelt differently in two places"
    if len(a) < len(b):
        return "misses a character"
    if len(a) > len(b):
        return "has a character too many"
    if sorted(a) == sorted(b):
        return "has two characters swapped"
    return "has one character different"


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
