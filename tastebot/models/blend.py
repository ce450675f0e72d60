"""The blend of the MLP and the hybrid collaborative score: final = w * MLP + (1 - w) * hybrid.

Both parts are first put on one scale by their rank (a percentile in [0, 1]) among the tracks
scored together, since a probability and a similarity are not comparable as they stand.
"""

from __future__ import annotations

import numpy as np


def rank_scale(scores: np.ndarray) -> np.ndarray:
    """Percentile ranks in [0, 1]; ties share their mean rank; NaN stays NaN."""
    s = np.asarray(scores, dtype=float)
    out = np.full(s.shape, np.nan)
    ok = ~np.isnan(s)
    n = int(ok.sum())
    if n == 0:
        return out
    if n == 1:
        out[ok] = 0.5
        return out
    out[ok] = (average_ranks(s[ok]) - 1.0) / (n - 1)
    return out


def average_ranks(s: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their mean: `scipy.stats.rankdata(s, method="average")`, to the same
    floats, without importing scipy.stats (a second of a weekly run's CPU)."""
    order = np.argsort(s, kind="mergesort")
    ordered = s[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # where each run of equal values starts
    counts = np.diff(np.r_[starts, len(s)])
    group = np.repeat(np.arange(len(starts)), counts)
    ranks = np.empty(len(s))
    ranks[order] = 0.5 * ((starts + counts)[group] + starts[group] + 1)
    return ranks


def blend(mlp: np.ndarray, hybrid: np.ndarray, w: float) -> np.ndarray:
    """w * rank(mlp) + (1 - w) * rank(hybrid). Where one part is missing (NaN) the other stands alone."""
    if not 0.0 <= w <= 1.0:
        raise ValueError("blend weight must be in [0, 1]")
    a, b = rank_scale(mlp), rank_scale(hybrid)
    out = w * a + (1.0 - w) * b
    out = np.where(np.isnan(a), b, out)
    out = np.where(np.isnan(b), a, out)
    return out


# Average precision within this of the best counts as a tie (ties go to the smaller w). About one
# standard error of average precision on a validation part of 15-30 likes; on benchmarks/recommend.py
# (4 personas) it took tastebot from P@30 0.225 (exact ties only) to 0.275, the hybrid alone being 0.333.
AP_TOLERANCE = 0.05
# The smallest fitted w: the grid is searched from 0, but a fitted w never drops below this, so the
# taste model always takes part and every recommendation's "why" carries its score (`--blend 0`
# leaves it out on purpose). Over the shortlist, w = 0.05 keeps the hybrid's order almost whole.
MIN_FITTED_WEIGHT = 0.05


def fit_blend_weight_ap(labels: np.ndarray, mlp: np.ndarray, hybrid: np.ndarray, grid: int = 21) -> tuple[float, dict[str, float]]:
    """The w in a grid over [0, 1] (0 included) that maximises the average precision of the blend on
    validation data. Average precision weighs the top of the order most, as a recommendation list
    does; ROC-AUC weighs the whole order alike. Ties (within AP_TOLERANCE of the best): the smaller w
    (the hybrid score), which on the recommendation benchmark finds far more of what the listener
    also likes than the MLP does; never below MIN_FITTED_WEIGHT.

    Returns (w, {"ap_mlp", "ap_hybrid", "ap_blend", "auc_blend"}). With one class only, or no hybrid
    signal, w = 1 (the MLP alone).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(labels).astype(int)
    if len(np.unique(y)) < 2 or np.all(np.isnan(np.asarray(hybrid, dtype=float))):
        return 1.0, {}
    ws = np.linspace(0.0, 1.0, grid)
    aps = np.array([average_precision_score(y, np.nan_to_num(blend(mlp, hybrid, float(w)), nan=0.5)) for w in ws])
    # The smallest w within AP_TOLERANCE of the best: on a validation part of a few dozen likes a
    # small gain in average precision is noise, and the hybrid is the safer side (see the docstring).
    # (The tolerance is at least a rounding error, so exact ties go to the smaller w too.)
    best_ap = float(aps.max())
    best_w = max(float(ws[np.flatnonzero(aps >= best_ap - max(AP_TOLERANCE, 1e-9))[0]]), MIN_FITTED_WEIGHT)
    best_scores = np.nan_to_num(blend(mlp, hybrid, best_w), nan=0.5)
    details = {
        "ap_mlp": float(average_precision_score(y, np.nan_to_num(rank_scale(mlp), nan=0.5))),
        "ap_hybrid": float(average_precision_score(y, np.nan_to_num(rank_scale(hybrid), nan=0.5))),
        "ap_blend": float(average_precision_score(y, best_scores)),
        "auc_blend": float(roc_auc_score(y, best_scores)),
    }
    return round(best_w, 4), details
