"""`tastebot login`, `tastebot status`, `tastebot logout`. Heavy imports stay inside the commands."""

from __future__ import annotations

import sys

import click

from tastebot.cli import settings_from


@click.command()
@click.option("--client-id", metavar="ID",
              help="Your Spotify app's client ID. [env: TASTEBOT_CLIENT_ID or SPOTIPY_CLIENT_ID; "
                   "default: the one the last login used]")
@click.option("--redirect-uri", metavar="URI",
              help="The redirect URI registered in your Spotify app, exactly; it must be http://127.0.0.1:PORT/... "
                   "or http://[::1]:PORT/... [env: TASTEBOT_REDIRECT_URI; default: http://127.0.0.1:8888/callback]")
@click.option("--no-browser", is_flag=True,
              help="Do not open a browser: print the authorization URL on stdout, then finish through the callback "
                   "or by pasting the address the browser was sent to on stdin.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=300.0, show_default=True,
              metavar="SECONDS", help="How long to wait for the authorization.")
@click.option("--insecure-storage", is_flag=True, default=None,
              help="Keep the token in a file readable only by you (mode 0600) instead of the system keyring. "
                   "[env: TASTEBOT_INSECURE_STORAGE]")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_context
def login(ctx: click.Context, client_id, redirect_uri, no_browser, timeout, insecure_storage, as_json) -> None:
    """Log in to Spotify (PKCE: no client secret) and keep the token in the system keyring.

    \b
    You need your own Spotify app (free): see docs/login.md. In short, at
    https://developer.spotify.com/dashboard create an app, add the redirect URI
    http://127.0.0.1:8888/callback, tick "Web API", and copy its client ID.
    Development-mode apps need Premium, and every user (at most 5) must be added
    under User Management.

    \b
    Exit codes: 0 logged in, 2 bad client ID or redirect URI, 4 login refused or
    timed out, 69 Spotify unreachable.
    """
    from tastebot import console
    from tastebot.spotify import login as auth

    settings = settings_from(ctx, client_id=client_id, redirect_uri=redirect_uri, insecure_storage=insecure_storage)

    def show_url(url: str) -> None:
        console.info("Open this address in a browser and approve tastebot:")
        click.echo(url)  # alone on its own line on stdout, so scripts can pick it up
        sys.stdout.flush()
        console.info(
            "[dim]Waiting for the browser to reach the callback; on another machine, paste here the address it "
            "was sent to (it starts with the redirect URI) and press Enter.[/]"
        )

    result = auth.login(
        settings,
        open_browser=not no_browser,
        timeout=timeout,
        paste_from=sys.stdin,
        show_url=show_url,
    )
    name = result.get("display_name") or result["user_id"]
    if as_json:
        console.print_json({k: v for k, v in result.items() if k != "api_url"})
    console.success(f"Logged in as {console.escape(name)} ({console.escape(result['user_id'])}).")
    console.info(f"Token kept in {console.escape(result['token_location'])}.")
    if result.get("app_kind") == "development":
        console.info("[dim]Development-mode app: Spotify serves no audio features to it; tastebot gets them "
                     "from other providers (see `tastebot features --help`).[/]")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON on stdout.")
@click.option("--recheck", is_flag=True, help="Probe again whether the app is in development mode or has extended quota.")
@click.pass_context
def status(ctx: click.Context, as_json: bool, recheck: bool) -> None:
    """Show who is logged in, where the token lives, and what kind of Spotify app this is.

    \b
    Exit codes: 0 logged in, 4 not logged in (or the login expired).
    """
    from tastebot import console
    from tastebot.spotify import login as auth

    settings = settings_from(ctx, reads_only=True)
    report = auth.status(settings, recheck=recheck)
    if as_json:
        console.print_json(report)
    # With --json the person still reads the status, on stderr (docs/architecture.md, "Output").
    _render_status(report, as_json)
    if not report["logged_in"]:
        ctx.exit(4)


def _render_status(report: dict, as_json: bool = False) -> None:
    from tastebot import console

    where = report["spotify"] + (" (sandbox)" if report.get("sandbox") else "")
    if not report["logged_in"]:
        console.error(report.get("reason") or "Not logged in: run `tastebot login`.")
        console.info(f"Spotify: {console.escape(where)}")
        return
    user = report.get("user") or {}
    name = user.get("display_name") or user.get("id") or "?"
    kind = {"development": "development mode (no audio features, 5 users at most)",
            "extended": "extended quota"}.get(report.get("app_kind") or "", "unknown (not probed yet)")
    rows = [
        ("Logged in as", f"{name} ({user.get('id')})"),
        ("Spotify", where),
        ("App", f"{kind}, client ID {report.get('client_id')}"),
        ("Token kept in", report.get("token_location")),
        ("Scopes", " ".join(report.get("scopes") or []) or "none"),
        ("Access token expires", f"{report.get('access_token_expires_at')} (renewed automatically)"),
        ("Login valid until about", f"{report.get('refresh_token_expires_estimate') or 'unknown'} "
                                    "(then run `tastebot login` again)"),
    ]
    from rich.table import Table

    grid = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, console.escape(str(value)))
    console.results(as_json).print(grid)
    if report.get("missing_scopes"):
        console.warn(console.escape("this login lacks the scopes " + ", ".join(report["missing_scopes"]) +
                                    ": run `tastebot login` again to grant them."))
    if not report.get("verified"):
        console.warn(console.escape(f"could not check the login with Spotify: {report.get('problem')}"))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_context
def logout(ctx: click.Context, as_json: bool) -> None:
    """Forget the Spotify login: remove the token from the keyring and the token file.

    Access is revoked at Spotify itself only in your account's app settings
    (https://www.spotify.com/account/apps/). Exit code 0 even when nobody was logged in.
    """
    from tastebot import console
    from tastebot.spotify import login as auth

    settings = settings_from(ctx)
    result = auth.logout(settings)
    if as_json:
        console.print_json(result)
    if result["was_logged_in"]:
        user = result.get("user") or {}
        who = user.get("display_name") or user.get("id")
        console.success(f"Logged out{' ' + console.escape(who) if who else ''}; the token was removed.")
    else:
        console.info("Nobody was logged in; nothing to remove.")
    console.info(f"To revoke tastebot's access at Spotify too, remove the app at {result['revoke_at']}.")
