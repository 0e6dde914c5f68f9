"""Shared pytest set-up for tests/zoomsim and tests/integration.

pytest puts tests/ on sys.path (this file's folder has no __init__.py), so
``import zoomsim`` works from any test. Run with Debian's interpreter:
``/usr/bin/python3 -m pytest tests/zoomsim tests/integration``.
"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long-running test (big files); tests/run.sh still runs it")
