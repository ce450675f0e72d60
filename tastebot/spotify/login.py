"""Logging in to Spotify (PKCE on a loopback redirect), status and logout.

The flow (Authorization Code with PKCE, S256, no client secret):
1. a random `state` and a PKCE verifier; our own callback server listens on the redirect URI's
   loopback address and port;
2. the user approves in a browser (or, with no browser, opens the printed URL anywhere and either
   lets it reach the callback or pastes the address it was sent to);
3. the code is exchanged for tokens through spotipy's `SpotifyPKCE`, which stores them through
   `tastebot.spotify.tokens.TokenStore` (keyring, or the 0600 file);
4. `GET /me` says who logged in; the non-secret facts go to `settings.state_file`.

`tastebot.spotify.auth.api_auth_manager(settings)` is what the gateway hands to spotipy: it never prompts, refreshes
ahead of expiry, and turns a missing login into NotLoggedIn and `invalid_grant` into LoginExpired.
"""


from __future__ import annotations

import queue
import secrets
import threading
import webbrowser
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import requests
from spotipy.oauth2 import SpotifyOauthError

from tastebot import notices
from tastebot.errors import AuthError, ConfigError, NotLoggedIn, RateLimited, SpotifyError
from tastebot.settings import SCOPES, Settings
from tastebot.spotify.auth import _PKCE, ApiAuthManager, _network_error, api_auth_manager, quiet_spotipy_logging
from tastebot.spotify.callback import RedirectTarget, _CallbackServer, _Outcome, _read_pasted, validate_redirect_uri
from tastebot.spotify.client import SpotifyClient
from tastebot.spotify.login_state import DASHBOARD_URL, read_state, resolve_client_id, token_client_id, update_state
from tastebot.spotify.tokens import FILE, TokenStore
from tastebot.vocab import now_iso

__all__ = ["login", "status", "logout"]

REFRESH_TOKEN_MONTHS = 6  # Spotify's refresh tokens die six months after the first authorization
ACCOUNT_APPS_URL = "https://www.spotify.com/account/apps/"


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



def _open_browser(url: str) -> bool:
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
