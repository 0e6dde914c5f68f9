"""One occurrence of a recurring meeting or webinar: occurrence_id on GET, PATCH and
DELETE /meetings/{meetingId} (and /webinars/{webinarId}); and which occurrences a GET
shows (show_previous_occurrences).

Changes to one occurrence live in account.occurrence_edits (meeting or webinar id ->
occurrence id -> changed fields); Account._keep_occurrence_edits applies them again
whenever the series' occurrences are computed anew, so an occurrence keeps its own time
and its "deleted" status.
"""

import copy
from datetime import timedelta

from . import schema
from .account import _utc_start
from .clock import parse_iso, utcnow
from .messages import ApiError

# The settings the spec lets one occurrence change.
SETTINGS = {
    "meeting": ("host_video", "participant_video", "join_before_host", "mute_upon_entry",
                "waiting_room", "watermark", "auto_recording"),
    "webinar": ("host_video", "panelists_video", "hd_video", "watermark", "auto_recording"),
}


def _shape(kind):
    known = kind.schema["settings"]
    return {"agenda": schema.text(2000), "start_time": schema.is_start_time,
            "duration": schema.NON_NEGATIVE,
            "settings": {name: known.get(name, schema.is_bool) for name in SETTINGS[kind.noun]}}


def shown(meeting, query):
    """What a GET shows of a series' occurrences: those not over yet, or with
    show_previous_occurrences=true every one ("to view meeting details of all previous
    occurrences", as the spec words it). Changes meeting (a copy) and returns it."""
    if "occurrences" in meeting and query.get("show_previous_occurrences") != "true":
        now = utcnow()
        meeting["occurrences"] = [
            o for o in meeting["occurrences"]
            if parse_iso(o["start_time"]) + timedelta(minutes=o["duration"]) > now]
    return meeting


def _occurrence(meeting, occurrence_id, live=False):
    """The occurrence, or 400/3000; live: a deleted occurrence does not count."""
    found = next((o for o in meeting.get("occurrences", ())
                  if o["occurrence_id"] == occurrence_id), None)
    if found is None or (live and found["status"] == "deleted"):
        raise ApiError(400, 3000, "Invalid occurrence_id.")
    return found


def get(account, kind, ref, occurrence_id):
    """The meeting as that occurrence has it: its start_time and duration, and the agenda
    and settings changed for it."""
    with account.lock:
        meeting = account._lookup(kind, ref)[2]
        occurrence = _occurrence(meeting, occurrence_id)
        out = copy.deepcopy(meeting)
        edits = account.occurrence_edits.get(meeting["id"], {}).get(occurrence_id, {})
        out["start_time"], out["duration"] = occurrence["start_time"], occurrence["duration"]
        if "agenda" in edits:
            out["agenda"] = edits["agenda"]
        schema.merge(out["settings"], edits.get("settings", {}))
        return out


def _edits(account, meeting, occurrence_id):
    return account.occurrence_edits.setdefault(meeting["id"], {}).setdefault(occurrence_id, {})


def patch(account, kind, ref, occurrence_id, body):
    """Change one occurrence: agenda, start_time, duration and a few settings; any other
    field is ignored, as fields a schema does not name are."""
    with account.lock:
        meeting = account._lookup(kind, ref)[2]
        _occurrence(meeting, occurrence_id, live=True)
        fields = schema.check(body, _shape(kind))
        if "start_time" in fields:
            fields["start_time"] = _utc_start(fields["start_time"], meeting["timezone"])
        schema.merge(_edits(account, meeting, occurrence_id), fields)
        account._keep_occurrence_edits(meeting)


def delete(account, kind, ref, occurrence_id):
    """Cancel one occurrence: it stays in the list with status "deleted"."""
    with account.lock:
        meeting = account._lookup(kind, ref)[2]
        _occurrence(meeting, occurrence_id, live=True)
        _edits(account, meeting, occurrence_id)["status"] = "deleted"
        account._keep_occurrence_edits(meeting)
