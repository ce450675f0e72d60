"""What the examples share: where the settings come from, and a throw-away sandbox with a login.

Not an example itself. Without `--sandbox` an example uses the settings tastebot always uses
(`TASTEBOT_HOME`, `TASTEBOT_SPOTIFY_URL`, ... from the environment or `.env`), so it works on a home
you logged in to with `tastebot login` (the real Spotify, or a sandbox from `tastebot sandbox serve`).
With `--sandbox` it starts the Spotify stand-in inside the process, logs in to it without a browser
(the sandbox approves on request, as a user clicking "Agree" would) and keeps everything in a
temporary home that is deleted at the end.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

from tastebot.settings import Settings, load_settings

# Any 32-hex id does for the sandbox; a real app's id comes from developer.spotify.com.
SANDBOX_CLIENT_ID = "0123456789abcdef0123456789abcdef"


def say(text: str) -> None:
    """Progress for humans on stderr, so stdout stays clean for --json."""
    print(text, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _approve(url: str, errors: list) -> None:
    """The user's click on "Agree": the sandbox approves and redirects to tastebot's loopback callback."""
    import requests

    try:
        sep = "&" if "?" in url else "?"
        requests.get(url + sep + "auto_approve=1", headers={"Accept": "application/json"}, timeout=20)
    except Exception as exc:  # reported by login() timing out; kept for the message
        errors.append(exc)


def sandbox_login(settings: Settings) -> dict:
    """Log in to the sandbox through tastebot's real PKCE flow, approving without a browser."""
    from tastebot.spotify.login import login

    errors: list = []
    result = login(
        settings,
        open_browser=False,
        timeout=30,
        show_url=lambda url: threading.Thread(target=_approve, args=(url, errors), daemon=True).start(),
        notice=lambda text: None,
    )
    if errors:
        raise errors[0]
    return result


@contextmanager
def session(use_sandbox: bool, *, profile: str = "development", seed: int = 7, n_tracks: int = 600,
            log_in: bool = True) -> Iterator[tuple[Settings, object | None]]:
    """(settings, sandbox or None). With use_sandbox: an in-process sandbox, a temporary home and,
    when log_in, a completed login; tokens go to the temporary home's 0600 file, never to your keyring."""
    if not use_sandbox:
        settings = load_settings()
        where = f"; Spotify: {settings.spotify_url or 'the real Spotify'}" if log_in else ""
        say(f"tastebot home: {settings.home}{where}")
        yield settings, None
        return
    from tastebot.sandbox import Sandbox

    with tempfile.TemporaryDirectory(prefix="tastebot-example-") as home, \
            Sandbox(profile=profile, seed=seed, n_tracks=n_tracks) as sb:
        settings = load_settings(
            home=home, spotify_url=sb.url, client_id=SANDBOX_CLIENT_ID,
            redirect_uri=f"http://127.0.0.1:{_free_port()}/callback", insecure_storage=True,
        )
        say(f"sandbox ({profile} app) at {sb.url}; temporary home {home}")
        if log_in:
            sandbox_login(settings)
            say("logged in to the sandbox")
        yield settings, sb
