"""A throwaway PostgreSQL and fresh databases for .ci/run's migration job.

    python -m tests.support.ci_database start DIR     # init + start a cluster in DIR, print URL
    python -m tests.support.ci_database stop DIR      # stop it (DIR is then safe to remove)
    python -m tests.support.ci_database fresh SRV DB  # drop and create database DB, print URL

The suite's own fixtures start and stop their cluster inside one process; the CI job's
steps are separate commands, so the cluster has to outlive the command that starts it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from app.db.local import LocalCluster, create_database, drop_database
from tests.support.database import with_database


def start(data_dir: Path) -> str:
    cluster = LocalCluster(data_dir / "data")
    cluster.init(durable=False)
    cluster.start()
    return cluster.url()


def stop(data_dir: Path) -> None:
    cluster = LocalCluster(data_dir / "data")
    if cluster.initialised and cluster.running:
        cluster.stop("immediate")


async def fresh(server_url: str, name: str) -> str:
    await drop_database(server_url, name)
    await create_database(server_url, name)
    return with_database(server_url, name)


def main(argv: list[str]) -> int:
    match argv:
        case ["start", data_dir]:
            print(start(Path(data_dir)))
        case ["stop", data_dir]:
            stop(Path(data_dir))
        case ["fresh", server_url, name]:
            print(asyncio.run(fresh(server_url, name)))
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
