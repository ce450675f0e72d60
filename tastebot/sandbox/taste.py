"""The generated listener's hidden taste: the ground truth the sandbox world is built around.

A track's taste score is a genre and subgenre affinity, plus a few non-linear terms of its audio
features (a liked valence band, a danceability x energy interaction, an aversion to talky tracks and
to instrumentals, a preferred tempo), plus a per-artist liking and noise. The listener likes the top
`like_share` of tracks by that score. Genre and the linear part of the features are easy to learn;
the interactions, the artist effect and the noise keep it from being trivial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Affinity levels handed out to the six genres in a per-seed order.
_GENRE_LEVELS = (1.5, 0.8, 0.2, -0.3, -0.9, -1.5)


@dataclass(frozen=True)
class ListenerTaste:
    genre_affinity: dict[str, float]
    subgenre_affinity: dict[str, float]
    valence_centre: float  # the listener's favourite mood
    tempo_centre: float  # and favourite tempo (BPM)
    artist_sd: float = 0.6
    noise_sd: float = 0.7
    like_share: float = 0.25

    def feature_score(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """The deterministic audio-feature part of the score (arrays of equal length)."""
        valence, dance, energy = features["valence"], features["danceability"], features["energy"]
        speech, instrumental = features["speechiness"], features["instrumentalness"]
        tempo_gap = np.minimum(((features["tempo"] - self.tempo_centre) / 35.0) ** 2, 2.0)
        return (
            1.4 * np.exp(-(((valence - self.valence_centre) / 0.2) ** 2))
            + 6.0 * (dance - 0.62) * (energy - 0.65)
            - 1.6 / (1.0 + np.exp(-(speech - 0.22) / 0.04))
            - 1.0 * (instrumental > 0.4)
            - 0.9 * tempo_gap
            + 0.012 * (features["popularity"] - 50.0)
        )

    def scores(self, rng: np.random.Generator, genres: list[str], subgenres: list[str],
               artist_index: np.ndarray, features: dict[str, np.ndarray]) -> np.ndarray:
        """Noisy taste score per track; `artist_index` maps tracks to artists (a shared liking)."""
        n_artists = int(artist_index.max()) + 1 if len(artist_index) else 0
        artist_effect = rng.normal(0.0, self.artist_sd, n_artists)
        base = np.array([self.genre_affinity[g] + self.subgenre_affinity.get(s, 0.0)
                         for g, s in zip(genres, subgenres)])
        return base + self.feature_score(features) + artist_effect[artist_index] + rng.normal(0.0, self.noise_sd, len(base))

    def likes(self, scores: np.ndarray) -> np.ndarray:
        """Boolean mask: the tracks the listener likes (the top `like_share` by score)."""
        threshold = np.quantile(scores, 1.0 - self.like_share)
        return scores >= threshold


def draw_taste(rng: np.random.Generator, genres: tuple[str, ...], subgenres: dict[str, list[str]]) -> ListenerTaste:
    order = rng.permutation(len(genres))
    genre_affinity = {genres[i]: _GENRE_LEVELS[rank] for rank, i in enumerate(order)}
    subgenre_affinity = {sub: round(float(rng.normal(0.0, 0.35)), 3)
                         for genre in genres for sub in subgenres[genre]}
    return ListenerTaste(
        genre_affinity=genre_affinity,
        subgenre_affinity=subgenre_affinity,
        valence_centre=round(float(rng.uniform(0.3, 0.7)), 3),
        tempo_centre=round(float(rng.uniform(95.0, 130.0)), 1),
    )
