"""one-time tokens, mail outbox, users.email_verified

Revision ID: 20261202_0006
Revises: 20261202_0005
Create Date: 2026-12-02

one_time_tokens: password-reset and email-verification tokens, stored only as SHA-256
hashes, single use, with an expiry. mail_outbox: mails written in the same transaction as
the change that causes them, delivered by the outbox worker. users.email_verified: false for
every new user until the address is confirmed.

Existing users are migrated as UNVERIFIED (email_verified = false): nothing so far proved
their addresses. With REQUIRE_VERIFIED_EMAIL=true they cannot log in until they confirm one
(POST /api/v1/users/me/verify-email needs a login, so they use a password reset, which also
verifies the address), so turn that setting on only after they had the chance.

Downgrade drops: both tables (every outstanding reset or verification link stops working,
and every mail not yet delivered is lost) and users.email_verified.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0006"
down_revision: str | None = "20261202_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )

    op.create_table(
        "one_time_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column(
            "user_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="one_time_tokens_user_id_fkey"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("requested_from", sa.String(128), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("purpose IN ('reset', 'verify')", name="one_time_tokens_purpose_check"),
    )
    op.create_index(
        "one_time_tokens_token_hash_key", "one_time_tokens", ["token_hash"], unique=True
    )
    op.create_index(
        "one_time_tokens_user_id_idx", "one_time_tokens", ["user_id", "purpose", "created_at"]
    )
    op.create_index(
        "one_time_tokens_requested_from_idx", "one_time_tokens", ["requested_from", "created_at"]
    )
    op.create_index("one_time_tokens_expires_at_idx", "one_time_tokens", ["expires_at"])

    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("claimed_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'dead')", name="mail_outbox_status_check"
        ),
    )
    op.create_index(
        "mail_outbox_due_idx",
        "mail_outbox",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("mail_outbox_created_at_idx", "mail_outbox", ["created_at"])


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.drop_table("one_time_tokens")
    op.drop_column("users", "email_verified")
