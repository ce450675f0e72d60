"""All rich output lives here: messages and progress on stderr, tables and JSON on stdout.

Text that came from outside (Spotify names, URLs, a callback's query) is always escaped before it
is printed as markup, so nobody can inject rich markup into a terminal.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence

from rich.console import Console

from tastebot import notices
from tastebot.jsontext import dumps
from tastebot.wording import human_seconds
from rich.markup import escape as _escape_markup
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

# stderr carries everything for humans so stdout stays clean for --json and pipes.
# soft_wrap: a one-line message stays one line whatever the width (paths are long; scripts grep them).
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

__all__ = ["err", "out", "escape", "info", "warn", "error", "success", "print_json", "table", "progress", "results"]

_warned: set[str] = set()
# Control characters (ESC sequences above all) from outside text must not reach a terminal.
_CONTROL = {c: f"\\x{c:02x}" for c in list(range(0x00, 0x20)) + [0x7F] if chr(c) not in "\n\t"}


def escape(text: str) -> str:
    """Outside text made safe to print: rich markup escaped, control characters shown as \\xNN."""
    return _escape_markup(str(text).translate(_CONTROL))



def results(as_json: bool = False) -> Console:
    """Where a command's human-readable results go: stdout, so `tastebot status | less` works; on
    stderr when stdout carries --json (stdout then holds one JSON document and nothing else)."""
    return err if as_json else out


def info(message: str) -> None:
    err.print(message)


def warn(message: str, *, once_key: str | None = None) -> None:
    """A warning on stderr; with once_key, at most once per process (e.g. the keyring fallback)."""
    if once_key is not None:
        if once_key in _warned:
            return
        _warned.add(once_key)
    err.print(f"[yellow]warning:[/] {message}")


def error(message: str, hint: str | None = None) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        err.print(f"[dim]{escape(hint)}[/]")


def success(message: str) -> None:
    err.print(f"[green]✓[/] {message}")


def print_json(data: Any) -> None:
    """Machine-readable output on stdout: plain JSON, no colour, one document."""
    sys.stdout.write(dumps(data) + "\n")
    sys.stdout.flush()


def table(
    columns: Sequence[str | tuple[str, dict[str, Any]]],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    console: Console | None = None,
    **table_options: Any,
) -> Table:
    """Render a table; cells are escaped (they are usually names from Spotify). table_options go to
    rich's Table (e.g. box)."""
    t = Table(title=title, header_style="bold", **table_options)
    for col in columns:
        if isinstance(col, tuple):
            t.add_column(col[0], **col[1])
        else:
            t.add_column(col)
    for row in rows:
        t.add_row(*(escape(str(c)) if c is not None else "" for c in row))
    (console or err).print(t)
    return t


@contextmanager
def progress(transient: bool = False) -> Iterator[Progress]:
    """A rich progress display on stderr; it degrades to nothing when stderr is not a terminal."""
    p = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=transient,
        disable=not err.is_terminal,
    )
    with p:
        yield p


def countdown(seconds: float, text: str) -> None:
    """Wait `seconds`, showing `text` ("{}" = the time left) as a live status line on a terminal,
    as one line otherwise."""
    import time

    from rich.errors import LiveError

    end = time.monotonic() + seconds
    if err.is_terminal:
        try:
            with err.status(escape(text.format(human_seconds(seconds)))) as status:
                while (left := end - time.monotonic()) > 0:
                    status.update(escape(text.format(human_seconds(left))))
                    time.sleep(min(1.0, left))
            return
        except LiveError:  # a progress display is already live: fall back to one line
            pass
    info(escape(text.format(human_seconds(seconds))))
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(1.0, left))


def install_notices() -> None:
    """Show the library's notices (tastebot.notices) on stderr: what the CLI's main() does first."""
    notices.listen(notices.Listener(
        info=lambda text: info(escape(text)),
        warn=lambda text, once_key=None: warn(escape(text), once_key=once_key),
        wait=countdown,
    ))
