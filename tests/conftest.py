"""Shared fixtures. Every test runs with its own TASTEBOT_HOME and a clean environment.

The sandbox fixtures start the real HTTP sandbox (tastebot.sandbox.Sandbox) on a free loopback
port; tests talk to it over HTTP through spotipy, never through mocks of our own HTTP layer.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# One OpenMP thread per process: `make test` runs three workers on two cores, and scikit-learn's
# OpenMP loops (the learned ranking's gradient boosting) otherwise start a thread per core in each
# worker and spin-wait for cores the other worker holds; one `tastebot train` took 60 s of CPU
# instead of 5 that way on this machine under load.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Variables that would leak a developer's real configuration into a test.
_ISOLATE = [
    "TASTEBOT_HOME", "TASTEBOT_SPOTIFY_URL", "TASTEBOT_CLIENT_ID", "SPOTIPY_CLIENT_ID", "SPOTIPY_CLIENT_SECRET",
    "SPOTIPY_REDIRECT_URI", "TASTEBOT_REDIRECT_URI", "TASTEBOT_RECCOBEATS_URL", "TASTEBOT_INSECURE_STORAGE",
    "TASTEBOT_MAX_WAIT", "TASTEBOT_DISLIKE_PLAYLISTS", "TASTEBOT_LIKE_PLAYLISTS", "TASTEBOT_DEBUG",
    "TASTEBOT_DISCOVERY", "TASTEBOT_DEEZER_URL", "TASTEBOT_LASTFM_URL", "TASTEBOT_LASTFM_API_KEY",
    "TASTEBOT_EPOCHS", "TASTEBOT_ENSEMBLE", "TASTEBOT_LOCK_WAIT",
]


# Every test that trains a network (marked `trains`) runs on one worker: the xdist group "keras".
# Only that worker then imports TensorFlow (about 7 s of CPU each time; scoring a saved run needs
# none, see mlp.Forward), and it builds the shared trained home (`trained_home`: the other workers
# wait for it rather than build it).
#
# Long tests start first: `make test` (-n 3 --dist loadgroup --no-loadscope-reorder: without it
# xdist puts the groups with the most tests first) hands tests (a group as one unit) out in this
# order, so a long test collected last would run alone at the end while the other workers idle.
# FIRST are the longest (measured with --durations, waits included: a test that sleeps on a
# slowed sandbox holds its worker as long as one that computes). test_train_cli leads the keras
# group because it builds the trained home; the long tests right after it need none, so the other
# workers do not wait on the build. test_report is one xdist group too (one worker renders its
# report once). After them come the other tests marked slow, then the rest, in collection order.
_FIRST = (
    "tests/test_train_cli.py::",
    "tests/test_reliability_hostile.py::test_answers_generated_from_the_spec",
    "tests/test_harvest_kill.py::test_sigkill_at_random_points_then_resume_gives_the_same_store",
    "tests/test_harvest_kill.py::test_faults_and_rate_limit_end_with_the_same_store",
    "tests/test_playlist.py::test_the_command_killed_between_two_add_requests_then_rerun",
    "tests/test_report.py::",
    "tests/test_security.py::test_full_run_leaks_no_token_and_logout_leaves_nothing",
    "tests/test_living.py::test_the_scheduling_docs_run_as_written",
    "tests/test_living.py::test_excluded_artists_and_tracks_never_come_back_over_many_runs",
    "tests/test_living.py::test_the_refresh_command_killed_mid_way_then_rerun",
)


def pytest_collection_finish(session):
    """Collect garbage less often in the test processes. They hold large, long-lived heaps (pandas,
    scikit-learn, matplotlib; TensorFlow in one), which Python's default thresholds (700, 10, 10)
    walked about 4,000 times a worker: 22 s of the suite's CPU, 8 s with these. What is imported
    and collected by now is frozen out of every later collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("trains") is not None:
            item.add_marker(pytest.mark.xdist_group("keras"))

    def rank(item) -> int:
        for i, prefix in enumerate(_FIRST):
            if item.nodeid.startswith(prefix):
                return i
        return len(_FIRST) + (item.get_closest_marker("slow") is None)

    items.sort(key=rank)  # stable: otherwise collection order


# The test whose fixtures are being set up (a session fixture's request names the session, not it).
_SETTING_UP: dict[str, pytest.Item] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _SETTING_UP["item"] = item


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """A fresh home and no stray settings; keyring is an in-memory backend (no OS keyring here)."""
    for var in _ISOLATE:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("TASTEBOT_HOME", str(home))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "memory_keyring.MemoryKeyring")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "tests" / "support"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.chdir(tmp_path)
    try:
        import memory_keyring

        memory_keyring.MemoryKeyring.clear()
    except ImportError:
        pass
    yield home


@pytest.fixture
def home(isolated_env) -> Path:
    return isolated_env


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent ({SHARED}); it is developer and CI material, not part of tastebot")
    return SHARED


def _start_sandbox(**kwargs):
    from tastebot.sandbox import Sandbox

    sb = Sandbox(**kwargs)
    sb.start()
    return sb


@pytest.fixture
def sandbox():
    """A development-profile sandbox with a small generated catalogue."""
    sb = _start_sandbox(profile="development", seed=7, n_tracks=600)
    yield sb
    sb.stop()


@pytest.fixture
def sandbox_ext():
    sb = _start_sandbox(profile="extended", seed=7, n_tracks=600)
    yield sb
    sb.stop()


@pytest.fixture
def make_sandbox():
    """Factory for a sandbox with custom options; every one started is stopped at the end."""
    started = []

    def factory(**kwargs):
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("n_tracks", 600)
        sb = _start_sandbox(**kwargs)
        started.append(sb)
        return sb

    yield factory
    for sb in started:
        sb.stop()


# -- a completed login (issue 3), for tests of commands that need Spotify ----------------------------

def _log_in(sb, tmp_path, monkeypatch):
    """Log in to sb through the real PKCE flow (auto-approved) in this test's home.

    Afterwards TASTEBOT_SPOTIFY_URL and TASTEBOT_CLIENT_ID point at sb, so load_settings() and
    `tastebot` subprocesses use it, and MEMORY_KEYRING_FILE shares the test keyring with them.
    """
    from login_helpers import CLIENT_ID, login_to

    monkeypatch.setenv("MEMORY_KEYRING_FILE", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sb.url)
    monkeypatch.setenv("TASTEBOT_CLIENT_ID", CLIENT_ID)
    login_to(sb)
    return sb


@pytest.fixture
def logged_in(sandbox, home, tmp_path, monkeypatch):
    """The development-profile sandbox with a completed login in this test's home."""
    return _log_in(sandbox, tmp_path, monkeypatch)


@pytest.fixture
def make_logged_in(make_sandbox, home, tmp_path, monkeypatch):
    """Factory: make_logged_in(**sandbox_kwargs) starts a sandbox, logs in to it, returns it."""

    def factory(**sandbox_kwargs):
        return _log_in(make_sandbox(**sandbox_kwargs), tmp_path, monkeypatch)

    return factory


# -- one trained home for the whole run ------------------------------------------------------------

def _build_trained_home(root: Path) -> dict:
    """Login, then `tastebot train --epochs 3 --ensemble 1 --json` on the empty store (so the command
    harvests first), in root/home against a development sandbox of worlds.TRAINED_WORLD that is stopped
    afterwards. Returns what the users check against, the train command's output included
    (test_train_cli checks it: one Keras training serves both)."""
    from cli_runner import invoke
    from login_helpers import CLIENT_ID, issued_tokens, login_to, sandbox_settings
    from worlds import TRAINED_WORLD

    from tastebot.sandbox import Sandbox

    home = root / "home"
    with pytest.MonkeyPatch.context() as mp:
        for var in _ISOLATE:
            mp.delenv(var, raising=False)
        mp.chdir(root)  # no stray ./.env
        mp.setenv("PYTHON_KEYRING_BACKEND", "memory_keyring.MemoryKeyring")
        mp.setenv("MEMORY_KEYRING_FILE", str(root / "keyring.json"))
        with Sandbox(profile="development", **TRAINED_WORLD) as sb:
            login_to(sb, settings=sandbox_settings(sb, home=str(home)))
            train = invoke(["train", "--epochs", "3", "--ensemble", "1", "--json"],
                           env={"TASTEBOT_HOME": str(home), "TASTEBOT_SPOTIFY_URL": sb.url, "TASTEBOT_CLIENT_ID": CLIENT_ID})
            assert train.code == 0, train.err[-3000:]
            tokens = sorted(issued_tokens(sb))
    return {"home": str(home), "run_id": json.loads(train.out)["run_id"], "tokens": tokens,
            "train_cli": {"code": train.code, "out": train.out, "err": train.err}}


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory):
    """A home with a harvested store and a trained model run, built once per test run (across xdist
    workers too: one builds it under a file lock, the others read it). Under xdist the worker of
    the tests that train builds it when one of them uses it (so only that worker imports
    TensorFlow); the others wait for it. Read-only: a test that changes anything copies it first
    (`copy_trained_home`).

    .home (Path), .settings (for that home), .run_id, .metrics (the run's metrics.json), .frame (the store's
    labelled tracks), .tokens (every token the sandbox issued while building it), .train_cli (the
    building `tastebot train --json`: code, out, err)."""
    from filelock import FileLock

    from tastebot.settings import load_settings
    from tastebot.store import open_store

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "trained-home"
    done = root / "built.json"
    asking = _SETTING_UP.get("item")
    if os.environ.get("PYTEST_XDIST_WORKER") and asking is not None and asking.get_closest_marker("trains") is None \
            and any(item.get_closest_marker("trains") is not None and "trained_home" in item.fixturenames
                    for item in asking.session.items):
        deadline = time.monotonic() + 600
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    with FileLock(str(shared / "trained-home.lock")):
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            done.write_text(json.dumps(_build_trained_home(root)))
        info = json.loads(done.read_text())
    settings = load_settings(home=info["home"])
    with open_store(settings, readonly=True) as store:
        frame = store.labelled_tracks()
    metrics = json.loads((settings.models_dir / info["run_id"] / "metrics.json").read_text())
    assert info["tokens"], "the sandbox handed out no token: a no-token check would prove nothing"
    return SimpleNamespace(home=Path(info["home"]), settings=settings, run_id=info["run_id"], metrics=metrics,
                           frame=frame, tokens=set(info["tokens"]),
                           train_cli=SimpleNamespace(**info["train_cli"]))


def copy_trained_home(trained, dest: Path, *, store: bool = True):
    """Settings for a copy of the trained home at dest: its model runs and LATEST, and its store
    unless store=False. The credentials are not copied (the sandbox that issued them is gone)."""
    from tastebot.settings import load_settings

    dest.mkdir(parents=True)
    shutil.copytree(trained.home / "models", dest / "models")
    if store:
        shutil.copy2(trained.home / "tastebot.db", dest / "tastebot.db")
    return load_settings(home=str(dest))


@pytest.fixture
def copy_trained(trained_home, tmp_path):
    """copy_trained(dest=None, store=True) -> settings for a private copy of the trained home."""
    made = []

    def factory(dest: Path | None = None, *, store: bool = True):
        dest = dest or tmp_path / f"trained-copy-{len(made)}"
        made.append(dest)
        return copy_trained_home(trained_home, dest, store=store)

    return factory
