"""`files.StatMemo`: an incremental run hashes only files that may have changed (issue 20 §3).

Each row changes a remembered file (or its memo) in one way and says whether the next
run may take the remembered sha256 or must read the file again. Whatever the row, the
sha256 returned is the file's true one: a change the memo would miss is the bug this
table is here to catch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kpi_lib.base import files
from kpi_lib.base.files import StatMemo, sha256_file

OLD = time.time() - 3600  # an hour ago


def _later() -> int:
    """A clock a minute ahead: every file of the test is then older than the two seconds a fresh one is hashed again
    (its change time is always now: setting its other times back changes it)."""
    return time.time_ns() + 60_000_000_000


def _file(folder: Path, text: str = "department,value\ncs-east,1\n") -> Path:
    path = folder / "data.csv"
    path.write_text(text)
    os.utime(path, (OLD, OLD))
    return path


def _untouched(path: Path) -> None:
    pass


def _same_size_same_mtime(path: Path) -> None:  # what `touch -r` after an edit leaves: only the change time moves
    stat = path.stat()
    path.write_text(path.read_text().replace("1", "9"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _appended(path: Path) -> None:
    with path.open("a") as handle:
        handle.write("cs-west,2\n")


def _replaced(path: Path) -> None:  # another file renamed over it (a new inode), times set back
    stat = path.stat()
    other = path.with_name("other.csv")
    other.write_text(path.read_text().replace("1", "7"))
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    other.replace(path)


def _only_read(path: Path) -> None:
    path.read_bytes()


CASES: list[tuple[str, Callable[[Path], None], bool]] = [
    ("untouched", _untouched, True),
    ("read, not written", _only_read, True),
    ("edited, size and modification time set back", _same_size_same_mtime, False),
    ("appended to", _appended, False),
    ("replaced by another file", _replaced, False),
]


@pytest.mark.parametrize(("change", "remembered"), [(fn, ok) for _, fn, ok in CASES], ids=[c[0] for c in CASES])
def test_a_file_is_read_again_unless_nothing_touched_it(
    change: Callable[[Path], None], remembered: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path)
    memo_file = tmp_path / "memo" / "sha256.json"
    first = StatMemo(memo_file, _later)
    assert first.sha256(path) == sha256_file(path)
    first.save()
    change(path)
    reads: list[Path] = []
    real = files.sha256_file
    monkeypatch.setattr(files, "sha256_file", lambda p: reads.append(p) or real(p))
    second = StatMemo(memo_file, _later)  # the next run
    assert second.sha256(path) == real(path)
    assert (not reads) == remembered


def test_a_file_written_in_the_last_two_seconds_is_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "fresh.csv"
    path.write_text("a,b\n")  # now: a second write in the same clock tick could leave every time as it is
    memo = StatMemo(tmp_path / "sha256.json")
    memo.sha256(path)
    memo.save()
    assert not (tmp_path / "sha256.json").exists()


@pytest.mark.parametrize("damage", ["not json", "[1, 2]", '{"x": "y"}', ""])
def test_a_damaged_memo_is_ignored(damage: str, tmp_path: Path) -> None:
    path = _file(tmp_path)
    memo_file = tmp_path / "sha256.json"
    memo_file.write_text(damage)
    memo = StatMemo(memo_file, _later)
    assert memo.sha256(path) == sha256_file(path)
    memo.save()
    assert StatMemo(memo_file)._read().keys() == {str(path)}


@pytest.mark.parametrize("setting", ["off", "unwritable"])
def test_no_memo_or_an_unwritable_one_still_hashes(
    setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(files.HASH_CACHE, "off" if setting == "off" else str(blocker / "sha256.json"))
    memo = StatMemo.here()
    memo.now = _later
    assert memo.sha256(path) == sha256_file(path)
    memo.save()  # never raises
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "data.csv"]
