#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ in build-fuzz/ (clang, ASan,
# UBSan, libFuzzer) and runs each one in turn from its seed corpus.
#
#   tests/fuzz/run.sh                     every target 4 s (tests/run.sh's step)
#   tests/fuzz/run.sh 60                  every target 60 s
#   tests/fuzz/run.sh --long              every target 600 s, corpus kept
#   tests/fuzz/run.sh --long 3600 url     one target an hour
#
# New inputs go to a temp dir (short runs) or to build-fuzz/corpus/<target>/
# (--long, kept from run to run); the seeds in tests/fuzz/corpus/ are only
# read. A crash, leak, sanitizer report or timeout stops that target, leaves
# the input in build-fuzz/artifacts/ and makes the script exit 1. At the end
# a table gives the runs and exec/s of each target.
#
# ZOOMFS_FUZZ_STRICT=1 also checks the promises src/ is known to break
# (tests/fuzz/crashes/README.md).
set -uo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
TARGETS=(api_json http_headers config ledger url tree_path jsonfile_diff)

long=0
seconds=""
picked=()
for arg in "$@"; do
    case "$arg" in
    --long) long=1 ;;
    '' | *[!0-9]*) picked+=("$arg") ;;
    *) seconds=$arg ;;
    esac
done
[ -n "$seconds" ] || seconds=$([ "$long" -eq 1 ] && echo 600 || echo 4)
[ "${#picked[@]}" -gt 0 ] || picked=("${TARGETS[@]}")
for t in "${picked[@]}"; do
    [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t' (${TARGETS[*]})" >&2; exit 2; }
done

CC=${FUZZ_CC:-clang-14}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (tests/install-deps.sh)" >&2; exit 1; }

build=build-fuzz
opts=(-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false)
if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "${opts[@]}" "$build" >/dev/null ||
        { rm -rf "$build" && CC=$CC meson setup "${opts[@]}" "$build" >/dev/null; } ||
        { echo "fuzz: meson setup failed" >&2; exit 1; }
else
    CC=$CC meson setup "${opts[@]}" "$build" >/dev/null || { echo "fuzz: meson setup failed" >&2; exit 1; }
fi
ninja -C "$build" fuzz || { echo "fuzz: build failed" >&2; exit 1; }

# Stop at the first error of any kind, with stacks; leaks are errors.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer

# The targets' own files (config, ledger) go to a private temp dir, in
# memory when /dev/shm is there (the ledger fsyncs).
tmpbase=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && tmpbase=/dev/shm
work=$(mktemp -d "$tmpbase/zoomfs-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work

artifacts=$ROOT/$build/artifacts
mkdir -p "$artifacts"
status=0
summary=()
total_runs=0
for t in "${picked[@]}"; do
    if [ "$long" -eq 1 ]; then
        newdir=$ROOT/$build/corpus/$t
    else
        newdir=$work/corpus-$t
    fi
    mkdir -p "$newdir"
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/$t-")
    [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
    [ "$t" = tree_path ] && args+=(-max_len=4200)
    log=$work/$t.log
    printf '\n==> fuzz_%s (%ss)\n' "$t" "$seconds"
    "$build/tests/fuzz/fuzz_$t" "${args[@]}" "$newdir" "tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    runs=${runs:-0}
    total_runs=$((total_runs + runs))
    if [ "$rc" -eq 0 ]; then
        summary+=("$(printf '%-14s %12s runs %9s exec/s  ok' "$t" "$runs" "${speed:-?}")")
    else
        status=1
        summary+=("$(printf '%-14s %12s runs %9s exec/s  FAILED (exit %d)' "$t" "$runs" "${speed:-?}" "$rc")")
        # the report: the sanitizer's or the invariant's lines, the input
        grep -v -E '^#[0-9]+|^\s*(NEW|REDUCE|pulse|INITED|DONE)' "$log" | tail -n 60
        echo "fuzz: fuzz_$t failed; input kept in $artifacts/ (reproduce: $build/tests/fuzz/fuzz_$t FILE)" >&2
    fi
done

printf '\n==> fuzz summary (%ss per target)\n' "$seconds"
printf '%s\n' "${summary[@]}"
printf '%-14s %12s runs\n' total "$total_runs"
exit "$status"
