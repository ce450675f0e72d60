"""Store area library, job: signals (likes and dislikes by source) and plays."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from tastebot.vocab import iso_time, now_iso


class SignalsMixin:
    """Likes and dislikes (signals) and plays.
    `self.conn`, `self.transaction()` and `self._writing()` come from StoreCore."""

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
