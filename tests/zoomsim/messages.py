"""Requests, responses and Zoom's error bodies, independent of the socket code."""

import codecs
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


JSON_TYPE = "application/json;charset=UTF-8"


def _unencodable(err):
    """Lone surrogates, which no UTF-8 can carry: U+DC80..U+DCFF stand for the raw bytes
    0x80..0xFF (Python's surrogateescape), so a test can put an invalid UTF-8 byte on the
    wire; any other one goes out as its JSON escape (\\ud800), as some servers send."""
    out = bytearray()
    for char in err.object[err.start:err.end]:
        point = ord(char)
        out += bytes([point - 0xDC00]) if 0xDC80 <= point <= 0xDCFF else b"\\u%04x" % point
    return bytes(out), err.end


codecs.register_error("zoomsim-json", _unencodable)


def encode_text(text):
    return text.encode("utf-8", "zoomsim-json")


def to_json(obj):
    # Zoom sends compact UTF-8 JSON; non-ASCII stays raw so clients must decode UTF-8.
    # (json escapes control characters itself: a NUL goes out as \u0000.)
    return encode_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def decode_param(value):
    """The second decoding of a path parameter: Zoom's rule for double-encoded UUIDs."""
    return unquote(value) if _ESCAPE.search(value) else value


@dataclass
class Request:
    method: str
    raw_path: str  # as sent: still percent-encoded, without the query
    path: str  # decoded once, runs of '/' merged: what Zoom's router sees
    query: dict  # name -> value (the last one when repeated)
    headers: object  # email.message.Message from http.server
    body: bytes
    params: dict = field(default_factory=dict)  # path parameters, set by routing
    fault: dict = None  # the fault this request got, if any, set by routing

    @classmethod
    def parse(cls, method, target, headers, body):
        raw_path, _, query = target.partition("?")
        path = re.sub("/+", "/", unquote(raw_path))
        return cls(method, raw_path, path, dict(parse_qsl(query, keep_blank_values=True)),
                   headers, body)

    def json(self):
        """The body as a JSON object, or Zoom's 400/300."""
        try:
            value = json.loads(self.body)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise ApiError(400, 300, "Request Body should be a valid JSON object.")
        return value

    def bearer(self):
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None

    def logged_body(self):
        """For /_sim/log: JSON if it parses, else the text, else None."""
        if not self.body:
            return None
        text = self.body.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            return text


class Response:
    """Status, headers and either a byte body or a (content, start, end) stream."""

    def __init__(self, status, body=b"", headers=None, content_type=None, stream=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        if content_type:
            self.headers["Content-Type"] = content_type
        self.stream = stream

    @property
    def length(self):
        if self.stream:
            _, start, end = self.stream
            return end - start
        return len(self.body)

    def chunks(self):
        if self.stream:
            content, start, end = self.stream
            yield from content.iter_range(start, end)
        elif self.body:
            yield self.body


def json_response(status, obj, headers=None):
    return Response(status, to_json(obj), headers, JSON_TYPE)


def ascii_json_response(status, obj, headers=None):
    """JSON with every non-ASCII character escaped (the control API's answers): valid
    UTF-8 whatever the strings hold, lone surrogates included (as \\udcff escapes)."""
    return Response(status, json.dumps(obj, separators=(",", ":")).encode(), headers, JSON_TYPE)


def no_content():
    return Response(204)


def html_response(status, text):
    return Response(status, text.encode(), content_type="text/html;charset=utf-8")


class ApiError(Exception):
    """A Zoom error: HTTP status plus {"code", "message"[, "errors"]}."""

    def __init__(self, status, code, message, errors=None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self):
        body = {"code": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return json_response(self.status, body)


def validation_failed(fields):
    return ApiError(400, 300, "Validation Failed.",
                    [{"field": name, "message": "Invalid field."} for name in fields])


def invalid_parameter(name):
    return ApiError(400, 300, f"Invalid parameter: {name}.")


def user_not_found(ref):
    return ApiError(404, 1001, f"User does not exist: {ref}.")


def no_recording():
    return ApiError(404, 3301, "There is no recording for this meeting.")
