"""ReccoBeats: free audio features for Spotify track ids (no key), over plain `requests`.

`GET {base}/audio-features?ids=<up to 40 Spotify ids>` answers `{"content": [...]}` where each
entry's `id` is ReccoBeats' own uuid and the Spotify id is only the last part of `href`. Unknown ids
are silently left out and the order is not the request's, so answers are matched by the id in
`href`, never by position; an entry whose id was not asked for is dropped.

It is a third-party service that can vanish: 403/404/410 or an unreachable host raise
FeatureProviderError, and the feature chain skips ReccoBeats for the rest of the run. 429 is
handled like the Spotify gateway's (wait up to --max-wait with a countdown, else RateLimited); the
HTTP loop is tastebot.providers.openhttp's, shared with the discovery providers.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from tastebot.errors import FeatureProviderError
from tastebot.providers.openhttp import OpenService
from tastebot.settings import Settings
from tastebot.httpsession import RetryPolicy
from tastebot.vocab import AUDIO_FEATURES

BATCH = 40


def spotify_id_from_href(href: Any) -> str | None:
    """'https://open.spotify.com/track/ID?si=..' (or any URL/URI ending in the id) -> 'ID'."""
    if not isinstance(href, str) or not href.strip():
        return None
    text = href.strip()
    if text.startswith("spotify:"):
        return text.rsplit(":", 1)[-1] or None
    path = urlsplit(text).path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    return last or None


class ReccoBeatsClient:
    def __init__(self, settings: Settings, *, policy: RetryPolicy | None = None,
                 countdown: Callable[[float, str], None] | None = None):
        self.settings = settings
        self.base = settings.features_url
        self.http = OpenService(settings, "ReccoBeats", self.base, error=FeatureProviderError, endpoint="reccobeats",
                                policy=policy, countdown=countdown)
        self.policy = self.http.policy

    @property
    def request_count(self) -> int:
        return self.http.request_count

    def _get(self, ids: Sequence[str]) -> Any:
        return self.http.get_json("/audio-features", {"ids": ",".join(ids)})

    def audio_features(self, track_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """{spotify id: {feature: value}} for the ids ReccoBeats knows; 40 ids a request."""
        ids = list(dict.fromkeys(t for t in track_ids if t))
        out: dict[str, dict[str, float]] = {}
        for i in range(0, len(ids), BATCH):
            chunk = ids[i:i + BATCH]
            out.update(self.parse(self._get(chunk), chunk))
        return out

    @staticmethod
    def parse(answer: Any, asked: Sequence[str]) -> dict[str, dict[str, float]]:
        """Match an answer to the asked ids by the id at the end of `href`; drop everything else."""
        wanted = set(asked)
        content = answer.get("content") if isinstance(answer, dict) else answer
        out: dict[str, dict[str, float]] = {}
        for entry in content if isinstance(content, list) else []:
            if not isinstance(entry, dict):
                continue
            sid = spotify_id_from_href(entry.get("href"))
            if sid not in wanted or sid in out:
                continue
            values: dict[str, float] = {}
            for name in AUDIO_FEATURES:
                v = entry.get(name)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    continue
                if name == "key" and v < 0:  # -1: unknown
                    continue
                values[name] = float(v)
            if values:
                out[sid] = values
        return out


class ReccoBeatsFeatures:
    """ReccoBeats in the feature chain (tastebot.providers.audio_features.FeatureSource's shape): the
    chain's own client, BATCH ids a call, always tried."""

    name = "reccobeats"
    batch = BATCH

    def __init__(self, chain):
        self.client = chain.reccobeats

    def unavailable(self) -> tuple[str, bool] | None:
        return None

    def fetch(self, track_ids: list[str]) -> dict[str, dict[str, float]]:
        return self.client.audio_features(track_ids)

    def requests(self) -> int:
        return self.client.request_count


FEATURE_SOURCE = ReccoBeatsFeatures  # registered by its name in vocab.API_PROVIDERS
