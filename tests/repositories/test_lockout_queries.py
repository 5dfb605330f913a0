"""Every lockout read is bounded by its window and served by an index on exactly the rows
it counts: one key inflated with 100,000 old rows (and thousands of recent 'locked' ones)
adds nothing to what a login reads, and the login answers within a tight statement
timeout."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.repositories.login_attempts import SECONDS_LOCKED
from tests.support.http import live_app, register
from tests.support.lockout import client_from, plan_nodes
from tests.support.scratch_databases import ScratchDatabases
from tests.support.settings import TEST_PASSWORD

# Both tests read one inflated database (inflating is a second of server time): on one worker.
pytestmark = pytest.mark.xdist_group("inflated_key")

VICTIM = "victim@example.com"
OLD_ROWS = 100_000
RECENT_LOCKED = 5_000
STATEMENT_TIMEOUT_MS = 200

# Bulk test data: old failures from many addresses, a success long ago, and a recent flood
# of attempts that were answered 'locked' (never counted, but indexed by email_key too).
INFLATE = """
INSERT INTO login_attempts (email_key, client_address, outcome, attempted_at)
SELECT $1, '10.0.' || (i % 250) || '.' || (i % 200),
       CASE WHEN i % 1000 = 0 THEN 'success' ELSE 'bad_credentials' END,
       clock_timestamp() - interval '2 days' - i * interval '1 second'
FROM generate_series(1, $2) AS i
UNION ALL
SELECT $1, '10.9.9.9', 'locked', clock_timestamp() - i * interval '10 milliseconds'
FROM generate_series(1, $3) AS i
"""


@pytest.fixture(scope="module")
async def inflated(migrated_databases: ScratchDatabases) -> AsyncIterator[str]:
    async with migrated_databases.lend() as url:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(INFLATE, VICTIM, OLD_ROWS, RECENT_LOCKED)
            await conn.execute("ANALYZE login_attempts")
        finally:
            await conn.close()
        yield url


async def test_lockout_reads_only_the_window_through_partial_indexes(inflated: str) -> None:
    conn = await asyncpg.connect(inflated)
    try:
        await conn.execute("BEGIN")  # the pending attempt is this test's alone: rolled back
        attempt_id = await conn.fetchval(
            "INSERT INTO login_attempts (email_key, client_address, outcome, attempted_at) "
            "VALUES ($1, '192.0.2.1', 'pending', clock_timestamp()) RETURNING id",
            VICTIM,
        )
        explained = await conn.fetchval(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {SECONDS_LOCKED}", attempt_id, 5, 100, 900.0, 2592000.0
        )
    finally:
        await conn.close()  # without COMMIT
    nodes = list(plan_nodes(json.loads(explained)[0]["Plan"]))
    scans = [n for n in nodes if n.get("Relation Name") == "login_attempts"]
    assert scans and not [n for n in scans if n["Node Type"] == "Seq Scan"], scans
    indexes = {n["Index Name"] for n in nodes if "Index Name" in n}
    assert {
        "login_attempts_email_key_counted_idx",
        "login_attempts_client_address_counted_idx",
        "login_attempts_success_idx",
    } <= indexes, indexes
    assert "login_attempts_attempted_at_idx" not in indexes  # retention's, not a lockout's
    # Rows the scans produced or filtered out, all loops: a handful, not the 105,000 rows
    # of the key. Before the cutoffs became scalar subqueries this was all of them.
    read = sum(n["Actual Rows"] * n["Actual Loops"] for n in scans)
    removed = sum(n.get("Rows Removed by Filter", 0) for n in scans)
    assert read + removed < 100, (read, removed)


async def test_login_on_an_inflated_key_answers_within_the_statement_timeout(
    inflated: str,
) -> None:
    async with (
        live_app(inflated, db_statement_timeout_ms=STATEMENT_TIMEOUT_MS) as app,
        client_from(app, "198.51.100.77") as http,
    ):
        await register(http, email=VICTIM)
        answers = [
            await http.post("/api/v1/auth/login", json={"email": VICTIM, "password": p})
            for p in ("wrong password", TEST_PASSWORD)
        ]
    assert [a.status_code for a in answers] == [401, 200], [a.text for a in answers]
