#!/usr/bin/env bash
# Data retention benchmark: 1,000,000 expired posts (inserted by SQL), one
# node, one data_retention job with the shipped batch settings (BatchSize
# 3000, TimeBetweenBatchesMilliseconds 100).  Reports the rows the job deletes
# per second, and the latency of GET /api/v4/channels/{id}/posts (a channel
# member reading the newest page of a channel with recent posts) at a steady
# RATE req/s, without the job (idle) and while it runs.  The load is open
# loop (a request every 1/RATE s whatever the previous one did), so a stall
# shows as latency instead of being hidden by fewer requests.  Starts its own
# PostgreSQL and chorusd, stops them on exit.  Last line:
#   p99_during_vs_idle=<ratio>   (target <= 2)
# Knobs: POSTS (1000000) RATE (100 req/s) IDLE (20 s) BATCH (3000) PAUSE (100 ms)
# WORKERS (2)
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
# shellcheck source=contrib/lib/pg.sh
. "$SRC/contrib/lib/pg.sh"

POSTS=${POSTS:-1000000}
RATE=${RATE:-100}
IDLE=${IDLE:-20}
BATCH=${BATCH:-3000}
PAUSE=${PAUSE:-100}
WORKERS=${WORKERS:-2}
CHORUSD=${CHORUSD:-$SRC/build/chorusd}
JOB_LIMIT=600 # seconds: give up on the job past this

die() {
    echo "retention.sh: $*" >&2
    exit 1
}
for tool in curl node psql awk; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ -x "$CHORUSD" ] || die "$CHORUSD not found (build first)"

tmp=$(mktemp -d /tmp/chorus-retention-bench.XXXXXX)
chmod 755 "$tmp"
chorus_pid=
load_pid=
cleanup() {
    [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
    [ -n "$chorus_pid" ] && kill "$chorus_pid" 2>/dev/null && wait "$chorus_pid" 2>/dev/null
    pg_stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

PG_PORT=$(free_port 26732)
PORT=$(free_port 18965)
pg_start "$tmp/pg" "$PG_PORT" >/dev/null || die "cannot start PostgreSQL"
pg_create_db "$tmp/pg" "$PG_PORT" retention >/dev/null
sql() { psql -h "$tmp/pg/sock" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtAc "$1" retention; }

URL=http://127.0.0.1:$PORT/api/v4
mkdir -p "$tmp/node"
MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$PORT MM_PROCESSSETTINGS_WORKERS=$WORKERS \
    MM_PROCESSSETTINGS_PIDFILE=$tmp/node/pid MM_LOGSETTINGS_FILELOCATION=$tmp/node \
    MM_LOGSETTINGS_ENABLECONSOLE=false MM_LOGSETTINGS_FILELEVEL=INFO MM_FILESETTINGS_DIRECTORY=$tmp/node \
    MM_SQLSETTINGS_DATASOURCE="$(pg_dsn "$tmp/pg" "$PG_PORT" retention)" \
    MM_JOBSETTINGS_RUNJOBS=true MM_JOBSETTINGS_RUNSCHEDULER=false \
    MM_DATARETENTIONSETTINGS_ENABLEMESSAGEDELETION=true MM_DATARETENTIONSETTINGS_MESSAGERETENTIONDAYS=30 \
    MM_DATARETENTIONSETTINGS_BATCHSIZE="$BATCH" MM_DATARETENTIONSETTINGS_TIMEBETWEENBATCHESMILLISECONDS="$PAUSE" \
    "$CHORUSD" -c "$SRC/etc/config.json" >"$tmp/node/out.log" 2>&1 &
chorus_pid=$!
for _ in $(seq 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/system/ping")" = 200 ] && break
    sleep 0.05
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/system/ping")" = 200 ] || die "chorusd did not start"

# the admin (first user), a team, a channel it is a member of
curl -sf -o /dev/null -X POST "$URL/users" -d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' ||
    die "cannot create the bench user"
TOKEN=$(curl -si -X POST "$URL/users/login" -d '{"login_id":"bench","password":"bench-password"}' |
    awk 'tolower($1) == "token:" { print $2 }' | tr -d '\r')
[ -n "$TOKEN" ] || die "cannot log in"
id_of() { sed -E 's/.*"id":"([a-z0-9]{26})".*/\1/;q'; }
TEAM=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$URL/teams" \
    -d '{"name":"bench","display_name":"Bench","type":"O"}' | id_of) || die "cannot create a team"
CHANNEL=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$URL/channels" \
    -d "{\"team_id\":\"$TEAM\",\"name\":\"bench\",\"display_name\":\"Bench\",\"type\":\"O\"}" | id_of) ||
    die "cannot create a channel"
USER_ID=$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/users/me" | id_of) || die "cannot read the user"

# The posts.  Expired ones (40 to 400 days old): one in ten in the bench
# channel, the rest spread over 100 others.  Recent ones (the page read):
# 5,000 in the bench channel.  Bulk load as one would: the secondary indexes
# of Posts are dropped and rebuilt from their own definitions, so the table
# ends up exactly as the migrations make it.
echo "retention bench: $POSTS expired posts, BatchSize $BATCH, pause $PAUSE ms, load $RATE req/s, workers $WORKERS"
t0=$(date +%s%N)
INDEXES=$(sql "SELECT string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes
    WHERE tablename = 'posts' AND indexname <> 'posts_pkey'")
sql "SELECT 'DROP INDEX ' || string_agg(indexname, ', ') FROM pg_indexes WHERE tablename = 'posts' AND indexname <> 'posts_pkey'" \
    >"$tmp/drop.sql"
psql -h "$tmp/pg/sock" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q -f "$tmp/drop.sql" retention >/dev/null ||
    die "cannot drop the indexes"
sql "INSERT INTO Posts (Id, CreateAt, UpdateAt, UserId, ChannelId, Message)
    SELECT lpad(to_hex(g), 26, 'x'), t, t, '$USER_ID',
           CASE WHEN g % 10 = 0 THEN '$CHANNEL' ELSE lpad(to_hex(g % 100), 26, 'c') END,
           'an expired message number ' || g || ' with a few more words in it'
    FROM generate_series(1, $POSTS) g,
         LATERAL (SELECT (extract(epoch from now()) * 1000)::bigint - (40 * 86400000::bigint)
                         - (g::bigint * 31104000000 / $POSTS) AS t) n" || die "cannot insert the expired posts"
sql "INSERT INTO Posts (Id, CreateAt, UpdateAt, UserId, ChannelId, Message)
    SELECT lpad('r' || to_hex(g), 26, 'y'), t - g * 1000, t - g * 1000, '$USER_ID', '$CHANNEL', 'a recent message ' || g
    FROM generate_series(1, 5000) g, (SELECT (extract(epoch from now()) * 1000)::bigint AS t) n" ||
    die "cannot insert the recent posts"
psql -h "$tmp/pg/sock" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q -c "$INDEXES" retention >/dev/null ||
    die "cannot rebuild the indexes"
sql "VACUUM ANALYZE Posts" || die "cannot vacuum"
echo "loaded $(sql "SELECT count(*) FROM Posts") posts in $((($(date +%s%N) - t0) / 1000000)) ms"

# load DURATION_S OUT: GET the channel's newest page RATE times a second,
# open loop, until DURATION_S or SIGTERM; writes "count errors p50 p99 max" (ms)
cat >"$tmp/load.js" <<'JS'
const http = require("http");
const [url, token, rate, duration, out] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const lat = [];
let errors = 0, inflight = 0;
const send = () => {
    const t = process.hrtime.bigint();
    inflight++;
    const req = http.get(url, { agent, headers: { Authorization: "Bearer " + token } }, (res) => {
        res.resume();
        res.on("end", () => {
            inflight--;
            if (res.statusCode !== 200) errors++;
            else lat.push(Number(process.hrtime.bigint() - t) / 1e6);
        });
    });
    req.on("error", () => { inflight--; errors++; });
};
const timer = setInterval(send, 1000 / Number(rate));
const finish = () => {
    clearInterval(timer);
    lat.sort((a, b) => a - b);
    const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
    require("fs").writeFileSync(out, [lat.length, errors, q(0.5), q(0.99), lat.length ? lat[lat.length - 1] : 0]
        .map((v) => (typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v)).join(" ") + "\n");
    process.exit(0);
};
setTimeout(finish, Number(duration) * 1000);
process.on("SIGTERM", finish);
JS
PAGE_URL="$URL/channels/$CHANNEL/posts?page=0&per_page=60"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$PAGE_URL")" = 200 ] ||
    die "GET /channels/{id}/posts does not answer 200"
# warm up, then the idle figures
node "$tmp/load.js" "$PAGE_URL" "$TOKEN" "$RATE" 3 "$tmp/warm.txt"
node "$tmp/load.js" "$PAGE_URL" "$TOKEN" "$RATE" "$IDLE" "$tmp/idle.txt"
read -r idle_n idle_err idle_p50 idle_p99 idle_max <"$tmp/idle.txt"
printf 'idle:   %6d requests, %d errors, p50 %7.2f ms, p99 %7.2f ms, max %7.2f ms\n' \
    "$idle_n" "$idle_err" "$idle_p50" "$idle_p99" "$idle_max"

# the job, with the load running until it ends
node "$tmp/load.js" "$PAGE_URL" "$TOKEN" "$RATE" "$JOB_LIMIT" "$tmp/during.txt" &
load_pid=$!
JOB=$(curl -sf -H "Authorization: Bearer $TOKEN" -X POST "$URL/jobs" -d '{"type":"data_retention"}' | id_of) ||
    die "cannot create the job"
status=""
for _ in $(seq $((JOB_LIMIT * 10))); do
    status=$(sql "SELECT Status FROM Jobs WHERE Id = '$JOB'")
    case $status in success | error | canceled) break ;; esac
    sleep 0.1
done
kill -TERM "$load_pid"
wait "$load_pid" || true
load_pid=
[ "$status" = success ] || die "the job ended $status: $(sql "SELECT Data FROM Jobs WHERE Id = '$JOB'")"
read -r dur_n dur_err dur_p50 dur_p99 dur_max <"$tmp/during.txt"
# rows and time as the job recorded them (the database's clock)
read -r deleted job_ms < <(sql "SELECT Data->>'deleted', LastActivityAt - StartAt FROM Jobs WHERE Id = '$JOB'" | tr '|' ' ')
left=$(sql "SELECT count(*) FROM Posts WHERE CreateAt < (extract(epoch from now()) * 1000)::bigint - 30 * 86400000::bigint")
[ "$left" = 0 ] || die "$left expired posts left after the job"
printf 'during: %6d requests, %d errors, p50 %7.2f ms, p99 %7.2f ms, max %7.2f ms\n' \
    "$dur_n" "$dur_err" "$dur_p50" "$dur_p99" "$dur_max"
awk -v d="$deleted" -v ms="$job_ms" 'BEGIN { printf "job: %d rows deleted in %.1f s: rows_deleted_per_s=%.0f\n", d, ms / 1000, d * 1000 / ms }'
[ "$idle_err" = 0 ] && [ "$dur_err" = 0 ] || echo "retention.sh: errors: $idle_err idle, $dur_err during" >&2
awk -v a="$dur_p99" -v b="$idle_p99" 'BEGIN { printf "p99_during_vs_idle=%.2f\n", a / b }'
