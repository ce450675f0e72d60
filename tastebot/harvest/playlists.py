"""The listener's playlists as sources: their own (likes), dislike lists (by name or
--dislike-playlist), --like-playlist ones, and tastebot's own playlists, whose changes are feedback
(a track the listener removed is a dislike, one they saved a like). Unchanged playlists (same
snapshot_id) are not read again; an interrupted read resumes at its stored offset."""

from __future__ import annotations

from typing import Sequence

from tastebot.errors import SpotifyError
from tastebot.harvest.context import HarvestContext, SourceResult
from tastebot.harvest.signals import DISLIKE_NAME, signal
from tastebot.spotify.client import EndpointUnavailable
from tastebot.spotify.refs import playlist_item_track
from tastebot.vocab import now_iso
from tastebot.wording import plural


def read_playlists(ctx: HarvestContext) -> None:
    """List the listener's playlists, then read each one that teaches something, as its own source."""
    listing: list[dict] = []

    def list_them(result: SourceResult) -> None:
        ctx.reporter.start("playlists", "Your playlists")
        listing.extend(ctx.client.my_playlists())
        result.items = len(listing)

    listed = ctx.run_source("playlists", list_them)
    if listed.status != "used":
        return
    created = created_playlists(ctx.store)
    by_id = {p["id"]: p for p in listing}
    plan: list[tuple[str, str, dict | None]] = []   # (id, role, listed object or None)
    followed = 0
    excluded = ctx.store.excluded_ids("playlist")  # `tastebot exclude`: teaches nothing
    for p in listing:
        pid = p["id"]
        owner = (p.get("owner") or {}).get("id")
        if pid in excluded:
            continue
        if pid in created:
            role = "created"
        elif pid in ctx.dislike_ids:
            role = "dislike"
        elif pid in ctx.like_ids:
            role = "like"
        elif owner == ctx.user_id and DISLIKE_NAME.search(p.get("name") or ""):
            role = "dislike"
        elif owner == ctx.user_id:
            role = "own"
        else:
            followed += 1
            with ctx.store.transaction():
                ctx.store.upsert_playlist(p, "followed")
            continue
        plan.append((pid, role, p))
    for pid in ctx.dislike_ids:
        if pid not in by_id and pid not in excluded:
            plan.append((pid, "dislike", None))
    for pid in ctx.like_ids:
        if pid not in by_id and pid not in ctx.dislike_ids and pid not in excluded:
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
        ctx.run_source(f"playlist:{role}:{name}",
                       lambda r, pid=pid, role=role, obj=obj: _read_playlist(ctx, r, pid, role, obj, created))


def _read_playlist(ctx: HarvestContext, result: SourceResult, pid: str, role: str, obj: dict | None,
                   created: dict[str, set[str]]) -> None:
    """One playlist: unchanged (same snapshot) is not read again; else its pages from where an
    interrupted read stopped, then its signals made to match its items and role."""
    first_page = None
    if obj is None:
        obj = ctx.client.playlist(pid)
        pages_obj = obj.get("items") if isinstance(obj.get("items"), dict) else obj.get("tracks")
        first_page = pages_obj if isinstance(pages_obj, dict) and "items" in pages_obj else None
    snapshot = obj.get("snapshot_id")
    label = f"{role} playlist {obj.get('name') or pid}"
    ctx.reporter.start(result.name, f"Playlist: {obj.get('name') or pid}")
    row = ctx.store.playlist_row(pid)
    with ctx.store.transaction():
        ctx.store.upsert_playlist(obj, role)
    unchanged = (not ctx.options.full and row is not None and row.get("status") == "read"
                 and snapshot is not None and row.get("snapshot_id") == snapshot)
    if unchanged:
        _fetch_removed_tracks(ctx, pid, role, created)
        with ctx.store.transaction():
            changed = _playlist_signals(ctx.store, pid, role, created)
        result.detail = f"unchanged (snapshot), {plural(len(ctx.store.playlist_track_ids(pid)), 'track')}" + (
            "; role changed, signals updated" if changed else "")
        return
    offset = 0
    if row and row.get("reading_snapshot") == snapshot and snapshot is not None and not ctx.options.full:
        offset = int(row.get("reading_offset") or 0)
        first_page = None
    if first_page is not None and int(first_page.get("offset") or 0) != offset:
        first_page = None

    def pages():
        if first_page is not None:
            yield first_page
            if not first_page.get("next"):
                return
            yield from ctx.client.playlist_items_pages(pid, offset + len(first_page.get("items") or []))
        else:
            yield from ctx.client.playlist_items_pages(pid, offset)

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
        with ctx.store.transaction():
            ctx.store.upsert_tracks(tracks)
            ctx.store.store_playlist_page(pid, snapshot, page_offset, rows, end)
            _page_signals(ctx.store, pid, role, rows, created)
        result.items += len(items)
        ctx.reporter.advance(result.name, len(items), total)
    if total is None:
        total = end
    _fetch_removed_tracks(ctx, pid, role, created, end=total)
    with ctx.store.transaction():
        ctx.store.finish_playlist(pid, snapshot, total)
        _playlist_signals(ctx.store, pid, role, created)
    result.detail = f"{label}: read {result.items} of {plural(total, 'item')}"


def _fetch_removed_tracks(ctx: HarvestContext, pid: str, role: str, created: dict[str, set[str]],
                          end: int | None = None) -> None:
    """Tracks the user removed from a tastebot playlist were never read from it: fetch their
    metadata (one request each; few) so the dislike they stand for can be learnt from."""
    if role != "created":
        return
    items = ctx.store.playlist_items(pid)
    present = {i["track_id"] for i in items if i["track_id"] and (end is None or i["position"] < end)}
    missing = [t for t in sorted(created.get(pid, set()) - present) if not ctx.store.has_track(t)]
    tracks = []
    for tid in missing:
        try:
            tracks.append(ctx.client.track(tid))
        except (EndpointUnavailable, SpotifyError) as exc:
            if getattr(exc, "status", None) not in (400, 403, 404):
                raise
    if tracks:
        with ctx.store.transaction():
            ctx.store.upsert_tracks(tracks)


def _page_signals(store, pid: str, role: str, rows: Sequence[tuple], created: dict[str, set[str]]) -> None:
    source = _role_source(role)
    added_by_us = created.get(pid, set())
    signals = [signal(tid, source, added, pid) for tid, _, added in rows
               if tid and not (role == "created" and tid in added_by_us)]
    store.add_signals(signals)


def _role_source(role: str) -> str:
    return {"own": "own_playlist", "like": "like_playlist", "dislike": "dislike_playlist",
            "created": "own_playlist"}[role]


def _playlist_signals(store, pid: str, role: str, created: dict[str, set[str]]) -> bool:
    """Make this playlist's signals match its stored items and role. Returns True if it changed any."""
    items = store.playlist_items(pid)
    present = {i["track_id"] for i in items if i["track_id"]}
    source = _role_source(role)
    changed = 0
    for other in ("own_playlist", "like_playlist", "dislike_playlist"):
        if other != source:
            changed += store.remove_signals(other, pid)
    added_by_us = created.get(pid, set())
    keep = present - added_by_us if role == "created" else present
    changed += store.remove_signals(source, pid, keep=keep)
    missing = [i for i in items if i["track_id"] in keep
               and not store.signal_exists(i["track_id"], source, context=pid)]
    store.add_signals([signal(i["track_id"], source, i["added_at"], pid) for i in missing])
    changed += len(missing)
    if role == "created":
        # and the tracks of items a refresh replaced that the listener had removed before it
        removed = (added_by_us - present) | store.removed_before_refresh(pid)
        have = store.signal_track_ids("feedback_removed", context=pid)
        now = now_iso(sortable=True)
        store.add_signals([signal(t, "feedback_removed", now, pid) for t in sorted(removed - have)])
        changed += store.remove_signals("feedback_removed", pid, keep=removed)
    return changed > 0


def read_feedback_saved(ctx: HarvestContext, result: SourceResult) -> None:
    created = created_playlists(ctx.store)
    if not created:
        result.status, result.detail = "skipped", "no playlists made by tastebot yet"
        return
    ours = ctx.store.added_track_ids()  # every generation's: items a refresh replaced included
    saved_at = ctx.store.signal_times("saved", ours)
    with ctx.store.transaction():
        ctx.store.add_signals([signal(t, "feedback_saved", at) for t, at in sorted(saved_at.items())])
        # A track unsaved since no longer counts as feedback.
        ctx.store.remove_signals("feedback_saved", keep=saved_at)
    result.items = len(saved_at)
    result.detail = f"{plural(len(saved_at), 'track')} from tastebot playlists you saved"


def created_playlists(store) -> dict[str, set[str]]:
    """{playlist id: track ids tastebot added}, from the store's outputs area."""
    return {pl["id"]: set(pl["track_ids"]) for pl in store.created_playlists()}
