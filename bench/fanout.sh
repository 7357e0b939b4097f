#!/usr/bin/env bash
# bench/fanout.sh: WebSocket fan-out of `posted` events, chorusd against a
# Node `ws` reference server (bench/ref/server.js), alternating in one run.
#
# For each N in NS and each round: a fresh server (chorusd on a private
# PostgreSQL, or the reference), then bench/wsload opens N WebSockets with one
# user's token (that user is a member of the channel, so every socket gets
# every post), idles, and posts RATE posts/s for DURATION s over keep-alive
# HTTP; it reports deliveries/s and post->delivery latency (p50/p99).  While
# the N sockets sit idle, the server's RSS (VmRSS of the master and all its
# children) is read; (after - before) / N is the memory per idle socket.
#
# The reference runs as a cluster of WORKERS processes by default (the same
# process count and cores as chorus; a single Node process is one thread and
# one core): NODE_MODE=single runs it as one process.  The load client shares
# the machine's cores with the server under test.
#
# Last two lines:
#   fanout_vs_node_ws=<chorus events/s / node events/s at the largest N (medians)>
#   bytes_per_socket=<chorus RSS per idle socket at the largest N (median)>
#
# Offered load: RATE posts/s x N sockets deliveries/s.  The default RATE is
# 200 (it was 100): at RATE=100 and N=5000 the bench offers 500,000
# deliveries/s, so a server can never show more than 500,000 / (what the
# reference delivers, 110,000-180,000/s on a 2-core machine), 2.8-4.5 times
# the reference, whatever it does; at 200 it offers 1,000,000/s at N=5000.
# The reference is saturated at either rate (it answers fewer posts: see
# posts=N of posts_requested=N), so the higher rate does not lower its figure.
# Both servers get the same settings in the same run, printed first.
#
# Environment: WORKERS (2) NS ("1000 5000") RATE (200) DURATION (5) ROUNDS (3)
#   DRAIN (5) NODE_MODE (cluster|single) TARGETS ("chorus node")
#   CHORUSD ($SRC/build/chorusd) CHORUS_PORT (18865) REF_PORT (18866)
#   POST_CONNS (8: keep-alive connections the posts go over, one request in
#   flight on each; posts due while all wait are sent late, posts_missed counts
#   those never sent)
# server_cpu_pct: CPU of the server's processes from the first post to the end
# of the run (100 = one core); client_cpu_pct: the same for wsload;
# db_cpu_pct: our PostgreSQL's (chorus only); others_cpu_pct: the rest of the
# machine.  A round where others_cpu_pct > NOISY (25) is noisy (another test
# run shared the cores): the medians use the quiet rounds when there are any.
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
# shellcheck source=contrib/lib/pg.sh
. "$SRC/contrib/lib/pg.sh"

WORKERS=${WORKERS:-2}
NS=${NS:-1000 5000}
RATE=${RATE:-200}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
DRAIN=${DRAIN:-5}
NODE_MODE=${NODE_MODE:-cluster}
TARGETS=${TARGETS:-chorus node}
POST_CONNS=${POST_CONNS:-8}
NOISY=${NOISY:-25}
CHORUSD=${CHORUSD:-$SRC/build/chorusd}
CHORUS_PORT=${CHORUS_PORT:-18865}
REF_PORT=${REF_PORT:-18866}

die() { echo "fanout.sh: $*" >&2; exit 1; }
for tool in cc curl awk psql node npm pgrep; do command -v "$tool" >/dev/null || die "$tool not found"; done
case " $TARGETS " in *" chorus "*) want_chorus=1 ;; *) want_chorus=0 ;; esac
[ "$want_chorus" = 0 ] || [ -x "$CHORUSD" ] || die "$CHORUSD not found (build first)"
case $NODE_MODE in
cluster) node_procs=$WORKERS ;;
single) node_procs=1 ;;
*) die "NODE_MODE is cluster or single" ;;
esac

# N sockets in wsload plus N accepted in the server: raise the open files limit.
max_n=0
for n in $NS; do [ "$n" -gt "$max_n" ] && max_n=$n; done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((max_n + 256)) ] || die "open files limit $(ulimit -n) is too low for N=$max_n"

tmp=$(mktemp -d /tmp/chorus-fanout.XXXXXX)
chmod 755 "$tmp"
server_pid=
wsload_pid=
pg_started=0

# stop_pid PID: TERM, wait up to 5 s, then KILL.
stop_pid() {
    kill -TERM "$1" 2>/dev/null || return 0
    local i=0
    while kill -0 "$1" 2>/dev/null && [ "$i" -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$wsload_pid" ]; then stop_pid "$wsload_pid"; fi
    if [ -n "$server_pid" ]; then stop_pid "$server_pid"; fi
    if [ "$pg_started" = 1 ]; then pg_stop "$tmp/pg" >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the load client and the reference ---------------------------------------
cc -O2 -Wall -o "$tmp/wsload" bench/wsload/wsload.c || die "cannot build bench/wsload/wsload.c"
if [ ! -d bench/ref/node_modules/ws ]; then
    (cd bench/ref && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in bench/ref failed"
fi
ws_version=$(node -p 'require("./bench/ref/node_modules/ws/package.json").version')

# --- chorusd on a private PostgreSQL -----------------------------------------
URL=http://127.0.0.1:$CHORUS_PORT/api/v4
start_chorus() {
    mkdir -p "$tmp/chorus"
    MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$CHORUS_PORT MM_PROCESSSETTINGS_WORKERS=$WORKERS \
        MM_PROCESSSETTINGS_PIDFILE=$tmp/chorus/pid MM_LOGSETTINGS_FILELOCATION=$tmp/chorus \
        MM_LOGSETTINGS_ENABLECONSOLE=false MM_LOGSETTINGS_FILELEVEL=WARN MM_FILESETTINGS_DIRECTORY=$tmp \
        MM_CLUSTERSETTINGS_ENABLE=false MM_METRICSSETTINGS_ENABLE=false \
        MM_SQLSETTINGS_DATASOURCE="$(pg_dsn "$tmp/pg" "$PG_PORT" fanout)" \
        "$CHORUSD" -c "$SRC/etc/config.json" >>"$tmp/chorus/out.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/system/ping?get_server_status=true")" = 200 ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    tail -20 "$tmp/chorus/out.log" >&2
    die "chorusd did not become healthy"
}
start_ref() {
    node bench/ref/server.js --port "$REF_PORT" --workers "$node_procs" >>"$tmp/ref.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 200); do
        curl -fs -o /dev/null "http://127.0.0.1:$REF_PORT/api/v4/system/ping" && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$tmp/ref.log" >&2
    die "the reference server did not start"
}
stop_server() { stop_pid "$server_pid"; server_pid=; }

# setup: an admin (the first user), its token, a team and a channel it is in.
setup_chorus() {
    curl -sf -o /dev/null -X POST "$URL/users" \
        -d '{"username":"fanout","email":"fanout@example.com","password":"fanout-password"}' ||
        die "cannot create the bench user"
    TOKEN=$(curl -si -X POST "$URL/users/login" -d '{"login_id":"fanout","password":"fanout-password"}' |
        awk 'tolower($1) == "token:" { print $2 }' | tr -d '\r')
    [ -n "$TOKEN" ] || die "cannot log in"
    local team
    team=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$URL/teams" \
        -d '{"name":"fanout","display_name":"Fanout","type":"O"}' | sed -E 's/.*"id":"([a-z0-9]{26})".*/\1/;q') ||
        die "cannot create a team"
    CHANNEL=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$URL/channels" \
        -d "{\"team_id\":\"$team\",\"name\":\"fanout\",\"display_name\":\"Fanout\",\"type\":\"O\"}" |
        sed -E 's/.*"id":"([a-z0-9]{26})".*/\1/;q') || die "cannot create a channel"
    # Does the endpoint upgrade?  (curl stops at its timeout after a 101.)
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
        -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
        -H "Authorization: Bearer $TOKEN" "$URL/websocket" || true)
    [ "$code" = 101 ] || die "chorusd answers $code, not 101, to a WebSocket upgrade on $URL/websocket (TARGETS=node runs the reference alone)"
}

if [ "$want_chorus" = 1 ]; then
    PG_PORT=$(free_port 26532)
    pg_start "$tmp/pg" "$PG_PORT" >/dev/null || die "cannot start PostgreSQL"
    pg_started=1
    pg_create_db "$tmp/pg" "$PG_PORT" fanout >/dev/null
    start_chorus
    setup_chorus
    stop_server
else
    TOKEN=reference-token
    CHANNEL=fanoutchannel0000000000000
fi

# rss_kb PID: VmRSS of PID and all its children, in kB.
rss_kb() {
    local total=0 p kb
    for p in "$1" $(pgrep -P "$1" || true); do
        kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}
# cpu_ticks PID: utime + stime of PID and all its children, in clock ticks.
cpu_ticks() {
    local total=0 p t
    for p in "$1" $(pgrep -P "$1" || true); do
        t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }' || true)
        total=$((total + ${t:-0}))
    done
    echo "$total"
}
HZ=$(getconf CLK_TCK)
# db_ticks: the same for our PostgreSQL (chorus's posts cost database time too).
db_ticks() {
    if [ "$pg_started" = 1 ] && [ -r "$tmp/pg/data/postmaster.pid" ]; then
        cpu_ticks "$(head -n 1 "$tmp/pg/data/postmaster.pid")"
    else
        echo 0
    fi
}
pct() { awk -v t="$1" -v hz="$HZ" -v ns="$2" 'BEGIN { printf "%.0f", 100 * t / hz / (ns / 1e9) }'; } # pct TICKS NS
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; } # ticks, all cores
kv() { # kv KEY LINE: the value of KEY=value in LINE
    printf '%s\n' "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run_one TARGET N ROUND: fresh server, wsload, RSS while idle; one line.
run_one() {
    local target=$1 n=$2 round=$3 wsurl posturl before after line i t0 t1 cpu0 cpu1 busy0 busy1 db0 db1
    if [ "$target" = chorus ]; then
        start_chorus
        wsurl=ws://127.0.0.1:$CHORUS_PORT/api/v4/websocket
        posturl=$URL/posts
    else
        start_ref
        wsurl=ws://127.0.0.1:$REF_PORT/api/v4/websocket
        posturl=http://127.0.0.1:$REF_PORT/api/v4/posts
    fi
    sleep 0.3
    before=$(rss_kb "$server_pid")
    : >"$tmp/wsload.out"
    : >"$tmp/wsload.err" # now, not in the child: no stale "ready" line seen
    "$tmp/wsload" -u "$wsurl" --post-url "$posturl" -n "$n" -t "$TOKEN" -c "$CHANNEL" -r "$RATE" \
        -d "$DURATION" --drain "$DRAIN" --post-conns "$POST_CONNS" --wait-signal \
        >"$tmp/wsload.out" 2>"$tmp/wsload.err" &
    wsload_pid=$!
    i=0
    until grep -q '^wsload: ready' "$tmp/wsload.err"; do
        kill -0 "$wsload_pid" 2>/dev/null || { cat "$tmp/wsload.err" >&2; die "wsload exited early ($target N=$n)"; }
        [ "$i" -lt 1200 ] || die "wsload did not connect within 120 s ($target N=$n)"
        sleep 0.1
        i=$((i + 1))
    done
    after=$(rss_kb "$server_pid")
    cpu0=$(cpu_ticks "$server_pid")
    db0=$(db_ticks)
    busy0=$(machine_busy)
    t0=$(date +%s%N)
    kill -USR1 "$wsload_pid"
    wait "$wsload_pid" || die "wsload failed ($target N=$n): $(cat "$tmp/wsload.err")"
    wsload_pid=
    cpu1=$(cpu_ticks "$server_pid")
    db1=$(db_ticks)
    busy1=$(machine_busy)
    t1=$(date +%s%N)
    kill -0 "$server_pid" 2>/dev/null || die "$target died during the run"
    stop_server
    line=$(tail -n 1 "$tmp/wsload.out")
    grep -v '^wsload: \(ready\|connected\)' "$tmp/wsload.err" | sed "s/^/  $target N=$n: /" >&2 || true
    local conn bps spct opct dpct
    conn=$(kv connected "$line")
    bps=$(awk -v a="$after" -v b="$before" -v n="$conn" 'BEGIN { printf "%d", (n > 0 ? (a - b) * 1024 / n : 0) }')
    spct=$(pct "$((cpu1 - cpu0))" "$((t1 - t0))")
    dpct=$(pct "$((db1 - db0))" "$((t1 - t0))")
    # everything else the machine ran meanwhile (other tests, builds): noise
    opct=$(awk -v m="$(pct "$((busy1 - busy0))" "$((t1 - t0))")" -v s="$spct" -v d="$dpct" -v c="$(kv client_cpu_pct "$line")" \
        'BEGIN { o = m - s - d - c; printf "%.0f", (o > 0 ? o : 0) }')
    printf 'N=%-5s %-6s round %d: %s server_cpu_pct=%s db_cpu_pct=%s others_cpu_pct=%s rss_before_kb=%s rss_idle_kb=%s bytes_per_socket=%s\n' \
        "$n" "$target" "$round" "$line" "$spct" "$dpct" "$opct" "$before" "$after" "$bps"
    [ "$opct" -le "$NOISY" ] || echo "  noisy: other processes used ${opct}% CPU during this round; left out of the medians if a quiet round exists" >&2
    echo "$(kv events_per_s "$line") $(kv p50_ms "$line") $(kv p99_ms "$line") $bps $spct $(kv client_cpu_pct "$line")" \
        "$((after - before))" "$opct" "$(kv posts "$line")" "$(kv errors "$line")" >>"$tmp/res.$target.$n"
}

echo "fanout bench: workers=$WORKERS N=[$NS] rate=${RATE} posts/s duration=${DURATION}s rounds=$ROUNDS" \
    "post_conns=$POST_CONNS offered=[$(for n in $NS; do printf ' %s' $((n * RATE)); done | cut -c2-)] deliveries/s"
echo "chorusd: $([ "$want_chorus" = 1 ] && "$CHORUSD" -v 2>&1 | head -n 1)  reference: node $(node -v) ws $ws_version," \
    "$([ "$node_procs" -gt 1 ] && echo "cluster of $node_procs processes (as many as chorus workers)" || echo "one process (single-threaded)")"
echo "one user's token on all N sockets; each post is delivered to all N; load client on the same cores"

read -ra targets <<<"$TARGETS"
for n in $NS; do
    for round in $(seq "$ROUNDS"); do
        order=("${targets[@]}")
        if [ $((round % 2)) -eq 0 ]; then # the order flips every round
            order=()
            for ((i = ${#targets[@]} - 1; i >= 0; i--)); do order+=("${targets[i]}"); done
        fi
        for target in "${order[@]}"; do run_one "$target" "$n" "$round"; done
    done
done

# col TARGET N COLUMN: that column of the quiet rounds (all rounds if none was quiet).
col() {
    awk -v c="$3" -v q="$NOISY" '{ v[NR] = $c; if ($8 <= q) w[++k] = $c }
        END { if (k) for (i = 1; i <= k; i++) print w[i]; else for (i = 1; i <= NR; i++) print v[i] }' "$tmp/res.$1.$2"
}
quiet() { awk -v q="$NOISY" '$8 <= q { k++ } END { print k + 0 "/" NR }' "$tmp/res.$1.$2"; }

echo "medians (of the quiet rounds: others_cpu_pct <= $NOISY):"
for n in $NS; do
    for target in "${targets[@]}"; do
        printf '  N=%-5s %-6s events/s %7.0f  p50 %8.3f ms  p99 %8.3f ms  %6.0f bytes/socket  cpu %3.0f%% (client %3.0f%%)  posts %4.0f/%d  errors %.0f  quiet rounds %s\n' \
            "$n" "$target" "$(col "$target" "$n" 1 | median)" "$(col "$target" "$n" 2 | median)" \
            "$(col "$target" "$n" 3 | median)" "$(col "$target" "$n" 4 | median)" \
            "$(col "$target" "$n" 5 | median)" "$(col "$target" "$n" 6 | median)" \
            "$(col "$target" "$n" 9 | median)" "$(awk -v r="$RATE" -v d="$DURATION" 'BEGIN { printf "%.0f", r * d }')" \
            "$(col "$target" "$n" 10 | median)" "$(quiet "$target" "$n")"
    done
done
# Marginal memory: the RSS slope between the smallest and the largest N, free
# of what the first connections cost once (arenas, pools, caches).
min_n=$max_n
for n in $NS; do [ "$n" -lt "$min_n" ] && min_n=$n; done
if [ "$min_n" -lt "$max_n" ]; then
    for target in "${targets[@]}"; do
        lo=$(col "$target" "$min_n" 7 | median)
        hi=$(col "$target" "$max_n" 7 | median)
        awk -v t="$target" -v lo="$lo" -v hi="$hi" -v a="$min_n" -v b="$max_n" \
            'BEGIN { printf "  %s: %.0f bytes per additional idle socket (RSS slope from N=%d to N=%d)\n", t, (hi - lo) * 1024 / (b - a), a, b }'
    done
fi
if [ "$want_chorus" = 1 ] && [ -f "$tmp/res.node.$max_n" ]; then
    c=$(col chorus "$max_n" 1 | median)
    r=$(col node "$max_n" 1 | median)
    awk -v c="$c" -v r="$r" 'BEGIN { printf "fanout_vs_node_ws=%.2f\n", (r > 0 ? c / r : 0) }'
else
    echo "fanout_vs_node_ws=NA"
fi
if [ "$want_chorus" = 1 ]; then
    echo "bytes_per_socket=$(col chorus "$max_n" 4 | median)"
else
    echo "bytes_per_socket=NA"
fi
