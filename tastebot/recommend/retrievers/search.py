"""`search:artist|genre|year`: Spotify search (10 a page, the 2026 limit) for the listener's top
artists, and the genres and release years most common among the likes."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from tastebot.recommend.candidates import CandidatePool, safe_source

SEARCH_PAGE = 10


def gather_search(client, likes: pd.DataFrame, pool: CandidatePool, opts, sources, warnings) -> None:
    queries: list[tuple[str, str]] = []

    def top_artist_queries() -> None:
        artists = client.top_artists("medium_term")
        for a in artists[: opts.max_artists]:
            if a.get("name"):
                queries.append((f'artist:"{a["name"]}"', "search:artist"))

    safe_source("top artists", top_artist_queries, sources, warnings)
    genres = Counter()
    for g in likes.get("genres", pd.Series(dtype=object)).fillna(""):
        genres.update(x for x in str(g).split("|") if x)
    for g, _ in genres.most_common(3):
        queries.append((f'genre:"{g}"', "search:genre"))
    years = pd.to_numeric(likes.get("release_year", pd.Series(dtype=float)), errors="coerce").dropna().astype(int)
    for y, _ in Counter(years).most_common(3):
        queries.append((f"year:{y}", "search:year"))

    def run_queries() -> None:
        for q, tag in queries:
            for page in range(opts.search_pages):
                answer = client.search(q, type="track", limit=SEARCH_PAGE, offset=page * SEARCH_PAGE)
                items = ((answer or {}).get("tracks") or {}).get("items") or []
                for t in items:
                    pool.add_spotify(t, tag)
                if len(items) < SEARCH_PAGE:
                    break

    safe_source("search", run_queries, sources, warnings)


class SearchRetriever:
    name = "search"
    switch = "use_search"
    needs_client = True
    said_when_off = None
    labels = {"search:artist": "search by your artists", "search:genre": "search by your genres",
              "search:year": "search by your years"}

    def retrieve(self, ctx) -> None:
        gather_search(ctx.client, ctx.likes, ctx.pool, ctx.options, ctx.sources, ctx.warnings)


RETRIEVER = SearchRetriever()
