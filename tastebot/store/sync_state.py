"""Store area library, job: sync state, the cursors and small values a harvest resumes from."""

from __future__ import annotations

from typing import Any


class SyncStateMixin:
    """Sync cursors and small saved state (key, value).
    `self.conn`, `self.transaction()` and `self._writing()` come from StoreCore."""

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
