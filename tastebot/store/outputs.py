"""Store area: outputs. (Tables and queries for this area only.)"""

from __future__ import annotations

MIGRATIONS: list[str] = []


class OutputsMixin:
    pass
