"""The taste network on sandbox data (TensorFlow; kept small): it learns the planted taste far above
chance on artists it never saw, test rows never reach training, a saved model reloads and scores
identically, and thin data is cross-validated and says so."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tastebot import train as T
from tastebot.models import runs

pytestmark = [pytest.mark.slow, pytest.mark.trains]


def catalog_frame(seed: int = 5, n_tracks: int = 600) -> pd.DataFrame:
    """Every catalogue track in the columns of a store frame, labelled by the hidden taste: liked =
    saved, in the listener's liked playlists, or a hidden future like; the rest are not liked."""
    from tastebot.sandbox import generate_catalog

    c = generate_catalog(seed=seed, n_tracks=n_tracks)
    artists = {a["id"]: a for a in c["artists"]}
    albums = {a["id"]: a for a in c["albums"]}
    me = c["listener"]["user_id"]
    liked = {s["track_id"] for s in c["listener"]["saved_tracks"]} | set(c["hidden"]["future_likes"])
    for p in c["playlists"]:
        if p["owner_id"] == me and p["name"] != "Not for me":
            liked |= set(p["track_ids"])
    rows = []
    for t in c["tracks"]:
        album = albums[t["album_id"]]
        feats = c["audio_features"].get(t["id"], {})
        rows.append({
            "track_id": t["id"], "name": t["name"], "primary_artist_id": t["artist_ids"][0],
            "artist_ids": ",".join(t["artist_ids"]), "album_id": t["album_id"], "isrc": t["isrc"],
            "label": int(t["id"] in liked), "strength": "explicit", "weight": 1.0, "sources": "saved",
            "duration_ms": t["duration_ms"], "explicit": int(t["explicit"]), "popularity": t["popularity"],
            "track_number": t["track_number"], "release_year": int(album["release_date"][:4]),
            "album_type": album["album_type"],
            **{k: feats.get(k, np.nan) for k in ("danceability", "energy", "key", "loudness", "mode", "speechiness",
                                                 "acousticness", "instrumentalness", "liveness", "valence", "tempo",
                                                 "time_signature")},
            "feature_provider": "reccobeats" if feats else None,
            "genres": "|".join(artists[t["artist_ids"][0]]["genres"]),
        })
    return pd.DataFrame(rows)


def test_learns_the_planted_taste_on_unseen_artists_never_touching_test_rows_and_reloads_identically(home):
    from tastebot.settings import load_settings

    frame = catalog_frame()
    assert frame["label"].sum() >= 40 and (frame["label"] == 0).sum() >= 40
    seen: dict[str, list[np.ndarray]] = {}
    result = T.train_on_frame(frame, epochs=10, seed=0, ensemble=2,
                              observer=lambda stage, rows: seen.setdefault(stage, []).append(np.asarray(rows)))
    m = result.metrics
    assert m["mode"] == "holdout"

    # The test rows are never learnt from: not by the scaling, the networks, early stopping or the baselines.
    test = seen["test"][0]
    for stage in ("spec_fit", "fit_train", "fit_validation", "refit_train", "baseline_fit"):
        for rows in seen[stage]:
            assert set(rows).isdisjoint(test), stage
    artists = frame["primary_artist_id"].to_numpy()
    assert set(artists[test]).isdisjoint(artists[np.concatenate(seen["fit_train"])])
    assert m["split"]["test"] == len(test)

    # Far above chance on held-out artists, and far above the majority-class guess.
    s = m["scores"]
    assert s["mlp"]["roc_auc"] > 0.75, s
    assert s["majority"]["roc_auc"] == pytest.approx(0.5)
    assert s["mlp"]["pr_auc"] > 1.5 * m["split"]["test_likes"] / m["split"]["test"]
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc"} <= set(s["random_forest"])

    # Saved, reloaded through LATEST, it scores exactly as the model in memory did.
    settings = load_settings()
    run_dir = runs.save_run(settings, result)
    assert (settings.models_dir / "LATEST").read_text().strip() == run_dir.name
    assert not [p for p in settings.models_dir.iterdir() if p.name.startswith(".tmp")]
    model = runs.load_model(settings)
    probe = frame.sample(150, random_state=1)
    probe.loc[probe.index[:20], ["energy", "tempo", "popularity"]] = np.nan  # missing features still score
    before, after = result.model.predict(probe), model.predict(probe)
    assert np.allclose(before, after, atol=1e-6) and np.all((after >= 0) & (after <= 1))
    assert model.run_dir == run_dir and model.blend_weight == 1.0
    assert {"network.keras", "network.npz"} <= {p.name for p in run_dir.iterdir()}

    # The taste score is the mean of its two members, each of which can be asked alone.
    assert model.forest is not None and {"forest.pkl", "forest.npz"} <= {p.name for p in run_dir.iterdir()}
    mlp_alone, forest_alone = model.with_members(("mlp",)).predict(probe), model.with_members(("forest",)).predict(probe)
    assert np.allclose(after, (mlp_alone + forest_alone) / 2) and not np.allclose(mlp_alone, forest_alone)
    assert s["taste"]["roc_auc"] > 0.75 and s["taste"]["roc_auc"] != s["mlp"]["roc_auc"]

    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["run_id"] == run_dir.name and saved["blend"]["reason"]
    assert saved["data"]["likes"] == int(frame["label"].sum()) and saved["data"]["by_kind"]
    assert saved["features"]["by_provider"] and saved["versions"]["tensorflow"]
    assert saved["history"][0]["epochs"] and "val_auc" in saved["history"][0]["epochs"][0]
    assert saved["curves"]["mlp"]["roc"]["fpr"][0] == 0.0
    assert saved["settings"]["seed"] == 0 and saved["settings"]["epochs"] == 10


def test_poisoned_test_rows_change_nothing_the_model_learnt():
    """Train twice with the same seed; the second time the test rows' features are garbage. If any
    part of training saw them, the two models would score a probe differently."""
    frame = catalog_frame(seed=5, n_tracks=400)
    dev, test = T.split_holdout(frame, seed=2)
    poisoned = frame.copy()
    for col in ("energy", "danceability", "valence", "acousticness"):
        poisoned.loc[test, col] = 1.0 - poisoned.loc[test, col]
    poisoned.loc[test, "tempo"] = 250.0
    poisoned.loc[test, "popularity"] = 100 - poisoned.loc[test, "popularity"]
    clean = T.train_on_frame(frame, epochs=2, seed=2, ensemble=1)
    dirty = T.train_on_frame(poisoned, epochs=2, seed=2, ensemble=1)
    probe = frame.iloc[dev[:100]]
    assert np.allclose(clean.model.predict(probe), dirty.model.predict(probe), atol=1e-5)
    # ... while the test scores, computed on those rows, do change.
    assert clean.metrics["scores"]["random_forest"] != dirty.metrics["scores"]["random_forest"]


def test_thin_data_is_cross_validated_and_says_so():
    frame = catalog_frame(seed=3, n_tracks=600)
    rng = np.random.default_rng(0)
    likes = frame.index[frame["label"] == 1].to_numpy()
    dislikes = frame.index[frame["label"] == 0].to_numpy()
    small = frame.loc[np.concatenate([rng.choice(likes, 25, replace=False), rng.choice(dislikes, 30, replace=False)])]
    result = T.train_on_frame(small, epochs=3, seed=0, ensemble=1)
    m = result.metrics
    assert m["mode"] == "cross-validation"
    assert "fewer than 40" in m["mode_reason"]
    # Every track is scored by a model that never saw it; the pooled scores cover them all.
    assert m["split"]["evaluated"] == len(small) and m["split"]["folds"] >= 2
    assert 0.0 <= m["scores"]["mlp"]["roc_auc"] <= 1.0
    assert len(result.model.predict(small)) == len(small)


def test_folds_of_slightly_different_widths_share_one_traced_network(monkeypatch):
    """Inputs are padded to a multiple of INPUT_BUCKET, so the next fold's network (a few one-hot
    columns more or less) recycles the traced graph; recycling and padding change no score. No fit
    sets TensorFlow's global seed (it empties the kernel cache: ~0.3 s a traced step after it)."""
    import tensorflow as tf

    from tastebot.models import mlp

    monkeypatch.setattr(tf.random, "set_seed", lambda seed: pytest.fail("a fit set TensorFlow's global seed"))
    rng = np.random.default_rng(0)
    assert mlp.padded_width(101) == mlp.padded_width(110) == 128 and mlp.padded_width(128) == 128
    x = rng.normal(size=(60, 110)).astype(np.float32)
    y = (x[:, 0] > 0).astype(float)
    w = np.ones(60)
    first = mlp.fit(x[:48, :101], y[:48], w[:48], x[48:, :101], y[48:], w[48:], epochs=1, seed=1)
    second = mlp.fit(x[:48], y[:48], w[:48], x[48:], y[48:], w[48:], epochs=1, seed=1, reuse=first.model)
    assert second.model is first.model and first.model.input_shape[-1] == 128
    p = mlp.predict(second.model, x)
    assert np.allclose(p, mlp.predict(second.model, np.hstack([x, np.zeros((60, 18), dtype=np.float32)])))
    # Recycling changes no result: a network built afresh with the same seed learns the same.
    fresh = mlp.fit(x[:48], y[:48], w[:48], x[48:], y[48:], w[48:], epochs=1, seed=1)
    assert fresh.model is not first.model
    assert np.array_equal(p, mlp.predict(fresh.model, x))


def test_a_training_recycles_a_handed_back_network_and_learns_what_a_fresh_one_learns(trained_home, copy_trained):
    """A network handed back (`Ensemble.hand_back`, as `train_from_store` does once the run is
    saved) is recycled by the next training of its shape in the process, traced graphs and all:
    reset to the seed's start (weights, normalisation statistics, optimizer state), it learns
    exactly what the trained home's fresh network learnt from the same store (3 epochs, one
    network, seed 0). Then it is handed back again and the run scores as a loaded one does."""
    from tastebot.models import mlp

    settings = copy_trained()
    width = runs.load_model(settings).ensemble.model.width
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, width)).astype(np.float32)
    y = (x[:, 0] > 0).astype(float)
    used = mlp.fit(x[:48], y[:48], np.ones(48), x[48:], y[48:], np.ones(16), epochs=2, seed=5).model
    mlp.Ensemble(used).hand_back()  # trained elsewhere: its weights, statistics and optimizer moved
    result = T.train_from_store(settings, epochs=3, seed=0, ensemble=1)
    assert mlp.spare(width, 1) is used  # handed back again after the run was saved
    assert isinstance(result.model.ensemble.model, mlp.Forward)
    assert result.metrics["scores"] == trained_home.metrics["scores"]
    assert result.metrics["history"] == trained_home.metrics["history"]


def test_a_saved_run_scores_without_tensorflow_as_keras_does(trained_home, copy_trained, tmp_path):
    """A saved run is scored from its weights in NumPy (mlp.Forward): no TensorFlow import in a
    process that only scores, and the same scores as the Keras network within float32 rounding. A
    run saved before the weights file still loads, through Keras."""
    import os
    import subprocess
    import sys

    from tastebot.models import mlp

    settings = copy_trained(tmp_path / "h")
    run_dir = settings.models_dir / trained_home.run_id
    frame = trained_home.frame
    model = runs.load_model(settings)
    assert isinstance(model.ensemble.model, mlp.Forward)
    keras_net = mlp.Ensemble.load(run_dir, [mlp.MODEL_FILE])  # the same run's Keras file
    x = model.spec.transform(frame)
    assert np.abs(model.ensemble.predict(x) - keras_net.predict(x)).max() < 1e-6

    code = ("import json, sys\nfrom tastebot.settings import load_settings\nfrom tastebot.models.runs import load_model\n"
            "from tastebot.store import open_store\n"
            "s = load_settings()\nwith open_store(s, readonly=True) as st:\n    f = st.labelled_tracks()\n"
            "p = load_model(s).predict(f)\nprint(json.dumps({'tf': 'tensorflow' in sys.modules, 'p': p.tolist(),"
            " 'sk': 'sklearn' in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TASTEBOT_HOME": str(settings.home)})
    assert out.returncode == 0, out.stderr[-2000:]
    done = json.loads(out.stdout)
    assert done["tf"] is False
    assert done["sk"] is False  # the forest scores from its arrays (models/trees.py)
    assert np.allclose(done["p"], model.predict(frame), atol=1e-9)

    # An older run (only network.keras, as metrics.json lists it) loads through Keras and scores alike.
    (run_dir / mlp.WEIGHTS_FILE).unlink()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["networks"] = [mlp.MODEL_FILE]
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    older = runs.load_model(settings)
    assert not isinstance(older.ensemble.model, mlp.Forward)
    assert np.abs(older.predict(frame) - model.predict(frame)).max() < 1e-6
