"""A trained model as `recommend` uses it, and its runs on disk: `TasteModel` (the preprocessing, the
networks, the forest, the learned ranking), `save_run` (written through a temporary folder, then
LATEST pointed at it), `load_model`, `latest_run_id` and `list_runs`. Where a run's artefacts live
is this module's fact alone: `<home>/models/<run id>/`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from tastebot.errors import ModelError, NotEnoughData, no_room
from tastebot.models.inputs import FeatureSpec
from tastebot.models.forest import Forest, taste_score
from tastebot.models.ranker import Ranking
from tastebot.jsontext import dumps
from tastebot.models.collab import save_scorer

LATEST = "LATEST"
# The top corpus tracks by taste score, scanned at train time on a large corpus (recommend reads it).
TASTE_CORPUS = "taste_corpus.json"
# The taste model's members: the MLP ensemble and a random forest on the same inputs (models/forest.py).
TASTE_MEMBERS = ("mlp", "forest")


# -- the model -----------------------------------------------------------
@dataclass
class TasteModel:
    """A trained model with its own preprocessing: `predict(frame)` gives like-probabilities."""
    spec: FeatureSpec
    ensemble: Any  # tastebot.models.mlp.Ensemble
    metrics: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None
    ranking: Ranking | None = None  # what recommend ranks by; None: the linear blend (a run from before it)
    forest: Any = None  # tastebot.models.forest.Forest, or None (a run from before the forest)
    members: tuple[str, ...] = TASTE_MEMBERS  # which members predict() averages (`recommend --taste-model`)

    @property
    def blend_weight(self) -> float:
        return float(self.metrics.get("blend", {}).get("weight", 1.0))

    @property
    def run_id(self) -> str | None:
        return self.metrics.get("run_id")

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The taste score: the mean of the MLP's and the forest's probabilities (tastebot.models.forest)."""
        if len(frame) == 0:
            return np.zeros(0)
        x = self.spec.transform(frame)
        use_forest = self.forest is not None and "forest" in self.members
        if use_forest and "mlp" not in self.members:
            return self.forest.score(x)
        if not use_forest:
            return self.ensemble.predict(x)
        # The trees in a second thread while the networks run: both release the GIL in their
        # compiled loops (the trees, NumPy's matrix products), so they overlap (benchmarks/recommend_scale.py).
        with ThreadPoolExecutor(1) as pool:
            forest = pool.submit(self.forest.score, x)
            return taste_score(self.ensemble.predict(x), forest.result())

    def with_members(self, members: Sequence[str]) -> "TasteModel":
        """The same model predicting with these members only ("mlp", "forest"), for comparisons."""
        from dataclasses import replace

        return replace(self, members=tuple(members))


@dataclass
class TrainResult:
    model: TasteModel
    metrics: dict[str, Any]
    run_dir: Path | None = None
    collab: Any = None  # the HybridScorer fitted on every like, saved with the run
    collab_fingerprint: dict[str, Any] | None = None
    # The taste model's scan of a large corpus (tastebot.recommend.retrievers.taste.scan_corpus_taste), or None.
    taste_corpus: dict[str, Any] | None = None
    # The taste model's scores computed while training, by track id (tastebot.train.TasteOnce): the scan reuses them.
    taste: Any = None

    @property
    def run_id(self) -> str | None:
        return self.metrics.get("run_id")


# -- artefacts ---------------------------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _new_run_id(models_dir: Path, seed: int) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_id, n = f"{stamp}-seed{seed}", 1
    while (models_dir / run_id).exists():
        n += 1
        run_id = f"{stamp}-seed{seed}-{n}"
    return run_id


def save_run(settings, result: TrainResult) -> Path:
    """Write the run to `models_dir/<run-id>/` (model, preprocessing.json, metrics.json) through a
    temporary folder renamed into place, then point LATEST at it: LATEST never names a half-written run."""

    models_dir = Path(settings.models_dir)
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        run_id = _new_run_id(models_dir, int(result.metrics["settings"]["seed"]))
        tmp = models_dir / f".tmp-{run_id}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            networks = result.model.ensemble.save(tmp)
            result.metrics["run_id"] = run_id
            result.metrics["networks"] = networks
            result.model.spec.save(tmp / "preprocessing.json")
            if result.model.forest is not None:
                result.model.forest.save(tmp)
            if result.model.ranking is not None:
                result.model.ranking.save(tmp)
            if result.collab is not None:

                save_scorer(result.collab, tmp, result.collab_fingerprint or {},
                            ids_in_store=int((result.collab_fingerprint or {}).get("corpus", {}).get("tracks", 0)))
            if result.taste_corpus is not None:
                (tmp / TASTE_CORPUS).write_text(dumps({**result.taste_corpus, "run_id": run_id}), encoding="utf-8")
            (tmp / "metrics.json").write_text(dumps(json_safe(result.metrics)), encoding="utf-8")
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            _fsync_dir(tmp)
            final = models_dir / run_id
            os.rename(tmp, final)
            _fsync_dir(models_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _write_atomic(models_dir / LATEST, run_id + "\n")
    except OSError as exc:
        why = no_room(models_dir, exc.errno) or f"Cannot write the model to {models_dir}: {exc.strerror or exc}"
        raise ModelError(f"{why}.") from None
    result.run_dir = final
    result.model.run_dir = final
    return final


def load_taste_corpus(run_dir: Path) -> dict[str, Any] | None:
    """The run's train-time taste scan of the corpus, or None when the run has none (a small corpus,
    or a run from before it)."""
    try:
        return json.loads((Path(run_dir) / TASTE_CORPUS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {Path(run_dir) / TASTE_CORPUS}: {exc}; retrain with `tastebot train`.") from None


def json_safe(obj: Any) -> Any:
    """NaN is not JSON: an undefined score (one class only) is written as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def latest_run_id(settings) -> str | None:
    path = Path(settings.models_dir) / LATEST
    try:
        run_id = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ModelError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return run_id or None


def _read_metrics(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"The model folder {run_dir} has no metrics.json: retrain with `tastebot train`.") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {run_dir / 'metrics.json'}: {exc}.") from None


def load_model(settings, run: str | None = None) -> TasteModel:
    """The model of `run` (a run id), or of the latest run. Raises ModelError when there is none."""
    from tastebot.models import mlp

    run_id = run or latest_run_id(settings)
    if run_id is None:
        raise NotEnoughData("No trained model yet: run `tastebot train` first.")  # exit 3, as train and recommend
    if "/" in run_id or "\\" in run_id or run_id.startswith("."):
        raise ModelError(f"{run_id!r} is not a model run id; `tastebot models` lists them.")
    run_dir = Path(settings.models_dir) / run_id
    if not run_dir.is_dir():
        raise ModelError(f"No model run {run_id!r} in {settings.models_dir}; `tastebot models` lists them.")
    metrics = _read_metrics(run_dir)
    spec = FeatureSpec.load(run_dir / "preprocessing.json")
    ensemble = mlp.Ensemble.load(run_dir, metrics.get("networks") or [])
    return TasteModel(spec=spec, ensemble=ensemble, metrics=metrics, run_dir=run_dir, ranking=Ranking.load(run_dir),
                      forest=Forest.load(run_dir))


def list_runs(settings) -> list[dict[str, Any]]:
    """Every run folder, newest first, with its headline figures (damaged ones say so)."""
    models_dir = Path(settings.models_dir)
    if not models_dir.is_dir():
        return []
    latest = latest_run_id(settings)
    rows = []
    for run_dir in sorted((p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        row: dict[str, Any] = {"run_id": run_dir.name, "latest": run_dir.name == latest, "path": str(run_dir)}
        try:
            m = _read_metrics(run_dir)
        except ModelError as exc:
            row["error"] = exc.message
            rows.append(row)
            continue
        damaged = [n for n in m.get("networks") or [] if not zipfile.is_zipfile(run_dir / n)]
        if damaged:  # a .keras file is a zip archive: cheap to check without TensorFlow
            row["error"] = f"the network file {damaged[0]} is missing or damaged: retrain with `tastebot train`."
        s = m.get("scores", {})
        row.update({
            "created_at": m.get("created_at"),
            "mode": m.get("mode"),
            "likes": m.get("data", {}).get("likes"),
            "dislikes": m.get("data", {}).get("dislikes"),
            "mlp_roc_auc": s.get("mlp", {}).get("roc_auc"),
            "random_forest_roc_auc": s.get("random_forest", {}).get("roc_auc"),
            "mlp_accuracy": s.get("mlp", {}).get("accuracy"),
            "blend_weight": m.get("blend", {}).get("weight"),
            "epochs": m.get("settings", {}).get("epochs"),
            "seed": m.get("settings", {}).get("seed"),
        })
        rows.append(row)
    return rows
