"""Every file and folder of an output tree, named in one place.

    outputs/<period>/                     PeriodFolder
    ├── index.html, summary.csv, summary.xlsx, manifest.json
    ├── .lock, .kernels.log               the run's lock and its kernels' log
    ├── .staging-<dept>/                  a department being written (renamed into place when done)
    ├── .old-<dept>-<time>-<pid>/         a previous run moved aside during the rename
    ├── screenshots/                     made on request (`make screenshots`), not by a run
    ├── pdf/<dept>/<page>.pdf             the reader's reports printed (`kpi pdf`, `kpi run --pdf`; `kpi sign` prints
    │                                     them again), each recorded in the period manifest (`pdfs`)
    ├── .sources/<sha256>.<csv|xlsx|parquet>   every full input file of the period, stored once (content-addressed)
    └── <dept>/                           DepartmentFolder
        ├── <group>.ipynb, <group>.html, <group>.audit.html   one per group of the department's template
        ├── scorecard.ipynb, scorecard.html, scorecard.audit.html, scorecard.xlsx
        ├── result.json, department.json, manifest.json      (error.txt instead of result.json when it failed)
        ├── signoffs.jsonl, history/<time>/                  sign-off log, signed runs it replaced
        ├── rows/<indicator>.csv          every row behind an indicator's number (counted, failing, left out)
        └── inputs/                       params.yaml, template.yaml, sources.json (the full sources' hashes),
                                          tables/<table>.parquet (the department's own rows), adapters/

The notebooks' sources are `notebooks/group.ipynb` (every group, parameterized by
`group`; a `notebooks/<group>.ipynb` takes its place for that group) and
`notebooks/scorecard.ipynb`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# -- a department folder
RESULT = "result.json"
MANIFEST = "manifest.json"
DEPARTMENT = "department.json"
ERROR = "error.txt"
SIGNOFFS = "signoffs.jsonl"
INPUTS = "inputs"
HISTORY = "history"
ROWS = "rows"  # rows/<indicator>.csv: every row behind one indicator's number, beside the reports
SCORECARD = "scorecard"  # the scorecard notebook's name
SCORECARD_XLSX = "scorecard.xlsx"
# inside inputs/
PARAMS_COPY = "params.yaml"
TEMPLATE_COPY = "template.yaml"
COMPANY_COPY = "company.yaml"  # the company file the params name (`company:`), when they name one
DATA = "data"
ADAPTERS = "adapters"
ADAPTED = "adapted"
QUERIES = "queries"  # what a table's database query returned, when recomputing (kept in the period's store)
PARTITIONS = "tables"  # inputs/tables/<table>.parquet: the department's own rows of each table, parsed
SOURCES_JSON = "sources.json"  # inputs/sources.json: each table's full source (path, sha256, where it is stored)

# -- a period folder
INDEX = "index.html"
SUMMARY_CSV = "summary.csv"
SUMMARY_XLSX = "summary.xlsx"
PERIOD_FILES = (INDEX, SUMMARY_CSV, SUMMARY_XLSX)
LOCK = ".lock"
KERNELS_LOG = ".kernels.log"
SOURCES = ".sources"  # the period's store of full input files, named by their sha256 (never a department id)
STAGING = ".staging-"
PDFS = "pdf"  # <period>/pdf/<dept>/<page>.pdf: the reader's reports printed (`kpi pdf`, `kpi run --pdf`, `kpi sign`)
SCREENSHOTS = "screenshots"  # <period>/screenshots/<page>-<width>.png: `make screenshots` (not part of a run)
OLD_FOLDER = re.compile(r"\.old-(?P<department>[a-z0-9_-]+)-\d{14}-\d+")

# -- the project
OUTPUTS = "outputs"  # where `kpi run` writes outputs/<period>/ by default (`--out`), relative to the project root

# -- the notebooks' sources
GROUP_NOTEBOOK = "group"  # the generic group notebook, parameterized by `group`


def notebook(name: str) -> str:
    """The file name of an executed (or source) notebook: `<group>.ipynb`, `scorecard.ipynb`."""
    return f"{name}.ipynb"


def reader_html(name: str) -> str:
    """The reader's report of a notebook: outputs only."""
    return f"{name}.html"


def audit_html(name: str) -> str:
    """The auditor's report of a notebook: code and outputs."""
    return f"{name}.audit.html"


def rows_csv(indicator: str) -> str:
    """Where, in a department folder (and as a link from its reports), the rows behind an indicator's number are listed."""
    return f"{ROWS}/{indicator}.csv"


INDEX_LINK = f"../{INDEX}"  # a department's reports link back to the period's index


def pdf(name: str) -> str:
    return f"{name}.pdf"


# The sign-off views: re-rendered by `kpi sign` to show the signatures, hashed apart in the manifest.
VIEWS = (reader_html(SCORECARD), audit_html(SCORECARD), SCORECARD_XLSX)


def partition(table: str) -> str:
    """Where, under `inputs/`, the department's own rows of `table` are kept."""
    return f"{PARTITIONS}/{table}.parquet"


def stored(sha256: str, suffix: str) -> str:
    """The name of a full source in the period's store: its sha256 and the suffix its reader goes by."""
    return f"{sha256}{suffix}"


def adapted_copy(table: str) -> str:
    """Where, under `inputs/`, the frame an adapter returned for `table` is kept."""
    return f"{ADAPTED}/{table}.parquet"


def query_copy(table: str) -> str:
    """Where, in a recomputation's copy of `inputs/`, the result of `table`'s database query is put back."""
    return f"{QUERIES}/{table}.parquet"


@dataclass(frozen=True)
class DepartmentFolder:
    """`outputs/<period>/<dept>/` (or a staging folder, or a run kept in history/)."""

    path: Path

    @property
    def result(self) -> Path:
        return self.path / RESULT

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST

    @property
    def meta(self) -> Path:
        return self.path / DEPARTMENT

    @property
    def error(self) -> Path:
        return self.path / ERROR

    @property
    def signoffs(self) -> Path:
        return self.path / SIGNOFFS

    @property
    def inputs(self) -> Path:
        return self.path / INPUTS

    @property
    def history(self) -> Path:
        return self.path / HISTORY

    @property
    def scorecard_xlsx(self) -> Path:
        return self.path / SCORECARD_XLSX

    def notebook(self, name: str) -> Path:
        return self.path / notebook(name)

    def reader_html(self, name: str) -> Path:
        return self.path / reader_html(name)

    def audit_html(self, name: str) -> Path:
        return self.path / audit_html(name)


@dataclass(frozen=True)
class PeriodFolder:
    """`outputs/<period>/`."""

    path: Path

    @property
    def index(self) -> Path:
        return self.path / INDEX

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST

    @property
    def lock(self) -> Path:
        return self.path / LOCK

    @property
    def kernels_log(self) -> Path:
        return self.path / KERNELS_LOG

    @property
    def sources(self) -> Path:
        return self.path / SOURCES

    def department(self, department: str) -> DepartmentFolder:
        return DepartmentFolder(self.path / department)

    def staging(self, department: str) -> DepartmentFolder:
        return DepartmentFolder(self.path / f"{STAGING}{department}")
