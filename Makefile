# make demo  — set up .venv and run the whole job on the bundled demo data
# make test  — set up .venv and run the test suite: lint, format check, type check, the docs site, every test
#              (4978) on both cores. Measured on a quiet 2-core machine (a clean-clone CI run): pytest 18 min
#              (1081 s), the whole `.ci/run` with installing 19 min (1137 s); one process took 41 min before
# make test-fast — the tests not marked slow (no kernels, no `kpi run`, no subprocesses; 3973): 60 s of wall
#              (57 s in pytest, 106 s of CPU) on a quiet 2-core machine
# make docs  — the documentation site (MkDocs Material, offline) into site/: open site/index.html
# make screenshots — PNGs of the reports at 1400 and 420 px (headless Chromium), to look at before a release,
#              and the README's scorecard picture docs/images/scorecard.png
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PERIOD ?= 2026-Q4
export NO_MKDOCS_2_WARNING := 1  # mkdocs-material's banner about its successor, on every build

.PHONY: demo test test-fast install lab bench pdf-deps screenshots docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# kpi demo refuses to replace files that differ from what it writes (edited params): make demo DEMO_ARGS=--force
DEMO_ARGS ?=
demo: $(STAMP)
	$(BIN)/kpi demo --out . $(DEMO_ARGS)
	$(BIN)/kpi run --all --period $(PERIOD)
	@echo "Open outputs/$(PERIOD)/index.html (reports), or run 'make lab' for the notebooks."

# make lab — JupyterLab at the project root, on lab/scorecard.ipynb (a git-ignored working copy of notebooks/;
#   saves into notebooks/ are refused), kpi on PATH in its terminal, as root too: see jupyter_server_config.py.
#   make lab LAB_ARGS="--port 8899 --no-browser"
LAB_ARGS ?=
lab: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter lab --config=jupyter_server_config.py $(LAB_ARGS)

# Debian's Chromium, for `kpi pdf` and `kpi run --pdf` (needs root and Debian's package registry).
pdf-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) || \
	  (echo "could not install Chromium: run 'apt-get install chromium' as root" >&2; exit 1)

# make screenshots — the index, a scorecard and a group report of outputs/$(PERIOD) drawn by headless Chromium
#   at 1400 and 420 px wide, into outputs/$(PERIOD)/screenshots/ (after make demo; make pdf-deps installs Chromium)
screenshots: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { echo "Chromium is not installed: run 'make pdf-deps' (Debian's chromium) first" >&2; exit 1; }
	$(BIN)/python -m kpi_lib.reports.browser outputs/$(PERIOD) --readme docs/images/scorecard.png

# make docs — the documentation site into site/ (git-ignored), --strict: a broken link, a missing page or a
#   reference page that does not build fails. The Reference pages are generated from the code (docs/hooks/).
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

# make bench — every figure against its floor, and where the time goes (bench/results.md, bench/results.json); the whole
# bench (200 departments, 1M rows per table from four source kinds) takes long on 2 cores:
#   make bench BENCH_ARGS="--quick"   (tiny sizes, a few minutes) or BENCH_ARGS="--figures demo,profile,rerun"
BENCH_ARGS ?=
$(VENV)/.bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.bench
	$(BIN)/python benchmarks/bench_batch.py --period $(PERIOD) $(BENCH_ARGS)

# The tests run on every core (pytest-xdist). make test hands out whole files (--dist loadfile): a file's module
# fixtures (a demo run, a PostgreSQL server) are made once and a golden notebook's cells share one kernel; the
# fast tier has no such fixtures and goes test by test, an idle core taking tests from a busy one (--dist worksteal). XDIST= (or XDIST_FAST=) runs in one process.
XDIST ?= -n auto --dist loadfile
XDIST_FAST ?= -n auto --dist worksteal
test: $(STAMP)
	$(BIN)/ruff check kpi_lib tests benchmarks docs/hooks
	$(BIN)/ruff format --check kpi_lib tests benchmarks docs/hooks
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict --quiet
	$(BIN)/python -m pytest $(XDIST)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(XDIST_FAST)

clean:
	rm -rf $(VENV) outputs/2* data/demo bench site
