"""The open discovery services as tastebot meets them: Deezer's public API under /deezer and Last.fm's
under /lastfm/2.0/, both derived from the catalogue's hidden structure.

Relatedness: two artists are related as often as other users' playlists hold tracks of both (the
listener's own playlists do not count); each artist's related list is its 20 most related artists.
Quirks, kept on purpose (../shared/spotify/EXPORTS-AND-OPEN-APIS.md):

Deezer (`/deezer/search/artist?q=`, `/deezer/artist/{id}`, `/deezer/artist/{id}/related`,
`/deezer/artist/{id}/top?limit=`, `/deezer/track/{id}`, `/deezer/track/isrc:{ISRC}`):
- its own numeric ids; list items are partial objects (a partial track has no `isrc`);
- **errors come back with HTTP 200**: `{"error": {"type": "DataException", "message": "no data",
  "code": 800}}` for an unknown id, `{"error": {"type": "Exception", "message": "Quota limit exceeded",
  "code": 4}}` past the quota (off unless configured: `quota` requests per 5 s);
- name variants: some artists are spelled otherwise (accents dropped, "The" added or dropped, "&" as
  "and", upper case), some titles carry " (Album Version)"; about 8 % of tracks have an empty `isrc`;
  about 3 % of Spotify's tracks are not on Deezer at all;
- search is forgiving (accents, case, "the" and "&" do not matter) and ranks by fans.

Last.fm (`/lastfm/2.0/?method=artist.getsimilar|artist.gettoptracks&artist=NAME&api_key=K&format=json`):
- every call needs an `api_key` (missing: HTTP 403, error 10); an unknown artist is error 6 with
  HTTP 200; past the quota HTTP 429, error 29, with `Retry-After`;
- artists by name only (autocorrect forgives accents and case); no ISRCs anywhere.

Test controls per service (`Sandbox.configure_discovery(service, ...)`, `POST /_sandbox/discovery`):
`down` (503 to everything), `garbage` (an HTML page with HTTP 200), `quota` (requests per `window`
seconds, default 5; None: no quota), `retry_after` (Last.fm's 429). Every request's query is kept in
`queries` and requests that carry an Authorization header or a cookie are counted in `leaks`, so
tests can check what tastebot sends.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
import zlib
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from tastebot.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from tastebot.sandbox.server import Sandbox

RELATED = 20
QUOTA_WINDOW_S = 5.0
SERVICES = ("deezer", "lastfm")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def loose(name: str) -> str:
    """How the services compare names: no accents, no case, '&' = 'and', no leading 'the'."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", " and ")
    text = _NON_WORD.sub(" ", text).strip()
    return text[4:] if text.startswith("the ") else text


def _draw(key: str, salt: str) -> int:
    return zlib.crc32(f"{salt}:{key}".encode()) % 100


def variant_name(name: str, key: str, salt: str) -> str:
    """The service's spelling of an artist: the same name for most, a variant for about 14 %."""
    r = _draw(key, salt)
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    if r < 4 and folded != name:
        return folded
    if r < 8:
        return name[4:] if name.lower().startswith("the ") else f"The {name}"
    if r < 11 and " & " in name:
        return name.replace(" & ", " and ")
    if r < 14:
        return name.upper()
    return name


class OpenServiceControls:
    def __init__(self) -> None:
        self.down = False
        self.garbage = False
        self.quota: int | None = None
        self.retry_after = 1.0
        self.window = QUOTA_WINDOW_S
        self.seen: deque[float] = deque()

    def over_quota(self) -> bool:
        if self.quota is None:
            return False
        now = time.monotonic()
        while self.seen and now - self.seen[0] > self.window:
            self.seen.popleft()
        if len(self.seen) >= self.quota:
            return True
        self.seen.append(now)
        return False


class World:
    """The catalogue as both services see it: relations, popularity, their ids and spellings."""

    def __init__(self, sandbox: "Sandbox"):
        st = sandbox.state
        self.state = st
        catalog = sandbox.catalog
        self.artist_ids = [a["id"] for a in catalog["artists"]]
        self.deezer_artist = {aid: 100000 + i for i, aid in enumerate(self.artist_ids)}
        self.artist_by_deezer = {v: k for k, v in self.deezer_artist.items()}
        self.deezer_track: dict[str, int] = {}
        for i, t in enumerate(catalog["tracks"]):
            if _draw(t["id"], "deezer-absent") >= 3:  # about 3 % are not on Deezer
                self.deezer_track[t["id"]] = 3000000 + i
        self.track_by_deezer = {v: k for k, v in self.deezer_track.items()}
        # Deezer's /track/isrc:{ISRC}: the first track on Deezer with that ISRC, in catalogue order.
        self.track_by_isrc: dict[str, str] = {}
        for tid, t in st.tracks.items():
            if tid in self.deezer_track and t.get("isrc"):
                self.track_by_isrc.setdefault(t["isrc"].upper(), tid)
        self._names: dict[tuple[str, str], str] = {}
        pops: dict[str, list[int]] = {}
        for t in catalog["tracks"]:
            for aid in t.get("artist_ids", []):
                pops.setdefault(aid, []).append(int(t.get("popularity") or 0))
        self.popularity = {aid: (sum(p) / len(p) if p else 0.0) for aid, p in pops.items()}
        listener = catalog["listener"]["user_id"]
        shared: dict[str, Counter] = {aid: Counter() for aid in self.artist_ids}
        for pl in catalog["playlists"]:
            if pl["owner_id"] == listener:
                continue
            artists = sorted({a for tid in pl["track_ids"] for a in st.tracks[tid].get("artist_ids", [])})
            for a in artists:
                row = shared[a]
                for b in artists:
                    if b != a:
                        row[b] += 1
        self.related = {
            aid: [b for b, _ in sorted(row.items(), key=lambda kv: (-kv[1], -self.popularity.get(kv[0], 0), kv[0]))][:RELATED]
            for aid, row in shared.items()
        }
        self.shared = shared
        self.by_loose: dict[str, list[str]] = {}
        for aid in self.artist_ids:
            self.by_loose.setdefault(loose(st.artists[aid]["name"]), []).append(aid)

    def name(self, aid: str, salt: str) -> str:
        key = (aid, salt)
        if key not in self._names:  # the catalogue is fixed: each spelling is worked out once
            self._names[key] = variant_name(self.state.artists[aid]["name"], aid, salt)
        return self._names[key]

    def fans(self, aid: str) -> int:
        return int(50 * 1.09 ** self.popularity.get(aid, 0))

    def top_tracks(self, aid: str, *, on_deezer: bool) -> list[str]:
        ids = [t for t in self.state.artist_tracks.get(aid, []) if self.state.tracks[t]["artist_ids"][0] == aid]
        if on_deezer:
            ids = [t for t in ids if t in self.deezer_track]
        return sorted(ids, key=lambda t: (-(self.state.tracks[t].get("popularity") or 0), t))

    def find(self, query: str) -> list[str]:
        """Artists whose loose name contains the loose query, most popular first."""
        q = loose(query)
        if not q:
            return []
        hits = [aid for key, aids in self.by_loose.items() if q in key for aid in aids]
        return sorted(hits, key=lambda a: (loose(self.state.artists[a]["name"]) != q, -self.popularity.get(a, 0), a))


class OpenServices:
    """Routes and state of the emulated open services of one sandbox."""

    def __init__(self, sandbox: "Sandbox"):
        self.sandbox = sandbox
        self.controls = {s: OpenServiceControls() for s in SERVICES}
        self.leaks = 0
        self.queries: list[tuple[str, str, dict[str, list[str]]]] = []  # (service, path, query): what was sent
        self._world: World | None = None
        self._lock = threading.Lock()

    @property
    def world(self) -> World:
        with self._lock:
            if self._world is None:
                self._world = World(self.sandbox)
            return self._world

    def configure(self, service: str, **options: Any) -> dict[str, Any]:
        if service not in self.controls:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}, not {service!r}")
        c = self.controls[service]
        for key, value in options.items():
            if key not in ("down", "garbage", "quota", "retry_after", "window"):
                raise ValueError(f"unknown option {key!r}")
            if key == "quota" and value is not None and int(value) < 1:
                raise ValueError("quota must be >= 1 (or None for none)")
            setattr(c, key, value)
        c.seen.clear()
        return {"down": c.down, "garbage": c.garbage, "quota": c.quota, "retry_after": c.retry_after,
                "window": c.window}

    # -- dispatch ----------------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[str | None, Any]:
        """(stats template, handler) for a path under /deezer or /lastfm; (None, None) otherwise."""
        if path.startswith("/deezer/"):
            rest = path[len("/deezer"):]
            for template, regex in _DEEZER_ROUTES:
                m = regex.fullmatch(rest)
                if m:
                    handler = (lambda req, m=m, t=template: self._deezer(req, t, m.groupdict())) if method == "GET" else None
                    return f"/deezer{template}", handler
            return "/deezer/(unknown)", (lambda req: self._deezer(req, None, {})) if method == "GET" else None
        if path in ("/lastfm/2.0", "/lastfm/2.0/"):
            return "/lastfm/2.0/", (self._lastfm if method == "GET" else None)
        return None, None

    def _common(self, service: str, req: Request) -> Response | None:
        with self._lock:
            self.queries.append((service, req.path, {k: list(v) for k, v in req.query.items()}))
            if req.headers.get("Authorization") or req.headers.get("Cookie"):
                self.leaks += 1
        c = self.controls[service]
        if c.down:
            return Response(503, "<html><body><h1>503 Service Unavailable</h1></body></html>")
        if c.garbage:
            return Response(200, "<html><body>Please enable JavaScript</body></html>")
        return None

    # -- Deezer --------------------------------------------------------------------------------------
    def _deezer(self, req: Request, template: str | None, params: dict[str, str]) -> Response:
        early = self._common("deezer", req)
        if early is not None:
            return early
        if self.controls["deezer"].over_quota():
            return Response(200, {"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}})
        no_data = Response(200, {"error": {"type": "DataException", "message": "no data", "code": 800}})
        if template is None:
            return Response(200, {"error": {"type": "MissingParameterException", "message": "Unknown method", "code": 501}})
        w = self.world
        limit = _int(req.arg("limit"), 25, 1, 100)
        if template == "/search/artist":
            hits = w.find(req.arg("q") or "")
            return Response(200, _deezer_list([self._deezer_artist(a) for a in hits[:limit]], total=len(hits)))
        if template.startswith("/track/isrc:"):
            tid = w.track_by_isrc.get(params["isrc"].upper())
            return Response(200, self._deezer_track(tid, full=True)) if tid else no_data
        if template == "/track/{id}":
            tid = w.track_by_deezer.get(_int(params["id"], -1, -1, None))
            return Response(200, self._deezer_track(tid, full=True)) if tid else no_data
        aid = w.artist_by_deezer.get(_int(params.get("id"), -1, -1, None))
        if aid is None:
            return no_data
        if template == "/artist/{id}":
            return Response(200, self._deezer_artist(aid))
        if template == "/artist/{id}/related":
            related = w.related.get(aid, [])
            return Response(200, _deezer_list([self._deezer_artist(a) for a in related[:limit]], total=len(related)))
        if template == "/artist/{id}/top":
            top = w.top_tracks(aid, on_deezer=True)
            return Response(200, _deezer_list([self._deezer_track(t, full=False) for t in top[:limit]], total=len(top)))
        return no_data

    @property
    def state(self):
        return self.sandbox.state

    def _deezer_artist(self, aid: str) -> dict[str, Any]:
        w = self.world
        did = w.deezer_artist[aid]
        return {"id": did, "name": w.name(aid, "deezer"), "link": f"https://www.deezer.com/artist/{did}",
                "nb_album": len(self.state.artist_albums.get(aid, [])), "nb_fan": w.fans(aid), "radio": True,
                "tracklist": f"https://api.deezer.com/artist/{did}/top?limit=50", "type": "artist"}

    def _deezer_track(self, tid: str, *, full: bool) -> dict[str, Any]:
        w = self.world
        t = self.state.tracks[tid]
        did = w.deezer_track[tid]
        title = t["name"] + (" (Album Version)" if _draw(tid, "deezer-title") < 8 else "")
        album = self.state.albums.get(t["album_id"], {})
        lead = t["artist_ids"][0]
        obj: dict[str, Any] = {
            "id": did, "readable": True, "title": title, "title_short": t["name"], "title_version": "",
            "link": f"https://www.deezer.com/track/{did}", "duration": int(round(t["duration_ms"] / 1000)),
            "rank": int(t.get("popularity") or 0) * 9173, "explicit_lyrics": bool(t.get("explicit")),
            "artist": {"id": w.deezer_artist[lead], "name": w.name(lead, "deezer"), "type": "artist"},
            "album": {"id": zlib.crc32(t["album_id"].encode()) % 10**8, "title": album.get("name", ""), "type": "album"},
            "type": "track",
        }
        if full:
            obj["isrc"] = "" if _draw(tid, "deezer-isrc") < 8 else (t.get("isrc") or "")
            obj["release_date"] = album.get("release_date", "")
            obj["bpm"] = 0
            obj["contributors"] = [{"id": w.deezer_artist[a], "name": w.name(a, "deezer"), "type": "artist"}
                                   for a in t["artist_ids"] if a in w.deezer_artist]
        return obj

    # -- Last.fm -------------------------------------------------------------------------------------
    def _lastfm(self, req: Request) -> Response:
        early = self._common("lastfm", req)
        if early is not None:
            return early
        c = self.controls["lastfm"]
        if not (req.arg("api_key") or "").strip():
            return Response(403, {"error": 10, "message": "Invalid API key - You must be granted a valid key by last.fm"})
        if c.over_quota():
            return Response(429, {"error": 29, "message": "Rate Limit Exceded"}, headers={"Retry-After": f"{c.retry_after:g}"})
        method = (req.arg("method") or "").lower()
        if method not in ("artist.getsimilar", "artist.gettoptracks"):
            return Response(400, {"error": 3, "message": "Invalid Method - No method with that name in this package"})
        w = self.world
        name = req.arg("artist") or ""
        hits = [a for a in w.find(name) if loose(self.state.artists[a]["name"]) == loose(name)]
        if not hits:
            return Response(200, {"error": 6, "message": "The artist you supplied could not be found", "links": []})
        aid = hits[0]
        limit = _int(req.arg("limit"), 50 if method == "artist.gettoptracks" else 100, 1, 1000)
        shown = w.name(aid, "lastfm")
        if method == "artist.getsimilar":
            row = w.shared[aid]
            best = max(row.values(), default=1)
            similar = [{"name": w.name(b, "lastfm"), "mbid": "", "match": f"{row[b] / best:.6f}",
                        "url": f"https://www.last.fm/music/{w.name(b, 'lastfm').replace(' ', '+')}", "streamable": "0"}
                       for b in w.related.get(aid, [])[:limit]]
            return Response(200, {"similarartists": {"artist": similar, "@attr": {"artist": shown}}})
        tracks = []
        for rank, tid in enumerate(w.top_tracks(aid, on_deezer=False)[:limit], start=1):
            t = self.state.tracks[tid]
            tracks.append({"name": t["name"], "playcount": str((t.get("popularity") or 0) * 1000 + 7), "mbid": "",
                           "url": "https://www.last.fm/music/x/_/y", "streamable": "0",
                           "artist": {"name": shown, "mbid": "", "url": "https://www.last.fm/music/x"},
                           "@attr": {"rank": str(rank)}})
        return Response(200, {"toptracks": {"track": tracks, "@attr": {"artist": shown, "page": "1"}}})


_DEEZER_ROUTES = [
    ("/search/artist", re.compile(r"/search/artist")),
    ("/artist/{id}", re.compile(r"/artist/(?P<id>[^/]+)")),
    ("/artist/{id}/related", re.compile(r"/artist/(?P<id>[^/]+)/related")),
    ("/artist/{id}/top", re.compile(r"/artist/(?P<id>[^/]+)/top")),
    ("/track/isrc:{isrc}", re.compile(r"/track/isrc:(?P<isrc>[^/]+)")),
    ("/track/{id}", re.compile(r"/track/(?P<id>[^/]+)")),
]


def _int(value: Any, default: int, lo: int, hi: int | None) -> int:
    try:
        x = int(str(value))
    except (TypeError, ValueError):
        return default
    if x < lo:
        return default
    return min(x, hi) if hi is not None else x


def _deezer_list(items: list, *, total: int) -> dict[str, Any]:
    return {"data": items, "total": total}
