"""Fixtures for the replica tests: a streaming replica of a primary the suite controls, and
a fresh migrated database on that primary, replayed on the replica before each test.

The replica is started once per session, on first use. It streams from one more throwaway
cluster started here (a replica needs a primary we may reconfigure and copy, with no
session-long transaction on it: see replication_primary).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from app.db.local import LocalCluster, create_database, drop_database
from tests.support.database import (
    migrated_template,
    throwaway_cluster,
    unique_name,
    with_database,
)
from tests.support.pgbouncer import Bouncer, pgbouncer, pgbouncer_missing
from tests.support.replication import (
    Replicated,
    basebackup_missing,
    set_replay_paused,
    streaming_replica,
    wait_for_replay,
)


@pytest.fixture(scope="session")
def replication_primary() -> Iterator[str]:
    if (reason := basebackup_missing()) is not None:
        pytest.skip(reason)
    # Never the suite's own cluster: its session-long outer transaction (the `conn` fixture's)
    # can leave the primary with an overflowed subtransaction cache, and a hot standby then
    # never accepts connections ("consistent recovery state reached", then nothing) until
    # that transaction ends, i.e. never during the session.
    with throwaway_cluster() as url:
        yield url


@pytest.fixture(scope="session")
async def replication_template(replication_primary: str) -> AsyncIterator[str]:
    """The name of a migrated template database on the replication primary."""
    async with migrated_template(replication_primary) as name:
        yield name


@pytest.fixture(scope="session")
def replica_server(replication_primary: str) -> Iterator[LocalCluster]:
    with streaming_replica(replication_primary) as replica:
        yield replica


@pytest.fixture
async def replicated(
    replication_primary: str, replication_template: str, replica_server: LocalCluster
) -> AsyncIterator[Replicated]:
    name = unique_name("auth_replicated")
    await create_database(replication_primary, name, template=replication_template)
    primary_url = with_database(replication_primary, name)
    replica_url = replica_server.url(name)
    await wait_for_replay(primary_url, replica_server.url())
    yield Replicated(primary_url=primary_url, replica_url=replica_url, replica=replica_server)
    if not replica_server.running:  # a test stopped it and failed before restarting it
        replica_server.start()
    await set_replay_paused(replica_url, False)
    await drop_database(replication_primary, name)


@pytest.fixture(scope="session")
def suite_bouncer(server_url: str) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode in front of the suite's server, any database name."""
    if (reason := pgbouncer_missing()) is not None:
        pytest.skip(reason)
    with pgbouncer({"*": server_url}) as bouncer:
        yield bouncer


@pytest.fixture
def bounced_database(own_database: str, suite_bouncer: Bouncer) -> str:
    """The test's own database, reached through PgBouncer."""
    return suite_bouncer.url(own_database.rpartition("/")[2])
