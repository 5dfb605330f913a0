#!/bin/sh
# Run by the postgres image once, when it initialises an empty data directory: the timeouts a
# statement outside a transaction gets through PgBouncer, where the app cannot send them at
# start-up (docs/scaling.md). Direct connections set their own and are not affected.
set -eu

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v name="$POSTGRES_USER" <<'SQL'
ALTER ROLE :"name" SET statement_timeout = '5s';
ALTER ROLE :"name" SET idle_in_transaction_session_timeout = '10s';
SQL
