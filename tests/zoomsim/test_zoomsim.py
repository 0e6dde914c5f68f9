"""Tests of the emulator itself: it is the ruler the filesystem's tests measure with.

Run from the repository root:  /usr/bin/python3 -m pytest tests/zoomsim -q
Every server runs as a real subprocess (python3 -m zoomsim --port 0 --ready-file …).
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote, urlsplit

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CREDENTIALS = base64.b64encode(b"demo-client:demo-secret").decode()
TOKEN_FORM = "grant_type=account_credentials&account_id=demo-account"


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Sim:
    """One emulator subprocess and a small HTTP client for it."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="zoomsim-test-")
        ready = os.path.join(self.dir, "ready.json")
        self.stderr = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zoomsim", "--port", "0", "--ready-file", ready, *args],
            cwd=TESTS_DIR, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        deadline = time.time() + 20
        while not os.path.exists(ready):
            assert self.proc.poll() is None, "zoomsim exited before it was ready"
            assert time.time() < deadline, "zoomsim did not get ready"
            time.sleep(0.02)
        with open(ready) as f:
            self.ready_file_line = f.read()
        self.ready = json.loads(self.ready_file_line)
        self.stdout_line = self.proc.stdout.readline()
        self.url = self.ready["url"]
        self.port = self.ready["port"]
        self._token = None

    def stop(self):
        """SIGTERM; returns (exit status, what it wrote to stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.stderr.seek(0)
        log = self.stderr.read()
        self.stderr.close()
        shutil.rmtree(self.dir)
        return code, log

    def connection(self, host="127.0.0.1", timeout=30):
        if self.url.startswith("https"):
            context = ssl.create_default_context(cafile=self.ready["cafile"])
            return http.client.HTTPSConnection(host, self.port, timeout=timeout,
                                               context=context)
        return http.client.HTTPConnection(host, self.port, timeout=timeout)

    def request(self, method, target, body=None, headers=None, token=None, conn=None):
        """One request; target may be a path or an absolute URL of this server."""
        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            if own:
                conn.close()

    def new_token(self):
        reply = self.request("POST", "/oauth/token", TOKEN_FORM, {
            "Authorization": f"Basic {CREDENTIALS}",
            "Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status == 200, reply.body
        return reply.json()["access_token"]

    @property
    def token(self):
        if self._token is None:
            self._token = self.new_token()
        return self._token

    def api(self, method, path, body=None, **kwargs):
        return self.request(method, "/v2" + path, body, token=self.token, **kwargs)

    def get(self, path, **kwargs):
        reply = self.api("GET", path, **kwargs)
        assert reply.status == 200, (path, reply.status, reply.body)
        return reply.json()

    def control(self, method, path, body=None):
        reply = self.request(method, "/_sim" + path, body)
        assert reply.status < 300, (path, reply.status, reply.body)
        return reply.json() if reply.body else None

    def account(self):
        return self.control("GET", "/account")

    def download(self, url, headers=None, token=None):
        """Follow /rec/download's redirect to the CDN; returns (redirect, final reply)."""
        first = self.request("GET", url, headers=headers, token=token or self.token)
        assert first.status == 302, first.body
        return first, self.request("GET", first.headers["Location"], headers=headers)


def _start(*args):
    sim = Sim(*args)
    yield sim
    code, log = sim.stop()
    assert code == 0
    assert "Traceback" not in log, log
    if sim._token:
        assert sim._token not in log


@pytest.fixture(scope="module")
def sim():
    """The default account, shared by tests that only read."""
    yield from _start()


@pytest.fixture
def fresh():
    """A default account of its own, for tests that change things."""
    yield from _start()


def owner_instances(sim):
    account = sim.account()
    return account["recordings"][account["users"][0]["id"]]


def encode_uuid(uuid):
    """The client's rule: double-encode UUIDs that start with '/' or contain '//'."""
    once = quote(uuid, safe="")
    return quote(once, safe="") if uuid.startswith("/") or "//" in uuid else once


# ---- start-up ---------------------------------------------------------------------

def test_ready_line_on_stdout_and_in_file(sim):
    assert sim.stdout_line == sim.ready_file_line
    assert set(sim.ready) == {"url", "port", "pid", "cafile"}
    assert sim.ready["url"] == f"http://127.0.0.1:{sim.port}"
    assert sim.ready["pid"] == sim.proc.pid and sim.ready["cafile"] is None


def test_sigterm_exits_cleanly():
    server = Sim()
    assert server.stop()[0] == 0


def test_verbose_logs_method_path_status_without_tokens():
    server = Sim("--verbose")
    token = server.token
    server.request("GET", f"/rec/download/nothing?access_token={token}")
    code, log = server.stop()
    assert code == 0
    assert "POST /oauth/token 200" in log
    assert "GET /rec/download/nothing 404" in log
    assert token not in log and "demo-secret" not in log


# ---- OAuth ------------------------------------------------------------------------

BASIC = {"Authorization": f"Basic {CREDENTIALS}"}
FORM = {**BASIC, "Content-Type": "application/x-www-form-urlencoded"}


def test_token_from_form_body_and_from_query(sim):
    for target, body in (("/oauth/token", TOKEN_FORM), (f"/oauth/token?{TOKEN_FORM}", "")):
        reply = sim.request("POST", target, body, FORM)
        assert reply.status == 200
        token = reply.json()
        assert token["token_type"] == "bearer" and token["expires_in"] == 3600
        assert token["api_url"] == sim.url and "recording:read:admin" in token["scope"]
        assert sim.request("GET", "/v2/users/me", token=token["access_token"]).status == 200


def test_tokens_are_zoom_shaped_jwts_of_600_to_2000_characters(sim):
    lengths = []
    for _ in range(8):
        token = sim.request("POST", "/oauth/token", TOKEN_FORM, FORM).json()["access_token"]
        header, payload, signature = token.split(".")
        pad = lambda s: s + "=" * (-len(s) % 4)
        assert json.loads(base64.urlsafe_b64decode(pad(header)))["alg"] == "HS512"
        claims = json.loads(base64.urlsafe_b64decode(pad(payload)))
        assert claims["aid"] == "demo-account" and claims["exp"] > claims["iat"]
        assert len(base64.urlsafe_b64decode(pad(signature))) == 64  # HS512
        lengths.append(len(token))
    assert all(600 <= n <= 2000 for n in lengths), lengths
    assert max(lengths) > 1900, lengths  # the longest ones come every few tokens


@pytest.mark.parametrize("body, headers, expected", [
    ('{"grant_type": "account_credentials", "account_id": "demo-account"}',
     {**BASIC, "Content-Type": "application/json"},
     {"reason": "unsupported grant type", "error": "unsupported_grant_type"}),
    (TOKEN_FORM, {"Authorization": "Basic " + base64.b64encode(b"demo-client:nope").decode()},
     {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
    (TOKEN_FORM, {}, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
    ("grant_type=account_credentials&account_id=other", FORM,
     {"reason": "Bad Request", "error": "invalid_request"}),
    ("grant_type=client_credentials&account_id=demo-account", FORM,
     {"reason": "unsupported grant type", "error": "unsupported_grant_type"}),
])
def test_token_errors(sim, body, headers, expected):
    reply = sim.request("POST", "/oauth/token", body, headers)
    assert (reply.status, reply.json()) == (400, expected)


def _code124(reply):
    assert reply.status == 401
    assert reply.json()["code"] == 124
    return reply.json()["message"]


def test_api_token_errors(sim):
    assert _code124(sim.request("GET", "/v2/users")) == "Invalid access token."
    assert _code124(sim.request("GET", "/v2/users", token="forged")) == "Invalid access token."
    assert _code124(sim.request("GET", f"/v2/users?access_token={sim.token}")) == (
        "Invalid access token, this access token is not supported as query parameter string.")


def test_expired_tokens(fresh):
    old = fresh.token
    fresh.control("POST", "/tokens/expire")
    assert _code124(fresh.api("GET", "/users")) == "Access token is expired."
    fresh.control("POST", "/config", {"token_lifetime": 1})
    short = fresh.new_token()
    assert fresh.request("GET", "/v2/users", token=short).status == 200
    time.sleep(1.1)
    assert _code124(fresh.request("GET", "/v2/users", token=short)) == "Access token is expired."
    assert old != short


def test_max_live_tokens_invalidates_the_oldest(fresh):
    fresh.control("POST", "/config", {"max_live_tokens": 1})
    first, second = fresh.new_token(), fresh.new_token()
    assert _code124(fresh.request("GET", "/v2/users", token=first)) == "Invalid access token."
    assert fresh.request("GET", "/v2/users", token=second).status == 200


# ---- common headers, keep-alive, concurrency ----------------------------------------

def test_zoom_headers_on_every_api_response(sim):
    for reply in (sim.api("GET", "/users"), sim.api("GET", "/meetings/1")):
        assert reply.headers["x-zm-trackingid"]
        assert reply.headers["X-RateLimit-Category"] in ("Light", "Medium")
        assert int(reply.headers["X-RateLimit-Limit"]) >= int(
            reply.headers["X-RateLimit-Remaining"])
    download = sim.request("GET", "/rec/download/unknown")
    assert download.headers["x-zm-trackingid"] and "X-RateLimit-Category" not in download.headers


def test_keep_alive_and_concurrent_clients(sim):
    conn = sim.connection()
    first = sim.request("GET", "/v2/users/me", token=sim.token, conn=conn)
    second = sim.request("PATCH", "/v2/users/me", {}, token=sim.token, conn=conn)
    third = sim.request("GET", "/v2/users/me/settings", token=sim.token, conn=conn)
    conn.close()
    assert (first.status, second.status, second.body, third.status) == (200, 204, b"", 200)

    results = []

    def client():
        for _ in range(10):
            results.append(sim.api("GET", "/users").status)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 80


# ---- users and pagination ---------------------------------------------------------

@pytest.fixture(scope="module")
def big_account():
    yield from _start("--users", "650", "--instances", "1", "--meetings", "1",
                      "--big-file", str(5 * 2**30))


def _all_pages(sim, path, key, **query):
    items, token, pages = [], None, []
    while True:
        params = dict(query, **({"next_page_token": token} if token else {}))
        page = sim.get(path + "?" + "&".join(f"{k}={v}" for k, v in params.items()))
        pages.append(page)
        items += page[key]
        token = page["next_page_token"]
        if token == "":
            return items, pages


def test_users_pagination_across_statuses(big_account):
    sim = big_account
    account = sim.account()
    expected = {s: [u["email"] for u in account["users"] if u["status"] == s]
                for s in ("active", "inactive", "pending")}
    assert [len(v) for v in expected.values()] == [390, 130, 130]
    assert len({u["email"] for u in account["users"]}) == 650
    users, pages = _all_pages(sim, "/users", "users", page_size=300)
    assert [u["email"] for u in users] == expected["active"]
    assert [len(p["users"]) for p in pages] == [300, 90]
    assert pages[0]["page_count"] == 2 and pages[0]["total_records"] == 390
    assert [p["page_number"] for p in pages] == [1, 2]
    for status in ("inactive", "pending"):
        users, _ = _all_pages(sim, "/users", "users", status=status)
        assert [u["email"] for u in users] == expected[status]
    first = sim.get("/users")
    assert first["page_size"] == 30 and len(first["users"]) == 30
    assert sim.get("/users?page_size=1000")["page_size"] == 300


def test_page_number_and_bad_page_token(big_account):
    by_number = big_account.get("/users?page_size=10&page_number=3")
    everything = big_account.get("/users?page_size=300")["users"]
    assert by_number["users"] == everything[20:30] and by_number["page_number"] == 3
    reply = big_account.api("GET", "/users?next_page_token=bogus")
    assert reply.status == 400 and reply.json()["code"] == 300


def test_pending_users_have_no_id_but_resolve_by_email(sim):
    pending = [u for u in sim.account()["users"] if u["status"] == "pending"]
    assert pending and all("id" not in u for u in pending)
    user = sim.get(f"/users/{quote(pending[0]['email'])}")
    assert user["status"] == "pending" and "id" not in user
    assert sim.get("/users?status=pending")["users"][0]["email"] == pending[0]["email"]


def test_pending_users_have_no_settings_meetings_webinars_or_recordings(sim):
    users = sim.account()["users"]
    assert users[4]["status"] == "pending"  # the demo account has one: Emma Fischer
    email = users[4]["email"]
    not_found = (404, {"code": 1001, "message": f"User does not exist: {email}."})
    for method, path, body in (("GET", "settings", None), ("PATCH", "settings", {}),
                               ("GET", "meetings", None), ("POST", "meetings", {}),
                               ("GET", "webinars", None), ("POST", "webinars", {}),
                               ("GET", "recordings", None)):
        reply = sim.api(method, f"/users/{email}/{path}", body)
        assert (reply.status, reply.json()) == not_found, (method, path)
    assert sim.get(f"/users/{email}")["status"] == "pending"


def test_users_by_id_email_and_me(sim):
    owner = sim.account()["users"][0]
    for ref in (owner["id"], owner["email"], owner["email"].upper(), "me"):
        assert sim.get(f"/users/{quote(ref)}")["id"] == owner["id"]
    reply = sim.api("GET", "/users/nobody@example.com")
    assert (reply.status, reply.json()) == (
        404, {"code": 1001, "message": "User does not exist: nobody@example.com."})


def test_patch_user_ignores_read_only_fields_and_validates(fresh):
    reply = fresh.api("PATCH", "/users/me", {"job_title": "CTO", "email": "x@y.z", "id": "x"})
    assert (reply.status, reply.body) == (204, b"")
    assert "Content-Length" not in reply.headers
    user = fresh.get("/users/me")
    assert user["job_title"] == "CTO" and user["email"] == "alice.anderson@example.com"
    reply = fresh.api("PATCH", "/users/me", {"first_name": 5, "use_pmi": "yes"})
    assert (reply.status, reply.json()) == (400, {
        "code": 300, "message": "Validation Failed.",
        "errors": [{"field": "first_name", "message": "Invalid field."},
                   {"field": "use_pmi", "message": "Invalid field."}]})


def test_settings_feature_webinar_and_merge(fresh):
    users = fresh.account()["users"]
    assert fresh.get("/users/me/settings")["feature"]["webinar"] is True
    assert fresh.get(f"/users/{users[1]['id']}/settings")["feature"]["webinar"] is False
    before = fresh.get("/users/me/settings")
    reply = fresh.api("PATCH", "/users/me/settings",
                      {"recording": {"auto_delete_cmr": True, "auto_delete_cmr_days": 60}})
    assert (reply.status, reply.body) == (204, b"")
    after = fresh.get("/users/me/settings")
    before["recording"].update(auto_delete_cmr=True, auto_delete_cmr_days=60)
    assert after == before
    reply = fresh.api("PATCH", "/users/me/settings", {"recording": {"auto_delete_cmr_days": 7}})
    assert reply.json()["errors"] == [{"field": "recording.auto_delete_cmr_days",
                                       "message": "Invalid field."}]


# ---- meetings and webinars --------------------------------------------------------

def test_meeting_list_and_get(sim):
    owner = sim.account()["users"][0]
    meetings = sim.get("/users/me/meetings")
    assert meetings["total_records"] == 3 and meetings["next_page_token"] == ""
    assert [m["type"] for m in meetings["meetings"]] == [2, 8, 3]
    for item in meetings["meetings"]:
        assert 10**10 <= item["id"] < 10**11 and item["host_id"] == owner["id"]
        assert len(item["agenda"]) <= 250
        full = sim.get(f"/meetings/{item['id']}")
        assert full["settings"]["waiting_room"] in (True, False) and "start_url" in full
    recurring = sim.get(f"/meetings/{meetings['meetings'][1]['id']}"
                        "?show_previous_occurrences=true")
    assert recurring["topic"] == "Q3 review: EMEA/APAC — Zürich"
    assert recurring["recurrence"]["type"] == 2 and len(recurring["occurrences"]) == 20


def test_meeting_create_patch_delete(fresh):
    reply = fresh.api("POST", "/users/me/meetings",
                      {"topic": "Planning", "start_time": "2030-01-02T10:00:00",
                       "timezone": "Europe/Zurich", "duration": 30,
                       "settings": {"waiting_room": False}})
    assert reply.status == 201
    created = reply.json()
    mid = created["id"]
    assert 10**10 <= mid < 10**11 and created["uuid"] and created["host_id"]
    assert created["start_time"] == "2030-01-02T09:00:00Z"  # local time in its timezone
    assert created["settings"]["waiting_room"] is False

    reply = fresh.api("PATCH", f"/meetings/{mid}",
                      {"topic": "Standup", "settings": {"mute_upon_entry": False},
                       "id": 1, "join_url": "x"})
    assert (reply.status, reply.body) == (204, b"")
    after = fresh.get(f"/meetings/{mid}")
    assert after["topic"] == "Standup" and after["id"] == mid
    assert after["join_url"] == created["join_url"]
    assert after["settings"] == {**created["settings"], "mute_upon_entry": False}

    assert fresh.api("DELETE", f"/meetings/{mid}").status == 204
    reply = fresh.api("GET", f"/meetings/{mid}")
    assert (reply.status, reply.json()) == (
        404, {"code": 3001, "message": f"Meeting {mid} is not found or has expired."})
    assert mid not in [m["id"] for m in fresh.get("/users/me/meetings")["meetings"]]


def test_meeting_validation_errors(sim):
    mid = sim.get("/users/me/meetings")["meetings"][0]["id"]
    for method, path in (("PATCH", f"/meetings/{mid}"), ("POST", "/users/me/meetings")):
        reply = sim.api(method, path, {"duration": "long", "topic": 5})
        assert (reply.status, reply.json()) == (400, {
            "code": 300, "message": "Validation Failed.",
            "errors": [{"field": "duration", "message": "Invalid field."},
                       {"field": "topic", "message": "Invalid field."}]})
        reply = sim.api(method, path, b"{not json")
        assert (reply.status, reply.json()) == (
            400, {"code": 300, "message": "Request Body should be a valid JSON object."})
    reply = sim.api("PATCH", f"/meetings/{mid}", {"settings": {"jbh_time": 7}, "type": 4})
    assert [e["field"] for e in reply.json()["errors"]] == ["settings.jbh_time", "type"]
    assert sim.get(f"/meetings/{mid}")["topic"] != 5


def test_webinars_need_the_add_on(fresh):
    other = fresh.account()["users"][1]["id"]
    assert fresh.get("/users/me/webinars")["total_records"] == 2
    for reply in (fresh.api("GET", f"/users/{other}/webinars"),
                  fresh.api("POST", f"/users/{other}/webinars", {"topic": "x"})):
        assert reply.status == 400 and reply.json()["code"] == 200
        assert reply.json()["message"].startswith("Subscription plan for webinar is missing.")
    created = fresh.api("POST", "/users/me/webinars", {"topic": "Launch"})
    assert created.status == 201 and created.json()["type"] == 5
    wid = created.json()["id"]
    assert fresh.api("PATCH", f"/webinars/{wid}", {"agenda": "Hi"}).status == 204
    assert fresh.get(f"/webinars/{wid}")["agenda"] == "Hi"
    assert fresh.api("DELETE", f"/webinars/{wid}").status == 204
    reply = fresh.api("GET", f"/webinars/{wid}")
    assert reply.json() == {"code": 3001, "message": f"Webinar {wid} not found or has expired."}


# ---- recordings: the seeded quirks ---------------------------------------------------

def test_owner_recordings_have_the_quirks(sim):
    instances = owner_instances(sim)
    assert len(instances) == 4
    paused, processing, plain, long_topic = instances
    assert paused["uuid"].startswith("/") and "//" in processing["uuid"]
    assert paused["id"] == processing["id"] == plain["id"] != long_topic["id"]
    assert len({paused["uuid"], processing["uuid"], plain["uuid"]}) == 3
    assert paused["topic"] == "Q3 review: EMEA/APAC — Zürich" and paused["type"] == 8
    assert long_topic["topic"].startswith("..") and len(long_topic["topic"]) == 200
    assert len(long_topic["topic"].encode()) > 255

    speaker = [f for f in paused["recording_files"]
               if f.get("recording_type") == "shared_screen_with_speaker_view"]
    assert len(speaker) == 2 and speaker[0]["recording_start"] != speaker[1]["recording_start"]
    for instance in instances:
        assert isinstance(instance["id"], int) and isinstance(instance["type"], int)
        for f in instance["recording_files"]:
            assert f["meeting_id"] == instance["uuid"]
            assert f["download_url"] == f"{sim.url}/rec/download/{f['_key']}"
            if f["file_type"] in ("CC", "TIMELINE"):
                assert not {"id", "file_size", "status", "recording_type", "play_url"} & set(f)
            else:
                assert {"id", "file_size", "status", "recording_type"} <= set(f)
    pending = [f for f in processing["recording_files"] if f.get("status") == "processing"]
    assert len(pending) == 1
    assert (pending[0]["file_type"], pending[0]["file_extension"], pending[0]["file_size"],
            pending[0]["recording_end"]) == ("", "", 0, "")
    names = [f["file_name"] for f in paused["participant_audio_files"]]
    assert "Alice's audio" in names and any("/" in n for n in names)
    assert paused["recording_count"] == len(paused["recording_files"]) + len(names)


def test_recording_listing_matches_account(sim):
    owner = sim.account()["users"][0]
    expected = {i["uuid"] for i in owner_instances(sim)}
    created = date.fromisoformat(owner["created_at"][:10])
    found, month = set(), created.replace(day=1)
    while month <= date.today():
        following = (month + timedelta(days=32)).replace(day=1)
        page = sim.get(f"/users/me/recordings?from={month}&to={following - timedelta(days=1)}")
        assert page["next_page_token"] == "" and "page_number" not in page
        for instance in page["meetings"]:
            assert instance["start_time"][:7] == month.isoformat()[:7]
            assert all("_key" not in f for f in instance["recording_files"])
        found |= {i["uuid"] for i in page["meetings"]}
        month = following
    assert found == expected


def test_recordings_window_is_narrowed_to_one_month(sim):
    today = datetime.now(timezone.utc).date()
    page = sim.get(f"/users/me/recordings?from={today - timedelta(days=200)}&to={today}")
    start = date.fromisoformat(page["from"])
    assert page["to"] == today.isoformat()
    assert 28 <= (today - start).days <= 31
    assert all(i["start_time"][:10] >= page["from"] for i in page["meetings"])
    default = sim.get("/users/me/recordings")
    assert (default["from"], default["to"]) == (today.isoformat(),
                                                (today + timedelta(days=1)).isoformat())
    assert sim.api("GET", "/users/me/recordings?from=2024-13-01").status == 400


def test_uuid_double_encoding_rule(sim):
    paused, processing, plain, _ = owner_instances(sim)
    for instance in (paused, processing, plain):
        got = sim.get(f"/meetings/{encode_uuid(instance['uuid'])}/recordings")
        assert got["uuid"] == instance["uuid"] and "password" in got
    for instance in (paused, processing):  # single encoding misroutes, as on Zoom
        reply = sim.api("GET", f"/meetings/{quote(instance['uuid'], safe='')}/recordings")
        assert (reply.status, reply.json()) == (
            404, {"code": 3301, "message": "There is no recording for this meeting."})
    latest = sim.get(f"/meetings/{paused['id']}/recordings")
    assert latest["uuid"] == max((paused, processing, plain),
                                 key=lambda i: i["start_time"])["uuid"]


def test_single_slash_uuid_needs_no_double_encoding(fresh):
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    added = fresh.control("POST", "/users/me/recordings",
                          {"start_time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "topic": "a/b",
                           "uuid": "ab/cd+ef==", "files": [{"file_type": "MP4", "size": 10}]})
    assert fresh.get(f"/meetings/{quote('ab/cd+ef==', safe='')}/recordings")["topic"] == "a/b"
    assert added["recording_files"][0]["_size"] == 10


# ---- recordings: trash, delete, recover ---------------------------------------------

def test_trash_and_recover_a_file(fresh):
    paused = owner_instances(fresh)[0]
    uuid = encode_uuid(paused["uuid"])
    victim = paused["recording_files"][0]
    reply = fresh.api("DELETE", f"/meetings/{uuid}/recordings/{victim['id']}?action=trash")
    assert (reply.status, reply.body) == (204, b"")
    files = fresh.get(f"/meetings/{uuid}/recordings")["recording_files"]
    assert victim["id"] not in [f.get("id") for f in files]
    trash = fresh.get("/users/me/recordings?trash=true&trash_type=recording_file")["meetings"]
    assert [f["id"] for f in trash[0]["recording_files"]] == [victim["id"]]
    assert trash[0]["recording_files"][0]["deleted_time"]
    redirect = fresh.request("GET", victim["download_url"], token=fresh.token)
    assert redirect.status == 404
    assert fresh.api("PUT", f"/meetings/{uuid}/recordings/status",
                     {"action": "recover"}).status == 204
    files = fresh.get(f"/meetings/{uuid}/recordings")["recording_files"]
    assert victim["id"] in [f.get("id") for f in files]
    assert fresh.get("/users/me/recordings?trash=true&trash_type=recording_file")["meetings"] == []


def test_trash_and_delete_instances(fresh):
    paused, processing, plain, long_topic = owner_instances(fresh)
    uuid = encode_uuid(plain["uuid"])
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings").status == 204  # trash: default
    assert fresh.api("GET", f"/meetings/{uuid}/recordings").status == 404
    assert fresh.get("/users/me/recordings?trash=true")["meetings"][0]["uuid"] == plain["uuid"]
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings?action=delete").status == 204
    assert fresh.get("/users/me/recordings?trash=true")["meetings"] == []
    reply = fresh.api("PUT", f"/meetings/{uuid}/recordings/status", {"action": "recover"})
    assert reply.status == 404 and reply.json()["code"] == 3301
    assert plain["uuid"] not in [i["uuid"] for i in owner_instances(fresh)]
    first = long_topic["recording_files"][0]
    reply = fresh.api("DELETE", f"/meetings/{encode_uuid(long_topic['uuid'])}/recordings/"
                                f"{first['id']}?action=delete")
    assert reply.status == 204
    assert fresh.request("GET", f"/_sim/files/{first['_key']}").status == 404
    busy = next(f for f in processing["recording_files"] if f.get("status") == "processing")
    reply = fresh.api("DELETE", f"/meetings/{encode_uuid(processing['uuid'])}/recordings/"
                                f"{busy['id']}")
    assert (reply.status, reply.json()["code"]) == (400, 3303)
    assert fresh.api("DELETE", f"/meetings/{uuid}/recordings?action=shred").status == 400


# ---- downloads ----------------------------------------------------------------------

def test_download_redirects_to_cdn_and_matches_sha256(sim):
    target = owner_instances(sim)[0]["recording_files"][0]
    redirect, body = sim.download(target["download_url"])
    location = urlsplit(redirect.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == sim.url
    assert location.path == f"/cdn/{target['_key']}" and "expires=" in location.query
    assert "sig=" in location.query and redirect.headers["Content-Length"] == "0"
    assert body.status == 200 and body.headers["Content-Type"] == "video/mp4"
    assert len(body.body) == target["file_size"] == target["_size"]
    info = sim.control("GET", f"/files/{target['_key']}")
    assert info == {"size": len(body.body), "sha256": hashlib.sha256(body.body).hexdigest()}


def test_cdn_ranges_and_head(sim):
    target = owner_instances(sim)[0]["recording_files"][0]
    redirect = sim.request("GET", target["download_url"], token=sim.token)
    cdn = redirect.headers["Location"]
    whole = sim.request("GET", cdn).body
    size = len(whole)
    for header, start, end in (("bytes=100-199", 100, 200), (f"bytes={size - 10}-", size - 10,
                                                             size),
                               ("bytes=-5", size - 5, size), (f"bytes=0-{size + 50}", 0, size)):
        part = sim.request("GET", cdn, headers={"Range": header})
        assert part.status == 206 and part.body == whole[start:end]
        assert part.headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}"
    unsatisfiable = sim.request("GET", cdn, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{size}"
    assert sim.request("GET", cdn, headers={"Range": "bytes=0-1,4-5"}).body == whole
    head = sim.request("HEAD", cdn)
    assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", str(size))
    assert sim.request("HEAD", target["download_url"], token=sim.token).status == 302


def test_download_auth_failures_get_html(sim):
    target = owner_instances(sim)[0]["recording_files"][0]
    for token in (None, "forged"):
        reply = sim.request("GET", target["download_url"], token=token)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
        assert len(reply.body) != target["file_size"]
    with_query = sim.request("GET", f"{target['download_url']}?access_token={sim.token}")
    assert with_query.status == 302


def test_cdn_signature_and_expiry(fresh):
    target = owner_instances(fresh)[0]["recording_files"][0]
    cdn = fresh.request("GET", target["download_url"], token=fresh.token).headers["Location"]
    assert fresh.request("GET", cdn.replace("sig=", "sig=0")).status == 403
    fresh.control("POST", "/config", {"cdn_ttl": 0})
    stale = fresh.request("GET", target["download_url"], token=fresh.token).headers["Location"]
    time.sleep(1.05)
    reply = fresh.request("GET", stale)
    assert reply.status == 403 and b"expired" in reply.body
    fresh.control("POST", "/config", {"cdn_ttl": 300, "cdn_ignore_range": True})
    fresh_cdn = fresh.request("GET", target["download_url"], token=fresh.token)
    full = fresh.request("GET", fresh_cdn.headers["Location"], headers={"Range": "bytes=0-9"})
    assert full.status == 200 and len(full.body) == target["file_size"]


def test_text_files_are_real_text_of_their_size(sim):
    paused = owner_instances(sim)[0]
    for f in paused["recording_files"]:
        if f["file_extension"] not in ("VTT", "TXT", "JSON"):
            continue
        _, body = sim.download(f["download_url"])
        assert len(body.body) == f["_size"]
        text = body.body.decode("utf-8")
        if f["file_extension"] == "VTT":
            assert text.startswith("WEBVTT\n\n1\n") and " --> " in text
        elif f["file_extension"] == "JSON":
            assert json.loads(text)["timeline"]
        else:
            assert " to Everyone:\n\t" in text
    timeline = next(f for f in paused["recording_files"] if f["file_type"] == "TIMELINE")
    head = sim.request("HEAD", sim.request("GET", timeline["download_url"],
                                           token=sim.token).headers["Location"])
    assert int(head.headers["Content-Length"]) == timeline["_size"]


def test_big_file_ranges_without_generating_it(big_account):
    owner = big_account.account()["users"][0]["id"]
    big = next(i for i in big_account.account()["recordings"][owner]
               if i["topic"] == "Big recording")
    target = big["recording_files"][0]
    assert target["file_size"] == 5 * 2**30
    cdn = big_account.request("GET", target["download_url"],
                              token=big_account.token).headers["Location"]
    tail = big_account.request("GET", cdn, headers={"Range": f"bytes={5 * 2**30 - 100}-"})
    assert tail.status == 206 and len(tail.body) == 100


def test_same_seed_same_bytes(sim):
    other = Sim()
    try:
        assert [i["uuid"] for i in owner_instances(other)] == [
            i["uuid"] for i in owner_instances(sim)]
        key = owner_instances(sim)[1]["recording_files"][3]["_key"]
        assert other.control("GET", f"/files/{key}") == sim.control("GET", f"/files/{key}")
    finally:
        assert other.stop()[0] == 0


# ---- rate limits and faults ---------------------------------------------------------

def test_qps_limit(fresh):
    fresh.control("POST", "/config", {"qps": 2})
    statuses = [fresh.api("GET", "/users/me/settings").status for _ in range(4)]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:]
    limited = fresh.api("GET", "/users/me/settings")
    assert limited.status == 429 and limited.headers["X-RateLimit-Type"] == "QPS"
    assert limited.headers["Retry-After"] == "1" and limited.json()["code"] == 429
    assert fresh.api("GET", "/users/me").status == 200  # another category: Light


def _fault(sim, **spec):
    return sim.control("POST", "/faults", spec)


def test_fault_429_and_count(fresh):
    _fault(fresh, route="GET /users", kind="429", count=2, retry_after=3)
    first, second, third = (fresh.api("GET", "/users") for _ in range(3))
    assert (first.status, second.status, third.status) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3" and first.json() == {
        "code": 429,
        "message": "You have reached the maximum per-second rate limit for this API. "
                   "Try again later."}
    assert fresh.control("GET", "/faults") == []


def test_fault_429daily(fresh):
    _fault(fresh, route="*", kind="429daily")
    reply = fresh.api("GET", "/users/me")
    assert reply.status == 429 and reply.headers["X-RateLimit-Type"] == "Daily-limit"
    assert reply.headers["X-RateLimit-Remaining"] == "0"
    retry = datetime.strptime(reply.headers["Retry-After"], "%Y-%m-%dT%H:%M:%SZ")
    assert (retry.hour, retry.minute, retry.second) == (0, 0, 0) and retry > datetime.utcnow()


def test_fault_5xx_matches_only_its_route(fresh):
    _fault(fresh, route="GET /users/{userId}", kind="5xx", status=502)
    assert fresh.api("GET", "/users").status == 200
    reply = fresh.api("GET", "/users/me")
    assert reply.status == 502 and reply.json()["code"] == 502
    _fault(fresh, route="*", kind="5xx")
    assert fresh.new_token()  # the token endpoint is never faulted
    assert fresh.api("GET", "/users").status == 503


def test_fault_reset_cuts_the_body(fresh):
    target = owner_instances(fresh)[0]["recording_files"][0]
    cdn = fresh.request("GET", target["download_url"], token=fresh.token).headers["Location"]
    fresh.control("POST", "/reset")
    _fault(fresh, route="GET /cdn/{fileKey}", kind="reset", after_bytes=1000)
    conn = fresh.connection()
    conn.request("GET", urlsplit(cdn).path + "?" + urlsplit(cdn).query)
    response = conn.getresponse()
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert len(cut.value.partial) == 1000
    conn.close()
    assert len(fresh.request("GET", cdn).body) == target["file_size"]
    log = fresh.control("GET", "/log")
    assert [(e["status"], e["bytes"]) for e in log] == [(200, 1000), (200, target["file_size"])]


def test_fault_stall_and_log_before_body(fresh):
    fresh.token
    _fault(fresh, route="GET /users", kind="stall", seconds=1)
    replies = []
    started = time.monotonic()
    client = threading.Thread(target=lambda: replies.append(fresh.api("GET", "/users")))
    client.start()
    time.sleep(0.5)
    # Logged before the (stalled) body: a client that has its response finds it.
    assert [(e["route"], e["status"]) for e in fresh.control("GET", "/log")][-1] == (
        "GET /users", 200)
    client.join()
    assert replies[0].status == 200 and time.monotonic() - started >= 1


def test_fault_expire_token(fresh):
    _fault(fresh, route="*", kind="expire_token")
    assert _code124(fresh.api("GET", "/users")) == "Access token is expired."
    assert _code124(fresh.api("GET", "/users")) == "Access token is expired."
    assert fresh.request("GET", "/v2/users", token=fresh.new_token()).status == 200


def test_fault_drop_serves_then_hangs_up(fresh):
    before = len(fresh.account()["meetings"][fresh.account()["users"][0]["id"]])
    _fault(fresh, route="POST /users/{userId}/meetings", kind="drop")
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        fresh.api("POST", "/users/me/meetings", {"topic": "lost answer"})
    after = fresh.account()["meetings"][fresh.account()["users"][0]["id"]]
    assert len(after) == before + 1 and after[-1]["topic"] == "lost answer"


def test_fault_html_answers_a_sign_in_page(fresh):
    _fault(fresh, route="GET /users", kind="html")
    reply = fresh.api("GET", "/users")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert b"Sign in" in reply.body
    again = fresh.api("GET", "/users")
    assert again.status == 200 and again.json()["users"]


# ---- faults: listings that do not end -------------------------------------------------

def test_fault_same_token_repeats_the_first_page(fresh):
    _fault(fresh, route="*", kind="same_token", count=3)
    assert fresh.get("/users/me")["email"]  # not a listing: the fault waits
    assert fresh.control("GET", "/faults")[0]["count"] == 3
    first = fresh.get("/users?page_size=2")
    assert first["next_page_token"] == "Tva2CuIdTgsv8wAnhyAdU3m06Y2HuLQtlh3"
    for _ in range(2):
        again = fresh.get(f"/users?page_size=2&next_page_token={first['next_page_token']}")
        assert again == first
    reply = fresh.api("GET", f"/users?page_size=2&next_page_token={first['next_page_token']}")
    assert (reply.status, reply.json()["code"]) == (400, 300)  # the fault is used up
    _fault(fresh, route="GET /users/{userId}/meetings", kind="same_token", token="again")
    assert fresh.get("/users/me/meetings")["next_page_token"] == "again"


def test_fault_endless_pages_stay_distinct_and_bounded(fresh):
    real = fresh.get("/users?page_size=2")
    _fault(fresh, route="GET /users", kind="endless", count=60)
    tokens, ids, emails = set(), set(), set()
    page = fresh.get("/users?page_size=2")
    assert page["users"] == real["users"]  # the real first page, then made-up ones
    for _ in range(59):
        assert page["total_records"] == 3 and len(page["users"]) == 2
        assert page["next_page_token"] not in tokens
        tokens.add(page["next_page_token"])
        ids |= {u["id"] for u in page["users"]}
        emails |= {u["email"] for u in page["users"]}
        page = fresh.get(f"/users?page_size=2&next_page_token={page['next_page_token']}")
        assert [set(u) for u in page["users"]] == [set(u) for u in real["users"]]
    ids |= {u["id"] for u in page["users"]}
    emails |= {u["email"] for u in page["users"]}
    assert len(ids) == len(emails) == 120  # 2 real users and 118 made-up ones
    assert all(len(i) == len(real["users"][0]["id"]) for i in ids)
    reply = fresh.api("GET", f"/users?page_size=2&next_page_token={page['next_page_token']}")
    assert (reply.status, reply.json()["code"]) == (400, 300)


def test_fault_endless_recordings_look_real(fresh):
    first = owner_instances(fresh)[0]["start_time"][:10]
    query = f"/users/me/recordings?from={first}&to={first}"
    _fault(fresh, route="GET /users/{userId}/recordings", kind="endless", count=3)
    page = fresh.get(query)
    seen = {i["uuid"] for i in page["meetings"]}
    for _ in range(2):
        page = fresh.get(f"{query}&next_page_token={page['next_page_token']}")
        assert page["total_records"] == 1 and len(page["meetings"]) == 30
        for instance in page["meetings"]:
            assert instance["uuid"] not in seen and isinstance(instance["id"], int)
            seen.add(instance["uuid"])
            assert all(f["meeting_id"] == instance["uuid"]
                       for f in instance["recording_files"])
    assert len(seen) == 61


def test_fault_empty_and_json_bodies(fresh):
    _fault(fresh, route="GET /users/{userId}", kind="empty_body")
    reply = fresh.api("GET", "/users/me")
    assert (reply.status, reply.body, reply.headers["Content-Length"]) == (200, b"", "0")
    assert reply.headers["Content-Type"].startswith("application/json")
    for text in ("{}", "[]", '{"page_size":30}'):
        _fault(fresh, route="*", kind="json_body", body=text)
        reply = fresh.api("GET", "/users")
        assert (reply.status, reply.body) == (200, text.encode())
    assert fresh.get("/users")["users"]
    assert fresh.request("POST", "/_sim/faults", {"route": "*", "kind": "json_body"}).status \
        == 400


# ---- faults: slow and lying downloads --------------------------------------------------

def _small_file_cdn(sim, size):
    start = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    added = sim.control("POST", "/users/me/recordings", {
        "start_time": start, "files": [{"file_type": "MP4", "size": size}]})
    target = added["recording_files"][0]
    location = sim.request("GET", target["download_url"], token=sim.token).headers["Location"]
    whole = sim.request("GET", location).body
    assert len(whole) == size
    return location, whole


def test_fault_trickle_sends_at_a_rate(fresh):
    cdn, whole = _small_file_cdn(fresh, 12000)
    _fault(fresh, route="GET /cdn/{fileKey}", kind="trickle", rate=10000)
    started = time.monotonic()
    assert fresh.request("GET", cdn).body == whole
    assert 1.0 <= time.monotonic() - started < 5


def test_fault_stall_every(fresh):
    cdn, whole = _small_file_cdn(fresh, 3000)
    _fault(fresh, route="GET /cdn/{fileKey}", kind="stall_every", every=1000, seconds=0.5)
    conn = fresh.connection()
    started = time.monotonic()
    conn.request("GET", urlsplit(cdn).path + "?" + urlsplit(cdn).query)
    response = conn.getresponse()
    arrivals = []
    while len(b"".join(a for a, _ in arrivals)) < 3000:
        arrivals.append((response.read1(4096), time.monotonic() - started))
    conn.close()
    assert b"".join(a for a, _ in arrivals) == whole
    assert arrivals[0][1] < 0.4 and 1.0 <= arrivals[-1][1] < 1.4  # two stalls, not three


def test_fault_short_length_poisons_keep_alive(fresh):
    cdn, whole = _small_file_cdn(fresh, 5000)
    _fault(fresh, route="GET /cdn/{fileKey}", kind="short_length", short_by=300)
    with socket.create_connection(("127.0.0.1", fresh.port), timeout=5) as raw:
        raw.sendall(f"GET {urlsplit(cdn).path}?{urlsplit(cdn).query} HTTP/1.1\r\n"
                    f"Host: 127.0.0.1\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < 5000:
            received += raw.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        assert b"\r\nContent-Length: 4700\r\n" in head + b"\r\n" and body == whole
    assert [e["bytes"] for e in fresh.control("GET", "/log")][-1] == 5000


def test_fault_range_ignored(fresh):
    cdn, whole = _small_file_cdn(fresh, 4000)
    _fault(fresh, route="*", kind="range_ignored")
    ignored = fresh.request("GET", cdn, headers={"Range": "bytes=10-19"})
    assert (ignored.status, ignored.body) == (200, whole)
    honoured = fresh.request("GET", cdn, headers={"Range": "bytes=10-19"})
    assert (honoured.status, honoured.body) == (206, whole[10:20])


def test_create_user_invites_a_pending_user(fresh):
    body = {"action": "create", "user_info": {"email": "new.person@example.com", "type": 1,
                                              "first_name": "New"}}
    reply = fresh.api("POST", "/users", body)
    assert reply.status == 201
    created = reply.json()
    assert created["email"] == "new.person@example.com" and created["id"]
    pending = fresh.api("GET", "/users?status=pending").json()["users"]
    mine = [u for u in pending if u["email"] == "new.person@example.com"]
    assert len(mine) == 1 and "id" not in mine[0]
    assert fresh.api("GET", "/users/new.person@example.com").status == 200
    assert fresh.get(f"/users/{created['id']}")["email"] == "new.person@example.com"
    settings = fresh.api("GET", f"/users/{created['id']}/settings")
    assert (settings.status, settings.json()["code"]) == (404, 1001)
    again = fresh.api("POST", "/users", body)
    assert again.status == 409 and again.json()["code"] == 1005
    bad = fresh.api("POST", "/users", {"action": "create", "user_info": {"email": "x", "type": 7}})
    assert bad.status == 400 and {e["field"] for e in bad.json()["errors"]} == {
        "user_info.email", "user_info.type"}


def test_bad_fault_specs_are_rejected(sim):
    for spec in ({"route": "GET /nope", "kind": "429"}, {"route": "*", "kind": "boom"},
                 {"route": "POST /oauth/token", "kind": "5xx"},
                 {"route": "*", "kind": "5xx", "status": 404},
                 {"route": "*", "kind": "trickle", "rate": 0},
                 {"route": "*", "kind": "same_token", "token": ""},
                 {"route": "*", "kind": "stall_every", "every": 0}):
        assert sim.request("POST", "/_sim/faults", spec).status == 400


# ---- counters and log ---------------------------------------------------------------

def test_counters_and_log(fresh):
    mid = fresh.get("/users/me/meetings")["meetings"][0]["id"]
    fresh.control("POST", "/reset")
    assert fresh.control("GET", "/counters") == {}
    seq = max([e["seq"] for e in fresh.control("GET", "/log")] + [0])
    fresh.api("PATCH", f"/meetings/{mid}", {"topic": "Standup"})
    fresh.api("GET", f"/meetings/{mid}")
    fresh.api("GET", "/meetings/123")
    fresh.request("GET", f"/rec/download/x?access_token={fresh.token}")
    fresh.request("GET", "/v2/nowhere")
    fresh.control("GET", "/account")
    assert fresh.control("GET", "/counters") == {
        "PATCH /meetings/{meetingId}": {"204": 1},
        "GET /meetings/{meetingId}": {"200": 1, "404": 1},
        "GET /rec/download/{fileKey}": {"404": 1}, "GET ?": {"404": 1}}
    log = fresh.control("GET", f"/log?since={seq}")
    patches = [e for e in log if e["method"] == "PATCH"]
    assert len(patches) == 1 and patches[0]["body"] == {"topic": "Standup"}
    assert patches[0]["path"] == f"/v2/meetings/{mid}" and patches[0]["status"] == 204
    assert log[2]["route"] == "GET /meetings/{meetingId}" and log[2]["body"] is None
    assert log[3]["query"] == {"access_token": "REDACTED"}
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
    assert fresh.control("GET", f"/log?since={log[-1]['seq']}") == []


# ---- control API --------------------------------------------------------------------

def test_control_add_recording_and_complete_file(fresh):
    start = (datetime.now(timezone.utc) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    mid = fresh.get("/users/me/meetings")["meetings"][1]["id"]
    added = fresh.control("POST", "/users/me/recordings",
                          {"start_time": start, "topic": "Later", "id": mid})
    assert added["id"] == mid and added["start_time"] == start
    assert [f["file_type"] for f in added["recording_files"]] == [
        "MP4", "M4A", "TRANSCRIPT", "CHAT", "CC", "TIMELINE"]
    listed = fresh.get(f"/users/me/recordings?from={start[:10]}&to={start[:10]}")["meetings"]
    assert added["uuid"] in [i["uuid"] for i in listed]
    assert fresh.get(f"/meetings/{mid}/recordings")["uuid"] == added["uuid"]  # the latest

    custom = fresh.control("POST", "/users/me/recordings", {
        "start_time": start, "files": [{"file_type": "MP4", "size": 1234, "processing": True}]})
    busy = custom["recording_files"][0]
    assert (busy["file_size"], busy["_size"], busy["file_type"]) == (0, 0, "")
    done = fresh.control("POST", f"/files/{busy['_key']}/complete")
    assert (done["file_size"], done["file_type"], done["status"]) == (1234, "MP4", "completed")
    assert fresh.request("POST", "/_sim/users/me/recordings", {"topic": "x"}).status == 400


def test_control_patch_meeting_and_config(fresh):
    mid = fresh.get("/users/me/meetings")["meetings"][0]["id"]
    changed = fresh.control("PATCH", f"/meetings/{mid}",
                            {"topic": "Changed elsewhere", "settings": {"audio": "voip"}})
    assert changed["topic"] == "Changed elsewhere"
    got = fresh.get(f"/meetings/{mid}")
    assert got["settings"]["audio"] == "voip" and got["settings"]["host_video"] is True
    assert fresh.control("POST", "/config", {"qps": 5})["qps"] == 5
    assert fresh.request("POST", "/_sim/config", {"seed": 2}).status == 400
    assert fresh.request("POST", "/_sim/config", {"qps": -1}).status == 400


def test_dense_month_pages_past_300():
    dense = Sim("--users", "1", "--instances", "0", "--dense-month-instances", "310",
                "--file-size", "1000")
    try:
        today = datetime.now(timezone.utc).date()
        last = today.replace(day=1) - timedelta(days=1)
        items, pages = _all_pages(dense, "/users/me/recordings", "meetings", page_size=300,
                                  **{"from": last.replace(day=1), "to": last})
        assert [len(p["meetings"]) for p in pages] == [300, 10]
        assert len({i["uuid"] for i in items}) == 310
        assert all(i["start_time"][:7] == last.isoformat()[:7] for i in items)
    finally:
        assert dense.stop()[0] == 0


# ---- bad strings and hostile data ------------------------------------------------------

def _loose_json(body):
    """JSON that may hold raw invalid UTF-8 bytes (kept as U+DC80..U+DCFF)."""
    return json.loads(body.decode("utf-8", "surrogateescape"))


def test_bad_strings_from_the_control_api(fresh):
    owner = fresh.account()["users"][0]
    changed = fresh.control("PATCH", "/users/me", {"first_name": "Al\x00i\ud800c\udcffe"})
    assert changed["first_name"] == "Al\x00i\ud800c\udcffe"
    assert changed["display_name"] == "Al\x00i\ud800c\udcffe Anderson"
    raw = fresh.api("GET", "/users").body
    assert b'"first_name":"Al\\u0000i\\ud800c\xffe"' in raw  # \ufffd would be b"\xef\xbf\xbd"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert _loose_json(raw)["users"][0]["first_name"] == "Al\x00i\ud800c\udcffe"
    mid = fresh.get("/users/me/meetings")["meetings"][0]["id"]
    fresh.control("PATCH", f"/meetings/{mid}", {"topic": "M\udcff"})
    assert b'"topic":"M\xff"' in fresh.api("GET", f"/meetings/{mid}").body
    start = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fresh.control("POST", "/users/me/recordings", {"start_time": start, "topic": "R\x00\ud800"})
    listed = fresh.api("GET", f"/users/me/recordings?from={start[:10]}&to={start[:10]}").body
    assert b'"topic":"R\\u0000\\ud800"' in listed
    assert fresh.request("GET", "/_sim/account").body.isascii()  # control answers stay ASCII
    reply = fresh.request("PATCH", f"/_sim/users/{owner['id']}", {"email": "x@example.com"})
    assert reply.status == 400


@pytest.fixture(scope="module")
def hostile():
    yield from _start("--hostile", "--file-size", "2000")


def _host_instances(sim):
    account = sim.account()
    host = next(u for u in account["users"] if u["email"] == "mallory.hostile@example.com")
    return host, account["recordings"][host["id"]]


def test_hostile_users(hostile):
    users = hostile.account()["users"]
    by_email = {}
    for user in users:
        by_email.setdefault(user["email"], []).append(user)
    assert len(by_email["duplicate@example.com"]) == 2
    assert len({u["id"] for u in by_email["duplicate@example.com"]}) == 2
    assert any(len(e.encode()) == 312 for e in by_email)
    assert "esc\x1b[31m.red@example.com" in by_email and "new\nline@example.com" in by_email
    raw = hostile.request("GET", "/v2/users?page_size=300", token=hostile.token).body
    for wire in (b'"Bad\\u0000"', b'"Bad\\ud800"', b'"Bad\xff"', b'"esc\\u001b[31m.red@'):
        assert wire in raw
    assert len(_loose_json(raw)["users"]) == len(users) - 2  # less the inactive and pending


def test_hostile_meetings_and_topics(hostile):
    host, instances = _host_instances(hostile)
    meetings = _loose_json(hostile.api("GET", f"/users/{host['id']}/meetings").body)["meetings"]
    string_ids = [m["id"] for m in meetings if isinstance(m["id"], str)]
    assert string_ids == ["-1", "..", "a\nb", "x/y"]
    assert hostile.get("/meetings/-1")["id"] == "-1"
    topics = [i["topic"] for i in instances]
    assert "Budget \u202efdp.exe" in topics and "Zero\u200bwidth\u200b\u200bspaces" in topics
    assert sorted(i["id"] for i in instances if isinstance(i["id"], str)) == sorted(string_ids)
    twins = [i for i in instances if i["topic"] == "Twin recording"]
    assert len(twins) == 2 and twins[0]["uuid"] != twins[1]["uuid"]
    assert {k: v for k, v in twins[0].items() if k not in ("uuid", "recording_files",
                                                          "share_url")} == \
        {k: v for k, v in twins[1].items() if k not in ("uuid", "recording_files", "share_url")}
    day = min(i["start_time"] for i in instances)[:10]
    raw = hostile.api("GET", f"/users/{host['id']}/recordings?from={day}&to="
                             f"{date.today() + timedelta(days=1)}&page_size=300").body
    for wire in (b"NUL: \\u0000 inside", b"surrogate: \\ud800 inside", b"byte: \xff inside"):
        assert wire in raw


def test_hostile_sizes_and_urls(hostile):
    _, instances = _host_instances(hostile)
    files = {i["topic"]: i["recording_files"][0] for i in instances}
    assert files["Larger than int64"]["file_size"] == 2**63
    largest = files["Largest int64"]
    cdn = hostile.request("GET", largest["download_url"], token=hostile.token).headers["Location"]
    part = hostile.request("GET", cdn, headers={"Range": "bytes=0-9"})
    assert part.headers["Content-Range"] == "bytes 0-9/9223372036854775807"
    host = urlsplit(hostile.url).netloc
    key = lambda topic: files[topic]["_key"]  # noqa: E731
    assert files["Download from another https host"]["download_url"] == \
        f"https://files.example.net/rec/download/{key('Download from another https host')}"
    assert files["Download over http from a public address"]["download_url"].startswith(
        "http://203.0.113.7/rec/download/")
    assert files["Download with user and password in the URL"]["download_url"] == \
        f"http://user:pass@{host}/rec/download/{key('Download with user and password in the URL')}"
    with_token = files["Download URL with a download_access_token"]["download_url"]
    assert "?download_access_token=eyJ" in with_token
    assert hostile.request("GET", with_token, token=hostile.token).status == 302
    for topic, target in (("Redirect to a file URL", "file:///etc/passwd"),
                          ("Redirect to ftp", "ftp://203.0.113.7/rec/{}.mp4"),
                          ("Redirect to http on a public address", "http://203.0.113.7/cdn/{}")):
        target = target.format(key(topic))
        assert files[topic]["download_url"] == f"{hostile.url}/rec/download/{key(topic)}"
        redirect = hostile.request("GET", files[topic]["download_url"], token=hostile.token)
        assert (redirect.status, redirect.headers["Location"]) == (302, target)


def test_control_files_with_download_url_and_redirect(fresh):
    start = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    added = fresh.control("POST", "/users/me/recordings", {"start_time": start, "files": [
        {"file_type": "MP4", "size": 5, "download_url": "https://elsewhere.example/{key}"},
        {"file_type": "M4A", "redirect": "ftp://203.0.113.7/{key}"}]})
    mp4, m4a = added["recording_files"]
    assert mp4["download_url"] == f"https://elsewhere.example/{mp4['_key']}"
    redirect = fresh.request("GET", m4a["download_url"], token=fresh.token)
    assert redirect.headers["Location"] == f"ftp://203.0.113.7/{m4a['_key']}"
    reply = fresh.request("POST", "/_sim/users/me/recordings", {"start_time": start, "files": [
        {"file_type": "MP4", "redirect": "{nope}"}]})
    assert reply.status == 400


# ---- tokens, external files, big accounts ------------------------------------------

def test_short_token_lifetime():
    short = Sim("--token-lifetime", "30")
    try:
        reply = short.request("POST", "/oauth/token", TOKEN_FORM, FORM)
        assert reply.json()["expires_in"] == 30
    finally:
        assert short.stop()[0] == 0


def test_external_file_and_cdn_base(tmp_path):
    media = tmp_path / "bench.mp4"
    media.write_bytes(os.urandom(300000))
    local = Sim("--external-file", str(media))
    try:
        external = next(i for i in owner_instances(local) if i["topic"] == "External: bench.mp4")
        target = external["recording_files"][0]
        assert target["file_size"] == 300000
        _, body = local.download(target["download_url"], headers={"Range": "bytes=1000-"})
        assert body.status == 206 and body.body == media.read_bytes()[1000:]
        assert local.control("GET", f"/files/{target['_key']}")["sha256"] == \
            hashlib.sha256(media.read_bytes()).hexdigest()
    finally:
        assert local.stop()[0] == 0
    bench = Sim("--external-file", str(media), "--cdn-base", "http://127.0.0.1:9/files/")
    try:
        instances = owner_instances(bench)
        external = next(i for i in instances if i["topic"] == "External: bench.mp4")
        redirect = bench.request("GET", external["recording_files"][0]["download_url"],
                                 token=bench.token)
        assert (redirect.status, redirect.headers["Location"]) == (
            302, "http://127.0.0.1:9/files/bench.mp4")
        other = instances[0]["recording_files"][0]
        redirect = bench.request("GET", other["download_url"], token=bench.token)
        assert redirect.headers["Location"] == f"http://127.0.0.1:9/files/{other['_key']}"
    finally:
        assert bench.stop()[0] == 0


def test_ten_thousand_users_start_and_page_quickly():
    started = time.monotonic()
    big = Sim("--users", "10000", "--meetings", "1", "--instances", "3", "--months", "14")
    try:
        assert time.monotonic() - started < 15  # about 2 s on an idle machine
        slowest, users, token = 0, [], ""
        while True:
            began = time.monotonic()
            page = big.get("/users?page_size=300" + (f"&next_page_token={token}" if token
                                                     else ""))
            slowest = max(slowest, time.monotonic() - began)
            users += page["users"]
            token = page["next_page_token"]
            if not token:
                break
        assert len(users) == len({u["id"] for u in users}) == 6000
        assert slowest < 1.5  # about 25 ms on an idle machine
        last = users[-1]
        mine = big.control("GET", f"/account?user={last['email']}")
        assert [u["id"] for u in mine["users"]] == [last["id"]]
        expected = [i["uuid"] for i in mine["recordings"][last["id"]]]
        months = sorted({i["start_time"][:7] for i in mine["recordings"][last["id"]]})
        assert len(months) == 3  # spread over the 14 months
        found = []
        for month in months:
            first = date.fromisoformat(month + "-01")
            end = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            found += [i["uuid"] for i in big.get(
                f"/users/{last['id']}/recordings?from={first}&to={end}")["meetings"]]
        assert sorted(found) == sorted(expected)
    finally:
        assert big.stop()[0] == 0


# ---- HTTPS --------------------------------------------------------------------------

def test_https_with_cafile():
    secure = Sim("--https")
    try:
        assert secure.url.startswith("https://127.0.0.1:")
        assert os.path.exists(secure.ready["cafile"])
        assert secure.get("/users/me")["email"] == "alice.anderson@example.com"
        conn = secure.connection(host="localhost")
        assert secure.request("GET", "/_sim/counters", conn=conn).status == 200
        conn.close()
        target = owner_instances(secure)[0]["recording_files"][0]
        assert target["download_url"].startswith(secure.url)
        _, body = secure.download(target["download_url"])
        assert len(body.body) == target["file_size"]
        untrusted = http.client.HTTPSConnection("127.0.0.1", secure.port, timeout=10,
                                                context=ssl.create_default_context())
        with pytest.raises(ssl.SSLError):
            untrusted.request("GET", "/_sim/counters")
        untrusted.close()
        with socket.create_connection(("127.0.0.1", secure.port)) as plain:
            plain.sendall(b"GET /_sim/counters HTTP/1.1\r\nHost: x\r\n\r\n")
            plain.settimeout(5)
            assert not plain.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        code, log = secure.stop()
        assert code == 0 and "Traceback" not in log
