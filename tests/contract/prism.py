"""The contract check's machinery: Stoplight Prism as a validating proxy in
front of the emulator, and a small tap in front of Prism that ties each of
Prism's findings to the request it is about.

    zoomfs --api_url--> Tap --> Prism (validates) --> zoomsim
           --oauth_url---------------------------------^  (token: not in the spec)
           --download_url (absolute)-------------------^

Prism reports its findings twice: in its log ("Violation: request.query.x
..."), and in an `sl-violations` header of the answer (a JSON list with the
same location, severity and message). The log cannot say which of two
concurrent requests a line belongs to, so the tap records the header of every
answer; the log is parsed as well and both must agree.

A violation whose location starts with "request" is about what the client
sent (path, query, headers, body); one starting with "response" is about
what the emulator answered.
"""

import http.client
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from integration.util import tail, wait_until

from . import patch_spec

HERE = Path(__file__).resolve().parent
PRISM_BIN = HERE / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = HERE / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
LOCK = HERE / "package-lock.json"

# Headers that belong to one connection, not to the request or the answer.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "expect", "content-length", "host"}

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOG_VIOLATION = re.compile(r"Violation: ((request|response)\S*) (.*)$")


def locked_version():
    lock = json.loads(LOCK.read_text())
    return lock["packages"]["node_modules/@stoplight/prism-cli"]["version"]


def installed_version():
    try:
        return json.loads(PRISM_PACKAGE.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def missing_prism():
    """Why Prism cannot run here (None when it can)."""
    want, have = locked_version(), installed_version()
    if have != want or not os.access(PRISM_BIN, os.X_OK):
        return ("Stoplight Prism %s is not installed in tests/contract/node_modules (found %s): "
                "run tests/install-deps.sh" % (want, have))
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def violation(location, severity, message):
    """One finding of Prism: kind is "request" or "response"."""
    where = ".".join(location) if isinstance(location, list) else str(location)
    return {"kind": where.split(".")[0], "where": where, "severity": severity,
            "message": message}


def parse_violations_header(value):
    """The sl-violations header: (violations, truncated). Prism cuts a header
    longer than ~8 kB and prefixes "Too many violations!"; the complete
    objects before the cut are still read."""
    if not value:
        return [], False
    truncated = value.startswith("Too many violations!")
    if not truncated:
        return [violation(v.get("location", []), v.get("severity"), v.get("message"))
                for v in json.loads(value)], False
    out = []
    for m in re.finditer(r'\{"location":\[([^\]]*)\],"severity":"(\w+)"'
                         r'(?:,"code":(?:"[^"]*"|\d+))?,"message":"((?:[^"\\]|\\.)*)"\}', value):
        location = json.loads("[%s]" % m.group(1))
        out.append(violation(location, m.group(2), json.loads('"%s"' % m.group(3))))
    return out, True


def parse_log(text):
    """Prism's log: the violations it printed, as (kind, where, message)."""
    out = []
    for line in ANSI.sub("", text).splitlines():
        m = LOG_VIOLATION.search(line)
        if m:
            out.append((m.group(2), m.group(1), m.group(3)))
    return out


class Prism:
    """`prism proxy` on 127.0.0.1, validating against the patched spec and
    forwarding to upstream. Started by start(), stopped by PID in stop()."""

    def __init__(self, proc, url, log_path, spec_path):
        self.proc = proc
        self.url = url
        self.log_path = log_path
        self.spec_path = spec_path

    @classmethod
    def start(cls, workdir, upstream, skip=(), timeout=90, tries=3):
        """skip: names of patch_spec patches to leave out."""
        workdir = Path(workdir)
        for attempt in range(tries):
            port = free_port()
            url = "http://127.0.0.1:%d" % port
            spec = json.loads(patch_spec.SPEC.read_text())
            patch_spec.patched(spec, url, skip)
            spec_path = workdir / "patched-spec.json"
            spec_path.write_text(json.dumps(spec, ensure_ascii=False))
            log_path = workdir / ("prism-%d.log" % attempt)
            with open(log_path, "wb") as logf:
                proc = subprocess.Popen(
                    [str(PRISM_BIN), "proxy", str(spec_path), upstream, "--errors=false",
                     "-h", "127.0.0.1", "-p", str(port)],
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                    cwd=str(workdir), env=dict(os.environ, NO_COLOR="1", FORCE_COLOR="0"))
            prism = cls(proc, url, log_path, spec_path)
            ready = "Prism is listening on %s" % url

            def listening():
                if proc.poll() is not None:
                    return "exited"
                return ready in log_path.read_text(errors="replace") and "ready"

            try:
                state = wait_until(listening, timeout, interval=0.2, what="Prism to listen")
            except BaseException:
                prism.stop()
                raise
            if state == "ready":
                return prism
            # Most likely the port was taken between free_port() and the bind.
        raise RuntimeError("Prism did not start (%d tries); last log:\n%s"
                           % (tries, tail(log_path)))

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _read_chunked(rfile):
    body = b""
    while True:
        size = int(rfile.readline().split(b";")[0].strip(), 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return body
        body += rfile.read(size)
        rfile.readline()


class Tap:
    """A pass-through HTTP proxy to Prism on 127.0.0.1 (a thread of the test
    process) that records every exchange: method, path with query, status,
    and the violations of Prism's sl-violations header. Answers Prism made
    itself (application/problem+json: it could not route or forward the
    request) are recorded too, as "prism_error"."""

    def __init__(self, upstream_url):
        self.upstream = upstream_url.split("//", 1)[1]
        self.entries = []
        self.lock = threading.Lock()
        tap = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def relay(self):
                tap._relay(self)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def mark(self):
        with self.lock:
            return len(self.entries)

    def since(self, mark):
        with self.lock:
            return list(self.entries[mark:])

    def _relay(self, h):
        if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
            body = _read_chunked(h.rfile)
        elif h.headers.get("Content-Length") is not None:
            body = h.rfile.read(int(h.headers["Content-Length"]))
        else:
            body = None
        conn = http.client.HTTPConnection(self.upstream, timeout=300)
        try:
            conn.putrequest(h.command, h.path, skip_accept_encoding=True)
            for k, v in h.headers.items():
                if k.lower() not in HOP_BY_HOP:
                    conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            headers = resp.getheaders()
        except (OSError, http.client.HTTPException) as e:
            self._record(h.command, h.path, None, [], False, "tap: %s" % e)
            h.close_connection = True
            h.send_error(502, "tap: %s" % e)
            return
        finally:
            conn.close()
        found, truncated = parse_violations_header(resp.getheader("sl-violations"))
        prism_error = None
        if (resp.getheader("Content-Type") or "").startswith("application/problem+json"):
            try:
                problem = json.loads(data)
                prism_error = "%s: %s" % (problem.get("title"), problem.get("detail"))
            except ValueError:
                prism_error = data[:300].decode(errors="replace")
        self._record(h.command, h.path, resp.status, found, truncated, prism_error)
        h.send_response_only(resp.status, resp.reason)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP:
                h.send_header(k, v)
        if h.command == "HEAD":
            if resp.getheader("Content-Length") is not None:
                h.send_header("Content-Length", resp.getheader("Content-Length"))
        elif resp.status not in (204, 304) and resp.status >= 200:
            h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def _record(self, method, path, status, found, truncated, prism_error):
        with self.lock:
            self.entries.append({"method": method, "path": path, "status": status,
                                 "violations": found, "truncated": truncated,
                                 "prism_error": prism_error, "time": time.time()})


# -- reading the results ----------------------------------------------------

FOLD = re.compile(r"\.\d+(?=\.|\s|$)")


def fold(text):
    """List indices folded: meetings.12.type -> meetings[].type."""
    return FOLD.sub("[]", text)


class Step:
    """One action of a workload: the requests the tap saw during it and the
    violations Prism's log printed during it (the complete list: a header
    may be cut, the log is not)."""

    def __init__(self, what, entries, logged):
        self.what = what
        self.entries = entries
        self.logged = logged

    def to_json(self):
        return {"step": self.what, "entries": self.entries,
                "logged": [list(v) for v in self.logged]}


def run_step(prism, tap, what, action, settle=5.0):
    """Runs action() and returns its Step. Prism logs a request's violations
    before it answers, but through a stream: wait until the log holds at
    least what the headers said."""
    mark, log_mark = tap.mark(), len(parse_log(prism.log_text()))
    action()
    entries = tap.since(mark)
    in_headers = sum(len(e["violations"]) for e in entries)
    deadline = time.monotonic() + settle
    while True:
        logged = parse_log(prism.log_text())[log_mark:]
        if len(logged) >= in_headers or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return Step(what, entries, logged)


def request_problems(steps):
    """Everything wrong with what the client sent, one line each: request
    violations with the request they are about, requests Prism could not
    route or forward, and request violations of the log that no header
    carried (a cut header)."""
    out = []
    for st in steps:
        left = [(w, m) for k, w, m in st.logged if k == "request"]
        for e in st.entries:
            head = "%s: %s %s -> %s" % (st.what, e["method"], e["path"], e["status"])
            for v in e["violations"]:
                if v["kind"] == "response":
                    continue
                out.append("%s: [%s] %s (%s)" % (head, v["where"], v["message"], v["severity"]))
                if (v["where"], v["message"]) in left:
                    left.remove((v["where"], v["message"]))
            if e["prism_error"]:
                out.append("%s: Prism could not pass it on: %s" % (head, e["prism_error"]))
        for w, m in left:
            out.append("%s: (request not identified, its header was cut) [%s] %s"
                       % (st.what, w, m))
    return out


def response_summary(steps):
    """(count, {(where, message) folded: (n, example "METHOD path")}) of the
    response violations in Prism's log, with an example request from the
    headers where one carried it."""
    examples = {}
    for st in steps:
        for e in st.entries:
            for v in e["violations"]:
                if v["kind"] == "response":
                    key = (fold(v["where"]), fold(v["message"]))
                    examples.setdefault(key, "%s %s -> %s" % (e["method"], e["path"], e["status"]))
    groups = {}
    count = 0
    for st in steps:
        for k, w, m in st.logged:
            if k != "response":
                continue
            count += 1
            key = (fold(w), fold(m))
            n, ex = groups.get(key, (0, examples.get(key, "(request not identified)")))
            groups[key] = (n + 1, ex)
    return count, groups


def format_summary(steps):
    """Lines that say what Prism found in these steps."""
    n_req = sum(1 for st in steps for e in st.entries)
    n_bad = sum(1 for st in steps for k, _, _ in st.logged if k == "request")
    count, groups = response_summary(steps)
    lines = ["%d request(s) validated; request violations: %d; response violations: %d"
             % (n_req, n_bad, count)]
    if groups:
        lines.append("distinct response violations (the emulator's answers, or a spec bug "
                     "to patch in tests/contract/patch_spec.py):")
        for (where, message), (n, example) in sorted(groups.items()):
            lines.append("  %5d x [%s] %s\n          e.g. %s" % (n, where, message, example))
    return lines
