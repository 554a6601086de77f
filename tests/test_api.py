"""The public API is a promise: `kpi_lib.__all__` is checked against the package itself, the way httpx does it.

httpx's `tests/test_exported_members.py` asserts that `__all__` is exactly the sorted
list of the public names in `vars(httpx)`. Here the same: a name made public in
`kpi_lib/__init__.py` without being exported fails, and so does a name exported but
gone, or an `__all__` out of order. Submodules (`kpi_lib.scoring.appraisal`, …) are
attributes of the package once imported, but no part of `__all__`.
"""

from __future__ import annotations

import types

import kpi_lib


def public_names() -> list[str]:
    """What `kpi_lib` itself offers: every name without a leading underscore that is not a submodule."""
    return [
        name
        for name, value in vars(kpi_lib).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    ]


def test_all_imports_are_exported() -> None:
    missing = sorted(set(public_names()) - set(kpi_lib.__all__))
    assert not missing, f"public in kpi_lib but not in __all__: {missing}"


def test_every_exported_name_exists() -> None:
    gone = [name for name in kpi_lib.__all__ if name not in vars(kpi_lib)]
    assert not gone, f"in __all__ but not defined in kpi_lib: {gone}"
    assert not [n for n in kpi_lib.__all__ if isinstance(getattr(kpi_lib, n), types.ModuleType)]


def test_all_is_sorted_without_repeats() -> None:
    # httpx sorts case-insensitively (`key=str.casefold`); this package's __all__ has been sorted plainly (capitals
    # first) so far, and branches now differ on it: either order passes, no other.
    orders = (sorted(public_names()), sorted(public_names(), key=str.casefold))
    assert kpi_lib.__all__ in orders, "__all__ is not the sorted list of kpi_lib's public names"
    assert len(set(kpi_lib.__all__)) == len(kpi_lib.__all__)


def test_every_error_is_a_kpi_error_with_lines() -> None:
    for name in ("AuditError", "DataError", "InputError", "OutputError", "ParamsError", "TemplateError", "UsageError"):
        error = getattr(kpi_lib, name)
        assert issubclass(error, kpi_lib.KpiError)
    assert (
        kpi_lib.UsageError("x").exit_code == 2 and kpi_lib.DataError("x", code=kpi_lib.Code.EMPTY_VALUE).exit_code == 1
    )
    assert kpi_lib.DataError(
        [
            kpi_lib.Problem(
                file="a.csv",
                row=3,
                column="score",
                value="7",
                message="expected 1 to 5",
                code=kpi_lib.Code.OUT_OF_RANGE,
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
                code=kpi_lib.Code.WRONG_TYPE,
            )
        ]
    ).lines()[0]
    assert "x" * 59 + "…" in line and "x" * 60 not in line


def test_every_module_by_its_own_name() -> None:
    # `from kpi_lib import notebook` (as the notebooks say) reaches the module in its layer's folder, for each module.
    for name, where in kpi_lib._MODULES.items():
        module = getattr(kpi_lib, name)
        assert module.__name__ == f"kpi_lib.{where}" and where.endswith("." + name)
    assert {n for n, v in vars(kpi_lib).items() if isinstance(v, types.ModuleType)} >= {"base", "inputs", "scoring"}
