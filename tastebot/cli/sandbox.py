"""`tastebot sandbox serve`: a local stand-in for Spotify, ReccoBeats, Deezer and Last.fm, for trying tastebot without
an account and for tests that run tastebot in a subprocess."""

from __future__ import annotations

import click

PROFILE_HELP = ("development: what an app registered today gets (every 2026 restriction); "
                "extended: the old full API (audio features, public playlists, popularity, genres).")


@click.group("sandbox")
def sandbox() -> None:
    """A local test server that imitates Spotify (Accounts + Web API), ReccoBeats, Deezer and Last.fm.

    \b
    It holds made-up data only and listens on 127.0.0.1. Point tastebot at it with
      TASTEBOT_SPOTIFY_URL=http://127.0.0.1:PORT
    """


@sandbox.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1; 0 picks a free one (printed on start).")
@click.option("--profile", type=click.Choice(["development", "extended"]), default="development",
              show_default=True, help=PROFILE_HELP)
@click.option("--catalog", "catalog_file", type=click.Path(dir_okay=False, path_type=str),
              help="Serve this catalogue JSON (format: docs/sandbox-catalog.md) instead of a generated one.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated catalogue and of the faults.")
@click.option("--tracks", "n_tracks", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Tracks in the generated catalogue.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Delay added to every API answer.")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of API requests answered 500/502/503.")
@click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of API connections closed without an answer.")
@click.option("--lost-answer-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of API requests carried out and then answered 502 (a write that did happen).")
@click.option("--rate-limit", type=click.IntRange(min=1), default=None,
              help="At most N API calls per rolling 30 s; then 429 with Retry-After.")
@click.option("--retry-after", type=click.FloatRange(min=0), default=1, show_default=True,
              help="Seconds the 429 answers ask clients to wait.")
@click.option("--token-ttl", type=click.FloatRange(min=1), default=3600, show_default=True,
              help="Seconds an access token lives.")
@click.option("--refresh-ttl", type=click.FloatRange(min=1), default=None,
              help="Seconds a refresh token lives after the first login (default: forever).")
def serve(port: int, profile: str, catalog_file: str | None, seed: int, n_tracks: int, latency_ms: float,
          fault_rate: float, drop_rate: float, lost_answer_rate: float, rate_limit: int | None, retry_after: float, token_ttl: float,
          refresh_ttl: float | None) -> None:
    """Run the sandbox until Ctrl-C or SIGTERM.

    Prints its URL on stdout (one line) and what it serves on stderr. Faults apply to /v1,
    /api/token and /reccobeats; /deezer and /lastfm have their own (POST /_sandbox/discovery);
    /_sandbox/stats counts requests per endpoint.

    \b
    Exit codes: 0 stopped by Ctrl-C or SIGTERM, 2 bad input (a catalogue
    file that is not one, a port that cannot be listened on).
    """
    import signal
    import sys
    import threading

    from tastebot import console
    from tastebot.errors import InputError
    from tastebot.sandbox import Sandbox

    try:
        sb = Sandbox(catalog=catalog_file, profile=profile, port=port, seed=seed, n_tracks=n_tracks,
                     latency_ms=latency_ms, fault_rate=fault_rate, rate_limit=rate_limit, retry_after=retry_after,
                     token_ttl=token_ttl, refresh_ttl=refresh_ttl, drop_rate=drop_rate,
                     lost_answer_rate=lost_answer_rate)
    except ValueError as exc:
        raise InputError(f"sandbox: {exc}") from None
    try:
        sb.start()
    except OSError as exc:
        raise InputError(f"sandbox: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    cat = sb.catalog
    console.err.print("[bold]tastebot sandbox[/]: a local TEST server imitating Spotify, ReccoBeats, Deezer and Last.fm. "
                      "It is not Spotify.")
    console.err.print(f"profile {profile}; {len(cat['tracks'])} tracks, {len(cat['artists'])} artists, "
                      f"{len(cat['playlists'])} playlists; listener {console.escape(cat['listener']['user_id'])}")
    console.err.print(f"use it with: TASTEBOT_SPOTIFY_URL={sb.url}   (Ctrl-C or SIGTERM stops it)")
    print(sb.url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
        stats = sb.stats()
        console.err.print(f"sandbox stopped after {stats['total']} requests.")
        sys.stdout.flush()


@sandbox.command("export-history")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=str))
@click.option("--catalog", "catalog_file", type=click.Path(dir_okay=False, path_type=str),
              help="The listener of this catalogue JSON instead of a generated one.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the generated catalogue (as `sandbox serve --seed`) and of the plays.")
@click.option("--tracks", "n_tracks", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Tracks in the generated catalogue (as `sandbox serve --tracks`).")
@click.option("--plays", type=click.IntRange(min=1, max=2_000_000), default=20_000, show_default=True,
              help="Plays in the export (about 100,000 for two years of daily listening).")
@click.option("--years", type=click.FloatRange(min=0.1, max=20), default=2.0, show_default=True,
              help="How many years the plays span, up to the catalogue's clock.")
@click.option("--format", "formats", type=click.Choice(["both", "extended", "basic"]), default="both",
              show_default=True, help="Extended streaming history, the basic account data, or both.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON on stdout.")
def export_history(out_dir: str, catalog_file: str | None, seed: int, n_tracks: int, plays: int, years: float,
                   formats: str, as_json: bool) -> None:
    """Write the sandbox listener's Spotify data export (made up) into DIR.

    \b
    Plays and skips follow the listener's hidden taste, with noise
    (shuffle, skips of liked songs, repeats, podcasts, private sessions).
    Import it with `tastebot history import DIR` against a sandbox started
    with the same --seed and --tracks (or --catalog).
    """
    from tastebot import console
    from tastebot.errors import InputError
    from tastebot.sandbox import generate_catalog, load_catalog
    from tastebot.sandbox.history import export_history as write_export

    catalog = load_catalog(catalog_file) if catalog_file else generate_catalog(seed=seed, n_tracks=n_tracks)
    chosen = ("extended", "basic") if formats == "both" else (formats,)
    try:
        written = write_export(catalog, out_dir, plays=plays, seed=seed, years=years, formats=chosen)
    except OSError as exc:
        raise InputError(f"Cannot write the export into {out_dir}: {exc.strerror or exc}.") from None
    if as_json:
        console.print_json(written)
    console.success(f"Wrote {written['plays']:,} plays of the sandbox listener into {console.escape(out_dir)} "
                    f"({len(written['files'])} files).")
