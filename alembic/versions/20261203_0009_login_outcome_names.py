"""login_attempts.outcome: 'failure' becomes 'bad_credentials'

Revision ID: 20261203_0009
Revises: 20261202_0008
Create Date: 2026-12-03

Issue 18: one set of login-outcome names (app.core.models.LoginOutcome). The metric labels
of auth_logins_total are what operators' dashboards and alerts name, so the stored value
follows them: every 'failure' row becomes 'bad_credentials'; the CHECK constraint
login_attempts_outcome_check and the two partial indexes whose predicate names the value
(login_attempts_email_key_counted_idx, login_attempts_client_address_counted_idx, from
20261202_0005; the lockout reads them) are replaced by the same ones with the new name.
Nothing else names it: login_attempts_success_idx and the grants of 20261202_0008 stay.

Locks: ACCESS EXCLUSIVE on login_attempts from the first statement to the commit, so every
login (each inserts and reads this table) waits for the whole revision: the rename of the
'failure' rows, two index builds and the CHECK's validation, each a scan of the table. It
could not be shorter in one transaction: the CHECK must change before any row can be
renamed, and that change takes the strongest lock, held to the commit. CREATE INDEX
CONCURRENTLY and a separately validated constraint would need statements outside any
transaction, which `db check` (it builds its reference inside one, rolled back) and the
one-transaction-per-revision rollback guarantee rule out. Measured here (2 shared cores at
load 2 to 4, PostgreSQL 15), a million rows of which half are failures: 3.8 to 4.8 s each
way, alembic's start included (dropping the old indexes before the UPDATE or after it made
no difference beyond that spread). So on a large table, prune it first (`auth-service db
prune`) and upgrade when logins are few. lock_timeout bounds the wait for the lock: behind
a long transaction on the table, this revision would queue every login behind itself; it
fails instead, and can be rerun.

Deploying: after the commit, processes of the old code fail to write 'failure' (a CHECK
violation: a 503 for that login, its row left 'pending', which both versions count), no
longer count the renamed rows toward a lockout, and answer 503 on /ready (not at their
head): replace them right after the upgrade.

Downgrade drops: nothing. It renames 'bad_credentials' back to 'failure' and restores the
CHECK and both indexes exactly as 20261202_0005 left them, under the same lock.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0009"
down_revision: str | None = "20261202_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "login_attempts"
CHECK = "login_attempts_outcome_check"
# Index name -> its leading column; both end in attempted_at (as in 20261202_0005).
COUNTED_INDEXES = {
    "login_attempts_email_key_counted_idx": "email_key",
    "login_attempts_client_address_counted_idx": "client_address",
}
LOCK_TIMEOUT = "5s"


def upgrade() -> None:
    _rename(old="failure", new="bad_credentials")


def downgrade() -> None:
    _rename(old="bad_credentials", new="failure")


def _rename(*, old: str, new: str) -> None:
    """Rename stored outcome `old` to `new`, with the CHECK and the counted indexes."""
    op.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    op.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
    for name in COUNTED_INDEXES:
        op.drop_index(name, table_name=TABLE)
    op.drop_constraint(CHECK, TABLE, type_="check")
    op.get_bind().execute(
        sa.text("UPDATE login_attempts SET outcome = :new WHERE outcome = :old"),
        {"new": new, "old": old},
    )
    for name, column in COUNTED_INDEXES.items():
        op.create_index(
            name,
            TABLE,
            [column, "attempted_at"],
            postgresql_where=sa.text(f"outcome IN ('pending', '{new}')"),
        )
    op.create_check_constraint(
        CHECK, TABLE, f"outcome IN ('pending', '{new}', 'locked', 'inactive', 'success')"
    )
