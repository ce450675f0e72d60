"""Sampled negatives: weak dislikes for a library with few explicit ones, drawn from tracks the
listener shows no sign of knowing (`known.SamplingExclusions`), seeded, and replayed from the start every run so
the same library and seed give the same sample (docs/harvest.md)."""

from __future__ import annotations

import json
import math
import random
import string
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from tastebot.errors import SpotifyError, TastebotError
from tastebot.harvest.context import HarvestContext, SourceResult
from tastebot.harvest.signals import signal
from tastebot.known import SamplingExclusions
from tastebot.vocab import AUDIO_FEATURES, now_iso
from tastebot.wording import plural

# Sampled negatives: how many weak negatives per liked song, at most how many, and the share
# drawn "far" from the likes (other decades, other genres) rather than at random.
NEGATIVE_RATIO = 1.0
MAX_SAMPLED = 1500
FAR_SHARE = 0.3
CORPUS_SHARE = 0.5
# auto: sample only while explicit dislikes are fewer than this share of the likes.
AUTO_ENOUGH_DISLIKES = 0.5
SEARCH_GENRES = ("pop", "rap", "rock", "latin", "r&b", "edm", "jazz", "classical", "country", "metal",
                 "folk", "blues", "reggae", "punk", "soul", "hip hop", "techno", "ambient")
SAMPLED_MODES = ("auto", "always", "never")
# Searches in a row that find no usable unknown track before sampling gives up for this run.
LOW_YIELD_STOP = 8


class NegativeSampler:
    """The sampled-negatives source: weak dislikes drawn far from the likes (by search), from the
    imported corpus, and at random (by search), each phase with its own seeded generator."""

    def __init__(self, ctx: HarvestContext):
        self.ctx = ctx
        self.store, self.client, self.reporter, self.options = ctx.store, ctx.client, ctx.reporter, ctx.options
        self.rng = random.Random(ctx.options.seed)  # re-seeded per phase of the draw (run)

    def run(self, result: SourceResult) -> None:
        mode = self.options.sampled_negatives
        have = self.store.signal_track_ids(strength="weak")
        if mode == "never":
            if have:
                with self.store.transaction():
                    n = self.store.remove_signals("sampled_random") + self.store.remove_signals("sampled_far")
                result.detail = f"--sampled-negatives never: {plural(n, 'earlier sampled negative')} removed"
            else:
                result.detail = "--sampled-negatives never"
            result.status = "skipped"
            return
        counts = self.store.label_counts()
        likes, explicit = counts["likes"], counts["dislikes_explicit"]
        if mode == "auto" and likes and explicit >= AUTO_ENOUGH_DISLIKES * likes:
            result.status, result.detail = "skipped", (f"{plural(explicit, 'explicit dislike')} for "
                                                       f"{plural(likes, 'like')}: enough without sampling")
            return
        target = min(MAX_SAMPLED, math.ceil(NEGATIVE_RATIO * likes) - (explicit if mode == "auto" else 0))
        want = max(0, target - len(have))
        if want == 0:
            result.detail = f"{len(have)} sampled earlier; none needed"
            return
        last = _json_state(self.store, "sampled.last")
        if not self.options.full and last and last.get("short") and target <= int(last.get("target") or 0):
            # The last attempt ran out of unknown tracks to find: do not spend requests on it again
            # until the likes grow (keeps a no-change harvest's cost constant).
            result.detail = (f"{len(have)} sampled earlier; search found no more unknown tracks last time "
                             "(tried again when your likes grow, or with --full)")
            return
        self.reporter.start("sampled_negatives", "Sampled negatives", want)
        # The draw is seeded and replayed from its start every time: earlier samples are drawn again
        # (not excluded, not written twice), so the same library and seed give the same sample, and
        # a run interrupted half-way and resumed ends where an uninterrupted one does.
        seed = self.options.seed
        draw = _Draw(have, target)
        excluded = SamplingExclusions(self.store, with_sampled=False)
        try:
            self.rng = random.Random(f"sampled:{seed}:far")
            got_far = self._search(result, int(round(target * FAR_SHARE)), excluded, draw, far=True)
            self.rng = random.Random(f"sampled:{seed}:corpus")
            got_corpus = self._corpus(result, int(round((target - got_far) * CORPUS_SHARE)), excluded, draw)
            self.rng = random.Random(f"sampled:{seed}:random")
            self._search(result, target - got_far - got_corpus, excluded, draw, far=False)
        except SpotifyError as exc:
            # Sampling is optional: the likes, dislikes and features matter more. Keep what was drawn.
            result.new = draw.new
            result.status = "skipped"
            result.detail = (f"search answered an error ({exc.message}); sampling stopped after {draw.new} new weak "
                             f"negatives (seed {seed}); the next harvest tries again")
            self.reporter.notice(f"Sampled negatives skipped: {exc.message} The harvest goes on without them.")
            return
        self.store.set_state("sampled.last", json.dumps({"target": target, "short": draw.size < target}))
        result.new = draw.new
        result.detail = (f"{plural(draw.new, 'new weak negative')} ({draw.by_kind['random']} random by search, "
                         f"{draw.by_kind['corpus']} from the corpus, {draw.by_kind['far']} far from your likes); "
                         f"{draw.size} in all; seed {seed}")

    def _search(self, result: SourceResult, want: int, excluded: "SamplingExclusions", draw: "_Draw", *,
                far: bool) -> int:
        if want <= 0:
            return 0
        limit = 50 if self.ctx.app_kind == "extended" else 10
        got = 0
        totals: dict[str, int] = {}
        attempts = 0
        max_attempts = math.ceil(want / limit) * 3 + 5
        queries = self._far_queries() if far else None
        source = "sampled_far" if far else "sampled_random"
        empty_in_a_row = 0
        while got < want and attempts < max_attempts:
            # Unknown tracks are scarce here (most of what search finds is by artists the user
            # likes): stop rather than spend requests for nothing; the summary says so.
            if empty_in_a_row >= LOW_YIELD_STOP or (attempts >= 2 * LOW_YIELD_STOP and got < 0.1 * attempts * limit):
                break
            attempts += 1
            q = self.rng.choice(queries) if queries else self._random_query()
            known_total = totals.get(q)
            if known_total is not None and known_total <= 0:
                continue
            top = min(1000, known_total if known_total is not None else 1000)
            offset = self.rng.randrange(0, max(1, top - limit + 1)) if known_total is not None else 0
            if known_total is None and not far:
                offset = self.rng.randrange(0, 50)
            try:
                answer = self.client.search(q, type="track", limit=limit, offset=offset)
            except SpotifyError as exc:
                if exc.status == 400:  # offset past the end for this query: try another
                    totals[q] = 0
                    continue
                raise
            paging = answer.get("tracks") or {}
            totals[q] = int(paging.get("total") or 0)
            picked, new = 0, []
            for t in paging.get("items") or []:
                if got >= want or draw.full():
                    break
                if isinstance(t, dict) and excluded.accept(t):
                    picked += 1
                    got += 1
                    if draw.take([t["id"]], "far" if far else "random"):
                        new.append(t)
            empty_in_a_row = 0 if picked else empty_in_a_row + 1
            if new:
                with self.store.transaction():
                    self.store.upsert_tracks(new)
                    self.store.add_signals([signal(t["id"], source, now_iso(sortable=True)) for t in new])
                self.reporter.advance("sampled_negatives", len(new))
            if draw.full():
                break
        return got

    def _random_query(self) -> str:
        # A letter, sometimes with a year: spreads the picks over the whole catalogue.
        letter = self.rng.choice(string.ascii_lowercase)
        if self.rng.random() < 0.5:
            return letter
        year = self.rng.randrange(1960, datetime.now(timezone.utc).year + 1)
        return f"{letter} year:{year}"

    def _far_queries(self) -> list[str]:
        """Decades and genres where the likes are rare."""
        liked = self.store.labelled_tracks()
        liked = liked[liked["label"] == 1]
        years = [int(y) for y in liked["release_year"].dropna()]
        this_year = datetime.now(timezone.utc).year
        decades = list(range(1950, this_year + 1, 10))
        counts = {d: sum(1 for y in years if d <= y < d + 10) for d in decades}
        rare = sorted(decades, key=lambda d: (counts[d], -abs(d - (sorted(years)[len(years) // 2] if years else 2000))))
        queries = [f"year:{d}-{min(d + 9, this_year)}" for d in rare[:3]]
        liked_genres = {g for gs in liked["genres"] for g in str(gs).split("|") if g}
        far_genres = [g for g in SEARCH_GENRES if g not in liked_genres]
        if liked_genres:
            queries += [f'genre:"{g}"' for g in far_genres[:6]]
        else:
            # Without genres (development apps get none) every genre is a fair guess.
            queries += [f'genre:"{g}"' for g in self.rng.sample(SEARCH_GENRES, 4)]
        return queries

    def _corpus(self, result: SourceResult, want: int, excluded: "SamplingExclusions", draw: "_Draw") -> int:
        if want <= 0 or draw.full():
            return 0
        try:
            pool = [t for t in self.store.corpus_track_ids() if excluded.accept_id(t)]
        except TastebotError:
            return 0
        if not pool:
            return 0
        picks = self.rng.sample(pool, min(want, len(pool)))
        frame = self.store.corpus_tracks_frame(picks)
        tracks, features = [], {}
        by_id = {rec["track_id"]: rec for rec in frame.to_dict("records")}
        drawn = []
        for tid in picks:  # in the order drawn, whatever order the store answers in
            rec = by_id.get(tid)
            if rec is None or draw.full():
                continue
            obj = _corpus_track(rec)
            if not excluded.accept(obj):
                continue
            drawn.append(obj)
            if not draw.take([obj["id"]], "corpus"):
                continue
            tracks.append(obj)
            feats = {c: rec.get(c) for c in AUDIO_FEATURES if rec.get(c) is not None}
            if feats:
                features[obj["id"]] = feats
        with self.store.transaction():
            self.store.upsert_tracks(tracks)
            self.store.upsert_features(features, "import")
            self.store.add_signals([signal(t["id"], "sampled_random", now_iso(sortable=True)) for t in tracks])
        self.reporter.advance("sampled_negatives", len(tracks))
        return len(drawn)


class _Draw:
    """The sampled negatives of one seeded draw: those held from earlier runs are drawn again and
    counted, never written twice; the draw is full when held + drawn reach the target."""

    def __init__(self, have: set[str], target: int):
        self.have, self.target = set(have), target
        self.drawn: set[str] = set()
        self.new = 0
        self.by_kind = {"far": 0, "corpus": 0, "random": 0}

    @property
    def size(self) -> int:
        return len(self.have | self.drawn)

    def full(self) -> bool:
        return self.size >= self.target

    def take(self, track_ids: Sequence[str], kind: str) -> set[str]:
        """Record drawn ids; return those not held yet (to be written)."""
        fresh = {t for t in track_ids if t not in self.have and t not in self.drawn}
        self.drawn.update(track_ids)
        self.new += len(fresh)
        self.by_kind[kind] += len(fresh)
        return fresh


def _json_state(store, key: str) -> dict[str, Any] | None:
    raw = store.get_state(key)
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _corpus_track(rec: Mapping[str, Any]) -> dict[str, Any]:
    """A Spotify-shaped track object from a corpus row (what the imported corpus knows of it)."""
    def clean(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

    year = clean(rec.get("release_year"))
    album_id = clean(rec.get("album_id"))
    artist_id = clean(rec.get("artist_id"))
    obj: dict[str, Any] = {
        "id": rec["track_id"], "type": "track", "name": clean(rec.get("name")),
        "duration_ms": clean(rec.get("duration_ms")), "popularity": clean(rec.get("popularity")),
        "artists": [{"id": artist_id, "name": clean(rec.get("artist_name"))}] if artist_id else [],
    }
    if album_id:
        obj["album"] = {"id": album_id, "release_date": str(int(year)) if year else None,
                        "release_date_precision": "year" if year else None}
    return obj
