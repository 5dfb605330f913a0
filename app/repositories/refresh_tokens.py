"""SQL for refresh_tokens. Tokens are looked up by their SHA-256 hash only.

Whether a token's session is live is the session row's business (repositories/sessions.py):
ending a session needs no sweep over its tokens, which could miss one being inserted.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.repositories.base import Repository
from app.repositories.retention import CUTOFF, delete_batch, prune_batch_sql

INSERT = """
INSERT INTO refresh_tokens (user_id, session_id, token_hash, expires_at)
VALUES ($1, $2, $3, $4)
"""

# Which session a token belongs to, without a lock: a refresh locks the session row first
# and the token row second, the order deletion takes them in too (docs/security.md).
SESSION_OF = "SELECT session_id FROM refresh_tokens WHERE token_hash = $1"

# Spending is one conditional UPDATE: of two concurrent refreshes with the same token, the
# row lock lets exactly one through; the other sees it spent (and is treated as reuse).
SPEND = """
UPDATE refresh_tokens SET used_at = now()
WHERE token_hash = $1
  AND used_at IS NULL
  AND revoked_at IS NULL
  AND expires_at > clock_timestamp()
RETURNING session_id
"""

# Retention: a token expired or revoked longer ago than the cutoff can never be spent again.
# Once pruned, its replay gets the same 401 but no longer revokes its family: only that
# late alarm is lost (docs/security.md).
PRUNE_BATCH = prune_batch_sql(
    "refresh_tokens",
    f"(expires_at < {CUTOFF} OR revoked_at < {CUTOFF})",
)


class RefreshTokenRepository(Repository):
    async def create(
        self, *, user_id: UUID, session_id: UUID, token_hash: bytes, expires_at: datetime
    ) -> None:
        async with self._connection("refresh_tokens.create") as conn:
            await conn.execute(INSERT, user_id, session_id, token_hash, expires_at)

    async def session_of(self, token_hash: bytes) -> UUID | None:
        async with self._connection("refresh_tokens.session_of") as conn:
            session_id: UUID | None = await conn.fetchval(SESSION_OF, token_hash)
        return session_id

    async def spend(self, token_hash: bytes) -> UUID | None:
        """Mark an unspent, unexpired token used; its session id, or None if it is not."""
        async with self._connection("refresh_tokens.spend") as conn:
            session_id: UUID | None = await conn.fetchval(SPEND, token_hash)
        return session_id

    async def prune_batch(self, *, older_than_seconds: float, limit: int) -> int:
        """Delete up to `limit` tokens expired or revoked before the cutoff; how many went."""
        async with self._connection("refresh_tokens.prune") as conn:
            return await delete_batch(conn, PRUNE_BATCH, older_than_seconds, limit)
