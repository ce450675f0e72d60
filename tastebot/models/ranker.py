"""The learned ranking: one small scikit-learn model over per-candidate evidence.

Evidence per candidate (`EVIDENCE`): the taste model's probability (`mlp`), the corpus's direct
co-occurrence with the likes (`cooc`), the factor cosine with the likes' profile (`factor`), artist
affinity (`artist_direct`, `artist_cooc`), sound next to the nearest likes (`content`), how much
evidence there was (`shared`: corpus playlists shared with likes), and what the corpus says of the named
dislikes: co-occurrence with them (`cooc_dislike`) and the factor cosine with the likes' profile less
the one with the dislikes' (`factor_vs_dislike`). A missing piece counts as 0 (see
`evidence_frame`).

The model is a histogram gradient-boosted classifier, small and regularised, with every piece of
evidence constrained to count upwards (more co-occurrence, a higher taste probability never lower a
candidate), so a few hundred held-out likes cannot teach it a perverse rule. It learns where to
trust what: on held-out likes hidden among unheard tracks (`tastebot.train` builds those rows; see
docs/recommend.md, "The learned ranking").

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

EVIDENCE = ("mlp", "cooc", "factor", "artist_direct", "artist_cooc", "content", "shared", "cooc_dislike",
            "factor_vs_dislike")
# +1: the score may only grow with this piece; -1: only fall (sharing playlists with the named dislikes).
MONOTONE = {**{c: 1 for c in EVIDENCE}, "cooc_dislike": -1}
# What a run's ranking was fitted on before the dislike pieces came (its ranker.json names none).
EARLIER_EVIDENCE = EVIDENCE[:7]
COLLAB_EVIDENCE = ("cooc", "factor", "artist_cooc")
# The final score: the learned ranking's rank averaged with the taste model's rank (both over the
# candidates scored together). The ranking learns from a few hundred held-out likes; halfway back to
# the taste model keeps its gains where the evidence is real and halves its mistakes where it is noise.
# On benchmarks/recommend.py (18 cases) the ranking alone was 0.431 P@30 / 0.830 ROC-AUC against the
# taste model alone's 0.439 / 0.839, winning or losing by up to 0.27 per persona.
TASTE_SHARE = 0.5
RANKER_FILE = "ranker.pkl"
RANKER_INFO = "ranker.json"
# Regularised on purpose: a listener gives a few hundred held-out likes at best.
# 60 trees of 8 leaves: scoring 100,000 candidates stays a fraction of a second.
PARAMS = {"max_iter": 60, "learning_rate": 0.1, "max_leaf_nodes": 8, "min_samples_leaf": 20,
          "l2_regularization": 1.0}


def evidence_frame(ev: pd.DataFrame, mlp: np.ndarray | None) -> pd.DataFrame:
    """The ranker's inputs (columns EVIDENCE) from a scorer's `evidence()` and the MLP's scores.

    Unknown evidence is 0, the least there can be (for the dislike pieces: no sign of a dislike, or
    neither side): "not in the corpus" must not become a signal of
    its own. Where the listener's likes come from (the library) differs from where unheard tracks
    come from (the corpus, search), so a learnt "unknown" would tell the source, not the taste (with
    NaN kept, the ranking learnt "not in the corpus means liked" and lost all precision on the
    persona benchmark). The column `no_collab` keeps which candidates had no collaborative evidence."""
    out = pd.DataFrame({
        "mlp": np.zeros(len(ev)) if mlp is None else np.asarray(mlp, dtype=float),
        "cooc": ev["cooc"].to_numpy(), "factor": ev["factor"].to_numpy(),
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
    """fit / score / save / load, like the other model parts."""

    model: Any
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, ev: pd.DataFrame, y: np.ndarray, weight: np.ndarray, seed: int = 0) -> "Ranker":
        from sklearn.ensemble import HistGradientBoostingClassifier

        from threadpoolctl import threadpool_limits

        model = HistGradientBoostingClassifier(
            **PARAMS, monotonic_cst=[MONOTONE[c] for c in EVIDENCE], early_stopping=False, random_state=seed)
        # One thread, as in `score`: a few thousand rows gain nothing from OpenMP, whose spinning
        # threads cost most of a busy machine's time (measured in the test suite under load: a
        # 600-track train took 62 s of CPU with the default threads, 5.5 s with OMP_NUM_THREADS=1).
        with threadpool_limits(1):
            model.fit(ev[list(EVIDENCE)].to_numpy(dtype=float), np.asarray(y, dtype=int), sample_weight=weight)
        return cls(model, {"rows": int(len(y)), "likes": int(np.sum(y == 1)), "params": PARAMS,
                           "evidence": list(EVIDENCE)})

    @property
    def evidence(self) -> list[str]:
        """The columns this ranking was fitted on, in order."""
        return list(self.info.get("evidence", EARLIER_EVIDENCE))

    def score(self, ev: pd.DataFrame) -> np.ndarray:
        """Probability-like scores; ties broken by the taste model; candidates with no collaborative
        evidence ordered among themselves by the taste model alone."""
        if len(ev) == 0:
            return np.zeros(0)
        from threadpoolctl import threadpool_limits

        # One thread: OpenMP's threads cost more than they save on a small, busy machine (measured:
        # 100,000 rows 4.0 s with the default threads, 1.4 s with one, under load).
        with threadpool_limits(1):
            p = self.model.predict_proba(ev[self.evidence].to_numpy(dtype=float))[:, 1]
        mlp = ev["mlp"].fillna(0.0).to_numpy(dtype=float)
        p = p + 1e-6 * mlp
        alone = np.flatnonzero(no_collab_evidence(ev))
        if len(alone) > 1:
            # The same places in the list, filled in the taste model's order.
            places = np.sort(p[alone])[::-1]
            p[alone[np.argsort(-mlp[alone], kind="stable")]] = places
        return p

    def final(self, ev: pd.DataFrame) -> np.ndarray:
        """What recommend ranks by: TASTE_SHARE of the taste model's rank, the rest the ranking's."""
        from tastebot.models.blend import blend

        mlp = ev["mlp"].to_numpy(dtype=float)
        return blend(mlp, self.score(ev), TASTE_SHARE) + 1e-9 * mlp

    def save(self, folder: Path) -> None:
        with open(Path(folder) / RANKER_FILE, "wb") as fh:
            pickle.dump(self.model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        (Path(folder) / RANKER_INFO).write_text(json.dumps(self.info, default=float), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Ranker | None":
        """The saved ranker, or None when the run has none (a run without a trained ranking)."""
        path = Path(folder) / RANKER_FILE
        if not path.exists():
            return None
        # The run folder is written by tastebot itself in the listener's home, as the network is.
        with open(path, "rb") as fh:
            model = pickle.load(fh)
        return cls(model, json.loads((Path(folder) / RANKER_INFO).read_text(encoding="utf-8")))


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
