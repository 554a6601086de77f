"""One company file for every department (params key `company`).

A params file may name a company file, `company: ../company.yaml` (relative to
the params file's folder, or absolute), holding what every department shares:

    # company.yaml
    data: data/crm                # relative paths resolve against THIS file's folder
    template: customer_service
    timezone: America/New_York
    policy: {on_empty: exclude}
    tables:
      complaints:
        file: tickets.csv
        columns: {complaint_id: ticket_no, department: team, received_at: opened_at}
        values: {department: {East: cs-east, North: cs-north, West: cs-west}}
    indicators:
      CS04: {sla: 24h, step: 1, penalty: 2}

    # params/cs-east.yaml
    company: ../company.yaml
    department: cs-east
    name: East service desk
    indicators:
      CS04: {weight: 8, target: 95}

A company file is read like a params file (strict YAML, see `yamlfile`) and may
hold every key a params file may, except `department`, `name` (a department's
own) and `company` (one company file, not a chain). `review_date`, the annual
appraisal date, is usually the company's, so it may stand in either file. The
keys accepted are the params model's own (`Params.model_fields`), so a key added
to params is accepted here without a second list.

How the two files combine (`merge`): the params file keeps what is its own and
overrides the company's keys:

- `tables`: a table entry of the params file replaces the company's entry for
  that table as a whole (its file, columns, values …); other tables stay the
  company's. An entry that says only what is the department's own about the
  company's table (`exclude`, `allow_no_rows`: `DEPARTMENT_TABLE_KEYS`) is added
  to the company's entry instead (an empty entry `{}` still replaces it): replacing it would silently read the data
  folder's default file in place of the company's source;
- `indicators`: merged per indicator id, then per key (the company gives
  `CS04: {sla: 24h, step: 1, penalty: 2}`, the department `CS04: {weight: 8,
  target: 95}`);
- `policy`: merged per key;
- `periods`: merged per period, then like the base (`indicators` per id and key,
  `policy` per key, `grades` replaced). The period overrides are applied after the
  two files are merged, so a company's `periods: {2026-Q4: {indicators: {CS04:
  {target: 97}}}}` overrides a department's own base `target` for that period
  (a department overrides it again in its own `periods:`);
- anything else (`data`, `template`, `lang`, `timezone`, `grades` …) replaces.

Paths in the company file resolve against the company file's folder: `data`,
`template` when it is a path, a table's `adapter`, and anything else a table
entry names by a relative path (`Department.table_base(table)` is the folder of
the file that defined the table's entry, for adapters and database files alike).

Errors: the company file's own problems (an unknown key, `department`, `name` or
`company` in it, bad YAML) name the company file and the line. A problem found
after merging names the file whose value it is (`owner`): a value the company
gave names the company file and the line of its key; a value of the params file,
or a key missing from both, names the params file (where a department adds what
it lacks), as before. A company file that is not there, or that is not a mapping,
fails each department that names it, naming the params file and the line of its
`company:` key.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..base.errors import Code, Problem
from ..base.text import near_match

NOT_IN_COMPANY = {
    "department": "a department's own id; it belongs in each params file",
    "name": "a department's own name; it belongs in each params file",
    "company": "a company file cannot name another company file; put the shared keys in this one",
}
BY_ENTRY = "tables"  # merged entry by entry, each entry replaced whole
DEEP = ("indicators", "policy", "periods")  # merged key by key, at every level


@dataclass(frozen=True)
class CompanyFile:
    """A loaded company file: where it is, its keys (period keys canonical) and the line of each key."""

    path: Path
    raw: dict[str, Any]
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def line(self, path: Iterable[str]) -> int | None:
        """The line of the key at `path`, or of the nearest key above it that has one."""
        keys = tuple(path)
        while keys:
            if keys in self.lines:
                return self.lines[keys]
            keys = keys[:-1]
        return None

    def with_line(self, problem: Problem) -> Problem:
        """A problem of this file with the line of the key its message starts with (`periods.2026-Q4: …`)."""
        head = problem.message.split(": ", 1)[0] if ": " in problem.message else ""
        return at_line(problem, self.line(head.split("."))) if head else problem


def key_problems(company: CompanyFile, allowed: Iterable[str]) -> list[Problem]:
    """The company file's top-level keys that are not allowed, each naming the file and its line."""
    known = [key for key in allowed if key not in NOT_IN_COMPANY]
    problems = []
    for key in company.raw:
        if key in NOT_IN_COMPANY:
            message, code = f"{key}: {NOT_IN_COMPANY[key]}", Code.NOT_IN_COMPANY_FILE
        elif key not in known:
            near = near_match(key, known)
            hint = f"did you mean {near}? " if near else ""
            message = f"{key}: unknown key; {hint}a company file may hold {', '.join(known)}"
            code = Code.UNKNOWN_KEY
        else:
            continue
        problems.append(at_line(Problem(file=str(company.path), message=message, code=code), company.line([key])))
    return problems


def at_line(problem: Problem, line: int | None) -> Problem:
    """`problem` with `line N: ` before its message (as a YAML problem names its line)."""
    return problem if line is None else replace(problem, message=f"line {line}: {problem.message}")


# What a department may say about a table the company file describes without replacing its entry
DEPARTMENT_TABLE_KEYS = frozenset({"exclude", "allow_no_rows"})


def merge(company: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The company's keys overridden by the params file's `own` (the rules of the module docstring)."""
    merged = copy.deepcopy(dict(company))
    for key, value in own.items():
        before = merged.get(key)
        if key == BY_ENTRY and isinstance(value, dict) and isinstance(before, dict):
            merged[key] = {**before, **copy.deepcopy(value)}
            for table, entry in value.items():  # the department's own refinements of the company's table
                if _refines(company, own, str(table)):
                    shared = before[table]
                    merged[key][table] = {**copy.deepcopy(shared), **copy.deepcopy(entry)}
                    if isinstance(shared.get("exclude"), dict) and isinstance(entry.get("exclude"), dict):
                        merged[key][table]["exclude"] = {**shared["exclude"], **entry["exclude"]}  # both lists count
        elif key in DEEP and isinstance(value, dict) and isinstance(before, dict):
            merged[key] = deep_merge(before, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `override` merged in key by key at every level (a copy; neither is changed)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _has(data: Any, path: tuple[str, ...]) -> bool:
    for part in path:
        if isinstance(data, dict):
            keys = {str(k): k for k in data}
            if part not in keys:
                return False
            data = data[keys[part]]
        elif isinstance(data, (list, tuple)) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def owner(path: tuple[str, ...], company: Mapping[str, Any], own: Mapping[str, Any]) -> str | None:
    """Which file gave the merged value at `path`: "params", "company", or None when neither holds it.

    A key the params file holds is the params file's; so is everything under a key
    the params file replaces (`data`, `grades`, a table's entry …).
    """
    if not path:
        return None
    replaced = path[:2] if path[0] == BY_ENTRY else path[:1] if path[0] not in DEEP else None
    if path[0] == BY_ENTRY and len(path) > 1 and _refines(company, own, str(path[1])):
        # the department added its own keys to the company's entry: the entry (its source, its folder) is the
        # company's, and each key under it is its giver's
        return "params" if len(path) > 2 and _has(own, path) else "company"
    if _has(own, path) or (replaced is not None and _has(own, replaced)):
        return "params"
    return "company" if _has(company, path) else None


def dropped_sources(company: CompanyFile, own: Mapping[str, Any], params_file: str) -> list[Problem]:
    """Table entries of the params file that replace a company entry naming a file or sql with one naming neither.

    Such an entry would quietly read the data folder's default `<table>` file instead
    of the company's source: refused, with the two ways out.
    """
    mine, shared = own.get(BY_ENTRY), company.raw.get(BY_ENTRY)
    if not isinstance(mine, dict) or not isinstance(shared, dict):
        return []
    problems = []
    for table, entry in mine.items():
        before = shared.get(table)
        if not isinstance(entry, dict) or not isinstance(before, dict) or _refines(company.raw, own, str(table)):
            continue
        source = next((key for key in ("file", "sql") if before.get(key) is not None), None)
        if source is not None and entry.get("file") is None and entry.get("sql") is None:
            problems.append(
                Problem(
                    file=params_file,
                    message=f"tables.{table}: replaces the company file's entry (which reads its {source}) with one "
                    f"that names no file or sql, so the data folder's default {table} file would be read; repeat "
                    f"the {source} here, or give only {' and '.join(sorted(DEPARTMENT_TABLE_KEYS))} to add them to "
                    "the company's entry",
                    code=Code.SOURCE_DROPPED,
                )
            )
    return problems


def _refines(company: Mapping[str, Any], own: Mapping[str, Any], table: str) -> bool:
    """Whether the params' entry of `table` only adds the department's own keys to the company's (see `merge`)."""
    mine, shared = own.get(BY_ENTRY), company.get(BY_ENTRY)
    entry = mine.get(table) if isinstance(mine, dict) else None
    return (
        isinstance(entry, dict)
        and isinstance(shared, dict)
        and isinstance(shared.get(table), dict)
        and bool(entry)
        and set(entry) <= DEPARTMENT_TABLE_KEYS
    )


def relocate(problem: Problem, params_file: str, company: CompanyFile, own: Mapping[str, Any]) -> Problem:
    """A problem of the merged params that is about a value the company file gave: named in the company file, with the line.

    The key is read from the head of the message, as params problems write it
    (`indicators.CS04.sla: …`, or `periods.2026-Q4 → indicators.CS04.sla: …`).
    """
    if problem.file != params_file or ": " not in problem.message:
        return problem
    head = problem.message.split(": ", 1)[0]
    prefix, _, key = head.rpartition(" → ")
    path = tuple(key.split("."))
    candidates = [tuple(prefix.split(".")) + path, path] if prefix else [path]
    for candidate in candidates:
        found = owner(candidate, company.raw, own)
        if found == "company":
            return at_line(replace(problem, file=str(company.path)), company.line(candidate))
        if found == "params":
            return problem
    return problem


__all__ = ["CompanyFile", "key_problems", "merge", "owner", "relocate"]
