"""How fast and how much memory: `train` and `recommend` on a large corpus, and scoring 100,000 candidates.

Starts from a home whose store holds an imported corpus (e.g. the 1,000,000-playlist one that
`benchmarks/corpus_import.py --dir /tmp/cb1m --keep` leaves behind). A listener is planted in it: the
tracks of 40 corpus playlists become likes and 400 random corpus tracks dislikes, each with synthetic
audio features (likes and dislikes drawn from two different distributions, so there is a taste to
learn). Then, each step in its own subprocess so its peak RSS is its own:

1. `tastebot.train.train_from_store` (networks, the learned ranking, the collaborative scorer fitted
   once on the whole corpus and saved with the run);
2. `tastebot.recommend.recommend` offline (client None: candidates from the corpus retrievers and the
   taste model over every corpus track with features), as `tastebot recommend --offline` runs it;
3. scoring 100,000 corpus tracks as one candidate frame as recommend does (`score_candidates`: the
   evidence with the taste model beside it in a second thread), then the learned ranking; each part is
   also timed alone (evidence, the MLP, the forest).

    .venv/bin/python benchmarks/recommend_scale.py --home HOME [--epochs 10] [--ensemble 1] [--json]
    TASTEBOT_HOME=HOME .venv/bin/python benchmarks/recommend_scale.py --step collab  # after --step plant:
        the corpus load and one collaborative fit alone (peak RSS after each; the fit's is the step's)
    TASTEBOT_HOME=HOME .venv/bin/python benchmarks/recommend_scale.py --step score 100000  # any trained
        home: step 3 alone (a corpus under 100,000 tracks gives some more than once)

The home is changed (a library and a model run are added): pass a copy if it matters.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

FEATURES = {"danceability": (0.7, 0.3), "energy": (0.8, 0.35), "valence": (0.6, 0.3), "acousticness": (0.1, 0.6),
            "tempo": (125.0, 95.0), "loudness": (-5.0, -12.0)}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_plant(seed: int) -> dict:
    """A listener: the tracks of 40 playlists liked, 400 random tracks disliked, features for all."""
    import numpy as np

    from tastebot.settings import load_settings
    from tastebot.store import open_store

    rng = np.random.default_rng(seed)
    with open_store(load_settings()) as store:
        m, track_ids, _ = store.corpus_matrix()
        rows = rng.choice(m.shape[0], size=40, replace=False)
        liked = sorted({str(track_ids[j]) for r in rows for j in m.indices[m.indptr[r]:m.indptr[r + 1]]})
        disliked = sorted(set(map(str, rng.choice(track_ids, size=400, replace=False))) - set(liked))
        meta = store.corpus_tracks_frame(liked + disliked, columns=["name", "artist_name", "artist_id"])
        by_id = {r["track_id"]: r for r in meta.to_dict("records")}
        tracks, features, signals = [], {}, []
        for tid, like in [(t, True) for t in liked] + [(t, False) for t in disliked]:
            r = by_id[tid]
            tracks.append({"id": tid, "type": "track", "name": r["name"] or tid, "duration_ms": 200_000,
                           "artists": [{"id": r["artist_id"] or f"a-{r['artist_name']}", "name": r["artist_name"]}]})
            features[tid] = {f: float(rng.normal(lo if like else hi, abs(hi - lo) / 3)) for f, (lo, hi) in FEATURES.items()}
            features[tid].update(key=int(rng.integers(0, 12)), mode=int(rng.integers(0, 2)))
            signals.append({"track_id": tid, "source": "saved" if like else "dislike_playlist",
                            "kind": "like" if like else "dislike", "strength": "explicit", "weight": 1.0,
                            "at": "2026-11-01T00:00:00Z"})
        with store.transaction():
            store.upsert_tracks(tracks)
        store.upsert_features(features, "import")
        store.add_signals(signals)
    return {"likes": len(liked), "dislikes": len(disliked), "corpus_playlists": int(m.shape[0]),
            "corpus_tracks": int(m.shape[1])}


def step_train(epochs: int, ensemble: int) -> dict:
    from tastebot.settings import load_settings
    from tastebot.train import train_from_store

    t0 = time.perf_counter()
    result = train_from_store(load_settings(), epochs=epochs, ensemble=ensemble, seed=0)
    ranking = result.metrics.get("ranking", {})
    return {"seconds": round(time.perf_counter() - t0, 1), "ranking_used": ranking.get("used"),
            "ranking_checks": ranking.get("checks"), "mlp_roc_auc": result.metrics["scores"]["mlp"]["roc_auc"]}


def step_collab() -> dict:
    """The corpus load and one collaborative fit as `train` does them (no networks): peak RSS after each."""
    from tastebot.models.collab import HybridScorer
    from tastebot.models.corpus import CorpusData
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    with open_store(load_settings()) as store:
        labelled = store.labelled_tracks()
        t0 = time.perf_counter()
        corpus = CorpusData.from_store(store, include_own=False)
        load = {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(_peak_mb()),
                "nnz": int(corpus.matrix.nnz)}
        t1 = time.perf_counter()
        HybridScorer.fit(corpus, labelled, seed=0)
    return {"load": load, "fit_seconds": round(time.perf_counter() - t1, 1)}


def step_recommend() -> dict:
    from tastebot.recommend import RecommendOptions, recommend
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    settings = load_settings()
    t0 = time.perf_counter()
    with open_store(settings) as store:
        result = recommend(settings, store, None, RecommendOptions(n=30))
    return {"seconds": round(time.perf_counter() - t0, 1), "ranking": result.ranking, "collab_from": result.collab_from,
            "candidates": result.candidates, "picks": len(result.recommendations)}


def step_score(n: int) -> dict:
    import numpy as np

    from tastebot.models.collab import load_scorer
    from tastebot.models.ranker import evidence_frame
    from tastebot.recommend import score_candidates
    from tastebot.settings import load_settings
    from tastebot.store import open_store
    from tastebot.models.runs import load_model

    settings = load_settings()
    model = load_model(settings)
    with open_store(settings) as store:
        scorer, _ = load_scorer(model.run_dir, corpus_ids=store.corpus_track_ids)
        # A corpus smaller than n (a persona's home) gives some of its tracks more than once.
        ids = list(np.random.default_rng(1).choice(scorer.corpus.track_ids, size=n,
                                                   replace=len(scorer.corpus.track_ids) < n))
        frame = store.corpus_tracks_frame(ids)
        if len(frame) < n:  # ids drawn twice, or of the own playlists (not corpus rows): rows drawn again
            frame = frame.iloc[np.random.default_rng(3).integers(0, len(frame), n)].reset_index(drop=True)
    rng = np.random.default_rng(2)
    # Half the candidates with audio features, half without, as a mixed pool has: a track's features
    # come from one provider answer, all or none.
    with_features = rng.random(n) < 0.5
    for f, (lo, hi) in FEATURES.items():
        frame[f] = np.where(with_features, rng.normal((lo + hi) / 2, abs(hi - lo) / 2, n), np.nan)
    # Each part alone first (for the breakdown), then what recommend runs: score_candidates (the
    # taste model in a second thread beside the evidence) and the ranking.
    t0 = time.perf_counter()
    scorer.evidence(frame)
    t1 = time.perf_counter()
    model.with_members(("mlp",)).predict(frame)
    t2 = time.perf_counter()
    model.with_members(("forest",)).predict(frame)
    t3 = time.perf_counter()
    raw, taste = score_candidates(scorer, model, frame)
    t4 = time.perf_counter()
    final = model.ranking.final(evidence_frame(raw, taste))
    t5 = time.perf_counter()
    assert len(final) == n
    return {"candidates": n, "evidence_s": round(t1 - t0, 3), "mlp_s": round(t2 - t1, 3),
            "forest_s": round(t3 - t2, 3), "evidence_and_taste_s": round(t4 - t3, 3),
            "ranking_s": round(t5 - t4, 3), "total_s": round(t5 - t3, 3)}


def run_step(home: Path, name: str, *args: str) -> dict:
    env = {**os.environ, "TASTEBOT_HOME": str(home)}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--step", name, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"step {name} failed:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["wall_s"] = round(time.perf_counter() - t0, 1)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--ensemble", type=int, default=1)
    ap.add_argument("--candidates", type=int, default=100_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        name, rest = args.step[0], args.step[1:]
        data = {"plant": lambda: step_plant(0), "train": lambda: step_train(int(rest[0]), int(rest[1])),
                "recommend": step_recommend, "score": lambda: step_score(int(rest[0])), "collab": step_collab}[name]()
        data["peak_rss_mb"] = round(_peak_mb())
        # CPU seconds (all threads) beside the wall time: on a shared, loaded machine the wall time is
        # mostly waiting for a core.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        data["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 1)
        print(json.dumps(data, default=str))
        return
    if args.home is None:
        sys.exit("--home HOME (a TASTEBOT_HOME whose store holds an imported corpus) is required")
    results = {}
    for name, extra in (("plant", ()), ("train", (str(args.epochs), str(args.ensemble))), ("recommend", ()),
                        ("score", (str(args.candidates),))):
        results[name] = run_step(args.home, name, *extra)
        print(f"{name:<10} {json.dumps(results[name], default=str)}", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        s = results["score"]
        print(f"train:     {results['train']['wall_s']} s wall ({results['train']['cpu_s']} s CPU), peak RSS "
              f"{results['train']['peak_rss_mb']} MB (target: 120 s, 2048 MB)")
        print(f"recommend: {results['recommend']['wall_s']} s wall ({results['recommend']['cpu_s']} s CPU), peak RSS "
              f"{results['recommend']['peak_rss_mb']} MB (target < 1024 MB)")
        print(f"scoring {s['candidates']:,} candidates: total {s['total_s']} s (target < 1 s) = evidence and taste "
              f"model side by side {s['evidence_and_taste_s']} s + ranking {s['ranking_s']} s; alone: evidence "
              f"{s['evidence_s']} s, MLP {s['mlp_s']} s, forest {s['forest_s']} s")


if __name__ == "__main__":
    main()
