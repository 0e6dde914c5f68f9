"""Tests of the emulator's scopes, trash, past meetings, registrants and occurrences.

Run from the repository root:  /usr/bin/python3 -m pytest tests/zoomsim -q
"""

import contextlib
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from zoomsim import routes, scopes
from zoomsim.test_zoomsim import _start, encode_uuid, owner_instances


@pytest.fixture(scope="module")
def sim():
    """The default account, shared by tests that only read."""
    yield from _start()


@pytest.fixture
def fresh():
    yield from _start()


@contextlib.contextmanager
def started(*args):
    """An emulator with these options, stopped (and checked) at the end."""
    gen = _start(*args)
    server = next(gen)
    try:
        yield server
    finally:
        next(gen, None)


TOKEN_HEADERS = {"Authorization": "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=",
                 "Content-Type": "application/x-www-form-urlencoded"}
TOKEN_FORM = "grant_type=account_credentials&account_id=demo-account"


def error(reply):
    return reply.status, reply.json()["code"], reply.json()["message"]


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- scopes -------------------------------------------------------------------------

def test_every_v2_route_has_its_scopes():
    v2 = {r.name for r in routes.ROUTES if r.category}
    assert v2 - set(scopes.NEEDS) == set()
    assert set(scopes.NEEDS) - v2 == set()


def test_default_token_carries_the_classic_admin_scopes(sim):
    reply = sim.request("POST", "/oauth/token", TOKEN_FORM, TOKEN_HEADERS)
    assert reply.json()["scope"] == scopes.DEFAULT


def test_classic_scope_missing_is_400_4711_listing_the_classic_ones():
    with started("--scopes", "recording:read:admin") as server:
        token = server.token
        assert server.api("GET", "/users/me/recordings").status == 200
        assert error(server.api("GET", "/users")) == (
            400, 4711, "Invalid access token, does not contain scopes:"
            "[user:write:admin, user:read:admin].")
        assert error(server.api("GET", "/users/me")) == (
            400, 4711, "Invalid access token, does not contain scopes:"
            "[user:write:admin, user:read:admin, user:read, user:write].")
        inst = owner_instances(server)[2]
        reply = server.api("DELETE", f"/meetings/{encode_uuid(inst['uuid'])}/recordings")
        assert error(reply) == (400, 4711, "Invalid access token, does not contain scopes:"
                                "[recording:write:admin, recording:write].")
        assert reply.headers["X-RateLimit-Category"] == "Light"
        # A download needs only a read scope.
        first, _ = server.download(inst["recording_files"][0]["download_url"], token=token)
        assert first.status == 302


def test_granular_scopes_are_checked_and_listed_granular():
    with started("--scopes", "cloud_recording:read:list_user_recordings:admin,"
                 "user:read:list_users:admin") as server:
        reply = server.request("POST", "/oauth/token", TOKEN_FORM, TOKEN_HEADERS)
        assert reply.json()["scope"] == ("cloud_recording:read:list_user_recordings:admin "
                                         "user:read:list_users:admin")
        assert server.api("GET", "/users").status == 200
        assert server.api("GET", "/users/me/recordings").status == 200
        assert error(server.api("GET", "/users/me")) == (
            400, 4711, "Invalid access token, does not contain scopes:[user:read:user:admin].")
        inst = owner_instances(server)[3]
        reply = server.api("GET", f"/meetings/{encode_uuid(inst['uuid'])}/recordings")
        assert error(reply)[2].endswith(":[cloud_recording:read:list_recording_files:admin].")
        first, _ = server.download(inst["recording_files"][0]["download_url"])
        assert first.status == 302


def test_scopes_change_at_run_time_for_new_tokens_only(fresh):
    old = fresh.token
    assert fresh.control("POST", "/config", {"scopes": "user:read:admin"})["scopes"] == \
        "user:read:admin"
    new = fresh.new_token()
    inst = owner_instances(fresh)[3]
    url = inst["recording_files"][0]["download_url"]
    assert fresh.request("GET", "/v2/users/me/recordings", token=old).status == 200
    reply = fresh.request("GET", "/v2/users/me/recordings", token=new)
    assert reply.status == 400 and reply.json()["code"] == 4711
    assert fresh.request("GET", "/v2/users/me", token=new).status == 200
    # A download without a recording scope gets the sign-in page, as a refused token does.
    page = fresh.request("GET", url, token=new)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert fresh.request("GET", url, token=old).status == 302
    assert fresh.request("POST", "/_sim/config", {"scopes": 3}).status == 400
    assert fresh.request("POST", "/_sim/config", {"plan": "gold"}).status == 400
    assert fresh.control("POST", "/config", {"plan": "basic"})["plan"] == "basic"


# ---- trash and recover ----------------------------------------------------------------

def trash_listing(server, trash_type=None, extra=""):
    query = "trash=true" + (f"&trash_type={trash_type}" if trash_type else "") + extra
    return server.get(f"/users/me/recordings?{query}")["meetings"]


def test_trash_types_keep_files_and_instances_apart(fresh):
    paused, _, plain, long_topic = owner_instances(fresh)
    one = long_topic["recording_files"][0]
    uuid = encode_uuid(long_topic["uuid"])
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings/{one['id']}").status == 204
    assert fresh.api("DELETE", f"/meetings/{encode_uuid(plain['uuid'])}/recordings").status == 204
    # meeting_recordings (the default): the instance trashed whole, every file of it.
    whole = trash_listing(fresh)
    assert whole == trash_listing(fresh, "meeting_recordings")
    assert [i["uuid"] for i in whole] == [plain["uuid"]]
    assert len(whole[0]["recording_files"]) == len(plain["recording_files"])
    assert all(f["deleted_time"] for f in whole[0]["recording_files"])
    # recording_file: the one file trashed on its own.
    single = trash_listing(fresh, "recording_file")
    assert [i["uuid"] for i in single] == [long_topic["uuid"]]
    assert [f["id"] for f in single[0]["recording_files"]] == [one["id"]]
    assert single[0]["recording_count"] == 1
    assert single[0]["total_size"] == one["file_size"]
    # Trashing the rest of that instance puts the rest under meeting_recordings.
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings").status == 204
    assert [i["uuid"] for i in trash_listing(fresh)] == [long_topic["uuid"], plain["uuid"]]
    assert [f["id"] for f in trash_listing(fresh, "recording_file")[0]["recording_files"]] == \
        [one["id"]]
    reply = fresh.api("GET", "/users/me/recordings?trash=true&trash_type=files")
    assert error(reply) == (400, 300, "Invalid parameter: trash_type.")
    assert paused["uuid"] not in [i["uuid"] for i in trash_listing(fresh)]


def test_trash_ignores_from_and_to(fresh):
    oldest = owner_instances(fresh)[0]  # months ago
    uuid = encode_uuid(oldest["uuid"])
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings").status == 204
    listed = fresh.get("/users/me/recordings?trash=true&from=2001-01-01&to=2001-01-31")
    assert [i["uuid"] for i in listed["meetings"]] == [oldest["uuid"]]
    assert listed["from"] != "2001-01-01"
    assert fresh.api("GET", "/users/me/recordings?trash=true&from=junk").status == 200
    assert fresh.api("GET", "/users/me/recordings?from=junk").status == 400


def test_recover_one_file(fresh):
    paused = owner_instances(fresh)[0]
    uuid = encode_uuid(paused["uuid"])
    first, second = paused["recording_files"][:2]
    for f in (first, second):
        assert fresh.api("DELETE", f"/meetings/{uuid}/recordings/{f['id']}").status == 204
    path = f"/meetings/{uuid}/recordings/{first['id']}/status"
    assert error(fresh.api("PUT", path, {"action": "trash"}))[:2] == (400, 300)
    reply = fresh.api("PUT", path, {"action": "recover"})
    assert (reply.status, reply.body) == (204, b"")
    live = [f.get("id") for f in fresh.get(f"/meetings/{uuid}/recordings")["recording_files"]]
    assert first["id"] in live and second["id"] not in live
    assert error(fresh.api("PUT", path, {"action": "recover"}))[:2] == (404, 3301)
    unknown = f"/meetings/{uuid}/recordings/no-such-file/status"
    assert error(fresh.api("PUT", unknown, {"action": "recover"}))[:2] == (404, 3301)
    # A file of an instance trashed whole can be recovered on its own too.
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings").status == 204
    assert fresh.api("PUT", path, {"action": "recover"}).status == 204
    assert [f["id"] for f in fresh.get(f"/meetings/{uuid}/recordings")["recording_files"]] \
        == [first["id"]]
    log = fresh.control("GET", "/log")
    assert "PUT /meetings/{meetingId}/recordings/{recordingId}/status" in \
        {e["route"] for e in log}


def test_delete_for_good_works_on_trashed_files_and_instances(fresh):
    _, _, plain, long_topic = owner_instances(fresh)
    victim = long_topic["recording_files"][0]
    uuid = encode_uuid(long_topic["uuid"])
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings/{victim['id']}").status == 204
    reply = fresh.api("DELETE", f"/meetings/{uuid}/recordings/{victim['id']}?action=delete")
    assert reply.status == 204
    assert trash_listing(fresh, "recording_file") == []
    assert fresh.request("GET", f"/_sim/files/{victim['_key']}").status == 404
    plain_uuid = encode_uuid(plain["uuid"])
    assert fresh.api("DELETE", f"/meetings/{plain_uuid}/recordings").status == 204
    assert fresh.api("DELETE", f"/meetings/{plain_uuid}/recordings?action=delete").status == 204
    assert trash_listing(fresh) == []
    assert plain["uuid"] not in [i["uuid"] for i in owner_instances(fresh)]


def test_trash_keeps_files_30_days(fresh):
    paused = owner_instances(fresh)[0]
    uuid = encode_uuid(paused["uuid"])
    now = datetime.now(timezone.utc)
    young, old = paused["recording_files"][:2]
    for rec, days in ((young, 29), (old, 31)):
        trashed = fresh.control("POST", f"/files/{rec['_key']}/trash",
                                {"deleted_time": iso(now - timedelta(days=days))})
        assert trashed["_trash_type"] == "recording_file"
    listed = trash_listing(fresh, "recording_file")
    assert [f["id"] for f in listed[0]["recording_files"]] == [young["id"]]
    assert fresh.request("GET", f"/_sim/files/{old['_key']}").status == 404
    path = f"/meetings/{uuid}/recordings/{old['id']}/status"
    assert error(fresh.api("PUT", path, {"action": "recover"}))[:2] == (404, 3301)
    path = f"/meetings/{uuid}/recordings/{young['id']}/status"
    assert fresh.api("PUT", path, {"action": "recover"}).status == 204
    assert fresh.request("POST", f"/_sim/files/{young['_key']}/trash",
                         {"trash_type": "bin"}).status == 400
    assert fresh.request("POST", "/_sim/files/nothing/trash", {}).status == 404


# ---- past meetings: participants and polls ------------------------------------------

def all_participants(server, ref, page_size=None):
    query, pages, out = f"?page_size={page_size}" if page_size else "?", [], []
    token = ""
    while True:
        page = server.get(f"/past_meetings/{ref}/participants{query}"
                          + (f"&next_page_token={token}" if token else ""))
        pages.append(page)
        out += page["participants"]
        token = page["next_page_token"]
        if not token:
            return pages, out


def test_participants_paginate_over_357_people(sim):
    crowd = next(p for p in sim.control("GET", "/past_meetings") if p["participants_count"] == 357)
    owner = sim.account()["users"][0]
    ref = encode_uuid(crowd["uuid"])
    assert "//" in crowd["uuid"]
    pages, people = all_participants(sim, ref, 300)
    assert [len(p["participants"]) for p in pages] == [300, 57]
    assert {k for k in pages[0] if k != "participants"} == {
        "next_page_token", "page_count", "page_size", "total_records"}
    assert (pages[0]["total_records"], pages[0]["page_count"], pages[0]["page_size"]) == \
        (357, 2, 300)
    assert people == crowd["participants"]
    assert people[0] == {"id": owner["id"], "name": "Alice Anderson",
                         "user_email": owner["email"]}
    assert len({p["name"] for p in people}) == 357
    guests = [p for p in people if p["id"] == ""]
    assert guests and any(p["user_email"] for p in guests) and \
        any(p["user_email"] == "" for p in guests)
    pages, again = all_participants(sim, ref)  # default page size 30
    assert len(pages) == 12 and again == people
    once = quote(crowd["uuid"], safe="")  # '//' encoded once: another UUID
    assert error(sim.api("GET", f"/past_meetings/{once}/participants"))[:2] == (404, 3001)


def test_participants_by_meeting_id_and_of_a_lonely_host(sim):
    instances = owner_instances(sim)
    past = {p["uuid"]: p for p in sim.control("GET", "/past_meetings")}
    latest = instances[2]  # the latest instance of the recurring meeting
    listed = sim.get(f"/past_meetings/{latest['id']}/participants")
    assert listed["participants"] == past[latest["uuid"]]["participants"]
    assert listed["total_records"] == 8
    lonely = instances[3]  # only the host attended: Zoom lists nobody
    assert past[lonely["uuid"]]["participants_count"] == 1
    listed = sim.get(f"/past_meetings/{encode_uuid(lonely['uuid'])}/participants")
    assert (listed["participants"], listed["total_records"], listed["next_page_token"]) == \
        ([], 0, "")
    assert error(sim.api("GET", "/past_meetings/12345678901/participants")) == (
        404, 3001, "This meeting is not available or ID is not valid.")
    assert error(sim.api("GET", "/past_meetings/nope==/polls"))[:2] == (404, 3001)
    counters = sim.control("GET", "/counters")
    assert counters["GET /past_meetings/{meetingId}/participants"]["404"] >= 1
    reply = sim.api("GET", f"/past_meetings/{latest['id']}/participants")
    assert reply.headers["X-RateLimit-Category"] == "Medium"


def test_polls(sim):
    instances = owner_instances(sim)
    past = {p["uuid"]: p for p in sim.control("GET", "/past_meetings")}
    paused = instances[0]
    polls = sim.get(f"/past_meetings/{encode_uuid(paused['uuid'])}/polls")
    assert polls == {"id": paused["id"], "uuid": paused["uuid"],
                     "start_time": paused["start_time"],
                     "questions": past[paused["uuid"]]["questions"]}
    asked = {d["question"] for q in polls["questions"] for d in q["question_details"]}
    assert len(asked) == 2
    assert any(q["name"] == "Anonymous Attendee" and q["email"] == "" for q in polls["questions"])
    named = [q for q in polls["questions"] if q["name"] != "Anonymous Attendee"]
    assert named and all(set(d) == {"question", "answer", "polling_id", "date_time"}
                         for q in named for d in q["question_details"])
    crowd = instances[1]  # no polls: an empty list, not an error
    polls = sim.get(f"/past_meetings/{encode_uuid(crowd['uuid'])}/polls")
    assert polls["questions"] == [] and polls["uuid"] == crowd["uuid"]


def test_past_meetings_outlive_recordings_and_come_with_new_ones(fresh):
    lonely = owner_instances(fresh)[3]
    uuid = encode_uuid(lonely["uuid"])
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings?action=delete").status == 204
    assert fresh.api("GET", f"/past_meetings/{uuid}/participants").status == 200
    start = iso(datetime.now(timezone.utc) - timedelta(hours=2))
    added = fresh.control("POST", "/users/me/recordings",
                          {"start_time": start, "participants": 5, "polls": 1})
    listed = fresh.get(f"/past_meetings/{encode_uuid(added['uuid'])}/participants")
    assert listed["total_records"] == 5
    assert fresh.get(f"/past_meetings/{encode_uuid(added['uuid'])}/polls")["questions"]
    plain = fresh.control("POST", "/users/me/recordings", {"start_time": start})
    listed = fresh.get(f"/past_meetings/{encode_uuid(plain['uuid'])}/participants")
    assert listed["total_records"] == 2
    assert fresh.request("POST", "/_sim/users/me/recordings",
                         {"start_time": start, "participants": -1}).status == 400


def test_a_basic_account_is_refused_past_meeting_reports(fresh):
    crowd = owner_instances(fresh)[1]
    ref = encode_uuid(crowd["uuid"])
    fresh.control("POST", "/config", {"plan": "basic"})
    for what in ("participants", "polls"):
        assert error(fresh.api("GET", f"/past_meetings/{ref}/{what}")) == (
            400, 200, "Only available for paid account: demo-account.")
    fresh.control("POST", "/config", {"plan": "pro"})
    assert fresh.api("GET", f"/past_meetings/{ref}/participants").status == 200
    with started("--plan", "basic", "--users", "1") as server:
        assert server.api("GET", f"/past_meetings/{crowd['id']}/polls").status == 400


def test_meetings_over_a_year_ago_are_out_of_reach():
    with started("--users", "1", "--months", "20") as server:
        oldest, newest = owner_instances(server)[0], owner_instances(server)[-1]
        assert error(server.api("GET", f"/past_meetings/{encode_uuid(oldest['uuid'])}/polls")) \
            == (400, 12702, "Can not access a meeting a year ago.")
        ref = encode_uuid(newest["uuid"])
        assert server.api("GET", f"/past_meetings/{ref}/participants").status == 200



def test_hostile_and_external_instances_are_past_meetings_too(tmp_path):
    media = tmp_path / "bench.mp4"
    media.write_bytes(b"x" * 100)
    with started("--hostile", "--external-file", str(media)) as server:
        account = server.account()
        past = {p["uuid"]: p for p in server.control("GET", "/past_meetings")}
        instances = [i for regs in account["recordings"].values() for i in regs]
        assert len(instances) == len(past) and all(i["uuid"] in past for i in instances)
        host = next(u for u in account["users"] if u["email"] == "mallory.hostile@example.com")
        twin = next(i for i in account["recordings"][host["id"]]
                    if i["topic"] == "Twin recording")
        people = server.get(f"/past_meetings/{encode_uuid(twin['uuid'])}/participants")
        assert people["participants"][0]["user_email"] == host["email"]
        external = next(i for i in owner_instances(server) if i["topic"] == "External: bench.mp4")
        assert past[external["uuid"]]["host_id"] == account["users"][0]["id"]
        # Hostile users can be among the people; the control API still answers ASCII JSON.
        for path in ("/_sim/past_meetings", "/_sim/registrants"):
            assert server.request("GET", path).body.isascii()

# ---- registrants ------------------------------------------------------------------------

def meetings_of(server, index=0, attr="meetings"):
    account = server.account()
    return account[attr][account["users"][index]["id"]]


def test_registrants_by_status(sim):
    manual = meetings_of(sim)[0]
    assert manual["settings"]["approval_type"] == 1
    seeded = sim.control("GET", "/registrants")[str(manual["id"])]
    default = sim.get(f"/meetings/{manual['id']}/registrants")
    assert default == sim.get(f"/meetings/{manual['id']}/registrants?status=approved")
    counts = {}
    for status in ("approved", "pending", "denied"):
        page = sim.get(f"/meetings/{manual['id']}/registrants?status={status}")
        counts[status] = page["total_records"]
        assert {"page_count", "page_number", "page_size", "total_records",
                "next_page_token"} <= set(page)
        assert all(r["status"] == status for r in page["registrants"])
        assert all(("join_url" in r) == (status == "approved") for r in page["registrants"])
        expected = [{k: v for k, v in r.items() if k != "_occurrences"} for r in seeded
                    if r["status"] == status]
        for r in expected:
            if status != "approved":
                del r["join_url"]
        assert page["registrants"] == expected
    assert counts == {"approved": 3, "pending": 2, "denied": 1}
    one = default["registrants"][0]
    assert set(one) >= {"id", "email", "first_name", "last_name", "status", "create_time",
                        "join_url", "custom_questions"}
    assert sim.get(f"/meetings/{manual['id']}/registrants/{one['id']}") == one
    assert error(sim.api("GET", f"/meetings/{manual['id']}/registrants?status=all")) == (
        400, 300, "Invalid parameter: status.")


def test_registrants_paginate(sim):
    recurring = meetings_of(sim)[1]
    first = sim.get(f"/meetings/{recurring['id']}/registrants")
    assert (first["total_records"], len(first["registrants"]), first["page_count"]) == \
        (35, 30, 2)
    rest = sim.get(f"/meetings/{recurring['id']}/registrants?next_page_token="
                   f"{first['next_page_token']}")
    assert len(rest["registrants"]) == 5 and rest["next_page_token"] == ""
    ids = [r["id"] for r in first["registrants"] + rest["registrants"]]
    assert len(set(ids)) == 35
    occurrence = recurring["occurrences"][3]["occurrence_id"]
    assert sim.get(f"/meetings/{recurring['id']}/registrants?occurrence_id={occurrence}"
                   )["total_records"] == 35
    reply = sim.api("GET", f"/meetings/{recurring['id']}/registrants?occurrence_id=1")
    assert error(reply) == (400, 3000, "Invalid occurrence_id.")


def test_registration_not_enabled(sim):
    plain = meetings_of(sim, 1)[1]
    assert plain["settings"]["approval_type"] == 2
    mid = plain["id"]
    body = {"email": "a@example.org", "first_name": "A"}
    assert error(sim.api("GET", f"/meetings/{mid}/registrants")) == (
        400, 300, f"This meeting has not set registration as required: {mid}.")
    assert error(sim.api("POST", f"/meetings/{mid}/registrants", body)) == (
        404, 404, f"Registration has not been enabled for this meeting: {mid}.")
    assert error(sim.api("GET", f"/meetings/{mid}/registrants/x"))[:2] == (400, 300)
    assert error(sim.api("DELETE", f"/meetings/{mid}/registrants/x")) == (
        400, 404, f"Registration has not been enabled for this meeting: {mid}.")
    webinar = meetings_of(sim, 0, "webinars")
    assert all(w["settings"]["approval_type"] in (0, 1) for w in webinar)
    assert error(sim.api("GET", "/meetings/12345678901/registrants"))[:2] == (404, 3001)
    assert error(sim.api("GET", "/webinars/12345678901/registrants"))[:2] == (404, 3001)


def test_add_get_and_delete_a_registrant(fresh):
    manual, recurring = meetings_of(fresh)[:2]
    path = f"/meetings/{manual['id']}/registrants"
    reply = fresh.api("POST", path, {"email": "zoe.new@example.org", "first_name": "Zoë",
                                     "last_name": "Neu", "country": "CH", "language": "de-DE"})
    assert reply.status == 201
    created = reply.json()
    assert set(created) == {"id", "registrant_id", "start_time", "topic"}  # pending: no URL
    assert (created["id"], created["topic"]) == (manual["id"], manual["topic"])
    pending = fresh.get(f"{path}?status=pending")["registrants"]
    assert pending[-1]["id"] == created["registrant_id"] and pending[-1]["first_name"] == "Zoë"
    again = fresh.api("POST", path, {"email": "ZOE.NEW@example.org", "first_name": "Z"})
    assert again.json()["registrant_id"] == created["registrant_id"]
    auto = fresh.api("POST", path, {"email": "x@example.org", "first_name": "X",
                                    "auto_approve": True}).json()
    assert auto["join_url"].startswith("https://")
    one = fresh.get(f"{path}/{auto['registrant_id']}")
    assert (one["status"], one["join_url"]) == ("approved", auto["join_url"])
    assert fresh.api("DELETE", f"{path}/{auto['registrant_id']}").status == 204
    assert error(fresh.api("GET", f"{path}/{auto['registrant_id']}")) == (
        400, 3000, f"Registrant {auto['registrant_id']} was not found.")
    assert error(fresh.api("DELETE", f"{path}/{auto['registrant_id']}"))[:2] == (400, 3000)
    # A recurring meeting: all occurrences, or those asked for.
    rpath = f"/meetings/{recurring['id']}/registrants"
    occurrences = [o["occurrence_id"] for o in recurring["occurrences"]]
    every = fresh.api("POST", rpath, {"email": "e@example.org", "first_name": "E"}).json()
    assert [o["occurrence_id"] for o in every["occurrences"]] == occurrences
    some = fresh.api("POST", f"{rpath}?occurrence_ids={occurrences[1]},{occurrences[2]}",
                     {"email": "s@example.org", "first_name": "S"}).json()
    assert [o["occurrence_id"] for o in some["occurrences"]] == occurrences[1:3]
    listed = fresh.get(f"{rpath}?occurrence_id={occurrences[0]}&page_size=300")
    assert some["registrant_id"] not in [r["id"] for r in listed["registrants"]]
    reply = fresh.api("POST", f"{rpath}?occurrence_ids=1", {"email": "q@example.org",
                                                            "first_name": "Q"})
    assert error(reply) == (400, 300, "Invalid parameter: occurrence_ids.")
    # Cancelling one occurrence keeps the others; the last one ends the registration.
    for k, occurrence in enumerate(occurrences[1:3]):
        reply = fresh.api("DELETE", f"{rpath}/{some['registrant_id']}?occurrence_id="
                          f"{occurrence}")
        assert reply.status == 204
        left = fresh.api("GET", f"{rpath}/{some['registrant_id']}").status
        assert left == (200 if k == 0 else 400)
    log = {e["route"] for e in fresh.control("GET", "/log")}
    assert {"POST /meetings/{meetingId}/registrants",
            "GET /meetings/{meetingId}/registrants/{registrantId}",
            "DELETE /meetings/{meetingId}/registrants/{registrantId}"} <= log


def test_registrant_bodies_are_validated(fresh):
    path = f"/meetings/{meetings_of(fresh)[0]['id']}/registrants"
    reply = fresh.api("POST", path, {"last_name": "L"})
    assert reply.status == 400 and reply.json() == {
        "code": 300, "message": "Validation Failed.",
        "errors": [{"field": "email", "message": "Invalid field."},
                   {"field": "first_name", "message": "Invalid field."}]}
    reply = fresh.api("POST", path, {"email": "not-an-email", "first_name": "F",
                                     "no_of_employees": "lots"})
    assert [e["field"] for e in reply.json()["errors"]] == ["email", "no_of_employees"]
    reply = fresh.api("POST", path, {"email": "a@example.org", "first_name": "x" * 65})
    assert [e["field"] for e in reply.json()["errors"]] == ["first_name"]
    assert error(fresh.api("POST", path, [1]))[:2] == (400, 300)
    reply = fresh.api("POST", path, {"email": "a@example.org", "first_name": "F",
                                     "custom_questions": [{"title": "T", "value": "v" * 129}]})
    assert [e["field"] for e in reply.json()["errors"]] == ["custom_questions"]


def test_webinar_registrants(fresh):
    auto, manual = meetings_of(fresh, 0, "webinars")[:2]
    assert fresh.get(f"/webinars/{auto['id']}/registrants")["total_records"] == 5
    counts = [fresh.get(f"/webinars/{manual['id']}/registrants?status={s}")["total_records"]
              for s in ("approved", "pending", "denied")]
    assert counts == [1, 2, 1]
    path = f"/webinars/{auto['id']}/registrants"
    created = fresh.api("POST", path, {"email": "w@example.org", "first_name": "W",
                                       "language": "fr-FR"})
    assert created.status == 201 and created.json()["join_url"]
    assert created.json()["id"] == str(auto["id"])  # a string, as the spec has it
    rid = created.json()["registrant_id"]
    assert fresh.get(f"{path}/{rid}")["language"] == "fr-FR"
    listed = fresh.get(f"{path}?page_size=300")["registrants"]
    assert [r for r in listed if r["id"] == rid] == [
        {k: v for k, v in fresh.get(f"{path}/{rid}").items() if k != "language"}]
    assert error(fresh.api("POST", path, {"email": auto["host_email"].upper(),
                                          "first_name": "H"})) == (
        400, 3027, "Host cannot register.")
    assert fresh.api("DELETE", f"{path}/{rid}").status == 204
    fresh.control("PATCH", f"/meetings/{auto['id']}", {"settings": {"approval_type": 2}})
    wid = auto["id"]
    assert error(fresh.api("POST", path, {"email": "v@example.org", "first_name": "V"})) == (
        400, 3000, f"This webinar does not have registration as required: {wid}.")
    assert error(fresh.api("DELETE", f"{path}/{rid}")) == (
        400, 404, f"Registration has not been enabled for this webinar: {wid}.")
    past = iso(datetime.now(timezone.utc) - timedelta(days=1))
    fresh.control("PATCH", f"/meetings/{wid}", {"settings": {"approval_type": 0},
                                                 "start_time": past})
    assert error(fresh.api("POST", path, {"email": "v@example.org", "first_name": "V"}))[:2] \
        == (400, 3038)


# ---- occurrences ------------------------------------------------------------------------

def test_get_one_occurrence(sim):
    recurring = meetings_of(sim)[1]
    third = recurring["occurrences"][2]
    got = sim.get(f"/meetings/{recurring['id']}?occurrence_id={third['occurrence_id']}"
                  "&show_previous_occurrences=true")
    assert (got["start_time"], got["duration"]) == (third["start_time"], third["duration"])
    assert got["occurrences"] == recurring["occurrences"] and got["topic"] == recurring["topic"]
    for path in (f"/meetings/{recurring['id']}?occurrence_id=123",
                 f"/meetings/{meetings_of(sim)[0]['id']}?occurrence_id="
                 f"{third['occurrence_id']}"):
        assert error(sim.api("GET", path)) == (400, 3000, "Invalid occurrence_id.")
    assert sim.get(f"/meetings/{recurring['id']}?occurrence_id=") == \
        sim.get(f"/meetings/{recurring['id']}")


def test_get_shows_the_occurrences_not_over_yet(sim):
    """Without show_previous_occurrences=true a GET leaves out the occurrences that
    have ended, with its occurrence_id too; the seeded series started months ago."""
    recurring = meetings_of(sim)[1]
    now = datetime.now(timezone.utc)
    ended = [o for o in recurring["occurrences"]
             if datetime.strptime(o["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(
                 tzinfo=timezone.utc) + timedelta(minutes=o["duration"]) <= now]
    assert 0 < len(ended) < len(recurring["occurrences"])
    upcoming = recurring["occurrences"][len(ended):]
    path = f"/meetings/{recurring['id']}"
    assert sim.get(path)["occurrences"] == upcoming
    assert sim.get(f"{path}?show_previous_occurrences=false")["occurrences"] == upcoming
    assert sim.get(f"{path}?show_previous_occurrences=true")["occurrences"] == \
        recurring["occurrences"]
    one = sim.get(f"{path}?occurrence_id={ended[0]['occurrence_id']}")
    assert one["start_time"] == ended[0]["start_time"] and one["occurrences"] == upcoming


def test_patch_one_occurrence(fresh):
    recurring = meetings_of(fresh)[1]
    mid, series = recurring["id"], recurring["occurrences"]
    target = series[4]["occurrence_id"]
    reply = fresh.api("PATCH", f"/meetings/{mid}?occurrence_id={target}", {
        "agenda": "Only this week", "duration": 15, "start_time": "2030-01-07T09:30:00",
        "settings": {"host_video": True, "approval_type": 0}, "topic": "ignored"})
    assert (reply.status, reply.body) == (204, b"")
    every = f"/meetings/{mid}?show_previous_occurrences=true"
    after = fresh.get(every)
    moved = after["occurrences"][4]
    assert recurring["timezone"] == "Europe/Zurich"  # 09:30 there is 08:30 UTC in January
    assert (moved["occurrence_id"], moved["duration"], moved["start_time"]) == \
        (target, 15, "2030-01-07T08:30:00Z")
    assert after["occurrences"][:4] == series[:4] and after["occurrences"][5:] == series[5:]
    assert (after["topic"], after["agenda"]) == (recurring["topic"], recurring["agenda"])
    assert after["settings"]["host_video"] == recurring["settings"]["host_video"]
    assert after["settings"]["approval_type"] == recurring["settings"]["approval_type"]
    one = fresh.get(f"/meetings/{mid}?occurrence_id={target}")
    assert (one["agenda"], one["duration"], one["start_time"]) == \
        ("Only this week", 15, moved["start_time"])
    assert one["settings"]["host_video"] is True
    # A change to the series keeps what one occurrence changed.
    assert fresh.api("PATCH", f"/meetings/{mid}", {"topic": "Renamed"}).status == 204
    assert fresh.get(every)["occurrences"][4] == moved
    reply = fresh.api("PATCH", f"/meetings/{mid}?occurrence_id={target}", {"duration": "long"})
    assert error(reply)[:2] == (400, 300) and reply.json()["errors"][0]["field"] == "duration"
    reply = fresh.api("PATCH", f"/meetings/{mid}?occurrence_id=42", {"duration": 5})
    assert error(reply) == (400, 3000, "Invalid occurrence_id.")


def test_delete_one_occurrence(fresh):
    recurring = meetings_of(fresh)[1]
    mid, series = recurring["id"], recurring["occurrences"]
    target = series[1]["occurrence_id"]
    reply = fresh.api("DELETE", f"/meetings/{mid}?occurrence_id={target}")
    assert (reply.status, reply.body) == (204, b"")
    after = fresh.get(f"/meetings/{mid}?show_previous_occurrences=true")
    assert after["occurrences"][1] == {**series[1], "status": "deleted"}
    assert [o["status"] for o in after["occurrences"]].count("deleted") == 1
    assert fresh.get(f"/meetings/{mid}?occurrence_id={target}")["start_time"] == \
        series[1]["start_time"]
    for method, body in (("DELETE", None), ("PATCH", {"duration": 5})):
        reply = fresh.api(method, f"/meetings/{mid}?occurrence_id={target}", body)
        assert error(reply) == (400, 3000, "Invalid occurrence_id.")
    assert fresh.api("DELETE", f"/meetings/{mid}?occurrence_id=1").status == 400
    webinar = meetings_of(fresh, 0, "webinars")[1]
    assert webinar["type"] == 9
    wid, first = webinar["id"], webinar["occurrences"][0]["occurrence_id"]
    assert fresh.api("PATCH", f"/webinars/{wid}?occurrence_id={first}",
                     {"settings": {"panelists_video": False}}).status == 204
    assert fresh.get(f"/webinars/{wid}?occurrence_id={first}")["settings"][
        "panelists_video"] is False
    assert fresh.api("DELETE", f"/webinars/{wid}?occurrence_id={first}").status == 204
    assert fresh.get(f"/webinars/{wid}")["occurrences"][0]["status"] == "deleted"
    assert error(fresh.api("GET", f"/webinars/{wid}?occurrence_id=9"))[:2] == (400, 3000)


# ---- paging faults on these listings ------------------------------------------------

def test_paging_faults_reach_participants(fresh):
    crowd = next(p for p in fresh.control("GET", "/past_meetings")
                 if p["participants_count"] == 357)
    path = f"/past_meetings/{encode_uuid(crowd['uuid'])}/participants"
    fresh.control("POST", "/faults", {"route": "*", "kind": "same_token"})
    assert fresh.get(path.replace("/participants", "/polls"))["questions"] == []
    assert fresh.control("GET", "/faults")[0]["count"] == 1  # polls do not page: it waits
    first = fresh.get(path)
    assert first["next_page_token"] == "Tva2CuIdTgsv8wAnhyAdU3m06Y2HuLQtlh3"
    assert first["participants"] == crowd["participants"][:30] and "page_number" not in first
    assert error(fresh.api("GET", f"{path}?next_page_token={first['next_page_token']}"))[:2] \
        == (400, 300)
    fresh.control("POST", "/faults", {"route": "GET /past_meetings/{meetingId}/participants",
                                      "kind": "endless", "count": 2})
    page = fresh.get(f"{path}?page_size=300")
    assert page["participants"] == crowd["participants"][:300]
    assert page["next_page_token"].startswith("endless-2-") and "page_number" not in page
    made = fresh.get(f"{path}?page_size=300&next_page_token={page['next_page_token']}")
    made = made["participants"]
    real_ids = {p["id"] for p in crowd["participants"]} - {""}
    real_emails = {p["user_email"] for p in crowd["participants"]} - {""}
    assert len(made) == 300
    members, guests = [p for p in made if p["id"]], [p for p in made if not p["id"]]
    assert members and guests  # a guest has no id, made up or not
    assert not {p["id"] for p in members} & real_ids
    emails = [p["user_email"] for p in made if p["user_email"]]
    assert emails and all("+" in e and e not in real_emails for e in emails)
    assert any(p["user_email"] == "" for p in guests)


def test_paging_faults_reach_registrants(fresh):
    recurring = meetings_of(fresh)[1]
    real = fresh.control("GET", "/registrants")[str(recurring["id"])]
    path = f"/meetings/{recurring['id']}/registrants"
    fresh.control("POST", "/faults", {"route": "GET /meetings/{meetingId}/registrants",
                                      "kind": "endless", "count": 2})
    page = fresh.get(path)
    assert [r["id"] for r in page["registrants"]] == [r["id"] for r in real[:30]]
    made = fresh.get(f"{path}?next_page_token={page['next_page_token']}")
    assert made["page_number"] == 2 and made["total_records"] == 35
    ids = {r["id"] for r in made["registrants"]}
    emails = {r["email"] for r in made["registrants"]}
    assert len(ids) == len(emails) == 30
    assert not ids & {r["id"] for r in real} and not emails & {r["email"] for r in real}
    webinar = meetings_of(fresh, attr="webinars")[0]
    fresh.control("POST", "/faults", {"route": "GET /webinars/{webinarId}/registrants",
                                      "kind": "same_token", "token": "again"})
    assert fresh.get(f"/webinars/{webinar['id']}/registrants")["next_page_token"] == "again"


# ---- determinism ----------------------------------------------------------------------

def _identity(server):
    """What --seed fixes (times move with the clock, so they are left out)."""
    people = [(p["uuid"], p["participants_count"],
               [(x["id"], x["name"], x["user_email"]) for x in p["participants"]],
               [(q["name"], [(d["question"], d["answer"], d["polling_id"])
                             for d in q["question_details"]]) for q in p["questions"]])
              for p in server.control("GET", "/past_meetings")]
    registered = {mid: [(r["id"], r["email"], r["status"], r["join_url"]) for r in regs]
                  for mid, regs in server.control("GET", "/registrants").items()}
    return people, registered


def test_the_same_seed_gives_the_same_people(sim):
    with started() as same, started("--seed", "2") as other:
        assert _identity(same) == _identity(sim)
        assert _identity(other)[0] != _identity(sim)[0]
        assert _identity(other)[1] != _identity(sim)[1]
