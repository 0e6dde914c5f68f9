#!/usr/bin/python3
"""Compares the emulator request logs of two integration runs, request for
request, for changes that must not alter what zoomfs sends (refactors).

    ZOOMFS_REQLOG_DIR=/tmp/before tests/run.sh      # at the old commit
    ZOOMFS_REQLOG_DIR=/tmp/after  tests/run.sh      # at the new one
    tests/tools/reqlog.py /tmp/before /tmp/after

Each emulator's log becomes a multiset of (method, route, status, query keys
and their stable values, body); random values (page tokens, the token
endpoint's bodies) are masked. Order is ignored: zoomfs reads ahead and
answers the kernel's parallel requests, so order varies between two runs of
the same build. Exit status 0 when every log matches.
"""

import collections
import json
import sys
from pathlib import Path

VOLATILE_QUERY = {"next_page_token", "expires", "sig"}


def request_key(e):
    query = tuple(sorted((k, "*" if k in VOLATILE_QUERY else v)
                         for k, v in (e.get("query") or {}).items()))
    body = e.get("body")
    if e["route"] == "POST /oauth/token":
        body = None
    return (e["method"], e["route"], e["status"], query,
            json.dumps(body, sort_keys=True) if body is not None else None)


def load(d):
    out = {}
    for p in sorted(Path(d).glob("*.json")):
        out[p.stem] = collections.Counter(request_key(e) for e in json.loads(p.read_text()))
    return out


def main(before, after):
    a, b = load(before), load(after)
    bad = 0
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            print("only in %s: %s" % ("after" if name in b else "before", name))
            bad += 1
            continue
        if a[name] != b[name]:
            bad += 1
            print("differs: %s" % name)
            for k, n in sorted((a[name] - b[name]).items()):
                print("   - %dx %s" % (n, k))
            for k, n in sorted((b[name] - a[name]).items()):
                print("   + %dx %s" % (n, k))
    print("%d of %d logs differ" % (bad, len(set(a) | set(b))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
