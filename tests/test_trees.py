"""Tree ensembles scored from their arrays (tastebot.models.trees) give scikit-learn's own scores:
what a saved run's forest and learned ranking score with, at recommend time, without scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from tastebot.models.trees import TreeArrays


def _data(n: int, width: int, seed: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, width)).astype(dtype)
    x[:, 1] = np.round(x[:, 1])  # ties at the thresholds
    y = (x[:, 0] + 0.5 * x[:, 2] + 0.5 * rng.normal(size=n) > 0).astype(int)
    x[rng.random((n, width)) < 0.05] = np.nan  # missing values: each node sends them its learnt way
    return x, y


def test_a_forest_scores_from_its_arrays_bit_for_bit_as_scikit_learn_does(tmp_path):
    x, y = _data(400, 6, 0, np.float32)
    forest = RandomForestClassifier(n_estimators=25, min_samples_leaf=2, random_state=0).fit(x, y)
    arrays = TreeArrays.from_forest(forest)
    arrays.save(tmp_path / "forest.npz")
    loaded = TreeArrays.load(tmp_path / "forest.npz")
    probe, _ = _data(3000, 6, 1, np.float32)  # more rows than one block of the walk
    expected = forest.predict_proba(probe)[:, 1]
    assert np.isnan(probe).any() and 0.0 < expected.mean() < 1.0
    assert np.array_equal(loaded.predict(probe), expected)
    assert np.array_equal(arrays.predict(probe), expected)


def test_a_boosted_ranking_scores_from_its_arrays_as_scikit_learn_does(tmp_path):
    x, y = _data(600, 5, 2, np.float64)
    model = HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=8, random_state=0).fit(x, y)
    TreeArrays.from_boosting(model).save(tmp_path / "ranker.npz")
    loaded = TreeArrays.load(tmp_path / "ranker.npz")
    probe, _ = _data(2000, 5, 3, np.float64)
    raw = loaded.predict(probe)
    assert np.array_equal(raw, model._raw_predict(probe).ravel())
    assert np.allclose(1.0 / (1.0 + np.exp(-raw)), model.predict_proba(probe)[:, 1], rtol=0, atol=1e-12)


def test_small_trees_score_leaf_by_leaf_as_the_walk_does(monkeypatch):
    """Trees of few leaves (the learned ranking's) are scored by their leaves' paths; deep ones by the
    walk. Both give scikit-learn's scores, missing values and float32 inputs included."""
    from tastebot.models import trees

    x, y = _data(800, 6, 4, np.float32)
    small = RandomForestClassifier(n_estimators=15, max_leaf_nodes=8, random_state=0).fit(x, y)
    deep = RandomForestClassifier(n_estimators=5, min_samples_leaf=1, random_state=0).fit(x, y)
    boosted = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=8, random_state=0).fit(x.astype(float), y)
    probe, _ = _data(2500, 6, 5, np.float32)
    assert TreeArrays.from_forest(small)._small_trees() and not TreeArrays.from_forest(deep)._small_trees()
    for model, arrays, expected in (
            (small, TreeArrays.from_forest(small), small.predict_proba(probe)[:, 1]),
            (boosted, TreeArrays.from_boosting(boosted), boosted._raw_predict(probe.astype(float)).ravel())):
        assert arrays._small_trees()
        by_paths = arrays.predict(probe)
        monkeypatch.setattr(trees, "PATHS_UP_TO", 0)  # the walk
        by_walk = arrays.predict(probe)
        monkeypatch.setattr(trees, "PATHS_UP_TO", 32)
        assert np.array_equal(by_paths, expected) and np.array_equal(by_walk, expected)
