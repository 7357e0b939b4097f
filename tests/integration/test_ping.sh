#!/usr/bin/env bash
# GET /api/v4/system/ping with the database up, down and coming back; the
# headers every API response carries; Mattermost's error JSON for unknown
# routes, wrong methods and oversize bodies; a slow client cut at the timeout.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
DSN=$(new_database ping)
PORT=$(free_port 18100)
start_node "$T/up" "$PORT" "$DSN" MM_SERVICESETTINGS_IDLETIMEOUT=2 MM_SERVICESETTINGS_MAXIMUMPAYLOADSIZEBYTES=1000
URL=http://127.0.0.1:$PORT/api/v4

curl -s -D "$T/h1" -o "$T/b1" "$URL/system/ping"
check "plain ping answers 200" grep -q '^HTTP/1.1 200' "$T/h1"
check "plain ping body" grep -q '"status":"OK".*"ActiveSearchBackend":"database"' "$T/b1"
check "Content-Type is exactly application/json" grep -qi '^content-type: application/json.$' "$T/h1"
check "X-Request-ID is a 26-char id" grep -qiE '^x-request-id: [a-z0-9]{26}.$' "$T/h1"
check "X-Version-ID is the Mattermost API version.build.hash.licensed" grep -qiE '^x-version-id: 11\.9\.0\.0\.[0-9a-f]{64}\.false.$' "$T/h1"
check "Expires: 0 on GET" grep -qi '^expires: 0' "$T/h1"

wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$URL/system/ping?get_server_status=true')\" = 200 ]"
curl -s -D "$T/h2" -o "$T/b2" "$URL/system/ping?get_server_status=true"
check "server status: 200 with a healthy database" grep -q '^HTTP/1.1 200' "$T/h2"
check "server status body" grep -q '"database_status":"OK","filestore_status":"OK"' "$T/b2"
check "server status headers" grep -qi '^database_status: OK' "$T/h2"
check "health check row written and deleted" [ "$(sql ping "SELECT count(*) FROM systems WHERE name LIKE 'health_check_%'")" = 0 ]
check "migrations recorded" [ "$(sql ping "SELECT count(*) FROM chorus_migrations")" -ge 1 ]

# The deep check is unauthenticated: a flood of it costs one check a second per
# node (one worker checks, the others answer its result), not a database write
# and a file per request.  A trigger counts the checks' writes.
sql ping "CREATE TABLE ping_checks (n integer); INSERT INTO ping_checks VALUES (0);
    CREATE FUNCTION count_ping_check() RETURNS trigger LANGUAGE plpgsql AS
        \$\$ BEGIN UPDATE ping_checks SET n = n + 1; RETURN NEW; END \$\$;
    CREATE TRIGGER ping_checks AFTER INSERT OR UPDATE ON Systems FOR EACH ROW
        WHEN (NEW.Name LIKE 'health_check_%') EXECUTE FUNCTION count_ping_check();" >/dev/null
start=$(date +%s%N)
seq 200 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$URL/system/ping?get_server_status=true" \
    >"$T/flood.codes"
elapsed=$((($(date +%s%N) - start) / 1000000))
checks=$(sql ping "SELECT n FROM ping_checks")
check "a flood of deep pings answered, every one 200" [ "$(grep -c '^200$' "$T/flood.codes")" = 200 ]
check "200 deep pings in $elapsed ms ran $checks checks: at most one a second" \
    [ "$checks" -ge 1 -a "$checks" -le $((elapsed / 1000 + 2)) ]

curl -s -o "$T/b3" -w '%{http_code}' "$URL/no/such/route" >"$T/c3"
check "unknown route: 404" grep -q 404 "$T/c3"
check "unknown route: Mattermost error JSON" grep -q '"id":"api.context.404.app_error".*"status_code":404' "$T/b3"
check "wrong method: 404 JSON, as Mattermost's catch-all route" \
    [ "$(curl -s -X DELETE -o /dev/null -w '%{http_code}' "$URL/system/ping")" = 404 ]
head -c 3000000 /dev/zero >"$T/huge"
check "far over the limit: still a 413 (no reset)" \
    [ "$(curl -s -X POST -o /dev/null -w '%{http_code}' --data-binary @"$T/huge" "$URL/system/ping")" = 413 ]
head -c 5000 /dev/zero >"$T/big"
curl -s -D "$T/h4" -o "$T/b4" -X POST --data-binary @"$T/big" "$URL/system/ping"
check "oversize body: 413" grep -q '^HTTP/1.1 413' "$T/h4"
check "oversize body: error JSON" grep -q '"status_code":413' "$T/b4"
check "oversize body: application/json" grep -qi '^content-type: application/json.$' "$T/h4"
head -c 1001 /dev/zero >"$T/edge"
check "one byte over the limit: 413" [ "$(curl -s -X GET -o /dev/null -w '%{http_code}' --data-binary @"$T/edge" "$URL/system/ping")" = 413 ]
head -c 1000 /dev/zero >"$T/edge"
check "exactly the limit: accepted" [ "$(curl -s -X GET -o /dev/null -w '%{http_code}' --data-binary @"$T/edge" "$URL/system/ping")" = 200 ]

# an idle client is cut at IdleTimeout (2 s here), not kept for ever
start=$(date +%s%N)
(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && timeout 10 cat <&3 >/dev/null)
elapsed=$((($(date +%s%N) - start) / 1000000))
check "idle connection closed after IdleTimeout (${elapsed} ms)" [ "$elapsed" -ge 1500 -a "$elapsed" -lt 6000 ]

# the database goes away: plain ping stays up, server status is unhealthy, fast
DEAD=$(free_port 26500)
DEAD_DSN="postgres://postgres@127.0.0.1:$DEAD/ping?sslmode=disable&connect_timeout=2"
NPORT=$(free_port $((PORT + 1)))
start_node "$T/down" "$NPORT" "$DEAD_DSN"
DURL=http://127.0.0.1:$NPORT/api/v4
check "plain ping answers with the database down" [ "$(curl -s -o /dev/null -w '%{http_code}' "$DURL/system/ping")" = 200 ]
curl -s -D "$T/h5" -o "$T/b5" -w '%{time_total}' "$DURL/system/ping?get_server_status=true" >"$T/t5"
check "database down: 500" grep -q '^HTTP/1.1 500' "$T/h5"
check "database down: UNHEALTHY body" grep -q '"status":"UNHEALTHY".*"database_status":"UNHEALTHY"' "$T/b5"
# shellcheck disable=SC2016 # awk's own $1
check "database down: answered within 1 s ($(cat "$T/t5") s)" awk '{exit !($1 < 1.0)}' "$T/t5"
check "database down: use_rest_semantics gives 200" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$DURL/system/ping?get_server_status=true&use_rest_semantics=true")" = 200 ]
check "database down: the node keeps running" kill -0 "$(master_pid "$T/down")"
check "database down: logged with the key" grep -q 'SqlSettings.DataSource: database unreachable' "$T/down/logs/migrate.log"

# ... and comes back: migrations run, the node turns healthy without a restart
# (pg_dir: initdb runs as postgres, who cannot enter a checkout under /root)
PG2=$(pg_dir "$T/pg2")
pg_start "$PG2" "$DEAD" >/dev/null && pg_create_db "$PG2" "$DEAD" ping
check "database back: node turns healthy" wait_for 40 bash -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$DURL/system/ping?get_server_status=true')\" = 200 ]"
stop_all_nodes
pg_stop "$PG2"

# TLS: a usable certificate serves HTTPS (h2 when offered); an unusable one
# is a config error named by its key, before anything starts
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
TPORT=$(free_port $((NPORT + 1)))
mkdir -p "$T/tls/data" "$T/tls/logs"
mapfile -t ENVS < <(node_env "$T/tls" "$TPORT" "$DSN")
env "${ENVS[@]}" MM_SERVICESETTINGS_CONNECTIONSECURITY=TLS MM_SERVICESETTINGS_TLSCERTFILE="$T/cert.pem" \
    MM_SERVICESETTINGS_TLSKEYFILE="$T/key.pem" "$CHORUSD" -c "$CHORUS_SRC/etc/config.json" >"$T/tls/stdout.log" 2>&1 &
NODE_PIDS+=($!)
echo $! >"$T/tls/master.pid"
tls_up() { curl -sk -o /dev/null "https://127.0.0.1:$TPORT/api/v4/system/ping"; }
check "TLS: ping over HTTPS" wait_for 10 tls_up
check "TLS: HTTP/2 when the client offers it" \
    [ "$(curl -sk --http2 -o /dev/null -w '%{http_version}' "https://127.0.0.1:$TPORT/api/v4/system/ping")" = 2 ]
# a session over TLS: its cookies only ever go back over HTTPS
curl -sk -o /dev/null -X POST "https://127.0.0.1:$TPORT/api/v4/users" \
    -d '{"username":"tls","email":"tls@example.com","password":"tls-password"}'
curl -sk -D "$T/tls-login.h" -o /dev/null -X POST -H 'X-Requested-With: XMLHttpRequest' \
    "https://127.0.0.1:$TPORT/api/v4/users/login" -d '{"login_id":"tls","password":"tls-password"}'
check "TLS: the session cookies are Secure" [ "$(grep -ciE '^set-cookie: MM[A-Z]+=.*; Secure' "$T/tls-login.h")" = 3 ]
env MM_SERVICESETTINGS_CONNECTIONSECURITY=TLS MM_SERVICESETTINGS_TLSCERTFILE="$T/missing.pem" \
    MM_SERVICESETTINGS_TLSKEYFILE="$T/key.pem" "$CHORUSD" -t -c "$CHORUS_SRC/etc/config.json" >"$T/tls.out" 2>&1
check "TLS: a missing certificate fails -t" [ $? = 1 ]
check "TLS: ... naming ServiceSettings.TLSCertFile" grep -q 'ServiceSettings.TLSCertFile: cannot load' "$T/tls.out"
env MM_SERVICESETTINGS_CONNECTIONSECURITY=TLS MM_SERVICESETTINGS_TLSCERTFILE="$T/cert.pem" \
    MM_SERVICESETTINGS_TLSKEYFILE="$T/cert.pem" "$CHORUSD" -t -c "$CHORUS_SRC/etc/config.json" >"$T/tls2.out" 2>&1
check "TLS: a certificate given as the key fails -t naming TLSKeyFile" grep -q 'ServiceSettings.TLSKeyFile' "$T/tls2.out"
finish
