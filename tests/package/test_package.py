"""The Debian package: it builds from a clean copy of the tree, lintian finds
no error in it, it installs with apt-get, and the installed /usr/bin/zoomfs
mounts the emulator's account with credentials from /etc/zoomfs/NAME.conf."""

import json
import os
import stat
import subprocess
from pathlib import Path

from integration.util import fusermount_unmount, is_mounted, run, tail, wait_until

UNIT_DIR = Path("/lib/systemd/system")
UNITS = ["zoomfs@.service", "zoomfs-backup@.service", "zoomfs-backup@.timer"]


def test_lintian_finds_no_error(built):
    cp = subprocess.run(["lintian", "--fail-on", "error", "--display-info", "--pedantic",
                         "--show-overrides", str(built.changes)],
                        capture_output=True, text=True, timeout=600)
    print(cp.stdout + cp.stderr)  # the full report, for -s or a failure
    errors = [line for line in cp.stdout.splitlines() if line.startswith("E:")]
    assert cp.returncode == 0 and not errors, cp.stdout + cp.stderr


def test_package_metadata(built):
    fields = run(["dpkg-deb", "-f", str(built.deb), "Package", "Version", "Architecture",
                  "Depends", "Section"]).stdout.decode()
    assert "Package: zoomfs\n" in fields
    assert "Version: %s\n" % built.version in fields
    depends = next(line for line in fields.splitlines() if line.startswith("Depends:"))
    for dep in ("fuse3", "libfuse3-3", "libcurl4", "libjansson4", "libssl3", "libsystemd0"):
        assert dep in depends, depends


def test_installed_files_and_modes(installed, sim):
    version = run(["/usr/bin/zoomfs", "--version"]).stdout.decode().strip()
    assert version == "zoomfs %s" % installed.version
    # Built with libsystemd: zoomfs@.service is Type=notify.
    assert "libsystemd.so" in run(["ldd", "/usr/bin/zoomfs"]).stdout.decode()

    assert Path("/usr/share/man/man1/zoomfs.1.gz").is_file()
    docs = Path("/usr/share/doc/zoomfs")
    for name in ("README.md", "architecture.md", "configuration.md", "semantics.md",
                 "tree.md"):
        assert (docs / name).exists() or (docs / (name + ".gz")).exists(), name
    assert "License: MIT" in (docs / "copyright").read_text()

    for unit in UNITS:
        assert (UNIT_DIR / unit).is_file(), unit
    backup = Path("/usr/lib/zoomfs/zoomfs-backup")
    assert backup.stat().st_mode & 0o777 == 0o755

    example = Path("/etc/zoomfs/example.conf")
    st = example.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, oct(st.st_mode)
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "zoomfs"]).stdout.decode()
    assert "/etc/zoomfs/example.conf" in conffiles
    assert "/etc/zoomfs/example.env" in conffiles
    # The example is a config zoomfs accepts: it gets as far as asking for a
    # token, which the emulator refuses (placeholder credentials).
    cp = subprocess.run(["/usr/bin/zoomfs", "-f", "-o", "config=%s,oauth_url=%s,api_url=%s"
                         % (example, sim.url, sim.url), "/nonexistent"],
                        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 1
    assert "authentication failed" in cp.stderr, cp.stderr


def test_installed_zoomfs_mounts_the_account(installed, sim, make_account, tmp_path):
    account = make_account(sim)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    log = tmp_path / "zoomfs.log"
    opts = "config=%s,api_url=%s,oauth_url=%s,ledger=%s,ro" % (
        account.conf, sim.url, sim.url, tmp_path / "mtimes")
    with open(log, "wb") as f:
        proc = subprocess.Popen(["/usr/bin/zoomfs", "-f", "-o", opts, str(mnt)],
                                stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                env={"PATH": "/usr/bin:/bin"})
    try:
        wait_until(lambda: is_mounted(mnt) or proc.poll() is not None, 30, what="mount")
        assert proc.poll() is None, tail(log)

        emails = sorted(u["email"] for u in sim.users())
        assert sorted(os.listdir(mnt / "users")) == emails
        user = json.loads((mnt / "users" / emails[0] / "user.json").read_text())
        assert user["email"] == emails[0]
        # One recording, streamed through the installed binary.
        recordings = [p for p in (mnt / "users").glob("*/recordings/*/*/*")
                      if p.name != "recording.json"]
        assert recordings, "no recording files in the account"
        data = recordings[0].read_bytes()
        assert len(data) == recordings[0].stat().st_size > 0

        assert fusermount_unmount(mnt)
        assert proc.wait(timeout=30) == 0, tail(log)
    finally:
        fusermount_unmount(mnt)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sim.client_secret not in log.read_text(errors="replace")
