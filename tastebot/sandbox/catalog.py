"""The sandbox catalogue: its format (tastebot-sandbox-catalog/1), its validation, loading, and the
built-in generator of a realistic, deterministic world with one listener of hidden taste.

The format is documented field by field in docs/sandbox-catalog.md. The generator's audio features
follow a Gaussian copula fitted per genre from 28k real Spotify tracks
(benchmarks/fit_sandbox_distributions.py prints `_FEATURE_MODEL`, kept at the end of this module
because users do not have the data).
"""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from tastebot.errors import InputError
from tastebot.vocab import AUDIO_FEATURES, FEATURE_RANGES, INTEGER_FEATURES, SPOTIFY_DECIMALS

FORMAT = "tastebot-sandbox-catalog/1"

# (low, high, must be an integer) per audio feature, from vocab.
_RANGES: dict[str, tuple[float, float, bool]] = {
    name: (*FEATURE_RANGES[name], name in INTEGER_FEATURES) for name in AUDIO_FEATURES
}
GENRES = ("pop", "rap", "rock", "latin", "r&b", "edm")
ALBUM_TYPES = ("album", "single", "compilation")
PRECISIONS = {"year": re.compile(r"^\d{4}$"), "month": re.compile(r"^\d{4}-\d{2}$"),
              "day": re.compile(r"^\d{4}-\d{2}-\d{2}$")}
TIME_RANGES = ("short_term", "medium_term", "long_term")
SECTIONS = ("artists", "albums", "tracks", "audio_features", "users", "playlists", "listener", "hidden")
DISLIKE_PLAYLIST_NAME = "Not for me"
# The generated world's clock: fixed, so a seed always gives the same timestamps.
CATALOG_NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)


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
            if key not in _RANGES:
                raise _Bad(f"{path}.{key}", f"unknown audio feature (known: {', '.join(AUDIO_FEATURES)})")
            low, high, integral = _RANGES[key]
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


# --------------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------------

_ID_ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
# Tracks of one artist share part of their sound: this share of each track's latent comes from the artist.
_ARTIST_SHARE = 0.55
_EXPLICIT_SHARE = {"rap": 0.65, "latin": 0.3, "r&b": 0.3, "pop": 0.2, "edm": 0.1, "rock": 0.05}
_ISRC_COUNTRIES = {"latin": ("ES", "MX", "CO", "US", "AR"), "rock": ("GB", "US", "US", "AU"),
                   "rap": ("US", "US", "US", "GB", "FR"), "edm": ("NL", "SE", "GB", "US", "DE"),
                   "pop": ("US", "GB", "SE", "CA", "US"), "r&b": ("US", "US", "GB", "CA")}
_TIME_SIGNATURES = ((4, 0.91), (3, 0.06), (5, 0.02), (1, 0.01))
_MIN_TRACKS, _MAX_TRACKS = 100, 200_000

_WORDS = {
    "adj": ["Golden", "Electric", "Broken", "Midnight", "Silver", "Wild", "Lonely", "Neon", "Velvet", "Crystal",
            "Burning", "Hollow", "Sweet", "Cold", "Bright", "Restless", "Secret", "Faded", "Heavy", "Endless",
            "Blue", "Paper", "Savage", "Quiet", "Lucky", "Dirty", "Holy", "Sunday", "Summer", "Lost"],
    "noun": ["Heart", "City", "Fire", "Dream", "Night", "River", "Road", "Light", "Money", "Ghost", "Highway",
             "Rain", "Shadow", "Mirror", "Paradise", "Thunder", "Ocean", "Window", "Signal", "Garden", "Echo",
             "Diamond", "Machine", "Kingdom", "Sky", "Storm", "Love", "静", "Satellite", "Horizon"],
    "verb": ["Run", "Dance", "Fall", "Hold", "Chase", "Break", "Burn", "Shine", "Drive", "Wait", "Ride", "Fly",
             "Stay", "Move", "Breathe", "Dream", "Call", "Lose", "Find", "Say"],
    "prep": ["With Me", "Away", "Tonight", "Forever", "Again", "Alone", "All Night", "For You", "Up", "Back Home"],
    "es": ["Noche", "Corazón", "Fuego", "Bailar", "Luna", "Mi Vida", "Contigo", "Otra Vez", "Perreo", "Dime",
           "Mañana", "Besos", "Calor", "Morena", "Sin Ti", "Playa", "La Calle", "Tú y Yo", "Bonita", "Loco"],
    "first": ["Mara", "Jonas", "Lena", "Kofi", "Aiko", "Diego", "Nia", "Theo", "Saoirse", "Ravi", "Elif", "Marco",
              "Zoë", "Sam", "Ines", "Tomás", "Yara", "Olu", "Freya", "Luca", "Maya", "Ezra", "Noor", "Kai",
              "Ana", "Björn", "Chloé", "Dev", "Amara", "Felix", "Hana", "Jules"],
    "last": ["Reyes", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Brooks", "Haddad", "Novak", "Silva", "Kowalski",
             "Mensah", "Fischer", "Rossi", "Park", "Duarte", "Walsh", "Nakamura", "Ortiz", "Carter", "Khan"],
}
_PLAYLIST_SUFFIXES = ["Essentials", "Mix", "Hits", "Classics", "Vibes", "Radio", "Favorites", "Bangers",
                      "Deep Cuts", "Party", "Rotation", "Anthems", "Now", "Forever"]
_MOODS = {
    "Workout": lambda f: (f["energy"] > 0.78) & (f["tempo"] > 115),
    "Chill evening": lambda f: (f["energy"] < 0.55) | (f["acousticness"] > 0.4),
    "Feel good": lambda f: f["valence"] > 0.7,
    "Sad songs": lambda f: f["valence"] < 0.3,
    "Dance floor": lambda f: f["danceability"] > 0.78,
    "Road trip": lambda f: (f["valence"] > 0.45) & (f["energy"] > 0.6),
}


class _FeatureModel:
    """The fitted Gaussian copula, per genre, ready for sampling."""

    def __init__(self):
        model = _FEATURE_MODEL
        self.names: list[str] = model["features"]
        self.probs = np.array(model["probs"], dtype=float)
        self.genres: dict[str, dict] = {}
        for genre in GENRES:
            g = model["genres"][genre]
            subs = sorted(g["subgenres"])
            weights = np.array([g["subgenres"][s]["weight"] for s in subs], dtype=float)
            self.genres[genre] = {
                "quantiles": np.array([g["quantiles"][name] for name in self.names], dtype=float),
                "chol": np.linalg.cholesky(np.array(g["correlation"], dtype=float)),
                "sd": np.array(g["residual_sd"], dtype=float),
                "subgenres": subs,
                "sub_weights": weights / weights.sum(),
                "centres": {s: np.array(g["subgenres"][s]["centre"], dtype=float) for s in subs},
                "years": {s: np.array(g["subgenres"][s]["year_quantiles"], dtype=float) for s in subs},
                "key_probs": np.array(g["key_probs"], dtype=float) / np.sum(g["key_probs"]),
                "major_share": float(g["major_share"]),
            }

    def subgenres(self) -> dict[str, list[str]]:
        return {genre: list(self.genres[genre]["subgenres"]) for genre in GENRES}

    def latent(self, rng: np.random.Generator, genre: str, size: int | None = None) -> np.ndarray:
        chol = self.genres[genre]["chol"]
        shape = (len(self.names),) if size is None else (size, len(self.names))
        return rng.standard_normal(shape) @ chol.T

    def sample(self, rng, genre: str, subgenres: list[str], artist_latents: np.ndarray) -> dict[str, np.ndarray]:
        """Continuous values for tracks of one genre, given each track's subgenre and artist latent."""
        from scipy.special import ndtr

        g = self.genres[genre]
        n = len(subgenres)
        own = self.latent(rng, genre, n)
        centres = np.array([g["centres"][s] for s in subgenres]).reshape(n, -1)
        z = centres + g["sd"] * (_ARTIST_SHARE * artist_latents + math.sqrt(1 - _ARTIST_SHARE ** 2) * own)
        u = ndtr(z)
        values = {name: np.interp(u[:, j], self.probs, g["quantiles"][j]) for j, name in enumerate(self.names)}
        values["key"] = rng.choice(12, size=n, p=g["key_probs"])
        values["mode"] = (rng.random(n) < g["major_share"]).astype(int)
        ts_values, ts_probs = zip(*_TIME_SIGNATURES)
        values["time_signature"] = rng.choice(np.array(ts_values), size=n, p=np.array(ts_probs))
        return values

    def year(self, genre: str, subgenre: str, u: float) -> int:
        return int(round(float(np.interp(u, self.probs, self.genres[genre]["years"][subgenre]))))


class _World:
    """Mutable state while generating; turned into the catalogue dict at the end."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.model = _FeatureModel()
        self.used_ids: set[str] = set()
        self.used_isrcs: set[str] = set()
        self.artists: list[dict] = []
        self.artist_info: list[dict] = []  # genre, subgenre, latent, era, explicit share, registrant
        self.albums: list[dict] = []
        self.album_year: dict[str, int] = {}
        self.tracks: list[dict] = []
        self.track_info: list[dict] = []  # artist index, genre, subgenre, original (for reissues)
        self._id_buffer: list[str] = []

    # ---- small helpers -------------------------------------------------------------------------
    def new_id(self) -> str:
        while True:
            if not self._id_buffer:  # drawn in batches: one numpy call per 512 ids
                self._id_buffer = ["".join(row) for row in _ID_ALPHABET[self.rng.integers(0, 62, (512, 22))]][::-1]
            ident = self._id_buffer.pop()
            if ident not in self.used_ids:
                self.used_ids.add(ident)
                return ident

    def pick(self, words: list[str]) -> str:
        return words[int(self.rng.integers(len(words)))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def artist_name(self, genre: str) -> str:
        w, r = _WORDS, int(self.rng.integers(6))
        if genre == "rap" and r < 3:
            return f"{self.pick(['Lil', 'Young', 'MC', 'Big', 'Yung'])} {self.pick(w['noun'])}"
        if genre == "edm" and r < 3:
            return f"{self.pick(['DJ ', '', 'Project ', ''])}{self.pick(w['adj'])}{self.pick(['', ' Sound', 'x', ' System'])}".strip()
        if genre == "latin" and r < 3:
            return f"{self.pick(['El ', 'La ', 'Los ', ''])}{self.pick(w['es'])}" if r < 1 else \
                f"{self.pick(w['first'])} {self.pick(w['last'])}"
        if genre == "rock" and r < 3:
            return f"The {self.pick(w['adj'])} {self.pick(w['noun'])}s"
        if r < 4:
            return f"{self.pick(w['first'])} {self.pick(w['last'])}"
        return f"{self.pick(w['first'])}{self.pick(['', ' & The ' + self.pick(w['noun']) + 's', ' ' + self.pick(w['adj'])])}"

    def song_title(self, genre: str) -> str:
        w, r = _WORDS, int(self.rng.integers(6))
        if genre == "latin" and r < 3:
            return self.pick(w["es"]) + ("" if r else f" {self.pick(['(feat. ' + self.pick(w['first']) + ')', 'Remix'])}")
        if r == 0:
            return f"{self.pick(w['verb'])} {self.pick(w['prep'])}"
        if r == 1:
            return self.pick(w["noun"])
        if r == 2:
            return f"{self.pick(w['adj'])} {self.pick(w['noun'])}"
        if r == 3:
            return f"{self.pick(w['verb'])} {self.pick(w['prep'])} ({self.pick(w['adj'])} {self.pick(w['noun'])})"
        return f"{self.pick(w['noun'])} of {self.pick(w['adj'])} {self.pick(w['noun'])}s"

    def release_date(self, year: int) -> tuple[str, str]:
        month, day = int(self.rng.integers(1, 13)), int(self.rng.integers(1, 29))
        r = self.rng.random()
        if r < 0.07 or year < 1960:
            return f"{year:04d}", "year"
        if r < 0.10:
            return f"{year:04d}-{month:02d}", "month"
        return f"{year:04d}-{month:02d}-{day:02d}", "day"

    def isrc(self, artist: int, year: int) -> str:
        info = self.artist_info[artist]
        while True:
            code = f"{info['country']}{info['registrant']}{year % 100:02d}{int(self.rng.integers(0, 100000)):05d}"
            if code not in self.used_isrcs:
                self.used_isrcs.add(code)
                return code

    # ---- catalogue structure -------------------------------------------------------------------
    def add_artist(self) -> int:
        genre = GENRES[int(self.rng.integers(len(GENRES)))]
        g = self.model.genres[genre]
        sub = g["subgenres"][int(self.rng.choice(len(g["subgenres"]), p=g["sub_weights"]))]
        genres = [sub, genre]
        if self.chance(0.35):  # a second subgenre of the same family, as Spotify lists them
            other = self.pick([s for s in g["subgenres"] if s != sub])
            genres.insert(1, other)
        if self.chance(0.06):  # some artists have no genres at all
            genres = []
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        self.artists.append({"id": self.new_id(), "name": self.artist_name(genre), "genres": genres})
        self.artist_info.append({
            "genre": genre, "subgenre": sub, "latent": self.model.latent(self.rng, genre),
            "start": min(2025, self.model.year(genre, sub, float(self.rng.random()))),
            "explicit": float(np.clip(_EXPLICIT_SHARE[genre] + self.rng.normal(0, 0.15), 0, 1)),
            "country": self.pick(list(_ISRC_COUNTRIES[genre])),
            "registrant": "".join(letters[int(i)] for i in self.rng.integers(0, len(letters), 3)),
        })
        return len(self.artists) - 1

    def add_album(self, artist: int, name: str, album_type: str, year: int) -> str:
        date, precision = self.release_date(year)
        album_id = self.new_id()
        self.albums.append({"id": album_id, "name": name, "artist_ids": [self.artists[artist]["id"]],
                            "release_date": date, "release_date_precision": precision, "album_type": album_type})
        self.album_year[album_id] = year
        return album_id

    def add_originals(self, budget: int) -> None:
        while budget > 0:
            artist = self.add_artist()
            info = self.artist_info[artist]
            year = info["start"]
            for _ in range(1 + int(self.rng.poisson(0.7))):
                if budget <= 0:
                    break
                if self.chance(0.3):
                    album_type, size = "album", int(self.rng.integers(6, 15))
                else:
                    album_type, size = "single", int(self.rng.integers(1, 4))
                size = min(size, budget)
                titles = [self.song_title(info["genre"]) for _ in range(size)]
                album_name = titles[0] if album_type == "single" else (
                    self.song_title(info["genre"]) if self.chance(0.6) else f"{self.pick(_WORDS['adj'])} {self.pick(_WORDS['noun'])}")
                album_id = self.add_album(artist, album_name, album_type, year)
                for number, title in enumerate(titles, start=1):
                    artist_ids = [self.artists[artist]["id"]]
                    if self.chance(0.08) and len(self.artists) > 1:  # a featured artist
                        guest = int(self.rng.integers(len(self.artists) - 1))
                        if guest != artist:
                            artist_ids.append(self.artists[guest]["id"])
                    self.tracks.append({
                        "id": self.new_id(), "name": title, "artist_ids": artist_ids, "album_id": album_id,
                        "duration_ms": 0, "explicit": self.chance(info["explicit"]), "popularity": 0,
                        "isrc": self.isrc(artist, year), "track_number": number,
                    })
                    self.track_info.append({"artist": artist, "genre": info["genre"],
                                            "subgenre": info["subgenre"], "original": None})
                budget -= size
                year = min(2025, year + int(self.rng.integers(0, 4)))

    def add_reissues(self, count: int) -> None:
        """The same recordings again under new ids and one ISRC: remasters and compilations."""
        by_artist: dict[int, list[int]] = {}
        for index, info in enumerate(self.track_info):
            by_artist.setdefault(info["artist"], []).append(index)
        candidates = [a for a in sorted(by_artist) if len(by_artist[a]) >= 3]
        order = self.rng.permutation(len(candidates))
        for position in order:
            if count <= 0:
                break
            artist = candidates[int(position)]
            info = self.artist_info[artist]
            originals = by_artist[artist]
            k = min(count, int(self.rng.integers(2, 6)), len(originals))
            chosen = sorted(int(i) for i in self.rng.choice(originals, size=k, replace=False))
            first_year = min(self.album_year[self.tracks[i]["album_id"]] for i in chosen)
            remaster = first_year <= 2012 and self.chance(0.7)
            year = int(self.rng.integers(min(first_year + 5, 2025), 2026))
            if remaster:
                base_album = next(a for a in self.albums if a["id"] == self.tracks[chosen[0]]["album_id"])
                album_id = self.add_album(artist, f"{base_album['name']} (Remastered {year})", "album", year)
            else:
                album_id = self.add_album(artist, self.pick(["Greatest Hits", "The Best Of", "Essentials",
                                                             "Anthology", "Gold", "Collected"]), "compilation", year)
            for number, original in enumerate(chosen, start=1):
                source = self.tracks[original]
                if remaster:
                    name = f"{source['name']} - Remastered {year}" if self.chance(0.7) else f"{source['name']} - {year} Remaster"
                else:
                    name = source["name"] + self.pick(["", "", " - Single Version", " - Radio Edit"])
                self.tracks.append({**source, "id": self.new_id(), "name": name, "album_id": album_id,
                                    "track_number": number, "artist_ids": list(source["artist_ids"])})
                self.track_info.append({**self.track_info[original], "original": original,
                                        "remaster": remaster})
                count -= 1

    def sample_features(self) -> dict[str, np.ndarray]:
        """True audio features, duration and popularity for every track (arrays by track index)."""
        n = len(self.tracks)
        names = [*self.model.names, "key", "mode", "time_signature"]
        out = {name: np.zeros(n) for name in names}
        originals = [i for i, info in enumerate(self.track_info) if info["original"] is None]
        for genre in GENRES:
            rows = [i for i in originals if self.track_info[i]["genre"] == genre]
            if not rows:
                continue
            latents = np.array([self.artist_info[self.track_info[i]["artist"]]["latent"] for i in rows])
            values = self.model.sample(self.rng, genre, [self.track_info[i]["subgenre"] for i in rows], latents)
            for name in names:
                out[name][rows] = values[name]
        for i, info in enumerate(self.track_info):
            if info["original"] is None:
                continue
            for name in names:
                out[name][i] = out[name][info["original"]]
            # A remaster is louder; a reissue is less played than the original.
            if info.get("remaster"):
                out["loudness"][i] = min(0.5, out["loudness"][i] + float(self.rng.uniform(0.5, 2.5)))
            for name in ("danceability", "energy", "valence", "liveness"):
                out[name][i] = float(np.clip(out[name][i] + self.rng.normal(0, 0.01), 0, 1))
            out["popularity"][i] = max(0.0, out["popularity"][i] - float(self.rng.integers(5, 31)))
        return out


def _feature_columns(values: dict[str, np.ndarray]) -> dict[str, list]:
    """Each audio feature as a list of plain Python numbers, clipped to its range and rounded as
    Spotify reports them."""
    columns: dict[str, list] = {}
    for name in AUDIO_FEATURES:
        low, high, integral = _RANGES[name]
        clipped = np.clip(values[name], low, high)
        columns[name] = clipped.astype(int).tolist() if integral else np.round(clipped, SPOTIFY_DECIMALS[name]).tolist()
    return columns


def _iso(moment: datetime, millis: bool = False) -> str:
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_catalog(seed: int = 0, n_tracks: int = 2000) -> dict:
    """A realistic catalogue of exactly `n_tracks` tracks with one listener of hidden taste.

    Deterministic: the same seed and size give the same catalogue (identical JSON) on every run,
    machine and Python process. See docs/sandbox-catalog.md for what the world contains.
    The steps below draw from one random generator in a fixed order; keep the order.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"catalog: the seed must be a non-negative integer, got {seed!r}")
    if isinstance(n_tracks, bool) or not isinstance(n_tracks, int) or not _MIN_TRACKS <= n_tracks <= _MAX_TRACKS:
        raise InputError(f"catalog: the number of tracks must be between {_MIN_TRACKS} and {_MAX_TRACKS}, got {n_tracks!r}")

    world = _World(seed)
    values = _generate_tracks(world, n_tracks)
    audio_features = _generate_audio_features(world, values)
    users = _generate_users(world)
    playlists = _generate_playlists(world, values, [u["id"] for u in users[1:]], n_tracks)
    listener = _Listener(world, values, n_tracks, users[0]["id"])
    own = listener.own_playlists()
    followed_artists, followed_playlists = listener.followed(playlists)
    playlists.extend(own)
    return {
        "format": FORMAT,
        "artists": world.artists,
        "albums": world.albums,
        "tracks": world.tracks,
        "audio_features": audio_features,
        "users": users,
        "playlists": playlists,
        "listener": {
            "user_id": listener.user_id,
            "saved_tracks": listener.saved_tracks,
            "top_tracks": listener.top_tracks,
            "recently_played": listener.recently_played,
            "followed_artist_ids": [world.artists[a]["id"] for a in followed_artists],
            "followed_playlist_ids": followed_playlists,
        },
        "hidden": {"future_likes": listener.future_likes(playlists, followed_playlists)},
    }


def _generate_tracks(world: "_World", n_tracks: int) -> dict[str, np.ndarray]:
    """Exactly n_tracks tracks (originals and a few reissues); returns their true feature values."""
    n_reissues = max(2, round(0.015 * n_tracks))
    world.add_originals(n_tracks - n_reissues)
    world.add_reissues(n_reissues)
    while len(world.tracks) < n_tracks:  # too few artists with enough songs for reissues: top up
        world.add_originals(n_tracks - len(world.tracks))
    values = world.sample_features()
    for i, track in enumerate(world.tracks):
        track["duration_ms"] = int(max(30000, round(values["duration_ms"][i])))
        track["popularity"] = int(np.clip(round(values["popularity"][i]), 0, 100))
    return values


def _generate_audio_features(world: "_World", values: dict[str, np.ndarray]) -> dict[str, dict]:
    """Audio features as providers report them: some tracks unknown, some with keys missing."""
    rng = world.rng
    audio_features: dict[str, dict] = {}
    columns = _feature_columns(values)
    gaps = rng.random(len(world.tracks))
    for i, track in enumerate(world.tracks):
        r = gaps[i]
        if r < 0.03:
            continue
        entry = {name: columns[name][i] for name in AUDIO_FEATURES}
        if r < 0.07:
            for key in rng.choice(AUDIO_FEATURES, size=int(rng.integers(1, 4)), replace=False):
                entry.pop(str(key))
        audio_features[track["id"]] = entry
    return audio_features


def _generate_users(world: "_World") -> list[dict]:
    """The listener (first) and about thirty others who own the genre playlists."""
    rng = world.rng
    users = [{"id": "sandbox.listener", "display_name": "Sandbox Listener"}]
    for k in range(30):
        first, last = world.pick(_WORDS["first"]), world.pick(_WORDS["last"])
        handle = unicodedata.normalize("NFKD", f"{first}.{last}".lower()).encode("ascii", "ignore").decode()
        users.append({"id": f"{handle}{int(rng.integers(1, 100))}",
                      "display_name": f"{first} {last[0]}."})
    seen_users: set[str] = set()
    for k, user in enumerate(users):  # ids must be unique
        if user["id"] in seen_users:
            user["id"] = f"{user['id']}x{k}"
        seen_users.add(user["id"])
    return users


def _generate_playlists(world: "_World", values: dict[str, np.ndarray], others: list[str], n_tracks: int) -> list[dict]:
    """Other users' playlists: subgenre and genre playlists with noise, and a few mood playlists."""
    rng = world.rng
    n = len(world.tracks)
    popularity = np.array([t["popularity"] for t in world.tracks], dtype=float)
    pop_weight = np.exp(popularity / 25.0)
    playlists: list[dict] = []
    all_idx = np.arange(n)
    by_subgenre: dict[str, list[int]] = {}
    by_genre: dict[str, list[int]] = {}
    for i, info in enumerate(world.track_info):
        by_subgenre.setdefault(info["subgenre"], []).append(i)
        by_genre.setdefault(info["genre"], []).append(i)
    for _ in range(max(12, n_tracks // 18)):
        r = rng.random()
        if r < 0.6:
            genre = GENRES[int(rng.integers(len(GENRES)))]
            sub = world.pick(world.model.genres[genre]["subgenres"])
            pool = np.array(by_subgenre.get(sub, []), dtype=int)
            name = f"{sub.title()} {world.pick(_PLAYLIST_SUFFIXES)}"
            description = world.pick(["", "", f"The best {sub} right now.", f"{sub} all day", "updated weekly"])
        elif r < 0.85:
            genre = GENRES[int(rng.integers(len(GENRES)))]
            pool = np.array(by_genre.get(genre, []), dtype=int)
            label = {"r&b": "R&B", "edm": "EDM"}.get(genre, genre.title())
            name = world.pick([f"Best of {label}", f"{label} {world.pick(_PLAYLIST_SUFFIXES)}", f"My {label}", f"{label} ❤"])
            description = world.pick(["", f"{label} only", "no skips"])
        else:
            mood = world.pick(sorted(_MOODS))
            pool = all_idx[_MOODS[mood](values)]
            name, description = mood, world.pick(["", "for the mood", "mixed genres"])
        if len(pool) < 5:
            pool = all_idx
        # Small worlds get small playlists, or two followed playlists would cover the whole catalogue.
        size = min(int(rng.integers(15, 71)), len(pool), max(10, n // 8))
        weights = pop_weight[pool] / pop_weight[pool].sum()
        members = [int(i) for i in rng.choice(pool, size=size, replace=False, p=weights)]
        for j in range(len(members)):  # noise: any track at all
            if rng.random() < 0.08:
                members[j] = int(rng.integers(n))
        track_ids = list(dict.fromkeys(world.tracks[i]["id"] for i in members))
        collaborative = world.chance(0.1)
        playlists.append({
            "id": world.new_id(), "name": name, "owner_id": world.pick(others),
            # Spotify: a collaborative playlist is never public.
            "public": (not collaborative) and world.chance(0.95), "collaborative": collaborative,
            "description": description, "track_ids": track_ids,
        })
    return playlists


class _Listener:
    """The listener: a hidden taste, and what they did because of it (saved, top, recently played,
    own playlists, dislikes, follows). Built in a fixed order of draws from the world's generator."""

    def __init__(self, world: "_World", values: dict[str, np.ndarray], n_tracks: int, user_id: str):
        from tastebot.sandbox.taste import draw_taste

        self.world, self.values, self.n_tracks, self.user_id = world, values, n_tracks, user_id
        rng = self.rng = world.rng
        self.n = len(world.tracks)
        self.genres = [info["genre"] for info in world.track_info]
        subgenres = [info["subgenre"] for info in world.track_info]
        popularity = np.array([t["popularity"] for t in world.tracks], dtype=float)
        self.taste = draw_taste(rng, GENRES, world.model.subgenres())
        artist_index = np.array([info["artist"] for info in world.track_info])
        true_features = {name: values[name] for name in (*AUDIO_FEATURES, "popularity")}
        self.scores = self.taste.scores(rng, self.genres, subgenres, artist_index, true_features)
        liked = self.taste.likes(self.scores)
        # Reissues share the original's verdict: it is the same recording.
        for i, info in enumerate(world.track_info):
            if info["original"] is not None:
                liked[i] = liked[info["original"]]
        affinity = np.array([self.taste.genre_affinity[g] for g in self.genres])
        self.exposure = np.exp(0.6 * affinity + popularity / 40.0)
        self.liked_idx = np.flatnonzero(liked)
        self.unliked_idx = np.flatnonzero(~liked)
        self.id_index = {t["id"]: i for i, t in enumerate(world.tracks)}
        self._saved()
        self._top()
        self._recent()

    def draw(self, candidates: np.ndarray, k: int, weights: np.ndarray | None = None) -> list[int]:
        candidates = np.asarray(candidates, dtype=int)
        k = min(k, len(candidates))
        if k <= 0:
            return []
        w = self.exposure[candidates] if weights is None else weights
        return [int(i) for i in self.rng.choice(candidates, size=k, replace=False, p=w / w.sum())]

    def _saved(self) -> None:
        rng, tracks = self.rng, self.world.tracks
        self.saved = self.draw(self.liked_idx, round(0.09 * self.n_tracks))
        self.saved_set = set(self.saved)
        self.extras = self.draw(np.array([i for i in self.liked_idx if i not in self.saved_set]),
                                max(3, round(0.01 * self.n_tracks)))
        ages = np.sort(np.minimum(rng.exponential(400.0, len(self.saved)), 2500.0))  # days ago, newest first
        self.saved_tracks = []
        self.saved_age = {}
        for i, age in zip(self.saved, ages):
            moment = CATALOG_NOW - timedelta(days=float(age), seconds=int(rng.integers(0, 86400)))
            self.saved_age[i] = float(age)
            self.saved_tracks.append({"track_id": tracks[i]["id"], "added_at": _iso(moment)})
        self.saved_tracks.sort(key=lambda item: item["added_at"], reverse=True)

    def _top(self) -> None:
        """Top tracks: most played = liked, recently saved for short term; a few non-liked earworms."""
        rng = self.rng
        n_top = min(50, max(10, self.n_tracks // 40))
        self.top_tracks = {}
        for time_range, horizon in (("short_term", 120), ("medium_term", 400), ("long_term", 10_000)):
            pool = [i for i in self.saved if self.saved_age[i] <= horizon] + self.extras
            plays = np.array([self.scores[i] for i in pool]) + rng.normal(0, 1.0, len(pool))
            ranked = [pool[int(j)] for j in np.argsort(-plays, kind="stable")][:n_top]
            earworms = self.draw(self.unliked_idx, max(1, n_top // 10))
            for position, i in zip(rng.choice(len(ranked) + 1, size=len(earworms)), earworms):
                ranked.insert(int(position), i)
            self.top_tracks[time_range] = [self.world.tracks[i]["id"] for i in dict.fromkeys(ranked)][:n_top]

    def _recent(self) -> None:
        """Recently played: the last 50 plays (with repeats), newest first."""
        rng, world = self.rng, self.world
        recent_pool = ([self.id_index[t] for t in self.top_tracks["short_term"]]
                       + self.saved[: max(10, len(self.saved) // 4)] + self.extras)
        radio = self.draw(self.unliked_idx, 6)
        plays = [int(recent_pool[int(rng.integers(len(recent_pool)))]) if rng.random() > 0.12 else int(world.pick(radio))
                 for _ in range(50)]
        moment = CATALOG_NOW - timedelta(minutes=int(rng.integers(20, 600)))
        self.recently_played = []
        for i in plays:
            self.recently_played.append({"track_id": world.tracks[i]["id"], "played_at": _iso(moment, millis=True)})
            gap = world.tracks[i]["duration_ms"] / 1000.0 + float(rng.uniform(0, 20))
            if rng.random() < 0.1:  # between listening sessions
                gap += float(rng.uniform(2, 20)) * 3600
            moment -= timedelta(seconds=gap, milliseconds=int(rng.integers(0, 1000)))

    def own_playlists(self) -> list[dict]:
        """The listener's own playlists: two of liked songs, one dislike list."""
        rng, world, values, n = self.rng, self.world, self.values, self.n
        liked_pool = np.array(self.saved + self.extras
                              + self.draw(np.array([i for i in self.liked_idx if i not in self.saved_set]), max(2, n // 75)))
        own = []
        low_energy = liked_pool[values["energy"][liked_pool] < np.median(values["energy"][liked_pool])]
        high_energy = liked_pool[values["energy"][liked_pool] >= np.median(values["energy"][liked_pool])]
        for name, pool, description in (("Late night", low_energy, "slow ones"), ("Gym", high_energy, "")):
            members = self.draw(pool, min(int(rng.integers(10, 26)), max(4, n // 30)))
            own.append({"id": world.new_id(), "name": name, "owner_id": self.user_id, "public": world.chance(0.5),
                        "collaborative": False, "description": description,
                        "track_ids": [world.tracks[i]["id"] for i in members]})
        # Dislikes: mostly far from the taste, some from genres the listener does play.
        n_dislikes = max(6, round(0.015 * self.n_tracks))
        unliked_idx, scores = self.unliked_idx, self.scores
        worst = unliked_idx[scores[unliked_idx] <= np.quantile(scores, 0.25)]
        favourite_genres = sorted(GENRES, key=lambda g: -self.taste.genre_affinity[g])[:2]
        near_misses = np.array([i for i in unliked_idx if self.genres[i] in favourite_genres])
        dislikes = self.draw(worst, round(0.6 * n_dislikes)) + self.draw(near_misses, n_dislikes - round(0.6 * n_dislikes))
        own.append({"id": world.new_id(), "name": DISLIKE_PLAYLIST_NAME, "owner_id": self.user_id, "public": False,
                    "collaborative": False, "description": "songs I skip",
                    "track_ids": list(dict.fromkeys(world.tracks[i]["id"] for i in dislikes))})
        return own

    def followed(self, playlists: list[dict]) -> tuple[list[int], list[str]]:
        """The artists saved most, and a few of the others' playlists closest to the taste."""
        world = self.world
        saved_count: dict[int, int] = {}
        for i in self.saved:
            saved_count[world.track_info[i]["artist"]] = saved_count.get(world.track_info[i]["artist"], 0) + 1
        n_followed = max(5, self.n_tracks // 80)
        followed_artists = sorted(saved_count, key=lambda a: (-saved_count[a], a))[:n_followed]
        liked_ids = {world.tracks[i]["id"] for i in self.liked_idx}
        readable = [p for p in playlists if p["public"] or p["collaborative"]]
        overlap = sorted(readable, key=lambda p: -sum(t in liked_ids for t in p["track_ids"]) / max(1, len(p["track_ids"])))
        return followed_artists, [p["id"] for p in overlap[: 2 if self.n_tracks < 1000 else 4]]

    def future_likes(self, playlists: list[dict], followed_playlists: list[str]) -> list[str]:
        """Ground truth: liked songs the listener has not met anywhere (nor under another id)."""
        tracks = self.world.tracks
        top_ids = {tid for ids in self.top_tracks.values() for tid in ids}
        heard = {tracks[i]["id"] for i in self.saved} | top_ids | {p["track_id"] for p in self.recently_played}
        for p in playlists:
            if p["owner_id"] == self.user_id or p["id"] in followed_playlists:
                heard.update(p["track_ids"])
        heard_isrcs = {tracks[self.id_index[t]]["isrc"] for t in heard}
        return [tracks[i]["id"] for i in self.liked_idx
                if tracks[i]["id"] not in heard and tracks[i]["isrc"] not in heard_isrcs]


# Fitted by benchmarks/fit_sandbox_distributions.py from ../shared/data/tidytuesday_spotify_songs.csv
# (28k real Spotify tracks in 471 genre playlists, TidyTuesday 2020-01-21, MIT). Do not edit by hand.
_FEATURE_MODEL = {'features': ['danceability', 'energy', 'loudness', 'speechiness', 'acousticness', 'instrumentalness', 'liveness',
              'valence', 'tempo', 'duration_ms', 'popularity'],
 'genres': {'edm': {'correlation': [[1.0, -0.142, -0.164, 0.151, 0.03, 0.183, -0.168, 0.352, -0.208, 0.052, 0.018],
                                    [-0.142, 1.0, 0.628, 0.142, -0.319, 0.151, 0.127, -0.002, 0.215, -0.107, -0.101],
                                    [-0.164, 0.628, 1.0, 0.082, -0.107, -0.213, 0.111, 0.033, 0.183, -0.163, 0.004],
                                    [0.151, 0.142, 0.082, 1.0, 0.046, -0.053, 0.064, 0.11, 0.096, -0.085, -0.023],
                                    [0.03, -0.319, -0.107, 0.046, 1.0, -0.315, 0.009, 0.154, -0.149, -0.154, 0.183],
                                    [0.183, 0.151, -0.213, -0.053, -0.315, 1.0, -0.087, -0.184, 0.042, 0.213, -0.208],
                                    [-0.168, 0.127, 0.111, 0.064, 0.009, -0.087, 1.0, -0.07, 0.062, -0.148, 0.022],
                                    [0.352, -0.002, 0.033, 0.11, 0.154, -0.184, -0.07, 1.0, -0.067, -0.131, 0.083],
                                    [-0.208, 0.215, 0.183, 0.096, -0.149, 0.042, 0.062, -0.067, 1.0, -0.014, -0.096],
                                    [0.052, -0.107, -0.163, -0.085, -0.154, 0.213, -0.148, -0.131, -0.014, 1.0,
                                     -0.156],
                                    [0.018, -0.101, 0.004, -0.023, 0.183, -0.208, 0.022, 0.083, -0.096, -0.156, 1.0]],
                    'key_probs': [0.1002, 0.1235, 0.0842, 0.0311, 0.063, 0.0946, 0.089, 0.1029, 0.0773, 0.074, 0.0616,
                                  0.0984],
                    'major_share': 0.5245,
                    'n_tracks': 5537,
                    'quantiles': {'acousticness': [0.0, 0.0, 0.0001, 0.0002, 0.0004, 0.0008, 0.0015, 0.0026, 0.0039,
                                                   0.0054, 0.0077, 0.0108, 0.0147, 0.0204, 0.0266, 0.0356, 0.0484,
                                                   0.0663, 0.0917, 0.127, 0.178, 0.261, 0.4212, 0.5672, 0.7293,
                                                   0.8619, 0.985],
                                  'danceability': [0.162, 0.2641, 0.34, 0.392, 0.4468, 0.502, 0.535, 0.56, 0.578,
                                                   0.596, 0.613, 0.63, 0.646, 0.661, 0.676, 0.693, 0.709, 0.725,
                                                   0.744, 0.7638, 0.786, 0.812, 0.853, 0.8826, 0.9216, 0.9629,
                                                   0.983],
                                  'duration_ms': [31429.0, 69142.0, 125657.0, 138896.0, 149981.0, 159500.0, 167802.0,
                                                  173714.0, 180000.0, 185625.0, 189854.0, 194721.0, 199755.0,
                                                  204418.0, 210000.0, 215528.0, 222998.0, 230892.0, 242739.0,
                                                  257887.0, 281646.0, 326792.0, 381819.0, 428125.0, 472663.0,
                                                  503338.0, 515703.0],
                                  'energy': [0.106, 0.2781, 0.3884, 0.4654, 0.524, 0.597, 0.65, 0.69, 0.718, 0.7428,
                                             0.767, 0.79, 0.81, 0.827, 0.844, 0.862, 0.878, 0.895, 0.91, 0.925, 0.94,
                                             0.957, 0.973, 0.982, 0.99, 0.995, 0.998],
                                  'instrumentalness': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0001,
                                                       0.0004, 0.0011, 0.0037, 0.0117, 0.0379, 0.114, 0.2462, 0.432,
                                                       0.6166, 0.75, 0.834, 0.887, 0.916, 0.936, 0.9538, 0.987],
                                  'liveness': [0.0131, 0.0232, 0.0345, 0.0429, 0.0534, 0.0666, 0.0766, 0.0843, 0.0919,
                                               0.0995, 0.107, 0.114, 0.125, 0.138, 0.157, 0.182, 0.212, 0.254, 0.299,
                                               0.333, 0.367, 0.4294, 0.591, 0.6956, 0.8439, 0.9519, 0.976],
                                  'loudness': [-19.563, -16.282, -13.096, -11.586, -10.147, -8.722, -7.821, -7.17,
                                               -6.669, -6.262, -5.916, -5.609, -5.323, -5.027, -4.805, -4.577, -4.359,
                                               -4.119, -3.885, -3.596, -3.293, -2.953, -2.404, -1.888, -1.483, -0.574,
                                               1.135],
                                  'popularity': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 10.0, 16.0, 21.0, 25.0, 29.0,
                                                 32.0, 35.0, 38.0, 40.0, 43.0, 46.0, 50.0, 53.0, 58.0, 64.0, 73.0,
                                                 79.0, 87.0, 95.0, 99.0],
                                  'speechiness': [0.0239, 0.0266, 0.0287, 0.0307, 0.0327, 0.0362, 0.039, 0.0414,
                                                  0.0442, 0.0465, 0.0496, 0.0527, 0.0564, 0.0606, 0.0655, 0.0713,
                                                  0.0786, 0.088, 0.0992, 0.117, 0.141, 0.179, 0.247, 0.3026, 0.3726,
                                                  0.484, 0.624],
                                  'tempo': [60.045, 74.982, 81.002, 90.56, 97.938, 105.032, 115.968, 120.034, 122.986,
                                            124.0, 124.987, 125.916, 126.014, 127.004, 127.95, 127.984, 127.998,
                                            128.013, 128.037, 128.16, 130.039, 139.983, 150.045, 164.924, 180.027,
                                            199.99, 219.991],
                                  'valence': [0.0269, 0.0335, 0.0375, 0.0465, 0.0769, 0.12, 0.161, 0.191, 0.223,
                                              0.252, 0.285, 0.314, 0.347, 0.376, 0.412, 0.445, 0.485, 0.526, 0.566,
                                              0.616, 0.6726, 0.734, 0.8222, 0.887, 0.936, 0.9659, 0.983]},
                    'residual_sd': [0.969, 0.946, 0.984, 0.993, 0.95, 0.854, 0.993, 0.975, 0.977, 0.961, 0.918],
                    'subgenres': {'big room': {'centre': [-0.323, 0.492, 0.341, 0.14, -0.356, 0.177, 0.226, -0.348,
                                                          0.368, -0.286, -0.12],
                                               'weight': 1125,
                                               'year_quantiles': [1995, 1999, 2009, 2012, 2013, 2014, 2014, 2015,
                                                                  2015, 2015, 2016, 2018, 2019, 2019, 2019, 2019,
                                                                  2019, 2019, 2019, 2019, 2019, 2019, 2019, 2020,
                                                                  2020, 2020, 2020]},
                                  'electro house': {'centre': [0.365, 0.011, -0.127, 0.105, -0.021, 0.379, -0.113,
                                                               0.086, -0.142, -0.114, 0.067],
                                                    'weight': 1511,
                                                    'year_quantiles': [1999, 2005, 2010, 2012, 2013, 2014, 2015, 2016,
                                                                       2017, 2017, 2018, 2018, 2018, 2018, 2019, 2019,
                                                                       2019, 2019, 2019, 2019, 2019, 2019, 2019, 2020,
                                                                       2020, 2020, 2020]},
                                  'pop edm': {'centre': [-0.09, -0.469, -0.029, -0.097, 0.502, -0.667, -0.037, 0.282,
                                                         -0.205, -0.124, 0.467],
                                              'weight': 1387,
                                              'year_quantiles': [2000, 2007, 2009, 2011, 2012, 2014, 2015, 2015, 2016,
                                                                 2016, 2016, 2017, 2017, 2017, 2018, 2018, 2019, 2019,
                                                                 2019, 2019, 2019, 2019, 2019, 2020, 2020, 2020,
                                                                 2020]},
                                  'progressive electro house': {'centre': [-0.042, 0.053, -0.099, -0.12, -0.174,
                                                                           0.186, -0.022, -0.085, 0.057, 0.439,
                                                                           -0.358],
                                                                'weight': 1514,
                                                                'year_quantiles': [1977, 1979, 2000, 2006, 2008, 2011,
                                                                                   2012, 2013, 2013, 2014, 2014, 2015,
                                                                                   2015, 2016, 2017, 2017, 2018, 2018,
                                                                                   2018, 2019, 2019, 2019, 2019, 2019,
                                                                                   2020, 2020, 2020]}}},
            'latin': {'correlation': [[1.0, 0.022, 0.081, 0.16, -0.042, 0.096, -0.164, 0.279, -0.143, -0.102, 0.038],
                                      [0.022, 1.0, 0.592, -0.002, -0.336, 0.003, 0.048, 0.27, 0.069, 0.06, -0.114],
                                      [0.081, 0.592, 1.0, 0.043, -0.113, -0.261, 0.003, 0.171, 0.027, -0.051, 0.163],
                                      [0.16, -0.002, 0.043, 1.0, 0.09, -0.098, 0.002, 0.056, 0.044, -0.15, 0.062],
                                      [-0.042, -0.336, -0.113, 0.09, 1.0, -0.191, 0.032, 0.06, -0.088, -0.006, 0.102],
                                      [0.096, 0.003, -0.261, -0.098, -0.191, 1.0, -0.06, -0.109, 0.045, 0.011,
                                       -0.141],
                                      [-0.164, 0.048, 0.003, 0.002, 0.032, -0.06, 1.0, -0.076, -0.027, -0.016, -0.02],
                                      [0.279, 0.27, 0.171, 0.056, 0.06, -0.109, -0.076, 1.0, 0.0, 0.0, -0.058],
                                      [-0.143, 0.069, 0.027, 0.044, -0.088, 0.045, -0.027, 0.0, 1.0, 0.029, 0.002],
                                      [-0.102, 0.06, -0.051, -0.15, -0.006, 0.011, -0.016, 0.0, 0.029, 1.0, -0.053],
                                      [0.038, -0.114, 0.163, 0.062, 0.102, -0.141, -0.02, -0.058, 0.002, -0.053,
                                       1.0]],
                      'key_probs': [0.1108, 0.1185, 0.0705, 0.0271, 0.061, 0.0793, 0.0896, 0.1088, 0.0739, 0.0976,
                                    0.0713, 0.0916],
                      'major_share': 0.5607,
                      'n_tracks': 4641,
                      'quantiles': {'acousticness': [0.0, 0.0002, 0.0005, 0.0015, 0.0037, 0.0106, 0.0196, 0.0302,
                                                     0.0434, 0.0567, 0.0741, 0.0929, 0.114, 0.138, 0.164, 0.191,
                                                     0.226, 0.266, 0.31, 0.371, 0.443, 0.542, 0.68, 0.792, 0.893,
                                                     0.9467, 0.989],
                                    'danceability': [0.0771, 0.2141, 0.355, 0.425, 0.49, 0.563, 0.601, 0.63, 0.652,
                                                     0.67, 0.685, 0.699, 0.712, 0.726, 0.737, 0.749, 0.762, 0.776,
                                                     0.791, 0.806, 0.823, 0.844, 0.872, 0.893, 0.9216, 0.9517,
                                                     0.979],
                                    'duration_ms': [45000.0, 82409.0, 120325.0, 139405.0, 154105.0, 165265.0,
                                                    173925.0, 181046.0, 186667.0, 191907.0, 196573.0, 201818.0,
                                                    206547.0, 210853.0, 215310.0, 220117.0, 225880.0, 231921.0,
                                                    238667.0, 246653.0, 258613.0, 274813.0, 304091.0, 335707.0,
                                                    382217.0, 472224.0, 517810.0],
                                    'energy': [0.0002, 0.1691, 0.2688, 0.351, 0.421, 0.5, 0.545, 0.583, 0.616, 0.644,
                                               0.667, 0.688, 0.707, 0.727, 0.749, 0.767, 0.786, 0.804, 0.823, 0.843,
                                               0.865, 0.888, 0.92, 0.944, 0.964, 0.993, 1.0],
                                    'instrumentalness': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                                         0.0, 0.0, 0.0, 0.0, 0.0001, 0.0001, 0.0005, 0.0017, 0.0072,
                                                         0.0498, 0.42, 0.828, 0.907, 0.9536, 0.994],
                                    'liveness': [0.0095, 0.0216, 0.0352, 0.0451, 0.055, 0.0664, 0.0756, 0.0832,
                                                 0.0893, 0.0956, 0.102, 0.107, 0.113, 0.121, 0.131, 0.146, 0.165,
                                                 0.19, 0.229, 0.268, 0.312, 0.356, 0.477, 0.668, 0.7892, 0.9652,
                                                 0.99],
                                    'loudness': [-46.448, -20.871, -15.194, -13.244, -11.782, -10.011, -8.768, -8.106,
                                                 -7.545, -7.134, -6.797, -6.446, -6.162, -5.863, -5.594, -5.332,
                                                 -5.06, -4.8, -4.517, -4.249, -3.926, -3.559, -3.01, -2.567, -1.94,
                                                 -1.299, -0.046],
                                    'popularity': [0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 9.0, 20.0, 30.0, 35.0, 39.0, 42.0,
                                                   45.0, 48.0, 50.0, 53.0, 56.0, 60.0, 63.0, 66.0, 70.0, 74.0, 79.0,
                                                   84.0, 89.0, 97.0, 100.0],
                                    'speechiness': [0.0232, 0.0256, 0.0271, 0.0289, 0.0309, 0.0343, 0.0369, 0.0399,
                                                    0.043, 0.0464, 0.0501, 0.0543, 0.0592, 0.0662, 0.0735, 0.0818,
                                                    0.0932, 0.108, 0.125, 0.15, 0.183, 0.229, 0.296, 0.353, 0.4116,
                                                    0.503, 0.662],
                                    'tempo': [48.718, 66.949, 76.549, 80.052, 85.921, 90.761, 93.01, 94.99, 96.025,
                                              98.532, 100.358, 104.81, 107.989, 112.054, 117.993, 120.027, 123.94,
                                              126.024, 128.199, 136.041, 150.005, 170.014, 178.058, 184.019, 192.092,
                                              202.969, 239.44],
                                    'valence': [0.0, 0.0226, 0.0893, 0.15, 0.2, 0.281, 0.345, 0.39, 0.435, 0.477,
                                                0.515, 0.553, 0.588, 0.62, 0.653, 0.686, 0.716, 0.75, 0.783, 0.817,
                                                0.85, 0.888, 0.928, 0.959, 0.964, 0.971, 0.976]},
                      'residual_sd': [0.97, 0.984, 0.981, 0.948, 0.961, 0.838, 0.999, 0.979, 0.998, 0.984, 0.954],
                      'subgenres': {'latin hip hop': {'centre': [0.099, 0.169, 0.007, 0.284, -0.427, 0.104, -0.059,
                                                                 0.066, 0.055, 0.183, -0.264],
                                                      'weight': 1343,
                                                      'year_quantiles': [1965, 1980, 1986, 1988, 1995, 2001, 2005,
                                                                         2008, 2009, 2010, 2011, 2013, 2014, 2015,
                                                                         2016, 2016, 2016, 2017, 2017, 2018, 2018,
                                                                         2019, 2019, 2019, 2019, 2020, 2020]},
                                    'latin pop': {'centre': [-0.201, -0.106, 0.053, -0.187, 0.202, -0.227, 0.009,
                                                             0.029, 0.017, 0.035, 0.289],
                                                  'weight': 1231,
                                                  'year_quantiles': [1979, 1984, 1988, 1992, 1997, 2005, 2007, 2010,
                                                                     2012, 2014, 2015, 2017, 2018, 2018, 2019, 2019,
                                                                     2019, 2019, 2019, 2019, 2019, 2019, 2019, 2020,
                                                                     2020, 2020, 2020]},
                                    'reggaeton': {'centre': [0.458, 0.219, 0.329, 0.42, 0.093, -0.138, 0.029, 0.31,
                                                             -0.128, 0.086, 0.171],
                                                  'weight': 779,
                                                  'year_quantiles': [1991, 2001, 2003, 2004, 2004, 2006, 2007, 2008,
                                                                     2009, 2010, 2012, 2014, 2016, 2017, 2018, 2019,
                                                                     2019, 2019, 2019, 2019, 2019, 2019, 2019, 2020,
                                                                     2020, 2020, 2020]},
                                    'tropical': {'centre': [-0.188, -0.207, -0.257, -0.371, 0.197, 0.388, 0.036,
                                                            -0.284, 0.004, -0.276, -0.075],
                                                 'weight': 1288,
                                                 'year_quantiles': [1990, 1993, 1998, 2007, 2013, 2015, 2015, 2016,
                                                                    2016, 2017, 2017, 2018, 2018, 2018, 2019, 2019,
                                                                    2019, 2019, 2019, 2019, 2019, 2019, 2019, 2019,
                                                                    2020, 2020, 2020]}}},
            'pop': {'correlation': [[1.0, -0.098, -0.027, 0.129, 0.1, 0.035, -0.137, 0.367, -0.152, -0.125, 0.096],
                                    [-0.098, 1.0, 0.637, 0.099, -0.526, 0.03, 0.124, 0.288, 0.178, 0.031, -0.143],
                                    [-0.027, 0.637, 1.0, 0.111, -0.315, -0.282, 0.088, 0.199, 0.07, -0.116, 0.042],
                                    [0.129, 0.099, 0.111, 1.0, 0.043, -0.179, 0.045, 0.054, 0.094, -0.18, 0.079],
                                    [0.1, -0.526, -0.315, 0.043, 1.0, -0.103, -0.062, -0.113, -0.149, -0.083, 0.119],
                                    [0.035, 0.03, -0.282, -0.179, -0.103, 1.0, -0.039, -0.085, 0.047, 0.2, -0.169],
                                    [-0.137, 0.124, 0.088, 0.045, -0.062, -0.039, 1.0, -0.046, 0.05, -0.062, -0.01],
                                    [0.367, 0.288, 0.199, 0.054, -0.113, -0.085, -0.046, 1.0, 0.026, -0.103, -0.012],
                                    [-0.152, 0.178, 0.07, 0.094, -0.149, 0.047, 0.05, 0.026, 1.0, 0.019, -0.064],
                                    [-0.125, 0.031, -0.116, -0.18, -0.083, 0.2, -0.062, -0.103, 0.019, 1.0, -0.085],
                                    [0.096, -0.143, 0.042, 0.079, 0.119, -0.169, -0.01, -0.012, -0.064, -0.085, 1.0]],
                    'key_probs': [0.1226, 0.113, 0.0779, 0.0314, 0.0701, 0.0861, 0.0777, 0.0943, 0.0735, 0.0965,
                                  0.0661, 0.0908],
                    'major_share': 0.592,
                    'n_tracks': 5132,
                    'quantiles': {'acousticness': [0.0, 0.0, 0.0001, 0.0004, 0.001, 0.003, 0.0063, 0.0109, 0.0169,
                                                   0.0243, 0.0332, 0.0453, 0.0599, 0.0759, 0.0933, 0.118, 0.15, 0.191,
                                                   0.233, 0.304, 0.4007, 0.5188, 0.6964, 0.825, 0.9027, 0.9617,
                                                   0.992],
                                  'danceability': [0.0985, 0.2184, 0.2863, 0.3563, 0.4, 0.463, 0.503, 0.535, 0.562,
                                                   0.581, 0.6, 0.616, 0.634, 0.65, 0.665, 0.68, 0.694, 0.71, 0.726,
                                                   0.744, 0.766, 0.793, 0.833, 0.865, 0.8954, 0.945, 0.979],
                                  'duration_ms': [37640.0, 105706.0, 138126.0, 149511.0, 159100.0, 170674.0, 179045.0,
                                                  184940.0, 189839.0, 194252.0, 198947.0, 202830.0, 206772.0,
                                                  211054.0, 215050.0, 219641.0, 224392.0, 230632.0, 237203.0,
                                                  244960.0, 256854.0, 272593.0, 303310.0, 335334.0, 377903.0,
                                                  465152.0, 490057.0],
                                  'energy': [0.0081, 0.0925, 0.2176, 0.3025, 0.3795, 0.458, 0.5146, 0.559, 0.594,
                                             0.629, 0.657, 0.683, 0.708, 0.727, 0.749, 0.771, 0.792, 0.8107, 0.832,
                                             0.856, 0.879, 0.903, 0.935, 0.955, 0.9737, 0.9937, 0.999],
                                  'instrumentalness': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                                       0.0, 0.0, 0.0, 0.0001, 0.0003, 0.0009, 0.0027, 0.0091, 0.0401,
                                                       0.1599, 0.607, 0.801, 0.885, 0.948, 0.982],
                                  'liveness': [0.0158, 0.0268, 0.037, 0.0474, 0.0569, 0.0698, 0.0801, 0.087, 0.0931,
                                               0.0991, 0.105, 0.11, 0.115, 0.123, 0.133, 0.145, 0.163, 0.188, 0.221,
                                               0.262, 0.312, 0.35, 0.434, 0.5919, 0.7071, 0.9005, 0.988],
                                  'loudness': [-26.279, -18.188, -15.053, -13.058, -11.51, -9.811, -8.787, -8.113,
                                               -7.608, -7.151, -6.776, -6.471, -6.184, -5.874, -5.617, -5.353, -5.079,
                                               -4.852, -4.591, -4.29, -3.97, -3.604, -3.052, -2.72, -2.219, -1.428,
                                               -0.7],
                                  'popularity': [0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 14.0, 22.0, 29.0, 34.0, 38.0, 42.0,
                                                 46.0, 50.0, 54.0, 57.0, 60.0, 62.0, 66.0, 69.0, 72.0, 76.0, 80.0,
                                                 84.0, 88.0, 95.0, 100.0],
                                  'speechiness': [0.0228, 0.0245, 0.026, 0.0275, 0.029, 0.0311, 0.0331, 0.0349,
                                                  0.0368, 0.0388, 0.0408, 0.0432, 0.0457, 0.0489, 0.0525, 0.0569,
                                                  0.0623, 0.0694, 0.0792, 0.0929, 0.115, 0.147, 0.219, 0.296, 0.3537,
                                                  0.4625, 0.869],
                                  'tempo': [35.477, 65.349, 75.0, 78.574, 84.905, 91.975, 96.008, 100.0, 102.999,
                                            106.018, 110.007, 114.912, 118.03, 120.025, 122.441, 124.943, 126.062,
                                            128.025, 130.992, 137.981, 145.005, 155.102, 171.752, 179.983, 189.876,
                                            203.053, 212.137],
                                  'valence': [0.0276, 0.039, 0.0672, 0.1033, 0.1436, 0.203, 0.2516, 0.296, 0.336,
                                              0.368, 0.3998, 0.434, 0.466, 0.499, 0.529, 0.562, 0.593, 0.628, 0.67,
                                              0.711, 0.7583, 0.8109, 0.876, 0.919, 0.96, 0.969, 0.981]},
                    'residual_sd': [0.996, 0.97, 0.967, 0.989, 0.986, 0.855, 1.0, 0.987, 0.994, 0.969, 0.938],
                    'subgenres': {'dance pop': {'centre': [0.131, 0.219, 0.233, 0.115, -0.01, -0.057, -0.02, 0.02,
                                                           0.005, -0.24, 0.251],
                                                'weight': 1298,
                                                'year_quantiles': [1990, 1992, 1994, 1996, 2007, 2012, 2014, 2016,
                                                                   2017, 2018, 2018, 2018, 2019, 2019, 2019, 2019,
                                                                   2019, 2019, 2019, 2019, 2019, 2019, 2019, 2020,
                                                                   2020, 2020, 2020]},
                                  'electropop': {'centre': [-0.01, 0.132, -0.12, -0.156, -0.174, 0.309, 0.019, 0.035,
                                                            0.089, 0.392, -0.256],
                                                 'weight': 1251,
                                                 'year_quantiles': [1975, 1978, 1981, 1983, 1986, 1996, 2003, 2007,
                                                                    2009, 2010, 2012, 2013, 2014, 2014, 2015, 2015,
                                                                    2016, 2017, 2017, 2018, 2018, 2018, 2019, 2019,
                                                                    2019, 2020, 2020]},
                                  'indie poptimism': {'centre': [-0.093, -0.364, -0.305, -0.108, 0.239, 0.223, -0.009,
                                                                 -0.212, -0.147, 0.015, -0.258],
                                                      'weight': 1547,
                                                      'year_quantiles': [1985, 2001, 2008, 2010, 2012, 2014, 2014,
                                                                         2015, 2015, 2015, 2016, 2016, 2016, 2016,
                                                                         2017, 2017, 2018, 2018, 2019, 2019, 2019,
                                                                         2019, 2020, 2020, 2020, 2020, 2020]},
                                  'post-teen pop': {'centre': [-0.013, 0.111, 0.309, 0.204, -0.136, -0.411, 0.016,
                                                               0.248, 0.106, -0.196, 0.41],
                                                    'weight': 1036,
                                                    'year_quantiles': [1969, 1973, 1978, 1984, 1999, 2005, 2008, 2008,
                                                                       2010, 2010, 2011, 2012, 2013, 2014, 2015, 2015,
                                                                       2017, 2017, 2018, 2019, 2019, 2019, 2019, 2019,
                                                                       2019, 2019, 2020]}}},
            'r&b': {'correlation': [[1.0, 0.091, 0.105, 0.244, -0.224, 0.014, -0.09, 0.345, -0.066, -0.112, 0.036],
                                    [0.091, 1.0, 0.629, 0.199, -0.462, -0.034, 0.091, 0.381, 0.082, -0.012, -0.085],
                                    [0.105, 0.629, 1.0, 0.081, -0.286, -0.216, 0.033, 0.188, 0.03, -0.082, 0.061],
                                    [0.244, 0.199, 0.081, 1.0, -0.129, -0.167, 0.095, 0.115, 0.005, -0.113, -0.044],
                                    [-0.224, -0.462, -0.286, -0.129, 1.0, -0.029, 0.007, -0.125, -0.093, -0.009,
                                     0.019],
                                    [0.014, -0.034, -0.216, -0.167, -0.029, 1.0, -0.083, -0.012, 0.007, 0.062,
                                     -0.072],
                                    [-0.09, 0.091, 0.033, 0.095, 0.007, -0.083, 1.0, -0.059, -0.005, -0.039, -0.047],
                                    [0.345, 0.381, 0.188, 0.115, -0.125, -0.012, -0.059, 1.0, 0.003, -0.063, -0.05],
                                    [-0.066, 0.082, 0.03, 0.005, -0.093, 0.007, -0.005, 0.003, 1.0, -0.012, -0.005],
                                    [-0.112, -0.012, -0.082, -0.113, -0.009, 0.062, -0.039, -0.063, -0.012, 1.0,
                                     -0.07],
                                    [0.036, -0.085, 0.061, -0.044, 0.019, -0.072, -0.047, -0.05, -0.005, -0.07, 1.0]],
                    'key_probs': [0.0963, 0.1333, 0.0831, 0.0286, 0.0568, 0.0921, 0.0843, 0.0961, 0.0753, 0.0872,
                                  0.0777, 0.0891],
                    'major_share': 0.5253,
                    'n_tracks': 5138,
                    'quantiles': {'acousticness': [0.0, 0.0002, 0.0009, 0.0023, 0.005, 0.0125, 0.0228, 0.0337, 0.0479,
                                                   0.064, 0.0843, 0.108, 0.133, 0.164, 0.198, 0.242, 0.2901, 0.3489,
                                                   0.412, 0.4956, 0.576, 0.681, 0.803, 0.877, 0.9256, 0.968, 0.989],
                                  'danceability': [0.14, 0.2151, 0.3037, 0.3639, 0.411, 0.477, 0.5205, 0.553, 0.583,
                                                   0.609, 0.634, 0.654, 0.672, 0.688, 0.704, 0.72, 0.737, 0.754,
                                                   0.771, 0.789, 0.808, 0.8333, 0.87, 0.8956, 0.9226, 0.9507, 0.977],
                                  'duration_ms': [31893.0, 84144.0, 124973.0, 140038.0, 155098.0, 170763.0, 181631.0,
                                                  190417.0, 198090.0, 204938.0, 211783.0, 219317.0, 225942.0,
                                                  232240.0, 239194.0, 245948.0, 253349.0, 261356.0, 271272.0,
                                                  281274.0, 293971.0, 308733.0, 342079.0, 372845.0, 411011.0,
                                                  479056.0, 506200.0],
                                  'energy': [0.0118, 0.0683, 0.1414, 0.217, 0.2838, 0.3567, 0.404, 0.438, 0.4692,
                                             0.499, 0.523, 0.548, 0.574, 0.599, 0.626, 0.6492, 0.674, 0.699, 0.723,
                                             0.7546, 0.791, 0.828, 0.877, 0.911, 0.9523, 0.9822, 0.995],
                                  'instrumentalness': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                                       0.0, 0.0, 0.0, 0.0, 0.0001, 0.0002, 0.0006, 0.002, 0.0066,
                                                       0.0258, 0.1501, 0.486, 0.7712, 0.9129, 0.969],
                                  'liveness': [0.0165, 0.0233, 0.0338, 0.0432, 0.0534, 0.0673, 0.0764, 0.0842, 0.0908,
                                               0.0965, 0.102, 0.108, 0.112, 0.12, 0.13, 0.143, 0.159, 0.183, 0.218,
                                               0.258, 0.305, 0.3503, 0.4561, 0.5886, 0.7189, 0.943, 0.991],
                                  'loudness': [-34.283, -20.621, -16.652, -14.712, -13.223, -11.755, -10.732, -9.999,
                                               -9.414, -8.935, -8.511, -8.126, -7.775, -7.413, -7.109, -6.789, -6.502,
                                               -6.172, -5.83, -5.499, -5.108, -4.656, -3.989, -3.417, -2.841, -2.207,
                                               -0.478],
                                  'popularity': [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 5.0, 12.0, 19.0, 25.0, 29.0, 34.0,
                                                 38.0, 42.0, 46.0, 49.0, 53.0, 57.0, 60.0, 64.0, 68.0, 73.0, 79.0,
                                                 84.0, 89.0, 95.0, 99.0],
                                  'speechiness': [0.0224, 0.0241, 0.0261, 0.0279, 0.0297, 0.0325, 0.0356, 0.0385,
                                                  0.0418, 0.0453, 0.0492, 0.0546, 0.0604, 0.0678, 0.0773, 0.0903,
                                                  0.107, 0.129, 0.159, 0.195, 0.239, 0.284, 0.3461, 0.4061, 0.458,
                                                  0.5573, 0.918],
                                  'tempo': [46.169, 60.513, 70.461, 74.834, 77.636, 82.102, 86.93, 90.029, 93.017,
                                            95.864, 98.259, 101.441, 105.065, 108.866, 112.039, 116.968, 120.037,
                                            124.962, 129.931, 136.182, 143.688, 155.946, 172.903, 181.885, 196.704,
                                            205.851, 214.516],
                                  'valence': [0.0366, 0.0396, 0.0729, 0.115, 0.153, 0.2127, 0.272, 0.32, 0.3542,
                                              0.393, 0.432, 0.472, 0.508, 0.542, 0.576, 0.608, 0.644, 0.674, 0.711,
                                              0.7516, 0.787, 0.833, 0.8901, 0.923, 0.96, 0.9687, 0.99]},
                    'residual_sd': [0.977, 0.97, 0.972, 0.992, 0.961, 0.863, 0.997, 0.959, 0.993, 0.921, 0.871],
                    'subgenres': {'hip pop': {'centre': [0.025, 0.168, 0.357, 0.013, 0.003, -0.096, 0.034, -0.06,
                                                         0.069, -0.457, 0.47],
                                              'weight': 1150,
                                              'year_quantiles': [1984, 1992, 1996, 2000, 2002, 2006, 2010, 2013, 2015,
                                                                 2016, 2017, 2017, 2018, 2018, 2018, 2019, 2019, 2019,
                                                                 2019, 2019, 2019, 2019, 2020, 2020, 2020, 2020,
                                                                 2020]},
                                  'neo soul': {'centre': [-0.191, -0.277, -0.187, 0.01, 0.227, 0.275, 0.048, -0.085,
                                                          -0.169, 0.02, -0.345],
                                               'weight': 1515,
                                               'year_quantiles': [1960, 1964, 1983, 1987, 1995, 1999, 2002, 2004,
                                                                  2006, 2008, 2009, 2011, 2012, 2014, 2015, 2015,
                                                                  2016, 2016, 2017, 2017, 2018, 2019, 2019, 2019,
                                                                  2019, 2019, 2020]},
                                  'new jack swing': {'centre': [0.386, 0.359, -0.253, -0.213, -0.517, 0.087, -0.146,
                                                                0.531, 0.004, 0.685, -0.519],
                                                     'weight': 1068,
                                                     'year_quantiles': [1979, 1982, 1985, 1986, 1987, 1988, 1990,
                                                                        1990, 1991, 1992, 1992, 1993, 1994, 1996,
                                                                        1997, 1998, 2000, 2002, 2003, 2005, 2007,
                                                                        2009, 2014, 2014, 2015, 2018, 2019]},
                                  'urban contemporary': {'centre': [-0.108, -0.111, 0.102, 0.14, 0.146, -0.092, 0.031,
                                                                    -0.263, 0.122, -0.168, 0.42],
                                                         'weight': 1405,
                                                         'year_quantiles': [1957, 1961, 1969, 1973, 1979, 1997, 2003,
                                                                            2008, 2012, 2014, 2015, 2016, 2016, 2017,
                                                                            2017, 2018, 2018, 2019, 2019, 2019, 2019,
                                                                            2019, 2019, 2019, 2020, 2020, 2020]}}},
            'rap': {'correlation': [[1.0, -0.182, -0.047, 0.074, -0.002, -0.15, -0.144, 0.251, -0.053, 0.011, 0.168],
                                    [-0.182, 1.0, 0.694, 0.051, -0.301, -0.19, 0.114, 0.196, 0.118, 0.177, -0.032],
                                    [-0.047, 0.694, 1.0, -0.019, -0.211, -0.287, 0.04, 0.12, 0.086, 0.172, 0.043],
                                    [0.074, 0.051, -0.019, 1.0, 0.062, -0.254, 0.041, 0.159, 0.063, 0.038, 0.001],
                                    [-0.002, -0.301, -0.211, 0.062, 1.0, 0.069, -0.024, 0.076, -0.106, -0.143,
                                     -0.032],
                                    [-0.15, -0.19, -0.287, -0.254, 0.069, 1.0, -0.027, -0.186, -0.053, -0.217,
                                     -0.095],
                                    [-0.144, 0.114, 0.04, 0.041, -0.024, -0.027, 1.0, -0.018, -0.008, 0.059, -0.006],
                                    [0.251, 0.196, 0.12, 0.159, 0.076, -0.186, -0.018, 1.0, 0.013, 0.085, 0.011],
                                    [-0.053, 0.118, 0.086, 0.063, -0.106, -0.053, -0.008, 0.013, 1.0, 0.033, 0.045],
                                    [0.011, 0.177, 0.172, 0.038, -0.143, -0.217, 0.059, 0.085, 0.033, 1.0, 0.02],
                                    [0.168, -0.032, 0.043, 0.001, -0.032, -0.095, -0.006, 0.011, 0.045, 0.02, 1.0]],
                    'key_probs': [0.0871, 0.163, 0.0784, 0.0226, 0.0611, 0.0649, 0.0826, 0.0926, 0.0818, 0.0762,
                                  0.0933, 0.0964],
                    'major_share': 0.523,
                    'n_tracks': 5486,
                    'quantiles': {'acousticness': [0.0, 0.0, 0.0002, 0.0009, 0.0024, 0.0074, 0.0138, 0.0214, 0.0304,
                                                   0.0412, 0.055, 0.0705, 0.0916, 0.111, 0.138, 0.165, 0.1973, 0.236,
                                                   0.287, 0.345, 0.42, 0.5215, 0.703, 0.8264, 0.922, 0.97, 0.994],
                                  'danceability': [0.15, 0.253, 0.3558, 0.415, 0.462, 0.5235, 0.566, 0.601, 0.631,
                                                   0.656, 0.68, 0.7, 0.718, 0.734, 0.752, 0.769, 0.7843, 0.801, 0.817,
                                                   0.835, 0.855, 0.879, 0.9068, 0.929, 0.946, 0.966, 0.975],
                                  'duration_ms': [29493.0, 66385.0, 84366.0, 102957.0, 121219.0, 140000.0, 152740.0,
                                                  162936.0, 172276.0, 180448.0, 188553.0, 195637.0, 202727.0,
                                                  210000.0, 217517.0, 224512.0, 232927.0, 240754.0, 250193.0,
                                                  260480.0, 274314.0, 291094.0, 315885.0, 341851.0, 370792.0,
                                                  448856.0, 499400.0],
                                  'energy': [0.0161, 0.0752, 0.1668, 0.246, 0.336, 0.427, 0.4748, 0.514, 0.545, 0.572,
                                             0.597, 0.623, 0.646, 0.665, 0.687, 0.707, 0.728, 0.75, 0.776, 0.8, 0.83,
                                             0.862, 0.9, 0.933, 0.956, 0.9841, 0.999],
                                  'instrumentalness': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                                       0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0002, 0.0013, 0.01, 0.25,
                                                       0.831, 0.904, 0.935, 0.96, 0.974],
                                  'liveness': [0.0094, 0.0276, 0.0417, 0.0512, 0.0608, 0.0749, 0.0841, 0.0914, 0.0973,
                                               0.103, 0.108, 0.113, 0.12, 0.128, 0.14, 0.156, 0.1792, 0.21, 0.246,
                                               0.292, 0.333, 0.3715, 0.499, 0.634, 0.7382, 0.901, 0.983],
                                  'loudness': [-26.207, -21.221, -17.369, -14.749, -12.87, -11.064, -9.957, -9.1,
                                               -8.422, -7.919, -7.491, -7.146, -6.828, -6.518, -6.231, -5.926, -5.638,
                                               -5.345, -5.054, -4.712, -4.325, -3.813, -3.101, -2.563, -1.97, -0.9,
                                               0.642],
                                  'popularity': [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 10.0, 20.0, 28.0, 34.0, 37.0, 41.0,
                                                 43.0, 46.0, 49.0, 52.0, 54.0, 56.0, 59.0, 62.0, 65.0, 69.0, 75.0,
                                                 79.0, 84.0, 91.0, 98.0],
                                  'speechiness': [0.0243, 0.0264, 0.0307, 0.0345, 0.0388, 0.0466, 0.0548, 0.0655,
                                                  0.0777, 0.0911, 0.109, 0.129, 0.15, 0.176, 0.1997, 0.225, 0.246,
                                                  0.2675, 0.289, 0.315, 0.342, 0.377, 0.4277, 0.4759, 0.5591, 0.7574,
                                                  0.877],
                                  'tempo': [38.985, 63.222, 72.974, 75.875, 78.742, 82.063, 85.954, 89.989, 92.522,
                                            95.025, 98.456, 102.652, 110.104, 119.999, 126.052, 130.061, 136.124,
                                            140.034, 145.041, 150.024, 156.965, 165.967, 174.619, 180.024, 190.032,
                                            204.033, 211.644],
                                  'valence': [0.0292, 0.0376, 0.0496, 0.0883, 0.131, 0.191, 0.24, 0.287, 0.332,
                                              0.3695, 0.407, 0.444, 0.479, 0.516, 0.543, 0.574, 0.61, 0.6465, 0.68,
                                              0.715, 0.757, 0.801, 0.864, 0.908, 0.945, 0.965, 0.977]},
                    'residual_sd': [1.0, 0.965, 0.979, 0.963, 0.95, 0.808, 0.996, 0.984, 0.989, 0.91, 0.899],
                    'subgenres': {'gangster rap': {'centre': [0.012, 0.207, 0.151, 0.391, -0.119, -0.102, 0.11,
                                                              -0.035, -0.09, 0.032, -0.406],
                                                   'weight': 1320,
                                                   'year_quantiles': [1988, 1988, 1990, 1993, 1995, 1998, 2000, 2003,
                                                                      2005, 2007, 2010, 2012, 2014, 2015, 2016, 2016,
                                                                      2017, 2017, 2018, 2018, 2018, 2019, 2019, 2019,
                                                                      2019, 2020, 2020]},
                                  'hip hop': {'centre': [0.019, -0.452, -0.341, -0.04, 0.445, 0.369, -0.071, 0.025,
                                                         -0.107, -0.543, 0.514],
                                              'weight': 1322,
                                              'year_quantiles': [1995, 1999, 2001, 2004, 2006, 2015, 2017, 2018, 2018,
                                                                 2018, 2018, 2019, 2019, 2019, 2019, 2019, 2019, 2019,
                                                                 2019, 2019, 2019, 2019, 2020, 2020, 2020, 2020,
                                                                 2020]},
                                  'southern hip hop': {'centre': [-0.007, 0.17, 0.023, 0.012, -0.378, -0.08, 0.058,
                                                                  0.218, -0.039, 0.56, -0.286],
                                                       'weight': 1617,
                                                       'year_quantiles': [1967, 1969, 1982, 1988, 1992, 1994, 1995,
                                                                          1997, 1998, 2001, 2003, 2005, 2006, 2008,
                                                                          2011, 2012, 2013, 2014, 2015, 2016, 2017,
                                                                          2017, 2018, 2019, 2019, 2019, 2019]},
                                  'trap': {'centre': [-0.024, 0.04, 0.175, -0.394, 0.147, 0.119, -0.118, -0.276,
                                                      0.264, -0.188, 0.298],
                                           'weight': 1227,
                                           'year_quantiles': [2012, 2012, 2014, 2015, 2016, 2017, 2018, 2018, 2018,
                                                              2018, 2019, 2019, 2019, 2019, 2019, 2019, 2019, 2019,
                                                              2019, 2019, 2019, 2019, 2019, 2020, 2020, 2020,
                                                              2020]}}},
            'rock': {'correlation': [[1.0, -0.139, -0.116, -0.152, 0.213, -0.042, -0.185, 0.486, -0.211, -0.134,
                                      0.055],
                                     [-0.139, 1.0, 0.703, 0.483, -0.553, -0.003, 0.153, 0.148, 0.196, -0.078, 0.005],
                                     [-0.116, 0.703, 1.0, 0.28, -0.417, -0.192, 0.092, 0.004, 0.118, -0.109, 0.074],
                                     [-0.152, 0.483, 0.28, 1.0, -0.211, -0.011, 0.097, 0.01, 0.249, -0.096, 0.032],
                                     [0.213, -0.553, -0.417, -0.211, 1.0, -0.087, -0.064, 0.031, -0.139, 0.008,
                                      -0.034],
                                     [-0.042, -0.003, -0.192, -0.011, -0.087, 1.0, 0.021, -0.044, 0.003, 0.204,
                                      -0.122],
                                     [-0.185, 0.153, 0.092, 0.097, -0.064, 0.021, 1.0, -0.057, 0.032, 0.022, -0.07],
                                     [0.486, 0.148, 0.004, 0.01, 0.031, -0.044, -0.057, 1.0, 0.062, -0.219, -0.011],
                                     [-0.211, 0.196, 0.118, 0.249, -0.139, 0.003, 0.032, 0.062, 1.0, -0.02, 0.006],
                                     [-0.134, -0.078, -0.109, -0.096, 0.008, 0.204, 0.022, -0.219, -0.02, 1.0,
                                      -0.007],
                                     [0.055, 0.005, 0.074, 0.032, -0.034, -0.122, -0.07, -0.011, 0.006, -0.007, 1.0]],
                     'key_probs': [0.1236, 0.0681, 0.1303, 0.0258, 0.0955, 0.0678, 0.0584, 0.1215, 0.0582, 0.1312,
                                   0.0449, 0.0746],
                     'major_share': 0.6947,
                     'n_tracks': 4451,
                     'quantiles': {'acousticness': [0.0, 0.0, 0.0, 0.0, 0.0001, 0.0002, 0.0005, 0.0013, 0.0025,
                                                    0.0048, 0.0088, 0.0139, 0.0236, 0.0368, 0.0563, 0.0811, 0.115,
                                                    0.158, 0.2135, 0.284, 0.379, 0.474, 0.6485, 0.7648, 0.872, 0.9551,
                                                    0.986],
                                   'danceability': [0.0, 0.162, 0.201, 0.242, 0.2795, 0.331, 0.368, 0.402, 0.427,
                                                    0.449, 0.468, 0.487, 0.504, 0.523, 0.54, 0.555, 0.574, 0.594,
                                                    0.615, 0.64, 0.669, 0.701, 0.751, 0.795, 0.8345, 0.9161, 0.956],
                                   'duration_ms': [4000.0, 75210.0, 131420.0, 146062.0, 162954.0, 178789.0, 189853.0,
                                                   198760.0, 205832.0, 212533.0, 218366.0, 224160.0, 231031.0,
                                                   236867.0, 244217.0, 253227.0, 259947.0, 268467.0, 277234.0,
                                                   289893.0, 305526.0, 328893.0, 372640.0, 415322.0, 466880.0,
                                                   511304.0, 517125.0],
                                   'energy': [0.0167, 0.0873, 0.198, 0.2865, 0.353, 0.441, 0.5095, 0.559, 0.606,
                                              0.648, 0.6845, 0.715, 0.748, 0.778, 0.806, 0.833, 0.856, 0.876, 0.898,
                                              0.916, 0.932, 0.95, 0.9695, 0.979, 0.9885, 0.9931, 0.998],
                                   'instrumentalness': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                                        0.0001, 0.0002, 0.0005, 0.0011, 0.0023, 0.0048, 0.0114,
                                                        0.0309, 0.0787, 0.198, 0.5225, 0.7625, 0.877, 0.9498, 0.969],
                                   'liveness': [0.0, 0.0251, 0.0371, 0.0458, 0.0547, 0.0674, 0.0763, 0.084, 0.0922,
                                                0.0998, 0.1075, 0.116, 0.1255, 0.137, 0.153, 0.173, 0.2015, 0.237,
                                                0.276, 0.314, 0.348, 0.387, 0.57, 0.742, 0.9135, 0.9853, 0.996],
                                   'loudness': [-26.087, -21.376, -16.941, -15.161, -13.742, -12.335, -11.236,
                                                -10.313, -9.661, -9.004, -8.399, -7.816, -7.385, -6.952, -6.495,
                                                -6.071, -5.671, -5.303, -4.918, -4.572, -4.145, -3.687, -3.171,
                                                -2.756, -2.335, -1.764, 1.275],
                                   'popularity': [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 4.0, 12.0, 20.0, 27.0, 33.0, 37.0,
                                                  41.0, 45.0, 49.0, 52.0, 55.0, 58.0, 61.0, 64.0, 67.0, 70.0, 74.0,
                                                  77.0, 79.0, 83.0, 95.0],
                                   'speechiness': [0.0, 0.0235, 0.0247, 0.0258, 0.027, 0.0287, 0.0301, 0.0316, 0.0329,
                                                   0.0346, 0.0359, 0.0375, 0.0396, 0.042, 0.0452, 0.0485, 0.0525,
                                                   0.0572, 0.0635, 0.0726, 0.0851, 0.106, 0.14, 0.1837, 0.2425,
                                                   0.4053, 0.488],
                                   'tempo': [0.0, 63.975, 73.865, 76.977, 80.98, 89.762, 94.965, 99.768, 104.114,
                                             108.873, 113.72, 117.399, 120.242, 124.011, 127.036, 130.063, 134.211,
                                             137.973, 142.09, 148.012, 155.139, 165.059, 175.144, 183.998, 196.127,
                                             205.601, 209.257],
                                   'valence': [0.0, 0.0396, 0.0846, 0.1242, 0.1625, 0.224, 0.276, 0.317, 0.356, 0.392,
                                               0.429, 0.464, 0.5, 0.53, 0.562, 0.598, 0.635, 0.677, 0.7155, 0.754,
                                               0.8015, 0.864, 0.918, 0.956, 0.965, 0.974, 0.991]},
                     'residual_sd': [0.984, 0.921, 0.926, 0.952, 0.902, 0.939, 0.998, 0.975, 0.996, 0.994, 0.93],
                     'subgenres': {'album rock': {'centre': [0.037, -0.345, -0.4, -0.221, 0.377, 0.063, 0.029, -0.078,
                                                             -0.095, 0.106, -0.077],
                                                  'weight': 1065,
                                                  'year_quantiles': [1963, 1964, 1967, 1969, 1970, 1973, 1974, 1976,
                                                                     1978, 1980, 1983, 1985, 1986, 1988, 1992, 1996,
                                                                     2000, 2005, 2005, 2007, 2010, 2012, 2015, 2017,
                                                                     2019, 2019, 2019]},
                                   'classic rock': {'centre': [0.191, -0.204, -0.225, -0.135, 0.332, 0.013, -0.071,
                                                               0.325, -0.046, 0.11, -0.065],
                                                    'weight': 1142,
                                                    'year_quantiles': [1957, 1962, 1966, 1969, 1970, 1972, 1975, 1976,
                                                                       1978, 1980, 1982, 1986, 1990, 1995, 2000, 2004,
                                                                       2005, 2008, 2009, 2011, 2015, 2018, 2019, 2019,
                                                                       2019, 2020, 2020]},
                                   'hard rock': {'centre': [-0.279, 0.625, 0.579, 0.494, -0.671, -0.074, 0.092,
                                                            -0.272, 0.13, -0.147, -0.283],
                                                 'weight': 1211,
                                                 'year_quantiles': [1963, 1967, 1970, 1973, 1976, 1983, 1988, 1997,
                                                                    2001, 2004, 2006, 2008, 2010, 2011, 2013, 2014,
                                                                    2017, 2018, 2019, 2019, 2019, 2019, 2019, 2019,
                                                                    2020, 2020, 2020]},
                                   'permanent wave': {'centre': [0.077, -0.152, -0.018, -0.202, 0.032, 0.113, -0.059,
                                                                 0.039, -0.003, -0.059, 0.523],
                                                      'weight': 1033,
                                                      'year_quantiles': [1964, 1965, 1968, 1971, 1975, 1981, 1984,
                                                                         1986, 1988, 1991, 1994, 1997, 1999, 2001,
                                                                         2003, 2005, 2007, 2009, 2012, 2015, 2017,
                                                                         2019, 2019, 2019, 2020, 2020, 2020]}}}},
 'probs': [0.0, 0.002, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75,
           0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 0.998, 1.0]}
