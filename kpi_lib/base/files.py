"""Generic file helpers, used by every module that reads or writes a file of the audit trail.

- `write_atomic`: a file is written whole or not at all (a temporary file in the
  same folder, then a rename); a write the environment refuses raises
  `OutputError` naming the path.
- `refuse_replacing`: no command replaces a file it did not write itself unless
  told to (`--force`): a file holding other bytes than those about to be written,
  and not recognisably one of the command's own, is refused, naming it and the flag.
- `sha256_bytes`, `sha256_file`: the one place the toolkit hashes anything;
  `StatMemo`: a file's sha256 remembered between runs by its stat signature, for
  the quick checks of an incremental run (never for `kpi verify`).
- `read_json`, `json_text`: JSON objects as the audit trail keeps them (UTF-8,
  two-space indent, non-ASCII as written, a final newline).
- `versions`, `git_commit`: what a manifest and a notebook's provenance record
  about the software that ran;
- `fingerprint_versions`: everything else the outputs are a function of, for the
  incremental fingerprint: the version of every distribution kpi-appraisal needs,
  transitively (what the notebooks and reports import: numpy, Jinja2, fonttools,
  Pillow, mistune, bleach …), and the time-zone database `zoneinfo` loads (the
  system's, and the `tzdata` package's).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import platform
import subprocess
import tempfile
import time
import zoneinfo
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .errors import AuditError, KpiError, UsageError, output_error, shorten

PACKAGES = (
    "kpi-appraisal",
    "pandas",
    "holidays",
    "papermill",
    "nbconvert",
    "nbformat",
    "nbclient",
    "ipykernel",
    "pydantic",
    "matplotlib",
    "openpyxl",
    "pyarrow",
)


# -- hashing --------------------------------------------------------------------------------
def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


RACY_NS = 2_000_000_000  # a file changed this recently (ns) is hashed again next time: a clock tick may hide a change
MEMO_ENTRIES = 100_000  # files remembered at most (the oldest remembered are forgotten first)
HASH_CACHE = "KPI_HASH_CACHE"  # the environment variable: the memo's file, or "off"


class StatMemo:
    """sha256 of files remembered by their stat signature, so a file nobody touched is not read again.

    The signature is the device, inode, size, modification time and change time (ns).
    Any write to a file changes its change time, which no user command can set back,
    so a file with the recorded signature holds the recorded bytes. Two guards keep a
    change from hiding behind a coarse clock: a file whose times are less than two
    seconds old when it is hashed is not remembered (the next run hashes it again),
    nor is one whose signature changed while it was being read.

    An incremental run (`kpi run`) decides with it whether a department's inputs and
    outputs are still those its manifest records; `kpi verify` and `kpi sign` always hash
    every byte. The memo is a JSON file, `$KPI_HASH_CACHE` (`off`: nothing remembered),
    else `kpi-appraisal/sha256.json` in `$XDG_CACHE_HOME` or `~/.cache`, written whole
    when a run ends; it belongs to the account that runs kpi and can be deleted at any
    time. A memo that cannot be read or written is ignored: it only saves time.
    """

    def __init__(self, path: Path | None, now: Callable[[], int] = time.time_ns) -> None:
        self.path = path
        self.now = now  # the clock the two seconds are counted on (ns)
        self.entries: dict[str, list[Any]] | None = None
        self.added: dict[str, list[Any]] = {}

    @staticmethod
    def here() -> StatMemo:
        setting = os.environ.get(HASH_CACHE, "")
        if setting.strip().lower() == "off":
            return StatMemo(None)
        if setting:
            return StatMemo(Path(setting).expanduser())
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return StatMemo(Path(base) / "kpi-appraisal" / "sha256.json")

    def _read(self) -> dict[str, list[Any]]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, list) and len(v) == 6 and isinstance(v[5], str)}

    @staticmethod
    def _signature(path: Path) -> list[int]:
        st = os.stat(path)
        return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]

    def sha256(self, path: Path) -> str:
        """The file's sha256: remembered when its signature is the one recorded, else read (and remembered)."""
        if self.path is None:
            return sha256_file(path)
        if self.entries is None:
            self.entries = self._read()
        key = os.path.abspath(path)
        before = self._signature(Path(key))
        known = self.entries.get(key)
        if known is not None and known[:5] == before:
            return str(known[5])
        sha = sha256_file(path)
        if self._signature(Path(key)) == before and self.now() - max(before[3], before[4]) > RACY_NS:
            self.entries[key] = self.added[key] = [*before, sha]
        return sha

    def save(self) -> None:
        """Write what this run hashed into the memo (with what other runs wrote meanwhile); never raises."""
        if self.path is None or not self.added:
            return
        merged = self._read()
        merged.update(self.added)
        if len(merged) > MEMO_ENTRIES:
            merged = dict(list(merged.items())[-MEMO_ENTRIES:])
        with contextlib.suppress(OSError, KpiError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(merged, separators=(",", ":")))
        self.added = {}


# -- writing --------------------------------------------------------------------------------
def refuse_replacing(
    path: Path, data: bytes | None = None, *, ours: Callable[[bytes], bool] | None = None, flag: str = "--force"
) -> None:
    """`UsageError` when `path` is there and is not what this command writes: other bytes than `data` (when given)
    and not `ours` (a test of the file's bytes: one this command wrote earlier). Nothing there, or the same, is fine."""
    if not (path.exists() or path.is_symlink()):
        return
    try:
        held = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        held = None
    if held is not None and ((data is not None and held == data) or (ours is not None and ours(held))):
        return
    raise UsageError(f"{path}: already exists and was not written by this command; pass {flag} to replace it")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then a rename.

    A write the environment refuses (disk full, read-only folder) raises `OutputError` naming `path`.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise output_error(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise output_error(exc, path) from None
        raise


@lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- JSON -----------------------------------------------------------------------------------
def json_text(data: Any) -> str:
    """A JSON document as the audit trail writes it: UTF-8 text, indent 2, non-ASCII as written, a final newline."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json_text(data))


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file of the audit trail; `AuditError` naming the file when it is missing or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuditError(f"{path}: not found") from None
    except (
        ValueError,
        RecursionError,
    ) as exc:  # not JSON, not UTF-8, an integer of thousands of digits, nested too deep
        raise AuditError(f"{path}: not valid JSON ({shorten(exc, 120)})") from None
    except OSError as exc:
        raise AuditError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not isinstance(data, dict):
        raise AuditError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


# -- provenance -----------------------------------------------------------------------------
def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


@lru_cache(maxsize=1)
def dependency_versions(root: str = "kpi-appraisal") -> dict[str, str]:
    """The version of every distribution `root` requires, transitively, with the extras the requirements name
    (`jsonschema[format-nongpl]`), and those of `root`'s own optional extras that are installed (dask: its
    packages are loaded by the kernels too when present)."""
    found: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    try:
        extras = metadata.distribution(root).metadata.get_all("Provides-Extra") or []
    except metadata.PackageNotFoundError:
        extras = []
    stack: list[tuple[str, str, bool]] = [(root, extra, bool(extra)) for extra in ("", *extras)]
    while stack:
        name, extra, optional = stack.pop()
        name = canonicalize_name(name)
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if not optional:
                found.setdefault(name, "not installed")
            continue
        found[name] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                stack += [(requirement.name, wanted, optional) for wanted in ("", *sorted(requirement.extras))]
    return dict(sorted(found.items()))


def _zoneinfo_version(folder: Path) -> str:
    """The IANA version a zoneinfo folder says it holds (`tzdata.zi`), else a sha256 of its files."""
    try:
        with (folder / "tzdata.zi").open(encoding="ascii", errors="replace") as handle:
            first = handle.readline().strip()
        if first.startswith("# version "):
            return first.removeprefix("# version ")
    except OSError:
        pass
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder)} {sha256_file(path)}\n".encode())
    return f"sha256 {digest.hexdigest()}"


@lru_cache(maxsize=1)
def tz_database() -> dict[str, str]:
    """The time-zone databases `zoneinfo` reads: the first system folder of `zoneinfo.TZPATH` holding zones (read
    first), and the `tzdata` package (read for a zone no system folder has)."""
    found: dict[str, str] = {}
    for folder in map(Path, zoneinfo.TZPATH):
        if (folder / "Asia" / "Shanghai").is_file() or (folder / "UTC").is_file():
            found["tz database (system)"] = f"{folder} {_zoneinfo_version(folder)}"
            break
    else:
        found["tz database (system)"] = "none"
    try:
        iana = getattr(importlib.import_module("tzdata"), "IANA_VERSION", "?")
        found["tz database (tzdata package)"] = f"{metadata.version('tzdata')} (IANA {iana})"
    except (ImportError, metadata.PackageNotFoundError):
        found["tz database (tzdata package)"] = "not installed"
    return found


def fingerprint_versions() -> dict[str, str]:
    """What the incremental fingerprint records of the software: `versions()`, every dependency's version and the
    time-zone databases (a new numpy or tz database may change a number or a page: the departments run again)."""
    return {**versions(), **dependency_versions(), **tz_database()}


def git_commit(path: Path | None = None) -> str:
    """The toolkit's git commit, or "not a git checkout"."""
    where = path or Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return out.stdout.strip() if out.returncode == 0 else "not a git checkout"
