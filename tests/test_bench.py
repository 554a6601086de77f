"""`make bench`: its parts (targets, comparisons, the floors) fast, and the whole bench in `--quick` mode (slow).

Speeds are never asserted: only that the figures are there, shaped as the table
says, and that the floors compute what `kpi score` computes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_batch as bench
from benchmarks import floors, profile
from benchmarks.sources import KINDS, write_variants
from kpi_lib import Period, appraise, load_params
from kpi_lib.batch.demo import write_demo

from .conftest import fast_sample

FIGURE_KEYS = {
    "demo_vs_naive", "report_max_kb", "report_mean_kb", "disk_mb", "batch_vs_floor", "rerun", "rerun_company",
    "batch_peak_mb", "year_wall_h", "year_disk_gb", "big_generate_s", "cpu_per_department_one",
    "cpu_per_department_demo", *(f"big_{what}_{kind}" for what in ("time", "memory") for kind in KINDS),
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
    assert bench.render(figures, inputs, [], ["### A table\n"]).endswith("### A table\n\n")


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


@pytest.fixture(scope="module")
def variants(big_company: Path) -> dict[str, list[Path]]:
    return write_variants(big_company)


@pytest.mark.parametrize("kind", KINDS)
def test_every_source_kind_scores_as_the_plain_csv_and_its_floor(variants: dict[str, list[Path]], kind: str) -> None:
    """The mapped CSV, Parquet and SQLite copies hold the same records: `kpi score` and the floor agree on each."""
    params, csv = (next(p for p in variants[k] if p.stem == "cs-north") for k in (kind, "csv"))
    card = json.loads(json.dumps(appraise(load_params(params), Period.parse("2026-Q4")).to_json()))
    plain = json.loads(json.dumps(appraise(load_params(csv), Period.parse("2026-Q4")).to_json()))
    assert bench.same_card(plain, card) == []
    assert bench.rates_equal(floors.arrow(params, "2026-Q4"), card) == []
    if kind != "csv":
        assert params.parent.name == f"params-{kind}"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"total": 80.0}, ["total: floor 88.0, kpi 80.0", "total: 88.0 vs 80.0"]),
        ({"window": {"start": "2026-10-02"}}, ["window: {'start': '2026-10-01'} vs {'start': '2026-10-02'}"]),
    ],
)
def test_same_card_names_every_difference(change: dict, expected: list[str]) -> None:
    card = {
        "department": "d",
        "total": 88.0,
        "window": {"start": "2026-10-01"},
        "indicators": [{"id": "CS04", "score": 1}],
    }
    assert bench.same_card(card, {**card, **change}) == sorted(expected)


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
        (["--quick"], {"departments": 2, "rows": 3000, "demo_departments": 1, "rerun_departments": 2, "quick": True}),
        (["--rerun-departments", "5"], {"departments": 200, "rerun_departments": 5}),
        (["--quick", "--departments", "5"], {"departments": 5, "rows": 3000}),
        (["--departments", "20", "--skip-big"], {"departments": 20, "rows": 1_000_000, "skip_big": True}),
        (
            [],
            {"departments": 200, "rows": 1_000_000, "demo_departments": 3, "rerun_departments": 20, "skip_dask": False},
        ),
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
        (["--rerun-departments", "0"], "--rerun-departments 0: expected 1 or more"),
        (["--profile-rate", "0"], "--profile-rate 0: expected 1 or more"),
        (["--figures", "demo,nope"], "unknown nope; expected some of demo, profile, big, rerun, company"),
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
    table = text.split("| figure |", 1)[1].split("\n\n", 1)[0]  # the figures' table, before the profile's tables
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == len(FIGURE_KEYS)
    assert len(saved["crosschecks"]) == 2 + len(KINDS) + len(KINDS) - 1
    assert all(line.endswith(("equal", " 2/2 equal")) for line in saved["crosschecks"]), saved["crosschecks"]
    assert text.count("### Where the time goes") == 2 and set(saved["profile"]) == {"one", "demo"}


ZYGOTE = "python -c import runpy, sys; runpy.run_path(sys.argv[1], run_name='kpi_zygote')['serve'](3)"


@pytest.mark.parametrize(
    ("chain", "kind"),
    [
        (["kpi run p.yaml"], "main"),
        (["kpi run p.yaml", "python -B -c from multiprocessing.spawn import spawn_main; spawn_main(3)"], "worker"),
        (["kpi run", "python -B -c from multiprocessing.resource_tracker import main;main(5)"], "other"),
        (["kpi run", "spawn_main", ZYGOTE], "zygote"),
        (["kpi run", "spawn_main", ZYGOTE, ZYGOTE], "kernel"),
        (["kpi run", "spawn_main", "python -m ipykernel_launcher -f k.json"], "kernel"),
        (["kpi run", "chromium --headless"], "other"),
    ],
)
def test_a_sample_is_given_the_kind_of_its_process(chain: list[str], kind: str) -> None:
    assert profile.process_kind(chain) == kind


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        ([], profile.IDLE),
        (["<module> (kpi:3)", "EpollSelector.select (/usr/lib/python3.11/selectors.py:468)"], profile.IDLE),
        (["Thread.run (threading.py:982)", "OutStream._watch_pipe_fd (ipykernel/iostream.py:478)"], profile.IDLE),
        (["run_cell (x)", "_find_and_load (<frozen importlib._bootstrap>:1176)", "f (matplotlib/figure.py:1)"], "imports"),
        (["department_reports (kpi_lib/reports/convert.py:346)", "font_subset (kpi_lib/reports/convert.py:289)"], "font subsets"),
        (["department_reports (kpi_lib/reports/convert.py:346)", "from_notebook_node (nbconvert/exporters/html.py:1)"], "nbconvert pages"),
        (["write_index (kpi_lib/reports/convert.py:384)", "render (jinja2/environment.py:1)"], "index and summaries"),
        (["InteractiveShell.run_cell (IPython/core/interactiveshell.py:1)", "Figure.savefig (matplotlib/figure.py:3515)"], "charts (matplotlib)"),
        (["InteractiveShell.run_cell (IPython/core/interactiveshell.py:1)", "Template.render (jinja2/environment.py:1)"], "HTML (Jinja)"),
        (["InteractiveShell.run_cell (IPython/core/interactiveshell.py:1)", "appraise (kpi_lib/scoring/appraisal.py:1)"], "scoring"),
        (["_stage (kpi_lib/batch/runner.py:705)", "read_csv (kpi_lib/inputs/readers.py:1)"], "reading tables"),
        (["_stage (kpi_lib/batch/runner.py:705)", "openssl_sha256 (hashlib.py:1)"], "hashing"),
        (["_describe (kpi_lib/batch/runner.py:868)", "sha256_file (/w/kpi_lib/base/files.py:64)"], "hashing"),
        (["_stage (kpi_lib/batch/runner.py:705)", "_Batch.sha256 (/w/kpi_lib/batch/runner.py:501)"], "hashing"),
        (["_stage (kpi_lib/batch/runner.py:705)", "copy (shutil.py:1)"], "staging"),
        (["InteractiveShell.run_cell (IPython/core/interactiveshell.py:1)", "compile (codeop.py:1)"], "cell execution (other)"),
        (["serve (kpi_lib/batch/kernels.py:534)", "IPKernelApp.init_sockets (ipykernel/kernelapp.py:1)"], "kernel start"),
        (["execute (papermill/execute.py:1)", "NotebookClient.execute (nbclient/client.py:1)"], "notebook client (papermill, nbclient)"),
        (["f (somewhere.py:1)"], "other"),
    ],
)  # fmt: skip
def test_a_sample_is_given_the_first_category_its_frames_match(frames: list[str], expected: str) -> None:
    assert profile.category(frames) == expected


def test_the_profile_sums_samples_by_kind_and_category() -> None:
    raw = [
        'process 1:"kpi run p.yaml";<module> (kpi:3);_find_and_load (<frozen importlib._bootstrap>:1176) 50\n',
        'process 1:"kpi run p.yaml";process 2:"spawn_main(3)";f (matplotlib/figure.py:1) 25\n',
        'process 1:"kpi run p.yaml";process 2:"spawn_main(3)";EpollSelector.select (selectors.py:468) 100\n',
        "not a line\n",
    ]
    found = profile.summarize(raw, rate=50)
    assert found.seconds == {
        ("main", "imports"): 1.0,
        ("worker", "charts (matplotlib)"): 0.5,
        ("worker", profile.IDLE): 2.0,
    }
    assert found.busy() == 1.5
    text = profile.table("T", found)
    assert "| category | main | worker | total s | share |" in text
    assert "| imports | 1.00 | 0.00 | 1.00 | 67% |" in text
    assert "| **busy, all categories** | 1.00 | 0.50 | 1.50 | 100% |" in text
    assert f"| {profile.IDLE} | 0.00 | 2.00 | 2.00 |  |" in text
    assert found.imports == {("main", "(import machinery)"): 1.0}
    assert text.endswith("| (import machinery) | 1.00 | 0.00 | 1.00 |\n")


@pytest.mark.parametrize(
    ("stack", "chain", "frames"),
    [
        ('process 1:"kpi run p.yaml";f (a.py:1);g (b.py:2)', ["kpi run p.yaml"], ["f (a.py:1)", "g (b.py:2)"]),
        (
            'process 1:"kpi run";process 2:"python -c import runpy, sys; runpy.run_path(x)";serve (kernels.py:1)',
            ["kpi run", "python -c import runpy, sys; runpy.run_path(x)"],
            ["serve (kernels.py:1)"],
        ),
        ('process 1:"python -B -c a; b"', ["python -B -c a; b"], []),
    ],
)
def test_a_raw_stack_splits_into_processes_and_frames(stack: str, chain: list[str], frames: list[str]) -> None:
    assert profile.split_stack(stack) == (chain, frames)


LOAD = "_find_and_load (<frozen importlib._bootstrap>:1176)"


@pytest.mark.parametrize(
    ("frames", "package"),
    [
        ([LOAD, "<module> (papermill/__init__.py:2)", LOAD, "<module> (nbformat/__init__.py:14)"], "papermill"),
        (["run (x.py:1)", LOAD, "<module> (/work/x/.venv/lib/python3.11/site-packages/pandas/__init__.py:46)"], "pandas"),
        ([LOAD, "<module> (/work/wt/kpi_lib/batch/runner.py:63)"], "kpi_lib.batch"),
        ([LOAD, "<module> (/work/wt/kpi_lib/__init__.py:32)"], "kpi_lib"),
        ([LOAD, "<module> (json/__init__.py:1)"], "json"),
        ([LOAD, "<module> (debugger.py:9)"], "debugger"),
        ([LOAD, "_find_and_load_unlocked (<frozen importlib._bootstrap>:1147)"], "(import machinery)"),
    ],
)  # fmt: skip
def test_an_import_is_counted_under_the_package_imported_first(frames: list[str], package: str) -> None:
    assert profile.imported_package(frames) == package
