#!/usr/bin/env bash
# The one-command demo: a local Zoom emulator with a sample account, mounted
# at /mnt/zoom.
#
#   examples/demo.sh          install deps, build, start the emulator, mount
#   examples/demo.sh stop     unmount and stop the emulator
#   examples/demo.sh status   what is running
#
# State (pids, URL, logs) lives in /tmp/zoomfs-demo/. Running it again stops
# the previous demo first. Environment: ZOOMFS_DEMO_MNT (default /mnt/zoom),
# ZOOMFS_SKIP_DEPS=1 to skip the package install.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=/tmp/zoomfs-demo
MNT=${ZOOMFS_DEMO_MNT:-/mnt/zoom}
BIN=$ROOT/build/zoomfs

# The emulator's sample credentials. They reach zoomfs through the
# environment, never its command line.
export ZOOM_ACCOUNT_ID=demo-account
export ZOOM_CLIENT_ID=demo-client
export ZOOM_CLIENT_SECRET=demo-secret

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Ends the process whose pid is in file $1, if it is still the command named
# in $2 (a pid file can outlive its process and the pid be reused).
stop_pid() {
    local file=$1 name=$2 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop() {
    if mountpoint -q "$MNT" 2>/dev/null; then
        fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"
    fi
    stop_pid "$DEMO/zoomfs.pid" zoomfs
    stop_pid "$DEMO/zoomsim.pid" zoomsim
    rm -f "$DEMO/url" "$DEMO/ready.json"
}

status() {
    if [ -f "$DEMO/zoomsim.pid" ] && alive "$(cat "$DEMO/zoomsim.pid")"; then
        echo "emulator: pid $(cat "$DEMO/zoomsim.pid") at $(cat "$DEMO/url" 2>/dev/null)"
    else
        echo "emulator: not running"
    fi
    if mountpoint -q "$MNT" 2>/dev/null; then
        echo "zoomfs:   pid $(cat "$DEMO/zoomfs.pid" 2>/dev/null) mounted at $MNT"
    else
        echo "zoomfs:   not mounted"
    fi
}

start() {
    stop
    if [ "${ZOOMFS_SKIP_DEPS:-0}" != 1 ]; then
        tests/install-deps.sh
    fi
    [ -d build ] || meson setup build
    ninja -C build

    mkdir -p "$DEMO" "$MNT"
    # A small account: 5 users (one of each status), meetings, a webinar
    # user, and recordings over three months with 5 MiB videos.
    (cd tests && exec nohup /usr/bin/python3 -m zoomsim --port 0 \
        --ready-file "$DEMO/ready.json" --users 5 --meetings 3 --instances 4 \
        --months 2 --file-size 5242880 </dev/null >"$DEMO/zoomsim.log" 2>&1) &
    echo $! >"$DEMO/zoomsim.pid"
    for _ in $(seq 300); do
        [ -s "$DEMO/ready.json" ] && break
        alive "$(cat "$DEMO/zoomsim.pid")" || { cat "$DEMO/zoomsim.log" >&2; exit 1; }
        sleep 0.1
    done
    url=$(jq -r .url "$DEMO/ready.json")
    echo "$url" >"$DEMO/url"

    nohup "$BIN" -f -o "api_url=$url,oauth_url=$url,ledger=$DEMO/mtimes" "$MNT" \
        </dev/null >"$DEMO/zoomfs.log" 2>&1 &
    echo $! >"$DEMO/zoomfs.pid"
    for _ in $(seq 150); do
        mountpoint -q "$MNT" && break
        alive "$(cat "$DEMO/zoomfs.pid")" || { cat "$DEMO/zoomfs.log" >&2; stop; exit 1; }
        sleep 0.1
    done
    mountpoint -q "$MNT" || { echo "zoomfs did not mount $MNT" >&2; stop; exit 1; }

    user=$(ls "$MNT/users" | head -n 1)
    cat <<MSG

zoomfs is mounted at $MNT (emulator at $url; logs in $DEMO/).

Try:
  ls $MNT/users
  cat $MNT/users/$user/user.json
  ls $MNT/users/$user/meetings
  ls -l $MNT/users/$user/recordings/*/*
  du -sh $MNT/users/$user/recordings
  cat $MNT/.zoomfs/stats

Stop with:
  examples/demo.sh stop
MSG
}

case "${1:-start}" in
start) start ;;
stop) stop; echo "demo stopped" ;;
status) status ;;
*) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
