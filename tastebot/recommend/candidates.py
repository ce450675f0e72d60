"""Candidate gathering: every retriever that can propose a track the listener has not heard, each
tagged by name so the reasons and `--json` can say where a pick came from.

Retrievers (docs/recommend.md): `corpus:cooc` (corpus tracks sharing playlists with the likes),
`corpus:share` (tracks of the playlists that are most made of likes),
`corpus:factors` (nearest to the likes' profile in the corpus's factor space), `corpus:artist` (other
tracks of liked artists), `taste` (the taste model over every corpus track with audio features),
`search:artist|genre|year` (Spotify search, 10 a page), `album:liked-artist|followed-artist`,
`discovery:deezer|lastfm` (tracks of artists the open services relate to the listener's, see
tastebot.discovery); or, with `--from-playlist`, only `playlist:<id>`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from tastebot.errors import RateLimited, SpotifyError
from tastebot.known import Known
from tastebot.models.retrieval import corpus_top
from tastebot.vocab import AUDIO_FEATURES

SEARCH_PAGE = 10
TASTE_BATCH = 8192
CORPUS_RETRIEVERS = (("cooc", "corpus:cooc"), ("share", "corpus:share"), ("factor", "corpus:factors"),
                     ("artist", "corpus:artist"))


class CandidatePool:
    """Candidate tracks by id with their tags; Spotify objects are written to the library store so
    the feature providers and `tracks_frame` can work on them."""

    def __init__(self) -> None:
        self.info: dict[str, dict[str, Any]] = {}
        self.spotify_objects: list[tuple[dict, dict | None]] = []

    def add_spotify(self, track: dict | None, tag: str, album: dict | None = None) -> None:
        if not isinstance(track, dict) or not track.get("id") or track.get("is_local"):
            return
        if track.get("type") not in (None, "track"):
            return
        tid = track["id"]
        artists = [a for a in track.get("artists") or [] if isinstance(a, dict)]
        entry = self.info.get(tid)
        if entry is None:
            entry = self.info[tid] = {
                "name": track.get("name"),
                "artist_name": artists[0].get("name") if artists else None,
                "primary_artist_id": artists[0].get("id") if artists else None,
                "isrc": (track.get("external_ids") or {}).get("isrc"),
                "tags": [],
            }
            self.spotify_objects.append((track, album))
        elif entry.get("corpus_only"):  # Spotify's own object is the better record
            entry["corpus_only"] = False
            self.spotify_objects.append((track, album))
        if tag not in entry["tags"]:
            entry["tags"].append(tag)

    def add_relation(self, track_id: str, text: str) -> None:
        """Why a discovery retriever proposed the track ("related to X, whom you play a lot")."""
        entry = self.info.get(track_id)
        if entry is not None and text not in entry.setdefault("relations", []):
            entry["relations"].append(text)

    def add_corpus(self, meta: dict, tag: str = "corpus") -> None:
        tid = meta["track_id"]
        entry = self.info.get(tid)
        if entry is None:
            entry = self.info[tid] = {
                "name": meta.get("name"), "artist_name": meta.get("artist_name"),
                "primary_artist_id": meta.get("artist_id"), "isrc": None, "tags": [], "corpus_only": True,
            }
        if tag not in entry["tags"]:
            entry["tags"].append(tag)

    def counts(self) -> dict[str, int]:
        c = Counter(t for e in self.info.values() for t in e["tags"])
        return {"total": len(self.info), **dict(sorted(c.items()))}


def _safe(source: str, fn: Callable[[], None], sources: dict[str, str], warnings: list[str]) -> None:
    """Run one candidate source; a refusal skips it with its reason (rate limits stop the run)."""
    try:
        fn()
        sources.setdefault(source, "used")
    except RateLimited:
        raise
    except SpotifyError as exc:
        sources[source] = f"skipped: {exc.message}"
        warnings.append(f"{source} skipped: {exc.message}")


def gather_from_playlists(client, refs: Sequence[str], pool: CandidatePool) -> None:
    from tastebot.spotify.refs import parse_playlist_ref, playlist_item_track

    for ref in refs:
        pid = parse_playlist_ref(ref)
        for page in client.playlist_items_pages(pid):
            for item in page.get("items") or []:
                pool.add_spotify(playlist_item_track(item), f"playlist:{pid}")


def gather_search(client, likes: pd.DataFrame, pool: CandidatePool, opts, sources, warnings) -> None:
    queries: list[tuple[str, str]] = []

    def top_artist_queries() -> None:
        artists = client.top_artists("medium_term")
        for a in artists[: opts.max_artists]:
            if a.get("name"):
                queries.append((f'artist:"{a["name"]}"', "search:artist"))

    _safe("top artists", top_artist_queries, sources, warnings)
    genres = Counter()
    for g in likes.get("genres", pd.Series(dtype=object)).fillna(""):
        genres.update(x for x in str(g).split("|") if x)
    for g, _ in genres.most_common(3):
        queries.append((f'genre:"{g}"', "search:genre"))
    years = pd.to_numeric(likes.get("release_year", pd.Series(dtype=float)), errors="coerce").dropna().astype(int)
    for y, _ in Counter(years).most_common(3):
        queries.append((f"year:{y}", "search:year"))

    def run_queries() -> None:
        for q, tag in queries:
            for page in range(opts.search_pages):
                answer = client.search(q, type="track", limit=SEARCH_PAGE, offset=page * SEARCH_PAGE)
                items = ((answer or {}).get("tracks") or {}).get("items") or []
                for t in items:
                    pool.add_spotify(t, tag)
                if len(items) < SEARCH_PAGE:
                    break

    _safe("search", run_queries, sources, warnings)


def gather_albums(client, likes: pd.DataFrame, pool: CandidatePool, opts, sources, warnings) -> None:
    liked = (
        likes.assign(w=pd.to_numeric(likes.get("weight", 1.0), errors="coerce").fillna(1.0))
        .groupby("primary_artist_id")["w"].sum().sort_values(ascending=False)
    )
    artists = [(a, "album:liked-artist") for a in liked.index[: opts.max_artists] if isinstance(a, str) and a]

    def followed() -> None:
        for a in client.followed_artists()[: opts.max_artists]:
            if a.get("id"):
                artists.append((a["id"], "album:followed-artist"))

    _safe("followed artists", followed, sources, warnings)

    def albums() -> None:
        seen: set[str] = set()
        for aid, tag in artists:
            for alb in client.artist_albums(aid, max_items=opts.albums_per_artist):
                if not alb.get("id") or alb["id"] in seen:
                    continue
                seen.add(alb["id"])
                for t in client.album_tracks(alb["id"]):
                    pool.add_spotify(t, tag, album=alb)

    _safe("artist albums", albums, sources, warnings)


def discovery_seeds(client, store, likes: pd.DataFrame, limit: int, warnings: list[str]) -> list:
    """The listener's artists discovery starts from: top artists (medium term) first, then the liked
    artists by the weight of their likes; at most `limit`, no artist twice."""
    from tastebot.discovery import Seed
    from tastebot.names import loose_artist_name as loose_name

    seeds: list[Seed] = []
    seen: set[str] = set()

    def take(name: Any, artist_id: Any, why: str) -> None:
        if isinstance(name, str) and name.strip() and loose_name(name) not in seen and len(seeds) < limit:
            seen.add(loose_name(name))
            seeds.append(Seed(name=name.strip(), spotify_id=artist_id if isinstance(artist_id, str) else None, why=why))

    try:
        for a in client.top_artists("medium_term")[:limit]:
            take(a.get("name"), a.get("id"), "whom you play a lot")
    except RateLimited:
        raise
    except SpotifyError as exc:
        warnings.append(f"discovery: your top artists are unavailable ({exc.message}); starting from your likes")
    if len(seeds) < limit and len(likes):
        liked = (likes.assign(w=pd.to_numeric(likes.get("weight", 1.0), errors="coerce").fillna(1.0))
                 .groupby("primary_artist_id")["w"].sum().sort_values(ascending=False))
        ids = [a for a in liked.index[: limit * 2] if isinstance(a, str) and a]
        names = store.artist_names(ids)
        for aid in ids:
            take(names.get(aid), aid, "whom you like")
    return seeds


def gather_discovery(settings, client, store, likes: pd.DataFrame, known: Known, pool: CandidatePool, opts,
                     sources: dict[str, str], warnings: list[str]) -> dict:
    """The discovery retrievers (`discovery:<provider>`): tracks of new artists the open services
    relate to the listener's. Returns each provider's outcome (also written to `sources`)."""
    from tastebot.discovery import Limits, build_providers, discover

    providers, outcomes = build_providers(settings, store, getattr(client, "policy", None))
    if providers:
        limits = Limits.for_run(seeds=opts.max_artists, new_artists_only=opts.new_artists_only)
        seeds = discovery_seeds(client, store, likes, limits.seeds, warnings)

        def add(track: dict, tag: str, relation: str) -> None:
            pool.add_spotify(track, tag)
            pool.add_relation(track["id"], relation)

        try:
            discover(client, store, seeds, known, providers, add, limits=limits)
        except RateLimited:
            raise
        except SpotifyError as exc:  # Spotify's search failed while matching: keep what was found
            for p in providers:
                if p.outcome.status == "used":
                    p.outcome.status, p.outcome.reason = "failing", f"Spotify search failed: {exc.message.rstrip('.')}"
    for name, outcome in outcomes.items():
        sources[f"discovery:{name}"] = outcome.line()
        if outcome.status == "failing":
            warnings.append(f"discovery:{name} failing: {outcome.reason}")
    return outcomes


def gather_corpus(store, scorer, known: Known, pool: CandidatePool, per_source: int) -> dict[str, int]:
    """The corpus retrievers: the top `per_source` unknown corpus tracks by co-occurrence with the
    likes, by factor nearness to the likes' profile, and by the artists the listener likes."""
    found = {}
    for kind, tag in CORPUS_RETRIEVERS:
        ids = corpus_top(scorer, kind, per_source, known.track_ids)
        _add_corpus_ids(store, pool, ids, tag)
        found[tag] = len(ids)
    return found


def gather_taste(store, model, known: Known, pool: CandidatePool, per_source: int,
                 batch: int = TASTE_BATCH) -> tuple[int, str]:
    """The taste model's top `per_source` unheard corpus tracks join the pool, whatever the corpus's
    co-occurrence says of them. A run that scored the corpus at train time (a large corpus, see
    `scan_corpus_taste`) is asked only for its saved top, so recommend stays fast; otherwise every
    corpus track with audio features is scored here. Returns (tracks added, the `taste` source line)."""
    from tastebot.models.runs import TASTE_MEMBERS, load_taste_corpus

    saved = load_taste_corpus(model.run_dir) if model.run_dir is not None else None
    if saved is not None:
        scan = TasteScan.from_dict(saved)
        ids = [t for t in saved["track_ids"] if t not in known.track_ids]
        if tuple(model.members) == TASTE_MEMBERS:  # the model that ranked them: its order stands
            _add_corpus_ids(store, pool, ids[:per_source], "taste")
            return len(ids[:per_source]), scan.line()
        tracks = store.corpus_tracks_frame(ids, with_features=True) if ids else store.corpus_tracks_frame([])
    else:
        tracks = store.corpus_tracks_frame(with_features=True)
        n_features = len(tracks)
        tracks = tracks[~tracks["track_id"].isin(known.track_ids)].reset_index(drop=True)
        scan = TasteScan(scored=len(tracks), with_features=n_features, corpus_tracks=store.corpus_stats()["tracks"])
    if not len(tracks) or per_source <= 0:
        return 0, scan.line()
    scores = _taste_scores(model, tracks, batch)
    top = np.argsort(-scores, kind="stable")[:per_source]
    for rec in tracks.iloc[top].to_dict("records"):
        pool.add_corpus(rec, "taste")
    return len(top), scan.line()


# A corpus with more unheard tracks with audio features than this is scored by `tastebot train`,
# which saves its top this many with the run: recommend then scores only those.
TASTE_SHORTLIST = 5000


@dataclass
class TasteScan:
    """How much of the corpus the taste model scored, and (when `train` scored it) its top ids."""

    scored: int                 # unheard corpus tracks with audio features: all were scored
    with_features: int          # corpus tracks with audio features
    corpus_tracks: int          # corpus tracks
    track_ids: list[str] = field(default_factory=list)  # the top by taste score, best first (train time only)
    run_id: str | None = None   # set when it was scored at train time

    def line(self) -> str:
        """'scored 27,950 of 28,356 corpus tracks (98.6 %) with audio features (...)' for `sources`."""
        if not self.corpus_tracks:
            return "no corpus imported"
        share = 100 * self.with_features / self.corpus_tracks
        text = (f"scored {self.scored:,} of {self.corpus_tracks:,} corpus tracks ({share:.1f} % have audio "
                f"features; the {self.with_features - self.scored:,} you know left out)")
        if self.run_id is not None:
            text += f" at train time (run {self.run_id}), which kept its top {len(self.track_ids):,}"
        if self.with_features < self.corpus_tracks:
            text += "; `tastebot corpus features` fetches the missing features"
        return text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TasteScan":
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def scan_corpus_taste(store, model, known_ids: set[str], keep: int = TASTE_SHORTLIST,
                      batch: int = TASTE_BATCH, chunk: int = 50_000) -> dict[str, Any] | None:
    """`tastebot train`'s scan: the taste model over every unheard corpus track with audio features,
    `chunk` corpus tracks at a time with a running top (a whole-MPD corpus never sits in memory at
    once). When more than `keep` were scored, returns the TasteScan (top `keep` ids, best first) to
    save with the run (models/runs.py); None on a corpus small enough for recommend to scan itself."""
    all_ids = store.corpus_track_ids()
    best_ids: list[str] = []
    best_scores = np.zeros(0)
    scored = n_features = 0
    for start in range(0, len(all_ids), chunk):
        tracks = store.corpus_tracks_frame(all_ids[start : start + chunk], with_features=True)
        n_features += len(tracks)
        tracks = tracks[~tracks["track_id"].isin(known_ids)]
        if not len(tracks):
            continue
        scored += len(tracks)
        ids = best_ids + tracks["track_id"].tolist()
        scores = np.concatenate([best_scores, _taste_scores(model, tracks, batch)])
        top = np.argsort(-scores, kind="stable")[:keep]
        best_ids, best_scores = [ids[i] for i in top], scores[top]
    if scored <= keep:
        return None
    return TasteScan(scored=scored, with_features=n_features, corpus_tracks=len(all_ids), track_ids=best_ids).as_dict()


def _taste_scores(model, tracks: pd.DataFrame, batch: int) -> np.ndarray:
    return np.concatenate([np.asarray(model.predict(tracks.iloc[s : s + batch]), dtype=float)
                           for s in range(0, len(tracks), batch)])


def _add_corpus_ids(store, pool: CandidatePool, ids: Sequence[str], tag: str) -> None:
    new = [t for t in ids if t not in pool.info]
    meta = store.corpus_tracks_frame(new, columns=["name", "artist_name", "artist_id"]) if new else pd.DataFrame()
    by_id = {r["track_id"]: r for r in meta.to_dict("records")} if len(meta) else {}
    for tid in ids:
        pool.add_corpus(by_id.get(tid) or {"track_id": tid}, tag)


def store_corpus_tracks(store, pool: CandidatePool) -> None:
    """Write corpus-only candidates to the library as minimal track objects (id, name, artist,
    album, duration), so the feature providers can fill them."""
    objs = []
    for tid, e in pool.info.items():
        if not e.get("corpus_only"):
            continue
        obj: dict[str, Any] = {"id": tid, "type": "track", "name": e.get("name")}
        if e.get("primary_artist_id"):
            obj["artists"] = [{"id": e["primary_artist_id"], "name": e.get("artist_name")}]
        objs.append(obj)
    if objs:
        store.upsert_tracks(objs)


# -- the names of the picks ---------------------------------------------------------------------------
def text_or_none(value) -> str | None:
    """A name, or None for what is not one (NaN, None, empty): never shown as "nan"."""
    return value if isinstance(value, str) and value.strip() else None


def fill_names(store, client, frame: pd.DataFrame, rows: Sequence[int], warnings: list[str]) -> None:
    """Titles and artist names for the picks (positions in `frame`) that lack them, as candidates of a
    corpus imported from ids alone do: from the store first (tracks read before), else from Spotify,
    one track per request (development apps have no batch call), kept in the store for the next runs.
    Only the picks are read, so the requests are bounded by -n. Offline, or when Spotify gives none,
    the name stays empty (the pick is shown by its link), and a warning says so."""
    name_at, artist_at = frame.columns.get_loc("name"), frame.columns.get_loc("artist_name")

    def lacking() -> list[int]:
        return [i for i in rows if text_or_none(frame.iat[i, name_at]) is None
                or text_or_none(frame.iat[i, artist_at]) is None]

    def from_store(todo: list[int]) -> None:
        known = store.tracks_frame([frame["track_id"].iat[i] for i in todo])
        if not len(known):
            return
        known = known.drop_duplicates("track_id").set_index("track_id")
        artists = store.artist_names(known["primary_artist_id"].dropna().astype(str).unique().tolist())
        for i in todo:
            tid = frame["track_id"].iat[i]
            if tid not in known.index:
                continue
            if text_or_none(frame.iat[i, name_at]) is None:
                frame.iat[i, name_at] = text_or_none(known.at[tid, "name"])
            if text_or_none(frame.iat[i, artist_at]) is None:
                frame.iat[i, artist_at] = artists.get(known.at[tid, "primary_artist_id"])

    todo = lacking()
    if not todo:
        return
    from_store(todo)
    todo = lacking()
    why = "--offline reads nothing from Spotify"
    if todo and client is not None:
        why = _read_names(store, client, [frame["track_id"].iat[i] for i in todo])
        from_store(todo)
        todo = lacking()
    if todo:
        warnings.append(f"{len(todo)} of the picks have no title or artist name in the corpus and {why}: "
                        "they are shown by their link.")


def _read_names(store, client, track_ids: list[str]) -> str:
    """Read these tracks from Spotify into the store; what stopped it, for the warning."""
    found, why = [], "Spotify has no name for them"
    for tid in track_ids:
        try:
            track = client.track(tid)
        except SpotifyError as exc:
            if exc.status in (400, 404):  # not in the catalogue: no name to read
                continue
            why = f"Spotify could not be read ({exc.message.rstrip('.')})"
            break
        except RateLimited as exc:  # names are not worth a wait: what came is kept
            why = f"Spotify could not be read ({exc.message.rstrip('.')})"
            break
        if isinstance(track, dict) and track.get("id") == tid:
            found.append(track)
    if found:
        with store.transaction():
            store.upsert_tracks(found)
    return why


# -- the frame of candidates ---------------------------------------------------------------------------
def candidate_frame(store, pool: CandidatePool) -> pd.DataFrame:
    ids = list(pool.info)
    frame = store.tracks_frame(ids) if ids else pd.DataFrame(columns=["track_id"])
    have = set(frame["track_id"]) if len(frame) else set()
    missing = [t for t in ids if t not in have]
    if missing:
        extra = pd.DataFrame({"track_id": missing})
        frame = pd.concat([frame, extra], ignore_index=True) if len(frame) else extra
    # Features and metadata a corpus import carried, where the providers gave none.
    cf = store.corpus_tracks_frame(ids)
    if len(cf):
        cf = cf.set_index("track_id")
        idx = frame["track_id"]
        for col in AUDIO_FEATURES + ("duration_ms", "release_year", "popularity"):
            fill = pd.to_numeric(idx.map(cf[col]), errors="coerce")
            if col not in frame.columns:
                frame[col] = np.nan
            cur = pd.to_numeric(frame[col], errors="coerce")
            was_empty = cur.isna() & fill.notna()
            frame[col] = cur.where(cur.notna(), fill)
            if col == AUDIO_FEATURES[0] and "feature_provider" in frame.columns:
                frame.loc[was_empty.to_numpy(), "feature_provider"] = "corpus"
    info = pool.info
    frame["name"] = [
        n if isinstance(n, str) and n else info[t].get("name")
        for t, n in zip(frame["track_id"], frame["name"] if "name" in frame.columns else [None] * len(frame))
    ]
    frame["artist_name"] = [info[t].get("artist_name") for t in frame["track_id"]]
    for col in ("primary_artist_id", "isrc", "artist_ids", "album_id"):
        if col not in frame.columns:
            frame[col] = None
    frame["primary_artist_id"] = [
        a if isinstance(a, str) and a else info[t].get("primary_artist_id")
        for t, a in zip(frame["track_id"], frame["primary_artist_id"])
    ]
    frame["artist_ids"] = [
        a if isinstance(a, str) and a else (p or "") for a, p in zip(frame["artist_ids"], frame["primary_artist_id"])
    ]
    frame["isrc"] = [i if isinstance(i, str) and i else info[t].get("isrc") for t, i in zip(frame["track_id"], frame["isrc"])]
    frame["sources"] = [",".join(info[t]["tags"]) for t in frame["track_id"]]
    frame["relation"] = [(info[t].get("relations") or [None])[0] for t in frame["track_id"]]
    return frame


