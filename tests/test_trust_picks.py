"""Issue 25: what `recommend` says about its picks. Fewer picks than `-n` are said, exactly, with
the reason (item 3); names that are not names never show (item 8)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from cli_runner import invoke

from tastebot.recommend.pick import select, shortfall


def _tid(prefix: str, i: int) -> str:
    return (prefix + str(i)).ljust(22, "x")[:22]


def _corpus_csv(path, likes: list[str], *, artists: list[str], energy: list[float] | None = None,
                names: bool = True) -> list[str]:
    """Playlists that each hold three likes and the new tracks (their artist ids given): every new
    track shares playlists with the likes, so the corpus retrievers find them all."""
    new = [_tid("New", i) for i in range(len(artists))]
    cols = ["playlist_id", "track_id"] + (["track_name", "track_artist", "artist_id"] if names else [])
    cols += ["energy"] if energy is not None else []
    rows = []
    for p in range(4):
        for t in likes[3 * p:3 * p + 3]:
            rows.append([f"pl{p}", t] + (["", "", ""] if names else []) + ([""] if energy is not None else []))
        for i, t in enumerate(new):
            rows.append([f"pl{p}", t] + ([f"New song {i}", f"Artist {artists[i]}", _tid("Art", int(artists[i]))]
                                         if names else []) + ([str(energy[i])] if energy is not None else []))
    path.write_text(",".join(cols) + "\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return new


@pytest.fixture
def corpus_home(copy_trained, tmp_path, monkeypatch):
    """A copy of the trained home with a corpus whose 20 new tracks are by 4 artists (10, 6, 3, 1
    tracks), half of them energetic; its settings."""
    from tastebot.imports.corpus import import_corpus
    from tastebot.store import open_store

    settings = copy_trained()
    monkeypatch.setenv("TASTEBOT_HOME", str(settings.home))
    with open_store(settings) as store:
        frame = store.labelled_tracks()
        likes = frame[pd.to_numeric(frame["label"], errors="coerce") == 1]["track_id"].tolist()[:12]
        artists = ["1"] * 10 + ["2"] * 6 + ["3"] * 3 + ["4"]
        energy = [0.9 if i % 2 == 0 else 0.1 for i in range(20)]
        _corpus_csv(tmp_path / "c.csv", likes, artists=artists, energy=energy)
        import_corpus(store, [tmp_path / "c.csv"])
    return settings


def _said(text: str) -> tuple[int, int]:
    m = re.search(r"(\d+) tracks instead of (\d+)", text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


def test_fewer_picks_than_asked_are_said_exactly(corpus_home):
    """-n 1000 over 20 candidates by 4 artists: 2 + 2 + 2 + 1 = 7 picks with the default cap of 2, and the
    warning (stderr and --json) says 7 of 1000, the 20 candidates and the 13 the cap left out."""
    result = invoke(["recommend", "--offline", "-n", "1000", "--json"])
    assert result.code == 0, result
    data = json.loads(result.out)
    recs = data["recommendations"]
    assert len(recs) == 7
    said = [w for w in data["warnings"] if "instead of" in w]
    assert len(said) == 1, data["warnings"]
    assert _said(said[0]) == (7, 1000)
    assert "only 20 candidates" in said[0] and "13 of them are by artists that already have 2 picks" in said[0]
    assert "7 tracks instead of 1000" in result.text
    # No cap: all 20, and the warning says there were no more.
    data = json.loads(invoke(["recommend", "--offline", "-n", "1000", "--max-per-artist", "0", "--json"]).out)
    assert len(data["recommendations"]) == 20
    said = [w for w in data["warnings"] if "instead of" in w]
    assert _said(said[0]) == (20, 1000) and "already have" not in said[0]
    # Enough candidates: nothing said.
    data = json.loads(invoke(["recommend", "--offline", "-n", "5", "--json"]).out)
    assert len(data["recommendations"]) == 5 and not [w for w in data["warnings"] if "instead of" in w]


def test_steering_shortfall_counts_what_was_picked(corpus_home):
    """--energy 0.5-1 leaves 10 of 20 candidates (5, 3, 2, 0 by artist), of which the cap of 2 keeps 6: the warning
    says 6, not the 10 that fit (it once said "at most 10" and gave fewer)."""
    result = invoke(["recommend", "--offline", "-n", "30", "--energy", "0.5-1", "--json"])
    assert result.code == 0, result
    data = json.loads(result.out)
    assert len(data["recommendations"]) == 6
    said = [w for w in data["warnings"] if "instead of" in w or "at most" in w]
    assert len(said) == 1, data["warnings"]
    assert _said(said[0]) == (6, 30) and "only 10 candidates fit the steering (of 20; energy 0.5-1: 10 fit" in said[0]


def test_a_huge_n_is_bad_input(corpus_home):
    for n in ("100000000000000000000", "10001"):
        result = invoke(["recommend", "--offline", "-n", n])
        assert result.code == 2, result
        assert "Traceback" not in result.err and "-n must be between 1 and 10,000" in result.text


def test_diverse_picks_go_past_a_pool_of_capped_artists():
    """With --diversity the picks come from the best 10 n candidates; when the per-artist cap empties
    that pool, the rest of the candidates are still used, not fewer picks returned."""
    frame = pd.DataFrame({"track_id": [f"t{i:02d}" for i in range(30)],
                          "primary_artist_id": ["a"] * 20 + [f"b{i}" for i in range(10)]})
    scores = np.linspace(1.0, 0.0, 30)
    picks = select(frame, scores, 2, max_per_artist=1, diversity=0.5)
    assert len(picks) == 2 and picks[0] == 0 and picks[1] == 20
    assert shortfall(frame, picks, 2, 1) is None
    short = shortfall(frame, select(frame, scores, 12, max_per_artist=1), 12, 1)
    assert short == {"asked": 12, "picked": 11, "candidates": 30, "artist_capped": 19}


# -- item 8: names that are not names ----------------------------------------------------------------

def test_picks_of_a_corpus_of_ids_alone_get_real_names_or_none(copy_trained, make_logged_in, home, tmp_path):
    """A corpus imported from playlist and track ids alone: the picks once showed the artist as "nan" and
    "why" named corpus playlists by their ids. Offline the names are left out (the link shows) and said;
    online they are read from Spotify for the picks only, kept in the store, and the next offline run
    has them."""
    from worlds import TRAINED_WORLD

    from tastebot.imports.corpus import import_corpus
    from tastebot.store import open_store

    settings = copy_trained(dest=home)
    sb = make_logged_in(**TRAINED_WORLD)
    catalog = {t["id"]: t for t in sb.catalog["tracks"]}
    with open_store(settings) as store:
        frame = store.labelled_tracks()
        likes = frame[pd.to_numeric(frame["label"], errors="coerce") == 1]["track_id"].tolist()[:12]
        known = set(frame["track_id"]) | set(store.signal_track_ids())
    unheard = [t for t in catalog if t not in known][:8]
    csv = tmp_path / "ids.csv"
    csv.write_text("playlist_id,track_id\n" + "".join(
        f"zpPDMT9gdeCgMe7NQOLsT{p},{t}\n" for p in range(4) for t in likes[3 * p:3 * p + 3] + unheard),
        encoding="utf-8")
    with open_store(settings) as store:
        import_corpus(store, [csv])

    def run(*extra):
        result = invoke(["recommend", "-n", "5", "--no-search", "--no-albums", "--no-discovery", "--json", *extra])
        assert result.code == 0, result
        return result, json.loads(result.out)

    offline, data = run("--offline")
    corpus_picks = [r for r in data["recommendations"] if r["track_id"] in unheard]
    assert corpus_picks, data["recommendations"]
    for r in data["recommendations"]:
        assert "nan" not in (r["name"], r["artist"]) and "zpPDMT9gdeCgMe7NQOLsT" not in r["why"], r
        assert not any("zpPDMT9gdeCgMe7NQOLsT" in n for n in r["shared_playlist_names"])
    assert all(r["name"] == "" and r["artist"] == "" for r in corpus_picks)
    assert any("have no title or artist name in the corpus and --offline" in w for w in data["warnings"])
    table = invoke(["recommend", "-n", "5", "--offline"])
    assert "nan" not in table.out.split() and f"open.spotify.com/track/{corpus_picks[0]['track_id']}" in table.out

    online, data = run()
    for r in data["recommendations"]:
        want = catalog.get(r["track_id"])
        if want is not None and r["track_id"] in unheard:
            assert r["name"] == want["name"], r
            assert r["artist"] and r["artist"] != "nan"
    assert not [w for w in data["warnings"] if "no title or artist" in w]
    # Kept in the store: offline now shows them too.
    _, again = run("--offline")
    named = {r["track_id"]: (r["name"], r["artist"]) for r in data["recommendations"]}
    for r in again["recommendations"]:
        if r["track_id"] in named:
            assert (r["name"], r["artist"]) == named[r["track_id"]], r
    assert not [w for w in again["warnings"] if "no title or artist" in w and "5 of" in w]
