"""Incremental runs: a department whose inputs, params, template, notebooks and toolkit are unchanged is reused.

Each department's manifest records its `fingerprint`: the sha256 of everything
its outputs are a function of, in parts:

- `toolkit`: kpi_lib's own files (code, templates, catalogs), the versions of
  Python and of every package kpi-appraisal needs, transitively (pandas, numpy,
  papermill, nbconvert, mistune, Jinja2, fonttools, Pillow …), and the time-zone
  database `zoneinfo` reads (`files.fingerprint_versions`);
- `notebooks`: the notebook sources its groups and scorecard ran from;
- `params`, `template`: the files' bytes; `company`, the company file's, for a
  department whose params name one (a change re-runs every department that uses it);
- `options`: what of the command line shapes the outputs (`--pdf`, and
  `SOURCE_DATE_EPOCH`, which dates them);
- `sources`: each table's full source files (and adapter), by sha256;
- `rows`: each table's partition (the department's own rows and problems), by sha256;
- `history`: the `result.json` of each earlier period of the same kind in the outputs
  folder, by sha256: what the scorecard's trend and change read (`history.earlier_results`).
  A department whose earlier periods were run again runs again, so its trend and its
  change agree with the index; a **signed** department keeps the trend it was signed
  with (reused, and `why` says so) rather than being refused for it.

`decide` compares a department's parts now with those its previous run recorded.
Nothing changed but the sources: the run reads the tables and compares `rows`,
so a department whose own rows are unchanged is reused even when other
departments' rows of the same export changed. Any other change, a previous run
that failed or predates fingerprints, or `--fresh`, runs the department again;
`why` says which in words, and the period manifest records it for every
department. A reused department's folder is left exactly as it was, after its
outputs were checked against its manifest (a folder edited since its run is run
again, never reused). Tables with an adapter always compare `rows` (an adapter is
code: its output is not a function of its file alone).
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..base.files import fingerprint_versions, json_text, sha256_bytes
from ..base.messages import say

PARTS = ("toolkit", "notebooks", "params", "template", "options", "sources", "rows", "history")
WORDS = {
    "toolkit": "the toolkit (kpi_lib or a package version)",
    "notebooks": "the notebooks",
    "params": "its params file",
    "company": "its company file",
    "template": "its template",
    "options": "the run's options (--pdf or SOURCE_DATE_EPOCH)",
    "history": "the earlier periods' results its trend shows",
}


@cache
def toolkit() -> str:
    """sha256 over kpi_lib's files (every file of the package, by path) and the versions of what makes the outputs."""
    digest: list[str] = [f"python {platform.python_version()}", json_text(fingerprint_versions())]
    root = resources.files("kpi_lib")
    stack = [root]
    files = []
    while stack:
        for entry in stack.pop().iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    stack.append(entry)
            elif not entry.name.endswith((".pyc", ".pyo")):
                files.append(entry)
    for entry in sorted(files, key=lambda e: str(e)):
        digest.append(f"{str(entry)[len(str(root)) :]} {sha256_bytes(entry.read_bytes())}")
    return sha256_bytes("\n".join(digest).encode("utf-8"))


@dataclass(frozen=True)
class Decision:
    """`reuse` True (keep the previous folder), False (run), or None (the rows decide: compare partitions)."""

    reuse: bool | None
    why: str


def decide(
    previous: Mapping[str, Any] | None, now: Mapping[str, Any], *, fresh: bool, adapters: bool, signed: bool = False
) -> Decision:
    """Reuse, run, or ask the rows, comparing `now`'s parts (all but `rows`) with the previous run's manifest.

    `signed`: the department's run is signed off; a change of `history` alone then keeps it.
    """
    if fresh:
        return Decision(False, "--fresh")
    if previous is None:
        return Decision(False, "no previous run in this period")
    if not previous:
        return Decision(False, "its previous run left no readable manifest")
    if previous.get("status") != "ok":
        return Decision(False, "its previous run failed")
    before = previous.get("fingerprint")
    if not isinstance(before, dict) or not all(part in before for part in PARTS):
        return Decision(False, "its previous run recorded no fingerprint (an older toolkit)")
    changed = [WORDS[part] for part in WORDS if part != "history" and before.get(part) != now.get(part)]
    moved = before.get("history") != now.get("history")
    if moved and not signed:
        changed.append(WORDS["history"])
    if changed:
        return Decision(False, "changed: " + ", ".join(changed))
    kept = " (signed: its trend keeps the earlier periods' results it was signed with)" if moved else ""
    if before.get("sources") == now.get("sources") and not adapters:
        return Decision(True, f"unchanged: same params, template, notebooks, toolkit and input files{kept}")
    return Decision(None, kept)


def decide_rows(previous: Mapping[str, Any], rows: Mapping[str, str], sources: Mapping[str, Any]) -> Decision:
    """After the tables were read: reuse when the department's own rows are the same as its previous run's."""
    before = previous.get("fingerprint", {})
    old_rows = before.get("rows", {}) if isinstance(before, dict) else {}
    changed = sorted(set(rows) | set(old_rows), key=str)
    changed = [t for t in changed if rows.get(t) != old_rows.get(t)]
    if changed:
        return Decision(False, "changed: its rows of " + ", ".join(changed))
    old_sources = before.get("sources", {}) if isinstance(before, dict) else {}
    moved = sorted(t for t in sources if sources.get(t) != old_sources.get(t))
    if moved:
        return Decision(True, f"unchanged: its own rows are the same (other rows of {', '.join(moved)} changed)")
    return Decision(True, "unchanged: its own rows are the same")


_FIXED = {
    "--fresh": "fresh",
    "no previous run in this period": "no_previous",
    "its previous run left no readable manifest": "unreadable",
    "its previous run failed": "failed",
    "its previous run recorded no fingerprint (an older toolkit)": "no_fingerprint",
    "unchanged: same params, template, notebooks, toolkit and input files": "unchanged",
    "unchanged: its own rows are the same": "same_rows",
}
_SIGNED = " (signed: its trend keeps the earlier periods' results it was signed with)"
_OTHERS = "unchanged: its own rows are the same (other rows of "


def why_text(why: str, lang: str) -> str:
    """A `Decision.why` (recorded in English in the period manifest) in `lang`, for a reader of that language.

    Each part the catalog has words for is said in them (`why.*`); a reason it has none
    for (a path, an error from a file) is kept as it is.
    """
    if lang != "zh" or not why:
        return why
    kept = ""
    if why.endswith(_SIGNED):
        why, kept = why.removesuffix(_SIGNED), say("why.signed_kept", lang)
    if why in _FIXED:
        return say(f"why.is.{_FIXED[why]}", lang) + kept
    if why.startswith(_OTHERS) and why.endswith(" changed)"):
        tables = why.removeprefix(_OTHERS).removesuffix(" changed)")
        return say("why.same_rows_others", lang, tables=tables) + kept
    if why.startswith("changed: its rows of "):
        what = say("why.rows_of", lang, tables=why.removeprefix("changed: its rows of "))
        return say("why.changed", lang, what=what) + kept
    if why.startswith("changed: "):
        parts = {text: key for key, text in WORDS.items()}
        named = why.removeprefix("changed: ").split(", ")
        if all(part in parts for part in named):
            what = "、".join(say(f"why.part.{parts[part]}", lang) for part in named)
            return say("why.changed", lang, what=what) + kept
    return why + kept
