"""The taste network: the only module of tastebot that imports TensorFlow / Keras.

The network of the card: three hidden layers, each Dense -> BatchNormalization -> LeakyReLU ->
Dropout, and a sigmoid output (the probability that the listener likes the track). Adam with an
inverse-time decay of the learning rate from 0.01; early stopping on a validation part the caller
carves from the training data, keeping the best weights.

A small ensemble of such networks, each from its own random start, is steadier than one. The
members are independent "towers" side by side in ONE Keras model (no weights shared; the loss is
the mean of their own losses, so each learns on its own gradient): one graph to trace and one
training loop instead of one per member, which on small data is most of the time. The score is the
mean of the towers' probabilities.

TensorFlow is imported inside the functions, never at module top: importing this module is cheap,
so `tastebot --help` and everything that does not train or score stays fast.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from tastebot.errors import ModelError

HIDDEN_UNITS = (128, 64, 32)
DROPOUT = 0.3
L2 = 1e-4
LEARNING_RATE = 0.01
DECAY_RATE = 0.5  # the rate after s steps is 0.01 / (1 + 0.5 s / DECAY_STEPS)
# About one epoch at the batch size `batch_size_for` picks (20 steps). A constant, not the exact
# steps of each run, so a network of the same shape can recycle its traced graph across folds.
DECAY_STEPS = 20
PATIENCE = 8
PREDICT_BATCH = 8192
# Rows per step of the NumPy forward pass (`Forward`): a step's activations stay in the processor's cache.
FORWARD_BATCH = 2048
# Inputs are padded with zero columns up to a multiple of this. The folds of one cross-validated
# training differ by a few one-hot columns, and only a network of the same width can recycle its
# traced training graph: tracing afresh is most of a small fit (about 4 s of 5 on a thin library).
# A zero column changes nothing the network computes (its weights get no gradient).
INPUT_BUCKET = 32
MODEL_FILE = "network.keras"
# The same weights as arrays, which a saved run is scored from without TensorFlow (`Forward`).
WEIGHTS_FILE = "network.npz"
# Each tower learns from its own bootstrap resample of the rows (Poisson(1) weights, as in
# bagging): towers that see different data disagree more, and their mean is steadier.
BOOTSTRAP = True


_imported = False
# The background import `preload` started, if any (joined before anything else imports TensorFlow).
_preloading: threading.Thread | None = None


def _keras():
    """TensorFlow's Keras, quiet. Imported on first use only (or in the background by `preload`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    preloaded()
    if not _imported:
        _import_quietly(show_failure=True)  # also after a failed preload: here its failure is shown
    import keras

    return keras


def _import_quietly(*, show_failure: bool) -> None:
    """TensorFlow's native libraries write start-up notices (absl, the CUDA stub) straight to file
    descriptor 2 before any log level applies, so the import runs with fd 2 pointed at a temporary
    file; what it wrote is shown only if the import fails (not when Ctrl-C stops it: those notices
    came after the clean "Interrupted" message)."""
    global _imported
    import sys
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import keras  # noqa: F401  (imports tensorflow as its backend)
            import tensorflow  # noqa: F401  (its lazy parts print on first use too)

            tensorflow.config.list_physical_devices("CPU")
        except Exception:
            os.dup2(saved, 2)
            if not show_failure:  # the background import: `_keras` tries again and shows why
                return
            sink.seek(0)
            sys.stderr.write(sink.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    _imported = True


def preload() -> None:
    """Start importing TensorFlow in a background thread (3-5 s of CPU): a training calls this once it
    knows it will train, and fits what needs no network meanwhile (the baseline forests release the
    GIL in their compiled loops, so the two overlap on two cores). Until the import ends, fd 2 points
    at the import's temporary file (see `_import_quietly`): the caller joins it (`preloaded`) before
    anything of its own may write there."""
    global _preloading
    if _imported or _preloading is not None:
        return
    _preloading = threading.Thread(target=_import_quietly, kwargs={"show_failure": False},
                                   name="tensorflow-import", daemon=True)
    _preloading.start()


def preloaded() -> None:
    """Wait for the background import, if one is running (stderr is the terminal again after)."""
    global _preloading
    if _preloading is not None:
        _preloading.join()
        _preloading = None


def batch_size_for(n_rows: int) -> int:
    """About 20 steps an epoch, a power of two between 32 and 512: small data gets small batches
    (enough updates to learn), large data large ones (fast epochs)."""
    target = max(1, n_rows // 20)
    size = 1 << max(0, int(round(np.log2(target))))
    return int(min(512, max(32, size)))


def build_model(n_inputs: int, *, towers: int = 1):
    """`towers` independent networks side by side; the output has one probability per tower. The
    shape is this module's constants alone, so (seed, inputs, towers) names a start (`_STARTS`)."""
    keras = _keras()
    units, dropout, l2, learning_rate = HIDDEN_UNITS, DROPOUT, L2, LEARNING_RATE
    layers = keras.layers
    inputs = keras.Input(shape=(n_inputs,), name="features")
    outputs = []
    for t in range(towers):
        x = inputs
        for i, n in enumerate(units):
            x = layers.Dense(n, use_bias=False, kernel_regularizer=keras.regularizers.l2(l2), name=f"t{t}_dense_{i}")(x)
            x = layers.BatchNormalization(name=f"t{t}_norm_{i}")(x)
            x = layers.LeakyReLU(negative_slope=0.1, name=f"t{t}_act_{i}")(x)
            x = layers.Dropout(dropout, name=f"t{t}_dropout_{i}")(x)
        outputs.append(layers.Dense(1, activation="sigmoid", name=f"t{t}_like")(x))
    out = outputs[0] if towers == 1 else layers.Concatenate(name="likes")(outputs)
    model = keras.Model(inputs, out, name="taste_mlp")
    schedule = keras.optimizers.schedules.InverseTimeDecay(
        initial_learning_rate=learning_rate, decay_steps=DECAY_STEPS, decay_rate=DECAY_RATE
    )
    # The loss is applied by tastebot's own loop (`_train_step`); compiled for the optimizer and so
    # that predict_on_batch has its traced step. XLA compiling costs seconds and buys nothing here.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss=_tower_loss, jit_compile=False)
    return model


def _tower_loss(y_true, y_pred):
    """The mean of each tower's own cross-entropy. y_true carries, per tower, the label and then the
    tower's bootstrap weight of the row: (N, 2 * towers)."""
    keras = _keras()
    ops = keras.ops
    towers = y_pred.shape[-1]
    labels, boot = y_true[:, :towers], y_true[:, towers:]
    bce = ops.binary_crossentropy(labels, y_pred)
    return ops.mean(bce * boot, axis=-1)


def padded_width(n_inputs: int) -> int:
    return -(-int(n_inputs) // INPUT_BUCKET) * INPUT_BUCKET


def _pad(x: np.ndarray, width: int) -> np.ndarray:
    """x as float32 with zero columns appended up to `width` (see INPUT_BUCKET)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] >= width:
        return x
    return np.hstack([x, np.zeros((len(x), width - x.shape[1]), dtype=np.float32)])


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1], one per row (mean over towers). Calls the model directly in chunks of
    PREDICT_BATCH rows: no graph to trace, so scoring a few rows is as quick as scoring many."""
    x = _pad(x, int(model.input_shape[-1]))
    if len(x) == 0:
        return np.zeros(0)
    parts = []
    for start in range(0, len(x), PREDICT_BATCH):
        p = np.asarray(model(x[start:start + PREDICT_BATCH], training=False), dtype=float)
        parts.append(p.reshape(len(p), -1).mean(axis=1))
    return np.clip(np.concatenate(parts), 0.0, 1.0)


def _validation_scores(model: Any, x_val: np.ndarray, y_val: np.ndarray, w_val: np.ndarray) -> dict[str, float]:
    """val_auc / val_loss of the towers' mean on the validation part, through the network's traced
    predict step (traced once per network and recycled with it: an eager call of every layer cost
    more than an epoch's training on a thin library)."""
    from sklearn.metrics import roc_auc_score

    p = np.asarray(model.predict_on_batch(x_val), dtype=float).reshape(len(x_val), -1).mean(axis=1)
    p = np.clip(p, 0.0, 1.0)
    pc = np.clip(p, 1e-7, 1 - 1e-7)
    bce = -(y_val * np.log(pc) + (1 - y_val) * np.log(1 - pc))
    return {"val_loss": float(np.average(bce, weights=w_val)),
            "val_auc": float(roc_auc_score(y_val, p, sample_weight=w_val))}


# The traced training step of each network, kept with it (and recycled with it across folds).
_STEPS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _train_step(model: Any):
    """One step of Adam on a batch: the towers' loss (`_tower_loss`, weighted by the rows' sample
    weights, averaged over the batch, as Keras' `fit` computes it) plus the layers' L2 penalties.
    Traced once per network for any batch size. Our own loop instead of Keras' `fit`: on a thin
    library its per-epoch machinery cost four times the training (20 epochs: 1.3 s against 0.3 s)."""
    if model not in _STEPS:
        import tensorflow as tf

        model.optimizer.build(model.trainable_variables)
        width, columns = int(model.input_shape[-1]), 2 * _towers(model)
        network = weakref.ref(model)  # the step must not keep its network alive (see _STEPS)

        @tf.function(input_signature=[tf.TensorSpec([None, width], tf.float32),
                                      tf.TensorSpec([None, columns], tf.float32), tf.TensorSpec([None], tf.float32)],
                     autograph=False)  # no Python control flow on tensors to convert
        def step(x, y, w):
            net = network()
            with tf.GradientTape() as tape:
                p = net(x, training=True)
                loss = tf.reduce_sum(_tower_loss(y, p) * w) / tf.cast(tf.shape(x)[0], tf.float32)
                total = loss + tf.add_n(net.losses) if net.losses else loss
            grads = tape.gradient(total, net.trainable_variables)
            net.optimizer.apply_gradients(zip(grads, net.trainable_variables))
            return total

        _STEPS[model] = step
    return _STEPS[model]


def _learning_rate(model: Any) -> float:
    return float(np.asarray(model.optimizer.learning_rate))


# The random start of a network, by (seed, input width, towers): the same seed draws the same start,
# so a recycled network gets it without building (and compiling) a throwaway one every fit.
_STARTS: dict[tuple[int, int, int], tuple[list[np.ndarray], list[np.ndarray]]] = {}


def _dropout_states(model: Any) -> list[Any]:
    """The random-number state of each dropout layer: part of a network's start, as its weights are."""
    keras = _keras()
    return [layer.seed_generator.state for layer in model.layers if isinstance(layer, keras.layers.Dropout)]


def _start(seed: int, width: int, towers: int, reuse: Any) -> Any:
    """A compiled network of this shape at the seed's random start: `reuse` when it has the shape
    (its traced graphs are recycled; its weights and optimizer reset), else a new one."""
    key = (int(seed), int(width), int(towers))
    fits = reuse is not None and reuse.input_shape[-1] == width and _towers(reuse) == towers
    if not fits or key not in _STARTS:
        model = build_model(width, towers=towers)
        _STARTS[key] = (model.get_weights(), [np.asarray(v.numpy()) for v in _dropout_states(model)])
        if not fits:
            return model
    weights, dropout = _STARTS[key]
    reuse.set_weights(weights)
    for v, value in zip(_dropout_states(reuse), dropout):
        v.assign(value)
    for v in reuse.optimizer.variables:
        v.assign(np.zeros(v.shape, dtype=v.dtype))
    return reuse


# Networks their owner handed back (`Ensemble.hand_back`), by (input width, towers): a training of
# that shape later in the process (`spare`) recycles one with its traced graphs instead of building
# and tracing afresh, about 1 s a training (a process that trains many times: the demo, the tests).
_SPARE: dict[tuple[int, int], Any] = {}


def spare(n_inputs: int, towers: int) -> Any:
    """A handed-back network for inputs of this width and this many towers (None if there is none),
    to pass to `fit` as `reuse`; it is no longer spare."""
    return _SPARE.pop((padded_width(n_inputs), int(towers)), None)


def _towers(model: Any) -> int:
    shape = model.output_shape
    return int(shape[-1]) if shape and shape[-1] else 1


def _train(model: Any, x: np.ndarray, y: np.ndarray, w: np.ndarray, validation, *, epochs: int, batch: int,
           seed: int, patience: int, on_epoch) -> dict[str, list[float]]:
    """Epochs of shuffled mini-batches. With a validation part: early stopping on its ROC-AUC (no
    gain for `patience` epochs), and the best epoch's weights restored at the end. The history
    (per epoch: loss, learning_rate, val_loss, val_auc) as Keras' `fit` gives it."""
    step = _train_step(model)
    order_rng = np.random.default_rng(seed)
    hist: dict[str, list[float]] = {}
    best, best_weights, waited = -np.inf, None, 0
    for epoch in range(epochs):
        order = order_rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch):
            rows = order[start:start + batch]
            total += float(step(x[rows], y[rows], w[rows])) * len(rows)
        logs = {"loss": total / max(len(x), 1), "learning_rate": _learning_rate(model)}
        if validation is not None:
            logs.update(_validation_scores(model, *validation))
        for k, v in logs.items():
            hist.setdefault(k, []).append(float(v))
        if on_epoch is not None:
            on_epoch(epoch, dict(logs))
        if validation is None:
            continue
        if logs["val_auc"] > best:
            best, best_weights, waited = logs["val_auc"], model.get_weights(), 0
        else:
            waited += 1
            if waited >= patience:
                break
    if best_weights is not None:
        model.set_weights(best_weights)
    return hist


def _seed(seed: int) -> None:
    """Python's and NumPy's generators: every random draw of a network goes through Keras' own seed
    generators (initial weights, dropout), which take their seeds from Python's, and the shuffling
    and bootstrap draw from NumPy. Not `keras.utils.set_random_seed`: it also sets TensorFlow's
    global seed, which no draw here uses and which empties TensorFlow's kernel cache, so that the
    next call of each traced step cost about 0.3 s, twice a fit (most of a fit on a thin library).
    The same seed gives the same networks either way (checked on three trainings)."""
    import random

    random.seed(int(seed))
    np.random.seed(int(seed))


@dataclass
class FitResult:
    model: Any
    history: dict[str, list[float]]
    best_epoch: int
    epochs_run: int
    batch_size: int


def fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    w_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    w_val: np.ndarray,
    *,
    epochs: int = 30,
    seed: int = 0,
    towers: int = 1,
    class_weight: dict[int, float] | None = None,
    batch_size: int | None = None,
    patience: int = PATIENCE,
    reuse: Any = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> FitResult:
    """Train the networks. Early stopping watches the validation part only (never test data) and
    the best epoch's weights are restored at the end. `reuse`: an earlier model of the same shape
    whose traced graph is recycled (its weights are replaced by a fresh random start)."""
    _seed(seed)
    batch = batch_size or batch_size_for(len(x_train))
    y_train = np.asarray(y_train, dtype=np.float32)
    y_val = np.asarray(y_val, dtype=np.float32)
    w_train = np.asarray(w_train, dtype=np.float32)
    w_val = np.asarray(w_val, dtype=np.float32)
    # Keras takes class weights or sample weights, not both: fold the class weights in.
    if class_weight:
        w_train = w_train * np.where(y_train == 1, class_weight.get(1, 1.0), class_weight.get(0, 1.0)).astype(np.float32)
        w_val = w_val * np.where(y_val == 1, class_weight.get(1, 1.0), class_weight.get(0, 1.0)).astype(np.float32)
    width = padded_width(x_train.shape[1])
    x_train, x_val = _pad(x_train, width), _pad(x_val, width)
    model = _start(seed, width, towers, reuse)
    # Seeded again: what follows (dropout, shuffling, bootstrap) draws the same whether the network
    # was built or recycled.
    _seed(seed)
    has_val = len(x_val) > 0 and len(np.unique(y_val)) == 2
    # One label column and one bootstrap-weight column per tower (see _tower_loss).
    y_towers = np.repeat(y_train.reshape(-1, 1), towers, axis=1)
    if BOOTSTRAP and towers > 1:
        boot = np.random.default_rng(int(seed)).poisson(1.0, size=(len(y_train), towers)).astype(np.float32)
    else:
        boot = np.ones((len(y_train), towers), dtype=np.float32)
    y_towers = np.concatenate([y_towers, boot], axis=1)
    hist = _train(model, x_train, y_towers, w_train, (x_val, y_val, w_val) if has_val else None,
                  epochs=int(epochs), batch=batch, seed=int(seed), patience=patience, on_epoch=on_epoch)
    epochs_run = len(hist.get("loss", []))
    best = int(np.argmax(hist["val_auc"])) if has_val and hist.get("val_auc") else epochs_run - 1
    return FitResult(model=model, history=hist, best_epoch=best, epochs_run=epochs_run, batch_size=batch)


class Forward:
    """The towers' forward pass in NumPy from their weights: how a saved run scores, without
    TensorFlow (a `recommend` or `report` process skips TensorFlow's import: seconds, and most of a
    gigabyte). Inference as Keras computes it: dropout off, batch normalisation with its moving
    statistics, float32 throughout."""

    def __init__(self, params: dict[str, np.ndarray], *, width: int, towers: int, depth: int, epsilon: float,
                 slope: float):
        self.params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
        self.width, self.towers, self.depth = int(width), int(towers), int(depth)
        self.epsilon, self.slope = float(epsilon), float(slope)
        # Batch normalisation folded to a scale and a shift per layer, as tf.nn.batch_normalization
        # does; the scale then into the layer's kernel (the layers have no bias), and the towers'
        # first layers side by side in one kernel: one matrix product for all towers, and two passes
        # over the activations per layer instead of five (100,000 rows: 0.48 s before).
        first, first_shift, self._layers = [], [], []
        for t in range(self.towers):
            layers = []
            for i in range(self.depth):
                n = f"t{t}_norm_{i}/"
                inv = (1.0 / np.sqrt(self.params[n + "moving_variance"] + np.float32(self.epsilon))) * self.params[n + "gamma"]
                kernel = (self.params[f"t{t}_dense_{i}/kernel"] * inv[None, :]).astype(np.float32)
                shift = (self.params[n + "beta"] - self.params[n + "moving_mean"] * inv).astype(np.float32)
                if i == 0:
                    first.append(kernel)
                    first_shift.append(shift)
                else:
                    layers.append((kernel, shift))
            self._layers.append(layers)
        self._first = np.hstack(first)
        self._first_shift = np.concatenate(first_shift)
        self._like = [(self.params[f"t{t}_like/kernel"], self.params[f"t{t}_like/bias"]) for t in range(self.towers)]

    @classmethod
    def from_keras(cls, model: Any) -> "Forward":
        params = {f"{layer.name}/{w.name}": np.asarray(w.numpy()) for layer in model.layers for w in layer.weights}
        return cls(params, width=int(model.input_shape[-1]), towers=_towers(model), depth=len(HIDDEN_UNITS),
                   epsilon=model.get_layer("t0_norm_0").epsilon, slope=model.get_layer("t0_act_0").negative_slope)

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if len(x) == 0:
            return np.zeros(0)
        # The padding's zero columns add nothing: their kernel rows are left out instead.
        first = self._first[: x.shape[1]] if x.ndim == 2 and x.shape[1] < self.width else self._first
        parts = [self._chunk(x[start:start + FORWARD_BATCH], first) for start in range(0, len(x), FORWARD_BATCH)]
        return np.clip(np.concatenate(parts), 0.0, 1.0)

    def _chunk(self, x: np.ndarray, first: np.ndarray) -> np.ndarray:
        slope, units = np.float32(self.slope), HIDDEN_UNITS[0]
        h0 = x @ first
        h0 += self._first_shift
        np.maximum(h0, h0 * slope, out=h0)  # leaky ReLU (slope < 1)
        towers = []
        for t in range(self.towers):
            h = h0[:, t * units:(t + 1) * units]
            for kernel, shift in self._layers[t]:
                h = h @ kernel
                h += shift
                np.maximum(h, h * slope, out=h)
            kernel, bias = self._like[t]
            z = h @ kernel + bias
            towers.append(1.0 / (1.0 + np.exp(-z.astype(np.float64))))
        return np.mean(np.hstack(towers), axis=1)

    def save(self, path: Path) -> None:
        meta = {"width": self.width, "towers": self.towers, "depth": self.depth, "epsilon": self.epsilon, "slope": self.slope}
        with open(path, "wb") as fh:
            np.savez(fh, __meta__=np.array(json.dumps(meta)), **self.params)

    @classmethod
    def load(cls, path: Path) -> "Forward":
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["__meta__"]))
                params = {k: data[k] for k in data.files if k != "__meta__"}
            return cls(params, **meta)
        except FileNotFoundError:
            raise ModelError(f"The model file {path} is missing: retrain with `tastebot train`.") from None
        except Exception as exc:  # a damaged archive: zip, JSON, key and shape errors alike
            raise ModelError(f"Cannot load the model {path} ({type(exc).__name__}): retrain with `tastebot train`.") from None


@dataclass
class Ensemble:
    """The towers; the score is the mean of their probabilities. `model` is the Keras model just
    trained, or a `Forward` loaded from a saved run."""

    model: Any

    @property
    def towers(self) -> int:
        return self.model.towers if isinstance(self.model, Forward) else _towers(self.model)

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, weight: np.ndarray, seed: int = 0, *,
            validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, **options: Any) -> "Ensemble":
        """The taste models' `fit`: the module's `fit` (early stopping on `validation` when given;
        `options` as there: epochs, towers, class_weight, ...), as an ensemble."""
        if validation is None:
            validation = (np.zeros((0, x.shape[1]), dtype=np.float32), np.zeros(0), np.zeros(0))
        return cls(fit(x, y, weight, *validation, seed=seed, **options).model)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(x) if isinstance(self.model, Forward) else predict(self.model, x)

    def score(self, x: np.ndarray) -> np.ndarray:
        """The taste models' `score`: the mean of the towers' probabilities (`predict`)."""
        return self.predict(x)

    def hand_back(self) -> None:
        """Score from here on as a saved run does (`Forward`), and hand the Keras model back for a
        later training of its shape in this process to recycle (`spare`). For a run that is saved:
        without its Keras model, the ensemble cannot be saved again."""
        if isinstance(self.model, Forward):
            return
        model, self.model = self.model, Forward.from_keras(self.model)
        _SPARE[(int(model.input_shape[-1]), _towers(model))] = model

    def save(self, folder: Path) -> list[str]:
        """The Keras model (for Keras itself) and its weights for `Forward` (what tastebot loads)."""
        self.model.save(Path(folder) / MODEL_FILE)
        Forward.from_keras(self.model).save(Path(folder) / WEIGHTS_FILE)
        return [MODEL_FILE, WEIGHTS_FILE]

    @classmethod
    def load(cls, folder: Path, names: Sequence[str] = (WEIGHTS_FILE,)) -> "Ensemble":
        """The networks of a run whose metrics.json lists `names` (its "networks"; by default what
        `save` writes for tastebot to load)."""
        if WEIGHTS_FILE in names:
            return cls(Forward.load(Path(folder) / WEIGHTS_FILE))
        # A run saved before the weights file: its Keras model, through TensorFlow (imported only
        # once the file is there to load).
        if len(names) != 1:
            raise ModelError(f"The model in {folder} has an unexpected layout: retrain with `tastebot train`.")
        path = Path(folder) / names[0]
        if not path.is_file():
            raise ModelError(f"The model file {path} is missing: retrain with `tastebot train`.")
        try:
            model = _keras().models.load_model(path, compile=False)
        except Exception as exc:  # Keras raises many kinds for a damaged file
            raise ModelError(f"Cannot load the model {path} ({type(exc).__name__}): retrain with `tastebot train`.") from None
        return cls(model)


def release_memory() -> None:
    """Drop Keras' global graph state (for long processes that train many models, e.g. benchmarks)."""
    import gc

    _SPARE.clear()
    _keras().backend.clear_session()
    gc.collect()


def versions() -> dict[str, str]:
    keras = _keras()
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__}
