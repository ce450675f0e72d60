"""Helpers that play the user's side of a login against the sandbox, over real HTTP.

`approve(url)` is the browser: it opens Spotify's (the sandbox's) authorization page with
`auto_approve=1` and follows the redirect to tastebot's loopback callback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterable

import requests

CLIENT_ID = "0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redirect_uri(port: int | None = None, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port or free_port()}/callback"


def approve(url: str, *, follow: bool = True, timeout: float = 10.0) -> requests.Response:
    """Approve at the authorization page; with follow, the redirect lands on the callback."""
    sep = "&" if "?" in url else "?"
    return requests.get(url + sep + "auto_approve=1", headers={"Accept": "application/json"},
                        allow_redirects=follow, timeout=timeout)


def approve_in_thread(url: str, errors: list | None = None) -> threading.Thread:
    def run() -> None:
        try:
            approve(url)
        except Exception as exc:  # surfaced by the caller through `errors`
            if errors is not None:
                errors.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def sandbox_settings(sb, **overrides: Any):
    """Settings pointing at the sandbox, with the test client id and a free redirect port."""
    from tastebot.settings import load_settings

    overrides.setdefault("client_id", CLIENT_ID)
    overrides.setdefault("redirect_uri", redirect_uri())
    return load_settings(spotify_url=sb.url, **overrides)


def login_to(sb, *, timeout: float = 20.0, settings=None, **overrides: Any) -> dict:
    """Complete a real login in this process (tastebot.auth.login driven by approve())."""
    from tastebot.spotify.login import login

    settings = settings or sandbox_settings(sb, **overrides)
    errors: list = []
    result = login(
        settings,
        open_browser=False,
        timeout=timeout,
        show_url=lambda url: approve_in_thread(url, errors),
        notice=lambda text: None,
    )
    if errors:
        raise errors[0]
    return result


# -- the CLI in a subprocess -----------------------------------------------------------------

def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("COLUMNS", "200")
    return env


def run_cli(args: list[str], *, env: dict | None = None, input: str | None = None,
            timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tastebot", *args], env=env or cli_env(), input=input,
                          capture_output=True, text=True, timeout=timeout)


def start_cli(args: list[str], *, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tastebot", *args], env=env or cli_env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_url_line(proc: subprocess.Popen, timeout: float = 30.0) -> str:
    """The first stdout line of a `login --no-browser` (the authorization URL, alone on its line)."""
    box: dict[str, str] = {}
    t = threading.Thread(target=lambda: box.setdefault("line", proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    line = box.get("line", "")
    if not line:
        proc.kill()
        raise AssertionError("login printed no URL; stderr: " + (proc.stderr.read() if proc.stderr else ""))
    return line.rstrip("\n")


def wait_until_listening(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {host}:{port}")


# -- looking for leaked tokens ----------------------------------------------------------------

def issued_tokens(sb) -> set[str]:
    """Every access and refresh token the sandbox has handed out."""
    state = sb.state
    with state.lock:
        return set(state.access_tokens) | set(state.refresh_tokens)


def files_under(*roots: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    skip = {Path(p).resolve() for p in exclude}
    found = []
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file() and path.resolve() not in skip:
                found.append(path)
    return found


def leaks(tokens: Iterable[str], texts: dict[str, str | bytes]) -> list[str]:
    """Names of the texts that contain any token (or a long piece of one)."""
    found = []
    for name, text in texts.items():
        blob = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
        for token in tokens:
            # A 24-character slice is enough to identify a token even if it was cut or wrapped.
            if token.encode() in blob or token[:24].encode() in blob or token[-24:].encode() in blob:
                found.append(name)
                break
    return found


if __name__ == "__main__":
    # A stand-in browser for `BROWSER="python login_helpers.py %s"`: approve, follow to the callback.
    approve(sys.argv[1])
