"""Run the shipped product on a benchmark world, the way benchmarks/recommend.py measures it.

Everything goes through tastebot's own code and the sandbox over real HTTP (spotipy), as
`tastebot demo` does: start the sandbox in-process with the world's catalogue (development app
profile), log in without a browser (token file in a temporary home, never the OS keyring), import
the other users' playlists as the corpus, harvest (naming the dislike playlist), train once, then
call `tastebot.recommend.recommend` once per blend setting from the same trained home.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# variant: (--blend, --taste-model members)
BLENDS: dict[str, tuple[float | None, tuple[str, ...]]] = {
    "tastebot": (None, ("mlp", "forest")), "tastebot --blend 0": (0.0, ("mlp", "forest")),
    "tastebot --blend 1": (1.0, ("mlp", "forest")), "tastebot --blend 1 --taste-model mlp": (1.0, ("mlp",)),
}


def _login(settings) -> None:
    from tastebot.spotify import login as auth
    from tastebot.demo import _approve

    auth.login(settings, open_browser=False, timeout=60,
               show_url=lambda url: threading.Thread(target=_approve, args=(url,), daemon=True).start(),
               notice=lambda text: None)


def _prepare(world, settings, home: Path, *, ensemble: int, epochs: int, seed: int, timer: dict) -> dict:
    """Login, corpus import, harvest, train. Returns facts for the report."""
    from tastebot import train
    from tastebot.imports import corpus
    from tastebot.harvest import HarvestOptions, run_harvest
    from tastebot.sandbox.format import export_corpus_csv
    from tastebot.store import open_store

    t = time.perf_counter()
    _login(settings)
    csv_path = home / "corpus.csv"
    export_corpus_csv(world.catalog, csv_path)
    with open_store(settings) as store:
        corpus.import_corpus(store, [csv_path])
    timer["login+corpus"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    harvest = run_harvest(settings, HarvestOptions(dislike_playlists=(world.dislike_playlist,))).as_dict()
    timer["harvest"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    trained = train.train_from_store(settings, epochs=epochs, seed=seed, ensemble=ensemble)
    timer["train"] = round(time.perf_counter() - t, 1)
    m = trained.metrics
    with open_store(settings) as store:  # sampled negatives count as heard: recommend never returns them
        weak = store.signal_track_ids(strength="weak")
    target = world.future if world.kind == "persona" else set(world.test_tracks)
    return {"labels": harvest.get("labels", {}), "blend_weight": (m.get("blend") or {}).get("weight"),
            "mlp_roc_auc": ((m.get("scores") or {}).get("mlp") or {}).get("roc_auc"),
            "sampled_negatives_among_" + ("future_likes" if world.kind == "persona" else "test_songs"): len(weak & target)}


def _test_playlist(client, world) -> str:
    """The listener puts the test songs in a new playlist of their own (after training, so the
    harvest never read it)."""
    created = client.create_playlist("benchmark test songs", public=False)
    client.add_items(created["id"], list(world.test_tracks))
    return created["id"]


def run_product(world, *, ensemble: int, epochs: int, seed: int) -> dict[str, Any]:
    """{'picks': {variant: [track ids in rank order]}, 'facts': {...}} for one world."""
    from tastebot.recommend import RecommendOptions, recommend
    from tastebot.sandbox import Sandbox
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store
    from tastebot.demo import _free_port

    home = Path(tempfile.mkdtemp(prefix="tastebot-bench-"))
    timer: dict[str, float] = {}
    sandbox = Sandbox(catalog=world.catalog, profile="development", seed=seed)
    sandbox.start()
    try:
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url=sandbox.url, client_id="tastebot-bench",
                                 redirect_uri=f"http://127.0.0.1:{_free_port()}/callback", insecure_storage=True)
        settings.ensure_home()
        facts = _prepare(world, settings, home, ensemble=ensemble, epochs=epochs, seed=seed, timer=timer)
        client = SpotifyClient(settings)
        if world.kind == "labels":
            refs, n = (_test_playlist(client, world),), len(world.test_tracks)
        else:
            refs, n = (), 100
        picks, runs = {}, {}
        for variant, (w, members) in BLENDS.items():
            t = time.perf_counter()
            with open_store(settings) as store:
                res = recommend(settings, store, client, RecommendOptions(n=n, from_playlists=refs, blend_weight=w,
                                                                          taste_members=members, seed=seed))
            timer[variant] = round(time.perf_counter() - t, 1)
            picks[variant] = [r.track_id for r in res.recommendations]
            runs[variant] = {"blend_weight": res.blend_weight, "candidates": res.candidates, "removed": res.removed,
                             "warnings": res.warnings[:5]}
        facts.update(seconds=timer, runs=runs)
        return {"picks": picks, "facts": facts}
    finally:
        sandbox.stop()
        shutil.rmtree(home, ignore_errors=True)
