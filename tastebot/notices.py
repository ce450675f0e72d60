"""What library code has to tell the person at the terminal, handed to whoever listens.

Library modules never print (only `cli/` and `console.py` do). When one has something to say that
is not a result (a keyring fallback, a rate-limit wait), it calls `notices.info`, `notices.warn` or
`notices.wait` here. The CLI's `main()` installs the console's handlers (`console.install_notices`);
with none installed (tastebot used as a library), messages go to the `tastebot` logger (Python shows
warnings on stderr when logging is not configured) and a wait is a plain sleep.

Texts are plain (no rich markup); whoever shows them escapes them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from tastebot.wording import human_seconds

_log = logging.getLogger("tastebot")


def _log_wait(seconds: float, text: str) -> None:
    _log.info(text)
    time.sleep(seconds)


@dataclass
class Listener:
    info: Callable[[str], None] = _log.info
    warn: Callable[[str, str | None], None] = lambda text, once_key=None: _log.warning(text)
    # wait(seconds, text): wait that long, showing text (which holds "{}" for the time left)
    wait: Callable[[float, str], None] = lambda seconds, text: _log_wait(seconds, text.format(human_seconds(seconds)))


_listener = Listener()


def listen(listener: Listener | None) -> None:
    """Send the notices to `listener` from now on (None: back to the logger)."""
    global _listener
    _listener = listener or Listener()


def info(text: str) -> None:
    _listener.info(text)


def warn(text: str, *, once_key: str | None = None) -> None:
    """A warning; with once_key, the listener says it at most once per process."""
    _listener.warn(text, once_key)


def wait(seconds: float, text: str) -> None:
    """Wait `seconds`, telling the person why; `text` holds "{}" where the time left goes."""
    _listener.wait(seconds, text)
