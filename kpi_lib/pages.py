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

from .messages import both

__all__ = ["Markup", "render", "signoff_html"]


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("kpi_lib", "html"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, /, **context: Any) -> str:
    """The template `kpi_lib/html/<template>` rendered with `context` (every value escaped unless `Markup`)."""
    return environment().get_template(template).render(**context)


def signoff_html(signoffs: Sequence[Mapping[str, Any]]) -> str:
    """The seed's sign-off block (部门经理签字 / 上级主管领导签字): who signed, when, which manifest."""
    by_role: dict[str, Mapping[str, Any]] = {}
    for record in signoffs:
        by_role[str(record.get("role"))] = record  # the latest signature of each role
    cells = []
    for role, key in (("manager", "manager_sign"), ("supervisor", "supervisor_sign")):
        signed = by_role.get(role)
        zh, en = both(f"label.{key}")
        cells.append(
            {
                "label_zh": zh,
                "label_en": en,
                "signed": bool(signed),
                "name": signed.get("name") if signed else "",
                "time": signed.get("time") if signed else "",
                "manifest": str(signed.get("manifest_sha256"))[:16] if signed else "",
                "comment": (signed.get("comment") or "") if signed else "",
            }
        )
    return render("signoff.html.j2", cells=cells)
