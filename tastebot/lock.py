"""One writer at a time per home: commands that change state hold this lock."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from filelock import FileLock, Timeout

from tastebot.errors import HomeBusy, StoreError, no_room
from tastebot.settings import Settings


@contextmanager
def home_lock(settings: Settings) -> Iterator[None]:
    """Hold the home's lock, waiting up to `settings.lock_wait` seconds for another command to finish."""
    settings.ensure_home()
    lock = FileLock(str(settings.lock_path))
    try:
        lock.acquire(timeout=settings.lock_wait)
    except Timeout:
        raise HomeBusy(
            f"Another tastebot command is using {settings.home}; wait for it to finish and try again."
        ) from None
    except OSError as exc:  # a read-only home, a full disk: the lock file cannot be made
        why = (no_room(settings.lock_path, exc.errno)
               or f"Cannot write to the tastebot home {settings.home}: {exc.strerror or exc}")
        raise StoreError(f"{why}.") from None
    try:
        yield
    finally:
        lock.release()
