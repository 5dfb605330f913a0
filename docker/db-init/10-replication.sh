#!/bin/sh
# Run by the postgres image once, when it initialises an empty data directory: creates the role
# the replica service clones and streams with, and lets it connect for replication.
set -eu

: "${REPLICATION_USER:?}"
: "${REPLICATION_PASSWORD:?}"

# psql variables (:"name", :'pass') quote the values, whatever characters they hold.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v name="$REPLICATION_USER" -v pass="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"name" WITH LOGIN REPLICATION PASSWORD :'pass';
SQL

# The image's own `host all all all` line does not cover replication connections.
printf 'host replication %s all scram-sha-256\n' "$REPLICATION_USER" >> "$PGDATA/pg_hba.conf"
