"""Routing and the request pipeline for everything outside /_sim:
match a route, apply a queued fault, authenticate, rate-limit, call the handler and add
Zoom's headers.  Route names ("GET /users/{userId}") key the counters, log and faults.
"""

import http.client
import re
import secrets
import sys
import traceback
from functools import partial

from . import downloads, past, registrants, rest, scopes
from .account import MEETING, WEBINAR
from .clock import iso, next_midnight, utcnow
from .messages import (JSON_TYPE, ApiError, Response, decode_param, encode_text,
                       html_response, json_response)

QUERY_TOKEN = ("Invalid access token, this access token is not supported as query "
               "parameter string.")
PER_SECOND = "You have reached the maximum per-second rate limit for this API. Try again later."
# Faults the server applies while sending (server.py).
TRANSPORT = ("reset", "drop", "stall", "trickle", "stall_every", "short_length")
DAILY = ("You have reached the maximum daily rate limit for this API. Refer to the response "
         "header for details on when you can make the next request.")


class Route:
    """One endpoint.  category is Zoom's rate-limit label and marks /v2 routes;
    faultable is False only for the token endpoint, so tests can always get a token."""

    def __init__(self, method, template, handler, category=None, faultable=True):
        self.method, self.handler = method, handler
        self.category = category
        self.faultable = faultable
        self.name = f"{method} {template}"
        greedy = "/recordings" in template or template.startswith("/past_meetings/")

        def param(match):
            # A meeting UUID whose '/' was encoded only once arrives here as '/': the
            # parameter may then span segments, and the lookup of the wrong UUID fails.
            body = ".+" if greedy and match.group(1) == "meetingId" else "[^/]+"
            return f"(?P<{match.group(1)}>{body})"

        prefix = "/v2" if category else ""
        self.regex = re.compile(prefix + re.sub(r"\{(\w+)\}", param, template))


ROUTES = [
    Route("POST", "/oauth/token", rest.oauth_token, faultable=False),
    Route("GET", "/users", rest.list_users, "Medium"),
    Route("POST", "/users", rest.create_user, "Light"),
    Route("GET", "/users/{userId}", rest.get_user, "Light"),
    Route("PATCH", "/users/{userId}", rest.patch_user, "Light"),
    Route("GET", "/users/{userId}/settings", rest.get_settings, "Medium"),
    Route("PATCH", "/users/{userId}/settings", rest.patch_settings, "Medium"),
    Route("GET", "/users/{userId}/meetings", partial(rest.list_meetings, kind=MEETING), "Medium"),
    Route("POST", "/users/{userId}/meetings", partial(rest.create_meeting, kind=MEETING),
          "Medium"),
    Route("GET", "/meetings/{meetingId}", partial(rest.get_meeting, kind=MEETING), "Light"),
    Route("PATCH", "/meetings/{meetingId}", partial(rest.patch_meeting, kind=MEETING), "Light"),
    Route("DELETE", "/meetings/{meetingId}", partial(rest.delete_meeting, kind=MEETING),
          "Light"),
    Route("GET", "/users/{userId}/webinars", partial(rest.list_meetings, kind=WEBINAR), "Medium"),
    Route("POST", "/users/{userId}/webinars", partial(rest.create_meeting, kind=WEBINAR),
          "Light"),
    Route("GET", "/webinars/{webinarId}", partial(rest.get_meeting, kind=WEBINAR), "Light"),
    Route("PATCH", "/webinars/{webinarId}", partial(rest.patch_meeting, kind=WEBINAR), "Light"),
    Route("DELETE", "/webinars/{webinarId}", partial(rest.delete_meeting, kind=WEBINAR),
          "Light"),
    Route("GET", "/users/{userId}/recordings", rest.list_recordings, "Medium"),
    Route("GET", "/meetings/{meetingId}/recordings", rest.get_recording, "Light"),
    Route("DELETE", "/meetings/{meetingId}/recordings", rest.delete_recordings, "Light"),
    Route("DELETE", "/meetings/{meetingId}/recordings/{recordingId}",
          rest.delete_recording_file, "Light"),
    Route("PUT", "/meetings/{meetingId}/recordings/status", rest.recover_recordings, "Light"),
    Route("PUT", "/meetings/{meetingId}/recordings/{recordingId}/status",
          rest.recover_recording_file, "Light"),
    Route("GET", "/past_meetings/{meetingId}/participants", past.participants, "Medium"),
    Route("GET", "/past_meetings/{meetingId}/polls", past.polls, "Medium"),
    Route("GET", "/meetings/{meetingId}/registrants",
          partial(registrants.list_registrants, kind=MEETING), "Medium"),
    Route("POST", "/meetings/{meetingId}/registrants",
          partial(registrants.add_registrant, kind=MEETING), "Light"),
    Route("GET", "/meetings/{meetingId}/registrants/{registrantId}",
          partial(registrants.get_registrant, kind=MEETING), "Light"),
    Route("DELETE", "/meetings/{meetingId}/registrants/{registrantId}",
          partial(registrants.delete_registrant, kind=MEETING), "Light"),
    Route("GET", "/webinars/{webinarId}/registrants",
          partial(registrants.list_registrants, kind=WEBINAR), "Medium"),
    Route("POST", "/webinars/{webinarId}/registrants",
          partial(registrants.add_registrant, kind=WEBINAR), "Light"),
    Route("GET", "/webinars/{webinarId}/registrants/{registrantId}",
          partial(registrants.get_registrant, kind=WEBINAR), "Light"),
    Route("DELETE", "/webinars/{webinarId}/registrants/{registrantId}",
          partial(registrants.delete_registrant, kind=WEBINAR), "Light"),
    Route("GET", "/rec/download/{fileKey}", downloads.download),
    Route("HEAD", "/rec/download/{fileKey}", downloads.download),
    Route("GET", "/cdn/{fileKey}", downloads.cdn),
    Route("HEAD", "/cdn/{fileKey}", downloads.cdn),
]


def match(req):
    """(route, decoded path parameters), or (None, None)."""
    for route in ROUTES:
        if route.method == req.method:
            found = route.regex.fullmatch(req.path)
            if found:
                return route, {k: decode_param(v) for k, v in found.groupdict().items()}
    return None, None


def _authenticate(sim, req):
    if "access_token" in req.query:
        raise ApiError(401, 124, QUERY_TOKEN)
    token = req.bearer()
    problem = sim.tokens.problem(token) if token else "Invalid access token."
    if problem:
        raise ApiError(401, 124, problem)
    return token


def _rate_limited(sim, route, daily, retry_after=1):
    headers = sim.limiter.headers(route.category) if route.category else {}
    if daily:
        headers.update({"X-RateLimit-Type": "Daily-limit", "X-RateLimit-Remaining": "0",
                        "Retry-After": iso(next_midnight(utcnow()))})
    else:
        headers.update({"X-RateLimit-Type": "QPS", "Retry-After": str(retry_after)})
    return json_response(429, {"code": 429, "message": DAILY if daily else PER_SECOND}, headers)


def _serve(sim, req, route, fault):
    kind = fault["kind"] if fault else None
    if kind == "429":
        return _rate_limited(sim, route, daily=False, retry_after=fault["retry_after"])
    if kind == "429daily":
        return _rate_limited(sim, route, daily=True)
    if kind == "5xx":
        status = fault["status"]
        return json_response(status, {"code": status,
                                      "message": http.client.responses.get(status, "Error")})
    if kind == "html":  # Zoom's sign-in page with status 200, instead of the file
        return html_response(200, downloads.SIGN_IN_PAGE)
    if kind in ("empty_body", "json_body"):  # a 200 that is not the answer's JSON
        return Response(200, encode_text(fault.get("body", "")), content_type=JSON_TYPE)
    if kind == "expire_token":  # as if the presented token expired just now
        for token in (req.bearer(), req.query.get("access_token")):
            if token:
                sim.tokens.expire(token)
    if route.category:
        scopes.check(sim.tokens.scopes(_authenticate(sim, req)), route.name)
        if not sim.limiter.admit(route.category):
            return _rate_limited(sim, route, daily=False)
    req.fault = fault  # e.g. range_ignored, which the CDN handler applies
    with sim.pager.serving(route.name):  # a listing takes its paging fault, if any
        return route.handler(sim, req)


def respond(sim, req):
    """(route name, Response, transport fault or None) for one request."""
    route, params = match(req)
    fault = None
    if route is None:
        name, response = f"{req.method} ?", json_response(404, {"code": 404,
                                                               "message": "Not Found."})
    else:
        name, req.params = route.name, params
        fault = sim.faults.take(name) if route.faultable else None
        try:
            response = _serve(sim, req, route, fault)
        except ApiError as err:
            response = err.response()
        except Exception:  # a bug: say so loudly, answer like a server would
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, {"code": 500, "message": "Internal error."})
        if route.category:
            for header, value in sim.limiter.headers(route.category).items():
                response.headers.setdefault(header, value)
    response.headers["x-zm-trackingid"] = f"v=2.0;clid=us06;rid=WEB_{secrets.token_hex(16)}"
    transport = fault if fault and fault["kind"] in TRANSPORT else None
    return name, response, transport
