"""`tastebot train` and `tastebot models`. Heavy imports (pandas, scikit-learn, TensorFlow) happen
inside the commands, so `tastebot --help` and `tastebot train --help` stay fast."""

from __future__ import annotations

import re

import click

from tastebot.cli import settings_from
from tastebot.settings import TRAIN_RANGES, Settings

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> float:
    """'30m', '12h', '1d', '90' (seconds) -> seconds."""
    m = _AGE.match(str(text))
    if not m:
        raise click.BadParameter(f"{text!r} is not an age such as 30m, 12h or 1d.", param_hint="--max-age")
    return float(m.group(1)) * _UNIT[m.group(2).lower()]


def _harvest_if_stale(settings, max_age: float) -> None:
    """Harvest first when the store is empty or its last harvest is older than max_age. If the
    refresh fails but the store already has likes and dislikes, say so and train on those."""
    from tastebot import console
    from tastebot.errors import TastebotError
    from tastebot.train import store_age_seconds

    labelled, age = 0, None
    if settings.store_path.exists():
        from tastebot.store import open_store

        with open_store(settings) as store:
            counts = store.label_counts()
            labelled = int(sum(v for v in counts.values() if isinstance(v, (int, float))))
            age = store_age_seconds(store)
    if labelled and age is not None and age <= max_age:
        return
    why = "the store is empty" if not labelled else ("it was never harvested" if age is None else
                                                     f"the last harvest is {age / 3600:.1f} h old")
    from tastebot.cli.harvest import RichReporter  # the harvest command's own display
    from tastebot.harvest import HarvestOptions, run_harvest

    console.info(f"Harvesting first ({why}; use --no-harvest to train on what is stored).")
    options = HarvestOptions(like_playlists=settings.like_playlists, dislike_playlists=settings.dislike_playlists)
    try:
        with console.progress() as progress:
            run_harvest(settings, options, reporter=RichReporter(progress))
    except TastebotError as exc:
        if not labelled:
            raise
        console.warn(f"The harvest failed ({exc.message}); training on the {labelled} labelled tracks already stored.")


def _refuse_an_empty_store(settings) -> None:
    """--no-harvest on a store without a single like or dislike: the advice is to harvest."""
    from tastebot.errors import NotEnoughData

    if not settings.store_path.exists():
        return  # train_from_store says "Nothing harvested yet: run `tastebot harvest` first."
    from tastebot.store import open_store

    with open_store(settings) as store:
        counts = store.label_counts()
    if not any(v for v in counts.values() if isinstance(v, (int, float))):
        raise NotEnoughData("The store holds no likes or dislikes yet: run `tastebot harvest` first "
                            "(or `tastebot train` without --no-harvest, which harvests for you).")


def _render(metrics: dict, run_dir, as_json: bool = False) -> None:
    from tastebot import console
    from tastebot.models.ranker import LABELS
    from tastebot.train import SCORE_NAMES, summary_rows

    shown = console.results(as_json)

    data, split, blend = metrics.get("data", {}), metrics.get("split", {}), metrics.get("blend", {})
    from tastebot.wording import counts

    kinds = counts(data.get("by_kind", {}))
    shown.print(f"Learned from {data.get('tracks')} tracks by {data.get('artists')} artists ({kinds}).")
    if metrics.get("mode") == "cross-validation":
        console.warn("Too little data for a held-out test: " + console.escape(metrics.get("mode_reason", "")) + ".")
        title = f"Cross-validated taste scores ({split.get('folds')} folds grouped by artist)"
    else:
        title = (f"Held-out test: {split.get('test')} tracks by {split.get('test_artists')} artists the model never saw "
                 f"({split.get('test_likes')} likes, {split.get('test_dislikes')} dislikes)")
    console.table(["model"] + [s.replace("_", "-").upper() if s.endswith("auc") else s for s in SCORE_NAMES],
                  summary_rows(metrics), title=title, console=shown)
    scores = metrics.get("scores", {})
    mlp_auc = (scores.get("mlp") or {}).get("roc_auc")
    rf_auc = (scores.get("random_forest") or {}).get("roc_auc")
    taste_auc = (scores.get("taste") or {}).get("roc_auc")
    if all(isinstance(v, float) and v == v for v in (mlp_auc, rf_auc, taste_auc)):
        shown.print(f"The taste model (the mean of the MLP and the forest) ranks at ROC-AUC {taste_auc:.3f}; "
                    f"the MLP alone {mlp_auc:.3f}, the forest alone {rf_auc:.3f}.")
    elif isinstance(mlp_auc, float) and isinstance(rf_auc, float) and mlp_auc == mlp_auc and rf_auc == rf_auc:
        verdict = "at least as good as" if mlp_auc >= rf_auc else "below"
        shown.print(f"The MLP ranks {verdict} the random forest on this data (ROC-AUC {mlp_auc:.3f} vs {rf_auc:.3f}).")
    ranking = metrics.get("ranking", {})
    if ranking.get("used"):
        shown.print(f"Recommend will rank by {console.escape(str(ranking.get('label', 'the learned ranking')))}: "
                    f"{console.escape(str(ranking.get('reason', '')))}.")
        validation = ranking.get("validation") or {}
        if validation:
            names = {**LABELS, "learned_check": "(the learned ranking's own score alone: its check)"}
            console.table(["ranking", "likes in the top tenth", "AP", "ROC-AUC"],
                          [(names.get(k, k) + (" (chosen)" if k == ranking.get("kind") else ""),
                            f"{v.get('recall_top_tenth', float('nan')):.0%}", f"{v['ap']:.3f}", f"{v['auc']:.3f}")
                           for k, v in validation.items()],
                          title=f"{ranking.get('likes')} likes of held-out contexts hidden among {ranking.get('unheard')} "
                                f"unheard tracks ({ranking.get('folds')} folds, each scored without its likes)",
                          console=shown)
    else:
        shown.print(f"No learned ranking ({console.escape(str(ranking.get('reason', '')))}); recommend uses the blend "
                    f"weight {blend.get('weight', 1.0):.2f} of the MLP against the hybrid score.")
    console.success(f"Model saved in {console.escape(str(run_dir))} "
                    f"({metrics.get('timing', {}).get('train_seconds', 0):.0f} s).")


@click.command()
@click.option("--epochs", type=click.IntRange(*TRAIN_RANGES["train_epochs"]), default=None,
              help="Passes over the training data (early stopping may end sooner). "
                   f"[default: {Settings.train_epochs}, or TASTEBOT_EPOCHS]")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: the same seed repeats a run on the same machine.")
@click.option("--ensemble", type=click.IntRange(*TRAIN_RANGES["train_ensemble"]), default=None,
              help="Networks trained side by side from different random starts; their mean is the score. "
                   f"[default: {Settings.train_ensemble}, or TASTEBOT_ENSEMBLE]")
@click.option("--max-age", default="1d", show_default=True, metavar="AGE",
              help="Harvest first when the store is empty or its last harvest is older than AGE (30m, 12h, 1d).")
@click.option("--no-harvest", is_flag=True, help="Train on what is stored; never harvest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON on stdout.")
@click.pass_context
def train(ctx: click.Context, epochs: int | None, seed: int, ensemble: int | None, max_age: str, no_harvest: bool,
          as_json: bool) -> None:
    """Learn your taste from the stored likes and dislikes, and measure it honestly.

    The test part is tracks by artists the model never saw in training; beside the model's scores
    the same run shows a majority-class guess, logistic regression and a random forest. With fewer
    than 40 likes or 40 dislikes, the scores come from cross-validation instead, and it says so.
    TASTEBOT_EPOCHS and TASTEBOT_ENSEMBLE (environment or .env) set smaller defaults for a slow
    machine or CI. The model, its preprocessing and metrics.json go to a new folder under HOME/models
    (`tastebot models` lists them; the newest is used by `tastebot recommend`).

    \b
    Exit codes: 0 trained; 3 not enough likes, dislikes or features; 4 not logged in
    (when a harvest was needed); 74 the models folder cannot be written; 75 another command
    holds the home.
    """
    max_age_s = parse_age(max_age)
    settings = settings_from(ctx)
    from tastebot import console
    from tastebot.lock import home_lock
    from tastebot.train import summary_for_json, train_from_store

    with home_lock(settings):
        if not no_harvest:
            _harvest_if_stale(settings, max_age_s)
        else:
            _refuse_an_empty_store(settings)
        with console.progress(transient=True) as progress:
            task = progress.add_task("Training", total=None)

            def on_progress(what: str, done: int, total: int) -> None:
                progress.update(task, description=what, completed=done, total=total)

            result = train_from_store(settings, epochs=epochs or settings.train_epochs, seed=seed,
                                      ensemble=ensemble or settings.train_ensemble, progress=on_progress)
    _render(result.metrics, result.run_dir, as_json)
    if as_json:
        console.print_json(summary_for_json(result.metrics, result.run_dir))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON on stdout.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List the trained models (newest first); the one marked * is the latest, used by `recommend`.

    \b
    Exit codes: 0 listed (also when there is none yet), 3 a --home that
    does not exist, 74 the models folder cannot be read.
    """
    settings = settings_from(ctx, reads_only=True)
    from tastebot import console
    from tastebot.models.runs import list_runs

    runs = list_runs(settings)
    if as_json:
        console.print_json(runs)
    if not runs:
        console.info("No trained models yet: run `tastebot train`.")
        return

    def f(v):
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    # The run id is what `report --run` needs: never cut it (it also says when the run was made, so
    # no separate "created" column competes for the width). Other columns wrap instead.
    from rich import box

    run_width = max(len(r["run_id"]) for r in runs)
    num = {"justify": "right", "no_wrap": True}
    console.table(
        ["", ("run id", {"no_wrap": True, "min_width": run_width}), ("tested\non", {"no_wrap": True}),
         ("likes", num), ("dis-\nlikes", num), ("MLP\nAUC", num), ("forest\nAUC", num), ("blend\nw", num)],
        [["*" if r.get("latest") else "", r["run_id"], "damaged" if r.get("error") else
          _MODE_LABELS.get(r.get("mode"), r.get("mode")) or "?", f(r.get("likes")), f(r.get("dislikes")), f(r.get("mlp_roc_auc")),
          f(r.get("random_forest_roc_auc")), f(r.get("blend_weight"))] for r in runs],
        title=f"Models in {settings.models_dir}", console=console.results(as_json), box=box.SIMPLE_HEAD,
        pad_edge=False, show_edge=False,
    )
    for r in runs:
        if r.get("error"):
            console.warn(f"run {console.escape(r['run_id'])} is damaged: {console.escape(r['error'])}")
    console.info("[dim]* the latest, used by `tastebot recommend`; AUC is ROC-AUC on tracks the model never saw; "
                 "`tastebot report --run RUN_ID` reports on any run.[/]")


_MODE_LABELS = {"holdout": "held-out", "cross-validation": "cross-val"}
