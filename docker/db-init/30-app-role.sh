#!/bin/sh
# Run by the postgres image once, when it initialises an empty data directory: the two roles
# of least privilege (docs/operations.md, "Two database roles"). POSTGRES_USER owns the schema
# and runs migrations (MIGRATION_DATABASE_URL); the API logs in as APP_DB_USER, a member of
# the NOLOGIN group role that migration 20261202_0008 grants DML to (no UPDATE or DELETE on
# audit_events). The group role is made here so the owner needs no CREATEROLE.
set -eu

: "${APP_DB_USER:?}"
: "${APP_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v group="${DATABASE_APP_ROLE:-auth_service_app}" -v name="$APP_DB_USER" \
    -v pass="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"group" NOLOGIN;
CREATE ROLE :"name" WITH LOGIN PASSWORD :'pass' IN ROLE :"group";
-- The API may go through PgBouncer, where it cannot send these at start-up (20-timeouts.sh).
ALTER ROLE :"name" SET statement_timeout = '5s';
ALTER ROLE :"name" SET idle_in_transaction_session_timeout = '10s';
SQL
