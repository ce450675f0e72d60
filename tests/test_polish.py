"""Issue 16: the rough edges a new user and a hostile server found, each with a test that fails
without its fix. Tests run the CLI (in this process, or in a subprocess when the OS must say no)
against the in-repo sandbox over real HTTP.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import invoke
from login_helpers import CLIENT_ID, cli_env, login_to, sandbox_settings

SETPRIV = shutil.which("setpriv")
# Without CAP_DAC_OVERRIDE even root obeys file modes.
NO_DAC = [SETPRIV or "setpriv", "--bounding-set=-dac_override,-dac_read_search",
          "--inh-caps=-dac_override,-dac_read_search"]


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err
        self.text = " ".join(err.split())

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out[-400:]!r}, err={self.err[-800:]!r})"


def run(*args: str, pre: list[str] | None = None, env: dict | None = None, timeout: float = 300) -> Result:
    if pre or env:
        proc = subprocess.run([*(pre or []), sys.executable, "-m", "tastebot", *args], capture_output=True,
                              text=True, env=env or cli_env(), timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)
    from tastebot.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.err + result.out, result


# -- 1. logout on a read-only home ------------------------------------------------------------------

@pytest.mark.skipif(SETPRIV is None, reason="needs setpriv to drop CAP_DAC_OVERRIDE (tests run as root)")
def test_logout_on_a_read_only_home_says_the_token_is_still_there(sandbox, home, monkeypatch):
    settings = sandbox_settings(sandbox, home=str(home), insecure_storage=True)
    login_to(sandbox, settings=settings)
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sandbox.url)
    monkeypatch.setenv("TASTEBOT_CLIENT_ID", CLIENT_ID)
    token_file = settings.token_file
    assert token_file.exists()
    paths = [home, *home.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        result = run("logout", pre=NO_DAC)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert result.code == 74, result
    no_traceback(result)
    assert "token is still there" in result.text, result
    assert "unexpected" not in result.text
    assert token_file.exists()


# -- 4. a malformed playlist id is bad input; a well-formed unknown one stays a warning --------------

@pytest.mark.parametrize("option", ["--dislike-playlist", "--like-playlist"])
@pytest.mark.parametrize("ref", ["spotify:playlist:short", "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5",
                                 "37i9dQZF1DXcBWIGoYBM5Mx"])
def test_malformed_playlist_id_is_bad_input(logged_in, option, ref):
    logged_in.reset_stats()
    result = run("harvest", "--sampled-negatives", "never", option, ref)
    assert result.code == 2, result
    no_traceback(result)
    assert "Not a Spotify playlist" in result.text, result
    assert logged_in.stats()["total"] == 0  # refused before any request


def test_well_formed_unknown_playlist_is_a_warning(logged_in):
    unknown = "0000000000000000000000"
    result = run("harvest", "--sampled-negatives", "never", "--dislike-playlist", f"spotify:playlist:{unknown}",
                 "--json")
    assert result.code == 0, result
    sources = json.loads(result.out)["sources"]
    assert any(unknown in s["name"] + s["detail"] and s["status"] == "skipped" for s in sources), sources


# -- 7 and 9. sampled negatives are a seeded draw: same library + same seed = same sample ------------

def _harvest_into(sb, home_dir: Path, seed: int, reporter=None) -> tuple[dict, set[str]]:
    from tastebot.harvest import Harvester, HarvestOptions
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    settings = sandbox_settings(sb, home=str(home_dir), insecure_storage=True)
    if not settings.token_file.exists():
        login_to(sb, settings=settings)
    client = SpotifyClient(settings)
    client.policy.backoff_base = 0.01
    with open_store(settings) as store:
        try:
            summary = Harvester(settings, client, store, HarvestOptions(sampled_negatives="always", seed=seed),
                                reporter=reporter).run().as_dict()
        except KeyboardInterrupt:
            summary = {}
        weak = store.signal_track_ids(strength="weak")
    return summary, weak


def test_sampled_negatives_are_repeatable_also_after_an_interrupted_run(sandbox, tmp_path):
    from tastebot.harvest import Reporter

    first, weak_a = _harvest_into(sandbox, tmp_path / "a", seed=3)
    _, weak_b = _harvest_into(sandbox, tmp_path / "b", seed=3)
    assert len(weak_a) > 20
    assert weak_a == weak_b
    src = next(s for s in first["sources"] if s["name"] == "sampled_negatives")
    assert "seed 3" in src["detail"], src
    assert first["options"]["seed"] == 3

    class StopMidway(Reporter):
        drawn = 0

        def advance(self, source, n=1, total=None):
            if source == "sampled_negatives":
                self.drawn += n
                if self.drawn >= 5:
                    raise KeyboardInterrupt

    _, partial = _harvest_into(sandbox, tmp_path / "c", seed=3, reporter=StopMidway())
    assert 0 < len(partial) < len(weak_a)
    _, resumed = _harvest_into(sandbox, tmp_path / "c", seed=3)
    assert resumed == weak_a

    _, other_seed = _harvest_into(sandbox, tmp_path / "d", seed=4)
    assert other_seed != weak_a


# -- 10, 11, 15. models shows whole run ids; results on stdout, messages on stderr ----------------

def _fake_run(home: Path, run_id: str = "20260101T000000Z-seed0") -> Path:
    models = home / "models"
    run_dir = models / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.json").write_text(json.dumps({
        "mode": "holdout", "created_at": "2026-01-01T00:00:00+00:00", "data": {"likes": 50, "dislikes": 70},
        "scores": {"mlp": {"roc_auc": 0.8}, "random_forest": {"roc_auc": 0.75}}, "blend": {"weight": 0.6}}))
    (models / "LATEST").write_text(run_id + "\n")
    return run_dir


@pytest.mark.parametrize("columns", ["80", "60"])
def test_models_never_cuts_the_run_id_and_prints_on_stdout(home, columns):
    run_id = "20261201T084327Z-seed12345"
    _fake_run(home, run_id)
    result = run("models", env=cli_env(COLUMNS=columns))
    assert result.code == 0, result
    assert run_id in result.out, result  # whole, on stdout, whatever the width
    if columns == "80":
        assert "0.800" in result.out and "…" not in result.out, result.out
    assert "latest" in result.err  # the legend is a message


def test_status_prints_its_table_on_stdout(logged_in):
    result = invoke(["status"])
    assert result.code == 0, result
    assert "Logged in as" in result.out and len(result.out) > 0
    assert "Logged in as" not in result.err


def test_harvest_prints_its_summary_on_stdout_and_json_alone(logged_in):
    result = run("harvest", "--sampled-negatives", "never")
    assert result.code == 0, result
    assert "Harvest sources" in result.out and "Harvest sources" not in result.err
    assert "Harvest done" in result.err
    result = run("harvest", "--sampled-negatives", "never", "--json")
    assert result.code == 0, result
    json.loads(result.out)  # stdout holds the JSON document and nothing else
    assert "Harvest sources" in result.err


def test_train_summary_goes_to_stdout(home, capsys):
    from tastebot.cli.train import _render

    metrics = {"mode": "holdout", "data": {"tracks": 120, "artists": 40, "by_kind": {"like": 50, "dislike": 70}},
               "split": {"test": 30, "test_artists": 10, "test_likes": 12, "test_dislikes": 18},
               "scores": {"mlp": {"roc_auc": 0.8}, "random_forest": {"roc_auc": 0.7}}, "blend": {"weight": 0.6}}
    _render(metrics, home / "models" / "x")
    captured = capsys.readouterr()
    assert "Held-out test" in captured.out and "ROC-AUC 0.800" in captured.out
    assert "Model saved" in captured.err and "Held-out test" not in captured.err


def test_report_prints_the_page_on_stdout_and_an_unknown_run_is_bad_input(home):
    _fake_run(home)
    result = run("report")
    assert result.code == 0, result
    page = Path(result.out.strip())
    assert page.name == "report.html" and page.is_file(), result
    for ref in ("nope", "20990101T000000Z-seed0", "../etc"):
        result = run("report", "--run", ref)
        assert result.code == 2, result
        no_traceback(result)
        assert "tastebot models" in result.text


# -- 12. the right advice ------------------------------------------------------------------------------

def test_train_no_harvest_on_an_empty_store_says_harvest(home):
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    with open_store(load_settings()):
        pass  # an empty store: created, never harvested
    result = run("train", "--no-harvest")
    assert result.code == 3, result
    no_traceback(result)
    assert "tastebot harvest" in result.text and "--sampled-negatives" not in result.text, result


def test_ctrl_c_says_progress_is_saved_and_where(make_logged_in, home):
    import signal
    import time

    import subprocess
    import sys

    from login_helpers import cli_env

    # Slow answers, and the interrupt once the sandbox has answered a few of the harvest's requests:
    # it lands inside the harvest whatever the machine's load.
    sb = make_logged_in()
    sb.configure(latency_ms=300)  # after the login: its own requests need not wait
    sb.reset_stats()
    # A test run started in the background (`make test &`, nohup) ignores SIGINT, and so would every
    # process it starts: Ctrl-C is restored as a terminal would have it, then tastebot runs as usual.
    start = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "sys.argv = ['tastebot', 'harvest', '--sampled-negatives', 'never']; "
             "runpy.run_module('tastebot', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", start], env=cli_env(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and sb.stats()["total"] < 3:
        time.sleep(0.05)
    assert proc.poll() is None, "the harvest ended before the interrupt: " + proc.communicate()[1]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (sb.stats(), err)
    text = " ".join(err.split())
    assert "Traceback" not in err
    assert "saved in" in text and str(home) in "".join(err.split()), text


# -- 14. a quiet install: the licence as an SPDX expression ------------------------------------------

def test_pyproject_licence_is_an_spdx_string():
    import tomllib

    root = Path(__file__).resolve().parent.parent
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    # A table ({text = "MIT"}) makes setuptools >= 77 warn four times per install.
    assert data["project"]["license"] == "MIT"
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in data["build-system"]["requires"])


def test_no_audio_features_notice_for_a_development_app(logged_in):
    from tastebot.providers.audio_features import FeatureChain
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    result = run("harvest", "--sampled-negatives", "never", "--json")
    assert result.code == 0, result
    assert "/audio-features skipped" not in result.err  # known for this kind of app: no notice
    sources = {s["name"]: s for s in json.loads(result.out)["sources"]}
    assert sources["features:spotify"]["status"] == "skipped"  # still listed, with its reason, in the summary
    notices: list[str] = []
    settings = load_settings()
    with open_store(settings) as store:
        chain = FeatureChain(settings, store, SpotifyClient(settings), notice=notices.append)
        report = chain.fill()
    assert notices == [] and report.providers["spotify"].status == "skipped"


# -- 15. TASTEBOT_HOME pointing at a file is named as TASTEBOT_HOME ---------------------------------

@pytest.mark.parametrize("command", [["status"], ["models"], ["corpus", "status"], ["harvest"]])
def test_tastebot_home_pointing_at_a_file_names_the_variable(tmp_path, monkeypatch, command):
    target = tmp_path / "a-file"
    target.write_text("keep me", encoding="utf-8")
    monkeypatch.setenv("TASTEBOT_HOME", str(target))
    result = run(*command)
    assert result.code == 2, result
    no_traceback(result)
    assert "TASTEBOT_HOME points at a file" in result.text and "--home" not in result.text, result
    assert str(target) in "".join(result.err.split())
    assert target.read_text(encoding="utf-8") == "keep me"
    result = run("--home", str(target), *command)
    assert result.code == 2 and "--home" in result.text, result


# -- 16. wording ---------------------------------------------------------------------------------------

def test_plural_and_count_words():
    from tastebot.wording import counts, plural

    assert plural(1, "dislike list") == "1 dislike list" and plural(2, "dislike list") == "2 dislike lists"
    assert plural(1, "track") == "1 track" and plural(0, "track") == "0 tracks" and plural(1200, "track") == "1,200 tracks"
    text = counts({"likes": 215, "dislikes_explicit": 1, "dislikes_weak": 97})
    assert text == "215 likes, 1 explicit dislike, 97 sampled (weak) dislikes"


def test_harvest_words_counts_and_labels_for_people(logged_in):
    import re

    result = run("harvest", "--sampled-negatives", "always", "--json")
    assert result.code == 0, result
    for s in json.loads(result.out)["sources"]:
        assert not re.search(r"(?<![\d,])1 (tracks|dislike lists|items|new plays|artists)\b", s["detail"]), s
        assert "(s)" not in s["detail"], s
    table = run("harvest", "--sampled-negatives", "always").out
    for raw in ("feedback_saved", "sampled_random", "sampled_far", "top_short_term", "dislikes_explicit",
                "sampled_negatives", "features:spotify", "features:reccobeats"):
        assert raw not in table, (raw, table)
    assert "saved from a tastebot" in table  # (the cell wraps at 80 columns)


def test_features_import_counts_distinct_tracks_not_rows(home, tmp_path):
    a, b = "4uLU6hMCjMI75M1A2tKUQC", "7ouMYWpwJ422jRcDASZB7P"
    path = tmp_path / "f.csv"
    # The same track on many rows (one per playlist it is in, as in public datasets).
    path.write_text("track_id,energy,tempo\n" + f"{a},0.5,120\n" * 50 + f"{b},0.7,99\n", encoding="utf-8")
    result = run("features", "import", str(path), "--json")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert data["tracks"] == 2 and data["rows"] == 51 and data["values"] == 4
    result = run("features", "import", str(path))
    assert "Imported audio features of 2 tracks" in result.text and "from 51 rows" in result.text, result
    assert "values" not in result.text.split("named a track")[0], result


def test_sandbox_playlists_are_not_given_open_spotify_links(sandbox):
    from tastebot.recommend.playlist import playlist_url
    from tastebot.settings import load_settings

    answer = {"id": "P" * 22, "external_urls": {"spotify": "https://open.spotify.com/playlist/" + "P" * 22}}
    url = playlist_url(answer, "P" * 22, load_settings(spotify_url=sandbox.url))
    assert url == f"{sandbox.url}/v1/playlists/{'P' * 22}"
    assert playlist_url(answer, "P" * 22, load_settings()) == "https://open.spotify.com/playlist/" + "P" * 22


# -- 17. the README says where the command is and how the sandbox approves by itself ---------------

def test_readme_says_where_tastebot_is_and_documents_auto_approve():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    flat = " ".join(text.split())
    assert ".venv/bin/tastebot" in flat and "source .venv/bin/activate" in flat
    assert "auto_approve=1" in flat
    assert "or newer, or 3.10" not in flat and "Python 3.10 or newer" in flat


def test_auto_approve_as_the_readme_says_completes_a_login(sandbox, home):
    """`curl -sL "URL&auto_approve=1"`: a plain GET that follows redirects, no JSON Accept header."""
    import requests

    from login_helpers import free_port, read_url_line, start_cli

    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID, TASTEBOT_INSECURE_STORAGE="1")
    proc = start_cli(["login", "--no-browser", "--redirect-uri", f"http://127.0.0.1:{free_port()}/callback"], env=env)
    url = read_url_line(proc)
    answer = requests.get(url + "&auto_approve=1", timeout=10, allow_redirects=True)
    assert answer.status_code == 200
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Logged in as" in err


# -- 18. report plots a reader can read (each PNG was also looked at, rendered from `tastebot demo`) --

def _frame_with_features(n: int = 60):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(18)
    frame = pd.DataFrame({
        "track_id": [f"t{i}" for i in range(n)], "label": [i % 2 for i in range(n)],
        "danceability": rng.random(n), "energy": rng.random(n), "key": rng.integers(0, 12, n).astype(float),
        "loudness": -rng.random(n) * 20, "mode": rng.integers(0, 2, n).astype(float), "speechiness": rng.random(n),
        "acousticness": rng.random(n), "instrumentalness": rng.random(n), "liveness": rng.random(n),
        "valence": rng.random(n), "tempo": 60 + rng.random(n) * 120, "time_signature": np.nan,
    })
    return frame


def _texts(fig) -> list[str]:
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out.append(ax.get_title())
        out += [t.get_text() for t in ax.get_xticklabels()]
        legend = ax.get_legend()
        if legend:
            out += [t.get_text() for t in legend.get_texts()]
    for legend in fig.legends:
        out += [t.get_text() for t in legend.get_texts()]
    return out


def _no_overlap(fig) -> None:
    """The figure title touches no panel title."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    sup = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:
        if ax.get_visible() and ax.get_title():
            assert not sup.overlaps(ax.title.get_window_extent(renderer)), ax.get_title()
    for legend in fig.legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible() and ax.get_title():
                assert not box.overlaps(ax.title.get_window_extent(renderer)), ax.get_title()


def test_distributions_draw_mode_as_bars_and_leave_out_empty_features():
    from tastebot.report import feature_summary, plot_feature_distributions, plot_feature_means

    frame = _frame_with_features()
    fig = plot_feature_distributions(frame)
    titles = [ax.get_title().strip() for ax in fig.axes if ax.get_visible()]
    assert "time signature" not in titles and "time_signature" not in titles  # no empty panel...
    assert "no values for: time signature" in fig._suptitle.get_text()  # ...but said
    mode = next(ax for ax in fig.axes if ax.get_title().strip() == "mode")
    assert [t.get_text() for t in mode.get_xticklabels()] == ["minor", "major"]
    assert len(mode.patches) == 4  # two bars per class, not a 0..1 histogram
    assert mode.get_legend() is None and fig.legends  # one legend for the figure, not one per panel
    _no_overlap(fig)
    means = plot_feature_means(feature_summary(frame))
    assert all("time" not in ax.get_title() for ax in means.axes if ax.get_visible())
    _no_overlap(means)


def test_recommendation_scores_axis_fits_the_scores():
    from tastebot.report import plot_recommendation_scores

    entries = [{"score": 0.8 + 0.2 * i / 29, "mlp": 0.3 + 0.02 * i, "hybrid": 0.7 + 0.01 * i} for i in range(30)]
    fig = plot_recommendation_scores(entries)
    lo, hi = fig.axes[0].get_xlim()
    assert 0.75 <= lo < 0.8 and hi <= 1.0, (lo, hi)


def test_training_curves_and_tables_speak_plainly(home):
    from tastebot.report import plot_training_curves, write_report
    from tastebot.settings import load_settings

    history = [{"stage": "final", "best_epoch": 2, "epochs_run": 3, "train_rows": 80, "validation_rows": 20,
                "epochs": [{"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, "auc": 0.6 + e / 20, "val_auc": 0.6 + e / 30}
                           for e in (1, 2, 3)]},
               {"stage": "final refit", "best_epoch": 2, "epochs_run": 2, "train_rows": 100, "validation_rows": 0,
                "epochs": [{"epoch": e, "loss": 1 / e, "auc": 0.6 + e / 20} for e in (1, 2)]}]
    texts = " ".join(_texts(plot_training_curves(history)))
    assert "#" not in texts and "the network kept" in texts and "finding when to stop" in texts, texts

    run_dir = _fake_run(home)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics.update(history=history, blend={"weight": 0.3, "reason": "fitted",
                                           "details": {"ap_mlp": 0.8, "ap_hybrid": 0.9, "ap_blend": 0.91}},
                   data={"tracks": 100, "likes": 50, "dislikes": 50,
                         "by_kind": {"explicit_like": 50, "explicit_dislike": 20, "weak_dislike": 30},
                         "by_source": {"feedback_saved": {"likes": 3, "dislikes": 0}}})
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    page = write_report(load_settings()).html_path.read_text(encoding="utf-8")
    for raw in ("ap mlp", "ap_mlp", "final #", "refit #", "feedback_saved", "weak dislikes", "explicit likes"):
        assert raw not in page, raw
    assert "average precision, MLP alone" in page and "saved from a tastebot playlist" in page
    assert "sampled (weak) dislikes" in page


def test_demo_summary_is_a_result_on_stdout(capsys, tmp_path):
    from types import SimpleNamespace

    from tastebot.cli.demo import _render

    result = SimpleNamespace(
        profile="development", corpus={"playlists": 1},
        harvest={"labels": {"likes": 1, "dislikes_explicit": 1, "dislikes_weak": 2},
                 "sources": [{"name": "feedback_saved", "status": "skipped", "detail": "none yet"}]},
        metrics={"scores": {"mlp": {"roc_auc": 0.8}}, "blend": {"weight": 0.5}},
        recommendations=[{"rank": 1, "name": "Song", "artist": "A", "score": 0.9, "why": "because"}],
        hidden={"confirmed": 1, "recommended": 1, "lift": 2.0, "unheard_tracks": 10, "random_expected": 0.5},
        playlist={"url": "http://127.0.0.1:1/v1/playlists/" + "P" * 22}, seconds={"train": 1.0},
        kept_home=False, home=tmp_path)
    _render(result)
    captured = capsys.readouterr()
    text = " ".join(captured.out.split())
    assert "tastebot demo: summary" in text and "Hidden future likes confirm" in text and captured.err == ""
    assert "1 like, 1 explicit dislike, 2 sampled (weak) dislikes; corpus of 1 playlist." in text, text
    assert "skipped saved from a tastebot playlist" in text and "ROC-AUC" in text
    _render(result, as_json=True)  # stdout carries the JSON then: the summary moves to stderr
    captured = capsys.readouterr()
    assert captured.out == "" and "tastebot demo: summary" in captured.err
