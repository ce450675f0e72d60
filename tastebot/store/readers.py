"""What the models read from the store, as a type: `ModelReader` names exactly the `Store` methods
that `tastebot/models/*`, `tastebot/models/inputs.py` and `tastebot/train.py` call, so those modules
depend on a small read-only interface rather than on the 80-method Store (issue 12).

`Store` satisfies it structurally (no inheritance); `tests/test_store_readers.py` checks every
member exists on Store with the same parameters, and that the set is exactly what those modules
read. A stand-in for tests or benchmarks needs only these methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import scipy.sparse


class ModelReader(Protocol):
    """The store as training and the collaborative scorer see it (frames: docs/architecture.md)."""

    # The listener's library (store/library.py; artist_names: store/discovery.py).
    def labelled_tracks(self) -> pd.DataFrame: ...
    def tracks_frame(self, track_ids: Iterable[str]) -> pd.DataFrame: ...
    def known_track_ids(self, *, with_sampled: bool = True) -> set[str]: ...
    def playlists(self, role: str | None = None) -> list[dict[str, Any]]: ...
    def playlist_track_ids(self, playlist_id: str) -> list[str]: ...
    def harvest_runs(self) -> list[dict[str, Any]]: ...
    def artist_names(self, artist_ids: list[str]) -> dict[str, str]: ...

    # The imported corpus (store/corpus.py).
    def corpus_stats(self) -> dict[str, int]: ...
    def corpus_matrix(self) -> tuple[scipy.sparse.csr_matrix, np.ndarray, list[str]]: ...
    def corpus_playlist_names(self, external_ids: Sequence[str]) -> dict[str, str]: ...
    def corpus_tracks_frame(self, track_ids: Sequence[str] | None = None, columns: Sequence[str] | None = None,
                            *, with_features: bool = False) -> pd.DataFrame: ...
