#!/usr/bin/env bash
# Three chorus nodes on loopback, one PostgreSQL, clustering on: discovery,
# gossip, links, cross-node events (through the official @mattermost/client in
# tests/client/cluster/, with a day of the web app's mattermost-redux store on
# two nodes), status with reasons, leader, failure detection,
# config mismatch and reload-all, version mismatch, gossip encryption.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
CLIENT_DIR=$CHORUS_SRC/tests/client
DSN=$(new_database cluster)
NAMES=(a b c d)
declare -A NODE_PORT NODE_GOSSIP NODE_STREAM
CLUSTER_NAME="test"
cluster_ports 18300 "${NAMES[@]}"
status() { cluster_status "$1"; }
sees_red() { status "$1" | grep -q "^$2 red"; }
reason_of() { status "$1" | awk -v id="$2" '$1 == id { $1 = $2 = $3 = ""; print }'; }

for n in a b c; do
    cluster_node "$n" || fail "node $n starts"
done
curl -s -o "$T/admin.json" -X POST "$(url a)/api/v4/users" \
    -d '{"username":"admin","email":"admin@example.com","password":"admin-password"}'
TOKEN=$(curl -si -X POST "$(url a)/api/v4/users/login" -d '{"login_id":"admin","password":"admin-password"}' |
    tr -d '\r' | awk 'tolower($1) == "token:" { print $2 }')
check "an admin logs in" test -n "$TOKEN"

for n in a b c; do
    check "node $n sees three green members" wait_for 15 all_green "$n" 3
done
check "three ClusterDiscovery rows" test "$(sql cluster "SELECT count(*) FROM ClusterDiscovery WHERE ClusterName = 'test'")" = 3
check "cluster.log written" grep -q 'gossip on UDP' "$T/a/logs/cluster.log"
ID_A=$(node_id a)
ID_B=$(node_id b)
ID_C=$(node_id c)
LOWEST=$(printf '%s\n' "$ID_A" "$ID_B" "$ID_C" | sort | head -1)
agreed_leader() { [ "$(leader_of a)/$(leader_of b)/$(leader_of c)" = "$LOWEST/$LOWEST/$LOWEST" ]; }
wait_for 5 agreed_leader ||
    echo "# leaders: $(leader_of a)/$(leader_of b)/$(leader_of c), lowest $LOWEST ($ID_A $ID_B $ID_C)"
check "every node agrees the leader is the lowest node id" agreed_leader
check "ping with server status reports the cluster green with 3 nodes" \
    bash -c "curl -s '$(url b)/api/v4/system/ping?get_server_status=true' |
        grep -q '\"cluster_status\":\"green\"'"

# Cross-node behaviour through the official client.
(cd "$CLIENT_DIR" && CHORUS_URLS="$(url a),$(url b),$(url c)" CHORUS_NODE_DIRS="$T/a,$T/b,$T/c" CHORUS_ADMIN_LOGIN=admin \
    CHORUS_ADMIN_PASSWORD=admin-password timeout 120 node --test --test-reporter=tap cluster/*.test.mjs) \
    >"$T/tap.txt" 2>"$T/node.err"
before=$((PASSED + FAILED))
tap_to_results <"$T/tap.txt"
[ $((PASSED + FAILED)) -gt "$before" ] || { cat "$T/node.err"; fail "the cross-node client tests ran"; }
grep -A12 '^not ok' "$T/tap.txt" | head -60

# A reload of node a under continuous posting loses and repeats no
# cross-node event, either way (alone: it reloads node a under other tests).
(cd "$CLIENT_DIR" && CHORUS_URLS="$(url a),$(url b),$(url c)" CHORUS_NODE_DIRS="$T/a,$T/b,$T/c" \
    CHORUS_ADMIN_LOGIN=admin CHORUS_ADMIN_PASSWORD=admin-password timeout 120 \
    node --test --test-concurrency=1 --test-reporter=tap reload/*.test.mjs) >"$T/tap-reload.txt" 2>"$T/node-reload.err"
before=$((PASSED + FAILED))
tap_to_results <"$T/tap-reload.txt"
[ $((PASSED + FAILED)) -gt "$before" ] || { cat "$T/node-reload.err"; fail "the reload client tests ran"; }
grep -A12 '^not ok' "$T/tap-reload.txt" | head -40
check "node a's new cluster process resumed its streams where the old one left off" \
    grep -q 'where the previous cluster process left off' "$T/a/logs/cluster.log"
for n in a b c; do
    check "after the reloads node $n sees three green members" wait_for 15 all_green "$n" 3
done

# Roles as data: a permission taken from team_user is refused on every node
# (alone: every other client test creates channels as a team_user).
(cd "$CLIENT_DIR" && CHORUS_URLS="$(url a),$(url b),$(url c)" CHORUS_ADMIN_LOGIN=admin \
    CHORUS_ADMIN_PASSWORD=admin-password timeout 120 \
    node --test --test-concurrency=1 --test-reporter=tap roles/*.test.mjs) >"$T/tap-roles.txt" 2>"$T/node-roles.err"
before=$((PASSED + FAILED))
tap_to_results <"$T/tap-roles.txt"
[ $((PASSED + FAILED)) -gt "$before" ] || { cat "$T/node-roles.err"; fail "the roles client tests ran"; }
grep -A12 '^not ok' "$T/tap-roles.txt" | head -40

# A paused node (300 ms, every process of it) is not declared dead.
TREE_C="$(master_pid "$T/c") $(pgrep -P "$(master_pid "$T/c")" | tr '\n' ' ')"
# shellcheck disable=SC2086
kill -STOP $TREE_C
sleep 0.3
# shellcheck disable=SC2086
kill -CONT $TREE_C
sleep 2
check "a node paused for 300 ms is not declared dead" \
    not grep -q "node $ID_C .* is dead" "$T/a/logs/cluster.log" "$T/b/logs/cluster.log"
check "and every node still sees three green members" all_green a 3

# SIGKILL the leader's whole tree: the others mark it red within 2 s and
# agree on a new leader.
LEADER_NODE=a
[ "$LOWEST" = "$ID_B" ] && LEADER_NODE=b
[ "$LOWEST" = "$ID_C" ] && LEADER_NODE=c
OTHERS=()
for n in a b c; do [ "$n" = "$LEADER_NODE" ] || OTHERS+=("$n"); done
# A user whose only socket is on the leader: after the leader's death the
# new leader's presence sweep sets them offline.
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -X POST "$(url a)/api/v4/users" \
    -d '{"username":"frank","email":"frank@example.com","password":"frank-password"}'
FRANK=$(curl -si -X POST "$(url a)/api/v4/users/login" -d '{"login_id":"frank","password":"frank-password"}' |
    tr -d '\r' | awk 'tolower($1) == "token:" { print $2 }')
FRANK_ID=$(curl -s -H "Authorization: Bearer $FRANK" "$(url a)/api/v4/users/me" | grep -o '"id":"[a-z0-9]*"' | head -1 | cut -d'"' -f4)
(cd "$CLIENT_DIR" && exec node -e "const W = require('ws'); const s = new W(process.argv[1], {headers: {Authorization: 'Bearer ' + process.argv[2]}});
    s.on('error', () => {}); s.on('close', () => process.exit(0)); setTimeout(() => process.exit(0), 60000);" \
    "ws://127.0.0.1:${NODE_PORT[$LEADER_NODE]}/api/v4/websocket" "$FRANK") &
WS_PID=$!
frank_is() { curl -s -H "Authorization: Bearer $TOKEN" "$(url "${1}")/api/v4/users/$FRANK_ID/status" | grep -q "\"status\":\"$2\""; }
check "a user with one socket on the leader is online" wait_for 5 frank_is "$LEADER_NODE" online

pkill -KILL -P "$(master_pid "$T/$LEADER_NODE")"
kill -KILL "$(master_pid "$T/$LEADER_NODE")"
start=$(date +%s%N)
for n in "${OTHERS[@]}"; do
    wait_for 5 sees_red "$n" "$LOWEST"
done
elapsed=$((($(date +%s%N) - start) / 1000000))
echo "# killed leader marked red by both peers after $elapsed ms"
check "a SIGKILLed node is red on both peers within 2 s ($elapsed ms)" test "$elapsed" -le 2000
# red at once (its links broke: "not linked"), then declared dead by SWIM
says_unreachable() { reason_of "${OTHERS[0]}" "$LOWEST" | grep -q 'unreachable since'; }
wait_for 5 says_unreachable
REASON=$(reason_of "${OTHERS[0]}" "$LOWEST")
check "the reason says since when it is unreachable ($REASON)" grep -q 'unreachable since' <<<"$REASON"
NEW_LEADER=$(printf '%s\n' "$ID_A" "$ID_B" "$ID_C" | grep -v "$LOWEST" | sort | head -1)
check "a new leader is agreed" wait_for 3 bash -c \
    "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' '$(url "${OTHERS[0]}")/api/v4/cluster/status' | grep -o '\"id\":\"$NEW_LEADER\"[^}]*\"is_leader\":true' | wc -l)\" = 1 ]"
check "the new leader is logged on the peers" wait_for 3 grep -q "leader is now $NEW_LEADER" \
    "$T/${OTHERS[1]}/logs/cluster.log"
check "the user whose only socket was on the dead node is offline" wait_for 5 frank_is "${OTHERS[0]}" offline
wait "$WS_PID" 2>/dev/null

# Restart it (a new node id, same address): green again.
cluster_node "$LEADER_NODE" || fail "the killed node restarts"
for n in a b c; do
    check "after the restart node $n sees three green members" wait_for 15 all_green "$n" 3
done

# A config changed on one node: red with the key named; changed everywhere
# and reloaded from one node: green.
sed -i 's/"QueryTimeout": 30/"QueryTimeout": 31/' "$T/b/config.json"
check "node b's config was edited" grep -q '"QueryTimeout": 31' "$T/b/config.json"
ID_B=$(node_id b)
kill -HUP "$(master_pid "$T/b")"
check "node a names the differing key" wait_for 10 bash -c \
    "curl -s -H 'Authorization: Bearer $TOKEN' '$(url a)/api/v4/cluster/status' | grep -q 'config mismatch: SqlSettings.QueryTimeout'"
check "the ping reports red" bash -c "curl -s '$(url a)/api/v4/system/ping?get_server_status=true' |
        grep -q '\"cluster_status\":\"red\"'"
sed -i 's/"QueryTimeout": 30/"QueryTimeout": 31/' "$T/a/config.json" "$T/c/config.json"
check "POST /config/reload on one node answers OK" bash -c \
    "curl -s -X POST -H 'Authorization: Bearer $TOKEN' '$(url c)/api/v4/config/reload' | grep -q OK"
for n in a b c; do
    check "after reloading every node, node $n sees three green members" wait_for 20 all_green "$n" 3
done

# PUT /config is refused while clustered with ReadOnlyConfig (the default).
check "PUT /config with ReadOnlyConfig: 403 ent.cluster.save_config.error" bash -c \
    "curl -s -X PUT -H 'Authorization: Bearer $TOKEN' -d @'$T/a/config.json' '$(url a)/api/v4/config' |
        grep -q ent.cluster.save_config.error"

# With ReadOnlyConfig off (a per-node key: each node's own file, then a
# reload of all), PUT /config on one node saves the config on every node
# whose own ReadOnlyConfig is off: node c keeps it on, and its file is its
# operator's alone.  The admin sends back what GET /config showed, secrets
# masked: node a's search replica (a secret of its own file) must not reach
# node b, which fills the placeholder from its own (issue 19, defect 4).
sed -i 's/"ReadOnlyConfig": true/"ReadOnlyConfig": false/' "$T/a/config.json" "$T/b/config.json"
for n in a b; do
    jq --arg dsn "$DSN&application_name=search_of_$n" '.SqlSettings.DataSourceSearchReplicas = [$dsn]' \
        "$T/$n/config.json" >"$T/$n/config.tmp" && mv "$T/$n/config.tmp" "$T/$n/config.json"
done
B_RELOADS=$(grep -c 'reload complete' "$T/b/logs/master.log")
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$(url a)/api/v4/config/reload"
wait_for 20 all_green a 3
# node b runs with its own search replica before the save reaches it
wait_for 20 bash -c "[ \$(grep -c 'reload complete' '$T/b/logs/master.log') -gt $B_RELOADS ]" ||
    echo "# node b's reload not seen"
curl -s -H "Authorization: Bearer $TOKEN" "$(url a)/api/v4/config" |
    jq '.TeamSettings.SiteName = "Chorus Cluster"' >"$T/new-config.json"
check "GET /config masks the search replica" jq -e '.SqlSettings.DataSourceSearchReplicas == ["********************************"]' \
    "$T/new-config.json"
check "PUT /config without ReadOnlyConfig saves" bash -c \
    "curl -s -X PUT -H 'Authorization: Bearer $TOKEN' -d @'$T/new-config.json' '$(url a)/api/v4/config' |
        grep -q 'Chorus Cluster'"
check "node b's config file has the saved value" wait_for 10 grep -q '"SiteName": "Chorus Cluster"' "$T/b/config.json"
check "node a kept its own search replica behind the placeholder" grep -q 'search_of_a' "$T/a/config.json"
check "node b kept its own search replica: the saved config came without node a's secrets" bash -c \
    "grep -q 'search_of_b' '$T/b/config.json' && ! grep -q 'search_of_a' '$T/b/config.json'"
check "node b serves the saved value after its reload" wait_for 15 bash -c \
    "curl -s -H 'Authorization: Bearer $TOKEN' '$(url b)/api/v4/config' | grep -q 'Chorus Cluster'"
check "node c (ReadOnlyConfig true) refuses the config a peer saved, and says why" wait_for 10 \
    grep -q 'not written here, ClusterSettings.ReadOnlyConfig is true on this node' "$T/c/logs/cluster.log"
check "node c's config file is untouched" not grep -q '"SiteName": "Chorus Cluster"' "$T/c/config.json"
# its operator makes the same change by hand, as ReadOnlyConfig means
sed -i 's/"SiteName": "Mattermost"/"SiteName": "Chorus Cluster"/' "$T/c/config.json"
kill -HUP "$(master_pid "$T/c")"
check "node c serves the value after its own reload" wait_for 15 bash -c \
    "curl -s -H 'Authorization: Bearer $TOKEN' '$(url c)/api/v4/config' | grep -q 'Chorus Cluster'"
check "node b kept its own per-node keys (its GossipPort)" grep -q "\"GossipPort\": ${NODE_GOSSIP[b]}\|\"GossipPort\": 8074" "$T/b/config.json"
# the search replicas differed only to tell a's from b's, and a differing
# secret is a config mismatch (red): the same again everywhere
for n in a b; do
    jq '.SqlSettings.DataSourceSearchReplicas = []' "$T/$n/config.json" >"$T/$n/config.tmp" &&
        mv "$T/$n/config.tmp" "$T/$n/config.json"
done
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$(url a)/api/v4/config/reload"
for n in a b c; do
    check "after the save node $n sees three green members" wait_for 20 all_green "$n" 3
done

# A node announcing another version is red with the reason.
cluster_node d CHORUS_CLUSTER_ANNOUNCED_VERSION=99.0.0 || fail "node d starts"
ID_D=$(node_id d)
check "a node of another version is red: version mismatch" wait_for 15 bash -c \
    "curl -s -H 'Authorization: Bearer $TOKEN' '$(url a)/api/v4/cluster/status' | grep -q 'version mismatch: 99.0.0 vs'"
stop_node "$T/d"
check "a clean stop deletes its ClusterDiscovery row" \
    test "$(sql cluster "SELECT count(*) FROM ClusterDiscovery WHERE Id = '$ID_D'")" = 0
check "its peers saw it leave (not die)" wait_for 5 grep -q "node $ID_D .* is left" "$T/a/logs/cluster.log"

finish
