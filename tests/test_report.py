"""`tastebot report` on a real trained run: the run's one trained home (conftest.trained_home: a tiny
model trained on a store harvested from the sandbox), copied where a test changes it.

Every plot file exists, is a valid PNG that decodes, and is the very image embedded in the page; every
file the page references exists; the numbers on the page are the store's and metrics.json's; data
strings are escaped; missing pieces are said on the page; no token ever reaches the report.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from cli_runner import invoke
from login_helpers import cli_env, leaks

# One worker runs these, so the other never waits on the trained home being built (--dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("report")]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXPECTED_PLOTS = {"feature_means", "feature_distributions", "training_curves", "roc_curve", "pr_curve", "provenance"}
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="session")
def rendered(trained_home, tmp_path_factory):
    """The report of the trained run, rendered once for the tests that only read it (session scope: a
    worker may run other modules' tests between these, which would tear a module fixture down)."""
    from tastebot.report import write_report

    out = tmp_path_factory.mktemp("rendered") / "r"
    return write_report(trained_home.settings, out_dir=out)


def embedded_images(page: str) -> dict[str, bytes]:
    """data-file name -> the PNG bytes embedded in the page."""
    found = {}
    for m in re.finditer(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*data-file="([^"]+)"', page):
        found[m.group(2)] = base64.b64decode(m.group(1), validate=True)
    return found


def check_png(path: Path) -> None:
    import matplotlib.image as mpimg

    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 150 and pixels.shape[1] > 150, path.name
    assert pixels[..., :3].std() > 0.01, f"{path.name} is blank"


def test_every_plot_is_a_valid_png_embedded_in_the_page(trained_home, rendered):
    rep = rendered
    out = rep.out_dir
    assert rep.run_id == trained_home.run_id and rep.html_path == out / "report.html"
    assert set(rep.plots) == EXPECTED_PLOTS
    for name, path in rep.plots.items():
        assert path == out / f"{name}.png" and path.is_file()
        check_png(path)

    page = rep.html_path.read_text(encoding="utf-8")
    embedded = embedded_images(page)
    assert set(embedded) == {f"{n}.png" for n in EXPECTED_PLOTS}
    for fname, data in embedded.items():
        assert data == (out / fname).read_bytes(), f"the page embeds another image than {fname}"
    # Every image the page shows is embedded; every file it links to exists beside it.
    srcs = re.findall(r'<img[^>]* src="([^"]+)"', page)
    assert len(srcs) == len(EXPECTED_PLOTS) and all(s.startswith("data:image/png;base64,") for s in srcs)
    for href in re.findall(r'href="([^"]+)"', page):
        assert (out / href).is_file(), f"the page links to {href}, which is not there"
    assert "no recommendations yet" in page
    assert rep.missing == ["no recommendations yet: run `tastebot recommend --create-playlist`"]


def test_the_page_shows_the_store_and_metrics_numbers(trained_home, rendered):
    import numpy as np

    from tastebot.report import PROVIDER_LABELS

    page = rendered.html_path.read_text(encoding="utf-8")
    frame = trained_home.frame
    n_like, n_dis = int((frame["label"] == 1).sum()), int((frame["label"] == 0).sum())
    assert n_like > 0 and n_dis > 0
    assert f"<b>{n_like}</b> liked and <b>{n_dis}</b> disliked" in page
    for feature in ("energy", "danceability", "tempo"):
        liked = frame.loc[frame["label"] == 1, feature].dropna().to_numpy(dtype=float)
        disliked = frame.loc[frame["label"] == 0, feature].dropna().to_numpy(dtype=float)
        row = (f"<tr><td>{feature}</td><td class=\"num\">{liked.mean():.3f}</td>"
               f"<td class=\"num\">{disliked.mean():.3f}</td><td class=\"num\">{liked.mean() - disliked.mean():.3f}</td>"
               f"<td class=\"num\">{len(liked)}</td><td class=\"num\">{len(disliked)}</td></tr>")
        assert row in page, f"the {feature} row of the means table is not the store's"
    m = trained_home.metrics
    mlp = m["scores"]["mlp"]
    assert (f"<td>MLP alone</td><td>one part of the taste model: the neural network</td>"
            f"<td class=\"num\">{mlp['accuracy']:.3f}</td>") in page
    assert np.isfinite(mlp["roc_auc"]), "a held-out run with both classes has a ROC-AUC"
    for provider, count in m["features"]["by_provider"].items():
        label = PROVIDER_LABELS.get(provider, provider)
        assert f"<tr><td>{label}</td><td class=\"num\">{count}</td></tr>" in page, provider


def test_no_token_anywhere_in_the_report(trained_home, rendered):
    files = {str(p): p.read_bytes() for p in rendered.out_dir.iterdir()}
    assert len(files) == len(EXPECTED_PLOTS) + 1
    assert leaks(trained_home.tokens, files) == []
    assert rendered.html_path.stat().st_size > 10_000


def test_data_strings_are_escaped_and_missing_pieces_said(trained_home, copy_trained, tmp_path):
    """A hostile metrics.json and no store: the page escapes every string and says what is missing."""
    from tastebot.report import write_report

    settings = copy_trained(tmp_path / "h", store=False)
    mpath = settings.models_dir / trained_home.run_id / "metrics.json"
    m = json.loads(mpath.read_text())
    m["mode_reason"] = HOSTILE
    m["blend"]["reason"] = HOSTILE
    m["ranking"] = {"used": False, "reason": HOSTILE}  # the blend, with both reasons on the page
    m["data"]["by_source"] = {HOSTILE: {"likes": 3, "dislikes": 1}}
    m["features"]["by_provider"] = {HOSTILE: 7}
    m["history"] = []  # an older metrics.json without a history
    mpath.write_text(json.dumps(m))

    rep = write_report(settings)
    assert rep.out_dir == settings.reports_dir / trained_home.run_id
    page = rep.html_path.read_text(encoding="utf-8")
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 3
    assert set(rep.plots) == {"roc_curve", "pr_curve", "provenance"}
    for path in rep.plots.values():
        check_png(path)
    assert "no store in this home" in page and "no training history" in page and "no recommendations yet" in page
    assert len(rep.missing) == 3


def test_scores_of_the_last_recommendations(trained_home, copy_trained, tmp_path):
    """A playlist recorded with its recommendations' scores (`recommendation_record`): the report plots
    their distribution and lists the best of them (names escaped)."""
    from tastebot.recommend import playlist
    from tastebot.recommend import recommendation_record
    from tastebot.report import write_report
    from tastebot.store import open_store

    settings = copy_trained(tmp_path / "h")
    ids = trained_home.frame["track_id"].tolist()[:12]
    recs = [SimpleNamespace(track_id=t, name=f"song {i}" if i else HOSTILE, artist="someone",
                            score=round(0.95 - 0.05 * i, 4), taste=round(0.9 - 0.04 * i, 4), hybrid=round(0.5 + 0.01 * i, 4))
            for i, t in enumerate(ids)]
    # As recommend records a run ranked by the learned ranking (no blend weight).
    result = SimpleNamespace(model_run=trained_home.run_id, blend_weight=None, ranking="learned",
                             blend_from=f"the learned ranking of run {trained_home.run_id}", recommendations=recs)
    with open_store(settings) as store:
        playlist.plan(store, ids, name="tastebot test", description="test", public=False,
                      details={"n": 12, **recommendation_record(result)})
    rep = write_report(settings)
    assert "recommendation_scores" in rep.plots
    check_png(rep.plots["recommendation_scores"])
    page = rep.html_path.read_text(encoding="utf-8")
    assert "no recommendations yet" not in page and rep.missing == []
    assert "12 tracks from the playlist" in page
    assert f"They were ranked by the learned ranking of run {trained_home.run_id}." in page
    assert "final (blend)" not in page and "linear blend" not in page
    assert "<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td>" in page
    assert "<script" not in page
    section = page.split("<h2>The last recommendations</h2>", 1)[1].split("<h2>", 1)[0]
    top = re.findall(r'<td class="num">(0\.\d{3})</td><td class="num">0\.\d{3}</td><td class="num">0\.\d{3}</td></tr>', section)
    assert top == [f"{r.score:.3f}" for r in recs[:10]]


def test_a_playlist_without_recorded_scores_is_scored_by_the_model(trained_home, copy_trained, tmp_path):
    """An earlier tastebot playlist whose record carries no scores: its tracks are scored now by the
    run's MLP, and the page says that is what the plot shows."""
    from tastebot.recommend import playlist
    from tastebot.report import write_report
    from tastebot.store import open_store
    from tastebot.models.runs import load_model

    settings = copy_trained(tmp_path / "h")
    ids = trained_home.frame["track_id"].tolist()[-8:]
    with open_store(settings) as store:
        row = playlist.plan(store, ids, name="tastebot old", description="old", public=False)
        store.mark_playlist_created(row, "0123456789abcdefghijkl", None)
        store.mark_tracks_added(row, range(len(ids)))
        frame = store.tracks_frame(ids)
    rep = write_report(settings)
    check_png(rep.plots["recommendation_scores"])
    page = rep.html_path.read_text(encoding="utf-8")
    assert "8 tracks from the playlist “tastebot old”, scored now by this model" in page
    expected = sorted(load_model(settings).predict(frame), reverse=True)[:8]
    section = page.split("<h2>The last recommendations</h2>", 1)[1].split("<h2>", 1)[0]
    shown = re.findall(r'<td class="num">(\d\.\d{3})</td><td class="num">—</td><td class="num">—</td></tr>', section)
    assert shown == [f"{p:.3f}" for p in expected]


def test_cli_json_open_and_errors(trained_home, copy_trained, tmp_path):
    settings = copy_trained(tmp_path / "h")
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    env = cli_env(BROWSER=f"{sys.executable} {browser} %s")
    # The CLI's own entry point, telling on exit whether TensorFlow was imported (it must not be).
    code = ("import atexit, sys\natexit.register(lambda: sys.stderr.write('\\nTF-IMPORTED=%s' % ('tensorflow' in sys.modules)))\n"
            "from tastebot.cli import main\nmain()\n")
    res = subprocess.run([sys.executable, "-c", code, "--home", str(settings.home), "report", "--json", "--open"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "TF-IMPORTED=False" in res.stderr
    data = json.loads(res.stdout)
    html_path = Path(data["html"])
    assert html_path == settings.reports_dir / trained_home.run_id / "report.html" and html_path.is_file()
    assert set(data["plots"]) == EXPECTED_PLOTS and all(Path(p).is_file() for p in data["plots"].values())
    assert opened.read_text() == html_path.resolve().as_uri()

    (tmp_path / "empty").mkdir()  # a home that does not exist at all is refused earlier (exit 3)
    res = invoke(["--home", str(tmp_path / "empty"), "report"])
    assert res.returncode == 3  # not enough data, as train and recommend say it
    assert "No trained model: run `tastebot train`" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "empty" / "reports").exists()

    res = invoke(["--home", str(settings.home), "report", "--run", "20990101T000000Z-seed0"])
    assert res.returncode == 2 and "No model run" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "afile").write_text("x")
    res = invoke(["--home", str(settings.home), "report", "--out", str(tmp_path / "afile")])
    assert res.returncode == 2 and "is a file" in res.stderr


# -- the report shows what ships (issue 25) -----------------------------------------------------------
def section(page: str, heading: str) -> str:
    """The HTML of one section of the page, from its heading to the next."""
    return page.split(heading, 1)[1].split("<h2>", 1)[0]


def test_the_taste_model_that_ships_is_tabulated_and_plotted_beside_every_baseline(trained_home, rendered):
    """The taste model recommend uses (MLP + forest), its MLP alone and every baseline: one row each on
    the test part, a curve each, and the page says which one recommend uses."""
    from tastebot.report import MODELS, plot_pr, plot_roc

    m = trained_home.metrics
    assert m["curves"]["taste"]["roc"]["fpr"], "train records the taste model's curves"
    page = rendered.html_path.read_text(encoding="utf-8")
    scores = section(page, "<h2>How good is the taste model?</h2>")
    for key, name, what in MODELS:
        s = m["scores"][key]
        row = f"<td>{name}</td><td>{html_escape(what)}</td>" + "".join(
            f'<td class="num">{s[k]:.3f}</td>' for k in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc"))
        assert row in scores, key
    assert "<td>taste model (MLP + forest)</td><td>what recommend scores tracks with" in scores
    uses = section(page, "<h2>What <code>recommend</code> uses</h2>")
    assert "To score each track: the taste model" in uses and f"<b>{m['scores']['taste']['roc_auc']:.3f}</b>" in uses

    for plot, curve, x in ((plot_roc(m["curves"], m["scores"]), "roc", "fpr"),
                           (plot_pr(m["curves"], m["scores"], 0.3), "pr", "recall")):
        lines = {line.get_label().split(":")[0]: line for line in plot.axes[0].lines}
        assert {"taste model, what recommend uses", "MLP alone (part of it)", "random forest (the other part)",
                "logistic regression"} <= set(lines)
        assert list(lines["taste model, what recommend uses"].get_xdata()) == m["curves"]["taste"][curve][x]
        assert lines["taste model, what recommend uses"].get_linewidth() > lines["MLP alone (part of it)"].get_linewidth()


RANKINGS = {
    "fusion": {"kind": "fusion", "label": "a rank fusion of the taste model and the co-occurrence",
               "validation": {"fusion": {"p_at_10": 0.41, "ap": 0.377}, "taste": {"p_at_10": 0.32, "ap": 0.301},
                              "cooc": {"p_at_10": 0.18, "ap": 0.144}},
               "checks": [], "used": True, "reason": "fused"},
    "learned": {"used": True, "likes": 40, "checks": [{"part": 0, "likes": 20, "ap_ranking": 0.611, "ap_mlp": 0.522,
                                                       "ap_hybrid": 0.133}],
                "reason": "histogram gradient boosting over the evidence"},
    "blend": {"used": False, "reason": "fewer than 8 held-out likes: the linear blend"},
}


@pytest.mark.parametrize("case", sorted(RANKINGS))
def test_the_page_describes_the_ranking_the_run_says_it_used(trained_home, copy_trained, tmp_path, case):
    """`ranking.kind`/`label`/`validation` when the run wrote them, else `ranking.used`; a run that did not
    rank by the linear blend is never described as one."""
    from tastebot.report import RANKING_WORDS, plot_recommendation_scores, write_report

    settings = copy_trained(tmp_path / "h", store=False)
    mpath = settings.models_dir / trained_home.run_id / "metrics.json"
    m = json.loads(mpath.read_text())
    m["ranking"] = RANKINGS[case]
    m["blend"]["weight"] = 0.35
    mpath.write_text(json.dumps(m))
    page = write_report(settings).html_path.read_text(encoding="utf-8")
    uses = section(page, "<h2>What <code>recommend</code> uses</h2>")
    blend_words = ("w = 0.35", "linear blend", "The blend weight", "final (blend)", "MLP counts")
    if case == "fusion":
        assert "To order the recommendations: a rank fusion of the taste model and the co-occurrence</b>" in uses
        assert ('<tr><td>rank fusion (what recommend uses)</td><td class="num">0.410</td>'
                '<td class="num">0.377</td></tr>') in uses
        assert '<tr><td>co-occurrence alone</td><td class="num">0.180</td><td class="num">0.144</td></tr>' in uses
        assert "<th>share of likes in the top 10</th><th>average precision</th>" in uses
    elif case == "learned":
        assert f"To order the recommendations: {RANKING_WORDS['learned'].replace(chr(39), '&#x27;')}</b>" in uses
        assert '<tr><td>1</td><td class="num">20</td><td class="num">0.611</td><td class="num">0.522</td>' in uses
    else:
        assert "To order the recommendations: the linear blend" in uses and '<p class="big">w = 0.35</p>' in uses
        assert "Why no learned ranking: fewer than 8 held-out likes: the linear blend." in uses
    if case != "blend":
        assert not [w for w in blend_words if w in page], "a run that did not blend is described as a blend"
    fig = plot_recommendation_scores([{"score": 0.9, "mlp": 0.8, "hybrid": 0.5}, {"score": 0.7, "mlp": 0.6, "hybrid": 0.4}])
    assert "blend" not in fig.axes[0].get_title()


def test_the_header_and_scores_give_the_test_parts_own_counts(trained_home, rendered):
    m = trained_home.metrics
    split, data = m["split"], m["data"]
    page = rendered.html_path.read_text(encoding="utf-8")
    header = page.split("<h2>", 1)[0]
    test = (f"scored on a held-out test part of {split['test']} tracks ({split['test_likes']} likes and "
            f"{split['test_dislikes']} dislikes) by {split['test_artists']} artists")
    assert test in header
    assert f"Learnt from {data['likes']} likes and {data['dislikes']} dislikes" in header
    assert (split["test_likes"], split["test_dislikes"]) != (data["likes"], data["dislikes"])
    assert m["mode_reason"] not in page, "the training totals are not the test part's"
    assert f"was {test}" in section(page, "<h2>How good is the taste model?</h2>")


def test_every_input_left_out_is_named_with_its_own_reason(trained_home, rendered):
    from tastebot.models.inputs import SOURCE_DEPENDENT_REASON
    from tastebot.report import UNUSED_WORDS

    unused = trained_home.metrics["features"]["unused"]
    assert unused, "the trained run leaves some inputs out"
    page = rendered.html_path.read_text(encoding="utf-8")
    assert "no values in training" not in page and "features.SOURCE_DEPENDENT" not in page
    table = section(page, "<h2>Where the features came from</h2>").split("Inputs the model does not read, and why:", 1)[1]
    rows = dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", table))
    shown = {name: why for names, why in rows.items() for name in names.split(", ")}
    assert set(shown) == {name.replace("_", " ") for name in unused}
    for name, why in unused.items():
        assert shown[name.replace("_", " ")] == html_escape(UNUSED_WORDS.get(why, why))
    if SOURCE_DEPENDENT_REASON in unused.values():
        assert "only some of the places tracks come from carry it" in table


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_key_is_counted_not_averaged(trained_home, rendered):
    """A key is a place on a circle: the page gives the commonest keys of the store's tracks, no mean."""
    import numpy as np

    from tastebot.report import KEY_NAMES, feature_summary

    frame = trained_home.frame
    page = rendered.html_path.read_text(encoding="utf-8")
    assert "mean pitch class" not in page
    assert "key" not in {r["feature"] for r in feature_summary(frame)}
    features = section(page, "<h2>What you like and dislike: the audio features</h2>")
    assert "<tr><td>key</td>" not in features, "the means table has a key row"
    for column, label in ((1, 1), (2, 0)):
        keys = np.round(frame.loc[frame["label"] == label, "key"].dropna().to_numpy(dtype=float)).astype(int)
        counts = np.bincount(keys[(keys >= 0) & (keys < 12)], minlength=12)
        best = int(np.argmax(counts))
        row = re.search(r"<tr><td>commonest</td><td class=\"num\">([^<]*)</td><td class=\"num\">([^<]*)</td></tr>",
                        features)
        assert row and row.group(column) == f"{KEY_NAMES[best]} ({100 * counts[best] / counts.sum():.0f} %)"


def test_the_training_curves_are_explained_in_words(trained_home, rendered):
    m = trained_home.metrics
    page = rendered.html_path.read_text(encoding="utf-8")
    training = section(page, "<h2>How the network learnt</h2>")
    assert "first fit, with a validation part" not in page and "refit on all data" not in page
    first, refit = m["history"][0], m["history"][-1]
    patience = re.search(r"patience (\d+)", m["settings"]["early_stopping"]).group(1)
    assert f"it first learns from {first['train_rows']} tracks while {first['validation_rows']} others are held back" in training
    assert f"has not improved for {patience} passes in a row, and the pass with the best ROC-AUC is kept" in training
    assert f"(the dot: pass {first['best_epoch']})" in training
    assert "so the pass is chosen by ROC-AUC, not by the loss" in training
    assert refit["stage"].endswith("refit") and "that network is the one kept" in training
    assert (f"<tr><td>2. the network kept (all tracks)</td><td class=\"num\">{refit['epochs_run']}</td>") in training
