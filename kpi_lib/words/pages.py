"""HTML for people, from Jinja2 templates with autoescaping (`kpi_lib/words/html/*.j2`).

Every fragment a notebook displays (provenance, an indicator's definition and
evidence, the filled-in sheet, the sign-off block) and the period's `index.html`
are rendered here. Text from data, params or errors is escaped by Jinja2's
autoescaping; HTML made by a library (a pandas table of evidence rows) is
passed in as `Markup`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..base.messages import both, say
from ..inputs.signing import local_time, role_label, rounds_of
from ..inputs.template import SEED_ROLES, SignRole

__all__ = ["AUDIT_TAG", "Markup", "render", "signoff_html"]

# The output tag of what only the auditor's report shows (provenance); the reader's exporter drops it (`reports`).
AUDIT_TAG = "audit"
# The seed's roles keep the seed's own words for their signature lines (`label.manager_sign`, …).
SEED_LABELS = {"manager": "manager_sign", "supervisor": "supervisor_sign"}


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader(__package__, "html"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=shown,
    )


def shown(value: Any) -> Any:
    """What `{{ value }}` prints: a missing value (None) as "—", never the word `None`, the way every other blank is shown.

    (Jinja2's own literal `none` is None too: a context variable named `none` cannot be passed.)
    """
    return "—" if value is None else value


def render(template: str, /, **context: Any) -> str:
    """The template `kpi_lib/words/html/<template>` rendered with `context` (every value escaped unless `Markup`)."""
    return environment().get_template(template).render(**context)


def signoff_html(
    signoffs: Sequence[Mapping[str, Any]],
    lang: str | None = None,
    *,
    roles: Sequence[SignRole] = SEED_ROLES,
    zone: str = "",
    current: str | None = None,
) -> str:
    """The seed's sign-off block (部门经理签字 / 上级主管领导签字): every signature, round by round.

    A line per role of the template (`roles`, in signing order) for the current round (the
    records that signed the manifest `current`): who signed, when (local time in the
    department's `zone`, with the zone), the comment and the manifest. Below it, each
    superseded round (records that signed an earlier run's manifest), marked as such, with
    the same details. In the department's `lang` (one language per report); without one,
    both languages (a caller that does not know the department's language).
    """
    shown = lang or "zh"

    def label(role: Any) -> str:
        if role in SEED_LABELS:  # the seed's own words, as the sheet has them
            key = SEED_LABELS[role]
            return say(f"label.{key}", lang) if lang else " ".join(both(f"label.{key}"))
        if lang:
            return say("label.role_sign", lang, role=role_label(tuple(roles), role, lang))
        return f"{role_label(tuple(roles), role, 'zh')}签字 {role_label(tuple(roles), role, 'en')}'s signature"

    def cell(role: Any, signed: Mapping[str, Any] | None) -> dict[str, Any]:
        return {
            "label": label(role),
            "signed": bool(signed),
            "name": signed.get("name") if signed else "",
            "time": local_time(signed.get("time"), zone, shown)[0] if signed else "",
            "manifest": str(signed.get("manifest_sha256"))[:16] if signed else "",
            "comment": (signed.get("comment") or "") if signed else "",
        }

    rounds = rounds_of(list(signoffs), current)
    now = rounds[-1] if rounds and rounds[-1].current else None
    cells = [cell(role.id, now.signed(role.id) if now else None) for role in roles]
    earlier = [
        {
            "heading": say("signoff.superseded_round", lang, number=number, manifest=round_.manifest_sha256[:16])
            if lang
            else " ".join(both("signoff.superseded_round", number=number, manifest=round_.manifest_sha256[:16])),
            "cells": [cell(record.get("role"), record) for record in round_.records],
        }
        for number, round_ in enumerate(rounds, start=1)
        if not round_.current
    ]
    heading = say("report.signoff", lang) if lang else " ".join(both("report.signoff"))
    manifest = say("report.signed_manifest", lang) if lang else " ".join(both("report.signed_manifest"))
    colon = ": " if lang == "en" else "："
    return render(
        "signoff.html.j2", cells=cells, earlier=earlier, heading=heading, manifest_label=manifest, colon=colon
    )
