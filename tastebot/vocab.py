"""Names shared across tastebot: one home for each."""

from __future__ import annotations

# Spotify's twelve audio features, in Spotify's order.
AUDIO_FEATURES: tuple[str, ...] = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
)
