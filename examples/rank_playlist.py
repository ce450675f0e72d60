"""Rank a playlist's tracks by your taste, through the library API (what `recommend --from-playlist` does).

What it shows: `tastebot.recommend.recommend()` with `RecommendOptions(from_playlists=...)`: only that
playlist's tracks are candidates; the tracks you already know (saved, played, in your playlists, or
the same song under another id) are left out, the rest are ranked by the blend of your taste model
and the hybrid collaborative score. No cap per artist and no diversity re-ranking here: the whole
playlist, in taste order. It harvests first when the store is empty and trains a small model when
the home has none.

A development-mode Spotify app can read only playlists you own or collaborate on (the tracks of
which you already know), so ranking someone else's playlist needs an extended-quota app, or a copy
of that playlist in a playlist of your own made after your last harvest. With `--sandbox` the
example therefore starts an extended-profile sandbox and picks a public playlist of another user.

Run it:
    python examples/rank_playlist.py --sandbox
    TASTEBOT_HOME=~/my-tastebot python examples/rank_playlist.py spotify:playlist:37i9dQZF1DXcBWIGoYBM5M
Options: --epochs N (training when there is no model; default 5), --json (one JSON document on stdout).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _session import say, session  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("playlist", nargs="?", help="spotify:playlist:ID, an open.spotify.com link or the id")
    parser.add_argument("--sandbox", action="store_true", help="start an in-process (extended) sandbox in a temporary home")
    parser.add_argument("--seed", type=int, default=7, help="the sandbox catalogue's seed (default 7)")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs when the home has no model (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    args = parser.parse_args(argv)
    if not args.playlist and not args.sandbox:
        parser.error("name a playlist (or use --sandbox, which picks one)")

    from tastebot.errors import TastebotError

    try:
        with session(args.sandbox, profile="extended", seed=args.seed) as (settings, sandbox):
            ref = args.playlist or pick_playlist(sandbox.catalog)
            report = rank(settings, ref, epochs=args.epochs)
    except TastebotError as exc:
        say(f"error: {exc.message}")
        return exc.exit_code
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)
    return 0


def pick_playlist(catalog: dict) -> str:
    """The largest public playlist of another user that shares no track with the listener's library."""
    listener = catalog["listener"]
    known = {s["track_id"] for s in listener["saved_tracks"]} | {p["track_id"] for p in listener["recently_played"]}
    for ids in listener["top_tracks"].values():
        known |= set(ids)
    others = []
    for p in catalog["playlists"]:
        if p["owner_id"] == listener["user_id"]:
            known |= {t for t in p["track_ids"] if t}
        elif p["public"]:
            others.append(p)
    fresh = [p for p in others if not set(p["track_ids"]) & known] or others
    return max(fresh, key=lambda p: len(p["track_ids"]))["id"]


def rank(settings, ref: str, *, epochs: int) -> dict:
    from tastebot.harvest import Harvester, HarvestOptions
    from tastebot.lock import home_lock
    from tastebot.recommend import RecommendOptions, recommend
    from tastebot.spotify.client import SpotifyClient
    from tastebot.spotify.refs import parse_playlist_ref, playlist_item_track
    from tastebot.store import open_store
    from tastebot.models.runs import latest_run_id
    from tastebot.train import train_from_store

    playlist_id = parse_playlist_ref(ref)
    client = SpotifyClient(settings)
    # Recommend writes the candidates' metadata and features to the store: hold the home's lock.
    with home_lock(settings):
        with open_store(settings) as store:
            if sum(store.label_counts().values()) == 0:
                say("the store is empty: harvesting first ...")
                Harvester(settings, client, store, HarvestOptions()).run()
        if latest_run_id(settings) is None:
            say(f"no model yet: training one ({epochs} epochs) ...")
            train_from_store(settings, epochs=epochs, ensemble=1)

        playlist_tracks = []
        for page in client.playlist_items_pages(playlist_id):
            for item in page.get("items") or []:
                track = playlist_item_track(item)
                if track and track.get("id") and not track.get("is_local"):
                    playlist_tracks.append(track["id"])
        if not playlist_tracks:
            from tastebot.errors import InputError

            raise InputError(f"The playlist {playlist_id} holds no Spotify tracks to rank.")
        say(f"ranking the {len(set(playlist_tracks))} tracks of playlist {playlist_id} ...")
        options = RecommendOptions(n=len(set(playlist_tracks)), from_playlists=(ref,), max_per_artist=0, diversity=0.0)
        with open_store(settings) as store:
            result = recommend(settings, store, client, options)

    ranked = [r.track_id for r in result.recommendations]
    return {
        "playlist": playlist_id,
        "playlist_tracks": len(set(playlist_tracks)),
        "model_run": result.model_run,
        "ranking": result.ranking,
        "ranked_by": result.blend_from,
        "ranked": [
            {"rank": r.rank, "track_id": r.track_id, "name": r.name, "artist": r.artist, "score": r.score,
             "taste": r.taste, "mlp": r.taste, "hybrid": r.hybrid, "why": r.why}
            for r in result.recommendations
        ],
        # Tracks of the playlist that are not ranked: ones you know, or the same song twice.
        "left_out": [t for t in dict.fromkeys(playlist_tracks) if t not in set(ranked)],
        "removed": result.removed,
        "warnings": result.warnings,
    }


def print_text(report: dict) -> None:
    print(f"playlist {report['playlist']}: {report['playlist_tracks']} tracks; model {report['model_run']}, "
          f"ranked by {report['ranked_by']}")
    for r in report["ranked"]:
        print(f"{r['rank']:>3}. {r['score']:.3f}  {r['name']} — {r['artist']}   ({r['why']})")
    if report["left_out"]:
        why = ", ".join(f"{n} {k}" for k, n in report["removed"].items())
        print(f"left out {len(report['left_out'])} track(s) you already know ({why})")
    for w in report["warnings"]:
        print(f"note: {w}")


if __name__ == "__main__":
    sys.exit(main())
