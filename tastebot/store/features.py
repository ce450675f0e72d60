"""Store area library, job: audio features with provenance (a lower-ranked provider never replaces a higher one)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from tastebot.store.library_rows import PROVIDER_RANK, chunks, clean_number, impossible_features
from tastebot.vocab import API_PROVIDERS, AUDIO_FEATURES, now_iso


class FeaturesMixin:
    """Audio features with their provider, and which provider was asked about what.
    `self.conn`, `self.transaction()` and `self._writing()` come from StoreCore."""

    # Tracks whose audio features from a provider (or a corpus CSV) were refused: a value no track can have.
    features_refused = 0

    def upsert_features(self, rows: Mapping[str, Mapping[str, Any]], provider: str) -> int:
        """Store audio features {track_id: {feature: value}} from `provider` (spotify, reccobeats,
        import). Unknown feature names and non-numbers are ignored; a key of -1 means unknown. A value
        from a better-ranked provider is never replaced by a worse one. A track with any value no track
        can have (`impossible_features`) is refused whole, since its answer cannot be trusted, and
        counted in `features_refused`. Every provider's rows pass here. Returns tracks written."""
        if provider not in PROVIDER_RANK:
            raise ValueError(f"unknown feature provider {provider}")
        now = now_iso(sortable=True)
        rank = PROVIDER_RANK[provider]
        params: list[tuple] = []
        written = 0
        for track_id, values in rows.items():
            if not track_id or not isinstance(values, Mapping):
                continue
            if impossible_features(values):
                self.features_refused += 1
                continue
            before = len(params)
            for feature in AUDIO_FEATURES:
                x = clean_number(values.get(feature))
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
        for chunk in chunks(ids, 500):
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
