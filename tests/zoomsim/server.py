"""The HTTP side: a threading HTTP/1.1 server on 127.0.0.1 (keep-alive, streamed bodies,
optional TLS) and the faults that need the socket (stall, reset)."""

import gc
import json
import os
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import control, routes, seed, tls
from .auth import CdnSigner, TokenStore
from .clock import utcnow
from .messages import Request
from .paging import Pager
from .traffic import Faults, Journal, RateLimiter


class Simulator:
    """Everything one emulator holds, shared by all request threads."""

    def __init__(self, config):
        self.config = config
        # The seeded account is a great many small objects that live as long as the
        # process: the cyclic collector need not scan them while building (it would, again
        # and again) nor afterwards (pauses of a few hundred ms with 10,000 users).
        gc.disable()
        try:
            self.account = seed.build(config, utcnow())
        finally:
            gc.freeze()
            gc.enable()
        self.tokens = TokenStore(config)
        self.signer = CdnSigner()
        self.journal = Journal()
        self.faults = Faults(r.name for r in routes.ROUTES if r.faultable)
        self.limiter = RateLimiter(config)
        self.pager = Pager(self.faults)
        self.base_url = ""

    def listening_at(self, base_url):
        self.base_url = self.account.base_url = base_url


def _logged_query(query):
    # Tests may check that a token was sent in the query, never what it was.
    return {k: ("REDACTED" if k == "access_token" else v) for k, v in query.items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response but 204 has Content-Length
    server_version = "zoomsim"
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    # Headers and body go out in separate writes; with Nagle's algorithm the
    # second waits for the client's delayed ACK (40 ms a response on loopback).
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, in this thread, not in accept()

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        pass  # --verbose prints its own line per request

    def do_GET(self):
        sim = self.server.sim
        started = time.time()
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Bad request framing")
            return
        req = Request.parse(self.command, self.path, self.headers, body)
        if req.path.startswith("/_sim/"):
            response = control.handle(sim, req)
            self._send(response)
        else:
            sim.journal.begin()
            try:
                name, response, fault = routes.respond(sim, req)
                if sim.config.latency and " /cdn/" not in name:
                    time.sleep(sim.config.latency / 1000)
            finally:
                sim.journal.end()
            # Logged before anything is sent, so a client that has its response can
            # already find it in /_sim/log; corrected if the body is cut short.
            planned = self._planned_bytes(response, fault)
            entry = sim.journal.record({
                "time": started, "method": self.command, "route": name, "path": req.raw_path,
                "query": _logged_query(req.query), "status": response.status,
                "body": req.logged_body(), "range": self.headers.get("Range"),
                "content_type": self.headers.get("Content-Type"),
                "content_length": self.headers.get("Content-Length"),
                "bytes": planned,
            })
            sent = self._send(response, fault)
            if sent != planned:
                sim.journal.correct_bytes(entry, sent)
        if sim.config.verbose:
            print(f"{self.command} {req.raw_path} {response.status}", file=sys.stderr, flush=True)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length)

    def _read_chunked(self):
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                break
            parts.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(parts)

    def _planned_bytes(self, response, fault):
        if self.command == "HEAD":
            return 0
        if fault and fault["kind"] == "reset":
            return min(response.length, fault["after_bytes"])
        if fault and fault["kind"] == "drop":
            return 0
        return response.length

    def _send(self, response, fault=None):
        """Write the response; returns the body bytes sent."""
        kind = fault["kind"] if fault else None
        limit = fault["after_bytes"] if kind == "reset" else None
        sent = 0
        if kind == "drop":  # the request was served, the answer is lost: not a byte back
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return 0
        declared = response.length
        if kind == "short_length":  # fewer than the body that follows: keep-alive poisoned
            declared = max(0, declared - fault["short_by"])
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.status != 204:
                self.send_header("Content-Length", str(declared))
            self.end_headers()
            if kind == "stall":
                time.sleep(fault["seconds"])
            if self.command != "HEAD":
                pieces = response.chunks()
                if kind in ("trickle", "stall_every"):
                    pieces = _paced(pieces, fault, response.length)
                for chunk in pieces:
                    if limit is not None:
                        chunk = chunk[:limit - sent]
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if limit is not None and sent >= limit:
                        break
            if limit is not None:  # the fault: hang up mid-body, without a word
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:  # the client went away
            self.close_connection = True
        return sent


def _paced(chunks, fault, total):
    """The body's pieces, slowed down: `trickle` sends `rate` bytes a second all along
    (pieces of a tenth of a second); `stall_every` pauses `seconds` after each `every`
    bytes that more bytes follow."""
    if fault["kind"] == "trickle":
        step = max(1, min(fault["rate"] // 10, 65536))
    else:
        step = fault["every"]
    started, sent = time.monotonic(), 0
    for chunk in chunks:
        while chunk:
            # Cut at the next multiple of step, so stalls fall exactly every `every` bytes.
            piece, chunk = chunk[:step - sent % step], chunk[step - sent % step:]
            yield piece
            sent += len(piece)
            if fault["kind"] == "trickle":
                time.sleep(max(0.0, started + sent / fault["rate"] - time.monotonic()))
            elif sent % step == 0 and sent < total:
                time.sleep(fault["seconds"])


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, sim, port, ssl_context=None):
        super().__init__(("127.0.0.1", port), Handler)
        self.sim = sim
        if ssl_context:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True,
                                                  do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return  # clients hanging up, failed TLS handshakes: routine for a test server
        super().handle_error(request, client_address)


def _announce(config, base_url, port, cafile):
    line = json.dumps({"url": base_url, "port": port, "pid": os.getpid(), "cafile": cafile})
    if config.ready_file:
        partial = f"{config.ready_file}.{os.getpid()}.tmp"
        with open(partial, "w") as out:
            out.write(line + "\n")
        os.replace(partial, config.ready_file)
    print(line, flush=True)


def _serve(config, ssl_context, cafile):
    sim = Simulator(config)
    server = Server(sim, config.port, ssl_context)
    port = server.server_address[1]
    sim.listening_at(f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     name="zoomsim-accept", daemon=True).start()
    _announce(config, sim.base_url, port, cafile)
    stop.wait()
    server.shutdown()
    server.server_close()


def run(config):
    """Serve until SIGTERM or SIGINT."""
    if config.https:
        with tempfile.TemporaryDirectory(prefix="zoomsim-tls-") as workdir:
            _serve(config, *tls.server_context(workdir))
    else:
        _serve(config, None, None)
