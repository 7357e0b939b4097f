#!/usr/bin/env bash
# Jobs with real processes and a real database: cancel at each status, data
# retention deleting exactly the expired posts, the compliance CSV
# round-tripping messages (commas, quotes, newlines) and never exporting a
# post twice, a directory that cannot be written, the scheduler creating one
# job per slot however many nodes schedule, and a job whose node is
# SIGKILLed mid-run finishing once on another node.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
DB="jobs"
DSN=$(new_database $DB)
BASE=$(free_port 18500)
P_PORT=$BASE
R_PORT=$(free_port $((BASE + 1)))
S_PORT=$(free_port $((BASE + 2)))
EXPORT=$T/export
# deletion and export on; the scheduler off unless a test turns it on
COMMON=(MM_DATARETENTIONSETTINGS_ENABLEMESSAGEDELETION=true MM_DATARETENTIONSETTINGS_MESSAGERETENTIONDAYS=30
    MM_DATARETENTIONSETTINGS_BATCHSIZE=50 MM_DATARETENTIONSETTINGS_TIMEBETWEENBATCHESMILLISECONDS=200
    MM_COMPLIANCESETTINGS_ENABLE=true MM_COMPLIANCESETTINGS_DIRECTORY="$EXPORT" MM_JOBSETTINGS_RUNSCHEDULER=false)

api() { # api PORT METHOD PATH [BODY]: the body of the answer
    curl -s -X "$2" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1/api/v4$3" ${4:+-d "$4"}
}
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);
    const r=process.argv[1].split(".").reduce((o,k)=>o==null?o:o[k],v);console.log(r===undefined?"":r)})' "$1"; }
job_status() { sql $DB "SELECT Status FROM Jobs WHERE Id = '$1'"; }
create_job() { api "$P_PORT" POST /jobs "{\"type\":\"$1\"}" | field id; }
is_status() { [ "$(job_status "$1")" = "$2" ]; }
deleted_some() { [ "$(sql $DB "SELECT coalesce(Data->>'deleted', '0') FROM Jobs WHERE Id = '$1'")" -gt 0 ]; }
old_posts() { sql $DB "SELECT count(*) FROM Posts WHERE CreateAt < (extract(epoch from now()) * 1000)::bigint - 30 * 86400000::bigint"; }
# insert_posts N AGE_DAYS DELETED: N posts AGE_DAYS old in the channel, soft-deleted or not
insert_posts() {
    sql $DB "INSERT INTO Posts (Id, CreateAt, UpdateAt, DeleteAt, UserId, ChannelId, Message)
        SELECT substr(md5(random()::text || g), 1, 26), t, t, CASE WHEN $3 THEN t + 1000 ELSE 0 END, '$USER_ID',
               '$CHANNEL_ID', 'old post ' || g
        FROM generate_series(1, $1) g, (SELECT (extract(epoch from now()) * 1000)::bigint - $2 * 86400000::bigint AS t) n" >/dev/null
}
node_id() { grep -ho 'node [a-z0-9]\{26\} listening' "$T/$1/logs/master.log" | tail -1 | cut -d' ' -f2; }
kill_tree() { # SIGKILL a node's master and its children at once
    local master child
    master=$(master_pid "$T/$1")
    for child in $(pgrep -P "$master"); do kill -9 "$child"; done
    kill -9 "$master"
}

# ---- node P: the API only (RunJobs off): jobs stay pending --------------------
start_node "$T/p" "$P_PORT" "$DSN" "${COMMON[@]}" MM_JOBSETTINGS_RUNJOBS=false || fail "node p starts"
curl -s -o /dev/null -X POST "http://127.0.0.1:$P_PORT/api/v4/users" \
    -d '{"username":"admin","email":"admin@example.com","password":"admin-password"}'
TOKEN=$(curl -si -X POST "http://127.0.0.1:$P_PORT/api/v4/users/login" \
    -d '{"login_id":"admin","password":"admin-password"}' | awk -F': ' 'tolower($1) == "token" { print $2 }' | tr -d '\r')
USER_ID=$(api "$P_PORT" GET /users/me | field id)
TEAM_ID=$(api "$P_PORT" POST /teams '{"name":"jobsteam","display_name":"Jobs, \"Team\"","type":"O"}' | field id)
CHANNEL_ID=$(api "$P_PORT" POST /channels "{\"team_id\":\"$TEAM_ID\",\"name\":\"exports\",\"display_name\":\"Exports\",\"type\":\"O\"}" | field id)
check "setup: a team and a channel" test -n "$CHANNEL_ID"
check "no jobs child without RunJobs" not grep -q 'jobs process' "$T/p/logs/master.log"

J=$(create_job data_retention)
sleep 3
check "RunJobs off: the job stays pending" is_status "$J" pending
check "cancel a pending job: OK" test "$(api "$P_PORT" POST "/jobs/$J/cancel" | field status)" = OK
check "... and it is canceled at once" is_status "$J" canceled
check "cancel a canceled job: 500 request_cancellation" \
    test "$(api "$P_PORT" POST "/jobs/$J/cancel" | field id)" = jobs.request_cancellation.status.error

# ---- data retention: exactly the expired posts --------------------------------
insert_posts 300 40 false
insert_posts 200 31 true # soft-deleted, expired
insert_posts 20 10 true  # soft-deleted, not expired: kept
insert_posts 30 29 false # not expired: kept
KEPT_BEFORE=$(sql $DB "SELECT string_agg(Id, ',' ORDER BY Id) FROM Posts WHERE CreateAt >= (extract(epoch from now()) * 1000)::bigint - 30 * 86400000::bigint")
# a reaction on every post: those of the expired posts go with them
sql $DB "INSERT INTO Reactions (UserId, PostId, EmojiName, CreateAt, UpdateAt, ChannelId)
    SELECT '$USER_ID', Id, 'smile', CreateAt, CreateAt, ChannelId FROM Posts" >/dev/null
start_node "$T/r" "$R_PORT" "$DSN" "${COMMON[@]}" || fail "node r starts"
J=$(create_job data_retention)
wait_for 40 is_status "$J" success
check "data_retention: success" is_status "$J" success
check "data_retention: every expired post is gone, soft-deleted ones too" test "$(old_posts)" -eq 0
check "data_retention: every other post is kept" test "$(sql $DB "SELECT string_agg(Id, ',' ORDER BY Id) FROM Posts")" = "$KEPT_BEFORE"
check "data_retention: the expired posts' reactions are gone, the others' kept" \
    test "$(sql $DB "SELECT string_agg(PostId, ',' ORDER BY PostId) FROM Reactions")" = "$KEPT_BEFORE"
check "data_retention: data.deleted = 500, progress 100" \
    test "$(sql $DB "SELECT Data->>'deleted', Progress FROM Jobs WHERE Id = '$J'")" = "500|100"

# ---- cancel an in_progress job --------------------------------------------------
insert_posts 3000 60 false
J=$(create_job data_retention)
wait_for 20 deleted_some "$J"
check "a long job is in_progress" is_status "$J" in_progress
check "cancel an in_progress job: OK" test "$(api "$P_PORT" POST "/jobs/$J/cancel" | field status)" = OK
check "... it is cancel_requested" is_status "$J" cancel_requested
wait_for 8 is_status "$J" canceled
check "... and the runner cancels it within seconds" is_status "$J" canceled
check "... having stopped deleting" test "$(old_posts)" -gt 0
check "cancel a canceled job: 500" test "$(api "$P_PORT" POST "/jobs/$J/cancel" | field status_code)" = 500

# ---- a reload (HUP) mid-job: the old jobs child hands the job back, the new one resumes it
J=$(create_job data_retention)
wait_for 20 deleted_some "$J"
kill -HUP "$(master_pid "$T/r")"
wait_for 40 is_status "$J" success
check "a reload mid-job: the job still ends in success" is_status "$J" success
check "... the old jobs process handed it back" grep -q "$J (data_retention): hand-back .* recorded" "$T/r/logs/jobs.log"
check "... and the new one resumed it: nothing expired is left" test "$(old_posts)" -eq 0
check "... the hand-back did not count as a failed attempt" \
    test "$(sql $DB "SELECT Attempts FROM Jobs WHERE Id = '$J'")" -eq 1
insert_posts 3000 60 false

# ---- SIGKILL the runner mid-job: another node finishes it, once ------------------
start_node "$T/s" "$S_PORT" "$DSN" "${COMMON[@]}" || fail "node s starts"
J=$(create_job data_retention)
wait_for 20 deleted_some "$J"
RUNNER=$(sql $DB "SELECT NodeId FROM Jobs WHERE Id = '$J'")
if [ "$RUNNER" = "$(node_id r)" ]; then VICTIM=r SURVIVOR=s; else VICTIM=s SURVIVOR=r; fi
kill_tree $VICTIM
wait_for 60 is_status "$J" success
check "a job whose node was SIGKILLed finishes on the other node" is_status "$J" success
check "... run by the survivor, on its second claim" \
    test "$(sql $DB "SELECT NodeId, Attempts FROM Jobs WHERE Id = '$J'")" = "$(node_id $SURVIVOR)|2"
check "... having deleted every expired post" test "$(old_posts)" -eq 0
check "... the takeover was logged" grep -q "$J (data_retention): its runner on node" "$T/$SURVIVOR/logs/jobs.log"
[ $VICTIM = r ] && R_PORT=$S_PORT # the survivor serves as the runner from now on

# ---- message export: a CSV that round-trips, nothing exported twice ---------------
MESSAGES=('plain' 'comma, inside' 'a "quoted" word' $'two\nlines' $'crlf\r\nline' ' padded ' 'ünïcödé, "all", at
once' '=1+2')
for m in "${MESSAGES[@]}"; do
    body=$(node -e 'console.log(JSON.stringify({channel_id: process.argv[1], message: process.argv[2]}))' "$CHANNEL_ID" "$m")
    api "$P_PORT" POST /posts "$body" >/dev/null
done
sleep 6 # past the export's settle margin
J=$(create_job message_export)
wait_for 30 is_status "$J" success
check "message_export: success" is_status "$J" success
FILE=$(sql $DB "SELECT Data->>'file' FROM Jobs WHERE Id = '$J'")
check "message_export: its file is in ComplianceSettings.Directory" test -f "$FILE"
check "message_export: no temporary file left" test "$(find "$EXPORT" -name '.*' -type f | wc -l)" -eq 0
# the messages posted through the API (not the SQL-made "old post" ones) as
# Python's csv module (RFC 4180) reads them back, in order
read_messages() {
    python3 -c 'import csv, sys, json
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
print(json.dumps([r["PostMessage"] for r in rows
                  if r["ChannelName"] == "exports" and not r["PostMessage"].startswith("old post ")], ensure_ascii=False, separators=(",", ":")))' "$1"
}
EXPECTED=$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' "${MESSAGES[@]}")
check "message_export: every message round-trips exactly (commas, quotes, newlines)" \
    test "$(read_messages "$FILE")" = "$EXPECTED"
check "message_export: team display name with a comma and quotes round-trips" \
    python3 -c 'import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], newline="")) if r["ChannelName"] == "exports"]
sys.exit(0 if rows and all(r["TeamDisplayName"] == "Jobs, \"Team\"" and r["UserUsername"] == "admin" for r in rows) else 1)' "$FILE"
check "message_export: the cursor moved to the run's end" \
    test "$(sql $DB "SELECT ExportedUntil FROM ComplianceExportCursor")" = "$(sql $DB "SELECT Data->>'exported_until' FROM Jobs WHERE Id = '$J'")"
J2=$(create_job message_export)
wait_for 30 is_status "$J2" success
FILE2=$(sql $DB "SELECT Data->>'file' FROM Jobs WHERE Id = '$J2'")
check "a second export: none of the first one's posts again" test "$(read_messages "$FILE2")" = "[]"
api "$P_PORT" POST /posts "{\"channel_id\":\"$CHANNEL_ID\",\"message\":\"after the export\"}" >/dev/null
sleep 6
J3=$(create_job message_export)
wait_for 30 is_status "$J3" success
FILE3=$(sql $DB "SELECT Data->>'file' FROM Jobs WHERE Id = '$J3'")
check "a third export: exactly the post made since" test "$(read_messages "$FILE3")" = '["after the export"]'

# ---- a directory that cannot be written ---------------------------------------------
CURSOR=$(sql $DB "SELECT ExportedUntil FROM ComplianceExportCursor")
stop_node "$T/r"
stop_node "$T/s"
touch "$T/not-a-directory"
start_node "$T/bad" "$(free_port $((BASE + 3)))" "$DSN" "${COMMON[@]}" \
    MM_COMPLIANCESETTINGS_DIRECTORY="$T/not-a-directory/export" || fail "node bad starts"
J=$(create_job message_export)
wait_for 30 is_status "$J" error
check "message_export into an unwritable directory: error" is_status "$J" error
error_says() { sql $DB "SELECT Data->>'error' FROM Jobs WHERE Id = '$1'" | grep -q "$2"; }
check "... data.error names the setting and the reason" error_says "$J" 'ComplianceSettings.Directory: .*Not a directory'
check "... progress -1" test "$(sql $DB "SELECT Progress FROM Jobs WHERE Id = '$J'")" = -1
check "... the cursor did not move" test "$(sql $DB "SELECT ExportedUntil FROM ComplianceExportCursor")" = "$CURSOR"
stop_node "$T/bad"

# ---- the scheduler: one job per slot, however many nodes schedule --------------------
# Two nodes without clustering each schedule (each is its own leader): the
# slot's unique key still lets only one job in.
SLOT_TIME=$(date -u -d '-1 minute' +%H:%M)
for n in x y; do
    start_node "$T/$n" "$(free_port $((BASE + 4 + ${#n})))" "$DSN" "${COMMON[@]}" MM_JOBSETTINGS_RUNSCHEDULER=true \
        MM_JOBSETTINGS_RUNJOBS=true MM_DATARETENTIONSETTINGS_DELETIONJOBSTARTTIME="$SLOT_TIME" || fail "node $n starts"
    BASE=$((BASE + 10))
done
scheduled() { sql $DB "SELECT count(*) FROM Jobs WHERE Type = 'data_retention' AND ScheduleSlot IS NOT NULL"; }
some_scheduled() { [ "$(scheduled)" -ge 1 ]; }
wait_for 20 some_scheduled
sleep 12 # a further round of both schedulers
check "the due slot got exactly one job from two schedulers" test "$(scheduled)" -eq 1
SLOT=$(sql $DB "SELECT ScheduleSlot FROM Jobs WHERE Type = 'data_retention' AND ScheduleSlot IS NOT NULL")
check "... for today's DeletionJobStartTime (UTC)" \
    test "$SLOT" -eq "$(($(date -u -d "$(date -u +%F) $SLOT_TIME" +%s) * 1000))"
check "... and it runs to success" wait_for 30 is_status "$(sql $DB "SELECT Id FROM Jobs WHERE ScheduleSlot = $SLOT")" success
finish
