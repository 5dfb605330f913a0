"""SQL for registration_attempts: the per-address registration limit.

Count and insert happen in one transaction under a transaction-scoped advisory lock on the
address, so concurrent registrations from one address take turns: each one sees every
earlier one, and no burst gets past the limit (tests/api/test_registration_limit.py races
it). The lock is per address and held for two short statements, never while hashing.
"""

from __future__ import annotations

from app.repositories.base import Repository
from app.repositories.retention import CUTOFF, delete_batch, prune_batch_sql

# hashtextextended: a 64-bit key from the address; a collision only makes two addresses
# take turns, it never lets one past its limit. The 'register:' prefix keeps these keys
# apart from any other advisory lock.
LOCK_ADDRESS = "SELECT pg_advisory_xact_lock(hashtextextended('register:' || $1, 0))"

# Seconds until the oldest counted registration leaves the window, or NULL when fewer
# than $2 are in it (registration_attempts_client_address_idx, bounded by the window).
SECONDS_LIMITED = """
SELECT ceil(extract(epoch FROM
    (SELECT attempted_at FROM registration_attempts
     WHERE client_address = $1
       AND attempted_at > (SELECT clock_timestamp() - make_interval(secs => $3))
     ORDER BY attempted_at DESC
     OFFSET $2 - 1 LIMIT 1)
    + make_interval(secs => $3) - clock_timestamp()
))::int
"""

INSERT = """
INSERT INTO registration_attempts (client_address, attempted_at)
VALUES ($1, clock_timestamp())
"""

PRUNE_BATCH = prune_batch_sql("registration_attempts", f"attempted_at < {CUTOFF}")


class RegistrationAttemptRepository(Repository):
    async def admit(
        self, client_address: str, *, max_per_window: int, window_seconds: int
    ) -> int | None:
        """Count this registration against its address: None when admitted (and recorded),
        else the seconds until one more would be. Call inside a transaction: the lock and
        the count must last until the insert commits."""
        async with self._connection("registration_attempts.admit") as conn:
            await conn.execute(LOCK_ADDRESS, client_address)
            seconds: int | None = await conn.fetchval(
                SECONDS_LIMITED, client_address, max_per_window, float(window_seconds)
            )
            if seconds is not None:
                return max(1, seconds)
            await conn.execute(INSERT, client_address)
        return None

    async def prune_batch(self, *, older_than_seconds: float, limit: int) -> int:
        """Delete up to `limit` attempts older than the cutoff; how many went."""
        async with self._connection("registration_attempts.prune") as conn:
            return await delete_batch(conn, PRUNE_BATCH, older_than_seconds, limit)
