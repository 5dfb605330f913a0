"""A real PgBouncer (Debian's package) for the suite: transaction pooling mode, a server pool
smaller than the app's pool (so one client connection's consecutive transactions land on
different server connections), on a free port, removed at the end."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.db.local import SERVER_USER, free_port

# Smaller than the app's pool in the tests (DB_POOL_MAX_SIZE 4, tests/conftest.py).
SERVER_POOL_SIZE = 2
START_SECONDS = 30.0


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(path).exists()),
        None,
    )


def pgbouncer_missing() -> str | None:
    """Why the PgBouncer tests cannot run here, or None when they can."""
    if pgbouncer_binary() is None:
        return "pgbouncer not found: apt-get install pgbouncer (.ci/run does) to run these"
    return None


@dataclass(frozen=True)
class Bouncer:
    port: int
    user: str
    log: Path

    def url(self, database: str) -> str:
        """A URL to `database` (an alias in [databases], or any name under "*")."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"


def _target(url: str, *, with_database: bool) -> str:
    """A [databases] entry's connection string for the server at `url`."""
    parts = urlsplit(url)
    fields = {"host": parts.hostname or "127.0.0.1", "port": str(parts.port or 5432)}
    if with_database:
        fields["dbname"] = parts.path.lstrip("/")
    if parts.username:
        fields["user"] = parts.username
    if parts.password:
        fields["password"] = parts.password
    return " ".join(f"{key}={value}" for key, value in fields.items())


@contextmanager
def pgbouncer(
    databases: Mapping[str, str], *, pool_size: int = SERVER_POOL_SIZE
) -> Iterator[Bouncer]:
    """PgBouncer in front of `databases`: alias -> server URL. The alias "*" forwards any
    database name to that server (its URL's database is ignored)."""
    binary = pgbouncer_binary()
    assert binary is not None, pgbouncer_missing()
    workdir = Path(tempfile.mkdtemp(prefix="auth-service-test-pgbouncer-"))
    # PgBouncer refuses to run as root, like PostgreSQL: as root it runs as the server user.
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(workdir, SERVER_USER, SERVER_USER)
    port = free_port()
    entries = "\n".join(
        f"{alias} = {_target(url, with_database=alias != '*')}" for alias, url in databases.items()
    )
    # Clients log in as the servers' user, trusted (the servers are the suite's own).
    user = urlsplit(next(iter(databases.values()))).username or SERVER_USER
    (workdir / "users.txt").write_text(f'"{user}" ""\n')
    config = workdir / "pgbouncer.ini"
    config.write_text(
        f"""[databases]
{entries}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
logfile = {workdir / "pgbouncer.log"}
pidfile = {workdir / "pgbouncer.pid"}
"""
    )
    for path in workdir.iterdir():
        if as_root:
            shutil.chown(path, SERVER_USER, SERVER_USER)
    argv = [binary, str(config)]
    if as_root:
        argv = ["runuser", "-u", SERVER_USER, "--", *argv]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_listening(process, port)
        yield Bouncer(port=port, user=user, log=workdir / "pgbouncer.log")
    finally:
        _stop(process, workdir / "pgbouncer.pid")
        shutil.rmtree(workdir, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes], pidfile: Path) -> None:
    """SIGTERM to PgBouncer itself (an immediate shutdown), not to `runuser` in front of it:
    runuser passes a SIGTERM on, then waits 2 s before it ends its own wait, on every stop."""
    try:
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    except (OSError, ValueError):  # no pidfile yet, or PgBouncer already gone
        process.terminate()
    process.wait(timeout=30)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"pgbouncer exited at start: {stderr}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
