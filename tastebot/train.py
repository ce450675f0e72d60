"""Training and honest evaluation of the taste model, and its artefacts on disk.

`train_on_frame` is pure (a frame in, a trained model and its metrics out): `tastebot train` and
`benchmarks/taste.py` run the very same code. The evaluation is grouped by primary artist and
stratified by label, so no artist is on both sides and the test part is never seen by training,
early stopping, feature scaling or the blend weight. The validation part (early stopping, blend
weight) is a stratified random part of the rest, since recommending may pick more by liked artists. Beside the MLP, on the same split and with the
same inputs and weights, a majority-class baseline, logistic regression and a random forest are
scored, so the numbers say whether the network earns its keep.

TensorFlow is imported only by `tastebot.models.mlp`, and only when a network is trained or loaded.
"""

from __future__ import annotations

import math
import platform
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

from tastebot.errors import NotEnoughData, TastebotError
from tastebot.evaluation import curves, grouped_folds, random_validation_split, score
from tastebot.models.inputs import FeatureSpec, provenance_counts
from tastebot.models.forest import Forest, taste_score
from tastebot.models.runs import TasteModel, TrainResult, json_safe, save_run
from tastebot import __version__
from tastebot.models.blend import AP_TOLERANCE, MIN_FITTED_WEIGHT, fit_blend_weight_ap
from tastebot.models.collab import HybridScorer
from tastebot.models.collab import fingerprint as collab_fingerprint
from tastebot.models.corpus import CorpusData
from tastebot.models.ranking_rows import RankingData
from tastebot.models.ranking_rows import fit_ranking as fit
from tastebot.store import open_store
from tastebot.store.library_rows import LABELLED_FRAME_COLUMNS

if TYPE_CHECKING:
    from tastebot.store.readers import ModelReader

METRICS_FORMAT = "tastebot-metrics/1"
# Below this many likes or dislikes a single held-out test part is too small to mean anything.
MIN_PER_CLASS_HOLDOUT = 40
# Below this, not even cross-validation can say anything.
MIN_PER_CLASS = 5
TEST_FOLDS = 5  # one fold of five (20 %) is the test part
VAL_FOLDS = 5  # of the rest, one random fold of five is the validation part (early stopping, blend weight)
DEFAULT_ENSEMBLE = 3
# A weak negative (a random track the listener showed no sign of knowing) is an educated guess,
# not a statement: it counts at most half of what an explicit dislike with weight 1 counts.
WEAK_FACTOR = 0.5
# After early stopping has found the best number of epochs, train again on all non-test rows for
# that many: on the real-playlist benchmark this gains about 0.005 ROC-AUC.
REFIT = True

ProgressFn = Callable[[str, int, int], None]
ObserverFn = Callable[[str, np.ndarray], None]
HybridFitFn = Callable[[pd.DataFrame], Any]


# -- labels, weights, groups -------------------------------------------------------------------
def _labels(frame: pd.DataFrame) -> np.ndarray:
    if "label" not in frame.columns:
        raise NotEnoughData("The tracks carry no likes or dislikes: run `tastebot harvest` first.")
    return pd.to_numeric(frame["label"], errors="coerce").to_numpy(dtype=float)


def _groups(frame: pd.DataFrame) -> np.ndarray:
    """The primary artist of each track; a track without one is its own group."""
    ids = frame["track_id"].astype(str).to_numpy() if "track_id" in frame.columns else np.arange(len(frame)).astype(str)
    if "primary_artist_id" not in frame.columns:
        return ids
    artists = frame["primary_artist_id"].to_numpy(dtype=object)
    return np.array([str(a) if isinstance(a, str) and a else f"track:{t}" for a, t in zip(artists, ids)])


def sample_weights(frame: pd.DataFrame) -> np.ndarray:
    """Source weights from the store; weak negatives count at most WEAK_FACTOR of an explicit one."""
    if "weight" in frame.columns:
        w = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
        w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
    else:
        w = np.ones(len(frame))
    if "strength" in frame.columns:
        weak = frame["strength"].astype(str).str.lower().eq("weak").to_numpy()
        w = np.where(weak, np.minimum(w, 1.0) * WEAK_FACTOR, w)
    return w


def class_weights(y: np.ndarray, w: np.ndarray) -> dict[int, float]:
    """Weights that give likes and dislikes the same total say, whatever their counts."""
    total = float(w.sum())
    out = {}
    for c in (0, 1):
        wc = float(w[y == c].sum())
        out[c] = total / (2.0 * wc) if wc > 0 else 1.0
    return out


# -- the split ---------------------------------------------------------------------------------------
def split_holdout(frame: pd.DataFrame, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(development rows, test rows) as positions in `frame`: the split `train_on_frame` uses in
    hold-out mode. It depends only on labels, artists and the seed, never on features."""
    y = _labels(frame)
    groups = _groups(frame)
    folds = grouped_folds(y, groups, TEST_FOLDS, seed)
    if not folds:
        raise NotEnoughData("Too few artists to hold any of them out for testing.")
    return folds[0]


# -- baselines ------------------------------------------------------------------------------------
BASELINES = ("majority", "logistic_regression", "random_forest")


def fit_baselines(x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int) -> dict[str, Any]:
    """The peers the network must beat, fitted on exactly its inputs and weights."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression


    cw = class_weights(y, w)
    balanced = w * np.where(y == 1, cw[1], cw[0])
    models: dict[str, Any] = {
        "majority": DummyClassifier(strategy="prior"),
        "logistic_regression": LogisticRegression(max_iter=2000, C=1.0),
    }
    for name, model in models.items():
        # The majority class is the one with more tracks, as a listener would see it (unweighted).
        model.fit(x, y.astype(int), sample_weight=None if name == "majority" else balanced)
    # The forest is also the taste model's second member: the very same one (models/forest.py).
    models["random_forest"] = Forest.fit(x, y, balanced, seed).model
    return models


def fit_forest(t: "_Trainer", spec: FeatureSpec, rows: np.ndarray):
    """The taste model's forest on `rows`, weighted as the baseline forest is."""
    t.observer("baseline_fit", rows)
    y, w = t.y[rows], t.w[rows]
    cw = class_weights(y, w)
    return Forest.fit(spec.transform(t.frame.iloc[rows]), y, w * np.where(y == 1, cw[1], cw[0]), t.seed)


def _proba(model: Any, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(x)[:, 1]


# -- training ---------------------------------------------------------------------------------------
def _check_data(frame: pd.DataFrame) -> tuple[np.ndarray, int, int]:
    y = _labels(frame)
    if np.isnan(y).any() or not np.isin(y, (0, 1)).all():
        raise NotEnoughData("Some tracks have a label other than like (1) or dislike (0); the store is inconsistent.")
    n_like, n_dislike = int((y == 1).sum()), int((y == 0).sum())
    if n_like < MIN_PER_CLASS or n_dislike < MIN_PER_CLASS:
        advice = (
            "harvest with `--sampled-negatives always` or add a `--dislike-playlist`"
            if n_dislike < MIN_PER_CLASS
            else "save or play more tracks on Spotify and run `tastebot harvest`"
        )
        raise NotEnoughData(
            f"Only {n_like} likes and {n_dislike} dislikes: tastebot needs at least {MIN_PER_CLASS} of each to "
            f"learn anything ({MIN_PER_CLASS_HOLDOUT} of each for a held-out test); {advice}."
        )
    return y, n_like, n_dislike


def _data_counts(frame: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    strength = frame["strength"].astype(str).str.lower().to_numpy() if "strength" in frame.columns else np.array(["explicit"] * len(frame))
    by_kind: dict[str, int] = {}
    for label, s in zip(y, strength):
        key = f"{s}_{'like' if label == 1 else 'dislike'}"
        by_kind[key] = by_kind.get(key, 0) + 1
    by_source: dict[str, dict[str, int]] = {}
    if "sources" in frame.columns:
        for label, raw in zip(y, frame["sources"].tolist()):
            names = [s.strip() for s in str(raw).split(",") if s.strip()] if isinstance(raw, str) else ["unknown"]
            for name in names or ["unknown"]:
                entry = by_source.setdefault(name, {"likes": 0, "dislikes": 0})
                entry["likes" if label == 1 else "dislikes"] += 1
    return {
        "tracks": int(len(frame)),
        "likes": int((y == 1).sum()),
        "dislikes": int((y == 0).sum()),
        "artists": int(len(np.unique(_groups(frame)))),
        "by_kind": dict(sorted(by_kind.items())),
        "by_source": dict(sorted(by_source.items())),
    }


class _Trainer:
    """One training run's state: the frame, its inputs, and where progress goes."""
    def __init__(self, frame, *, epochs, seed, ensemble, progress, observer, hybrid_fit, unheard_tracks=None):
        self.frame = frame.reset_index(drop=True)
        self.epochs = int(epochs)
        self.seed = int(seed)
        self.ensemble_size = max(1, int(ensemble))
        self.progress = progress
        self.observer = observer or (lambda stage, idx: None)
        self.hybrid_fit = hybrid_fit
        self.unheard_tracks = unheard_tracks
        self.held_out: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, taste scores of members that never saw them)
        self.y = _labels(self.frame)
        self.w = sample_weights(self.frame)
        self.groups = _groups(self.frame)
        self.done_epochs = 0
        self.total_epochs = 0
        self.histories: list[dict[str, Any]] = []
        self.batch_size: int | None = None
        self.class_weight: dict[int, float] = {}
        self.last_model = None
        self.honest_forest: Future | None = None  # random_part's forest, growing beside the networks

    def _tick(self, what: str) -> None:
        self.done_epochs += 1
        if self.progress:
            self.progress(what, self.done_epochs, self.total_epochs)

    def fit_networks(self, dev: np.ndarray, spec: FeatureSpec, label: str, *, honest_forest: bool = False):
        """The ensemble on `dev` rows. First trained on four fifths of `dev` with early stopping on
        a random, stratified fifth (not grouped by artist: it stands for recommending), which finds
        the best number of epochs; then, since the validation rows are too valuable to leave out,
        trained afresh on all of `dev` for that many epochs (REFIT). Returns (Ensemble, (train rows, validation rows, validation scores of the
        early-stopped networks, which never learnt from those rows)) for the blend weight.
        `honest_forest`: the forest of the train rows that scores the validation part (`random_part`)
        grows in a second thread meanwhile (its compiled loops release the GIL, as TensorFlow's steps do)."""
        from tastebot.models import mlp

        x_all = spec.transform(self.frame.iloc[dev])
        y_dev, w_dev = self.y[dev], self.w[dev]
        # Random, not grouped by artist: this part also fits the blend weight, which must see what
        # recommending sees (other tracks by liked artists). The test part stays grouped.
        split = random_validation_split(y_dev, VAL_FOLDS, self.seed + 1)
        if split is not None:
            tr, va = split
        else:  # a class too small to hold any of it out: no early stopping, all epochs
            tr, va = np.arange(len(dev)), np.zeros(0, dtype=int)
        self.observer("fit_train", dev[tr])
        self.observer("fit_validation", dev[va])
        if honest_forest and len(va):
            self.honest_forest = _background(
                lambda: fit_forest(self, spec, dev[tr]).score(spec.transform(self.frame.iloc[dev[va]])))
        cw = class_weights(y_dev[tr], w_dev[tr])
        # The network of the previous fold, else one an earlier training in the process handed back.
        reuse = self.last_model if self.last_model is not None else mlp.spare(x_all.shape[1], self.ensemble_size)
        fit = mlp.fit(
            x_all[tr], y_dev[tr], w_dev[tr], x_all[va], y_dev[va], w_dev[va],
            epochs=self.epochs, seed=self.seed, towers=self.ensemble_size, class_weight=cw, reuse=reuse,
            on_epoch=lambda e, logs: self._tick(f"{label}training"),
        )
        # Early stopping skips epochs: count them as done so the bar ends at its total.
        self.done_epochs += self.epochs - fit.epochs_run
        val_scores = mlp.predict(fit.model, x_all[va]) if len(va) else np.zeros(0)
        self._history(label, fit, len(tr), len(va), refit=False)
        model, self.class_weight = fit.model, cw
        if REFIT and len(va):
            best = fit.best_epoch + 1
            self.total_epochs += best
            self.observer("refit_train", dev)
            cw = class_weights(y_dev, w_dev)
            # The same seed: the same random start, now learning from every development row.
            refit = mlp.fit(
                x_all, y_dev, w_dev, x_all[:0], y_dev[:0], w_dev[:0],
                epochs=best, seed=self.seed, towers=self.ensemble_size, class_weight=cw, reuse=fit.model,
                on_epoch=lambda e, logs: self._tick(f"{label}training on all (best epoch count)"),
            )
            self._history(label, refit, len(dev), 0, refit=True)
            model, self.class_weight = refit.model, cw
        self.last_model = model
        self.batch_size = fit.batch_size
        return mlp.Ensemble(model), (dev[tr], dev[va], val_scores)

    def _history(self, label: str, fit, train_rows: int, val_rows: int, *, refit: bool) -> None:
        self.histories.append({
            "stage": (label.strip() or "final") + (" refit" if refit else ""),
            "best_epoch": fit.best_epoch + 1, "epochs_run": fit.epochs_run,
            "train_rows": int(train_rows), "validation_rows": int(val_rows),
            "epochs": [
                {"epoch": i + 1, **{k: round(v[i], 6) for k, v in fit.history.items() if i < len(v)}}
                for i in range(fit.epochs_run)
            ],
        })

    def fit_blend(self, part) -> dict[str, Any]:
        """The blend weight of MLP and hybrid score, fitted on a validation part (never test), with
        the scores of networks that did not learn from it."""

        train_rows, val_rows, mlp_scores = part
        if self.hybrid_fit is None:
            return {"weight": 1.0, "reason": "no hybrid scorer available (no store or corpus): the MLP alone"}
        if len(val_rows) == 0 or len(np.unique(self.y[val_rows])) < 2:
            return {"weight": 1.0, "reason": "no validation part with both likes and dislikes"}
        profile = self.frame.iloc[train_rows][self.y[train_rows] == 1]
        val_frame = self.frame.iloc[val_rows]
        try:
            scorer = self.hybrid_fit(profile)
            hybrid = np.asarray(scorer.score(val_frame), dtype=float)
        except TastebotError as exc:
            return {"weight": 1.0, "reason": f"hybrid score unavailable: {exc.message}"}
        except Exception as exc:  # a failing optional part must not cost the user the trained model
            return {"weight": 1.0, "reason": f"hybrid score failed ({type(exc).__name__}: {exc})"}
        w, details = fit_blend_weight_ap(self.y[val_rows], mlp_scores, hybrid)
        reason = (f"the smallest w (grid of 21 over [0, 1]) within {AP_TOLERANCE} of the best average precision of the blend "
                  "on a stratified random validation part of the training rows (not grouped by artist, as "
                  f"recommending is not), at least {MIN_FITTED_WEIGHT}; hybrid score fitted on the other training likes, "
                  "without the own playlists")
        return {"weight": float(w), "reason": reason, "validation_rows": int(len(val_rows)), "details": details}

    def evaluate(self, dev: np.ndarray, test: np.ndarray, label: str = "", *, honest_forest: bool = False):
        """Fit preprocessing, networks and baselines on `dev`; predict `test`, which none of them saw.
        `honest_forest`: also the forest `random_part` needs (see `fit_networks`)."""
        self.observer("spec_fit", dev)
        spec = FeatureSpec.fit(self.frame.iloc[dev])
        x_dev = spec.transform(self.frame.iloc[dev])
        x_test = spec.transform(self.frame.iloc[test])
        # The baselines first: they need no network, so they overlap TensorFlow's import (`mlp.preload`).
        self.observer("baseline_fit", dev)
        baselines = fit_baselines(x_dev, self.y[dev], self.w[dev], self.seed)
        ens, parts = self.fit_networks(dev, spec, label, honest_forest=honest_forest)
        preds = {"mlp": ens.predict(x_test)}
        for name, model in baselines.items():
            preds[name] = _proba(model, x_test)
        preds["taste"] = taste_score(preds["mlp"], preds["random_forest"])
        return spec, ens, parts, preds, Forest(baselines["random_forest"])

    def random_part(self, spec: FeatureSpec, parts) -> tuple[np.ndarray, np.ndarray]:
        """The random validation part with taste scores of members that never learnt from it (the
        early-stopped networks' scores, a forest fitted on the training rows only)."""
        train_rows, val_rows, mlp_scores = parts
        if len(val_rows) == 0:
            return val_rows, mlp_scores
        forest = self.honest_forest.result() if self.honest_forest is not None else \
            fit_forest(self, spec, train_rows).score(spec.transform(self.frame.iloc[val_rows]))
        self.honest_forest = None
        return val_rows, taste_score(mlp_scores, forest)


def _background(work: Callable[[], Any]) -> Future:
    """`work` in a thread of its own; `.result()` waits for it (and raises what it raised)."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(work)
    finally:
        pool.shutdown(wait=False)


@dataclass
class _Evaluation:
    """What one training run measured: the mode, the split, the held-out labels and every model's
    scores on them, and the preprocessing, networks and validation part the user keeps."""

    mode: str
    reason: str
    split: dict[str, Any]
    y: np.ndarray
    preds: dict[str, np.ndarray]
    spec: FeatureSpec
    ensemble: Any
    forest: Forest
    parts: tuple


def _holdout(t: "_Trainer", folds, n_like: int, n_dislike: int) -> _Evaluation:
    """One grouped, stratified test part; the networks the user keeps are those that were tested."""
    dev, test = folds[0]
    t.total_epochs = t.epochs
    t.observer("test", test)
    spec, ens, parts, preds, forest = t.evaluate(dev, test, honest_forest=True)
    y_eval = t.y[test]
    val_rows = len(parts[1])  # the networks' final training used these rows too (REFIT)
    split = {"train": int(len(dev) - val_rows), "validation": int(val_rows), "test": int(len(test)),
             "test_likes": int((y_eval == 1).sum()), "test_dislikes": int((y_eval == 0).sum()),
             "test_artists": int(len(np.unique(t.groups[test])))}
    # Held-out likes for the learned ranking, with taste scores of members that never learnt from
    # them: the test part (artists the model never saw) and the random validation part (other
    # tracks of liked artists, as recommending also meets them).
    t.held_out = [(test, preds["taste"]), t.random_part(spec, parts)]
    reason = f"{n_like} likes and {n_dislike} dislikes: one held-out test part of about 1/{TEST_FOLDS}, grouped by artist"
    return _Evaluation("holdout", reason, split, y_eval, preds, spec, ens, forest, parts)


def _cross_validation(t: "_Trainer", folds, n_like: int, n_dislike: int) -> _Evaluation:
    """Grouped cross-validation gives the scores (each track predicted by models that never saw it);
    the model the user keeps then learns from every track."""
    t.total_epochs = t.epochs * (len(folds) + 1)
    oof = {name: np.full(len(t.frame), np.nan) for name in ("mlp", "taste", *BASELINES)}
    covered = np.zeros(len(t.frame), dtype=bool)
    for i, (dev, test) in enumerate(folds):
        t.observer("test", test)
        _, _, _, preds_fold, _ = t.evaluate(dev, test, label=f"fold {i + 1}/{len(folds)} ")
        t.held_out.append((test, preds_fold["taste"]))
        for name, p in preds_fold.items():
            oof[name][test] = p
        covered[test] = True
    eval_rows = np.flatnonzero(covered)
    y_eval = t.y[eval_rows]
    all_rows = np.arange(len(t.frame))
    t.observer("spec_fit", all_rows)
    spec = FeatureSpec.fit(t.frame)
    ens, parts = t.fit_networks(all_rows, spec, "final ", honest_forest=True)
    t.held_out.append(t.random_part(spec, parts))
    split = {"folds": len(folds), "evaluated": int(len(eval_rows)),
             "test_likes": int((y_eval == 1).sum()), "test_dislikes": int((y_eval == 0).sum())}
    reason = (
        f"only {n_like} likes and {n_dislike} dislikes (fewer than {MIN_PER_CLASS_HOLDOUT} of each): "
        f"scores come from {len(folds)}-fold cross-validation grouped by artist, not from one small test part"
    )
    return _Evaluation("cross-validation", reason, split, y_eval, {n: p[eval_rows] for n, p in oof.items()},
                       spec, ens, fit_forest(t, spec, all_rows), parts)


def _metrics(t: "_Trainer", ev: _Evaluation, blend_info: dict[str, Any], started: float) -> dict[str, Any]:
    """metrics.json: what was measured and how, with every setting and version that made it."""
    from tastebot.models import mlp
    import sklearn

    return {
        "format": METRICS_FORMAT,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": ev.mode,
        "mode_reason": ev.reason,
        "data": _data_counts(t.frame, t.y),
        "split": ev.split,
        "features": {
            **provenance_counts(t.frame),
            "inputs": ev.spec.n_features,
            "input_names": ev.spec.feature_names,
            "unused": ev.spec.unused,
        },
        "settings": {
            "epochs": t.epochs, "seed": t.seed, "ensemble": t.ensemble_size, "batch_size": t.batch_size,
            "class_weight": t.class_weight,
            "hidden_units": list(mlp.HIDDEN_UNITS), "dropout": mlp.DROPOUT, "l2": mlp.L2,
            "learning_rate": mlp.LEARNING_RATE, "decay": f"inverse time, rate {mlp.DECAY_RATE} per epoch",
            "early_stopping": f"validation AUC, patience {mlp.PATIENCE}, best weights restored",
            "refit_on_all_training_rows": REFIT,
            "weak_negative_factor": WEAK_FACTOR, "test_folds": TEST_FOLDS, "validation_folds": VAL_FOLDS,
            "min_per_class_holdout": MIN_PER_CLASS_HOLDOUT,
        },
        "versions": {
            "tastebot": __version__, **mlp.versions(), "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "pandas": pd.__version__, "python": platform.python_version(),
        },
        "scores": {name: score(ev.y, p) for name, p in ev.preds.items()},
        "curves": {name: curves(ev.y, ev.preds[name]) for name in ("taste", "mlp", "logistic_regression", "random_forest")},
        "blend": blend_info,
        "history": t.histories,
        "timing": {"train_seconds": round(time.perf_counter() - started, 2)},
    }


def train_on_frame(
    frame: pd.DataFrame,
    *,
    epochs: int = 30,
    seed: int = 0,
    ensemble: int = DEFAULT_ENSEMBLE,
    progress: ProgressFn | None = None,
    observer: ObserverFn | None = None,
    hybrid_fit: HybridFitFn | None = None,
    unheard_tracks: Callable[[Sequence[str] | None], pd.DataFrame] | None = None,
) -> TrainResult:
    """Train the taste model on a labelled frame (the columns of `Store.labelled_tracks()`).

    With at least 40 likes and 40 dislikes: one grouped, stratified hold-out split; the networks
    and baselines learn on the rest and are scored on the test part. With fewer: grouped
    cross-validation gives the scores (each track predicted by models that never saw it), then a
    final model learns from everything. `observer(stage, rows)` is told which rows each stage
    learns from (for tests); `hybrid_fit(profile_frame)` returns a scorer for the blend weight.
    """
    started = time.perf_counter()
    y, n_like, n_dislike = _check_data(frame)
    t = _Trainer(frame, epochs=epochs, seed=seed, ensemble=ensemble, progress=progress, observer=observer,
                 hybrid_fit=hybrid_fit, unheard_tracks=unheard_tracks)
    n_groups = len(np.unique(t.groups))
    holdout = n_like >= MIN_PER_CLASS_HOLDOUT and n_dislike >= MIN_PER_CLASS_HOLDOUT and n_groups >= TEST_FOLDS
    folds = grouped_folds(t.y, t.groups, TEST_FOLDS, seed)
    if not folds:
        raise NotEnoughData(
            f"The {n_like} likes and {n_dislike} dislikes come from too few artists ({n_groups}) to test the model "
            "on artists it never saw: harvest more."
        )
    from tastebot.models import mlp

    # Networks will be trained: TensorFlow imports in the background while the baselines are fitted.
    mlp.preload()
    try:
        ev = (_holdout if holdout else _cross_validation)(t, folds, n_like, n_dislike)
    finally:
        mlp.preloaded()  # its import redirects stderr until it ends: never leave with it running
    metrics = _metrics(t, ev, t.fit_blend(ev.parts), started)
    model = TasteModel(spec=ev.spec, ensemble=ev.ensemble, metrics=metrics, forest=ev.forest)
    if progress:
        progress("learning the ranking", t.done_epochs, t.total_epochs)
    taste = TasteOnce(model)
    model.ranking, metrics["ranking"] = fit_ranking(t, taste)
    return TrainResult(model=model, metrics=metrics, taste=taste)


class TasteOnce:
    """The trained taste model's scores, each track scored once per training: the ranking's rows and
    the corpus scan (`scan_corpus_taste`) both score every corpus track with audio features (on a
    28,000-track corpus 1.5-1.8 s of CPU each time). Keyed by track id: within one training one id is
    one row of features (the store's)."""

    def __init__(self, model: TasteModel):
        self.model = model
        self.scores: dict[str, float] = {}

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if "track_id" not in frame.columns:
            return np.asarray(self.model.predict(frame), dtype=float)
        ids = frame["track_id"].astype(str).tolist()
        new = [i for i, t in enumerate(ids) if t not in self.scores]
        if new:
            self.scores.update(zip((ids[i] for i in new),
                                   np.asarray(self.model.predict(frame.iloc[new]), dtype=float).tolist()))
        return np.fromiter((self.scores[t] for t in ids), dtype=float, count=len(ids))


# -- the ranking ---------------------------------------------------------------------------------------
def fit_ranking(t: _Trainer, taste: TasteOnce):
    """What recommend ranks by, chosen on likes of held-out contexts (tastebot.models.ranking_rows).
    Returns (Ranking or None, info for metrics.json); None without a collaborative scorer: the
    linear blend."""

    if t.hybrid_fit is None:
        return None, {"used": False, "reason": "no collaborative scorer: the linear blend"}
    return fit(RankingData(frame=t.frame, y=t.y.astype(int), held_out=t.held_out, hybrid_fit=t.hybrid_fit,
                           unheard_tracks=t.unheard_tracks, taste=taste.predict, seed=t.seed))


# -- from the store ------------------------------------------------------------------------------------
def _corpus_once(store: ModelReader) -> Callable[[], CorpusData]:
    """The imported corpus, read from the store at the first call and then kept: the validation fits
    and the saved scorer share one read (a whole-MPD corpus is half a gigabyte and most of a minute to
    load). Not before it is needed: the networks' fits come first, and the corpus beside their peak
    would add to it."""
    loaded: list[CorpusData] = []

    def corpus() -> CorpusData:
        if not loaded:
            loaded.append(CorpusData.from_store(store, include_own=False))
        return loaded[0]

    return corpus


def _hybrid_factory(corpus: Callable[[], CorpusData]) -> HybridFitFn:
    """Fits on the imported corpus alone. The user's own playlists hold the held-out likes and would
    give them away; at recommend time no candidate is in them, so the parts are scored without them."""

    def fit(profile: pd.DataFrame):
        return HybridScorer.fit(corpus(), profile)

    return fit


def _unheard_factory(store: ModelReader) -> Callable[[Sequence[str] | None], pd.DataFrame]:
    """Corpus tracks for the ranking's unheard examples: all with features (None), or these ids."""
    def tracks(ids: Sequence[str] | None) -> pd.DataFrame:
        if ids is None:
            return store.corpus_tracks_frame(with_features=True)
        return store.corpus_tracks_frame(list(ids))

    return tracks


# Unheard corpus tracks (with audio features) learnt as weak negatives, per like, at most this many:
# the taste model then tells likes from what is merely out there, not only from the dislikes (on
# benchmarks/recommend.py's persona protocol this is what scoring every unheard track needs).
CORPUS_NEGATIVES_PER_LIKE = 3.0
MAX_CORPUS_NEGATIVES = 5000
CORPUS_NEGATIVE_WEIGHT = 0.3  # as the harvest's sampled random negatives (harvest.SOURCES)


def corpus_negatives(store: ModelReader, labelled: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A seeded draw of corpus tracks with features that the listener does not know, labelled as weak
    dislikes (rows in the labelled frame's columns). They live only in the training frame: they are
    not signals, so they stay recommendable."""

    likes = int((pd.to_numeric(labelled["label"], errors="coerce") == 1).sum()) if len(labelled) else 0
    n = min(int(likes * CORPUS_NEGATIVES_PER_LIKE), MAX_CORPUS_NEGATIVES)
    pool = store.corpus_tracks_frame(with_features=True) if n else pd.DataFrame()
    if not len(pool):
        return pd.DataFrame(columns=list(LABELLED_FRAME_COLUMNS))
    known = store.known_track_ids() | set(labelled["track_id"].astype(str))
    pool = pool[~pool["track_id"].isin(known)]
    pool = pool.iloc[np.sort(np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False))]
    out = pool.rename(columns={"artist_id": "primary_artist_id"}).assign(
        artist_ids=lambda f: f["primary_artist_id"], label=0, strength="weak", weight=CORPUS_NEGATIVE_WEIGHT,
        sources="corpus_sampled", last_signal_at=None, feature_provider="corpus")
    for col in LABELLED_FRAME_COLUMNS:
        if col not in out.columns:
            out[col] = None
    return out[list(LABELLED_FRAME_COLUMNS)].reset_index(drop=True)


def store_age_seconds(store: ModelReader) -> float | None:
    """Seconds since the last harvest that finished (done or interrupted with progress saved), or
    None when the store was never harvested."""
    runs = store.harvest_runs()
    finished = [r.get("finished_at") for r in runs if r.get("finished_at") and r.get("status") != "failed"]
    if not finished:
        return None
    try:
        when = datetime.fromisoformat(str(max(finished)).replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (datetime.now(timezone.utc) - when).total_seconds())


def train_from_store(
    settings,
    *,
    epochs: int = 30,
    seed: int = 0,
    ensemble: int = DEFAULT_ENSEMBLE,
    progress: ProgressFn | None = None,
    use_corpus_negatives: bool = True,
) -> TrainResult:
    """Train on the store's labelled tracks (and, with `use_corpus_negatives`, unheard corpus tracks as
    weak negatives) and save the run. The caller holds the home lock."""

    if not Path(settings.store_path).exists():
        raise NotEnoughData("Nothing harvested yet: run `tastebot harvest` first.")
    store = open_store(settings)
    try:
        labelled = store.labelled_tracks()
        extra = corpus_negatives(store, labelled, seed) if use_corpus_negatives else labelled.iloc[0:0]
        frame = pd.concat([labelled, extra], ignore_index=True) if len(extra) else labelled
        # One read of the corpus for every fit: the validation fits see it alone, the saved scorer
        # with the own playlists.
        corpus = _corpus_once(store)
        result = train_on_frame(frame, epochs=epochs, seed=seed, ensemble=ensemble, progress=progress,
                                hybrid_fit=_hybrid_factory(corpus), unheard_tracks=_unheard_factory(store))
        # Everything collaborative is fitted once here, on every like, and saved with the run.
        result.collab = HybridScorer.fit(corpus().with_own(store), labelled, seed=seed)
        del corpus
        result.collab_fingerprint = collab_fingerprint(store, labelled)
        from tastebot.recommend.retrievers.taste import scan_corpus_taste  # a large corpus is scored once, here

        # The ranking's rows scored the corpus with this very model: the scan reads those scores.
        result.taste_corpus = scan_corpus_taste(store, result.taste or result.model,
                                                store.known_track_ids() | set(labelled["track_id"]))
        result.taste = None  # scores by id: not kept past the training
        result.metrics["data"]["corpus_negatives"] = int(len(extra))
    finally:
        store.close()
    save_run(settings, result)
    # Saved: from here on the run scores as a loaded one does, and its network is free to recycle.
    result.model.ensemble.hand_back()
    return result


def summary_for_json(metrics: dict[str, Any], run_dir: Path | None) -> dict[str, Any]:
    """What `tastebot train --json` prints: the run's headline facts (metrics.json has everything)."""
    keep = ("run_id", "created_at", "mode", "mode_reason", "data", "split", "scores", "blend", "ranking", "settings", "versions", "timing")
    out = {k: metrics[k] for k in keep if k in metrics}
    features = dict(metrics.get("features", {}))
    features.pop("input_names", None)
    out["features"] = features
    out["run_dir"] = str(run_dir) if run_dir else None
    return json_safe(out)


def summary_rows(metrics: dict[str, Any]) -> list[list[str]]:
    """Rows of the evaluation table: model, then each score, formatted."""
    names = {"taste": "taste model (MLP + forest)", "mlp": "MLP alone", "majority": "majority class", "logistic_regression": "logistic regression",
             "random_forest": "random forest"}
    rows = []
    for key, label in names.items():
        s = metrics.get("scores", {}).get(key)
        if not s:
            continue
        rows.append([label] + [("—" if s.get(m) is None or (isinstance(s.get(m), float) and math.isnan(s[m])) else f"{s[m]:.3f}")
                               for m in SCORE_NAMES])
    return rows


SCORE_NAMES: Sequence[str] = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc")
