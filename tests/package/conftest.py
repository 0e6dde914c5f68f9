"""Fixtures for the package tests: the Debian package built from a copy of the
working tree, checked with lintian, installed with apt-get; an emulator; and
per-test account names with their /etc/zoomfs files.

The package is built once per session (about 10 s) and installed over
whatever zoomfs package is there. At the end it is purged only when no zoomfs
package was installed before, so a developer's machine is left as it was
found (an installed zoomfs stays installed, now at this build).
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from integration.util import REPO, Sim, fusermount_unmount, is_mounted, run

MOUNT_ROOT = "/mnt/zoom"  # where zoomfs@.service mounts
CONF_DIR = Path("/etc/zoomfs")
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
APT = ["apt-get", "-y", "-o", "DPkg::Lock::Timeout=120"]

# A small account: the backup test copies all of it.
SIM_ARGS = ["--users", "3", "--meetings", "2", "--webinars", "1", "--instances", "2",
            "--months", "1", "--file-size", "65536"]


def project_version():
    m = re.search(r"version\s*:\s*'([^']+)'", (REPO / "meson.build").read_text())
    return m.group(1)


def package_status(name):
    cp = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True,
                        text=True)
    return cp.stdout if cp.returncode == 0 else ""


def copy_worktree(dst):
    """The files git knows or would add (tracked, and untracked but not
    ignored), as they are in the working tree: uncommitted changes included,
    build directories and other ignored files left out."""
    cp = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                         "--exclude-standard"], capture_output=True, check=True)
    for rel in cp.stdout.decode().split("\0"):
        src = REPO / rel
        if not rel or not os.path.lexists(src):  # deleted but not yet committed
            continue
        out = dst / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, out, follow_symlinks=False)


class Built:
    def __init__(self, outdir, version, arch):
        self.outdir = outdir
        self.version = version
        self.deb = outdir / ("zoomfs_%s_%s.deb" % (version, arch))
        self.changes = outdir / ("zoomfs_%s_%s.changes" % (version, arch))


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """dpkg-buildpackage -us -uc -b in a clean copy of the tree (the unit
    tests run as part of the build: dh_auto_test)."""
    outdir = tmp_path_factory.mktemp("deb")
    src = outdir / "zoomfs"
    copy_worktree(src)
    arch = run(["dpkg", "--print-architecture"]).stdout.decode().strip()
    log = outdir / "build.log"
    with open(log, "wb") as f:
        rc = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, stdout=f,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            timeout=900).returncode
    if rc != 0:
        pytest.fail("dpkg-buildpackage exited %d:\n%s" % (
            rc, "\n".join(log.read_text(errors="replace").splitlines()[-60:])))
    return Built(outdir, project_version(), arch)


@pytest.fixture(scope="session")
def installed(built):
    before = package_status("zoomfs")
    # --reinstall: the same version may be there from an earlier build.
    cp = run(APT + ["install", "--reinstall", str(built.deb)], env=APT_ENV, timeout=600,
             check=False)
    try:
        assert cp.returncode == 0, cp.stdout.decode()[-3000:] + cp.stderr.decode()[-3000:]
        assert "install ok installed" in package_status("zoomfs")
        yield built
    finally:
        if "install ok installed" not in before:
            run(APT + ["purge", "zoomfs"], env=APT_ENV, timeout=600, check=False)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = Sim.start(tmp_path_factory.mktemp("sim"), SIM_ARGS)
    yield s
    s.stop()


def write_private(path, text):
    """A new file of mode 0600 (never readable by others, not even briefly)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


class Account:
    """An instance name for the units, its /etc/zoomfs/NAME.conf and .env,
    and everything the units make for it, removed in cleanup()."""

    count = 0

    def __init__(self, sim, workdir, secret=None):
        Account.count += 1
        self.name = "pkgtest%d-%d" % (os.getpid(), Account.count)
        self.sim = sim
        self.workdir = Path(workdir)
        self.conf = CONF_DIR / (self.name + ".conf")
        self.env = CONF_DIR / (self.name + ".env")
        self.dest = self.workdir / "backup"
        # A developer's demo may be mounted at /mnt/zoom itself: then the
        # instance mounts go below a temporary root instead.
        self.rewrite = {}
        self.root = Path(MOUNT_ROOT)
        if is_mounted(MOUNT_ROOT):
            self.root = self.workdir / "mnt-root"
            self.rewrite = {MOUNT_ROOT + "/": str(self.root) + "/"}
        self.root_existed = self.root.exists()
        self.mnt = self.root / self.name
        self.state = Path("/var/lib/zoomfs") / self.name
        self.cache = Path("/var/cache/zoomfs") / self.name
        CONF_DIR.mkdir(parents=True, exist_ok=True)
        write_private(self.conf, "ZOOM_ACCOUNT_ID = %s\nZOOM_CLIENT_ID = %s\n"
                      "ZOOM_CLIENT_SECRET = %s\n"
                      % (sim.account_id, sim.client_id, secret or sim.client_secret))
        self.env.write_text("# written by tests/package\n"
                            "ZOOMFS_OPTIONS=-o ro,api_url=%s,oauth_url=%s\n"
                            "BACKUP_DEST=%s\n" % (sim.url, sim.url, self.dest))

    def cleanup(self):
        fusermount_unmount(self.mnt)
        for p in (self.conf, self.env):
            if p.exists():
                p.unlink()
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.rmtree(self.cache, ignore_errors=True)
        for d in (self.mnt, self.root if not self.root_existed else None):
            if d is not None and d.is_dir() and not is_mounted(d):
                try:
                    d.rmdir()
                except OSError:
                    pass


@pytest.fixture
def make_account(tmp_path_factory):
    made = []

    def make(sim, secret=None):
        a = Account(sim, tmp_path_factory.mktemp("account"), secret=secret)
        made.append(a)
        return a

    yield make
    for a in made:
        a.cleanup()
