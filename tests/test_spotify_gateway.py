"""The Spotify gateway (tastebot.spotify) and the ReccoBeats client against the sandbox, over real
HTTP through spotipy: paging, the app-kind probe, 429/5xx/401 policy, per-endpoint refusals."""

from __future__ import annotations

import pytest

from tastebot.errors import FeatureProviderError, InputError, RateLimited, SpotifyError
from tastebot.settings import load_settings
from tastebot.spotify.client import PlaylistNotFound, PlaylistRefused, SpotifyClient
from tastebot.spotify.refs import parse_playlist_ref, playlist_item_track


def client_for(**overrides) -> SpotifyClient:
    c = SpotifyClient(load_settings(**overrides))
    c.policy.backoff_base = 0.01  # keep retries quick; the policy itself is what is tested
    return c


def other_users_playlist(sb) -> str:
    listener = sb.state.listener_id
    return next(p.id for p in sb.state.playlists.values()
                if p.owner_id != listener and not p.collaborative and len(p.entries) > 5)


@pytest.fixture
def fast_rate_window(monkeypatch):
    """The sandbox's rolling rate-limit window shortened from 30 s to 2 s, so a limited test is quick."""
    import tastebot.sandbox.faults as faults

    monkeypatch.setattr(faults, "RATE_WINDOW_S", 2.0)


def test_paging_matches_the_catalogue(logged_in):
    sb = logged_in
    c = client_for()
    listener = sb.catalog["listener"]
    pages = list(c.saved_tracks_pages())
    saved = [i["track"]["id"] for p in pages for i in p["items"]]
    assert saved == [t for t, _ in sb.state.saved] and len(saved) == len(listener["saved_tracks"])
    assert len(pages) == -(-len(saved) // 50)
    for time_range in ("short_term", "medium_term", "long_term"):
        assert [t["id"] for t in c.top_tracks(time_range)] == listener["top_tracks"][time_range]
    assert {p["id"] for p in c.my_playlists()} == {p.id for p in sb.state.listener_playlists()}
    assert {a["id"] for a in c.followed_artists()} == set(listener["followed_artist_ids"])
    played = c.recently_played()["items"]
    assert len(played) == min(50, len(listener["recently_played"]))
    assert c.request_count == sum(c.requests_by_endpoint.values()) >= len(pages) + 6


def test_catalogue_lookups_and_search(logged_in):
    sb = logged_in
    c = client_for()
    track = sb.catalog["tracks"][0]
    assert c.track(track["id"])["id"] == track["id"]
    result = c.search(f"isrc:{track['isrc']}")
    assert track["id"] in [t["id"] for t in result["tracks"]["items"]]
    assert len(c.search("a", limit=10)["tracks"]["items"]) <= 10
    album_id = track["album_id"]
    assert track["id"] in [t["id"] for t in c.album_tracks(album_id)]
    artist_id = track["artist_ids"][0]
    albums = c.artist_albums(artist_id)
    assert albums and all(a.get("id") for a in albums)
    assert c.artist(artist_id)["id"] == artist_id


def test_app_kind_probe_and_memory(logged_in, make_logged_in):
    c = client_for()
    before = logged_in.count("GET /v1/audio-features")
    assert c.app_kind(recheck=True) == "development"
    assert logged_in.count("GET /v1/audio-features") == before + 1
    # Remembered: a new client does not probe again.
    c2 = client_for()
    assert c2.app_kind() == "development" and c2.request_count == 0
    ext = make_logged_in(profile="extended")
    c3 = client_for(spotify_url=ext.url)
    assert c3.app_kind(recheck=True) == "extended"


def test_audio_features_refused_in_development_served_in_extended(logged_in, make_logged_in):
    ids = [t["id"] for t in logged_in.catalog["tracks"][:3]]
    with pytest.raises(FeatureProviderError) as info:
        client_for().audio_features(ids)
    assert info.value.exit_code == 69 and "development" in info.value.message
    ext = make_logged_in(profile="extended")
    ids = list(ext.catalog["audio_features"])[:150] + ["0000000000000000000000"]
    c = client_for(spotify_url=ext.url)
    got = c.audio_features(ids)
    assert c.requests_by_endpoint["audio_features"] == 2  # 100 ids a call
    assert set(got) == set(ids[:150])
    first = ids[0]
    for k, v in ext.catalog["audio_features"][first].items():
        assert got[first][k] == pytest.approx(v)


def test_other_users_playlist_items_refused_with_advice_in_development(logged_in, make_logged_in):
    pid = other_users_playlist(logged_in)
    c = client_for()
    meta = c.playlist(pid)
    assert meta["id"] == pid and meta["snapshot_id"]
    with pytest.raises(PlaylistRefused) as info:
        list(c.playlist_items_pages(pid))
    # A limit of the app, not an outage (exit 3); so is an editorial playlist's 404, and a plain 404 is bad input.
    assert "copy it into a playlist of your own" in info.value.message and info.value.exit_code == 3
    with pytest.raises(PlaylistNotFound) as info:
        c.playlist("37i9dQZF1DXcBWIGoYBM5M")
    assert info.value.exit_code == 3 and "editorial" in info.value.message
    with pytest.raises(PlaylistNotFound) as info:
        c.playlist("0" * 22)
    assert info.value.exit_code == 2 and "not found" in info.value.message
    ext = make_logged_in(profile="extended")
    items = [i for p in client_for(spotify_url=ext.url).playlist_items_pages(pid) for i in p["items"]]
    assert len(items) == len(ext.state.playlists[pid].entries)


def test_null_items_and_local_files_are_read_safely(logged_in):
    sb = logged_in
    st = sb.state
    pl = st.create_playlist("PLtestnulls0000000000A", "Mixed", False, False, "")
    track_id = sb.catalog["tracks"][0]["id"]
    pl.entries = [
        {"track_id": track_id, "local_uri": None, "added_at": "2025-01-01T00:00:00Z", "added_by": st.listener_id},
        {"track_id": None, "local_uri": None, "added_at": "2025-01-01T00:00:00Z", "added_by": st.listener_id},
        {"track_id": None, "local_uri": "spotify:local:A:B:C:100", "added_at": "2025-01-01T00:00:00Z",
         "added_by": st.listener_id},
    ]
    items = [i for p in client_for().playlist_items_pages(pl.id) for i in p["items"]]
    tracks = [playlist_item_track(i) for i in items]
    assert tracks[0]["id"] == track_id and tracks[1] is None
    assert tracks[2]["is_local"] and tracks[2]["id"] is None
    # The old field alone, an episode and junk are all handled.
    assert playlist_item_track({"track": {"id": "x", "type": "track"}})["id"] == "x"
    assert playlist_item_track({"item": {"id": "e", "type": "episode"}}) is None
    assert playlist_item_track(None) is None and playlist_item_track({"item": "junk"}) is None


def test_5xx_and_dropped_connections_are_retried(logged_in):
    sb = logged_in
    sb.configure(fault_rate=0.4, drop_rate=0.1)
    c = client_for()
    for _ in range(15):
        assert c.me()["id"] == sb.state.listener_id
        c._me = None
    assert c.request_count > 15 and c.policy.retries == c.request_count - 15
    errors = sum(n for key, per in sb.stats()["requests"].items() if key.startswith("GET /v1/me")
                 for status, n in per.items() if status in ("500", "502", "503", "dropped"))
    assert errors == c.policy.retries


def test_persistent_5xx_gives_up_with_exit_69(logged_in):
    sb = logged_in
    sb.configure(fault_rate=1.0)
    c = client_for()
    with pytest.raises(SpotifyError) as info:
        c.me()
    assert info.value.exit_code == 69 and "try again later" in info.value.message
    assert c.request_count == c.policy.server_retries + 1


def test_rate_limit_wait_within_max_wait(logged_in, fast_rate_window):
    sb = logged_in
    sb.configure(rate_limit=3, retry_after=1)
    waits: list[float] = []
    c = SpotifyClient(load_settings(max_wait=5), countdown=lambda s, service: (waits.append(s), __import__("time").sleep(s)))
    for _ in range(6):
        c.top_tracks("short_term")
    assert waits and all(w == 1 for w in waits)
    assert c.requests_by_endpoint["top_tracks"] == 6 + len(waits)
    assert sb.count("GET /v1/me/top/{type}", 429) == len(waits)


def test_rate_limit_longer_than_max_wait_stops_with_75(logged_in, fast_rate_window):
    sb = logged_in
    sb.configure(rate_limit=1, retry_after=3600)
    c = client_for(max_wait=5)
    c.me()
    with pytest.raises(RateLimited) as info:
        c.top_tracks("short_term")
    assert info.value.exit_code == 75 and info.value.retry_after == 3600
    assert "run the command again after" in info.value.message and "60 min" in info.value.message


def test_expired_token_is_refreshed_once(logged_in):
    sb = logged_in
    c = client_for()
    c.me()
    refreshes = sb.count("POST /api/token")
    sb.expire_access_tokens()
    c._me = None
    assert c.me()["id"] == sb.state.listener_id
    assert sb.count("POST /api/token") == refreshes + 1
    assert sb.count("GET /v1/me", 401) == 1


def test_create_playlist_and_add_250_items(logged_in):
    sb = logged_in
    c = client_for()
    pl = c.create_playlist("tastebot test", public=False, description="made by a test")
    uris = [f"spotify:track:{t['id']}" for t in sb.catalog["tracks"][:250]]
    snapshots = c.add_items(pl["id"], uris)
    assert len(snapshots) == 3 and c.requests_by_endpoint["add_items"] == 3
    assert sb.state.playlists[pl["id"]].track_ids() == [u.rsplit(":", 1)[1] for u in uris]


def test_no_token_in_error_messages(logged_in):
    from login_helpers import issued_tokens, leaks

    sb = logged_in
    c = client_for()
    messages = {}
    for name, call in {
        "refused": lambda: list(c.playlist_items_pages(other_users_playlist(sb))),
        "features": lambda: c.audio_features(["x" * 22]),
        "missing": lambda: c.playlist("0" * 22),
    }.items():
        with pytest.raises(SpotifyError) as info:
            call()
        messages[name] = str(info.value)
    assert not leaks(issued_tokens(sb), messages)


def test_not_logged_in_is_exit_4(sandbox, monkeypatch):
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sandbox.url)
    from tastebot.errors import NotLoggedIn

    with pytest.raises(NotLoggedIn) as info:
        SpotifyClient(load_settings()).me()
    assert info.value.exit_code == 4


@pytest.mark.parametrize("ref", [
    "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M",
    "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M?si=abc123",
    "open.spotify.com/intl-de/playlist/37i9dQZF1DXcBWIGoYBM5M",
    "spotify:user:someone:playlist:37i9dQZF1DXcBWIGoYBM5M",
    " 37i9dQZF1DXcBWIGoYBM5M ",
])
def test_playlist_refs_accepted(ref):
    assert parse_playlist_ref(ref) == "37i9dQZF1DXcBWIGoYBM5M"


@pytest.mark.parametrize("ref", ["", "spotify:track:37i9dQZF1DXcBWIGoYBM5M", "https://example.com/playlist/x",
                                 "not a playlist", "https://open.spotify.com/album/37i9dQZF1DXcBWIGoYBM5M"])
def test_playlist_refs_refused(ref):
    with pytest.raises(InputError) as info:
        parse_playlist_ref(ref)
    assert info.value.exit_code == 2 and "\n" not in info.value.message


# -- ReccoBeats --------------------------------------------------------------------------------------

def test_reccobeats_batches_of_40_matched_by_href(logged_in):
    from tastebot.providers.reccobeats import ReccoBeatsClient

    sb = logged_in
    known = list(sb.catalog["audio_features"])[:85]
    unknown = ["0000000000000000000000", "1111111111111111111111"]
    rb = ReccoBeatsClient(load_settings())
    got = rb.audio_features(known + unknown)
    assert rb.request_count == 3 and sb.count("GET /reccobeats/v1/audio-features") == 3
    assert set(got) == set(known)
    for tid in known[:10]:
        want = {k: v for k, v in sb.catalog["audio_features"][tid].items()
                if k != "time_signature" and not (k == "key" and v == -1)}
        assert got[tid] == pytest.approx(want)


def test_reccobeats_answer_parsing_drops_foreign_ids():
    from tastebot.providers.reccobeats import ReccoBeatsClient

    answer = {"content": [
        {"id": "uuid-1", "href": "https://open.spotify.com/track/AAAAAAAAAAAAAAAAAAAAAA", "energy": 0.5, "key": -1},
        {"id": "uuid-2", "href": "https://open.spotify.com/track/ZZZZZZZZZZZZZZZZZZZZZZ", "energy": 0.9},
        {"id": "uuid-3", "href": None, "energy": 0.1},
        "junk",
    ]}
    got = ReccoBeatsClient.parse(answer, ["AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB"])
    assert got == {"AAAAAAAAAAAAAAAAAAAAAA": {"energy": 0.5}}


def test_reccobeats_gone_is_a_provider_error(logged_in):
    from tastebot.providers.reccobeats import ReccoBeatsClient

    rb = ReccoBeatsClient(load_settings(reccobeats_url=logged_in.url + "/nowhere/v1"))
    with pytest.raises(FeatureProviderError) as info:
        rb.audio_features(["AAAAAAAAAAAAAAAAAAAAAA"])
    assert "HTTP 404" in info.value.message and rb.request_count == 1


def test_every_client_honours_the_environment_proxy_and_never_netrc(logged_in, tmp_path, monkeypatch):
    """One HTTP session policy for every client (tastebot.httpsession): HTTP_PROXY and NO_PROXY
    apply to the Spotify gateway, the login's token refresh and the open services alike, and a
    .netrc entry for a host never adds a Basic Authorization header (it would replace Spotify's
    bearer token)."""
    from hostile_server import HostileServer, Reply

    from tastebot.spotify.auth import api_auth_manager
    from tastebot.httpsession import http_session
    from tastebot.providers.openhttp import OpenService

    sb = logged_in
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-a-token\n"
                     "machine tastebot-proxy-test.invalid login someone password not-a-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    seen = []

    def record(req):
        seen.append((req.method, req.headers.get("Host"), req.path, req.headers.get("Authorization")))
        if req.path == "/api/token":
            return Reply.json({"access_token": "A" * 40, "token_type": "Bearer", "expires_in": 3600, "scope": ""})
        return Reply.json({"id": "via-proxy"})

    with HostileServer() as proxy:
        proxy.answer = record
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        # A host only the proxy can reach: an open service gets there through it.
        service = OpenService(load_settings(), "Test", "http://tastebot-proxy-test.invalid", error=SpotifyError,
                              endpoint="test")
        assert service.get_json("/x", {"a": 1}) == {"id": "via-proxy"}
        assert seen == [("GET", "tastebot-proxy-test.invalid", "/x", None)]
        # The Spotify gateway goes through the proxy too, with its bearer token, not .netrc's login,
        # and so does the token refresh, with no Authorization header at all.
        sandbox_host = sb.url.removeprefix("http://")
        assert client_for().me() == {"id": "via-proxy"}
        method, host, path, auth = seen[-1]
        assert (method, host, path) == ("GET", sandbox_host, "/v1/me") and auth.startswith("Bearer ")
        api_auth_manager(load_settings()).refresh_now()
        assert seen[-1] == ("POST", sandbox_host, "/api/token", None)
        # NO_PROXY sends them straight to the sandbox.
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert client_for().me()["id"] == sb.state.listener_id
    assert len(seen) == 3
    # The CA bundle named in the environment is the one requests would verify with.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(netrc))
    assert http_session().merge_environment_settings("https://example.invalid/", {}, None, True, None)["verify"] == str(netrc)
