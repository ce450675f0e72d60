"""JSON over plain `requests` for the open services beside Spotify (ReccoBeats, Deezer, Last.fm).

One loop, the project's one retry policy (tastebot.httpsession.RetryPolicy): 429 waits `Retry-After` up
to --max-wait with a countdown (else RateLimited), 5xx, dropped connections, timeouts and answers
that are not JSON get bounded retries with backoff; any other non-200 status is the service refusing.
Every failure is raised as the caller's error class (a FeatureProviderError for ReccoBeats, a
DiscoveryError for the discovery providers) with a one-line message naming the service. Requests
carry no cookies, no Authorization header and nothing about the listener: only what the caller
puts in the query.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import requests

from tastebot.errors import SpotifyError
from tastebot.httpsession import RetryPolicy, http_session, retry_after_seconds
from tastebot.settings import Settings


class OpenService:
    """GET JSON from one open service at `base`; `name` is how messages call it."""

    def __init__(self, settings: Settings, name: str, base: str, *, error: type[SpotifyError],
                 endpoint: str, policy: RetryPolicy | None = None,
                 countdown: Callable[[float, str], None] | None = None):
        self.settings = settings
        self.name = name
        self.base = base.rstrip("/")
        self.error = error
        self.endpoint = endpoint
        self.policy = policy or RetryPolicy(settings.max_wait, countdown)
        self.session = http_session()
        self.request_count = 0

    def get_json(self, path: str = "", params: Mapping[str, Any] | None = None) -> Any:
        """The decoded JSON answer of GET base+path?params (HTTP 200 only)."""
        url = f"{self.base}{path}"
        failures = 0
        waited = 0.0
        while True:
            self.request_count += 1
            try:
                response = self.session.get(url, params=dict(params or {}), timeout=self.settings.request_timeout,
                                            headers={"Accept": "application/json"})
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                if failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise self.error(
                    f"{self.name} is unreachable at {self.base} ({type(exc).__name__}, {failures + 1} attempts).",
                    endpoint=self.endpoint,
                ) from None
            except requests.exceptions.RequestException as exc:
                raise self.error(f"{self.name} request failed ({type(exc).__name__}).", endpoint=self.endpoint) from None
            status = response.status_code
            if status == 429:
                waited += self.policy.wait_rate_limit(retry_after_seconds(response.headers), self.name, waited)
                continue
            if 500 <= status < 600:
                if failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise self.error(f"{self.name} kept failing (HTTP {status}) after {failures + 1} attempts.",
                                 status=status, endpoint=self.endpoint)
            if status != 200:
                gone = "is gone or refuses tastebot" if status in (403, 404, 410) else "rejected the request"
                raise self.error(f"{self.name} {gone} (HTTP {status}).", status=status, endpoint=self.endpoint)
            try:
                return response.json()
            except ValueError:
                if failures < self.policy.server_retries:
                    failures += 1
                    self.policy.backoff(failures)
                    continue
                raise self.error(f"{self.name} keeps answering with something that is not JSON.",
                                 endpoint=self.endpoint) from None
