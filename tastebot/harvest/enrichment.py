"""What the harvest adds to the tracks it holds: artist genres (extended-quota apps only) and
audio features, through the provider chain of tastebot/providers/audio_features.py (Spotify, then
ReccoBeats), only for tracks that lack them unless the run is full; then the imported corpus's
tracks' features, within a bound on requests, resuming where the last harvest stopped."""

from __future__ import annotations

from typing import Any

from tastebot.providers.audio_features import FeatureChain
from tastebot.harvest.context import HarvestContext, SourceResult
from tastebot.spotify.client import BATCH_ARTISTS
from tastebot.vocab import API_PROVIDERS, PROVIDER_LABELS
from tastebot.wording import plural


def read_genres(ctx: HarvestContext, result: SourceResult) -> None:
    """The genres of the labelled tracks' artists that the store lacks (development apps get none)."""
    if ctx.app_kind != "extended":
        result.status, result.detail = "skipped", "development-mode apps are told no artist genres"
        return
    labelled = ctx.store.labelled_tracks()
    artist_ids = {a for ids in labelled["artist_ids"] for a in str(ids).split(",") if a}
    todo = ctx.store.artists_without_genres(artist_ids)
    if not todo:
        result.detail = "all known"
        return
    ctx.reporter.start("genres", "Artist genres", len(todo))
    for i in range(0, len(todo), BATCH_ARTISTS):
        chunk = todo[i:i + BATCH_ARTISTS]
        artists = ctx.client.artists(chunk)
        with ctx.store.transaction():
            ctx.store.upsert_artists(artists)
            ctx.store.mark_artists_without_genres(chunk)
        result.items += len(artists)
        ctx.reporter.advance("genres", len(chunk), len(todo))
    result.detail = f"{plural(result.items, 'artist')} read"


def feature_chain(ctx: HarvestContext, reccobeats=None) -> FeatureChain:
    """The provider chain for this harvest, its progress and notices going to the reporter."""
    return FeatureChain(ctx.settings, ctx.store, ctx.client, reccobeats=reccobeats,
                        progress=lambda p, done, total: ctx.reporter.advance(f"features:{p}", 0, total),
                        notice=ctx.reporter.notice)


def fill_features(ctx: HarvestContext, chain: FeatureChain) -> dict[str, Any]:
    """Fill the missing audio features; one result per provider goes to `ctx.results`. Returns the
    chain's report as a dict (the summary's `feature_providers`)."""
    for provider in API_PROVIDERS:
        ctx.reporter.start(f"features:{provider}", f"Audio features: {PROVIDER_LABELS[provider]}")
    report = chain.fill(full=ctx.options.full)
    for provider, rep in report.providers.items():
        res = SourceResult(f"features:{provider}", status="skipped" if rep.status == "skipped" else "used",
                           items=rep.asked, new=rep.found, requests=rep.requests)
        res.detail = rep.reason or f"asked about {plural(rep.asked, 'track')}, {rep.found} found"
        if rep.refused:
            res.detail += f", {rep.refused} refused (values outside their ranges)"
            ctx.reporter.notice(f"Refused the audio features {PROVIDER_LABELS[provider]} gave for "
                                f"{plural(rep.refused, 'track')}: values no track can have (outside their ranges).")
        ctx.results.append(res)
        ctx.reporter.finish(res.name, res.detail)
    return report.as_dict()


def fill_corpus_features(ctx: HarvestContext, chain: FeatureChain) -> dict[str, Any]:
    """Audio features for the corpus tracks that lack them, at most `options.corpus_feature_requests`
    requests (the taste model can then score the whole corpus). Its result goes to `ctx.results`;
    returns the fetch's report as a dict (the summary's `corpus_features`), {} when there is nothing to do."""
    name = "features:corpus"
    bound = ctx.options.corpus_feature_requests
    if bound <= 0 or not ctx.store.corpus_stats()["tracks"]:
        return {}
    ctx.reporter.start(name, "Audio features: corpus tracks")
    shown = [0]

    def progress(provider: str, done: int, total: int) -> None:
        ctx.reporter.advance(name, done - shown[0], total)
        shown[0] = done

    chain.progress = progress
    report = chain.fill_corpus(max_requests=bound)
    skipped = [f"{PROVIDER_LABELS[p]}: {r['reason']}" for p, r in report.providers.items() if r["status"] == "skipped"]
    if not report.asked and len(skipped) == len(report.providers):  # no provider could be asked
        res = SourceResult(name, status="skipped", detail="; ".join(skipped))
    else:
        res = SourceResult(name, status="used", items=report.asked, new=report.found, requests=report.requests,
                           detail=report.line())
    ctx.results.append(res)
    ctx.reporter.finish(name, res.detail)
    if report.stopped and report.stopped.startswith("rate limit"):
        ctx.reporter.notice(f"Corpus audio features stopped ({report.stopped}); the next harvest resumes them.")
    return report.as_dict()
