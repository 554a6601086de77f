"""Errors of the toolkit: one tree, each carrying what a person needs to fix the input.

    KpiError                    anything the toolkit reports on purpose (never a traceback)
    ├── UsageError              bad command line: unknown period form, missing params file (exit 2)
    ├── InputError              bad data or parameters of one department (exit 1)
    │   ├── TemplateError       the indicator template file
    │   ├── ParamsError         a department's params YAML
    │   └── DataError           an input table, or evidence a rate needs and cannot find
    ├── AuditError              the audit trail: a manifest, sign-off log or recorded result that
    │                           is missing, unreadable or inconsistent (exit 1)
    └── OutputError             the environment refused a write: disk full, read-only folder,
                                another run holding the period's lock (exit 1)

An `InputError` holds a list of `Problem`s: validation gathers every problem of a
file before it reports, so a spreadsheet is fixed in one pass. Each problem renders
as one line naming the file, the row (counted as a spreadsheet user counts: the
header is row 1), the column, the value found (shortened to 60 characters) and
what was expected.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

VALUE_WIDTH = 60


def shorten(value: object, width: int = VALUE_WIDTH) -> str:
    """`value` as text of at most `width` characters (an ellipsis marks a cut)."""
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


class Place(TypedDict, total=False):
    """Where a `Problem` is, as `Problem(**place)` takes it: the xlsx cell, else the row."""

    row: int | None
    cell: str


def place(row: int | None, letter: str | None = None) -> Place:
    """Where a `Problem` is: the xlsx cell (`cell="E12"`) when the column letter is known, else the row."""
    return {"cell": f"{letter}{row}"} if letter and row is not None else {"row": row}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of one input file."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    department: str | None = None
    cell: str | None = None  # an xlsx cell reference (E12), shown as file!E12 instead of the row

    def __str__(self) -> str:
        where = [f"{self.file}!{self.cell}" if self.cell else self.file]
        if self.row is not None and not self.cell:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        text = ", ".join(where) + ": "
        if self.value is not None and self.value != "":
            text += f"found {shorten(self.value)!r}, "
        return text + self.message


class KpiError(Exception):
    """Base of every error the toolkit raises on purpose."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The error as readable lines, one per problem."""
        return str(self).splitlines() or [type(self).__name__]

    def _render_traceback_(self) -> list[str]:
        """How IPython shows this error in a notebook: the problems, not a stack of frames."""
        return [f"{type(self).__name__}:", *self.lines()]


class UsageError(KpiError):
    """The command was called wrongly (exit code 2)."""

    exit_code = 2


class InputError(KpiError):
    """Bad input of one department: every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem] | str, *, file: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(file=file, message=problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class TemplateError(InputError):
    """The template file is malformed."""


class ParamsError(InputError):
    """A params file is malformed or inconsistent with its template."""


class DataError(InputError):
    """An input table is malformed, or evidence an indicator needs is missing."""


class AuditError(KpiError):
    """The audit trail is missing, unreadable or inconsistent (a manifest, a sign-off log, a recorded result)."""


class OutputError(KpiError):
    """Writing outputs failed for a reason of the environment (disk full, read-only, locked by another run)."""


_WRITE_HINTS = {
    errno.ENOSPC: "free some space on that disk, then run again",
    errno.EDQUOT: "the disk quota is used up; free some space, then run again",
    errno.EFBIG: "the file system refuses a file this large; write to another folder (--out)",
    errno.EROFS: "the folder is on a read-only file system; write to another folder (--out)",
    errno.EACCES: "no permission to write there; fix the folder's permissions or write to another folder (--out)",
    errno.EPERM: "no permission to write there; fix the folder's permissions or write to another folder (--out)",
}
WRITE_ERRNOS = frozenset(_WRITE_HINTS)


def output_error(exc: OSError, path: object = None, what: str = "cannot write") -> OutputError:
    """An `OutputError` for a write the environment refused: the path, the cause and what to do, on one line."""
    where = path if path is not None else exc.filename
    cause = exc.strerror or type(exc).__name__
    hint = _WRITE_HINTS.get(exc.errno or 0, "check the disk and the folder, then run again")
    return OutputError(f"{where}: {what}: {cause}; {hint}")
