"""Derives from Zoom's OpenAPI spec the read-only fields of each file zoomfs
lets you edit: the fields GET returns that the PATCH (or, for a new file,
the POST) body does not take. zoomfs leaves them out of the change it sends.

    /usr/bin/python3 tests/contract/gen_readonly.py [--out DIR] [--print]

writes DIR/src/readonly_fields.c and DIR/include/zoomfs/readonly_fields.h
(DIR: the repository, by default). test_readonly_fields.py checks that the
committed files are what this writes from the vendored spec, so a new field in
a future spec cannot silently break a save.

How the fields are compared: `$ref` is followed; `allOf` merges the
properties of its parts; `oneOf` and `anyOf` take the union of the
properties of their branches. A field the request body does not have is
read-only. A nested object that both sides describe property by property is
compared recursively, giving dotted paths (`settings.global_dial_in_numbers`);
an object the request takes only as a whole (no properties of its own) and
an array are compared as one field. Output sorted, so it is stable.

Python standard library only.
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SPEC = HERE / "ZoomMeetingAPISpec.json"
SPEC_NAME = "tests/contract/ZoomMeetingAPISpec.json"
C_FILE = Path("src/readonly_fields.c")
H_FILE = Path("include/zoomfs/readonly_fields.h")

# (C array, what zoomfs shows, the GET whose 200 answer is the file, the
# request whose JSON body carries a change of it).
LISTS = [
    ("readonly_user_patch", "user.json",
     ("get", "/users/{userId}"), ("patch", "/users/{userId}")),
    ("readonly_settings_patch", "settings.json",
     ("get", "/users/{userId}/settings"), ("patch", "/users/{userId}/settings")),
    ("readonly_meeting_patch", "meetings/<id>.json",
     ("get", "/meetings/{meetingId}"), ("patch", "/meetings/{meetingId}")),
    ("readonly_webinar_patch", "webinars/<id>.json",
     ("get", "/webinars/{webinarId}"), ("patch", "/webinars/{webinarId}")),
    ("readonly_meeting_post", "a new file in meetings/",
     ("get", "/meetings/{meetingId}"), ("post", "/users/{userId}/meetings")),
    ("readonly_webinar_post", "a new file in webinars/",
     ("get", "/webinars/{webinarId}"), ("post", "/users/{userId}/webinars")),
    ("readonly_meeting_registrant_post", "a new file in meetings/registrants/<id>/",
     ("get", "/meetings/{meetingId}/registrants/{registrantId}"),
     ("post", "/meetings/{meetingId}/registrants")),
    ("readonly_webinar_registrant_post", "a new file in webinars/registrants/<id>/",
     ("get", "/webinars/{webinarId}/registrants/{registrantId}"),
     ("post", "/webinars/{webinarId}/registrants")),
]

MAX_DEPTH = 12  # no schema here nests deeper; a guard against $ref cycles


def resolve(spec, schema):
    """Follows local $refs ("#/components/schemas/X")."""
    seen = set()
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/") and ref not in seen, ref
        seen.add(ref)
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def fields(spec, schemas, depth=0):
    """{name: [schemas]} of the properties that the schemas (alternatives or
    parts of one value) declare, through $ref, allOf, oneOf and anyOf; None
    when none declares a property (a scalar, an array, or an object taken as
    a whole)."""
    assert depth < MAX_DEPTH, "schema nests too deep (a $ref cycle?)"
    out = None
    for schema in schemas:
        schema = resolve(spec, schema)
        if not isinstance(schema, dict):
            continue
        parts = [schema.get(k, []) for k in ("allOf", "oneOf", "anyOf")]
        for sub in parts:
            f = fields(spec, sub, depth + 1)
            if f is not None:
                out = out if out is not None else {}
                for name, alts in f.items():
                    out.setdefault(name, []).extend(alts)
        props = schema.get("properties")
        if isinstance(props, dict) and props:
            out = out if out is not None else {}
            for name, alt in props.items():
                out.setdefault(name, []).append(alt)
    return out


def readonly(spec, got, taken, prefix="", depth=0):
    """Dotted paths of the fields of `got` (schemas of a GET answer) that
    `taken` (schemas of a request body) does not accept."""
    assert depth < MAX_DEPTH, prefix
    g = fields(spec, got) or {}
    t = fields(spec, taken) or {}
    out = []
    for name in g:
        if name not in t:
            out.append(prefix + name)
        elif fields(spec, g[name]) is not None and fields(spec, t[name]) is not None:
            out += readonly(spec, g[name], t[name], prefix + name + ".", depth + 1)
    return out


def response_schema(spec, method, path):
    op = spec["paths"][path][method]
    return op["responses"]["200"]["content"]["application/json"]["schema"]


def request_schema(spec, method, path):
    op = spec["paths"][path][method]
    return op["requestBody"]["content"]["application/json"]["schema"]


def derive(spec):
    """[(array name, file, get, request, sorted dotted paths)]"""
    out = []
    for name, shown, get, req in LISTS:
        paths = readonly(spec, [response_schema(spec, *get)], [request_schema(spec, *req)])
        out.append((name, shown, get, req, sorted(set(paths))))
    return out


def op_name(op):
    return "%s %s" % (op[0].upper(), op[1])


HEAD = [
    "/* Generated by tests/contract/gen_readonly.py from %s;" % SPEC_NAME,
    " * do not edit: run the script again when the spec changes.",
    " *",
]


def render_c(lists):
    lines = HEAD + [
        " * readonly_fields: per file zoomfs lets you edit, the fields Zoom returns in the",
        " * GET that the PATCH (or, for a new file, POST) body does not take. Nested fields",
        " * are dotted paths (\"settings.global_dial_in_numbers\"). */",
        "#include \"zoomfs/readonly_fields.h\"",
        "",
        "#include <stddef.h>",
        "",
        "/* The lists are packed as this script writes them: formatted by hand. */",
        "/* clang-format off */",
    ]
    for name, shown, get, req, paths in lists:
        head = "/* %s: the %s answer" % (shown, op_name(get))
        if len(head) > 100:  # clang-format's column limit
            head = "/* %s:\n * the %s answer" % (shown, op_name(get))
        lines += [
            "",
            head,
            " * vs the %s body (%d fields) */" % (op_name(req), len(paths)),
            "const char *const %s[] = {" % name,
        ]
        lines += pack(["\"%s\"," % p for p in paths] + ["NULL,"])
        lines += ["};"]
    lines += ["/* clang-format on */"]
    return "\n".join(lines) + "\n"


def pack(items, indent="    ", width=100):
    """items joined by spaces on lines of at most width columns."""
    out, line = [], ""
    for item in items:
        if line and len(indent) + len(line) + 1 + len(item) > width:
            out.append(indent + line)
            line = ""
        line = item if not line else line + " " + item
    if line:
        out.append(indent + line)
    return out


def render_h(lists):
    lines = HEAD + [
        " * readonly_fields: per file zoomfs lets you edit, the fields Zoom returns in the",
        " * GET that the PATCH (or, for a new file, POST) body does not take: sorted,",
        " * NULL-terminated lists of dotted paths (\"settings.global_dial_in_numbers\"). */",
        "#ifndef ZOOMFS_READONLY_FIELDS_H",
        "#define ZOOMFS_READONLY_FIELDS_H",
    ]
    for name, shown, get, req, paths in lists:
        head = "/* %s: %s vs %s */" % (shown, op_name(get), op_name(req))
        if len(head) > 100:  # clang-format's column limit
            head = "/* %s:\n * %s vs %s */" % (shown, op_name(get), op_name(req))
        lines += ["", head, "extern const char *const %s[];" % name]
    lines += ["", "#endif"]
    return "\n".join(lines) + "\n"


def write(out_dir, spec=None):
    """Writes both files under out_dir; returns their paths."""
    spec = spec if spec is not None else json.loads(SPEC.read_text())
    lists = derive(spec)
    out_dir = Path(out_dir)
    written = []
    for rel, text in ((C_FILE, render_c(lists)), (H_FILE, render_h(lists))):
        p = out_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        written.append(p)
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(REPO), help="where src/ and include/ are (the repository)")
    ap.add_argument("--print", action="store_true", help="print the lists instead of writing")
    a = ap.parse_args(argv)
    if a.print:
        for name, shown, get, req, paths in derive(json.loads(SPEC.read_text())):
            print("%s (%s: %s vs %s): %d" % (name, shown, op_name(get), op_name(req), len(paths)))
            for p in paths:
                print("    " + p)
        return 0
    for p in write(a.out):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
