"""JSON text as tastebot writes it (files and --json): indented, UTF-8, numpy values as plain numbers,
NaN refused. No printing here: console.py prints, train.py writes metrics.json."""

from __future__ import annotations

import json
from typing import Any


def _default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_default, allow_nan=False)
