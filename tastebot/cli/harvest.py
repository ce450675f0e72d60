"""`tastebot harvest` and `tastebot features import`. Heavy imports stay inside the commands."""

from __future__ import annotations

import textwrap

import click

from tastebot.cli import settings_from
from tastebot.vocab import AUDIO_FEATURES, CORPUS_HARVEST_REQUESTS  # standard library only: --help stays fast


class RichReporter:
    """Progress per source on stderr; a rate-limit wait shows as a countdown in the same display."""

    def __init__(self, progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}
        self._wait_task = None

    def start(self, source: str, description: str, total: int | None = None) -> None:
        from tastebot.console import escape

        if source not in self.tasks:
            self.tasks[source] = self.progress.add_task(escape(description), total=total)

    def advance(self, source: str, n: int = 1, total: int | None = None) -> None:
        if source not in self.tasks:
            self.start(source, source, total)
        task = self.tasks[source]
        if total is not None:
            self.progress.update(task, total=total)
        if n:
            self.progress.advance(task, n)

    def finish(self, source: str, note: str = "") -> None:
        task = self.tasks.get(source)
        if task is not None:
            t = self.progress.tasks[[x.id for x in self.progress.tasks].index(task)]
            self.progress.update(task, total=t.completed or 1, completed=t.completed or 1)

    def notice(self, text: str) -> None:
        from tastebot import console

        self.progress.console.print(f"[yellow]•[/] {console.escape(text)}")

    def countdown(self, seconds: float, service: str) -> None:
        import time

        from tastebot import console

        if not self.progress.console.is_terminal:
            console.info(f"{console.escape(service)} asks tastebot to wait {seconds:.0f} s (rate limit); waiting.")
            time.sleep(seconds)
            return
        task = self.progress.add_task("", total=seconds)
        end = time.monotonic() + seconds
        try:
            while (left := end - time.monotonic()) > 0:
                self.progress.update(task, description=f"[yellow]Rate limit: waiting {left:.0f} s[/]",
                                     completed=seconds - left)
                time.sleep(min(1.0, left))
        finally:
            self.progress.remove_task(task)


def _render_summary(summary: dict, as_json: bool = False) -> None:
    from tastebot import console
    from tastebot.harvest import source_label
    from tastebot.vocab import PROVIDER_LABELS

    rows = []
    for s in summary["sources"]:
        name = s["name"]
        if name.startswith("playlist:"):
            _, role, pl_name = name.split(":", 2)
            name = f"playlist “{pl_name}” ({role})"
        else:
            name = source_label(name)
        rows.append((name, s["status"], s["detail"], s["requests"]))
    shown = console.results(as_json)
    console.table(["source", "status", "what happened", ("requests", {"justify": "right"})], rows,
                  title="Harvest sources", console=shown)
    labels = summary.get("labels") or {}
    console.table(
        ["likes", "explicit dislikes", "weak (sampled) dislikes"],
        [(labels.get("likes", 0), labels.get("dislikes_explicit", 0), labels.get("dislikes_weak", 0))],
        title="Labelled songs (latest signal wins)", console=shown,
    )
    by_source = summary.get("signals_by_source") or {}
    console.table(["signal source", "likes", "dislikes"],
                  [(source_label(k), v.get("like", 0), v.get("dislike", 0)) for k, v in sorted(by_source.items())],
                  title="Signals by source", console=shown)
    feats = summary.get("features") or {}
    console.table(["audio features from", "labelled tracks"],
                  [(PROVIDER_LABELS.get(k, k), v) for k, v in sorted(feats.items())], title="Features by provider",
                  console=shown)
    corpus_features = summary.get("corpus_features") or {}
    if corpus_features:
        shown.print(f"Corpus audio features: {corpus_features['with_features']:,} of {corpus_features['tracks']:,} "
                    f"tracks ({100 * corpus_features['share']:.1f} %).")
    req = summary.get("requests") or {}
    shown.print(f"Requests: {req.get('spotify', 0)} to Spotify, {req.get('reccobeats', 0)} to ReccoBeats. "
                 f"App: {summary.get('app_kind')}.")


@click.command()
@click.option("--full", is_flag=True, help="Re-read everything instead of only what changed since the last harvest.")
@click.option("--like-playlist", "like_playlists", multiple=True, metavar="URI_OR_URL",
              help="Also learn likes from this playlist (e.g. one you follow). Repeatable. [env: TASTEBOT_LIKE_PLAYLISTS]")
@click.option("--dislike-playlist", "dislike_playlists", multiple=True, metavar="URI_OR_URL",
              help="Learn dislikes from this playlist: spotify:playlist:ID, an open.spotify.com link or the ID. "
                   "Repeatable. [env: TASTEBOT_DISLIKE_PLAYLISTS]")
@click.option("--sampled-negatives", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Add random tracks you show no sign of knowing as weak dislikes: auto = only when explicit "
                   "dislikes are few.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the sampled negatives' draw: the same library and seed give the same sample.")
@click.option("--max-wait", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Longest rate-limit wait to sit out; a longer one stops the harvest with progress saved "
                   "(exit 75). [env: TASTEBOT_MAX_WAIT; default 60]")
@click.option("--corpus-feature-requests", type=click.IntRange(min=0), default=CORPUS_HARVEST_REQUESTS,
              show_default=True, metavar="N",
              help="At most N requests for the audio features of imported corpus tracks that lack them (40 "
                   "tracks a request at ReccoBeats); the next harvest resumes. 0: none.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.pass_context
def harvest(ctx, full, like_playlists, dislike_playlists, sampled_negatives, seed, max_wait, corpus_feature_requests,
            as_json) -> None:
    """Collect your likes and dislikes, with metadata and audio features, into the local store.

    \b
    Likes: saved tracks, top tracks (4 weeks, 6 months, a year), the last 50
    plays, your own playlists, and --like-playlist ones. Dislikes:
    --dislike-playlist ones, own playlists named like "Not for me" or
    "Dislikes", tracks you removed from a tastebot playlist, and (weak)
    sampled tracks you do not know. Then the audio features of imported
    corpus tracks that lack them (bounded: --corpus-feature-requests).
    Incremental: a second run reads only what changed. See docs/harvest.md.

    \b
    Exit codes: 0 done (sources Spotify refused are listed as skipped), 2 bad
    input (a playlist that is not a URI, link or id), 4 not logged in, 69
    Spotify unavailable after retries, 74 the store cannot be written, 75
    rate-limited for longer than --max-wait or another command holds the home
    (progress is saved: run it again later), 130 interrupted.
    """
    from tastebot import console
    from tastebot.harvest import HarvestOptions, run_harvest
    from tastebot.lock import home_lock
    from tastebot.spotify.client import SpotifyClient

    settings = settings_from(ctx, max_wait=max_wait)
    options = HarvestOptions(
        full=full,
        like_playlists=tuple(settings.like_playlists) + tuple(like_playlists),
        dislike_playlists=tuple(settings.dislike_playlists) + tuple(dislike_playlists),
        sampled_negatives=sampled_negatives,
        seed=seed,
        corpus_feature_requests=corpus_feature_requests,
    )
    with home_lock(settings), console.progress() as progress:
        reporter = RichReporter(progress)
        client = SpotifyClient(settings, countdown=reporter.countdown)
        summary = run_harvest(settings, options, client=client, reporter=reporter).as_dict()
    _render_summary(summary, as_json)
    if as_json:
        console.print_json(summary)
    console.success("Harvest done.")


@click.group()
def features() -> None:
    """Audio features: import a table of them (keyed by Spotify track id)."""


_IMPORT_HELP = "\n\n".join([
    "Import audio features from a CSV keyed by Spotify track id.",
    "\b\n" + textwrap.fill(
        f"The header needs `track_id` (or `id`) and any of: {', '.join(AUDIO_FEATURES)}. Other columns "
        "are ignored; empty cells and NA are unknown. Imported values fill what Spotify and ReccoBeats "
        "do not give. A bad file changes nothing: the whole import is one transaction.", 78),
    "\b\nExit codes: 0 imported, 2 bad file (the message names the line), 74 the\n"
    "store cannot be written, 75 another command holds the home.",
])


@features.command("import", help=_IMPORT_HELP)
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_context
def import_features(ctx, csv_file, as_json) -> None:
    from tastebot import console
    from tastebot.imports.features_csv import import_features_csv
    from tastebot.lock import home_lock
    from tastebot.store import open_store

    settings = settings_from(ctx)
    with home_lock(settings), open_store(settings) as store:
        result = import_features_csv(store, csv_file)
    if as_json:
        console.print_json(result.as_dict())
    from tastebot.wording import plural

    console.success(
        f"Imported audio features of {plural(result.tracks, 'track')} ({', '.join(result.columns)}) from "
        f"{plural(result.rows, 'row')}; {result.in_library:,} of them are in your library."
    )
    if result.rows > result.tracks:
        console.info(f"[dim]{plural(result.rows - result.tracks, 'row')} named a track an earlier row named; "
                     "the later values count.[/]")
    if result.ignored_columns:
        shown = ", ".join(result.ignored_columns[:8]) + (" ..." if len(result.ignored_columns) > 8 else "")
        console.info(f"[dim]Ignored columns: {console.escape(shown)}[/]")
