"""Token storage: the keyring first, the 0600 file when no keyring works, --insecure-storage, logout."""

from __future__ import annotations

import json
import os
import stat
import threading

import keyring
import pytest
from keyring.backend import KeyringBackend

from login_helpers import CLIENT_ID, approve, cli_env, free_port, login_to, read_url_line, run_cli, start_cli


class HangingKeyring(KeyringBackend):
    """A keyring that never answers (a locked desktop keyring waiting for a password prompt)."""

    priority = 1
    release = threading.Event()
    calls = 0

    def get_password(self, service, username):
        type(self).calls += 1
        self.release.wait(30)

    def set_password(self, service, username, password):
        type(self).calls += 1
        self.release.wait(30)

    def delete_password(self, service, username):
        self.release.wait(30)


@pytest.fixture
def cli_notices():
    """The library's notices shown on stderr as the CLI's main() shows them; the logger again afterwards."""
    from tastebot import console, notices

    console.install_notices()
    yield
    notices.listen(None)


@pytest.fixture
def use_keyring():
    """Swap this process's keyring backend for the test, then put the memory one back."""
    previous = keyring.get_keyring()

    def use(backend):
        keyring.set_keyring(backend)

    yield use
    keyring.set_keyring(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keyring_roundtrip_one_entry_per_home(home, tmp_path):
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    a = TokenStore(load_settings())
    b = TokenStore(load_settings(home=str(tmp_path / "other-home")))
    a.save_token_to_cache({"access_token": "A1", "refresh_token": "R1", "expires_at": 1})
    assert a.kind == "keyring"
    assert b.get_cached_token() is None  # another home never sees this login
    assert a.get_cached_token()["refresh_token"] == "R1"
    raw = keyring.get_password("tastebot", a.username)
    assert json.loads(raw)["access_token"] == "A1"
    assert not a.path.exists()
    assert a.delete() == ["keyring"] and a.get_cached_token() is None


def test_fallback_file_is_private_and_announced_once(home, use_keyring, cli_notices, capsys):
    from keyring.backends.fail import Keyring as FailKeyring

    from tastebot import console
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    console._warned.discard("tastebot-keyring-fallback")
    use_keyring(FailKeyring())
    store = TokenStore(load_settings())
    store.save_token_to_cache({"access_token": "A1", "refresh_token": "R1", "expires_at": 1})
    store.save_token_to_cache({"access_token": "A2", "refresh_token": "R1", "expires_at": 2})
    assert store.kind == "file"
    assert _mode(store.path) == 0o600 and _mode(store.path.parent) == 0o700
    assert store.get_cached_token()["access_token"] == "A2"
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "no keyring backend" in err and "0600" in err
    assert "A2" not in err and "R1" not in err
    # No temp files left beside the token.
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["token.json"]
    # Once per home, not once per command: the next command (a new process) says nothing, and the
    # advice names the command that has --insecure-storage.
    assert "Pass --insecure-storage" not in err and "tastebot login --insecure-storage" in " ".join(err.split())
    console._warned.discard("tastebot-keyring-fallback")
    assert TokenStore(load_settings()).get_cached_token()["access_token"] == "A2"
    assert "warning:" not in capsys.readouterr().err
    # After logout, a new login into this home is not told again: "Said once for this home" (issue 25).
    TokenStore(load_settings()).delete()
    console._warned.discard("tastebot-keyring-fallback")
    TokenStore(load_settings()).save_token_to_cache({"access_token": "A3", "refresh_token": "R3", "expires_at": 3})
    assert capsys.readouterr().err.count("warning:") == 0


def test_without_the_cli_the_fallback_warning_goes_to_the_logger(home, use_keyring, capsys, caplog):
    """Library code never prints: used outside the CLI, its notice is a `tastebot` log record."""
    from keyring.backends.fail import Keyring as FailKeyring

    from tastebot import notices
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    notices.listen(None)  # as in a fresh process: an in-process CLI run earlier installed the console
    use_keyring(FailKeyring())
    with caplog.at_level("WARNING", logger="tastebot"):
        TokenStore(load_settings()).save_token_to_cache({"access_token": "A1", "refresh_token": "R1", "expires_at": 1})
    assert [r.name for r in caplog.records] == ["tastebot"] and "no keyring backend" in caplog.records[0].getMessage()
    assert "A1" not in caplog.text and "R1" not in caplog.text
    assert capsys.readouterr().err == ""  # nothing printed by tastebot itself


def test_hanging_keyring_is_time_bounded(home, use_keyring, cli_notices, capsys):
    from tastebot import console
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    console._warned.discard("tastebot-keyring-fallback")
    HangingKeyring.release.clear()
    HangingKeyring.calls = 0
    use_keyring(HangingKeyring())
    try:
        store = TokenStore(load_settings(keyring_timeout=0.3))
        store.save_token_to_cache({"access_token": "A1", "refresh_token": "R1", "expires_at": 1})
        assert store.kind == "file" and store.get_cached_token()["access_token"] == "A1"
        assert store.get_cached_token()["access_token"] == "A1"
        # Only the first call waited: the store does not ask a hanging keyring again.
        assert HangingKeyring.calls == 1
        assert "did not answer within 0.3 s" in capsys.readouterr().err
    finally:
        HangingKeyring.release.set()


def test_insecure_storage_chooses_the_file_without_warning(home, cli_notices, capsys):
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    store = TokenStore(load_settings(insecure_storage=True))
    store.save_token_to_cache({"access_token": "A1", "refresh_token": "R1", "expires_at": 1})
    assert store.kind == "file" and _mode(store.path) == 0o600
    assert keyring.get_password("tastebot", store.username) is None
    assert "warning" not in capsys.readouterr().err


def test_a_corrupt_token_file_means_not_logged_in(home):
    from tastebot.spotify.auth import api_auth_manager
    from tastebot.errors import NotLoggedIn
    from tastebot.settings import load_settings

    settings = load_settings(insecure_storage=True, client_id=CLIENT_ID)
    settings.token_file.parent.mkdir(parents=True)
    settings.token_file.write_text("{not json")
    with pytest.raises(NotLoggedIn, match="tastebot login"):
        api_auth_manager(settings).get_access_token()


def test_keyring_working_again_moves_the_token_out_of_the_file(home, use_keyring):
    """A login made while the keyring was broken lands in the keyring at the next refresh save."""
    from keyring.backends.fail import Keyring as FailKeyring

    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    memory = keyring.get_keyring()
    use_keyring(FailKeyring())
    store = TokenStore(load_settings())
    store.save_token_to_cache({"access_token": "A1", "refresh_token": "R1", "expires_at": 1})
    assert store.path.exists()
    use_keyring(memory)
    store = TokenStore(load_settings())  # the next command
    assert store.get_cached_token()["access_token"] == "A1" and store.kind == "file"
    store.save_token_to_cache({"access_token": "A2", "refresh_token": "R1", "expires_at": 2})
    assert store.kind == "keyring" and not store.path.exists()


def test_cli_login_falls_back_to_file_with_one_warning(sandbox, home):
    """The headless-Linux case, end to end: no keyring backend at all."""
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID,
                  PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    port = free_port()
    proc = start_cli(["login", "--no-browser", "--redirect-uri", f"http://127.0.0.1:{port}/callback"], env=env)
    approve(read_url_line(proc))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert err.count("warning:") == 1 and "0600" in err
    token_file = home / "credentials" / "token.json"
    assert _mode(token_file) == 0o600 and _mode(token_file.parent) == 0o700
    assert json.loads(token_file.read_text())["refresh_token"]

    status = run_cli(["status", "--json"], env=env)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["token_storage"] == "file" and str(token_file) in report["token_location"]
    assert status.stderr.count("warning:") == 0  # said once for this home, at login: not on every command

    out = run_cli(["logout"], env=env)
    assert out.returncode == 0 and not token_file.exists()


def test_cli_insecure_storage_option(sandbox, home):
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID)
    port = free_port()
    proc = start_cli(["login", "--no-browser", "--insecure-storage", "--redirect-uri",
                      f"http://127.0.0.1:{port}/callback"], env=env)
    approve(read_url_line(proc))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "warning" not in err
    token_file = home / "credentials" / "token.json"
    assert _mode(token_file) == 0o600
    # Later commands keep using the file the user chose, without the option.
    status = run_cli(["status", "--json"], env=env)
    assert json.loads(status.stdout)["token_storage"] == "file"


def test_logout_removes_keyring_and_file_and_keeps_nothing_secret(sandbox, home):
    from login_helpers import sandbox_settings

    from tastebot.spotify.login import logout
    from tastebot.spotify.login_state import read_state
    from tastebot.spotify.tokens import TokenStore, write_private_file

    result = login_to(sandbox)
    settings = sandbox_settings(sandbox)
    store = TokenStore(settings)
    # A stale fallback file as well, as if an earlier login had used it.
    write_private_file(settings.token_file, json.dumps({"access_token": "old", "refresh_token": "old"}))
    out = logout(settings)
    assert out["was_logged_in"] and sorted(out["removed_from"]) == ["file", "keyring"]
    assert out["user"]["id"] == result["user_id"]
    assert store.get_cached_token() is None and not settings.token_file.exists()
    state = read_state(settings)
    assert "user_id" not in state and state["client_id"] == CLIENT_ID  # the client id is not a secret
    again = logout(settings)
    assert not again["was_logged_in"] and again["removed_from"] == []


def test_insecure_storage_from_the_environment(home, monkeypatch):
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    monkeypatch.setenv("TASTEBOT_INSECURE_STORAGE", "1")
    store = TokenStore(load_settings())
    store.save_token_to_cache({"access_token": "A1", "refresh_token": "R1", "expires_at": 1})
    assert store.kind == "file" and store.path.exists()
    assert keyring.get_password("tastebot", store.username) is None
