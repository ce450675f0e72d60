"""Faults beyond the basics: dropped connections and latency spikes, an access token that expires
in the middle of a harvest, `invalid_grant` in the middle of a command, an hours-long Retry-After
while a playlist is being written, and two commands at once on one home. Every command either ends
with the store a fault-free run gives, or stops with its progress saved, a one-line reason and a
documented exit code. (5xx + short 429 during harvest, SIGKILLs during harvest and playlist writing
are covered in test_harvest_kill.py and test_playlist.py.)
"""

from __future__ import annotations

import threading
import time

import pytest
from store_helpers import HARVEST, dump_and_check, remove_store
from cli_runner import invoke
from login_helpers import cli_env, login_to, run_cli, start_cli

from tastebot.settings import load_settings
from tastebot.store import open_store



def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return " ".join(stderr[stderr.index("error:"):].split())


def statuses(sb) -> dict[str, int]:
    found: dict[str, int] = {}
    for per in sb.stats()["requests"].values():
        for status, n in per.items():
            found[status] = found.get(status, 0) + n
    return found


@pytest.fixture
def reference(make_logged_in, home):
    """A sandbox with a login and the store a fault-free harvest gives; the store is then removed."""
    sb = make_logged_in(n_tracks=600)
    done = invoke(HARVEST)
    assert done.returncode == 0, done.stderr
    ref = dump_and_check()
    remove_store(home)
    sb.reset_stats()
    return sb, ref


def test_dropped_connections_and_latency_spikes_give_the_same_store(reference):
    sb, ref = reference
    sb.configure(drop_rate=0.12, fault_rate=0.08, latency_ms=25)
    result = invoke(HARVEST)
    assert result.returncode == 0, result.stderr
    assert dump_and_check() == ref
    seen = statuses(sb)
    assert seen.get("dropped", 0) > 0 and any(s.startswith("5") for s in seen), seen


def test_a_5xx_burst_mid_harvest_then_recovery(reference):
    """Spotify fails every request for a while: the harvest either rides it out or stops with 69 and
    what it read is kept; the next run ends with the fault-free store."""
    sb, ref = reference
    sb.configure(latency_ms=80)
    proc = start_cli(HARVEST)
    deadline = time.monotonic() + 60
    while sb.count("GET /v1/me/tracks", 200) < 1 and time.monotonic() < deadline:  # mid-harvest, not before
        time.sleep(0.01)
    sb.configure(fault_rate=1.0)
    time.sleep(1.5)
    sb.configure(fault_rate=0.0, latency_ms=0)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 69), err
    if proc.returncode == 69:
        message = one_line_error(err)
        assert "kept failing" in message or "try again" in message.lower(), message
    assert statuses(sb).get("503", 0) + statuses(sb).get("500", 0) + statuses(sb).get("502", 0) > 0
    dump_and_check()
    again = invoke(HARVEST)
    assert again.returncode == 0, again.stderr
    assert dump_and_check() == ref


def test_access_token_expiring_mid_harvest_is_renewed(make_logged_in, home):
    sb = make_logged_in(n_tracks=600)
    assert invoke(HARVEST).returncode == 0
    ref = dump_and_check()
    remove_store(home)
    # Tokens issued from now on live 2 s; the harvest takes longer than that.
    # 15-odd requests at 200 ms each (3 s) outlive a 2 s token at least once, however fast the
    # machine: tastebot renews a quarter of the lifetime before the end.
    sb.configure(token_ttl=2, latency_ms=200)
    sb.expire_access_tokens()
    sb.reset_stats()
    result = invoke(HARVEST)
    assert result.returncode == 0, result.stderr
    assert dump_and_check() == ref
    assert sb.count("POST /api/token") >= 2, sb.stats()


def test_invalid_grant_mid_harvest_stops_with_4_and_keeps_progress(make_logged_in, home, tmp_path, monkeypatch):
    sb = make_logged_in(n_tracks=2000)
    assert invoke(HARVEST).returncode == 0
    ref = dump_and_check()
    remove_store(home)
    sb.configure(latency_ms=150)
    sb.reset_stats()
    proc = start_cli(HARVEST)
    deadline = time.monotonic() + 30
    while sb.count("GET /v1/me/tracks", 200) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    sb.revoke_refresh_tokens()
    sb.expire_access_tokens()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err
    message = one_line_error(err)
    assert "tastebot login" in message
    with open_store(load_settings()) as s:
        assert s.integrity_check() == "ok"
        assert len(s.signal_track_ids("saved")) >= 50  # the pages read before the refusal are kept
        assert s.harvest_runs()[-1]["status"] == "failed"
    sb.configure(latency_ms=0)
    login_to(sb)
    again = invoke(HARVEST)
    assert again.returncode == 0, again.stderr
    assert dump_and_check() == ref


@pytest.mark.slow
def test_hours_long_retry_after_while_writing_a_playlist(make_logged_in, home, tmp_path):
    """recommend --create-playlist meets a 429 asking for hours: exit 75 naming when to retry; the
    next run finishes the same playlist, with no second playlist and no track twice."""
    from tastebot.sandbox.format import export_corpus_csv

    sb = make_logged_in(n_tracks=600)
    assert invoke(HARVEST).returncode == 0
    export_corpus_csv(sb.catalog, tmp_path / "corpus.csv")
    assert invoke(["corpus", "import", str(tmp_path / "corpus.csv")]).returncode == 0
    before = sb.snapshot()
    # Let reads through, then refuse everything for 3 hours: the limit hits during the writes. Each
    # write is slowed (write_latency_ms, before the sandbox looks at its limit), so the watcher sets
    # the limit while the first add-items request is still on its way, however fast the machine.
    sb.reset_stats()
    sb.configure(write_latency_ms=300)
    stop = threading.Event()

    def limit_when_writing():
        while not stop.is_set():
            if sb.count("POST /v1/me/playlists") or sb.count("POST /v1/users/{user_id}/playlists"):
                sb.configure(rate_limit=1, retry_after=3 * 3600)
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=limit_when_writing, daemon=True)
    watcher.start()
    result = invoke(["recommend", "-n", "150", "--max-per-artist", "0", "--create-playlist", "--name", "soak",
                      "--no-search", "--max-wait", "5"])
    stop.set()
    assert result.returncode == 75, result.stderr
    message = one_line_error(result.stderr)
    assert "3 h" in message or "hour" in message or "10800" in message or "after" in message, message
    sb.configure(rate_limit=None, retry_after=1, write_latency_ms=0)
    again = invoke(["recommend", "--create-playlist", "--name", "soak", "--no-search"])
    assert again.returncode == 0, again.stderr
    after = sb.snapshot()
    mine = [p for p in _playlists(after) if p.get("name") == "soak"]
    assert len(mine) == 1, mine
    items = _items(mine[0])
    assert len(items) == len(set(items)) == 150
    assert len(_playlists(after)) == len(_playlists(before)) + 1


def _playlists(snapshot: dict) -> list[dict]:
    pls = snapshot.get("playlists") or snapshot.get("created_playlists") or []
    return list(pls.values()) if isinstance(pls, dict) else list(pls)


def _items(playlist: dict) -> list[str]:
    items = playlist.get("track_ids") or playlist.get("items") or []
    return [i if isinstance(i, str) else (i.get("track_id") or i.get("id") or i.get("uri")) for i in items]


# -- two commands on one home ---------------------------------------------------------------------

def test_two_harvests_at_once_one_waits_and_the_store_is_whole(reference, home):
    sb, ref = reference
    sb.configure(latency_ms=40)
    first = start_cli(HARVEST)
    time.sleep(0.4)
    second = start_cli(HARVEST)
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    codes = sorted([first.returncode, second.returncode])
    assert codes in ([0, 0], [0, 75]), (err1[-500:], err2[-500:])
    if 75 in codes:
        message = one_line_error(err2 if second.returncode == 75 else err1)
        assert "Another tastebot command" in message
    assert dump_and_check() == ref
    with open_store(load_settings()) as s:
        runs = s.harvest_runs()
    assert [r["status"] for r in runs].count("done") == codes.count(0)


@pytest.mark.slow
def test_a_command_refuses_clearly_when_the_home_stays_busy(reference, home, tmp_path):
    """A command that cannot get the home within its wait (TASTEBOT_LOCK_WAIT) says who holds it and
    exits 75; nothing changes."""
    sb, ref = reference
    assert invoke(HARVEST).returncode == 0
    before = dump_and_check()
    from tastebot.lock import home_lock

    csv_file = tmp_path / "c.csv"
    csv_file.write_text("playlist_id,track_id\nP1,4uLU6hMCjMI75M1A2tKUQC\n", encoding="utf-8")
    with home_lock(load_settings()):
        # A real process: in this one the lock is already held (the wait would not be tested).
        started = time.monotonic()
        busy = run_cli(["corpus", "import", str(csv_file)], env=cli_env(TASTEBOT_LOCK_WAIT="1.5"), timeout=60)
        waited = time.monotonic() - started
    assert busy.returncode == 75, busy.stderr
    assert waited >= 1.5  # it waited for the holder before giving up
    message = one_line_error(busy.stderr)
    assert "Another tastebot command is using" in message
    assert dump_and_check() == before
    with open_store(load_settings()) as s:
        assert s.corpus_stats()["playlists"] == 0
