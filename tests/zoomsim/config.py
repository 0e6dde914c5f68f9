"""Command-line options.  A few can be changed at run time with POST /_sim/config."""

import argparse
import os

from .scopes import DEFAULT as DEFAULT_SCOPES

# Options POST /_sim/config may change, with the type each must have.
RUNTIME = {"cdn_ttl": int, "qps": int, "latency": int, "daily_spent": int, "token_lifetime": int, "max_live_tokens": int,
           "cdn_ignore_range": bool, "scopes": str, "plan": str}
# Runtime options of type str that take one of a few values.
CHOICES = {"plan": ("pro", "basic")}


def _count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def parser():
    p = argparse.ArgumentParser(
        prog="python3 -m zoomsim",
        description="A local, stateful Zoom API emulator (see tests/zoomsim/README.md).")
    server = p.add_argument_group("server")
    server.add_argument("--port", type=_count, default=0,
                        help="TCP port on 127.0.0.1 (0 = pick a free one; default 0)")
    server.add_argument("--ready-file", metavar="PATH",
                        help="write the ready line here (atomically) once listening")
    server.add_argument("--https", action="store_true",
                        help="serve TLS with a certificate made by `openssl` at start")
    server.add_argument("--verbose", action="store_true",
                        help="log one line per request (method path status) to stderr")

    auth = p.add_argument_group("credentials and tokens")
    auth.add_argument("--account-id", default="demo-account")
    auth.add_argument("--client-id", default="demo-client")
    auth.add_argument("--client-secret", default="demo-secret")
    auth.add_argument("--token-lifetime", type=_count, default=3600, metavar="S",
                      help="access token lifetime in seconds (default 3600)")
    auth.add_argument("--max-live-tokens", type=_count, default=0, metavar="N",
                      help="issuing a token beyond N live ones invalidates the oldest "
                           "(0 = no limit; default 0)")
    auth.add_argument("--api-url", metavar="URL",
                      help="api_url in token responses (default: the server's own base URL)")
    auth.add_argument("--scopes", default=DEFAULT_SCOPES, metavar="'SCOPE …'",
                      help="the scopes new tokens carry, space- or comma-separated, classic "
                           "or granular (default: the classic admin scopes)")
    auth.add_argument("--plan", choices=CHOICES["plan"], default="pro",
                      help="the account's plan: basic refuses the Pro-only past meeting "
                           "reports (default pro)")

    traffic = p.add_argument_group("downloads and rate limits")
    traffic.add_argument("--cdn-ttl", type=_count, default=300, metavar="S",
                         help="validity of signed CDN URLs in seconds (default 300)")
    traffic.add_argument("--cdn-ignore-range", action="store_true",
                         help="the CDN answers 200 with the whole file even to Range requests")
    traffic.add_argument("--cdn-base", metavar="URL",
                         help="/rec/download redirects to URL/<file name> (the file key, or "
                              "an --external-file's name) instead of this server's CDN")
    traffic.add_argument("--latency", type=_count, default=0, metavar="MS",
                         help="answer each API request (not the CDN's) MS milliseconds late, "
                              "as Zoom's 100-300 ms do (default 0)")
    traffic.add_argument("--daily-spent", type=_count, default=0, metavar="N",
                         help="requests of each label other apps on the account made today: "
                              "X-RateLimit-Remaining starts at 30000 - N (default 0)")
    traffic.add_argument("--qps", type=_count, default=0, metavar="N",
                         help="requests per second allowed per rate-limit category "
                              "(Light, Medium, Heavy); 0 = unlimited (default)")

    seed = p.add_argument_group("seeded account")
    seed.add_argument("--seed", type=int, default=1, help="default 1")
    seed.add_argument("--users", type=_count, default=5, help="default 5")
    seed.add_argument("--meetings", type=_count, default=3, help="per user; default 3")
    seed.add_argument("--webinars", type=_count, default=2,
                      help="per webinar-enabled user; default 2")
    seed.add_argument("--webinar-users", type=_count, default=1,
                      help="the first N users have the webinar add-on; default 1")
    seed.add_argument("--instances", type=_count, default=4,
                      help="recording instances per user; default 4")
    seed.add_argument("--months", type=_count, default=3,
                      help="users were created N months ago; instances are spread "
                           "from then to now; default 3")
    seed.add_argument("--file-size", type=_count, default=1048576, metavar="BYTES",
                      help="size of the main MP4s; default 1048576")
    seed.add_argument("--big-file", type=_count, default=0, metavar="BYTES",
                      help="add one instance to user 0 with one MP4 of this size "
                           "(default 0 = none)")
    seed.add_argument("--dense-month-instances", type=_count, default=0, metavar="N",
                      help="add N one-MP4 instances to user 0 in the previous calendar "
                           "month (default 0)")
    seed.add_argument("--external-file", action="append", default=[], type=_existing_file,
                      metavar="PATH", help="add to user 0 one instance whose MP4 is this file "
                                           "(its size and bytes); repeatable")
    seed.add_argument("--hostile", action="store_true",
                      help="add the hostile data set: odd users, meeting ids, topics, sizes "
                           "and download URLs (see README)")
    return p


def _existing_file(text):
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"{text}: not a file")
    return os.path.abspath(text)


def parse(argv=None):
    return parser().parse_args(argv)
