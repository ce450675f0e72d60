"""Store area: corpus — imported playlist collections for the collaborative score.

Stored compactly: tracks and playlists get small integer indexes, and each playlist keeps its
tracks as one BLOB of sorted little-endian int32 track indexes (4 bytes a pair: a 1,000,000-playlist
MPD import is about 270 MB, and the sparse matrix loads from one row per playlist, not one per
pair). Every import is a run: its rows carry the run's id and only runs marked `done` count, so
a failed or killed import is removed again and never half-visible.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from tastebot.store.core import utcnow

# Audio-feature and metadata columns a corpus track may carry (from CSV imports such as TidyTuesday).
CORPUS_FEATURES = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
)
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

_DONE = "import_id IN (SELECT id FROM corpus_imports WHERE status = 'done')"


def _blob(idxs: Iterable[int]) -> bytes:
    return np.unique(np.fromiter(idxs, dtype="<i4")).astype("<i4").tobytes()


class CorpusMixin:
    # -- import runs (used by tastebot.corpus) ---------------------------------------------
    def corpus_begin_import(self, paths: Sequence[str]) -> int:
        """Start an import run; first removes what earlier failed or killed runs left behind."""
        self.corpus_discard_unfinished()
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO corpus_imports (started_at, paths) VALUES (?, ?)", (utcnow(), "\n".join(paths))
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
                (utcnow(), playlists, pairs, new_tracks, run),
            )
        return {"playlists": int(playlists), "pairs": int(pairs), "new_tracks": int(new_tracks)}

    def corpus_track_idxs(self, conn, run: int, tracks: dict[str, dict]) -> dict[str, int]:
        """Indexes for these track ids (inside the caller's transaction), adding unknown ones.

        `tracks` maps a track id to its metadata/features (any subset of CORPUS_META + CORPUS_FEATURES);
        metadata fills only columns that are still empty, so a later import can add features.
        """
        cols = ("track_id", "import_id") + CORPUS_META + CORPUS_FEATURES
        conn.executemany(
            f"INSERT OR IGNORE INTO corpus_tracks ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [(tid, run) + tuple(meta.get(c) for c in CORPUS_META + CORPUS_FEATURES) for tid, meta in tracks.items()],
        )
        with_features = [(tid, meta) for tid, meta in tracks.items() if any(meta.get(c) is not None for c in CORPUS_FEATURES)]
        if with_features:
            sets = ", ".join(f"{c} = COALESCE({c}, ?)" for c in CORPUS_META + CORPUS_FEATURES)
            conn.executemany(
                f"UPDATE corpus_tracks SET {sets} WHERE track_id = ?",
                [tuple(meta.get(c) for c in CORPUS_META + CORPUS_FEATURES) + (tid,) for tid, meta in with_features],
            )
        out: dict[str, int] = {}
        ids = list(tracks)
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            q = f"SELECT track_id, idx FROM corpus_tracks WHERE track_id IN ({','.join('?' * len(chunk))})"
            out.update({r[0]: int(r[1]) for r in conn.execute(q, chunk)})
        return out

    def corpus_put_playlist(
        self, conn, run: int, source: str, external_id: str, name: str | None, genre: str | None, track_idxs: Iterable[int]
    ) -> bool:
        """Store one playlist (inside the caller's transaction). A playlist an earlier finished import
        already holds is left as it is (False); one seen earlier in this run is merged (CSV rows need
        not be grouped by playlist)."""
        row = conn.execute(
            "SELECT idx, import_id, track_idxs FROM corpus_playlists WHERE source = ? AND external_id = ?",
            (source, external_id),
        ).fetchone()
        if row is None:
            blob = _blob(track_idxs)
            conn.execute(
                "INSERT INTO corpus_playlists (import_id, source, external_id, name, genre, n_tracks, track_idxs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run, source, external_id, name, genre, len(blob) // 4, blob),
            )
            return True
        if row[1] != run:
            return False
        merged = np.concatenate([np.frombuffer(row[2], dtype="<i4"), np.fromiter(track_idxs, dtype="<i4")])
        blob = _blob(merged)
        conn.execute(
            "UPDATE corpus_playlists SET track_idxs = ?, n_tracks = ? WHERE idx = ?", (blob, len(blob) // 4, row[0])
        )
        return True

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
        return [r[0] for r in self.conn.execute(f"SELECT track_id FROM corpus_tracks WHERE {_DONE} ORDER BY idx")]

    def corpus_matrix(self):
        """(matrix, track_ids, playlist_ids): a scipy.sparse CSR playlist x track 0/1 matrix.

        Columns are the corpus tracks in `track_ids` order (a numpy array of str); rows the
        playlists (external ids). One row read per playlist, so a large corpus loads quickly.
        """
        import scipy.sparse as sp

        rows = self.conn.execute(f"SELECT idx, track_id FROM corpus_tracks WHERE {_DONE} ORDER BY idx").fetchall()
        idxs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        track_ids = np.array([r[1] for r in rows], dtype=object)
        del rows
        # corpus idx -> column: idx values have gaps after discarded runs
        col_of = np.full(int(idxs.max()) + 1 if len(idxs) else 1, -1, dtype=np.int64)
        col_of[idxs] = np.arange(len(idxs))
        indptr = [0]
        chunks: list[np.ndarray] = []
        playlist_ids: list[str] = []
        total = 0
        for ext, blob in self.conn.execute(
            f"SELECT external_id, track_idxs FROM corpus_playlists WHERE {_DONE} ORDER BY idx"
        ):
            cols = col_of[np.frombuffer(blob, dtype="<i4")]
            cols = cols[cols >= 0]
            chunks.append(cols.astype(np.int32))
            total += len(cols)
            indptr.append(total)
            playlist_ids.append(ext)
        indices = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
        data = np.ones(len(indices), dtype=np.float32)
        m = sp.csr_matrix((data, indices, np.asarray(indptr, dtype=np.int64)), shape=(len(playlist_ids), len(track_ids)))
        return m, track_ids, playlist_ids

    def corpus_playlist_names(self, external_ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        ids = list(external_ids)
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            q = f"SELECT external_id, name FROM corpus_playlists WHERE external_id IN ({','.join('?' * len(chunk))})"
            out.update({r[0]: r[1] for r in self.conn.execute(q, chunk)})
        return out

    def corpus_tracks_frame(self, track_ids: Sequence[str] | None = None):
        """Metadata and features the corpus holds for tracks (all when track_ids is None)."""
        import pandas as pd

        cols = ("track_id",) + CORPUS_META + CORPUS_FEATURES
        sel = f"SELECT {', '.join(cols)} FROM corpus_tracks WHERE {_DONE}"
        if track_ids is None:
            rows = self.conn.execute(sel + " ORDER BY idx").fetchall()
        else:
            rows = []
            ids = list(track_ids)
            for i in range(0, len(ids), 900):
                chunk = ids[i : i + 900]
                rows += self.conn.execute(sel + f" AND track_id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=list(cols))
