"""Revision 20261203_0009 renames the stored 'failure' to 'bad_credentials' (issue 18: one set
of login-outcome names). The lockout must still count the renamed rows, through its partial
indexes, and the downgrade must bring back every 'failure' and the old schema."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from app.core.errors import DatabaseError
from app.core.models import LoginOutcome
from app.db.uow import UnitOfWork
from app.repositories.login_attempts import SECONDS_LOCKED
from tests.support.database import migrate
from tests.support.lockout import plan_nodes
from tests.support.migrations import downgrade, schema_of

REVISION = "20261203_0009"
BEFORE = "20261202_0008"
VICTIM = "victim@example.com"
ATTACKER = "192.0.2.66"
OWNER = "198.51.100.7"
FAILURES = 4
WINDOW = 900
# The old code's rows, as it stored them (plain SQL of that schema: the old value is the
# point): failures from one address in the window, and one of every other outcome from
# another, none of them counted.
OLD_OUTCOMES = [(ATTACKER, "failure")] * FAILURES + [
    (OWNER, "success"),
    (OWNER, "locked"),
    (OWNER, "inactive"),
]
STORE = """
INSERT INTO login_attempts (email_key, client_address, outcome, attempted_at)
SELECT $1, address, outcome, clock_timestamp() - interval '1 minute'
FROM unnest($2::text[], $3::text[]) AS t(address, outcome)
"""
COUNTED_INDEXES = {
    "login_attempts_email_key_counted_idx",
    "login_attempts_client_address_counted_idx",
}
SELECT_OUTCOME = "SELECT outcome FROM login_attempts WHERE id = $1"


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def outcomes(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch("SELECT outcome FROM login_attempts ORDER BY id")
    return [row["outcome"] for row in rows]


async def seconds_locked(conn: asyncpg.Connection, attempt_id: int, limit: int) -> int | None:
    """What the lockout (today's repository SQL) says of `attempt_id` under `limit`."""
    return await UnitOfWork.borrowing(conn).login_attempts.seconds_locked(
        attempt_id,
        max_failures=limit,
        max_failures_per_address=limit,
        window_seconds=WINDOW,
        known_client_seconds=WINDOW,
    )


async def indexes_read(conn: asyncpg.Connection, attempt_id: int) -> set[str]:
    """The indexes the lockout's read uses. Sequential scans are off, so on this small table
    the planner takes a partial index whenever the query's WHERE implies its predicate."""
    async with conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        explained = await conn.fetchval(
            f"EXPLAIN (FORMAT JSON) {SECONDS_LOCKED}", attempt_id, 5, 5, float(WINDOW), 60.0
        )
    plan = json.loads(explained)[0]["Plan"]
    return {node["Index Name"] for node in plan_nodes(plan) if "Index Name" in node}


@pytest.mark.slow
async def test_failures_become_bad_credentials_still_locked_out_and_come_back(
    empty_database: str,
) -> None:
    await migrate(empty_database, BEFORE)
    old_schema = await schema_of(empty_database)
    addresses, old = zip(*OLD_OUTCOMES, strict=True)
    async with connected(empty_database) as conn:
        await conn.execute(STORE, VICTIM, list(addresses), list(old))

    await migrate(empty_database, REVISION)
    async with connected(empty_database) as conn:
        assert await outcomes(conn) == ["bad_credentials" if o == "failure" else o for o in old]
        # The attacker's next guess: the renamed failures count, exactly these.
        attempt_id = await UnitOfWork.borrowing(conn).login_attempts.start(
            email=VICTIM, user_id=None, client_address=ATTACKER
        )
        assert await seconds_locked(conn, attempt_id, FAILURES) is not None
        assert await seconds_locked(conn, attempt_id, FAILURES + 1) is None
        assert await indexes_read(conn, attempt_id) >= COUNTED_INDEXES
        await conn.execute("DELETE FROM login_attempts WHERE id = $1", attempt_id)

    await downgrade(empty_database, BEFORE)
    async with connected(empty_database) as conn:
        assert await outcomes(conn) == list(old)
    assert await schema_of(empty_database) == old_schema


async def test_every_outcome_but_unavailable_is_stored_by_its_metric_name(
    uow: UnitOfWork, conn: asyncpg.Connection
) -> None:
    attempt_id = await uow.login_attempts.start(email=VICTIM, user_id=None, client_address=OWNER)
    stored = []
    for outcome in LoginOutcome:
        if outcome is not LoginOutcome.UNAVAILABLE:
            await uow.login_attempts.finish(attempt_id, outcome)
            stored.append(await conn.fetchval(SELECT_OUTCOME, attempt_id))
    assert stored == ["success", "bad_credentials", "inactive", "locked"]
    with pytest.raises(DatabaseError):  # the CHECK constraint: no row records an outage
        async with uow.transaction():
            await uow.login_attempts.finish(attempt_id, LoginOutcome.UNAVAILABLE)
