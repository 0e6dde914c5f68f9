#!/usr/bin/env bash
# Read benchmark: one file served by nginx on 127.0.0.1, read in the same run
#   - by curl straight from nginx (the line rate),
#   - through zoomfs, whose download_url (from zoomsim, --external-file and
#     --cdn-base) redirects to that nginx URL, with its defaults and with
#     -o page_cache,
#   - through `rclone mount :http:` on the same nginx,
# with the page cache dropped before every read. See bench/README.md.
#
#   bench/compare_read.sh [--quick] [--tls] [BYTES] [RUNS]
#       BYTES: the big file (default 1 GiB; --quick 64 MiB)
#       RUNS:  sequential and parallel runs per reader (default 5; --quick 1)
#       --tls: nginx serves https (a certificate made for the run, trusted
#              by all three readers), as Zoom's CDN does
#
# Needs root, /dev/fuse, nginx, rclone, valgrind (tests/install-deps.sh
# --bench). Uses $ZOOMFS_BIN or build-bench/zoomfs (a release build, made
# when missing). BENCH_KEEP=1 keeps the temp dir and its logs.
set -Eeuo pipefail
. "$(dirname "$0")/lib.sh"

QUICK=0 TLS=0
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1 ;;
        --tls) TLS=1 ;;
        *) break ;;
    esac
    shift
done
if [ "$QUICK" = 1 ]; then
    BYTES=${1:-67108864} RUNS=${2:-1} RANDN=20 CG_BYTES=16777216
else
    BYTES=${1:-1073741824} RUNS=${2:-5} RANDN=200 CG_BYTES=268435456
fi
PAR_BYTES=$((BYTES / 4)) # each of the four parallel files
[ "$PAR_BYTES" -ge 4096 ] || die "BYTES must be at least 16 KiB"

need_root
need_cmd nginx rclone curl jq valgrind callgrind_control fusermount3 mountpoint dd openssl
[ -x /usr/bin/time ] || die "needs /usr/bin/time (Debian package time)"
bench_tmp
zoomfs_build

# -- the files -------------------------------------------------------------
WWW=$TMP/www
mkdir -p "$WWW"
echo "making the files ($BYTES bytes, 4 x $PAR_BYTES, $CG_BYTES) in $TMP" >&2
head -c "$BYTES" /dev/urandom >"$WWW/big.bin"
for i in 1 2 3 4; do head -c "$PAR_BYTES" /dev/urandom >"$WWW/par$i.bin"; done
head -c "$CG_BYTES" /dev/urandom >"$WWW/cg.bin"

# -- nginx: one process, as root, on a free port --------------------------------
# With --tls a self-signed certificate for 127.0.0.1, made for this run, is
# what curl (--cacert), zoomfs (-o cafile=) and rclone (--ca-cert) trust.
SCHEME=http LISTEN_TLS="" CURL_CA=()
if [ "$TLS" = 1 ]; then
    CERT=$TMP/cert.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$CERT" \
        >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; die "openssl req failed"; }
    SCHEME=https LISTEN_TLS=" ssl"
    CURL_CA=(--cacert "$CERT")
fi
CURL=(curl -sS --noproxy '*' "${CURL_CA[@]}") # every read of nginx by curl
start_nginx() {
    local try i
    mkdir -p "$TMP/nginx/tmp"
    for try in 1 2 3 4 5; do
        PORT=$(free_port)
        cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $TMP/nginx/tmp;
    proxy_temp_path $TMP/nginx/tmp;
    fastcgi_temp_path $TMP/nginx/tmp;
    uwsgi_temp_path $TMP/nginx/tmp;
    scgi_temp_path $TMP/nginx/tmp;
    types { application/octet-stream bin; }
    server {
        listen 127.0.0.1:$PORT$LISTEN_TLS;
        ${CERT:+ssl_certificate $CERT; ssl_certificate_key $TMP/key.pem;}
        root $WWW;
        autoindex on;
    }
}
EOF
        nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" \
            </dev/null >>"$TMP/nginx/out.log" 2>&1 &
        NGINX_PID=$!
        BENCH_PIDS+=("$NGINX_PID")
        for i in $(seq 50); do
            alive "$NGINX_PID" || break
            [ "$(curl -s --noproxy '*' "${CURL_CA[@]}" -o /dev/null -w '%{http_code}' -I \
                "$SCHEME://127.0.0.1:$PORT/big.bin")" = 200 ] && return 0
            sleep 0.1
        done
        stop_pid "$NGINX_PID" # the port was taken meanwhile: another one
    done
    cat "$TMP/nginx/error.log" >&2
    die "nginx did not start"
}
start_nginx
BASE=$SCHEME://127.0.0.1:$PORT

# -- zoomsim: the files as recordings of user 0, downloads sent to nginx ---------
sim_args=(--users 1 --instances 1 --months 1 --meetings 1 --file-size 65536 --cdn-base "$BASE")
for f in big par1 par2 par3 par4 cg; do sim_args+=(--external-file "$WWW/$f.bin"); done
sim_start sim "${sim_args[@]}"

# zfile MNT NAME: the MP4 of the instance "External: NAME" in a zoomfs mount.
zfile() {
    local f
    f=$(find "$1/users" -path "*_External: $2_*" -type f -name '*.mp4')
    [ -n "$f" ] && [ "$(printf '%s\n' "$f" | wc -l)" = 1 ] || die "no single MP4 for $2 in $1"
    printf '%s\n' "$f"
}

# -- the mounts ------------------------------------------------------------------
# zoomfs twice: its defaults (recordings bypass the page cache) and
# -o page_cache.
ZMNT=$TMP/zoomfs
ZFS_OPTS=${CERT:+cafile=$CERT}
zoomfs_mount "$ZMNT"
ZPID=$ZFS_PID
PMNT=$TMP/zoomfs-pc
ZFS_OPTS=page_cache${CERT:+,cafile=$CERT}
zoomfs_mount "$PMNT"
PCPID=$ZFS_PID
ZFS_OPTS=${CERT:+cafile=$CERT}
RMNT=$TMP/rclone
mkdir -p "$RMNT"
BENCH_MOUNTS+=("$RMNT")
# rclone's defaults but for: read-only, no VFS cache (reads go straight to
# HTTP, as zoomfs's do), no modtime, directory listings kept for the run.
rclone mount :http: "$RMNT" --config /dev/null --http-url "$BASE/" \
    --read-only --vfs-cache-mode off --no-modtime --dir-cache-time 1h ${CERT:+--ca-cert "$CERT"} \
    --log-level NOTICE --log-file "$TMP/rclone.log" </dev/null >/dev/null 2>&1 &
RPID=$!
BENCH_PIDS+=("$RPID")
await_mount "$RMNT" "$RPID" "$TMP/rclone.log" rclone 100

# The floor: bench/fuse_floor.c serves a file of BYTES from memory, read as
# zoomfs's recordings are (direct_io, 1 MiB reads). Reading it costs what the
# FUSE protocol costs and nothing else; read beside a curl, it shows the most
# a FUSE reader of a network file can reach on this machine.
[ -x "$FLOOR" ] || die "no fuse_floor binary at $FLOOR"
FMNT=$TMP/floor
mkdir -p "$FMNT"
BENCH_MOUNTS+=("$FMNT")
"$FLOOR" "$FMNT" "$BYTES" </dev/null >>"$TMP/floor.log" 2>&1 &
FPID=$!
BENCH_PIDS+=("$FPID")
await_mount "$FMNT" "$FPID" "$TMP/floor.log" fuse_floor 300

declare -A PATHS
PATHS[floor:big]=$FMNT/file
PATHS[zoomfs:big]=$(zfile "$ZMNT" big.bin)
PATHS[zoomfs-pc:big]=$(zfile "$PMNT" big.bin)
PATHS[rclone:big]=$RMNT/big.bin
for i in 1 2 3 4; do
    PATHS[zoomfs:par$i]=$(zfile "$ZMNT" "par$i.bin")
    PATHS[zoomfs-pc:par$i]=$(zfile "$PMNT" "par$i.bin")
    PATHS[rclone:par$i]=$RMNT/par$i.bin
done
for k in "${!PATHS[@]}"; do
    [ "$(stat -c %s "${PATHS[$k]}")" -gt 0 ] || die "${PATHS[$k]} is empty"
done
[ "$(stat -c %s "${PATHS[zoomfs:big]}")" = "$BYTES" ] || die "zoomfs shows a wrong size"
[ "$(stat -c %s "${PATHS[rclone:big]}")" = "$BYTES" ] || die "rclone shows a wrong size"

RES=$TMP/results
mkdir -p "$RES"
GIB=1073741824

# cat_bs FILE: the size of the reads cat and cp make of FILE, the larger of
# 128 KiB and its st_blksize (coreutils' io_blksize).
cat_bs() {
    local b
    b=$(stat -c %o "$1")
    [ "$b" -gt 131072 ] && echo "$b" || echo 131072
}

# dd_bytes ERRFILE: the byte count dd reported.
dd_bytes() { awk '/bytes/ { n = $1 } END { print n + 0 }' "$1"; }

# seq_run TOOL: one sequential read of the big file; appends MB/s and CPU
# s/GiB to $RES/TOOL.{mbps,cpu}.
seq_run() {
    local tool=$1 t0 t1 c0 c1 got cpu
    drop_caches
    if [ "$tool" = ceiling ]; then
        # curl and a read of the floor at once: the work a FUSE reader of
        # this URL cannot avoid (curl's receive, the FUSE reply), done side
        # by side with nothing between them. Timed from curl's start to the
        # later end (curl's start-up included: it favours curl alone by a
        # few ms). CPU: curl's plus the floor daemon's.
        c0=$(cpu_ticks "$FPID")
        t0=$(now)
        /usr/bin/time -f '%U %S' -o "$RES/ceiling.time" \
            "${CURL[@]}" -o /dev/null -w '%{size_download}' \
            "$BASE/big.bin" >"$RES/ceiling.out" &
        local cpid=$!
        dd if="$FMNT/file" of=/dev/null bs=1M 2>"$RES/dd.err" || die "floor: read failed"
        wait "$cpid" || die "curl failed beside the floor"
        t1=$(now)
        c1=$(cpu_ticks "$FPID")
        [ "$(dd_bytes "$RES/dd.err")" = "$BYTES" ] || die "floor: short read"
        got=$(cat "$RES/ceiling.out")
        cpu=$(calc "($c1 - $c0) / $CLK_TCK + $(awk '{ print $1 + $2 }' "$RES/ceiling.time")")
    elif [ "$tool" = curl ]; then
        # curl's own transfer time (connect to last byte): its start-up
        # is not part of the line rate.
        /usr/bin/time -f '%U %S %M' -o "$RES/curl.time" \
            "${CURL[@]}" -o /dev/null -w '%{size_download} %{time_total}\n' \
            "$BASE/big.bin" >"$RES/curl.out"
        read -r got t1 <"$RES/curl.out"
        t0=0
        cpu=$(awk '{ print $1 + $2 }' "$RES/curl.time")
        awk '{ print $3 }' "$RES/curl.time" >>"$RES/curl.hwm"
    else
        local pid
        case $tool in zoomfs) pid=$ZPID ;; zoomfs-pc) pid=$PCPID ;; rclone) pid=$RPID ;; floor) pid=$FPID ;; esac
        c0=$(cpu_ticks "$pid")
        t0=$(now)
        dd if="${PATHS[$tool:big]}" of=/dev/null bs="$(cat_bs "${PATHS[$tool:big]}")" 2>"$RES/dd.err" ||
            { cat "$RES/dd.err" >&2; die "$tool: read failed"; }
        t1=$(now)
        c1=$(cpu_ticks "$pid")
        got=$(dd_bytes "$RES/dd.err")
        cpu=$(calc "($c1 - $c0) / $CLK_TCK")
    fi
    [ "$got" = "$BYTES" ] || die "$tool read $got bytes, expected $BYTES"
    calc "$BYTES / ($t1 - $t0) / 1e6" >>"$RES/$tool.mbps"
    calc "$cpu * $GIB / $BYTES" >>"$RES/$tool.cpu"
    printf '  %-6s %8.0f MB/s  %6.2f CPU s/GiB\n' "$tool" \
        "$(tail -n 1 "$RES/$tool.mbps")" "$(tail -n 1 "$RES/$tool.cpu")" >&2
}

# par_run TOOL: the four files at the same time; appends the aggregate MB/s.
par_run() {
    local tool=$1 t0 t1 i pids=() got
    drop_caches
    t0=$(now)
    for i in 1 2 3 4; do
        if [ "$tool" = ceiling ]; then
            # four curls and four reads of the floor, all at once
            dd if="$FMNT/file" of=/dev/null bs=1M iflag=count_bytes count="$PAR_BYTES" \
                2>"$RES/floor$i.err" &
            pids+=($!)
        fi
        if [ "$tool" = curl ] || [ "$tool" = ceiling ]; then
            "${CURL[@]}" -o /dev/null -w '%{size_download}' "$BASE/par$i.bin" \
                >"$RES/par$i.out" &
        else
            dd if="${PATHS[$tool:par$i]}" of=/dev/null bs="$(cat_bs "${PATHS[$tool:par$i]}")" \
                2>"$RES/par$i.err" &
        fi
        pids+=($!)
    done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || die "$tool: a parallel read failed"; done
    t1=$(now)
    for i in 1 2 3 4; do
        case $tool in
            curl) got=$(cat "$RES/par$i.out") ;;
            ceiling)
                got=$(cat "$RES/par$i.out")
                [ "$(dd_bytes "$RES/floor$i.err")" = "$PAR_BYTES" ] || die "floor: short parallel read"
                ;;
            *) got=$(dd_bytes "$RES/par$i.err") ;;
        esac
        [ "$got" = "$PAR_BYTES" ] || die "$tool read $got bytes of par$i, expected $PAR_BYTES"
    done
    calc "4 * $PAR_BYTES / ($t1 - $t0) / 1e6" >>"$RES/$tool.par"
    printf '  %-6s %8.0f MB/s aggregate (4 readers)\n' "$tool" "$(tail -n 1 "$RES/$tool.par")" >&2
}

# rand_run TOOL: RANDN random 4 KiB reads, each on a fresh open (curl: a
# fresh connection and a Range GET each); latencies (ms) to $RES/TOOL.rand.
rand_run() {
    local tool=$1 off out
    drop_caches
    if [ "$tool" = curl ]; then
        for off in $("$PYTHON" "$ROOT/bench/randread.py" offsets "$BYTES" "$RANDN"); do
            out=$("${CURL[@]}" -o /dev/null -r "$off-$((off + 4095))" \
                -w '%{http_code} %{size_download} %{time_total}' "$BASE/big.bin")
            set -- $out
            [ "$1" = 206 ] && [ "$2" = 4096 ] || die "curl: Range GET answered $out"
            calc "$3 * 1000" >>"$RES/curl.rand"
        done
    else
        "$PYTHON" "$ROOT/bench/randread.py" read "${PATHS[$tool:big]}" "$RANDN" >"$RES/$tool.rand"
    fi
}

TOOLS=(curl zoomfs zoomfs-pc rclone)
BOUNDS=(floor ceiling)
# Interleaved (curl, zoomfs, zoomfs-pc, rclone, floor, ceiling, curl, ...)
# so that load from elsewhere on the machine falls on all of them alike.
for run in $(seq "$RUNS"); do
    echo "sequential run $run/$RUNS ($BYTES bytes)" >&2
    for t in "${TOOLS[@]}" "${BOUNDS[@]}"; do seq_run "$t"; done
done
echo "random 4 KiB reads ($RANDN each)" >&2
for t in "${TOOLS[@]}"; do rand_run "$t"; done
for run in $(seq "$RUNS"); do
    echo "parallel run $run/$RUNS (4 x $PAR_BYTES bytes)" >&2
    for t in "${TOOLS[@]}" ceiling; do par_run "$t"; done
done
ZHWM=$(status_kb "$ZPID" VmHWM)
PHWM=$(status_kb "$PCPID" VmHWM)
RHWM=$(status_kb "$RPID" VmHWM)
CHWM=$(summary <"$RES/curl.hwm" | awk '{ print $3 }')
unmount "$ZMNT" "$ZPID"
unmount "$PMNT" "$PCPID"
unmount "$RMNT" "$RPID"
unmount "$FMNT" "$FPID"
# zoomfs's bytes came from nginx (through the sim's 302), not the sim's CDN.
[ "$(calls 'GET /rec/download/{fileKey}')" -gt 0 ] || die "zoomfs never asked for a download_url"
[ "$(calls 'GET /cdn/{fileKey}')" = 0 ] || die "zoomfs read from the sim's CDN, not nginx"

# -- instructions per GiB: zoomfs under callgrind, counters zeroed after the
# mount and the lookup, dumped after reading cg.bin ------------------------------
echo "instructions: zoomfs under callgrind reading $CG_BYTES bytes" >&2
CMNT=$TMP/callgrind
zoomfs_mount "$CMNT" valgrind --tool=callgrind --callgrind-out-file="$TMP/callgrind.out" \
    --log-file="$TMP/valgrind.log"
CPID=$ZFS_PID
CGF=$(zfile "$CMNT" cg.bin)
stat "$CGF" >/dev/null
callgrind_control -z "$CPID" >>"$TMP/callgrind_control.log" 2>&1 || die "callgrind_control -z failed"
drop_caches
dd if="$CGF" of=/dev/null bs="$(cat_bs "$CGF")" 2>"$RES/cg.err" || die "zoomfs under callgrind: read failed"
[ "$(dd_bytes "$RES/cg.err")" = "$CG_BYTES" ] || die "zoomfs under callgrind: short read"
callgrind_control -d "$CPID" >>"$TMP/callgrind_control.log" 2>&1 || die "callgrind_control -d failed"
IR=$(awk '/^summary:/ { print $2 }' "$TMP"/callgrind.out.*[0-9] 2>/dev/null | tail -n 1)
[ -n "$IR" ] || die "no callgrind dump"
unmount "$CMNT" "$CPID"

# -- the table ---------------------------------------------------------------------
read -r CMED _ <<<"$(summary <"$RES/curl.mbps")"
read -r CPAR _ <<<"$(summary <"$RES/curl.par")"
fmt_mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }

echo
echo "zoomfs read benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, Linux $(uname -r)"
echo "zoomfs $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), $(nginx -v 2>&1 | sed 's/.*: //')," \
    "$(rclone version 2>/dev/null | sed -n 1p), $(curl --version | sed -n 1p | cut -d' ' -f1-2)"
echo "file: $BYTES bytes over $SCHEME; $RUNS runs; page cache dropped before every read; MB/s = 10^6 bytes/s"
echo "zoomfs: its defaults; zoomfs-pc: -o page_cache"
echo
printf '| %-10s | %-26s | %-7s | %-9s | %-8s | %-21s |\n' reader "MB/s median (min-max)" "vs curl" \
    "CPU s/GiB" "peak RSS" "4 KiB read ms med/p90"
printf '|%s|%s|%s|%s|%s|%s|\n' ------------ ---------------------------- --------- ----------- ---------- -----------------------
for t in "${TOOLS[@]}"; do
    read -r med min max _ <<<"$(summary <"$RES/$t.mbps")"
    read -r cpu _ <<<"$(summary <"$RES/$t.cpu")"
    read -r rmed _ _ rp90 <<<"$(summary <"$RES/$t.rand")"
    case $t in curl) hwm=$CHWM ;; zoomfs) hwm=$ZHWM ;; zoomfs-pc) hwm=$PHWM ;; rclone) hwm=$RHWM ;; esac
    printf '| %-10s | %-26s | %-7s | %-9s | %-8s | %-21s |\n' "$t" \
        "$(printf '%.0f (%.0f-%.0f)' "$med" "$min" "$max")" \
        "$(printf '%.2f' "$(calc "$med / $CMED")")" "$(printf '%.2f' "$cpu")" "$(fmt_mib "$hwm")" \
        "$(printf '%.2f / %.2f' "$rmed" "$rp90")"
done
echo
printf '| %-10s | %-34s | %-7s |\n' reader "4 parallel readers: aggregate MB/s" "vs curl"
printf '|%s|%s|%s|\n' ------------ ------------------------------------ ---------
for t in "${TOOLS[@]}"; do
    read -r med min max _ <<<"$(summary <"$RES/$t.par")"
    printf '| %-10s | %-34s | %-7s |\n' "$t" "$(printf '%.0f (%.0f-%.0f)' "$med" "$min" "$max")" \
        "$(printf '%.2f' "$(calc "$med / $CPAR")")"
done
echo
# The bounds: what the FUSE protocol costs by itself (the floor), and the
# most a FUSE reader of this URL can reach here (curl and the floor at once).
read -r FMED FMIN FMAX _ <<<"$(summary <"$RES/floor.mbps")"
read -r FCPU _ <<<"$(summary <"$RES/floor.cpu")"
read -r XMED XMIN XMAX _ <<<"$(summary <"$RES/ceiling.mbps")"
read -r XCPU _ <<<"$(summary <"$RES/ceiling.cpu")"
read -r XPAR XPMIN XPMAX _ <<<"$(summary <"$RES/ceiling.par")"
printf '| %-38s | %-26s | %-7s | %-9s |\n' bound "MB/s median (min-max)" "vs curl" "CPU s/GiB"
printf '|%s|%s|%s|%s|\n' ---------------------------------------- ---------------------------- --------- -----------
printf '| %-38s | %-26s | %-7s | %-9s |\n' "FUSE alone (fuse_floor, from memory)" \
    "$(printf '%.0f (%.0f-%.0f)' "$FMED" "$FMIN" "$FMAX")" "-" "$(printf '%.2f' "$FCPU")"
printf '| %-38s | %-26s | %-7s | %-9s |\n' "curl and fuse_floor at once" \
    "$(printf '%.0f (%.0f-%.0f)' "$XMED" "$XMIN" "$XMAX")" \
    "$(printf '%.2f' "$(calc "$XMED / $CMED")")" "$(printf '%.2f' "$XCPU")"
printf '| %-38s | %-26s | %-7s | %-9s |\n' "4 curls and 4 fuse_floor reads at once" \
    "$(printf '%.0f (%.0f-%.0f)' "$XPAR" "$XPMIN" "$XPMAX")" \
    "$(printf '%.2f' "$(calc "$XPAR / $CPAR")")" "-"
echo
printf 'zoomfs: %.2f x 10^9 instructions/GiB (user space, callgrind, %s read)\n' \
    "$(calc "$IR * $GIB / $CG_BYTES / 1e9")" "$(fmt_mib $((CG_BYTES / 1024)))"
