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

`FeatureChain.fill_corpus` asks the same providers, through the same store path, about the imported
corpus's tracks that have no features (a corpus of ids alone), bounded and resumable; there a track
no provider knew is asked again after CORPUS_RETRY_DAYS (harvest runs it after the library's tracks;
so does `tastebot corpus features`, tastebot.imports.corpus.fetch_corpus_features).

The API providers (1, 2) are `FeatureSource`s, each in tastebot/providers/<name>.py (`FEATURE_SOURCE`),
registered once by name in vocab.API_PROVIDERS. The CSV import (`tastebot features import`) lives in
tastebot.imports.features_csv.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Protocol

from tastebot.errors import FeatureProviderError, RateLimited
from tastebot.providers.reccobeats import ReccoBeatsClient
from tastebot.vocab import API_PROVIDERS, PROVIDER_LABELS, iso_time

# A corpus track no provider knew is asked again after this many days (it may have been added since).
CORPUS_RETRY_DAYS = 30


@dataclass
class ProviderReport:
    status: str = "unused"          # used | skipped | unused
    reason: str | None = None
    asked: int = 0
    found: int = 0
    requests: int = 0
    refused: int = 0  # tracks whose answer held a value no track can have: nothing of it was stored


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

    def fill_corpus(self, *, max_tracks: int | None = None, max_requests: int | None = None) -> "CorpusFeatureReport":
        """Audio features for the imported corpus's tracks that have none, in import order, through the
        same providers and the same store path as `fill`: at most `max_tracks` tracks asked and
        `max_requests` requests (None: no bound). Each batch commits with its record of asking, so an
        interrupted run resumes where it stopped and no track is asked twice; a track a provider did
        not know is asked again only after CORPUS_RETRY_DAYS. A rate limit longer than the allowed
        wait stops the fetch (its reason in the report), not the caller."""
        started = time.monotonic()
        cutoff = _retry_cutoff()
        out = CorpusFeatureReport(max_tracks=max_tracks, max_requests=max_requests)
        before = self.store.corpus_feature_coverage(cutoff)
        todo = before["tracks"] - before["with_features"] - before["unknown"]
        progress = self.progress
        try:
            for name in API_PROVIDERS:
                source = feature_source(name)(self)
                provider, batch = source.name, source.batch
                total = min(todo, _room(max_tracks, 0, 1), _room(max_requests, 0, batch))
                last = 0
                while provider not in self.skipped:
                    # The next ids in slices: a bound or a kill leaves the rest for the next run.
                    room = min(_room(max_tracks, out.asked, 1), _room(max_requests, out.requests, batch), batch * 25)
                    rows = self.store.corpus_tracks_needing_features(provider, room, cutoff, after=last)
                    if not rows:
                        break
                    last = rows[-1][0]
                    rep = self.report.providers.setdefault(provider, ProviderReport())
                    counts, offset = (rep.asked, rep.found, rep.requests), out.asked
                    self.progress = lambda p, done, _n, offset=offset, total=total: progress(p, offset + done, total)
                    try:
                        self._ask(source, None, False, ids=[tid for _, tid in rows])
                    finally:  # what this slice asked counts, whether it ended or a rate limit stopped it
                        out.asked += rep.asked - counts[0]
                        out.found += rep.found - counts[1]
                        out.requests += rep.requests - counts[2]
        except RateLimited as exc:
            out.stopped = f"rate limit: {exc.message}"
        finally:
            self.progress = progress
        out.seconds = round(time.monotonic() - started, 2)
        out.coverage(self.store.corpus_feature_coverage(cutoff))
        if out.stopped is None and out.left and max_requests is not None and out.requests >= max_requests:
            out.stopped = f"the bound of {max_requests:,} requests"
        elif out.stopped is None and out.left and max_tracks is not None and out.asked >= max_tracks:
            out.stopped = f"the bound of {max_tracks:,} tracks"
        out.providers = self.report.as_dict()
        return out

    def _ask(self, source: "FeatureSource", wanted, full: bool, ids: list[str] | None = None) -> None:
        if source.name in self.skipped:
            return
        off = source.unavailable()
        if off is not None:
            reason, expected = off
            self.skip(source.name, reason, expected=expected)
            return
        self._run(source.name, wanted, full, source.batch, source.fetch, source.requests, ids)

    def _run(self, provider: str, wanted, full: bool, batch: int, fetch, counter, ids: list[str] | None = None) -> None:
        """Ask `provider` about `ids` (default: the library tracks `wanted` that need it), `batch` a request."""
        if ids is None:
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
            except RateLimited:  # a wait past --max-wait: the requests it made still count
                rep.requests += counter() - before
                raise
            rep.requests += counter() - before
            # The features and the record of asking commit together: a kill never loses either half.
            refused_before = self.store.features_refused
            with self.store.transaction():
                self.store.upsert_features(found, provider)
                self.store.record_feature_attempts(chunk, provider, found.keys())
            refused = self.store.features_refused - refused_before
            rep.asked += len(chunk)
            rep.found += len(found) - refused
            rep.refused += refused
            done += len(chunk)
            self.progress(provider, done, len(ids))


def _retry_cutoff() -> str:
    """Attempts before this time are stale: the providers did not know those tracks a while ago."""
    return iso_time(datetime.now(timezone.utc) - timedelta(days=CORPUS_RETRY_DAYS))


def corpus_coverage(store) -> dict[str, int]:
    """{tracks, with_features, unknown} of the imported corpus (`tastebot corpus status`)."""
    return store.corpus_feature_coverage(_retry_cutoff())


def _room(bound: int | None, used: int, per_unit: int) -> int:
    """How many more tracks a bound allows (`per_unit` tracks per unit of it); no bound: no limit."""
    return 2**62 if bound is None else max(0, bound - used) * per_unit


@dataclass
class CorpusFeatureReport:
    """One corpus feature fetch: what it asked, what the corpus holds now, and why it stopped early."""

    max_tracks: int | None = None
    max_requests: int | None = None
    asked: int = 0
    found: int = 0
    requests: int = 0
    seconds: float = 0.0
    tracks: int = 0             # corpus tracks
    with_features: int = 0      # ... with audio features now (from the import or a provider)
    unknown: int = 0            # ... without: the providers did not know them (asked again later)
    left: int = 0               # ... not asked yet (a later run asks them)
    stopped: str | None = None  # why the run ended with tracks left: a bound or a rate limit
    providers: dict[str, Any] = field(default_factory=dict)

    def coverage(self, counts: dict[str, int]) -> None:
        self.tracks, self.with_features, self.unknown = counts["tracks"], counts["with_features"], counts["unknown"]
        self.left = self.tracks - self.with_features - self.unknown

    @property
    def share(self) -> float:
        return self.with_features / self.tracks if self.tracks else 0.0

    def line(self) -> str:
        """'27,950 of 28,356 corpus tracks (98.6 %) have audio features; 406 unknown; 700 requests in 95 s'."""
        text = (f"{self.with_features:,} of {self.tracks:,} corpus tracks ({100 * self.share:.1f} %) have audio "
                f"features; asked about {self.asked:,} ({self.found:,} found) in {self.requests:,} "
                f"request{'s' if self.requests != 1 else ''}, {self.seconds:.1f} s")
        if self.unknown:
            text += f"; {self.unknown:,} unknown to the providers (asked again after {CORPUS_RETRY_DAYS} days)"
        if self.left:
            text += f"; {self.left:,} left for the next run" + (f" (stopped: {self.stopped})" if self.stopped else "")
        return text

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "share": round(self.share, 4)}
