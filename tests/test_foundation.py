"""The package, the CLI's frame, settings and the store's migrations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tastebot import __version__
from tastebot.errors import ConfigError, StoreError
from tastebot.settings import DEFAULT_REDIRECT_URI, load_settings

ROOT = Path(__file__).resolve().parent.parent


def run_py(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120)


def test_help_does_not_import_tensorflow_or_heavy_libraries():
    code = (
        "import sys\n"
        "from tastebot.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'pandas', 'sklearn', 'matplotlib') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    res = run_py(code)
    assert res.returncode == 0, res.stderr
    assert "HEAVY []" in res.stdout, res.stdout[-500:]
    # every registered command shows up in the help
    assert "Commands:" in res.stdout


@pytest.mark.parametrize("command", sorted(__import__("tastebot.cli", fromlist=["COMMANDS"]).COMMANDS))
def test_subcommand_help_does_not_import_tensorflow(command):
    code = (
        "import sys\nfrom tastebot.cli import main\n"
        f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit as e:\n    print('EXIT', e.code)\n"
        "print('TF', 'tensorflow' in sys.modules)\n"
    )
    res = run_py(code)
    assert "EXIT 0" in res.stdout, res.stderr[-800:]
    assert "TF False" in res.stdout


def test_version_and_python_m():
    res = subprocess.run([sys.executable, "-m", "tastebot", "--version"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert res.stdout.strip() == f"tastebot, version {__version__}"


@pytest.mark.parametrize("argv, status", [(["--version"], 0), (["frobnicate"], 2)])
def test_the_command_ends_with_its_status_its_output_flushed_and_its_exit_handlers_run(argv, status):
    # `run` skips the interpreter's teardown (os._exit): nothing written or registered may be lost.
    code = ("import atexit, sys\natexit.register(lambda: print('exit handlers ran'))\n"
            f"sys.argv = ['tastebot', *{argv!r}]\nfrom tastebot.cli import run\nrun()\nprint('never here')\n")
    res = run_py(code)
    assert res.returncode == status, res.stderr
    assert res.stdout.endswith("exit handlers ran\n") and "never here" not in res.stdout
    if status == 0:
        assert res.stdout.startswith(f"tastebot, version {__version__}")
    else:
        assert "No such command" in res.stderr and "Traceback" not in res.stderr


def test_unknown_command_is_a_usage_error_without_traceback():
    res = subprocess.run([sys.executable, "-m", "tastebot", "frobnicate"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "No such command" in res.stderr
    assert "Traceback" not in res.stderr


def test_settings_precedence(tmp_path, monkeypatch):
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text('client_id = "from-config"\nmax_wait = 5\n')
    (home / ".env").write_text("TASTEBOT_CLIENT_ID=from-home-env\nTASTEBOT_REDIRECT_URI=http://127.0.0.1:9999/cb\n")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / ".env").write_text("TASTEBOT_CLIENT_ID=from-cwd-env\n")
    env = {"TASTEBOT_HOME": str(home)}

    s = load_settings(environ=env, cwd=cwd)
    assert s.home == home
    assert s.client_id == "from-cwd-env"            # ./.env beats HOME/.env and config
    assert s.redirect_uri == "http://127.0.0.1:9999/cb"  # HOME/.env beats the default
    assert s.max_wait == 5.0                         # config beats the default

    s = load_settings(environ={**env, "SPOTIPY_CLIENT_ID": "from-env"}, cwd=cwd)
    assert s.client_id == "from-env"                 # the environment beats files
    s = load_settings(environ={**env, "SPOTIPY_CLIENT_ID": "from-env"}, cwd=cwd, client_id="from-option")
    assert s.client_id == "from-option"              # an option beats everything
    assert load_settings(environ={}, cwd=tmp_path / "nowhere").redirect_uri == DEFAULT_REDIRECT_URI


def test_settings_urls_follow_the_sandbox(tmp_path):
    s = load_settings(environ={"TASTEBOT_HOME": str(tmp_path), "TASTEBOT_SPOTIFY_URL": "http://127.0.0.1:5000/"})
    assert s.is_sandbox
    assert s.api_url == "http://127.0.0.1:5000/v1/"
    assert s.accounts_url == "http://127.0.0.1:5000"
    assert s.features_url == "http://127.0.0.1:5000/reccobeats/v1"
    real = load_settings(environ={"TASTEBOT_HOME": str(tmp_path)})
    assert real.api_url == "https://api.spotify.com/v1/"
    assert not real.is_sandbox


@pytest.mark.parametrize(
    "env, message",
    [
        ({"TASTEBOT_MAX_WAIT": "soon"}, "TASTEBOT_MAX_WAIT must be a number"),
        ({"TASTEBOT_MAX_WAIT": "-1"}, "must not be negative"),
        ({"TASTEBOT_LOCK_WAIT": "-1"}, "TASTEBOT_LOCK_WAIT must not be negative"),
        ({"TASTEBOT_INSECURE_STORAGE": "maybe"}, "must be true or false"),
        ({"TASTEBOT_EPOCHS": "many"}, "TASTEBOT_EPOCHS must be a whole number"),
        ({"TASTEBOT_ENSEMBLE": "11"}, "TASTEBOT_ENSEMBLE must be between 1 and 10"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={"TASTEBOT_HOME": str(tmp_path), **env})


def test_train_defaults_come_from_the_environment(tmp_path):
    """TASTEBOT_EPOCHS / TASTEBOT_ENSEMBLE: `tastebot train`'s defaults (test_readme trains with them)."""
    plain = load_settings(environ={"TASTEBOT_HOME": str(tmp_path)})
    assert (plain.train_epochs, plain.train_ensemble) == (30, 3)
    small = load_settings(environ={"TASTEBOT_HOME": str(tmp_path), "TASTEBOT_EPOCHS": " 4 ", "TASTEBOT_ENSEMBLE": "1"})
    assert (small.train_epochs, small.train_ensemble) == (4, 1)


def test_bad_config_file_is_refused(tmp_path):
    (tmp_path / "config.toml").write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(environ={"TASTEBOT_HOME": str(tmp_path)})
    (tmp_path / "config.toml").write_text("client_id = \n")
    with pytest.raises(ConfigError, match="Cannot read"):
        load_settings(environ={"TASTEBOT_HOME": str(tmp_path)})


def test_store_migrations_are_recorded_and_idempotent(tmp_path):
    from tastebot.store import Store

    path = tmp_path / "s.db"
    with Store(path) as store:
        first = store.schema_versions()
        assert store.integrity_check() == "ok"
    with Store(path) as store:
        assert store.schema_versions() == first


def test_store_from_a_newer_tastebot_is_refused(tmp_path):
    from tastebot.store import Store

    path = tmp_path / "s.db"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_migrations VALUES ('library', 999, 'x')")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer tastebot"):
        Store(path)


def test_corrupt_store_is_a_clear_error(tmp_path):
    from tastebot.store import Store

    path = tmp_path / "s.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="corrupt or not a tastebot store"):
        Store(path)
    assert path.read_bytes() == b"this is not sqlite" * 100  # nothing overwritten


def test_home_lock_refuses_a_second_holder(tmp_path):
    from tastebot.errors import HomeBusy
    from tastebot.lock import home_lock

    settings = load_settings(environ={"TASTEBOT_HOME": str(tmp_path), "TASTEBOT_LOCK_WAIT": "0.2"})
    assert settings.lock_wait == 0.2
    code = (
        "import sys, time\nfrom tastebot.lock import home_lock\nfrom tastebot.settings import load_settings\n"
        "with home_lock(load_settings()):\n    print('held', flush=True)\n    time.sleep(20)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TASTEBOT_HOME": str(tmp_path)})
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(HomeBusy, match="Another tastebot command"):
            with home_lock(settings):
                pass
    finally:
        proc.kill()
        proc.wait()
    with home_lock(load_settings(environ={"TASTEBOT_HOME": str(tmp_path)})):  # free again once the holder is gone
        pass


def test_ci_script_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text()
    assert "make test" in text
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_env_example_documents_every_setting():
    from tastebot.settings import ENV_VARS

    text = (ROOT / ".env.example").read_text()
    missing = [var for var in ENV_VARS if var not in text]
    assert not missing, f".env.example does not document {missing}"
