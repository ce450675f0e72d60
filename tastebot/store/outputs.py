"""Store area: outputs — playlists tastebot created, and what it added to them.

A playlist is recorded with every planned track, in order, BEFORE anything is sent to Spotify
(status `pending`); it becomes `created` once Spotify gave it an id, and `complete` once every planned
track is confirmed added. Each add-request is recorded as it succeeds. So a run cut off at any point
is finished by the next one: no second playlist, no track added twice. The harvest reads
`created_playlists()` for feedback (tracks the user removed or saved).

A playlist refreshed in place (`recommend --update-playlist`) keeps its row and its Spotify id; its
items get a new `generation` (0 as created, then 1, 2, ...), planned in full before anything is sent,
exactly like a creation (status `refreshing` until every track is confirmed). The tracks of the
replaced generation that the listener had removed are flagged then (`removed_by_listener`), so the
harvest keeps learning them as dislikes after they left the playlist.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from tastebot.vocab import now_iso

MIGRATIONS: list[str] = [
    """
    CREATE TABLE output_playlists (
        id INTEGER PRIMARY KEY,
        marker TEXT NOT NULL UNIQUE,        -- written into the description: finds the playlist after a kill
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        public INTEGER NOT NULL,
        status TEXT NOT NULL,               -- pending | created | complete | refreshing | set aside
        spotify_id TEXT UNIQUE,
        url TEXT,
        planned_at TEXT NOT NULL,
        created_at TEXT,
        completed_at TEXT,
        requests INTEGER NOT NULL DEFAULT 0,
        details TEXT                        -- JSON: how the list was made (blend weight, model run, ...)
    );
    CREATE TABLE output_playlist_tracks (
        playlist INTEGER NOT NULL REFERENCES output_playlists(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        track_id TEXT NOT NULL,
        added_at TEXT,                      -- NULL until an add-request including it succeeded
        request_no INTEGER,
        PRIMARY KEY (playlist, position)
    );
    CREATE INDEX output_playlist_tracks_track ON output_playlist_tracks(track_id);
    """,
    # v2: refresh in place. Each playlist's items come in generations; each track row says when it was
    # picked (the no-repeats window counts from there) and whether the listener had removed it.
    """
    ALTER TABLE output_playlists ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE output_playlist_tracks_v2 (
        playlist INTEGER NOT NULL REFERENCES output_playlists(id) ON DELETE CASCADE,
        generation INTEGER NOT NULL DEFAULT 0,  -- 0 as created, + 1 at each refresh in place
        position INTEGER NOT NULL,
        track_id TEXT NOT NULL,
        added_at TEXT,                          -- NULL until an add-request including it succeeded
        request_no INTEGER,
        picked_at TEXT NOT NULL,                -- when the run that picked it planned it
        removed_by_listener INTEGER NOT NULL DEFAULT 0,  -- gone from the playlist when a refresh replaced it
        PRIMARY KEY (playlist, generation, position)
    );
    INSERT INTO output_playlist_tracks_v2 (playlist, generation, position, track_id, added_at, request_no, picked_at)
        SELECT t.playlist, 0, t.position, t.track_id, t.added_at, t.request_no, p.planned_at
        FROM output_playlist_tracks t JOIN output_playlists p ON p.id = t.playlist;
    DROP TABLE output_playlist_tracks;
    ALTER TABLE output_playlist_tracks_v2 RENAME TO output_playlist_tracks;
    CREATE INDEX output_playlist_tracks_track ON output_playlist_tracks(track_id);
    CREATE INDEX output_playlist_tracks_picked ON output_playlist_tracks(picked_at);
    """,
]

# The status of a playlist tastebot no longer writes: its id went to another playlist, or Spotify lost it.
SET_ASIDE = "set aside"

# The rows of a playlist's current generation.
_CURRENT = "generation = (SELECT generation FROM output_playlists WHERE id = ?)"


class OutputsMixin:
    def plan_playlist(
        self, marker: str, name: str, description: str, public: bool, track_ids: Sequence[str], details: str | None = None
    ) -> int:
        """Record a playlist to be created and its tracks in order; returns its row id."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO output_playlists (marker, name, description, public, status, planned_at, details)"
                " VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (marker, name, description, int(bool(public)), now_iso(), details),
            )
            row = int(cur.lastrowid)
            conn.executemany(
                "INSERT INTO output_playlist_tracks (playlist, generation, position, track_id, picked_at)"
                " VALUES (?, 0, ?, ?, ?)",
                [(row, i, t, now_iso()) for i, t in enumerate(track_ids)],
            )
        return row

    def plan_refresh(self, row: int, description: str, track_ids: Sequence[str], details: str | None,
                     removed_by_listener: Iterable[str]) -> int:
        """Record a refresh in place of playlist `row` before anything is sent: its next generation of
        tracks in order, the new description, and which tracks of the generation it replaces the
        listener had removed. Returns the new generation."""
        removed = list(removed_by_listener)
        with self.transaction() as conn:
            old = conn.execute("SELECT generation FROM output_playlists WHERE id = ?", (row,)).fetchone()[0]
            conn.executemany(
                "UPDATE output_playlist_tracks SET removed_by_listener = 1 WHERE playlist = ? AND generation = ?"
                " AND track_id = ?", [(row, old, t) for t in removed],
            )
            new = old + 1
            conn.execute(
                "UPDATE output_playlists SET generation = ?, status = 'refreshing', description = ?, details = ?,"
                " completed_at = NULL WHERE id = ?", (new, description, details, row),
            )
            now = now_iso()
            conn.executemany(
                "INSERT INTO output_playlist_tracks (playlist, generation, position, track_id, picked_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(row, new, i, t, now) for i, t in enumerate(track_ids)],
            )
        return new

    def unfinished_playlists(self) -> list[dict[str, Any]]:
        """Playlists planned or created but not complete, oldest first."""
        rows = self.conn.execute(
            f"SELECT * FROM output_playlists WHERE status NOT IN ('complete', '{SET_ASIDE}') ORDER BY id"
        ).fetchall()
        return [dict(r) for r in rows]

    def output_playlists(self) -> list[dict[str, Any]]:
        """Every playlist tastebot planned, oldest first."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM output_playlists ORDER BY id").fetchall()]

    def output_playlist(self, row: int) -> dict[str, Any] | None:
        r = self.conn.execute("SELECT * FROM output_playlists WHERE id = ?", (row,)).fetchone()
        return dict(r) if r else None

    def planned_tracks(self, row: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT position, track_id, added_at, request_no FROM output_playlist_tracks WHERE playlist = ? AND "
            + _CURRENT + " ORDER BY position",
            (row, row),
        ).fetchall()
        return [dict(r) for r in rows]

    def mark_playlist_created(self, row: int, spotify_id: str, url: str | None) -> list[dict[str, Any]]:
        """Record the id Spotify gave playlist `row`. Another row holding that id is stale (a restarted
        service, the sandbox, hands out ids again; Spotify says now the id is this playlist's): it is set
        aside, keeping its tracks for the no-repeats window, and returned so the caller can say so."""
        with self.transaction() as conn:
            clashing = [dict(r) for r in conn.execute(
                "SELECT id, name, spotify_id FROM output_playlists WHERE spotify_id = ? AND id != ?", (spotify_id, row))]
            conn.executemany(f"UPDATE output_playlists SET status = '{SET_ASIDE}', spotify_id = NULL, url = NULL"
                             " WHERE id = ?", [(r["id"],) for r in clashing])
            conn.execute(
                "UPDATE output_playlists SET status = 'created', spotify_id = ?, url = ?, created_at = ? WHERE id = ?",
                (spotify_id, url, now_iso(), row),
            )
        return clashing

    def set_playlist_aside(self, row: int) -> None:
        """Stop writing playlist `row` (Spotify no longer has it); its tracks still count as picked."""
        with self.transaction() as conn:
            conn.execute(f"UPDATE output_playlists SET status = '{SET_ASIDE}', spotify_id = NULL, url = NULL"
                         " WHERE id = ?", (row,))

    def mark_tracks_added(self, row: int, positions: Iterable[int], *, request: bool = True) -> None:
        """Record that the tracks at these positions are in the playlist (one add-request, or found there)."""
        positions = list(positions)
        with self.transaction() as conn:
            n = conn.execute("SELECT requests FROM output_playlists WHERE id = ?", (row,)).fetchone()[0]
            if request:
                n += 1
                conn.execute("UPDATE output_playlists SET requests = ? WHERE id = ?", (n, row))
            now = now_iso()
            conn.executemany(
                "UPDATE output_playlist_tracks SET added_at = ?, request_no = ? WHERE playlist = ? AND position = ?"
                " AND added_at IS NULL AND " + _CURRENT,
                [(now, n if request else None, row, p, row) for p in positions],
            )

    def mark_playlist_complete(self, row: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE output_playlists SET status = 'complete', completed_at = ? WHERE id = ?", (now_iso(), row))

    def abandon_playlist(self, row: int) -> None:
        """Forget a planned playlist that never reached Spotify (no id)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM output_playlists WHERE id = ? AND spotify_id IS NULL", (row,))

    def created_playlists(self) -> list[dict[str, Any]]:
        """Every playlist tastebot created on Spotify: {"id" (= "playlist_id" = "spotify_id"), "name", "url", "status",
        "created_at", "track_ids" (the tracks tastebot added to its current items, in order)}. For harvest feedback."""
        out = []
        for r in self.conn.execute(
            "SELECT id, spotify_id, name, url, status, created_at FROM output_playlists"
            " WHERE spotify_id IS NOT NULL ORDER BY id"
        ).fetchall():
            ids = [
                t[0]
                for t in self.conn.execute(
                    "SELECT track_id FROM output_playlist_tracks WHERE playlist = ? AND added_at IS NOT NULL AND "
                    + _CURRENT + " ORDER BY position",
                    (r["id"], r["id"]),
                )
            ]
            out.append(
                {"id": r["spotify_id"], "playlist_id": r["spotify_id"], "spotify_id": r["spotify_id"], "name": r["name"], "url": r["url"], "status": r["status"],
                 "created_at": r["created_at"], "track_ids": ids}
            )
        return out

    def output_track_ids(self, since: str | None = None) -> set[str]:
        """Every track tastebot planned for or added to any playlist, in any generation; with `since`
        (ISO time), only those picked at or after it (the no-repeats window)."""
        if since is None:
            return {r[0] for r in self.conn.execute("SELECT DISTINCT track_id FROM output_playlist_tracks")}
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT track_id FROM output_playlist_tracks WHERE picked_at >= ?", (since,))}

    def added_track_ids(self) -> set[str]:
        """Every track tastebot added to a playlist, in any generation (what a listener may save from them)."""
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT track_id FROM output_playlist_tracks WHERE added_at IS NOT NULL")}

    def removed_before_refresh(self, spotify_id: str) -> set[str]:
        """Tracks of this playlist's replaced generations that the listener had removed (dislikes)."""
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT t.track_id FROM output_playlist_tracks t JOIN output_playlists p ON p.id = t.playlist"
            " WHERE p.spotify_id = ? AND t.removed_by_listener = 1 AND t.generation < p.generation", (spotify_id,))}
