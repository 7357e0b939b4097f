# shellcheck shell=bash
# Shared helpers for the integration suites.  A suite is a script that
# sources this file, runs checks with `check NAME CMD...` (or pass/fail),
# and ends with `finish`, which prints "<suite>: N passed, N failed" and
# exits non-zero on any failure.  contrib/test.sh provides:
#   CHORUSD          the binary under test
#   CHORUS_SRC       the source tree (for etc/config.json, fixtures)
#   CHORUS_TEST_DSN  a database of the suite's own (or make more with new_database)
#   CHORUS_PG_DIR, CHORUS_PG_PORT  that PostgreSQL's directory and port
#   CHORUS_TEST_TMP  a scratch directory for this suite
set -u

# shellcheck source=contrib/lib/pg.sh
. "$CHORUS_SRC/contrib/lib/pg.sh"

SUITE=$(basename "$0" .sh)
PASSED=0
FAILED=0
NODE_PIDS=()

pass() { PASSED=$((PASSED + 1)); echo "PASS: $SUITE: $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $SUITE: $1${2:+ ($2)}"; }
# check NAME CMD...: pass when CMD succeeds.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

finish() {
    stop_all_nodes
    echo "$SUITE: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

# new_database NAME: creates an empty database and prints its DataSource.
new_database() {
    # WITH (FORCE): nodes a killed run left connected must not keep the old data alive
    psql -h "$CHORUS_PG_DIR/sock" -p "$CHORUS_PG_PORT" -U postgres -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" postgres >/dev/null 2>&1
    psql -h "$CHORUS_PG_DIR/sock" -p "$CHORUS_PG_PORT" -U postgres -qc "CREATE DATABASE $1" postgres >/dev/null
    pg_dsn "$CHORUS_PG_DIR" "$CHORUS_PG_PORT" "$1"
}

# sql DB QUERY: runs QUERY on database DB, unaligned output.
sql() {
    psql -h "$CHORUS_PG_DIR/sock" -p "$CHORUS_PG_PORT" -U postgres -tAc "$2" "$1"
}

# node_env DIR PORT DSN: the environment a test node runs with.
node_env() {
    local dir=$1 port=$2 dsn=$3
    echo "MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$port"
    echo "MM_SQLSETTINGS_DATASOURCE=$dsn"
    echo "MM_LOGSETTINGS_FILELOCATION=$dir/logs"
    echo "MM_LOGSETTINGS_ENABLECONSOLE=false"
    echo "MM_LOGSETTINGS_FILELEVEL=DEBUG"
    echo "MM_PROCESSSETTINGS_PIDFILE=$dir/chorusd.pid"
    echo "MM_PROCESSSETTINGS_WORKERS=${WORKERS:-2}"
    echo "MM_PROCESSSETTINGS_SHMSIZEMB=16"
    echo "MM_FILESETTINGS_DIRECTORY=$dir/data"
}

# start_node DIR PORT DSN [ENV=VALUE...]: runs chorusd in the foreground
# (in the background of this script) and waits for its ping.
start_node() {
    local dir=$1 port=$2 dsn=$3
    shift 3
    mkdir -p "$dir/data" "$dir/logs"
    local -a envs
    mapfile -t envs < <(node_env "$dir" "$port" "$dsn")
    env "${envs[@]}" "$@" "$CHORUSD" -c "${CONFIG:-$CHORUS_SRC/etc/config.json}" >"$dir/stdout.log" 2>&1 &
    NODE_PIDS+=($!)
    echo $! >"$dir/master.pid"
    wait_ping "$port"
}

# wait_ping PORT [SECONDS]: until plain ping answers 200.
wait_ping() {
    local i
    for ((i = 0; i < ${2:-10} * 20; i++)); do
        curl -sf -o /dev/null "http://127.0.0.1:$1/api/v4/system/ping" && return 0
        sleep 0.05
    done
    return 1
}

not() { ! "$@"; }

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

# alive PID: the process exists and is not a zombie (an orphaned child may
# stay a zombie if nothing reaps it, yet it holds no port or memory).
alive() {
    local stat
    stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [ -n "$stat" ] && [ "${stat#Z}" = "$stat" ]
}

# http_code URL [CURL ARGS...]: the HTTP status curl gets (000 when none).
http_code() {
    local url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' "$@" "$url"
}

# wrk_errors FILE: socket errors plus non-2xx responses in a wrk report.
wrk_errors() {
    awk '/Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
         /Non-2xx/ { n += $NF }
         END { print n + 0 }' "$1"
}

master_pid() { cat "$1/master.pid"; }
worker_pids() { pgrep -P "$(master_pid "$1")" | sort -n; }

# stop_node DIR: fast stop, then wait for the whole tree to go.
stop_node() {
    local pid
    pid=$(master_pid "$1") || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_for 10 not alive "$pid"
}

stop_all_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${NODE_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    NODE_PIDS=()
}
trap stop_all_nodes EXIT

# One line per top-level test: "ok N - name" / "not ok N - name" at column 0
# (subtests are indented, diagnostics are YAML blocks or "# " comments).
tap_to_results() {
    local line name not
    while IFS= read -r line; do
        [[ $line =~ ^(not\ )?ok\ [0-9]+(\ -\ (.*))?$ ]] || continue
        not=${BASH_REMATCH[1]}
        name=${BASH_REMATCH[3]:-unnamed}
        # "# SKIP" / "# TODO" results count neither way
        if [[ $name =~ ^(.*[^\\])\ \#\ (SKIP|TODO) ]]; then
            echo "${BASH_REMATCH[2]}: $SUITE: ${BASH_REMATCH[1]//\\#/#} (${not}ok)"
            continue
        fi
        name=${name//\\#/#}
        if [ -z "$not" ]; then pass "$name"; else fail "$name"; fi
    done
}

# ---- clustered nodes on loopback (test_cluster*.sh, test_jobs_cluster.sh) ----
# The suite declares `declare -A NODE_PORT NODE_GOSSIP NODE_STREAM`, sets DSN, CLUSTER_NAME
# and, for cluster_status, TOKEN (an admin's).
# shellcheck disable=SC2154 # those are the suite's

# shellcheck disable=SC2004 # associative arrays: the subscript is a key
# cluster_ports FIRST NAME...: each node's API, gossip and streaming ports,
# each above the last one taken (free_port alone could hand one out twice).
cluster_ports() {
    local after=$1 n
    shift
    for n in "$@"; do
        NODE_PORT[$n]=$(free_port "$after")
        NODE_GOSSIP[$n]=$(free_port $((NODE_PORT[$n] + 1)))
        NODE_STREAM[$n]=$(free_port $((NODE_GOSSIP[$n] + 1)))
        after=$((NODE_STREAM[$n] + 1))
    done
}

# cluster_node NAME [ENV=VALUE...]: starts node NAME with its own config file
# (so one node's config can be edited alone) and clustering on; the file
# store is shared, as a cluster's must be (its path is part of the config).
cluster_node() {
    local n=$1
    shift
    mkdir -p "$CHORUS_TEST_TMP/$n"
    [ -f "$CHORUS_TEST_TMP/$n/config.json" ] || cp "$CHORUS_SRC/etc/config.json" "$CHORUS_TEST_TMP/$n/config.json"
    CONFIG=$CHORUS_TEST_TMP/$n/config.json start_node "$CHORUS_TEST_TMP/$n" "${NODE_PORT[$n]}" "$DSN" \
        MM_CLUSTERSETTINGS_ENABLE=true MM_CLUSTERSETTINGS_CLUSTERNAME="$CLUSTER_NAME" \
        MM_CLUSTERSETTINGS_OVERRIDEHOSTNAME=127.0.0.1 MM_FILESETTINGS_DIRECTORY="$CHORUS_TEST_TMP/shared-data" \
        MM_CLUSTERSETTINGS_GOSSIPPORT="${NODE_GOSSIP[$n]}" MM_CLUSTERSETTINGS_STREAMINGPORT="${NODE_STREAM[$n]}" "$@"
}

url() { echo "http://127.0.0.1:${NODE_PORT[$1]}"; }

# cluster_status NAME: one line per member as node NAME sees it:
# "<id> <green|red> <leader|-> <reasons, '|'-separated>"
cluster_status() {
    curl -s -H "Authorization: Bearer $TOKEN" "$(url "$1")/api/v4/cluster/status" |
        node -e 'let s = "";
            process.stdin.on("data", (d) => (s += d)).on("end", () => {
                for (const m of JSON.parse(s))
                    console.log(m.id, m.status, m.is_leader ? "leader" : "-", (m.reasons || []).join("|"));
            });' 2>/dev/null
}
# all_green NAME COUNT: node NAME sees COUNT members, all green.
all_green() {
    [ "$(cluster_status "$1" | awk '$2 == "green"' | wc -l)" -eq "$2" ] && [ "$(cluster_status "$1" | wc -l)" -eq "$2" ]
}
leader_of() { cluster_status "$1" | awk '$3 == "leader" { print $1 }'; }
# node_id NAME: the id node NAME's master logged last
node_id() { grep -ho 'node [a-z0-9]\{26\} listening' "$CHORUS_TEST_TMP/$1/logs/master.log" | tail -1 | cut -d' ' -f2; }
