"""How a model is measured: the grouped and random splits, the scores and the curves. Used by
`tastebot.train` (every run's honest evaluation) and by the benchmarks."""

from __future__ import annotations

from typing import Any

import numpy as np

CURVE_POINTS = 101


# -- splits ---------------------------------------------------------------------------------------
def grouped_folds(y: np.ndarray, groups: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds grouped by artist (no artist on both sides); folds whose held-out part lacks
    a class are left out, since nothing can be measured on them."""
    n_groups = len(np.unique(groups))
    k = min(n_splits, n_groups)
    if k < 2:
        return []
    folds = []
    everything = np.arange(len(y))
    for te in stratified_group_test_parts(y.astype(int), groups, k, seed):
        tr = np.setdiff1d(everything, te)
        if len(np.unique(y[te])) == 2 and len(np.unique(y[tr])) == 2:
            folds.append((tr, te))
    return folds


def stratified_group_test_parts(y: np.ndarray, groups: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """The test parts (sorted row positions) of scikit-learn's `StratifiedGroupKFold(k, shuffle=True,
    random_state=seed)`, the very same ones, computed with the k candidate folds of each group at once:
    scikit-learn tries them one by one in Python (1.4-2 s of a 28,000-track persona's train, 3,900 rows
    in 3,200 groups; tests/test_evaluation.py checks both agree). Its greedy rule: groups in shuffled
    order, the most lopsided first (largest spread of their class counts), each into the fold where the
    class shares across folds are most even, the smaller fold on a tie."""
    _, y_inv, y_cnt = np.unique(y, return_inverse=True, return_counts=True)
    _, groups_inv, groups_cnt = np.unique(groups, return_inverse=True, return_counts=True)
    n_groups, n_classes = len(groups_cnt), len(y_cnt)
    per_group = np.zeros((n_groups, n_classes))
    np.add.at(per_group, (groups_inv, y_inv), 1)
    perm = np.arange(n_groups)
    np.random.RandomState(seed).shuffle(perm)
    per_group = per_group[perm]
    inv_perm = np.empty_like(perm)
    inv_perm[perm] = np.arange(n_groups)
    groups_inv = inv_perm[groups_inv]
    order = np.argsort(-np.std(per_group, axis=1), kind="stable")
    per_fold = np.zeros((k, n_classes))
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    scale = y_cnt.reshape(1, 1, -1)
    tried = np.arange(k)
    for g in order:
        counts = per_group[g]
        # Candidate c: the folds' counts with this group added to fold c (c, fold, class).
        cand = np.broadcast_to(per_fold, (k, k, n_classes)).copy()
        cand[tried, tried] += counts
        evals = np.mean(np.std(cand / scale, axis=1), axis=1)
        sizes = per_fold.sum(axis=1)
        best, min_eval, min_size = 0, np.inf, np.inf
        for c in range(k):
            e = evals[c]
            if e < min_eval or (bool(np.isclose(e, min_eval)) and sizes[c] < min_size):
                best, min_eval, min_size = c, e, sizes[c]
        per_fold[best] += counts
        fold_of_group[g] = best
    fold_of_row = fold_of_group[groups_inv]
    return [np.flatnonzero(fold_of_row == f) for f in range(k)]


def random_validation_split(y: np.ndarray, n_splits: int, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(train rows, validation rows): one stratified *random* fold of `n_splits`, not grouped by
    artist. The validation part stands for recommending, where other tracks by artists the listener
    likes are fair candidates (the hybrid score's artist affinity finds them); a grouped part would
    hide that signal and pull the blend weight toward the MLP. None when a class is too small."""
    import warnings

    from sklearn.model_selection import StratifiedKFold  # here: scikit-learn takes seconds to import

    counts = np.bincount(y.astype(int), minlength=2)
    k = min(n_splits, int(counts.min()))
    if k < 2:
        return None
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr, va = next(splitter.split(np.zeros(len(y)), y.astype(int)))
    return np.sort(tr), np.sort(va)


# -- metrics --------------------------------------------------------------------------------------
def score(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    # here: scikit-learn takes seconds to import
    from sklearn.metrics import (accuracy_score, average_precision_score, f1_score, precision_score,
                                 recall_score, roc_auc_score)

    y = y.astype(int)
    pred = (p >= threshold).astype(int)
    two = len(np.unique(y)) == 2
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, p)) if two else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if two else float("nan"),
    }


def _thin(xs: np.ndarray, ys: np.ndarray, n: int = CURVE_POINTS) -> tuple[list[float], list[float]]:
    if len(xs) > n:
        idx = np.unique(np.linspace(0, len(xs) - 1, n).round().astype(int))
        xs, ys = xs[idx], ys[idx]
    return [round(float(v), 5) for v in xs], [round(float(v), 5) for v in ys]


def curves(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import precision_recall_curve, roc_curve  # here: scikit-learn takes seconds to import

    if len(np.unique(y)) < 2:
        return {}
    fpr, tpr, _ = roc_curve(y.astype(int), p)
    prec, rec, _ = precision_recall_curve(y.astype(int), p)
    fx, fy = _thin(fpr, tpr)
    rx, ry = _thin(rec[::-1], prec[::-1])
    return {"roc": {"fpr": fx, "tpr": fy}, "pr": {"recall": rx, "precision": ry}}


# -- ranked lists (recommending: an order of track ids, not scores) ------------------------------
def precision_at_k(order, relevant, k: int) -> float:
    """Share of the first k of `order` that are in `relevant`; a list shorter than k counts its
    missing places as misses (a recommender that returns fewer than k tracks is not rewarded)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    relevant = set(relevant)
    return sum(1 for t in list(order)[:k] if t in relevant) / k


def roc_auc_of_order(order, labels) -> float:
    """ROC-AUC of a ranked list (the first ranks highest) against {id: 1 or 0}. Labelled ids missing
    from the list rank last, tied with each other: a ranker that leaves a test track out is scored as
    placing it at the bottom, never ignored. NaN when the labels hold one class only."""
    from sklearn.metrics import roc_auc_score

    order = list(order)
    rank_score = {t: len(order) - i for i, t in enumerate(order)}
    ids = list(labels)
    y = np.array([int(labels[t]) for t in ids])
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, [rank_score.get(t, -1) for t in ids]))
