# Integration tests: real zoomfs mounts against the zoomsim emulator.
