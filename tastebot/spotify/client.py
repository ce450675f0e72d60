"""The Spotify gateway: the only module that calls the Web API (through spotipy).

`SpotifyClient(settings)` wraps `spotipy.Spotify` with spotipy's own retrying switched off and a
bounded policy of tastebot's own:

- 429: wait `Retry-After` when it is at most `settings.max_wait` seconds, with a countdown on
  stderr; otherwise raise `RateLimited` (exit 75) saying when to try again. Callers commit their
  progress page by page, so stopping here loses nothing.
- 5xx, dropped connections, timeouts: a few retries with exponential backoff, then `SpotifyError`.
- 401: one token refresh, then the request again.
- 403/404: a clear message per endpoint (a playlist a development-mode app may not read, an
  endpoint gone for this kind of app, ...).

Messages never carry tokens: spotipy sends the token in a header, and errors are built from the
endpoint name, the status and Spotify's short message only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterator, Sequence

import requests
import spotipy
from spotipy.exceptions import SpotifyException

from tastebot.errors import (
    AuthError, FeatureProviderError, InputError, NotLoggedIn, SpotifyError, UncertainWrite,
)
from tastebot.httpsession import RetryPolicy, http_session, retry_after_seconds
from tastebot.settings import Settings
from tastebot.spotify.auth import api_auth_manager, quiet_spotipy_logging
from tastebot.spotify.login_state import read_state, remember_app_kind

__all__ = [
    "SpotifyClient",
    "NotFound",
    "AppCannotRead",
    "PlaylistRefused",
    "PlaylistNotFound",
    "EditorialPlaylistHidden",
    "EndpointUnavailable",
]


# The probe for the kind of app: an id that exists on every Spotify; any answer but 403 means the
# audio-features endpoint is served (extended quota).
PROBE_TRACK_ID = "4uLU6hMCjMI75M1A2tKUQC"

PAGE_SAVED = 50
PAGE_TOP = 50
PAGE_PLAYLISTS = 50
PAGE_PLAYLIST_ITEMS = 50
PAGE_SEARCH = 10          # development-mode limit; extended apps accept 50 but 10 works everywhere
PAGE_ARTIST_ALBUMS = 10   # development-mode limit
PAGE_ALBUM_TRACKS = 50
PAGE_FOLLOWED = 50
BATCH_AUDIO_FEATURES = 100
BATCH_ARTISTS = 50
BATCH_ADD_ITEMS = 100


class NotFound(SpotifyError):
    """404 on one track, artist, album or playlist named by id: Spotify has no such thing. Bad input
    (exit 2), not an outage: a scheduled job must not retry it forever."""

    exit_code = 2


class AppCannotRead(SpotifyError):
    """It exists, but this kind of app may not read it: a limit of the app (exit 3), not an outage."""

    exit_code = 3


class PlaylistRefused(AppCannotRead):
    """403 on a playlist's items: a development-mode app may read only playlists the user owns or
    collaborates on."""


class PlaylistNotFound(NotFound):
    """404 on a playlist: deleted or mistyped."""


class EditorialPlaylistHidden(PlaylistNotFound):
    """404 on one of Spotify's own editorial or algorithmic playlists (ids `37i9dQZF...`): they exist, but
    new and development-mode apps get 404 for them (../shared/spotify/API-2026.md). A limit of the app."""

    exit_code = 3


# Spotify's own editorial and algorithmic playlists: hidden (404) from new and development-mode apps.
EDITORIAL_PREFIX = "37i9dQZF"
# Endpoints that read one thing by its id, and what that thing is called.
_ONE_THING = {"track": "track", "artist": "artist", "album": "album"}


class EndpointUnavailable(SpotifyError):
    """The endpoint is gone or refused for this kind of app (403/404 on the whole endpoint)."""



def _transient(exc: BaseException) -> bool:
    return isinstance(
        exc,
        (requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError),
    )


class _BadAnswer(Exception):
    """A 2xx answer without the JSON a GET must carry (a body cut short): retried like a 5xx."""


class SpotifyClient:
    """Every Web API call tastebot makes. Counts requests in `request_count` (every attempt)."""

    def __init__(self, settings: Settings, *, auth_manager: Any = None,
                 countdown: Callable[[float, str], None] | None = None):
        self.settings = settings
        if auth_manager is None:
            quiet_spotipy_logging()
            auth_manager = api_auth_manager(settings)
        self.auth_manager = auth_manager
        # Without urllib3 retries (http_session): spotipy's Retry would turn a 503 into a bare "429
        # Max Retries" and sleep on Retry-After by itself. tastebot decides the waiting.
        self._sp = spotipy.Spotify(
            auth_manager=auth_manager,
            requests_session=http_session(),
            requests_timeout=settings.request_timeout,
            retries=0,
            status_retries=0,
        )
        self._sp.prefix = settings.api_url
        self.policy = RetryPolicy(settings.max_wait, countdown)
        self.request_count = 0
        self.requests_by_endpoint: Counter[str] = Counter()
        self._app_kind: str | None = None
        self._me: dict | None = None

    @property
    def service(self) -> str:
        return "The Spotify sandbox" if self.settings.is_sandbox else "Spotify"

    # -- the one place requests go through ---------------------------------------------------------
    def _call(self, label: str, fn: Callable[[], Any], *, expect_json: bool = True, context: str | None = None,
              idempotent: bool = True) -> Any:
        """Send one request through spotipy, waiting out 429s, refreshing on 401 and retrying
        failures. A request that is not `idempotent` (a write) is never retried after a failure
        that may have reached Spotify (5xx, dropped connection, timeout, unreadable answer): it
        raises UncertainWrite and the caller checks what is there first. 429 and 401 answers are
        retried for writes too, since Spotify did not carry those requests out."""
        failures = 0
        refreshed = False
        waited = 0.0
        while True:
            self.request_count += 1
            self.requests_by_endpoint[label] += 1
            try:
                result = fn()
                # Every Web API answer tastebot reads is a JSON object; anything else is a broken answer.
                if expect_json and not isinstance(result, dict):
                    raise _BadAnswer()
                return result
            except SpotifyException as exc:
                status = exc.http_status
                if status == 429:
                    waited += self.policy.wait_rate_limit(retry_after_seconds(exc.headers), self.service, waited)
                    continue
                if status == 401 and not refreshed:
                    refreshed = True
                    self._refresh_token()
                    continue
                if status is not None and 500 <= status < 600 and not idempotent:
                    raise self._uncertain(label, f"HTTP {status}", context) from None
                if status is not None and 500 <= status < 600 and failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise self._error(label, status, _spotify_message(exc), context) from None
            except _BadAnswer:
                if not idempotent:
                    raise self._uncertain(label, "an unreadable answer", context) from None
                if failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise SpotifyError(
                    f"{self.service} kept answering {label} with an empty or unreadable body; try again later.",
                    endpoint=label,
                ) from None
            except requests.exceptions.RequestException as exc:
                if _transient(exc) and not idempotent:
                    raise self._uncertain(label, type(exc).__name__, context) from None
                if _transient(exc) and failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise SpotifyError(
                    f"Cannot reach {self.service} at {self.settings.api_url} ({type(exc).__name__}, "
                    f"{failures + 1} attempts); check the connection and try again.",
                    endpoint=label,
                ) from None

    def _uncertain(self, label: str, what: str, context: str | None) -> UncertainWrite:
        where = f" {context}" if context else ""
        return UncertainWrite(
            f"{self.service} failed on {label}{where} ({what}); it may or may not have carried it out.",
            endpoint=label,
        )

    def _refresh_token(self) -> None:
        refresh = getattr(self.auth_manager, "refresh_now", None)
        if callable(refresh):
            refresh()
            return
        cached = getattr(self.auth_manager, "cache_handler", None)
        token = cached.get_cached_token() if cached is not None else None
        if token and token.get("refresh_token") and hasattr(self.auth_manager, "refresh_access_token"):
            self.auth_manager.refresh_access_token(token["refresh_token"])

    def _error(self, label: str, status: int | None, message: str | None, context: str | None) -> SpotifyError:
        what = f" {context}" if context else ""
        detail = f": {message}" if message else ""
        if status == 401:
            return NotLoggedIn(f"{self.service} refused the login even after refreshing it: run `tastebot login`.")
        if status == 403 and message and "registered" in message.lower():
            return AuthError(
                f"{self.service} refused: this Spotify user is not registered on the app. A development-mode app "
                "serves only the users added in its dashboard (Users and Access, at most 5)."
            )
        if label == "playlist_items" and status == 403:
            return PlaylistRefused(
                f"Spotify refuses the items of playlist{what}: on a development-mode app you can only read playlists "
                "you own or collaborate on; copy it into a playlist of your own.",
                status=status, endpoint=label,
            )
        if label in ("playlist", "playlist_items") and status == 404:
            if context and context.startswith(EDITORIAL_PREFIX):
                return EditorialPlaylistHidden(
                    f"Playlist{what} is one of Spotify's own editorial playlists, which Spotify hides from new and "
                    "development-mode apps (it answers 404); copy its tracks into a playlist of your own.",
                    status=status, endpoint=label,
                )
            return PlaylistNotFound(f"Playlist{what} not found: it was deleted, or the id is mistyped.",
                                    status=status, endpoint=label)
        if label in _ONE_THING and status == 404 and context:
            return NotFound(f"{_ONE_THING[label].capitalize()} {context} not found on {self.service}: check the id.",
                            status=status, endpoint=label)
        if label == "audio_features" and status in (403, 404, 410):
            return FeatureProviderError(
                f"Spotify's /audio-features is not available to this app (HTTP {status}): development-mode apps "
                "lost it in 2024.",
                status=status, endpoint=label,
            )
        if status in (403, 404, 410):
            return EndpointUnavailable(
                f"{self.service} refuses {label}{what} for this app (HTTP {status}{detail}); development-mode apps "
                "lost part of the Web API.",
                status=status, endpoint=label,
            )
        if status == 400:
            return SpotifyError(f"{self.service} rejected the request to {label}{what} (HTTP 400{detail}).",
                                status=status, endpoint=label)
        if status is not None and status >= 500:
            return SpotifyError(
                f"{self.service} kept failing on {label} (HTTP {status}) after {self.policy.server_retries + 1} "
                "attempts; try again later.",
                status=status, endpoint=label,
            )
        return SpotifyError(f"{self.service} answered {label}{what} with HTTP {status}{detail}.",
                            status=status, endpoint=label)

    def _get(self, label: str, path: str, context: str | None = None, **params: Any) -> Any:
        params = {k: v for k, v in params.items() if v is not None}
        return self._call(label, lambda: self._sp._get(path, **params), context=context)

    def _pages(self, label: str, first: Callable[[], Any], key: str | None = None,
               context: str | None = None) -> Iterator[dict]:
        """Follow `next` links from a first page; `key` picks the paging object out of the answer."""
        page = self._call(label, first, context=context)
        seen = 0
        while True:
            paging = page.get(key) if key else page
            if not isinstance(paging, dict):
                return
            paging = self._checked_paging(label, paging)
            yield paging
            seen += len(paging["items"])
            nxt = paging.get("next")
            # An empty page, or one past the total, ends the listing whatever `next` says: a broken
            # server must not keep tastebot paging forever.
            if not nxt or not paging["items"] or (paging.get("total") is not None and seen >= paging["total"]):
                return
            page = self._call(label, lambda url=nxt: self._sp._get(url), context=context)

    def _checked_paging(self, label: str, paging: dict) -> dict:
        """A paging object whose fields have the types the spec gives, or a SpotifyError naming it."""
        def bad(field: str) -> SpotifyError:
            return SpotifyError(f"{self.service} answered {label} with a malformed page ({field!r} has the wrong type).",
                                endpoint=label)

        items = paging.get("items")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise bad("items")
        for field in ("total", "offset", "limit"):
            value = paging.get(field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise bad(field)
        nxt = paging.get("next")
        if nxt is not None and not isinstance(nxt, str):
            raise bad("next")
        return {**paging, "items": items}

    # -- who and what -----------------------------------------------------------------------------
    def me(self) -> dict:
        if self._me is None:
            self._me = self._get("me", "me")
        return self._me

    def app_kind(self, *, recheck: bool = False) -> str:
        """'development' or 'extended': one probe (GET /audio-features?ids=<id>; 403 = development),
        remembered with the login (login.json) so later commands do not ask again."""
        if self._app_kind and not recheck:
            return self._app_kind
        if not recheck:
            kind = read_state(self.settings).get("app_kind")
            if kind in ("development", "extended"):
                self._app_kind = kind
                return kind
        try:
            self._get("app_kind_probe", "audio-features", ids=PROBE_TRACK_ID)
            kind = "extended"
        except SpotifyError as exc:
            if exc.status in (403,):
                kind = "development"
            elif exc.status in (400, 404):  # served, but this id is unknown here
                kind = "extended"
            else:
                raise
        self._app_kind = kind
        try:
            remember_app_kind(self.settings, kind)
        except Exception:  # remembering is an optimisation: never fail a command over it
            pass
        return kind

    # -- the listener's library ------------------------------------------------------------------
    def saved_tracks_pages(self, offset: int = 0, limit: int = PAGE_SAVED) -> Iterator[dict]:
        """Pages of /me/tracks (newest first), items {added_at, track}, from `offset` on."""
        return self._pages("saved_tracks", lambda: self._sp._get("me/tracks", limit=limit, offset=offset))

    def top_tracks(self, time_range: str, limit: int = PAGE_TOP) -> list[dict]:
        items: list[dict] = []
        first = lambda: self._sp._get("me/top/tracks", time_range=time_range, limit=limit, offset=0)  # noqa: E731
        for page in self._pages("top_tracks", first, context=time_range):
            items.extend(i for i in page.get("items") or [] if isinstance(i, dict))
        return items

    def top_artists(self, time_range: str = "medium_term", limit: int = PAGE_TOP) -> list[dict]:
        items: list[dict] = []
        first = lambda: self._sp._get("me/top/artists", time_range=time_range, limit=limit, offset=0)  # noqa: E731
        for page in self._pages("top_artists", first, context=time_range):
            items.extend(i for i in page.get("items") or [] if isinstance(i, dict))
        return items

    def recently_played(self, after: int | None = None, limit: int = 50) -> dict:
        """One page of /me/player/recently-played (only the last 50 plays exist): {items, cursors}.
        `after` is a time in ms: only plays after it."""
        return self._get("recently_played", "me/player/recently-played", limit=limit, after=after)

    def my_playlists(self) -> list[dict]:
        """Every playlist in the user's library (owned and followed)."""
        out: list[dict] = []
        first = lambda: self._sp._get("me/playlists", limit=PAGE_PLAYLISTS, offset=0)  # noqa: E731
        for page in self._pages("my_playlists", first):
            out.extend(p for p in page.get("items") or [] if isinstance(p, dict) and p.get("id"))
        return out

    def playlist(self, playlist_id: str, fields: str | None = None) -> dict:
        return self._get("playlist", f"playlists/{playlist_id}", context=playlist_id, fields=fields)

    def playlist_items_pages(self, playlist_id: str, offset: int = 0, limit: int = PAGE_PLAYLIST_ITEMS) -> Iterator[dict]:
        """Pages of /playlists/{id}/items from `offset`. Each item carries `item` (2026) or `track`
        (older); use `playlist_item_track(item)` to read either."""
        first = lambda: self._sp._get(  # noqa: E731
            f"playlists/{playlist_id}/items", limit=limit, offset=offset, additional_types="track"
        )
        return self._pages("playlist_items", first, context=playlist_id)

    # -- catalogue ----------------------------------------------------------------------------------
    def search(self, q: str, type: str = "track", limit: int = PAGE_SEARCH, offset: int = 0,  # noqa: A002
               market: str | None = None) -> dict:
        return self._get("search", "search", q=q, type=type, limit=limit, offset=offset, market=market)

    def track(self, track_id: str) -> dict:
        return self._get("track", f"tracks/{track_id}", context=track_id)

    def artist(self, artist_id: str) -> dict:
        return self._get("artist", f"artists/{artist_id}", context=artist_id)

    def artists(self, artist_ids: Sequence[str]) -> list[dict]:
        """Full artists (with genres) 50 a call: extended-quota apps only (403 otherwise)."""
        out: list[dict] = []
        ids = list(dict.fromkeys(artist_ids))
        for i in range(0, len(ids), BATCH_ARTISTS):
            answer = self._get("artists", "artists", ids=",".join(ids[i:i + BATCH_ARTISTS]))
            out.extend(a for a in answer.get("artists") or [] if isinstance(a, dict))
        return out

    def album(self, album_id: str) -> dict:
        return self._get("album", f"albums/{album_id}", context=album_id)

    def artist_albums(self, artist_id: str, include_groups: str = "album,single",
                      max_items: int | None = None) -> list[dict]:
        out: list[dict] = []
        first = lambda: self._sp._get(  # noqa: E731
            f"artists/{artist_id}/albums", include_groups=include_groups, limit=PAGE_ARTIST_ALBUMS, offset=0
        )
        for page in self._pages("artist_albums", first, context=artist_id):
            out.extend(a for a in page.get("items") or [] if isinstance(a, dict))
            if max_items is not None and len(out) >= max_items:
                return out[:max_items]
        return out

    def album_tracks(self, album_id: str) -> list[dict]:
        """Simplified tracks of an album (no album field: pass the album to Store.upsert_tracks)."""
        out: list[dict] = []
        first = lambda: self._sp._get(f"albums/{album_id}/tracks", limit=PAGE_ALBUM_TRACKS, offset=0)  # noqa: E731
        for page in self._pages("album_tracks", first, context=album_id):
            out.extend(t for t in page.get("items") or [] if isinstance(t, dict))
        return out

    def followed_artists(self) -> list[dict]:
        out: list[dict] = []
        first = lambda: self._sp._get("me/following", type="artist", limit=PAGE_FOLLOWED)  # noqa: E731
        for page in self._pages("followed_artists", first, key="artists"):
            out.extend(a for a in page.get("items") or [] if isinstance(a, dict))
        return out

    def audio_features(self, track_ids: Sequence[str]) -> dict[str, dict]:
        """Spotify's audio features {id: features} (extended-quota apps), 100 ids a call; ids Spotify
        does not know are left out. Raises FeatureProviderError when the endpoint is refused."""
        out: dict[str, dict] = {}
        ids = list(dict.fromkeys(t for t in track_ids if t))
        for i in range(0, len(ids), BATCH_AUDIO_FEATURES):
            chunk = ids[i:i + BATCH_AUDIO_FEATURES]
            answer = self._get("audio_features", "audio-features", ids=",".join(chunk))
            wanted = set(chunk)
            for entry in (answer.get("audio_features") if isinstance(answer, dict) else answer) or []:
                if isinstance(entry, dict) and entry.get("id") in wanted:
                    out[entry["id"]] = entry
        return out

    # -- writing -----------------------------------------------------------------------------------
    def create_playlist(self, name: str, public: bool = False, description: str = "") -> dict:
        """POST /me/playlists (the 2026 endpoint)."""
        payload = {"name": name, "public": bool(public), "description": description}
        return self._call("create_playlist", lambda: self._sp._post("me/playlists", payload=payload), idempotent=False)

    def add_items(self, playlist_id: str, uris: Sequence[str], position: int | None = None) -> list[str]:
        """Add track URIs (or ids) at most 100 a request; returns the snapshot ids. Not retried after
        a failure that may have reached Spotify: UncertainWrite says to read the playlist before adding
        again (tastebot.recommend.playlist does)."""
        snapshots: list[str] = []
        full = [u if u.startswith("spotify:") else f"spotify:track:{u}" for u in uris]
        for i in range(0, len(full), BATCH_ADD_ITEMS):
            chunk = full[i:i + BATCH_ADD_ITEMS]
            pos = None if position is None else position + i
            answer = self._call(
                "add_items",
                lambda chunk=chunk, pos=pos: self._sp.playlist_add_items(playlist_id, chunk, position=pos),
                context=playlist_id, idempotent=False,
            )
            if isinstance(answer, dict) and answer.get("snapshot_id"):
                snapshots.append(answer["snapshot_id"])
        return snapshots


    def replace_items(self, playlist_id: str, uris: Sequence[str]) -> str | None:
        """PUT /playlists/{id}/items: the playlist's items become these (at most 100; none clears it).
        Setting the same list twice gives the same playlist, so a failure is retried like a read."""
        if len(uris) > BATCH_ADD_ITEMS:
            raise InputError(f"At most {BATCH_ADD_ITEMS} items replace a playlist's items in one request.")
        full = [u if u.startswith("spotify:") else f"spotify:track:{u}" for u in uris]
        answer = self._call("replace_items", lambda: self._sp._put(f"playlists/{playlist_id}/items", payload={"uris": full}),
                            context=playlist_id)
        return answer.get("snapshot_id")

    def change_description(self, playlist_id: str, description: str) -> None:
        """PUT /playlists/{id}: the description (the same text twice changes nothing)."""
        self._call("change_playlist", lambda: self._sp._put(f"playlists/{playlist_id}", payload={"description": description}),
                   expect_json=False, context=playlist_id)



def _spotify_message(exc: Any) -> str | None:
    """Spotify's short error message, without the URL spotipy prefixes (no secrets either way)."""
    msg = str(getattr(exc, "msg", "") or "")
    if ":\n" in msg:
        msg = msg.split(":\n", 1)[1]
    msg = msg.strip()
    if not msg or msg == "None":
        return None
    msg = " ".join(msg.split())
    return msg if len(msg) <= 120 else msg[:117] + "..."
