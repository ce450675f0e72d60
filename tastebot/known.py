"""What the listener already knows, and the never-heard filter that removes it from candidates.

Known: every track the listener has met (saved, top, recent, own playlists, like/dislike lists,
earlier tastebot playlists), the same songs under other ids (same ISRC, or the same normalised title
and primary artist: "Song - Remastered 2011", "Song (Live)", "Song (feat. X)" are all "song"), and
their artists (for `--new-artists-only`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd


def song_key(title: str | None, artist_name: str | None) -> str | None:
    """The store's normalised 'title|primary artist' (the same function the library area uses)."""
    from tastebot.store.library import title_artist_key

    return title_artist_key(title, artist_name)


@dataclass
class Known:
    """What the listener has met, for the never-heard filter."""

    track_ids: set[str]
    isrcs: set[str]
    title_keys: set[str]
    artist_ids: set[str]
    artist_names: set[str]

    @classmethod
    def from_store(cls, store) -> "Known":
        # Sampled negatives are guesses about tracks the listener never met: they stay recommendable
        # (the taste model learnt them as weak dislikes, so they rank low unless the evidence says else).
        ids = set(store.known_track_ids(with_sampled=False)) | set(store.output_track_ids())
        isrcs = {i.upper() for i in store.known_isrcs(with_sampled=False) if i}
        keys = set(store.known_title_artist_keys(with_sampled=False))
        artist_ids = set(store.known_artist_ids())
        # tastebot's own earlier playlists: their tracks' songs and artists count as known too
        extra = sorted(set(store.output_track_ids()))
        if extra:
            frame = store.tracks_frame(extra)
            isrcs |= {str(i).upper() for i in frame["isrc"] if isinstance(i, str) and i}
            for a in frame["artist_ids"]:
                artist_ids.update(x for x in str(a or "").split(",") if x)
        names = {k.split("|", 1)[1] for k in keys if "|" in k}
        return cls(ids, isrcs, keys, artist_ids, names)


    def knows_song(self, track_id: str | None, isrc: str | None, title: str | None, artist_name: str | None) -> bool:
        """The same test as `never_heard` for one track (without --new-artists-only): known under this
        id, or the same song by ISRC or by normalised title and primary artist."""
        if track_id and track_id in self.track_ids:
            return True
        if isinstance(isrc, str) and isrc and isrc.upper() in self.isrcs:
            return True
        key = song_key(title, artist_name) if isinstance(artist_name, str) else None
        return bool(key and key in self.title_keys)


def never_heard(cands: pd.DataFrame, known: Known, *, new_artists_only: bool = False) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop every candidate the listener has met, under this id or as the same song under another
    one; also duplicates among the candidates themselves (the first row of a song stays)."""
    removed = Counter()
    keep = []
    seen_isrc: set[str] = set()
    seen_key: set[str] = set()
    for row in cands.itertuples(index=False):
        tid = row.track_id
        isrc = str(row.isrc).upper() if isinstance(row.isrc, str) and row.isrc else None
        key = song_key(row.name, row.artist_name) if isinstance(row.artist_name, str) else None
        artists = [a for a in str(row.artist_ids or "").split(",") if a]
        if tid in known.track_ids:
            removed["known track"] += 1
        elif isrc and isrc in known.isrcs:
            removed["same ISRC as a known track"] += 1
        elif key and key in known.title_keys:
            removed["same title and artist as a known track"] += 1
        elif new_artists_only and (
            any(a in known.artist_ids for a in artists)
            or (isinstance(row.artist_name, str) and song_key("x", row.artist_name) is not None
                and song_key("x", row.artist_name).split("|", 1)[1] in known.artist_names)
        ):
            removed["known artist (--new-artists-only)"] += 1
        elif (isrc and isrc in seen_isrc) or (key and key in seen_key):
            removed["duplicate among candidates"] += 1
        else:
            keep.append(True)
            if isrc:
                seen_isrc.add(isrc)
            if key:
                seen_key.add(key)
            continue
        keep.append(False)
    mask = np.array(keep, dtype=bool) if keep else np.zeros(0, dtype=bool)
    return cands[mask].reset_index(drop=True), dict(removed)
