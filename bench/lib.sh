# Shared by the benchmark scripts (sourced, not run): a temp dir, the
# processes and mounts a script starts (all stopped by PID and unmounted on
# exit, failure included), zoomsim, zoomfs, and small measuring helpers.
# Everything listens on 127.0.0.1 only.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=/usr/bin/python3 # Debian's: zoomsim needs only its standard library
CLK_TCK=$(getconf CLK_TCK)

BENCH_PIDS=()   # every background process started, stopped on exit
BENCH_MOUNTS=() # every mount point used, unmounted on exit

die() {
    echo "${0##*/}: $*" >&2
    exit 1
}

need_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root (drop_caches, mounts, nginx reading the temp dir)"
    [ -w /proc/sys/vm/drop_caches ] || die "/proc/sys/vm/drop_caches is not writable"
    [ -c /dev/fuse ] || die "no /dev/fuse"
}

need_cmd() {
    local c
    for c; do
        command -v "$c" >/dev/null 2>&1 || die "needs $c (tests/install-deps.sh --bench installs it)"
    done
}

# The temp dir: in RAM (/dev/shm) when there is one, so that the files nginx
# serves stay in memory when the page cache is dropped. Removed on exit;
# after a failure its logs stay (the big files go); BENCH_KEEP=1 keeps all.
bench_tmp() {
    local base=/tmp
    [ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
    TMP=$(mktemp -d "$base/zoomfs-bench.XXXXXX")
    trap bench_cleanup EXIT
    trap 'echo "${0##*/}: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local rc=$? m p
    for m in "${BENCH_MOUNTS[@]}"; do
        if mountpoint -q "$m" 2>/dev/null; then
            fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null || true
        fi
    done
    for p in "${BENCH_PIDS[@]}"; do
        stop_pid "$p"
    done
    if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
        if [ "${BENCH_KEEP:-0}" = 1 ]; then
            echo "${0##*/}: everything kept in $TMP" >&2
        elif [ "$rc" -ne 0 ]; then
            rm -rf "$TMP/www" "$TMP/dest" # the big files; the logs stay
            echo "${0##*/}: logs kept in $TMP" >&2
        else
            rm -rf "$TMP"
        fi
    fi
    exit "$rc"
}

# ours PID: PID is a child of this script (not a reused PID).
ours() {
    [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]
}

# alive PID: running (not gone, not a zombie waiting for us).
alive() {
    local s
    s=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${s:0:1}" != Z ]
}

# stop_pid PID: TERM, wait (up to 10 s), then KILL; only a child of ours.
stop_pid() {
    local p=$1 i
    if ours "$p" && alive "$p"; then
        kill -TERM "$p" 2>/dev/null || true
        for i in $(seq 100); do
            alive "$p" || break
            sleep 0.1
        done
        ! alive "$p" || kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The zoomfs binary: $ZOOMFS_BIN, else build-bench/zoomfs, an optimized
# build without sanitizers (set up and built when missing). Warnings are not
# errors there: -O3 sees more of them than the test build, and this build
# only measures.
zoomfs_build() {
    if [ -n "${ZOOMFS_BIN:-}" ]; then
        ZOOMFS=$ZOOMFS_BIN
    else
        ZOOMFS=$ROOT/build-bench/zoomfs
        if [ ! -d "$ROOT/build-bench" ]; then
            meson setup "$ROOT/build-bench" "$ROOT" -Dbuildtype=release -Dwerror=false \
                >"$TMP/meson.log" 2>&1 || { cat "$TMP/meson.log" >&2; die "meson setup failed"; }
        fi
        ninja -C "$ROOT/build-bench" zoomfs fuse_floor >"$TMP/ninja.log" 2>&1 ||
            { tail -40 "$TMP/ninja.log" >&2; die "build failed"; }
    fi
    [ -x "$ZOOMFS" ] || die "no zoomfs binary at $ZOOMFS"
    FLOOR=$(dirname "$ZOOMFS")/fuse_floor # bench/fuse_floor.c, built beside it
}

# sim_start NAME ARGS...: zoomsim on a free port with ARGS; sets SIM_URL and
# SIM_PID. Its credentials are SIM_ACCOUNT/SIM_CLIENT/SIM_SECRET.
SIM_ACCOUNT=bench-account
SIM_CLIENT=bench-client
SIM_SECRET=bench-secret-$$
sim_start() {
    local name=$1 i
    shift
    rm -f "$TMP/$name.ready"
    PYTHONPATH=$ROOT/tests "$PYTHON" -m zoomsim --port 0 --ready-file "$TMP/$name.ready" \
        --account-id "$SIM_ACCOUNT" --client-id "$SIM_CLIENT" --client-secret "$SIM_SECRET" \
        "$@" </dev/null >"$TMP/$name.log" 2>&1 &
    SIM_PID=$!
    BENCH_PIDS+=("$SIM_PID")
    for i in $(seq 1200); do
        [ -s "$TMP/$name.ready" ] && break
        alive "$SIM_PID" || { tail -20 "$TMP/$name.log" >&2; die "zoomsim exited"; }
        sleep 0.1
    done
    [ -s "$TMP/$name.ready" ] || die "zoomsim not ready after 120 s"
    SIM_URL=$(jq -r .url "$TMP/$name.ready")
    [ "$(jq -r .pid "$TMP/$name.ready")" = "$SIM_PID" ] || die "zoomsim's ready line names another PID"
}

sim_stop() {
    stop_pid "$SIM_PID"
}

sim_get() { curl -sf --noproxy '*' "$SIM_URL$1"; }
sim_reset() { curl -sf --noproxy '*' -X POST "$SIM_URL/_sim/reset" >/dev/null; }

# calls ROUTE: how many requests the sim counted for ROUTE since the last
# reset (every status); calls '*': all of them.
calls() {
    sim_get /_sim/counters | jq --arg r "$1" \
        'if $r == "*" then [.[] | .[]] | add // 0 else [(.[$r] // {}) | .[]] | add // 0 end'
}

# A token from the sim, into a curl header file (so it is in no command line).
sim_token_header() {
    local tok
    tok=$(curl -sf --noproxy '*' -u "$SIM_CLIENT:$SIM_SECRET" -d grant_type=account_credentials \
        -d account_id="$SIM_ACCOUNT" "$SIM_URL/oauth/token" | jq -r .access_token)
    [ -n "$tok" ] && [ "$tok" != null ] || die "no token from the sim"
    printf 'Authorization: Bearer %s\n' "$tok" >"$TMP/auth.header"
    chmod 600 "$TMP/auth.header"
}

# zoomfs_mount MNT [PREFIX...]: zoomfs in the foreground on MNT against the
# running sim, as the integration tests mount it (a private HOME, so its
# ledger and caches live in $TMP/home and outlive an unmount); PREFIX (e.g.
# valgrind ...) runs it. Sets ZFS_PID. ZFS_OPTS adds -o options.
zoomfs_mount() {
    local mnt=$1 i
    shift
    mkdir -p "$mnt" "$TMP/home"
    BENCH_MOUNTS+=("$mnt")
    env -u ZOOM_ACCESS_TOKEN -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY \
        -u all_proxy -u ALL_PROXY -u no_proxy -u NO_PROXY \
        HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" XDG_CACHE_HOME="$TMP/home/.cache" \
        ZOOM_ACCOUNT_ID="$SIM_ACCOUNT" ZOOM_CLIENT_ID="$SIM_CLIENT" ZOOM_CLIENT_SECRET="$SIM_SECRET" \
        "$@" "$ZOOMFS" -f -o "api_url=$SIM_URL,oauth_url=$SIM_URL,loglevel=warn${ZFS_OPTS:+,$ZFS_OPTS}" \
        "$mnt" </dev/null 2>>"$TMP/zoomfs.log" &
    ZFS_PID=$!
    BENCH_PIDS+=("$ZFS_PID")
    await_mount "$mnt" "$ZFS_PID" "$TMP/zoomfs.log" zoomfs 600
}

# await_mount MNT PID LOG NAME TRIES: waits until MNT is mounted, while PID
# lives and TRIES tenths of a second at most; else shows LOG and fails.
await_mount() {
    local i
    for i in $(seq "$5"); do
        mountpoint -q "$1" && return 0
        alive "$2" || break
        sleep 0.1
    done
    tail -20 "$3" >&2
    die "$4 did not mount $1"
}

# unmount MNT PID: unmounts and waits for the daemon to exit.
unmount() {
    local mnt=$1 pid=$2 i
    fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt"
    for i in $(seq 300); do
        alive "$pid" || break
        sleep 0.1
    done
    stop_pid "$pid"
}

drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
}

now() { date +%s.%N; }

# cpu_ticks PID: user + system time of the whole process (all its threads),
# in clock ticks. The command name may hold spaces: count fields after ')'.
cpu_ticks() {
    local s
    s=$(cat "/proc/$1/stat")
    s=${s##*) }
    set -- $s
    echo $((${12} + ${13}))
}

# status_kb PID FIELD: a VmXXX line of /proc/PID/status, in KiB.
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# summary: numbers on stdin → "median min max p90" (the median of an even
# count is the mean of the middle two; p90 the nearest rank).
summary() {
    sort -g | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "nan nan nan nan"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            r = int(0.9 * NR + 0.999999); if (r < 1) r = 1
            print m, v[1], v[NR], v[r]
        }'
}

calc() { awk "BEGIN { printf \"%.6f\\n\", $1 }"; }
