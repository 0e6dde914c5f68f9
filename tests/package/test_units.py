"""The installed systemd units, run without systemd (CI has none running):
their ExecStartPre/ExecStart/ExecStop lines for one instance, read from the
files in /lib/systemd/system, against the emulator (see units.py). zoomfs
gets a $NOTIFY_SOCKET that the test listens on, as systemd's would be."""

import datetime
import os
import re
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from integration.util import fusermount_unmount, run, tail, wait_until

from .units import Unit

UNIT_DIR = Path("/lib/systemd/system")


def in_mount_table(path):
    """Whether path is a mount point, from /proc/self/mountinfo only. Unlike
    integration.util.is_mounted it does not resolve the path: a stat of a
    FUSE mount point waits for the daemon, which may be the very thing the
    test is holding up."""
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4].encode().decode("unicode_escape") == str(path)
                   for line in f)


class NotifySocket:
    """A unix datagram socket like systemd's notification socket."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.fillers = []

    def fill(self):
        """Fills the receive queue with filler datagrams, so that the next
        sender blocks in sendmsg until drain(): zoomfs then stays inside its
        notify call, and the test can look at the state it sent READY=1 in."""
        while True:
            f = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            f.setblocking(False)
            self.fillers.append(f)
            sent = 0
            try:
                while True:
                    f.sendto(b"filler", self.path)
                    sent += 1
            except BlockingIOError:
                pass
            if sent == 0:  # even a fresh sender cannot queue: the queue is full
                return

    def receive(self, timeout):
        """The next message that is not a filler, or None after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return None
            if data != b"filler":
                return data.decode()

    def close(self):
        for f in self.fillers:
            f.close()
        self.sock.close()


class Service:
    """zoomfs@NAME.service driven by its own command lines."""

    def __init__(self, account, workdir):
        self.account = account
        self.unit = Unit(UNIT_DIR / "zoomfs@.service", account.name, rewrite=account.rewrite)
        self.notify = NotifySocket(Path(workdir) / "notify.sock")
        self.log = Path(workdir) / "zoomfs.log"
        self.proc = None

    def start_pre(self):
        self.unit.make_state_directories()
        return self.unit.run("ExecStartPre")

    def start(self):
        self.proc = self.unit.start({"NOTIFY_SOCKET": self.notify.path}, self.log)
        return self.proc

    def wait_ready(self, timeout=30):
        msg = self.notify.receive(timeout)
        assert msg is not None and "READY=1" in msg.split("\n"), (msg, tail(self.log))
        return msg

    def stop(self):
        return self.unit.run("ExecStop")

    def ls_users(self):
        return sorted(run(["ls", str(self.account.mnt / "users")], timeout=30)
                      .stdout.decode().split())

    def close(self):
        self.notify.close()  # first: a zoomfs blocked on it is released
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        fusermount_unmount(self.account.mnt)


@pytest.fixture
def make_service(tmp_path_factory):
    made = []

    def make(account):
        s = Service(account, tmp_path_factory.mktemp("service"))
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def emails(sim):
    return sorted(u["email"] for u in sim.users())


def test_service_is_ready_once_mounted_and_stopping_at_unmount(installed, sim, make_account,
                                                                make_service):
    account = make_account(sim)
    svc = make_service(account)
    assert svc.unit.value("Service", "Type") == "notify"
    assert "network-online.target" in svc.unit.values("Unit", "After")
    assert "network-online.target" in svc.unit.values("Unit", "Wants")

    svc.start_pre()
    assert account.mnt.is_dir()
    assert account.state.is_dir()
    # Nobody reads the notification socket yet, and its queue is full: when
    # zoomfs says READY=1 it blocks right there. If it said so before
    # mounting, the mount would never appear. (Until READY=1 is read, this
    # test must not touch the mount point: that would wait for zoomfs.)
    svc.notify.fill()
    proc = svc.start()
    guard = threading.Timer(60, proc.kill)  # never hang, whatever zoomfs does
    guard.start()
    try:
        wait_until(lambda: in_mount_table(account.mnt) or proc.poll() is not None, 30,
                   what="the mount, with READY=1 pending")
        assert proc.poll() is None, tail(svc.log)
        # Now READY=1 goes through, and the mount answers.
        msg = svc.wait_ready()
    finally:
        guard.cancel()
    assert svc.ls_users() == emails(sim)
    assert "STOPPING=1" not in msg
    # The config and options the unit gave: read-only, the ledger in its state dir.
    with pytest.raises(subprocess.CalledProcessError) as e:
        subprocess.run(["mkdir", str(account.mnt / "users" / "new@example.com")], check=True,
                       capture_output=True, text=True, timeout=30)
    assert "Read-only file system" in e.value.stderr
    assert (account.state / "mtimes").exists()
    assert account.cache.is_dir() and stat.S_IMODE(account.cache.stat().st_mode) == 0o700
    # systemctl reload: SIGHUP drops every cache; the mount stays
    svc.unit.run("ExecReload", extra_env={"MAINPID": str(proc.pid)})
    wait_until(lambda: "refresh: dropped" in svc.log.read_text(errors="replace"), 10,
               what="the refresh")
    assert proc.poll() is None and svc.ls_users() == emails(sim)

    svc.stop()
    assert proc.wait(timeout=30) == 0, tail(svc.log)
    assert not in_mount_table(account.mnt)
    msg = svc.notify.receive(10)
    assert msg is not None and "STOPPING=1" in msg.split("\n"), msg
    assert svc.notify.receive(0.5) is None
    assert sim.client_secret not in svc.log.read_text(errors="replace")


def test_service_fails_without_ready_when_credentials_are_wrong(installed, sim, make_account,
                                                                 make_service):
    account = make_account(sim, secret="wrong-secret")
    svc = make_service(account)
    svc.start_pre()
    proc = svc.start()
    assert proc.wait(timeout=60) == 1
    assert "authentication failed" in svc.log.read_text(), tail(svc.log)
    assert svc.notify.receive(0.5) is None  # Restart=on-failure takes it from here
    assert not in_mount_table(account.mnt)


def test_service_restarts_after_a_crash(installed, sim, make_account, make_service):
    """Restart=on-failure after zoomfs died: the stale mount it left behind
    ("Transport endpoint is not connected") must not stop the next start."""
    account = make_account(sim)
    svc = make_service(account)
    assert svc.unit.value("Service", "Restart") == "on-failure"
    svc.start_pre()
    proc = svc.start()
    svc.wait_ready()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert in_mount_table(account.mnt)  # dead, still in the mount table
    with pytest.raises(OSError):
        os.listdir(account.mnt)

    svc.start_pre()
    proc = svc.start()
    svc.wait_ready()
    assert svc.ls_users() == emails(sim)
    svc.stop()
    assert proc.wait(timeout=30) == 0, tail(svc.log)


SUMMARY = re.compile(r"zoomfs-backup: (\S+)/users/ -> (\S+): (\d+) of (\d+) files transferred, "
                     r"(\d+) bytes, rsync exit (\d+), \d+s")


def test_backup_service_copies_users_with_a_one_line_summary(installed, sim, make_account,
                                                             make_service):
    account = make_account(sim)
    backup = Unit(UNIT_DIR / "zoomfs-backup@.service", account.name, rewrite=account.rewrite)
    mount_unit = "zoomfs@%s.service" % account.name
    assert mount_unit in backup.values("Unit", "Requires")
    assert mount_unit in backup.values("Unit", "After")
    assert backup.value("Service", "Type") == "oneshot"

    svc = make_service(account)
    svc.start_pre()
    svc.start()
    svc.wait_ready()

    [first] = backup.run("ExecStart", timeout=300)
    lines = first.stdout.splitlines()
    assert len(lines) == 1 and first.stderr == "", (first.stdout, first.stderr)
    m = SUMMARY.fullmatch(lines[0])
    assert m, lines[0]
    assert (m.group(1), m.group(2)) == (str(account.mnt), str(account.dest))
    assert m.group(6) == "0"

    src = account.mnt / "users"
    copied = {p.relative_to(account.dest): p.stat().st_size
              for p in account.dest.rglob("*") if p.is_file()}
    mounted = {p.relative_to(src): p.stat().st_size for p in src.rglob("*") if p.is_file()}
    assert copied == mounted
    assert int(m.group(3)) == int(m.group(4)) == len(mounted)
    assert int(m.group(5)) == sum(mounted.values())
    assert any(p.parts[1] == "recordings" for p in mounted)
    recording = next(p for p in mounted if p.parts[1] == "recordings"
                     and p.name != "recording.json")
    assert (account.dest / recording).read_bytes() == (src / recording).read_bytes()

    # The next night: nothing new, nothing transferred, and the line says so.
    [second] = backup.run("ExecStart", timeout=300)
    m2 = SUMMARY.fullmatch(second.stdout.strip())
    assert m2, second.stdout
    assert (m2.group(3), m2.group(4), m2.group(5)) == ("0", str(len(mounted)), "0")

    svc.stop()


def test_backup_refuses_when_the_account_is_not_mounted(installed, sim, make_account):
    account = make_account(sim)
    backup = Unit(UNIT_DIR / "zoomfs-backup@.service", account.name, rewrite=account.rewrite)
    account.mnt.mkdir(parents=True)
    [(argv, ignore)] = backup.commands("ExecStart")
    cp = subprocess.run(argv, env=backup.process_env(), capture_output=True, text=True,
                        timeout=60)
    assert cp.returncode == 1 and not ignore
    assert "is not mounted" in cp.stderr
    assert not account.dest.exists()


def test_backup_timer_runs_it_every_night(installed):
    timer = Unit(UNIT_DIR / "zoomfs-backup@.timer", "acme")
    assert timer.value("Timer", "Persistent") == "true"
    assert timer.value("Timer", "RandomizedDelaySec")
    spec = timer.value("Timer", "OnCalendar")
    out = run(["systemd-analyze", "calendar", "--iterations=2", spec],
              env=dict(os.environ, TZ="UTC")).stdout.decode()
    elapses = [datetime.datetime.fromisoformat(t) for t in re.findall(
        r"(?:Next elapse|Iter\. #2): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", out)]
    assert len(elapses) == 2 and elapses[1] - elapses[0] == datetime.timedelta(days=1), out
    assert "timers.target" in timer.values("Install", "WantedBy")


def test_systemd_analyze_verify(installed, tmp_path):
    names = ["zoomfs@acme.service", "zoomfs-backup@acme.service", "zoomfs-backup@acme.timer"]
    cp = subprocess.run(["systemd-analyze", "verify"] + names, capture_output=True, text=True,
                        timeout=120)
    assert cp.returncode == 0 and cp.stdout + cp.stderr == "", cp.stdout + cp.stderr
    # The check itself works here (no running systemd): a unit whose program
    # is missing is reported.
    broken = tmp_path / "zoomfs@acme.service"
    broken.write_text((UNIT_DIR / "zoomfs@.service").read_text()
                      .replace("/usr/bin/zoomfs ", "/usr/bin/zoomfs-missing "))
    cp = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True,
                        text=True, timeout=120)
    assert cp.returncode != 0 and "zoomfs-missing" in cp.stdout + cp.stderr
