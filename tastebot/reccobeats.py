"""ReccoBeats: free audio features for Spotify track ids (no key), over plain `requests`.

`GET {base}/audio-features?ids=<up to 40 Spotify ids>` answers `{"content": [...]}` where each
entry's `id` is ReccoBeats' own uuid and the Spotify id is only the last part of `href`. Unknown ids
are silently left out and the order is not the request's, so answers are matched by the id in
`href`, never by position; an entry whose id was not asked for is dropped.

It is a third-party service that can vanish: 403/404/410 or an unreachable host raise
FeatureProviderError, and the feature chain skips ReccoBeats for the rest of the run. 429 is
handled like the Spotify gateway's (wait up to --max-wait with a countdown, else RateLimited).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

import requests

from tastebot.errors import FeatureProviderError
from tastebot.settings import Settings
from tastebot.spotify import RetryPolicy, _retry_after
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
        self.policy = policy or RetryPolicy(settings.max_wait, countdown)
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.request_count = 0

    def _get(self, ids: Sequence[str]) -> Any:
        url = f"{self.base}/audio-features"
        failures = 0
        waited = 0.0
        while True:
            self.request_count += 1
            try:
                response = self.session.get(url, params={"ids": ",".join(ids)}, timeout=self.settings.request_timeout,
                                            headers={"Accept": "application/json"})
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                if failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise FeatureProviderError(
                    f"ReccoBeats is unreachable at {self.base} ({type(exc).__name__}, {failures + 1} attempts).",
                    endpoint="reccobeats",
                ) from None
            except requests.exceptions.RequestException as exc:
                raise FeatureProviderError(f"ReccoBeats request failed ({type(exc).__name__}).",
                                           endpoint="reccobeats") from None
            status = response.status_code
            if status == 429:
                waited += self.policy.wait_rate_limit(_retry_after(response.headers), "ReccoBeats", waited)
                continue
            if 500 <= status < 600:
                if failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise FeatureProviderError(
                    f"ReccoBeats kept failing (HTTP {status}) after {failures + 1} attempts.",
                    status=status, endpoint="reccobeats",
                )
            if status != 200:
                gone = "is gone or refuses tastebot" if status in (403, 404, 410) else "rejected the request"
                raise FeatureProviderError(f"ReccoBeats {gone} (HTTP {status}).", status=status, endpoint="reccobeats")
            try:
                return response.json()
            except ValueError:
                if failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise FeatureProviderError("ReccoBeats keeps answering with something that is not JSON.",
                                           endpoint="reccobeats") from None

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
