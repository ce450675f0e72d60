"""Living with tastebot (issue 15): a playlist refreshed in place, exclusions, no repeats, steering.

Every test here runs the real commands against the sandbox (seed 7, 600 tracks: the catalogue the
shared trained home was harvested from), on a private copy of that trained home."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_runner import invoke
from worlds import TRAINED_WORLD


@pytest.fixture
def living(make_logged_in, trained_home, home):
    """A logged-in development sandbox of the trained home's world, and that home's store and model
    runs in this home."""
    sb = make_logged_in(**TRAINED_WORLD)
    shutil.copytree(trained_home.home / "models", home / "models")
    shutil.copy2(trained_home.home / "tastebot.db", home / "tastebot.db")
    return sb


def _playlist(sb, pid: str) -> dict:
    return next(p for p in sb.snapshot()["playlists"] if p["id"] == pid)


def _recommend(*args: str) -> dict:
    res = invoke(["recommend", "--json", *args])
    assert res.returncode == 0, res.stderr[-1500:]
    return json.loads(res.stdout)


def test_refresh_keeps_the_id_and_puts_the_new_picks_in(living):
    sb = living
    first = _recommend("-n", "12", "--create-playlist", "--name", "weekly")
    pid = first["playlist"]["spotify_id"]
    assert _playlist(sb, pid)["track_ids"] == [r["track_id"] for r in first["recommendations"]]
    ids_before = {p["id"] for p in sb.snapshot()["playlists"]}
    for _ in range(2):
        again = _recommend("-n", "12", "--update-playlist", "weekly")
        picks = [r["track_id"] for r in again["recommendations"]]
        assert again["playlist"]["spotify_id"] == pid
        assert _playlist(sb, pid)["track_ids"] == picks  # the new picks, in order, nothing else
        assert {p["id"] for p in sb.snapshot()["playlists"]} == ids_before  # no second playlist
    puts = sb.stats()["requests"].get("PUT /v1/playlists/{id}/items", {})
    assert sum(v for k, v in puts.items() if k.startswith("2")) == 2
    items = _playlist(sb, pid)["track_ids"]
    dry = invoke(["recommend", "-n", "12", "--update-playlist", "weekly", "--dry-run"])
    assert dry.returncode == 0 and "would replace the items of “weekly” with 12 tracks" in dry.text, dry.stderr
    assert _playlist(sb, pid)["track_ids"] == items
    assert sum(sb.stats()["requests"]["PUT /v1/playlists/{id}/items"].values()) == 2
    for bad in (["--update-playlist", "weekly", "--create-playlist"], ["--update-playlist", "weekly", "--name", "x"],
                ["--update-playlist", "weekly", "--offline"]):
        res = invoke(["recommend", *bad])
        assert res.returncode == 2 and len(res.err.strip().splitlines()) == 1, (bad, res.stderr)


def test_update_playlist_refuses_what_tastebot_did_not_make(living):
    sb = living
    theirs = next(p for p in sb.snapshot()["playlists"] if "[tastebot:" not in (p.get("description") or ""))
    before = _playlist(sb, theirs["id"])["track_ids"]
    for ref, says in ((f"spotify:playlist:{theirs['id']}", "was not made by tastebot"),
                      ("no such list", "No playlist tastebot made is named")):
        res = invoke(["recommend", "--update-playlist", ref])
        assert res.returncode == 2, res.stderr
        assert says in res.text and "Traceback" not in res.stderr
        assert len(res.err.strip().splitlines()) == 1
    assert _playlist(sb, theirs["id"])["track_ids"] == before
    assert not sb.stats()["requests"].get("PUT /v1/playlists/{id}/items")


def test_removed_old_items_stay_dislikes_and_saved_ones_likes_after_a_refresh(living):
    from datetime import datetime, timedelta, timezone

    from tastebot.settings import load_settings
    from tastebot.store import open_store

    sb = living
    st = sb.state
    first = _recommend("-n", "8", "--create-playlist", "--name", "weekly")
    pid = first["playlist"]["spotify_id"]
    old = [r["track_id"] for r in first["recommendations"]]
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with st.lock:  # the listener removes one track and saves another
        p = st.playlists[pid]
        p.entries = [e for e in p.entries if e["track_id"] != old[0]]
        p.changed()
        st.saved.insert(0, (old[1], later))
    _recommend("-n", "8", "--update-playlist", f"https://open.spotify.com/playlist/{pid}")
    assert not set(_playlist(sb, pid)["track_ids"]) & set(old)
    res = invoke(["harvest", "--sampled-negatives", "never"])
    assert res.returncode == 0, res.stderr
    with open_store(load_settings(), readonly=True) as s:
        assert s.signal_track_ids("feedback_removed") == {old[0]}
        assert s.signal_track_ids("feedback_saved") == {old[1]}
        labels = s.labelled_tracks().set_index("track_id")
    assert labels.loc[old[0], "label"] == 0 and labels.loc[old[1], "label"] == 1
    assert not set(old[2:]) & set(labels.index)  # replaced, not removed by the listener: no signal


KILLER = """
import os, signal, sys
from tastebot.recommend import playlist as pl
from tastebot.settings import load_settings
from tastebot.spotify.client import SpotifyClient
from tastebot.store import open_store

def hook(kind, n):
    if kind == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)

settings = load_settings()
with open_store(settings) as store:
    pl.refresh_playlist(store, SpotifyClient(settings), "weekly", sys.argv[2].split(","), description="refresh",
                        on_request=hook)
"""


def test_a_refresh_killed_after_the_replace_is_finished_by_the_next_run(living, tmp_path):
    import signal
    import subprocess
    import sys

    sb = living
    first = _recommend("-n", "10", "--create-playlist", "--name", "weekly")
    pid = first["playlist"]["spotify_id"]
    old = {r["track_id"] for r in first["recommendations"]}
    heard = {s["track_id"] for s in sb.catalog["listener"]["saved_tracks"]} | old
    new = [t["id"] for t in sb.catalog["tracks"] if t["id"] not in heard][:150]
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    proc = subprocess.run([sys.executable, str(script), "replace", ",".join(new)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _playlist(sb, pid)["track_ids"] == new[:100]  # replaced, the rest not added yet

    res = invoke(["recommend", "--update-playlist", "weekly", "--json"])
    assert res.returncode == 0, res.stderr
    assert "Finished the playlist" in res.stderr
    assert json.loads(res.stdout)["resumed_playlists"][0]["spotify_id"] == pid
    assert _playlist(sb, pid)["track_ids"] == new  # the one run's picks, in order, none twice
    assert sum(sb.stats()["requests"].get("PUT /v1/playlists/{id}/items", {}).values()) == 1


@pytest.mark.slow
def test_the_refresh_command_killed_mid_way_then_rerun(living):
    """`tastebot recommend --update-playlist` SIGKILLed as soon as the sandbox has seen its replace
    (writes slowed down: the answer may or may not have been recorded), then run again."""
    import signal
    import time

    from login_helpers import start_cli

    from tastebot.settings import load_settings
    from tastebot.store import open_store

    sb = living
    first = _recommend("-n", "10", "--create-playlist", "--name", "weekly")
    pid = first["playlist"]["spotify_id"]
    adds_before = sum(sb.stats()["requests"]["POST /v1/playlists/{id}/items"].values())
    sb.configure(write_latency_ms=150)
    proc = start_cli(["recommend", "-n", "120", "--max-per-artist", "0", "--blend", "0", "--update-playlist", "weekly"])
    deadline = time.monotonic() + 240
    try:
        while not sb.stats()["requests"].get("PUT /v1/playlists/{id}/items"):
            assert proc.poll() is None, "the command ended before its replace"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    sb.configure(write_latency_ms=0)
    adds = sum(sb.stats()["requests"]["POST /v1/playlists/{id}/items"].values())
    assert adds == adds_before, "the kill must land before the add"
    with open_store(load_settings(), readonly=True) as s:
        planned = [p["track_id"] for p in s.planned_tracks(s.output_playlists()[0]["id"])]
    assert len(planned) == 120

    res = invoke(["recommend", "--update-playlist", "weekly"])
    assert res.returncode == 0, res.stderr
    items = _playlist(sb, pid)["track_ids"]
    assert items == planned and len(set(items)) == 120
    assert len([p for p in sb.snapshot()["playlists"] if p["name"] == "weekly"]) == 1


# -- exclusions ------------------------------------------------------------------------------------

def _artists_of(track_ids) -> dict[str, set[str]]:
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    with open_store(load_settings(), readonly=True) as s:
        frame = s.tracks_frame(sorted(set(track_ids)))
    return {r.track_id: {a for a in str(r.artist_ids or "").split(",") if a} for r in frame.itertuples()}


@pytest.mark.slow
def test_excluded_artists_and_tracks_never_come_back_over_many_runs(living):
    plain = _recommend("-n", "30")
    recs = plain["recommendations"]
    artists = list(dict.fromkeys(r["artist_id"] for r in recs))[:3]
    track = next(r for r in recs if r["artist_id"] not in artists)["track_id"]
    res = invoke(["exclude", "add", *(f"spotify:artist:{a}" for a in artists[:2]),
                  f"https://open.spotify.com/artist/{artists[2]}?si=x", f"https://open.spotify.com/track/{track}",
                  "--json"])
    assert res.returncode == 0, res.stderr
    assert [c["changed"] for c in json.loads(res.stdout)["changes"]] == [True] * 4
    again = invoke(["exclude", "add", artists[0], "--kind", "artist"])
    assert again.returncode == 0 and "already excluded" in again.text
    listed = json.loads(invoke(["exclude", "list", "--json"]).stdout)["exclusions"]
    assert {(e["kind"], e["spotify_id"]) for e in listed} == {("artist", a) for a in artists} | {("track", track)}
    assert all(e["name"] for e in listed)  # named from the store

    runs = [(), ("--blend", "0"), ("--blend", "1"), ("--diversity", "0.6"), ("--max-per-artist", "0", "-n", "80"),
            ("--new-artists-only",), ("--create-playlist", "--name", "excl"), ("--update-playlist", "excl"),
            ("--update-playlist", "excl", "--allow-repeats")]
    seen = []
    for args in runs:
        out = _recommend(*args)
        assert out["recommendations"], args
        seen += [r["track_id"] for r in out["recommendations"]]
    assert track not in seen
    credited = _artists_of(seen)
    assert not [t for t in seen if credited[t] & set(artists)]  # not even featured
    assert out["removed"].get("excluded artist", 0) > 0


def test_exclude_bad_input_and_remove(living):
    for args in (["exclude", "add", "not-an-id"], ["exclude", "add", "spotify:album:4uLU6hMCjMI75M1A2tKUQC"],
                 ["exclude", "add", "spotify:track:4uLU6hMCjMI75M1A2tKUQC", "--kind", "artist"],
                 ["exclude", "add", "short", "--kind", "track"]):
        res = invoke(args)
        assert res.returncode == 2, (args, res.stderr)
        assert "Traceback" not in res.stderr and len(res.err.strip().splitlines()) == 1
    assert json.loads(invoke(["exclude", "list", "--json"]).stdout) == {"exclusions": []}  # nothing half-added
    ref = "spotify:track:4uLU6hMCjMI75M1A2tKUQC"
    assert invoke(["exclude", "add", ref]).returncode == 0
    res = invoke(["exclude", "remove", ref, "--json"])
    assert res.returncode == 0 and json.loads(res.stdout)["changes"][0]["changed"] is True
    assert "was not excluded" in invoke(["exclude", "remove", ref]).text


def test_an_excluded_playlist_teaches_nothing(living):
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    sb = living
    listener = sb.catalog["listener"]["user_id"]
    with open_store(load_settings(), readonly=True) as s:
        own = [p for p in s.playlists("own") if s.signal_track_ids("own_playlist", context=p["id"])]
    assert own and all(p["owner_id"] == listener for p in own)
    pid = own[0]["id"]
    res = invoke(["exclude", "add", f"spotify:playlist:{pid}"])
    assert res.returncode == 0, res.stderr
    with open_store(load_settings(), readonly=True) as s:
        assert s.signal_track_ids("own_playlist", context=pid) == set()  # dropped at once
    res = invoke(["harvest", "--json"])
    assert res.returncode == 0, res.stderr
    detail = next(x for x in json.loads(res.stdout)["sources"] if x["name"] == "playlists")["detail"]
    assert "1 excluded playlist skipped" in detail
    with open_store(load_settings(), readonly=True) as s:
        assert s.signal_track_ids("own_playlist", context=pid) == set()  # and the harvest did not bring it back
        assert s.signal_track_ids("own_playlist", context=own[1]["id"]) if len(own) > 1 else True


# -- no repeats ------------------------------------------------------------------------------------

def test_no_track_repeats_within_the_window(living, monkeypatch):
    picks = [r["track_id"] for r in _recommend("-n", "15", "--create-playlist", "--name", "weekly")["recommendations"]]
    for _ in range(3):
        picks += [r["track_id"] for r in _recommend("-n", "15", "--update-playlist", "weekly")["recommendations"]]
    assert len(picks) == 60 and len(set(picks)) == 60
    first = set(picks[:15])
    # --allow-repeats, or a window of 0 days: the first week's picks, still the best, come back
    again = {r["track_id"] for r in _recommend("-n", "15", "--allow-repeats")["recommendations"]}
    assert len(again & first) >= 8, (again, first)
    monkeypatch.setenv("TASTEBOT_REPEAT_WINDOW_DAYS", "0")
    assert {r["track_id"] for r in _recommend("-n", "15")["recommendations"]} == again


def test_the_window_ends_after_n_days(living):
    from datetime import datetime, timedelta, timezone

    from tastebot.known import Known
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    picks = {r["track_id"] for r in _recommend("-n", "10", "--create-playlist")["recommendations"]}
    now = datetime.now(timezone.utc)
    with open_store(load_settings(), readonly=True) as s:
        assert Known.from_store(s, repeat_days=30, now=now + timedelta(days=29)).recent_picks == picks
        assert Known.from_store(s, repeat_days=30, now=now + timedelta(days=31)).recent_picks == set()
        assert Known.from_store(s, repeat_days=7, now=now + timedelta(days=8)).recent_picks == set()
        assert Known.from_store(s, repeat_days=30, allow_repeats=True).recent_picks == set()


# -- steering --------------------------------------------------------------------------------------

def _features(track_ids, *cols) -> "pd.DataFrame":
    from tastebot.settings import load_settings
    from tastebot.store import open_store

    with open_store(load_settings(), readonly=True) as s:
        return s.tracks_frame(list(track_ids)).set_index("track_id")[list(cols)]


def test_mood_calm_lowers_the_mean_energy(living):
    plain = [r["track_id"] for r in _recommend("-n", "30")["recommendations"]]
    res = invoke(["recommend", "-n", "30", "--mood", "calm", "--json"])
    assert res.returncode == 0, res.stderr
    calm_out = json.loads(res.stdout)
    calm = [r["track_id"] for r in calm_out["recommendations"]]
    assert calm and not set(calm) - set(_features(calm, "energy").index)
    f_calm, f_plain = _features(calm, "energy", "tempo"), _features(plain, "energy", "tempo")
    assert (f_calm["energy"] <= 0.5).all() and (f_calm["tempo"] <= 120).all()
    assert f_calm["energy"].mean() < f_plain["energy"].mean() - 0.1
    assert calm_out["candidates"]["after steering"] < calm_out["candidates"]["after never-heard filter"]


def test_ranges_targets_years_and_too_few(living):
    out = _recommend("-n", "20", "--energy", "0.8", "--valence", "0.3-0.7", "--years", "2000-2015")
    f = _features([r["track_id"] for r in out["recommendations"]], "energy", "valence", "release_year")
    assert len(f) and f["energy"].between(0.7, 0.9).all() and f["valence"].between(0.3, 0.7).all()
    assert f["release_year"].between(2000, 2015).all()
    few = invoke(["recommend", "-n", "30", "--energy", "0.05-0.3", "--tempo", "60-95", "--json"])
    if few.returncode == 0:
        k = len(json.loads(few.stdout)["recommendations"])
        assert k < 30 and "candidates fit the steering" in few.text and f"{k} tracks instead of 30" in few.text
    else:
        assert few.returncode == 3 and "No candidate fits" in few.text
    for bad in (["--energy", "2"], ["--energy", "0.6-0.2"], ["--years", "1990.5"], ["--tempo", "fast"],
                ["--seed-track", "spotify:artist:4uLU6hMCjMI75M1A2tKUQC"]):
        res = invoke(["recommend", *bad])
        assert res.returncode == 2, (bad, res.stderr)
        assert len(res.err.strip().splitlines()) == 1


def test_seed_tracks_pull_the_picks_toward_their_sound(living):
    import numpy as np

    from tastebot.vocab import STEERABLE_FEATURES

    sb = living
    plain = [r["track_id"] for r in _recommend("-n", "20")["recommendations"]]
    cols = ("energy", "valence", "danceability", "acousticness")
    feats = {t: f for t, f in sb.catalog["audio_features"].items() if all(f.get(c) is not None for c in cols)}
    # a seed far from the plain picks' sound
    centre = np.array([np.mean([feats[t][c] for t in plain if t in feats]) for c in cols])
    seed = max((t for t in feats if t not in plain), key=lambda t: np.abs(np.array([feats[t][c] for c in cols]) - centre).sum())
    seeded = [r["track_id"] for r in _recommend("-n", "20", "--seed-track", f"spotify:track:{seed}")["recommendations"]]
    assert seed not in seeded
    s = np.array([feats[seed][c] for c in cols])

    def distance(ids):
        return np.mean([np.abs(np.array([feats[t][c] for c in cols]) - s).sum() for t in ids if t in feats])

    assert distance(seeded) < distance(plain)
    assert set(cols) <= set(STEERABLE_FEATURES)


# -- scheduling --------------------------------------------------------------------------------------

def test_a_refresh_with_an_expired_login_exits_4_and_writes_nothing(living, home):
    from store_helpers import dump_and_check

    from tastebot.settings import load_settings
    from tastebot.store import open_store

    sb = living
    pid = _recommend("-n", "10", "--create-playlist", "--name", "weekly")["playlist"]["spotify_id"]
    items = _playlist(sb, pid)["track_ids"]
    library = dump_and_check()
    with open_store(load_settings(), readonly=True) as s:
        outputs = (s.output_playlists(), s.planned_tracks(s.output_playlists()[0]["id"]))
    sb.revoke_refresh_tokens()
    sb.expire_access_tokens()
    writes_before = {k: v for k, v in sb.stats()["requests"].items() if not k.startswith("GET")}
    res = invoke(["recommend", "--update-playlist", "weekly"])
    assert res.returncode == 4, res.stderr
    assert "tastebot login" in res.text and len(res.err.strip().splitlines()) == 1
    assert _playlist(sb, pid)["track_ids"] == items
    assert {k: v for k, v in sb.stats()["requests"].items() if not k.startswith("GET")} == {
        **writes_before, "POST /api/token": sb.stats()["requests"]["POST /api/token"]}
    assert dump_and_check() == library
    with open_store(load_settings(), readonly=True) as s:
        assert (s.output_playlists(), s.planned_tracks(s.output_playlists()[0]["id"])) == outputs


# -- docs/scheduling.md, run as written -------------------------------------------------------------

SCHEDULING = Path(__file__).resolve().parent.parent / "docs" / "scheduling.md"


def _blocks(lang: str) -> list[str]:
    import re

    return re.findall(rf"```{lang}\n(.*?)```", SCHEDULING.read_text(encoding="utf-8"), flags=re.S)


def _job_home(tmp_path) -> tuple[Path, dict]:
    """A $HOME holding the docs' job script, and an environment whose `tastebot` is this tree's."""
    import os
    import stat
    import sys

    user_home = tmp_path / "user"
    (user_home / "bin").mkdir(parents=True)
    script = next(b for b in _blocks("sh") if b.startswith("#!/bin/sh"))
    job = user_home / "bin" / "tastebot-weekly"
    job.write_text(script)
    job.chmod(job.stat().st_mode | stat.S_IXUSR)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "tastebot").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tastebot "$@"\n')
    (shim / "tastebot").chmod(0o755)
    env = {**os.environ, "HOME": str(user_home), "PATH": f"{shim}:{os.environ['PATH']}"}
    return user_home, env


@pytest.mark.slow
def test_the_scheduling_docs_run_as_written(living, tmp_path):
    import configparser
    import subprocess

    sb = living
    once = [line for line in _blocks("sh")[0].splitlines() if line.strip()]
    assert once[-1] == 'tastebot recommend --create-playlist --name "tastebot weekly"'
    import shlex

    res = invoke(shlex.split(once[-1])[1:] + ["--json"])  # login, harvest, train: the trained home did them
    assert res.returncode == 0, res.stderr
    pid = json.loads(res.stdout)["playlist"]["spotify_id"]
    user_home, env = _job_home(tmp_path)

    # cron: five time fields, then the command as cron's sh runs it
    (cron,) = [line for line in _blocks("crontab")[0].splitlines() if line.strip()]
    fields = cron.split(None, 5)
    assert fields[:5] == ["0", "7", "*", "*", "1"]
    before = _playlist(sb, pid)["track_ids"]
    run = subprocess.run(["sh", "-c", fields[5]], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (user_home / "tastebot-weekly.log").read_text()[-2000:]
    after = _playlist(sb, pid)["track_ids"]
    assert after and not set(after) & set(before)  # refreshed in place with new picks
    assert "Playlist “tastebot weekly”" in (user_home / "tastebot-weekly.log").read_text()

    # systemd: the service runs the same job; the timer's calendar is valid; the codes that need a human
    service, timer = (configparser.ConfigParser(interpolation=None) for _ in range(2))
    service.read_string(_blocks("ini")[0])
    timer.read_string(_blocks("ini")[1])
    assert service["Service"]["Type"] == "oneshot"
    exec_start = service["Service"]["ExecStart"].replace("%h", str(user_home))
    assert set(service["Service"]["RestartPreventExitStatus"].split()) == {"2", "3", "4", "74"}
    assert timer["Install"]["WantedBy"] == "timers.target"
    if shutil.which("systemd-analyze"):
        cal = subprocess.run(["systemd-analyze", "calendar", timer["Timer"]["OnCalendar"]], capture_output=True,
                             text=True, timeout=60)
        assert cal.returncode == 0 and "Mon" in cal.stdout, cal.stderr
    assert exec_start == fields[5].split()[0].replace("$HOME", str(user_home))  # the job cron ran

    # the login expires: exit 4, which the service does not retry, and the playlist keeps its items
    kept = _playlist(sb, pid)["track_ids"]
    sb.revoke_refresh_tokens()
    sb.expire_access_tokens()
    run = subprocess.run(exec_start, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 4, run.stderr[-2000:]
    assert "tastebot login" in " ".join(run.stderr.split())
    assert _playlist(sb, pid)["track_ids"] == kept


def test_the_scheduling_docs_name_every_exit_code():
    import re

    from tastebot import errors

    codes = {int(c) for c in re.findall(r"^\| (\d+) \|", SCHEDULING.read_text(encoding="utf-8"), flags=re.M)}
    defined = {cls.exit_code for cls in vars(errors).values()
               if isinstance(cls, type) and issubclass(cls, errors.TastebotError)}
    assert defined | {0, 1, 130} == codes


def test_an_older_store_is_upgraded_in_place_with_its_playlists(tmp_path):
    """A store written before refreshes existed (outputs schema v1) keeps every playlist and track."""
    import sqlite3

    from tastebot.store import Store
    from tastebot.store.outputs import MIGRATIONS

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE schema_migrations (area TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,"
        " PRIMARY KEY (area, version));" + MIGRATIONS[0]
        + "INSERT INTO schema_migrations VALUES ('outputs', 1, '2026-01-01T00:00:00+00:00');"
        "INSERT INTO output_playlists (id, marker, name, description, public, status, spotify_id, url, planned_at,"
        " created_at, completed_at, requests) VALUES (1, 'tastebot:abc', 'old', 'd [tastebot:abc]', 0, 'complete',"
        " 'P1', 'u', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:01+00:00', '2026-01-01T00:00:02+00:00', 1);"
        "INSERT INTO output_playlist_tracks VALUES (1, 0, 'a', '2026-01-01T00:00:02+00:00', 1),"
        " (1, 1, 'b', '2026-01-01T00:00:02+00:00', 1);"
    )
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.schema_versions()["outputs"] == 2
        assert store.created_playlists()[0]["track_ids"] == ["a", "b"]
        assert [p["track_id"] for p in store.planned_tracks(1)] == ["a", "b"]
        assert store.output_track_ids(since="2025-12-31T00:00:00") == {"a", "b"}
        assert store.output_track_ids(since="2026-01-02T00:00:00") == set()
        assert store.integrity_check() == "ok"


def test_a_refresh_whose_answers_are_lost_still_ends_with_the_new_items_once(make_logged_in):
    """The replace and the adds are carried out but answered 502 now and then: the replace is sent
    again (the same list twice is the same playlist), the adds are read back, never repeated."""
    from tastebot.recommend import playlist as pl
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    sb = make_logged_in(seed=3)
    known = {s["track_id"] for s in sb.catalog["listener"]["saved_tracks"]}
    ids = [t["id"] for t in sb.catalog["tracks"] if t["id"] not in known]
    settings = load_settings()
    client = SpotifyClient(settings)
    client.policy.backoff_base = 0.01
    with open_store(settings) as store:
        first = pl.write_playlist(store, client, ids[:40], name="lossy weekly", description="test")
        sb.configure(lost_answer_rate=0.4, fault_rate=0.1)
        for week in range(1, 4):
            new = ids[40 + 250 * (week - 1): 40 + 250 * week]
            res = pl.refresh_playlist(store, client, "lossy weekly", new, description=f"week {week}")
            assert res.spotify_id == first.spotify_id
            assert _playlist(sb, first.spotify_id)["track_ids"] == new  # in order, none twice, none missing
    stats = sb.stats()["requests"]
    assert stats["PUT /v1/playlists/{id}/items"].get("lost", 0) + stats["POST /v1/playlists/{id}/items"].get("lost", 0) >= 1
