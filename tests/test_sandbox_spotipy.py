"""spotipy 2.26, pointed at the sandbox over real HTTP, does what tastebot needs from Spotify."""

from __future__ import annotations

import pytest
import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOauthError, SpotifyPKCE

from sandbox_http import ALL_SCOPES

REDIRECT = "http://127.0.0.1:8123/callback"


def pkce_auth(sb) -> SpotifyPKCE:
    auth = SpotifyPKCE(client_id="tastebot-test", redirect_uri=REDIRECT, scope=ALL_SCOPES, open_browser=False,
                       cache_handler=MemoryCacheHandler(), requests_timeout=10)
    auth.OAUTH_AUTHORIZE_URL = sb.url + "/authorize"
    auth.OAUTH_TOKEN_URL = sb.url + "/api/token"
    return auth


def login(sb) -> tuple[SpotifyPKCE, dict]:
    auth = pkce_auth(sb)
    url = auth.get_authorize_url(state="st-123") + "&auto_approve=1"
    resp = requests.get(url, allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    state, code = auth.parse_auth_response_url(location)
    assert state == "st-123"
    token = auth.get_access_token(code, check_cache=False)
    return auth, auth.get_cached_token()


def client(sb, token) -> spotipy.Spotify:
    sp = spotipy.Spotify(auth=token["access_token"], requests_timeout=10, retries=0, status_retries=0)
    sp.prefix = sb.url + "/v1/"
    return sp


def test_pkce_login_then_saved_tracks_paged_to_the_end(sandbox):
    auth, token = login(sandbox)
    assert token["token_type"] == "Bearer" and token["refresh_token"]
    assert set(token["scope"].split()) == set(ALL_SCOPES.split())
    sp = client(sandbox, token)

    assert sp.me()["id"] == sandbox.catalog["listener"]["user_id"]
    page = sp.current_user_saved_tracks(limit=50)
    seen = []
    while page:
        seen += [item["track"]["id"] for item in page["items"]]
        page = sp.next(page)
    saved = sorted(sandbox.catalog["listener"]["saved_tracks"], key=lambda s: s["added_at"], reverse=True)
    assert seen == [s["track_id"] for s in saved]  # all of them, newest first
    assert len(seen) > 50  # more than one page was walked


def test_own_playlists_readable_and_others_refused_in_development(sandbox):
    _, token = login(sandbox)
    sp = client(sandbox, token)
    listener = sandbox.catalog["listener"]["user_id"]
    mine = [p for p in sp.current_user_playlists(limit=50)["items"] if p["owner"]["id"] == listener]
    assert mine
    pl = mine[0]
    items, page = [], sp.playlist_items(pl["id"], limit=50)
    while page:
        items += page["items"]
        page = sp.next(page)
    assert len(items) == pl["items"]["total"]
    expected = next(p for p in sandbox.catalog["playlists"] if p["id"] == pl["id"])["track_ids"]
    served = [i["item"]["id"] for i in items if i["item"] and not i["is_local"]]
    assert served == expected
    assert all(i["track"] == i["item"] for i in items)  # the old field carries the same

    others = [p for p in sandbox.catalog["playlists"] if p["owner_id"] != listener and not p["collaborative"]]
    with pytest.raises(spotipy.SpotifyException) as refused:
        sp.playlist_items(others[0]["id"])
    assert refused.value.http_status == 403
    meta = sp.playlist(others[0]["id"])  # metadata stays readable
    assert meta["name"] == others[0]["name"] and "items" not in meta


def test_create_playlist_and_add_250_items(sandbox):
    _, token = login(sandbox)
    sp = client(sandbox, token)
    created = sp.current_user_playlist_create("tastebot picks", public=False, description="made by a test")
    assert created["owner"]["id"] == sandbox.catalog["listener"]["user_id"]
    assert created["public"] is False
    uris = [f"spotify:track:{t['id']}" for t in sandbox.catalog["tracks"][:250]]
    snapshots = {created["snapshot_id"]}
    for start in range(0, 250, 100):
        answer = sp.playlist_add_items(created["id"], uris[start:start + 100])
        snapshots.add(answer["snapshot_id"])
    assert len(snapshots) == 4  # every change makes a new snapshot

    got, page = [], sp.playlist_items(created["id"], limit=50)
    while page:
        got += [i["item"]["uri"] for i in page["items"]]
        page = sp.next(page)
    assert got == uris
    state = requests.get(sandbox.url + "/_sandbox/state", timeout=10).json()
    mine = next(p for p in state["playlists"] if p["id"] == created["id"])
    assert mine["track_ids"] == [u.split(":")[-1] for u in uris]
    assert sandbox.count("POST /v1/playlists/{id}/items", 201) == 3

    with pytest.raises(spotipy.SpotifyException) as too_many:
        sp.playlist_add_items(created["id"], uris[:101])
    assert too_many.value.http_status == 400


def test_refresh_keeps_working_until_revoked(sandbox):
    auth, token = login(sandbox)
    first = auth.refresh_access_token(token["refresh_token"])
    # The first refresh answer leaves refresh_token out (as Spotify may); spotipy keeps the old one.
    assert first["refresh_token"] == token["refresh_token"]
    assert first["access_token"] != token["access_token"]
    second = auth.refresh_access_token(first["refresh_token"])
    assert second["refresh_token"] != token["refresh_token"]
    assert client(sandbox, second).me()["id"]

    sandbox.revoke_refresh_tokens()
    with pytest.raises(SpotifyOauthError) as refused:
        auth.refresh_access_token(second["refresh_token"])
    assert refused.value.error == "invalid_grant"


def test_search_limits_follow_the_profile(sandbox, sandbox_ext):
    for sb, most in ((sandbox, 10), (sandbox_ext, 50)):
        _, token = login(sb)
        sp = client(sb, token)
        artist = sb.catalog["artists"][0]["name"]
        found = sp.search(q=f'artist:"{artist}"', type="track", limit=most)
        assert found["tracks"]["limit"] == most
        with pytest.raises(spotipy.SpotifyException) as bad:
            sp.search(q="a", type="track", limit=most + 1)
        assert bad.value.http_status == 400 and "Invalid limit" in bad.value.msg
