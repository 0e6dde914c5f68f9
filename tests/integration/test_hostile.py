"""Hostile servers, odd data and local misuse: a reader never gets wrong or
missing bytes as success, a listing is never cut or emptied silently, names
are always reachable and unique, the token goes only where it may, every
operation ends in bounded time, and the mount's life cycle is clean.

The emulator's --hostile data set (tests/zoomsim/README.md, "Hostile data")
adds users, meetings and recordings with bad strings, hostile ids and
download URLs; its faults (same_token, endless, empty_body, json_body,
trickle, stall_every, short_length) come through /_sim/faults.
"""

import errno
import hashlib
import json
import os
import signal
import stat
import subprocess
import time

import pytest

from .util import is_mounted, media_files, run, walk_instances

HOSTILE = ["--users", "3", "--seed", "31", "--meetings", "2", "--instances", "2",
           "--months", "1", "--file-size", "65536", "--hostile"]
SIM_ARGS = HOSTILE
MALLORY = "mallory.hostile@example.com"
CDN = "GET /cdn/{fileKey}"
DOWNLOAD = "GET /rec/download/{fileKey}"
RECORDINGS = "GET /users/{userId}/recordings"
USERS = "GET /users"

# Unicode that makes a name look other than it is.
SPOOFING = ("\u202e", "\u202d", "\u200b", "\u200c", "\u200d", "\u2066", "\ufeff", "\ufffd")


def safe_name(name):
    return (0 < len(name.encode()) <= 255 and "/" not in name and not name.startswith(".")
            and not any(ord(c) < 0x20 or ord(c) == 0x7f for c in name)
            and not any(c in name for c in SPOOFING))


def mallory_instances(mnt):
    return [idir for _, idir in walk_instances(mnt.path("users", MALLORY, "recordings"))]


def instance_by_topic(sim, topic):
    for user, inst, f in sim.files():
        if inst.get("topic") == topic:
            return inst, f
    raise AssertionError("no instance %r" % topic)


def media_of(mnt, inst):
    """The media file of an emulator instance in the mount, by its start."""
    for idir in mallory_instances(mnt):
        rec = json.loads((idir / "recording.json").read_bytes())
        if rec.get("uuid") == inst["uuid"]:
            files = media_files(idir)
            assert files, idir
            return files[0]
    raise AssertionError("instance %s not in the mount" % inst["uuid"])


def read_errno(path, size=4096):
    try:
        with open(path, "rb") as f:
            f.read(size)
    except OSError as e:
        return e.errno
    return 0


# --------------------------------------------------------------------------
# names: always reachable, unique and safe


def test_hostile_users_are_listed_with_safe_unique_names(sim, mnt):
    names = os.listdir(mnt.path("users"))
    assert len(names) == len(set(names))
    assert all(safe_name(n) for n in names), [n for n in names if not safe_name(n)]
    # Two users with one email, a 312-byte email, ESC and newline: all there.
    emails = [u["email"] for u in sim.users()]
    assert len(names) == len(emails), (sorted(names), emails)
    assert sum(n.startswith("duplicate@example.com") for n in names) == 2
    found = run(["find", str(mnt.path("users")), "-maxdepth", "2"], check=False)
    assert found.returncode == 0 and found.stderr == b"", found.stderr[-2000:]
    for n in names:
        os.stat(mnt.path("users", n, "user.json"))


def test_meetings_with_ids_that_cannot_be_names_are_left_out(sim, mnt):
    folder = mnt.path("users", MALLORY, "meetings")
    names = os.listdir(folder)
    mallory = next(u for u in sim.users() if u["email"] == MALLORY)
    ids = [m["id"] for m in sim.account()["meetings"][mallory["id"]]]
    numeric = {"%d.json" % i for i in ids if isinstance(i, int)}
    assert set(names) == numeric | {"occurrences", "registrants"}, (names, ids)
    for n in names:  # every listed name answers stat
        st = os.stat(folder / n)
        assert st.st_size > 0 or (n in ("occurrences", "registrants")
                                  and stat.S_ISDIR(st.st_mode))
    assert "left out an entry" in mnt.read_log()


def test_hostile_recordings_list_with_safe_distinct_names(sim, mnt):
    instances = mallory_instances(mnt)
    names = [p.name for p in instances]
    assert len(names) == len(set(names))
    assert all(safe_name(n) for n in names), [n for n in names if not safe_name(n)]
    # Every bad string (NUL, lone surrogate, raw 0xFF) and every spoofing
    # topic is there: one bad string hides nothing.
    topics = {json.loads((p / "recording.json").read_bytes())["topic"] for p in instances}
    assert "Twin recording" in topics and "Budget \u202efdp.exe" in topics
    assert len([n for n in names if "Twin recording" in n]) == 2
    found = run(["find", str(mnt.path("users", MALLORY)), "-ls"], check=False)
    assert found.returncode == 0 and found.stderr == b"", found.stderr[-2000:]


def test_sizes_past_int64_neither_overflow_nor_hide(sim, mnt):
    largest, _ = instance_by_topic(sim, "Largest int64")
    p = media_of(mnt, largest)
    st = os.stat(p)
    assert st.st_size == 2**63 - 1
    assert st.st_blocks == (2**63 - 1 + 511) // 512
    larger, _ = instance_by_topic(sim, "Larger than int64")
    p = media_of(mnt, larger)  # listed, with the size the CDN tells
    assert 0 < os.stat(p).st_size < 2**63
    du = run(["du", "-sb", str(mnt.path("users", MALLORY, "recordings"))])
    total = du.stdout.split()[0]  # GNU du says "Infinity" past its own int64
    assert total == b"Infinity" or int(total) >= 2**63 - 1, du.stdout


# --------------------------------------------------------------------------
# the token goes only where it may


@pytest.mark.parametrize("topic", [
    "Download from another https host",
    "Download over http from a public address",
    "Download with user and password in the URL",
    "Redirect to a file URL",
    "Redirect to ftp",
    "Redirect to http on a public address",
])
def test_hostile_download_urls_are_refused_at_once(sim, mnt, topic):
    inst, f = instance_by_topic(sim, topic)
    p = media_of(mnt, inst)
    mark = sim.mark()
    t0 = time.monotonic()
    assert read_errno(p) == errno.EACCES
    assert time.monotonic() - t0 < 3, "refused only after retries"
    # No token reached a URL it must not: nothing at all, or only the
    # download_url hop of a redirect that was then refused.
    sent = [e for e in sim.log(mark) if e["route"] in (DOWNLOAD, CDN)]
    assert all(e["route"] == DOWNLOAD for e in sent), sent
    if topic.startswith("Download"):
        assert sent == [], sent


def test_a_download_access_token_in_the_url_is_not_logged(sim, mnt):
    inst, f = instance_by_topic(sim, "Download URL with a download_access_token")
    p = media_of(mnt, inst)
    with open(p, "rb") as fh:
        assert fh.read(16)
    log = mnt.read_log()
    assert "download_access_token=***" in log or "download_access_token" not in log
    # the log checker of every test also fails on any eyJ… token


# --------------------------------------------------------------------------
# listings are never cut or emptied silently


def test_a_repeating_page_token_ends_the_listing_with_eio(make_sim, make_mount):
    s = make_sim(["--users", "700", "--seed", "32", "--meetings", "1", "--instances", "0"])
    m = make_mount(s)
    s.fault(USERS, "same_token", count=100000)
    mark = s.mark()
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        os.listdir(m.path("users"))
    assert e.value.errno == errno.EIO
    assert time.monotonic() - t0 < 10
    # two pages of each status listing: the second repeats the token
    assert len([x for x in s.log(mark) if x["route"] == USERS]) <= 6
    assert "a page token that came before" in m.read_log()
    s.clear_faults()
    assert len(os.listdir(m.path("users"))) == 700


def test_endless_pages_end_with_eio_in_bounded_requests_and_memory(make_sim, make_mount):
    s = make_sim(["--users", "2", "--seed", "33", "--instances", "3", "--months", "1"])
    m = make_mount(s)
    s.fault(RECORDINGS, "endless", count=100000)
    user = s.users()[0]
    month = time.strftime("%Y-%m", time.gmtime())
    mark = s.mark()
    with pytest.raises(OSError) as e:
        os.listdir(m.path("users", user["email"], "recordings", month))
    assert e.value.errno == errno.EIO
    pages = [x for x in s.log(mark) if x["route"] == RECORDINGS]
    assert len(pages) <= 4, len(pages)  # total_records says one page
    assert m.vmrss_kib() < 200 * 1024
    s.clear_faults()
    os.listdir(m.path("users", user["email"], "recordings", month))


@pytest.mark.parametrize("fault, extra", [
    ("empty_body", {}),
    ("json_body", {"body": "{}"}),
    ("json_body", {"body": "[]"}),
    ("json_body", {"body": "{\"page_size\": 30, \"total_records\": 0}"}),
])
def test_an_answer_without_its_list_is_no_empty_folder(make_sim, make_mount, tmp_path, fault,
                                                       extra):
    """rsync --delete would delete the backup of a month that listed empty."""
    s = make_sim(["--users", "1", "--seed", "34", "--instances", "3", "--months", "1",
                  "--file-size", "4096"])
    m = make_mount(s, opts={"dir_ttl": "0", "attr_ttl": "0"})
    user = s.users()[0]
    src = m.path("users", user["email"], "recordings")
    dest = tmp_path / "backup"
    run(["rsync", "-a", str(src) + "/", str(dest) + "/"])
    before = sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))
    assert any(p.endswith(".mp4") for p in before)
    s.fault(RECORDINGS, fault, count=1000, **extra)
    cp = run(["rsync", "-a", "--delete", str(src) + "/", str(dest) + "/"], check=False)
    s.clear_faults()
    assert cp.returncode != 0, "rsync saw an empty month"
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == before
    assert "list" in m.read_log()


def test_only_the_failing_status_of_users_is_missing(make_sim, make_mount):
    """GET /users answers one status at a time: one that fails (here the
    first, active, through all its retries) hides only its own users."""
    s = make_sim(["--users", "5", "--seed", "35", "--instances", "0"])
    m = make_mount(s)
    s.fault(USERS, "5xx", count=5, status=503)
    others = {u["email"] for u in s.users() if u["status"] != "active"}
    names = set(os.listdir(m.path("users")))
    s.clear_faults()
    assert others and names == others
    assert "503" in m.path(".zoomfs", "errors").read_text()


# --------------------------------------------------------------------------
# bounded in time: deadlines, Ctrl-C, the unmount


def slow_file(make_sim, make_mount, opts=None):
    s = make_sim(["--users", "1", "--seed", "36", "--instances", "1", "--months", "1",
                  "--file-size", str(4 << 20)])
    m = make_mount(s, opts=opts)
    user = s.users()[0]
    for _, idir in walk_instances(m.path("users", user["email"], "recordings")):
        for p in media_files(idir):
            if p.stat().st_size >= 4 << 20:
                return s, m, p
    raise AssertionError("no big file")


def test_a_trickling_cdn_hits_the_operation_deadline(make_sim, make_mount):
    s, m, p = slow_file(make_sim, make_mount, opts={"op_timeout": "3", "io_timeout": "30"})
    s.fault(CDN, "trickle", count=100, rate=2000)
    t0 = time.monotonic()
    cp = subprocess.run(["cat", str(p)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        timeout=120)
    took = time.monotonic() - t0
    s.clear_faults()
    assert cp.returncode != 0
    assert took < 12, "a trickling CDN held the reader %.1f s" % took
    assert "op_timeout" in m.read_log()


def test_ctrl_c_on_a_reader_returns_within_a_second_or_two(make_sim, make_mount):
    s, m, p = slow_file(make_sim, make_mount)
    s.fault(CDN, "trickle", count=100, rate=1000)
    proc = subprocess.Popen(["cat", str(p)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    took = time.monotonic() - t0
    s.clear_faults()
    assert took < 2.5, "Ctrl-C took %.1f s" % took
    # libfuse 3.14 keeps an INTERRUPT that arrives after its request was
    # answered until the next request comes (which answers it EAGAIN), and
    # fuse_session_destroy never frees it: one more request, as any real
    # use makes, so that the unmount after it does not leave it behind
    # (statfs always reaches the daemon).
    time.sleep(0.2)
    os.statvfs(m.path())


def test_the_unmount_cuts_transfers_at_once(make_sim, make_mount):
    s, m, p = slow_file(make_sim, make_mount)
    s.fault(CDN, "stall_every", count=100, every=16384, seconds=5)
    proc = subprocess.Popen(["cat", str(p)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1)
    proc.kill()  # the read goes on inside zoomfs
    proc.wait(timeout=30)
    t0 = time.monotonic()
    problems = m.unmount()
    took = time.monotonic() - t0
    s.clear_faults()
    assert problems == [], problems
    assert took < 5, "zoomfs lived on %.1f s after the unmount" % took
    assert m.proc.returncode == 0


def test_a_short_content_length_costs_nothing_but_a_retry(make_sim, make_mount):
    s = make_sim(["--users", "1", "--seed", "37", "--instances", "1", "--months", "1",
                  "--file-size", str(3 << 20)])
    m = make_mount(s)
    user = s.users()[0]
    want = sorted(s.file_info(f["_key"])["sha256"] for u, i, f in s.files() if u == user)
    s.fault(CDN, "short_length", count=3, short_by=100)
    got = sorted(hashlib.sha256(p.read_bytes()).hexdigest()
                 for _, idir in walk_instances(m.path("users", user["email"], "recordings"))
                 for p in media_files(idir))
    s.clear_faults()
    assert got == want


# --------------------------------------------------------------------------
# local misuse and the life cycle


def test_mv_of_a_zoom_object_is_refused_unless_an_editor_backup(sim, mnt):
    folder = mnt.path("users", sim.users()[0]["email"], "meetings")
    name = sorted(os.listdir(folder))[0]
    mark = sim.mark()
    with pytest.raises(PermissionError):
        os.rename(folder / name, folder / "other.json")
    with pytest.raises(PermissionError):
        os.rename(folder / name, folder / "copy")
    assert name in os.listdir(folder)
    os.rename(folder / name, folder / (name + "~"))  # vim's backup: a copy, nothing sent
    os.unlink(folder / (name + "~"))
    assert [e for e in sim.log(mark) if e["method"] not in ("GET", "HEAD")] == []


def test_a_symlink_named_like_a_new_object_is_refused(sim, mnt):
    folder = mnt.path("users", sim.users()[0]["email"], "meetings")
    with pytest.raises(PermissionError):
        os.symlink("x", folder / "new.json")


def test_sigterm_unmounts_and_exits_zero(sim, make_mount):
    m = make_mount(sim)
    os.listdir(m.path("users"))
    m.proc.send_signal(signal.SIGTERM)
    assert m.proc.wait(timeout=20) == 0
    assert not is_mounted(m.mnt)


def exit_of(mount, mountpoint, timeout=30):
    """Runs a zoomfs on a mount point that is mounted already, which it
    must refuse: its exit status and log. (Its own teardown then looks at
    its own, empty, mount point: never at the other mount.)"""
    own = mount.mnt
    mount.mnt = mountpoint
    mount.expect_exit = True
    mount.start_nowait()
    try:
        rc = mount.proc.wait(timeout=timeout)
    finally:
        mount.mnt = own
    return rc, mount.read_log()


def test_a_second_mount_on_a_zoomfs_mount_is_refused(sim, mnt, make_mount):
    second = make_mount(sim, start=False)
    rc, log = exit_of(second, mnt.mnt)
    assert rc == 1, log
    assert "already a zoomfs mount" in log
    assert is_mounted(mnt.mnt)
    os.listdir(mnt.path("users"))  # the first one is untouched


def test_after_kill_9_the_message_says_how_to_recover(sim, make_mount):
    m = make_mount(sim)
    m.proc.kill()
    m.proc.wait(timeout=10)
    m.expect_exit = True
    try:
        again = make_mount(sim, start=False)
        rc, log = exit_of(again, m.mnt)
    finally:
        subprocess.run(["fusermount3", "-uz", str(m.mnt)], capture_output=True)
    assert rc == 1, log
    assert "fusermount3 -uz" in log


def test_allow_other_implies_default_permissions(sim, make_mount):
    m = make_mount(sim, opts={"allow_other": True})
    with open("/proc/self/mountinfo") as f:
        line = next(l for l in f if " %s " % os.path.realpath(m.mnt) in l)
    assert "default_permissions" in line and "allow_other" in line, line
