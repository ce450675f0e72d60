"""tastebot as a Python library: harvest into a pandas DataFrame, train, and score track ids.

What it shows:
1. the harvest (`tastebot.harvest.Harvester`) filling the local store, and the store's labelled
   tracks as a plain pandas DataFrame (`Store.labelled_tracks()`): one row per liked or disliked
   song with its label, sources, metadata and audio features, ready for your own analysis;
2. training and saving a model (`tastebot.train.train_from_store`), with its honest scores on
   tracks from artists it never saw, beside a random forest trained on the same split;
3. scoring any track ids in the store with the saved model:
   `load_model(settings).predict(store.tracks_frame(ids))` gives like-probabilities in [0, 1].

Run it:
    # against the built-in sandbox, in a temporary home (no Spotify account needed):
    python examples/library_usage.py --sandbox
    # against a home you logged in to (`tastebot login`; real Spotify or `tastebot sandbox serve`):
    TASTEBOT_HOME=~/my-tastebot python examples/library_usage.py --track 4uLU6hMCjMI75M1A2tKUQC
Options: --epochs N (default 5), --track ID (repeatable; default: five liked and five disliked
tracks of the store), --json (one JSON document on stdout instead of the text).
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
    parser.add_argument("--sandbox", action="store_true", help="start an in-process sandbox in a temporary home")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs (default 5)")
    parser.add_argument("--track", action="append", default=[], metavar="ID", help="a track id to score (repeatable)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    args = parser.parse_args(argv)

    from tastebot.errors import TastebotError

    try:
        with session(args.sandbox) as (settings, _sandbox):
            report = run(settings, epochs=args.epochs, track_ids=args.track)
    except TastebotError as exc:
        say(f"error: {exc.message}")
        return exc.exit_code
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)
    return 0


def run(settings, *, epochs: int, track_ids: list[str]) -> dict:
    import pandas as pd

    from tastebot.harvest import Harvester, HarvestOptions
    from tastebot.lock import home_lock
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store
    from tastebot.models.runs import load_model
    from tastebot.train import train_from_store

    # One state-changing tastebot command at a time per home: library users take the same lock.
    with home_lock(settings):
        say("harvesting likes, dislikes and audio features ...")
        with open_store(settings) as store:
            Harvester(settings, SpotifyClient(settings), store, HarvestOptions()).run()
            frame: pd.DataFrame = store.labelled_tracks()
        say(f"the store's labelled tracks as a DataFrame: {frame.shape[0]} rows x {frame.shape[1]} columns")

        say(f"training ({epochs} epochs, one network) ...")
        trained = train_from_store(settings, epochs=epochs, ensemble=1)

    # The saved model, exactly as `tastebot recommend` loads it.
    model = load_model(settings)
    if not track_ids:
        liked = frame.loc[frame["label"] == 1, "track_id"].head(5).tolist()
        disliked = frame.loc[frame["label"] == 0, "track_id"].head(5).tolist()
        track_ids = liked + disliked
    with open_store(settings, readonly=True) as store:
        tracks = store.tracks_frame(track_ids)
    probabilities = model.predict(tracks)
    labels = dict(zip(frame["track_id"], frame["label"]))

    scores = trained.metrics["scores"]
    return {
        "home": str(settings.home),
        "frame": {
            "rows": int(len(frame)),
            "columns": list(frame.columns),
            "likes": int((frame["label"] == 1).sum()),
            "dislikes": int((frame["label"] == 0).sum()),
            "mean_energy_liked": _mean(frame, "energy", 1),
            "mean_energy_disliked": _mean(frame, "energy", 0),
        },
        "model": {
            "run_id": model.run_id,
            "mode": trained.metrics["mode"],
            "roc_auc": {name: scores[name]["roc_auc"] for name in ("mlp", "random_forest", "majority") if name in scores},
            "blend_weight": model.blend_weight,
        },
        "predictions": [
            {"track_id": tid, "name": name, "known_label": _label(labels.get(tid)), "like_probability": round(float(p), 4)}
            for tid, name, p in zip(tracks["track_id"], tracks["name"], probabilities)
        ],
        "not_in_store": [t for t in dict.fromkeys(track_ids) if t not in set(tracks["track_id"])],
    }


def _mean(frame, column: str, label: int) -> float | None:
    import pandas as pd

    v = pd.to_numeric(frame.loc[frame["label"] == label, column], errors="coerce").dropna()
    return round(float(v.mean()), 4) if len(v) else None


def _label(value) -> str | None:
    if value is None:
        return None
    return "like" if int(value) == 1 else "dislike"


def print_text(report: dict) -> None:
    f, m = report["frame"], report["model"]
    print(f"DataFrame: {f['rows']} labelled tracks ({f['likes']} liked, {f['dislikes']} disliked), "
          f"{len(f['columns'])} columns")
    print(f"  mean energy: liked {f['mean_energy_liked']}, disliked {f['mean_energy_disliked']}")
    auc = ", ".join(f"{k} {v:.3f}" for k, v in m["roc_auc"].items() if v is not None)
    print(f"model {m['run_id']} ({m['mode']}): ROC-AUC on unseen artists: {auc}; blend weight {m['blend_weight']:.2f}")
    print("scores (like-probability):")
    for p in report["predictions"]:
        known = f"  [in your library as a {p['known_label']}]" if p["known_label"] else ""
        print(f"  {p['like_probability']:.3f}  {p['track_id']}  {p['name']}{known}")
    if report["not_in_store"]:
        print(f"not in the store (harvest them first, e.g. through a playlist): {', '.join(report['not_in_store'])}")


if __name__ == "__main__":
    sys.exit(main())
