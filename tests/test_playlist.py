"""Idempotent playlist writing against the sandbox: in order, 100 a request, and a run killed
between two add-requests (SIGKILL) finished by the next run with one playlist and no duplicate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tastebot.recommend import playlist as pl


def _catalog_ids(sb, n: int) -> list[str]:
    known = {s["track_id"] for s in sb.catalog["listener"]["saved_tracks"]}
    return [t["id"] for t in sb.catalog["tracks"] if t["id"] not in known][:n]


def _tastebot_playlists(sb) -> list[dict]:
    return [p for p in sb.snapshot()["playlists"] if "[tastebot:" in (p.get("description") or "")]


def _posts(sb, path: str) -> int:
    return sum(v for k, v in sb.stats()["requests"].get(f"POST {path}", {}).items() if k.startswith("2"))


def _client_and_store():
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store

    settings = load_settings()
    return SpotifyClient(settings), open_store(settings)


def test_playlist_written_in_order_100_a_request(logged_in):
    sb = logged_in
    ids = _catalog_ids(sb, 250)
    client, store = _client_and_store()
    with store:
        res = pl.write_playlist(store, client, ids, name="tastebot test", description="made by a test")
        created = store.created_playlists()
    lists = _tastebot_playlists(sb)
    assert len(lists) == 1
    assert lists[0]["track_ids"] == ids
    assert lists[0]["name"] == "tastebot test" and lists[0]["public"] is False
    assert "made by a test" in lists[0]["description"]
    assert _posts(sb, "/v1/playlists/{id}/items") == 3
    assert res.url.endswith(res.spotify_id) and res.tracks == 250 and res.added_now == 250
    assert created == [{"id": res.spotify_id, "playlist_id": res.spotify_id, "spotify_id": res.spotify_id,
                        "name": "tastebot test", "url": res.url, "status": "complete",
                        "created_at": created[0]["created_at"], "track_ids": ids}]


def test_dry_run_writes_nothing(logged_in):
    sb = logged_in
    client, store = _client_and_store()
    with store:
        res = pl.write_playlist(store, client, _catalog_ids(sb, 10), name="x", description="y", dry_run=True)
        assert store.created_playlists() == [] and store.unfinished_playlists() == []
    assert res.dry_run and res.spotify_id is None
    assert _posts(sb, "/v1/me/playlists") == 0 and _tastebot_playlists(sb) == []


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from tastebot.settings import load_settings
    from tastebot.spotify.client import SpotifyClient
    from tastebot.store import open_store
    from tastebot.recommend import playlist as pl

    kill_on = sys.argv[1]
    ids = sys.argv[2].split(",")

    def hook(kind, n):
        if kind == kill_on and n == 1:
            os.kill(os.getpid(), signal.SIGKILL)

    settings = load_settings()
    with open_store(settings) as store:
        pl.write_playlist(store, SpotifyClient(settings), ids, name="killed run", description="test",
                          on_request=hook)
    """
)


@pytest.mark.parametrize("kill_on", ["add", "create"])
def test_killed_between_requests_then_rerun_finishes_the_same_playlist(logged_in, tmp_path, kill_on):
    sb = logged_in
    ids = _catalog_ids(sb, 150)
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    proc = subprocess.run([sys.executable, str(script), kill_on, ",".join(ids)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    lists = _tastebot_playlists(sb)
    assert len(lists) == 1
    assert lists[0]["track_ids"] == (ids[:100] if kill_on == "add" else [])

    # The next `tastebot recommend --create-playlist` finishes it: no second playlist, no duplicate.
    from cli_runner import invoke

    res = invoke(["recommend", "--create-playlist"])
    assert res.returncode == 0, res.stderr
    assert "Finished the playlist" in res.stderr
    lists = _tastebot_playlists(sb)
    assert len(lists) == 1
    assert lists[0]["track_ids"] == ids
    assert _posts(sb, "/v1/me/playlists") == 1
    assert _posts(sb, "/v1/playlists/{id}/items") == 2
    assert lists[0]["id"] in res.stdout


def test_post_done_but_not_recorded_is_found_again(logged_in):
    """The run died after Spotify created the playlist but before the id was stored: the next run
    finds it by the marker in its description instead of creating a second one."""
    sb = logged_in
    ids = _catalog_ids(sb, 30)
    client, store = _client_and_store()
    with store:
        row = pl.plan(store, ids, name="lost answer", description="test", public=False)
        planned = store.output_playlist(row)
        client.create_playlist(planned["name"], public=False, description=planned["description"])  # answer "lost"
        res = pl.finish(store, client, row)
    assert res.resumed
    lists = _tastebot_playlists(sb)
    assert len(lists) == 1 and lists[0]["track_ids"] == ids


def test_add_done_but_not_recorded_is_not_repeated(logged_in):
    """An add-request reached Spotify but its answer did not reach tastebot: the resumed run reads the
    playlist and adds only what is missing."""
    sb = logged_in
    ids = _catalog_ids(sb, 180)
    client, store = _client_and_store()
    with store:
        row = pl.plan(store, ids, name="lost add", description="test", public=False)
        answer = client.create_playlist("lost add", public=False, description=store.output_playlist(row)["description"])
        store.mark_playlist_created(row, answer["id"], None)
        client.add_items(answer["id"], ids[:100])  # carried out, never recorded
        res = pl.finish(store, client, row)
    assert res.already_there == 100 and res.added_now == 80
    lists = _tastebot_playlists(sb)
    assert len(lists) == 1 and lists[0]["track_ids"] == ids


def test_plan_refuses_repeats_and_empty(tmp_path):
    from tastebot.errors import InputError
    from tastebot.store import Store

    with Store(tmp_path / "s.db") as store:
        with pytest.raises(InputError):
            pl.plan(store, ["a", "a"], name="x", description="y", public=False)
        with pytest.raises(InputError):
            pl.plan(store, [], name="x", description="y", public=False)
        assert store.unfinished_playlists() == []


def test_the_command_killed_between_two_add_requests_then_rerun(logged_in):
    """`tastebot recommend --create-playlist` itself, SIGKILLed as soon as the sandbox has seen its
    first add-request (writes slowed down so the kill lands before the second), then run again."""
    import time

    from cli_runner import invoke
    from login_helpers import start_cli

    sb = logged_in
    res = invoke(["harvest"])
    assert res.returncode == 0, res.stderr
    sb.configure(write_latency_ms=150)
    proc = start_cli(["recommend", "-n", "120", "--max-per-artist", "0", "--blend", "0", "--create-playlist",
                      "--name", "killed", "--json"])
    deadline = time.monotonic() + 240
    try:
        while _posts(sb, "/v1/playlists/{id}/items") < 1:
            assert proc.poll() is None, "the command ended before its first add-request"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    adds = sum(sb.stats()["requests"].get("POST /v1/playlists/{id}/items", {}).values())
    assert adds == 1, "the kill must land between the first and the second add-request"
    sb.configure(write_latency_ms=0)
    lists = [p for p in sb.snapshot()["playlists"] if p["name"] == "killed"]
    assert len(lists) == 1
    assert len(lists[0]["track_ids"]) in (0, 100)  # the first add may or may not have been carried out

    res = invoke(["recommend", "--create-playlist", "--name", "killed"])
    assert res.returncode == 0, res.stderr
    lists = [p for p in sb.snapshot()["playlists"] if p["name"] == "killed"]
    assert len(lists) == 1
    ids = lists[0]["track_ids"]
    assert len(ids) == 120 and len(set(ids)) == 120
    assert _posts(sb, "/v1/me/playlists") == 1


def test_writes_whose_answers_are_lost_are_read_back_not_repeated(make_logged_in):
    """Spotify carries out a create or an add and the client gets a 502 (a gateway timing out on a
    slow backend). A blind retry would make a second playlist or add the tracks twice; tastebot reads
    back what is there and sends only what is missing."""
    sb = make_logged_in(seed=3)
    sb.configure(lost_answer_rate=0.4, fault_rate=0.1)
    ids = _catalog_ids(sb, 450)
    client, store = _client_and_store()
    client.policy.backoff_base = 0.01
    with store:
        res = pl.write_playlist(store, client, ids, name="lossy", description="test")
    lists = _tastebot_playlists(sb)
    assert len(lists) == 1 and lists[0]["id"] == res.spotify_id
    assert lists[0]["track_ids"] == ids  # in order, none twice, none missing
    stats = sb.stats()["requests"]
    lost_writes = sum(stats.get(k, {}).get("lost", 0) for k in ("POST /v1/me/playlists", "POST /v1/playlists/{id}/items"))
    assert lost_writes >= 1, {k: v for k, v in stats.items() if k.startswith("POST")}  # the case happened: some write was carried out and answered 502


def test_the_gateway_does_not_retry_a_write_that_may_have_happened(make_logged_in):
    from tastebot.errors import UncertainWrite

    sb = make_logged_in()
    sb.configure(lost_answer_rate=1.0)
    client, _ = _client_and_store()
    client.policy.backoff_base = 0.01
    with pytest.raises(UncertainWrite):
        client.create_playlist("once", description="test")
    assert _posts(sb, "/v1/me/playlists") == 0  # answered 502 ...
    assert sb.stats()["requests"]["POST /v1/me/playlists"] == {"lost": 1}  # ... and sent once
    assert [p["name"] for p in sb.snapshot()["playlists"]].count("once") == 1  # but carried out


def test_a_restarted_service_handing_out_a_known_id_does_not_wedge_the_writer(make_logged_in):
    """A sandbox restarted on the same home hands out playlist ids the store already holds: the clash is
    set aside with a warning, and every later create and refresh works."""
    from tastebot import notices

    first = make_logged_in()
    ids = _catalog_ids(first, 30)
    client, store = _client_and_store()
    with store:
        old = pl.write_playlist(store, client, ids[:10], name="before the restart", description="d")
    first.stop()
    second = make_logged_in()  # a new service: its first playlist gets the id `old` has in the store
    said: list[str] = []
    notices.listen(notices.Listener(warn=lambda text, once_key=None: said.append(text)))
    client, store = _client_and_store()
    with store:
        new = pl.write_playlist(store, client, ids[10:20], name="after the restart", description="d")
        again = pl.write_playlist(store, client, ids[20:], name="and again", description="d")
        refreshed = pl.refresh_playlist(store, client, "after the restart", ids[:10], description="d")
        rows = {r["name"]: r for r in store.output_playlists()}
        assert store.unfinished_playlists() == []
    notices.listen(None)
    assert len(said) == 1 and "before the restart" in said[0] and old.spotify_id in said[0], said
    assert new.spotify_id == old.spotify_id  # the clash this test is about
    assert rows["after the restart"]["spotify_id"] == new.spotify_id and rows["and again"]["spotify_id"] == again.spotify_id
    assert rows["before the restart"]["spotify_id"] is None and rows["before the restart"]["status"] == "set aside"
    assert refreshed.spotify_id == new.spotify_id
    by_name = {p["name"]: p for p in _tastebot_playlists(second)}
    assert by_name["after the restart"]["track_ids"] == ids[:10] and by_name["and again"]["track_ids"] == ids[20:]


def test_an_unfinished_playlist_the_service_no_longer_has_is_set_aside(make_logged_in):
    first = make_logged_in()
    ids = _catalog_ids(first, 20)
    client, store = _client_and_store()
    with store:
        row = pl.plan(store, ids[:10], name="cut off", description="d", public=False)
        store.mark_playlist_created(row, "0" * 22, None)  # created, then the run died; the service restarts
    first.stop()
    second = make_logged_in()
    client, store = _client_and_store()
    with store:
        assert pl.finish_unfinished(store, client) == []
        assert store.unfinished_playlists() == [] and store.output_playlist(row)["status"] == "set aside"
        new = pl.write_playlist(store, client, ids[10:], name="after", description="d")
    assert [p["track_ids"] for p in _tastebot_playlists(second)] == [ids[10:]] and new.tracks == 10


def test_create_and_update_playlist_work_across_a_service_restart(make_logged_in, trained_home, home):
    """The issue's steps through the CLI: a playlist made, the sandbox restarted (it hands out the same
    ids again), a leftover half-written playlist, then --create-playlist and --update-playlist work."""
    import shutil

    from cli_runner import invoke
    from worlds import TRAINED_WORLD

    make_logged_in(**TRAINED_WORLD)
    shutil.copytree(trained_home.home / "models", home / "models")
    shutil.copy2(trained_home.home / "tastebot.db", home / "tastebot.db")
    first = invoke(["recommend", "-n", "5", "--create-playlist", "--name", "before", "--json"])
    assert first.code == 0, first.err[-2000:]
    old_id = json.loads(first.out)["playlist"]["spotify_id"]
    client, store = _client_and_store()
    with store:  # and a playlist whose run died after its creation was recorded
        row = pl.plan(store, ["4uLU6hMCjMI75M1A2tKUQC"], name="cut off", description="d", public=False)
        store.mark_playlist_created(row, "1" * 22, None)
    make_logged_in(**TRAINED_WORLD)  # a new sandbox on the same home: it hands out old_id again

    made = invoke(["recommend", "-n", "5", "--create-playlist", "--name", "after", "--json"])
    assert made.code == 0, made.err[-2000:]
    assert json.loads(made.out)["playlist"]["spotify_id"] == old_id
    text = " ".join(made.err.split())
    assert "“before”" in text and "“cut off”" in text, made.err
    updated = invoke(["recommend", "-n", "5", "--update-playlist", "after", "--json"])
    assert updated.code == 0, updated.err[-2000:]
    again = invoke(["recommend", "-n", "5", "--create-playlist", "--name", "and again"])
    assert again.code == 0, again.err[-2000:]
