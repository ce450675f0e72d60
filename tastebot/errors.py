"""One exception hierarchy for the library; the CLI turns each into a one-line message and an exit code.

Exit codes (documented in the README):
  0  success
  1  an unexpected failure inside tastebot (a bug: please report it)
  2  bad input: a wrong option, file, URI or configuration
  3  not enough data to do what was asked (e.g. too few likes to train)
  4  not logged in, or the login expired: run `tastebot login`
  69 Spotify (or a feature provider) unavailable or refusing after retries
  74 local I/O failure: the store, the models folder or the disk
  75 temporary: rate-limited for longer than --max-wait, or another command holds the home;
     progress is saved, try again later
  130 interrupted (Ctrl-C)
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path


class TastebotError(Exception):
    """Base of every error tastebot reports to a user. The message is one line, safe to print."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(TastebotError):
    """The user gave something tastebot cannot use (option, file, URI, configuration)."""

    exit_code = 2


class ConfigError(InputError):
    """A setting is missing or wrong (client id, redirect URI, home)."""


class NotEnoughData(TastebotError):
    exit_code = 3


class NotLoggedIn(TastebotError):
    exit_code = 4

    def __init__(self, message: str = "Not logged in: run `tastebot login`.", **kw):
        super().__init__(message, **kw)


class LoginExpired(NotLoggedIn):
    """The refresh token was refused (`invalid_grant`): only a new login helps."""

    def __init__(self, message: str = "Your Spotify login has expired or was revoked: run `tastebot login` again.", **kw):
        super().__init__(message, **kw)


class AuthError(TastebotError):
    """The login flow itself failed (refused, timed out, state mismatch)."""

    exit_code = 4


class SpotifyError(TastebotError):
    """Spotify (or the sandbox) answered with an error tastebot cannot work around."""

    exit_code = 69

    def __init__(self, message: str, *, status: int | None = None, endpoint: str | None = None, **kw):
        super().__init__(message, **kw)
        self.status = status
        self.endpoint = endpoint


class UncertainWrite(SpotifyError):
    """A write (create a playlist, add tracks) failed in a way that leaves open whether Spotify
    carried it out: a 5xx, a dropped connection, a timeout. The caller reads back what is there
    before trying again, so nothing is written twice."""


class FeatureProviderError(SpotifyError):
    """A source of audio features refused or vanished."""


class DiscoveryError(SpotifyError):
    """A discovery provider (Deezer, Last.fm) refused, vanished or answered nonsense: recommend goes on
    without it and says so."""


class RateLimited(TastebotError):
    """Asked to wait longer than --max-wait. Progress is saved; retry after `retry_after` seconds."""

    exit_code = 75

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class HomeBusy(TastebotError):
    """Another tastebot command holds the lock on this home."""

    exit_code = 75


class StoreError(TastebotError):
    """The local store cannot be opened, read or written (corrupt, read-only, disk full)."""

    exit_code = 74


class ModelError(TastebotError):
    """A saved model is missing, half-written, corrupt or from an incompatible version."""

    exit_code = 74


# Below this much free space a failed write is put down to a full disk.
NEARLY_FULL_BYTES = 1 << 20


def _size(n: float) -> str:
    """Bytes as `df -h` shows them, in words."""
    if n < 1024:
        return f"{n:.0f} bytes"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} TB"


def no_room(path: Path | str, err: int | None = None) -> str | None:
    """Why a write to `path` found no room, as `df` (or `ulimit -f`) would say it, or None when there
    is room: SQLite reports a full disk as "disk I/O error" when the write it lost was not the data's."""
    if err is not None and err not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return None
    path = Path(path)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        usage = None
    if err in (errno.ENOSPC, errno.EDQUOT) or (usage is not None and usage.free < NEARLY_FULL_BYTES):
        where = f" ({_size(usage.free)} free of {_size(usage.total)})" if usage is not None else ""
        return f"The disk holding {path} is full{where}: free some space and run the command again"
    limit = _file_size_limit()
    if err == errno.EFBIG or (limit is not None and _largest_beside(path) + NEARLY_FULL_BYTES >= limit):
        what = f" of {_size(limit)}" if limit is not None else ""
        return (f"No room to write {path}: this process may not write files over its file-size limit{what} "
                "(`ulimit -f`); raise the limit and run the command again")
    return None


def write_failure(path: Path | str, exc: OSError) -> str:
    """The one-line message for an OSError while writing `path` (no trailing full stop)."""
    return no_room(path, exc.errno) or f"Cannot write {path}: {exc.strerror or exc}"


def _file_size_limit() -> int | None:
    try:
        import resource
    except ImportError:  # Windows has no rlimits
        return None
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def _largest_beside(path: Path) -> int:
    """The largest file of `path`'s family (the store's -wal and -journal beside it)."""
    sizes = [0]
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")):
        try:
            sizes.append(os.stat(p).st_size)
        except OSError:
            pass
    return max(sizes)
