"""The golden notebooks (see make_golden.py): nbval compares their outputs, not the recorded JSON or the charts."""

from __future__ import annotations

from typing import Any

import pytest

from kpi_lib.reports.executed import MIME


def pytest_collectstart(collector: Any) -> None:
    if getattr(collector, "skip_compare", None) is not None:
        collector.skip_compare += (MIME,)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)  # each starts a kernel
