"""`tastebot features import FILE.csv`: any subset of feature columns keyed by track id; a bad file
is one line naming the line, and changes nothing stored."""

from __future__ import annotations

import json

import pytest
from cli_runner import invoke

from tastebot.errors import InputError
from tastebot.imports.features_csv import import_features_csv
from tastebot.settings import load_settings
from tastebot.store import open_store

A = "4uLU6hMCjMI75M1A2tKUQC"
B = "7ouMYWpwJ422jRcDASZB7P"
C = "0VjIjW4GlUZAMYd2vXMi3b"


@pytest.fixture
def store():
    s = open_store(load_settings())
    yield s
    s.close()


def write(tmp_path, text, name="f.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_subset_of_columns_keyed_by_track_id(tmp_path, store):
    path = write(tmp_path, "track_id,track_name,energy,tempo,key\n"
                           f"{A},One,0.5,120.5,3\n"
                           f"spotify:track:{B},Two,NA,99,\n"
                           f"https://open.spotify.com/track/{C}?si=1,Three,0.25,,-1\n")
    result = import_features_csv(store, path)
    assert result.tracks == 3 and result.rows == 3 and result.values == 6
    assert result.columns == ["key", "energy", "tempo"] or set(result.columns) == {"key", "energy", "tempo"}
    assert result.ignored_columns == ["track_name"]
    got = store.features_for([A, B, C])
    assert got[A] == {"energy": 0.5, "tempo": 120.5, "key": 3.0}
    assert got[B] == {"tempo": 99.0}
    assert got[C] == {"energy": 0.25}  # key -1 means unknown


def test_id_column_and_semicolons_and_bom(tmp_path, store):
    path = write(tmp_path, "\ufeffid;danceability;time_signature\n" f"{A};0.7;4\n")
    assert import_features_csv(store, path).tracks == 1
    assert store.features_for([A])[A] == {"danceability": 0.7, "time_signature": 4.0}


def test_import_never_overrides_an_api_provider(tmp_path, store):
    store.upsert_features({A: {"energy": 0.9}}, "reccobeats")
    import_features_csv(store, write(tmp_path, f"track_id,energy,valence\n{A},0.1,0.2\n"))
    assert store.features_for([A])[A] == {"energy": 0.9, "valence": 0.2}


@pytest.mark.parametrize("text, message", [
    ("name,energy\nx,0.5\n", "no track id column"),
    ("track_id,title\n" + A + ",x\n", "no audio-feature columns"),
    ("track_id,energy,energy\n" + A + ",0.5,0.5\n", "appears twice"),
    ("track_id,danceabilty\n" + A + ",0.5\n", "did you mean 'danceability'"),
    (f"track_id,energy\n{A},0.5\n{B},loud\n", "line 3: energy is 'loud', not a number"),
    (f"track_id,energy\n{A},1.5\n", "line 2: energy = 1.5 is outside 0..1"),
    (f"track_id,mode\n{A},0.5\n", "mode must be a whole number"),
    (f"track_id,energy\nnot-an-id,0.5\n", "line 2: 'not-an-id' is not a Spotify track id"),
    (f"track_id,energy\n{A},0.5,7\n", "line 2: 3 fields"),
    ("", "is empty"),
])
def test_bad_files_are_one_line_and_change_nothing(tmp_path, store, text, message):
    store.upsert_features({A: {"energy": 0.3}}, "import")
    with pytest.raises(InputError) as info:
        import_features_csv(store, write(tmp_path, text))
    assert message in info.value.message and "\n" not in info.value.message
    assert info.value.exit_code == 2
    assert store.features_for([A, B]) == {A: {"energy": 0.3}}


def test_an_error_late_in_the_file_stores_nothing_of_it(tmp_path, store):
    rows = "".join(f"{A[:-1]}{c},0.5\n" for c in "abcdefghij")
    with pytest.raises(InputError):
        import_features_csv(store, write(tmp_path, "track_id,energy\n" + rows + f"{B},oops\n"))
    assert store.features_for([A[:-1] + "a"]) == {}


def test_not_utf8(tmp_path, store):
    path = write(tmp_path, f"track_id,energy\n{A},0.5\nline,\xe9\n", encoding="latin-1")
    with pytest.raises(InputError) as info:
        import_features_csv(store, path)
    assert "not UTF-8" in info.value.message and "line 3" in info.value.message


def test_cli_import_json_and_exit_codes(tmp_path, home):
    good = write(tmp_path, f"track_id,energy\n{A},0.5\n{B},0.6\n")
    result = invoke(["features", "import", str(good), "--json"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tracks"] == 2
    bad = write(tmp_path, f"track_id,energy\n{A},x\n", name="bad.csv")
    result = invoke(["features", "import", str(bad)])
    assert result.returncode == 2 and "line 2" in result.stderr and "Traceback" not in result.stderr
    missing = invoke(["features", "import", str(tmp_path / "nope.csv")])
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_real_tidytuesday_table_imports(shared_dir, store):
    path = shared_dir / "data" / "tidytuesday_spotify_songs.csv"
    result = import_features_csv(store, path)
    assert result.tracks > 28000 and "time_signature" not in result.columns
    assert "track_name" in result.ignored_columns
