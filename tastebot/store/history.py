"""Store area: history — the plays of the listener's own Spotify data export (`tastebot history import`).

Only what a taste learner needs is kept: when a play ended, which track (or, for the basic export
without ids, the normalised title and artist), how long it played, why it started and ended, shuffle
and skipped. IP addresses, user agents, country, username and platform are never written here
(tastebot.imports.history drops them while parsing; tests/test_history.py scans the file for them).

A play is keyed by (end time, item), so importing a file again inserts nothing. The likes, dislikes and
listening sessions derived from the plays live in the library's `signals` and the corpus area; they
are derived again from all stored plays after every import.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

from tastebot.vocab import now_iso

MIGRATIONS: list[str] = [
    """
    CREATE TABLE history_plays (
        ts TEXT NOT NULL,                 -- end of the play, UTC ISO with ms and Z (basic export: its local minute)
        item TEXT NOT NULL,               -- the track id (extended export) or 'title|artist' (basic export)
        format TEXT NOT NULL CHECK (format IN ('extended', 'basic')),
        track_id TEXT,                    -- NULL while a basic play is not resolved by search
        ms_played INTEGER NOT NULL,
        reason_start TEXT,
        reason_end TEXT,
        shuffle INTEGER,
        skipped INTEGER,
        PRIMARY KEY (ts, item)
    ) WITHOUT ROWID;
    CREATE INDEX history_plays_track ON history_plays(track_id);
    CREATE INDEX history_plays_item ON history_plays(item);

    -- What the export says about a track (catalogue facts, not personal ones), and, for basic-export
    -- items, what a search found (track_id NULL and searched_at set: searched, not found).
    CREATE TABLE history_items (
        item TEXT PRIMARY KEY,
        track_name TEXT,
        artist_name TEXT,
        album_name TEXT,
        title_artist_key TEXT,
        track_id TEXT,
        searched_at TEXT
    ) WITHOUT ROWID;
    CREATE INDEX history_items_key ON history_items(title_artist_key);

    -- Tracks of YourLibrary.json (the "Liked Songs" of the export).
    CREATE TABLE history_library (
        track_id TEXT PRIMARY KEY
    ) WITHOUT ROWID;

    -- Every file imported (by content), so a summary can say a file was seen before.
    CREATE TABLE history_files (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        format TEXT NOT NULL,
        entries INTEGER NOT NULL,
        first_imported_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
]

PLAY_COLUMNS = ("ts", "item", "format", "track_id", "ms_played", "reason_start", "reason_end", "shuffle", "skipped")


class HistoryMixin:
    """History queries. `self.conn`, `self.transaction()` and `self._writing()` come from the store."""

    # -- writing (inside the import's one transaction) ------------------------------------------
    def history_add_plays(self, rows: Sequence[tuple]) -> int:
        """Insert plays (tuples in PLAY_COLUMNS order); a play stored already is left as it is.
        Returns how many were new."""
        with self._writing() as conn:
            before = conn.total_changes
            conn.executemany(
                f"INSERT OR IGNORE INTO history_plays ({', '.join(PLAY_COLUMNS)})"
                f" VALUES ({', '.join('?' * len(PLAY_COLUMNS))})",
                rows,
            )
            return conn.total_changes - before

    def history_add_items(self, rows: Iterable[tuple[str, str | None, str | None, str | None, str | None, str | None]]) -> None:
        """(item, track name, artist name, album name, title_artist_key, track id): names fill in what
        is missing; a resolved track id is never replaced."""
        with self._writing() as conn:
            conn.executemany(
                "INSERT INTO history_items (item, track_name, artist_name, album_name, title_artist_key, track_id)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(item) DO UPDATE SET"
                " track_name = COALESCE(history_items.track_name, excluded.track_name),"
                " artist_name = COALESCE(history_items.artist_name, excluded.artist_name),"
                " album_name = COALESCE(history_items.album_name, excluded.album_name),"
                " title_artist_key = COALESCE(history_items.title_artist_key, excluded.title_artist_key),"
                " track_id = COALESCE(history_items.track_id, excluded.track_id)",
                list(rows),
            )

    def history_add_library(self, track_ids: Iterable[str]) -> int:
        with self._writing() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO history_library (track_id) VALUES (?)", [(t,) for t in track_ids])
            return conn.total_changes - before

    def history_add_file(self, sha256: str, name: str, fmt: str, entries: int) -> bool:
        """Record an imported file; False when the same content was imported before."""
        with self._writing() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO history_files (sha256, name, format, entries, first_imported_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (sha256, name, fmt, entries, now_iso()),
            )
            return cur.rowcount > 0

    # -- basic-export items: search resolution ----------------------------------------------------
    def history_unsearched_items(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Basic-export items never searched for, most played first."""
        sql = (
            "SELECT i.item, i.track_name, i.artist_name, COUNT(p.item) AS plays FROM history_items i"
            " JOIN history_plays p ON p.item = i.item AND p.format = 'basic'"
            " WHERE i.track_id IS NULL AND i.searched_at IS NULL GROUP BY i.item ORDER BY plays DESC, i.item"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [dict(r) for r in self.conn.execute(sql)]

    def history_resolve_items(self, found: dict[str, str | None]) -> None:
        """Record search results {item: track id or None (not found)} and give the item's plays the id."""
        now = now_iso()
        with self._writing() as conn:
            conn.executemany("UPDATE history_items SET track_id = ?, searched_at = ? WHERE item = ?",
                             [(tid, now, item) for item, tid in found.items()])
            conn.executemany("UPDATE history_plays SET track_id = ? WHERE item = ? AND track_id IS NULL",
                             [(tid, item) for item, tid in found.items() if tid])

    def history_unresolved_counts(self) -> dict[str, int]:
        """Basic-export items (and their plays) without a track id: searched and not found, or not yet searched."""
        row = self.conn.execute(
            "SELECT COUNT(DISTINCT p.item), COUNT(*),"
            " COUNT(DISTINCT CASE WHEN i.searched_at IS NULL THEN p.item END)"
            " FROM history_plays p LEFT JOIN history_items i ON i.item = p.item WHERE p.track_id IS NULL"
        ).fetchone()
        return {"items": int(row[0]), "plays": int(row[1]), "not_searched": int(row[2])}

    # -- reading -----------------------------------------------------------------------------------
    def history_play_rows(self) -> Iterator[tuple]:
        """Resolved plays in time order: (ts, track_id, format, ms_played, reason_start, reason_end, shuffle,
        skipped, duration_ms of the track when the store knows it). Basic plays inside the span of the
        extended history are left out: the extended export holds the same plays with more detail."""
        span = self.conn.execute(
            "SELECT MIN(ts), MAX(ts) FROM history_plays WHERE format = 'extended'").fetchone()
        cur = self.conn.cursor()
        cur.row_factory = None
        sql = (
            "SELECT p.ts, p.track_id, p.format, p.ms_played, p.reason_start, p.reason_end, p.shuffle, p.skipped,"
            " t.duration_ms FROM history_plays p LEFT JOIN tracks t ON t.id = p.track_id"
            " WHERE p.track_id IS NOT NULL"
        )
        params: tuple = ()
        if span[0] is not None:
            sql += " AND (p.format = 'extended' OR p.ts < ? OR p.ts > ?)"
            params = (span[0], span[1])
        yield from cur.execute(sql + " ORDER BY p.ts, p.item", params)

    def history_library_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT track_id FROM history_library ORDER BY track_id")]

    def history_track_names(self, track_ids: Sequence[str]) -> dict[str, dict[str, str | None]]:
        """What the export says of these tracks: {track_id: {name, artist_name, album_name}}."""
        out: dict[str, dict[str, str | None]] = {}
        for r in self._rows_in(
            "SELECT track_id, track_name, artist_name, album_name FROM history_items WHERE track_id IN ({q})",
            list(track_ids),
        ):
            have = out.setdefault(r[0], {"name": None, "artist_name": None, "album_name": None})
            for key, value in zip(("name", "artist_name", "album_name"), r[1:]):
                have[key] = have[key] or value
        return out

    def history_tracks_without_metadata(self, track_ids: Iterable[str]) -> list[str]:
        """Of these ids, those the store has no Spotify metadata for (no row, or a row without an album)."""
        wanted = list(dict.fromkeys(track_ids))
        have = {r[0] for r in self._rows_in("SELECT id FROM tracks WHERE album_id IS NOT NULL AND id IN ({q})", wanted)}
        return [t for t in wanted if t not in have]

    def history_add_bare_tracks(self, rows: Iterable[tuple[str, str | None, str | None]]) -> int:
        """Tracks known only from the export, (id, name, title_artist_key): a row the signals can hang on
        until a lookup (or a harvest) fills in the rest. An existing row is left as it is."""
        now = now_iso(sortable=True)
        with self._writing() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO tracks (id, name, song_key, title_artist_key, updated_at) VALUES (?, ?, ?, ?, ?)",
                [(tid, name, f"id:{tid}", key, now) for tid, name, key in rows],
            )
            return conn.total_changes - before

    def history_counts(self) -> dict[str, int]:
        one = lambda sql: int(self.conn.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "plays": one("SELECT COUNT(*) FROM history_plays"),
            "tracks": one("SELECT COUNT(DISTINCT track_id) FROM history_plays WHERE track_id IS NOT NULL"),
            "library_tracks": one("SELECT COUNT(*) FROM history_library"),
            "files": one("SELECT COUNT(*) FROM history_files"),
        }

    def history_signal_counts(self) -> dict[str, dict[str, int]]:
        """{source: {like, dislike}} for the history sources, and the whole store's total."""
        rows = self.conn.execute(
            "SELECT source, kind, COUNT(*) FROM signals WHERE source LIKE 'history_%' GROUP BY source, kind").fetchall()
        out: dict[str, dict[str, int]] = {}
        for source, kind, n in rows:
            out.setdefault(source, {})[kind] = int(n)
        return out

    def corpus_playlist_external_ids(self, source: str) -> set[str]:
        """External ids of the corpus playlists of one source (finished imports only)."""
        return {r[0] for r in self.conn.execute(
            "SELECT external_id FROM corpus_playlists WHERE source = ?"
            " AND import_id IN (SELECT id FROM corpus_imports WHERE status = 'done')", (source,))}

    def dump_history(self) -> dict[str, list[tuple]]:
        """The history tables without wall-clock columns (the idempotency tests compare two dumps)."""
        queries = {
            "plays": f"SELECT {', '.join(PLAY_COLUMNS)} FROM history_plays ORDER BY ts, item",
            "items": "SELECT item, track_name, artist_name, album_name, title_artist_key, track_id FROM history_items"
                     " ORDER BY item",
            "library": "SELECT track_id FROM history_library ORDER BY track_id",
            "files": "SELECT sha256, name, format, entries FROM history_files ORDER BY sha256",
            "corpus": "SELECT source, external_id, n_tracks, track_idxs FROM corpus_playlists ORDER BY idx",
            "corpus_runs": "SELECT COUNT(*) FROM corpus_imports",
        }
        return {name: [tuple(r) for r in self.conn.execute(sql)] for name, sql in queries.items()}
