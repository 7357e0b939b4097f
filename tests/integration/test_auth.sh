#!/usr/bin/env bash
# Authentication as Mattermost does it, at the HTTP level: the token's
# places (cookie, Authorization header, access_token), login cookies, CSRF
# for cookie sessions, the session cache across workers, logout.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
DSN=$(new_database auth)
PORT=$(free_port 18600)
start_node "$T/n" "$PORT" "$DSN" MM_PROCESSSETTINGS_WORKERS=2
U=http://127.0.0.1:$PORT/api/v4
wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$U/system/ping?get_server_status=true')\" = 200 ]"

curl -s -o /dev/null -X POST "$U/users" -d '{"username":"root","email":"root@example.com","password":"root-password"}'
curl -s -D "$T/login.h" -o "$T/login.json" -X POST -H 'X-Requested-With: XMLHttpRequest' "$U/users/login" \
    -d '{"login_id":"root","password":"root-password"}'
TOKEN=$(awk 'tolower($1) == "token:" { print $2 }' "$T/login.h" | tr -d '\r')
CSRF=$(sed -nE 's/^set-cookie: MMCSRF=([a-z0-9]+).*/\1/Ip' "$T/login.h" | tr -d '\r')
check "login: Token header" [ ${#TOKEN} = 26 ]
check "login with X-Requested-With: MMAUTHTOKEN cookie, HttpOnly" grep -qiE "^set-cookie: MMAUTHTOKEN=$TOKEN;.*HttpOnly" "$T/login.h"
check "login: MMUSERID and MMCSRF cookies" bash -c "grep -qi '^set-cookie: MMUSERID=' '$T/login.h' && [ ${#CSRF} = 26 ]"
curl -s -D "$T/login2.h" -o /dev/null -X POST "$U/users/login" -d '{"login_id":"root","password":"root-password"}'
check "login without X-Requested-With: no cookies" not grep -qi '^set-cookie' "$T/login2.h"
check "login over plain HTTP: cookies without Secure" not grep -qi '^set-cookie:.*; Secure' "$T/login.h"
# behind a balancer that terminated TLS, the browser is on HTTPS: every cookie Secure
curl -s -D "$T/login3.h" -o /dev/null -X POST -H 'X-Requested-With: XMLHttpRequest' -H 'X-Forwarded-Proto: https' \
    "$U/users/login" -d '{"login_id":"root","password":"root-password"}'
check "login with X-Forwarded-Proto: https: the three cookies Secure" \
    [ "$(grep -ciE '^set-cookie: (MMAUTHTOKEN|MMUSERID|MMCSRF)=.*; Secure' "$T/login3.h")" = 3 ]

code_with() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# A login flood: bcrypt's queue is bounded in time (worker.h), so past it a
# login is answered 503 with Retry-After at once instead of waiting seconds
# behind the flood, and the node serves the others meanwhile.
seq 400 | xargs -P 100 -I{} curl -s -D - -o /dev/null -X POST "$U/users/login" \
    -d '{"login_id":"nobody{}","password":"wrong-password"}' >"$T/flood.h"
busy=$(grep -c '^HTTP/[0-9.]* 503' "$T/flood.h")
retry=$(grep -ci '^retry-after: 1' "$T/flood.h")
check "a login flood of 400, 100 at a time: some answered 503 ($busy), each with Retry-After: 1 ($retry)" \
    [ "$busy" -gt 0 -a "$retry" = "$busy" ]
check "after the flood a login passes" \
    [ "$(code_with -X POST "$U/users/login" -d '{"login_id":"root","password":"root-password"}')" = 200 ]
check "Authorization: Bearer" [ "$(code_with -H "Authorization: Bearer $TOKEN" "$U/users/me")" = 200 ]
check "Authorization: bearer (any case)" [ "$(code_with -H "Authorization: bEaReR $TOKEN" "$U/users/me")" = 200 ]
check "Authorization: Token" [ "$(code_with -H "Authorization: Token $TOKEN" "$U/users/me")" = 200 ]
check "the MMAUTHTOKEN cookie" [ "$(code_with -H "Cookie: MMAUTHTOKEN=$TOKEN" "$U/users/me")" = 200 ]
check "the cookie beats the header" \
    [ "$(code_with -H "Cookie: a=b; MMAUTHTOKEN=$TOKEN" -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz' "$U/users/me")" = 200 ]
check "access_token for a non-OAuth session: 401" [ "$(code_with "$U/users/me?access_token=$TOKEN")" = 401 ]
check "a malformed Authorization header: 401" [ "$(code_with -H "Authorization: Basic $TOKEN" "$U/users/me")" = 401 ]

# CSRF: cookie sessions, non-GET
check "cookie POST without CSRF token or X-Requested-With: 401" \
    [ "$(code_with -X POST -H "Cookie: MMAUTHTOKEN=$TOKEN" -d '[]' "$U/users/ids")" = 401 ]
check "cookie POST with X-CSRF-Token: passes CSRF" \
    [ "$(code_with -X POST -H "Cookie: MMAUTHTOKEN=$TOKEN" -H "X-CSRF-Token: $CSRF" -d '["abcdefghijklmnopqrstuvwxyz"]' "$U/users/ids")" = 200 ]
check "cookie POST with X-Requested-With: passes CSRF" \
    [ "$(code_with -X POST -H "Cookie: MMAUTHTOKEN=$TOKEN" -H 'X-Requested-With: XMLHttpRequest' -d '["abcdefghijklmnopqrstuvwxyz"]' "$U/users/ids")" = 200 ]
check "bearer POST is never CSRF-checked" \
    [ "$(code_with -X POST -H "Authorization: Bearer $TOKEN" -d '["abcdefghijklmnopqrstuvwxyz"]' "$U/users/ids")" = 200 ]

# The session cache is shared: many requests, both workers, one database lookup
for _ in $(seq 40); do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$U/users/me"; done
kill -QUIT "$(master_pid "$T/n")"
wait_for 10 not alive "$(master_pid "$T/n")"
hits=$(grep -ho 'session cache [0-9]* hits' "$T"/n/logs/worker-*.log | awk '{ s += $3 } END { print s + 0 }')
misses=$(grep -ho '[0-9]* misses' "$T"/n/logs/worker-*.log | awk '{ s += $1 } END { print s + 0 }')
check "session cache: 40+ authenticated requests, at most 2 misses ($hits hits, $misses misses)" \
    [ "$misses" -le 2 -a "$hits" -ge 40 ]
start_node "$T/n2" "$PORT" "$DSN" MM_SERVICESETTINGS_SESSIONCACHEINMINUTES=0
for _ in $(seq 10); do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$U/users/me"; done
check "SessionCacheInMinutes 0: the cache is off, the session still works" \
    [ "$(code_with -H "Authorization: Bearer $TOKEN" "$U/users/me")" = 200 ]
kill -QUIT "$(master_pid "$T/n2")"
wait_for 10 not alive "$(master_pid "$T/n2")"
misses=$(grep -ho '[0-9]* misses' "$T"/n2/logs/worker-*.log | awk '{ s += $1 } END { print s + 0 }')
check "SessionCacheInMinutes 0: every request reads the database ($misses misses)" [ "$misses" -ge 11 ]
start_node "$T/n3" "$PORT" "$DSN"

# Logout with the cookie: needs CSRF like any cookie POST, then the token is dead
check "cookie logout with CSRF token" \
    [ "$(code_with -X POST -H "Cookie: MMAUTHTOKEN=$TOKEN" -H "X-CSRF-Token: $CSRF" "$U/users/logout")" = 200 ]
check "after logout the token is refused (header and cookie)" \
    bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $TOKEN' '$U/users/me')\" = 401 ] &&
             [ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Cookie: MMAUTHTOKEN=$TOKEN' '$U/users/me')\" = 401 ]"
finish
