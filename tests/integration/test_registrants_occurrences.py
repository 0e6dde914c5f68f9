"""Registrants and occurrences through a real mount (docs/semantics.md):

- meetings/registrants/<id>/<registrantId>.json (and under webinars/): a folder per
  meeting that takes registration, a read-only file per registrant of every status;
  a new file is one POST, rm one DELETE; a folder Zoom refuses to list is absent.
- meetings/occurrences/<id>/<occurrenceId>.json (and under webinars/): a file per
  occurrence of a recurring meeting not over yet; a save is one PATCH with
  occurrence_id of what changed, and only of what one occurrence takes; rm is one
  DELETE with occurrence_id.

Every check is made against the emulator's request log (exact routes, queries and
bodies). Tests that change the account, or count requests from a cold cache, start
an emulator and a mount of their own.
"""

import errno
import json
import os
import re
import shutil
import stat
import time
from pathlib import Path

import pytest

from .util import run, show, writes

SIM_ARGS = ["--users", "2", "--seed", "7", "--meetings", "3", "--webinars", "2",
            "--instances", "0", "--months", "3"]

GET_MEETING = "GET /meetings/{meetingId}"
LIST_REGISTRANTS = "GET /meetings/{meetingId}/registrants"
LIST_WEBINAR_REGISTRANTS = "GET /webinars/{webinarId}/registrants"
POST_REGISTRANT = "POST /meetings/{meetingId}/registrants"
POST_WEBINAR_REGISTRANT = "POST /webinars/{webinarId}/registrants"
DELETE_REGISTRANT = "DELETE /meetings/{meetingId}/registrants/{registrantId}"
PATCH_MEETING = "PATCH /meetings/{meetingId}"
PATCH_WEBINAR = "PATCH /webinars/{webinarId}"
DELETE_MEETING = "DELETE /meetings/{meetingId}"


# --------------------------------------------------------------------------
# helpers






def one_write(entries, method, route, body, query=None, path=None):
    """The window holds exactly one change: this one. Returns it."""
    w = writes(entries)
    assert [(e["method"], e["route"], e["body"]) for e in w] == [(method, route, body)], \
        show(entries)
    if query is not None:
        assert dict(w[0]["query"] or {}) == query, show(entries)
    if path is not None:
        assert w[0]["path"] == path, show(entries)
    assert w[0]["status"] in (201, 204), show(entries)
    return w[0]


def routed(entries, route, status=None):
    return [e for e in entries if e["route"] == route and (status is None or e["status"] == status)]


def objects(s, folder="meetings", user=0):
    acct = s.account(refresh=True)
    return acct[folder][acct["users"][user]["id"]]


def takes_registration(obj):
    return obj["settings"]["approval_type"] in (0, 1)


def registrants(s, oid):
    return s.request("GET", "/_sim/registrants").get(str(oid), [])


def upcoming(obj):
    """The occurrences a folder lists: not over, not cancelled."""
    now = time.time()
    out = []
    for o in obj.get("occurrences", []):
        start = time.mktime(time.strptime(o["start_time"], "%Y-%m-%dT%H:%M:%SZ"))
        start -= time.timezone  # the time is UTC
        if o["status"] != "deleted" and start + 60 * o["duration"] > now:
            out.append(o)
    return out


def recurring(s, folder="meetings"):
    obj = next(o for o in objects(s, folder) if "occurrences" in o)
    assert len(upcoming(obj)) >= 3, obj["occurrences"]
    return obj


def user_dir(m, s, user=0):
    return m.path("users", s.users()[user]["email"])


def read_json(p):
    return json.loads(Path(p).read_bytes())


def dumps(obj):
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()


def errors_text(m):
    return m.path(".zoomfs", "errors").read_text(errors="replace")


# --------------------------------------------------------------------------
# registrants


def test_registrants_folders_list_only_what_takes_registration(make_sim, make_mount):
    """registrants/ lists the meetings (webinars) whose settings take registration;
    knowing costs each meeting's GET (the one its file needs) and three lists, one per
    status, for each that takes it; a meeting without registration costs no
    registrants request, so Zoom never answers one with an error."""
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    mark = s.mark()
    for user in (0, 1):
        mine = objects(s, "meetings", user)
        folder = user_dir(m, s, user) / "meetings" / "registrants"
        assert sorted(os.listdir(folder)) == sorted(
            str(o["id"]) for o in mine if takes_registration(o)), user
        plain = next(o for o in mine if not takes_registration(o))
        with pytest.raises(FileNotFoundError):
            os.stat(folder / str(plain["id"]))
    webinars = objects(s, "webinars")
    assert all(takes_registration(w) for w in webinars)
    assert sorted(os.listdir(user_dir(m, s) / "webinars" / "registrants")) == sorted(
        str(w["id"]) for w in webinars)

    entries = s.log(mark)
    registering = [o for u in (0, 1) for o in objects(s, "meetings", u) if takes_registration(o)]
    lists = routed(entries, LIST_REGISTRANTS)
    assert sorted((e["path"].split("/")[3], e["query"]["status"]) for e in lists) == sorted(
        (str(o["id"]), st) for o in registering for st in ("approved", "pending", "denied"))
    assert all(e["status"] == 200 for e in lists), show(lists)
    assert len(routed(entries, LIST_WEBINAR_REGISTRANTS)) == 3 * len(webinars)
    meetings = [o for u in (0, 1) for o in objects(s, "meetings", u)]
    assert len(routed(entries, GET_MEETING)) == len(meetings), show(entries)
    assert errors_text(m) == ""


def test_every_status_exact_sizes_read_only_and_stable_mtimes(make_sim, make_mount, tmp_path):
    s = make_sim(SIM_ARGS)
    ledger = str(tmp_path / "mtimes")
    m = make_mount(s, opts={"ledger": ledger})
    manual = next(o for o in objects(s) if o["settings"]["approval_type"] == 1)
    seeded = registrants(s, manual["id"])
    assert {r["status"] for r in seeded} == {"approved", "pending", "denied"}
    folder = user_dir(m, s) / "meetings" / "registrants" / str(manual["id"])
    names = sorted(os.listdir(folder))
    assert names == sorted("%s.json" % r["id"] for r in seeded)
    listed = {}
    for status in ("approved", "pending", "denied"):
        page = s.api("GET", "/meetings/%s/registrants?status=%s&page_size=300"
                     % (manual["id"], status))
        listed.update({r["id"]: r for r in page["registrants"]})
    mark = s.mark()
    seen = {}
    for name in names:
        st = os.stat(folder / name)
        data = (folder / name).read_bytes()
        assert st.st_size == len(data) and data.endswith(b"}\n"), name
        assert stat.S_IMODE(st.st_mode) == 0o400, oct(st.st_mode)  # 0444 less the umask
        assert json.loads(data) == listed[name[:-len(".json")]]  # as Zoom lists it
        seen[name] = (st.st_size, st.st_mtime)
    assert s.log(mark) == [], "a registrant cost a request of its own:\n" + show(s.log(mark))
    # the same names, sizes and mtimes after a remount (what rsync compares)
    m.teardown()
    m2 = make_mount(s, opts={"ledger": ledger}, name="again")
    folder = user_dir(m2, s) / "meetings" / "registrants" / str(manual["id"])
    assert {n: (os.stat(folder / n).st_size, os.stat(folder / n).st_mtime)
            for n in os.listdir(folder)} == seen


def test_cp_of_a_new_file_is_one_post_and_shows_up_under_its_id(make_sim, make_mount, tmp_path):
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    manual = next(o for o in objects(s) if o["settings"]["approval_type"] == 1)
    folder = user_dir(m, s) / "meetings" / "registrants" / str(manual["id"])
    before = set(os.listdir(folder))
    new = tmp_path / "new.json"
    # what Zoom gives (id, status, create_time, join_url) is never sent
    new.write_bytes(dumps({"first_name": "Zoë", "last_name": "Neu", "email": "zoe@example.org",
                           "country": "CH", "id": "mine", "status": "approved",
                           "create_time": "2020-01-01T00:00:00Z", "join_url": "x"}))
    mark = s.mark()
    run(["cp", str(new), str(folder) + "/"])
    entries = s.log(mark)
    post = one_write(entries, "POST", POST_REGISTRANT,
                     {"first_name": "Zoë", "last_name": "Neu", "email": "zoe@example.org",
                      "country": "CH"}, path="/v2/meetings/%s/registrants" % manual["id"])
    created = [r for r in registrants(s, manual["id"]) if r["email"] == "zoe@example.org"]
    assert len(created) == 1 and created[0]["status"] == "pending"  # the host approves
    assert set(os.listdir(folder)) == before | {"%s.json" % created[0]["id"]}
    shown = read_json(folder / ("%s.json" % created[0]["id"]))
    assert (shown["email"], shown["status"]) == ("zoe@example.org", "pending")
    assert post["seq"] == max(e["seq"] for e in writes(entries))
    # the open file took that name too (a second save would be of it)
    assert "new.json: created %s/%s.json" % (str(folder)[len(str(m.mnt)):], created[0]["id"]) \
        in m.read_log()

    # a webinar's, as jq > t && mv t new.json makes it
    webinar = objects(s, "webinars")[0]
    wfolder = user_dir(m, s) / "webinars" / "registrants" / str(webinar["id"])
    mark = s.mark()
    run(["sh", "-c", "cd '%s' && printf '%%s' '{\"first_name\":\"W\",\"email\":\"w@example.org\","
         "\"language\":\"fr-FR\"}' | jq . > t && mv t new.json" % wfolder])
    one_write(s.log(mark), "POST", POST_WEBINAR_REGISTRANT,
              {"first_name": "W", "email": "w@example.org", "language": "fr-FR"},
              path="/v2/webinars/%s/registrants" % webinar["id"])
    rid = next(r["id"] for r in registrants(s, webinar["id"]) if r["email"] == "w@example.org")
    names = os.listdir(wfolder)
    assert "%s.json" % rid in names and "new.json" not in names and "t" not in names


def test_rm_is_one_delete_and_a_registrant_takes_no_change(make_sim, make_mount):
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    manual = next(o for o in objects(s) if o["settings"]["approval_type"] == 1)
    folder = user_dir(m, s) / "meetings" / "registrants" / str(manual["id"])
    victim, other = [r["id"] for r in registrants(s, manual["id"])][:2]
    mark = s.mark()
    run(["rm", str(folder / ("%s.json" % victim))])
    one_write(s.log(mark), "DELETE", DELETE_REGISTRANT, None, query={},
              path="/v2/meetings/%s/registrants/%s" % (manual["id"], victim))
    assert victim not in [r["id"] for r in registrants(s, manual["id"])]
    assert "%s.json" % victim not in os.listdir(folder)

    # Zoom takes no change to a registrant: refused, nothing sent
    path = folder / ("%s.json" % other)
    text = path.read_bytes()
    mark = s.mark()
    with pytest.raises(PermissionError):
        with open(path, "wb") as f:
            f.write(b'{"first_name": "Changed"}\n')
    cp = run(["sed", "-i", "s/\"first_name\": \"/\"first_name\": \"X/", str(path)], check=False)
    assert cp.returncode != 0, cp
    assert writes(s.log(mark)) == [], show(s.log(mark))
    assert path.read_bytes() == text
    assert [x for x in os.listdir(folder) if not x.endswith(".json")] == []  # no leftover


def test_copy_tools_never_remove_registrants_or_occurrences(make_sim, make_mount, tmp_path):
    """rsync --remove-source-files copies them and removes none: rm deletes, a
    backup must not."""
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    before = (s.request("GET", "/_sim/registrants"), s.account(refresh=True)["meetings"])
    mark = s.mark()
    for sub in ("registrants", "occurrences"):
        cp = run(["rsync", "-a", "--remove-source-files",
                  str(user_dir(m, s) / "meetings" / sub) + "/", str(tmp_path / sub) + "/"],
                 check=False, timeout=300)
        assert cp.returncode == 23, cp
        assert b"failed to remove" in cp.stderr and list((tmp_path / sub).rglob("*.json"))
    assert writes(s.log(mark)) == [], show(writes(s.log(mark)))
    assert (s.request("GET", "/_sim/registrants"), s.account(refresh=True)["meetings"]) == before
    assert "rm it to delete it in Zoom" in m.read_log()


def test_a_list_zoom_refuses_leaves_the_folder_out_and_rsync_succeeds(make_sim, make_mount,
                                                                      tmp_path):
    """A token without the scope of meeting registrants (granular scopes): the
    folders of meeting registrants are absent, each refusal asked once within
    dir_ttl and logged once; webinar registrants still show; rsync exits 0."""
    s = make_sim(SIM_ARGS)
    granular = ("user:read:list_users:admin user:read:user:admin user:read:settings:admin "
                "meeting:read:list_meetings:admin meeting:read:meeting:admin "
                "webinar:read:list_webinars:admin webinar:read:webinar:admin "
                "webinar:read:list_registrants:admin "
                "cloud_recording:read:list_user_recordings:admin")
    s.config(scopes=granular)
    m = make_mount(s)
    mark = s.mark()
    cp = run(["rsync", "-a", str(m.path("users")) + "/", str(tmp_path / "dest") + "/"],
             check=False, timeout=300)
    assert cp.returncode == 0, cp
    dest = tmp_path / "dest"
    for u in (0, 1):
        email = s.users()[u]["email"]
        assert os.listdir(dest / email / "meetings" / "registrants") == []
        assert os.listdir(dest / email / "meetings" / "occurrences")  # the rest is there
    webinar_regs = list((dest / s.users()[0]["email"] / "webinars" / "registrants").rglob("*.json"))
    assert len(webinar_regs) == sum(len(registrants(s, w["id"])) for w in objects(s, "webinars"))
    registering = [o for u in (0, 1) for o in objects(s, "meetings", u) if takes_registration(o)]
    refused = routed(s.log(mark), LIST_REGISTRANTS)
    assert len(refused) == len(registering) and all(e["status"] == 400 for e in refused), \
        show(refused)
    log = m.read_log()
    assert log.count("Zoom refused the registrants of") == 1, log[-3000:]
    mark = s.mark()
    run(["ls", "-R", str(m.path("users"))])
    assert routed(s.log(mark), LIST_REGISTRANTS) == []


def test_registration_turned_off_in_zoom_removes_the_folder(make_sim, make_mount):
    s = make_sim(SIM_ARGS)
    m = make_mount(s, opts={"attr_ttl": "1", "dir_ttl": "1"})
    manual = next(o for o in objects(s) if o["settings"]["approval_type"] == 1)
    folder = user_dir(m, s) / "meetings" / "registrants"
    assert str(manual["id"]) in os.listdir(folder)
    s.patch_meeting(manual["id"], {"settings": {"approval_type": 2}})
    time.sleep(1.2)
    mark = s.mark()
    assert str(manual["id"]) not in os.listdir(folder)
    with pytest.raises(FileNotFoundError):
        os.stat(folder / str(manual["id"]))
    # the meeting's GET said so: its registrants were not asked for
    assert [e for e in routed(s.log(mark), LIST_REGISTRANTS)
            if e["path"].split("/")[3] == str(manual["id"])] == []
    assert errors_text(m) == ""


# --------------------------------------------------------------------------
# occurrences


def occurrence_dir(m, s, obj, folder="meetings"):
    return user_dir(m, s) / folder / "occurrences" / str(obj["id"])


def test_occurrences_are_the_upcoming_ones_with_exact_sizes(make_sim, make_mount):
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    meetings = user_dir(m, s) / "meetings"
    os.listdir(meetings)
    mark = s.mark()
    series = recurring(s)
    assert os.listdir(meetings / "occurrences") == [str(series["id"])]
    assert s.log(mark) == [], "occurrences/ is listed from the listing alone"
    folder = occurrence_dir(m, s, series)
    shown = upcoming(series)
    assert len(shown) < len(series["occurrences"])  # the first ones are over
    assert sorted(os.listdir(folder)) == sorted("%s.json" % o["occurrence_id"] for o in shown)
    for o in shown:
        p = folder / ("%s.json" % o["occurrence_id"])
        st = os.stat(p)
        data = p.read_bytes()
        assert st.st_size == len(data) and stat.S_IMODE(st.st_mode) == 0o600
        got = json.loads(data)
        assert (got["id"], got["start_time"], got["duration"]) == (
            series["id"], o["start_time"], o["duration"])
        zoom = s.api("GET", "/meetings/%s?occurrence_id=%s" % (series["id"], o["occurrence_id"]))
        assert {k: v for k, v in got.items() if k != "start_url"} == {
            k: v for k, v in zoom.items() if k != "start_url"}
    entries = [e for e in s.log(mark) if e["route"] == GET_MEETING]
    ours = [e for e in entries if (e["query"] or {}).get("occurrence_id")]
    # one GET each (and ours through the API): the series once, for the folder
    assert sorted(e["query"]["occurrence_id"] for e in ours) == sorted(
        o["occurrence_id"] for o in shown for _ in (0, 1))
    assert len([e for e in entries if not (e["query"] or {})]) == 1
    # webinars: the recurring one
    webinar = recurring(s, "webinars")
    assert os.listdir(user_dir(m, s) / "webinars" / "occurrences") == [str(webinar["id"])]
    assert sorted(os.listdir(occurrence_dir(m, s, webinar, "webinars"))) == sorted(
        "%s.json" % o["occurrence_id"] for o in upcoming(webinar))


def test_sed_i_on_an_occurrence_is_one_patch_of_it(make_sim, make_mount):
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    series = recurring(s)
    target = upcoming(series)[1]
    path = occurrence_dir(m, s, series) / ("%s.json" % target["occurrence_id"])
    assert read_json(path)["duration"] == 60
    mark = s.mark()
    run(["sed", "-i", 's/"duration": 60,/"duration": 45,/', str(path)])
    entries = s.log(mark)
    patch = one_write(entries, "PATCH", PATCH_MEETING, {"duration": 45},
                      query={"occurrence_id": target["occurrence_id"]},
                      path="/v2/meetings/%s" % series["id"])
    assert any(e["route"] == GET_MEETING and e["seq"] > patch["seq"] and
               e["query"].get("occurrence_id") == target["occurrence_id"] for e in entries)
    assert read_json(path)["duration"] == 45
    after = next(o for o in objects(s) if o["id"] == series["id"])
    assert after["duration"] == 60  # the series is as it was
    assert [o["duration"] for o in after["occurrences"]
            if o["occurrence_id"] == target["occurrence_id"]] == [45]
    # the series file shows it at once (its object was dropped)
    series_file = user_dir(m, s) / "meetings" / ("%s.json" % series["id"])
    assert [o["duration"] for o in read_json(series_file)["occurrences"]
            if o["occurrence_id"] == target["occurrence_id"]] == [45]
    assert [x for x in os.listdir(path.parent) if not x.endswith(".json")] == []


def test_vim_on_an_occurrence_is_one_patch_of_it(make_sim, make_mount):
    if not shutil.which("vim"):
        pytest.skip("no vim")
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    series = recurring(s)
    target = upcoming(series)[2]
    folder = occurrence_dir(m, s, series)
    name = "%s.json" % target["occurrence_id"]
    assert read_json(folder / name)["agenda"] != "Only this week"
    mark = s.mark()
    # /tmp is in vim's default backupskip: clear it so vim saves as anywhere else
    cp = run(["vim", "-es", "-u", "DEFAULTS", "-i", "NONE", "-c", "set backupskip=",
              "-c", r'%s/"agenda": "[^"]*"/"agenda": "Only this week"/', "-c", "wq", name],
             cwd=str(folder), check=False, timeout=60)
    assert cp.returncode == 0, cp
    one_write(s.log(mark), "PATCH", PATCH_MEETING, {"agenda": "Only this week"},
              query={"occurrence_id": target["occurrence_id"]})
    assert read_json(folder / name)["agenda"] == "Only this week"
    assert sorted(run(["ls", "-a", str(folder)]).stdout.decode().split()) == sorted(
        [".", ".."] + ["%s.json" % o["occurrence_id"] for o in upcoming(series)])


def test_what_one_occurrence_cannot_take_is_refused(make_sim, make_mount):
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    series = recurring(s)
    path = occurrence_dir(m, s, series) / ("%s.json" % upcoming(series)[0]["occurrence_id"])
    text = path.read_bytes()
    mark = s.mark()
    cp = run(["sed", "-i", 's/"topic": "/"topic": "Renamed /', str(path)], check=False)
    assert cp.returncode != 0, cp
    # a whole object written over it: EINVAL at close
    edited = read_json(path)
    edited["topic"], edited["duration"] = "Renamed", 15
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, dumps(edited))
    with pytest.raises(OSError) as failed:
        os.close(fd)
    assert failed.value.errno == errno.EINVAL
    assert writes(s.log(mark)) == [], show(s.log(mark))
    assert path.read_bytes() == text
    errors = errors_text(m)
    assert "topic cannot change here" in errors and "agenda" in errors, errors


def test_rm_of_an_occurrence_cancels_only_it(make_sim, make_mount):
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    series = recurring(s)
    target = upcoming(series)[0]
    folder = occurrence_dir(m, s, series)
    mark = s.mark()
    run(["rm", str(folder / ("%s.json" % target["occurrence_id"]))])
    one_write(s.log(mark), "DELETE", DELETE_MEETING, None,
              query={"occurrence_id": target["occurrence_id"]},
              path="/v2/meetings/%s" % series["id"])
    assert "%s.json" % target["occurrence_id"] not in os.listdir(folder)
    after = next(o for o in objects(s) if o["id"] == series["id"])  # the series stays
    assert [o["status"] for o in after["occurrences"]
            if o["occurrence_id"] == target["occurrence_id"]] == ["deleted"]
    assert (user_dir(m, s) / "meetings" / ("%s.json" % series["id"])).exists()


def test_an_edit_of_the_series_shows_in_its_occurrences(make_sim, make_mount):
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    series = recurring(s)
    one = occurrence_dir(m, s, series) / ("%s.json" % upcoming(series)[0]["occurrence_id"])
    assert read_json(one)["topic"] == series["topic"]
    series_file = user_dir(m, s) / "meetings" / ("%s.json" % series["id"])
    mark = s.mark()
    run(["sh", "-c", "cd '%s' && jq '.topic = \"Weekly\"' %s > t && mv t %s"
         % (series_file.parent, series_file.name, series_file.name)])
    one_write(s.log(mark), "PATCH", PATCH_MEETING, {"topic": "Weekly"}, query={},
              path="/v2/meetings/%s" % series["id"])
    assert read_json(one)["topic"] == "Weekly"  # within attr_ttl: no stale copy


def test_a_webinar_occurrence_is_patched_with_its_own_settings(make_sim, make_mount):
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    webinar = recurring(s, "webinars")
    target = upcoming(webinar)[1]
    folder = occurrence_dir(m, s, webinar, "webinars")
    name = "%s.json" % target["occurrence_id"]
    now = read_json(folder / name)["settings"]["panelists_video"]
    mark = s.mark()
    run(["sh", "-c", "cd '%s' && jq '.settings.panelists_video = %s' %s > t && mv t %s"
         % (folder, "false" if now else "true", name, name)])
    one_write(s.log(mark), "PATCH", PATCH_WEBINAR, {"settings": {"panelists_video": not now}},
              query={"occurrence_id": target["occurrence_id"]},
              path="/v2/webinars/%s" % webinar["id"])
    assert read_json(folder / name)["settings"]["panelists_video"] is (not now)


# --------------------------------------------------------------------------
# the whole account


def test_nightly_rsync_backs_them_up_and_copies_nothing_unchanged(make_sim, make_mount,
                                                                   tmp_path):
    """rsync -a of users/ takes every registrant and occurrence; after a remount
    (the ledger kept) it copies nothing, at one registrants list per status of
    each meeting that takes registration and one GET per occurrence."""
    s = make_sim(SIM_ARGS)
    ledger = str(tmp_path / "mtimes")
    m = make_mount(s, opts={"ledger": ledger})
    dest = tmp_path / "dest"

    def rsync(mount):
        cp = run(["rsync", "-a", "--stats", str(mount.path("users")) + "/", str(dest) + "/"],
                 timeout=300)
        found = re.search(rb"Number of regular files transferred: (\d+)", cp.stdout)
        return int(found.group(1))

    assert rsync(m) > 0
    email = s.users()[0]["email"]
    for obj in objects(s):
        if takes_registration(obj):
            got = sorted(os.listdir(dest / email / "meetings" / "registrants" / str(obj["id"])))
            assert got == sorted("%s.json" % r["id"] for r in registrants(s, obj["id"]))
    series = recurring(s)
    assert len(os.listdir(dest / email / "meetings" / "occurrences" / str(series["id"]))) == \
        len(upcoming(series))
    m.teardown()
    m2 = make_mount(s, opts={"ledger": ledger}, name="nightly")
    mark = s.mark()
    assert rsync(m2) == 0
    entries = s.log(mark)
    registering = [o for u in (0, 1) for o in objects(s, "meetings", u) if takes_registration(o)]
    assert len(routed(entries, LIST_REGISTRANTS)) == 3 * len(registering)
    occurrences = sum(len(upcoming(o)) for u in (0, 1) for o in objects(s, "meetings", u))
    assert len([e for e in routed(entries, GET_MEETING)
                if (e["query"] or {}).get("occurrence_id")]) == occurrences
    assert writes(entries) == []


def test_rsync_excludes_skip_them_without_a_request(make_sim, make_mount, tmp_path):
    """docs/sizing.md: --exclude='registrants/' --exclude='occurrences/' gives the run
    its old cost: no registrants list, no occurrence GET, one GET per meeting."""
    s = make_sim(SIM_ARGS)
    m = make_mount(s)
    mark = s.mark()
    run(["rsync", "-a", "--exclude=registrants/", "--exclude=occurrences/",
         str(m.path("users")) + "/", str(tmp_path / "dest") + "/"], timeout=300)
    entries = s.log(mark)
    assert routed(entries, LIST_REGISTRANTS) == routed(entries, LIST_WEBINAR_REGISTRANTS) == []
    assert [e for e in entries if (e["query"] or {}).get("occurrence_id")] == []
    meetings = [o for u in (0, 1) for o in objects(s, "meetings", u)]
    assert len(routed(entries, GET_MEETING)) == len(meetings)
    assert list((tmp_path / "dest").rglob("meetings/*.json"))
