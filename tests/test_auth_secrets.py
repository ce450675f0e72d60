"""No token anywhere but the keyring (or the chosen 0600 file): every output and every file is scanned.

The logins run as their own processes (a browser's callback reaches a process waiting for it); status
and logout run in this process (cli_runner.invoke), where their output is captured the same way."""

from __future__ import annotations

import logging
import time

from cli_runner import invoke
from login_helpers import (
    CLIENT_ID,
    approve,
    cli_env,
    files_under,
    free_port,
    issued_tokens,
    leaks,
    login_to,
    read_url_line,
    sandbox_settings,
    start_cli,
)


def test_no_token_in_any_output_or_file(make_sandbox, home, tmp_path, monkeypatch):
    sb = make_sandbox(token_ttl=1)
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("MEMORY_KEYRING_FILE", str(keyring_file))
    env = cli_env(TASTEBOT_SPOTIFY_URL=sb.url, TASTEBOT_CLIENT_ID=CLIENT_ID)
    outputs: dict[str, str] = {}

    def record(name, result):
        outputs[f"{name} stdout"] = result.stdout
        outputs[f"{name} stderr"] = result.stderr

    # 1. login through the callback, with --json
    port = free_port()
    proc = start_cli(["login", "--no-browser", "--json", "--redirect-uri", f"http://127.0.0.1:{port}/callback"], env=env)
    url = read_url_line(proc)
    page = approve(url)
    outputs["callback page"] = page.text
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    outputs["login stdout"], outputs["login stderr"] = out, err

    # 2. status, before and after the access token expired (a refresh happens)
    record("status", invoke(["status", "--json"], env=env))
    time.sleep(1.1)
    record("status after expiry", invoke(["status"], env=env))
    record("status json after expiry", invoke(["status", "--json"], env=env))

    # 3. in-process library calls with logging switched fully on
    caught: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            caught.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        settings = sandbox_settings(sb)
        from tastebot.spotify.login import status

        outputs["status() repr"] = repr(status(settings))
        login_to(sb)  # the in-process flow as the fixtures use it
        time.sleep(1.1)
        outputs["status() after expiry"] = repr(status(settings))
        # an expired login's error message
        sb.revoke_refresh_tokens()
        time.sleep(1.1)
        record("status revoked", invoke(["status"], env=env))
        assert outputs["status revoked stderr"] and "tastebot login" in outputs["status revoked stderr"]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    outputs["logs"] = "\n".join(caught)

    # 4. the file fallback and --insecure-storage, then logout
    port = free_port()
    proc = start_cli(["login", "--no-browser", "--redirect-uri", f"http://127.0.0.1:{port}/callback"],
                     env={**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    approve(read_url_line(proc))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    outputs["fallback login stdout"], outputs["fallback login stderr"] = out, err
    token_file = home / "credentials" / "token.json"
    assert token_file.exists()  # the one documented file that may hold a token
    fallback_copy = token_file.read_text()
    record("logout", invoke(["logout"], env=env))
    record("status logged out", invoke(["status", "--json"], env=env))

    tokens = issued_tokens(sb)
    assert len(tokens) >= 6  # logins and refreshes really happened
    assert leaks(tokens, {"fallback file (sanity check of the scanner)": fallback_copy})
    assert leaks(tokens, outputs) == []
    files = files_under(tmp_path, exclude=[keyring_file])
    assert any(f.name == "login.json" for f in files)
    assert leaks(tokens, {str(f): f.read_bytes() for f in files}) == []
