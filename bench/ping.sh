#!/bin/sh
# bench/ping.sh: throughput of chorusd's `GET /api/v4/system/ping` against
# nginx answering `return 200 '{"status":"OK"}'` with the same number of
# worker processes, measured with wrk over keep-alive connections.
#
# Rounds alternate between the two servers in one run (the order flips every
# round), each round's req/s is printed, then the medians, and the last line
# is exactly `ping_vs_nginx=<chorus median / nginx median>`.
#
# Run from anywhere; paths are relative to the top of the source tree.
# Environment:
#   WORKERS=2      worker processes for both servers
#   ROUNDS=5       rounds per server
#   DURATION=8     seconds per round
#   THREADS=2 CONNS=64   wrk -t / -c
#   BUILD=build    build directory;  CHORUSD=$BUILD/chorusd  the binary
#   CONFIG=etc/config.json
#   CHORUS_PORT=18065 NGINX_PORT=18080
#   CHORUS_BENCH_DSN  SqlSettings.DataSource (default: a closed port, which
#                     is fine because plain ping does not touch the database)
set -eu

cd "$(dirname "$0")/.."

WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-8}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
BUILD=${BUILD:-build}
CHORUSD=${CHORUSD:-$BUILD/chorusd}
CONFIG=${CONFIG:-etc/config.json}
CHORUS_PORT=${CHORUS_PORT:-18065}
NGINX_PORT=${NGINX_PORT:-18080}
DSN=${CHORUS_BENCH_DSN:-postgres://chorus:chorus@127.0.0.1:1/chorus?sslmode=disable&connect_timeout=1}

CHORUS_URL="http://127.0.0.1:$CHORUS_PORT/api/v4/system/ping"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/api/v4/system/ping"

die() { echo "ping.sh: $*" >&2; exit 1; }

for tool in wrk nginx curl awk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
[ -x "$CHORUSD" ] || die "$CHORUSD not found (build first, or set CHORUSD=path)"
[ -r "$CONFIG" ] || die "$CONFIG not readable"
for url in "$CHORUS_URL" "$NGINX_URL"; do
    if curl -s -o /dev/null --max-time 1 "$url"; then
        die "something already answers on $url"
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chorus-bench.XXXXXX")
chmod 755 "$tmp"
chorus_pid=
nginx_pid=

# stop_pid PID: TERM, wait up to 5 s, then KILL.
stop_pid() {
    kill -TERM "$1" 2>/dev/null || return 0
    n=0
    while kill -0 "$1" 2>/dev/null && [ "$n" -lt 50 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cleanup() {
    trap - EXIT INT TERM
    if [ -n "$chorus_pid" ]; then stop_pid "$chorus_pid"; fi
    if [ -n "$nginx_pid" ]; then stop_pid "$nginx_pid"; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_up URL PID NAME LOG: until URL answers 200 (10 s), while PID lives.
wait_up() {
    n=0
    until curl -fs -o /dev/null --max-time 1 "$1"; do
        kill -0 "$2" 2>/dev/null || { cat "$4" >&2; die "$3 exited at start"; }
        [ "$n" -lt 100 ] || { cat "$4" >&2; die "$3 did not answer $1"; }
        sleep 0.1
        n=$((n + 1))
    done
}

# --- nginx -------------------------------------------------------------------
mkdir "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $WORKERS;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            default_type application/json;
            return 200 '{"status":"OK"}';
        }
    }
}
EOF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
    >"$tmp/nginx/out.log" 2>&1 &
nginx_pid=$!

# --- chorusd -----------------------------------------------------------------
mkdir "$tmp/chorus"
MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$CHORUS_PORT \
MM_PROCESSSETTINGS_WORKERS=$WORKERS \
MM_PROCESSSETTINGS_PIDFILE=$tmp/chorus/chorusd.pid \
MM_LOGSETTINGS_FILELOCATION=$tmp/chorus \
MM_LOGSETTINGS_ENABLECONSOLE=false \
MM_LOGSETTINGS_CONSOLELEVEL=ERROR \
MM_SQLSETTINGS_DATASOURCE=$DSN \
MM_CLUSTERSETTINGS_ENABLE=false \
MM_METRICSSETTINGS_ENABLE=false \
    "$CHORUSD" -c "$CONFIG" >"$tmp/chorus/out.log" 2>&1 &
chorus_pid=$!

wait_up "$NGINX_URL" "$nginx_pid" nginx "$tmp/nginx/out.log"
wait_up "$CHORUS_URL" "$chorus_pid" chorusd "$tmp/chorus/out.log"

# run_wrk NAME URL SECONDS: prints req/s; warns on errors.
run_wrk() {
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$3"s "$2") || die "wrk failed against $1"
    errs=$(printf '%s\n' "$out" | grep -E 'Non-2xx|Socket errors' || true)
    [ -z "$errs" ] || printf '%s: %s\n' "$1" "$errs" >&2
    printf '%s\n' "$out" | awk '/^Requests\/sec:/ { print $2 }'
}

median() { # values on stdin, one a line
    sort -n | awk '{ v[NR] = $1 }
        END { if (NR == 0) { print 0; exit }
              if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]
              else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "ping bench: workers=$WORKERS rounds=$ROUNDS duration=${DURATION}s wrk -t$THREADS -c$CONNS"
echo "chorusd: $("$CHORUSD" -v 2>&1 | head -n 1)  nginx: $(nginx -v 2>&1 | sed 's/.*: //')"

# Warm-up, not counted.
run_wrk chorus "$CHORUS_URL" 2 >/dev/null
run_wrk nginx "$NGINX_URL" 2 >/dev/null

: >"$tmp/chorus.rps"
: >"$tmp/nginx.rps"
round=1
while [ "$round" -le "$ROUNDS" ]; do
    if [ $((round % 2)) -eq 1 ]; then order="chorus nginx"; else order="nginx chorus"; fi
    for name in $order; do
        if [ "$name" = chorus ]; then url=$CHORUS_URL; else url=$NGINX_URL; fi
        rps=$(run_wrk "$name" "$url" "$DURATION")
        [ -n "$rps" ] || die "no Requests/sec from wrk ($name)"
        echo "$rps" >>"$tmp/$name.rps"
        printf 'round %d: %-6s %12.2f req/s\n' "$round" "$name" "$rps"
    done
    kill -0 "$chorus_pid" 2>/dev/null || die "chorusd died during the run"
    round=$((round + 1))
done

chorus_median=$(median <"$tmp/chorus.rps")
nginx_median=$(median <"$tmp/nginx.rps")
printf 'median: chorus %.2f req/s, nginx %.2f req/s\n' "$chorus_median" "$nginx_median"
awk -v c="$chorus_median" -v n="$nginx_median" \
    'BEGIN { printf "ping_vs_nginx=%.2f\n", (n > 0 ? c / n : 0) }'
