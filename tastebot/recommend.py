"""Recommendations: the pool from every retriever, the never-heard filter, the learned ranking,
diversity, and reasons. One run, `recommend()`; the CLI and the demo call it.

Steps (docs/recommend.md):
1. the collaborative scorer: fitted once by `tastebot train` and loaded from the run
   (fitted afresh, with a warning, when the corpus, the own playlists or the likes changed since);
2. candidates (tastebot.candidates): the union of the top `per_source` of each retriever, each pick
   tagged with the retrievers that found it; or, with `--from-playlist`, only those playlists;
3. never heard (tastebot.known);
4. audio features for candidates lacking them, within a budget of tracks (reported);
5. score: the learned ranking over each candidate's evidence (tastebot.ranking), trained by
   `tastebot train`; or, with `--blend W` (or a run without a ranking), the linear blend
   W * rank(MLP) + (1 - W) * rank(hybrid) over a shortlist;
6. pick: score order with at most `--max-per-artist` tracks per artist and, with `--diversity L`,
   maximal marginal relevance on the sound (features).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from tastebot.candidates import (CandidatePool, candidate_frame, gather_albums, gather_corpus, gather_discovery,
                                 gather_from_playlists, gather_search, gather_taste, store_corpus_tracks)
from tastebot.errors import InputError, ModelError, NotEnoughData, RateLimited, TastebotError
from tastebot.known import Known, never_heard
from tastebot.models.collab import HybridScorer
from tastebot.models.content import content_matrix
from tastebot.steering import Steering, fits, toward_seeds
from tastebot.vocab import AUDIO_FEATURES

CANDIDATE_POOL_FOR_MMR = 10  # MMR looks at the best n * this many candidates
PER_SOURCE = 1000  # candidates each retriever may add to the pool
FEATURE_BUDGET = 3000  # tracks whose audio features may be requested per run


@dataclass
class RecommendOptions:
    n: int | None = None  # None: 30, or every track of the --from-playlist playlists
    from_playlists: tuple[str, ...] = ()
    new_artists_only: bool = False
    max_per_artist: int | None = None  # None: 2, or no cap when ranking --from-playlist playlists
    diversity: float = 0.0
    blend_weight: float | None = None
    taste_members: tuple[str, ...] = ("mlp", "forest")  # --taste-model: which members score taste
    use_corpus: bool = True
    use_search: bool = True
    use_albums: bool = True
    use_discovery: bool = True  # related artists from the open services (tastebot.discovery)
    search_pages: int = 2
    max_artists: int = 8
    albums_per_artist: int = 2
    per_source: int = PER_SOURCE
    feature_budget: int = FEATURE_BUDGET
    seed: int = 0
    allow_repeats: bool = False  # tastebot's picks of the last Settings.repeat_window_days may come again
    steering: Steering = field(default_factory=Steering)

    def check(self) -> None:
        if self.n is not None and self.n < 1:
            raise InputError("-n must be at least 1.")
        if self.max_per_artist is not None and self.max_per_artist < 0:
            raise InputError("--max-per-artist must be 0 (no cap) or more.")
        if not 0.0 <= self.diversity <= 1.0:
            raise InputError("--diversity must be between 0 and 1.")
        if self.blend_weight is not None and not 0.0 <= self.blend_weight <= 1.0:
            raise InputError("--blend must be between 0 and 1.")
        if self.per_source < 1:
            raise InputError("--per-source must be at least 1.")
        if self.feature_budget < 0:
            raise InputError("--feature-budget must be 0 or more.")

    @property
    def cap(self) -> int:
        if self.max_per_artist is not None:
            return self.max_per_artist
        return 0 if self.from_playlists else 2


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
    taste_only: bool = False  # no collaborative evidence: placed by the taste model alone
    relation: str | None = None  # discovery: "related to X, whom you play a lot"


    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RecommendResult:
    recommendations: list[Recommendation]
    candidates: dict[str, int]
    removed: dict[str, int]
    blend_weight: float | None
    blend_from: str
    model_run: str | None
    sources: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    ranking: str = "blend"  # "learned" (tastebot.ranking) or "blend" (the linear blend)
    collab_from: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "recommendations": [r.as_dict() for r in self.recommendations],
            "candidates": self.candidates,
            "removed": self.removed,
            "ranking": self.ranking,
            "blend_weight": self.blend_weight,
            "blend_from": self.blend_from,
            "model_run": self.model_run,
            "collab_from": self.collab_from,
            "sources": self.sources,
            "warnings": self.warnings,
        }


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


def _num(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v, 4)


RETRIEVER_WORDS = {
    "corpus:cooc": "in playlists with your likes", "corpus:factors": "near your likes in the playlist corpus",
    "corpus:artist": "by an artist you like", "taste": "the taste model's pick", "search:artist": "search by your artists",
    "search:genre": "search by your genres", "search:year": "search by your years",
    "album:liked-artist": "an album of an artist you like", "album:followed-artist": "an album of an artist you follow",
    "discovery:deezer": "Deezer's related artists", "discovery:lastfm": "Last.fm's similar artists",
}


def _why(row: dict, reason: dict, mlp: float | None) -> str:
    parts = [row["relation"]] if row.get("relation") else []
    if reason["nearest_liked"]:
        parts.append("sounds like " + ", ".join(r["name"] for r in reason["nearest_liked"][:2]))
    if reason["shared_playlists"]:
        names = reason["shared_playlist_names"]
        k = reason["shared_playlists"]
        parts.append(f"in {k} playlist{'s' if k != 1 else ''} with your likes" + (f" ({names[0]})" if names else ""))
    aff = row.get("artist")
    if aff is not None and not (isinstance(aff, float) and math.isnan(aff)) and aff >= 0.3:
        parts.append("an artist you like")
    if mlp is not None:
        parts.append(f"taste model {mlp:.2f}")
    found = [RETRIEVER_WORDS.get(s, s) for s in row["sources"] if s in RETRIEVER_WORDS]
    if found and not reason["shared_playlists"]:
        parts.append("found as " + ", ".join(found[:2]))
    return "; ".join(parts)


# -- the collaborative scorer, fitted once -------------------------------------------------------------
def load_collab(store, model, labelled: pd.DataFrame, seed: int, warn: Callable[[str], None]) -> tuple[HybridScorer, str]:
    """The scorer the model's run saved, when it still fits the store; else one fitted now."""
    from tastebot.models.collab import COLLAB_STATE, fingerprint, load_scorer, saved_fingerprint

    run_dir = model.run_dir if model is not None else None
    if run_dir is not None and (run_dir / COLLAB_STATE).exists():
        try:
            fresh = saved_fingerprint(run_dir) == fingerprint(store, labelled)
            if fresh:
                scorer, _ = load_scorer(run_dir, names_from=store.corpus_playlist_names,
                                        corpus_ids=store.corpus_track_ids)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"The collaborative part of run {model.run_id} is unreadable ({exc}): "
                             "retrain with `tastebot train`.") from None
        if fresh:
            return scorer, f"fitted by `tastebot train` (run {model.run_id})"
        warn("The corpus, your own playlists or your likes changed since the model was trained: the "
             "collaborative score is fitted afresh for this run (`tastebot train` saves it again).")
    return HybridScorer.fit(store, labelled, seed=seed), "fitted for this run"


# -- the whole run -------------------------------------------------------------------------------------
def _ranking_mode(options: RecommendOptions, model) -> tuple[str, float | None, str]:
    if options.blend_weight is not None:
        return "blend", float(options.blend_weight), "--blend"
    if model is None:
        return "blend", 0.0, "no trained model"
    if model.ranker is not None:
        return "learned", None, f"the learned ranking of run {model.run_id}"
    return "blend", float(model.blend_weight), "validation (metrics.json)"


def _latest_model(settings, options: RecommendOptions, warns: list[str]):
    """The latest trained model (None without one, or with --blend 0: a damaged one need not load)."""
    from tastebot.models.runs import latest_run_id, load_model

    if latest_run_id(settings) is None:
        warns.append("No trained model yet: run `tastebot train`. Ranking by the hybrid score alone.")
        return None
    if options.blend_weight == 0:
        return None
    try:
        return load_model(settings).with_members(options.taste_members)
    except ModelError as exc:
        raise ModelError(f"{exc.message} Or rank without the model: `tastebot recommend --blend 0`.") from None


def _gather(settings, store, client, options, likes, model, scorer, known, pool, sources, warns) -> None:
    if options.from_playlists:
        if client is None:
            raise InputError("--from-playlist needs a Spotify login.")
        gather_from_playlists(client, options.from_playlists, pool)
        sources["playlists"] = "used"
        return
    if options.use_corpus:
        found = gather_corpus(store, scorer, known, pool, options.per_source)
        if model is not None:
            found["taste"] = gather_taste(store, model, known, pool, options.per_source)
        stats = store.corpus_stats()
        if any(found.values()):
            sources["corpus"] = "used"
        elif stats["playlists"]:
            sources["corpus"] = (f"the corpus has {stats['playlists']} playlists and none shares a track or artist "
                                 "with your likes")
        else:
            sources["corpus"] = "empty: import one with `tastebot corpus import`"
    if client is not None and options.use_search:
        gather_search(client, likes, pool, options, sources, warns)
    if client is not None and options.use_albums:
        gather_albums(client, likes, pool, options, sources, warns)
    if client is not None and options.use_discovery:
        gather_discovery(settings, client, store, likes, known, pool, options, sources, warns)
    elif client is not None:
        sources["discovery"] = "off (--no-discovery)"


def _fill_features(settings, store, client, frame, options, scorer, feature_chain, sources, warns) -> pd.DataFrame:
    """Audio features for the candidates lacking them, the most promising first, within the budget
    (every track of a --from-playlist playlist: ranking it is the point)."""
    if client is None:
        return frame
    lacking = frame[frame[AUDIO_FEATURES[0]].isna()] if AUDIO_FEATURES[0] in frame.columns else frame
    budget = len(lacking) if options.from_playlists else options.feature_budget
    order = np.argsort(-np.nan_to_num(scorer.score(lacking), nan=0.0), kind="stable")[:budget]
    ask = lacking["track_id"].iloc[order].tolist()
    sources["features:budget"] = f"asked for {len(ask)} of {len(lacking)} candidates without features (budget {budget})"
    if not ask:
        return frame
    try:
        chain = feature_chain
        if chain is None:
            from tastebot.providers.audio_features import FeatureChain

            chain = FeatureChain(settings, store, client, notice=lambda t: warns.append(t))
        rep = chain.fill(ask)
        for p, r in rep.providers.items():
            sources[f"features:{p}"] = r.status + (f" ({r.reason})" if r.reason else "")
    except RateLimited:
        raise
    except TastebotError as exc:
        warns.append(f"audio features unavailable: {exc.message}")
    refreshed = store.tracks_frame(ask)
    if len(refreshed):
        feats = refreshed.set_index("track_id")
        for col in AUDIO_FEATURES + ("feature_provider",):
            if col in feats.columns:
                new = frame["track_id"].map(feats[col])
                frame[col] = new.where(new.notna(), frame[col] if col in frame.columns else None)
    return frame


def recommend(
    settings, store, client, options: RecommendOptions, *, model=None, feature_chain=None,
    progress: Callable[[str], None] | None = None,
) -> RecommendResult:
    """Recommend `options.n` tracks the listener has never heard. `client` is a SpotifyClient (None:
    corpus candidates only, no feature providers); `model` a TasteModel (None: load the latest, and
    without one rank by the hybrid score alone)."""
    options.check()
    say = progress or (lambda text: None)
    warns: list[str] = []
    sources: dict[str, str] = {}

    labelled = store.labelled_tracks()
    if not len(labelled) or not (pd.to_numeric(labelled["label"], errors="coerce") == 1).any():
        raise NotEnoughData("No liked tracks in the store yet: run `tastebot harvest` first.")
    if model is None:
        model = _latest_model(settings, options, warns)
    mode, w, blend_from = _ranking_mode(options, model)
    say("loading the collaborative score")
    scorer, collab_from = load_collab(store, model, labelled, options.seed, warns.append)
    known = Known.from_store(store, repeat_days=settings.repeat_window_days, allow_repeats=options.allow_repeats)
    known.track_ids |= set(options.steering.seed_tracks)  # "more like these", not these
    pool = CandidatePool()

    say("gathering candidates")
    likes = labelled[pd.to_numeric(labelled["label"], errors="coerce") == 1]
    _gather(settings, store, client, options, likes, model, scorer, known, pool, sources, warns)
    counts = pool.counts()
    if not pool.info:
        corpus_says = sources.get("corpus", "")
        if corpus_says.startswith("the corpus has"):
            raise NotEnoughData(f"No candidate tracks found: {corpus_says}.")
        raise NotEnoughData("No candidate tracks found: import a corpus (`tastebot corpus import`) or check the login.")
    # Store Spotify candidates (and corpus-only ones) so the feature providers can fill them.
    with store.transaction():
        for track, album in pool.spotify_objects:
            store.upsert_tracks([track], album=album)
        store_corpus_tracks(store, pool)

    frame = candidate_frame(store, pool)
    frame, removed = never_heard(frame, known, new_artists_only=options.new_artists_only)
    if len(frame) == 0:
        advice = ("every track of that playlist is one you know" if options.from_playlists
                  else "import a larger corpus or try again later")
        raise NotEnoughData(f"Every candidate is a track you already know: {advice}.")

    say("fetching audio features")
    frame = _fill_features(settings, store, client, frame, options, scorer, feature_chain, sources, warns)

    counts["after never-heard filter"] = int(len(frame))
    frame = _steer(frame, options, options.n or (1 if options.from_playlists else 30), warns)
    if options.steering.criteria():
        counts["after steering"] = int(len(frame))

    say("scoring")
    raw, mlp = score_candidates(scorer, model, frame)
    parts = scorer.parts_from_evidence(raw)
    n = n_wanted(options, frame)
    from tastebot.ranking import evidence_frame

    evidence = evidence_frame(raw, mlp)
    if mode == "learned":
        final = model.ranker.final(evidence)
    else:
        final = shortlist_blend(mlp if w and w > 0 else None, parts["hybrid"].to_numpy(), w or 0.0, n)
    if options.steering.seed_tracks:
        final = toward_seeds(frame, _seed_frame(settings, store, client, options, warns), final)
    picks = select(frame, final, n, max_per_artist=options.cap, diversity=options.diversity)
    recs = _recommendations(frame, picks, final, parts, mlp, scorer, evidence["no_collab"].to_numpy())
    return RecommendResult(
        recommendations=recs, candidates=counts, removed=removed, blend_weight=w, blend_from=blend_from,
        model_run=model.run_id if model is not None else None, sources=sources, warnings=warns, ranking=mode,
        collab_from=collab_from,
    )


def score_candidates(scorer: HybridScorer, model, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Each candidate's collaborative evidence and taste score (None without a model). The taste
    model runs in a second thread while the evidence is computed. They overlap only where the GIL is
    released (BLAS, the forest's trees): 100,000 candidates took 1.8-2.0 s side by side against
    2.1-2.5 s one after the other (docs/recommend.md, "Speed and memory")."""
    if model is None:
        return scorer.evidence(frame), None
    with ThreadPoolExecutor(1) as pool:
        taste = pool.submit(model.predict, frame)
        raw = scorer.evidence(frame)
        return raw, np.asarray(taste.result(), dtype=float)


def n_wanted(options: RecommendOptions, frame: pd.DataFrame) -> int:
    return options.n or (len(frame) if options.from_playlists else 30)


def _steer(frame: pd.DataFrame, options: RecommendOptions, n: int, warns: list[str]) -> pd.DataFrame:
    """The candidates that fit the steering's filters; says so when fewer than n fit (none: NotEnoughData)."""
    steering = options.steering
    if not steering.criteria():
        return frame
    keep, report = fits(frame, steering)
    k = int(keep.sum())
    if k < n:
        detail = "; ".join(f"{label} {lo:g}-{hi:g}: {report[label + ' fits']} fit, {report[label + ' unknown']} unknown"
                           for label, (_, (lo, hi)) in steering.criteria().items())
        text = f"{k} of {len(frame)} candidates fit the steering ({detail})"
        if k == 0:
            raise NotEnoughData(f"No candidate fits: {text}. Widen the ranges or drop one.")
        warns.append(f"Only {text}: at most {k} tracks instead of {n}.")
    return frame[keep].reset_index(drop=True)


def _seed_frame(settings, store, client, options: RecommendOptions, warns: list[str]) -> pd.DataFrame:
    """The seed tracks with their audio features: read from Spotify when the store lacks them."""
    ids = list(options.steering.seed_tracks)
    missing = [t for t in ids if not store.has_track(t)]
    if missing and client is None:
        raise InputError(f"--seed-track {missing[0]} is not in the store, and --offline cannot read it from Spotify.")
    if missing:
        with store.transaction():
            store.upsert_tracks([client.track(t) for t in missing])
    seeds = store.tracks_frame(ids)
    lacking = seeds[seeds[AUDIO_FEATURES[0]].isna()]["track_id"].tolist()
    if lacking and client is not None:
        from tastebot.providers.audio_features import FeatureChain

        try:
            FeatureChain(settings, store, client, notice=warns.append).fill(lacking)
        except RateLimited:
            raise
        except TastebotError as exc:
            warns.append(f"audio features of the seed tracks unavailable: {exc.message}")
        seeds = store.tracks_frame(ids)
    if seeds[AUDIO_FEATURES[0]].isna().all():
        warns.append("No audio features are known for the --seed-track tracks: nearness uses what metadata says "
                     "(duration, year).")
    return seeds


def _recommendations(frame, picks, final, parts, mlp, scorer, taste_only) -> list[Recommendation]:
    picked = frame.iloc[picks].reset_index(drop=True)
    reasons = scorer.explain(picked)
    recs = []
    for rank, (i, reason) in enumerate(zip(picks, reasons), start=1):
        row = frame.iloc[i]
        p = parts.iloc[i]
        m = float(mlp[i]) if mlp is not None else None
        srcs = [s for s in str(row.get("sources") or "").split(",") if s]
        relation = row.get("relation") if isinstance(row.get("relation"), str) else None
        recs.append(Recommendation(
            rank=rank, track_id=row["track_id"], name=str(row.get("name") or ""),
            artist=str(row.get("artist_name") or ""),
            artist_id=row.get("primary_artist_id") if isinstance(row.get("primary_artist_id"), str) else None,
            album_id=row.get("album_id") if isinstance(row.get("album_id"), str) else None,
            uri=f"spotify:track:{row['track_id']}", url=f"https://open.spotify.com/track/{row['track_id']}",
            score=round(float(final[i]), 4), mlp=_num(m), hybrid=round(float(p["hybrid"]), 4),
            collab=_num(p["collab"]), artist_affinity=_num(p["artist"]), content=_num(p["content"]),
            sources=srcs, nearest_liked=[r["name"] for r in reason["nearest_liked"]],
            shared_playlists=int(reason["shared_playlists"]), shared_playlist_names=reason["shared_playlist_names"],
            why=_why({"artist": p["artist"], "sources": srcs, "relation": relation}, reason, m),
            taste_only=bool(taste_only[i]), relation=relation,
        ))
    return recs


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
    if result.ranking == "learned":
        how = "the learned ranking of the taste model and the collaborative evidence"
    elif result.blend_weight:
        how = f"blend w={result.blend_weight:.2f} of the taste model and the hybrid score"
    else:
        how = "the hybrid collaborative score"
    src = ", ".join(k for k, v in result.sources.items() if v == "used" and not k.startswith("features:"))
    extra = []
    if options.new_artists_only:
        extra.append("new artists only")
    if options.diversity > 0:
        extra.append(f"diversity {options.diversity:g}")
    if options.steering.active:
        extra.append(options.steering.describe())
    return (
        f"Made by tastebot from your listening: {how}; candidates from {src or 'the corpus'}; only tracks you "
        f"have never played, saved or listed" + (f"; {', '.join(extra)}" if extra else "") + "."
    )


# -- one run to a playlist: what the CLI and the demo call ------------------------------------------------
@dataclass
class PlaylistTarget:
    """Where a run's picks go. `name`/`public`: a new playlist; `update`: instead, the name, URI or link
    of a playlist tastebot made, whose items the picks replace (its id stays); `dry_run`: say what
    would be written, write nothing."""

    name: str = ""
    public: bool = False
    dry_run: bool = False
    update: str | None = None


@dataclass
class Delivery:
    """What `recommend_to_playlist` did: the recommendations and the playlist written, or (`resumed`)
    the playlists an earlier, interrupted run planned, finished instead of a new run."""

    result: RecommendResult | None = None
    playlist: Any = None  # tastebot.playlist.PlaylistResult
    resumed: list = field(default_factory=list)


def _null_progress():
    from contextlib import nullcontext

    return nullcontext(None)


def recommend_to_playlist(
    settings, options: RecommendOptions, target: PlaylistTarget | None = None, *, offline: bool = False,
    client=None, progress: Callable[[], Any] | None = None, say: Callable[[str], None] | None = None,
) -> Delivery:
    """One whole run under the home's lock: recommend, and with a `target` write the picks to a
    playlist. A playlist an earlier run could not finish is finished first, instead of a new run
    (no second playlist, no duplicate track). `progress()` opens a rich-style progress (None: silent);
    `say(text)` follows the recommending steps."""
    from tastebot import playlist as pl
    from tastebot.lock import home_lock
    from tastebot.store import open_store

    options.check()
    progress = progress or _null_progress
    writing = target is not None and not target.dry_run
    with home_lock(settings), open_store(settings) as store:
        if target is not None and target.update:
            pl.own_playlist(store, target.update)  # not tastebot's: refused before any request
        if client is None and not offline:
            from tastebot.spotify.client import SpotifyClient

            client = SpotifyClient(settings)
        if writing:
            client.me()  # an expired login stops the run here (exit 4), before anything is written
            if store.unfinished_playlists():
                with progress() as bar:
                    return Delivery(resumed=pl.finish_unfinished(store, client, progress=bar))
        result = recommend(settings, store, client, options, progress=say)
        delivery = Delivery(result=result)
        if target is not None:
            delivery.playlist = _write(store, client, result, options, target, progress)
    return delivery


def _write(store, client, result: RecommendResult, options: RecommendOptions, target: PlaylistTarget, progress):
    from tastebot import playlist as pl

    ids = [r.track_id for r in result.recommendations]
    details = {**recommendation_record(result), "n": options.n, "diversity": options.diversity,
               "max_per_artist": options.max_per_artist, "new_artists_only": options.new_artists_only}
    description = playlist_description(result, options)
    with progress() as bar:
        if target.update:
            return pl.refresh_playlist(store, client, target.update, ids, description=description, details=details,
                                       dry_run=target.dry_run, progress=bar)
        return pl.write_playlist(store, client, ids, name=target.name, public=target.public, description=description,
                                 details=details, dry_run=target.dry_run, progress=bar)
