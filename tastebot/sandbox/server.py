"""`Sandbox`: the HTTP server that stands in for Spotify (Accounts + Web API) and ReccoBeats.

A test server: it binds 127.0.0.1 only, serves a generated or loaded catalogue, and never serves the
catalogue's `hidden` section. Standard library only (ThreadingHTTPServer, daemon threads).

    with Sandbox(profile="development", seed=7, n_tracks=600) as sb:
        sb.url                   # http://127.0.0.1:PORT
        sb.configure(fault_rate=0.2)
        sb.stats()               # request counts per endpoint template and status

Faults (latency, 5xx, dropped connections, rate limit) apply to /v1, /api/token and /reccobeats
(answers lost after the request was carried out: /v1 only; ReccoBeats also has a limit of its own,
`reccobeats_rate_limit`, counted apart from Spotify's),
never to /authorize or the /_sandbox control endpoints.

What one origin serves:
  GET|POST /authorize           consent page; `auto_approve=1` or `Accept: application/json` approves
                                at once (302 to redirect_uri?code=..&state=..); PKCE S256 required;
                                http redirect URIs only on 127.0.0.1 / [::1]
  POST /api/token               authorization_code (+code_verifier) and refresh_token grants
  /v1/...                       the endpoints of ../shared/spotify/ENDPOINTS.md (webapi.py), plus
                                PUT|DELETE /v1/me/library and DELETE /v1/playlists/{id}/items so tests
                                can act "as the user"
  GET /reccobeats/v1/audio-features?ids=   ReccoBeats (reccobeats.py)
  GET /deezer/...               Deezer's public API: search/artist, artist/{id}[/related|/top],
                                track/{id}, track/isrc:{ISRC} (discovery.py; errors with HTTP 200)
  GET /lastfm/2.0/?method=      Last.fm's artist.getsimilar and artist.gettoptracks (discovery.py)
  POST /_sandbox/discovery      {"service": "deezer"|"lastfm", "down", "garbage", "quota", "retry_after"}
  GET /_sandbox/stats, POST /_sandbox/stats/reset, GET|POST /_sandbox/configure (JSON of the fault
  options), POST /_sandbox/revoke (refresh tokens), POST /_sandbox/expire (access tokens),
  GET /_sandbox/state (the listener's own playlists with track ids in order, None for a null item,
  the uri for a local file; saved track ids newest first; follows)
"""

from __future__ import annotations

import pickle
import socket
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tastebot.sandbox.accounts import Accounts
from tastebot.sandbox.discovery import OpenServices
from tastebot.sandbox.faults import FAULT_BODIES, FaultConfig, FaultInjector
from tastebot.sandbox.format import load_catalog, validate_catalog
from tastebot.sandbox.generator import generate_catalog
from tastebot.sandbox.reccobeats import ReccoBeats
from tastebot.sandbox.state import SandboxState
from tastebot.sandbox.webapi import WebApi, build_routes, check_scopes
from tastebot.sandbox.wire import ApiError, Request, Response

PROFILES = ("development", "extended")
HOST = "127.0.0.1"

_catalog_cache: dict[tuple[int, int], bytes] = {}
_catalog_cache_lock = threading.Lock()


def _generated_catalog(seed: int, n_tracks: int) -> dict:
    """generate_catalog, remembered per (seed, n_tracks): tests start many sandboxes on one seed.
    Each sandbox gets its own copy (it changes its state); kept pickled, as unpickling copies a
    catalogue of 2,000 tracks in 8 ms where copy.deepcopy took 68."""
    key = (seed, n_tracks)
    with _catalog_cache_lock:
        if key not in _catalog_cache:
            _catalog_cache[key] = pickle.dumps(generate_catalog(seed=seed, n_tracks=n_tracks), pickle.HIGHEST_PROTOCOL)
        return pickle.loads(_catalog_cache[key])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: "Sandbox"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.stopping = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a killed tastebot, a dropped connection) is normal
        traffic for a test server, not an error worth a traceback on stderr."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def close_open_connections(self) -> None:
        """A stopped sandbox answers nobody, not even on a kept-alive connection."""
        with self.connections_lock:
            conns, self.open_connections = list(self.open_connections), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as with Spotify
    server_version = "tastebot-sandbox"
    sys_version = ""
    timeout = 60  # idle keep-alive connections end after this
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: it is a test server
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:  # type: ignore[attr-defined]
            self.server.open_connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        with self.server.connections_lock:  # type: ignore[attr-defined]
            self.server.open_connections.discard(self.connection)  # type: ignore[attr-defined]
        try:
            super().finish()
        except OSError:
            pass

    def _handle(self) -> None:
        if self.server.stopping:  # type: ignore[attr-defined]
            self.close_connection = True
            return
        self.server.sandbox._dispatch(self)  # type: ignore[attr-defined]

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class Sandbox:
    """Spotify's Accounts service, Web API and ReccoBeats on one loopback origin. See the module doc."""

    def __init__(self, catalog: dict | str | Path | None = None, profile: str = "development", port: int = 0,
                 seed: int = 0, n_tracks: int = 2000, latency_ms: float = 0, fault_rate: float = 0.0,
                 rate_limit: int | None = None, retry_after: float = 1, token_ttl: float = 3600,
                 refresh_ttl: float | None = None, drop_rate: float = 0.0, lost_answer_rate: float = 0.0):
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        if catalog is None:
            catalog = _generated_catalog(seed, n_tracks)
        elif isinstance(catalog, (str, Path)):
            catalog = load_catalog(catalog)
        else:
            catalog = validate_catalog(catalog)
        self.catalog: dict = catalog
        self.profile = profile
        self.seed = seed
        self._port = port
        self.faults = FaultInjector(
            FaultConfig(latency_ms=latency_ms, fault_rate=fault_rate, rate_limit=rate_limit, retry_after=retry_after,
                        token_ttl=token_ttl, refresh_ttl=refresh_ttl, drop_rate=drop_rate,
                        lost_answer_rate=lost_answer_rate),
            seed=seed,
        )
        self.state = SandboxState(catalog, seed=seed)
        self.accounts = Accounts(self)
        self.webapi = WebApi(self)
        self.reccobeats = ReccoBeats(self)
        self.open_services = OpenServices(self)
        self._routes = build_routes()
        self._stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._stats_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> "Sandbox":
        if self._server is not None:
            return self
        server = _Server((HOST, self._port), _Handler)
        server.sandbox = self
        self._server = server
        self.port = server.server_address[1]
        self.url = f"http://{HOST}:{self.port}"
        # stop() waits for the serving loop's next look at its flag: 10 ms, not the default 0.5 s
        # (tests start and stop hundreds of sandboxes; an idle one wakes 100 times a second).
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping = True
        server.shutdown()
        server.server_close()
        server.close_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- in-process control (the same as the /_sandbox endpoints) ---------------------------------

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            per = {k: dict(v) for k, v in sorted(self._stats.items())}
        return {"requests": per, "total": sum(sum(v.values()) for v in per.values())}

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._stats.clear()

    def count(self, endpoint: str, status: int | str | None = None) -> int:
        """Requests seen for "METHOD /template" (optionally with one status) since the last reset."""
        with self._stats_lock:
            per = self._stats.get(endpoint, {})
            return per.get(str(status), 0) if status is not None else sum(per.values())

    def configure(self, **faults: Any) -> dict[str, Any]:
        """Change latency_ms / write_latency_ms / fault_rate / rate_limit / retry_after / token_ttl /
        refresh_ttl / drop_rate / lost_answer_rate live."""
        return self.faults.configure(**faults).as_dict()

    def configure_discovery(self, service: str, **options: Any) -> dict[str, Any]:
        """Faults of one emulated discovery service ("deezer", "lastfm"): down, garbage, quota, retry_after."""
        return self.open_services.configure(service, **options)

    def revoke_refresh_tokens(self) -> int:
        return self.accounts.revoke_refresh_tokens()

    def expire_access_tokens(self) -> int:
        return self.accounts.expire_access_tokens()

    def snapshot(self) -> dict[str, Any]:
        return self.state.snapshot()

    # -- dispatch ----------------------------------------------------------------------------------

    def _record(self, key: str, status: int | str) -> None:
        with self._stats_lock:
            self._stats[key][str(status)] += 1

    def _match(self, method: str, path: str) -> tuple[str | None, Any, dict[str, str], tuple[str, ...]]:
        """(template, handler, path params, scopes); handler None with a template means wrong method."""
        if path == "/authorize":
            return "/authorize", (self.accounts.authorize if method in {"GET", "POST"} else None), {}, ()
        if path == "/api/token":
            return "/api/token", (self.accounts.token if method == "POST" else None), {}, ()
        if path == "/reccobeats/v1/audio-features":
            return path, (self.reccobeats.audio_features if method == "GET" else None), {}, ()
        if path.startswith("/deezer/") or path.startswith("/lastfm/"):
            template, handler = self.open_services.match(method, path)
            return template, handler, {}, ()
        found_template = None
        for r_method, template, regex, name, scopes in self._routes:
            m = regex.match(path)
            if m is None:
                continue
            found_template = template
            if r_method == method:
                return template, getattr(self.webapi, name), m.groupdict(), scopes
        return found_template, None, {}, ()

    def _dispatch(self, h: _Handler) -> None:
        method = h.command
        split = urlsplit(h.path)
        path = split.path.rstrip("/") or "/"
        if split.path == "/lastfm/2.0/":
            path = split.path  # Last.fm's endpoint is the folder itself
        query = parse_qs(split.query, keep_blank_values=True)
        try:
            length = int(h.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            h.close_connection = True
            self._send(h, Response(400, {"error": {"status": 400, "message": "Bad Content-Length"}}))
            return
        body = h.rfile.read(length) if length > 0 else b""
        req = Request(method=method, path=path, query=query, headers=h.headers, body=body, base_url=self.url)

        if path.startswith("/_sandbox/") or path == "/_sandbox":
            self._send(h, self._control(req))
            return
        if path == "/":
            self._send(h, Response(200, {"service": "tastebot sandbox", "note": "a local test server, not Spotify",
                                         "profile": self.profile}))
            return

        template, handler, params, scopes = self._match(method, path)
        key = f"{method} {template or '(unknown)'}"
        faultable = path.startswith("/v1/") or path == "/api/token" or path.startswith("/reccobeats/")
        if faultable:
            if self.faults.should_drop():
                self._record(key, "dropped")
                h.close_connection = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            delay = self.faults.latency_s(method)
            if delay:
                time.sleep(delay)
            retry_after = self.faults.rate_limited()
            if retry_after is not None:
                resp = Response(429, {"error": {"status": 429, "message": "API rate limit exceeded"}},
                                headers={"Retry-After": str(retry_after)})
            elif path.startswith("/reccobeats/") and (retry_after := self.faults.rate_limited("reccobeats")) is not None:
                resp = self.reccobeats.too_many_requests(path, retry_after)
            if retry_after is not None:
                self._record(key, 429)
                self._send(h, resp)
                return
            status = self.faults.server_fault()
            if status is not None:
                self._record(key, status)
                self._send(h, Response(status, {"error": {"status": status, "message": FAULT_BODIES[status]}}))
                return

        try:
            if template is None:
                raise ApiError(404, "Service not found")
            if handler is None:
                raise ApiError(405, "Method not allowed")
            req.params = params
            if path.startswith("/v1/"):
                req.token = self.accounts.check_bearer(req)
                check_scopes(req.token, scopes)
            resp = handler(req)
        except ApiError as exc:
            resp = Response(exc.status, exc.body(), headers=dict(exc.headers))
        except Exception as exc:  # a sandbox bug: answer like Spotify's 500 and keep serving
            resp = Response(500, {"error": {"status": 500, "message": f"sandbox bug: {type(exc).__name__}: {exc}"}})
        # Web API only: a lost token answer is Accounts-service behaviour the sandbox does not model.
        if path.startswith("/v1/") and 200 <= resp.status < 300 and self.faults.answer_lost():
            self._record(key, "lost")
            self._send(h, Response(502, {"error": {"status": 502, "message": FAULT_BODIES[502]}}))
            return
        self._record(key, resp.status)
        self._send(h, resp)

    def _control(self, req: Request) -> Response:
        p, m = req.path, req.method
        try:
            if p == "/_sandbox/stats" and m == "GET":
                return Response(200, self.stats())
            if p == "/_sandbox/stats/reset" and m == "POST":
                self.reset_stats()
                return Response(200, {"ok": True})
            if p == "/_sandbox/configure" and m == "POST":
                body = req.json() or {}
                if not isinstance(body, dict):
                    raise ApiError(400, "configure takes a JSON object of fault options")
                try:
                    return Response(200, {"faults": self.configure(**body)})
                except (TypeError, ValueError) as exc:
                    raise ApiError(400, str(exc)) from None
            if p == "/_sandbox/configure" and m == "GET":
                return Response(200, {"faults": self.faults.config.as_dict()})
            if p == "/_sandbox/discovery" and m == "POST":
                body = req.json() or {}
                if not isinstance(body, dict) or "service" not in body:
                    raise ApiError(400, "discovery takes a JSON object with a service and its options")
                try:
                    return Response(200, {"discovery": self.configure_discovery(**body)})
                except (TypeError, ValueError) as exc:
                    raise ApiError(400, str(exc)) from None
            if p == "/_sandbox/revoke" and m == "POST":
                return Response(200, {"revoked": self.revoke_refresh_tokens()})
            if p == "/_sandbox/expire" and m == "POST":
                return Response(200, {"expired": self.expire_access_tokens()})
            if p == "/_sandbox/state" and m == "GET":
                return Response(200, self.snapshot())
            raise ApiError(404, "no such sandbox control endpoint")
        except ApiError as exc:
            return Response(exc.status, exc.body())

    @staticmethod
    def _send(h: _Handler, resp: Response) -> None:
        data, content_type = resp.encode()
        try:
            h.send_response(resp.status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            for name, value in resp.headers.items():
                h.send_header(name, value)
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

