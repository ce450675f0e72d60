"""After the login: refresh ahead of expiry, invalid_grant, status, logout, and NotLoggedIn elsewhere."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from cli_runner import invoke
from login_helpers import CLIENT_ID, login_to, sandbox_settings


def _api(settings):
    import spotipy

    from tastebot.spotify.auth import api_auth_manager

    sp = spotipy.Spotify(auth_manager=api_auth_manager(settings), retries=0, status_retries=0, requests_timeout=10)
    sp.prefix = settings.api_url
    return sp


def _stored(settings) -> dict:
    from tastebot.spotify.tokens import TokenStore

    return TokenStore(settings).get_cached_token()


def _age_stored_token(settings) -> None:
    """Make the stored access token look expired on our side (the sandbox still knows it)."""
    from tastebot.spotify.tokens import TokenStore

    store = TokenStore(settings)
    token = store.get_cached_token()
    token["expires_at"] = int(time.time()) - 10
    store.save_token_to_cache(token)


def test_refresh_on_expiry_keeps_the_refresh_token_when_none_comes_back(make_sandbox, home):
    sb = make_sandbox(token_ttl=1)
    login_to(sb)
    settings = sandbox_settings(sb)
    first = _stored(settings)
    assert first["expires_in"] == 1

    time.sleep(1.1)  # the sandbox now answers 401 to the first access token
    me = _api(settings).me()
    assert me["id"] == sb.state.listener_id
    second = _stored(settings)
    assert second["access_token"] != first["access_token"]
    # The sandbox leaves refresh_token out of every odd refresh: the old one must be kept.
    assert second["refresh_token"] == first["refresh_token"]

    time.sleep(1.1)
    assert _api(settings).me()["id"] == sb.state.listener_id
    third = _stored(settings)
    assert third["access_token"] != second["access_token"]
    assert third["refresh_token"] and third["refresh_token"] != first["refresh_token"]  # rotated this time


def test_refresh_happens_ahead_of_expiry_not_after_a_401(make_sandbox, home):
    sb = make_sandbox(token_ttl=3600)
    login_to(sb)
    settings = sandbox_settings(sb)
    before = _stored(settings)
    token = dict(before)
    token["expires_at"] = int(time.time()) + 30  # inside the 60 s margin
    from tastebot.spotify.tokens import TokenStore

    TokenStore(settings).save_token_to_cache(token)
    from tastebot.spotify.auth import api_auth_manager

    manager = api_auth_manager(settings)
    access = manager.get_access_token()
    assert access != before["access_token"]
    assert manager.get_access_token() == access  # no second refresh while valid


def test_invalid_grant_means_login_again_exit_4(logged_in, home):
    from tastebot.spotify.auth import api_auth_manager
    from tastebot.errors import LoginExpired
    from tastebot.settings import load_settings

    settings = load_settings()
    _age_stored_token(settings)
    logged_in.revoke_refresh_tokens()
    with pytest.raises(LoginExpired) as info:
        api_auth_manager(settings).get_access_token()
    assert info.value.exit_code == 4 and "tastebot login" in str(info.value)

    r = invoke(["status"])
    assert r.returncode == 4
    assert "expired or was revoked" in r.stderr and "tastebot login" in r.stderr
    assert "Traceback" not in r.stderr


def test_refresh_token_expiry_after_months_is_invalid_grant(make_sandbox, home):
    sb = make_sandbox(refresh_ttl=0.5)  # Spotify: six months; here half a second
    login_to(sb)
    settings = sandbox_settings(sb)
    time.sleep(0.6)
    _age_stored_token(settings)
    from tastebot.errors import LoginExpired

    with pytest.raises(LoginExpired):
        _api(settings).me()


def test_no_login_is_exit_4_with_the_hint(sandbox, home):
    from tastebot.errors import NotLoggedIn
    from tastebot.settings import load_settings

    settings = load_settings(spotify_url=sandbox.url, client_id=CLIENT_ID)
    with pytest.raises(NotLoggedIn) as info:
        _api(settings).current_user_saved_tracks()
    assert info.value.exit_code == 4 and "run `tastebot login`" in str(info.value)

    home.mkdir()  # a named home that does not exist is refused before the login is looked at (exit 3)
    r = invoke(["status"], env={"TASTEBOT_SPOTIFY_URL": sandbox.url})
    assert r.returncode == 4 and "tastebot login" in r.stderr
    j = invoke(["status", "--json"], env={"TASTEBOT_SPOTIFY_URL": sandbox.url})
    assert j.returncode == 4 and json.loads(j.stdout)["logged_in"] is False


def test_a_login_for_another_spotify_is_not_used(make_sandbox, home):
    from tastebot.errors import NotLoggedIn

    first, second = make_sandbox(), make_sandbox()
    login_to(first)
    with pytest.raises(NotLoggedIn, match="saved login is for"):
        _api(sandbox_settings(second)).me()
    assert not any(True for _ in second.state.access_tokens)  # nothing was sent to the other service


def test_status_reports_everything_and_remembers_the_app_kind(logged_in, home):
    from tastebot.settings import SCOPES

    r = invoke(["status", "--json"])
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["logged_in"] and report["verified"]
    assert report["user"]["id"] == logged_in.state.listener_id
    assert report["token_storage"] == "keyring" and "keyring" in report["token_location"]
    assert report["scopes"] == sorted(SCOPES) and report["missing_scopes"] == []
    assert report["spotify"] == logged_in.url and report["sandbox"] is True
    assert report["app_kind"] == "development"
    assert report["client_id"] == CLIENT_ID
    access = datetime.fromisoformat(report["access_token_expires_at"])
    first = datetime.fromisoformat(report["logged_in_at"])
    refresh = datetime.fromisoformat(report["refresh_token_expires_estimate"])
    assert 0 < (access - first).total_seconds() <= 3700
    assert 180 <= (refresh - first).days <= 184

    probes = _count(logged_in, "audio-features")
    assert invoke(["status", "--json"]).returncode == 0
    assert _count(logged_in, "audio-features") == probes  # remembered, not probed again
    assert json.loads(invoke(["status", "--json", "--recheck"]).stdout)["app_kind"] == "development"
    assert _count(logged_in, "audio-features") == probes + 1

    human = invoke(["status"])
    assert human.returncode == 0  # the status table is the result: on stdout (`tastebot status | less`)
    assert "development mode" in human.stdout and logged_in.state.listener_id in human.stdout


def test_status_knows_an_extended_quota_app(make_logged_in, home):
    sb = make_logged_in(profile="extended")
    r = invoke(["status", "--json", "--recheck"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["app_kind"] == "extended"


def test_logout_cli(logged_in, home, tmp_path):
    r = invoke(["logout", "--json"])
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert out["was_logged_in"] and out["removed_from"] == ["keyring"]
    assert "spotify.com/account/apps" in r.stderr
    assert not [k for k in json.loads((tmp_path / "keyring.json").read_text()) if k.startswith("tastebot\0")]
    assert invoke(["status"]).returncode == 4
    again = invoke(["logout"])
    assert again.returncode == 0 and "Nobody was logged in" in again.stderr


def _count(sb, fragment: str) -> int:
    total = 0

    def walk(node, key=""):
        nonlocal total
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{key} {k}")
        elif isinstance(node, int) and fragment in key:
            total += node

    walk(sb.stats())
    return total


def test_status_names_scopes_an_older_login_lacks(logged_in, home):
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    store = TokenStore(load_settings())
    token = store.get_cached_token()
    token["scope"] = "user-library-read user-top-read"
    store.save_token_to_cache(token)
    r = invoke(["status", "--json"])
    report = json.loads(r.stdout)
    assert "playlist-modify-private" in report["missing_scopes"] and "user-top-read" not in report["missing_scopes"]
    human = invoke(["status"])
    assert "lacks the scopes" in human.stderr


def test_status_when_spotify_is_unreachable_still_says_logged_in(make_sandbox, home):
    from tastebot.spotify.login import status

    sb = make_sandbox()
    login_to(sb)
    settings = sandbox_settings(sb)
    sb.stop()
    report = status(settings)
    assert report["logged_in"] is True and report["verified"] is False
    assert report["problem"] and report["user"]["id"] == sb.state.listener_id
