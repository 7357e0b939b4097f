# shellcheck shell=bash disable=SC2154 # tmp and the others below are the caller's
# bench/lib/cluster.sh: a chorus cluster of a few nodes on loopback over one
# private PostgreSQL, for bench/failover.sh and bench/resume.sh.  Sourced at
# the top level after contrib/lib/pg.sh; each node runs in its own process
# group.
#
# The caller sets (before the functions that use them run):
#   NAMES      array of the node names (a b c); a node's files go to $tmp/NAME
#   tmp        its temp dir; KEEP=1 keeps it at exit (and prints its path)
#   SRC        the checkout; BIN the chorusd to run (a copy in $tmp)
#   WORKERS, LOGLEVEL  each node's worker count and file log level
#   NODE_ENV   array of extra VAR=value settings for every node, after the
#              common ones (MM_PROCESSSETTINGS_SHMSIZEMB=..,
#              MM_CLUSTERSETTINGS_CLUSTERNAME=.., ...)
#   die        a function: print its arguments and exit 1
# Provides, per node NAME: PID PORT GOSSIP STREAM ID URL (associative arrays,
# declared here), the private PostgreSQL's PG_PORT and DSN, the admin's TOKEN,
# and the functions
#   bench_next_port, bench_ports BASE_PORT    free TCP+UDP ports for the nodes
#   bench_pg_start PG_PORT_BASE DB            PostgreSQL and the nodes' database
#   bench_node_start NAME, bench_node_stop NAME
#   bench_cleanup                             for `trap bench_cleanup EXIT`
#   bench_admin_token NAME                    the first user (the admin), TOKEN
#   bench_all_green TIMEOUT_S                 every node sees every node green
#   kv KEY LINE                               KEY's value in "k=v k=v" LINE

declare -A PID PORT GOSSIP STREAM ID URL
pg_started=0

# bench_node_stop NAME: TERM the master (a clean stop deletes its
# ClusterDiscovery row), wait up to 5 s, then KILL whatever is left of its
# process group.
bench_node_stop() {
    local pid=${PID[$1]:-} i=0
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    PID[$1]=
}

# bench_cleanup: every node, the PostgreSQL, then $tmp (unless KEEP=1).
bench_cleanup() {
    trap - EXIT INT TERM
    local n
    for n in "${NAMES[@]}"; do bench_node_stop "$n"; done
    if [ "$pg_started" = 1 ]; then pg_stop "$tmp/pg" >/dev/null 2>&1 || true; fi
    if [ "$KEEP" = 1 ]; then echo "${0##*/}: kept $tmp" >&2; else rm -rf "$tmp"; fi
}

# bench_next_port: LAST_PORT becomes the first port above it that no TCP or
# UDP socket uses (GossipPort is UDP); a port handed out is never handed out
# again.
bench_next_port() {
    local p=$((LAST_PORT + 1))
    while ss -tuanH "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
    LAST_PORT=$p
}

# bench_ports BASE_PORT: each node's PORT, GOSSIP and STREAM port, from
# BASE_PORT up, and its URL.
bench_ports() {
    local n
    LAST_PORT=$(($1 - 1))
    for n in "${NAMES[@]}"; do
        bench_next_port && PORT[$n]=$LAST_PORT
        bench_next_port && GOSSIP[$n]=$LAST_PORT
        bench_next_port && STREAM[$n]=$LAST_PORT
        URL[$n]=http://127.0.0.1:${PORT[$n]}
    done
}

# bench_pg_start PG_PORT_BASE DB: the private PostgreSQL in $tmp/pg on the
# first free port from PG_PORT_BASE (PG_PORT), its database DB, and DSN.
bench_pg_start() {
    PG_PORT=$(free_port "$1")
    pg_start "$tmp/pg" "$PG_PORT" >/dev/null || die "cannot start PostgreSQL"
    pg_started=1
    pg_create_db "$tmp/pg" "$PG_PORT" "$2" >/dev/null
    DSN=$(pg_dsn "$tmp/pg" "$PG_PORT" "$2")
}

# bench_node_start NAME: a node in its own process group (setsid execs in
# place: the background job is not a group leader), then its ping and its
# node id (ID).
bench_node_start() {
    local n=$1 dir=$tmp/$1 i
    mkdir -p "$dir/logs"
    env MM_SERVICESETTINGS_LISTENADDRESS="127.0.0.1:${PORT[$n]}" MM_SQLSETTINGS_DATASOURCE="$DSN" \
        MM_LOGSETTINGS_FILELOCATION="$dir/logs" MM_LOGSETTINGS_ENABLECONSOLE=false \
        MM_LOGSETTINGS_FILELEVEL="$LOGLEVEL" MM_PROCESSSETTINGS_PIDFILE="$dir/chorusd.pid" \
        MM_PROCESSSETTINGS_WORKERS="$WORKERS" \
        MM_FILESETTINGS_DIRECTORY="$tmp/shared-data" MM_METRICSSETTINGS_ENABLE=false \
        MM_CLUSTERSETTINGS_ENABLE=true MM_CLUSTERSETTINGS_OVERRIDEHOSTNAME=127.0.0.1 \
        MM_CLUSTERSETTINGS_GOSSIPPORT="${GOSSIP[$n]}" MM_CLUSTERSETTINGS_STREAMINGPORT="${STREAM[$n]}" \
        "${NODE_ENV[@]}" \
        setsid "$BIN" -c "$SRC/etc/config.json" >>"$dir/stdout.log" 2>&1 &
    PID[$n]=$!
    disown "${PID[$n]}" # no "Killed" notice from bash when a node is SIGKILLed
    for ((i = 0; i < 400; i++)); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "${URL[$n]}/api/v4/system/ping")" = 200 ]; then
            [ "$(ps -o pgid= -p "${PID[$n]}" | tr -d ' ')" = "${PID[$n]}" ] ||
                die "node $n is not the leader of its own process group"
            ID[$n]=$(grep -ho 'node [a-z0-9]\{26\} listening' "$dir/logs/master.log" | tail -n 1 | cut -d' ' -f2)
            [ -n "${ID[$n]}" ] || die "no node id in $dir/logs/master.log"
            return 0
        fi
        kill -0 "${PID[$n]}" 2>/dev/null || break
        sleep 0.05
    done
    tail -20 "$dir/stdout.log" "$dir/logs/master.log" >&2 2>/dev/null || true
    die "node $n did not start"
}

# bench_admin_token NAME: the first user (the admin) NAME, password
# NAME-password, made through the first node; TOKEN is its login token.
bench_admin_token() {
    local url=${URL[${NAMES[0]}]}
    curl -sf -o /dev/null -X POST "$url/api/v4/users" \
        -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$1-password\"}" ||
        die "cannot create the bench user"
    TOKEN=$(curl -si -X POST "$url/api/v4/users/login" -d "{\"login_id\":\"$1\",\"password\":\"$1-password\"}" |
        awk 'tolower($1) == "token:" { print $2 }' | tr -d '\r')
    [ -n "$TOKEN" ] || die "cannot log in"
}

# bench_all_green TIMEOUT_S: until every node sees all the nodes green and one
# leader (bench/failover/poll.mjs green); prints its "k=v" line (ms, leader).
bench_all_green() {
    local urls='' n
    for n in "${NAMES[@]}"; do urls="$urls${urls:+,}\"${URL[$n]}\""; done
    node "$SRC/bench/failover/poll.mjs" green \
        "{\"urls\":[$urls],\"token\":\"$TOKEN\",\"count\":${#NAMES[@]},\"timeoutMs\":$(($1 * 1000))}"
}

kv() { # kv KEY LINE: the value of KEY=value in LINE
    printf '%s\n' "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'
}
