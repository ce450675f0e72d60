"""Where audio features come from: a chain of providers, each value stored with its provenance.

Tried in this order for every track that has no features from an API provider yet:
  1. `spotify`    Spotify's /audio-features, 100 ids a call (extended-quota apps only);
  2. `reccobeats` ReccoBeats, 40 ids a call, matched by the id in `href`;
  3. `import`     a table the user imported with `tastebot features import FILE.csv`;
  4. metadata     what every app reads anyway (duration, explicit, release year, track number,
                  album type): always there, in the tracks table.
A provider that refuses (403, 404, gone, unreachable) is skipped for the rest of the run with one
line saying why; it is not retried track by track. A provider is asked about a track once: tracks it
did not know are remembered, so a harvest with nothing new asks nothing (`--full` asks again).

The API providers (1, 2) are `FeatureSource`s, each in tastebot/providers/<name>.py (`FEATURE_SOURCE`),
registered once by name in vocab.API_PROVIDERS. The CSV import (`tastebot features import`) lives in
tastebot.imports.features_csv.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

from tastebot.errors import FeatureProviderError
from tastebot.providers.reccobeats import ReccoBeatsClient
from tastebot.vocab import API_PROVIDERS, PROVIDER_LABELS


@dataclass
class ProviderReport:
    status: str = "unused"          # used | skipped | unused
    reason: str | None = None
    asked: int = 0
    found: int = 0
    requests: int = 0


@dataclass
class FeatureReport:
    providers: dict[str, ProviderReport] = field(default_factory=lambda: {p: ProviderReport() for p in API_PROVIDERS})

    def as_dict(self) -> dict[str, Any]:
        return {p: vars(r) for p, r in self.providers.items()}


class FeatureSource(Protocol):
    """One audio-feature service as the chain asks it, built per `fill` from the chain (its clients):
    `name` (its entry in vocab.API_PROVIDERS), `batch` (ids a call), `fetch(ids) -> {id: {feature:
    value}}` (FeatureProviderError: skipped for the rest of the run), `requests()` (made so far) and
    `unavailable() -> (reason, expected) | None` (expected: said in the report only, no notice)."""

    name: str
    batch: int

    def unavailable(self) -> tuple[str, bool] | None: ...

    def fetch(self, track_ids: list[str]) -> dict[str, dict[str, float]]: ...

    def requests(self) -> int: ...


def feature_source(name: str) -> Callable[["FeatureChain"], FeatureSource]:
    """The source registered as `name` in vocab.API_PROVIDERS: tastebot/providers/<name>.py's `FEATURE_SOURCE`."""
    cls = importlib.import_module(f"tastebot.providers.{name}").FEATURE_SOURCE
    if cls.name != name:
        raise TypeError(f"tastebot.providers.{name}.FEATURE_SOURCE is named {cls.name!r}")
    return cls


class FeatureChain:
    """Fill the store with audio features for tracks that lack them.

    `client` is a tastebot.spotify.SpotifyClient (or None: no Spotify provider), `reccobeats` a
    ReccoBeatsClient (None: built from settings). `progress(provider, done, total)` is called as
    batches finish; `notice(text)` gets the one-line explanation when a provider is skipped.
    Recommend reuses one chain for candidates: a provider skipped once stays skipped.
    """

    def __init__(self, settings, store, client=None, *, reccobeats=None,
                 progress: Callable[[str, int, int], None] | None = None,
                 notice: Callable[[str], None] | None = None):
        self.settings = settings
        self.store = store
        self.client = client
        if reccobeats is None:
            policy = getattr(client, "policy", None)
            reccobeats = ReccoBeatsClient(settings, policy=policy)
        self.reccobeats = reccobeats
        self.progress = progress or (lambda provider, done, total: None)
        self.notice = notice or (lambda text: None)
        self.skipped: dict[str, str] = {}
        self.report = FeatureReport()

    def skip(self, provider: str, reason: str, *, expected: bool = False) -> None:
        """Mark a provider skipped. `expected` ones (what this kind of app never has) go in the
        report only: no notice on every harvest and every recommend."""
        if provider not in self.skipped:
            self.skipped[provider] = reason
            rep = self.report.providers.setdefault(provider, ProviderReport())
            rep.status, rep.reason = "skipped", reason
            if not expected:
                self.notice(f"{PROVIDER_LABELS[provider]} skipped: {reason}")

    def fill(self, track_ids: Iterable[str] | None = None, *, full: bool = False) -> FeatureReport:
        """Ask the providers, in order, about the tracks (all library tracks when None) that have no
        API features yet. Returns the cumulative report of this chain."""
        wanted = None if track_ids is None else list(dict.fromkeys(track_ids))
        for name in API_PROVIDERS:
            self._ask(feature_source(name)(self), wanted, full)
        return self.report

    def _ask(self, source: "FeatureSource", wanted, full: bool) -> None:
        if source.name in self.skipped:
            return
        off = source.unavailable()
        if off is not None:
            reason, expected = off
            self.skip(source.name, reason, expected=expected)
            return
        self._run(source.name, wanted, full, source.batch, source.fetch, source.requests)

    def _run(self, provider: str, wanted, full: bool, batch: int, fetch, counter) -> None:
        ids = self.store.tracks_needing_features(provider, wanted, retry=full)
        rep = self.report.providers.setdefault(provider, ProviderReport())
        if not ids:
            if rep.status == "unused":
                rep.status = "used"
            return
        rep.status = "used"
        done = 0
        for i in range(0, len(ids), batch):
            chunk = ids[i:i + batch]
            before = counter()
            try:
                found = fetch(chunk)
            except FeatureProviderError as exc:
                rep.requests += counter() - before
                self.skip(provider, exc.message)
                return
            rep.requests += counter() - before
            # The features and the record of asking commit together: a kill never loses either half.
            with self.store.transaction():
                self.store.upsert_features(found, provider)
                self.store.record_feature_attempts(chunk, provider, found.keys())
            rep.asked += len(chunk)
            rep.found += len(found)
            done += len(chunk)
            self.progress(provider, done, len(ids))
