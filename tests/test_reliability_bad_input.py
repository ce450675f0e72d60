"""Bad input through the CLI: each case gets its one-line message, its documented exit code, no
traceback, and whatever was stored before is still there afterwards.

One harvested store (sandbox library + its corpus) is built once per worker and copied into each
test's home, so most cases cost one CLI call. Cases that need the OS to say no (disk full, read-only
home, unreadable store) run `python -m tastebot` in a subprocess with the limit applied.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import Result, invoke
from login_helpers import CLIENT_ID, cli_env, login_to, sandbox_settings

from tastebot.settings import load_settings
from tastebot.store import open_store

A = "4uLU6hMCjMI75M1A2tKUQC"
B = "7ouMYWpwJ422jRcDASZB7P"
UNKNOWN_PLAYLIST = "0000000000000000000000"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SETPRIV = shutil.which("setpriv")
# Without CAP_DAC_OVERRIDE even root obeys file modes: the way to make "unreadable" mean unreadable here.
NO_DAC = [SETPRIV or "setpriv", "--bounding-set=-dac_override,-dac_read_search",
          "--inh-caps=-dac_override,-dac_read_search"]


# -- running the CLI ---------------------------------------------------------------------------

def run(*args: str, pre: list[str] | None = None, preexec=None, env: dict | None = None, timeout: float = 120,
        subprocess_: bool = False) -> Result:
    """The CLI's entry point, in this process (fast) or, when the OS must be limited, in a subprocess."""
    if pre or preexec or env or subprocess_:
        proc = subprocess.run([*(pre or []), sys.executable, "-m", "tastebot", *args], capture_output=True, text=True,
                              env=env or cli_env(), preexec_fn=preexec, timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)
    return invoke(args)


def assert_refused(result: Result, code: int, *words: str) -> None:
    assert result.code == code, result
    assert "Traceback" not in result.err and "Traceback" not in result.out, result
    for w in words:
        assert "".join(w.split()) in result.flat, (w, result)
    # The error itself is one line: the "error:" line carries the message (hints go on their own line).
    errors = [line for line in result.err.splitlines() if line.startswith(("error:", "Error:"))]
    assert len(errors) == 1, result


# -- one harvested world per worker ------------------------------------------------------------

@pytest.fixture(scope="session")  # not "module": xdist interleaves modules, tearing those down
def world(tmp_path_factory):
    """A sandbox and a template home: logged in (token in the 0600 file), harvested, corpus imported."""
    from tastebot.imports.corpus import import_corpus
    from tastebot.harvest import Harvester, HarvestOptions
    from tastebot.sandbox import Sandbox
    from tastebot.sandbox.format import export_corpus_csv
    from tastebot.spotify.client import SpotifyClient

    root = tmp_path_factory.mktemp("bad-input-world")
    sb = Sandbox(seed=7, n_tracks=600).start()
    template = root / "home"
    settings = sandbox_settings(sb, home=str(template), insecure_storage=True)
    login_to(sb, settings=settings)
    corpus_csv = root / "corpus.csv"
    export_corpus_csv(sb.catalog, corpus_csv)
    with open_store(settings) as store:
        Harvester(settings, SpotifyClient(settings), store, HarvestOptions(sampled_negatives="never")).run()
        import_corpus(store, [corpus_csv])
    yield {"sb": sb, "template": template, "corpus_csv": corpus_csv}
    sb.stop()


@pytest.fixture
def filled_home(world, home, monkeypatch):
    """This test's home as a copy of the harvested template, pointed at the module's sandbox."""
    shutil.copytree(world["template"], home)
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", world["sb"].url)
    monkeypatch.setenv("TASTEBOT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TASTEBOT_INSECURE_STORAGE", "1")
    return home


def store_snapshot() -> tuple:
    with open_store(load_settings()) as s:
        assert s.integrity_check() == "ok"
        return s.dump_library(), s.corpus_stats(), s.library_counts()


def file_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"}


def random_id(rng: random.Random) -> str:
    return "".join(rng.choice(BASE62) for _ in range(22))


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# -- playlist references and unknown ids ----------------------------------------------------------

@pytest.mark.parametrize("ref", [
    "spotify:album:4aawyAB9vmqN3uQ7FjRGTy",
    "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy",
    "spotify:playlist:",
    "37i9dQZF1DXcBWIGoYBM5M;drop table tracks",
    "https://open.spotify.com.evil.example/playlist/37i9dQZF1DXcBWIGoYBM5M",
    "[bold red]x[/]",
])
def test_foreign_or_malformed_playlist_refs_are_refused_before_any_request(filled_home, world, ref):
    before = store_snapshot()
    world["sb"].reset_stats()
    result = run("harvest", "--dislike-playlist", ref)
    assert_refused(result, 2, "Not a Spotify playlist")
    assert world["sb"].stats()["total"] == 0  # refused before talking to Spotify
    assert store_snapshot() == before


def test_markup_in_a_refused_ref_is_printed_literally(filled_home):
    result = run("harvest", "--like-playlist", "[link=https://evil.example]click[/link]")
    assert_refused(result, 2, "[link=https://evil.example]click[/link]")


def test_unknown_like_playlist_is_skipped_with_its_reason(filled_home, world):
    before = store_snapshot()
    result = run("harvest", "--sampled-negatives", "never", "--like-playlist", f"spotify:playlist:{UNKNOWN_PLAYLIST}",
                 "--json")
    assert result.code == 0, result
    sources = {s["name"]: s for s in json.loads(result.out)["sources"]}
    skipped = [s for name, s in sources.items() if UNKNOWN_PLAYLIST in name or UNKNOWN_PLAYLIST in s["detail"]]
    assert skipped and skipped[0]["status"] == "skipped", sources
    after = store_snapshot()
    assert after[2]["tracks"] >= before[2]["tracks"]


def test_report_of_an_unknown_run_id(filled_home):
    result = run("report", "--run", "20990101T000000Z-seed0")
    assert_refused(result, 2, "No model run '20990101T000000Z-seed0'")
    result = run("report", "--run", "nope")
    assert_refused(result, 2, "No model run 'nope'")


def _unreadable_playlist(world) -> str:
    """A playlist of another user's that the listener neither owns nor collaborates on."""
    cat = world["sb"].catalog
    me = cat["listener"]["user_id"]
    return next(p["id"] for p in cat["playlists"] if p["owner_id"] != me and not p.get("collaborative")
                and any(p["track_ids"]))


# Things that do not exist are bad input (exit 2), never an outage (69) a scheduled job would retry.
@pytest.mark.parametrize("args, code, words, not_words", [
    (["--from-playlist", f"spotify:playlist:{UNKNOWN_PLAYLIST}"], 2, ["not found", UNKNOWN_PLAYLIST], ["try later"]),
    (["--seed-track", f"spotify:track:{UNKNOWN_PLAYLIST}"], 2, ["not found", UNKNOWN_PLAYLIST],
     ["development", "try later"]),
    # Spotify's own editorial playlists exist but answer 404 to development apps: a limit of the app.
    (["--from-playlist", "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M"], 3, ["editorial", "development-mode"],
     ["try later"]),
], ids=["unknown playlist", "unknown seed track", "editorial playlist"])
def test_what_does_not_exist_is_not_an_outage(filled_home, args, code, words, not_words):
    result = run("recommend", "--blend", "0", *args)
    assert_refused(result, code, *words)
    for w in not_words:
        assert w not in result.err, result


def test_a_playlist_the_app_may_not_read_is_a_limit_of_the_app(filled_home, world):
    pid = _unreadable_playlist(world)
    result = run("recommend", "--blend", "0", "--from-playlist", f"spotify:playlist:{pid}")
    assert_refused(result, 3, "development-mode", "own or collaborate on", pid)


# -- the store ------------------------------------------------------------------------------------

def _garbage_store(home: Path) -> bytes:
    for p in home.glob("tastebot.db*"):
        p.unlink()
    data = b"this is not sqlite\x00\xff" * 300
    (home / "tastebot.db").write_bytes(data)
    return data


@pytest.mark.parametrize("args", [
    ["corpus", "status"],
    ["harvest", "--sampled-negatives", "never"],
    ["recommend", "--offline"],
])
def test_garbage_store_is_named_and_left_untouched(filled_home, args):
    data = _garbage_store(filled_home)
    result = run(*args)
    assert_refused(result, 74, "is corrupt or not a tastebot store", "Move it aside")
    assert (filled_home / "tastebot.db").read_bytes() == data


def test_truncated_store_is_reported_not_crashed(filled_home):
    db = filled_home / "tastebot.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    result = run("corpus", "status")
    assert_refused(result, 74, "tastebot.db")
    assert len(db.read_bytes()) == len(data) // 3


def test_store_from_a_newer_tastebot(filled_home):
    db = filled_home / "tastebot.db"
    with sqlite3.connect(db) as conn:  # forge what a future version would leave behind
        conn.execute("INSERT INTO schema_migrations VALUES ('library', 99, '2099-01-01T00:00:00+00:00')")
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = run("corpus", "status")
    assert_refused(result, 74, "newer tastebot", "upgrade tastebot")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_store_path_is_a_folder(home):
    (home / "tastebot.db").mkdir(parents=True)
    result = run("corpus", "import", str(write(home.parent / "c.csv", f"playlist_id,track_id\nP1,{A}\n")))
    assert_refused(result, 74, "tastebot.db")


@pytest.mark.skipif(SETPRIV is None, reason="needs setpriv to drop CAP_DAC_OVERRIDE (tests run as root)")
def test_unreadable_store(filled_home):
    db = filled_home / "tastebot.db"
    before = file_hashes(filled_home)
    db.chmod(0o000)
    try:
        result = run("corpus", "status", pre=NO_DAC)
    finally:
        db.chmod(0o644)
    assert_refused(result, 74, "tastebot.db")
    assert file_hashes(filled_home) == before


@pytest.mark.skipif(SETPRIV is None, reason="needs setpriv to drop CAP_DAC_OVERRIDE (tests run as root)")
def test_read_only_home(filled_home, world):
    before = store_snapshot()
    paths = [filled_home, *filled_home.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        result = run("corpus", "import", str(world["corpus_csv"]), pre=NO_DAC)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert result.code in (74, 75), result  # the store cannot be written (or the lock cannot be taken)
    assert_refused(result, result.code, str(filled_home))
    assert store_snapshot() == before


def _fsize_limit(limit: int):
    def apply() -> None:
        # A full disk, as seen by one process: writes past `limit` bytes fail with EFBIG, not a kill.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_full_during_corpus_import_loses_nothing(filled_home, tmp_path):
    before = store_snapshot()
    db_size = (filled_home / "tastebot.db").stat().st_size
    big = tmp_path / "big.csv"
    rng = random.Random(1)
    rows = [f"PL{i // 40:05d},{random_id(rng)}" for i in range(60_000)]
    big.write_text("playlist_id,track_id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = run("corpus", "import", str(big), preexec=_fsize_limit(db_size + 256 * 1024))
    assert_refused(result, 74, "tastebot.db", "file-size limit", "ulimit -f")  # named, not "disk I/O error"
    assert store_snapshot() == before


def test_disk_full_during_features_import_loses_nothing(filled_home, tmp_path):
    before = store_snapshot()
    db_size = (filled_home / "tastebot.db").stat().st_size
    wal = filled_home / "tastebot.db-wal"
    wal_size = wal.stat().st_size if wal.exists() else 0
    rng = random.Random(2)
    lines = ["track_id,energy,danceability,valence,tempo"]
    lines += [f"{random_id(rng)},0.5,0.25,0.75,120.5" for _ in range(40_000)]
    csv_file = write(tmp_path / "features.csv", "\n".join(lines) + "\n")
    result = run("features", "import", str(csv_file), preexec=_fsize_limit(max(db_size, wal_size) + 128 * 1024))
    assert_refused(result, 74, "tastebot.db", "file-size limit")
    assert store_snapshot() == before


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


CAN_MOUNT_TMPFS = _can_mount_tmpfs()
needs_tmpfs = pytest.mark.skipif(not CAN_MOUNT_TMPFS, reason="needs root and unshare to mount a small tmpfs")


def run_on_full_disk(src_home: Path, mount: Path, *args: str) -> tuple[Result, Path]:
    """`tastebot --home DISK/home ARGS` with DISK a tmpfs (in a private mount namespace) holding a copy of
    `src_home` and filled to the last byte: a full disk as `df` shows one, ENOSPC on every write."""
    mount.mkdir(parents=True, exist_ok=True)
    size_kb = sum(p.stat().st_size for p in src_home.rglob("*") if p.is_file()) // 1024 + 512
    script = (f"mount -t tmpfs -o size={size_kb}k tmpfs {mount} && cp -a {src_home} {mount}/home"
              f" && (dd if=/dev/zero of={mount}/filler bs=4k 2>/dev/null; true)"
              f" && exec {sys.executable} -m tastebot --home {mount}/home \"$@\"")
    proc = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", *args], capture_output=True, text=True,
                          env=cli_env(), timeout=120)
    return Result(proc.returncode, proc.stdout, proc.stderr), mount / "home"


# `exclude list` reads through a read-only store, which touches the file only at its first query: the
# store's error mapping must cover reads too, not only opening and transactions.
def test_exclude_list_on_a_corrupt_store(filled_home):
    data = _garbage_store(filled_home)
    assert_refused(run("exclude", "list"), 74, "is corrupt or not a tastebot store")
    assert (filled_home / "tastebot.db").read_bytes() == data


@pytest.mark.skipif(SETPRIV is None, reason="needs setpriv to drop CAP_DAC_OVERRIDE (tests run as root)")
def test_exclude_list_on_a_read_only_home(filled_home):
    assert run("exclude", "add", f"spotify:artist:{A}").code == 0
    before = file_hashes(filled_home)
    paths = [filled_home, *filled_home.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        result = run("exclude", "list", pre=NO_DAC)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert_refused(result, 74, "tastebot.db", "read-only")
    assert file_hashes(filled_home) == before


@needs_tmpfs
def test_exclude_list_on_a_full_disk(filled_home, tmp_path):
    result, _ = run_on_full_disk(filled_home, tmp_path / "disk", "exclude", "list")
    assert_refused(result, 74, "is full", "tastebot.db")


@needs_tmpfs
def test_a_full_disk_is_called_full_with_its_path(filled_home, tmp_path):
    result, home = run_on_full_disk(filled_home, tmp_path / "disk", "exclude", "add", f"spotify:artist:{A}")
    assert_refused(result, 74, f"The disk holding {home}/tastebot.db is full (0 bytes free of",
                   "Nothing already stored was lost")
    assert "disk I/O error" not in result.err


@needs_tmpfs
def test_a_full_disk_under_the_report_is_called_full(copy_trained, tmp_path):
    trained = copy_trained(tmp_path / "trained").home
    result, home = run_on_full_disk(trained, tmp_path / "disk", "report")
    assert_refused(result, 74, f"The disk holding {home}/reports", "is full")


# -- models -------------------------------------------------------------------------------------

def _fake_run(home: Path, run_id: str = "20260101T000000Z-seed0", *, metrics: str | None = None) -> Path:
    run_dir = home / "models" / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.json").write_text(metrics if metrics is not None else json.dumps({"run_id": run_id}),
                                          encoding="utf-8")
    (run_dir / "preprocessing.json").write_text("{}", encoding="utf-8")
    (home / "models" / "LATEST").write_text(run_id + "\n", encoding="utf-8")
    return run_dir


def test_latest_pointing_nowhere(filled_home):
    (filled_home / "models").mkdir()
    (filled_home / "models" / "LATEST").write_text("20260101T000000Z-seed0\n", encoding="utf-8")
    result = run("report")
    assert_refused(result, 74, "No model run '20260101T000000Z-seed0'")


def test_latest_pointing_outside_the_models_folder(filled_home):
    (filled_home / "models").mkdir()
    (filled_home / "models" / "LATEST").write_text("../../etc\n", encoding="utf-8")
    result = run("report")
    assert_refused(result, 74, "is not a model run id")


def test_garbage_metrics_json(filled_home):
    run_dir = _fake_run(filled_home, metrics="{not json\x00")
    result = run("report")
    assert_refused(result, 74, "Cannot read", "metrics.json")
    assert (run_dir / "metrics.json").read_text(encoding="utf-8") == "{not json\x00"


def test_foreign_metrics_json(filled_home):
    _fake_run(filled_home, metrics="[1, 2, 3]")
    result = run("report")
    assert_refused(result, 74, "metrics.json")


@pytest.mark.slow
def test_corrupt_model_file_is_refused_with_how_to_recover(filled_home):
    """A damaged model is exit 74 with the way out (retrain, or --blend 0), not a silent fallback
    (issue 16, item 2); --blend 0 then ranks without it."""
    run_dir = _fake_run(filled_home, metrics=json.dumps({"run_id": "x", "networks": ["model.keras"]}))
    (run_dir / "model.keras").write_bytes(b"PK\x03\x04 not really a zip" * 50)
    (run_dir / "preprocessing.json").write_text(json.dumps({"columns": []}), encoding="utf-8")
    before = store_snapshot()
    result = run("recommend", "--offline", "-n", "5", "--json")
    assert_refused(result, 74, "retrain", "--blend 0")
    result = run("recommend", "--offline", "-n", "5", "--json", "--blend", "0")
    assert result.code == 0, result
    assert "Traceback" not in result.err
    assert len(json.loads(result.out)["recommendations"]) == 5
    after = store_snapshot()
    for table, rows in before[0].items():  # recommend may add what it learnt; it never removes
        assert set(rows) <= set(after[0][table]), table
    assert after[1] == before[1]


# -- CSV files ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, data, words", [
    ("features-utf16.csv", f"track_id,energy\n{A},0.5\n".encode("utf-16"), ["UTF-8"]),
    ("features-nan.csv", f"track_id,energy\n{A},nan\n{B},inf\n".encode(), ["line"]),
    ("features-header-only.csv", b"\xef\xbb\xbf", ["empty"]),
    ("features-comma-decimal.csv", f"track_id;energy\n{A};0,5\n{B};1,5\n".encode(), ["line 2", "'0,5'"]),
])
def test_bad_features_csv(filled_home, tmp_path, name, data, words):
    before = store_snapshot()
    path = tmp_path / name
    path.write_bytes(data)
    result = run("features", "import", str(path))
    assert_refused(result, 2, *words)
    assert store_snapshot() == before


@pytest.mark.parametrize("name, data, words", [
    ("corpus-latin1.csv", f"playlist_id,track_id,playlist_name\nP1,{A},Caf\xe9\n".encode("latin-1"), ["UTF-8"]),
    ("corpus-utf16.csv", f"playlist_id,track_id\nP1,{A}\n".encode("utf-16"), ["corpus-utf16.csv"]),
    ("corpus-no-track.csv", b"playlist_id,song\nP1,hello\n", ["track_id"]),
])
def test_bad_corpus_csv(filled_home, tmp_path, name, data, words):
    before = store_snapshot()
    path = tmp_path / name
    path.write_bytes(data)
    result = run("corpus", "import", str(path))
    assert_refused(result, 2, *words)
    assert store_snapshot() == before


def test_corpus_csv_with_a_word_for_a_number_stores_no_garbage(filled_home, tmp_path):
    """Extra corpus columns are optional data: a bad value is left unknown, never stored as text."""
    path = write(tmp_path / "corpus-bad-number.csv", f"playlist_id,track_id,energy,duration_ms\nP1,{A},loud,long\n")
    before = store_snapshot()
    result = run("corpus", "import", str(path))
    assert result.code in (0, 2), result
    assert "Traceback" not in result.err
    with open_store(load_settings()) as s:
        frame = s.corpus_tracks_frame([A])
    if result.code == 0:
        assert len(frame) == 1
        for column in ("energy", "duration_ms"):
            value = frame.iloc[0][column]
            assert value is None or isinstance(value, (int, float)), (column, value)
    else:
        assert store_snapshot() == before


# -- login settings -------------------------------------------------------------------------------

@pytest.mark.parametrize("uri, words", [
    ("http://localhost:8888/callback", ["refuses `localhost`", "127.0.0.1"]),
    ("https://example.com/callback", ["must start with http://"]),
    ("http://127.0.0.1/callback", ["needs a port"]),
    ("http://192.168.1.20:8888/callback", ["loopback"]),
])
def test_redirect_uri_spotify_would_refuse(sandbox, home, monkeypatch, uri, words):
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sandbox.url)
    sandbox.reset_stats()
    result = run("login", "--no-browser", "--timeout", "5", "--client-id", CLIENT_ID, "--redirect-uri", uri)
    assert_refused(result, 2, *words)
    assert sandbox.stats()["total"] == 0
    assert not (home / "credentials").exists()


def test_missing_client_id(sandbox, home, monkeypatch):
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sandbox.url)
    result = run("login", "--no-browser", "--timeout", "5")
    assert_refused(result, 2, "client ID", "TASTEBOT_CLIENT_ID")


# -- settings -------------------------------------------------------------------------------------

def test_home_is_a_file(tmp_path, monkeypatch):
    target = tmp_path / "a-file"
    target.write_text("keep me", encoding="utf-8")
    monkeypatch.setenv("TASTEBOT_HOME", str(target))
    result = run("corpus", "import", str(write(tmp_path / "c.csv", f"playlist_id,track_id\nP1,{A}\n")))
    assert result.code in (2, 74), result
    assert_refused(result, result.code, str(target))
    assert target.read_text(encoding="utf-8") == "keep me"


READ_ONLY_COMMANDS = [["status"], ["models"], ["report"], ["recommend", "--offline"], ["exclude", "list"],
                      ["corpus", "status"]]


@pytest.mark.parametrize("args", READ_ONLY_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("named_by", ["--home", "TASTEBOT_HOME"])
def test_a_mistyped_home_is_named_and_not_created(tmp_path, monkeypatch, args, named_by):
    typo = tmp_path / "tastebto"
    if named_by == "--home":
        result = run("--home", str(typo), *args)
    else:
        monkeypatch.setenv("TASTEBOT_HOME", str(typo))
        result = run(*args)
    assert_refused(result, 3, f"{named_by} names a folder that does not exist", str(typo))
    assert not typo.exists()


def test_the_default_home_on_first_use_is_still_not_logged_in(tmp_path, monkeypatch):
    monkeypatch.delenv("TASTEBOT_HOME")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    result = run("status")
    assert result.code == 4, result
    assert "not logged in" in result.err.lower() or "not logged in" in result.out.lower(), result


def test_broken_config_toml(filled_home):
    before = store_snapshot()
    (filled_home / "config.toml").write_text("max_wait = [unclosed\n", encoding="utf-8")
    result = run("corpus", "status")
    assert_refused(result, 2, "config.toml")
    (filled_home / "config.toml").unlink()
    assert store_snapshot() == before


def test_max_wait_not_a_number(filled_home, monkeypatch):
    monkeypatch.setenv("TASTEBOT_MAX_WAIT", "soon")
    result = run("harvest")
    assert_refused(result, 2, "TASTEBOT_MAX_WAIT must be a number")


# -- options out of range -------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["recommend", "--blend", "2"], ["--blend", "0.0<=x<=1.0"]),
    (["recommend", "-n", "-1"], ["-n", "x>=1"]),
    (["recommend", "-n", "0"], ["-n"]),
    (["recommend", "--diversity", "1.5"], ["--diversity"]),
    (["recommend", "--max-wait", "-1"], ["--max-wait"]),
    (["recommend", "--dry-run"], ["--dry-run goes with --create-playlist"]),
    (["recommend", "--offline", "--create-playlist"], ["--offline cannot create playlists"]),
    (["recommend", "--json", "--csv"], ["Choose one of --json and --csv"]),
    (["harvest", "--sampled-negatives", "sometimes"], ["--sampled-negatives"]),
])
def test_options_out_of_range(filled_home, args, words):
    before = file_hashes(filled_home)
    result = run(*args)
    assert_refused(result, 2, *words)
    assert file_hashes(filled_home) == before


@pytest.mark.parametrize("args", [["--epochs", "0"], ["--epochs", "-5"]])
def test_train_options_out_of_range(filled_home, args):
    result = run("train", *args)
    assert_refused(result, 2, "--epochs")


# -- not enough data: a brand-new account, no likes, only likes ------------------------------------

def _catalog_with(listener_changes: dict, catalog: dict) -> dict:
    data = copy.deepcopy(catalog)
    data["listener"].update(listener_changes)
    me = data["listener"]["user_id"]
    if "own_playlists" in listener_changes:
        data["playlists"] = [p for p in data["playlists"] if p["owner_id"] != me] + listener_changes.pop("own_playlists")
        data["listener"].pop("own_playlists", None)
    return data


EMPTY_LISTENER = {"saved_tracks": [], "top_tracks": {"short_term": [], "medium_term": [], "long_term": []},
                  "recently_played": [], "followed_artist_ids": [], "followed_playlist_ids": []}


@pytest.fixture
def small_catalog():
    from tastebot.sandbox import generate_catalog

    return generate_catalog(seed=11, n_tracks=300)


def test_brand_new_account_harvests_nothing_then_recommend_says_why(make_logged_in, home, small_catalog):
    sb = make_logged_in(catalog=_catalog_with({**EMPTY_LISTENER, "own_playlists": []}, small_catalog))
    done = run("harvest", "--sampled-negatives", "never", "--json")
    assert done.code == 0, done
    labels = json.loads(done.out)["labels"]
    assert labels["likes"] == 0
    result = run("recommend", "-n", "5")
    assert_refused(result, 3, "No liked tracks", "tastebot harvest")
    assert sb.snapshot() is not None
    assert_refused(run("train", "--epochs", "1"), 3)


def test_no_likes_only_dislikes(make_logged_in, home, small_catalog):
    me = small_catalog["listener"]["user_id"]
    not_for_me = {"id": "NotForMe00000000000000", "name": "Not for me", "owner_id": me, "public": False,
                  "collaborative": False, "description": "", "track_ids": [t["id"] for t in small_catalog["tracks"][:12]]}
    make_logged_in(catalog=_catalog_with({**EMPTY_LISTENER, "own_playlists": [not_for_me]}, small_catalog))
    done = run("harvest", "--sampled-negatives", "never", "--json")
    assert done.code == 0, done
    labels = json.loads(done.out)["labels"]
    assert labels["likes"] == 0 and labels["dislikes_explicit"] == 12
    result = run("recommend", "-n", "5", "--no-search", "--no-albums")
    assert_refused(result, 3, "No liked tracks")
    with open_store(load_settings()) as s:
        assert s.label_counts()["dislikes_explicit"] == 12


def test_only_likes_cannot_train(make_logged_in, home, small_catalog):
    make_logged_in(catalog=_catalog_with({"own_playlists": []}, small_catalog))  # no "Not for me" playlist
    done = run("harvest", "--sampled-negatives", "never", "--json")
    assert done.code == 0, done
    labels = json.loads(done.out)["labels"]
    assert labels["likes"] > 0 and labels["dislikes_explicit"] + labels["dislikes_weak"] == 0
    result = run("train", "--epochs", "1")
    assert_refused(result, 3)
    assert not (home / "models" / "LATEST").exists()


def test_models_marks_a_run_with_a_damaged_network(filled_home):
    run_dir = _fake_run(filled_home, metrics=json.dumps({"run_id": "x", "networks": ["model.keras"]}))
    (run_dir / "model.keras").write_bytes(b"not a keras archive")
    result = run("models", "--json")
    assert result.code == 0, result
    rows = json.loads(result.out)
    rows = rows if isinstance(rows, list) else rows.get("runs", rows)
    assert any("damaged" in (r.get("error") or "") for r in rows), rows
