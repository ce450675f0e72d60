"""`tastebot demo`: the whole job against an in-process sandbox, honest about what it found."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

import pytest
from cli_runner import invoke

from tastebot.demo import future_like_hits
from tastebot.sandbox.generator import generate_catalog


def _heard(catalog: dict) -> set[str]:
    listener = catalog["listener"]
    heard = {s["track_id"] for s in listener["saved_tracks"]} | {p["track_id"] for p in listener["recently_played"]}
    for ids in listener["top_tracks"].values():
        heard |= set(ids)
    for pl in catalog["playlists"]:
        if pl["owner_id"] == listener["user_id"]:
            heard |= set(pl["track_ids"])
    return heard


def test_future_like_hits_counts_isrc_twins_and_random_rate():
    catalog = generate_catalog(seed=3, n_tracks=600)
    future = catalog["hidden"]["future_likes"]
    some = future[:5]
    stranger = next(t["id"] for t in catalog["tracks"] if t["id"] not in set(future) and t["id"] not in _heard(catalog))
    hits = future_like_hits(catalog, some + [stranger])
    assert hits["recommended"] == 6
    assert hits["confirmed"] == 5
    assert 0 < hits["random_precision"] < 1
    assert hits["random_expected"] == pytest.approx(6 * hits["random_precision"], abs=0.01)


@pytest.mark.slow
@pytest.mark.trains
def test_demo_runs_the_whole_job_and_beats_random(tmp_path):
    profile = "development"
    keep = tmp_path / "demo-home"
    # One network (TASTEBOT_ENSEMBLE): the demo's whole job is the point here; three networks are
    # test_train_model's business.
    # `tastebot --home DIR demo` means `demo --home DIR` (it once ignored DIR).
    res = invoke(["--home", str(keep), "demo", "--profile", profile, "--tracks", "1000", "--epochs", "8", "-n", "20",
                  "--seed", "1", "--json"], env={"TASTEBOT_ENSEMBLE": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    summary = json.loads(res.stdout)
    recs = summary["recommendations"]
    assert len(recs) == 20
    assert summary["playlist"]["tracks"] == 20
    # never heard: nothing the listener already knows comes back
    catalog = generate_catalog(seed=1, n_tracks=1000)
    assert not {r["track_id"] for r in recs} & _heard(catalog)
    # the honest question: more confirmed by the hidden future than random picks would be
    hidden = summary["hidden_future_likes"]
    assert hidden["confirmed"] > hidden["random_expected"], hidden
    assert "Hidden future likes confirm" in res.stderr
    # reasons name the shared playlists by their names, not their ids
    catalog_names = {p["name"] for p in catalog["playlists"]}
    shown = [n for r in recs for n in r["shared_playlist_names"]]
    assert shown and all(n in catalog_names or n.startswith("your playlist ") for n in shown), shown[:5]
    # the model was measured against its baselines on held-out data
    assert {"mlp", "random_forest", "logistic_regression", "majority"} <= set(summary["model"]["scores"])
    # the state was kept where asked, and the sandbox is gone
    assert (keep / "tastebot.db").exists()
    assert (keep / "models" / "LATEST").exists()
    assert not (keep / "credentials" / "token.json").exists()  # logged out at the end
    # It ends with what to do next with a real account, and does not offer the stopped sandbox's link.
    assert "tastebot login --client-id YOUR_CLIENT_ID" in res.err and "tastebot recommend --create-playlist" in res.err
    assert "Using it with your Spotify account" in res.text
    assert "/v1/playlists/" not in res.err and "stopped with the demo" in res.text


@pytest.mark.trains
def test_demo_leaves_nothing_behind(tmp_path, monkeypatch):
    """Extended profile, in process: without --home the temporary home is removed and the sandbox
    port closed; the recommendations are still never-heard tracks."""
    from tastebot.demo import DemoOptions, DemoSteps, run_demo

    urls = []

    class Steps(DemoSteps):
        def done(self, name, text):
            if name == "sandbox":
                urls.append(text.split()[-1])

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("TASTEBOT_ENSEMBLE", "1")  # one network: this test is about what is left behind
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run_demo(DemoOptions(profile="extended", n_tracks=600, epochs=2, n=5, seed=2), Steps())
    assert len(result.recommendations) == 5
    assert result.playlist["tracks"] == 5
    assert not {r["track_id"] for r in result.recommendations} & _heard(generate_catalog(seed=2, n_tracks=600))
    assert result.harvest["app_kind"] == "extended"
    assert result.metrics["settings"]["ensemble"] == 1  # the demo trains as `tastebot train` would
    assert not result.home.exists()
    assert list(tmp_path.iterdir()) == []
    port = urlparse(urls[0]).port
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
