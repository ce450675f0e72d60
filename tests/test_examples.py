"""The scripts in examples/ run against a sandbox and say what is true.

import_corpus runs as a script in a subprocess (`python examples/import_corpus.py`, its exit codes
included); the two that train call the script's own main() in this process (run_example_here), as a
process start is not what they check and each would import TensorFlow again.

library_usage: the DataFrame has the store's rows and the scores are for the tracks asked;
rank_playlist: the ranking is sorted by score and holds exactly the playlist's tracks minus the ones
the listener knows; import_corpus: the corpus holds exactly the rows written, and a second import
adds nothing.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from login_helpers import cli_env
from worlds import TRAINED_WORLD

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = ("library_usage.py", "rank_playlist.py", "import_corpus.py")


def run_example(name: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], env=cli_env(), capture_output=True,
                          text=True, timeout=timeout)


def run_example_here(name: str, *args: str) -> SimpleNamespace:
    """The example's main(args) in this process, its stdout and stderr captured; what a subprocess gives."""
    spec = importlib.util.spec_from_file_location(f"example_{Path(name).stem}", EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = module.main(list(args))
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_example_says_what_it_shows_and_how_to_run_it(name):
    doc = ast.get_docstring(ast.parse((EXAMPLES / name).read_text(encoding="utf-8")))
    assert doc and "What it shows" in doc and "Run it:" in doc
    assert f"python examples/{name} --sandbox" in doc


@pytest.mark.slow
@pytest.mark.trains
def test_library_usage_dataframe_training_and_scores(make_logged_in, home):
    from tastebot.settings import load_settings

    listener = make_logged_in(**TRAINED_WORLD).catalog["listener"]
    saved = [s["track_id"] for s in listener["saved_tracks"][:2]]
    unknown = "0000000000000000000000"
    res = run_example_here("library_usage.py", "--json", "--epochs", "2", "--track", saved[0], "--track", saved[1],
                      "--track", unknown)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout)

    from tastebot.store import open_store

    settings = load_settings()
    with open_store(settings, readonly=True) as store:
        counts = store.label_counts()
        frame = store.labelled_tracks()
    assert out["home"] == str(home)
    assert out["frame"]["rows"] == sum(counts.values()) == len(frame) > 0
    assert out["frame"]["likes"] == counts["likes"]
    assert out["frame"]["columns"] == list(frame.columns)

    preds = out["predictions"]
    assert [p["track_id"] for p in preds] == saved, "the scores are not for the tracks asked, in order"
    assert all(0.0 <= p["like_probability"] <= 1.0 for p in preds)
    labels = dict(zip(frame["track_id"], frame["label"]))
    for p in preds:
        expected = {1: "like", 0: "dislike"}.get(int(labels[p["track_id"]])) if p["track_id"] in labels else None
        assert p["known_label"] == expected
    assert out["not_in_store"] == [unknown]

    latest = (settings.models_dir / "LATEST").read_text().strip()
    assert out["model"]["run_id"] == latest
    metrics = json.loads((settings.models_dir / latest / "metrics.json").read_text())
    assert out["model"]["roc_auc"]["mlp"] == metrics["scores"]["mlp"]["roc_auc"]


@pytest.mark.slow
@pytest.mark.trains
def test_rank_playlist_ranks_exactly_the_playlists_unknown_tracks():
    from tastebot.sandbox import generate_catalog

    seed = TRAINED_WORLD["seed"]  # a listener with 40+ likes and dislikes: one training, not cross-validation
    res = run_example_here("rank_playlist.py", "--sandbox", "--seed", str(seed), "--epochs", "2", "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout)

    catalog = generate_catalog(seed=seed, n_tracks=600)  # the same world the script's sandbox served
    playlist = next(p for p in catalog["playlists"] if p["id"] == out["playlist"])
    assert playlist["owner_id"] != catalog["listener"]["user_id"] and playlist["public"]
    tracks = {t for t in playlist["track_ids"] if t}
    assert out["playlist_tracks"] == len(tracks)

    ranked = out["ranked"]
    ids = [r["track_id"] for r in ranked]
    assert ranked, "nothing was ranked"
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    scores = [r["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True), "the ranking is not in score order"
    assert len(set(ids)) == len(ids)
    # Exactly the playlist: every track is either ranked or left out as known, never both, nothing else.
    assert set(ids) | set(out["left_out"]) == tracks
    assert not set(ids) & set(out["left_out"])
    assert len(out["left_out"]) == sum(out["removed"].values())
    assert out["model_run"] and all(r["mlp"] is not None for r in ranked), "the taste model was not used"


def _csv_facts(path: Path) -> tuple[int, int]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return len(rows), len({r["playlist_id"] for r in rows})


def test_import_corpus_counts_the_rows_written_and_imports_once(home, tmp_path):
    from tastebot.sandbox import generate_catalog
    from tastebot.sandbox.format import export_corpus_csv
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    path = tmp_path / "playlists.csv"
    written = export_corpus_csv(generate_catalog(seed=3, n_tracks=300), path)
    rows, playlists = _csv_facts(path)
    assert written == rows > 0

    res = run_example("import_corpus.py", str(path), "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout)
    assert out["csv_rows"] == {str(path): written}
    assert out["imported"]["pairs"] == written and out["imported"]["playlists"] == playlists
    assert out["corpus"]["pairs"] == written and out["corpus"]["playlists"] == playlists
    with open_store(load_settings(), readonly=True) as store:
        assert store.corpus_stats() == out["corpus"]

    again = run_example("import_corpus.py", str(path), "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    second = json.loads(again.stdout)
    assert second["imported"]["pairs"] == 0 and second["imported"]["skipped_existing"] == playlists
    assert {k: v for k, v in second["corpus"].items() if k != "imports"} == \
        {k: v for k, v in out["corpus"].items() if k != "imports"}, "a second import changed the corpus"

    res = run_example("import_corpus.py", str(tmp_path / "missing.csv"))
    assert res.returncode == 2 and "Traceback" not in res.stderr and "error:" in res.stderr


def test_import_corpus_sandbox_mode():
    res = run_example("import_corpus.py", "--sandbox", "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout)
    written = out["rows_written"]
    assert written and list(out["csv_rows"].values()) == [written]
    assert out["imported"]["pairs"] == out["corpus"]["pairs"] == written
    assert out["corpus_before"]["pairs"] == 0
    # The temporary home is gone again.
    assert not Path(out["files"][0]).exists()
