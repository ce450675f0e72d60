"""Deezer's public API as a discovery provider (no key, no login).

Sends: an artist name to `/search/artist?q=`, then only Deezer's own numeric ids
(`/artist/{id}/related`, `/artist/{id}/top`, `/track/{id}`). Never a token, never who the listener is.

Deezer answers errors with HTTP 200 and a body `{"error": {"code": ...}}`: code 800 ("no data") is
"not found", code 4 ("Quota limit exceeded", about 50 requests per 5 s) is a rate limit, waited out
with the project's retry policy like a 429 (a pause longer than --max-wait drops Deezer for the run);
any other code is Deezer refusing. A list's tracks are partial (no `isrc`): the ISRC comes from
`/track/{id}`, and an empty `isrc` there means Deezer has none (then title and artist are used).
"""

from __future__ import annotations

from typing import Any, Mapping

from tastebot.discovery.base import Provider, RelatedArtist, Seed, SuggestedTrack, need
from tastebot.names import loose_artist_name
from tastebot.errors import DiscoveryError

SEARCH_LIMIT = 5


class DeezerProvider(Provider):
    name = "deezer"
    label = "Deezer"
    quota_pause = 5.0  # seconds: Deezer's quota window

    @classmethod
    def base(cls, settings) -> str:
        return settings.deezer_base  # TASTEBOT_DEEZER_URL may point it elsewhere

    def fetch(self, path: str, params: Mapping[str, Any]) -> Any:
        waited = 0.0
        while True:
            answer = self.http.get_json(path, params)
            error = answer.get("error") if isinstance(answer, dict) else None
            if not error:
                return answer
            code = error.get("code") if isinstance(error, dict) else None
            if code == 800:  # "no data": an unknown id
                return None
            if code == 4:  # "Quota limit exceeded", with HTTP 200
                waited += self.http.policy.wait_rate_limit(self.quota_pause, self.label, waited)
                continue
            message = error.get("message") if isinstance(error, dict) else None
            raise DiscoveryError(f"Deezer refused a request ({str(message or error)[:80]}, code {code}).",
                                 endpoint=self.name)

    def related(self, seed: Seed, limit: int) -> list[RelatedArtist]:
        found = need(self.get("/search/artist", {"q": seed.name, "limit": SEARCH_LIMIT}) or {}, dict, "a search", self)
        want = loose_artist_name(seed.name)
        match = next((a for a in _items(found) if loose_artist_name(a.get("name")) == want and a.get("id") is not None), None)
        if match is None:
            return []
        self.outcome.seeds_found += 1
        related = need(self.get(f"/artist/{match['id']}/related", {"limit": limit}) or {}, dict, "related artists", self)
        return [RelatedArtist(name=str(a["name"]), ref=a["id"], seed=seed, rank=i)
                for i, a in enumerate(a for a in _items(related) if a.get("name") and a.get("id") is not None)]

    def tracks(self, artist: RelatedArtist, limit: int) -> list[SuggestedTrack]:
        top = need(self.get(f"/artist/{artist.ref}/top", {"limit": limit}) or {}, dict, "top tracks", self)
        out = []
        for t in _items(top)[:limit]:
            title = t.get("title")
            by = (t.get("artist") or {}).get("name") if isinstance(t.get("artist"), dict) else None
            if isinstance(title, str) and title and t.get("id") is not None:
                out.append(SuggestedTrack(title=title, artist=str(by or artist.name), isrc=None, related=artist,
                                          ref=t["id"]))
        return out

    def isrc(self, track: SuggestedTrack) -> str | None:
        full = self.get(f"/track/{track.ref}")
        value = full.get("isrc") if isinstance(full, dict) else None
        return value.strip().upper() if isinstance(value, str) and value.strip() else None


def _items(answer: dict) -> list[dict]:
    data = answer.get("data")
    return [x for x in data if isinstance(x, dict)] if isinstance(data, list) else []


PROVIDER = DeezerProvider  # registered by its name in settings.DISCOVERY_PROVIDERS (discovery.chain.provider_class)
