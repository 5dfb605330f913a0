"""A real streaming replica for the suite: `pg_basebackup -R -X stream` from a primary the
suite controls, on a port of its own, plus the few moves the replica tests make on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from app.db import local
from app.db.database import Database
from app.repositories.base import Connection
from tests.support.database import scratch_cluster
from tests.support.polling import eventually


@dataclass(frozen=True)
class Replicated:
    primary_url: str  # the test's database on the primary
    replica_url: str  # the same database, on the replica
    replica: local.LocalCluster


def basebackup_missing() -> str | None:
    """Why the replica tests cannot run here, or None when they can."""
    try:
        local.find_binary("pg_basebackup")
    except local.ClusterError:
        return "pg_basebackup not found: install the PostgreSQL server binaries to run these"
    return None


@contextmanager
def streaming_replica(primary_url: str) -> Iterator[local.LocalCluster]:
    def clone(data_dir: Path) -> local.LocalCluster:
        return local.LocalCluster.replica_of(primary_url, data_dir, durable=False)

    with scratch_cluster(clone) as replica:
        yield replica


async def wait_for_replay(primary_url: str, replica_url: str) -> None:
    """Until the replica has replayed everything the primary has written so far (any
    database on either server will do: WAL is per cluster)."""
    target = await primary_position(primary_url)
    replica = await asyncpg.connect(replica_url)

    async def replayed() -> bool:
        position = await replica.fetchval("SELECT pg_last_wal_replay_lsn()")
        return bool(position >= target)

    try:
        await eventually(replayed)
    finally:
        await replica.close()


async def set_replay_paused(replica_url: str, paused: bool) -> None:
    replica = await asyncpg.connect(replica_url)
    try:
        if paused:
            await replica.execute("SELECT pg_wal_replay_pause()")
        else:
            await replica.execute("SELECT pg_wal_replay_resume()")
    finally:
        await replica.close()


async def in_recovery(connection: Connection) -> bool:
    """True on a standby: the connection is a replica's."""
    answer: bool = await connection.fetchval("SELECT pg_is_in_recovery()")
    return answer


async def primary_position(primary_url: str) -> int:
    """Where the primary's WAL ends now."""
    primary = await asyncpg.connect(primary_url)
    try:
        position: int = await primary.fetchval("SELECT pg_current_wal_insert_lsn()")
        return position
    finally:
        await primary.close()


async def until_checked_caught_up(database: Database, primary_url: str) -> None:
    """Until the app's health checks have seen every replica replay what the primary has
    written so far: from then on the read router sends any session's reads there."""
    target = await primary_position(primary_url)

    async def seen() -> bool:
        return all(
            replica.healthy and replica.replayed is not None and replica.replayed >= target
            for replica in database.replicas.replicas
        )

    await eventually(seen)
