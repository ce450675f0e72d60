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
    assert f"w = {m['blend']['weight']:.2f}" in page
    mlp = m["scores"]["mlp"]
    assert f"<td>MLP (tastebot)</td><td class=\"num\">{mlp['accuracy']:.3f}</td>" in page
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
                            score=round(0.95 - 0.05 * i, 4), mlp=round(0.9 - 0.04 * i, 4), hybrid=round(0.5 + 0.01 * i, 4))
            for i, t in enumerate(ids)]
    result = SimpleNamespace(model_run=trained_home.run_id, blend_weight=0.4, blend_from="test", recommendations=recs)
    with open_store(settings) as store:
        playlist.plan(store, ids, name="tastebot test", description="test", public=False,
                      details={"n": 12, **recommendation_record(result)})
    rep = write_report(settings)
    assert "recommendation_scores" in rep.plots
    check_png(rep.plots["recommendation_scores"])
    page = rep.html_path.read_text(encoding="utf-8")
    assert "no recommendations yet" not in page and rep.missing == []
    assert "12 tracks from the playlist" in page
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

    res = invoke(["--home", str(tmp_path / "empty"), "report"])
    assert res.returncode == 3  # not enough data, as train and recommend say it
    assert "No trained model: run `tastebot train`" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "empty" / "reports").exists()

    res = invoke(["--home", str(settings.home), "report", "--run", "20990101T000000Z-seed0"])
    assert res.returncode == 2 and "No model run" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "afile").write_text("x")
    res = invoke(["--home", str(settings.home), "report", "--out", str(tmp_path / "afile")])
    assert res.returncode == 2 and "is a file" in res.stderr
