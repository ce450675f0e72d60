"""The library's row shapes and the pure helpers its store modules share: the frame columns, the
provider ranks, a plausible duration, and the cleaning of Spotify's values (no SQL here)."""

from __future__ import annotations

import math
import re
from typing import Any, Iterator, Mapping, Sequence

from tastebot.vocab import AUDIO_FEATURES, FEATURE_RANGES, INTEGER_FEATURES, PROVIDERS

# Provider rank: a lower rank may replace a value of a higher one, never the other way round.
PROVIDER_RANK = {p: rank for rank, p in enumerate(PROVIDERS[:-1], start=1)}  # spotify 1, reccobeats 2, import 3

IDENTITY_COLUMNS = ("track_id", "name", "primary_artist_id", "artist_ids", "album_id", "isrc")
LABEL_COLUMNS = ("label", "strength", "weight", "sources", "last_signal_at")
# A plausible track lasts from 1 ms to 6 hours; other durations are stored as unknown (and counted).
MIN_DURATION_MS = 1
MAX_DURATION_MS = 6 * 3600 * 1000
METADATA_COLUMNS = ("duration_ms", "explicit", "popularity", "track_number", "release_year", "album_type")
TAIL_COLUMNS = ("feature_provider", "genres")
TRACK_FRAME_COLUMNS = IDENTITY_COLUMNS + METADATA_COLUMNS + AUDIO_FEATURES + TAIL_COLUMNS
LABELLED_FRAME_COLUMNS = IDENTITY_COLUMNS + LABEL_COLUMNS + METADATA_COLUMNS + AUDIO_FEATURES + TAIL_COLUMNS


def release_year(date: str | None) -> int | None:
    if not date:
        return None
    m = re.match(r"^(\d{4})", str(date))
    if not m:
        return None
    year = int(m.group(1))
    return year if year > 0 else None


def song_identity_key(track_id: str, isrc: str | None) -> str:
    return f"isrc:{isrc.strip().upper()}" if isrc and isrc.strip() else f"id:{track_id}"


def clean_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def impossible_features(values: Mapping[str, Any]) -> list[str]:
    """The audio features in `values` that no track can have: outside vocab's FEATURE_RANGES, or not a
    whole number where one must be (key, mode, time signature). A key of -1 means unknown, not wrong."""
    bad = []
    for feature in AUDIO_FEATURES:
        x = clean_number(values.get(feature))
        if x is None or (feature == "key" and x == -1):
            continue
        low, high = FEATURE_RANGES[feature]
        if not low <= x <= high or (feature in INTEGER_FEATURES and x != int(x)):
            bad.append(feature)
    return bad


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def well_formed_track(track: Mapping) -> bool:
    """Whether a track object has the types Spotify's spec gives its fields; a broken answer is
    skipped whole (and counted) rather than stored as garbage."""
    if not isinstance(track.get("id"), str) or not track["id"].strip():
        return False
    checks = (
        ("name", lambda v: isinstance(v, str)),
        ("artists", lambda v: isinstance(v, list) and all(
            isinstance(a, Mapping) and isinstance(a.get("id", ""), (str, type(None)))
            and isinstance(a.get("name", ""), (str, type(None))) for a in v)),
        ("album", lambda v: isinstance(v, Mapping)),
        ("external_ids", lambda v: isinstance(v, Mapping) and isinstance(v.get("isrc", ""), (str, type(None)))),
        ("duration_ms", _is_number),
        ("popularity", _is_number),
        ("track_number", _is_number),
        ("disc_number", _is_number),
        ("explicit", lambda v: isinstance(v, bool)),
    )
    return all(track.get(field) is None or ok(track[field]) for field, ok in checks)


def int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float
        return None


def nan_if_none(value: Any) -> float:
    return float("nan") if value is None else float(value)


def frame_dtype(column: str) -> str:
    if column in ("label", "explicit"):
        return "int64"
    if column in ("weight", "duration_ms", "popularity", "track_number", "release_year") or column in AUDIO_FEATURES:
        return "float64"
    return "object"
