"""The harvest: the listener's likes and dislikes, with metadata and audio features, into the store.

Sources (weights are data, in SOURCES below; docs/harvest.md explains each):
  likes     saved tracks, top tracks (3 time ranges), the last 50 plays, the user's own playlists,
            playlists named with --like-playlist, tastebot playlists' tracks the user saved;
  dislikes  playlists named with --dislike-playlist, own playlists named as dislike lists
            ("Not for me", "Dislikes", ...), tracks the user removed from a tastebot playlist;
  weak      sampled negatives: random tracks the user shows no sign of knowing (--sampled-negatives).

Every page is committed together with its bookkeeping (cursors, resume offsets, snapshot ids), so a
harvest killed at any moment leaves a consistent store and the next run continues where it stopped.
Incremental by default: saved tracks stop at the first known one, playlists with an unchanged
snapshot_id are not read, recently-played asks only `after` its cursor, features are fetched only
for tracks that lack them. `full=True` re-reads everything.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, Sequence

from tastebot.errors import InputError, SpotifyError, TastebotError
from tastebot.wording import plural
from tastebot.spotify import (
    EndpointUnavailable,
    PlaylistNotFound,
    PlaylistRefused,
    parse_playlist_ref,
    playlist_item_track,
)
from tastebot.vocab import iso_time, now_iso


@dataclass(frozen=True)
class Source:
    kind: str        # like | dislike
    strength: str    # explicit | weak
    weight: float
    label: str


# Source weights are data: one place to tune how much each kind of evidence counts.
SOURCES: dict[str, Source] = {
    "saved": Source("like", "explicit", 1.0, "saved tracks"),
    "feedback_saved": Source("like", "explicit", 1.0, "saved from a tastebot playlist"),
    "top_short_term": Source("like", "explicit", 0.9, "top tracks, last 4 weeks"),
    "top_medium_term": Source("like", "explicit", 0.8, "top tracks, last 6 months"),
    "top_long_term": Source("like", "explicit", 0.7, "top tracks, last year"),
    "own_playlist": Source("like", "explicit", 0.6, "own playlists"),
    "like_playlist": Source("like", "explicit", 0.6, "--like-playlist"),
    "recently_played": Source("like", "explicit", 0.3, "recently played"),
    "dislike_playlist": Source("dislike", "explicit", 1.0, "dislike playlists"),
    "feedback_removed": Source("dislike", "explicit", 1.0, "removed from a tastebot playlist"),
    "sampled_random": Source("dislike", "weak", 0.3, "sampled: random unknown tracks"),
    "sampled_far": Source("dislike", "weak", 0.4, "sampled: far from the likes"),
    # From `tastebot history import` (tastebot/history.py): the weight is the most a signal gets;
    # each one is scaled by play counts and recency there (history.RULES).
    "history_played": Source("like", "explicit", 1.0, "listening history: played to the end, again"),
    "history_skipped": Source("dislike", "explicit", 0.9, "listening history: skipped early, never finished"),
    "history_library": Source("like", "explicit", 1.0, "data export: Your Library"),
}
TIME_RANGES = ("short_term", "medium_term", "long_term")

# What a person reads for a source's internal name (tables, summaries).
SOURCE_LABELS: dict[str, str] = {
    **{name: s.label for name, s in SOURCES.items()},
    "playlists": "your playlists",
    "sampled_negatives": "sampled negatives",
    "genres": "artist genres",
}


def source_label(name: str) -> str:
    """`feedback_saved` -> "saved from a tastebot playlist"; `features:reccobeats` -> "audio features: ..."."""
    if name in SOURCE_LABELS:
        return SOURCE_LABELS[name]
    if name.startswith("features:"):
        from tastebot.vocab import PROVIDER_LABELS

        provider = name.split(":", 1)[1]
        return f"audio features: {PROVIDER_LABELS.get(provider, provider)}"
    return name.replace("_", " ")

# Own playlists with these names are dislike lists.
DISLIKE_NAME = re.compile(r"\b(dislike[sd]?|not for me|don'?t like|never again|nope)\b|👎", re.IGNORECASE)

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


@dataclass
class HarvestOptions:
    full: bool = False
    like_playlists: tuple[str, ...] = ()
    dislike_playlists: tuple[str, ...] = ()
    sampled_negatives: str = "auto"
    seed: int = 0                   # the draw of sampled negatives: same library + same seed = same sample

    def as_dict(self) -> dict[str, Any]:
        return {"full": self.full, "like_playlists": list(self.like_playlists),
                "dislike_playlists": list(self.dislike_playlists), "sampled_negatives": self.sampled_negatives,
                "seed": self.seed}


@dataclass
class SourceResult:
    name: str
    status: str = "used"            # used | skipped | failed
    detail: str = ""
    items: int = 0                  # items read from Spotify (this run)
    new: int = 0                    # new signals (this run)
    requests: int = 0


class Reporter:
    """Progress hooks; the CLI shows them with rich. The default does nothing."""

    def start(self, source: str, description: str, total: int | None = None) -> None: ...
    def advance(self, source: str, n: int = 1, total: int | None = None) -> None: ...
    def finish(self, source: str, note: str = "") -> None: ...
    def notice(self, text: str) -> None: ...


@dataclass
class HarvestSummary:
    user_id: str
    app_kind: str
    options: dict[str, Any]
    sources: list[SourceResult] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    signals_by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    features: dict[str, int] = field(default_factory=dict)
    feature_providers: dict[str, Any] = field(default_factory=dict)
    library: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    reccobeats_requests: int = 0
    status: str = "done"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "user_id": self.user_id,
            "app_kind": self.app_kind,
            "options": self.options,
            "sources": [vars(s) for s in self.sources],
            "labels": self.labels,
            "signals_by_source": self.signals_by_source,
            "features": self.features,
            "feature_providers": self.feature_providers,
            "library": self.library,
            "requests": {"spotify": self.requests, "reccobeats": self.reccobeats_requests},
        }


def run_harvest(settings, options: HarvestOptions | None = None, *, client=None, reporter: Reporter | None = None,
                reccobeats=None) -> "HarvestSummary":
    """Open the store in `settings.home` and harvest into it (a SpotifyClient is made when none is
    given). The caller holds `tastebot.lock.home_lock(settings)` when other commands may run."""
    from tastebot.store import open_store

    if client is None:
        from tastebot.spotify import SpotifyClient

        client = SpotifyClient(settings)
    with open_store(settings) as store:
        return Harvester(settings, client, store, options, reporter=reporter, reccobeats=reccobeats).run()


def parse_playlist_refs(refs: Iterable[str]) -> list[str]:
    """Playlist ids from URIs, links or bare ids; the first bad one is an InputError."""
    return list(dict.fromkeys(parse_playlist_ref(r) for r in refs if r and str(r).strip()))


def _ms(iso_text: str) -> int:
    dt = datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
    return int(round(dt.timestamp() * 1000))


def _created_playlists(store) -> dict[str, set[str]]:
    """{playlist id: track ids tastebot added}, from the store's outputs area."""
    return {pl["id"]: set(pl["track_ids"]) for pl in store.created_playlists()}


class Harvester:
    def __init__(self, settings, client, store, options: HarvestOptions | None = None, *,
                 reporter: Reporter | None = None, reccobeats=None, rng_seed: int | None = None):
        self.settings = settings
        self.client = client
        self.store = store
        self.options = options or HarvestOptions()
        if self.options.sampled_negatives not in SAMPLED_MODES:
            raise InputError(f"--sampled-negatives must be one of {', '.join(SAMPLED_MODES)}.")
        self.reporter = reporter or Reporter()
        self.reccobeats = reccobeats
        # Parse every playlist reference before the first request: bad input stops at once.
        self.like_ids = parse_playlist_refs(self.options.like_playlists)
        self.dislike_ids = parse_playlist_refs(self.options.dislike_playlists)
        if rng_seed is not None:  # the older spelling of options.seed
            self.options = dataclasses.replace(self.options, seed=rng_seed)
        self.rng = random.Random(self.options.seed)
        self.results: list[SourceResult] = []
        self.user_id = ""
        self.app_kind = ""
        self._feature_report: dict[str, Any] = {}  # set by the features step
        self._chain_reccobeats = None  # the feature chain's ReccoBeats client, when it made one

    # -- helpers ----------------------------------------------------------------------------------
    def _signal(self, track_id: str, source: str, at: Any, context: str = "") -> dict[str, Any]:
        s = SOURCES[source]
        return {"track_id": track_id, "source": source, "context": context, "kind": s.kind,
                "strength": s.strength, "weight": s.weight, "at": at}

    def _source(self, name: str, fn: Callable[[SourceResult], None]) -> SourceResult:
        """Run one source; a refusal that only concerns it is reported and the harvest goes on."""
        result = SourceResult(name)
        before = self.client.request_count
        self.results.append(result)
        try:
            fn(result)
        except (PlaylistRefused, PlaylistNotFound, EndpointUnavailable) as exc:
            result.status, result.detail = "skipped", exc.message
            self.reporter.notice(f"{name} skipped: {exc.message}")
        finally:
            result.requests = self.client.request_count - before
        self.reporter.finish(name, result.detail)
        return result

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> HarvestSummary:
        run_id = self.store.start_harvest_run(json.dumps(self.options.as_dict()))
        status = "failed"
        summary: HarvestSummary | None = None
        try:
            summary = self._run()
            status = "done"
            return summary
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            if summary is None:
                summary = self._summary(status)
            summary.status = status
            try:
                self.store.finish_harvest_run(run_id, status, json.dumps(summary.as_dict()), self.client.request_count)
            except TastebotError:
                pass

    def _run(self) -> HarvestSummary:
        me = self.client.me()
        self.user_id = str(me.get("id") or "")
        owner = self.store.get_state("user_id")
        if owner and owner != self.user_id:
            raise InputError(
                f"The store in {self.settings.home} holds the library of Spotify user {owner}, but you are logged "
                f"in as {self.user_id}; use another --home (or move {self.settings.store_path.name} aside)."
            )
        if not owner:
            self.store.set_state("user_id", self.user_id)
        self.app_kind = self.client.app_kind()

        self._source("saved", self._saved)
        for time_range in TIME_RANGES:
            self._source(f"top_{time_range}", lambda r, tr=time_range: self._top(r, tr))
        self._source("recently_played", self._recently_played)
        self._playlists()
        self._source("feedback_saved", self._feedback_saved)
        self._source("sampled_negatives", self._sampled)
        self._source("genres", self._genres)
        self._features()
        return self._summary("done")

    def _summary(self, status: str) -> HarvestSummary:
        s = HarvestSummary(user_id=self.user_id, app_kind=self.app_kind, options=self.options.as_dict(),
                           sources=self.results, status=status)
        try:
            s.labels = self.store.label_counts()
            s.signals_by_source = self.store.signal_counts()
            s.features = self.store.feature_provider_counts()
            s.library = self.store.library_counts()
        except TastebotError:
            pass
        malformed = self.store.malformed_skipped
        if malformed:
            s.library["malformed_skipped"] = malformed
            self.reporter.notice(f"Skipped {plural(malformed, 'track')} whose data from Spotify was malformed "
                                 "(wrong field types).")
        implausible = self.store.implausible_skipped
        if implausible:
            s.library["implausible_durations_skipped"] = implausible
            self.reporter.notice(f"Skipped {plural(implausible, 'duration')} from Spotify outside 1 ms to 6 hours; "
                                 "those tracks are kept without a duration.")
        s.feature_providers = self._feature_report
        s.requests = self.client.request_count
        rb = self.reccobeats if self.reccobeats is not None else self._chain_reccobeats
        s.reccobeats_requests = rb.request_count if rb is not None else 0
        return s

    # -- saved tracks -----------------------------------------------------------------------------
    def _saved(self, result: SourceResult) -> None:
        """Newest first; stop at the first already-known (track, added_at). An interrupted deeper
        pass is remembered as `saved.pending` {offset, total} and resumed after the new front."""
        self.reporter.start("saved", "Saved tracks")
        full = self.options.full
        old_pending = self._load_pending()
        seen: set[str] = set()
        total_now = 0
        front_done = False
        front_complete = False   # the front pass read the whole list in this run

        for page in self.client.saved_tracks_pages(0):
            items = page.get("items") or []
            total_now = int(page.get("total") or 0)
            hit_known = False
            tracks, signals = [], []
            for it in items:
                track, added = _saved_item(it)
                if track is None:
                    continue
                tid = track["id"]
                if not full and self.store.signal_exists(tid, "saved", at=added):
                    hit_known = True
                    break
                seen.add(tid)
                tracks.append(track)
                signals.append(self._signal(tid, "saved", added))
            next_offset = int(page.get("offset") or 0) + len(items)
            reached_end = not hit_known and not page.get("next")
            front_done = hit_known or reached_end
            if reached_end:
                old_pending = None  # the whole list was read: nothing left to resume
                front_complete = True
            with self.store.transaction():
                self.store.upsert_tracks(tracks)
                result.new += sum(1 for s in signals if not self.store.signal_exists(s["track_id"], "saved", s["at"]))
                self.store.add_signals(signals)
                if not front_done:
                    pending = {"offset": next_offset, "total": total_now}
                    if old_pending is not None:
                        shifted = old_pending["offset"] + (total_now - old_pending["total"])
                        pending["offset"] = max(0, min(next_offset, shifted))
                    self.store.set_state("saved.pending", json.dumps(pending))
                elif old_pending is None:
                    self.store.set_state("saved.pending", None)
            result.items += len(items)
            self.reporter.advance("saved", len(items), total_now)
            if front_done:
                break

        if old_pending is not None:
            total_now = self._saved_resume(result, old_pending, total_now)

        if full and front_complete:
            # A complete pass in one run: tracks no longer saved lose their "saved" signal.
            gone = self.store.remove_signals("saved", "", keep=seen)
            if gone:
                result.detail = f"{plural(gone, 'track')} no longer saved"
        result.detail = result.detail or f"{total_now} saved, {result.new} new"

    def _saved_resume(self, result: SourceResult, old_pending: dict[str, int], total_now: int) -> int:
        """Continue the interrupted deeper pass, shifted by what was added since it stopped; returns
        the list's total as last seen."""
        start = max(0, old_pending["offset"] + (total_now - old_pending["total"]))
        for page in self.client.saved_tracks_pages(start) if start < total_now else []:
            items = page.get("items") or []
            tracks, signals = [], []
            for it in items:
                track, added = _saved_item(it)
                if track is not None:
                    tracks.append(track)
                    signals.append(self._signal(track["id"], "saved", added))
            next_offset = int(page.get("offset") or 0) + len(items)
            total_now = int(page.get("total") or total_now)
            with self.store.transaction():
                self.store.upsert_tracks(tracks)
                self.store.add_signals(signals)
                if page.get("next"):
                    self.store.set_state("saved.pending", json.dumps({"offset": next_offset, "total": total_now}))
                else:
                    self.store.set_state("saved.pending", None)
            result.items += len(items)
            self.reporter.advance("saved", len(items), total_now)
        if start >= total_now:
            self.store.set_state("saved.pending", None)
        return total_now

    def _load_pending(self) -> dict[str, int] | None:
        raw = self.store.get_state("saved.pending")
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return {"offset": int(data["offset"]), "total": int(data["total"])}
        except (ValueError, KeyError, TypeError):
            return None

    # -- top tracks and recently played -------------------------------------------------------------
    def _top(self, result: SourceResult, time_range: str) -> None:
        source = f"top_{time_range}"
        self.reporter.start(source, f"Top tracks ({time_range.replace('_', ' ')})")
        tracks = [t for t in self.client.top_tracks(time_range) if t.get("id") and not t.get("is_local")]
        now = now_iso(sortable=True)
        with self.store.transaction():
            known = self.store.signal_track_ids(source)
            self.store.upsert_tracks(tracks)
            # Top lists carry no times: a track is dated when it first shows up in the list.
            self.store.add_signals([self._signal(t["id"], source, now) for t in tracks], keep_first_time=True)
        result.items = len(tracks)
        result.new = len({t["id"] for t in tracks} - known)
        result.detail = f"{plural(len(tracks), 'track')}, {result.new} new"
        self.reporter.advance(source, len(tracks), len(tracks))

    def _recently_played(self, result: SourceResult) -> None:
        self.reporter.start("recently_played", "Recently played")
        cursor = self.store.get_state("recently_played.after")
        after = None if self.options.full or not cursor else int(cursor)
        for _ in range(5):  # only the last 50 plays exist: one page, rarely two
            page = self.client.recently_played(after=after)
            items = [it for it in page.get("items") or [] if isinstance(it, dict)]
            plays, tracks, latest = [], [], {}
            for it in items:
                track = it.get("track") if isinstance(it.get("track"), dict) else it.get("item")
                played = iso_time(it.get("played_at"))
                if not isinstance(track, dict) or not track.get("id") or not played:
                    continue
                plays.append((track["id"], played))
                tracks.append(track)
                latest[track["id"]] = max(latest.get(track["id"], ""), played)
            newest = max((p for _, p in plays), default=None)
            with self.store.transaction():
                self.store.upsert_tracks(tracks)
                self.store.add_plays(plays)
                # One signal per track, dated by its latest play.
                self.store.add_signals([self._signal(t, "recently_played", at) for t, at in latest.items()])
                if newest is not None:
                    new_cursor = max(_ms(newest), int(cursor or 0))
                    self.store.set_state("recently_played.after", str(new_cursor))
            result.items += len(plays)
            self.reporter.advance("recently_played", len(plays))
            if not page.get("next") or newest is None or after is None:
                break
            after = _ms(newest)
        result.new = result.items
        result.detail = f"{plural(result.items, 'new play')}" if after is not None or result.items else "no new plays"

    # -- playlists ----------------------------------------------------------------------------------
    def _playlists(self) -> None:
        listing: list[dict] = []

        def list_them(result: SourceResult) -> None:
            self.reporter.start("playlists", "Your playlists")
            listing.extend(self.client.my_playlists())
            result.items = len(listing)

        listed = self._source("playlists", list_them)
        if listed.status != "used":
            return
        created = _created_playlists(self.store)
        by_id = {p["id"]: p for p in listing}
        plan: list[tuple[str, str, dict | None]] = []   # (id, role, listed object or None)
        followed = 0
        excluded = self.store.excluded_ids("playlist")  # `tastebot exclude`: teaches nothing
        for p in listing:
            pid = p["id"]
            owner = (p.get("owner") or {}).get("id")
            if pid in excluded:
                continue
            if pid in created:
                role = "created"
            elif pid in self.dislike_ids:
                role = "dislike"
            elif pid in self.like_ids:
                role = "like"
            elif owner == self.user_id and DISLIKE_NAME.search(p.get("name") or ""):
                role = "dislike"
            elif owner == self.user_id:
                role = "own"
            else:
                followed += 1
                with self.store.transaction():
                    self.store.upsert_playlist(p, "followed")
                continue
            plan.append((pid, role, p))
        for pid in self.dislike_ids:
            if pid not in by_id and pid not in excluded:
                plan.append((pid, "dislike", None))
        for pid in self.like_ids:
            if pid not in by_id and pid not in self.dislike_ids and pid not in excluded:
                plan.append((pid, "like", None))
        own = [x for x in plan if x[1] == "own"]
        listed.detail = (
            f"{len(listing)} in your library: {len(own)} own, "
            f"{plural(sum(1 for x in plan if x[1] == 'dislike'), 'dislike list')}, "
            f"{followed} followed (not used; add one with --like-playlist)"
            + (f", {plural(len(excluded & set(by_id)), 'excluded playlist')} skipped" if excluded & set(by_id) else "")
        )
        for pid, role, obj in plan:
            name = (obj or {}).get("name") or pid
            self._source(f"playlist:{role}:{name}", lambda r, pid=pid, role=role, obj=obj: self._playlist(r, pid, role, obj, created))

    def _playlist(self, result: SourceResult, pid: str, role: str, obj: dict | None, created: dict[str, set[str]]) -> None:
        first_page = None
        if obj is None:
            obj = self.client.playlist(pid)
            pages_obj = obj.get("items") if isinstance(obj.get("items"), dict) else obj.get("tracks")
            first_page = pages_obj if isinstance(pages_obj, dict) and "items" in pages_obj else None
        snapshot = obj.get("snapshot_id")
        label = f"{role} playlist {obj.get('name') or pid}"
        self.reporter.start(result.name, f"Playlist: {obj.get('name') or pid}")
        row = self.store.playlist_row(pid)
        with self.store.transaction():
            self.store.upsert_playlist(obj, role)
        unchanged = (not self.options.full and row is not None and row.get("status") == "read"
                     and snapshot is not None and row.get("snapshot_id") == snapshot)
        if unchanged:
            self._fetch_removed_tracks(pid, role, created)
            with self.store.transaction():
                changed = self._playlist_signals(pid, role, created)
            result.detail = f"unchanged (snapshot), {plural(len(self.store.playlist_track_ids(pid)), 'track')}" + (
                "; role changed, signals updated" if changed else "")
            return
        offset = 0
        if row and row.get("reading_snapshot") == snapshot and snapshot is not None and not self.options.full:
            offset = int(row.get("reading_offset") or 0)
            first_page = None
        if first_page is not None and int(first_page.get("offset") or 0) != offset:
            first_page = None

        def pages():
            if first_page is not None:
                yield first_page
                if not first_page.get("next"):
                    return
                yield from self.client.playlist_items_pages(pid, offset + len(first_page.get("items") or []))
            else:
                yield from self.client.playlist_items_pages(pid, offset)

        total = None
        end = offset
        for page in pages():
            items = page.get("items") or []
            total = int(page.get("total") or 0)
            page_offset = int(page.get("offset") or end)
            rows, tracks = [], []
            for it in items:
                track = playlist_item_track(it)
                local = bool((it or {}).get("is_local")) or bool(track and track.get("is_local"))
                tid = track.get("id") if track and not local else None
                rows.append((tid, local, (it or {}).get("added_at")))
                if tid:
                    tracks.append(track)
            end = page_offset + len(items)
            with self.store.transaction():
                self.store.upsert_tracks(tracks)
                self.store.store_playlist_page(pid, snapshot, page_offset, rows, end)
                self._page_signals(pid, role, rows, created)
            result.items += len(items)
            self.reporter.advance(result.name, len(items), total)
        if total is None:
            total = end
        self._fetch_removed_tracks(pid, role, created, end=total)
        with self.store.transaction():
            self.store.finish_playlist(pid, snapshot, total)
            self._playlist_signals(pid, role, created)
        result.detail = f"{label}: read {result.items} of {plural(total, 'item')}"

    def _fetch_removed_tracks(self, pid: str, role: str, created: dict[str, set[str]], end: int | None = None) -> None:
        """Tracks the user removed from a tastebot playlist were never read from it: fetch their
        metadata (one request each; few) so the dislike they stand for can be learnt from."""
        if role != "created":
            return
        items = self.store.playlist_items(pid)
        present = {i["track_id"] for i in items if i["track_id"] and (end is None or i["position"] < end)}
        missing = [t for t in sorted(created.get(pid, set()) - present) if not self.store.has_track(t)]
        tracks = []
        for tid in missing:
            try:
                tracks.append(self.client.track(tid))
            except (EndpointUnavailable, SpotifyError) as exc:
                if getattr(exc, "status", None) not in (400, 403, 404):
                    raise
        if tracks:
            with self.store.transaction():
                self.store.upsert_tracks(tracks)

    def _page_signals(self, pid: str, role: str, rows: Sequence[tuple], created: dict[str, set[str]]) -> None:
        source = self._role_source(role)
        added_by_us = created.get(pid, set())
        signals = [self._signal(tid, source, added, pid) for tid, _, added in rows
                   if tid and not (role == "created" and tid in added_by_us)]
        self.store.add_signals(signals)

    @staticmethod
    def _role_source(role: str) -> str:
        return {"own": "own_playlist", "like": "like_playlist", "dislike": "dislike_playlist",
                "created": "own_playlist"}[role]

    def _playlist_signals(self, pid: str, role: str, created: dict[str, set[str]]) -> bool:
        """Make this playlist's signals match its stored items and role. Returns True if it changed any."""
        items = self.store.playlist_items(pid)
        present = {i["track_id"] for i in items if i["track_id"]}
        source = self._role_source(role)
        changed = 0
        for other in ("own_playlist", "like_playlist", "dislike_playlist"):
            if other != source:
                changed += self.store.remove_signals(other, pid)
        added_by_us = created.get(pid, set())
        keep = present - added_by_us if role == "created" else present
        changed += self.store.remove_signals(source, pid, keep=keep)
        missing = [i for i in items if i["track_id"] in keep
                   and not self.store.signal_exists(i["track_id"], source, context=pid)]
        self.store.add_signals([self._signal(i["track_id"], source, i["added_at"], pid) for i in missing])
        changed += len(missing)
        if role == "created":
            # and the tracks of items a refresh replaced that the listener had removed before it
            removed = (added_by_us - present) | self.store.removed_before_refresh(pid)
            have = self.store.signal_track_ids("feedback_removed", context=pid)
            now = now_iso(sortable=True)
            self.store.add_signals([self._signal(t, "feedback_removed", now, pid) for t in sorted(removed - have)])
            changed += self.store.remove_signals("feedback_removed", pid, keep=removed)
        return changed > 0

    def _feedback_saved(self, result: SourceResult) -> None:
        created = _created_playlists(self.store)
        if not created:
            result.status, result.detail = "skipped", "no playlists made by tastebot yet"
            return
        ours = self.store.added_track_ids()  # every generation's: items a refresh replaced included
        saved_at = self.store.signal_times("saved", ours)
        with self.store.transaction():
            self.store.add_signals([self._signal(t, "feedback_saved", at) for t, at in sorted(saved_at.items())])
            # A track unsaved since no longer counts as feedback.
            self.store.remove_signals("feedback_saved", keep=saved_at)
        result.items = len(saved_at)
        result.detail = f"{plural(len(saved_at), 'track')} from tastebot playlists you saved"

    # -- sampled negatives ---------------------------------------------------------------------------
    def _sampled(self, result: SourceResult) -> None:
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
        excluded = _Exclusions(self.store, with_sampled=False)
        try:
            self.rng = random.Random(f"sampled:{seed}:far")
            got_far = self._sample_search(result, int(round(target * FAR_SHARE)), excluded, draw, far=True)
            self.rng = random.Random(f"sampled:{seed}:corpus")
            got_corpus = self._sample_corpus(result, int(round((target - got_far) * CORPUS_SHARE)), excluded, draw)
            self.rng = random.Random(f"sampled:{seed}:random")
            self._sample_search(result, target - got_far - got_corpus, excluded, draw, far=False)
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

    def _sample_search(self, result: SourceResult, want: int, excluded: "_Exclusions", draw: "_Draw", *,
                       far: bool) -> int:
        if want <= 0:
            return 0
        limit = 50 if self.app_kind == "extended" else 10
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
                    self.store.add_signals([self._signal(t["id"], source, now_iso(sortable=True)) for t in new])
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

    def _sample_corpus(self, result: SourceResult, want: int, excluded: "_Exclusions", draw: "_Draw") -> int:
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
        from tastebot.vocab import AUDIO_FEATURES

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
            self.store.add_signals([self._signal(t["id"], "sampled_random", now_iso(sortable=True)) for t in tracks])
        self.reporter.advance("sampled_negatives", len(tracks))
        return len(drawn)

    # -- artist genres (extended-quota apps) -----------------------------------------------------------
    def _genres(self, result: SourceResult) -> None:
        if self.app_kind != "extended":
            result.status, result.detail = "skipped", "development-mode apps are told no artist genres"
            return
        labelled = self.store.labelled_tracks()
        artist_ids = {a for ids in labelled["artist_ids"] for a in str(ids).split(",") if a}
        todo = self.store.artists_without_genres(artist_ids)
        if not todo:
            result.detail = "all known"
            return
        self.reporter.start("genres", "Artist genres", len(todo))
        from tastebot.spotify import BATCH_ARTISTS

        for i in range(0, len(todo), BATCH_ARTISTS):
            chunk = todo[i:i + BATCH_ARTISTS]
            artists = self.client.artists(chunk)
            with self.store.transaction():
                self.store.upsert_artists(artists)
                self.store.mark_artists_without_genres(chunk)
            result.items += len(artists)
            self.reporter.advance("genres", len(chunk), len(todo))
        result.detail = f"{plural(result.items, 'artist')} read"

    # -- audio features ------------------------------------------------------------------------------
    def _features(self) -> None:
        from tastebot.features_sources import FeatureChain
        from tastebot.vocab import PROVIDER_LABELS

        chain = FeatureChain(self.settings, self.store, self.client, reccobeats=self.reccobeats,
                             progress=lambda p, done, total: self.reporter.advance(f"features:{p}", 0, total),
                             notice=self.reporter.notice)
        self._chain_reccobeats = chain.reccobeats
        for provider in ("spotify", "reccobeats"):
            self.reporter.start(f"features:{provider}", f"Audio features: {PROVIDER_LABELS[provider]}")
        before = self.client.request_count
        report = chain.fill(full=self.options.full)
        self._feature_report = report.as_dict()
        for provider, rep in report.providers.items():
            res = SourceResult(f"features:{provider}", status="skipped" if rep.status == "skipped" else "used",
                               items=rep.asked, new=rep.found, requests=rep.requests)
            res.detail = rep.reason or f"asked about {plural(rep.asked, 'track')}, {rep.found} found"
            self.results.append(res)
            self.reporter.finish(res.name, res.detail)
        del before


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


class _Exclusions:
    """What a sampled negative must not be: anything the listener knows (id, ISRC, title+artist),
    any track by an artist of a known track, anything already drawn in this run. With
    with_sampled=False, earlier sampled negatives are not "known" (a replayed draw finds them again)."""

    def __init__(self, store, *, with_sampled: bool = True):
        self.ids = store.known_track_ids(with_sampled=with_sampled)
        self.isrcs = store.known_isrcs(with_sampled=with_sampled)
        self.keys = store.known_title_artist_keys(with_sampled=with_sampled)
        # Artists of liked songs: their other tracks may well be liked too, so never negatives.
        liked = store.labelled_tracks()
        self.artists = {a for ids in liked.loc[liked["label"] == 1, "artist_ids"] for a in str(ids).split(",") if a}

    def accept_id(self, track_id: str) -> bool:
        return bool(track_id) and track_id not in self.ids

    def accept(self, track: Mapping[str, Any]) -> bool:
        from tastebot.store.library import title_artist_key

        tid = track.get("id")
        if not tid or track.get("is_local") or tid in self.ids:
            return False
        isrc = ((track.get("external_ids") or {}).get("isrc") or "").upper()
        if isrc and isrc in self.isrcs:
            return False
        artists = [a for a in track.get("artists") or [] if isinstance(a, Mapping)]
        if any(a.get("id") in self.artists for a in artists):
            return False
        key = title_artist_key(track.get("name"), artists[0].get("name") if artists else None)
        if key and key in self.keys:
            return False
        self.ids.add(tid)
        if isrc:
            self.isrcs.add(isrc)
        if key:
            self.keys.add(key)
        return True


def _saved_item(item: Any) -> tuple[dict | None, Any]:
    """(track, added_at) of a saved-tracks item; (None, None) for empty items and local files."""
    if not isinstance(item, dict):
        return None, None
    track = item.get("track") if isinstance(item.get("track"), dict) else item.get("item")
    if not isinstance(track, dict) or not track.get("id") or track.get("is_local"):
        return None, None
    return track, item.get("added_at")


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
