"""Where one `tastebot train --no-harvest` spends its time: CPU and wall seconds per stage.

Trains on a copy of a harvested home (the home itself is never changed), with every stage below
wrapped in a timer (process CPU time, so a stage's figure includes what its helper threads did
meanwhile), and prints one row per stage, the largest first. Stages nest (train_on_frame holds the
rest), so the rows do not add up. A stage the code at hand lacks is left out, so the same script
times an older checkout too:

    OPENBLAS_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 \\
        .venv/bin/python benchmarks/train_stages.py /work/homes/quick/base/p0-s0
    # another checkout's code, the same script: PYTHONPATH=/path/to/checkout .venv/bin/python benchmarks/train_stages.py HOME

The wall figures on a shared machine say how busy it was; compare CPU, and versions side by side.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import shutil
import tempfile
import time
from pathlib import Path

# (module, attribute) of each stage, and where else the name was imported to (rebound there too).
STAGES = [
    ("tastebot.train", "train_on_frame", ()),
    ("tastebot.evaluation", "grouped_folds", (("tastebot.train", "grouped_folds"),)),
    ("tastebot.models.mlp", "fit", ()),
    ("tastebot.models.mlp", "predict", ()),
    ("tastebot.train", "fit_baselines", ()),
    ("tastebot.train", "fit_forest", ()),
    ("tastebot.train", "_Trainer.random_part", ()),
    ("tastebot.train", "_Trainer.fit_blend", ()),
    ("tastebot.train", "corpus_negatives", ()),
    ("tastebot.train", "fit_ranking", ()),
    ("tastebot.models.ranking_rows", "build_rows", ()),
    ("tastebot.models.ranking_rows", "_unheard", ()),
    ("tastebot.models.ranking_rows", "validate", ()),
    ("tastebot.models.ranker", "Ranker.fit", ()),
    ("tastebot.models.collab", "HybridScorer.fit", ()),
    ("tastebot.models.runs", "TasteModel.predict", ()),
    ("tastebot.models.runs", "save_run", (("tastebot.train", "save_run"),)),
    ("tastebot.recommend.retrievers.taste", "scan_corpus_taste", ()),
]


def wrap(times: dict, module: str, attr: str, also) -> bool:
    """Time every outermost call of module.attr; False when this checkout has no such stage."""
    try:
        owner = importlib.import_module(module)
    except ImportError:
        return False
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part, None)
    if owner is None or name not in vars(owner):
        return False
    raw = vars(owner)[name]
    is_class_method = isinstance(raw, classmethod)
    func = raw.__func__ if is_class_method else raw
    label, depth = f"{module.rsplit('.', 1)[-1]}.{attr}", [0]

    @functools.wraps(func)
    def timed(*args, **kwargs):
        depth[0] += 1
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                entry = times.setdefault(label, [0, 0.0, 0.0])
                entry[0] += 1
                entry[1] += time.process_time() - cpu
                entry[2] += time.perf_counter() - wall

    setattr(owner, name, classmethod(timed) if is_class_method else timed)
    for other, other_name in also:
        setattr(importlib.import_module(other), other_name, timed)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path, help="a harvested home (copied; never changed)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--ensemble", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import tastebot
    from tastebot.settings import load_settings
    import tastebot.train as train

    times: dict[str, list] = {}
    missing = [f"{m}.{a}" for m, a, also in STAGES if not wrap(times, m, a, also)]
    work = Path(tempfile.mkdtemp(prefix="tastebot-train-stages-"))
    try:
        home = work / "home"
        shutil.copytree(args.home, home, ignore=shutil.ignore_patterns("models", "world.json", "peers.json", "*.lock"))
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url="http://127.0.0.1:9", client_id="stages",
                                 redirect_uri="http://127.0.0.1:9/callback", insecure_storage=True)
        cpu, wall = time.process_time(), time.perf_counter()
        result = train.train_from_store(settings, epochs=args.epochs, seed=args.seed, ensemble=args.ensemble)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"tastebot {tastebot.__file__}; home {args.home}; epochs {args.epochs}, ensemble {args.ensemble}, seed {args.seed}")
    print(f"{'stage':<40}{'calls':>6}{'cpu s':>9}{'wall s':>9}")
    for label, (n, c, w) in sorted(times.items(), key=lambda kv: -kv[1][1]):
        print(f"{label:<40}{n:>6}{c:>9.2f}{w:>9.2f}")
    print(f"{'train_from_store in all':<40}{'':>6}{cpu:>9.2f}{wall:>9.2f}")
    scores = result.metrics.get("scores", {})
    print("ROC-AUC on the test part: " + ", ".join(f"{k} {v['roc_auc']:.4f}" for k, v in scores.items()))
    if missing:
        print("not in this checkout: " + ", ".join(missing))


if __name__ == "__main__":
    main()
