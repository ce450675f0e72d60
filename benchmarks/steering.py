"""What steering does and what it costs: `recommend --mood M` against the same run without it.

For each persona world of benchmarks/worlds.py (real tracks and playlists of
../shared/data/tidytuesday_spotify_songs.csv; skipped when absent) the product is prepared exactly as
benchmarks/recommend.py prepares it (benchmarks/product.py: sandbox, login, corpus, harvest, train),
then `tastebot.recommend.recommend` runs from that one trained home with n=100, once plain and once
per mood (the product's own `Steering.from_options(mood=...)`). Per case and as mean +- std:

- the picks' mean energy / valence / danceability / acousticness / tempo (from the world's catalogue),
- how many picks the mood left (fewer than n when too few candidates fit),
- precision at 10, 30 and 100 against the persona's hidden future likes (a pick list shorter than k
  counts its missing places as misses): what a listener who asks for calm gives up in hits.

    OPENBLAS_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 \\
        .venv/bin/python benchmarks/steering.py --moods calm --seeds 2 --personas 2 --json bench-steering.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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

from worlds import DATA  # noqa: E402

KS = (10, 30, 100)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_case(world, moods: list[str], args) -> dict:
    from product import _prepare

    from tastebot.demo import _free_port
    from tastebot.recommend import RecommendOptions, recommend
    from tastebot.sandbox import Sandbox
    from tastebot.settings import load_settings
    from tastebot.recommend.steering import Steering
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store
    from tastebot.vocab import STEERABLE_FEATURES

    home = Path(tempfile.mkdtemp(prefix="tastebot-bench-steer-"))
    sandbox = Sandbox(catalog=world.catalog, profile="development", seed=args.seed_of_case)
    sandbox.start()
    try:
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url=sandbox.url, client_id="tastebot-bench",
                                 redirect_uri=f"http://127.0.0.1:{_free_port()}/callback", insecure_storage=True)
        settings.ensure_home()
        _prepare(world, settings, home, ensemble=args.ensemble, epochs=args.epochs, seed=args.seed_of_case, timer={})
        client = SpotifyClient(settings)
        feats = world.catalog["audio_features"]
        rows = {}
        for variant in ["plain"] + moods:
            steering = Steering() if variant == "plain" else Steering.from_options(mood=variant)
            with open_store(settings) as store:
                res = recommend(settings, store, client, RecommendOptions(n=100, steering=steering, seed=args.seed_of_case))
            ids = [r.track_id for r in res.recommendations]
            row = {"picks": len(ids)}
            for f in STEERABLE_FEATURES:
                vals = [feats[t][f] for t in ids if t in feats and feats[t].get(f) is not None]
                row[f] = float(np.mean(vals)) if vals else float("nan")
            row.update({f"P@{k}": sum(1 for t in ids[:k] if t in world.future) / k for k in KS})
            row["after steering"] = res.candidates.get("after steering", res.candidates.get("after never-heard filter"))
            rows[variant] = row
        return rows
    finally:
        sandbox.stop()
        shutil.rmtree(home, ignore_errors=True)


def main(argv=None) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moods", default="calm", help="comma-separated moods (default calm)")
    ap.add_argument("--personas", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--ensemble", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if not DATA.is_file():
        print(f"skipped: {DATA} is absent (developer material beside the checkout, not part of the project)")
        return 0
    from worlds import load_songs, persona_world

    from tastebot.vocab import STEERABLE_FEATURES

    moods = [m.strip() for m in args.moods.split(",") if m.strip()]
    songs = load_songs()
    cases = []
    started = time.perf_counter()
    for seed in range(args.seeds):
        for i in range(args.personas):
            world = persona_world(songs, i, seed)
            args.seed_of_case = seed
            say(f"persona {world.name} (seed {seed}): {len(world.likes)} likes, {len(world.future)} future likes")
            rows = run_case(world, moods, args)
            cases.append({"world": world.name, "seed": seed, "rows": rows})
            for v, r in rows.items():
                say(f"  {v:>10}: {r['picks']} picks, energy {r['energy']:.3f}, P@30 {r['P@30']:.3f}")
            if args.json:
                args.json.write_text(json.dumps({"command": " ".join(sys.argv), "cases": cases}, indent=1))
    cols = ["picks", *STEERABLE_FEATURES, *(f"P@{k}" for k in KS)]
    print("per case:")
    print("case | variant | " + " | ".join(cols))
    for c in cases:
        for v, r in c["rows"].items():
            print(f"{c['world']} s{c['seed']} | {v} | " + " | ".join(f"{r[k]:.3f}" if k != "picks" else str(r[k]) for k in cols))
    print("\nmean +- std over cases:")
    for v in ["plain"] + moods:
        parts = []
        for k in cols:
            vals = np.array([c["rows"][v][k] for c in cases], dtype=float)
            parts.append(f"{k} {np.nanmean(vals):.3f}+-{np.nanstd(vals):.3f}")
        print(f"{v}: " + ", ".join(parts))
    print(f"\n{len(cases)} cases in {time.perf_counter() - started:.0f} s (ensemble {args.ensemble}, {args.epochs} epochs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
