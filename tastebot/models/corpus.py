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

    @classmethod
    def from_store(cls, store: ModelReader, include_own: bool = True) -> "CorpusData":
        """The imported corpus plus (with include_own) the user's own playlists from the library."""
        import scipy.sparse as sp  # here: only a corpus being built needs it (scipy ~1 s to import)

        m, track_ids, playlist_ids = store.corpus_matrix()
        # Only the artist names: every column of a whole-MPD corpus (2.2 million tracks) takes 2 GB.
        meta = (store.corpus_tracks_frame(columns=["artist_name"]) if len(track_ids)
                else pd.DataFrame(columns=["track_id", "artist_name"]))
        artist_of = dict(zip(meta["track_id"], meta["artist_name"]))
        own_lists = _own_playlists(store) if include_own else {}
        own_names = {f"own:{k}": f"your playlist {name}" for k, (name, _) in own_lists.items() if name}
        own = {k: items for k, (_, items) in own_lists.items()}
        if own:
            in_corpus = set(track_ids)
            extra = [t for items in own.values() for t in items if t not in in_corpus]
            extra = list(dict.fromkeys(extra))
            all_ids = np.concatenate([track_ids, np.asarray(extra, dtype=object)]) if extra else track_ids
            col = {t: i for i, t in enumerate(all_ids)}
            rows, cols = [], []
            for r, items in enumerate(own.values()):
                for t in set(items):
                    rows.append(r)
                    cols.append(col[t])
            own_m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(own), len(all_ids)))
            m = sp.vstack([sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], len(all_ids))), own_m]).tocsr()
            track_ids = all_ids
            playlist_ids = list(playlist_ids) + [f"own:{k}" for k in own]
            artist_of.update(_library_artist_names(store, extra))
        keys = normalise_artists([artist_of.get(t) for t in track_ids])
        return cls(m, track_ids, playlist_ids, keys, playlist_names=own_names, names_from=store.corpus_playlist_names)


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
