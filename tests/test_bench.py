"""`make bench`: its parts (targets, comparisons, the floors) fast, and the whole bench in `--quick` mode (slow).

Speeds are never asserted: only that the figures are there, shaped as the table
says, and that the floors compute what `kpi score` computes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_batch as bench
from benchmarks import floors
from kpi_lib import Period, appraise, load_params
from kpi_lib.batch.demo import write_demo

from .conftest import fast_sample

FIGURE_KEYS = {
    "demo_vs_naive", "report_max_kb", "report_mean_kb", "disk_mb", "batch_vs_floor", "rerun", "batch_peak_mb",
    "year_wall_h", "year_disk_gb", "big_time", "big_memory", "big_generate_s",
}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "goal", "better", "met"),
    [
        (25.0, 20, ">=", True),
        (20.0, 20, ">=", True),
        (19.99, 20, ">=", False),
        (4.0, 5, "<=", True),
        (5.0, 5, "<=", True),
        (5.01, 5, "<=", False),
        (3.0, None, "", None),
    ],
)
def test_a_figure_is_met_against_its_target(value: float, goal: float | None, better: str, met: bool | None) -> None:
    f = bench.figure("k", "name", value, f"{value}", goal, better)
    assert f.met is met
    assert f.target == ("" if goal is None else f"{better} {goal:g}")


def test_the_table_has_one_row_per_figure_and_five_cells() -> None:
    figures = [
        bench.figure("a", "first", 25, "25×", 20, ">="),
        bench.figure("b", "second", 6, "6×", 5, "<="),
        bench.figure("c", "third", 1, "1 MB"),
    ]
    inputs = {"departments": 2, "versions": {"pandas": "3.1"}}
    text = bench.render(figures, inputs, ["floor vs kpi: equal"])
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| figure")]
    assert [r.split(" | ")[0] for r in rows] == ["| first", "| second", "| third"]
    assert all(r.count(" | ") == 4 for r in rows)
    assert "| met |" in rows[0] and "**not met**" in rows[1]
    assert "versions: pandas 3.1" in text and "- floor vs kpi: equal" in text


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("b_files", "same", "problems"),
    [
        ({}, 2, []),
        ({"x/result.json": "{1}"}, 1, ["x/result.json differs (or is missing)"]),
        ({"x/extra.html": ""}, 2, ["only in b of", "x/extra.html"]),
        ({".kernels.log": "other chatter"}, 2, []),
    ],
)
def test_same_outputs_names_every_difference(
    tmp_path: Path, b_files: dict[str, str], same: int, problems: list[str]
) -> None:
    base = {"x/result.json": "{}", "y/result.json": "{}", "x/a.html": "a", ".kernels.log": "chatter"}
    a = _tree(tmp_path / "r" / "a", base)
    b = _tree(tmp_path / "r" / "b", {**base, **b_files})
    found, total, differences = bench.same_outputs(a, b)
    assert (found, total) == (same, 2)
    assert all(any(p in d for d in differences) for p in problems)
    assert bool(differences) == bool(problems)


@pytest.mark.parametrize(
    ("floor", "card", "differs"),
    [
        ({"CS04": {"value": "93.50", "numerator": "187", "denominator": "200"}}, {"value": 93.5, "numerator": 187, "denominator": 200}, False),
        ({"CS04": {"value": "93.50", "numerator": "187", "denominator": "200"}}, {"value": 93.51, "numerator": 187, "denominator": 200}, True),
        ({"CS04": {"value": None, "numerator": "0", "denominator": "0"}}, {"value": None, "numerator": 0, "denominator": 0}, False),
        ({"CS04": {"value": None, "numerator": "0", "denominator": "0"}}, {"value": 0, "numerator": 0, "denominator": 0}, True),
    ],
)  # fmt: skip
def test_rates_equal_compares_as_decimals(floor: dict, card: dict, differs: bool) -> None:
    lines = bench.rates_equal({"indicators": floor}, {"indicators": [{"id": "CS04", **card}]})
    assert bool(lines) is differs


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [("2026", "2026-01-01", "2026-12-31"), ("2026-H2", "2026-07-01", "2026-12-31"),
     ("2026-Q1", "2026-01-01", "2026-03-31"), ("2028-02", "2028-02-01", "2028-02-29")],
)  # fmt: skip
def test_the_floor_reads_periods_as_the_toolkit_does(period: str, first: str, last: str) -> None:
    start, end = floors.window(period)
    assert (start.isoformat(), end.isoformat()) == (first, last)
    window = Period.parse(period)
    assert (start, end) == (window.start, window.end)


@pytest.fixture(scope="module")
def big_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("big")
    write_demo(out, departments=4, rows=2400)
    return out


@pytest.mark.parametrize(
    ("department", "period"),
    fast_sample(
        [
            pytest.param(d, p)
            for d in ("cs-east", "cs-north", "cs-west", "cs-d004")
            for p in ("2026-Q4", "2026-10", "2026-H2", "2026")
        ],
        every=5,
    ),
)
def test_the_pyarrow_floor_computes_what_kpi_score_computes(big_company: Path, department: str, period: str) -> None:
    path = big_company / "params" / f"{department}.yaml"
    card = json.loads(json.dumps(appraise(load_params(path), Period.parse(period)).to_json()))
    floor = floors.arrow(path, period)
    assert len(floor["indicators"]) >= 8
    assert bench.rates_equal(floor, card) == []


def test_the_in_process_floor_scores_every_department_as_kpi_score(big_company: Path) -> None:
    params = sorted((big_company / "params").glob("*.yaml"))[:2]
    cards = floors.in_process(params, "2026-Q4")
    assert sorted(cards) == sorted(p.stem for p in params)
    for path in params:
        card = json.loads(json.dumps(appraise(load_params(path), Period.parse("2026-Q4")).to_json()))
        assert bench.scores_equal(json.loads(json.dumps(cards[path.stem])), card) == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--quick"], {"departments": 2, "rows": 3000, "demo_departments": 1, "quick": True}),
        (["--quick", "--departments", "5"], {"departments": 5, "rows": 3000}),
        (["--departments", "20", "--skip-big"], {"departments": 20, "rows": 1_000_000, "skip_big": True}),
        ([], {"departments": 200, "rows": 1_000_000, "demo_departments": 3, "skip_dask": False}),
    ],
)
def test_options(argv: list[str], expected: dict) -> None:
    s = bench.settings_from(argv)
    assert {k: getattr(s, k) for k in expected} == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--departments", "-1"], "--departments -1: expected 1 or more"),
        (["--departments", "0"], "--departments 0: expected 1 or more"),
        (["--rows", "0"], "--rows 0: expected 1 or more"),
        (["--jobs", "0"], "--jobs 0: expected 1 or more"),
        (["--figures", "demo,nope"], "unknown nope; expected some of big, demo, company"),
    ],
)
def test_bad_options_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.settings_from(argv)
    assert message in capsys.readouterr().err


def test_figures_picks_groups() -> None:
    assert bench.settings_from(["--figures", "big, company"]).figures == ["big", "company"]
    assert bench.settings_from([]).figures == list(bench.FIGURES)


@pytest.mark.slow
def test_the_quick_bench_writes_its_table(tmp_path: Path) -> None:
    results = bench.main(["--quick", "--skip-dask", "--out", str(tmp_path), "--jobs", "2"])
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(results))
    assert {f["key"] for f in saved["figures"]} == FIGURE_KEYS
    assert {"departments", "rows", "jobs", "cores", "commit", "versions"} <= set(saved["inputs"])
    for f in saved["figures"]:
        assert f["value"] is not None and f["value"] >= 0, f
        assert (f["met"] is None) == (f["target"] == ""), f
    text = (tmp_path / "results.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| figure")]
    assert len(rows) == len(FIGURE_KEYS)
    assert len(saved["crosschecks"]) == 3
    assert all(line.endswith("equal") or " 2/2 " in line for line in saved["crosschecks"]), saved["crosschecks"]
