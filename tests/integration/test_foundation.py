"""The foundation (issue 2): mount, users, user.json, credentials, token
renewal, refusals, .zoomfs/, retries and rate limits."""

import collections
import errno
import json
import os
import re
import signal
import stat
import time
import urllib.parse

import pytest

from .util import (SimError, first_media_file, is_mounted, pages, run, user_key, wait_until,
                   zoomfs_bin)

# More than 300 users, so listing them takes more than one page.
SIM_ARGS = ["--users", "650", "--seed", "7", "--meetings", "1", "--instances", "1",
            "--months", "2", "--file-size", "65536"]

AUTH_FAILED = ("zoomfs: authentication failed (HTTP 400): "
               "Invalid client_id or client_secret (invalid_client)")


def by_status(sim):
    out = collections.defaultdict(list)
    for u in sim.users():
        out[u["status"]].append(u)
    return out


def api_get_user(sim, user):
    return sim.api("GET", "/users/" + urllib.parse.quote(user_key(user), safe=""))


def read_json_file(path):
    data = path.read_bytes()
    return data, json.loads(data, object_pairs_hook=lambda kv: kv)


def as_pairs(obj):
    """A JSON value with objects as lists of (key, value): compares key order too."""
    if isinstance(obj, dict):
        return [(k, as_pairs(v)) for k, v in obj.items()]
    if isinstance(obj, list):
        if obj and isinstance(obj[0], tuple):
            return [(k, as_pairs(v)) for k, v in obj]
        return [as_pairs(v) for v in obj]
    return obj


def assert_rendered(data):
    """zoomfs's JSON rendering: pretty, 2-space indent, one trailing newline."""
    text = data.decode("utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n"), text[-20:]
    lines = text.splitlines()
    assert lines[0] == "{", lines[:2]
    assert len(lines) > 2 and re.match(r'^  "[^ ]', lines[1]), lines[:3]
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, "odd indent: %r" % line


# --------------------------------------------------------------------------
# users/


def test_ls_users_lists_every_user_in_all_statuses(sim, make_mount):
    groups = by_status(sim)
    assert {"active", "inactive", "pending"} <= set(groups), (
        "emulator account lacks a status: %s" % {k: len(v) for k, v in groups.items()})
    m = make_mount(sim)
    sim.reset()
    names = os.listdir(m.path("users"))
    counters = sim.counters()
    emails = [u["email"] for u in sim.users()]
    assert len(emails) == 650
    assert len(names) == len(set(names)), "duplicate entries in users/"
    assert sorted(names) == sorted(emails)
    # Every page of every status, with pages of 300.
    expected = sum(pages(len(v)) for v in groups.values())
    assert sim.count(counters, "GET /users", 200) == expected, counters
    assert sim.count(counters, "GET /users") == expected, counters
    # ls(1) agrees (readdir through the kernel, not a cached Python view).
    out = run(["ls", "-1", str(m.path("users"))]).stdout.decode().split("\n")
    assert sorted(x for x in out if x) == sorted(emails)


@pytest.mark.parametrize("status", ["active", "inactive", "pending"])
def test_user_json_is_the_api_object(sim, mnt, status):
    user = by_status(sim)[status][0]
    expected = api_get_user(sim, user)
    path = mnt.path("users", user["email"], "user.json")
    st = os.stat(path)
    data, parsed = read_json_file(path)
    assert st.st_size == len(data), "stat says %d bytes, read gave %d" % (st.st_size, len(data))
    assert_rendered(data)
    assert json.loads(data) == expected
    assert as_pairs(parsed) == as_pairs(expected), "key order differs from Zoom's"
    # cat(1) reads the same bytes.
    assert run(["cat", str(path)]).stdout == data


def test_user_folder_has_its_files(sim, mnt):
    acct = sim.account()
    for u in (by_status(sim)["active"][0], by_status(sim)["inactive"][0]):
        names = set(os.listdir(mnt.path("users", u["email"])))
        want = {"user.json", "settings.json", "meetings", "recordings"}
        if acct.get("webinars", {}).get(u.get("id")):
            want.add("webinars")
        assert want <= names, (u["email"], names)
        assert names <= want | {"webinars"}, (u["email"], names)
    # An invitation has no id in Zoom, and nothing but the user object.
    pending = by_status(sim)["pending"][0]
    assert os.listdir(mnt.path("users", pending["email"])) == ["user.json"]


def test_settings_json_is_the_api_object(sim, mnt):
    user = by_status(sim)["active"][0]
    expected = sim.api("GET", "/users/%s/settings" % user["id"])
    path = mnt.path("users", user["email"], "settings.json")
    data, parsed = read_json_file(path)
    assert os.stat(path).st_size == len(data)
    assert_rendered(data)
    assert json.loads(data) == expected


def test_unknown_user_is_enoent(mnt):
    with pytest.raises(FileNotFoundError):
        os.stat(mnt.path("users", "nobody-here@example.invalid", "user.json"))


# --------------------------------------------------------------------------
# credentials


def test_wrong_client_secret_fails_the_mount(sim, make_mount):
    m = make_mount(sim, env={"ZOOM_CLIENT_SECRET": "wrong-" + "9f3a1c0d77e2"}, start=False)
    rc, log = m.run_to_exit(timeout=60)
    assert rc is not None, "zoomfs did not exit with a wrong secret"
    assert rc != 0
    assert not is_mounted(m.mnt)
    assert log.strip().splitlines() == [AUTH_FAILED], log


def test_missing_credentials_fail_clearly(sim, make_mount):
    m = make_mount(sim, creds=False, start=False)
    rc, log = m.run_to_exit(timeout=60)
    assert rc not in (0, None)
    assert not is_mounted(m.mnt)
    assert "ZOOM_CLIENT_SECRET" in log or "credentials" in log, log


def test_secret_on_command_line_refused(sim, make_mount):
    m = make_mount(sim, opts={"client_secret": "abcdef"}, start=False)
    rc, log = m.run_to_exit(timeout=60)
    assert rc not in (0, None)
    assert not is_mounted(m.mnt)
    assert "client_secret" in log and "command line" in log, log


@pytest.mark.parametrize("how", ["tokens_expire", "expire_token_fault"])
def test_expired_token_is_renewed_transparently(sim, make_mount, how):
    users = by_status(sim)["active"]
    a, b, c = users[1], users[2], users[3]
    expected_b = api_get_user(sim, b)  # our own calls come before the counting
    m = make_mount(sim)
    json.loads(m.path("users", a["email"], "user.json").read_bytes())
    before = sim.counters()
    if how == "tokens_expire":
        sim.expire_tokens()
    else:
        sim.fault("GET /users/{userId}", "expire_token", count=1)
    got = json.loads(m.path("users", b["email"], "user.json").read_bytes())
    assert got == expected_b
    mid = sim.counters()
    assert sim.count(mid, "POST /oauth/token") - sim.count(before, "POST /oauth/token") == 1
    assert sim.count(mid, "GET /users/{userId}", 401) - sim.count(
        before, "GET /users/{userId}", 401) == 1
    # The new token is kept: the next read needs no other.
    json.loads(m.path("users", c["email"], "user.json").read_bytes())
    after = sim.counters()
    assert sim.count(after, "POST /oauth/token") == sim.count(mid, "POST /oauth/token")
    counters, _ = m.stats()
    assert counters.get("token_renewals", 0) >= 1, counters
    sim.clear_faults()


def test_no_credential_in_debug_log(sim, make_mount):
    m = make_mount(sim, opts={"loglevel": "debug"})
    users = by_status(sim)
    os.listdir(m.path("users"))
    for u in (users["active"][4], users["inactive"][0], users["pending"][1]):
        m.path("users", u["email"], "user.json").read_bytes()
    sim.expire_tokens()
    m.path("users", users["active"][5]["email"], "settings.json").read_bytes()
    # A recording read goes through the download redirect and the CDN too.
    media = first_media_file(sim, m)
    with open(media, "rb") as f:
        assert len(f.read(4096)) == min(4096, media.stat().st_size)
    m.path(".zoomfs", "stats").read_bytes()
    log = m.read_log()
    assert log.strip(), "nothing logged at loglevel=debug"
    problems = m.teardown()
    assert problems == []
    assert sim.client_secret not in log


def test_static_token_not_logged(sim, make_mount):
    token = sim.token()
    m = make_mount(sim, creds=False, env={"ZOOM_ACCESS_TOKEN": token},
                   opts={"loglevel": "debug"})
    user = by_status(sim)["active"][6]
    got = json.loads(m.path("users", user["email"], "user.json").read_bytes())
    assert got["email"] == user["email"]
    problems = m.teardown()
    assert problems == []
    assert token not in m.read_log()


# --------------------------------------------------------------------------
# refusals at start


@pytest.mark.parametrize("option", ["api_url", "oauth_url"])
@pytest.mark.parametrize("url", ["http://example.com", "http://192.0.2.10:8080",
                                 "http://localhost.example.com"])
def test_plain_http_to_non_loopback_refused(sim, make_mount, option, url):
    # In a network namespace of its own: even a zoomfs that wrongly accepted
    # the URL could not send anything off this machine.
    m = make_mount(sim, opts={option: url}, start=False)
    rc, log = m.run_to_exit(timeout=60, prefix=["unshare", "--net", "--"])
    assert rc is not None and rc != 0, log
    assert not is_mounted(m.mnt)
    assert option in log and url in log, log
    assert re.search(r"refus|not allowed|https", log, re.I), log
    assert len(log.strip().splitlines()) == 1, log


def _write_config(path, sim, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# zoomfs credentials\naccount_id = %s\nclient_id = %s\n"
                    "client_secret = \"%s\"\n" % (sim.account_id, sim.client_id,
                                                  sim.client_secret))
    os.chmod(path, mode)


def test_config_file_readable_by_others_refused(sim, make_mount, tmp_path):
    cfg = tmp_path / "zoomfs.conf"
    _write_config(cfg, sim, 0o644)
    m = make_mount(sim, opts={"config": str(cfg)}, creds=False, start=False)
    rc, log = m.run_to_exit(timeout=60)
    assert rc not in (0, None), log
    assert not is_mounted(m.mnt)
    assert str(cfg) in log, log
    assert re.search(r"600|chmod|group or others|permission", log), log


def test_config_file_0600_accepted(sim, make_mount, tmp_path):
    cfg = tmp_path / "zoomfs.conf"
    _write_config(cfg, sim, 0o600)
    m = make_mount(sim, opts={"config": str(cfg)}, creds=False)
    names = os.listdir(m.path("users"))
    assert len(names) == 650


def test_default_config_file_location(sim, make_mount):
    m = make_mount(sim, creds=False, start=False)
    _write_config(m.home / ".config" / "zoomfs" / "config", sim, 0o600)
    m.start()
    assert len(os.listdir(m.path("users"))) == 650


# --------------------------------------------------------------------------
# --version, --help, .zoomfs/


def test_version_and_help():
    v = run([zoomfs_bin(), "--version"])
    assert re.fullmatch(rb"zoomfs \d+\.\d+\.\d+\n", v.stdout), v.stdout
    h = run([zoomfs_bin(), "--help"])
    text = (h.stdout + h.stderr).decode()
    assert "usage:" in text
    for opt in ("api_url=", "oauth_url=", "cafile=", "config=", "ro", "dir_ttl=",
                "attr_ttl=", "since=", "uid=", "gid=", "umask=", "readahead=", "readahead_total=",
                "recording_delete=", "loglevel=", "ledger=", "metadata_cache=", "settled_ttl=",
                "max_inodes=", "cache_mb=", "prefetch=", "page_cache", "op_timeout=", "-f"):
        assert opt in text, "--help does not mention %s" % opt
    for out in (v, h):
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker.encode() not in out.stderr, out.stderr.decode()


def test_zoomfs_meta_files(sim, mnt):
    assert sorted(os.listdir(mnt.path(".zoomfs"))) == ["errors", "refresh", "stats", "version"]
    version = mnt.path(".zoomfs", "version").read_bytes()
    assert version == run([zoomfs_bin(), "--version"]).stdout
    assert os.stat(mnt.path(".zoomfs", "version")).st_size == len(version)
    os.listdir(mnt.path("users"))
    counters, requests = mnt.stats()
    for name in ("retries", "rate_limit_waits", "token_renewals", "cache_hits",
                 "bytes_streamed", "recording_reads"):
        assert name in counters, counters
    assert requests.get(("GET /users", "200"), 0) >= 3, requests
    mnt.path(".zoomfs", "errors").read_bytes()
    with pytest.raises(OSError):
        open(mnt.path(".zoomfs", "stats"), "w")


def test_refresh_file_and_sighup_show_changes_made_elsewhere_at_once(make_sim, make_mount):
    """With hour-long TTLs a change made in the portal is not seen; writing
    to .zoomfs/refresh, or SIGHUP, drops every cache (and the kernel's) and
    the next read asks Zoom again. SIGHUP does not unmount."""
    s = make_sim(["--users", "1", "--meetings", "1", "--instances", "1"])
    m = make_mount(s, opts={"dir_ttl": "3600", "attr_ttl": "3600"})
    user = s.users()[0]
    meeting = next(iter(s.account()["meetings"][user["id"]]))
    f = m.path("users", user["email"], "meetings", "%s.json" % meeting["id"])
    assert json.loads(f.read_bytes())["topic"] == meeting["topic"]
    assert stat.S_IMODE(os.stat(m.path(".zoomfs", "refresh")).st_mode) == 0o200
    for n, how in enumerate(("write", "sighup"), start=1):
        topic = "Changed in the portal %d" % n
        s.patch_meeting(meeting["id"], {"topic": topic})
        assert json.loads(f.read_bytes())["topic"] != topic  # cached for an hour
        if how == "write":
            run(["sh", "-c", "echo 1 > '%s'" % m.path(".zoomfs", "refresh")])
        else:
            os.kill(m.pid, signal.SIGHUP)
            wait_until(lambda: m.stats()[0].get("refreshes") == n, 10, what="the refresh")
        assert m.stats()[0]["refreshes"] == n
        doc = json.loads(f.read_bytes())
        assert doc["topic"] == topic
        assert os.stat(f).st_size == len(f.read_bytes())  # the kernel's size too
    assert is_mounted(m.mnt)
    assert m.read_log().count("refresh: dropped every cached listing") == 2


def test_zoomfs_stats_match_the_emulator(sim, make_mount):
    m = make_mount(sim)
    sim.reset()
    users = by_status(sim)
    os.listdir(m.path("users"))
    for u in users["active"][7:10]:
        m.path("users", u["email"], "user.json").read_bytes()
    theirs = sim.counters()
    _, ours = m.stats()
    for route in ("GET /users", "GET /users/{userId}"):
        assert ours.get((route, "200"), 0) == sim.count(theirs, route, 200), (route, ours, theirs)


# --------------------------------------------------------------------------
# retries and rate limits


def test_5xx_on_list_users_is_retried(sim, make_mount):
    m = make_mount(sim)
    sim.reset()
    sim.fault("GET /users", "5xx", count=2, status=503)
    try:
        names = os.listdir(m.path("users"))
    finally:
        sim.clear_faults()
    assert sorted(names) == sorted(u["email"] for u in sim.users())
    c = sim.counters()
    assert sim.count(c, "GET /users", 503) == 2, c
    counters, _ = m.stats()
    assert counters["retries"] >= 2, counters


def test_429_retry_after_is_waited_out(sim, make_mount):
    m = make_mount(sim)
    sim.reset()
    sim.fault("GET /users", "429", count=1, retry_after=2)
    t0 = time.monotonic()
    try:
        names = os.listdir(m.path("users"))
    finally:
        sim.clear_faults()
    elapsed = time.monotonic() - t0
    assert len(names) == 650
    assert elapsed >= 1.9, "retried after %.2fs, Retry-After said 2s" % elapsed
    assert elapsed < 20, elapsed
    c = sim.counters()
    assert sim.count(c, "GET /users", 429) == 1, c
    counters, _ = m.stats()
    assert counters["rate_limit_waits"] >= 1, counters


def test_429_daily_limit_is_eagain_at_once(sim, make_mount):
    m = make_mount(sim)
    sim.fault("GET /users", "429daily", count=50)
    try:
        t0 = time.monotonic()
        cp = run(["ls", str(m.path("users"))], check=False, timeout=120)
        elapsed = time.monotonic() - t0
        # Zoom's own words, from a request of ours under the same fault.
        with pytest.raises(SimError) as e:
            sim.api("GET", "/users?status=active&page_size=300")
    finally:
        sim.clear_faults()
    assert cp.returncode != 0
    assert b"Resource temporarily unavailable" in cp.stderr, cp.stderr
    assert elapsed < 5, "EAGAIN took %.1fs" % elapsed
    assert e.value.status == 429
    message = json.loads(e.value.body)["message"]
    errors = m.path(".zoomfs", "errors").read_text()
    assert message in errors, errors
    # Not remembered: once the limit lifts, the listing works.
    assert len(os.listdir(m.path("users"))) == 650


def test_unmount_ends_zoomfs_cleanly(sim, make_mount):
    m = make_mount(sim)
    os.listdir(m.path("users"))
    assert m.teardown() == []
    assert not is_mounted(m.mnt)
    assert m.proc.returncode == 0


# --------------------------------------------------------------------------
# TLS and mount options


def test_https_with_cafile(make_sim, make_mount):
    s = make_sim(["--https", "--users", "3", "--instances", "1", "--months", "1",
                  "--file-size", "65536"])
    assert s.url.startswith("https://127.0.0.1:")
    m = make_mount(s, opts={"cafile": s.cafile})
    assert sorted(os.listdir(m.path("users"))) == sorted(u["email"] for u in s.users())
    media = first_media_file(s, m)
    with open(media, "rb") as f:
        head = f.read(1000)
    assert len(head) == min(1000, media.stat().st_size)


def test_https_certificate_is_verified(make_sim, make_mount):
    s = make_sim(["--https", "--users", "1"])
    m = make_mount(s, start=False)  # no cafile: the emulator's CA is not trusted
    rc, log = m.run_to_exit(timeout=60)
    assert rc not in (0, None), log
    assert not is_mounted(m.mnt)
    assert re.search(r"certificate|SSL|TLS", log, re.I), log
    # Only the harness's own token request reached the emulator.
    assert s.count(s.counters(), "POST /oauth/token") == 1


def test_read_only_mount_refuses_changes(sim, make_mount):
    m = make_mount(sim, opts={"ro": True})
    user = by_status(sim)["active"][0]
    path = m.path("users", user["email"], "user.json")
    assert json.loads(path.read_bytes())["email"] == user["email"]
    before = sim.counters()
    for attempt in (lambda: open(path, "r+b"),
                    lambda: open(m.path("users", user["email"], "meetings", "new.json"), "wb"),
                    lambda: os.unlink(path),
                    lambda: os.mkdir(m.path("users", "new.user@example.com"))):
        with pytest.raises(OSError) as e:
            attempt()
        assert e.value.errno == errno.EROFS, e.value
    after = sim.counters()
    changes = {r: v for r, v in after.items()
               if r.split(" ")[0] in ("POST", "PATCH", "PUT", "DELETE") and r != "POST /oauth/token"}
    assert changes == {r: before[r] for r in changes if r in before}, (before, after)


def test_owner_and_umask_options(sim, make_mount):
    m = make_mount(sim, opts={"uid": 1234, "gid": 4321, "umask": "027"})
    user = by_status(sim)["active"][0]
    for p in (m.path("users"), m.path("users", user["email"]),
              m.path("users", user["email"], "user.json"),
              m.path("users", user["email"], "recordings")):
        st = os.stat(p)
        assert (st.st_uid, st.st_gid) == (1234, 4321), p
        assert st.st_mode & 0o027 == 0, (p, oct(st.st_mode))
    assert os.stat(m.path("users")).st_mode & 0o777 == 0o750
    # Defaults: the mounting user, 0700 folders.
    d = make_mount(sim)
    st = os.stat(d.path("users"))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (os.getuid(), os.getgid(), 0o700)
