#!/usr/bin/env bash
# The official @mattermost/client (tests/client, pinned in package-lock.json)
# against a healthy node and a node whose database is unreachable.  Runs the
# Node test files under tests/client with the built-in runner and turns each
# top-level TAP result into a PASS/FAIL line.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
CLIENT_DIR=$CHORUS_SRC/tests/client

# npm ci when node_modules is missing or older than the lockfile (npm writes
# node_modules/.package-lock.json on every install).
if [ ! -f "$CLIENT_DIR/node_modules/.package-lock.json" ] ||
    [ "$CLIENT_DIR/package-lock.json" -nt "$CLIENT_DIR/node_modules/.package-lock.json" ]; then
    if ! (cd "$CLIENT_DIR" && npm ci --no-audit --no-fund --prefer-offline) >"$T/npm.log" 2>&1; then
        tail -20 "$T/npm.log"
        fail "npm ci in tests/client" "see $T/npm.log"
        finish
        exit 1
    fi
fi

# CHORUS_CLIENT_DSN: the healthy node's DataSource (test_pgbouncer's, through
# PgBouncer); by default a new database of its own
DSN=${CHORUS_CLIENT_DSN:-$(new_database client)}
PORT=$(free_port 18200)
# PUT /api/v4/config (config.test.mjs) rewrites the node's config file: a
# copy of the shipped one, never the source tree's.
cp "$CHORUS_SRC/etc/config.json" "$T/config.json"
CONFIG=$T/config.json start_node "$T/up" "$PORT" "$DSN" || fail "healthy node starts"
DEAD=$(free_port 26600)
DEAD_DSN="postgres://postgres@127.0.0.1:$DEAD/client?sslmode=disable&connect_timeout=2"
DPORT=$(free_port $((PORT + 1)))
start_node "$T/down" "$DPORT" "$DEAD_DSN" || fail "database-down node starts"
wait_for 20 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' \
    'http://127.0.0.1:$PORT/api/v4/system/ping?get_server_status=true')\" = 200 ]" ||
    fail "healthy node: server status 200"

# The first user of a database becomes system admin: make it here, before the
# test files (run in parallel) create theirs through it.
ADMIN_LOGIN="admin"
ADMIN_PASSWORD=admin-password-$$
curl -s -o "$T/admin.json" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/api/v4/users" \
    -d "{\"username\":\"$ADMIN_LOGIN\",\"email\":\"admin@example.com\",\"password\":\"$ADMIN_PASSWORD\"}" \
    >"$T/admin.code"
check "the first user is created (and becomes system admin)" grep -q 'system_admin' "$T/admin.json"

# CHORUS_CLIENT_TESTS (file names or globs, space-separated) runs only those
# files; the default is every file of tests/client itself (not its subfolders,
# which test_cluster runs).
# shellcheck disable=SC2086 # the names are split and globbed on purpose
mapfile -t files < <(cd "$CLIENT_DIR" && ls -- ${CHORUS_CLIENT_TESTS:-*.test.mjs})
if [ "${#files[@]}" -eq 0 ]; then
    fail "no test files match ${CHORUS_CLIENT_TESTS:-*.test.mjs}"
    finish
    exit 1
fi
(cd "$CLIENT_DIR" &&
    CHORUS_URL="http://127.0.0.1:$PORT" CHORUS_DOWN_URL="http://127.0.0.1:$DPORT" CHORUS_CONFIG="$T/config.json" \
        CHORUS_ADMIN_LOGIN=$ADMIN_LOGIN CHORUS_ADMIN_PASSWORD=$ADMIN_PASSWORD \
        timeout "${CHORUS_NODE_TIMEOUT:-600}" node --test --test-reporter=tap "${files[@]}") >"$T/tap.txt" 2>"$T/node.err"
rc=$?
before=$((PASSED + FAILED))
tap_to_results <"$T/tap.txt"
if [ $((PASSED + FAILED)) -eq "$before" ]; then
    cat "$T/node.err"
    fail "node --test ran no tests" "exit status $rc"
elif [ "$rc" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
    cat "$T/node.err"
    fail "node --test exited with status $rc"
fi
# the failures' diagnostics (their YAML blocks), for whoever reads the output
if [ "$FAILED" -gt 0 ]; then
    awk '/^not ok / && !/ # TODO/ { show = 1; n = 0; print; next }
         /^[^ ]/ { show = 0 }
         show && n++ < 12' "$T/tap.txt" | head -100
fi
finish
