"""Fixtures of the contract check (see tests/contract/README.md).

- ``contract``: once per session, an emulator, Stoplight Prism proxying to it
  (validating against the patched spec) and the tap in front of Prism; all
  stopped in teardown (Prism and the emulator by PID).
- ``make_mount`` and the per-test log check come from tests/integration.

At the end of the run the terminal summary shows what Prism found.
"""

import json
import os

import pytest

from integration.conftest import _check_zoomfs_logs, make_mount  # noqa: F401 (fixtures)
from integration.util import Sim, unmount_all_live

from .prism import Prism, Tap, format_summary, missing_prism

# The emulator of the session: the default account (user 0's quirks: UUIDs
# with "/" and "//", a file still processing, CC and TIMELINE files, a
# webinar user) with small files, and one month of more than 300 instances
# so that the recordings list is read in pages (next_page_token).
SIM_ARGS = ["--seed", "5", "--file-size", "16384", "--dense-month-instances", "305"]

_summary = {}


class Contract:
    def __init__(self, sim, prism, tap, workdir):
        self.sim = sim
        self.prism = prism
        self.tap = tap
        self.workdir = workdir
        self.steps = []  # (test, Step) of the workload, for the summary

    def mount(self, make_mount, **kw):
        """zoomfs with its REST calls through the tap and Prism; the token
        and the downloads go straight to the emulator."""
        opts = dict(kw.pop("opts", {}))
        opts["api_url"] = self.tap.url
        return make_mount(self.sim, opts=opts, **kw)


@pytest.fixture(scope="session")
def contract(tmp_path_factory):
    why = missing_prism()
    if why:
        pytest.fail(why, pytrace=False)
    work = tmp_path_factory.mktemp("contract")
    sim = Sim.start(work / "sim", SIM_ARGS)
    prism = tap = None
    try:
        # To see what a patch of the spec fixes, leave it out:
        # CONTRACT_SKIP_PATCHES=overlapping_one_of,recording_file_enums
        skip = [x for x in os.environ.get("CONTRACT_SKIP_PATCHES", "").split(",") if x]
        prism = Prism.start(work, sim.url, skip)
        tap = Tap(prism.url)
        c = Contract(sim, prism, tap, work)
        _summary["contract"] = c
        yield c
    finally:
        if tap is not None:
            tap.stop()
        if prism is not None:
            prism.stop()
        sim.stop()


def pytest_terminal_summary(terminalreporter):
    c = _summary.get("contract")
    if c is None or not c.steps:
        return
    w = terminalreporter
    w.section("contract check (Stoplight Prism)")
    for line in format_summary([st for _, st in c.steps]):
        w.line(line)
    report = c.workdir / "contract-report.json"
    report.write_text(json.dumps([dict(test=t, **st.to_json()) for t, st in c.steps], indent=1))
    w.line("every request and finding: %s" % report)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    unmount_all_live()
