"""Time helpers.  Zoom writes UTC instants as 2021-03-18T05:41:36Z: no fractions, a Z."""

import calendar
import re
from datetime import date, datetime, timedelta, timezone

UTC = timezone.utc
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def utcnow():
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    """Parse Zoom's UTC form; ValueError for anything else."""
    if not isinstance(text, str) or not _ISO.fullmatch(text):
        raise ValueError(f"not a UTC timestamp: {text!r}")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def add_months(day, months):
    """The same day-of-month `months` later (or earlier), clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def next_midnight(moment):
    """00:00 UTC after `moment`: when Zoom's daily limits reset."""
    tomorrow = moment.astimezone(UTC).date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)


def month_start(day):
    return date(day.year, day.month, 1)
