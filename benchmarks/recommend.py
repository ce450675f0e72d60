"""Benchmark of what ships: tastebot's own `recommend()` end to end, against peers, on real playlists.

Worlds are built from `../shared/data/tidytuesday_spotify_songs.csv` (28,356 real tracks in 471 real
genre playlists; read in place, never copied; the benchmark skips when it is absent) by
benchmarks/worlds.py. For every case the product runs as a user runs it (benchmarks/product.py): the
sandbox starts in-process with the world's catalogue (development app profile), tastebot logs in
(token file in a temporary home), imports the other users' playlists as the corpus, harvests (the
dislike playlist named), trains once (`train_from_store`, --ensemble/--epochs), and recommends three
times from that home: the default (blend weight from training), `--blend 0` and `--blend 1`. Product
defaults everywhere except n.

Protocols (issue 11, item 4):
- personas: the listener owns 30 % of the playlists of one or two subgenres (also saved and top
  tracks); the tracks of the other playlists of those subgenres are the hidden future likes; a
  playlist of a subgenre of another genre is the own dislike playlist "Not for me". Recommend n=100;
  precision at 10, 30, 100 against the future likes.
- labels: likes from one or two subgenres, an own dislike playlist from another genre's subgenre or a
  random mix of other genres, and a playlist of test songs (at most two per artist) by artists
  that appear nowhere in the listener's library, created by the listener after training and ranked
  with `RecommendOptions(from_playlists=(it,), n=its size)`. ROC-AUC of the returned order against
  the labels; test songs the product leaves out (never-heard filter, max-per-artist) rank last and
  are counted.
- labels, apart (`--labels-apart`, a stricter check of ours, not in the issue): the same cases, but
  the test songs come from other playlists than the training ones (likes: the taste's playlists the
  listener does not own; dislikes: every other one of the dislike playlists), and never sit in the
  training ones. In the plain protocol a test dislike shares its corpus playlists with the named
  dislikes, which makes corpus evidence about the dislikes strong; here it speaks only through
  playlists that happen to hold both.

Peers (benchmarks/peers.py) see the same knowledge: random, popularity, co-occurrence item kNN,
implicit ALS and BM25 (corpus + own playlists), random forest and HistGradientBoosting on features
with sampled negatives, each tuned on a validation part of the listener's own data. Peers score
every catalogue track the listener does not know (one id per song), or the test songs.

Output: per-case tables, mean +- std per method (stdout), progress (stderr), every number in --json.

    OPENBLAS_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 \\
        .venv/bin/python benchmarks/recommend.py --json bench-recommend.json
    # smoke run: --quick (2 personas, 1 seed, 2 label cases, ensemble 1, 10 epochs)

--personas and --label-cases are per seed: the default (4 personas, 3 label cases, 3 seeds) runs
12 personas and 9 label cases.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

from worlds import DATA  # noqa: E402

KS = (10, 30, 100)
SHORT = {"tastebot": "tastebot", "tastebot --blend 0": "blend 0", "tastebot --blend 1": "blend 1",
         "tastebot --blend 1 --taste-model mlp": "MLP",
         "random": "random", "popularity": "popular", "co-occurrence kNN": "cooc kNN", "implicit ALS": "ALS",
         "implicit BM25": "BM25", "random forest": "forest", "hist. gradient boosting": "HGB"}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- metrics -------------------------------------------------------------------------------------------
def precisions(order: list[str], future: set[str]) -> dict[str, float]:
    return {f"P@{k}": sum(1 for t in order[:k] if t in future) / k for k in KS}


def order_auc(order: list[str], labels: dict[str, int]) -> tuple[float, int]:
    """ROC-AUC of a ranked list (rank -> score) against labels; labelled tracks missing from the
    list rank last (tied). Returns (auc, how many were missing)."""
    from sklearn.metrics import roc_auc_score

    pos = {t: len(order) - i for i, t in enumerate(order)}
    ids = list(labels)
    scores = [pos.get(t, -1) for t in ids]
    return float(roc_auc_score([labels[t] for t in ids], scores)), sum(1 for t in ids if t not in pos)


def top_ids(items: np.ndarray, cands: np.ndarray, scores: np.ndarray, k: int = max(KS)) -> list[str]:
    return [str(t) for t in items[cands[np.argsort(-scores, kind="stable")[:k]]]]


# -- one case ------------------------------------------------------------------------------------------
def peer_candidates(songs, world, k) -> np.ndarray:
    """Every catalogue track the listener does not know, one id per song (as never-heard does)."""
    from tastebot.names import title_artist_key

    if world.kind == "labels":
        return np.array([k.index[t] for t in world.test_tracks])
    known = set(world.likes) | set(world.dislikes)
    t = songs.tracks
    keys = [title_artist_key(n, a) for n, a in zip(t["track_name"], t["track_artist"])]
    known_keys = {key for tid, key in zip(t.index, keys) if tid in known}
    seen, out = set(), []
    for i, (tid, key) in enumerate(zip(t.index, keys)):
        if tid in known or key in known_keys or (key is not None and key in seen):
            continue
        seen.add(key)
        out.append(i)
    return np.array(out)


def run_case(songs, world, args) -> dict:
    from peers import knowledge, score_peers
    from product import run_product

    t0 = time.perf_counter()
    product = run_product(world, ensemble=args.ensemble, epochs=args.epochs, seed=world.seed)
    t1 = time.perf_counter()
    k = knowledge(songs, world)
    cands = peer_candidates(songs, world, k)
    scores, settings = score_peers(k, world.kind, cands, world.seed, say=say)
    future_rate = (sum(1 for t in k.items[cands] if t in world.future) / len(cands)) if world.kind == "persona" else None
    metrics, dropped = {}, {}
    for name, order in product["picks"].items():
        if world.kind == "persona":
            metrics[name] = precisions(order, world.future)
        else:
            auc, dropped[name] = order_auc(order, world.test_labels)
            metrics[name] = {"ROC-AUC": auc}
    for name, s in scores.items():
        if world.kind == "persona":
            metrics[name] = precisions(top_ids(k.items, cands, s), world.future)
        else:
            metrics[name] = {"ROC-AUC": order_auc(top_ids(k.items, cands, s, len(cands)), world.test_labels)[0]}
    return {"case": world.name, "seed": world.seed, "kind": world.kind, "info": world.info,
            "likes": len(world.likes), "dislikes": len(world.dislikes),
            "future_likes": len(world.future), "test_songs": len(world.test_tracks), "peer_candidates": int(len(cands)),
            "future_share_of_candidates": future_rate,
            "metrics": metrics, "dropped_test_songs": dropped, "peer_settings": settings, "product": product["facts"],
            "seconds": {"product": round(t1 - t0, 1), "peers": round(time.perf_counter() - t1, 1)}}


# -- report --------------------------------------------------------------------------------------------
def table(rows: list[dict], metric: str) -> str:
    methods = list(rows[0]["metrics"])
    head = f"{'case':<42}{'seed':>5}" + "".join(f"{SHORT.get(m, m)[:9]:>10}" for m in methods)
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['case'][:41]:<42}{r['seed']:>5}" + "".join(f"{r['metrics'][m][metric]:>10.3f}" for m in methods))
    return "\n".join(lines)


def summary(rows: list[dict], metrics: list[str]) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for m in rows[0]["metrics"]:
        out[m] = {}
        for key in metrics:
            vals = [r["metrics"][m][key] for r in rows]
            out[m][key] = [float(np.mean(vals)), float(np.std(vals)), len(vals)]
    return out


def summary_table(summ: dict, metrics: list[str]) -> str:
    head = f"{'method':<26}" + "".join(f"{k + ' mean +- std':>22}" for k in metrics)
    lines = [head, "-" * len(head)]
    for m, by in summ.items():
        lines.append(f"{m:<26}" + "".join(f"{by[k][0]:>14.3f} +- {by[k][1]:.3f}" for k in metrics))
    return "\n".join(lines)


def report(results: dict) -> dict:
    out = {}
    for kind, metrics, title in (("personas", [f"P@{k}" for k in KS], "Personas by subgenre"),
                                 ("labels", ["ROC-AUC"], "Labels: test songs by new artists")):
        rows = results.get(kind) or []
        if not rows:
            continue
        print(f"\n== {title}: {len(rows)} cases ==")
        for key in metrics:
            print(f"\n{key} per case (columns: " + ", ".join(f"{SHORT[m]} = {m}" for m in rows[0]["metrics"]) + ")")
            print(table(rows, key))
        if kind == "personas":
            print("\nfuture likes per case (share of the unheard tracks = random's expected precision; how many "
                  "co-occur in a corpus playlist with a like; future-like playlists sharing a track with the likes):")
            for r in rows:
                i = r["info"]
                print(f"  {r['case']} s{r['seed']}: {r['future_likes']} ({r['future_share_of_candidates']:.3f}); "
                      f"{i['future_likes_cooccurring_with_a_like']} co-occur; {i['future_playlists_sharing_a_like']} "
                      f"of {i['future_playlists']} playlists share a like; dislikes from {i['dislike_subgenre']}")
        if kind == "labels":
            print("\ntest songs the product left out (ranked last): " + "; ".join(
                f"{r['case']} s{r['seed']}: " + ", ".join(f"{SHORT[v]} {n}" for v, n in r["dropped_test_songs"].items())
                for r in rows))
        summ = summary(rows, metrics)
        out[kind] = summ
        print(f"\n{title}: mean +- std over {len(rows)} cases")
        print(summary_table(summ, metrics))
    return out


# -- main ----------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--personas", type=int, default=4, help="personas per seed (default 4)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..S-1 (default 3)")
    ap.add_argument("--seed-start", type=int, default=0, help="first seed (default 0): seeds START..START+S-1")
    ap.add_argument("--label-cases", type=int, default=3, help="label cases per seed (default 3)")
    ap.add_argument("--ensemble", type=int, default=3, help="networks per model (default 3, the product's)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--protocol", choices=("personas", "labels", "both"), default="both")
    ap.add_argument("--labels-apart", action="store_true",
                    help="label cases whose test songs come from other playlists than the likes' and dislikes'")
    ap.add_argument("--quick", action="store_true", help="2 personas, 1 seed, 2 label cases, ensemble 1, 10 epochs")
    ap.add_argument("--json", type=Path, default=None, help="write every number here (rewritten after each case)")
    args = ap.parse_args(argv)
    if args.quick:
        args.personas, args.seeds, args.label_cases, args.ensemble, args.epochs = 2, 1, 2, 1, 10
    return args


def main(argv=None) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    args = parse_args(argv)
    if not DATA.is_file():
        print(f"skipped: {DATA} is absent (developer material beside the checkout, not part of the project)")
        return 0
    from worlds import label_world, load_songs, persona_world

    started = time.perf_counter()
    songs = load_songs()
    plan = []
    if args.protocol in ("personas", "both"):
        plan += [("personas", persona_world, i, s) for s in range(args.seed_start, args.seed_start + args.seeds)
                 for i in range(args.personas)]
    if args.protocol in ("labels", "both"):
        build = (lambda songs, i, s: label_world(songs, i, s, apart=True)) if args.labels_apart else label_world
        plan += [("labels", build, i, s) for s in range(args.seed_start, args.seed_start + args.seeds)
                 for i in range(args.label_cases)]
    results: dict = {"command": " ".join(sys.argv), "args": {k: str(v) for k, v in vars(args).items()},
                     "personas": [], "labels": []}
    for n, (kind, build, i, seed) in enumerate(plan, start=1):
        world = build(songs, i, seed)
        say(f"[{n}/{len(plan)}] {kind} {world.name} (seed {seed}): {len(world.likes)} likes, "
            f"{len(world.dislikes)} dislikes, {len(world.future) or len(world.test_tracks)} "
            f"{'future likes' if kind == 'personas' else 'test songs'}")
        row = run_case(songs, world, args)
        results[kind].append(row)
        key = "P@30" if kind == "personas" else "ROC-AUC"
        say(f"  {key}: " + ", ".join(f"{SHORT[m]} {v[key]:.3f}" for m, v in row["metrics"].items())
            + f"  ({row['seconds']['product']:.0f} s product, {row['seconds']['peers']:.0f} s peers)")
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str))
    results["summary"] = report(results)
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\n{len(plan)} cases in {results['seconds']:.0f} s (ensemble {args.ensemble}, {args.epochs} epochs)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
        print(f"every number: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
