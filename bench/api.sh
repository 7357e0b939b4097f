#!/usr/bin/env bash
# API benchmark: authenticated GET /api/v4/users/me against GET
# /api/v4/system/ping on the same node (alternating rounds, wrk keep-alive),
# and POST /api/v4/posts throughput; run twice: with the shared session cache
# on (SessionCacheInMinutes 10) and off (0).  Starts its own PostgreSQL and
# chorusd, stops them on exit.  Last lines: the figures per mode, then
#   me_vs_ping=<ratio with the cache on>
#   WORKERS (2) ROUNDS (3) DURATION (5 s) CONNS (64) THREADS (2)
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
# shellcheck source=contrib/lib/pg.sh
. "$SRC/contrib/lib/pg.sh"

WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
CHORUSD=${CHORUSD:-$SRC/build/chorusd}
PORT=${CHORUS_PORT:-18765}

die() { echo "api.sh: $*" >&2; exit 1; }
for tool in wrk curl awk psql; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ -x "$CHORUSD" ] || die "$CHORUSD not found (build first)"

tmp=$(mktemp -d /tmp/chorus-api-bench.XXXXXX)
chmod 755 "$tmp"
chorus_pid=
cleanup() {
    [ -n "$chorus_pid" ] && kill "$chorus_pid" 2>/dev/null && wait "$chorus_pid" 2>/dev/null
    pg_stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

PG_PORT=$(free_port 26432)
pg_start "$tmp/pg" "$PG_PORT" >/dev/null || die "cannot start PostgreSQL"

URL=http://127.0.0.1:$PORT/api/v4
start_chorus() { # start_chorus CACHE_MINUTES
    pg_create_db "$tmp/pg" "$PG_PORT" "bench$1" >/dev/null
    mkdir -p "$tmp/n$1"
    MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$PORT MM_PROCESSSETTINGS_WORKERS=$WORKERS \
        MM_PROCESSSETTINGS_PIDFILE=$tmp/n$1/pid MM_LOGSETTINGS_FILELOCATION=$tmp/n$1 \
        MM_LOGSETTINGS_ENABLECONSOLE=false MM_LOGSETTINGS_FILELEVEL=WARN MM_FILESETTINGS_DIRECTORY=$tmp \
        MM_SERVICESETTINGS_SESSIONCACHEINMINUTES=$1 \
        MM_SQLSETTINGS_DATASOURCE="$(pg_dsn "$tmp/pg" "$PG_PORT" "bench$1")" \
        "$CHORUSD" -c "$SRC/etc/config.json" >"$tmp/n$1/out.log" 2>&1 &
    chorus_pid=$!
    for _ in $(seq 200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/system/ping?get_server_status=true")" = 200 ] && return 0
        sleep 0.05
    done
    die "chorusd did not become healthy"
}
stop_chorus() { kill "$chorus_pid"; wait "$chorus_pid" 2>/dev/null || true; chorus_pid=; }

# setup: the admin, a token, a team and a channel to post into
setup() {
    curl -sf -o /dev/null -X POST "$URL/users" -d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' ||
        die "cannot create the bench user"
    TOKEN=$(curl -si -X POST "$URL/users/login" -d '{"login_id":"bench","password":"bench-password"}' |
        awk 'tolower($1) == "token:" { print $2 }' | tr -d '\r')
    [ -n "$TOKEN" ] || die "cannot log in"
    TEAM=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$URL/teams" \
        -d '{"name":"bench","display_name":"Bench","type":"O"}' | sed -E 's/.*"id":"([a-z0-9]{26})".*/\1/;q') ||
        die "cannot create a team"
    CHANNEL=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$URL/channels" \
        -d "{\"team_id\":\"$TEAM\",\"name\":\"bench\",\"display_name\":\"Bench\",\"type\":\"O\"}" |
        sed -E 's/.*"id":"([a-z0-9]{26})".*/\1/;q') || die "cannot create a channel"
    cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"channel_id":"$CHANNEL","message":"benchmark message with a few words in it"}'
LUA
    cat >"$tmp/me.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
}

run_wrk() { # run_wrk NAME URL [SCRIPT]
    local out
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION"s ${3:+-s "$3"} "$2") || die "wrk failed ($1)"
    if printf '%s\n' "$out" | grep -qE 'Non-2xx|Socket errors'; then
        printf '%s: %s\n' "$1" "$(printf '%s\n' "$out" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ')" >&2
    fi
    printf '%s\n' "$out" | awk '/^Requests\/sec:/ { print $2 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure() { # measure MODE CACHE_MINUTES
    start_chorus "$2"
    setup
    : >"$tmp/ping.rps"
    : >"$tmp/me.rps"
    for round in $(seq "$ROUNDS"); do
        for name in ping me; do
            if [ "$name" = ping ]; then rps=$(run_wrk ping "$URL/system/ping"); else rps=$(run_wrk me "$URL/users/me" "$tmp/me.lua"); fi
            echo "$rps" >>"$tmp/$name.rps"
            printf '%s round %d: %-4s %10.0f req/s\n' "$1" "$round" "$name" "$rps"
        done
    done
    posts=$(run_wrk posts "$URL/posts" "$tmp/post.lua")
    ping_m=$(median <"$tmp/ping.rps")
    me_m=$(median <"$tmp/me.rps")
    printf '%s: ping %.0f req/s, users/me %.0f req/s, posts %.0f posts/s, me_vs_ping=%.2f\n' \
        "$1" "$ping_m" "$me_m" "$posts" "$(awk -v a="$me_m" -v b="$ping_m" 'BEGIN { print a / b }')"
    awk -v a="$me_m" -v b="$ping_m" 'BEGIN { printf "%.2f\n", a / b }' >"$tmp/ratio.$1"
    stop_chorus
}

echo "api bench: workers=$WORKERS rounds=$ROUNDS duration=${DURATION}s wrk -t$THREADS -c$CONNS"
measure cache-off 0
measure cache-on 10
echo "me_vs_ping=$(cat "$tmp/ratio.cache-on")"
