"""How many trees the taste model's forest needs: ROC-AUC and scoring time against the tree count.

On 24 label tasks from `../shared/data/tidytuesday_spotify_songs.csv` (likes: one subgenre's songs;
dislikes: as many songs of other genres; test: the songs of a random quarter of the artists, never
seen in training), the forest of `tastebot.models.forest` (its PARAMS, with n_estimators varied) is
trained on the rest and scored on the test songs. Prints the mean ROC-AUC per tree count, its
difference from 300 trees (mean, min, max over tasks) and the scoring time.

    .venv/bin/python benchmarks/forest_trees.py [--tasks 24] [--trees 50,100,150,300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

from label_tasks import label_tasks
from tastebot.models.forest import PARAMS

TREES = (100, 150, 300)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=24)
    ap.add_argument("--trees", default=",".join(map(str, TREES)), help="tree counts; the largest is the reference")
    args = ap.parse_args()
    trees = sorted(int(t) for t in args.trees.split(","))
    auc = {n: [] for n in trees}
    seconds = {n: 0.0 for n in trees}
    for task, x, y, test in label_tasks(args.tasks):
        for n in trees:
            model = RandomForestClassifier(**{**PARAMS, "n_estimators": n}, n_jobs=2, random_state=task)
            model.fit(x[~test], y[~test])
            t0 = time.perf_counter()
            auc[n].append(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1]))
            seconds[n] += time.perf_counter() - t0
    base = np.array(auc[max(trees)])
    for n in trees:
        d = np.array(auc[n]) - base
        print(f"{n:>4} trees: ROC-AUC {np.mean(auc[n]):.4f}; against {max(trees)}: mean {d.mean():+.4f}, "
              f"min {d.min():+.4f}, max {d.max():+.4f}; scoring {seconds[n]:.2f} s over {args.tasks} tasks")


if __name__ == "__main__":
    main()
