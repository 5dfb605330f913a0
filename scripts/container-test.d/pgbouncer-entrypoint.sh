#!/bin/sh
# Entrypoint of the pgbouncer stand-in image that scripts/container-test makes (Debian's
# pgbouncer 1.18 and postgresql-client, run as the non-root user postgres). Like the
# edoburu/pgbouncer image that docker-compose.yml names, it writes pgbouncer.ini and
# userlist.txt from the variables the compose file passes, then runs pgbouncer on 5432:
#   DB_HOST, DB_PORT (5432), DB_NAME (every database when unset), DB_USER, DB_PASSWORD,
#   AUTH_TYPE (md5), POOL_MODE (session), DEFAULT_POOL_SIZE (20), MAX_CLIENT_CONN (100),
#   IDLE_TRANSACTION_TIMEOUT (0: off).
set -eu

: "${DB_HOST:?the pgbouncer stand-in needs DB_HOST}"
: "${DB_USER:?the pgbouncer stand-in needs DB_USER}"
: "${DB_PASSWORD:?the pgbouncer stand-in needs DB_PASSWORD}"
dir=/etc/pgbouncer

# A plain password in userlist.txt lets PgBouncer answer SCRAM (or md5) clients and log in to
# the server with SCRAM itself. Double quotes inside are doubled, as its file format wants.
quoted() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
umask 077
printf '%s %s\n' "$(quoted "$DB_USER")" "$(quoted "$DB_PASSWORD")" >"$dir/userlist.txt"

cat >"$dir/pgbouncer.ini" <<INI
[databases]
${DB_NAME:-*} = host=$DB_HOST port=${DB_PORT:-5432}${DB_NAME:+ dbname=$DB_NAME}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 5432
unix_socket_dir =
auth_type = ${AUTH_TYPE:-md5}
auth_file = $dir/userlist.txt
pool_mode = ${POOL_MODE:-session}
default_pool_size = ${DEFAULT_POOL_SIZE:-20}
max_client_conn = ${MAX_CLIENT_CONN:-100}
idle_transaction_timeout = ${IDLE_TRANSACTION_TIMEOUT:-0}
ignore_startup_parameters = extra_float_digits
INI

exec pgbouncer "$dir/pgbouncer.ini"
