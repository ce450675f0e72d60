"""Retrieval over the corpus: the corpus tracks a fitted scorer rates highest by one kind of evidence
(`corpus_top`), for the candidates' corpus retrievers and the ranking's training rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tastebot.models.collab import HybridScorer


def corpus_top(scorer: HybridScorer, kind: str, k: int, exclude: set[str]) -> list[str]:
    """The `k` corpus tracks the scorer rates highest by one kind of evidence, skipping `exclude`
    (tracks the listener knows) and the user's own playlists' extra tracks:
    `cooc` (co-occurrence with the likes), `share` (playlist-normalised co-occurrence, ties by `cooc`),
    `factor` (factor cosine with the profile), `artist` (by a
    liked artist, the most liked artists first, then co-occurrence)."""
    corpus = scorer.corpus
    if corpus is None or scorer.cooc is None or k <= 0:
        return []
    if kind == "cooc":
        score = np.asarray(scorer.cooc, dtype=float)
    elif kind == "share":
        if scorer.share is None:
            return []
        score = np.asarray(scorer.share, dtype=float) + 1e-3 * np.asarray(scorer.cooc, dtype=float)
    elif kind == "factor":
        if scorer.profile is None:
            return []
        score = np.full(len(corpus.track_ids), -1.0)
        has = scorer.factor_row >= 0
        score[has] = scorer.item_factors[scorer.factor_row[has]] @ scorer.profile
    elif kind == "artist":
        if corpus.track_artists is None or not scorer.artist_weight:
            return []
        liked = pd.Series(corpus.track_artists, dtype=object).map(scorer.artist_weight).astype(float)
        score = liked.fillna(0.0).to_numpy() + 1e-3 * np.asarray(scorer.cooc, dtype=float)
        score[liked.isna().to_numpy()] = 0.0
    else:
        raise ValueError(f"unknown corpus retriever {kind!r}")
    return top_ids(score, corpus.track_ids, k, exclude)


def top_ids(score: np.ndarray, ids: np.ndarray, k: int, exclude: set[str]) -> list[str]:
    """Ids of the `k` highest positive scores (ties by position), skipping `exclude` and `own:` ids."""
    order = np.argsort(-np.nan_to_num(score, nan=-1.0), kind="stable")
    out: list[str] = []
    for j in order:
        if score[j] <= 0 or len(out) >= k:
            break
        tid = str(ids[j])
        if tid not in exclude and not tid.startswith("own:"):
            out.append(tid)
    return out
