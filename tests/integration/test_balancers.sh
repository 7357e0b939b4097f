#!/usr/bin/env bash
# The shipped balancer configs in front of two real nodes: contrib/nginx and
# contrib/haproxy, with their ports moved to free ones.  Through each: ping,
# one node SIGKILLed without a failed request, a reload of the other node
# under load without a failed request.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
chmod 755 "$T"
DSN=$(new_database balancers)
P1=$(free_port 18400)
P2=$(free_port $((P1 + 1)))
LB=$(free_port $((P2 + 1)))

# with_ports FILE: the config with the nodes' and the front's ports replaced
with_ports() { sed -e "s/:8065\b/:$P1/g; s/:8066\b/:$P2/g; s/\b8080\b/$LB/g" "$1"; }
# pings N URL: how many of N pings answered 200
pings() {
    local ok=0 i
    for ((i = 0; i < $1; i++)); do [ "$(http_code "$2")" = 200 ] && ok=$((ok + 1)); done
    echo "$ok"
}

balancer_checks() { # balancer_checks NAME
    local name=$1 url="http://127.0.0.1:$LB/api/v4/system/ping" ok errors
    check "$name: ping through the balancer" wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$url')\" = 200 ]"
    wrk -t2 -c16 -d4s "$url" >"$T/$name-reload.txt" 2>&1 &
    local wrk=$!
    sleep 1
    kill -HUP "$(master_pid "$T/n2")"
    wait "$wrk"
    errors=$(wrk_errors "$T/$name-reload.txt")
    check "$name: a node reloading under load, no failed request ($errors)" [ "$errors" = 0 ]
    kill -9 "$(master_pid "$T/n1")"
    ok=$(pings 40 "$url")
    check "$name: node1 SIGKILLed, 40 of 40 pings answered ($ok)" [ "$ok" = 40 ]
    start_node "$T/n1" "$P1" "$DSN"
}

start_node "$T/n1" "$P1" "$DSN"
start_node "$T/n2" "$P2" "$DSN"

# nginx, with the config as shipped
mkdir -p "$T/nginx"
with_ports "$CHORUS_SRC/contrib/nginx/chorus.conf" >"$T/nginx/chorus.conf"
nginx -p "$T/nginx/" -c "$T/nginx/chorus.conf" -g "pid $T/nginx/nginx.pid;" >"$T/nginx/out.log" 2>&1
check "nginx starts with contrib/nginx/chorus.conf" [ $? = 0 ]
balancer_checks nginx
nginx -p "$T/nginx/" -c "$T/nginx/chorus.conf" -g "pid $T/nginx/nginx.pid;" -s stop 2>/dev/null
wait_for 5 bash -c "! ss -ltnH 'sport = :$LB' | grep -q ."

# HAProxy, with the config as shipped (its health check polls the ping route)
with_ports "$CHORUS_SRC/contrib/haproxy/chorus.cfg" >"$T/haproxy.cfg"
haproxy -f "$T/haproxy.cfg" -D -p "$T/haproxy.pid" >"$T/haproxy.log" 2>&1
check "haproxy starts with contrib/haproxy/chorus.cfg" [ $? = 0 ]
balancer_checks haproxy
sleep 7 # inter 2s x fall 3: the health check marks the dead node down
ok=$(pings 40 "http://127.0.0.1:$LB/api/v4/system/ping")
check "haproxy: after its health check, 40 of 40 pings answered ($ok)" [ "$ok" = 40 ]
kill "$(cat "$T/haproxy.pid")" 2>/dev/null
finish
