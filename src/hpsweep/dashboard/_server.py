"""The dashboard's HTTP server: the standard library's threading server, GET only.

It binds to 127.0.0.1 unless told otherwise; any other address needs an access token, which every
request must carry (``Authorization: Bearer``, ``?token=`` or the cookie set by the first visit)
and which is compared in constant time.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import socket
import threading
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hpsweep.dashboard._app import Dashboard, Response
from hpsweep.errors import UsageError

__all__ = ["DashboardServer", "is_loopback"]

_COOKIE = "hpsweep_token"
_LOG = logging.getLogger("hpsweep.dashboard")
_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip("[]") in _LOCAL_NAMES or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _refuse_write(self) -> None:
        refusal = Response(405, "text/plain", b"the dashboard is read-only\n",
                           {"Allow": "GET, HEAD"})
        self._send(refusal, head=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse_write

    def _answer(self, *, head: bool) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        owner = self.server.owner
        extra: dict[str, str] = {}
        if not self._expected_host_header(owner):
            self._send(Response(403, "text/plain", b"unexpected Host header\n"), head=head)
            return
        if owner.token is not None:
            given = self._token(query)
            if given is None or not hmac.compare_digest(given.encode(), owner.token.encode()):
                self._send(Response(401, "text/plain", b"access token required: open the URL "
                                    b"printed by `hpsweep dashboard` (it carries ?token=...)\n"),
                           head=head)
                return
            if "token" in query:
                extra["Set-Cookie"] = f"{_COOKIE}={owner.token}; HttpOnly; SameSite=Strict; Path=/"
        try:
            response = owner.app.get(url.path, query)
        except Exception as exc:  # a broken study must not take the server down
            _LOG.exception("dashboard request %s failed", self.path)
            response = Response(500, "text/plain", f"internal error: {exc}\n".encode())
        self._send(response, head=head, extra=extra)

    def _token(self, query: dict[str, list[str]]) -> str | None:
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[len("Bearer "):].strip()
        if query.get("token"):
            return query["token"][0]
        jar = cookies.SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except cookies.CookieError:
            return None
        return jar[_COOKIE].value if _COOKIE in jar else None

    def _expected_host_header(self, owner: DashboardServer) -> bool:
        """The server only answers pages asked for by a name it is known by: a loopback name,
        and with a token also an IP address, the bound host and this machine's names (a foreign
        name pointing at the server is how DNS rebinding reaches it)."""
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name == "" or is_loopback(name):
            return True
        if owner.token is None:
            return False
        try:
            ipaddress.ip_address(name.strip("[]"))
            return True
        except ValueError:
            pass
        return name.lower() in owner.known_names()

    def _send(self, response: Response, *, head: bool, extra: dict[str, str] | None = None) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                         "script-src 'self' 'unsafe-eval'; img-src 'self' data: blob:")
        for key, value in {**response.headers, **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        _LOG.debug("%s " + format, self.address_string(), *args)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: DashboardServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (closed tab, dropped connection) is not an error worth a
        traceback; anything else is logged in one line."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            _LOG.debug("client %s went away: %s", client_address, exc)
            return
        _LOG.warning("dashboard request from %s failed: %s", client_address, exc)


class DashboardServer:
    """Serves a :class:`Dashboard` on ``host:port`` (port 0: any free port)."""

    def __init__(self, *, app: Dashboard, host: str = "127.0.0.1", port: int = 8765,
                 token: str | None = None) -> None:
        if not is_loopback(host) and not token:
            raise UsageError(f"--host {host} would expose the dashboard beyond this machine: give "
                             "--token SECRET as well (every request must then carry it), or keep "
                             "the default 127.0.0.1.")
        if token is not None and len(token) < 8:
            raise UsageError(f"--token of {len(token)} characters is too short: use at least 8.")
        if not 0 <= port <= 65535:
            raise UsageError(f"--port {port}: use a port between 1 and 65535 (0 picks a free one).")
        self.app, self.host, self.token = app, host, token
        try:
            self._httpd = _HttpServer((host, port), _Handler)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                             "choose another --port.") from exc
        self._httpd.owner = self
        self._thread: threading.Thread | None = None
        self._names: set[str] | None = None

    def known_names(self) -> set[str]:
        """The names a browser may reach this server by (lower case)."""
        if self._names is None:
            names = {self.host.lower(), socket.gethostname().lower()}
            with contextlib.suppress(OSError):
                names.add(socket.getfqdn().lower())
            self._names = names
        return self._names

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"http://{host}:{self.port}/"
        return base + (f"?token={self.token}" if self.token else "")

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.25)

    def start(self) -> DashboardServer:
        """Serve from a background thread (tests, notebooks)."""
        self._thread = threading.Thread(target=self.serve_forever, name="hpsweep-dashboard",
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()
