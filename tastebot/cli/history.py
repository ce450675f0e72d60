"""`tastebot history import`: the listener's own Spotify data export as likes, dislikes and sessions."""

from __future__ import annotations

import click

from tastebot.cli import settings_from


@click.group("history")
def history() -> None:
    """Your own Spotify listening history (the data export) as likes, skips and sessions."""


@history.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--offline", is_flag=True,
              help="Ask Spotify nothing: no title search for the basic export, no track metadata lookups.")
@click.option("--lookups", type=click.IntRange(min=0), default=1000, show_default=True,
              help="At most this many Spotify requests (searches and track lookups) in this run; "
                   "run the import again to go on.")
@click.option("--json", "as_json", is_flag=True, help="Print the import summary (counts) as JSON on stdout.")
@click.pass_context
def history_import(ctx, paths, offline, lookups, as_json) -> None:
    """Import your Spotify data export: my_spotify_data.zip, the folder inside it, or single files.

    \b
    Reads Streaming_History_Audio_*.json and endsong_*.json (extended
    streaming history), StreamingHistory_music_*.json (account data: titles
    without ids, matched by Spotify search) and YourLibrary.json. Tracks you
    played to the end again and again become likes; tracks you skipped
    within seconds, more than once and never finished, become dislikes;
    podcasts, audiobooks, private sessions and playback errors are ignored.
    Your listening sessions join the corpus of the collaborative score.
    IP addresses, user agents, country, username and platform are never
    stored. See docs/history.md for the rules.

    \b
    One transaction: a file that is not a listening history, or belongs to
    another account, stops the import and nothing of it is kept. Importing
    a file again changes nothing.

    \b
    Exit codes: 0 imported, 2 bad file (the message names the file and the
    entry) or another account's file, 74 the store cannot be written, 75
    another command holds the home, 130 interrupted (nothing of the files
    kept).
    """
    from tastebot import console
    from tastebot.imports.history import Reporter, describe, expand_paths, import_history
    from tastebot.lock import home_lock
    from tastebot.store import open_store
    from tastebot.wording import plural

    settings = settings_from(ctx)
    files = expand_paths(paths)
    client = None
    if not offline:
        from tastebot.spotify.client import SpotifyClient

        client = SpotifyClient(settings)
    with home_lock(settings), open_store(settings) as store, console.progress() as progress:
        task = progress.add_task("reading", total=len(files))
        state = {"plays": 0, "first": True}

        class _Progress(Reporter):
            def file(self, name, size):
                if not state["first"]:
                    progress.advance(task)
                state["first"] = False
                progress.update(task, description=f"reading {console.escape(name.rsplit('/', 1)[-1])}")

            def entries(self, n):
                state["plays"] += n
                progress.update(task, description=f"{state['plays']:,} plays")

            def notice(self, text):
                progress.console.print(f"[yellow]•[/] {console.escape(text)}")

        summary = import_history(store, paths, client=client, lookups=lookups, reporter=_Progress())
        progress.update(task, completed=len(files))
    data = summary.as_dict()
    if as_json:
        console.print_json(data)
    for line in describe(summary):
        console.info(console.escape(line))
    s, sess = summary.signals, summary.sessions
    console.success(
        f"Imported {plural(summary.plays_read, 'play')} ({summary.plays_new:,} new) from {plural(len(summary.files), 'file')}: "
        f"{plural(s['likes'], 'like')}, {plural(s['dislikes'], 'dislike')}"
        + (f", {plural(s['library_likes'], 'library like')}" if s["library_likes"] else "")
        + f", {plural(sess['sessions'], 'listening session')} ({sess['new']:,} new in the corpus). "
        "Run `tastebot harvest` for audio features, then `tastebot train`."
    )
