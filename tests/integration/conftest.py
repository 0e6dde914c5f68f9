"""Fixtures for the integration tests.

- ``sim`` / ``mnt``: one emulator and one mount per test module. A module
  chooses their arguments with module-level ``SIM_ARGS`` (list of zoomsim
  flags) and ``MOUNT_OPTS`` (dict of -o options).
- ``make_sim`` / ``make_mount``: factories for tests that need their own
  emulator or mount (special options, state they change, request budgets that
  a warm cache would hide). Everything they start is stopped in teardown.

Every mount is unmounted in teardown, even when the test failed; zoomfs's
log is then checked for sanitizer reports and credentials, and its exit
status must be 0. After each test the log written during it is checked too,
so a problem is reported against the test that caused it.
"""

import sys

import pytest

from .util import Mount, Sim, unmount_all_live


def _fail_on(problems, what):
    if problems:
        pytest.fail("%s:\n%s" % (what, "\n".join(problems)), pytrace=False)


def _fail_on_teardown(request, problems):
    """A module-scoped fixture is torn down after the session stopped when
    pytest runs with -x; failing then would crash pytest, so print instead."""
    if problems and (request.session.shouldstop or request.session.shouldfail):
        print("\nzoomfs teardown:\n" + "\n".join(problems), file=sys.stderr)
        return
    _fail_on(problems, "zoomfs teardown")


@pytest.fixture
def make_sim(tmp_path_factory):
    started = []

    def make(args=(), name="sim"):
        s = Sim.start(tmp_path_factory.mktemp(name), list(args))
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def make_mount(tmp_path_factory):
    made = []

    def make(sim, opts=None, env=None, args=(), start=True, name="zoomfs", creds=True):
        m = Mount(sim, tmp_path_factory.mktemp(name), opts=opts, env=env, args=args,
                  creds=creds)
        made.append(m)
        if start:
            m.start()
        return m

    yield make
    problems = []
    for m in made:
        problems += m.teardown()
    _fail_on(problems, "zoomfs teardown")


@pytest.fixture(scope="module")
def sim(request, tmp_path_factory):
    s = Sim.start(tmp_path_factory.mktemp("sim"), list(getattr(request.module, "SIM_ARGS", [])))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def mnt(request, sim, tmp_path_factory):
    m = Mount(sim, tmp_path_factory.mktemp("zoomfs"),
              opts=dict(getattr(request.module, "MOUNT_OPTS", {})))
    try:
        m.start()
        yield m
    finally:
        problems = m.teardown()
    _fail_on_teardown(request, problems)


@pytest.fixture(autouse=True)
def _check_zoomfs_logs():
    """After each test: what every live zoomfs logged during it is clean."""
    yield
    problems = []
    for m in list(Mount.live):
        problems += m.check_new_log()
    _fail_on(problems, "zoomfs log check")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    unmount_all_live()
