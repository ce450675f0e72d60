"""`tastebot corpus import PATH...`: playlist collections for the collaborative score.

Two formats:
- the Spotify Million Playlist Dataset's JSON slices (`mpd.slice.*.json`): streamed one playlist at a
  time by a small incremental parser (`iter_mpd_playlists`), never loaded whole;
- CSV with at least `playlist_id,track_id`; extra columns are read when present (track and artist
  names, popularity, album, release date, playlist name and genre, and the audio features), as in
  the TidyTuesday Spotify songs table. Rows need not be grouped by playlist.

Memory stays bounded whatever the size: playlists are written in batches, each batch in one
transaction, and track ids are turned into integer indexes through the store, not a dict of all of
them. A file that is not what it should be stops the import with a one-line InputError and the whole
run is removed again, so bad input never changes what was stored before.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from tastebot.errors import InputError, NotEnoughData, TastebotError
from tastebot.providers.audio_features import FeatureChain
from tastebot.providers.reccobeats import ReccoBeatsClient
from tastebot.vocab import AUDIO_FEATURES

BATCH_PLAYLISTS = 500
CACHE_TRACKS = 250_000  # per generation of _KnownTracks
_READ_SIZE = 1 << 16
_TRACK_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_WS = " \t\r\n"


@dataclass
class ImportSummary:
    files: int = 0
    playlists: int = 0
    pairs: int = 0
    new_tracks: int = 0
    skipped_existing: int = 0
    skipped_rows: int = 0
    features_refused: int = 0  # tracks whose audio features were values no track can have (metadata kept)
    per_file: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# ---------------------------------------------------------------------------------------------
# A streaming reader for {"info": {...}, "playlists": [ {...}, ... ]}
# ---------------------------------------------------------------------------------------------
class _Reader:
    """Characters of a text file with a sliding buffer; raw_decode parses one value at a time."""

    def __init__(self, fh: io.TextIOBase, path: Path):
        self.fh, self.path = fh, path
        self.buf, self.pos, self.eof = "", 0, False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(_READ_SIZE)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def expect(self, ch: str) -> None:
        got = self.peek()
        if got != ch:
            raise InputError(f"{self.path}: not an MPD slice (expected {ch!r}, found {got or 'the end of the file'!r}).")
        self.pos += 1

    def value(self):
        """Decode the next JSON value, reading more of the file until it is complete."""
        self.peek()
        if len(self.buf) - self.pos < _READ_SIZE // 2:
            # Top up first: a playlist cut at the buffer's end is decoded twice, and an MPD playlist
            # averages ~20 KB, so with at least half a buffer ahead few are.
            self._fill()
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # Incomplete in the buffer: read more; at the end of the file it is truly broken.
                if self._fill():
                    continue
                raise InputError(f"{self.path}: not valid JSON ({exc.msg}).") from None
            # A number at the buffer's edge may be cut short: make sure something follows it.
            if end >= len(self.buf) and not self.eof and self._fill():
                continue
            self.pos = end
            return obj


def iter_mpd_playlists(path: Path) -> Iterator[dict]:
    """Yield the playlists of one MPD slice one by one, holding at most one playlist in memory."""
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from None
    with fh:
        r = _Reader(fh, path)
        try:
            r.expect("{")
            seen_playlists = False
            while True:
                if r.peek() == "}":
                    break
                key = r.value()
                if not isinstance(key, str):
                    raise InputError(f"{path}: not an MPD slice (a key is not a string).")
                r.expect(":")
                if key == "playlists":
                    seen_playlists = True
                    r.expect("[")
                    if r.peek() == "]":
                        r.pos += 1
                    else:
                        while True:
                            item = r.value()
                            if not isinstance(item, dict):
                                raise InputError(f"{path}: not an MPD slice (a playlist is not an object).")
                            yield item
                            sep = r.peek()
                            r.pos += 1
                            if sep == "]":
                                break
                            if sep != ",":
                                raise InputError(f"{path}: not valid JSON (expected ',' or ']' in playlists).")
                else:
                    r.value()
                sep = r.peek()
                if sep == ",":
                    r.pos += 1
                    continue
                if sep == "}":
                    break
                raise InputError(f"{path}: not valid JSON (expected ',' or '}}').")
            if not seen_playlists:
                raise InputError(f"{path}: not an MPD slice (no \"playlists\" list).")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not a UTF-8 text file.") from None


def _spotify_id(uri: object, kind: str) -> str | None:
    if not isinstance(uri, str):
        return None
    prefix = f"spotify:{kind}:"
    tid = uri[len(prefix) :] if uri.startswith(prefix) else uri
    return tid if _TRACK_ID.match(tid) else None


def _num(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        s = str(value).strip()
        if not s or s.upper() in {"NA", "NAN", "NULL", "NONE"}:
            return None
        try:
            x = float(s)
        except ValueError:
            return None
    return x if math.isfinite(x) else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return None if not s or s == "NA" else s


def _year(value: object) -> int | None:
    s = _text(value)
    if s and len(s) >= 4 and s[:4].isdigit():
        return int(s[:4])
    return None


# ---------------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------------
# external id, name, genre, {track id: metadata, or None for a track known to be stored}
Playlist = tuple[str, str | None, str | None, dict[str, dict | None]]


def _mpd_meta(t: dict) -> dict:
    return {
        "name": _text(t.get("track_name")),
        "artist_name": _text(t.get("artist_name")),
        "artist_id": _spotify_id(t.get("artist_uri"), "artist"),
        "album_id": _spotify_id(t.get("album_uri"), "album"),
        "duration_ms": _num(t.get("duration_ms")),
    }


def _mpd_playlists(path: Path, summary: ImportSummary, known: "_KnownTracks | None" = None) -> Iterator[Playlist]:
    """Playlists of one slice. A track in `known` (stored already) maps to None: its metadata is not
    needed, and reading it for each of the ~66 million pairs of the MPD would cost most of the time."""
    prefix = "spotify:track:"
    if known is None:
        known = _KnownTracks(1)
    for pl in iter_mpd_playlists(path):
        # Read again for each playlist: writing a batch (while this generator waits) may swap them.
        new, old = known.new, known.old
        pid = pl.get("pid")
        tracks = pl.get("tracks")
        if pid is None or not isinstance(tracks, list):
            raise InputError(f"{path}: not an MPD slice (a playlist without \"pid\" or \"tracks\").")
        found: dict[str, dict | None] = {}
        for t in tracks:
            uri = t.get("track_uri") if type(t) is dict else None
            if type(uri) is str and uri[:14] == prefix:
                tid = uri[14:]
                if tid in new or tid in old:  # ids the store holds are valid
                    found[tid] = None
                    continue
            tid = _spotify_id(uri, "track")
            if tid is None:
                summary.skipped_rows += 1
                continue
            found[tid] = _mpd_meta(t)
        yield f"mpd:{pid}", _text(pl.get("name")), None, found


_CSV_ALIASES = {
    "name": ("track_name", "name"),
    "artist_name": ("track_artist", "artist_name", "artist"),
    "artist_id": ("artist_id", "track_artist_id"),
    "album_id": ("track_album_id", "album_id"),
    "popularity": ("track_popularity", "popularity"),
    "release_year": ("track_album_release_date", "release_date", "release_year", "year"),
    "duration_ms": ("duration_ms",),
}


def _csv_playlists(path: Path, summary: ImportSummary, chunk_rows: int = 50_000) -> Iterator[Playlist]:
    try:
        fh = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from None
    with fh:
        try:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise InputError(f"{path}: empty CSV file.")
            cols = [h.strip().lower() for h in header]
            if "playlist_id" not in cols or "track_id" not in cols:
                raise InputError(f"{path}: a corpus CSV needs the columns playlist_id and track_id.")
            at = {c: i for i, c in enumerate(cols)}
            meta_at = {k: next((at[a] for a in aliases if a in at), None) for k, aliases in _CSV_ALIASES.items()}
            feat_at = {f: at[f] for f in AUDIO_FEATURES if f in at}
            p_at, t_at = at["playlist_id"], at["track_id"]
            pname_at, genre_at = at.get("playlist_name"), at.get("playlist_genre")
            width = len(cols)
            pending: dict[str, list] = {}
            n = 0
            for line_no, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != width:
                    raise InputError(f"{path}:{line_no}: {len(row)} fields where the header has {width}.")
                pid = row[p_at].strip()
                tid = _spotify_id(row[t_at].strip(), "track")
                if not pid or tid is None:
                    summary.skipped_rows += 1
                    continue
                meta: dict = {}
                for k, i in meta_at.items():
                    if i is None:
                        continue
                    v = row[i]
                    meta[k] = (
                        _year(v) if k == "release_year" else _num(v) if k in ("popularity", "duration_ms") else _text(v)
                    )
                for f, i in feat_at.items():
                    meta[f] = _num(row[i])
                entry = pending.get(pid)
                if entry is None:
                    entry = pending[pid] = [
                        _text(row[pname_at]) if pname_at is not None else None,
                        _text(row[genre_at]) if genre_at is not None else None,
                        {},
                    ]
                entry[2][tid] = meta
                n += 1
                if n >= chunk_rows:  # bounded memory: hand over what is gathered; the store merges repeats
                    for key, (name, genre, tracks) in pending.items():
                        yield key, name, genre, tracks
                    pending, n = {}, 0
            for key, (name, genre, tracks) in pending.items():
                yield key, name, genre, tracks
        except csv.Error as exc:
            raise InputError(f"{path}: not a readable CSV file ({exc}).") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: not a UTF-8 text file.") from None


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".json"):
        return "mpd"
    if name.endswith(".csv") or name.endswith(".tsv"):
        return "csv"
    raise InputError(f"{path}: unknown corpus format (expected mpd.slice.*.json or a .csv file).")


def expand_paths(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files to import: each path, or for a folder the MPD slices and CSV files inside it."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("mpd.slice.*.json"), key=_slice_order) + sorted(p.glob("*.csv"))
            if not found:
                raise InputError(f"{p}: no mpd.slice.*.json or .csv files in this folder.")
            out += found
        elif p.is_file():
            _kind(p)
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder.")
    return out


def _slice_order(p: Path):
    m = re.search(r"(\d+)", p.name)
    return (int(m.group(1)) if m else 0, p.name)


def import_corpus(
    store,
    paths: Sequence[str | os.PathLike],
    *,
    on_file: Callable[[Path, int], None] | None = None,
    on_playlists: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import the given files (or folders) into the store's corpus as one run.

    `on_file(path, size_bytes)` and `on_playlists(n)` drive a progress display. Raises InputError
    (the run removed again) when a file is not a corpus file.
    """
    files = expand_paths(paths)
    summary = ImportSummary(files=len(files))
    run = store.corpus_begin_import([str(f) for f in files])
    refused_before = store.features_refused
    known = _KnownTracks(CACHE_TRACKS)
    try:
        for path in files:
            if on_file:
                on_file(path, path.stat().st_size)
            kind = _kind(path)
            stream = _mpd_playlists(path, summary, known) if kind == "mpd" else _csv_playlists(path, summary)
            before = (summary.playlists, summary.pairs)
            batch: list[Playlist] = []
            for pl in stream:
                batch.append(pl)
                if len(batch) >= BATCH_PLAYLISTS:
                    _write_batch(store, run, kind, batch, summary, on_playlists, known)
                    batch = []
            if batch:
                _write_batch(store, run, kind, batch, summary, on_playlists, known)
            summary.per_file.append(
                {"path": str(path), "format": kind, "playlists": summary.playlists - before[0], "pairs": summary.pairs - before[1]}
            )
        done = store.corpus_finish_import(run)
        summary.features_refused = store.features_refused - refused_before
    except BaseException as exc:
        # Bad input, Ctrl-C or a bug: take the whole run out again so nothing half-imported remains.
        try:
            store.corpus_discard_unfinished()
        except TastebotError:
            pass
        if isinstance(exc, (TastebotError, KeyboardInterrupt)):
            raise
        if isinstance(exc, OSError):
            raise InputError(f"Cannot read the corpus files: {exc.strerror or exc}.") from None
        raise
    summary.new_tracks = done["new_tracks"]
    summary.playlists, summary.pairs = done["playlists"], done["pairs"]  # merged CSV playlists count once
    return summary


class _KnownTracks:
    """Track id -> corpus index for the tracks this import has stored or looked up, bounded.

    Two generations: a hit in the old one moves it to the new one, and when the new one is full the
    old one is dropped. So the popular tracks (in the MPD, the 250,000 most played carry about 90% of
    the pairs) stay while memory stays under about 2 x CACHE_TRACKS entries (~70 MB), whatever the
    corpus size. Only committed or same-transaction rows go in, and the cache lives for one import.
    """

    def __init__(self, size: int):
        self.size = size
        self.new: dict[str, int] = {}
        self.old: dict[str, int] = {}

    def get(self, tid: str) -> int | None:
        idx = self.new.get(tid)
        if idx is None:
            idx = self.old.get(tid)
            if idx is not None:
                self.put(tid, idx)
        return idx

    def put(self, tid: str, idx: int) -> None:
        self.new[tid] = idx
        if len(self.new) >= self.size:
            self.old, self.new = self.new, {}


def _has_features(meta: dict) -> bool:
    return any(meta.get(f) is not None for f in AUDIO_FEATURES)


def _write_batch(store, run: int, kind: str, batch: list[Playlist], summary: ImportSummary, on_playlists,
                 known: _KnownTracks) -> None:
    idx_of: dict[str, int] = {}
    ask: dict[str, dict | None] = {}  # tracks the store must look up or add
    recent = known.new
    for _, _, _, found in batch:
        for tid, meta in found.items():
            if tid in idx_of:
                if meta is None or not _has_features(meta):
                    continue
            else:
                idx = recent.get(tid)  # the common case, without a method call
                if idx is None:
                    idx = known.get(tid)
                    recent = known.new  # a promotion may have started a new generation
                if idx is not None and (meta is None or not _has_features(meta)):
                    # Stored already and nothing to add: INSERT OR IGNORE would change nothing.
                    idx_of[tid] = idx
                    continue
            have = ask.get(tid)
            if have is None:
                ask[tid] = meta
            elif meta is not None:  # keep whichever fields either row knows
                for k, v in meta.items():
                    if have.get(k) is None and v is not None:
                        have[k] = v
    with store.transaction() as conn:
        if ask:
            got = store.corpus_track_idxs(conn, run, ask)
            idx_of.update(got)
            for tid, idx in got.items():
                known.put(tid, idx)
        rows = [
            (ext, name, genre, np.fromiter(map(idx_of.__getitem__, found), dtype="<i4", count=len(found)))
            for ext, name, genre, found in batch
            if found
        ]
        stored, skipped, pairs = store.corpus_put_playlists(conn, run, kind, rows)
    summary.playlists += stored
    summary.pairs += pairs
    summary.skipped_existing += skipped
    if on_playlists:
        on_playlists(len(batch))


def fetch_corpus_features(settings, store, *, max_tracks: int | None = None, max_requests: int | None = None,
                          progress: Callable[[int, int], None] | None = None,
                          notice: Callable[[str], None] | None = None,
                          countdown: Callable[[float, str], None] | None = None):
    """`tastebot corpus features`: the audio features of the corpus tracks that lack them, from
    ReccoBeats (no login needed; `harvest` asks Spotify first on extended-quota apps), bounded and
    resumable (tastebot.providers.audio_features.FeatureChain.fill_corpus). Returns its CorpusFeatureReport."""
    if not store.corpus_stats()["tracks"]:
        raise NotEnoughData("No corpus imported yet: `tastebot corpus import FILE...` first.")
    chain = FeatureChain(settings, store, None, reccobeats=ReccoBeatsClient(settings, countdown=countdown),
                         progress=lambda provider, done, total: progress and progress(done, total),
                         notice=notice)
    chain.skip("spotify", "this command asks ReccoBeats only (harvest asks Spotify too on extended-quota apps)",
               expected=True)
    return chain.fill_corpus(max_tracks=max_tracks, max_requests=max_requests)
