"""A provider's track on Spotify: by ISRC (Spotify search `isrc:`) where there is one, else by title
and artist, checked (the same song by the same artist, as the never-heard rule compares them), with
every outcome (match or none) cached in the store so the same suggestion costs no second search."""

from __future__ import annotations

import re
from typing import Any

from tastebot.discovery.base import CACHE_DAYS
from tastebot.names import loose_artist_name, normalise_title, title_artist_key

_BRACKETS = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
SEARCH_LIMIT = 10


def _quoted(text: str) -> str:
    return text.replace('"', " ").strip()


def _items(answer: Any) -> list[dict]:
    items = ((answer or {}).get("tracks") or {}).get("items") if isinstance(answer, dict) else None
    return [t for t in items if isinstance(t, dict) and t.get("id")] if isinstance(items, list) else []


def same_song(track: dict, title: str, artist: str) -> bool:
    if normalise_title(track.get("name")) != normalise_title(title):
        return False
    want = loose_artist_name(artist)
    return any(isinstance(a, dict) and loose_artist_name(a.get("name")) == want for a in track.get("artists") or [])


def by_isrc(client, store, isrc: str) -> dict | None:
    key = f"isrc:{isrc.upper()}"
    hit, track = store.cached_match(key, max_age_days=CACHE_DAYS)
    if hit:
        return track
    found = None
    for t in _items(client.search(f"isrc:{isrc}", type="track", limit=5)):
        if str((t.get("external_ids") or {}).get("isrc") or "").upper() == isrc.upper():
            found = t
            break
    store.cache_match(key, found)
    return found


def by_title(client, store, title: str, artist: str) -> dict | None:
    song = title_artist_key(title, artist)
    if song is None:
        return None
    key = f"song:{song}"
    hit, track = store.cached_match(key, max_age_days=CACHE_DAYS)
    if hit:
        return track
    found = None
    bare = _BRACKETS.sub("", title).strip() or title
    # Spotify's spelling may differ from the provider's ("The X", accents): the title alone, checked, next.
    for q in (f'track:"{_quoted(bare)}" artist:"{_quoted(artist)}"', f'track:"{_quoted(bare)}"'):
        found = next((t for t in _items(client.search(q, type="track", limit=SEARCH_LIMIT)) if same_song(t, title, artist)),
                     None)
        if found is not None:
            break
    store.cache_match(key, found)
    return found
