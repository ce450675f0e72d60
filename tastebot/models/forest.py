"""The taste model's second member: a random forest on exactly the MLP's inputs and weights.

The taste score is the mean of the MLP ensemble's probability and the forest's (`taste_score`). The two
learn different shapes (smooth interactions against axis-aligned cuts) and err on different listeners:
on benchmarks/recommend.py's personas the forest alone beat the MLP alone on some and lost on others by
up to 0.3 precision, and their mean was never far below the better of the two (docs/training.md,
"The taste model"). `tastebot train` also reports this forest alone as a baseline, so the same
settings serve both.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tastebot.models.trees import TreeArrays

FOREST_FILE = "forest.pkl"
# The same trees as arrays (models/trees.py): a weekly run scores its few thousand candidates from these
# without importing scikit-learn (1.5 s of CPU). Its compiled trees are 2-3x faster per row (3,000
# rows: 0.04 s against 0.08 s in NumPy; 20,000 rows 0.2-0.3 s against 0.5-0.6 s, one core, loaded
# machine), so a batch of COMPILED_FROM_ROWS rows or more, where that difference outweighs the
# import, loads the pickle. Both give the same probabilities, bit for bit (tests/test_trees.py).
FOREST_ARRAYS = "forest.npz"
COMPILED_FROM_ROWS = 50_000
PARAMS = {"n_estimators": 150, "min_samples_leaf": 2, "max_features": "sqrt"}
# From these many rows the trees are grown, or asked, on two cores; below, handing them to two
# threads costs more than it saves. Measured with 150 trees on 40 columns: fitting 40 rows took
# 0.29 s on one core and 0.48 s on two, 500 rows 0.50 s and 0.60 s, 1,000 rows 1.14 s and 0.97 s,
# 3,000 rows 3.1 s and 1.7 s; scoring 2,000 rows 0.04 s and 0.08 s, 5,000 rows 0.06 s either way,
# 100,000 rows 0.88 s and 0.49 s. The trees are the same either way (their seeds are drawn first).
FIT_PARALLEL_ROWS = 1000
SCORE_PARALLEL_ROWS = 5000


def _jobs(rows: int, parallel_from: int) -> int:
    return 2 if rows >= parallel_from else 1


@dataclass
class Forest:
    """fit / score / save / load, like the other model parts. `model` is scikit-learn's forest (fitted
    here, or loaded for a large batch); `trees` the same trees as arrays (a loaded run)."""

    model: Any = None
    trees: TreeArrays | None = None
    folder: Path | None = None  # the run folder the pickle is loaded from when a batch needs it

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, weight: np.ndarray, seed: int = 0) -> "Forest":
        from sklearn.ensemble import RandomForestClassifier  # here: scikit-learn takes seconds to import

        model = RandomForestClassifier(**PARAMS, n_jobs=_jobs(len(x), FIT_PARALLEL_ROWS), random_state=seed)
        model.fit(x, np.asarray(y, dtype=int), sample_weight=weight)
        # What scores it without `score` (the baselines' test part) is a few hundred rows.
        model.set_params(n_jobs=1)
        return cls(model)

    def score(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        if self.model is None and (self.trees is None or len(x) >= COMPILED_FROM_ROWS):
            self.model = self._unpickle()
        if self.model is None:
            return self.trees.predict(x)
        self.model.set_params(n_jobs=_jobs(len(x), SCORE_PARALLEL_ROWS))
        return self.model.predict_proba(x)[:, 1]

    def save(self, folder: Path) -> None:
        with open(Path(folder) / FOREST_FILE, "wb") as fh:
            pickle.dump(self.model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        TreeArrays.from_forest(self.model).save(Path(folder) / FOREST_ARRAYS)

    @classmethod
    def load(cls, folder: Path) -> "Forest | None":
        """The saved forest (its arrays; the pickle waits for a batch that needs it), or None for a run
        trained before the forest joined the taste model."""
        folder = Path(folder)
        if (folder / FOREST_ARRAYS).exists():
            return cls(trees=TreeArrays.load(folder / FOREST_ARRAYS), folder=folder)
        if not (folder / FOREST_FILE).exists():
            return None
        return cls(folder=folder)  # a run from before the arrays: the pickle alone

    def _unpickle(self):
        # Written by tastebot itself in the listener's home, as the networks are.
        with open(self.folder / FOREST_FILE, "rb") as fh:
            return pickle.load(fh)


def taste_score(mlp: np.ndarray, forest: np.ndarray | None) -> np.ndarray:
    """The taste score: the mean of the two members' probabilities (the MLP's alone without a forest)."""
    mlp = np.asarray(mlp, dtype=float)
    return mlp if forest is None else 0.5 * (mlp + np.asarray(forest, dtype=float))
