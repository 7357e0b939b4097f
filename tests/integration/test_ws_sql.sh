#!/usr/bin/env bash
# WebSockets seen from the database (issue 19), by the client tests of
# tests/client/ws_sql: they count, in PostgreSQL's log of this suite's
# database (log_statement = all), the statements a flood of actions makes,
# and they end sessions in SQL behind the node's back (the session cache is
# off, so that an open socket's check reads the database).  A suite of its
# own: in test_client the other files' statements would blur the counts.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
CLIENT_DIR=$CHORUS_SRC/tests/client
DSN=$(new_database ws_sql)
# before the node connects: the setting applies to new sessions
sql ws_sql "ALTER DATABASE ws_sql SET log_statement = 'all'" >/dev/null
PORT=$(free_port 18700)
start_node "$T/n" "$PORT" "$DSN" MM_PROCESSSETTINGS_WORKERS=1 MM_SERVICESETTINGS_SESSIONCACHEINMINUTES=0 || fail "the node starts"
wait_for 20 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    'http://127.0.0.1:$PORT/api/v4/system/ping?get_server_status=true')\" = 200 ]" ||
    fail "server status 200"
curl -s -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v4/users" \
    -d '{"username":"admin","email":"admin@example.com","password":"admin-password"}'

(cd "$CLIENT_DIR" && CHORUS_URL="http://127.0.0.1:$PORT" CHORUS_ADMIN_LOGIN=admin CHORUS_ADMIN_PASSWORD=admin-password \
    CHORUS_PG_LOG="$CHORUS_PG_DIR/postgres.log" CHORUS_PG_SOCK="$CHORUS_PG_DIR/sock" CHORUS_PG_PORT="$CHORUS_PG_PORT" \
    CHORUS_PG_DB=ws_sql timeout 300 node --test --test-concurrency=1 --test-reporter=tap ws_sql/*.test.mjs) >"$T/tap.txt" 2>"$T/node.err"
before=$((PASSED + FAILED))
tap_to_results <"$T/tap.txt"
[ $((PASSED + FAILED)) -gt "$before" ] || { cat "$T/node.err"; fail "the client tests ran"; }
grep -A12 '^not ok' "$T/tap.txt" | head -60
sql ws_sql "ALTER DATABASE ws_sql RESET log_statement" >/dev/null
finish
