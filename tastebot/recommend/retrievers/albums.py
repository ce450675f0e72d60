"""`album:liked-artist|followed-artist`: albums (and singles) of the artists the listener likes most
and the artists they follow, album -> tracks."""

from __future__ import annotations

import pandas as pd

from tastebot.recommend.candidates import CandidatePool, safe_source


def gather_albums(client, likes: pd.DataFrame, pool: CandidatePool, opts, sources, warnings) -> None:
    liked = (
        likes.assign(w=pd.to_numeric(likes.get("weight", 1.0), errors="coerce").fillna(1.0))
        .groupby("primary_artist_id")["w"].sum().sort_values(ascending=False)
    )
    artists = [(a, "album:liked-artist") for a in liked.index[: opts.max_artists] if isinstance(a, str) and a]

    def followed() -> None:
        for a in client.followed_artists()[: opts.max_artists]:
            if a.get("id"):
                artists.append((a["id"], "album:followed-artist"))

    safe_source("followed artists", followed, sources, warnings)

    def albums() -> None:
        seen: set[str] = set()
        for aid, tag in artists:
            for alb in client.artist_albums(aid, max_items=opts.albums_per_artist):
                if not alb.get("id") or alb["id"] in seen:
                    continue
                seen.add(alb["id"])
                for t in client.album_tracks(alb["id"]):
                    pool.add_spotify(t, tag, album=alb)

    safe_source("artist albums", albums, sources, warnings)


class AlbumsRetriever:
    name = "albums"
    switch = "use_albums"
    needs_client = True
    said_when_off = None
    labels = {"album:liked-artist": "an album of an artist you like",
              "album:followed-artist": "an album of an artist you follow"}

    def retrieve(self, ctx) -> None:
        gather_albums(ctx.client, ctx.likes, ctx.pool, ctx.options, ctx.sources, ctx.warnings)


RETRIEVER = AlbumsRetriever()
