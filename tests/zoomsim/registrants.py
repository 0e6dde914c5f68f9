"""Meeting and webinar registrants (/meetings/{id}/registrants, /webinars/{id}/registrants).

A meeting or webinar takes registrations while its settings.approval_type is 0 (approved at
once) or 1 (pending until the host decides); 2 means no registration, and each operation
then answers with the error the spec documents for it.  Registrants live in
account.registrants (meeting or webinar id -> list, in registration order); the keys that
start with "_" are ours and never sent.
"""

import base64
import random
import unicodedata
from datetime import timedelta

from . import schema
from .account import MEETING, WEBINAR
from .clock import iso, parse_iso, utcnow
from .messages import ApiError, invalid_parameter, json_response, no_content, validation_failed
from .past import GUEST_FIRST, GUEST_LAST

STATUSES = ("approved", "pending", "denied")
TEXT_FIELDS = ("address", "city", "country", "zip", "state", "phone", "industry", "org",
               "job_title", "purchasing_time_frame", "role_in_purchase_process",
               "no_of_employees", "comments")
REQUIRED = ("email", "first_name")


def _custom_questions(value):
    return schema.is_list(value) and all(
        isinstance(q, dict) and schema.is_str(q.get("title", ""))
        and schema.text(128)(q.get("value", "")) for q in value)


BODY = {
    "first_name": schema.text(64),
    "last_name": schema.text(64),
    "email": lambda v: schema.text(128)(v) and schema.matches(r"[^@\s]+@[^@\s]+\.[^@\s]+")(v),
    **{name: schema.is_str for name in ("address", "city", "state", "zip", "country", "phone",
                                        "comments", "industry", "job_title", "org")},
    "custom_questions": _custom_questions,
    # The request's enum, which differs from the one the spec gives for responses.
    "no_of_employees": schema.one_of("", "1-20", "21-50", "51-100", "101-500", "500-1,000",
                                     "1,001-5,000", "5,001-10,000", "More than 10,000"),
    "purchasing_time_frame": schema.one_of("", "Within a month", "1-3 months", "4-6 months",
                                           "More than 6 months", "No timeframe"),
    "role_in_purchase_process": schema.one_of("", "Decision Maker", "Evaluator/Recommender",
                                              "Influencer", "Not involved"),
    "language": schema.one_of("en-US", "de-DE", "es-ES", "fr-FR", "jp-JP", "pt-PT", "ru-RU",
                              "zh-CN", "zh-TW", "ko-KO", "it-IT", "vi-VN", "pl-PL", "Tr-TR"),
}
MEETING_BODY = {**BODY, "auto_approve": schema.is_bool}

# What each operation answers when registration is off, as the spec words it per operation
# (the webinar list and get are not documented: they answer like the meeting ones).
NOT_ENABLED = {
    ("meeting", "list"): (400, 300, "This meeting has not set registration as required: {}."),
    ("meeting", "get"): (400, 300, "This meeting has not set required registration: {}."),
    ("meeting", "add"): (404, 404, "Registration has not been enabled for this meeting: {}."),
    ("meeting", "delete"): (400, 404, "Registration has not been enabled for this meeting: {}."),
    ("webinar", "list"): (400, 300, "This webinar has not set registration as required: {}."),
    ("webinar", "get"): (400, 300, "This webinar has not set required registration: {}."),
    ("webinar", "add"): (400, 3000, "This webinar does not have registration as required: {}."),
    ("webinar", "delete"): (400, 404, "Registration has not been enabled for this webinar: {}."),
}


def _id_param(kind):
    return "meetingId" if kind is MEETING else "webinarId"


def _registering(account, kind, ref, operation):
    """The meeting or webinar, if it takes registrations; else the documented error."""
    meeting = account._lookup(kind, ref)[2]
    if meeting.get("settings", {}).get("approval_type") not in (0, 1):
        status, code, message = NOT_ENABLED[(kind.noun, operation)]
        raise ApiError(status, code, message.format(meeting["id"]))
    return meeting


def _occurrence_ids(meeting):
    return [o["occurrence_id"] for o in meeting.get("occurrences", ())]


def _render(kind, reg, listed=False):
    out = {k: v for k, v in reg.items() if not k.startswith("_")}
    if reg["status"] != "approved":
        del out["join_url"]  # only an approved registrant can join
    # The spec has a webinar registrant's language in its GET, not in the list.
    if kind is WEBINAR and reg.get("_language") and not listed:
        out["language"] = reg["_language"]
    return out


def _find(account, meeting, registrant_id):
    reg = next((r for r in account.registrants.get(meeting["id"], ())
                if r["id"] == registrant_id), None)
    if reg is None:
        raise ApiError(400, 3000, f"Registrant {registrant_id} was not found.")
    return reg


def new_registrant(account, meeting, fields, status, created, occurrences=None):
    """Store a registrant: fields are the checked body fields."""
    def token(nbytes):
        return base64.urlsafe_b64encode(account.registrant_rng.randbytes(nbytes)) \
            .decode().rstrip("=")

    reg = {"id": token(16), "first_name": fields["first_name"],
           "last_name": fields.get("last_name", ""), "email": fields["email"]}
    reg.update({name: fields.get(name, "") for name in TEXT_FIELDS})
    reg.update({"custom_questions": fields.get("custom_questions", []), "status": status,
                "create_time": iso(created),
                "join_url": f"https://zoom.us/w/{meeting['id']}?tk={token(32)}",
                "_occurrences": occurrences, "_language": fields.get("language")})
    account.registrants.setdefault(meeting["id"], []).append(reg)
    return reg


# ---- the API --------------------------------------------------------------------------

def list_registrants(sim, req, kind):
    status = req.query.get("status") or "approved"
    if status not in STATUSES:
        raise invalid_parameter("status")
    account = sim.account
    with account.lock:
        meeting = _registering(account, kind, req.params[_id_param(kind)], "list")
        occurrence = req.query.get("occurrence_id") or None
        if occurrence is not None and occurrence not in _occurrence_ids(meeting):
            raise ApiError(400, 3000, "Invalid occurrence_id.")
        found = [_render(kind, r, listed=True) for r in account.registrants.get(meeting["id"], ())
                 if r["status"] == status and (occurrence is None or r["_occurrences"] is None
                                               or occurrence in r["_occurrences"])]
    items, paging = sim.pager.page(found, req.query,
                                   ("registrants", meeting["id"], status, occurrence))
    return json_response(200, {**paging, "registrants": items})


def _checked(body, shape):
    """The body's known fields, or 400/300 naming the bad and the missing ones."""
    missing = [name for name in REQUIRED if name not in body]
    try:
        fields = schema.check(body, shape)
    except ApiError as err:
        err.errors.extend({"field": name, "message": "Invalid field."} for name in missing)
        raise
    if missing:
        raise validation_failed(missing)
    return fields


def add_registrant(sim, req, kind):
    account = sim.account
    body = req.json()
    with account.lock:
        meeting = _registering(account, kind, req.params[_id_param(kind)], "add")
        fields = _checked(body, MEETING_BODY if kind is MEETING else BODY)
        wanted = req.query.get("occurrence_ids")
        occurrences = None  # all of them
        if wanted is not None:
            occurrences = [o for o in wanted.split(",") if o]
            if not occurrences or any(o not in _occurrence_ids(meeting) for o in occurrences):
                raise invalid_parameter("occurrence_ids")
        if kind is WEBINAR:
            if fields["email"].lower() == meeting["host_email"].lower():
                raise ApiError(400, 3027, "Host cannot register.")
            if meeting["type"] == 5 and _ended(meeting):
                raise ApiError(400, 3038, "Webinar is over, you cannot register now. If you "
                               "have any questions, contact the webinar host.")
        reg = next((r for r in account.registrants.get(meeting["id"], ())
                    if r["email"].lower() == fields["email"].lower()), None)
        if reg is None:  # registering again gives the same registration
            auto = meeting["settings"]["approval_type"] == 0 or fields.get("auto_approve")
            reg = new_registrant(account, meeting, fields, "approved" if auto else "pending",
                                 utcnow(), occurrences)
        # The spec types the id as an integer for meetings, a string for webinars.
        out = {"id": meeting["id"] if kind is MEETING else str(meeting["id"]),
               "join_url": reg["join_url"], "registrant_id": reg["id"],
               "start_time": meeting.get("start_time", ""), "topic": meeting["topic"]}
        if reg["status"] != "approved":
            del out["join_url"]
        if "occurrences" in meeting:
            out["occurrences"] = [o for o in meeting["occurrences"]
                                  if reg["_occurrences"] is None
                                  or o["occurrence_id"] in reg["_occurrences"]]
    return json_response(201, out)


def _ended(meeting):
    end = parse_iso(meeting["start_time"]) + timedelta(minutes=meeting["duration"])
    return end < utcnow()


def get_registrant(sim, req, kind):
    account = sim.account
    with account.lock:
        meeting = _registering(account, kind, req.params[_id_param(kind)], "get")
        return json_response(200, _render(kind, _find(account, meeting,
                                                      req.params["registrantId"])))


def delete_registrant(sim, req, kind):
    """Without occurrence_id the registration goes; with one, only that occurrence."""
    account = sim.account
    with account.lock:
        meeting = _registering(account, kind, req.params[_id_param(kind)], "delete")
        reg = _find(account, meeting, req.params["registrantId"])
        occurrence = req.query.get("occurrence_id") or None
        if occurrence is not None:
            if occurrence not in _occurrence_ids(meeting):
                raise ApiError(400, 3000, "Invalid occurrence_id.")
            left = [o for o in (reg["_occurrences"] or _occurrence_ids(meeting))
                    if o != occurrence]
            reg["_occurrences"] = left
            if left:
                return no_content()
        account.registrants[meeting["id"]].remove(reg)
    return no_content()


# ---- seeding and the control API ------------------------------------------------------

def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


PLACES = (("CH", "Zürich", "ZH", "8001"), ("US", "Mountain View", "CA", "94045"),
          ("JP", "Tokyo", "", "100-0001"), ("DE", "Berlin", "BE", "10115"),
          ("GB", "London", "", "EC1A 1BB"))
# (user index, meeting or webinar, position in the user's list, approval_type,
#  how many approved, pending and denied registrants)
SEEDED = ((0, MEETING, 0, 1, (3, 2, 1)), (0, MEETING, 1, 0, (35, 0, 0)),
          (1, MEETING, 0, 0, (3, 0, 0)), (0, WEBINAR, 0, 0, (5, 0, 0)),
          (0, WEBINAR, 1, 1, (1, 2, 1)))


def seed(account):
    """Registration on a few meetings and webinars (see README), with registrants."""
    rng = random.Random(f"{account.seed}:registrant-people")
    for user_index, kind, position, approval, counts in SEEDED:
        if user_index >= len(account.users):
            continue
        found = list(getattr(account.users[user_index], kind.attr).values())
        if position >= len(found):
            continue
        meeting = found[position]
        meeting["settings"]["approval_type"] = approval
        created = parse_iso(meeting["created_at"])
        statuses = [s for s, n in zip(STATUSES, counts) for _ in range(n)]
        for k, pick in enumerate(rng.sample(range(len(GUEST_FIRST) * len(GUEST_LAST)),
                                            len(statuses))):
            first = GUEST_FIRST[pick % len(GUEST_FIRST)]
            last = GUEST_LAST[pick // len(GUEST_FIRST)]
            country, city, state, zipcode = PLACES[pick % len(PLACES)]
            fields = {"first_name": first, "last_name": last,
                      "email": f"{_ascii(first)}.{_ascii(last)}@example.org",
                      "country": country, "city": city, "state": state, "zip": zipcode,
                      "org": "Example Partners" if k % 2 else "", "job_title":
                      ("Engineer", "Designer", "Director")[k % 3] if k % 3 else ""}
            if k == 0:
                fields["custom_questions"] = [{"title": "What do you hope to learn?",
                                               "value": "How the Zürich team works."}]
                fields["comments"] = "Looking forward to it."
            moment = min(created + (k + 1) * (utcnow() - created) / 40, utcnow())
            new_registrant(account, meeting, fields, statuses[k], moment)


def snapshot(account):
    """The control API's view: meeting or webinar id -> registrants, all statuses, with
    "_occurrences" (null: all of them)."""
    with account.lock:
        return {str(mid): [{k: v for k, v in r.items() if k != "_language"} for r in regs]
                for mid, regs in account.registrants.items()}
