"""`tastebot report`: one self-contained HTML page about a trained model, with its plots.

The page shows what the model learnt from and how good it is: liked vs disliked means and
distributions of every audio feature (from the store's labelled tracks), the training curves, ROC and
precision-recall curves of the MLP against the baselines, the blend weight, the score distribution of
the last recommendations, and where the features came from. Every plot is a PNG file beside the page
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

from tastebot.errors import InputError, ModelError, StoreError, TastebotError
from tastebot.harvest import source_label
from tastebot.models.runs import latest_run_id, load_model
from tastebot.store import open_store
from tastebot.vocab import AUDIO_FEATURES, PROVIDER_LABELS as _CHAIN_LABELS
from tastebot.wording import COUNT_WORDS

# Features with a handful of integer values: drawn as bars per value (share of tracks), not as a histogram.
DISCRETE_FEATURES = {"key": (0, 11), "mode": (0, 1), "time_signature": (1, 7)}
MEAN_TITLES = {"mode": "mode: share in major", "key": "key: mean pitch class (C=0, B=11)",
               "loudness": "loudness (dB)", "tempo": "tempo (beats per minute)", "time_signature": "beats per bar"}
FEATURE_UNITS = {"loudness": "dB", "tempo": "beats per minute"}
KEY_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
# What a person reads for the internal names in metrics.json (tables of the page).
MEASURE_LABELS = {
    "ap_mlp": "average precision, MLP alone",
    "ap_hybrid": "average precision, hybrid score alone",
    "ap_blend": "average precision, the blend",
    "auc_mlp": "ROC-AUC, MLP alone",
    "auc_hybrid": "ROC-AUC, hybrid score alone",
    "auc_blend": "ROC-AUC, the blend",
}
BASELINE_LABELS = {
    "mlp": "MLP (tastebot)",
    "logistic_regression": "logistic regression",
    "random_forest": "random forest",
    "majority": "majority class",
}
PROVIDER_LABELS = {**_CHAIN_LABELS, "none": "no audio features"}
LIKE_COLOUR, DISLIKE_COLOUR = "#1db954", "#d9534f"
MODEL_COLOURS = {"mlp": "#1f77b4", "logistic_regression": "#ff7f0e", "random_forest": "#2ca02c"}
HTML_NAME = "report.html"
NO_RECOMMENDATIONS = "no recommendations yet"


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


def resolve_run(settings, run: str | None = None) -> tuple[str, Path, dict[str, Any]]:
    """(run id, run folder, metrics) of `run` or of the latest run; ModelError when there is none."""
    run_id = run or latest_run_id(settings)
    if run_id is None:
        raise ModelError("No trained model: run `tastebot train` first.")
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
                            "model_run": meta.get("model_run"), "entries": entries, "score_label": "final (blend)"}, None
            for pl in reversed(store.output_playlists()):
                try:
                    details = json.loads(pl.get("details") or "{}")
                except ValueError:
                    continue
                entries = _entries_from(details)
                if entries:
                    return {"source": f"the playlist “{pl.get('name')}”", "created_at": pl.get("planned_at"),
                            "model_run": details.get("model_run") if isinstance(details, dict) else None,
                            "entries": entries, "score_label": "final (blend)"}, None
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


def _rescored(settings, run: str, playlist: dict[str, Any], tracks) -> tuple[dict[str, Any] | None, str | None]:
    """The MLP's like-probabilities, now, for the tracks of a playlist whose record has no scores.
    Loading the network is the one place the report needs TensorFlow (through tastebot.train)."""
    try:
        model = load_model(settings, run)
        probabilities = model.predict(tracks)
    except TastebotError as exc:
        return None, f"{NO_RECOMMENDATIONS} with recorded scores, and the model cannot score the last playlist ({exc.message})"
    entries = [{"track_id": t, "name": n, "artist": None, "score": float(p), "mlp": None, "hybrid": None}
               for t, n, p in zip(tracks["track_id"], tracks["name"], probabilities)]
    return {
        "source": f"the playlist “{playlist.get('name')}”, scored now by this model's MLP (the playlist's record "
                  "carries no scores, so these are not the blended scores it was made with)",
        "created_at": playlist.get("created_at"), "model_run": run, "entries": entries,
        "score_label": "MLP like-probability, now",
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
    """Per audio feature: liked and disliked mean, standard error and count (NaN-free values only)."""
    import numpy as np

    rows = []
    for col in AUDIO_FEATURES:
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
    rows, cols = _grid(len(summary))
    fig = _small_multiples(rows, cols, top=0.8)
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
    title = "Mean of each audio feature, liked vs disliked (error bars: ±1 standard error)"
    if empty and len(empty) < len(AUDIO_FEATURES):
        title += "\nno values for: " + ", ".join(r["feature"].replace("_", " ") for r in empty)
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
    """"final" -> "first fit", "final refit" -> "refit on all data"; "fold 2 refit" -> "fold 2, refit"."""
    stage = str(net.get("stage") or "network").strip()
    refit = stage.endswith(" refit") or stage == "refit"
    base = stage.removesuffix("refit").strip()
    if base in ("", "final"):
        label = "refit on all data (no validation)" if refit else "first fit, with a validation part"
    else:
        label = f"{base}, refit on all data" if refit else base
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
                            label=f"{label}: {'validation' if prefix else 'training'}")
        best = net.get("best_epoch")
        if isinstance(best, (int, float)) and 1 <= best <= len(epochs):
            v = _finite(epochs[int(best) - 1].get("val_auc"))
            if v is not None:
                ax_auc.plot([best], [v], "o", color=colour)
    ax_loss.set(title="Loss per epoch", xlabel="epoch", ylabel="weighted binary cross-entropy")
    ax_auc.set(title="ROC-AUC per epoch (dot: the epoch kept)", xlabel="epoch", ylabel="ROC-AUC")
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
    for name in ("mlp", "logistic_regression", "random_forest"):
        points = (curves.get(name) or {}).get(curve) or {}
        if points.get(x) and points.get(y):
            value = _finite((scores.get(name) or {}).get(score))
            label = BASELINE_LABELS[name] + (f": {tag} {value:.3f}" if value is not None else "")
            ax.plot(points[x], points[y], color=MODEL_COLOURS[name], lw=2.2 if name == "mlp" else 1.4, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=8, loc=legend_loc)
    ax.grid(alpha=0.3)
    return fig


def plot_roc(curves: dict[str, Any], scores: dict[str, Any]):
    return _plot_curves(
        curves, scores, curve="roc", x="fpr", y="tpr", score="roc_auc", tag="AUC",
        title="ROC on tracks the models never saw", xlabel="false positive rate", ylabel="true positive rate",
        chance=lambda ax: ax.plot([0, 1], [0, 1], ":", color="grey", label="chance (majority class): AUC 0.500"),
        legend_loc="lower right",
    )


def plot_pr(curves: dict[str, Any], scores: dict[str, Any], prevalence: float | None):
    def chance(ax) -> None:
        if prevalence is not None:
            ax.axhline(prevalence, ls=":", color="grey", label=f"chance (share of likes): {prevalence:.3f}")

    return _plot_curves(
        curves, scores, curve="pr", x="recall", y="precision", score="pr_auc", tag="AP",
        title="Precision-recall on tracks the models never saw", xlabel="recall", ylabel="precision",
        chance=chance, legend_loc="lower left",
    )


def _fitted_range(values) -> tuple[float, float]:
    """An axis range around the values (within 0..1), not all of 0..1 when they crowd one end."""
    lo, hi = float(min(values)), float(max(values))
    pad = max((hi - lo) * 0.05, 0.01)
    return max(0.0, lo - pad), min(1.0, hi + pad)


def plot_recommendation_scores(entries: Sequence[dict[str, Any]], score_label: str = "final (blend)"):
    """Left: the score each recommendation was ranked by; right: its two parts. Each axis spans the
    scores there are (the final scores often sit between 0.8 and 1), not all of 0..1."""
    import numpy as np

    def column(key):
        return np.clip([float(e[key]) for e in entries if _finite(e.get(key)) is not None], 0, 1)

    final = column("score")
    parts = [(key, colour, label, column(key)) for key, colour, label in
             (("mlp", "#ff7f0e", "MLP (taste model)"), ("hybrid", "#2ca02c", "hybrid collaborative score"))]
    parts = [p for p in parts if len(p[3])]
    fig = _figure(11, 4)
    ax_final, ax_parts = fig.subplots(1, 2)
    if len(final):
        lo, hi = _fitted_range(final)
        ax_final.hist(final, bins=np.linspace(lo, hi, 16), color="#1f77b4", alpha=0.85)
        ax_final.set_xlim(lo, hi)
    ax_final.set(title=f"The score they were ranked by: {score_label} (n={len(final)})",
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
    ax_parts.set(title="Its two parts, each from 0 to 1", xlabel="score", ylabel="recommended tracks")
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
    ax_f.barh([names.get(c, c.replace("_", " ")) for c in cols], [present[c] for c in cols], color="#2ca02c")
    if total:
        ax_f.axvline(total, ls=":", color="grey")
    ax_f.invert_yaxis()
    ax_f.tick_params(axis="y", labelsize=8)
    ax_f.set(title=f"Tracks with a value, per input (dotted: all {total} tracks)" if total
             else "Tracks with a value, per input", xlabel="tracks")
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
        raise StoreError(f"Cannot create the report folder {out}: {exc.strerror or exc}.") from None

    import matplotlib

    report = Report(run_id=run_id, out_dir=out, html_path=out / HTML_NAME)
    page = _Sections(report)
    # Panel titles at a fixed height, where they are drawn anyway (nothing sits above a panel):
    # matplotlib then skips its search for top ticks under each title at every draw, a sixth of
    # the report's time. The PNGs are the same to the pixel.
    with matplotlib.rc_context({"axes.titley": 1.0}):
        say("scores")
        _scores_section(page, metrics)
        say("ROC and precision-recall curves")
        _curves_section(page, metrics)
        say("training curves")
        _training_section(page, metrics)
        _blend_section(page, metrics)
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
            raise StoreError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        self.report.plots[name.removesuffix(".png")] = path
        return _img(name, png, alt)

    def missing(self, text: str) -> str:
        self.report.missing.append(text)
        return _note(text)


def _scores_section(page: _Sections, metrics: dict) -> None:
    """The model in one glance."""
    scores, split = metrics.get("scores") or {}, metrics.get("split") or {}
    missing = page.missing
    score_names = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc")
    score_rows = [[BASELINE_LABELS.get(k, k)] + [_fmt((scores.get(k) or {}).get(m)) for m in score_names]
                  for k in ("mlp", "majority", "logistic_regression", "random_forest") if scores.get(k)]
    where = ("cross-validated: every track scored by models that never saw it" if metrics.get("mode") == "cross-validation"
             else f"on a held-out test part of {split.get('test', '?')} tracks from artists never seen in training")
    part = [f"<h2>How good is the model?</h2><p>Scores {_e(where)}.</p>"]
    headers = ["model", "accuracy", "precision", "recall", "F1", "ROC-AUC", "PR-AUC"]
    part.append(_table(headers, score_rows) if score_rows else missing("this run recorded no scores"))
    part.append(_table(["split", "tracks"], [[k.replace("_", " "), v] for k, v in split.items()]) if split else "")
    page.add(*part)


def _curves_section(page: _Sections, metrics: dict) -> None:
    """ROC and precision-recall curves of the MLP and the baselines."""
    scores, split, curves = metrics.get("scores") or {}, metrics.get("split") or {}, metrics.get("curves") or {}
    save, missing = page.save, page.missing
    part = ["<h2>ROC and precision-recall: the MLP against the baselines</h2>"]
    has_curves = any((curves.get(k) or {}).get("roc") for k in ("mlp", "logistic_regression", "random_forest"))
    if has_curves:
        t_like, t_dis = _finite(split.get("test_likes")), _finite(split.get("test_dislikes"))
        prevalence = t_like / (t_like + t_dis) if t_like is not None and t_dis and t_like + t_dis > 0 else None
        part.append(save("roc_curve.png", plot_roc(curves, scores), "ROC curves of the MLP and the baselines"))
        part.append(save("pr_curve.png", plot_pr(curves, scores, prevalence),
                         "Precision-recall curves of the MLP and the baselines"))
    else:
        part.append(missing("this run recorded no ROC or precision-recall curve points (both classes are needed "
                            "in the evaluated part; an older tastebot did not record them)"))
    page.add(*part)


def _training_section(page: _Sections, metrics: dict) -> None:
    """Loss and AUC per epoch of each fit, and which epoch was kept."""
    history = metrics.get("history") or []
    save, missing = page.save, page.missing
    part = ["<h2>Training curves</h2>"]
    if any(isinstance(h, dict) and h.get("epochs") for h in history):
        part.append("<p>Loss and ROC-AUC per epoch of each network; early stopping keeps the epoch with the best "
                    "validation AUC.</p>")
        part.append(save("training_curves.png", plot_training_curves([h for h in history if isinstance(h, dict)]),
                         "Loss and AUC per epoch, training and validation"))
        fits = [h for h in history if isinstance(h, dict)]
        part.append(_table(
            ["fit", "epochs run", "epoch kept", "training rows", "validation rows"],
            [[_stage_label(h, i, fits), h.get("epochs_run"), h.get("best_epoch"), h.get("train_rows"),
              h.get("validation_rows")] for i, h in enumerate(fits)], numeric_from=1))
    else:
        part.append(missing("this run recorded no training history"))
    page.add(*part)


def _blend_section(page: _Sections, metrics: dict) -> None:
    """The weight of the MLP against the hybrid score, and why."""
    blend = metrics.get("blend") or {}
    missing = page.missing
    part = ["<h2>The blend weight</h2>"]
    w = _finite(blend.get("weight"))
    if w is not None:
        part.append(f'<p class="big">w = {_e(_fmt(w, 2))}</p><p>final score = w × MLP + (1 − w) × hybrid '
                    f'collaborative score (both rank-scaled): the MLP counts {_e(_fmt(100 * w, 0))} %, the hybrid score '
                    f'{_e(_fmt(100 * (1 - w), 0))} %. Why: {_e(blend.get("reason") or "not recorded")}.</p>')
        details = blend.get("details") or {}
        if isinstance(details, dict) and details:
            part.append(_table(["measured on the validation part", "value"],
                               [[MEASURE_LABELS.get(k, k.replace("_", " ")), _fmt(v)] for k, v in details.items()]))
    else:
        part.append(missing("this run recorded no blend weight"))
    page.add(*part)


def _features_section(page: _Sections, settings, metrics: dict, say: Callable[[str], None]) -> None:
    """Liked vs disliked audio features, from the store as it is now."""
    data = metrics.get("data") or {}
    save, missing = page.save, page.missing
    frame, why_not = labelled_frame(settings)
    part = ["<h2>What you like and dislike: the audio features</h2>"]
    if frame is not None:
        n_like, n_dis = int((frame["label"] == 1).sum()), int((frame["label"] == 0).sum())
        part.append(f"<p>From the store's labelled tracks now: <b>{n_like}</b> liked and <b>{n_dis}</b> disliked "
                    f"(the model of this run learnt from {_e(data.get('likes', '?'))} and "
                    f"{_e(data.get('dislikes', '?'))}).</p>")
        summary = feature_summary(frame)
        say("feature plots")
        part.append(save("feature_means.png", plot_feature_means(summary), "Liked vs disliked mean of each audio feature"))
        part.append(_table(
            ["feature", "liked mean", "disliked mean", "difference", "liked tracks with it", "disliked tracks with it"],
            [[r["feature"].replace("_", " "), _fmt(r["liked_mean"]), _fmt(r["disliked_mean"]),
              _fmt(r["liked_mean"] - r["disliked_mean"]) if r["liked_mean"] is not None and r["disliked_mean"] is not None else "—",
              r["liked_n"], r["disliked_n"]] for r in summary]))
        part.append(save("feature_distributions.png", plot_feature_distributions(frame),
                         "Distribution of each audio feature, liked vs disliked"))
    else:
        part.append(missing(why_not or "no labelled tracks"))
    page.add(*part)


def _recommendations_section(page: _Sections, settings, run_id: str) -> None:
    """The last recommendations' scores (the run's, or the last playlist's scored by the model)."""
    save, missing = page.save, page.missing
    recs, why_not = last_recommendations(settings, run_id)
    part = ["<h2>The last recommendations</h2>"]
    if recs is not None:
        entries = recs["entries"]
        part.append(f"<p>{len(entries)} tracks from {_e(recs['source'])}"
                    + (f", made {_e(recs['created_at'])}" if recs.get("created_at") else "")
                    + (f" with model {_e(recs['model_run'])}" if recs.get("model_run") else "") + ".</p>")
        part.append(save("recommendation_scores.png", plot_recommendation_scores(entries, recs["score_label"]),
                         "Score distribution of the last recommendations"))
        top = sorted(entries, key=lambda e: -e["score"])[:10]
        part.append(_table(["track", "artist", "score", "MLP", "hybrid"],
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
            part.append(f"<p>Inputs left out (no values in training): {_e(', '.join(map(str, features['unused'])))}.</p>")
    else:
        part.append(missing("this run recorded no feature provenance"))
    page.add(*part)


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
    header = (
        f"<h1>tastebot model report</h1><p class=\"sub\">Model <code>{_e(run_id)}</code>, trained {_e(created)} "
        f"({_e({'holdout': 'held-out test', 'cross-validation': 'cross-validation'}.get(metrics.get('mode'), metrics.get('mode') or '?'))}: "
        f"{_e(metrics.get('mode_reason') or '')}). Report written "
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
        raise StoreError(f"Cannot write {report.html_path}: {exc.strerror or exc}.") from None
