"""Reproducible to the byte (SPEC §9, issue 8 §5): with SOURCE_DATE_EPOCH set, identical inputs give identical trees.

The end-to-end test runs `kpi run` twice into the same `--out` path (the first tree
moved aside in between, the second run with another `--jobs`, so notebooks finish
in another order) and compares every file. The others pin each source of change
on its own: the clock, the xlsx dates, the executed notebooks' ids and timings, and
the font subset (a pure function of its text).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kpi_lib.base import clock
from kpi_lib.base.errors import UsageError
from kpi_lib.inputs.period import Period
from kpi_lib.reports.convert import font_css
from kpi_lib.reports.executed import settle
from kpi_lib.reports.summary import IndexRow, summary_xlsx
from kpi_lib.scoring.result import DepartmentResult, IndicatorRecord

from .conftest import kpi

EPOCH = 1767225600  # 2026-01-01T00:00:00Z
EPOCH_ISO = "2026-01-01T00:00:00+00:00"


def tree(root: Path) -> dict[str, str]:
    """sha256 of every file under `root` by relative path; dotfiles (the kernels' log, working folders) are not outputs."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    }


@pytest.mark.slow
def test_two_runs_write_byte_identical_trees(demo_dir: Path, tmp_path: Path) -> None:
    params = [
        str(demo_dir / "params" / f"{d}.yaml") for d in ("cs-east", "cs-west")
    ]  # a Chinese and an English department
    out, first = tmp_path / "outputs", tmp_path / "first"
    for jobs in ("2", "3"):
        if out.exists():
            out.rename(first)
        result = kpi(
            "run",
            *params,
            "--period",
            "2026-Q4",
            "--out",
            str(out),
            "--jobs",
            jobs,
            env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)},
        )
        assert result.returncode == 0, result.stderr
    a, b = tree(first), tree(out)
    differing = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
    assert not differing, (
        f"{len(differing)} file(s) differ between two runs with SOURCE_DATE_EPOCH set: {', '.join(differing)}"
    )
    names = {Path(name).name for name in a}
    expected = {
        "index.html",
        "summary.csv",
        "summary.xlsx",
        "manifest.json",
        "result.json",
        "department.json",
        "scorecard.xlsx",
    }
    expected |= {
        f"{n}{suffix}"
        for n in ("management", "service", "key_accounts", "cost", "scorecard")
        for suffix in (".ipynb", ".html", ".audit.html")
    }
    assert expected <= names
    period = out / "2026-Q4"
    assert json.loads((period / "manifest.json").read_text(encoding="utf-8"))["created"] == EPOCH_ISO
    assert json.loads((period / "cs-east" / "manifest.json").read_text(encoding="utf-8"))["created"] == EPOCH_ISO
    assert f"executed at</th><td>{EPOCH_ISO}" in (period / "cs-west" / "service.audit.html").read_text(encoding="utf-8")


# -- the clock ------------------------------------------------------------------------------
def test_now_is_source_date_epoch_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC) and clock.stamp() == EPOCH_ISO
    assert clock.utc_naive() == datetime(2026, 1, 1) and clock.reproducible()


def test_now_without_the_variable_is_the_local_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    now = clock.now()
    assert now.tzinfo is not None and now.microsecond == 0 and abs((datetime.now(UTC) - now).total_seconds()) < 5
    assert not clock.reproducible()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")
    assert not clock.reproducible()


@pytest.mark.parametrize("value", ["yesterday", "1.5", "-1", "１７６７２２５６００", "1e9"])
def test_a_malformed_source_date_epoch_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        clock.now()


@pytest.mark.slow
def test_kpi_run_refuses_a_malformed_source_date_epoch_before_running(demo_dir: Path, tmp_path: Path) -> None:
    result = kpi(
        "run",
        str(demo_dir / "params" / "cs-east.yaml"),
        "--period",
        "2026-Q4",
        "--out",
        str(tmp_path),
        env={**os.environ, "SOURCE_DATE_EPOCH": "today"},
    )
    assert result.returncode == 2 and "SOURCE_DATE_EPOCH='today'" in result.stderr
    assert not list(tmp_path.iterdir())


# -- xlsx -----------------------------------------------------------------------------------
ROWS = [
    IndexRow(
        "cs-x",
        name="华东",
        labels={"A": "优秀"},
        result=DepartmentResult(
            "cs-x",
            Period.parse("2026-Q4"),
            Decimal("96.5"),
            "A",
            (
                IndicatorRecord(
                    "CS01", "service", Decimal(5), "higher", Decimal(90), Decimal(95), Decimal(19), Decimal(20),
                    Decimal(5), Decimal("100.0"), "scored", 0, None, None, None,
                ),
            ),
        ),
        rank=1,
    )
]  # fmt: skip


def test_xlsx_bytes_are_dated_by_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    first = summary_xlsx("2026-Q4", ROWS)
    assert summary_xlsx("2026-Q4", ROWS) == first
    with zipfile.ZipFile(io.BytesIO(first)) as book:
        assert {info.date_time for info in book.infolist()} == {(2026, 1, 1, 0, 0, 0)}
        core = book.read("docProps/core.xml").decode("utf-8")
    assert core.count("2026-01-01T00:00:00Z") == 2  # created and modified
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 86400))
    assert summary_xlsx("2026-Q4", ROWS) != first


def test_xlsx_before_1980_gets_the_earliest_zip_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    with zipfile.ZipFile(io.BytesIO(summary_xlsx("2026-Q4", ROWS))) as book:
        assert {info.date_time for info in book.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "1970-01-01T00:00:00Z" in book.read("docProps/core.xml").decode("utf-8")


# -- executed notebooks ---------------------------------------------------------------------
def _executed(path: Path) -> Path:
    """A notebook as papermill leaves it: a random-id injected cell, wall-clock timings, the staging output path."""
    timing = {
        "start_time": "2026-11-27T12:55:17.062008+00:00",
        "end_time": "2026-11-27T12:55:17.063400+00:00",
        "duration": 0.001392,
        "status": "completed",
        "exception": False,
    }
    execution = {
        "iopub.execute_input": "2026-11-27T12:55:17.078735Z",
        "shell.execute_reply": "2026-11-27T12:55:17.088238Z",
    }
    notebook = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    notebook.cells = [
        new_markdown_cell("# title"),
        new_code_cell("x = 1"),
        new_code_cell("x = 2"),
        new_code_cell("print(x)"),
    ]
    notebook.cells[2].metadata["tags"] = ["injected-parameters"]
    for cell in notebook.cells:
        cell.metadata["papermill"] = dict(timing)
        if cell.cell_type == "code":
            cell.metadata["execution"] = dict(execution)
    pending = {"start_time": None, "end_time": None, "duration": None, "status": "pending", "exception": None}
    notebook.cells[3].metadata["papermill"] = pending  # a cell a failure kept from running
    notebook.metadata["papermill"] = {
        **timing,
        "output_path": "/somewhere/.staging-cs-x/group.ipynb",
        "parameters": {"period": "2026-Q4"},
    }
    nbformat.write(notebook, str(path))
    return path


def test_settle_makes_ids_and_times_come_from_the_inputs_and_the_clock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    path = _executed(tmp_path / "group.ipynb")
    settle(path)
    notebook = nbformat.read(str(path), as_version=4)
    assert [c.id for c in notebook.cells] == ["cell-0", "cell-1", "cell-2", "cell-3"]
    assert notebook.metadata.papermill.output_path == "group.ipynb" and notebook.metadata.papermill.parameters == {
        "period": "2026-Q4"
    }
    for meta in [notebook.metadata.papermill, *(c.metadata.papermill for c in notebook.cells[:3])]:
        assert (meta.start_time, meta.end_time, meta.duration) == (EPOCH_ISO, EPOCH_ISO, 0)
    assert (
        notebook.cells[3].metadata.papermill.start_time is None
        and notebook.cells[3].metadata.papermill.status == "pending"
    )
    assert set(notebook.cells[1].metadata.execution.values()) == {"2026-01-01T00:00:00.000000Z"}
    before = path.read_bytes()
    settle(path)
    assert path.read_bytes() == before


def test_settle_without_the_variable_keeps_the_times(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    path = _executed(tmp_path / "group.ipynb")
    settle(path)
    notebook = nbformat.read(str(path), as_version=4)
    assert [c.id for c in notebook.cells] == ["cell-0", "cell-1", "cell-2", "cell-3"]  # ids never depend on the run
    assert notebook.cells[1].metadata.papermill.duration == 0.001392
    assert notebook.metadata.papermill.output_path == "group.ipynb"


# -- the embedded font ----------------------------------------------------------------------
def test_the_font_subset_is_a_pure_function_of_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """No clock in the subset (with the variable set or not): the source font's own date, the same bytes every time."""
    from fontTools.ttLib import TTFont

    from kpi_lib.reports.convert import cjk_font_path

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    css = font_css(["华东客服部"])
    found = re.search(r"base64,([A-Za-z0-9+/=]+)\)", css)
    if found is None:
        pytest.skip("no CJK font installed (mplfonts), so no subset is embedded")
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert font_css(["华东客服部"]) == css
    subset = TTFont(io.BytesIO(base64.b64decode(found.group(1))))
    with TTFont(str(cjk_font_path()), lazy=True) as source:
        assert subset["head"].modified == source["head"].modified


@pytest.mark.slow
def test_the_collection_calendar_is_stamped_by_the_clock(demo_dir: Path, tmp_path: Path) -> None:
    ics = tmp_path / "cs-east.ics"
    result = kpi(
        "calendar",
        "--year",
        "2026",
        str(demo_dir / "params" / "cs-east.yaml"),
        "--ics",
        str(ics),
        env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)},
    )
    assert result.returncode == 0, result.stderr
    stamps = set(re.findall(r"DTSTAMP:(\S+)", ics.read_text(encoding="utf-8")))
    assert stamps == {"20260101T000000Z"}
