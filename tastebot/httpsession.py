"""How tastebot speaks HTTP: the one `requests` session policy of every client it has (the Spotify
gateway, the login's token exchange and refresh, ReccoBeats, the discovery services).

- No urllib3 retries: the project's RetryPolicy (tastebot.spotify) decides what is retried and how
  long to wait.
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
from typing import Any
from urllib.parse import urlsplit

import requests

__all__ = ["http_session"]


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
