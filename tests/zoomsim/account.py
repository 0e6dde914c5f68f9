"""The account's state (users, settings, meetings, webinars, recordings) and every
operation the API and the control API perform on it.  One lock guards it all; public
methods take it and return copies, so callers never share mutable state.
"""

import base64
import copy
import functools
import random
import re
import threading
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from . import defaults, schema
from .clock import add_months, iso, parse_iso, utcnow
from .messages import (ApiError, invalid_parameter, no_recording, user_not_found,
                       validation_failed)
from .recordings import FILE_TYPES, TEXT_SIZES, WITHOUT_ID, Instance, RecFile

TRASH_DAYS = 30  # trashed recordings can be recovered this long, then they are gone

USER_LIST_FIELDS = (
    "id", "first_name", "last_name", "display_name", "email", "type", "pmi", "timezone",
    "verified", "dept", "created_at", "last_login_time", "last_client_version", "language",
    "status", "role_id", "group_ids", "im_group_ids",
)
_LISTED = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone",
           "agenda", "created_at", "join_url")


@dataclass(frozen=True)
class Kind:
    """What differs between meetings and webinars."""
    noun: str
    attr: str  # the User attribute that holds them
    default_type: int
    recurring: int  # recurring with fixed times: has occurrences
    list_types: tuple  # accepted values of the list's `type` query
    schema: dict
    settings: object  # () -> default settings object
    list_fields: tuple

    def not_found(self, ref):
        if self.noun == "meeting":
            return ApiError(404, 3001, f"Meeting {ref} is not found or has expired.")
        return ApiError(404, 3001, f"Webinar {ref} not found or has expired.")


MEETING = Kind("meeting", "meetings", 2, 8,
               ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings"),
               schema.MEETING, defaults.meeting_settings, _LISTED)
WEBINAR = Kind("webinar", "webinars", 5, 9, ("scheduled", "upcoming"),
               schema.WEBINAR, defaults.webinar_settings, _LISTED + ("is_simulive",))


class User:
    def __init__(self, index, fields, settings):
        self.index = index
        self.fields = fields  # the object GET /users/{userId} returns
        self.settings = settings
        self.meetings = {}  # id -> meeting object, in creation order
        self.webinars = {}
        self.instances = []  # recording instances

    @property
    def id(self):
        return self.fields.get("id")  # pending users have none

    @property
    def email(self):
        return self.fields["email"]

    @property
    def status(self):
        return self.fields["status"]

    @property
    def webinar_enabled(self):
        return self.settings["feature"]["webinar"]


def _locked(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)
    return wrapper


def _numeric(ref):
    return ref.isascii() and ref.isdigit()


def _meeting_key(ref):
    """Meeting ids are integers; the hostile data's string ids are found as they are."""
    return int(ref) if _numeric(ref) else ref


def _utc_start(value, tz):
    """A request start_time as UTC: "…Z" is UTC, anything else is local to tz."""
    if value.endswith("Z"):
        return value
    local = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=ZoneInfo(tz))
    return iso(local)


def _zoom_weekday(moment):
    return str((moment.weekday() + 1) % 7 + 1)  # Zoom: 1 = Sunday … 7 = Saturday


def _occurrences(meeting):
    """Occurrences from start_time, recurrence type and interval (at most 50, as Zoom)."""
    rec = meeting["recurrence"]
    start = parse_iso(meeting["start_time"])
    step = rec["repeat_interval"]
    until = parse_iso(rec["end_date_time"]) if "end_date_time" in rec else None
    count = 50 if until else min(rec["end_times"], 50)
    out = []
    for i in range(count):
        if rec["type"] == 3:
            moment = add_months(start, i * step)
        else:
            moment = start + timedelta(days=i * step * (7 if rec["type"] == 2 else 1))
        if until and moment > until:
            break
        out.append({"occurrence_id": str(int(moment.timestamp()) * 1000),
                    "start_time": iso(moment), "duration": meeting["duration"],
                    "status": "available"})
    return out


class Account:
    def __init__(self, account_id, seed):
        self.lock = threading.RLock()
        self.account_id = account_id
        self.seed = seed
        self.base_url = ""  # set once the server listens; used in download URLs
        self.rng = random.Random(seed)  # every id and size comes from here: reproducible
        self.users = []
        self._user_index = {}  # id and lower-case email -> User
        self._meetings = {}  # meeting or webinar id -> (Kind, User, object)
        self._instances = {}  # uuid -> Instance
        self._owners = {}  # uuid -> User
        self._files = {}  # file key -> RecFile
        self._trashed = {}  # file key -> RecFile, for the files in the trash
        self._ids = set()  # every meeting id handed out, never reused
        self.past_meetings = {}  # uuid -> past.PastMeeting
        self.registrants = {}  # meeting or webinar id -> [registrant] (registrants.py)
        self.registrant_rng = random.Random(f"{seed}:registrants")
        self.occurrence_edits = {}  # meeting or webinar id -> {occurrence id: changes}

    # ---- identifiers -------------------------------------------------------------

    def new_meeting_id(self):
        while True:
            candidate = self.rng.randrange(10**10, 10**11)  # 11 digits, an int64
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def new_uuid(self):
        return base64.b64encode(self.rng.randbytes(16)).decode()  # may hold '/' and '+'

    def new_token(self, nbytes=24):
        return base64.urlsafe_b64encode(self.rng.randbytes(nbytes)).decode().rstrip("=")

    def digits(self, count):
        return "".join(str(self.rng.randrange(10)) for _ in range(count))

    def new_file_uid(self):
        """A version 4 UUID, as a number (RecFile.id makes it text)."""
        return uuidlib.UUID(int=self.rng.getrandbits(128), version=4).int

    # ---- users and settings ------------------------------------------------------

    def add_user(self, fields, settings):
        user = User(len(self.users), fields, settings)
        self.users.append(user)
        if user.id:
            self._user_index[user.id] = user
        self._user_index[user.email.lower()] = user
        return user

    def user(self, ref):
        """Resolve a userId path parameter: an id, an email or "me" (user 0, the owner)."""
        if ref == "me" and self.users:
            return self.users[0]
        user = self._user_index.get(ref) or self._user_index.get(ref.lower())
        if user is None:
            raise user_not_found(ref)
        return user

    def member(self, ref):
        """A user that is not pending: invited users (no id yet) have no settings,
        meetings, webinars or recordings; Zoom answers 404/1001 for them."""
        user = self.user(ref)
        if user.status == "pending":
            raise user_not_found(ref)
        return user

    @_locked
    def list_users(self, status):
        # The listed values are strings, numbers and lists of strings: copying the lists
        # is a deep copy, at a fraction of deepcopy's cost for 10,000 users.
        return [{k: (v[:] if isinstance(v, list) else v)
                 for k, v in ((k, u.fields[k]) for k in USER_LIST_FIELDS if k in u.fields)}
                for u in self.users if u.status == status]

    @_locked
    def create_user(self, body, now_iso):
        """POST /users: an invited user, pending until they accept (no id in
        listings yet, as on Zoom); the 201 answer carries the id to come."""
        if not isinstance(body, dict):
            raise ApiError(400, 300, "Request Body should be a valid JSON object.")
        info = body.get("user_info")
        bad = []
        if body.get("action") not in ("create", "autoCreate", "custCreate", "ssoCreate"):
            bad.append("action")
        if not isinstance(info, dict):
            raise validation_failed(bad + ["user_info"])
        email = info.get("email")
        if not isinstance(email, str) or not re.fullmatch(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+", email) \
                or len(email) > 128:
            bad.append("user_info.email")
        if info.get("type") not in (1, 2, 3, 99):
            bad.append("user_info.type")
        for name in ("first_name", "last_name"):
            if name in info and (not isinstance(info[name], str) or len(info[name]) > 64):
                bad.append("user_info." + name)
        if bad:
            raise validation_failed(bad)
        if email.lower() in self._user_index:
            raise ApiError(409, 1005, f'Email "{email}" has already been used.')
        first, last = info.get("first_name", ""), info.get("last_name", "")
        fields = {"first_name": first, "last_name": last,
                  "display_name": f"{first} {last}".strip(), "email": email,
                  "type": info["type"], "role_name": "Member", "role_id": "2",
                  "timezone": "UTC", "verified": 0, "dept": "", "created_at": now_iso,
                  "language": "en-US", "status": "pending", "account_id": self.account_id,
                  "group_ids": [], "im_group_ids": [], "phone_numbers": [], "pic_url": ""}
        user = self.add_user(fields, defaults.user_settings(webinar=False))
        future_id = self.new_token(16)
        self._user_index[future_id] = user
        return {"id": future_id, "email": email, "first_name": first, "last_name": last,
                "type": info["type"]}

    @_locked
    def get_user(self, ref):
        fields = copy.deepcopy(self.user(ref).fields)
        if fields.get("status") == "pending":
            fields["created_at"] = iso(utcnow())  # "reflects the time of the call"
        return fields

    @_locked
    def patch_user(self, ref, body):
        user = self.user(ref)
        schema.merge(user.fields, schema.check(body, schema.USER))
        fields = user.fields
        fields["display_name"] = f"{fields['first_name']} {fields['last_name']}".strip()

    @_locked
    def force_patch_user(self, ref, fields):
        """The control API's change "from outside": any field, unchecked, except those
        the indexes rely on; display_name follows the names unless given."""
        user = self.user(ref)
        fixed = [k for k in ("id", "email", "status")
                 if k in fields and fields[k] != user.fields.get(k)]
        if fixed:
            raise ApiError(400, 400, f"{', '.join(fixed)} cannot change here.")
        schema.merge(user.fields, fields)
        if "display_name" not in fields:
            user.fields["display_name"] = (f"{user.fields.get('first_name', '')} "
                                           f"{user.fields.get('last_name', '')}").strip()
        return copy.deepcopy(user.fields)

    @_locked
    def get_settings(self, ref):
        return copy.deepcopy(self.member(ref).settings)

    @_locked
    def patch_settings(self, ref, body):
        user = self.member(ref)
        shape = schema.shaped_like(user.settings, schema.SETTINGS_ENUMS)
        schema.merge(user.settings, schema.check(body, shape))

    # ---- meetings and webinars ---------------------------------------------------

    def _require_plan(self, kind, user):
        if kind is WEBINAR and not user.webinar_enabled:
            ref = user.id or user.email
            raise ApiError(400, 200, "Subscription plan for webinar is missing. Enable webinar "
                           f"for this user once the subscription plan is added:{ref}.")

    def _lookup(self, kind, ref):
        entry = self._meetings.get(_meeting_key(ref))
        if entry is None or entry[0] is not kind:
            raise kind.not_found(ref)
        return entry

    @staticmethod
    def _listed(kind, meeting, list_type, now):
        if meeting["type"] == 1:
            return False  # instant meetings are never listed
        if list_type == "scheduled":
            return True
        if list_type == "live":
            return meeting.get("status") == "started"
        ended = (meeting["type"] in (2, 5) and parse_iso(meeting["start_time"])
                 + timedelta(minutes=meeting["duration"]) < now)
        return ended if list_type == "previous_meetings" else not ended

    @_locked
    def list_meetings(self, kind, ref, list_type):
        user = self.member(ref)
        self._require_plan(kind, user)
        if list_type not in kind.list_types:
            raise invalid_parameter("type")
        now = utcnow()
        out = []
        for meeting in getattr(user, kind.attr).values():
            if self._listed(kind, meeting, list_type, now):
                item = {k: meeting[k] for k in kind.list_fields if k in meeting}
                item["agenda"] = item["agenda"][:250]  # Zoom truncates agendas in lists
                out.append(item)
        return out

    def new_meeting(self, kind, user, fields, created, mid=None):
        """Create a meeting or webinar from checked fields over Zoom's defaults."""
        mid = self.new_meeting_id() if mid is None else mid
        passcode = self.digits(6)
        meeting = {
            "uuid": self.new_uuid(),
            "id": mid,
            "host_id": user.id,
            "host_email": user.email,
            "topic": f"Zoom {kind.noun.title()}",
            "type": kind.default_type,
            "status": "waiting",
            "start_time": iso(created),
            "duration": 60,
            "timezone": user.fields["timezone"],
            "agenda": "",
            "created_at": iso(created),
            "start_url": f"https://zoom.us/s/{mid}?zak={self.new_token(32)}",
            "join_url": f"https://zoom.us/j/{mid}?pwd={self.new_token(16)}",
            "password": passcode,
            "h323_password": passcode,
            "pstn_password": passcode,
            "encrypted_password": self.new_token(24),
            "settings": kind.settings(),
        }
        meeting["pre_schedule" if kind is MEETING else "is_simulive"] = False
        self._apply(kind, meeting, fields)
        getattr(user, kind.attr)[mid] = meeting
        self._meetings[mid] = (kind, user, meeting)
        return meeting

    def _apply(self, kind, meeting, fields):
        """Merge checked fields into a meeting, then keep its schedule consistent."""
        tz = fields.get("timezone", meeting["timezone"])
        if "start_time" in fields:
            fields["start_time"] = _utc_start(fields["start_time"], tz)
        if "end_date_time" in fields.get("recurrence", {}):
            fields["recurrence"]["end_date_time"] = _utc_start(
                fields["recurrence"]["end_date_time"], tz)
        schema.merge(meeting, fields)
        self._reschedule(kind, meeting)
        self._keep_occurrence_edits(meeting)

    @staticmethod
    def _reschedule(kind, meeting):
        if meeting["type"] == 1:
            meeting.pop("start_time", None)  # instant meetings have no start_time
        else:
            meeting.setdefault("start_time", meeting["created_at"])
        if meeting["type"] != kind.recurring:
            meeting.pop("recurrence", None)
            meeting.pop("occurrences", None)
            return
        rec = meeting.setdefault("recurrence", {})
        rec.setdefault("type", 2)
        rec.setdefault("repeat_interval", 1)
        if rec["type"] == 2:
            rec.setdefault("weekly_days", _zoom_weekday(parse_iso(meeting["start_time"])))
        if "end_date_time" not in rec:
            rec.setdefault("end_times", 7)
        meeting["occurrences"] = _occurrences(meeting)

    def _keep_occurrence_edits(self, meeting):
        """Put back what was changed for single occurrences (occurrences.py) once a
        series' occurrences are computed again: their own time and "deleted" status."""
        edits = self.occurrence_edits.get(meeting.get("id"), {})
        for occurrence in meeting.get("occurrences", ()):
            for key, value in edits.get(occurrence["occurrence_id"], {}).items():
                if key in ("start_time", "duration", "status"):
                    occurrence[key] = value

    @_locked
    def create_meeting(self, kind, ref, body):
        user = self.member(ref)
        self._require_plan(kind, user)
        fields = schema.check(body, kind.schema)
        return copy.deepcopy(self.new_meeting(kind, user, fields, utcnow()))

    @_locked
    def get_meeting(self, kind, ref):
        return copy.deepcopy(self._lookup(kind, ref)[2])

    @_locked
    def patch_meeting(self, kind, ref, body):
        meeting = self._lookup(kind, ref)[2]
        self._apply(kind, meeting, schema.check(body, kind.schema))

    @_locked
    def delete_meeting(self, kind, ref):
        _, user, meeting = self._lookup(kind, ref)
        del getattr(user, kind.attr)[meeting["id"]]
        del self._meetings[meeting["id"]]

    @_locked
    def force_patch_meeting(self, ref, fields):
        """The control API's change "from outside": any field, no checks beyond what
        keeps the object usable (a recurring meeting's schedule must still compute)."""
        entry = self._meetings.get(_meeting_key(ref))
        if entry is None:
            raise MEETING.not_found(ref)
        kind, _, meeting = entry
        if fields.get("id", meeting["id"]) != meeting["id"]:
            raise ApiError(400, 400, "A meeting's id cannot change.")
        changed = schema.merge(copy.deepcopy(meeting), fields)
        try:
            self._reschedule(kind, changed)
            self._keep_occurrence_edits(changed)
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, 400, "The change leaves the meeting's schedule unusable.") from None
        meeting.clear()
        meeting.update(changed)
        return copy.deepcopy(meeting)

    # ---- recordings --------------------------------------------------------------

    def add_instance(self, user, topic, start, duration, meeting_id=None, uuid=None,
                     meeting_type=2):
        if uuid in self._instances:
            raise ApiError(409, 409, f"Instance {uuid} already exists.")
        inst = Instance(
            uuid=uuid or self.new_uuid(),
            meeting_id=meeting_id or self.new_meeting_id(),
            host_id=user.id,
            topic=topic,
            type=meeting_type,
            start=start,
            duration=duration,
            timezone=user.fields["timezone"],
            share_token=self.new_token(32),
            password=self.digits(6),
            play_passcode=self.new_token(24),
        )
        self._ids.add(inst.meeting_id)
        user.instances.append(inst)
        self._instances[inst.uuid] = inst
        self._owners[inst.uuid] = user
        return inst

    def add_file(self, inst, file_type, start, end, size, recording_type=None,
                 processing=False, file_name=None, **where):
        """where: url, redirect, path (see RecFile)."""
        rec = RecFile(
            key=self.new_token(),
            file_type=file_type,
            recording_type=recording_type or FILE_TYPES[file_type][1],
            start=start,
            end=end,
            size=size,
            uid=None if file_type in WITHOUT_ID else self.new_file_uid(),
            processing=processing,
            file_name=file_name,
            **where,
        )
        rec.instance = inst
        (inst.files if file_name is None else inst.participant_files).append(rec)
        self._files[rec.key] = rec
        return rec

    def default_size(self, file_type, file_size):
        """MP4s are file_size, M4As an eighth of it, text files a few KB."""
        if file_type == "MP4":
            return file_size
        if file_type == "M4A":
            return max(1, file_size // 8)
        low, high = TEXT_SIZES[file_type]
        return self.rng.randrange(low, high)

    def add_text_files(self, inst, start, end):
        for file_type in TEXT_SIZES:
            self.add_file(inst, file_type, start, end, self.default_size(file_type, 0))

    def add_default_files(self, inst, file_size):
        """What a plain cloud recording holds: MP4, M4A, transcript, chat, CC, timeline."""
        start, end = inst.start, inst.start + timedelta(minutes=inst.duration)
        self.add_file(inst, "MP4", start, end, file_size)
        self.add_file(inst, "M4A", start, end, self.default_size("M4A", file_size))
        self.add_text_files(inst, start, end)

    @_locked
    def add_recording(self, ref, topic, start, duration, meeting_id, uuid, meeting_type,
                      files, file_size):
        """The control API's new instance; files None means the default set."""
        inst = self.add_instance(self.member(ref), topic, start, duration, meeting_id, uuid,
                                 meeting_type)
        if files is None:
            self.add_default_files(inst, file_size)
        end = start + timedelta(minutes=duration)
        for spec in files or ():
            file_type = spec["file_type"]
            size = spec["size"] if "size" in spec else self.default_size(file_type, file_size)
            self.add_file(inst, file_type, start, end, size, spec.get("recording_type"),
                          spec.get("processing", False), url=spec.get("download_url"),
                          redirect=spec.get("redirect"))
        return self._render(inst, internal=True)

    @_locked
    def instance(self, uuid):
        """The Instance with this UUID, or None."""
        return self._instances.get(uuid)

    def _render(self, inst, **how):
        return inst.render(self.base_url, self.account_id, **how)

    def _trash(self, rec, deleted_time, trash_type):
        """Put a file in the trash (deleted_time None: take it out)."""
        rec.deleted_time, rec.trash_type = deleted_time, trash_type
        if deleted_time is None:
            self._trashed.pop(rec.key, None)
        else:
            self._trashed[rec.key] = rec

    def _purge(self):
        """Files in the trash for more than TRASH_DAYS are deleted for good (only the
        trashed files are looked at: big accounts hold millions of files)."""
        cutoff = utcnow() - timedelta(days=TRASH_DAYS)
        for rec in list(self._trashed.values()):
            if parse_iso(rec.deleted_time) < cutoff:
                self._drop(rec.instance, rec)

    @_locked
    def list_recordings(self, ref, first, last, trash, meeting_id=None):
        """Instances of one user with files in the given state, newest first.

        trash: False, or the trash_type listed.  Normal listings filter on the
        instance's UTC start date; trash listings ignore the dates, as Zoom's do.
        """
        self._purge()
        found = [i for i in self.member(ref).instances
                 if i.has_files(trash)
                 and (trash or first <= i.start.date() <= last)
                 and (meeting_id is None or i.meeting_id == meeting_id)]
        found.sort(key=lambda i: i.start, reverse=True)
        return [self._render(i, trashed=trash) for i in found]

    def _instance(self, ref, state):
        """An instance by UUID, or by meeting id (then the latest one).

        state: "live" (has files not in the trash), "trashed" or "any".
        """
        def fits(inst):
            if state == "any":
                return bool(inst.all_files())
            return inst.has_files(state == "trashed")

        self._purge()
        if _numeric(ref):
            matching = [i for i in self._instances.values()
                        if i.meeting_id == int(ref) and fits(i)]
            if matching:
                return max(matching, key=lambda i: i.start)
        else:
            inst = self._instances.get(ref)
            if inst is not None and fits(inst):
                return inst
        raise no_recording()

    @_locked
    def get_recording(self, ref):
        return self._render(self._instance(ref, "live"), detail=True)

    def _drop(self, inst, rec):
        (inst.files if rec in inst.files else inst.participant_files).remove(rec)
        del self._files[rec.key]
        self._trashed.pop(rec.key, None)
        if not inst.all_files():  # the last file gone: the instance is gone
            self._owners.pop(inst.uuid).instances.remove(inst)
            del self._instances[inst.uuid]

    @staticmethod
    def _check_action(action):
        if action not in ("trash", "delete"):
            raise invalid_parameter("action")

    @_locked
    def delete_recordings(self, ref, action):
        self._check_action(action)
        inst = self._instance(ref, "live" if action == "trash" else "any")
        now = iso(utcnow())
        for rec in inst.all_files():
            if action == "delete":
                self._drop(inst, rec)
            elif rec.deleted_time is None:
                self._trash(rec, now, "meeting_recordings")

    @_locked
    def delete_recording_file(self, ref, file_id, action):
        self._check_action(action)
        inst = self._instance(ref, "live" if action == "trash" else "any")
        rec = next((r for r in inst.all_files() if r.id == file_id
                    and (action == "delete" or r.deleted_time is None)), None)
        if rec is None:
            raise no_recording()
        if rec.processing:
            raise ApiError(400, 3303, "You can not delete an uncompleted meeting.")
        if action == "delete":
            self._drop(inst, rec)
        else:
            self._trash(rec, iso(utcnow()), "recording_file")

    @_locked
    def recover_recordings(self, ref):
        for rec in self._instance(ref, "trashed").all_files():
            self._trash(rec, None, None)

    @_locked
    def recover_recording_file(self, ref, file_id):
        """PUT …/recordings/{recordingId}/status: one trashed file back."""
        inst = self._instance(ref, "trashed")
        rec = next((r for r in inst.all_files()
                    if r.id == file_id and r.deleted_time is not None), None)
        if rec is None:
            raise no_recording()
        self._trash(rec, None, None)

    @_locked
    def trash_file(self, key, deleted_time, trash_type):
        """The control API's trashing "at" a given time (to test the 30-day limit)."""
        rec = self._files.get(key)
        if rec is None:
            return None
        self._trash(rec, deleted_time, trash_type)
        return rec.render(self.base_url, rec.instance.uuid, internal=True)

    @_locked
    def downloadable(self, key):
        """The file behind a download key, or None if unknown, trashed or deleted."""
        rec = self._files.get(key)
        if rec is None or rec.deleted_time is not None:
            return None
        return rec

    @_locked
    def file_by_key(self, key):
        """Any file still stored (trashed ones too), or None."""
        self._purge()
        return self._files.get(key)

    @_locked
    def complete_file(self, key):
        """Finish processing a file: it gets its type, size and recording_end."""
        rec = self._files.get(key)
        if rec is None:
            return None
        rec.processing = False
        return rec.render(self.base_url, rec.instance.uuid, internal=True)

    # ---- the control API's view --------------------------------------------------

    @_locked
    def snapshot(self, ref=None):
        """The whole state, or (ref: an id, email or "me") one user's part of it."""
        self._purge()
        users = self.users if ref is None else [self.user(ref)]
        meetings, webinars, recordings = {}, {}, {}
        for user in users:
            if user.status == "pending":
                continue
            meetings[user.id] = list(user.meetings.values())
            if user.webinar_enabled:
                webinars[user.id] = list(user.webinars.values())
            recordings[user.id] = [self._render(i, internal=True)
                                   for i in sorted(user.instances, key=lambda i: i.start)]
        return copy.deepcopy({
            "account_id": self.account_id,
            "users": [u.fields for u in users],
            "meetings": meetings,
            "webinars": webinars,
            "recordings": recordings,
        })
