#!/usr/bin/env bash
# Schema migrations: two nodes starting at once on an empty database apply
# each migration exactly once; a node that starts while another holds the
# migration lock waits (serving plain ping meanwhile) and then finds the work
# done; a restart on a migrated database applies nothing; a column another
# node's migration widens fails no request on a node with prepared statements.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
DSN=$(new_database migrations)
P1=$(free_port 18300)
P2=$(free_port $((P1 + 1)))

start_node "$T/a" "$P1" "$DSN" &
A=$!
start_node "$T/b" "$P2" "$DSN" &
B=$!
wait "$A" && wait "$B"
NODE_PIDS+=("$(master_pid "$T/a")" "$(master_pid "$T/b")")
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/api/v4/system/ping?get_server_status=true")" = 200 ]; }
check "both nodes turn healthy" wait_for 15 bash -c "$(declare -f healthy); healthy $P1 && healthy $P2"

# The list's versions are 1..N without a gap (a number is never reused, and
# a branch takes the next free one when it is merged), all recorded.
versions=$(grep -o '^    {[0-9]*, "' "$CHORUS_SRC/src/db/migrations.c" | tr -dc '0-9\n' | paste -sd,)
expected=$(grep -c '^    {[0-9]*, "' "$CHORUS_SRC/src/db/migrations.c")
latest=${versions##*,}
check "every migration recorded once ($expected)" \
    [ "$(sql migrations "SELECT count(*) FROM chorus_migrations")" = "$expected" ]
check "the list's versions are 1..$expected" [ "$versions" = "$(seq -s, 1 "$expected")" ]
check "the versions recorded are the list's ($versions)" \
    [ "$(sql migrations "SELECT string_agg(version::text, ',' ORDER BY version) FROM chorus_migrations")" = "$versions" ]
applied=$(cat "$T/a/logs/migrate.log" "$T/b/logs/migrate.log" | grep -c 'applied migration 1:')
check "migration 1 applied by exactly one node ($applied)" [ "$applied" = 1 ]
check "both nodes report the schema version" \
    [ "$(cat "$T/a/logs/migrate.log" "$T/b/logs/migrate.log" | grep -c "schema at version $latest")" = 2 ]
stop_all_nodes

# A node starting while the migration lock is held waits for it.
DSN2=$(new_database migrations_wait)
psql -h "$CHORUS_PG_DIR/sock" -p "$CHORUS_PG_PORT" -U postgres -qAt migrations_wait \
    -c "SELECT pg_advisory_lock(109520227464563)" -c "SELECT pg_sleep(3)" >/dev/null &
HOLDER=$!
sleep 0.5
start_node "$T/c" "$P1" "$DSN2"
check "while another holds the lock: plain ping serves" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/api/v4/system/ping")" = 200 ]
check "while another holds the lock: no schema yet, server status unhealthy" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/api/v4/system/ping?get_server_status=true")" = 500 ]
wait "$HOLDER"
check "after the lock is released: migrated and healthy" wait_for 10 healthy "$P1"
check "the wait was logged" grep -q "waited .* ms for another node's migrations" "$T/c/logs/migrate.log"
stop_all_nodes

# A database whose last migration is not recorded yet (as while a node is
# applying it): its Systems table takes the health row, yet a node is not
# healthy until the last migration is in.  The holder of the migration lock
# hides the last version and puts it back before it lets go.
LAST=$(grep -o '^    {[0-9]*, "' "$CHORUS_SRC/src/db/migrations.c" | tr -dc '0-9\n' | tail -1)
sql migrations "UPDATE chorus_migrations SET Version = -Version WHERE Version = $LAST" >/dev/null
psql -h "$CHORUS_PG_DIR/sock" -p "$CHORUS_PG_PORT" -U postgres -qAt migrations \
    -c "SELECT pg_advisory_lock(109520227464563)" -c "SELECT pg_sleep(3)" \
    -c "UPDATE chorus_migrations SET Version = -Version WHERE Version = -$LAST" >/dev/null &
HOLDER=$!
sleep 0.5
start_node "$T/e" "$P1" "$DSN"
check "the last migration not in yet: server status unhealthy" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/api/v4/system/ping?get_server_status=true")" = 500 ]
wait "$HOLDER"
check "the last migration in: healthy" wait_for 10 healthy "$P1"
check "... and nothing applied again" not grep -q 'applied migration' "$T/e/logs/migrate.log"
stop_all_nodes

# A restart on a migrated database applies nothing.
start_node "$T/d" "$P1" "$DSN"
check "restart: healthy" wait_for 10 healthy "$P1"
check "restart: nothing applied again" not grep -q 'applied migration' "$T/d/logs/migrate.log"
check "restart: still one row per migration" \
    [ "$(sql migrations "SELECT count(*) FROM chorus_migrations")" = "$expected" ]

# Another node's migration changes a table under the statements this node
# keeps prepared (SqlSettings.PrepareStatements): "cached plan must not change
# result type" must cost no request.  The channel-by-name route returns
# Channels.Header, so widening it (Mattermost's migrations do such things)
# changes that statement's result; each of the six reads before and after
# may land on either worker.
api="http://127.0.0.1:$P1/api/v4"
curl -s -o /dev/null -H 'Content-Type: application/json' \
    -d '{"email":"mig@example.com","username":"mig","password":"Migrate-123"}' "$api/users"
token=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"login_id":"mig","password":"Migrate-123"}' "$api/users/login" | tr -d '\r' | awk 'tolower($1) == "token:" { print $2 }')
team=$(curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name":"migteam","display_name":"Mig","type":"O"}' "$api/teams" | sed -n 's/^{"id":"\([a-z0-9]*\)".*/\1/p')
by_name() {
    local i
    for ((i = 0; i < 6; i++)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
            "$api/teams/$team/channels/name/town-square")" = 200 ] || return 1
    done
}
check "a channel by name, read with prepared statements" by_name
sql migrations "ALTER TABLE Channels ALTER COLUMN Header TYPE varchar(1025)" >/dev/null
check "the same reads after another node widened a column" by_name
finish
