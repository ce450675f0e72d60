"""How tastebot speaks HTTP: the one `requests` session policy of every client it has (the Spotify
gateway, the login's token exchange and refresh, ReccoBeats, the discovery services).

- No urllib3 retries: the project's one `RetryPolicy` (below) decides what is retried and how long
  to wait, for the Spotify gateway and the open services alike.
- No .netrc credentials, for any service: requests would turn an entry for the host into a Basic
  Authorization header, replacing Spotify's bearer token.
- The environment's proxies (HTTPS_PROXY, NO_PROXY, ...) and CA bundle (REQUESTS_CA_BUNDLE,
  CURL_CA_BUNDLE) are honoured as requests honours them, but read once per host: requests reads the
  whole environment at every request, a third of a request's time on loopback. A change to the
  environment after a process's first request to a host is not seen; a redirect to another host is
  sent with the first host's proxy.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import requests

from tastebot import notices
from tastebot.errors import RateLimited
from tastebot.wording import human_seconds

__all__ = ["http_session", "RetryPolicy", "retry_after_seconds", "default_countdown"]


class _Session(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # the environment is read below, once per host; .netrc never
        adapter = requests.adapters.HTTPAdapter(max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self._environment: dict[tuple[str, str], tuple[dict[str, str], str | None]] = {}

    def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        origin = urlsplit(url)[:2]
        if origin not in self._environment:
            self._environment[origin] = (requests.utils.get_environ_proxies(url),
                                         os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"))
        env_proxies, ca_bundle = self._environment[origin]
        proxies = {**env_proxies, **(proxies or {})}
        if (verify is True or verify is None) and ca_bundle:
            verify = ca_bundle
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


def http_session() -> requests.Session:
    """A new session with the policy of the module docstring."""
    return _Session()


def retry_after_seconds(headers: Mapping[str, str] | None, default: float = 5.0) -> float:
    """The seconds a 429's Retry-After asks for (`default` when it says nothing readable)."""
    if not headers:
        return default
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        # An HTTP date is allowed by the standard; Spotify sends seconds, but be safe.
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return default


def default_countdown(seconds: float, service: str) -> None:
    """Wait `seconds`, told through tastebot.notices (the CLI shows a countdown on stderr)."""
    notices.wait(seconds, f"{service} asks tastebot to slow down: waiting {{}} (Ctrl-C stops; progress is saved)")


class RetryPolicy:
    """What tastebot does on 429 and transient failures; shared by the Spotify and ReccoBeats clients.

    `countdown(seconds, service)` does the waiting for 429 (default: `default_countdown`, through
    tastebot.notices); a caller with its own progress display passes one that shows the wait there.
    """

    server_retries = 6        # 5xx / dropped connection / timeout: attempts after the first
    backoff_base = 0.25       # seconds; doubles each retry
    backoff_max = 8.0
    rate_limit_budget = 3.0   # total 429 waiting per request, in multiples of max_wait (at least 60 s)

    def __init__(self, max_wait: float, countdown: Callable[[float, str], None] | None = None):
        self.max_wait = float(max_wait)
        self.countdown = countdown or default_countdown
        self.rate_limited_waits = 0
        self.retries = 0
        self.waited_s = 0.0

    def backoff(self, attempt: int) -> None:
        self.retries += 1
        time.sleep(min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1))))

    def wait_rate_limit(self, retry_after: float, service: str, waited_for_request: float) -> float:
        """Wait for a 429, or raise RateLimited when the wait is longer than max_wait (or the total
        waiting for one request exceeds its budget). Returns the seconds waited."""
        budget = max(60.0, self.rate_limit_budget * self.max_wait)
        if retry_after > self.max_wait or waited_for_request + retry_after > budget:
            until = datetime.now(timezone.utc) + timedelta(seconds=retry_after)
            raise RateLimited(
                f"{service} is rate-limiting tastebot and asks to wait {human_seconds(retry_after)} "
                f"(more than --max-wait {self.max_wait:g} s). Progress is saved: run the command again after "
                f"{until:%Y-%m-%d %H:%M} UTC.",
                retry_after=retry_after,
            )
        self.rate_limited_waits += 1
        self.waited_s += retry_after
        if retry_after > 0:
            self.countdown(retry_after, service)
        return retry_after
