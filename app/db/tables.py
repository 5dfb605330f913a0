"""The schema, described once as SQLAlchemy Core metadata.

Alembic compares migrations against it (autogenerate, `alembic check`), and `auth-service db
check` builds it in a scratch schema to compare its catalog, CHECK expressions and index
predicates included. The application itself runs raw SQL over asyncpg and never imports
SQLAlchemy.
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
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

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
    Column("email_verified", Boolean, nullable=False, server_default=text("false")),
    Column("is_admin", Boolean, nullable=False, server_default=text("false")),
)

# Emails are stored as given and compared case-insensitively: unique on lower(email).
Index("users_email_lower_key", func.lower(users.c.email), unique=True)
# Admin listing: keyset pages on (created_at, id), and an email prefix filter as a btree
# range in byte order (text_pattern_ops: the operators ~>=~ and ~<~), whatever the
# database's collation.
Index("users_created_at_id_idx", users.c.created_at, users.c.id)
Index(
    "users_email_prefix_idx",
    func.lower(users.c.email).label("email_key"),
    postgresql_ops={"email_key": "text_pattern_ops"},
)

# Every login attempt, read by the lockout checks. email_key is lower(trimmed email), so
# unknown emails are counted exactly like real accounts. A row starts as 'pending' (counted)
# before the password is checked, which bounds concurrent guesses; it ends as one of the
# app.core.models.LoginOutcome values except 'unavailable' (metric-only: no row records it).
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
        "outcome IN ('pending', 'bad_credentials', 'locked', 'inactive', 'success')",
        name="login_attempts_outcome_check",
    ),
)
Index("login_attempts_user_id_idx", login_attempts.c.user_id)
# Each lockout read has a partial index on exactly the rows it counts (revision
# 20261202_0005; predicate renamed by 20261203_0009), so old rows and 'locked' rows piled
# up on one key cost it nothing. The lockout's SQL must say the same (COUNTED in
# app/repositories/login_attempts.py), or the planner cannot use these.
_COUNTED = text("outcome IN ('pending', 'bad_credentials')")
Index(
    "login_attempts_email_key_counted_idx",
    login_attempts.c.email_key,
    login_attempts.c.attempted_at,
    postgresql_where=_COUNTED,
)
Index(
    "login_attempts_client_address_counted_idx",
    login_attempts.c.client_address,
    login_attempts.c.attempted_at,
    postgresql_where=_COUNTED,
)
Index(
    "login_attempts_success_idx",
    login_attempts.c.email_key,
    login_attempts.c.client_address,
    login_attempts.c.attempted_at,
    postgresql_where=text("outcome = 'success'"),
)
# Retention (db prune). BRIN: rows arrive in time order, so block ranges summarise them in a
# few pages; and a BRIN index never offers an ordered scan, so the planner cannot prefer it
# over the partial indexes above for a lockout read's ORDER BY attempted_at LIMIT.
Index("login_attempts_attempted_at_idx", login_attempts.c.attempted_at, postgresql_using="brin")

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
Index(  # retention
    "sessions_ended_at_idx", sessions.c.ended_at, postgresql_where=text("ended_at IS NOT NULL")
)
Index("sessions_expires_at_idx", sessions.c.expires_at)  # retention

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

# Password-reset and email-verification tokens (purpose), stored only as SHA-256 hashes,
# single use (used_at) and expiring. requested_from is the client address of a reset
# request: the per-address throttle counts by it.
one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE", name="one_time_tokens_user_id_fkey"),
        nullable=False,
    ),
    Column("purpose", String(16), nullable=False),
    Column("token_hash", LargeBinary, nullable=False),
    Column("requested_from", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("purpose IN ('reset', 'verify')", name="one_time_tokens_purpose_check"),
)
Index("one_time_tokens_token_hash_key", one_time_tokens.c.token_hash, unique=True)
Index(
    "one_time_tokens_user_id_idx",
    one_time_tokens.c.user_id,
    one_time_tokens.c.purpose,
    one_time_tokens.c.created_at,
)
Index(
    "one_time_tokens_requested_from_idx",
    one_time_tokens.c.requested_from,
    one_time_tokens.c.created_at,
)
Index("one_time_tokens_expires_at_idx", one_time_tokens.c.expires_at)

# The transactional outbox: a mail is a row written by the transaction that causes it. A
# pending row is due once next_attempt_at has passed; a worker's claim (claimed_by) pushes
# next_attempt_at one lease ahead, so a claim whose worker died falls due again by itself.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("recipient", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("claimed_by", UUID(as_uuid=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("status IN ('pending', 'sent', 'dead')", name="mail_outbox_status_check"),
)
Index(
    "mail_outbox_due_idx",
    mail_outbox.c.next_attempt_at,
    postgresql_where=text("status = 'pending'"),
)
Index("mail_outbox_created_at_idx", mail_outbox.c.created_at)

Index("refresh_tokens_expires_at_idx", refresh_tokens.c.expires_at)  # retention
Index(
    "refresh_tokens_revoked_at_idx",
    refresh_tokens.c.revoked_at,
    postgresql_where=text("revoked_at IS NOT NULL"),
)

# One row per registration attempt, for the per-address limit (REGISTER_MAX_PER_ADDRESS).
registration_attempts = Table(
    "registration_attempts",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("client_address", String(128), nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index(
    "registration_attempts_client_address_idx",
    registration_attempts.c.client_address,
    registration_attempts.c.attempted_at,
)
Index(  # retention; BRIN as for login_attempts
    "registration_attempts_attempted_at_idx",
    registration_attempts.c.attempted_at,
    postgresql_using="brin",
)

# The audit trail: append-only (the app role has no UPDATE or DELETE on it), written in the
# transaction of the change it records. No foreign keys: an event outlives its user.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("type", String(32), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=True),
    Column("actor_id", UUID(as_uuid=True), nullable=True),
    Column("address", String(128), nullable=True),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)
Index("audit_events_user_id_idx", audit_events.c.user_id, audit_events.c.id)
Index("audit_events_type_idx", audit_events.c.type, audit_events.c.id)
Index("audit_events_at_idx", audit_events.c.at, postgresql_using="brin")  # retention
