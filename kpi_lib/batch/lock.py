"""One `kpi run` per period folder at a time: `outputs/<period>/.lock`.

The lock is an exclusive `flock` on the file, held for the whole run; the file
also records who holds it (pid, host, start time, command) so that a refused run
can name the holder. The kernel releases a `flock` when its process ends, however
it ends (`kill -9` included), so a lock whose file still names a holder but is
not held any more was left by a run that died: it is taken over, and the caller
is told whose it was. The file is never removed (removing it would let two runs
lock two different files); a clean release empties it.

A `flock` is released with the last descriptor of the open file: the descriptor
is close-on-exec, so worker processes and kernels (fork and exec) never inherit it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shlex
import socket
import stat
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..base.errors import OutputError, output_error

LOCK = ".lock"


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a period's lock, as its lock file records it."""

    pid: int | None
    host: str
    started: str
    command: str

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder a lock file names, None for an empty file; unreadable content names nobody."""
        if not text.strip():
            return None
        try:
            data: Any = json.loads(text)
            pid = data.get("pid")
            return cls(
                pid if isinstance(pid, int) else None,
                str(data.get("host", "")),
                str(data.get("started", "")),
                str(data.get("command", "")),
            )
        except (ValueError, AttributeError):
            return cls(None, "", "", "")

    def describe(self) -> str:
        """`pid 4242 (kpi run --all --period 2026-Q4, started 2026-12-31T09:00:00 on host a)`."""
        details = ", ".join(
            x
            for x in (
                self.command,
                f"started {self.started}" if self.started else "",
                f"on host {self.host}" if self.host else "",
            )
            if x
        )
        who = f"pid {self.pid}" if self.pid is not None else "an unknown process"
        return f"{who} ({details})" if details else who

    def alive(self) -> bool | None:
        """Whether the pid still runs here (None when the lock was taken on another host or names no pid)."""
        if self.pid is None or self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def this_command() -> str:
    """The command line of this process, as the operator typed it when it is `kpi`."""
    argv0 = Path(sys.argv[0]) if sys.argv else Path()
    if argv0.name == "kpi" or argv0.parts[-2:] == ("kpi_lib", "__main__.py"):
        return shlex.join(["kpi", *sys.argv[1:]])
    return shlex.join(sys.orig_argv)


class PeriodLock:
    """The lock of one period folder; `with PeriodLock(folder) as lock:` holds it, `lock.stale` names a dead holder taken over."""

    def __init__(self, folder: Path, command: str | None = None) -> None:
        self.folder = folder
        self.path = folder / LOCK
        self.command = command or this_command()
        self.stale: Holder | None = None
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once, or raise `OutputError` naming the run that holds it."""
        try:  # never through a symlink: a planted `.lock` link must not truncate a file elsewhere
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OutputError(
                    f"{self.path}: is a symbolic link, not the run's lock file; remove it (it may point at a file outside the period folder)"
                ) from None
            raise output_error(exc, self.path, "cannot create the run's lock file") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OutputError(f"{self.path}: is not a regular file; expected the run's lock file (remove it)")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = Holder.parse(_read(fd))
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise output_error(exc, self.path, "cannot lock the period folder") from None
            who = holder.describe() if holder else "a run that is just starting"
            raise OutputError(
                f"{self.folder}: another kpi run is writing this period: {who}; wait for it to finish, or stop it, then run again"
            ) from None
        self.stale = Holder.parse(_read(fd))
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now().isoformat(timespec="seconds"),
            "command": self.command,
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"), 0)
        except OSError as exc:
            os.close(fd)
            raise output_error(exc, self.path, "cannot write the run's lock file") from None
        self._fd = fd

    def takeover_note(self) -> str:
        """One line for the operator when the lock was left by a run that died, else ""."""
        if self.stale is None:
            return ""
        alive = self.stale.alive()
        why = "is no longer running" if alive is False else "no longer holds it"
        return f"{self.path}: took over the lock left by {self.stale.describe()}, which {why}"

    def release(self) -> None:
        """Empty the lock file (a clean end) and let go of the lock."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass  # a read-only or full disk: the next run reads a stale holder, whose lock is free, and takes over
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> PeriodLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode("utf-8", errors="replace")
    except OSError:
        return ""
