"""Steering a run by what the listener wants today: audio-feature targets or ranges, mood presets,
release years, popularity, and seed tracks ("more like these").

Ranges and targets filter the candidates before ranking (a target is a range of the feature's
tolerance around it, vocab.STEER_TOLERANCE); a track whose value is unknown does not fit. Seed tracks
re-weight the ranked pool: the final order is the mean of the rank by taste and the rank by
nearness in sound to the seeds. Feature names and moods live in tastebot.vocab.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tastebot.errors import InputError
from tastebot.vocab import FEATURE_RANGES, MOODS, STEER_TOLERANCE, STEERABLE_FEATURES
from tastebot.models.blend import rank_scale
from tastebot.models.content import content_matrix
from tastebot.spotify.refs import parse_spotify_ref

YEARS = (1900, 2100)
POPULARITY = (0.0, 100.0)
POPULARITY_TOLERANCE = 10.0


def parse_range(text: str, what: str, bounds: tuple[float, float], tolerance: float) -> tuple[float, float]:
    """'0.2-0.5' -> (0.2, 0.5); '0.3' -> (0.3 - tolerance, 0.3 + tolerance), clipped to bounds."""
    raw = str(text).strip()
    lo_text, sep, hi_text = raw.partition("-") if not raw.startswith("-") else (raw, "", "")
    try:
        lo = float(lo_text)
        hi = float(hi_text) if sep else None
    except ValueError:
        raise InputError(f"--{what} takes a value or a range such as 0.2-0.5, not {raw!r}.") from None
    if any(v is not None and (math.isnan(v) or not bounds[0] <= v <= bounds[1]) for v in (lo, hi)):
        raise InputError(f"--{what} must lie within {bounds[0]:g}-{bounds[1]:g}, not {raw!r}.")
    if hi is None:
        return max(bounds[0], lo - tolerance), min(bounds[1], lo + tolerance)
    if hi < lo:
        raise InputError(f"--{what} {raw}: the range's low end comes first.")
    return lo, hi


@dataclass
class Steering:
    """What to steer by. `ranges` maps steerable features to (low, high); `seed_tracks` are ids."""
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    mood: str | None = None
    years: tuple[int, int] | None = None
    popularity: tuple[float, float] | None = None
    seed_tracks: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, *, mood: str | None = None, years: str | None = None, popularity: str | None = None,
                     seed_tracks=(), **features: str | None) -> "Steering":
        """From the CLI's text: `--energy 0.2-0.5`, `--mood calm`, `--years 1990-1999`, ..."""

        if mood is not None and mood not in MOODS:
            raise InputError(f"--mood must be one of {', '.join(MOODS)}, not {mood!r}.")
        ranges = dict(MOODS[mood]) if mood else {}
        for name, text in features.items():
            if name not in STEERABLE_FEATURES:
                raise TypeError(f"not a steerable feature: {name}")
            if text is not None:
                ranges[name] = parse_range(text, name, FEATURE_RANGES[name], STEER_TOLERANCE[name])
        span = None
        if years is not None:
            lo, hi = parse_range(years, "years", YEARS, 0)
            if lo != int(lo) or hi != int(hi):
                raise InputError(f"--years takes whole years such as 1990-1999, not {years!r}.")
            span = (int(lo), int(hi))
        pop = parse_range(popularity, "popularity", POPULARITY, POPULARITY_TOLERANCE) if popularity is not None else None
        seeds = tuple(dict.fromkeys(parse_spotify_ref(s, "track")[1] for s in seed_tracks))
        return cls(ranges, mood, span, pop, seeds)

    @property
    def active(self) -> bool:
        return bool(self.ranges or self.years or self.popularity or self.seed_tracks)

    def describe(self) -> str:
        """'mood calm: energy 0-0.5, tempo 0-120; years 1990-1999' (for warnings and the description)."""
        parts = [f"{k} {lo:g}-{hi:g}" for k, (lo, hi) in self.ranges.items()]
        if self.years:
            parts.append(f"years {self.years[0]}-{self.years[1]}")
        if self.popularity:
            parts.append(f"popularity {self.popularity[0]:g}-{self.popularity[1]:g}")
        if self.seed_tracks:
            parts.append(f"near {len(self.seed_tracks)} seed track{'s' if len(self.seed_tracks) != 1 else ''}")
        text = ", ".join(parts)
        return f"mood {self.mood}: {text}" if self.mood else text

    def criteria(self) -> dict[str, tuple[str, tuple[float, float]]]:
        """{label: (frame column, (low, high))} of every filter."""
        out = {name: (name, rng) for name, rng in self.ranges.items()}
        if self.years:
            out["years"] = ("release_year", (float(self.years[0]), float(self.years[1])))
        if self.popularity:
            out["popularity"] = ("popularity", self.popularity)
        return out


def fits(frame: pd.DataFrame, steering: Steering) -> tuple[np.ndarray, dict[str, int]]:
    """Which candidates fit every filter, and for each filter how many fit it and how many have no
    value for it (unknown never fits)."""
    keep = np.ones(len(frame), dtype=bool)
    report: dict[str, int] = {}
    for label, (column, (lo, hi)) in steering.criteria().items():
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan) \
            if column in frame.columns else np.full(len(frame), np.nan)
        ok = (values >= lo) & (values <= hi)
        report[f"{label} fits"] = int(ok.sum())
        report[f"{label} unknown"] = int(np.isnan(values).sum())
        keep &= ok
    return keep, report


def seed_distances(frame: pd.DataFrame, seeds: pd.DataFrame) -> np.ndarray:
    """candidates x seeds: the distance in sound (standardised features and metadata), inf where fewer
    than 3 features are known on both sides (no opinion)."""

    X, S = content_matrix(frame), content_matrix(seeds)
    diff = X[:, None, :] - S[None, :, :]
    both = ~np.isnan(diff)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.sqrt(np.nansum(diff**2, axis=2) / np.maximum(both.sum(axis=2), 1))
    return np.where(both.sum(axis=2) >= 3, dist, np.inf)


def nearest_seed(frame: pd.DataFrame, seeds: pd.DataFrame) -> np.ndarray:
    """Each candidate's nearest seed (a row of `seeds`), -1 where none is comparable."""
    dist = seed_distances(frame, seeds)
    if not dist.shape[1]:
        return np.full(len(frame), -1)
    return np.where(np.isfinite(dist).any(axis=1), np.argmin(dist, axis=1), -1)


def toward_seeds(frame: pd.DataFrame, seeds: pd.DataFrame, final: np.ndarray) -> np.ndarray:
    """The mean of each candidate's rank by `final` (taste) and its rank by nearness in sound to the
    nearest seed track; a candidate whose sound is unknown counts as the farthest."""

    dist = seed_distances(frame, seeds)
    nearest = dist.min(axis=1) if dist.shape[1] else np.full(len(frame), np.inf)
    taste = rank_scale(np.asarray(final, dtype=float))
    known = np.isfinite(nearest)
    near = np.full(len(frame), np.nan)
    if known.any():
        near[known] = rank_scale(-nearest[known])
    return np.where(known, 0.5 * taste + 0.5 * np.nan_to_num(near), taste * 0.5)
