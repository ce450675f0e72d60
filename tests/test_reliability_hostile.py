"""Hostile or odd answers: tastebot's harvest pointed at a server that answers, for every endpoint it
reads, bodies generated from Spotify's OpenAPI description (nulls where allowed, empty and large
arrays, unicode in every string, unknown fields), and answers that break the spec (missing fields,
wrong types, truncated JSON, HTML error pages, empty bodies). Whatever comes back, the command ends
with a documented exit code and a one-line message, and nothing stored is garbage.

Also: ReccoBeats answers with fewer, more, reordered or foreign ids never attach features to the
wrong track.
"""

from __future__ import annotations

import json
import math
import random
import string
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from cli_runner import invoke
from hostile_server import HostileServer, Reply

from tastebot.settings import load_settings
from tastebot.store import open_store

SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "spotify" / "fixed-spotify-open-api.yml"
BASE62 = string.digits + string.ascii_letters
CLIENT_ID = "0123456789abcdef0123456789abcdef"
# Documented exit codes a harvest may end with when Spotify misbehaves (1 means a bug).
DOCUMENTED = {0, 2, 3, 4, 69, 74, 75}

# The endpoints harvest reads -> the OpenAPI path whose 200 answer describes them.
ENDPOINTS = {
    "/v1/me": "/me",
    "/v1/me/tracks": "/me/tracks",
    "/v1/me/top/tracks": "/me/top/tracks",
    "/v1/me/player/recently-played": "/me/player/recently-played",
    "/v1/me/playlists": "/me/playlists",
    "/v1/playlists/{id}": "/playlists/{playlist_id}",
    "/v1/playlists/{id}/items": "/playlists/{playlist_id}/items",
    "/v1/artists": "/artists",
    "/v1/search": "/search",
}


# -- OpenAPI schema -> hypothesis strategy ------------------------------------------------------

class SchemaStrategies:
    """A small converter: objects (required + optional props + unknown fields), nullable, allOf,
    oneOf/anyOf, arrays (empty, small, large), strings with unicode, realistic Spotify ids."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.ids = st.sampled_from(["".join(random.Random(i).choice(BASE62) for _ in range(22)) for i in range(12)])

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            node: object = self.spec
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]  # type: ignore[index]
            schema = node  # type: ignore[assignment]
        return schema

    def response_schema(self, path: str) -> dict:
        response = self.resolve(self.spec["paths"][path]["get"]["responses"]["200"])
        return response["content"]["application/json"]["schema"]

    def merged(self, schema: dict) -> dict:
        schema = self.resolve(schema)
        if "allOf" not in schema:
            return schema
        out: dict = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = self.merged(part)
            out["properties"].update(part.get("properties", {}))
            out["required"] += part.get("required", [])
        out["nullable"] = schema.get("nullable", False)
        return out

    def strategy(self, schema: dict, name: str = "", depth: int = 0) -> st.SearchStrategy:
        schema = self.merged(schema)
        base = self._strategy(schema, name, depth)
        return st.one_of(st.none(), base) if schema.get("nullable") else base

    def _strategy(self, schema: dict, name: str, depth: int) -> st.SearchStrategy:
        if "oneOf" in schema or "anyOf" in schema:
            return st.one_of(*[self.strategy(s, name, depth + 1) for s in schema.get("oneOf") or schema["anyOf"]])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kind = schema.get("type") or ("object" if "properties" in schema else "string")
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            item = self.strategy(schema.get("items", {}), name, depth + 1)
            small = st.lists(item, max_size=3 if depth < 4 else 1)
            return st.one_of(small, small.map(lambda xs: xs * 60 if xs else xs)) if depth < 3 else small
        if kind == "integer":
            return st.integers(min_value=0, max_value=10**7)
        if kind == "number":
            return st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
        if kind == "boolean":
            return st.booleans()
        return self._string(schema, name)

    def _string(self, schema: dict, name: str) -> st.SearchStrategy:
        if name in ("next", "previous"):
            return st.none()  # following links is tested apart (an endless `next` is its own case)
        if name == "id":
            return self.ids
        if name == "uri":
            return self.ids.map(lambda i: f"spotify:track:{i}")
        if name in ("type",):
            return st.just("track")
        if schema.get("format") == "date-time" or name.endswith("_at"):
            return st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
                lambda d: d.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z"))
        return st.text(max_size=24)  # any unicode, including controls and rich markup characters

    def _object(self, schema: dict, depth: int) -> st.SearchStrategy:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        if depth > 6:
            return st.fixed_dictionaries({k: st.none() for k in required})
        fixed = {k: self.strategy(v, k, depth + 1) for k, v in props.items() if k in required}
        optional = {k: self.strategy(v, k, depth + 1) for k, v in props.items() if k not in required}
        unknown = st.dictionaries(st.text(min_size=1, max_size=8).map(lambda k: "x_" + k), st.text(max_size=8), max_size=1)
        return st.tuples(st.fixed_dictionaries(fixed, optional=optional), unknown).map(lambda t: {**t[1], **t[0]})


@pytest.fixture(scope="session")  # not "module": xdist interleaves modules, tearing those down
def schemas():
    if not SPEC.is_file():
        pytest.skip(f"the OpenAPI description is absent ({SPEC}); it is developer and CI material")
    import yaml

    return SchemaStrategies(yaml.safe_load(SPEC.read_text(encoding="utf-8")))


# -- running a harvest against the hostile server -------------------------------------------------

@pytest.fixture(scope="session")  # not "module": xdist interleaves modules, tearing those down
def server():
    with HostileServer() as hs:
        yield hs


def _log_in_to(url: str, home: Path) -> None:
    """A valid-looking login for `url`: non-secret facts in login.json, a token with a far expiry."""
    from tastebot.spotify.tokens import FILE, TokenStore

    settings = load_settings(spotify_url=url, client_id=CLIENT_ID, insecure_storage=True)
    settings.ensure_home()
    settings.state_file.write_text(json.dumps({
        "client_id": CLIENT_ID, "accounts_url": url, "app_kind": "development", "insecure_storage": True,
        "user_id": "hostile-user",
    }), encoding="utf-8")
    TokenStore(settings, FILE).save_token_to_cache({
        "access_token": "hostile-access-token", "token_type": "Bearer", "expires_in": 3600,
        "expires_at": 4102444800, "refresh_token": "hostile-refresh-token", "scope": " ".join(__import__(
            "tastebot.settings", fromlist=["SCOPES"]).SCOPES),
    })


@pytest.fixture
def hostile(server, home, monkeypatch):
    server.reset()
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", server.url)
    monkeypatch.setenv("TASTEBOT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TASTEBOT_INSECURE_STORAGE", "1")
    monkeypatch.setenv("TASTEBOT_MAX_WAIT", "0")
    monkeypatch.setenv("TASTEBOT_REQUEST_TIMEOUT", "5")
    _log_in_to(server.url, home)
    # Backoff sleeps would make each example slow; the retry count is what matters here.
    import tastebot.httpsession as httpsession

    monkeypatch.setattr(httpsession.RetryPolicy, "backoff", lambda self, attempt: None)
    return server


def harvest(*extra: str) -> tuple[int, str, str]:
    return invoke(["harvest", "--sampled-negatives", "never", *extra]).astuple()


def clear_store(home: Path) -> None:
    for p in home.glob("tastebot.db*"):
        p.unlink()


def assert_clean_ending(code: int, err: str) -> None:
    assert code in DOCUMENTED, (code, err[-1500:])
    assert "Traceback" not in err and "unexpected" not in err, err[-1500:]
    if code != 0:
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, err[-1500:]


def assert_store_sane(served_ids: set[str] | None = None) -> None:
    settings = load_settings()
    if not settings.store_path.exists():
        return
    with open_store(settings) as s:
        assert s.integrity_check() == "ok"
        ids = s.known_track_ids()
        frame = s.tracks_frame(sorted(ids)) if ids else None
    for tid in ids:
        assert isinstance(tid, str) and len(tid) == 22 and set(tid) <= set(BASE62), tid
        if served_ids is not None:
            assert tid in served_ids, tid
    if frame is not None and len(frame):
        for name in frame["name"]:
            missing = name is None or (isinstance(name, float) and math.isnan(name))
            assert missing or (isinstance(name, str) and name not in ("None", "nan")), name
        for value in frame["duration_ms"]:
            assert value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)), value


def _route(server: HostileServer, answers: dict[str, Reply]) -> None:
    def answer(req):
        path = req.path
        if path.startswith("/v1/playlists/"):
            path = "/v1/playlists/{id}/items" if path.endswith("/items") else "/v1/playlists/{id}"
        if path.startswith("/reccobeats/"):
            return Reply.json({"content": []})
        return answers.get(path) or Reply.json({"error": {"status": 404, "message": "Service not found"}}, status=404)

    server.answer = answer


# -- spec-valid answers generated from the OpenAPI description -----------------------------------

def spotify_answers(schemas: SchemaStrategies) -> st.SearchStrategy[dict[str, dict]]:
    # Each endpoint's strategy is built once: building it inside every draw made hypothesis
    # re-derive the recursive strategies' properties each time (two thirds of this test's time).
    return st.fixed_dictionaries({endpoint: schemas.strategy(schemas.response_schema(path))
                                  for endpoint, path in ENDPOINTS.items()})


@pytest.mark.slow
def test_answers_generated_from_the_spec(hostile, home, schemas):
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              phases=[Phase.explicit, Phase.generate], print_blob=False)
    @given(answers=spotify_answers(schemas))
    def check(answers):
        clear_store(home)
        hostile.reset()
        _route(hostile, {k: Reply.json(v) for k, v in answers.items()})
        code, out, err = harvest()
        assert not hostile.errors
        assert_clean_ending(code, err)
        assert_store_sane()

    check()


def test_unicode_and_markup_in_names_are_stored_as_given(hostile, home):
    tid = "".join(random.Random(5).choice(BASE62) for _ in range(22))
    name = "[bold red]x[/] \u202eevil\u0000 \U0001f3b5 ünï"
    track = {"id": tid, "name": name, "type": "track", "uri": f"spotify:track:{tid}", "duration_ms": 1000,
             "artists": [{"id": "A" * 22, "name": "[link=https://evil.example]a[/link]"}],
             "album": {"id": "B" * 22, "name": "alb", "release_date": "2020", "album_type": "album"},
             "explicit": False, "popularity": 3, "is_local": False}
    _route(hostile, {
        "/v1/me": Reply.json({"id": "hostile-user", "display_name": "[blink]me[/]"}),
        "/v1/me/tracks": Reply.json({"items": [{"added_at": "2026-01-01T00:00:00Z", "track": track}], "total": 1,
                                     "offset": 0, "limit": 50, "next": None}),
    })
    code, out, err = harvest()
    assert_clean_ending(code, err)
    with open_store(load_settings()) as s:
        frame = s.tracks_frame([tid])
    assert list(frame["name"]) == [name]


def test_implausible_durations_are_not_stored_and_are_counted(hostile, home):
    """Spec-valid but absurd: a track of 0 ms, of minus 5 s, of three days. Only 1 ms to 6 h is stored."""
    rng = random.Random(16)
    durations = {"zero": 0, "negative": -5000, "days": 3 * 24 * 3600 * 1000, "song": 201_000, "long-mix": 5 * 3600_000}
    ids = {k: "".join(rng.choice(BASE62) for _ in range(22)) for k in durations}
    items = [{"added_at": "2026-01-01T00:00:00Z", "track": {
        "id": ids[k], "name": k, "type": "track", "uri": f"spotify:track:{ids[k]}", "duration_ms": d,
        "artists": [{"id": "A" * 22, "name": "a"}], "album": {"id": "B" * 22, "name": "alb", "release_date": "2020",
                                                                "album_type": "album"},
        "explicit": False, "is_local": False}} for k, d in durations.items()]
    _route(hostile, {"/v1/me": Reply.json({"id": "hostile-user", "display_name": "me"}),
                     "/v1/me/tracks": Reply.json(_saved_page(items))})
    code, out, err = harvest("--json")
    assert_clean_ending(code, err)
    assert code == 0, err[-1500:]
    assert json.loads(out)["library"]["implausible_durations_skipped"] == 3
    assert "outside 1 ms to 6 hours" in " ".join(err.split())
    with open_store(load_settings()) as s:
        frame = s.tracks_frame(list(ids.values())).set_index("track_id")
    assert set(frame.index) == set(ids.values())  # the likes are kept
    for k, tid in ids.items():
        value = frame.loc[tid, "duration_ms"]
        if k in ("song", "long-mix"):
            assert value == durations[k]
        else:
            assert value is None or math.isnan(value), (k, value)


def test_search_error_skips_sampled_negatives_and_the_harvest_finishes(hostile, home):
    """Sampled negatives are optional: a search that answers 422 skips them with a warning, exit 0."""
    rng = random.Random(6)
    items = []
    for i in range(12):
        tid = "".join(rng.choice(BASE62) for _ in range(22))
        items.append({"added_at": "2026-01-01T00:00:00Z", "track": {
            "id": tid, "name": f"song {i}", "type": "track", "uri": f"spotify:track:{tid}", "duration_ms": 200_000,
            "artists": [{"id": "A" * 22, "name": "a"}], "album": {"id": "B" * 22, "name": "alb",
                                                                    "release_date": "2020", "album_type": "album"},
            "explicit": False, "is_local": False}})
    _route(hostile, {"/v1/me": Reply.json({"id": "hostile-user", "display_name": "me"}),
                     "/v1/me/tracks": Reply.json(_saved_page(items)),
                     "/v1/search": Reply.json({"error": {"status": 422, "message": "Unprocessable"}}, status=422)})
    code, out, err = harvest("--sampled-negatives", "always", "--json")
    assert code == 0, err[-1500:]
    assert_clean_ending(code, err)
    summary = json.loads(out)
    src = next(s for s in summary["sources"] if s["name"] == "sampled_negatives")
    assert src["status"] == "skipped" and "search answered an error" in src["detail"], src
    assert "Sampled negatives skipped" in " ".join(err.split())
    assert summary["labels"]["likes"] == 12


# -- answers that break the spec ------------------------------------------------------------------

GOOD_ME = Reply.json({"id": "hostile-user", "display_name": "Me"})


def _saved_page(items) -> dict:
    return {"items": items, "total": len(items), "offset": 0, "limit": 50, "next": None}


BROKEN = {
    "me-missing-id": {"/v1/me": Reply.json({"display_name": "no id"})},
    "me-is-a-list": {"/v1/me": Reply.json([1, 2, 3])},
    "me-html-200": {"/v1/me": Reply.html(200)},
    "me-html-502": {"/v1/me": Reply.html(502)},
    "me-empty-200": {"/v1/me": Reply.empty(200)},
    "me-truncated": {"/v1/me": Reply.truncated({"id": "hostile-user", "display_name": "x" * 50})},
    "saved-truncated": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.truncated(_saved_page([]))},
    "saved-html": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.html(200)},
    "saved-empty-body": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.empty(200)},
    "saved-items-is-a-string": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.json({"items": "oops", "total": 1})},
    "saved-total-is-text": {"/v1/me": GOOD_ME,
                            "/v1/me/tracks": Reply.json({"items": [], "total": "many", "offset": "zero", "next": None})},
    "saved-track-wrong-types": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.json(_saved_page([
        {"added_at": 12345, "track": {"id": 42, "name": ["x"], "duration_ms": "long", "artists": "nobody"}},
        {"added_at": None, "track": {"id": None, "name": None}},
        {"added_at": "2026-01-01T00:00:00Z", "track": "a string"},
        None, 7, [],
    ]))},
    "saved-track-missing-fields": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.json(_saved_page([
        {"added_at": "2026-01-01T00:00:00Z", "track": {"id": "C" * 22}},
    ]))},
    "top-is-null": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.json(_saved_page([])),
                    "/v1/me/top/tracks": Reply.raw("null")},
    "top-items-of-nulls": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.json(_saved_page([])),
                           "/v1/me/top/tracks": Reply.json({"items": [None, {"id": None}, {}, 5]})},
    "recent-bad-played-at": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.json(_saved_page([])),
                             "/v1/me/top/tracks": Reply.json({"items": []}),
                             "/v1/me/player/recently-played": Reply.json({"items": [
                                 {"played_at": "yesterday", "track": {"id": "D" * 22, "name": "d"}},
                                 {"played_at": None, "track": None}], "next": None, "cursors": "none"})},
    "playlists-wrong-shape": {"/v1/me": GOOD_ME, "/v1/me/tracks": Reply.json(_saved_page([])),
                              "/v1/me/top/tracks": Reply.json({"items": []}),
                              "/v1/me/player/recently-played": Reply.json({"items": [], "next": None}),
                              "/v1/me/playlists": Reply.json({"items": [{"id": None, "name": 5, "owner": "me"},
                                                                        "x", {"id": "E" * 22, "owner": None,
                                                                              "tracks": "lots"}],
                                                              "next": None, "total": 3})},
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_answers_that_break_the_spec(hostile, home, case):
    _route(hostile, BROKEN[case])
    code, out, err = harvest()
    assert not hostile.errors
    assert_clean_ending(code, err)
    assert_store_sane()
    if code == 69:
        # the message says what was wrong and with which service
        assert "sandbox" in err.lower() or "spotify" in err.lower(), err


def test_an_endless_next_link_ends(hostile, home):
    """A server whose pages always say there is a next one must not keep tastebot paging forever."""
    def endless(req):
        offset = int(req.arg("offset", "0") or 0)
        return Reply.json({"items": [], "total": 10**6, "offset": offset, "limit": 50,
                           "next": f"{hostile.url}/v1/me/tracks?offset={offset + 50}&limit=50"})

    _route(hostile, {"/v1/me": GOOD_ME})
    hostile.routes["/v1/me/tracks"] = endless
    import threading

    box: dict = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", harvest()), daemon=True)
    worker.start()
    worker.join(10)
    pages = sum(1 for m, p, q in hostile.requests if p == "/v1/me/tracks")
    if worker.is_alive():
        hostile.routes["/v1/me/tracks"] = Reply.json(_saved_page([]))  # let the thread finish
        worker.join(30)
        pytest.fail(f"an endless `next` chain of empty pages is followed forever ({pages} pages in 10 s)")
    code, out, err = box["r"]
    assert_clean_ending(code, err)


# -- ReccoBeats: features go to the track they belong to -------------------------------------------

def _features_for(tid: str) -> dict:
    """Distinct, recognisable values per track: energy encodes the id, so a mix-up is visible."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(tid))
    return {"energy": (seed % 1000) / 1000.0, "danceability": ((seed // 7) % 1000) / 1000.0,
            "tempo": 60.0 + seed % 120}


@st.composite
def reccobeats_answers(draw):
    asked = draw(st.lists(st.text(BASE62, min_size=22, max_size=22), min_size=1, max_size=40, unique=True))
    known = draw(st.lists(st.sampled_from(asked), unique=True)) if asked else []  # fewer
    foreign = draw(st.lists(st.text(BASE62, min_size=22, max_size=22), max_size=5))  # more, not asked
    repeats = draw(st.lists(st.sampled_from(asked), max_size=3))  # the same id twice
    entries = []
    for sid in known + foreign + repeats:
        href_kind = draw(st.sampled_from(["url", "url-query", "uri"]))
        href = {"url": f"https://open.spotify.com/track/{sid}",
                "url-query": f"https://open.spotify.com/track/{sid}?si=abc",
                "uri": f"spotify:track:{sid}"}[href_kind]
        values = _features_for(sid)
        if sid in repeats and draw(st.booleans()):
            values = {k: (v + 0.5) % 1 for k, v in values.items()}  # a conflicting second entry
        entries.append({"id": draw(st.uuids()).hex, "href": href, **values,
                        "x_unknown": draw(st.text(max_size=5))})
    # Entries whose href names no track at all
    entries += [{"id": "x", "href": None, "energy": 0.1}, {"id": "y", "energy": 0.2}, "junk", None]
    order = draw(st.permutations(entries))
    return asked, list(order)


@pytest.fixture(scope="module")
def reccobeats_server():
    """One server for every example (starting and stopping one per example was most of the time)."""
    with HostileServer() as hs:
        yield hs


@given(case=reccobeats_answers())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_reccobeats_never_attaches_features_to_the_wrong_track(reccobeats_server, case):
    from tastebot.providers.reccobeats import ReccoBeatsClient

    asked, content = case
    hs = reccobeats_server
    hs.routes["/v1/audio-features"] = Reply.json({"content": content})
    client = ReccoBeatsClient(load_settings(reccobeats_url=hs.url + "/v1", max_wait=0))
    got = client.audio_features(asked)
    assert set(got) <= set(asked)
    for sid, values in got.items():
        expected = _features_for(sid)
        # First entry wins for a repeated id; either way the values are this track's own.
        for k, v in values.items():
            assert math.isclose(v, expected[k]) or math.isclose(v, (expected[k] + 0.5) % 1), (sid, k, v)
        first = next(e for e in content if isinstance(e, dict) and isinstance(e.get("href"), str)
                     and e["href"].split("?")[0].rsplit("/", 1)[-1].rsplit(":", 1)[-1] == sid)
        assert values["energy"] == pytest.approx(first["energy"])


def test_reccobeats_broken_answers_are_a_provider_error_not_a_crash(hostile):
    from tastebot.errors import FeatureProviderError
    from tastebot.providers.reccobeats import ReccoBeatsClient

    client = ReccoBeatsClient(load_settings(reccobeats_url=hostile.url + "/rb", max_wait=0))
    for reply in (Reply.html(200), Reply.truncated({"content": [{"href": "x"}]}), Reply.empty(200), Reply.html(503)):
        hostile.routes["/rb/audio-features"] = reply
        with pytest.raises(FeatureProviderError) as info:
            client.audio_features(["A" * 22])
        assert "ReccoBeats" in info.value.message and "\n" not in info.value.message
    for odd in ({"content": "none"}, [], {"content": None}, {"content": [{"href": 5}]}):
        hostile.routes["/rb/audio-features"] = Reply.json(odd)
        assert client.audio_features(["A" * 22]) == {}


def test_impossible_audio_features_are_refused_and_counted(hostile, home):
    """ReccoBeats answers schema-valid but impossible values (energy 1.7, tempo -3, mode 0.5, ...): nothing
    out of vocab's ranges is stored, and the harvest says how many tracks' answers it refused."""
    from tastebot.vocab import FEATURE_RANGES

    rng = random.Random(25)
    ids = ["".join(rng.choice(BASE62) for _ in range(22)) for _ in range(6)]
    items = [{"added_at": "2026-01-01T00:00:00Z", "track": {
        "id": tid, "name": f"t{i}", "type": "track", "uri": f"spotify:track:{tid}", "duration_ms": 200_000,
        "artists": [{"id": "A" * 22, "name": "a"}], "album": {"id": "B" * 22, "name": "alb", "release_date": "2020",
                                                                "album_type": "album"},
        "explicit": False, "is_local": False}} for i, tid in enumerate(ids)]
    good = {"danceability": 0.5, "energy": 0.6, "key": 5, "loudness": -7.0, "mode": 1, "speechiness": 0.05,
            "acousticness": 0.2, "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.4, "tempo": 120.0,
            "time_signature": 4}
    bad = [{"energy": 1.7}, {"tempo": -3.0}, {"mode": 0.5}, {"loudness": 40.0},
           {"danceability": 2.0, "speechiness": -0.1, "instrumentalness": 9.0, "liveness": 1.5}]
    answers = [{**good, **b} for b in bad] + [good]
    content = [{"id": f"rb{i}", "href": f"https://open.spotify.com/track/{tid}", **values}
               for i, (tid, values) in enumerate(zip(ids, answers))]

    def answer(req):
        if req.path.startswith("/reccobeats/"):
            return Reply.json({"content": content})
        return {"/v1/me": Reply.json({"id": "hostile-user", "display_name": "me"}),
                "/v1/me/tracks": Reply.json(_saved_page(items))}.get(req.path) or Reply.json(
            {"error": {"status": 404, "message": "Service not found"}}, status=404)

    hostile.answer = answer
    code, out, err = harvest("--json")
    assert_clean_ending(code, err)
    assert code == 0, err[-1500:]
    report = json.loads(out)["feature_providers"]["reccobeats"]
    assert report["refused"] == len(bad) and report["found"] == 1, report
    assert "outside their ranges" in " ".join(err.split())
    with open_store(load_settings()) as s:
        stored = s.features_for(ids)
    assert set(stored) == {ids[-1]}, stored  # only the possible answer
    for values in stored.values():
        for feature, x in values.items():
            low, high = FEATURE_RANGES[feature]
            assert low <= x <= high, (feature, x)
