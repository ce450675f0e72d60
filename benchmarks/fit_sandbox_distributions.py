"""Fit the sandbox generator's audio-feature model from the real TidyTuesday Spotify songs.

Run once by a developer who has ../shared; it writes tastebot/sandbox/feature_model.json, which
the package ships (users do not have the data, so the numbers travel with the code). The model is a Gaussian copula per genre:

- marginals: 27 quantiles of each continuous value per genre (5 % steps, denser in both tails);
- dependence: correlation of the normal scores after removing the subgenre's mean normal score;
- subgenre: mean normal score per feature (so "neo soul" differs from "new jack swing");
- key: per-genre frequencies of the 12 pitch classes; mode: per-genre share of major;
- release year: the same quantiles per subgenre; subgenre weights from the playlist counts.

Usage: .venv/bin/python benchmarks/fit_sandbox_distributions.py [path/to/tidytuesday_spotify_songs.csv]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri

from tastebot.sandbox.generator import FEATURE_MODEL_FILE

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "tidytuesday_spotify_songs.csv"
CONTINUOUS = ["danceability", "energy", "loudness", "speechiness", "acousticness", "instrumentalness",
              "liveness", "valence", "tempo", "duration_ms", "popularity"]
# Dense in the tails so that the few extreme tracks (-40 dB, 8-minute songs) stay as rare as they are.
PROBS = np.unique(np.concatenate([[0, 0.002, 0.01, 0.025], np.linspace(0.05, 0.95, 19), [0.975, 0.99, 0.998, 1]]))
DECIMALS = {"loudness": 3, "tempo": 3, "duration_ms": 0, "popularity": 0}


def normal_scores(values: pd.Series) -> np.ndarray:
    ranks = values.rank(method="average").to_numpy()
    return ndtri((ranks - 0.5) / len(values))


def fit(path: Path) -> dict:
    raw = pd.read_csv(path)
    raw = raw.rename(columns={"track_popularity": "popularity"})
    # One row per (genre, track): a track in two playlists of one genre counts once.
    data = raw.drop_duplicates(["playlist_genre", "track_id"]).copy()
    data["year"] = pd.to_numeric(data["track_album_release_date"].astype(str).str[:4], errors="coerce")
    model: dict = {"features": CONTINUOUS, "probs": [round(float(p), 3) for p in PROBS], "genres": {}}
    for genre, frame in sorted(data.groupby("playlist_genre")):
        quantiles = {}
        for col in CONTINUOUS:
            q = np.quantile(frame[col].to_numpy(dtype=float), PROBS)
            quantiles[col] = [round(float(v), DECIMALS.get(col, 4)) for v in q]
        scores = np.column_stack([normal_scores(frame[col]) for col in CONTINUOUS])
        subgenres = {}
        residual = scores.copy()
        for sub, idx in sorted(frame.groupby("playlist_subgenre").indices.items()):
            centre = scores[idx].mean(axis=0)
            residual[idx] -= centre
            years = frame["year"].iloc[idx].dropna().to_numpy()
            subgenres[sub] = {
                "weight": int(len(idx)),
                "centre": [round(float(v), 3) for v in centre],
                "year_quantiles": [int(round(v)) for v in np.quantile(years, PROBS)],
            }
        sd = residual.std(axis=0)
        corr = np.corrcoef(residual, rowvar=False)
        keys = np.bincount(frame["key"].to_numpy(dtype=int), minlength=12) / len(frame)
        model["genres"][genre] = {
            "quantiles": quantiles,
            "residual_sd": [round(float(v), 3) for v in sd],
            "correlation": [[round(float(v), 3) for v in row] for row in corr],
            "key_probs": [round(float(v), 4) for v in keys],
            "major_share": round(float(frame["mode"].mean()), 4),
            "subgenres": subgenres,
            "n_tracks": int(len(frame)),
        }
    return model


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.is_file():
        sys.exit(f"no data at {path}: pass the path of tidytuesday_spotify_songs.csv")
    model = fit(path)
    out = Path(__file__).resolve().parents[1] / "tastebot" / "sandbox" / FEATURE_MODEL_FILE
    out.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
