"""abuse resistance: registration limit, bounded lockout reads, retention, normal emails

Revision ID: 20261202_0005
Revises: 20261202_0004
Create Date: 2026-12-02

- registration_attempts: one row per registration, for REGISTER_MAX_PER_ADDRESS.
- login_attempts: the full (email_key, attempted_at) and (client_address, attempted_at)
  indexes give way to partial indexes on exactly the rows each lockout read counts, plus
  one on successes (known clients) and a BRIN one on attempted_at (retention).
- refresh_tokens: indexes on expires_at and revoked_at (retention).
- users.email and login_attempts.email_key are rewritten to the one normal form of
  app/core/emails.py as of this revision (NFC local part, IDNA domain in Unicode form,
  lower case), copied below so later edits there cannot change what this revision did.
  Two accounts whose emails become equal would break the unique index and make one of
  them unreachable: the upgrade then stops before changing anything, naming the user
  ids, so an operator decides which account keeps the address (docs/security.md). An email
  that cannot be normalised (a domain IDNA refuses, too long) is left as stored.

Downgrade drops: registration_attempts (every registration count, so the limit starts
afresh) and the new indexes, and restores the old ones. Emails stay in their normal form:
the old rule compared emails with lower() and accepts them as they are.
"""

import unicodedata
from collections.abc import Sequence

import idna
import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0005"
down_revision: str | None = "20261202_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_EMAIL_CHARS = 320
COUNTED = "outcome IN ('pending', 'failure')"


def normal_email(email: str) -> str | None:
    """app.core.emails.normalize_email as of this revision; None when it refuses."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    try:
        domain = idna.decode(idna.encode(domain, uts46=True))
    except (idna.IDNAError, UnicodeError):
        return None
    normal = f"{unicodedata.normalize('NFC', local).lower()}@"
    normal += unicodedata.normalize("NFC", domain).lower()
    return normal if len(normal) <= MAX_EMAIL_CHARS else None


def upgrade() -> None:
    op.create_table(
        "registration_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("client_address", sa.String(128), nullable=False),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_index(
        "registration_attempts_client_address_idx",
        "registration_attempts",
        ["client_address", "attempted_at"],
    )
    op.create_index(
        "registration_attempts_attempted_at_idx",
        "registration_attempts",
        ["attempted_at"],
        postgresql_using="brin",
    )

    op.drop_index("login_attempts_email_key_idx", table_name="login_attempts")
    op.drop_index("login_attempts_client_address_idx", table_name="login_attempts")
    op.create_index(
        "login_attempts_email_key_counted_idx",
        "login_attempts",
        ["email_key", "attempted_at"],
        postgresql_where=sa.text(COUNTED),
    )
    op.create_index(
        "login_attempts_client_address_counted_idx",
        "login_attempts",
        ["client_address", "attempted_at"],
        postgresql_where=sa.text(COUNTED),
    )
    op.create_index(
        "login_attempts_success_idx",
        "login_attempts",
        ["email_key", "client_address", "attempted_at"],
        postgresql_where=sa.text("outcome = 'success'"),
    )
    op.create_index(
        "login_attempts_attempted_at_idx",
        "login_attempts",
        ["attempted_at"],
        postgresql_using="brin",
    )

    op.create_index("refresh_tokens_expires_at_idx", "refresh_tokens", ["expires_at"])
    op.create_index(
        "refresh_tokens_revoked_at_idx",
        "refresh_tokens",
        ["revoked_at"],
        postgresql_where=sa.text("revoked_at IS NOT NULL"),
    )

    _normalise_emails()


def _normalise_emails() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, email FROM users ORDER BY created_at, id")).all()
    owners: dict[str, list[str]] = {}
    changes: list[dict[str, object]] = []
    for user_id, email in rows:
        normal = normal_email(email) or email
        owners.setdefault(normal, []).append(str(user_id))
        if normal != email:
            changes.append({"id": user_id, "email": normal})
    collisions = {email: ids for email, ids in owners.items() if len(ids) > 1}
    if collisions:
        listed = "; ".join(", ".join(ids) for ids in collisions.values())
        raise RuntimeError(
            f"{len(collisions)} email(s) would belong to several accounts once normalised "
            f"(user ids: {listed}). Change or delete all but one of each, then upgrade again."
        )
    if changes:
        bind.execute(sa.text("UPDATE users SET email = :email WHERE id = :id"), changes)
    keys = bind.execute(sa.text("SELECT DISTINCT email_key FROM login_attempts")).scalars()
    renamed = [
        {"old": key, "new": normal}
        for key in keys
        if (normal := normal_email(key)) is not None and normal != key
    ]
    if renamed:
        bind.execute(
            sa.text("UPDATE login_attempts SET email_key = :new WHERE email_key = :old"), renamed
        )


def downgrade() -> None:
    op.drop_index("refresh_tokens_revoked_at_idx", table_name="refresh_tokens")
    op.drop_index("refresh_tokens_expires_at_idx", table_name="refresh_tokens")
    op.drop_index("login_attempts_attempted_at_idx", table_name="login_attempts")
    op.drop_index("login_attempts_success_idx", table_name="login_attempts")
    op.drop_index("login_attempts_client_address_counted_idx", table_name="login_attempts")
    op.drop_index("login_attempts_email_key_counted_idx", table_name="login_attempts")
    op.create_index(
        "login_attempts_client_address_idx", "login_attempts", ["client_address", "attempted_at"]
    )
    op.create_index("login_attempts_email_key_idx", "login_attempts", ["email_key", "attempted_at"])
    op.drop_table("registration_attempts")
