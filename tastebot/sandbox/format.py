"""The sandbox catalogue's format (tastebot-sandbox-catalog/1): its constants, its validation,
loading a catalogue file, and the corpus CSV export of one.

The format is documented field by field in docs/sandbox-catalog.md. The generator of a world in
this format is tastebot/sandbox/generator.py; this module never imports it.
"""

from __future__ import annotations

import csv
import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from tastebot.errors import InputError
from tastebot.vocab import AUDIO_FEATURES, FEATURE_RANGES, INTEGER_FEATURES

FORMAT = "tastebot-sandbox-catalog/1"

# (low, high, must be an integer) per audio feature, from vocab.
FEATURE_BOUNDS: dict[str, tuple[float, float, bool]] = {
    name: (*FEATURE_RANGES[name], name in INTEGER_FEATURES) for name in AUDIO_FEATURES
}
ALBUM_TYPES = ("album", "single", "compilation")
PRECISIONS = {"year": re.compile(r"^\d{4}$"), "month": re.compile(r"^\d{4}-\d{2}$"),
              "day": re.compile(r"^\d{4}-\d{2}-\d{2}$")}
TIME_RANGES = ("short_term", "medium_term", "long_term")
SECTIONS = ("artists", "albums", "tracks", "audio_features", "users", "playlists", "listener", "hidden")


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------

class _Bad(Exception):
    def __init__(self, path: str, problem: str):
        super().__init__(f"catalog: {path}: {problem}" if path else f"catalog: {problem}")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _field(obj: dict, key: str, path: str) -> Any:
    if key not in obj:
        raise _Bad(f"{path}.{key}", "missing")
    return obj[key]


def _string(obj: dict, key: str, path: str, *, empty_ok: bool = True) -> str:
    value = _field(obj, key, path)
    if not isinstance(value, str):
        raise _Bad(f"{path}.{key}", f"expected a string, got {_kind(value)}")
    if not empty_ok and not value.strip():
        raise _Bad(f"{path}.{key}", "must not be empty")
    return value


def _integer(obj: dict, key: str, path: str, low: int | None = None, high: int | None = None) -> int:
    value = _field(obj, key, path)
    if not _is_int(value):
        raise _Bad(f"{path}.{key}", f"expected an integer, got {_kind(value)} {_show(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise _Bad(f"{path}.{key}", f"{value} is out of range ({bounds})")
    return value


def _boolean(obj: dict, key: str, path: str) -> bool:
    value = _field(obj, key, path)
    if not isinstance(value, bool):
        raise _Bad(f"{path}.{key}", f"expected true or false, got {_kind(value)} {_show(value)}")
    return value


def _list(obj: dict, key: str, path: str) -> list:
    value = _field(obj, key, path)
    if not isinstance(value, list):
        raise _Bad(f"{path}.{key}", f"expected a list, got {_kind(value)}")
    return value


def _object(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise _Bad(path, f"expected an object, got {_kind(value)}")
    return value


def _refs(obj: dict, key: str, path: str, known: dict, what: str, *, non_empty: bool = False) -> list:
    values = _list(obj, key, path)
    if non_empty and not values:
        raise _Bad(f"{path}.{key}", f"needs at least one {what}")
    for i, ref in enumerate(values):
        if not isinstance(ref, str):
            raise _Bad(f"{path}.{key}[{i}]", f"expected a {what} id (string), got {_kind(ref)}")
        if ref not in known:
            raise _Bad(f"{path}.{key}[{i}]", f"unknown {what} {_show(ref)}")
    return values


def _ref(obj: dict, key: str, path: str, known: dict, what: str) -> str:
    value = _string(obj, key, path)
    if value not in known:
        raise _Bad(f"{path}.{key}", f"unknown {what} {_show(value)}")
    return value


def _timestamp(obj: dict, key: str, path: str) -> str:
    value = _string(obj, key, path)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(f"{path}.{key}", f"not an ISO 8601 time: {_show(value)}") from None
    if parsed.tzinfo is None:
        raise _Bad(f"{path}.{key}", f"needs a time zone (e.g. a trailing Z): {_show(value)}")
    return value


def _section_list(data: dict, name: str) -> list:
    value = data[name]
    if not isinstance(value, list):
        raise _Bad(name, f"expected a list, got {_kind(value)}")
    return value


def _index(items: list, section: str, validate_item) -> dict:
    """Validate each item of a list section and index it by id; duplicates are refused."""
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        path = f"{section}[{i}]"
        _object(item, path)
        ident = _string(item, "id", path, empty_ok=False)
        if ident in seen:
            raise _Bad(f"{path}.id", f"duplicate id {_show(ident)} (first at {section}[{seen[ident]}])")
        seen[ident] = i
        validate_item(item, path)
    return seen


def validate_catalog(data: dict) -> dict:
    """Check `data` against the format tastebot-sandbox-catalog/1 (docs/sandbox-catalog.md).

    Raises InputError naming the first bad field by its path, e.g.
    ``catalog: tracks[3].album_id: unknown album 'x'``. Returns `data` unchanged.
    """
    try:
        _validate(data)
    except _Bad as bad:
        raise InputError(str(bad), hint="see docs/sandbox-catalog.md for the catalogue format") from None
    return data


def _validate(data: Any) -> None:
    if not isinstance(data, dict):
        raise _Bad("", f"expected a JSON object at the top, got {_kind(data)}")
    if "format" not in data:
        raise _Bad("format", f"missing (expected {FORMAT!r})")
    if data["format"] != FORMAT:
        raise _Bad("format", f"expected {FORMAT!r}, got {_show(data['format'])}")
    for name in SECTIONS:
        if name not in data:
            raise _Bad(name, "missing section")
    artists = _index(_section_list(data, "artists"), "artists", _check_artist)
    albums = _index(_section_list(data, "albums"), "albums", lambda item, path: _check_album(item, path, artists))
    tracks = _index(_section_list(data, "tracks"), "tracks",
                    lambda item, path: _check_track(item, path, artists, albums))
    _check_features(data["audio_features"], tracks)
    users = _index(_section_list(data, "users"), "users", lambda item, path: _string(item, "display_name", path))
    playlists = _index(_section_list(data, "playlists"), "playlists",
                       lambda item, path: _check_playlist(item, path, users, tracks))
    _check_listener(data["listener"], users, tracks, artists, playlists)
    hidden = _object(data["hidden"], "hidden")
    _refs(hidden, "future_likes", "hidden", tracks, "track")


def _check_artist(item, path):
    _string(item, "name", path)
    for i, genre in enumerate(_list(item, "genres", path)):
        if not isinstance(genre, str) or not genre.strip():
            raise _Bad(f"{path}.genres[{i}]", f"expected a genre name, got {_kind(genre)} {_show(genre)}")


def _check_album(item, path, artists):
    _string(item, "name", path)
    _refs(item, "artist_ids", path, artists, "artist", non_empty=True)
    date = _string(item, "release_date", path)
    precision = _string(item, "release_date_precision", path)
    if precision not in PRECISIONS:
        raise _Bad(f"{path}.release_date_precision", f"expected year, month or day, got {_show(precision)}")
    if not PRECISIONS[precision].match(date):
        raise _Bad(f"{path}.release_date", f"{_show(date)} does not match precision {precision!r}")
    try:
        parts = [int(p) for p in date.split("-")] + [1, 1]
        datetime(parts[0], parts[1], parts[2])
    except ValueError:
        raise _Bad(f"{path}.release_date", f"not a real date: {_show(date)}") from None
    if _string(item, "album_type", path) not in ALBUM_TYPES:
        raise _Bad(f"{path}.album_type", f"expected one of {', '.join(ALBUM_TYPES)}, got {_show(item['album_type'])}")


def _check_track(item, path, artists, albums):
    _string(item, "name", path)
    _refs(item, "artist_ids", path, artists, "artist", non_empty=True)
    _ref(item, "album_id", path, albums, "album")
    _integer(item, "duration_ms", path, 1)
    _boolean(item, "explicit", path)
    _integer(item, "popularity", path, 0, 100)
    _string(item, "isrc", path)
    _integer(item, "track_number", path, 1)


def _check_features(section, tracks):
    features = _object(section, "audio_features")
    for track_id, values in features.items():
        path = f"audio_features[{_show(track_id)}]"
        if track_id not in tracks:
            raise _Bad(path, f"unknown track {_show(track_id)}")
        _object(values, path)
        for key, value in values.items():
            if key not in FEATURE_BOUNDS:
                raise _Bad(f"{path}.{key}", f"unknown audio feature (known: {', '.join(AUDIO_FEATURES)})")
            low, high, integral = FEATURE_BOUNDS[key]
            if integral and not _is_int(value):
                raise _Bad(f"{path}.{key}", f"expected an integer, got {_kind(value)} {_show(value)}")
            if isinstance(value, float) and not math.isfinite(value):
                raise _Bad(f"{path}.{key}", f"must be a finite number, got {_show(value)}")
            if not _is_number(value):
                raise _Bad(f"{path}.{key}", f"expected a number, got {_kind(value)} {_show(value)}")
            if not low <= value <= high:
                raise _Bad(f"{path}.{key}", f"{value} is out of range ({low}..{high})")


def _check_playlist(item, path, users, tracks):
    _string(item, "name", path)
    _ref(item, "owner_id", path, users, "user")
    _boolean(item, "public", path)
    _boolean(item, "collaborative", path)
    _string(item, "description", path)
    _refs(item, "track_ids", path, tracks, "track")


def _check_listener(section, users, tracks, artists, playlists):
    listener = _object(section, "listener")
    _ref(listener, "user_id", "listener", users, "user")
    for i, entry in enumerate(_list(listener, "saved_tracks", "listener")):
        path = f"listener.saved_tracks[{i}]"
        _object(entry, path)
        _ref(entry, "track_id", path, tracks, "track")
        _timestamp(entry, "added_at", path)
    top = _object(_field(listener, "top_tracks", "listener"), "listener.top_tracks")
    for time_range in TIME_RANGES:
        _refs(top, time_range, "listener.top_tracks", tracks, "track")
    for key in top:
        if key not in TIME_RANGES:
            raise _Bad(f"listener.top_tracks.{key}", f"unknown time range (known: {', '.join(TIME_RANGES)})")
    for i, entry in enumerate(_list(listener, "recently_played", "listener")):
        path = f"listener.recently_played[{i}]"
        _object(entry, path)
        _ref(entry, "track_id", path, tracks, "track")
        _timestamp(entry, "played_at", path)
    _refs(listener, "followed_artist_ids", "listener", artists, "artist")
    _refs(listener, "followed_playlist_ids", "listener", playlists, "playlist")


def load_catalog(path) -> dict:
    """Read a catalogue JSON file and validate it; every problem is a one-line InputError."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"catalog: no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"catalog: {path} is a directory, not a JSON file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"catalog: {path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"catalog: cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"catalog: {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return validate_catalog(data)


# --------------------------------------------------------------------------------------------------
# Corpus export
# --------------------------------------------------------------------------------------------------

def export_corpus_csv(catalog: dict, path) -> int:
    """Write the playlists not owned by the listener as a corpus CSV, the shape `tastebot corpus
    import` reads: `playlist_id,track_id`, then playlist_name, the track's metadata (track_name,
    artist_name, artist_id, album_id, popularity, release_date, duration_ms) and the 12 audio features
    (empty when unknown). One row per playlist entry; returns the number of rows written."""
    listener_id = catalog["listener"]["user_id"]
    features = catalog.get("audio_features", {})
    tracks = {t["id"]: t for t in catalog["tracks"]}
    artists = {a["id"]: a for a in catalog["artists"]}
    albums = {a["id"]: a for a in catalog["albums"]}
    rows = 0
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["playlist_id", "track_id", "playlist_name", "track_name", "artist_name", "artist_id",
                         "album_id", "popularity", "release_date", "duration_ms", *AUDIO_FEATURES])
        for playlist in catalog["playlists"]:
            if playlist["owner_id"] == listener_id:
                continue
            for track_id in playlist["track_ids"]:
                track = tracks[track_id]
                artist = artists[track["artist_ids"][0]]
                values = features.get(track_id, {})
                writer.writerow([
                    playlist["id"], track_id, playlist["name"], track["name"], artist["name"], artist["id"],
                    track["album_id"], track["popularity"], albums[track["album_id"]]["release_date"],
                    track["duration_ms"], *("" if values.get(k) is None else values[k] for k in AUDIO_FEATURES),
                ])
                rows += 1
    return rows
