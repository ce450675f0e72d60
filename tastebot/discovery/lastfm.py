"""Last.fm as a discovery provider: `artist.getSimilar` and `artist.getTopTracks`. Optional: it needs
the user's own API key (https://www.last.fm/api/account/create), in TASTEBOT_LASTFM_API_KEY.

Sends: artist names and the user's API key (the key names the user's Last.fm API account, which they
registered for this; tastebot never stores it outside the settings and never in the cache). Never a
Spotify token, never who the listener is on Spotify.

Errors come as `{"error": N, "message": ...}`: 6 (unknown artist, HTTP 200) is "not found", 10 or 26
(invalid or suspended key) and any other code drop Last.fm for the run; 29 (rate limit) comes with
HTTP 429 and is waited out with the project's retry policy. No ISRCs: tracks are matched on Spotify by
title and artist.
"""

from __future__ import annotations

from typing import Any, Mapping

from tastebot.discovery.base import Provider, RelatedArtist, Seed, SuggestedTrack, need
from tastebot.errors import DiscoveryError


class LastfmProvider(Provider):
    name = "lastfm"
    label = "Last.fm"

    @classmethod
    def base(cls, settings) -> str:
        return settings.lastfm_base  # TASTEBOT_LASTFM_URL may point it elsewhere

    @classmethod
    def off_reason(cls, settings) -> str | None:
        return None if settings.lastfm_api_key else "needs your own API key in TASTEBOT_LASTFM_API_KEY"

    def _call(self, method: str, artist: str, limit: int) -> Any:
        params = {"method": method, "artist": artist, "limit": limit, "autocorrect": 1, "format": "json"}
        return self.get("/", params, secret={"api_key": self.settings.lastfm_api_key or ""})

    def fetch(self, path: str, params: Mapping[str, Any]) -> Any:
        try:
            answer = self.http.get_json(path, params)
        except DiscoveryError as exc:
            if exc.status in (400, 401, 403):
                raise DiscoveryError(f"Last.fm refused the request (HTTP {exc.status}): check TASTEBOT_LASTFM_API_KEY.",
                                     status=exc.status, endpoint=self.name) from None
            raise
        if isinstance(answer, dict) and "error" in answer:
            if answer.get("error") == 6:  # the artist could not be found
                return None
            raise DiscoveryError(f"Last.fm refused a request ({str(answer.get('message'))[:80]}, error "
                                 f"{answer.get('error')}).", endpoint=self.name)
        return answer

    def related(self, seed: Seed, limit: int) -> list[RelatedArtist]:
        answer = self._call("artist.getsimilar", seed.name, limit)
        if answer is None:
            return []
        body = need(need(answer, dict, "artist.getSimilar", self).get("similarartists"), dict, "artist.getSimilar", self)
        self.outcome.seeds_found += 1
        artists = body.get("artist")
        artists = [artists] if isinstance(artists, dict) else artists if isinstance(artists, list) else []
        names = [a.get("name") for a in artists if isinstance(a, dict)]
        return [RelatedArtist(name=n, ref=n, seed=seed, rank=i)
                for i, n in enumerate(n for n in names if isinstance(n, str) and n)]

    def tracks(self, artist: RelatedArtist, limit: int) -> list[SuggestedTrack]:
        answer = self._call("artist.gettoptracks", artist.name, limit)
        if answer is None:
            return []
        body = need(need(answer, dict, "artist.getTopTracks", self).get("toptracks"), dict, "artist.getTopTracks", self)
        tracks = body.get("track")
        tracks = [tracks] if isinstance(tracks, dict) else tracks if isinstance(tracks, list) else []
        out = []
        for t in tracks[:limit]:
            if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not t["name"]:
                continue
            by = t.get("artist", {}).get("name") if isinstance(t.get("artist"), dict) else None
            out.append(SuggestedTrack(title=t["name"], artist=str(by or artist.name), isrc=None, related=artist))
        return out


PROVIDER = LastfmProvider  # registered by its name in settings.DISCOVERY_PROVIDERS (discovery.chain.provider_class)
