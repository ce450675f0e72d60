"""The candidate pool and frame: candidates by id with the tags of the retrievers that found them
(tastebot.recommend.retrievers), the corpus and Spotify records behind them, their names, and the
frame `recommend` ranks. With `--from-playlist`, only `playlist:<id>` (`gather_from_playlists`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from tastebot.errors import RateLimited, SpotifyError
from tastebot.vocab import AUDIO_FEATURES
from tastebot.spotify.refs import parse_playlist_ref, playlist_item_track


class CandidatePool:
    """Candidate tracks by id with their tags; Spotify objects are written to the library store so
    the feature providers and `tracks_frame` can work on them."""

    def __init__(self) -> None:
        self.info: dict[str, dict[str, Any]] = {}
        self.spotify_objects: list[tuple[dict, dict | None]] = []

    def add_spotify(self, track: dict | None, tag: str, album: dict | None = None) -> None:
        if not isinstance(track, dict) or not track.get("id") or track.get("is_local"):
            return
        if track.get("type") not in (None, "track"):
            return
        tid = track["id"]
        artists = [a for a in track.get("artists") or [] if isinstance(a, dict)]
        entry = self.info.get(tid)
        if entry is None:
            entry = self.info[tid] = {
                "name": track.get("name"),
                "artist_name": artists[0].get("name") if artists else None,
                "primary_artist_id": artists[0].get("id") if artists else None,
                "isrc": (track.get("external_ids") or {}).get("isrc"),
                "tags": [],
            }
            self.spotify_objects.append((track, album))
        elif entry.get("corpus_only"):  # Spotify's own object is the better record
            entry["corpus_only"] = False
            self.spotify_objects.append((track, album))
        if tag not in entry["tags"]:
            entry["tags"].append(tag)

    def add_relation(self, track_id: str, text: str) -> None:
        """Why a discovery retriever proposed the track ("related to X, whom you play a lot")."""
        entry = self.info.get(track_id)
        if entry is not None and text not in entry.setdefault("relations", []):
            entry["relations"].append(text)

    def add_corpus(self, meta: dict, tag: str = "corpus") -> None:
        tid = meta["track_id"]
        entry = self.info.get(tid)
        if entry is None:
            entry = self.info[tid] = {
                "name": meta.get("name"), "artist_name": meta.get("artist_name"),
                "primary_artist_id": meta.get("artist_id"), "isrc": None, "tags": [], "corpus_only": True,
            }
        if tag not in entry["tags"]:
            entry["tags"].append(tag)

    def counts(self) -> dict[str, int]:
        c = Counter(t for e in self.info.values() for t in e["tags"])
        return {"total": len(self.info), **dict(sorted(c.items()))}


def safe_source(source: str, fn: Callable[[], None], sources: dict[str, str], warnings: list[str]) -> None:
    """Run one candidate source; a refusal skips it with its reason (rate limits stop the run)."""
    try:
        fn()
        sources.setdefault(source, "used")
    except RateLimited:
        raise
    except SpotifyError as exc:
        sources[source] = f"skipped: {exc.message}"
        warnings.append(f"{source} skipped: {exc.message}")


def gather_from_playlists(client, refs: Sequence[str], pool: CandidatePool) -> None:

    for ref in refs:
        pid = parse_playlist_ref(ref)
        for page in client.playlist_items_pages(pid):
            for item in page.get("items") or []:
                pool.add_spotify(playlist_item_track(item), f"playlist:{pid}")


def add_corpus_ids(store, pool: CandidatePool, ids: Sequence[str], tag: str) -> None:
    new = [t for t in ids if t not in pool.info]
    meta = store.corpus_tracks_frame(new, columns=["name", "artist_name", "artist_id"]) if new else pd.DataFrame()
    by_id = {r["track_id"]: r for r in meta.to_dict("records")} if len(meta) else {}
    for tid in ids:
        pool.add_corpus(by_id.get(tid) or {"track_id": tid}, tag)


def store_corpus_tracks(store, pool: CandidatePool) -> None:
    """Write corpus-only candidates to the library as minimal track objects (id, name, artist,
    album, duration), so the feature providers can fill them. Those it holds already are left as
    they are: a weekly run finds most of last week's candidates there (writing them again took a
    third of an offline run), and what Spotify told of a track is never overwritten by the corpus."""
    corpus_only = [tid for tid, e in pool.info.items() if e.get("corpus_only")]
    stored = store.stored_track_ids(corpus_only)
    objs = []
    for tid in corpus_only:
        e = pool.info[tid]
        if tid in stored:
            continue
        obj: dict[str, Any] = {"id": tid, "type": "track", "name": e.get("name")}
        if e.get("primary_artist_id"):
            obj["artists"] = [{"id": e["primary_artist_id"], "name": e.get("artist_name")}]
        objs.append(obj)
    if objs:
        store.upsert_tracks(objs)


# -- the names of the picks ---------------------------------------------------------------------------
def text_or_none(value) -> str | None:
    """A name, or None for what is not one (NaN, None, empty): never shown as "nan"."""
    return value if isinstance(value, str) and value.strip() else None


def fill_names(store, client, frame: pd.DataFrame, rows: Sequence[int], warnings: list[str]) -> None:
    """Titles and artist names for the picks (positions in `frame`) that lack them, as candidates of a
    corpus imported from ids alone do: from the store first (tracks read before), else from Spotify,
    one track per request (development apps have no batch call), kept in the store for the next runs.
    Only the picks are read, so the requests are bounded by -n. Offline, or when Spotify gives none,
    the name stays empty (the pick is shown by its link), and a warning says so."""
    name_at, artist_at = frame.columns.get_loc("name"), frame.columns.get_loc("artist_name")

    def lacking() -> list[int]:
        return [i for i in rows if text_or_none(frame.iat[i, name_at]) is None
                or text_or_none(frame.iat[i, artist_at]) is None]

    def from_store(todo: list[int]) -> None:
        known = store.tracks_frame([frame["track_id"].iat[i] for i in todo])
        if not len(known):
            return
        known = known.drop_duplicates("track_id").set_index("track_id")
        artists = store.artist_names(known["primary_artist_id"].dropna().astype(str).unique().tolist())
        for i in todo:
            tid = frame["track_id"].iat[i]
            if tid not in known.index:
                continue
            if text_or_none(frame.iat[i, name_at]) is None:
                frame.iat[i, name_at] = text_or_none(known.at[tid, "name"])
            if text_or_none(frame.iat[i, artist_at]) is None:
                frame.iat[i, artist_at] = artists.get(known.at[tid, "primary_artist_id"])

    todo = lacking()
    if not todo:
        return
    from_store(todo)
    todo = lacking()
    why = "--offline reads nothing from Spotify"
    if todo and client is not None:
        why = _read_names(store, client, [frame["track_id"].iat[i] for i in todo])
        from_store(todo)
        todo = lacking()
    if todo:
        warnings.append(f"{len(todo)} of the picks have no title or artist name in the corpus and {why}: "
                        "they are shown by their link.")


def _read_names(store, client, track_ids: list[str]) -> str:
    """Read these tracks from Spotify into the store; what stopped it, for the warning."""
    found, why = [], "Spotify has no name for them"
    for tid in track_ids:
        try:
            track = client.track(tid)
        except SpotifyError as exc:
            if exc.status in (400, 404):  # not in the catalogue: no name to read
                continue
            why = f"Spotify could not be read ({exc.message.rstrip('.')})"
            break
        except RateLimited as exc:  # names are not worth a wait: what came is kept
            why = f"Spotify could not be read ({exc.message.rstrip('.')})"
            break
        if isinstance(track, dict) and track.get("id") == tid:
            found.append(track)
    if found:
        with store.transaction():
            store.upsert_tracks(found)
    return why


# -- the frame of candidates ---------------------------------------------------------------------------
def candidate_frame(store, pool: CandidatePool) -> pd.DataFrame:
    ids = list(pool.info)
    frame = store.tracks_frame(ids) if ids else pd.DataFrame(columns=["track_id"])
    have = set(frame["track_id"]) if len(frame) else set()
    missing = [t for t in ids if t not in have]
    if missing:
        extra = pd.DataFrame({"track_id": missing})
        frame = pd.concat([frame, extra], ignore_index=True) if len(frame) else extra
    # Features and metadata a corpus import carried, where the providers gave none.
    cf = store.corpus_tracks_frame(ids)
    if len(cf):
        cf = cf.set_index("track_id")
        idx = frame["track_id"]
        for col in AUDIO_FEATURES + ("duration_ms", "release_year", "popularity"):
            fill = pd.to_numeric(idx.map(cf[col]), errors="coerce")
            if col not in frame.columns:
                frame[col] = np.nan
            cur = pd.to_numeric(frame[col], errors="coerce")
            was_empty = cur.isna() & fill.notna()
            frame[col] = cur.where(cur.notna(), fill)
            if col == AUDIO_FEATURES[0] and "feature_provider" in frame.columns:
                frame.loc[was_empty.to_numpy(), "feature_provider"] = "corpus"
    info = pool.info
    frame["name"] = [
        n if isinstance(n, str) and n else info[t].get("name")
        for t, n in zip(frame["track_id"], frame["name"] if "name" in frame.columns else [None] * len(frame))
    ]
    frame["artist_name"] = [info[t].get("artist_name") for t in frame["track_id"]]
    for col in ("primary_artist_id", "isrc", "artist_ids", "album_id"):
        if col not in frame.columns:
            frame[col] = None
    frame["primary_artist_id"] = [
        a if isinstance(a, str) and a else info[t].get("primary_artist_id")
        for t, a in zip(frame["track_id"], frame["primary_artist_id"])
    ]
    frame["artist_ids"] = [
        a if isinstance(a, str) and a else (p or "") for a, p in zip(frame["artist_ids"], frame["primary_artist_id"])
    ]
    frame["isrc"] = [i if isinstance(i, str) and i else info[t].get("isrc") for t, i in zip(frame["track_id"], frame["isrc"])]
    frame["sources"] = [",".join(info[t]["tags"]) for t in frame["track_id"]]
    frame["relation"] = [(info[t].get("relations") or [None])[0] for t in frame["track_id"]]
    return frame


