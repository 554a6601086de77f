"""The incremental fingerprint covers the software that can change a number or a page.

Every third-party package kpi_lib imports (read from its code), and every package
the report and notebook modules load when imported (read from `sys.modules` in a
fresh interpreter), must be a distribution whose version the fingerprint records;
so must the time-zone databases `zoneinfo` reads. The lists are derived, so a new
import cannot slip past.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from kpi_lib.base.files import fingerprint_versions

PACKAGE = Path(__file__).resolve().parents[1] / "kpi_lib"
REPORT_MODULES = (
    "kpi_lib.notebook",
    "kpi_lib.reports.convert",
    "kpi_lib.words.charts",
    "kpi_lib.reports.exports",
    "kpi_lib.words.pages",
    "kpi_lib.reports.dashboard",
    "kpi_lib.words.sheet",
    "kpi_lib.batch.runner",
    "kpi_lib.reports.executed",
    "kpi_lib.batch.kernels",
)


def _distributions(modules: set[str]) -> dict[str, list[str]]:
    """Top-level module → the distributions that provide it (modules of the standard library or kpi_lib left out)."""
    provided = metadata.packages_distributions()
    return {
        m: [canonicalize_name(d) for d in provided[m]]
        for m in sorted(modules)
        if m not in sys.stdlib_module_names and m != "kpi_lib" and m in provided
    }


def _imported_by_the_code() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def _missing(modules: set[str]) -> dict[str, list[str]]:
    recorded = set(fingerprint_versions())
    return {m: dists for m, dists in _distributions(modules).items() if not set(dists) & recorded}


def test_every_package_kpi_lib_imports_is_in_the_fingerprint() -> None:
    imported = _imported_by_the_code()
    assert {"numpy", "jinja2", "fontTools", "PIL", "matplotlib", "pyarrow", "openpyxl", "holidays"} <= imported
    assert _missing(imported) == {}


@pytest.mark.slow
def test_every_package_the_reports_load_is_in_the_fingerprint() -> None:
    deferred = sorted(_distributions(_imported_by_the_code()))  # imported inside functions when a run needs them
    script = (
        "import sys, importlib; before = {m.split('.')[0] for m in sys.modules}; "
        f"[importlib.import_module(m) for m in {(*REPORT_MODULES, *deferred)!r}]; "
        "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules} - before)))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert {"numpy", "jinja2", "nbconvert", "mistune", "nbformat"} <= loaded
    assert _missing(loaded) == {}


def test_the_fingerprint_records_the_time_zone_databases_and_the_page_makers() -> None:
    versions = fingerprint_versions()
    assert versions["tz database (system)"]  # a folder and its IANA version (or a hash of its files), or "none"
    assert versions["tz database (tzdata package)"].startswith(metadata.version("tzdata"))
    for name in ("numpy", "jinja2", "fonttools", "pillow", "matplotlib", "mistune", "bleach", "nbconvert", "tzdata"):
        assert versions[name] == metadata.version(name), name
