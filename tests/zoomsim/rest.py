"""Handlers of the OAuth token endpoint and the /v2 REST API.

Each handler takes (sim, request) and returns a Response or raises ApiError; routing,
authentication, rate limits and faults happen before (routes.py).
"""

import re
from datetime import date, timedelta
from urllib.parse import parse_qsl

from . import occurrences, scopes
from .account import MEETING
from .recordings import TRASH_TYPES
from .auth import basic_credentials
from .clock import add_months, iso, utcnow
from .messages import invalid_parameter, json_response, no_content, validation_failed

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _oauth_error(reason, error):
    return json_response(400, {"reason": reason, "error": error})


def oauth_token(sim, req):
    """Server-to-Server OAuth: grant_type=account_credentials, in a form body or the query."""
    if req.headers.get("Content-Type", "").lower().startswith("application/json"):
        return _oauth_error("unsupported grant type", "unsupported_grant_type")
    config = sim.config
    if basic_credentials(req.headers.get("Authorization")) != (config.client_id,
                                                               config.client_secret):
        return _oauth_error("Invalid client_id or client_secret", "invalid_client")
    params = dict(req.query)
    params.update(parse_qsl(req.body.decode("utf-8", "replace")))
    if params.get("grant_type") != "account_credentials":
        return _oauth_error("unsupported grant type", "unsupported_grant_type")
    if params.get("account_id") != config.account_id:
        return _oauth_error("Bad Request", "invalid_request")
    granted = scopes.parse(config.scopes)
    token, lifetime = sim.tokens.issue(granted)
    return json_response(200, {"access_token": token, "token_type": "bearer",
                               "expires_in": lifetime, "scope": " ".join(granted),
                               "api_url": config.api_url or sim.base_url})


# ---- users -----------------------------------------------------------------------

def list_users(sim, req):
    status = req.query.get("status") or "active"
    if status not in ("active", "inactive", "pending"):
        raise invalid_parameter("status")
    users, paging = sim.pager.page(sim.account.list_users(status), req.query, ("users", status))
    return json_response(200, {**paging, "users": users})


def create_user(sim, req):
    return json_response(201, sim.account.create_user(req.json(), iso(utcnow())))


def get_user(sim, req):
    return json_response(200, sim.account.get_user(req.params["userId"]))


def patch_user(sim, req):
    sim.account.patch_user(req.params["userId"], req.json())
    return no_content()


def get_settings(sim, req):
    return json_response(200, sim.account.get_settings(req.params["userId"]))


def patch_settings(sim, req):
    sim.account.patch_settings(req.params["userId"], req.json())
    return no_content()


# ---- meetings and webinars (kind is MEETING or WEBINAR) ----------------------------

def list_meetings(sim, req, kind):
    ref = req.params["userId"]
    found = sim.account.list_meetings(kind, ref, req.query.get("type") or "scheduled")
    items, paging = sim.pager.page(found, req.query, (kind.attr, ref, req.query.get("type")))
    return json_response(200, {**paging, kind.attr: items})


def create_meeting(sim, req, kind):
    created = sim.account.create_meeting(kind, req.params["userId"], req.json())
    return json_response(201, created)


def _id_param(kind):
    return "meetingId" if kind is MEETING else "webinarId"


def get_meeting(sim, req, kind):
    ref, occurrence = req.params[_id_param(kind)], req.query.get("occurrence_id")
    if occurrence:
        meeting = occurrences.get(sim.account, kind, ref, occurrence)
    else:
        meeting = sim.account.get_meeting(kind, ref)
    return json_response(200, occurrences.shown(meeting, req.query))


def patch_meeting(sim, req, kind):
    ref, occurrence = req.params[_id_param(kind)], req.query.get("occurrence_id")
    if occurrence:
        occurrences.patch(sim.account, kind, ref, occurrence, req.json())
    else:
        sim.account.patch_meeting(kind, ref, req.json())
    return no_content()


def delete_meeting(sim, req, kind):
    ref, occurrence = req.params[_id_param(kind)], req.query.get("occurrence_id")
    if occurrence:
        occurrences.delete(sim.account, kind, ref, occurrence)
    else:
        sim.account.delete_meeting(kind, ref)
    return no_content()


# ---- recordings ----------------------------------------------------------------------

def _day(query, name):
    text = query.get(name, "")
    if not text:
        return None
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:  # e.g. 2024-13-01
            pass
    raise invalid_parameter(name)


def recording_window(query, today):
    """(from, to) as Zoom applies them.

    Defaults: to = tomorrow, from = the day before `to` (so no dates at all gives
    today..tomorrow, as the spec says).  A window longer than one month is silently
    narrowed to the month ending at `to`; the response's `from` shows it.
    """
    last = _day(query, "to") or today + timedelta(days=1)
    first = _day(query, "from") or last - timedelta(days=1)
    if first > last:
        raise invalid_parameter("from")
    return max(first, add_months(last, -1)), last


def list_recordings(sim, req):
    ref = req.params["userId"]
    trash = req.query.get("trash", "").lower() == "true"
    if trash:  # the trash cannot be filtered by date: from and to are ignored
        first, last = recording_window({}, utcnow().date())
        trash = req.query.get("trash_type") or TRASH_TYPES[0]
        if trash not in TRASH_TYPES:
            raise invalid_parameter("trash_type")
    else:
        first, last = recording_window(req.query, utcnow().date())
    meeting_id = req.query.get("meeting_id") or None
    if meeting_id is not None:
        if not (meeting_id.isascii() and meeting_id.isdigit()):
            raise invalid_parameter("meeting_id")
        meeting_id = int(meeting_id)
    found = sim.account.list_recordings(ref, first, last, trash, meeting_id)
    items, paging = sim.pager.page(found, req.query,
                                   ("recordings", ref, first, last, trash, meeting_id))
    del paging["page_number"]  # the recordings list has none
    return json_response(200, {"from": first.isoformat(), "to": last.isoformat(), **paging,
                               "meetings": items})


def get_recording(sim, req):
    return json_response(200, sim.account.get_recording(req.params["meetingId"]))


def delete_recordings(sim, req):
    sim.account.delete_recordings(req.params["meetingId"], req.query.get("action") or "trash")
    return no_content()


def delete_recording_file(sim, req):
    sim.account.delete_recording_file(req.params["meetingId"], req.params["recordingId"],
                                       req.query.get("action") or "trash")
    return no_content()


def recover_recordings(sim, req):
    if req.json().get("action") != "recover":
        raise validation_failed(["action"])
    sim.account.recover_recordings(req.params["meetingId"])
    return no_content()


def recover_recording_file(sim, req):
    if req.json().get("action") != "recover":
        raise validation_failed(["action"])
    sim.account.recover_recording_file(req.params["meetingId"], req.params["recordingId"])
    return no_content()
