"""sessions: a login is a row, and the refresh-token family belongs to it

Revision ID: 20261202_0004
Revises: 20261127_0003
Create Date: 2026-12-02

sessions: one row per login (created_at, last_used_at, the absolute limit expires_at, the
client's user_agent and address, and when and why it ended). Every authenticated request
joins it, so ending the row ends the session's access and refresh tokens at once.
refresh_tokens.session_id replaces refresh_tokens.family_id: the family is the session.

Existing refresh tokens BECOME SESSIONS: each family becomes a session whose id is the old
family_id. A family with a token that could still refresh is live, with expires_at its
first token's created_at plus 30 days (SESSION_MAX_AGE_DAYS' default; a migration cannot
read the server's settings). Any other family becomes an ended session (end_reason
'migrated'), kept for the audit trail like any ended one. So nobody is logged out by the
upgrade: access tokens issued before it carry no `sid` and get 401, and the client's next
refresh, with its old refresh token, returns a pair that does.

Downgrade drops: the sessions table and refresh_tokens.session_id (family_id comes back,
equal to the old session id). Refresh tokens of sessions that had ended are marked revoked
first, so a downgrade revives no ended session; user_agent, address, last_used_at and the
end reasons are lost.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0004"
down_revision: str | None = "20261127_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A family could still refresh when one of its tokens is unspent, unrevoked and unexpired.
FAMILIES_TO_SESSIONS = """
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ended_at, end_reason)
SELECT family_id, user_id, min(created_at), max(created_at),
       min(created_at) + interval '30 days',
       CASE WHEN live THEN NULL ELSE now() END,
       CASE WHEN live THEN NULL ELSE 'migrated' END
FROM (
    SELECT family_id, user_id, created_at,
           bool_or(used_at IS NULL AND revoked_at IS NULL AND expires_at > now())
               OVER (PARTITION BY family_id) AS live
    FROM refresh_tokens
) AS tokens
GROUP BY family_id, user_id, live
"""

REVOKE_TOKENS_OF_ENDED_SESSIONS = """
UPDATE refresh_tokens t SET revoked_at = now()
FROM sessions s
WHERE s.id = t.session_id AND s.ended_at IS NOT NULL AND t.revoked_at IS NULL
"""


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column(
            "id",
            postgresql.UUID(as_uuid=True),
            primary_key=True,
            server_default=sa.text("gen_random_uuid()"),
        ),
        sa.Column(
            "user_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="sessions_user_id_fkey"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "last_used_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("address", sa.String(128), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (end_reason IS NULL)", name="sessions_ended_check"
        ),
    )
    op.create_index("sessions_user_id_idx", "sessions", ["user_id"])
    # Retention (db prune): ended sessions, and sessions past their absolute lifetime.
    op.create_index(
        "sessions_ended_at_idx",
        "sessions",
        ["ended_at"],
        postgresql_where=sa.text("ended_at IS NOT NULL"),
    )
    op.create_index("sessions_expires_at_idx", "sessions", ["expires_at"])

    op.add_column(
        "refresh_tokens", sa.Column("session_id", postgresql.UUID(as_uuid=True), nullable=True)
    )
    op.execute(FAMILIES_TO_SESSIONS)
    op.execute("UPDATE refresh_tokens SET session_id = family_id")
    op.alter_column("refresh_tokens", "session_id", nullable=False)
    op.create_foreign_key(
        "refresh_tokens_session_id_fkey",
        "refresh_tokens",
        "sessions",
        ["session_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_index("refresh_tokens_family_id_idx", table_name="refresh_tokens")
    op.drop_column("refresh_tokens", "family_id")
    op.create_index("refresh_tokens_session_id_idx", "refresh_tokens", ["session_id"])


def downgrade() -> None:
    op.execute(REVOKE_TOKENS_OF_ENDED_SESSIONS)
    op.add_column(
        "refresh_tokens", sa.Column("family_id", postgresql.UUID(as_uuid=True), nullable=True)
    )
    op.execute("UPDATE refresh_tokens SET family_id = session_id")
    op.alter_column("refresh_tokens", "family_id", nullable=False)
    op.create_index("refresh_tokens_family_id_idx", "refresh_tokens", ["family_id"])
    op.drop_index("refresh_tokens_session_id_idx", table_name="refresh_tokens")
    op.drop_constraint("refresh_tokens_session_id_fkey", "refresh_tokens", type_="foreignkey")
    op.drop_column("refresh_tokens", "session_id")
    op.drop_table("sessions")
