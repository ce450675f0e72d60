"""Benchmark of discovery (issue 14): what related artists from the open services add, end to end.

For each seed, the sandbox's own generated world (`generate_catalog(seed, n_tracks)`, one listener of
hidden taste, docs/sandbox-catalog.md) is served in-process as a **development-mode** app, and the
product runs as a user without a corpus runs it: login (token file in a temporary home), harvest,
train (`train_from_store`), then `recommend()` four times from that home:

    without discovery        RecommendOptions(n, use_discovery=False)
    with discovery           RecommendOptions(n)                       (the default: Deezer)
    new artists, without     RecommendOptions(n, new_artists_only=True, use_discovery=False)
    new artists, with        RecommendOptions(n, new_artists_only=True)

The Deezer the sandbox emulates relates artists that share other users' playlists (the world's
hidden structure); the future likes are the liked tracks the listener has not met
(`hidden.future_likes`), decided by the hidden taste, never by those playlists. Reported per run:

- `picks`: how many tracks came back (n asked);
- `P@n`: future likes among the picks, divided by n (a short list counts its missing picks as misses);
- `hit/pick`: future likes among the picks, divided by the picks returned;
- `new artists`: the share of the picks by an artist the listener has never met (no known track
  credits them);
- `disc.`: the share of the picks a discovery retriever proposed;
- `chance`: the share of future likes among every catalogue track the listener does not know (what a
  random pick scores), and `chance new`: the same among tracks of unknown artists.

    OPENBLAS_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 \\
        .venv/bin/python benchmarks/discovery.py --seeds 5 --json bench-discovery.json
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

VARIANTS = {
    "without discovery": {"use_discovery": False},
    "with discovery": {},
    "new artists, without": {"new_artists_only": True, "use_discovery": False},
    "new artists, with": {"new_artists_only": True},
}


def run_seed(seed: int, *, n_tracks: int, n: int, epochs: int, ensemble: int) -> dict:
    from product import _login

    from tastebot import train
    from tastebot.demo import _free_port
    from tastebot.harvest import HarvestOptions, run_harvest
    from tastebot.known import Known
    from tastebot.recommend import RecommendOptions, recommend
    from tastebot.sandbox import Sandbox, generate_catalog
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    catalog = generate_catalog(seed=seed, n_tracks=n_tracks)
    future = set(catalog["hidden"]["future_likes"])
    home = Path(tempfile.mkdtemp(prefix="tastebot-bench-discovery-"))
    timer: dict[str, float] = {}
    sandbox = Sandbox(catalog=catalog, profile="development", seed=seed)
    sandbox.start()
    try:
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url=sandbox.url, client_id="tastebot-bench",
                                 redirect_uri=f"http://127.0.0.1:{_free_port()}/callback", insecure_storage=True)
        settings.ensure_home()
        _login(settings)
        t = time.perf_counter()
        run_harvest(settings, HarvestOptions())
        timer["harvest"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        train.train_from_store(settings, epochs=epochs, seed=seed, ensemble=ensemble)
        timer["train"] = round(time.perf_counter() - t, 1)
        client = SpotifyClient(settings)
        with open_store(settings) as store:
            known = Known.from_store(store)
        tracks = {t["id"]: t for t in catalog["tracks"]}
        unknown = [t for t in tracks if not known.knows_song(t, tracks[t]["isrc"], None, None)]
        new_artist_tracks = [t for t in unknown if not set(tracks[t]["artist_ids"]) & known.artist_ids]
        out = {"seed": seed, "future_likes": len(future),
               "chance": round(len(future & set(unknown)) / max(1, len(unknown)), 4),
               "chance_new": round(len(future & set(new_artist_tracks)) / max(1, len(new_artist_tracks)), 4),
               "variants": {}}
        for name, extra in VARIANTS.items():
            t = time.perf_counter()
            before = sum(sum(v.values()) for k, v in sandbox.stats()["requests"].items() if k.startswith("GET /deezer"))
            with open_store(settings) as store:
                res = recommend(settings, store, client, RecommendOptions(n=n, seed=seed, **extra))
            after = sum(sum(v.values()) for k, v in sandbox.stats()["requests"].items() if k.startswith("GET /deezer"))
            timer[name] = round(time.perf_counter() - t, 1)
            picks = res.recommendations
            new = [r for r in picks if not set(tracks[r.track_id]["artist_ids"]) & known.artist_ids]
            disc = [r for r in picks if any(s.startswith("discovery:") for s in r.sources)]
            out["variants"][name] = {
                "picks": len(picks),
                "precision": round(sum(r.track_id in future for r in picks) / n, 4),
                "hit_rate": round(sum(r.track_id in future for r in picks) / max(1, len(picks)), 4),
                "new_artists": round(len(new) / max(1, len(picks)), 4),
                "new_artist_hits": sum(r.track_id in future for r in new),
                "discovery_share": round(len(disc) / max(1, len(picks)), 4),
                "discovery_hits": sum(r.track_id in future for r in disc),
                "deezer_requests": after - before,
                "candidates": res.candidates,
                "discovery": res.sources.get("discovery:deezer") or res.sources.get("discovery"),
            }
        out["seconds"] = timer
        return out
    finally:
        sandbox.stop()
        shutil.rmtree(home, ignore_errors=True)


def print_tables(results: list[dict], n: int) -> None:
    head = (f"{'seed':>4}  {'variant':<22} {'picks':>5} {'P@' + str(n):>6} {'hit/pick':>8} {'new art.':>8} {'disc.':>6} "
            f"{'chance':>7} {'ch. new':>7}")
    print(head)
    print("-" * len(head))
    for r in results:
        for name, v in r["variants"].items():
            print(f"{r['seed']:>4}  {name:<22} {v['picks']:>5} {v['precision']:>6.3f} {v['hit_rate']:>8.3f} {v['new_artists']:>8.2f} "
                  f"{v['discovery_share']:>6.2f} {r['chance']:>7.3f} {r['chance_new']:>7.3f}")
    print()
    print(f"{'mean +- std over ' + str(len(results)) + ' seeds':<28} {'P@' + str(n):>14} {'hit/pick':>14} {'new artists':>14} "
          f"{'picks':>8}")
    for name in VARIANTS:
        p = np.array([r["variants"][name]["precision"] for r in results])
        h = np.array([r["variants"][name]["hit_rate"] for r in results])
        a = np.array([r["variants"][name]["new_artists"] for r in results])
        k = np.array([r["variants"][name]["picks"] for r in results])
        print(f"{name:<28} {p.mean():>7.3f} +- {p.std():.3f} {h.mean():>7.3f} +- {h.std():.3f} {a.mean():>7.2f} +- {a.std():.2f} "
              f"{k.mean():>8.1f}")
    c = np.array([r["chance"] for r in results])
    cn = np.array([r["chance_new"] for r in results])
    print(f"{'chance (random unknown track)':<28} {c.mean():>7.3f} +- {c.std():.3f}")
    print(f"{'chance (unknown artist)':<28} {cn.mean():>7.3f} +- {cn.std():.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5, help="worlds 0..S-1 (default 5)")
    ap.add_argument("--tracks", type=int, default=3000, help="tracks per generated world (default 3000)")
    ap.add_argument("-n", type=int, default=30, help="picks asked (default 30, the product's)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--ensemble", type=int, default=3, help="networks per model (default 3, the product's)")
    ap.add_argument("--json", type=Path, default=None, help="write every number here")
    args = ap.parse_args(argv)
    results = []
    for seed in range(args.seeds):
        t = time.perf_counter()
        print(f"seed {seed}: world of {args.tracks} tracks ...", file=sys.stderr, flush=True)
        results.append(run_seed(seed, n_tracks=args.tracks, n=args.n, epochs=args.epochs, ensemble=args.ensemble))
        print(f"seed {seed}: done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        if args.json:
            args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results},
                                            indent=1))
    print_tables(results, args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
