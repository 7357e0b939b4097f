#!/usr/bin/env bash
# bench/failover.sh: how fast a chorus cluster notices a dead node (issue 5),
# and what a post costs when it crosses nodes.
#
# Three nodes (a, b, c) of one cluster on loopback, one private PostgreSQL,
# WORKERS workers each, each node in its own process group.
#
# Part 1, failover (ROUNDS rounds): SIGKILL a random node's whole process tree
# at once (kill -KILL -<process group>: master, workers, cluster child; no
# clean stop, no respawn) and poll both survivors' GET /api/v4/cluster/status
# every POLL_MS ms over keep-alive connections (bench/failover/poll.mjs) for
#   detect  the time from the kill until EVERY survivor shows the killed node
#           red (SWIM declared it dead; a suspect node is still green);
#   leader  when the killed node led: the time until every survivor names the
#           same new leader (it must be the lowest surviving node id, the
#           bully rule); when it did not lead, the leader must not change
#           ("kept" below, or "CHANGED").
# Then the node restarts (a new node id, the same ports) and the round ends
# when all three nodes see three green members again (rejoin: from the start
# of the process, which includes its own start-up).
# Per round: victim, whether it led, detect (and per survivor), leader,
# rejoin; then median and max of detect and of leader agreement.  The target
# is detect <= 2000 ms; the reference is HashiCorp memberlist's LAN defaults
# (what Mattermost runs), which take about 5 s to declare a killed node dead.
# "unstable" counts what poll.mjs saw flap within HOLD_MS after both were
# done (the dead node green again, a leader change after agreement).
#
# Part 2, cross-node latency (bench/wsload, built as bench/fanout.sh does):
# N WebSockets on node b, RATE posts/s for DURATION s, posted through node a
# (cross: node a's cluster child forwards the event over its streaming link to
# b) and, for comparison, posted through node b itself (local).  The two
# alternate for WS_ROUNDS rounds each; medians of p50/p99 post->delivery
# latency (of the deliveries that arrived), and cross/local ratios; every
# socket should get every post, so "delivered X of Y (Z LOST)" means events
# that never crossed (a streaming link down while they were forwarded).  The
# load client shares the cores.
#
# At the end, what the nodes' cluster.log files say happened, per node slot
# over all its restarts: starts, SWIM state changes, leader changes, streaming
# links established and closed ("duplicate link": both sides dialed, one
# connection was dropped; many of them mean links churn), warnings, errors.
# Last line: detect_ms_max=<the largest detect of all rounds> (NA when a round
# timed out: nothing seen within DETECT_TIMEOUT s).
#
# Environment: ROUNDS (10) WORKERS (1) POLL_MS (2) HOLD_MS (500)
#   DETECT_TIMEOUT (10 s) SEED (random; set it to repeat the victims)
#   N (1000) RATE (50) DURATION (5) WS_ROUNDS (2) DRAIN (5)
#   LOGLEVEL (INFO, the nodes' file log level) BASE_PORT (18400)
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

ROUNDS=${ROUNDS:-10}
WORKERS=${WORKERS:-1}
POLL_MS=${POLL_MS:-2}
HOLD_MS=${HOLD_MS:-500}
DETECT_TIMEOUT=${DETECT_TIMEOUT:-10}
SEED=${SEED:-$$}
N=${N:-1000}
RATE=${RATE:-50}
DURATION=${DURATION:-5}
WS_ROUNDS=${WS_ROUNDS:-2}
DRAIN=${DRAIN:-5}
LOGLEVEL=${LOGLEVEL:-INFO}
BASE_PORT=${BASE_PORT:-18400}
KEEP=${KEEP:-0}
CHORUSD=${CHORUSD:-$SRC/build/chorusd}

die() { echo "failover.sh: $*" >&2; exit 1; }
for tool in cc curl awk psql node pgrep ss setsid; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ -x "$CHORUSD" ] || die "$CHORUSD not found (build first)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((N + 256)) ] || die "open files limit $(ulimit -n) is too low for N=$N"

tmp=$(mktemp -d /tmp/chorus-failover.XXXXXX)
chmod 755 "$tmp"
NAMES=(a b c)
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bench_ports "$BASE_PORT"

BIN=$tmp/chorusd
cp "$CHORUSD" "$BIN"
cc -O2 -Wall -o "$tmp/wsload" bench/wsload/wsload.c || die "cannot build bench/wsload/wsload.c"
POLL=$SRC/bench/failover/poll.mjs

bench_pg_start 26632 failover
NODE_ENV=(MM_PROCESSSETTINGS_SHMSIZEMB=16 MM_CLUSTERSETTINGS_CLUSTERNAME=failover)

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -g | awk 'END { print (NR ? $1 : "NA") }'; }

echo "failover bench: 3 nodes x $WORKERS worker(s) on loopback, $ROUNDS rounds, seed $SEED, poll every ${POLL_MS} ms"
echo "chorusd: $("$BIN" -v 2>&1 | head -n 1)"
for n in "${NAMES[@]}"; do bench_node_start "$n"; done
bench_admin_token failover
line=$(bench_all_green 30) || die "the three nodes did not become green"
echo "cluster formed: all green after $(kv ms "$line") ms from the first login; leader $(kv leader "$line")"

# --- part 1: failover ---------------------------------------------------------
RANDOM=$SEED
: >"$tmp/rounds"
for round in $(seq "$ROUNDS"); do
    victim=${NAMES[RANDOM % 3]}
    surv=()
    json=
    for n in "${NAMES[@]}"; do
        [ "$n" = "$victim" ] && continue
        surv+=("$n")
        json="$json${json:+,}{\"name\":\"$n\",\"url\":\"${URL[$n]}\"}"
    done
    pgid=${PID[$victim]}
    line=$(node "$POLL" kill "{\"survivors\":[$json],\"token\":\"$TOKEN\",\"pgid\":$pgid,\"killedId\":\"${ID[$victim]}\",\"timeoutMs\":$((DETECT_TIMEOUT * 1000)),\"pollMs\":$POLL_MS,\"holdMs\":$HOLD_MS}" \
        2>"$tmp/poll.err") || { cat "$tmp/poll.err" >&2; die "round $round: the poller failed"; }
    sed "s/^/  round $round: /" "$tmp/poll.err" >&2
    PID[$victim]=
    for ((i = 0; i < 100; i++)); do pgrep -g "$pgid" >/dev/null || break; sleep 0.02; done
    pgrep -g "$pgid" >/dev/null && die "round $round: node $victim's processes outlived SIGKILL"

    led=$(kv killed_was_leader "$line")
    detect=$(kv detect_ms "$line")
    lms=$(kv leader_ms "$line")
    if [ "$led" = 1 ]; then
        if [ "$(kv leader_after "$line")" = "$(kv leader_expected "$line")" ]; then
            leader_txt="new leader agreed after $lms ms"
        else
            leader_txt="new leader $(kv leader_after "$line") after $lms ms, WRONG (expected $(kv leader_expected "$line"))"
        fi
    else
        if [ "$(kv leader_changes "$line")" = "0/0" ]; then leader_txt="leader kept"; else
            leader_txt="leader CHANGED (changes per survivor $(kv leader_changes "$line"))"
        fi
    fi

    rejoin_txt=
    t0=$(date +%s%N)
    bench_node_start "$victim"
    g=$(bench_all_green 30) || die "round $round: node $victim did not rejoin green"
    took_over=0
    [ "$(kv leader "$g")" = "${ID[$victim]}" ] && took_over=1 && rejoin_txt=", took the lead (lowest id)"
    rejoin=$((($(date +%s%N) - t0) / 1000000))
    printf 'round %2d: killed %s (%s) detect %5s ms (%s %s ms, %s %s ms), %s; rejoin %5d ms%s; unstable %s, %s polls\n' \
        "$round" "$victim" "$([ "$led" = 1 ] && echo leader || echo follower)" "$detect" \
        "${surv[0]}" "$(kv "detect_${surv[0]}" "$line")" "${surv[1]}" "$(kv "detect_${surv[1]}" "$line")" \
        "$leader_txt" "$rejoin" "$rejoin_txt" "$(kv unstable "$line")" "$(kv polls "$line")"
    echo "$round $victim $led $detect $lms $rejoin $(kv unstable "$line") $(kv timeout "$line") $([ "$led" = 1 ] || [ "$(kv leader_changes "$line")" = "0/0" ] && echo 1 || echo 0) $took_over" \
        >>"$tmp/rounds"
done

col() { awk -v c="$1" -v f="${2:-}" '(f == "" || $3 == f) && $c != "NA" { print $c }' "$tmp/rounds"; }
timeouts=$(awk '$8 == 1' "$tmp/rounds" | wc -l)
leader_rounds=$(awk '$3 == 1' "$tmp/rounds" | wc -l)
kept=$(awk '$3 == 0 && $9 == 1' "$tmp/rounds" | wc -l)
echo "detect (every survivor shows the killed node red): median $(col 4 | median) ms, max $(col 4 | max) ms" \
    "over $ROUNDS rounds$([ "$timeouts" -gt 0 ] && echo ", $timeouts TIMED OUT (> ${DETECT_TIMEOUT} s)")"
echo "leader agreement (the leader was killed, $leader_rounds rounds): median $(col 5 1 | median) ms, max $(col 5 1 | max) ms"
echo "leader unchanged when a follower was killed: $kept of $((ROUNDS - leader_rounds)) rounds"
echo "rejoin (restart to all green): median $(col 6 | median) ms, max $(col 6 | max) ms;" \
    "the restarted node took the lead (its new id was the lowest) in $(awk '$10 == 1' "$tmp/rounds" | wc -l) of $ROUNDS"
echo "target: detect <= 2000 ms; reference: memberlist's LAN defaults (Mattermost) take ~5000 ms to declare a killed node dead"

# --- part 2: cross-node post -> WebSocket latency --------------------------------
TEAM=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "${URL[a]}/api/v4/teams" \
    -d '{"name":"failover","display_name":"Failover","type":"O"}' | sed -E 's/.*"id":"([a-z0-9]{26})".*/\1/;q') ||
    die "cannot create a team"
CHANNEL=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "${URL[a]}/api/v4/channels" \
    -d "{\"team_id\":\"$TEAM\",\"name\":\"failover\",\"display_name\":\"Failover\",\"type\":\"O\"}" |
    sed -E 's/.*"id":"([a-z0-9]{26})".*/\1/;q') || die "cannot create a channel"
echo "post->WebSocket latency: N=$N sockets on node b, $RATE posts/s for ${DURATION} s; posts through node a (cross) or b (local)"
: >"$tmp/ws.cross"
: >"$tmp/ws.local"
ws_run() { # ws_run cross|local ROUND
    local post=${URL[b]} out
    [ "$1" = cross ] && post=${URL[a]}
    out=$("$tmp/wsload" -u "ws://127.0.0.1:${PORT[b]}/api/v4/websocket" --post-url "$post/api/v4/posts" \
        -n "$N" -t "$TOKEN" -c "$CHANNEL" -r "$RATE" -d "$DURATION" --drain "$DRAIN" 2>"$tmp/wsload.err" | tail -n 1) ||
        die "wsload failed ($1): $(cat "$tmp/wsload.err")"
    grep -v '^wsload: \(ready\|connected\)' "$tmp/wsload.err" | sed "s/^/  $1 round $2: /" >&2 || true
    printf '  %-5s round %d: %s\n' "$1" "$2" "$out"
    echo "$(kv p50_ms "$out") $(kv p99_ms "$out") $(kv delivered "$out") $(kv expected "$out")" >>"$tmp/ws.$1"
}
for round in $(seq "$WS_ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then ws_run cross "$round" && ws_run local "$round"; else
        ws_run local "$round" && ws_run cross "$round"
    fi
done
wcol() { awk -v c="$2" '{ print $c }' "$tmp/ws.$1"; }
for m in cross local; do
    printf '%-5s (median of %d): p50 %.3f ms  p99 %.3f ms  %s\n' "$m" "$WS_ROUNDS" \
        "$(wcol "$m" 1 | median)" "$(wcol "$m" 2 | median)" \
        "$(awk '{ d += $3; e += $4 } END { printf "delivered %d of %d%s", d, e, (d < e ? sprintf(" (%d LOST)", e - d) : "") }' "$tmp/ws.$m")"
done
awk -v cp50="$(wcol cross 1 | median)" -v lp50="$(wcol local 1 | median)" \
    -v cp99="$(wcol cross 2 | median)" -v lp99="$(wcol local 2 | median)" \
    'BEGIN { printf "cross/local: p50 x%.2f (+%.3f ms), p99 x%.2f (+%.3f ms)\n",
             (lp50 > 0 ? cp50 / lp50 : 0), cp50 - lp50, (lp99 > 0 ? cp99 / lp99 : 0), cp99 - lp99 }'

# --- what the cluster logs say ------------------------------------------------------
echo "cluster.log (per node slot, all its restarts):"
for n in "${NAMES[@]}"; do
    f=$tmp/$n/logs/cluster.log
    [ -f "$f" ] || { echo "  $n: no cluster.log"; continue; }
    printf '  %s: %s starts; %s suspect, %s dead, %s refuted (suspect->alive), %s rejoined; %s leader changes;' "$n" \
        "$(grep -c "gossip on UDP" "$f" || true)" \
        "$(grep -c ' is suspect (was' "$f" || true)" "$(grep -c ' is dead (was' "$f" || true)" \
        "$(grep -c ' is alive (was suspect)' "$f" || true)" "$(grep -c ' rejoined after being declared' "$f" || true)" \
        "$(grep -c 'leader is now' "$f" || true)"
    printf ' links: %s established, %s closed (%s "duplicate link"); %s warnings, %s errors\n' \
        "$(grep -c '"link to .* established' "$f" || true)" "$(grep -c '"link to .* closed' "$f" || true)" \
        "$(grep -c 'closed: duplicate link' "$f" || true)" \
        "$(grep -c '"level":"warn"' "$f" || true)" "$(grep -c '"level":"error"' "$f" || true)"
    grep -h '"level":"\(warn\|error\)"' "$f" | sed -E 's/.*"msg":"(.{0,140}).*/    \1/' | sort | uniq -c | sort -rn | head -n 5
done

echo "detect_ms_max=$(if [ "$timeouts" -gt 0 ]; then echo NA; else col 4 | max; fi)"
