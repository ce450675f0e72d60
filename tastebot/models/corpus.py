"""The collaborative scorer's corpus: the playlist x track matrix with its track ids and artist keys
(`CorpusData`, from the store's imported corpus plus the listener's own playlists, or from pairs), and
the listener's own playlists as the store gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

# The scorer's artist key (tastebot.names), under the names this module's code reads.
from tastebot.names import corpus_artist_key as normalise_artist, corpus_artist_keys as normalise_artists

if TYPE_CHECKING:
    from tastebot.store.readers import ModelReader


@dataclass
class CorpusData:
    """A playlist x track 0/1 matrix with its column track ids and per-track artist keys."""

    matrix: Any  # scipy.sparse.csr_matrix, playlists x tracks
    track_ids: np.ndarray
    playlist_ids: list[str] = field(default_factory=list)
    track_artists: np.ndarray | None = None  # artist key per column (normalised name), None = unknown
    playlist_names: dict[str, str] = field(default_factory=dict)
    # Looks up names of imported playlists on demand (a million names are not worth holding).
    names_from: Callable[[Sequence[str]], dict[str, str]] | None = None
    _column_of: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def names(self, playlist_ids: Sequence[str]) -> list[str]:
        missing = [p for p in playlist_ids if p not in self.playlist_names]
        if missing and self.names_from is not None:
            self.playlist_names.update(self.names_from(missing))
        # A playlist imported without a name is left out: its id is not a name to show.
        return [name for p in playlist_ids if (name := self.playlist_names.get(p))]

    @classmethod
    def from_pairs(cls, pairs: Sequence[tuple[str, str]], artists: dict[str, str] | None = None) -> "CorpusData":
        """From (playlist id, track id) pairs; `artists` maps track id -> artist name (optional)."""
        import scipy.sparse as sp  # here: only a corpus being built needs it (scipy ~1 s to import)

        pl = pd.Index(sorted({p for p, _ in pairs}))
        tr = pd.Index(sorted({t for _, t in pairs}))
        rows = pl.get_indexer([p for p, _ in pairs])
        cols = tr.get_indexer([t for _, t in pairs])
        m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(pl), len(tr)))
        m.data[:] = 1.0
        m.sum_duplicates()
        m.data = np.minimum(m.data, 1.0)
        keys = None
        if artists:
            keys = np.array([normalise_artist(artists.get(t)) for t in tr], dtype=object)
        return cls(m, np.asarray(tr, dtype=object), list(pl), keys)

    def column_of(self) -> dict[str, int]:
        """{track id: column}, built once and shared by every scorer fitted on this corpus (for two
        million tracks the dict alone is some 200 MB: one per cross-validation fit added up)."""
        if self._column_of is None:
            self._column_of = {t: i for i, t in enumerate(self.track_ids)}
        return self._column_of

    @classmethod
    def from_store(cls, store: ModelReader, include_own: bool = True) -> "CorpusData":
        """The imported corpus plus (with include_own) the user's own playlists from the library."""
        m, track_ids, playlist_ids = store.corpus_matrix()
        # The artist keys as codes into the distinct names, normalised once per name: a whole-MPD
        # corpus has 2.24 million tracks and 296,000 artists (a name per track took 0.6 GB).
        codes, names = store.corpus_artist_codes()
        key_codes, keys = pd.factorize(pd.Series(normalise_artists(names), dtype=object))  # None: -1
        keys = np.append(np.asarray(keys, dtype=object), None)  # code -1 (no name or no key): None
        track_artists = keys[np.append(key_codes, -1)[codes]]
        del codes, key_codes
        corpus = cls(m, track_ids, list(playlist_ids), track_artists, names_from=store.corpus_playlist_names)
        return corpus.with_own(store) if include_own else corpus

    def with_own(self, store: ModelReader) -> "CorpusData":
        """This corpus plus the user's own (and like-) playlists from the library as rows; itself when
        there are none, so `train` reads the imported corpus once for its fits with and without them."""
        import scipy.sparse as sp  # here: only a corpus being built needs it (scipy ~1 s to import)

        own_lists = _own_playlists(store)
        if not own_lists:
            return self
        own_names = {f"own:{k}": f"your playlist {name}" for k, (name, _) in own_lists.items() if name}
        own = {k: items for k, (_, items) in own_lists.items()}
        m, track_ids = self.matrix, self.track_ids
        in_corpus = set(track_ids)
        extra = list(dict.fromkeys(t for items in own.values() for t in items if t not in in_corpus))
        all_ids = np.concatenate([track_ids, np.asarray(extra, dtype=object)]) if extra else track_ids
        col = {t: i for i, t in enumerate(all_ids)}
        rows, cols = [], []
        for r, items in enumerate(own.values()):
            for t in set(items):
                rows.append(r)
                cols.append(col[t])
        own_m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(own), len(all_ids)))
        m = sp.vstack([sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], len(all_ids))), own_m]).tocsr()
        artists = self.track_artists
        if artists is not None and extra:
            library = _library_artist_names(store, extra)
            artists = np.concatenate([artists, normalise_artists([library.get(t) for t in extra])])
        return CorpusData(m, all_ids, list(self.playlist_ids) + [f"own:{k}" for k in own], artists,
                          playlist_names={**self.playlist_names, **own_names}, names_from=self.names_from)


def _own_playlists(store: ModelReader) -> dict[str, tuple[str, list[str]]]:
    """{playlist id: (name, track ids)} of the user's own (and like-) playlists in the library."""
    out: dict[str, tuple[str, list[str]]] = {}
    for role in ("own", "like"):
        for pl in store.playlists(role):
            ids = [t for t in store.playlist_track_ids(pl["id"]) if t]
            if ids:
                out[str(pl["id"])] = (pl.get("name") or "", ids)
    return out


def _library_artist_names(store: ModelReader, track_ids) -> dict[str, str]:
    """{track id: its primary artist's name} for library tracks (own-playlist tracks the corpus lacks)."""
    if not len(track_ids):
        return {}
    f = store.tracks_frame(list(track_ids))
    names = store.artist_names(f["primary_artist_id"].dropna().astype(str).unique().tolist())
    return {t: names[a] for t, a in zip(f["track_id"], f["primary_artist_id"]) if a in names}
