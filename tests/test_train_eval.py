"""tastebot.train without TensorFlow: splits grouped by artist, weights, clear messages when the data
is too thin, `--help` that never imports TensorFlow, and the `models` listing."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from cli_runner import invoke

from tastebot import evaluation
from tastebot import train as T
from tastebot.models import runs
from tastebot.errors import ModelError, NotEnoughData


def labelled(n_like: int, n_dislike: int, n_artists: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_like + n_dislike
    return pd.DataFrame({
        "track_id": [f"t{i}" for i in range(n)],
        "primary_artist_id": [f"a{rng.integers(n_artists)}" for _ in range(n)],
        "label": [1] * n_like + [0] * n_dislike,
        "strength": ["explicit"] * n,
        "weight": 1.0,
        "energy": rng.random(n),
        "tempo": rng.uniform(60, 180, n),
    })


def test_holdout_split_is_grouped_by_artist_and_stratified():
    f = labelled(120, 200, n_artists=60)
    dev, test = T.split_holdout(f, seed=3)
    assert set(dev).isdisjoint(test) and len(dev) + len(test) == len(f)
    artists = f["primary_artist_id"].to_numpy()
    assert set(artists[dev]).isdisjoint(artists[test])
    y = f["label"].to_numpy()
    assert 0.1 < y[test].mean() < 0.6 and 0.12 < len(test) / len(f) < 0.3
    # The split depends on labels and artists only: features never move a track across it.
    g = f.copy()
    g.loc[test, "energy"] = 99.0
    assert np.array_equal(T.split_holdout(g, seed=3)[1], test)


@pytest.mark.parametrize("n_rows, n_groups, like_share, k, seed", [
    (3900, 3200, 0.25, 5, 0), (400, 60, 0.5, 5, 3), (120, 12, 0.1, 5, 1), (60, 4, 0.5, 4, 2), (900, 900, 0.3, 5, 7),
])
def test_grouped_folds_are_scikit_learns_stratified_group_folds(n_rows, n_groups, like_share, k, seed):
    """The test parts computed with all candidate folds at once are scikit-learn's own, fold for fold
    (many one-track groups, as corpus negatives make, give many ties)."""
    from sklearn.model_selection import StratifiedGroupKFold

    rng = np.random.default_rng(seed)
    y = (rng.random(n_rows) < like_share).astype(int)
    groups = np.array([f"a{g}" for g in rng.integers(0, n_groups, n_rows)])
    ours = evaluation.stratified_group_test_parts(y, groups, k, seed)
    theirs = [np.sort(te) for _, te in StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(y, y, groups)]
    assert len(ours) == len(theirs) == k
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_tracks_without_an_artist_are_their_own_group():
    f = labelled(50, 50)
    f.loc[:9, "primary_artist_id"] = None
    groups = T._groups(f)
    assert len(set(groups[:10])) == 10


def test_weak_negatives_weigh_less_than_explicit_ones():
    f = pd.DataFrame({"label": [1, 0, 0, 0], "strength": ["explicit", "explicit", "weak", "weak"],
                      "weight": [2.0, 1.0, 1.0, 3.0]})
    w = T.sample_weights(f)
    assert w[0] == 2.0 and w[1] == 1.0
    assert w[2] < w[1] and w[3] < w[1]
    cw = T.class_weights(f["label"].to_numpy(), w)
    y = f["label"].to_numpy()
    # Balanced: likes and dislikes get the same total say.
    assert (w * np.where(y == 1, cw[1], cw[0]))[y == 1].sum() == pytest.approx((w * cw[0])[y == 0].sum())


@pytest.mark.parametrize(
    "n_like, n_dislike, message",
    [(3, 50, "Only 3 likes and 50 dislikes"), (50, 0, "sampled-negatives"), (0, 0, "Only 0 likes")],
)
def test_too_little_data_says_how_much_is_missing(n_like, n_dislike, message):
    with pytest.raises(NotEnoughData, match=message):
        T.train_on_frame(labelled(n_like, n_dislike))


def test_too_few_artists_is_not_enough_data():
    with pytest.raises(NotEnoughData, match="too few artists"):
        T.train_on_frame(labelled(30, 30, n_artists=1))


def test_no_features_at_all_is_not_enough_data():
    f = labelled(60, 60)[["track_id", "primary_artist_id", "label", "strength", "weight"]]
    with pytest.raises(NotEnoughData, match="any feature"):
        T.train_on_frame(f, epochs=1)


def test_scores_and_curves_on_a_known_ranking():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    s = evaluation.score(y, p)
    assert s["roc_auc"] == pytest.approx(8 / 9)
    assert s["accuracy"] == pytest.approx(5 / 6) and s["precision"] == 1.0 and s["recall"] == pytest.approx(2 / 3)
    c = evaluation.curves(y, p)
    assert c["roc"]["fpr"][0] == 0.0 and c["roc"]["tpr"][-1] == 1.0


def _python(code: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter (what it imports is the point), which must succeed."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out


def test_help_never_imports_tensorflow():
    code = (
        "import sys\n"
        "from tastebot.cli import main\n"
        "for args in (['--help'], ['train', '--help'], ['models', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, (args, e.code)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'sklearn'))\n"
        "print('HEAVY', bad[:3])\n"
    )
    out = _python(code)
    assert "HEAVY []" in out.stdout
    assert "--no-harvest" in out.stdout and "--max-age" in out.stdout


def test_train_without_a_store_is_exit_3_with_advice():
    code, out, err = invoke(["train", "--no-harvest"]).astuple()
    assert code == 3 and "tastebot harvest" in err and "Traceback" not in err


def test_bad_max_age_is_exit_2():
    code, _, err = invoke(["train", "--max-age", "soon"]).astuple()
    assert code == 2 and "30m, 12h or 1d" in err


def test_parse_age():
    from tastebot.cli.train import parse_age

    assert parse_age("90") == 90 and parse_age("30m") == 1800 and parse_age("1d") == 86400 and parse_age("1.5h") == 5400


def test_models_lists_runs_and_skips_half_written_ones(home):
    from tastebot.settings import load_settings

    settings = load_settings()
    settings.ensure_home()  # a named home that does not exist is refused (exit 3); an empty one lists nothing
    code, out, err = invoke(["models", "--json"]).astuple()
    assert code == 0 and json.loads(out) == []
    run = settings.models_dir / "20260101T000000Z-seed0"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"mode": "holdout", "data": {"likes": 50, "dislikes": 70},
                                                  "scores": {"mlp": {"roc_auc": 0.8}}, "blend": {"weight": 0.6}}))
    (settings.models_dir / ".tmp-20260102T000000Z-seed0-123").mkdir()  # a run cut off while saving
    (settings.models_dir / "20260103T000000Z-seed0").mkdir()  # damaged: no metrics
    (settings.models_dir / "LATEST").write_text("20260101T000000Z-seed0\n")
    code, out, err = invoke(["models", "--json"]).astuple()
    runs = json.loads(out)
    assert [r["run_id"] for r in runs] == ["20260103T000000Z-seed0", "20260101T000000Z-seed0"]
    assert "error" in runs[0] and runs[1]["latest"] and runs[1]["mlp_roc_auc"] == 0.8
    code, out, err = invoke(["models"]).astuple()
    assert code == 0 and "0.800" in out and "Models in" in out and "20260101T000000Z-seed0" in out


def test_load_model_without_a_model_is_a_clear_error(home):
    from tastebot.settings import load_settings

    settings = load_settings()
    with pytest.raises(NotEnoughData, match="tastebot train"):  # exit 3, as train's and recommend's
        runs.load_model(settings)
    with pytest.raises(ModelError, match="not a model run id"):
        runs.load_model(settings, "../etc")


def test_a_run_that_cannot_load_is_refused_without_importing_tensorflow(tmp_path):
    """A run listing an unknown layout or a missing Keras file is refused before TensorFlow's import
    (seconds spent only to say "retrain")."""
    code = (
        "import sys\nfrom pathlib import Path\nfrom tastebot.errors import ModelError\n"
        "from tastebot.models.mlp import Ensemble\n"
        f"folder = Path({str(tmp_path)!r})\n"
        "for names in (['a.keras', 'b.keras'], ['network.keras']):\n"
        "    try:\n"
        "        Ensemble.load(folder, names)\n"
        "    except ModelError as exc:\n"
        "        print('REFUSED', 'retrain' in exc.message)\n"
        "print('TF', 'tensorflow' in sys.modules)\n"
    )
    out = _python(code)
    assert out.stdout.split("\n")[:3] == ["REFUSED True", "REFUSED True", "TF False"], out.stdout
