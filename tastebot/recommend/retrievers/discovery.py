"""`discovery:<provider>`: tracks of new artists the open services (tastebot.discovery) relate to the
listener's top and liked artists, found on Spotify; the relation goes into "why"."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tastebot.errors import RateLimited, SpotifyError
from tastebot.known import Known
from tastebot.recommend.candidates import CandidatePool
from tastebot.discovery import Limits, build_providers, discover
from tastebot.discovery import Seed
from tastebot.names import loose_artist_name as loose_name


def discovery_seeds(client, store, likes: pd.DataFrame, limit: int, warnings: list[str]) -> list:
    """The listener's artists discovery starts from: top artists (medium term) first, then the liked
    artists by the weight of their likes; at most `limit`, no artist twice."""

    seeds: list[Seed] = []
    seen: set[str] = set()

    def take(name: Any, artist_id: Any, why: str) -> None:
        if isinstance(name, str) and name.strip() and loose_name(name) not in seen and len(seeds) < limit:
            seen.add(loose_name(name))
            seeds.append(Seed(name=name.strip(), spotify_id=artist_id if isinstance(artist_id, str) else None, why=why))

    try:
        for a in client.top_artists("medium_term")[:limit]:
            take(a.get("name"), a.get("id"), "whom you play a lot")
    except RateLimited:
        raise
    except SpotifyError as exc:
        warnings.append(f"discovery: your top artists are unavailable ({exc.message}); starting from your likes")
    if len(seeds) < limit and len(likes):
        liked = (likes.assign(w=pd.to_numeric(likes.get("weight", 1.0), errors="coerce").fillna(1.0))
                 .groupby("primary_artist_id")["w"].sum().sort_values(ascending=False))
        ids = [a for a in liked.index[: limit * 2] if isinstance(a, str) and a]
        names = store.artist_names(ids)
        for aid in ids:
            take(names.get(aid), aid, "whom you like")
    return seeds


def gather_discovery(settings, client, store, likes: pd.DataFrame, known: Known, pool: CandidatePool, opts,
                     sources: dict[str, str], warnings: list[str]) -> dict:
    """The discovery retrievers (`discovery:<provider>`): tracks of new artists the open services
    relate to the listener's. Returns each provider's outcome (also written to `sources`)."""

    providers, outcomes = build_providers(settings, store, getattr(client, "policy", None))
    if providers:
        limits = Limits.for_run(seeds=opts.max_artists, new_artists_only=opts.new_artists_only)
        seeds = discovery_seeds(client, store, likes, limits.seeds, warnings)

        def add(track: dict, tag: str, relation: str) -> None:
            pool.add_spotify(track, tag)
            pool.add_relation(track["id"], relation)

        try:
            discover(client, store, seeds, known, providers, add, limits=limits)
        except RateLimited:
            raise
        except SpotifyError as exc:  # Spotify's search failed while matching: keep what was found
            for p in providers:
                if p.outcome.status == "used":
                    p.outcome.status, p.outcome.reason = "failing", f"Spotify search failed: {exc.message.rstrip('.')}"
    for name, outcome in outcomes.items():
        sources[f"discovery:{name}"] = outcome.line()
        if outcome.status == "failing":
            warnings.append(f"discovery:{name} failing: {outcome.reason}")
    return outcomes


class DiscoveryRetriever:
    name = "discovery"
    switch = "use_discovery"
    needs_client = True
    said_when_off = "off (--no-discovery)"
    labels = {"discovery:deezer": "Deezer's related artists", "discovery:lastfm": "Last.fm's similar artists"}

    def retrieve(self, ctx) -> None:
        gather_discovery(ctx.settings, ctx.client, ctx.store, ctx.likes, ctx.known, ctx.pool, ctx.options,
                         ctx.sources, ctx.warnings)


RETRIEVER = DiscoveryRetriever()
