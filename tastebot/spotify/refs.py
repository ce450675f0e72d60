"""Spotify ids, URIs and links, read without the gateway: `parse_playlist_ref`, `parse_spotify_ref`,
and `playlist_item_track` (the track inside a playlist item). Pure: no HTTP, no spotipy."""

from __future__ import annotations

import re
from typing import Any

from tastebot.errors import InputError

__all__ = ["parse_playlist_ref", "parse_spotify_ref", "playlist_item_track", "REF_KINDS"]


# Spotify ids are 22 base62 characters; anything else is a typo, not a playlist to look for.
_PLAYLIST_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_PLAYLIST_URI = re.compile(r"^spotify:(?:user:[^:]+:)?playlist:([0-9A-Za-z]+)$")
_PLAYLIST_URL = re.compile(
    r"^(?:https?://)?open\.spotify\.com/(?:intl-[A-Za-z-]+/)?(?:user/[^/]+/)?playlist/([0-9A-Za-z]+)/?(?:[?#].*)?$"
)


def parse_playlist_ref(text: str) -> str:
    """The playlist id in `spotify:playlist:ID`, `https://open.spotify.com/playlist/ID?si=..` or a bare
    id. Anything else is an InputError naming what was given."""
    raw = (text or "").strip()
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    for pattern in (_PLAYLIST_URI, _PLAYLIST_URL):
        m = pattern.match(raw)
        if m:
            if not _PLAYLIST_ID.match(m.group(1)):
                raise InputError(
                    f"Not a Spotify playlist: {shown!r}: the id {m.group(1)!r} has {len(m.group(1))} characters; "
                    "a playlist id has 22 letters and digits."
                )
            return m.group(1)
    if _PLAYLIST_ID.match(raw):
        return raw
    raise InputError(
        f"Not a Spotify playlist: {shown!r}. Give a playlist URI (spotify:playlist:ID), "
        "a link (https://open.spotify.com/playlist/ID) or the bare ID."
    )


_REF_URI = re.compile(r"^spotify:(?:user:[^:]+:)?(track|artist|playlist):([0-9A-Za-z]+)$")
_REF_URL = re.compile(
    r"^(?:https?://)?open\.spotify\.com/(?:intl-[A-Za-z-]+/)?(?:user/[^/]+/)?(track|artist|playlist)/([0-9A-Za-z]+)/?(?:[?#].*)?$"
)
REF_KINDS = ("artist", "track", "playlist")


def parse_spotify_ref(text: str, kind: str | None = None) -> tuple[str, str]:
    """(kind, id) of an artist, track or playlist given as a URI, an open.spotify.com link or, with
    `kind`, a bare id. Anything else is an InputError naming what was given."""
    raw = (text or "").strip()
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    m = _REF_URI.match(raw) or _REF_URL.match(raw)
    if m:
        found, ref = m.group(1), m.group(2)
        if kind is not None and found != kind:
            raise InputError(f"{shown!r} is a {found}, not a {kind}.")
    elif kind is not None:
        found, ref = kind, raw
    else:
        raise InputError(f"Not a Spotify artist, track or playlist: {shown!r}. Give a URI (spotify:artist:ID), "
                         "a link (https://open.spotify.com/track/ID) or a bare ID with its kind.")
    if not _PLAYLIST_ID.match(ref):
        raise InputError(f"Not a Spotify {found}: {shown!r}: a Spotify id has 22 letters and digits.")
    return found, ref


def playlist_item_track(item: Any) -> dict | None:
    """The track of a playlist item, reading `item` (2026) and `track` (older); None for empty items
    and episodes."""
    if not isinstance(item, dict):
        return None
    obj = item.get("item")
    if not isinstance(obj, dict):
        obj = item.get("track")
    if not isinstance(obj, dict):
        return None
    if obj.get("type") not in (None, "track"):
        return None
    return obj

