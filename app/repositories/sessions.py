"""SQL for sessions: opening one at login, the check every authenticated request makes, and
ending them. Every change to a session row is a conditional UPDATE of that row, so racing
refreshes and revocations queue on its row lock (docs/security.md, "Races end one way")."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from app.core.models import EndReason, Session, User
from app.core.tokens import AccessClaims
from app.repositories.base import Repository
from app.repositories.retention import CUTOFF, delete_batch, prune_batch_sql
from app.repositories.users import COLUMNS as USER_COLUMNS
from app.repositories.users import user_of

# What "live" means, everywhere: not ended, and within its absolute lifetime.
LIVE = "s.ended_at IS NULL AND s.expires_at > now()"

SESSION_COLUMNS = "s.id, s.created_at, s.last_used_at, s.user_agent, s.address"

OPEN = """
INSERT INTO sessions (user_id, expires_at, user_agent, address)
VALUES ($1, now() + $2::interval, $3, $4)
RETURNING id
"""

# The check every authenticated request makes: the user and the liveness of the session in
# one query (one round trip, one snapshot). The select list is the users repository's own,
# so a column added to the User comes along.
USER_OF_LIVE_SESSION = f"""
SELECT {", ".join(f"u.{column}" for column in USER_COLUMNS)}
FROM sessions s
JOIN users u ON u.id = s.user_id
WHERE s.id = $1 AND s.user_id = $2 AND {LIVE} AND u.is_active
"""

# A refresh locks its session's row with this UPDATE, held until it commits: a revocation
# (which UPDATEs the same row) waits for it and then ends the session it refreshed, or went
# first, and then this finds the session ended and matches nothing.
TOUCH_FOR_REFRESH = f"""
UPDATE sessions s SET last_used_at = now()
FROM users u
WHERE s.id = $1 AND u.id = s.user_id AND {LIVE} AND u.is_active
RETURNING s.user_id
"""

LIST_LIVE = f"""
SELECT {SESSION_COLUMNS}
FROM sessions s
WHERE s.user_id = $1 AND {LIVE}
ORDER BY s.created_at DESC, s.id
"""

END = f"""
UPDATE sessions s SET ended_at = now(), end_reason = $3
WHERE s.id = $1 AND s.user_id = $2 AND {LIVE}
"""

END_ALL_FOR_USER = """
UPDATE sessions SET ended_at = now(), end_reason = $2
WHERE user_id = $1 AND ended_at IS NULL
"""

# Logout: counts the user's token (found or not) while ending its session, so logging out
# twice with the same token is still a success.
END_FOR_LOGOUT = """
WITH token AS (
    SELECT session_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2
),
ended AS (
    UPDATE sessions SET ended_at = now(), end_reason = $3
    WHERE id IN (SELECT session_id FROM token) AND ended_at IS NULL
    RETURNING id
)
SELECT (SELECT count(*) FROM token) AS found, (SELECT count(*) FROM ended) AS ended
"""

# A replay: the token was spent before. Ending the session row (not sweeping token rows)
# also ends a token a concurrent refresh is minting: that refresh holds the row lock, so
# this waits for it and ends the session it just extended.
END_FOR_REPLAY = """
UPDATE sessions SET ended_at = now(), end_reason = $2
WHERE id IN (
    SELECT session_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL
)
  AND ended_at IS NULL
"""


def _count(status: str) -> int:
    return int(status.rpartition(" ")[2])


# Sessions ended, or past their absolute lifetime, before the cutoff; their refresh tokens
# go with them (ON DELETE CASCADE).
PRUNE_BATCH = prune_batch_sql("sessions", f"(ended_at < {CUTOFF} OR expires_at < {CUTOFF})")


class SessionRepository(Repository):
    async def open(
        self, user_id: UUID, *, max_age: timedelta, user_agent: str | None, address: str | None
    ) -> UUID:
        async with self._connection("sessions.open") as conn:
            session_id: UUID = await conn.fetchval(OPEN, user_id, max_age, user_agent, address)
        return session_id

    async def user_of_live_session(
        self, claims: AccessClaims, *, replica_ok: bool = False
    ) -> User | None:
        """The active user whose live session the claims name; None otherwise."""
        row = await self._read(
            "sessions.user_of_live_session",
            lambda conn: conn.fetchrow(USER_OF_LIVE_SESSION, claims.session_id, claims.user_id),
            replica_ok=replica_ok,
        )
        return None if row is None else user_of(row)

    async def touch_for_refresh(self, session_id: UUID) -> UUID | None:
        """Lock a live session of an active user for a refresh (to the end of the caller's
        transaction) and mark it used; its user id, or None if it may not refresh."""
        async with self._connection("sessions.touch_for_refresh") as conn:
            user_id: UUID | None = await conn.fetchval(TOUCH_FOR_REFRESH, session_id)
        return user_id

    async def list_live(self, user_id: UUID) -> list[Session]:
        async with self._connection("sessions.list_live") as conn:
            rows = await conn.fetch(LIST_LIVE, user_id)
        return [Session(**dict(row)) for row in rows]

    async def end(self, session_id: UUID, *, user_id: UUID, reason: EndReason) -> bool:
        """End one live session of the user's; False if they have no such live session."""
        async with self._connection("sessions.end") as conn:
            status: str = await conn.execute(END, session_id, user_id, reason)
        return _count(status) > 0

    async def prune_batch(self, *, older_than_seconds: float, limit: int) -> int:
        """Delete up to `limit` sessions that ended or expired before the cutoff."""
        async with self._connection("sessions.prune") as conn:
            return await delete_batch(conn, PRUNE_BATCH, older_than_seconds, limit)

    async def end_all_for_user(self, user_id: UUID, *, reason: str) -> int:
        """End every live session of the user; how many there were.

        Run it in the transaction that changed the user row, after that change: the row
        lock then orders it after any login that locked the row first (so it sees and ends
        that login's session), and a later login finds the changed row and fails.
        """
        async with self._connection("sessions.end_all_for_user") as conn:
            status: str = await conn.execute(END_ALL_FOR_USER, user_id, reason)
        return _count(status)

    async def end_of_token(
        self, token_hash: bytes, *, user_id: UUID, reason: EndReason
    ) -> bool | None:
        """End the session of one of the user's refresh tokens: True if this ended it, False
        if it had ended already, None if the user has no such token."""
        async with self._connection("sessions.end_of_token") as conn:
            row = await conn.fetchrow(END_FOR_LOGOUT, token_hash, user_id, reason)
        assert row is not None  # a SELECT of two counts: always one row
        if row["found"] == 0:
            return None
        return bool(row["ended"])

    async def end_of_spent_token(self, token_hash: bytes) -> bool:
        """End the session of an already-spent refresh token (a replay); True if it ended one."""
        async with self._connection("sessions.end_of_spent_token") as conn:
            status: str = await conn.execute(END_FOR_REPLAY, token_hash, EndReason.REPLAY)
        return _count(status) > 0
