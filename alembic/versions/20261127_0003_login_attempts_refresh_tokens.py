"""login attempts and refresh tokens

Revision ID: 20261127_0003
Revises: 20261127_0002
Create Date: 2026-11-27

login_attempts: every login attempt (time, account key, user if known, client address,
outcome), read by the lockout checks. refresh_tokens: opaque refresh tokens stored only as
SHA-256 hashes, grouped in families for rotation and reuse detection.

Downgrade drops: both tables, so every login record and every refresh token (all refresh
sessions end; access tokens stay valid until they expire).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261127_0003"
down_revision: str | None = "20261127_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column(
            "user_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="SET NULL", name="login_attempts_user_id_fkey"),
            nullable=True,
        ),
        sa.Column("client_address", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('pending', 'failure', 'locked', 'inactive', 'success')",
            name="login_attempts_outcome_check",
        ),
    )
    op.create_index("login_attempts_email_key_idx", "login_attempts", ["email_key", "attempted_at"])
    op.create_index(
        "login_attempts_client_address_idx", "login_attempts", ["client_address", "attempted_at"]
    )
    op.create_index("login_attempts_user_id_idx", "login_attempts", ["user_id"])

    op.create_table(
        "refresh_tokens",
        sa.Column(
            "id",
            postgresql.UUID(as_uuid=True),
            primary_key=True,
            server_default=sa.text("gen_random_uuid()"),
        ),
        sa.Column(
            "user_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="refresh_tokens_user_id_fkey"),
            nullable=False,
        ),
        sa.Column("family_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("refresh_tokens_token_hash_key", "refresh_tokens", ["token_hash"], unique=True)
    op.create_index("refresh_tokens_family_id_idx", "refresh_tokens", ["family_id"])
    op.create_index("refresh_tokens_user_id_idx", "refresh_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("refresh_tokens")
    op.drop_table("login_attempts")
