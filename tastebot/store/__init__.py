"""The local store: the only module with SQL. `Store(path)` opens (and migrates) it.

Areas: `library` (tracks, artists, albums, features, signals, playlists, harvest runs),
`corpus` (imported playlist collections for the collaborative score), `outputs` (playlists
tastebot created and what it added, for idempotent writing, refreshes and feedback), `history` (the
plays of the listener's own Spotify data export), `discovery` (the open discovery services' answers and
their Spotify matches, cached), `exclusions` (artists, tracks and playlists the listener keeps out).
"""

from __future__ import annotations

from tastebot.store import corpus, discovery, exclusions, history, library, outputs
from tastebot.store.core import StoreCore


class Store(library.LibraryMixin, corpus.CorpusMixin, outputs.OutputsMixin, history.HistoryMixin,
            discovery.DiscoveryMixin, exclusions.ExclusionsMixin, StoreCore):
    AREAS = {
        "library": library.MIGRATIONS,
        "corpus": corpus.MIGRATIONS,
        "outputs": outputs.MIGRATIONS,
        "history": history.MIGRATIONS,
        "discovery": discovery.MIGRATIONS,
        "exclusions": exclusions.MIGRATIONS,
    }


def open_store(settings, *, readonly: bool = False) -> Store:
    return Store(settings.store_path, readonly=readonly)


__all__ = ["Store", "open_store"]
