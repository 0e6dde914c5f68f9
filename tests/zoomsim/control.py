"""The control API under /_sim/: no auth, never counted, never logged, never faulted.
Errors have Zoom's shape, {"code": <HTTP status or Zoom code>, "message": ...}."""

import re

from . import past, registrants
from .clock import iso, parse_iso, utcnow
from .config import CHOICES, RUNTIME
from .messages import ApiError, ascii_json_response as json_response, no_content
from .recordings import FILE_TYPES, TRASH_TYPES
from .traffic import FaultError


def _bad(message):
    return ApiError(400, 400, message)


def account(sim, req):
    return json_response(200, sim.account.snapshot(req.query.get("user")))


def file_info(sim, req):
    rec = sim.account.file_by_key(req.params["key"])
    if rec is None:
        raise ApiError(404, 404, "No such file.")
    content = rec.content(sim.account.seed)
    return json_response(200, {"size": content.size, "sha256": content.sha256()})


def complete_file(sim, req):
    rendered = sim.account.complete_file(req.params["key"])
    if rendered is None:
        raise ApiError(404, 404, "No such file.")
    return json_response(200, rendered)


def trash_file(sim, req):
    """Put a file in the trash as if at deleted_time (default now)."""
    spec = req.json()
    when = spec.get("deleted_time", iso(utcnow()))
    trash_type = spec.get("trash_type", "recording_file")
    try:
        parse_iso(when)
    except ValueError:
        raise _bad("deleted_time must be yyyy-mm-ddThh:mm:ssZ") from None
    if trash_type not in TRASH_TYPES:
        raise _bad(f"trash_type must be one of {', '.join(TRASH_TYPES)}")
    rendered = sim.account.trash_file(req.params["key"], when, trash_type)
    if rendered is None:
        raise ApiError(404, 404, "No such file.")
    return json_response(200, rendered)


def counters(sim, req):
    return json_response(200, sim.journal.counters())


def concurrency(sim, req):
    return json_response(200, sim.journal.concurrency())


def reset(sim, req):
    sim.journal.reset()
    return no_content()


def log(sim, req):
    since = req.query.get("since", "0")
    if not (since.isascii() and since.isdigit()):
        raise _bad("since must be a sequence number")
    return json_response(200, sim.journal.entries(int(since)))


def faults(sim, req):
    return json_response(200, sim.faults.pending())


def add_fault(sim, req):
    try:
        return json_response(201, sim.faults.add(req.json()))
    except FaultError as err:
        raise _bad(str(err)) from None


def clear_faults(sim, req):
    sim.faults.clear()
    return no_content()


def expire_tokens(sim, req):
    sim.tokens.expire_all()
    return no_content()


def _whole(spec, name, default, low=0):
    value = spec.get(name, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < low):
        raise _bad(f"{name} must be an integer >= {low}")
    return value


def _file_spec(spec):
    if not isinstance(spec, dict) or spec.get("file_type") not in FILE_TYPES:
        raise _bad(f"each file needs a file_type among {', '.join(FILE_TYPES)}")
    clean = {"file_type": spec["file_type"], "processing": spec.get("processing", False)}
    if not isinstance(clean["processing"], bool):
        raise _bad("processing must be a boolean")
    if "recording_type" in spec:
        if not isinstance(spec["recording_type"], str):
            raise _bad("recording_type must be a string")
        clean["recording_type"] = spec["recording_type"]
    if "size" in spec:
        clean["size"] = _whole(spec, "size", 0)
    for name in ("download_url", "redirect"):
        if name in spec:
            clean[name] = _template(spec[name], name)
    return clean


def _template(value, name):
    """A URL template as RecFile.expand takes it ({base}, {scheme}, {authority}, {key})."""
    try:
        value.format(base="", scheme="", authority="", key="")
    except (AttributeError, KeyError, IndexError, ValueError):
        raise _bad(f"{name} must be a string with at most {{base}}, {{scheme}}, "
                   "{authority} and {key} in braces") from None
    return value


def add_recording(sim, req):
    """A new instance "as Zoom's portal would": see README for the body."""
    spec = req.json()
    try:
        start = parse_iso(spec.get("start_time"))
    except ValueError:
        raise _bad("start_time must be yyyy-mm-ddThh:mm:ssZ") from None
    topic = spec.get("topic", "Zoom Meeting")
    uuid = spec.get("uuid")
    if not isinstance(topic, str) or (uuid is not None and not (isinstance(uuid, str) and uuid)):
        raise _bad("topic and uuid must be strings")
    files = spec.get("files")
    if files is not None and not isinstance(files, list):
        raise _bad("files must be a list")
    people, polls = _whole(spec, "participants", 2), _whole(spec, "polls", 0)
    if people > past.MAX_PEOPLE:
        raise _bad(f"participants must be at most {past.MAX_PEOPLE}")
    rendered = sim.account.add_recording(
        req.params["userId"], topic, start, _whole(spec, "duration", 60, 1),
        _whole(spec, "id", None, 1), uuid, _whole(spec, "type", 2, 1),
        None if files is None else [_file_spec(f) for f in files], sim.config.file_size)
    past.add(sim.account, sim.account.instance(rendered["uuid"]), people, polls)
    return json_response(201, rendered)


def past_meetings(sim, req):
    return json_response(200, past.snapshot(sim.account))


def registrations(sim, req):
    return json_response(200, registrants.snapshot(sim.account))


def patch_user(sim, req):
    return json_response(200, sim.account.force_patch_user(req.params["userId"], req.json()))


def patch_meeting(sim, req):
    return json_response(200, sim.account.force_patch_meeting(req.params["meetingId"],
                                                              req.json()))


def _runtime(sim):
    return {name: getattr(sim.config, name) for name in RUNTIME}


def get_config(sim, req):
    return json_response(200, _runtime(sim))


def set_config(sim, req):
    body = req.json()
    for name, value in body.items():
        kind = RUNTIME.get(name)
        if kind is None:
            raise _bad(f"{name} cannot be changed; use one of {', '.join(RUNTIME)}")
        if type(value) is not kind or (kind is int and value < 0):
            expected = {int: "a non-negative integer", bool: "a boolean", str: "a string"}[kind]
            raise _bad(f"{name} must be {expected}")
        if value not in CHOICES.get(name, (value,)):
            raise _bad(f"{name} must be one of {', '.join(CHOICES[name])}")
    for name, value in body.items():
        setattr(sim.config, name, value)
    return json_response(200, _runtime(sim))


_ROUTES = [
    ("GET", "/_sim/account", account),
    ("GET", "/_sim/files/(?P<key>[^/]+)", file_info),
    ("POST", "/_sim/files/(?P<key>[^/]+)/complete", complete_file),
    ("POST", "/_sim/files/(?P<key>[^/]+)/trash", trash_file),
    ("GET", "/_sim/counters", counters),
    ("POST", "/_sim/reset", reset),
    ("GET", "/_sim/concurrency", concurrency),
    ("GET", "/_sim/log", log),
    ("GET", "/_sim/faults", faults),
    ("POST", "/_sim/faults", add_fault),
    ("DELETE", "/_sim/faults", clear_faults),
    ("POST", "/_sim/tokens/expire", expire_tokens),
    ("POST", "/_sim/users/(?P<userId>[^/]+)/recordings", add_recording),
    ("PATCH", "/_sim/meetings/(?P<meetingId>[^/]+)", patch_meeting),
    ("PATCH", "/_sim/users/(?P<userId>[^/]+)", patch_user),
    ("GET", "/_sim/past_meetings", past_meetings),
    ("GET", "/_sim/registrants", registrations),
    ("GET", "/_sim/config", get_config),
    ("POST", "/_sim/config", set_config),
]
_COMPILED = [(method, re.compile(pattern), handler) for method, pattern, handler in _ROUTES]


def handle(sim, req):
    for method, pattern, handler in _COMPILED:
        found = pattern.fullmatch(req.path)
        if found and method == req.method:
            req.params = found.groupdict()
            try:
                return handler(sim, req)
            except ApiError as err:
                return err.response()
    return ApiError(404, 404, "No such control endpoint.").response()
