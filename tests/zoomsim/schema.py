"""Request-body checking and merging, the way Zoom treats POST and PATCH bodies.

A schema maps a field name to a predicate (is this value acceptable?) or to a nested
schema.  Fields a schema does not name are ignored, as Zoom ignores read-only and unknown
fields; a named field with a value of the wrong JSON type (or outside its enum) fails
the request with 400/300 "Validation Failed." naming the dotted field.
"""

import copy
import re
from zoneinfo import ZoneInfo

from .clock import parse_iso
from .messages import validation_failed


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_bool(value):
    return isinstance(value, bool)


def is_str(value):
    return isinstance(value, str)


def is_list(value):
    return isinstance(value, list)


def text(max_len):
    return lambda value: is_str(value) and len(value) <= max_len


def int_range(low, high):
    return lambda value: is_int(value) and low <= value <= high


def one_of(*allowed):
    kind = is_int if is_int(allowed[0]) else is_str
    return lambda value: kind(value) and value in allowed


def matches(pattern):
    regex = re.compile(pattern)
    return lambda value: is_str(value) and regex.fullmatch(value) is not None


def is_timezone(value):
    if not is_str(value) or not value:
        return False
    try:
        ZoneInfo(value)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def is_start_time(value):
    """yyyy-MM-ddTHH:mm:ssZ (UTC) or yyyy-MM-ddTHH:mm:ss (local to `timezone`)."""
    if not is_str(value):
        return False
    try:
        parse_iso(value if value.endswith("Z") else value + "Z")
    except ValueError:
        return False
    return True


NON_NEGATIVE = int_range(0, 2**31 - 1)

RECURRENCE = {
    "type": one_of(1, 2, 3),
    "repeat_interval": int_range(1, 90),
    "weekly_days": matches(r"[1-7](,[1-7])*"),
    "monthly_day": int_range(1, 31),
    "monthly_week": one_of(-1, 1, 2, 3, 4),
    "monthly_week_day": int_range(1, 7),
    "end_times": int_range(1, 365),
    "end_date_time": is_start_time,
}

MEETING_SETTINGS = {
    "host_video": is_bool,
    "participant_video": is_bool,
    "join_before_host": is_bool,
    "jbh_time": one_of(0, 5, 10),
    "mute_upon_entry": is_bool,
    "waiting_room": is_bool,
    "auto_recording": one_of("local", "cloud", "none"),
    "audio": one_of("both", "telephony", "voip", "thirdParty"),
    "alternative_hosts": is_str,
    "alternative_hosts_email_notification": is_bool,
    "approval_type": one_of(0, 1, 2),
    "registration_type": one_of(1, 2, 3),
    "use_pmi": is_bool,
    "watermark": is_bool,
    "meeting_authentication": is_bool,
    "encryption_type": one_of("enhanced_encryption", "e2ee"),
    "email_notification": is_bool,
    "focus_mode": is_bool,
    "private_meeting": is_bool,
    "show_share_button": is_bool,
    "allow_multiple_devices": is_bool,
    "close_registration": is_bool,
    "cn_meeting": is_bool,
    "in_meeting": is_bool,
    "calendar_type": one_of(1, 2),
    "host_save_video_order": is_bool,
    "contact_name": is_str,
    "contact_email": is_str,
}

WEBINAR_SETTINGS = {
    "host_video": is_bool,
    "panelists_video": is_bool,
    "practice_session": is_bool,
    "hd_video": is_bool,
    "approval_type": one_of(0, 1, 2),
    "registration_type": one_of(1, 2, 3),
    "audio": one_of("both", "telephony", "voip", "thirdParty"),
    "auto_recording": one_of("local", "cloud", "none"),
    "alternative_hosts": is_str,
    "close_registration": is_bool,
    "show_share_button": is_bool,
    "allow_multiple_devices": is_bool,
    "on_demand": is_bool,
    "post_webinar_survey": is_bool,
    "registrants_restrict_number": NON_NEGATIVE,
    "meeting_authentication": is_bool,
    "contact_name": is_str,
    "contact_email": is_str,
}

_COMMON = {
    "topic": text(200),
    "start_time": is_start_time,
    "duration": NON_NEGATIVE,
    "timezone": is_timezone,
    "password": matches(r"[A-Za-z0-9@_*-]{0,10}"),
    "agenda": text(2000),
    "recurrence": RECURRENCE,
    "tracking_fields": is_list,
}

MEETING = {**_COMMON, "type": one_of(1, 2, 3, 8), "default_password": is_bool,
           "pre_schedule": is_bool, "settings": MEETING_SETTINGS}

WEBINAR = {**_COMMON, "type": one_of(5, 6, 9), "is_simulive": is_bool,
           "settings": WEBINAR_SETTINGS}

# PATCH /users/{userId}: the writable fields Zoom shows again in GET.
USER = {
    "first_name": text(64),
    "last_name": text(64),
    "dept": is_str,
    "company": is_str,
    "job_title": is_str,
    "location": is_str,
    "manager": is_str,
    "language": is_str,
    "timezone": is_timezone,
    "pmi": int_range(1000000000, 9999999999),
    "use_pmi": is_bool,
    "type": one_of(1, 2, 3, 99),
    "phone_numbers": is_list,
    "pronouns": is_str,
    "pronouns_option": one_of(1, 2, 3),
    "cms_user_id": is_str,
    "plan_united_type": is_str,
    "zoom_one_type": is_int,
    "custom_attributes": is_list,
}

# User settings are checked against the stored settings' own shape (see shaped_like);
# these leaves also have to be one of Zoom's enum values.
SETTINGS_ENUMS = {
    "schedule_meeting.audio_type": one_of("both", "telephony", "voip", "thirdParty"),
    "schedule_meeting.require_password_for_pmi_meetings": one_of("jbh_only", "all", "none"),
    "in_meeting.entry_exit_chime": one_of("host", "all", "none"),
    "in_meeting.who_can_share_screen": one_of("host", "all"),
    "in_meeting.who_can_share_screen_when_someone_is_sharing": one_of("host", "all"),
    "recording.auto_recording": one_of("local", "cloud", "none"),
    "recording.auto_delete_cmr_days": one_of(30, 60, 90, 120),
    "feature.concurrent_meeting": one_of("Basic", "Plus", "None"),
}

_SAME_TYPE = {bool: is_bool, int: is_int, str: is_str, list: is_list}


def shaped_like(example, enums=None, prefix=""):
    """A schema accepting example's keys with values of the same JSON type."""
    enums = enums or {}
    schema = {}
    for key, value in example.items():
        name = prefix + key
        if isinstance(value, dict):
            schema[key] = shaped_like(value, enums, name + ".")
        else:
            schema[key] = enums.get(name, _SAME_TYPE[type(value)])
    return schema


def _check(body, schema, prefix, bad):
    clean = {}
    for key, value in body.items():
        rule = schema.get(key)
        name = prefix + key
        if rule is None:
            continue
        if isinstance(rule, dict):
            if isinstance(value, dict):
                clean[key] = _check(value, rule, name + ".", bad)
            else:
                bad.append(name)
        elif rule(value):
            clean[key] = copy.deepcopy(value)
        else:
            bad.append(name)
    return clean


def check(body, schema):
    """The fields of body that schema knows; ApiError 400/300 if any has a wrong value."""
    bad = []
    clean = _check(body, schema, "", bad)
    if bad:
        raise validation_failed(bad)
    return clean


def merge(target, patch):
    """Apply a PATCH: nested objects merge key by key, everything else is replaced."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target
