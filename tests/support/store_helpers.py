"""Store checks shared by the tests that kill, fault or interrupt a harvest."""

from __future__ import annotations

from tastebot.settings import load_settings
from tastebot.store import open_store

HARVEST = ["harvest", "--sampled-negatives", "never"]


def dump_and_check():
    """The library area's content, after checking the store's integrity."""
    with open_store(load_settings()) as s:
        assert s.integrity_check() == "ok"
        return s.dump_library()


def remove_store(home):
    for path in home.glob("tastebot.db*"):
        path.unlink()
