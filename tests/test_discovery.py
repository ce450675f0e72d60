"""Discovery (issue 14): related artists from the open services, through the sandbox's emulations of
Deezer and Last.fm over real HTTP, every failure mode with its outcome, and what leaves the machine."""

from __future__ import annotations

import socket

import pandas as pd
import pytest
import requests

from tastebot.recommend.candidates import CandidatePool
from tastebot.recommend.retrievers.discovery import gather_discovery
from tastebot.names import loose_artist_name
from tastebot.discovery.deezer import DeezerProvider
from tastebot.known import Known
from tastebot.recommend import RecommendOptions


# -- the emulations -----------------------------------------------------------------------------------
def test_sandbox_relations_come_from_shared_playlists_and_keep_the_quirks(sandbox):
    cat = sandbox.catalog
    listener = cat["listener"]["user_id"]
    tracks = {t["id"]: t for t in cat["tracks"]}
    artists = {a["id"]: a for a in cat["artists"]}
    shared: dict[tuple[str, str], int] = {}
    for p in cat["playlists"]:
        if p["owner_id"] == listener:
            continue
        members = {a for t in p["track_ids"] for a in tracks[t]["artist_ids"]}
        for a in members:
            for b in members:
                shared[(a, b)] = shared.get((a, b), 0) + 1
    world = sandbox.open_services.world
    checked = 0
    for aid in list(artists)[:40]:
        did = world.deezer_artist[aid]
        answer = requests.get(f"{sandbox.url}/deezer/artist/{did}/related", params={"limit": 50}, timeout=10).json()
        names = [a["name"] for a in answer["data"]]
        for a in answer["data"]:
            other = world.artist_by_deezer[a["id"]]
            assert shared.get((aid, other), 0) >= 1, "a related artist shares at least one playlist"
            checked += 1
        assert len(names) <= 20
    assert checked > 100
    # errors come back with HTTP 200
    gone = requests.get(f"{sandbox.url}/deezer/track/1", timeout=10)
    assert gone.status_code == 200 and gone.json()["error"]["code"] == 800
    # a track by its ISRC (any case); an unknown ISRC is "no data"
    on_deezer = next(t for t in sandbox.catalog["tracks"] if t["id"] in world.deezer_track and t.get("isrc"))
    found = requests.get(f"{sandbox.url}/deezer/track/isrc:{on_deezer['isrc'].lower()}", timeout=10).json()
    assert found["id"] == world.deezer_track[on_deezer["id"]]
    unknown_isrc = requests.get(f"{sandbox.url}/deezer/track/isrc:ZZ0000000000", timeout=10).json()
    assert unknown_isrc["error"]["code"] == 800
    # name variants: some Deezer spellings differ, and the loose comparison still pairs them
    variants = [(a["name"], world.name(aid, "deezer")) for aid, a in artists.items() if world.name(aid, "deezer") != a["name"]]
    assert len(variants) >= 0.05 * len(artists)
    assert all(loose_artist_name(x) == loose_artist_name(y) for x, y in variants)
    # some full tracks carry an empty ISRC; partial ones never carry one
    top = requests.get(f"{sandbox.url}/deezer/artist/{world.deezer_artist[next(iter(artists))]}/top", timeout=10).json()
    assert top["data"] and all("isrc" not in t for t in top["data"])
    empty = sum(sandbox.open_services._deezer_track(t, full=True)["isrc"] == "" for t in list(world.deezer_track)[:300])
    assert 5 <= empty <= 60
    # Last.fm: a key is required; an unknown artist is error 6 with HTTP 200
    no_key = requests.get(f"{sandbox.url}/lastfm/2.0/", params={"method": "artist.getsimilar", "artist": "x"}, timeout=10)
    assert no_key.status_code == 403 and no_key.json()["error"] == 10
    unknown = requests.get(f"{sandbox.url}/lastfm/2.0/", params={"method": "artist.getsimilar", "artist": "Nobody At All",
                                                                  "api_key": "k", "format": "json"}, timeout=10)
    assert unknown.status_code == 200 and unknown.json()["error"] == 6


def test_deezer_quota_is_an_error_with_http_200(make_sandbox):
    sb = make_sandbox()
    sb.configure_discovery("deezer", quota=2, window=60)
    answers = [requests.get(f"{sb.url}/deezer/search/artist", params={"q": "a"}, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "data" in answers[1].json() and answers[2].json()["error"]["code"] == 4


# -- the chain against the sandbox ------------------------------------------------------------------------
@pytest.fixture
def run_discovery(make_logged_in, monkeypatch):
    """run_discovery(sandbox_kwargs=None, **settings) -> (sandbox, pool, sources, warnings) for one
    discovery pass over a logged-in development sandbox, starting from the listener's top artists."""
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    state = {}

    def run(sb=None, *, known: Known | None = None, new_artists_only: bool = False, **overrides):
        sb = sb or state.get("sb") or make_logged_in()
        state["sb"] = sb
        settings = load_settings(**overrides)
        client = SpotifyClient(settings)
        client.policy.backoff_base = 0.001  # keep retries quick; the policy is tested elsewhere
        pool, sources, warns = CandidatePool(), {}, []
        empty = Known(set(), set(), set(), set(), set())
        opts = RecommendOptions(new_artists_only=new_artists_only)
        with open_store(settings) as store:
            gather_discovery(settings, client, store, pd.DataFrame(), known or empty, pool, opts, sources, warns)
        return sb, pool, sources, warns

    return run


def _discovered(pool: CandidatePool, provider: str = "deezer") -> list[str]:
    return [t for t, e in pool.info.items() if f"discovery:{provider}" in e["tags"]]


def test_deezer_finds_new_artists_on_spotify_with_the_relation(run_discovery):
    sb, pool, sources, warns = run_discovery()
    found = _discovered(pool)
    assert len(found) >= 40, sources
    assert sources["discovery:deezer"].startswith("used: ")
    assert sources["discovery:lastfm"].startswith("off (needs your own API key")
    top_names = {loose_artist_name(sb.state.artists[a]["name"]) for a in _top_artist_ids(sb)}
    for tid in found:
        entry = pool.info[tid]
        assert entry["relations"][0].startswith("related to ") and entry["relations"][0].endswith(", whom you play a lot")
        seed = entry["relations"][0][len("related to "):].rsplit(", whom", 1)[0]
        assert loose_artist_name(seed) in top_names
        assert tid in sb.state.tracks  # a real Spotify id of the catalogue
    # the ISRC path and the title path both found tracks: some Deezer tracks have no ISRC
    assert sb.count("GET /deezer/track/{id}") > 0 and sb.count("GET /v1/search") > len(found)
    # a second run asks Deezer nothing: answers and matches come from the store
    sb.reset_stats()
    _, pool2, sources2, _ = run_discovery()
    assert sorted(_discovered(pool2)) == sorted(found)
    assert sum(v for k, v in _counts(sb).items() if k.startswith("GET /deezer")) == 0
    assert "0 requests" in sources2["discovery:deezer"]


def _top_artist_ids(sb) -> set[str]:
    top = sb.catalog["listener"]["top_tracks"]["medium_term"]
    return {a for t in top for a in sb.state.tracks[t]["artist_ids"]} | set(sb.catalog["listener"]["followed_artist_ids"])


def _counts(sb) -> dict[str, int]:
    return {k: sum(v.values()) for k, v in sb.stats()["requests"].items()}


def test_the_never_heard_rule_drops_known_songs_before_any_search(run_discovery, make_logged_in):
    sb = make_logged_in()
    _, pool, _, _ = run_discovery(sb)
    found = _discovered(pool)
    tracks = sb.state.tracks
    # The listener "knows" half of what was found: by id, by ISRC, by title and artist.
    third = len(found) // 3
    known = Known(track_ids=set(found[:third]), isrcs={tracks[t]["isrc"].upper() for t in found[third:2 * third]},
                  title_keys=set(), artist_ids=set(), artist_names=set())
    from tastebot.names import title_artist_key

    known.title_keys = {title_artist_key(tracks[t]["name"], sb.state.artists[tracks[t]["artist_ids"][0]]["name"])
                        for t in found[2 * third:2 * third + 3]}
    _, pool2, sources, _ = run_discovery(sb, known=known)
    again = set(_discovered(pool2))
    assert not again & set(found[:2 * third + 3])
    assert "you know" in sources["discovery:deezer"]


@pytest.mark.parametrize("mode", ["down", "garbage"])
@pytest.mark.parametrize("provider", ["deezer", "lastfm"])
def test_a_provider_down_or_talking_garbage_is_reported_and_the_run_goes_on(run_discovery, make_logged_in, provider, mode):
    sb = make_logged_in()
    sb.configure_discovery(provider, **{mode: True})
    _, pool, sources, warns = run_discovery(sb, lastfm_api_key="sandbox-key")
    line = sources[f"discovery:{provider}"]
    assert line.startswith("failing: "), line
    assert ("kept failing (HTTP 503)" if mode == "down" else "not JSON") in line
    assert not _discovered(pool, provider)
    assert any(w.startswith(f"discovery:{provider} failing") for w in warns)
    other = "lastfm" if provider == "deezer" else "deezer"
    assert sources[f"discovery:{other}"].startswith("used: ") and _discovered(pool, other), "the other provider still works"


def test_an_unreachable_provider_is_failing_not_fatal(run_discovery, make_logged_in):
    from login_helpers import free_port

    sb = make_logged_in()
    _, pool, sources, _ = run_discovery(sb, deezer_url=f"http://127.0.0.1:{free_port()}")
    assert "unreachable" in sources["discovery:deezer"] and not _discovered(pool)


def test_deezer_quota_beyond_max_wait_drops_deezer_but_keeps_what_came_before(run_discovery, make_logged_in):
    sb = make_logged_in()
    sb.configure_discovery("deezer", quota=30, window=600)
    _, pool, sources, _ = run_discovery(sb, max_wait=1)  # Deezer's quota pause is 5 s
    line = sources["discovery:deezer"]
    assert line.startswith("failing: Deezer is rate-limiting tastebot"), line
    assert sb.count("GET /deezer/search/artist") >= 1
    assert "kept what came before" in line


def test_deezer_quota_within_max_wait_is_waited_out(run_discovery, make_logged_in, monkeypatch):
    sb = make_logged_in()
    monkeypatch.setattr(DeezerProvider, "quota_pause", 0.3)  # the sandbox's window below, not Deezer's 5 s
    sb.configure_discovery("deezer", quota=25, window=0.3)
    _, pool, sources, _ = run_discovery(sb, max_wait=5)
    assert sources["discovery:deezer"].startswith("used: ") and len(_discovered(pool)) >= 40


def test_lastfm_429_drops_lastfm_or_is_waited_out(run_discovery, make_logged_in):
    sb = make_logged_in()
    sb.configure_discovery("lastfm", quota=3, window=600, retry_after=3600)
    _, pool, sources, _ = run_discovery(sb, lastfm_api_key="k", discovery="lastfm")
    assert "failing: Last.fm is rate-limiting tastebot" in sources["discovery:lastfm"]
    assert sb.count("GET /lastfm/2.0/", 429) == 1
    sb.configure_discovery("lastfm", quota=8, window=0.3, retry_after=0.3)
    _, pool, sources, _ = run_discovery(sb, lastfm_api_key="k", discovery="lastfm")
    assert sources["discovery:lastfm"].startswith("used: ") and _discovered(pool, "lastfm")
    assert sb.count("GET /lastfm/2.0/", 429) >= 2


def test_a_wrong_lastfm_key_is_failing_with_the_setting_to_check(run_discovery, make_logged_in):
    sb = make_logged_in()
    _, pool, sources, _ = run_discovery(sb, lastfm_api_key=" ", discovery="lastfm")
    assert sources["discovery:lastfm"].startswith("off")  # blank: no key
    from hostile_server import HostileServer, Reply

    with HostileServer() as hs:
        hs.answer = Reply.json({"error": 10, "message": "Invalid API key"}, status=403)
        _, pool, sources, _ = run_discovery(sb, lastfm_api_key="bad", discovery="lastfm", lastfm_url=hs.url)
    assert "check TASTEBOT_LASTFM_API_KEY" in sources["discovery:lastfm"]


def test_no_match_anywhere_adds_nothing_and_says_so(run_discovery, make_logged_in):
    """Deezer relates an artist Spotify does not have: nothing is added, the miss is counted, and the
    miss is cached (the next run searches Spotify no more)."""
    from hostile_server import HostileServer, Reply

    sb = make_logged_in()
    with HostileServer() as hs:
        def answer(req):
            if req.path == "/search/artist":
                return Reply.json({"data": [{"id": 1, "name": req.arg("q")}], "total": 1})
            if req.path == "/artist/1/related":
                return Reply.json({"data": [{"id": 2, "name": "Nobody Spotify Knows"}], "total": 1})
            if req.path == "/artist/2/top":
                return Reply.json({"data": [{"id": 9, "title": "A Song Nowhere Else", "artist": {"id": 2, "name": "Nobody Spotify Knows"}}]})
            if req.path == "/track/9":
                return Reply.json({"id": 9, "title": "A Song Nowhere Else", "isrc": "ZZZ000000001"})
            return Reply.json({"error": {"type": "DataException", "message": "no data", "code": 800}})

        hs.answer = answer
        _, pool, sources, _ = run_discovery(sb, deezer_url=hs.url)
        line = sources["discovery:deezer"]
        assert line.startswith("used: 1 new artists") and "0 of their tracks found on Spotify (1 not found" in line
        assert not _discovered(pool)
        searches = sb.count("GET /v1/search")
        _, _, sources, _ = run_discovery(sb, deezer_url=hs.url)
        assert sb.count("GET /v1/search") == searches  # the miss was cached: no second search
    # and garbage in the right envelope: data that is not a list is "nothing", not a crash
    with HostileServer() as hs:
        hs.answer = Reply.json({"data": "nonsense", "total": "many"})
        _, pool, sources, _ = run_discovery(sb, deezer_url=hs.url)
    assert sources["discovery:deezer"].startswith("used: 0 new artists related to 0") and not _discovered(pool)


# -- the product path ---------------------------------------------------------------------------------------
def test_new_artists_only_on_a_development_app_without_corpus_is_a_full_list(make_logged_in):
    from tastebot.harvest import Harvester, HarvestOptions
    from tastebot.recommend import recommend
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    sb = make_logged_in()
    settings = load_settings()
    client = SpotifyClient(settings)
    with open_store(settings) as store:
        Harvester(settings, client, store, HarvestOptions(), rng_seed=1).run()
        assert store.corpus_stats()["playlists"] == 0
        known = Known.from_store(store)
        result = recommend(settings, store, client, RecommendOptions(n=30, new_artists_only=True, blend_weight=0))
        without = recommend(settings, store, client, RecommendOptions(n=30, new_artists_only=True, blend_weight=0,
                                                                      use_discovery=False))
    recs = result.recommendations
    assert len(recs) == 30
    assert len(without.recommendations) < 30, "without discovery the list is short: the test means something"
    assert without.sources["discovery"] == "off (--no-discovery)"
    for r in recs:
        artists = set(sb.state.tracks[r.track_id]["artist_ids"])
        assert not artists & known.artist_ids and r.track_id not in known.track_ids
    related = [r for r in recs if r.relation]
    assert len(related) >= 15
    assert all(r.why.startswith(r.relation) and "discovery:deezer" in r.sources for r in related)


def test_only_the_configured_hosts_are_contacted_and_nothing_about_the_listener_is_sent(make_logged_in, monkeypatch):
    """A network guard: every connection a recommend run with both providers opens goes to the
    sandbox's address; the open services get no Authorization header or cookie, and their queries
    hold only artist names, limits and the Last.fm key."""
    from cli_runner import invoke
    from login_helpers import issued_tokens

    sb = make_logged_in()
    assert invoke(["harvest"]).code == 0
    monkeypatch.setenv("TASTEBOT_LASTFM_API_KEY", "users-own-lastfm-key")
    sb.reset_stats()
    seen: list = []
    real_connect = socket.socket.connect

    def recording_connect(self, address):
        seen.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    res = invoke(["recommend", "-n", "10", "--blend", "0"])
    monkeypatch.setattr(socket.socket, "connect", real_connect)
    assert res.code == 0, res.err
    assert "Discovery: deezer used: " in res.text and "lastfm used: " in res.text
    assert seen and {a[:2] for a in seen} == {("127.0.0.1", sb.port)}
    per_service = {k.split()[1].split("/")[1] for k in _counts(sb)}
    assert {"v1", "deezer", "lastfm"} <= per_service <= {"v1", "deezer", "lastfm", "reccobeats"}
    services = sb.open_services
    assert services.leaks == 0 and services.queries
    allowed = {"q", "limit", "method", "artist", "autocorrect", "format", "api_key"}
    secrets = set(issued_tokens(sb)) | {sb.catalog["listener"]["user_id"]}
    for service, path, query in services.queries:
        assert set(query) <= allowed, (service, query)
        values = " ".join(v for vs in query.values() for v in vs) + path
        assert not any(s in values for s in secrets)
        if "artist" in query or "q" in query:
            name = (query.get("artist") or query.get("q"))[0]
            assert loose_artist_name(name) in {loose_artist_name(a["name"]) for a in sb.catalog["artists"]}
    # the Last.fm key was sent to Last.fm, and is nowhere in the cache
    assert any(q.get("api_key") == ["users-own-lastfm-key"] for s, _, q in services.queries if s == "lastfm")
    from tastebot.settings import load_settings

    home = load_settings().home
    for path in home.glob("tastebot.db*"):
        assert b"users-own-lastfm-key" not in path.read_bytes()


def test_no_discovery_flag_and_a_bad_provider_setting(make_logged_in, monkeypatch):
    from cli_runner import invoke

    sb = make_logged_in()
    assert invoke(["harvest"]).code == 0
    res = invoke(["recommend", "-n", "5", "--blend", "0", "--no-discovery"])
    assert res.code == 0 and "Discovery: off (--no-discovery)" in res.text
    assert not any(k.startswith("GET /deezer") for k in _counts(sb))
    monkeypatch.setenv("TASTEBOT_DISCOVERY", "deezer,spotify-radio")
    res = invoke(["recommend", "-n", "5"])
    assert res.code == 2 and "unknown discovery provider 'spotify-radio'" in res.err
    monkeypatch.setenv("TASTEBOT_DISCOVERY", "none")
    res = invoke(["recommend", "-n", "5", "--blend", "0"])
    assert res.code == 0 and "deezer off (not in TASTEBOT_DISCOVERY)" in res.text


def test_a_provider_is_one_module_registered_once_by_name():
    """Adding a provider: tastebot/discovery/<name>.py with its `PROVIDER`, and the name in
    settings.DISCOVERY_PROVIDERS; the chain finds the class, its base and why it may be off."""
    from tastebot.discovery.base import Provider
    from tastebot.discovery.chain import provider_class
    from tastebot.settings import DISCOVERY_PROVIDERS, load_settings

    settings = load_settings(spotify_url="http://127.0.0.1:9")
    for name in DISCOVERY_PROVIDERS:
        cls = provider_class(name)
        assert issubclass(cls, Provider) and cls.name == name and cls.label
        assert cls.base(settings).startswith("http://127.0.0.1:9/")  # the sandbox serves every provider
    assert provider_class("lastfm").off_reason(settings).startswith("needs your own API key")
    assert provider_class("lastfm").off_reason(settings.with_(lastfm_api_key="k")) is None
    assert provider_class("deezer").off_reason(settings) is None
