"""A tiny loopback HTTP server that answers whatever a test tells it to: hostile or odd answers.

    with HostileServer() as hs:
        hs.answer = lambda req: Reply(200, b'{"id": 1}')       # every request
        hs.routes["/v1/me"] = Reply.json({"id": "me"})          # or per path (exact, without query)
        ... point tastebot at hs.url ...
        hs.requests  # [(method, path, query dict)] seen, in order

A route or answer may be a Reply or a callable(Request) -> Reply. Unknown paths answer 404 JSON.
`Reply.truncated(...)`, `Reply.html(...)` and `Reply.empty()` build the usual broken answers.
It binds 127.0.0.1 only and is for tests.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Close the connection without answering at all (a dropped connection).
    drop: bool = False

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> "Reply":
        return cls(status, json.dumps(data).encode("utf-8"), {"Content-Type": "application/json", **headers})

    @classmethod
    def raw(cls, text: str | bytes, status: int = 200, content_type: str = "application/json") -> "Reply":
        data = text.encode("utf-8") if isinstance(text, str) else text
        return cls(status, data, {"Content-Type": content_type})

    @classmethod
    def truncated(cls, data: Any, keep: float = 0.5) -> "Reply":
        text = json.dumps(data).encode("utf-8")
        return cls(200, text[: max(1, int(len(text) * keep))], {"Content-Type": "application/json"})

    @classmethod
    def html(cls, status: int = 200) -> "Reply":
        page = b"<!DOCTYPE html><html><head><title>Oops</title></head><body><h1>Something went wrong</h1></body></html>"
        return cls(status, page, {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def empty(cls, status: int = 200) -> "Reply":
        return cls(status, b"", {"Content-Type": "application/json"})


Answer = Union[Reply, Callable[[Request], Reply]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _serve(self) -> None:
        server: HostileServer = self.server.owner  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        req = Request(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                      {k: v for k, v in self.headers.items()}, body)
        with server.lock:
            server.requests.append((req.method, req.path, req.query))
        try:
            reply = server.reply_for(req)
        except Exception as exc:  # a bug in the test's answer function: say so loudly
            server.errors.append(exc)
            reply = Reply.json({"error": {"status": 599, "message": f"hostile_server: {exc!r}"}}, status=599)
        if reply.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class HostileServer:
    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.answer: Answer | None = None
        self.requests: list[tuple[str, str, dict]] = []
        self.errors: list[Exception] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def reply_for(self, req: Request) -> Reply:
        answer = self.routes.get(req.path, self.answer)
        if answer is None:
            return Reply.json({"error": {"status": 404, "message": "Service not found"}}, status=404)
        return answer(req) if callable(answer) else answer

    def start(self) -> "HostileServer":
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.owner = self  # type: ignore[attr-defined]
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        self.routes.clear()
        self.answer = None
        with self.lock:
            self.requests.clear()
        self.errors.clear()

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
