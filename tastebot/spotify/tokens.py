"""Where the Spotify tokens live: the OS keyring, or a 0600 file when no keyring works.

`TokenStore` is a `spotipy.cache_handler.CacheHandler`, so spotipy's auth managers read and write
through it. The token_info JSON goes to the keyring under the service `tastebot` and a username
naming the home (two homes, e.g. the sandbox demo and the real account, never share a login).

Keyring calls run in a helper thread with a deadline (`settings.keyring_timeout`): a locked or
hanging keyring must not freeze a command. Any keyring failure (no backend on a headless Linux,
a timeout, a D-Bus error) falls back to `settings.token_file`, written atomically with mode 0600
inside a 0700 folder, and says so once (through tastebot.notices: on stderr in the CLI).
`--insecure-storage` picks the file outright.

Nothing in this module ever puts a token in a message or an exception.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from spotipy.cache_handler import CacheHandler

from tastebot import notices
from tastebot.errors import StoreError
from tastebot.settings import Settings

KEYRING_SERVICE = "tastebot"
KEYRING = "keyring"
FILE = "file"


class KeyringUnavailable(Exception):
    """The keyring failed or did not answer in time. The message names the cause, never a secret."""


def keyring_username(settings: Settings) -> str:
    """One keyring entry per home."""
    return f"home:{settings.home.expanduser().absolute()}"


def _call_keyring(fn_name: str, args: tuple, timeout: float) -> Any:
    """Run keyring.<fn_name>(*args) in a daemon thread; raise KeyringUnavailable on failure or delay."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            import keyring  # imported here: resolving a backend may itself be slow (D-Bus)

            box["value"] = getattr(keyring, fn_name)(*args)
        except BaseException as exc:  # noqa: BLE001 - every failure means "no usable keyring"
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"keyring-{fn_name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise KeyringUnavailable(f"the keyring did not answer within {timeout:g} s")
    if "error" in box:
        exc = box["error"]
        # Only the exception's type: some backends echo their arguments (a password) in messages.
        if type(exc).__name__ == "PasswordDeleteError":
            raise exc
        if type(exc).__name__ == "NoKeyringError":
            raise KeyringUnavailable("no keyring backend is available")
        raise KeyringUnavailable(f"the keyring failed ({type(exc).__name__})")
    return box.get("value")


def write_private_file(path: Path, text: str, *, private_dir: bool = True) -> None:
    """Write text to path atomically, readable by the owner only (file 0600; folder 0700 if private_dir).

    The temp file is created 0600 from the start, so the text is never readable by others, not even
    for a moment; os.replace makes the switch atomic.
    """
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if private_dir:
        os.chmod(parent, 0o700)
    tmp = parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _parse_token(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("access_token"):
        return None
    return data


class TokenStore(CacheHandler):
    """spotipy CacheHandler over the OS keyring with a 0600 file fallback.

    storage: "keyring" (default, falls back to the file), or "file" (chosen outright, e.g. by
    --insecure-storage or by the kind a previous login used). After each read or write,
    `self.kind` says where the token actually is.
    """

    def __init__(self, settings: Settings, storage: str | None = None):
        if storage is None:
            storage = FILE if settings.insecure_storage else KEYRING
        if storage not in (KEYRING, FILE):
            raise ValueError(f"unknown token storage {storage!r}")
        self.settings = settings
        self.storage = storage
        self.kind = storage
        self.username = keyring_username(settings)
        self._keyring_failure: str | None = None

    # -- locations ---------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.settings.token_file

    def describe(self, kind: str | None = None) -> str:
        kind = kind or self.kind
        if kind == KEYRING:
            return f"the system keyring (service {KEYRING_SERVICE!r})"
        return f"{self.path} (readable only by you)"

    @property
    def _fallback_noted(self) -> Path:
        """Marker in the home: this home was told once that the keyring is not used (no secret in it)."""
        return self.settings.home / ".keyring-fallback-noted"

    def _fallback_warning(self, reason: str) -> None:
        # Once per home, not on every command: after the first time the marker keeps it quiet.
        if self._fallback_noted.exists():
            return
        notices.warn(
            f"{reason}: the Spotify token is kept in {self.path} "
            "(mode 0600) instead of the system keyring. To choose the file and silence this, log in with "
            "`tastebot login --insecure-storage` (or set TASTEBOT_INSECURE_STORAGE=1). Said once for this home.",
            once_key="tastebot-keyring-fallback",
        )
        try:
            self._fallback_noted.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._fallback_noted.write_text(reason + "\n", encoding="utf-8")
        except OSError:
            pass  # a read-only home: the warning simply comes again next time

    # -- the file ----------------------------------------------------------------------------
    def _read_file(self) -> dict | None:
        try:
            return _parse_token(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StoreError(f"Cannot read the token file {self.path}: {exc.strerror}.") from None

    def _write_file(self, token_info: dict) -> None:
        try:
            write_private_file(self.path, json.dumps(token_info))
        except OSError as exc:
            raise StoreError(f"Cannot write the token file {self.path}: {exc.strerror}.") from None

    def _delete_file(self) -> bool:
        try:
            self.path.unlink()
            return True
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StoreError(
                f"Cannot remove the token file {self.path}: {exc.strerror}. The token is still there.",
                hint=f"Make {self.path.parent} writable and run the command again, or delete the file yourself.",
            ) from None

    # -- the keyring -------------------------------------------------------------------------
    def _keyring(self, fn_name: str, *args: Any) -> Any:
        # Once the keyring failed, this store stops asking: a hanging keyring costs one timeout, not one per call.
        if self._keyring_failure is not None:
            raise KeyringUnavailable(self._keyring_failure)
        try:
            return _call_keyring(fn_name, (KEYRING_SERVICE, self.username, *args), self.settings.keyring_timeout)
        except KeyringUnavailable as exc:
            self._keyring_failure = str(exc)
            raise

    # -- CacheHandler ------------------------------------------------------------------------
    def get_cached_token(self) -> dict | None:
        if self.storage == FILE:
            self.kind = FILE
            return self._read_file()
        try:
            token = _parse_token(self._keyring("get_password"))
        except KeyringUnavailable as exc:
            token = self._read_file()
            if token is not None:
                self._fallback_warning(str(exc))
            self.kind = FILE
            return token
        if token is not None:
            self.kind = KEYRING
            return token
        # The keyring works but holds nothing: a login made while it was broken may be in the file.
        token = self._read_file()
        self.kind = FILE if token is not None else KEYRING
        return token

    def save_token_to_cache(self, token_info: dict) -> None:
        if self.storage == FILE:
            self._write_file(token_info)
            self.kind = FILE
            return
        try:
            self._keyring("set_password", json.dumps(token_info))
        except KeyringUnavailable as exc:
            self._fallback_warning(str(exc))
            self._write_file(token_info)
            self.kind = FILE
            return
        self.kind = KEYRING
        self._delete_file()  # one place only: no stale copy left in a file

    def delete(self) -> list[str]:
        """Remove the token from the keyring and the file; return the kinds it was removed from."""
        removed: list[str] = []
        try:
            self._keyring("delete_password")
            removed.append(KEYRING)
        except KeyringUnavailable:
            pass
        except Exception:  # PasswordDeleteError: nothing stored there
            pass
        if self._delete_file():
            removed.append(FILE)
        # The marker stays: a missing keyring is the machine's, not the login's, and the warning
        # promises to be said once for this home (it came again at each login after a logout).
        return removed
