"""The offline demo: the whole job against an in-process sandbox, scored against the listener's
hidden future likes.

It starts the sandbox on a free loopback port with the built-in catalogue, logs in without a
browser, imports the catalogue's public playlists as a corpus (a development-mode app cannot read
other people's playlists), harvests, trains, recommends, writes the playlist, and then asks the
one question a demo can answer honestly: how many of the recommendations does the listener's
hidden future (never served by the sandbox) confirm, beside random picks of unheard tracks?
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import requests

from tastebot import train
from tastebot.errors import InputError
from tastebot.harvest import HarvestOptions, run_harvest
from tastebot.imports import corpus
from tastebot.recommend import PlaylistTarget, RecommendOptions, recommend_to_playlist
from tastebot.sandbox import Sandbox, generate_catalog
from tastebot.sandbox.format import export_corpus_csv
from tastebot.settings import load_settings
from tastebot.spotify import login as auth
from tastebot.spotify.client import SpotifyClient
from tastebot.store import open_store
from tastebot.wording import counts

PROFILES = ("development", "extended")


@dataclass
class DemoOptions:
    profile: str = "development"
    home: Path | None = None
    seed: int = 0
    n_tracks: int = 2000
    epochs: int = 30
    n: int = 30

    def check(self) -> None:
        if self.profile not in PROFILES:
            raise InputError(f"--profile must be one of {', '.join(PROFILES)}.")
        if not 300 <= self.n_tracks <= 20000:
            raise InputError("--tracks must be between 300 and 20000.")
        if self.epochs < 1:
            raise InputError("--epochs must be at least 1.")
        if self.n < 1:
            raise InputError("-n must be at least 1.")


@dataclass
class DemoResult:
    home: Path
    kept_home: bool
    profile: str
    sandbox_url: str
    seconds: dict[str, float] = field(default_factory=dict)
    harvest: dict[str, Any] = field(default_factory=dict)
    corpus: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    playlist: dict[str, Any] = field(default_factory=dict)
    hidden: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "home": str(self.home) if self.kept_home else None,
            "seconds": self.seconds,
            "harvest": self.harvest,
            "corpus": self.corpus,
            "model": {k: self.metrics.get(k) for k in ("run_id", "scores", "evaluation", "blend", "ranking") if k in self.metrics},
            "recommendations": self.recommendations,
            "playlist": self.playlist,
            "hidden_future_likes": self.hidden,
        }


class DemoSteps:
    """Progress hooks; the CLI renders them with rich. The default says nothing."""

    def step(self, name: str, text: str) -> None: ...
    def done(self, name: str, text: str) -> None: ...


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _approve(url: str) -> None:
    """Play the listener at the sandbox's consent page: approve at once and follow the redirect
    to tastebot's loopback callback (what a browser does after the click)."""
    requests.get(url + "&auto_approve=1", headers={"Accept": "application/json"}, timeout=30)


def future_like_hits(catalog: dict, track_ids: list[str]) -> dict[str, Any]:
    """How many recommended tracks the hidden future likes confirm (by id or by ISRC), and what
    random picks among the tracks the listener has never met would score on average."""
    tracks = {t["id"]: t for t in catalog["tracks"]}
    future = set(catalog.get("hidden", {}).get("future_likes", []))
    future_isrcs = {tracks[t].get("isrc") for t in future if t in tracks} - {None}
    listener = catalog["listener"]
    heard: set[str] = {s["track_id"] for s in listener.get("saved_tracks", [])}
    heard |= {p["track_id"] for p in listener.get("recently_played", [])}
    for ids in listener.get("top_tracks", {}).values():
        heard |= set(ids)
    for pl in catalog.get("playlists", []):
        if pl["owner_id"] == listener["user_id"]:
            heard |= {t for t in pl["track_ids"] if t}
    heard_isrcs = {tracks[t].get("isrc") for t in heard if t in tracks} - {None}
    unheard = [t for t, rec in tracks.items() if t not in heard and rec.get("isrc") not in heard_isrcs]
    unheard_future = sum(1 for t in unheard if t in future or tracks[t].get("isrc") in future_isrcs)

    def confirmed(tid: str) -> bool:
        return tid in future or (tid in tracks and tracks[tid].get("isrc") in future_isrcs)

    n = len(track_ids)
    hits = sum(1 for t in track_ids if confirmed(t))
    rate = unheard_future / len(unheard) if unheard else 0.0
    return {
        "recommended": n,
        "confirmed": hits,
        "precision": hits / n if n else 0.0,
        "random_expected": round(n * rate, 2),
        "random_precision": rate,
        "lift": (hits / n) / rate if n and rate else None,
        "future_likes": len(future),
        "unheard_tracks": len(unheard),
    }


@contextmanager
def _timed(timer: dict[str, float], steps: DemoSteps, name: str, text: str):
    """Announce a step and record how long it took (in timer[name])."""
    steps.step(name, text)
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timer[name] = round(time.perf_counter() - t0, 2)


def run_demo(options: DemoOptions, steps: DemoSteps | None = None,
             harvest_reporter: Any = None, train_progress: Callable | None = None) -> DemoResult:
    """Run the whole pipeline against a fresh in-process sandbox. Leaves nothing running; removes
    its temporary home unless `options.home` was given."""
    options.check()
    steps = steps or DemoSteps()
    keep = options.home is not None
    home = Path(options.home) if keep else Path(tempfile.mkdtemp(prefix="tastebot-demo-"))
    timer: dict[str, float] = {}

    def timed(name: str, text: str):
        return _timed(timer, steps, name, text)

    with timed("sandbox", f"Starting the sandbox ({options.profile} profile, {options.n_tracks} tracks)"):
        catalog = generate_catalog(seed=options.seed, n_tracks=options.n_tracks)
        sandbox = Sandbox(catalog=catalog, profile=options.profile)
        sandbox.start()
    steps.done("sandbox", f"Sandbox at {sandbox.url}")
    result = DemoResult(home=home, kept_home=keep, profile=options.profile, sandbox_url=sandbox.url)
    try:
        # The demo's token is a sandbox token in a throw-away home: the 0600 file, never the OS keyring.
        settings = load_settings(home=home, spotify_url=sandbox.url, client_id="tastebot-demo",
                                 redirect_uri=f"http://127.0.0.1:{_free_port()}/callback", insecure_storage=True)
        settings.ensure_home()

        with timed("login", "Logging in (PKCE, approved by the demo listener)"):
            who = auth.login(settings, open_browser=False, timeout=60,
                             show_url=lambda url: threading.Thread(target=_approve, args=(url,), daemon=True).start(),
                             notice=lambda text: None)
        steps.done("login", f"Logged in as {who.get('display_name') or who.get('user_id')} ({who.get('user_id')})")

        with timed("corpus", "Importing the public playlists as a corpus"):
            corpus_csv = home / "demo-corpus.csv"
            export_corpus_csv(catalog, corpus_csv)
            with open_store(settings) as store:
                summary = corpus.import_corpus(store, [corpus_csv])
            result.corpus = summary.as_dict()
        steps.done("corpus", f"Corpus: {result.corpus.get('playlists', 0)} playlists, {result.corpus.get('pairs', 0)} playlist entries")

        with timed("harvest", "Harvesting likes and dislikes"):
            client = SpotifyClient(settings)
            result.harvest = run_harvest(settings, HarvestOptions(), client=client, reporter=harvest_reporter).as_dict()
        labels = result.harvest.get("labels", {})
        steps.done("harvest", "Harvest: " + counts(labels))

        with timed("train", f"Training the taste model ({options.epochs} epochs)"):
            # the networks per ensemble as `tastebot train` would (TASTEBOT_ENSEMBLE, default 3)
            trained = train.train_from_store(settings, epochs=options.epochs, seed=options.seed,
                                             ensemble=settings.train_ensemble, progress=train_progress)
            result.metrics = trained.metrics
        mlp = trained.metrics.get("scores", {}).get("mlp", {})
        steps.done("train", f"Model trained: ROC-AUC {mlp.get('roc_auc', float('nan')):.3f} on held-out tracks")

        with timed("recommend", f"Recommending {options.n} tracks"):
            target = PlaylistTarget(name=f"tastebot demo {time.strftime('%Y-%m-%d')}")
            delivery = recommend_to_playlist(settings, RecommendOptions(n=options.n, seed=options.seed), target,
                                             client=client)
            result.recommendations = [r.as_dict() for r in delivery.result.recommendations]
            result.playlist = delivery.playlist.as_dict()
            ids = [r.track_id for r in delivery.result.recommendations]
        steps.done("recommend", f"Playlist written: {result.playlist['tracks']} tracks")

        result.hidden = future_like_hits(catalog, ids)
        auth.logout(settings)
    finally:
        sandbox.stop()
        result.seconds = timer
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    return result
