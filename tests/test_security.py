"""Security: after a full run (login, harvest, corpus import, recommend with a playlist, exports)
no issued token is in any output or file but the 0600 fallback; logout leaves nothing; the login
callback prints attacker-supplied text literally; the sandbox binds loopback only; and nothing is
sent anywhere but the sandbox (sockets that refuse every other destination, in the login subprocess from its
first import and in this process for the other commands).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cli_runner import invoke
from login_helpers import (
    CLIENT_ID,
    approve,
    cli_env,
    free_port,
    issued_tokens,
    leaks,
    read_url_line,
    start_cli,
)

from tastebot.sandbox.format import export_corpus_csv


def _login_cli(env: dict, *extra: str) -> dict[str, str]:
    port = free_port()
    proc = start_cli(["login", "--no-browser", "--json", "--redirect-uri", f"http://127.0.0.1:{port}/callback",
                      *extra], env=env)
    url = read_url_line(proc)
    page = approve(url)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return {"login stdout": out, "login stderr": err, "callback page": page.text}


@pytest.mark.slow
def test_full_run_leaks_no_token_and_logout_leaves_nothing(make_sandbox, copy_trained, home, tmp_path, monkeypatch):
    """Also the network check: every command runs with sockets that refuse (and record) any
    destination but loopback, so nothing is sent anywhere but the sandbox. The login runs in its own
    process (guarded from its first import on); the other commands run in this process (cli_runner.invoke,
    under the same guard), since a process start is not what this test checks and each would import
    TensorFlow again. The model runs come from the suite's trained home, whose training output and
    files test_train_cli scans for its own tokens; this run does everything else."""
    sb = make_sandbox(n_tracks=600, token_ttl=3)  # short-lived tokens: refreshes happen during the run
    copy_trained(home, store=False)
    export_corpus_csv(sb.catalog, tmp_path / "corpus.csv")
    guard_env, netlog = _netguard(tmp_path)
    settings_env = {"TASTEBOT_SPOTIFY_URL": sb.url, "TASTEBOT_CLIENT_ID": CLIENT_ID, "TASTEBOT_INSECURE_STORAGE": "1"}
    texts = _login_cli(cli_env(**settings_env, **guard_env))

    token_file = home / "credentials" / "token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700

    steps = [
        ["status", "--json"],
        ["harvest", "--json"],
        ["corpus", "import", str(tmp_path / "corpus.csv"), "--json"],
        ["report", "--json"],
        ["recommend", "-n", "20", "--create-playlist", "--name", "security check", "--json"],
        ["recommend", "-n", "10", "--offline", "--csv"],
        ["status"],
    ]
    with _netguard_in_process(netlog):
        for args in steps:
            result = invoke(args, env=dict(settings_env, TASTEBOT_DEBUG="1"))
            assert result.returncode == 0, (args, result.stderr[-1500:])
            texts[f"{' '.join(args)} stdout"], texts[f"{' '.join(args)} stderr"] = result.stdout, result.stderr
            if args[-1] == "--csv":
                (tmp_path / "export.csv").write_text(result.stdout, encoding="utf-8")
        tokens = issued_tokens(sb)
        assert len(tokens) >= 3  # the first pair plus refreshed ones

        def scan_files() -> dict[str, bytes]:
            found = {}
            for root in (home, tmp_path):
                for p in root.rglob("*"):
                    if p.is_file() and p != token_file and p.name != "keyring.json":
                        found[str(p)] = p.read_bytes()
            return found

        texts.update(scan_files())
        assert any(name.endswith("tastebot.db") for name in texts)
        assert any(name.endswith("report.html") for name in texts)  # the report and its plots were scanned too
        assert not leaks(tokens, texts)
        # The token file holds the live token, and only there.
        assert leaks(tokens, {"token file": token_file.read_bytes()})

        out = invoke(["logout", "--json"], env=settings_env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["was_logged_in"] is True
        assert not token_file.exists()
        everything = {str(p): p.read_bytes() for p in home.rglob("*") if p.is_file()}
        everything["logout stdout"], everything["logout stderr"] = out.stdout, out.stderr
        assert not leaks(tokens, everything)
        after = invoke(["status"], env=settings_env)
        assert after.returncode == 4
    assert not netlog.exists(), netlog.read_text()
    assert any(p["name"] == "security check" for p in sb.snapshot()["playlists"])


@pytest.mark.parametrize("evil", [
    "[bold red]x[/]",
    "[link=https://evil.example]click me[/link]",
    "\x1b[31mred\x1b[0m",
])
def test_callback_error_text_is_printed_literally(sandbox, home, evil):
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID)
    port = free_port()
    proc = start_cli(["login", "--no-browser", "--redirect-uri", f"http://127.0.0.1:{port}/callback",
                      "--timeout", "20"], env=env)
    url = read_url_line(proc)
    redirected = approve(url, follow=False).headers["Location"]
    state = parse_qs(urlsplit(redirected).query)["state"][0]
    page = requests.get(f"http://127.0.0.1:{port}/callback", params={"state": state, "error": evil}, timeout=10)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 4, err
    assert "Traceback" not in err
    if evil.startswith("\x1b"):
        assert "\x1b[31m" not in err  # no raw escape sequences from outside reach the terminal
    else:
        assert evil in " ".join(err.split()), err  # shown as typed, not interpreted as markup
    assert "<script" not in page.text.lower()
    assert not (home / "credentials").exists()


def test_foreign_callback_then_replayed_code_are_refused(sandbox, home):
    """A callback with another state is refused (the login waits on); the real one logs in; replaying
    that real callback afterwards reaches nobody and changes nothing."""
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID, TASTEBOT_INSECURE_STORAGE="1")
    port = free_port()
    proc = start_cli(["login", "--no-browser", "--json", "--redirect-uri", f"http://127.0.0.1:{port}/callback"],
                     env=env)
    url = read_url_line(proc)
    redirected = approve(url, follow=False).headers["Location"]
    query = parse_qs(urlsplit(redirected).query)
    foreign = requests.get(f"http://127.0.0.1:{port}/callback",
                           params={"code": query["code"][0], "state": "attacker-state"}, timeout=10)
    assert foreign.status_code >= 400
    assert requests.get(redirected, timeout=10).status_code == 200
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    token_before = (home / "credentials" / "token.json").read_bytes()
    with pytest.raises(requests.ConnectionError):
        requests.get(redirected, timeout=2)
    assert (home / "credentials" / "token.json").read_bytes() == token_before
    # The code itself was spent: the sandbox (like Spotify) refuses to exchange it again.
    again = requests.post(f"{sandbox.url}/api/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "client_id": CLIENT_ID,
        "redirect_uri": f"http://127.0.0.1:{port}/callback", "code_verifier": "x" * 43}, timeout=10)
    assert again.status_code == 400 and again.json().get("error") == "invalid_grant"


def test_sandbox_binds_loopback_only_and_says_it_is_a_test_server(sandbox):
    assert urlsplit(sandbox.url).hostname == "127.0.0.1"
    assert sandbox._server.server_address[0] == "127.0.0.1"
    root = requests.get(sandbox.url + "/", timeout=5).json()
    assert "not Spotify" in root["note"]
    import tastebot.sandbox as sandbox_pkg

    assert "test server" in sandbox_pkg.__doc__ and "loopback only" in sandbox_pkg.__doc__
    try:
        addrs = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except OSError:
        addrs = set()
    for addr in addrs:
        if addr.startswith("127."):
            continue
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((addr, sandbox.port)) != 0, addr


SITECUSTOMIZE = textwrap.dedent('''
    """Test guard: record and refuse every connection that is not to 127.0.0.1 (or a unix socket)."""
    import os, socket

    _LOG = os.environ["NETGUARD_LOG"]
    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

    def _allowed(address):
        if isinstance(address, (str, bytes)):
            return True  # unix socket (e.g. D-Bus); nothing leaves the machine
        host = address[0]
        return host in ("127.0.0.1", "::1", "localhost")

    def _record(address):
        with open(_LOG, "a") as fh:
            fh.write(repr(address) + "\\n")

    def connect(self, address):
        if not _allowed(address):
            _record(address)
            raise ConnectionRefusedError(111, "netguard: only loopback is allowed in this test")
        return _connect(self, address)

    def connect_ex(self, address):
        if not _allowed(address):
            _record(address)
            return 111
        return _connect_ex(self, address)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
''')


def _netguard(tmp_path):
    """Env for subprocesses whose sockets refuse and record every non-loopback destination; checked to work."""
    guard_dir = tmp_path / "netguard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "netguard.log"
    env = {"NETGUARD_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(guard_dir), os.environ.get("PYTHONPATH", "")])}
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; s = socket.socket(); print(s.connect_ex(('192.0.2.1', 80)))"],
        env=cli_env(**env), capture_output=True, text=True, timeout=30)
    assert probe.stdout.strip() == "111" and "192.0.2.1" in log.read_text()  # the guard is really loaded
    log.unlink()
    return env, log


@contextmanager
def _netguard_in_process(log):
    """The same guard (SITECUSTOMIZE) on this process's sockets while the block runs; checked to work."""
    saved = socket.socket.connect, socket.socket.connect_ex
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NETGUARD_LOG", str(log))
        exec(SITECUSTOMIZE, {"__name__": "netguard"})  # noqa: S102 - our own guard's source, as the subprocesses load it
        try:
            with socket.socket() as probe:
                assert probe.connect_ex(("192.0.2.1", 80)) == 111 and "192.0.2.1" in log.read_text()
            log.unlink()
            yield
        finally:
            socket.socket.connect, socket.socket.connect_ex = saved
