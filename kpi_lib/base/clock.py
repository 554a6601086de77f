"""The toolkit's one clock: every time written into an output comes from `now()`.

Reproducible outputs follow the reproducible-builds convention
(https://reproducible-builds.org/specs/source-date-epoch/): when the environment
variable `SOURCE_DATE_EPOCH` holds an integer (seconds since 1970-01-01 UTC),
`now()` is that instant, in UTC, and no output carries any other time, so two
`kpi run`s on identical inputs write byte-identical trees. Without it `now()` is
the wall clock in the local time zone; only the times then differ between runs.
A malformed value is a usage error (the convention says to fail, not to guess).

The times that come from here:

- manifests' `created` (department and period), the "executed at" line of every
  notebook, the papermill and nbclient timings inside executed notebooks
  (`notebook.settle`: start and end times, durations 0 when the variable is set);
- the document properties and zip member times of `scorecard.xlsx` and
  `summary.xlsx`;
- DTSTAMP of the collection calendar (`kpi calendar --ics`).

The font subset the HTML reports embed keeps the source font's own date: it is
a pure function of the page's text, so `kpi verify` can render `index.html` again
and compare it byte for byte.

Deliberately not from here: a sign-off's time, which records when a person acted
(a build convention must not back-date it), and the names of folders that only
need to be unique while a run works (`.old-…`).

The kernel of each notebook inherits the environment of `kpi run`, so the
variable reaches the notebooks' own lines too. With `--executor dask` and a remote
scheduler, set it on the workers as well.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from .errors import UsageError

VARIABLE = "SOURCE_DATE_EPOCH"


def source_date_epoch() -> int | None:
    """The value of `SOURCE_DATE_EPOCH` as seconds since the epoch, None when unset or empty."""
    raw = os.environ.get(VARIABLE, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise UsageError(
            f"{VARIABLE}={raw[:40]!r}: expected a whole number of seconds since 1970-01-01 UTC (e.g. `date +%s`), or leave it unset"
        )
    return int(raw)


def reproducible() -> bool:
    """True when outputs must be byte-identical across runs (`SOURCE_DATE_EPOCH` is set)."""
    return source_date_epoch() is not None


def now() -> datetime:
    """The time to write into outputs: `SOURCE_DATE_EPOCH` in UTC when set, else the local wall clock; whole seconds, with its offset."""
    epoch = source_date_epoch()
    if epoch is not None:
        return datetime.fromtimestamp(epoch, UTC)
    return datetime.now().astimezone().replace(microsecond=0)


def stamp() -> str:
    """`now()` as ISO 8601 text with its UTC offset, e.g. `2026-01-05T09:30:00+08:00`."""
    return now().isoformat(timespec="seconds")


def utc_naive() -> datetime:
    """`now()` in UTC without a time zone, for formats that assume UTC (xlsx document properties)."""
    return now().astimezone(UTC).replace(tzinfo=None)


__all__ = ["VARIABLE", "now", "reproducible", "source_date_epoch", "stamp", "utc_naive"]
