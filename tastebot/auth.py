"""Logging in to Spotify: PKCE on a loopback redirect, status, logout, and the API's auth manager.

The flow (Authorization Code with PKCE, S256, no client secret):
1. a random `state` and a PKCE verifier; our own callback server listens on the redirect URI's
   loopback address and port;
2. the user approves in a browser (or, with no browser, opens the printed URL anywhere and either
   lets it reach the callback or pastes the address it was sent to);
3. the code is exchanged for tokens through spotipy's `SpotifyPKCE`, which stores them through
   `tastebot.tokens.TokenStore` (keyring, or the 0600 file);
4. `GET /me` says who logged in; the non-secret facts go to `settings.state_file`.

`api_auth_manager(settings)` is what every other module hands to spotipy: it never prompts, refreshes
ahead of expiry, and turns a missing login into NotLoggedIn and `invalid_grant` into LoginExpired.
"""

from __future__ import annotations

import html
import ipaddress
import json
import queue
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

import requests
from spotipy.oauth2 import SpotifyOauthError, SpotifyPKCE

from tastebot import notices
from tastebot.errors import AuthError, ConfigError, LoginExpired, NotLoggedIn, RateLimited, SpotifyError
from tastebot.httpsession import http_session
from tastebot.settings import SCOPES, Settings
from tastebot.tokens import FILE, TokenStore, write_private_file
from tastebot.vocab import now_iso

__all__ = [
    "SCOPES",
    "ApiAuthManager",
    "api_auth_manager",
    "login",
    "status",
    "logout",
    "resolve_client_id",
    "token_client_id",
    "validate_redirect_uri",
    "read_state",
    "update_state",
    "remember_app_kind",
]

REFRESH_TOKEN_MONTHS = 6  # Spotify's refresh tokens die six months after the first authorization
DASHBOARD_URL = "https://developer.spotify.com/dashboard"
ACCOUNT_APPS_URL = "https://www.spotify.com/account/apps/"


# ---------------------------------------------------------------------------------------------
# The non-secret login state (login.json)
# ---------------------------------------------------------------------------------------------

def read_state(settings: Settings) -> dict[str, Any]:
    """The saved non-secret login facts; {} when there are none or the file is unreadable."""
    try:
        data = json.loads(settings.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(settings: Settings, data: dict[str, Any]) -> None:
    settings.ensure_home()
    # Same atomic writer as the token file: a crash never leaves half a JSON document.
    try:
        write_private_file(settings.state_file, json.dumps(data, indent=2, sort_keys=True), private_dir=False)
    except OSError as exc:
        from tastebot.errors import StoreError

        raise StoreError(f"Cannot write {settings.state_file}: {exc.strerror}.") from None


def update_state(settings: Settings, **changes: Any) -> dict[str, Any]:
    """Merge changes into login.json (a value of None removes the key) and return the result."""
    data = read_state(settings)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    _write_state(settings, data)
    return data


def remember_app_kind(settings: Settings, kind: str) -> None:
    update_state(settings, app_kind=kind, app_kind_checked_at=now_iso())


def _iso_from_epoch(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(float(seconds), timezone.utc).replace(microsecond=0).isoformat()


def _add_months(iso: str | None, months: int) -> str | None:
    if not iso:
        return None
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return None
    month0 = t.month - 1 + months
    year, month = t.year + month0 // 12, month0 % 12 + 1
    for day in (t.day, 30, 29, 28):  # clamp 31 August + 6 months to the end of February
        try:
            return t.replace(year=year, month=month, day=day).isoformat()
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------------------------------------
# Settings checks
# ---------------------------------------------------------------------------------------------

# The Spotify app's client id is written in two places with two meanings: Settings.client_id (option,
# environment, .env, config.toml) names the app the NEXT login uses; login.json's client_id names the
# app the STORED token belongs to, and a token refreshes only with the id that obtained it. These two
# functions are the only readers: resolve_client_id for a login, token_client_id for everything after.

def token_client_id(settings: Settings, state: dict[str, Any] | None = None) -> str | None:
    """The app the saved login belongs to (login.json), else the configured one (a login made
    before login.json recorded it)."""
    state = read_state(settings) if state is None else state
    return state.get("client_id") or settings.client_id


def resolve_client_id(settings: Settings) -> str:
    """For a new login: --client-id > environment / .env files / config.toml (all in Settings) > the
    last login's (so `tastebot login` again needs no option)."""
    client_id = settings.client_id or read_state(settings).get("client_id")
    if not client_id:
        raise ConfigError(
            "No Spotify client ID: pass --client-id, set TASTEBOT_CLIENT_ID (or SPOTIPY_CLIENT_ID) in the "
            "environment or in a .env file (here or in the tastebot home), or put client_id in config.toml.",
            hint=f"Create a Spotify app at {DASHBOARD_URL} to get one (see docs/login.md).",
        )
    client_id = str(client_id).strip()
    if not client_id.isascii() or any(c.isspace() for c in client_id) or len(client_id) > 128:
        raise ConfigError("The Spotify client ID must be the app's ID as the dashboard shows it (32 letters and digits).")
    return client_id


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


# ---------------------------------------------------------------------------------------------
# spotipy's PKCE manager, pointed at the configured Spotify
# ---------------------------------------------------------------------------------------------

class _PKCE(SpotifyPKCE):
    def __init__(self, settings: Settings, client_id: str, store: TokenStore):
        super().__init__(
            client_id=client_id,
            redirect_uri=settings.redirect_uri,
            scope=list(SCOPES),
            cache_handler=store,
            open_browser=False,
            requests_timeout=settings.request_timeout,
            requests_session=http_session(),
        )
        # Class attributes read through self: an instance can point them at the sandbox.
        self.OAUTH_AUTHORIZE_URL = settings.accounts_url + "/authorize"
        self.OAUTH_TOKEN_URL = settings.accounts_url + "/api/token"
        self.settings = settings

    def _get_auth_response(self, open_browser=None):  # spotipy's own prompt: never used by tastebot
        raise NotLoggedIn()


def _network_error(settings: Settings, exc: BaseException) -> SpotifyError:
    where = "the sandbox" if settings.is_sandbox else "Spotify"
    return SpotifyError(
        f"Cannot reach {where} at {settings.accounts_url} ({type(exc).__name__}); check the connection and try again."
    )


class ApiAuthManager(_PKCE):
    """The auth manager for spotipy.Spotify: cached token, refreshed ahead of expiry, never a prompt."""

    def __init__(self, settings: Settings, client_id: str | None, store: TokenStore, *, wrong_service: str | None = None):
        super().__init__(settings, client_id or "unknown-client", store)
        self._known_client = bool(client_id)
        self._wrong_service = wrong_service
        self._token_info: dict | None = None
        self._lock = threading.RLock()

    # -- reading ------------------------------------------------------------------------------
    def _load(self) -> dict:
        if self._token_info is None:
            token = self.cache_handler.get_cached_token()
            if not token or not token.get("refresh_token"):
                raise NotLoggedIn()
            if self._wrong_service:
                raise NotLoggedIn(
                    f"The saved login is for {self._wrong_service}, not {self.settings.accounts_url}: "
                    "run `tastebot login`."
                )
            if not self._known_client:
                raise NotLoggedIn("The saved login does not say which Spotify app it belongs to: run `tastebot login`.")
            self._token_info = token
        return self._token_info

    @staticmethod
    def _expiring(token: dict) -> bool:
        # Refresh a little before the end; the margin shrinks for short-lived tokens (the sandbox's).
        lifetime = float(token.get("expires_in") or 3600)
        margin = min(60.0, lifetime / 4)
        return float(token.get("expires_at") or 0) - time.time() < margin

    def token_info(self) -> dict:
        """The current token_info (refreshed if due). For status; never print it."""
        return self.get_access_token(as_dict=True)

    def get_access_token(self, as_dict: bool = False, check_cache: bool = True, code: str | None = None):
        if code is not None:  # only the login exchanges codes, through _PKCE
            raise TypeError("ApiAuthManager does not exchange authorization codes")
        with self._lock:
            token = self._load()
            if self._expiring(token):
                token = self.refresh_access_token(token["refresh_token"])
            return dict(token) if as_dict else token["access_token"]

    def refresh_now(self) -> None:
        """Refresh even if the token looks valid (e.g. after a 401 from the Web API)."""
        with self._lock:
            self.refresh_access_token(self._load()["refresh_token"])

    # -- refreshing ---------------------------------------------------------------------------
    def refresh_access_token(self, refresh_token: str) -> dict:
        with self._lock:
            try:
                return self._refresh(refresh_token)
            except LoginExpired:
                # Another tastebot process may have refreshed (and rotated the refresh token) first.
                stored = self.cache_handler.get_cached_token()
                if stored and stored.get("refresh_token") and stored["refresh_token"] != refresh_token:
                    self._token_info = stored
                    if not self._expiring(stored):
                        return stored
                    return self._refresh(stored["refresh_token"])
                raise

    def _refresh(self, refresh_token: str) -> dict:
        payload = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id}
        try:
            response = self._session.post(
                self.OAUTH_TOKEN_URL,
                data=payload,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=self.requests_timeout,
            )
        except requests.RequestException as exc:
            raise _network_error(self.settings, exc) from None
        if response.status_code != 200:
            raise self._refresh_error(response)
        try:
            new = response.json()
            access = new["access_token"]
            expires_in = int(new.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise SpotifyError("Spotify's token endpoint answered a refresh with something that is not a token.") from None
        old = self._token_info or {}
        token = {
            "access_token": access,
            "token_type": new.get("token_type") or "Bearer",
            "expires_in": expires_in,
            "expires_at": int(time.time()) + expires_in,
            # Spotify may leave these out of a refresh answer: keep what we had.
            "refresh_token": new.get("refresh_token") or refresh_token,
            "scope": new.get("scope") if new.get("scope") is not None else old.get("scope", " ".join(SCOPES)),
        }
        self.cache_handler.save_token_to_cache(token)
        self._token_info = token
        return token

    def _refresh_error(self, response: requests.Response) -> Exception:
        try:
            body = response.json()
            error = body.get("error") if isinstance(body, dict) else None
        except ValueError:
            error = None
        if isinstance(error, dict):  # Web API style body
            error = error.get("message")
        if error == "invalid_grant":
            return LoginExpired()
        if error == "invalid_client":
            return NotLoggedIn("Spotify no longer accepts this app's client ID (deleted app?): run `tastebot login`.")
        if response.status_code == 429:
            retry = response.headers.get("Retry-After")
            return RateLimited(
                "Spotify's accounts service is rate-limiting this app; try again later.",
                retry_after=float(retry) if retry and retry.isdigit() else None,
            )
        return SpotifyError(
            f"Spotify's token endpoint refused to refresh the login (HTTP {response.status_code}"
            f"{', ' + str(error) if isinstance(error, str) and len(error) < 60 else ''}).",
            status=response.status_code,
            endpoint="/api/token",
        )


def _storage_for(settings: Settings, state: dict[str, Any]) -> str | None:
    return FILE if settings.insecure_storage or state.get("insecure_storage") else None


def api_auth_manager(settings: Settings) -> ApiAuthManager:
    """The auth manager for spotipy.Spotify(auth_manager=...). Raises NotLoggedIn / LoginExpired on use."""
    quiet_spotipy_logging()
    state = read_state(settings)
    client_id = token_client_id(settings, state)
    saved_service = state.get("accounts_url")
    wrong = saved_service if saved_service and saved_service != settings.accounts_url else None
    return ApiAuthManager(settings, client_id, TokenStore(settings, _storage_for(settings, state)), wrong_service=wrong)


def quiet_spotipy_logging() -> None:
    """spotipy logs every HTTP error at ERROR; with no handler Python prints those on stderr.

    tastebot reports errors itself, so spotipy's records go nowhere unless someone configures logging.
    """
    import logging

    log = logging.getLogger("spotipy")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    # spotipy's DEBUG records carry request headers and bodies (the bearer token, the refresh token):
    # never let them exist, whatever logging a caller sets up.
    if log.level == logging.NOTSET or log.level < logging.INFO:
        log.setLevel(logging.INFO)


# ---------------------------------------------------------------------------------------------
# The loopback callback
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# login / status / logout
# ---------------------------------------------------------------------------------------------

def _open_browser(url: str) -> bool:
    import webbrowser

    try:
        return bool(webbrowser.open(url))
    except webbrowser.Error:
        return False


def login(
    settings: Settings,
    *,
    open_browser: bool = True,
    timeout: float = 300.0,
    paste_from: Iterable[str] | None = None,
    show_url: Callable[[str], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the whole PKCE login and return the non-secret facts (user, storage, app kind).

    show_url(url) is called once the callback listens when no browser was opened (or none could be):
    the CLI prints the URL alone on stdout. Lines from paste_from are read (in a thread) as pasted
    redirect addresses. notice(text) reports ignored requests and the like (default: tastebot.notices).
    """
    notice = notice or notices.info
    quiet_spotipy_logging()
    client_id = resolve_client_id(settings)
    target = validate_redirect_uri(settings.redirect_uri)
    if timeout <= 0:
        raise ConfigError("--timeout must be more than 0 seconds.")

    state = secrets.token_urlsafe(24)
    store = TokenStore(settings, FILE if settings.insecure_storage else None)
    manager = _PKCE(settings, client_id, store)
    manager.get_pkce_handshake_parameters()
    url = manager.get_authorize_url(state=state)
    outcome = _await_authorization(target, state, url, open_browser=open_browser, timeout=timeout,
                                   paste_from=paste_from, show_url=show_url, notice=notice)
    _exchange_code(settings, manager, outcome, target)

    # Who is this, and what kind of app: through the gateway every other command uses.
    from tastebot.spotify import SpotifyClient

    api = ApiAuthManager(settings, client_id, store)
    client = SpotifyClient(settings, auth_manager=api)
    me = _who_logged_in(client, store)
    previous = read_state(settings)
    same_app = previous.get("client_id") == client_id and previous.get("accounts_url") == settings.accounts_url
    app_kind = _probed_app_kind(client) or (previous.get("app_kind") if same_app else None)
    token = api._token_info or {}
    facts = {
        "client_id": client_id,
        "accounts_url": settings.accounts_url,
        "api_url": settings.api_url,
        "user_id": str(me.get("id") or ""),
        "display_name": me.get("display_name") or None,
        "token_storage": store.kind,
        "insecure_storage": True if settings.insecure_storage else None,
        "logged_in_at": now_iso(),
        "scopes": sorted((token.get("scope") or "").split()),
        "app_kind": app_kind,
        "app_kind_checked_at": now_iso() if app_kind else None,
        "redirect_uri": target.uri,
    }
    update_state(settings, **facts)
    return {k: v for k, v in facts.items() if k not in ("insecure_storage", "app_kind_checked_at")} | {
        "token_location": store.describe(),
    }


def _await_authorization(target: RedirectTarget, state: str, url: str, *, open_browser: bool, timeout: float,
                         paste_from: Iterable[str] | None, show_url: Callable[[str], None] | None,
                         notice: Callable[[str], None]) -> "_Outcome":
    """Listen on the redirect URI, send the person to `url` (browser, or show_url and pasted
    addresses), and return the first answer that belongs to this login; refusals are AuthError."""
    outcomes: "queue.Queue[_Outcome]" = queue.Queue()
    done = threading.Event()
    server = _CallbackServer(target, state, outcomes, notice)
    server.start()
    try:
        opened = open_browser and _open_browser(url)
        if opened:
            notice("Opened Spotify's authorization page in your browser; waiting for your approval.")
        elif show_url is not None:
            show_url(url)
        if not opened and paste_from is not None:
            threading.Thread(target=_read_pasted, args=(paste_from, state, outcomes, notice, done),
                             name="login-paste", daemon=True).start()
        try:
            outcome = outcomes.get(timeout=timeout)
        except queue.Empty:
            raise AuthError(
                f"No answer from Spotify's authorization page within {timeout:g} seconds; login abandoned. "
                "Run `tastebot login` again (--timeout to wait longer)."
            ) from None
    finally:
        done.set()
        server.stop()
    if outcome.error == "access_denied":
        raise AuthError("You declined the authorization on Spotify's page; nothing was stored.")
    if outcome.error:
        raise AuthError(f"Spotify did not authorize tastebot ({outcome.error}).")
    return outcome


def _exchange_code(settings: Settings, manager: _PKCE, outcome: "_Outcome", target: RedirectTarget) -> None:
    """Trade the authorization code for tokens; spotipy stores them through the TokenStore."""
    settings.ensure_home()
    try:
        manager.get_access_token(code=outcome.code, check_cache=False)
    except SpotifyOauthError as exc:
        detail = exc.error or "unknown error"
        raise AuthError(
            f"Spotify refused to exchange the authorization code ({detail}). Check that the redirect URI "
            f"{target.uri} is registered exactly in your app, then run `tastebot login` again."
        ) from None
    except requests.RequestException as exc:
        raise _network_error(settings, exc) from None


def _who_logged_in(client, store: TokenStore) -> dict:
    """GET /me through the gateway. When Spotify refuses the account, the useless token goes."""
    try:
        return client.me()
    except AuthError:  # the gateway's "user not registered" 403
        store.delete()
        raise AuthError(_UNREGISTERED) from None
    except SpotifyError as exc:
        if exc.status is None:  # Spotify not reached: the login may be fine
            raise
        store.delete()
        if exc.status == 403:
            raise AuthError(_UNREGISTERED) from None
        raise SpotifyError(f"Spotify refused to say who logged in (HTTP {exc.status}).", status=exc.status) from None


_UNREGISTERED = (
    "Spotify refused this account for this app: the user may not be registered. In development mode "
    f"add the account's e-mail under User Management in the app's settings ({DASHBOARD_URL}); at most "
    "5 users, and the app owner needs Premium."
)


def _probed_app_kind(client) -> str | None:
    """The gateway's app-kind probe, asked afresh (it remembers the answer in login.json); None when
    the answer says nothing (Spotify unreachable, failing or rate-limiting)."""
    try:
        return client.app_kind(recheck=True)
    except (SpotifyError, RateLimited):
        return None


def status(settings: Settings, *, recheck: bool = False) -> dict[str, Any]:
    """What `tastebot status` shows. Checks the login with one call (refreshing if due).

    Never raises for "not logged in": the answer says so (logged_in False, reason).
    """
    state = read_state(settings)
    manager = api_auth_manager(settings)
    store: TokenStore = manager.cache_handler
    report: dict[str, Any] = {
        "logged_in": False,
        "spotify": settings.spotify_url or "https://api.spotify.com",
        "sandbox": settings.is_sandbox,
        "accounts_url": settings.accounts_url,
        "client_id": token_client_id(settings, state),
    }
    try:
        token = manager._load()  # the stored token, without refreshing yet
    except NotLoggedIn as exc:
        report["reason"] = exc.message
        return report

    from tastebot.spotify import SpotifyClient

    client = SpotifyClient(settings, auth_manager=manager)
    client.policy.server_retries, client.policy.max_wait = 0, 0  # one look: status never waits
    verified, problem = False, None
    try:
        me = client.me()  # refreshes first when the access token is due
        verified = True
    except NotLoggedIn as exc:  # LoginExpired: the refresh token is dead
        report["reason"] = exc.message
        report["user"] = {"id": state.get("user_id"), "display_name": state.get("display_name")}
        return report
    except (SpotifyError, AuthError, RateLimited) as exc:
        problem = exc.message
    token = manager._token_info or token
    user = {"id": state.get("user_id"), "display_name": state.get("display_name")}
    if verified:
        user = {"id": str(me.get("id") or ""), "display_name": me.get("display_name") or None}
        if (user["id"], user["display_name"]) != (state.get("user_id"), state.get("display_name")):
            update_state(settings, user_id=user["id"], display_name=user["display_name"])
    report.update(
        logged_in=True,
        user=user,
        verified=verified,
        token_storage=store.kind,
        token_location=store.describe(),
        scopes=sorted((token.get("scope") or "").split()),
        access_token_expires_at=_iso_from_epoch(token.get("expires_at")),
        logged_in_at=state.get("logged_in_at"),
        refresh_token_expires_estimate=_add_months(state.get("logged_in_at"), REFRESH_TOKEN_MONTHS),
    )
    if problem:
        report["problem"] = problem
    granted = set(report["scopes"])
    if granted:  # an older login may lack a scope a newer tastebot needs
        report["missing_scopes"] = sorted(set(SCOPES) - granted)

    kind = None if recheck else state.get("app_kind")
    if kind is None and verified:
        kind = _probed_app_kind(client)
    report["app_kind"] = kind
    return report


def logout(settings: Settings) -> dict[str, Any]:
    """Remove the tokens from the keyring and the file. Keeps only the client id (not a secret)."""
    state = read_state(settings)
    store = TokenStore(settings)
    removed = store.delete()
    if settings.state_file.exists():
        update_state(settings, user_id=None, display_name=None, logged_in_at=None, token_storage=None,
                     insecure_storage=None, scopes=None)
    return {
        "was_logged_in": bool(removed),
        "removed_from": removed,
        "user": {"id": state.get("user_id"), "display_name": state.get("display_name")} if removed else None,
        "revoke_at": ACCOUNT_APPS_URL,
    }
