"""Spotify's /audio-features in the feature chain (the first of vocab.API_PROVIDERS): asked through the
chain's Spotify gateway, and only by extended-quota apps (development-mode apps get 403 since 2024)."""

from __future__ import annotations

from tastebot.spotify.client import BATCH_AUDIO_FEATURES


class SpotifyFeatures:
    """The gateway's `audio_features`, BATCH_AUDIO_FEATURES ids a call (FeatureSource's shape)."""

    name = "spotify"
    batch = BATCH_AUDIO_FEATURES

    def __init__(self, chain):
        self.client = chain.client

    def unavailable(self) -> tuple[str, bool] | None:
        if self.client is None:
            return "no Spotify client", False
        if self.client.app_kind() != "extended":
            return "development-mode apps cannot read /audio-features (403 since 2024)", True
        return None

    def fetch(self, track_ids: list[str]) -> dict[str, dict[str, float]]:
        return self.client.audio_features(track_ids)

    def requests(self) -> int:
        return self.client.request_count


FEATURE_SOURCE = SpotifyFeatures  # registered by its name in vocab.API_PROVIDERS
