"""The local store: the only module with SQL. `Store(path)` opens (and migrates) it.

Areas: `library` (tracks, artists, albums, features, signals, playlists, harvest runs),
`corpus` (imported playlist collections for the collaborative score), `outputs` (playlists
tastebot created and what it added, for idempotent writing and feedback), `discovery` (the open
discovery services' answers and their Spotify matches, cached).
"""

from __future__ import annotations

from tastebot.store import corpus, discovery, library, outputs
from tastebot.store.core import StoreCore


class Store(library.LibraryMixin, corpus.CorpusMixin, outputs.OutputsMixin, discovery.DiscoveryMixin, StoreCore):
    AREAS = {
        "library": library.MIGRATIONS,
        "corpus": corpus.MIGRATIONS,
        "outputs": outputs.MIGRATIONS,
        "discovery": discovery.MIGRATIONS,
    }


def open_store(settings, *, readonly: bool = False) -> Store:
    return Store(settings.store_path, readonly=readonly)


__all__ = ["Store", "open_store"]
