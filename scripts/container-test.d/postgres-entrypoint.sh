#!/bin/sh
# docker-entrypoint.sh of the postgres stand-in image that scripts/container-test makes
# (Debian's PostgreSQL 15). It honours the part of the official image's contract that
# docker-compose.yml uses: POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB on the first start,
# scripts in /docker-entrypoint-initdb.d (executable ones run, others are sourced, *.sql fed
# to psql) against a socket-only temporary server, password logins from any host
# (scram-sha-256), and dropping from root to postgres.
set -eu

if [ "${1#-}" != "${1:-}" ]; then
    set -- postgres "$@"
fi
if [ "${1:-}" != postgres ]; then
    exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 0700 "$PGDATA"
    exec gosu postgres "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?the postgres stand-in needs POSTGRES_PASSWORD}"
    POSTGRES_USER=${POSTGRES_USER:-postgres}
    POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
    export POSTGRES_USER POSTGRES_DB

    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

    pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses=''" start
    if [ "$POSTGRES_DB" != postgres ]; then
        psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
            -v db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case $script in
            *.sh)
                if [ -x "$script" ]; then
                    "$script"
                else
                    # shellcheck disable=SC1090
                    . "$script"
                fi
                ;;
            *.sql)
                psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" \
                    --dbname "$POSTGRES_DB" -f "$script"
                ;;
        esac
    done
    pg_ctl --pgdata="$PGDATA" --wait --silent -m fast stop
    echo "postgres stand-in: initialised $PGDATA"
fi

exec "$@"
