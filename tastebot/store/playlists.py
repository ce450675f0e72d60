"""Store area library, job: the listener's playlists, stored page by page per snapshot."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from tastebot.vocab import iso_time, now_iso


class PlaylistsMixin:
    """The listener's playlists by snapshot, and their items.
    `self.conn`, `self.transaction()` and `self._writing()` come from StoreCore."""

    def upsert_playlist(self, playlist: Mapping[str, Any], role: str) -> None:
        """Playlist metadata (not its snapshot: that is recorded only once its items are stored)."""
        owner = playlist.get("owner") if isinstance(playlist.get("owner"), Mapping) else {}
        with self._writing() as conn:
            conn.execute(
                """
                INSERT INTO playlists (id, name, owner_id, role, public, collaborative, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = COALESCE(excluded.name, playlists.name),
                    owner_id = COALESCE(excluded.owner_id, playlists.owner_id), role = excluded.role,
                    public = COALESCE(excluded.public, playlists.public),
                    collaborative = COALESCE(excluded.collaborative, playlists.collaborative)
                """,
                (playlist["id"], playlist.get("name"), owner.get("id"), role,
                 None if playlist.get("public") is None else int(bool(playlist.get("public"))),
                 None if playlist.get("collaborative") is None else int(bool(playlist.get("collaborative"))),
                 now_iso(sortable=True)),
            )

    def playlist_row(self, playlist_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM playlists WHERE id = ?", (playlist_id,)).fetchone()
        return dict(row) if row else None

    def playlists(self, role: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM playlists" + (" WHERE role = ?" if role else "") + " ORDER BY id"
        return [dict(r) for r in self.conn.execute(sql, (role,) if role else ())]

    def set_playlist_status(self, playlist_id: str, status: str) -> None:
        with self._writing() as conn:
            conn.execute("UPDATE playlists SET status = ? WHERE id = ?", (status, playlist_id))

    def store_playlist_page(self, playlist_id: str, snapshot_id: str | None, offset: int,
                            items: Sequence[tuple[str | None, bool, Any]], next_offset: int) -> None:
        """One page of a playlist read: items (track_id or None, is_local, added_at) at positions
        offset.., and the place to resume from. Call inside the page's transaction."""
        with self._writing() as conn:
            conn.execute(
                "DELETE FROM playlist_items WHERE playlist_id = ? AND position >= ? AND position < ?",
                (playlist_id, offset, offset + len(items)),
            )
            conn.executemany(
                "INSERT INTO playlist_items (playlist_id, position, track_id, is_local, added_at) VALUES (?, ?, ?, ?, ?)",
                [(playlist_id, offset + i, tid, int(bool(local)), iso_time(added)) for i, (tid, local, added) in enumerate(items)],
            )
            conn.execute(
                "UPDATE playlists SET reading_snapshot = ?, reading_offset = ? WHERE id = ?",
                (snapshot_id, next_offset, playlist_id),
            )

    def finish_playlist(self, playlist_id: str, snapshot_id: str | None, total: int) -> None:
        """The read of `snapshot_id` is complete: drop items past the end and remember the snapshot."""
        with self._writing() as conn:
            conn.execute("DELETE FROM playlist_items WHERE playlist_id = ? AND position >= ?", (playlist_id, total))
            conn.execute(
                "UPDATE playlists SET snapshot_id = ?, total = ?, reading_snapshot = NULL, reading_offset = NULL,"
                " status = 'read', updated_at = ? WHERE id = ?",
                (snapshot_id, total, now_iso(sortable=True), playlist_id),
            )

    def playlist_track_ids(self, playlist_id: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT track_id FROM playlist_items WHERE playlist_id = ? AND track_id IS NOT NULL ORDER BY position",
            (playlist_id,),
        ).fetchall()
        return [r[0] for r in rows]

    def playlist_items(self, playlist_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT position, track_id, is_local, added_at FROM playlist_items WHERE playlist_id = ? ORDER BY position",
            (playlist_id,),
        ).fetchall()
        return [dict(r) for r in rows]
