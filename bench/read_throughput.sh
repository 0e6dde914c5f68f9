#!/usr/bin/env bash
# Sequential read throughput: `cat` of one big recording through a zoomfs
# mount versus `curl` downloading the same file straight from the emulator
# (token from /oauth/token, Bearer header, following the 302 to the CDN).
#
#   bench/read_throughput.sh [SIZE_BYTES] [RUNS]     (defaults: 1 GiB, 3 runs)
#
# Each run mounts afresh, so the page cache never serves zoomfs's read.
# Reports the best run of each, and their ratio. Uses build/zoomfs (no
# sanitizers; built when missing) or $ZOOMFS_BIN. Not part of the test suite.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE=${1:-1073741824}
RUNS=${2:-3}
BIN=${ZOOMFS_BIN:-$ROOT/build/zoomfs}
if [ ! -x "$BIN" ]; then
    [ -d build ] || meson setup build >/dev/null
    ninja -C build >/dev/null
fi

TMP=$(mktemp -d /tmp/zoomfs-bench.XXXXXX)
SIM_PID=""
ZFS_PID=""
cleanup() {
    if mountpoint -q "$TMP/mnt" 2>/dev/null; then
        fusermount3 -u "$TMP/mnt" 2>/dev/null || fusermount3 -u -z "$TMP/mnt"
    fi
    [ -z "$ZFS_PID" ] || wait "$ZFS_PID" 2>/dev/null || true
    [ -z "$SIM_PID" ] || { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null || true; }
    rm -rf "$TMP"
}
trap cleanup EXIT

(cd tests && exec /usr/bin/python3 -m zoomsim --port 0 --ready-file "$TMP/ready.json" \
    --users 1 --instances 1 --months 1 --file-size 65536 --big-file "$SIZE" \
    >"$TMP/zoomsim.log" 2>&1) &
SIM_PID=$!
for _ in $(seq 300); do [ -s "$TMP/ready.json" ] && break; sleep 0.1; done
URL=$(jq -r .url "$TMP/ready.json")
KEY=$(curl -sf "$URL/_sim/account" |
    jq -r --argjson s "$SIZE" '[.. | objects | select(._size? == $s) | ._key][0]')
TOKEN=$(curl -sf -u demo-client:demo-secret \
    -d grant_type=account_credentials -d account_id=demo-account "$URL/oauth/token" |
    jq -r .access_token)
mkdir -p "$TMP/mnt"

mount_zoomfs() {
    ZOOM_ACCOUNT_ID=demo-account ZOOM_CLIENT_ID=demo-client ZOOM_CLIENT_SECRET=demo-secret \
        "$BIN" -f -o "api_url=$URL,oauth_url=$URL,ledger=none,loglevel=warn" "$TMP/mnt" \
        2>>"$TMP/zoomfs.log" &
    ZFS_PID=$!
    for _ in $(seq 100); do mountpoint -q "$TMP/mnt" && return 0; sleep 0.1; done
    echo "zoomfs did not mount:" >&2
    cat "$TMP/zoomfs.log" >&2
    exit 1
}

unmount_zoomfs() {
    fusermount3 -u "$TMP/mnt"
    wait "$ZFS_PID" || true
    ZFS_PID=""
}

seconds() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
lt() { awk "BEGIN { exit !($1 < $2) }"; }
best_zoomfs=""
best_curl=""
for run in $(seq "$RUNS"); do
    mount_zoomfs
    FILE=$(find "$TMP/mnt/users" -type f -size "${SIZE}c" | head -n 1)
    [ -n "$FILE" ] || { echo "no file of $SIZE bytes in the mount" >&2; exit 1; }
    t0=$(seconds)
    got=$(cat "$FILE" | wc -c)
    t1=$(seconds)
    unmount_zoomfs
    [ "$got" -eq "$SIZE" ] || { echo "zoomfs read $got bytes, expected $SIZE" >&2; exit 1; }

    t2=$(seconds)
    got=$(curl -sf -L -H "Authorization: Bearer $TOKEN" "$URL/rec/download/$KEY" | wc -c)
    t3=$(seconds)
    [ "$got" -eq "$SIZE" ] || { echo "curl read $got bytes, expected $SIZE" >&2; exit 1; }

    z=$(calc "$t1 - $t0")
    c=$(calc "$t3 - $t2")
    printf 'run %d: zoomfs %.2f s  curl %.2f s\n' "$run" "$z" "$c"
    if [ -z "$best_zoomfs" ] || lt "$z" "$best_zoomfs"; then best_zoomfs=$z; fi
    if [ -z "$best_curl" ] || lt "$c" "$best_curl"; then best_curl=$c; fi
done

mib=$(calc "$SIZE / 1048576")
printf '%.0f MiB, best of %d: zoomfs %.2f s (%.0f MiB/s)  curl %.2f s (%.0f MiB/s)  ratio %.2f\n' \
    "$mib" "$RUNS" "$best_zoomfs" "$(calc "$mib / $best_zoomfs")" \
    "$best_curl" "$(calc "$mib / $best_curl")" "$(calc "$best_zoomfs / $best_curl")"
