#!/usr/bin/env bash
# configure names the Debian package to install when a library or header is
# missing, in one line, instead of a compiler error deep in the build.  The
# missing pieces are simulated: autoconf's cache variables say a header or a
# function is absent, an empty pkg-config path says every module is.
. "$(dirname "$0")/lib.sh"

T=$CHORUS_TEST_TMP

# configure_error NAME [VAR=VALUE...]: configure in a scratch directory;
# prints its error line, fails when configure passed.
configure_error() {
    local dir=$T/$1
    shift
    mkdir -p "$dir"
    if (cd "$dir" && env "$@" "$CHORUS_SRC/configure" -q) >"$dir/out.txt" 2>&1; then
        return 1
    fi
    grep '^configure: error: ' "$dir/out.txt"
}

# expect_package NAME PACKAGE [VAR=VALUE...]: configure stops with exactly one
# error line, and that line names PACKAGE.
expect_package() {
    local name=$1 package=$2 out
    shift 2
    out=$(configure_error "$name" "$@")
    [ "$(grep -c . <<<"$out")" = 1 ] && grep -q "install the Debian package $package\$" <<<"$out"
}

check "no pkg-config modules: names libssl-dev first" expect_package nopc libssl-dev PKG_CONFIG_LIBDIR=/nonexistent
check "no wslay header (h2o's WebSocket header needs it): names libwslay-dev" \
    expect_package nowslay libwslay-dev ac_cv_header_wslay_wslay_h=no
check "no h2o header: names libh2o-dev" expect_package noh2o libh2o-dev ac_cv_header_h2o_h=no
check "no msgpack header: names libmsgpack-dev" expect_package nomsgpack libmsgpack-dev ac_cv_header_msgpack_h=no
check "no libpq header: names libpq-dev" expect_package nopq libpq-dev ac_cv_header_libpq_fe_h=no
check "no crypt header: names libcrypt-dev" expect_package nocrypt libcrypt-dev ac_cv_header_crypt_h=no
mkdir -p "$T/ok"
check "with everything installed configure passes" bash -c "cd '$T/ok' && '$CHORUS_SRC/configure' -q >out.txt 2>&1"
finish
