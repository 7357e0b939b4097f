#!/usr/bin/env bash
# LogSettings honoured: JSON lines or plain lines, file and console levels,
# the console on or off, one file per process.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
PORT=$(free_port 18500)

start_node "$T/json" "$PORT" "$CHORUS_TEST_DSN"
stop_node "$T/json"
check "one file per process: master, each worker, migrate" \
    bash -c "ls '$T/json/logs/master.log' '$T/json/logs/worker-0.log' '$T/json/logs/worker-1.log' '$T/json/logs/migrate.log'"
check "FileJson: every line is a JSON object with timestamp, level, process, pid, msg" \
    bash -c "! grep -hvE '^\\{\"timestamp\":\"[0-9T:.-]+Z\",\"level\":\"(error|warn|info|debug)\",\"process\":\"[a-z0-9-]+\",\"pid\":[0-9]+,\"msg\":\".*\"\\}\$' '$T'/json/logs/*.log"
check "FileLevel DEBUG: debug lines written" grep -q '"level":"debug"' "$T/json/logs/master.log"
check "EnableConsole false: nothing on the console" [ ! -s "$T/json/stdout.log" ]

# a dead database, so that warnings are written
DEAD="postgres://postgres@127.0.0.1:$(free_port 26600)/x?sslmode=disable"
start_node "$T/plain" "$PORT" "$DEAD" MM_LOGSETTINGS_FILEJSON=false MM_LOGSETTINGS_FILELEVEL=WARN \
    MM_LOGSETTINGS_ENABLECONSOLE=true MM_LOGSETTINGS_CONSOLEJSON=false MM_LOGSETTINGS_CONSOLELEVEL=INFO
kill -HUP "$(master_pid "$T/plain")"
wait_for 5 grep -q 'reload complete' "$T/plain/stdout.log"
stop_node "$T/plain"
check "console: INFO lines, plain" grep -qE '^[0-9T:.-]+Z info  \[master [0-9]+\] reload complete' "$T/plain/stdout.log"
check "FileLevel WARN: no info line in the files" bash -c "! grep -qh ' info ' '$T'/plain/logs/*.log"
check "FileJson false: plain warn lines" \
    grep -qE '^[0-9T:.-]+Z warn  \[migrate [0-9]+\] SqlSettings.DataSource: database unreachable' "$T/plain/logs/migrate.log"
finish
