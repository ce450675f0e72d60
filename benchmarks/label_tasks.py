"""Label tasks from real data, for the benchmarks of one model part (`forest_trees.py`, `mlp_fit.py`).

Each task, from `../shared/data/tidytuesday_spotify_songs.csv` (read in place): likes are one
subgenre's songs, dislikes as many songs of other genres; the test part is the songs of a random
quarter of the artists, never seen in training. Features: the audio features and popularity, raw.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tidytuesday_spotify_songs.csv"
FEATURES = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
            "instrumentalness", "liveness", "valence", "tempo", "duration_ms", "track_popularity"]


def label_tasks(n: int) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(task index, x, y, test mask) for n tasks; exits with a message when the data is absent."""
    if not DATA.exists():
        sys.exit(f"skipped: {DATA} is absent")
    songs = pd.read_csv(DATA).drop_duplicates("track_id")
    subgenres = songs["playlist_subgenre"].value_counts().index.tolist()
    rng = np.random.default_rng(0)
    for task in range(n):
        pos = songs[songs["playlist_subgenre"] == subgenres[task % len(subgenres)]]
        neg = songs[songs["playlist_genre"] != pos["playlist_genre"].iloc[0]].sample(len(pos), random_state=task)
        data = pd.concat([pos.assign(y=1), neg.assign(y=0)])
        artists = data["track_artist"].unique()
        test = data["track_artist"].isin(set(rng.choice(artists, size=len(artists) // 4, replace=False))).to_numpy()
        yield task, data[FEATURES].to_numpy(float), data["y"].to_numpy().astype(int), test
