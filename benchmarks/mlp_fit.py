"""The taste network's training alone: ROC-AUC on new artists and time, on label tasks from real data.

For each task, from `../shared/data/tidytuesday_spotify_songs.csv`: likes are one subgenre's songs,
dislikes as many songs of other genres; the songs of a random quarter of the artists are the test
part (never seen in training); a random fifth of the rest is the validation part for early
stopping. `tastebot.models.mlp.fit` trains the product's network (3 towers, 30 epochs by default) on
the standardised audio features and popularity. Prints the mean ROC-AUC, each task's, and the time.
Run it on two trees to compare two versions of the network:

    PYTHONPATH=/path/to/tree .venv/bin/python benchmarks/mlp_fit.py [--tasks 12] [--epochs 30] [--towers 3]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from label_tasks import label_tasks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--towers", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tastebot.models import mlp

    aucs = []
    started = time.perf_counter()
    for task, x, y, test in label_tasks(args.tasks):
        x = (x - x[~test].mean(axis=0)) / x[~test].std(axis=0)
        rows = np.flatnonzero(~test)
        val = np.random.default_rng(task).random(len(rows)) < 0.2
        tr, va = rows[~val], rows[val]
        fit = mlp.fit(x[tr], y[tr], np.ones(len(tr)), x[va], y[va], np.ones(len(va)), epochs=args.epochs, seed=task,
                      towers=args.towers)
        aucs.append(roc_auc_score(y[test], mlp.predict(fit.model, x[test])))
    print(f"{mlp.__file__}: mean ROC-AUC {np.mean(aucs):.4f} over {args.tasks} tasks, "
          f"{time.perf_counter() - started:.0f} s")
    print("per task: " + " ".join(f"{a:.3f}" for a in aucs))


if __name__ == "__main__":
    main()
