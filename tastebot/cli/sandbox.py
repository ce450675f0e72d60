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
