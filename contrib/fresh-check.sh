#!/usr/bin/env bash
# contrib/fresh-check.sh: the README's two commands on a fresh Debian 12.
# Builds a minimal Debian 12 root (debootstrap --variant=minbase) in a
# temporary directory, puts a clean clone of this repository's HEAD in it and
# runs `contrib/test.sh`, then `contrib/quickstart.sh` (and its stop) inside
# it with chroot, as root, with nothing else installed first.  A package that
# deps.sh forgets shows up here, where the developer machine hides it.
#
# Not part of CI: it downloads a Debian base and every package, and runs the
# whole suite (about half an hour on 2 cores).  Run it as root on a machine
# with nothing listening on the quickstart's ports; the chroot shares the
# host's network (apt and npm need it) and its servers listen on loopback.
#   contrib/fresh-check.sh           check, then remove the root
#   FRESH_KEEP=1 contrib/fresh-check.sh   keep the root to look inside
# Prints the last line of each command and exits non-zero if either failed.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=contrib/lib/deps.sh
. "$SRC/contrib/lib/deps.sh"

[ "$(id -u)" = 0 ] || { echo "fresh-check: run as root (debootstrap, chroot, mounts)" >&2; exit 1; }
install_packages debootstrap git || exit 1

# The Debian mirror this machine's apt already uses: the check reaches the
# same registry the README's commands will.
# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' |
    awk '$2 == "bookworm" {print $1; exit}')
[ -n "$mirror" ] || { echo "fresh-check: apt knows no bookworm repository: run apt-get update" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/chorus-fresh.XXXXXX)
ROOT=$WORK/root
# shellcheck disable=SC2317 # called from the EXIT trap
# the servers a failed command left running inside the root
stop_root_processes() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "${p#/proc/}" 2>/dev/null
    done
    return 0
}
# shellcheck disable=SC2317
cleanup() {
    stop_root_processes
    if [ "${FRESH_KEEP:-0}" = 1 ]; then
        echo "fresh-check: root kept in $ROOT"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

echo "fresh-check: debootstrap minbase bookworm into $ROOT"
if ! debootstrap --variant=minbase bookworm "$ROOT" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    tail -5 "$WORK/debootstrap.log"
    echo "fresh-check: debootstrap failed" >&2
    exit 1
fi
# apt's sources as this machine has them, instead of debootstrap's (the main
# suite only), and name resolution for apt and npm
rm -f "$ROOT/etc/apt/sources.list"
cp -a /etc/apt/sources.list.d/. "$ROOT/etc/apt/sources.list.d/"
if [ -f /etc/apt/sources.list ]; then cp /etc/apt/sources.list "$ROOT/etc/apt/sources.list"; fi
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# This machine's way out may inspect TLS with a certificate authority of its
# own (the machine's, not the project's): the clean root trusts what this
# machine trusts, so npm reaches its registry as it does here.
mkdir -p "$ROOT/etc/ssl/certs" "$ROOT/usr/local/share/ca-certificates"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
fi
cp -L /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/" 2>/dev/null
if [ -f /etc/npmrc ]; then cp /etc/npmrc "$ROOT/etc/npmrc"; fi
git clone -q "$SRC" "$ROOT/root/chorus" || { echo "fresh-check: git clone failed" >&2; exit 1; }
echo "fresh-check: clone of $(git -C "$SRC" rev-parse --short HEAD) in $ROOT/root/chorus"

# in_root CMD: runs CMD in the fresh root as a login would find it: a clean
# environment, proc/sys/dev mounted.  The mounts live in a mount namespace
# of their own, unmounted when it ends, however the command ends.
in_root() {
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare --mount --propagation private -- bash -c '
        root=$1; shift
        mount -t proc proc "$root/proc" && mount -t sysfs sysfs "$root/sys" &&
            mount --rbind /dev "$root/dev" || exit 97
        env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
            chroot "$root" bash -c "$*"
        rc=$?
        umount -R "$root/dev"; umount "$root/sys" "$root/proc"
        exit $rc' fresh-root "$ROOT" "$@"
}

status=0
echo "fresh-check: contrib/test.sh (log: $WORK/test.log)"
in_root 'cd /root/chorus && contrib/test.sh' >"$WORK/test.log" 2>&1 || status=1
echo "test.sh: $(tail -1 "$WORK/test.log")"

echo "fresh-check: contrib/quickstart.sh (log: $WORK/quickstart.log)"
in_root 'cd /root/chorus && contrib/quickstart.sh && curl -sf http://127.0.0.1:8080/api/v4/system/ping &&
    echo && contrib/quickstart.sh stop' >"$WORK/quickstart.log" 2>&1 || status=1
echo "quickstart.sh: $(grep -v '^chorus quickstart stopped' "$WORK/quickstart.log" | tail -1)"
if [ $status -ne 0 ]; then
    FRESH_KEEP=1
    echo "fresh-check: FAILED"
else
    echo "fresh-check: both README commands passed on a fresh Debian 12"
fi
exit $status
