"""Tree ensembles scored in NumPy from their arrays: how a saved run's forest (models/forest.py) and
learned ranking (models/ranker.py) score at `recommend` time, without importing scikit-learn (1.5 s of
CPU of a weekly run's 2.7 s, measured with `benchmarks/speed.py`).

`TreeArrays` holds every tree of an ensemble in one set of flat node arrays: each internal node its
feature, threshold and two children; a leaf points to itself, so walking all (row, tree) pairs one
level at a time needs no test for "done". The walk follows scikit-learn's own rule, so the scores are
the same: go left when `x[feature] <= threshold` (the value promoted to float64, as its compiled trees
compare it), a missing value (NaN) the way the node learnt (`missing_go_to_left`). The leaves' values
are summed tree after tree in the trees' order, as scikit-learn sums them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Pairs (row, tree) still walking are gathered into a shorter array once fewer than this share of
# them is left: each level then costs what is left, not every pair.
COMPACT_BELOW = 0.6
PAIRS_PER_BLOCK = 150_000
# Ensembles of small trees (the learned ranking's: 8 leaves at most) are scored leaf by leaf instead:
# each node's test is one comparison over a whole column and each leaf the AND of its path, so no
# (row, tree) pair is gathered. 100,000 rows x 60 trees of 8 leaves: 0.09 s against 0.32 s by the walk.
PATHS_UP_TO = 32  # leaves per tree


@dataclass
class TreeArrays:
    feature: np.ndarray  # int32 per node (0 at a leaf)
    threshold: np.ndarray  # float64 per node (+inf at a leaf)
    children: np.ndarray  # int32, 2 per node: [left, right] (a leaf: itself twice)
    missing_left: np.ndarray  # bool per node: a NaN goes left
    leaf: np.ndarray  # bool per node
    value: np.ndarray  # float64 per node: what a leaf adds
    roots: np.ndarray  # int32 per tree
    depth: int  # the deepest leaf's depth
    width: int  # input columns
    base: float = 0.0  # added to the sum (a boosted ensemble's baseline)
    mean: bool = False  # True: the mean of the trees' values (a forest), else their sum (boosting)
    _t32: np.ndarray | None = field(default=None, repr=False, compare=False)

    # -- from scikit-learn (train time only: the fitted models are passed in) -------------------------
    @classmethod
    def from_forest(cls, model) -> "TreeArrays":
        """A RandomForestClassifier's trees; each leaf's value is its share of class 1, as
        `predict_proba` normalises it."""
        pos = int(np.flatnonzero(np.asarray(model.classes_) == 1)[0]) if 1 in list(model.classes_) else None
        parts = []
        for est in model.estimators_:
            t = est.tree_
            v = np.asarray(t.value)[:, 0, :]
            total = v.sum(axis=1)
            share = np.zeros(len(v)) if pos is None else v[:, pos] / np.where(total > 0, total, 1.0)
            parts.append((t.children_left, t.children_right, t.feature, t.threshold,
                          np.asarray(t.missing_go_to_left, dtype=bool), share, int(t.max_depth)))
        return cls._join(parts, width=int(model.n_features_in_), base=0.0, mean=True)

    @classmethod
    def from_boosting(cls, model) -> "TreeArrays":
        """A binary HistGradientBoostingClassifier's trees (numeric features): the raw score, before
        the logistic function."""
        parts = []
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            leaf = nodes["is_leaf"].astype(bool)
            left = np.where(leaf, -1, nodes["left"].astype(np.int64))  # unsigned in the predictor
            right = np.where(leaf, -1, nodes["right"].astype(np.int64))
            parts.append((left, right, nodes["feature_idx"], nodes["num_threshold"],
                          nodes["missing_go_to_left"].astype(bool), nodes["value"], int(nodes["depth"].max())))
        return cls._join(parts, width=int(model.n_features_in_), base=float(np.ravel(model._baseline_prediction)[0]),
                         mean=False)

    @classmethod
    def _join(cls, parts, *, width: int, base: float, mean: bool) -> "TreeArrays":
        feats, thrs, kids, miss, leaves, values, roots = [], [], [], [], [], [], []
        offset, depth = 0, 0
        for left, right, feature, threshold, missing_left, value, d in parts:
            n = len(left)
            own = np.arange(n, dtype=np.int64) + offset
            leaf = np.asarray(left) < 0
            kids.append(np.stack([np.where(leaf, own, np.asarray(left) + offset),
                                  np.where(leaf, own, np.asarray(right) + offset)], axis=1).ravel())
            feats.append(np.where(leaf, 0, feature))
            thrs.append(np.where(leaf, np.inf, threshold))
            miss.append(np.asarray(missing_left, dtype=bool))
            leaves.append(leaf)
            values.append(np.asarray(value, dtype=np.float64))
            roots.append(offset)
            offset += n
            depth = max(depth, d)
        return cls(np.concatenate(feats).astype(np.int32), np.concatenate(thrs).astype(np.float64),
                   np.concatenate(kids).astype(np.int32), np.concatenate(miss), np.concatenate(leaves),
                   np.concatenate(values), np.asarray(roots, dtype=np.int32), depth, width, base, mean)

    # -- saved with the run ---------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        with open(path, "wb") as fh:
            np.savez(fh, feature=self.feature, threshold=self.threshold, children=self.children,
                     missing_left=self.missing_left, leaf=self.leaf, value=self.value, roots=self.roots,
                     meta=np.array([self.depth, self.width, int(self.mean)], dtype=np.int64),
                     base=np.array([self.base]))

    @classmethod
    def load(cls, path: Path) -> "TreeArrays":
        with np.load(path, allow_pickle=False) as z:
            depth, width, mean = (int(v) for v in z["meta"])
            return cls(z["feature"], z["threshold"], z["children"], z["missing_left"], z["leaf"], z["value"],
                       z["roots"], depth, width, float(z["base"][0]), bool(mean))

    # -- scoring --------------------------------------------------------------------------------------
    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf each row reaches in each tree: (rows, trees) node indexes. Rows are walked in
        blocks of about PAIRS_PER_BLOCK (row, tree) pairs, whose arrays stay in the processor's cache
        while each level's dozen NumPy calls still cover many pairs."""
        x = np.ascontiguousarray(x)
        if x.dtype != np.float32:
            x = x.astype(np.float64)
        threshold = self._float32_thresholds() if x.dtype == np.float32 else self.threshold
        out = np.empty((len(x), len(self.roots)), dtype=np.int32)
        nan = bool(np.isnan(x).any())
        rows = max(1, PAIRS_PER_BLOCK // len(self.roots))
        for s in range(0, len(x), rows):
            out[s : s + rows] = self._walk(x[s : s + rows], threshold, nan)
        return out

    def _float32_thresholds(self) -> np.ndarray:
        """For float32 inputs: each threshold as the largest float32 not above it, so that
        `x <= t32` holds exactly when `x <= threshold` does, and the walk compares in float32."""
        if self._t32 is None:
            t32 = self.threshold.astype(np.float32)
            above = t32.astype(np.float64) > self.threshold
            t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
            self._t32 = t32
        return self._t32

    def _walk(self, x: np.ndarray, threshold: np.ndarray, nan: bool) -> np.ndarray:
        n, t = len(x), len(self.roots)
        flat = x.ravel()
        out = np.empty(n * t, dtype=np.int32)
        pair = np.arange(n * t, dtype=np.int32)  # index into out: row * t + tree
        node = np.tile(self.roots, n)
        start = (np.arange(n, dtype=np.int32) * np.int32(x.shape[1])).repeat(t)  # the row's first cell in flat
        cell, v, thr, right = np.empty_like(node), np.empty(len(node), x.dtype), np.empty(len(node), threshold.dtype), \
            np.empty(len(node), bool)
        for level in range(self.depth):
            m = len(node)
            if not m:
                break
            np.take(self.feature, node, out=cell[:m])
            np.add(cell[:m], start, out=cell[:m])
            np.take(flat, cell[:m], out=v[:m])
            np.take(threshold, node, out=thr[:m])
            if nan:  # right unless v <= threshold, or v is missing and the node sends missing values left
                np.less_equal(v[:m], thr[:m], out=right[:m])
                right[:m] |= np.isnan(v[:m]) & self.missing_left[node]
                np.logical_not(right[:m], out=right[:m])
            else:
                np.greater(v[:m], thr[:m], out=right[:m])
            np.multiply(node, 2, out=node)
            np.add(node, right[:m], out=node)
            np.take(self.children, node, out=node)
            if level % 2:
                continue
            done = self.leaf[node]
            k = int(np.count_nonzero(done))
            if k and k >= (1.0 - COMPACT_BELOW) * m:
                out[pair[done]] = node[done]
                keep = ~done
                pair, node, start = pair[keep], node[keep], start[keep]
        out[pair] = node
        return out.reshape(n, t)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The ensemble's value per row: the mean of the trees' (a forest's probability of class 1),
        or the baseline plus their sum (a boosted model's raw score)."""
        if len(x) == 0:
            return np.zeros(0)
        if self._small_trees():
            return self._predict_by_paths(x)
        vals = self.value[self.leaves(x).T]  # (trees, rows): each tree's values contiguous
        total = np.full(len(x), self.base)
        for tree in vals:  # tree after tree, as scikit-learn sums them
            total += tree
        return total / len(vals) if self.mean else total

    def _small_trees(self) -> bool:
        if not len(self.roots):
            return False
        return int(np.add.reduceat(self.leaf.astype(np.int64), self.roots).max()) <= PATHS_UP_TO

    def _predict_by_paths(self, x: np.ndarray) -> np.ndarray:
        """`predict` for trees of few leaves: per tree, the rows each leaf holds (the AND of the tests
        on its path, by the walk's rule), its value put there; the same sums, bit for bit."""
        cols = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)  # a float32 input compares exactly so
        missing = np.isnan(cols)
        n = len(x)
        total = np.full(n, self.base)
        for root in self.roots.tolist():
            tree = np.zeros(n)
            stack: list[tuple[int, np.ndarray | None]] = [(root, None)]  # None: every row
            while stack:
                node, rows = stack.pop()
                if self.leaf[node]:
                    if rows is None:
                        tree[:] = self.value[node]
                    else:
                        tree[rows] = self.value[node]
                    continue
                f = int(self.feature[node])
                left = cols[f] <= self.threshold[node]
                if self.missing_left[node]:
                    left |= missing[f]
                stack.append((int(self.children[2 * node + 1]), ~left if rows is None else rows & ~left))
                stack.append((int(self.children[2 * node]), left if rows is None else rows & left))
            total += tree
        return total / len(self.roots) if self.mean else total
