"""Store area library, job: tracks, albums and artists (idempotent upserts; malformed tracks skipped and counted)."""

from __future__ import annotations

from typing import Iterable, Mapping

from tastebot.names import title_artist_key
from tastebot.store.library_rows import (
    MAX_DURATION_MS, MIN_DURATION_MS, int_or_none, release_year, song_identity_key, well_formed_track,
)
from tastebot.vocab import now_iso


class TracksMixin:
    """Tracks, albums and artists as Spotify gave them.
    `self.conn`, `self.transaction()` and `self._writing()` come from StoreCore."""

    # Tracks from Spotify skipped (malformed) or kept without a duration (implausible) by this Store.
    malformed_skipped = 0
    implausible_skipped = 0

    def upsert_tracks(self, tracks: Iterable[Mapping | None], album: Mapping | None = None) -> list[str]:
        """Store Spotify track objects (full or simplified), with their album and artists.

        `album` gives the album for simplified tracks that lack one (album_tracks pages). Local
        files, null items and objects without an id are skipped. Fields a development-mode answer
        lacks (popularity, ISRC) never erase what an earlier answer gave. Returns the stored ids.
        """
        stored: list[str] = []
        now = now_iso(sortable=True)
        with self._writing() as conn:
            for track in tracks:
                if not isinstance(track, Mapping):
                    continue
                track_id = track.get("id")
                if not track_id or track.get("is_local") or (track.get("type") not in (None, "track")):
                    continue
                if not well_formed_track(track):
                    self.malformed_skipped += 1
                    continue
                alb = track.get("album") if isinstance(track.get("album"), Mapping) else album
                album_id = None
                if isinstance(alb, Mapping) and alb.get("id"):
                    album_id = alb["id"]
                    self._upsert_album(conn, alb, now)
                artists = [a for a in (track.get("artists") or []) if isinstance(a, Mapping) and a.get("id")]
                for artist in artists:
                    self._upsert_artist(conn, artist, now)
                artist_ids = ",".join(a["id"] for a in artists) or None
                primary = artists[0]["id"] if artists else None
                primary_name = artists[0].get("name") if artists else None
                ext = track.get("external_ids") if isinstance(track.get("external_ids"), Mapping) else {}
                isrc = (ext.get("isrc") or "").strip().upper() or None
                explicit = track.get("explicit")
                duration_ms = int_or_none(track.get("duration_ms"))
                if duration_ms is not None and not MIN_DURATION_MS <= duration_ms <= MAX_DURATION_MS:
                    # 0, negative or days long: a broken answer, not a song. Kept without a duration.
                    self.implausible_skipped += 1
                    duration_ms = None
                conn.execute(
                    """
                    INSERT INTO tracks (id, name, primary_artist_id, artist_ids, album_id, isrc, song_key,
                        title_artist_key, duration_ms, explicit, popularity, track_number, disc_number, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET
                        name = COALESCE(excluded.name, tracks.name),
                        primary_artist_id = COALESCE(excluded.primary_artist_id, tracks.primary_artist_id),
                        artist_ids = COALESCE(excluded.artist_ids, tracks.artist_ids),
                        album_id = COALESCE(excluded.album_id, tracks.album_id),
                        isrc = COALESCE(excluded.isrc, tracks.isrc),
                        song_key = CASE WHEN excluded.isrc IS NOT NULL THEN excluded.song_key ELSE tracks.song_key END,
                        title_artist_key = COALESCE(excluded.title_artist_key, tracks.title_artist_key),
                        duration_ms = COALESCE(excluded.duration_ms, tracks.duration_ms),
                        explicit = COALESCE(excluded.explicit, tracks.explicit),
                        popularity = COALESCE(excluded.popularity, tracks.popularity),
                        track_number = COALESCE(excluded.track_number, tracks.track_number),
                        disc_number = COALESCE(excluded.disc_number, tracks.disc_number),
                        updated_at = tracks.updated_at
                    """,
                    (
                        track_id, track.get("name"), primary, artist_ids, album_id, isrc, song_identity_key(track_id, isrc),
                        title_artist_key(track.get("name"), primary_name),
                        duration_ms,
                        None if explicit is None else int(bool(explicit)),
                        int_or_none(track.get("popularity")),
                        int_or_none(track.get("track_number")),
                        int_or_none(track.get("disc_number")),
                        now,
                    ),
                )
                stored.append(track_id)
        return stored

    @staticmethod
    def _upsert_album(conn, alb: Mapping, now: str) -> None:
        artist_ids = ",".join(a["id"] for a in (alb.get("artists") or []) if isinstance(a, Mapping) and a.get("id"))
        conn.execute(
            """
            INSERT INTO albums (id, name, album_type, release_date, release_date_precision, release_year,
                artist_ids, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET
                name = COALESCE(excluded.name, albums.name),
                album_type = COALESCE(excluded.album_type, albums.album_type),
                release_date = COALESCE(excluded.release_date, albums.release_date),
                release_date_precision = COALESCE(excluded.release_date_precision, albums.release_date_precision),
                release_year = COALESCE(excluded.release_year, albums.release_year),
                artist_ids = COALESCE(excluded.artist_ids, albums.artist_ids)
            """,
            (
                alb["id"], alb.get("name"), (alb.get("album_type") or None) and str(alb["album_type"]).lower(),
                alb.get("release_date"), alb.get("release_date_precision"), release_year(alb.get("release_date")),
                artist_ids or None, now,
            ),
        )

    @staticmethod
    def _upsert_artist(conn, artist: Mapping, now: str) -> None:
        genres = artist.get("genres")
        genres_text = "|".join(str(g) for g in genres if g) if isinstance(genres, list) else None
        # A development-mode answer has `genres: []` meaning "not told": an empty list never
        # erases genres an extended answer gave.
        conn.execute(
            """
            INSERT INTO artists (id, name, genres, popularity, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET
                name = COALESCE(excluded.name, artists.name),
                genres = CASE WHEN excluded.genres IS NULL OR (excluded.genres = '' AND artists.genres <> '')
                              THEN artists.genres ELSE excluded.genres END,
                popularity = COALESCE(excluded.popularity, artists.popularity)
            """,
            (artist["id"], artist.get("name"), genres_text, int_or_none(artist.get("popularity")), now),
        )

    def upsert_artists(self, artists: Iterable[Mapping | None]) -> int:
        """Store full artist objects (with genres where the app is told them)."""
        now = now_iso(sortable=True)
        n = 0
        with self._writing() as conn:
            for artist in artists:
                if isinstance(artist, Mapping) and artist.get("id"):
                    self._upsert_artist(conn, artist, now)
                    n += 1
        return n

    def artists_without_genres(self, artist_ids: Iterable[str] | None = None) -> list[str]:
        """Artists of the library never read with genres (NULL), optionally limited to ids."""
        rows = self.conn.execute("SELECT id FROM artists WHERE genres IS NULL ORDER BY id").fetchall()
        ids = [r[0] for r in rows]
        if artist_ids is not None:
            wanted = set(artist_ids)
            ids = [i for i in ids if i in wanted]
        return ids

    def mark_artists_without_genres(self, artist_ids: Iterable[str]) -> None:
        """Record that these artists were asked about and have no genres (so they are not asked again)."""
        with self._writing() as conn:
            conn.executemany("UPDATE artists SET genres = '' WHERE id = ? AND genres IS NULL", [(a,) for a in artist_ids])

    def has_track(self, track_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM tracks WHERE id = ?", (track_id,)).fetchone() is not None

    def stored_track_ids(self, track_ids: Iterable[str]) -> set[str]:
        """Those of `track_ids` the library holds."""
        return {r[0] for r in self._rows_in("SELECT id FROM tracks WHERE id IN ({q})", list(dict.fromkeys(track_ids)))}

    def track_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0])
