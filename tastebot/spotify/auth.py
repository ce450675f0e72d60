"""The API's auth manager: spotipy's PKCE manager pointed at the configured Spotify, with the token
cached in `tastebot.spotify.tokens.TokenStore` (keyring, or the 0600 file).

`api_auth_manager(settings)` is what the gateway hands to spotipy: it never prompts, refreshes ahead
of expiry, and turns a missing login into NotLoggedIn and `invalid_grant` into LoginExpired.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests
from spotipy.oauth2 import SpotifyPKCE

from tastebot.errors import LoginExpired, NotLoggedIn, RateLimited, SpotifyError
from tastebot.httpsession import http_session
from tastebot.settings import SCOPES, Settings
from tastebot.spotify.login_state import read_state, token_client_id
from tastebot.spotify.tokens import FILE, TokenStore

__all__ = ["ApiAuthManager", "api_auth_manager", "quiet_spotipy_logging"]


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
    log = logging.getLogger("spotipy")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    # spotipy's DEBUG records carry request headers and bodies (the bearer token, the refresh token):
    # never let them exist, whatever logging a caller sets up.
    if log.level == logging.NOTSET or log.level < logging.INFO:
        log.setLevel(logging.INFO)

