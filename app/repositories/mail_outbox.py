"""SQL for mail_outbox, the transactional outbox.

A mail is inserted by the transaction that causes it. Workers claim due rows with FOR UPDATE
SKIP LOCKED (concurrent claims never take the same row) and a lease: the claim moves
next_attempt_at one lease ahead, so a row whose worker died falls due again on its own.
Marking a row sent or failed only works for the worker still holding the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from app.core.mail import MailContent, OutboxMail
from app.repositories.base import Repository
from app.repositories.retention import CUTOFF, delete_batch, prune_batch_sql

ENQUEUE = """
INSERT INTO mail_outbox (recipient, subject, body_text, body_html, created_at, next_attempt_at)
VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())
RETURNING id
"""

# The row locks of the inner SELECT are held until this statement commits; a row another
# worker claimed meanwhile is re-checked against the WHERE clause (next_attempt_at moved
# ahead), so it is not taken twice.
CLAIM_DUE = """
WITH due AS (
    SELECT id FROM mail_outbox
    WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE mail_outbox m
SET claimed_by = $1, next_attempt_at = clock_timestamp() + $3
FROM due
WHERE m.id = due.id
RETURNING m.id, m.recipient, m.subject, m.body_text, m.body_html, m.attempts, m.created_at
"""

MARK_SENT = """
UPDATE mail_outbox
SET status = 'sent', sent_at = clock_timestamp(), attempts = attempts + 1, claimed_by = NULL,
    last_error = NULL
WHERE id = $1 AND claimed_by = $2
RETURNING extract(epoch FROM sent_at - created_at)::float8
"""

# $4: the backoff before the next attempt; after $5 attempts the mail is dead.
MARK_FAILED = """
UPDATE mail_outbox
SET attempts = attempts + 1,
    status = CASE WHEN attempts + 1 >= $5 THEN 'dead' ELSE 'pending' END,
    next_attempt_at = clock_timestamp() + $4,
    claimed_by = NULL,
    last_error = $3
WHERE id = $1 AND claimed_by = $2
RETURNING status
"""

RELEASE_CLAIMS = """
UPDATE mail_outbox SET claimed_by = NULL, next_attempt_at = clock_timestamp()
WHERE claimed_by = $1 AND status = 'pending'
"""

STATS = """
SELECT count(*) AS depth,
       coalesce(extract(epoch FROM clock_timestamp() - min(created_at)
                FILTER (WHERE next_attempt_at <= clock_timestamp())), 0)::float8 AS oldest_due
FROM mail_outbox
WHERE status = 'pending'
"""

# Delivered mails only: dead ones stay for an operator to look at.
# A deleted user's mails, sent or not: the recipient and the body hold the address. A
# sequential scan of the outbox, which retention keeps short.
DISCARD_FOR_RECIPIENT = "DELETE FROM mail_outbox WHERE lower(recipient) = lower($1)"
PRUNE_BATCH = prune_batch_sql("mail_outbox", f"status = 'sent' AND sent_at < {CUTOFF}")


@dataclass(frozen=True, slots=True)
class OutboxStats:
    depth: int  # pending mails, due or waiting for a retry or claimed
    oldest_due_seconds: float  # age of the oldest mail that is due now (0: none)


class MailOutboxRepository(Repository):
    async def enqueue(self, recipient: str, content: MailContent) -> int:
        async with self._connection("mail_outbox.enqueue") as conn:
            mail_id: int = await conn.fetchval(
                ENQUEUE, recipient, content.subject, content.text, content.html
            )
        return mail_id

    async def claim_due(self, worker_id: UUID, *, limit: int, lease: timedelta) -> list[OutboxMail]:
        async with self._connection("mail_outbox.claim_due") as conn:
            rows = await conn.fetch(CLAIM_DUE, worker_id, limit, lease)
        return [OutboxMail(**dict(row)) for row in rows]

    async def mark_sent(self, mail_id: int, worker_id: UUID) -> float | None:
        """Seconds from queueing to sent, or None when the claim was lost (its lease ran out
        and another worker took the row: the mail may go out twice)."""
        async with self._connection("mail_outbox.mark_sent") as conn:
            latency: float | None = await conn.fetchval(MARK_SENT, mail_id, worker_id)
        return latency

    async def mark_failed(
        self, mail_id: int, worker_id: UUID, *, error: str, retry_in: timedelta, max_attempts: int
    ) -> str | None:
        """Count a failed attempt; the row's new status ('pending' or 'dead'), or None when
        the claim was lost."""
        async with self._connection("mail_outbox.mark_failed") as conn:
            status: str | None = await conn.fetchval(
                MARK_FAILED, mail_id, worker_id, error, retry_in, max_attempts
            )
        return status

    async def release_claims(self, worker_id: UUID) -> int:
        """Hand every row this worker still holds back, due at once (clean shutdown)."""
        async with self._connection("mail_outbox.release_claims") as conn:
            status: str = await conn.execute(RELEASE_CLAIMS, worker_id)
        return int(status.rpartition(" ")[2])

    async def stats(self) -> OutboxStats:
        async with self._connection("mail_outbox.stats") as conn:
            row = await conn.fetchrow(STATS)
        assert row is not None  # an aggregate without GROUP BY: always one row
        return OutboxStats(depth=row["depth"], oldest_due_seconds=row["oldest_due"])

    async def discard_for_recipient(self, recipient: str) -> None:
        async with self._connection("mail_outbox.discard_for_recipient") as conn:
            await conn.execute(DISCARD_FOR_RECIPIENT, recipient)

    async def prune_batch(self, *, older_than_seconds: float, limit: int) -> int:
        """Delete up to `limit` mails delivered before the cutoff; how many went."""
        async with self._connection("mail_outbox.prune") as conn:
            return await delete_batch(conn, PRUNE_BATCH, older_than_seconds, limit)
