"""Past meetings: the participants and poll results of ended meeting instances.

Every recording instance is an ended meeting instance; its past meeting outlives its
recordings (trashing or deleting files leaves it).  Only the number of participants and
of polls is stored: the people and answers are generated from (seed, UUID), so they are
the same on every run and cost nothing until asked for.
"""

import base64
import hashlib
import random
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from .clock import iso, utcnow
from .messages import ApiError, json_response

GUEST_FIRST = ("Ana", "Ben", "Carla", "Dmitri", "Élodie", "Fatima", "Gustav", "Hana", "Ivo",
               "Júlia", "Kenji", "Leila", "Mateo", "Nadia", "Oskar", "Paula", "Quentin", "Rosa",
               "Sven", "Tomás", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë")
GUEST_LAST = ("Almeida", "Bianchi", "Costa", "Dąbrowski", "Eriksson", "Ferreira", "González",
              "Horvat", "Ito", "Jensen", "Kim", "Larsen", "Moreau", "Novak", "Okafor",
              "Popescu", "Rossi", "Santos", "Tanaka", "Urban", "Vargas", "Weber", "Yilmaz",
              "Zhang")
POLLS = (
    ("How useful was this session?", ("Very useful", "Somewhat useful", "Not useful")),
    ("Which topic should we cover next?", ("Roadmap", "Hiring", "Budget", "Café offsite")),
    ("Can you attend the follow-up?", ("Yes", "No", "Maybe")),
)
ANONYMOUS = "Anonymous Attendee"
# User 0's first instances (see seed.py): (participants, polls) of instance j.
OWNER = ((12, 2), (357, 0), (8, 1), (1, 0))
MAX_AGE = timedelta(days=365)  # "Can not access a meeting a year ago."
MAX_PEOPLE = 5000  # what the control API accepts


@dataclass(eq=False, slots=True)  # one per instance: 240,000 in a big account
class PastMeeting:
    uuid: str
    meeting_id: int
    host: object  # account.User
    start: object  # datetime
    duration: int
    people: int  # participants, host included
    polls: int


def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def add(account, inst, people, polls):
    """Record the ended meeting behind a recording instance."""
    with account.lock:
        account.past_meetings[inst.uuid] = PastMeeting(
            inst.uuid, inst.meeting_id, account.user(inst.host_id), inst.start, inst.duration,
            people, polls)


def seed(account, config):
    """Participants and polls for every seeded instance: user 0's first ones as OWNER
    says, the others 2 to 9 participants and, one time in three, a poll."""
    for user in account.users:
        for j, inst in enumerate(user.instances):
            if user.index == 0 and j < min(len(OWNER), config.instances):
                people, polls = OWNER[j]
            else:
                # A hash, not a random.Random per instance: seeding one costs 15 times more.
                digest = hashlib.sha256(f"{account.seed}:past:{inst.uuid}".encode()).digest()
                people, polls = 2 + digest[0] % 8, int(digest[1] % 3 == 0)
            add(account, inst, people, polls)


def _find(account, ref):
    """A past meeting by UUID, or by meeting id (then its latest instance)."""
    if ref.isascii() and ref.isdigit():
        found = [p for p in account.past_meetings.values() if p.meeting_id == int(ref)]
        past = max(found, key=lambda p: p.start) if found else None
    else:
        past = account.past_meetings.get(ref)
    if past is None:
        raise ApiError(404, 3001, "This meeting is not available or ID is not valid.")
    if past.start < utcnow() - MAX_AGE:
        raise ApiError(400, 12702, "Can not access a meeting a year ago.")
    return past


def _people(account, past):
    """Everyone who joined, host first: account users (with id and email), then guests
    (no id; an email only for the few who gave one)."""
    rng = random.Random(f"{account.seed}:participants:{past.uuid}")
    host = past.host.fields
    out = [{"id": host["id"], "name": host["display_name"], "user_email": host["email"]}]
    colleagues = [u.fields for u in account.users
                  if u.status == "active" and u is not past.host]
    for user in rng.sample(colleagues, min(len(colleagues), 3, past.people - 1)):
        out.append({"id": user["id"], "name": user["display_name"],
                    "user_email": user["email"]})
    names, guests = len(GUEST_FIRST) * len(GUEST_LAST), past.people - len(out)
    pool = names if guests <= names else names * 10  # names repeat only in crowds
    for k, pick in enumerate(rng.sample(range(pool), guests)):
        first = GUEST_FIRST[pick % len(GUEST_FIRST)]
        last = GUEST_LAST[pick // len(GUEST_FIRST) % len(GUEST_LAST)]
        name = f"{first} {last}" + (f" ({pick // names + 1})" if pick >= names else "")
        email = f"{_ascii(first)}.{_ascii(last)}@example.net" if k % 5 == 4 else ""
        out.append({"id": "", "name": name, "user_email": email})
    return out


def _questions(account, past, people):
    """Poll answers, grouped by who answered; the second poll is anonymous."""
    rng = random.Random(f"{account.seed}:polls:{past.uuid}")
    answers = {}  # (name, email) -> question_details
    for number in range(past.polls):
        question, choices = POLLS[number % len(POLLS)]
        polling_id = base64.urlsafe_b64encode(rng.randbytes(16)).decode().rstrip("=")
        asked = past.start + timedelta(minutes=5 + 10 * number)
        for person in people:
            if rng.random() < 0.3:
                continue  # not everyone answers
            if number == 1:  # anonymous: each answer stands alone
                who = (ANONYMOUS, "", len(answers))
            else:
                who = (person["name"], person["user_email"], None)
            answers.setdefault(who, []).append({
                "question": question, "answer": rng.choice(choices),
                "polling_id": polling_id,
                "date_time": iso(asked + timedelta(seconds=rng.randrange(30, 240)))})
    return [{"name": name, "email": email, "question_details": details}
            for (name, email, _), details in answers.items()]


def _paid(sim):
    if sim.config.plan != "pro":
        raise ApiError(400, 200, f"Only available for paid account: {sim.account.account_id}.")


def participants(sim, req):
    """GET /past_meetings/{meetingId}/participants: nobody is listed for a meeting that
    only its host attended, as Zoom documents."""
    _paid(sim)
    account = sim.account
    with account.lock:
        past = _find(account, req.params["meetingId"])
        people = _people(account, past) if past.people > 1 else []
    items, paging = sim.pager.page(people, req.query, ("participants", past.uuid))
    del paging["page_number"]  # not in this listing
    return json_response(200, {**paging, "participants": items})


def polls(sim, req):
    """GET /past_meetings/{meetingId}/polls: a meeting without polls has no questions."""
    _paid(sim)
    account = sim.account
    with account.lock:
        past = _find(account, req.params["meetingId"])
        questions = _questions(account, past, _people(account, past))
    return json_response(200, {"id": past.meeting_id, "uuid": past.uuid,
                               "start_time": iso(past.start), "questions": questions})


def snapshot(account):
    """The control API's view: every past meeting, oldest first."""
    with account.lock:
        out = []
        for past in sorted(account.past_meetings.values(), key=lambda p: p.start):
            people = _people(account, past)
            out.append({"uuid": past.uuid, "id": past.meeting_id, "host_id": past.host.id,
                        "start_time": iso(past.start), "duration": past.duration,
                        "participants_count": past.people,
                        "participants": people if past.people > 1 else [],
                        "questions": _questions(account, past, people)})
        return out
