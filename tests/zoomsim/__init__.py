"""zoomsim: a local, stateful Zoom API emulator for the zoomfs tests and demo.

Python 3 standard library only.  Start it with ``python3 -m zoomsim`` from ``tests/``;
README.md (beside this file) is the contract and documents every option and behaviour.
"""
