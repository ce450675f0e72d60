"""`tastebot recommend` and `tastebot corpus import`. Heavy imports stay inside the commands."""

from __future__ import annotations

import click

from tastebot.cli import settings_from
from tastebot.vocab import MOODS, STEER_TOLERANCE, STEERABLE_FEATURES

# Every field of a recommendation, in the order --csv writes them.
CSV_FIELDS = (
    "rank", "track_id", "name", "artist", "score", "taste", "mlp", "hybrid", "collab", "artist_affinity", "content",
    "sources", "nearest_liked", "shared_playlists", "shared_playlist_names", "why", "uri", "url", "artist_id", "album_id", "taste_only",
)


def _default_name() -> str:
    from datetime import date

    return f"tastebot {date.today().isoformat()}"


def _steering_options(command):
    """--mood, --energy, --valence, ... (vocab.STEERABLE_FEATURES), --seed-track, --years, --popularity,
    --allow-repeats (click shows options in the reverse of the order they are added here)."""
    command = click.option("--allow-repeats", is_flag=True,
                           help="Allow tracks tastebot put in a playlist in the last TASTEBOT_REPEAT_WINDOW_DAYS days "
                                "(default 30).")(command)
    command = click.option("--popularity", default=None, metavar="VALUE|LOW-HIGH",
                           help="Only tracks with this Spotify popularity (0-100; unknown to development-mode apps).")(command)
    command = click.option("--years", default=None, metavar="YEAR|FROM-TO",
                           help="Only tracks released in these years, e.g. 1990-1999.")(command)
    command = click.option("--seed-track", "seed_tracks", multiple=True, metavar="URI_OR_URL",
                           help="More like these (repeatable): rank by taste and nearness in sound to them.")(command)
    for name in reversed(STEERABLE_FEATURES):
        unit = " BPM" if name == "tempo" else ""
        command = click.option(f"--{name}", name, metavar="VALUE|LOW-HIGH", default=None,
                               help=f"Only tracks with {name} in this range, or within {STEER_TOLERANCE[name]:g}{unit} "
                                    "of this value.")(command)
    return click.option("--mood", type=click.Choice(list(MOODS)), default=None,
                        help="A preset of the ranges below (docs/recommend.md); an explicit one wins.")(command)


@click.command()
@click.option("-n", "n", type=click.IntRange(min=1), default=None,
              help="How many tracks to recommend (at most 10,000); fewer when fewer fit, and a warning says why. "
                   "[default: 30; with --from-playlist every track of the playlists]")
@click.option("--from-playlist", "from_playlists", multiple=True, metavar="URI_OR_URL",
              help="Rank only this playlist's tracks by your taste (repeatable). Other candidate sources are off.")
@click.option("--new-artists-only", is_flag=True, help="Leave out every artist you already know.")
@click.option("--max-per-artist", type=click.IntRange(min=0), default=None,
              help="At most this many tracks per artist (0 = no cap). [default: 2; no cap with --from-playlist]")
@click.option("--diversity", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="0 = pure score order; up to 1 = trade score for variety of sound (MMR on audio features).")
@click.option("--blend", "blend_weight", type=click.FloatRange(0.0, 1.0), default=None, metavar="W",
              help="Rank by the plain linear blend instead of the learned ranking: "
                   "W*rank(taste model) + (1-W)*rank(hybrid score); 1 = the taste model alone, 0 = the hybrid alone. "
                   "Default: the learned ranking `tastebot train` fitted.")
@click.option("--ranking", type=click.Choice(["auto", "learned", "fusion", "taste", "collab"]), default="auto",
              show_default=True,
              help="What to rank by: auto = what `tastebot train` chose for you on held-out likes (`tastebot train` "
                   "says which); fusion = the taste model's order fused with the playlist co-occurrence's; taste or "
                   "collab = one of them alone; learned = the learned ranking over all the evidence.")
@click.option("--taste-model", type=click.Choice(["both", "mlp", "forest"]), default="both", show_default=True,
              help="The taste model's members: the mean of the MLP and the forest (both), or one alone, for comparison.")
@click.option("--per-source", type=click.IntRange(min=1), default=None, metavar="K",
              help="Candidates each retriever may add to the pool. [default: 1000]")
@click.option("--feature-budget", type=click.IntRange(min=0), default=None, metavar="TRACKS",
              help="Most candidates to request audio features for in one run. [default: 3000]")
@click.option("--no-search", is_flag=True, help="Do not search Spotify for candidates.")
@click.option("--no-albums", is_flag=True, help="Do not read albums of your artists for candidates.")
@click.option("--no-corpus", is_flag=True, help="Do not use the imported playlist corpus for candidates.")
@click.option("--no-discovery", is_flag=True,
              help="Do not ask the open services (Deezer; Last.fm with your key) for artists related to yours.")
@click.option("--create-playlist", is_flag=True, help="Put the recommendations in a new playlist in your account.")
@click.option("--update-playlist", "update_playlist", default=None, metavar="NAME_OR_URI",
              help="Replace the items of a playlist tastebot made (its name, URI or link) with the new picks; "
                   "its id, and so its followers, stay. For a weekly refresh: docs/scheduling.md.")
@click.option("--name", default=None, help='Name of the playlist. [default: "tastebot <date>"]')
@click.option("--public", is_flag=True, help="Make the playlist public (default: private).")
@click.option("--dry-run", is_flag=True, help="With --create-playlist or --update-playlist: show what would be written, write nothing.")
@click.option("--offline", is_flag=True, help="Use no Spotify requests: candidates from the corpus only, no playlist.")
@click.option("--json", "as_json", is_flag=True, help="Print every field as JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print every field as CSV on stdout.")
@click.option("--collab-seed", "seed", type=int, default=0, show_default=True,
              help="Seed of the collaborative score's matrix factorisation, when it is fitted for this run "
                   "(repeatable runs); nothing to do with --seed-track.")
@click.option("--seed", "old_seed", type=int, default=None, hidden=True)  # the old spelling of --collab-seed
@click.option("--max-wait", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Longest rate-limit wait to sit out (exit 75 beyond it). [env: TASTEBOT_MAX_WAIT; default 60]")
@_steering_options
@click.pass_context
def recommend(ctx, n, from_playlists, new_artists_only, max_per_artist, diversity, blend_weight, ranking, taste_model,
              per_source, feature_budget, no_search, no_albums, no_corpus, no_discovery, create_playlist, update_playlist, name, public,
              dry_run, offline, as_json, as_csv, seed, old_seed, max_wait, allow_repeats, mood, seed_tracks, years, popularity,
              **features) -> None:
    """Recommend tracks you have never heard, ranked by your taste; optionally as a playlist.

    \b
    Candidates come from several retrievers, each named in the reasons:
    the imported corpus (co-occurrence with your likes, factor neighbours,
    your artists' other tracks), the taste model over every corpus track
    with audio features, Spotify search by your top artists, genres and
    years, and albums of artists you like or follow; or only from
    --from-playlist playlists. Removed first: everything you saved, played,
    topped or listed, what tastebot put in a playlist in the last 30 days
    (--allow-repeats keeps them), the same songs under other ids (same ISRC,
    or same title and artist, e.g. remasters), and every artist and track
    you excluded (`tastebot exclude`).
    Steer by sound with --mood or --energy/--valence/--danceability/
    --acousticness/--tempo ranges, by --years or --popularity, or toward
    --seed-track tracks; fewer picks than -n when too few fit (said so).
    The order is what `tastebot train` chose for you on likes it held out
    (--ranking): the taste model, the playlist co-occurrence, their fusion
    or a learned ranking; the score is the track's standing in that order.
    Each pick says why. See docs/recommend.md.

    \b
    Exit codes: 0 done, 2 bad input, 3 not enough data (harvest first),
    4 not logged in, 69 Spotify unavailable, 74 store or model unreadable,
    75 rate-limited or the home is busy (a playlist write or refresh resumes
    when run again: no second playlist, no duplicate track), 130 interrupted.
    """
    from contextlib import nullcontext

    from tastebot import console
    from tastebot.errors import InputError

    seed = seed if old_seed is None else old_seed
    if as_json and as_csv:
        raise InputError("Choose one of --json and --csv.")
    if create_playlist and update_playlist:
        raise InputError("Choose one of --create-playlist and --update-playlist.")
    if dry_run and not (create_playlist or update_playlist):
        raise InputError("--dry-run goes with --create-playlist or --update-playlist.")
    for flag, given in (("--public", public), ("--name", name is not None)):
        if given and not create_playlist:
            raise InputError(f"{flag} goes with --create-playlist.")
    if offline and (create_playlist or update_playlist or from_playlists):
        raise InputError("--offline cannot create playlists, refresh them or read --from-playlist playlists.")
    from tastebot.recommend import PlaylistTarget, RecommendOptions, recommend_to_playlist
    from tastebot.recommend.steering import Steering

    settings = settings_from(ctx, reads_only=True, max_wait=max_wait)
    options = RecommendOptions(
        n=n, from_playlists=tuple(from_playlists), new_artists_only=new_artists_only, max_per_artist=max_per_artist,
        diversity=diversity, blend_weight=blend_weight, ranking=None if ranking == "auto" else ranking,
        taste_members=("mlp", "forest") if taste_model == "both" else (taste_model,), use_search=not no_search,
        use_albums=not no_albums, use_corpus=not no_corpus, use_discovery=not no_discovery, seed=seed,
        allow_repeats=allow_repeats,
        steering=Steering.from_options(mood=mood, years=years, popularity=popularity, seed_tracks=seed_tracks, **features),
        **({"per_source": per_source} if per_source is not None else {}),
        **({"feature_budget": feature_budget} if feature_budget is not None else {}),
    )
    target = (PlaylistTarget(name=name or _default_name(), public=public, dry_run=dry_run) if create_playlist
              else PlaylistTarget(update=update_playlist, dry_run=dry_run) if update_playlist else None)
    with console.progress(transient=True) as progress:
        task = progress.add_task("recommending", total=None)
        delivery = recommend_to_playlist(settings, options, target, offline=offline,
                                         progress=lambda: nullcontext(progress),
                                         say=lambda text: progress.update(task, description=text))
    if delivery.resumed:
        _render_resumed(delivery.resumed, as_json=as_json)
        return
    for w in delivery.result.warnings:
        console.warn(console.escape(w))
    if delivery.result.seed_tracks:
        console.info("Seed tracks used: " + "; ".join(
            console.escape(f"{s['name'] or s['track_id']}" + (f" by {s['artist']}" if s["artist"] else "")
                           + ("" if s["audio_features"] else " (no audio features: nearness by metadata)"))
            for s in delivery.result.seed_tracks) + ". Picks they moved up say so in “why”.")
    _render(delivery.result, as_json=as_json, as_csv=as_csv, playlist=delivery.playlist)


def _render_resumed(done, *, as_json: bool) -> None:
    from tastebot import console

    for r in done:
        console.success(f"Finished the playlist “{console.escape(r.name)}” an earlier run started "
                        f"({r.already_there} tracks were there, {r.added_now} added): {r.url}")
    if as_json:
        console.print_json({"resumed_playlists": [r.as_dict() for r in done]})
    for r in done:
        console.results(as_json).print(r.url)


def _render(result, *, as_json: bool, as_csv: bool, playlist) -> None:
    import csv
    import sys

    from tastebot import console

    if as_json:
        data = result.as_dict()
        if playlist is not None:
            data["playlist"] = playlist.as_dict()
        console.print_json(data)
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(CSV_FIELDS)
        for r in result.recommendations:
            d = r.as_dict()
            writer.writerow(["|".join(map(str, d[f])) if isinstance(d[f], list) else ("" if d[f] is None else d[f])
                             for f in CSV_FIELDS])
    else:
        console.table(
            [("#", {"justify": "right"}), "title", "artist", ("score", {"justify": "right"}), "why"],
            # A pick whose name is unknown (offline, from a corpus of ids alone) is shown by its link.
            [(r.rank, r.name or r.url, r.artist, f"{r.score:.3f}", r.why) for r in result.recommendations],
            title=f"{len(result.recommendations)} tracks you have never heard",
            # With --json the table moves to stderr: stdout carries the JSON alone (docs/architecture.md).
            console=console.results(as_json),
        )
        removed = ", ".join(f"{v} {k}" for k, v in result.removed.items()) or "nothing"
        console.info(
            f"Candidates: {result.candidates.get('total', 0)} ({', '.join(f'{k} {v}' for k, v in result.candidates.items() if k != 'total')}); "
            f"removed as heard: {removed}. Ranked by {result.blend_from}"
            + (f", w={result.blend_weight:.2f}." if result.ranking == "blend" else ".")
        )
        discovery = [(k, v) for k, v in result.sources.items() if k.startswith("discovery")]
        if discovery:
            console.info("Discovery: " + "; ".join((k.split(":", 1)[1] + " " if ":" in k else "") + v
                                                   for k, v in discovery))
    if playlist is not None:
        verb = "replace the items of" if playlist.spotify_id else "create"
        if playlist.dry_run:
            console.info(f"Dry run: would {verb} “{console.escape(playlist.name)}” with {playlist.tracks} tracks; nothing written.")
        else:
            console.success(f"Playlist “{console.escape(playlist.name)}”: {playlist.tracks} tracks.")
            console.results(as_json).print(playlist.url)


@click.group()
def corpus() -> None:
    """The playlist corpus behind the collaborative score (import, features, status).

    \b
    Exit codes: 0 done, 2 a file that is not a corpus file (nothing of it
    kept) or no such file, 74 the store cannot be read or written, 75
    another command holds the home or rate-limited past --max-wait
    (`corpus features`: progress is kept), 130 interrupted (nothing of the
    unfinished file kept).
    """


@corpus.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the import summary as JSON on stdout.")
@click.pass_context
def corpus_import(ctx, paths, as_json) -> None:
    """Import playlist collections: Million Playlist Dataset slices (mpd.slice.*.json, or a folder of
    them) and CSV files with playlist_id,track_id columns (extra columns such as track_name,
    track_artist and audio features are kept).

    \b
    Streamed in bounded memory; a file that is not a corpus file stops the
    import and nothing of it is kept (exit 2). Importing a playlist again
    changes nothing.
    """
    from tastebot import console
    from tastebot.imports.corpus import expand_paths, import_corpus
    from tastebot.wording import plural
    from tastebot.lock import home_lock
    from tastebot.store import open_store

    settings = settings_from(ctx)
    files = expand_paths(paths)
    with home_lock(settings), open_store(settings) as store, console.progress() as progress:
        files_task = progress.add_task("files", total=len(files))
        state = {"playlists": 0, "first": True}

        def on_file(path, size):
            if not state["first"]:
                progress.advance(files_task)
            state["first"] = False
            progress.update(files_task, description=f"importing {console.escape(path.name)}")

        def on_playlists(k):
            state["playlists"] += k
            progress.update(files_task, description=f"{state['playlists']:,} playlists")

        summary = import_corpus(store, files, on_file=on_file, on_playlists=on_playlists)
        progress.update(files_task, completed=len(files))
        totals = store.corpus_stats()
    data = {**summary.as_dict(), "corpus": totals}
    if as_json:
        console.print_json(data)
    console.success(
        f"Imported {summary.playlists:,} playlists ({summary.pairs:,} playlist-track pairs, {summary.new_tracks:,} new "
        f"tracks) from {plural(summary.files, 'file')}; {summary.skipped_existing:,} already there, {summary.skipped_rows:,} "
        f"rows without a track id skipped. Corpus: {totals['playlists']:,} playlists, {totals['tracks']:,} tracks."
    )
    if summary.features_refused:
        console.warn(f"The audio features of {plural(summary.features_refused, 'track')} were refused: values no track "
                     "can have (outside their ranges); those tracks were imported without them.")


@corpus.command("features")
@click.option("--max-tracks", type=click.IntRange(min=0), metavar="N", help="Ask about at most N tracks this run.")
@click.option("--max-requests", type=click.IntRange(min=0), metavar="N",
              help="Send at most N requests this run (40 tracks a request).")
@click.option("--max-wait", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Longest rate-limit wait to sit out; a longer one stops the run with progress saved "
                   "(exit 75). [env: TASTEBOT_MAX_WAIT; default 60]")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_context
def corpus_features(ctx, max_tracks, max_requests, max_wait, as_json) -> None:
    """Fetch audio features (ReccoBeats) for imported corpus tracks that have none, so the taste
    model can score the whole corpus.

    \b
    Resumable: every batch of 40 is saved as it comes, a track is never asked
    twice, and one ReccoBeats does not know is asked again only after 30
    days. `harvest` runs this too, within --corpus-feature-requests.

    \b
    Exit codes: 0 done, 3 no corpus imported, 74 the store cannot be written,
    75 rate-limited for longer than --max-wait or the home is busy (progress
    is saved: run it again later).
    """
    from tastebot import console
    from tastebot.cli.harvest import RichReporter
    from tastebot.imports.corpus import fetch_corpus_features
    from tastebot.errors import RateLimited
    from tastebot.lock import home_lock
    from tastebot.store import open_store

    settings = settings_from(ctx, max_wait=max_wait)
    with home_lock(settings), open_store(settings) as store, console.progress() as progress:
        task = progress.add_task("corpus audio features", total=None)
        report = fetch_corpus_features(
            settings, store, max_tracks=max_tracks, max_requests=max_requests,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            notice=lambda text: console.warn(console.escape(text)), countdown=RichReporter(progress).countdown)
    if as_json:
        console.print_json(report.as_dict())
    console.success(console.escape(report.line()) + ".")
    if report.stopped and report.stopped.startswith("rate limit"):
        raise RateLimited(f"Stopped: {report.stopped} Progress is saved: run it again later.")


@corpus.command("status")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_context
def corpus_status(ctx, as_json) -> None:
    """How big the imported corpus is, and how much of it has audio features."""
    from tastebot import console
    from tastebot.store import open_store

    from tastebot.providers.audio_features import corpus_coverage

    settings = settings_from(ctx, reads_only=True)
    if not settings.store_path.exists():
        stats = {"imports": 0, "playlists": 0, "tracks": 0, "pairs": 0, "with_features": 0}
    else:
        with open_store(settings) as store:
            coverage = corpus_coverage(store)
            stats = {**store.corpus_stats(), "with_features": coverage["with_features"]}
    if as_json:
        console.print_json(stats)
    share = f" ({100 * stats['with_features'] / stats['tracks']:.1f} %)" if stats["tracks"] else ""
    console.table(["imports", "playlists", "tracks", "playlist-track pairs", "tracks with audio features"],
                  [(stats["imports"], f"{stats['playlists']:,}", f"{stats['tracks']:,}", f"{stats['pairs']:,}",
                    f"{stats['with_features']:,}{share}")],
                  title="Corpus", console=console.results(as_json))
