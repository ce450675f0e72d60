"""What the listening history adds (issue 13), and how fast its import is.

Quality. On generated sandbox worlds (`generate_catalog(seed, --tracks)`, one listener of hidden
taste each), the product runs twice as a user runs it, through tastebot's own code and the sandbox
over real HTTP (development app profile): login, the other users' playlists as the corpus, harvest
(the dislike playlist named), train (`train_from_store`), recommend n=100 -- once without, once with
`import_history` of the listener's export (`tastebot sandbox export-history`, --plays) before the
harvest. Measured on what neither run saw:
  - ROC-AUC of the trained taste model (TasteModel.predict) between the hidden future likes and the
    tracks the listener does not like and never met (catalogue metadata and audio features, as a
    development app reads them);
  - precision at 10/30/100 of the recommendations against the hidden future likes.
The export's past holds some of the future likes (the listener met them, see tastebot/sandbox/
history.py): they are taken out of the truth for BOTH runs, so both are scored on the same tracks.

Speed. A --speed-plays export (default 100,000 plays, two years) of a 2,000-track world is imported
offline into a fresh store in a subprocess: wall and CPU time, peak resident memory (VmHWM) of that
process; --speed-plays takes several sizes, so the memory can be seen not to grow with the export.

    OPENBLAS_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/history.py \\
        --seeds 0 1 2 --tracks 2000 --plays 20000 [--epochs 20 --ensemble 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

KS = (10, 30, 100)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def catalog_frame(catalog: dict, ids: list[str]):
    """Store-frame rows for catalogue tracks, with what a development app reads (no popularity, no
    genres) and the catalogue's audio features (as ReccoBeats serves them)."""
    import pandas as pd

    from tastebot.store.library_rows import TRACK_FRAME_COLUMNS
    from tastebot.vocab import AUDIO_FEATURES

    tracks = {t["id"]: t for t in catalog["tracks"]}
    albums = {a["id"]: a for a in catalog["albums"]}
    feats = catalog["audio_features"]
    rows = []
    for tid in ids:
        t = tracks[tid]
        alb = albums.get(t["album_id"], {})
        date = alb.get("release_date") or ""
        row = {"track_id": tid, "name": t["name"], "primary_artist_id": t["artist_ids"][0],
               "artist_ids": ",".join(t["artist_ids"]), "album_id": t["album_id"], "isrc": t.get("isrc"),
               "duration_ms": float(t["duration_ms"]), "explicit": int(bool(t.get("explicit"))),
               "popularity": float("nan"), "track_number": float(t.get("track_number") or 1),
               "release_year": float(date[:4]) if date[:4].isdigit() else float("nan"),
               "album_type": alb.get("album_type"), "feature_provider": "reccobeats" if tid in feats else None,
               "genres": ""}
        for c in AUDIO_FEATURES:
            row[c] = float(feats.get(tid, {}).get(c, float("nan")))
        rows.append(row)
    frame = pd.DataFrame.from_records(rows, columns=list(TRACK_FRAME_COLUMNS))
    frame["explicit"] = frame["explicit"].astype("int64")
    return frame


def heard(catalog: dict) -> set[str]:
    listener = catalog["listener"]
    out = {e["track_id"] for e in listener["saved_tracks"]} | {e["track_id"] for e in listener["recently_played"]}
    for ids in listener["top_tracks"].values():
        out.update(ids)
    followed = set(listener["followed_playlist_ids"])
    for p in catalog["playlists"]:
        if p["owner_id"] == listener["user_id"] or p["id"] in followed:
            out.update(p["track_ids"])
    return out


def run_arm(catalog: dict, export_dir: Path | None, truth: set[str], negatives: list[str], *, seed: int,
            epochs: int, ensemble: int) -> dict:
    from product import _login
    from sklearn.metrics import roc_auc_score

    from tastebot import train
    from tastebot.imports import corpus
    from tastebot.models import runs
    from tastebot.demo import _free_port
    from tastebot.harvest import HarvestOptions, run_harvest
    from tastebot.imports.history import import_history
    from tastebot.recommend import RecommendOptions, recommend
    from tastebot.sandbox import Sandbox
    from tastebot.sandbox.format import export_corpus_csv
    from tastebot.sandbox.generator import DISLIKE_PLAYLIST_NAME
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    home = Path(tempfile.mkdtemp(prefix="tastebot-bench-history-"))
    sandbox = Sandbox(catalog=catalog, profile="development", seed=seed)
    sandbox.start()
    out: dict = {}
    try:
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url=sandbox.url, client_id="tastebot-bench",
                                 redirect_uri=f"http://127.0.0.1:{_free_port()}/callback", insecure_storage=True)
        settings.ensure_home()
        _login(settings)
        csv_path = home / "corpus.csv"
        export_corpus_csv(catalog, csv_path)
        t = time.perf_counter()
        with open_store(settings) as store:
            corpus.import_corpus(store, [csv_path])
            if export_dir is not None:
                summary = import_history(store, [export_dir], client=SpotifyClient(settings), lookups=100_000)
                out["history"] = {"signals": summary.signals, "sessions": summary.sessions,
                                  "unresolved": summary.unresolved, "metadata_missing": summary.metadata_missing}
        dislike = next(p["id"] for p in catalog["playlists"]
                       if p["owner_id"] == catalog["listener"]["user_id"] and p["name"] == DISLIKE_PLAYLIST_NAME)
        harvest = run_harvest(settings, HarvestOptions(dislike_playlists=(dislike,))).as_dict()
        out["labels"] = harvest["labels"]
        trained = train.train_from_store(settings, epochs=epochs, seed=seed, ensemble=ensemble)
        out["train_seconds"] = round(time.perf_counter() - t, 1)
        model = runs.load_model(settings)
        ids = sorted(truth) + negatives
        scores = model.predict(catalog_frame(catalog, ids))
        y = np.array([1] * len(truth) + [0] * len(negatives))
        out["taste_auc"] = round(float(roc_auc_score(y, scores)), 4)
        out["cv_roc_auc"] = ((trained.metrics.get("scores") or {}).get("mlp") or {}).get("roc_auc")
        with open_store(settings) as store:
            res = recommend(settings, store, SpotifyClient(settings), RecommendOptions(n=100, seed=seed))
        picks = [r.track_id for r in res.recommendations]
        out.update({f"P@{k}": round(sum(1 for x in picks[:k] if x in truth) / k, 3) for k in KS})
        out["n_recommended"] = len(picks)
    finally:
        sandbox.stop()
        shutil.rmtree(home, ignore_errors=True)
    return out


def quality(args) -> list[dict]:
    from tastebot.sandbox import generate_catalog
    from tastebot.sandbox.history import export_history, history_met

    rows = []
    for seed in args.seeds:
        catalog = generate_catalog(seed=seed, n_tracks=args.tracks)
        work = Path(tempfile.mkdtemp(prefix="tastebot-bench-export-"))
        try:
            export_history(catalog, work, plays=args.plays, seed=seed)
            met = history_met(catalog, seed=seed)
            future = set(catalog["hidden"]["future_likes"])
            truth = future - met
            import json as _json

            played: set[str] = set()
            for f in (work / "Spotify Extended Streaming History").glob("*.json"):
                played.update(e["spotify_track_uri"][14:] for e in _json.loads(f.read_text()) if e["spotify_track_uri"])
            known = heard(catalog) | future | played
            negatives = sorted(t["id"] for t in catalog["tracks"] if t["id"] not in known)
            for arm, export_dir in (("without history", None), ("with history", work)):
                say(f"seed {seed}: {arm} ...")
                t = time.perf_counter()
                r = run_arm(catalog, export_dir, truth, negatives, seed=seed, epochs=args.epochs, ensemble=args.ensemble)
                r.update(seed=seed, arm=arm, truth=len(truth), negatives=len(negatives),
                         seconds=round(time.perf_counter() - t, 1))
                say(f"  {json.dumps(r)}")
                rows.append(r)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return rows


SPEED_SCRIPT = """
import json, resource, sys, time
from tastebot.store import Store
from tastebot.imports.history import import_history
t = time.perf_counter()
with Store(sys.argv[2]) as store:
    s = import_history(store, [sys.argv[1]])
print(json.dumps({"seconds": round(time.perf_counter() - t, 2), "plays_read": s.plays_read,
                  "signals": s.signals, "sessions": s.sessions["sessions"],
                  "cpu_seconds": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime
                                       + resource.getrusage(resource.RUSAGE_SELF).ru_stime, 2),
                  "peak_rss_mb": peak_mb()}))
"""
# ru_maxrss survives fork+exec on Linux (the child starts with the benchmark's own peak); VmHWM is
# the peak of this process's memory map only.
SPEED_PRELUDE = """
import resource
def peak_mb():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
"""


def speed(args, plays: int) -> dict:
    from tastebot.sandbox import generate_catalog
    from tastebot.sandbox.history import export_history

    work = Path(tempfile.mkdtemp(prefix="tastebot-bench-speed-"))
    try:
        catalog = generate_catalog(seed=0, n_tracks=2000)
        t = time.perf_counter()
        written = export_history(catalog, work / "export", plays=plays, seed=0, formats=("extended",))
        write_s = round(time.perf_counter() - t, 1)
        size = sum(Path(f).stat().st_size for f in written["files"])
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
        proc = subprocess.run([sys.executable, "-c", SPEED_PRELUDE + SPEED_SCRIPT, str(work / "export"), str(work / "s.db")],
                              capture_output=True, text=True, env=env, check=True)
        result = json.loads(proc.stdout)
        result.update(plays=written["plays"], files=len(written["files"]), megabytes=round(size / 2**20, 1),
                      export_written_seconds=write_s)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--tracks", type=int, default=2000)
    p.add_argument("--plays", type=int, default=20_000)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--ensemble", type=int, default=1)
    p.add_argument("--speed-plays", type=int, nargs="+", default=[20_000, 100_000])
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--json", dest="json_path")
    args = p.parse_args(argv)
    results: dict = {"args": vars(args)}
    if not args.skip_speed:
        results["speed"] = []
        for plays in args.speed_plays:
            say(f"speed: importing a {plays:,}-play export ...")
            r = speed(args, plays)
            results["speed"].append(r)
            print(f"import of {r['plays']:,} plays ({r['files']} files, {r['megabytes']} MB): {r['seconds']} s wall, "
                  f"{r['cpu_seconds']} s CPU (whole process, imports included), peak resident memory "
                  f"{r['peak_rss_mb']} MB (whole process)", flush=True)
    if not args.skip_quality:
        rows = quality(args)
        results["quality"] = rows
        metrics = ["taste_auc", "P@10", "P@30", "P@100"]
        print(f"\n{'seed':>4}  {'arm':<16}" + "".join(f"{m:>14}" for m in metrics) + f"{'truth':>7}")
        for r in rows:
            print(f"{r['seed']:>4}  {r['arm']:<16}" + "".join(f"{r[m]:>14.3f}" for m in metrics) + f"{r['truth']:>7}")
        for arm in ("without history", "with history"):
            sel = [r for r in rows if r["arm"] == arm]
            print(f"{'mean':>4}  {arm:<16}" + "".join(
                f"{np.mean([r[m] for r in sel]):.3f} ± {np.std([r[m] for r in sel]):.3f}".rjust(14) for m in metrics))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
