"""SQL for refresh_tokens. Tokens are looked up by their SHA-256 hash only."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from app.core.models import RefreshGrant
from app.repositories.base import Repository
from app.repositories.retention import CUTOFF, delete_batch, prune_batch_sql

INSERT = """
INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
VALUES ($1, $2, $3, $4)
"""

# Spending is one conditional UPDATE: of two concurrent refreshes with the same token, the
# row lock lets exactly one through; the other sees it spent (and is treated as reuse).
SPEND = """
UPDATE refresh_tokens SET used_at = now()
WHERE token_hash = $1
  AND used_at IS NULL
  AND revoked_at IS NULL
  AND expires_at > clock_timestamp()
RETURNING user_id, family_id
"""

REVOKE_FAMILY_IF_SPENT = """
UPDATE refresh_tokens SET revoked_at = now()
WHERE family_id IN (
    SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL
)
  AND revoked_at IS NULL
"""

# Counts the token's own row (found or not) while revoking its family.
REVOKE_OWN_FAMILY = """
WITH token AS (
    SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2
),
revoked AS (
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE family_id IN (SELECT family_id FROM token) AND revoked_at IS NULL
)
SELECT count(*) FROM token
"""

REVOKE_ALL_OF_USER = """
UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL
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
        self, *, user_id: UUID, family_id: UUID, token_hash: bytes, expires_at: datetime
    ) -> None:
        async with self._connection("refresh_tokens.create") as conn:
            await conn.execute(INSERT, user_id, family_id, token_hash, expires_at)

    async def spend(self, token_hash: bytes) -> RefreshGrant | None:
        """Mark a valid token used and say whose it was; None if it is not valid now."""
        async with self._connection("refresh_tokens.spend") as conn:
            row = await conn.fetchrow(SPEND, token_hash)
        return None if row is None else RefreshGrant(**dict(row))

    async def revoke_family_if_spent(self, token_hash: bytes) -> bool:
        """Revoke the family of an already-spent token (a replay); True if that revoked any."""
        async with self._connection("refresh_tokens.revoke_family_if_spent") as conn:
            status: str = await conn.execute(REVOKE_FAMILY_IF_SPENT, token_hash)
        return status != "UPDATE 0"

    async def revoke_family_of(self, token_hash: bytes, *, user_id: UUID) -> bool:
        """Revoke the family of one of the user's tokens; False if the user has no such token."""
        async with self._connection("refresh_tokens.revoke_family_of") as conn:
            found: int = await conn.fetchval(REVOKE_OWN_FAMILY, token_hash, user_id)
        return found > 0

    async def revoke_all_of_user(self, user_id: UUID) -> int:
        async with self._connection("refresh_tokens.revoke_all_of_user") as conn:
            status: str = await conn.execute(REVOKE_ALL_OF_USER, user_id)
        return int(status.rpartition(" ")[2])

    async def prune_batch(self, *, older_than_seconds: float, limit: int) -> int:
        """Delete up to `limit` tokens expired or revoked before the cutoff; how many went."""
        async with self._connection("refresh_tokens.prune") as conn:
            return await delete_batch(conn, PRUNE_BATCH, older_than_seconds, limit)
