"""What tests observe and inject: the request journal (counters and log), faults and
Zoom's rate limits."""

import collections
import threading
import time

from .clock import utcnow


class Journal:
    """Counters by route and status, and a log of every request (except /_sim)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._seq = 0  # keeps growing across resets, so `since` stays meaningful
        self._log = []
        self._counters = collections.defaultdict(collections.Counter)
        self._in_flight = self._max_in_flight = 0  # API requests being served at once

    def record(self, entry):
        """Log a request; returns the stored entry for a later correct_bytes()."""
        with self._lock:
            self._seq += 1
            stored = {"seq": self._seq, **entry}
            self._log.append(stored)
            self._counters[entry["route"]][str(entry["status"])] += 1
            return stored

    def correct_bytes(self, stored, sent):
        with self._lock:
            stored["bytes"] = sent

    def counters(self):
        with self._lock:
            return {route: dict(by_status) for route, by_status in self._counters.items()}

    def entries(self, since):
        with self._lock:
            return [dict(e) for e in self._log if e["seq"] > since]

    def reset(self):
        with self._lock:
            self._log.clear()
            self._counters.clear()
            self._max_in_flight = self._in_flight

    def begin(self):
        """An API request is being served: counts how many are at once."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def end(self):
        with self._lock:
            self._in_flight -= 1

    def concurrency(self):
        with self._lock:
            return {"in_flight": self._in_flight, "max_in_flight": self._max_in_flight}


class FaultError(ValueError):
    pass


def _number(spec, name, default, low, high, types=(int,)):
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, types) or not low <= value <= high:
        raise FaultError(f"{name} must be a number in [{low}, {high}]")
    return value


# Faults on the listing itself: taken by the pager, so only by requests that page.
PAGING = ("same_token", "endless")
# What a mock serving the spec's example would send: GET /users/{userId}/recordings's.
SPEC_PAGE_TOKEN = "Tva2CuIdTgsv8wAnhyAdU3m06Y2HuLQtlh3"


class Faults:
    """Faults queued for the next `count` requests matching a route name or "*"."""

    KINDS = ("429", "429daily", "5xx", "reset", "drop", "stall", "expire_token", "html",
             "empty_body", "json_body", "trickle", "stall_every", "short_length",
             "range_ignored") + PAGING

    def __init__(self, route_names):
        self._routes = set(route_names)
        self._lock = threading.Lock()
        self._queue = []
        self._next_id = 0

    def add(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("the body must be a JSON object")
        route, kind = spec.get("route"), spec.get("kind")
        if route != "*" and route not in self._routes:
            raise FaultError(f"unknown route {route!r}; use a route name or \"*\"")
        if kind not in self.KINDS:
            raise FaultError(f"kind must be one of {', '.join(self.KINDS)}")
        fault = {"route": route, "kind": kind, "count": _number(spec, "count", 1, 1, 10**9)}
        if kind == "429":
            fault["retry_after"] = _number(spec, "retry_after", 1, 0, 86400)
        elif kind == "5xx":
            fault["status"] = _number(spec, "status", 503, 500, 599)
        elif kind == "reset":
            fault["after_bytes"] = _number(spec, "after_bytes", 0, 0, 2**62)
        elif kind == "stall":
            fault["seconds"] = _number(spec, "seconds", 2, 0, 3600, (int, float))
        else:
            fault.update(_more_parameters(kind, spec))
        with self._lock:
            self._next_id += 1
            fault["id"] = self._next_id
            self._queue.append(fault)
        return dict(fault)

    def take(self, route, paging=False):
        """The first fault matching this route, with one use consumed; or None.
        Paging faults are taken only with paging=True (by the pager), the others only
        without, so a listing fault waits for a request that pages."""
        with self._lock:
            for fault in self._queue:
                if fault["route"] in ("*", route) and (fault["kind"] in PAGING) == paging:
                    fault["count"] -= 1
                    if fault["count"] == 0:
                        self._queue.remove(fault)
                    return dict(fault)
        return None

    def pending(self):
        with self._lock:
            return [dict(f) for f in self._queue]

    def clear(self):
        with self._lock:
            self._queue.clear()


def _more_parameters(kind, spec):
    """The parameters of the later fault kinds (see README, Faults)."""
    if kind == "json_body":
        if not isinstance(spec.get("body"), str):
            raise FaultError("json_body needs a \"body\": the response text, as a string")
        return {"body": spec["body"]}
    if kind == "same_token":
        token = spec.get("token", SPEC_PAGE_TOKEN)
        if not isinstance(token, str) or not token:
            raise FaultError("token must be a non-empty string")
        return {"token": token}
    if kind == "trickle":
        return {"rate": _number(spec, "rate", 1000, 1, 2**40)}
    if kind == "stall_every":
        return {"every": _number(spec, "every", 65536, 1, 2**62),
                "seconds": _number(spec, "seconds", 2, 0, 3600, (int, float))}
    if kind == "short_length":
        return {"short_by": _number(spec, "short_by", 100, 1, 2**62)}
    return {}


class RateLimiter:
    """Per-category limits as Zoom counts them: --qps per second, and the daily count
    reported in X-RateLimit-Remaining (reported only; the 429daily fault enforces).
    --daily-spent counts what other apps on the account used today: Zoom's limits are
    per account, shared by every app."""

    DAILY_LIMIT = 30000

    def __init__(self, config):
        self._config = config
        self._lock = threading.Lock()
        self._recent = collections.defaultdict(collections.deque)  # category -> times
        self._day = None
        self._used = collections.Counter()  # category -> requests today

    def admit(self, category):
        """Count a request; False if it exceeds the per-second limit."""
        now = time.monotonic()
        with self._lock:
            qps = self._config.qps
            if qps:
                recent = self._recent[category]
                while recent and recent[0] <= now - 1:
                    recent.popleft()
                if len(recent) >= qps:
                    return False
                recent.append(now)
            today = utcnow().date()
            if today != self._day:
                self._day = today
                self._used.clear()
            self._used[category] += 1
            return True

    def headers(self, category):
        with self._lock:
            spent = self._config.daily_spent + self._used[category]
            remaining = max(0, self.DAILY_LIMIT - spent)
        return {"X-RateLimit-Category": category,
                "X-RateLimit-Limit": str(self.DAILY_LIMIT),
                "X-RateLimit-Remaining": str(remaining)}
