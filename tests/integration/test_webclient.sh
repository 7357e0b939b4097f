#!/usr/bin/env bash
# The web client's files (ServiceSettings.ClientDirectory, WebserverMode),
# with a small client directory of our own: the app's page for every path a
# browser opens, /static/ with a year of caching and the precompressed
# variants, misses not cached, no listing, nothing outside the directory
# (.., symlinks), the API untouched; WebserverMode "uncompressed"; a missing
# directory logged and the node serving the API; then contrib/nginx serving
# the same directory in front of the node.
# shellcheck source=tests/integration/lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP
chmod 755 "$T"
DSN=$(new_database webclient)
PORT=$(free_port 18500)
C=$T/client

# ---- the directory: a page, scripts with their variants, a subdirectory,
# links in and out, and a secret next to it
mkdir -p "$C/files" "$C/plugins/x"
echo '<!doctype html><title>Mattermost</title><div id="root"></div>' >"$C/root.html"
echo 'console.log("main");' >"$C/main.abc.js"
gzip -9 -k "$C/main.abc.js"
printf 'brotli bytes' >"$C/main.abc.js.br" # content is not checked, only chosen
echo 'body{}' >"$C/app.css"
echo 'a file' >"$C/files/a.txt"
echo 'entry' >"$C/plugins/x/remote_entry.js"
echo 'the secret' >"$T/secret.txt"
ln -s "$T/secret.txt" "$C/out.txt"
ln -s "$C/app.css" "$C/in.css"

U=http://127.0.0.1:$PORT
# hdr URL HEADER [CURL ARGS...]: the value of one response header
hdr() {
    local url=$1 name=$2
    shift 2
    curl -s -o /dev/null -D - "$@" "$url" | tr -d '\r' | awk -v n="$name" 'BEGIN { IGNORECASE = 1 }
        index(tolower($0), tolower(n) ":") == 1 { sub(/^[^:]*: ?/, ""); print; exit }'
}
body_is() { [ "$(curl -s "${@:3}" "$1")" = "$2" ]; }
same_bytes() { curl -s "${@:3}" "$1" | cmp -s - "$2"; }

start_node "$T/n" "$PORT" "$DSN" MM_SERVICESETTINGS_CLIENTDIRECTORY="$C"
check "the node logs the web client it serves" grep -q "the web client: $C/" "$T/n/logs/worker-0.log"

page_checks() { # page_checks NAME BASE
    local name=$1 b=$2
    check "$name: / is the page" same_bytes "$b/" "$C/root.html"
    check "$name: a deep link is the page" same_bytes "$b/myteam/channels/town-square" "$C/root.html"
    check "$name: the page is text/html" [ "$(hdr "$b/myteam/messages/@bob" Content-Type)" = "text/html" ]
    check "$name: the page is revalidated" \
        [ "$(hdr "$b/" Cache-Control)" = "no-cache, max-age=31556926, public" ]
    check "$name: the page may be framed only by its origin" [ "$(hdr "$b/" X-Frame-Options)" = "SAMEORIGIN" ]
    check "$name: HEAD of the page: 200, no body" \
        [ "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$b/login")" = "200 0" ]
    check "$name: /static/ file, as is without Accept-Encoding" same_bytes "$b/static/main.abc.js" "$C/main.abc.js"
    check "$name: /static/ cached for a year" \
        [ "$(hdr "$b/static/main.abc.js" Cache-Control)" = "max-age=31556926, public" ]
    check "$name: /static/ Vary: Accept-Encoding" \
        [ "$(hdr "$b/static/main.abc.js" Vary | tr '[:upper:]' '[:lower:]')" = "accept-encoding" ]
    check "$name: /static/ nosniff" [ "$(hdr "$b/static/main.abc.js" X-Content-Type-Options)" = "nosniff" ]
    check "$name: a script is JavaScript" \
        bash -c "[[ '$(hdr "$b/static/main.abc.js" Content-Type)' == *javascript* ]]"
    check "$name: a style sheet is text/css" bash -c "[[ '$(hdr "$b/static/app.css" Content-Type)' == text/css* ]]"
    check "$name: gzip accepted: the .gz variant" \
        [ "$(hdr "$b/static/main.abc.js" Content-Encoding -H 'Accept-Encoding: gzip')" = "gzip" ]
    check "$name: the .gz variant's bytes" same_bytes "$b/static/main.abc.js" "$C/main.abc.js.gz" \
        -H 'Accept-Encoding: gzip'
    check "$name: a file in a subdirectory" same_bytes "$b/static/files/a.txt" "$C/files/a.txt"
    check "$name: a missing file: 404" [ "$(http_code "$b/static/nope.js")" = 404 ]
    check "$name: a miss is not cached" [ "$(hdr "$b/static/nope.js" Cache-Control)" = "no-cache, public" ]
    check "$name: no directory listing (trailing slash): 404" [ "$(http_code "$b/static/files/")" = 404 ]
    check "$name: /static/ itself: 404" [ "$(http_code "$b/static/")" = 404 ]
    check "$name: a link out of the directory is not followed" \
        not bash -c "curl -s '$b/static/out.txt' | grep -q secret"
    check "$name: .. does not leave the directory" \
        not bash -c "curl -s --path-as-is '$b/static/../secret.txt' | grep -q secret"
    check "$name: %2e%2e does not leave the directory" \
        not bash -c "curl -s --path-as-is '$b/static/%2e%2e/secret.txt' | grep -q secret"
    check "$name: the API is the API" [ "$(http_code "$b/api/v4/system/ping")" = 200 ]
    check "$name: an unknown API path is the API's JSON 404" \
        bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code} %{content_type}' '$b/api/v4/nothing')\" = '404 application/json' ]"
    check "$name: /hooks/ is not the page" \
        not bash -c "curl -s '$b/hooks/abc' | grep -q 'id=\"root\"'"
    check "$name: robots.txt keeps crawlers out" body_is "$b/robots.txt" "$(printf 'User-agent: *\nDisallow: /')"
}

page_checks chorus "$U"
# nginx's disable_symlinks refuses every link; chorus follows those that stay inside
check "chorus: a link inside the directory is served" same_bytes "$U/static/in.css" "$C/app.css"
check "chorus: brotli preferred when accepted" \
    [ "$(hdr "$U/static/main.abc.js" Content-Encoding -H 'Accept-Encoding: gzip, br')" = "br" ]
check "chorus: a directory without its slash: 404, not a redirect" [ "$(http_code "$U/static/files")" = 404 ]
check "chorus: remote_entry.js is revalidated" \
    [ "$(hdr "$U/static/plugins/x/remote_entry.js" Cache-Control)" = "no-cache, max-age=31556926, public" ]
etag=$(hdr "$U/static/app.css" ETag)
check "chorus: If-None-Match with the ETag: 304" \
    [ "$(http_code "$U/static/app.css" -H "If-None-Match: $etag")" = 304 ]
check "chorus: a POST to a page path is the API's 404" \
    [ "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -X POST "$U/myteam")" = "404 application/json" ]
check "chorus: HEAD of a /static/ file: its length, no body" \
    [ "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$U/static/app.css")" = "200 0" ]
check "chorus: a %00 in the path: 404" [ "$(http_code "$U/static/app.css%00.js")" = 404 ]

# ---- the shipped nginx config, serving the same directory before the node
LB=$(free_port $((PORT + 1)))
mkdir -p "$T/nginx"
sed -e "s/:8065\b/:$PORT/g; s/:8066\b/:$PORT/g; s/\b8080\b/$LB/g; s#/var/lib/chorus/client#$C#g" \
    "$CHORUS_SRC/contrib/nginx/chorus.conf" >"$T/nginx/chorus.conf"
nginx -p "$T/nginx/" -c "$T/nginx/chorus.conf" -g "pid $T/nginx/nginx.pid;" >"$T/nginx/out.log" 2>&1
check "nginx starts with contrib/nginx/chorus.conf" [ $? = 0 ]
wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$LB/api/v4/system/ping')\" = 200 ]"
page_checks nginx "http://127.0.0.1:$LB"
nginx -p "$T/nginx/" -c "$T/nginx/chorus.conf" -g "pid $T/nginx/nginx.pid;" -s stop 2>/dev/null
stop_all_nodes

# ---- WebserverMode "uncompressed": never a variant
start_node "$T/u" "$PORT" "$DSN" MM_SERVICESETTINGS_CLIENTDIRECTORY="$C" MM_SERVICESETTINGS_WEBSERVERMODE=uncompressed
check "uncompressed: gzip accepted, the file as is" same_bytes "$U/static/main.abc.js" "$C/main.abc.js" \
    -H 'Accept-Encoding: gzip, br'
check "uncompressed: no Content-Encoding" \
    [ -z "$(hdr "$U/static/main.abc.js" Content-Encoding -H 'Accept-Encoding: gzip, br')" ]
stop_all_nodes

# ---- WebserverMode "disabled": the API only
start_node "$T/d" "$PORT" "$DSN" MM_SERVICESETTINGS_CLIENTDIRECTORY="$C" MM_SERVICESETTINGS_WEBSERVERMODE=disabled
check "disabled: / is the API's 404" [ "$(http_code "$U/")" = 404 ]
check "disabled: /static/ is the API's 404" [ "$(http_code "$U/static/app.css")" = 404 ]
stop_all_nodes

# ---- a directory that is not there: a line naming the key, the API serves
start_node "$T/m" "$PORT" "$DSN" MM_SERVICESETTINGS_CLIENTDIRECTORY="$T/no-such-client"
check "missing directory: the node serves the API" [ "$(http_code "$U/api/v4/system/ping")" = 200 ]
check "missing directory: a log line names ServiceSettings.ClientDirectory" \
    grep -q 'ServiceSettings.ClientDirectory.*no-such-client' "$T/m/logs/worker-0.log"
check "missing directory: one line per node, not per worker" \
    [ "$(cat "$T"/m/logs/*.log | grep -c 'ServiceSettings.ClientDirectory')" = 1 ]
check "missing directory: / is the API's JSON 404" \
    [ "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$U/")" = "404 application/json" ]
finish
