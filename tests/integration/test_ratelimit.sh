#!/usr/bin/env bash
# RateLimitSettings (issue 19): two nodes with the limiter on, one keyed by
# address (two workers, sharing the node's table), one by session token too,
# both believing X-Forwarded-For (TrustedProxyIPHeader); the client tests of
# tests/client/ratelimit speak to them.  A suite of its own: in test_client
# every other file would share the buckets.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
CLIENT_DIR=$CHORUS_SRC/tests/client
DSN=$(new_database ratelimit)
LIMITS=(MM_RATELIMITSETTINGS_ENABLE=true MM_RATELIMITSETTINGS_PERSEC=1 MM_RATELIMITSETTINGS_MAXBURST=4
    MM_SERVICESETTINGS_TRUSTEDPROXYIPHEADER=X-Forwarded-For)
PORT=$(free_port 18750)
start_node "$T/ip" "$PORT" "$DSN" "${LIMITS[@]}" MM_PROCESSSETTINGS_WORKERS=2 || fail "the address-keyed node starts"
UPORT=$(free_port $((PORT + 1)))
start_node "$T/user" "$UPORT" "$DSN" "${LIMITS[@]}" MM_PROCESSSETTINGS_WORKERS=1 MM_RATELIMITSETTINGS_VARYBYUSER=true ||
    fail "the token-keyed node starts"

(cd "$CLIENT_DIR" && CHORUS_URL="http://127.0.0.1:$PORT" CHORUS_USER_URL="http://127.0.0.1:$UPORT" \
    timeout 300 node --test --test-concurrency=1 --test-reporter=tap ratelimit/*.test.mjs) >"$T/tap.txt" 2>"$T/node.err"
before=$((PASSED + FAILED))
tap_to_results <"$T/tap.txt"
[ $((PASSED + FAILED)) -gt "$before" ] || { cat "$T/node.err"; fail "the client tests ran"; }
grep -A12 '^not ok' "$T/tap.txt" | head -60
finish
