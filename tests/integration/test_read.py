"""The read path (issue 3): the whole tree, exact sizes, request budgets,
every byte of every recording, du without downloads, rsync backups, resumed
downloads, random reads and a 2 GiB copy in bounded memory.

Instance folder and file names are zoomfs's to choose: the tests find files
by walking the mount and matching recording.json and sizes, never by name.
"""

import calendar
import collections
import datetime
import errno
import hashlib
import json
import math
import os
import random
import re
import shutil
import stat
import time
import urllib.parse
from pathlib import Path

import pytest

from .util import (INSTANCE_JSON, SANITIZER_ENV, RssSamples, Sim, attendance_names, instance_files, media_files,
                   months_between, pages, public_instance, run, sha256_file,
                   sim_instance_by_uuid, wait_until, walk_instances)

MiB = 1 << 20
READAHEAD_MAX = 8 * MiB  # zoomfs's default -o readahead

SIM_ARGS = ["--users", "3", "--seed", "3", "--meetings", "2", "--instances", "4",
            "--months", "2", "--file-size", str(2 * MiB)]

CDN = "GET /cdn/{fileKey}"
DOWNLOAD = "GET /rec/download/{fileKey}"
RECORDINGS = "GET /users/{userId}/recordings"
LIST_RECORDINGS = "GET /users/{userId}/recordings"


# --------------------------------------------------------------------------
# helpers


def users_with_recordings(sim):
    acct = sim.account()
    by_id = {u.get("id"): u for u in acct["users"]}
    return [(by_id[uid], insts) for uid, insts in acct.get("recordings", {}).items()
            if insts and uid in by_id]


def month_of(inst):
    return inst["start_time"][:7]


def expected_digests(sim, inst):
    """Sorted (size, sha256) of the files zoomfs should show for an instance."""
    return sorted((f["_size"], sim.file_info(f["_key"])["sha256"]) for f in instance_files(inst))


def local_digests(folder):
    return sorted((p.stat().st_size, sha256_file(p)) for p in media_files(folder))


def instance_of(sim, folder):
    rec = json.loads((Path(folder) / "recording.json").read_bytes())
    return sim_instance_by_uuid(sim)[rec["uuid"]][1]


def query_of(entry):
    """The query of a log entry as a dict of single values."""
    q = entry.get("query") or {}
    if isinstance(q, str):
        q = urllib.parse.parse_qs(q.lstrip("?"))
    return {k: v[0] if isinstance(v, list) else v for k, v in q.items()}


def range_of(entry):
    """(first, last) of a log entry's "bytes=a-b" Range header, or None."""
    m = re.fullmatch(r"bytes=(\d+)-(\d*)", entry.get("range") or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)) if m.group(2) else 1 << 62


def cdn_entries(entries):
    return [e for e in entries if e["route"] == CDN]


def find_file_of_size(root, size):
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            if p.stat().st_size == size and n not in INSTANCE_JSON:
                return p
    raise AssertionError("no file of %d bytes under %s" % (size, root))


def key_of(sim, folder, path):
    """The emulator's fileKey of a mounted media file, matched by size (the
    caller makes sure that size is unique in the instance)."""
    inst = instance_of(sim, folder)
    size = path.stat().st_size
    keys = [f["_key"] for f in instance_files(inst) if f["_size"] == size]
    assert len(keys) == 1, (path, size, keys)
    return keys[0]


def largest_media(sim, mount):
    best = None
    for user, insts in users_with_recordings(sim):
        for _, folder in walk_instances(mount.path("users", user["email"], "recordings")):
            for p in media_files(folder):
                size = p.stat().st_size
                sizes = [q.stat().st_size for q in media_files(folder)]
                if sizes.count(size) == 1 and (best is None or size > best[0]):
                    best = (size, folder, p)
    assert best, "no media file"
    return best[2], best[1]


# --------------------------------------------------------------------------
# the tree


def upcoming(occurrences, now=None):
    """The occurrences a GET shows and a folder lists: not over, not cancelled."""
    now = now or time.time()
    return [o for o in occurrences if o["status"] != "deleted" and calendar.timegm(
        time.strptime(o["start_time"], "%Y-%m-%dT%H:%M:%SZ")) + 60 * o["duration"] > now]


def expected_objects(sim, folder, objs):
    """What meetings/ (or webinars/) holds: a file per object, a folder per one
    that takes registration with a file per registrant of any status, and a
    folder per recurring one with a file per occurrence still to come."""
    regs = sim.request("GET", "/_sim/registrants")
    out = {folder + "/registrants", folder + "/occurrences"}
    for o in objs:
        out.add("%s/%s.json" % (folder, o["id"]))
        if o["settings"]["approval_type"] in (0, 1):
            base = "%s/registrants/%s" % (folder, o["id"])
            out |= {base} | {"%s/%s.json" % (base, r["id"]) for r in regs.get(str(o["id"]), [])}
        if "occurrences" in o:
            base = "%s/occurrences/%s" % (folder, o["id"])
            out |= {base} | {"%s/%s.json" % (base, x["occurrence_id"])
                             for x in upcoming(o["occurrences"])}
    return out


def test_ls_lR_and_find_walk_the_whole_tree(sim, mnt):
    ls = run(["ls", "-lR", str(mnt.mnt)], timeout=300)
    assert ls.stderr == b"", ls.stderr
    found = run(["find", str(mnt.mnt)], timeout=300)
    assert found.stderr == b"", found.stderr
    paths = {Path(line) for line in found.stdout.decode().splitlines()}
    rel = {p.relative_to(mnt.mnt).as_posix() for p in paths if p != mnt.mnt}

    acct = sim.account()
    attendance = attendance_names(sim)
    expected_top = {"users", ".zoomfs", ".zoomfs/stats", ".zoomfs/errors", ".zoomfs/version"}
    assert expected_top <= rel
    assert {r for r in rel if "/" not in r} == {"users", ".zoomfs"}
    assert {r.split("/")[1] for r in rel if r.startswith("users/") and r.count("/") >= 1} == {
        u["email"] for u in acct["users"]}

    for u in acct["users"]:
        base = "users/%s/" % u["email"]
        mine = {r[len(base):] for r in rel if r.startswith(base)}
        for folder in ("meetings", "webinars"):
            if u.get("id") not in acct.get(folder, {}):
                continue  # pending, or no webinar add-on: no folder (checked above)
            objs = acct[folder][u["id"]]
            assert {r for r in mine if r.startswith(folder + "/")} == expected_objects(
                sim, folder, objs), (u["email"], folder)
        months = months_between(u["created_at"])
        assert {r for r in mine if r.startswith("recordings/") and r.count("/") == 1} == {
            "recordings/" + m for m in months}, u["email"]
        insts = acct.get("recordings", {}).get(u.get("id"), [])
        per_month = collections.Counter(month_of(i) for i in insts)
        for m in months:
            folders = [r for r in mine if r.startswith("recordings/%s/" % m) and r.count("/") == 2]
            assert len(folders) == per_month.get(m, 0), (u["email"], m, folders)
        # Each instance folder: recording.json, one entry per shown file, and
        # the past meeting's participants.json (and polls.json) when Zoom has them.
        for folder in (mnt.path(base, r) for r in mine if r.startswith("recordings/")
                       and r.count("/") == 2):
            inst = instance_of(sim, folder)
            names = os.listdir(folder)
            past = attendance[inst["uuid"]]
            assert "recording.json" in names and past <= set(names), (folder, names)
            assert len(names) == 1 + len(instance_files(inst)) + len(past), (folder, names)


def test_names_are_safe(mnt):
    for dirpath, dirs, names in os.walk(mnt.mnt):
        for n in dirs + names:
            assert len(n.encode()) <= 255, n
            assert not n.startswith(".") or n == ".zoomfs", n
            assert "/" not in n and not re.search(r"[\x00-\x1f\x7f]", n), n


def test_recording_json_is_the_listing_entry(sim, mnt):
    for user, insts in users_with_recordings(sim):
        seen = set()
        for _, folder in walk_instances(mnt.path("users", user["email"], "recordings")):
            data = (folder / "recording.json").read_bytes()
            assert os.stat(folder / "recording.json").st_size == len(data)
            assert data.endswith(b"}\n")
            rec = json.loads(data)
            inst = sim_instance_by_uuid(sim)[rec["uuid"]][1]
            assert rec == public_instance(inst)
            seen.add(rec["uuid"])
        assert seen == {i["uuid"] for i in insts}


def test_json_sizes_equal_bytes_read(mnt):
    checked = 0
    for dirpath, _, names in os.walk(mnt.path("users")):
        for n in names:
            if n.endswith(".json"):
                p = Path(dirpath) / n
                size = os.stat(p).st_size
                data = p.read_bytes()
                assert size == len(data), "%s: stat %d, read %d" % (p, size, len(data))
                json.loads(data)
                checked += 1
    assert checked > 10


def test_modes_and_sizes_before_any_download(sim, make_mount):
    m = make_mount(sim)
    sim.reset()
    for user, insts in users_with_recordings(sim):
        for _, folder in walk_instances(m.path("users", user["email"], "recordings")):
            assert os.stat(folder).st_mode & 0o777 == 0o700
            inst = instance_of(sim, folder)
            sizes = sorted(p.stat().st_size for p in media_files(folder))
            assert sizes == sorted(f["_size"] for f in instance_files(inst)), folder
            for p in media_files(folder):
                st = p.stat()
                assert st.st_mode & 0o777 == 0o400, (p, oct(st.st_mode))
                assert st.st_blocks == math.ceil(st.st_size / 512), p
                assert st.st_mtime > 0
            assert os.stat(folder / "recording.json").st_mode & 0o777 == 0o400
    c = sim.counters()
    # Sizes are known without downloading: at most tiny probes for files
    # Zoom gives no size for (see test_du_downloads_nothing for the bytes).
    assert sim.count(c, CDN, 200) == 0, c


# --------------------------------------------------------------------------
# request budgets


def test_listing_recordings_sends_no_request(sim, make_mount):
    m = make_mount(sim)
    for user in sim.users():
        os.stat(m.path("users", user["email"]))
        before = sim.counters()
        months = sorted(os.listdir(m.path("users", user["email"], "recordings")))
        after = sim.counters()
        assert months == months_between(user["created_at"]), user["email"]
        assert sim.total(after) == sim.total(before), (before, after)


def test_since_option_sets_the_first_month(sim, make_mount):
    now = time.gmtime()
    prev = "%04d-%02d" % ((now.tm_year, now.tm_mon - 1) if now.tm_mon > 1
                          else (now.tm_year - 1, 12))
    m = make_mount(sim, opts={"since": prev})
    for user in sim.users():
        months = sorted(os.listdir(m.path("users", user["email"], "recordings")))
        assert months == [prev, "%04d-%02d" % (now.tm_year, now.tm_mon)], user["email"]


def test_month_listing_takes_one_request_per_page(make_sim, make_mount):
    # 650 more instances in last month: that month needs three pages of 300.
    s = make_sim(["--users", "1", "--seed", "5", "--instances", "3", "--months", "2",
                  "--meetings", "1", "--file-size", "4096", "--dense-month-instances", "650"])
    (user, insts), = users_with_recordings(s)
    per_month = collections.Counter(month_of(i) for i in insts)
    assert max(per_month.values()) > 600, per_month
    m = make_mount(s)
    os.stat(m.path("users", user["email"]))
    s.reset()
    for month in months_between(user["created_at"]):
        before = s.counters()
        folders = os.listdir(m.path("users", user["email"], "recordings", month))
        after = s.counters()
        assert len(folders) == per_month.get(month, 0), month
        assert len(set(folders)) == len(folders), "duplicate instance names in %s" % month
        sent = s.count(after, LIST_RECORDINGS) - s.count(before, LIST_RECORDINGS)
        assert sent == pages(per_month.get(month, 0)), (month, per_month.get(month, 0), sent)
    # Each query stays inside one month (Zoom caps a range at one month).
    for e in s.log():
        if e["route"] == LIST_RECORDINGS:
            q = query_of(e)
            assert q["from"][:7] == q["to"][:7], q


# --------------------------------------------------------------------------
# every byte


def test_sha256_of_every_media_file(sim, mnt, tmp_path):
    """cp -r of every user's recordings; every file's SHA-256 equals the emulator's."""
    instances = 0
    for user, insts in users_with_recordings(sim):
        dest = tmp_path / user["email"]
        run(["cp", "-r", str(mnt.path("users", user["email"], "recordings")), str(dest)],
            timeout=600)
        for _, folder in walk_instances(dest):
            inst = instance_of(sim, folder)
            assert local_digests(folder) == expected_digests(sim, inst), folder
            instances += 1
        shutil.rmtree(dest)
    assert instances == sum(len(i) for _, i in users_with_recordings(sim))


@pytest.mark.parametrize("page_cache", [False, True], ids=["default", "page_cache"])
def test_partial_reads_match_the_source(sim, make_mount, page_cache):
    """head, tail, dd skip= and preads at odd offsets, on a cold mount (nothing
    in the page cache), against ranges fetched straight from the emulator:
    reads as the reader makes them (the default) and as the kernel's page
    cache makes them (-o page_cache: whole pages, its read-ahead)."""
    m = make_mount(sim, opts={"page_cache": True} if page_cache else None)
    path, folder = largest_media(sim, m)
    key = key_of(sim, folder, path)
    size = path.stat().st_size
    assert size >= 2 * MiB

    head = run(["head", "-c", "1000", str(path)]).stdout
    assert head == sim.download(key, 0, 999)
    tail = run(["tail", "-c", "5000", str(path)]).stdout
    assert tail == sim.download(key, size - 5000, size - 1)
    dd = run(["dd", "if=%s" % path, "bs=4096", "skip=100", "count=3", "status=none"]).stdout
    assert dd == sim.download(key, 409600, 409600 + 3 * 4096 - 1)

    rng = random.Random(1)
    offsets = [0, 65535, 65536, 131071, size - 1, size // 2 + 1] + [
        rng.randrange(size) for _ in range(6)]
    with open(path, "rb", buffering=0) as f:
        for off in offsets:
            n = rng.choice([1, 17, 4096, 70000])
            got = os.pread(f.fileno(), n, off)
            want = sim.download(key, off, min(size, off + n) - 1)
            assert got == want, "pread(%d, %d)" % (n, off)
        assert os.pread(f.fileno(), 100, size) == b""
        assert os.pread(f.fileno(), 100, size + 12345) == b""
    full = run(["cat", str(path)], timeout=300).stdout
    assert len(full) == size
    assert hashlib.sha256(full).hexdigest() == sim.file_info(key)["sha256"]


def test_files_zoom_gives_no_size_for(sim, mnt):
    """CC and TIMELINE entries have no file_size: their sizes must still be exact."""
    checked = 0
    for user, insts in users_with_recordings(sim):
        for _, folder in walk_instances(mnt.path("users", user["email"], "recordings")):
            inst = instance_of(sim, folder)
            sizeless = [f for f in instance_files(inst) if "file_size" not in f]
            if not sizeless:
                continue
            by_size = collections.defaultdict(list)
            for p in media_files(folder):
                by_size[p.stat().st_size].append(p)
            for f in sizeless:
                cands = by_size.get(f["_size"], [])
                assert cands, "%s: no file of %d bytes for %s" % (folder, f["_size"],
                                                                  f["file_type"])
                want = sim.file_info(f["_key"])["sha256"]
                assert want in {sha256_file(p) for p in cands}, (folder, f["file_type"])
                checked += 1
    assert checked > 0, "the emulator's account has no CC or TIMELINE file"


def test_du_downloads_nothing(sim, make_mount):
    m = make_mount(sim)
    user, insts = max(users_with_recordings(sim), key=lambda ui: len(ui[1]))
    rec = m.path("users", user["email"], "recordings")
    mark = sim.mark()
    no_json = ["--exclude=" + n for n in INSTANCE_JSON]
    du = run(["du", "-sb"] + no_json + [str(rec)]).stdout
    du_blocks = run(["du", "-s", "-B1"] + no_json + [str(rec)]).stdout
    entries = sim.log(mark)

    files = [f for i in insts for f in instance_files(i)]
    dirs_size = sum(os.stat(Path(d)).st_size for d, _, _ in os.walk(rec))
    assert int(du.split()[0]) == sum(f["_size"] for f in files) + dirs_size
    assert int(du_blocks.split()[0]) == sum(math.ceil(f["_size"] / 512) * 512 for f in files)

    sizeless = [f for f in files if "file_size" not in f]
    probes = [e for e in entries if e["route"] in (CDN, DOWNLOAD) and e["method"] == "GET"]
    cdn = cdn_entries(entries)
    assert len(cdn) <= len(sizeless), "%d CDN GETs for %d sizeless files" % (len(cdn), len(sizeless))
    for e in probes:
        assert e["bytes"] <= 4096, e
    assert sum(e["bytes"] for e in cdn) <= 1024 * max(1, len(sizeless)), cdn


# --------------------------------------------------------------------------
# names


def test_same_type_files_get_distinct_stable_names(sim, make_mount):
    """The owner's first instance was paused and resumed: two MP4s (and two
    M4As) of one recording_type. Each gets its own name, the same on every mount."""
    def paused_instance():
        for uid, inst in sim_instance_by_uuid(sim).values():
            types = collections.Counter((f["file_type"], f.get("recording_type"))
                                        for f in instance_files(inst))
            if types[("MP4", "shared_screen_with_speaker_view")] >= 2:
                return uid, inst
        raise AssertionError("the emulator's account has no paused-and-resumed instance")

    uid, inst = paused_instance()
    email = {u.get("id"): u["email"] for u in sim.users()}[uid]

    def names():
        m = make_mount(sim)
        rec_dir = m.path("users", email, "recordings", month_of(inst))
        (folder,) = [rec_dir / n for n in os.listdir(rec_dir)
                     if json.loads((rec_dir / n / "recording.json").read_bytes())["uuid"]
                     == inst["uuid"]]
        listing = os.listdir(folder)
        assert len(listing) == len(set(listing)), "duplicate names: %s" % listing
        out = {p.name: (p.stat().st_size, sha256_file(p)) for p in media_files(folder)}
        rel = folder.relative_to(m.mnt)
        assert m.teardown() == []
        return rel, out

    rel1, first = names()
    rel2, second = names()
    assert sorted(first.values()) == expected_digests(sim, inst)
    mp4 = [n for n in first if n.lower().endswith(".mp4")]
    assert len(mp4) == sum(1 for f in instance_files(inst) if f["file_type"] == "MP4"), first
    assert (rel1, first) == (rel2, second), "names changed across mounts"


def test_instance_uuid_with_slash(sim, mnt):
    odd = [(uid, i) for uid, i in sim_instance_by_uuid(sim).values()
           if i["uuid"].startswith("/") or "//" in i["uuid"]]
    assert odd, "the emulator's account has no instance whose UUID starts with / or has //"
    by_id = {u.get("id"): u for u in sim.users()}
    for uid, inst in odd:
        rec_dir = mnt.path("users", by_id[uid]["email"], "recordings", month_of(inst))
        folder = None
        for name in os.listdir(rec_dir):
            rec = json.loads((rec_dir / name / "recording.json").read_bytes())
            if rec["uuid"] == inst["uuid"]:
                folder = rec_dir / name
        assert folder is not None, inst["uuid"]
        assert json.loads((folder / "recording.json").read_bytes()) == public_instance(inst)
        digests = sorted((p.stat().st_size, sha256_file(p)) for p in media_files(folder))
        assert digests == expected_digests(sim, inst)


# --------------------------------------------------------------------------
# rsync


def rsync(src, dst, timeout=600):
    cp = run(["rsync", "-a", "--stats", "--out-format=%i %n", str(src) + "/", str(dst) + "/"],
             timeout=timeout)
    out = cp.stdout.decode()
    m = re.search(r"Number of regular files transferred: ([\d,]+)", out)
    assert m, out
    copied = [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith(">f")]
    return int(m.group(1).replace(",", "")), copied


def test_rsync_backup_is_incremental(make_sim, make_mount, tmp_path):
    s = make_sim(["--users", "3", "--seed", "21", "--instances", "3", "--months", "2",
                  "--meetings", "2", "--file-size", str(MiB)])
    m = make_mount(s, opts={"dir_ttl": 2, "attr_ttl": 2})
    dest = tmp_path / "backup"
    dest.mkdir()

    n1, _ = rsync(m.path("users"), dest)
    for user, insts in users_with_recordings(s):
        for _, folder in walk_instances(dest / user["email"] / "recordings"):
            assert local_digests(folder) == expected_digests(s, instance_of(s, folder))
    all_files = sum(len(f) for _, _, f in os.walk(dest))
    assert n1 == all_files

    mark = s.mark()
    n2, copied2 = rsync(m.path("users"), dest)
    entries = s.log(mark)
    assert n2 == 0, "second rsync copied %s" % copied2
    assert [e for e in entries if e["route"] in (CDN, DOWNLOAD)] == []

    user, _ = users_with_recordings(s)[0]
    start = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(time.time() - 2 * 3600))
    new = s.add_recording(user["id"], {"start_time": start, "topic": "Added later"})
    month_dir = m.path("users", user["email"], "recordings", start[:7])
    before = set(os.listdir(dest / user["email"] / "recordings" / start[:7]))

    def new_folder():  # the listing is trusted for dir_ttl=2 seconds
        names = set(os.listdir(month_dir)) - before
        return names and names.pop()

    folder = wait_until(new_folder, 15, interval=0.5, what="the new instance in the mount")
    expected = {"%s/recordings/%s/%s/%s" % (user["email"], start[:7], folder, n)
                for n in os.listdir(month_dir / folder)}
    assert len(expected) == 1 + len(instance_files(new)) + len(attendance_names(s)[new["uuid"]])
    n3, copied3 = rsync(m.path("users"), dest)
    assert set(copied3) == expected
    assert n3 == len(expected)
    assert local_digests(dest / user["email"] / "recordings" / start[:7] / folder) == \
        expected_digests(s, new)


def test_rsync_of_an_account_with_a_pending_invitation_succeeds_twice(make_sim, make_mount,
                                                                       tmp_path):
    """Zoom lists invited users without an id, and answers 404 for their
    settings, meetings, webinars and recordings: their folder shows what
    Zoom has for them (user.json), so rsync exits 0 every night and its
    second run asks for nothing that 404s and downloads nothing."""
    s = make_sim(["--users", "5", "--seed", "23", "--instances", "1", "--months", "1",
                  "--meetings", "1", "--file-size", "65536"])
    pending = [u for u in s.users() if u["status"] == "pending"]
    assert pending and all("id" not in u for u in pending)
    m = make_mount(s)
    folder = m.path("users", pending[0]["email"])
    assert sorted(os.listdir(folder)) == ["user.json"]
    for name in ("settings.json", "meetings", "webinars", "recordings"):
        with pytest.raises(FileNotFoundError):
            os.stat(folder / name)
    found = run(["find", str(m.path("users"))], check=False)
    assert found.returncode == 0 and found.stderr == b"", found.stderr
    dest = tmp_path / "backup"
    dest.mkdir()
    mark = s.mark()
    rsync(m.path("users"), dest)  # run() fails the test on any exit but 0
    m.unmount()
    m.proc.wait(timeout=30)
    time.sleep(1.1)  # Zoom gives a pending user's created_at as the time of the call
    m = remount(make_mount, s, m)  # the next night
    n, copied = rsync(m.path("users"), dest)
    assert n == 0, copied
    entries = s.log(mark)
    assert [e for e in entries if e["status"] == 404] == [], \
        [(e["method"], e["path"]) for e in entries if e["status"] == 404]
    asked = [e["path"] for e in entries if "/users/" in e["path"] and any(
        urllib.parse.unquote(e["path"]).startswith("/v2/users/%s/" % u["email"]) for u in pending)]
    assert asked == [], asked
    assert sorted(os.listdir(dest / pending[0]["email"])) == ["user.json"]


def remount(make_mount, sim, first, opts=None):
    """A new mount of the same machine: same HOME (the metadata cache) and
    the same mtime ledger as first."""
    o = {"ledger": first.opts["ledger"]}
    o.update(opts or {})
    return make_mount(sim, opts=o, env={"HOME": str(first.home),
                                        "XDG_CACHE_HOME": str(first.home / ".cache")})


def test_nightly_rerun_lists_only_the_months_that_still_change(make_sim, make_mount, tmp_path):
    """Months before the previous one are settled: their listings (and the
    sizes probed for files Zoom gives none) are kept on disk, so the second
    rsync after a remount lists at most two months per user and downloads
    nothing at all."""
    s = make_sim(["--users", "4", "--seed", "41", "--instances", "8", "--months", "6",
                  "--meetings", "1", "--file-size", "4096"])
    m1 = make_mount(s)
    dest = tmp_path / "backup"
    dest.mkdir()
    rsync(m1.path("users"), dest)
    first = s.counters()
    assert Sim.count(first, RECORDINGS) > 4 * 2  # every month was listed once
    store = m1.home / ".cache" / "zoomfs" / ("account-" + s.account_id)
    assert store.is_dir() and stat.S_IMODE(store.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in store.iterdir())
    m1.unmount()
    m1.proc.wait(timeout=30)

    m2 = remount(make_mount, s, m1)
    s.reset()
    n, copied = rsync(m2.path("users"), dest)
    after = s.counters()
    with_id = [u for u in s.users() if u.get("id")]
    assert n == 0, copied
    assert Sim.count(after, RECORDINGS) <= 2 * len(with_id), after
    assert Sim.count(after, CDN) == 0 and Sim.count(after, DOWNLOAD) == 0, after
    stats = m2.path(".zoomfs", "stats").read_text()
    assert re.search(r"^cache settled month on disk hits [1-9]", stats, re.M), stats


def test_a_broken_or_stale_store_is_listed_again(make_sim, make_mount):
    s = make_sim(["--users", "1", "--seed", "42", "--instances", "4", "--months", "4",
                  "--file-size", "4096"])
    m1 = make_mount(s)
    user = s.users()[0]
    rec = m1.path("users", user["email"], "recordings")
    settled = [mo for mo in sorted(os.listdir(rec))[:-2] if os.listdir(rec / mo)]
    assert settled, os.listdir(rec)
    m1.unmount()
    m1.proc.wait(timeout=30)
    store = m1.home / ".cache" / "zoomfs" / ("account-" + s.account_id)
    for f in store.iterdir():
        f.write_bytes(b"{not json")  # a crash or a disk error: ignored, never fatal
    m2 = remount(make_mount, s, m1)
    s.reset()
    assert os.listdir(m2.path("users", user["email"], "recordings", settled[0]))
    assert Sim.count(s.counters(), RECORDINGS) == 1
    m2.unmount()
    m2.proc.wait(timeout=30)
    # settled_ttl=0: a settled month is trusted no longer than a listing
    m3 = remount(make_mount, s, m1, opts={"settled_ttl": "0"})
    s.reset()
    os.listdir(m3.path("users", user["email"], "recordings", settled[0]))
    assert Sim.count(s.counters(), RECORDINGS) == 1


def test_a_settled_file_gone_from_zoom_is_listed_again_at_once(make_sim, make_mount):
    s = make_sim(["--users", "1", "--seed", "43", "--instances", "4", "--months", "4",
                  "--file-size", "4096"])
    m = make_mount(s, opts={"dir_ttl": "3600", "attr_ttl": "3600"})
    user = s.users()[0]
    rec = m.path("users", user["email"], "recordings")
    month = next(mo for mo in sorted(os.listdir(rec))[:-2] if os.listdir(rec / mo))
    folder = rec / month / sorted(os.listdir(rec / month))[0]
    victim = media_files(folder)[0]
    meta = json.loads((folder / "recording.json").read_bytes())
    # Deleted elsewhere (the web portal): the next read gets 404 ...
    s.api("DELETE", "/meetings/%s/recordings?action=delete"
          % urllib.parse.quote(urllib.parse.quote(meta["uuid"], safe=""), safe=""))
    with pytest.raises(OSError):
        victim.read_bytes()
    # ... and the month is listed again at once, not a week later.
    s.reset()
    assert folder.name not in os.listdir(rec / month)
    assert Sim.count(s.counters(), RECORDINGS) == 1


# --------------------------------------------------------------------------
# faults while streaming


def test_reset_mid_body_is_resumed(sim, make_mount):
    m = make_mount(sim)
    path, folder = largest_media(sim, m)
    key = key_of(sim, folder, path)
    mark = sim.mark()
    sim.fault(CDN, "reset", count=1, after_bytes=300000)
    try:
        digest = sha256_file(path)
    finally:
        sim.clear_faults()
    assert digest == sim.file_info(key)["sha256"]
    cdn = cdn_entries(sim.log(mark))
    ranges = [(range_of(e), e) for e in cdn]
    cut = [(r, e) for r, e in ranges if r and e["bytes"] < r[1] - r[0] + 1]
    assert len(cut) == 1 and cut[0][1]["bytes"] == 300000, "the reset did not happen: %s" % cdn
    (start, end), e = cut[0]
    resumed = start + e["bytes"]
    later = [r for r, x in ranges if x["seq"] > e["seq"] and r]
    assert any(r[0] == resumed for r in later), (
        "no request resumed at byte %d after the reset: %s" % (resumed, cdn))


def test_download_url_resolved_once_per_file(sim, make_mount):
    """The CDN URL a download_url redirects to is remembered while it is
    valid: reading a whole file resolves it once."""
    m = make_mount(sim)
    path, folder = largest_media(sim, m)
    mark = sim.mark()
    size = len(path.read_bytes())
    entries = sim.log(mark)
    resolves = [e for e in entries if e["route"] in (DOWNLOAD, "HEAD /rec/download/{fileKey}")]
    assert len(resolves) == 1, resolves
    assert sum(e["bytes"] for e in cdn_entries(entries)) == size


def test_stall_mid_stream_still_completes(sim, make_mount):
    m = make_mount(sim)
    path, folder = largest_media(sim, m)
    key = key_of(sim, folder, path)
    sim.fault(CDN, "stall", count=1, seconds=2)
    try:
        digest = sha256_file(path)
    finally:
        sim.clear_faults()
    assert digest == sim.file_info(key)["sha256"]


def test_stats_count_what_was_sent(sim, make_mount):
    m = make_mount(sim)
    sim.reset()
    path, folder = largest_media(sim, m)
    c0, ours0 = m.stats()
    size = len(path.read_bytes())
    c1, ours1 = m.stats()
    theirs = sim.counters()
    assert c1["bytes_streamed"] - c0["bytes_streamed"] >= size, (c0, c1)
    assert c1["range_requests"] > c0["range_requests"], (c0, c1)
    # Every API request zoomfs sent is in its stats, with the status it got.
    for route in (LIST_RECORDINGS, "GET /users"):
        for status, n in theirs.get(route, {}).items():
            assert ours1.get((route, status), 0) == n, (route, status, ours1, theirs)


# --------------------------------------------------------------------------
# a big file: random access and a 2 GiB copy

BIG = 2 * 1024 * MiB


@pytest.fixture(scope="module")
def big_sim(tmp_path_factory):
    s = Sim.start(tmp_path_factory.mktemp("bigsim"),
                  ["--users", "1", "--seed", "2", "--instances", "1", "--months", "1",
                   "--file-size", "65536", "--big-file", str(BIG)])
    yield s
    s.stop()


def big_file(sim, mount):
    (user, insts), = users_with_recordings(sim)
    path = find_file_of_size(mount.path("users", user["email"], "recordings"), BIG)
    (f,) = [f for i in insts for f in instance_files(i) if f["_size"] == BIG]
    return path, f["_key"]


def test_random_4k_read_fetches_at_most_one_window(big_sim, make_mount):
    m = make_mount(big_sim)
    path, key = big_file(big_sim, m)
    n = 300_000  # a 4 KiB block 1.2 GB into the file
    mark = big_sim.mark()
    got = run(["dd", "if=%s" % path, "bs=4096", "count=1", "skip=%d" % n, "status=none"]).stdout
    cdn = cdn_entries(big_sim.log(mark))
    assert got == big_sim.download(key, n * 4096, n * 4096 + 4095)
    sent = sum(e["bytes"] for e in cdn)
    assert 4096 <= sent <= READAHEAD_MAX + 128 * 1024, "%d bytes fetched for one 4 KiB read" % sent


@pytest.mark.slow
def test_cp_2gib_is_exact_in_bounded_memory(big_sim, make_mount, tmp_path):
    # AddressSanitizer keeps up to 256 MiB of freed memory in quarantine by
    # default: that is the sanitizer's memory, not zoomfs's. A small
    # quarantine keeps use-after-free detection and measures zoomfs.
    asan = os.environ.get("ASAN_OPTIONS", SANITIZER_ENV["ASAN_OPTIONS"])
    m = make_mount(big_sim, env={"ASAN_OPTIONS": asan + ":quarantine_size_mb=8"})
    path, key = big_file(big_sim, m)
    dest = tmp_path / "big.mp4"
    with RssSamples(m, 0.2) as rss:
        t0 = time.monotonic()
        run(["cp", str(path), str(dest)], timeout=600)
        elapsed = time.monotonic() - t0
    try:
        assert dest.stat().st_size == BIG
        assert sha256_file(dest, 8 * MiB) == big_sim.file_info(key)["sha256"]
    finally:
        dest.unlink()
    peak = rss.peak / 1024
    print("cp 2 GiB: %.1fs (%.0f MiB/s), %d RSS samples, peak %.1f MiB"
          % (elapsed, BIG / MiB / elapsed, len(rss.samples), peak))
    assert len(rss.samples) >= 3
    assert peak < 100, "zoomfs VmRSS reached %.1f MiB" % peak


# --------------------------------------------------------------------------
# metadata as extended attributes


def xattrs(path):
    return {n: os.getxattr(path, n).decode() for n in os.listxattr(path)}


def test_getfattr_shows_zoom_metadata_and_rsync_X_carries_it(sim, mnt, tmp_path):
    user = sim.users()[0]
    _, folder = next(walk_instances(mnt.path("users", user["email"], "recordings")))
    inst = json.loads((folder / "recording.json").read_bytes())
    got = xattrs(folder)
    fields = {"uuid": "uuid", "meeting_id": "id", "id": "id", "topic": "topic",
              "host_email": "host_email", "start_time": "start_time", "share_url": "share_url"}
    want = {"user.zoom." + k: str(inst[v]) for k, v in fields.items() if v in inst}
    assert len(want) >= 6 and got == want, got
    media = media_files(folder)[0]
    f = next(x for x in inst["recording_files"] if x.get("recording_start")
             and media.name.startswith(x["recording_type"]))
    got = xattrs(media)
    assert got["user.zoom.recording_type"] == f["recording_type"]
    assert got["user.zoom.uuid"] == inst["uuid"] and got["user.zoom.topic"] == inst["topic"]
    assert got["user.zoom.start_time"] == f["recording_start"]
    for value in got.values():  # nothing that downloads, no token
        assert "/rec/download" not in value and "access_token" not in value
    meeting = next(iter(mnt.path("users", user["email"], "meetings").glob("*.json")))
    doc = json.loads(meeting.read_bytes())
    got = xattrs(meeting)
    assert got["user.zoom.id"] == str(doc["id"]) and got["user.zoom.topic"] == doc["topic"]
    assert "user.zoom.share_url" not in got
    # the tools: getfattr -d, and rsync -aX into the backup
    out = run(["getfattr", "-d", "--absolute-names", str(media)]).stdout.decode()
    assert 'user.zoom.recording_type="%s"' % f["recording_type"] in out, out
    dest = tmp_path / "copy"
    run(["rsync", "-aX", str(folder) + "/", str(dest) + "/"])
    assert xattrs(dest / media.name) == xattrs(media)
    # absent ones, and setting any: refused as before
    with pytest.raises(OSError) as e:
        os.getxattr(media, "user.zoom.nothing")
    assert e.value.errno == errno.ENODATA
    assert xattrs(mnt.path("users", user["email"], "user.json")) == {}
    with pytest.raises(OSError):
        os.setxattr(media, "user.zoom.topic", b"x")


def test_the_full_topic_is_in_the_xattr_not_the_cut_file_name(make_sim, make_mount):
    s = make_sim(["--users", "1", "--instances", "1", "--months", "1", "--file-size", "4096"])
    user = s.users()[0]
    topic = "Quarterly review / planning: " + "é" * 200
    when = datetime.datetime.now(datetime.timezone.utc).replace(day=1, hour=9, minute=0,
                                                                  second=0, microsecond=0)
    s.add_recording(user["id"], {"topic": topic, "start_time": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
    m = make_mount(s)
    rec = m.path("users", user["email"], "recordings")
    folders = [f for mo in rec.iterdir() for f in mo.iterdir()
               if xattrs(f).get("user.zoom.topic") == topic]
    assert len(folders) == 1 and len(folders[0].name.encode()) <= 255
    assert "/" not in folders[0].name
