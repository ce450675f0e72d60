"""Audio features for a corpus of ids alone: requests, time and the share of the corpus covered
(issue 24 item 2, issue 27 item 5), and what it does to `recommend --offline`'s time.

A world's corpus is imported from playlist and track ids alone (as an MPD slice or a bare id list
is), then its tracks' features are fetched from the sandbox's ReccoBeats over real HTTP through the
product's own path: first `tastebot.imports.corpus.fetch_corpus_features` (what `tastebot corpus features`
runs) stopped after `--interrupt-after` requests, as an interrupted run would be; then `harvest`,
which resumes it within its bound (`--corpus-feature-requests`, 1,000 by default). Prints each
part's requests, seconds, tracks asked and the share covered, and checks that no track was asked
twice (the tracks asked add up to the corpus tracks asked about).

Worlds:
- `--world tidytuesday` (default when ../shared/data/tidytuesday_spotify_songs.csv is present): the
  corpus of benchmarks/worlds.py's persona world (`--persona`, `--seed`): about 470 playlists and
  28,000 tracks, the issue's persona home;
- `--world generated`: the sandbox's generated catalogue of `--n-tracks` tracks;
- `--mpd N`: a synthetic Million-Playlist-Dataset corpus of N playlists (benchmarks/corpus_import.py's
  generator). Its ids are unknown to the sandbox's ReccoBeats (answered with nothing, as the real one
  answers ids it does not know), so this measures the asking alone at scale, bounded by `--max-requests`.
  With `--home HOME` the corpus already imported in HOME's store is used in place (its store keeps
  what was asked: a second run resumes where this one stopped).

`--time-recommend` then trains (`train --no-harvest`) and times `recommend --offline -n 30` (median of
`--repeats` whole-process runs) in this code and, with `--baseline SRC` (a folder holding another
version's `tastebot` package, e.g. `git archive bd5c2f4 tastebot | tar -x -C /tmp/base`), in that
code on a copy of the same store.

    .venv/bin/python benchmarks/corpus_features.py [--world tidytuesday|generated] [--latency-ms 0]
    .venv/bin/python benchmarks/corpus_features.py --time-recommend --baseline /tmp/base
    .venv/bin/python benchmarks/corpus_features.py --corpus full --time-recommend --baseline /tmp/base
    .venv/bin/python benchmarks/corpus_features.py --mpd 20000 --max-requests 2000
    .venv/bin/python benchmarks/corpus_features.py --mpd 1000000 --home HOME --max-requests 1000  # a kept corpus
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _catalog(args):
    if args.world == "tidytuesday":
        from worlds import load_songs, persona_world

        world = persona_world(load_songs(), args.persona, args.seed)
        return world.catalog, (world.dislike_playlist,)
    from tastebot.sandbox.generator import generate_catalog

    return generate_catalog(seed=args.seed, n_tracks=args.n_tracks), ()


def _ids_only_csv(catalog: dict, path: Path) -> int:
    """The other users' playlists as playlist_id,track_id rows; returns the rows."""
    listener = catalog["listener"]["user_id"]
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["playlist_id", "track_id"])
        for p in catalog["playlists"]:
            if p["owner_id"] != listener:
                for t in p["track_ids"]:
                    writer.writerow([p["id"], t])
                    rows += 1
    return rows


def _part(name: str, rep: dict) -> dict:
    return {"part": name, "requests": rep["requests"], "seconds": rep["seconds"], "asked": rep["asked"],
            "found": rep["found"], "share": rep["share"], "with_features": rep["with_features"],
            "tracks": rep["tracks"], "unknown": rep["unknown"], "left": rep["left"], "stopped": rep["stopped"]}


def run_world(args, home: Path) -> dict:
    from product import _login

    from tastebot.imports import corpus
    from tastebot.harvest import HarvestOptions, run_harvest
    from tastebot.sandbox import Sandbox
    from tastebot.settings import load_settings
    from tastebot.store import open_store
    from tastebot.demo import _free_port

    catalog, dislikes = _catalog(args)
    sandbox = Sandbox(catalog=catalog, profile="development", seed=args.seed, latency_ms=args.latency_ms)
    sandbox.start()
    try:
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url=sandbox.url, client_id="tastebot-bench",
                                 redirect_uri=f"http://127.0.0.1:{_free_port()}/callback", insecure_storage=True)
        settings.ensure_home()
        _login(settings)
        if args.corpus == "ids":
            path = home / "corpus-ids.csv"
            pairs = _ids_only_csv(catalog, path)
        else:  # the corpus file carries the audio features (as the benchmark worlds' TidyTuesday CSV)
            from tastebot.sandbox.format import export_corpus_csv

            path = home / "corpus.csv"
            pairs = export_corpus_csv(catalog, path)
        with open_store(settings) as store:
            corpus.import_corpus(store, [path])
            stats = store.corpus_stats()
            t = time.perf_counter()
            first = corpus.fetch_corpus_features(settings, store, max_requests=args.interrupt_after).as_dict()
        harvest = run_harvest(settings, HarvestOptions(dislike_playlists=dislikes,
                                                       corpus_feature_requests=args.corpus_feature_requests)).as_dict()
        rest = harvest["corpus_features"]
        wall = round(time.perf_counter() - t, 1)
        served = sandbox.stats()["requests"].get("GET /reccobeats/v1/audio-features", {})
    finally:
        sandbox.stop()
    asked = first["asked"] + rest["asked"]
    # Every corpus track was asked at most once: the library harvest's own fetch covers some corpus
    # tracks (the listener's likes are in corpus playlists too), so asked <= tracks, and every track
    # the corpus fetch did not ask has features or was never needed.
    return {"world": args.world, "corpus_file": "ids alone" if args.corpus == "ids" else "with audio features",
            "corpus": {**stats, "pairs_written": pairs}, "parts": [_part("interrupted", first),
            _part("harvest (resumed)", rest)], "asked_total": asked, "asked_at_most_once": asked <= stats["tracks"],
            "reccobeats_answers": dict(served), "fetch_and_harvest_seconds": wall, "settings": settings}


def run_mpd(args, home: Path) -> dict:
    from corpus_import import generate

    from tastebot.imports import corpus
    from tastebot.sandbox import Sandbox
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    if args.home:  # a corpus imported before (benchmarks/corpus_import.py --keep): its store, used in place
        home, generated = args.home, None
    else:
        data_dir = Path(args.mpd_dir) if args.mpd_dir else home / "mpd"
        generated = generate(data_dir, args.mpd)
    sandbox = Sandbox(profile="development", seed=args.seed, n_tracks=600, latency_ms=args.latency_ms)
    sandbox.start()
    try:
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url=sandbox.url, client_id="tastebot-bench",
                                 insecure_storage=True)
        settings.ensure_home()
        with open_store(settings) as store:
            t = time.perf_counter()
            if not args.home:
                corpus.import_corpus(store, corpus.expand_paths([data_dir]))
            imported = round(time.perf_counter() - t, 1) if not args.home else None
            stats = store.corpus_stats()
            first = corpus.fetch_corpus_features(settings, store, max_requests=args.interrupt_after).as_dict()
            rest = corpus.fetch_corpus_features(settings, store, max_requests=args.max_requests).as_dict()
    finally:
        sandbox.stop()
        if not args.mpd_dir and not args.home:
            shutil.rmtree(data_dir, ignore_errors=True)
    return {"world": f"mpd {stats['playlists']:,} playlists", "corpus_file": "ids alone", "corpus": stats, "import_seconds": imported,
            "generated": generated, "parts": [_part("interrupted", first), _part("resumed", rest)],
            "asked_total": first["asked"] + rest["asked"],
            "asked_at_most_once": first["asked"] + rest["asked"] <= stats["tracks"]}


_CLI = "import sys; sys.path.insert(0, sys.argv.pop(1)); from tastebot.cli import main; sys.exit(main())"


def _tastebot(src: Path, home: Path, *argv: str) -> tuple[float, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASTEBOT_")}
    env.update(TASTEBOT_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0",
               OPENBLAS_NUM_THREADS=env.get("OPENBLAS_NUM_THREADS", "1"))
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CLI, str(src), *argv], env=env, cwd=home, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"tastebot {' '.join(argv)} ({src}) failed: {done.stderr[-2000:]}")
    return time.perf_counter() - t, done


def time_recommend(src: Path, home: Path, repeats: int) -> dict:
    """train --no-harvest once, then `recommend --offline -n 30` `repeats` times (whole processes)."""
    train_s, _ = _tastebot(src, home, "train", "--no-harvest")
    runs, last = [], None
    for _ in range(repeats):
        s, last = _tastebot(src, home, "recommend", "--offline", "-n", "30", "--json")
        runs.append(s)
    out = json.loads(last.stdout)
    return {"code": str(src), "train_seconds": round(train_s, 1), "recommend_seconds": [round(x, 2) for x in runs],
            "recommend_median": round(statistics.median(runs), 2), "taste_source": out["sources"].get("taste"),
            "taste_picks": sum("taste" in r["sources"] for r in out["recommendations"])}


def _print(result: dict) -> None:
    c = result["corpus"]
    print(f"world: {result['world']}: {c['playlists']:,} playlists, {c['tracks']:,} tracks ({result['corpus_file']})")
    print(f"{'part':<20} {'requests':>9} {'seconds':>8} {'asked':>8} {'found':>8} {'covered':>18} {'left':>8}")
    for p in result["parts"]:
        print(f"{p['part']:<20} {p['requests']:>9,} {p['seconds']:>8.1f} {p['asked']:>8,} {p['found']:>8,} "
              f"{p['with_features']:>9,} ({100 * p['share']:5.1f} %) {p['left']:>8,}")
    print(f"tracks asked in all: {result['asked_total']:,}; none asked twice: {result['asked_at_most_once']}")
    for t in result.get("recommend", []):
        print(f"{t['code']}: train {t['train_seconds']} s; recommend --offline -n 30: median {t['recommend_median']} s "
              f"{t['recommend_seconds']}; taste picks in the top 30: {t['taste_picks']}; taste: {t['taste_source']}")


def main() -> int:
    from worlds import DATA

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", choices=("tidytuesday", "generated"),
                    default="tidytuesday" if DATA.exists() else "generated")
    ap.add_argument("--corpus", choices=("ids", "full"), default="ids",
                    help="the corpus file: ids alone (default) or with the audio features (nothing to fetch)")
    ap.add_argument("--persona", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-tracks", type=int, default=20000)
    ap.add_argument("--mpd", type=int, help="a synthetic MPD corpus of this many playlists instead of a world")
    ap.add_argument("--mpd-dir", help="where the MPD slices are (generated there once; reused)")
    ap.add_argument("--interrupt-after", type=int, default=100, help="requests of the first, interrupted part")
    ap.add_argument("--corpus-feature-requests", type=int, default=1000, help="harvest's bound")
    ap.add_argument("--max-requests", type=int, default=2000, help="the resumed part's bound (--mpd)")
    ap.add_argument("--home", type=Path, help="with --mpd: a TASTEBOT_HOME whose store holds an imported MPD "
                    "corpus (benchmarks/corpus_import.py --keep), used in place instead of generating one")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="added to every sandbox request")
    ap.add_argument("--time-recommend", action="store_true")
    ap.add_argument("--baseline", help="a folder with another version's tastebot package, timed beside this one")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the home (its path is printed)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="tastebot-corpus-features-"))
    try:
        result = run_mpd(args, home) if args.mpd else run_world(args, home)
        result.pop("settings", None)
        if args.time_recommend and not args.mpd:
            timed = []
            if args.baseline:
                base_home = Path(str(home) + "-baseline")
                shutil.copytree(home, base_home, ignore=shutil.ignore_patterns("models"))
                try:
                    timed.append(time_recommend(Path(args.baseline).resolve(), base_home, args.repeats))
                finally:
                    shutil.rmtree(base_home, ignore_errors=True)
            timed.append(time_recommend(ROOT, home, args.repeats))
            result["recommend"] = timed
        if args.keep:
            result["home"] = str(home)
        print(json.dumps(result, indent=2, default=str)) if args.json else _print(result)
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
