"""SQL for login_attempts: recording attempts and deciding lockouts.

An attempt is inserted as 'pending' (and committed) before the password is checked, then
counted together with every other pending or failed attempt. Of K concurrent attempts the
one inserted last sees all K, so no burst gets more than the limit through, on any number of
workers. The lockout is read from this table only: no process-local state.
"""

from __future__ import annotations

from uuid import UUID

from app.core.models import LoginOutcome
from app.repositories.base import Repository

# lower(): the same case folding as the users table's unique index on lower(email).
# attempted_at is clock_timestamp() like the window checks below: now() is the transaction's
# start, which inside a long-lived outer transaction (the test suite's) is long past.
INSERT_PENDING = """
INSERT INTO login_attempts (email_key, user_id, client_address, outcome, attempted_at)
VALUES (lower($1), $2, $3, 'pending', clock_timestamp())
RETURNING id
"""

# Seconds until attempt $1 may go ahead, or NULL when it may go ahead now.
# An account is locked while at least $2 other attempts on its email key are pending or
# failed within the window and after its last success (a success resets the count); an
# address the same with $3, without the reset (one good account must not launder a
# credential-stuffing run). The lock lifts when the $2-th (or $3-th) most recent of those
# attempts leaves the window. clock_timestamp(), not now(): real time even inside a long
# transaction.
SECONDS_LOCKED = """
WITH me AS (
    SELECT id, email_key, client_address FROM login_attempts WHERE id = $1
),
last_success AS (
    SELECT coalesce(max(a.id), 0) AS id
    FROM login_attempts a JOIN me ON a.email_key = me.email_key
    WHERE a.outcome = 'success'
),
account AS (
    SELECT a.attempted_at
    FROM login_attempts a JOIN me ON a.email_key = me.email_key, last_success
    WHERE a.id <> me.id
      AND a.id > last_success.id
      AND a.outcome IN ('pending', 'failure')
      AND a.attempted_at > clock_timestamp() - make_interval(secs => $4)
    ORDER BY a.attempted_at DESC
    OFFSET $2 - 1 LIMIT 1
),
address AS (
    SELECT a.attempted_at
    FROM login_attempts a JOIN me ON a.client_address = me.client_address
    WHERE a.id <> me.id
      AND a.outcome IN ('pending', 'failure')
      AND a.attempted_at > clock_timestamp() - make_interval(secs => $4)
    ORDER BY a.attempted_at DESC
    OFFSET $3 - 1 LIMIT 1
)
SELECT ceil(extract(epoch FROM
    greatest((SELECT attempted_at FROM account), (SELECT attempted_at FROM address))
    + make_interval(secs => $4) - clock_timestamp()
))::int
"""

FINISH = "UPDATE login_attempts SET outcome = $2 WHERE id = $1"


class LoginAttemptRepository(Repository):
    async def start(self, *, email: str, user_id: UUID | None, client_address: str) -> int:
        """Record a pending attempt (no password, ever) and return its id."""
        async with self._connection("login_attempts.start") as conn:
            attempt_id: int = await conn.fetchval(INSERT_PENDING, email, user_id, client_address)
        return attempt_id

    async def seconds_locked(
        self,
        attempt_id: int,
        *,
        max_failures: int,
        max_failures_per_address: int,
        window_seconds: int,
    ) -> int | None:
        async with self._connection("login_attempts.seconds_locked") as conn:
            seconds: int | None = await conn.fetchval(
                SECONDS_LOCKED,
                attempt_id,
                max_failures,
                max_failures_per_address,
                float(window_seconds),
            )
        return None if seconds is None else max(1, seconds)

    async def finish(self, attempt_id: int, outcome: LoginOutcome) -> None:
        async with self._connection("login_attempts.finish") as conn:
            await conn.execute(FINISH, attempt_id, outcome.value)
