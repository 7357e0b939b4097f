#!/usr/bin/env bash
# Replica routing against real streaming replication: a primary, a read
# replica that applies WAL 2 s late (recovery_min_apply_delay) and a search
# replica without delay.  Reads go to the replica; a session reads its own
# writes although the replica lags, another session does not wait for them;
# a replica killed and restarted costs no request and is taken back; manual
# failover (stop the primary, promote the search replica, change DataSource,
# SIGHUP) resumes writes while reads never fail (a channel's posts too, read
# by a user who never writes: its access check runs on a replica); POST /database/recycle
# replaces every worker's connections; POST /config/reload reloads the node.
# Which server ran a read is read from the servers' statement logs.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
BIN=$(pg_bindir)
PGT=$(pg_dir "$T/pg")
PRIMARY=$PGT/primary DELAYED=$PGT/delayed SEARCH=$PGT/search
P0=$(free_port 27432)
P1=$(free_port $((P0 + 1)))
P2=$(free_port $((P1 + 1)))
PORT=$(free_port 18500)
URL=http://127.0.0.1:$PORT/api/v4

stop_servers() {
    local d
    for d in "$PRIMARY" "$DELAYED" "$SEARCH"; do
        as_postgres "$BIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true
    done
}
trap 'stop_all_nodes; stop_servers' EXIT

# replica DIR PORT [DELAY]: a streaming replica of the primary, started.
replica() {
    mkdir -p "$1/data" "$1/sock"
    chown postgres: "$1" "$1/data" "$1/sock"
    chmod 700 "$1/data"
    as_postgres "$BIN/pg_basebackup" -h "$PRIMARY/sock" -p "$P0" -U postgres -D "$1/data" -R -X stream -c fast ||
        return 1
    [ -z "${3:-}" ] || echo "recovery_min_apply_delay = '$3'" | as_postgres tee -a "$1/data/postgresql.auto.conf" >/dev/null
    pg_start "$1" "$2"
}
psql_on() { psql -h "$1/sock" -p "$2" -U postgres -tAc "$3" chorus; }
# reads DIR ID: how many POST /users/ids of ID the server of DIR ran.
reads() { grep -c "\$1 = '{$2}'" "$1/postgres.log"; }

pg_start "$PRIMARY" "$P0" || exit 1
psql -h "$PRIMARY/sock" -p "$P0" -U postgres -qc "CREATE DATABASE chorus" \
    -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" postgres >/dev/null
replica "$DELAYED" "$P1" 2s || exit 1
replica "$SEARCH" "$P2" || exit 1
check "the delayed replica streams from the primary" [ "$(psql_on "$DELAYED" "$P1" "SELECT pg_is_in_recovery()")" = t ]

# the node: SqlSettings in its config file (a reload rereads it)
config() { # DATASOURCE
    local r s
    r=$(pg_dsn "$DELAYED" "$P1" chorus) s=$(pg_dsn "$SEARCH" "$P2" chorus)
    sed -E -e "s|\"DataSource\": \"[^\"]*\"|\"DataSource\": \"${1//&/\\&}\"|" \
        -e "s|\"DataSourceReplicas\": \[\]|\"DataSourceReplicas\": [\"${r//&/\\&}\"]|" \
        -e "s|\"DataSourceSearchReplicas\": \[\]|\"DataSourceSearchReplicas\": [\"${s//&/\\&}\"]|" \
        -e 's|"ReplicaMonitorIntervalSeconds": [0-9]+|"ReplicaMonitorIntervalSeconds": 1|' \
        -e 's|"QueryTimeout": [0-9]+|"QueryTimeout": 5|' "$CHORUS_SRC/etc/config.json" >"$T/config.json.new" &&
        mv "$T/config.json.new" "$T/config.json"
}
config "$(pg_dsn "$PRIMARY" "$P0" chorus)"
mkdir -p "$T/node/data" "$T/node/logs"
mapfile -t ENVS < <(node_env "$T/node" "$PORT" unused | grep -v DATASOURCE)
env "${ENVS[@]}" "$CHORUSD" -c "$T/config.json" >"$T/node/stdout.log" 2>&1 &
NODE_PIDS+=($!)
echo $! >"$T/node/master.pid"
healthy() { [ "$(http_code "$URL/system/ping?get_server_status=true")" = 200 ]; }
check "node healthy with a master and two replicas" wait_for 15 healthy

# call TOKEN METHOD PATH [BODY]: prints the status, the body is in $OUT
OUT=$T/out
call() { curl -s -o "$OUT" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" ${4:+-d "$4"} "$URL$3"; }
signup() { # NAME: creates the user (as $TA when set), prints its id
    [ "$(call "${TA:-none}" POST /users "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"$1-password\"}")" = 201 ] &&
        grep -o '"id":"[a-z0-9]*"' "$OUT" | head -1 | cut -d'"' -f4
}
# ids TOKEN ID: POST /users/ids [ID] (a read that no cache answers): "CODE:users found"
ids() { echo "$(call "$1" POST /users/ids "[\"$2\"]"):$(grep -o '"id":"' "$OUT" | wc -l)"; }
login() {
    curl -s -D - -o /dev/null "$URL/users/login" -d "{\"login_id\":\"$1\",\"password\":\"$1-password\"}" |
        awk 'tolower($1) == "token:" { print $2 }' | tr -d '\r'
}
ADMIN=$(signup admin)
TA=$(login admin)
BOB=$(signup bob)
TB=$(login bob)
check "admin and bob signed up and logged in" [ -n "$ADMIN" -a -n "$BOB" -a -n "$TA" -a -n "$TB" ]

# reads go to the replica once it has replayed what the session may have seen
b_reads_replica() {
    local before
    before=$(reads "$DELAYED" "$ADMIN")
    ids "$TB" "$ADMIN" >/dev/null
    [ "$(reads "$DELAYED" "$ADMIN")" -gt "$before" ]
}
check "reads are served by the read replica" wait_for 10 b_reads_replica
m0=$(reads "$PRIMARY" "$ADMIN") r0=$(reads "$DELAYED" "$ADMIN") s0=$(reads "$SEARCH" "$ADMIN")
for _ in 1 2 3 4 5 6 7 8 9 10; do ids "$TB" "$ADMIN" >/dev/null; done
check "10 reads: 10 on the replica, none on the master or the search replica" \
    [ "$(($(reads "$DELAYED" "$ADMIN") - r0))/$(($(reads "$PRIMARY" "$ADMIN") - m0))/$(($(reads "$SEARCH" "$ADMIN") - s0))" = 10/0/0 ]

# read-your-writes on a replica 2 s behind
CAROL=$(signup carol)
codes=""
for _ in 1 2 3 4 5 6; do codes+=" $(ids "$TA" "$CAROL")"; done
check "the writer reads its write at once, on every worker:$codes" [ "$codes" = " 200:1 200:1 200:1 200:1 200:1 200:1" ]
check "... from the master" [ "$(reads "$PRIMARY" "$CAROL")" = 6 ]
check "another session reads from the lagging replica: not there yet" [ "$(ids "$TB" "$CAROL")" = 200:0 ]
start=$(date +%s%N)
b_sees_carol() { [ "$(ids "$TB" "$CAROL")" = 200:1 ]; }
check "... and there once replayed" wait_for 8 b_sees_carol
lag=$((($(date +%s%N) - start) / 1000000))
check "... on the replica, ${lag} ms later (~2 s lag)" [ "$(reads "$DELAYED" "$CAROL")" -ge 2 -a "$lag" -ge 1000 ]

# a channel bob reads (he never writes: his reads never need the master)
call "$TA" POST /teams '{"name":"replicas","display_name":"Replicas","type":"O"}' >/dev/null
TEAM=$(grep -o '"id":"[a-z0-9]*"' "$OUT" | head -1 | cut -d'"' -f4)
call "$TA" POST "/teams/$TEAM/members" "{\"team_id\":\"$TEAM\",\"user_id\":\"$BOB\"}" >/dev/null
call "$TA" GET "/teams/$TEAM/channels/name/town-square" >/dev/null
CHANNEL=$(grep -o '"id":"[a-z0-9]*"' "$OUT" | head -1 | cut -d'"' -f4)
b_reads_posts() { [ "$(call "$TB" GET "/channels/$CHANNEL/posts")" = 200 ]; }
check "bob reads his team's town-square (once the replica has his membership)" wait_for 10 b_reads_posts

# a loop of reads by both sessions, counting failures, until told to stop
read_loop() {
    local i=0 code OUT=$T/loop.out
    while [ ! -e "$T/stop" ]; do
        code=$(ids "$TB" "$ADMIN")
        [ "${code%:*}" = 200 ] || echo "bob $code" >>"$T/failures"
        code=$(call "$TB" GET "/channels/$CHANNEL/posts")
        [ "$code" = 200 ] || echo "bob posts $code" >>"$T/failures"
        code=$(ids "$TA" "${1:-$CAROL}")
        [ "${code%:*}" = 200 ] || echo "admin $code" >>"$T/failures"
        [ "$code" != 200:0 ] || echo "admin $code" >>"$T/stale"
        i=$((i + 1))
        echo "$i" >"$T/reads"
    done
}
lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }
failures() { lines "$T/failures"; }
loop_reads() { cat "$T/reads" 2>/dev/null || echo 0; }
rm -f "$T/stop" "$T/failures" "$T/stale"
read_loop &
LOOP=$!
sleep 0.5
before_kill=$(loop_reads) m1=$(reads "$PRIMARY" "$ADMIN")
as_postgres "$BIN/pg_ctl" -D "$DELAYED/data" -m immediate -w stop >/dev/null
# progress, not speed: a loaded CI machine runs the loop slowly
reads_went_on() { [ "$(loop_reads)" -gt $((before_kill + 10)) ]; }
master_serves() { [ "$(reads "$PRIMARY" "$ADMIN")" -gt $((m1 + 10)) ]; }
check "replica killed: reads go on" wait_for 15 reads_went_on
check "... served by the master now" wait_for 15 master_serves
check "... without one failed request" [ "$(failures)" = 0 ]
pg_start "$DELAYED" "$P1"
r1=$(reads "$DELAYED" "$ADMIN")
back() { [ "$(reads "$DELAYED" "$ADMIN")" -gt "$r1" ]; }
check "replica restarted: taken back" wait_for 15 back
check "... without one failed request" [ "$(failures)" = 0 ]
kill "$LOOP"
wait "$LOOP" 2>/dev/null

# manual failover, as the seed describes it, under a read loop of a session
# that has just written (its reads need the master, which goes away)
DAVE=$(signup dave)
read_loop "$DAVE" &
LOOP=$!
sleep 0.5
as_postgres "$BIN/pg_ctl" -D "$PRIMARY/data" -m fast -w stop >/dev/null
check "primary stopped: writes fail" [ "$(call "$TA" POST /users '{"username":"erin","email":"erin@example.com","password":"erin-password"}')" != 201 ]
as_postgres "$BIN/pg_ctl" -D "$SEARCH/data" -w promote >/dev/null
check "search replica promoted" [ "$(psql_on "$SEARCH" "$P2" "SELECT pg_is_in_recovery()")" = f ]
config "$(pg_dsn "$SEARCH" "$P2" chorus)"
kill -HUP "$(master_pid "$T/node")"
writes_resume() { [ -n "$(signup "frank$RANDOM")" ]; }
check "DataSource changed, SIGHUP: writes resume" wait_for 15 writes_resume
check "... on the promoted server" [ "$(psql_on "$SEARCH" "$P2" "SELECT count(*) FROM Users WHERE Username LIKE 'frank%'")" -ge 1 ]
sleep 1
touch "$T/stop"
wait "$LOOP" 2>/dev/null
check "reads never failed during the failover ($(loop_reads) rounds, $(failures) failed)" [ "$(failures)" = 0 ]
[ "$(failures)" = 0 ] || sort "$T/failures" | uniq -c
# with the master gone, a read waits for a replica known to have its
# session's last write rather than answer without it
check "... nor missed the write its session made just before ($(lines "$T/stale") did)" \
    [ ! -e "$T/stale" ]

# recycle: every worker's connections replaced (backend pids change)
chorus_pids() { psql_on "$SEARCH" "$P2" "SELECT pid FROM pg_stat_activity WHERE application_name = 'chorus' ORDER BY pid"; }
for _ in 1 2 3 4 5 6; do ids "$TA" "$ADMIN" >/dev/null; done
old=$(chorus_pids)
check "recycle: a non-admin is refused (403)" [ "$(call "$TB" POST /database/recycle)" = 403 ]
check "recycle: an admin gets 200" [ "$(call "$TA" POST /database/recycle)" = 200 ]
check "recycle: {\"status\":\"OK\"}" [ "$(tr -d ' \n' <"$OUT")" = '{"status":"OK"}' ]
replaced() {
    ids "$TA" "$ADMIN" >/dev/null
    local now
    now=$(chorus_pids)
    [ -n "$now" ] && [ -z "$(comm -12 <(echo "$old") <(echo "$now"))" ]
}
check "recycle: no connection of before is left, new ones serve" wait_for 10 replaced
check "recycle: both workers recycled" [ "$(grep -l 'recycling database connections' "$T/node/logs"/worker-*.log | wc -l)" = 2 ]
check "after the recycle, writes work" writes_resume

# POST /config/reload: the node starts a new generation
workers_before=$(worker_pids "$T/node" | tr '\n' ' ')
reloads=$(grep -c 'reload complete' "$T/node/logs/master.log")
check "reload: a non-admin is refused (403)" [ "$(call "$TB" POST /config/reload)" = 403 ]
check "reload: an admin gets {\"status\":\"OK\"}" [ "$(call "$TA" POST /config/reload)$(tr -d ' \n' <"$OUT")" = '200{"status":"OK"}' ]
new_generation() {
    [ "$(grep -c 'reload complete' "$T/node/logs/master.log")" -gt "$reloads" ] &&
        [ "$(worker_pids "$T/node" | tr '\n' ' ')" != "$workers_before" ]
}
check "reload: a new generation serves" wait_for 10 new_generation
check "reload: still reads" [ "$(ids "$TA" "$ADMIN")" = 200:1 ]
check "reload: still writes" writes_resume
finish
