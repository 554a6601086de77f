"""The zh/en message catalog: every word a reader sees, in one data file (`messages.yaml`).

Each entry of the catalog is a key with a Chinese and an English text, both
`str.format` templates with the same named fields:

    label.weight: {zh: 权重, en: Weight}
    explain.rule.short: {zh: "目标 {target}%，未达 {steps} 步 …", en: "target {target}%, {steps} step(s) …"}

`say(key, lang, **fields)` gives the text in one language; `both(key)` gives the
pair, for the seed's two-line headers. Keys are dotted: `label.*` (the seed's
column names and other labels), `status.*`, `grade.*` (English names of the
default grade labels), then one prefix per place that speaks (`explain.*`,
`notebook.*`, `report.*`, `cli.*` …). A key that is not in the catalog is a bug
of ours and raises `KeyError` at once; `tests/test_messages.py` checks that every
key the code uses exists, that every entry has both languages with the same
fields, and that no entry is unused.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

from . import yamlfile

LANGS = ("zh", "en")


@cache
def catalog() -> Mapping[str, Mapping[str, str]]:
    """The catalog as {key: {"zh": text, "en": text}} (read once per process)."""
    text = (resources.files(__package__) / "messages.yaml").read_text(encoding="utf-8")
    loaded = yamlfile.load(text)
    if not isinstance(loaded, dict):
        raise TypeError("kpi_lib/base/messages.yaml: expected a mapping of keys to {zh, en}")
    return {str(key): {lang: str(entry[lang]) for lang in LANGS} for key, entry in loaded.items()}


def say(key: str, lang: str, /, **fields: Any) -> str:
    """The message `key` in `lang` ("zh", else English), with `fields` filled in."""
    text = catalog()[key]["zh" if lang == "zh" else "en"]
    return text.format(**fields) if fields else text


def both(key: str, /, **fields: Any) -> tuple[str, str]:
    """The message `key` in Chinese and in English."""
    return say(key, "zh", **fields), say(key, "en", **fields)


def fields_of(text: str) -> frozenset[str]:
    """The named fields of a `str.format` template (used by the catalog's own test)."""
    return frozenset(name.split(".")[0].split("[")[0] for _, name, _, _ in Formatter().parse(text) if name)
