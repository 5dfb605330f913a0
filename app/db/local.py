"""A PostgreSQL cluster run from the server binaries: the dev database under `.data/` (or
under /var/tmp, when the server user cannot reach the checkout) and the test suite's
throwaway clusters share this one piece of code.

PostgreSQL refuses to run as root, so as root every server command runs as `postgres`.
Unix sockets are off: clients reach the cluster over 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import logging
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import asyncpg

SERVER_USER = "postgres"
# Where a checkout's dev cluster goes when the server user cannot reach the checkout.
SHARED_STATE_DIR = Path("/var/tmp")  # noqa: S108 (a directory of our own there: _own_state_dir)

logger = logging.getLogger("app.db")


class ClusterError(RuntimeError):
    pass


def find_binary(name: str) -> str:
    """`name` from PATH, else from Debian's versioned directories, newest first."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0,
        reverse=True,
    )
    if candidates:
        return candidates[0]
    raise ClusterError(
        f"{name} not found: install the PostgreSQL server (Debian/Ubuntu: "
        "apt-get install postgresql; macOS: brew install postgresql@16) or set DATABASE_URL"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVER_USER, "--", *argv]
    return argv


def _run(argv: list[str]) -> None:
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        _as_server_user(argv), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")


def _tail(log: Path, lines: int = 20) -> str:
    """The end of a server log, which says why a start failed."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no server log: {error})"


def _hand_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, SERVER_USER, SERVER_USER)


def _server_user_may(test: str, path: Path) -> bool:
    """`test -w`/`-x` on `path` as the server user: False too when a parent is private."""
    if os.geteuid() != 0:
        return True
    probe = subprocess.run(  # noqa: S603
        _as_server_user(["test", test, str(path)]), capture_output=True, check=False
    )
    return probe.returncode == 0


def _check_reachable_by_server_user(path: Path) -> None:
    if not _server_user_may("-w", path):
        raise ClusterError(
            f"user {SERVER_USER} cannot reach {path}: a parent directory is private to root "
            "(move the checkout, or set DATABASE_URL)"
        )


@dataclass(frozen=True)
class LocalCluster:
    data_dir: Path

    @property
    def port(self) -> int:
        # The last setting wins, as in PostgreSQL: a replica's copy of the primary's
        # postgresql.auto.conf carries the primary's port first, its own after.
        port: int | None = None
        for line in (self.data_dir / "postgresql.auto.conf").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "port":
                port = int(value.strip().strip("'"))
        if port is None:
            raise ClusterError(f"no port recorded in {self.data_dir}")
        return port

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def running(self) -> bool:
        result = subprocess.run(  # noqa: S603
            _as_server_user([find_binary("pg_ctl"), "status", "-D", str(self.data_dir)]),
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def init(self, *, port: int | None = None, durable: bool = True) -> None:
        self._prepare_data_dir()
        argv = [
            find_binary("initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SERVER_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
        ]
        if not durable:
            argv.append("--no-sync")
        _run(argv)
        settings = {
            "port": str(port or free_port()),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            "max_connections": "200",
        }
        if not durable:  # throwaway test clusters trade crash safety for speed
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        self._configure(settings)

    @classmethod
    def replica_of(
        cls, primary_url: str, data_dir: Path, *, port: int | None = None, durable: bool = True
    ) -> LocalCluster:
        """A hot standby streaming from the server at `primary_url` (not started yet).

        `pg_basebackup -R` copies the primary and writes standby.signal and primary_conninfo;
        `-X stream` brings the WAL written during the copy, so the standby starts consistent.
        The primary needs wal_level=replica (the default) and a `replication` line in
        pg_hba.conf (initdb --auth=trust writes one for 127.0.0.1).
        """
        replica = cls(data_dir)
        replica._prepare_data_dir()
        argv = [
            find_binary("pg_basebackup"),
            "--pgdata",
            str(data_dir),
            "--dbname",
            primary_url,
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
        ]
        if not durable:
            argv.append("--no-sync")
        _run(argv)
        replica._configure({"port": str(port or free_port()), "hot_standby": "on"})
        return replica

    def _prepare_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        _hand_to_server_user(self.data_dir)
        _check_reachable_by_server_user(self.data_dir)

    def _configure(self, settings: dict[str, str]) -> None:
        with (self.data_dir / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        log = self.data_dir / "server.log"
        argv = [find_binary("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data_dir)]
        try:
            _run([*argv, "-l", str(log)])
        except ClusterError as error:  # pg_ctl says only "Examine the log output"
            raise ClusterError(f"{error}\n{_tail(log)}") from None

    def stop(self, mode: str = "fast") -> None:
        _run([find_binary("pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data_dir)])

    def ensure_running(self, *, durable: bool = True) -> LocalCluster:
        if not self.initialised:
            self.init(durable=durable)
        if not self.running:
            self.start()
        return self


async def create_database(server_url: str, name: str, *, template: str | None = None) -> None:
    """CREATE DATABASE unless it exists (names are ours, never user input).

    A copy of a template copies its files where the server can (PostgreSQL 15's default,
    WAL_LOG, writes the whole copy through the WAL: twice the server time per copy here).
    """
    conn = await asyncpg.connect(server_url)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is None:
            suffix = f" TEMPLATE {_quote(template)}" if template else ""
            if template and conn.get_server_version() >= (15,):
                suffix += " STRATEGY FILE_COPY"
            await conn.execute(f"CREATE DATABASE {_quote(name)}{suffix}")
    finally:
        await conn.close()


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
    finally:
        await conn.close()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def dev_cluster_dir(checkout_data_dir: Path) -> Path:
    """Where the development cluster of `checkout_data_dir` lives: there, unless the server
    user cannot reach it (we are root and a parent, such as /root or a `mktemp -d`
    directory, is private). Then it is a directory of its own under /var/tmp, named after a
    hash of the checkout's path: the user's own directories keep their permissions."""
    data_dir = checkout_data_dir.resolve()
    nearest = next(path for path in data_dir.parents if path.exists())
    if data_dir.exists() and _server_user_may("-w", data_dir):
        return data_dir
    if not data_dir.exists() and _server_user_may("-x", nearest):
        return data_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return SHARED_STATE_DIR / f"auth-service-{digest}" / "postgres"


def _own_state_dir(directory: Path, checkout_data_dir: Path) -> None:
    """Create `directory` (ours, readable by the server user), refusing one someone else
    made first: /var/tmp is writable by everyone."""
    directory.mkdir(exist_ok=True)
    if directory.is_symlink() or directory.stat().st_uid != os.geteuid():
        raise ClusterError(f"{directory} is not ours: remove it, or set DATABASE_URL")
    directory.chmod(0o755)
    (directory / "checkout").write_text(f"{checkout_data_dir.resolve()}\n")  # whose it is


def dev_cluster(checkout_data_dir: Path) -> LocalCluster:
    return LocalCluster(dev_cluster_dir(checkout_data_dir))


def ensure_dev_database(checkout_data_dir: Path, database: str = "auth_service") -> str:
    """Start (or reuse) the development cluster and return a URL to its database."""
    cluster = dev_cluster(checkout_data_dir)
    if cluster.data_dir != checkout_data_dir.resolve():
        _own_state_dir(cluster.data_dir.parent, checkout_data_dir)
        logger.warning(
            "development cluster in %s: user %s cannot reach %s (a parent directory is "
            "private); `make db-stop` stops it",
            cluster.data_dir,
            SERVER_USER,
            checkout_data_dir.resolve(),
        )
    cluster.ensure_running()
    asyncio.run(create_database(cluster.url(), database))
    return cluster.url(database)


def stop_dev_cluster(checkout_data_dir: Path) -> None:
    """`make db-stop`: stop the development cluster, wherever it lives."""
    cluster = dev_cluster(checkout_data_dir)
    if cluster.initialised and cluster.running:
        cluster.stop()
