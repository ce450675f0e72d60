"""Store area: exclusions — artists, tracks and playlists the listener keeps out of tastebot.

An excluded artist or track is never recommended (tastebot.known applies it); an excluded playlist
teaches nothing (the harvest skips it, and excluding it drops the signals it gave).
"""

from __future__ import annotations

from typing import Any, Iterable

from tastebot.vocab import now_iso

KINDS = ("artist", "track", "playlist")

MIGRATIONS: list[str] = [
    """
    CREATE TABLE exclusions (
        kind TEXT NOT NULL CHECK (kind IN ('artist', 'track', 'playlist')),
        spotify_id TEXT NOT NULL,
        name TEXT,                          -- as the store knew it when excluded (for `exclude list`)
        added_at TEXT NOT NULL,
        PRIMARY KEY (kind, spotify_id)
    ) WITHOUT ROWID;
    """,
]


class ExclusionsMixin:
    def add_exclusions(self, kind: str, items: Iterable[tuple[str, str | None]]) -> int:
        """Exclude (id, name) pairs of one kind; returns how many were new. Excluding a playlist also
        drops every signal it gave, in the same transaction: it teaches nothing from now on."""
        n = 0
        with self.transaction() as conn:
            for spotify_id, name in items:
                cur = conn.execute(
                    "INSERT INTO exclusions (kind, spotify_id, name, added_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(kind, spotify_id) DO NOTHING", (kind, spotify_id, name, now_iso()),
                )
                n += cur.rowcount
                if kind == "playlist":
                    conn.execute("DELETE FROM signals WHERE context = ?", (spotify_id,))
        return n

    def remove_exclusions(self, kind: str, ids: Iterable[str]) -> int:
        """Lift exclusions; returns how many there were. (A playlist teaches again from the next harvest.)"""
        with self.transaction() as conn:
            return sum(conn.execute("DELETE FROM exclusions WHERE kind = ? AND spotify_id = ?", (kind, i)).rowcount
                       for i in ids)

    def exclusions(self) -> list[dict[str, Any]]:
        """Every exclusion, by kind then when it was added."""
        return [dict(r) for r in self.conn.execute(
            "SELECT kind, spotify_id, name, added_at FROM exclusions ORDER BY kind, added_at, spotify_id")]

    def excluded_ids(self, kind: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT spotify_id FROM exclusions WHERE kind = ?", (kind,))}

    def name_of(self, kind: str, spotify_id: str) -> str | None:
        """What the store calls this artist, track or playlist (None when it has never seen it)."""
        table = {"artist": "artists", "track": "tracks", "playlist": "playlists"}[kind]
        row = self.conn.execute(f"SELECT name FROM {table} WHERE id = ?", (spotify_id,)).fetchone()
        return row[0] if row else None
