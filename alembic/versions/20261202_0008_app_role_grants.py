"""least privilege: the app role's grants, and the audit anonymiser

Revision ID: 20261202_0008
Revises: 20261202_0007
Create Date: 2026-12-02

The server may run as a role that owns nothing (DATABASE_URL), while migrations and
`db` commands run as the schema owner (MIGRATION_DATABASE_URL). This revision grants a
NOLOGIN group role what the server needs, and nothing more:

- SELECT, INSERT, UPDATE, DELETE on every table the app changes;
- SELECT and INSERT only on audit_events: the trail is append-only for the server (no
  UPDATE, DELETE or TRUNCATE; pruning is the owner's, through `db prune`);
- SELECT on alembic_version (readiness checks the schema is at head);
- USAGE on the schema and its sequences (the identity columns);
- EXECUTE on anonymise_audit_events(uuid), a SECURITY DEFINER function owned by the schema
  owner that does one thing the role cannot: clear `address` and `details` of one deleted
  user's events (docs/security.md, "Data retention").

The group role's name is DATABASE_APP_ROLE (alembic `-x app_role=NAME`, else the
environment, else `auth_service_app`). Roles are cluster-wide: it is created here, NOLOGIN,
only if it does not exist yet (that needs CREATEROLE; without it, create the role once as a
superuser beforehand). The login role the server uses is made a member of it by the operator
(`GRANT auth_service_app TO auth_api`), so one cluster can hold many databases and many
login roles behind one group role. Later migrations that add a table grant on it too
(tests/db/test_app_role.py fails otherwise).

Downgrade drops: these grants in this database (a server running as the app role then fails
on its first query) and anonymise_audit_events (self-deletion then fails); not the role,
which other databases of the cluster may use.
"""

import os
import re
from collections.abc import Sequence

from alembic import context, op

revision: str = "20261202_0008"
down_revision: str | None = "20261202_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "auth_service_app"
DML_TABLES = (
    "users",
    "login_attempts",
    "sessions",
    "refresh_tokens",
    "one_time_tokens",
    "mail_outbox",
    "registration_attempts",
)
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def app_role() -> str:
    name = (
        context.get_x_argument(as_dictionary=True).get("app_role")
        or os.environ.get("DATABASE_APP_ROLE")
        or DEFAULT_APP_ROLE
    )
    if not ROLE_NAME.fullmatch(name):  # it goes into SQL as an identifier
        raise ValueError(f"DATABASE_APP_ROLE must be a lower-case identifier, not {name!r}")
    return name


def upgrade() -> None:
    role = app_role()
    # Two databases migrating at once may both see no role: the loser's CREATE fails with
    # duplicate_object (or unique_violation on the catalog), which means it exists now.
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                BEGIN
                    CREATE ROLE {role} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;
                END;
            END IF;
        END $$
    """)
    op.execute(f"""
        DO $$
        BEGIN
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema());
            EXECUTE format(
                'GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO {role}', current_schema()
            );
            -- Fixed search_path: a SECURITY DEFINER function must not resolve names through
            -- a path its caller controls; pg_temp last, so no temporary table shadows ours.
            EXECUTE format($f$
                CREATE FUNCTION anonymise_audit_events(deleted_user uuid) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp
                AS $body$
                DECLARE
                    changed bigint;
                BEGIN
                    UPDATE audit_events
                    SET address = NULL,
                        details = CASE WHEN user_id = deleted_user THEN '{{}}'::jsonb
                                       ELSE details END
                    WHERE user_id = deleted_user OR actor_id = deleted_user;
                    GET DIAGNOSTICS changed = ROW_COUNT;
                    RETURN changed;
                END
                $body$
            $f$, current_schema());
        END $$
    """)  # noqa: S608 (role is a checked identifier, app_role())
    op.execute("REVOKE ALL ON FUNCTION anonymise_audit_events(uuid) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION anonymise_audit_events(uuid) TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(DML_TABLES)} TO {role}")
    op.execute(f"GRANT SELECT, INSERT ON audit_events TO {role}")
    op.execute(f"GRANT SELECT ON alembic_version TO {role}")


def downgrade() -> None:
    role = app_role()
    op.execute(f"REVOKE ALL ON alembic_version, audit_events, {', '.join(DML_TABLES)} FROM {role}")
    op.execute("DROP FUNCTION anonymise_audit_events(uuid)")
    op.execute(f"""
        DO $$
        BEGIN
            EXECUTE format(
                'REVOKE USAGE ON ALL SEQUENCES IN SCHEMA %I FROM {role}', current_schema()
            );
            EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {role}', current_schema());
        END $$
    """)
