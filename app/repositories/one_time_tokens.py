"""SQL for one_time_tokens (password reset, email verification), looked up by hash only.
A token is stored together with the mail that carries it (mail_outbox), in one statement.

Times are clock_timestamp(), not now(): now() is the transaction's start, and expiry and
the hourly throttles must use real time even inside a long transaction (the test suite's).
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from app.core.mail import MailContent
from app.core.one_time_tokens import TokenPurpose
from app.repositories.base import Repository
from app.repositories.retention import CUTOFF, delete_batch, prune_batch_sql

# Stores the token and queues the mail carrying it, in one statement, only while the hourly
# limits allow: per account always; per requesting address when one is given ($4). With no
# user ($1 NULL: a reset request for an unknown email) it runs all the same and writes
# nothing, so that request costs the same round trips as a real one. The caller holds the
# user's row lock (users.lock_active_by_email, a statement of its own so this one's
# snapshot sees every earlier request), so concurrent requests for one account count each
# other; the per-address limit counts across accounts and may be passed by the requests
# in flight at once (a soft bound).
ISSUE_WITH_MAIL = """
WITH issued AS (
    INSERT INTO one_time_tokens
        (user_id, purpose, token_hash, requested_from, created_at, expires_at)
    SELECT $1, $2::text, $3, $4::text, clock_timestamp(), clock_timestamp() + $5
    WHERE $1::uuid IS NOT NULL
      AND (SELECT count(*) FROM one_time_tokens
           WHERE user_id = $1 AND purpose = $2::text
             AND created_at > clock_timestamp() - interval '1 hour') < $6
      AND ($4::text IS NULL OR (SELECT count(*) FROM one_time_tokens
           WHERE requested_from = $4::text AND purpose = $2::text
             AND created_at > clock_timestamp() - interval '1 hour') < $7)
    RETURNING user_id
),
queued AS (
    INSERT INTO mail_outbox
        (recipient, subject, body_text, body_html, created_at, next_attempt_at)
    SELECT $8, $9, $10, $11, clock_timestamp(), clock_timestamp() FROM issued
    RETURNING id
)
SELECT count(*) FROM queued
"""

_LIVE = """
token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > clock_timestamp()
AND EXISTS (SELECT 1 FROM users u WHERE u.id = one_time_tokens.user_id AND u.is_active)
"""
FIND_LIVE = f"SELECT user_id FROM one_time_tokens WHERE {_LIVE}"
# One conditional UPDATE: of two confirms racing with one token, the row lock lets exactly
# one through; the other finds it spent.
SPEND = f"UPDATE one_time_tokens SET used_at = clock_timestamp() WHERE {_LIVE} RETURNING user_id"
SPEND_ALL_OF_USER = """
UPDATE one_time_tokens SET used_at = clock_timestamp()
WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL
"""
# Batched, so pruning never holds many row locks or one long transaction. A token spent or
# expired before the cutoff no longer counts toward any throttle once the cutoff is over an
# hour old.
# Deletion's first statement, before the user row is locked: a confirm locks its token, then
# the user; taking the tokens first keeps the two from waiting on each other in a cycle.
DELETE_ALL_OF_USER = "DELETE FROM one_time_tokens WHERE user_id = $1"
PRUNE_BATCH = prune_batch_sql("one_time_tokens", f"(expires_at < {CUTOFF} OR used_at < {CUTOFF})")


class OneTimeTokenRepository(Repository):
    async def issue_with_mail(
        self,
        *,
        user_id: UUID | None,
        purpose: TokenPurpose,
        token_hash: bytes,
        ttl: timedelta,
        recipient: str,
        content: MailContent,
        max_per_hour: int,
        requested_from: str | None = None,
        max_per_address: int = 0,
    ) -> bool:
        """Store a token and queue its mail unless a throttle says no (or there is no
        user); True if both were written."""
        async with self._connection("one_time_tokens.issue_with_mail") as conn:
            queued: int = await conn.fetchval(
                ISSUE_WITH_MAIL,
                user_id,
                purpose.value,
                token_hash,
                requested_from,
                ttl,
                max_per_hour,
                max_per_address,
                recipient,
                content.subject,
                content.text,
                content.html,
            )
        return queued > 0

    async def find_live(self, token_hash: bytes, purpose: TokenPurpose) -> UUID | None:
        """Whose live token this is, without spending it (None when not live)."""
        async with self._connection("one_time_tokens.find_live") as conn:
            user_id: UUID | None = await conn.fetchval(FIND_LIVE, token_hash, purpose.value)
        return user_id

    async def spend(self, token_hash: bytes, purpose: TokenPurpose) -> UUID | None:
        """Mark a live token used and say whose it was; None when it is not live."""
        async with self._connection("one_time_tokens.spend") as conn:
            user_id: UUID | None = await conn.fetchval(SPEND, token_hash, purpose.value)
        return user_id

    async def spend_all_of_user(self, user_id: UUID, purpose: TokenPurpose) -> None:
        async with self._connection("one_time_tokens.spend_all_of_user") as conn:
            await conn.execute(SPEND_ALL_OF_USER, user_id, purpose.value)

    async def delete_all_of_user(self, user_id: UUID) -> None:
        async with self._connection("one_time_tokens.delete_all_of_user") as conn:
            await conn.execute(DELETE_ALL_OF_USER, user_id)

    async def prune_batch(self, *, older_than_seconds: float, limit: int) -> int:
        """Delete up to `limit` tokens spent or expired before the cutoff; how many went."""
        async with self._connection("one_time_tokens.prune") as conn:
            return await delete_batch(conn, PRUNE_BATCH, older_than_seconds, limit)
