"""Access tokens (Server-to-Server OAuth) and signed CDN URLs."""

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

INVALID = "Invalid access token."
EXPIRED = "Access token is expired."


class TokenStore:
    """Opaque random tokens with an expiry; optionally at most N live at once."""

    def __init__(self, config):
        self._config = config
        self._lock = threading.Lock()
        self._expiry = OrderedDict()  # token -> epoch seconds, oldest first

    def issue(self):
        lifetime = self._config.token_lifetime
        token = secrets.token_urlsafe(48)
        with self._lock:
            now = time.time()
            self._expiry[token] = now + lifetime
            limit = self._config.max_live_tokens
            if limit:
                live = [t for t, expiry in self._expiry.items() if expiry > now]
                for old in live[:-limit]:
                    del self._expiry[old]  # invalidated: now unknown, not expired
        return token, lifetime

    def problem(self, token):
        """None if the token is good, else Zoom's message for it."""
        with self._lock:
            expiry = self._expiry.get(token)
        if expiry is None:
            return INVALID
        return EXPIRED if expiry <= time.time() else None

    def expire(self, token):
        with self._lock:
            if token in self._expiry:
                self._expiry[token] = time.time()

    def expire_all(self):
        with self._lock:
            now = time.time()
            for token in self._expiry:
                self._expiry[token] = min(self._expiry[token], now)


def basic_credentials(header):
    """(client_id, client_secret) from an Authorization: Basic header, or None."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
        client_id, sep, secret = decoded.partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


class CdnSigner:
    """HMAC signatures for /cdn/{fileKey}?expires=…&sig=…, with a per-process key."""

    def __init__(self):
        self._key = secrets.token_bytes(32)

    def sign(self, file_key, expires):
        return hmac.new(self._key, f"{file_key}:{expires}".encode(), hashlib.sha256).hexdigest()

    def problem(self, file_key, expires, sig):
        """None if the URL is valid now, else why not."""
        well_formed = expires.isascii() and expires.isdigit() and sig.isascii()
        if not well_formed or not hmac.compare_digest(self.sign(file_key, expires), sig):
            return "Invalid signature"
        return "Request has expired" if int(expires) < time.time() else None
