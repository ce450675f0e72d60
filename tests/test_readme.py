"""Every command in the README runs, against the sandbox, and does what the README says.

Commands are read from the README's ```sh blocks, so a command added there without a test here
fails `test_every_readme_command_is_covered`. Placeholders (YOUR_CLIENT_ID, PLAYLIST_ID, file names)
are filled with real values from the sandbox; the commands themselves are run as written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import invoke

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SUPPORT = Path(__file__).resolve().parent / "support"


def readme_commands() -> list[str]:
    """The command lines of the README's sh blocks, comments stripped, in order."""
    text = README.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra) -> dict[str, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "OPENBLAS_NUM_THREADS": "1"}
    env.update(extra)
    return env


def _run(command: str, env: dict, cwd: Path, timeout: float = 600):
    """A README command line, as written. `tastebot login` runs as its own process (it opens the
    $BROWSER, which Python's webbrowser module reads once per process); the others run the CLI in this
    process (cli_runner.invoke) with the same environment and working folder."""
    argv = shlex.split(command)
    assert argv[0] == "tastebot", command
    if argv[1] == "login":
        res = subprocess.run([sys.executable, "-m", "tastebot", *argv[1:]], capture_output=True, text=True,
                             env=env, cwd=cwd, timeout=timeout)
    else:
        here = os.getcwd()
        os.chdir(cwd)
        try:
            res = invoke(argv[1:], env=env)
        finally:
            os.chdir(here)
    assert "Traceback" not in res.stderr, f"{command}\n{res.stderr[-3000:]}"
    return res


# The commands this file runs, as the README writes them. Kept in step with the README by the first test.
FLOW = [
    "tastebot login --client-id YOUR_CLIENT_ID",
    "tastebot status",
    "tastebot harvest",
    "tastebot train",
    "tastebot recommend --create-playlist",
    "tastebot harvest --dislike-playlist https://open.spotify.com/playlist/PLAYLIST_ID",
    "tastebot features import my-features.csv",
    "tastebot corpus import mpd.slice.0-999.json",
    "tastebot history import my_spotify_data.zip",
    "tastebot recommend -n 50 --diversity 0.3 --new-artists-only",
    "tastebot recommend --from-playlist spotify:playlist:PLAYLIST_ID --json",
    "tastebot models",
    "tastebot report",
    "tastebot corpus import path/to/mpd/data/",
    "tastebot corpus status",
    "tastebot corpus features",
    "tastebot corpus features --max-requests 200",
    "tastebot logout",
]
SANDBOX = [
    "tastebot sandbox serve --port 8765 --profile development",
    "export TASTEBOT_SPOTIFY_URL=http://127.0.0.1:8765",
    "tastebot login --client-id any-id-works-here",
]
MAKE = ["make demo", "make test"]
DEVELOPING = ["make bench"]


def test_every_readme_command_is_covered():
    covered = FLOW + SANDBOX + MAKE + DEVELOPING
    missing = [c for c in readme_commands() if c not in covered]
    assert not missing, f"README commands without a test: {missing}"
    # and the quick start is exactly the two commands
    assert readme_commands()[:2] == MAKE


@pytest.mark.parametrize("target, expect", [("demo", "tastebot demo"), ("test", "pytest"),
                                            ("bench", "benchmarks/recommend.py")])
def test_make_targets_run_what_the_readme_says(target, expect):
    """`make demo`/`make test` themselves are run by CI and by test_demo (what `make demo` runs); here,
    that each target runs that command from the project's .venv."""
    res = subprocess.run(["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert expect in res.stdout
    assert ".venv/bin/" in res.stdout


def _write_mpd_slice(path: Path, catalog: dict, n_playlists: int = 12) -> int:
    tracks = {t["id"]: t for t in catalog["tracks"]}
    artists = {a["id"]: a for a in catalog["artists"]}
    playlists = []
    others = [p for p in catalog["playlists"] if p["owner_id"] != catalog["listener"]["user_id"]][:n_playlists]
    for pid, pl in enumerate(others):
        items = []
        for pos, tid in enumerate(t for t in pl["track_ids"] if t):
            t = tracks[tid]
            items.append({"pos": pos, "track_uri": f"spotify:track:{tid}", "track_name": t["name"],
                          "artist_name": artists[t["artist_ids"][0]]["name"],
                          "artist_uri": f"spotify:artist:{t['artist_ids'][0]}",
                          "album_uri": f"spotify:album:{t['album_id']}", "album_name": "x",
                          "duration_ms": t["duration_ms"]})
        playlists.append({"name": pl["name"], "pid": 1000 + pid, "num_tracks": len(items), "tracks": items})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"info": {"slice": "0-999"}, "playlists": playlists}), encoding="utf-8")
    return len(playlists)


def _write_export_zip(path: Path, catalog: dict) -> None:
    """The sandbox listener's data export, zipped as Spotify delivers it."""
    import tempfile
    import zipfile

    from tastebot.sandbox.history import export_history

    with tempfile.TemporaryDirectory() as tmp:
        export_history(catalog, tmp, plays=1500, seed=11)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(Path(tmp).rglob("*.json")):
                zf.write(f, f"MyData/{f.relative_to(tmp)}")


@pytest.mark.slow
@pytest.mark.trains
def test_readme_flow_against_the_sandbox(make_sandbox, home, tmp_path):
    """login, status, harvest, train, recommend --create-playlist and the rest, as the README writes them."""
    # Extended: ranking another user's public playlist (--from-playlist) needs it; a development
    # app reads only playlists the listener owns, whose tracks are all known already.
    sb = make_sandbox(profile="extended", seed=11, n_tracks=800)
    catalog = sb.catalog
    listener = catalog["listener"]["user_id"]
    dislike = next(p for p in catalog["playlists"] if p["owner_id"] == listener and p["name"] == "Not for me")
    stranger = next(p for p in catalog["playlists"] if p["owner_id"] != listener and p["public"] and len(p["track_ids"]) > 10)
    cwd = tmp_path / "work"
    cwd.mkdir()
    feature_ids = [t["id"] for t in catalog["tracks"][:5]]
    (cwd / "my-features.csv").write_text("track_id,danceability,energy\n"
                                         + "".join(f"{t},0.5,0.6\n" for t in feature_ids))
    n_slice = _write_mpd_slice(cwd / "mpd.slice.0-999.json", catalog)
    _write_mpd_slice(cwd / "path/to/mpd/data/mpd.slice.1000-1999.json", catalog, n_playlists=5)
    _write_export_zip(cwd / "my_spotify_data.zip", catalog)

    # `tastebot train` as written, with the small defaults a CI job would set (the README's 30 epochs
    # x 3 networks are test_train_model's business, not this flow's)
    env = _env(TASTEBOT_HOME=str(home), TASTEBOT_SPOTIFY_URL=sb.url,
               TASTEBOT_REDIRECT_URI=f"http://127.0.0.1:{_free_port()}/callback",
               MEMORY_KEYRING_FILE=str(tmp_path / "keyring.json"),
               BROWSER=f"{sys.executable} {SUPPORT / 'login_helpers.py'} %s",
               TASTEBOT_EPOCHS="3", TASTEBOT_ENSEMBLE="1")
    fill = {"YOUR_CLIENT_ID": "0123456789abcdef0123456789abcdef"}
    outputs = {}
    for command in FLOW:
        real = command
        for key, value in fill.items():
            real = real.replace(key, value)
        real = real.replace("open.spotify.com/playlist/PLAYLIST_ID", f"open.spotify.com/playlist/{dislike['id']}")
        real = real.replace("spotify:playlist:PLAYLIST_ID", f"spotify:playlist:{stranger['id']}")
        res = _run(real, env, cwd)
        assert res.returncode == 0, f"{command}: exit {res.returncode}\n{res.stderr[-3000:]}"
        outputs[command] = res

    assert "Logged in as" in outputs[FLOW[0]].stderr + outputs[FLOW[0]].stdout
    assert "extended" in (outputs["tastebot status"].stdout + outputs["tastebot status"].stderr).lower()
    # the playlist exists in the sandbox with 30 tracks (the default -n), and its URL was printed
    created = outputs["tastebot recommend --create-playlist"]
    # ... as its address in the sandbox: an open.spotify.com link would point at the real Spotify
    url = re.search(r"/v1/playlists/(\w+)", created.stdout + created.stderr)
    assert url, created.stderr[-2000:]
    assert "open.spotify.com" not in created.stdout + created.stderr
    assert len(sb.state.playlists[url.group(1)].entries) == 30
    ranked = json.loads(outputs["tastebot recommend --from-playlist spotify:playlist:PLAYLIST_ID --json"].stdout)
    ranked_ids = [r["track_id"] for r in ranked["recommendations"]]
    assert ranked_ids and set(ranked_ids) <= set(stranger["track_ids"])
    scores = [r["score"] for r in ranked["recommendations"]]
    assert scores == sorted(scores, reverse=True)
    assert f"{n_slice}" in outputs["tastebot corpus import mpd.slice.0-999.json"].stderr + \
        outputs["tastebot corpus import mpd.slice.0-999.json"].stdout
    assert "corpus tracks" in outputs["tastebot corpus features"].stderr  # the share covered, said
    history = outputs["tastebot history import my_spotify_data.zip"]
    assert "likes" in history.stderr and "listening session" in history.stderr, history.stderr[-2000:]
    trained = json.loads(next((home / "models").glob("*/metrics.json")).read_text())["settings"]
    assert (trained["epochs"], trained["ensemble"]) == (3, 1), "TASTEBOT_EPOCHS / TASTEBOT_ENSEMBLE were not used"
    reports = list((home / "reports").rglob("report.html"))
    assert reports, "tastebot report wrote no page"
    # logout leaves no token: status now says not logged in (exit 4)
    res = _run("tastebot status", env, cwd)
    assert res.returncode == 4


@pytest.mark.slow
def test_readme_sandbox_commands(tmp_path, home):
    """`tastebot sandbox serve`, then `export TASTEBOT_SPOTIFY_URL=...` and a login against it."""
    port = _free_port()
    serve = SANDBOX[0].replace("8765", str(port))
    proc = subprocess.Popen([sys.executable, "-m", "tastebot", *shlex.split(serve)[1:], "--tracks", "300"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        deadline = time.time() + 60
        url = None
        while time.time() < deadline and url is None:
            line = proc.stdout.readline()
            m = re.search(r"http://127\.0\.0\.1:\d+", line)
            if m:
                url = m.group(0)
        assert url == f"http://127.0.0.1:{port}"
        env = _env(TASTEBOT_HOME=str(home), TASTEBOT_SPOTIFY_URL=url,
                   TASTEBOT_REDIRECT_URI=f"http://127.0.0.1:{_free_port()}/callback",
                   MEMORY_KEYRING_FILE=str(tmp_path / "keyring.json"),
                   BROWSER=f"{sys.executable} {SUPPORT / 'login_helpers.py'} %s")
        res = _run(SANDBOX[2], env, tmp_path)
        assert res.returncode == 0, res.stderr
        assert "Logged in as" in res.stdout + res.stderr
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
