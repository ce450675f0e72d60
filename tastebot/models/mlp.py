"""The taste network: the only module of tastebot that imports TensorFlow / Keras.

A small multilayer perceptron: three hidden layers, each Dense -> BatchNormalization -> LeakyReLU
-> Dropout, and a sigmoid output (the probability that the listener likes the track). Adam with an
inverse-time decay of the learning rate from 0.01; early stopping on a validation part the caller
carves from the training data, keeping the best weights.

TensorFlow is imported inside the functions, never at module top: importing this module is cheap,
so `tastebot --help` and everything that does not train or score stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from tastebot.errors import ModelError

HIDDEN_UNITS = (128, 64, 32)
DROPOUT = 0.3
L2 = 1e-4
LEARNING_RATE = 0.01
DECAY_RATE = 0.5  # per epoch: the rate after e epochs is 0.01 / (1 + 0.5 e)
PATIENCE = 8
PREDICT_BATCH = 8192


def _keras():
    """TensorFlow's Keras, quiet. Imported on first use only."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras  # noqa: F401  (imports tensorflow as its backend)

    return keras


def batch_size_for(n_rows: int) -> int:
    """About 20 steps an epoch, a power of two between 32 and 512: small data gets small batches
    (enough updates to learn), large data large ones (fast epochs)."""
    target = max(1, n_rows // 20)
    size = 1 << max(0, int(round(np.log2(target))))
    return int(min(512, max(32, size)))


def build_model(n_inputs: int, *, steps_per_epoch: int, units: Sequence[int] = HIDDEN_UNITS,
                dropout: float = DROPOUT, l2: float = L2, learning_rate: float = LEARNING_RATE):
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input(shape=(n_inputs,), name="features")
    x = inputs
    for i, n in enumerate(units):
        x = layers.Dense(n, use_bias=False, kernel_regularizer=keras.regularizers.l2(l2), name=f"dense_{i}")(x)
        x = layers.BatchNormalization(name=f"norm_{i}")(x)
        x = layers.LeakyReLU(negative_slope=0.1, name=f"act_{i}")(x)
        x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="like")(x)
    model = keras.Model(inputs, outputs, name="taste_mlp")
    schedule = keras.optimizers.schedules.InverseTimeDecay(
        initial_learning_rate=learning_rate, decay_steps=max(1, steps_per_epoch), decay_rate=DECAY_RATE
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss="binary_crossentropy",
        weighted_metrics=[keras.metrics.AUC(name="auc")],
    )
    return model


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
    class_weight: dict[int, float] | None = None,
    batch_size: int | None = None,
    patience: int = PATIENCE,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> FitResult:
    """Train one network. Early stopping watches the validation part only (never test data) and
    the best epoch's weights are restored at the end."""
    keras = _keras()
    keras.utils.set_random_seed(int(seed))
    batch = batch_size or batch_size_for(len(x_train))
    steps = int(np.ceil(len(x_train) / batch))
    model = build_model(x_train.shape[1], steps_per_epoch=steps)
    callbacks: list[Any] = []
    has_val = len(x_val) > 0 and len(np.unique(y_val)) == 2
    if has_val:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_auc", mode="max", patience=patience, restore_best_weights=True
            )
        )
    if on_epoch is not None:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: on_epoch(e, dict(logs or {}))))
    history = model.fit(
        x_train.astype(np.float32),
        y_train.astype(np.float32),
        sample_weight=w_train.astype(np.float32),
        class_weight=class_weight,
        validation_data=(x_val.astype(np.float32), y_val.astype(np.float32), w_val.astype(np.float32)) if has_val else None,
        epochs=int(epochs),
        batch_size=batch,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    epochs_run = len(hist.get("loss", []))
    best = int(np.argmax(hist["val_auc"])) if has_val and hist.get("val_auc") else epochs_run - 1
    return FitResult(model=model, history=hist, best_epoch=best, epochs_run=epochs_run, batch_size=batch)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1], one per row; large batches since scoring has no gradients."""
    if len(x) == 0:
        return np.zeros(0)
    p = model.predict(np.asarray(x, dtype=np.float32), batch_size=PREDICT_BATCH, verbose=0)
    return np.clip(np.asarray(p, dtype=float).reshape(-1), 0.0, 1.0)


@dataclass
class Ensemble:
    """Networks of the same shape trained from different seeds (and validation folds); their mean
    probability is steadier than any one of them."""

    members: list[Any] = field(default_factory=list)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if not self.members:
            raise ModelError("The model has no trained networks: retrain with `tastebot train`.")
        return np.mean([predict(m, x) for m in self.members], axis=0)

    def save(self, folder: Path) -> list[str]:
        names = []
        for i, member in enumerate(self.members):
            name = f"network_{i}.keras"
            member.save(Path(folder) / name)
            names.append(name)
        return names

    @classmethod
    def load(cls, folder: Path, names: Sequence[str]) -> "Ensemble":
        keras = _keras()
        members = []
        for name in names:
            path = Path(folder) / name
            if not path.is_file():
                raise ModelError(f"The model file {path} is missing: retrain with `tastebot train`.")
            try:
                members.append(keras.models.load_model(path, compile=False))
            except Exception as exc:  # Keras raises many kinds for a damaged file
                raise ModelError(f"Cannot load the model {path} ({type(exc).__name__}): retrain with `tastebot train`.") from None
        return cls(members)


def versions() -> dict[str, str]:
    keras = _keras()
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__}
