"""Turning store frames into model inputs, identically at training and at scoring time.

`FeatureSpec.fit(frame)` learns every statistic the transforms need (means, spreads, the album
types and genres seen) from the TRAINING part only; `spec.transform(frame)` applies them to any
frame with the columns of "Store frames" (docs/architecture.md). The spec is plain JSON and is
saved beside the model, so a model can never be scored with transforms other than its own.

What the transforms do, and why:
- duration and track number are log-scaled (long tails); key becomes a point on a circle
  (sin, cos), since key 11 is next to key 0; everything numeric is then standardised and clipped.
- a feature a track lacks becomes "value + mask": the value is the training mean (0 after
  standardising) and a 0/1 mask column says it was missing, so the model can tell "unknown" from
  "average" and no track is dropped for lacking something.
- each numeric feature with more than two values is also given as a piecewise-linear encoding over
  quantile bins of the training data (bin t is 0 below its lower edge, 1 above its upper edge,
  linear between): a network then bends its response per feature as easily as a tree splits,
  which is what tabular data needs (Gorishniy et al., "On Embeddings for Numerical Features in
  Tabular Deep Learning", 2022); on the real-playlist benchmark it is most of the MLP's lead.
- album type is one-hot; the primary artist's genres, when any, are multi-hot over a small
  vocabulary of the genres common in the training data.

No TensorFlow here: `tastebot.models.mlp` is the only module that imports it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tastebot.errors import ModelError, NotEnoughData
from tastebot.vocab import AUDIO_FEATURES, FEATURE_RANGES, LONG_TAIL_FEATURES

FORMAT = "tastebot-preprocessing/1"

METADATA_FEATURES = ("duration_ms", "explicit", "popularity", "track_number", "release_year")

# column -> transform applied before standardising. "cycle12" expands to sin and cos columns.
# Audio features first, in vocab order (the order of the model's inputs); "identity" unless named.
NUMERIC_TRANSFORMS: dict[str, str] = {
    **dict.fromkeys(AUDIO_FEATURES, "identity"),
    "key": "cycle12",
    **dict.fromkeys(LONG_TAIL_FEATURES, "sqrt"),
    "duration_ms": "log_seconds",
    "explicit": "identity",
    "popularity": "identity",
    "track_number": "log1p",
    "release_year": "identity",
}
# Metadata only some candidate sources carry: library and search tracks have explicit, track number and
# album type; corpus tracks (CSV, MPD) have none of them but may have popularity, which a development
# app never sees; genres come only to extended apps. As inputs they let the taste model tell where a
# track came from (a liked library track vs an unheard corpus one) instead of what it sounds like, so
# the model tastebot trains reads the sound, the duration and the year alone. The time signature is
# one of them too: ReccoBeats, where a development app's likes get their sound, never gives it, while
# a corpus CSV may; known for every unheard corpus track and for no like, it told a like by its absence
# (a held-out like among random corpus tracks ranked at average precision 0.99 on no sound at all).
SOURCE_DEPENDENT = ("explicit", "popularity", "track_number", "album_type", "genres", "time_signature")
SOURCE_DEPENDENT_REASON = "only some candidate sources carry it (features.SOURCE_DEPENDENT)"
# Any other column whose presence differs this much between the likes and the rest tells where a
# track came from as well, on this listener's data: a corpus file of ids alone gives its tracks sound
# (ReccoBeats) but no duration or year, while every like has both. Learnt, "no year" meant "not a
# like" (benchmarks/recommend.py, family corpus-ids: 1 and 5 future likes in the top 30 with the two
# read, 12 and 3 without; docs/recommend.md).
PRESENCE_GAP = 0.3
# Values outside these ranges are errors in the source and become unknown. The audio features take
# vocab's accepted ranges except where the model is stricter (key -1 is Spotify's "no key detected",
# tempo 0 and time_signature 0 mean "not detected") or more lenient (loudness, time_signature).
VALID_RANGES: dict[str, tuple[float, float]] = {
    **FEATURE_RANGES,
    "key": (0, 11), "loudness": (-80, 10), "tempo": (1, 300), "time_signature": (1, 12), "duration_ms": (1000, 3.6e7),
    "explicit": (0, 1), "popularity": (0, 100), "track_number": (1, 10000), "release_year": (1900, 2100),
}
ALBUM_TYPES = ("album", "single", "compilation")
MAX_GENRES = 40
CLIP = 5.0
BINS = 8  # quantile bins of the piecewise-linear encoding


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The column as floats, NaN where absent, unparseable or out of its valid range."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lo, hi = VALID_RANGES.get(column, (-np.inf, np.inf))
    values = values.copy()
    values[(values < lo) | (values > hi)] = np.nan
    return values


def _likes(frame: pd.DataFrame) -> np.ndarray | None:
    """Which rows are likes, or None when the frame holds no label or only one kind (no gap to see)."""
    if "label" not in frame.columns:
        return None
    like = pd.to_numeric(frame["label"], errors="coerce").to_numpy(dtype=float) == 1
    return None if like.all() or not like.any() else like


def _presence_gap(like: np.ndarray | None, present: np.ndarray) -> str | None:
    """Why a column is left out when the likes (`_likes`) have it far more (or less) often than the
    rest (PRESENCE_GAP), else None."""
    if like is None:
        return None
    with_likes, with_rest = float(present[like].mean()), float(present[~like].mean())
    if abs(with_likes - with_rest) <= PRESENCE_GAP:
        return None
    return (f"{with_likes:.0%} of the likes have it and {with_rest:.0%} of the rest: its absence would tell "
            "where a track came from, not what it sounds like")


def _transform(values: np.ndarray, how: str) -> list[np.ndarray]:
    if how == "identity":
        return [values]
    if how == "sqrt":
        return [np.sqrt(np.clip(values, 0, None))]
    if how == "log1p":
        return [np.log1p(np.clip(values, 0, None))]
    if how == "log_seconds":
        return [np.log1p(np.clip(values, 0, None) / 1000.0)]
    if how == "cycle12":
        angle = 2 * math.pi * values / 12.0
        return [np.sin(angle), np.cos(angle)]
    raise ModelError(f"Unknown transform {how!r} in the preprocessing spec.")


def _suffixes(how: str) -> list[str]:
    return ["_sin", "_cos"] if how == "cycle12" else [""]


def _genre_lists(frame: pd.DataFrame) -> list[list[str]]:
    if "genres" not in frame.columns:
        return [[] for _ in range(len(frame))]
    out = []
    for raw in frame["genres"].tolist():
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            out.append([])
        else:
            out.append([g.strip().lower() for g in str(raw).split("|") if g.strip()])
    return out


def _album_types(frame: pd.DataFrame) -> list[str | None]:
    if "album_type" not in frame.columns:
        return [None] * len(frame)
    return [
        None if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "" else str(v).strip().lower()
        for v in frame["album_type"].tolist()
    ]


@dataclass
class NumericColumn:
    column: str
    transform: str
    means: list[float]
    stds: list[float]
    mask: bool  # a mask column follows the values (the training data had tracks lacking it)
    edges: list[list[float]] = field(default_factory=list)  # per part: bin edges of the encoding

    def names(self) -> list[str]:
        names = []
        for suffix, edges in zip(_suffixes(self.transform), self.edges or [[] for _ in self.means]):
            names.append(self.column + suffix)
            names += [f"{self.column}{suffix}_bin{i}" for i in range(max(0, len(edges) - 1))]
        return names + ([f"{self.column}_missing"] if self.mask else [])


@dataclass
class FeatureSpec:
    numeric: list[NumericColumn] = field(default_factory=list)
    album_types: list[str] = field(default_factory=list)
    album_type_mask: bool = False
    genres: list[str] = field(default_factory=list)
    genre_mask: bool = False
    unused: dict[str, str] = field(default_factory=dict)  # column -> why it is not an input

    # -- fitting ---------------------------------------------------------------------------
    @classmethod
    def fit(cls, frame: pd.DataFrame, *, portable: bool = True) -> "FeatureSpec":
        """Learn the transforms from `frame` (the training part). Raises NotEnoughData when no
        track has any usable feature at all. `portable` (what tastebot trains with) leaves out
        SOURCE_DEPENDENT columns: only some candidate sources carry them."""
        if len(frame) == 0:
            raise NotEnoughData("No labelled tracks to learn from: run `tastebot harvest` first.")
        spec = cls()
        skip = set(SOURCE_DEPENDENT) if portable else set()
        for column in sorted(skip):
            spec.unused[column] = SOURCE_DEPENDENT_REASON
        like = _likes(frame)
        for column, how in NUMERIC_TRANSFORMS.items():
            if column in skip:
                continue
            raw = _numeric(frame, column)
            present = ~np.isnan(raw)
            if not present.any():
                spec.unused[column] = "no track has it"
                continue
            gap = _presence_gap(like, present)
            if gap is not None:
                spec.unused[column] = gap
                continue
            parts = _transform(raw, how)
            means, stds, edges = [], [], []
            for part in parts:
                vals = part[present]
                means.append(float(vals.mean()))
                sd = float(vals.std())
                stds.append(sd if sd > 1e-9 else 1.0)
                e = np.unique(np.quantile(vals, np.linspace(0, 1, BINS + 1))) if how != "cycle12" else np.zeros(0)
                # Two values (mode, explicit) or fewer: the value itself says everything.
                edges.append([float(v) for v in e] if len(np.unique(vals)) > 2 and len(e) > 2 else [])
            if all(float(np.ptp(p[present])) == 0.0 for p in parts) and present.all():
                spec.unused[column] = "the same value for every track"
                continue
            spec.numeric.append(NumericColumn(column, how, means, stds, mask=bool((~present).any()), edges=edges))
        kinds = _album_types(frame) if "album_type" not in skip else []
        seen = {k for k in kinds if k is not None}
        if "album_type" in skip:
            pass
        elif seen:
            spec.album_types = [t for t in ALBUM_TYPES if t in seen] + (["other"] if seen - set(ALBUM_TYPES) else [])
            spec.album_type_mask = any(k is None for k in kinds)
        else:
            spec.unused["album_type"] = "no track has it"
        genre_lists = _genre_lists(frame) if "genres" not in skip else []
        counts: dict[str, int] = {}
        for gl in genre_lists:
            for g in set(gl):
                counts[g] = counts.get(g, 0) + 1
        # A genre becomes an input only when enough tracks carry it to learn anything from it.
        min_count = max(3, int(0.01 * len(frame)))
        common = sorted((g for g, c in counts.items() if c >= min_count), key=lambda g: (-counts[g], g))
        spec.genres = common[:MAX_GENRES]
        if spec.genres:
            spec.genre_mask = any(not gl for gl in genre_lists)
        elif "genres" not in skip:
            spec.unused["genres"] = "no genre is common enough" if counts else "no track has genres"
        if not spec.numeric and not spec.album_types and not spec.genres:
            raise NotEnoughData(
                "None of the labelled tracks has any feature (audio features, duration, year, ...) to learn "
                "from: run `tastebot harvest` again or import features with `tastebot features import`."
            )
        return spec

    # -- applying ----------------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for col in self.numeric:
            names += col.names()
        names += [f"album_type={t}" for t in self.album_types]
        if self.album_type_mask:
            names.append("album_type_missing")
        names += [f"genre={g}" for g in self.genres]
        if self.genre_mask:
            names.append("genres_missing")
        return names

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The model inputs for `frame` (float32, one row per track, columns = feature_names)."""
        n = len(frame)
        blocks: list[np.ndarray] = []
        for col in self.numeric:
            raw = _numeric(frame, col.column)
            missing = np.isnan(raw)
            edge_lists = col.edges or [[] for _ in col.means]
            for part, mean, sd, edges in zip(_transform(raw, col.transform), col.means, col.stds, edge_lists):
                z = (part - mean) / sd
                # Missing -> the training mean; the mask below tells the model it was missing.
                z = np.where(np.isnan(z), 0.0, np.clip(z, -CLIP, CLIP))
                blocks.append(z)
                if len(edges) > 2:
                    e = np.asarray(edges, dtype=float)
                    lo, hi = e[:-1][None, :], e[1:][None, :]
                    with np.errstate(invalid="ignore"):
                        enc = np.clip((part[:, None] - lo) / (hi - lo), 0.0, 1.0)
                    # Missing -> all bins 0 (the mask says why).
                    blocks.extend(np.nan_to_num(enc, nan=0.0).T)
            if col.mask:
                blocks.append(missing.astype(float))
        if self.album_types:
            kinds = _album_types(frame)
            known = set(self.album_types)
            for t in self.album_types:
                if t == "other":
                    blocks.append(np.array([k is not None and k not in known for k in kinds], dtype=float))
                else:
                    blocks.append(np.array([k == t for k in kinds], dtype=float))
            if self.album_type_mask:
                blocks.append(np.array([k is None for k in kinds], dtype=float))
        if self.genres:
            genre_lists = [set(gl) for gl in _genre_lists(frame)]
            for g in self.genres:
                blocks.append(np.array([g in gl for gl in genre_lists], dtype=float))
            if self.genre_mask:
                blocks.append(np.array([not gl for gl in genre_lists], dtype=float))
        if not blocks:
            return np.zeros((n, 0), dtype=np.float32)
        return np.column_stack(blocks).astype(np.float32)

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "numeric": [vars(c) for c in self.numeric],
            "album_types": self.album_types,
            "album_type_mask": self.album_type_mask,
            "genres": self.genres,
            "genre_mask": self.genre_mask,
            "unused": self.unused,
            "feature_names": self.feature_names,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FeatureSpec":
        if data.get("format") != FORMAT:
            raise ModelError(f"Unsupported preprocessing format {data.get('format')!r}: retrain with `tastebot train`.")
        try:
            spec = cls(
                numeric=[NumericColumn(**c) for c in data["numeric"]],
                album_types=list(data["album_types"]),
                album_type_mask=bool(data["album_type_mask"]),
                genres=list(data["genres"]),
                genre_mask=bool(data["genre_mask"]),
                unused=dict(data.get("unused", {})),
            )
        except (KeyError, TypeError) as exc:
            raise ModelError(f"The preprocessing spec is damaged ({exc}): retrain with `tastebot train`.") from None
        if "feature_names" in data and data["feature_names"] != spec.feature_names:
            raise ModelError("The preprocessing spec does not match its own feature list: retrain with `tastebot train`.")
        return spec

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "FeatureSpec":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"Cannot read the preprocessing spec {path}: {exc}.") from None
        return cls.from_dict(data)


def provenance_counts(frame: pd.DataFrame) -> dict[str, Any]:
    """How many tracks have which features, and from which provider: for metrics.json and summaries."""
    providers: dict[str, int] = {}
    if "feature_provider" in frame.columns:
        for v in frame["feature_provider"].tolist():
            key = "none" if v is None or (isinstance(v, float) and math.isnan(v)) or v == "" else str(v)
            providers[key] = providers.get(key, 0) + 1
    else:
        providers["none"] = len(frame)
    present = {}
    for column in (*AUDIO_FEATURES, *METADATA_FEATURES):
        present[column] = int((~np.isnan(_numeric(frame, column))).sum())
    audio = np.column_stack([~np.isnan(_numeric(frame, c)) for c in AUDIO_FEATURES]) if len(frame) else np.zeros((0, 1))
    return {
        "tracks": int(len(frame)),
        "by_provider": providers,
        "with_any_audio_feature": int(audio.any(axis=1).sum()) if len(frame) else 0,
        "with_genres": int(sum(1 for gl in _genre_lists(frame) if gl)),
        "with_album_type": int(sum(1 for k in _album_types(frame) if k is not None)),
        "non_missing": present,
    }
