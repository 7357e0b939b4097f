# shellcheck shell=bash
# What chorus needs on a Debian 12 machine, and installing what is missing.
# Sourced by contrib/test.sh and contrib/quickstart.sh.

# shellcheck disable=SC2034 # used by the scripts that source this file
CHORUS_BUILD_PACKAGES="build-essential autoconf automake libtool pkg-config libh2o-evloop-dev libh2o-dev
 libwslay-dev libjemalloc-dev libmsgpack-dev check libpq-dev libssl-dev libjansson-dev libcrypt-dev zlib1g-dev"
# shellcheck disable=SC2034
CHORUS_RUN_PACKAGES="postgresql postgresql-client nginx curl iproute2 procps psmisc"
CHORUS_TEST_PACKAGES="haproxy wrk valgrind shellcheck clang-format clang libclang-rt-dev openssl iptables pgbouncer"
# Node.js and Python may come from elsewhere than Debian (Node.js with its own
# npm, which then conflicts with Debian's npm package; Python from pyenv):
# install them only when absent.
if ! command -v node >/dev/null 2>&1; then
    CHORUS_TEST_PACKAGES="$CHORUS_TEST_PACKAGES nodejs"
fi
if ! command -v npm >/dev/null 2>&1; then
    CHORUS_TEST_PACKAGES="$CHORUS_TEST_PACKAGES npm"
fi
if ! command -v python3 >/dev/null 2>&1; then
    CHORUS_TEST_PACKAGES="$CHORUS_TEST_PACKAGES python3"
fi

# install_packages PKG...: apt-get installs those not installed yet.
install_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "missing packages (run as root to install them): ${missing[*]}" >&2
        return 1
    fi
    echo "installing: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# Debian starts the packaged nginx, PostgreSQL and PgBouncer on install;
# chorus runs its own (test_pgbouncer its PgBouncer), so stop those (quietly,
# if they run at all) to keep ports 80/5432/6432 free.
stop_distribution_services() {
    service nginx stop >/dev/null 2>&1 || true
    service postgresql stop >/dev/null 2>&1 || true
    service pgbouncer stop >/dev/null 2>&1 || true
}

# build_chorus SRC BUILD [CONFIGURE ARGS...]: autotools build out of tree.
build_chorus() {
    local src=$1 build=$2
    shift 2
    if [ ! -x "$src/configure" ] || [ "$src/configure.ac" -nt "$src/configure" ] ||
        [ "$src/Makefile.am" -nt "$src/Makefile.in" ]; then
        (cd "$src" && autoreconf -fi >/dev/null 2>&1) || { echo "autoreconf failed" >&2; return 1; }
    fi
    mkdir -p "$build"
    if [ ! -f "$build/Makefile" ]; then
        (cd "$build" && "$src/configure" -q "$@") || return 1
    fi
    make -C "$build" -j"$(nproc)" -s >"$build/make.log" 2>&1 || { tail -40 "$build/make.log" >&2; return 1; }
}
