"""OAuth scopes: what each route needs, and Zoom's 400/4711 when a token lacks it.

Every /v2 route is satisfied by its classic scopes (those the spec names for the
operation; for a read, the matching write scope too, as Zoom's "view and manage" includes
"view") or by its one granular scope.  A token that has none of them gets
400 {"code":4711,"message":"Invalid access token, does not contain scopes:[…]."}, the
list in the token's own style: granular names if it carries any, else classic ones.
"""

import re

from .messages import ApiError

# What --scopes defaults to: the classic admin scopes of a Server-to-Server app.
DEFAULT = ("meeting:read:admin meeting:write:admin recording:read:admin recording:write:admin "
           "user:read:admin user:write:admin webinar:read:admin webinar:write:admin")

_CLASSIC = re.compile(r"[a-z_]+:(read|write)(:admin|:master)?")

_USER_R, _USER_W = ("user:read:admin", "user:read"), ("user:write:admin", "user:write")
_MEET_R, _MEET_W = ("meeting:read:admin", "meeting:read"), ("meeting:write:admin", "meeting:write")
_WEB_R, _WEB_W = ("webinar:read:admin", "webinar:read"), ("webinar:write:admin", "webinar:write")
_REC_R = ("recording:read:admin", "recording:read")
_REC_W = ("recording:write:admin", "recording:write")

# Route name -> (the classic scopes the spec names, the granular scope).
NEEDS = {
    "GET /users": (("user:read:admin",), "user:read:list_users:admin"),
    "POST /users": (("user:write:admin",), "user:write:user:admin"),
    "GET /users/{userId}": (_USER_R, "user:read:user:admin"),
    "PATCH /users/{userId}": (_USER_W, "user:update:user:admin"),
    "GET /users/{userId}/settings": (_USER_R, "user:read:settings:admin"),
    "PATCH /users/{userId}/settings": (_USER_W, "user:update:settings:admin"),
    "GET /users/{userId}/meetings": (_MEET_R, "meeting:read:list_meetings:admin"),
    "POST /users/{userId}/meetings": (_MEET_W, "meeting:write:meeting:admin"),
    "GET /meetings/{meetingId}": (_MEET_R, "meeting:read:meeting:admin"),
    "PATCH /meetings/{meetingId}": (_MEET_W, "meeting:update:meeting:admin"),
    "DELETE /meetings/{meetingId}": (_MEET_W, "meeting:delete:meeting:admin"),
    "GET /users/{userId}/webinars": (_WEB_R, "webinar:read:list_webinars:admin"),
    "POST /users/{userId}/webinars": (_WEB_W, "webinar:write:webinar:admin"),
    "GET /webinars/{webinarId}": (_WEB_R, "webinar:read:webinar:admin"),
    "PATCH /webinars/{webinarId}": (_WEB_W, "webinar:update:webinar:admin"),
    "DELETE /webinars/{webinarId}": (_WEB_W, "webinar:delete:webinar:admin"),
    "GET /users/{userId}/recordings": (_REC_R, "cloud_recording:read:list_user_recordings:admin"),
    "GET /meetings/{meetingId}/recordings": (
        _REC_R, "cloud_recording:read:list_recording_files:admin"),
    "DELETE /meetings/{meetingId}/recordings": (
        _REC_W, "cloud_recording:delete:meeting_recording:admin"),
    "DELETE /meetings/{meetingId}/recordings/{recordingId}": (
        _REC_W, "cloud_recording:delete:recording_file:admin"),
    "PUT /meetings/{meetingId}/recordings/status": (
        _REC_W, "cloud_recording:update:recover_meeting_recordings:admin"),
    "PUT /meetings/{meetingId}/recordings/{recordingId}/status": (
        _REC_W, "cloud_recording:update:recover_single_recording:admin"),
    "GET /past_meetings/{meetingId}/participants": (
        _MEET_R, "meeting:read:list_past_participants:admin"),
    "GET /past_meetings/{meetingId}/polls": (_MEET_R, "meeting:read:list_poll_results:admin"),
    "GET /meetings/{meetingId}/registrants": (_MEET_R, "meeting:read:list_registrants:admin"),
    "POST /meetings/{meetingId}/registrants": (_MEET_W, "meeting:write:registrant:admin"),
    "GET /meetings/{meetingId}/registrants/{registrantId}": (
        _MEET_R, "meeting:read:registrant:admin"),
    "DELETE /meetings/{meetingId}/registrants/{registrantId}": (
        _MEET_W, "meeting:delete:registrant:admin"),
    "GET /webinars/{webinarId}/registrants": (_WEB_R, "webinar:read:list_registrants:admin"),
    "POST /webinars/{webinarId}/registrants": (_WEB_W, "webinar:write:registrant:admin"),
    "GET /webinars/{webinarId}/registrants/{registrantId}": (
        _WEB_R, "webinar:read:registrant:admin"),
    "DELETE /webinars/{webinarId}/registrants/{registrantId}": (
        _WEB_W, "webinar:delete:registrant:admin"),
}

# A recording download (/rec/download) is allowed by what allows listing the files.
DOWNLOAD = (_REC_R, ("cloud_recording:read:list_recording_files:admin",
                     "cloud_recording:read:list_user_recordings:admin"))


def parse(text):
    """A scope string (space- or comma-separated) as a tuple, order kept, no repeats."""
    return tuple(dict.fromkeys(s for s in re.split(r"[\s,]+", text or "") if s))


def is_granular(scopes):
    return any(not _CLASSIC.fullmatch(s) for s in scopes)


def _classic(named):
    """named plus, for reads, the write scope; admin scopes first, write before read
    (Zoom's own order: "[user:write:admin, user:read:admin, user:read, user:write]")."""
    found = set(named) | {s.replace(":read", ":write") for s in named}
    return sorted(found, key=lambda s: (not s.endswith(":admin"),
                                        (":read" in s) == s.endswith(":admin")))


def accepted(classic, granular):
    """(classic list, granular tuple) of the scopes that satisfy a need."""
    return _classic(classic), (granular,) if isinstance(granular, str) else tuple(granular)


def allows(token_scopes, need):
    classic, granular = accepted(*need)
    return bool(set(token_scopes) & (set(classic) | set(granular)))


def check(token_scopes, route_name):
    """Raise Zoom's 400/4711 if a token with these scopes may not call the route."""
    need = NEEDS.get(route_name)
    if need is None or allows(token_scopes, need):
        return
    classic, granular = accepted(*need)
    listed = granular if is_granular(token_scopes) else classic
    raise ApiError(400, 4711, "Invalid access token, does not contain scopes:["
                   + ", ".join(listed) + "].")
