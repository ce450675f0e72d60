"""Issue 16: the rough edges a new user and a hostile server found, each with a test that fails
without its fix. Tests run the CLI (in this process, or in a subprocess when the OS must say no)
against the in-repo sandbox over real HTTP.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from login_helpers import CLIENT_ID, cli_env, login_to, sandbox_settings

SETPRIV = shutil.which("setpriv")
# Without CAP_DAC_OVERRIDE even root obeys file modes.
NO_DAC = [SETPRIV or "setpriv", "--bounding-set=-dac_override,-dac_read_search",
          "--inh-caps=-dac_override,-dac_read_search"]


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err
        self.text = " ".join(err.split())

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out[-400:]!r}, err={self.err[-800:]!r})"


def run(*args: str, pre: list[str] | None = None, env: dict | None = None, timeout: float = 300) -> Result:
    if pre or env:
        proc = subprocess.run([*(pre or []), sys.executable, "-m", "tastebot", *args], capture_output=True,
                              text=True, env=env or cli_env(), timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)
    from tastebot.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.err + result.out, result


# -- 1. logout on a read-only home ------------------------------------------------------------------

@pytest.mark.skipif(SETPRIV is None, reason="needs setpriv to drop CAP_DAC_OVERRIDE (tests run as root)")
def test_logout_on_a_read_only_home_says_the_token_is_still_there(sandbox, home, monkeypatch):
    settings = sandbox_settings(sandbox, home=str(home), insecure_storage=True)
    login_to(sandbox, settings=settings)
    monkeypatch.setenv("TASTEBOT_SPOTIFY_URL", sandbox.url)
    monkeypatch.setenv("TASTEBOT_CLIENT_ID", CLIENT_ID)
    token_file = settings.token_file
    assert token_file.exists()
    paths = [home, *home.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        result = run("logout", pre=NO_DAC)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert result.code == 74, result
    no_traceback(result)
    assert "token is still there" in result.text, result
    assert "unexpected" not in result.text
    assert token_file.exists()


# -- 4. a malformed playlist id is bad input; a well-formed unknown one stays a warning --------------

@pytest.mark.parametrize("option", ["--dislike-playlist", "--like-playlist"])
@pytest.mark.parametrize("ref", ["spotify:playlist:short", "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5",
                                 "37i9dQZF1DXcBWIGoYBM5Mx"])
def test_malformed_playlist_id_is_bad_input(logged_in, option, ref):
    logged_in.reset_stats()
    result = run("harvest", "--sampled-negatives", "never", option, ref)
    assert result.code == 2, result
    no_traceback(result)
    assert "Not a Spotify playlist" in result.text, result
    assert logged_in.stats()["total"] == 0  # refused before any request


def test_well_formed_unknown_playlist_is_a_warning(logged_in):
    unknown = "0000000000000000000000"
    result = run("harvest", "--sampled-negatives", "never", "--dislike-playlist", f"spotify:playlist:{unknown}",
                 "--json")
    assert result.code == 0, result
    sources = json.loads(result.out)["sources"]
    assert any(unknown in s["name"] + s["detail"] and s["status"] == "skipped" for s in sources), sources
