"""The write path: PATCH/POST/DELETE from edits, creates, renames and
removals, scratch files, refusals, and the tools people use (echo, sed -i,
jq + mv, vim, cp, rm, rsync --remove-source-files).

Every check is made against the emulator's ordered request log: the log is
marked right before the action under test and the requests sent since are
compared exactly, not only the state they leave behind. The spec is
docs/semantics.md.

Each test takes meetings and recording instances nobody else in the module
uses (take_meeting / take_instance), so the tests do not depend on their
order. Every DELETE a test means to send is recorded once that test has
checked it; the last test asserts that the module's emulator saw no other.
"""

import datetime
import errno
import json
import os
import re
import shlex
import shutil
import stat
import urllib.parse
import zoneinfo
from pathlib import Path

import pytest

from .util import instance_files, media_files, run, sha256_file, show, walk_instances, writes

MiB = 1 << 20

SIM_ARGS = ["--users", "3", "--seed", "11", "--meetings", "9", "--instances", "2",
            "--months", "1", "--file-size", "65536"]

PATCH_MEETING = "PATCH /meetings/{meetingId}"
PATCH_WEBINAR = "PATCH /webinars/{webinarId}"
PATCH_USER = "PATCH /users/{userId}"
PATCH_SETTINGS = "PATCH /users/{userId}/settings"
GET_MEETING = "GET /meetings/{meetingId}"
GET_WEBINAR = "GET /webinars/{webinarId}"
GET_USER = "GET /users/{userId}"
GET_SETTINGS = "GET /users/{userId}/settings"
POST_MEETING = "POST /users/{userId}/meetings"
POST_WEBINAR = "POST /users/{userId}/webinars"
DELETE_MEETING = "DELETE /meetings/{meetingId}"
DELETE_WEBINAR = "DELETE /webinars/{webinarId}"
DELETE_FILE = "DELETE /meetings/{meetingId}/recordings/{recordingId}"
DELETE_INSTANCE = "DELETE /meetings/{meetingId}/recordings"
CDN = "GET /cdn/{fileKey}"
DOWNLOAD = "GET /rec/download/{fileKey}"

# A valid POSIX ACL (user::rw-, group::r--, other::---) as vim and sed set it.
ACL_BLOB = (b"\x02\x00\x00\x00"
            b"\x01\x00\x06\x00\xff\xff\xff\xff"
            b"\x04\x00\x04\x00\xff\xff\xff\xff"
            b"\x20\x00\x00\x00\xff\xff\xff\xff")

# --------------------------------------------------------------------------
# bookkeeping shared by the module

_taken_meetings = set()
_taken_instances = set()
_checked_deletes = set()  # seqs of DELETEs a test sent on purpose and checked


def note_deletes(entries):
    """Records the DELETEs of a checked log window as intended."""
    for e in entries:
        if e["method"] == "DELETE":
            _checked_deletes.add(e["seq"])


# --------------------------------------------------------------------------
# helpers over the request log




def brief(entries):
    return [(e["method"], e["route"], e["body"]) for e in entries]




def query_of(entry):
    q = entry.get("query") or {}
    if isinstance(q, str):
        q = urllib.parse.parse_qs(q.lstrip("?"))
    return {k: v[0] if isinstance(v, list) else v for k, v in q.items()}


def unquote_all(s):
    """Undoes Zoom's (double) URL encoding of path segments."""
    prev = None
    while prev != s:
        prev, s = s, urllib.parse.unquote(s)
    return s


def path_parts(entry):
    """The decoded segments of a logged request path, without /v2."""
    p = entry["path"].split("?", 1)[0]
    if p.startswith("/v2/"):
        p = p[3:]
    return [unquote_all(x) for x in p.strip("/").split("/")]


def assert_one_write(entries, method, route, body=None, ident=None):
    """Exactly one changing request in the window: method + route (+ body,
    + the object id in the path). Returns it."""
    w = writes(entries)
    expected = [(method, route, body)] if body is not None else None
    got = brief(w) if body is not None else [(e["method"], e["route"]) for e in w]
    if expected is None:
        expected = [(method, route)]
    assert got == expected, "expected exactly %r, the emulator got:\n%s" % (expected, show(entries))
    if ident is not None:
        assert str(ident) in path_parts(w[0]), (ident, w[0]["path"])
    return w[0]


def assert_refetched(entries, after, get_route):
    """After a successful change the object is fetched again."""
    assert after["status"] in (200, 201, 204), show(entries)
    assert any(e["method"] == "GET" and e["route"] == get_route and e["seq"] > after["seq"]
               for e in entries), "no %s after the change:\n%s" % (get_route, show(entries))


def assert_nothing_sent(entries):
    assert entries == [], "expected no request at all, the emulator got:\n%s" % show(entries)


def assert_no_write(entries):
    assert writes(entries) == [], "expected no change sent, the emulator got:\n%s" % show(entries)


# --------------------------------------------------------------------------
# helpers over the emulator's account and the mount


def owner(sim):
    return sim.account()["users"][0]


def user_by_id(sim, uid):
    return next(u for u in sim.account()["users"] if u["id"] == uid)


def sim_object(sim, folder, ident):
    """A meeting or webinar as the emulator now holds it (None once deleted)."""
    acct = sim.account(refresh=True)
    for objs in acct.get(folder, {}).values():
        for o in objs:
            if str(o["id"]) == str(ident):
                return o
    return None


def sim_ids(sim, folder, uid):
    return {str(o["id"]) for o in sim.account(refresh=True).get(folder, {}).get(uid, [])}


def take_meeting(sim, mtype=2, folder="meetings", user_index=None):
    """(user, meeting) that no other test of the module uses."""
    acct = sim.account(refresh=True)
    users = acct["users"]
    order = list(range(1, len(users))) + [0] if user_index is None else [user_index]
    # Any type will do: leave the plain scheduled ones (type 2) to the tests
    # that need them.
    passes = [mtype] if mtype is not None else ["other", None]
    for want in passes:
        for i in order:
            u = users[i]
            for m in acct.get(folder, {}).get(u["id"], []):
                if m["id"] in _taken_meetings:
                    continue
                if want is None or m["type"] == want or (want == "other" and m["type"] != 2):
                    _taken_meetings.add(m["id"])
                    return u, m
    raise AssertionError("no unused %s of type %s left; raise --meetings" % (folder, mtype))


def jpath(mount, user, folder, ident):
    return mount.path("users", user["email"], folder, "%s.json" % ident)


def read_json(path):
    return json.loads(Path(path).read_bytes())


def write_fd(path, data, flags=os.O_WRONLY | os.O_TRUNC, mode=0o600):
    """Writes data with os.open/os.write/os.close, so that close()'s error is
    seen (the shell ignores it). Raises the OSError of write or close."""
    fd = os.open(path, flags, mode)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except BaseException:
        try:
            os.close(fd)
        except OSError:
            pass
        raise
    os.close(fd)


def dumps(obj):
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()


def errors_lines(mount):
    return mount.path(".zoomfs", "errors").read_text(errors="replace").splitlines()


def new_lines(before, after):
    seen = set(before)
    return [line for line in after if line not in seen]


def instance_folders(mount, user):
    """[(folder Path, recording.json)] of a user's instances in the mount."""
    out = []
    for _, folder in walk_instances(mount.path("users", user["email"], "recordings")):
        out.append((folder, read_json(folder / "recording.json")))
    return out


def take_instance(sim, mount, user_index):
    """(folder, emulator instance) of an instance no other test uses."""
    user = sim.account()["users"][user_index]
    by_uuid = {i["uuid"]: i for i in sim.account(refresh=True)["recordings"][user["id"]]}
    for folder, rec in instance_folders(mount, user):
        if rec["uuid"] not in _taken_instances:
            _taken_instances.add(rec["uuid"])
            return folder, by_uuid[rec["uuid"]]
    raise AssertionError("no unused instance left for user %d" % user_index)


def file_by_size(folder, inst, want_id=True):
    """(Path, emulator file) of a media file whose size is unique in its
    instance (so the match needs no download); with or without a Zoom id."""
    files = instance_files(inst)
    sizes = [f["_size"] for f in files]
    for p in media_files(folder):
        size = p.stat().st_size
        if sizes.count(size) != 1:
            continue
        f = next(f for f in files if f["_size"] == size)
        if bool(f.get("id")) == want_id:
            return p, f
    raise AssertionError("no media file of unique size (id=%s) in %s" % (want_id, folder))


def sim_file(sim, uuid, key):
    """The emulator's file (trashed ones included) of an instance, by key."""
    for insts in sim.account(refresh=True)["recordings"].values():
        for inst in insts:
            if inst["uuid"] == uuid:
                for f in (inst.get("recording_files") or []) + (
                        inst.get("participant_audio_files") or []):
                    if f.get("_key") == key:
                        return f
    return None


def expect_errno(err, fn, *args, **kw):
    with pytest.raises(OSError) as ei:
        fn(*args, **kw)
    assert ei.value.errno == err, "%s%r: expected %s, got %s" % (
        getattr(fn, "__name__", fn), args, errno.errorcode[err], ei.value)


def sh(cmd, cwd=None, check=True, timeout=60):
    return run(["bash", "-c", cmd], cwd=cwd, check=check, timeout=timeout)


# --------------------------------------------------------------------------
# editing an existing object: one PATCH with only the changed fields


def test_meeting_patch_carries_only_changed_fields(sim, mnt):
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    obj = read_json(p)
    new_topic = "Changed topic %d" % m["id"]
    waiting = not obj["settings"]["waiting_room"]
    obj["topic"] = new_topic
    obj["settings"]["waiting_room"] = waiting
    # Read-only fields changed in the file: never sent.
    obj["uuid"] = "changed-uuid=="
    obj["join_url"] = "https://example.com/j/1"
    obj["created_at"] = "2001-01-01T00:00:00Z"
    obj["host_email"] = "someone@example.com"
    mark = sim.mark()
    with open(p, "wb") as f:
        f.write(dumps(obj))
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING,
                             {"topic": new_topic, "settings": {"waiting_room": waiting}},
                             ident=m["id"])
    assert patch["status"] == 204, show(entries)
    assert_refetched(entries, patch, GET_MEETING)
    now = sim_object(sim, "meetings", m["id"])
    assert now["topic"] == new_topic and now["settings"]["waiting_room"] == waiting
    assert now["uuid"] == m["uuid"] and now["join_url"] == m["join_url"]
    assert read_json(p) == now


def test_next_read_shows_what_zoom_stored(sim, mnt):
    """Zoom normalises a local start_time to UTC: after the PATCH the object
    is fetched again, so the file shows Zoom's value, not the one written."""
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    obj = read_json(p)
    local = datetime.datetime(2031, 6, 1, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(obj["timezone"]))
    utc = local.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    obj["start_time"] = "2031-06-01T12:00:00"  # local to the meeting's timezone
    mark = sim.mark()
    with open(p, "wb") as f:
        f.write(dumps(obj))
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING,
                             {"start_time": "2031-06-01T12:00:00"}, ident=m["id"])
    assert_refetched(entries, patch, GET_MEETING)
    assert read_json(p)["start_time"] == utc
    assert read_json(p) == sim_object(sim, "meetings", m["id"])


def test_arrays_are_sent_whole(sim, make_mount):
    user, m = take_meeting(sim)
    fields = [{"field": "team", "value": "a"}, {"field": "cost", "value": "1"}]
    sim.patch_meeting(m["id"], {"tracking_fields": fields})
    mount = make_mount(sim)  # cold cache: reads what the emulator now holds
    p = jpath(mount, user, "meetings", m["id"])
    obj = read_json(p)
    assert obj["tracking_fields"] == fields
    obj["tracking_fields"][1]["value"] = "2"
    mark = sim.mark()
    with open(p, "wb") as f:
        f.write(dumps(obj))
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING,
                             {"tracking_fields": [{"field": "team", "value": "a"},
                                                  {"field": "cost", "value": "2"}]},
                             ident=m["id"])
    assert_refetched(entries, patch, GET_MEETING)
    assert read_json(p) == sim_object(sim, "meetings", m["id"])


def test_webinar_patch(sim, mnt):
    user, w = take_meeting(sim, mtype=None, folder="webinars", user_index=0)
    p = jpath(mnt, user, "webinars", w["id"])
    obj = read_json(p)
    obj["topic"] = "Webinar renamed"
    obj["settings"]["practice_session"] = not obj["settings"]["practice_session"]
    obj["id"] = 1  # read-only
    mark = sim.mark()
    with open(p, "wb") as f:
        f.write(dumps(obj))
    entries = sim.log(mark)
    practice = obj["settings"]["practice_session"]
    patch = assert_one_write(entries, "PATCH", PATCH_WEBINAR,
                             {"topic": "Webinar renamed",
                              "settings": {"practice_session": practice}},
                             ident=w["id"])
    assert_refetched(entries, patch, GET_WEBINAR)
    assert read_json(p) == sim_object(sim, "webinars", w["id"])


def test_user_json_patch(sim, mnt):
    user = sim.account(refresh=True)["users"][1]
    p = mnt.path("users", user["email"], "user.json")
    obj = read_json(p)
    obj["job_title"] = "Chief Tester"
    obj["first_name"] = "Renamed"
    obj["email"] = "elsewhere@example.com"  # read-only
    obj["created_at"] = "2001-01-01T00:00:00Z"  # read-only
    obj["group_ids"] = ["g1"]  # read-only
    mark = sim.mark()
    with open(p, "wb") as f:
        f.write(dumps(obj))
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_USER,
                             {"job_title": "Chief Tester", "first_name": "Renamed"},
                             ident=user["id"])
    assert_refetched(entries, patch, GET_USER)
    sim.account(refresh=True)
    now = user_by_id(sim, user["id"])
    assert now["job_title"] == "Chief Tester" and now["email"] == user["email"]
    # Zoom derives display_name: the next read shows what Zoom holds.
    assert now["display_name"] == "Renamed " + user["last_name"]
    assert read_json(p) == now


def test_fields_zoom_takes_in_no_patch_are_never_sent(sim, mnt):
    """What GET returns but PATCH does not take comes from Zoom's spec (the
    generated lists in src/readonly_fields.c): changing only such fields
    sends nothing, at any depth, so a tool that rewrites the whole file
    (jq … > t && mv t user.json) cannot get a misleading refusal."""
    user = sim.account(refresh=True)["users"][1]
    p = mnt.path("users", user["email"], "user.json")
    obj = read_json(p)
    obj["vanity_url"] = "https://example.zoom.us/my/x"
    obj["employee_unique_id"] = "E-1"
    obj["user_created_at"] = "2001-01-01T00:00:00Z"  # returned by Zoom, not in its spec
    mark = sim.mark()
    with open(p, "wb") as f:
        f.write(dumps(obj))
    assert_no_write(sim.log(mark))

    s = mnt.path("users", user["email"], "settings.json")
    obj = read_json(s)
    obj["audio_conferencing"] = {"toll_free_and_fee_based_toll_call": {"enable": True}}
    obj.setdefault("feature", {})["cn_meeting"] = True
    mark = sim.mark()
    with open(s, "wb") as f:
        f.write(dumps(obj))
    assert_no_write(sim.log(mark))


def test_settings_json_patch_is_recursive(sim, mnt):
    user = sim.account(refresh=True)["users"][2]
    p = mnt.path("users", user["email"], "settings.json")
    obj = read_json(p)
    chat = not obj["in_meeting"]["chat"]
    obj["in_meeting"]["chat"] = chat
    mark = sim.mark()
    with open(p, "wb") as f:
        f.write(dumps(obj))
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_SETTINGS, {"in_meeting": {"chat": chat}},
                             ident=user["id"])
    assert_refetched(entries, patch, GET_SETTINGS)
    assert read_json(p) == sim.api("GET", "/users/%s/settings" % user["id"])


def test_no_difference_sends_nothing(sim, mnt):
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    obj = read_json(p)
    # Same object, other formatting and key order: still no difference.
    compact = json.dumps(dict(reversed(list(obj.items()))), separators=(",", ":")).encode()
    mark = sim.mark()
    write_fd(p, compact)
    with open(p, "wb") as f:
        f.write(dumps(obj))
    assert_nothing_sent(sim.log(mark))


# --------------------------------------------------------------------------
# saves that fail: an error at close, nothing sent, nothing lost


@pytest.mark.parametrize("content", [b'{\n  "topic": "x",\n  "duration": \n', b"[1]\n",
                                     b'"just a string"\n'],
                         ids=["invalid-json", "array", "string"])
def test_not_a_json_object_is_einval_at_close(sim, mnt, content):
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    before_obj = read_json(p)
    errs = errors_lines(mnt)
    mark = sim.mark()
    expect_errno(errno.EINVAL, write_fd, p, content)
    entries = sim.log(mark)
    assert_no_write(entries)
    # The next read shows Zoom's current, unchanged object.
    assert read_json(p) == before_obj == sim_object(sim, "meetings", m["id"])
    added = new_lines(errs, errors_lines(mnt))
    assert any(str(m["id"]) in line for line in added), added
    if content.startswith(b"{"):
        assert any(re.search(r"line \d+", line) for line in added), added


def test_2mib_write_is_efbig_and_sends_nothing(sim, mnt):
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    before_obj = read_json(p)
    big = b'{"agenda": "' + b"x" * (2 * MiB) + b'"}\n'
    mark = sim.mark()
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    write_err = None
    try:
        view = memoryview(big)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except OSError as e:
        write_err = e
    close_err = None
    try:
        os.close(fd)
    except OSError as e:
        close_err = e
    assert write_err is not None and write_err.errno == errno.EFBIG, \
        "write of 2 MiB: expected EFBIG, got %r" % write_err
    assert close_err is not None and close_err.errno == errno.EFBIG, \
        "close after an EFBIG write: expected EFBIG, got %r" % close_err
    assert_no_write(sim.log(mark))
    assert read_json(p) == before_obj == sim_object(sim, "meetings", m["id"])


def test_zoom_refusal_is_einval_with_zooms_message(sim, mnt):
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    before_obj = read_json(p)
    errs = errors_lines(mnt)
    log_at = len(mnt.read_log())
    mark = sim.mark()
    expect_errno(errno.EINVAL, write_fd, p, b'{"duration": "long"}\n')
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING, {"duration": "long"},
                             ident=m["id"])
    assert patch["status"] == 400, show(entries)
    log = mnt.read_log()[log_at:]
    assert re.search(r"Validation Failed.*duration|duration.*Validation Failed", log), log[-3000:]
    added = new_lines(errs, errors_lines(mnt))
    assert any("Validation Failed" in line and "duration" in line for line in added), added
    assert sim_object(sim, "meetings", m["id"]) == before_obj
    assert read_json(p) == before_obj


# --------------------------------------------------------------------------
# creating: one POST, then <newId>.json


@pytest.mark.parametrize("folder", ["meetings", "webinars"])
def test_create_new_json_posts_once(sim, mnt, folder):
    user = owner(sim)  # the owner has the webinar add-on
    d = mnt.path("users", user["email"], folder)
    before = sim_ids(sim, folder, user["id"])
    assert set(os.listdir(d)) == {"%s.json" % i for i in before} | {"occurrences",
                                                                     "registrants"}
    body = {"topic": "Created by a test (%s)" % folder, "type": 2 if folder == "meetings" else 5,
            "duration": 15, "start_time": "2031-05-04T10:00:00Z", "agenda": "new"}
    mark = sim.mark()
    with open(d / "new-thing.json", "wb") as f:
        f.write(dumps(body))
    entries = sim.log(mark)
    post = assert_one_write(entries, "POST", POST_MEETING if folder == "meetings" else POST_WEBINAR,
                            body, ident=user["id"])
    assert post["status"] == 201, show(entries)
    created = sim_ids(sim, folder, user["id"]) - before
    assert len(created) == 1, created
    new_id = created.pop()
    names = set(os.listdir(d))
    assert "%s.json" % new_id in names, names
    assert "new-thing.json" not in names, names
    assert not (d / "new-thing.json").exists()
    obj = read_json(d / ("%s.json" % new_id))
    assert obj["topic"] == body["topic"] and str(obj["id"]) == new_id


@pytest.mark.parametrize("kind", ["reset", "drop", "5xx"])
def test_post_with_unknown_outcome_is_not_retried(sim, mnt, kind):
    """Zoom may have created the meeting: close() fails with EIO and the POST
    is never sent again — not by zoomfs, and not by the HTTP client, which
    resends a request silently when a reused connection dies with no answer
    ("drop"), unless the POST has a connection of its own."""
    user = sim.account()["users"][2]
    d = mnt.path("users", user["email"], "meetings")
    os.listdir(d)
    mnt.stats()  # a request or two first: idle connections wait in the pool
    os.stat(mnt.path("users", user["email"], "user.json"))
    log_at = len(mnt.read_log())
    extra = {"after_bytes": 0} if kind == "reset" else {"status": 503} if kind == "5xx" else {}
    sim.fault(POST_MEETING, kind, count=1, **extra)
    try:
        mark = sim.mark()
        expect_errno(errno.EIO, write_fd, d / ("lost-%s.json" % kind),
                     dumps({"topic": "Maybe created (%s)" % kind, "type": 2}),
                     flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        entries = sim.log(mark)
    finally:
        sim.clear_faults()
    posts = [e for e in entries if e["route"] == POST_MEETING]
    assert len(posts) == 1, "a POST was sent %d times:\n%s" % (len(posts), show(entries))
    assert_one_write(entries, "POST", POST_MEETING)
    log = mnt.read_log()[log_at:]
    assert re.search(r"may (exist|have taken effect)", log), log[-3000:]


# --------------------------------------------------------------------------
# deleting: only rm and rmdir, one request each


def test_rm_meeting_json_deletes_once(sim, mnt):
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    assert p.exists()
    mark = sim.mark()
    run(["rm", str(p)])
    entries = sim.log(mark)
    d = assert_one_write(entries, "DELETE", DELETE_MEETING, ident=m["id"])
    assert d["status"] == 204 and path_parts(d) == ["meetings", str(m["id"])], show(entries)
    note_deletes(entries)
    assert sim_object(sim, "meetings", m["id"]) is None
    assert "%s.json" % m["id"] not in os.listdir(p.parent)


def test_rm_webinar_json_deletes_once(sim, mnt):
    user, w = take_meeting(sim, mtype=None, folder="webinars", user_index=0)
    p = jpath(mnt, user, "webinars", w["id"])
    assert p.exists()
    mark = sim.mark()
    os.unlink(p)
    entries = sim.log(mark)
    d = assert_one_write(entries, "DELETE", DELETE_WEBINAR, ident=w["id"])
    assert path_parts(d) == ["webinars", str(w["id"])], show(entries)
    note_deletes(entries)
    assert sim_object(sim, "webinars", w["id"]) is None


def test_rm_media_file_trashes_it(sim, mnt):
    folder, inst = take_instance(sim, mnt, 1)
    p, f = file_by_size(folder, inst)
    mark = sim.mark()
    run(["rm", str(p)])
    entries = sim.log(mark)
    d = assert_one_write(entries, "DELETE", DELETE_FILE)
    assert path_parts(d) == ["meetings", inst["uuid"], "recordings", f["id"]], show(entries)
    assert query_of(d) == {"action": "trash"}, show(entries)
    note_deletes(entries)
    assert sim_file(sim, inst["uuid"], f["_key"]).get("deleted_time")
    assert p.name not in os.listdir(folder)


def test_rmdir_instance_trashes_it_in_one_request(sim, mnt):
    folder, inst = take_instance(sim, mnt, 1)
    assert len(os.listdir(folder)) > 1  # not empty: rmdir still takes it
    mark = sim.mark()
    os.rmdir(folder)
    entries = sim.log(mark)
    d = assert_one_write(entries, "DELETE", DELETE_INSTANCE)
    assert path_parts(d) == ["meetings", inst["uuid"], "recordings"], show(entries)
    assert query_of(d) == {"action": "trash"}, show(entries)
    note_deletes(entries)
    assert all(f.get("deleted_time") for f in
               (sim_file(sim, inst["uuid"], g["_key"]) for g in instance_files(inst)))
    assert folder.name not in os.listdir(folder.parent)


def test_recording_delete_option_makes_deletes_permanent(sim, make_mount):
    m = make_mount(sim, opts={"recording_delete": "delete"})
    folder, inst = take_instance(sim, m, 2)
    p, f = file_by_size(folder, inst)
    mark = sim.mark()
    os.unlink(p)
    entries = sim.log(mark)
    d = assert_one_write(entries, "DELETE", DELETE_FILE)
    assert path_parts(d) == ["meetings", inst["uuid"], "recordings", f["id"]], show(entries)
    assert query_of(d) == {"action": "delete"}, show(entries)
    note_deletes(entries)
    assert sim_file(sim, inst["uuid"], f["_key"]) is None  # gone, not in the trash

    mark = sim.mark()
    os.rmdir(folder)
    entries = sim.log(mark)
    d = assert_one_write(entries, "DELETE", DELETE_INSTANCE)
    assert path_parts(d) == ["meetings", inst["uuid"], "recordings"], show(entries)
    assert query_of(d) == {"action": "delete"}, show(entries)
    note_deletes(entries)
    assert inst["uuid"] not in {i["uuid"] for i in
                                sim.account(refresh=True)["recordings"][user_id(sim, 2)]}


def user_id(sim, index):
    return sim.account()["users"][index]["id"]


def test_cc_and_timeline_leave_with_the_last_file(sim, mnt):
    """Zoom deletes single files by id; CC and TIMELINE files have none. rm of
    one succeeds and sends nothing while other files remain (the file is hidden);
    when the last file of the instance is removed, the instance goes to the
    trash with them in one request, and only then."""
    folder, inst = take_instance(sim, mnt, 2)
    p, f = file_by_size(folder, inst, want_id=False)
    assert f["file_type"] in ("CC", "TIMELINE"), f
    mark = sim.mark()
    os.unlink(p)
    assert_no_write(sim.log(mark))
    assert p.name not in os.listdir(folder)
    assert not sim_file(sim, inst["uuid"], f["_key"]).get("deleted_time")

    rest = sorted(media_files(folder))
    assert rest, "nothing left to remove in %s" % folder
    by_size = {g["_size"]: g for g in instance_files(inst)}
    mark = sim.mark()
    for q in rest:
        os.unlink(q)
    entries = sim.log(mark)
    note_deletes(entries)
    deletes = [e for e in writes(entries)]
    assert all(e["method"] == "DELETE" for e in deletes), show(entries)
    # One trash DELETE per file with an id, then exactly one for the instance, last.
    assert [e["route"] for e in deletes[:-1]] == [DELETE_FILE] * (len(deletes) - 1), show(deletes)
    assert deletes[-1]["route"] == DELETE_INSTANCE, show(deletes)
    assert path_parts(deletes[-1]) == ["meetings", inst["uuid"], "recordings"], show(deletes)
    assert query_of(deletes[-1]) == {"action": "trash"}, show(deletes)
    with_id = [g for g in instance_files(inst) if g.get("id")]
    assert len(deletes) - 1 == len(with_id), show(deletes)
    assert by_size  # every file, with or without id, is in the trash now
    assert all(sim_file(sim, inst["uuid"], g["_key"]).get("deleted_time")
               for g in instance_files(inst))


def test_rm_recording_json_sends_nothing_and_hides_it(sim, mnt):
    folder, inst = take_instance(sim, mnt, 0)
    listing = set(os.listdir(folder))
    assert "recording.json" in listing
    mark = sim.mark()
    os.unlink(folder / "recording.json")
    assert_no_write(sim.log(mark))
    assert set(os.listdir(folder)) == listing - {"recording.json"}
    assert not (folder / "recording.json").exists()
    # The files it described are still there, in the mount and in Zoom.
    assert all(not sim_file(sim, inst["uuid"], g["_key"]).get("deleted_time")
               for g in instance_files(inst))


def test_other_removals_are_refused_and_send_nothing(sim, mnt):
    user = sim.account()["users"][1]
    base = mnt.path("users", user["email"])
    month = next(iter(sorted(os.listdir(base / "recordings"))))
    mark = sim.mark()
    for d in (base / "meetings", base / "webinars" if (base / "webinars").exists() else None,
              base / "recordings" / month, base / "recordings", base):
        if d is not None:
            expect_errno(errno.EPERM, os.rmdir, d)
    for f in (base / "user.json", base / "settings.json"):
        expect_errno(errno.EPERM, os.unlink, f)
    expect_errno(errno.EPERM, os.mkdir, base / "meetings" / "sub")
    assert_no_write(sim.log(mark))


# --------------------------------------------------------------------------
# scratch files: in memory, never sent


def test_scratch_files_are_never_sent(sim, mnt):
    user, m = take_meeting(sim, mtype=None)
    base = mnt.path("users", user["email"])
    meetings = base / "meetings"
    before = set(os.listdir(meetings))
    os.listdir(base)
    read_json(jpath(mnt, user, "meetings", m["id"]))
    names = ["notes.txt", "t", ".%s.json.swp" % m["id"], "%s.json~" % m["id"], "4913",
             "sedAbC123"]
    mark = sim.mark()
    for n in names:
        data = ("scratch %s\n" % n).encode() * 100
        with open(meetings / n, "wb") as f:
            f.write(data)
        assert (meetings / n).read_bytes() == data
    with open(base / "notes.txt", "w") as f:
        f.write("in the user folder\n")
    assert set(os.listdir(meetings)) == before | set(names)
    os.rename(meetings / "t", meetings / "t2")
    assert (meetings / "t2").read_bytes().startswith(b"scratch t\n")
    with open(meetings / "t2", "ab") as f:
        f.write(b"more\n")
    os.truncate(meetings / "t2", 5)
    assert (meetings / "t2").read_bytes() == b"scrat"
    for n in [x for x in names if x != "t"] + ["t2"]:
        os.unlink(meetings / n)
    os.unlink(base / "notes.txt")
    assert set(os.listdir(meetings)) == before
    assert_nothing_sent(sim.log(mark))


def test_rename_scratch_onto_existing_json_is_one_patch(sim, mnt):
    user, m = take_meeting(sim)
    d = mnt.path("users", user["email"], "meetings")
    p = d / ("%s.json" % m["id"])
    obj = read_json(p)
    obj["topic"] = "Renamed into place"
    mark = sim.mark()
    with open(d / "t", "wb") as f:
        f.write(dumps(obj))
    os.rename(d / "t", p)
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING, {"topic": "Renamed into place"},
                             ident=m["id"])
    assert_refetched(entries, patch, GET_MEETING)
    assert "t" not in os.listdir(d)
    assert read_json(p) == sim_object(sim, "meetings", m["id"])


def test_rename_scratch_onto_new_json_is_one_post(sim, mnt):
    user = sim.account()["users"][1]
    d = mnt.path("users", user["email"], "meetings")
    before = sim_ids(sim, "meetings", user["id"])
    body = {"topic": "Made by mv", "type": 2, "duration": 20}
    mark = sim.mark()
    with open(d / "scratch.tmp", "wb") as f:
        f.write(dumps(body))
    os.rename(d / "scratch.tmp", d / "from-mv.json")
    entries = sim.log(mark)
    assert_one_write(entries, "POST", POST_MEETING, body, ident=user["id"])
    created = sim_ids(sim, "meetings", user["id"]) - before
    assert len(created) == 1, created
    names = set(os.listdir(d))
    assert "%s.json" % created.pop() in names
    assert "from-mv.json" not in names and "scratch.tmp" not in names, names


# --------------------------------------------------------------------------
# -o ro


def test_read_only_mount_refuses_every_change(sim, make_mount):
    m = make_mount(sim, opts={"ro": True})
    user, mt = take_meeting(sim, mtype=None, user_index=0)
    base = m.path("users", user["email"])
    p = base / "meetings" / ("%s.json" % mt["id"])
    original = p.read_bytes()
    folder, rec = next((f, r) for f, r in instance_folders(m, user)
                       if r["uuid"] not in _taken_instances)
    inst = next(i for i in sim.account(refresh=True)["recordings"][user["id"]]
                if i["uuid"] == rec["uuid"])
    media = media_files(folder)[0]
    before_ids = sim_ids(sim, "meetings", user["id"])
    mark = sim.mark()
    expect_errno(errno.EROFS, os.open, p, os.O_WRONLY)
    expect_errno(errno.EROFS, os.open, p, os.O_WRONLY | os.O_TRUNC)
    expect_errno(errno.EROFS, os.open, base / "meetings" / "new.json",
                 os.O_WRONLY | os.O_CREAT, 0o600)
    expect_errno(errno.EROFS, os.open, base / "meetings" / "notes.txt",
                 os.O_WRONLY | os.O_CREAT, 0o600)
    expect_errno(errno.EROFS, os.open, base / "user.json", os.O_RDWR)
    expect_errno(errno.EROFS, os.truncate, p, 0)
    expect_errno(errno.EROFS, os.rename, p, base / "meetings" / ("%s.json~" % mt["id"]))
    expect_errno(errno.EROFS, os.unlink, p)
    expect_errno(errno.EROFS, os.unlink, media)
    expect_errno(errno.EROFS, os.unlink, folder / "recording.json")
    expect_errno(errno.EROFS, os.rmdir, folder)
    expect_errno(errno.EROFS, os.mkdir, base / "meetings" / "d")
    cp = sh("echo '{\"topic\":\"nope\"}' > '%s'" % p, check=False)
    assert cp.returncode != 0 and b"Read-only file system" in cp.stderr, cp
    assert_no_write(sim.log(mark))
    assert p.read_bytes() == original
    assert media.exists() and (folder / "recording.json").exists()
    assert sim_ids(sim, "meetings", user["id"]) == before_ids
    assert not any(sim_file(sim, inst["uuid"], g["_key"]).get("deleted_time")
                   for g in instance_files(inst))


# --------------------------------------------------------------------------
# chmod, utimens, truncate, xattrs


def test_chmod_only_to_the_current_mode(sim, mnt):
    user, m = take_meeting(sim, mtype=None)
    p = jpath(mnt, user, "meetings", m["id"])
    mode = stat.S_IMODE(os.stat(p).st_mode)
    assert mode == 0o600
    mark = sim.mark()
    expect_errno(errno.EPERM, os.chmod, p, 0o644)
    expect_errno(errno.EPERM, os.chmod, p, 0o400)
    os.chmod(p, mode)
    assert_no_write(sim.log(mark))
    assert stat.S_IMODE(os.stat(p).st_mode) == mode


def test_utime_succeeds_and_sends_nothing(sim, mnt):
    user, m = take_meeting(sim, mtype=None)
    p = jpath(mnt, user, "meetings", m["id"])
    st = os.stat(p)
    mark = sim.mark()
    os.utime(p, (1000000000, 1000000000))
    os.utime(p)
    assert_nothing_sent(sim.log(mark))
    assert os.stat(p).st_mtime == st.st_mtime


def test_ftruncate_then_write_is_one_patch(sim, mnt):
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    obj = read_json(p)
    obj["agenda"] = "after ftruncate"
    mark = sim.mark()
    fd = os.open(p, os.O_RDWR)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, dumps(obj))
    finally:
        os.close(fd)
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING, {"agenda": "after ftruncate"},
                             ident=m["id"])
    assert_refetched(entries, patch, GET_MEETING)
    assert read_json(p)["agenda"] == "after ftruncate"


def test_truncate_of_a_closed_json_file(sim, mnt):
    user, m = take_meeting(sim, mtype=None)
    p = jpath(mnt, user, "meetings", m["id"])
    size = os.stat(p).st_size
    data = p.read_bytes()
    mark = sim.mark()
    os.truncate(p, size)  # unchanged size: fine
    expect_errno(errno.EPERM, os.truncate, p, 0)
    expect_errno(errno.EPERM, os.truncate, p, size + 10)
    assert_no_write(sim.log(mark))
    assert p.read_bytes() == data


@pytest.mark.parametrize("name,value", [("system.posix_acl_access", ACL_BLOB),
                                        ("user.x", b"1")], ids=["acl", "user.x"])
def test_setxattr_is_not_supported(sim, mnt, name, value):
    user, m = take_meeting(sim, mtype=None)
    p = jpath(mnt, user, "meetings", m["id"])
    p.stat()
    mark = sim.mark()
    expect_errno(errno.EOPNOTSUPP, os.setxattr, p, name, value)
    scratch = p.parent / "xattr-scratch"
    scratch.write_bytes(b"x")
    try:
        expect_errno(errno.EOPNOTSUPP, os.setxattr, scratch, name, value)
    finally:
        scratch.unlink()
    assert_no_write(sim.log(mark))


# --------------------------------------------------------------------------
# the tools people use


def test_echo_redirect_is_one_patch_of_the_topic(sim, mnt):
    user, m = take_meeting(sim)
    p = jpath(mnt, user, "meetings", m["id"])
    before_obj = read_json(p)
    assert before_obj["topic"] != "Standup"
    mark = sim.mark()
    sh("echo '{\"topic\":\"Standup\"}' > '%s'" % p)
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING, {"topic": "Standup"},
                             ident=m["id"])
    assert_refetched(entries, patch, GET_MEETING)
    after = read_json(p)
    # A partial object is a partial update: everything else as it was.
    assert after == dict(before_obj, topic="Standup") == sim_object(sim, "meetings", m["id"])


def test_sed_i_is_one_patch(sim, make_mount):
    user, m = take_meeting(sim)
    sim.patch_meeting(m["id"], {"duration": 30})
    mount = make_mount(sim)
    d = mount.path("users", user["email"], "meetings")
    p = d / ("%s.json" % m["id"])
    assert '"duration": 30,' in p.read_text()
    before_names = set(os.listdir(d))
    mark = sim.mark()
    run(["sed", "-i", 's/"duration": 30/"duration": 45/', str(p)])
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING, {"duration": 45}, ident=m["id"])
    assert_refetched(entries, patch, GET_MEETING)
    assert read_json(p)["duration"] == 45 == sim_object(sim, "meetings", m["id"])["duration"]
    assert set(os.listdir(d)) == before_names  # no sedXXXXXX left behind


def test_jq_to_t_and_mv_is_one_patch(sim, make_mount):
    user, m = take_meeting(sim)
    sim.patch_meeting(m["id"], {"settings": {"waiting_room": False}})
    mount = make_mount(sim)
    d = mount.path("users", user["email"], "meetings")
    name = "%s.json" % m["id"]
    assert read_json(d / name)["settings"]["waiting_room"] is False
    before_names = set(os.listdir(d))
    mark = sim.mark()
    sh("jq '.settings.waiting_room = true' %s > t && mv t %s" % (name, name), cwd=str(d))
    entries = sim.log(mark)
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING,
                             {"settings": {"waiting_room": True}}, ident=m["id"])
    assert_refetched(entries, patch, GET_MEETING)
    assert read_json(d / name)["settings"]["waiting_room"] is True
    assert sim_object(sim, "meetings", m["id"])["settings"]["waiting_room"] is True
    assert set(os.listdir(d)) == before_names


def vim_save(mount, sim, user, m, extra, tmp_path):
    """Runs headless vim on a meeting: duration -> 50, :wq. Returns (log
    window, strace text or None)."""
    d = mount.path("users", user["email"], "meetings")
    name = "%s.json" % m["id"]
    assert read_json(d / name)["duration"] != 50
    # The mounts live under /tmp, which vim's default 'backupskip' lists: with
    # it, vim would make no backup at all. Clear it so vim saves as it does
    # anywhere else (a backup copy, or with backupcopy=no a rename aside).
    cmd = ["vim", "-es", "-u", "DEFAULTS", "-i", "NONE", "-c", "set backupskip=" + extra,
           "-c", r'%s/"duration": \d\+/"duration": 50/', "-c", "wq", name]
    trace = None
    if shutil.which("strace"):
        trace = tmp_path / "vim.strace"
        cmd = ["strace", "-f", "-o", str(trace), "-e",
               "trace=rename,renameat,renameat2,unlink,unlinkat,openat,ftruncate"] + cmd
    mark = sim.mark()
    cp = run(cmd, cwd=str(d), check=False, timeout=60)
    entries = sim.log(mark)
    assert cp.returncode == 0, cp
    return entries, (trace.read_text() if trace else None)


def check_vim_result(sim, mount, user, m, entries):
    patch = assert_one_write(entries, "PATCH", PATCH_MEETING, {"duration": 50}, ident=m["id"])
    assert_refetched(entries, patch, GET_MEETING)
    assert not [e for e in entries if e["method"] == "DELETE"], show(entries)
    d = mount.path("users", user["email"], "meetings")
    ls = run(["ls", "-a", str(d)]).stdout.decode().split("\n")
    expected = {".", "..", "occurrences", "registrants"} | {
        "%s.json" % i for i in sim_ids(sim, "meetings", user["id"])}
    assert {x for x in ls if x} == expected, "leftovers in the folder: %s" % (
        {x for x in ls if x} - expected)
    assert read_json(d / ("%s.json" % m["id"]))["duration"] == 50
    assert sim_object(sim, "meetings", m["id"])["duration"] == 50


def test_vim_with_its_defaults_is_one_patch(sim, make_mount, tmp_path):
    """vim -u DEFAULTS (defaults.vim; backupcopy=auto, writebackup): vim probes
    the folder with a file "4913", then, finding it may, renames m.json
    aside to m.json~ and writes a new m.json."""
    user, m = take_meeting(sim)
    mount = make_mount(sim)
    entries, trace = vim_save(mount, sim, user, m, "", tmp_path)
    if trace is not None:
        assert re.search(r'openat\(.*"4913", O_WRONLY\|O_CREAT', trace), trace[-3000:]
    check_vim_result(sim, mount, user, m, entries)


def test_vim_backupcopy_no_is_one_patch(sim, make_mount, tmp_path):
    """vim -u DEFAULTS with backupcopy=no: renames m.json to m.json~, writes a
    new m.json, removes m.json~. Must be one PATCH, never a POST or DELETE."""
    user, m = take_meeting(sim)
    mount = make_mount(sim)
    entries, trace = vim_save(mount, sim, user, m, " backupcopy=no", tmp_path)
    if trace is not None:  # vim really took the rename path
        name = "%s.json" % m["id"]
        assert re.search(r'rename(at2?)?\(.*"%s", .*"%s~"' % (re.escape(name), re.escape(name)),
                         trace), "vim did not rename the file aside:\n" + trace[-3000:]
    check_vim_result(sim, mount, user, m, entries)


def test_vim_backupcopy_yes_is_one_patch(sim, make_mount, tmp_path):
    """vim -u DEFAULTS with backupcopy=yes: copies m.json to a new m.json~
    (a scratch file), overwrites m.json in place, removes m.json~."""
    user, m = take_meeting(sim)
    mount = make_mount(sim)
    entries, trace = vim_save(mount, sim, user, m, " backupcopy=yes", tmp_path)
    if trace is not None:  # vim really made its backup copy
        name = "%s.json" % m["id"]
        assert re.search(r'openat\(.*"%s~", O_WRONLY\|O_CREAT' % re.escape(name), trace), \
            "vim made no backup copy:\n" + trace[-3000:]
        assert not re.search(r'rename(at2?)?\(.*"%s", ' % re.escape(name), trace), trace[-3000:]
    check_vim_result(sim, mount, user, m, entries)


def test_cp_in_is_one_post_and_rm_is_one_delete(sim, mnt, tmp_path):
    user = sim.account()["users"][2]
    d = mnt.path("users", user["email"], "meetings")
    body = {"topic": "Copied in", "type": 2, "duration": 25, "start_time": "2031-02-03T04:05:00Z"}
    src = tmp_path / "new-meeting.json"
    src.write_bytes(dumps(body))
    before = sim_ids(sim, "meetings", user["id"])
    mark = sim.mark()
    run(["cp", str(src), str(d) + "/"])
    entries = sim.log(mark)
    assert_one_write(entries, "POST", POST_MEETING, body, ident=user["id"])
    created = sim_ids(sim, "meetings", user["id"]) - before
    assert len(created) == 1, created
    new_id = created.pop()
    names = set(os.listdir(d))
    assert "%s.json" % new_id in names and "new-meeting.json" not in names, names

    mark = sim.mark()
    run(["rm", str(d / ("%s.json" % new_id))])
    entries = sim.log(mark)
    dl = assert_one_write(entries, "DELETE", DELETE_MEETING, ident=new_id)
    assert path_parts(dl) == ["meetings", new_id], show(entries)
    note_deletes(entries)
    assert sim_object(sim, "meetings", new_id) is None
    assert "%s.json" % new_id not in os.listdir(d)


# --------------------------------------------------------------------------
# rsync --remove-source-files: move recordings out of the cloud

RSYNC_SIM = ["--users", "1", "--seed", "5", "--meetings", "2", "--instances", "4",
             "--months", "1", "--file-size", "65536"]


def failed_removals(stderr):
    """Names rsync could not remove from the source, from its stderr."""
    out = []
    for line in stderr.splitlines():
        mm = re.search(r"sender failed to remove (.*): ", line) or \
            re.search(r"Skipping sender remove for changed file: (.*)$", line)
        if mm:
            out.append(mm.group(1))
    return out


def match_dest(sim_before, dest_root):
    """{dest Path: (instance, emulator file)} for the media files of a copy,
    matched by recording.json's uuid, then size and sha256."""
    insts = {i["uuid"]: i for insts in sim_before["recordings"].values() for i in insts}
    out = {}
    for _, folder in walk_instances(dest_root):
        inst = insts[read_json(folder / "recording.json")["uuid"]]
        cands = list(instance_files(inst))
        for p in media_files(folder):
            digest = sha256_file(p)
            size = p.stat().st_size
            for i, f in enumerate(cands):
                if f["_size"] == size and f["_sha256"] == digest:
                    out[p] = (inst, cands.pop(i))
                    break
            else:
                raise AssertionError("%s (%d bytes) is no file of its instance, byte for byte"
                                     % (p, size))
    return out


def with_digests(sim, acct):
    for insts in acct["recordings"].values():
        for inst in insts:
            for f in instance_files(inst):
                f["_sha256"] = sim.file_info(f["_key"])["sha256"]
    return acct


def test_rsync_remove_source_files_moves_each_file_once(make_sim, make_mount, tmp_path):
    s = make_sim(RSYNC_SIM, name="rsync-sim")
    m = make_mount(s)
    user = s.account()["users"][0]
    root = m.path("users", user["email"], "recordings")
    before = with_digests(s, s.account(refresh=True))
    insts = before["recordings"][user["id"]]
    with_id = {f["id"]: (inst, f) for inst in insts for f in instance_files(inst) if f.get("id")}
    without_id = [(inst, f) for inst in insts for f in instance_files(inst) if not f.get("id")]
    assert without_id and all(f["file_type"] in ("CC", "TIMELINE") for _, f in without_id)

    # 1. A file rsync cannot read is not copied, and so never deleted.
    folder = next(f for _, f in walk_instances(root))
    victim = next(p for p in media_files(folder) if p.suffix == ".txt")
    s.fault(DOWNLOAD, "429daily", count=1000)
    s.fault(CDN, "429daily", count=1000)
    try:
        mark = s.mark()
        cp = run(["rsync", "-a", "--remove-source-files", str(victim), str(tmp_path / "one") + "/"],
                 check=False, timeout=120)
        entries = s.log(mark)
    finally:
        s.clear_faults()
    assert cp.returncode != 0, cp
    assert any(e["route"] in (CDN, DOWNLOAD) and e["status"] == 429 for e in entries), \
        "rsync failed without trying to download:\n%s\n%s" % (cp.stderr, show(entries))
    assert not (tmp_path / "one" / victim.name).exists()
    assert [e for e in entries if e["method"] == "DELETE"] == [], show(entries)
    assert victim.exists()

    # 2. The whole move.
    dest = tmp_path / "dest"
    mark = s.mark()
    cp = run(["rsync", "-a", "--remove-source-files", str(root) + "/", str(dest) + "/"],
             check=False, timeout=300)
    entries = s.log(mark)
    copied = match_dest(before, dest)
    by_key = {f["_key"]: (inst, f) for inst, f in copied.values()}
    every = {f["_key"] for inst in insts for f in instance_files(inst)}
    assert set(by_key) == every, "files not copied: %s" % (every - set(by_key))

    deletes = [e for e in entries if e["method"] == "DELETE"]
    assert all(e["route"] in (DELETE_FILE, DELETE_INSTANCE) for e in deletes), show(deletes)
    deleted = {}
    instances_trashed = []
    for e in deletes:
        parts = path_parts(e)
        assert query_of(e) == {"action": "trash"}, show([e])
        assert e["status"] == 204, show([e])
        if e["route"] == DELETE_INSTANCE:
            # Only once every file of the instance was copied and removed:
            # it takes the CC/TIMELINE files, which have no id, with it.
            uuid = parts[1]
            inst = next(i for i in insts if i["uuid"] == uuid)
            keys = {f["_key"] for f in instance_files(inst)}
            last_read = max((x["seq"] for x in entries if x["route"] in (CDN, DOWNLOAD)
                             and x["path"].split("?")[0].rstrip("/").split("/")[-1] in keys),
                            default=0)
            assert e["seq"] > last_read, "instance %s trashed before rsync had it" % uuid
            assert uuid not in instances_trashed, show(deletes)
            instances_trashed.append(uuid)
            continue
        fid = parts[3]
        assert fid not in deleted, "file %s deleted twice:\n%s" % (fid, show(deletes))
        deleted[fid] = e
        inst, f = with_id[fid]
        assert parts == ["meetings", inst["uuid"], "recordings", fid], show([e])
        # Trashed only after rsync had it: no byte of it fetched afterwards.
        last_read = max((x["seq"] for x in entries if x["route"] in (CDN, DOWNLOAD)
                         and x["path"].split("?")[0].rstrip("/").endswith("/" + f["_key"])),
                        default=0)
        assert e["seq"] > last_read, "file %s trashed before rsync read it all" % fid
    assert set(deleted) == set(with_id), (
        "missing DELETE for %s; unexpected %s" % (set(with_id) - set(deleted),
                                                   set(deleted) - set(with_id)))
    # Every instance that had id-less files went to the trash once, at the end.
    assert sorted(instances_trashed) == sorted({inst["uuid"] for inst, _ in without_id})
    assert cp.returncode == 0, cp.stderr.decode(errors="replace")
    assert failed_removals(cp.stderr.decode(errors="replace")) == []
    left = [p for p in root.rglob("*") if p.is_file()]
    assert left == [], left
    after = s.account(refresh=True)
    for inst in after["recordings"][user["id"]]:
        for f in (inst.get("recording_files") or []) + (inst.get("participant_audio_files") or []):
            if f.get("_key") in every:
                assert f.get("deleted_time"), f
            else:  # still processing: not shown, not copied; its instance went to the trash
                pass
    assert [e for e in s.log(0) if e["method"] == "DELETE" and e["seq"] <= mark] == []


def test_rsync_remove_source_files_takes_recording_json_too(make_sim, make_mount, tmp_path):
    """recording.json is hidden on unlink, sending nothing; it stays as it was
    while its siblings are trashed, so rsync --remove-source-files (which
    refuses to remove a file that changed) finishes cleanly."""
    s = make_sim(RSYNC_SIM, name="rsync-sim2")
    m = make_mount(s)
    user = s.account()["users"][0]
    root = m.path("users", user["email"], "recordings")
    dest = tmp_path / "dest"
    cp = run(["rsync", "-a", "--remove-source-files", str(root) + "/", str(dest) + "/"],
             check=False, timeout=300)
    stderr = cp.stderr.decode(errors="replace")
    kept = [x for x in failed_removals(stderr) if x.endswith("recording.json")]
    assert kept == [], "rsync kept %d recording.json:\n%s" % (len(kept), stderr)
    assert "Skipping sender remove for changed file" not in stderr, stderr
    assert not list(root.rglob("recording.json")), stderr
    # The copies describe every file that was moved.
    for rec in dest.rglob("recording.json"):
        doc = read_json(rec)
        names = {p.name for p in media_files(rec.parent)}
        assert len(names) <= len(doc.get("recording_files", [])) + len(
            doc.get("participant_audio_files", []) or []), rec


# --------------------------------------------------------------------------
# the module as a whole: no DELETE but the ones rm and rmdir meant


def test_no_delete_but_the_explicit_ones(sim):
    deletes = [e for e in sim.log(0) if e["method"] == "DELETE"]
    stray = [e for e in deletes if e["seq"] not in _checked_deletes]
    assert stray == [], "DELETEs nobody asked for:\n%s" % show(stray)
    # None of Zoom's DELETE operations has a body: no Content-Type, no
    # Content-Length, no bytes.
    assert deletes, "the module sent no DELETE at all"
    with_body = [e for e in deletes if e.get("content_type") or e.get("content_length")
                 or e.get("body") is not None]
    assert with_body == [], "DELETEs with a body:\n%s" % show(with_body)


def test_symlink_is_a_scratch_file(sim, mnt):
    """emacs locks the file it edits with a symlink .#<name> -> user@host.pid:
    kept in memory, never sent; symlinks anywhere else are refused."""
    user, m = take_meeting(sim)
    folder = jpath(mnt, user, "meetings", m["id"]).parent
    lockname = folder / (".#%s.json" % m["id"])
    mark = sim.mark()
    os.symlink("root@host.1234:1700000000", lockname)
    assert os.readlink(lockname) == "root@host.1234:1700000000"
    assert os.lstat(lockname).st_mode & 0o170000 == 0o120000
    assert lockname.name in os.listdir(folder)
    os.unlink(lockname)
    assert lockname.name not in os.listdir(folder)
    expect_errno(errno.EPERM, os.symlink, "x", mnt.path("users", "link"))
    expect_errno(errno.EEXIST, os.symlink, "x", folder / ("%s.json" % m["id"]))
    expect_errno(errno.EPERM, os.symlink, "x", folder / "12345.json")  # a resource name
    assert_nothing_sent([e for e in sim.log(mark) if e["method"] != "GET"])


def test_mkdir_in_users_invites_once(make_sim, make_mount):
    """mkdir users/<email>: one POST /users (action create, a Basic user); the
    user then shows, pending. An existing one is EEXIST, a name that is no
    email EINVAL, and neither sends anything."""
    s = make_sim(["--users", "2", "--instances", "1", "--months", "1"])
    m = make_mount(s, opts={"dir_ttl": "60", "attr_ttl": "60"})
    users = m.path("users")
    existing = s.users()[0]["email"]
    mark = s.mark()
    os.mkdir(users / "new.hire@example.com")
    entries = s.log(mark)
    assert_one_write(entries, "POST", "POST /users",
                     {"action": "create", "user_info": {"email": "new.hire@example.com",
                                                        "type": 1}})
    assert "new.hire@example.com" in os.listdir(users)
    pending = [u for u in s.account(refresh=True)["users"] if u["email"] == "new.hire@example.com"]
    assert len(pending) == 1 and pending[0]["status"] == "pending"
    mark = s.mark()
    expect_errno(errno.EEXIST, os.mkdir, users / existing)
    expect_errno(errno.EINVAL, os.mkdir, users / "not-an-email")
    assert_no_write(s.log(mark))
    ro = make_mount(s, opts={"ro": True}, name="ro")
    expect_errno(errno.EROFS, os.mkdir, ro.path("users", "other@example.com"))


def test_the_readme_move_command_moves_recordings_and_nothing_else(make_sim, make_mount,
                                                                     tmp_path):
    """The README's `rsync --remove-source-files` line, run as written: every
    recording goes to the trash once copied; no meeting, webinar or user is
    deleted (removing a meetings/<id>.json would delete the meeting)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    line = next(x for x in readme.splitlines()
                if x.startswith("rsync ") and "--remove-source-files" in x)
    s = make_sim(RSYNC_SIM + ["--webinars", "1"], name="move-sim")
    m = make_mount(s)
    before = s.account()
    argv = shlex.split(line)
    argv = [str(m.path("users")) + "/" if a == "/mnt/zoom/users/" else
            str(tmp_path / "dest") + "/" if a == "/backup/zoom/" else a for a in argv]
    assert argv[-2] == str(m.path("users")) + "/", argv
    cp = run(argv, check=False, timeout=300)
    assert cp.returncode == 0, cp.stderr.decode(errors="replace")
    deletes = [e for e in s.log(0) if e["method"] == "DELETE"]
    assert deletes and all(e["route"].startswith("DELETE /meetings/{meetingId}/recordings")
                           for e in deletes), show(deletes)
    after = s.account(refresh=True)
    assert before["meetings"] and after["meetings"] == before["meetings"]
    assert before["webinars"] and after["webinars"] == before["webinars"]
    assert after["users"] == before["users"]
    copied = list((tmp_path / "dest").rglob("*.mp4"))
    assert copied, "nothing was moved"
    assert not list(m.path("users").rglob("*.mp4"))


def test_rsync_without_filters_moves_recordings_but_deletes_no_meeting(make_sim, make_mount,
                                                                       tmp_path):
    """Forgetting the filters costs nothing: rsync's unlink of a meeting or
    webinar file it copied is refused (EPERM, a hint in the log), rm of the
    same file still deletes it."""
    s = make_sim(RSYNC_SIM + ["--webinars", "1"], name="move-sim2")
    m = make_mount(s)
    before = s.account()
    cp = run(["rsync", "-a", "--remove-source-files", str(m.path("users")) + "/",
              str(tmp_path / "dest") + "/"], check=False, timeout=300)
    assert cp.returncode == 23, cp  # some files were not removed: said, not hidden
    refused = failed_removals(cp.stderr.decode(errors="replace"))
    assert any("/meetings/" in x for x in refused) and any("/webinars/" in x for x in refused)
    after = s.account(refresh=True)
    assert after["meetings"] == before["meetings"] and after["webinars"] == before["webinars"]
    assert not list(m.path("users").rglob("*.mp4"))  # the recordings were moved
    assert "rm it to delete it in Zoom" in m.read_log()
    # an explicit rm is still a DELETE
    meeting = next(iter(m.path("users").glob("*/meetings/*.json")))
    meeting.unlink()
    assert any(e["route"] == "DELETE /meetings/{meetingId}" for e in s.log(0))
