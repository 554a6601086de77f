"""kpi_lib: quantified department performance appraisal (绩效量化考核) around Jupyter.

One subpackage per layer, each importing only the ones before it (ARCHITECTURE.md,
enforced by tests/test_architecture.py): `base`, `inputs`, `scoring`, `words`,
`reports`, `audit`, `batch`; on top of them the two front doors, `cli` (the `kpi`
command) and `notebook` (what the notebooks call: `from kpi_lib import notebook`).

What a notebook or script imports stays short: the names in `__all__` below, and every
module by its own name (`from kpi_lib import tables` gives `kpi_lib.inputs.tables`),
imported the first time it is asked for. The three modules named like their layer are
reached through it: `kpi_lib.scoring.scoring`, `kpi_lib.audit.trail` (manifests,
verification, sign) and `kpi_lib.reports.convert` (the HTML reports).
"""

import importlib
import types

from .base.errors import (
    AuditError,
    Code,
    DataError,
    InputError,
    InternalError,
    KpiError,
    OutputError,
    ParamsError,
    Problem,
    SetupError,
    TemplateError,
    UsageError,
)
from .inputs.params import Department, Params, load_params
from .inputs.period import Period
from .inputs.tables import DataFolder
from .inputs.template import Indicator, Template, load_template
from .scoring.appraisal import IndicatorResult, Scorecard, appraise, combine
from .scoring.result import DepartmentResult, GroupRecord, IndicatorRecord

__version__ = "0.1.0"

# Each module by its own name: `from kpi_lib import notebook` → kpi_lib.notebook.
_MODULES = {
    "consistency": "audit.consistency",
    "crosscheck": "audit.crosscheck",
    "diff": "audit.diff",
    "pagediff": "audit.pagediff",
    "signoff": "audit.signoff",
    "clock": "base.clock",
    "errors": "base.errors",
    "files": "base.files",
    "layout": "base.layout",
    "messages": "base.messages",
    "numbers": "base.numbers",
    "text": "base.text",
    "yamlfile": "base.yamlfile",
    "demo": "batch.demo",
    "importer": "batch.importer",
    "incremental": "batch.incremental",
    "kernels": "batch.kernels",
    "lab": "batch.lab",
    "labserver": "batch.labserver",
    "lock": "batch.lock",
    "runner": "batch.runner",
    "workers": "batch.workers",
    "company": "inputs.company",
    "params": "inputs.params",
    "partitions": "inputs.partitions",
    "period": "inputs.period",
    "readers": "inputs.readers",
    "scope": "inputs.scope",
    "signing": "inputs.signing",
    "snapshot": "inputs.snapshot",
    "sources": "inputs.sources",
    "sql": "inputs.sql",
    "tables": "inputs.tables",
    "template": "inputs.template",
    "workdays": "inputs.workdays",
    "zones": "inputs.zones",
    "browser": "reports.browser",
    "dashboard": "reports.dashboard",
    "executed": "reports.executed",
    "exports": "reports.exports",
    "history": "reports.history",
    "summary": "reports.summary",
    "appraisal": "scoring.appraisal",
    "rates": "scoring.rates",
    "result": "scoring.result",
    "schedule": "scoring.schedule",
    "statistics": "scoring.statistics",
    "charts": "words.charts",
    "explain": "words.explain",
    "pages": "words.pages",
    "sheet": "words.sheet",
}


def __getattr__(name: str) -> types.ModuleType:
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{_MODULES[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AuditError",
    "Code",
    "DataError",
    "DataFolder",
    "Department",
    "DepartmentResult",
    "GroupRecord",
    "Indicator",
    "IndicatorRecord",
    "IndicatorResult",
    "InputError",
    "InternalError",
    "KpiError",
    "OutputError",
    "Params",
    "ParamsError",
    "Period",
    "Problem",
    "Scorecard",
    "SetupError",
    "Template",
    "TemplateError",
    "UsageError",
    "appraise",
    "combine",
    "load_params",
    "load_template",
]
