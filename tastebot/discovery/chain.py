"""The discovery chain: for the listener's seed artists, ask each enabled provider for related
artists and their tracks, keep what the listener has never heard, find it on Spotify, hand it to the
candidate pool with the relation ("related to X, whom you play a lot").

Bounded per provider: `seeds` seed artists, `related` new artists per seed (taken in turns, so every
seed contributes), `tracks` tracks per artist, at most `max_tracks` suggestions looked up on Spotify.
A provider that fails (down, refusing, garbage, rate-limiting past --max-wait) keeps what it gave
before the failure and is reported `failing`; the run goes on. Spotify's own rate limit still stops
the run (RateLimited), as for every other retriever.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Sequence

from tastebot.discovery.base import Provider, ProviderOutcome, RelatedArtist, Seed, SuggestedTrack
from tastebot.names import loose_artist_name
from tastebot.discovery.match import by_isrc, by_title
from tastebot.errors import DiscoveryError
from tastebot.known import Known
from tastebot.providers.openhttp import OpenService
from tastebot.settings import DISCOVERY_PROVIDERS


RELATED_ASKED = 20  # related artists asked per seed: the listener knows some of them already


@dataclass(frozen=True)
class Limits:
    seeds: int = 10
    related: int = 6
    tracks: int = 3
    max_tracks: int = 150

    @classmethod
    def for_run(cls, *, seeds: int, new_artists_only: bool) -> "Limits":
        """Wider with --new-artists-only: discovery is then nearly the only source of candidates."""
        if new_artists_only:
            return cls(seeds=max(seeds, 12), related=12, tracks=3, max_tracks=300)
        return cls(seeds=max(seeds, cls.seeds))


def provider_class(name: str) -> type[Provider]:
    """The provider registered as `name` in settings.DISCOVERY_PROVIDERS: tastebot/discovery/<name>.py's
    `PROVIDER` (imported on use, so a run with discovery off loads none of them)."""
    cls = importlib.import_module(f"tastebot.discovery.{name}").PROVIDER
    if cls.name != name:
        raise TypeError(f"tastebot.discovery.{name}.PROVIDER is named {cls.name!r}")
    return cls


def build_providers(settings, store, policy=None) -> tuple[list[Provider], dict[str, ProviderOutcome]]:
    """The enabled providers, in order, and an outcome for every provider (the disabled ones `off`)."""
    providers, outcomes = [], {}
    for name in DISCOVERY_PROVIDERS:
        cls = provider_class(name)
        if name not in settings.discovery:
            outcomes[name] = ProviderOutcome(status="off", reason="not in TASTEBOT_DISCOVERY")
            continue
        reason = cls.off_reason(settings)
        if reason:
            outcomes[name] = ProviderOutcome(status="off", reason=reason)
            continue
        http = OpenService(settings, cls.label, cls.base(settings), error=DiscoveryError, endpoint=name, policy=policy)
        provider = cls(settings, store, http)
        providers.append(provider)
        outcomes[name] = provider.outcome
    return providers, outcomes


def relation(seed: Seed) -> str:
    return f"related to {seed.name}, {seed.why}"


def discover(client, store, seeds: Sequence[Seed], known: Known, providers: Sequence[Provider],
             add: Callable[[dict, str, str], None], *, limits: Limits = Limits()) -> None:
    """Run every provider; `add(spotify_track, tag, relation)` receives each never-heard match.
    Outcomes are on each provider's `.outcome`."""
    seeds = list(seeds)[: limits.seeds]
    for provider in providers:
        _run(client, store, seeds, known, provider, add, limits)


def _fail(provider: Provider, exc: DiscoveryError) -> None:
    provider.outcome.status = "failing"
    provider.outcome.reason = exc.message.rstrip(".")


def _run(client, store, seeds, known, provider, add, limits) -> None:
    out = provider.outcome
    skip = {loose_artist_name(s.name) for s in seeds} | {loose_artist_name(n) for n in known.artist_names}
    suggestions: list[SuggestedTrack] = []
    try:
        per_seed: list[list[RelatedArtist]] = []
        for seed in seeds:
            # ask for more than needed: some of them the listener already knows
            per_seed.append([a for a in provider.related(seed, max(RELATED_ASKED, limits.related)) if loose_artist_name(a.name) not in skip])
        chosen: list[RelatedArtist] = []
        taken: set[str] = set()
        for rank in range(limits.related):  # in turns: every seed's closest first
            for artists in per_seed:
                fresh = [a for a in artists if loose_artist_name(a.name) not in taken]
                if fresh:
                    a = fresh[0]
                    taken.add(loose_artist_name(a.name))
                    chosen.append(a)
        out.artists = len(chosen)
        for artist in chosen:
            if len(suggestions) >= limits.max_tracks:
                break
            suggestions.extend(provider.tracks(artist, limits.tracks)[: limits.max_tracks - len(suggestions)])
    except DiscoveryError as exc:
        _fail(provider, exc)
    out.suggested = len(suggestions)
    isrcs_ok = out.status != "failing"
    tag = f"discovery:{provider.name}"
    for s in suggestions:
        if known.knows_song(None, s.isrc, s.title, s.artist):
            out.known += 1
            continue
        isrc = s.isrc
        if isrc is None and isrcs_ok:
            try:
                isrc = provider.isrc(s)
            except DiscoveryError as exc:  # no more ISRCs from it: title and artist still work
                _fail(provider, exc)
                isrcs_ok = False
        if known.knows_song(None, isrc, None, None):
            out.known += 1
            continue
        track = by_isrc(client, store, isrc) if isrc else None
        if track is None:
            track = by_title(client, store, s.title, s.artist)
        if track is None:
            out.unmatched += 1
            continue
        artists = [a for a in track.get("artists") or [] if isinstance(a, dict)]
        if known.knows_song(track["id"], (track.get("external_ids") or {}).get("isrc"), track.get("name"),
                            artists[0].get("name") if artists else None):
            out.known += 1
            continue
        out.matched += 1
        add(track, tag, relation(s.related.seed))
