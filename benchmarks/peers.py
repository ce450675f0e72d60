"""Peer recommenders for benchmarks/recommend.py, on the same data and the same knowledge as tastebot.

Knowledge: the listener's known liked tracks, the dislikes the product can read (the own dislike
playlist; none when the dislikes sit only in a public playlist a development app refuses, or when
there are none), the corpus (other users' playlists) plus the listener's own like playlists, and the
tracks' features: 11 audio features, duration and release year. Never Spotify's popularity: a
development app never reads it for the listener's own tracks (API-2026), so the product cannot learn
it from the likes. Where the corpus file carries ids alone, the audio features only: the product can
fetch those (ReccoBeats), but no source gives an ids-only corpus track its duration or year; and the
popularity peer ranks by the corpus's own count of playlists, the popularity the product can see there.

Peers: random, popularity, co-occurrence item kNN, playlist-normalised co-occurrence (each playlist
votes (likes in it) / length ** e for its tracks), content kNN (mean similarity to the k nearest likes
on standardised audio features), implicit ALS and BM25, a random forest and HistGradientBoosting
with sampled negatives (the settings include 500 trees against 2,000 random unheard tracks), and on
the label protocols logistic regression (standardised features, sampled negatives). Every
peer with a setting is tuned on a validation part carved
from the listener's own data, then refitted on all of it:

- personas: a random 20 % of the likes is hidden among every unheard track (and taken out of the own
  playlists); the setting with the best precision at 100 wins (steadier than at 30);
- labels: the tracks of a random 25 % of the liked artists and of the disliked artists are held out
  (new artists, as the test songs are); the setting with the best ROC-AUC wins.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, replace
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import scipy.sparse as sp

AUDIO = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
         "instrumentalness", "liveness", "valence", "tempo"]
FEATURES = AUDIO + ["duration_ms", "release_year"]


@dataclass
class Knowledge:
    items: np.ndarray                 # every catalogue track id
    index: dict[str, int]
    corpus: sp.csr_matrix             # other users' playlists x items
    own: list[list[int]]              # own like playlists (item positions)
    likes: np.ndarray                 # item positions
    dislikes: np.ndarray
    X: np.ndarray                     # features, items x len(FEATURES)
    pop: np.ndarray
    artist: np.ndarray


def knowledge(songs, world) -> Knowledge:
    items = songs.tracks.index.to_numpy()
    index = {t: i for i, t in enumerate(items)}
    rows, cols = [], []
    for r, pid in enumerate(world.corpus_playlists):
        js = [index[t] for t in songs.members[pid]]
        rows += [r] * len(js)
        cols += js
    corpus = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                           shape=(len(world.corpus_playlists), len(items)))
    own = [[index[t] for t in ids] for pid, ids in world.own_playlists.items() if pid != world.dislike_playlist]
    features = AUDIO if world.ids_only_corpus else FEATURES
    X = songs.tracks[features].to_numpy(dtype=float)
    pop = np.asarray(corpus.sum(axis=0)).ravel().astype(float) if world.ids_only_corpus \
        else songs.tracks["track_popularity"].to_numpy(dtype=float)  # a corpus file with columns carries it
    return Knowledge(items, index, corpus, own, np.array([index[t] for t in world.likes]),
                     np.array([index[t] for t in world.dislikes], dtype=int), X, pop, songs.tracks["artist_id"].to_numpy())


def _matrix(k: Knowledge, likes: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Playlists x items (corpus + own playlists restricted to `likes`) and the user's row."""
    keep = np.zeros(len(k.items), dtype=bool)
    keep[likes] = True
    rows, cols = [], []
    for r, js in enumerate(k.own):
        js = [j for j in js if keep[j]]
        rows += [r] * len(js)
        cols += js
    own = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(k.own), len(k.items)))
    user = sp.csr_matrix((np.ones(len(likes), dtype=np.float32), (np.zeros(len(likes), dtype=int), likes)),
                         shape=(1, len(k.items)))
    return sp.vstack([k.corpus, own]).tocsr(), user


# -- the peers: fn(knowledge, liked positions, candidate positions, params, seed) -> scores ----------
def p_random(k, likes, cands, params, seed):
    return np.random.default_rng(seed).random(len(cands))


def p_popularity(k, likes, cands, params, seed):
    return k.pop[cands]


def p_cooc(k, likes, cands, params, seed):
    M, user = _matrix(k, likes)
    a = params["a"]
    pop = np.asarray(M.sum(axis=0)).ravel()
    v = np.zeros(M.shape[1], dtype=np.float64)
    v[likes] = np.maximum(pop[likes], 1) ** -a
    s = (M.T @ (M @ v)) * np.maximum(pop, 1) ** -a
    return s[cands]


def p_cooc_norm(k, likes, cands, params, seed):
    """Playlist-normalised co-occurrence: each playlist votes (likes in it) / (its length ** e) for
    each of its tracks; a track's votes are divided by its playlist count ** b."""
    M, user = _matrix(k, likes)
    u = np.zeros(M.shape[1], dtype=np.float64)
    u[likes] = 1.0
    length = np.maximum(np.asarray(M.sum(axis=1)).ravel(), 1.0)
    votes = (M @ u) / length ** params["e"]
    pop = np.maximum(np.asarray(M.sum(axis=0)).ravel(), 1.0)
    return (M.T @ votes)[cands] / pop[cands] ** params["b"]


def _standardised_audio(k) -> np.ndarray:
    X = k.X[:, : len(AUDIO)]
    med = np.nanmedian(X, axis=0)
    X = np.where(np.isnan(X), med, X)
    return (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-9)


def p_content_knn(k, likes, cands, params, seed):
    """Content kNN: the mean similarity of a track to its n nearest likes on the standardised audio
    features (cosine, or minus the euclidean distance)."""
    Z = _standardised_audio(k)
    L = Z[likes]
    n = min(params["k"], len(likes))
    if params["metric"] == "cosine":
        Z = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-9)
        L = Z[likes]
    out = np.empty(len(cands))
    for start in range(0, len(cands), 2000):
        C = Z[cands[start:start + 2000]]
        if params["metric"] == "cosine":
            sim = C @ L.T
        else:
            sim = -np.sqrt(np.maximum((C * C).sum(1)[:, None] + (L * L).sum(1)[None, :] - 2 * C @ L.T, 0.0))
        out[start:start + 2000] = np.partition(sim, sim.shape[1] - n, axis=1)[:, -n:].mean(axis=1)
    return out


def p_als(k, likes, cands, params, seed):
    from implicit.cpu.als import AlternatingLeastSquares

    M, user = _matrix(k, likes)
    model = AlternatingLeastSquares(factors=params["factors"], regularization=params["reg"], alpha=params["alpha"],
                                    iterations=15, random_state=seed, num_threads=1)
    model.fit(sp.vstack([M, user]).tocsr(), show_progress=False)
    u = np.asarray(model.user_factors)[M.shape[0]]
    return np.asarray(model.item_factors)[cands] @ u


def p_bm25(k, likes, cands, params, seed):
    from implicit.nearest_neighbours import BM25Recommender

    M, user = _matrix(k, likes)
    model = BM25Recommender(K=params["K"], num_threads=1)
    model.fit(M, show_progress=False)
    s = np.asarray((user @ model.similarity).todense()).ravel()
    return s[cands]


def _training_rows(k, likes, cands, params, seed):
    """Likes, the dislikes the product could read, and sampled negatives: `neg` random unheard
    tracks, or `ratio` x the likes."""
    rng = np.random.default_rng(seed)
    known = np.zeros(len(k.items), dtype=bool)
    known[likes] = True
    known[k.dislikes] = True
    unheard = np.flatnonzero(~known)
    n_neg = params["neg"] if "neg" in params else int(params.get("ratio", 2) * len(likes))
    neg = rng.choice(unheard, size=min(len(unheard), n_neg), replace=False)
    rows = np.concatenate([likes, k.dislikes, neg])
    y = np.concatenate([np.ones(len(likes)), np.zeros(len(k.dislikes) + len(neg))])
    return rows, y


def _tabular(model, k, likes, cands, params, seed):
    rows, y = _training_rows(k, likes, cands, params, seed)
    X = k.X
    med = np.nanmedian(X[rows], axis=0)
    fill = lambda a: np.where(np.isnan(a), med, a)  # noqa: E731
    model.fit(fill(X[rows]), y)
    return model.predict_proba(fill(X[cands]))[:, 1]


def p_forest(k, likes, cands, params, seed):
    from sklearn.ensemble import RandomForestClassifier

    rf = RandomForestClassifier(n_estimators=params.get("trees", 200), min_samples_leaf=params["leaf"], max_features="sqrt",
                                class_weight="balanced", random_state=seed, n_jobs=1)
    return _tabular(rf, k, likes, cands, params, seed)


def p_hgb(k, likes, cands, params, seed):
    from sklearn.ensemble import HistGradientBoostingClassifier

    hgb = HistGradientBoostingClassifier(learning_rate=params["lr"], max_leaf_nodes=params["leaves"],
                                         l2_regularization=1.0, max_iter=300, early_stopping=True,
                                         class_weight="balanced", random_state=seed)
    return _tabular(hgb, k, likes, cands, params, seed)


def p_logistic(k, likes, cands, params, seed):
    """Logistic regression on the standardised features (a label baseline of issue 24)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    lr = make_pipeline(StandardScaler(), LogisticRegression(C=params["C"], class_weight="balanced", max_iter=2000))
    return _tabular(lr, k, likes, cands, params, seed)


PEERS: dict[str, tuple[Callable, list[dict]]] = {
    "random": (p_random, [{}]),
    "popularity": (p_popularity, [{}]),
    "co-occurrence kNN": (p_cooc, [{"a": a} for a in (0.25, 0.5, 0.75, 1.0)]),
    "playlist-normalised co-occurrence": (p_cooc_norm, [{"e": e, "b": b} for e in (0.5, 1.0) for b in (0.0, 0.25, 0.5)]),
    "content kNN": (p_content_knn, [{"metric": m, "k": n} for m in ("cosine", "euclidean") for n in (1, 5, 20, 50)]),
    "implicit ALS": (p_als, [{"factors": f, "reg": r, "alpha": al} for f in (32, 64) for r in (0.01, 0.1)
                             for al in (1.0, 10.0)]),
    "implicit BM25": (p_bm25, [{"K": K} for K in (20, 100, 500)]),
    # issue 24: the settings tried include 500 trees against 2,000 random unheard tracks
    "random forest": (p_forest, [{"leaf": leaf, "ratio": r} for leaf in (1, 5, 20) for r in (1, 3)]
                      + [{"trees": 500, "leaf": leaf, "neg": 2000} for leaf in (1, 5)]),
    "hist. gradient boosting": (p_hgb, [{"lr": 0.1, "leaves": n, "ratio": r} for n in (7, 31) for r in (1, 3)]
                                + [{"lr": 0.1, "leaves": n, "neg": 2000} for n in (7, 31)]),
}
# Peers of the label protocols only (kept persona homes' peers.json predate it).
LABEL_PEERS: dict[str, tuple[Callable, list[dict]]] = {
    "logistic regression": (p_logistic, [{"C": c, "ratio": r} for c in (0.01, 0.1, 1.0) for r in (1, 3)]),
}


# -- tuning ------------------------------------------------------------------------------------------
def validation(k: Knowledge, kind: str, cands: np.ndarray, seed: int):
    """(train likes, validation candidates, their labels, metric) carved from the listener's data."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng([seed, 7])
    if kind == "persona":
        held = rng.random(len(k.likes)) < 0.2
        vc = np.concatenate([cands, k.likes[held]])
        y = np.concatenate([np.zeros(len(cands)), np.ones(int(held.sum()))])
        return k.likes[~held], vc, y, lambda y, s: float(y[np.argsort(-s, kind="stable")[:100]].mean())
    arts_l = np.unique(k.artist[k.likes])
    out_l = set(rng.choice(arts_l, size=max(1, len(arts_l) // 4), replace=False))
    arts_d = np.unique(k.artist[k.dislikes])
    out_d = set(rng.choice(arts_d, size=max(1, len(arts_d) // 4), replace=False))
    held_l = np.array([a in out_l for a in k.artist[k.likes]])
    held_d = np.array([a in out_d for a in k.artist[k.dislikes]])
    vc = np.concatenate([k.likes[held_l], k.dislikes[held_d]])
    y = np.concatenate([np.ones(int(held_l.sum())), np.zeros(int(held_d.sum()))])
    return k.likes[~held_l], vc, y, lambda y, s: float(roc_auc_score(y, s))


def score_peers(k: Knowledge, kind: str, cands: np.ndarray, seed: int, say=lambda t: None) -> tuple[dict, dict]:
    """{peer: scores over cands} with each peer at its validated setting, and {peer: setting}."""
    train_likes, vc, vy, metric = validation(k, kind, cands, seed)
    # the held-out dislikes (labels) must not be training rows during validation
    kv = replace(k, dislikes=np.setdiff1d(k.dislikes, vc)) if kind == "labels" else k
    scores, chosen = {}, {}
    for name, (fn, grid) in {**PEERS, **(LABEL_PEERS if kind == "labels" else {})}.items():
        started = time.perf_counter()
        best, best_v = grid[0], -np.inf
        if len(grid) > 1:
            for params in grid:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    v = metric(vy, np.nan_to_num(fn(kv, train_likes, vc, params, seed), nan=-1e9))
                if v > best_v:
                    best, best_v = params, v
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores[name] = np.nan_to_num(fn(k, k.likes, cands, best, seed), nan=-1e9)
        chosen[name] = {**best, **({"validation": round(best_v, 4)} if len(grid) > 1 else {}),
                        "seconds": round(time.perf_counter() - started, 1)}  # tuning and the final fit
        say(f"    {name}: {chosen[name]}")
    return scores, chosen
