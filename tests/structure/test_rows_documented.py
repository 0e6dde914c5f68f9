"""Every row of src/rows.c is documented in docs/tree.md ("The rows"), with
its pattern and its endpoints exactly as the code has them, and the doc
names no row the code lacks."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r'\{\.kind = (NODE_\w+),\s*\.pattern = "([^"]*)"(.*?)\.ops = &\w+\}', re.S)
ENDPOINT = re.compile(r'\.(list|get|patch|post|del) = "([^"]+)"')


def code_rows(text=None):
    text = text if text is not None else (ROOT / "src" / "rows.c").read_text()
    return {m.group(1): (m.group(2), sorted(ENDPOINT.findall(m.group(3))))
            for m in ROW.finditer(text)}


def doc_rows(text=None):
    text = text if text is not None else (ROOT / "docs" / "tree.md").read_text()
    section = text.split("## The rows", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*`(NODE_\w+)`\s*\|\s*`([^`]*)`\s*\|(.*)\|\s*$", line)
        if m:
            eps = sorted(re.findall(r"(list|get|patch|post|del) `([^`]+)`", m.group(3)))
            out[m.group(1)] = (m.group(2), eps)
    return out


def test_every_row_is_documented_as_it_is():
    code, doc = code_rows(), doc_rows()
    assert len(code) >= 16, "the row table was not read"
    missing = sorted(set(code) - set(doc))
    extra = sorted(set(doc) - set(code))
    wrong = sorted(k for k in set(code) & set(doc) if code[k] != doc[k])
    assert (missing, extra, wrong) == ([], [], []), (
        "docs/tree.md, The rows: missing %s, no such row %s, differing %s"
        % (missing, extra, ["%s: code %s, doc %s" % (k, code[k], doc[k]) for k in wrong]))


def test_the_check_sees_a_changed_endpoint():
    code = code_rows('{.kind = NODE_X, .pattern = "a/{id}.json", .get = "GET /a/{aId}", '
                     '.ops = &x_ops},')
    doc = doc_rows("## The rows\n| `NODE_X` | `a/{id}.json` | get `GET /a/{id}` |\n")
    assert code["NODE_X"] != doc["NODE_X"]
