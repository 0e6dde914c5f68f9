"""What a mount must survive and remember: answers that are not the file,
token renewal ahead of expiry and under concurrency, pagination of meetings,
cache TTLs, and mtimes that are stable across remounts."""

import errno
import os
import subprocess
import threading
import time

import pytest

from .util import Sim, media_files, walk_instances

SMALL = ["--users", "2", "--meetings", "3", "--instances", "3", "--months", "1",
         "--file-size", "262144"]
CDN = "GET /cdn/{fileKey}"
DOWNLOAD = "GET /rec/download/{fileKey}"
TOKEN = "POST /oauth/token"


def a_media_file(sim, mount, min_size=2):
    user = sim.users()[0]
    for _, idir in walk_instances(mount.path("users", user["email"], "recordings")):
        for p in media_files(idir):
            if p.stat().st_size >= min_size:
                return p
    raise AssertionError("no media file")


def read_errno(path, offset=0, size=4096):
    with open(path, "rb") as f:
        f.seek(offset)
        try:
            f.read(size)
        except OSError as e:
            return e.errno
    return 0


def test_html_page_instead_of_the_file_is_never_data(make_sim, make_mount):
    """Zoom answers a refused download with 200 and an HTML page: the read
    fails (EACCES), no byte of the page reaches the reader, and the log
    says why."""
    s = make_sim(SMALL)
    m = make_mount(s)
    p = a_media_file(s, m)
    s.fault(DOWNLOAD, "html", count=1000)
    s.fault(CDN, "html", count=1000)
    try:
        assert read_errno(p) == errno.EACCES
    finally:
        s.clear_faults()
    assert "HTML page" in m.read_log()
    errors = open(m.path(".zoomfs", "errors")).read()
    assert "HTML" in errors
    # Once Zoom behaves again, the same file reads fine.
    assert read_errno(p) == 0


def test_server_ignoring_range_is_not_handed_to_the_reader(make_sim, make_mount):
    """A CDN that answers 200 with the whole file to a Range request: usable
    from byte 0, never at another offset (those bytes would be the wrong ones)."""
    s = make_sim(["--users", "1", "--instances", "1", "--months", "1", "--file-size",
                  str(3 << 20), "--cdn-ignore-range"])
    m = make_mount(s)
    p = a_media_file(s, m, min_size=3 << 20)
    with open(p, "rb") as f:
        f.seek((3 << 20) // 2)
        with pytest.raises(OSError) as ei:
            f.read(4096)
    assert ei.value.errno == errno.EIO
    assert "not the bytes asked for" in m.read_log()
    # From byte 0 the whole-file answer is the file: those bytes are right.
    user = s.users()[0]
    inst = s.account()["recordings"][user["id"]][0]
    sizes = {f["_size"]: f["_key"] for f in inst["recording_files"] if f.get("_size")}
    key = sizes[p.stat().st_size]
    with open(p, "rb") as f:
        head = f.read(65536)
    # (this CDN ignores Range for curl too: the whole file comes back)
    assert head == s.download(key)[:65536]


def test_token_is_renewed_ahead_of_expiry(make_sim, make_mount):
    """A token is renewed before it expires (a minute ahead, or a quarter of
    a short life: 2 s of an 8 s token), before Zoom ever refuses it: no 401
    is seen."""
    s = make_sim(SMALL + ["--token-lifetime", "8"])
    m = make_mount(s, opts={"attr_ttl": "0", "dir_ttl": "0"})
    user = s.users()[0]
    before = s.counters()
    time.sleep(6.5)
    with open(m.path("users", user["email"], "user.json")) as f:
        f.read()
    after = s.counters()
    assert Sim.count(after, TOKEN, 200) == Sim.count(before, TOKEN, 200) + 1
    assert not any("401" in v for v in after.values()), after


def test_short_lived_token_is_not_renewed_before_every_request(make_sim, make_mount):
    """A token of 30 s is renewed at a quarter of its life, not before
    every request (as a 60 s margin would)."""
    s = make_sim(SMALL + ["--token-lifetime", "30"])
    m = make_mount(s, opts={"attr_ttl": "0", "dir_ttl": "0"})
    user = s.users()[0]
    before = Sim.count(s.counters(), TOKEN, 200)
    for _ in range(40):
        with open(m.path("users", user["email"], "user.json")) as f:
            f.read()
    after = s.counters()
    assert Sim.count(after, "GET /users/{userId}", 200) >= 40
    assert Sim.count(after, TOKEN, 200) - before <= 1, after


def test_one_token_request_for_many_waiting_threads(make_sim, make_mount):
    """Tokens expire under eight concurrent readers: one renewal serves all."""
    s = make_sim(SMALL + ["--meetings", "8"])
    m = make_mount(s, opts={"attr_ttl": "0", "dir_ttl": "0"})
    user = s.users()[0]
    folder = m.path("users", user["email"], "meetings")
    names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    assert len(names) >= 8
    s.expire_tokens()
    before = s.counters()
    errors = []

    def read(name):
        try:
            with open(folder / name) as f:
                f.read()
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=read, args=(n,)) for n in names[:8]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    after = s.counters()
    assert Sim.count(after, TOKEN, 200) - Sim.count(before, TOKEN, 200) == 1, after


def test_meetings_beyond_one_page(make_sim, make_mount):
    """310 meetings: all listed, with two list requests."""
    s = make_sim(["--users", "1", "--meetings", "310", "--instances", "1", "--months", "1"])
    m = make_mount(s)
    user = s.users()[0]
    s.reset()
    names = os.listdir(m.path("users", user["email"], "meetings"))
    ids = {str(x["id"]) + ".json" for x in s.account(refresh=True)["meetings"][user["id"]]}
    assert len(ids) == 310 and set(names) == ids | {"occurrences", "registrants"}
    assert Sim.count(s.counters(), "GET /users/{userId}/meetings", 200) == 2


def test_ttl_hides_and_then_shows_a_change_made_in_zoom(make_sim, make_mount):
    """Within attr_ttl a change made in Zoom's portal is not fetched (and no
    request is sent); after it, the next read shows it."""
    s = make_sim(SMALL)
    m = make_mount(s, opts={"attr_ttl": "3", "dir_ttl": "3"})
    user = s.users()[0]
    meeting = s.account()["meetings"][user["id"]][0]
    path = m.path("users", user["email"], "meetings", "%s.json" % meeting["id"])
    before = open(path).read()
    s.patch_meeting(meeting["id"], {"topic": "Renamed in the portal"})
    mark = s.mark()
    assert open(path).read() == before
    assert [e for e in s.log(mark) if e["route"] == "GET /meetings/{meetingId}"] == []
    time.sleep(3.5)
    assert '"topic": "Renamed in the portal"' in open(path).read()


def test_a_meeting_deleted_in_zoom_after_the_listing_is_gone_at_once(make_sim, make_mount):
    """The portal deletes a meeting that a cached listing still names: its
    first stat gets Zoom's 404 and answers ENOENT, the listing leaves it out
    from then on (no entry stat cannot answer), nothing asks Zoom again
    within dir_ttl, and the log says it once."""
    s = make_sim(SMALL)
    m = make_mount(s, opts={"dir_ttl": "600", "attr_ttl": "600"})
    user = s.users()[0]
    folder = m.path("users", user["email"], "meetings")
    gone, kept = [str(x["id"]) for x in s.account()["meetings"][user["id"]][:2]]
    assert {gone + ".json", kept + ".json"} <= set(os.listdir(folder))
    s.api("DELETE", "/meetings/%s" % gone)  # from the portal, not through the mount
    mark = s.mark()
    for _ in range(3):
        with pytest.raises(FileNotFoundError):
            os.stat(folder / (gone + ".json"))
        names = set(os.listdir(folder))
        assert gone + ".json" not in names and kept + ".json" in names
        for n in names:
            os.stat(folder / n)
    asked = [e for e in s.log(mark) if e["route"] == "GET /meetings/{meetingId}"]
    assert [(e["path"].rsplit("/", 1)[1], e["status"]) for e in asked
            if e["path"].endswith("/" + gone)] == [(gone, 404)], asked
    assert m.read_log().count("not in Zoom") == 1


def test_json_mtime_is_stable_across_remounts_and_moves_with_content(make_sim, make_mount,
                                                                      tmp_path):
    s = make_sim(SMALL)
    ledger = tmp_path / "mtimes"
    opts = {"ledger": str(ledger)}
    user = s.users()[0]
    meeting = s.account()["meetings"][user["id"]][0]
    rel = ("users", user["email"], "meetings", "%s.json" % meeting["id"])

    m1 = make_mount(s, opts=opts, name="first")
    first = os.stat(m1.path(*rel)).st_mtime
    m1.unmount()
    assert (ledger.stat().st_mode & 0o777) == 0o600
    time.sleep(1.1)
    m2 = make_mount(s, opts=opts, name="second")
    assert os.stat(m2.path(*rel)).st_mtime == first
    m2.unmount()

    s.patch_meeting(meeting["id"], {"agenda": "changed in the portal"})
    time.sleep(1.1)
    m3 = make_mount(s, opts=opts, name="third")
    changed = os.stat(m3.path(*rel)).st_mtime
    assert changed > first


def test_second_ls_lR_within_the_ttl_sends_nothing(make_sim, make_mount):
    s = make_sim(SMALL)
    m = make_mount(s, opts={"attr_ttl": "60", "dir_ttl": "60"})
    first = run_ls(m)
    mark = s.mark()
    second = run_ls(m)
    assert s.log(mark) == []
    assert first == second


def run_ls(mount):
    out = subprocess.run(["ls", "-lR", "--time-style=+%s", str(mount.mnt)], capture_output=True,
                         timeout=120, check=True)
    return out.stdout


def test_fstab_form_with_a_source_argument(make_sim, make_mount):
    """mount(8) runs "zoomfs SOURCE MOUNTPOINT -o …" for an /etc/fstab line:
    the source is ignored; a third positional argument is an error."""
    s = make_sim(SMALL)
    m = make_mount(s, args=["zoomfs"])
    assert sorted(os.listdir(m.path("users"))) == sorted(u["email"] for u in s.users())
    bad = make_mount(s, args=["zoomfs", "extra"], start=False, name="bad")
    rc, log = bad.run_to_exit()
    assert rc not in (None, 0), log
    assert "too many arguments" in log


def test_expired_cdn_url_is_resolved_again(make_sim, make_mount):
    """The signed CDN URL lives 1 s here: a read after that gets 403 from the
    CDN, zoomfs resolves download_url again and the bytes are still right."""
    s = make_sim(["--users", "1", "--instances", "1", "--months", "1", "--file-size",
                  str(3 << 20), "--cdn-ttl", "1"])
    m = make_mount(s, opts={"readahead": str(1 << 20)})
    p = a_media_file(s, m, min_size=3 << 20)
    user = s.users()[0]
    inst = s.account()["recordings"][user["id"]][0]
    key = {f["_size"]: f["_key"] for f in inst["recording_files"] if f.get("_size")}[
        p.stat().st_size]
    mark = s.mark()
    with open(p, "rb") as f:
        head = f.read(4096)
        time.sleep(2.2)
        f.seek(2 << 20)
        tail = f.read(4096)
    zoomfs = [e for e in s.log(mark) if e["route"] in (CDN, DOWNLOAD)]
    assert any(e["route"] == CDN and e["status"] == 403 for e in zoomfs), zoomfs
    assert len([e for e in zoomfs if e["route"] == DOWNLOAD]) >= 2, zoomfs
    assert head == s.download(key, 0, 4095)
    assert tail == s.download(key, 2 << 20, (2 << 20) + 4095)
