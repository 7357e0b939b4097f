#!/usr/bin/env bash
# Runs a local chorus cluster: a private PostgreSQL, two chorusd nodes on
# :8065 and :8066 (each with its config, logs and files under var/), and
# nginx on :8080 in front of them with contrib/nginx/chorus.conf.
#   contrib/quickstart.sh         start (or start again, reusing the data)
#   contrib/quickstart.sh stop    stop all of it
#   contrib/quickstart.sh status  show what runs
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
VAR=${QUICKSTART_VAR:-$SRC/var}
# shellcheck source=contrib/lib/deps.sh
. "$SRC/contrib/lib/deps.sh"
# shellcheck source=contrib/lib/pg.sh
. "$SRC/contrib/lib/pg.sh"

NODES="1:8065 2:8066"
PROXY_PORT=8080

node_config() { # node_config N PORT DSN: a node's config.json (defaults for the rest)
    cat <<JSON
{
  "ServiceSettings": { "SiteURL": "http://127.0.0.1:$PROXY_PORT", "ListenAddress": "127.0.0.1:$2" },
  "SqlSettings": { "DriverName": "postgres", "DataSource": "$3" },
  "LogSettings": { "EnableConsole": false, "FileLocation": "$VAR/node$1/logs" },
  "FileSettings": { "DriverName": "local", "Directory": "$VAR/files/" },
  "ComplianceSettings": { "Directory": "$VAR/files/" },
  "ClusterSettings": { "Enable": true, "ClusterName": "quickstart", "OverrideHostname": "127.0.0.1",
                       "GossipPort": $((8072 + 2 * $1)), "StreamingPort": $((8073 + 2 * $1)) },
  "ProcessSettings": { "Workers": 0, "PidFile": "$VAR/node$1/chorusd.pid" }
}
JSON
}

stop_all() {
    local n spec pid
    if [ -f "$VAR/nginx/nginx.pid" ]; then
        nginx -p "$VAR/nginx/" -c "$SRC/contrib/nginx/chorus.conf" -g "pid $VAR/nginx/nginx.pid;" -s quit 2>/dev/null || true
    fi
    for spec in $NODES; do
        n=${spec%%:*}
        [ -f "$VAR/node$n/config.json" ] || continue
        pid=$(cat "$VAR/node$n/chorusd.pid" 2>/dev/null) || continue
        "$BUILD/chorusd" -s quit -c "$VAR/node$n/config.json" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    if [ -f "$VAR/pg.dir" ]; then pg_stop "$(cat "$VAR/pg.dir")"; fi
    echo "chorus quickstart stopped (data kept in $VAR)"
}

status() {
    local spec n
    for spec in $NODES; do
        n=${spec%%:*}
        printf 'node%s (:%s): ' "$n" "${spec##*:}"
        curl -s "http://127.0.0.1:${spec##*:}/api/v4/system/ping?get_server_status=true&use_rest_semantics=true" || printf 'down'
        echo
    done
    printf 'nginx (:%s): ' "$PROXY_PORT"
    curl -s "http://127.0.0.1:$PROXY_PORT/api/v4/system/ping" || printf 'down'
    echo
}

wait_http() { # wait_http URL
    for _ in $(seq 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
    echo "quickstart: $1 does not answer" >&2
    return 1
}

start_all() {
    local pg_port dsn spec n port
    # shellcheck disable=SC2086
    install_packages $CHORUS_BUILD_PACKAGES $CHORUS_RUN_PACKAGES
    stop_distribution_services
    build_chorus "$SRC" "$BUILD"
    mkdir -p "$VAR/files" "$VAR/nginx"
    chmod 755 "$VAR" "$VAR/nginx" # nginx workers run as nobody

    PG=$(pg_dir "$VAR/pg")
    echo "$PG" >"$VAR/pg.dir"
    if [ -f "$PG/port" ]; then pg_port=$(cat "$PG/port"); else pg_port=$(free_port 25432); fi
    pg_start "$PG" "$pg_port"
    echo "$pg_port" >"$PG/port"
    pg_create_db "$PG" "$pg_port" chorus
    dsn=$(pg_dsn "$PG" "$pg_port" chorus)

    for spec in $NODES; do
        n=${spec%%:*}
        port=${spec##*:}
        mkdir -p "$VAR/node$n/logs"
        node_config "$n" "$port" "$dsn" >"$VAR/node$n/config.json"
        if "$BUILD/chorusd" -s reopen -c "$VAR/node$n/config.json" 2>/dev/null; then
            echo "node$n already runs"
        else
            (cd "$VAR/node$n" && "$BUILD/chorusd" -d -c "$VAR/node$n/config.json")
        fi
        wait_http "http://127.0.0.1:$port/api/v4/system/ping"
    done
    if ! nginx -p "$VAR/nginx/" -c "$SRC/contrib/nginx/chorus.conf" -g "pid $VAR/nginx/nginx.pid;" -s reload 2>/dev/null; then
        nginx -p "$VAR/nginx/" -c "$SRC/contrib/nginx/chorus.conf" -g "pid $VAR/nginx/nginx.pid;"
    fi
    wait_http "http://127.0.0.1:$PROXY_PORT/api/v4/system/ping"

    cat <<TXT
chorus is running:
  http://127.0.0.1:$PROXY_PORT/   nginx in front of both nodes (use this one)
  http://127.0.0.1:8065/   node1   config $VAR/node1/config.json   logs $VAR/node1/logs/
  http://127.0.0.1:8066/   node2   config $VAR/node2/config.json   logs $VAR/node2/logs/
  postgres://postgres@127.0.0.1:$pg_port/chorus   PostgreSQL, data in $PG/
health:  curl 'http://127.0.0.1:$PROXY_PORT/api/v4/system/ping?get_server_status=true'
cluster: gossip on UDP 8074/8076, links on TCP 8075/8077; GET /api/v4/cluster/status as an admin
reload:  $BUILD/chorusd -s reload -c $VAR/node1/config.json
stop:    contrib/quickstart.sh stop
TXT
}

case "${1:-start}" in
start) start_all ;;
stop) stop_all ;;
status) status ;;
*) echo "usage: contrib/quickstart.sh [start|stop|status]" >&2; exit 1 ;;
esac
