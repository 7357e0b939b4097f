#!/usr/bin/env bash
# bench/firstload.sh: many users opening the web app at once.  USERS (1,000)
# distinct users each perform the web app's first-load sequence (the reads it
# makes once logged in, in its order, each user with their own token), side
# by side with GET /system/ping on the same connections in the same run.
#
# Method.  bench/firstload/firstload.c (built here with cc) keeps CONNS
# keep-alive HTTP/1.1 connections, one request in flight on each; connection
# c walks users c, c+CONNS, c+2*CONNS... (wrapping) through the sequence.
# Rounds alternate, DURATION s each: ping, firstload, ping, firstload...
# (ROUNDS of each).  Per round: requests/s, per-request p50/p99, whole loads
# (all the requests of one user, first sent to last answered) per second and
# their p50/p99, errors (any non-2xx; the first of each step is shown), and
# the CPU of the client, of chorusd (master and children) and of PostgreSQL
# (postmaster and backends), 100 = one core; others_cpu_pct is the rest of
# the machine (other work sharing the cores: a noisy round).
#
# The sequence (the web app's root and team controller and mattermost-redux's
# actions for the order; @mattermost/client 11.9.0 for paths and queries):
#   GET /config/client?format=old, GET /license/client?format=old,
#   GET /users/me, GET /users/me/preferences, GET /users/me/teams,
#   GET /users/me/teams/members, GET /users/me/teams/unread,
#   GET /limits/server, POST /roles/names, GET /plugins/webapp,
#   GET /users/me/teams/{team}/channels, GET .../channels/members,
#   GET .../channels/categories, GET /users/me/channel_members?page=-1,
#   GET /users/me/channels, POST /users/status/ids,
#   GET /channels/{town-square}/stats,
#   GET /users/me/channels/{town-square}/posts/unread (30 after, 30 before),
#   POST /channels/members/me/view (a write, as the web app does),
#   POST /users/ids.
# One request at a time per user: where the web app sends a few at once
# (Promise.all), a whole load here is their sum, so load_p99_ms is an upper
# bound on what the app would wait.
# Left out, not served by chorus yet: POST /emoji/names,
# GET /users/me/teams/{team}/threads?totalsOnly=true, the emoji and file
# images; and the WebSocket (bench/fanout.sh), the profile images (cached by
# the browser), POST /users/group_channels (the seeded users are in no group
# channel: the web app sends it only for the ones in its sidebar).
# GET /teams/name/{team}/channels/name/{channel} is left out too: the web app
# calls it only for a channel in the URL it does not know yet.
#
# Seeding, in bulk SQL after chorusd's migrations made the schema (chorusd is
# started first and the admin signed up through the API; nothing else goes
# through the API): USERS users sharing the admin's bcrypt hash, with
# Mattermost's initial preferences, an offline status and one session each
# (tokens made in SQL); one team "firstload" with everyone in it; CHANNELS
# channels (town-square, off-topic, channel-2...; every fifth private) with
# POSTS posts each written by the first PEERS users; user i is a member of
# town-square, off-topic and every channel k where (i + k) % 3 = 0, and has
# read all but the last UNREAD posts of each; the default sidebar categories
# of every user.  The users the status and profile requests name are those
# PEERS authors; the open channel is town-square (every user is in it).
# The setup (about 5 s, printed) is shorter than the rounds it serves.
#
# Reference: the ping rounds, same server, same connections, same client.
# Goal: firstload_vs_ping >= 0.3.  The load client shares the cores with the
# server and PostgreSQL (its CPU is printed next to theirs).
#
# Environment: USERS (1000) CHANNELS (20) POSTS (100) UNREAD (5) PEERS (20)
#   CONNS (64) DURATION (5 s) ROUNDS (3) WORKERS (2)
#   WARMUP (5 s: a firstload round first, in no figure, so that the rounds
#   measure a server that has run a while: pools open, statements planned)
#   PG_TOP (0; N > 0 loads pg_stat_statements and prints, after the rounds,
#   the N statements that took PostgreSQL the most time, planning included;
#   the warm-up round counts there too)
#   CHORUSD ($SRC/build/chorusd) CHORUS_PORT (19065)
# Last lines: the per-step table, then
#   ping_rps=X firstload_rps=X firstload_vs_ping=X load_p50_ms=X load_p99_ms=X loads=N
#   firstload_vs_ping=<firstload requests/s / ping requests/s, medians of the rounds>
#   load_p99_ms=<p99 of a whole load, every load of every round>
set -eu -o pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
# shellcheck source=contrib/lib/pg.sh
. "$SRC/contrib/lib/pg.sh"

USERS=${USERS:-1000}
CHANNELS=${CHANNELS:-20}
POSTS=${POSTS:-100}
UNREAD=${UNREAD:-5}
PEERS=${PEERS:-20}
CONNS=${CONNS:-64}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-5}
WORKERS=${WORKERS:-2}
PG_TOP=${PG_TOP:-0}
CHORUSD=${CHORUSD:-$SRC/build/chorusd}
PORT=$(free_port "${CHORUS_PORT:-19065}")

die() {
    echo "firstload.sh: $*" >&2
    exit 1
}
for tool in cc curl awk psql; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ -x "$CHORUSD" ] || die "$CHORUSD not found (build first)"
[ "$CHANNELS" -ge 2 ] || die "CHANNELS must be at least 2 (town-square and off-topic)"
if [ "$POSTS" -lt 1 ] || [ "$UNREAD" -lt 0 ] || [ "$UNREAD" -ge "$POSTS" ]; then die "need POSTS >= 1 and 0 <= UNREAD < POSTS"; fi
if [ "$PEERS" -lt 1 ] || [ "$PEERS" -gt "$USERS" ]; then die "need 1 <= PEERS <= USERS"; fi

tmp=$(mktemp -d /tmp/chorus-firstload.XXXXXX)
chmod 755 "$tmp"
chorus_pid=
pg_started=0
stop_pid() { # TERM, wait up to 5 s, then KILL
    kill -TERM "$1" 2>/dev/null || return 0
    local i=0
    while kill -0 "$1" 2>/dev/null && [ "$i" -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$chorus_pid" ]; then stop_pid "$chorus_pid"; fi
    if [ "$pg_started" = 1 ]; then pg_stop "$tmp/pg" >/dev/null 2>&1 || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -O2 -Wall -o "$tmp/firstload" bench/firstload/firstload.c || die "cannot build bench/firstload/firstload.c"

PG_PORT=$(free_port 26832)
pg_start "$tmp/pg" "$PG_PORT" >/dev/null || die "cannot start PostgreSQL"
pg_started=1
pg_create_db "$tmp/pg" "$PG_PORT" firstload >/dev/null
sql() { psql -h "$tmp/pg/sock" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtAX "$@" firstload; }
if [ "$PG_TOP" -gt 0 ]; then # pg_stat_statements needs a restart to load
    sql -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" || die "cannot configure PostgreSQL"
    pg_stop "$tmp/pg" >/dev/null
    pg_start "$tmp/pg" "$PG_PORT" >/dev/null || die "cannot restart PostgreSQL"
    sql -c "CREATE EXTENSION pg_stat_statements" -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" \
        -c "SELECT pg_reload_conf()" >/dev/null || die "cannot set up pg_stat_statements"
fi

URL=http://127.0.0.1:$PORT/api/v4
mkdir -p "$tmp/chorus"
MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$PORT MM_PROCESSSETTINGS_WORKERS=$WORKERS \
    MM_PROCESSSETTINGS_PIDFILE=$tmp/chorus/pid MM_LOGSETTINGS_FILELOCATION=$tmp/chorus \
    MM_LOGSETTINGS_ENABLECONSOLE=false MM_LOGSETTINGS_FILELEVEL=WARN MM_FILESETTINGS_DIRECTORY=$tmp \
    MM_CLUSTERSETTINGS_ENABLE=false MM_METRICSSETTINGS_ENABLE=false \
    MM_SQLSETTINGS_DATASOURCE="$(pg_dsn "$tmp/pg" "$PG_PORT" firstload)" \
    "$CHORUSD" -c "$SRC/etc/config.json" >"$tmp/chorus/out.log" 2>&1 &
chorus_pid=$!
healthy=0
for _ in $(seq 400); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/system/ping?get_server_status=true")" = 200 ]; then
        healthy=1
        break
    fi
    kill -0 "$chorus_pid" 2>/dev/null || break
    sleep 0.05
done
[ "$healthy" = 1 ] || {
    tail -20 "$tmp/chorus/out.log" >&2
    die "chorusd did not become healthy"
}

echo "firstload bench: users=$USERS channels=$CHANNELS posts/channel=$POSTS unread=$UNREAD peers=$PEERS" \
    "conns=$CONNS duration=${DURATION}s rounds=$ROUNDS workers=$WORKERS"
echo "chorusd: $("$CHORUSD" -v 2>&1 | head -n 1); $(nproc) cores, shared by the client, chorusd and PostgreSQL"

# The admin through the API (the first user is system admin): migrations are
# done once it exists, and its bcrypt hash is the one every seeded user gets.
t0=$(date +%s%N)
created=0
for _ in $(seq 100); do
    if curl -sf -o /dev/null -X POST "$URL/users" \
        -d '{"username":"firstload-admin","email":"firstload-admin@example.com","password":"firstload-password"}'; then
        created=1
        break
    fi
    sleep 0.1
done
[ "$created" = 1 ] || die "cannot create the admin"

# One transaction.  Ids and tokens: 26 lowercase hex characters of random
# UUIDs' md5 (chorus accepts any 26 [a-z0-9] as an id or a token).
sql -v users="$USERS" -v channels="$CHANNELS" -v posts="$POSTS" -v unread="$UNREAD" -v peers="$PEERS" <<'SQL' ||
BEGIN;
CREATE TEMP TABLE seed AS
SELECT n AS now, n - 86400000 AS t0, a.Id AS admin, a.Email AS admin_email, a.Password AS hash,
       substr(md5(gen_random_uuid()::text), 1, 26) AS team
FROM (SELECT (extract(epoch FROM now()) * 1000)::bigint AS n) AS t, Users a WHERE a.Username = 'firstload-admin';
CREATE TEMP TABLE u AS
SELECT i, substr(md5(gen_random_uuid()::text), 1, 26) AS id FROM generate_series(0, :users - 1) AS i;
CREATE TEMP TABLE ch AS
SELECT k, substr(md5(gen_random_uuid()::text), 1, 26) AS id,
       CASE k WHEN 0 THEN 'town-square' WHEN 1 THEN 'off-topic' ELSE 'channel-' || k END AS name,
       CASE k WHEN 0 THEN 'Town Square' WHEN 1 THEN 'Off-Topic' ELSE 'Channel ' || k END AS display_name,
       CASE WHEN k >= 2 AND k % 5 = 0 THEN 'P' ELSE 'O' END AS type
FROM generate_series(0, :channels - 1) AS k;

INSERT INTO Users (Id, CreateAt, UpdateAt, Username, Email, Password, LastPasswordUpdate, Roles, NotifyProps, Timezone)
SELECT u.id, s.t0, s.t0, 'user' || u.i, 'user' || u.i || '@example.com', s.hash, s.t0, 'system_user',
       '{"email":"true","push":"mention","desktop":"mention","channel":"true"}',
       '{"useAutomaticTimezone":"true","automaticTimezone":"","manualTimezone":""}'
FROM u, seed s;
INSERT INTO Preferences (UserId, Category, Name, Value)
SELECT id, 'recommended_next_steps', 'hide', 'false' FROM u
UNION ALL SELECT id, 'tutorial_step', id, '0' FROM u
UNION ALL SELECT id, 'system_notice', 'GMasDM', 'true' FROM u;
INSERT INTO Status (UserId, Status, LastActivityAt) SELECT u.id, 'offline', s.t0 FROM u, seed s;
INSERT INTO Sessions (Id, Token, CreateAt, ExpiresAt, LastActivityAt, UserId, Roles, Props)
SELECT substr(md5(gen_random_uuid()::text), 1, 26), substr(md5(gen_random_uuid()::text), 1, 26),
       s.now, s.now + 30 * 86400000::bigint, s.now, u.id, 'system_user',
       jsonb_build_object('csrf', substr(md5(gen_random_uuid()::text), 1, 26))
FROM u, seed s;

INSERT INTO Teams (Id, CreateAt, UpdateAt, DisplayName, Name, Email, Type, InviteId, AllowOpenInvite)
SELECT s.team, s.t0, s.t0, 'First Load', 'firstload', s.admin_email, 'O',
       substr(md5(gen_random_uuid()::text), 1, 26), true
FROM seed s;
INSERT INTO TeamMembers (TeamId, UserId, SchemeUser, SchemeAdmin, CreateAt)
SELECT s.team, s.admin, true, true, s.t0 FROM seed s
UNION ALL SELECT s.team, u.id, true, false, s.t0 FROM u, seed s;
INSERT INTO SidebarCategories (Id, UserId, TeamId, SortOrder, Sorting, Type, DisplayName)
SELECT d.type || '_' || u.id || '_' || s.team, u.id, s.team, d.ord, d.sorting, d.type, d.name
FROM u, seed s, (VALUES ('favorites', 'Favorites', 0, ''), ('channels', 'Channels', 10, ''),
                        ('direct_messages', 'Direct Messages', 20, 'recent')) AS d (type, name, ord, sorting);

-- post j of channel k is at t0 + j minutes (+ k ms), by peer j % peers
INSERT INTO Channels (Id, CreateAt, UpdateAt, TeamId, Type, DisplayName, Name, CreatorId, LastPostAt,
                      TotalMsgCount, TotalMsgCountRoot, LastRootPostAt)
SELECT ch.id, s.t0, s.t0, s.team, ch.type, ch.display_name, ch.name, s.admin,
       s.t0 + (:posts - 1) * 60000 + ch.k, :posts, :posts, s.t0 + (:posts - 1) * 60000 + ch.k
FROM ch, seed s;
INSERT INTO Posts (Id, CreateAt, UpdateAt, UserId, ChannelId, Message)
SELECT substr(md5(gen_random_uuid()::text), 1, 26), s.t0 + j * 60000 + ch.k, s.t0 + j * 60000 + ch.k, u.id, ch.id,
       'first load bench: message ' || j || ' in ' || ch.name || ', a sentence of ordinary length'
FROM ch, seed s, generate_series(0, :posts - 1) AS j JOIN u ON u.i = j % :peers;
INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastViewedAt, MsgCount, MsgCountRoot, LastUpdateAt,
                            SchemeUser, SchemeAdmin)
SELECT ch.id, m.id, '{"desktop":"default","email":"default","mark_unread":"all","push":"default",'
       '"ignore_channel_mentions":"default","channel_auto_follow_threads":"off"}',
       s.t0 + (m.msgs - 1) * 60000 + ch.k, m.msgs, m.msgs, s.t0, true, m.admin
FROM ch, seed s, LATERAL (SELECT s.admin AS id, :posts AS msgs, true AS admin
                          UNION ALL SELECT u.id, :posts - :unread, false FROM u
                          WHERE ch.k < 2 OR (u.i + ch.k) % 3 = 0) AS m;
COMMIT;
ANALYZE;
SQL
    die "cannot seed the database"
TEAM=$(sql -c "SELECT Id FROM Teams WHERE Name = 'firstload'")
CHANNEL=$(sql -c "SELECT Id FROM Channels WHERE Name = 'town-square' AND TeamId = '$TEAM'")
sql -F ' ' -c "SELECT u.Id, s.Token FROM Users u JOIN Sessions s ON s.UserId = u.Id
    WHERE u.Username ~ '^user[0-9]+$' ORDER BY substring(u.Username FROM 5)::int" >"$tmp/users"
setup_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(wc -l <"$tmp/users")" = "$USERS" ] || die "seeded $(wc -l <"$tmp/users") sessions, not $USERS"
echo "setup: $(sql -c "SELECT (SELECT count(*) FROM Users) || ' users, ' || (SELECT count(*) FROM Channels) ||
    ' channels, ' || (SELECT count(*) FROM ChannelMembers) || ' channel members, ' ||
    (SELECT count(*) FROM Posts) || ' posts'") in $setup_ms ms"

# A seeded user reads themselves: the seed fits the schema chorusd reads.
read -r _ first_token <"$tmp/users"
code=$(curl -s -o "$tmp/me.json" -w '%{http_code}' -H "Authorization: Bearer $first_token" "$URL/users/me")
[ "$code" = 200 ] || die "a seeded user's GET /users/me answers $code: $(head -c 300 "$tmp/me.json")"

if [ "$PG_TOP" -gt 0 ]; then sql -c "SELECT pg_stat_statements_reset()" >/dev/null; fi
"$tmp/firstload" -u "$URL" -f "$tmp/users" --team "$TEAM" --channel "$CHANNEL" -c "$CONNS" -d "$DURATION" \
    -r "$ROUNDS" --warmup "$WARMUP" --peers "$PEERS" --server-pid "$chorus_pid" \
    --db-pid "$(head -n 1 "$tmp/pg/data/postmaster.pid")" | tee "$tmp/out" || die "the load client failed"
kill -0 "$chorus_pid" 2>/dev/null || die "chorusd died during the run"
if [ "$PG_TOP" -gt 0 ]; then
    echo "PostgreSQL's top $PG_TOP statements during the rounds (total ms | of it planning ms | calls | mean ms | statement):"
    sql -F ' | ' -c "SELECT round((total_exec_time + total_plan_time)::numeric), round(total_plan_time::numeric), calls,
        round(((total_exec_time + total_plan_time) / calls)::numeric, 3), left(regexp_replace(query, '\s+', ' ', 'g'), 160)
        FROM pg_stat_statements WHERE calls > 0 ORDER BY total_exec_time + total_plan_time DESC LIMIT $PG_TOP" |
        sed 's/^/  /'
fi
summary=$(tail -n 1 "$tmp/out")
kv() { printf '%s\n' "$summary" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'; }
echo "firstload_vs_ping=$(kv firstload_vs_ping)"
echo "load_p99_ms=$(kv load_p99_ms)"
