"""Where notebooks run: worker processes and their kernels, tied to the life of `kpi run`.

The runner only sees a `concurrent.futures.Executor`; this module makes the two it
offers:

- `local_executor`: a `WorkerPool` of `jobs` worker processes (spawned clean, so no
  parent state leaks into them). Each worker sits behind its own one-process
  `ProcessPoolExecutor`: a shared pool is broken for good when one worker dies
  and kills the others' jobs with it, while here a worker that dies (killed,
  out of memory) fails only the job it was running, and its slot gets a fresh
  worker on the next `submit`.
- `dask_executor`: a dask.distributed cluster behind the same interface.

Nothing outlives the runner, even after `kill -9` (Linux): every worker asks the
kernel to SIGKILL it when its parent dies (`prctl(PR_SET_PDEATHSIG)` in the
worker's initializer), and every notebook kernel a worker starts does the same
(`tied_kernel_manager()`, passed to papermill as nbclient's `kernel_manager_class`).
Kernels are forked from the worker's zygote (`kernels.py`), which dies with the
worker, and each kernel with its zygote; a kernel that cannot be forked starts
as a fresh process tied to the worker directly.
The multiprocessing resource tracker exits by itself once the runner and its
workers, which hold its pipe, are gone. Linux ties a child to the *thread* that
started it, so workers are started from the thread that calls `submit` (the
runner's main loop), never from a pool's helper thread; kernels are started from
the worker's main thread, which runs the notebook.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import uuid
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from ..base.errors import SetupError, UsageError
from .kernels import die_with_parent, zygote_provisioner

KERNEL_POLL = 0.005  # seconds between looks at a kernel that was asked to shut down
_P = ParamSpec("_P")
_T = TypeVar("_T")


@functools.cache
def tied_kernel_manager() -> type:
    """nbclient's kernel manager: each kernel forked from this worker's zygote (`kernels.py`) and dying with the worker.

    The manager installs its provisioner itself (`kernels.zygote_provisioner()`, a
    `LocalProvisioner` whose launches fork), so no entry point or kernel spec
    change is needed; a kernel that cannot be forked starts as a fresh process
    with `die_with_parent` as its `preexec_fn`. jupyter_client is imported on first use.
    """
    from jupyter_client.manager import AsyncKernelManager

    provisioner = zygote_provisioner()

    class TiedKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw.setdefault("preexec_fn", functools.partial(die_with_parent, os.getpid()))
            if self.provisioner is None:  # else a restart, which keeps its provisioner
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
                self.provisioner = provisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
            await super().start_kernel(**kw)

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            """Wait for the kernel to end, looking every 5 ms instead of every 100 ms.

            A shut-down kernel ends within a few tens of milliseconds, and every notebook
            waits for its kernel's end: at jupyter_client's interval that wait was 0.2 s
            of nothing per notebook. A look is one `poll()`, a non-blocking check.
            """
            await super()._async_wait(pollinterval=min(pollinterval, KERNEL_POLL))

    return TiedKernelManager


ENGINE = "kpi-appraisal"  # papermill's engine name for `written_at_the_end`


@functools.cache
def written_at_the_end() -> str:
    """Register (once per process) and name papermill's nbclient engine, writing the notebook once, when it ends.

    papermill writes the output notebook before the first cell and before and after
    every cell (each a validation and a rewrite of the whole file, charts included),
    so that someone can watch it fill. Nobody watches a staging folder, so here the
    notebook is written when execution ends, however it ends: after the last cell,
    a failed cell, a timeout or a dead kernel (`notebook_complete` runs in papermill's
    `finally`), with the same content as its last write before. papermill is imported on first use.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class AtTheEnd(NotebookExecutionManager):  # type: ignore[misc]
        final = False

        def save(self, **kwargs: Any) -> None:
            if self.final:
                super().save(**kwargs)

        def notebook_complete(self, **kwargs: Any) -> None:
            self.final = True
            super().notebook_complete(**kwargs)

    class Engine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_notebook(  # as papermill's Engine.execute_notebook, with the manager above
            cls,
            nb: Any,
            kernel_name: str,
            output_path: str | None = None,
            progress_bar: bool = True,
            log_output: bool = False,
            autosave_cell_every: int = 30,
            **kwargs: Any,
        ) -> Any:
            manager = AtTheEnd(
                nb,
                output_path=output_path,
                progress_bar=progress_bar,
                log_output=log_output,
                autosave_cell_every=autosave_cell_every,
            )
            manager.notebook_start()
            try:
                cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
            finally:
                manager.cleanup_pbar()
                manager.notebook_complete()
            return manager.nb

    papermill_engines.register(ENGINE, Engine)
    return ENGINE


def send_stderr_to(log: str) -> None:
    """Kernels inherit their worker's stderr: their chatter goes to a log, not the terminal."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def _worker_start(log: str, parent: int) -> None:
    """Initializer of every local worker process."""
    die_with_parent(parent)
    send_stderr_to(log)


class WorkerPool(Executor):
    """`jobs` worker processes, each behind its own one-process pool, so a worker that dies fails only its own job.

    Call `submit` from one long-lived thread (see the module docstring); it picks
    the slot with the fewest unfinished jobs, starting a worker there if the slot
    is empty or its worker died.
    """

    def __init__(self, jobs: int, log: Path) -> None:
        self.log = log
        self.slots: list[ProcessPoolExecutor | None] = [None] * jobs
        self.running: list[set[Future[Any]]] = [set() for _ in range(jobs)]

    def _worker(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=_worker_start, initargs=(str(self.log), os.getpid())
        )

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        for slot in self.running:
            slot.difference_update({f for f in slot if f.done()})
        i = min(range(len(self.slots)), key=lambda k: len(self.running[k]))
        pool = self.slots[i]
        if pool is not None:
            try:
                future = pool.submit(fn, *args, **kwargs)
            except BrokenExecutor:  # its worker died: start another in its place
                pool.shutdown(wait=False)
                pool = None
        if pool is None:
            pool = self.slots[i] = self._worker()
            future = pool.submit(fn, *args, **kwargs)
        self.running[i].add(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in self.slots:
            if pool is not None:
                pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def local_executor(jobs: int, log: Path) -> Executor:
    """The default executor of `kpi run`: a `WorkerPool`."""
    return WorkerPool(jobs, log)


class DaskExecutor(Executor):
    """A dask.distributed cluster behind the `concurrent.futures.Executor` interface.

    With `scheduler` None a local cluster of `jobs` single-threaded worker processes
    is started and stopped with the executor; otherwise the workers of the
    scheduler at that address run the notebooks (they need kpi_lib installed and
    the same paths to the params, data, notebooks and outputs). dask itself
    retries a task whose worker died, and ends local workers whose parent died.
    """

    def __init__(self, jobs: int, log: Path, scheduler: str | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SetupError(
                "--executor dask needs dask.distributed, which is not installed: pip install 'kpi-appraisal[dask]'"
            ) from None
        self.cluster = (
            None
            if scheduler
            else LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        )
        try:
            self.client = Client(scheduler or self.cluster, timeout=30)
        except OSError as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot reach the dask scheduler ({exc})") from None
        self.client.run(send_stderr_to, str(log))
        self.inner: Executor = self.client.get_executor(pure=False)

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def dask_executor(scheduler: str | None = None) -> Callable[[int, Path], Executor]:
    return lambda jobs, log: DaskExecutor(jobs, log, scheduler)
