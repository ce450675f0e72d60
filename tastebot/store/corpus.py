"""Store area: corpus. (Tables and queries for this area only.)"""

from __future__ import annotations

MIGRATIONS: list[str] = []


class CorpusMixin:
    pass
