"""The blend weight is fitted for recommending: by average precision (the top of the list), on a
stratified random validation part (liked artists may recur, as in recommending), ties to the hybrid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tastebot import evaluation
from tastebot import train as T
from tastebot.models.blend import AP_TOLERANCE, MIN_FITTED_WEIGHT, blend, fit_blend_weight_ap


def test_ap_follows_the_part_that_is_right_at_the_top():
    rng = np.random.default_rng(0)
    y = np.array([1] * 20 + [0] * 180)
    # The hybrid is sure about half of the likes (the very top) and blind to the rest (the very
    # bottom); the model ranks every like a little above average. ROC-AUC prefers the model's
    # even order, average precision the hybrid's sure top, which is what a list of 30 shows.
    hybrid = np.concatenate([10 + rng.random(10), -10 - rng.random(10), rng.random(180)])
    mlp = np.concatenate([0.3 + rng.random(20), rng.random(180)])
    w_ap, details = fit_blend_weight_ap(y, mlp, hybrid)
    from sklearn.metrics import roc_auc_score

    grid = np.linspace(0.0, 1.0, 21)
    w_auc = grid[int(np.argmax([roc_auc_score(y, blend(mlp, hybrid, w)) for w in grid]))]
    assert w_ap < w_auc  # ROC-AUC would have followed the model's even order
    assert details["ap_blend"] >= details["ap_hybrid"] > details["ap_mlp"]
    assert 0.0 <= details["auc_blend"] <= 1.0


def test_grid_reaches_both_ends_and_ties_go_to_the_hybrid():
    rng = np.random.default_rng(1)
    y = np.array([1] * 30 + [0] * 120)
    perfect = y + rng.random(150) * 0.1
    noise = rng.random(150)
    # The hybrid alone is perfect: the smallest w, at which the model still takes part.
    assert fit_blend_weight_ap(y, noise, perfect)[0] == MIN_FITTED_WEIGHT
    # The model alone is perfect: w goes up to where the noise can no longer spoil the top.
    assert fit_blend_weight_ap(y, perfect, noise)[0] >= 0.5
    # Both parts identical: every w ties, and the smallest is kept.
    assert fit_blend_weight_ap(y, perfect, perfect.copy())[0] == MIN_FITTED_WEIGHT


def test_no_hybrid_signal_or_one_class_is_the_mlp_alone():
    y = np.array([1, 0, 1, 0, 1, 0])
    assert fit_blend_weight_ap(y, np.arange(6.0), np.full(6, np.nan)) == (1.0, {})
    assert fit_blend_weight_ap(np.ones(6), np.arange(6.0), np.arange(6.0)) == (1.0, {})


def labelled(n_like: int, n_dislike: int, n_artists: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_like + n_dislike
    return pd.DataFrame({
        "track_id": [f"t{i}" for i in range(n)],
        "primary_artist_id": [f"a{rng.integers(n_artists)}" for _ in range(n)],
        "label": [1] * n_like + [0] * n_dislike,
        "strength": ["explicit"] * n_like + ["weak"] * n_dislike,
        "weight": 1.0,
        "energy": rng.random(n),
    })


def test_validation_part_is_random_stratified_and_shares_artists():
    f = labelled(100, 300)
    y = f["label"].to_numpy()
    tr, va = evaluation.random_validation_split(y, T.VAL_FOLDS, seed=1)
    assert set(tr).isdisjoint(va) and len(tr) + len(va) == len(f)
    assert abs(y[va].mean() - 0.25) < 0.02 and 0.15 < len(va) / len(f) < 0.25
    # Not grouped: liked artists of the validation part are liked in training too (as candidates
    # by liked artists are when recommending), which a grouped part would never show.
    artists = f["primary_artist_id"].to_numpy()
    assert set(artists[va]) & set(artists[tr])
    assert np.array_equal(evaluation.random_validation_split(y, T.VAL_FOLDS, seed=1)[1], va)
    assert evaluation.random_validation_split(np.array([1, 0, 0, 0]), T.VAL_FOLDS, seed=0) is None


class ArtistAffinity:
    """A stand-in hybrid scorer: how many training likes share the track's artist."""

    def __init__(self, profile: pd.DataFrame):
        self.counts = profile["primary_artist_id"].value_counts()

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["primary_artist_id"].map(self.counts).fillna(0).to_numpy(dtype=float)


def test_fit_blend_uses_training_likes_only_and_says_how_w_was_fitted():
    # Likes come from five artists, dislikes from the others: artist affinity is the signal.
    rng = np.random.default_rng(2)
    f = labelled(80, 240)
    f.loc[:79, "primary_artist_id"] = [f"a{rng.integers(5)}" for _ in range(80)]
    f.loc[80:, "primary_artist_id"] = [f"a{5 + rng.integers(15)}" for _ in range(240)]
    profiles = []

    def hybrid_fit(profile):
        profiles.append(profile)
        return ArtistAffinity(profile)

    t = T._Trainer(f, epochs=1, seed=0, ensemble=1, progress=None, observer=None, hybrid_fit=hybrid_fit)
    tr, va = evaluation.random_validation_split(t.y, T.VAL_FOLDS, seed=1)
    noisy_mlp = rng.random(len(va))
    info = t.fit_blend((tr, va, noisy_mlp))
    assert info["weight"] == MIN_FITTED_WEIGHT  # the artist signal is all there is; a noisy model adds nothing
    assert info["validation_rows"] == len(va)
    assert "average precision" in info["reason"] and "random" in info["reason"]
    assert info["details"]["ap_hybrid"] > info["details"]["ap_mlp"]
    (profile,) = profiles
    assert set(profile["track_id"]) <= set(f["track_id"].iloc[tr]) and (profile["label"] == 1).all()


def test_a_gain_within_the_tolerance_keeps_the_smaller_w():
    rng = np.random.default_rng(3)
    y = np.array([1] * 25 + [0] * 75)
    mlp = y * 0.6 + rng.random(100)
    hybrid = y * 0.8 + rng.random(100)
    w, details = fit_blend_weight_ap(y, mlp, hybrid)
    from sklearn.metrics import average_precision_score

    aps = {round(v, 2): average_precision_score(y, blend(mlp, hybrid, v)) for v in np.linspace(0, 1, 21)}
    best = max(aps.values())
    assert aps[round(w, 2)] >= best - AP_TOLERANCE
    assert all(ap < best - AP_TOLERANCE for v, ap in aps.items() if MIN_FITTED_WEIGHT <= v < w)
    assert details["ap_blend"] == aps[round(w, 2)]
