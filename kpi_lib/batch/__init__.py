"""Orchestration: kernels forked from a pre-imported zygote, worker processes, the incremental batch runner, JupyterLab integration, template import and the demo company.

Imports every layer below it. `kpi_lib.cli` sits on top of this one."""
