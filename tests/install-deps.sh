#!/usr/bin/env bash
# Installs everything zoomfs needs to build, test and run its demo on Debian 12.
# Idempotent: a second run installs nothing new. Needs root (CI and the dev
# machines run as root); uses sudo when it is there and we are not root.
set -euo pipefail

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
    rsync vim jq curl coreutils findutils procps psmisc time util-linux
    # style check
    clang-format
)

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
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
