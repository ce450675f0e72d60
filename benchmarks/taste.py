"""Benchmark of the taste model on real playlists: is the MLP worth it against simple peers?

Listener personas are built from the real genre playlists of
`../shared/data/tidytuesday_spotify_songs.csv` (28,356 tracks in 471 playlists): likes from some
subgenres, dislikes from others, and a harder persona whose likes and dislikes share a genre.
Each persona runs `tastebot.train.train_on_frame` (the code of `tastebot train`) over several
seeds and prints the held-out accuracy and ROC-AUC of the MLP beside the majority class, logistic
regression and a random forest trained in the same run on the same split.

The "weak negatives" persona measures what random unknown tracks add: a listener with likes and
only a few explicit dislikes, trained once without and once with random weak negatives, both scored
on held-out artists against "everything else in the catalogue" (which is what recommending means).

Last, one 5,000-track persona is timed: 30 epochs, wall time and peak memory (targets: < 60 s,
< 1.5 GB).

    .venv/bin/python benchmarks/taste.py [--seeds 3] [--quick] [--csv PATH]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "tidytuesday_spotify_songs.csv"

AUDIO = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
         "instrumentalness", "liveness", "valence", "tempo"]


def load_songs(path: Path = DEFAULT_CSV) -> pd.DataFrame:
    """One row per track in the columns of a store frame, plus the sets of playlist genres and
    subgenres the track appears in (used only to define personas, never as a model input)."""
    raw = pd.read_csv(path)
    raw = raw.dropna(subset=["track_id", "track_artist"])
    tags = raw.groupby("track_id").agg(
        genre_set=("playlist_genre", lambda s: frozenset(s)),
        subgenre_set=("playlist_subgenre", lambda s: frozenset(s)),
    )
    first = raw.drop_duplicates("track_id").set_index("track_id")
    year = pd.to_numeric(first["track_album_release_date"].astype(str).str[:4], errors="coerce")
    frame = pd.DataFrame({
        "track_id": first.index,
        "name": first["track_name"].to_numpy(),
        # The data has artist names, not ids: the name stands in for the id (the grouping key).
        "primary_artist_id": first["track_artist"].to_numpy(),
        "artist_ids": first["track_artist"].to_numpy(),
        "album_id": first["track_album_id"].to_numpy(),
        "isrc": None,
        "duration_ms": first["duration_ms"].to_numpy(dtype=float),
        "explicit": np.nan,  # not in this data: the model sees it as missing everywhere
        "popularity": first["track_popularity"].to_numpy(dtype=float),
        "track_number": np.nan,
        "release_year": year.to_numpy(dtype=float),
        "album_type": None,
        **{c: first[c].to_numpy(dtype=float) for c in AUDIO},
        "time_signature": np.nan,
        "feature_provider": "import",
        "genres": "",
    })
    frame["genre_set"] = tags.loc[frame["track_id"], "genre_set"].to_numpy()
    frame["subgenre_set"] = tags.loc[frame["track_id"], "subgenre_set"].to_numpy()
    return frame.reset_index(drop=True)


def _in(frame: pd.DataFrame, subgenres: set[str]) -> np.ndarray:
    return np.array([bool(s & subgenres) for s in frame["subgenre_set"]])


def persona_frame(songs: pd.DataFrame, likes: set[str], dislikes: set[str], *, n_likes: int, n_dislikes: int,
                  seed: int, weak: int = 0, weak_factor_strength: str = "weak") -> pd.DataFrame:
    """Labelled frame: likes from `likes` subgenres, explicit dislikes from `dislikes`, and `weak`
    random other tracks as weak negatives. Tracks in both sets are left out (ambiguous)."""
    rng = np.random.default_rng(seed)
    is_like, is_dislike = _in(songs, likes), _in(songs, dislikes)
    like_idx = np.flatnonzero(is_like & ~is_dislike)
    dislike_idx = np.flatnonzero(is_dislike & ~is_like)
    like_idx = rng.choice(like_idx, min(n_likes, len(like_idx)), replace=False)
    dislike_idx = rng.choice(dislike_idx, min(n_dislikes, len(dislike_idx)), replace=False)
    parts = [
        songs.iloc[like_idx].assign(label=1, strength="explicit", weight=1.0, sources="saved"),
        songs.iloc[dislike_idx].assign(label=0, strength="explicit", weight=1.0, sources="dislike_playlist"),
    ]
    if weak:
        rest = np.setdiff1d(np.flatnonzero(~is_like), dislike_idx)
        weak_idx = rng.choice(rest, min(weak, len(rest)), replace=False)
        parts.append(songs.iloc[weak_idx].assign(label=0, strength=weak_factor_strength, weight=1.0, sources="sampled"))
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)


PERSONAS = [
    # name, liked subgenres, disliked subgenres, likes, dislikes
    ("rock & neo soul vs edm & trap", {"classic rock", "album rock", "hard rock", "neo soul"},
     {"big room", "electro house", "trap", "reggaeton"}, 800, 800),
    ("latin & dance pop vs hard rock & gangster rap", {"tropical", "latin pop", "dance pop"},
     {"hard rock", "gangster rap", "progressive electro house"}, 800, 800),
    ("hard: indie pop vs teen & dance pop (same genre)", {"indie poptimism", "electropop"},
     {"post-teen pop", "dance pop"}, 800, 800),
    ("small: 30 likes, 30 dislikes (cross-validated)", {"permanent wave", "new jack swing"},
     {"pop edm", "latin hip hop"}, 30, 30),
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def release_memory() -> None:
    from tastebot.models.mlp import release_memory as release

    release()


def run_personas(songs, seeds, epochs, ensemble) -> list[dict]:
    from tastebot.train import train_on_frame

    rows = []
    for name, likes, dislikes, n_l, n_d in PERSONAS:
        for seed in seeds:
            frame = persona_frame(songs, likes, dislikes, n_likes=n_l, n_dislikes=n_d, seed=seed)
            t0 = time.perf_counter()
            res = train_on_frame(frame, epochs=epochs, seed=seed, ensemble=ensemble)
            release_memory()
            s = res.metrics["scores"]
            rows.append({"persona": name, "seed": seed, "tracks": len(frame), "mode": res.metrics["mode"],
                         "seconds": time.perf_counter() - t0,
                         **{f"{m}_{k}": s[m][k] for m in ("mlp", "majority", "logistic_regression", "random_forest")
                            for k in ("accuracy", "roc_auc")}})
            print(f"  {name} seed {seed}: MLP AUC {s['mlp']['roc_auc']:.3f}  RF AUC {s['random_forest']['roc_auc']:.3f}"
                  f"  LR AUC {s['logistic_regression']['roc_auc']:.3f}  ({rows[-1]['seconds']:.1f} s)", file=sys.stderr)
    return rows


def weak_negative_lift(songs, seeds, epochs, ensemble) -> list[dict]:
    """Likes + 60 explicit dislikes, without and with 1,500 random weak negatives; scored on artists
    held out from both, likes against everything else."""
    from tastebot.models import mlp as _  # noqa: F401  (fail early if TF is broken)
    from tastebot.train import train_on_frame
    from sklearn.metrics import roc_auc_score

    likes, dislikes = {"permanent wave", "indie poptimism"}, {"gangster rap"}
    out = []
    for seed in seeds:
        rng = np.random.default_rng(1000 + seed)
        artists = songs["primary_artist_id"].unique()
        held = set(rng.choice(artists, len(artists) // 5, replace=False))
        is_held = songs["primary_artist_id"].isin(held).to_numpy()
        pool, world = songs[~is_held].reset_index(drop=True), songs[is_held].reset_index(drop=True)
        truth = _in(world, likes).astype(int)
        res = {}
        for label, weak in (("explicit only", 0), ("with weak negatives", 1500)):
            frame = persona_frame(pool, likes, dislikes, n_likes=800, n_dislikes=60, seed=seed, weak=weak)
            r = train_on_frame(frame, epochs=epochs, seed=seed, ensemble=ensemble)
            res[label] = float(roc_auc_score(truth, r.model.predict(world)))
            release_memory()
        out.append({"seed": seed, **res})
        print(f"  weak negatives seed {seed}: world AUC {res['explicit only']:.3f} -> {res['with weak negatives']:.3f}",
              file=sys.stderr)
    return out


def timing_in_subprocess(csv: Path, epochs: int, ensemble: int) -> dict:
    """One training in a fresh process, so the peak memory is that training's (what `tastebot
    train` needs), not the whole benchmark's high-water mark."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--timing-only", "--csv", str(csv), "--epochs", str(epochs),
                          "--ensemble", str(ensemble)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timing(songs, epochs, ensemble) -> dict:
    """30 epochs on 5,000 tracks (2,500 likes, 2,500 dislikes): wall time of the whole
    train_on_frame (networks, refit, baselines, metrics) and the process's peak memory."""
    from tastebot.train import train_on_frame

    frame = persona_frame(songs, {"classic rock", "album rock", "hard rock", "permanent wave", "neo soul", "tropical"},
                          {"big room", "electro house", "trap", "reggaeton", "gangster rap", "hip hop"},
                          n_likes=2500, n_dislikes=2500, seed=0)
    t0 = time.perf_counter()
    r = train_on_frame(frame, epochs=epochs, seed=0, ensemble=ensemble)
    return {"tracks": len(frame), "ensemble": ensemble, "seconds": time.perf_counter() - t0,
            "mlp_auc": r.metrics["scores"]["mlp"]["roc_auc"], "rf_auc": r.metrics["scores"]["random_forest"]["roc_auc"],
            "epochs_run": [h["epochs_run"] for h in r.metrics["history"]], "peak_rss_mb": peak_rss_mb(),
            "load_average": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--ensemble", type=int, default=None, help="networks per run (default: tastebot's)")
    ap.add_argument("--quick", action="store_true", help="one seed, personas only")
    ap.add_argument("--timing-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.csv.is_file():
        sys.exit(f"{args.csv} is absent: this benchmark needs ../shared/data (developer material).")
    from tastebot.train import DEFAULT_ENSEMBLE

    ensemble = args.ensemble or DEFAULT_ENSEMBLE
    if args.timing_only:
        import json

        print(json.dumps(timing(load_songs(args.csv), args.epochs, ensemble)))
        return
    seeds = list(range(1 if args.quick else args.seeds))
    songs = load_songs(args.csv)
    print(f"{len(songs)} tracks, {songs['primary_artist_id'].nunique()} artists; seeds {seeds}, "
          f"{args.epochs} epochs, ensemble of {ensemble}", file=sys.stderr)

    rows = pd.DataFrame(run_personas(songs, seeds, args.epochs, ensemble))
    cols = [c for c in rows.columns if c.endswith(("_accuracy", "_roc_auc"))]
    agg = rows.groupby("persona", sort=False)[cols + ["seconds"]].agg(["mean", "std"])
    print("\n## Held-out scores per persona (mean ± sd over seeds)\n")
    print("| persona | tracks | mode | model | accuracy | ROC-AUC |")
    print("|---|---|---|---|---|---|")
    for persona, g in rows.groupby("persona", sort=False):
        for m, label in (("mlp", "MLP"), ("random_forest", "random forest"), ("logistic_regression", "logistic regression"),
                         ("majority", "majority class")):
            acc, auc = agg.loc[persona, (f"{m}_accuracy", "mean")], agg.loc[persona, (f"{m}_roc_auc", "mean")]
            sacc, sauc = agg.loc[persona, (f"{m}_accuracy", "std")], agg.loc[persona, (f"{m}_roc_auc", "std")]
            print(f"| {persona} | {int(g['tracks'].mean())} | {g['mode'].iloc[0]} | {label} | {acc:.3f} ± {np.nan_to_num(sacc):.3f} "
                  f"| {auc:.3f} ± {np.nan_to_num(sauc):.3f} |")
    wins = (rows["mlp_roc_auc"] >= rows["random_forest_roc_auc"]).sum()
    print(f"\nMLP ROC-AUC >= random forest ROC-AUC in {wins} of {len(rows)} runs; mean difference "
          f"{(rows['mlp_roc_auc'] - rows['random_forest_roc_auc']).mean():+.4f}; mean train time {rows['seconds'].mean():.1f} s")
    if args.quick:
        return
    lift = pd.DataFrame(weak_negative_lift(songs, seeds, args.epochs, ensemble))
    print("\n## Lift from random weak negatives (ROC-AUC on held-out artists, likes vs everything else)\n")
    print(f"explicit dislikes only: {lift['explicit only'].mean():.3f} ± {lift['explicit only'].std():.3f}; "
          f"with 1,500 weak negatives: {lift['with weak negatives'].mean():.3f} ± {lift['with weak negatives'].std():.3f}")
    print("\n## Time and memory (5,000 tracks, %d epochs; each in a fresh process)\n" % args.epochs)
    for ens in sorted({1, ensemble}):
        t = timing_in_subprocess(args.csv, args.epochs, ens)
        print(f"ensemble of {ens}: {t['seconds']:.1f} s for the whole run (networks, refit, baselines), MLP AUC "
              f"{t['mlp_auc']:.3f} (random forest {t['rf_auc']:.3f}), epochs run {t['epochs_run']}, peak memory "
              f"{t['peak_rss_mb']:.0f} MB; load average {t['load_average']:.1f} on {os.cpu_count()} cores "
              f"(targets: < 60 s, < 1536 MB)")


if __name__ == "__main__":
    main()
