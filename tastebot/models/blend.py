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
    from scipy.stats import rankdata

    out[ok] = (rankdata(s[ok], method="average") - 1.0) / (n - 1)
    return out


def blend(mlp: np.ndarray, hybrid: np.ndarray, w: float) -> np.ndarray:
    """w * rank(mlp) + (1 - w) * rank(hybrid). Where one part is missing (NaN) the other stands alone."""
    if not 0.0 <= w <= 1.0:
        raise ValueError("blend weight must be in [0, 1]")
    a, b = rank_scale(mlp), rank_scale(hybrid)
    out = w * a + (1.0 - w) * b
    out = np.where(np.isnan(a), b, out)
    out = np.where(np.isnan(b), a, out)
    return out


def fit_blend_weight(labels: np.ndarray, mlp: np.ndarray, hybrid: np.ndarray, grid: int = 21) -> tuple[float, dict[str, float]]:
    """The w in a grid over [0, 1] that maximises ROC-AUC on validation data (ties: the larger w).

    Returns (w, {"auc_mlp", "auc_hybrid", "auc_blend"}). With one class only, or no hybrid signal,
    w = 1 (the MLP alone).
    """
    from sklearn.metrics import roc_auc_score

    y = np.asarray(labels).astype(int)
    if len(np.unique(y)) < 2 or np.all(np.isnan(np.asarray(hybrid, dtype=float))):
        return 1.0, {}
    best_w, best_auc = 1.0, -1.0
    for w in np.linspace(1.0, 0.0, grid):
        auc = roc_auc_score(y, np.nan_to_num(blend(mlp, hybrid, float(w)), nan=0.5))
        if auc > best_auc + 1e-9:
            best_w, best_auc = float(w), float(auc)
    details = {
        "auc_mlp": float(roc_auc_score(y, np.nan_to_num(rank_scale(mlp), nan=0.5))),
        "auc_hybrid": float(roc_auc_score(y, np.nan_to_num(rank_scale(hybrid), nan=0.5))),
        "auc_blend": best_auc,
    }
    return round(best_w, 4), details
