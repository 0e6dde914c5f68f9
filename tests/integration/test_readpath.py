"""The read path at line rate, by what it costs rather than how long it
takes: a sequential read sends few large Range requests and fetches every
byte once, a random 4 KiB read fetches one 256 KiB chunk, and four parallel
readers stay in bounded memory. (Speeds are measured by
bench/compare_read.sh, not here.)
"""

import errno
import hashlib
import json
import mmap
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from .util import SANITIZER_ENV, RssSamples, Sim, instance_files, run, sim_instance_by_uuid

MiB = 1 << 20
KiB = 1 << 10
BIG = 48 * MiB
PAR = 24 * MiB    # the files of the parallel readers
CHUNK = 256 * KiB  # what zoomfs fetches for a random read
BATCH = 4 * MiB    # the most one read-ahead request asks for
CDN = "GET /cdn/{fileKey}"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = Sim.start(tmp_path_factory.mktemp("readpath-sim"),
                  ["--users", "1", "--seed", "4", "--instances", "1", "--months", "1",
                   "--meetings", "1", "--file-size", str(PAR),
                   "--dense-month-instances", "4", "--big-file", str(BIG)])
    yield s
    s.stop()


def files_of_size(sim, mount, size):
    """(path, fileKey) of the media files of exactly size bytes that are
    alone of their size in their instance folder (matched to the emulator's
    instance through recording.json)."""
    by_uuid = sim_instance_by_uuid(sim)
    out = []
    for dirpath, _, names in sorted(os.walk(mount.path("users"))):
        if "recording.json" not in names:
            continue
        folder = Path(dirpath)
        rec = json.loads((folder / "recording.json").read_bytes())
        keys = [f["_key"] for f in instance_files(by_uuid[rec["uuid"]][1]) if f["_size"] == size]
        paths = [folder / n for n in sorted(names)
                 if n != "recording.json" and (folder / n).stat().st_size == size]
        if len(keys) == 1 and len(paths) == 1:
            out.append((paths[0], keys[0]))
    return out


def ranges(entries):
    """(first byte, bytes carried, bytes asked for) of each CDN request."""
    out = []
    for e in entries:
        if e["route"] != CDN:
            continue
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", e.get("range") or "")
        assert m, "a CDN request without a closed Range: %s" % e
        a, b = int(m.group(1)), int(m.group(2))
        out.append((a, e["bytes"], b - a + 1))
    return out


def read_in_steps(path, step=128 * KiB):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(step)
            if not b:
                return h.hexdigest()
            h.update(b)


def test_sequential_read_fetches_each_byte_once_in_few_large_requests(sim, make_mount):
    m = make_mount(sim)
    ((path, key),) = files_of_size(sim, m, BIG)
    mark = sim.mark()
    digest = read_in_steps(path)
    got = sorted(ranges(sim.log(mark)))
    assert digest == sim.file_info(key)["sha256"]
    at = 0
    for first, carried, asked in got:
        assert first == at, "byte %d fetched twice or skipped: %s" % (at, got)
        assert asked <= BATCH, got
        at += carried
    assert at == BIG, got
    # The window grows to 8 MiB and is topped up 4 MiB at a time: about one
    # request per 4 MiB, a few small ones while it grows.
    assert len(got) <= BIG // BATCH + 8, got


def test_random_4k_read_fetches_one_chunk(sim, make_mount):
    m = make_mount(sim)
    ((path, key),) = files_of_size(sim, m, BIG)
    block = 5000  # 4 KiB blocks: 20,480,000 bytes into the file
    mark = sim.mark()
    got = run(["dd", "if=%s" % path, "bs=4096", "count=1", "skip=%d" % block,
               "status=none"]).stdout
    entries = sim.log(mark)
    assert got == sim.download(key, block * 4096, block * 4096 + 4095)
    cdn = ranges(entries)
    start = block * 4096 // CHUNK * CHUNK
    assert cdn[:1] == [(start, CHUNK, CHUNK)], cdn


def test_four_parallel_readers_in_bounded_memory(sim, make_mount):
    # AddressSanitizer keeps freed memory in quarantine (256 MiB by
    # default): a small one measures zoomfs, not the sanitizer.
    asan = os.environ.get("ASAN_OPTIONS", SANITIZER_ENV["ASAN_OPTIONS"])
    m = make_mount(sim, env={"ASAN_OPTIONS": asan + ":quarantine_size_mb=8"})
    found = files_of_size(sim, m, PAR)[:4]
    assert len(found) == 4
    paths = [p for p, _ in found]
    want = {p: sim.file_info(k)["sha256"] for p, k in found}
    before = m.vmrss_kib()
    digests = {}

    def read(p):
        digests[p] = read_in_steps(p)

    readers = [threading.Thread(target=read, args=(p,)) for p in paths]
    with RssSamples(m, 0.05) as rss:
        for t in readers:
            t.start()
        for t in readers:
            t.join()
    assert digests == want
    grew = (max(rss.peak, before) - before) / 1024
    print("four parallel readers: RSS grew by %.1f MiB (%d samples)" % (grew, len(rss.samples)))
    # Each open file holds at most its read-ahead window (8 MiB) and 3 MiB
    # of chunks being read: 44 MiB, about 45 MiB in all in a release build,
    # 60 under the sanitizers (their allocator's own share); the 1 MiB
    # chunks of old, two windows a file, came to 96.
    assert grew < 72, "zoomfs VmRSS grew by %.1f MiB" % grew


def test_parallel_readers_share_the_read_ahead_budget(sim, make_mount):
    """-o readahead_total bounds the chunk memory of all open recordings
    together: twelve readers at once (four files, each opened three times:
    a stream per open) get every byte right, and the chunks held, which
    .zoomfs/stats counts exactly, stayed within the budget but for what
    readers fetch for themselves (a read is never refused memory). Without
    the budget each stream holds its 8 MiB window: about 120 MiB."""
    budget = 8 * MiB
    m = make_mount(sim, opts={"readahead_total": budget})
    found = files_of_size(sim, m, PAR)[:4]
    assert len(found) == 4
    jobs = [(p, sim.file_info(k)["sha256"]) for p, k in found for _ in range(3)]
    digests = [None] * len(jobs)

    def read(i):
        digests[i] = read_in_steps(jobs[i][0])

    readers = [threading.Thread(target=read, args=(i,)) for i in range(len(jobs))]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    assert digests == [want for _, want in jobs]
    stats, _ = m.stats()
    peak = stats["readahead_peak"]
    print("%d readers, budget %d MiB: peak %.2f MiB" % (len(jobs), budget // MiB, peak / MiB))
    # Beyond the budget only the readers' own chunks: with reads of 128 KiB,
    # the chunk a reader reads now and the one it read last (its next read
    # may go on in it; the others behind it are given back).
    assert peak <= budget + len(jobs) * 2 * CHUNK, peak
    assert stats["readahead_bytes"] <= peak


def test_one_reader_keeps_its_whole_window_within_the_budget(sim, make_mount):
    """The default budget (48 MiB) does not cut one reader: its window grows
    to -o readahead (8 MiB) and is topped up 4 MiB at a time, as without a
    budget; it holds no more than the window and the chunks being read."""
    m = make_mount(sim)
    ((path, key),) = files_of_size(sim, m, BIG)
    mark = sim.mark()
    assert read_in_steps(path) == sim.file_info(key)["sha256"]
    got = ranges(sim.log(mark))
    assert len(got) <= BIG // BATCH + 8, got
    assert sum(1 for _, _, asked in got if asked == BATCH) >= BIG // BATCH - 4, got
    stats, _ = m.stats()
    # the window, the chunk being read, and the 12 spare slots at most
    assert 8 * MiB + CHUNK <= stats["readahead_peak"] <= 8 * MiB + 12 * CHUNK, stats


@pytest.mark.parametrize("page_cache", [False, True], ids=["default", "page_cache"])
def test_recordings_bypass_the_page_cache_unless_asked(sim, make_mount, page_cache):
    """By default a recording's bytes go straight to the reader (one kernel
    copy fewer, no page cache filled by a backup): every read streams, and a
    shared mmap is refused, as the kernel does for such files, while a
    private one works. With -o page_cache the kernel keeps the pages: a
    second read costs no request."""
    direct_io = not page_cache
    m = make_mount(sim, opts={"page_cache": True} if page_cache else None)
    path, key = files_of_size(sim, m, PAR)[0]
    want = sim.file_info(key)["sha256"]
    assert read_in_steps(path) == want
    mark = sim.mark()
    assert read_in_steps(path) == want
    again = sum(carried for _, carried, _ in ranges(sim.log(mark)))
    assert again == (PAR if direct_io else 0)
    with open(path, "rb") as f:
        if direct_io:
            with pytest.raises(OSError) as refused:
                mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            assert refused.value.errno == errno.ENODEV
            mapped = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
        else:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        with mapped:
            assert hashlib.sha256(mapped).hexdigest() == want


def test_cat_reads_a_recording_a_mebibyte_at_a_time(sim, make_mount):
    """Recordings bypass the page cache, so every read() is a round trip to
    zoomfs: their st_blksize of 1 MiB makes cat and cp read 1 MiB at a time
    (they read max(128 KiB, st_blksize)), eight times fewer trips."""
    m = make_mount(sim)
    ((path, key),) = files_of_size(sim, m, BIG)
    assert path.stat().st_blksize == MiB
    before, _ = m.stats()
    got = run(["cat", str(path)]).stdout
    after, _ = m.stats()
    assert hashlib.sha256(got).hexdigest() == sim.file_info(key)["sha256"]
    reads = after["recording_reads"] - before["recording_reads"]
    # 48 reads of 1 MiB and the one that finds the end; 128 KiB reads: 385.
    assert BIG // MiB <= reads <= BIG // MiB + 2, reads


def test_a_read_waits_once_for_bytes_on_their_way(sim, make_mount):
    """A reader faster than the CDN waits for the read-ahead worker. Its
    1 MiB read spans four chunks, and the reply needs all of them: it is
    woken once, when the last of them is in, not once per chunk (each
    wake-up costs a context switch or two: over nginx, 18,000 futex calls
    per GiB read before, 5,000 after)."""
    m = make_mount(sim)
    ((path, key),) = files_of_size(sim, m, BIG)
    n = 12
    sim.fault(CDN, "trickle", count=100, rate=24 * MiB)  # 0.5 s for 12 MiB
    try:
        before, _ = m.stats()
        got = run(["dd", f"if={path}", "of=/dev/stdout", "bs=1M", f"count={n}",
                   "status=none"]).stdout
        after, _ = m.stats()
    finally:
        sim.clear_faults()
    assert got == sim.download(key, 0, n * MiB - 1)
    reads = after["recording_reads"] - before["recording_reads"]
    waits = after["read_waits"] - before["read_waits"]
    assert reads == n
    # Every read waits (the CDN is slower than FUSE), once; a wake-up at
    # the end of each read-ahead request (4 MiB) comes on top. Woken per
    # chunk, it was about 4 a read.
    assert n <= waits <= n + n // 2, (waits, reads)


def test_sendfile_and_splice_of_a_recording(sim, make_mount, tmp_path):
    """Reads that bypass the page cache still serve the kernel's other
    readers: sendfile(2) (what Python's shutil.copyfile uses), and splice
    into a pipe."""
    m = make_mount(sim)
    path, key = files_of_size(sim, m, PAR)[0]
    want = sim.file_info(key)["sha256"]
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(path, copy)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == want
    with open(path, "rb") as src, open(copy, "wb") as dst:
        sent = 0
        while sent < PAR:
            n = os.sendfile(dst.fileno(), src.fileno(), sent, PAR - sent)
            assert n > 0
            sent += n
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == want
    r, w = os.pipe()
    try:
        with open(path, "rb") as src:
            n = os.splice(src.fileno(), w, 65536, offset_src=4096)
        assert os.read(r, n) == sim.download(key, 4096, 4096 + n - 1)
    finally:
        os.close(r)
        os.close(w)
