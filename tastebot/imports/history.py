"""`tastebot history import PATH...`: the listener's own Spotify data export as likes, dislikes and
listening sessions.

Reads (formats: docs/history.md, ../shared/spotify/EXPORTS-AND-OPEN-APIS.md):
  extended  `Streaming_History_Audio_*.json` / `endsong_*.json`: one object per play with the track's
            URI, `ts` (end of play, UTC), `ms_played`, `reason_start`, `reason_end`, `shuffle`, `skipped`;
  basic     `StreamingHistory_music_*.json`: `endTime`, `artistName`, `trackName`, `msPlayed` and no
            ids: titles are resolved by Spotify search (bounded per run, remembered in the store);
  library   `YourLibrary.json`: its `tracks` (with URIs) are likes.
from a `my_spotify_data.zip`, a folder (searched recursively) or single files. Files are streamed
entry by entry (ijson), so memory does not grow with the size of the export.

Never read into the store, logs or output: `ip_addr*`, `user_agent*`, `conn_country`, `username`,
`platform` (the username is only compared, in memory, with the account the store belongs to).

What the plays mean is data, in RULES (documented in docs/history.md):
  like     plays to the end, counted with a credit (a deliberate start, `clickrow`/`backbtn`, counts
           more, a track shuffle served less) reaching `like_credit`; weight by credit and recency;
  dislike  early skips (`fwdbtn` or `skipped` within `early_skip_ms`), at least `dislike_skips` of them,
           and never played to the end;
  ignored  podcasts, audiobooks, incognito plays, `trackerror`;
  sessions plays less than `session_gap_minutes` apart form one session; a session's tracks are a
           playlist of the personal co-listening corpus (corpus source `history`).
The signals are derived again from every stored play after each import, so importing the same file
twice changes nothing, and a later export extends what an earlier one gave.

One import is one transaction for the plays: a malformed or foreign file stops it with the file and
entry named, and nothing of any file is kept.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping, Sequence

from tastebot.errors import InputError, NotLoggedIn, RateLimited, SpotifyError, TastebotError
from tastebot.harvest import SOURCES
from tastebot.names import title_artist_key
from tastebot.vocab import iso_time
from tastebot.wording import plural

# -- the rules, as data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    early_skip_ms: int = 30_000            # a play shorter than this that the listener skipped is an early skip
    complete_share: float = 0.8            # without reason_end 'trackdone': played this share of the track
    deliberate_starts: tuple[str, ...] = ("clickrow", "backbtn")
    deliberate_credit: float = 1.5         # a completed play the listener chose
    shuffle_credit: float = 0.6            # one shuffle served
    plain_credit: float = 1.0              # any other (the next track of an album or playlist, autoplay)
    like_credit: float = 2.0               # credit from which a track is a like (two plain plays to the end)
    like_full_credit: float = 8.0          # credit at which the count part of the weight is full
    dislike_skips: int = 2                 # early skips (and no completed play) from which a track is a dislike
    dislike_full_skips: int = 5
    recency_half_life_days: float = 365.0  # a signal this much older than the newest play weighs 3/4
    session_gap_minutes: float = 30.0
    session_min_tracks: int = 3
    ignored_reasons: tuple[str, ...] = ("trackerror",)


RULES = Rules()
SOURCE_LIKE, SOURCE_DISLIKE, SOURCE_LIBRARY = "history_played", "history_skipped", "history_library"
CORPUS_SOURCE = "history"
DEFAULT_LOOKUPS = 1000       # Spotify requests one import may spend on search and track metadata
BATCH = 5000

_EXTENDED_NAME = re.compile(r"^(Streaming_History_Audio_.*|endsong_\d+)\.json$", re.IGNORECASE)
_BASIC_NAME = re.compile(r"^StreamingHistory(_music_)?\d+\.json$", re.IGNORECASE)
_LIBRARY_NAME = re.compile(r"^YourLibrary\.json$", re.IGNORECASE)
_TRACK_URI = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
_ENTRY_TYPES = {  # field -> the JSON types a play may give it (None = null allowed)
    "reason_start": (str, type(None)), "reason_end": (str, type(None)), "shuffle": (bool, type(None)),
    "skipped": (bool, type(None)), "incognito_mode": (bool, type(None)), "offline": (bool, type(None)),
    "master_metadata_track_name": (str, type(None)), "master_metadata_album_artist_name": (str, type(None)),
    "master_metadata_album_album_name": (str, type(None)), "spotify_track_uri": (str, type(None)),
}


# -- the files ---------------------------------------------------------------------------------------

@dataclass
class ExportFile:
    name: str                          # for messages: path, or zip path + member
    opener: Callable[[], BinaryIO]
    size: int


def _wanted(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return bool(_EXTENDED_NAME.match(base) or _BASIC_NAME.match(base) or _LIBRARY_NAME.match(base))


def expand_paths(paths: Sequence[str | os.PathLike]) -> list[ExportFile]:
    """The export files among the paths: a zip (its members), a folder (searched recursively for the
    history and library files; other files of the export are not read) or a single JSON file."""
    out: list[ExportFile] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*.json") if _wanted(f.name))
            if not found:
                raise InputError(f"{p}: no Spotify listening history in this folder (Streaming_History_Audio_*.json, "
                                 "endsong_*.json, StreamingHistory_music_*.json or YourLibrary.json).")
            out += [ExportFile(str(f), (lambda f=f: open(f, "rb")), f.stat().st_size) for f in found]
        elif p.is_file() and p.suffix.lower() == ".zip":
            try:
                zf = zipfile.ZipFile(p)
                members = sorted((i for i in zf.infolist() if not i.is_dir() and _wanted(i.filename)),
                                 key=lambda i: i.filename)
            except (zipfile.BadZipFile, OSError) as exc:
                raise InputError(f"{p}: not a readable zip file ({exc}).") from None
            if not members:
                raise InputError(f"{p}: no Spotify listening history in this zip.")
            out += [ExportFile(f"{p}:{i.filename}", (lambda i=i, zf=zf: zf.open(i)), i.file_size) for i in members]
        elif p.is_file():
            if p.suffix.lower() != ".json":
                raise InputError(f"{p}: not a Spotify data export file (expected a .json file, a folder or a .zip).")
            out.append(ExportFile(str(p), (lambda p=p: open(p, "rb")), p.stat().st_size))
        else:
            raise InputError(f"{p}: no such file or folder.")
    return out


class _HashingReader:
    """A binary stream that hashes what is read and can show its first non-blank byte."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.head = b""

    def first_byte(self) -> bytes:
        while True:
            chunk = self.raw.read(1 << 16)
            self.sha.update(chunk)
            self.head += chunk
            stripped = self.head.lstrip(b" \t\r\n\xef\xbb\xbf")
            if stripped or not chunk:
                return stripped[:1]

    def read(self, n: int = -1) -> bytes:
        if n == 0:
            return b""
        if self.head:
            if n < 0:
                n = len(self.head)
            out, self.head = self.head[:n], self.head[n:]
            return out
        chunk = self.raw.read(n)
        self.sha.update(chunk)
        return chunk


# -- parsing one play --------------------------------------------------------------------------------

_PLAIN_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _time(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if _PLAIN_UTC.match(value):  # the export's own form: skip the datetime round trip (100,000s of plays)
        return value[:19] + ".000Z"
    try:
        return iso_time(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class FileCounts:
    name: str
    format: str = ""
    entries: int = 0
    plays: int = 0
    new_plays: int = 0
    ignored: dict[str, int] = field(default_factory=dict)
    library_tracks: int = 0
    seen_before: bool = False

    def ignore(self, why: str) -> None:
        self.ignored[why] = self.ignored.get(why, 0) + 1


class _Account:
    """The account the export must belong to: the store's, the logged-in one, or the first file's.
    The username is compared here and never kept anywhere else."""

    def __init__(self, known: str | None, whose: str):
        self.known, self.whose = known, whose

    def check(self, username: Any, where: str) -> None:
        if not isinstance(username, str) or not username:
            return
        if self.known is None:
            self.known, self.whose = username, "the earlier plays of this import"
        elif username != self.known:
            raise InputError(f"{where}: this play belongs to another Spotify account than {self.whose}; "
                             "tastebot imports only your own listening history. Nothing was imported.")


def _extended_play(entry: dict, where: str, counts: FileCounts) -> tuple | None:
    """(ts, item, format, track_id, ms, reason_start, reason_end, shuffle, skipped) and the names, or None
    for a play that is ignored (counted)."""
    ts = _time(entry.get("ts"))
    if ts is None:
        raise InputError(f"{where}: \"ts\" is missing or not a time; not a play of a Spotify streaming history.")
    ms = entry.get("ms_played")
    if not _is_int(ms) or ms < 0:
        raise InputError(f"{where}: \"ms_played\" is missing or not a whole number of milliseconds.")
    for key, types in _ENTRY_TYPES.items():
        value = entry.get(key)
        if value is not None and not isinstance(value, types):
            raise InputError(f"{where}: \"{key}\" has the wrong type.")
    uri = entry.get("spotify_track_uri")
    if uri is None:
        if entry.get("spotify_episode_uri") or entry.get("episode_name"):
            counts.ignore("podcast")
        elif entry.get("audiobook_uri") or entry.get("audiobook_title") or entry.get("audiobook_chapter_uri"):
            counts.ignore("audiobook")
        else:
            counts.ignore("no_track")
        return None
    m = _TRACK_URI.match(uri)
    if m is None:
        if uri.startswith("spotify:local:"):
            counts.ignore("local_file")
            return None
        raise InputError(f"{where}: \"spotify_track_uri\" is not a Spotify track URI.")
    if entry.get("incognito_mode"):
        counts.ignore("incognito")
        return None
    start, end = entry.get("reason_start"), entry.get("reason_end")
    if start in RULES.ignored_reasons or end in RULES.ignored_reasons:
        counts.ignore("trackerror")
        return None
    tid = m.group(1)
    shuffle, skipped = entry.get("shuffle"), entry.get("skipped")
    return (ts, tid, "extended", tid, ms, start, end,
            None if shuffle is None else int(shuffle), None if skipped is None else int(skipped))


def item_key(title: Any, artist: Any) -> str | None:
    """The basic export's key of a song: the normalised 'title|artist' (`title_artist_key`), or for a
    title that normalises to nothing (all in brackets, say) the plain lower-cased pair."""
    if not isinstance(title, str) or not isinstance(artist, str) or not title.strip() or not artist.strip():
        return None
    return title_artist_key(title, artist) or f"{title.strip().lower()}|{artist.strip().lower()}"


def _basic_play(entry: dict, where: str, counts: FileCounts) -> tuple | None:
    ts = _time(entry.get("endTime"))
    if ts is None:
        raise InputError(f"{where}: \"endTime\" is missing or not a time; not a play of a Spotify streaming history.")
    ms = entry.get("msPlayed")
    if not _is_int(ms) or ms < 0:
        raise InputError(f"{where}: \"msPlayed\" is missing or not a whole number of milliseconds.")
    track, artist = entry.get("trackName"), entry.get("artistName")
    if not isinstance(track, (str, type(None))) or not isinstance(artist, (str, type(None))):
        raise InputError(f"{where}: \"trackName\" or \"artistName\" is not text.")
    key = item_key(track, artist)
    if key is None or track == "Unknown Track" or artist == "Unknown Artist":
        counts.ignore("no_track")
        return None
    return (ts, key, "basic", None, ms, None, None, None, None)


# -- the import --------------------------------------------------------------------------------------

@dataclass
class HistorySummary:
    files: list[FileCounts] = field(default_factory=list)
    plays_read: int = 0
    plays_new: int = 0
    ignored: dict[str, int] = field(default_factory=dict)
    searched: int = 0
    resolved_by_search: int = 0
    unresolved: dict[str, int] = field(default_factory=dict)
    metadata_fetched: int = 0
    metadata_missing: int = 0
    lookups_skipped: str = ""
    signals: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # what this import changed in the signals
    sessions: dict[str, int] = field(default_factory=dict)
    history: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "files"}
        out["files"] = [{k: v for k, v in vars(f).items()} for f in self.files]
        return out


class Reporter:
    """Progress hooks; the CLI shows them. The default does nothing."""

    def file(self, name: str, size: int) -> None: ...
    def entries(self, n: int) -> None: ...
    def notice(self, text: str) -> None: ...


def import_history(store, paths: Sequence[str | os.PathLike], *, client=None, lookups: int = DEFAULT_LOOKUPS,
                   reporter: Reporter | None = None, rules: Rules = RULES) -> HistorySummary:
    """Import export files into the store and derive likes, dislikes and sessions from every stored play.

    `client` (a SpotifyClient, or None to stay offline) resolves basic-export titles by search and
    fetches metadata of tracks that became signals, at most `lookups` requests this run. Raises
    InputError (nothing imported) for a file that is not a listening history of this account."""
    reporter = reporter or Reporter()
    files = expand_paths(paths)
    summary = HistorySummary()
    account = _known_account(store, client)
    with store.transaction():
        for f in files:
            summary.files.append(_import_file(store, f, account, reporter))
    for f in summary.files:
        summary.plays_read += f.plays
        summary.plays_new += f.new_plays
        for why, n in f.ignored.items():
            summary.ignored[why] = summary.ignored.get(why, 0) + n
    budget = [max(0, int(lookups))]
    if client is not None and budget[0] > 0:
        try:
            _resolve_by_search(store, client, budget, summary, reporter)
        except (NotLoggedIn, RateLimited, SpotifyError) as exc:
            summary.lookups_skipped = exc.message
            reporter.notice(f"Spotify lookups stopped: {exc.message.rstrip('.')}. What the export itself says is "
                            "imported; run the import again later to resolve the rest.")
            client = None
    elif client is None:
        summary.lookups_skipped = "offline"
    derived = _derive_with_metadata(store, client, budget, summary, reporter, rules)
    summary.metadata_missing = len(store.history_tracks_without_metadata(derived.signal_track_ids()))
    before = _signal_ids(store)
    summary.signals = write_signals(store, derived)
    summary.changed = _changes(before, _signal_ids(store))
    summary.sessions = write_sessions(store, derived, rules)
    summary.unresolved = store.history_unresolved_counts()
    summary.history = store.history_counts()
    return summary


def _derive_with_metadata(store, client, budget: list[int], summary: HistorySummary, reporter: Reporter,
                          rules: Rules) -> Derived:
    """Derive the signals, fetching the metadata of the tracks that became signals. A track's length
    decides whether a play without `reason_end` counts as played to the end, so a lookup can change
    the signals: derive again until no lookup is made (or the budget is spent). Deriving once before
    the lookups made the next import of the same files change the likes and dislikes."""
    derived = derive(store, rules)
    while client is not None:
        fetched = summary.metadata_fetched
        try:
            _fetch_metadata(store, client, derived.signal_track_ids(), budget, summary, reporter)
        except (NotLoggedIn, RateLimited, SpotifyError) as exc:
            summary.lookups_skipped = exc.message
            reporter.notice(f"Spotify lookups stopped: {exc.message.rstrip('.')}. The rest is looked up on the "
                            "next import.")
            client = None
        if summary.metadata_fetched == fetched:
            break
        derived = derive(store, rules)
    return derived


def _signal_ids(store) -> dict[str, set[str]]:
    return {"likes": store.signal_track_ids(SOURCE_LIKE), "dislikes": store.signal_track_ids(SOURCE_DISLIKE),
            "library_likes": store.signal_track_ids(SOURCE_LIBRARY)}


def _changes(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, int]:
    """{"likes added": n, "dislikes removed": m, ...}: what writing the signals changed (only non-zero)."""
    out = {}
    for kind in before:
        for word, ids in (("added", after[kind] - before[kind]), ("removed", before[kind] - after[kind])):
            if ids:
                out[f"{kind.replace('_', ' ')} {word}"] = len(ids)
    return out


def _known_account(store, client) -> _Account:
    owner = store.get_state("user_id")
    if owner:
        return _Account(owner, "the one this store belongs to")
    if client is not None:
        try:
            me = client.me()
        except (NotLoggedIn, SpotifyError):
            return _Account(None, "")
        if me.get("id"):
            return _Account(str(me["id"]), "the one you are logged in as")
    return _Account(None, "")


def _import_file(store, f: ExportFile, account: _Account, reporter: Reporter) -> FileCounts:
    import ijson

    counts = FileCounts(f.name)
    reporter.file(f.name, f.size)
    try:
        raw = f.opener()
    except OSError as exc:
        raise InputError(f"Cannot read {f.name}: {exc.strerror or exc}.") from None
    with raw:
        reader = _HashingReader(raw)
        try:
            first = reader.first_byte()
            if first == b"{":
                counts.format = "library"
                _import_library(store, reader, f.name, counts, ijson)
            elif first == b"[":
                _import_plays(store, reader, f.name, counts, account, reporter, ijson)
            else:
                raise InputError(f"{f.name}: not a Spotify listening history (not a JSON list of plays).")
        except ijson.JSONError as exc:
            raise InputError(f"{f.name}: not valid JSON after entry {counts.entries} ({_short(exc)}).") from None
        except UnicodeDecodeError:
            raise InputError(f"{f.name}: not a UTF-8 text file.") from None
        except OSError as exc:
            raise InputError(f"Cannot read {f.name}: {exc.strerror or exc}.") from None
        except zipfile.BadZipFile as exc:
            raise InputError(f"{f.name}: the zip is damaged ({exc}).") from None
        while reader.read(1 << 16):  # hash to the end (trailing blanks)
            pass
    counts.seen_before = not store.history_add_file(reader.sha.hexdigest(), f.name.rsplit("/", 1)[-1],
                                                    counts.format or "empty", counts.entries)
    return counts


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _import_plays(store, reader, name: str, counts: FileCounts, account: _Account, reporter: Reporter, ijson) -> None:
    rows: list[tuple] = []
    items: dict[str, tuple] = {}
    seen_items: set[str] = set()

    def flush() -> None:
        if rows:
            counts.new_plays += store.history_add_plays(rows)
            reporter.entries(len(rows))
            rows.clear()
        if items:
            store.history_add_items(items.values())
            items.clear()

    for n, entry in enumerate(ijson.items(reader, "item", use_float=True), start=1):
        counts.entries = n
        where = f"{name}: entry {n}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: not an object; not a play of a Spotify streaming history.")
        if n == 1:
            if "ts" in entry or "ms_played" in entry:
                counts.format = "extended"
            elif "endTime" in entry or "msPlayed" in entry:
                counts.format = "basic"
            else:
                raise InputError(f"{where}: not a play of a Spotify streaming history (no \"ts\" or \"endTime\").")
        account.check(entry.get("username"), where)
        if counts.format == "extended":
            play = _extended_play(entry, where, counts)
            if play is not None and play[1] not in seen_items:
                seen_items.add(play[1])
                track = entry.get("master_metadata_track_name")
                artist = entry.get("master_metadata_album_artist_name")
                items[play[1]] = (play[1], track, artist, entry.get("master_metadata_album_album_name"),
                                  title_artist_key(track, artist), play[1])
        else:
            play = _basic_play(entry, where, counts)
            if play is not None and play[1] not in seen_items:
                seen_items.add(play[1])
                items[play[1]] = (play[1], entry.get("trackName"), entry.get("artistName"), None, play[1], None)
        if play is not None:
            rows.append(play)
            counts.plays += 1
            if len(rows) >= BATCH:
                flush()
    flush()
    counts.format = counts.format or "empty"


# The top-level keys of a YourLibrary.json; a JSON object with none of them is not one.
_LIBRARY_KEYS = frozenset({"tracks", "albums", "artists", "shows", "episodes", "bannedTracks", "other"})


def _import_library(store, reader, name: str, counts: FileCounts, ijson) -> None:
    ids: list[str] = []
    items: list[tuple] = []
    top: dict[str, str] = {}  # top-level key -> the event its value starts with

    def events():
        key = None
        for prefix, event, value in ijson.parse(reader, use_float=True):
            if prefix == "" and event == "map_key":
                key = value
            elif key is not None and prefix == key and key not in top:
                top[key] = event
            yield prefix, event, value

    for n, entry in enumerate(ijson.items(events(), "tracks.item"), start=1):
        counts.entries = n
        where = f"{name}: tracks entry {n}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: not an object; not a Spotify YourLibrary.json.")
        uri = entry.get("uri")
        m = _TRACK_URI.match(uri) if isinstance(uri, str) else None
        if m is None:
            if isinstance(uri, str) and uri.startswith("spotify:local:"):
                counts.ignore("local_file")
                continue
            raise InputError(f"{where}: \"uri\" is missing or not a Spotify track URI.")
        track, artist, album = entry.get("track"), entry.get("artist"), entry.get("album")
        if not all(isinstance(v, (str, type(None))) for v in (track, artist, album)):
            raise InputError(f"{where}: \"track\", \"artist\" or \"album\" is not text.")
        ids.append(m.group(1))
        items.append((m.group(1), track, artist, album, title_artist_key(track, artist), m.group(1)))
    if not _LIBRARY_KEYS & set(top):
        raise InputError(f"{name}: not a Spotify YourLibrary.json or listening history (a JSON object without "
                         "\"tracks\"; a listening history is a list of plays).")
    if top.get("tracks", "start_array") != "start_array":
        raise InputError(f"{name}: \"tracks\" is not a list; not a Spotify YourLibrary.json.")
    store.history_add_items(items)
    counts.library_tracks = store.history_add_library(ids)
    counts.plays = 0


# -- Spotify lookups (bounded) -----------------------------------------------------------------------

def _resolve_by_search(store, client, budget: list[int], summary: HistorySummary, reporter: Reporter) -> None:
    """Basic-export titles to track ids by search, most played first; a miss is remembered too."""
    todo = store.history_unsearched_items(limit=budget[0])
    if not todo:
        return
    found: dict[str, str | None] = {}
    tracks: list[dict] = []
    for item in todo:
        if budget[0] <= 0:
            break
        title = (item["track_name"] or "").replace('"', " ")
        artist = (item["artist_name"] or "").replace('"', " ")
        budget[0] -= 1
        answer = client.search(f'track:"{title}" artist:"{artist}"', type="track", limit=10)
        summary.searched += 1
        hit = None
        for t in ((answer.get("tracks") or {}).get("items") or []):
            if not isinstance(t, dict) or not t.get("id"):
                continue
            names = [a.get("name") for a in t.get("artists") or [] if isinstance(a, dict)]
            if any(item_key(t.get("name"), a) == item["item"] for a in names):
                hit = t
                break
        found[item["item"]] = hit["id"] if hit else None
        if hit:
            tracks.append(hit)
            summary.resolved_by_search += 1
        if len(found) >= 50:
            _store_found(store, found, tracks)
            found, tracks = {}, []
    _store_found(store, found, tracks)


def _store_found(store, found: dict[str, str | None], tracks: list[dict]) -> None:
    if not found:
        return
    with store.transaction():
        store.upsert_tracks(tracks)
        store.history_resolve_items(found)


def _fetch_metadata(store, client, track_ids: Sequence[str], budget: list[int], summary: HistorySummary,
                    reporter: Reporter) -> None:
    """Spotify metadata (artists, album, duration) of the tracks that became signals, one GET each."""
    todo = store.history_tracks_without_metadata(track_ids)
    batch: list[dict] = []
    for tid in todo:
        if budget[0] <= 0:
            break
        budget[0] -= 1
        try:
            track = client.track(tid)
        except SpotifyError as exc:
            if exc.status in (400, 404):  # gone from the catalogue: keep what the export says
                continue
            raise
        if isinstance(track, dict):
            batch.append(track)
            summary.metadata_fetched += 1
        if len(batch) >= 50:
            store.upsert_tracks(batch)
            batch = []
    if batch:
        store.upsert_tracks(batch)


# -- deriving likes, dislikes and sessions -----------------------------------------------------------

@dataclass
class TrackPlays:
    plays: int = 0
    completed: int = 0
    credit: float = 0.0
    early_skips: int = 0
    last_completed: str = ""
    last_skip: str = ""


@dataclass
class Derived:
    tracks: dict[str, TrackPlays]
    newest: str
    likes: dict[str, tuple[float, str]]      # track id -> (weight, at)
    dislikes: dict[str, tuple[float, str]]
    sessions: list[tuple[str, list[str]]]    # (first play's end time, distinct tracks listened to)
    library: list[str]

    def signal_track_ids(self) -> list[str]:
        return sorted(set(self.likes) | set(self.dislikes) | set(self.library))


def classify(ms: int, reason_start: str | None, reason_end: str | None, shuffle: int | None, skipped: int | None,
             duration_ms: float | None, rules: Rules = RULES) -> tuple[bool, bool, float]:
    """(completed, early skip, credit of a completed play) of one play, by the rules."""
    completed = reason_end == "trackdone" or (
        duration_ms is not None and duration_ms > 0 and ms >= rules.complete_share * duration_ms)
    early = (not completed and ms < rules.early_skip_ms
             and (bool(skipped) or reason_end == "fwdbtn" or (reason_end is None and skipped is None)))
    if reason_start in rules.deliberate_starts:
        credit = rules.deliberate_credit
    elif shuffle:
        credit = rules.shuffle_credit
    else:
        credit = rules.plain_credit
    return completed, early, credit


def _days_between(a: str, b: str) -> float:
    da = datetime.fromisoformat(a.replace("Z", "+00:00"))
    db = datetime.fromisoformat(b.replace("Z", "+00:00"))
    return abs((db - da).total_seconds()) / 86400.0


def _recency(at: str, newest: str, rules: Rules) -> float:
    return 0.5 + 0.5 * 0.5 ** (_days_between(at, newest) / rules.recency_half_life_days)


def derive(store, rules: Rules = RULES) -> Derived:
    """One pass over every stored play, in time order: per-track counts and the sessions. Memory grows
    with the number of distinct tracks and of sessions (their track lists), not with the plays."""
    tracks: dict[str, TrackPlays] = {}
    sessions: list[tuple[str, list[str]]] = []
    gap_ms = rules.session_gap_minutes * 60_000
    current: dict[str, None] = {}
    session_start = ""
    last_end_ms: float | None = None
    newest = ""
    for ts, tid, _fmt, ms, rs, re_, shuffle, skipped, duration in store.history_play_rows():
        completed, early, credit = classify(ms, rs, re_, shuffle, skipped, duration, rules)
        tp = tracks.get(tid)
        if tp is None:
            tp = tracks[tid] = TrackPlays()
        tp.plays += 1
        if completed:
            tp.completed += 1
            tp.credit += credit
            tp.last_completed = ts
        elif early:
            tp.early_skips += 1
            tp.last_skip = ts
        newest = ts
        end_ms = datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000.0
        start_ms = end_ms - ms
        if last_end_ms is None or start_ms - last_end_ms > gap_ms:
            if len(current) >= rules.session_min_tracks:
                sessions.append((session_start, list(current)))
            current, session_start = {}, ts
        if not early and ms >= rules.early_skip_ms:
            current[tid] = None
        last_end_ms = end_ms if last_end_ms is None else max(last_end_ms, end_ms)
    if len(current) >= rules.session_min_tracks:
        sessions.append((session_start, list(current)))

    likes: dict[str, tuple[float, str]] = {}
    dislikes: dict[str, tuple[float, str]] = {}

    for tid, tp in tracks.items():
        if tp.credit >= rules.like_credit:
            span = max(rules.like_full_credit - rules.like_credit, 1e-9)
            count = 0.5 + 0.5 * min(1.0, (tp.credit - rules.like_credit) / span)
            weight = SOURCES[SOURCE_LIKE].weight * count * _recency(tp.last_completed, newest, rules)
            likes[tid] = (round(weight, 4), tp.last_completed)
        elif tp.completed == 0 and tp.early_skips >= rules.dislike_skips:
            span = max(rules.dislike_full_skips - rules.dislike_skips, 1)
            count = 0.5 + 0.5 * min(1.0, (tp.early_skips - rules.dislike_skips) / span)
            weight = SOURCES[SOURCE_DISLIKE].weight * count * _recency(tp.last_skip, newest, rules)
            dislikes[tid] = (round(weight, 4), tp.last_skip)
    return Derived(tracks, newest, likes, dislikes, sessions, store.history_library_ids())


def write_signals(store, derived: Derived) -> dict[str, int]:
    """Replace the history's signals with those derived (one transaction). Tracks the store has no row
    for get one from what the export says (name, title and artist), so the signals can hang on it."""
    ids = derived.signal_track_ids()
    names = store.history_track_names(ids)
    bare = [(t, names.get(t, {}).get("name"), title_artist_key(names.get(t, {}).get("name"),
                                                                names.get(t, {}).get("artist_name"))) for t in ids]

    def rows(source: str, signals: Mapping[str, tuple[float, str]]) -> list[dict]:
        s = SOURCES[source]
        return [{"track_id": t, "source": source, "kind": s.kind, "strength": s.strength, "weight": w, "at": at}
                for t, (w, at) in sorted(signals.items())]

    library = {t: (SOURCES[SOURCE_LIBRARY].weight, None) for t in derived.library}
    with store.transaction():
        store.history_add_bare_tracks(bare)
        store.remove_signals(SOURCE_LIKE, keep=derived.likes)
        store.remove_signals(SOURCE_DISLIKE, keep=derived.dislikes)
        store.add_signals(rows(SOURCE_LIKE, derived.likes))
        store.add_signals(rows(SOURCE_DISLIKE, derived.dislikes))
        # YourLibrary.json has no dates: a library like is dated when first imported, and stays so.
        store.add_signals(rows(SOURCE_LIBRARY, library), keep_first_time=True)
    return {"likes": len(derived.likes), "dislikes": len(derived.dislikes), "library_likes": len(derived.library)}


def write_sessions(store, derived: Derived, rules: Rules = RULES) -> dict[str, int]:
    """Sessions not stored yet become playlists of the corpus (source `history`), in one corpus run."""
    import numpy as np

    have = store.corpus_playlist_external_ids(CORPUS_SOURCE)
    new = [(f"{CORPUS_SOURCE}:{start}", members) for start, members in derived.sessions
           if f"{CORPUS_SOURCE}:{start}" not in have]
    out = {"sessions": len(derived.sessions), "new": len(new)}
    if not new:
        return out
    ids = sorted({t for _, members in new for t in members})
    names = store.history_track_names(ids)
    meta = {t: {"name": names.get(t, {}).get("name"), "artist_name": names.get(t, {}).get("artist_name")}
            for t in ids}
    run = store.corpus_begin_import([CORPUS_SOURCE])
    try:
        with store.transaction() as conn:
            idx = store.corpus_track_idxs(conn, run, meta)
            rows = [(ext, f"listening session {ext.split(':', 1)[1][:10]}", None,
                     np.fromiter((idx[t] for t in members), dtype="<i4", count=len(members)))
                    for ext, members in new]
            store.corpus_put_playlists(conn, run, CORPUS_SOURCE, rows)
        store.corpus_finish_import(run)
    except BaseException:
        try:
            store.corpus_discard_unfinished()
        except TastebotError:
            pass
        raise
    return out


def describe(summary: HistorySummary) -> list[str]:
    """Lines a person reads about an import (the CLI prints them)."""
    lines = []
    for f in summary.files:
        what = (f"{plural(f.library_tracks, 'new library track')}" if f.format == "library"
                else f"{plural(f.plays, 'play')} ({f.new_plays:,} new)")
        lines.append(f"{f.name}: {f.format}, {what}" + (" (imported before)" if f.seen_before else ""))
    if summary.ignored:
        lines.append("Ignored: " + ", ".join(f"{n:,} {why.replace('_', ' ')}" for why, n in sorted(summary.ignored.items())))
    if summary.unresolved.get("items"):
        u = summary.unresolved
        lines.append(f"{plural(u['items'], 'title')} of the basic export ({plural(u['plays'], 'play')}) not matched to "
                     f"a Spotify track" + (f", {u['not_searched']:,} not searched yet (run again)" if u["not_searched"] else ""))
    new_sessions = summary.sessions.get("new", 0)
    if not summary.plays_new and not any(f.library_tracks for f in summary.files) and (summary.changed or new_sessions):
        done = [f"{plural(n, what.rsplit(' ', 1)[0][:-1])} {what.rsplit(' ', 1)[1]}" for what, n in summary.changed.items()]
        if new_sessions:
            done.append(f"{plural(new_sessions, 'listening session')} added to the corpus")
        lines.append("Nothing new in the files, but what was derived from the stored plays was behind them (an "
                     "earlier import stopped before the end, or track lengths were looked up since): repaired "
                     + ", ".join(done) + ".")
    if summary.metadata_missing:
        lines.append(f"{plural(summary.metadata_missing, 'track')} still without Spotify metadata "
                     "(the next import or harvest looks them up)")
    return lines
