"""Store area: discovery — answers of the open discovery services and their Spotify matches, cached.

`discovery_answers` keeps each provider request's decoded answer (JSON text) by service and request,
so a second `recommend` within the freshness window asks the provider nothing. `discovery_matches`
keeps what a provider's track became on Spotify (the track object a search found, or none), by the
key it was looked up with (`isrc:...` or `song:title|artist`), so the same suggestion costs no second
search. Nothing in either table is about the listener: provider answers concern artists and tracks.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from tastebot.vocab import iso_time, now_iso

MIGRATIONS: list[str] = [
    """
    CREATE TABLE discovery_answers (
        service TEXT NOT NULL,              -- deezer | lastfm
        request TEXT NOT NULL,              -- path and sorted query, without any key
        answer TEXT NOT NULL,               -- the decoded answer as JSON text
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (service, request)
    );
    CREATE TABLE discovery_matches (
        key TEXT PRIMARY KEY,               -- isrc:<ISRC> | song:<normalised title|artist>
        track TEXT,                         -- the Spotify track object as JSON text; NULL: no match
        matched_at TEXT NOT NULL
    );
    """,
]


def _fresh_since(days: float) -> str:
    return iso_time(datetime.now(timezone.utc) - timedelta(days=days))


class DiscoveryMixin:
    def cached_answer(self, service: str, request: str, *, max_age_days: float) -> Any | None:
        """The cached answer, or None when there is none younger than max_age_days."""
        row = self.conn.execute(
            "SELECT answer FROM discovery_answers WHERE service = ? AND request = ? AND fetched_at >= ?",
            (service, request, _fresh_since(max_age_days)),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def cache_answer(self, service: str, request: str, answer: Any) -> None:
        if self.readonly:
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO discovery_answers (service, request, answer, fetched_at) VALUES (?, ?, ?, ?)",
            (service, request, json.dumps(answer, separators=(",", ":")), now_iso(sortable=True)),
        )

    def cached_match(self, key: str, *, max_age_days: float) -> tuple[bool, dict | None]:
        """(found in the cache, the Spotify track or None for 'no match')."""
        row = self.conn.execute(
            "SELECT track FROM discovery_matches WHERE key = ? AND matched_at >= ?", (key, _fresh_since(max_age_days))
        ).fetchone()
        if row is None:
            return False, None
        return True, (json.loads(row[0]) if row[0] else None)

    def cache_match(self, key: str, track: dict | None) -> None:
        if self.readonly:
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO discovery_matches (key, track, matched_at) VALUES (?, ?, ?)",
            (key, json.dumps(track, separators=(",", ":")) if track else None, now_iso(sortable=True)),
        )

    def artist_names(self, artist_ids: list[str]) -> dict[str, str]:
        """{artist id: name} for the stored artists among artist_ids (discovery's seeds)."""
        out: dict[str, str] = {}
        ids = [a for a in artist_ids if a]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = self.conn.execute(
                f"SELECT id, name FROM artists WHERE name IS NOT NULL AND id IN ({','.join('?' * len(chunk))})", chunk)
            out.update({r[0]: r[1] for r in rows})
        return out
