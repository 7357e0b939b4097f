#!/usr/bin/env bash
# Jobs on a three-node cluster (loopback, one PostgreSQL, clustering on):
#   (a) the leader's scheduler creates a daily slot when it comes due, once,
#       and the job runs once;
#   (b) the leader is SIGKILLed just before a slot: its successor creates the
#       slot, once;
#   (c) the node running a long data_retention job is SIGKILLed: the job
#       finishes on another node, once, handed over by the leader as soon as
#       the cluster declares the runner dead (not after the reaper's 30 s of
#       silence); the handover time is printed;
#  (c2) the same when the runner is the leader itself (its successor hands the
#       job over once elected);
#   (d) a node its peers declare dead while it still runs its job (its cluster
#       process paused; the database still reached): the job is not moved.
# Slots come due in real time: DeletionJobStartTime is set to a coming UTC
# minute (in each node's config file, then POST /config/reload for (b)) and
# the suite waits for it, about 2.5 minutes in all.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
DB=jobscluster
DSN=$(new_database $DB)
NAMES=(a b c)
declare -A NODE_PORT NODE_GOSSIP NODE_STREAM
CLUSTER_NAME="jobs"
cluster_ports 18800 "${NAMES[@]}"
# retention on, small batches with pauses so that (c)'s job lasts ~20 s
JOBS_ENV=(MM_DATARETENTIONSETTINGS_ENABLEMESSAGEDELETION=true MM_DATARETENTIONSETTINGS_MESSAGERETENTIONDAYS=30
    MM_DATARETENTIONSETTINGS_BATCHSIZE=100 MM_DATARETENTIONSETTINGS_TIMEBETWEENBATCHESMILLISECONDS=100
    MM_JOBSETTINGS_RUNJOBS=true MM_JOBSETTINGS_RUNSCHEDULER=true)
HANDOVER_BOUND_MS=15000 # the reaper alone would take 30 s of silence plus up to 5 s

# the slot time is in each node's config file, so that a reload can change it
jobs_node() { cluster_node "$1" "${JOBS_ENV[@]}"; }
# set_slot_time HH:MM: DeletionJobStartTime in every node's config file
set_slot_time() {
    sed -i "s/\"DeletionJobStartTime\": \"[0-9:]*\"/\"DeletionJobStartTime\": \"$1\"/" \
        "$T/a/config.json" "$T/b/config.json" "$T/c/config.json"
}
status() { cluster_status "$1"; }
name_of() { # name_of ID: the node name (a, b, c) whose current id is ID
    local n
    for n in "${NAMES[@]}"; do [ "$(node_id "$n")" = "$1" ] && echo "$n"; done
}
# agreed_leader NAMES...: every one of these nodes names the same leader; prints it
agreed_leader() {
    local n l first=""
    for n in "$@"; do
        l=$(leader_of "$n")
        [ -n "$l" ] || return 1
        [ -z "$first" ] && first=$l
        [ "$l" = "$first" ] || return 1
    done
    echo "$first"
}
kill_tree() { # SIGKILL a node's master and its children at once
    local master child
    master=$(master_pid "$T/$1")
    for child in $(pgrep -P "$master"); do kill -9 "$child"; done
    kill -9 "$master"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# next_slot MARGIN: the epoch second of the next whole UTC minute at least MARGIN s away
next_slot() {
    local now slot
    now=$(date +%s)
    slot=$(((now / 60 + 1) * 60))
    [ $((slot - now)) -ge "$1" ] || slot=$((slot + 60))
    echo "$slot"
}
sleep_until() { # sleep_until EPOCH_SECONDS
    local left=$(($1 * 1000 - $(now_ms)))
    [ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}
slot_rows() { sql $DB "SELECT count(*) FROM Jobs WHERE Type = 'data_retention' AND ScheduleSlot = $1"; }
slot_job() { sql $DB "SELECT Id FROM Jobs WHERE Type = 'data_retention' AND ScheduleSlot = $1"; }
job_is() { [ "$(sql $DB "SELECT Status FROM Jobs WHERE Id = '$1'")" = "$2" ]; }
# logs_with WHAT TEXT: how many nodes' WHAT logs (cluster, jobs) contain TEXT
logs_with() { grep -l -- "$2" "$T"/[abc]/logs/"$1".log 2>/dev/null | wc -l; }
created_by() { # created_by SLOT: the node names whose cluster.log created SLOT
    grep -l "created data_retention job [a-z0-9]* for slot $1\b" "$T"/[abc]/logs/cluster.log 2>/dev/null |
        sed "s|^$T/||; s|/.*||" | tr '\n' ' '
}

# ---- start: slot (a) is the next minute at least 30 s away ------------------
SLOT_A=$(next_slot 30)
for n in "${NAMES[@]}"; do
    mkdir -p "$T/$n"
    cp "$CHORUS_SRC/etc/config.json" "$T/$n/config.json"
done
set_slot_time "$(date -u -d "@$SLOT_A" +%H:%M)"
for n in "${NAMES[@]}"; do
    jobs_node "$n" || fail "node $n starts"
done
curl -s -o /dev/null -X POST "$(url a)/api/v4/users" \
    -d '{"username":"admin","email":"admin@example.com","password":"admin-password"}'
TOKEN=$(curl -si -X POST "$(url a)/api/v4/users/login" -d '{"login_id":"admin","password":"admin-password"}' |
    tr -d '\r' | awk 'tolower($1) == "token:" { print $2 }')
check "an admin logs in" test -n "$TOKEN"
for n in "${NAMES[@]}"; do
    check "node $n sees three green members" wait_for 20 all_green "$n" 3
done
wait_for 10 agreed_leader a b c >/dev/null
LEADER_ID=$(agreed_leader a b c)
LEADER=$(name_of "$LEADER_ID")
check "the three nodes agree on a leader (node ${LEADER:-none})" test -n "$LEADER"

# ---- (a) a slot comes due: the leader creates it, once; it runs once --------
echo "# (a) slot $(date -u -d "@$SLOT_A" +%T) UTC, $((SLOT_A - $(date +%s))) s from now; leader: node $LEADER"
sleep_until "$SLOT_A"
SLOT_A_MS=$((SLOT_A * 1000))
slot_exists() { [ "$(slot_rows "$1")" -ge 1 ]; }
check "(a) the due slot is created within a scheduler round (10 s)" wait_for 15 slot_exists "$SLOT_A_MS"
J=$(slot_job "$SLOT_A_MS")
check "(a) the job runs to success" wait_for 20 job_is "$J" success
sleep 11 # a further round of the scheduler, which re-inserts the slot
check "(a) one row for the slot" test "$(slot_rows "$SLOT_A_MS")" -eq 1
check "(a) created by the leader's scheduler and nobody else's (by: $(created_by "$SLOT_A_MS"))" \
    test "$(created_by "$SLOT_A_MS")" = "$LEADER "
check "(a) claimed once" test "$(sql $DB "SELECT Attempts FROM Jobs WHERE Id = '$J'")" -eq 1
check "(a) its success recorded by one node" test "$(logs_with jobs "job $J (data_retention): success recorded")" -eq 1
check "(a) every slot ever scheduled has one job, each claimed once" \
    test "$(sql $DB "SELECT count(*) FROM Jobs WHERE ScheduleSlot IS NOT NULL AND (Attempts <> 1 OR Status <> 'success')")" -eq 0

# ---- (b) the leader is SIGKILLed 2 s before a slot ---------------------------
SLOT_B=$(next_slot 25)
SLOT_B_MS=$((SLOT_B * 1000))
set_slot_time "$(date -u -d "@$SLOT_B" +%H:%M)"
check "(b) POST /config/reload on one node: OK" bash -c \
    "curl -s -X POST -H 'Authorization: Bearer $TOKEN' '$(url a)/api/v4/config/reload' | grep -q OK"
for n in "${NAMES[@]}"; do
    check "(b) after the reload node $n sees three green members" wait_for 20 all_green "$n" 3
done
wait_for 10 agreed_leader a b c >/dev/null
LEADER_ID=$(agreed_leader a b c)
LEADER=$(name_of "$LEADER_ID")
OTHERS=()
for n in "${NAMES[@]}"; do [ "$n" = "$LEADER" ] || OTHERS+=("$n"); done
echo "# (b) slot $(date -u -d "@$SLOT_B" +%T) UTC, $((SLOT_B - $(date +%s))) s from now; leader: node $LEADER, killed 2 s before"
check "(b) a leader is agreed (node ${LEADER:-none})" test -n "$LEADER"
sleep_until $((SLOT_B - 2))
check "(b) the slot does not exist yet" test "$(slot_rows "$SLOT_B_MS")" -eq 0
kill_tree "$LEADER"
killed_at=$(now_ms)
new_leader_agreed() { [ "$(agreed_leader "${OTHERS[@]}")" != "$LEADER_ID" ]; }
wait_for 10 new_leader_agreed
NEW_LEADER=$(name_of "$(agreed_leader "${OTHERS[@]}")")
echo "# (b) new leader node ${NEW_LEADER:-none} agreed $(($(now_ms) - killed_at)) ms after the kill"
check "(b) the survivors agree on a new leader" test -n "$NEW_LEADER" -a "$NEW_LEADER" != "$LEADER"
check "(b) the slot is created" wait_for 20 slot_exists "$SLOT_B_MS"
J=$(slot_job "$SLOT_B_MS")
check "(b) its job runs to success" wait_for 20 job_is "$J" success
sleep 11
check "(b) one row for the slot" test "$(slot_rows "$SLOT_B_MS")" -eq 1
check "(b) created by the new leader (by: $(created_by "$SLOT_B_MS"))" test "$(created_by "$SLOT_B_MS")" = "$NEW_LEADER "
check "(b) claimed once" test "$(sql $DB "SELECT Attempts FROM Jobs WHERE Id = '$J'")" -eq 1
check "(b) the new leader's scheduler took over" grep -q "scheduler: active on this node" "$T/$NEW_LEADER/logs/cluster.log"

# ---- (c) SIGKILL the runner of a long job: handed over at once ----------------
old_posts() { sql $DB "SELECT count(*) FROM Posts WHERE CreateAt < (extract(epoch from now()) * 1000)::bigint - 30 * 86400000::bigint"; }
# deleted_some: job $J (the caller's) has saved some progress
deleted_some() { [ "$(sql $DB "SELECT coalesce(Data->>'deleted', '0') FROM Jobs WHERE Id = '$J'")" -gt 0 ]; }
jobs_pid() { grep -o '"pid":[0-9]*,[^}]*"msg":"jobs process ready' "$T/$1/logs/jobs.log" | tail -1 | cut -d: -f2 | cut -d, -f1; }
# long_job_killed CASE [RUNNER]: a long data_retention job; with RUNNER, only
# that node's jobs process may claim it (the others' are paused meanwhile).
# Its runner's whole node is SIGKILLed: the job must be running elsewhere
# within HANDOVER_BOUND_MS, then finish once.
long_job_killed() {
    local case=$1 only=${2:-} n paused=() J RUNNER_ID VICTIM SURVIVOR LEADER_NOW killed_at row ms
    local pending_ms="" claimed_ms=""
    for n in "${NAMES[@]}"; do
        check "($case) after the restart node $n sees three green members" wait_for 20 all_green "$n" 3
    done
    wait_for 10 agreed_leader a b c >/dev/null
    LEADER_NOW=$(name_of "$(agreed_leader a b c)")
    if [ -n "$only" ]; then
        for n in "${NAMES[@]}"; do
            [ "$n" = "$only" ] || { kill -STOP "$(jobs_pid "$n")" && paused+=("$(jobs_pid "$n")"); }
        done
    fi
    # 20,000 posts 60 days old: 200 batches of 100 with 100 ms pauses, ~20 s
    sql $DB "INSERT INTO Posts (Id, CreateAt, UpdateAt, UserId, ChannelId, Message)
        SELECT substr(md5(random()::text || g), 1, 26), t, t, 'uuuuuuuuuuuuuuuuuuuuuuuuuu',
               'cccccccccccccccccccccccccc', 'old post ' || g
        FROM generate_series(1, 20000) g,
             (SELECT (extract(epoch from now()) * 1000)::bigint - 60 * 86400000::bigint AS t) n" >/dev/null
    check "($case) 20000 old posts" test "$(old_posts)" -eq 20000
    J=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" "$(url a)/api/v4/jobs" -d '{"type":"data_retention"}' |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id||""))')
    check "($case) a data_retention job is created on demand" test -n "$J"
    if [ -z "$J" ]; then
        [ ${#paused[@]} -eq 0 ] || kill -CONT "${paused[@]}"
        return
    fi
    check "($case) it runs and saves its progress" wait_for 20 deleted_some
    [ ${#paused[@]} -eq 0 ] || kill -CONT "${paused[@]}"
    RUNNER_ID=$(sql $DB "SELECT NodeId FROM Jobs WHERE Id = '$J'")
    VICTIM=$(name_of "$RUNNER_ID")
    check "($case) it runs on node ${VICTIM:-?} (leader: node ${LEADER_NOW:-?})" test -n "$VICTIM" -a "$VICTIM" = "${only:-$VICTIM}"
    kill_tree "$VICTIM"
    killed_at=$(now_ms)
    # sample the row: when it went back to pending, and when another node had it
    while [ $(($(now_ms) - killed_at)) -lt 45000 ]; do
        row=$(sql $DB "SELECT Status, NodeId FROM Jobs WHERE Id = '$J'")
        ms=$(($(now_ms) - killed_at))
        if [ -z "$pending_ms" ] && [[ $row == pending\|* || ($row == in_progress\|* && $row != *"|$RUNNER_ID") ]]; then
            pending_ms=$ms
        fi
        if [[ $row == in_progress\|* && $row != *"|$RUNNER_ID" ]] || [[ $row == success\|* ]]; then
            claimed_ms=$ms
            break
        fi
        sleep 0.05
    done
    echo "# ($case) runner node $VICTIM SIGKILLed: job back to pending after ${pending_ms:-never} ms," \
        "claimed by another node after ${claimed_ms:-never} ms (bound $HANDOVER_BOUND_MS ms; the reaper alone: 30-35 s)"
    check "($case) handed over within $HANDOVER_BOUND_MS ms (${claimed_ms:-never} ms)" \
        test -n "$claimed_ms" -a "${claimed_ms:-99999}" -le "$HANDOVER_BOUND_MS"
    check "($case) a leader handed it over because its node was declared dead" \
        test "$(logs_with cluster "job $J (data_retention): its runner on node $RUNNER_ID was declared dead: now pending")" -eq 1
    check "($case) ... not the reaper's timeout" test "$(logs_with jobs "job $J (data_retention): its runner on node")" -eq 0
    check "($case) the job finishes" wait_for 60 job_is "$J" success
    SURVIVOR=$(name_of "$(sql $DB "SELECT NodeId FROM Jobs WHERE Id = '$J'")")
    check "($case) on another node (node ${SURVIVOR:-?}), on its second claim" \
        test -n "$SURVIVOR" -a "$SURVIVOR" != "$VICTIM" -a "$(sql $DB "SELECT Attempts FROM Jobs WHERE Id = '$J'")" -eq 2
    check "($case) once: one success recorded" test "$(logs_with jobs "job $J (data_retention): success recorded")" -eq 1
    check "($case) every expired post is gone" test "$(old_posts)" -eq 0
    check "($case) data.deleted is about what was there (batches after the last heartbeat before the kill go uncounted)" \
        test "$(sql $DB "SELECT (Data->>'deleted')::int BETWEEN 17000 AND 20000 FROM Jobs WHERE Id = '$J'")" = t
    KILLED=$VICTIM
}

jobs_node "$LEADER" || fail "the node killed in (b) restarts"
long_job_killed c
# (c2) the runner is the leader itself: its successor, once elected, hands
# the job over
jobs_node "$KILLED" || fail "the node killed in (c) restarts"
wait_for 20 all_green a 3 && wait_for 10 agreed_leader a b c >/dev/null
long_job_killed c2 "$(name_of "$(agreed_leader a b c)")"

# ---- (d) declared dead, yet alive: the job stays put ------------------------
# The runner's cluster process is paused (SIGSTOP) for 10 s: its peers
# declare the node dead, while its jobs process goes on heartbeating the job
# through the database, which is what a partition sparing the database looks
# like to them.  The leader must not hand that job over (the heartbeat fence),
# so the job finishes where it runs, claimed once.
jobs_node "$KILLED" || fail "the node killed in (c2) restarts"
for n in "${NAMES[@]}"; do
    check "(d) node $n sees three green members" wait_for 20 all_green "$n" 3
done
cluster_pid() { grep -o '"process":"cluster","pid":[0-9]*' "$T/$1/logs/cluster.log" | tail -1 | cut -d: -f3; }
sql $DB "INSERT INTO Posts (Id, CreateAt, UpdateAt, UserId, ChannelId, Message)
    SELECT substr(md5(random()::text || g), 1, 26), t, t, 'uuuuuuuuuuuuuuuuuuuuuuuuuu', 'cccccccccccccccccccccccccc',
           'old post ' || g
    FROM generate_series(1, 20000) g,
         (SELECT (extract(epoch from now()) * 1000)::bigint - 60 * 86400000::bigint AS t) n" >/dev/null
J=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" "$(url a)/api/v4/jobs" -d '{"type":"data_retention"}' |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id||""))')
check "(d) a long job runs" wait_for 20 deleted_some
RUNNER_ID=$(sql $DB "SELECT NodeId FROM Jobs WHERE Id = '$J'")
RUNNER=$(name_of "$RUNNER_ID")
PEERS=()
for n in "${NAMES[@]}"; do [ "$n" = "$RUNNER" ] || PEERS+=("$n"); done
CPID=$(cluster_pid "$RUNNER")
kill -STOP "$CPID"
peers_see_red() { status "${PEERS[0]}" | grep -q "^$RUNNER_ID red" && status "${PEERS[1]}" | grep -q "^$RUNNER_ID red"; }
check "(d) the runner's peers declare it dead (node $RUNNER, cluster process paused)" wait_for 10 peers_see_red
sleep 8 # the leader retries the handover every 0.5 s meanwhile
check "(d) meanwhile the job stayed with its runner" \
    test "$(sql $DB "SELECT Status, NodeId, Attempts FROM Jobs WHERE Id = '$J'")" = "in_progress|$RUNNER_ID|1"
kill -CONT "$CPID"
check "(d) the job finishes" wait_for 60 job_is "$J" success
check "(d) where it ran, claimed once" test "$(sql $DB "SELECT NodeId, Attempts FROM Jobs WHERE Id = '$J'")" = "$RUNNER_ID|1"
check "(d) no handover was logged" test "$(logs_with cluster "job $J (data_retention): its runner")" -eq 0
check "(d) the runner never lost it" not grep -q "job $J: no longer ours" "$T/$RUNNER/logs/jobs.log"
check "(d) the runner rejoins: three green members" wait_for 20 all_green "${PEERS[0]}" 3

# (e) Two search_index_rebuild jobs on two nodes while a third, still
# running, holds the index: both wait for it (neither fails, neither drops
# its build as a leftover), then run one after the other, both to success.
HOLDER=zzzzzzzzzzzzzzzzzzzzzzzzzz
sql $DB "INSERT INTO Jobs (Id, Type, CreateAt, LastActivityAt, Status, NodeId) VALUES ('$HOLDER',
    'search_index_rebuild', 0, (extract(epoch from now()) * 1000)::bigint + 120000, 'in_progress', '$(node_id a)');
    INSERT INTO Systems (Name, Value) VALUES ('SearchIndexRebuildLock', '$HOLDER')" >/dev/null
new_rebuild() {
    curl -s -X POST -H "Authorization: Bearer $TOKEN" "$(url a)/api/v4/jobs" -d '{"type":"search_index_rebuild"}' |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id||""))'
}
R1=$(new_rebuild)
R2=$(new_rebuild)
both_wait() {
    [ "$(logs_with jobs "job $R1: another search_index_rebuild holds the index")" -ge 1 ] &&
        [ "$(logs_with jobs "job $R2: another search_index_rebuild holds the index")" -ge 1 ]
}
check "(e) both rebuilds wait for the one holding the index" wait_for 60 both_wait
check "(e) ... on two nodes" test "$(sql $DB "SELECT count(DISTINCT NodeId) FROM Jobs WHERE Id IN ('$R1', '$R2')")" = 2
check "(e) ... still running" test "$(sql $DB "SELECT string_agg(Status, ',') FROM Jobs WHERE Id IN ('$R1', '$R2')")" \
    = in_progress,in_progress
sql $DB "UPDATE Jobs SET Status = 'success' WHERE Id = '$HOLDER'" >/dev/null
check "(e) the first rebuild succeeds once the index is free" wait_for 60 job_is "$R1" success
check "(e) the second too" wait_for 60 job_is "$R2" success
check "(e) the lock row is released" test "$(sql $DB "SELECT count(*) FROM Systems WHERE Name = 'SearchIndexRebuildLock'")" = 0

finish
