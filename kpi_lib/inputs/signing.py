"""Sign-off as people read it: the template's roles, rounds of signatures, and times in the department's zone.

A round is the run of consecutive sign-off records that signed one manifest (one
state of the evidence). The last round is current when it signed the folder's own
manifest; every earlier round is superseded (a forced re-run replaced the evidence
and kept the log). The log itself, its chain and signatures are `signoff`'s; the
pages (`pages.signoff_html`), the xlsx (`exports`) and the index read rounds from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..base.errors import KpiError, shorten
from ..base.files import sha256_file
from ..base.layout import INPUTS, MANIFEST, SIGNOFFS, TEMPLATE_COPY
from ..base.messages import say
from .template import SEED_ROLES, SignRole, load_template


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
    `current` None: the caller does not know the manifest, and the last round counts as current; "": the
    folder has no manifest yet (a run being written), and every round is superseded.
    """
    found: list[Round] = []
    for record in records:
        if (
            "kind" in record
        ):  # an override record (`signoff.OVERRIDE`): it says why a run replaced a signed one, signs nothing
            continue
        sha = str(record.get("manifest_sha256"))
        if found and found[-1].manifest_sha256 == sha:
            found[-1].records.append(dict(record))
        else:
            found.append(Round(sha, [dict(record)], False))
    if found and (current is None or found[-1].manifest_sha256 == current):
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
    if when.tzinfo is None:
        return f"{when:%Y-%m-%d %H:%M}", say("signoff.zone_unknown", lang), when
    place = zone_of(zone)
    local = when.astimezone(place) if place is not None else when  # no zone given: the record's own offset
    offset = local.strftime("%z")
    named = f"{zone}, " if place is not None else ""
    return f"{local:%Y-%m-%d %H:%M}", f"{named}UTC{offset[:3]}:{offset[3:]}", local.replace(tzinfo=None)


def roles_of(folder: Path) -> tuple[SignRole, ...]:
    """The sign-off roles of a department folder, in signing order: its recorded template's (`signoff:`), else the seed's."""
    copy = folder / INPUTS / TEMPLATE_COPY
    if not copy.is_file():
        return SEED_ROLES
    try:
        return load_template(str(copy.resolve())).signoff
    except (KpiError, OSError):
        return SEED_ROLES  # a template copy that no longer loads: verify names it; the seed's roles stand in


def current_manifest(folder: Path) -> str:
    """sha256 of the folder's manifest ("" when it has none yet: a run being written; see `rounds_of`)."""
    try:
        return sha256_file(folder / MANIFEST)
    except OSError:
        return ""


@dataclass(frozen=True)
class SignState:
    """Where a department's sign-off stands: the roles that signed its current evidence, and whether an earlier round was superseded."""

    signed: tuple[str, ...]
    roles: tuple[SignRole, ...]
    superseded: bool

    @property
    def complete(self) -> bool:
        return bool(self.roles) and all(r.id in self.signed for r in self.roles)

    def text(self, lang: str) -> str:
        """未签 / 部门经理已签 / 全部签署, and `(earlier round superseded)` when one was."""
        if self.complete:
            said = say("signoff.state_all", lang)
        elif self.signed:
            names = "、" if lang == "zh" else ", "
            said = say(
                "signoff.state_some", lang, roles=names.join(role_label(self.roles, r, lang) for r in self.signed)
            )
        else:
            said = say("signoff.state_none", lang)
        return f"{said} ({say('signoff.state_superseded', lang)})" if self.superseded else said


def sign_state(folder: Path) -> SignState:
    """The department's sign-off state, from its log and manifest (`summary`, `index.html`)."""
    rounds = rounds_of(_records(folder / SIGNOFFS), current_manifest(folder))
    now = rounds[-1] if rounds and rounds[-1].current else None
    superseded = any(not r.current for r in rounds)
    return SignState(tuple(str(r.get("role")) for r in now.records) if now else (), roles_of(folder), superseded)


def _records(log: Path) -> list[dict[str, Any]]:
    """The JSON objects of a sign-off log, in order (what `signoff.read_log` judges; a line that is not one is skipped here)."""
    try:
        lines = log.read_bytes().decode("utf-8").splitlines() if log.is_file() else []
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict):
            found.append(record)
    return found
