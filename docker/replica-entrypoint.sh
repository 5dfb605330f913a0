#!/bin/sh
# Entrypoint of the compose `replica` service (postgres image, started as root).
# First start: clone the primary with pg_basebackup -R (writes standby.signal and
# primary_conninfo). Every start: hand over to the image's entrypoint, which drops to the
# postgres user and runs the server as a hot standby.
# If db's volume is ever recreated, the clone no longer matches: remove replica-data too.
set -eu

: "${PGDATA:?}"
: "${PRIMARY_HOST:?}"
: "${REPLICATION_USER:?}"
: "${REPLICATION_PASSWORD:?}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    # Clone beside PGDATA and rename only a finished clone into place: a clone cut off halfway
    # is thrown away and redone on the next start, never started as a broken standby.
    partial="$PGDATA.partial"
    rm -rf "$partial"
    if [ -d "$PGDATA" ] && ! rmdir "$PGDATA"; then
        echo "replica: $PGDATA holds files but no cluster; remove the replica-data volume" >&2
        exit 1
    fi
    install -d -o postgres -g postgres -m 0700 "$partial"
    echo "replica: cloning $PRIMARY_HOST into $PGDATA"
    PGPASSWORD="$REPLICATION_PASSWORD" gosu postgres pg_basebackup \
        --host="$PRIMARY_HOST" --port="${PRIMARY_PORT:-5432}" --username="$REPLICATION_USER" \
        --pgdata="$partial" --write-recovery-conf --wal-method=stream --checkpoint=fast \
        --no-password
    mv "$partial" "$PGDATA"
fi

exec docker-entrypoint.sh postgres
