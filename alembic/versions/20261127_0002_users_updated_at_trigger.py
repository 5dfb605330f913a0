"""users.updated_at maintained by a trigger

Revision ID: 20261127_0002
Revises: 20261127_0001
Create Date: 2026-11-27

Every UPDATE that changes a users row sets updated_at to the transaction's time, whoever
runs it (the app, a psql session, a data fix): the column no longer relies on each
statement remembering to set it. An UPDATE that changes nothing leaves it alone.

Upgrade and downgrade touch no rows: existing updated_at values stay as they are.

Downgrade drops: the trigger users_set_updated_at and the function set_updated_at(); no
data. After it, updated_at changes only where a statement sets it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261127_0002"
down_revision: str | None = "20261127_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One function for every table with an updated_at column; each table gets its own trigger.
CREATE_FUNCTION = """
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$
"""

CREATE_TRIGGER = """
CREATE TRIGGER users_set_updated_at
BEFORE UPDATE ON users
FOR EACH ROW
WHEN (OLD.* IS DISTINCT FROM NEW.*)
EXECUTE FUNCTION set_updated_at()
"""


def upgrade() -> None:
    op.execute(CREATE_FUNCTION)
    op.execute(CREATE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER users_set_updated_at ON users")
    op.execute("DROP FUNCTION set_updated_at()")
