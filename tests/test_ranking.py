"""The learned ranking (tastebot.models.ranker) and the collaborative scorer saved with a run."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd

from tastebot.models.collab import HybridScorer, load_scorer, save_scorer
from tastebot.models.corpus import CorpusData
from tastebot.models.ranker import EVIDENCE, MONOTONE, PARAMS, Ranker, balanced_weights, bin_codes, evidence_frame, no_collab_evidence
from tastebot.models.trees import TreeArrays
from tastebot.models.retrieval import corpus_top


def _evidence(rng, n: int, collab: bool) -> pd.DataFrame:
    ev = pd.DataFrame({c: rng.random(n) for c in EVIDENCE})
    ev["no_collab"] = False
    if not collab:
        for c in ("cooc", "factor", "artist_cooc", "artist_direct"):
            ev[c] = 0.0
        ev["shared"] = 0.0
        ev["no_collab"] = True
    return ev


def _trained(seed: int = 0) -> tuple[Ranker, np.random.Generator]:
    rng = np.random.default_rng(seed)
    ev = pd.concat([_evidence(rng, 600, True), _evidence(rng, 400, False)], ignore_index=True)
    # likes: co-occurrence where it is known, the taste model everywhere
    logit = 3 * ev["taste"] + 4 * np.where(ev["no_collab"], 0.3, ev["cooc"]) - 3.5
    y = (rng.random(len(ev)) < 1 / (1 + np.exp(-logit))).astype(int)
    return Ranker.fit(ev, y, balanced_weights(y, np.full(len(y), "unheard")), seed=seed), rng


def test_candidates_without_collaborative_evidence_follow_the_taste_model():
    ranker, rng = _trained()
    ev = pd.concat([_evidence(rng, 50, True), _evidence(rng, 50, False)], ignore_index=True)
    scores = ranker.score(ev)
    alone = no_collab_evidence(ev)
    assert alone.sum() == 50
    order = np.argsort(-scores[alone])
    assert np.all(np.diff(ev["taste"].to_numpy()[alone][order]) <= 0)  # the taste model's order exactly
    # the final score (halfway back to the taste model's rank) keeps that order too
    final = ranker.final(ev)
    assert np.all(np.diff(ev["taste"].to_numpy()[alone][np.argsort(-final[alone])]) <= 0)
    # ...while among candidates with evidence co-occurrence counts: the learned part is used
    with_ev = ~alone
    corr = np.corrcoef(scores[with_ev], ev["cooc"].to_numpy()[with_ev])[0, 1]
    assert corr > 0.3


def test_more_evidence_never_lowers_a_candidate():
    ranker, rng = _trained(1)
    ev = _evidence(rng, 200, True)
    base = ranker.score(ev)
    for col in ("taste", "cooc", "share", "factor", "artist_direct", "content"):
        more = ev.copy()
        more[col] = np.minimum(more[col] + 0.2, 1.0)
        assert np.all(ranker.score(more) >= base - 1e-6), col
    more = ev.copy()
    more["cooc_dislike"] = np.minimum(more["cooc_dislike"] + 0.2, 1.0)  # sharing playlists with dislikes
    assert np.all(ranker.score(more) <= base + 1e-6)


def test_the_ranker_fitted_on_bin_codes_scores_as_one_fitted_on_the_raw_evidence():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper

    rng = np.random.default_rng(3)
    ev = pd.concat([_evidence(rng, 900, True), _evidence(rng, 300, False)], ignore_index=True)
    ev["shared"] = rng.integers(0, 5, len(ev)).astype(float)  # few distinct values: left as they are
    logit = 3 * ev["taste"] + 4 * ev["cooc"] - 3.5
    y = (rng.random(len(ev)) < 1 / (1 + np.exp(-logit))).astype(int)
    w = balanced_weights(y, np.full(len(y), "unheard")) * rng.uniform(0.3, 3.0, len(y))  # uneven weights
    x = ev[list(EVIDENCE)].to_numpy(dtype=float)
    max_bins = HistGradientBoostingClassifier(**PARAMS).max_bins
    codes, edges = bin_codes(x, w, max_bins)
    found = _BinMapper(n_bins=max_bins + 1).fit(x, sample_weight=w).bin_thresholds_
    assert edges and EVIDENCE.index("shared") not in edges
    for j, e in edges.items():
        assert np.array_equal(e, found[j])
        assert codes[:, j].max() < max_bins
    ranker = Ranker.fit(ev, y, w)
    raw = HistGradientBoostingClassifier(**PARAMS, monotonic_cst=[MONOTONE[c] for c in EVIDENCE], early_stopping=False,
                                         random_state=0).fit(x, y, sample_weight=w)
    fresh = _evidence(rng, 1000, True)[list(EVIDENCE)].to_numpy(dtype=float)
    for rows in (x, fresh):
        assert np.array_equal(ranker.trees.predict(rows), TreeArrays.from_boosting(raw).predict(rows))


def test_ranker_saves_and_loads_the_same_scores(tmp_path):
    ranker, rng = _trained(2)
    ev = _evidence(rng, 100, True)
    ranker.save(tmp_path)
    again = Ranker.load(tmp_path)
    assert np.array_equal(ranker.score(ev), again.score(ev))
    assert Ranker.load(tmp_path / "nothing-here") is None


def test_a_ranking_saved_before_the_dislike_evidence_scores_with_its_own_seven_pieces(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from tastebot.models.ranker import EARLIER_EVIDENCE, RANKER_FILE, RANKER_INFO, Ranking

    rng = np.random.default_rng(3)
    ev = _evidence(rng, 300, True)
    y = (ev["cooc"] > 0.5).astype(int).to_numpy()
    # Then the taste model's score was called `mlp`: the same column, read under its new name.
    columns = ["taste" if c == "mlp" else c for c in EARLIER_EVIDENCE]
    old = HistGradientBoostingClassifier(max_iter=10).fit(ev[columns].to_numpy(), y)
    # Saved as runs of that time were: the pickled model, and a ranker.json that named no evidence.
    (tmp_path / RANKER_FILE).write_bytes(pickle.dumps(old))
    (tmp_path / RANKER_INFO).write_text(json.dumps({"rows": 300}))
    loaded = Ranker.load(tmp_path)
    assert loaded.evidence == columns
    assert np.allclose(loaded.score(ev)[:5], old.predict_proba(ev[columns].to_numpy())[:5, 1], atol=1e-5)
    # a run saved before the choice of ranking (no ranking.json) ranks by its learned ranking
    assert Ranking.load(tmp_path).kind == "learned"


def test_balanced_weights_give_likes_and_each_kind_of_non_like_their_share():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    kind = np.array(["like", "like", "dislike", "unheard", "unheard", "unheard", "unheard", "unheard"])
    w = balanced_weights(y, kind)
    assert np.isclose(w[y == 1].sum(), w[y == 0].sum())
    assert np.isclose(w[kind == "dislike"].sum(), w[kind == "unheard"].sum())


def _world():
    pairs = [(f"p{i}", f"t{(i * 7 + j) % 60}") for i in range(50) for j in range(8)]
    corpus = CorpusData.from_pairs(pairs, {f"t{i}": f"artist {i % 9}" for i in range(60)})
    likes = pd.DataFrame({"track_id": ["t1", "t2", "t3", "t8"], "label": 1,
                          "artist_name": ["artist 1", "artist 2", "artist 3", "artist 8"],
                          "danceability": [.5, .6, .7, .2], "energy": [.1, .2, .3, .4], "tempo": [100, 120, 90, 80]})
    cands = pd.DataFrame({"track_id": [f"t{i}" for i in range(60)] + ["unknown"],
                          "artist_name": [f"artist {i % 9}" for i in range(60)] + ["nobody"],
                          "danceability": np.linspace(0, 1, 61), "energy": .3, "tempo": 100})
    return corpus, likes, cands


def test_a_saved_scorer_scores_and_explains_as_the_fitted_one(tmp_path):
    corpus, likes, cands = _world()
    likes = pd.concat([likes, pd.DataFrame({"track_id": ["t5", "t12"], "label": 0})], ignore_index=True)
    scorer = HybridScorer.fit(corpus, likes)
    assert scorer.evidence(cands)["cooc_dislike"].gt(0).any()
    save_scorer(scorer, tmp_path, {"likes": "abc"})
    loaded, fingerprint = load_scorer(tmp_path)
    assert fingerprint == {"likes": "abc"}
    a, b = scorer.evidence(cands), loaded.evidence(cands)
    assert np.allclose(a.fillna(-1).to_numpy(), b.fillna(-1).to_numpy())
    assert scorer.explain(cands.iloc[:5]) == loaded.explain(cands.iloc[:5])
    for kind in ("cooc", "share", "factor", "artist"):
        assert corpus_top(scorer, kind, 10, set()) == corpus_top(loaded, kind, 10, set())


def test_evidence_knows_what_it_does_not_know():
    corpus, likes, cands = _world()
    ev = evidence_frame(HybridScorer.fit(corpus, likes).evidence(cands), None)
    unknown = ev.iloc[-1]  # not in the corpus, an artist nobody likes
    assert unknown["cooc"] == 0.0 and unknown["factor"] == 0.0 and unknown["artist_direct"] == 0.0  # unknown = 0
    assert no_collab_evidence(ev)[-1] and not no_collab_evidence(ev)[1]
    # the retrievers never return what the listener knows
    known = {"t0", "t4", "t5"}
    assert not set(corpus_top(HybridScorer.fit(corpus, likes), "cooc", 20, known)) & known


def test_a_corpus_that_shares_nothing_with_the_likes_is_said_so(copy_trained, tmp_path):
    """Issue 16 item 3: not "import a corpus" when one is imported but unrelated to the likes."""
    import pytest

    from tastebot.imports.corpus import import_corpus
    from tastebot.errors import NotEnoughData
    from tastebot.recommend import RecommendOptions, recommend
    from tastebot.store import open_store

    settings = copy_trained()
    csv_path = tmp_path / "strangers.csv"
    csv_path.write_text("playlist_id,track_id,track_artist\n" + "".join(
        f"p{i},{'Stranger' + str(i * 3 + j).zfill(14)},Nobody {i}\n" for i in range(4) for j in range(3)),
        encoding="utf-8")
    with open_store(settings) as store:
        import_corpus(store, [csv_path])
        assert store.corpus_stats()["playlists"] == 4
        with pytest.raises(NotEnoughData, match="the corpus has 4 playlists and none shares"):
            recommend(settings, store, None, RecommendOptions(n=5))


def test_a_like_s_context_is_the_playlist_most_made_of_likes_else_its_artist():
    from tastebot.models.ranking_rows import like_contexts

    # p0 is all likes (a playlist the listener knows wholesale); p1 holds one like among strangers.
    pairs = [("p0", f"l{i}") for i in range(6)] + [("p1", "l0")] + [("p1", f"x{i}") for i in range(9)] + \
            [("p2", "l5"), ("p2", "x1")]
    corpus = CorpusData.from_pairs(pairs)
    frame = pd.DataFrame({"track_id": [f"l{i}" for i in range(6)] + ["lonely", "x3"],
                          "primary_artist_id": ["a"] * 6 + ["b", "c"], "label": [1] * 7 + [0]})
    scorer = HybridScorer.fit(corpus, frame)
    ctx = like_contexts(scorer, frame, frame["label"].to_numpy())
    assert list(ctx[:6]) == ["pl:p0"] * 6  # l0 is in p1 too, and l5 in p2: p0 is the densest
    assert ctx[6] == "artist:b"  # in no playlist


def test_the_choice_keeps_the_learned_ranking_unless_another_is_clearly_better():
    from tastebot.models.ranking_rows import choose

    def summary(auc=None, **measure):
        out = {k: {"auc": 0.8, "ap": v, "recall_top_tenth": v} for k, v in measure.items()}
        if auc is not None:  # the learned ranking's own check, on its score alone
            out["learned_check"] = {"auc": auc, "ap": auc, "recall_top_tenth": 0.0}
        return out

    assert choose(summary(learned=0.80, fusion=0.80, taste=0.82, collab=0.70))[0] == "learned"  # within noise
    assert choose(summary(learned=0.80, fusion=0.80, taste=0.86, collab=0.70))[0] == "taste"
    # while the learned ranking is sound, neither the co-occurrence nor the fusion replaces it
    assert choose(summary(learned=0.80, fusion=0.80, taste=0.60, collab=0.90))[0] == "learned"
    # a learned ranking whose check is implausibly good (rows easier than the task) is not kept: then the
    # fusion stands unless one side is clearly better
    kind, why = choose(summary(auc=0.99, learned=0.95, fusion=0.85, taste=0.84, collab=0.86))
    assert kind == "fusion" and "implausibly good" in why
    assert choose(summary(auc=0.99, learned=0.95, fusion=0.50, taste=0.90, collab=0.40))[0] == "taste"
    assert choose(summary(auc=0.99, learned=0.95, fusion=0.50, taste=0.40, collab=0.90))[0] == "collab"
    assert choose({k: {"auc": 0.8, "ap": 0.5, "recall_top_tenth": 0.5} for k in ("fusion", "taste", "collab")})[0] == "fusion"


def test_a_ranking_saves_its_kind_and_a_learned_one_its_ranker(tmp_path):
    from tastebot.models.ranker import Ranking

    (tmp_path / "a").mkdir()
    Ranking("collab").save(tmp_path / "a")
    assert Ranking.load(tmp_path / "a").kind == "collab" and Ranking.load(tmp_path / "a").ranker is None
    ranker, rng = _trained(4)
    (tmp_path / "b").mkdir()
    Ranking("learned", ranker).save(tmp_path / "b")
    loaded = Ranking.load(tmp_path / "b")
    ev = _evidence(rng, 50, True)
    assert loaded.kind == "learned" and np.array_equal(loaded.final(ev), Ranking("learned", ranker).final(ev))
    assert Ranking.load(tmp_path / "nothing") is None  # a run without any ranking: the linear blend


def test_what_only_the_taste_model_s_top_brought_is_measured_on_but_not_learnt_from(monkeypatch):
    """The taste model's top unheard tracks are its likeliest future likes: counted as non-likes they
    taught the learned ranking that a high taste score does not mark a like (ranking_rows._unheard)."""
    from tastebot.models import ranking_rows as rr

    # p0 holds the likes and two unheard tracks; the strangers s0..s7 share playlists only with each other
    pairs = [("p0", f"l{i}") for i in range(6)] + [("p0", "x0"), ("p0", "x1")] + \
            [(f"q{i}", f"s{i}") for i in range(8)] + [(f"q{i}", f"s{i + 1}") for i in range(7)]
    corpus = CorpusData.from_pairs(pairs)
    frame = pd.DataFrame({"track_id": [f"l{i}" for i in range(6)], "primary_artist_id": list("abcdef"), "label": 1})
    scorer = HybridScorer.fit(corpus, frame)
    known = set(frame["track_id"])
    pool = pd.DataFrame({"track_id": ["x0", "x1"] + [f"s{i}" for i in range(8)]})
    taste = np.array([0.1, 0.2] + [0.9 - 0.01 * i for i in range(8)])  # the taste model likes s0, s1, s2 best
    monkeypatch.setattr(rr, "UNHEARD_PER_SOURCE", 3)
    monkeypatch.setattr(rr, "UNHEARD", 0)
    d = rr.RankingData(frame=frame, y=np.ones(6, dtype=int), held_out=[], hybrid_fit=lambda f: scorer,
                       unheard_tracks=None, taste=lambda f: np.zeros(len(f)), seed=0)
    unheard, scores, taste_only = rr._unheard(d, scorer, known, np.zeros(0, dtype=object), pool, taste,
                                              np.random.default_rng(0))
    by_corpus = {t for kind in rr.RETRIEVERS for t in corpus_top(scorer, kind, 3, known)}
    assert {"x0", "x1"} <= by_corpus and {"s0", "s1", "s2"} <= set(unheard["track_id"])  # measured on, all of them
    marked = set(unheard["track_id"][taste_only])
    assert marked == {"s0", "s1", "s2"} - by_corpus and marked  # not learnt from: only what the taste top alone brought
    by_id = dict(zip(pool["track_id"], taste))
    assert np.allclose(scores, [by_id[t] for t in unheard["track_id"]])  # each with its own taste score


def test_the_learned_ranking_is_fitted_only_on_the_rows_it_may_learn_from(monkeypatch):
    """Rows marked `learn=False` (what only the taste model's top brought) are measured on in every fold
    but never reach a fit: neither the folds' checks nor the ranking a run saves."""
    from tastebot.models import ranking_rows as rr

    rng = np.random.default_rng(3)
    parts = []
    for part in range(rr.FOLDS):
        ev = _evidence(rng, 120, True)
        ev["y"] = (rng.random(120) < 0.3).astype(int)
        ev["kind"] = np.where(ev["y"] == 1, "like", "unheard")
        ev["part"], ev["context"] = part, ""
        ev["learn"] = (ev["y"] == 1) | (rng.random(120) < 0.6)
        parts.append(ev)
    data = pd.concat(parts, ignore_index=True)
    assert (~data["learn"]).sum() > 50
    fitted = []
    real_fit = Ranker.fit.__func__

    def recording_fit(cls, x, y, w, seed=0):
        fitted.append(x)
        return real_fit(cls, x, y, w, seed=seed)

    monkeypatch.setattr(Ranker, "fit", classmethod(recording_fit))
    summary, checks = rr.validate(data, seed=0)
    assert len(fitted) == rr.FOLDS and {c["part"] for c in checks} == set(range(rr.FOLDS))
    for part, x in enumerate(fitted):
        assert x["learn"].all() and not (x["part"] == part).any()
        assert len(x) == int((data["learn"] & (data["part"] != part)).sum())
    # ... and every row of the held-out fold is measured on, learn or not
    assert all(c["unheard"] == int(((data["part"] == c["part"]) & (data["kind"] == "unheard")).sum()) for c in checks)

    fitted.clear()
    monkeypatch.setattr(rr, "build_rows", lambda d: data)
    monkeypatch.setattr(rr, "choose", lambda summary: ("learned", "chosen for the test"))
    d = rr.RankingData(frame=pd.DataFrame(), y=np.zeros(0), held_out=[(np.zeros(0, dtype=int), np.zeros(0))],
                       hybrid_fit=None, unheard_tracks=None, taste=None, seed=0)
    ranking, info = rr.fit_ranking(d)
    assert ranking.kind == "learned" and ranking.ranker is not None
    assert len(fitted[-1]) == int(data["learn"].sum()) and fitted[-1]["learn"].all()
