"""The Web API under /v1: Spotify's object shapes, paging, limits, errors and the 2026 restrictions
of development-mode apps (profile "development") or the old full API (profile "extended").

Shapes follow fixed-spotify-open-api.yml (2026.5.31); where real Spotify departs from the spec
(null playlist items, local files with null ids, null cursors at the end) the sandbox does what
Spotify does. The `fields` and `market` query parameters are accepted and ignored: the answer is
always the full object, a superset of any field selection.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any, Callable

from tastebot.sandbox.state import PlaylistState, local_file_parts, now_iso, parse_iso
from tastebot.sandbox.wire import ApiError, Request, Response, paging, parse_limit, parse_offset

if TYPE_CHECKING:
    from tastebot.sandbox.server import Sandbox

OPEN = "https://open.spotify.com"
MARKETS = ["AR", "AU", "BR", "CA", "DE", "ES", "FR", "GB", "IT", "JP", "MX", "NL", "SE", "US"]
ADD_MAX = 100
LIBRARY_MAX = 40
PLAYLIST_MAX_ITEMS = 10_000
TIME_RANGES = ("short_term", "medium_term", "long_term")
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
MODIFY_SCOPES = ("playlist-modify-public", "playlist-modify-private")
_URI_RE = re.compile(r"^spotify:(track|episode|album|artist|playlist|show|user|audiobook):([A-Za-z0-9_.-]+)$")

FORBIDDEN = "Forbidden"
NOT_FOUND = "Resource not found"
GONE = "Service not found"

# (method, template, handler name, scopes: any one of them suffices)
ROUTES: list[tuple[str, str, str, tuple[str, ...]]] = []


def route(method: str, template: str, scopes: tuple[str, ...] = ()) -> Callable:
    def register(fn: Callable) -> Callable:
        ROUTES.append((method, template, fn.__name__, scopes))
        return fn

    return register


def _ms(iso_text: str) -> int:
    return int(parse_iso(iso_text).timestamp() * 1000)


def _ids_arg(req: Request, most: int) -> list[str]:
    raw = req.arg("ids")
    if not raw:
        raise ApiError(400, "invalid id")
    ids = [i.strip() for i in raw.split(",") if i.strip()]
    if not ids:
        raise ApiError(400, "invalid id")
    if len(ids) > most:
        raise ApiError(400, "Too many ids requested")
    return ids


def _quoted_terms(text: str) -> list[tuple[str | None, str]]:
    """Split a search query into (field or None, value) terms; quotes keep phrases together."""
    terms: list[tuple[str | None, str]] = []
    pattern = re.compile(r'(?:(\w+):)?(?:"([^"]*)"|(\S+))')
    for m in pattern.finditer(text):
        fld, quoted, bare = m.group(1), m.group(2), m.group(3)
        value = quoted if quoted is not None else bare
        if fld is not None:
            fld = fld.lower()
            if fld not in {"artist", "album", "track", "year", "genre", "isrc", "tag", "upc"}:
                # Not a field filter (e.g. "re:mix"): the whole token is plain text.
                terms.append((None, f"{m.group(1)}:{value}"))
                continue
        if value == "" and fld is None:
            continue
        terms.append((fld, value))
    return terms


def _year_range(value: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", value.strip())
    if not m:
        return None
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    return (min(lo, hi), max(lo, hi))


class WebApi:
    def __init__(self, sandbox: "Sandbox"):
        self.sb = sandbox
        self.state = sandbox.state
        self._cache: dict[tuple[str, str], Any] = {}
        self._search_memo: dict[tuple, tuple[str, ...]] = {}
        self._id_rng = random.Random(f"ids:{sandbox.seed}")
        self._artist_popularity: dict[str, int] = {}
        for aid, tids in self.state.artist_tracks.items():
            pops = [self.state.tracks[t].get("popularity") or 0 for t in tids]
            self._artist_popularity[aid] = int(round(sum(pops) / len(pops))) if pops else 0

    # -- profile -------------------------------------------------------------------------------

    @property
    def extended(self) -> bool:
        return self.sb.profile == "extended"

    @property
    def base(self) -> str:
        return self.sb.url

    def _dev_forbidden(self, message: str | None = FORBIDDEN) -> None:
        if not self.extended:
            raise ApiError(403, message)

    # -- object builders (cached; never mutated after building) --------------------------------

    def _cached(self, kind: str, key: str, build: Callable[[], Any]) -> Any:
        hit = self._cache.get((kind, key))
        if hit is None:
            hit = build()
            self._cache[(kind, key)] = hit
        return hit

    def user_ref(self, uid: str, *, display_name: bool = False) -> dict[str, Any]:
        obj = {
            "external_urls": {"spotify": f"{OPEN}/user/{uid}"},
            "href": f"{self.base}/v1/users/{uid}",
            "id": uid,
            "type": "user",
            "uri": f"spotify:user:{uid}",
        }
        if display_name:
            obj["display_name"] = self.state.users.get(uid, {}).get("display_name")
        return obj

    def artist_simple(self, aid: str) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            a = self.state.artists[aid]
            return {"external_urls": {"spotify": f"{OPEN}/artist/{aid}"}, "href": f"{self.base}/v1/artists/{aid}",
                    "id": aid, "name": a["name"], "type": "artist", "uri": f"spotify:artist:{aid}"}

        return self._cached("artist_simple", aid, build)

    def artist_full(self, aid: str) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            obj = dict(self.artist_simple(aid))
            obj["images"] = []
            if self.extended:
                pop = self._artist_popularity.get(aid, 0)
                obj["followers"] = {"href": None, "total": int(pop ** 3 // 7 + len(aid) * 13)}
                obj["genres"] = list(self.state.artists[aid].get("genres", []))
                obj["popularity"] = pop
            else:
                obj["genres"] = []  # development apps get none
            return obj

        return self._cached("artist_full", aid, build)

    def album_simple(self, alb: str) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            a = self.state.albums[alb]
            return {
                "album_type": a.get("album_type", "album"),
                "artists": [self.artist_simple(x) for x in a.get("artist_ids", []) if x in self.state.artists],
                "available_markets": list(MARKETS) if self.extended else [],
                "external_urls": {"spotify": f"{OPEN}/album/{alb}"},
                "href": f"{self.base}/v1/albums/{alb}",
                "id": alb,
                "images": [],
                "name": a["name"],
                "release_date": a.get("release_date"),
                "release_date_precision": a.get("release_date_precision", "day"),
                "total_tracks": len(self.state.album_tracks.get(alb, [])),
                "type": "album",
                "uri": f"spotify:album:{alb}",
            }

        return self._cached("album_simple", alb, build)

    def track_simple(self, tid: str) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            t = self.state.tracks[tid]
            return {
                "artists": [self.artist_simple(x) for x in t.get("artist_ids", []) if x in self.state.artists],
                "available_markets": list(MARKETS) if self.extended else [],
                "disc_number": t.get("disc_number", 1),
                "duration_ms": t["duration_ms"],
                "explicit": bool(t.get("explicit", False)),
                "external_urls": {"spotify": f"{OPEN}/track/{tid}"},
                "href": f"{self.base}/v1/tracks/{tid}",
                "id": tid,
                "is_local": False,
                "name": t["name"],
                "preview_url": None,
                "track_number": t.get("track_number", 1),
                "type": "track",
                "uri": f"spotify:track:{tid}",
            }

        return self._cached("track_simple", tid, build)

    def track_full(self, tid: str) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            t = self.state.tracks[tid]
            obj = dict(self.track_simple(tid))
            obj["album"] = self.album_simple(t["album_id"])
            obj["external_ids"] = {"isrc": t["isrc"]} if t.get("isrc") else {}
            if self.extended and t.get("popularity") is not None:
                obj["popularity"] = t["popularity"]
            return obj

        return self._cached("track_full", tid, build)

    @staticmethod
    def local_track(uri: str) -> dict[str, Any]:
        """A local file as Spotify shows it: no ids, no hrefs, names only."""
        p = local_file_parts(uri)
        return {
            "album": {"album_type": None, "artists": [], "available_markets": [], "external_urls": {}, "href": None,
                      "id": None, "images": [], "name": p["album"], "release_date": None,
                      "release_date_precision": None, "type": "album", "uri": None},
            "artists": [{"external_urls": {}, "href": None, "id": None, "name": p["artist"], "type": "artist", "uri": None}],
            "available_markets": [], "disc_number": 0, "duration_ms": p["duration_ms"], "explicit": False,
            "external_ids": {}, "external_urls": {}, "href": None, "id": None, "is_local": True, "name": p["name"],
            "popularity": 0, "preview_url": None, "track_number": 0, "type": "track", "uri": uri,
        }

    def album_full(self, req: Request, alb: str) -> dict[str, Any]:
        a = self.state.albums[alb]
        obj = dict(self.album_simple(alb))
        tids = self.state.album_tracks.get(alb, [])
        limit = 50
        obj["tracks"] = paging(req, f"/v1/albums/{alb}/tracks", [self.track_simple(t) for t in tids[:limit]],
                               offset=0, limit=limit, total=len(tids))
        year = (a.get("release_date") or "0000")[:4]
        obj["copyrights"] = [{"text": f"(C) {year} Sandbox Records", "type": "C"},
                             {"text": f"(P) {year} Sandbox Records", "type": "P"}]
        obj["external_ids"] = {}
        obj["genres"] = []
        obj["label"] = "Sandbox Records"
        if self.extended:
            pops = [self.state.tracks[t].get("popularity") or 0 for t in tids]
            obj["popularity"] = int(round(sum(pops) / len(pops))) if pops else 0
        return obj

    def playlist_item(self, pl: PlaylistState, entry: dict[str, Any]) -> dict[str, Any]:
        if entry["local_uri"]:
            track: Any = self.local_track(entry["local_uri"])
        elif entry["track_id"] and entry["track_id"] in self.state.tracks:
            track = self.track_full(entry["track_id"])
        else:
            track = None
        return {
            "added_at": entry["added_at"],
            "added_by": self.user_ref(entry["added_by"]),
            "is_local": bool(entry["local_uri"]),
            "item": track,
            "track": track,
        }

    def playlist_simple(self, pl: PlaylistState) -> dict[str, Any]:
        n = len(pl.entries)
        return {
            "collaborative": pl.collaborative,
            "description": pl.description or "",
            "external_urls": {"spotify": f"{OPEN}/playlist/{pl.id}"},
            "href": f"{self.base}/v1/playlists/{pl.id}",
            "id": pl.id,
            "images": [],
            "items": {"href": f"{self.base}/v1/playlists/{pl.id}/items", "total": n},
            "name": pl.name,
            "owner": self.user_ref(pl.owner_id, display_name=True),
            "public": pl.public,
            "snapshot_id": pl.snapshot_id,
            "tracks": {"href": f"{self.base}/v1/playlists/{pl.id}/tracks", "total": n},
            "type": "playlist",
            "uri": f"spotify:playlist:{pl.id}",
        }

    def playlist_full(self, req: Request, pl: PlaylistState) -> dict[str, Any]:
        obj = self.playlist_simple(pl)
        obj["description"] = pl.description
        obj["followers"] = {"href": None, "total": pl.followers}
        if self.extended or self.state.can_read_items(pl):
            limit = 50
            items = [self.playlist_item(pl, e) for e in pl.entries[:limit]]
            page = paging(req, f"/v1/playlists/{pl.id}/items", items, offset=0, limit=limit, total=len(pl.entries))
            obj["items"] = page
            obj["tracks"] = page
        else:
            # Development apps get metadata only for playlists they neither own nor collaborate on.
            del obj["items"]
            del obj["tracks"]
        return obj

    def features_obj(self, tid: str) -> dict[str, Any] | None:
        f = self.state.features.get(tid)
        if not f or tid not in self.state.tracks:
            return None
        obj: dict[str, Any] = {k: v for k, v in f.items() if v is not None}
        obj.setdefault("key", -1)
        obj.update({
            "analysis_url": f"{self.base}/v1/audio-analysis/{tid}",
            "duration_ms": self.state.tracks[tid]["duration_ms"],
            "id": tid,
            "track_href": f"{self.base}/v1/tracks/{tid}",
            "type": "audio_features",
            "uri": f"spotify:track:{tid}",
        })
        return obj

    # -- lookups -------------------------------------------------------------------------------

    def _track(self, tid: str) -> str:
        if tid not in self.state.tracks:
            raise ApiError(404, NOT_FOUND) if re.fullmatch(r"[A-Za-z0-9]+", tid) else ApiError(400, "invalid id")
        return tid

    def _artist(self, aid: str) -> str:
        if aid not in self.state.artists:
            raise ApiError(404, NOT_FOUND) if re.fullmatch(r"[A-Za-z0-9]+", aid) else ApiError(400, "invalid id")
        return aid

    def _album(self, alb: str) -> str:
        if alb not in self.state.albums:
            raise ApiError(404, NOT_FOUND) if re.fullmatch(r"[A-Za-z0-9]+", alb) else ApiError(400, "invalid id")
        return alb

    def _playlist(self, pid: str) -> PlaylistState:
        pl = self.state.playlists.get(pid)
        if pl is None:
            raise ApiError(404, NOT_FOUND)
        return pl

    # -- users -----------------------------------------------------------------------------------

    @route("GET", "/v1/me")
    def me(self, req: Request) -> Response:
        uid = self.state.listener_id
        obj = self.user_ref(uid, display_name=True)
        obj["followers"] = {"href": None, "total": 3}
        obj["images"] = []
        if self.extended:
            obj["country"] = "SE"
            obj["email"] = f"{uid}@sandbox.invalid"
            obj["product"] = "premium"
            obj["explicit_content"] = {"filter_enabled": False, "filter_locked": False}
        return Response(200, obj)

    @route("GET", "/v1/users/{id}")
    def user_profile(self, req: Request) -> Response:
        self._dev_forbidden()
        uid = req.params["id"]
        if uid not in self.state.users:
            raise ApiError(404, "No such user")
        obj = self.user_ref(uid, display_name=True)
        obj["followers"] = {"href": None, "total": 0}
        obj["images"] = []
        return Response(200, obj)

    @route("GET", "/v1/users/{id}/playlists")
    def user_playlists(self, req: Request) -> Response:
        self._dev_forbidden()
        uid = req.params["id"]
        limit = parse_limit(req, 20, 50)
        offset = parse_offset(req, 100_000)
        with self.state.lock:
            if uid == self.state.listener_id:
                pls = self.state.listener_playlists()
            else:
                pls = [p for p in self.state.playlists.values() if p.owner_id == uid and p.public]
            items = [self.playlist_simple(p) for p in pls[offset:offset + limit]]
        return Response(200, paging(req, f"/v1/users/{uid}/playlists", items, offset=offset, limit=limit, total=len(pls)))

    @route("POST", "/v1/users/{id}/playlists", MODIFY_SCOPES)
    def create_playlist_for_user(self, req: Request) -> Response:
        self._dev_forbidden()
        if req.params["id"] != self.state.listener_id:
            raise ApiError(403, "You cannot create a playlist for another user")
        return self.create_playlist(req)

    # -- library -------------------------------------------------------------------------------

    @route("GET", "/v1/me/tracks", ("user-library-read",))
    def saved_tracks(self, req: Request) -> Response:
        limit = parse_limit(req, 20, 50)
        offset = parse_offset(req)
        with self.state.lock:
            saved = list(self.state.saved)
        items = [{"added_at": added, "track": self.track_full(tid)} for tid, added in saved[offset:offset + limit]]
        return Response(200, paging(req, "/v1/me/tracks", items, offset=offset, limit=limit, total=len(saved)))

    def _uris_arg(self, req: Request) -> list[tuple[str, str]]:
        raw = req.arg("uris")
        if not raw:
            body = req.json()
            if isinstance(body, dict) and isinstance(body.get("uris"), list):
                raw = ",".join(str(u) for u in body["uris"])
        if not raw:
            raise ApiError(400, "Missing required parameter: uris")
        uris = [u.strip() for u in raw.split(",") if u.strip()]
        if len(uris) > LIBRARY_MAX:
            raise ApiError(400, "Too many ids requested")
        parsed = []
        for uri in uris:
            m = _URI_RE.match(uri)
            if not m:
                raise ApiError(400, f"Invalid uri: {uri}")
            parsed.append((m.group(1), m.group(2)))
        return parsed

    @route("PUT", "/v1/me/library")
    def library_save(self, req: Request) -> Response:
        # Not scope-checked: tests use it to act "as the user" with whatever token they hold.
        items = self._uris_arg(req)
        with self.state.lock:
            for kind, ident in items:
                if kind == "track":
                    self._track(ident)
                    if all(tid != ident for tid, _ in self.state.saved):
                        self.state.saved.insert(0, (ident, now_iso()))
                elif kind == "playlist":
                    self._playlist(ident)
                    if ident not in self.state.followed_playlists:
                        self.state.followed_playlists.append(ident)
                elif kind == "artist":
                    self._artist(ident)
                    if ident not in self.state.followed_artists:
                        self.state.followed_artists.append(ident)
        return Response(200, None)

    @route("DELETE", "/v1/me/library")
    def library_remove(self, req: Request) -> Response:
        items = self._uris_arg(req)
        with self.state.lock:
            for kind, ident in items:
                if kind == "track":
                    self.state.saved = [(t, a) for t, a in self.state.saved if t != ident]
                elif kind == "playlist":
                    self.state.followed_playlists = [p for p in self.state.followed_playlists if p != ident]
                elif kind == "artist":
                    self.state.followed_artists = [a for a in self.state.followed_artists if a != ident]
        return Response(200, None)

    @route("GET", "/v1/me/library/contains")
    def library_contains(self, req: Request) -> Response:
        items = self._uris_arg(req)
        with self.state.lock:
            saved = {t for t, _ in self.state.saved}
            answer = []
            for kind, ident in items:
                if kind == "track":
                    answer.append(ident in saved)
                elif kind == "playlist":
                    answer.append(ident in self.state.followed_playlists)
                elif kind == "artist":
                    answer.append(ident in self.state.followed_artists)
                else:
                    answer.append(False)
        return Response(200, answer)

    @route("GET", "/v1/me/top/{type}", ("user-top-read",))
    def top_items(self, req: Request) -> Response:
        kind = req.params["type"]
        if kind not in {"tracks", "artists"}:
            raise ApiError(404, GONE)
        time_range = req.arg("time_range", "medium_term")
        if time_range not in TIME_RANGES:
            raise ApiError(400, "Invalid time range")
        limit = parse_limit(req, 20, 50)
        offset = parse_offset(req)
        tids = [t for t in self.state.top_tracks.get(time_range, []) if t in self.state.tracks]
        if kind == "tracks":
            all_items: list[Any] = tids
            build: Callable[[str], Any] = self.track_full
        else:
            seen: dict[str, None] = {}
            for tid in tids:
                for aid in self.state.tracks[tid].get("artist_ids", []):
                    if aid in self.state.artists:
                        seen.setdefault(aid, None)
            all_items = list(seen)
            build = self.artist_full
        items = [build(x) for x in all_items[offset:offset + limit]]
        return Response(200, paging(req, f"/v1/me/top/{kind}", items, offset=offset, limit=limit,
                                    total=len(all_items), extra={"time_range": time_range}))

    @route("GET", "/v1/me/player/recently-played", ("user-read-recently-played",))
    def recently_played(self, req: Request) -> Response:
        limit = parse_limit(req, 20, 50)
        before = req.arg("before")
        after = req.arg("after")
        if before and after:
            raise ApiError(400, "Only one of 'before' or 'after' may be given")
        try:
            before_ms = int(before) if before else None
            after_ms = int(after) if after else None
        except ValueError:
            raise ApiError(400, "Invalid cursor") from None
        plays = [(tid, at, _ms(at)) for tid, at in self.state.recently_played if tid in self.state.tracks]
        if after_ms is not None:
            newer = [p for p in plays if p[2] > after_ms]
            page = newer[-limit:] if len(newer) > limit else newer  # the ones just after the cursor
            more = len(newer) > limit
        else:
            older = [p for p in plays if before_ms is None or p[2] < before_ms]
            page = older[:limit]
            more = len(older) > limit
        # No context: the catalogue does not say where a play came from (Spotify sends null then too).
        items = [{"track": self.track_full(tid), "played_at": at} for tid, at, _ in page]
        href = req.url("/v1/me/player/recently-played",
                       {"before": before_ms, "after": after_ms, "limit": limit})
        # Spotify's cursors: ms of the newest and oldest play on the page; null on an empty page.
        cursors = {"after": str(page[0][2]), "before": str(page[-1][2])} if page else None
        nxt = None
        if more and page:
            cursor = {"after": page[0][2]} if after_ms is not None else {"before": page[-1][2]}
            nxt = req.url("/v1/me/player/recently-played", {**cursor, "limit": limit})
        return Response(200, {"href": href, "items": items, "limit": limit, "next": nxt, "cursors": cursors})

    @route("GET", "/v1/me/following", ("user-follow-read",))
    def followed_artists(self, req: Request) -> Response:
        if req.arg("type") != "artist":
            raise ApiError(400, "This request requires a 'type' parameter set to 'artist'")
        limit = parse_limit(req, 20, 50)
        after = req.arg("after")
        with self.state.lock:
            ids = [a for a in self.state.followed_artists if a in self.state.artists]
        start = 0
        if after:
            start = ids.index(after) + 1 if after in ids else len(ids)
        page = ids[start:start + limit]
        more = start + limit < len(ids)
        body = {
            "href": req.url("/v1/me/following", {"type": "artist", "after": after, "limit": limit}),
            "items": [self.artist_full(a) for a in page],
            "limit": limit,
            "next": req.url("/v1/me/following", {"type": "artist", "after": page[-1], "limit": limit}) if more else None,
            "cursors": {"after": page[-1] if more else None},
            "total": len(ids),
        }
        return Response(200, {"artists": body})

    # -- playlists -------------------------------------------------------------------------------

    @route("GET", "/v1/me/playlists", ("playlist-read-private",))
    def my_playlists(self, req: Request) -> Response:
        limit = parse_limit(req, 20, 50)
        offset = parse_offset(req, 100_000)
        with self.state.lock:
            pls = self.state.listener_playlists()
            items = [self.playlist_simple(p) for p in pls[offset:offset + limit]]
        return Response(200, paging(req, "/v1/me/playlists", items, offset=offset, limit=limit, total=len(pls)))

    @route("POST", "/v1/me/playlists", MODIFY_SCOPES)
    def create_playlist(self, req: Request) -> Response:
        body = req.json(required=True)
        if not isinstance(body, dict):
            raise ApiError(400, "Error parsing JSON.")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "Missing required field: name")
        public = body.get("public", True)
        collaborative = bool(body.get("collaborative", False))
        if collaborative and public:
            raise ApiError(400, "Collaborative playlists can only be private.")
        description = body.get("description")
        with self.state.lock:
            alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            while True:
                pid = "".join(self._id_rng.choice(alphabet) for _ in range(22))
                if pid not in self.state.playlists:
                    break
            pl = self.state.create_playlist(pid, name, bool(public), collaborative,
                                            description if isinstance(description, str) else None)
            obj = self.playlist_full(req, pl)
        return Response(201, obj)

    @route("GET", "/v1/playlists/{id}")
    def get_playlist(self, req: Request) -> Response:
        with self.state.lock:
            pl = self._playlist(req.params["id"])
            return Response(200, self.playlist_full(req, pl))

    @route("PUT", "/v1/playlists/{id}", MODIFY_SCOPES)
    def change_playlist(self, req: Request) -> Response:
        body = req.json(required=True)
        if not isinstance(body, dict):
            raise ApiError(400, "Error parsing JSON.")
        with self.state.lock:
            pl = self._playlist(req.params["id"])
            if not self.state.owns(pl):
                raise ApiError(403, "You cannot change details of a playlist you don't own.")
            if "name" in body:
                pl.name = str(body["name"])
            if "public" in body:
                pl.public = bool(body["public"])
            if "collaborative" in body:
                pl.collaborative = bool(body["collaborative"])
            if "description" in body:
                pl.description = body["description"]
            pl.changed()
        return Response(200, None)

    def _readable_items(self, pl: PlaylistState) -> None:
        if not self.extended and not self.state.can_read_items(pl):
            raise ApiError(403, FORBIDDEN)

    @route("GET", "/v1/playlists/{id}/items")
    def playlist_items(self, req: Request, max_limit: int = 50, path_tail: str = "items") -> Response:
        limit = parse_limit(req, 20, max_limit)
        offset = parse_offset(req)
        with self.state.lock:
            pl = self._playlist(req.params["id"])
            self._readable_items(pl)
            entries = pl.entries[offset:offset + limit]
            items = [self.playlist_item(pl, e) for e in entries]
            total = len(pl.entries)
        return Response(200, paging(req, f"/v1/playlists/{pl.id}/{path_tail}", items, offset=offset, limit=limit,
                                    total=total))

    def _add_uris(self, req: Request) -> tuple[list[str], int | None]:
        body = req.json()
        raw_q = req.arg("uris")
        position: Any = req.arg("position")
        if raw_q:
            uris = [u.strip() for u in raw_q.split(",") if u.strip()]
        elif isinstance(body, list):  # spotipy sends a bare JSON array
            uris = body
        elif isinstance(body, dict) and isinstance(body.get("uris"), list):
            uris = body["uris"]
        else:
            raise ApiError(400, "No uris provided")
        if position is None and isinstance(body, dict):
            position = body.get("position")
        if position is not None:
            try:
                position = int(position)
            except (TypeError, ValueError):
                raise ApiError(400, "Invalid position") from None
            if position < 0:
                raise ApiError(400, "Invalid position")
        if not uris:
            raise ApiError(400, "No uris provided")
        if len(uris) > ADD_MAX:
            raise ApiError(400, f"You can add a maximum of {ADD_MAX} tracks per request.")
        ids = []
        for uri in uris:
            m = _URI_RE.match(uri) if isinstance(uri, str) else None
            if not m or m.group(1) not in {"track", "episode"}:
                raise ApiError(400, f"Invalid track uri: {uri}")
            if m.group(1) != "track" or m.group(2) not in self.state.tracks:
                raise ApiError(400, "Payload contains a non-existing ID")
            ids.append(m.group(2))
        return ids, position

    @route("POST", "/v1/playlists/{id}/items", MODIFY_SCOPES)
    def add_items(self, req: Request) -> Response:
        ids, position = self._add_uris(req)
        with self.state.lock:
            pl = self._playlist(req.params["id"])
            if not self.state.can_modify(pl):
                raise ApiError(403, "You cannot add tracks to a playlist you don't own.")
            if position is not None and position > len(pl.entries):
                raise ApiError(400, "Index out of bounds")
            if len(pl.entries) + len(ids) > PLAYLIST_MAX_ITEMS:
                raise ApiError(400, "Playlist size limit reached")
            added = now_iso()
            new = [{"track_id": t, "local_uri": None, "added_at": added, "added_by": self.state.listener_id} for t in ids]
            at = len(pl.entries) if position is None else position
            pl.entries[at:at] = new
            pl.changed()
            return Response(201, {"snapshot_id": pl.snapshot_id})

    @route("PUT", "/v1/playlists/{id}/items", MODIFY_SCOPES)
    def replace_or_reorder_items(self, req: Request) -> Response:
        body = req.json()
        body = body if isinstance(body, dict) else {}
        with self.state.lock:
            pl = self._playlist(req.params["id"])
            if not self.state.can_modify(pl):
                raise ApiError(403, "You cannot change a playlist you don't own.")
            if req.arg("uris") is not None or "uris" in body:
                raw = req.arg("uris")
                uris = [u for u in raw.split(",") if u] if raw is not None else body.get("uris") or []
                if len(uris) > ADD_MAX:
                    raise ApiError(400, f"You can set a maximum of {ADD_MAX} tracks per request.")
                ids = []
                for uri in uris:
                    m = _URI_RE.match(uri) if isinstance(uri, str) else None
                    if not m or m.group(1) != "track" or m.group(2) not in self.state.tracks:
                        raise ApiError(400, f"Invalid track uri: {uri}")
                    ids.append(m.group(2))
                added = now_iso()
                pl.entries = [{"track_id": t, "local_uri": None, "added_at": added, "added_by": self.state.listener_id}
                              for t in ids]
            else:
                try:
                    start = int(body["range_start"])
                    before = int(body["insert_before"])
                    length = int(body.get("range_length", 1))
                except (KeyError, TypeError, ValueError):
                    raise ApiError(400, "Missing range_start or insert_before") from None
                n = len(pl.entries)
                if not (0 <= start < n and 0 <= before <= n and length >= 1 and start + length <= n):
                    raise ApiError(400, "Index out of bounds")
                moving = pl.entries[start:start + length]
                rest = pl.entries[:start] + pl.entries[start + length:]
                at = before if before <= start else before - length
                pl.entries = rest[:at] + moving + rest[at:]
            pl.changed()
            return Response(200, {"snapshot_id": pl.snapshot_id})

    @route("DELETE", "/v1/playlists/{id}/items", MODIFY_SCOPES)
    def remove_items(self, req: Request) -> Response:
        body = req.json(required=True)
        if not isinstance(body, dict):
            raise ApiError(400, "Error parsing JSON.")
        wanted = body.get("items", body.get("tracks"))
        if not isinstance(wanted, list) or not wanted:
            raise ApiError(400, "Missing required field: items")
        if len(wanted) > ADD_MAX:
            raise ApiError(400, "Too many tracks requested")
        with self.state.lock:
            pl = self._playlist(req.params["id"])
            if not self.state.can_modify(pl):
                raise ApiError(403, "You cannot remove tracks from a playlist you don't own.")
            drop: set[int] = set()
            for w in wanted:
                uri = w.get("uri") if isinstance(w, dict) else None
                if not isinstance(uri, str):
                    raise ApiError(400, "Could not remove tracks, please check parameters.")
                matches = [i for i, e in enumerate(pl.entries)
                           if (e["local_uri"] == uri) or (e["track_id"] and f"spotify:track:{e['track_id']}" == uri)]
                positions = w.get("positions")
                if positions is not None:
                    if not isinstance(positions, list) or any(p not in matches for p in positions):
                        raise ApiError(400, "Could not remove tracks, please check parameters.")
                    drop.update(positions)
                else:
                    drop.update(matches)
            pl.entries = [e for i, e in enumerate(pl.entries) if i not in drop]
            pl.changed()
            return Response(200, {"snapshot_id": pl.snapshot_id})

    # The pre-2026 /tracks names: gone for development apps (spotipy 2.25 meets these 403s).
    @route("GET", "/v1/playlists/{id}/tracks")
    def old_playlist_tracks(self, req: Request) -> Response:
        self._dev_forbidden()
        return self.playlist_items(req, max_limit=100, path_tail="tracks")

    @route("POST", "/v1/playlists/{id}/tracks", MODIFY_SCOPES)
    def old_add_tracks(self, req: Request) -> Response:
        self._dev_forbidden()
        return self.add_items(req)

    @route("DELETE", "/v1/playlists/{id}/tracks", MODIFY_SCOPES)
    def old_remove_tracks(self, req: Request) -> Response:
        self._dev_forbidden()
        return self.remove_items(req)

    @route("PUT", "/v1/playlists/{id}/tracks", MODIFY_SCOPES)
    def old_replace_tracks(self, req: Request) -> Response:
        self._dev_forbidden()
        return self.replace_or_reorder_items(req)

    # -- catalogue ---------------------------------------------------------------------------------

    @route("GET", "/v1/tracks/{id}")
    def get_track(self, req: Request) -> Response:
        return Response(200, self.track_full(self._track(req.params["id"])))

    @route("GET", "/v1/tracks")
    def several_tracks(self, req: Request) -> Response:
        self._dev_forbidden()
        ids = _ids_arg(req, 50)
        return Response(200, {"tracks": [self.track_full(t) if t in self.state.tracks else None for t in ids]})

    @route("GET", "/v1/artists/{id}")
    def get_artist(self, req: Request) -> Response:
        return Response(200, self.artist_full(self._artist(req.params["id"])))

    @route("GET", "/v1/artists")
    def several_artists(self, req: Request) -> Response:
        self._dev_forbidden()
        ids = _ids_arg(req, 50)
        return Response(200, {"artists": [self.artist_full(a) if a in self.state.artists else None for a in ids]})

    @route("GET", "/v1/albums/{id}")
    def get_album(self, req: Request) -> Response:
        return Response(200, self.album_full(req, self._album(req.params["id"])))

    @route("GET", "/v1/albums")
    def several_albums(self, req: Request) -> Response:
        self._dev_forbidden()
        ids = _ids_arg(req, 20)
        return Response(200, {"albums": [self.album_full(req, a) if a in self.state.albums else None for a in ids]})

    @route("GET", "/v1/albums/{id}/tracks")
    def album_tracks(self, req: Request) -> Response:
        alb = self._album(req.params["id"])
        limit = parse_limit(req, 20, 50)
        offset = parse_offset(req)
        tids = self.state.album_tracks.get(alb, [])
        items = [self.track_simple(t) for t in tids[offset:offset + limit]]
        return Response(200, paging(req, f"/v1/albums/{alb}/tracks", items, offset=offset, limit=limit, total=len(tids)))

    @route("GET", "/v1/artists/{id}/albums")
    def artist_albums(self, req: Request) -> Response:
        aid = self._artist(req.params["id"])
        limit = parse_limit(req, 20 if self.extended else 5, 50 if self.extended else 10)
        offset = parse_offset(req)
        groups_arg = req.arg("include_groups")
        groups = {g.strip() for g in groups_arg.split(",") if g.strip()} if groups_arg else None
        if groups and not groups <= {"album", "single", "appears_on", "compilation"}:
            raise ApiError(400, "Invalid include_groups")
        entries = [e for e in self.state.artist_albums.get(aid, []) if groups is None or e[1] in groups]
        items = []
        for alb, group in entries[offset:offset + limit]:
            obj = dict(self.album_simple(alb))
            obj["album_group"] = group
            items.append(obj)
        extra = {"include_groups": groups_arg} if groups_arg else None
        return Response(200, paging(req, f"/v1/artists/{aid}/albums", items, offset=offset, limit=limit,
                                    total=len(entries), extra=extra))

    @route("GET", "/v1/artists/{id}/top-tracks")
    def artist_top_tracks(self, req: Request) -> Response:
        self._dev_forbidden()
        aid = self._artist(req.params["id"])
        tids = sorted(self.state.artist_tracks.get(aid, []),
                      key=lambda t: (-(self.state.tracks[t].get("popularity") or 0), t))[:10]
        return Response(200, {"tracks": [self.track_full(t) for t in tids]})

    @route("GET", "/v1/artists/{id}/related-artists")
    def related_artists(self, req: Request) -> Response:
        raise ApiError(404, GONE)

    @route("GET", "/v1/recommendations")
    def recommendations(self, req: Request) -> Response:
        raise ApiError(404, GONE)

    @route("GET", "/v1/recommendations/available-genre-seeds")
    def genre_seeds(self, req: Request) -> Response:
        raise ApiError(404, GONE)

    @route("GET", "/v1/audio-features")
    def several_audio_features(self, req: Request) -> Response:
        self._dev_forbidden(None)
        ids = _ids_arg(req, 100)
        return Response(200, {"audio_features": [self.features_obj(t) for t in ids]})

    @route("GET", "/v1/audio-features/{id}")
    def audio_features(self, req: Request) -> Response:
        self._dev_forbidden(None)
        obj = self.features_obj(req.params["id"])
        if obj is None:
            raise ApiError(404, NOT_FOUND)
        return Response(200, obj)

    @route("GET", "/v1/audio-analysis/{id}")
    def audio_analysis(self, req: Request) -> Response:
        self._dev_forbidden(None)
        raise ApiError(404, "analysis not found")

    @route("GET", "/v1/browse/new-releases")
    def new_releases(self, req: Request) -> Response:
        self._dev_forbidden()
        limit = parse_limit(req, 20, 50)
        offset = parse_offset(req)
        albums = sorted(self.state.albums, key=lambda a: (self.state.albums[a].get("release_date") or "", a), reverse=True)
        items = [self.album_simple(a) for a in albums[offset:offset + limit]]
        return Response(200, {"albums": paging(req, "/v1/browse/new-releases", items, offset=offset, limit=limit,
                                               total=len(albums))})

    @route("GET", "/v1/browse/categories")
    def categories(self, req: Request) -> Response:
        self._dev_forbidden()
        raise ApiError(404, GONE)

    @route("GET", "/v1/browse/categories/{id}")
    def category(self, req: Request) -> Response:
        self._dev_forbidden()
        raise ApiError(404, GONE)

    @route("GET", "/v1/browse/categories/{id}/playlists")
    def category_playlists(self, req: Request) -> Response:
        self._dev_forbidden()
        raise ApiError(404, GONE)

    @route("GET", "/v1/browse/featured-playlists")
    def featured_playlists(self, req: Request) -> Response:
        self._dev_forbidden()
        raise ApiError(404, GONE)

    # -- search ------------------------------------------------------------------------------------

    @route("GET", "/v1/search")
    def search(self, req: Request) -> Response:
        q = req.arg("q") if req.arg("q") is not None else req.arg("query")  # `next` links use query=
        if not q or not q.strip():
            raise ApiError(400, "No search query")
        types_arg = req.arg("type")
        if not types_arg:
            raise ApiError(400, "Missing parameter type")
        types = [t.strip() for t in types_arg.split(",") if t.strip()]
        if not types or any(t not in SEARCH_TYPES for t in types):
            raise ApiError(400, "Bad search type field")
        hi = 50 if self.extended else 10
        limit = parse_limit(req, 20 if self.extended else 5, hi)
        offset = parse_offset(req, 1000)
        terms = _quoted_terms(q)
        answer: dict[str, Any] = {}
        for kind in types:
            matches = self._search(kind, terms)
            page = matches[offset:offset + limit]
            items = [self._search_item(kind, x) for x in page]
            key = kind + "s"
            answer[key] = paging(req, "/v1/search", items, offset=offset, limit=limit, total=len(matches),
                                 extra={"query": q, "type": kind})
        return Response(200, answer)

    def _search_item(self, kind: str, ident: str) -> Any:
        if kind == "track":
            return self.track_full(ident)
        if kind == "artist":
            return self.artist_full(ident)
        if kind == "album":
            return self.album_simple(ident)
        if kind == "playlist":
            return self.playlist_simple(self.state.playlists[ident])
        return None

    def _search_rows(self) -> dict[str, list[tuple]]:
        """Lower-cased search fields per track, artist and album, built once (the catalogue is fixed)."""
        rows = self._cache.get(("search", "rows"))
        if rows is not None:
            return rows
        st = self.state

        def year(release: str | None) -> int | None:
            return int(release[:4]) if release and release[:4].isdigit() else None

        def names(ids: list[str]) -> tuple[str, ...]:
            return tuple(st.artists[a]["name"].lower() for a in ids if a in st.artists)

        def genres(ids: list[str]) -> frozenset[str]:
            return frozenset(g.lower() for a in ids for g in st.artists.get(a, {}).get("genres", []))

        artist_years: dict[str, set[int]] = {}
        for aid, entries in st.artist_albums.items():
            artist_years[aid] = {y for alb, _ in entries if (y := year(st.albums[alb].get("release_date"))) is not None}
        rows = {
            "track": sorted(
                ((-(t.get("popularity") or 0), t["name"], tid, t["name"].lower(), names(t.get("artist_ids", [])),
                  st.albums.get(t["album_id"], {}).get("name", "").lower(),
                  year(st.albums.get(t["album_id"], {}).get("release_date")), genres(t.get("artist_ids", [])),
                  (t.get("isrc") or "").upper())
                 for tid, t in st.tracks.items())),
            "artist": sorted(
                ((-self._artist_popularity.get(aid, 0), a["name"], aid, a["name"].lower(), genres([aid]),
                  frozenset(artist_years.get(aid, ())))
                 for aid, a in st.artists.items())),
            "album": sorted(
                ((0, a.get("release_date") or "", alb, a["name"].lower(), names(a.get("artist_ids", [])),
                  year(a.get("release_date")))
                 for alb, a in st.albums.items())),
        }
        self._cache[("search", "rows")] = rows
        return rows

    def _search(self, kind: str, terms: list[tuple[str | None, str]]) -> list[str]:
        """Ids matching every term, most popular first. Free text and artist/album/track filters match
        substrings; genre matches a whole genre name; year a year or a range; isrc exactly."""
        lowered = _lowered_terms(terms)
        if lowered is None:
            return []
        if kind in _CATALOGUE_MATCHERS:
            # The catalogue is fixed, so a query's matches are too: a client paging through them, or
            # asking again, gets them without a scan of every row.
            key = (kind, tuple(lowered))
            found = self._search_memo.get(key)
            if found is None:
                match = _CATALOGUE_MATCHERS[kind]
                found = tuple(row[2] for row in self._search_rows()[kind] if all(match(row, f, v) for f, v in lowered))
                if len(self._search_memo) >= SEARCH_MEMO_SIZE:
                    self._search_memo.clear()
                self._search_memo[key] = found
            return found
        if kind == "playlist":
            ranked = []
            with self.state.lock:
                for pid, pl in self.state.playlists.items():
                    text = f"{pl.name}\n{pl.description or ''}".lower()
                    if pl.public and all(fld is None and v in text for fld, v in lowered):
                        ranked.append((-pl.followers, pl.name, pid))
            return [r[2] for r in sorted(ranked)]
        return []


def _lowered_terms(terms: list[tuple[str | None, str]]) -> list[tuple[str | None, Any]] | None:
    """Search terms in the form the matchers compare: lower case, isrc upper case, a year as a range;
    None when a year cannot match anything."""
    lowered: list[tuple[str | None, Any]] = []
    for fld, value in terms:
        if fld == "year":
            rng = _year_range(value)
            if rng is None:
                return None
            lowered.append((fld, rng))
        elif fld == "isrc":
            lowered.append((fld, value.upper()))
        else:
            lowered.append((fld, value.lower()))
    return lowered


def _in_range(y: int | None, rng: tuple[int, int]) -> bool:
    return y is not None and rng[0] <= y <= rng[1]


def _track_term(row: tuple, fld: str | None, v: Any) -> bool:
    _, _, _, name, artists, album, y, genres, isrc = row
    if fld is None:
        return v in name or any(v in n for n in artists) or v in album
    if fld == "track":
        return v in name
    if fld == "artist":
        return any(v in n for n in artists)
    if fld == "album":
        return v in album
    if fld == "year":
        return _in_range(y, v)
    if fld == "genre":
        return v in genres
    if fld == "isrc":
        return isrc == v
    return False  # tag:, upc: are album-only filters


def _artist_term(row: tuple, fld: str | None, v: Any) -> bool:
    _, _, _, name, genres, years = row
    if fld in (None, "artist"):
        return v in name
    if fld == "genre":
        return v in genres
    if fld == "year":
        return any(_in_range(y, v) for y in years)
    return False


def _album_term(row: tuple, fld: str | None, v: Any) -> bool:
    _, _, _, name, artists, y = row
    if fld is None:
        return v in name or any(v in n for n in artists)
    if fld == "album":
        return v in name
    if fld == "artist":
        return any(v in n for n in artists)
    if fld == "year":
        return _in_range(y, v)
    return False


# The kinds whose matches depend on the fixed catalogue alone (playlists change), and their matchers.
_CATALOGUE_MATCHERS = {"track": _track_term, "artist": _artist_term, "album": _album_term}
SEARCH_MEMO_SIZE = 4096


def build_routes() -> list[tuple[str, str, re.Pattern, str, tuple[str, ...]]]:
    """(method, template, compiled path regex, handler name, scopes) for the dispatcher."""
    compiled = []
    for method, template, name, scopes in ROUTES:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        compiled.append((method, template, re.compile(f"^{pattern}$"), name, scopes))
    return compiled


def check_scopes(token: dict[str, Any], scopes: tuple[str, ...]) -> None:
    if not scopes:
        return
    granted = set((token.get("scope") or "").split())
    if not granted & set(scopes):
        raise ApiError(403, "Insufficient client scope")

