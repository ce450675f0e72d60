"""`tastebot demo`: the whole job against the built-in sandbox, no Spotify account needed."""

from __future__ import annotations

import click


@click.command()
@click.option("--profile", type=click.Choice(["development", "extended"]), default="development", show_default=True,
              help="The kind of Spotify app the sandbox plays: a 2026 development-mode app or an extended-quota one.")
@click.option("--home", "demo_home", type=click.Path(file_okay=False), default=None,
              help="The demo's own state folder (its store, model and report, made against the sandbox), kept "
                   "instead of a temporary one; `tastebot --home DIR demo` means the same. Not for a real "
                   "account's home: the demo logs in to the sandbox there.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sandbox world and of training.")
@click.option("--tracks", "n_tracks", type=click.IntRange(300, 20000), default=2000, show_default=True,
              help="Size of the sandbox catalogue.")
@click.option("--epochs", type=click.IntRange(1, 500), default=30, show_default=True, help="Training epochs.")
@click.option("-n", "n", type=click.IntRange(1, 200), default=30, show_default=True, help="How many tracks to recommend.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.pass_context
def demo(ctx, profile, demo_home, seed, n_tracks, epochs, n, as_json) -> None:
    """Run login, harvest, train, recommend and playlist writing against an in-process sandbox,
    and score the recommendations against the sandbox listener's hidden future likes.

    Nothing is sent anywhere: the sandbox listens on 127.0.0.1 only and stops when the demo ends.
    Without --home the demo's state lives in a temporary folder that is removed afterwards.

    \b
    Exit codes: 0 done, 2 bad input (an option, a --home that cannot be
    used), 74 the demo's folder cannot be written, 130 interrupted.
    """
    from pathlib import Path

    from tastebot import console
    from tastebot.demo import DemoOptions, DemoSteps, run_demo

    class Steps(DemoSteps):
        def __init__(self):
            self.status = None

        def step(self, name, text):
            if self.status is not None:
                self.status.stop()
            self.status = console.err.status(text + " ...")
            self.status.start()

        def done(self, name, text):
            if self.status is not None:
                self.status.stop()
                self.status = None
            console.success(console.escape(text))

    steps = Steps()
    # `tastebot --home DIR demo` (or `demo --home DIR`): the demo's state folder, as the help says.
    demo_home = demo_home or (ctx.find_root().obj or {}).get("home")
    try:
        result = run_demo(DemoOptions(profile=profile, home=Path(demo_home) if demo_home else None, seed=seed,
                                      n_tracks=n_tracks, epochs=epochs, n=n), steps)
    finally:
        if steps.status is not None:
            steps.status.stop()
    _render(result, as_json)
    if as_json:
        console.print_json(result.as_dict())


def _render(result, as_json: bool = False) -> None:
    from tastebot import console
    from tastebot.harvest import source_label
    from tastebot.train import SCORE_NAMES, summary_rows
    from tastebot.wording import counts, plural

    err = console.results(as_json)  # the summary is the demo's result: stdout, unless stdout carries --json
    err.rule("[bold]tastebot demo: summary")
    h = result.harvest
    labels = h.get("labels", {})
    n_corpus = result.corpus.get("playlists")
    err.print(f"Profile: [bold]{result.profile}[/] app. Data: {console.escape(counts(labels))}; corpus of "
              + (plural(int(n_corpus), "playlist") if isinstance(n_corpus, int) else "? playlists") + ".")
    skipped = [s for s in h.get("sources", []) if s.get("status") != "used"]
    for s in skipped:
        err.print(f"  [dim]skipped {console.escape(source_label(s['name']))}: {console.escape(s.get('detail', ''))}[/]")
    rows = summary_rows(result.metrics)
    if rows:
        console.table(["model"] + [s.replace("_", "-").upper() if s.endswith("auc") else s for s in SCORE_NAMES], rows,
                      title="Held-out taste (never seen in training)", console=err)
    ranking = result.metrics.get("ranking", {})
    if ranking.get("used"):
        err.print(f"Ranked by {console.escape(str(ranking.get('label', 'the learned ranking')))}, chosen on "
                  f"{ranking.get('likes')} likes of held-out contexts.")
    recs = result.recommendations[:10]
    console.table(
        ["#", "title", "artist", "score", "why"],
        [[r["rank"], r["name"], r["artist"], f"{r['score']:.3f}", r["why"]] for r in recs],
        title=f"Top {len(recs)} of {len(result.recommendations)} recommendations", console=err,
    )
    hid = result.hidden
    if hid:
        lift = f" ({hid['lift']:.1f}x random)" if hid.get("lift") else ""
        err.print(
            f"[bold]Hidden future likes confirm {hid['confirmed']} of {hid['recommended']}[/] recommendations{lift}; "
            f"random picks among the {hid['unheard_tracks']} unheard tracks would confirm {hid['random_expected']} on average."
        )
    if result.playlist.get("tracks"):
        # Its URL pointed at the sandbox, which stopped with the demo: not a link to open.
        err.print(f"The playlist ({result.playlist['tracks']} tracks) was written to the sandbox, which has "
                  "stopped with the demo: there is nothing to open.")
    took = sum(result.seconds.values())
    err.print(f"[dim]Took {took:.0f} s: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()) + "[/]")
    if result.kept_home:
        err.print(f"State kept in {console.escape(str(result.home))} (try `tastebot --home {console.escape(str(result.home))} report`).")
    err.print(NEXT_STEPS)


# What to do after the demo, with a real account (README.md, "Using it with your Spotify account").
NEXT_STEPS = """[bold]Next, with your own Spotify account[/]: create a Spotify app (five minutes, README.md
section "Using it with your Spotify account"), then
  tastebot login --client-id YOUR_CLIENT_ID
  tastebot train                          # harvests your library first
  tastebot recommend --create-playlist"""
