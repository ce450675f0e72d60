"""What the listener already knows or keeps out, and the never-heard filter that removes it from
candidates: the one home of "never recommend this".

Known: every track the listener has met (saved, top, recent, own playlists, like/dislike lists),
what tastebot put in a playlist within the no-repeats window (`Settings.repeat_window_days`, lifted
by `--allow-repeats`), the same songs under other ids (same ISRC, or the same normalised title and
primary artist: "Song - Remastered 2011", "Song (Live)", "Song (feat. X)" are all "song"), and
their artists (for `--new-artists-only`). Excluded: the tracks and artists of `tastebot exclude`,
never recommended whatever the options.

The rules, each named for its use (they differ on purpose):
- `Known` + `never_heard`: recommend's rule, what a candidate must not be (above);
- `SamplingExclusions`: the harvest's rule for weak negatives: what the listener knows (ids, ISRCs,
  title+artist keys; optionally without earlier samples, so a replayed draw finds them again), any
  track by an artist of a liked song (likely liked too), and what this run already drew;
- the store's known sets (`Store.known_track_ids`, `known_isrcs`, `known_title_artist_keys`) are the
  SQL both read; SQL stays in tastebot/store/.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from tastebot.names import library_artist_key, title_artist_key


def window_start(days: float, now: datetime | None = None) -> str:
    """The ISO time `days` before now: tastebot's picks since then are not recommended again."""
    now = now or datetime.now(timezone.utc)
    return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Known:
    """What the listener has met or keeps out, for the never-heard filter. `track_ids` holds every
    track id a retriever should skip (met, recent picks, excluded); the other sets say why."""

    track_ids: set[str]
    isrcs: set[str]
    title_keys: set[str]
    artist_ids: set[str]
    artist_names: set[str]
    recent_picks: set[str] = field(default_factory=set)
    excluded_tracks: set[str] = field(default_factory=set)
    excluded_artists: set[str] = field(default_factory=set)
    excluded_artist_names: set[str] = field(default_factory=set)
    repeat_days: float = 0.0

    @classmethod
    def from_store(cls, store, *, repeat_days: float = 30.0, allow_repeats: bool = False,
                   now: datetime | None = None) -> "Known":
        # Sampled negatives are guesses about tracks the listener never met: they stay recommendable
        # (the taste model learnt them as weak dislikes, so they rank low unless the evidence says else).
        ids = set(store.known_track_ids(with_sampled=False))
        isrcs = {i.upper() for i in store.known_isrcs(with_sampled=False) if i}
        keys = set(store.known_title_artist_keys(with_sampled=False))
        artist_ids = set(store.known_artist_ids())
        # what tastebot picked for a playlist within the window: those songs and their artists count as known too
        recent: set[str] = set()
        if not allow_repeats and repeat_days > 0:
            recent = set(store.output_track_ids(since=window_start(repeat_days, now)))
        if recent:
            frame = store.tracks_frame(sorted(recent))
            isrcs |= {str(i).upper() for i in frame["isrc"] if isinstance(i, str) and i}
            for a in frame["artist_ids"]:
                artist_ids.update(x for x in str(a or "").split(",") if x)
        names = {k.split("|", 1)[1] for k in keys if "|" in k}
        excluded_tracks = set(store.excluded_ids("track"))
        excluded_artists = set(store.excluded_ids("artist"))
        excluded_names = {k for k in (library_artist_key(store.name_of("artist", a)) for a in excluded_artists) if k}
        return cls(ids | recent | excluded_tracks, isrcs, keys, artist_ids, names, recent - ids, excluded_tracks,
                   excluded_artists, excluded_names, 0.0 if allow_repeats else repeat_days)

    def excluded(self, track_id: str, artists: list[str], artist_name) -> str | None:
        """Why the listener keeps this track out ('excluded track' / 'excluded artist'), or None."""
        if track_id in self.excluded_tracks:
            return "excluded track"
        if any(a in self.excluded_artists for a in artists) or (
                self.excluded_artist_names and library_artist_key(artist_name) in self.excluded_artist_names):
            return "excluded artist"
        return None


    def knows_song(self, track_id: str | None, isrc: str | None, title: str | None, artist_name: str | None) -> bool:
        """The same test as `never_heard` for one track (without --new-artists-only): known under this
        id, or the same song by ISRC or by normalised title and primary artist."""
        if track_id and track_id in self.track_ids:
            return True
        if isinstance(isrc, str) and isrc and isrc.upper() in self.isrcs:
            return True
        key = title_artist_key(title, artist_name) if isinstance(artist_name, str) else None
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
        key = title_artist_key(row.name, row.artist_name) if isinstance(row.artist_name, str) else None
        artists = [a for a in str(row.artist_ids or "").split(",") if a]
        out = known.excluded(tid, artists, row.artist_name)
        if out:
            removed[out] += 1
        elif tid in known.recent_picks:
            removed[f"tastebot's pick in the last {known.repeat_days:g} days"] += 1
        elif tid in known.track_ids:
            removed["known track"] += 1
        elif isrc and isrc in known.isrcs:
            removed["same ISRC as a known track"] += 1
        elif key and key in known.title_keys:
            removed["same title and artist as a known track"] += 1
        elif new_artists_only and (
            any(a in known.artist_ids for a in artists)
            or library_artist_key(row.artist_name) in known.artist_names
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


class SamplingExclusions:
    """Harvest sampling's rule: what a sampled (weak) negative must not be: anything the listener knows (id, ISRC, title+artist),
    any track by an artist of a known track, anything already drawn in this run. With
    with_sampled=False, earlier sampled negatives are not "known" (a replayed draw finds them again)."""

    def __init__(self, store, *, with_sampled: bool = True):
        self.ids = store.known_track_ids(with_sampled=with_sampled)
        self.isrcs = store.known_isrcs(with_sampled=with_sampled)
        self.keys = store.known_title_artist_keys(with_sampled=with_sampled)
        # Artists of liked songs: their other tracks may well be liked too, so never negatives.
        liked = store.labelled_tracks()
        self.artists = {a for ids in liked.loc[liked["label"] == 1, "artist_ids"] for a in str(ids).split(",") if a}

    def accept_id(self, track_id: str) -> bool:
        return bool(track_id) and track_id not in self.ids

    def accept(self, track: Mapping[str, Any]) -> bool:
        tid = track.get("id")
        if not tid or track.get("is_local") or tid in self.ids:
            return False
        isrc = ((track.get("external_ids") or {}).get("isrc") or "").upper()
        if isrc and isrc in self.isrcs:
            return False
        artists = [a for a in track.get("artists") or [] if isinstance(a, Mapping)]
        if any(a.get("id") in self.artists for a in artists):
            return False
        key = title_artist_key(track.get("name"), artists[0].get("name") if artists else None)
        if key and key in self.keys:
            return False
        self.ids.add(tid)
        if isrc:
            self.isrcs.add(isrc)
        if key:
            self.keys.add(key)
        return True
