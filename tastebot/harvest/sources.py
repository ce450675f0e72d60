"""The listener's own likes as Spotify lists them: saved tracks (newest first, incremental, an
interrupted deeper pass resumed), top tracks per time range, and the last 50 plays. Each function
reads one source and writes its tracks and signals, a page at a time with its bookkeeping."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tastebot.harvest.context import HarvestContext, SourceResult
from tastebot.harvest.signals import signal
from tastebot.vocab import iso_time, now_iso
from tastebot.wording import plural


def read_saved(ctx: HarvestContext, result: SourceResult) -> None:
    """Newest first; stop at the first already-known (track, added_at). An interrupted deeper
    pass is remembered as `saved.pending` {offset, total} and resumed after the new front."""
    ctx.reporter.start("saved", "Saved tracks")
    full = ctx.options.full
    old_pending = _load_pending(ctx.store)
    seen: set[str] = set()
    total_now = 0
    front_done = False
    front_complete = False   # the front pass read the whole list in this run

    for page in ctx.client.saved_tracks_pages(0):
        items = page.get("items") or []
        total_now = int(page.get("total") or 0)
        hit_known = False
        tracks, signals = [], []
        for it in items:
            track, added = _saved_item(it)
            if track is None:
                continue
            tid = track["id"]
            if not full and ctx.store.signal_exists(tid, "saved", at=added):
                hit_known = True
                break
            seen.add(tid)
            tracks.append(track)
            signals.append(signal(tid, "saved", added))
        next_offset = int(page.get("offset") or 0) + len(items)
        reached_end = not hit_known and not page.get("next")
        front_done = hit_known or reached_end
        if reached_end:
            old_pending = None  # the whole list was read: nothing left to resume
            front_complete = True
        with ctx.store.transaction():
            ctx.store.upsert_tracks(tracks)
            result.new += sum(1 for s in signals if not ctx.store.signal_exists(s["track_id"], "saved", s["at"]))
            ctx.store.add_signals(signals)
            if not front_done:
                pending = {"offset": next_offset, "total": total_now}
                if old_pending is not None:
                    shifted = old_pending["offset"] + (total_now - old_pending["total"])
                    pending["offset"] = max(0, min(next_offset, shifted))
                ctx.store.set_state("saved.pending", json.dumps(pending))
            elif old_pending is None:
                ctx.store.set_state("saved.pending", None)
        result.items += len(items)
        ctx.reporter.advance("saved", len(items), total_now)
        if front_done:
            break

    if old_pending is not None:
        total_now = _resume_saved(ctx, result, old_pending, total_now)

    if full and front_complete:
        # A complete pass in one run: tracks no longer saved lose their "saved" signal.
        gone = ctx.store.remove_signals("saved", "", keep=seen)
        if gone:
            result.detail = f"{plural(gone, 'track')} no longer saved"
    result.detail = result.detail or f"{total_now} saved, {result.new} new"


def _resume_saved(ctx: HarvestContext, result: SourceResult, old_pending: dict[str, int], total_now: int) -> int:
    """Continue the interrupted deeper pass, shifted by what was added since it stopped; returns
    the list's total as last seen."""
    start = max(0, old_pending["offset"] + (total_now - old_pending["total"]))
    for page in ctx.client.saved_tracks_pages(start) if start < total_now else []:
        items = page.get("items") or []
        tracks, signals = [], []
        for it in items:
            track, added = _saved_item(it)
            if track is not None:
                tracks.append(track)
                signals.append(signal(track["id"], "saved", added))
        next_offset = int(page.get("offset") or 0) + len(items)
        total_now = int(page.get("total") or total_now)
        with ctx.store.transaction():
            ctx.store.upsert_tracks(tracks)
            ctx.store.add_signals(signals)
            if page.get("next"):
                ctx.store.set_state("saved.pending", json.dumps({"offset": next_offset, "total": total_now}))
            else:
                ctx.store.set_state("saved.pending", None)
        result.items += len(items)
        ctx.reporter.advance("saved", len(items), total_now)
    if start >= total_now:
        ctx.store.set_state("saved.pending", None)
    return total_now


def _load_pending(store) -> dict[str, int] | None:
    raw = store.get_state("saved.pending")
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return {"offset": int(data["offset"]), "total": int(data["total"])}
    except (ValueError, KeyError, TypeError):
        return None


def read_top(ctx: HarvestContext, result: SourceResult, time_range: str) -> None:
    source = f"top_{time_range}"
    ctx.reporter.start(source, f"Top tracks ({time_range.replace('_', ' ')})")
    tracks = [t for t in ctx.client.top_tracks(time_range) if t.get("id") and not t.get("is_local")]
    now = now_iso(sortable=True)
    with ctx.store.transaction():
        known = ctx.store.signal_track_ids(source)
        ctx.store.upsert_tracks(tracks)
        # Top lists carry no times: a track is dated when it first shows up in the list.
        ctx.store.add_signals([signal(t["id"], source, now) for t in tracks], keep_first_time=True)
    result.items = len(tracks)
    result.new = len({t["id"] for t in tracks} - known)
    result.detail = f"{plural(len(tracks), 'track')}, {result.new} new"
    ctx.reporter.advance(source, len(tracks), len(tracks))


def read_recently_played(ctx: HarvestContext, result: SourceResult) -> None:
    ctx.reporter.start("recently_played", "Recently played")
    cursor = ctx.store.get_state("recently_played.after")
    after = None if ctx.options.full or not cursor else int(cursor)
    for _ in range(5):  # only the last 50 plays exist: one page, rarely two
        page = ctx.client.recently_played(after=after)
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
        with ctx.store.transaction():
            ctx.store.upsert_tracks(tracks)
            ctx.store.add_plays(plays)
            # One signal per track, dated by its latest play.
            ctx.store.add_signals([signal(t, "recently_played", at) for t, at in latest.items()])
            if newest is not None:
                new_cursor = max(_ms(newest), int(cursor or 0))
                ctx.store.set_state("recently_played.after", str(new_cursor))
        result.items += len(plays)
        ctx.reporter.advance("recently_played", len(plays))
        if not page.get("next") or newest is None or after is None:
            break
        after = _ms(newest)
    result.new = result.items
    result.detail = f"{plural(result.items, 'new play')}" if after is not None or result.items else "no new plays"


def _saved_item(item: Any) -> tuple[dict | None, Any]:
    """(track, added_at) of a saved-tracks item; (None, None) for empty items and local files."""
    if not isinstance(item, dict):
        return None, None
    track = item.get("track") if isinstance(item.get("track"), dict) else item.get("item")
    if not isinstance(track, dict) or not track.get("id") or track.get("is_local"):
        return None, None
    return track, item.get("added_at")


def _ms(iso_text: str) -> int:
    dt = datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
    return int(round(dt.timestamp() * 1000))
