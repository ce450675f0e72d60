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
