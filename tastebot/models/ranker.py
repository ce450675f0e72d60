"""What `recommend` ranks by, chosen per listener: the taste model alone, the playlist co-occurrence
alone, a rank fusion of the two, or a learned ranking over every piece of evidence.

Evidence per candidate (`EVIDENCE`): the taste model's probability (`taste`: the MLP and the forest
together), the corpus's direct co-occurrence with the likes (`cooc`), the playlist-normalised
co-occurrence (`share`: how much of the playlists holding the track are likes), the factor cosine
with the likes' profile (`factor`), artist affinity (`artist_direct`, `artist_cooc`), sound next to
the nearest likes (`content`), how much evidence there was (`shared`: corpus playlists shared with
likes), and what the corpus says of the named dislikes: co-occurrence with them (`cooc_dislike`) and
the factor cosine with the likes' profile less the one with the dislikes' (`factor_vs_dislike`). A
missing piece counts as 0 (see `evidence_frame`).

`Ranking` is what a run saves and recommend uses: its `kind` (`KINDS`), and for "learned" the
`Ranker`, a small, regularised histogram gradient-boosted classifier with every piece of evidence
constrained to count upwards. `tastebot.models.ranking_rows` builds the rows it learns from (likes of
whole held-out contexts, their evidence computed again without them) and chooses the kind on them.

Where a candidate has no collaborative evidence at all (not in the corpus, no known artist), its
place among such candidates is the taste model's order alone (`rank`): the ranking never lets
noise reorder what only the taste model knows about.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tastebot.models.blend import blend
from tastebot.models.trees import TreeArrays

EVIDENCE = ("taste", "cooc", "share", "factor", "artist_direct", "artist_cooc", "content", "shared", "cooc_dislike",
            "factor_vs_dislike")
# Runs saved before the rename called the taste model's score `mlp` (it was the MLP and the forest
# together even then): their ranker.json lists that name, read as `taste`.
RENAMED = {"mlp": "taste"}
# +1: the score may only grow with this piece; -1: only fall (sharing playlists with the named dislikes).
MONOTONE = {**{c: 1 for c in EVIDENCE}, "cooc_dislike": -1}
# What a run's ranking was fitted on before the dislike pieces came (its ranker.json names none).
EARLIER_EVIDENCE = ("mlp", "cooc", "factor", "artist_direct", "artist_cooc", "content", "shared")
COLLAB_EVIDENCE = ("cooc", "factor", "artist_cooc")
# The final score: the learned ranking's rank averaged with the taste model's rank (both over the
# candidates scored together). The ranking learns from a few hundred held-out likes; halfway back to
# the taste model keeps its gains where the evidence is real and halves its mistakes where it is noise.
# On benchmarks/recommend.py (18 cases) the ranking alone was 0.431 P@30 / 0.830 ROC-AUC against the
# taste model alone's 0.439 / 0.839, winning or losing by up to 0.27 per persona.
TASTE_SHARE = 0.5
RANKER_FILE = "ranker.pkl"  # runs from before RANKER_ARRAYS: read once and turned into arrays
RANKER_ARRAYS = "ranker.npz"  # the boosted trees as arrays (models/trees.py): scored without scikit-learn
RANKER_INFO = "ranker.json"
# Regularised on purpose: a listener gives a few hundred held-out likes at best.
# 60 trees of 8 leaves: scoring 100,000 candidates stays a fraction of a second.
PARAMS = {"max_iter": 60, "learning_rate": 0.1, "max_leaf_nodes": 8, "min_samples_leaf": 20,
          "l2_regularization": 1.0}


def bin_codes(x: np.ndarray, weight: np.ndarray, max_bins: int) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """`x` with every column of more than `max_bins` distinct values replaced by its bin code under
    the bin edges a HistGradientBoostingClassifier of `max_bins` would find itself (weighted
    percentiles), and those edges by column.

    scikit-learn finds the 254 weighted percentiles one Python call each: 0.35 s of a 0.38 s fit on
    5,000 rows, four fits a training. Here each column's come from one call; fitted on the codes,
    the trees split the rows exactly as on the raw values (tests/test_ranking.py)."""
    from sklearn.utils.stats import _weighted_percentile

    codes, edges = x.copy(), {}
    keep = weight != 0  # as scikit-learn: rows without weight do not place the edges
    ranks = np.linspace(0, 100, num=max_bins + 1)[1:-1]
    for j in range(x.shape[1]):
        col = x[keep, j]
        if len(np.unique(col)) <= max_bins:
            continue  # the trees' own edges: midpoints between the distinct values, no percentiles
        order = np.argsort(col)
        e = np.unique(np.asarray(_weighted_percentile(col[order], weight[keep][order], ranks, average=True),
                                 dtype=np.float64))
        e = np.minimum(e, 1e300)  # as scikit-learn: no infinite edge
        codes[:, j] = np.searchsorted(e, x[:, j], side="left")
        edges[j] = e
    return codes, edges


def evidence_frame(ev: pd.DataFrame, taste: np.ndarray | None) -> pd.DataFrame:
    """The ranker's inputs (columns EVIDENCE) from a scorer's `evidence()` and the taste model's scores.

    Unknown evidence is 0, the least there can be (for the dislike pieces: no sign of a dislike, or
    neither side): "not in the corpus" must not become a signal of
    its own. Where the listener's likes come from (the library) differs from where unheard tracks
    come from (the corpus, search), so a learnt "unknown" would tell the source, not the taste (with
    NaN kept, the ranking learnt "not in the corpus means liked" and lost all precision on the
    persona benchmark). The column `no_collab` keeps which candidates had no collaborative evidence."""
    out = pd.DataFrame({
        "taste": np.zeros(len(ev)) if taste is None else np.asarray(taste, dtype=float),
        "cooc": ev["cooc"].to_numpy(), "share": ev["share"].to_numpy(), "factor": ev["factor"].to_numpy(),
        "artist_direct": ev["artist_direct"].to_numpy(), "artist_cooc": ev["artist_cooc"].to_numpy(),
        "content": ev["content"].to_numpy(), "shared": np.log1p(ev["shared_playlists"].to_numpy(dtype=float)),
        "cooc_dislike": ev["cooc_dislike"].to_numpy(),
        # Closer to the likes' profile than to the dislikes' (-1..1); unknown is 0, neither.
        "factor_vs_dislike": (ev["factor"] - ev["factor_dislike"].fillna(0.0)).to_numpy(),
    })
    none = np.ones(len(ev), dtype=bool)
    for c in COLLAB_EVIDENCE:
        none &= ev[c].isna().to_numpy()
    none &= ~(ev["artist_direct"].fillna(0.0).to_numpy() > 0)
    out = out.fillna(0.0)
    out["no_collab"] = none
    return out


def no_collab_evidence(ev: pd.DataFrame) -> np.ndarray:
    """Candidates about which nothing but the taste model (and sound) speaks: not in the corpus and
    by no artist the listener likes (from `evidence_frame`)."""
    return ev["no_collab"].to_numpy(dtype=bool)


@dataclass
class Ranker:
    """fit / score / save / load, like the other model parts. It scores from its trees as arrays
    (models/trees.py), at train time as at recommend time, so recommend never imports scikit-learn;
    60 trees of 8 leaves are quicker so too (3,000 rows: 0.02-0.04 s against 0.09 s and more in
    scikit-learn; 20,000 rows: 0.07 s against 0.18-0.55 s)."""

    trees: TreeArrays
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, ev: pd.DataFrame, y: np.ndarray, weight: np.ndarray, seed: int = 0) -> "Ranker":
        from sklearn.ensemble import HistGradientBoostingClassifier

        from threadpoolctl import threadpool_limits

        model = HistGradientBoostingClassifier(
            **PARAMS, monotonic_cst=[MONOTONE[c] for c in EVIDENCE], early_stopping=False, random_state=seed)
        # One thread: a few thousand rows gain nothing from OpenMP, whose spinning
        # threads cost most of a busy machine's time (measured in the test suite under load: a
        # 600-track train took 62 s of CPU with the default threads, 5.5 s with OMP_NUM_THREADS=1).
        x = ev[list(EVIDENCE)].to_numpy(dtype=float)
        codes, edges = bin_codes(x, np.asarray(weight, dtype=float), model.max_bins)
        with threadpool_limits(1):
            model.fit(codes, np.asarray(y, dtype=int), sample_weight=weight)
        trees = TreeArrays.from_boosting(model)
        # Each split "bin code <= c + 0.5" is "value <= the bin's upper edge": the trees read raw evidence.
        for j, e in edges.items():
            at = ~trees.leaf & (trees.feature == j)
            trees.threshold[at] = e[np.floor(trees.threshold[at]).astype(np.int64)]
        return cls(trees, {"rows": int(len(y)), "likes": int(np.sum(y == 1)), "params": PARAMS,
                           "evidence": list(EVIDENCE)})

    @property
    def evidence(self) -> list[str]:
        """The columns this ranking was fitted on, in order (names from before the rename mapped)."""
        return [RENAMED.get(c, c) for c in self.info.get("evidence", EARLIER_EVIDENCE)]

    def score(self, ev: pd.DataFrame) -> np.ndarray:
        """Probability-like scores; ties broken by the taste model; candidates with no collaborative
        evidence ordered among themselves by the taste model alone."""
        if len(ev) == 0:
            return np.zeros(0)
        raw = self.trees.predict(ev[self.evidence].to_numpy(dtype=float))
        return taste_order_without_collab(ev, 1.0 / (1.0 + np.exp(-raw)))

    def final(self, ev: pd.DataFrame, taste_share: float = TASTE_SHARE) -> np.ndarray:
        """`taste_share` of the taste model's rank, the rest the ranking's (runs from before the choice
        of ranking ranked by TASTE_SHARE; a chosen learned ranking ranks by itself: 0)."""
        taste = ev["taste"].to_numpy(dtype=float)
        if taste_share <= 0:
            return self.score(ev)
        return blend(taste, self.score(ev), taste_share) + 1e-9 * taste

    def save(self, folder: Path) -> None:
        self.trees.save(Path(folder) / RANKER_ARRAYS)
        (Path(folder) / RANKER_INFO).write_text(json.dumps(self.info, default=float), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Ranker | None":
        """The saved ranker, or None when the run has none (a run without a trained ranking)."""
        folder = Path(folder)
        info = folder / RANKER_INFO
        if (folder / RANKER_ARRAYS).exists():
            return cls(TreeArrays.load(folder / RANKER_ARRAYS), json.loads(info.read_text(encoding="utf-8")))
        path = folder / RANKER_FILE
        if not path.exists():
            return None
        # A run from before the arrays. Written by tastebot itself in the listener's home, as the network is.
        with open(path, "rb") as fh:
            model = pickle.load(fh)
        return cls(TreeArrays.from_boosting(model), json.loads(info.read_text(encoding="utf-8")))


def balanced_weights(y: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Likes and non-likes get the same total say; among non-likes each kind (held-out dislikes,
    unheard tracks) gets an equal share, so thousands of unheard tracks do not drown the dislikes."""
    y = np.asarray(y, dtype=int)
    w = np.zeros(len(y))
    pos = y == 1
    if pos.any():
        w[pos] = 1.0 / pos.sum()
    kinds = [k for k in np.unique(kind[~pos])]
    for k in kinds:
        m = (~pos) & (kind == k)
        w[m] = 1.0 / (m.sum() * len(kinds))
    return w * len(y) / 2.0


# -- what recommend ranks by ---------------------------------------------------------------------------
KINDS = ("learned", "fusion", "taste", "collab")
LABELS = {
    "learned": "the learned ranking over the taste model and the collaborative evidence",
    "fusion": "a rank fusion of the taste model and the playlist co-occurrence",
    "taste": "the taste model alone",
    "collab": "the playlist co-occurrence alone",
}
# Reciprocal rank fusion's constant (Cormack et al. 2009): each list's top keeps its weight, and a
# track high in both lists rises above one at the top of either alone.
RRF_K = 60
RANKING_FILE = "ranking.json"


def taste_order_without_collab(ev: pd.DataFrame, scores: np.ndarray) -> np.ndarray:
    """`scores` with ties broken by the taste model, and the candidates with no collaborative evidence
    put, in the places they hold among themselves, in the taste model's order."""
    taste = ev["taste"].fillna(0.0).to_numpy(dtype=float)
    p = np.asarray(scores, dtype=float) + 1e-6 * taste
    alone = np.flatnonzero(no_collab_evidence(ev))
    if len(alone) > 1:
        places = np.sort(p[alone])[::-1]
        p[alone[np.argsort(-taste[alone], kind="stable")]] = places
    return p


def collab_score(ev: pd.DataFrame) -> np.ndarray:
    """The playlist co-occurrence (`share`); where it is equal (0 for tracks in no liked playlist), the
    factor nearness, then direct co-occurrence, decide."""
    return (ev["share"].to_numpy(dtype=float) + 1e-2 * ev["factor"].to_numpy(dtype=float)
            + 1e-4 * ev["cooc"].to_numpy(dtype=float))


def fusion_score(ev: pd.DataFrame) -> np.ndarray:
    """Reciprocal rank fusion of the taste model's order and the playlist co-occurrence's."""
    n = len(ev)
    out = np.zeros(n)
    for s in (ev["taste"].to_numpy(dtype=float), collab_score(ev)):
        rank = np.empty(n)
        rank[np.argsort(-s, kind="stable")] = np.arange(n)
        out += 1.0 / (RRF_K + rank)
    return out


def kind_scores(kind: str, ev: pd.DataFrame, ranker: "Ranker | None" = None, taste_share: float = 0.0) -> np.ndarray:
    """Scores in the order of ranking `kind` (a learned one needs its `ranker`)."""
    if kind == "learned":
        return ranker.final(ev, taste_share)
    if kind == "taste":
        return ev["taste"].to_numpy(dtype=float).copy()
    base = collab_score(ev) if kind == "collab" else fusion_score(ev)
    return taste_order_without_collab(ev, base)


@dataclass
class Ranking:
    """What a run ranks by (`kind`, one of KINDS), the learned ranker when that is it, and what was
    measured to choose it (`info`, which metrics.json's `ranking` also carries)."""

    kind: str
    ranker: Ranker | None = None
    info: dict[str, Any] = field(default_factory=dict)
    taste_share: float = 0.0  # a learned ranking's share of the taste model's rank (TASTE_SHARE in older runs)

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    def final(self, ev: pd.DataFrame) -> np.ndarray:
        if len(ev) == 0:
            return np.zeros(0)
        return kind_scores(self.kind, ev, self.ranker, self.taste_share)

    def save(self, folder: Path) -> None:
        if self.ranker is not None:
            self.ranker.save(folder)
        (Path(folder) / RANKING_FILE).write_text(json.dumps({"kind": self.kind, "taste_share": self.taste_share}),
                                                  encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Ranking | None":
        """The run's ranking; a run from before the choice has its learned ranker alone (or nothing:
        the linear blend)."""
        path = Path(folder) / RANKING_FILE
        saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        ranker = Ranker.load(folder)
        if saved is None:
            return None if ranker is None else cls("learned", ranker, taste_share=TASTE_SHARE)
        return cls(saved["kind"], ranker, taste_share=float(saved.get("taste_share", 0.0)))
