"""Strict YAML for params and templates: YAML 1.2 scalars, no anchors, aliases or repeated keys.

`load(text, file)` returns plain Python data, or raises `YamlProblem` naming the
line (1-based) and what is wrong:

- a key given twice in one mapping, at any level, names both lines (PyYAML keeps
  the last one silently);
- anchors (`&a`) and aliases (`*a`) are refused: a 1 KB file of nested aliases
  (a "billion laughs") must not be able to exhaust memory;
- floats are read as exact `Decimal`s, never binary floats; `.nan` and `.inf`
  are refused;
- only `true`/`false` are booleans and only decimal digits are integers (YAML
  1.2's core schema): `Yes`, `No`, `on` stay text (they are value codes of real
  exports, e.g. Churn: Yes), `070` is seventy, and `0x5a`, `1:20` or `9_0` are
  text (that a number key refuses), never a silently different number;
- a date that is not on the calendar (`2026-02-30`) is refused with its line.

`key_lines(text)` gives the line of every key (and list item) of a text `load`
accepts, by its path of keys as text (`("tables", "complaints", "columns")`,
list items by index), so a check made after loading can still name the line.
"""

from __future__ import annotations

import copy
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, Event, MappingStartEvent, ScalarEvent, SequenceStartEvent

from .errors import Code, Refusal


class YamlProblem(Refusal, ValueError):
    """What is wrong with a YAML text (its `code`), and on which line."""

    def __init__(self, message: str, line: int | None = None, *, code: Code) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message, code)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, exact decimals, and no anchors, aliases or repeated keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Event | None = self.peek_event()  # type: ignore[no-untyped-call]  # (typeshed leaves it unannotated)
        if isinstance(event, AliasEvent):
            raise YamlProblem(
                f"alias *{event.anchor} is not allowed; write the value out", _line(event), code=Code.YAML_ALIAS
            )
        if isinstance(event, (ScalarEvent, SequenceStartEvent, MappingStartEvent)) and event.anchor is not None:
            raise YamlProblem(
                f"anchor &{event.anchor} is not allowed; write each value out", _line(event), code=Code.YAML_ALIAS
            )
        return Composer.compose_node(self, parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlProblem(
                        "merge keys (<<) are not allowed; write each key out",
                        key_node.start_mark.line + 1,
                        code=Code.YAML_ALIAS,
                    )
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise YamlProblem(
                        "a key must be a plain value", key_node.start_mark.line + 1, code=Code.YAML_SYNTAX
                    ) from None
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise YamlProblem(
                        f"key {key!r} given twice (lines {seen[key]} and {line}); expected each key once",
                        line,
                        code=Code.YAML_DUPLICATE_KEY,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _line(event: Event) -> int | None:
    """The 1-based line an event starts on (the parser always marks it)."""
    return event.start_mark.line + 1 if event.start_mark is not None else None


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise YamlProblem(
            f"{text!r} is not a finite number; expected a decimal such as 95 or 1.5",
            node.start_mark.line + 1,
            code=Code.NOT_A_NUMBER,
        ) from None
    if not number.is_finite():
        raise YamlProblem(f"{text!r} is not a finite number", node.start_mark.line + 1, code=Code.NOT_A_NUMBER)
    return number


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except (ValueError, OverflowError) as exc:
        raise YamlProblem(
            f"{node.value!r} is not a real date ({exc}); expected YYYY-MM-DD",
            node.start_mark.line + 1,
            code=Code.BAD_DATE,
        ) from None


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    if len(text.lstrip("+-")) > MAX_DIGITS:
        raise YamlProblem(
            f"a number of {len(text)} digits; expected at most {MAX_DIGITS}",
            node.start_mark.line + 1,
            code=Code.NUMBER_OUT_OF_BOUNDS,
        )
    return int(text, 10)


# YAML 1.2's core schema, decimal only: `070` is seventy (not octal 56), and `0x5a`, `1:20` (base 60) or `9_0`
# are text, which a number key then refuses. PyYAML's 1.1 resolvers would read all of them as numbers.
MAX_DIGITS = 40
_CORE = {
    "tag:yaml.org,2002:bool": (r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    "tag:yaml.org,2002:int": (r"^[-+]?[0-9]+$", "-+0123456789"),
    "tag:yaml.org,2002:float": (
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
}
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _CORE]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, (_pattern, _first) in _CORE.items():
    _StrictLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def load(text: str) -> Any:
    """Parse strict YAML; `YamlProblem` (with the line) for anything it refuses or cannot parse.

    The same text parses to the same data, so a text up to `_REMEMBERED` characters is parsed once per process and
    each call gets its own deep copy: the packaged template (27 KB) takes a quarter of a second to parse in pure
    Python, and a batch or a notebook loads it for every department. A text that is refused is parsed every time.
    """
    if len(text) > _REMEMBERED:
        return _parse(text)
    data = _remembered(text)
    try:
        return copy.deepcopy(data)
    except RecursionError:  # nested deeper than a copy can go: parsed again instead
        return _parse(text)


_REMEMBERED = 1 << 20


@functools.lru_cache(maxsize=64)
def _remembered(text: str) -> Any:
    return _parse(text)


def _parse(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem(
            f"not valid YAML: {exc.problem or exc}", mark.line + 1 if mark else None, code=Code.YAML_SYNTAX
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}", code=Code.YAML_SYNTAX) from None
    except RecursionError:
        raise YamlProblem("nested too deeply", code=Code.YAML_SYNTAX) from None


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of each key (and list item) of `text`, by its path of keys as text; {} if it does not parse."""
    try:
        root = yaml.compose(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, YamlProblem, RecursionError):
        return {}
    lines: dict[tuple[str, ...], int] = {}
    stack: list[tuple[tuple[str, ...], Any]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    inner = (*path, str(key_node.value))
                    lines.setdefault(inner, key_node.start_mark.line + 1)
                    stack.append((inner, value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                inner = (*path, str(i))
                lines.setdefault(inner, item.start_mark.line + 1)
                stack.append((inner, item))
    return lines


class _PlainDumper(yaml.SafeDumper):
    """SafeDumper that writes a value referenced twice out twice: what `load` reads back (it refuses aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    """YAML text that `load` reads back: no anchors or aliases, keys in their order, Unicode as it is."""
    return yaml.dump(data, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=200)
