"""Sandbox worlds built from the real TidyTuesday playlists, for benchmarks/recommend.py.

A world is a sandbox catalogue (docs/sandbox-catalog.md) holding every track of
`../shared/data/tidytuesday_spotify_songs.csv` (the file is read in place, never copied), the
listener's own playlists and library, the other users' playlists (the corpus), plus what the
benchmark needs to score the product: the hidden future likes (personas) or the labelled test
songs (labels).

- `persona_world`: the listener owns 30 % of the playlists of one or two subgenres (their tracks are
  also saved and top tracks), the other playlists of those subgenres hold the future likes, and one
  playlist of a subgenre of another genre is the listener's dislike playlist "Not for me".
- `label_world`: likes from one or two subgenres (half of their playlists, own and saved), an own
  dislike playlist from a subgenre of another genre or a random mix of other genres, and test songs
  (at most two per artist) by artists that appear nowhere in the listener's library, labelled 1 when
  they come from the liked taste and 0 from the disliked one. The test playlist is not in the
  catalogue: the benchmark creates it through the API after training (as a listener would), so the
  harvest never reads it as own-playlist likes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tidytuesday_spotify_songs.csv"
AUDIO = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
         "instrumentalness", "liveness", "valence", "tempo"]
LISTENER = "listener"
N_CURATORS = 40
CLOCK = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@dataclass
class Songs:
    tracks: pd.DataFrame            # one row per track id (index), catalogue fields + features
    playlists: pd.DataFrame         # index playlist_id: name, genre, subgenre (majority)
    members: dict[str, list[str]]   # playlist id -> track ids (file order, no repeats)


@dataclass
class World:
    kind: str                       # persona | labels
    name: str
    seed: int
    catalog: dict
    likes: list[str]                # the listener's known liked tracks (own playlists, saved)
    dislikes: list[str]             # the own dislike playlist's tracks
    dislike_playlist: str
    own_playlists: dict[str, list[str]]
    corpus_playlists: list[str]
    future: set[str] = field(default_factory=set)            # personas
    test_tracks: list[str] = field(default_factory=list)     # labels, playlist order
    test_labels: dict[str, int] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    family: str = ""
    index: int = 0
    harvest_dislikes: tuple[str, ...] | None = None   # --dislike-playlist given to harvest (None: the own one)
    ids_only_corpus: bool = False                     # the corpus CSV has playlist and track ids alone


def _artist_id(name: str) -> str:
    return "ar" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:20]


def _date(text: str) -> tuple[str, str]:
    text = str(text)
    for fmt, precision, n in (("%Y-%m-%d", "day", 10), ("%Y-%m", "month", 7), ("%Y", "year", 4)):
        try:
            datetime.strptime(text[:n], fmt)
            return text[:n], precision
        except ValueError:
            continue
    return "2000", "year"


def load_songs(path: Path = DATA) -> Songs:
    raw = pd.read_csv(path)
    raw["track_name"] = raw["track_name"].fillna("Untitled")      # 5 rows carry the text NA
    raw["track_artist"] = raw["track_artist"].fillna("Unknown artist")
    raw["track_album_name"] = raw["track_album_name"].fillna("Untitled")
    tracks = raw.drop_duplicates("track_id").set_index("track_id")
    tracks = tracks.assign(artist_id=[_artist_id(a) for a in tracks["track_artist"]])
    tracks["release_year"] = pd.to_numeric(tracks["track_album_release_date"].astype(str).str[:4], errors="coerce")
    pairs = raw.drop_duplicates(["playlist_id", "track_id"])
    members = {p: list(g["track_id"]) for p, g in pairs.groupby("playlist_id", sort=True)}
    meta = raw.groupby("playlist_id").agg(
        name=("playlist_name", "first"),
        genre=("playlist_genre", lambda s: s.value_counts().index[0]),
        subgenre=("playlist_subgenre", lambda s: s.value_counts().index[0]),
    )
    return Songs(tracks=tracks, playlists=meta, members=members)


def _features(row) -> dict:
    out = {}
    for c in AUDIO:
        v = row[c]
        if pd.isna(v):
            continue
        if c in ("key", "mode"):
            out[c] = int(v)
        elif c == "loudness":
            out[c] = float(min(max(v, -60.0), 5.0))
        elif c == "tempo":
            out[c] = float(min(max(v, 0.0), 300.0))
        else:
            out[c] = float(min(max(v, 0.0), 1.0))
    return out


def _base(songs: Songs) -> dict:
    """Artists, albums, tracks and audio features of every track of the file (cached per Songs)."""
    cached = getattr(songs, "_base", None)
    if cached is not None:
        return cached
    t = songs.tracks
    genres: dict[str, set[str]] = {}
    for pid, ids in songs.members.items():
        g, s = songs.playlists.loc[pid, ["genre", "subgenre"]]
        for aid in t.loc[ids, "artist_id"]:
            genres.setdefault(aid, set()).update((s, g))
    artists = {aid: {"id": aid, "name": name, "genres": sorted(genres.get(aid, ()))[:3]}
               for aid, name in zip(t["artist_id"], t["track_artist"])}
    albums, tracks, feats = {}, [], {}
    for i, (tid, row) in enumerate(t.iterrows()):
        if row["track_album_id"] not in albums:
            date, precision = _date(row["track_album_release_date"])
            albums[row["track_album_id"]] = {
                "id": row["track_album_id"], "name": str(row["track_album_name"]), "artist_ids": [row["artist_id"]],
                "release_date": date, "release_date_precision": precision, "album_type": "album"}
        tracks.append({"id": tid, "name": str(row["track_name"]), "artist_ids": [row["artist_id"]],
                       "album_id": row["track_album_id"], "duration_ms": max(1, int(row["duration_ms"])),
                       "explicit": False, "popularity": int(min(max(row["track_popularity"], 0), 100)),
                       "isrc": f"QZTT{i:08d}", "track_number": 1})
        feats[tid] = _features(row)
    base = {"artists": list(artists.values()), "albums": list(albums.values()), "tracks": tracks,
            "audio_features": feats}
    songs._base = base  # type: ignore[attr-defined]
    return base


def _stamp(i: int, hours: float) -> str:
    return (CLOCK - timedelta(hours=hours * (i + 1))).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_catalog(songs: Songs, own: dict[str, tuple[str, list[str]]], saved: list[str], corpus: list[str],
                  future: list[str], rng: np.random.Generator) -> dict:
    """A catalogue: every track; `own` = {playlist id: (name, track ids)} owned by the listener,
    `saved` their saved tracks (a sample also top and recently played), `corpus` other users'
    playlists (owned by N_CURATORS curators)."""
    from tastebot.harvest import DISLIKE_NAME

    base = _base(songs)
    users = [{"id": LISTENER, "display_name": "Benchmark Listener"}]
    users += [{"id": f"curator{k}", "display_name": f"Curator {k}"} for k in range(N_CURATORS)]
    playlists = []
    for pid, (name, ids) in own.items():
        playlists.append({"id": pid, "name": name, "owner_id": LISTENER, "public": False, "collaborative": False,
                          "description": "", "track_ids": list(ids)})
    for k, pid in enumerate(corpus):
        name = str(songs.playlists.loc[pid, "name"])
        name = "Playlist" if not name or name == "nan" or DISLIKE_NAME.search(name) else name
        playlists.append({"id": pid, "name": name, "owner_id": f"curator{k % N_CURATORS}", "public": True,
                          "collaborative": False, "description": "", "track_ids": list(songs.members[pid])})
    order = list(rng.permutation(saved))
    top = {r: [str(t) for t in rng.choice(order, size=min(50, len(order)), replace=False)]
           for r in ("short_term", "medium_term", "long_term")}
    listener = {
        "user_id": LISTENER,
        "saved_tracks": [{"track_id": str(t), "added_at": _stamp(i, 20)} for i, t in enumerate(order)],
        "top_tracks": top,
        "recently_played": [{"track_id": str(t), "played_at": _stamp(i, 0.1)[:-1] + ".000Z"}
                            for i, t in enumerate(order[:50])],
        "followed_artist_ids": [], "followed_playlist_ids": [],
    }
    return {"format": "tastebot-sandbox-catalog/1", **base, "users": users, "playlists": playlists,
            "listener": listener, "hidden": {"future_likes": sorted(future)}}


def _song_keys(songs: Songs, ids) -> set:
    from tastebot.names import title_artist_key

    t = songs.tracks.loc[list(ids)]
    return {title_artist_key(n, a) for n, a in zip(t["track_name"], t["track_artist"])} - {None}


def _far_playlists(songs: Songs, genres: set[str], rng, min_size: int = 20) -> list[str]:
    pl = songs.playlists
    sizes = pd.Series({p: len(m) for p, m in songs.members.items()})
    far_subs = sorted(pl.loc[~pl["genre"].isin(genres), "subgenre"].unique())
    sub = far_subs[int(rng.integers(len(far_subs)))]
    return [p for p in pl.index[pl["subgenre"] == sub] if sizes[p] >= min_size]


def _pick_subgenres(songs: Songs, rng) -> list[str]:
    subs = sorted(songs.playlists["subgenre"].unique())
    k = 1 if rng.random() < 0.5 else 2
    return [str(s) for s in rng.choice(subs, size=k, replace=False)]


@dataclass(frozen=True)
class PersonaSpec:
    """One persona kind: the base (today's persona) or one axis changed (benchmarks/recommend.py
    families). dislikes: own (an own "Not for me") | public (only in a public playlist owned by a
    curator: harvest is given it and a development app refuses it) | none. knows: own (own playlists)
    | public (every track of some public corpus playlists, saved, plus two small own playlists
    sampled from them) | saved (saved tracks only). share: of the taste's playlists known. corpus:
    features (the corpus CSV carries them) | ids (playlist and track ids alone). taste: base (one or
    two subgenres, as today) | one | near (two subgenres of one genre) | far (of two genres)."""

    dislikes: str = "own"
    knows: str = "own"
    share: float = 0.3
    corpus: str = "features"
    taste: str = "base"


BASE = PersonaSpec()
_TASTE_STREAM = {"one": 1, "near": 2, "far": 3}
SMALL_OWN = 20  # tracks in each of the two own playlists of the "knows public" listener


def _taste_subgenres(songs: Songs, rng, spec: PersonaSpec, seed: int, index: int) -> list[str]:
    drawn = _pick_subgenres(songs, rng)  # drawn always, so the other draws match the base persona's
    if spec.taste == "base":
        return drawn
    trng = np.random.default_rng([seed, index, 11, _TASTE_STREAM[spec.taste]])
    pl = songs.playlists
    by_genre = {g: sorted(pl.loc[pl["genre"] == g, "subgenre"].unique()) for g in sorted(pl["genre"].unique())}
    if spec.taste == "one":
        subs = sorted(pl["subgenre"].unique())
        return [str(subs[int(trng.integers(len(subs)))])]
    if spec.taste == "near":
        genres = [g for g, s in by_genre.items() if len(s) >= 2]
        g = genres[int(trng.integers(len(genres)))]
        return [str(s) for s in trng.choice(by_genre[g], size=2, replace=False)]
    g1, g2 = trng.choice(sorted(by_genre), size=2, replace=False)
    return [str(by_genre[g][int(trng.integers(len(by_genre[g])))]) for g in (g1, g2)]


def _playlist_id(prefix: str, rng) -> str:
    """A 22-character id, as Spotify's are."""
    return prefix + "".join(rng.choice(list("0123456789abcdefghij"), size=22 - len(prefix)))


def persona_world(songs: Songs, index: int, seed: int, spec: PersonaSpec = BASE, family: str = "base") -> World:
    """The base spec builds today's persona, draw for draw; another spec changes one axis and keeps
    every other draw (the same (index, seed) gives the same playlists, dislikes and catalogue order)."""
    rng = np.random.default_rng([seed, index, 11])
    subs = _taste_subgenres(songs, rng, spec, seed, index)
    pl = songs.playlists
    taste = [p for p in pl.index[pl["subgenre"].isin(subs)] if len(songs.members[p]) >= 5]
    taste = list(rng.permutation(taste))
    n_own = max(1, int(round(spec.share * len(taste))))
    known_pls, rest = taste[:n_own], taste[n_own:]
    far = _far_playlists(songs, set(pl.loc[taste, "genre"]), rng)
    dislike_pl = str(far[int(rng.integers(len(far)))])
    likes = list(dict.fromkeys(t for p in known_pls for t in songs.members[p]))
    heard_dislikes = [t for t in songs.members[dislike_pl] if t not in set(likes)]
    known = set(likes) | set(heard_dislikes)
    keys = _song_keys(songs, known)
    future = {t for p in rest for t in songs.members[p] if t not in known}
    future -= {t for t in future if _song_keys(songs, [t]) & keys}
    own: dict[str, tuple[str, list[str]]] = {}
    if spec.knows == "own":
        own = {p: (str(pl.loc[p, "name"]) if not _disliky(pl.loc[p, "name"]) else "Mine", songs.members[p])
               for p in known_pls}
    elif spec.knows == "public":  # the known playlists stay in the corpus, curated by others
        srng = np.random.default_rng([seed, index, 11, 99])
        for name in ("Picks", "More picks"):
            size = min(SMALL_OWN, len(likes))
            own[_playlist_id("0BenchOwn", srng)] = (name, [str(t) for t in srng.choice(likes, size=size, replace=False)])
    if spec.dislikes == "own":
        own[dislike_pl] = ("Not for me", heard_dislikes)
    # what the product (and so the peers) can learn the dislikes from: nothing but the own playlist
    dislikes = heard_dislikes if spec.dislikes == "own" else []
    harvest_dislikes = (dislike_pl,) if spec.dislikes in ("own", "public") else ()
    liked = set(likes)
    gone = set(known_pls) if spec.knows == "saved" else set()  # saved only: those playlists are no one's
    shared = [p for p in rest if liked & set(songs.members[p])]
    corpus = [p for p in pl.index if p not in own and p not in gone]
    reach = {t for p in corpus if liked & set(songs.members[p]) and p not in known_pls for t in songs.members[p]}
    cat = build_catalog(songs, own, likes, corpus, sorted(future), rng)
    return World(kind="persona", name=f"{'+'.join(subs)}", seed=seed, catalog=cat, likes=likes, dislikes=dislikes,
                 dislike_playlist=dislike_pl, own_playlists={p: v[1] for p, v in own.items()},
                 corpus_playlists=corpus, future=future, family=family, index=index,
                 harvest_dislikes=harvest_dislikes, ids_only_corpus=spec.corpus == "ids",
                 info={"subgenres": subs, "known_playlists": len(known_pls), "knows": spec.knows,
                       "own_playlists": len(own), "future_playlists": len(rest),
                       "dislikes": spec.dislikes, "dislike_subgenre": str(pl.loc[dislike_pl, "subgenre"]),
                       "corpus": spec.corpus, "corpus_playlists": len(corpus),
                       # how much a collaborative method can see: future-like playlists sharing a track
                       # with the likes, and future likes in a corpus playlist that holds a like
                       "future_playlists_sharing_a_like": len(shared),
                       "future_likes_cooccurring_with_a_like": len(reach & future)})


def _disliky(name) -> bool:
    from tastebot.harvest import DISLIKE_NAME

    return bool(DISLIKE_NAME.search(str(name)))


def _split_artists(songs: Songs, ids: list[str], share: float, rng) -> set[str]:
    artists = sorted(set(songs.tracks.loc[ids, "artist_id"]))
    n = max(1, int(round(share * len(artists))))
    return {str(a) for a in rng.choice(artists, size=n, replace=False)}


def _test_part(songs: Songs, ids: list[str], artists: set[str], cap: int, rng) -> list[str]:
    """At most two tracks per test artist, at most `cap` tracks."""
    per: dict[str, int] = {}
    out = []
    for t in rng.permutation(ids):
        a = songs.tracks.at[t, "artist_id"]
        if a in artists and per.get(a, 0) < 2:
            per[a] = per.get(a, 0) + 1
            out.append(str(t))
    return out[:cap]


def _one_per_song(songs: Songs, ids: list[str]) -> list[str]:
    from tastebot.names import title_artist_key

    seen, out = set(), []
    for t in ids:
        key = title_artist_key(songs.tracks.at[t, "track_name"], songs.tracks.at[t, "track_artist"]) or t
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def label_world(songs: Songs, index: int, seed: int, test_size: int = 400, apart: bool = False) -> World:
    """Likes from own playlists of one or two subgenres, a dislike playlist, a playlist of test songs
    by artists the library never names. `apart`: the test songs come from other playlists than the
    training ones (the likes' own playlists, the dislikes' playlists), and never sit in those, so
    what the corpus says of a test song comes only through playlists that happen to hold both."""
    rng = np.random.default_rng([seed, index, 22])
    pl = songs.playlists
    subs = _pick_subgenres(songs, rng)
    taste = list(rng.permutation([p for p in pl.index[pl["subgenre"].isin(subs)] if len(songs.members[p]) >= 5]))
    own_ids = taste[: max(1, min(10, len(taste) // 2))]
    genres = set(pl.loc[taste, "genre"])
    if rng.random() < 0.5:
        bad_pls, dislike_kind = _far_playlists(songs, genres, rng, min_size=5), "subgenre"
    else:
        others = [p for p in pl.index[~pl["genre"].isin(genres)]]
        bad_pls, dislike_kind = list(rng.choice(others, size=min(12, len(others)), replace=False)), "random mix"
    like_pool = list(dict.fromkeys(t for p in taste for t in songs.members[p]))
    bad_pool = [t for t in dict.fromkeys(t for p in bad_pls for t in songs.members[p]) if t not in set(like_pool)]
    like_test_pool, bad_test_pool = like_pool, bad_pool
    if apart and len(bad_pls) >= 2 and len(taste) > len(own_ids):
        in_own = {t for p in own_ids for t in songs.members[p]}
        like_test_pool = [t for t in dict.fromkeys(t for p in taste if p not in own_ids for t in songs.members[p])
                          if t not in in_own]
        train_bad = {t for p in bad_pls[::2] for t in songs.members[p]}
        bad_test_pool = [t for t in dict.fromkeys(t for p in bad_pls[1::2] for t in songs.members[p])
                         if t not in train_bad and t not in set(like_pool)]
        bad_pool = [t for t in bad_pool if t in train_bad]
    like_test_artists = _split_artists(songs, like_test_pool, 0.25, rng)
    bad_test_artists = _split_artists(songs, bad_test_pool, 0.4, rng) - set(songs.tracks.loc[like_pool, "artist_id"])
    test_artists = like_test_artists | bad_test_artists
    art = songs.tracks["artist_id"]
    likes = [t for t in dict.fromkeys(t for p in own_ids for t in songs.members[p]) if art[t] not in test_artists]
    dislikes = [t for t in bad_pool if art[t] not in test_artists and t not in set(likes)]
    dislikes = [str(t) for t in rng.permutation(dislikes)[: max(100, len(likes) // 2)]]
    pos = _test_part(songs, like_test_pool, like_test_artists, test_size // 2, rng)
    neg = _test_part(songs, bad_test_pool, bad_test_artists - like_test_artists, test_size // 2, rng)
    test = [str(t) for t in rng.permutation(pos + neg)]
    test = _one_per_song(songs, test)  # the same song twice (two ids) is one test song
    pos = [t for t in pos if t in set(test)]
    neg = [t for t in neg if t in set(test)]
    labels = {t: 1 for t in pos} | {t: 0 for t in neg}
    dislike_pl = "0BenchDislikes" + "".join(rng.choice(list("0123456789abcdefghij"), size=8))
    own = {p: (str(pl.loc[p, "name"]) if not _disliky(pl.loc[p, "name"]) else "Mine",
               [t for t in songs.members[p] if art[t] not in test_artists]) for p in own_ids}
    own[dislike_pl] = ("Not for me", dislikes)
    corpus = [p for p in pl.index if p not in own]
    cat = build_catalog(songs, own, likes, corpus, [], rng)
    return World(kind="labels", name=f"{'+'.join(subs)} vs {dislike_kind}{' (apart)' if apart else ''}", seed=seed, catalog=cat, likes=likes,
                 dislikes=dislikes, dislike_playlist=dislike_pl, own_playlists={p: v[1] for p, v in own.items()},
                 corpus_playlists=corpus, test_tracks=test, test_labels=labels,
                 info={"subgenres": subs, "dislike": dislike_kind, "positives": len(pos), "negatives": len(neg),
                       "dislike_subgenres": sorted(set(pl.loc[bad_pls, "subgenre"]))})
