"""How fast, how big and how much memory: a Million-Playlist-Dataset-sized `tastebot corpus import`.

Generates synthetic MPD slices (`mpd.slice.<a>-<b>.json`, 1,000 playlists each, the real field set)
deterministically: playlist lengths 5..250 averaging about 66 tracks, track popularity drawn from a
Zipf-Mandelbrot law over 2.6 million tracks (exponent 1.2, offset 300) so that 1,000,000 playlists hold
about 66 million pairs over about 2.26 million distinct tracks, the most popular in about 52,000
playlists, as in the real MPD. Then imports them through the product's own code path
(`tastebot.imports.corpus.import_corpus` on a store in a temp TASTEBOT_HOME, in a subprocess so that its peak
RSS is the import's alone) and prints playlists, pairs, wall time, playlists/s, peak RSS, the store's
size on disk and bytes per pair; then, each in its own subprocess, the time and peak RSS to load the
matrix for recommending: `store.corpus_matrix()`, `CorpusData.from_store` (what HybridScorer uses) and
the track table that reads (`corpus_tracks_frame`, all columns or only artist_name).

    .venv/bin/python benchmarks/corpus_import.py [--playlists 1000000] [--dir DIR] [--keep] [--json]
    .venv/bin/python benchmarks/corpus_import.py --playlists 20000 --profile   # cProfile of the import
    .venv/bin/python benchmarks/corpus_import.py --dir /tmp/mpd --generate-only  # only write the slices
    .venv/bin/python benchmarks/corpus_import.py --home HOME   # only the loading, from a store kept by --keep

Generated slices are reused when `--dir` already holds them (same seed and size). Without `--dir`
they go to a temp dir that is deleted at the end unless `--keep`; the store always goes to a temp
TASTEBOT_HOME, deleted unless `--keep`. Sizes measured at 1,000,000 playlists: 19.5 GB of JSON
(about 300 bytes a pair), and a store of 744 MB (playlists about 5 bytes a pair, tracks about 130
bytes each, plus indexes).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 2017
SLICE = 1000
UNIVERSE = 2_600_000  # tracks that could be drawn; about 2.26M are, for 1M playlists
ZIPF_S, ZIPF_Q = 1.2, 300.0
ARTISTS, ALBUMS = 296_000, 734_000  # as in the real MPD
ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
WORDS = [b"Love", b"Night", b"Summer", b"Heart", b"Fire", b"Dream", b"Road", b"Gold", b"Rain", b"Home",
         b"Wild", b"Blue", b"Light", b"Dance", b"Stay", b"Alive", b"Forever", b"Young", b"Crazy", b"Sweet"]


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------
def _ids(rng, n: int):
    import numpy as np

    letters = np.frombuffer(ALPHABET, dtype=np.uint8)[rng.integers(0, 62, size=(n, 22), dtype=np.uint8)]
    return letters.view("S22").ravel()


def _name(k: int, words: int) -> bytes:
    return b" ".join(WORDS[(k // 20**i) % 20] for i in range(words)) + b" %x" % k


def generate(directory: Path, playlists: int) -> dict:
    """Write the slices (skipping ones already there); returns sizes."""
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / "GENERATED.json"
    spec = {"seed": SEED, "playlists": playlists, "universe": UNIVERSE, "zipf": [ZIPF_S, ZIPF_Q], "v": 1}
    n_slices = -(-playlists // SLICE)
    names = [directory / f"mpd.slice.{i * SLICE}-{min((i + 1) * SLICE, playlists) - 1}.json" for i in range(n_slices)]
    if marker.exists() and json.loads(marker.read_text()) == spec and all(p.exists() for p in names):
        return {"slices": n_slices, "bytes": sum(p.stat().st_size for p in names), "reused": True}
    for stale in directory.glob("mpd.slice.*.json"):
        stale.unlink()
    marker.unlink(missing_ok=True)

    rng = np.random.default_rng(SEED)
    track_ids = _ids(rng, UNIVERSE)
    artist_ids = _ids(rng, ARTISTS)
    album_ids = _ids(rng, ALBUMS)
    # Popularity rank -> track: a random permutation so that popular tracks are not the low ids.
    weights = (np.arange(1, UNIVERSE + 1, dtype=np.float64) + ZIPF_Q) ** -ZIPF_S
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    order = rng.permutation(UNIVERSE)
    # Each track has one album and artist; albums come from artists.
    album_of = rng.integers(0, ALBUMS, size=UNIVERSE)
    artist_of_album = rng.integers(0, ARTISTS, size=ALBUMS)
    duration_of = rng.integers(90_000, 420_000, size=UNIVERSE)
    track_tmpl = (
        b'{"pos": %d, "artist_name": "%s", "track_uri": "spotify:track:%s", "artist_uri": "spotify:artist:%s", '
        b'"track_name": "%s", "album_uri": "spotify:album:%s", "duration_ms": %d, "album_name": "%s"}'
    )
    t0 = time.perf_counter()
    total_bytes = 0
    pid = 0
    for si, path in enumerate(names):
        n = min(SLICE, playlists - pid)
        # Lengths: log-normal around 50, clipped to the MPD's 5..250 (mean about 66).
        lengths = np.clip(np.round(rng.lognormal(np.log(48), 0.8, size=n)), 5, 250).astype(int)
        ranks = np.searchsorted(cdf, rng.random(int(lengths.sum())))
        tracks = order[np.minimum(ranks, UNIVERSE - 1)]
        parts = [b'{\n  "info": {"generated_on": "2017-12-03T08:41:42.057563", "slice": "%d-%d", "version": "v1"},\n'
                 b'  "playlists": [\n' % (pid, pid + n - 1)]
        at = 0
        for j in range(n):
            k = int(lengths[j])
            chosen = list(dict.fromkeys(tracks[at : at + k].tolist()))  # a playlist rarely repeats a track
            at += k
            body = []
            for pos, t in enumerate(chosen):
                alb = int(album_of[t])
                art = int(artist_of_album[alb])
                body.append(track_tmpl % (pos, _name(art, 1), track_ids[t], artist_ids[art], _name(t, 2),
                                          album_ids[alb], int(duration_of[t]), _name(alb, 2)))
            dur = int(duration_of[chosen].sum())
            head = (b'    {"name": "%s", "collaborative": "false", "pid": %d, "modified_at": %d, "num_tracks": %d, '
                    b'"num_albums": %d, "num_followers": %d, "tracks": [\n      '
                    % (_name(pid * 7919 % 1_000_003, 1 + pid % 3), pid, 1_400_000_000 + pid * 97 % 100_000_000,
                       len(chosen), len({int(album_of[t]) for t in chosen}), 1 + pid % 13))
            tail = b'\n    ], "num_edits": %d, "duration_ms": %d, "num_artists": %d}' % (
                1 + pid % 40, dur, len({int(artist_of_album[album_of[t]]) for t in chosen}))
            parts.append(head + b",\n      ".join(body) + tail + (b",\n" if j < n - 1 else b"\n"))
            pid += 1
        parts.append(b"  ]\n}\n")
        data = b"".join(parts)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        total_bytes += len(data)
        if (si + 1) % 50 == 0:
            print(f"  generated {pid:,} playlists ({total_bytes / 1e9:.2f} GB, {time.perf_counter() - t0:.0f} s)",
                  file=sys.stderr, flush=True)
    marker.write_text(json.dumps(spec))
    return {"slices": n_slices, "bytes": total_bytes, "reused": False, "seconds": round(time.perf_counter() - t0, 1)}


# ---------------------------------------------------------------------------------------------
# The measured steps, each run in its own process (`--step`)
# ---------------------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child
    would report the parent's peak (the generation's arrays) instead of its own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def step_import(data_dir: Path, profile: bool) -> dict:
    from tastebot.imports.corpus import import_corpus
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    settings = load_settings()
    done = {"n": 0, "next": 50_000}
    t0 = time.perf_counter()

    def on_playlists(k: int) -> None:
        done["n"] += k
        if done["n"] >= done["next"]:
            done["next"] += 50_000
            el = time.perf_counter() - t0
            print(f"  imported {done['n']:,} playlists ({el:.0f} s, {done['n'] / el:,.0f}/s, "
                  f"peak RSS {_peak_rss_mb():.0f} MB)", file=sys.stderr, flush=True)

    with open_store(settings) as store:
        base_rss = _peak_rss_mb()
        t0 = time.perf_counter()
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            summary = prof.runcall(import_corpus, store, [data_dir], on_playlists=on_playlists)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        else:
            summary = import_corpus(store, [data_dir], on_playlists=on_playlists)
        seconds = time.perf_counter() - t0
        stats = store.corpus_stats()
    return {"playlists": summary.playlists, "pairs": summary.pairs, "tracks": stats["tracks"],
            "seconds": round(seconds, 1), "rss_before_mb": round(base_rss), "peak_rss_mb": round(_peak_rss_mb())}


def step_matrix(how: str) -> dict:
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    settings = load_settings()
    with open_store(settings) as store:
        base = _peak_rss_mb()
        t0 = time.perf_counter()
        if how == "corpus_matrix":
            m, tids, pids = store.corpus_matrix()
        elif how == "CorpusData.from_store":
            from tastebot.models.corpus import CorpusData

            m = CorpusData.from_store(store, include_own=False).matrix
        else:  # the track table CorpusData.from_store reads: every column, or only the artist names
            frame = store.corpus_tracks_frame(columns=["artist_name"] if how.endswith("artist_name") else None)
            seconds = time.perf_counter() - t0
            return {"how": how, "shape": list(frame.shape), "seconds": round(seconds, 1),
                    "rss_before_mb": round(base), "peak_rss_mb": round(_peak_rss_mb())}
        seconds = time.perf_counter() - t0
    return {"how": how, "shape": list(m.shape), "nnz": int(m.nnz), "seconds": round(seconds, 1),
            "rss_before_mb": round(base), "peak_rss_mb": round(_peak_rss_mb()),
            "matrix_mb": round((m.data.nbytes + m.indices.nbytes + m.indptr.nbytes) / 1e6)}


# What loading the corpus for recommending costs: the matrix alone, the whole of what HybridScorer's
# CorpusData.from_store reads, and the track table it reads with every column or only artist names.
LOADS = ("corpus_matrix", "CorpusData.from_store", "corpus_tracks_frame", "corpus_tracks_frame:artist_name")


def run_step(home: Path, *args: str) -> dict:
    env = {**os.environ, "TASTEBOT_HOME": str(home), "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, __file__, "--step", *args], env=env, stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"step {args} failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--playlists", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, help="where the slices are generated (reused if already there)")
    ap.add_argument("--keep", action="store_true", help="keep the generated slices and the store")
    ap.add_argument("--profile", action="store_true", help="cProfile the import (stderr)")
    ap.add_argument("--no-matrix", action="store_true", help="skip the matrix-loading measurements")
    ap.add_argument("--home", type=Path, help="measure only the loading, from this TASTEBOT_HOME (kept)")
    ap.add_argument("--generate-only", action="store_true", help="only write the slices (use with --dir)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.step:
        if args.step[0] == "import":
            res = step_import(Path(args.step[1]), args.step[2:] == ["profile"])
        else:
            res = step_matrix(args.step[1])
        print(json.dumps(res))
        return 0

    if args.home:  # an imported store (from --keep): only the loading
        loads = [run_step(args.home, "matrix", how) for how in LOADS]
        print(json.dumps(loads, indent=2))
        return 0

    work = Path(tempfile.mkdtemp(prefix="tastebot-corpus-bench-"))
    data_dir = args.dir or work / "mpd"
    home = work / "home"
    try:
        print(f"generating {args.playlists:,} playlists in {data_dir} ...", file=sys.stderr, flush=True)
        gen = generate(data_dir, args.playlists)
        if args.generate_only:
            print(json.dumps(gen))
            return 0
        print(f"importing ... (store in {home})", file=sys.stderr, flush=True)
        imp = run_step(home, "import", str(data_dir), *(["profile"] if args.profile else []))
        from tastebot.settings import load_settings

        os.environ["TASTEBOT_HOME"] = str(home)
        store = load_settings().store_path
        size = sum(p.stat().st_size for p in store.parent.glob(store.name + "*"))
        result = {
            "generated": gen,
            "import": {**imp, "playlists_per_s": round(imp["playlists"] / max(imp["seconds"], 1e-9)),
                       "store_mb": round(size / 1e6, 1), "bytes_per_pair": round(size / max(imp["pairs"], 1), 2)},
        }
        if not args.no_matrix:
            result["load"] = [run_step(home, "matrix", how) for how in LOADS]
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            i = result["import"]
            print(f"slices: {gen['slices']:,} ({gen['bytes'] / 1e9:.2f} GB{', reused' if gen['reused'] else ''})")
            print(f"imported: {i['playlists']:,} playlists, {i['pairs']:,} pairs, {i['tracks']:,} tracks")
            print(f"wall time: {i['seconds']:.1f} s ({i['playlists_per_s']:,} playlists/s)")
            print(f"peak RSS of the import process: {i['peak_rss_mb']:,} MB (after opening the store: {i['rss_before_mb']} MB)")
            print(f"store on disk: {i['store_mb']:,} MB ({i['bytes_per_pair']} bytes a pair)")
            for ld in result.get("load", []):
                what = (f"matrix {ld['matrix_mb']:,} MB, {ld['shape'][0]:,} x {ld['shape'][1]:,}, nnz {ld['nnz']:,}"
                        if "nnz" in ld else f"frame {ld['shape'][0]:,} x {ld['shape'][1]}")
                print(f"load {ld['how']}: {ld['seconds']:.1f} s, peak RSS {ld['peak_rss_mb']:,} MB ({what})")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)  # the store, and the slices unless --dir
        else:
            print(f"kept: {work}" + (f" and {args.dir}" if args.dir else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
