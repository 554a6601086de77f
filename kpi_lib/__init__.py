"""kpi_lib: quantified department performance appraisal (绩效量化考核) around Jupyter."""

from .appraisal import IndicatorResult, Scorecard, appraise, combine
from .errors import (
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
from .params import Department, Params, load_params
from .period import Period
from .result import DepartmentResult, GroupRecord, IndicatorRecord
from .tables import DataFolder
from .template import Indicator, Template, load_template

__version__ = "0.1.0"

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
