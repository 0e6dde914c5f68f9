#!/usr/bin/env bash
# Installs everything zoomfs needs to build, test and run its demo on Debian 12:
# the Debian packages, then Stoplight Prism for the contract check
# (tests/contract/, pinned by its package-lock.json, into
# tests/contract/node_modules). Idempotent: a second run installs nothing new.
# Needs root (CI and the dev machines run as root); uses sudo when it is there
# and we are not root.
#
#   tests/install-deps.sh [--bench]    --bench: also what bench/ needs
set -euo pipefail

cd "$(dirname "$0")/.."

bench=0
for arg; do
    case $arg in
        --bench) bench=1 ;;
        *) echo "usage: tests/install-deps.sh [--bench]" >&2; exit 2 ;;
    esac
done

export DEBIAN_FRONTEND=noninteractive

packages=(
    # build
    build-essential meson ninja-build pkg-config
    libfuse3-dev libcurl4-openssl-dev libjansson-dev libssl-dev
    libsystemd-dev
    # the Debian package and its systemd units (tests/package): systemd for
    # systemd.pc and systemd-analyze, not as the running init
    debhelper lintian systemd git
    # run and mount
    fuse3 ca-certificates openssl
    # tests: the emulator and pytest use Debian's python3 (/usr/bin/python3)
    python3 python3-pytest
    # tools the tests and the demo drive through the mount
    rsync vim jq curl attr coreutils findutils procps psmisc time util-linux
    # style check
    clang-format
    # fuzzing (tests/fuzz/): clang, its libFuzzer and sanitizer runtimes, and
    # llvm-symbolizer (llvm-14) for readable stacks
    clang-14 libclang-rt-14-dev llvm-14
)
# The benchmarks (bench/): the web server and the HTTP mount they compare
# zoomfs with, and callgrind for instruction counts. On a machine booted with
# systemd Debian's nginx also enables its own service on port 80; the
# benchmarks start their own on 127.0.0.1 and do not use it.
if [ "$bench" = 1 ]; then
    packages+=(nginx rclone valgrind openssl)
fi
# The contract check runs Prism on Node.js: Debian's, unless the machine
# already has a node (and its npm).
if ! command -v node >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: run as root (or install sudo)" >&2
        exit 1
    fi
fi

missing=()
for p in "${packages[@]}"; do
    # dpkg-query prints "install ok installed" for a package that is fully in.
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
else
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get update </dev/null
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
fi

# Stoplight Prism, exactly as tests/contract/package-lock.json pins it.
contract=tests/contract
want=$(node -p "require('./$contract/package-lock.json').packages['node_modules/@stoplight/prism-cli'].version")
have=$(node -p "try { require('./$contract/node_modules/@stoplight/prism-cli/package.json').version } catch (e) { '' }")
if [ "$have" = "$want" ] && [ -x "$contract/node_modules/.bin/prism" ]; then
    echo "install-deps: Stoplight Prism $want already installed in $contract/node_modules"
else
    echo "install-deps: installing Stoplight Prism $want into $contract/node_modules (npm ci)"
    (cd "$contract" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
fi
