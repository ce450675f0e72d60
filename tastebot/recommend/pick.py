"""Picking from the ranked candidates: the linear blend's shortlist (`shortlist_blend`, for `--blend`
and runs without a learned ranking) and `select` (score order, or maximal marginal relevance on the
sound with `--diversity`, at most `--max-per-artist` per artist)."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd

from tastebot.models.blend import blend, rank_scale
from tastebot.models.content import content_matrix

CANDIDATE_POOL_FOR_MMR = 10  # MMR looks at the best n * this many candidates

# -- the blend ---------------------------------------------------------------------------------------
SHORTLIST_PER_PICK = 10
MIN_SHORTLIST = 300


def shortlist_blend(mlp: np.ndarray | None, hybrid: np.ndarray, w: float, n: int) -> np.ndarray:
    """final = w * rank(MLP) + (1 - w) * rank(hybrid) (tastebot.models.blend), with the ranks taken
    over the shortlist: the best max(10 n, 300) candidates of either part.

    Why a shortlist: over tens of thousands of candidates a rank says little at the top (the hybrid's
    30th and 300th tracks differ by 1 % of rank), so any w > 0 would let the MLP reorder the whole top
    of the hybrid's list. Over the shortlist, both parts judge the tracks that either finds likely.
    Candidates outside the shortlist keep their order after it (scores below every shortlisted one).
    """
    hybrid = np.asarray(hybrid, dtype=float)
    if mlp is None or w <= 0:
        return rank_scale(hybrid)
    mlp = np.asarray(mlp, dtype=float)
    size = max(SHORTLIST_PER_PICK * n, MIN_SHORTLIST)
    if len(hybrid) <= size:
        return blend(mlp, hybrid, w)
    top_h = np.argsort(-np.nan_to_num(hybrid, nan=-1.0), kind="stable")[:size]
    top_m = np.argsort(-np.nan_to_num(mlp, nan=-1.0), kind="stable")[:size]
    short = np.union1d(top_h, top_m)
    out = blend(mlp, hybrid, w) * 1e-3  # the rest: the plain blend's order, below the shortlist
    out[short] = 1e-3 + (1 - 1e-3) * blend(mlp[short], hybrid[short], w)
    return out


# -- picking -----------------------------------------------------------------------------------------
def select(frame: pd.DataFrame, scores: np.ndarray, n: int, *, max_per_artist: int = 2, diversity: float = 0.0) -> list[int]:
    """Row positions of the picks: score order (or MMR on the sound when diversity > 0), at most
    max_per_artist per primary artist (0 = no cap)."""
    order = np.lexsort((frame["track_id"].astype(str).to_numpy(), -np.nan_to_num(scores, nan=-1.0)))
    artists = artist_key(frame)
    per_artist: Counter = Counter()

    def allowed(i: int) -> bool:
        return max_per_artist == 0 or per_artist[artists[i]] < max_per_artist

    if diversity <= 0:
        out = []
        for i in order:
            if allowed(i):
                out.append(int(i))
                per_artist[artists[i]] += 1
                if len(out) >= n:
                    break
        return out
    pool = [int(i) for i in order[: max(n * CANDIDATE_POOL_FOR_MMR, n)]]
    X = content_matrix(frame.iloc[pool])
    # centred on the pool, so the similarity compares sounds, not the shared offset (year ~ 200 units)
    with warnings.catch_warnings():  # a feature unknown for the whole pool: its centre is NaN, zeroed below
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmean(X, axis=0)
    X = X - np.nan_to_num(centre)[None, :]
    X = np.where(np.isnan(X), 0.0, X)  # unknown features: the average sound
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    U = X / np.where(norm > 0, norm, 1.0)
    rel = np.nan_to_num(np.asarray(scores, dtype=float)[pool], nan=0.0)
    max_sim = np.full(len(pool), -np.inf)
    taken = np.zeros(len(pool), dtype=bool)
    out: list[int] = []
    while len(out) < n:
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        value = (1 - diversity) * rel - diversity * penalty
        value[taken] = -np.inf
        for k in range(len(pool)):
            if not allowed(pool[k]):
                value[k] = -np.inf
        k = int(np.argmax(value))
        if not np.isfinite(value[k]):
            break
        taken[k] = True
        out.append(pool[k])
        per_artist[artists[pool[k]]] += 1
        max_sim = np.maximum(max_sim, U @ U[k])
    # The MMR pool can run dry (its artists capped) while candidates beyond it still fit: take those
    # in score order rather than return fewer picks than there are.
    for i in order[len(pool):]:
        if len(out) >= n:
            break
        if allowed(i):
            out.append(int(i))
            per_artist[artists[i]] += 1
    return out


def artist_key(frame: pd.DataFrame) -> list[str]:
    """Each row's primary artist id, or a key of its own when unknown (never capped together)."""
    ids = frame["primary_artist_id"] if "primary_artist_id" in frame.columns else [None] * len(frame)
    return [(a if isinstance(a, str) and a else f"?{i}") for i, a in enumerate(ids)]


def shortfall(frame: pd.DataFrame, picks: list[int], n: int, max_per_artist: int) -> dict[str, int] | None:
    """Why `select` returned fewer than n picks (None when it did not): how many candidates there were,
    and how many of those it left out because their artist already had max_per_artist picks."""
    if len(picks) >= n:
        return None
    artists = artist_key(frame)
    picked = Counter(artists[i] for i in picks)
    chosen = set(picks)
    capped = sum(1 for i in range(len(frame)) if i not in chosen and max_per_artist
                 and picked[artists[i]] >= max_per_artist)
    return {"asked": n, "picked": len(picks), "candidates": len(frame), "artist_capped": capped}
