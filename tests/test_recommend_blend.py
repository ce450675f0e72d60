"""The blend over the shortlist: the ranks of both parts are taken among the tracks either finds likely."""

from __future__ import annotations

import numpy as np

from tastebot.models.blend import blend, rank_scale
from tastebot.recommend.pick import shortlist_blend


def test_without_a_model_the_hybrid_ranks_alone():
    h = np.array([0.1, 0.9, 0.5])
    assert list(shortlist_blend(None, h, 0.7, 2)) == list(rank_scale(h))
    assert list(shortlist_blend(np.array([1.0, 0.0, 0.5]), h, 0.0, 2)) == list(rank_scale(h))


def test_small_pools_are_the_plain_blend():
    rng = np.random.default_rng(0)
    m, h = rng.random(50), rng.random(50)
    assert np.allclose(shortlist_blend(m, h, 0.4, 5), blend(m, h, 0.4))


def test_the_hybrids_clear_favourites_survive_a_noisy_model():
    # 20,000 candidates: the hybrid is sure about 30 of them, the model is noise everywhere.
    rng = np.random.default_rng(1)
    n = 20_000
    hybrid = rng.random(n) * 0.2
    sure = rng.choice(n, 30, replace=False)
    hybrid[sure] = 0.9 + rng.random(30) * 0.1
    mlp = rng.random(n)
    plain = np.argsort(-blend(mlp, hybrid, 0.3))[:30]
    short = np.argsort(-shortlist_blend(mlp, hybrid, 0.3, 30))[:30]
    assert len(set(short) & set(sure)) > len(set(plain) & set(sure))
    assert len(set(short) & set(sure)) >= 15
    # a candidate outside the shortlist never outranks one inside it
    s = shortlist_blend(mlp, hybrid, 0.3, 30)
    inside = np.union1d(np.argsort(-hybrid)[:300], np.argsort(-mlp)[:300])
    outside = np.setdiff1d(np.arange(n), inside)
    assert s[inside].min() > s[outside].max()
    assert ((s >= 0) & (s <= 1)).all()
