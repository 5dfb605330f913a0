"""The schema, described once as SQLAlchemy Core metadata.

Alembic compares migrations against it (autogenerate, `alembic check`, `auth-service db
check`). The application itself runs raw SQL over asyncpg and never imports SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
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

# Every login attempt, read by the lockout checks. email_key is lower(trimmed email), so
# unknown emails are counted exactly like real accounts. A row starts as 'pending' (counted)
# before the password is checked, which bounds concurrent guesses.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("attempted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("email_key", String(320), nullable=False),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="SET NULL", name="login_attempts_user_id_fkey"),
        nullable=True,
    ),
    Column("client_address", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),
    CheckConstraint(
        "outcome IN ('pending', 'failure', 'locked', 'inactive', 'success')",
        name="login_attempts_outcome_check",
    ),
)
Index("login_attempts_email_key_idx", login_attempts.c.email_key, login_attempts.c.attempted_at)
Index(
    "login_attempts_client_address_idx",
    login_attempts.c.client_address,
    login_attempts.c.attempted_at,
)
Index("login_attempts_user_id_idx", login_attempts.c.user_id)

# One row per login. Every authenticated request joins it (app/repositories/sessions.py),
# so ending the row ends the session's access and refresh tokens at once. expires_at is the
# absolute limit (SESSION_MAX_AGE_DAYS from login), however often the session rotates.
sessions = Table(
    "sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE", name="sessions_user_id_fkey"),
        nullable=False,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("user_agent", String(512), nullable=True),
    Column("address", String(128), nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("end_reason", String(32), nullable=True),
    CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="sessions_ended_check"),
)
Index("sessions_user_id_idx", sessions.c.user_id)

# Opaque refresh tokens, stored only as SHA-256 hashes; a session's tokens are its chain of
# rotations (the family), all ended with the session on logout or when a spent token is
# presented again.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE", name="refresh_tokens_user_id_fkey"),
        nullable=False,
    ),
    Column(
        "session_id",
        UUID(as_uuid=True),
        ForeignKey("sessions.id", ondelete="CASCADE", name="refresh_tokens_session_id_fkey"),
        nullable=False,
    ),
    Column("token_hash", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
Index("refresh_tokens_token_hash_key", refresh_tokens.c.token_hash, unique=True)
Index("refresh_tokens_session_id_idx", refresh_tokens.c.session_id)
Index("refresh_tokens_user_id_idx", refresh_tokens.c.user_id)
