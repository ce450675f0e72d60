"""How many requests a harvest makes, against the minimum the page sizes allow.

A generated sandbox world whose listener has a 5,000-track library (saved tracks), in both
profiles: the first harvest's requests per source next to the fewest pages that could carry the
same data, then the requests of a second harvest with nothing new (it must not grow with the
library: the 1,000-track library is measured too, for comparison).

    .venv/bin/python benchmarks/harvest.py [--tracks 5000] [--json]
    .venv/bin/python benchmarks/harvest.py --kills 30     # SIGKILL at random moments, then compare

Needs only the sandbox (no network, no ../shared). Runs a few minutes at most.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))  # the memory keyring and the login helper


def world(library: int, seed: int = 11) -> dict:
    """A generated catalogue whose listener has `library` saved tracks."""
    from tastebot.sandbox import generate_catalog, validate_catalog

    catalog = generate_catalog(seed=seed, n_tracks=max(9000, library * 3))
    rng = random.Random(seed)
    # A listener knows some artists, not all: the library comes from 60% of them, so the rest of
    # the catalogue is music they have not met (as on the real Spotify, only far more so).
    artists = sorted(a["id"] for a in catalog["artists"])
    theirs = set(rng.sample(artists, int(len(artists) * 0.6)))
    ids = [t["id"] for t in catalog["tracks"] if t["artist_ids"][0] in theirs]
    chosen = rng.sample(ids, min(library, len(ids)))
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    catalog["listener"]["saved_tracks"] = [
        {"track_id": tid, "added_at": (start + timedelta(hours=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        for i, tid in enumerate(chosen)
    ]
    return validate_catalog(catalog)


def pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def minimum(sb, summary: dict) -> dict[str, int]:
    """The fewest requests that could carry what this harvest read, per source."""
    state = sb.state
    listener = state.listener_id
    by = {s["name"]: s for s in summary["sources"]}
    out = {
        "me": 1,
        "saved": pages(len(state.saved), 50),
        "top tracks": sum(pages(len(state.top_tracks.get(r, [])), 50) for r in ("short_term", "medium_term", "long_term")),
        "recently played": 1,
        "playlist list": pages(len(state.listener_playlists()), 50),
        "playlist items": sum(pages(len(p.entries), 50) for p in state.listener_playlists() if p.owner_id == listener),
    }
    fp = summary.get("feature_providers") or {}
    out["features"] = sum(math.ceil(fp.get(p, {}).get("asked", 0) / size) for p, size in (("spotify", 100), ("reccobeats", 40)))
    sampled = by.get("sampled_negatives", {})
    out["sampled negatives"] = math.ceil(sampled.get("new", 0) / (50 if summary["app_kind"] == "extended" else 10))
    out["genres"] = math.ceil(by.get("genres", {}).get("items", 0) / 50)
    return out


def made(sb, summary: dict) -> dict[str, int]:
    stats = sb.stats()["requests"]

    def n(*keys: str) -> int:
        return sum(sum(per.values()) for k, per in stats.items() if any(k == key for key in keys))

    by = {s["name"]: s for s in summary["sources"]}
    return {
        "me": n("GET /v1/me"),
        "saved": n("GET /v1/me/tracks"),
        "top tracks": n("GET /v1/me/top/{type}"),
        "recently played": n("GET /v1/me/player/recently-played"),
        "playlist list": n("GET /v1/me/playlists"),
        "playlist items": n("GET /v1/playlists/{id}/items", "GET /v1/playlists/{id}"),
        "features": n("GET /v1/audio-features", "GET /reccobeats/v1/audio-features"),
        "sampled negatives": by.get("sampled_negatives", {}).get("requests", 0),
        "genres": n("GET /v1/artists"),
    }


def harvest_once(settings) -> dict:
    from tastebot.harvest import Harvester, HarvestOptions
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    client = SpotifyClient(settings)
    with open_store(settings) as store:
        return Harvester(settings, client, store, HarvestOptions(), rng_seed=3).run().as_dict()


def measure(catalog: dict, profile: str) -> dict:
    from login_helpers import CLIENT_ID, login_to

    from tastebot.sandbox import Sandbox
    from tastebot.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp, Sandbox(catalog=catalog, profile=profile, seed=11) as sb:
        os.environ["TASTEBOT_HOME"] = str(Path(tmp) / "home")
        os.environ["MEMORY_KEYRING_FILE"] = str(Path(tmp) / "keyring.json")
        login_to(sb, settings=None)
        settings = load_settings(spotify_url=sb.url, client_id=CLIENT_ID)
        sb.reset_stats()
        t0 = time.perf_counter()
        first = harvest_once(settings)
        seconds = time.perf_counter() - t0
        first_made, first_min = made(sb, first), minimum(sb, first)
        sb.reset_stats()
        second = harvest_once(settings)
        return {
            "profile": profile,
            "library": len(sb.state.saved),
            "first": {"made": first_made, "minimum": first_min, "total": sb_total(first_made),
                      "total_minimum": sb_total(first_min), "seconds": round(seconds, 1),
                      "labels": first["labels"], "features": first["features"]},
            "second": {"total": sb.stats()["total"], "per_endpoint": sb.stats()["requests"],
                       "status": second["status"]},
        }


def kill_test(kills: int, library: int = 1000, seed: int = 5) -> dict:
    """The many-kill version of tests/test_harvest_kill.py: `tastebot harvest` in a subprocess,
    SIGKILLed at random moments `kills` times, then run to the end; the store must equal an
    uninterrupted harvest's and pass PRAGMA integrity_check after every kill."""
    import signal
    import subprocess

    from login_helpers import CLIENT_ID, login_to

    from tastebot.sandbox import Sandbox
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    rng = random.Random(seed)
    args = [sys.executable, "-m", "tastebot", "harvest", "--sampled-negatives", "never"]
    with tempfile.TemporaryDirectory() as tmp, Sandbox(catalog=world(library), seed=11, latency_ms=15) as sb:
        home = Path(tmp) / "home"
        os.environ["TASTEBOT_HOME"] = str(home)
        os.environ["MEMORY_KEYRING_FILE"] = str(Path(tmp) / "keyring.json")
        os.environ["TASTEBOT_SPOTIFY_URL"] = sb.url
        os.environ["TASTEBOT_CLIENT_ID"] = CLIENT_ID
        os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests" / "support"), str(ROOT)])
        login_to(sb)
        settings = load_settings()

        def dump():
            with open_store(settings) as s:
                assert s.integrity_check() == "ok", "integrity check failed"
                return s.dump_library()

        subprocess.run(args, check=True, capture_output=True)
        reference = dump()
        for path in home.glob("tastebot.db*"):
            path.unlink()
        mid_harvest = 0
        for _ in range(kills):
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            running = False
            while proc.poll() is None and time.monotonic() < deadline and not running:
                try:
                    with open_store(settings, readonly=True) as s:
                        running = any(r["status"] == "running" for r in s.harvest_runs())
                except Exception:
                    pass
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 2.5))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                mid_harvest += int(running)
            proc.wait()
            if settings.store_path.exists():
                dump()
        subprocess.run(args, check=True, capture_output=True)
        return {"kills": kills, "killed_mid_harvest": mid_harvest, "same_store": dump() == reference,
                "integrity": "ok"}


def sb_total(d: dict[str, int]) -> int:
    return sum(d.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=5000, help="saved tracks in the library (default 5000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--kills", type=int, default=0, metavar="N",
                        help="instead: SIGKILL a harvest N times at random moments, then check the store")
    args = parser.parse_args()
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "memory_keyring.MemoryKeyring")
    for var in ("TASTEBOT_SPOTIFY_URL", "TASTEBOT_CLIENT_ID", "TASTEBOT_RECCOBEATS_URL"):
        os.environ.pop(var, None)
    if args.kills:
        result = kill_test(args.kills)
        print(json.dumps(result) if args.json else
              f"{result['kills']} SIGKILLs ({result['killed_mid_harvest']} inside a running harvest), then a full "
              f"run: store equal to an uninterrupted harvest: {result['same_store']}; integrity_check after every "
              f"kill: {result['integrity']}")
        if not result["same_store"]:
            sys.exit(1)
        return

    results = []
    small = world(1000)
    big = world(args.tracks)
    for profile in ("development", "extended"):
        results.append(measure(big, profile))
        small_second = measure(small, profile)["second"]["total"]
        results[-1]["second_with_1000_tracks"] = small_second

    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        f = r["first"]
        print(f"\n== {r['profile']} app, {r['library']} saved tracks: first harvest in {f['seconds']} s ==")
        print(f"{'source':<20}{'requests':>10}{'minimum':>10}{'over':>8}")
        for key in f["made"]:
            m, n = f["made"][key], f["minimum"][key]
            over = f"{(m - n) / n:+.0%}" if n else ""
            print(f"{key:<20}{m:>10}{n:>10}{over:>8}")
        over = (f["total"] - f["total_minimum"]) / f["total_minimum"]
        print(f"{'total':<20}{f['total']:>10}{f['total_minimum']:>10}{over:>+8.1%}")
        listing = f["total"] - f["made"]["sampled negatives"]
        listing_min = f["total_minimum"] - f["minimum"]["sampled negatives"]
        print(f"{'total w/o sampling':<20}{listing:>10}{listing_min:>10}{(listing - listing_min) / listing_min:>+8.1%}")
        print(f"labels: {f['labels']}; features by provider: {f['features']}")
        print(f"second harvest, nothing new: {r['second']['total']} requests "
              f"(with a 1,000-track library: {r['second_with_1000_tracks']})")


if __name__ == "__main__":
    main()
