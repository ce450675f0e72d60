"""`tastebot report`: one self-contained HTML page about a trained model, with its plots.

The page describes what `recommend` uses with the run, as its metrics.json says: the taste model
(the MLP and the forest, averaged) and the ranking the run fitted (`ranking.kind`/`label`/`validation`
when the run wrote them, else `ranking.used`: the learned ranking, or the linear blend). Then how
good the taste model is on the test part (its own counts from `split`), beside its MLP alone and every
baseline, in a table, in words and as ROC and precision-recall curves; the training curves explained;
liked vs disliked means (the key counted, never averaged) and distributions of every audio feature
(from the store's labelled tracks); the score distribution of the last recommendations; and where
the features came from, with the reason each left-out input was left out. Every plot is a PNG file beside the page
AND embedded in it as a data URI, so the page can be mailed or moved on its own.

It reads `metrics.json` of the run and the store, read-only, and nothing else: no token is ever
read, so none can end up in the page. The network itself (and so TensorFlow) is loaded only when the
last tastebot playlist was recorded without its scores: then its tracks are scored now, and the
page says so (`tastebot.recommend.recommendation_record` is what recommend records with a playlist). Every string that comes from
data (names, sources, reasons) is HTML-escaped. A missing piece (no store, no recommendations, an
older metrics.json without curves) is said on the page; only a missing model is an error.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from tastebot.errors import InputError, ModelError, NotEnoughData, StoreError, TastebotError, no_room, write_failure
from tastebot.harvest import source_label
from tastebot.models.inputs import SOURCE_DEPENDENT_REASON
from tastebot.models.runs import latest_run_id, load_model
from tastebot.store import open_store
from tastebot.vocab import AUDIO_FEATURES, PROVIDER_LABELS as _CHAIN_LABELS
from tastebot.wording import COUNT_WORDS

# Features with a handful of integer values: drawn as bars per value (share of tracks), not as a histogram.
DISCRETE_FEATURES = {"key": (0, 11), "mode": (0, 1), "time_signature": (1, 7)}
# Keys sit on a circle (B is a semitone below C): an average pitch class means nothing, so the page
# shows the commonest keys (and all twelve in the distributions), never a mean.
CIRCULAR_FEATURES = ("key",)
MEAN_TITLES = {"mode": "mode: share in major", "loudness": "loudness (dB)", "tempo": "tempo (beats per minute)",
               "time_signature": "beats per bar"}
FEATURE_UNITS = {"loudness": "dB", "tempo": "beats per minute"}
KEY_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
# What a person reads for the internal names in metrics.json (tables of the page).
MEASURE_LABELS = {
    "ap_mlp": "average precision, MLP alone",
    "ap_hybrid": "average precision, collaborative score alone",
    "ap_blend": "average precision, the blend",
    "auc_mlp": "ROC-AUC, MLP alone",
    "auc_hybrid": "ROC-AUC, collaborative score alone",
    "auc_blend": "ROC-AUC, the blend",
}
# The models metrics.json scores on the test part (`scores`), in the page's order: the one recommend
# uses, its parts, then the baselines. (key, name, what it is in a listener's words)
MODELS = (
    ("taste", "taste model (MLP + forest)", "what recommend scores tracks with: the mean of the MLP's and the forest's "
                                            "like-probabilities"),
    ("mlp", "MLP alone", "one part of the taste model: the neural network"),
    ("random_forest", "random forest", "the other part of the taste model; alone, a baseline"),
    ("logistic_regression", "logistic regression", "a baseline: one weight per input, added up"),
    ("majority", "majority class", "a baseline: always gives the commoner answer"),
)
MODEL_LABELS = {key: name for key, name, _ in MODELS}
CURVE_LABELS = {**MODEL_LABELS, "taste": "taste model, what recommend uses", "mlp": "MLP alone (part of it)",
                "random_forest": "random forest (the other part)"}
MODEL_COLOURS = {"taste": "#6a3d9a", "mlp": "#1f77b4", "logistic_regression": "#ff7f0e", "random_forest": "#2ca02c"}
# Words for a ranking kind (metrics.json `ranking.kind`) when the run gives no `label`, and a short
# name for the rankers it measured (`ranking.validation`).
RANKING_WORDS = {
    "learned": "the learned ranking: a small model, fitted on likes held out from training, that weighs the taste "
               "model's score against the collaborative evidence (playlists a track shares with your likes, your "
               "artists, tracks like your likes)",
    "fusion": "a rank fusion of the taste model and the collaborative evidence",
    "taste": "the taste model alone",
    "cooc": "co-occurrence alone: how often a track shares playlists with your likes",
    "collab": "the playlist co-occurrence alone: how much of the playlists holding a track are your likes",
    "blend": "the linear blend of the taste model's score and the collaborative score",
}
RANKER_NAMES = {"learned": "learned ranking", "ranking": "learned ranking", "fusion": "rank fusion",
                "learned_check": "the learned ranking's own score alone (its check)",
                "taste": "taste model alone", "mlp": "taste model alone", "cooc": "co-occurrence alone",
                "collab": "playlist co-occurrence alone",
                "hybrid": "collaborative score alone", "blend": "linear blend"}
RANKER_MEASURES = {"ap": "average precision", "auc": "ROC-AUC", "roc_auc": "ROC-AUC", "ndcg": "NDCG",
                   "recall_top_tenth": "share of the likes in the top tenth (what the choice reads)"}
# Why an input was left out, in a listener's words, for the reasons features.FeatureSpec records.
UNUSED_WORDS = {
    SOURCE_DEPENDENT_REASON: "only some of the places tracks come from carry it (your library and search "
                             "results do, playlist collections do not), so the model would learn where a track "
                             "came from instead of how it sounds",
}
PROVIDER_LABELS = {**_CHAIN_LABELS, "none": "no audio features"}
LIKE_COLOUR, DISLIKE_COLOUR = "#1db954", "#d9534f"
SPLIT_WORDS = {"train": "learnt from", "validation": "held back to choose when to stop (then learnt from too)",
               "test": "test part (never learnt from)", "test_likes": "test likes", "test_dislikes": "test dislikes",
               "test_artists": "artists in the test part", "folds": "cross-validation parts",
               "evaluated": "tracks scored by a model that never saw them"}
HTML_NAME = "report.html"
NO_RECOMMENDATIONS = "no recommendations yet"
RECORDED_SCORE = "the score recommend ranked them by"


@dataclass
class Report:
    """What `write_report` wrote: the page, each plot file by name, and what the page says is missing."""

    run_id: str
    out_dir: Path
    html_path: Path
    plots: dict[str, Path] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "out_dir": str(self.out_dir),
            "html": str(self.html_path),
            "plots": {name: str(path) for name, path in self.plots.items()},
            "missing": list(self.missing),
        }


# -- reading ------------------------------------------------------------------------------------------
def history_share(by_source: Any) -> dict[str, Any] | None:
    """How many of a run's signals came from the imported listening history (sources `history_*`);
    None when the run learnt nothing from it."""
    if not isinstance(by_source, dict):
        return None
    total = hist = 0
    for name, counts in by_source.items():
        if not isinstance(counts, dict):
            continue
        n = sum(int(v) for v in counts.values() if isinstance(v, (int, float)))
        total += n
        if str(name).startswith("history_"):
            hist += n
    if not hist or not total:
        return None
    return {"history": hist, "all": total, "percent": 100.0 * hist / total}


@dataclass
class Ranking:
    """How a run's recommendations are ordered, as its metrics.json says."""

    kind: str
    label: str
    weight: float | None = None  # the linear blend's w, for kind "blend" only
    reason: str | None = None
    validation: dict[str, dict[str, float]] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)


def ranking_used(metrics: dict[str, Any]) -> Ranking:
    """The ranking `recommend` uses with this run: `ranking.kind`/`label`/`validation` when the run
    wrote them; else the older `ranking.used` (true: the learned ranking; false, or no ranking
    section at all: the linear blend with `blend.weight`, what recommend falls back to)."""
    ranking = metrics.get("ranking") if isinstance(metrics.get("ranking"), dict) else {}
    blend = metrics.get("blend") if isinstance(metrics.get("blend"), dict) else {}
    kind = ranking.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        kind = "learned" if ranking.get("used") is True else "blend"
    kind = kind.strip()
    label = ranking.get("label")
    label = label.strip() if isinstance(label, str) and label.strip() else RANKING_WORDS.get(kind, kind)
    weight = None
    if kind == "blend":
        weight = _finite(ranking.get("weight"))
        weight = _finite(blend.get("weight")) if weight is None else weight
    validation = {str(name): {str(k): v for k, v in scores.items() if _finite(v) is not None}
                  for name, scores in (ranking.get("validation") or {}).items() if isinstance(scores, dict)} \
        if isinstance(ranking.get("validation"), dict) else {}
    checks = [c for c in ranking.get("checks") or [] if isinstance(c, dict)] \
        if isinstance(ranking.get("checks"), list) else []
    reason = ranking.get("reason") if isinstance(ranking.get("reason"), str) else None
    return Ranking(kind=kind, label=label, weight=weight, reason=reason, validation=validation, checks=checks)


def auc_standard_error(auc: float, positives: int, negatives: int) -> float | None:
    """The standard error of a ROC-AUC measured on this many likes and dislikes (Hanley and McNeil,
    1982): how far apart two models' AUCs on one small test part can be by chance."""
    a = _finite(auc)
    if a is None or positives < 1 or negatives < 1 or not 0.0 < a < 1.0:
        return None
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (positives * negatives)
    return math.sqrt(max(var, 0.0))


def key_summary(frame, top: int = 3) -> dict[str, Any]:
    """The commonest keys among liked and among disliked tracks, with their shares: a key is a
    place on a circle, so it is counted, never averaged."""
    import numpy as np

    out: dict[str, Any] = {}
    for name, label in (("liked", 1), ("disliked", 0)):
        v = np.round(_values(frame, "key", label)).astype(int)
        v = v[(v >= 0) & (v < 12)]
        counts = np.bincount(v, minlength=12)
        order = sorted(range(12), key=lambda k: (-counts[k], k))[:top]
        out[name] = [(KEY_NAMES[k], float(counts[k] / len(v))) for k in order if counts[k]] if len(v) else []
        out[f"{name}_n"] = int(len(v))
    return out


def resolve_run(settings, run: str | None = None) -> tuple[str, Path, dict[str, Any]]:
    """(run id, run folder, metrics) of `run` or of the latest run; ModelError when there is none."""
    run_id = run or latest_run_id(settings)
    if run_id is None:
        raise NotEnoughData("No trained model: run `tastebot train` first.")  # exit 3, as train and recommend
    # A run the user named that is not there is bad input (exit 2); LATEST naming nothing is a
    # damaged models folder (ModelError, exit 74).
    problem = ModelError if run is None else InputError
    if "/" in run_id or "\\" in run_id or run_id.startswith(".") or not run_id.strip():
        raise problem(f"{run_id!r} is not a model run id; `tastebot models` lists them.")
    run_dir = Path(settings.models_dir) / run_id
    if not run_dir.is_dir():
        raise problem(f"No model run {run_id!r} in {settings.models_dir}; `tastebot models` lists them.")
    path = run_dir / "metrics.json"
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"The model folder {run_dir} has no metrics.json: retrain with `tastebot train`.") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read {path}: {exc}.") from None
    if not isinstance(metrics, dict):
        raise ModelError(f"{path} is not a tastebot metrics file: retrain with `tastebot train`.")
    return run_id, run_dir, metrics


def labelled_frame(settings):
    """(the store's labelled tracks, None) or (None, why there are none). Read-only: never writes."""
    if not Path(settings.store_path).exists():
        return None, "no store in this home (run `tastebot harvest`): the feature plots are left out"
    try:
        with open_store(settings, readonly=True) as store:
            frame = store.labelled_tracks()
    except (StoreError, AttributeError) as exc:
        why = exc.message if isinstance(exc, TastebotError) else "this store cannot list labelled tracks"
        return None, f"the store cannot be read ({why}): the feature plots are left out"
    except Exception as exc:  # an old or foreign store: say so on the page rather than fail the report
        return None, f"the store cannot be read ({type(exc).__name__}): the feature plots are left out"
    if len(frame) == 0:
        return None, "the store holds no liked or disliked tracks yet (run `tastebot harvest`)"
    return frame, None


def _entries_from(record: Any) -> list[dict[str, Any]]:
    """Per-track score entries from a recommendations record in any of the shapes tastebot writes:
    {"recommendations": [{track_id, score, mlp, hybrid, ...}]}, {"scores": [...]} or a bare list."""
    if isinstance(record, dict):
        for key in ("recommendations", "scores", "tracks"):
            if isinstance(record.get(key), list):
                record = record[key]
                break
        else:
            return []
    if not isinstance(record, list):
        return []
    entries = []
    for item in record:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            item = {"score": item}
        if not isinstance(item, dict):
            continue
        s = _finite(item.get("score"))
        if s is None:
            continue
        entries.append({
            "track_id": item.get("track_id"), "name": item.get("name"), "artist": item.get("artist"),
            "score": s, "mlp": _finite(item.get("mlp")), "hybrid": _finite(item.get("hybrid")),
        })
    return entries


def last_recommendations(settings, run: str | None = None, *, rescore: bool = True) -> tuple[dict[str, Any] | None, str | None]:
    """The scores of the last recommendations, or (None, why not).

    Looked for in the store's outputs area: a `last_recommendations()` record when the store keeps
    one, else the newest playlist tastebot made whose recorded details carry per-track scores (see
    `recommendation_record`). When the newest playlist tastebot created carries none and `rescore`,
    its tracks are scored now by the MLP of model `run`, and the page says so.
    """
    if not Path(settings.store_path).exists():
        return None, NO_RECOMMENDATIONS + " (no store)"
    last_created = None
    try:
        with open_store(settings, readonly=True) as store:
            getter = getattr(store, "last_recommendations", None)
            if callable(getter):
                record = getter()
                entries = _entries_from(record)
                if entries:
                    meta = record if isinstance(record, dict) else {}
                    return {"source": "the last `tastebot recommend` run", "created_at": meta.get("created_at"),
                            "model_run": meta.get("model_run"), "entries": entries, "ranked_by": ranked_by(meta),
                            "score_label": RECORDED_SCORE}, None
            for pl in reversed(store.output_playlists()):
                try:
                    details = json.loads(pl.get("details") or "{}")
                except ValueError:
                    continue
                entries = _entries_from(details)
                if entries:
                    return {"source": f"the playlist “{pl.get('name')}”", "created_at": pl.get("planned_at"),
                            "model_run": details.get("model_run") if isinstance(details, dict) else None,
                            "entries": entries, "ranked_by": ranked_by(details), "score_label": RECORDED_SCORE}, None
            created = [p for p in store.created_playlists() if p.get("track_ids")]
            if created and rescore and run:
                last_created = created[-1]
                tracks = store.tracks_frame(last_created["track_ids"])
    except (StoreError, AttributeError):
        return None, NO_RECOMMENDATIONS + " (the store cannot be read)"
    except Exception as exc:  # a store from another version: the rest of the report still stands
        return None, f"{NO_RECOMMENDATIONS} (the store's outputs cannot be read: {type(exc).__name__})"
    if last_created is not None and len(tracks):
        return _rescored(settings, run, last_created, tracks)
    return None, NO_RECOMMENDATIONS + ": run `tastebot recommend --create-playlist`"


def ranked_by(record: Any) -> str | None:
    """What recorded recommendations were ranked by, in words, from what recommend recorded with
    them (`recommendation_record`: `blend_from`, `blend_weight`; a `ranking` kind or label when a
    later recommend records one). None when the record does not say."""
    if not isinstance(record, dict):
        return None
    ranking, source = record.get("ranking"), record.get("blend_from")
    if isinstance(ranking, dict) and (ranking.get("label") or ranking.get("kind")):
        return str(ranking.get("label") or RANKING_WORDS.get(str(ranking["kind"]), ranking["kind"]))
    w = _finite(record.get("blend_weight"))
    if w is not None and (ranking == "blend" or source in ("--blend", "validation (metrics.json)")):
        return f"the linear blend of the taste model and the collaborative score, w = {w:.2f}" + \
            (" (chosen with --blend)" if source == "--blend" else "")
    if isinstance(source, str) and source.strip():
        return source.strip()
    if isinstance(ranking, str) and ranking.strip():
        return RANKING_WORDS.get(ranking.strip(), ranking.strip())
    return None


def _rescored(settings, run: str, playlist: dict[str, Any], tracks) -> tuple[dict[str, Any] | None, str | None]:
    """The taste model's like-probabilities, now, for the tracks of a playlist whose record has no scores.
    Loading the network is the one place the report needs TensorFlow (through tastebot.train)."""
    try:
        model = load_model(settings, run)
        probabilities = model.predict(tracks)
    except TastebotError as exc:
        return None, f"{NO_RECOMMENDATIONS} with recorded scores, and the model cannot score the last playlist ({exc.message})"
    entries = [{"track_id": t, "name": n, "artist": None, "score": float(p), "mlp": None, "hybrid": None}
               for t, n, p in zip(tracks["track_id"], tracks["name"], probabilities)]
    return {
        "source": f"the playlist “{playlist.get('name')}”, scored now by this model's taste model (the playlist's "
                  "record carries no scores, so these are not the scores it was ranked by)",
        "created_at": playlist.get("created_at"), "model_run": run, "entries": entries, "ranked_by": None,
        "score_label": "the taste model's like-probability, now",
    }, None


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# -- plots --------------------------------------------------------------------------------------------
def _figure(width: float, height: float, *, layout: str | None = "constrained"):
    """A matplotlib Figure on the Agg canvas: no pyplot, no GUI (write_report sets one rc value,
    the titles' height, around its drawing)."""
    # here: matplotlib takes over a second to import, and only the report draws
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # No "Software" stamp: the same data gives the same bytes.
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _values(frame, column: str, label: int):
    import numpy as np
    import pandas as pd

    if column not in frame.columns:
        return np.zeros(0)
    v = pd.to_numeric(frame.loc[frame["label"] == label, column], errors="coerce").to_numpy(dtype=float)
    return v[np.isfinite(v)]


def feature_summary(frame) -> list[dict[str, Any]]:
    """Per audio feature: liked and disliked mean, standard error and count (NaN-free values only).
    Circular features (key) have no mean and are left out: `key_summary` counts them."""
    import numpy as np

    rows = []
    for col in AUDIO_FEATURES:
        if col in CIRCULAR_FEATURES:
            continue
        liked, disliked = _values(frame, col, 1), _values(frame, col, 0)
        row: dict[str, Any] = {"feature": col, "liked_n": int(len(liked)), "disliked_n": int(len(disliked))}
        for name, v in (("liked", liked), ("disliked", disliked)):
            row[f"{name}_mean"] = float(v.mean()) if len(v) else None
            row[f"{name}_se"] = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0 if len(v) else None
        rows.append(row)
    return rows


def _grid(n: int) -> tuple[int, int]:
    cols = 4 if n > 6 else 3 if n > 2 else n
    return math.ceil(n / cols), cols


def _small_multiples(rows: int, cols: int, top: float = 1.3):
    # Fixed margins: constrained layout costs seconds on a grid of a dozen panels. 1.3 inch on top
    # hold the figure title and the shared legend, clear of the first row's panel titles.
    height = 2.6 * rows + top
    fig = _figure(3.0 * cols, height, layout=None)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.35 / height + 0.02, top=1 - top / height,
                        hspace=0.75, wspace=0.3)
    return fig


def _like_dislike_legend(fig) -> None:
    """One legend for every panel, under the figure title (panel legends hid the bars)."""
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(color=LIKE_COLOUR, alpha=0.75, label="liked tracks"),
                        Patch(color=DISLIKE_COLOUR, alpha=0.75, label="disliked tracks")],
               loc="upper center", bbox_to_anchor=(0.5, 1 - 0.38 / fig.get_figheight()), ncol=2, frameon=False,
               fontsize=9)


def _with_values(summary_or_features, has) -> tuple[list, list]:
    """(the items with values, the names of those without): empty panels are left out, and named."""
    kept, empty = [], []
    for item in summary_or_features:
        (kept if has(item) else empty).append(item)
    return kept, empty


def _discrete_ticks(col: str, values) -> list[str]:
    if col == "mode":
        return ["minor" if v == 0 else "major" if v == 1 else str(v) for v in values]
    if col == "key":
        return [KEY_NAMES[v] if 0 <= v < 12 else str(v) for v in values]
    if col == "time_signature":
        return [f"{v}/4" for v in values]
    return [str(v) for v in values]


def plot_feature_means(summary: Sequence[dict[str, Any]]):
    """One small panel per feature (their scales differ): liked vs disliked mean with its standard error."""
    summary, empty = _with_values(summary, lambda r: r["liked_mean"] is not None or r["disliked_mean"] is not None)
    if not summary:
        summary = empty[:1]
    title = ("Mean of each audio feature, liked vs disliked (error bars: ±1 standard error)\n"
             "key has no mean (it is a place on a circle): its commonest values are in the table below")
    if empty and len(empty) < len(AUDIO_FEATURES):
        title += "\nno values for: " + ", ".join(r["feature"].replace("_", " ") for r in empty)
    rows, cols = _grid(len(summary))
    fig = _small_multiples(rows, cols, top=0.45 + 0.2 * (title.count("\n") + 1))  # room for each title line
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, row in zip(axes.flat, summary):
        ax.set_title(MEAN_TITLES.get(row["feature"], row["feature"].replace("_", " ")), fontsize=10)
        means = [row["liked_mean"], row["disliked_mean"]]
        if all(m is None for m in means):
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes, color="grey")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        ax.bar([0, 1], [m if m is not None else 0.0 for m in means],
               yerr=[row["liked_se"] or 0.0, row["disliked_se"] or 0.0],
               color=[LIKE_COLOUR, DISLIKE_COLOUR], capsize=4)
        ax.set_xticks([0, 1], [f"liked\n(n={row['liked_n']})", f"disliked\n(n={row['disliked_n']})"], fontsize=8)
        for x, m in ((0, means[0]), (1, means[1])):
            if m is None:
                ax.text(x, 0, "no values", ha="center", va="bottom", fontsize=8, color="grey")
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[len(summary):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11, y=1 - 0.08 / fig.get_figheight())
    return fig


def plot_feature_distributions(frame):
    """Small multiples: each feature's distribution among liked and among disliked tracks."""
    import numpy as np

    shown, empty = _with_values(AUDIO_FEATURES, lambda c: len(_values(frame, c, 1)) + len(_values(frame, c, 0)) > 0)
    if not shown:
        shown = empty[:1]
    rows, cols = _grid(len(shown))
    fig = _small_multiples(rows, cols)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, col in zip(axes.flat, shown):
        liked, disliked = _values(frame, col, 1), _values(frame, col, 0)
        ax.set_title(f"{col.replace('_', ' ')}\n", fontsize=10)
        ax.text(0.5, 1.03, f"tracks with a value: {len(liked)} liked, {len(disliked)} disliked", fontsize=7.5,
                color="#555555", ha="center", va="bottom", transform=ax.transAxes)
        both = np.concatenate([liked, disliked])
        if len(both) == 0:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes, color="grey")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        if col in DISCRETE_FEATURES:
            # A few whole values (mode is 0 or 1): side-by-side bars of the share of each class.
            values = sorted({int(round(x)) for x in both})
            if col != "mode":
                lo, hi = DISCRETE_FEATURES[col]
                values = sorted(set(values) | (set(range(lo, hi + 1)) if col == "key" else set()))
            x = np.arange(len(values))
            for offset, v, colour in ((-0.2, liked, LIKE_COLOUR), (0.2, disliked, DISLIKE_COLOUR)):
                if len(v):
                    share = [float(np.mean(np.round(v) == value)) for value in values]
                    ax.bar(x + offset, share, width=0.4, color=colour, alpha=0.75)
            ax.set_xticks(x, _discrete_ticks(col, values), fontsize=7 if col == "key" else 8)
            ax.set_ylabel("share of tracks", fontsize=8)
        else:
            lo, hi = float(both.min()), float(both.max())
            bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 21)
            for v, colour in ((liked, LIKE_COLOUR), (disliked, DISLIKE_COLOUR)):
                if len(v):
                    # Densities, so a class with fewer tracks is still comparable in shape. One
                    # filled outline per class, not a patch per bar: it looks the same and draws
                    # in a fraction of the time (twelve panels of forty bars each).
                    density, edges = np.histogram(v, bins=bins, density=True)
                    ax.stairs(density, edges, fill=True, alpha=0.55, color=colour)
            ax.set_ylabel("density", fontsize=8)
            if col in FEATURE_UNITS:
                ax.set_xlabel(FEATURE_UNITS[col], fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    title = "Distribution of each audio feature, liked vs disliked"
    if empty and len(empty) < len(AUDIO_FEATURES):
        title += "\nno values for: " + ", ".join(c.replace("_", " ") for c in empty)
    fig.suptitle(title, fontsize=11, y=1 - 0.08 / fig.get_figheight())
    _like_dislike_legend(fig)
    return fig


def _stage_label(net: dict[str, Any], i: int, history: Sequence[dict[str, Any]]) -> str:
    """A fit of the network in a listener's words: "final" -> "1. finding when to stop", "final refit"
    -> "2. the network kept"; "fold 2/5 refit" -> "fold 2/5: trained again on all"."""
    stage = str(net.get("stage") or "network").strip()
    refit = stage.endswith(" refit") or stage == "refit"
    base = stage.removesuffix("refit").strip()
    if base in ("", "final"):
        label = "2. the network kept (all tracks)" if refit else "1. finding when to stop"
    else:
        label = f"{base}: trained again on all" if refit else f"{base}: finding when to stop"
    same = [k for k, h in enumerate(history) if str(h.get("stage") or "network").strip() == stage]
    return label if len(same) < 2 else f"{label} ({same.index(i) + 1})"


def plot_training_curves(history: Sequence[dict[str, Any]]):
    """Loss and AUC per epoch of every network trained in the run, training (solid) and validation (dashed)."""
    fig = _figure(11, 4)
    ax_loss, ax_auc = fig.subplots(1, 2)
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    for i, net in enumerate(history):
        epochs = [e for e in net.get("epochs") or [] if isinstance(e, dict)]
        if not epochs:
            continue
        colour = palette[i % len(palette)]
        label = _stage_label(net, i, history)
        x = [e.get("epoch", k + 1) for k, e in enumerate(epochs)]
        for ax, key in ((ax_loss, "loss"), (ax_auc, "auc")):
            for prefix, style in (("", "-"), ("val_", "--")):
                y = [_finite(e.get(prefix + key)) for e in epochs]
                if any(v is not None for v in y):
                    ax.plot(x, [float("nan") if v is None else v for v in y], style, color=colour,
                            label=f"{label}: {'held-back tracks' if prefix else 'tracks it learns from'}")
        best = net.get("best_epoch")
        if isinstance(best, (int, float)) and 1 <= best <= len(epochs):
            v = _finite(epochs[int(best) - 1].get("val_auc"))
            if v is not None:
                ax_auc.plot([best], [v], "o", color=colour)
    ax_loss.set(title="Loss per pass (lower: surer and more right)", xlabel="epoch (pass over the tracks)",
                ylabel="weighted binary cross-entropy")
    ax_auc.set(title="ROC-AUC on the held-back tracks (dot: the pass kept)", xlabel="epoch (pass over the tracks)",
               ylabel="ROC-AUC")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_loss, ax_auc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ax.lines:
            ax.legend(fontsize=7, frameon=False)
        ax.grid(alpha=0.3)
    return fig


def _plot_curves(curves: dict[str, Any], scores: dict[str, Any], *, curve: str, x: str, y: str, score: str,
                 tag: str, title: str, xlabel: str, ylabel: str, chance, legend_loc: str):
    """One model-against-baselines curve plot (ROC or precision-recall); `chance(ax)` draws chance."""
    fig = _figure(5.5, 5)
    ax = fig.subplots()
    chance(ax)
    for name in ("taste", "mlp", "random_forest", "logistic_regression"):
        points = (curves.get(name) or {}).get(curve) or {}
        if points.get(x) and points.get(y):
            value = _finite((scores.get(name) or {}).get(score))
            label = CURVE_LABELS[name] + (f": {tag} {value:.3f}" if value is not None else "")
            # The model recommend uses stands out; its parts and the baselines are thinner.
            ax.plot(points[x], points[y], "--" if name == "mlp" else "-", color=MODEL_COLOURS[name],
                    lw=2.6 if name == "taste" else 1.3, label=label, zorder=3 if name == "taste" else 2)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=8, loc=legend_loc)
    ax.grid(alpha=0.3)
    return fig


def plot_roc(curves: dict[str, Any], scores: dict[str, Any]):
    return _plot_curves(
        curves, scores, curve="roc", x="fpr", y="tpr", score="roc_auc", tag="AUC",
        title="ROC on test tracks the models never saw", xlabel="false positive rate (dislikes let through)",
        ylabel="true positive rate (likes found)",
        chance=lambda ax: ax.plot([0, 1], [0, 1], ":", color="grey", label="chance (majority class): AUC 0.500"),
        legend_loc="lower right",
    )


def plot_pr(curves: dict[str, Any], scores: dict[str, Any], prevalence: float | None):
    def chance(ax) -> None:
        if prevalence is not None:
            ax.axhline(prevalence, ls=":", color="grey", label=f"chance (share of likes): {prevalence:.3f}")

    return _plot_curves(
        curves, scores, curve="pr", x="recall", y="precision", score="pr_auc", tag="AP",
        title="Precision-recall on test tracks the models never saw", xlabel="recall (share of the likes found)",
        ylabel="precision (share of likes among those taken)",
        chance=chance, legend_loc="lower left",
    )


def _fitted_range(values) -> tuple[float, float]:
    """An axis range around the values (within 0..1), not all of 0..1 when they crowd one end."""
    lo, hi = float(min(values)), float(max(values))
    pad = max((hi - lo) * 0.05, 0.01)
    return max(0.0, lo - pad), min(1.0, hi + pad)


def plot_recommendation_scores(entries: Sequence[dict[str, Any]], score_label: str = RECORDED_SCORE):
    """Left: the score each recommendation was ranked by; right: two pieces of its evidence. Each axis
    spans the scores there are (the final scores often sit between 0.8 and 1), not all of 0..1."""
    import numpy as np

    def column(key):
        return np.clip([float(e[key]) for e in entries if _finite(e.get(key)) is not None], 0, 1)

    final = column("score")
    parts = [(key, colour, label, column(key)) for key, colour, label in
             (("mlp", "#6a3d9a", "taste model (MLP + forest)"), ("hybrid", "#2ca02c", "collaborative score"))]
    parts = [p for p in parts if len(p[3])]
    fig = _figure(11, 4)
    ax_final, ax_parts = fig.subplots(1, 2)
    if len(final):
        lo, hi = _fitted_range(final)
        ax_final.hist(final, bins=np.linspace(lo, hi, 16), color="#1f77b4", alpha=0.85)
        ax_final.set_xlim(lo, hi)
    ax_final.set(title=f"{score_label[:1].upper()}{score_label[1:]} (n={len(final)})",
                 xlabel="score (higher ranks first)", ylabel="recommended tracks")
    if parts:
        lo, hi = _fitted_range(np.concatenate([v for *_, v in parts]))
        for key, colour, label, v in parts:
            ax_parts.hist(v, bins=np.linspace(lo, hi, 16), color=colour, alpha=0.9, histtype="step", lw=2,
                          label=label)
        ax_parts.set_xlim(lo, hi)
        ax_parts.legend(fontsize=8, frameon=False)
    else:
        ax_parts.text(0.5, 0.5, "not recorded", ha="center", va="center", transform=ax_parts.transAxes, color="grey")
    ax_parts.set(title="Two pieces of what they were ranked from, each 0 to 1", xlabel="score",
                 ylabel="recommended tracks")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_final, ax_parts):
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle("Scores of the last recommendations")
    return fig


def plot_provenance(features: dict[str, Any]):
    """Which provider the labelled tracks' audio features came from, and how many tracks have each feature."""
    fig = _figure(11, 4)
    ax_p, ax_f = fig.subplots(1, 2, width_ratios=[1, 1.6])
    by_provider = {str(k): int(v) for k, v in (features.get("by_provider") or {}).items() if _finite(v) is not None}
    names = sorted(by_provider, key=lambda k: -by_provider[k])
    ax_p.barh([PROVIDER_LABELS.get(k, k) for k in names], [by_provider[k] for k in names], color="#1f77b4")
    ax_p.invert_yaxis()
    ax_p.set(title="Audio features of the labelled tracks, by provider", xlabel="tracks")
    present = {str(k): int(v) for k, v in (features.get("non_missing") or {}).items() if _finite(v) is not None}
    cols = list(present)
    total = int(features.get("tracks") or 0)
    names = {"duration_ms": "duration", "time_signature": "beats per bar (time signature)"}
    unused = features.get("unused") if isinstance(features.get("unused"), (dict, list)) else ()
    ax_f.barh([names.get(c, c.replace("_", " ")) + (" (not read)" if c in unused else "") for c in cols],
              [present[c] for c in cols], color=["#bbbbbb" if c in unused else "#2ca02c" for c in cols])
    if total:
        ax_f.axvline(total, ls=":", color="grey")
    ax_f.invert_yaxis()
    ax_f.tick_params(axis="y", labelsize=8)
    ax_f.set(title=f"Tracks with a value, per feature (dotted: all {total} tracks)" if total
             else "Tracks with a value, per feature", xlabel="tracks")
    return fig


# -- the page -----------------------------------------------------------------------------------------
def _e(value: Any) -> str:
    """Escape anything for HTML text or attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: Any, digits: int = 3) -> str:
    v = _finite(value)
    if v is None:
        return "—"
    return f"{v:.{digits}f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric_from: int = 1) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f"<td class=\"num\">{_e(c)}</td>" if i >= numeric_from else f"<td>{_e(c)}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _img(name: str, png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    # The link names the PNG file saved beside the page; the image itself is embedded.
    return (f'<figure><a href="{_e(name)}"><img src="data:image/png;base64,{data}" alt="{_e(alt)}" '
            f'data-file="{_e(name)}"></a><figcaption>{_e(alt)} (<a href="{_e(name)}">{_e(name)}</a>)</figcaption></figure>')


def _note(text: str) -> str:
    return f'<p class="missing">{_e(text)}</p>'


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1150px;
padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
.sub{color:#666;margin-top:0}table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f5f5f5}figure{margin:1rem 0}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#666;font-size:.85rem}.missing{background:#fff6e0;border-left:4px solid #f0ad4e;padding:.4rem .8rem}
.big{font-size:1.6rem;font-weight:600}code{background:#f3f3f3;padding:0 .2rem}
"""


def write_report(
    settings,
    *,
    run: str | None = None,
    out_dir: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Write `report.html` and its PNG plots for `run` (default: the latest model) into `out_dir`
    (default `settings.reports_dir/<run-id>/`). Raises ModelError when there is no model."""
    say = progress or (lambda text: None)
    run_id, run_dir, metrics = resolve_run(settings, run)
    out = Path(out_dir) if out_dir is not None else Path(settings.reports_dir) / run_id
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a folder for the report.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = no_room(out, exc.errno) or f"Cannot create the report folder {out}: {exc.strerror or exc}"
        raise StoreError(f"{why}.") from None

    import matplotlib

    report = Report(run_id=run_id, out_dir=out, html_path=out / HTML_NAME)
    page = _Sections(report)
    # Panel titles at a fixed height, where they are drawn anyway (nothing sits above a panel):
    # matplotlib then skips its search for top ticks under each title at every draw, a sixth of
    # the report's time. The PNGs are the same to the pixel.
    with matplotlib.rc_context({"axes.titley": 1.0}):
        say("scores")
        _uses_section(page, metrics)
        _scores_section(page, metrics)
        say("ROC and precision-recall curves")
        _curves_section(page, metrics)
        say("training curves")
        _training_section(page, metrics)
        say("reading the store")
        _features_section(page, settings, metrics, say)
        say("recommendations")
        _recommendations_section(page, settings, run_id)
        say("feature provenance")
        _provenance_section(page, metrics)
    _data_section(page, metrics)
    _write_page(report, _page_html(report, metrics, page.parts))
    return report


class _Sections:
    """The page's sections as they are written, and the PNG files beside it."""

    def __init__(self, report: Report):
        self.report = report
        self.parts: list[str] = []

    def add(self, *html: str) -> None:
        self.parts.append("".join(html))

    def save(self, name: str, fig, alt: str) -> str:
        png = _png(fig)
        path = self.report.out_dir / name
        try:
            path.write_bytes(png)
        except OSError as exc:
            raise StoreError(f"{write_failure(path, exc)}.") from None
        self.report.plots[name.removesuffix(".png")] = path
        return _img(name, png, alt)

    def missing(self, text: str) -> str:
        self.report.missing.append(text)
        return _note(text)


def _test_part(metrics: dict) -> dict[str, Any]:
    """The part the scores were measured on: its likes, dislikes and tracks, and how it was chosen,
    from metrics.json `split` (never the training totals)."""
    split = metrics.get("split") if isinstance(metrics.get("split"), dict) else {}
    likes, dislikes = _count(split.get("test_likes")), _count(split.get("test_dislikes"))
    cv = metrics.get("mode") == "cross-validation"
    tracks = _count(split.get("evaluated" if cv else "test"))
    if tracks is None and likes is not None and dislikes is not None:
        tracks = likes + dislikes
    known = likes is not None and dislikes is not None
    counts = f"{likes} likes and {dislikes} dislikes" if known else "tracks"
    of = f"{tracks} tracks ({counts})" if tracks is not None and known else "tracks (how many was not recorded)"
    if cv:
        where = (f"scored by cross-validation: each of {of} by models that never saw it, in "
                 f"{split.get('folds', 'several')} parts split by artist")
    else:
        artists = _count(split.get("test_artists"))
        by = f" by {artists} artists" if artists is not None else ""
        where = f"scored on a held-out test part of {of}{by}, none of whose tracks the models learnt from"
    return {"likes": likes, "dislikes": dislikes, "tracks": tracks, "counts": counts, "where": where}


def _count(value: Any) -> int | None:
    v = _finite(value)
    return int(v) if v is not None and v >= 0 else None


def _uses_section(page: _Sections, metrics: dict) -> None:
    """What `recommend` uses with this run: the taste model, and the ranking the run says it fitted."""
    scores = metrics.get("scores") if isinstance(metrics.get("scores"), dict) else {}
    test, ranking = _test_part(metrics), ranking_used(metrics)
    taste_auc = _finite((scores.get("taste") or {}).get("roc_auc"))
    part = ["<h2>What <code>recommend</code> uses</h2>",
            "<p><b>To score each track: the taste model</b>, the mean of two like-probabilities learnt from your "
            "likes and dislikes on the same inputs (the sound, the duration, the year): a neural network's (the "
            "MLP) and a random forest's."]
    if taste_auc is not None:
        part.append(f" On {_e(test['counts'])} it never learnt from, it puts a like above a dislike with probability "
                    f"<b>{_fmt(taste_auc)}</b> (ROC-AUC: 1 is perfect, 0.5 is chance).")
    part.append(f"</p><p><b>To order the recommendations: {_e(ranking.label)}</b>.</p>")
    if ranking.kind == "blend":
        part.append(_blend_html(page, metrics, ranking))
    elif ranking.validation:
        why = f"<p>Why: {_e(ranking.reason)}.</p>" if ranking.reason and ranking.kind != "learned" else ""
        part.append(why + _validation_html(ranking))
    elif ranking.kind == "learned":
        part.append(_checks_html(ranking))
    part.append("<p class=\"sub\">Options of <code>recommend</code> can change either for one run "
                "(<code>--taste-model</code>, <code>--blend</code>).</p>")
    page.add(*part)


def _validation_html(ranking: Ranking) -> str:
    """The run's rankers side by side, measured on held-out likes (`ranking.validation`)."""
    import re

    measures: list[str] = []
    for scores in ranking.validation.values():
        measures += [k for k in scores if k not in measures]

    def measure(key: str) -> str:
        m = re.fullmatch(r"p_at_(\d+)", key)
        return f"share of likes in the top {m.group(1)}" if m else RANKER_MEASURES.get(key, key.replace("_", " "))

    rows = [[RANKER_NAMES.get(name, name.replace("_", " ")) + (" (what recommend uses)" if name == ranking.kind else "")]
            + [_fmt(scores.get(k)) for k in measures] for name, scores in ranking.validation.items()]
    return ("<p>How each way of ordering found likes held out from training, hidden among tracks you never heard "
            "(higher is better):</p>" + _table(["ordered by"] + [measure(k) for k in measures], rows))


def _checks_html(ranking: Ranking) -> str:
    """The learned ranking's check: each half of the held-out likes ordered by a ranking fitted on the other."""
    rows = [[int(c.get("part", i)) + 1, c.get("likes"), _fmt(c.get("ap_ranking")), _fmt(c.get("ap_mlp")),
             _fmt(c.get("ap_hybrid"))] for i, c in enumerate(ranking.checks)]
    how = f"<p>How it was fitted: {_e(ranking.reason)}.</p>" if ranking.reason else ""
    if not rows or all(c.get("ap_ranking") is None for c in ranking.checks):  # a run that chose: `validation` says it
        return how
    return how + ("<p>Each half of the held-out likes (split by artist), hidden among tracks you never heard and "
                  "ordered by a ranking fitted on the other half; average precision, higher is better:</p>"
                  + _table(["held-out half", "likes", "learned ranking", "taste model alone", "collaborative score alone"],
                           rows))


def _blend_html(page: _Sections, metrics: dict, ranking: Ranking) -> str:
    """The linear blend the run ranks by: its weight, and why."""
    blend = metrics.get("blend") if isinstance(metrics.get("blend"), dict) else {}
    w = ranking.weight
    if w is None:
        return page.missing("this run recorded no blend weight")
    part = [f'<p class="big">w = {_e(_fmt(w, 2))}</p><p>score = w × taste score + (1 − w) × collaborative score '
            f'(both as ranks): the taste model counts {_e(_fmt(100 * w, 0))} %, the collaborative score '
            f'{_e(_fmt(100 * (1 - w), 0))} %.']
    if ranking.reason:
        part.append(f" Why no learned ranking: {_e(ranking.reason)}.")
    part.append(f" How w was chosen: {_e(blend.get('reason') or 'not recorded')}.</p>")
    details = blend.get("details") or {}
    if isinstance(details, dict) and details:
        part.append(_table(["measured on the validation part", "value"],
                           [[MEASURE_LABELS.get(k, k.replace("_", " ")), _fmt(v)] for k, v in details.items()]))
    return "".join(part)


def _scores_section(page: _Sections, metrics: dict) -> None:
    """The taste model, its parts and the baselines on the test part, in a table and in words."""
    scores = metrics.get("scores") if isinstance(metrics.get("scores"), dict) else {}
    split = metrics.get("split") if isinstance(metrics.get("split"), dict) else {}
    test = _test_part(metrics)
    score_names = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc")
    rows = [[name, what] + [_fmt((scores.get(k) or {}).get(m)) for m in score_names]
            for k, name, what in MODELS if scores.get(k)]
    part = [f"<h2>How good is the taste model?</h2><p>Every model below learnt from the same tracks and was "
            f"{_e(test['where'])}.{_e(_weak_note(metrics))}</p>"]
    headers = ["model", "what it is", "accuracy", "precision", "recall", "F1", "ROC-AUC", "PR-AUC"]
    part.append(_table(headers, rows, numeric_from=2) if rows else page.missing("this run recorded no scores"))
    part.append(_comparison_html(scores, test))
    if split:
        part.append(_table(["split", "tracks"], [[SPLIT_WORDS.get(k, k.replace("_", " ")), v] for k, v in split.items()]))
    page.add(*part)


def _weak_note(metrics: dict) -> str:
    by_kind = (metrics.get("data") or {}).get("by_kind") or {}
    weak = _count(by_kind.get("weak_dislike")) if isinstance(by_kind, dict) else None
    return (" The dislikes include tracks you never played that tastebot drew as probable dislikes (see “What the "
            "model learnt from”)." if weak else "")


def _comparison_html(scores: dict, test: dict[str, Any]) -> str:
    """In words: which model orders the test tracks best, how sure that is, and why the taste model ships."""
    taste = _finite((scores.get("taste") or {}).get("roc_auc"))
    rivals = {k: v for k in ("logistic_regression", "random_forest")
              if (v := _finite((scores.get(k) or {}).get("roc_auc"))) is not None}
    if taste is None or not rivals:
        return ""
    best = max(rivals, key=rivals.get)
    se = auc_standard_error(taste, test["likes"] or 0, test["dislikes"] or 0)
    spread = (f" With {test['counts']} in the test part, a ROC-AUC is known to about ±{se:.3f} (one standard error), "
              f"so a gap smaller than about {2 * se:.2f} may be chance.") if se is not None else ""
    if rivals[best] <= taste:
        return (f"<p>On this test part the taste model orders likes above dislikes at least as well as every "
                f"baseline (ROC-AUC {taste:.3f}; the best baseline, {MODEL_LABELS[best]}, {rivals[best]:.3f}).{_e(spread)}</p>")
    why = ("the forest alone won on some benchmark listeners and lost on others, while the mean of the MLP and the "
           "forest was never far below the better of the two" if best == "random_forest" else
           "on the benchmark listeners with 1,600 tracks logistic regression was below both parts of the taste model")
    the = "the " if best == "random_forest" else ""
    return (f"<p>Here {the}{MODEL_LABELS[best]} orders the test tracks better than the taste model (ROC-AUC "
            f"{rivals[best]:.3f} against {taste:.3f}).{_e(spread)} tastebot keeps one model for every listener rather "
            f"than pick one on a test part this small: {_e(why)} (docs/training.md).</p>")


def _curves_section(page: _Sections, metrics: dict) -> None:
    """ROC and precision-recall curves of the taste model, its MLP and the baselines."""
    scores, curves = metrics.get("scores") or {}, metrics.get("curves") or {}
    save, missing = page.save, page.missing
    test = _test_part(metrics)
    part = ["<h2>ROC and precision-recall: the taste model against the baselines</h2>"]
    has_curves = any((curves.get(k) or {}).get("roc") for k in ("taste", "mlp", "logistic_regression", "random_forest"))
    if has_curves:
        part.append("<p>Each curve follows one model's order of the test tracks, from the track it is surest you like "
                    "down. ROC: the share of the likes found (up) against the share of the dislikes let through "
                    "(right). Precision-recall: of the tracks taken so far, the share that are likes. The thick purple "
                    "curve is the taste model, what <code>recommend</code> uses; the dashed blue one is its MLP alone "
                    "and the green one its random forest alone; logistic regression (orange) and the majority class "
                    "(dotted: chance) are baselines.</p>")
        if not (curves.get("taste") or {}).get("roc"):
            part.append(missing("this run recorded no curve for the taste model (tastebot recorded only its parts' "
                                "curves before): its scores are in the table above"))
        likes, dislikes = test["likes"], test["dislikes"]
        prevalence = likes / (likes + dislikes) if likes is not None and dislikes and likes + dislikes > 0 else None
        part.append(save("roc_curve.png", plot_roc(curves, scores), "ROC curves of the taste model and the baselines"))
        part.append(save("pr_curve.png", plot_pr(curves, scores, prevalence),
                         "Precision-recall curves of the taste model and the baselines"))
    else:
        part.append(missing("this run recorded no ROC or precision-recall curve points (both classes are needed "
                            "in the evaluated part; an older tastebot did not record them)"))
    page.add(*part)


def _training_section(page: _Sections, metrics: dict) -> None:
    """Loss and AUC per epoch of each fit, which epoch was kept and why, in words."""
    fits = [h for h in metrics.get("history") or [] if isinstance(h, dict)]
    save, missing = page.save, page.missing
    part = ["<h2>How the network learnt</h2>"]
    if any(h.get("epochs") for h in fits):
        part.append(_training_words(fits, metrics.get("settings") or {}))
        part.append(save("training_curves.png", plot_training_curves(fits),
                         "Loss and ROC-AUC per pass, on the tracks it learns from and on the held-back tracks"))
        part.append(_table(
            ["fit", "passes run", "pass kept", "tracks it learnt from", "held-back tracks"],
            [[_stage_label(h, i, fits), h.get("epochs_run"), h.get("best_epoch"), h.get("train_rows"),
              h.get("validation_rows")] for i, h in enumerate(fits)], numeric_from=1))
    else:
        part.append(missing("this run recorded no training history"))
    page.add(*part)


def _training_words(fits: list[dict[str, Any]], settings: dict) -> str:
    """Why the kept pass was kept, and what the refit is, for a listener."""
    import re

    first = next((h for h in fits if not str(h.get("stage") or "").strip().endswith("refit")), fits[0])
    refit = any(str(h.get("stage") or "").strip().endswith("refit") for h in fits)
    m = re.search(r"patience (\d+)", str(settings.get("early_stopping") or ""))
    patience = f"{m.group(1)} passes in a row" if m else "several passes in a row"
    best, held = first.get("best_epoch"), first.get("validation_rows")
    text = ("<p>The network (the MLP half of the taste model) learns in passes over its tracks, called epochs. To "
            f"know when to stop, it first learns from {_e(first.get('train_rows', 'most'))} tracks while "
            f"{_e(held if held is not None else 'some')} others are held back: after each pass it orders the "
            "held-back tracks, and the ROC-AUC of that order is measured (right). Learning stops when that has not "
            f"improved for {patience}, and the pass with the best ROC-AUC is kept (the dot"
            + (f": pass {_e(best)}" if best is not None else "") + "), not the last one. The loss (left) also counts "
            "how sure the network is: after the kept pass the loss on the held-back tracks can rise while their order "
            "barely changes, as the network grows over-sure about a few tracks. Recommendations use only the order, "
            "so the pass is chosen by ROC-AUC, not by the loss.")
    if refit:
        text += (" Then, as the held-back tracks are too valuable to leave out, the network learns afresh from all "
                 "the tracks for that same number of passes: that network is the one kept (it holds nothing back, "
                 "so it has only a training curve).")
    return text + "</p>"


def _features_section(page: _Sections, settings, metrics: dict, say: Callable[[str], None]) -> None:
    """Liked vs disliked audio features, from the store as it is now."""
    data = metrics.get("data") or {}
    save, missing = page.save, page.missing
    frame, why_not = labelled_frame(settings)
    part = ["<h2>What you like and dislike: the audio features</h2>"]
    if frame is not None:
        n_like, n_dis = int((frame["label"] == 1).sum()), int((frame["label"] == 0).sum())
        extra = _count(data.get("corpus_negatives"))
        extra = f", of them {extra} tracks from your corpus you never heard, taken as probable dislikes" if extra else ""
        part.append(f"<p>From the store's labelled tracks now: <b>{n_like}</b> liked and <b>{n_dis}</b> disliked "
                    f"(the model of this run learnt from {_e(data.get('likes', '?'))} and "
                    f"{_e(data.get('dislikes', '?'))}{_e(extra)}).</p>")
        summary = feature_summary(frame)
        say("feature plots")
        part.append(save("feature_means.png", plot_feature_means(summary), "Liked vs disliked mean of each audio feature"))
        part.append(_table(
            ["feature", "liked mean", "disliked mean", "difference", "liked tracks with it", "disliked tracks with it"],
            [[r["feature"].replace("_", " "), _fmt(r["liked_mean"]), _fmt(r["disliked_mean"]),
              _fmt(r["liked_mean"] - r["disliked_mean"]) if r["liked_mean"] is not None and r["disliked_mean"] is not None else "—",
              r["liked_n"], r["disliked_n"]] for r in summary]))
        part.append(_keys_html(frame))
        part.append(save("feature_distributions.png", plot_feature_distributions(frame),
                         "Distribution of each audio feature, liked vs disliked"))
    else:
        part.append(missing(why_not or "no labelled tracks"))
    page.add(*part)


def _keys_html(frame) -> str:
    """The commonest keys, liked and disliked: a key has no mean (B is a semitone below C)."""
    keys = key_summary(frame)
    if not keys["liked"] and not keys["disliked"]:
        return ""
    rows = [[place] + [f"{keys[side][i][0]} ({100 * keys[side][i][1]:.0f} %)" if i < len(keys[side]) else "—"
                       for side in ("liked", "disliked")] for i, place in enumerate(("commonest", "second", "third"))]
    return ("<p>Key, the note a track is built on, sits on a circle (B is a semitone below C), so an average key "
            "means nothing: here are the commonest keys (of the "
            f"{keys['liked_n']} liked and {keys['disliked_n']} disliked tracks with one), and all twelve are in the "
            "distributions below.</p>" + _table(["key", "liked tracks", "disliked tracks"], rows))


def _recommendations_section(page: _Sections, settings, run_id: str) -> None:
    """The last recommendations' scores (the run's, or the last playlist's scored by the model)."""
    save, missing = page.save, page.missing
    recs, why_not = last_recommendations(settings, run_id)
    part = ["<h2>The last recommendations</h2>"]
    if recs is not None:
        entries = recs["entries"]
        part.append(f"<p>{len(entries)} tracks from {_e(recs['source'])}"
                    + (f", made {_e(recs['created_at'])}" if recs.get("created_at") else "")
                    + (f" with model {_e(recs['model_run'])}" if recs.get("model_run") else "") + "."
                    + (f" They were ranked by {_e(recs['ranked_by'])}." if recs.get("ranked_by") else "") + "</p>")
        part.append(save("recommendation_scores.png", plot_recommendation_scores(entries, recs["score_label"]),
                         "Score distribution of the last recommendations"))
        top = sorted(entries, key=lambda e: -e["score"])[:10]
        part.append(_table(["track", "artist", "score", "taste model", "collaborative score"],
                           [[e.get("name") or e.get("track_id") or "?", e.get("artist") or "", _fmt(e["score"]),
                             _fmt(e.get("mlp")), _fmt(e.get("hybrid"))] for e in top], numeric_from=2))
    else:
        part.append(missing(why_not or NO_RECOMMENDATIONS))
    page.add(*part)


def _provenance_section(page: _Sections, metrics: dict) -> None:
    """Which provider gave the labelled tracks' features, and the coverage."""
    features = metrics.get("features") or {}
    save, missing = page.save, page.missing
    part = ["<h2>Where the features came from</h2>"]
    if features.get("by_provider") or features.get("non_missing"):
        part.append(save("provenance.png", plot_provenance(features), "Feature providers and coverage"))
        part.append(_table(["provider", "labelled tracks"],
                           [[PROVIDER_LABELS.get(str(k), str(k)), v] for k, v in (features.get("by_provider") or {}).items()]))
        extra = [["tracks with any audio feature", features.get("with_any_audio_feature")],
                 ["tracks with genres", features.get("with_genres")],
                 ["model inputs", features.get("inputs")]]
        part.append(_table(["", "count"], [r for r in extra if r[1] is not None]))
        if features.get("unused"):
            part.append(_unused_html(features["unused"]))
    else:
        part.append(missing("this run recorded no feature provenance"))
    page.add(*part)


def _unused_html(unused: Any) -> str:
    """The inputs the model does not read, each with the reason the run recorded."""
    reasons = unused if isinstance(unused, dict) else {name: None for name in unused} if isinstance(unused, list) else {}
    by_reason: dict[str, list[str]] = {}  # one row per reason: five inputs often share one
    for name, why in reasons.items():
        words = UNUSED_WORDS.get(str(why), str(why)) if why else "not recorded by this run"
        by_reason.setdefault(words, []).append(str(name).replace("_", " "))
    if not by_reason:
        return ""
    return "<p>Inputs the model does not read, and why:</p>" + _table(
        ["inputs", "why they are left out"], [[", ".join(names), why] for why, names in by_reason.items()],
        numeric_from=2)


def _data_section(page: _Sections, metrics: dict) -> None:
    """What the model learnt from: counts by kind and by signal source."""
    data = metrics.get("data") or {}
    missing = page.missing
    by_source = data.get("by_source") or {}
    part = ["<h2>What the model learnt from</h2>"]
    counts = [[k, data.get(k)] for k in ("tracks", "likes", "dislikes", "artists") if data.get(k) is not None]
    for k, v in (data.get("by_kind") or {}).items():
        label = COUNT_WORDS.get(k, k.replace("_", " ")) + "s"
        if label not in {row[0] for row in counts}:  # "explicit likes" are the likes when no like is weak
            counts.append([label, v])
    part.append(_table(["", "tracks"], counts) if counts else missing("this run recorded no data counts"))
    if isinstance(by_source, dict) and by_source:
        part.append(_table(["signal source", "likes", "dislikes"],
                           [[source_label(k), (v or {}).get("likes", 0), (v or {}).get("dislikes", 0)]
                            for k, v in by_source.items()
                            if isinstance(v, dict)]))
        share = history_share(by_source)
        if share is not None:
            part.append(f"<p>Your listening history (<code>tastebot history import</code>) gave {share['history']:,} "
                        f"of the {share['all']:,} signals ({share['percent']:.0f}%).</p>")
    page.add(*part)


def _page_html(report: Report, metrics: dict, sections: list[str]) -> str:
    """The whole page: a header saying which run and what is missing, then the sections."""
    run_id = report.run_id
    created = metrics.get("created_at") or "?"
    data = metrics.get("data") if isinstance(metrics.get("data"), dict) else {}
    learnt = (f"Learnt from {_e(data['likes'])} likes and {_e(data['dislikes'])} dislikes; "
              if data.get("likes") is not None and data.get("dislikes") is not None else "")
    header = (
        f"<h1>tastebot model report</h1><p class=\"sub\">Model <code>{_e(run_id)}</code>, trained {_e(created)}. "
        f"{learnt}{_e(_test_part(metrics)['where'])}. Report written "
        f"{_e(datetime.now(timezone.utc).isoformat(timespec='seconds'))}.</p>"
    )
    if report.missing:
        header += "<p>Not on this page: " + _e("; ".join(report.missing)) + ".</p>"
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>tastebot report {_e(run_id)}</title>"
        f"<style>{CSS}</style></head><body>{header}{''.join(sections)}"
        "<p class=\"sub\">Made by <code>tastebot report</code> from this run's metrics.json and your local store; "
        "nothing here left your machine.</p></body></html>\n"
    )


def _write_page(report: Report, page: str) -> None:
    """report.html, written whole or not at all."""
    tmp = report.html_path.with_name(f".{HTML_NAME}.{os.getpid()}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, report.html_path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"{write_failure(report.html_path, exc)}.") from None
