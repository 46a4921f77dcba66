"""A real PostgreSQL server for the tests: Debian's ``postgresql`` binaries, ``initdb`` in a temp
dir, ``pg_ctl`` on 127.0.0.1 and a free port (no Unix socket outside the temp dir), durability
switched off (a test server: nothing to keep). Started once per session by the ``pg_server``
fixture (tests/conftest.py); each test gets a database of its own from :meth:`PgServer.fresh`.

``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` user that
Debian's package creates.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["PgServer", "find_pg_bin"]

_counter = itertools.count(1)


def find_pg_bin() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl`` (Debian keeps them under /usr/lib/postgresql/N/bin)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


class PgServer:
    def __init__(self, bin_dir: Path, port: int, folder: Path) -> None:
        self.bin, self.port, self.folder = bin_dir, port, folder
        self.data, self.log = folder / "data", folder / "postgres.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(folder, "postgres")

    def _run(self, *cmd: str) -> None:
        r = subprocess.run([*self._as, *cmd], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{cmd[0]} failed: {r.stdout}\n{r.stderr}\n{log}")

    def start(self) -> None:
        if not self.data.exists():
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "skillcert",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://skillcert@127.0.0.1:{self.port}/{dbname}"

    def fresh(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
