# shellcheck shell=bash
# A private, throwaway PostgreSQL for tests and the quickstart: initdb as the
# `postgres` user (initdb refuses root) into a directory of ours, listening on
# a port of ours on 127.0.0.1 and on a socket directory of ours.  Sourced by
# contrib/test.sh, contrib/quickstart.sh and the integration tests.

pg_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    echo "pg.sh: no PostgreSQL server binaries under /usr/lib/postgresql" >&2
    return 1
}

# as_postgres CMD...: run a server binary as the postgres user when we are root.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# free_port: the first port from $1 (default 25432) that no socket uses, in
# any state.  Start below the kernel's ephemeral range (32768 and up), where
# client connections cannot take a port from under a server.
free_port() {
    local port=${1:-25432}
    while ss -tuanH "sport = :$port" 2>/dev/null | grep -q . ; do
        port=$((port + 1))
    done
    echo "$port"
}

# pg_dir PREFERRED: PREFERRED when the postgres user can reach it (as root,
# initdb runs as postgres, who cannot enter e.g. a checkout under /root),
# else a directory of ours under /tmp.  Prints the one to use.
pg_dir() {
    local want=$1 parent
    mkdir -p "$want"
    parent=$(dirname "$want")
    if [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$parent" 2>/dev/null; then
        echo "$want"
        return 0
    fi
    local alt
    alt=/tmp/chorus-pg-$(echo "$want" | md5sum | cut -c1-12)
    mkdir -p "$alt"
    echo "pg.sh: postgres cannot reach $want; using $alt" >&2
    echo "$alt"
}

# pg_start DIR PORT: initdb DIR (unless it holds a cluster already) and start
# it (unless it runs already).
pg_start() {
    local dir=$1 port=$2 bin
    bin=$(pg_bindir) || return 1
    mkdir -p "$dir/sock"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir" "$dir/sock"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        mkdir -p "$dir/data"
        [ "$(id -u)" = 0 ] && chown postgres: "$dir/data"
        as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    fi
    if as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        return 0 # already running (a rerun of the quickstart)
    fi
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" \
        start >/dev/null || { tail -20 "$dir/postgres.log" >&2; return 1; }
}

# pg_stop DIR: fast shutdown, if it runs.
pg_stop() {
    local dir=$1 bin
    bin=$(pg_bindir) || return 1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_create_db DIR PORT NAME: create database NAME unless it exists.
pg_create_db() {
    local dir=$1 port=$2 name=$3
    if ! psql -h "$dir/sock" -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$name'" postgres |
        grep -q 1; then
        psql -h "$dir/sock" -p "$port" -U postgres -qc "CREATE DATABASE $name" postgres
    fi
}

# pg_dsn DIR PORT NAME: the DataSource chorus uses for it (TCP on loopback).
pg_dsn() {
    echo "postgres://postgres@127.0.0.1:$2/$3?sslmode=disable&connect_timeout=5"
}
