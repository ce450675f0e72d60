"""A keyring backend for tests (PYTHON_KEYRING_BACKEND=memory_keyring.MemoryKeyring).

Within one process it keeps secrets in memory. When MEMORY_KEYRING_FILE is set it keeps them in
that file instead, so a test can follow a login across CLI subprocesses; the test scans that file
separately (it plays the OS keyring, the one place tokens may live).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1
    _data: dict[str, str] = {}

    @classmethod
    def clear(cls) -> None:
        cls._data = {}

    def _load(self) -> dict[str, str]:
        path = os.environ.get("MEMORY_KEYRING_FILE")
        if path and Path(path).exists():
            return json.loads(Path(path).read_text())
        return self._data if not path else {}

    def _save(self, data: dict[str, str]) -> None:
        path = os.environ.get("MEMORY_KEYRING_FILE")
        if path:
            Path(path).write_text(json.dumps(data))
        else:
            type(self)._data = data

    def get_password(self, service, username):
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service, username, password):
        data = dict(self._load())
        data[f"{service}\0{username}"] = password
        self._save(data)

    def delete_password(self, service, username):
        data = dict(self._load())
        if data.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._save(data)
