"""The hybrid collaborative score on toy corpora whose right answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tastebot.models.collab import FALLBACK, HybridScorer
from tastebot.models.corpus import CorpusData
from tastebot.names import corpus_artist_key


def toy_corpus(seed: int = 0) -> CorpusData:
    """Rock playlists mix r0..r29, jazz playlists mix j0..j29; one bridge playlist mixes a few of each."""
    rng = np.random.default_rng(seed)
    pairs = []
    for p in range(40):
        kind = "r" if p < 20 else "j"
        for t in rng.choice(30, size=10, replace=False):
            pairs.append((f"{kind}pl{p}", f"{kind}{t}"))
    pairs += [("bridge", "r0"), ("bridge", "j0")]
    artists = {f"r{i}": f"Rock Band {i % 5}" for i in range(30)} | {f"j{i}": f"Jazz Trio {i % 5}" for i in range(30)}
    return CorpusData.from_pairs(pairs, artists)


def frame(ids, artist=None, **features) -> pd.DataFrame:
    f = pd.DataFrame({"track_id": list(ids)})
    if artist is not None:
        f["artist_name"] = artist
    for k, v in features.items():
        f[k] = v
    return f


def test_tracks_that_share_playlists_with_the_likes_score_higher():
    corpus = toy_corpus()
    likes = frame([f"r{i}" for i in range(5)]).assign(label=1, weight=1.0)
    scorer = HybridScorer.fit(corpus, likes)
    rock = scorer.score_parts(frame([f"r{i}" for i in range(5, 30)]))
    jazz = scorer.score_parts(frame([f"j{i}" for i in range(1, 30)]))
    assert rock["collab"].min() > jazz["collab"].max()
    for part in ("collab", "hybrid"):
        values = pd.concat([rock[part], jazz[part]])
        assert values.between(0, 1).all()
    assert (rock["shared_playlists"] > 0).all()
    assert (jazz["shared_playlists"] == 0).sum() >= 25


def test_dislikes_in_the_profile_are_not_used_as_likes():
    corpus = toy_corpus()
    profile = pd.concat([
        frame([f"r{i}" for i in range(5)]).assign(label=1),
        frame([f"j{i}" for i in range(1, 20)]).assign(label=0),
    ])
    scorer = HybridScorer.fit(corpus, profile)
    assert scorer.score(frame(["r20"]))[0] > scorer.score(frame(["j25"]))[0]


def test_what_shares_playlists_with_named_dislikes_is_known_and_sampled_negatives_say_nothing():
    from tastebot.models.ranker import evidence_frame

    corpus = toy_corpus()
    profile = pd.concat([
        frame([f"r{i}" for i in range(5)]).assign(label=1, strength="explicit"),
        frame([f"j{i}" for i in range(1, 11)]).assign(label=0, strength="explicit"),
        # sampled negatives (random unheard tracks): not the listener's word, not dislike evidence
        frame([f"r{i}" for i in range(10, 20)]).assign(label=0, strength="weak"),
    ])
    scorer = HybridScorer.fit(corpus, profile)
    rock = scorer.evidence(frame([f"r{i}" for i in range(20, 30)]))
    jazz = scorer.evidence(frame([f"j{i}" for i in range(11, 30)]))
    assert (rock["cooc_dislike"] == 0).all()
    assert (jazz["cooc_dislike"] > 0).mean() > 0.8
    assert jazz["factor_dislike"].min() > rock["factor_dislike"].max()
    ev_rock, ev_jazz = evidence_frame(rock, None), evidence_frame(jazz, None)
    assert ev_rock["factor_vs_dislike"].min() > 0 > ev_jazz["factor_vs_dislike"].max()
    # without named dislikes there is no dislike evidence at all (not a zero that looks like one)
    plain = HybridScorer.fit(corpus, profile[profile["strength"] != "explicit"].assign(label=1))
    assert plain.evidence(frame(["j20"]))[["cooc_dislike", "factor_dislike"]].isna().all(axis=None)


def test_signal_weight_moves_the_profile():
    corpus = toy_corpus()
    likes = frame(["r1", "r2", "j1", "j2"]).assign(label=1)
    rock_heavy = HybridScorer.fit(corpus, likes.assign(weight=[5.0, 5.0, 0.2, 0.2]))
    jazz_heavy = HybridScorer.fit(corpus, likes.assign(weight=[0.2, 0.2, 5.0, 5.0]))
    cands = frame(["r10", "j10"])
    assert rock_heavy.score_parts(cands)["collab"].iloc[0] > rock_heavy.score_parts(cands)["collab"].iloc[1]
    assert jazz_heavy.score_parts(cands)["collab"].iloc[1] > jazz_heavy.score_parts(cands)["collab"].iloc[0]


def test_fallback_for_tracks_the_corpus_never_saw():
    corpus = toy_corpus()
    likes = frame([f"r{i}" for i in range(5)]).assign(label=1, artist_name=[f"Rock Band {i % 5}" for i in range(5)])
    scorer = HybridScorer.fit(corpus, likes)
    cands = frame(["new-by-liked-artist", "new-by-jazz-artist", "new-nobody"],
                  artist=["Rock Band 1", "Jazz Trio 2", None])
    parts = scorer.score_parts(cands)
    assert parts["collab"].isna().all()  # the corpus knows none of them
    # the artist is still known: a liked artist's new track beats a jazz artist's
    assert parts["hybrid"].iloc[0] > parts["hybrid"].iloc[1]
    # nothing known at all: the documented fallback, not NaN
    alone = scorer.score(frame(["nothing-known"]))
    assert alone[0] == FALLBACK
    assert not np.isnan(scorer.score(cands)).any()


def test_unknown_to_the_corpus_is_neither_a_plus_nor_a_minus():
    """A track the corpus never saw gets the collab part's median, so being unknown cannot lift it
    above known tracks that share nothing with the likes (nor sink it below them)."""
    corpus = toy_corpus()
    likes = frame(["r1", "r2"]).assign(label=1)
    scorer = HybridScorer.fit(corpus, likes)
    cands = frame([f"j{i}" for i in range(1, 30)] + ["unknown"])
    hybrid = scorer.score(cands)
    assert hybrid[-1] <= np.max(hybrid[:-1])
    assert hybrid[-1] >= np.min(hybrid[:-1])


def test_content_part_uses_nearest_likes_not_their_centroid():
    # Two liked clusters of sound: quiet acoustic and loud electric. Their centroid is a track
    # nobody liked; a candidate near one cluster must beat one at the centroid.
    quiet = dict(energy=0.1, acousticness=0.9, loudness=-20.0, danceability=0.3, valence=0.3, tempo=80.0)
    loud = dict(energy=0.95, acousticness=0.02, loudness=-3.0, danceability=0.7, valence=0.7, tempo=160.0)
    mid = {k: (quiet[k] + loud[k]) / 2 for k in quiet}
    likes = pd.DataFrame([dict(track_id=f"q{i}", **quiet) for i in range(5)] + [dict(track_id=f"l{i}", **loud) for i in range(5)])
    likes["label"] = 1
    scorer = HybridScorer.fit(None, likes)
    near_quiet = {k: v * 1.03 for k, v in quiet.items()}
    cands = pd.DataFrame([dict(track_id="near", **near_quiet), dict(track_id="centroid", **mid)])
    parts = scorer.score_parts(cands)
    assert parts["content"].iloc[0] > 0.8
    assert parts["content"].iloc[0] > parts["content"].iloc[1] + 0.3
    why = scorer.explain(cands.iloc[:1])
    assert {n["track_id"] for n in why[0]["nearest_liked"]} <= {f"q{i}" for i in range(5)}


def test_content_without_features_is_unknown_not_zero():
    likes = pd.DataFrame({"track_id": ["a"], "energy": [0.5], "danceability": [0.5], "valence": [0.5], "label": [1]})
    scorer = HybridScorer.fit(None, likes)
    parts = scorer.score_parts(pd.DataFrame({"track_id": ["x"]}))
    assert np.isnan(parts["content"].iloc[0])


def test_fit_from_a_store_with_an_imported_corpus(tmp_path):
    from tastebot.imports.corpus import import_corpus
    from tastebot.store import Store

    rows = ["playlist_id,track_id,track_artist"]
    ids = {n: (n * 22)[:22] for n in "ABCDEFGH"}
    for pl, members in {"P1": "ABC", "P2": "ABD", "P3": "EFG", "P4": "EFH"}.items():
        rows += [f"{pl},{ids[m]},Artist {m}" for m in members]
    path = tmp_path / "c.csv"
    path.write_text("\n".join(rows) + "\n")
    with Store(tmp_path / "s.db") as store:
        import_corpus(store, [path])
        scorer = HybridScorer.fit(store, pd.DataFrame({"track_id": [ids["A"], ids["B"]], "label": [1, 1]}))
    s = scorer.score_parts(pd.DataFrame({"track_id": [ids["C"], ids["G"]]}))
    assert s["collab"].iloc[0] > s["collab"].iloc[1]


def test_own_playlist_tracks_outside_the_corpus_carry_their_artist(tmp_path):
    """An own playlist's track the imported corpus lacks still has its artist in the corpus view
    (from the library), so artist co-occurrence and affinity can speak for it."""
    from tastebot.models.corpus import CorpusData
    from tastebot.store import Store

    tid, aid, pid = "T" * 22, "A" * 22, "P" * 22
    track = {"id": tid, "name": "Feeling Good", "type": "track", "duration_ms": 200000,
             "artists": [{"id": aid, "name": "Nina Simone"}],
             "album": {"id": "L" * 22, "name": "I Put a Spell on You", "release_date": "1965",
                       "release_date_precision": "year", "artists": [{"id": aid, "name": "Nina Simone"}]}}
    with Store(tmp_path / "s.db") as store:
        assert store.upsert_tracks([track]) == [tid]
        store.upsert_playlist({"id": pid, "name": "mine", "owner": {"id": "me"}}, "own")
        store.store_playlist_page(pid, "snap", 0, [(tid, False, None)], 1)
        store.finish_playlist(pid, "snap", 1)
        corpus = CorpusData.from_store(store)
    assert tid in list(corpus.track_ids)
    assert corpus.track_artists[list(corpus.track_ids).index(tid)] == corpus_artist_key("Nina Simone")


@pytest.mark.parametrize("raw,want", [("The Beatles", "beatles"), ("Beyoncé", "beyonce"), ("AC/DC", "ac dc"), (None, None)])
def test_normalise_artist(raw, want):
    assert corpus_artist_key(raw) == want


def test_many_names_normalise_as_one_name_does():
    from tastebot.names import corpus_artist_keys

    names = ["The Beatles", "Beyoncé", "  The  Who!", "Sigur Rós", "the", "", None, float("nan"), 7, "AC/DC"]
    got = corpus_artist_keys(names)
    assert got.dtype == object and len(got) == len(names)
    assert list(got) == [corpus_artist_key(n) for n in names]
    assert list(got[:4]) == ["beatles", "beyonce", "who", "sigur ros"]


def test_the_k_smallest_per_row_are_those_of_a_sort_ties_and_unknowns_included():
    from tastebot.models.content import ARGMIN_UP_TO, k_smallest

    rng = np.random.default_rng(5)
    block = rng.integers(0, 6, size=(300, 40)).astype(np.float32)  # many ties
    block[:7] = np.inf  # rows with no distance at all
    block[7:20, :35] = np.inf  # rows with five distances only
    for k in (1, 5, ARGMIN_UP_TO, ARGMIN_UP_TO + 3):
        want = np.sort(block, axis=1)[:, :k]
        got = np.sort(k_smallest(block.copy(), k), axis=1)
        assert np.array_equal(want, got)


def test_nearest_distances_match_the_whole_distance_matrix():
    """The fast path (one product, the k nearest kept) gives the k smallest of the full matrix, gaps in
    candidates and in references included."""
    from tastebot.models.content import _nearest_sq_dist, _sq_dist

    rng = np.random.default_rng(3)
    x, ref = rng.normal(size=(600, 14)), rng.normal(size=(200, 14))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[:5, :12] = np.nan  # under 3 features: no distance at all
    for refs in (ref, np.where(np.arange(200)[:, None] < 4, np.nan, 0.0) + ref):
        full, _ = _sq_dist(x, refs)
        want = np.sort(np.partition(full, 4, axis=1)[:, :5], axis=1)
        got = np.sort(_nearest_sq_dist(x, refs, 5), axis=1)
        assert np.array_equal(np.isfinite(want), np.isfinite(got))
        assert not np.isfinite(got[:5]).any()
        assert np.allclose(want[np.isfinite(want)], got[np.isfinite(got)], atol=1e-5)
