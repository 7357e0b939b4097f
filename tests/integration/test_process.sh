#!/usr/bin/env bash
# The process model under stress: reloads under continuous load with zero
# failed requests, an in-flight request surviving reload and graceful stop,
# a worker SIGKILLed under load, the master SIGKILLed (no orphans), USR1
# after logrotate moved the files, an invalid config on reload, -t, -d and -s.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
DSN=$(new_database process)
PORT=$(free_port 18200)
CONF=$T/config.json
cp "$CHORUS_SRC/etc/config.json" "$CONF"
CONFIG=$CONF start_node "$T/n" "$PORT" "$DSN"
URL=http://127.0.0.1:$PORT/api/v4/system/ping
MASTER=$(master_pid "$T/n")

wrk_requests() { awk '/requests in/ { print $1 }' "$1"; }

# --- reload under load -------------------------------------------------------
wrk -t2 -c32 -d6s "$URL" >"$T/wrk-reload.txt" 2>&1 &
WRK=$!
sleep 0.5
for _ in 1 2 3 4 5; do
    kill -HUP "$MASTER"
    sleep 1
done
wait "$WRK"
errors=$(wrk_errors "$T/wrk-reload.txt")
check "5 reloads under load: zero failed requests ($errors errors in $(wrk_requests "$T/wrk-reload.txt") requests)" \
    [ "$errors" = 0 ]
check "5 reloads completed" [ "$(grep -c 'reload complete' "$T/n/logs/master.log")" -ge 5 ]
check "the master survives reloads" [ "$(cat "$T/n/chorusd.pid")" = "$MASTER" ]
check "old generations exited" wait_for 10 bash -c "[ \$(pgrep -P $MASTER -c) -le 3 ]"

# --- a request in flight survives a reload ------------------------------------
head -c 3000 /dev/zero >"$T/body"
curl -s -o /dev/null -w '%{http_code}' -X GET --limit-rate 1000 --data-binary @"$T/body" "$URL" >"$T/slow1" &
SLOW=$!
sleep 1
kill -HUP "$MASTER"
wait "$SLOW"
check "a slow upload in flight across a reload completes with 200" [ "$(cat "$T/slow1")" = 200 ]

# --- invalid config on reload --------------------------------------------------
cp "$CONF" "$T/good.json"
sed -i 's/"QueryTimeout": *[0-9]*/"QueryTimeout": -3/' "$CONF"
kill -HUP "$MASTER"
check "invalid config on reload: logged with its key" \
    wait_for 5 grep -q 'reload refused.*SqlSettings.QueryTimeout' "$T/n/logs/master.log"
check "invalid config on reload: the old config keeps serving" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" = 200 ]
cp "$T/good.json" "$CONF"

# --- a worker SIGKILLed under load ----------------------------------------------
wait_for 10 bash -c "[ \$(pgrep -P $MASTER -c) -le 3 ]"
victim=$(pgrep -P "$MASTER" -f chorusd | head -1)
others=$(pgrep -P "$MASTER" | grep -vx "$victim" | sort | tr '\n' ' ')
wrk -t2 -c32 -d4s "$URL" >"$T/wrk-kill.txt" 2>&1 &
WRK=$!
sleep 1
kill -9 "$victim"
wait "$WRK"
errors=$(wrk_errors "$T/wrk-kill.txt")
check "killed worker: at most its own connections failed ($errors of 32)" [ "$errors" -lt 32 ]
check "killed worker: respawned" wait_for 5 grep -q "pid $victim killed by signal 9" "$T/n/logs/master.log"
check "killed worker: the other workers untouched" \
    [ "$(for p in $others; do kill -0 "$p" 2>/dev/null && echo "$p"; done | tr '\n' ' ')" = "$others" ]
check "killed worker: replaced, node serves" [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" = 200 ]

# --- a worker that keeps dying is respawned with backoff ------------------------------
for _ in 1 2 3 4; do
    wait_for 5 bash -c "[ \$(pgrep -P $MASTER -c) -ge 2 ]"
    kill -9 "$(pgrep -n -P "$MASTER")" 2>/dev/null # the newest: the same slot each time
    sleep 0.15
done
check "a worker dying again and again: respawned with backoff" \
    wait_for 5 grep -q 'keeps dying: respawn in [0-9]* ms' "$T/n/logs/master.log"
check "... and the node still serves" wait_for 10 bash -c "[ \$(pgrep -P $MASTER -c) -ge 2 ]"
check "... after the backoff" [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" = 200 ]
# both slots serving again before the logs move: a worker the backoff starts
# only after the USR1 opens fresh files and has nothing to reopen
# (the last start, readiness or kill of slot $1; an old generation's exit is no news)
slot_ready() {
    grep -E "started worker $1 |worker $1 \(generation [0-9]+\) (ready|pid [0-9]+ killed)" "$T/n/logs/master.log" |
        tail -1 | grep -q ready
}
both_ready() { slot_ready 0 && slot_ready 1; }
check "... both workers ready again" wait_for 10 both_ready

# --- USR1 after logrotate moved the files ------------------------------------------
for f in "$T"/n/logs/*.log; do mv "$f" "$f.1"; done
kill -USR1 "$MASTER"
check "USR1: master.log recreated" wait_for 5 grep -q 'log files reopened' "$T/n/logs/master.log"
check "USR1: worker logs recreated" wait_for 5 bash -c "ls $T/n/logs/worker-0.log $T/n/logs/worker-1.log"
check "USR1: worker log written after reopen" wait_for 5 grep -q 'log file reopened' "$T/n/logs/worker-0.log"

# --- graceful stop lets the in-flight request finish ----------------------------------
curl -s -o /dev/null -w '%{http_code}' -X GET --limit-rate 1000 --data-binary @"$T/body" "$URL" >"$T/slow2" &
SLOW=$!
sleep 1
kill -QUIT "$MASTER"
wait "$SLOW"
check "QUIT: the request in flight completes with 200" [ "$(cat "$T/slow2")" = 200 ]
check "QUIT: the master exits" wait_for 10 not alive "$MASTER"
check "QUIT: pidfile removed" [ ! -e "$T/n/chorusd.pid" ]

# --- the master SIGKILLed: no orphan keeps the port ------------------------------------
CONFIG=$CONF start_node "$T/n" "$PORT" "$DSN"
MASTER=$(master_pid "$T/n")
children=$(pgrep -P "$MASTER" | tr '\n' ' ')
kill -9 "$MASTER"
none_alive() {
    local p
    for p in "$@"; do alive "$p" && return 1; done
    return 0
}
# shellcheck disable=SC2086
check "master SIGKILLed: every child exits within 1 s" wait_for 1 none_alive $children
check "master SIGKILLed: the port is free again" wait_for 2 bash -c "! ss -ltnH 'sport = :$PORT' | grep -q ."

# --- the command line --------------------------------------------------------------------
check "-t accepts the default config" "$CHORUSD" -t -c "$CHORUS_SRC/etc/config.json"
check "-t accepts a real Mattermost config.json" "$CHORUSD" -t -c "$CHORUS_SRC/tests/fixtures/mattermost-config.json"
"$CHORUSD" -t -c "$CHORUS_SRC/tests/fixtures/bad-config.json" >"$T/t.out" 2>&1
check "-t rejects a bad config with status 1" [ $? = 1 ]
check "-t names every bad key" [ "$(grep -c 'Settings\.' "$T/t.out")" -ge 10 ]
check "-t names the key: SqlSettings.QueryTimeout" grep -q 'SqlSettings.QueryTimeout' "$T/t.out"
"$CHORUSD" -t -c "$T/missing.json" >"$T/t2.out" 2>&1
check "-t on a missing file fails and says so" [ $? = 1 ] && grep -q 'missing.json' "$T/t2.out"
check "-v prints chorus's version and the Mattermost API's" bash -c "'$CHORUSD' -v | grep -qx 'chorusd 0\.1\.0 (Mattermost API 11\.9\.0)'"

mapfile -t ENVS < <(node_env "$T/d" "$PORT" "$DSN")
mkdir -p "$T/d/data"
check "-d daemonizes and returns 0" env "${ENVS[@]}" "$CHORUSD" -d -c "$CONF"
check "-d: the daemon answers" wait_ping "$PORT"
DPID=$(cat "$T/d/chorusd.pid")
check "-s reload reaches the daemon" env "${ENVS[@]}" "$CHORUSD" -s reload -c "$CONF"
check "-s reload: generation 1 serving" wait_for 5 grep -q 'generation 1 serving' "$T/d/logs/master.log"
check "-s reopen reaches the daemon" env "${ENVS[@]}" "$CHORUSD" -s reopen -c "$CONF"
check "-d twice: the second start refuses (pidfile owned)" not env "${ENVS[@]}" "$CHORUSD" -d -c "$CONF"
check "-s quit stops the daemon" env "${ENVS[@]}" "$CHORUSD" -s quit -c "$CONF"
check "-s quit: gone" wait_for 10 not alive "$DPID"
check "-s stop without a running master fails" not env "${ENVS[@]}" "$CHORUSD" -s stop -c "$CONF"
finish
