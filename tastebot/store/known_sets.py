"""Store area library, job: what the listener knows, as sets (the rules that use them live in
tastebot/known.py)."""

from __future__ import annotations


class KnownSetsMixin:
    """The known sets tastebot.known reads (the SQL of 'already known').
    `self.conn`, `self.transaction()` and `self._writing()` come from StoreCore."""

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
