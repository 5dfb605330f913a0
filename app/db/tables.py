"""The schema, described once as SQLAlchemy Core metadata.

Alembic compares migrations against it (autogenerate, `alembic check`, `auth-service db
check`). The application itself runs raw SQL over asyncpg and never imports SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("email", String(320), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("full_name", String(200), nullable=True),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_login", DateTime(timezone=True), nullable=True),
)

# Emails are stored as given and compared case-insensitively: unique on lower(email).
Index("users_email_lower_key", func.lower(users.c.email), unique=True)
