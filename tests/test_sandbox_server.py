"""The sandbox server over real HTTP: Accounts rules, Web API behaviour, profiles, ReccoBeats, control
endpoints and `tastebot sandbox serve` in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tastebot.sandbox import Sandbox
from tastebot.sandbox.accounts import s256
from sandbox_http import ALL_SCOPES, api_call, api_get, pkce_login

ROOT = Path(__file__).resolve().parent.parent
REDIRECT = "http://127.0.0.1:8123/callback"


def tiny_catalog() -> dict:
    """A hand-written catalogue: every field known, so answers can be checked exactly."""
    def feats(**kw):
        base = {"danceability": 0.5, "energy": 0.6, "key": 5, "loudness": -7.5, "mode": 1, "speechiness": 0.05,
                "acousticness": 0.2, "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.4, "tempo": 120.0,
                "time_signature": 4}
        base.update(kw)
        return {k: v for k, v in base.items() if v is not None}

    tracks = []
    for i in range(1, 9):
        tracks.append({"id": f"t{i}", "name": f"Song {i}", "artist_ids": ["a1"] if i <= 5 else ["a2", "a1"],
                       "album_id": "al1" if i <= 5 else "al2", "duration_ms": 200000 + i, "explicit": i == 3,
                       "popularity": 10 * i, "isrc": f"USXX1000000{i}", "track_number": i if i <= 5 else i - 5})
    tracks.append({**tracks[0], "id": "t1dup", "album_id": "al2", "track_number": 4})  # same ISRC, other id
    return {
        "format": "tastebot-sandbox-catalog/1",
        "artists": [{"id": "a1", "name": "The Quiet Ones", "genres": ["indie rock", "dream pop"]},
                    {"id": "a2", "name": "DJ Loud", "genres": ["edm"]}],
        "albums": [{"id": "al1", "name": "First Light", "artist_ids": ["a1"], "release_date": "1994-05-02",
                    "release_date_precision": "day", "album_type": "album"},
                   {"id": "al2", "name": "Night Moves", "artist_ids": ["a2"], "release_date": "2001",
                    "release_date_precision": "year", "album_type": "single"}],
        "tracks": tracks,
        "audio_features": {"t1": feats(), "t2": feats(key=None, tempo=None), "t3": feats(), "t5": feats(),
                           "t6": feats(), "t7": feats(), "t1dup": feats()},
        "users": [{"id": "me", "display_name": "Me Myself"}, {"id": "other", "display_name": "Someone Else"}],
        "playlists": [
            {"id": "p_mine", "name": "Mine", "owner_id": "me", "public": False, "collaborative": False,
             "description": "own", "track_ids": ["t1", "t2", "t3", "t4", "t5", "t6"]},
            {"id": "p_other", "name": "Theirs", "owner_id": "other", "public": True, "collaborative": False,
             "description": "not mine", "track_ids": ["t6", "t7", "t8"]},
            {"id": "p_collab", "name": "Shared", "owner_id": "other", "public": False, "collaborative": True,
             "description": "together", "track_ids": ["t7"]},
        ],
        "listener": {
            "user_id": "me",
            "saved_tracks": [{"track_id": f"t{i}", "added_at": f"2026-01-0{i}T10:00:00Z"} for i in range(1, 6)],
            "top_tracks": {"short_term": ["t3", "t6"], "medium_term": ["t1"], "long_term": []},
            "recently_played": [{"track_id": f"t{1 + i % 8}", "played_at": f"2026-02-01T{i // 60:02d}:{i % 60:02d}:00Z"}
                                for i in range(70)],
            "followed_artist_ids": ["a1", "a2"],
            "followed_playlist_ids": ["p_other", "p_collab"],
        },
        "hidden": {"future_likes": ["t8"]},
    }


@pytest.fixture
def tiny():
    with Sandbox(catalog=tiny_catalog(), profile="development", seed=1) as sb:
        yield sb


@pytest.fixture
def tiny_ext():
    with Sandbox(catalog=tiny_catalog(), profile="extended", seed=1) as sb:
        yield sb


def authorize(sb, **over):
    params = {"client_id": "cid", "response_type": "code", "redirect_uri": REDIRECT, "code_challenge_method": "S256",
              "code_challenge": s256("v" * 50), "state": "s1", "scope": ALL_SCOPES, **over}
    params = {k: v for k, v in params.items() if v is not None}
    return requests.get(sb.url + "/authorize", params=params, allow_redirects=False, timeout=10)


def token_request(sb, **form):
    return requests.post(sb.url + "/api/token", data=form, timeout=10)


# -- Accounts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("uri", ["http://localhost:8123/callback", "http://example.com/cb", "http://10.0.0.1/cb"])
def test_authorize_refuses_insecure_redirects(tiny, uri):
    resp = authorize(tiny, redirect_uri=uri, auto_approve="1")
    assert resp.status_code == 400
    assert "INVALID_CLIENT: Insecure redirect URI" in resp.text


@pytest.mark.parametrize("uri", ["http://127.0.0.1/cb", "http://127.0.0.1:9/cb", "http://[::1]:8888/callback", "https://example.com/cb"])
def test_authorize_accepts_loopback_literals_and_https(tiny, uri):
    resp = authorize(tiny, redirect_uri=uri, auto_approve="1")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith(uri + "?code=")


def test_consent_page_then_approve_or_deny(tiny):
    page = authorize(tiny)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Approve" in page.text and "not Spotify" in page.text and 'method="post"' in page.text
    form = {"client_id": "cid", "response_type": "code", "redirect_uri": REDIRECT, "code_challenge_method": "S256",
            "code_challenge": s256("v" * 50), "state": "s9", "scope": "user-top-read"}
    approved = requests.post(tiny.url + "/authorize", data={**form, "decision": "approve"}, allow_redirects=False, timeout=10)
    back = parse_qs(urlsplit(approved.headers["Location"]).query)
    assert approved.status_code == 302 and back["state"] == ["s9"] and back["code"]
    denied = requests.post(tiny.url + "/authorize", data={**form, "decision": "deny"}, allow_redirects=False, timeout=10)
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {"error": ["access_denied"], "state": ["s9"]}


def test_json_accept_approves_at_once_and_puts_redirect_in_body(tiny):
    params = {"client_id": "cid", "response_type": "code", "redirect_uri": REDIRECT, "code_challenge_method": "S256",
              "code_challenge": s256("v" * 50), "state": "x"}
    resp = requests.get(tiny.url + "/authorize", params=params, headers={"Accept": "application/json"},
                        allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    assert resp.json()["redirect"] == resp.headers["Location"]


def test_authorize_without_pkce_is_refused_back_to_the_app(tiny):
    resp = authorize(tiny, code_challenge=None, code_challenge_method=None, auto_approve="1")
    back = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert back["error"] == ["invalid_request"] and back["state"] == ["s1"]


def test_code_exchange_checks_verifier_redirect_and_single_use(tiny):
    def fresh_code():
        return parse_qs(urlsplit(authorize(tiny, auto_approve="1").headers["Location"]).query)["code"][0]

    good = {"grant_type": "authorization_code", "redirect_uri": REDIRECT, "client_id": "cid", "code_verifier": "v" * 50}
    bad_verifier = token_request(tiny, **{**good, "code": fresh_code(), "code_verifier": "w" * 50})
    assert bad_verifier.status_code == 400 and bad_verifier.json()["error"] == "invalid_grant"
    bad_redirect = token_request(tiny, **{**good, "code": fresh_code(), "redirect_uri": "http://127.0.0.1:1/x"})
    assert bad_redirect.json()["error"] == "invalid_grant"
    code = fresh_code()
    ok = token_request(tiny, **good, code=code)
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == ALL_SCOPES
    again = token_request(tiny, **good, code=code)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant", "error_description": "Invalid authorization code"}
    # An expired code (10 minutes) is refused too.
    code = fresh_code()
    tiny.state.codes[code]["expires_at"] -= 601
    assert token_request(tiny, **good, code=code).json()["error"] == "invalid_grant"


def test_refresh_token_expires_after_refresh_ttl_from_first_login(tiny):
    token = pkce_login(tiny.url, client_id="cid")
    tiny.configure(refresh_ttl=3600)
    form = {"grant_type": "refresh_token", "client_id": "cid", "refresh_token": token["refresh_token"]}
    assert token_request(tiny, **form).status_code == 200
    tiny.state.refresh_tokens[token["refresh_token"]]["first_auth_at"] -= 3601  # "an hour later"
    late = token_request(tiny, **form)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert token_request(tiny, **{**form, "refresh_token": "nonsense"}).json()["error"] == "invalid_grant"


def test_bearer_checks_and_scopes(tiny):
    assert api_get(tiny.url, "/v1/me") == (401, {"error": {"status": 401, "message": "No token provided"}})
    assert api_get(tiny.url, "/v1/me", "made-up")[0] == 401
    narrow = pkce_login(tiny.url, scope="user-top-read")
    status, body = api_get(tiny.url, "/v1/me/tracks", narrow)
    assert status == 403 and body["error"]["message"] == "Insufficient client scope"
    assert api_get(tiny.url, "/v1/me/top/tracks", narrow)[0] == 200
    assert requests.post(tiny.url + "/_sandbox/expire", timeout=10).json()["expired"] >= 1
    status, body = api_get(tiny.url, "/v1/me/top/tracks", narrow)
    assert status == 401 and body["error"]["message"] == "The access token expired"


# -- Web API ----------------------------------------------------------------------------------------

def test_saved_tracks_top_and_profile_differ_by_profile(tiny, tiny_ext):
    dev, ext = pkce_login(tiny.url), pkce_login(tiny_ext.url)
    me_dev, me_ext = api_get(tiny.url, "/v1/me", dev)[1], api_get(tiny_ext.url, "/v1/me", ext)[1]
    assert me_dev["id"] == "me" and "country" not in me_dev and "email" not in me_dev
    assert me_ext["country"] and me_ext["product"] == "premium"
    saved = api_get(tiny.url, "/v1/me/tracks?limit=2&offset=1", dev)[1]
    assert [i["track"]["id"] for i in saved["items"]] == ["t4", "t3"] and saved["total"] == 5
    assert saved["next"].endswith("/v1/me/tracks?offset=3&limit=2")
    track_dev, track_ext = saved["items"][0]["track"], api_get(tiny_ext.url, "/v1/tracks/t4", ext)[1]
    assert "popularity" not in track_dev and track_ext["popularity"] == 40
    assert track_dev["external_ids"] == {"isrc": "USXX10000004"}
    assert api_get(tiny.url, "/v1/artists/a1", dev)[1]["genres"] == []
    artist_ext = api_get(tiny_ext.url, "/v1/artists/a1", ext)[1]
    assert artist_ext["genres"] == ["indie rock", "dream pop"] and artist_ext["followers"]["total"] > 0
    top = api_get(tiny.url, "/v1/me/top/tracks?time_range=short_term", dev)[1]
    assert [t["id"] for t in top["items"]] == ["t3", "t6"]
    top_artists = api_get(tiny.url, "/v1/me/top/artists?time_range=short_term", dev)[1]
    assert [a["id"] for a in top_artists["items"]] == ["a1", "a2"]
    assert api_get(tiny.url, "/v1/me/top/tracks?time_range=forever", dev)[0] == 400


def test_development_restrictions_and_extended_access(tiny, tiny_ext):
    dev, ext = pkce_login(tiny.url), pkce_login(tiny_ext.url)
    assert api_get(tiny.url, "/v1/audio-features?ids=t1", dev) == (403, {"error": {"status": 403}})
    assert api_get(tiny.url, "/v1/playlists/p_other/items", dev) == (403, {"error": {"status": 403, "message": "Forbidden"}})
    assert api_get(tiny.url, "/v1/playlists/p_collab/items", dev)[0] == 200  # collaborator
    for path in ("/v1/tracks?ids=t1", "/v1/artists?ids=a1", "/v1/albums?ids=al1", "/v1/artists/a1/top-tracks",
                 "/v1/users/other/playlists", "/v1/browse/new-releases"):
        assert api_get(tiny.url, path, dev)[0] in (403, 404), path
        assert api_get(tiny_ext.url, path, ext)[0] == 200, path
    for path in ("/v1/recommendations?seed_tracks=t1", "/v1/artists/a1/related-artists"):
        assert api_get(tiny.url, path, dev)[0] == 404 and api_get(tiny_ext.url, path, ext)[0] == 404
    features = api_get(tiny_ext.url, "/v1/audio-features?ids=t1,t4,nope", ext)[1]["audio_features"]
    assert features[0]["id"] == "t1" and features[0]["time_signature"] == 4 and features[1:] == [None, None]
    assert api_get(tiny_ext.url, "/v1/audio-features?ids=" + ",".join(["t1"] * 101), ext)[0] == 400
    assert api_get(tiny_ext.url, "/v1/playlists/p_other/items", ext)[1]["total"] == 3


def test_limits_are_enforced(tiny, tiny_ext):
    dev, ext = pkce_login(tiny.url), pkce_login(tiny_ext.url)
    for path in ("/v1/me/tracks?limit=51", "/v1/me/tracks?limit=0", "/v1/me/tracks?limit=x",
                 "/v1/playlists/p_mine/items?limit=51", "/v1/search?q=a&type=track&limit=11",
                 "/v1/artists/a1/albums?limit=11", "/v1/search?q=a&type=track&offset=1001"):
        status, body = api_get(tiny.url, path, dev)
        assert status == 400, path
        assert body["error"]["message"] in ("Invalid limit", "Invalid offset")
    assert api_get(tiny_ext.url, "/v1/search?q=a&type=track&limit=50", ext)[0] == 200
    assert api_get(tiny.url, "/v1/search?q=song&type=track", dev)[1]["tracks"]["limit"] == 5  # 2026 default


def test_search_field_filters(tiny):
    token = pkce_login(tiny.url)

    def ids(q, kind="track"):
        status, body = api_get(tiny.url, "/v1/search?" + urlencode({"q": q, "type": kind, "limit": 10}), token)
        assert status == 200, body
        return sorted(i["id"] for i in body[kind + "s"]["items"])

    assert ids('artist:"DJ Loud"') == ["t6", "t7", "t8"]
    assert ids("album:night track:song") == ["t1dup", "t6", "t7", "t8"]
    assert ids('track:"Song 3"') == ["t3"]
    assert ids("year:1994") == ["t1", "t2", "t3", "t4", "t5"]
    assert ids("year:1990-1999") == ids("year:1994") and ids("year:2002-2010") == []
    assert ids('genre:"dream pop" year:2001') == ["t1dup", "t6", "t7", "t8"]  # a1 is on them too
    assert ids("isrc:USXX10000001") == ["t1", "t1dup"]  # one recording, two ids
    assert ids("song 2") == ["t2"]  # free text: every word must match somewhere
    assert ids("quiet first") == ["t1", "t2", "t3", "t4", "t5"]
    assert ids("genre:edm", "artist") == ["a2"]
    assert ids("night", "album") == ["al2"]
    assert ids("zzz") == []
    page = api_get(tiny.url, "/v1/search?q=song&type=track&limit=2", token)[1]["tracks"]
    assert page["total"] == 9
    nxt = api_get(tiny.url, page["next"].replace(tiny.url, ""), token)[1]["tracks"]
    assert nxt["offset"] == 2 and {i["id"] for i in nxt["items"]}.isdisjoint({i["id"] for i in page["items"]})


def test_recently_played_cursors_and_followed_artists(tiny):
    token = pkce_login(tiny.url)
    seen, path = [], "/v1/me/player/recently-played?limit=20"
    while path:
        body = api_get(tiny.url, path, token)[1]
        seen += [i["played_at"] for i in body["items"]]
        path = body["next"] and body["next"].replace(tiny.url, "")
    assert len(seen) == 50 and seen == sorted(seen, reverse=True)  # only the last 50 plays exist
    newest_ms = int(api_get(tiny.url, "/v1/me/player/recently-played?limit=1", token)[1]["cursors"]["after"])
    assert api_get(tiny.url, f"/v1/me/player/recently-played?after={newest_ms}", token)[1]["items"] == []
    one_before = api_get(tiny.url, f"/v1/me/player/recently-played?after={newest_ms - 120_000}", token)[1]
    assert len(one_before["items"]) == 2
    first = api_get(tiny.url, "/v1/me/following?type=artist&limit=1", token)[1]["artists"]
    assert [a["id"] for a in first["items"]] == ["a1"] and first["cursors"]["after"] == "a1" and first["total"] == 2
    second = api_get(tiny.url, first["next"].replace(tiny.url, ""), token)[1]["artists"]
    assert [a["id"] for a in second["items"]] == ["a2"] and second["next"] is None
    assert api_get(tiny.url, "/v1/me/following", token)[0] == 400


def test_playlist_items_hold_null_and_local_entries(tiny):
    token = pkce_login(tiny.url)
    items = api_get(tiny.url, "/v1/playlists/p_mine/items?limit=50", token)[1]["items"]
    assert len(items) == 8  # 6 tracks + a null item + a local file
    local = [i for i in items if i["is_local"]]
    assert len(local) == 1 and local[0]["item"]["id"] is None and local[0]["item"]["uri"].startswith("spotify:local:")
    assert sum(1 for i in items if i["item"] is None and i["track"] is None) == 1
    assert [i["item"]["id"] for i in items if i["item"] and not i["is_local"]] == ["t1", "t2", "t3", "t4", "t5", "t6"]
    meta = api_get(tiny.url, "/v1/playlists/p_other", token)[1]
    assert meta["name"] == "Theirs" and "items" not in meta and "tracks" not in meta


def test_playlist_writes_change_the_snapshot_and_state(tiny):
    token = pkce_login(tiny.url)
    status, created = api_call(tiny.url, "POST", "/v1/me/playlists", token, {"name": "New", "public": False})[:2]
    assert status == 201 and created["owner"]["id"] == "me" and created["items"]["total"] == 0
    pid = created["id"]
    s1 = api_call(tiny.url, "POST", f"/v1/playlists/{pid}/items?uris=spotify:track:t1,spotify:track:t2", token)[1]
    s2 = api_call(tiny.url, "POST", f"/v1/playlists/{pid}/items", token, {"uris": ["spotify:track:t3"], "position": 1})[1]
    assert s1["snapshot_id"] != s2["snapshot_id"] != created["snapshot_id"]
    assert api_call(tiny.url, "POST", f"/v1/playlists/{pid}/items", token, {"uris": ["spotify:track:nope"]})[0] == 400
    assert api_call(tiny.url, "POST", f"/v1/playlists/{pid}/items", token, {"uris": ["t1"]})[0] == 400
    assert api_call(tiny.url, "POST", f"/v1/playlists/{pid}/items", token,
                    {"uris": ["spotify:track:t1"] * 101})[0] == 400
    assert api_call(tiny.url, "POST", "/v1/playlists/p_other/items", token, {"uris": ["spotify:track:t1"]})[0] == 403
    # The user removes a track from their playlist and unsaves another in their Spotify app.
    status, removed = api_call(tiny.url, "DELETE", f"/v1/playlists/{pid}/items", token, {"items": [{"uri": "spotify:track:t1"}]})[:2]
    assert status == 200 and removed["snapshot_id"] != s2["snapshot_id"]
    assert api_call(tiny.url, "DELETE", "/v1/me/library?uris=spotify:track:t5", token)[0] == 200
    assert api_call(tiny.url, "PUT", "/v1/me/library?uris=spotify:track:t8", token)[0] == 200
    state = api_get(tiny.url, "/_sandbox/state")[1]
    mine = {p["id"]: p for p in state["playlists"]}
    assert mine[pid]["track_ids"] == ["t3", "t2"]
    assert state["saved_track_ids"][0] == "t8" and "t5" not in state["saved_track_ids"]
    assert api_get(tiny.url, "/v1/me/library/contains?uris=spotify:track:t8,spotify:track:t5", token)[1] == [True, False]
    listed = api_get(tiny.url, "/v1/me/playlists", token)[1]["items"]
    assert listed[0]["id"] == pid  # newest first, then own, then followed
    assert {p["id"] for p in listed} == {pid, "p_mine", "p_other", "p_collab"}


def test_reccobeats_quirks(tiny):
    ids = ["t1", "t2", "t3", "t4", "nope", "t5", "t6", "t7"]
    status, body = api_get(tiny.url, "/reccobeats/v1/audio-features?ids=" + ",".join(ids))
    assert status == 200
    content = body["content"]
    got = [c["href"].rsplit("/", 1)[1] for c in content]
    assert sorted(got) == ["t1", "t2", "t3", "t5", "t6", "t7"]  # unknown and feature-less ids left out
    assert got != ["t1", "t2", "t3", "t5", "t6", "t7"]  # not in request order
    by_id = {c["href"].rsplit("/", 1)[1]: c for c in content}
    assert by_id["t2"]["key"] == -1 and "tempo" not in by_id["t2"]
    assert all("time_signature" not in c and len(c["id"]) == 36 and c["id"] not in ids for c in content)
    assert all(c["href"].startswith("https://open.spotify.com/track/") for c in content)
    again = api_get(tiny.url, "/reccobeats/v1/audio-features?ids=" + ",".join(ids))[1]
    assert again == body  # deterministic
    assert api_get(tiny.url, "/reccobeats/v1/audio-features?ids=" + ",".join(["t1"] * 41))[0] == 400


def test_hidden_section_is_never_served(tiny_ext):
    token = pkce_login(tiny_ext.url)
    answers = [api_get(tiny_ext.url, p, token)[1] for p in (
        "/v1/me", "/v1/me/playlists", "/v1/playlists/p_other", "/v1/me/tracks", "/v1/search?q=song&type=track")]
    answers.append(api_get(tiny_ext.url, "/_sandbox/state")[1])
    text = json.dumps(answers)
    assert "future_likes" not in text and "hidden" not in text


def test_stats_count_per_endpoint_template_and_status(tiny):
    token = pkce_login(tiny.url)
    requests.post(tiny.url + "/_sandbox/stats/reset", timeout=10)
    for pid in ("p_mine", "p_other", "p_mine"):
        api_get(tiny.url, f"/v1/playlists/{pid}/items", token)
    api_get(tiny.url, "/v1/nothing/here", token)
    stats = api_get(tiny.url, "/_sandbox/stats")[1]
    assert stats["requests"]["GET /v1/playlists/{id}/items"] == {"200": 2, "403": 1}
    assert stats["requests"]["GET (unknown)"] == {"404": 1}
    assert stats["total"] == 4 and tiny.stats() == stats
    tiny.reset_stats()
    assert tiny.stats() == {"requests": {}, "total": 0}


def test_generated_catalogue_sandbox_serves_own_playlists(sandbox):
    token = pkce_login(sandbox.url)
    listener = sandbox.catalog["listener"]["user_id"]
    listed = api_get(sandbox.url, "/v1/me/playlists?limit=50", token)[1]
    own = [p for p in listed["items"] if p["owner"]["id"] == listener]
    assert own and all(api_get(sandbox.url, f"/v1/playlists/{p['id']}/items", token)[0] == 200 for p in own)


# -- the CLI ---------------------------------------------------------------------------------------

def test_serve_command_runs_until_sigterm(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tastebot", "sandbox", "serve", "--tracks", "200", "--seed", "3", "--profile", "extended"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read()
        assert api_get(url, "/v1/me")[0] == 401
        assert api_get(url, "/v1/me", pkce_login(url))[1]["product"] == "premium"  # --profile extended
        assert api_get(url, "/_sandbox/stats")[1]["total"] >= 2
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "test server" in err.lower().replace("\n", " ") and "Traceback" not in err
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/v1/me", timeout=5)


def test_serve_refuses_a_bad_catalogue_in_one_line(tmp_path):
    bad = tmp_path / "cat.json"
    bad.write_text(json.dumps({**tiny_catalog(), "format": "something/2"}))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "tastebot", "sandbox", "serve", "--catalog", str(bad)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert "format" in done.stderr and "Traceback" not in done.stderr


def test_concurrent_writes_and_reads_are_consistent(tiny):
    from concurrent.futures import ThreadPoolExecutor

    token = pkce_login(tiny.url)
    pid = api_call(tiny.url, "POST", "/v1/me/playlists", token, {"name": "busy"})[1]["id"]
    uris = [f"spotify:track:t{1 + i % 8}" for i in range(60)]

    def add(uri):
        status, body, _ = api_call(tiny.url, "POST", f"/v1/playlists/{pid}/items", token, {"uris": [uri]})
        assert api_get(tiny.url, f"/v1/playlists/{pid}/items?limit=50", token)[0] == 200
        return status, body["snapshot_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(add, uris))
    assert all(status == 201 for status, _ in answers)
    assert len({snap for _, snap in answers}) == 60  # each add made its own snapshot
    items = api_get(tiny.url, "/_sandbox/state")[1]
    mine = next(p for p in items["playlists"] if p["id"] == pid)
    assert sorted(mine["track_ids"]) == sorted(u.split(":")[-1] for u in uris)
