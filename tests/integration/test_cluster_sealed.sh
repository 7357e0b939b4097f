#!/usr/bin/env bash
# Sealed gossip (ClusterSettings.EnableExperimentalGossipEncryption) on
# loopback: two nodes on one database share the key the first one created
# (the Systems row ClusterEncryptionKey, base64 of 32 bytes) and are green; a
# node holding another key, and a node with encryption off (its envelopes
# only authenticated), are isolated: red on every side, while the two stay
# green.  An outsider who knows the cluster name but not the key gets
# nothing from a node with encryption off (tests/integration/cluster/
# outsider.js: an unkeyed hello, a forged one, silence).  Then garbage on a node's
# gossip and streaming ports (tests/integration/cluster/garbage.js: 10,000
# UDP packets and 1,000 TCP connections, random and random-but-plausible,
# some sealed with the real key so they reach the decoders behind the
# envelope): every node stays alive, the two stay green throughout, the
# cluster process's RSS stays bounded and nothing crashes; and 200 silent
# connections cost neither a frame buffer each nor the pair's links.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
GARBAGE=$CHORUS_SRC/tests/integration/cluster/garbage.js
KEY_ROW=ClusterEncryptionKey
DSN=$(new_database sealed)
DSN_OTHER=$(new_database sealed_other)
NAMES=(a b c d)
declare -A PORT GOSSIP STREAM ID
# each port above the last one taken: free_port alone can hand one out twice
# (a busy BASE+1 made gossip and streaming the same port)
after=18700
for n in "${NAMES[@]}"; do
    PORT[$n]=$(free_port "$after")
    GOSSIP[$n]=$(free_port $((PORT[$n] + 1)))
    STREAM[$n]=$(free_port $((GOSSIP[$n] + 1)))
    after=$((STREAM[$n] + 1))
done

# sealed_node NAME DSN ENCRYPTION: node NAME on DSN, cluster "sealed",
# encryption true or false.
sealed_node() {
    local n=$1
    start_node "$T/$n" "${PORT[$n]}" "$2" \
        MM_CLUSTERSETTINGS_ENABLE=true MM_CLUSTERSETTINGS_CLUSTERNAME=sealed \
        MM_CLUSTERSETTINGS_OVERRIDEHOSTNAME=127.0.0.1 MM_FILESETTINGS_DIRECTORY="$T/shared-data" \
        MM_CLUSTERSETTINGS_ENABLEEXPERIMENTALGOSSIPENCRYPTION="$3" \
        MM_CLUSTERSETTINGS_GOSSIPPORT="${GOSSIP[$n]}" MM_CLUSTERSETTINGS_STREAMINGPORT="${STREAM[$n]}" || return 1
    wait_for 5 test -n "$(node_id "$n")" || return 1
    ID[$n]=$(node_id "$n")
}
url() { echo "http://127.0.0.1:${PORT[$1]}"; }
node_id() { grep -ho 'node [a-z0-9]\{26\} listening' "$T/$1/logs/master.log" 2>/dev/null | tail -1 | cut -d' ' -f2; }
cluster_pid() { grep -o 'started the cluster process pid [0-9]*' "$T/$1/logs/master.log" | tail -1 | awk '{ print $NF }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
key_of() { sql "$1" "SELECT Value FROM Systems WHERE Name = '$KEY_ROW'"; }

# admin_token NAME: the first user of node NAME's database (an admin), logged in.
admin_token() {
    curl -s -o /dev/null -X POST "$(url "$1")/api/v4/users" \
        -d '{"username":"admin","email":"admin@example.com","password":"admin-password"}'
    curl -si -X POST "$(url "$1")/api/v4/users/login" -d '{"login_id":"admin","password":"admin-password"}' |
        tr -d '\r' | awk 'tolower($1) == "token:" { print $2 }'
}
declare -A TOKEN

# status NAME: "<id> <green|red> <reasons, '|'-separated>" per member as NAME sees it.
status() {
    curl -s -m 3 -H "Authorization: Bearer ${TOKEN[$1]}" "$(url "$1")/api/v4/cluster/status" |
        node -e 'let s = "";
            process.stdin.on("data", (d) => (s += d)).on("end", () => {
                for (const m of JSON.parse(s)) console.log(m.id, m.status, (m.reasons || []).join("|"));
            });' 2>/dev/null
}
# sees NAME ID green|red [REASON]
sees() { status "$1" | grep -q "^$2 $3${4:+ .*$4}"; }
pair_sees_red() { sees a "$1" red && sees b "$1" red; }
# all_green NAME COUNT: node NAME sees COUNT members, all green.
all_green() { [ "$(status "$1" | awk '$2 == "green"' | wc -l)" -eq "$2" ] && [ "$(status "$1" | wc -l)" -eq "$2" ]; }
# pair_green NAME: node NAME sees a and b both green
pair_green() { [ "$(status "$1" | grep -cE "^(${ID[a]}|${ID[b]}) green")" = 2 ]; }

# ---- two nodes, one database, one key ----------------------------------------
check "node a starts (encryption on)" sealed_node a "$DSN" true
check "the first node created the cluster key" wait_for 10 test -n "$(key_of sealed)"
check "node b starts (encryption on, same database)" sealed_node b "$DSN" true
TOKEN[a]=$(admin_token a)
TOKEN[b]=${TOKEN[a]}
check "an admin logs in" test -n "${TOKEN[a]}"
for n in a b; do
    check "node $n sees two green members" wait_for 15 all_green "$n" 2
done
KEY=$(key_of sealed)
check "one Systems row $KEY_ROW" test "$(sql sealed "SELECT count(*) FROM Systems WHERE Name = '$KEY_ROW'")" = 1
check "it is base64 ($KEY)" grep -qE '^[A-Za-z0-9+/]{43}=$' <<<"$KEY"
check "of 32 bytes" test "$(base64 -d <<<"$KEY" | wc -c)" = 32
for n in a b; do
    check "node $n loaded it: AES-256-GCM" grep -q 'cluster key loaded (AES-256-GCM)' "$T/$n/logs/cluster.log"
done

# ---- a node with another key -------------------------------------------------
# Node c runs on a database of its own, where it creates its own key: the
# same cluster name, another key.  But peers are found only through the
# ClusterDiscovery table, so on separate databases c and the pair would
# never hear of one another and c's isolation would prove nothing about the
# key.  So each database gets the other side's rows (inserted by SQL): each
# side then dials the other and gossips to it, sealed under its own key, and
# it is the key that must keep them apart.  The copies' LastPingAt is set an
# hour ahead, as nobody refreshes them and peers only read rows pinged in the
# last minute.
check "node c starts (encryption on, its own database)" sealed_node c "$DSN_OTHER" true
TOKEN[c]=$(admin_token c)
check "node c created a key of its own in its database" wait_for 10 test -n "$(key_of sealed_other)"
check "and it differs from the pair's" test "$(key_of sealed_other)" != "$KEY"
check "node c saved its ClusterDiscovery row" wait_for 10 \
    test "$(sql sealed_other "SELECT count(*) FROM ClusterDiscovery WHERE Id = '${ID[c]}'")" = 1
# rows DB ID...: those nodes' rows as SQL VALUES, pinged an hour ahead
rows() {
    local db=$1 ids
    shift
    ids=$(printf "'%s'," "$@")
    sql "$db" "SELECT format('(%L, %L, %L, %L, %s, %s, %s, %s)', Id, Type, ClusterName, Hostname, GossipPort, Port,
        CreateAt, LastPingAt + 3600000) FROM ClusterDiscovery WHERE Id IN (${ids%,})" | paste -sd,
}
copy_rows() { # copy_rows FROM TO ID...
    local values
    values=$(rows "$1" "${@:3}")
    [ -n "$values" ] && sql "$2" "INSERT INTO ClusterDiscovery VALUES $values ON CONFLICT (Id) DO NOTHING" >/dev/null
}
check "a and b's discovery rows copied into c's database" copy_rows sealed sealed_other "${ID[a]}" "${ID[b]}"
check "c's discovery row copied into the pair's database" copy_rows sealed_other sealed "${ID[c]}"

for n in a b; do
    check "node $n sees c red: never reached" wait_for 10 sees "$n" "${ID[c]}" red "never reached"
done
check "node c sees itself red: cut off" wait_for 10 sees c "${ID[c]}" red "cut off"
for n in a b; do
    check "node c sees $n red" sees c "${ID[$n]}" red
done
sleep 3 # the pair keeps refusing c: give it time to do harm, if it can
for n in a b c; do
    echo "# node $n sees:"
    status "$n" | sed 's/^/#   /'
done
check "node c is still red on a and b" pair_sees_red "${ID[c]}"
for n in a b; do
    check "node $n still sees a and b green" pair_green "$n"
    check "node $n never linked with c" not grep -q "link to ${ID[c]} established" "$T/$n/logs/cluster.log"
done
check "node c never linked with a or b" not grep -qE "link to (${ID[a]}|${ID[b]}) established" "$T/c/logs/cluster.log"

# ---- a node with encryption off in the sealed cluster -------------------------
check "node d starts (encryption off, the pair's database)" sealed_node d "$DSN" false
TOKEN[d]=${TOKEN[a]}
for n in a b; do
    check "node $n sees d red: never reached" wait_for 10 sees "$n" "${ID[d]}" red "never reached"
done
check "node d sees itself red: cut off" wait_for 10 sees d "${ID[d]}" red "cut off"
check "node d sees a and b red" test "$(status d | grep -cE "^(${ID[a]}|${ID[b]}) red")" = 2
for n in a b; do
    check "node $n still sees a and b green" pair_green "$n"
done
check "node d never linked with a or b" not grep -qE "link to (${ID[a]}|${ID[b]}) established" "$T/d/logs/cluster.log"
check "node d loaded the cluster key too: encryption off still authenticates" \
    grep -q 'cluster key loaded (AES-256-GCM)' "$T/d/logs/cluster.log"
check "and says so" grep -q 'gossip on UDP .*, authenticated"' "$T/d/logs/cluster.log"

# ---- an outsider who knows the cluster name -----------------------------------
# Before every envelope was authenticated, the cluster name was the only check
# with encryption off (the default): a hello in a plain envelope made the
# outsider a peer that received every forwarded event and could inject config
# and session records.  Now it gets nothing.
node "$CHORUS_SRC/tests/integration/cluster/outsider.js" 127.0.0.1 "${STREAM[d]}" sealed >"$T/outsider.json" 2>&1
echo "# outsider at d: $(cat "$T/outsider.json")"
# outsider ATTEMPT FIELD: that field of the outsider's report
outsider() {
    node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8"))[process.argv[1]];
        console.log(r === undefined ? "" : r[process.argv[2]])' "$1" "$2" <"$T/outsider.json" 2>/dev/null
}
check "an outsider's plain hello with the right cluster name gets no byte back" test "$(outsider plain received)" = 0
check "and node d closes that connection" test "$(outsider plain closedByNode)" = true
check "a hello authenticated under the outsider's own key gets no byte back" test "$(outsider forged received)" = 0
check "and is closed too" test "$(outsider forged closedByNode)" = true
check "node d says nothing first to a connection that sends nothing" test "$(outsider silent received)" = 0
check "node d never linked with the outsider" not grep -q "link to zzzz[a-z0-9]* established" "$T/d/logs/cluster.log"
outsider_listed() { status d | grep -q '^zzzz'; }
check "node d lists no member the outsider claimed to be" not outsider_listed

# ---- garbage ------------------------------------------------------------------
# To node a (sealed) and to node d (authenticated), each with the key in its
# node's mode, so some of it passes the envelope and reaches the decoders,
# at once, while the pair's views are sampled.
PID_A=$(cluster_pid a) PID_D=$(cluster_pid d)
RSS_A0=$(rss_kb "$PID_A") RSS_D0=$(rss_kb "$PID_D")
node "$GARBAGE" 127.0.0.1 "${GOSSIP[a]}" "${STREAM[a]}" 10000 1000 sealed "$KEY" >"$T/garbage-a.json" 2>&1 &
G1=$!
node "$GARBAGE" 127.0.0.1 "${GOSSIP[d]}" "${STREAM[d]}" 10000 1000 sealed "$KEY" A >"$T/garbage-d.json" 2>&1 &
G2=$!
samples=0 bad=0 peak_a=$RSS_A0 peak_d=$RSS_D0
while alive "$G1" || alive "$G2"; do
    for n in a b; do
        samples=$((samples + 1))
        pair_green "$n" || {
            bad=$((bad + 1))
            echo "# during the garbage node $n saw: $(status "$n" | tr '\n' ';')"
        }
    done
    r=$(rss_kb "$PID_A") && [ "${r:-0}" -gt "$peak_a" ] && peak_a=$r
    r=$(rss_kb "$PID_D") && [ "${r:-0}" -gt "$peak_d" ] && peak_d=$r
    sleep 0.2
done
wait "$G1" "$G2"
echo "# garbage to a: $(cat "$T/garbage-a.json")"
echo "# garbage to d: $(cat "$T/garbage-d.json")"
check "the garbage was sent to a" grep -q '"sent":10000' "$T/garbage-a.json"
check "and to d" grep -q '"connections":1000' "$T/garbage-d.json"
sleep 2
RSS_A1=$(rss_kb "$PID_A") RSS_D1=$(rss_kb "$PID_D")
echo "# cluster process RSS: a ${RSS_A0} kB before, ${peak_a} kB at most during, ${RSS_A1:-gone} kB after;" \
    "d ${RSS_D0} kB, ${peak_d} kB, ${RSS_D1:-gone} kB"
check "a and b saw themselves green throughout ($bad of $samples samples not)" test "$samples" -gt 4 -a "$bad" = 0
for n in a b; do
    check "after the garbage node $n still sees a and b green" pair_green "$n"
done
for n in a b; do
    check "node $n knows no member the garbage made up (a, b, c, d only)" \
        test "$(status "$n" | awk '{ print $1 }' | sort | paste -sd' ')" = \
        "$(printf '%s\n' "${ID[a]}" "${ID[b]}" "${ID[c]}" "${ID[d]}" | sort | paste -sd' ')"
done
check "node a's cluster process is alive, the same one (pid $PID_A)" alive "$PID_A"
check "node d's cluster process is alive, the same one (pid $PID_D)" alive "$PID_D"
check "node a's cluster process RSS stayed bounded (+$((${RSS_A1:-0} - RSS_A0)) kB after, +$((peak_a - RSS_A0)) kB at peak)" \
    test "${RSS_A1:-999999}" -le $((RSS_A0 + 16384)) -a "$peak_a" -le $((RSS_A0 + 65536))
check "node d's cluster process RSS stayed bounded (+$((${RSS_D1:-0} - RSS_D0)) kB after, +$((peak_d - RSS_D0)) kB at peak)" \
    test "${RSS_D1:-999999}" -le $((RSS_D0 + 16384)) -a "$peak_d" -le $((RSS_D0 + 65536))
# ---- silent connections ---------------------------------------------------------
# 200 connections to node a's streaming port that send the start of a large
# frame and then nothing (issue 19, defect 9): each used to cost a maximum
# frame's buffer (~264 KiB) until its hello timeout, 52 MB in all.  Now a
# connection holds what it sent, and at most 32 wait for a hello: the node
# drops the oldest for the newest, while a and b stay green.
vm_data_kb() { awk '/^VmData:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
silent() { node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(r[process.argv[2]])' \
    "$T/silent.json" "$1" 2>/dev/null; }
VM_A0=$(vm_data_kb "$PID_A")
node "$CHORUS_SRC/tests/integration/cluster/silent.js" 127.0.0.1 "${STREAM[a]}" 200 2500 >"$T/silent.json" 2>&1 &
G3=$!
peak_vm=$VM_A0
while alive "$G3"; do
    v=$(vm_data_kb "$PID_A") && [ "${v:-0}" -gt "$peak_vm" ] && peak_vm=$v
    sleep 0.1
done
wait "$G3"
echo "# silent connections to a: $(cat "$T/silent.json"); VmData ${VM_A0} kB before, ${peak_vm} kB at most"
check "the silent connections were made" test "$(silent connected)" -ge 190
check "node a closed all but the last 32 of them without their hello" \
    test "$(silent closedByNode)" -ge $(($(silent connected) - 32))
check "node a's cluster process did not reserve a frame buffer for each (+$((peak_vm - VM_A0)) kB VmData at peak)" \
    test "$peak_vm" -le $((VM_A0 + 16384))
for n in a b; do
    check "after the silent connections node $n still sees a and b green" pair_green "$n"
done

for n in a b c d; do
    check "node $n: no cluster process died" not grep -qE 'cluster process pid [0-9]+ (killed by signal|exited)' \
        "$T/$n/logs/master.log"
    check "node $n: no error in cluster.log" not grep -qE '"level":"(error|fatal)"' "$T/$n/logs/cluster.log"
done
check "no sanitizer or crash report in any node's output" \
    not grep -qE 'AddressSanitizer|runtime error:|Segmentation|Assertion|Aborted' "$T"/?/stdout.log
# the refused input was counted: the cluster process says so when it exits
stop_node "$T/a"
stop_node "$T/d"
for n in a d; do
    line=$(grep -o 'cluster process exiting ([^)]*)' "$T/$n/logs/cluster.log" | tail -1)
    echo "# node $n: $line"
    dropped=$(grep -o '[0-9]* packets dropped' <<<"$line" | cut -d' ' -f1)
    check "node $n counted the refused packets (${dropped:-none})" test "${dropped:-0}" -ge 1000
done

finish
