"""A throwaway PostgreSQL cluster for the hub's tests: Debian's initdb/pg_ctl, run as `postgres`, in a temp folder.

PostgreSQL refuses to run as root, so the cluster's folder belongs to the `postgres` user and every
server command goes through `runuser`; the server listens on 127.0.0.1 on a free port (and on a unix
socket in the same folder), with trust authentication: it lives only as long as the test session.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL server's bin folder, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def why_no_postgres() -> str | None:
    """None when the hub tests can run; otherwise why they cannot (they then fail)."""
    if postgres_bin() is None:
        return "PostgreSQL is not installed (scripts/install.sh --test installs Debian's postgresql)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no `postgres` user to run the throwaway cluster as (Debian's postgresql package creates it)"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return "the throwaway cluster is started as `postgres` via runuser, which needs root"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayCluster:
    """initdb + pg_ctl start in a temp folder; `url(dbname)` for psycopg; `stop()` removes it all."""

    def __init__(self, durable: bool = False):
        self.durable = durable  # the benchmark keeps fsync on, as a real hub would; tests need no crash safety of PG itself
        self.bin = postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="luot-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.databases = 0

    def _as_postgres(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> "ThrowawayCluster":
        shutil.chown(self.folder, "postgres", "postgres")
        os.chmod(self.folder, 0o755)
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "-E", "UTF8", "--locale=C.UTF-8", *([] if self.durable else ["--no-sync"]))
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.folder} "
                   "-c max_connections=200")
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "60",
                          "-l", str(self.folder / "server.log"), "start")
        return self

    def create_database(self) -> str:
        """A new empty database's URL (one per test that needs a fresh hub)."""
        import psycopg
        self.databases += 1
        name = f"hub_{self.databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        try:
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        deadline = time.time() + 10
        while time.time() < deadline and (self.data / "postmaster.pid").exists():
            time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)
