"""HTML for people, from Jinja2 templates with autoescaping (`kpi_lib/html/*.j2`).

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

from .messages import both, say

__all__ = ["AUDIT_TAG", "Markup", "render", "signoff_html"]

# The output tag of what only the auditor's report shows (provenance); the reader's exporter drops it (`reports`).
AUDIT_TAG = "audit"


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("kpi_lib", "html"),
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
    """The template `kpi_lib/html/<template>` rendered with `context` (every value escaped unless `Markup`)."""
    return environment().get_template(template).render(**context)


def signoff_html(signoffs: Sequence[Mapping[str, Any]], lang: str | None = None) -> str:
    """The seed's sign-off block (部门经理签字 / 上级主管领导签字): who signed, when, which manifest.

    In the department's `lang` (one language per report); without one, both languages (a
    caller that does not know the department's language).
    """
    by_role: dict[str, Mapping[str, Any]] = {}
    for record in signoffs:
        by_role[str(record.get("role"))] = record  # the latest signature of each role
    cells = []
    for role, key in (("manager", "manager_sign"), ("supervisor", "supervisor_sign")):
        signed = by_role.get(role)
        zh, en = both(f"label.{key}")
        cells.append(
            {
                "label": say(f"label.{key}", lang) if lang else f"{zh} {en}",
                "signed": bool(signed),
                "name": signed.get("name") if signed else "",
                "time": signed.get("time") if signed else "",
                "manifest": str(signed.get("manifest_sha256"))[:16] if signed else "",
                "comment": (signed.get("comment") or "") if signed else "",
            }
        )
    heading = say("report.signoff", lang) if lang else " ".join(both("report.signoff"))
    manifest = say("report.signed_manifest", lang) if lang else " ".join(both("report.signed_manifest"))
    colon = ": " if lang == "en" else "："
    return render("signoff.html.j2", cells=cells, heading=heading, manifest_label=manifest, colon=colon)
