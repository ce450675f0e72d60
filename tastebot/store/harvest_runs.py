"""Store area library, job: harvest runs (started, finished, their summary)."""

from __future__ import annotations

from typing import Any

from tastebot.vocab import now_iso


class HarvestRunsMixin:
    """The record of each harvest.
    `self.conn`, `self.transaction()` and `self._writing()` come from StoreCore."""

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
