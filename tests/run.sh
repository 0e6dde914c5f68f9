#!/usr/bin/env bash
# The one test command: installs what is missing, builds zoomfs with
# AddressSanitizer and UndefinedBehaviorSanitizer in build-test/, runs the C
# unit tests, a clang-format check, a short fuzzing pass (tests/fuzz/: each
# libFuzzer target a few seconds from its seed corpus, built with clang in
# build-fuzz/), then the emulator's tests, the
# integration tests (real FUSE mounts against the emulator), the contract
# check (every request zoomfs sends validated against Zoom's OpenAPI spec by
# Stoplight Prism) and the package tests (build the .deb, lintian, install
# it, run its systemd units' lines).
#
#   tests/run.sh                      everything
#   ZOOMFS_SKIP_DEPS=1 tests/run.sh   skip tests/install-deps.sh
#   tests/run.sh -k read -x           extra arguments go to pytest
#
# Exits non-zero when any step fails (every step runs; the first failure's
# status is kept).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
start=$(date +%s)
status=0
failed=()

step() { printf '\n==> %s\n' "$*"; }
fail() {
    failed+=("$1")
    [ "$status" -ne 0 ] || status=${2:-1}
}

if [ "${ZOOMFS_SKIP_DEPS:-0}" != 1 ]; then
    step "installing dependencies (tests/install-deps.sh)"
    tests/install-deps.sh || { echo "tests/run.sh: dependency install failed" >&2; exit 1; }
fi

step "configuring build-test/ (ASan + UBSan)"
meson_opts=(-Db_sanitize=address,undefined -Db_lundef=false)
if [ -f build-test/build.ninja ] || [ -d build-test/meson-private ]; then
    meson setup --reconfigure "${meson_opts[@]}" build-test ||
        { rm -rf build-test && meson setup "${meson_opts[@]}" build-test; } ||
        { echo "tests/run.sh: meson setup failed" >&2; exit 1; }
else
    meson setup "${meson_opts[@]}" build-test || { echo "tests/run.sh: meson setup failed" >&2; exit 1; }
fi

step "building (ninja -C build-test)"
ninja -C build-test || { echo "tests/run.sh: build failed" >&2; exit 1; }

# Sanitizers: stop at the first error, report leaks, with stacks. The leak
# suppressions are narrow (see tests/lsan.supp) and the path is absolute
# because zoomfs runs with another working directory.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"

step "unit tests (meson test)"
meson test -C build-test --print-errorlogs || fail "meson test"

step "clang-format check (src/ include/ tests/unit/ tests/fuzz/ bench/)"
mapfile -t cfiles < <(find src include tests/unit tests/fuzz bench -name '*.[ch]' 2>/dev/null | sort)
if [ "${#cfiles[@]}" -gt 0 ]; then
    clang-format --dry-run --Werror "${cfiles[@]}" || fail "clang-format"
fi

step "fuzzing (tests/fuzz/run.sh: every target 4 s from its seeds)"
tests/fuzz/run.sh 4 || fail "fuzz"

step "emulator, integration and contract tests (pytest)"
export ZOOMFS_BIN="$ROOT/build-test/zoomfs"
pytest_dirs=()
[ -d tests/zoomsim ] && pytest_dirs+=(tests/zoomsim)
pytest_dirs+=(tests/structure tests/integration tests/contract tests/package)
/usr/bin/python3 -m pytest "${pytest_dirs[@]}" -v -rfE -p no:cacheprovider "$@"
rc=$?
# 5 = no test collected: that is a failure of this script, not a pass.
[ "$rc" -eq 0 ] || fail "pytest (exit $rc)" "$rc"

elapsed=$(($(date +%s) - start))
if [ "$status" -eq 0 ]; then
    printf '\ntests/run.sh: all passed in %ds\n' "$elapsed"
else
    printf '\ntests/run.sh: FAILED (%s) after %ds\n' "$(IFS=,; echo "${failed[*]}")" "$elapsed"
fi
exit "$status"
