"""The taste models' contract: every member has `fit`, `score`, `save` and `load`, and a member saved and
loaded again scores exactly as it did. A model added later joins MEMBERS (a name and a small case)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from tastebot.models.corpus import CorpusData
from tastebot.models.collab import HybridScorer
from tastebot.models.forest import Forest
from tastebot.models.ranker import EVIDENCE, Ranker

CONTRACT = ("fit", "score", "save", "load")


@dataclass
class Case:
    """How one member is fitted on a small frame and what it scores."""

    member: type
    fit: Callable[[type], Any]
    rows: Any


def _features(n: int = 64, width: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, width)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return x, y, np.ones(n, dtype=np.float32)


def _evidence(n: int = 80, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    ev = pd.DataFrame({c: rng.random(n) for c in EVIDENCE})
    ev["no_collab"] = False
    y = (ev["taste"] + ev["cooc"] + 0.2 * rng.random(n) > 1.1).astype(int).to_numpy()
    return ev, y


def _scorer_world():
    pairs = [(f"pl{p}", f"t{(p * 3 + k) % 24}") for p in range(30) for k in range(6)]
    artists = {f"t{i}": f"Artist {i % 6}" for i in range(24)}
    corpus = CorpusData.from_pairs(pairs, artists)
    likes = pd.DataFrame({"track_id": ["t0", "t3", "t6"], "label": 1, "weight": 1.0,
                          "artist_name": ["Artist 0", "Artist 3", "Artist 0"]})
    rows = pd.DataFrame({"track_id": [f"t{i}" for i in range(24)] + ["unseen"],
                         "artist_name": [f"Artist {i % 6}" for i in range(24)] + ["Nobody"]})
    return corpus, likes, rows


def _mlp_case() -> Case:
    from tastebot.models.mlp import Ensemble

    x, y, w = _features()
    return Case(Ensemble, lambda cls: cls.fit(x, y, w, seed=0, epochs=2), x)


def _forest_case() -> Case:
    x, y, w = _features()
    return Case(Forest, lambda cls: cls.fit(x, y, w, seed=0), x)


def _scorer_case() -> Case:
    corpus, likes, rows = _scorer_world()
    return Case(HybridScorer, lambda cls: cls.fit(corpus, likes, n_factors=4, seed=0), rows)


def _ranker_case() -> Case:
    ev, y = _evidence()
    return Case(Ranker, lambda cls: cls.fit(ev, y, np.ones(len(y)), seed=0), ev)


MEMBERS = {
    "mlp": pytest.param(_mlp_case, marks=pytest.mark.trains),
    "forest": pytest.param(_forest_case),
    "scorer": pytest.param(_scorer_case),
    "ranker": pytest.param(_ranker_case),
}


@pytest.mark.parametrize("make_case", list(MEMBERS.values()), ids=list(MEMBERS))
def test_every_member_fits_scores_saves_and_loads_to_the_same_scores(make_case, tmp_path):
    case = make_case()
    for method in CONTRACT:
        assert callable(getattr(case.member, method, None)), f"{case.member.__name__} has no {method}"
    model = case.fit(case.member)
    assert isinstance(model, case.member)
    before = np.asarray(model.score(case.rows), dtype=float)
    assert before.shape == (len(case.rows),) and np.isfinite(before).all()
    assert before.std() > 0  # it learnt something that tells the rows apart
    model.save(tmp_path)
    loaded = case.member.load(tmp_path)
    assert isinstance(loaded, case.member)
    after = np.asarray(loaded.score(case.rows), dtype=float)
    # The MLP scores a saved run in NumPy (mlp.Forward), not through Keras: equal to float32 rounding.
    np.testing.assert_allclose(after, before, rtol=0, atol=1e-5)
