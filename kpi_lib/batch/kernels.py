"""Notebook kernels forked from a pre-imported zygote: a fresh interpreter state without paying for the imports.

A fresh `ipykernel` process spends about a second starting Python and importing
IPython, pandas, matplotlib and kpi_lib before it runs a notebook that needs a
fraction of that. Here each process that executes notebooks (a local worker, a
dask worker) starts one *zygote* on its first kernel launch: a single-threaded
helper that imports that stack once (`PRELOAD`) and then waits on a socket. Each
kernel launch asks it to `fork()`; the child applies the launch exactly as a
fresh process would receive it and becomes `python -m ipykernel_launcher -f
<connection file>`. Notebook code only ever runs in children, so every kernel
starts from the zygote's pristine post-import state: nothing a notebook does
(globals, module attributes, caches, `sys.modules`, rcParams, pandas options,
the environment, the working directory) reaches the next one.

What the child gets, as `Popen` in `jupyter_client.launcher.launch_kernel` would give it:

- the environment the kernel manager computed, replacing `os.environ` whole;
- the working directory, the worker's current umask, a new session (so the
  kernel's pid is its process group, as `start_new_session=True` gives);
- stdin a pipe whose other end is closed, stdout and stderr the worker's (or the
  ones the launch names), passed over the socket (SCM_RIGHTS) on every launch;
- `sys.argv`, `sys.orig_argv` and `sys.path[0]` as `python -m` sets them; signal
  dispositions as the zygote had them at start; fresh random seeds (`random`
  reseeds itself after fork, numpy's global generator is reseeded here);
- PR_SET_PDEATHSIG: the kernel dies with its zygote, the zygote with its worker
  (and also ends when the worker's end of the socket closes, whatever thread
  started it). So `kpi run` killed with -9 leaves nothing behind.

The zygote's environment is the launch environment (the zygote is keyed by it
and by the interpreter: a launch with another environment gets a zygote of its
own), so what modules read from the environment at import time is what a fresh
kernel would read, plus what fork-safety needs (`FORK_SAFE_ENV`: no BLAS/OpenMP
thread pools, no jemalloc background thread in pyarrow) and the `MPLBACKEND`
ipykernel itself would set before any notebook imports matplotlib. The zygote
refuses to start (and kernels start as fresh processes) when after its imports it
holds a second thread or an open file descriptor beyond its own, since a forked
child would share or lose them. It imports neither `matplotlib.pyplot`'s backend
nor `matplotlib_inline` (importing that backend without a running shell would
skip its IPython hooks in every kernel), and warms only what is pure: the font
list and the registration of the CJK font (`charts._register`), the packaged
template's parsed text (`yamlfile.load` remembers a text it parsed) and the
message catalog.

The parent sees a normal kernel: `ForkedKernel` has the `Popen` methods
`LocalProvisioner` uses (`poll`, `wait`, `send_signal`, `kill`, `terminate`,
`pid`, `returncode`), so interrupt (SIGINT to the process group), kill, restart
and shutdown go through jupyter_client's own code. The zygote reaps its children
and writes each exit status to a pipe the launch handed it.

Fallback: when the zygote cannot start, dies during a launch, or a launch asks
for something it cannot reproduce (another command than ipykernel's on the same
interpreter, a `preexec_fn` other than ours, pipes for stdout/stderr), the kernel
starts as a fresh process and one line goes to stderr (the worker's stderr is
the period's kernels log). A zygote found dead between launches is restarted; one
that could not start is not tried again by that process. `KPI_KERNEL_ZYGOTE=0` in
the environment turns zygotes off (every kernel a fresh process). Linux only: on
other systems every kernel is a fresh process.
"""

from __future__ import annotations

import builtins
import ctypes
import errno
import functools
import gc
import importlib
import io
import itertools
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

LINUX = sys.platform.startswith("linux")
SWITCH = "KPI_KERNEL_ZYGOTE"  # "0" in the environment: every kernel is a fresh process
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel puts in MPLBACKEND when it is unset
FORK_SAFE_ENV = {  # set in the zygote only (never in a kernel's os.environ): no helper threads at import
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}
PRELOAD = (  # imported once per zygote, in this order; everything they import comes along
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython",
    "pandas",
    "numpy",
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.font_manager",
    "matplotlib.backends.backend_agg",
    "kpi_lib.notebook",
    "ipykernel.debugger",  # what IPKernelApp imports by name when it makes its kernel (debugpy: ~0.2 s per kernel)
    "nbformat",  # the scorecard reads the group notebooks; its jsonschema builds a parser at import (~0.3 s)
    "pyarrow.dataset",  # what pyarrow.parquet.read_table imports on its first call
)
IMPORTED_AS_IN_A_KERNEL = frozenset({"pandas"})  # see _import_as_in_a_kernel
IMPORTED_QUIETLY = frozenset({"ipykernel.debugger"})  # see _import_debugger
LAUNCHER = "ipykernel_launcher"
# The zygote runs this file by path, not `kpi_lib.batch.kernels`: importing the package would import pandas
# (kpi_lib/__init__) before `_preload` can import it as a kernel would.
# The trailing comment names the process in `ps` (a forked kernel shows its zygote's command line).
BOOT = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='kpi_zygote')['serve'](int(sys.argv[2]))  # ipykernel zygote"
START_TIMEOUT = 120.0  # seconds for a zygote's imports (a cold disk cache on a busy machine)
LAUNCH_TIMEOUT = 30.0  # seconds for one fork
MAX_MESSAGE = 1 << 20

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if LINUX else None  # resolved here, not in a forked child


def die_with_parent(parent: int) -> None:
    """Have Linux SIGKILL this process when its parent ends; exit at once if the parent `parent` is already gone.

    Safe between fork and exec (a `preexec_fn`): it only calls the pre-resolved `prctl` and `getppid`.
    """
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


class ZygoteError(Exception):
    """A zygote could not start or could not fork a kernel (the kernel then starts as a fresh process)."""


# -- the worker's side ---------------------------------------------------------------------------
class ForkedKernel:
    """A kernel forked by a zygote, seen through the part of `subprocess.Popen` that `LocalProvisioner` uses.

    The kernel is the zygote's child, not ours: its exit status arrives on `exit_fd`,
    a pipe the zygote writes the wait status to (EOF without a status: the zygote
    died, and the kernel with it by SIGKILL).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, exit_fd: int, zygote: Zygote) -> None:
        self.pid = pid
        self.exit_fd: int | None = exit_fd
        self.zygote = zygote
        self.returncode: int | None = None
        self._status = b""

    def _collect(self, timeout: float | None) -> int | None:
        if self.returncode is not None or self.exit_fd is None:
            return self.returncode
        ready, _, _ = select.select([self.exit_fd], [], [], timeout)
        if not ready:
            return None
        while chunk := os.read(self.exit_fd, 64):
            self._status += chunk
        os.close(self.exit_fd)
        self.exit_fd = None
        text = self._status.decode("ascii", "replace").strip()
        self.returncode = os.waitstatus_to_exitcode(int(text)) if text.isdigit() else -signal.SIGKILL
        return self.returncode

    def poll(self) -> int | None:
        return self._collect(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._collect(timeout)
        if code is None:
            raise subprocess.TimeoutExpired([LAUNCHER], timeout or 0)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def __del__(self) -> None:
        if self.exit_fd is not None:
            os.close(self.exit_fd)
            self.exit_fd = None


class Zygote:
    """One zygote process of this worker, for one interpreter and one launch environment."""

    def __init__(self, python: str, env: Mapping[str, str]) -> None:
        self.python = python
        self.env = dict(env)
        own = self.env | {k: v for k, v in FORK_SAFE_ENV.items() if k not in self.env}
        own.setdefault("MPLBACKEND", INLINE_BACKEND)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        on_main = threading.current_thread() is threading.main_thread()  # PDEATHSIG follows the starting thread
        try:
            self.process = subprocess.Popen(
                [python, "-c", BOOT, __file__, str(theirs.fileno())],
                env=own,
                cwd="/",
                stdin=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
                preexec_fn=functools.partial(die_with_parent, os.getpid()) if on_main else None,
            )
        except OSError as exc:
            ours.close()
            raise ZygoteError(f"cannot start {python}: {exc}") from None
        finally:
            theirs.close()
        self.socket = ours
        self.launches = 0
        self.kernels: list[ForkedKernel] = []
        try:
            reply = self._receive(START_TIMEOUT, "start")
            if "ready" not in reply:
                raise ZygoteError(str(reply.get("error", reply)))
        except ZygoteError:
            self.close()
            raise
        self.started = reply["ready"]

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def idle(self) -> bool:
        self.kernels = [k for k in self.kernels if k.poll() is None]
        return not self.kernels

    def _receive(self, timeout: float, what: str) -> dict[str, Any]:
        ready, _, _ = select.select([self.socket], [], [], timeout)
        if not ready:
            raise ZygoteError(f"no answer to {what} within {timeout:.0f} s")
        data = self.socket.recv(MAX_MESSAGE)
        if not data:
            code = self.process.wait()
            raise ZygoteError(f"it ended during {what} (exit code {code})")
        answer: dict[str, Any] = json.loads(data)
        return answer

    def launch(self, argv: Sequence[str], env: Mapping[str, str], cwd: str, stdout: int, stderr: int) -> ForkedKernel:
        """Fork a kernel running `argv` (ipykernel's launcher on this zygote's interpreter)."""
        stdin_r, stdin_w = os.pipe()
        exit_r, exit_w = os.pipe()
        os.close(stdin_w)  # as launch_kernel does: the kernel's stdin is a pipe nobody writes to
        request = {"argv": list(argv), "env": dict(env), "cwd": cwd, "umask": current_umask()}
        try:
            socket.send_fds(self.socket, [json.dumps(request).encode()], [stdin_r, stdout, stderr, exit_w])
        except OSError as exc:
            os.close(exit_r)
            raise ZygoteError(f"cannot reach it ({exc.strerror})") from None
        finally:
            os.close(stdin_r)
            os.close(exit_w)
        try:
            reply = self._receive(LAUNCH_TIMEOUT, "a launch")
        except ZygoteError:  # dead or hung: let it go (a dead one is replaced on the next launch)
            os.close(exit_r)
            self.close()
            raise
        if "pid" not in reply:
            os.close(exit_r)
            self.close()
            raise ZygoteError(str(reply.get("error", reply)))
        kernel = ForkedKernel(int(reply["pid"]), exit_r, self)
        self.launches += 1
        self.kernels.append(kernel)
        return kernel

    def close(self) -> None:
        """Close our end: the zygote exits (and any kernel of it still running dies with it)."""
        self.socket.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Zygotes:
    """This process's zygotes by (interpreter, environment), started on first use; one per process in practice."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.live: dict[tuple[str, frozenset[tuple[str, str]]], Zygote] = {}
        self.broken: dict[tuple[str, frozenset[tuple[str, str]]], str] = {}
        self.forked = 0
        self.fresh = 0

    def get(self, python: str, env: Mapping[str, str]) -> Zygote:
        key = (python, frozenset(env.items()))
        zygote = self.live.get(key)
        if zygote is not None and not zygote.alive():
            _log(f"the kernel zygote (pid {zygote.pid}) died (exit code {zygote.process.returncode}); starting another")
            self.live.pop(key).close()
            zygote = None
        if zygote is None:
            if key in self.broken:
                raise ZygoteError(self.broken[key])
            for other in [k for k, z in self.live.items() if z.idle()]:  # another environment: retire idle ones
                self.live.pop(other).close()
            try:
                zygote = self.live[key] = Zygote(python, env)
            except ZygoteError as exc:
                self.broken[key] = f"the kernel zygote could not start: {exc}"
                raise ZygoteError(self.broken[key]) from None
        return zygote

    def close(self) -> None:
        for zygote in self.live.values():
            zygote.close()
        self.live.clear()


_ZYGOTES: Zygotes | None = None


def zygotes() -> Zygotes:
    """This process's zygotes (a forked process gets its own)."""
    global _ZYGOTES
    if _ZYGOTES is None or _ZYGOTES.owner != os.getpid():
        _ZYGOTES = Zygotes()
    return _ZYGOTES


def _log(line: str) -> None:
    """One line to stderr (a worker's stderr is the period's kernels log)."""
    print(f"kpi kernels: {line}", file=sys.stderr, flush=True)


def current_umask() -> int:
    """This process's umask, read without setting it (Linux ≥ 4.7 shows it in /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def refusal(cmd: Sequence[str], kwargs: Mapping[str, Any]) -> str:
    """Why a launch cannot be forked ("" when it can): only what a zygote reproduces exactly is forked."""
    if not LINUX:
        return "kernels are forked on Linux only"
    if kwargs["env"].get(SWITCH, os.environ.get(SWITCH, "1")) == "0":
        return f"{SWITCH}=0"
    if len(cmd) < 5 or list(cmd[1:4]) != ["-m", LAUNCHER, "-f"]:
        return f"not ipykernel's launch command: {' '.join(cmd)}"
    extra = set(kwargs) - {"env", "cwd", "preexec_fn", "stdout", "stderr", "stdin", "independent", "kernel_id"}
    if extra:
        return f"launch options a zygote cannot reproduce: {', '.join(sorted(extra))}"
    preexec = kwargs.get("preexec_fn")
    if preexec is not None and not (isinstance(preexec, functools.partial) and preexec.func is die_with_parent):
        return "a preexec_fn other than die_with_parent"
    if kwargs.get("stdin") is not None or kwargs.get("independent"):
        return "a stdin of its own or an independent kernel"
    for name in ("stdout", "stderr"):
        stream = kwargs.get(name)
        if stream is not None and not (isinstance(stream, int) and stream >= 0) and not hasattr(stream, "fileno"):
            return f"{name}={stream!r}"
    return ""


def _fd(stream: Any, default: int) -> int:
    if stream is None:
        return default
    return stream if isinstance(stream, int) else int(stream.fileno())


def fork_kernel(cmd: Sequence[str], kwargs: Mapping[str, Any]) -> ForkedKernel | None:
    """The kernel of `cmd` forked from this process's zygote, or None (after one line to stderr) to launch it fresh."""
    why = refusal(cmd, kwargs)
    pool = zygotes()
    if not why:
        env = {**kwargs["env"], "JPY_PARENT_PID": str(os.getpid())}  # as launch_kernel adds for a kernel tied to us
        try:
            zygote = pool.get(cmd[0], env)
            kernel = zygote.launch(
                cmd,
                env,
                str(kwargs.get("cwd") or os.getcwd()),
                _fd(kwargs.get("stdout"), 1),
                _fd(kwargs.get("stderr"), 2),
            )
            pool.forked += 1
            return kernel
        except ZygoteError as exc:
            why = str(exc)
    if why != f"{SWITCH}=0":
        _log(f"{why}; this kernel starts as a fresh process")
    pool.fresh += 1
    return None


@functools.cache
def zygote_provisioner() -> type:
    """`LocalProvisioner`, except that `launch_kernel` forks the kernel from the zygote (imported on first use)."""
    from jupyter_client.launcher import launch_kernel
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ZygoteProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            kernel = fork_kernel(cmd, self._scrub_kwargs(kwargs))
            if kernel is None:
                return await super().launch_kernel(cmd, **kwargs)
            # as LocalProvisioner.launch_kernel, with the pgid we know (the kernel made its own session)
            self.process = kernel  # type: ignore[assignment]  # the Popen methods LocalProvisioner calls
            self.pid = self.pgid = kernel.pid
            self.cwd = kwargs.get("cwd") or os.getcwd()
            return self.connection_info

    del launch_kernel
    return ZygoteProvisioner


# -- the zygote's side ---------------------------------------------------------------------------
def _open_fds() -> set[int]:
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:  # the listing's own descriptor, closed by now
            continue
        found.add(int(name))
    return found


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


class _KernelShell:
    """What pandas' `is_terminal()` sees in a kernel: a shell with a `kernel`."""

    kernel = True


class _KernelStdout:
    """What pandas' `detect_console_encoding()` sees in a kernel: ipykernel's `OutStream`, encoding "UTF-8"."""

    encoding = "UTF-8"

    def __init__(self, real: Any) -> None:
        self.write, self.flush = real.write, real.flush


def _import_as_in_a_kernel(name: str) -> None:
    """Import `name` with `get_ipython()` and `sys.stdout` as a notebook cell would see them.

    pandas fixes two display defaults from its surroundings at import
    (`display.max_columns` 0 in a terminal, 20 in a kernel; `display.encoding`),
    and a fresh kernel imports it inside a running shell: the zygote has none.
    """
    saved = sys.stdout
    builtins.get_ipython = lambda: _KernelShell  # type: ignore[attr-defined]
    sys.stdout = _KernelStdout(saved)
    try:
        importlib.import_module(name)
    finally:
        sys.stdout = saved
        del builtins.get_ipython  # type: ignore[attr-defined]


def _import_debugger(name: str) -> None:
    """Import ipykernel's debugger (and debugpy's pydevd) as a kernel would, leaving no stream bound to the zygote's.

    pydevd warns at import that frozen modules may hide breakpoints; a fresh kernel
    imports it after ipykernel captured stderr, where the lines go nowhere, so here they
    are written to a buffer and dropped (the period's kernels log stays as it was). pydevd's
    log binds its stream to `sys.stderr` on first use: that binding is undone, so a kernel's
    first debugger log goes to the kernel's own stderr, as in a fresh kernel.
    """
    saved = sys.stderr
    sys.stderr = io.StringIO()
    try:
        importlib.import_module(name)
    finally:
        sys.stderr = saved
        log = sys.modules.get("_pydev_bundle.pydev_log")
        if log is not None:
            log._LoggingGlobals._debug_stream_initialized = False
            log._LoggingGlobals._debug_stream = log.NULL


_IMPORT_ENV: dict[str, str] = {}  # what the preloaded modules put into os.environ at import (see _preload)


def _preload() -> None:
    """Import the stack and warm its pure caches, leaving the state a fresh kernel's imports would leave.

    Two things a module does at import outlive the fork's reset of the process's surroundings:
    a variable it sets in `os.environ` (debugpy sets `PYDEVD_USE_FRAME_EVAL` when it is unset),
    which the kernel's launch environment replaces, so it is kept in `_IMPORT_ENV` and set again
    in each kernel where the launch leaves it unset; and the counter that names new threads
    `Thread-N` (debugpy makes a thread object it does not start), which starts again at 1.
    """
    before = dict(os.environ)
    for name in PRELOAD:
        if name in IMPORTED_AS_IN_A_KERNEL:
            _import_as_in_a_kernel(name)
        elif name in IMPORTED_QUIETLY:
            _import_debugger(name)
        else:
            importlib.import_module(name)
    charts = sys.modules["kpi_lib.words.charts"]
    charts._register()  # parses the CJK font's name table once; a pure cache, no file stays open
    importlib.import_module("kpi_lib.inputs.template").load_template()  # its text parsed once: yamlfile.load's cache
    importlib.import_module("kpi_lib.base.messages").catalog()  # the message catalog, read once (a cache)
    # Everything imported so far lives as long as the kernel: moved out of the cyclic collector's sight, a
    # kernel's collections (IPython runs one at every reset, and at its exit) walk only what its notebook made.
    gc.collect()
    gc.freeze()
    _IMPORT_ENV.update({k: v for k, v in os.environ.items() if k not in before})
    threading._counter = itertools.count(1).__next__  # type: ignore[attr-defined]  # as in a fresh interpreter


def serve(fd: int) -> None:
    """The zygote's main loop: import the stack, say ready, then fork one kernel per request until EOF."""
    started = time.monotonic()
    sock = socket.socket(fileno=fd)
    original: dict[int, Any] = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGCHLD)}
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle; we end with our worker
    try:
        _preload()
    except BaseException as exc:  # noqa: BLE001 - any import failure: the worker launches kernels fresh
        sock.send(json.dumps({"error": f"preloading failed: {type(exc).__name__}: {exc}"}).encode())
        return
    extra = _open_fds() - {0, 1, 2, fd}
    if _threads() != 1 or extra:
        what = f"{_threads()} threads" if _threads() != 1 else f"open descriptors {sorted(extra)}"
        sock.send(json.dumps({"error": f"not fork-safe after its imports: {what}"}).encode())
        return
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sock.send(json.dumps({"ready": time.monotonic() - started, "pid": os.getpid()}).encode())
    exits: dict[int, int] = {}
    own = [fd, wake_r, wake_w]
    while True:
        try:
            ready, _, _ = select.select([sock.fileno(), wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            while True:
                try:
                    if not os.read(wake_r, 512):
                        break
                except BlockingIOError:
                    break
            _reap(exits)
        if fd not in ready:
            continue
        message, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
        if not message:
            return  # our worker closed its end or died: we end, and our kernels with us (PDEATHSIG)
        if len(fds) != 4 or _threads() != 1:
            for f in fds:
                os.close(f)
            sock.send(json.dumps({"error": "bad request" if len(fds) != 4 else "a thread appeared"}).encode())
            continue
        request = json.loads(message)
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            sock.close()
            for f in [*own[1:], *exits.values()]:
                os.close(f)
            _become_kernel(request, fds, ready_w, original, parent=os.getppid())
            raise SystemExit(0)  # _become_kernel does not return; this is for the type checker's sake
        os.close(ready_w)
        for f in fds[:3]:
            os.close(f)
        exits[pid] = fds[3]
        ok = _read_all(ready_r) == b"ok"
        os.close(ready_r)
        sock.send(json.dumps({"pid": pid} if ok else {"error": "the forked kernel died while setting up"}).encode())


def _read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 64):
        data += chunk
    return data


def _reap(exits: dict[int, int]) -> None:
    """Collect every ended child and write its wait status to the pipe its launch handed us."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = exits.pop(pid, None)
        if fd is not None:
            try:
                os.write(fd, str(status).encode())
            except OSError as exc:  # the worker let go of the kernel: nobody to tell
                if exc.errno != errno.EPIPE:
                    raise
            os.close(fd)


def _become_kernel(request: dict[str, Any], fds: list[int], ready: int, handlers: dict[int, Any], parent: int) -> None:
    """In the forked child: take the launch as a fresh process would get it, then run ipykernel's launcher."""
    signal.set_wakeup_fd(-1)
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    os.setsid()  # its own session and process group, as LocalProvisioner's Popen(start_new_session=True)
    die_with_parent(parent)
    for target, source in enumerate(fds[:3]):
        os.dup2(source, target)
    for f in fds:
        if f > 2:
            os.close(f)
    os.umask(int(request["umask"]))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for key, value in _IMPORT_ENV.items():
        os.environ.setdefault(key, value)  # as the module's import would have set it in a fresh kernel
    argv = list(request["argv"])
    sys.orig_argv = argv
    sys.argv = ["-m", *argv[3:]]
    sys.path[0] = os.getcwd()  # what `python -m` puts first (ipykernel's launcher takes it out again)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()  # the legacy global generator was seeded once, in the zygote
    os.write(ready, b"ok")
    os.close(ready)
    runpy.run_module(LAUNCHER, run_name="__main__", alter_sys=True)
    raise SystemExit(0)
