"""The module layers of docs/architecture.md, checked against the code.

Each module (src/X.c and include/zoomfs/X.h) may include only modules of a
lower level in the table; every module is in the table; only fs and main
include fuse.h; the middle (levels 10 to 15) reaches Zoom only through the
client seam. No circle can then exist: every arrow points down."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEAM_BYPASS = {"http", "request", "auth", "cdn", "api"}
MIDDLE = range(10, 16)
# The one exception the architecture names: a read-ahead thread of stream
# lets go of its connection (http_thread_done) before it ends.
ALLOWED_BYPASS = {("stream", "http")}


def levels():
    """{module: level} from the table in docs/architecture.md."""
    out = {}
    for line in (ROOT / "docs" / "architecture.md").read_text().splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|([^|]+)\|", line)
        if m:
            for name in m.group(2).split(","):
                out[name.strip()] = int(m.group(1))
    assert out, "no level table in docs/architecture.md"
    return out


def modules():
    """{module: [its source files]}."""
    out = {}
    for f in sorted((ROOT / "src").glob("*.c")) + sorted((ROOT / "include" / "zoomfs").glob("*.h")):
        out.setdefault(f.stem, []).append(f)
    return out


def includes(files):
    found = set()
    for f in files:
        found |= set(re.findall(r'^#include "zoomfs/([a-z_]+)\.h"', f.read_text(), re.M))
    return found


def test_every_module_is_in_the_table_and_the_table_names_only_modules():
    lv, mods = levels(), modules()
    assert sorted(set(mods) - set(lv)) == [], "modules missing from docs/architecture.md"
    assert sorted(set(lv) - set(mods)) == [], "the table names modules that do not exist"


def upward_arrows(mods, lv):
    up = []
    for name, files in mods.items():
        for dep in sorted(includes(files) - {name}):
            if lv.get(dep, 99) >= lv.get(name, -1):
                up.append("%s (level %s) includes %s (level %s)"
                          % (name, lv.get(name), dep, lv.get(dep)))
    return up


def test_every_include_points_down():
    up = upward_arrows(modules(), levels())
    assert up == [], "arrows that do not point down:\n" + "\n".join(up)


def test_only_fs_and_main_include_fuse():
    users = sorted(name for name, files in modules().items()
                   if any(re.search(r"^#include <fuse", f.read_text(), re.M) for f in files))
    assert users == ["fs", "main"], users


def test_the_middle_reaches_zoom_only_through_the_client_seam():
    lv = levels()
    bad = []
    for name, files in modules().items():
        if lv.get(name) in MIDDLE:
            for dep in sorted(includes(files) & SEAM_BYPASS):
                if (name, dep) not in ALLOWED_BYPASS:
                    bad.append("%s includes %s" % (name, dep))
    assert bad == [], bad


def test_the_checker_sees_an_upward_arrow_and_a_circle(tmp_path):
    """The check itself can fail: util including store (up), and
    request including auth while auth includes request (a circle)."""
    lv = levels()
    util, req, auth = tmp_path / "util.c", tmp_path / "request.c", tmp_path / "auth.c"
    util.write_text('#include "zoomfs/store.h"\n')
    req.write_text('#include "zoomfs/auth.h"\n')
    auth.write_text('#include "zoomfs/request.h"\n')
    up = upward_arrows({"util": [util], "request": [req], "auth": [auth]}, lv)
    assert up == ["util (level 0) includes store (level 10)",
                  "request (level 7) includes auth (level 8)"], up
