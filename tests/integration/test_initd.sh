#!/bin/sh
# tests/integration/test_initd.sh: drives contrib/init.d/chorus against a
# throwaway prefix (pidfile, logs and working dir in a temp dir, a free
# loopback port): start -> status 0 -> ping -> reload (same master pid, new
# workers, no failed ping during the reload) -> reopen -> stop -> status 3,
# plus idempotent start/stop and status 1 for a stale pidfile.
# Prints PASS:/FAIL: lines; exits 0 when everything passed.
#
# Environment:
#   CHORUSD              chorusd binary (default: <top>/build/chorusd)
#   CHORUS_TEST_CONFIG   config.json (default: <top>/etc/config.json)
#   CHORUS_TEST_DSN      SqlSettings.DataSource, if the server needs a database
#   INITD                the init script (default: <top>/contrib/init.d/chorus)
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
CHORUSD=${CHORUSD:-$top/build/chorusd}
INITD=${INITD:-$top/contrib/init.d/chorus}
CONFIG=${CHORUS_TEST_CONFIG:-$top/etc/config.json}

passes=0
fails=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# ok STATUS DESCRIPTION: PASS when STATUS is 0.
ok() { if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2"; fi; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

if [ ! -x "$CHORUSD" ]; then
    echo "FAIL: chorusd binary $CHORUSD not found (set CHORUSD)"
    exit 1
fi
for tool in curl ps; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool not installed"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chorus-initd.XXXXXX")
chmod 755 "$tmp"

# A free loopback port: nothing listening and nothing answering.
port_free() {
    if command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ] || return 1
    fi
    ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"
}
port=
seed=$(( $$ % 10000 ))
i=0
while [ "$i" -lt 50 ]; do
    p=$((20000 + (seed + i * 397) % 20000))
    if port_free "$p"; then port=$p; break; fi
    i=$((i + 1))
done
[ -n "$port" ] || { echo "FAIL: no free port found"; exit 1; }

# Everything the init script and chorusd read.
CHORUS_DEFAULTS=/dev/null
CHORUS_BIN=$CHORUSD
CHORUS_CONF=$CONFIG
CHORUS_PIDFILE=$tmp/run/chorusd.pid
CHORUS_LOGDIR=$tmp/log
CHORUS_WORKDIR=$tmp/work
CHORUS_STOP_TIMEOUT=20
CHORUS_START_TIMEOUT=20
MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$port
MM_PROCESSSETTINGS_WORKERS=2
MM_LOGSETTINGS_ENABLECONSOLE=false
MM_CLUSTERSETTINGS_ENABLE=false
MM_METRICSSETTINGS_ENABLE=false
export CHORUS_DEFAULTS CHORUS_BIN CHORUS_CONF CHORUS_PIDFILE CHORUS_LOGDIR \
    CHORUS_WORKDIR CHORUS_STOP_TIMEOUT CHORUS_START_TIMEOUT \
    MM_SERVICESETTINGS_LISTENADDRESS MM_PROCESSSETTINGS_WORKERS \
    MM_LOGSETTINGS_ENABLECONSOLE MM_CLUSTERSETTINGS_ENABLE MM_METRICSSETTINGS_ENABLE
if [ -n "${CHORUS_TEST_DSN:-}" ]; then
    MM_SQLSETTINGS_DATASOURCE=$CHORUS_TEST_DSN
    export MM_SQLSETTINGS_DATASOURCE
fi

URL="http://127.0.0.1:$port/api/v4/system/ping"
master=
all_children=

children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }
count() { echo "$1" | wc -w | tr -d ' '; }

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    trap - EXIT INT TERM
    # Only processes this test started: the master from our pidfile and the
    # children we saw under it.
    if [ -s "$CHORUS_PIDFILE" ]; then
        p=$(tr -dc '0-9' <"$CHORUS_PIDFILE")
        [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
    fi
    [ -n "$master" ] && kill -TERM "$master" 2>/dev/null
    sleep 1
    for p in $master $all_children; do
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

initd() { "$INITD" "$@" >>"$tmp/initd.out" 2>&1; }

# ping: 200 with "status":"OK", retrying for up to $1 seconds (default 5).
ping_ok() {
    n=0
    while [ "$n" -lt $((${1:-5} * 10)) ]; do
        body=$(curl -fs --max-time 2 "$URL") && case $body in
            *'"status":"OK"'* | *'"status": "OK"'*) return 0 ;;
        esac
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}

pid_from_file() { tr -dc '0-9' 2>/dev/null <"$CHORUS_PIDFILE"; }

echo "# chorusd=$CHORUSD port=$port dir=$tmp"

# --- before start ------------------------------------------------------------
initd status
rc=$?
[ "$rc" -eq 3 ]; ok $? "status before start exits 3 (got $rc)"

# --- start -------------------------------------------------------------------
initd start
rc=$?
[ "$rc" -eq 0 ]; ok $? "start exits 0 (got $rc)"
master=$(pid_from_file)
alive "$master"; ok $? "pidfile $CHORUS_PIDFILE names a live process"
if [ "$rc" -ne 0 ] || [ -z "$master" ]; then
    echo "# init script output:"; sed 's/^/#   /' "$tmp/initd.out"
    for f in "$CHORUS_LOGDIR"/*.log; do
        [ -f "$f" ] && { echo "# $f:"; tail -n 20 "$f" | sed 's/^/#   /'; }
    done
    echo "FAIL: cannot go on without a running server"
    exit 1
fi

initd status
rc=$?
[ "$rc" -eq 0 ]; ok $? "status while running exits 0 (got $rc)"

ping_ok 10; ok $? "GET /api/v4/system/ping answers 200 {\"status\":\"OK\"}"

initd start
rc=$?
[ "$rc" -eq 0 ] && [ "$(pid_from_file)" = "$master" ]
ok $? "second start exits 0 and keeps the master (got $rc)"

# --- reload ------------------------------------------------------------------
# the short-lived migration child is not part of a worker generation: let it
# finish before counting (it may be retrying when no database is configured)
n=0
while [ -n "${CHORUS_TEST_DSN:-}" ] && ! grep -qs 'schema at version' "$CHORUS_LOGDIR/migrate.log" && [ "$n" -lt 100 ]; do
    sleep 0.1
    n=$((n + 1))
done
old_children=$(children "$master")
all_children=$old_children
# Ping continuously while reloading: a zero-downtime reload fails none.
: >"$tmp/pings"
(
    end=$(($(date +%s) + 3))
    while [ "$(date +%s)" -lt "$end" ]; do
        if curl -fs -o /dev/null --max-time 2 "$URL"; then echo ok; else echo failed; fi
        sleep 0.02
    done >>"$tmp/pings"
) &
pinger=$!
sleep 0.5
initd reload
rc=$?
wait "$pinger"
[ "$rc" -eq 0 ]; ok $? "reload exits 0 (got $rc)"
[ "$(pid_from_file)" = "$master" ] && alive "$master"
ok $? "master pid unchanged after reload"
ping_ok 5; ok $? "ping answers after reload"
failed=$(grep -c failed "$tmp/pings")
total=$(wc -l <"$tmp/pings" | tr -d ' ')
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ]
ok $? "no failed ping during reload ($failed of $total failed)"
if [ -n "$old_children" ]; then
    # The old generation drains and exits and a new one takes its place.
    # Not every child is a worker (a child may live across reloads), so:
    # some old children gone, some new ones started, and as many children as
    # before once the old generation has drained.
    n=0
    while :; do
        now=$(children "$master")
        gone=
        for p in $old_children; do kill -0 "$p" 2>/dev/null || gone="$gone $p"; done
        new=
        for p in $now; do
            case " $old_children " in *" $p "*) ;; *) new="$new $p" ;; esac
        done
        if [ -n "$gone" ] && [ -n "$new" ] &&
            [ "$(count "$now")" -eq "$(count "$old_children")" ]; then
            break
        fi
        [ "$n" -lt 100 ] || break
        sleep 0.1
        n=$((n + 1))
    done
    all_children="$old_children $now"
    [ -n "$gone" ]; ok $? "old workers exited after reload (gone:${gone:- none})"
    [ -n "$new" ]; ok $? "new workers started by reload (new:${new:- none})"
    [ "$(count "$now")" -eq "$(count "$old_children")" ]
    ok $? "old generation drained: $(count "$now") children, as before the reload"
else
    echo "SKIP: no child processes seen under master $master"
fi

# --- reopen ------------------------------------------------------------------
initd reopen
rc=$?
[ "$rc" -eq 0 ]; ok $? "reopen exits 0 (got $rc)"
ls "$CHORUS_LOGDIR"/*.log >/dev/null 2>&1; ok $? "log files written in CHORUS_LOGDIR"
ping_ok 5; ok $? "ping answers after reopen"

# --- stop --------------------------------------------------------------------
all_children="$all_children $(children "$master")"
initd stop
rc=$?
[ "$rc" -eq 0 ]; ok $? "stop exits 0 (got $rc)"
! alive "$master"; ok $? "master $master gone after stop"
left=
for p in $all_children; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
[ -z "$left" ]; ok $? "no children left after stop${left:+ (left:$left)}"
[ ! -e "$CHORUS_PIDFILE" ]; ok $? "pidfile removed after stop"
! curl -s -o /dev/null --max-time 1 "$URL"; ok $? "ping no longer answers after stop"

initd status
rc=$?
[ "$rc" -eq 3 ]; ok $? "status after stop exits 3 (got $rc)"

initd stop
rc=$?
[ "$rc" -eq 0 ]; ok $? "stop when not running exits 0 (got $rc)"

# --- stale pidfile -----------------------------------------------------------
sh -c 'exit 0' &
dead=$!
wait "$dead"
mkdir -p "$(dirname "$CHORUS_PIDFILE")"
echo "$dead" >"$CHORUS_PIDFILE"
if kill -0 "$dead" 2>/dev/null; then
    echo "SKIP: pid $dead was reused, stale-pidfile check skipped"
else
    initd status
    rc=$?
    [ "$rc" -eq 1 ]; ok $? "status with a stale pidfile exits 1 (got $rc)"
    initd stop
    rc=$?
    [ "$rc" -eq 0 ] && [ ! -e "$CHORUS_PIDFILE" ]
    ok $? "stop with a stale pidfile exits 0 and removes it (got $rc)"
fi
rm -f "$CHORUS_PIDFILE"
master=

echo "$passes passed, $fails failed"
if [ "$fails" -ne 0 ]; then
    echo "# init script output:"
    sed 's/^/#   /' "$tmp/initd.out"
    exit 1
fi
exit 0
