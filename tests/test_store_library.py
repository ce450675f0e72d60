"""The library area of the store, filled directly: frames, the latest-signal rule, songs by ISRC,
provider precedence, migrations and transactions."""

from __future__ import annotations

import math
import sqlite3

import pandas as pd
import pytest

from tastebot.store import Store
from tastebot.names import title_artist_key
from tastebot.store.library_rows import (
    LABELLED_FRAME_COLUMNS,
    TRACK_FRAME_COLUMNS,
)
from tastebot.vocab import AUDIO_FEATURES, iso_time

ARCH_TRACK_COLUMNS = [
    "track_id", "name", "primary_artist_id", "artist_ids", "album_id", "isrc",
    "duration_ms", "explicit", "popularity", "track_number", "release_year", "album_type",
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
    "feature_provider", "genres",
]
ARCH_LABEL_COLUMNS = ["label", "strength", "weight", "sources", "last_signal_at"]


def track(tid, name="Song", artists=(("ar1", "Artist One"),), album="al1", isrc=None, popularity=None, **extra):
    obj = {
        "id": tid, "type": "track", "name": name, "duration_ms": 200000, "explicit": False,
        "track_number": 3, "disc_number": 1, "is_local": False,
        "artists": [{"id": a, "name": n} for a, n in artists],
        "album": {"id": album, "name": "Album", "album_type": "album", "release_date": "2019-05-01",
                  "release_date_precision": "day", "artists": [{"id": artists[0][0], "name": artists[0][1]}]},
    }
    if isrc:
        obj["external_ids"] = {"isrc": isrc}
    if popularity is not None:
        obj["popularity"] = popularity
    obj.update(extra)
    return obj


def sig(tid, source, kind="like", at="2025-01-01T00:00:00Z", strength="explicit", weight=1.0, context=""):
    return {"track_id": tid, "source": source, "kind": kind, "strength": strength, "weight": weight, "at": at,
            "context": context}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    yield s
    s.close()


def test_frame_columns_match_the_architecture_contract(store):
    assert list(TRACK_FRAME_COLUMNS) == ARCH_TRACK_COLUMNS
    assert list(LABELLED_FRAME_COLUMNS) == ARCH_TRACK_COLUMNS[:6] + ARCH_LABEL_COLUMNS + ARCH_TRACK_COLUMNS[6:]
    # Empty store: the frames still have every column.
    assert list(store.labelled_tracks().columns) == list(LABELLED_FRAME_COLUMNS)
    assert list(store.tracks_frame(["nope"]).columns) == ARCH_TRACK_COLUMNS


def test_labelled_tracks_values(store):
    with store.transaction():
        store.upsert_tracks([
            track("t1", "Liked", isrc="usabc1", popularity=40),
            track("t2", "Disliked", artists=(("ar2", "Other"), ("ar1", "Artist One")), album="al2"),
            track("t3", "Unlabelled"),
        ])
        store.upsert_artists([{"id": "ar1", "name": "Artist One", "genres": ["rock", "indie rock"]}])
        store.add_signals([
            sig("t1", "saved", weight=1.0, at="2025-02-01T10:00:00Z"),
            sig("t1", "recently_played", weight=0.3, at="2025-03-01T10:00:00Z"),
            sig("t2", "dislike_playlist", kind="dislike", context="pl1"),
        ])
        store.upsert_features({"t1": {"danceability": 0.5, "energy": 0.7, "key": 5, "time_signature": 4}}, "reccobeats")
        store.upsert_features({"t1": {"time_signature": 3, "tempo": 120.5}}, "import")

    frame = store.labelled_tracks()
    assert list(frame["track_id"]) == ["t1", "t2"]
    t1 = frame.set_index("track_id").loc["t1"]
    assert t1["label"] == 1 and t1["strength"] == "explicit"
    assert t1["weight"] == pytest.approx(1.0)
    assert t1["sources"] == "recently_played,saved"
    assert t1["last_signal_at"] == "2025-03-01T10:00:00.000Z"
    assert t1["isrc"] == "USABC1" and t1["popularity"] == 40 and t1["release_year"] == 2019
    assert t1["album_type"] == "album" and t1["genres"] == "rock|indie rock"
    # ReccoBeats' time_signature is kept over the import's (provider order); tempo fills a gap.
    assert t1["time_signature"] == 4 and t1["tempo"] == pytest.approx(120.5)
    assert t1["feature_provider"] == "reccobeats"
    assert math.isnan(t1["valence"])
    t2 = frame.set_index("track_id").loc["t2"]
    assert t2["label"] == 0 and t2["artist_ids"] == "ar2,ar1" and t2["primary_artist_id"] == "ar2"
    assert pd.isna(t2["feature_provider"]) and math.isnan(t2["danceability"]) and t2["genres"] == ""
    assert frame["label"].dtype == "int64" and frame["explicit"].dtype == "int64"
    for c in AUDIO_FEATURES + ("duration_ms", "popularity", "release_year", "weight"):
        assert frame[c].dtype == "float64", c


def test_latest_signal_wins_and_explicit_beats_weak(store):
    with store.transaction():
        store.upsert_tracks([track("a"), track("b"), track("c"), track("d")])
        # a: disliked in 2024, saved in 2025 -> like.
        store.add_signals([sig("a", "dislike_playlist", "dislike", "2024-01-01T00:00:00Z", context="p"),
                           sig("a", "saved", "like", "2025-01-01T00:00:00Z")])
        # b: saved, later put on a dislike list -> dislike.
        store.add_signals([sig("b", "saved", "like", "2024-01-01T00:00:00Z"),
                           sig("b", "dislike_playlist", "dislike", "2025-06-01T00:00:00Z", context="p")])
        # c: a sampled (weak) negative later than a like: the explicit like stands.
        store.add_signals([sig("c", "recently_played", "like", "2024-01-01T00:00:00Z", weight=0.3),
                           sig("c", "sampled_random", "dislike", "2026-01-01T00:00:00Z", strength="weak", weight=0.3)])
        # d: same time, like and dislike -> dislike.
        store.add_signals([sig("d", "saved", "like", "2025-01-01T00:00:00Z"),
                           sig("d", "feedback_removed", "dislike", "2025-01-01T00:00:00Z", context="x")])
    labels = store.labelled_tracks().set_index("track_id")
    assert labels.loc["a", "label"] == 1 and labels.loc["a", "sources"] == "saved"
    assert labels.loc["b", "label"] == 0 and labels.loc["b", "sources"] == "dislike_playlist"
    assert labels.loc["c", "label"] == 1 and labels.loc["c", "weight"] == pytest.approx(0.3)
    assert labels.loc["d", "label"] == 0
    assert store.label_counts() == {"likes": 2, "dislikes_explicit": 2, "dislikes_weak": 0}


def test_two_ids_with_one_isrc_are_one_song(store):
    with store.transaction():
        store.upsert_tracks([track("x1", isrc="GBAAA0000001"), track("x2", isrc="gbaaa0000001"), track("y")])
        store.add_signals([sig("x1", "saved"), sig("x2", "top_short_term", weight=0.9), sig("y", "saved")])
        store.upsert_features({"x2": {"energy": 0.9}}, "spotify")
    frame = store.labelled_tracks()
    assert len(frame) == 2
    # The song's row is the id with features, and it carries both ids' sources.
    row = frame.set_index("track_id").loc["x2"]
    assert row["sources"] == "saved,top_short_term" and row["energy"] == pytest.approx(0.9)
    # tracks_frame for the other id borrows the song's features.
    other = store.tracks_frame(["x1"]).iloc[0]
    assert other["energy"] == pytest.approx(0.9) and other["feature_provider"] == "spotify"
    assert store.library_counts()["songs"] == 2


def test_tracks_frame_keeps_order_and_skips_unknown(store):
    store.upsert_tracks([track("a"), track("b"), None, {"id": None, "is_local": True, "name": "local"}])
    frame = store.tracks_frame(["b", "zzz", "a", "b"])
    assert list(frame["track_id"]) == ["b", "a"]
    assert list(frame.columns) == ARCH_TRACK_COLUMNS
    assert store.track_count() == 2


def test_missing_fields_never_erase_known_ones(store):
    store.upsert_tracks([track("a", isrc="US1", popularity=55)])
    store.upsert_artists([{"id": "ar1", "name": "Artist One", "genres": ["jazz"]}])
    # A development-mode answer: no popularity, no ISRC, empty genres.
    store.upsert_tracks([track("a")])
    store.upsert_artists([{"id": "ar1", "name": "Artist One", "genres": []}])
    row = store.tracks_frame(["a"]).iloc[0]
    assert row["popularity"] == 55 and row["isrc"] == "US1" and row["genres"] == "jazz"


def test_better_provider_replaces_worse_never_the_reverse(store):
    store.upsert_features({"a": {"energy": 0.1}}, "import")
    store.upsert_features({"a": {"energy": 0.2}}, "reccobeats")
    assert store.features_for(["a"])["a"]["energy"] == pytest.approx(0.2)
    store.upsert_features({"a": {"energy": 0.3}}, "import")
    assert store.features_for(["a"])["a"]["energy"] == pytest.approx(0.2)
    store.upsert_features({"a": {"energy": 0.4, "key": -1, "tempo": "fast"}}, "spotify")
    assert store.features_for(["a"])["a"] == {"energy": pytest.approx(0.4)}


def test_known_sets_for_the_never_heard_filter(store):
    with store.transaction():
        store.upsert_tracks([
            track("k1", "Yesterday - Remastered 2009", artists=(("b", "The Béatles"),), isrc="GB1"),
            track("k2", "Heard On A Playlist"),
            track("cand", "Candidate Only", isrc="GB9"),
        ])
        store.add_signals([sig("k1", "saved")])
        store.upsert_playlist({"id": "p", "name": "Mine", "owner": {"id": "me"}}, "own")
        store.store_playlist_page("p", "s1", 0, [("k2", False, "2025-01-01T00:00:00Z"), (None, True, None)], 2)
    assert store.known_track_ids() == {"k1", "k2"}
    assert store.known_isrcs() == {"GB1"}
    assert title_artist_key("Yesterday (feat. Nobody)", "the beatles") in store.known_title_artist_keys()
    assert "candidate only|artist one" not in store.known_title_artist_keys()


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.upsert_tracks([track("a")])
            store.add_signals([sig("a", "saved")])
            store.set_state("cursor", "x")
            raise RuntimeError("killed")
    assert store.track_count() == 0 and store.get_state("cursor") is None
    assert store.labelled_tracks().empty


def test_signals_are_idempotent_and_top_tracks_keep_first_seen(store):
    store.upsert_tracks([track("a")])
    store.add_signals([sig("a", "top_short_term", at="2025-01-01T00:00:00Z")], keep_first_time=True)
    store.add_signals([sig("a", "top_short_term", at="2025-05-01T00:00:00Z")], keep_first_time=True)
    assert store.signal_counts() == {"top_short_term": {"like": 1}}
    assert store.labelled_tracks().iloc[0]["last_signal_at"] == "2025-01-01T00:00:00.000Z"


def test_playlist_pages_resume_and_finish(store):
    store.upsert_playlist({"id": "p", "name": "P", "owner": {"id": "me"}}, "own")
    store.store_playlist_page("p", "s1", 0, [("a", False, None), ("b", False, None)], 2)
    row = store.playlist_row("p")
    assert row["reading_snapshot"] == "s1" and row["reading_offset"] == 2 and row["snapshot_id"] is None
    store.store_playlist_page("p", "s1", 2, [("c", False, None)], 3)
    store.finish_playlist("p", "s1", 3)
    assert store.playlist_track_ids("p") == ["a", "b", "c"]
    # A new snapshot with fewer items: the tail goes.
    store.store_playlist_page("p", "s2", 0, [("c", False, None)], 1)
    store.finish_playlist("p", "s2", 1)
    assert store.playlist_track_ids("p") == ["c"] and store.playlist_row("p")["snapshot_id"] == "s2"


def test_migration_upgrades_an_old_store_in_place(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (area TEXT NOT NULL, version INTEGER NOT NULL,"
                 " applied_at TEXT NOT NULL, PRIMARY KEY (area, version))")
    conn.execute("CREATE TABLE keepme (x)")
    conn.execute("INSERT INTO keepme VALUES (42)")
    conn.commit()
    conn.close()
    with Store(path) as s:
        assert s.schema_versions()["library"] >= 1
        assert s.conn.execute("SELECT x FROM keepme").fetchone()[0] == 42
        assert s.integrity_check() == "ok"


def test_iso_time_normalises():
    assert iso_time("2025-01-02T03:04:05Z") == "2025-01-02T03:04:05.000Z"
    assert iso_time("2025-01-02T05:04:05.5+02:00") == "2025-01-02T03:04:05.500Z"
    assert iso_time(0) == "1970-01-01T00:00:00.000Z"
    assert iso_time("garbage") is None
