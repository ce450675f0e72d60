"""The words every stage shares: audio-feature names and ranges, feature providers, time stamps.

One home for each: a module that needs the feature list imports it from here and never spells it out
(tests/test_vocab.py fails on a stray copy). Imports nothing from tastebot, so any module may use it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

# Spotify's twelve audio features, in the order of the store's columns and the model's inputs.
AUDIO_FEATURES = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
)
# Features that only take whole values.
INTEGER_FEATURES = frozenset({"key", "mode", "time_signature"})
# Decimals Spotify reports the other features with.
SPOTIFY_DECIMALS = {"danceability": 3, "energy": 3, "loudness": 3, "speechiness": 4, "acousticness": 6,
                    "instrumentalness": 6, "liveness": 4, "valence": 3, "tempo": 3}
# Accepted value ranges: Spotify's documented ranges, widened where real tracks go beyond them
# (loudness above 0 dB, key -1 for "no key detected", time_signature 0 and 1 in real data).
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "danceability": (0.0, 1.0), "energy": (0.0, 1.0), "key": (-1, 11), "loudness": (-60.0, 5.0),
    "mode": (0, 1), "speechiness": (0.0, 1.0), "acousticness": (0.0, 1.0), "instrumentalness": (0.0, 1.0),
    "liveness": (0.0, 1.0), "valence": (0.0, 1.0), "tempo": (0.0, 300.0), "time_signature": (0, 7),
}
# Features mostly near 0 with a long tail: the network's inputs take their square root, which spreads
# the informative low end (tastebot.models.inputs).
LONG_TAIL_FEATURES = ("speechiness", "acousticness", "instrumentalness", "liveness")
# The sound as the content kNN compares it (tastebot.models.collab): each column divided by a fixed
# spread typical of Spotify's catalogue, so distances are comparable across listeners and runs.
CONTENT_SCALES: dict[str, float] = {
    "danceability": 0.15, "energy": 0.2, "loudness": 3.5, "speechiness": 0.15, "acousticness": 0.3,
    "instrumentalness": 0.35, "liveness": 0.2, "valence": 0.24, "tempo": 28.0, "mode": 0.5,
    "duration_s_log": 0.35, "release_year": 10.0, "key_sin": 0.7, "key_cos": 0.7,
}

# The audio features a listener may steer a run by (`recommend --energy 0.2-0.5`, ...), and how far
# from a single target value (`--energy 0.3`) a track may be and still fit.
STEERABLE_FEATURES = ("energy", "valence", "danceability", "acousticness", "tempo")
STEER_TOLERANCE = {"energy": 0.1, "valence": 0.1, "danceability": 0.1, "acousticness": 0.1, "tempo": 10.0}
# `recommend --mood NAME`: each mood is ranges of steerable features (an explicit --energy etc.
# given beside it wins for that feature). docs/recommend.md lists them.
MOODS: dict[str, dict[str, tuple[float, float]]] = {
    "calm": {"energy": (0.0, 0.5), "tempo": (0.0, 120.0)},
    "upbeat": {"energy": (0.6, 1.0), "valence": (0.6, 1.0)},
    "melancholy": {"valence": (0.0, 0.35), "energy": (0.0, 0.65)},
    "focus": {"energy": (0.3, 0.7), "danceability": (0.0, 0.6)},
    "party": {"danceability": (0.7, 1.0), "energy": (0.7, 1.0)},
}

# Where a track's audio features came from, in the order the feature chain asks them. API_PROVIDERS is
# the one registration of an audio-feature service: its module tastebot/providers/<name>.py has the
# `FEATURE_SOURCE` the chain asks (docs/architecture.md, "Adding a source"), and its label goes below.
API_PROVIDERS = ("spotify", "reccobeats")
PROVIDERS = API_PROVIDERS + ("import", "metadata")
PROVIDER_LABELS = {
    "spotify": "Spotify /audio-features",
    "reccobeats": "ReccoBeats",
    "import": "imported CSV",
    "metadata": "metadata only",
}
# What one harvest may spend on the corpus's features: about 40,000 tracks at ReccoBeats' 40 ids a
# call, so a normal-size corpus (a few hundred playlists) is covered by the first harvest. (Here, not
# in providers/audio_features.py: `tastebot harvest --help` shows it, and that module imports requests.)
CORPUS_HARVEST_REQUESTS = 1000


def iso_time(value: Any) -> str | None:
    """A time as UTC ISO 8601 with milliseconds and Z, which sorts as text; None if unreadable.

    Accepts ISO text (with or without zone; none means UTC), a datetime, or epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        dt = datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
    elif isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso(*, sortable: bool = False) -> str:
    """Now, UTC, as ISO 8601.

    Default: whole seconds with "+00:00" ("2026-12-01T08:37:56+00:00"), the stamp of runs, imports,
    migrations, output playlists and login state. `sortable=True`: the `iso_time` form
    ("2026-12-01T08:37:56.123Z"), for times stored beside Spotify's and compared with them as text
    (signals, playlist snapshots). Both forms are already in users' stores, so both stay."""
    now = datetime.now(timezone.utc)
    if sortable:
        return iso_time(now)  # type: ignore[return-value]
    return now.isoformat(timespec="seconds")
