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

from tastebot.store.features import FeaturesMixin
from tastebot.store.frames import FramesMixin
from tastebot.store.harvest_runs import HarvestRunsMixin
from tastebot.store.known_sets import KnownSetsMixin
from tastebot.store.playlists import PlaylistsMixin
from tastebot.store.signals import SignalsMixin
from tastebot.store.sync_state import SyncStateMixin
from tastebot.store.tracks import TracksMixin

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


class LibraryMixin(SyncStateMixin, TracksMixin, FeaturesMixin, SignalsMixin, PlaylistsMixin, HarvestRunsMixin,
                   KnownSetsMixin, FramesMixin):
    """The library area's queries, one job a module (their tables are MIGRATIONS above)."""
