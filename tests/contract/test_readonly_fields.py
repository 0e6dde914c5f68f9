"""The read-only field lists (src/readonly_fields.c, include/zoomfs/readonly_fields.h)
are what tests/contract/gen_readonly.py derives from the vendored spec, and
what they say is true of the spec. Fast: no mount, no Prism.

When the first test fails, the spec or the generator changed: run
`/usr/bin/python3 tests/contract/gen_readonly.py`, review the difference (a
new read-only field means zoomfs must not send it) and commit it.
"""

import difflib
import json
import re
import subprocess

import pytest

from . import gen_readonly as gen

SPEC = json.loads(gen.SPEC.read_text())


def committed_lists():
    """{array name: [entries]} as the committed C file declares them."""
    text = (gen.REPO / gen.C_FILE).read_text()
    out = {}
    for m in re.finditer(r"const char \*const (\w+)\[\] = \{(.*?)\};", text, re.S):
        out[m.group(1)] = re.findall(r'"([^"]*)"', m.group(2))
        assert m.group(2).rstrip().endswith("NULL,"), m.group(1)
    return out


def has_path(schema, parts):
    """Whether the schema declares the dotted path (through $ref, allOf,
    oneOf, anyOf) - written apart from the generator on purpose."""
    schema = gen.resolve(SPEC, schema)
    if not parts:
        return True
    for key in ("allOf", "oneOf", "anyOf"):
        if any(has_path(b, parts) for b in schema.get(key, [])):
            return True
    props = schema.get("properties") or {}
    return parts[0] in props and has_path(props[parts[0]], parts[1:])


def schemas_of(name):
    _, _, get, req = next(x for x in gen.LISTS if x[0] == name)
    return gen.response_schema(SPEC, *get), gen.request_schema(SPEC, *req)


def test_committed_files_are_what_the_spec_gives(tmp_path):
    gen.write(tmp_path, SPEC)
    stale = []
    for rel in (gen.C_FILE, gen.H_FILE):
        want = (tmp_path / rel).read_text()
        have = (gen.REPO / rel).read_text() if (gen.REPO / rel).exists() else ""
        if want != have:
            stale.append("".join(difflib.unified_diff(
                have.splitlines(True), want.splitlines(True), "committed " + str(rel),
                "generated " + str(rel))))
    assert not stale, ("the committed read-only lists are not what the spec gives; run "
                       "/usr/bin/python3 tests/contract/gen_readonly.py and review:\n"
                       + "\n".join(stale))


def test_every_list_is_there_sorted_and_not_empty():
    lists = committed_lists()
    assert sorted(lists) == sorted(x[0] for x in gen.LISTS)
    for name, entries in lists.items():
        assert entries and entries == sorted(set(entries)), name


@pytest.mark.parametrize("name", [x[0] for x in gen.LISTS])
def test_every_entry_is_get_only_in_the_spec(name):
    """Each entry is in the GET answer; the request body takes its parent
    (or it is top-level) but not the field itself."""
    got, taken = schemas_of(name)
    for entry in committed_lists()[name]:
        parts = entry.split(".")
        assert has_path(got, parts), "%s: %s is not in the GET answer" % (name, entry)
        assert not has_path(taken, parts), "%s: the request body takes %s" % (name, entry)
        assert has_path(taken, parts[:-1]), "%s: the body does not take %s at all" % (
            name, ".".join(parts[:-1]))


KNOWN = {
    "readonly_user_patch": ["created_at", "vanity_url", "employee_unique_id", "id", "email",
                            "status", "last_login_time", "pic_url"],
    "readonly_meeting_patch": ["id", "uuid", "join_url", "start_url", "created_at", "host_id"],
    "readonly_meeting_post": ["id", "uuid", "join_url", "start_url", "created_at", "host_id",
                              "settings.global_dial_in_numbers"],
    "readonly_webinar_patch": ["id", "uuid", "join_url", "start_url", "created_at"],
    "readonly_webinar_post": ["id", "uuid", "join_url", "start_url", "created_at"],
    "readonly_settings_patch": ["audio_conferencing"],
}
WRITABLE = {
    "readonly_user_patch": ["first_name", "job_title", "timezone", "pmi", "phone_numbers"],
    "readonly_meeting_patch": ["topic", "agenda", "duration", "settings", "recurrence"],
    "readonly_meeting_post": ["topic", "settings", "settings.waiting_room"],
    "readonly_webinar_patch": ["topic", "agenda", "settings"],
    "readonly_webinar_post": ["topic", "settings"],
    "readonly_settings_patch": ["recording", "recording.auto_delete_cmr_days", "in_meeting"],
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_entries(name):
    entries = committed_lists()[name]
    got, taken = schemas_of(name)
    for field in KNOWN[name]:
        assert field in entries, "%s lacks %s" % (name, field)
        parts = field.split(".")
        assert has_path(got, parts) and not has_path(taken, parts), field
    for field in WRITABLE[name]:
        assert field not in entries, "%s: %s is writable" % (name, field)
        assert has_path(taken, field.split(".")), field


def test_user_created_at_is_not_in_the_spec():
    """Real user answers are reported to carry `user_created_at`, but the
    2025 spec documents it nowhere, so a list derived from the spec cannot
    hold it. When a new spec documents it, this fails: check that it is then
    in readonly_user_patch and drop this test."""
    got, taken = schemas_of("readonly_user_patch")
    assert not has_path(got, ["user_created_at"])
    assert '"user_created_at"' not in gen.SPEC.read_text()


def test_the_c_files_compile_and_are_formatted():
    c, h = gen.REPO / gen.C_FILE, gen.REPO / gen.H_FILE
    subprocess.run(["cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    "-I", str(gen.REPO / "include"), "-fsyntax-only", str(c)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    cp = subprocess.run(["clang-format", "--dry-run", "--Werror", str(c), str(h)],
                        capture_output=True, text=True, stdin=subprocess.DEVNULL,
                        cwd=str(gen.REPO))
    assert cp.returncode == 0, cp.stderr
