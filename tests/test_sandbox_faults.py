"""The sandbox's fault options do what they say: 5xx share, rate limit with Retry-After, latency,
dropped connections, token lifetimes; they spare /authorize and the /_sandbox control endpoints."""

from __future__ import annotations

import time

import pytest
import requests
import spotipy

from sandbox_http import api_call, api_get, pkce_login

from test_sandbox_server import tiny_catalog


@pytest.fixture
def tiny_sandbox(make_sandbox):
    def factory(**kw):
        return make_sandbox(catalog=tiny_catalog(), **kw)

    return factory


def test_fault_rate_one_fails_every_api_call_but_not_control_or_authorize(tiny_sandbox):
    sb = tiny_sandbox()
    token = pkce_login(sb.url)
    sb.configure(fault_rate=1.0)
    statuses = set()
    for _ in range(30):
        status, body = api_get(sb.url, "/v1/me", token)
        assert status in (500, 502, 503)
        assert body == {"error": {"status": status, "message": body["error"]["message"]}} and body["error"]["message"]
        statuses.add(status)
    assert statuses == {500, 502, 503}
    assert api_get(sb.url, "/reccobeats/v1/audio-features?ids=t1")[0] >= 500
    assert requests.post(sb.url + "/api/token", data={"grant_type": "refresh_token"}, timeout=10).status_code >= 500
    # Spared: the consent step and the control endpoints.
    assert requests.get(sb.url + "/authorize", params={"client_id": "x"}, timeout=10).status_code == 400
    assert api_get(sb.url, "/_sandbox/stats")[0] == 200
    assert sum(n for s, n in sb.stats()["requests"]["GET /v1/me"].items() if s.startswith("5")) == 30


def test_fault_rate_is_a_share_and_deterministic_per_seed(tiny_sandbox):
    def run(seed):
        sb = tiny_sandbox(seed=seed)
        token = pkce_login(sb.url)
        sb.configure(fault_rate=0.3)
        return [api_get(sb.url, "/v1/me", token)[0] for _ in range(100)]

    first, again, other = run(5), run(5), run(6)
    assert first == again and first != other
    failures = sum(s != 200 for s in first)
    assert 15 <= failures <= 45  # about 30 of 100


def test_rate_limit_answers_429_with_retry_after(tiny_sandbox):
    sb = tiny_sandbox(rate_limit=3, retry_after=7)
    token = pkce_login(sb.url)  # the token exchange is one of the 3 calls
    assert [api_get(sb.url, "/v1/me", token)[0] for _ in range(2)] == [200, 200]
    status, body, headers = api_call(sb.url, "GET", "/v1/me", token)
    assert status == 429 and headers["Retry-After"] == "7"
    assert body == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    assert api_get(sb.url, "/_sandbox/state")[0] == 200  # control calls are not limited
    # spotipy with retries=0 and status_retries=0 still routes 429 through urllib3's Retry, whose
    # RetryError loses the headers; with 429 out of status_forcelist (an empty one falls back to the
    # default) the SpotifyException carries Retry-After, which tastebot's gateway needs.
    plain = spotipy.Spotify(auth=token["access_token"], requests_timeout=10, retries=0, status_retries=0)
    plain.prefix = sb.url + "/v1/"
    with pytest.raises(spotipy.SpotifyException) as limited:
        plain.me()
    assert limited.value.http_status == 429 and "Retry-After" not in limited.value.headers
    sp = spotipy.Spotify(auth=token["access_token"], requests_timeout=10, retries=0, status_retries=0,
                         status_forcelist=(599,))
    sp.prefix = sb.url + "/v1/"
    with pytest.raises(spotipy.SpotifyException) as limited:
        sp.me()
    assert limited.value.http_status == 429 and limited.value.headers["Retry-After"] == "7"
    requests.post(sb.url + "/_sandbox/configure", json={"rate_limit": None}, timeout=10)
    assert api_get(sb.url, "/v1/me", token)[0] == 200


def test_latency_delays_api_answers(tiny_sandbox):
    sb = tiny_sandbox(latency_ms=1500)
    token_sb = tiny_sandbox()
    token = pkce_login(token_sb.url)
    with pytest.raises(requests.Timeout):
        requests.get(sb.url + "/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=0.3)
    assert api_get(sb.url, "/_sandbox/stats")[0] == 200  # control endpoints answer without the delay
    sb.configure(latency_ms=0)
    assert api_get(sb.url, "/v1/me", "x")[0] == 401


def test_write_latency_delays_only_writes(tiny_sandbox):
    sb = tiny_sandbox()
    token = pkce_login(sb.url)
    sb.configure(write_latency_ms=400)
    started = time.monotonic()
    assert api_get(sb.url, "/v1/me", token)[0] == 200
    assert time.monotonic() - started < 0.3  # a read is not delayed
    started = time.monotonic()
    status, body, _ = api_call(sb.url, "POST", "/v1/me/playlists", token, {"name": "slow"})
    assert status == 201 and body["name"] == "slow"
    assert time.monotonic() - started >= 0.4
    with pytest.raises(ValueError):
        sb.configure(write_latency_ms=-1)


def test_drop_rate_closes_connections_without_an_answer(tiny_sandbox):
    sb = tiny_sandbox(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        requests.get(sb.url + "/v1/me", timeout=10)
    assert sb.stats()["requests"]["GET /v1/me"] == {"dropped": 1}
    assert api_get(sb.url, "/_sandbox/stats")[0] == 200


def test_token_ttl_and_refresh_ttl(tiny_sandbox):
    sb = tiny_sandbox(token_ttl=1, refresh_ttl=1)
    token = pkce_login(sb.url, client_id="cid")
    assert token["expires_in"] == 1
    assert api_get(sb.url, "/v1/me", token)[0] == 200
    time.sleep(1.2)
    status, body = api_get(sb.url, "/v1/me", token)
    assert status == 401 and body["error"]["message"] == "The access token expired"
    refused = requests.post(sb.url + "/api/token", data={"grant_type": "refresh_token", "client_id": "cid",
                                                        "refresh_token": token["refresh_token"]}, timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_configure_over_http_checks_its_input(tiny_sandbox):
    sb = tiny_sandbox()
    bad = requests.post(sb.url + "/_sandbox/configure", json={"fault_rate": 2}, timeout=10)
    assert bad.status_code == 400
    unknown = requests.post(sb.url + "/_sandbox/configure", json={"chaos": 1}, timeout=10)
    assert unknown.status_code == 400 and "chaos" in unknown.json()["error"]["message"]
    ok = requests.post(sb.url + "/_sandbox/configure", json={"token_ttl": 5, "retry_after": 2}, timeout=10).json()
    assert ok["faults"]["token_ttl"] == 5 and sb.faults.config.retry_after == 2
    assert pkce_login(sb.url)["expires_in"] == 5
    assert requests.post(sb.url + "/_sandbox/revoke", timeout=10).json()["revoked"] == 1
