"""Recommendations: the pool from every retriever, the never-heard filter, the learned ranking,
diversity, and reasons. One run, `recommend()`; the CLI and the demo call it.

Steps (docs/recommend.md):
1. the collaborative scorer: fitted once by `tastebot train` and loaded from the run
   (fitted afresh, with a warning, when the corpus, the own playlists or the likes changed since);
2. candidates (tastebot.recommend.candidates): the union of the top `per_source` of each retriever, each pick
   tagged with the retrievers that found it; or, with `--from-playlist`, only those playlists;
3. never heard (tastebot.known);
4. audio features for candidates lacking them, within a budget of tracks (reported);
5. score: the learned ranking over each candidate's evidence (tastebot.models.ranker), trained by
   `tastebot train`; or, with `--blend W` (or a run without a ranking), the linear blend
   W * rank(MLP) + (1 - W) * rank(hybrid) over a shortlist;
6. pick: score order with at most `--max-per-artist` tracks per artist and, with `--diversity L`,
   maximal marginal relevance on the sound (features).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from tastebot.errors import InputError, ModelError, NotEnoughData, RateLimited, TastebotError
from tastebot.known import Known, never_heard
from tastebot.models.collab import HybridScorer
from tastebot.models.ranker import KINDS, LABELS, evidence_frame, kind_scores
from tastebot.recommend.candidates import (CandidatePool, candidate_frame, fill_names, gather_from_playlists,
                                           store_corpus_tracks)
from tastebot.recommend.retrievers import RetrievalContext, gather
from tastebot.recommend.explain import Recommendation, recommendations
from tastebot.recommend.pick import select, shortfall, shortlist_blend
from tastebot.recommend.steering import Steering, fits, nearest_seed, toward_seeds
from tastebot.vocab import AUDIO_FEATURES
from tastebot.lock import home_lock
from tastebot.models.collab import COLLAB_STATE, fingerprint, load_scorer, saved_fingerprint
from tastebot.models.runs import latest_run_id, load_model
from tastebot.providers.audio_features import FeatureChain
from tastebot.recommend import playlist as pl
from tastebot.spotify.client import SpotifyClient
from tastebot.store import open_store

PER_SOURCE = 1000  # candidates each retriever may add to the pool
MAX_N = 10_000  # the most picks one run gives (-n); a larger ask is bad input, not a silent cap
FEATURE_BUDGET = 3000  # tracks whose audio features may be requested per run


@dataclass
class RecommendOptions:
    n: int | None = None  # None: 30, or every track of the --from-playlist playlists
    from_playlists: tuple[str, ...] = ()
    new_artists_only: bool = False
    max_per_artist: int | None = None  # None: 2, or no cap when ranking --from-playlist playlists
    diversity: float = 0.0
    blend_weight: float | None = None
    ranking: str | None = None  # --ranking: one of tastebot.models.ranker.KINDS; None: the run's choice
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
        if self.n is not None and not 1 <= self.n <= MAX_N:
            raise InputError(f"-n must be between 1 and {MAX_N:,}.")
        if self.max_per_artist is not None and self.max_per_artist < 0:
            raise InputError("--max-per-artist must be 0 (no cap) or more.")
        if not 0.0 <= self.diversity <= 1.0:
            raise InputError("--diversity must be between 0 and 1.")
        if self.blend_weight is not None and not 0.0 <= self.blend_weight <= 1.0:
            raise InputError("--blend must be between 0 and 1.")
        if self.ranking is not None and self.ranking not in KINDS:
            raise InputError(f"--ranking must be one of {', '.join(KINDS)}.")
        if self.ranking is not None and self.blend_weight is not None:
            raise InputError("Choose one of --ranking and --blend.")
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
class RecommendResult:
    recommendations: list[Recommendation]
    candidates: dict[str, int]
    removed: dict[str, int]
    blend_weight: float | None
    blend_from: str
    model_run: str | None
    sources: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    ranking: str = "blend"  # a kind of tastebot.models.ranker.Ranking ("learned", "fusion", ...) or "blend"
    collab_from: str = ""
    seed_tracks: list[dict[str, Any]] = field(default_factory=list)  # the --seed-track tracks used

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
            "seed_tracks": self.seed_tracks,
        }


# -- the collaborative scorer, fitted once -------------------------------------------------------------
def load_collab(store, model, labelled: pd.DataFrame, seed: int, warn: Callable[[str], None]) -> tuple[HybridScorer, str]:
    """The scorer the model's run saved, when it still fits the store; else one fitted now."""
    run_dir = model.run_dir if model is not None else None
    if run_dir is not None and (run_dir / COLLAB_STATE).exists():
        try:
            changed = stale_parts(saved_fingerprint(run_dir), fingerprint(store, labelled))
            fresh = not changed
            if fresh:
                scorer, _ = load_scorer(run_dir, names_from=store.corpus_playlist_names,
                                        corpus_ids=store.corpus_track_ids)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"The collaborative part of run {model.run_id} is unreadable ({exc}): "
                             "retrain with `tastebot train`.") from None
        if fresh:
            return scorer, f"fitted by `tastebot train` (run {model.run_id})"
        warn(f"{' and '.join(changed)} changed since the model was trained: the collaborative score is "
             "fitted afresh for this run (`tastebot train` saves it again).")
    return HybridScorer.fit(store, labelled, seed=seed), "fitted for this run"


def stale_parts(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the fingerprint a run saved and the store's now, in words (empty: fresh).
    Said part by part, so the warning names only what really changed."""
    out = []
    if saved.get("corpus") != now.get("corpus"):
        was, _is = saved.get("corpus") or {}, now.get("corpus") or {}
        out.append(f"The imported corpus ({was.get('playlists', 0):,} playlists then, {_is.get('playlists', 0):,} now)")
    for key, words in (("own_playlists", "your own playlists"), ("likes", "your likes"),
                       ("dislikes", "your named dislikes")):
        if saved.get(key) != now.get(key):
            out.append(words)
    if out:
        out[0] = out[0][0].upper() + out[0][1:]
    return out


# -- the whole run -------------------------------------------------------------------------------------
def _ranking_mode(options: RecommendOptions, model) -> tuple[str, float | None, str]:
    if options.blend_weight is not None:
        return "blend", float(options.blend_weight), "--blend"
    if model is None:
        if options.ranking is not None:
            raise ModelError("--ranking needs a trained model: run `tastebot train` first.")
        return "blend", 0.0, "no trained model"
    if options.ranking is not None:
        if options.ranking == "learned" and (model.ranking is None or model.ranking.ranker is None):
            raise InputError(f"Run {model.run_id} has no learned ranking (`tastebot train` chose "
                             f"{model.ranking.label if model.ranking else 'the linear blend'}): choose another --ranking.")
        return options.ranking, None, f"{LABELS[options.ranking]} (--ranking)"
    if model.ranking is not None:
        return model.ranking.kind, None, f"{model.ranking.label} (run {model.run_id})"
    return "blend", float(model.blend_weight), "validation (metrics.json)"


def _latest_model(settings, options: RecommendOptions, warns: list[str]):
    """The latest trained model (None without one, or with --blend 0: a damaged one need not load)."""
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
    gather(RetrievalContext(settings=settings, store=store, client=client, options=options, likes=likes, model=model,
                            scorer=scorer, known=known, pool=pool, sources=sources, warnings=warns))


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
    frame, steered = _steer(frame, options)
    if options.steering.criteria():
        counts["after steering"] = int(len(frame))

    say("scoring")
    raw, taste = score_candidates(scorer, model, frame)
    parts = scorer.parts_from_evidence(raw)
    n = n_wanted(options, frame)
    evidence = evidence_frame(raw, taste)
    if mode != "blend":
        ranking = model.ranking  # None for a run from before any ranking, ranked here by --ranking taste|collab|fusion
        final = kind_scores(mode, evidence, ranking.ranker if ranking else None, ranking.taste_share if ranking else 0.0)
    else:
        final = shortlist_blend(taste if w and w > 0 else None, parts["hybrid"].to_numpy(), w or 0.0, n)
    final, picks, seeds, notes = _pick(settings, store, client, options, frame, final, n, steered, warns)
    recs = recommendations(frame, picks, final, parts, taste, scorer, evidence["no_collab"].to_numpy(), notes=notes)
    return RecommendResult(
        recommendations=recs, candidates=counts, removed=removed, blend_weight=w, blend_from=blend_from,
        model_run=model.run_id if model is not None else None, sources=sources, warnings=warns, ranking=mode,
        collab_from=collab_from, seed_tracks=seed_records(seeds, store),
    )


def _pick(settings, store, client, options: RecommendOptions, frame: pd.DataFrame, final: np.ndarray, n: int,
          steered: str, warns: list[str]):
    """(final scores, picks, seed tracks or None, notes for "why"): the seeds re-weight the order, then
    `select` picks; fewer picks than n are said from what it did, and the picks get their names."""
    seeds, notes = None, {}
    if options.steering.seed_tracks:
        seeds = _seed_frame(settings, store, client, options, warns)
        by_taste = final
        final = toward_seeds(frame, seeds, final)
    picks = select(frame, final, n, max_per_artist=options.cap, diversity=options.diversity)
    if seeds is not None:
        notes = seed_notes(frame, seeds, by_taste, final, picks)
    short = shortfall(frame, picks, n, options.cap)
    if short is not None:
        warns.append(shortfall_text(short, options, steered))
    fill_names(store, client, frame, picks, warns)
    return final, picks, seeds, notes


def seed_notes(frame: pd.DataFrame, seeds: pd.DataFrame, by_taste: np.ndarray, final: np.ndarray,
               picks: list[int]) -> dict[int, str]:
    """For the picks the seed tracks moved up (a better place than taste alone gave them), the reason:
    near which seed."""
    def places(scores: np.ndarray) -> np.ndarray:
        order = np.argsort(-np.nan_to_num(np.asarray(scores, dtype=float), nan=-1.0), kind="stable")
        out = np.empty(len(order), dtype=int)
        out[order] = np.arange(len(order))
        return out

    before, after = places(by_taste), places(final)
    nearest = nearest_seed(frame, seeds)  # over every candidate: the features are standardised on them
    notes = {}
    for i in picks:
        if after[i] < before[i] and nearest[i] >= 0:
            name = seeds["name"].iat[nearest[i]]
            notes[i] = f"near your seed track “{name}”" if isinstance(name, str) and name else "near a seed track"
    return notes


def seed_records(seeds: pd.DataFrame | None, store) -> list[dict[str, Any]]:
    """The --seed-track tracks as the run used them (confirmed on stderr and in --json)."""
    if seeds is None:
        return []
    artists = store.artist_names(seeds["primary_artist_id"].dropna().astype(str).unique().tolist())
    return [{"track_id": t, "name": n if isinstance(n, str) else None, "artist": artists.get(a),
             "audio_features": bool(pd.notna(f))}
            for t, n, a, f in zip(seeds["track_id"], seeds["name"], seeds["primary_artist_id"], seeds[AUDIO_FEATURES[0]])]


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


def _steer(frame: pd.DataFrame, options: RecommendOptions) -> tuple[pd.DataFrame, str]:
    """The candidates that fit the steering's filters (none: NotEnoughData), and of how many, with the
    counts per criterion ("" without steering). How many picks that left is said once they are picked
    (`shortfall_text`), from what `select` did, not estimated here."""
    steering = options.steering
    if not steering.criteria():
        return frame, ""
    keep, report = fits(frame, steering)
    k = int(keep.sum())
    detail = "; ".join(f"{label} {lo:g}-{hi:g}: {report[label + ' fits']} fit, {report[label + ' unknown']} unknown"
                       for label, (_, (lo, hi)) in steering.criteria().items())
    text = f"{k} of {len(frame)} candidates fit the steering ({detail})"
    if k == 0:
        raise NotEnoughData(f"No candidate fits: {text}. Widen the ranges or drop one.")
    return frame[keep].reset_index(drop=True), f"of {len(frame)}; {detail}"


def shortfall_text(short: dict[str, int], options: RecommendOptions, steered: str = "") -> str:
    """Why a run gave fewer picks than asked, from `pick.shortfall`: how many candidates were left to
    pick from (never heard, and fitting the steering: `steered` says how many fit) and how many the
    per-artist cap left out."""
    asked = (f"-n {short['asked']}" if options.n is not None
             else "every track of the playlists" if options.from_playlists else "the default -n")
    text = (f"{short['picked']} tracks instead of {short['asked']} ({asked}): only {short['candidates']} candidates "
            + (f"fit the steering ({steered})" if steered else "are tracks you have never heard"))
    if short["artist_capped"]:
        text += (f", and {short['artist_capped']} of them are by artists that already have {options.cap} picks "
                 f"(--max-per-artist {options.cap}; 0 = no cap)")
    more = "widen the steering" if steered else "import a larger corpus (`tastebot corpus import`)"
    return text + f". For more, {more}."


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


def recommendation_record(result: RecommendResult) -> dict[str, Any]:
    """What is recorded with a playlist tastebot writes (`playlist.write_playlist(details=...)`), so
    `tastebot report` can show the scores the playlist was made with."""
    return {
        "model_run": result.model_run,
        "ranking": result.ranking,
        "blend_weight": result.blend_weight,
        "blend_from": result.blend_from,
        "recommendations": [
            {"track_id": r.track_id, "name": r.name, "artist": r.artist, "score": r.score, "taste": r.taste, "mlp": r.taste,
             "hybrid": r.hybrid}
            for r in result.recommendations
        ],
    }


def playlist_description(result: RecommendResult, options: RecommendOptions) -> str:
    """What the created playlist's description says about how it was made."""
    if result.ranking in LABELS:
        how = LABELS[result.ranking]
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
    playlist: Any = None  # tastebot.recommend.playlist.PlaylistResult
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

    options.check()
    progress = progress or _null_progress
    writing = target is not None and not target.dry_run
    with home_lock(settings), open_store(settings) as store:
        if target is not None and target.update:
            pl.own_playlist(store, target.update)  # not tastebot's: refused before any request
        if client is None and not offline:

            client = SpotifyClient(settings)
        if writing:
            client.me()  # an expired login stops the run here (exit 4), before anything is written
            if store.unfinished_playlists():
                with progress() as bar:
                    resumed = pl.finish_unfinished(store, client, progress=bar)
                if resumed:  # none when every leftover was set aside: go on with what was asked
                    return Delivery(resumed=resumed)
        result = recommend(settings, store, client, options, progress=say)
        delivery = Delivery(result=result)
        if target is not None:
            delivery.playlist = _write(store, client, result, options, target, progress)
    return delivery


def _write(store, client, result: RecommendResult, options: RecommendOptions, target: PlaylistTarget, progress):

    ids = [r.track_id for r in result.recommendations]
    details = {**recommendation_record(result), "n": options.n, "diversity": options.diversity,
               "max_per_artist": options.max_per_artist, "new_artists_only": options.new_artists_only}
    description = playlist_description(result, options)
    same_name = [p for p in store.output_playlists() if p["spotify_id"] and p["name"] == target.name]
    if same_name and not target.update:
        # Allowed (Spotify allows it), but `--update-playlist NAME` can no longer tell them apart.
        result.warnings.append(
            f"tastebot already made a playlist named “{target.name}” (spotify:playlist:{same_name[0]['spotify_id']}): "
            "`--update-playlist` by that name will be ambiguous; give the URI instead, or choose another --name.")
    with progress() as bar:
        if target.update:
            return pl.refresh_playlist(store, client, target.update, ids, description=description, details=details,
                                       dry_run=target.dry_run, progress=bar)
        return pl.write_playlist(store, client, ids, name=target.name, public=target.public, description=description,
                                 details=details, dry_run=target.dry_run, progress=bar)
