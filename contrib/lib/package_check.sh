#!/usr/bin/env bash
# package_check.sh BUILD: every system header the build in BUILD included
# (automake's .deps/*.Po files) and every shared library BUILD/chorusd links
# (ldd) must belong to a Debian package that contrib/lib/deps.sh installs,
# or that one of those pulls in without recommends.  A fresh machine has
# nothing that was installed by hand, so a package missing from that list
# breaks the README's commands there while everything passes here.
# Prints each missing package with one file that needs it; exits 1 if any.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:?usage: package_check.sh BUILD}
# shellcheck source=contrib/lib/deps.sh
. "$SRC/contrib/lib/deps.sh"

# the system files the build used: headers from the dependency files, the
# libraries the loader resolves for chorusd
system_files() {
    find "$BUILD" -path '*/.deps/*.Po' -type f -print0 | xargs -0 -r cat |
        tr -s "[:space:]\\\\" "\\n" | grep -E "^/usr/" | sed "s/:\$//" | sort -u
    ldd "$BUILD/chorusd" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
}

# the names dpkg may know FILE by: itself, its /usr or /lib twin on a
# merged-/usr system, and a symlink's target
names_of() {
    echo "$1"
    case $1 in /usr/*) echo "${1#/usr}" ;; *) echo "/usr$1" ;; esac
    readlink -f "$1"
}

[ -x "$BUILD/chorusd" ] || { echo "no chorusd in $BUILD: build first"; exit 1; }
# shellcheck disable=SC2086 # package lists are words
listed="$CHORUS_BUILD_PACKAGES $CHORUS_RUN_PACKAGES $CHORUS_TEST_PACKAGES"
# shellcheck disable=SC2086
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $listed 2>/dev/null | grep -v '^ ' | sed 's/:.*//' | sort -u)
if [ -z "$closure" ]; then
    echo "apt-cache knows none of the listed packages: run apt-get update first"
    exit 1
fi

mapfile -t files < <(system_files | sort -u)
declare -A owner_of=()
# one dpkg call for all names ("pkg1, pkg2:amd64: /path"): take the first
# owner, without its architecture
while IFS= read -r line; do
    pkg=${line%%: /*}
    pkg=${pkg%%,*}
    owner_of[${line#*: }]=${pkg%%:*}
done < <(for f in "${files[@]}"; do names_of "$f"; done | sort -u | xargs -r dpkg -S 2>/dev/null)

declare -A reported=()
status=0
for file in "${files[@]}"; do
    pkg=
    while read -r name; do
        pkg=${owner_of[$name]:-}
        [ -n "$pkg" ] && break
    done < <(names_of "$file")
    if [ -z "$pkg" ]; then
        echo "$file belongs to no Debian package (installed by hand?)"
        status=1
        continue
    fi
    [ -n "${reported[$pkg]:-}" ] && continue
    reported[$pkg]=1
    if ! grep -qx "$pkg" <<<"$closure"; then
        echo "$pkg is needed (for $file) but contrib/lib/deps.sh does not install it"
        status=1
    fi
done
exit $status
