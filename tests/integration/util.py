"""Helpers for the integration tests: the emulator (zoomsim) as a subprocess
with a small client for its /_sim/ control API, and zoomfs mounted in the
foreground on a temp dir with its stderr in a log file that is checked for
sanitizer reports and leaked credentials.

Style after libfuse's classic test/util.py: wait_for_mount, unmount with
fusermount3 (-u, then -z -u), and a log checker.
"""

import base64
import hashlib
import datetime
import json
import math
import os
import re
import secrets
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
PYTHON = "/usr/bin/python3"  # Debian's, with pytest; the emulator needs only the stdlib


def zoomfs_bin():
    """The binary under test: $ZOOMFS_BIN, else build-test/, else build/."""
    env = os.environ.get("ZOOMFS_BIN")
    if env:
        p = Path(env)
        return str(p if p.is_absolute() else REPO / p)
    for d in ("build-test", "build"):
        p = REPO / d / "zoomfs"
        if p.exists():
            return str(p)
    return str(REPO / "build-test" / "zoomfs")


# Sanitizer defaults for zoomfs when the caller (tests/run.sh) set none.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1:print_stacktrace=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    "LSAN_OPTIONS": "suppressions=%s:print_suppressions=0" % (TESTS / "lsan.supp"),
}

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: AddressSanitizer",
    "ThreadSanitizer",
)


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it is truthy; returns its value or raises."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def tail(path, n=60):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


def sha256_file(path, bufsize=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(bufsize)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def run(cmd, timeout=120, check=True, **kw):
    """Runs a command, returns CompletedProcess with text output."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    cp = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    if check and cp.returncode != 0:
        raise AssertionError(
            "%r exited %d\nstdout: %s\nstderr: %s"
            % (cmd, cp.returncode, cp.stdout[-2000:], cp.stderr[-2000:])
        )
    return cp


# --------------------------------------------------------------------------
# The emulator


class SimError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %s: %s" % (status, body[:500]))
        self.status = status
        self.body = body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def _openers(cafile=None):
    """(following, not following redirects) openers that ignore proxies and
    trust cafile for https."""
    handlers = [urllib.request.ProxyHandler({})]
    if cafile:
        handlers.append(urllib.request.HTTPSHandler(
            context=ssl.create_default_context(cafile=cafile)))
    return (urllib.request.build_opener(*handlers),
            urllib.request.build_opener(*handlers, _NoRedirect()))


class Sim:
    """A running zoomsim. Start with Sim.start(); stop() ends it by PID."""

    def __init__(self, proc, url, workdir, log_path, client_secret, args):
        self.proc = proc
        self.url = url
        self.workdir = Path(workdir)
        self.log_path = log_path
        self.account_id = "demo-account"
        self.client_id = "demo-client"
        self.client_secret = client_secret
        self.args = args
        self.issued_tokens = []  # tokens this harness fetched (never zoomfs's)
        self.token_patterns = []  # the shape of issued tokens, for the log checker
        self.cafile = None
        self._openers = _openers()
        self._account = None

    @classmethod
    def start(cls, workdir, args=(), timeout=60):
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        ready = workdir / "ready.json"
        log_path = workdir / "zoomsim.log"
        args = list(args)
        # A distinctive secret so that finding it in a log means a leak.
        secret = None
        if "--client-secret" in args:
            secret = args[args.index("--client-secret") + 1]
        else:
            secret = "sec-" + secrets.token_hex(12)
            args += ["--client-secret", secret]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(TESTS) + (
            os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
        )
        env.pop("PYTHONHOME", None)
        cmd = [PYTHON, "-m", "zoomsim", "--port", "0", "--ready-file", str(ready)] + args
        logf = open(log_path, "wb")
        proc = subprocess.Popen(
            cmd, cwd=str(TESTS), stdout=logf, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env,
        )
        logf.close()

        def is_ready():
            if proc.poll() is not None:
                raise RuntimeError(
                    "zoomsim exited with %s before it was ready:\n%s"
                    % (proc.returncode, tail(log_path))
                )
            try:
                return json.loads(ready.read_text())
            except (OSError, ValueError):
                return None

        try:
            info = wait_until(is_ready, timeout, what="zoomsim ready file")
        except BaseException:
            _stop_proc(proc)
            raise
        assert info["url"].startswith("http://127.0.0.1:") or info["url"].startswith(
            "https://127.0.0.1:"
        ), info
        assert info["pid"] == proc.pid, (info, proc.pid)
        sim = cls(proc, info["url"], workdir, log_path, secret, args)
        sim.started_by = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        sim.cafile = info.get("cafile")
        sim._openers = _openers(sim.cafile)
        for flag, attr in (("--account-id", "account_id"), ("--client-id", "client_id")):
            if flag in args:
                setattr(sim, attr, args[args.index(flag) + 1])
        try:
            sim.token()  # learns the shape of tokens for the log checker
        except BaseException:
            sim.stop()
            raise
        return sim

    def stop(self):
        dump_dir = os.environ.get("ZOOMFS_REQLOG_DIR")
        if dump_dir and self.proc.poll() is None:
            # For refactors that must not change what is sent: the request log
            # of every emulator, compared later with tests/tools/reqlog.py.
            try:
                entries = self.log(0)
            except Exception:  # a test that broke the emulator: nothing to keep
                entries = None
            if entries is not None:
                name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.started_by or self.workdir.name)
                path = Path(dump_dir) / (name + ".json")
                n = 1
                while path.exists():
                    n += 1
                    path = Path(dump_dir) / ("%s.%d.json" % (name, n))
                path.write_text(json.dumps(entries))
        _stop_proc(self.proc)

    # -- raw HTTP --------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=120, raw=False,
                follow=True):
        url = self.url + path
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            if isinstance(body, (bytes, str)):
                data = body.encode() if isinstance(body, str) else body
            else:
                data = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        opener = self._openers[0 if follow else 1]
        try:
            with opener.open(req, timeout=timeout) as r:
                payload = r.read()
                status, rh = r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            payload = e.read()
            status, rh = e.code, dict(e.headers)
        if raw:
            return status, rh, payload
        if status >= 400:
            raise SimError(status, payload.decode(errors="replace"))
        if not payload:
            return None
        try:
            return json.loads(payload)
        except ValueError:
            return payload.decode(errors="replace")

    # -- control API (/_sim/, never counted) ------------------------------

    def account(self, refresh=False):
        if refresh or self._account is None:
            self._account = self.request("GET", "/_sim/account")
        return self._account

    def counters(self):
        return self.request("GET", "/_sim/counters")

    def log(self, since=0):
        entries = self.request("GET", "/_sim/log?since=%d" % since)
        return [e for e in entries if e.get("seq", 0) > since]

    def mark(self):
        """The seq of the last log entry so far (0 when empty)."""
        entries = self.request("GET", "/_sim/log?since=0")
        return max((e["seq"] for e in entries), default=0)

    def reset(self):
        self.request("POST", "/_sim/reset")

    def fault(self, route, kind, count=1, **extra):
        body = {"route": route, "kind": kind, "count": count}
        body.update(extra)
        return self.request("POST", "/_sim/faults", body)

    def clear_faults(self):
        self.request("DELETE", "/_sim/faults")

    def expire_tokens(self):
        self.request("POST", "/_sim/tokens/expire")

    def file_info(self, key):
        return self.request("GET", "/_sim/files/" + urllib.parse.quote(key, safe=""),
                            timeout=600)

    def add_recording(self, user_id, body):
        self._account = None
        return self.request(
            "POST", "/_sim/users/%s/recordings" % urllib.parse.quote(user_id, safe=""), body
        )

    def patch_meeting(self, meeting_id, fields):
        self._account = None
        return self.request("PATCH", "/_sim/meetings/%s" % meeting_id, fields)

    def config(self, **kw):
        return self.request("POST", "/_sim/config", kw)

    # -- the real API, as a client would call it (counted by the emulator) --

    def token(self):
        """Fetches an S2S token (counted as POST /oauth/token)."""
        basic = base64.b64encode(
            ("%s:%s" % (self.client_id, self.client_secret)).encode()
        ).decode()
        form = urllib.parse.urlencode(
            {"grant_type": "account_credentials", "account_id": self.account_id}
        )
        r = self.request(
            "POST", "/oauth/token", form,
            headers={"Authorization": "Basic " + basic,
                     "Content-Type": "application/x-www-form-urlencoded"},
        )
        tok = r["access_token"]
        self.issued_tokens.append(tok)
        # Tokens zoomfs gets look like ours: watch its log for that shape.
        if re.fullmatch(r"[A-Za-z0-9_-]{20,}", tok) and not self.token_patterns:
            self.token_patterns.append(re.compile(
                r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])"
                r"[A-Za-z0-9_-]{%d}(?![A-Za-z0-9_-])" % len(tok)))
        return tok

    def api(self, method, path, body=None, token=None):
        """Calls /v2<path> with a Bearer token (counted and logged by the emulator)."""
        tok = token or (self.issued_tokens[-1] if self.issued_tokens else self.token())
        try:
            return self.request(method, "/v2" + path, body,
                                headers={"Authorization": "Bearer " + tok})
        except SimError as e:
            if e.status != 401 or token:
                raise
        # Our token expired (a test expired them all): renew once, as Zoom's
        # clients do.
        return self.request(method, "/v2" + path, body,
                            headers={"Authorization": "Bearer " + self.token()})

    def download(self, key, start=None, end=None):
        """The bytes of a recording file straight from the emulator (as curl
        would: Bearer token, follow the redirect), optionally a range
        [start, end] inclusive. Counted by the emulator."""
        hdrs = {"Authorization": "Bearer " + self.token()}
        if start is not None:
            hdrs["Range"] = "bytes=%d-%s" % (start, "" if end is None else end)
        status, _, body = self.request("GET", "/rec/download/" + key, headers=hdrs, raw=True)
        assert status in (200, 206), (status, body[:200])
        return body

    # -- helpers over counters and the account ----------------------------

    @staticmethod
    def count(counters, route, status=None):
        by_status = counters.get(route, {})
        if status is None:
            return sum(by_status.values())
        return by_status.get(str(status), 0)

    @staticmethod
    def total(counters):
        return sum(sum(v.values()) for v in counters.values())

    def users(self):
        return self.account()["users"]

    def files(self):
        """Every recording file of the account: list of (user, instance, file)."""
        out = []
        acct = self.account()
        by_id = {u.get("id"): u for u in acct["users"]}
        for uid, instances in acct.get("recordings", {}).items():
            for inst in instances:
                for f in instance_files(inst):
                    out.append((by_id.get(uid), inst, f))
        return out


def attendance_names(sim):
    """The past meeting files each instance folder shows, by instance UUID:
    participants.json for a meeting Zoom reports on (held less than a year
    ago), and polls.json when it had polls."""
    out = {}
    year_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=365)
    for p in sim.request("GET", "/_sim/past_meetings"):
        start = datetime.datetime.fromisoformat(p["start_time"].replace("Z", "+00:00"))
        names = set()
        if start >= year_ago:
            names.add("participants.json")
            if p["questions"]:
                names.add("polls.json")
        out[p["uuid"]] = names
    return out


def instance_files(inst):
    """The files of an emulator instance that zoomfs shows: recording files and
    participant audio, less those still processing (file_type "" or a status
    other than "completed") and those in the trash."""
    out = []
    for f in list(inst.get("recording_files") or []) + list(
            inst.get("participant_audio_files") or []):
        if not f.get("file_type") or f.get("status", "completed") != "completed":
            continue
        if f.get("deleted_time"):
            continue
        out.append(f)
    return out


def public_instance(inst):
    """An emulator instance as the API returns it: without the control API's
    private "_key"/"_size" fields."""
    out = {k: v for k, v in inst.items() if not k.startswith("_")}
    for field in ("recording_files", "participant_audio_files"):
        if field in out:
            out[field] = [{k: v for k, v in f.items() if not k.startswith("_")}
                          for f in out[field]]
    return out


def user_key(user):
    """What goes into a user's URL: id, or the email for pending users."""
    return user.get("id") or user["email"]


def months_between(start_iso, now=None):
    """["YYYY-MM", ...] from the month of start_iso to the current UTC month."""
    y, m = int(start_iso[0:4]), int(start_iso[5:7])
    now = now or time.gmtime()
    out = []
    while (y, m) <= (now.tm_year, now.tm_mon):
        out.append("%04d-%02d" % (y, m))
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def pages(n, page_size=300):
    """Requests a paginated list of n items needs (an empty list still takes one)."""
    return max(1, math.ceil(n / page_size))


def _stop_proc(proc, timeout=10):
    """Ends a child we started, by its PID: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return proc.returncode
    proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=timeout)


# --------------------------------------------------------------------------
# zoomfs


def is_mounted(path):
    """True when path is a mount point, from /proc/self/mountinfo (never
    touches the mount itself, so a hung daemon cannot hang the test)."""
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mp = fields[4].encode().decode("unicode_escape")
            if mp == path:
                return True
    return False


def fusermount_unmount(path):
    """fusermount3 -u, falling back to a lazy unmount. Returns True when
    nothing is mounted there afterwards."""
    if not is_mounted(path):
        return True
    cp = subprocess.run(["fusermount3", "-u", str(path)], capture_output=True,
                        stdin=subprocess.DEVNULL, timeout=30)
    if cp.returncode != 0 and is_mounted(path):
        subprocess.run(["fusermount3", "-u", "-z", str(path)], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    return not is_mounted(path)


class Mount:
    """zoomfs in the foreground on a fresh directory, stderr to a log file."""

    live = []  # every mount not yet torn down (for the session safety net)

    def __init__(self, sim, workdir, opts=None, env=None, args=(), creds=True):
        self.sim = sim
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.mnt = self.workdir / "mnt"
        self.mnt.mkdir(exist_ok=True)
        self.home = self.workdir / "home"
        self.home.mkdir(exist_ok=True)
        self.log_path = self.workdir / "zoomfs.log"
        self.opts = {}
        if sim is not None:
            self.opts.update(api_url=sim.url, oauth_url=sim.url)
        self.opts.update(ledger=str(self.workdir / "mtimes"), loglevel="debug")
        self.opts.update(opts or {})
        self.extra_env = dict(env or {})
        self.args = list(args)
        self.creds = creds
        self.proc = None
        self.log_offset = 0
        self.torn_down = False
        self.expect_exit = False  # run_to_exit(): zoomfs is meant to refuse

    # -- command line and environment ------------------------------------

    def option_string(self):
        parts = []
        for k, v in self.opts.items():
            if v is None:
                continue
            parts.append(k if v is True else "%s=%s" % (k, v))
        return ",".join(parts)

    def command(self):
        cmd = [zoomfs_bin(), "-f"]
        o = self.option_string()
        if o:
            cmd += ["-o", o]
        return cmd + self.args + [str(self.mnt)]

    def environment(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("ZOOM_") and not k.lower().endswith("_proxy")}
        for k, v in SANITIZER_ENV.items():
            env.setdefault(k, v)
        # A private HOME: no stray config file or ledger from the machine.
        env["HOME"] = str(self.home)
        env["XDG_CONFIG_HOME"] = str(self.home / ".config")
        env["XDG_CACHE_HOME"] = str(self.home / ".cache")
        if self.creds and self.sim is not None:
            env["ZOOM_ACCOUNT_ID"] = self.sim.account_id
            env["ZOOM_CLIENT_ID"] = self.sim.client_id
            env["ZOOM_CLIENT_SECRET"] = self.sim.client_secret
        for k, v in self.extra_env.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    # -- life cycle -----------------------------------------------------------

    def start(self, timeout=30, prefix=()):
        """Starts zoomfs and waits for the mount. Raises (with the log) when
        zoomfs exits first."""
        self.start_nowait(prefix)
        self.wait_for_mount(timeout)
        return self

    def wait_for_mount(self, timeout=30):
        def mounted():
            if self.proc.poll() is not None:
                raise AssertionError(
                    "zoomfs exited with %s before mounting %s:\n%s"
                    % (self.proc.returncode, self.mnt, tail(self.log_path))
                )
            return is_mounted(self.mnt)

        wait_until(mounted, timeout, what="zoomfs to mount %s" % self.mnt)

    def run_to_exit(self, timeout=30, prefix=()):
        """Runs zoomfs expecting it to refuse to mount. Returns (returncode,
        log text) once it exits; returncode is None when it mounted or still
        runs after timeout (teardown then unmounts it)."""
        self.expect_exit = True
        self.start_nowait(prefix)
        try:
            wait_until(lambda: self.proc.poll() is not None or is_mounted(self.mnt),
                       timeout, what="zoomfs to exit")
        except TimeoutError:
            pass
        return self.proc.poll(), self.log_path.read_text(errors="replace")

    def start_nowait(self, prefix=()):
        """Starts zoomfs (prefix: e.g. unshare) with its output in the log."""
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            list(prefix) + self.command(), stdin=subprocess.DEVNULL, stdout=logf,
            stderr=subprocess.STDOUT, env=self.environment(), cwd=str(self.workdir),
        )
        logf.close()
        Mount.live.append(self)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def path(self, *parts):
        return self.mnt.joinpath(*parts)

    def read_log(self):
        return self.log_path.read_text(errors="replace")

    def new_log(self):
        """Log text written since the last call."""
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            data = f.read()
        self.log_offset += len(data)
        return data.decode(errors="replace")

    def unmount(self):
        """Unmounts and waits for zoomfs to exit. Returns a list of problems."""
        problems = []
        if self.proc is None:
            return problems
        if not fusermount_unmount(self.mnt):
            problems.append("could not unmount %s" % self.mnt)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            problems.append("zoomfs (pid %d) did not exit within 60 s of the unmount; killed"
                            % self.proc.pid)
            self.proc.kill()
            self.proc.wait(timeout=10)
        return problems

    def teardown(self):
        """Always unmounts; then checks the exit status and the whole log.
        Returns a list of problems (empty when all is well)."""
        if self.torn_down:
            return []
        self.torn_down = True
        problems = self.unmount()
        if self in Mount.live:
            Mount.live.remove(self)
        if self.proc is not None and self.proc.returncode not in (0, None) \
                and not self.expect_exit:
            problems.append("zoomfs exited with status %s" % self.proc.returncode)
        problems += self.check_text(self.read_log())
        return problems

    # -- the log checker --------------------------------------------------

    def secrets(self):
        """Strings that must never appear in zoomfs's log."""
        out = []
        s = self.sim
        if s is not None:
            out.append(s.client_secret)
            out.append(base64.b64encode(
                ("%s:%s" % (s.client_id, s.client_secret)).encode()).decode())
            out += s.issued_tokens
        for k in ("ZOOM_CLIENT_SECRET", "ZOOM_ACCESS_TOKEN"):
            v = self.extra_env.get(k)
            if v:
                out.append(v)
        return [x for x in out if x]

    # Token-shaped text: a JWT, or a Bearer/access_token value that was not
    # scrubbed (scrubbed values read "***"). The lookahead wants a digit or
    # punctuation so that plain words ("Bearer authentication") do not match.
    TOKEN_PATTERNS = (
        re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
        re.compile(r"[Bb]earer\s+(?!\*)(?=[A-Za-z._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{12,}"),
        re.compile(r"access_token[\"']?\s*[=:]\s*[\"']?(?!\*)[A-Za-z0-9._~+/=-]{12,}"),
    )

    def check_text(self, text):
        problems = []
        for m in SANITIZER_MARKERS:
            if m in text:
                i = text.index(m)
                problems.append("sanitizer report in zoomfs's log:\n" + text[max(0, i - 200):i + 3000])
                break
        for sec in self.secrets():
            if sec in text:
                problems.append("a credential (%s…) appears in zoomfs's log" % sec[:4])
        for pat in self.TOKEN_PATTERNS + tuple(getattr(self.sim, "token_patterns", ())):
            m = pat.search(text)
            if m:
                problems.append("token-like text in zoomfs's log: %r" % m.group(0)[:40])
        return problems

    def check_new_log(self):
        """Checks what zoomfs logged since the last check, and that it still runs."""
        problems = self.check_text(self.new_log())
        if (self.proc is not None and not self.torn_down and not self.expect_exit
                and self.proc.poll() is not None):
            problems.append("zoomfs died during the test (status %s):\n%s"
                            % (self.proc.returncode, tail(self.log_path)))
        return problems

    # -- reading from the mount ---------------------------------------------

    def stats(self):
        """.zoomfs/stats parsed: ({counter: n}, {(route, status): n})."""
        counters, requests = {}, {}
        for line in self.path(".zoomfs", "stats").read_text().splitlines():
            if line.startswith("request "):
                rest = line[len("request "):]
                route, status, n = rest.rsplit(" ", 2)
                requests[(route, status)] = int(n)
            elif line.strip():
                k, v = line.rsplit(" ", 1)
                counters[k] = int(v)
        return counters, requests

    def vmrss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def walk_instances(recordings_dir):
    """Yields (month, instance_dir Path) under a user's recordings/ folder."""
    for month in sorted(os.listdir(recordings_dir)):
        mdir = Path(recordings_dir) / month
        for inst in sorted(os.listdir(mdir)):
            yield month, mdir / inst


def first_media_file(sim, mount):
    """Some media file of the mount (of the first user with recordings)."""
    for user, inst, f in sim.files():
        rec = mount.path("users", user["email"], "recordings")
        for _, idir in walk_instances(rec):
            files = media_files(idir)
            if files:
                return files[0]
    raise AssertionError("no media file in the mount")


# The JSON files of an instance folder; the rest are recording files.
INSTANCE_JSON = ("recording.json", "participants.json", "polls.json")


def media_files(instance_dir):
    """Media files of an instance folder (everything but its JSON files)."""
    return sorted(p for p in Path(instance_dir).iterdir() if p.name not in INSTANCE_JSON)


def sim_instance_by_uuid(sim):
    out = {}
    for uid, instances in sim.account().get("recordings", {}).items():
        for inst in instances:
            out[inst["uuid"]] = (uid, inst)
    return out


class RssSamples:
    """A mount's VmRSS (KiB), sampled in the background while the with-block
    runs: `with RssSamples(m) as rss: ...`, then rss.samples and rss.peak."""

    def __init__(self, mount, interval=0.1):
        self.mount, self.interval, self.samples = mount, interval, []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self):
        while not self._done.is_set():
            try:
                self.samples.append(self.mount.vmrss_kib())
            except OSError:
                break
            self._done.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()

    @property
    def peak(self):
        return max(self.samples, default=0)


# -- the emulator's request log ---------------------------------------------


def writes(entries):
    """The requests of a log window that change something (not GET/HEAD,
    not the token endpoint)."""
    return [e for e in entries
            if e["method"] not in ("GET", "HEAD") and e["route"] != "POST /oauth/token"]


def show(entries):
    """Log entries as lines, for an assertion message."""
    return "\n".join("%s %s %s %s %s body=%s" % (e["seq"], e["method"], e["path"],
                                                  e.get("query"), e["status"],
                                                  json.dumps(e["body"])[:300])
                     for e in entries) or "(no request)"


def unmount_all_live():
    """The session's safety net: nothing stays mounted, whatever happened."""
    for m in list(Mount.live):
        fusermount_unmount(m.mnt)
        if m.proc is not None and m.proc.poll() is None:
            m.proc.kill()

