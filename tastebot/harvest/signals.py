"""What a harvested signal is: the sources, their weights (data, one table) and the words a person
reads for them, and the one shape of a signal row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tastebot.vocab import PROVIDER_LABELS


@dataclass(frozen=True)
class Source:
    kind: str        # like | dislike
    strength: str    # explicit | weak
    weight: float
    label: str


# Source weights are data: one place to tune how much each kind of evidence counts.
SOURCES: dict[str, Source] = {
    "saved": Source("like", "explicit", 1.0, "saved tracks"),
    "feedback_saved": Source("like", "explicit", 1.0, "saved from a tastebot playlist"),
    "top_short_term": Source("like", "explicit", 0.9, "top tracks, last 4 weeks"),
    "top_medium_term": Source("like", "explicit", 0.8, "top tracks, last 6 months"),
    "top_long_term": Source("like", "explicit", 0.7, "top tracks, last year"),
    "own_playlist": Source("like", "explicit", 0.6, "own playlists"),
    "like_playlist": Source("like", "explicit", 0.6, "--like-playlist"),
    "recently_played": Source("like", "explicit", 0.3, "recently played"),
    "dislike_playlist": Source("dislike", "explicit", 1.0, "dislike playlists"),
    "feedback_removed": Source("dislike", "explicit", 1.0, "removed from a tastebot playlist"),
    "sampled_random": Source("dislike", "weak", 0.3, "sampled: random unknown tracks"),
    "sampled_far": Source("dislike", "weak", 0.4, "sampled: far from the likes"),
    # From `tastebot history import` (tastebot/imports/history.py): the weight is the most a signal gets;
    # each one is scaled by play counts and recency there (history.RULES).
    "history_played": Source("like", "explicit", 1.0, "listening history: played to the end, again"),
    "history_skipped": Source("dislike", "explicit", 0.9, "listening history: skipped early, never finished"),
    "history_library": Source("like", "explicit", 1.0, "data export: Your Library"),
}
TIME_RANGES = ("short_term", "medium_term", "long_term")

# What a person reads for a source's internal name (tables, summaries).
SOURCE_LABELS: dict[str, str] = {
    **{name: s.label for name, s in SOURCES.items()},
    "playlists": "your playlists",
    "sampled_negatives": "sampled negatives",
    "genres": "artist genres",
}

# Own playlists with these names are dislike lists.
DISLIKE_NAME = re.compile(r"\b(dislike[sd]?|not for me|don'?t like|never again|nope)\b|👎", re.IGNORECASE)


def source_label(name: str) -> str:
    """`feedback_saved` -> "saved from a tastebot playlist"; `features:reccobeats` -> "audio features: ..."."""
    if name in SOURCE_LABELS:
        return SOURCE_LABELS[name]
    if name.startswith("features:"):
        provider = name.split(":", 1)[1]
        return f"audio features: {PROVIDER_LABELS.get(provider, provider)}"
    return name.replace("_", " ")


def signal(track_id: str, source: str, at: Any, context: str = "") -> dict[str, Any]:
    """One signal row as the store takes it, its kind, strength and weight from SOURCES."""
    s = SOURCES[source]
    return {"track_id": track_id, "source": source, "context": context, "kind": s.kind,
            "strength": s.strength, "weight": s.weight, "at": at}
