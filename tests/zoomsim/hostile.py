"""The hostile data set (--hostile): what Zoom, or something between it and the client,
has sent or could send, and a client must survive without harm.

Added after the seeded account, so the regular users keep their indices. README.md
("Hostile data") lists every item; tests find them by the names and topics below.
"""

from datetime import timedelta

from . import defaults
from .account import MEETING
from .clock import iso

# Strings real listings have held. In the control API and here, U+DC80..U+DCFF stand
# for raw bytes (Python's surrogateescape) and go out as invalid UTF-8; any other lone
# surrogate goes out as its \uXXXX escape; json escapes a NUL as \u0000.
NUL, SURROGATE, RAW_BYTE = "\x00", "\ud800", "\udcff"
BAD_STRINGS = (("NUL", NUL), ("a lone surrogate", SURROGATE), ("a raw 0xFF byte", RAW_BYTE))
RTL_TOPIC = "Budget \u202efdp.exe"  # shows as "Budget exe.pdf"
ZERO_WIDTH_TOPIC = "Zero\u200bwidth\u200b\u200bspaces"
STRING_MEETING_IDS = ("-1", "..", "a\nb", "x/y")
LONG_EMAIL = "a" * 300 + "@example.com"  # 312 bytes
HOST_EMAIL = "mallory.hostile@example.com"

# (first name, last name, email) of the hostile users, after the host.
USERS = (
    ("Dup", "Licate", "duplicate@example.com"),
    ("Dup", "Licate", "duplicate@example.com"),  # the same email, another id
    ("Long", "Email", LONG_EMAIL),
    ("Escape", "Sequence", "esc\x1b[31m.red@example.com"),
    ("New", "Line", "new\nline@example.com"),
) + tuple((f"Bad{value}", "Strings", f"bad.{name.split()[-1].lower()}@example.com")
          for name, value in BAD_STRINGS)

# (topic, file spec) of one-MP4 instances whose download goes somewhere it must not.
JWT_LIKE = "eyJhbGciOiJIUzUxMiIsInYiOiIyLjAifQ"
ELSEWHERE = (
    ("Download from another https host",
     {"url": "https://files.example.net/rec/download/{key}"}),
    ("Download over http from a public address",
     {"url": "http://203.0.113.7/rec/download/{key}"}),
    ("Download with user and password in the URL",
     {"url": "{scheme}://user:pass@{authority}/rec/download/{key}"}),
    ("Download URL with a download_access_token",
     {"url": "{base}/rec/download/{key}?download_access_token=" + JWT_LIKE + ".{key}.sig"}),
    ("Redirect to a file URL", {"redirect": "file:///etc/passwd"}),
    ("Redirect to ftp", {"redirect": "ftp://203.0.113.7/rec/{key}.mp4"}),
    ("Redirect to http on a public address", {"redirect": "http://203.0.113.7/cdn/{key}"}),
)
SIZES = (("Larger than int64", 2**63), ("Largest int64", 2**63 - 1))


def add(account, config, now):
    """Add the hostile users, and the host's meetings and recordings."""
    created = now - timedelta(days=1)
    host = _user(account, config, "Mallory", "Hostile", HOST_EMAIL, created)
    for first, last, email in USERS:
        _user(account, config, first, last, email, created)
    _meetings(account, host, created)
    _recordings(account, host, config, now)


def _user(account, config, first, last, email, created):
    uid = account.new_token(16)
    fields = {
        "id": uid, "first_name": first, "last_name": last, "display_name": f"{first} {last}",
        "email": email, "type": 2, "role_name": "Member", "role_id": "2",
        "pmi": account.rng.randrange(10**9, 10**10), "timezone": "UTC", "verified": 1,
        "dept": "Security", "created_at": iso(created), "last_login_time": iso(created),
        "last_client_version": "6.2.5.41699(mac)", "language": "en-US", "status": "active",
        "account_id": config.account_id, "cluster": "us06", "company": "Example Corp",
        "job_title": "Tester", "location": "Remote", "group_ids": [], "im_group_ids": [],
        "phone_numbers": [], "pic_url": "", "use_pmi": False, "login_types": [100],
        "jid": f"{uid.lower()}@xmpp.zoom.us",
    }
    fields["personal_meeting_url"] = f"https://zoom.us/j/{fields['pmi']}"
    return account.add_user(fields, defaults.user_settings(webinar=False))


def _topics():
    return [f"Topic with {name}: {value} inside" for name, value in BAD_STRINGS] + [
        RTL_TOPIC, ZERO_WIDTH_TOPIC]


def _meetings(account, host, created):
    start = iso(created + timedelta(days=3))
    for mid in STRING_MEETING_IDS:
        account.new_meeting(MEETING, host, {"topic": f"String id {mid!r}", "type": 2,
                                            "start_time": start}, created, mid=mid)
    for topic in _topics():
        account.new_meeting(MEETING, host, {"topic": topic, "type": 2, "start_time": start},
                            created)


def _recordings(account, host, config, now):
    moments = iter(_every_ten_minutes(now))

    def one(topic, size=config.file_size, meeting_id=None, start=None, **where):
        start = start or next(moments)
        inst = account.add_instance(host, topic, start, 30, meeting_id)
        account.add_file(inst, "MP4", start, start + timedelta(minutes=30), size, **where)
        return inst

    for topic in _topics():
        one(topic)
    for mid in STRING_MEETING_IDS:
        one(f"String id {mid!r}", meeting_id=mid)
    twin = one("Twin recording")
    one("Twin recording", meeting_id=twin.meeting_id, start=twin.start)
    for topic, size in SIZES:
        one(topic, size=size)
    for topic, where in ELSEWHERE:
        one(topic, **where)


def _every_ten_minutes(now):
    first = (now - timedelta(days=1)).replace(second=0, microsecond=0)
    first -= timedelta(minutes=first.minute % 5)
    k = 0
    while True:
        yield first - timedelta(minutes=10 * k)
        k += 1
