"""The non-secret login state (login.json) and the two readers of the Spotify client id.

The Spotify app's client id is written in two places with two meanings: Settings.client_id (option,
environment, .env, config.toml) names the app the NEXT login uses; login.json's client_id names the
app the STORED token belongs to, and a token refreshes only with the id that obtained it.
`resolve_client_id` (a login) and `token_client_id` (everything after) are the only readers.
"""

from __future__ import annotations

import json
from typing import Any

from tastebot.errors import ConfigError, StoreError
from tastebot.settings import Settings
from tastebot.spotify.tokens import write_private_file
from tastebot.vocab import now_iso

__all__ = ["read_state", "update_state", "remember_app_kind", "token_client_id", "resolve_client_id", "DASHBOARD_URL"]

DASHBOARD_URL = "https://developer.spotify.com/dashboard"


def read_state(settings: Settings) -> dict[str, Any]:
    """The saved non-secret login facts; {} when there are none or the file is unreadable."""
    try:
        data = json.loads(settings.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(settings: Settings, data: dict[str, Any]) -> None:
    settings.ensure_home()
    # Same atomic writer as the token file: a crash never leaves half a JSON document.
    try:
        write_private_file(settings.state_file, json.dumps(data, indent=2, sort_keys=True), private_dir=False)
    except OSError as exc:
        raise StoreError(f"Cannot write {settings.state_file}: {exc.strerror}.") from None


def update_state(settings: Settings, **changes: Any) -> dict[str, Any]:
    """Merge changes into login.json (a value of None removes the key) and return the result."""
    data = read_state(settings)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    _write_state(settings, data)
    return data


def remember_app_kind(settings: Settings, kind: str) -> None:
    update_state(settings, app_kind=kind, app_kind_checked_at=now_iso())


def token_client_id(settings: Settings, state: dict[str, Any] | None = None) -> str | None:
    """The app the saved login belongs to (login.json), else the configured one (a login made
    before login.json recorded it)."""
    state = read_state(settings) if state is None else state
    return state.get("client_id") or settings.client_id


def resolve_client_id(settings: Settings) -> str:
    """For a new login: --client-id > environment / .env files / config.toml (all in Settings) > the
    last login's (so `tastebot login` again needs no option)."""
    client_id = settings.client_id or read_state(settings).get("client_id")
    if not client_id:
        raise ConfigError(
            "No Spotify client ID: pass --client-id, set TASTEBOT_CLIENT_ID (or SPOTIPY_CLIENT_ID) in the "
            "environment or in a .env file (here or in the tastebot home), or put client_id in config.toml.",
            hint=f"Create a Spotify app at {DASHBOARD_URL} to get one (see docs/login.md).",
        )
    client_id = str(client_id).strip()
    if not client_id.isascii() or any(c.isspace() for c in client_id) or len(client_id) > 128:
        raise ConfigError("The Spotify client ID must be the app's ID as the dashboard shows it (32 letters and digits).")
    return client_id

