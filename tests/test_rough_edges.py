"""Issue 25's rough edges: what a new user meets at the edges of the commands (help, messages, flags)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runner import invoke

ROOT = Path(__file__).resolve().parent.parent


# -- --help ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["exclude"], ["models"], ["corpus"], ["demo"], ["sandbox", "serve"],
                                     ["report"], ["train"], ["recommend"]])
def test_every_command_help_states_its_exit_codes(command):
    result = invoke([*command, "--help"])
    assert result.code == 0, result
    assert "Exit codes:" in result.out, result.out


def test_no_trained_model_is_exit_3_everywhere(home):
    """`report` said 74 where `train` and `recommend` say 3 (not enough data)."""
    home.mkdir(parents=True)
    result = invoke(["report"])
    assert result.code == 3, result
    assert "No trained model" in result.text
    assert "3 no trained model" in " ".join(invoke(["report", "--help"]).out.split())


def test_the_factorisation_seed_is_not_confused_with_seed_track(home):
    text = " ".join(invoke(["recommend", "--help"]).out.split())
    assert "--collab-seed INTEGER Seed of the collaborative score's matrix factorisation" in text
    assert "--seed INTEGER" not in text
    assert "nothingtodowith--seed-track" in "".join(text.split())
    # The old spelling still parses: the run goes on to say there is no data (exit 3), not a usage error.
    home.mkdir(parents=True)
    for flag in ("--seed", "--collab-seed"):
        result = invoke(["recommend", flag, "3", "--offline"])
        assert result.code == 3, result


def test_docs_show_the_real_default_of_export_history():
    from tastebot.cli.sandbox import export_history

    default = next(p.default for p in export_history.params if p.name == "plays")
    doc = (ROOT / "docs" / "history.md").read_text(encoding="utf-8")
    shown = re.search(r"`tastebot sandbox export-history DIR .*?\[--plays (\d+)\]", doc, re.S)
    assert shown and int(shown.group(1)) == default == 20000


def test_exclude_remove_of_a_playlist_says_a_harvest_is_needed(home):
    pid = "37i9dQZF1DXcBWIGoYBM5M"
    assert invoke(["exclude", "add", f"spotify:playlist:{pid}"]).code == 0
    result = invoke(["exclude", "remove", f"spotify:playlist:{pid}"])
    assert result.code == 0, result
    assert "no longer excluded" in result.text and "Run `tastebot harvest` to learn from the playlist again" in result.text
    # An artist needs no harvest: nothing said.
    invoke(["exclude", "add", "spotify:artist:4uLU6hMCjMI75M1A2tKUQC"])
    result = invoke(["exclude", "remove", "spotify:artist:4uLU6hMCjMI75M1A2tKUQC"])
    assert result.code == 0 and "harvest" not in result.text


def test_the_keyring_warning_is_said_once_for_a_home_across_logouts(home, monkeypatch):
    """"Said once for this home": a logout removed the marker, so every login after one said it again."""
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    from tastebot import notices
    from tastebot.settings import load_settings
    from tastebot.spotify.tokens import TokenStore

    said: list[str] = []
    notices.listen(notices.Listener(warn=lambda text, once_key=None: said.append(text)))
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        settings = load_settings()
        token = {"access_token": "a" * 40, "refresh_token": "r" * 40, "expires_at": 4_000_000_000,
                 "token_type": "Bearer", "scope": "user-library-read"}
        for _ in range(3):  # login, logout, ... three times over
            store = TokenStore(settings)
            store.save_token_to_cache(token)
            assert store.kind == "file" and store.get_cached_token()["access_token"] == token["access_token"]
            store.delete()
    finally:
        keyring.set_keyring(previous)
        notices.listen(None)
    assert len([t for t in said if "Said once for this home" in t]) == 1, said


STALE = "changed since the model was trained"


def test_the_stale_collab_warning_comes_only_when_the_corpus_changed(copy_trained, make_logged_in, home, tmp_path):
    """Recommending (which stores candidate tracks and their features, and writes playlists) changes
    nothing the collaborative score was fitted on: no warning run after run. Importing a corpus does."""
    from worlds import TRAINED_WORLD

    copy_trained(dest=home)
    make_logged_in(**TRAINED_WORLD)
    for args in (["-n", "5"], ["-n", "5", "--create-playlist"], ["-n", "5"]):
        result = invoke(["recommend", *args])
        assert result.code == 0, result
        assert STALE not in result.text, (args, result.err)
    csv = tmp_path / "c.csv"
    csv.write_text("playlist_id,track_id\n" + "".join(f"p{p},{'T' * 21}{p}\n" for p in range(3)), encoding="utf-8")
    assert invoke(["corpus", "import", str(csv)]).code == 0
    result = invoke(["recommend", "-n", "5"])
    assert STALE in result.text, result
    # Only what changed is named: the corpus, not the likes or the playlists.
    assert "The imported corpus (0 playlists then, 3 now) changed since the model was trained" in result.text, result
    assert "likes" not in result.text.split(STALE)[0].split("warning:")[-1]


def test_home_is_taken_after_the_command_too(tmp_path):
    """`tastebot status --home X` was a usage error; gh takes its global flags after the command too."""
    other = tmp_path / "other-home"
    (other).mkdir()
    invoke(["--home", str(other), "exclude", "add", "spotify:artist:4uLU6hMCjMI75M1A2tKUQC"])
    for args in (["exclude", "list", "--json", "--home", str(other)], ["--home", str(other), "exclude", "list", "--json"]):
        result = invoke(args)
        assert result.code == 0, result
        assert [r["spotify_id"] for r in json.loads(result.out)["exclusions"]] == ["4uLU6hMCjMI75M1A2tKUQC"]
    result = invoke(["status", "--home", str(other)])
    assert result.code != 2 and "No such option" not in result.err, result
    assert "--home" in invoke(["corpus", "status", "--help"]).out
    # demo keeps its own --home, and its help says what it is.
    demo_help = " ".join(invoke(["demo", "--help"]).out.split())
    assert "The demo's own state folder" in demo_help and "tastebot --home DIR demo` means the same" in demo_help


def test_a_broken_playlist_reference_is_not_offered_as_a_name(home):
    home.mkdir(parents=True)
    result = invoke(["recommend", "--update-playlist", "spotify:playlist:!!!"])
    assert result.code == 2, result
    assert "not a valid playlist reference" in result.text and "create it first" not in result.text
    assert "--create-playlist --name" not in result.text
    # A plain name that tastebot never used still gets the advice to create it.
    result = invoke(["recommend", "--update-playlist", "weekly mix"])
    assert result.code == 2 and "create it first" in result.text


def test_a_second_playlist_with_the_same_name_is_warned_at_creation(copy_trained, make_logged_in, home):
    from worlds import TRAINED_WORLD

    copy_trained(dest=home)
    make_logged_in(**TRAINED_WORLD)
    first = invoke(["recommend", "-n", "3", "--create-playlist", "--name", "Weekly", "--no-discovery"])
    assert first.code == 0 and "already made a playlist named" not in first.text, first
    second = invoke(["recommend", "-n", "3", "--create-playlist", "--name", "Weekly", "--no-discovery", "--json"])
    assert second.code == 0, second
    said = [w for w in json.loads(second.out)["warnings"] if "already made a playlist named “Weekly”" in w]
    assert said and "--update-playlist` by that name will be ambiguous" in said[0]
    assert "already made a playlist named" in second.text
    # ... and it is what then happens: the name is ambiguous, the URI is not.
    assert "2 playlists tastebot made are named" in invoke(["recommend", "--update-playlist", "Weekly"]).text


def test_seed_track_is_confirmed_and_named_in_why(copy_trained, make_logged_in, home):
    import pandas as pd
    from worlds import TRAINED_WORLD

    settings = copy_trained(dest=home)
    make_logged_in(**TRAINED_WORLD)
    from tastebot.store import open_store

    with open_store(settings, readonly=True) as store:
        frame = store.labelled_tracks()
    seed = frame[pd.to_numeric(frame["label"]) == 1].iloc[0]
    result = invoke(["recommend", "-n", "10", "--no-discovery", "--seed-track", f"spotify:track:{seed['track_id']}",
                     "--json"])
    assert result.code == 0, result
    data = json.loads(result.out)
    assert [s["track_id"] for s in data["seed_tracks"]] == [seed["track_id"]]
    assert data["seed_tracks"][0]["name"] == seed["name"]
    assert f"Seed tracks used: {seed['name']}" in result.text
    moved = [r for r in data["recommendations"] if f"near your seed track “{seed['name']}”" in r["why"]]
    assert moved, [r["why"] for r in data["recommendations"]]
    # Without a seed, nothing is said of seeds.
    plain = invoke(["recommend", "-n", "10", "--no-discovery", "--json"])
    assert json.loads(plain.out)["seed_tracks"] == [] and "seed track" not in plain.text.lower()


def test_with_json_stdout_is_the_document_alone_and_the_tables_go_to_stderr(copy_trained, home, tmp_path):
    """One rule for every command (docs/architecture.md, "Output"): `harvest --json` repeated its tables
    on stderr while `recommend --json` printed nothing there."""
    copy_trained(dest=home)
    csv = tmp_path / "c.csv"
    import pandas as pd

    from tastebot.settings import load_settings
    from tastebot.store import open_store

    with open_store(load_settings()) as store:
        frame = store.labelled_tracks()
    likes = frame[pd.to_numeric(frame["label"]) == 1]["track_id"].tolist()[:3]
    csv.write_text("playlist_id,track_id\n" + "".join(f"p{p},{t}\n" for p in range(2) for t in likes)
                   + "".join(f"p{p},{'N' * 21}{p}\n" for p in range(2)), encoding="utf-8")
    invoke(["exclude", "add", "spotify:artist:4uLU6hMCjMI75M1A2tKUQC"])
    cases = {  # command -> what its human-readable result shows
        ("corpus", "import", str(csv)): "Imported",
        ("recommend", "--offline", "-n", "2"): "tracks you have never heard",
        ("models",): "Models in",
        ("exclude", "list"): "1 exclusions",
        ("corpus", "status"): "playlist-track pairs",
        ("status",): "Spotify: ",
        ("report",): "Report on model",
    }
    for args, shown in cases.items():
        plain = invoke(list(args))
        result = invoke([*args, "--json"])
        assert result.code == plain.code, (args, result)
        json.loads(result.out)  # the document alone
        assert shown in result.err, (args, result.err[-1500:])
        assert not result.out.lstrip().startswith(shown), args


class _NoisyKeras:
    """An import of `keras` that writes TensorFlow-like notices to fd 2, then fails with `exc`."""

    def __init__(self, exc):
        self.exc = exc

    def find_spec(self, name, path=None, target=None):
        if name == "keras":
            import os

            os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers on your machine\n")
            raise self.exc
        return None


@pytest.mark.parametrize("exc,shown", [(KeyboardInterrupt(), False), (ImportError("broken"), True)])
def test_ctrl_c_while_tensorflow_loads_shows_none_of_its_notices(monkeypatch, capfd, exc, shown):
    """Ctrl-C during `train` printed TensorFlow's start-up lines after the clean "Interrupted" message:
    they are shown only when the import really fails."""
    import sys

    from tastebot.models import mlp

    monkeypatch.setattr(mlp, "_imported", False)
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoisyKeras(exc), *sys.meta_path])
    with pytest.raises(type(exc)):
        mlp._keras()
    assert ("cudart_stub" in capfd.readouterr().err) is shown
