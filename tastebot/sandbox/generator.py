"""The sandbox's built-in world: a realistic, deterministic catalogue (format: tastebot/sandbox/format.py,
docs/sandbox-catalog.md) with one listener of hidden taste.

The audio features follow a Gaussian copula fitted per genre from 28k real Spotify tracks
(benchmarks/fit_sandbox_distributions.py writes it to `feature_model.json` beside this module,
shipped with the package because users do not have the data).
"""

from __future__ import annotations

import json
import math
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from tastebot.errors import InputError
from tastebot.sandbox.format import FEATURE_BOUNDS, FORMAT
from tastebot.sandbox.taste import draw_taste
from tastebot.vocab import AUDIO_FEATURES, SPOTIFY_DECIMALS

GENRES = ("pop", "rap", "rock", "latin", "r&b", "edm")
# Fitted by benchmarks/fit_sandbox_distributions.py from ../shared/data/tidytuesday_spotify_songs.csv
# (28k real Spotify tracks in 471 genre playlists, TidyTuesday 2020-01-21, MIT). Do not edit by hand.
FEATURE_MODEL_FILE = "feature_model.json"
DISLIKE_PLAYLIST_NAME = "Not for me"
# The generated world's clock: fixed, so a seed always gives the same timestamps.
CATALOG_NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)

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
        model = json.loads((Path(__file__).with_name(FEATURE_MODEL_FILE)).read_text(encoding="utf-8"))
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
        from scipy.special import ndtr  # here: only generating a catalogue needs scipy

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
        low, high, integral = FEATURE_BOUNDS[name]
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
