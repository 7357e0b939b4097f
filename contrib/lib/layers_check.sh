#!/usr/bin/env bash
# layers_check.sh: the include rules of docs/design.md ("Where things are"),
# checked on every #include "folder/..." under src/.  Each folder may include
# only the folders listed for it; the one exception is worker/http.c, the
# HTTP entry point, which hands requests to the API.  And src/api/ holds no
# SQL: its statements live in src/store/.  Prints each line that breaks a
# rule; exits 1 if any does.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)

declare -A ALLOWED=(
    [core]="core"
    [shm]="core shm"
    [db]="core shm db"
    [store]="core shm db store"
    [jobs]="core shm db store jobs"
    [cluster]="core shm db store jobs cluster"
    [worker]="core shm db store worker ws"
    [ws]="core shm db store worker ws"
    [api]="core shm db store jobs worker ws api"
    [master]="core shm db store jobs cluster worker master"
)
EXCEPTIONS="src/worker/http.c:api"

status=0
for file in "$SRC"/src/*/*.[ch]; do
    rel=${file#"$SRC"/}
    folder=${rel#src/}
    folder=${folder%%/*}
    allowed=${ALLOWED[$folder]:-}
    if [ -z "$allowed" ]; then
        echo "$rel: src/$folder/ has no rule in contrib/lib/layers_check.sh"
        status=1
        continue
    fi
    while IFS= read -r included; do
        [[ " $allowed " == *" $included "* ]] && continue
        [[ " $EXCEPTIONS " == *" $rel:$included "* ]] && continue
        echo "$rel includes $included/: src/$folder/ may include only $allowed"
        status=1
    done < <(sed -n 's|^#include "\([a-z_]*\)/.*|\1|p' "$file" | sort -u)
done
# Handlers name the store's statements; they write no SQL of their own.
while IFS= read -r hit; do
    echo "$hit: SQL in a handler (it belongs in src/store/)"
    status=1
done < <(cd "$SRC" && grep -nE '"(SELECT|INSERT|UPDATE|DELETE|WITH) ' src/api/*.c)
exit $status
