"""Where tastebot keeps its state and which services it talks to.

Every setting comes, in this order of precedence, from: an explicit argument (a CLI option),
the process environment, a `.env` file in the working directory, a `.env` file in the home,
`config.toml` in the home, and the default. `.env.example` lists every variable.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import click

from tastebot.errors import ConfigError, NotEnoughData

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

APP_NAME = "tastebot"
SPOTIFY_ACCOUNTS_URL = "https://accounts.spotify.com"
SPOTIFY_API_URL = "https://api.spotify.com/v1/"
RECCOBEATS_URL = "https://api.reccobeats.com/v1"
DEEZER_URL = "https://api.deezer.com"
LASTFM_URL = "https://ws.audioscrobbler.com/2.0"
# The discovery providers (tastebot.discovery), in the order they are asked: the one registration of a
# provider, whose module is tastebot/discovery/<name>.py (docs/architecture.md, "Adding a source").
DISCOVERY_PROVIDERS = ("deezer", "lastfm")
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8888/callback"

# The scopes of API-2026.md: everything harvest, recommend and playlist writing need, nothing more.
SCOPES = (
    "user-read-recently-played",
    "user-top-read",
    "user-library-read",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-private",
    "playlist-modify-public",
    "user-follow-read",
)

# Environment variable -> (Settings field, parser). `.env.example` documents each one.
ENV_VARS: dict[str, str] = {
    "TASTEBOT_HOME": "home",
    "TASTEBOT_SPOTIFY_URL": "spotify_url",
    "TASTEBOT_CLIENT_ID": "client_id",
    "SPOTIPY_CLIENT_ID": "client_id",
    "TASTEBOT_REDIRECT_URI": "redirect_uri",
    "TASTEBOT_RECCOBEATS_URL": "reccobeats_url",
    "TASTEBOT_DISCOVERY": "discovery",
    "TASTEBOT_DEEZER_URL": "deezer_url",
    "TASTEBOT_LASTFM_URL": "lastfm_url",
    "TASTEBOT_LASTFM_API_KEY": "lastfm_api_key",
    "TASTEBOT_INSECURE_STORAGE": "insecure_storage",
    "TASTEBOT_KEYRING_TIMEOUT": "keyring_timeout",
    "TASTEBOT_MAX_WAIT": "max_wait",
    "TASTEBOT_LOCK_WAIT": "lock_wait",
    "TASTEBOT_REQUEST_TIMEOUT": "request_timeout",
    "TASTEBOT_DISLIKE_PLAYLISTS": "dislike_playlists",
    "TASTEBOT_LIKE_PLAYLISTS": "like_playlists",
    "TASTEBOT_REPEAT_WINDOW_DAYS": "repeat_window_days",
    "TASTEBOT_EPOCHS": "train_epochs",
    "TASTEBOT_ENSEMBLE": "train_ensemble",
}

# `tastebot train`'s defaults for --epochs and --ensemble, and their allowed ranges: a slow machine
# or a CI job sets smaller ones once instead of on every command.
TRAIN_RANGES = {"train_epochs": (1, 1000), "train_ensemble": (1, 10)}


def default_home() -> Path:
    return Path(click.get_app_dir(APP_NAME))


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    # Origin of a Spotify stand-in (the sandbox). None means the real Spotify.
    spotify_url: str | None = None
    client_id: str | None = None
    redirect_uri: str = DEFAULT_REDIRECT_URI
    # None: Spotify -> the public ReccoBeats; sandbox -> its /reccobeats emulation.
    reccobeats_url: str | None = None
    # Discovery providers to ask for artists related to the listener's (tastebot.discovery); Last.fm
    # works only with the user's own API key. URLs None: the public services, or the sandbox's
    # emulations when spotify_url is set.
    discovery: tuple[str, ...] = DISCOVERY_PROVIDERS
    deezer_url: str | None = None
    lastfm_url: str | None = None
    lastfm_api_key: str | None = None
    insecure_storage: bool = False
    keyring_timeout: float = 5.0
    max_wait: float = 60.0
    # How long a command waits for another tastebot command on the same home before exit 75 (a
    # scheduled job that may meet a long manual run can wait longer).
    lock_wait: float = 10.0
    request_timeout: float = 20.0
    dislike_playlists: tuple[str, ...] = ()
    like_playlists: tuple[str, ...] = ()
    # What tastebot put in a playlist in the last this many days is not recommended again
    # (`recommend --allow-repeats` lifts it; 0 = no window: repeats allowed at once).
    repeat_window_days: float = 30.0
    train_epochs: int = 30
    train_ensemble: int = 3
    # What named the home: "--home", "TASTEBOT_HOME", or None for the default home.
    home_named_by: str | None = field(default=None, compare=False, repr=False)

    # -- derived locations: one home holds everything --------------------------------------
    @property
    def store_path(self) -> Path:
        return self.home / "tastebot.db"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def token_file(self) -> Path:
        """The 0600 fallback token file, used only when no keyring works or on request."""
        return self.home / "credentials" / "token.json"

    @property
    def lock_path(self) -> Path:
        return self.home / ".lock"

    @property
    def state_file(self) -> Path:
        """Non-secret login facts: client id, user, app kind."""
        return self.home / "login.json"

    # -- services --------------------------------------------------------------------------
    @property
    def is_sandbox(self) -> bool:
        return self.spotify_url is not None

    @property
    def accounts_url(self) -> str:
        return (self.spotify_url or SPOTIFY_ACCOUNTS_URL).rstrip("/")

    @property
    def api_url(self) -> str:
        """The Web API prefix spotipy uses, ending with a slash."""
        if self.spotify_url:
            return self.spotify_url.rstrip("/") + "/v1/"
        return SPOTIFY_API_URL

    @property
    def features_url(self) -> str:
        """ReccoBeats base, without a trailing slash (append /audio-features)."""
        if self.reccobeats_url:
            return self.reccobeats_url.rstrip("/")
        if self.spotify_url:
            return self.spotify_url.rstrip("/") + "/reccobeats/v1"
        return RECCOBEATS_URL

    def open_service_url(self, given: str | None, public: str, sandbox_path: str) -> str:
        """An open service's base: `given` (an override) > the sandbox's `sandbox_path` > `public`."""
        if given:
            return given.rstrip("/")
        if self.spotify_url:
            return self.spotify_url.rstrip("/") + sandbox_path
        return public

    @property
    def deezer_base(self) -> str:
        """Deezer's API base, without a trailing slash (append /search/artist, /artist/ID/related)."""
        return self.open_service_url(self.deezer_url, DEEZER_URL, "/deezer")

    @property
    def lastfm_base(self) -> str:
        """Last.fm's API endpoint (methods go in the query string), without a trailing slash."""
        return self.open_service_url(self.lastfm_url, LASTFM_URL, "/lastfm/2.0")

    def ensure_home(self) -> Path:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"Cannot create the tastebot home {self.home}: {exc.strerror}.") from None
        return self.home

    def require_home(self) -> Path:
        """For commands that only read: a home named by --home or TASTEBOT_HOME must exist already.
        Creating it would hide a mistyped path behind "no data"; the default home is made on first use."""
        if self.home_named_by is not None and not self.home.is_dir():
            raise NotEnoughData(
                f"{self.home_named_by} names a folder that does not exist: {self.home}. Check the path; "
                "`tastebot login` and `tastebot harvest` start a new home there."
            )
        return self.home

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def _parse_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}.")


def _parse_float(name: str, value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}.") from None
    if x < 0:
        raise ConfigError(f"{name} must not be negative.")
    return x


def _parse_count(name: str, value: Any, low: int, high: int) -> int:
    try:
        x = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None
    if not low <= x <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {x}.")
    return x


def _parse_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


def _parse_discovery(source: str, value: Any) -> tuple[str, ...]:
    names = tuple(n.lower() for n in _parse_list(value))
    if names in {("none",), ("off",)}:
        return ()
    unknown = [n for n in names if n not in DISCOVERY_PROVIDERS]
    if unknown:
        raise ConfigError(f"{source}: unknown discovery provider {unknown[0]!r} "
                          f"(choose from {', '.join(DISCOVERY_PROVIDERS)}, or none).")
    return tuple(dict.fromkeys(names))


def _coerce(field_name: str, source: str, value: Any) -> Any:
    if field_name == "home":
        return Path(str(value)).expanduser()
    if field_name == "insecure_storage":
        return value if isinstance(value, bool) else _parse_bool(source, str(value))
    if field_name in {"keyring_timeout", "max_wait", "lock_wait", "request_timeout", "repeat_window_days"}:
        return float(value) if isinstance(value, (int, float)) else _parse_float(source, str(value))
    if field_name in TRAIN_RANGES:
        return _parse_count(source, value, *TRAIN_RANGES[field_name])
    if field_name in {"dislike_playlists", "like_playlists"}:
        return _parse_list(value)
    if field_name == "discovery":
        return _parse_discovery(source, value)
    v = str(value).strip()
    optional = {"spotify_url", "client_id", "reccobeats_url", "deezer_url", "lastfm_url", "lastfm_api_key"}
    return v or None if field_name in optional else v


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values  # here: only when a .env file exists; settings load on every start

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _read_config(home: Path) -> dict[str, Any]:
    path = home / "config.toml"
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}.") from None
    known = set(Settings.__dataclass_fields__) - {"home", "home_named_by"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}.")
    return data


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None, **overrides: Any) -> Settings:
    """Settings from overrides > environment > ./.env > HOME/.env > HOME/config.toml > defaults.

    Overrides whose value is None are ignored, so CLI options can be passed straight through.
    """
    env = dict(os.environ if environ is None else environ)
    cwd = Path.cwd() if cwd is None else cwd
    cwd_env = _read_dotenv(cwd / ".env")

    def lookup(layers: list[Mapping[str, str]]) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for layer in layers:
            for var, fname in ENV_VARS.items():
                if var in layer and fname not in found and layer[var] != "":
                    found[fname] = (var, layer[var])
        return found

    # The home must be known before its own .env and config can be read.
    home_layers = lookup([env, cwd_env])
    if overrides.get("home") is not None:
        home, origin = Path(overrides["home"]).expanduser(), "--home"
    elif "home" in home_layers:
        home, origin = Path(home_layers["home"][1]).expanduser(), home_layers["home"][0]
    else:
        home, origin = default_home(), "the default home"
    if home.exists() and not home.is_dir():
        # Name where the value came from: the user may never have typed --home.
        raise ConfigError(f"{origin} points at a file, not a folder: {home}. "
                          "tastebot keeps its state in a folder; give another path.")

    values: dict[str, Any] = {"home": home, "home_named_by": None if origin == "the default home" else origin}
    for fname, raw in _read_config(home).items():
        values[fname] = _coerce(fname, f"config.toml {fname}", raw)
    for fname, (var, raw) in lookup([env, cwd_env, _read_dotenv(home / ".env")]).items():
        if fname != "home":
            values[fname] = _coerce(fname, var, raw)
    for fname, raw in overrides.items():
        if raw is not None:
            if fname not in Settings.__dataclass_fields__:
                raise TypeError(f"unknown setting {fname}")
            values[fname] = _coerce(fname, f"--{fname.replace('_', '-')}", raw)
    return Settings(**values)
