"""Audio features for a corpus imported from ids alone (issue 24 item 2): fetched from the sandbox's
ReccoBeats over real HTTP, bounded, resumed without asking a track twice, the share reported; the
taste retriever then proposes corpus tracks whose features came only from that fetch."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

from cli_runner import invoke

from tastebot.sandbox.format import export_corpus_csv


def _ids_only_corpus(catalog: dict, dest: Path) -> Path:
    """The catalogue's corpus CSV with only playlist_id,track_id (as an MPD slice or a bare id list)."""
    full = dest.with_name("full-" + dest.name)
    export_corpus_csv(catalog, full)
    with full.open(encoding="utf-8") as src, dest.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["playlist_id", "track_id"])
        for row in csv.DictReader(src):
            writer.writerow([row["playlist_id"], row["track_id"]])
    return dest


def _corpus_ids(catalog: dict) -> tuple[set[str], set[str]]:
    """(every corpus track, those ReccoBeats can answer with features the taste model reads: a few
    of the catalogue's tracks have only some features, danceability missing)."""
    listener = catalog["listener"]["user_id"]
    ids = {t for p in catalog["playlists"] if p["owner_id"] != listener for t in p["track_ids"]}
    features = catalog.get("audio_features", {})
    return ids, {t for t in ids if (features.get(t) or {}).get("danceability") is not None}


def _reccobeats_requests(sb) -> dict:
    return dict(sb.stats()["requests"].get("GET /reccobeats/v1/audio-features", {}))


def _features(*args: str) -> tuple[int, dict]:
    res = invoke(["corpus", "features", "--json", *args])
    return res.code, (json.loads(res.out) if res.out.strip() else {})


def test_ids_alone_corpus_gets_features_bounded_resumed_never_asked_twice(sandbox, home, tmp_path, monkeypatch):
    import tastebot.sandbox.faults as faults

    monkeypatch.setattr(faults, "RATE_WINDOW_S", 2.0)
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sandbox.url)  # ReccoBeats is served beside it
    corpus = _ids_only_corpus(sandbox.catalog, tmp_path / "corpus.csv")
    assert invoke(["corpus", "import", str(corpus)]).code == 0
    tracks, knowable = _corpus_ids(sandbox.catalog)
    assert len(tracks) > 200 and len(knowable) < len(tracks)  # some the provider does not know

    # Bounded: two requests, 80 tracks, the rest left for later.
    code, first = _features("--max-requests", "2")
    assert code == 0
    assert (first["requests"], first["asked"]) == (2, 80)
    assert first["tracks"] == len(tracks) and first["left"] > 0 and 0 < first["share"] < 0.5
    assert _reccobeats_requests(sandbox) == {"200": 2}

    # Interrupted by ReccoBeats' own rate limit (longer than --max-wait): exit 75, progress saved.
    sandbox.configure(reccobeats_rate_limit=3, retry_after=3600)
    code, second = _features("--max-wait", "0")
    assert code == 75
    assert second["asked"] == 3 * 40 and second["stopped"].startswith("rate limit")
    sandbox.configure(reccobeats_rate_limit=None, retry_after=1)

    # Resumed: the rest, each track asked once over the three runs.
    code, third = _features()
    assert code == 0 and third["left"] == 0 and third["stopped"] is None
    assert first["asked"] + second["asked"] + third["asked"] == len(tracks)
    assert third["with_features"] == len(knowable) and third["unknown"] == len(tracks) - len(knowable)
    assert third["share"] == round(len(knowable) / len(tracks), 4)
    status = json.loads(invoke(["corpus", "status", "--json"]).out)
    assert (status["tracks"], status["with_features"]) == (len(tracks), len(knowable))

    # Nothing new: nothing asked, the unknown ones remembered.
    before = _reccobeats_requests(sandbox)
    code, fourth = _features()
    assert code == 0 and (fourth["asked"], fourth["requests"]) == (0, 0)
    assert _reccobeats_requests(sandbox) == before

    # A month later the tracks ReccoBeats did not know are asked again, and only they (not the few it
    # knew only in part: asking again would not help).
    with sqlite3.connect(home / "tastebot.db") as db:
        db.execute("UPDATE feature_attempts SET attempted_at = '2020-01-01T00:00:00.000Z'")
    code, later = _features()
    unknown = {t for t in tracks if not sandbox.catalog["audio_features"].get(t)}
    assert code == 0 and later["asked"] == len(unknown) > 0


def test_harvest_covers_the_corpus_within_its_bound(logged_in, tmp_path):
    sb = logged_in
    corpus = _ids_only_corpus(sb.catalog, tmp_path / "corpus.csv")
    assert invoke(["corpus", "import", str(corpus)]).code == 0
    tracks, knowable = _corpus_ids(sb.catalog)

    res = invoke(["harvest", "--corpus-feature-requests", "1", "--json"])
    assert res.code == 0, res.err
    bounded = json.loads(res.out)["corpus_features"]
    # The library's own tracks (some are in the corpus too) got theirs first; then one request's 40.
    assert bounded["requests"] == 1 and bounded["asked"] == 40 and bounded["tracks"] == len(tracks)
    assert bounded["left"] == len(tracks) - bounded["with_features"] - bounded["unknown"] > 0
    assert "left for the next run" in next(s["detail"] for s in json.loads(res.out)["sources"]
                                           if s["name"] == "features:corpus")

    res = invoke(["harvest", "--json"])
    assert res.code == 0, res.err
    full = json.loads(res.out)["corpus_features"]
    assert full["asked"] == bounded["left"] and full["left"] == 0
    assert full["with_features"] == len(knowable)
    assert "Corpus audio features: 419 of 434 tracks (96.5 %)" in res.text


def _taste_picks(settings_home: Path, per_source: int = 60) -> tuple[dict, set[str]]:
    res = invoke(["--home", str(settings_home), "recommend", "--offline", "-n", "50", "--per-source", str(per_source),
                  "--allow-repeats", "--json"])
    assert res.code == 0, res.err
    data = json.loads(res.out)
    return data, {r["track_id"] for r in data["recommendations"] if "taste" in r["sources"]}


def test_taste_retriever_proposes_tracks_whose_features_came_from_the_fetch(copy_trained, trained_home, make_sandbox,
                                                                           tmp_path, monkeypatch):
    from worlds import TRAINED_WORLD

    settings = copy_trained()
    sb = make_sandbox(profile="development", **TRAINED_WORLD)  # the trained home's catalogue
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sb.url)
    corpus = _ids_only_corpus(sb.catalog, tmp_path / "corpus.csv")
    assert invoke(["--home", str(settings.home), "corpus", "import", str(corpus)]).code == 0
    tracks, _ = _corpus_ids(sb.catalog)

    db_path = settings.home / "tastebot.db"

    def with_features() -> set[str]:
        with sqlite3.connect(db_path) as db:
            assert not db.execute("SELECT 1 FROM corpus_tracks WHERE danceability IS NOT NULL").fetchall()
            return {r[0] for r in db.execute("SELECT track_id FROM features WHERE feature = 'danceability'")}

    # Before: only the corpus tracks the harvest fetched as library tracks have features.
    had = with_features() & tracks
    data, before = _taste_picks(settings.home)
    share = 100 * len(had) / len(tracks)
    assert data["sources"]["taste"].startswith(f"scored ") and f"of {len(tracks):,} corpus tracks ({share:.1f} %" \
        in data["sources"]["taste"]
    assert before <= had

    assert invoke(["--home", str(settings.home), "corpus", "features"]).code == 0
    fetched = (with_features() & tracks) - had
    data, after = _taste_picks(settings.home)
    assert after & fetched, data["sources"]  # the taste retriever now proposes tracks only the fetch made scorable
    assert after <= had | fetched
    assert "corpus tracks (9" in data["sources"]["taste"]  # 96.5 % of them now


def test_a_large_corpus_is_scored_at_train_time_and_recommend_reads_its_top(copy_trained, make_sandbox, tmp_path,
                                                                           monkeypatch):
    """What `train` saves on a corpus larger than the shortlist, recommend scores alone (here the
    shortlist is made small, on the trained home's model, without training again)."""
    from worlds import TRAINED_WORLD

    from tastebot.models.runs import TASTE_CORPUS, load_model
    from tastebot.recommend.retrievers.taste import scan_corpus_taste
    from tastebot.store import open_store

    settings = copy_trained()
    sb = make_sandbox(profile="development", **TRAINED_WORLD)
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sb.url)
    corpus = _ids_only_corpus(sb.catalog, tmp_path / "corpus.csv")
    assert invoke(["--home", str(settings.home), "corpus", "import", str(corpus)]).code == 0
    assert invoke(["--home", str(settings.home), "corpus", "features"]).code == 0
    model = load_model(settings)
    with open_store(settings) as store:
        scan = scan_corpus_taste(store, model, store.known_track_ids(), keep=25)
    assert scan is not None and len(scan["track_ids"]) == 25 and scan["scored"] > 25
    (model.run_dir / TASTE_CORPUS).write_text(json.dumps({**scan, "run_id": model.run_id}))

    data, picks = _taste_picks(settings.home)
    assert picks and picks <= set(scan["track_ids"])
    assert f"at train time (run {model.run_id}), which kept its top 25" in data["sources"]["taste"]
    # The saved order is the model's own: with 5 a retriever, the taste candidates are the saved first 5.
    data, picks = _taste_picks(settings.home, per_source=5)
    assert data["candidates"]["taste"] == 5 and picks and picks <= set(scan["track_ids"][:5])


def test_sandbox_reccobeats_serves_corpus_tracks_with_its_real_limits(sandbox):
    """By Spotify id, matched by `href`, 40 ids a call (41 is a 400), and a rate limit of its own:
    429 with Retry-After in Spring's error shape, counted apart from Spotify's."""
    from sandbox_http import api_call, pkce_login

    tracks, knowable = _corpus_ids(sandbox.catalog)
    ids = sorted(tracks)
    status, body, _ = api_call(sandbox.url, "GET", "/reccobeats/v1/audio-features?ids=" + ",".join(ids[:40]))
    assert status == 200
    served = {e["href"].rsplit("/", 1)[-1]: e for e in body["content"]}
    assert set(served) == {t for t in ids[:40] if sandbox.catalog["audio_features"].get(t)}
    t = next(iter(set(served) & knowable))
    assert served[t]["danceability"] == sandbox.catalog["audio_features"][t]["danceability"]
    assert api_call(sandbox.url, "GET", "/reccobeats/v1/audio-features?ids=" + ",".join(ids[:41]))[0] == 400

    token = pkce_login(sandbox.url)
    sandbox.configure(reccobeats_rate_limit=2, retry_after=7)
    assert [api_call(sandbox.url, "GET", f"/reccobeats/v1/audio-features?ids={ids[i]}")[0] for i in range(2)] == [200] * 2
    status, body, headers = api_call(sandbox.url, "GET", f"/reccobeats/v1/audio-features?ids={ids[2]}")
    assert status == 429 and headers["Retry-After"] == "7"
    assert body["status"] == 429 and body["path"] == "/v1/audio-features" and "error" in body
    assert api_call(sandbox.url, "GET", "/v1/me", token)[0] == 200  # Spotify's own limit is untouched
