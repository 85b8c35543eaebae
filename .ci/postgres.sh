#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 for the annotate tests.
#
#   eval "$(bash .ci/postgres.sh)"     # exports SPACY_BIOBERT_PG_URL
#
# Installs PostgreSQL from Debian's packages when no server binaries are present,
# initializes a cluster in $SPACY_BIOBERT_PG_DATA (default /tmp/spacy-biobert-pg),
# starts it on 127.0.0.1:$SPACY_BIOBERT_PG_PORT (default 55432) with user/password
# biobert/biobert, and creates the database biobert_test. Idempotent: when the server
# already answers it only makes sure the database exists. Logs go to stderr; stdout
# carries only the export line.
set -euo pipefail

DATA="${SPACY_BIOBERT_PG_DATA:-/tmp/spacy-biobert-pg}"
PORT="${SPACY_BIOBERT_PG_PORT:-55432}"
PGUSER_NAME="biobert"
PGPASS="biobert"
DB="biobert_test"
URL="postgresql://${PGUSER_NAME}:${PGPASS}@127.0.0.1:${PORT}/${DB}"

log() { echo "[postgres.sh] $*" >&2; }

find_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
    log "no PostgreSQL server binaries found: installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    BIN="$(find_bin)"
fi

# initdb refuses to run as root: run the server as the 'postgres' OS user then.
as_pg() {
    if [ "$(id -u)" = "0" ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DATA" postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1; }

if ! ready; then
    if [ ! -f "$DATA/PG_VERSION" ]; then
        log "initializing a cluster in $DATA"
        mkdir -p "$DATA"
        pwfile="$(mktemp)"
        echo "$PGPASS" >"$pwfile"
        if [ "$(id -u)" = "0" ]; then
            id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DATA" postgres
            chown postgres "$DATA" "$pwfile"
        fi
        chmod 700 "$DATA"
        as_pg "$BIN/initdb" -D "$DATA" -U "$PGUSER_NAME" --pwfile="$pwfile" \
            --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >&2
        rm -f "$pwfile"
    fi
    log "starting the server on 127.0.0.1:$PORT"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c max_connections=50" start >&2
fi

export PGPASSWORD="$PGPASS"
exists="$("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" 2>/dev/null || true)"
if [ "$exists" != "1" ]; then
    log "creating database $DB"
    "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" "$DB" >&2
fi
log "ready: $URL"
echo "export SPACY_BIOBERT_PG_URL=$URL"
