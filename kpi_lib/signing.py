"""Sign-off as people read it: the template's roles, rounds of signatures, and times in the department's zone.

A round is the run of consecutive sign-off records that signed one manifest (one
state of the evidence). The last round is current when it signed the folder's own
manifest; every earlier round is superseded (a forced re-run replaced the evidence
and kept the log). The log itself, its chain and signatures are `signoff`'s; the
pages (`pages.signoff_html`), the xlsx (`exports`) and the index read rounds from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import shorten
from .messages import say
from .template import SignRole


def role_label(roles: tuple[SignRole, ...], role: Any, lang: str) -> str:
    """A role's name in `lang` (`部门经理`); an id the template does not declare, as written."""
    found = next((r for r in roles if r.id == role), None)
    return found.label(lang) if found is not None else str(role)


@dataclass
class Round:
    """The records that signed one manifest, in order; `current` when that manifest is the folder's own."""

    manifest_sha256: str
    records: list[dict[str, Any]]
    current: bool

    def signed(self, role: str) -> dict[str, Any] | None:
        return next((r for r in self.records if r.get("role") == role), None)


def rounds_of(records: Sequence[Mapping[str, Any]], current: str | None) -> list[Round]:
    """Consecutive records that signed the same manifest form a round; the last is current when it signed `current`.

    Every earlier round is superseded: the evidence changed (a forced re-run kept the log) after it was signed.
    """
    found: list[Round] = []
    for record in records:
        sha = str(record.get("manifest_sha256"))
        if found and found[-1].manifest_sha256 == sha:
            found[-1].records.append(dict(record))
        else:
            found.append(Round(sha, [dict(record)], False))
    if found and current is not None and found[-1].manifest_sha256 == current:
        found[-1].current = True
    return found


def zone_of(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_time(text: Any, zone: str, lang: str) -> tuple[str, datetime | None]:
    """A record's time as people read it, in the department's zone, and that local time (naive) for a date cell.

    `2026-12-06T13:28:26+00:00` in Asia/Shanghai → `2026-12-06 21:28 (Asia/Shanghai, UTC+08:00)`. A time
    recorded without an offset (older records) is shown as recorded, marked zone unknown; text that is not
    a time at all is shown as it is.
    """
    shown, where, local = time_parts(text, zone, lang)
    return f"{shown} ({where})", local


def time_parts(text: Any, zone: str, lang: str) -> tuple[str, str, datetime | None]:
    """(the local time `2026-12-06 21:28`, its zone `Asia/Shanghai, UTC+08:00` or "zone unknown", the naive local datetime)."""
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        return shorten(text, 40), say("signoff.zone_unknown", lang), None
    place = zone_of(zone)
    if when.tzinfo is None or place is None:
        return f"{when:%Y-%m-%d %H:%M}", say("signoff.zone_unknown", lang), when.replace(tzinfo=None)
    local = when.astimezone(place)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M}", f"{zone}, UTC{offset[:3]}:{offset[3:]}", local.replace(tzinfo=None)
