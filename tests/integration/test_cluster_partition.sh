#!/usr/bin/env bash
# A network partition between real hosts, simulated with network namespaces:
# three chorus nodes, each in a namespace of its own with its own address on
# a bridge (10.213.0.0/24), UseIPAddress on and no OverrideHostname, so each
# finds and announces its own address; default ports on every node, as on
# separate machines.  PostgreSQL is the suite's own, run inside a fourth
# namespace and listening on its bridge address (10.213.0.10), so the nodes
# reach it over the same network as one another and a cut can spare it.
#
# Node C is cut off from A and B with iptables inside its namespace for 30 s
# (everything on its interface dropped except to and from PostgreSQL: the
# realistic partition, where a node loses its peers but not the database).
# Checked: all three green first, each announcing its namespace address;
# during the cut A and B mark C red ("unreachable since") and stay green
# with each other, C marks itself red ("cut off") and its peers red; every
# node answers a ping and an authenticated GET all along; C keeps its
# ClusterDiscovery row fresh.  After the heal every node is green again
# within a bound, with the time measured and printed.
#
# The cut spans a data_retention schedule slot: every node starts with
# EnableMessageDeletion and DeletionJobStartTime at a coming UTC minute, and
# the cut begins CUT_LEAD seconds before that minute, so the slot falls due
# while c leads its own side (bully, no quorum) and a or b leads the other:
# both schedulers try to insert it.  Checked: the slot is created during the
# cut, exactly one Jobs row holds it (ScheduleSlot = the minute in epoch ms,
# unique with Type), claimed once and run to success; which node created it
# (cluster.log "scheduler: created ...") and which ran it (Jobs.NodeId) are
# printed, and PostgreSQL's statement log (client address = node) shows both
# sides' schedulers attempted it.  The slot a scheduler creates at startup
# (the most recent due one: yesterday's at that minute) is another slot,
# checked only for being one row that ran once.
#
# Safety (see the toolchain notes): a blackhole route for the test subnet in
# the root namespace before any namespace exists, so no packet for it ever
# leaves the machine; every request is made from inside a namespace; the
# namespaces, PostgreSQL and the route (if we added it) go at exit.  Without
# root, `ip netns` or iptables the suite prints "SKIP: ..." and exits 0.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

skip() {
    echo "SKIP: $SUITE: $1"
    exit 0
}
[ "$(id -u)" = 0 ] || skip "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip "no ip (iproute2)"
command -v iptables >/dev/null 2>&1 || skip "no iptables"

T=$CHORUS_TEST_TMP
NET=10.213.0
SUBNET=$NET.0/24
DB_ADDR=$NET.10
PG_PORT=5432
HTTP_PORT=8065
CUT_SECONDS=30
HEAL_BOUND_MS=10000
CUT_LEAD=12 # the slot falls due this many seconds into the cut
DAY_MS=86400000
TAG=chp$$ # namespace names of this run
NS_BR=$TAG-br
NS_DB=$TAG-db
declare -A NS ADDR ID
NAMES=(a b c)
for i in 0 1 2; do
    n=${NAMES[$i]}
    NS[$n]=$TAG-$n
    ADDR[$n]=$NET.$((11 + i))
done
ROUTE_ADDED=0
PGD=""
CREATED_NS=()

MAIN_PID=$BASHPID
cleanup() {
    local ns
    # a subshell (a pipeline, a command substitution) that exits must not
    # tear the network down under the suite
    [ "$BASHPID" = "$MAIN_PID" ] || return 0
    stop_all_nodes
    if [ -n "$PGD" ]; then
        pg_stop "$PGD"
        rm -rf "$PGD"
    fi
    for ns in "${CREATED_NS[@]}"; do
        # anything of ours still running in there (a node that did not stop)
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    if [ "$ROUTE_ADDED" = 1 ]; then
        ip route del blackhole "$SUBNET" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT # killed (contrib/test.sh's timeout): still clean up

# The safety rule first: the subnet must have nowhere to go but the bridge.
existing=$(ip route show exact "$SUBNET")
if [ -z "$existing" ]; then
    ip route add blackhole "$SUBNET" || skip "cannot add the blackhole route for $SUBNET"
    ROUTE_ADDED=1
elif [[ $existing != blackhole* ]]; then
    skip "the root namespace already routes $SUBNET ($existing)"
fi

add_ns() {
    ip netns add "$1" || return 1
    CREATED_NS+=("$1")
    ip -n "$1" link set lo up
}
in_ns() { # in_ns NAME CMD...: CMD inside node NAME's namespace
    local ns=${NS[$1]}
    shift
    ip netns exec "$ns" "$@"
}

add_ns "$NS_BR" || skip "cannot create network namespaces"
ip netns exec "$NS_BR" iptables -S >/dev/null 2>&1 || skip "iptables does not work in a namespace"
{ ip -n "$NS_BR" link add br0 type bridge && ip -n "$NS_BR" link set br0 up; } || skip "cannot create a bridge"
# attach NS ADDR PORTNAME: a namespace with eth0 at ADDR, its peer on the bridge
attach() {
    add_ns "$1" &&
        ip -n "$NS_BR" link add "$3" type veth peer name eth0 netns "$1" &&
        ip -n "$NS_BR" link set "$3" master br0 up &&
        ip -n "$1" addr add "$2/24" dev eth0 &&
        ip -n "$1" link set eth0 up
}
attach "$NS_DB" "$DB_ADDR" vdb || skip "cannot create the database namespace"
for n in "${NAMES[@]}"; do
    attach "${NS[$n]}" "${ADDR[$n]}" "v$n" || skip "cannot create namespace ${NS[$n]}"
done

# PostgreSQL inside the database namespace, on its bridge address and on a
# socket directory (which the root namespace reaches: unix sockets go by the
# file system, so the suite's psql needs no network).  pg.sh's pg_start
# listens on 127.0.0.1 only, hence our own start here.
PGD=$(mktemp -d /tmp/chorus-partition-pg.XXXXXX)
chmod 755 "$PGD"
mkdir -p "$PGD/data" "$PGD/sock"
chown postgres: "$PGD" "$PGD/data" "$PGD/sock"
BIN=$(pg_bindir) || exit 1
as_postgres "$BIN/initdb" -D "$PGD/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PGD/initdb.log" 2>&1 ||
    { cat "$PGD/initdb.log"; fail "initdb"; finish; exit 1; }
echo "host all all $SUBNET trust" >>"$PGD/data/pg_hba.conf"
# every modifying statement logged with its client's address (%h): which
# node's scheduler tried to insert a slot
PG_LOG_OPTS="-c log_statement=mod -c log_line_prefix='%m [%h] '"
if ! ip netns exec "$NS_DB" runuser -u postgres -- "$BIN/pg_ctl" -D "$PGD/data" -l "$PGD/postgres.log" -w -t 30 \
    -o "-p $PG_PORT -k $PGD/sock -c listen_addresses=$DB_ADDR -c max_connections=200 -c fsync=off $PG_LOG_OPTS" start >/dev/null; then
    tail -20 "$PGD/postgres.log"
    fail "PostgreSQL starts in its namespace"
    finish
    exit 1
fi
# lib.sh's new_database and sql go through the socket
CHORUS_PG_DIR=$PGD CHORUS_PG_PORT=$PG_PORT
new_database partition >/dev/null
DSN="postgres://postgres@$DB_ADDR:$PG_PORT/partition?sslmode=disable&connect_timeout=5"
check "node c's namespace reaches PostgreSQL over the bridge" \
    test "$(in_ns c psql "postgresql://postgres@$DB_ADDR:$PG_PORT/partition" -tAc "SELECT 1")" = 1

# ns_curl NAME ARGS...: curl from inside node NAME's namespace to its HTTP port
# (127.0.0.1 there); PATH is the last argument.
ns_curl() {
    local n=$1
    shift
    local path=${*: -1}
    in_ns "$n" curl -s -m 3 "${@:1:$#-1}" "http://127.0.0.1:$HTTP_PORT$path"
}
ns_code() { ns_curl "$1" -o /dev/null -w '%{http_code}' "${@:2}"; }

# The schedule slot the cut must span: the next whole UTC minute at least
# SLOT_MARGIN s away (the start and the checks before the cut take ~10 s),
# the same DeletionJobStartTime on every node.
SLOT_MARGIN=25
now=$(date +%s)
SLOT=$(((now / 60 + 1) * 60))
[ $((SLOT - now)) -ge "$SLOT_MARGIN" ] || SLOT=$((SLOT + 60))
SLOT_MS=$((SLOT * 1000))
SLOT_HHMM=$(date -u -d "@$SLOT" +%H:%M)
JOBS_ENV=(MM_DATARETENTIONSETTINGS_ENABLEMESSAGEDELETION=true MM_DATARETENTIONSETTINGS_DELETIONJOBSTARTTIME="$SLOT_HHMM"
    MM_JOBSETTINGS_RUNJOBS=true MM_JOBSETTINGS_RUNSCHEDULER=true)
echo "# data_retention slot: $SLOT_HHMM UTC (ScheduleSlot $SLOT_MS), $((SLOT - now)) s from now"

# start NAME: chorusd in its namespace, default ports, clustering on, the
# address found by itself, retention scheduled at SLOT_HHMM.
start() {
    local n=$1 dir=$T/$1 i
    local -a envs
    mkdir -p "$dir/data" "$dir/logs"
    mapfile -t envs < <(node_env "$dir" "$HTTP_PORT" "$DSN")
    # ip and env exec in place: $! is chorusd's master itself
    ip netns exec "${NS[$n]}" env -u MM_CLUSTERSETTINGS_OVERRIDEHOSTNAME "${envs[@]}" \
        MM_CLUSTERSETTINGS_ENABLE=true MM_CLUSTERSETTINGS_CLUSTERNAME=partition \
        MM_CLUSTERSETTINGS_USEIPADDRESS=true MM_FILESETTINGS_DIRECTORY="$T/shared-data" "${JOBS_ENV[@]}" \
        "$CHORUSD" -c "$CHORUS_SRC/etc/config.json" >"$dir/stdout.log" 2>&1 &
    NODE_PIDS+=($!)
    echo $! >"$dir/master.pid"
    for ((i = 0; i < 200; i++)); do
        [ "$(ns_code "$n" /api/v4/system/ping)" = 200 ] && return 0
        sleep 0.05
    done
    return 1
}
node_id() { grep -ho 'node [a-z0-9]\{26\} listening' "$T/$1/logs/master.log" | tail -1 | cut -d' ' -f2; }

# status NAME: one line per member as node NAME sees it:
# "<id> <green|red> <hostname> <ipaddress> <leader|-> <reasons, '|'-separated>"
status() {
    ns_curl "$1" -H "Authorization: Bearer $TOKEN" /api/v4/cluster/status |
        node -e 'let s = "";
            process.stdin.on("data", (d) => (s += d)).on("end", () => {
                for (const m of JSON.parse(s))
                    console.log(m.id, m.status, m.hostname || "-", m.ipaddress || "-",
                        m.is_leader ? "leader" : "-", (m.reasons || []).join("|"));
            });' 2>/dev/null
}
all_green() { [ "$(status "$1" | awk '$2 == "green"' | wc -l)" -eq "$2" ] && [ "$(status "$1" | wc -l)" -eq "$2" ]; }
# member NAME ID: node NAME's line for member ID
member() { status "$1" | awk -v id="$2" '$1 == id'; }
sees() { member "$1" "$2" | grep -q "^$2 $3 .*${4:-}"; } # sees NAME ID green|red [REASON]

for n in "${NAMES[@]}"; do
    check "node $n starts in its namespace" start "$n"
    ID[$n]=$(node_id "$n")
done
ns_curl a -o /dev/null -X POST -d '{"username":"admin","email":"admin@example.com","password":"admin-password"}' \
    /api/v4/users
TOKEN=$(ns_curl a -i -X POST -d '{"login_id":"admin","password":"admin-password"}' /api/v4/users/login |
    tr -d '\r' | awk 'tolower($1) == "token:" { print $2 }')
check "an admin logs in" test -n "$TOKEN"

for n in "${NAMES[@]}"; do
    check "node $n sees three green members" wait_for 20 all_green "$n" 3
done
for n in "${NAMES[@]}"; do
    line=$(member a "${ID[$n]}")
    echo "# node a sees node $n as: $line"
    check "node $n announces its namespace address ${ADDR[$n]} as hostname and ipaddress" \
        test "$(awk '{ print $3, $4 }' <<<"$line")" = "${ADDR[$n]} ${ADDR[$n]}"
    check "node $n's ClusterDiscovery row holds ${ADDR[$n]}" \
        test "$(sql partition "SELECT Hostname FROM ClusterDiscovery WHERE Id = '${ID[$n]}'")" = "${ADDR[$n]}"
done
check "node c announces its address in its own view too" \
    test "$(member c "${ID[c]}" | awk '{ print $3 }')" = "${ADDR[c]}"

# ---- the cut -------------------------------------------------------------
cut_c() {
    in_ns c iptables -A INPUT -i eth0 -s "$DB_ADDR" -j ACCEPT &&
        in_ns c iptables -A INPUT -i eth0 -j DROP &&
        in_ns c iptables -A OUTPUT -o eth0 -d "$DB_ADDR" -j ACCEPT &&
        in_ns c iptables -A OUTPUT -o eth0 -j DROP
}
heal_c() { in_ns c iptables -F INPUT && in_ns c iptables -F OUTPUT; }
# slot_rows SLOT_MS: the data_retention rows of that slot
slot_rows() { sql partition "SELECT count(*) FROM Jobs WHERE Type = 'data_retention' AND ScheduleSlot = $1"; }
name_of() { # name_of ID: a, b or c
    local n
    for n in "${NAMES[@]}"; do [ "${ID[$n]}" = "$1" ] && echo "$n"; done
}
lead_s=$((SLOT - $(date +%s)))
check "the start left time to cut before the slot ($lead_s s left, need $CUT_LEAD)" test "$lead_s" -ge "$CUT_LEAD"
left_ms=$((SLOT_MS - CUT_LEAD * 1000 - $(date +%s%N) / 1000000))
[ "$left_ms" -le 0 ] || sleep "$((left_ms / 1000)).$(printf '%03d' $((left_ms % 1000)))"
check "the slot $SLOT_HHMM does not exist before the cut" test "$(slot_rows "$SLOT_MS")" -eq 0
links_before=$(grep -c "link to ${ID[c]} established" "$T/a/logs/cluster.log")
ping_before=$(sql partition "SELECT LastPingAt FROM ClusterDiscovery WHERE Id = '${ID[c]}'")
check "iptables cuts node c off" cut_c
cut_at=$(date +%s%N)
echo "# cut at $(date -u +%T.%N | cut -c1-12) UTC, $((SLOT_MS - cut_at / 1000000)) ms before the slot"
check "the cut is real: a cannot open a TCP connection to c's streaming port" \
    not in_ns a timeout 2 bash -c "exec 3<>/dev/tcp/${ADDR[c]}/8075"

# For the whole cut, every node answers a ping and an authenticated GET
# (every ~0.5 s each), and the views are sampled.
requests=0 failed=0
detect_ab="" detect_c=""
while [ $((($(date +%s%N) - cut_at) / 1000000)) -lt $((CUT_SECONDS * 1000)) ]; do
    for n in "${NAMES[@]}"; do
        for path in /api/v4/system/ping /api/v4/users/me; do
            code=$(ns_code "$n" -H "Authorization: Bearer $TOKEN" "$path")
            requests=$((requests + 1))
            if [ "$code" != 200 ]; then
                failed=$((failed + 1))
                echo "# during the cut: $path on node $n answered $code"
            fi
        done
    done
    ms=$((($(date +%s%N) - cut_at) / 1000000))
    if [ -z "$detect_ab" ] && sees a "${ID[c]}" red && sees b "${ID[c]}" red; then
        detect_ab=$ms
    fi
    if [ -z "$detect_c" ] && sees c "${ID[c]}" red "cut off"; then
        detect_c=$ms
    fi
    sleep 0.4
done
echo "# during the $CUT_SECONDS s cut: $requests requests, $failed failed;" \
    "a and b saw c red after ${detect_ab:-never} ms, c saw itself cut off after ${detect_c:-never} ms"
check "every node answered every ping and authenticated GET during the cut ($failed of $requests failed)" \
    test "$requests" -gt 100 -a "$failed" = 0
check "a and b marked c red during the cut (after ${detect_ab:-never} ms)" test -n "$detect_ab"
check "c marked itself red during the cut (after ${detect_c:-never} ms)" test -n "$detect_c"
for n in a b; do
    line=$(member "$n" "${ID[c]}")
    echo "# at the end of the cut node $n sees c as: $line"
    check "node $n: c is red, \"unreachable since\"" grep -q "^${ID[c]} red .*unreachable since" <<<"$line"
    check "node $n: a and b still green" bash -c "[ \"\$(grep -cE '^(${ID[a]}|${ID[b]}) green ' <<<'$(status "$n")')\" = 2 ]"
done
echo "# at the end of the cut node c sees:"
status c | sed 's/^/#   /'
check "node c: itself red, \"cut off\"" sees c "${ID[c]}" red "cut off"
check "node c: a red" sees c "${ID[a]}" red
check "node c: b red" sees c "${ID[b]}" red
check "ping?get_server_status=true on c reports the cluster red" bash -c \
    "ip netns exec '${NS[c]}' curl -s 'http://127.0.0.1:$HTTP_PORT/api/v4/system/ping?get_server_status=true' |
        grep -q '\"cluster_status\":\"red\"'"
leader_ab=$(status a | awk '$5 == "leader" { print $1 }')
check "two leaders at the end of the cut: c leads its side" test "$(member c "${ID[c]}" | awk '{ print $5 }')" = leader
check "... and a or b the other (node $(name_of "$leader_ab"))" \
    test -n "$leader_ab" -a "$leader_ab" != "${ID[c]}" -a "$leader_ab" = "$(status b | awk '$5 == "leader" { print $1 }')"
end_ms=$(($(date +%s%N) / 1000000))
check "the slot $SLOT_HHMM came due inside the cut ($((end_ms - SLOT_MS)) ms before its end)" \
    test "$end_ms" -gt "$((SLOT_MS + 10000))"
check "the slot was created during the cut" test "$(slot_rows "$SLOT_MS")" -ge 1
ping_after=$(sql partition "SELECT LastPingAt FROM ClusterDiscovery WHERE Id = '${ID[c]}'")
check "c kept its ClusterDiscovery row fresh through the cut (database not cut)" \
    test "${ping_after:-0}" -gt "$((${ping_before:-0} + 15000))"

# What the TCP connections between a and c look like at the end of the cut
# (a link that survived it shows its retransmission timer).
echo "# a's TCP connections with c at the end of the cut:"
in_ns a ss -tnoi "( dst ${ADDR[c]} or src ${ADDR[c]} )" 2>/dev/null | sed 's/^/#   /'

# ---- events across the heal -----------------------------------------------
# A socket on c, held through the cut, must get a post made through a
# during the cut (a's stream to c goes on from where it broke) and one made
# the moment c shows a green again (green means events reach it).
json_id() { sed -n 's/^{"id":"\([a-z0-9]*\)".*/\1/p'; }
HEAL_TEAM=$(ns_curl a -H "Authorization: Bearer $TOKEN" -X POST -d '{"name":"heal","display_name":"Heal","type":"O"}' \
    /api/v4/teams | json_id)
HEAL_CHANNEL=$(ns_curl a -H "Authorization: Bearer $TOKEN" "/api/v4/teams/$HEAL_TEAM/channels/name/town-square" | json_id)
# shellcheck disable=SC2016 # a node script, not shell
in_ns c env WS_MODULE="$CHORUS_SRC/tests/client/node_modules/ws" HTTP_PORT=$HTTP_PORT node -e '
    const WebSocket = require(process.env.WS_MODULE);
    const ws = new WebSocket(`ws://127.0.0.1:${process.env.HTTP_PORT}/api/v4/websocket`,
        {headers: {Authorization: `Bearer ${process.argv[1]}`}});
    ws.on("message", (d) => {
        const m = JSON.parse(d);
        if (m.event === "posted") console.log(JSON.parse(m.data.post).message);
    });
    ws.on("close", () => process.exit(1));
    setTimeout(() => process.exit(0), 120000);' "$TOKEN" >"$T/c-socket.log" 2>&1 &
C_SOCKET=$!
post_via_a() {
    [ "$(ns_code a -H "Authorization: Bearer $TOKEN" -X POST \
        -d "{\"channel_id\":\"$HEAL_CHANNEL\",\"message\":\"$1\"}" /api/v4/posts)" = 201 ]
}
sleep 1 # the socket's hello
check "a post through a during the cut" post_via_a during-the-cut

# ---- the heal ------------------------------------------------------------
check "iptables rules removed" heal_c
heal_at=$(date +%s%N)
wait_for 30 sees c "${ID[a]}" green
check "a post through a the moment c shows a green" post_via_a after-the-heal
check "c's socket got the post made the moment c showed a green" wait_for 5 grep -qx after-the-heal "$T/c-socket.log"
check "c's socket got the post made during the cut, after the heal" grep -qx during-the-cut "$T/c-socket.log"
kill "$C_SOCKET" 2>/dev/null
healed=1
for n in "${NAMES[@]}"; do
    wait_for 30 all_green "$n" 3 || healed=0
done
heal_ms=$((($(date +%s%N) - heal_at) / 1000000))
echo "# heal: every node sees three green members $heal_ms ms after the rules went (bound $HEAL_BOUND_MS ms)"
for n in "${NAMES[@]}"; do
    check "after the heal node $n sees three green members" all_green "$n" 3
done
check "healed within $HEAL_BOUND_MS ms ($heal_ms ms)" test "$healed" = 1 -a "$heal_ms" -le "$HEAL_BOUND_MS"
check "the same three nodes (no restart): c's id unchanged" test "$(node_id c)" = "${ID[c]}"
check "after the heal a's link to c is a new one (the old one closed when c was declared dead, then re-dialed)" \
    test "$(grep -c "link to ${ID[c]} established" "$T/a/logs/cluster.log")" -gt "$links_before"
# For the record: the leader runs the job scheduler, and during the cut c
# stayed leader of its side while a and b chose another (bully, no quorum),
# so both sides scheduled; harmless, as a scheduled job is unique per slot
# in the database (INSERT ... ON CONFLICT (Type, ScheduleSlot) DO NOTHING).
echo "# leader and scheduler changes (cut at $(date -u -d @$((cut_at / 1000000000)) +%T), healed at $(date -u -d @$((heal_at / 1000000000)) +%T)):"
for n in a b c; do
    sed -nE 's/^\{"timestamp":"[0-9-]+T([0-9:]+)\.[^"]*".*"msg":"((leader is now|scheduler: )[^"]*)".*/\1 \2/p' \
        "$T/$n/logs/cluster.log" | sed "s/^/#   node $n: /"
done
LOWEST=$(printf '%s\n' "${ID[@]}" | sort | head -1)
leaders=""
for n in "${NAMES[@]}"; do
    leaders+="$(status "$n" | awk '$5 == "leader" { print $1 }')/"
done
check "every node agrees the leader is the lowest id again ($leaders)" test "$leaders" = "$LOWEST/$LOWEST/$LOWEST/"

# ---- the slot inside the cut: one row, one run ------------------------------
J=$(sql partition "SELECT Id FROM Jobs WHERE Type = 'data_retention' AND ScheduleSlot = $SLOT_MS" | head -1)
job_is() { [ "$(sql partition "SELECT Status FROM Jobs WHERE Id = '$1'")" = "$2" ]; }
check "the slot's job runs to success" wait_for 20 job_is "$J" success
row=$(sql partition "SELECT Status, Attempts, NodeId, CreateAt FROM Jobs WHERE Id = '$J'")
IFS='|' read -r _ attempts runner_id created_at <<<"$row"
check "one data_retention row for slot $SLOT_MS" test "$(slot_rows "$SLOT_MS")" -eq 1
check "created after the slot, before the heal (CreateAt $((${created_at:-0} - SLOT_MS)) ms after the slot)" \
    test "${created_at:-0}" -ge "$SLOT_MS" -a "${created_at:-0}" -lt "$((heal_at / 1000000))"
check "claimed once (Attempts ${attempts:-?})" test "${attempts:-0}" -eq 1
creators=$(grep -l "scheduler: created data_retention job $J for slot $SLOT_MS\b" "$T"/[abc]/logs/cluster.log 2>/dev/null |
    sed "s|^$T/||; s|/.*||" | xargs)
check "created by one node's scheduler (by: ${creators:-nobody})" test "$(wc -w <<<"$creators")" -eq 1
check "no other row created for the slot in any log" \
    test "$(grep -c "scheduler: created data_retention job [a-z0-9]* for slot $SLOT_MS\b" <(cat "$T"/[abc]/logs/cluster.log))" -eq 1
check "its success recorded by one node" \
    test "$(grep -l "job $J (data_retention): success recorded" "$T"/[abc]/logs/jobs.log 2>/dev/null | wc -l)" -eq 1
# the scheduler's attempts, from PostgreSQL's statement log: an insert of the
# slot is "... ON CONFLICT (Type, ScheduleSlot) DO NOTHING" with its
# parameters on the DETAIL line, prefixed by the time and the client's
# address; those logged before the heal
heal_ts=$(date -u -d "@$((heal_at / 1000000000)).$(printf '%09d' $((heal_at % 1000000000)))" '+%F %T.%3N')
declare -A TRIES
for n in "${NAMES[@]}"; do
    TRIES[$n]=$(grep " \[${ADDR[$n]}\] DETAIL: .*'data_retention', \$3 = '$SLOT_MS'" "$PGD/postgres.log" |
        awk -v heal="$heal_ts" '$1 " " $2 < heal' | wc -l)
done
echo "# slot $SLOT_HHMM UTC ($SLOT_MS): job $J created by node ${creators:-?}, run by node $(name_of "$runner_id")," \
    "inserts tried: a ${TRIES[a]}, b ${TRIES[b]}, c ${TRIES[c]}"
check "c's scheduler tried to insert the slot during the cut (${TRIES[c]} times)" test "${TRIES[c]}" -ge 1
check "the other side's leader did too (node $(name_of "$leader_ab"): ${TRIES[$(name_of "$leader_ab")]:-0} times)" \
    test "${TRIES[$(name_of "$leader_ab")]:-0}" -ge 1
# the slot a scheduler creates at startup: the most recent due one,
# yesterday's at the same minute
echo "# scheduled jobs:"
sql partition "SELECT Type, ScheduleSlot, Status, Attempts, NodeId FROM Jobs WHERE ScheduleSlot IS NOT NULL ORDER BY ScheduleSlot" |
    sed 's/^/#   /'
check "the startup slot (yesterday's $SLOT_HHMM) is one row too" test "$(slot_rows $((SLOT_MS - DAY_MS)))" -eq 1
check "the only slots are those two" \
    test "$(sql partition "SELECT count(*) FROM Jobs WHERE ScheduleSlot IS NOT NULL AND ScheduleSlot NOT IN ($SLOT_MS, $((SLOT_MS - DAY_MS)))")" -eq 0
startup_done() { [ "$(sql partition "SELECT count(*) FROM Jobs WHERE ScheduleSlot IS NOT NULL AND Status <> 'success'")" -eq 0 ]; }
wait_for 20 startup_done
check "every scheduled job ran to success, claimed once" \
    test "$(sql partition "SELECT count(*) FROM Jobs WHERE ScheduleSlot IS NOT NULL AND (Attempts <> 1 OR Status <> 'success')")" -eq 0

finish
