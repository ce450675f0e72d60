"""A harvest never loses or corrupts data: killed with SIGKILL at random moments, failing under 5xx
faults and a rate limit, or stopped by a long Retry-After, the next run ends with the same store as
an uninterrupted one. The runs that are killed are real `tastebot` processes; the others run the CLI
in this process (cli_runner.invoke), against the same sandbox."""

from __future__ import annotations

import json
import random
import signal
import time

import pytest
from store_helpers import HARVEST, dump_and_check, remove_store
from cli_runner import invoke
from login_helpers import issued_tokens, leaks, start_cli

from tastebot.harvest import Harvester, HarvestOptions, Reporter
from tastebot.settings import load_settings
from tastebot.spotify.client import SpotifyClient
from tastebot.store import open_store


def recorded_runs() -> list[dict]:
    """The harvest runs the store records (none when there is no store)."""
    settings = load_settings()
    if not settings.store_path.exists():
        return []
    with open_store(settings, readonly=True) as s:
        return s.harvest_runs()


def wait_until_harvesting(proc, runs_before: int, timeout: float = 30.0) -> None:
    """Until the subprocess has recorded its own running harvest in the store (or ended).

    A run left "running" by an earlier kill does not count: the new process has to have marked it
    interrupted and added its own row, or a kill landing before that would be counted twice."""
    deadline = time.monotonic() + timeout
    settings = load_settings()
    while proc.poll() is None and time.monotonic() < deadline:
        if settings.store_path.exists():
            try:
                with open_store(settings, readonly=True) as s:
                    runs = s.harvest_runs()
                    if len(runs) > runs_before and runs[-1]["status"] == "running":
                        return
            except Exception:  # the store is still being created: look again
                pass
        time.sleep(0.05)


@pytest.fixture
def fast_rate_window(monkeypatch):
    import tastebot.sandbox.faults as faults

    monkeypatch.setattr(faults, "RATE_WINDOW_S", 3.0)


def test_sigkill_at_random_points_then_resume_gives_the_same_store(make_logged_in, home):
    sb = make_logged_in(n_tracks=2000, latency_ms=60)
    done = invoke(HARVEST)
    assert done.returncode == 0, done.stderr
    reference = dump_and_check()
    remove_store(home)

    rng = random.Random(20261122)
    kills = 0
    interrupted = 0  # kills that landed while the run was still recorded as running
    for attempt in range(4):
        runs_before = len(recorded_runs())
        proc = start_cli(HARVEST)
        # Random moments inside the harvest itself (not the interpreter's start-up). A resumed
        # harvest has little left to do, so only the first kill is sure to land mid-run.
        wait_until_harvesting(proc, runs_before)
        time.sleep(rng.uniform(0.0, 0.3 if attempt == 0 else 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
        if (home / "tastebot.db").exists():
            dump_and_check()  # consistent after every kill
            runs = recorded_runs()
            interrupted += bool(runs) and runs[-1]["status"] == "running"
    assert kills >= 2 and interrupted >= 1
    final = invoke(HARVEST)
    assert final.returncode == 0, final.stderr
    assert dump_and_check() == reference
    with open_store(load_settings()) as s:
        statuses = [r["status"] for r in s.harvest_runs()]
    assert statuses[-1] == "done" and statuses.count("interrupted") == interrupted


class _StopAfter(Reporter):
    """Simulates a kill: interrupts the harvest after n pages of saved tracks were committed."""

    def __init__(self, pages: int):
        self.pages = pages

    def advance(self, source, n=1, total=None):
        if source == "saved":
            self.pages -= 1
            if self.pages == 0:
                raise KeyboardInterrupt


def test_interrupted_saved_tracks_pass_resumes_after_new_additions(make_logged_in):
    sb = make_logged_in(n_tracks=2000)
    settings = load_settings()
    total = len(sb.state.saved)
    assert total > 150
    with open_store(settings) as s, pytest.raises(KeyboardInterrupt):
        Harvester(settings, SpotifyClient(settings), s, HarvestOptions(sampled_negatives="never"),
                  reporter=_StopAfter(2)).run()
    with open_store(settings) as s:
        assert len(s.signal_track_ids("saved")) == 100
        assert json.loads(s.get_state("saved.pending")) == {"offset": 100, "total": total}
        assert s.harvest_runs()[-1]["status"] == "interrupted"
    # Meanwhile the user saves 7 more tracks: the rest of the old pass moved 7 places back.
    st = sb.state
    known = {t for t, _ in st.saved}
    fresh = [t["id"] for t in sb.catalog["tracks"] if t["id"] not in known][:7]
    with st.lock:
        st.saved[0:0] = [(tid, f"2026-11-21T0{i}:00:00Z") for i, tid in enumerate(fresh)]
    sb.reset_stats()
    with open_store(settings) as s:
        Harvester(settings, SpotifyClient(settings), s, HarvestOptions(sampled_negatives="never")).run()
        assert s.signal_track_ids("saved") == {t for t, _ in st.saved}
        assert s.get_state("saved.pending") is None
    # One page for the new front, then pages from offset 107 to the end.
    assert sb.count("GET /v1/me/tracks") == 1 + -(-(total + 7 - 107) // 50)


def test_faults_and_rate_limit_end_with_the_same_store(make_logged_in, home, fast_rate_window):
    sb = make_logged_in(n_tracks=600)
    assert invoke(HARVEST).returncode == 0
    reference = dump_and_check()
    remove_store(home)
    sb.configure(fault_rate=0.2, rate_limit=12, retry_after=1)
    sb.reset_stats()
    result = invoke(HARVEST + ["--max-wait", "10"])
    assert result.returncode == 0, result.stderr
    assert dump_and_check() == reference
    statuses = [st for per in sb.stats()["requests"].values() for st in per]
    assert "429" in statuses and {"500", "502", "503"} & set(statuses)


def test_long_retry_after_stops_with_75_and_progress_saved(make_logged_in, home):
    sb = make_logged_in(n_tracks=600)
    assert invoke(HARVEST).returncode == 0
    reference = dump_and_check()
    remove_store(home)
    sb.configure(rate_limit=6, retry_after=900)
    result = invoke(HARVEST + ["--max-wait", "5"])
    assert result.returncode == 75, result.stderr
    assert "run the command again after" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    with open_store(load_settings()) as s:
        assert s.signal_track_ids("saved")  # what was read before the limit is kept
        assert s.harvest_runs()[-1]["status"] == "failed"
    sb.configure(rate_limit=None)
    assert invoke(HARVEST).returncode == 0
    assert dump_and_check() == reference


def test_cli_json_summary_and_no_token_anywhere(logged_in, home):
    sb = logged_in
    result = invoke(["harvest", "--json"])
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "done" and summary["app_kind"] == "development"
    assert summary["labels"]["likes"] > 0 and summary["labels"]["dislikes_weak"] > 0
    names = {s["name"] for s in summary["sources"]}
    assert {"saved", "top_short_term", "recently_played", "playlists", "features:reccobeats"} <= names
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    texts.update({str(p): p.read_bytes() for p in home.rglob("*") if p.is_file()})
    assert not leaks(issued_tokens(sb), texts)


def test_cli_errors_are_one_line_with_exit_codes(logged_in):
    bad = invoke(["harvest", "--dislike-playlist", "https://example.com/not-a-playlist"])
    assert bad.returncode == 2 and "Not a Spotify playlist" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_not_logged_in_exits_4(sandbox, monkeypatch):
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sandbox.url)
    result = invoke(["harvest"])
    assert result.returncode == 4 and "tastebot login" in result.stderr
