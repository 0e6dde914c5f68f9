"""Recording file bytes: generated on demand, never stored, so files can be any size.

A file is a sequence of 64 KiB blocks; block i is a pure function of (seed, file key, i)
and the file's size, so any byte range can be produced without the bytes before it.
Media blocks are pseudo-random bytes.  Text blocks (WebVTT transcripts and captions,
chat logs, timeline JSON) are made of whole records (cues, lines, entries) and padded
with spaces to the block's exact length, so every file is real-looking text of exactly
its declared size.
"""

import hashlib
import itertools
import json
import random
import threading

BLOCK = 64 * 1024

SPEAKERS = ("Alice Anderson", "Bob Brown", "Chloé Dubois", "Zoë O'Neil")
WORDS = (
    "the", "budget", "for", "Zürich", "office", "we", "should", "ship", "release", "next",
    "week", "café", "numbers", "look", "good", "EMEA", "APAC", "pipeline", "naïve", "plan",
    "is", "blocked", "on", "review", "déjà", "vu", "customer", "asked", "about", "pricing",
    "let's", "follow", "up", "tomorrow", "roadmap", "Q3", "slides", "are", "shared", "now",
)


def _sentence(rng):
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
    return words[0].upper() + words[1:] + rng.choice(".?!")


def _clock(seconds, millis=None):
    h, rest = divmod(seconds, 3600)
    stamp = f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return stamp if millis is None else f"{stamp}.{millis:03d}"


# A record number n is block * _PER_BLOCK + k for the k-th record of a block: unique and
# increasing through the file, whatever the block boundaries.
_PER_BLOCK = 10000


def _vtt_cue(rng, n, first):
    start = n * 3
    return (f"{n + 1}\n{_clock(start, rng.randrange(1000))} --> "
            f"{_clock(start + 2, rng.randrange(1000))}\n"
            f"{rng.choice(SPEAKERS)}: {_sentence(rng)}\n\n").encode()


def _chat_line(rng, n, first):
    return (f"{_clock(n * 7)} From {rng.choice(SPEAKERS)} to Everyone:\n"
            f"\t{_sentence(rng)}\n").encode()


def _timeline_entry(rng, n, first):
    name = rng.choice(SPEAKERS)
    entry = {"ts": _clock(n * 5, 0), "users": [{
        "username": name, "multiple_people": False, "user_id": str(16778240 + SPEAKERS.index(name)),
        "zoom_userid": f"{SPEAKERS.index(name)}x{n % 97}", "client_type": 5, "os": "mac"}]}
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    return (text if first else "," + text).encode()


class _TextFormat:
    def __init__(self, header, record, footer, keep_after_pad):
        self.header, self.record, self.footer = header, record, footer
        # Padding goes before the last `keep_after_pad` bytes of the records, so it
        # lengthens the last text line instead of making a line of blanks.
        self.keep_after_pad = keep_after_pad


FORMATS = {
    "vtt": _TextFormat(b"WEBVTT\n\n", _vtt_cue, b"", 2),
    "chat": _TextFormat(b"", _chat_line, b"", 1),
    "timeline": _TextFormat(b'{"timeline":[', _timeline_entry, b"]}\n", 0),
}

_digests = {}
_digests_lock = threading.Lock()


class Content:
    """The bytes of one file: kind is "binary" or a key of FORMATS."""

    def __init__(self, seed, key, kind, size):
        self.seed, self.key, self.kind, self.size = seed, key, kind, size

    def _rng(self, index):
        return random.Random(f"{self.seed}:{self.key}:{index}")

    def block(self, index):
        length = min(BLOCK, self.size - index * BLOCK)
        if self.kind == "binary":
            return self._rng(index).randbytes(BLOCK)[:length]
        return self._text_block(index, length)

    def _text_block(self, index, length):
        fmt = FORMATS[self.kind]
        rng = self._rng(index)
        head = fmt.header if index == 0 else b""
        tail = fmt.footer if (index + 1) * BLOCK >= self.size else b""
        records, used = [], len(head) + len(tail)
        for k in itertools.count():
            record = fmt.record(rng, index * _PER_BLOCK + k, index == 0 and k == 0)
            if used + len(record) > length:
                break
            records.append(record)
            used += len(record)
        body = b"".join(records)
        cut = len(body) - (fmt.keep_after_pad if records else 0)
        padding = b" " * max(0, length - used)
        return (head + body[:cut] + padding + body[cut:] + tail)[:length]

    def iter_range(self, start, end):
        """The bytes [start, end) in pieces of at most one block."""
        index = start // BLOCK
        while start < end:
            offset = start - index * BLOCK
            piece = self.block(index)[offset:offset + end - start]
            yield piece
            start += len(piece)
            index += 1

    def sha256(self):
        """Hex SHA-256 of the whole file, computed by streaming and cached."""
        ident = (self.seed, self.key, self.kind, self.size)
        with _digests_lock:
            known = _digests.get(ident)
        if known is None:
            digest = hashlib.sha256()
            for piece in self.iter_range(0, self.size):
                digest.update(piece)
            known = digest.hexdigest()
            with _digests_lock:
                _digests[ident] = known
        return known


class FileContent:
    """The bytes of a file on disk (--external-file), as the first `size` bytes of it."""

    def __init__(self, path, size):
        self.path, self.size = path, size

    def iter_range(self, start, end):
        with open(self.path, "rb") as source:
            source.seek(start)
            while start < end:
                piece = source.read(min(BLOCK, end - start))
                if not piece:
                    raise OSError(f"{self.path} is shorter than {self.size} bytes")
                yield piece
                start += len(piece)

    def sha256(self):
        digest = hashlib.sha256()
        for piece in self.iter_range(0, self.size):
            digest.update(piece)
        return digest.hexdigest()
