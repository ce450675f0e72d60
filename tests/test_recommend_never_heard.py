"""The never-heard guarantee: a library full of traps (reissues under new ids, remasters, live and
featuring versions, duplicate ids) and none of them is recommended."""

from __future__ import annotations

import copy
import random
import string

import pandas as pd
import pytest

from tastebot.known import Known, never_heard
from tastebot.names import title_artist_key
from tastebot.recommend import RecommendOptions

ALPHA = string.ascii_letters + string.digits


def _id(rng) -> str:
    return "".join(rng.choice(ALPHA) for _ in range(22))


TRAP_SUFFIXES = [" - Remastered 2011", " (Live)", " (feat. Guest Star)", " - 2009 Remaster", " [Live at Wembley]",
                 " - Radio Edit"]


def trap_catalog(seed: int = 7, n_tracks: int = 600) -> tuple[dict, dict[str, str]]:
    """The generated catalogue plus, for each of the listener's saved tracks, traps by the same
    artist on new albums: the same recording under a new id (same ISRC), and versions whose titles
    differ only by a version mark. Returns (catalogue, {trap id: kind})."""
    from tastebot.sandbox import generate_catalog

    cat = copy.deepcopy(generate_catalog(seed=seed, n_tracks=n_tracks))
    rng = random.Random(seed)
    tracks = {t["id"]: t for t in cat["tracks"]}
    traps: dict[str, str] = {}
    liked = [s["track_id"] for s in cat["listener"]["saved_tracks"]][:25]
    for i, tid in enumerate(liked):
        orig = tracks[tid]
        album = {"id": _id(rng), "name": f"Reissue {i}", "artist_ids": list(orig["artist_ids"]),
                 "release_date": "2024-01-01", "release_date_precision": "day", "album_type": "compilation"}
        cat["albums"].insert(0, album)
        versions = [("same ISRC", orig["name"], orig["isrc"])]
        versions += [(f"version{suffix}", orig["name"] + suffix, f"QZTRP{rng.randrange(10**7):07d}")
                     for suffix in rng.sample(TRAP_SUFFIXES, 3)]
        versions.append(("case and accents", orig["name"].upper(), f"QZTRP{rng.randrange(10**7):07d}"))
        for n, (kind, name, isrc) in enumerate(versions, start=1):
            new = dict(orig, id=_id(rng), name=name, album_id=album["id"], isrc=isrc, track_number=n)
            cat["tracks"].append(new)
            if orig["id"] in cat["audio_features"]:
                cat["audio_features"][new["id"]] = dict(cat["audio_features"][orig["id"]])
            traps[new["id"]] = kind
    # and one unknown song under two ids: at most one of them may be recommended
    base = next(t for t in cat["tracks"] if t["id"] not in set(liked))
    twin = dict(base, id=_id(rng))
    cat["tracks"].append(twin)
    return cat, traps


def test_the_trap_library_recommends_no_known_song(make_logged_in):
    from tastebot.harvest import Harvester, HarvestOptions
    from tastebot.recommend import recommend
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    cat, traps = trap_catalog()
    sb = make_logged_in(catalog=cat)
    settings = load_settings()
    client = SpotifyClient(settings)
    with open_store(settings) as store:
        Harvester(settings, client, store, HarvestOptions(sampled_negatives="never")).run()
        known_before = store.known_track_ids()
        opts = RecommendOptions(n=500, max_per_artist=0, max_artists=50, albums_per_artist=50, search_pages=3)
        result = recommend(settings, store, client, opts)
        recommended = [r.track_id for r in result.recommendations]
        # the traps were really among the candidates (they were stored as such), so this could fail
        offered = set(store.tracks_frame(list(traps))["track_id"])
        frame = store.tracks_frame(recommended)
    assert len(offered) >= 0.5 * len(traps), "the traps must reach the candidates for this test to mean anything"
    assert len(recommended) > 20
    assert not set(recommended) & set(traps), [traps[t] for t in set(recommended) & set(traps)]
    assert not set(recommended) & known_before
    # no ISRC twice among the recommendations, none the listener knows
    tracks = {t["id"]: t for t in cat["tracks"]}
    known_isrcs = {tracks[t]["isrc"] for t in known_before if t in tracks}
    isrcs = [tracks[t]["isrc"] for t in recommended]
    assert len(isrcs) == len(set(isrcs))
    assert not set(isrcs) & known_isrcs
    assert result.removed.get("same ISRC as a known track", 0) >= 1
    assert result.removed.get("same title and artist as a known track", 0) >= 0.5 * len(offered)
    assert len(frame) == len(recommended)


def test_new_artists_only_drops_every_known_artist(make_logged_in):
    from tastebot.harvest import Harvester, HarvestOptions
    from tastebot.recommend import recommend
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    make_logged_in()
    settings = load_settings()
    client = SpotifyClient(settings)
    with open_store(settings) as store:
        Harvester(settings, client, store, HarvestOptions(sampled_negatives="never")).run()
        known_artists = store.known_artist_ids()
        result = recommend(settings, store, client, RecommendOptions(n=50, new_artists_only=True, search_pages=3))
        frame = store.tracks_frame([r.track_id for r in result.recommendations])
    assert len(frame) > 0
    for ids in frame["artist_ids"]:
        assert not set(ids.split(",")) & known_artists


# -- the filter itself, on a hand-made frame -------------------------------------------------------
def _cands(rows):
    return pd.DataFrame(rows, columns=["track_id", "name", "artist_name", "isrc", "artist_ids"])


def test_never_heard_filter_rules():
    known = Known(
        track_ids={"K1"}, isrcs={"USABC1234567"},
        title_keys={title_artist_key("Yesterday", "The Beatles"), title_artist_key("Corazón", "Ana Díaz")},
        artist_ids={"AKNOWN"}, artist_names={"the beatles"},
    )
    cands = _cands([
        ("K1", "Anything", "X", None, "A1"),                                     # the known id
        ("N1", "Other title", "Y", "usabc1234567", "A2"),                       # same ISRC, other case
        ("N2", "Yesterday - Remastered 2009", "The Beatles", "GB0000000001", "A3"),
        ("N3", "Yesterday (Live)", "The Beatles", None, "A3"),
        ("N4", "Corazon (feat. Someone)", "Ana Diaz", None, "A4"),              # accents folded
        ("N5", "Fresh Song", "New Band", "NEW000000001", "A5"),
        ("N6", "Fresh Song", "New Band", "NEW000000002", "A5"),                 # same song, two ids
        ("N7", "Another Fresh", "Old Friend", "NEW000000003", "AKNOWN"),
    ])
    kept, removed = never_heard(cands, known)
    assert list(kept["track_id"]) == ["N5", "N7"]
    assert removed == {"known track": 1, "same ISRC as a known track": 1,
                       "same title and artist as a known track": 3, "duplicate among candidates": 1}
    kept_new, _ = never_heard(cands, known, new_artists_only=True)
    assert list(kept_new["track_id"]) == ["N5"]


@pytest.mark.parametrize("a,b", [
    ("Hey Jude - Remastered 2015", "Hey Jude"),
    ("Hey Jude (Live at the BBC)", "hey jude"),
    ("HEY JUDE [Mono]", "Hey Jude"),
    ("Hey Jude (feat. Billy Preston)", "Hey Jude"),
])
def test_version_marks_make_one_song(a, b):
    assert title_artist_key(a, "The Beatles") == title_artist_key(b, "the beatles")


# -- picking -----------------------------------------------------------------------------------------
def _pick_frame():
    rows = []
    # four near-identical loud tracks with the best scores, then quiet ones a little lower
    for i in range(4):
        rows.append(dict(track_id=f"loud{i}", primary_artist_id=f"A{i}", energy=0.95, loudness=-3.0,
                         acousticness=0.01, danceability=0.8, tempo=170.0, valence=0.8))
    for i in range(4):
        rows.append(dict(track_id=f"quiet{i}", primary_artist_id=f"B{i}", energy=0.1, loudness=-22.0,
                         acousticness=0.95, danceability=0.2, tempo=70.0, valence=0.2))
    scores = [1.0, 0.99, 0.98, 0.97, 0.9, 0.89, 0.88, 0.87]
    return pd.DataFrame(rows), scores


def test_diversity_trades_score_for_variety():
    import numpy as np

    from tastebot.recommend.pick import select

    frame, scores = _pick_frame()
    plain = select(frame, np.array(scores), 4, diversity=0.0)
    assert [frame.track_id[i] for i in plain] == ["loud0", "loud1", "loud2", "loud3"]
    varied = [frame.track_id[i] for i in select(frame, np.array(scores), 4, diversity=0.5)]
    # the best stays first; the next pick is the best track that sounds different
    assert varied[:2] == ["loud0", "quiet0"]


def test_max_per_artist_caps_and_zero_means_no_cap():
    import numpy as np

    from tastebot.recommend.pick import select

    frame, scores = _pick_frame()
    frame["primary_artist_id"] = ["A"] * 4 + ["B"] * 4
    capped = select(frame, np.array(scores), 6, max_per_artist=2)
    assert [frame.track_id[i] for i in capped] == ["loud0", "loud1", "quiet0", "quiet1"]
    assert len(select(frame, np.array(scores), 6, max_per_artist=0)) == 6
