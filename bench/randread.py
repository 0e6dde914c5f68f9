#!/usr/bin/python3
"""Random 4 KiB reads for the read benchmark.

    bench/randread.py read PATH COUNT [SEED]
        COUNT times: open PATH, pread 4 KiB at a random 4 KiB-aligned
        offset, close; each read on a fresh open, so a filesystem that sets
        up something per open (a stream, a redirect) pays for it every time.
        Prints each latency in milliseconds, one a line. Fails when a read
        returns anything but 4096 bytes.
    bench/randread.py offsets SIZE COUNT [SEED]
        Prints the COUNT offsets `read` uses for a file of SIZE bytes (for
        the same reads as HTTP Range requests).

The offsets come from SEED (default 1), so every reader reads the same ones.
"""

import os
import random
import sys
import time

BLOCK = 4096


def offsets(size, count, seed):
    blocks = size // BLOCK
    if blocks < 1:
        sys.exit("randread.py: a file smaller than %d bytes" % BLOCK)
    rng = random.Random(seed)
    return [rng.randrange(blocks) * BLOCK for _ in range(count)]


def read(path, count, seed):
    for off in offsets(os.stat(path).st_size, count, seed):
        t0 = time.perf_counter()
        fd = os.open(path, os.O_RDONLY)
        try:
            got = os.pread(fd, BLOCK, off)
        finally:
            os.close(fd)
        t1 = time.perf_counter()
        if len(got) != BLOCK:
            sys.exit("randread.py: %d bytes at offset %d of %s" % (len(got), off, path))
        print("%.3f" % ((t1 - t0) * 1000))


def main():
    a = sys.argv[1:]
    if len(a) not in (3, 4) or a[0] not in ("read", "offsets"):
        sys.exit("usage: randread.py read PATH COUNT [SEED] | offsets SIZE COUNT [SEED]")
    seed = int(a[3]) if len(a) == 4 else 1
    if a[0] == "read":
        read(a[1], int(a[2]), seed)
    else:
        print("\n".join(str(o) for o in offsets(int(a[1]), int(a[2]), seed)))


if __name__ == "__main__":
    main()
