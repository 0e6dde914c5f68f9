#!/usr/bin/env bash
# Metadata benchmark: zoomfs against zoomsim on big accounts. Measures
#   1. `ls users/` of a big account: time, API calls, RSS;
#   2. `find users -maxdepth 3` over two account sizes: time, calls, peak RSS
#      and bytes of RSS per visited path;
#   3. a nightly backup run twice: `rsync -a users/ dest/`, unmount, mount,
#      the same rsync again: the recordings-list calls and all calls of each;
#   4. `ls -l meetings/` of one user with many meetings against curl doing
#      the same GETs 8 at a time: the time ratio;
#   5. the nightly backup of 3. at Zoom's latency (zoomsim --latency), once
#      with -o prefetch=0 (every request as the walk meets it) and once with
#      the defaults (users' folders fetched ahead of the walk): time, API
#      calls, requests at once.
# Each case mounts afresh. See bench/README.md.
#
#   bench/metadata.sh [--quick]      (--quick: small accounts, under a minute)
#
# Needs root, /dev/fuse, rsync, curl, jq. Uses $ZOOMFS_BIN or
# build-bench/zoomfs (a release build, made when missing). BENCH_KEEP=1
# keeps the temp dir and its logs.
set -Eeuo pipefail
. "$(dirname "$0")/lib.sh"

QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
if [ "$QUICK" = 1 ]; then
    LS_USERS=(300 1000) # find over both, ls users/ at the last
    NIGHTLY=(--users 5 --months 3 --instances 5)
    MEETINGS=100
    WALK=(--users 6 --months 2 --instances 2 --meetings 3 --latency 50)
else
    LS_USERS=(3000 10000)
    NIGHTLY=(--users 30 --months 14 --instances 30)
    MEETINGS=1000
    WALK=(--users 40 --months 6 --instances 6 --meetings 5 --latency 100)
fi

need_root
need_cmd rsync curl jq fusermount3 mountpoint find
bench_tmp
zoomfs_build
MNT=$TMP/mnt
OUT=$TMP/results
mkdir -p "$OUT"
# Listings cost metadata only: small files keep the rsync short.
SMALL=(--file-size 65536)

mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
secs() { printf '%.2f s' "$(calc "$2 - $1")"; }

# -- 1 and 2: ls users/ and find -maxdepth 3 -------------------------------------
printf '| %-6s | %-8s | %-18s | %-9s | %-14s | %-8s | %-10s | %-13s | %-11s |\n' \
    users "ls users" "calls (GET /users)" "RSS" "find depth 3" paths "find calls" "find peak RSS" "bytes/path" \
    >"$OUT/users.md"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------- ---------- -------------------- ----------- \
    ---------------- ---------- ------------ --------------- ------------- >>"$OUT/users.md"
for n in "${LS_USERS[@]}"; do
    echo "users: $n" >&2
    sim_start "users$n" --users "$n" "${SMALL[@]}"
    zoomfs_mount "$MNT"
    rss0=$(status_kb "$ZFS_PID" VmRSS)
    sim_reset
    t0=$(now)
    ls "$MNT/users/" >"$OUT/ls.out"
    t1=$(now)
    [ "$(wc -l <"$OUT/ls.out")" = "$n" ] || die "ls users/ shows $(wc -l <"$OUT/ls.out") of $n users"
    ls_calls=$(calls '*')
    ls_list=$(calls 'GET /users')
    ls_rss=$(status_kb "$ZFS_PID" VmRSS)
    sim_reset
    t2=$(now)
    find "$MNT/users" -maxdepth 3 >"$OUT/find.out" 2>"$OUT/find.err" || true
    t3=$(now)
    [ -s "$OUT/find.err" ] && echo "  find reported $(wc -l <"$OUT/find.err") errors, e.g.: $(head -n 1 "$OUT/find.err")" >&2
    paths=$(wc -l <"$OUT/find.out")
    find_calls=$(calls '*')
    hwm=$(status_kb "$ZFS_PID" VmHWM)
    printf '| %-6s | %-8s | %-18s | %-9s | %-14s | %-8s | %-10s | %-13s | %-11s |\n' "$n" \
        "$(secs "$t0" "$t1")" "$ls_calls ($ls_list)" "$(mib "$ls_rss")" "$(secs "$t2" "$t3")" \
        "$paths" "$find_calls" "$(mib "$hwm")" \
        "$(awk -v h="$hwm" -v r="$rss0" -v p="$paths" 'BEGIN { printf "%.0f", (h - r) * 1024 / p }')" \
        >>"$OUT/users.md"
    tail -n 1 "$OUT/users.md" >&2
    unmount "$MNT" "$ZFS_PID"
    sim_stop
done

# -- 3: the nightly backup, twice --------------------------------------------------
echo "nightly: ${NIGHTLY[*]}" >&2
sim_start nightly "${NIGHTLY[@]}" "${SMALL[@]}"
DEST=$TMP/dest
mkdir -p "$DEST"
printf '| %-3s | %-8s | %-8s | %-11s | %-18s | %-9s | %-9s |\n' run time "rsync rc" "transferred" \
    "recordings lists" downloads "all calls" >"$OUT/nightly.md"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ----- ---------- ---------- ------------- -------------------- \
    ----------- ----------- >>"$OUT/nightly.md"
for run in 1 2; do
    zoomfs_mount "$MNT" # the same private HOME: ledger and caches survive
    sim_reset
    t0=$(now)
    rc=0
    rsync -a --stats "$MNT/users/" "$DEST/" >"$OUT/rsync$run.log" 2>&1 || rc=$?
    t1=$(now)
    [ "$rc" = 0 ] || echo "  rsync run $run exited $rc: $(tail -n 2 "$OUT/rsync$run.log" | tr '\n' ' ')" >&2
    printf '| %-3s | %-8s | %-8s | %-11s | %-18s | %-9s | %-9s |\n' "$run" "$(secs "$t0" "$t1")" "$rc" \
        "$(awk -F': ' '/^Number of regular files transferred/ { gsub(",", "", $2); print $2 }' "$OUT/rsync$run.log")" \
        "$(calls 'GET /users/{userId}/recordings')" "$(calls 'GET /rec/download/{fileKey}')" \
        "$(calls '*')" >>"$OUT/nightly.md"
    tail -n 1 "$OUT/nightly.md" >&2
    unmount "$MNT" "$ZFS_PID"
done
NFILES=$(find "$DEST" -type f | wc -l)
sim_stop

# -- 4: ls -l meetings/ against curl, 8 at a time ------------------------------------
echo "meetings: $MEETINGS" >&2
sim_start meetings --users 1 --meetings "$MEETINGS" --instances 1 --months 1 "${SMALL[@]}"
read -r UID0 EMAIL0 <<<"$(sim_get '/_sim/account?user=me' | jq -r '.users[0] | "\(.id) \(.email)"')"
zoomfs_mount "$MNT"
stat "$MNT/users/$EMAIL0/meetings" >/dev/null # the user's folder is looked up before the clock
sim_reset
t0=$(now)
ls -l "$MNT/users/$EMAIL0/meetings/" >"$OUT/meetings.out"
t1=$(now)
z_entries=$(grep -c '\.json$' "$OUT/meetings.out" || true)
z_pages=$(calls 'GET /users/{userId}/meetings')
z_gets=$(calls 'GET /meetings/{meetingId}')
z_all=$(calls '*')
# The list query zoomfs sent (page_size, type, ...), for curl to send the same.
LISTQ=$(sim_get '/_sim/log' | jq -r '[.[] | select(.route == "GET /users/{userId}/meetings")][0].query
    // {} | del(.next_page_token) | to_entries | map("\(.key)=\(.value | @uri)") | join("&")')
unmount "$MNT" "$ZFS_PID"

sim_token_header
sim_reset
t2=$(now)
: >"$OUT/ids"
next=""
while :; do
    q=$LISTQ${next:+&next_page_token=$(jq -rn --arg t "$next" '$t | @uri')}
    curl -sSf --noproxy '*' -H @"$TMP/auth.header" "$SIM_URL/v2/users/$UID0/meetings?$q" >"$OUT/page.json"
    jq -r '.meetings[].id' "$OUT/page.json" >>"$OUT/ids"
    next=$(jq -r '.next_page_token // ""' "$OUT/page.json")
    [ -n "$next" ] || break
done
sort -u "$OUT/ids" | sed "s|.*|url = \"$SIM_URL/v2/meetings/&\"\noutput = \"/dev/null\"|" >"$OUT/curl.cfg"
curl -sS --no-progress-meter --noproxy '*' --parallel --parallel-max 8 -H @"$TMP/auth.header" -w '%{http_code}\n' \
    -K "$OUT/curl.cfg" >"$OUT/curl.codes"
t3=$(now)
c_ids=$(sort -u "$OUT/ids" | wc -l)
[ "$(grep -c '^200$' "$OUT/curl.codes")" = "$c_ids" ] || die "curl: not every GET /meetings/{id} answered 200"
c_all=$(calls '*')
c_pages=$(calls 'GET /users/{userId}/meetings')
sim_stop

# -- 5: the nightly backup at Zoom's latency, one by one and fetched ahead ----------------
echo "walk: ${WALK[*]}" >&2
sim_start walk "${WALK[@]}" "${SMALL[@]}"
printf '| %-10s | %-7s | %-8s | %-9s | %-14s |\n' mount run time "API calls" "at once (peak)" \
    >"$OUT/walk.md"
printf '|%s|%s|%s|%s|%s|\n' ------------ --------- ---------- ----------- ---------------- >>"$OUT/walk.md"
for mode in prefetch=0 default; do
    home=$TMP/home-$mode dest=$TMP/dest-$mode
    mkdir -p "$home" "$dest"
    for run in first nightly; do
        # Each mode has its own HOME, so its own ledger and settled months.
        ZFS_OPTS=$([ "$mode" = default ] || echo "$mode") zoomfs_mount "$MNT" HOME="$home" \
            XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache"
        ls "$MNT/users" >/dev/null
        sim_reset
        w0=$(now)
        rsync -a "$MNT/users/" "$dest/" >"$OUT/walk-$mode-$run.log" 2>&1 ||
            die "rsync ($mode, $run) failed: $(tail -n 2 "$OUT/walk-$mode-$run.log" | tr '\n' ' ')"
        w1=$(now)
        api=$(sim_get /_sim/counters | jq '[to_entries[] | select(.key | test("^GET /(cdn|rec)/") | not)
            | .value[]] | add // 0')
        printf '| %-10s | %-7s | %-8s | %-9s | %-14s |\n' "$mode" "$run" "$(secs "$w0" "$w1")" "$api" \
            "$(sim_get /_sim/concurrency | jq .max_in_flight)" >>"$OUT/walk.md"
        tail -n 1 "$OUT/walk.md" >&2
        unmount "$MNT" "$ZFS_PID"
    done
done
sim_stop

# -- the tables ----------------------------------------------------------------------
echo
echo "zoomfs metadata benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')$([ "$QUICK" = 1 ] && echo ' (--quick)')"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, Linux $(uname -r)"
echo "zoomfs $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), against zoomsim; each case on a fresh mount"
echo
echo "ls users/ and find users -maxdepth 3 (RSS: VmRSS after ls; peak: VmHWM after find;"
echo "bytes/path: (peak - RSS after mounting) / paths find printed)"
echo
cat "$OUT/users.md"
echo
echo "nightly backup (${NIGHTLY[*]}): rsync -a users/ dest/, unmount, mount, again ($NFILES files)"
echo
cat "$OUT/nightly.md"
echo
echo "ls -l meetings/ of one user with $MEETINGS meetings vs curl (list pages, then every GET /meetings/{id}, 8 at a time)"
echo
printf '| %-6s | %-8s | %-7s | %-10s | %-14s | %-9s |\n' client time entries "list pages" \
    "GET /meetings" "all calls"
printf '|%s|%s|%s|%s|%s|%s|\n' -------- ---------- --------- ------------ ---------------- -----------
printf '| %-6s | %-8s | %-7s | %-10s | %-14s | %-9s |\n' zoomfs "$(secs "$t0" "$t1")" "$z_entries" \
    "$z_pages" "$z_gets" "$z_all"
printf '| %-6s | %-8s | %-7s | %-10s | %-14s | %-9s |\n' curl "$(secs "$t2" "$t3")" "$c_ids" \
    "$c_pages" "$c_ids" "$c_all"
printf '\nzoomfs / curl time: %.2f\n' "$(calc "($t1 - $t0) / ($t3 - $t2)")"
echo
echo "nightly backup at Zoom's latency (${WALK[*]}): rsync -a users/ dest/, unmount, mount, again;"
echo "API calls: all but the downloads; at once: most requests zoomsim served at the same time"
echo
cat "$OUT/walk.md"
