"""The contract check: every request zoomfs sends, in the usual workload
through a real mount, must be one Zoom's OpenAPI spec allows.

zoomfs's REST calls go through Stoplight Prism (a validating proxy, see
prism.py); Prism's findings are split into request violations (what zoomfs
sent: path, query, headers, body - these fail the test, each printed with
its method, path and Prism's message) and response violations (what the
emulator answered - counted and shown in the terminal summary, never a
failure here; each is an emulator bug or a spec bug to patch in
patch_spec.py).

The first test proves the check can fail: a bad request sent on purpose is
reported.
"""

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from integration.util import run, walk_instances

from .prism import format_summary, parse_log, request_problems, run_step

# --------------------------------------------------------------------------
# helpers


def current_test():
    return os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]


def act(contract, steps, what, action, expect=()):
    """Runs one action of the workload (argv list, shell string or callable)
    and keeps its Step (the requests it sent through Prism and what Prism
    logged meanwhile). expect: (METHOD, path regex) pairs that must be among
    the requests, so that a step that silently sent nothing (or went around
    Prism) cannot pass."""
    if isinstance(action, str):
        argv = ["sh", "-c", action]
        action = lambda: run(argv, timeout=600)  # noqa: E731
    elif not callable(action):
        argv = list(action)
        action = lambda: run(argv, timeout=600)  # noqa: E731
    st = run_step(contract.prism, contract.tap, what, action)
    steps.append(st)
    contract.steps.append((current_test(), st))
    expect_sent(what, st.entries, expect)
    return st


def expect_sent(what, entries, expect):
    for method, pattern in expect:
        assert any(e["method"] == method and re.search(pattern, e["path"]) for e in entries), (
            "%s: expected a %s matching %r through Prism; it sent:\n%s"
            % (what, method, pattern, "\n".join("  %s %s" % (e["method"], e["path"])
                                                 for e in entries) or "  nothing"))


def gate(steps):
    """Fails on any request violation (all of them printed, with the request
    and Prism's message); prints what Prism said about the responses, which
    never fails."""
    print("\n".join(format_summary(steps)))
    problems = request_problems(steps)
    if problems:
        pytest.fail("zoomfs sent %d request(s) that Zoom's spec does not allow:\n%s"
                    % (len(problems), "\n".join(problems)), pytrace=False)


def json_bytes(obj):
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()


def owner(contract):
    """User 0: the account owner, with the webinar add-on and the quirky
    recordings."""
    return contract.sim.account(refresh=True)["users"][0]


def instance_by(mount, user, pred):
    """The first instance folder of user whose recording.json satisfies pred."""
    for _, folder in walk_instances(mount.path("users", user["email"], "recordings")):
        rec = json.loads((folder / "recording.json").read_bytes())
        if pred(rec):
            return folder, rec
    raise AssertionError("no such instance folder for %s" % user["email"])


def tap_get(contract, path, method="GET", body=None):
    """A call through the tap (hence Prism) with a valid token, as a client;
    returns the status."""
    headers = {"Authorization": "Bearer " + contract.sim.token()}
    if body is not None:
        body = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(contract.tap.url + path, data=body, method=method,
                                 headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


# --------------------------------------------------------------------------
# the check can fail


def test_prism_reports_a_bad_request(contract):
    """page_size=abc (the spec wants an integer) is a request violation: the
    tap records it from Prism's header, Prism's log prints it, and the gate
    fails on it with method, path and Prism's message. So is a body with a
    field of the wrong type. Good requests of the same kinds are not
    reported."""
    st = run_step(contract.prism, contract.tap, "self-test",
                  lambda: tap_get(contract, "/v2/users?page_size=abc"))
    assert len(st.entries) == 1, st.entries
    problems = request_problems([st])
    assert len(problems) == 1, problems
    assert problems[0].startswith("self-test: GET /v2/users?page_size=abc -> "), problems
    assert "[request.query.page_size]" in problems[0] and "must be integer" in problems[0], problems
    assert ("request", "request.query.page_size",
            "Request query parameter page_size must be integer") in st.logged, st.logged
    with pytest.raises(pytest.fail.Exception) as failed:
        gate([st])
    assert "GET /v2/users?page_size=abc" in str(failed.value)

    # A body is checked too: a topic must be a string. (For a user that does
    # not exist, so that the emulator refuses it and nothing is created.)
    st = run_step(contract.prism, contract.tap, "self-test",
                  lambda: tap_get(contract, "/v2/users/nobody%40example.com/meetings", "POST",
                                  {"topic": 5, "type": 2}))
    assert st.entries[0]["status"] == 404, st.entries
    problems = request_problems([st])
    assert len(problems) == 1 and "[request.body.topic]" in problems[0], problems

    # The same calls done right, with the shapes of userId that zoomfs sends
    # ("me", an id, an email): no request violation (with the spec's
    # overlapping oneOf unpatched, "me" and an email would be).
    user = contract.sim.account()["users"][1]
    paths = ["/v2/users?status=active&page_size=300", "/v2/users/me",
             "/v2/users/%s" % user["id"],
             "/v2/users/%s/settings" % urllib.parse.quote(user["email"], safe="")]
    st = run_step(contract.prism, contract.tap, "self-test",
                  lambda: [tap_get(contract, p) for p in paths])
    assert [e["status"] for e in st.entries] == [200] * 4, st.entries
    assert request_problems([st]) == [], request_problems([st])


# --------------------------------------------------------------------------
# the workload


def test_read_workload(contract, make_mount, tmp_path):
    """ls -lR, du -sb, rsync -a of every user, cat of every JSON file."""
    m = contract.mount(make_mount)
    root = m.path()
    steps = []
    act(contract, steps, "ls -lR", ["ls", "-lR", str(root)], expect=[
        ("GET", r"^/v2/users\?status=active&page_size=\d+$"),
        ("GET", r"^/v2/users/[^/]+/meetings\?"),
        ("GET", r"^/v2/users/[^/]+/webinars\?"),
        ("GET", r"^/v2/users/[^/]+/recordings\?from=[-0-9]+&to=[-0-9]+&page_size="),
        # the month of more than 300 instances is read in pages
        ("GET", r"^/v2/users/[^/]+/recordings\?.*next_page_token=."),
        # registrants of every status, and occurrences one by one
        ("GET", r"^/v2/meetings/\d+/registrants\?status=approved&page_size="),
        ("GET", r"^/v2/meetings/\d+/registrants\?status=pending&page_size="),
        ("GET", r"^/v2/meetings/\d+/registrants\?status=denied&page_size="),
        ("GET", r"^/v2/webinars/\d+/registrants\?status=approved&page_size="),
        ("GET", r"^/v2/meetings/\d+\?occurrence_id=\d+$"),
        ("GET", r"^/v2/webinars/\d+\?occurrence_id=\d+$"),
    ])
    act(contract, steps, "du -sb", ["du", "-sb", str(root)])
    dest = tmp_path / "dest"
    act(contract, steps, "rsync -a users/ dest/",
        ["rsync", "-a", str(root / "users") + "/", str(dest) + "/"])
    assert list(dest.glob("*/recordings/*/*/*.mp4")), "rsync copied no recording"
    act(contract, steps, "cat every JSON file",
        "find %s -name '*.json' -print0 | xargs -0 cat > /dev/null" % root)
    trash = root / "users" / owner(contract)["email"] / "recordings" / ".trash"
    act(contract, steps, "ls -l of the owner's recordings/.trash (named: never listed)",
        ["ls", "-l", str(trash)], expect=[
            ("GET", r"^/v2/users/[^/]+/recordings\?trash=true&trash_type=meeting_recordings"
                    r"&page_size=\d+$"),
            ("GET", r"^/v2/users/[^/]+/recordings\?trash=true&trash_type=recording_file"
                    r"&page_size=\d+$"),
        ])
    # ls -l already needs the files' sizes, so these come from one step or
    # another.
    expect_sent("the read workload", [e for st in steps for e in st.entries], [
        ("GET", r"^/v2/users/[^/?]+$"),
        ("GET", r"^/v2/users/[^/?]+/settings$"),
        ("GET", r"^/v2/meetings/\d+$"),
        ("GET", r"^/v2/webinars/\d+$"),
        # participants.json and polls.json of every instance folder
        ("GET", r"^/v2/past_meetings/[^/]+/participants\?page_size=\d+$"),
        ("GET", r"^/v2/past_meetings/[^/]+/participants\?.*next_page_token=."),
        ("GET", r"^/v2/past_meetings/[^/]+/polls$"),
    ])
    gate(steps)


def test_write_workload(contract, make_mount, tmp_path):
    """sed -i and jq + mv on meetings, a create (cp), a copy of a meeting as
    a new one, rm of a meeting, edits of settings.json, user.json and a
    webinar, mkdir of a new user, rm of a recording file and rmdir of an
    instance folder (the owner's instances whose UUIDs hold "/"), both
    recovered from the trash with mv, then rm -r of the folder and its
    deletion for good from the trash."""
    m = contract.mount(make_mount)
    user = owner(contract)
    acct = contract.sim.account(refresh=True)
    base = m.path("users", user["email"])
    meetings = base / "meetings"
    ids = [x["id"] for x in acct["meetings"][user["id"]]]
    steps = []

    a = meetings / ("%s.json" % ids[0])
    dur = json.loads(a.read_bytes())["duration"]
    act(contract, steps, "sed -i on a meeting",
        ["sed", "-i", 's/"duration": %d,/"duration": %d,/' % (dur, dur + 5), str(a)],
        expect=[("PATCH", r"^/v2/meetings/%s$" % ids[0])])

    b = "%s.json" % ids[1]
    act(contract, steps, "jq '.topic=\"x\"' m.json > t && mv t m.json",
        "cd '%s' && jq '.topic=\"x\"' %s > t && mv t %s" % (meetings, b, b),
        expect=[("PATCH", r"^/v2/meetings/%s$" % ids[1])])

    new = tmp_path / "new.json"
    new.write_bytes(json_bytes({"topic": "Contract check", "type": 2, "duration": 20,
                                "start_time": "2031-03-04T05:06:00Z", "timezone": "UTC",
                                "settings": {"waiting_room": True}}))
    before = set(os.listdir(meetings))
    act(contract, steps, "cp new.json meetings/", ["cp", str(new), str(meetings) + "/"],
        expect=[("POST", r"^/v2/users/[^/]+/meetings$")])
    created = set(os.listdir(meetings)) - before
    assert len(created) == 1, created

    before = set(os.listdir(meetings))
    act(contract, steps, "cp meetings/A.json meetings/copy.json (a meeting copied as a new one)",
        ["cp", str(a), str(meetings / "copy.json")],
        expect=[("POST", r"^/v2/users/[^/]+/meetings$")])
    copied = set(os.listdir(meetings)) - before
    assert len(copied) == 1, copied

    gone = created.pop()
    act(contract, steps, "rm of a meeting", ["rm", str(meetings / gone)],
        expect=[("DELETE", r"^/v2/meetings/%s$" % gone[:-len(".json")])])

    settings = json.loads((base / "settings.json").read_bytes())
    days = settings.get("recording", {}).get("auto_delete_cmr_days")
    act(contract, steps, "settings.json: recording.auto_delete_cmr_days",
        "cd '%s' && jq '.recording.auto_delete_cmr_days = %d' settings.json > t"
        " && mv t settings.json" % (base, 60 if days == 30 else 30),
        expect=[("PATCH", r"^/v2/users/[^/]+/settings$")])

    act(contract, steps, "user.json: job_title",
        "cd '%s' && jq '.job_title = \"Contract tester\"' user.json > t && mv t user.json" % base,
        expect=[("PATCH", r"^/v2/users/[^/?]+$")])

    w = "%s.json" % acct["webinars"][user["id"]][0]["id"]
    act(contract, steps, "a webinar: agenda",
        "cd '%s' && jq '.agenda = \"Checked against the spec\"' %s > t && mv t %s"
        % (base / "webinars", w, w),
        expect=[("PATCH", r"^/v2/webinars/\d+$")])

    act(contract, steps, "mkdir users/<new email>",
        ["mkdir", str(m.path("users", "contract.hire@example.com"))],
        expect=[("POST", r"^/v2/users$")])

    folder, _ = instance_by(m, user, lambda r: "//" in r["uuid"])
    media = sorted(p for p in folder.iterdir()
                   if p.suffix in (".mp4", ".m4a") and p.name != "recording.json")
    act(contract, steps, "rm of a recording file (UUID with //)", ["rm", str(media[0])],
        expect=[("DELETE", r"^/v2/meetings/[^/]+/recordings/[^/?]+\?action=trash$")])

    trash = base / "recordings" / ".trash"
    trashed = trash / folder.parent.name / folder.name / media[0].name
    act(contract, steps, "mv of the trashed file back (recover one file)",
        ["mv", str(trashed), str(folder) + "/"],
        expect=[("PUT", r"^/v2/meetings/[^/]+/recordings/[^/?]+/status$")])

    folder, _ = instance_by(m, user, lambda r: r["uuid"].startswith("/"))
    act(contract, steps, "rmdir of an instance folder (UUID starting with /)",
        ["rmdir", str(folder)],
        expect=[("DELETE", r"^/v2/meetings/[^/]+/recordings\?action=trash$")])

    act(contract, steps, "mv of the trashed instance folder back (recover)",
        ["mv", str(trash / folder.parent.name / folder.name), str(folder.parent) + "/"],
        expect=[("PUT", r"^/v2/meetings/[^/]+/recordings/status$")])

    act(contract, steps, "rm -r of an instance folder (each file to the trash)",
        ["rm", "-r", str(folder)],
        expect=[("DELETE", r"^/v2/meetings/[^/]+/recordings/[^/?]+\?action=trash$")])
    purge = contract.mount(make_mount, opts={"recording_delete": "delete"}, name="purge")
    gone = purge.path("users", user["email"], "recordings", ".trash", folder.parent.name,
                      folder.name)
    act(contract, steps, "rmdir in .trash under -o recording_delete=delete (for good)",
        ["rmdir", str(gone)],
        expect=[("DELETE", r"^/v2/meetings/[^/]+/recordings\?action=delete$")])

    # registrants: a new one (cp) of a meeting and of a webinar, rm of one
    regs = meetings / "registrants"
    mid = sorted(os.listdir(regs))[0]
    reg = tmp_path / "registrant.json"
    reg.write_bytes(json_bytes({"first_name": "Contract", "last_name": "Check",
                                "email": "contract.check@example.org", "country": "CH",
                                "custom_questions": [{"title": "Why?", "value": "To check."}],
                                "no_of_employees": "1-20", "auto_approve": True}))
    act(contract, steps, "cp registrant.json meetings/registrants/<id>/",
        ["cp", str(reg), str(regs / mid) + "/"],
        expect=[("POST", r"^/v2/meetings/%s/registrants$" % mid)])
    gone = sorted(os.listdir(regs / mid))[0]
    act(contract, steps, "rm of a registrant", ["rm", str(regs / mid / gone)],
        expect=[("DELETE", r"^/v2/meetings/%s/registrants/[^/?]+$" % mid)])
    wregs = base / "webinars" / "registrants"
    wid = sorted(os.listdir(wregs))[0]
    wreg = tmp_path / "webinar-registrant.json"
    wreg.write_bytes(json_bytes({"first_name": "Web", "email": "web.check@example.org",
                                 "language": "de-DE"}))
    act(contract, steps, "cp registrant.json webinars/registrants/<id>/",
        ["cp", str(wreg), str(wregs / wid) + "/"],
        expect=[("POST", r"^/v2/webinars/%s/registrants$" % wid)])

    # occurrences: sed -i and rm of a meeting's, jq of a webinar's settings
    occ = meetings / "occurrences"
    series = sorted(os.listdir(occ))[0]
    first, second = sorted(os.listdir(occ / series))[:2]
    act(contract, steps, "sed -i on an occurrence",
        ["sed", "-i", 's/"agenda": "[^"]*"/"agenda": "This week only"/', str(occ / series / first)],
        expect=[("PATCH", r"^/v2/meetings/%s\?occurrence_id=%s$" % (series, first[:-5]))])
    act(contract, steps, "rm of an occurrence", ["rm", str(occ / series / second)],
        expect=[("DELETE", r"^/v2/meetings/%s\?occurrence_id=%s$" % (series, second[:-5]))])
    wocc = base / "webinars" / "occurrences"
    wseries = sorted(os.listdir(wocc))[0]
    one = sorted(os.listdir(wocc / wseries))[0]
    act(contract, steps, "a webinar occurrence: settings",
        "cd '%s' && jq '.settings.hd_video = true | .duration = 50' %s > t && mv t %s"
        % (wocc / wseries, one, one),
        expect=[("PATCH", r"^/v2/webinars/%s\?occurrence_id=%s$" % (wseries, one[:-5]))])
    gate(steps)


def test_everything_went_through_prism(contract):
    """Every REST call the emulator answered came through Prism (the mount
    used no other way), and Prism's log and its headers tell the same."""
    entries = contract.tap.since(0)
    assert entries, "nothing went through Prism"
    served = [e for e in contract.sim.log(0) if e["path"].startswith("/v2/")]
    assert len(served) == len(entries), (
        "the emulator answered %d REST calls, Prism passed on %d" % (len(served), len(entries)))
    if not any(e["truncated"] for e in entries):
        logged = parse_log(contract.prism.log_text())
        for kind in ("request", "response"):
            in_log = sum(1 for k, _, _ in logged if k == kind)
            in_headers = sum(1 for e in entries for v in e["violations"] if v["kind"] == kind)
            assert in_log == in_headers, (kind, in_log, in_headers)
