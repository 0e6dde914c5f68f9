"""zoomfs --check against the emulator: the token's scopes, one read per area,
what blocks an area (Zoom's missing scopes and the one to add), the exit
status, nothing mounted and nothing secret printed. And the failure lines of
a mount: their hints, and .zoomfs/errors keeping the last 100 with UTC times.
"""

import datetime
import os
import re

from .util import Mount, run, zoomfs_bin

SIM_ARGS = ["--users", "3", "--meetings", "2", "--instances", "3", "--months", "2"]

CLASSIC = ("meeting:read:admin meeting:write:admin recording:read:admin recording:write:admin "
           "user:read:admin user:write:admin webinar:read:admin webinar:write:admin")
NO_RECORDINGS = "meeting:read:admin meeting:write:admin user:read:admin user:write:admin"
# What the mount reads, in granular scopes, less the user recordings listing.
GRANULAR_READ = ("user:read:list_users:admin user:read:user:admin user:read:settings:admin "
                 "meeting:read:list_meetings:admin meeting:read:meeting:admin "
                 "webinar:read:list_webinars:admin webinar:read:webinar:admin "
                 "cloud_recording:read:list_recording_files:admin")
AREAS = ("users", "settings", "meetings", "webinars", "recordings", "download")
DOWNLOAD = "GET /rec/download/{fileKey}"


def mount_table(below):
    """The mounts at or below a directory (other tests mount elsewhere at the
    same time)."""
    below = os.path.realpath(below)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4].encode().decode("unicode_escape") for line in f]
    return sorted(p for p in points if p == below or p.startswith(below + "/"))


def check(sim, tmp_path, env=None, opts=None, args=()):
    """Runs zoomfs --check against sim; returns (exit status, stdout, stderr).
    Its output is checked like a mount's log: no credential, no token, no
    sanitizer report; and the mount table is the same afterwards."""
    m = Mount(sim, tmp_path / "check", env=env,
              opts=dict({"ledger": None, "loglevel": None}, **(opts or {})))
    cmd = [zoomfs_bin(), "--check", "-o", m.option_string()] + list(args)
    before = mount_table(tmp_path)
    cp = run(cmd, check=False, env=m.environment(), cwd=str(m.workdir), timeout=120)
    out, err = cp.stdout.decode(errors="replace"), cp.stderr.decode(errors="replace")
    problems = m.check_text(out + err)
    assert not problems, "\n".join(problems) + "\n" + out + err
    assert mount_table(tmp_path) == before, "--check mounted something"
    return cp.returncode, out, err


def rows(out):
    """{area: (read, changes, note, [detail lines])} of the report's table."""
    table, area = {}, None
    for line in out.splitlines():
        if line.startswith("    ") and area:
            table[area][3].append(line.strip())
            continue
        fields = line.split(None, 3)
        if fields and fields[0] in AREAS:
            area = fields[0]
            table[area] = (fields[1], fields[2], fields[3] if len(fields) > 3 else "", [])
        else:
            area = None
    return table


def field(out, name):
    m = re.search(r"^%s +(.*)$" % name, out, re.M)
    return m and m.group(1)


READS = ["POST /oauth/token", "GET /users", "GET /users/{userId}", "GET /users/{userId}/settings",
         "GET /users/{userId}/meetings", "GET /meetings/{meetingId}",
         "GET /users/{userId}/webinars", "GET /webinars/{webinarId}",
         "GET /users/{userId}/recordings", DOWNLOAD, "GET /cdn/{fileKey}"]


def test_full_scopes_every_area_reads(sim, tmp_path):
    mark = sim.mark()
    rc, out, err = check(sim, tmp_path)
    sent = sim.log(mark)
    assert rc == 0, out + err
    assert field(out, "api_url") == sim.url + "/v2"
    assert field(out, "scopes").split() == CLASSIC.split()
    table = rows(out)
    assert sorted(table) == sorted(AREAS), out
    for area in AREAS:
        assert table[area][0] == "OK", out
    for area in AREAS[:-1]:
        assert table[area][1] == "OK", out  # the write scopes are there too
    first = sim.api("GET", "/users?status=active&page_size=1")["users"][0]
    assert first["email"] in table["users"][2]
    assert "reading works" in out
    assert err == "", err  # the log stays quiet unless asked
    # One small read per area, in this order (earlier months are listed only
    # until a recording file turns up), one byte downloaded, nothing changed.
    routes = [e["route"] for e in sent]
    deduped = [r for i, r in enumerate(routes) if i == 0 or r != routes[i - 1]]
    assert deduped == READS, routes
    assert all(e["status"] < 400 for e in sent), sent
    lists = [e for e in sent if e["route"] in ("GET /users", "GET /users/{userId}/meetings",
                                               "GET /users/{userId}/webinars",
                                               "GET /users/{userId}/recordings")]
    assert len(lists) >= 4 and all(e["query"].get("page_size") == "1" for e in lists), lists
    assert [e["range"] for e in sent if e["route"] == "GET /cdn/{fileKey}"] == ["bytes=0-0"]


def test_missing_recording_scope_blocks_and_names_it(sim, tmp_path):
    sim.config(scopes=NO_RECORDINGS)
    try:
        rc, out, err = check(sim, tmp_path)
    finally:
        sim.config(scopes=CLASSIC)
    assert rc == 2, out + err
    assert field(out, "scopes").split() == NO_RECORDINGS.split()
    table = rows(out)
    for area in ("users", "settings", "meetings"):
        assert table[area][0] == "OK", out
    read, changes, _, detail = table["recordings"]
    assert (read, changes) == ("EACCES", "no"), out
    text = "\n".join(detail)
    assert "HTTP 400 code 4711" in text
    # Zoom's list, and the one scope to add
    assert re.search(r"missing scope, any of \(Zoom\): .*recording:read:admin", text), text
    assert "hint: scope recording:read:admin missing; add it to the app in the Marketplace" \
        in text
    assert "changes: add recording:write:admin" in text
    assert table["download"][0] == "skipped", out
    assert table["webinars"][1] == "no", out  # no webinar:write:admin either
    assert "reading is blocked (recordings)" in out


def test_granular_scopes(make_sim, tmp_path):
    s = make_sim(SIM_ARGS + ["--scopes", GRANULAR_READ])
    rc, out, err = check(s, tmp_path)
    assert rc == 2, out + err
    table = rows(out)
    for area in ("users", "settings", "meetings", "webinars"):
        assert table[area][0] == "OK", out
    read, changes, _, detail = table["recordings"]
    assert read == "EACCES", out
    text = "\n".join(detail)
    assert "missing scope (Zoom): cloud_recording:read:list_user_recordings:admin" in text, text
    assert ("hint: scope cloud_recording:read:list_user_recordings:admin missing; add it to "
            "the app in the Marketplace") in text, text
    # changes: a granular token is told the granular names
    assert table["meetings"][1] == "no"
    assert "changes: add meeting:write:meeting:admin, meeting:update:meeting:admin, " \
        "meeting:delete:meeting:admin" in "\n".join(table["meetings"][3])

    # With the listing's scope, and some of the scopes for changes.
    s.config(scopes=GRANULAR_READ + " cloud_recording:read:list_user_recordings:admin "
             "meeting:update:meeting:admin")
    rc, out, err = check(s, tmp_path / "again")
    assert rc == 0, out + err
    table = rows(out)
    for area in AREAS:
        assert table[area][0] == "OK", out
    assert table["meetings"][1] == "partly", out


def test_an_object_scope_is_checked_too(make_sim, tmp_path):
    """Listing meetings works but reading one does not: the mount could not
    read a meeting's JSON, and --check says so."""
    s = make_sim(SIM_ARGS + ["--scopes", GRANULAR_READ.replace(
        "meeting:read:meeting:admin", "") + " cloud_recording:read:list_user_recordings:admin"])
    rc, out, err = check(s, tmp_path)
    assert rc == 2, out + err
    read, _, _, detail = rows(out)["meetings"]
    assert read == "EACCES", out
    assert detail[0].startswith("GET /meetings/{meetingId}: HTTP 400 code 4711"), out
    assert "scope meeting:read:meeting:admin missing" in "\n".join(detail)


def test_no_webinar_add_on_is_skipped(make_sim, tmp_path):
    s = make_sim(SIM_ARGS + ["--webinar-users", "0"])
    rc, out, err = check(s, tmp_path)
    assert rc == 0, out + err
    read, _, note, _ = rows(out)["webinars"]
    assert read == "skipped" and "no webinar add-on" in note, out


def test_download_refused_with_html(sim, tmp_path):
    sim.fault(DOWNLOAD, "html", count=10)
    try:
        rc, out, err = check(sim, tmp_path)
    finally:
        sim.clear_faults()
    assert rc == 2, out + err
    read, _, _, detail = rows(out)["download"]
    assert read == "EACCES", out
    text = "\n".join(detail)
    assert "an HTML page instead of the file" in text
    assert "add recording:read:admin to the app in the Marketplace" in text
    assert "reading is blocked (download)" in out


def test_wrong_secret_one_clear_line(sim, tmp_path):
    rc, out, err = check(sim, tmp_path, env={"ZOOM_CLIENT_SECRET": "wrong-" + "x" * 20})
    assert rc == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "authentication failed" in lines[0] and "invalid_client" in lines[0], err


def test_no_credentials(sim, tmp_path):
    rc, out, err = check(sim, tmp_path, env={"ZOOM_CLIENT_SECRET": None})
    assert rc == 1 and out == ""
    assert "no credentials" in err


def test_debug_log_keeps_secrets_and_mounts_nothing(sim, tmp_path):
    """With the log at debug on stderr, and a mount point given as a mount
    would have it: still nothing mounted, nothing secret said."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    rc, out, err = check(sim, tmp_path, opts={"loglevel": "debug"}, args=[str(mnt)])
    assert rc == 0, out + err
    assert "access token obtained" in err
    assert os.listdir(mnt) == []


# --------------------------------------------------------------------------
# The failure lines of a mount


STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ")


def test_failure_lines_carry_hints_and_errors_keeps_the_last_100(sim, make_mount):
    sim.config(scopes="meeting:read:admin user:read:admin")
    try:
        m = make_mount(sim, opts={"dir_ttl": 0})
        user = sim.api("GET", "/users?status=active&page_size=1")["users"][0]["email"]
        month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
        rec = m.path("users", user, "recordings", month)
        # The first error of all, soon pushed out of the ring.
        cp = run(["ls", str(m.path("users", user, "webinars"))], check=False)
        assert cp.returncode != 0
        for _ in range(105):
            cp = run(["ls", str(rec)], check=False)
            assert b"Permission denied" in cp.stderr, cp.stderr
        lines = m.path(".zoomfs", "errors").read_text().splitlines()
    finally:
        sim.config(scopes=CLASSIC)
    assert len(lines) == 100, lines[:3]
    now = datetime.datetime.now(datetime.timezone.utc)
    for line in lines:
        stamp = STAMP.match(line)
        assert stamp, line
        when = datetime.datetime.strptime(stamp.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        assert abs((now - when).total_seconds()) < 120, line  # UTC, not local time
        assert "/recordings?" in line, line  # the webinar line is gone
        assert line.endswith("(EACCES); hint: scope recording:read:admin missing; add it to "
                             "the app in the Marketplace"), line
    assert "hint: scope recording:read:admin missing" in m.read_log()


def test_help_mentions_check():
    text = run([zoomfs_bin(), "--help"]).stdout.decode()
    assert "--check" in text
