"""users.is_admin, the indexes admin listing pages through, audit_events

Revision ID: 20261202_0007
Revises: 20261202_0006
Create Date: 2026-12-02

users.is_admin: false for everyone, existing users included; only the CLI grants it
(`auth-service users create --admin`, `users set-admin`), no HTTP route does.

users_created_at_id_idx: the admin listing pages by keyset on (created_at, id).
users_email_prefix_idx: lower(email) with text_pattern_ops, so an email prefix filter is a
btree range scan in byte order (`~>=~ prefix AND ~<~ successor`) whatever the database's
collation.

audit_events: append-only. No foreign keys: an event outlives the user it is about (a deleted
user's events stay, anonymised; docs/security.md). `id` orders the trail (newest first).

Downgrade drops: audit_events (the whole audit trail is lost), both indexes, and users.is_admin
(every admin becomes a plain user again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0007"
down_revision: str | None = "20261202_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.create_index("users_created_at_id_idx", "users", ["created_at", "id"])
    op.create_index("users_email_prefix_idx", "users", [sa.text("lower(email) text_pattern_ops")])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("actor_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("address", sa.String(128), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.create_index("audit_events_user_id_idx", "audit_events", ["user_id", "id"])
    op.create_index("audit_events_type_idx", "audit_events", ["type", "id"])
    op.create_index("audit_events_at_idx", "audit_events", ["at"], postgresql_using="brin")


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_index("users_email_prefix_idx", table_name="users")
    op.drop_index("users_created_at_id_idx", table_name="users")
    op.drop_column("users", "is_admin")
