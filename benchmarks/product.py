"""Run the shipped product on a benchmark world, the way benchmarks/recommend.py measures it.

Everything goes through tastebot's own code and the sandbox over real HTTP (spotipy), as
`tastebot demo` does: start the sandbox in-process with the world's catalogue (development app
profile), log in without a browser (token file in a temporary home, never the OS keyring), import
the other users' playlists as the corpus, harvest (naming the dislike playlist), train once, then
call `tastebot.recommend.recommend` once per blend setting from the same trained home.

The corpus file is the sandbox's export (features included) or, for the "ids alone" family,
`playlist_id,track_id` only. `--keep-homes` keeps the harvested home (before train) of a persona
case; `run_reused` trains and recommends on a copy of one, offline.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tastebot.models.ranker import KINDS

# The kinds of ranking a run can be made to use, to compare the per-listener choice with the kind that
# was right for each case (issue 24: which evidence holds per listener). Not "learned": a run has a
# learned ranking only where train chose it, and then the default is it.
RANKED = tuple(k for k in KINDS if k != "learned")
# variant: (--blend, --taste-model members)
BLENDS: dict[str, tuple[float | None, tuple[str, ...]]] = {
    "tastebot": (None, ("mlp", "forest")), "tastebot --blend 0": (0.0, ("mlp", "forest")),
    "tastebot --blend 1": (1.0, ("mlp", "forest")), "tastebot --blend 1 --taste-model mlp": (1.0, ("mlp",)),
    # Without the MLP (issue 24: the card's MLP must earn its place in the default).
    "tastebot --taste-model forest": (None, ("forest",)),
    "tastebot --blend 1 --taste-model forest": (1.0, ("forest",)),
    # Without discovery (issue 24 item 4: it must not cost the default list more than the spread
    # between seeds); its other option is in OPTIONS.
    "tastebot --no-discovery": (None, ("mlp", "forest")),
    # Each kind of ranking the choice picks from (`tastebot recommend --ranking KIND`): RANKED.
    **{f"tastebot --ranking {kind}": (None, ("mlp", "forest")) for kind in RANKED},
}
# Variants that change a recommend option other than the blend and the members.
OPTIONS: dict[str, dict[str, Any]] = {"tastebot --no-discovery": {"use_discovery": False},
                                      **{f"tastebot --ranking {kind}": {"ranking": kind} for kind in RANKED}}
# What a run measures unless told (--variants): the ones without the MLP only on request.
DEFAULT_VARIANTS = ("tastebot", "tastebot --blend 0", "tastebot --blend 1", "tastebot --blend 1 --taste-model mlp")


def _login(settings) -> None:
    from tastebot.spotify import login as auth
    from tastebot.demo import _approve

    auth.login(settings, open_browser=False, timeout=60,
               show_url=lambda url: threading.Thread(target=_approve, args=(url,), daemon=True).start(),
               notice=lambda text: None)


def _corpus_csv(world, path: Path) -> None:
    """The corpus file: every column the sandbox can export, or (the "ids alone" family, as MPD slices
    and history sessions are) `playlist_id,track_id` only."""
    import csv

    from tastebot.sandbox.format import export_corpus_csv

    if not world.ids_only_corpus:
        export_corpus_csv(world.catalog, path)
        return
    listener = world.catalog["listener"]["user_id"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["playlist_id", "track_id"])
        for playlist in world.catalog["playlists"]:
            if playlist["owner_id"] != listener:
                writer.writerows([playlist["id"], t] for t in playlist["track_ids"])


def _dislike_sources(harvest: dict) -> list[dict]:
    """What harvest said of the dislike playlists it was given (a development app refuses a public
    one owned by someone else)."""
    return [{k: s.get(k) for k in ("name", "status", "detail", "items")}
            for s in harvest.get("sources", []) if str(s.get("name", "")).startswith("playlist:dislike")]


def _harvested(world, settings, home: Path, timer: dict) -> dict:
    """Login, corpus import, harvest (the home as a listener has it before `tastebot train`)."""
    from tastebot.imports import corpus
    from tastebot.harvest import HarvestOptions, run_harvest
    from tastebot.store import open_store

    t = time.perf_counter()
    _login(settings)
    csv_path = home / "corpus.csv"
    _corpus_csv(world, csv_path)
    with open_store(settings) as store:
        corpus.import_corpus(store, [csv_path])
    csv_path.unlink()
    timer["login+corpus"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    given = world.harvest_dislikes if world.harvest_dislikes is not None else (world.dislike_playlist,)
    harvest = run_harvest(settings, HarvestOptions(dislike_playlists=given)).as_dict()
    timer["harvest"] = round(time.perf_counter() - t, 1)
    return {"labels": harvest.get("labels", {}), "dislike_playlists_given": list(given),
            "dislike_sources": _dislike_sources(harvest), "features": harvest.get("features", {})}


def _trained(settings, target: set, *, ensemble: int, epochs: int, seed: int, timer: dict) -> dict:
    from tastebot import train
    from tastebot.store import open_store

    t = time.perf_counter()
    trained = train.train_from_store(settings, epochs=epochs, seed=seed, ensemble=ensemble)
    timer["train"] = round(time.perf_counter() - t, 1)
    m = trained.metrics
    with open_store(settings) as store:  # sampled negatives count as heard: recommend never returns them
        weak = store.signal_track_ids(strength="weak")
    ranking = m.get("ranking") or {}
    return {"ranking": {k: ranking.get(k) for k in ("kind", "reason", "validation")},
            "blend_weight": (m.get("blend") or {}).get("weight"),
            "mlp_roc_auc": ((m.get("scores") or {}).get("mlp") or {}).get("roc_auc"),
            # train's own test part (grouped by artist): each member of the taste model and their mean
            "test_scores": {k: {s: ((m.get("scores") or {}).get(k) or {}).get(s) for s in ("roc_auc", "pr_auc")}
                            for k in ("taste", "mlp", "random_forest")},
            "sampled_negatives_among_targets": len(weak & target)}


def _test_playlist(client, world) -> str:
    """The listener puts the test songs in a new playlist of their own (after training, so the
    harvest never read it)."""
    created = client.create_playlist("benchmark test songs", public=False)
    client.add_items(created["id"], list(world.test_tracks))
    return created["id"]


def _recommend_all(settings, client, refs, n: int, variants, seed: int, timer: dict) -> tuple[dict, dict]:
    from tastebot.recommend import RecommendOptions, recommend
    from tastebot.store import open_store

    picks, runs = {}, {}
    for variant in variants:
        w, members = BLENDS[variant]
        t = time.perf_counter()
        with open_store(settings) as store:
            res = recommend(settings, store, client, RecommendOptions(n=n, from_playlists=refs, blend_weight=w,
                                                                      taste_members=members, seed=seed,
                                                                      **OPTIONS.get(variant, {})))
        timer[variant] = round(time.perf_counter() - t, 1)
        picks[variant] = [r.track_id for r in res.recommendations]
        runs[variant] = {"blend_weight": res.blend_weight, "ranking": res.ranking, "candidates": res.candidates,
                         "removed": res.removed, "sources": res.sources, "warnings": res.warnings[:5]}
    return picks, runs


def keep_home(home: Path, dest: Path, world) -> None:
    """A copy of the harvested home (before train) and world.json: what --reuse-homes needs. The
    token file is left out (the sandbox that issued it is gone; reuse runs offline)."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(home, dest, ignore=shutil.ignore_patterns("credentials", "*.lock"))
    (dest / "world.json").write_text(json.dumps({
        "family": world.family, "case": world.name, "index": world.index, "seed": world.seed, "kind": world.kind,
        "future_likes": sorted(world.future), "likes": len(world.likes), "info": world.info}, indent=1))


def run_product(world, *, ensemble: int, epochs: int, seed: int, variants=DEFAULT_VARIANTS,
                keep: Path | None = None) -> dict[str, Any]:
    """{'picks': {variant: [track ids in rank order]}, 'facts': {...}} for one world; `keep`: copy the
    harvested home there (persona worlds; label worlds need the sandbox to rank their test playlist)."""
    from tastebot.sandbox import Sandbox
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.demo import _free_port

    home = Path(tempfile.mkdtemp(prefix="tastebot-bench-"))
    timer: dict[str, float] = {}
    sandbox = Sandbox(catalog=world.catalog, profile="development", seed=seed)
    sandbox.start()
    try:
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url=sandbox.url, client_id="tastebot-bench",
                                 redirect_uri=f"http://127.0.0.1:{_free_port()}/callback", insecure_storage=True)
        settings.ensure_home()
        facts = _harvested(world, settings, home, timer)
        if keep is not None and world.kind == "persona":
            keep_home(home, keep, world)
        target = world.future if world.kind == "persona" else set(world.test_tracks)
        facts.update(_trained(settings, target, ensemble=ensemble, epochs=epochs, seed=seed, timer=timer))
        client = SpotifyClient(settings)
        if world.kind == "labels":
            refs, n = (_test_playlist(client, world),), len(world.test_tracks)
        else:
            refs, n = (), 100
        picks, runs = _recommend_all(settings, client, refs, n, variants, seed, timer)
        facts.update(seconds=timer, runs=runs)
        return {"picks": picks, "facts": facts}
    finally:
        sandbox.stop()
        shutil.rmtree(home, ignore_errors=True)


def run_reused(kept: Path, *, ensemble: int, epochs: int, seed: int, variants=DEFAULT_VARIANTS) -> dict[str, Any]:
    """Train and recommend on a copy of a kept home, offline (client None: corpus candidates only, no
    search, albums, discovery or feature fetching), so the kept home stays as harvested."""
    from tastebot.settings import load_settings

    world = json.loads((kept / "world.json").read_text())
    home = Path(tempfile.mkdtemp(prefix="tastebot-bench-reuse-"))
    timer: dict[str, float] = {}
    try:
        shutil.copytree(kept, home, dirs_exist_ok=True, ignore=shutil.ignore_patterns("world.json", "peers.json"))
        settings = load_settings(environ={}, cwd=home, home=home, spotify_url="http://127.0.0.1:9",
                                 client_id="tastebot-bench", redirect_uri="http://127.0.0.1:9/callback",
                                 insecure_storage=True)
        facts = _trained(settings, set(world["future_likes"]), ensemble=ensemble, epochs=epochs, seed=seed, timer=timer)
        picks, runs = _recommend_all(settings, None, (), 100, variants, seed, timer)
        facts.update(seconds=timer, runs=runs, offline=True)
        return {"picks": picks, "facts": facts}
    finally:
        shutil.rmtree(home, ignore_errors=True)
