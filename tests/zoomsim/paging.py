"""Zoom's pagination: page_size (default 30, at most 300), opaque next_page_token
("" on the last page, valid 15 minutes) and the legacy page_number/page_count."""

import math
import secrets
import threading
import time

from .messages import ApiError, invalid_parameter

TOKEN_TTL = 15 * 60


class Pager:
    def __init__(self):
        self._lock = threading.Lock()
        self._tokens = {}  # token -> (scope, offset, expiry)

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
        token = query.get("next_page_token", "")
        if token:
            with self._lock:
                entry = self._tokens.get(token)
            if entry is None or entry[0] != scope or entry[2] < time.time():
                raise ApiError(400, 300, "The next page token is invalid or expired.")
            offset = entry[1]
        else:
            offset = (self._positive(query, "page_number", 1) - 1) * size
        following = ""
        if offset + size < len(items):
            following = self._issue(scope, offset + size)
        return items[offset:offset + size], {
            "page_count": math.ceil(len(items) / size),
            "page_number": offset // size + 1,
            "page_size": size,
            "total_records": len(items),
            "next_page_token": following,
        }

    def _issue(self, scope, offset):
        token = secrets.token_urlsafe(26)
        now = time.time()
        with self._lock:
            for old in [t for t, entry in self._tokens.items() if entry[2] < now]:
                del self._tokens[old]
            self._tokens[token] = (scope, offset, now + TOKEN_TTL)
        return token
