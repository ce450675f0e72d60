"""Test helpers that drive a running sandbox over HTTP with the standard library only (no spotipy, no tastebot):

    token = pkce_login(sb.url)              # one auto-approved PKCE login -> Spotify's token answer
    api_get(sb.url, "/v1/me", token)        # (status, JSON body)
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ALL_SCOPES = (
    "user-read-recently-played user-top-read user-library-read playlist-read-private "
    "playlist-read-collaborative playlist-modify-private playlist-modify-public user-follow-read"
)
TEST_REDIRECT_URI = "http://127.0.0.1:8765/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _call(method: str, url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def pkce_login(base_url: str, *, client_id: str = "tastebot-test", scope: str = ALL_SCOPES,
               redirect_uri: str = TEST_REDIRECT_URI) -> dict[str, Any]:
    """Complete a PKCE login against the sandbox (auto-approved) and return the token answer,
    with `expires_at` added as spotipy does."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    state = secrets.token_urlsafe(8)
    query = urlencode({"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
                       "code_challenge_method": "S256", "code_challenge": challenge, "state": state,
                       "scope": scope, "auto_approve": "1"})
    status, headers, body = _call("GET", f"{base_url}/authorize?{query}")
    if status != 302:
        raise RuntimeError(f"sandbox /authorize answered {status}: {body[:200]!r}")
    back = parse_qs(urlsplit(headers["Location"]).query)
    if back.get("state") != [state]:
        raise RuntimeError("sandbox /authorize returned a different state")
    form = urlencode({"grant_type": "authorization_code", "code": back["code"][0], "redirect_uri": redirect_uri,
                      "client_id": client_id, "code_verifier": verifier}).encode()
    status, _, body = _call("POST", f"{base_url}/api/token", data=form,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise RuntimeError(f"sandbox /api/token answered {status}: {body[:200]!r}")
    token = json.loads(body)
    token["expires_at"] = int(time.time()) + int(token["expires_in"])
    return token


def api_call(base_url: str, method: str, path: str, token: dict[str, Any] | str | None = None,
             body: Any = None) -> tuple[int, Any, dict[str, str]]:
    """One Web API call: (status, parsed JSON or None, headers)."""
    headers = {}
    if token is not None:
        access = token if isinstance(token, str) else token["access_token"]
        headers["Authorization"] = f"Bearer {access}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    status, resp_headers, raw = _call(method, base_url + path, data=data, headers=headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return status, parsed, resp_headers


def api_get(base_url: str, path: str, token: dict[str, Any] | str | None = None) -> tuple[int, Any]:
    status, parsed, _ = api_call(base_url, "GET", path, token)
    return status, parsed
