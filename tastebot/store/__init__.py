"""The local store: the only module with SQL. `Store(path)` opens (and migrates) it.

Areas: `library` (tracks, artists, albums, features, signals, playlists, harvest runs),
`corpus` (imported playlist collections for the collaborative score), `outputs` (playlists
tastebot created and what it added, for idempotent writing and feedback).
"""

from __future__ import annotations

from tastebot.store import corpus, library, outputs
from tastebot.store.core import StoreCore


class Store(library.LibraryMixin, corpus.CorpusMixin, outputs.OutputsMixin, StoreCore):
    AREAS = {
        "library": library.MIGRATIONS,
        "corpus": corpus.MIGRATIONS,
        "outputs": outputs.MIGRATIONS,
    }


def open_store(settings, *, readonly: bool = False) -> Store:
    return Store(settings.store_path, readonly=readonly)


__all__ = ["Store", "open_store"]
