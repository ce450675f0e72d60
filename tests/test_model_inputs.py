"""tastebot.models.inputs: the preprocessing spec learns from training rows only, handles missing
features as value + mask, encodes key as a cycle, and applies identically after a JSON round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tastebot.errors import ModelError, NotEnoughData
from tastebot.models.inputs import AUDIO_FEATURES, FeatureSpec, provenance_counts


def frame(n: int = 60, seed: int = 0, **overrides) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {
        "track_id": [f"t{i}" for i in range(n)],
        "primary_artist_id": [f"a{i % 12}" for i in range(n)],
        "duration_ms": rng.integers(90_000, 400_000, n).astype(float),
        "explicit": rng.integers(0, 2, n).astype(float),
        "popularity": rng.integers(0, 100, n).astype(float),
        "track_number": rng.integers(1, 15, n).astype(float),
        "release_year": rng.integers(1970, 2026, n).astype(float),
        "album_type": rng.choice(["album", "single", "compilation"], n),
        "danceability": rng.random(n), "energy": rng.random(n), "key": rng.integers(0, 12, n).astype(float),
        "loudness": rng.uniform(-20, -2, n), "mode": rng.integers(0, 2, n).astype(float),
        "speechiness": rng.random(n) * 0.3, "acousticness": rng.random(n), "instrumentalness": rng.random(n) ** 3,
        "liveness": rng.random(n), "valence": rng.random(n), "tempo": rng.uniform(70, 180, n),
        "time_signature": np.full(n, 4.0),
        "feature_provider": ["reccobeats"] * n,
        "genres": rng.choice(["pop|dance pop", "rock", "", "r&b|neo soul"], n),
    }
    data.update(overrides)
    return pd.DataFrame(data)


def column(spec: FeatureSpec, x: np.ndarray, name: str) -> np.ndarray:
    return x[:, spec.feature_names.index(name)]


def test_missing_features_become_value_plus_mask_and_no_track_is_dropped():
    f = frame()
    f.loc[:9, list(AUDIO_FEATURES)] = np.nan  # ten tracks without audio features
    f.loc[:9, "feature_provider"] = None
    spec = FeatureSpec.fit(f, portable=False)
    x = spec.transform(f)
    assert x.shape == (len(f), spec.n_features)
    assert np.isfinite(x).all()
    mask = column(spec, x, "energy_missing")
    assert mask[:10].tolist() == [1.0] * 10 and mask[10:].sum() == 0
    # The value of a missing feature is the training mean: 0 once standardised.
    assert np.allclose(column(spec, x, "energy")[:10], 0.0)
    # Its piecewise-linear bins are all 0 (the mask says why), unlike a track that has it.
    bins = [n for n in spec.feature_names if n.startswith("energy_bin")]
    assert bins and all(np.allclose(column(spec, x, b)[:10], 0.0) for b in bins)
    counts = provenance_counts(f)
    assert counts["by_provider"] == {"none": 10, "reccobeats": 50}
    assert counts["with_any_audio_feature"] == 50 and counts["non_missing"]["energy"] == 50


def test_key_is_a_cycle_and_invalid_key_is_missing():
    f = frame(key=np.array([0, 11, 6, -1] * 15, dtype=float))
    spec = FeatureSpec.fit(f, portable=False)
    x = spec.transform(f)
    key = next(c for c in spec.numeric if c.column == "key")
    # Undo the standardising to see the points on the circle.
    sin = column(spec, x, "key_sin") * key.stds[0] + key.means[0]
    cos = column(spec, x, "key_cos") * key.stds[1] + key.means[1]
    point = np.column_stack([sin, cos])
    assert np.allclose(np.linalg.norm(point[:3], axis=1), 1.0, atol=1e-5)
    # Key 11 sits next to key 0 on the circle; key 6 is across it.
    assert np.linalg.norm(point[0] - point[1]) < np.linalg.norm(point[0] - point[2]) / 3
    # Spotify's key -1 ("no key detected") is missing, not a key.
    assert column(spec, x, "key_missing").tolist() == [0.0, 0.0, 0.0, 1.0] * 15


def test_duration_is_log_scaled_and_outliers_are_clipped():
    f = frame()
    spec = FeatureSpec.fit(f, portable=False)
    probe = f.iloc[:2].copy()
    probe["duration_ms"] = [60_000.0, 3.0e7]  # one minute, and a 8-hour recording
    x = spec.transform(probe)
    d = column(spec, x, "duration_ms")
    assert d[0] < 0 and d[1] == pytest.approx(5.0)  # clipped at 5 standard deviations
    col = next(c for c in spec.numeric if c.column == "duration_ms")
    assert col.means[0] == pytest.approx(np.log1p(f["duration_ms"] / 1000).mean())


def test_spec_learns_only_from_the_frame_it_is_fitted_on():
    train, other = frame(seed=1), frame(seed=2)
    other["tempo"] = other["tempo"] + 50
    spec = FeatureSpec.fit(train, portable=False)
    tempo = next(c for c in spec.numeric if c.column == "tempo")
    assert tempo.means[0] == pytest.approx(train["tempo"].mean())
    # Scoring other rows uses the training statistics, so their tempo shows up as high.
    assert column(spec, spec.transform(other), "tempo").mean() > 1.0


def test_json_round_trip_transforms_identically_even_with_columns_absent():
    f = frame()
    spec = FeatureSpec.fit(f, portable=False)
    again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again.feature_names == spec.feature_names
    assert np.array_equal(again.transform(f), spec.transform(f))
    # A candidate frame without audio features or album type still scores: masks say what is missing.
    bare = f[["track_id", "duration_ms", "release_year"]].copy()
    x = again.transform(bare)
    assert x.shape == (len(bare), spec.n_features) and np.isfinite(x).all()
    # Training had no track without them, so there is no mask to learn: the mean stands in.
    assert "energy_missing" not in spec.feature_names
    assert np.allclose(column(spec, x, "energy"), 0.0)
    assert column(spec, x, "album_type=album").sum() == 0


def test_album_type_one_hot_with_unseen_types_as_other_only_when_seen():
    f = frame(album_type=np.array(["album", "single", "appears_on"] * 20))
    spec = FeatureSpec.fit(f, portable=False)
    assert spec.album_types == ["album", "single", "other"]
    x = spec.transform(pd.DataFrame({"album_type": ["compilation", "single", None]}))
    assert column(spec, x, "album_type=other").tolist() == [1.0, 0.0, 0.0]
    assert column(spec, x, "album_type=single").tolist() == [0.0, 1.0, 0.0]


def test_common_genres_are_multi_hot():
    f = frame()
    spec = FeatureSpec.fit(f, portable=False)
    assert {"pop", "dance pop", "rock", "r&b", "neo soul"} <= set(spec.genres)
    x = spec.transform(pd.DataFrame({"genres": ["Rock|shoegaze", None]}))
    assert column(spec, x, "genre=rock").tolist() == [1.0, 0.0]
    assert column(spec, x, "genres_missing").tolist() == [0.0, 1.0]


def test_piecewise_linear_bins_rise_with_the_value():
    f = frame(n=200)
    spec = FeatureSpec.fit(f, portable=False)
    probe = pd.DataFrame({"valence": np.linspace(0, 1, 11)})
    x = spec.transform(probe)
    bins = [n for n in spec.feature_names if n.startswith("valence_bin")]
    total = sum(column(spec, x, b) for b in bins)
    assert np.all(np.diff(total) >= -1e-6) and total[0] == 0 and total[-1] == pytest.approx(len(bins))


def test_no_features_at_all_is_not_enough_data():
    f = pd.DataFrame({"track_id": ["a", "b", "c"], "label": [1, 0, 1]})
    with pytest.raises(NotEnoughData, match="has any feature"):
        FeatureSpec.fit(f, portable=False)
    with pytest.raises(NotEnoughData):
        FeatureSpec.fit(frame().iloc[:0])


def test_a_foreign_or_damaged_spec_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="format"):
        FeatureSpec.from_dict({"format": "something-else/9"})
    bad = FeatureSpec.fit(frame(), portable=False).to_dict()
    bad["feature_names"] = bad["feature_names"][:-1]
    with pytest.raises(ModelError, match="does not match"):
        FeatureSpec.from_dict(bad)
    (tmp_path / "p.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="Cannot read"):
        FeatureSpec.load(tmp_path / "p.json")


def test_out_of_range_values_are_missing_not_extreme():
    f = frame(tempo=np.array([120.0, -5.0, 1e9] + [100.0] * 57))
    spec = FeatureSpec.fit(f, portable=False)
    x = spec.transform(f)
    assert column(spec, x, "tempo_missing")[:3].tolist() == [0.0, 1.0, 1.0]
    assert not math.isnan(float(x.sum()))


def test_the_model_tastebot_trains_reads_only_what_every_candidate_source_gives():
    """Library tracks carry explicit/track number/album type, corpus tracks popularity: as inputs they
    would tell the source, not the taste."""
    from tastebot.models.inputs import SOURCE_DEPENDENT

    spec = FeatureSpec.fit(frame())
    names = " ".join(spec.feature_names)
    for col in SOURCE_DEPENDENT:
        assert col in spec.unused
        assert col.split("_")[0] not in names.replace("duration", "")
    assert any(n.startswith("danceability") for n in spec.feature_names)
    # a track from a source lacking that metadata gets exactly the inputs of one that has it
    f = frame().iloc[:5].copy()
    stripped = f.drop(columns=list(SOURCE_DEPENDENT))
    assert (spec.transform(f) == spec.transform(stripped)).all()


def test_a_column_the_likes_have_and_the_rest_mostly_lack_is_not_read():
    """A corpus file of ids alone gives its tracks sound but no duration or year, while every like has
    both: as inputs, "no year" would mean "not a like"."""
    f = frame(120, label=np.r_[np.ones(40), np.zeros(80)])
    f.loc[60:, ["duration_ms", "release_year"]] = np.nan  # 60 of the 80 non-likes: the corpus's
    f.loc[5, "energy"] = np.nan  # one like without sound: a gap of 2.5 %, still read
    spec = FeatureSpec.fit(f)
    assert "duration_ms" in spec.unused and "release_year" in spec.unused
    assert "100% of the likes" in spec.unused["release_year"] and "25% of the rest" in spec.unused["release_year"]
    assert not any(n.startswith(("duration", "release_year")) for n in spec.feature_names)
    assert "energy_missing" in spec.feature_names
    # the same frame with the year and duration known for (nearly) all: both read
    f.loc[60:, ["duration_ms", "release_year"]] = 200_000.0, 2001.0
    f.loc[60:70, "release_year"] = np.nan
    spec = FeatureSpec.fit(f)
    assert "release_year" not in spec.unused and "release_year_missing" in spec.feature_names
    # no label column (or one class only): nothing to compare
    assert "release_year" not in FeatureSpec.fit(f.drop(columns="label")).unused
