"""SQL for the users table. Uniqueness of email is the constraint's job, not a pre-check."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from app.core.models import User
from app.repositories.base import Repository

# The User's columns, in one place: the session check (repositories/sessions.py) selects
# the same list from its join, so a column added here reaches both.
COLUMNS = (
    "id",
    "email",
    "full_name",
    "is_active",
    "created_at",
    "updated_at",
    "last_login",
    "email_verified",
    "is_admin",
    "password_hash",
)
_COLUMNS = ", ".join(COLUMNS)

INSERT = f"""
INSERT INTO users (email, password_hash, full_name)
VALUES ($1, $2, $3)
RETURNING {_COLUMNS}
"""
SELECT_BY_ID = f"SELECT {_COLUMNS} FROM users WHERE id = $1"
# lower(email) is what the unique index users_email_lower_key covers (and the admin listing's
# prefix index): this is an index scan.
SELECT_BY_EMAIL = f"SELECT {_COLUMNS} FROM users WHERE lower(email) = lower($1)"
# Serialises reset requests for one account, so the hourly throttle counts each of them.
# NO KEY UPDATE: inserting rows that reference the user (its tokens) is not blocked.
LOCK_ACTIVE_BY_EMAIL = f"""
SELECT {_COLUMNS} FROM users WHERE lower(email) = lower($1) AND is_active
FOR NO KEY UPDATE
"""
UPDATE_PASSWORD_HASH = f"""
UPDATE users SET password_hash = $2, updated_at = now()
WHERE id = $1
RETURNING {_COLUMNS}
"""
# A login commits only if the hash its bcrypt check verified is still the user's hash, and
# the user still active; a rehash ($3, when due) replaces exactly that hash. The row lock
# this takes, held to commit, orders the login against a password change or deactivation
# (docs/security.md, "Races end one way"). GREATEST: under concurrent logins a transaction
# that started earlier may commit later; last_login never moves backwards.
RECORD_LOGIN = f"""
UPDATE users
SET last_login = GREATEST(last_login, now()),
    password_hash = COALESCE($3, password_hash),
    updated_at = now()
WHERE id = $1 AND password_hash = $2 AND is_active
RETURNING {_COLUMNS}
"""
# Compare-and-set: the new hash goes in only over the hash whose password was verified.
REPLACE_PASSWORD_HASH = f"""
UPDATE users SET password_hash = $3, updated_at = now()
WHERE id = $1 AND password_hash = $2 AND is_active
RETURNING {_COLUMNS}
"""
SET_ACTIVE = f"""
UPDATE users SET is_active = $2, updated_at = now()
WHERE id = $1
RETURNING {_COLUMNS}
"""

# Administration: each flag changes only if it differs, so a repeated deactivation (or grant)
# matches nothing and records no second event. The UPDATE locks the row to commit, which
# orders it against a login (docs/security.md, "Races end one way").
SWITCH_ACTIVE = f"""
UPDATE users SET is_active = $2, updated_at = now()
WHERE id = $1 AND is_active <> $2
RETURNING {_COLUMNS}
"""
SWITCH_ADMIN = f"""
UPDATE users SET is_admin = $2, updated_at = now()
WHERE id = $1 AND is_admin <> $2
RETURNING {_COLUMNS}
"""

# The admin listing: keyset pages in (created_at, id) order, the row comparison served by
# users_created_at_id_idx. The email prefix is a byte-order range on lower(email), which
# users_email_prefix_idx (text_pattern_ops) serves even in a generic plan, where a LIKE
# with a parameter could not use it; `%` and `_` in a range are plain characters. One
# statement per combination of filters, so no plan carries an `$n IS NULL OR` branch.
_AFTER = "(created_at, id) > ($2, $3)"


def _prefix_range(first: int) -> str:
    return f"lower(email) ~>=~ ${first} AND lower(email) ~<~ ${first + 1}"


_PAGE = f"SELECT {_COLUMNS} FROM users WHERE {{where}} ORDER BY created_at, id LIMIT $1"
LIST_PAGE = {  # keyed by (after a cursor, with a prefix)
    (False, False): _PAGE.format(where="true"),
    (True, False): _PAGE.format(where=_AFTER),
    (False, True): _PAGE.format(where=_prefix_range(2)),
    (True, True): _PAGE.format(where=f"{_AFTER} AND {_prefix_range(4)}"),
}

MARK_EMAIL_VERIFIED = f"""
UPDATE users SET email_verified = true, updated_at = now()
WHERE id = $1
RETURNING {_COLUMNS}
"""

# Deletion's first statement: the user's row, locked like a password change locks it (so a
# login, change or reset of this user queues behind it) but FOR NO KEY UPDATE, which lets a
# refresh already running insert its token and finish; the sweep of sessions comes next.
# With $2, only while the password hash is still the one the caller's password was checked
# against (self-deletion): a password changed meanwhile refuses the deletion.
LOCK_FOR_DELETION = f"""
SELECT {_COLUMNS} FROM users
WHERE id = $1 AND ($2::text IS NULL OR password_hash = $2)
FOR NO KEY UPDATE
"""
# Sessions, refresh tokens and one-time tokens go with the row (ON DELETE CASCADE); login
# attempts keep no user id (SET NULL) and are anonymised before (login_attempts.py).
DELETE = "DELETE FROM users WHERE id = $1"

EMAIL_TAKEN = "Email already registered"


def prefix_successor(prefix: str) -> str | None:
    """The least string above every string starting with `prefix`, in code point (UTF-8
    byte) order: the prefix with its last character moved one up. None when there is none
    (every character the highest code point). Surrogates cannot be stored, so they are
    skipped."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            following = 0xE000 if 0xD800 <= last + 1 <= 0xDFFF else last + 1
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None


def user_of(row: asyncpg.Record) -> User:
    return User(**dict(row))


def _maybe_user(row: asyncpg.Record | None) -> User | None:
    return None if row is None else user_of(row)


class UserRepository(Repository):
    async def create(self, *, email: str, password_hash: str, full_name: str | None) -> User:
        async with self._connection("users.create", conflict=EMAIL_TAKEN) as conn:
            row = await conn.fetchrow(INSERT, email, password_hash, full_name)
        assert row is not None  # INSERT ... RETURNING of one row
        return user_of(row)

    async def get_by_id(self, user_id: UUID, *, replica_ok: bool = False) -> User | None:
        row = await self._read(
            "users.get_by_id",
            lambda conn: conn.fetchrow(SELECT_BY_ID, user_id),
            replica_ok=replica_ok,
        )
        return _maybe_user(row)

    async def find_by_email(self, email: str) -> User | None:
        async with self._connection("users.find_by_email") as conn:
            row = await conn.fetchrow(SELECT_BY_EMAIL, email)
        return _maybe_user(row)

    async def lock_active_by_email(self, email: str) -> User | None:
        """The active user with `email`, row-locked until the transaction ends."""
        async with self._connection("users.lock_active_by_email") as conn:
            row = await conn.fetchrow(LOCK_ACTIVE_BY_EMAIL, email)
        return _maybe_user(row)

    async def record_login(
        self, user_id: UUID, *, verified_hash: str, new_hash: str | None
    ) -> User | None:
        """Record a login checked against `verified_hash` (rehashing to `new_hash` if given);
        None when that is no longer the active user's hash. Locks the row to commit."""
        async with self._connection("users.record_login") as conn:
            row = await conn.fetchrow(RECORD_LOGIN, user_id, verified_hash, new_hash)
        return _maybe_user(row)

    async def replace_password_hash(
        self, user_id: UUID, *, old_hash: str, new_hash: str
    ) -> User | None:
        """Set `new_hash` if `old_hash` is still the active user's hash; None otherwise."""
        async with self._connection("users.replace_password_hash") as conn:
            row = await conn.fetchrow(REPLACE_PASSWORD_HASH, user_id, old_hash, new_hash)
        return _maybe_user(row)

    async def update_password_hash(self, user_id: UUID, password_hash: str) -> User | None:
        async with self._connection("users.update_password_hash") as conn:
            row = await conn.fetchrow(UPDATE_PASSWORD_HASH, user_id, password_hash)
        return _maybe_user(row)

    async def set_active(self, user_id: UUID, active: bool) -> User | None:
        async with self._connection("users.set_active") as conn:
            row = await conn.fetchrow(SET_ACTIVE, user_id, active)
        return _maybe_user(row)

    async def switch_active(self, user_id: UUID, active: bool) -> User | None:
        """Set is_active to `active`; None if the user is unknown or already so."""
        return await self._switch("users.switch_active", SWITCH_ACTIVE, user_id, active)

    async def switch_admin(self, user_id: UUID, admin: bool) -> User | None:
        """Set is_admin to `admin`; None if the user is unknown or already so."""
        return await self._switch("users.switch_admin", SWITCH_ADMIN, user_id, admin)

    async def _switch(self, operation: str, sql: str, user_id: UUID, value: bool) -> User | None:
        async with self._connection(operation) as conn:
            row = await conn.fetchrow(sql, user_id, value)
        return _maybe_user(row)

    async def list_page(
        self,
        *,
        limit: int,
        after: tuple[datetime, UUID] | None = None,
        email_prefix: str = "",
    ) -> list[User]:
        """Up to `limit` users in (created_at, id) order, strictly after `after`, whose
        lower-cased email starts with `email_prefix` (already normalised)."""
        args: list[object] = [limit, *(after or ())]
        if email_prefix:
            # No successor (a prefix of U+10FFFF only): nothing stored can start with it.
            args += [email_prefix, prefix_successor(email_prefix) or email_prefix]
        sql = LIST_PAGE[after is not None, bool(email_prefix)]
        async with self._connection("users.list_page") as conn:
            rows = await conn.fetch(sql, *args)
        return [user_of(row) for row in rows]

    async def mark_email_verified(self, user_id: UUID) -> User | None:
        async with self._connection("users.mark_email_verified") as conn:
            row = await conn.fetchrow(MARK_EMAIL_VERIFIED, user_id)
        return _maybe_user(row)

    async def lock_for_deletion(
        self, user_id: UUID, *, verified_hash: str | None = None
    ) -> User | None:
        """The user, row-locked for deleting; None if gone (or no longer `verified_hash`)."""
        async with self._connection("users.lock_for_deletion") as conn:
            row = await conn.fetchrow(LOCK_FOR_DELETION, user_id, verified_hash)
        return _maybe_user(row)

    async def delete(self, user_id: UUID) -> None:
        async with self._connection("users.delete") as conn:
            await conn.execute(DELETE, user_id)
