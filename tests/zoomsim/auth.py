"""Access tokens (Server-to-Server OAuth) and signed CDN URLs."""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict

INVALID = "Invalid access token."
EXPIRED = "Access token is expired."


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenStore:
    """Access tokens shaped like Zoom's Server-to-Server ones (HS512 JWTs whose
    claims vary in size, so lengths run from about 600 to 2,000 characters),
    with an expiry; optionally at most N live at once. Clients must treat them
    as opaque: the server only looks them up."""

    MIN_LEN, MAX_LEN = 600, 2000

    def __init__(self, config):
        self._config = config
        self._lock = threading.Lock()
        self._expiry = OrderedDict()  # token -> epoch seconds, oldest first
        self._scopes = {}  # token -> the scopes it was issued with
        self._key = secrets.token_bytes(64)
        self._issued = 0

    def _mint(self, lifetime):
        now = int(time.time())
        header = {"alg": "HS512", "v": "2.0", "kid": secrets.token_hex(16)}
        claims = {
            "aud": "https://oauth.zoom.us", "uid": secrets.token_urlsafe(16),
            "ver": 10, "auid": secrets.token_hex(32), "nbf": now,
            "code": secrets.token_urlsafe(24), "iss": "zm:cid:" + self._config.client_id,
            "gno": 0, "exp": now + lifetime, "type": 3, "iat": now,
            "aid": self._config.account_id, "jti": secrets.token_hex(16),
        }
        # Tokens grow as Zoom adds claims: spread lengths over the whole range,
        # the longest every few tokens, so that headroom is always tested.
        self._issued += 1
        target = self.MAX_LEN if self._issued % 4 == 0 else \
            self.MIN_LEN + secrets.randbelow(self.MAX_LEN - self.MIN_LEN)
        signing = lambda: _b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            _b64url(json.dumps(claims, separators=(",", ":")).encode())
        base = signing()
        # Each 3 bytes of claim text add 4 characters; 86 are the signature and dot.
        pad = max(0, (target - len(base) - 87) * 3 // 4 - len(',"zm_skm":""'))
        claims["zm_skm"] = secrets.token_urlsafe(pad)[:pad]
        body = signing()
        sig = hmac.new(self._key, body.encode(), hashlib.sha512).digest()
        return body + "." + _b64url(sig)

    def issue(self, scopes=()):
        lifetime = self._config.token_lifetime
        token = self._mint(lifetime)
        with self._lock:
            now = time.time()
            self._expiry[token] = now + lifetime
            self._scopes[token] = tuple(scopes)
            limit = self._config.max_live_tokens
            if limit:
                live = [t for t, expiry in self._expiry.items() if expiry > now]
                for old in live[:-limit]:
                    del self._expiry[old]  # invalidated: now unknown, not expired
                    del self._scopes[old]
        return token, lifetime

    def scopes(self, token):
        """The scopes a token was issued with (() if unknown)."""
        with self._lock:
            return self._scopes.get(token, ())

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
