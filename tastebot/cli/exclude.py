"""`tastebot exclude add|remove|list`. Heavy imports stay inside the commands."""

from __future__ import annotations

import click

from tastebot.cli import settings_from

KIND = click.option("--kind", type=click.Choice(["artist", "track", "playlist"]), default=None,
                    help="What bare ids are (URIs and links say it themselves).")
JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")


@click.group()
def exclude() -> None:
    """Keep artists and tracks out of every recommendation, and playlists out of your taste.

    \b
    An excluded artist or track is never recommended. An excluded playlist
    (a child's, a sleep playlist) teaches nothing: the harvest skips it and
    what it taught so far is dropped at once; retrain to apply it to the model.
    Give URIs (spotify:artist:ID), links (https://open.spotify.com/track/ID)
    or bare ids with --kind.

    \b
    Exit codes: 0 done, 2 bad input (not a URI, link or id; a bare id
    without --kind), 74 the store cannot be read or written, 75 another
    command holds the home, 130 interrupted.
    """


@exclude.command("add")
@click.argument("refs", nargs=-1, required=True, metavar="URI_OR_URL...")
@KIND
@JSON
@click.pass_context
def exclude_add(ctx, refs, kind, as_json) -> None:
    """Exclude artists, tracks or playlists."""
    from tastebot.exclusions import add_exclusions

    _render(add_exclusions(settings_from(ctx), refs, kind), "excluded", "already excluded", as_json)


@exclude.command("remove")
@click.argument("refs", nargs=-1, required=True, metavar="URI_OR_URL...")
@KIND
@JSON
@click.pass_context
def exclude_remove(ctx, refs, kind, as_json) -> None:
    """Lift exclusions."""
    from tastebot.exclusions import remove_exclusions

    from tastebot import console

    changes = remove_exclusions(settings_from(ctx), refs, kind)
    _render(changes, "no longer excluded", "was not excluded", as_json)
    if any(c.changed and c.kind == "playlist" for c in changes):
        # What a playlist taught was dropped when it was excluded; only a harvest reads it again.
        console.info("Run `tastebot harvest` to learn from the playlist again, then `tastebot train` to apply it "
                     "to the model.")


@exclude.command("list")
@JSON
@click.pass_context
def exclude_list(ctx, as_json) -> None:
    """Every exclusion."""
    from tastebot import console
    from tastebot.exclusions import list_exclusions

    rows = list_exclusions(settings_from(ctx, reads_only=True))
    if as_json:
        console.print_json({"exclusions": rows})
    console.table(["kind", "id", "name", "since"],
                  [(r["kind"], r["spotify_id"], r["name"] or "", r["added_at"][:10]) for r in rows],
                  title=f"{len(rows)} exclusions", console=console.results(as_json))


def _render(changes, done: str, unchanged: str, as_json: bool) -> None:
    from tastebot import console

    if as_json:
        console.print_json({"changes": [c.as_dict() for c in changes]})
    for c in changes:
        what = f"{c.kind} {c.spotify_id}" + (f" ({c.name})" if c.name else "")
        (console.success if c.changed else console.info)(f"{console.escape(what)}: {done if c.changed else unchanged}.")
