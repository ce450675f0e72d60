"""The sandbox catalogue: format validation, loading, the deterministic generator and its realism,
the learnability of the hidden taste, and the corpus CSV export."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tastebot.errors import InputError
from tastebot.sandbox.format import FORMAT, export_corpus_csv, load_catalog, validate_catalog
from tastebot.sandbox.generator import DISLIKE_PLAYLIST_NAME, GENRES, generate_catalog
from tastebot.vocab import AUDIO_FEATURES


@pytest.fixture(scope="session")  # not "module": xdist interleaves modules, tearing those down
def small():
    return generate_catalog(seed=7, n_tracks=600)


@pytest.fixture(scope="session")  # not "module": xdist interleaves modules, tearing those down
def large():
    return generate_catalog(seed=1, n_tracks=2000)


def digest(catalog: dict) -> str:
    return hashlib.sha256(json.dumps(catalog, sort_keys=True).encode()).hexdigest()


# ---- determinism --------------------------------------------------------------------------------

def test_same_seed_gives_identical_json_also_in_another_process(small):
    assert json.dumps(generate_catalog(seed=7, n_tracks=600)) == json.dumps(small)
    # Another interpreter with another string-hash seed: nothing may depend on set or hash order.
    code = ("import hashlib, json; from tastebot.sandbox.generator import generate_catalog; "
            "print(hashlib.sha256(json.dumps(generate_catalog(seed=7, n_tracks=600), sort_keys=True).encode()).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == digest(small)


def test_different_seeds_give_different_worlds(small):
    other = generate_catalog(seed=8, n_tracks=600)
    assert digest(other) != digest(small)
    assert {t["id"] for t in other["tracks"]}.isdisjoint({t["id"] for t in small["tracks"]})
    assert other["hidden"]["future_likes"] != small["hidden"]["future_likes"]


# ---- the generated world ------------------------------------------------------------------------

def test_generated_catalogue_validates_and_has_exact_size(small, large):
    for catalog, n in ((small, 600), (large, 2000)):
        assert validate_catalog(catalog) is catalog
        assert len(catalog["tracks"]) == n
        # Pure JSON types only (no numpy scalars): a JSON round trip gives the same data back.
        assert json.loads(json.dumps(catalog)) == catalog


def test_generated_structure_is_realistic(large):
    c = large
    artists = {a["id"]: a for a in c["artists"]}
    known_genres = set(GENRES) | {s for a in c["artists"] for s in a["genres"]}
    assert set(GENRES) <= known_genres and "neo soul" in known_genres and "reggaeton" in known_genres
    assert 200 <= len(c["artists"]) <= 1000
    assert {a["album_type"] for a in c["albums"]} == {"album", "single", "compilation"}
    assert {a["release_date_precision"] for a in c["albums"]} == {"year", "month", "day"}
    assert all(re.fullmatch(r"[0-9A-Za-z]{22}", t["id"]) for t in c["tracks"])
    assert all(re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}\d{7}", t["isrc"]) for t in c["tracks"])
    # Missing features: whole tracks and single keys.
    feats = c["audio_features"]
    assert 0.01 * 2000 < 2000 - len(feats) < 0.06 * 2000
    assert any(len(v) < len(AUDIO_FEATURES) for v in feats.values())
    # The same recording under two ids with one ISRC, a reissue named like Spotify names them.
    by_isrc: dict[str, list[dict]] = {}
    for t in c["tracks"]:
        by_isrc.setdefault(t["isrc"], []).append(t)
    pairs = [ts for ts in by_isrc.values() if len(ts) > 1]
    assert len(pairs) >= 10
    assert any(re.search(r" - (Remastered \d{4}|\d{4} Remaster)$", t["name"]) for ts in pairs for t in ts)
    # Other users' playlists are mostly one genre: the commonest genre family holds most tracks.
    track_genre = {t["id"]: artists[t["artist_ids"][0]]["genres"] for t in c["tracks"]}
    listener_id = c["listener"]["user_id"]
    shares = []
    for p in c["playlists"]:
        if p["owner_id"] == listener_id or p["name"] in ("Workout", "Chill evening", "Feel good", "Sad songs",
                                                         "Dance floor", "Road trip"):
            continue
        families = [next((g for g in track_genre[t] if g in GENRES), None) for t in p["track_ids"]]
        families = [f for f in families if f]
        shares.append(max(families.count(g) for g in GENRES) / len(families))
    assert len(shares) > 50 and np.median(shares) > 0.8
    assert any(p["collaborative"] for p in c["playlists"])
    assert not any(p["collaborative"] and p["public"] for p in c["playlists"])
    assert len(c["users"]) == 31


def test_listener_sources_and_ground_truth_are_consistent(small):
    c = small
    listener = c["listener"]
    me = listener["user_id"]
    saved_times = [s["added_at"] for s in listener["saved_tracks"]]
    assert saved_times == sorted(saved_times, reverse=True) and len(saved_times) >= 40
    played = [p["played_at"] for p in listener["recently_played"]]
    assert len(played) == 50 and played == sorted(played, reverse=True)
    assert all(1 <= len(v) <= 50 for v in listener["top_tracks"].values())
    own = [p for p in c["playlists"] if p["owner_id"] == me]
    dislikes = [p for p in own if p["name"] == DISLIKE_PLAYLIST_NAME]
    assert len(own) >= 3 and len(dislikes) == 1 and len(dislikes[0]["track_ids"]) >= 6
    followed = {p["id"]: p for p in c["playlists"] if p["id"] in listener["followed_playlist_ids"]}
    assert followed and all(p["owner_id"] != me for p in followed.values())
    assert listener["followed_artist_ids"]

    heard = ({s["track_id"] for s in listener["saved_tracks"]} | {p["track_id"] for p in listener["recently_played"]}
             | {t for v in listener["top_tracks"].values() for t in v}
             | {t for p in own + list(followed.values()) for t in p["track_ids"]})
    future = c["hidden"]["future_likes"]
    assert len(future) >= 30 and heard.isdisjoint(future)
    isrc = {t["id"]: t["isrc"] for t in c["tracks"]}
    assert {isrc[t] for t in heard}.isdisjoint({isrc[t] for t in future})  # not even under another id
    assert set(dislikes[0]["track_ids"]).isdisjoint(future)
    assert set(dislikes[0]["track_ids"]).isdisjoint(s["track_id"] for s in listener["saved_tracks"])


def _taste_frame(catalog):
    """Features + popularity + genre one-hot; label 1 for the listener's likes (saved and the hidden
    future likes), 0 for tracks the listener never touched."""
    artists = {a["id"]: a for a in catalog["artists"]}
    listener = catalog["listener"]
    likes = {s["track_id"] for s in listener["saved_tracks"]} | set(catalog["hidden"]["future_likes"])
    touched = (likes | {p["track_id"] for p in listener["recently_played"]}
               | {t for v in listener["top_tracks"].values() for t in v}
               | {t for p in catalog["playlists"] if p["owner_id"] == listener["user_id"] for t in p["track_ids"]})
    rows, labels = [], []
    for t in catalog["tracks"]:
        if t["id"] in touched and t["id"] not in likes:
            continue
        f = catalog["audio_features"].get(t["id"], {})
        genres = artists[t["artist_ids"][0]]["genres"]
        rows.append([f.get(k, np.nan) for k in AUDIO_FEATURES] + [t["popularity"]] + [float(g in genres) for g in GENRES])
        labels.append(int(t["id"] in likes))
    x = np.array(rows, dtype=float)
    x = np.where(np.isnan(x), np.nanmedian(x, axis=0), x)
    return x, np.array(labels)


@pytest.mark.parametrize("seed", [0, 1])
def test_hidden_taste_is_learnable_but_not_trivial(seed, large):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    catalog = large if seed == 1 else generate_catalog(seed=seed, n_tracks=2000)
    x, y = _taste_frame(catalog)
    assert 0.1 < y.mean() < 0.4
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    assert 0.65 < auc < 0.97, auc


def test_feature_distributions_match_the_real_data(shared_dir, large):
    import pandas as pd

    real = pd.read_csv(shared_dir / "data" / "tidytuesday_spotify_songs.csv").drop_duplicates("track_id")
    real = real.rename(columns={"track_popularity": "popularity"})
    generated = pd.DataFrame.from_dict(large["audio_features"], orient="index")
    tracks = pd.DataFrame(large["tracks"]).set_index("id")
    generated["popularity"] = tracks["popularity"]
    generated["duration_ms"] = tracks["duration_ms"]
    for column in [k for k in AUDIO_FEATURES if k != "time_signature"] + ["popularity", "duration_ms"]:
        sd = real[column].std()
        assert abs(generated[column].mean() - real[column].mean()) < 0.25 * sd, column
        assert 0.6 < generated[column].std() / sd < 1.5, column
    # Genre character survives: rap is talkier than rock, rock more acoustic than edm.
    artists = {a["id"]: a for a in large["artists"]}
    genre_of = {t: next((g for g in artists[row["artist_ids"][0]]["genres"] if g in GENRES), None)
                for t, row in tracks.iterrows()}
    generated["genre"] = pd.Series(genre_of)
    by_genre = generated.groupby("genre")[["speechiness", "acousticness", "energy"]].mean()
    real_by_genre = real.groupby("playlist_genre")[["speechiness", "acousticness", "energy"]].mean()
    assert (by_genre.loc["rap", "speechiness"] > by_genre.loc["rock", "speechiness"]) == (
        real_by_genre.loc["rap", "speechiness"] > real_by_genre.loc["rock", "speechiness"])
    for genre in GENRES:
        assert abs(by_genre.loc[genre, "energy"] - real_by_genre.loc[genre, "energy"]) < 0.4 * real["energy"].std(), genre


def test_generator_refuses_bad_sizes():
    with pytest.raises(InputError, match="number of tracks"):
        generate_catalog(seed=0, n_tracks=10)
    with pytest.raises(InputError, match="seed"):
        generate_catalog(seed=-1, n_tracks=600)


# ---- validation ---------------------------------------------------------------------------------

def _break(catalog, how):
    broken = copy.deepcopy(catalog)
    how(broken)
    return broken


def _first_feature_id(c):
    return next(iter(c["audio_features"]))


CASES = [
    ("wrong format", lambda c: c.update(format="tastebot-sandbox-catalog/2"),
     "catalog: format: expected 'tastebot-sandbox-catalog/1', got 'tastebot-sandbox-catalog/2'"),
    ("missing section", lambda c: c.pop("albums"), "catalog: albums: missing section"),
    ("unknown album", lambda c: c["tracks"][3].update(album_id="x"), "catalog: tracks[3].album_id: unknown album 'x'"),
    ("unknown artist", lambda c: c["albums"][2]["artist_ids"].append("nobody"),
     "catalog: albums[2].artist_ids[1]: unknown artist 'nobody'"),
    ("duplicate id", lambda c: c["artists"][4].update(id=c["artists"][1]["id"]),
     "catalog: artists[4].id: duplicate id '{a1}' (first at artists[1])"),
    ("missing field", lambda c: c["tracks"][5].pop("isrc"), "catalog: tracks[5].isrc: missing"),
    ("bool is not an integer", lambda c: c["tracks"][0].update(popularity=True),
     "catalog: tracks[0].popularity: expected an integer, got a boolean true"),
    ("popularity range", lambda c: c["tracks"][0].update(popularity=101), "catalog: tracks[0].popularity: 101 is out of range (0..100)"),
    ("explicit not bool", lambda c: c["tracks"][2].update(explicit="yes"),
     "catalog: tracks[2].explicit: expected true or false, got a string 'yes'"),
    ("precision mismatch", lambda c: c["albums"][0].update(release_date="2019-05", release_date_precision="day"),
     "catalog: albums[0].release_date: '2019-05' does not match precision 'day'"),
    ("bad precision", lambda c: c["albums"][0].update(release_date_precision="week"),
     "catalog: albums[0].release_date_precision: expected year, month or day, got 'week'"),
    ("bad album type", lambda c: c["albums"][1].update(album_type="ep"),
     "catalog: albums[1].album_type: expected one of album, single, compilation, got 'ep'"),
    ("feature out of range", lambda c: c["audio_features"][_first_feature_id(c)].update(energy=1.5),
     "catalog: audio_features['{f0}'].energy: 1.5 is out of range (0.0..1.0)"),
    ("feature not a number", lambda c: c["audio_features"][_first_feature_id(c)].update(tempo="fast"),
     "catalog: audio_features['{f0}'].tempo: expected a number, got a string 'fast'"),
    ("feature NaN", lambda c: c["audio_features"][_first_feature_id(c)].update(valence=float("nan")),
     "catalog: audio_features['{f0}'].valence: must be a finite number, got NaN"),
    ("feature key not integral", lambda c: c["audio_features"][_first_feature_id(c)].update(key=2.5),
     "catalog: audio_features['{f0}'].key: expected an integer, got a number 2.5"),
    ("unknown feature", lambda c: c["audio_features"][_first_feature_id(c)].update(loudnes=-5.0),
     "catalog: audio_features['{f0}'].loudnes: unknown audio feature"),
    ("features of unknown track", lambda c: c["audio_features"].update(ghost={}),
     "catalog: audio_features['ghost']: unknown track 'ghost'"),
    ("unknown owner", lambda c: c["playlists"][0].update(owner_id="nobody"),
     "catalog: playlists[0].owner_id: unknown user 'nobody'"),
    ("unknown playlist track", lambda c: c["playlists"][1]["track_ids"].insert(0, "nothing"),
     "catalog: playlists[1].track_ids[0]: unknown track 'nothing'"),
    ("listener unknown user", lambda c: c["listener"].update(user_id="ghost"), "catalog: listener.user_id: unknown user 'ghost'"),
    ("bad added_at", lambda c: c["listener"]["saved_tracks"][2].update(added_at="yesterday"),
     "catalog: listener.saved_tracks[2].added_at: not an ISO 8601 time: 'yesterday'"),
    ("missing time range", lambda c: c["listener"]["top_tracks"].pop("medium_term"),
     "catalog: listener.top_tracks.medium_term: missing"),
    ("recently played unknown", lambda c: c["listener"]["recently_played"][4].update(track_id="t"),
     "catalog: listener.recently_played[4].track_id: unknown track 't'"),
    ("followed playlist unknown", lambda c: c["listener"]["followed_playlist_ids"].append("p"),
     "catalog: listener.followed_playlist_ids[{nfp}]: unknown playlist 'p'"),
    ("future like unknown", lambda c: c["hidden"]["future_likes"].append("zz"),
     "catalog: hidden.future_likes[{nfl}]: unknown track 'zz'"),
    ("section of wrong type", lambda c: c.update(users={}), "catalog: users: expected a list, got an object"),
]


@pytest.mark.parametrize("how, expected", [(how, expected) for _, how, expected in CASES],
                         ids=[name for name, _, _ in CASES])
def test_broken_catalogue_is_refused_naming_the_field(small, how, expected):
    expected = expected.format(a1=small["artists"][1]["id"], f0=_first_feature_id(small),
                               nfp=len(small["listener"]["followed_playlist_ids"]),
                               nfl=len(small["hidden"]["future_likes"]))
    with pytest.raises(InputError) as caught:
        validate_catalog(_break(small, how))
    assert str(caught.value).startswith(expected), str(caught.value)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def test_the_first_bad_field_is_named(small):
    def two_faults(c):
        c["tracks"][9]["album_id"] = "late"
        c["tracks"][1]["duration_ms"] = -5
        c["hidden"]["future_likes"] = "all"

    with pytest.raises(InputError, match=re.escape("catalog: tracks[1].duration_ms: -5 is out of range (>= 1)")):
        validate_catalog(_break(small, two_faults))


def test_optional_features_and_minimal_catalogue_are_accepted():
    minimal = {
        "format": FORMAT,
        "artists": [{"id": "a1", "name": "Ana Reyes", "genres": []}],
        "albums": [{"id": "al1", "name": "Luna", "artist_ids": ["a1"], "release_date": "1999",
                    "release_date_precision": "year", "album_type": "single"}],
        "tracks": [{"id": "t1", "name": "Luna", "artist_ids": ["a1"], "album_id": "al1", "duration_ms": 200000,
                    "explicit": False, "popularity": 0, "isrc": "ESA019900001", "track_number": 1},
                   {"id": "t2", "name": "Luna - Remastered 2011", "artist_ids": ["a1"], "album_id": "al1",
                    "duration_ms": 200000, "explicit": False, "popularity": 3, "isrc": "ESA019900001", "track_number": 2}],
        "audio_features": {"t1": {"energy": 0.5, "key": -1}},  # t2 has none; t1 only two keys
        "users": [{"id": "me", "display_name": "Me"}],
        "playlists": [],
        "listener": {"user_id": "me", "saved_tracks": [{"track_id": "t1", "added_at": "2026-01-02T03:04:05Z"}],
                     "top_tracks": {"short_term": [], "medium_term": [], "long_term": ["t1"]},
                     "recently_played": [{"track_id": "t2", "played_at": "2026-01-02T03:04:05.123Z"}],
                     "followed_artist_ids": ["a1"], "followed_playlist_ids": []},
        "hidden": {"future_likes": []},
    }
    assert validate_catalog(minimal) is minimal


# ---- loading ------------------------------------------------------------------------------------

def test_load_round_trip_and_clear_errors(tmp_path, small):
    good = tmp_path / "catalog.json"
    good.write_text(json.dumps(small, ensure_ascii=False), encoding="utf-8")
    assert load_catalog(good) == small

    with pytest.raises(InputError, match=r"^catalog: no such file: .*missing\.json$"):
        load_catalog(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "tastebot-sandbox-catalog/1",\n "artists": [,]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"is not valid JSON: .* at line 2 column"):
        load_catalog(broken)
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"format": "Coraz\u00f3n"}'.encode("latin-1"))
    with pytest.raises(InputError, match=r"is not UTF-8 text"):
        load_catalog(latin1)
    with pytest.raises(InputError, match=r"is a directory"):
        load_catalog(tmp_path)
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({**small, "format": "x"}), encoding="utf-8")
    with pytest.raises(InputError, match=r"^catalog: format: expected"):
        load_catalog(invalid)


# ---- corpus export ------------------------------------------------------------------------------

def test_export_corpus_csv_writes_other_users_playlists(tmp_path, small):
    path = tmp_path / "corpus.csv"
    rows = export_corpus_csv(small, path)
    me = small["listener"]["user_id"]
    others = [p for p in small["playlists"] if p["owner_id"] != me]
    assert rows == sum(len(p["track_ids"]) for p in others) > 0
    with path.open(encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == rows
    assert list(table[0])[:3] == ["playlist_id", "track_id", "playlist_name"]
    assert set(AUDIO_FEATURES) <= set(table[0])
    assert [(r["playlist_id"], r["track_id"]) for r in table] == [(p["id"], t) for p in others for t in p["track_ids"]]
    assert not {r["playlist_id"] for r in table} & {p["id"] for p in small["playlists"] if p["owner_id"] == me}
    features = small["audio_features"]
    for r in table[:200]:
        known = features.get(r["track_id"], {})
        for name in AUDIO_FEATURES:
            assert (r[name] == "") == (name not in known)
            if name in known:
                assert float(r[name]) == pytest.approx(known[name])


def test_the_documented_example_is_valid():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "sandbox-catalog.md").read_text(encoding="utf-8")
    example = re.search(r"### A minimal example\s+```json\n(.*?)```", doc, re.S).group(1)
    catalog = validate_catalog(json.loads(example))
    assert catalog["tracks"][0]["isrc"] == catalog["tracks"][1]["isrc"]
