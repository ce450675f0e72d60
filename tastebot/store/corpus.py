"""Store area: corpus — imported playlist collections for the collaborative score.

Stored compactly: tracks and playlists get small integer indexes, and each playlist keeps its
tracks as one BLOB of sorted little-endian int32 track indexes (4 bytes a pair: a 1,000,000-playlist
MPD import is about 270 MB, and the sparse matrix loads from one row per playlist, not one per
pair). Every import is a run: its rows carry the run's id and only runs marked `done` count, so
a failed or killed import is removed again and never half-visible.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tastebot.store.library_rows import impossible_features
from tastebot.vocab import AUDIO_FEATURES, now_iso

# Audio-feature (vocab.AUDIO_FEATURES) and metadata columns a corpus track may carry (from CSV imports
# such as TidyTuesday).
CORPUS_META = ("name", "artist_name", "artist_id", "album_id", "duration_ms", "popularity", "release_year")

MIGRATIONS: list[str] = [
    """
    CREATE TABLE corpus_imports (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',   -- running | done
        paths TEXT NOT NULL,
        playlists INTEGER NOT NULL DEFAULT 0,
        pairs INTEGER NOT NULL DEFAULT 0,
        new_tracks INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE corpus_tracks (
        idx INTEGER PRIMARY KEY,
        track_id TEXT NOT NULL UNIQUE,
        import_id INTEGER NOT NULL,
        name TEXT, artist_name TEXT, artist_id TEXT, album_id TEXT,
        duration_ms INTEGER, popularity REAL, release_year INTEGER,
        danceability REAL, energy REAL, key REAL, loudness REAL, mode REAL, speechiness REAL,
        acousticness REAL, instrumentalness REAL, liveness REAL, valence REAL, tempo REAL,
        time_signature REAL
    );
    CREATE TABLE corpus_playlists (
        idx INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL,
        source TEXT NOT NULL,          -- mpd | csv
        external_id TEXT NOT NULL,
        name TEXT,
        genre TEXT,
        n_tracks INTEGER NOT NULL,
        track_idxs BLOB NOT NULL,      -- sorted unique int32 (little-endian) corpus_tracks.idx
        UNIQUE (source, external_id)
    );
    CREATE INDEX corpus_playlists_import ON corpus_playlists(import_id);
    CREATE INDEX corpus_tracks_import ON corpus_tracks(import_id);
    """,
]

_FEATURE_SET = frozenset(AUDIO_FEATURES)
_COLUMNS = frozenset(CORPUS_META + AUDIO_FEATURES)
_DONE = "import_id IN (SELECT id FROM corpus_imports WHERE status = 'done')"


# A corpus track has audio features when its import carried them or a provider gave them (danceability
# stands for all: every source gives the whole set or none).
_HAS_FEATURES = ("(c.danceability IS NOT NULL OR EXISTS (SELECT 1 FROM features f"
                 " WHERE f.track_id = c.track_id AND f.feature = 'danceability'))")


def _fetched(feature: str) -> str:
    return f"(SELECT f.value FROM features f WHERE f.track_id = c.track_id AND f.feature = '{feature}')"


def _blob(idxs: np.ndarray) -> bytes:
    return np.unique(np.asarray(idxs, dtype="<i4")).astype("<i4", copy=False).tobytes()


class CorpusMixin:
    # -- import runs (used by tastebot.imports.corpus) ---------------------------------------------
    def corpus_begin_import(self, paths: Sequence[str]) -> int:
        """Start an import run; first removes what earlier failed or killed runs left behind."""
        self.corpus_discard_unfinished()
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO corpus_imports (started_at, paths) VALUES (?, ?)", (now_iso(), "\n".join(paths))
            )
            return int(cur.lastrowid)

    def corpus_discard_unfinished(self) -> int:
        """Delete every row of runs that never finished; returns how many runs were removed."""
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM corpus_imports WHERE status != 'done'")]
            for run in ids:
                conn.execute("DELETE FROM corpus_playlists WHERE import_id = ?", (run,))
                conn.execute("DELETE FROM corpus_tracks WHERE import_id = ?", (run,))
                conn.execute("DELETE FROM corpus_imports WHERE id = ?", (run,))
        return len(ids)

    def corpus_finish_import(self, run: int) -> dict[str, int]:
        with self.transaction() as conn:
            playlists, pairs = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(n_tracks), 0) FROM corpus_playlists WHERE import_id = ?", (run,)
            ).fetchone()
            new_tracks = conn.execute("SELECT COUNT(*) FROM corpus_tracks WHERE import_id = ?", (run,)).fetchone()[0]
            conn.execute(
                "UPDATE corpus_imports SET status = 'done', finished_at = ?, playlists = ?, pairs = ?, new_tracks = ?"
                " WHERE id = ?",
                (now_iso(), playlists, pairs, new_tracks, run),
            )
        return {"playlists": int(playlists), "pairs": int(pairs), "new_tracks": int(new_tracks)}

    def corpus_track_idxs(self, conn, run: int, tracks: dict[str, dict | None]) -> dict[str, int]:
        """Indexes for these track ids (inside the caller's transaction), adding unknown ones.

        `tracks` maps a track id to its metadata/features (any subset of CORPUS_META + AUDIO_FEATURES),
        or to None when the caller knows the track is stored already and wants only its index.
        Metadata of a new track is stored with it; features fill only columns of a stored track that
        are still empty, so a later import can add features. Features no track can have are refused
        (the track keeps its metadata) and counted in `features_refused`.
        """
        tracks = self._possible_features(tracks)
        cols = CORPUS_META + AUDIO_FEATURES
        out: dict[str, int] = {}
        ids = list(tracks)
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            q = f"SELECT track_id, idx FROM corpus_tracks WHERE track_id IN ({','.join('?' * len(chunk))})"
            out.update(conn.execute(q, chunk).fetchall())
        new = [tid for tid in ids if tid not in out]
        if new:
            # The caller's transaction holds the write lock (BEGIN IMMEDIATE), so the indexes after the
            # largest are free: assigning them here saves reading every new row back.
            top = conn.execute("SELECT COALESCE(MAX(idx), 0) FROM corpus_tracks").fetchone()[0]
            # Grouped by which fields the metadata has (one group for an MPD slice), so each row
            # carries only its own fields, not all twenty columns.
            groups: dict[tuple, list] = {}
            for i, tid in enumerate(new, start=int(top) + 1):
                out[tid] = i
                meta = tracks[tid] or {}
                keys = tuple(meta)
                rows = groups.get(keys)
                if rows is None:
                    if not _COLUMNS.issuperset(keys):
                        raise ValueError(f"unknown corpus track fields: {sorted(set(keys) - _COLUMNS)}")
                    rows = groups[keys] = []
                rows.append((i, tid, run, *meta.values()))
            for keys, rows in groups.items():
                names = ("idx", "track_id", "import_id") + keys
                conn.executemany(
                    f"INSERT INTO corpus_tracks ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows
                )
        fresh = set(new)
        with_features = [
            (tid, meta)
            for tid, meta in tracks.items()
            if meta and tid not in fresh and not _FEATURE_SET.isdisjoint(meta)
            and any(meta.get(c) is not None for c in AUDIO_FEATURES)
        ]
        if with_features:
            sets = ", ".join(f"{c} = COALESCE({c}, ?)" for c in cols)
            conn.executemany(
                f"UPDATE corpus_tracks SET {sets} WHERE track_id = ?",
                [tuple(meta.get(c) for c in cols) + (tid,) for tid, meta in with_features],
            )
        return out

    def _possible_features(self, tracks: dict[str, dict | None]) -> dict[str, dict | None]:
        out = tracks
        for tid, meta in tracks.items():
            if meta and not _FEATURE_SET.isdisjoint(meta) and impossible_features(meta):
                if out is tracks:
                    out = dict(tracks)
                out[tid] = {k: (None if k in _FEATURE_SET else v) for k, v in meta.items()}
                self.features_refused += 1
        return out

    def corpus_put_playlists(
        self, conn, run: int, source: str, playlists: Sequence[tuple[str, str | None, str | None, np.ndarray]]
    ) -> tuple[int, int, int]:
        """Store playlists (inside the caller's transaction): (external id, name, genre, int32 track
        indexes). A playlist an earlier finished import already holds is left as it is; one seen
        earlier in this run is merged (CSV rows need not be grouped by playlist). Returns (playlists
        stored, playlists left as they were, pairs stored), counting every item given."""
        grouped: dict[str, list] = {}
        for ext, name, genre, idxs in playlists:
            have = grouped.get(ext)
            if have is None:
                grouped[ext] = [name, genre, [idxs]]
            else:
                have[2].append(idxs)
        stored: dict[str, tuple] = {}
        ids = list(grouped)
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            q = (
                "SELECT external_id, idx, import_id, track_idxs FROM corpus_playlists"
                f" WHERE source = ? AND external_id IN ({','.join('?' * len(chunk))})"
            )
            stored.update((r[0], tuple(r[1:])) for r in conn.execute(q, [source, *chunk]))
        inserts, merges, left = [], [], set()
        for ext, (name, genre, parts) in grouped.items():
            row = stored.get(ext)
            if row is not None and row[1] != run:
                left.add(ext)
                continue
            if row is not None:
                parts = [np.frombuffer(row[2], dtype="<i4"), *parts]
            blob = _blob(parts[0] if len(parts) == 1 else np.concatenate(parts))
            if row is None:
                inserts.append((run, source, ext, name, genre, len(blob) // 4, blob))
            else:
                merges.append((blob, len(blob) // 4, row[0]))
        if inserts:
            conn.executemany(
                "INSERT INTO corpus_playlists (import_id, source, external_id, name, genre, n_tracks, track_idxs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )
        if merges:
            conn.executemany("UPDATE corpus_playlists SET track_idxs = ?, n_tracks = ? WHERE idx = ?", merges)
        skipped = sum(1 for p in playlists if p[0] in left)
        pairs = sum(len(p[3]) for p in playlists if p[0] not in left)
        return len(playlists) - skipped, skipped, pairs

    # -- reading ------------------------------------------------------------------------------
    def corpus_stats(self) -> dict[str, int]:
        p, pairs = self.conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM(n_tracks), 0) FROM corpus_playlists WHERE {_DONE}"
        ).fetchone()
        t = self.conn.execute(f"SELECT COUNT(*) FROM corpus_tracks WHERE {_DONE}").fetchone()[0]
        runs = self.conn.execute("SELECT COUNT(*) FROM corpus_imports WHERE status = 'done'").fetchone()[0]
        return {"imports": int(runs), "playlists": int(p), "tracks": int(t), "pairs": int(pairs)}

    def corpus_track_ids(self) -> list[str]:
        """Every track id of the imported corpus (finished imports only)."""
        cur = self.conn.cursor()
        cur.row_factory = None  # plain tuples: a sqlite3.Row per id costs time over two million ids
        return [r[0] for r in cur.execute(f"SELECT track_id FROM corpus_tracks WHERE {_DONE} ORDER BY idx")]

    def corpus_matrix(self):
        """(matrix, track_ids, playlist_ids): a scipy.sparse CSR playlist x track 0/1 matrix.

        Columns are the corpus tracks in `track_ids` order (a numpy array of str); rows the
        playlists (external ids). One row read per playlist, so a large corpus loads quickly; each
        playlist's packed array is copied into the matrix's index array, sized once from the stored
        lengths, so the peak memory is the matrix itself (0.5 GB for a whole MPD) and its ids.
        """
        import scipy.sparse as sp  # here: only the scorer asks for the matrix (scipy ~1 s to import)

        cur = self.conn.cursor()
        cur.row_factory = None  # plain tuples: millions of sqlite3.Row objects cost time and memory
        n_tracks = cur.execute(f"SELECT COUNT(*) FROM corpus_tracks WHERE {_DONE}").fetchone()[0]
        idxs = np.empty(n_tracks, dtype=np.int64)
        track_ids = np.empty(n_tracks, dtype=object)
        for i, (idx, tid) in enumerate(cur.execute(f"SELECT idx, track_id FROM corpus_tracks WHERE {_DONE} ORDER BY idx")):
            idxs[i] = idx
            track_ids[i] = tid
        # corpus idx -> column: idx values have gaps after discarded runs
        col_of = np.full(int(idxs.max()) + 1 if n_tracks else 1, -1, dtype=np.int32)
        col_of[idxs] = np.arange(n_tracks, dtype=np.int32)
        del idxs
        n_playlists, n_pairs = cur.execute(
            f"SELECT COUNT(*), COALESCE(SUM(length(track_idxs)), 0) / 4 FROM corpus_playlists WHERE {_DONE}"
        ).fetchone()
        # Filled in place, one playlist's BLOB at a time: a whole-MPD corpus (64 million pairs) never
        # holds a second copy of its pairs (a growing buffer, then the gather into columns, held two).
        indices = np.empty(n_pairs, dtype=np.int32)
        lengths = np.zeros(n_playlists, dtype=np.int64)
        playlist_ids: list[str] = []
        at = 0
        for i, (ext, blob) in enumerate(
            cur.execute(f"SELECT external_id, track_idxs FROM corpus_playlists WHERE {_DONE} ORDER BY idx")
        ):
            k = len(blob) // 4
            indices[at : at + k] = np.frombuffer(blob, dtype="<i4")
            at += k
            lengths[i] = k
            playlist_ids.append(ext)
        lengths = lengths[: len(playlist_ids)]
        indices = indices[:at]
        step = 1 << 22
        for s in range(0, len(indices), step):  # corpus idx -> column, in place
            indices[s : s + step] = col_of[indices[s : s + step]]
        if len(indices) and indices.min() < 0:  # a track no finished import holds (only if the store was edited)
            inside = indices >= 0
            row_of = np.repeat(np.arange(len(lengths)), lengths)
            lengths = np.bincount(row_of[inside], minlength=len(lengths))
            indices = indices[inside]
            del inside, row_of
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        data = np.ones(len(indices), dtype=np.float32)
        m = sp.csr_matrix((data, indices, indptr), shape=(len(playlist_ids), n_tracks))
        return m, track_ids, playlist_ids

    def corpus_artist_codes(self) -> tuple[np.ndarray, list[str]]:
        """(codes, names): for each corpus track in `corpus_matrix`'s column order, the code of its
        artist's name in `names` (the distinct names, in order of first sight; -1: no name). Codes, not a
        name per track: a whole-MPD corpus has 2.24 million tracks but 296,000 artists, and a frame of
        its names took 0.6 GB (benchmarks/corpus_import.py)."""
        cur = self.conn.cursor()
        cur.row_factory = None
        n_tracks = cur.execute(f"SELECT COUNT(*) FROM corpus_tracks WHERE {_DONE}").fetchone()[0]
        code_of: dict[str, int] = {}
        code = code_of.setdefault  # a new name gets the next code (len before it is added)
        rows = cur.execute(f"SELECT artist_name FROM corpus_tracks WHERE {_DONE} ORDER BY idx")
        codes = np.fromiter((-1 if name is None else code(name, len(code_of)) for (name,) in rows),
                            dtype=np.int32, count=n_tracks)
        return codes, list(code_of)

    # -- audio features for corpus tracks (tastebot.providers.audio_features.FeatureChain.fill_corpus) ---------
    def corpus_tracks_needing_features(self, provider: str, limit: int, asked_before: str,
                                       after: int = 0) -> list[tuple[int, str]]:
        """Up to `limit` (index, track id) of corpus tracks past index `after` without audio features
        (from the import or any provider) that `provider` was not asked about since `asked_before` (a
        sortable time: an unknown track is asked again only after that). In import order: a caller
        passes the last index it got as `after`, so a whole corpus is one pass, not a scan a slice."""
        if limit <= 0:
            return []
        sql = (
            f"SELECT c.idx, c.track_id FROM corpus_tracks c WHERE c.idx > ? AND c.{_DONE} AND NOT {_HAS_FEATURES}"
            " AND NOT EXISTS (SELECT 1 FROM feature_attempts a WHERE a.track_id = c.track_id AND a.provider = ?"
            " AND (a.found = 1 OR a.attempted_at >= ?)) ORDER BY c.idx LIMIT ?"
        )
        return [(int(r[0]), r[1]) for r in self.conn.execute(sql, (int(after), provider, asked_before, int(limit)))]

    def corpus_feature_coverage(self, asked_since: str) -> dict[str, int]:
        """{tracks, with_features, unknown}: corpus tracks, those with audio features, and those without
        that a provider was asked about since `asked_since` (or that it knew only in part)."""
        row = self.conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM({_HAS_FEATURES}), 0),"
            f" COALESCE(SUM(NOT {_HAS_FEATURES} AND EXISTS (SELECT 1 FROM feature_attempts a"
            " WHERE a.track_id = c.track_id AND (a.found = 1 OR a.attempted_at >= ?))), 0)"
            f" FROM corpus_tracks c WHERE c.{_DONE}",
            (asked_since,),
        ).fetchone()
        return {"tracks": int(row[0]), "with_features": int(row[1]), "unknown": int(row[2])}

    def corpus_playlist_names(self, external_ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        ids = list(external_ids)
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            q = f"SELECT external_id, name FROM corpus_playlists WHERE external_id IN ({','.join('?' * len(chunk))})"
            out.update({r[0]: r[1] for r in self.conn.execute(q, chunk)})
        return out

    def corpus_tracks_frame(self, track_ids: Sequence[str] | None = None, columns: Sequence[str] | None = None,
                            *, with_features: bool = False):
        """Metadata and features the corpus holds for tracks (all when track_ids is None).

        `columns` (default: all of CORPUS_META + AUDIO_FEATURES) limits what is read: for the whole
        MPD (2.24 million tracks) all columns took 2 GB at peak, only artist_name 0.6 GB
        (benchmarks/corpus_import.py). `with_features`: only tracks with audio features.
        """
        import pandas as pd  # here: most commands open the store and never build a frame (pandas ~1 s to import)

        wanted = tuple(columns) if columns is not None else CORPUS_META + AUDIO_FEATURES
        unknown = set(wanted) - _COLUMNS
        if unknown:
            raise ValueError(f"unknown corpus track columns: {sorted(unknown)}")
        cols = ("track_id",) + tuple(c for c in wanted if c != "track_id")
        # A feature the import did not carry comes from the features table (what the providers
        # fetched for corpus tracks, tastebot.providers.audio_features.FeatureChain.fill_corpus).
        exprs = [f"COALESCE(c.{col}, {_fetched(col)})" if col in _FEATURE_SET else f"c.{col}" for col in cols]
        sel = f"SELECT {', '.join(exprs)} FROM corpus_tracks c WHERE c.{_DONE}"
        if with_features:  # the tracks a taste model can score
            sel += f" AND {_HAS_FEATURES}"
        cur = self.conn.cursor()
        cur.row_factory = None
        if track_ids is None:
            rows = cur.execute(sel + " ORDER BY c.idx").fetchall()
        else:
            rows = []
            ids = list(track_ids)
            for i in range(0, len(ids), 900):
                chunk = ids[i : i + 900]
                rows += cur.execute(sel + f" AND c.track_id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        return pd.DataFrame.from_records(rows, columns=list(cols))
