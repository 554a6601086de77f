"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` binaries, a temporary cluster on loopback.

`start()` finds `initdb` and `pg_ctl` (on PATH or under /usr/lib/postgresql/*/bin),
initialises a cluster in a temporary folder with a password for the test role
(scram-sha-256 on host connections, so the password is really checked), and starts
it on a free port of 127.0.0.1 with its socket in the same folder. PostgreSQL
refuses to run as root, so as root it runs as the `postgres` user (or `nobody`),
which then owns the folder. `Server.stop()` stops it and removes the folder.

Without the binaries the test fails with what to install (CI sets `CI`); only
where `CI` is unset is it skipped, saying so.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

ROLE = "kpi_reader"
PASSWORD = "Pg-s3cret_9q@Zx"  # distinctive, with a character URLs must quote: searched for in every output
DATABASE = "crm"


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    return versions[0].parent if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    root: Path
    bin: Path
    port: int
    prefix: list[str]

    def url(self, *, port: int | None = None) -> str:
        """The server's URL as a user writes it (`postgresql://`, password quoted)."""
        return f"postgresql://{ROLE}:{quote(PASSWORD, safe='')}@127.0.0.1:{port or self.port}/{DATABASE}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *args], capture_output=True, text=True, check=False, timeout=120)

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Server:
    """A running throwaway server with database `crm` and role `kpi_reader` (password `PASSWORD`)."""
    binaries = _binaries()
    if binaries is None:
        message = (
            "PostgreSQL is not installed (no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin); "
            "install Debian's postgresql: apt-get install -y postgresql"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + " (skipped because CI is unset; in CI this test fails)")
    root = Path(tempfile.mkdtemp(prefix="kpi-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = "nobody"
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        prefix = ["runuser", "-u", user, "--"]
    password_file = root / "pw"
    password_file.write_text(PASSWORD + "\n")
    if prefix:
        os.chown(password_file, pwd.getpwnam(prefix[2]).pw_uid, -1)
    server = Server(root, binaries, _free_port(), prefix)
    init = server._run(
        str(binaries / "initdb"),
        "-D",
        str(root / "data"),
        "-U",
        ROLE,
        f"--pwfile={password_file}",
        "--auth-host=scram-sha-256",
        "--auth-local=trust",
        "-E",
        "UTF8",
        "--locale=C",
    )
    if init.returncode:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr or init.stdout}")
    started = server._run(
        str(binaries / "pg_ctl"),
        "-D",
        str(root / "data"),
        "-l",
        str(root / "log"),
        "-w",
        "-o",
        f"-h 127.0.0.1 -p {server.port} -k {root}",
        "start",
    )
    if started.returncode:
        log = (root / "log").read_text(errors="replace") if (root / "log").is_file() else ""
        server.remove()
        pytest.fail(f"pg_ctl start failed: {started.stderr or started.stdout}\n{log}")
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=server.port, user=ROLE, password=PASSWORD, dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(f"CREATE DATABASE {DATABASE}")
    return server


def execute(server: Server, *statements: str) -> None:
    """Run statements on the server's `crm` database (as the test role, committed)."""
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=server.port, user=ROLE, password=PASSWORD, dbname=DATABASE, autocommit=True
    ) as connection:
        for statement in statements:
            connection.execute(statement)
