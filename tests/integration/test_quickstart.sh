#!/usr/bin/env bash
# contrib/quickstart.sh as a user runs it: start, ping through nginx (also
# with one node killed), stop, start again on the same data, stop.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
export QUICKSTART_VAR=$T/var BUILD=${BUILD:-$(dirname "$CHORUSD")}
QS=$CHORUS_SRC/contrib/quickstart.sh
ports_free() { ! ss -ltnH | grep -qE ':(8065|8066|8075|8077|8080)\b'; }
cleanup() { "$QS" stop >/dev/null 2>&1; }
trap cleanup EXIT

check "ports 8065, 8066, 8075, 8077 and 8080 are free before the test" ports_free
"$QS" >"$T/start1.txt" 2>&1
check "quickstart starts" [ $? = 0 ]
check "quickstart prints where it listens" grep -q 'http://127.0.0.1:8080/' "$T/start1.txt"
check "ping through nginx" [ "$(http_code http://127.0.0.1:8080/api/v4/system/ping)" = 200 ]
check "server status through nginx" \
    wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:8080/api/v4/system/ping?get_server_status=true')\" = 200 ]"
check "node1 logs in its own folder" [ -s "$QUICKSTART_VAR/node1/logs/master.log" ]
check "node2 logs in its own folder" [ -s "$QUICKSTART_VAR/node2/logs/worker-0.log" ]
cluster_of_two() {
    curl -s "http://127.0.0.1:$1/api/v4/system/ping?get_server_status=true" |
        grep -q '"cluster_nodes_alive":2'
}
check "the two nodes form a cluster" wait_for 15 cluster_of_two 8065

kill -9 "$(cat "$QUICKSTART_VAR/node1/chorusd.pid")"
ok=0
for _ in $(seq 20); do [ "$(http_code http://127.0.0.1:8080/api/v4/system/ping)" = 200 ] && ok=$((ok + 1)); done
check "node1 SIGKILLed: 20 of 20 pings through nginx still answer ($ok)" [ "$ok" = 20 ]

"$QS" >"$T/start2.txt" 2>&1
check "rerun restarts the missing node" [ "$(http_code http://127.0.0.1:8065/api/v4/system/ping)" = 200 ]
check "the restarted node rejoins the cluster" wait_for 15 cluster_of_two 8066
"$QS" stop >"$T/stop1.txt" 2>&1
check "stop stops everything" wait_for 10 ports_free

"$QS" >"$T/start3.txt" 2>&1
check "start again on the same data" \
    wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:8080/api/v4/system/ping?get_server_status=true')\" = 200 ]"
check "the data was reused (no initdb, no migration again)" \
    [ "$(cat "$QUICKSTART_VAR"/node*/logs/migrate.log | grep -c 'applied migration 1:')" = 1 ]
"$QS" stop >/dev/null 2>&1
check "stop again" wait_for 10 ports_free
finish
