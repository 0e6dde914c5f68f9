"""Writes the copy of Zoom's OpenAPI spec that Prism validates against.

The vendored spec (ZoomMeetingAPISpec.json, unchanged) has bugs that make
Prism reject what Zoom really sends or accepts. Each is patched here, at test
time, never in zoomfs and never in the vendored file. Every patch is a
function whose docstring says why it is a bug of the spec (and not of the
emulator); tests/contract/README.md lists them. A patch that no longer finds
what it fixes fails loudly, so that a newer spec is looked at again rather
than patched blindly.

    /usr/bin/python3 tests/contract/patch_spec.py OUT.json [--server URL] [--skip PATCH]

Python standard library only.
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "ZoomMeetingAPISpec.json"


def walk(node, path=()):
    """Yields (path, dict) for every JSON object in node, depth first."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (str(i),))


def where(path):
    return "/".join(path)


# -- the patches ------------------------------------------------------------


def base_path(spec, server):
    """servers: the spec puts the `/v2` base path in `servers`
    (https://api.zoom.us/v2), but Prism matches a request's path against the
    `paths` keys alone (it ignores the server's path), so `/v2/users` matched
    nothing. The base path moves into every path key and the only server is
    the proxy itself. Not a bug of the spec: a fit for the tool."""
    assert any(s.get("url", "").endswith("/v2") for s in spec["servers"]), spec["servers"]
    spec["paths"] = {"/v2" + p: v for p, v in spec["paths"].items()}
    spec["servers"] = [{"url": server, "description": "the contract check's Prism proxy"}]
    return ["servers", "paths (%d keys prefixed with /v2)" % len(spec["paths"])]


def _plain_string(s):
    """A branch that accepts any string (so overlaps every other string branch)."""
    constraints = ("enum", "format", "pattern", "minLength", "maxLength", "const")
    return s.get("type") == "string" and not any(k in s for k in constraints)


def _accepts_empty_object(s):
    """A branch that accepts {}: an object without required properties."""
    if "oneOf" in s or "anyOf" in s:
        return any(_accepts_empty_object(b) for b in s.get("oneOf", s.get("anyOf")))
    return (s.get("type") == "object" and not s.get("required")
            and s.get("additionalProperties") is not False and "$ref" not in s)


def overlapping_one_of(spec, server):
    """oneOf -> anyOf where the branches overlap. JSON Schema's oneOf wants
    exactly one branch to match; these branches cannot be told apart, so any
    valid value matches two or more and is rejected:
    - the `userId` path parameter: [any string, an email, "me"]: "me" is also
      any string, and so is every email;
    - the user settings GET response and PATCH body (and their nested
      authentication oneOf): objects with no required property, so `{}` or
      `{"recording": {...}}` match several branches at once.
    The spec's own text says the branches are alternatives of one value (the
    `option` query parameter picks which part is returned or updated), which
    is anyOf. Applied to every oneOf of the spec with such branches."""
    out = []
    for path, node in list(walk(spec)):
        branches = node.get("oneOf")
        if not isinstance(branches, list):
            continue
        strings = [b for b in branches if b.get("type") == "string"]
        open_objects = [b for b in branches if _accepts_empty_object(b)]
        if (len(strings) > 1 and any(_plain_string(b) for b in strings)) or len(open_objects) > 1:
            node["anyOf"] = node.pop("oneOf")
            out.append(where(path))
    must = [
        "paths/{p}/get/parameters/0/schema".format(p="/v2/users/{userId}"),
        "components/parameters/UserId/schema",
        "paths/{p}/get/responses/200/content/application/json/schema".format(
            p="/v2/users/{userId}/settings"),
        "paths/{p}/patch/requestBody/content/application/json/schema".format(
            p="/v2/users/{userId}/settings"),
    ]
    missing = [m for m in must if m not in out]
    assert not missing, "overlapping oneOf no longer found at %s" % missing
    return out


def integer_enum_typed_string(spec, server):
    """`type: string` with an enum of integers: the recording lists
    (GET /users/{userId}/recordings `meetings[].type`, GET
    /meetings/{meetingId}/recordings `type`) declare the meeting type a
    string whose enum is 1, 2, 3, 4, 5, 6, 7, 8, 9, 99. No value can satisfy
    both (an integer is not a string, a string is not in the enum), and the
    real payloads send integers (`"type": 2`), as every other meeting `type`
    of the spec is. The type becomes integer."""
    out = []
    for path, node in list(walk(spec)):
        enum = node.get("enum")
        if (node.get("type") == "string" and isinstance(enum, list) and enum
                and all(isinstance(v, int) and not isinstance(v, bool) for v in enum)):
            node["type"] = "integer"
            out.append(where(path))
    assert any("/v2/users/{userId}/recordings/get/responses/200" in p for p in out), out
    return out


def _recording_file_props(spec):
    """The `recording_files[]` item properties of every recording schema (the
    objects with a `file_type` whose enum lists MP4)."""
    for path, node in walk(spec):
        props = node.get("properties")
        if (isinstance(props, dict) and isinstance(props.get("file_type"), dict)
                and "MP4" in (props["file_type"].get("enum") or [])
                and "recording_type" in props):
            yield path, props


def recording_file_enums(spec, server):
    """Recording files: the enums leave out values the spec itself documents.
    - `file_type` lacks TIMELINE: the same schema's description of
      `recording_type` lists `timeline`, `file_extension` lists JSON, and the
      spec's text says "a recording file object with file type of either CC
      or TIMELINE does not have ..." - so TIMELINE files exist.
    - While Zoom still processes a file, `file_type` and `file_extension` are
      the empty string and `status` is `processing` (observed in real
      payloads; the spec's `recording_end` description has the same
      in-progress state). The spec's enums allow neither."""
    out = []
    for path, props in _recording_file_props(spec):
        ft = props["file_type"]["enum"]
        for v in ("TIMELINE", ""):
            if v not in ft:
                ft.append(v)
        ext = props.get("file_extension")
        if isinstance(ext, dict) and "enum" in ext and "" not in ext["enum"]:
            ext["enum"].append("")
        st = props.get("status")
        if isinstance(st, dict) and "enum" in st and "processing" not in st["enum"]:
            st["enum"].append("processing")
        out.append(where(path))
    assert any("/v2/users/{userId}/recordings/get" in p for p in out), out
    assert any("/v2/meetings/{meetingId}/recordings/get" in p for p in out), out
    return out


PATCHES = [base_path, overlapping_one_of, integer_enum_typed_string, recording_file_enums]


def patched(spec, server="http://127.0.0.1", skip=()):
    """Applies the patches (all but those named in skip) to spec, in place;
    returns {patch name: [locations]}."""
    unknown = set(skip) - {p.__name__ for p in PATCHES}
    assert not unknown, "no such patch: %s" % sorted(unknown)
    report = {}
    for p in PATCHES:
        if p.__name__ not in skip:
            report[p.__name__] = p(spec, server)
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="where the patched spec is written")
    ap.add_argument("--server", default="http://127.0.0.1",
                    help="the URL of the proxy (the spec's only server)")
    ap.add_argument("--skip", action="append", default=[], metavar="PATCH",
                    help="leave this patch out (to see what it fixes); repeatable")
    ap.add_argument("--verbose", action="store_true", help="print every patched location")
    a = ap.parse_args(argv)
    spec = json.loads(SPEC.read_text())
    report = patched(spec, a.server, a.skip)
    Path(a.out).write_text(json.dumps(spec, ensure_ascii=False))
    for name, locs in report.items():
        print("%s: %d location(s)" % (name, len(locs)), file=sys.stderr)
        if a.verbose:
            for loc in locs:
                print("    " + loc, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
