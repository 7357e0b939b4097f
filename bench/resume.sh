#!/usr/bin/env bash
# bench/resume.sh: what a WebSocket resume costs when the reconnect lands on
# another node of the cluster (ws/replay_cluster.c) rather than on the node
# that kept it (ws/replay.c).
#
# Two nodes (a, b) of one cluster on loopback, one private PostgreSQL,
# WORKERS workers each, each node in its own process group.  N users, made
# through the admin API and each logged in once before anything is timed
# (two bcrypts per user, CONCURRENCY at a time), all members of one channel.
#
# ROUNDS rounds; each runs both modes, local first in odd rounds and cross
# first in even ones (bench/resume/resume.mjs does one mode of one round):
#   every user opens a resumable socket on node a (?connection_id=&
#   sequence_number=0, Authorization: Bearer) and gets its hello; when no
#   frame has come for QUIET_MS, the client closes every socket (and waits
#   for the server's close frame); K posts go into the channel through node
#   a's REST API, one after the other; then all N sockets reconnect at once
#   (a burst, as when a balancer moves many clients) with their
#   connection_id and next sequence_number,
#     local   to node a, which kept them;
#     cross   to node b, which asks the cluster, and node a answers.
# Resume latency of one reconnect: from opening its socket until it has all
# K missed `posted` events (a burst of N: the later sockets of the burst
# wait behind the earlier ones, and the client shares the cores).  A
# reconnect is
#   resumed  no hello, the K posts exactly once and in order, the seqs
#            continuing from the old socket's next seq without gap or repeat
#            (other events in between are allowed and counted: "other");
#   fresh    it got a hello (a new connection: the resume failed);
#   wrong    anything else (the reason is counted: seq_gap, post_missing..).
# Per mode, over the resumed reconnects of all rounds: p50, p99, max; then
# cross/local ratios of p50 and p99 (the reference is the local resume of
# the same run).  Then, for comparison, FRESH_N reconnects per round to node
# b with unknown connection ids (26 random lowercase alphanumerics): the
# time to hello, which waits for the cluster's answer that never comes
# (WS_CLUSTER_WAIT_MS, 1 s).
#
# At the end, what the nodes' logs say: resumes from another node (b) and
# hand-overs (a), which should match the cross reconnects, and their
# warnings and errors.
# Last line: resume_cross_vs_local_p50=<cross p50 / local p50> (2 decimals).
#
# Environment: N (200) K (5) ROUNDS (5) WORKERS (1) CONCURRENCY (4)
#   QUIET_MS (300) SETTLE_MS (500: after a burst, for late or repeated
#   frames) TIMEOUT (15 s per burst) FRESH_N (50; 0 skips the fresh mode)
#   LOGLEVEL (INFO, the nodes' file log level; the resume lines are INFO)
#   SHM_MB (64, chorus's default ShmSizeMB: the replay cache that keeps
#   dropped sockets is 1/8 of it, ~2.1 KB an entry in 8-way buckets, a
#   power of two of them: 2,048 entries at 64 MiB (256 before it was raised
#   from 1/64).  A burst of N drops near or past that evicts some (they
#   reconnect fresh))
#   DB_CONNS (100 / WORKERS: MaxOpenConns of each process's pool; the
#   default 300 lets a burst of session look-ups on two nodes exhaust our
#   PostgreSQL's max_connections of 300, "too many clients")
#   BASE_PORT (18500)
#   KEEP (0; 1 keeps the temp dir with every node's logs and prints its path)
#   CHORUSD ($SRC/build/chorusd; copied first, so a rebuild during the run
#   changes nothing)
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
# shellcheck source=contrib/lib/pg.sh
. "$SRC/contrib/lib/pg.sh"
# shellcheck source=bench/lib/cluster.sh
. "$SRC/bench/lib/cluster.sh"

N=${N:-200}
K=${K:-5}
ROUNDS=${ROUNDS:-5}
WORKERS=${WORKERS:-1}
CONCURRENCY=${CONCURRENCY:-4}
QUIET_MS=${QUIET_MS:-300}
SETTLE_MS=${SETTLE_MS:-500}
TIMEOUT=${TIMEOUT:-15}
FRESH_N=${FRESH_N:-50}
LOGLEVEL=${LOGLEVEL:-INFO}
SHM_MB=${SHM_MB:-64}
DB_CONNS=${DB_CONNS:-$((100 / WORKERS))}
BASE_PORT=${BASE_PORT:-18500}
KEEP=${KEEP:-0}
CHORUSD=${CHORUSD:-$SRC/build/chorusd}

die() { echo "resume.sh: $*" >&2; exit 1; }
for tool in curl awk psql node pgrep ss setsid; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ -x "$CHORUSD" ] || die "$CHORUSD not found (build first)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# N sockets in the client, N on the server, and closing ones of the last burst
[ "$(ulimit -n)" -ge $((3 * N + 256)) ] || die "open files limit $(ulimit -n) is too low for N=$N"
[ "$FRESH_N" -le "$N" ] || FRESH_N=$N

# `ws` for the client: the client tests' copy, else bench/ref's (fanout.sh's)
WS_DIR=
for d in tests/client bench/ref; do
    [ -f "$d/node_modules/ws/package.json" ] && { WS_DIR=$SRC/$d; break; }
done
if [ -z "$WS_DIR" ]; then
    (cd bench/ref && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci in bench/ref failed"
    WS_DIR=$SRC/bench/ref
fi
export RESUME_WS_DIR=$WS_DIR

tmp=$(mktemp -d /tmp/chorus-resume.XXXXXX)
chmod 755 "$tmp"
NAMES=(a b)
declare -A WS
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bench_ports "$BASE_PORT"
for n in "${NAMES[@]}"; do WS[$n]=ws://127.0.0.1:${PORT[$n]}/api/v4/websocket; done

BIN=$tmp/chorusd
cp "$CHORUSD" "$BIN"
HELPER=$SRC/bench/resume/resume.mjs

bench_pg_start 26642 resume
NODE_ENV=(MM_PROCESSSETTINGS_SHMSIZEMB="$SHM_MB" MM_TEAMSETTINGS_MAXUSERSPERTEAM=$((N + 10))
    MM_SQLSETTINGS_MAXOPENCONNS="$DB_CONNS" MM_CLUSTERSETTINGS_CLUSTERNAME=resume)

# pct P FILE: the P-th percentile (nearest rank) of FILE's numbers; max: P=100
pct() { sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "NA"; exit }
    r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1; printf "%.1f", v[r] }'; }
jget() { sed -E "s/.*\"$1\":\"([a-z0-9]{26})\".*/\1/;q"; }

echo "resume bench: 2 nodes x $WORKERS worker(s) on loopback (ShmSizeMB $SHM_MB), N=$N sockets, K=$K missed posts, $ROUNDS rounds," \
    "reconnects in bursts of $N"
echo "chorusd: $("$BIN" -v 2>&1 | head -n 1); client: node $(node -v), ws from ${WS_DIR#"$SRC"/}"
for n in "${NAMES[@]}"; do bench_node_start "$n"; done
bench_admin_token resume
line=$(bench_all_green 30) || die "the two nodes did not become green"
echo "cluster formed: all green after $(kv ms "$line") ms; a=${ID[a]} b=${ID[b]}"

TEAM=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "${URL[a]}/api/v4/teams" \
    -d '{"name":"resume","display_name":"Resume","type":"O"}' | jget id) || die "cannot create a team"
CHANNEL=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "${URL[a]}/api/v4/channels" \
    -d "{\"team_id\":\"$TEAM\",\"name\":\"resume\",\"display_name\":\"Resume\",\"type\":\"O\"}" | jget id) ||
    die "cannot create a channel"
line=$(node "$HELPER" setup "{\"url\":\"${URL[a]}\",\"token\":\"$TOKEN\",\"team\":\"$TEAM\",\"channel\":\"$CHANNEL\",\"n\":$N,\"concurrency\":$CONCURRENCY,\"out\":\"$tmp/users.json\"}") ||
    die "cannot create the users"
echo "$(kv users "$line") users in the channel: created in $(kv create_ms "$line") ms, logged in in $(kv login_ms "$line") ms (not timed below)"

: >"$tmp/lat.local"
: >"$tmp/lat.cross"
: >"$tmp/lat.fresh"
: >"$tmp/rounds"
run_mode() { # run_mode local|cross ROUND
    local target=${WS[a]} out
    [ "$1" = cross ] && target=${WS[b]}
    out=$(node "$HELPER" round "{\"mode\":\"$1\",\"round\":$2,\"users\":\"$tmp/users.json\",\"wsA\":\"${WS[a]}\",\"wsTarget\":\"$target\",\"postUrl\":\"${URL[a]}\",\"token\":\"$TOKEN\",\"channel\":\"$CHANNEL\",\"k\":$K,\"quietMs\":$QUIET_MS,\"settleMs\":$SETTLE_MS,\"timeoutMs\":$((TIMEOUT * 1000)),\"lat\":\"$tmp/lat.$1\"}" \
        2>"$tmp/helper.err") || die "round $2 ($1) failed: $(cat "$tmp/helper.err")"
    sed "s/^/round $2 $1 /" "$tmp/helper.err" >>"$tmp/helper.log"
    printf '  round %d %-5s: resumed %s fresh %s wrong %s; p50 %s ms p99 %s ms max %s ms; burst done in %s ms; other events %s (%s); wrong: %s\n' \
        "$2" "$1" "$(kv resumed "$out")" "$(kv fresh "$out")" "$(kv wrong "$out")" "$(kv p50_ms "$out")" \
        "$(kv p99_ms "$out")" "$(kv max_ms "$out")" "$(kv burst_ms "$out")" "$(kv other_events "$out")" \
        "$(kv other "$out")" "$(kv reasons "$out")"
    echo "$1 $(kv resumed "$out") $(kv fresh "$out") $(kv wrong "$out")" >>"$tmp/rounds"
}
run_fresh() { # run_fresh ROUND
    local out
    out=$(node "$HELPER" fresh "{\"users\":\"$tmp/users.json\",\"wsTarget\":\"${WS[b]}\",\"n\":$FRESH_N,\"timeoutMs\":$((TIMEOUT * 1000)),\"lat\":\"$tmp/lat.fresh\"}" \
        2>"$tmp/helper.err") || die "round $1 (fresh) failed: $(cat "$tmp/helper.err")"
    printf '  round %d fresh: hello %s of %s (same id as asked: %s); p50 %s ms max %s ms\n' "$1" \
        "$(kv hello "$out")" "$(kv n "$out")" "$(kv same_id "$out")" "$(kv p50_ms "$out")" "$(kv max_ms "$out")"
    echo "fresh $(kv hello "$out") $(kv no_hello "$out") $(kv same_id "$out")" >>"$tmp/rounds"
}
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then run_mode local "$round" && run_mode cross "$round"; else
        run_mode cross "$round" && run_mode local "$round"
    fi
    [ "$FRESH_N" -gt 0 ] && run_fresh "$round"
done

sum() { awk -v m="$1" -v c="$2" '$1 == m { s += $c } END { print s + 0 }' "$tmp/rounds"; }
echo "resume latency, open -> all $K missed posts, bursts of $N, over $ROUNDS rounds ($((N * ROUNDS)) reconnects per mode):"
for m in local cross; do
    printf '  %-5s (node %s kept it, reconnect to node %s): p50 %s ms  p99 %s ms  max %s ms;  resumed %d, fresh %d, wrong %d\n' \
        "$m" a "$([ "$m" = local ] && echo a || echo b)" "$(pct 50 "$tmp/lat.$m")" "$(pct 99 "$tmp/lat.$m")" \
        "$(pct 100 "$tmp/lat.$m")" "$(sum "$m" 2)" "$(sum "$m" 3)" "$(sum "$m" 4)"
done
LP50=$(pct 50 "$tmp/lat.local") CP50=$(pct 50 "$tmp/lat.cross")
LP99=$(pct 99 "$tmp/lat.local") CP99=$(pct 99 "$tmp/lat.cross")
ratio() { awk -v c="$1" -v l="$2" 'BEGIN { if (c == "NA" || l == "NA" || l <= 0) print "NA"; else printf "%.2f", c / l }'; }
echo "cross/local: p50 x$(ratio "$CP50" "$LP50") (+$(awk -v c="$CP50" -v l="$LP50" 'BEGIN { printf "%.1f", c - l }') ms)," \
    "p99 x$(ratio "$CP99" "$LP99") (+$(awk -v c="$CP99" -v l="$LP99" 'BEGIN { printf "%.1f", c - l }') ms)"
if [ "$FRESH_N" -gt 0 ]; then
    echo "  fresh (unknown id to node b, time to hello, $FRESH_N per round): p50 $(pct 50 "$tmp/lat.fresh") ms" \
        "max $(pct 100 "$tmp/lat.fresh") ms; hello $(sum fresh 2), none $(sum fresh 3), the asked id reused $(sum fresh 4)" \
        "(expected: ~1000 ms, the wait for an answer)"
fi

# --- what the nodes' logs say -------------------------------------------------------
if [ -s "$tmp/helper.log" ]; then
    echo "reconnects that were not clean resumes ($(wc -l <"$tmp/helper.log") in all; the first 5; all in helper.log with KEEP=1):"
    head -n 5 "$tmp/helper.log" | sed 's/^/    /'
fi
echo "node logs:"
for n in "${NAMES[@]}"; do
    d=$tmp/$n/logs
    printf '  %s: %s "resumed from another node", %s "handed to node"; %s warnings, %s errors\n' "$n" \
        "$(cat "$d"/*.log 2>/dev/null | grep -c 'resumed from another node' || true)" \
        "$(cat "$d"/*.log 2>/dev/null | grep -c 'handed to node' || true)" \
        "$(cat "$d"/*.log 2>/dev/null | grep -c '"level":"warn"' || true)" \
        "$(cat "$d"/*.log 2>/dev/null | grep -c '"level":"error"' || true)"
    cat "$d"/*.log 2>/dev/null | grep -h '"level":"\(warn\|error\)"' |
        sed -E 's/.*"msg":"(.{0,140}).*/    \1/; s/[a-z0-9]{26}/<id>/g' | sort | uniq -c | sort -rn | head -n 5
done
# node b's cross resumes by where their events came from: "N from it, M from here"
cat "$tmp"/b/logs/*.log 2>/dev/null | grep -ho 'resumed from another node at [0-9]*: [0-9]* events from it, [0-9]* from here' |
    awk '{ k = $7 " from a, " $11 " from b"; c[k]++ } END { for (k in c) printf "    b resumes with %s: %d\n", k, c[k] }' | sort

echo "resume_cross_vs_local_p50=$(ratio "$CP50" "$LP50")"
