"""`tastebot login` against the sandbox over real HTTP: callback, pasted URL, state checks, refusals."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from login_helpers import (
    CLIENT_ID,
    approve,
    cli_env,
    free_port,
    login_to,
    read_url_line,
    redirect_uri,
    run_cli,
    sandbox_settings,
    start_cli,
    wait_until_listening,
)


def _login_args(port: int, *extra: str) -> list[str]:
    return ["login", "--no-browser", "--redirect-uri", f"http://127.0.0.1:{port}/callback", "--timeout", "30", *extra]


@pytest.fixture
def keyring_file(tmp_path, monkeypatch):
    """Share the test keyring with tastebot subprocesses."""
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("MEMORY_KEYRING_FILE", str(path))
    return path


def _stored_token(keyring_file) -> dict:
    data = json.loads(keyring_file.read_text())
    (value,) = [v for k, v in data.items() if k.startswith("tastebot\0")]
    return json.loads(value)


def test_login_through_loopback_callback(sandbox, home, keyring_file):
    port = free_port()
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID)
    proc = start_cli(_login_args(port), env=env)
    url = read_url_line(proc)
    # The URL is alone on its line and is the sandbox's authorization endpoint with PKCE and a state.
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == sandbox.url and parts.path == "/authorize"
    query = parse_qs(parts.query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT_ID]
    assert len(query["state"][0]) >= 16
    assert query["redirect_uri"] == [f"http://127.0.0.1:{port}/callback"]
    assert "user-library-read" in query["scope"][0].split()

    page = approve(url)  # the browser: approve, then follow the redirect to the callback
    assert page.status_code == 200 and "close this tab" in page.text
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == ""  # the URL (already read) was the only thing on stdout
    assert "Logged in as" in err
    listener = sandbox.state.users[sandbox.state.listener_id]
    assert listener.get("display_name", sandbox.state.listener_id) in err
    assert sandbox.state.listener_id in err

    token = _stored_token(keyring_file)
    assert token["refresh_token"] and token["access_token"]
    assert not (home / "credentials" / "token.json").exists()  # the keyring, not the file
    state = json.loads((home / "login.json").read_text())
    assert state["client_id"] == CLIENT_ID and state["user_id"] == sandbox.state.listener_id
    assert state["token_storage"] == "keyring" and state["app_kind"] == "development"


def test_login_through_pasted_url(sandbox, home, keyring_file):
    port = free_port()
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID)
    proc = start_cli(_login_args(port), env=env)
    url = read_url_line(proc)
    # The browser is on another machine: it cannot reach the callback, the user copies the address.
    answer = approve(url, follow=False)
    assert answer.status_code in (302, 303)
    redirected = answer.headers["Location"]
    assert redirected.startswith(f"http://127.0.0.1:{port}/callback?")
    proc.stdin.write("not a url at all\n")
    proc.stdin.write(redirected + "\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "not the address of this login" in err  # the junk line was refused, not fatal
    assert "Logged in as" in err
    assert _stored_token(keyring_file)["access_token"]
    assert sandbox.stats()  # the sandbox saw the exchange


def _stats_count(sb, fragment: str) -> int:
    stats = sb.stats()
    total = 0

    def walk(node, key=""):
        nonlocal total
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{key} {k}")
        elif isinstance(node, int) and fragment in key:
            total += node

    walk(stats)
    return total


class _Driver:
    """Run tastebot.auth.login in a thread; the test plays the browser and stray visitors."""

    def __init__(self, sb, **overrides):
        from tastebot.spotify.login import login

        timeout_s = overrides.pop("timeout_s", 20)
        self.settings = sandbox_settings(sb, **overrides)
        self.url_ready = threading.Event()
        self.notices: list[str] = []
        self.result = None
        self.error = None

        def show(url):
            self.url = url
            self.url_ready.set()

        def run():
            try:
                self.result = login(self.settings, open_browser=False, timeout=timeout_s,
                                    show_url=show, notice=self.notices.append)
            except Exception as exc:
                self.error = exc
            finally:
                self.url_ready.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self.url_ready.wait(20)

    @property
    def callback(self) -> str:
        return self.settings.redirect_uri

    def finish(self):
        self.thread.join(30)
        assert not self.thread.is_alive()
        return self.result


def test_wrong_or_missing_state_is_refused_and_login_continues(sandbox, home):
    d = _Driver(sandbox)
    redirected = approve(d.url, follow=False).headers["Location"]
    code = parse_qs(urlsplit(redirected).query)["code"][0]

    wrong = requests.get(d.callback, params={"code": code, "state": "forged"}, timeout=5)
    missing = requests.get(d.callback, params={"code": code}, timeout=5)
    assert wrong.status_code == 400 and missing.status_code == 400
    assert "does not belong" in wrong.text
    assert d.thread.is_alive() and d.result is None  # still waiting for the real answer
    assert any("wrong state" in n for n in d.notices) and any("missing state" in n for n in d.notices)

    ok = requests.get(redirected, timeout=10)
    assert ok.status_code == 200
    result = d.finish()
    assert d.error is None and result["user_id"] == sandbox.state.listener_id


def test_stray_requests_are_ignored(sandbox, home):
    d = _Driver(sandbox)
    port = urlsplit(d.callback).port
    base = f"http://127.0.0.1:{port}"
    assert requests.get(base + "/favicon.ico", timeout=5).status_code == 404
    assert requests.get(base + "/other?code=x&state=y", timeout=5).status_code == 404
    assert requests.get(d.callback, timeout=5).status_code == 400  # no query at all
    assert d.thread.is_alive()
    approve(d.url)
    assert d.finish()["user_id"] == sandbox.state.listener_id
    assert d.error is None


def test_callback_echo_is_escaped(sandbox, home):
    d = _Driver(sandbox)
    redirected = approve(d.url, follow=False).headers["Location"]
    state = parse_qs(urlsplit(redirected).query)["state"][0]
    page = requests.get(d.callback, params={"state": state, "error": "<script>alert(1)</script>"}, timeout=5)
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    d.finish()
    assert d.result is None and "did not authorize" in str(d.error)


def test_denied_authorization_is_an_auth_error(sandbox, home):
    from tastebot.errors import AuthError

    d = _Driver(sandbox)
    requests.get(d.url + "&decision=deny", timeout=10)  # the sandbox's Cancel button, redirected to us
    d.finish()
    assert isinstance(d.error, AuthError) and "declined" in str(d.error)
    assert d.error.exit_code == 4


def test_a_code_is_accepted_once(sandbox, home):
    d = _Driver(sandbox)
    redirected = approve(d.url, follow=False).headers["Location"]
    assert requests.get(redirected, timeout=10).status_code == 200
    d.finish()
    # The server is gone once the login finished; a replay reaches nobody.
    with pytest.raises(requests.ConnectionError):
        requests.get(redirected, timeout=2)


def test_timeout_gives_a_clear_message_and_exit_4(sandbox, home):
    port = free_port()
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID)
    r = run_cli(["login", "--no-browser", "--redirect-uri", f"http://127.0.0.1:{port}/callback", "--timeout", "1"],
                env=env, input="")
    assert r.returncode == 4
    assert "within 1 seconds" in r.stderr and "--timeout" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (home / "login.json").exists()


@pytest.mark.parametrize(
    "uri, words",
    [
        ("http://localhost:8888/callback", "localhost"),
        ("http://192.168.1.5:8888/callback", "loopback"),
        ("https://127.0.0.1:8888/callback", "http://"),
        ("http://127.0.0.1/callback", "port"),
    ],
)
def test_bad_redirect_uri_refused_before_any_request(sandbox, home, uri, words):
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID)
    before = _stats_count(sandbox, "authorize") + _stats_count(sandbox, "token")
    r = run_cli(["login", "--no-browser", "--redirect-uri", uri, "--timeout", "5"], env=env, input="")
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""  # no authorization URL was even printed
    assert _stats_count(sandbox, "authorize") + _stats_count(sandbox, "token") == before


def test_missing_client_id_names_the_ways_to_set_it(sandbox, home):
    r = run_cli(["login", "--no-browser", "--timeout", "5"], env=cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url), input="")
    assert r.returncode == 2
    for way in ("--client-id", "TASTEBOT_CLIENT_ID", "SPOTIPY_CLIENT_ID", ".env"):
        assert way in r.stderr


def test_client_id_from_dotenv_and_then_from_the_last_login(sandbox, home, tmp_path, monkeypatch):
    from tastebot.settings import load_settings

    (tmp_path / ".env").write_text("SPOTIPY_CLIENT_ID=fromdotenv123\n")  # tests run in tmp_path
    login_to(sandbox, settings=load_settings(spotify_url=sandbox.url, redirect_uri=redirect_uri()))
    assert json.loads((home / "login.json").read_text())["client_id"] == "fromdotenv123"
    (tmp_path / ".env").unlink()
    # No client id anywhere now: the one saved by the earlier login is used.
    login_to(sandbox, settings=load_settings(spotify_url=sandbox.url, redirect_uri=redirect_uri()))
    assert json.loads((home / "login.json").read_text())["client_id"] == "fromdotenv123"
    with sandbox.state.lock:
        clients = {r["client_id"] for r in sandbox.state.refresh_tokens.values()}
    assert clients == {"fromdotenv123"}


def test_port_in_use_is_reported(sandbox, home):
    import socket

    from tastebot.errors import AuthError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(AuthError, match="another port"):
            login_to(sandbox, redirect_uri=f"http://127.0.0.1:{port}/callback", timeout=2)


def test_login_on_ipv6_loopback(sandbox, home):
    import socket

    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            port = s.getsockname()[1]
    except OSError:
        pytest.skip("::1 is not available here")
    result = login_to(sandbox, redirect_uri=f"http://[::1]:{port}/callback")
    assert result["user_id"] == sandbox.state.listener_id


def test_listening_only_on_loopback(sandbox, home):
    d = _Driver(sandbox)
    port = urlsplit(d.callback).port
    wait_until_listening(port)
    import socket

    # Any non-loopback address of this machine must not answer on the callback port.
    try:
        addrs = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except OSError:
        addrs = set()
    for addr in addrs - {"127.0.0.1"}:
        if addr.startswith("127."):
            continue
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((addr, port)) != 0
    approve(d.url)
    d.finish()


def test_login_opens_the_browser_when_there_is_one(sandbox, home, keyring_file):
    import sys

    import login_helpers

    port = free_port()
    env = cli_env(TASTEBOT_SPOTIFY_URL=sandbox.url, TASTEBOT_CLIENT_ID=CLIENT_ID,
                  BROWSER=f"{sys.executable} {login_helpers.__file__} %s")
    r = run_cli(["login", "--redirect-uri", f"http://127.0.0.1:{port}/callback", "--timeout", "30"], env=env, input="")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""  # with a browser, no URL to copy
    assert "browser" in r.stderr and "Logged in as" in r.stderr
    assert _stored_token(keyring_file)["refresh_token"]


def test_unregistered_user_of_a_development_app_is_told_what_to_do(sandbox, home, monkeypatch):
    """Spotify's 403 for an account missing from the app's User Management (the sandbox plays it)."""
    from tastebot.errors import AuthError
    from tastebot.sandbox.wire import ApiError
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    def refuse(req):
        raise ApiError(403, "Check settings on developer.spotify.com/dashboard, the user may not be registered.")

    monkeypatch.setattr(sandbox.webapi, "me", refuse)
    with pytest.raises(AuthError) as info:
        login_to(sandbox)
    assert "may not be registered" in str(info.value) and "User Management" in str(info.value)
    assert TokenStore(load_settings()).get_cached_token() is None  # a useless token is not kept


def test_an_idle_connection_does_not_block_the_callback(sandbox, home):
    """Browsers open speculative connections and send nothing on them; the real redirect still lands."""
    import socket

    d = _Driver(sandbox)
    port = urlsplit(d.callback).port
    with socket.create_connection(("127.0.0.1", port)) as idle:
        approve(d.url)
        result = d.finish()
        assert d.error is None and result["user_id"] == sandbox.state.listener_id
        idle.settimeout(5)
        assert idle.recv(100) == b""  # the server gave up on it


def test_pasted_address_may_come_quoted(sandbox, home):
    """In-process variant of the paste path: quotes around the pasted address are tolerated."""
    import queue

    from tastebot.spotify.login import login

    lines: "queue.Queue[str | None]" = queue.Queue()

    def pasted():
        while (line := lines.get(timeout=20)) is not None:
            yield line

    def show(url):
        redirected = approve(url, follow=False).headers["Location"]
        lines.put(f"'{redirected}'\n")

    settings = sandbox_settings(sandbox)
    result = login(settings, open_browser=False, timeout=20, paste_from=pasted(), show_url=show, notice=lambda t: None)
    lines.put(None)
    assert result["user_id"] == sandbox.state.listener_id
    assert sandbox.count("POST /api/token") == 1  # exchanged once, from the pasted address
