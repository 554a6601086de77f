"""The public API is a promise: its names are pinned here (httpx does the same)."""

from __future__ import annotations

import kpi_lib
from kpi_lib.errors import Code


def test_public_names() -> None:
    assert sorted(kpi_lib.__all__) == [
        "AuditError",
        "DataError",
        "DataFolder",
        "Department",
        "Indicator",
        "IndicatorResult",
        "InputError",
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
    for name in kpi_lib.__all__:
        assert getattr(kpi_lib, name) is not None


def test_every_error_is_a_kpi_error_with_lines() -> None:
    for name in (
        "AuditError",
        "DataError",
        "InputError",
        "OutputError",
        "ParamsError",
        "SetupError",
        "TemplateError",
        "UsageError",
    ):
        error = getattr(kpi_lib, name)
        assert issubclass(error, kpi_lib.KpiError)
    assert kpi_lib.UsageError("x").exit_code == 2 and kpi_lib.DataError("x", code=Code.MISSING_FILE).exit_code == 1
    assert kpi_lib.DataError(
        [
            kpi_lib.Problem(
                file="a.csv", row=3, column="score", value="7", message="expected 1 to 5", code="out_of_range"
            )
        ]
    ).lines() == ["a.csv, row 3, column score: found '7', expected 1 to 5"]


def test_a_long_value_is_shortened_to_60_characters() -> None:
    line = kpi_lib.DataError(
        [
            kpi_lib.Problem(
                file="a.csv",
                row=2,
                column="title",
                value="x" * 500,
                message="expected text",
                code=Code.CONTROL_CHARACTER,
            )
        ]
    ).lines()[0]
    assert "x" * 59 + "…" in line and "x" * 60 not in line
