"""Store area library, job: counts for summaries, the latest-signal rule, and the track frames the models read."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from tastebot.store.library_rows import (
    LABEL_COLUMNS, LABELLED_FRAME_COLUMNS, PROVIDER_RANK, TRACK_FRAME_COLUMNS, chunks, frame_dtype,
    nan_if_none,
)
from tastebot.vocab import AUDIO_FEATURES


class FramesMixin:
    """Counts and the frames training and scoring read.
    `self.conn`, `self.transaction()` and `self._writing()` come from StoreCore."""

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
        import pandas as pd  # here: most commands open the store and never build a frame (pandas ~1 s to import)

        labels = self.resolved_labels()
        with_features = {r[0] for r in self.conn.execute("SELECT DISTINCT track_id FROM features")}
        chosen: dict[str, dict[str, Any]] = {}
        for info in labels.values():
            ids = info["track_ids"]
            rep = next((t for t in ids if t in with_features), ids[0])
            chosen[rep] = info
        base = self.tracks_frame(list(chosen))
        if base.empty:
            return pd.DataFrame({c: pd.Series(dtype=frame_dtype(c)) for c in LABELLED_FRAME_COLUMNS})
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
        import pandas as pd  # here: most commands open the store and never build a frame (pandas ~1 s to import)

        ids = [t for t in dict.fromkeys(track_ids) if t]
        rows: dict[str, dict[str, Any]] = {}
        for chunk in chunks(ids, 500):
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
            return pd.DataFrame({c: pd.Series(dtype=frame_dtype(c)) for c in TRACK_FRAME_COLUMNS})

        feats = self._features_with_providers(present)
        # Borrow features from another id of the same song when this id has none.
        missing_songs = {rows[t]["song_key"] for t in present if t not in feats and rows[t]["song_key"].startswith("isrc:")}
        sibling: dict[str, str] = {}
        if missing_songs:
            keys = sorted(missing_songs)
            for chunk in chunks(keys, 500):
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
                "duration_ms": nan_if_none(r["duration_ms"]), "explicit": int(r["explicit"] or 0),
                "popularity": nan_if_none(r["popularity"]), "track_number": nan_if_none(r["track_number"]),
                "release_year": nan_if_none(r["release_year"]), "album_type": r["album_type"],
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
        for chunk in chunks(list(track_ids), 500):
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
