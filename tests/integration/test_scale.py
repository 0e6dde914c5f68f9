"""Big folders and rate limits: the objects of a listing are fetched ahead
of `ls -l`, N at a time, with the same request count as one by one; a
per-second limit slows every request down instead of failing any; a daily
limit that runs low stops fetching ahead.

Concurrency is read from zoomsim's high-water mark of requests served at
once (--latency makes them overlap, as Zoom's 100-300 ms do), not timed."""

import os
import re

from .util import Sim, pages, run

MEETINGS = 120
GET_MEETING = "GET /meetings/{meetingId}"
LIST_MEETINGS = "GET /users/{userId}/meetings"


def stat_value(m, name):
    text = m.path(".zoomfs", "stats").read_text()
    found = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(found.group(1)) if found else 0


def meetings_dir(s, m):
    user = s.users()[0]
    return m.path("users", user["email"], "meetings")


def ls_l(folder):
    """The sizes ls -l shows, of the meeting files (not of the folders of
    registrants and occurrences beside them)."""
    names = sorted(os.listdir(folder))
    return {n: os.lstat(folder / n).st_size for n in names if n.endswith(".json")}


def test_ls_l_fetches_a_big_folder_8_at_a_time(make_sim, make_mount):
    s = make_sim(["--users", "1", "--meetings", str(MEETINGS), "--instances", "0",
                  "--latency", "20"])
    m = make_mount(s)
    folder = meetings_dir(s, m)
    os.lstat(folder)
    s.reset()
    sizes = ls_l(folder)
    assert len(sizes) == MEETINGS and all(v > 0 for v in sizes.values())
    c = s.counters()
    # the same requests as one by one: the pages and one GET per meeting
    assert Sim.count(c, LIST_MEETINGS) == pages(MEETINGS)
    assert Sim.count(c, GET_MEETING) == MEETINGS, c
    peak = s.request("GET", "/_sim/concurrency")["max_in_flight"]
    assert 4 <= peak <= 8 + 1, peak  # parallel, and bounded (8 workers + the reader)
    assert stat_value(m, "prefetched") >= MEETINGS // 2
    # each size is the length of what cat reads
    for name in list(sizes)[:5]:
        assert len((folder / name).read_bytes()) == sizes[name]


def test_prefetch_0_fetches_only_what_is_asked(make_sim, make_mount):
    s = make_sim(["--users", "1", "--meetings", "40", "--instances", "0", "--latency", "5"])
    m = make_mount(s, opts={"prefetch": "0"})
    folder = meetings_dir(s, m)
    os.lstat(folder)
    s.reset()
    ls_l(folder)
    assert Sim.count(s.counters(), GET_MEETING) == 40
    assert s.request("GET", "/_sim/concurrency")["max_in_flight"] == 1
    assert stat_value(m, "prefetched") == 0


def test_a_few_reads_do_not_fetch_the_whole_folder(make_sim, make_mount):
    s = make_sim(["--users", "1", "--meetings", "60", "--instances", "0"])
    m = make_mount(s)
    folder = meetings_dir(s, m)
    names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    s.reset()
    for n in names[:2]:  # cat of two files is not a walk of the folder
        (folder / n).read_bytes()
    assert Sim.count(s.counters(), GET_MEETING) == 2


def test_a_per_second_limit_slows_everyone_down_and_fails_nobody(make_sim, make_mount):
    s = make_sim(["--users", "1", "--meetings", str(MEETINGS), "--instances", "0",
                  "--latency", "10", "--qps", "25"])
    m = make_mount(s)
    folder = meetings_dir(s, m)
    os.lstat(folder)
    s.reset()
    sizes = ls_l(folder)  # raises if any stat failed
    assert len(sizes) == MEETINGS
    c = s.counters()
    assert Sim.count(c, GET_MEETING, "200") == MEETINGS
    throttled = Sim.count(c, GET_MEETING, "429")
    # one 429 pauses every worker, not only the one that met it
    assert 0 < throttled <= MEETINGS // 4, c
    assert stat_value(m, "rate_limit_waits") == throttled
    assert m.path(".zoomfs", "errors").read_text() == ""


def test_a_daily_limit_running_low_stops_fetching_ahead(make_sim, make_mount):
    s = make_sim(["--users", "1", "--meetings", "60", "--instances", "0", "--latency", "5"])
    m = make_mount(s)
    folder = meetings_dir(s, m)
    os.lstat(folder)
    # what zoomsim reports in X-RateLimit-Remaining: 1% of the day left
    s.config(daily_spent=29700)
    s.reset()
    ls_l(folder)
    assert Sim.count(s.counters(), GET_MEETING) == 60  # every stat still answered
    assert s.request("GET", "/_sim/concurrency")["max_in_flight"] == 1
    assert stat_value(m, "prefetched") == 0


def gauges(m):
    text = m.path(".zoomfs", "stats").read_text()
    return {k: int(v) for k, v in
            re.findall(r"^(rss_bytes|inodes|cache_bytes|cache_entries) (\d+)$", text, re.M)}


def test_memory_does_not_grow_with_the_paths_visited(make_sim, make_mount):
    """A walk of a big account: the kernel's entries stay under max_inodes,
    the cache under cache_mb, and resident memory stops growing once the
    cache is full (an unbounded cache would add ~750 bytes a path; the
    sanitizer's allocator alone adds ~200). find stats no file, but the walk of
    meetings/registrants/ fetches each meeting: without fetching ahead, so that
    the allocator caches of the 8 workers (a fixed cost, and noisy) are not
    counted as a cost per path; the pool's own bound is tested above."""
    s = make_sim(["--users", "450", "--seed", "3", "--months", "12", "--meetings", "3",
                  "--instances", "6", "--webinar-users", "0"])
    m = make_mount(s, opts={"max_inodes": "1500", "cache_mb": "8", "prefetch": "0"},
                   env={"ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1:quarantine_size_mb=0"})
    users = m.path("users")
    emails = sorted(os.listdir(users))
    third = len(emails) // 3

    def walk(part):
        cp = run(["find"] + [str(users / e) for e in part], timeout=600)
        return cp.stdout.count(b"\n")

    first = walk(emails[:third])
    g1 = gauges(m)
    rest = walk(emails[third:])
    g2 = gauges(m)
    assert first + rest > 20000, (first, rest)
    assert g2["cache_bytes"] <= 8 << 20
    assert g2["inodes"] <= 1500 + 1500 // 10, g2  # the worker trims in batches
    growth = (g2["rss_bytes"] - g1["rss_bytes"]) / rest
    assert growth < 400, "%.0f bytes a path (%s -> %s)" % (growth, g1, g2)


# --------------------------------------------------------------------------
# A walk across users (rsync -a users/, find, ls -R): what it asked of one
# user's folder is asked ahead of it of the next users, 8 users at a time,
# with the same requests as without.

def api_counts(s):
    """The API requests zoomsim served, by route (not the token's, nor the CDN's)."""
    return {route: sum(by.values()) for route, by in s.counters().items()
            if not route.startswith(("POST /oauth", "GET /cdn", "GET /rec/"))}


def walk_twice(make_sim, make_mount, tmp_path, command, opts=None, meetings=2):
    """Runs command (with {src} and {dst}) over users/ of a fresh mount of
    one account, one by one (prefetch=0) and then with the default; returns
    both mounts' API requests, the peaks of requests at once and the second
    mount."""
    s = make_sim(["--users", "14", "--seed", "71", "--meetings", str(meetings),
                  "--instances", "2", "--months", "3", "--file-size", "4096", "--latency", "20"])
    found = []
    for i, extra in enumerate([{"prefetch": "0"}, {}]):
        o = dict(opts or {})
        o.update(extra)
        m = make_mount(s, opts=o)
        os.listdir(m.path("users"))
        s.reset()
        dst = tmp_path / ("dst%d" % i)
        dst.mkdir()
        run([a.format(src=m.path("users"), dst=dst) for a in command], timeout=600)
        found.append((api_counts(s), s.request("GET", "/_sim/concurrency")["max_in_flight"], m))
    return found


def test_rsync_across_users_is_fetched_ahead_with_the_same_requests(make_sim, make_mount,
                                                                    tmp_path):
    (alone, alone_peak, _), (ahead, peak, m) = walk_twice(
        make_sim, make_mount, tmp_path, ["rsync", "-a", "{src}/", "{dst}/"])
    assert alone_peak == 1
    assert ahead == alone, (ahead, alone)
    # Listed in byte order, the order rsync and find go in (Zoom's puts
    # each status apart: active, inactive, pending).
    names = os.listdir(m.path("users"))
    assert names == sorted(names, key=os.fsencode), names
    for route in ("GET /users/{userId}", "GET /users/{userId}/settings",
                  "GET /users/{userId}/meetings", "GET /users/{userId}/recordings"):
        assert alone.get(route, 0) >= 10, (route, alone)  # 12 of 14 users have an id
    assert stat_value(m, "walked_ahead") >= 14 // 2
    assert 3 <= peak <= 8 + 1, peak


def test_a_walk_that_stats_each_meeting_fetches_the_next_users_meetings(make_sim, make_mount,
                                                                        tmp_path):
    """find -size stats each meeting file: the next users' meetings are
    fetched ahead too. Two a user: a folder's own fetching ahead (after the
    third) never starts, and find goes into no occurrences folder."""
    (alone, _, _), (ahead, peak, m) = walk_twice(
        make_sim, make_mount, tmp_path,
        ["find", "{src}", "-mindepth", "3", "-maxdepth", "3", "-path", "*/meetings/*.json",
         "-size", "+0"])
    assert ahead == alone, (ahead, alone)
    assert alone.get("GET /meetings/{meetingId}", 0) == 12 * 2, alone
    assert stat_value(m, "prefetched") >= 12 * 2 // 2, stat_value(m, "prefetched")
    assert peak >= 3


def test_a_walk_that_stats_no_file_fetches_no_file_ahead(make_sim, make_mount, tmp_path):
    """ls -R lists folders and stats nothing: no user.json is fetched for it,
    ahead or not; the folders' own listings are."""
    (alone, _, _), (ahead, peak, m) = walk_twice(
        make_sim, make_mount, tmp_path, ["ls", "-R", "{src}"])
    assert ahead == alone, (ahead, alone)
    assert alone.get("GET /users/{userId}", 0) == 0, alone
    assert stat_value(m, "walked_ahead") >= 14 // 2 and peak >= 3


def test_a_walk_into_recording_folders_fetches_the_next_users_attendance(make_sim, make_mount,
                                                                         tmp_path):
    """Listing a recording's folder asks Zoom for its participants and polls:
    a walk that lists them has the next users' fetched ahead too. No
    meetings: nothing else is fetched ahead of the walk's stats."""
    (alone, _, _), (ahead, peak, m) = walk_twice(
        make_sim, make_mount, tmp_path, ["find", "{src}", "-name", "participants.json"],
        meetings=0)
    assert ahead == alone, (ahead, alone)
    reports = alone.get("GET /past_meetings/{meetingId}/participants", 0)
    assert reports >= 12 * 2 // 2, alone  # those Zoom still reports (a year at most)
    assert stat_value(m, "prefetched") >= reports // 2, stat_value(m, "prefetched")
    assert peak >= 3


def test_a_walk_that_stats_each_occurrence_fetches_the_next_users_occurrences(make_sim,
                                                                              make_mount,
                                                                              tmp_path):
    """find -size into occurrences/: each occurrence to come is a GET of its
    own (6 a user here), and the next users' are fetched ahead of the walk
    too. A folder's own fetching ahead starts after its third occurrence
    and fetches about half of them (50 of 84 GETs measured); with the walk
    followed, every user's after the second are fetched ahead (94)."""
    (alone, _, _), (ahead, peak, m) = walk_twice(
        make_sim, make_mount, tmp_path,
        ["find", "{src}", "(", "-name", "recordings", "-o", "-name", "registrants", ")", "-prune",
         "-o", "-path", "*/occurrences/*/*.json", "-size", "+0", "-print"], meetings=3)
    assert ahead == alone, (ahead, alone)
    gets = alone.get("GET /meetings/{meetingId}", 0)  # each series, each occurrence
    assert gets >= 12 * 4, alone
    assert stat_value(m, "prefetched") >= gets * 3 // 4, (stat_value(m, "prefetched"), gets)
    assert peak >= 3


def test_a_walk_slower_than_the_ttl_is_not_fetched_ahead(make_sim, make_mount, tmp_path):
    """Fetched further ahead than the walk gets within the ttl, objects
    would be fetched twice; a walk that takes a second a user with attr_ttl=1
    is fetched ahead of by no one."""
    script = ("for u in {src}/*/; do ls \"$u\" >/dev/null; stat -c %s \"$u\"user.json; "
              "sleep 0.6; done")
    (alone, _, _), (ahead, _, m) = walk_twice(
        make_sim, make_mount, tmp_path, ["sh", "-c", script, "{dst}"],
        opts={"attr_ttl": "1", "dir_ttl": "1"})
    assert ahead == alone, (ahead, alone)
    assert stat_value(m, "walked_ahead") == 0
