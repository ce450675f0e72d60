"""Store area: library — the listener's tracks, artists, albums, audio features (with provenance),
signals (likes and dislikes), playlists with their snapshot ids, sync cursors and harvest runs.

Writes are idempotent upserts, so a page read twice (after a killed harvest) changes nothing.
Every write method joins the caller's transaction when one is open (`with store.transaction():`),
so the harvest commits each page together with its bookkeeping; called alone, a method commits
by itself.

The latest-signal rule (docs/harvest.md): per song, explicit signals beat weak (sampled) ones;
among those, the most recent signal decides like or dislike (a tie goes to dislike).
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping, Sequence

from tastebot.names import title_artist_key
from tastebot.vocab import API_PROVIDERS, AUDIO_FEATURES, PROVIDERS, iso_time, now_iso

# Provider rank: a lower rank may replace a value of a higher one, never the other way round.
PROVIDER_RANK = {p: rank for rank, p in enumerate(PROVIDERS[:-1], start=1)}  # spotify 1, reccobeats 2, import 3

IDENTITY_COLUMNS = ("track_id", "name", "primary_artist_id", "artist_ids", "album_id", "isrc")
LABEL_COLUMNS = ("label", "strength", "weight", "sources", "last_signal_at")
# A plausible track lasts from 1 ms to 6 hours; other durations are stored as unknown (and counted).
MIN_DURATION_MS = 1
MAX_DURATION_MS = 6 * 3600 * 1000
METADATA_COLUMNS = ("duration_ms", "explicit", "popularity", "track_number", "release_year", "album_type")
TAIL_COLUMNS = ("feature_provider", "genres")
TRACK_FRAME_COLUMNS = IDENTITY_COLUMNS + METADATA_COLUMNS + AUDIO_FEATURES + TAIL_COLUMNS
LABELLED_FRAME_COLUMNS = IDENTITY_COLUMNS + LABEL_COLUMNS + METADATA_COLUMNS + AUDIO_FEATURES + TAIL_COLUMNS

MIGRATIONS: list[str] = [
    """
    CREATE TABLE artists (
        id TEXT PRIMARY KEY,
        name TEXT,
        genres TEXT,                      -- '|'-separated; NULL = never read with genres
        popularity INTEGER,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE albums (
        id TEXT PRIMARY KEY,
        name TEXT,
        album_type TEXT,
        release_date TEXT,
        release_date_precision TEXT,
        release_year INTEGER,
        artist_ids TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE tracks (
        id TEXT PRIMARY KEY,
        name TEXT,
        primary_artist_id TEXT,
        artist_ids TEXT,                  -- comma-separated, in credit order
        album_id TEXT,
        isrc TEXT,
        song_key TEXT NOT NULL,           -- 'isrc:<ISRC>' or 'id:<track id>': one song, many ids
        title_artist_key TEXT,            -- normalised title + primary artist (never-heard filter)
        duration_ms INTEGER,
        explicit INTEGER,
        popularity INTEGER,
        track_number INTEGER,
        disc_number INTEGER,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX tracks_isrc ON tracks(isrc);
    CREATE INDEX tracks_song ON tracks(song_key);
    CREATE INDEX tracks_title_artist ON tracks(title_artist_key);

    -- Long form: any subset of features per track, each value with the provider it came from.
    CREATE TABLE features (
        track_id TEXT NOT NULL,
        feature TEXT NOT NULL,
        value REAL NOT NULL,
        provider TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (track_id, feature)
    ) WITHOUT ROWID;
    -- Which provider was asked about which track, and whether it knew it: a no-change harvest
    -- never asks again about tracks a provider does not know.
    CREATE TABLE feature_attempts (
        track_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        found INTEGER NOT NULL,
        attempted_at TEXT NOT NULL,
        PRIMARY KEY (track_id, provider)
    ) WITHOUT ROWID;

    CREATE TABLE signals (
        track_id TEXT NOT NULL,
        source TEXT NOT NULL,             -- saved, top_short_term, own_playlist, dislike_playlist, ...
        context TEXT NOT NULL DEFAULT '', -- e.g. the playlist id
        kind TEXT NOT NULL CHECK (kind IN ('like', 'dislike')),
        strength TEXT NOT NULL CHECK (strength IN ('explicit', 'weak')),
        weight REAL NOT NULL,
        at TEXT NOT NULL,                 -- when the listener gave the signal (UTC ISO, ms, Z)
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (track_id, source, context)
    );
    CREATE INDEX signals_source ON signals(source, context);

    CREATE TABLE plays (
        played_at TEXT PRIMARY KEY,
        track_id TEXT NOT NULL
    );

    CREATE TABLE playlists (
        id TEXT PRIMARY KEY,
        name TEXT,
        owner_id TEXT,
        role TEXT,                        -- own, followed, like, dislike, created
        public INTEGER,
        collaborative INTEGER,
        snapshot_id TEXT,                 -- the snapshot whose items are fully stored
        total INTEGER,
        reading_snapshot TEXT,            -- a read in progress: snapshot and next offset
        reading_offset INTEGER,
        status TEXT,                      -- read, refused, not_found
        updated_at TEXT NOT NULL
    );
    CREATE TABLE playlist_items (
        playlist_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        track_id TEXT,                    -- NULL for local files and empty items
        is_local INTEGER NOT NULL DEFAULT 0,
        added_at TEXT,
        PRIMARY KEY (playlist_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX playlist_items_track ON playlist_items(track_id);

    CREATE TABLE sync_state (
        key TEXT PRIMARY KEY,
        value TEXT
    );
    CREATE TABLE harvest_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,             -- running, done, failed, interrupted
        options TEXT,
        summary TEXT,
        requests INTEGER
    );
    """,
]


def _release_year(date: str | None) -> int | None:
    if not date:
        return None
    m = re.match(r"^(\d{4})", str(date))
    if not m:
        return None
    year = int(m.group(1))
    return year if year > 0 else None


def _song_key(track_id: str, isrc: str | None) -> str:
    return f"isrc:{isrc.strip().upper()}" if isrc and isrc.strip() else f"id:{track_id}"


def _clean_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --------------------------------------------------------------------------------------------------
# The mixin
# --------------------------------------------------------------------------------------------------

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def well_formed_track(track: Mapping) -> bool:
    """Whether a track object has the types Spotify's spec gives its fields; a broken answer is
    skipped whole (and counted) rather than stored as garbage."""
    if not isinstance(track.get("id"), str) or not track["id"].strip():
        return False
    checks = (
        ("name", lambda v: isinstance(v, str)),
        ("artists", lambda v: isinstance(v, list) and all(
            isinstance(a, Mapping) and isinstance(a.get("id", ""), (str, type(None)))
            and isinstance(a.get("name", ""), (str, type(None))) for a in v)),
        ("album", lambda v: isinstance(v, Mapping)),
        ("external_ids", lambda v: isinstance(v, Mapping) and isinstance(v.get("isrc", ""), (str, type(None)))),
        ("duration_ms", _is_number),
        ("popularity", _is_number),
        ("track_number", _is_number),
        ("disc_number", _is_number),
        ("explicit", lambda v: isinstance(v, bool)),
    )
    return all(track.get(field) is None or ok(track[field]) for field, ok in checks)


class LibraryMixin:
    """Library queries. `self.conn` and `self.transaction()` come from StoreCore."""

    # Tracks from Spotify skipped (malformed) or kept without a duration (implausible) by this Store.
    malformed_skipped = 0
    implausible_skipped = 0

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """Join an open transaction, or open one: many rows, one commit."""
        if self.conn.in_transaction:
            yield self.conn
        else:
            with self.transaction() as conn:
                yield conn

    # -- sync state -------------------------------------------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return default if row is None or row[0] is None else row[0]

    def set_state(self, key: str, value: Any) -> None:
        with self._writing() as conn:
            if value is None:
                conn.execute("DELETE FROM sync_state WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO sync_state (key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, str(value)),
                )

    def delete_state_prefix(self, prefix: str) -> None:
        with self._writing() as conn:
            conn.execute("DELETE FROM sync_state WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))

    # -- tracks, albums, artists --------------------------------------------------------------
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
                duration_ms = _int_or_none(track.get("duration_ms"))
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
                        track_id, track.get("name"), primary, artist_ids, album_id, isrc, _song_key(track_id, isrc),
                        title_artist_key(track.get("name"), primary_name),
                        duration_ms,
                        None if explicit is None else int(bool(explicit)),
                        _int_or_none(track.get("popularity")),
                        _int_or_none(track.get("track_number")),
                        _int_or_none(track.get("disc_number")),
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
                alb.get("release_date"), alb.get("release_date_precision"), _release_year(alb.get("release_date")),
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
            (artist["id"], artist.get("name"), genres_text, _int_or_none(artist.get("popularity")), now),
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

    def track_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0])

    # -- features -----------------------------------------------------------------------------
    def upsert_features(self, rows: Mapping[str, Mapping[str, Any]], provider: str) -> int:
        """Store audio features {track_id: {feature: value}} from `provider` (spotify, reccobeats,
        import). Unknown feature names and non-numbers are ignored; a key of -1 means unknown. A value
        from a better-ranked provider is never replaced by a worse one. Returns tracks written."""
        if provider not in PROVIDER_RANK:
            raise ValueError(f"unknown feature provider {provider}")
        now = now_iso(sortable=True)
        rank = PROVIDER_RANK[provider]
        params: list[tuple] = []
        written = 0
        for track_id, values in rows.items():
            if not track_id or not isinstance(values, Mapping):
                continue
            before = len(params)
            for feature in AUDIO_FEATURES:
                x = _clean_number(values.get(feature))
                if x is None or (feature == "key" and x < 0):
                    continue
                params.append((track_id, feature, x, provider, now, rank))
            written += int(len(params) > before)
        with self._writing() as conn:
            conn.executemany(
                """
                INSERT INTO features (track_id, feature, value, provider, fetched_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(track_id, feature) DO UPDATE SET
                    value = excluded.value, provider = excluded.provider, fetched_at = excluded.fetched_at
                WHERE (CASE features.provider WHEN 'spotify' THEN 1 WHEN 'reccobeats' THEN 2 ELSE 3 END) >= ?6
                """,
                params,
            )
        return written

    def record_feature_attempts(self, track_ids: Iterable[str], provider: str, found: Iterable[str]) -> None:
        found_set = set(found)
        now = now_iso(sortable=True)
        with self._writing() as conn:
            conn.executemany(
                "INSERT INTO feature_attempts (track_id, provider, found, attempted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(track_id, provider) DO UPDATE SET found = excluded.found, attempted_at = excluded.attempted_at",
                [(t, provider, int(t in found_set), now) for t in track_ids],
            )

    def tracks_needing_features(self, provider: str, track_ids: Iterable[str] | None = None, *, retry: bool = False) -> list[str]:
        """Tracks without features from an API provider (vocab.API_PROVIDERS) that `provider` has not
        yet been asked about (`retry=True`: asked or not). Limited to `track_ids` when given, else
        every track in the library (in id order)."""
        sql = (
            "SELECT t.id FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM features f WHERE f.track_id = t.id"
            f" AND f.provider IN ({','.join('?' * len(API_PROVIDERS))}))"
        )
        params: tuple = API_PROVIDERS
        if not retry:
            sql += " AND NOT EXISTS (SELECT 1 FROM feature_attempts a WHERE a.track_id = t.id AND a.provider = ?)"
            params += (provider,)
        ids = [r[0] for r in self.conn.execute(sql + " ORDER BY t.id", params).fetchall()]
        if track_ids is not None:
            wanted = set(track_ids)
            ids = [i for i in ids if i in wanted]
        return ids

    def features_for(self, track_ids: Iterable[str]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        ids = list(dict.fromkeys(track_ids))
        for chunk in _chunks(ids, 500):
            q = ",".join("?" * len(chunk))
            for r in self.conn.execute(f"SELECT track_id, feature, value FROM features WHERE track_id IN ({q})", chunk):
                out.setdefault(r[0], {})[r[1]] = r[2]
        return out

    def feature_provider_counts(self, labelled_only: bool = True) -> dict[str, int]:
        """How many (labelled) tracks take their features from each provider; 'metadata' = none."""
        where = "WHERE t.id IN (SELECT track_id FROM signals)" if labelled_only else ""
        rows = self.conn.execute(
            f"""
            SELECT COALESCE(p.provider, 'metadata') AS provider, COUNT(*) FROM tracks t
            LEFT JOIN (
                SELECT track_id, provider FROM (
                    SELECT track_id, provider, COUNT(*) AS n,
                        ROW_NUMBER() OVER (PARTITION BY track_id ORDER BY COUNT(*) DESC,
                            CASE provider WHEN 'spotify' THEN 1 WHEN 'reccobeats' THEN 2 ELSE 3 END) AS rk
                    FROM features GROUP BY track_id, provider
                ) WHERE rk = 1
            ) p ON p.track_id = t.id
            {where}
            GROUP BY 1 ORDER BY 1
            """
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    # -- signals -------------------------------------------------------------------------------
    def add_signals(self, rows: Iterable[Mapping[str, Any]], *, keep_first_time: bool = False) -> int:
        """Upsert signals: each row has track_id, source, kind, strength, weight, at (any time form),
        and optionally context. The same (track, source, context) is one signal: reading a page again
        changes nothing. `keep_first_time` keeps the earliest `at` (sources without times of their
        own, like top tracks, are dated when first seen)."""
        now = now_iso(sortable=True)
        n = 0
        time_sql = "MIN(signals.at, excluded.at)" if keep_first_time else "excluded.at"
        with self._writing() as conn:
            for row in rows:
                # A signal for a track the store does not hold (a malformed one was skipped) is dropped.
                track_id = row.get("track_id")
                if not isinstance(track_id, str) or conn.execute(
                        "SELECT 1 FROM tracks WHERE id = ?", (track_id,)).fetchone() is None:
                    continue
                at = iso_time(row.get("at")) or now
                conn.execute(
                    f"""
                    INSERT INTO signals (track_id, source, context, kind, strength, weight, at, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(track_id, source, context) DO UPDATE SET
                        kind = excluded.kind, strength = excluded.strength, weight = excluded.weight,
                        at = {time_sql}
                    """,
                    (row["track_id"], row["source"], row.get("context") or "", row["kind"], row["strength"],
                     float(row["weight"]), at, now),
                )
                n += 1
        return n

    def remove_signals(self, source: str, context: str = "", *, keep: Iterable[str] | None = None) -> int:
        """Delete the signals of one source/context, except those of the tracks in `keep`."""
        keep_set = set(keep or ())
        with self._writing() as conn:
            rows = conn.execute("SELECT track_id FROM signals WHERE source = ? AND context = ?", (source, context)).fetchall()
            gone = [(source, context, r[0]) for r in rows if r[0] not in keep_set]
            conn.executemany("DELETE FROM signals WHERE source = ? AND context = ? AND track_id = ?", gone)
        return len(gone)

    def signal_exists(self, track_id: str, source: str, at: Any = None, context: str = "") -> bool:
        row = self.conn.execute(
            "SELECT at FROM signals WHERE track_id = ? AND source = ? AND context = ?", (track_id, source, context)
        ).fetchone()
        if row is None:
            return False
        return at is None or row[0] == iso_time(at)

    def signal_track_ids(self, source: str | None = None, *, kind: str | None = None, strength: str | None = None,
                         context: str | None = None) -> set[str]:
        sql, params = "SELECT DISTINCT track_id FROM signals WHERE 1=1", []
        for col, val in (("source", source), ("kind", kind), ("strength", strength), ("context", context)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        return {r[0] for r in self.conn.execute(sql, params)}

    def signal_times(self, source: str, track_ids: Iterable[str] | None = None, context: str = "") -> dict[str, str]:
        """{track_id: at} of one source's signals, optionally only for some tracks."""
        rows = self.conn.execute("SELECT track_id, at FROM signals WHERE source = ? AND context = ?", (source, context))
        out = {r[0]: r[1] for r in rows}
        if track_ids is not None:
            wanted = set(track_ids)
            out = {t: a for t, a in out.items() if t in wanted}
        return out

    def signal_counts(self) -> dict[str, dict[str, int]]:
        """{source: {'like'|'dislike': n}} over every stored signal."""
        out: dict[str, dict[str, int]] = {}
        for r in self.conn.execute("SELECT source, kind, COUNT(*) FROM signals GROUP BY source, kind ORDER BY source"):
            out.setdefault(r[0], {})[r[1]] = int(r[2])
        return out

    def add_plays(self, plays: Iterable[tuple[str, Any]]) -> int:
        n = 0
        with self._writing() as conn:
            for track_id, played_at in plays:
                at = iso_time(played_at)
                if track_id and at:
                    conn.execute("INSERT OR IGNORE INTO plays (played_at, track_id) VALUES (?, ?)", (at, track_id))
                    n += 1
        return n

    # -- playlists --------------------------------------------------------------------------------
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

    # -- harvest runs ------------------------------------------------------------------------------
    def start_harvest_run(self, options: str) -> int:
        with self._writing() as conn:
            # A run that never finished was killed: say so instead of leaving it "running".
            conn.execute("UPDATE harvest_runs SET status = 'interrupted' WHERE status = 'running'")
            cur = conn.execute(
                "INSERT INTO harvest_runs (started_at, status, options) VALUES (?, 'running', ?)", (now_iso(), options)
            )
            return int(cur.lastrowid)

    def finish_harvest_run(self, run_id: int, status: str, summary: str, requests: int) -> None:
        with self._writing() as conn:
            conn.execute(
                "UPDATE harvest_runs SET finished_at = ?, status = ?, summary = ?, requests = ? WHERE id = ?",
                (now_iso(), status, summary, requests, run_id),
            )

    def harvest_runs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM harvest_runs ORDER BY id")]

    # -- what the listener knows (the never-heard filter) -----------------------------------------
    def _known_track_sql(self, with_sampled: bool = True) -> str:
        signals = "SELECT track_id FROM signals" + (
            "" if with_sampled else " WHERE source NOT IN ('sampled_random', 'sampled_far')")
        return (
            f"{signals} UNION SELECT track_id FROM plays"
            " UNION SELECT track_id FROM playlist_items WHERE track_id IS NOT NULL"
            " UNION SELECT track_id FROM history_plays WHERE track_id IS NOT NULL"
        )

    def known_track_ids(self, *, with_sampled: bool = True) -> set[str]:
        """Ids the listener has met: any signal (like, dislike, sampled unless with_sampled=False), a
        play (recently played, or of the imported listening history), or a playlist item tastebot read (own, like/dislike lists, tastebot's own playlists)."""
        return {r[0] for r in self.conn.execute(self._known_track_sql(with_sampled))}

    def known_isrcs(self, *, with_sampled: bool = True) -> set[str]:
        sql = (f"SELECT DISTINCT isrc FROM tracks WHERE isrc IS NOT NULL"
               f" AND id IN ({self._known_track_sql(with_sampled)})")
        return {r[0] for r in self.conn.execute(sql)}

    def known_title_artist_keys(self, *, with_sampled: bool = True) -> set[str]:
        """Normalised 'title|primary artist' of known tracks (see `title_artist_key`)."""
        sql = (
            "SELECT DISTINCT title_artist_key FROM tracks WHERE title_artist_key IS NOT NULL"
            f" AND id IN ({self._known_track_sql(with_sampled)})"
            # Songs of the imported listening history, whether or not a track row exists for them.
            " UNION SELECT title_artist_key FROM history_items WHERE title_artist_key IS NOT NULL"
        )
        return {r[0] for r in self.conn.execute(sql)}

    def known_artist_ids(self) -> set[str]:
        """Every artist credited on a known track (sampled negatives are not known)."""
        out: set[str] = set()
        sql = f"SELECT artist_ids FROM tracks WHERE artist_ids IS NOT NULL AND id IN ({self._known_track_sql(False)})"
        for r in self.conn.execute(sql):
            out.update(a for a in r[0].split(",") if a)
        return out

    # -- counts for summaries and tests ---------------------------------------------------------
    def library_counts(self) -> dict[str, int]:
        one = lambda sql: int(self.conn.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "tracks": one("SELECT COUNT(*) FROM tracks"),
            "songs": one("SELECT COUNT(DISTINCT song_key) FROM tracks"),
            "artists": one("SELECT COUNT(*) FROM artists"),
            "albums": one("SELECT COUNT(*) FROM albums"),
            "signals": one("SELECT COUNT(*) FROM signals"),
            "plays": one("SELECT COUNT(*) FROM plays"),
            "playlists": one("SELECT COUNT(*) FROM playlists"),
            "playlist_items": one("SELECT COUNT(*) FROM playlist_items"),
            "tracks_with_features": one("SELECT COUNT(DISTINCT track_id) FROM features"),
        }

    def dump_library(self) -> dict[str, list[tuple]]:
        """Every library table's content without the wall-clock columns: two harvests of the same
        data give equal dumps (the kill-and-resume tests compare them)."""
        queries = {
            "tracks": "SELECT id, name, primary_artist_id, artist_ids, album_id, isrc, song_key, title_artist_key,"
                      " duration_ms, explicit, popularity, track_number, disc_number FROM tracks ORDER BY id",
            "albums": "SELECT id, name, album_type, release_date, release_date_precision, release_year, artist_ids"
                      " FROM albums ORDER BY id",
            "artists": "SELECT id, name, genres, popularity FROM artists ORDER BY id",
            "features": "SELECT track_id, feature, value, provider FROM features ORDER BY track_id, feature",
            "signals": "SELECT track_id, source, context, kind, strength, weight FROM signals"
                       " WHERE strength = 'explicit' ORDER BY track_id, source, context",
            "signal_times": "SELECT track_id, source, context, at FROM signals WHERE source NOT LIKE 'top_%'"
                            " AND strength = 'explicit' ORDER BY track_id, source, context",
            "plays": "SELECT played_at, track_id FROM plays ORDER BY played_at",
            "playlists": "SELECT id, name, owner_id, role, snapshot_id, total, status FROM playlists ORDER BY id",
            "playlist_items": "SELECT playlist_id, position, track_id, is_local, added_at FROM playlist_items"
                              " ORDER BY playlist_id, position",
        }
        return {name: [tuple(r) for r in self.conn.execute(sql)] for name, sql in queries.items()}

    # -- frames for training and scoring ----------------------------------------------------------
    def _signal_rows(self) -> list[tuple]:
        return self.conn.execute(
            "SELECT s.track_id, COALESCE(t.song_key, 'id:' || s.track_id), s.source, s.kind, s.strength,"
            " s.weight, s.at FROM signals s LEFT JOIN tracks t ON t.id = s.track_id"
            " ORDER BY s.track_id, s.source, s.context"
        ).fetchall()

    def resolved_labels(self) -> dict[str, dict[str, Any]]:
        """The latest-signal rule, per song: {song_key: {track_ids, label, strength, weight, sources,
        last_signal_at}}. Explicit signals beat weak ones; the latest explicit (or, with none, the
        latest weak) signal decides; a tie in time goes to dislike."""
        songs: dict[str, list[tuple]] = {}
        for row in self._signal_rows():
            songs.setdefault(row[1], []).append(row)
        out: dict[str, dict[str, Any]] = {}
        for song, rows in songs.items():
            explicit = [r for r in rows if r[4] == "explicit"]
            considered = explicit or rows
            latest_at = max(r[6] for r in considered)
            latest_kinds = {r[3] for r in considered if r[6] == latest_at}
            kind = "dislike" if "dislike" in latest_kinds else "like"
            winners = [r for r in considered if r[3] == kind]
            out[song] = {
                "track_ids": sorted({r[0] for r in rows}),
                "label": 1 if kind == "like" else 0,
                "strength": "explicit" if any(r[4] == "explicit" for r in winners) else "weak",
                "weight": max(float(r[5]) for r in winners),
                "sources": ",".join(sorted({r[2] for r in winners})),
                "last_signal_at": max(r[6] for r in winners),
            }
        return out

    def label_counts(self) -> dict[str, int]:
        """Songs after the latest-signal rule: likes, explicit dislikes, weak dislikes."""
        counts = {"likes": 0, "dislikes_explicit": 0, "dislikes_weak": 0}
        for info in self.resolved_labels().values():
            if info["label"] == 1:
                counts["likes"] += 1
            elif info["strength"] == "explicit":
                counts["dislikes_explicit"] += 1
            else:
                counts["dislikes_weak"] += 1
        return counts

    def labelled_tracks(self):
        """One row per labelled song (two ids with one ISRC are one song), columns exactly as in
        docs/architecture.md "Store frames". The row's track_id is the song's id that has audio
        features, else the smallest id."""
        import pandas as pd

        labels = self.resolved_labels()
        with_features = {r[0] for r in self.conn.execute("SELECT DISTINCT track_id FROM features")}
        chosen: dict[str, dict[str, Any]] = {}
        for info in labels.values():
            ids = info["track_ids"]
            rep = next((t for t in ids if t in with_features), ids[0])
            chosen[rep] = info
        base = self.tracks_frame(list(chosen))
        if base.empty:
            return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in LABELLED_FRAME_COLUMNS})
        for col in LABEL_COLUMNS:
            base[col] = [chosen[t][col] for t in base["track_id"]]
        base["label"] = base["label"].astype("int64")
        base["weight"] = base["weight"].astype("float64")
        return base[list(LABELLED_FRAME_COLUMNS)].sort_values("track_id").reset_index(drop=True)

    def tracks_frame(self, track_ids: Iterable[str]):
        """Rows for the given ids that are in the store (in the order given, duplicates once), with
        the identity, metadata, audio-feature, feature_provider and genres columns. A track without
        features takes those of another id of the same song (same ISRC) when one has them."""
        import numpy as np
        import pandas as pd

        ids = [t for t in dict.fromkeys(track_ids) if t]
        rows: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids, 500):
            q = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                f"""
                SELECT t.id, t.name, t.primary_artist_id, t.artist_ids, t.album_id, t.isrc, t.song_key,
                       t.duration_ms, t.explicit, t.popularity, t.track_number, al.release_year, al.album_type,
                       ar.genres
                FROM tracks t LEFT JOIN albums al ON al.id = t.album_id
                LEFT JOIN artists ar ON ar.id = t.primary_artist_id
                WHERE t.id IN ({q})
                """,
                chunk,
            ):
                rows[r[0]] = dict(r)
        present = [t for t in ids if t in rows]
        if not present:
            return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in TRACK_FRAME_COLUMNS})

        feats = self._features_with_providers(present)
        # Borrow features from another id of the same song when this id has none.
        missing_songs = {rows[t]["song_key"] for t in present if t not in feats and rows[t]["song_key"].startswith("isrc:")}
        sibling: dict[str, str] = {}
        if missing_songs:
            keys = sorted(missing_songs)
            for chunk in _chunks(keys, 500):
                q = ",".join("?" * len(chunk))
                for r in self.conn.execute(
                    f"SELECT t.song_key, MIN(t.id) FROM tracks t WHERE t.song_key IN ({q})"
                    " AND EXISTS (SELECT 1 FROM features f WHERE f.track_id = t.id) GROUP BY t.song_key",
                    chunk,
                ):
                    sibling[r[0]] = r[1]
            feats.update({k: v for k, v in self._features_with_providers(list(sibling.values())).items()})

        records = []
        for t in present:
            r = rows[t]
            f = feats.get(t) or feats.get(sibling.get(r["song_key"], ""), None) or {}
            rec = {
                "track_id": t, "name": r["name"], "primary_artist_id": r["primary_artist_id"],
                "artist_ids": r["artist_ids"] or "", "album_id": r["album_id"], "isrc": r["isrc"],
                "duration_ms": _nan(r["duration_ms"]), "explicit": int(r["explicit"] or 0),
                "popularity": _nan(r["popularity"]), "track_number": _nan(r["track_number"]),
                "release_year": _nan(r["release_year"]), "album_type": r["album_type"],
            }
            values = f.get("values", {})
            for c in AUDIO_FEATURES:
                rec[c] = values.get(c, np.nan)
            rec["feature_provider"] = f.get("provider")
            rec["genres"] = r["genres"] or ""
            records.append(rec)
        frame = pd.DataFrame.from_records(records, columns=list(TRACK_FRAME_COLUMNS))
        for c in ("duration_ms", "popularity", "track_number", "release_year") + AUDIO_FEATURES:
            frame[c] = frame[c].astype("float64")
        frame["explicit"] = frame["explicit"].astype("int64")
        return frame

    def _features_with_providers(self, track_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(list(track_ids), 500):
            q = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                f"SELECT track_id, feature, value, provider FROM features WHERE track_id IN ({q})", chunk
            ):
                entry = out.setdefault(r[0], {"values": {}, "providers": {}})
                entry["values"][r[1]] = r[2]
                entry["providers"][r[3]] = entry["providers"].get(r[3], 0) + 1
        for entry in out.values():
            # The provider of most of the values; a tie goes to the better-ranked provider.
            entry["provider"] = min(entry["providers"], key=lambda p: (-entry["providers"][p], PROVIDER_RANK[p]))
        return out


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float
        return None


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _dtype(column: str) -> str:
    if column in ("label", "explicit"):
        return "int64"
    if column in ("weight", "duration_ms", "popularity", "track_number", "release_year") or column in AUDIO_FEATURES:
        return "float64"
    return "object"
