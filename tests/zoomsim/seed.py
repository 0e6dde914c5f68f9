"""The seeded account: the same options and --seed always give the same account
(ids, names, sizes, bytes); only timestamps move with the current date.

README.md ("Seeded account") describes this layout for the tests that rely on it.
"""

import os
import unicodedata
from datetime import datetime, timedelta

from . import defaults, hostile, past, registrants
from .account import MEETING, WEBINAR, Account
from .clock import UTC, add_months, iso, month_start, parse_iso

FIRST = ("Alice", "Bob", "Chloé", "David", "Emma", "Farid", "Grace", "Hiro", "Ingrid",
         "Jamal", "Kateřina", "Liam", "María", "Noah", "Olga", "Priya")
LAST = ("Anderson", "Brown", "Dubois", "Evans", "Fischer", "García", "Hansen", "Ivanova",
        "Jones", "Kowalski", "Lee", "Müller", "Nakamura", "O'Neil", "Petrov", "Quinn")
TIMEZONES = ("Europe/Zurich", "America/Los_Angeles", "Asia/Tokyo", "Europe/London",
             "America/New_York", "Australia/Sydney")
DEPTS = ("Engineering", "Sales", "Support", "Marketing", "Finance")

RECURRING_TOPIC = "Q3 review: EMEA/APAC — Zürich"
LONG_TOPIC = ("..Roadmap 2025/26: " + "Überprüfung der Ziele — 進捗確認 / " * 10)[:200]
MEETING_TOPICS = ("Weekly sync", "Design review", "Customer call: ACME Corp.",
                  "Sprint planning", "All hands", "Interview – backend")
WEBINAR_TOPICS = ("Product launch", "Quarterly results (external)", "Onboarding 101")
PARTICIPANT_AUDIO = ("Alice's audio", "Bob's audio", "Zoë / guest's audio")


def status_of(index):
    return {3: "inactive", 4: "pending"}.get(index % 5, "active")


def _ascii(name):
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return folded.lower().replace("'", "")


def _floor5(moment):
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def _minutes(start, minutes):
    return start + timedelta(minutes=minutes)


def build(config, now):
    account = Account(config.account_id, config.seed)
    created = add_months(now, -config.months)
    account_number = account.rng.randrange(10**7, 10**8)
    for index in range(config.users):
        _add_user(account, config, index, min(created + timedelta(minutes=index), now),
                  now, account_number)
    people = [u for u in account.users if u.status != "pending"]
    for user in people:
        _add_meetings(account, user, config, now)
        if user.webinar_enabled:
            _add_webinars(account, user, config, now)
    for user in people:
        _add_recordings(account, user, config, now)
    if account.users and config.big_file:
        _add_big_file(account, account.users[0], config, now)
    if account.users and config.dense_month_instances:
        _add_dense_month(account, account.users[0], config, now)
    if account.users and config.external_file:
        _add_external_files(account, account.users[0], config, now)
    if config.hostile:
        hostile.add(account, config, now)
    # Last, so that every instance above is also an ended meeting; neither draws on
    # account.rng, so nothing seeded before changes with them.
    past.seed(account, config)
    registrants.seed(account)
    return account


def _add_user(account, config, index, created, now, account_number):
    first, last = FIRST[index % len(FIRST)], LAST[(index + index // len(FIRST)) % len(LAST)]
    suffix = "" if index < len(FIRST) * len(LAST) else str(index // (len(FIRST) * len(LAST)))
    status = status_of(index)
    role = ("Owner", "0") if index == 0 else ("Admin", "1") if index == 1 else ("Member", "2")
    fields = {}
    if status != "pending":  # pending users have no id until they accept the invitation
        fields["id"] = account.new_token(16)
    fields.update({
        "first_name": first,
        "last_name": last,
        "display_name": f"{first} {last}",
        "email": f"{_ascii(first)}.{_ascii(last)}{suffix}@example.com",
        "type": 1 if status == "pending" else 2,
        "role_name": role[0],
        "role_id": role[1],
        "timezone": TIMEZONES[index % len(TIMEZONES)],
        "verified": 0 if status == "pending" else 1,
        "dept": DEPTS[index % len(DEPTS)],
        "created_at": iso(created),
        "language": "en-US",
        "status": status,
        "account_id": config.account_id,
        "account_number": account_number,
        "cluster": "us06",
        "company": "Example Corp",
        "job_title": "Engineer" if index % 2 else "Manager",
        "location": "Zürich" if index % 3 == 0 else "Remote",
        "group_ids": [],
        "im_group_ids": [],
        "phone_numbers": [],
        "pic_url": "",
    })
    if status != "pending":
        pmi = account.rng.randrange(10**9, 10**10)
        fields.update({
            "pmi": pmi,
            "use_pmi": False,
            "personal_meeting_url": f"https://zoom.us/j/{pmi}",
            "last_login_time": iso(max(created, now - timedelta(days=index % 7))),
            "last_client_version": "6.2.5.41699(mac)",
            "login_types": [100],
            "jid": f"{fields['id'].lower()}@xmpp.zoom.us",
        })
    account.add_user(fields, defaults.user_settings(webinar=index < config.webinar_users))


def _add_meetings(account, user, config, now):
    """Meeting 0 scheduled (type 2), 1 recurring with fixed times (8), 2 recurring
    without (3), the rest scheduled; scheduled ones start in the coming days."""
    created = parse_iso(user.fields["created_at"])
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    for k in range(config.meetings):
        fields = {"duration": (30, 60, 45)[k % 3]}
        if k == 1:
            first_day = created.date() + timedelta(days=1)
            fields.update({
                "topic": RECURRING_TOPIC if user.index == 0 else "Team sync",
                "type": 8,
                "start_time": f"{first_day.isoformat()}T10:00:00Z",
                "recurrence": {"type": 2, "repeat_interval": 1, "end_times": 20},
                "settings": {"auto_recording": "cloud"},
            })
        elif k == 2:
            fields.update({"topic": "Office hours", "type": 3})
        else:
            start = today + timedelta(days=k + 1, hours=9 + user.index % 8)
            fields.update({"topic": MEETING_TOPICS[(user.index + k) % len(MEETING_TOPICS)],
                           "type": 2, "start_time": iso(start)})
        if user.index == 0 and k == 0:
            fields["agenda"] = ("Agenda: numbers, hiring, the Zürich office move. " * 6).strip()
        account.new_meeting(MEETING, user, fields, min(created + timedelta(days=k), now))


def _add_webinars(account, user, config, now):
    created = parse_iso(user.fields["created_at"])
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    for w in range(config.webinars):
        fields = {"topic": WEBINAR_TOPICS[w % len(WEBINAR_TOPICS)], "duration": 90,
                  "start_time": iso(today + timedelta(days=w + 2, hours=16))}
        if w % 2:
            fields.update({"type": 9, "recurrence": {"type": 2, "repeat_interval": 1,
                                                     "end_times": 4}})
        account.new_meeting(WEBINAR, user, fields, min(created + timedelta(days=w), now))


def _add_recordings(account, user, config, now):
    """Instances evenly spread from the user's creation to now (see README)."""
    created = parse_iso(user.fields["created_at"])
    count = config.instances
    recurring = next((m for m in user.meetings.values() if m["type"] == 8), None)
    recurring_id = recurring["id"] if recurring else account.new_meeting_id()
    recurring_topic = recurring["topic"] if recurring else RECURRING_TOPIC
    for j in range(count):
        start = _floor5(created + (now - created) * (j + 1) / (count + 1))
        if user.index == 0 and j < len(OWNER_QUIRKS):
            OWNER_QUIRKS[j](account, user, config, start, recurring_id, recurring_topic)
        elif j % 3 == 1:
            inst = account.add_instance(user, recurring_topic, start, 60, recurring_id,
                                        meeting_type=8)
            account.add_default_files(inst, config.file_size)
        else:
            topic = MEETING_TOPICS[(user.index + j) % len(MEETING_TOPICS)]
            duration = account.rng.choice((30, 45, 60, 90))
            account.add_default_files(account.add_instance(user, topic, start, duration),
                                      config.file_size)


def _paused_and_resumed(account, user, config, start, meeting_id, topic):
    """Owner instance 0: UUID starts with '/'; recording paused at 20 min and resumed at
    25 min (two MP4s and two M4As of one recording_type); participant audio files."""
    inst = account.add_instance(user, topic, start, 50, meeting_id,
                                "/" + account.new_uuid()[1:], meeting_type=8)
    size, audio = config.file_size, account.default_size("M4A", config.file_size)
    at = lambda minutes: _minutes(start, minutes)  # noqa: E731
    account.add_file(inst, "MP4", at(0), at(20), size)
    account.add_file(inst, "MP4", at(25), at(50), size)
    account.add_file(inst, "MP4", at(0), at(50), size, "gallery_view")
    account.add_file(inst, "M4A", at(0), at(20), audio)
    account.add_file(inst, "M4A", at(25), at(50), audio)
    account.add_text_files(inst, at(0), at(50))
    for name in PARTICIPANT_AUDIO:
        account.add_file(inst, "M4A", at(0), at(50), audio, file_name=name)


def _still_processing(account, user, config, start, meeting_id, topic):
    """Owner instance 1: UUID contains '//'; the gallery-view MP4 is still processing."""
    raw = account.new_uuid()
    inst = account.add_instance(user, topic, start, 45, meeting_id,
                                "A" + raw[1:8] + "//" + raw[10:], meeting_type=8)
    end = _minutes(start, 45)
    account.add_file(inst, "MP4", start, end, config.file_size)
    account.add_file(inst, "MP4", start, end, config.file_size, "gallery_view",
                     processing=True)
    account.add_file(inst, "M4A", start, end, account.default_size("M4A", config.file_size))
    account.add_text_files(inst, start, end)


def _plain_occurrence(account, user, config, start, meeting_id, topic):
    """Owner instance 2: a third instance of the recurring meeting, nothing special."""
    inst = account.add_instance(user, topic, start, 60, meeting_id, meeting_type=8)
    account.add_default_files(inst, config.file_size)


def _long_topic(account, user, config, start, meeting_id, topic):
    """Owner instance 3: a one-off meeting whose 200-character topic starts with '..'
    and holds '/', ':' and multi-byte characters (over 255 bytes in UTF-8)."""
    account.add_default_files(account.add_instance(user, LONG_TOPIC, start, 30),
                              config.file_size)


OWNER_QUIRKS = (_paused_and_resumed, _still_processing, _plain_occurrence, _long_topic)


def _add_big_file(account, owner, config, now):
    start = _floor5(now - timedelta(days=1))
    inst = account.add_instance(owner, "Big recording", start, 120)
    account.add_file(inst, "MP4", start, _minutes(start, 120), config.big_file)


def _add_dense_month(account, owner, config, now):
    """N one-MP4 instances spread evenly over the previous calendar month."""
    first = month_start(add_months(now.date(), -1))
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    span = datetime.combine(month_start(now.date()), begin.timetz()) - begin
    count = config.dense_month_instances
    for k in range(count):
        start = (begin + span * (k + 0.5) / count).replace(second=0, microsecond=0)
        inst = account.add_instance(owner, f"Dense month #{k + 1}", start, 30)
        account.add_file(inst, "MP4", start, _minutes(start, 30), config.file_size)


def _add_external_files(account, owner, config, now):
    """One instance per --external-file, with one MP4 that is that file (size and bytes),
    starting 2 hours ago, then every 5 minutes earlier."""
    first = _floor5(now - timedelta(hours=2))
    for k, path in enumerate(config.external_file):
        start = first - timedelta(minutes=5 * k)
        inst = account.add_instance(owner, f"External: {os.path.basename(path)}", start, 60)
        account.add_file(inst, "MP4", start, _minutes(start, 60), os.path.getsize(path),
                         path=path)
