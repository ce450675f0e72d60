"""One harvest run: who is logged in (a store holds one listener's library), the sources in their
order, the audio features, and the run's record (started, then done, failed or interrupted, with
its summary) in the store.

Every page is committed together with its bookkeeping (cursors, resume offsets, snapshot ids), so a
harvest killed at any moment leaves a consistent store and the next run continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from tastebot.errors import InputError, TastebotError
from tastebot.harvest.context import HarvestContext, HarvestOptions, Reporter, SourceResult, parse_playlist_refs
from tastebot.harvest.enrichment import feature_chain, fill_corpus_features, fill_features, read_genres
from tastebot.harvest.playlists import read_feedback_saved, read_playlists
from tastebot.harvest.sampling import SAMPLED_MODES, NegativeSampler
from tastebot.harvest.signals import TIME_RANGES
from tastebot.harvest.sources import read_recently_played, read_saved, read_top
from tastebot.spotify.client import SpotifyClient
from tastebot.store import open_store
from tastebot.wording import plural


@dataclass
class HarvestSummary:
    user_id: str
    app_kind: str
    options: dict[str, Any]
    sources: list[SourceResult] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    signals_by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    features: dict[str, int] = field(default_factory=dict)
    feature_providers: dict[str, Any] = field(default_factory=dict)
    corpus_features: dict[str, Any] = field(default_factory=dict)  # the corpus tracks' fetch ({} when none)
    library: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    reccobeats_requests: int = 0
    status: str = "done"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "user_id": self.user_id,
            "app_kind": self.app_kind,
            "options": self.options,
            "sources": [vars(s) for s in self.sources],
            "labels": self.labels,
            "signals_by_source": self.signals_by_source,
            "features": self.features,
            "feature_providers": self.feature_providers,
            "corpus_features": self.corpus_features,
            "library": self.library,
            "requests": {"spotify": self.requests, "reccobeats": self.reccobeats_requests},
        }


def run_harvest(settings, options: HarvestOptions | None = None, *, client=None, reporter: Reporter | None = None,
                reccobeats=None) -> HarvestSummary:
    """Open the store in `settings.home` and harvest into it (a SpotifyClient is made when none is
    given). The caller holds `tastebot.lock.home_lock(settings)` when other commands may run."""
    if client is None:
        client = SpotifyClient(settings)
    with open_store(settings) as store:
        return Harvester(settings, client, store, options, reporter=reporter, reccobeats=reccobeats).run()


class Harvester:
    """Runs the sources in order over one HarvestContext and records the run in the store."""

    def __init__(self, settings, client, store, options: HarvestOptions | None = None, *,
                 reporter: Reporter | None = None, reccobeats=None, rng_seed: int | None = None):
        options = options or HarvestOptions()
        if options.sampled_negatives not in SAMPLED_MODES:
            raise InputError(f"--sampled-negatives must be one of {', '.join(SAMPLED_MODES)}.")
        if rng_seed is not None:  # the older spelling of options.seed
            options = dataclasses.replace(options, seed=rng_seed)
        # Parse every playlist reference before the first request: bad input stops at once.
        self.ctx = HarvestContext(settings, client, store, options, reporter or Reporter(),
                                  like_ids=parse_playlist_refs(options.like_playlists),
                                  dislike_ids=parse_playlist_refs(options.dislike_playlists))
        self.reccobeats = reccobeats
        self._feature_report: dict[str, Any] = {}  # set by the features step
        self._corpus_report: dict[str, Any] = {}  # set by the corpus features step
        self._chain_reccobeats = None  # the feature chain's ReccoBeats client, when it made one

    def run(self) -> HarvestSummary:
        ctx = self.ctx
        run_id = ctx.store.start_harvest_run(json.dumps(ctx.options.as_dict()))
        status = "failed"
        summary: HarvestSummary | None = None
        try:
            summary = self._run()
            status = "done"
            return summary
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            if summary is None:
                summary = self._summary(status)
            summary.status = status
            try:
                ctx.store.finish_harvest_run(run_id, status, json.dumps(summary.as_dict()), ctx.client.request_count)
            except TastebotError:
                pass

    def _run(self) -> HarvestSummary:
        ctx = self.ctx
        self._check_owner()
        ctx.app_kind = ctx.client.app_kind()

        ctx.run_source("saved", lambda r: read_saved(ctx, r))
        for time_range in TIME_RANGES:
            ctx.run_source(f"top_{time_range}", lambda r, tr=time_range: read_top(ctx, r, tr))
        ctx.run_source("recently_played", lambda r: read_recently_played(ctx, r))
        read_playlists(ctx)
        ctx.run_source("feedback_saved", lambda r: read_feedback_saved(ctx, r))
        ctx.run_source("sampled_negatives", NegativeSampler(ctx).run)
        ctx.run_source("genres", lambda r: read_genres(ctx, r))
        chain = feature_chain(ctx, self.reccobeats)
        self._chain_reccobeats = chain.reccobeats
        self._feature_report = fill_features(ctx, chain)
        self._corpus_report = fill_corpus_features(ctx, chain)
        return self._summary("done")

    def _check_owner(self) -> None:
        """A store holds one listener's library: refuse another account's login."""
        ctx = self.ctx
        me = ctx.client.me()
        ctx.user_id = str(me.get("id") or "")
        owner = ctx.store.get_state("user_id")
        if owner and owner != ctx.user_id:
            raise InputError(
                f"The store in {ctx.settings.home} holds the library of Spotify user {owner}, but you are logged "
                f"in as {ctx.user_id}; use another --home (or move {ctx.settings.store_path.name} aside)."
            )
        if not owner:
            ctx.store.set_state("user_id", ctx.user_id)

    def _summary(self, status: str) -> HarvestSummary:
        ctx = self.ctx
        s = HarvestSummary(user_id=ctx.user_id, app_kind=ctx.app_kind, options=ctx.options.as_dict(),
                           sources=ctx.results, status=status)
        try:
            s.labels = ctx.store.label_counts()
            s.signals_by_source = ctx.store.signal_counts()
            s.features = ctx.store.feature_provider_counts()
            s.library = ctx.store.library_counts()
        except TastebotError:
            pass
        malformed = ctx.store.malformed_skipped
        if malformed:
            s.library["malformed_skipped"] = malformed
            ctx.reporter.notice(f"Skipped {plural(malformed, 'track')} whose data from Spotify was malformed "
                                "(wrong field types).")
        implausible = ctx.store.implausible_skipped
        if implausible:
            s.library["implausible_durations_skipped"] = implausible
            ctx.reporter.notice(f"Skipped {plural(implausible, 'duration')} from Spotify outside 1 ms to 6 hours; "
                                "those tracks are kept without a duration.")
        s.feature_providers = self._feature_report
        s.corpus_features = self._corpus_report
        s.requests = ctx.client.request_count
        rb = self.reccobeats if self.reccobeats is not None else self._chain_reccobeats
        s.reccobeats_requests = rb.request_count if rb is not None else 0
        return s
