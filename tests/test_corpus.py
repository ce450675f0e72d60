"""`tastebot corpus import`: MPD JSON slices streamed, CSV with extra columns, bad files refused with
one line and nothing stored changed."""

from __future__ import annotations

import json
import random
import string
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import invoke

from tastebot.imports import corpus as corpus_mod
from tastebot.imports.corpus import import_corpus, iter_mpd_playlists
from tastebot.errors import InputError
from tastebot.store import Store, open_store

ALPHA = string.ascii_letters + string.digits


def _tid(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHA) for _ in range(22))


def write_slice(path: Path, start: int, n: int, pool: list[str], rng: random.Random, *, indent=None) -> dict:
    playlists = []
    for pid in range(start, start + n):
        k = rng.randint(1, 30)
        tracks = [
            {"pos": i, "artist_name": f"Artist “{i % 7}” é", "track_uri": f"spotify:track:{rng.choice(pool)}",
             "artist_uri": f"spotify:artist:{pool[i % 7]}", "track_name": f"Song {i} \\ \"quoted\"",
             "album_uri": f"spotify:album:{pool[i % 5]}", "duration_ms": 180000 + i, "album_name": "A"}
            for i in range(k)
        ]
        playlists.append({"name": f"list {pid}", "collaborative": "false", "pid": pid, "modified_at": 1500000000,
                          "num_tracks": k, "num_followers": 1, "tracks": tracks})
    data = {"info": {"generated_on": "2017-12-03", "slice": f"{start}-{start + n - 1}", "version": "v1"},
            "playlists": playlists}
    path.write_text(json.dumps(data, indent=indent, ensure_ascii=False), encoding="utf-8")
    return data


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store.db")
    yield s
    s.close()


@pytest.fixture
def mpd_dir(tmp_path):
    rng = random.Random(3)
    pool = [_tid(rng) for _ in range(300)]
    d = tmp_path / "mpd"
    d.mkdir()
    datas = [write_slice(d / "mpd.slice.0-49.json", 0, 50, pool, rng, indent=1),
             write_slice(d / "mpd.slice.50-99.json", 50, 50, pool, rng)]
    return d, datas


def _expected_pairs(datas) -> set[tuple[str, str]]:
    return {(f"mpd:{p['pid']}", t["track_uri"].split(":")[-1]) for d in datas for p in d["playlists"] for t in p["tracks"]}


def _stored_pairs(store) -> set[tuple[str, str]]:
    m, tids, pids = store.corpus_matrix()
    coo = m.tocoo()
    return {(pids[r], tids[c]) for r, c in zip(coo.row, coo.col)}


def test_streaming_parser_reads_what_json_reads_with_tiny_buffers(mpd_dir, monkeypatch):
    d, datas = mpd_dir
    monkeypatch.setattr(corpus_mod, "_READ_SIZE", 7)  # values cut at every possible place
    got = list(iter_mpd_playlists(d / "mpd.slice.0-49.json"))
    assert got == datas[0]["playlists"]


def test_streaming_parser_holds_one_playlist_not_the_file(tmp_path):
    rng = random.Random(5)
    pool = [_tid(rng) for _ in range(2000)]
    path = tmp_path / "mpd.slice.0-1999.json"
    write_slice(path, 0, 2000, pool, rng)
    size = path.stat().st_size
    tracemalloc.start()
    n = sum(1 for _ in iter_mpd_playlists(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 2000
    assert size > 5_000_000
    assert peak < size / 10  # json.load would need several times the file size


def test_mpd_import_stores_every_pair_compactly(store, mpd_dir):
    d, datas = mpd_dir
    summary = import_corpus(store, [d])
    want = _expected_pairs(datas)
    assert summary.files == 2
    assert summary.playlists == 100
    assert summary.pairs == len(want)
    assert _stored_pairs(store) == want
    stats = store.corpus_stats()
    assert stats["playlists"] == 100 and stats["pairs"] == len(want)
    assert stats["tracks"] == len({t for _, t in want})
    assert set(store.corpus_track_ids()) == {t for _, t in want}
    meta = store.corpus_tracks_frame(store.corpus_track_ids()[:5])
    assert meta["artist_name"].str.startswith("Artist").all()
    assert meta["artist_id"].notna().all()


def test_tracks_frame_reads_only_the_columns_asked_for(store, mpd_dir):
    d, _ = mpd_dir
    import_corpus(store, [d])
    full = store.corpus_tracks_frame()
    some = store.corpus_tracks_frame(columns=["artist_name"])
    assert list(some.columns) == ["track_id", "artist_name"]
    assert some.equals(full[["track_id", "artist_name"]])
    with pytest.raises(ValueError, match="unknown"):
        store.corpus_tracks_frame(columns=["artist_name; DROP TABLE corpus_tracks"])


def test_artist_codes_follow_the_matrix_columns(store, mpd_dir):
    d, _ = mpd_dir
    import_corpus(store, [d])
    run = store.corpus_begin_import(["by hand"])
    with store.transaction() as conn:  # a track without an artist's name, one with a name seen before
        idx = store.corpus_track_idxs(conn, run, {"nonameAAAAAAAAAAAAAAAA": {"name": "x"},
                                                  "againAAAAAAAAAAAAAAAAA": {"artist_name": "Solo"},
                                                  "solo2AAAAAAAAAAAAAAAAA": {"artist_name": "Solo"}})
        store.corpus_put_playlists(conn, run, "mpd", [("by-hand", None, None, np.array(list(idx.values())))])
    store.corpus_finish_import(run)
    _, track_ids, _ = store.corpus_matrix()
    codes, names = store.corpus_artist_codes()
    by_id = store.corpus_tracks_frame(columns=["artist_name"]).set_index("track_id")["artist_name"]
    assert codes.dtype == np.int32 and len(codes) == len(track_ids)
    assert [names[c] if c >= 0 else None for c in codes] == [None if pd.isna(by_id[t]) else by_id[t] for t in track_ids]
    assert len(names) == len(set(names)) == by_id.nunique()  # each name once
    assert codes[list(track_ids).index("nonameAAAAAAAAAAAAAAAA")] == -1


def test_import_again_changes_nothing(store, mpd_dir):
    d, _ = mpd_dir
    import_corpus(store, [d])
    before = _stored_pairs(store), store.corpus_stats()["tracks"]
    again = import_corpus(store, [d / "mpd.slice.0-49.json"])
    assert again.playlists == 0 and again.skipped_existing == 50
    assert (_stored_pairs(store), store.corpus_stats()["tracks"]) == before


CSV_HEAD = "track_id,track_name,track_artist,track_popularity,track_album_id,track_album_release_date,playlist_name,playlist_id,playlist_genre,danceability,energy,key,tempo,duration_ms\n"


def test_csv_import_reads_extra_columns_and_ungrouped_rows(store, tmp_path, monkeypatch):
    rows = [
        "4uLU6hMCjMI75M1A2tKUQC,Never Gonna,Rick,80,1aaaaaaaaaaaaaaaaaaaaa,1987-07-27,Pop,PL1,pop,0.7,0.8,1,113.3,213000",
        "3n3Ppam7vgaVa1iaRUc9Lp,Mr. Brightside,The Killers,85,2aaaaaaaaaaaaaaaaaaaaa,2004,Rock,PL2,rock,0.35,0.91,NA,148.0,222000",
        "7ouMYWpwJ422jRcDASZB7P,Knights,Muse,70,3aaaaaaaaaaaaaaaaaaaaa,2006-06-19,Pop,PL1,pop,,0.96,2,137.1,366000",
        "4uLU6hMCjMI75M1A2tKUQC,Never Gonna,Rick,80,1aaaaaaaaaaaaaaaaaaaaa,1987-07-27,Rock,PL2,rock,0.7,0.8,1,113.3,213000",
        "not-an-id,Broken,Nobody,1,4aaaaaaaaaaaaaaaaaaaaa,2000,Rock,PL2,rock,0.1,0.1,1,100,1000",
    ]
    path = tmp_path / "songs.csv"
    path.write_text(CSV_HEAD + "\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setattr(corpus_mod, "_csv_playlists", lambda p, s, chunk_rows=2: _orig_csv(p, s, chunk_rows=2))
    summary = import_corpus(store, [path])
    assert summary.playlists == 2  # PL1 arrives in two chunks and is merged, counted once
    assert summary.skipped_rows == 1
    assert _stored_pairs(store) == {
        ("PL1", "4uLU6hMCjMI75M1A2tKUQC"), ("PL1", "7ouMYWpwJ422jRcDASZB7P"),
        ("PL2", "3n3Ppam7vgaVa1iaRUc9Lp"), ("PL2", "4uLU6hMCjMI75M1A2tKUQC"),
    }
    meta = store.corpus_tracks_frame(["3n3Ppam7vgaVa1iaRUc9Lp", "7ouMYWpwJ422jRcDASZB7P"]).set_index("track_id")
    assert meta.loc["3n3Ppam7vgaVa1iaRUc9Lp", "artist_name"] == "The Killers"
    assert meta.loc["3n3Ppam7vgaVa1iaRUc9Lp", "release_year"] == 2004
    assert np.isnan(meta.loc["3n3Ppam7vgaVa1iaRUc9Lp", "key"])  # "NA" is unknown, not an error
    assert np.isnan(meta.loc["7ouMYWpwJ422jRcDASZB7P", "danceability"])
    assert meta.loc["7ouMYWpwJ422jRcDASZB7P", "tempo"] == pytest.approx(137.1)
    assert store.corpus_playlist_names(["PL1"]) == {"PL1": "Pop"}


def test_csv_features_no_track_can_have_are_refused_and_counted(tmp_path, home):
    rows = [
        "4uLU6hMCjMI75M1A2tKUQC,Never Gonna,Rick,80,1aaaaaaaaaaaaaaaaaaaaa,1987,Pop,PL1,pop,0.7,1.8,1,113.3,213000",
        "3n3Ppam7vgaVa1iaRUc9Lp,Mr. Brightside,The Killers,85,2aaaaaaaaaaaaaaaaaaaaa,2004,Pop,PL1,pop,0.35,0.91,5.5,148.0,222000",
        "7ouMYWpwJ422jRcDASZB7P,Knights,Muse,70,3aaaaaaaaaaaaaaaaaaaaa,2006,Pop,PL1,pop,0.5,0.96,2,137.1,366000",
    ]
    path = tmp_path / "songs.csv"
    path.write_text(CSV_HEAD + "\n".join(rows) + "\n", encoding="utf-8")
    res = invoke(["corpus", "import", str(path), "--json"])
    assert res.code == 0, res
    assert json.loads(res.out)["features_refused"] == 2  # energy 1.8; key 5.5 (a pitch class is whole)
    assert "refused" in res.err
    from tastebot.settings import load_settings

    with open_store(load_settings()) as s:
        meta = s.corpus_tracks_frame(["4uLU6hMCjMI75M1A2tKUQC", "3n3Ppam7vgaVa1iaRUc9Lp", "7ouMYWpwJ422jRcDASZB7P"])
    meta = meta.set_index("track_id")
    assert np.isnan(meta.loc["4uLU6hMCjMI75M1A2tKUQC", "energy"]) and np.isnan(meta.loc["4uLU6hMCjMI75M1A2tKUQC", "danceability"])
    assert np.isnan(meta.loc["3n3Ppam7vgaVa1iaRUc9Lp", "key"])
    assert meta.loc["3n3Ppam7vgaVa1iaRUc9Lp", "artist_name"] == "The Killers"  # the track itself is kept
    assert meta.loc["7ouMYWpwJ422jRcDASZB7P", "energy"] == pytest.approx(0.96)


_orig_csv = corpus_mod._csv_playlists


BAD_FILES = {
    "truncated.json": '{"info": {}, "playlists": [{"pid": 1, "tracks": [{"track_uri": "spotify:track:4uLU6hMCjMI75M1A2tKUQC"}]}, {"pid": 2, "tra',
    "noplaylists.json": '{"info": {"slice": "0-1"}}',
    "notjson.json": "this is not json at all",
    "wrongshape.json": '{"playlists": {"pid": 1}}',
    "nocolumns.csv": "a,b\n1,2\n",
    "ragged.csv": "playlist_id,track_id,name\nPLX,4uLU6hMCjMI75M1A2tKUQC,ok\nPLX,7ouMYWpwJ422jRcDASZB7P\n",
    "empty.csv": "",
    "binary.csv": None,
    "notes.txt": "playlist_id,track_id\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_refused_and_nothing_changes(store, mpd_dir, tmp_path, name):
    d, _ = mpd_dir
    import_corpus(store, [d / "mpd.slice.0-49.json"])
    before = (_stored_pairs(store), store.corpus_stats(), store.corpus_track_ids())
    bad = tmp_path / name
    if BAD_FILES[name] is None:
        bad.write_bytes(b"playlist_id,track_id\n\xff\xfe\x00\x81garbage\n")
    else:
        bad.write_text(BAD_FILES[name], encoding="utf-8")
    # a good file first in the same run: it must be rolled back with the bad one
    with pytest.raises(InputError) as info:
        import_corpus(store, [d / "mpd.slice.50-99.json", bad])
    message = str(info.value)
    assert "\n" not in message and message
    assert (_stored_pairs(store), store.corpus_stats(), store.corpus_track_ids()) == before
    assert store.conn.execute("SELECT COUNT(*) FROM corpus_imports WHERE status != 'done'").fetchone()[0] == 0
    assert store.integrity_check() == "ok"


def test_missing_path_is_an_input_error(store, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        import_corpus(store, [tmp_path / "nope.json"])


def test_cli_import_and_bad_file(tmp_path, mpd_dir, home):
    d, datas = mpd_dir
    ok = invoke(["corpus", "import", str(d), "--json"])
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["playlists"] == 100 and data["corpus"]["pairs"] == len(_expected_pairs(datas))
    bad = tmp_path / "broken.json"
    bad.write_text('{"playlists": [', encoding="utf-8")
    res = invoke(["corpus", "import", str(bad)])
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "broken.json" in res.stderr
    status = invoke(["corpus", "status", "--json"])
    assert json.loads(status.stdout)["playlists"] == 100


def test_real_tidytuesday_csv(store, shared_dir):
    summary = import_corpus(store, [shared_dir / "data" / "tidytuesday_spotify_songs.csv"])
    assert summary.playlists == 471
    stats = store.corpus_stats()
    assert stats["tracks"] == 28356
    m, tids, _ = store.corpus_matrix()
    assert m.shape == (471, 28356) and m.nnz == stats["pairs"]
    feats = store.corpus_tracks_frame(list(tids[:100]))
    assert feats["danceability"].notna().mean() > 0.95
