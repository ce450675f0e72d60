"""The login's loopback callback: the redirect URI's checks, the one-thread HTTP server that receives
Spotify's answer, and the reader of pasted redirect addresses (a login without a browser here)."""

from __future__ import annotations

import html
import ipaddress
import queue
import secrets
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Callable, Iterable
from urllib.parse import parse_qs, urlsplit

from tastebot.errors import AuthError, ConfigError

__all__ = ["RedirectTarget", "validate_redirect_uri"]


@dataclass(frozen=True)
class RedirectTarget:
    uri: str
    host: str  # "127.0.0.1" or "::1"
    port: int
    path: str


def validate_redirect_uri(uri: str) -> RedirectTarget:
    """Accept only what Spotify accepts and our callback server can serve: http on a loopback IP."""
    example = "http://127.0.0.1:8888/callback"
    try:
        parts = urlsplit(uri.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise ConfigError(f"The redirect URI {uri!r} is not a valid URL; use e.g. {example}.") from None
    if host == "localhost":
        raise ConfigError(
            "Spotify refuses `localhost` in redirect URIs (since November 2025): use the loopback IP "
            f"instead, e.g. {example}, and register that exact URI in your Spotify app."
        )
    if parts.scheme != "http":
        raise ConfigError(
            f"The redirect URI must start with http:// (tastebot's own callback server on this machine answers "
            f"it); use e.g. {example}."
        )
    try:
        is_loopback = host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        is_loopback = False
    if not is_loopback or host not in ("127.0.0.1", "::1"):
        raise ConfigError(
            f"Spotify accepts plain-http redirect URIs only on the loopback addresses 127.0.0.1 or [::1], not "
            f"{host or 'an empty host'}; use e.g. {example}."
        )
    if port is None:
        raise ConfigError(f"The redirect URI needs a port the callback can listen on, e.g. {example}.")
    if parts.fragment:
        raise ConfigError("The redirect URI must not contain a #fragment.")
    return RedirectTarget(uri=uri.strip(), host=host, port=port, path=parts.path or "/")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tastebot</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34em;margin:4em auto;color:#222}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""


def _page(title: str, text: str) -> bytes:
    return _PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")


class _Outcome:
    """What the callback or a pasted URL delivered: a code, or Spotify's refusal."""

    def __init__(self, code: str | None = None, error: str | None = None, via: str = "callback"):
        self.code = code
        self.error = error
        self.via = via


def _check_redirect(query: str, state: str) -> tuple[str, _Outcome | None]:
    """Judge the query of a redirect: ("ok", outcome) or (reason, None) for something to ignore."""
    params = parse_qs(query, keep_blank_values=True)
    got_state = (params.get("state") or [None])[0]
    if got_state is None:
        return "missing state", None
    if not secrets.compare_digest(got_state.encode(), state.encode()):
        return "wrong state", None
    error = (params.get("error") or [None])[0]
    if error:
        return "ok", _Outcome(error=error[:100])
    code = (params.get("code") or [None])[0]
    if not code:
        return "no code", None
    return "ok", _Outcome(code=code)


class _CallbackServer:
    """A one-thread HTTP server on the redirect URI's loopback address, delivering one outcome."""

    def __init__(self, target: RedirectTarget, state: str, outcomes: "queue.Queue[_Outcome]",
                 notice: Callable[[str], None]):
        self.target = target
        owner = self
        self._accepted = False
        self._accept_lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            server_version = "tastebot"
            sys_version = ""
            # One thread serves every connection: a browser's idle speculative connection must not
            # hold it for long, or the real redirect would wait behind it.
            timeout = 2

            def log_message(self, format, *args):  # noqa: A002 - the request line holds the code
                pass

            def _answer(self, status: int, title: str, text: str) -> None:
                body = _page(title, text)
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self):  # noqa: N802
                self.do_GET()

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                if parts.path != owner.target.path:
                    self._answer(404, "Not found", "This is tastebot's login callback; nothing lives here.")
                    return
                verdict, outcome = _check_redirect(parts.query, state)
                if outcome is None:
                    notice(f"Ignored a request to the login callback ({verdict}); still waiting.")
                    self._answer(400, "Not this login",
                                 "This address does not belong to the login tastebot is waiting for "
                                 f"({verdict}). Go back to the terminal and follow the link it shows.")
                    return
                with owner._accept_lock:
                    first = not owner._accepted
                    owner._accepted = True
                if not first:
                    self._answer(200, "Already done", "tastebot already received an answer; you can close this tab.")
                    return
                outcomes.put(outcome)
                if outcome.error:
                    self._answer(200, "Login not completed",
                                 f"Spotify did not authorize tastebot ({outcome.error}). You can close this tab.")
                else:
                    self._answer(200, "tastebot is connected",
                                 "Login complete. You can close this tab and go back to the terminal.")

        class Server(HTTPServer):
            address_family = socket.AF_INET6 if ":" in target.host else socket.AF_INET
            allow_reuse_address = True

        try:
            self._server = Server((target.host, target.port), Handler)
        except OSError as exc:
            raise AuthError(
                f"Cannot listen on {target.host} port {target.port} for the login callback ({exc.strerror}). "
                "Free that port, or pass --redirect-uri with another port (registered in your Spotify app)."
            ) from None
        self._server.timeout = 0.5
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="login-callback", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _read_pasted(lines: Iterable[str], state: str, outcomes: "queue.Queue[_Outcome]",
                 notice: Callable[[str], None], done: threading.Event) -> None:
    """Read pasted redirect URLs until one belongs to this login (runs in its own thread)."""
    try:
        for line in lines:
            if done.is_set():
                return
            text = line.strip().strip("\"'<>")  # tolerate an address pasted with quotes or brackets
            if not text:
                continue
            query = urlsplit(text).query if "?" in text else text.lstrip("?")
            verdict, outcome = _check_redirect(query, state)
            if outcome is None:
                notice(f"That is not the address of this login ({verdict}); paste the full address your browser "
                       "was sent to, starting with the redirect URI.")
                continue
            outcome.via = "paste"
            outcomes.put(outcome)
            return
    except (OSError, ValueError, RuntimeError):
        return  # stdin closed or unreadable: the callback may still answer

