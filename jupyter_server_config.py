"""JupyterLab for this project: `make lab` starts `jupyter lab --config=jupyter_server_config.py`.

Rooted at the project (params/, data/, outputs/ reachable), opening lab/scorecard.ipynb, a
git-ignored working copy of notebooks/scorecard.ipynb; saves into notebooks/ are refused, so
the committed notebooks stay clean; `kpi` on PATH in Lab's terminal; starts as root too.
The settings and why: kpi_lib/batch/lab.py (`configure`).
"""

from pathlib import Path

from kpi_lib.batch.lab import configure

c = get_config()  # type: ignore[name-defined]  # noqa: F821 - Jupyter's config loader provides it
for line in configure(c, Path(__file__).resolve().parent):
    print(line)
