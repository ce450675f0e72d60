"""Recommendations: candidates from every source the app can use, the never-heard filter, the
blend of the taste model with the hybrid collaborative score, diversity, and reasons.

Steps (docs/recommend.md):
1. candidates, each tagged with where it came from: `corpus` (tracks of imported playlists that share
   playlists or artists with the likes), `search:artist|genre|year` (search, 10 a page, by the user's
   top artists, the likes' genres and years), `album:liked-artist|followed-artist` (albums of the
   artists the user likes or follows, album -> tracks); or with `--from-playlist` only those
   playlists' tracks ("rank this playlist by my taste").
2. features for candidates through the harvest's providers (Spotify, ReccoBeats, an imported table),
   plus whatever the corpus import carried.
3. never heard: every track the listener has met (saved, top, recent, own playlists, like/dislike lists,
   earlier tastebot playlists) is removed, and so is the same song under another id: same ISRC, or
   the same normalised title and primary artist ("Song - Remastered 2011", "Song (Live)",
   "Song (feat. X)" are all "song"). `--new-artists-only` also removes every known artist.
4. score: final = w * MLP + (1 - w) * hybrid, both rank-scaled (tastebot.models.blend), w from the
   trained model's validation (metrics.json) unless `--blend W`.
5. pick: score order with at most `--max-per-artist` tracks per artist and, with `--diversity L`,
   maximal marginal relevance on the sound (features).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from tastebot.errors import InputError, ModelError, NotEnoughData, RateLimited, SpotifyError, TastebotError
from tastebot.models.collab import HybridScorer, content_matrix

MAX_CORPUS_CANDIDATES = 3000
SEARCH_PAGE = 10
CANDIDATE_POOL_FOR_MMR = 10  # MMR looks at the best n * this many candidates


@dataclass
class RecommendOptions:
    n: int = 30
    from_playlists: tuple[str, ...] = ()
    new_artists_only: bool = False
    max_per_artist: int = 2
    diversity: float = 0.0
    blend_weight: float | None = None
    use_corpus: bool = True
    use_search: bool = True
    use_albums: bool = True
    search_pages: int = 2
    max_artists: int = 8
    albums_per_artist: int = 2
    seed: int = 0

    def check(self) -> None:
        if self.n < 1:
            raise InputError("-n must be at least 1.")
        if self.max_per_artist < 0:
            raise InputError("--max-per-artist must be 0 (no cap) or more.")
        if not 0.0 <= self.diversity <= 1.0:
            raise InputError("--diversity must be between 0 and 1.")
        if self.blend_weight is not None and not 0.0 <= self.blend_weight <= 1.0:
            raise InputError("--blend must be between 0 and 1.")


@dataclass
class Recommendation:
    rank: int
    track_id: str
    name: str
    artist: str
    artist_id: str | None
    album_id: str | None
    uri: str
    url: str
    score: float
    mlp: float | None
    hybrid: float
    collab: float | None
    artist_affinity: float | None
    content: float | None
    sources: list[str]
    nearest_liked: list[str]
    shared_playlists: int
    shared_playlist_names: list[str]
    why: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RecommendResult:
    recommendations: list[Recommendation]
    candidates: dict[str, int]
    removed: dict[str, int]
    blend_weight: float
    blend_from: str
    model_run: str | None
    sources: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "recommendations": [r.as_dict() for r in self.recommendations],
            "candidates": self.candidates,
            "removed": self.removed,
            "blend_weight": self.blend_weight,
            "blend_from": self.blend_from,
            "model_run": self.model_run,
            "sources": self.sources,
            "warnings": self.warnings,
        }


# -- never heard ------------------------------------------------------------------------------------
def song_key(title: str | None, artist_name: str | None) -> str | None:
    """The store's normalised 'title|primary artist' (the same function the library area uses)."""
    from tastebot.store.library import title_artist_key

    return title_artist_key(title, artist_name)


@dataclass
class Known:
    """What the listener has met, for the never-heard filter."""

    track_ids: set[str]
    isrcs: set[str]
    title_keys: set[str]
    artist_ids: set[str]
    artist_names: set[str]

    @classmethod
    def from_store(cls, store) -> "Known":
        ids = set(store.known_track_ids()) | set(store.output_track_ids())
        isrcs = {i.upper() for i in store.known_isrcs() if i}
        keys = set(store.known_title_artist_keys())
        artist_ids = set(store.known_artist_ids())
        # tastebot's own earlier playlists: their tracks' songs and artists count as known too
        extra = sorted(set(store.output_track_ids()))
        if extra:
            frame = store.tracks_frame(extra)
            isrcs |= {str(i).upper() for i in frame["isrc"] if isinstance(i, str) and i}
            for a in frame["artist_ids"]:
                artist_ids.update(x for x in str(a or "").split(",") if x)
        names = {k.split("|", 1)[1] for k in keys if "|" in k}
        return cls(ids, isrcs, keys, artist_ids, names)


def never_heard(cands: pd.DataFrame, known: Known, *, new_artists_only: bool = False) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop every candidate the listener has met, under this id or as the same song under another
    one; also duplicates among the candidates themselves (the first row of a song stays)."""
    removed = Counter()
    keep = []
    seen_isrc: set[str] = set()
    seen_key: set[str] = set()
    for row in cands.itertuples(index=False):
        tid = row.track_id
        isrc = str(row.isrc).upper() if isinstance(row.isrc, str) and row.isrc else None
        key = song_key(row.name, row.artist_name) if isinstance(row.artist_name, str) else None
        artists = [a for a in str(row.artist_ids or "").split(",") if a]
        if tid in known.track_ids:
            removed["known track"] += 1
        elif isrc and isrc in known.isrcs:
            removed["same ISRC as a known track"] += 1
        elif key and key in known.title_keys:
            removed["same title and artist as a known track"] += 1
        elif new_artists_only and (
            any(a in known.artist_ids for a in artists)
            or (isinstance(row.artist_name, str) and song_key("x", row.artist_name) is not None
                and song_key("x", row.artist_name).split("|", 1)[1] in known.artist_names)
        ):
            removed["known artist (--new-artists-only)"] += 1
        elif (isrc and isrc in seen_isrc) or (key and key in seen_key):
            removed["duplicate among candidates"] += 1
        else:
            keep.append(True)
            if isrc:
                seen_isrc.add(isrc)
            if key:
                seen_key.add(key)
            continue
        keep.append(False)
    mask = np.array(keep, dtype=bool) if keep else np.zeros(0, dtype=bool)
    return cands[mask].reset_index(drop=True), dict(removed)


# -- candidates ---------------------------------------------------------------------------------------
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
        if tag not in entry["tags"]:
            entry["tags"].append(tag)

    def add_corpus(self, meta: dict, tag: str = "corpus") -> None:
        tid = meta["track_id"]
        entry = self.info.get(tid)
        if entry is None:
            entry = self.info[tid] = {
                "name": meta.get("name"), "artist_name": meta.get("artist_name"),
                "primary_artist_id": meta.get("artist_id"), "isrc": None, "tags": [],
            }
        if tag not in entry["tags"]:
            entry["tags"].append(tag)

    def counts(self) -> dict[str, int]:
        c = Counter(t.split(":")[0] for e in self.info.values() for t in e["tags"])
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
    from tastebot.spotify import parse_playlist_ref, playlist_item_track

    for ref in refs:
        pid = parse_playlist_ref(ref)
        for page in client.playlist_items_pages(pid):
            for item in page.get("items") or []:
                pool.add_spotify(playlist_item_track(item), f"playlist:{pid}")


def gather_search(client, likes: pd.DataFrame, pool: CandidatePool, opts: RecommendOptions, sources, warnings) -> None:
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


def gather_albums(client, likes: pd.DataFrame, pool: CandidatePool, opts: RecommendOptions, sources, warnings) -> None:
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


def gather_corpus(store, scorer: HybridScorer, known: Known, pool: CandidatePool, limit: int) -> int:
    """The corpus tracks that share most with the likes (playlists, then artists)."""
    if scorer.corpus is None or scorer.cooc is None:
        return 0
    corpus = scorer.corpus
    score = np.array(scorer.cooc, dtype=float)
    if corpus.track_artists is not None and scorer.artist_weight:
        liked_artist = pd.Series(corpus.track_artists, dtype=object).map(scorer.artist_weight).fillna(0.0).to_numpy(dtype=float)
        score = score + (liked_artist > 0) * 0.5
    order = np.argsort(-score, kind="stable")
    chosen = []
    for j in order:
        if score[j] <= 0 or len(chosen) >= limit:
            break
        tid = corpus.track_ids[j]
        if tid not in known.track_ids and not str(tid).startswith("own:"):
            chosen.append(tid)
    if not chosen:
        return 0
    meta = store.corpus_tracks_frame(chosen) if hasattr(store, "corpus_tracks_frame") else pd.DataFrame()
    by_id = {r["track_id"]: r for r in meta.to_dict("records")} if len(meta) else {}
    for tid in chosen:
        pool.add_corpus(by_id.get(tid) or {"track_id": tid})
    return len(chosen)


def _store_corpus_tracks(store, pool: CandidatePool) -> None:
    """Write corpus-only candidates to the library as minimal track objects (id, name, artist,
    album, duration), so the feature providers can fill them."""
    objs = []
    for tid, e in pool.info.items():
        if "corpus" not in e["tags"] or e.get("stored"):
            continue
        obj: dict[str, Any] = {"id": tid, "type": "track", "name": e.get("name")}
        if e.get("primary_artist_id"):
            obj["artists"] = [{"id": e["primary_artist_id"], "name": e.get("artist_name")}]
        objs.append(obj)
    if objs:
        store.upsert_tracks(objs)


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
    if hasattr(store, "corpus_tracks_frame"):
        cf = store.corpus_tracks_frame(ids)
        if len(cf):
            cf = cf.set_index("track_id")
            idx = frame["track_id"]
            for col in ("danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
                        "instrumentalness", "liveness", "valence", "tempo", "time_signature", "duration_ms",
                        "release_year", "popularity"):
                if col not in cf.columns:
                    continue
                fill = pd.to_numeric(idx.map(cf[col]), errors="coerce")
                if col not in frame.columns:
                    frame[col] = np.nan
                cur = pd.to_numeric(frame[col], errors="coerce")
                was_empty = cur.isna() & fill.notna()
                frame[col] = cur.where(cur.notna(), fill)
                if col == "danceability" and "feature_provider" in frame.columns:
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
    return frame


# -- the blend ---------------------------------------------------------------------------------------
SHORTLIST_PER_PICK = 10
MIN_SHORTLIST = 300


def shortlist_blend(mlp: np.ndarray | None, hybrid: np.ndarray, w: float, n: int) -> np.ndarray:
    """final = w * rank(MLP) + (1 - w) * rank(hybrid) (tastebot.models.blend), with the ranks taken
    over the shortlist: the best max(10 n, 300) candidates of either part.

    Why a shortlist: over tens of thousands of candidates a rank says little at the top (the hybrid's
    30th and 300th tracks differ by 1 % of rank), so any w > 0 would let the MLP reorder the whole top
    of the hybrid's list. Over the shortlist, both parts judge the tracks that either finds likely.
    Candidates outside the shortlist keep their order after it (scores below every shortlisted one).
    """
    from tastebot.models.blend import blend, rank_scale

    hybrid = np.asarray(hybrid, dtype=float)
    if mlp is None or w <= 0:
        return rank_scale(hybrid)
    mlp = np.asarray(mlp, dtype=float)
    size = max(SHORTLIST_PER_PICK * n, MIN_SHORTLIST)
    if len(hybrid) <= size:
        return blend(mlp, hybrid, w)
    top_h = np.argsort(-np.nan_to_num(hybrid, nan=-1.0), kind="stable")[:size]
    top_m = np.argsort(-np.nan_to_num(mlp, nan=-1.0), kind="stable")[:size]
    short = np.union1d(top_h, top_m)
    out = blend(mlp, hybrid, w) * 1e-3  # the rest: the plain blend's order, below the shortlist
    out[short] = 1e-3 + (1 - 1e-3) * blend(mlp[short], hybrid[short], w)
    return out


# -- picking -----------------------------------------------------------------------------------------
def select(frame: pd.DataFrame, scores: np.ndarray, n: int, *, max_per_artist: int = 2, diversity: float = 0.0) -> list[int]:
    """Row positions of the picks: score order (or MMR on the sound when diversity > 0), at most
    max_per_artist per primary artist (0 = no cap)."""
    order = np.lexsort((frame["track_id"].astype(str).to_numpy(), -np.nan_to_num(scores, nan=-1.0)))
    artists = [
        (a if isinstance(a, str) and a else f"?{i}") for i, a in enumerate(
            frame["primary_artist_id"] if "primary_artist_id" in frame.columns else [None] * len(frame))
    ]
    per_artist: Counter = Counter()

    def allowed(i: int) -> bool:
        return max_per_artist == 0 or per_artist[artists[i]] < max_per_artist

    if diversity <= 0:
        out = []
        for i in order:
            if allowed(i):
                out.append(int(i))
                per_artist[artists[i]] += 1
                if len(out) >= n:
                    break
        return out
    pool = [int(i) for i in order[: max(n * CANDIDATE_POOL_FOR_MMR, n)]]
    X = content_matrix(frame.iloc[pool])
    # centred on the pool, so the similarity compares sounds, not the shared offset (year ~ 200 units)
    with warnings.catch_warnings():  # a feature unknown for the whole pool: its centre is NaN, zeroed below
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmean(X, axis=0)
    X = X - np.nan_to_num(centre)[None, :]
    X = np.where(np.isnan(X), 0.0, X)  # unknown features: the average sound
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    U = X / np.where(norm > 0, norm, 1.0)
    rel = np.nan_to_num(np.asarray(scores, dtype=float)[pool], nan=0.0)
    max_sim = np.full(len(pool), -np.inf)
    taken = np.zeros(len(pool), dtype=bool)
    out: list[int] = []
    while len(out) < n:
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        value = (1 - diversity) * rel - diversity * penalty
        value[taken] = -np.inf
        for k in range(len(pool)):
            if not allowed(pool[k]):
                value[k] = -np.inf
        k = int(np.argmax(value))
        if not np.isfinite(value[k]):
            break
        taken[k] = True
        out.append(pool[k])
        per_artist[artists[pool[k]]] += 1
        max_sim = np.maximum(max_sim, U @ U[k])
    return out


def _why(row: dict, reason: dict, mlp: float | None, w: float) -> str:
    parts = []
    if reason["nearest_liked"]:
        parts.append("sounds like " + ", ".join(r["name"] for r in reason["nearest_liked"][:2]))
    if reason["shared_playlists"]:
        names = reason["shared_playlist_names"]
        parts.append(f"in {reason['shared_playlists']} playlist(s) with your likes" + (f" ({names[0]})" if names else ""))
    aff = row.get("artist")
    if aff is not None and not (isinstance(aff, float) and math.isnan(aff)) and aff >= 0.3:
        parts.append("an artist you like")
    if mlp is not None and w > 0:
        parts.append(f"model {mlp:.2f}")
    parts.append(f"hybrid {row['hybrid']:.2f}")
    return "; ".join(parts)


def _num(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v, 4)


# -- the whole run -------------------------------------------------------------------------------------
def recommend(
    settings, store, client, options: RecommendOptions, *, model=None, feature_chain=None,
    progress: Callable[[str], None] | None = None,
) -> RecommendResult:
    """Recommend `options.n` tracks the listener has never heard. `client` is a SpotifyClient (None:
    corpus candidates only, no feature providers); `model` a TasteModel (None: load the latest, and
    without one rank by the hybrid score alone)."""
    options.check()
    say = progress or (lambda text: None)
    warnings: list[str] = []
    sources: dict[str, str] = {}

    labelled = store.labelled_tracks()
    likes = labelled[pd.to_numeric(labelled["label"], errors="coerce") == 1] if len(labelled) else labelled
    if len(likes) == 0:
        raise NotEnoughData("No liked tracks in the store yet: run `tastebot harvest` first.")

    if model is None:
        from tastebot.train import load_model

        try:
            model = load_model(settings)
        except ModelError as exc:
            warnings.append(f"{exc.message} Ranking by the hybrid score alone.")
            model = None
    if options.blend_weight is not None:
        w, blend_from = float(options.blend_weight), "--blend"
    elif model is not None:
        w, blend_from = float(model.blend_weight), "validation (metrics.json)"
    else:
        w, blend_from = 0.0, "no trained model"

    say("fitting the hybrid score")
    scorer = HybridScorer.fit(store, likes, seed=options.seed)
    known = Known.from_store(store)
    pool = CandidatePool()

    say("gathering candidates")
    if options.from_playlists:
        if client is None:
            raise InputError("--from-playlist needs a Spotify login.")
        gather_from_playlists(client, options.from_playlists, pool)
        sources["playlists"] = "used"
    else:
        if options.use_corpus:
            n = gather_corpus(store, scorer, known, pool, MAX_CORPUS_CANDIDATES)
            sources["corpus"] = "used" if n else "empty: import one with `tastebot corpus import`"
        if client is not None and options.use_search:
            gather_search(client, likes, pool, options, sources, warnings)
        if client is not None and options.use_albums:
            gather_albums(client, likes, pool, options, sources, warnings)
    counts = pool.counts()
    if not pool.info:
        raise NotEnoughData("No candidate tracks found: import a corpus (`tastebot corpus import`) or check the login.")

    # Store Spotify candidates (and corpus-only ones) so the feature providers can fill them.
    with store.transaction():
        for track, album in pool.spotify_objects:
            store.upsert_tracks([track], album=album)
        _store_corpus_tracks(store, pool)

    frame = candidate_frame(store, pool)
    frame, removed = never_heard(frame, known, new_artists_only=options.new_artists_only)
    if len(frame) == 0:
        raise NotEnoughData("Every candidate is a track you already know: import a larger corpus or try again later.")

    say("fetching audio features")
    if client is not None:
        try:
            chain = feature_chain
            if chain is None:
                from tastebot.features_sources import FeatureChain

                chain = FeatureChain(settings, store, client, notice=lambda t: warnings.append(t))
            rep = chain.fill(frame["track_id"].tolist())
            for p, r in rep.providers.items():
                sources[f"features:{p}"] = r.status + (f" ({r.reason})" if r.reason else "")
        except RateLimited:
            raise
        except TastebotError as exc:
            warnings.append(f"audio features unavailable: {exc.message}")
        refreshed = store.tracks_frame(frame["track_id"].tolist())
        if len(refreshed):
            feats = refreshed.set_index("track_id")
            for col in ("danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
                        "instrumentalness", "liveness", "valence", "tempo", "time_signature", "feature_provider"):
                if col in feats.columns:
                    new = frame["track_id"].map(feats[col])
                    frame[col] = new.where(new.notna(), frame[col] if col in frame.columns else None)

    say("scoring")
    parts = scorer.score_parts(frame)
    hybrid = parts["hybrid"].to_numpy()
    mlp = None
    if model is not None and w > 0:
        mlp = np.asarray(model.predict(frame), dtype=float)
    final = shortlist_blend(mlp, hybrid, w, options.n)
    picks = select(frame, final, options.n, max_per_artist=options.max_per_artist, diversity=options.diversity)
    picked = frame.iloc[picks].reset_index(drop=True)
    reasons = scorer.explain(picked)
    recs = []
    for rank, (i, reason) in enumerate(zip(picks, reasons), start=1):
        row = frame.iloc[i]
        p = parts.iloc[i]
        m = float(mlp[i]) if mlp is not None else None
        part_row = {"hybrid": float(p["hybrid"]), "artist": p["artist"]}
        recs.append(Recommendation(
            rank=rank, track_id=row["track_id"], name=str(row.get("name") or ""),
            artist=str(row.get("artist_name") or ""),
            artist_id=row.get("primary_artist_id") if isinstance(row.get("primary_artist_id"), str) else None,
            album_id=row.get("album_id") if isinstance(row.get("album_id"), str) else None,
            uri=f"spotify:track:{row['track_id']}", url=f"https://open.spotify.com/track/{row['track_id']}",
            score=round(float(final[i]), 4), mlp=_num(m), hybrid=round(float(p["hybrid"]), 4),
            collab=_num(p["collab"]), artist_affinity=_num(p["artist"]), content=_num(p["content"]),
            sources=[s for s in str(row.get("sources") or "").split(",") if s],
            nearest_liked=[r["name"] for r in reason["nearest_liked"]],
            shared_playlists=int(reason["shared_playlists"]), shared_playlist_names=reason["shared_playlist_names"],
            why=_why(part_row, reason, m, w),
        ))
    counts["after never-heard filter"] = int(len(frame))
    return RecommendResult(
        recommendations=recs, candidates=counts, removed=removed, blend_weight=w, blend_from=blend_from,
        model_run=getattr(model, "run_id", None) if model is not None else None, sources=sources, warnings=warnings,
    )


def recommendation_record(result: RecommendResult) -> dict[str, Any]:
    """What is recorded with a playlist tastebot writes (`playlist.write_playlist(details=...)`), so
    `tastebot report` can show the scores the playlist was made with."""
    return {
        "model_run": result.model_run,
        "blend_weight": result.blend_weight,
        "blend_from": result.blend_from,
        "recommendations": [
            {"track_id": r.track_id, "name": r.name, "artist": r.artist, "score": r.score, "mlp": r.mlp,
             "hybrid": r.hybrid}
            for r in result.recommendations
        ],
    }


def playlist_description(result: RecommendResult, options: RecommendOptions) -> str:
    """What the created playlist's description says about how it was made."""
    how = f"blend w={result.blend_weight:.2f} of the taste model and the hybrid score" if result.model_run or result.blend_weight > 0 \
        else "the hybrid collaborative score"
    src = ", ".join(k for k, v in result.sources.items() if v == "used" and not k.startswith("features:"))
    extra = []
    if options.new_artists_only:
        extra.append("new artists only")
    if options.diversity > 0:
        extra.append(f"diversity {options.diversity:g}")
    return (
        f"Made by tastebot from your listening: {how}; candidates from {src or 'the corpus'}; only tracks you "
        f"have never played, saved or listed" + (f"; {', '.join(extra)}" if extra else "") + "."
    )
