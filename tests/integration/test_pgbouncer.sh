#!/usr/bin/env bash
# chorus through PgBouncer in transaction pooling mode (issue 17), with the
# shipped config unchanged: a real PgBouncer in front of the suite's
# PostgreSQL refuses the startup `options` (the pools connect again without
# them) and hands each transaction to any server session (the prepared
# statements vanish: the pools run unnamed).  Through it: the client suite's
# posts, users and channels files; migrations on an empty database from two
# nodes at once; a job; a reload that moves DataSource onto it.  PostgreSQL
# sees PgBouncer's pool, not chorus's connections.  Directly: idle
# connections close after ConnMaxIdleTimeMilliseconds, none stay with
# MaxIdleConns 0, all are replaced past ConnMaxLifetimeMilliseconds.  Last, a
# primary and a streaming replica (5 s behind) each behind a PgBouncer of its
# own: reads go to the replica, a session reads its own writes at once (from
# the primary).  And PgBouncer in session mode.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
POOL_SIZE=8
PGB=$(pg_dir "$T/pgbouncer")
# ports no other suite starts from (suites of other checkouts may run at once)
PGB_PORT=$(free_port 29432)
PORT=$(free_port 19100)
P2=$(free_port $((PORT + 1)))

# pgbouncer_start DIR PORT PGDIR PGPORT [MODE]: PgBouncer in transaction mode
# (or MODE), trust, its files in DIR, in front of the server of PGDIR (it
# refuses to run as root: it runs as postgres, as the server does)
BOUNCERS=()
pgbouncer_start() {
    mkdir -p "$1"
    echo '"postgres" ""' >"$1/userlist.txt"
    cat >"$1/pgbouncer.ini" <<EOF
[databases]
* = host=$3/sock port=$4
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $2
unix_socket_dir = $1
auth_type = trust
auth_file = $1/userlist.txt
pool_mode = ${5:-transaction}
default_pool_size = $POOL_SIZE
max_client_conn = 1000
logfile = $1/pgbouncer.log
pidfile = $1/pgbouncer.pid
EOF
    [ "$(id -u)" != 0 ] || chown -R postgres: "$1"
    BOUNCERS+=("$1")
    as_postgres pgbouncer -d "$1/pgbouncer.ini" || return 1
    wait_for 10 psql -h 127.0.0.1 -p "$2" -U postgres -tAc "SELECT 1" postgres >/dev/null 2>&1
}
BIN=$(pg_bindir)
SERVERS=()
stop_servers() {
    local d
    for d in "${BOUNCERS[@]}"; do
        [ -f "$d/pgbouncer.pid" ] && kill "$(cat "$d/pgbouncer.pid")" 2>/dev/null
    done
    for d in "${SERVERS[@]}"; do
        as_postgres "$BIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1
    done
    return 0
}
trap 'stop_all_nodes; stop_servers' EXIT
check "PgBouncer (transaction mode) answers on port $PGB_PORT" \
    pgbouncer_start "$PGB" "$PGB_PORT" "$CHORUS_PG_DIR" "$CHORUS_PG_PORT"

# through DB [PORT]: the DataSource of database DB through PgBouncer
through() { echo "postgres://postgres@127.0.0.1:${2:-$PGB_PORT}/$1?sslmode=disable&connect_timeout=5"; }
healthy() { [ "$(http_code "http://127.0.0.1:$1/api/v4/system/ping?get_server_status=true")" = 200 ]; }
# server_conns DB: the connections PostgreSQL has to DB (PgBouncer's or chorus's)
server_conns() { sql postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1'"; }

# ---- (b) migrations on an empty database from two nodes at once -------------
new_database pgb_mig >/dev/null
DSN=$(through pgb_mig)
start_node "$T/a" "$PORT" "$DSN" &
A=$!
start_node "$T/b" "$P2" "$DSN" &
B=$!
wait "$A" && wait "$B"
NODE_PIDS+=("$(master_pid "$T/a")" "$(master_pid "$T/b")")
check "two nodes on an empty database through PgBouncer turn healthy" \
    wait_for 30 bash -c "$(declare -f http_code healthy); healthy $PORT && healthy $P2"
expected=$(grep -c '^    {[0-9]*, "' "$CHORUS_SRC/src/db/migrations.c")
check "every migration recorded once ($expected)" \
    [ "$(sql pgb_mig "SELECT count(*) = $expected AND count(DISTINCT Version) = $expected FROM chorus_migrations")" = t ]
applied=$(cat "$T/a/logs/migrate.log" "$T/b/logs/migrate.log" | grep -c 'applied migration 1:')
check "migration 1 applied by exactly one node ($applied)" [ "$applied" = 1 ]
check "the pools connected without the startup options PgBouncer refused" \
    grep -q "refused the startup settings" "$T"/a/logs/*.log "$T"/b/logs/*.log
stop_all_nodes

# ---- (a) the client suite's posts, users and channels through PgBouncer -----
new_database pgb_client >/dev/null
mkdir -p "$T/client"
CHORUS_TEST_TMP=$T/client CHORUS_CLIENT_DSN=$(through pgb_client) \
    CHORUS_CLIENT_TESTS="posts.test.mjs users.test.mjs channels.test.mjs" \
    bash "$CHORUS_SRC/tests/integration/test_client.sh" >"$T/client.out" 2>&1
peak=$(server_conns pgb_client)
while IFS= read -r line; do
    case $line in
    "PASS: test_client: "*) pass "client: ${line#PASS: test_client: }" ;;
    "FAIL: test_client: "*) fail "client: ${line#FAIL: test_client: }" ;;
    esac
done <"$T/client.out"
check "client files ran through PgBouncer" grep -q '^test_client: [1-9][0-9]* passed' "$T/client.out"
check "PostgreSQL saw PgBouncer's pool, not chorus's connections ($peak <= $POOL_SIZE)" [ "$peak" -le "$POOL_SIZE" ]
# (whether a prepared statement vanished depends on which server session
# PgBouncer gave each transaction: said, not checked)
if grep -q 'prepared statement vanished' "$T/client"/up/logs/*.log; then
    echo "note: a prepared statement vanished between two transactions; the pools ran unnamed from then on"
fi

# ---- (c) a job through PgBouncer --------------------------------------------
new_database pgb_jobs >/dev/null
start_node "$T/j" "$PORT" "$(through pgb_jobs)" MM_DATARETENTIONSETTINGS_ENABLEMESSAGEDELETION=true \
    MM_JOBSETTINGS_RUNSCHEDULER=false || fail "jobs node starts"
wait_for 20 healthy "$PORT"
API=http://127.0.0.1:$PORT/api/v4
curl -s -o /dev/null -X POST "$API/users" -d '{"username":"admin","email":"admin@example.com","password":"admin-password"}'
TOKEN=$(curl -si -X POST "$API/users/login" -d '{"login_id":"admin","password":"admin-password"}' |
    awk -F': ' 'tolower($1) == "token" { print $2 }' | tr -d '\r')
JOB=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" "$API/jobs" -d '{"type":"data_retention"}' |
    sed -n 's/^{"id":"\([a-z0-9]*\)".*/\1/p')
job_done() { [ "$(sql pgb_jobs "SELECT Status FROM Jobs WHERE Id = '$JOB'")" = success ]; }
check "a data retention job runs to success through PgBouncer" wait_for 30 job_done
stop_all_nodes

# ---- (d) a reload moves DataSource from PostgreSQL onto PgBouncer -----------
new_database pgb_reload_a >/dev/null
new_database pgb_reload_b >/dev/null
config() { sed -E "s|\"DataSource\": \"[^\"]*\"|\"DataSource\": \"${1//&/\\&}\"|" "$CHORUS_SRC/etc/config.json" >"$T/config.json.new" &&
    mv "$T/config.json.new" "$T/config.json"; }
config "$(pg_dsn "$CHORUS_PG_DIR" "$CHORUS_PG_PORT" pgb_reload_a)"
mkdir -p "$T/r/data" "$T/r/logs"
mapfile -t ENVS < <(node_env "$T/r" "$PORT" unused | grep -v DATASOURCE)
env "${ENVS[@]}" MM_SQLSETTINGS_CONNMAXIDLETIMEMILLISECONDS=1000 "$CHORUSD" -c "$T/config.json" >"$T/r/stdout.log" 2>&1 &
NODE_PIDS+=($!)
check "a node on PostgreSQL directly turns healthy" wait_for 20 healthy "$PORT"
signup() { [ "$(http_code "$API/users" -X POST -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$1-password\"}")" = 201 ]; }
check "a sign-up, directly" signup direct
# SqlSettings.ConnMaxIdleTimeMilliseconds (1 s here): the pools' connections close
pools_idle() { [ "$(sql postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'chorus' AND datname = 'pgb_reload_a'")" = 0 ]; }
check "idle connections close after ConnMaxIdleTimeMilliseconds" wait_for 5 pools_idle
config "$(through pgb_reload_b)"
kill -HUP "${NODE_PIDS[0]}"
moved() { healthy "$PORT" && [ "$(sql pgb_reload_b "SELECT count(*) FROM chorus_migrations")" = "$expected" ]; }
check "after SIGHUP: migrated through PgBouncer and healthy" wait_for 30 moved
# the old generation may still answer a moment: a new name each try
TRIES=0
signed_up_b() {
    TRIES=$((TRIES + 1))
    signup "through$TRIES" && [ "$(sql pgb_reload_b "SELECT count(*) FROM Users WHERE Username = 'through$TRIES'")" = 1 ]
}
check "a sign-up lands in the new database, through PgBouncer" wait_for 10 signed_up_b
stop_all_nodes

# ---- (f) directly: MaxIdleConns 0 keeps none, ConnMaxLifetimeMilliseconds retires
chorus_conns() { sql postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'chorus' AND datname = '$1'"; }
chorus_pids() { sql postgres "SELECT string_agg(pid::text, ' ' ORDER BY pid) FROM pg_stat_activity WHERE application_name = 'chorus' AND datname = '$1'"; }
new_database pgb_limits >/dev/null
# (no jobs process: its two one-connection pools keep theirs whatever MaxIdleConns)
start_node "$T/f" "$PORT" "$(pg_dsn "$CHORUS_PG_DIR" "$CHORUS_PG_PORT" pgb_limits)" MM_SQLSETTINGS_MAXIDLECONNS=0 \
    MM_JOBSETTINGS_RUNJOBS=false || fail "node f starts"
wait_for 20 healthy "$PORT"
for i in 1 2 3 4 5; do signup "idle$i" >/dev/null; done
check "MaxIdleConns 0: no connection stays open once the queries are done" wait_for 5 [ "$(chorus_conns pgb_limits)" = 0 ]
stop_all_nodes
start_node "$T/g" "$PORT" "$(pg_dsn "$CHORUS_PG_DIR" "$CHORUS_PG_PORT" pgb_limits)" \
    MM_SQLSETTINGS_CONNMAXLIFETIMEMILLISECONDS=1000 || fail "node g starts"
wait_for 20 healthy "$PORT"
signup lifetime1 >/dev/null
first=$(chorus_pids pgb_limits)
# busy the whole time: a connection retires when idle past its lifetime
for i in $(seq 2 30); do
    signup "lifetime$i" >/dev/null
    sleep 0.1
done
last=$(chorus_pids pgb_limits)
replaced() { local p; for p in $first; do [[ " $last " != *" $p "* ]] || return 1; done; }
check "ConnMaxLifetimeMilliseconds 1000: the connections of 3 s ago are all replaced ($first -> $last)" replaced
stop_all_nodes

# ---- (e) a primary and a replica, each behind its own PgBouncer -------------
PGT=$(pg_dir "$T/pg")
PRIMARY=$PGT/primary REPLICA=$PGT/replica
S0=$(free_port 29532)
S1=$(free_port $((S0 + 1)))
B0=$(free_port $((S1 + 1)))
B1=$(free_port $((B0 + 1)))
SERVERS+=("$PRIMARY" "$REPLICA")
pg_start "$PRIMARY" "$S0" || fail "primary starts"
psql -h "$PRIMARY/sock" -p "$S0" -U postgres -qc "CREATE DATABASE chorus" \
    -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" postgres >/dev/null
mkdir -p "$REPLICA/data" "$REPLICA/sock"
[ "$(id -u)" != 0 ] || chown postgres: "$REPLICA" "$REPLICA/data" "$REPLICA/sock"
chmod 700 "$REPLICA/data"
if ! { as_postgres "$BIN/pg_basebackup" -h "$PRIMARY/sock" -p "$S0" -U postgres -D "$REPLICA/data" -R -X stream -c fast &&
    echo "recovery_min_apply_delay = '5s'" | as_postgres tee -a "$REPLICA/data/postgresql.auto.conf" >/dev/null &&
    pg_start "$REPLICA" "$S1"; }; then
    fail "a streaming replica starts"
fi
if ! { pgbouncer_start "$T/bouncer0" "$B0" "$PRIMARY" "$S0" && pgbouncer_start "$T/bouncer1" "$B1" "$REPLICA" "$S1"; }; then
    fail "a PgBouncer in front of each"
fi
r=$(through chorus "$B1")
sed -E -e "s|\"DataSourceReplicas\": \[\]|\"DataSourceReplicas\": [\"${r//&/\\&}\"]|" \
    -e 's|"ReplicaMonitorIntervalSeconds": [0-9]+|"ReplicaMonitorIntervalSeconds": 1|' \
    "$CHORUS_SRC/etc/config.json" >"$T/replicas.json"
CONFIG=$T/replicas.json start_node "$T/e" "$PORT" "$(through chorus "$B0")" || fail "node e starts"
check "a node with a primary and a replica behind PgBouncers turns healthy" wait_for 20 healthy "$PORT"
OUT=$T/out
call() { curl -s -o "$OUT" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" ${4:+-d "$4"} "$API$3"; }
new_user() { # NAME: creates the user (as $TA when set), prints its id
    [ "$(call "${TA:-none}" POST /users "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$1-password\"}")" = 201 ] &&
        grep -o '"id":"[a-z0-9]*"' "$OUT" | head -1 | cut -d'"' -f4
}
login() {
    curl -s -D - -o /dev/null "$API/users/login" -d "{\"login_id\":\"$1\",\"password\":\"$1-password\"}" |
        awk 'tolower($1) == "token:" { print $2 }' | tr -d '\r'
}
# ids TOKEN ID: POST /users/ids [ID] (a read no cache answers): "CODE:users found"
ids() { echo "$(call "$1" POST /users/ids "[\"$2\"]"):$(grep -o '"id":"' "$OUT" | wc -l)"; }
# reads DIR ID: how many POST /users/ids of ID the server of DIR ran
reads() { grep -c "\$1 = '{$2}'" "$1/postgres.log"; }
ADMIN=$(new_user admin)
TA=$(login admin)
BOB=$(new_user bob)
TB=$(login bob)
check "admin and bob signed up and logged in" [ -n "$ADMIN" -a -n "$BOB" -a -n "$TA" -a -n "$TB" ]
b_reads_replica() {
    local before
    before=$(reads "$REPLICA" "$ADMIN")
    ids "$TB" "$ADMIN" >/dev/null
    [ "$(reads "$REPLICA" "$ADMIN")" -gt "$before" ]
}
check "reads are served by the replica, through its PgBouncer" wait_for 10 b_reads_replica
# (the replica is 5 s behind: a loaded machine answers a few requests a second)
CAROL=$(new_user carol)
check "another session reads from the lagging replica: not there yet" [ "$(ids "$TB" "$CAROL")" = 200:0 ]
codes=""
for _ in 1 2 3 4; do codes+=" $(ids "$TA" "$CAROL")"; done
check "the writer reads its write at once:$codes" [ "$codes" = " 200:1 200:1 200:1 200:1" ]
check "... from the primary" [ "$(reads "$PRIMARY" "$CAROL")" -ge 4 ]
b_sees_carol() { [ "$(ids "$TB" "$CAROL")" = 200:1 ]; }
check "... and the other session there once replayed" wait_for 12 b_sees_carol
stop_all_nodes
# ---- (g) PgBouncer in session mode: the same refusal, prepared statements kept
SB=$(free_port $((PGB_PORT + 1)))
check "PgBouncer (session mode) answers on port $SB" \
    pgbouncer_start "$T/bouncer-session" "$SB" "$CHORUS_PG_DIR" "$CHORUS_PG_PORT" session
new_database pgb_session >/dev/null
start_node "$T/s" "$PORT" "$(through pgb_session "$SB")" || fail "node s starts"
check "a node through PgBouncer in session mode turns healthy" wait_for 20 healthy "$PORT"
session_reads() {
    local token
    signup sess && token=$(login sess) && [ -n "$token" ] &&
        for _ in 1 2 3 4 5 6; do
            [ "$(http_code "$API/users/me" -H "Authorization: Bearer $token")" = 200 ] || return 1
        done
}
check "sign-up, login and reads through it" session_reads
check "... with prepared statements kept (none vanished)" not grep -q 'prepared statement vanished' "$T"/s/logs/*.log
stop_all_nodes
finish
