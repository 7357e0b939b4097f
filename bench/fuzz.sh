#!/usr/bin/env bash
# bench/fuzz.sh [SECONDS] [TARGETS...]: runs each libFuzzer target of
# tests/fuzz/ (all of them by default) for SECONDS (60) and prints, per
# target, the executions, executions per second, crashes (with the file
# holding the crashing input) and the new corpus units it found.  Exit
# status 1 if any target crashed.
#
# The targets are built with clang into $BUILD/fuzz (tests/fuzz/fuzz.mk).
# Each starts from its committed corpus (tests/fuzz/corpus/<target>, read
# only) and writes what it finds into a scratch corpus, removed at the end
# unless KEEP=1; crashing inputs go to $BUILD/fuzz/crashes/<target>/.  A
# crash, once fixed, becomes a regression input: copy its file into the
# target's corpus (contrib/test.sh replays every corpus).
#
# One process per target (libFuzzer without -fork or -jobs: one job, its
# statistics on stderr), one target after the other.
# Environment: BUILD=build  KEEP=0  FUZZ_FLAGS (more libFuzzer flags)
set -u
cd "$(dirname "$0")/.." || exit 1
SRC=$PWD
BUILD=${BUILD:-build}
OUT=$BUILD/fuzz
SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
ALL="ws_frame msgpack_bounds events swim_wire link_wire seal config route_match text"
TARGETS=${*:-$ALL}

die() { echo "fuzz.sh: $*" >&2; exit 2; }
command -v clang >/dev/null 2>&1 || die "clang not found (Debian packages clang libclang-rt-dev)"
case $SECONDS_EACH in '' | *[!0-9]*) die "SECONDS must be a number, not $SECONDS_EACH" ;; esac

mkdir -p "$OUT" || die "cannot create $OUT"
# shellcheck disable=SC2086 # TARGETS are words
make -s -f "$SRC/tests/fuzz/fuzz.mk" SRC="$SRC" OUT="$OUT" TARGETS="$TARGETS" -j"$(nproc)" >"$OUT/build.log" 2>&1 ||
    { tail -20 "$OUT/build.log"; die "build failed (see $OUT/build.log)"; }

# final_stat NAME LOG: the value of libFuzzer's final "stat::NAME:" line
final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }

crashed=0
for t in $TARGETS; do
    corpus=$SRC/tests/fuzz/corpus/$t
    [ -d "$corpus" ] || die "no corpus for $t ($corpus)"
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$t.XXXXXX")
    mkdir -p "$OUT/crashes/$t"
    log=$OUT/$t.log
    # shellcheck disable=SC2086 # FUZZ_FLAGS are words
    "$OUT/$t" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$OUT/crashes/$t/" ${FUZZ_FLAGS:-} "$scratch" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(final_stat number_of_executed_units "$log")
    rate=$(final_stat average_exec_per_sec "$log")
    units=$(find "$scratch" -type f | wc -l)
    crash_file=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [ "$rc" -ne 0 ] || [ -n "$crash_file" ]; then
        crashed=1
        echo "fuzz $t: ${execs:-?} execs, ${rate:-?} execs/s, 1 crash: ${crash_file:-see $log}, $units new units"
        grep -m1 -E '^==[0-9]+==ERROR|runtime error:|deadly signal' "$log"
    else
        echo "fuzz $t: $execs execs, $rate execs/s, 0 crashes, $units new units (${SECONDS_EACH} s)"
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        echo "  new units kept in $scratch"
    else
        rm -rf "$scratch"
    fi
done
exit "$crashed"
