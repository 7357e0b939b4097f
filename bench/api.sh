#!/usr/bin/env bash
# API benchmark: authenticated GET /api/v4/users/me against GET
# /api/v4/system/ping on the same node (alternating rounds, wrk keep-alive),
# and POST /api/v4/posts throughput; run twice: with the shared session cache
# on (SessionCacheInMinutes 10) and off (0).  Starts its own PostgreSQL and
# chorusd, stops them on exit.  Then, when pgbouncer is installed (PGBOUNCER
# not 0), the same node's POST /posts and a database read no cache answers
# (POST /users/ids) directly and through PgBouncer in transaction mode
# (POOL_SIZE server connections), in alternating rounds, with the shipped
# config; and 4 nodes through it under load: the connections PostgreSQL
# sees.  Last lines: the figures per mode, then
#   me_vs_ping=<ratio with the cache on>
#   pgbouncer_vs_direct=<posts ratio> <read ratio>, pg_server_conns=<n>
# (a third node, direct with PrepareStatements false, tells the pooler's hop
# from the unnamed statements the pooled node falls back to)
#   WORKERS (2) ROUNDS (3) DURATION (5 s) CONNS (64) THREADS (2) POOL_SIZE (20)
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
POOL_SIZE=${POOL_SIZE:-20}
PGBOUNCER=${PGBOUNCER:-1}
command -v pgbouncer >/dev/null || PGBOUNCER=0

die() { echo "api.sh: $*" >&2; exit 1; }
for tool in wrk curl awk psql; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ -x "$CHORUSD" ] || die "$CHORUSD not found (build first)"

tmp=$(mktemp -d /tmp/chorus-api-bench.XXXXXX)
chmod 755 "$tmp"
chorus_pid=
more_pids=()
cleanup() {
    [ -n "$chorus_pid" ] && kill "$chorus_pid" 2>/dev/null && wait "$chorus_pid" 2>/dev/null
    for pid in "${more_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    [ -f "$tmp/pgb/pid" ] && kill "$(cat "$tmp/pgb/pid")" 2>/dev/null
    pg_stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

PG_PORT=$(free_port 26432)
pg_start "$tmp/pg" "$PG_PORT" >/dev/null || die "cannot start PostgreSQL"

URL=http://127.0.0.1:$PORT/api/v4
# node NAME PORT DSN CACHE_MINUTES: starts a node in the background ($!)
node() {
    mkdir -p "$tmp/n$1"
    MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$2 MM_PROCESSSETTINGS_WORKERS=$WORKERS \
        MM_PROCESSSETTINGS_PIDFILE=$tmp/n$1/pid MM_LOGSETTINGS_FILELOCATION=$tmp/n$1 \
        MM_LOGSETTINGS_ENABLECONSOLE=false MM_LOGSETTINGS_FILELEVEL=WARN MM_FILESETTINGS_DIRECTORY=$tmp \
        MM_SERVICESETTINGS_SESSIONCACHEINMINUTES=$4 MM_SQLSETTINGS_DATASOURCE="$3" \
        "$CHORUSD" -c "$SRC/etc/config.json" >"$tmp/n$1/out.log" 2>&1 &
}
wait_healthy() { # wait_healthy PORT
    for _ in $(seq 400); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/api/v4/system/ping?get_server_status=true")" = 200 ] &&
            return 0
        sleep 0.05
    done
    die "chorusd on port $1 did not become healthy"
}
start_chorus() { # start_chorus CACHE_MINUTES
    pg_create_db "$tmp/pg" "$PG_PORT" "bench$1" >/dev/null
    node "$1" "$PORT" "$(pg_dsn "$tmp/pg" "$PG_PORT" "bench$1")" "$1"
    chorus_pid=$!
    wait_healthy "$PORT"
}
stop_chorus() { kill "$chorus_pid"; wait "$chorus_pid" 2>/dev/null || true; chorus_pid=; }

# setup: the admin, a token, a team and a channel to post into
setup() {
    local URL=${1:-$URL}
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
    USER_ID=$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/users/me" | sed -E 's/.*"id":"([a-z0-9]{26})".*/\1/;q')
    cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"channel_id":"$CHANNEL","message":"benchmark message with a few words in it"}'
LUA
    cat >"$tmp/me.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
    cat >"$tmp/ids.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '["$USER_ID"]'
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

# ---- PgBouncer (transaction mode) in front of the same PostgreSQL --------
# (it refuses to run as root: as postgres, as the server)
start_pgbouncer() {
    mkdir -p "$tmp/pgb"
    echo '"postgres" ""' >"$tmp/pgb/users"
    cat >"$tmp/pgb/ini" <<INI
[databases]
* = host=$tmp/pg/sock port=$PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir = $tmp/pgb
auth_type = trust
auth_file = $tmp/pgb/users
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = 4000
logfile = $tmp/pgb/log
pidfile = $tmp/pgb/pid
INI
    [ "$(id -u)" = 0 ] && chown -R postgres: "$tmp/pgb"
    as_postgres pgbouncer -d "$tmp/pgb/ini" || die "pgbouncer did not start"
}
server_conns() { # server_conns DB: the backends PostgreSQL runs for DB
    psql -h "$tmp/pg/sock" -p "$PG_PORT" -U postgres -tAc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1'" postgres
}

pooled() {
    PGB_PORT=$(free_port $((PG_PORT + 1)))
    start_pgbouncer
    local bport=$((PORT + 1)) d b
    pg_create_db "$tmp/pg" "$PG_PORT" benchdirect >/dev/null
    pg_create_db "$tmp/pg" "$PG_PORT" benchpooled >/dev/null
    node direct "$PORT" "$(pg_dsn "$tmp/pg" "$PG_PORT" benchdirect)" 10
    chorus_pid=$!
    node pooled "$bport" "postgres://postgres@127.0.0.1:$PGB_PORT/benchpooled?sslmode=disable&connect_timeout=5" 10
    more_pids+=($!)
    pg_create_db "$tmp/pg" "$PG_PORT" benchunnamed >/dev/null
    MM_SQLSETTINGS_PREPARESTATEMENTS=false node unnamed "$((PORT + 5))" "$(pg_dsn "$tmp/pg" "$PG_PORT" benchunnamed)" 10
    more_pids+=($!)
    wait_healthy "$PORT"
    wait_healthy "$bport"
    wait_healthy "$((PORT + 5))"
    for d in direct pooled unnamed; do
        case $d in
        direct) b=http://127.0.0.1:$PORT/api/v4 ;;
        pooled) b=http://127.0.0.1:$bport/api/v4 ;;
        *) b=http://127.0.0.1:$((PORT + 5))/api/v4 ;;
        esac
        setup "$b"
        mv "$tmp/post.lua" "$tmp/post.$d.lua"
        mv "$tmp/ids.lua" "$tmp/ids.$d.lua"
        echo "$b" >"$tmp/url.$d"
    done
    for round in $(seq "$ROUNDS"); do
        for name in ids posts; do
            for d in direct pooled unnamed; do
                if [ $name = ids ]; then
                    rps=$(run_wrk "$d ids" "$(cat "$tmp/url.$d")/users/ids" "$tmp/ids.$d.lua")
                else
                    rps=$(run_wrk "$d posts" "$(cat "$tmp/url.$d")/posts" "$tmp/post.$d.lua")
                fi
                echo "$rps" >>"$tmp/$d.$name.rps"
                printf 'round %d: %-6s %-5s %10.0f req/s\n' "$round" "$d" "$name" "$rps"
            done
        done
    done
    local r_posts r_ids
    r_posts=$(awk -v a="$(median <"$tmp/pooled.posts.rps")" -v b="$(median <"$tmp/direct.posts.rps")" 'BEGIN { printf "%.2f", a / b }')
    r_ids=$(awk -v a="$(median <"$tmp/pooled.ids.rps")" -v b="$(median <"$tmp/direct.ids.rps")" 'BEGIN { printf "%.2f", a / b }')
    printf 'direct: posts %.0f/s, users/ids %.0f/s; through PgBouncer: posts %.0f/s, users/ids %.0f/s\n' \
        "$(median <"$tmp/direct.posts.rps")" "$(median <"$tmp/direct.ids.rps")" \
        "$(median <"$tmp/pooled.posts.rps")" "$(median <"$tmp/pooled.ids.rps")"
    printf 'direct with PrepareStatements false (what the pooled node falls back to): posts %.0f/s, users/ids %.0f/s\n' \
        "$(median <"$tmp/unnamed.posts.rps")" "$(median <"$tmp/unnamed.ids.rps")"
    stop_chorus
    # 4 nodes through PgBouncer, each under load at once: what PostgreSQL sees
    local i p peak=0 n
    for i in 2 3 4; do
        p=$((PORT + i))
        node "pooled$i" "$p" "postgres://postgres@127.0.0.1:$PGB_PORT/benchpooled?sslmode=disable&connect_timeout=5" 10
        more_pids+=($!)
        wait_healthy "$p"
    done
    local wrks=()
    for i in 1 2 3 4; do
        wrk -t1 -c32 -d"$DURATION"s -s "$tmp/ids.pooled.lua" "http://127.0.0.1:$((PORT + i))/api/v4/users/ids" >/dev/null &
        wrks+=($!)
    done
    for _ in $(seq $((DURATION * 4))); do
        n=$(server_conns benchpooled)
        [ "$n" -le "$peak" ] || peak=$n
        sleep 0.25
    done
    n=$(ss -tnH state established "dport = :$PGB_PORT" | wc -l)
    wait "${wrks[@]}"
    echo "4 nodes x $WORKERS workers through PgBouncer: PostgreSQL saw at most $peak connections (pool size $POOL_SIZE); chorus holds $n client connections to PgBouncer"
    echo "pgbouncer_vs_direct=$r_posts (POST /posts) $r_ids (POST /users/ids), pg_server_conns=$peak"
}

echo "api bench: workers=$WORKERS rounds=$ROUNDS duration=${DURATION}s wrk -t$THREADS -c$CONNS"
measure cache-off 0
measure cache-on 10
echo "me_vs_ping=$(cat "$tmp/ratio.cache-on")"
[ "$PGBOUNCER" = 0 ] || pooled
