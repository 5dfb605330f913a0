"""SQL for login_attempts: recording attempts and deciding lockouts.

An attempt is inserted as 'pending' (and committed) before the password is checked, then
counted together with every other pending or failed attempt. Of K concurrent attempts the
one inserted last sees all K, so no burst gets more than the limit through, on any number of
workers. The lockout is read from this table only: no process-local state.

Known clients (ASVS 5.0 6.1.1, no malicious lockout): an address that logged in to an
account successfully within the known-client window counts only its own failures on that
account, so failures from elsewhere never lock it out. Every other address counts every
failure on the account. docs/security.md says why the address is the client's identity.

Every read is bounded by its window and served by a partial index on exactly the rows it
counts (alembic revision 20261202_0005): an attacker who piles up rows for one key (old
failures, locked attempts) adds nothing to what these queries read.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from app.core.models import LoginOutcome
from app.repositories.base import Repository
from app.repositories.retention import CUTOFF, delete_batch, prune_batch_sql

# A row's outcome until its attempt ends: counted like a bad credential, so concurrent
# guesses cannot slip past the lockout. A state, not a LoginOutcome: no attempt ends so.
PENDING = "pending"
# The rows a lockout counts: exactly the predicate of the partial indexes
# login_attempts_*_counted_idx (app/db/tables.py). The planner uses an index only for a
# query whose WHERE implies the index's predicate, so the two must change together
# (tests/migrations/test_login_outcomes.py).
COUNTED = f"outcome IN ('{PENDING}', '{LoginOutcome.BAD_CREDENTIALS}')"

# attempted_at is clock_timestamp() like the window checks below: now() is the transaction's
# start, which inside a long-lived outer transaction (the test suite's) is long past.
# $1 is already normalised (app.core.emails); lower() stays as a no-op safety net.
INSERT_PENDING = f"""
INSERT INTO login_attempts (email_key, user_id, client_address, outcome, attempted_at)
VALUES (lower($1), $2, $3, '{PENDING}', clock_timestamp())
RETURNING id
"""

# Seconds until attempt $1 may go ahead, or NULL when it may go ahead now.
# $2 account limit, $3 address limit, $4 window seconds, $5 known-client seconds.
# - known: this address succeeded on this account within $5 (login_attempts_success_idx);
# - account: a known client counts its own failures since its own last success; anyone else
#   counts every failure on the account in the window. So the owner's success does not
#   reset an attacker's count, and the attacker's failures do not lock the owner out;
# - address: every failure from the address in the window, across accounts, never reset
#   (one good account must not launder a credential-stuffing run).
# Locked while $2 (or $3) such attempts other than this one exist; the lock lifts when the
# $2-th (or $3-th) most recent leaves the window.
# The key, the address and the cutoffs are scalar subqueries on purpose: each is computed
# once (an InitPlan) and becomes an index condition, so every scan is a range of one
# partial index bounded by its window. Written as joins, or with clock_timestamp() inline
# (volatile: never an index condition), the window was a filter and a key inflated with old
# rows was read whole (tests/repositories/test_lockout_queries.py). clock_timestamp(), not
# now(): real time even inside a long transaction.
SECONDS_LOCKED = f"""
WITH me AS MATERIALIZED (
    SELECT email_key, client_address FROM login_attempts WHERE id = $1
),
own_success AS MATERIALIZED (
    SELECT max(attempted_at) AS at
    FROM login_attempts
    WHERE email_key = (SELECT email_key FROM me)
      AND client_address = (SELECT client_address FROM me)
      AND outcome = '{LoginOutcome.SUCCESS}'
      AND attempted_at > (SELECT clock_timestamp() - make_interval(secs => $5))
),
account AS (
    SELECT attempted_at
    FROM login_attempts
    WHERE email_key = (SELECT email_key FROM me)
      AND {COUNTED}
      AND attempted_at > (SELECT clock_timestamp() - make_interval(secs => $4))
      AND id <> $1
      AND ((SELECT at FROM own_success) IS NULL
           OR (client_address = (SELECT client_address FROM me)
               AND attempted_at > (SELECT at FROM own_success)))
    ORDER BY attempted_at DESC
    OFFSET $2 - 1 LIMIT 1
),
address AS (
    SELECT attempted_at
    FROM login_attempts
    WHERE client_address = (SELECT client_address FROM me)
      AND {COUNTED}
      AND attempted_at > (SELECT clock_timestamp() - make_interval(secs => $4))
      AND id <> $1
    ORDER BY attempted_at DESC
    OFFSET $3 - 1 LIMIT 1
)
SELECT ceil(extract(epoch FROM
    greatest((SELECT attempted_at FROM account), (SELECT attempted_at FROM address))
    + make_interval(secs => $4) - clock_timestamp()
))::int
"""

FINISH = "UPDATE login_attempts SET outcome = $2 WHERE id = $1"
# An attempt whose password was never checked (the hashing queue was full) is not a guess.
DISCARD = "DELETE FROM login_attempts WHERE id = $1"

# A deleted user's attempts stay for the lockout's arithmetic until pruned, but say nothing
# about the person: no email, no address, no user id. "deleted" is neither a normalised email
# (no "@") nor an address, so no lockout read ever counts these rows again.
ANONYMOUS = "deleted"
ANONYMISE_FOR_USER = """
UPDATE login_attempts SET email_key = $3, client_address = $3, user_id = NULL
WHERE user_id = $1 OR email_key = lower($2)
"""

# Retention (login_attempts_attempted_at_idx).
PRUNE_BATCH = prune_batch_sql("login_attempts", f"attempted_at < {CUTOFF}")


class LoginAttemptRepository(Repository):
    async def start(self, *, email: str, user_id: UUID | None, client_address: str) -> int:
        """Record a pending attempt (no password, ever) and return its id."""
        async with self._connection("login_attempts.start") as conn:
            try:
                attempt_id: int = await conn.fetchval(
                    INSERT_PENDING, email, user_id, client_address
                )
            except asyncpg.ForeignKeyViolationError:  # the user was deleted since looked up
                attempt_id = await conn.fetchval(INSERT_PENDING, email, None, client_address)
        return attempt_id

    async def seconds_locked(
        self,
        attempt_id: int,
        *,
        max_failures: int,
        max_failures_per_address: int,
        window_seconds: int,
        known_client_seconds: int,
    ) -> int | None:
        async with self._connection("login_attempts.seconds_locked") as conn:
            seconds: int | None = await conn.fetchval(
                SECONDS_LOCKED,
                attempt_id,
                max_failures,
                max_failures_per_address,
                float(window_seconds),
                float(known_client_seconds),
            )
        return None if seconds is None else max(1, seconds)

    async def finish(self, attempt_id: int, outcome: LoginOutcome) -> None:
        async with self._connection("login_attempts.finish") as conn:
            await conn.execute(FINISH, attempt_id, outcome.value)

    async def discard(self, attempt_id: int) -> None:
        async with self._connection("login_attempts.discard") as conn:
            await conn.execute(DISCARD, attempt_id)

    async def prune_batch(self, *, older_than_seconds: float, limit: int) -> int:
        """Delete up to `limit` attempts older than the cutoff; how many went."""
        async with self._connection("login_attempts.prune") as conn:
            return await delete_batch(conn, PRUNE_BATCH, older_than_seconds, limit)

    async def anonymise_for_user(self, user_id: UUID, *, email: str) -> None:
        """Strip the email and address from every attempt on this user's account (by id, or
        by its email before the account existed or while it was looked up)."""
        async with self._connection("login_attempts.anonymise_for_user") as conn:
            await conn.execute(ANONYMISE_FOR_USER, user_id, email, ANONYMOUS)
