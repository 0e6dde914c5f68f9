"""Zoom's pagination: page_size (default 30, at most 300), opaque next_page_token
("" on the last page, valid 15 minutes) and the legacy page_number/page_count."""

import base64
import contextlib
import hashlib
import math
import re
import secrets
import threading
import time
import uuid as uuidlib

from .messages import ApiError, invalid_parameter

TOKEN_TTL = 15 * 60


class Pager:
    def __init__(self, faults=None):
        self._lock = threading.Lock()
        self._tokens = {}  # token -> (scope, offset, expiry)
        self._faults = faults  # where the paging faults (same_token, endless) wait
        self._serving = threading.local()  # the route name of this thread's request

    @contextlib.contextmanager
    def serving(self, route_name):
        """While a request of this route is handled, its listing may take a paging fault."""
        self._serving.route = route_name
        try:
            yield
        finally:
            self._serving.route = None

    def _paging_fault(self):
        route = getattr(self._serving, "route", None)
        if route is None or self._faults is None:
            return None
        return self._faults.take(route, paging=True)

    @staticmethod
    def _positive(query, name, default):
        text = query.get(name, "")
        if text == "":
            return default
        if not (text.isascii() and text.isdigit()):
            raise invalid_parameter(name)
        return int(text) or default

    def page(self, items, query, scope):
        """(the page's items, the paging fields of the response).

        scope names the listing (endpoint and filters); a token only continues the
        listing it came from.
        """
        size = min(self._positive(query, "page_size", 30), 300)  # Zoom clamps, no error
        fault = self._paging_fault()
        if fault:
            return faulty_page(fault, items, query, size, lambda: self._offset(query, scope,
                                                                              size))
        offset = self._offset(query, scope, size)
        following = ""
        if offset + size < len(items):
            following = self._issue(scope, offset + size)
        return items[offset:offset + size], _fields(items, size, offset // size + 1, following)

    def _offset(self, query, scope, size):
        token = query.get("next_page_token", "")
        if token:
            with self._lock:
                entry = self._tokens.get(token)
            if entry is None or entry[0] != scope or entry[2] < time.time():
                raise ApiError(400, 300, "The next page token is invalid or expired.")
            return entry[1]
        return (self._positive(query, "page_number", 1) - 1) * size

    def _issue(self, scope, offset):
        token = secrets.token_urlsafe(26)
        now = time.time()
        with self._lock:
            for old in [t for t, entry in self._tokens.items() if entry[2] < now]:
                del self._tokens[old]
            self._tokens[token] = (scope, offset, now + TOKEN_TTL)
        return token


def _fields(items, size, page_number, following):
    return {
        "page_count": math.ceil(len(items) / size),
        "page_number": page_number,
        "page_size": size,
        "total_records": len(items),
        "next_page_token": following,
    }


# ---- paging faults: listings that never end ------------------------------------------
# Nothing is stored for them: an endless token carries its page number, and the items of
# a page are made from the listing's own items, so no client can make the server grow.

_ENDLESS = re.compile(r"endless-(\d{1,12})-[0-9a-f]{16}")
# A fabricated page holds at most 300 items; item n of page p is number p * 300 + n.
_PER_PAGE = 300


def faulty_page(fault, items, query, size, real_offset):
    """(items, paging fields) of a listing under a same_token or endless fault."""
    if fault["kind"] == "same_token":  # the first page again, and a token that repeats
        return items[:size], _fields(items, size, 1, fault["token"])
    found = _ENDLESS.fullmatch(query.get("next_page_token", ""))
    if found:
        page = int(found.group(1))
        shown = fabricate(items, page, size)
    else:  # the listing's real page (first, or continued from a real token)
        offset = real_offset()
        page = offset // size + 1
        shown = items[offset:offset + size]
    following = f"endless-{page + 1}-{secrets.token_hex(8)}"
    return shown, _fields(items, size, page, following)


def fabricate(templates, page, size):
    """A page of new items shaped like the listing's: each a copy of a real one whose
    ids, UUIDs and emails are replaced by distinct ones (URLs still lead to real files)."""
    if not templates:
        return []
    out = []
    for n in range(size):
        serial = page * _PER_PAGE + n
        out.append(_disguise(templates[serial % len(templates)], serial, {}))
    return out


_EMAILS = ("email", "user_email")  # user_email: past meeting participants
_UUID_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _new_value(key, value, serial):
    digest = hashlib.sha256(f"{serial}:{key}:{value}".encode()).digest()
    if isinstance(value, int):
        return 10**11 + serial  # 12 digits: never one of the account's 11-digit ids
    if value == "":  # no id or email (a guest participant's): none made up either
        return value
    if key in _EMAILS and "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local}+{serial}@{domain}"
    if _UUID_SHAPE.fullmatch(value):
        return str(uuidlib.UUID(bytes=digest[:16], version=4))
    if key in ("uuid", "meeting_id"):
        return base64.b64encode(digest[:16]).decode()
    return base64.urlsafe_b64encode(digest).decode()[:max(1, len(value))]


def _disguise(value, serial, seen):
    """A copy of value with every id, uuid, meeting_id and email replaced, the same
    original always by the same new value (a file's meeting_id stays its instance's uuid)."""
    if isinstance(value, list):
        return [_disguise(v, serial, seen) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, inner in value.items():
        if key in ("id", "uuid", "meeting_id") + _EMAILS and isinstance(inner, (int, str)) \
                and not isinstance(inner, bool):
            if inner not in seen:
                seen[inner] = _new_value(key, inner, serial)
            out[key] = seen[inner]
        else:
            out[key] = _disguise(inner, serial, seen)
    return out
