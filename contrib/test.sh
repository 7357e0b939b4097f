#!/usr/bin/env bash
# Builds chorus and runs every test: the unit suites (Check), the same under
# AddressSanitizer, and the integration suites (real chorusd processes, a
# private PostgreSQL, nginx, the official @mattermost/client).  Prints each
# suite's summary and ends with one line "N passed, N failed".
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRC/build}
# shellcheck source=contrib/lib/deps.sh
. "$SRC/contrib/lib/deps.sh"
# shellcheck source=contrib/lib/pg.sh
. "$SRC/contrib/lib/pg.sh"

PASSED=0
FAILED=0
count() { PASSED=$((PASSED + $1)); FAILED=$((FAILED + $2)); }
bail() {
    echo "$1"
    count 0 1
    echo "$PASSED passed, $FAILED failed"
    exit 1
}

# shellcheck disable=SC2086
install_packages $CHORUS_BUILD_PACKAGES $CHORUS_RUN_PACKAGES $CHORUS_TEST_PACKAGES || bail "cannot install packages"
stop_distribution_services
build_chorus "$SRC" "$BUILD" || bail "build failed"

# Static checks: a warning-free build, the include rules between folders
# (docs/design.md), every package the build uses installed by
# contrib/lib/deps.sh, the tree formatted by .clang-format, a release
# tarball that builds, checks and installs (make distcheck), scripts clean
# under shellcheck.
static_check() { # static_check NAME CMD...
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        echo "static $name: clean"
        count 1 0
    else
        echo "static $name: problems"
        echo "$out" | head -20
        count 0 1
    fi
}
static_check "compiler warnings" bash -c "! grep -E 'warning:' '$BUILD/make.log'"
static_check clang-format bash -c "cd '$SRC' && clang-format --dry-run --Werror src/*/*.[ch] tests/unit/*.h tests/unit/*/*.c"
static_check layers bash "$SRC/contrib/lib/layers_check.sh"
static_check "install steps" bash "$SRC/contrib/lib/package_check.sh" "$BUILD"
static_check "make distcheck" bash -c "make -C '$BUILD' -j$(nproc) -s distcheck >'$BUILD/distcheck.log' 2>&1 &&
    rm -f '$BUILD'/chorus-*.tar.gz || { tail -20 '$BUILD/distcheck.log'; false; }"
static_check shellcheck bash -c "cd '$SRC' && shellcheck -x -P tests/integration:contrib/lib contrib/*.sh contrib/lib/*.sh \
    contrib/init.d/chorus bench/*.sh tests/integration/*.sh"

# Unit suites: Check writes its own summary into each test's log.
run_unit_suites() {
    local build=$1 label=$2 log line checks failures errors name
    make -C "$build" -j"$(nproc)" -s check >/dev/null 2>&1
    for log in "$build"/tests/unit/*/test_*.log; do
        name=$(basename "$(dirname "$log")")/$(basename "$log" .log) # ws/test_frame, cluster/test_frame
        line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -1)
        if [ -z "$line" ]; then
            echo "$label $name: no summary (crashed?)"
            count 0 1
            continue
        fi
        checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
        failures=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
        errors=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
        echo "$label $name: $line"
        grep -E ':[EF]:' "$log" | head -5
        count $((checks - failures - errors)) $((failures + errors))
    done
}
run_unit_suites "$BUILD" unit

if [ "${CHORUS_SKIP_ASAN:-0}" != 1 ]; then
    build_chorus "$SRC" "$BUILD/asan" --enable-asan || bail "ASan build failed"
    ASAN_OPTIONS=detect_leaks=1 run_unit_suites "$BUILD/asan" unit-asan
fi

# The single-process unit suites under valgrind (memcheck, leaks included);
# the fork-heavy shm suites get ASan above instead (valgrind takes minutes).
for t in core/test_config core/test_id core/test_events core/test_resolver core/test_text ws/test_frame; do
    if CK_FORK=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$BUILD/tests/unit/$t" >"$BUILD/tests/unit/$t.vglog" 2>&1; then
        echo "valgrind $(basename "$t"): clean"
        count 1 0
    else
        echo "valgrind $(basename "$t"): errors (see $BUILD/tests/unit/$t.valgrind.log)"
        grep -E '^==[0-9]+==' "$BUILD/tests/unit/$t.vglog" | head -10
        count 0 1
    fi
done

# The fuzz corpora (tests/fuzz/corpus, bench/fuzz.sh grows them) replayed
# through their libFuzzer targets, each input once, without mutation: a
# regression input that crashes again fails its target.
replay_fuzz_corpora() {
    local out=$BUILD/fuzz t n inputs=0 targets=0 failed=0
    if ! make -s -f "$SRC/tests/fuzz/fuzz.mk" SRC="$SRC" OUT="$out" -j"$(nproc)" >"$out.log" 2>&1; then
        echo "fuzz corpora: targets do not build (see $out.log)"
        tail -5 "$out.log"
        count 0 1
        return
    fi
    for t in "$SRC"/tests/fuzz/corpus/*/; do
        t=$(basename "$t")
        n=$(find "$SRC/tests/fuzz/corpus/$t" -type f | wc -l)
        targets=$((targets + 1))
        inputs=$((inputs + n))
        if "$out/$t" -runs=0 "$SRC/tests/fuzz/corpus/$t" >"$out/$t.replay.log" 2>&1; then
            count 1 0
        else
            echo "fuzz corpora $t: crashed (see $out/$t.replay.log)"
            grep -m3 -E '^==[0-9]+==ERROR|runtime error:|deadly signal' "$out/$t.replay.log"
            failed=$((failed + 1))
            count 0 1
        fi
    done
    echo "fuzz corpora: $targets targets, $inputs inputs replayed, $failed crashed"
}
replay_fuzz_corpora

# Integration suites share one private PostgreSQL.
PG_DIR=$(pg_dir "$BUILD/var/pg")
PG_PORT=$(free_port 25432)
pg_start "$PG_DIR" "$PG_PORT" || bail "cannot start PostgreSQL"
trap 'pg_stop "$PG_DIR"' EXIT
export CHORUSD=$BUILD/chorusd CHORUS_SRC=$SRC CHORUS_PG_DIR=$PG_DIR CHORUS_PG_PORT=$PG_PORT

# run_suite FILE LABEL: one integration suite against $CHORUSD.
run_suite() {
    local suite=$1 label=$2 name out rc p f
    name=$(basename "$suite" .sh)
    export CHORUS_TEST_TMP=$BUILD/var/tests/$label-$name
    rm -rf "$CHORUS_TEST_TMP"
    mkdir -p "$CHORUS_TEST_TMP"
    out=$CHORUS_TEST_TMP/output.txt
    # a database of its own, for suites that do not make theirs (new_database)
    pg_create_db "$PG_DIR" "$PG_PORT" "${name#test_}_default" >/dev/null
    export CHORUS_TEST_DSN
    CHORUS_TEST_DSN=$(pg_dsn "$PG_DIR" "$PG_PORT" "${name#test_}_default")
    timeout 300 bash "$suite" >"$out" 2>&1
    rc=$?
    p=$(grep -c '^PASS: ' "$out")
    f=$(grep -c '^FAIL: ' "$out")
    grep -E '^FAIL: ' "$out"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$label $name: exited with status $rc"
        tail -5 "$out"
        f=1
    fi
    echo "$label $name: $p passed, $f failed"
    count "$p" "$f"
}

for suite in "$SRC"/tests/integration/test_*.sh; do
    run_suite "$suite" integration
done

# The process-heavy suites again with the sanitized binary: any report from
# AddressSanitizer or UBSan in a node's output is a failure.
if [ "${CHORUS_SKIP_ASAN:-0}" != 1 ]; then
    CHORUSD=$BUILD/asan/chorusd
    for suite in ping process migrations auth client cluster; do
        run_suite "$SRC/tests/integration/test_$suite.sh" integration-asan
        reports=$(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' -r "$CHORUS_TEST_TMP" --include=stdout.log)
        if [ -n "$reports" ]; then
            echo "integration-asan test_$suite: sanitizer reports in: $reports"
            # shellcheck disable=SC2086 # one path per word
            grep -hE -A5 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $reports | head -20
            count 0 1
        else
            count 1 0
        fi
    done
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
