"""`tastebot exclude`: artists and tracks never to recommend, playlists never to learn from.

The store keeps them (store/exclusions.py); tastebot.known applies artists and tracks to every
recommendation, the harvest skips excluded playlists. Nothing here talks to Spotify: a reference is
taken as given (URI, link, or a bare id with its kind), named from the store when it knows the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from tastebot.errors import InputError
from tastebot.lock import home_lock
from tastebot.spotify.refs import REF_KINDS, parse_spotify_ref
from tastebot.store import open_store


@dataclass
class ExclusionChange:
    kind: str
    spotify_id: str
    name: str | None
    changed: bool  # added (or removed) now; False: it already was (or was not) excluded

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _parse(refs: Iterable[str], kind: str | None) -> list[tuple[str, str]]:
    if kind is not None and kind not in REF_KINDS:
        raise InputError(f"--kind must be one of {', '.join(REF_KINDS)}.")
    parsed = list(dict.fromkeys(parse_spotify_ref(r, kind) for r in refs))
    if not parsed:
        raise InputError("Give at least one artist, track or playlist.")
    return parsed


def add_exclusions(settings, refs: Iterable[str], kind: str | None = None) -> list[ExclusionChange]:
    """Exclude every reference; all are checked before any is stored."""
    parsed = _parse(refs, kind)
    out = []
    with home_lock(settings), open_store(settings) as store:
        for k, i in parsed:
            name = store.name_of(k, i)
            out.append(ExclusionChange(k, i, name, store.add_exclusions(k, [(i, name)]) > 0))
    return out


def remove_exclusions(settings, refs: Iterable[str], kind: str | None = None) -> list[ExclusionChange]:
    parsed = _parse(refs, kind)
    with home_lock(settings), open_store(settings) as store:
        names = {(e["kind"], e["spotify_id"]): e["name"] for e in store.exclusions()}
        return [ExclusionChange(k, i, names.get((k, i)), store.remove_exclusions(k, [i]) > 0) for k, i in parsed]


def list_exclusions(settings) -> list[dict[str, Any]]:
    """Every exclusion: kind, spotify_id, name (None when unknown), added_at."""
    if not settings.store_path.exists():
        return []
    with open_store(settings, readonly=True) as store:
        return store.exclusions()
