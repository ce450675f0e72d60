"""Writing a playlist to Spotify idempotently.

The order of events makes a cut-off run safe to repeat:
1. the playlist (name, description with a unique marker, public flag) and every planned track, in
   order, are recorded in the store (`pending`) before anything is sent;
2. `POST /me/playlists` creates it; its id is recorded (`created`). If the run died between the POST
   and the record, the next run finds the playlist by the marker in its description among the user's
   playlists instead of creating a second one;
3. the tracks are added in order, 100 a request, each request recorded as it succeeds. A resumed run
   first reads what the playlist already holds (a request may have reached Spotify without its answer
   reaching us) and adds only what is missing.

Refreshing a playlist tastebot created (`recommend --update-playlist`) keeps its id and follows the
same order: the new items (a new generation) are recorded first, with the tracks of the old items the
listener had removed (read from the playlist then: they stay dislikes); then the description is set,
`PUT /playlists/{id}/items` replaces the items with the first 100 (setting the same list twice gives
the same playlist, so that request alone may simply be repeated), and the rest is added as above. A
run cut off anywhere is finished by the next: before the replace is recorded the replace is sent
again, after it the playlist is read back and only what is missing is added. Never a mix of two runs.

A write is never simply retried: a 5xx, a dropped connection or a timeout may come after Spotify
carried the request out (a gateway timing out on a slow backend), and a blind retry would then make
a second playlist or add the tracks twice. spotipy's own retries are off in the gateway, which
raises UncertainWrite for such failures of a write; here tastebot reads back what is there (the
playlist by its marker, the playlist's items) and sends only what is still missing.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from tastebot import notices
from tastebot.errors import InputError, UncertainWrite
from tastebot.spotify.client import PlaylistNotFound
from tastebot.spotify.refs import parse_playlist_ref
from tastebot.spotify.refs import playlist_item_track

ADD_BATCH = 100
MARKER_PREFIX = "tastebot:"

RequestHook = Callable[[str, int], None]  # (kind "create" | "add", requests of that kind so far)


@dataclass
class PlaylistResult:
    spotify_id: str | None
    url: str | None
    name: str
    tracks: int
    added_now: int
    already_there: int
    resumed: bool
    dry_run: bool = False
    requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def playlist_url(playlist: dict | None, spotify_id: str, settings=None) -> str:
    """Where the playlist can be found. Against the sandbox (or any other API base) it is the
    playlist's address there: an open.spotify.com link would point at the real Spotify, where
    no such playlist exists."""
    if settings is not None and getattr(settings, "is_sandbox", False):
        return f"{str(settings.spotify_url).rstrip('/')}/v1/playlists/{spotify_id}"
    url = ((playlist or {}).get("external_urls") or {}).get("spotify")
    return url or f"https://open.spotify.com/playlist/{spotify_id}"


def _marker_of(description: str | None) -> str | None:
    if not description:
        return None
    i = description.find("[" + MARKER_PREFIX)
    if i < 0:
        return None
    j = description.find("]", i)
    return description[i + 1 : j] if j > i else None


def plan(store, track_ids: Sequence[str], *, name: str, description: str, public: bool, details: dict | None = None) -> int:
    """Step 1: record the playlist and its tracks before any request. Returns the plan's row id."""
    if not track_ids:
        raise InputError("No tracks to put in a playlist.")
    if len(set(track_ids)) != len(track_ids):
        raise InputError("The planned playlist repeats a track.")
    marker = MARKER_PREFIX + uuid.uuid4().hex[:12]
    return store.plan_playlist(marker, name, _with_marker(description, marker), public, list(track_ids),
                               json.dumps(details or {}))


def _with_marker(description: str, marker: str) -> str:
    text = f"{description} [{marker}]".strip()
    if len(text) > 300:  # Spotify's limit on descriptions; the marker must survive
        text = description[: 300 - len(marker) - 4].rstrip() + f"… [{marker}]"
    return text


def finish(store, client, row: int, *, on_request: RequestHook | None = None, progress=None) -> PlaylistResult:
    """Steps 2 and 3 for a planned playlist: create it (or find it again) and add what is missing."""
    pl = store.output_playlist(row)
    if pl is None:
        raise InputError(f"No planned playlist {row} in the store.")
    if pl["status"] == "refreshing":
        return _finish_refresh(store, client, pl, resumed=True, on_request=on_request, progress=progress)
    resumed = pl["status"] != "pending" or pl["requests"] > 0
    requests = 0
    spotify_id = pl["spotify_id"]
    if spotify_id is None:
        found = _find_by_marker(client, pl["marker"])
        if found is not None:
            resumed = True
            spotify_id = found["id"]
            _record_created(store, row, spotify_id, playlist_url(found, spotify_id, getattr(client, "settings", None)))
        else:
            answer, sent = _write_or_read_back(
                client,
                lambda: client.create_playlist(pl["name"], public=bool(pl["public"]), description=pl["description"]),
                lambda: _find_by_marker(client, pl["marker"]),
            )
            requests += sent
            spotify_id = answer["id"]
            _record_created(store, row, spotify_id, playlist_url(answer, spotify_id, getattr(client, "settings", None)))
            if on_request:
                on_request("create", 1)
    planned = store.planned_tracks(row)
    already = 0
    if resumed:
        already = _reconcile(store, client, row, spotify_id, planned)
        planned = store.planned_tracks(row)
    missing = [p for p in planned if p["added_at"] is None]
    requests += _add_missing(store, client, row, spotify_id, planned, missing, on_request=on_request, progress=progress)
    store.mark_playlist_complete(row)
    final = store.output_playlist(row)
    return PlaylistResult(
        spotify_id=spotify_id, url=final["url"], name=final["name"], tracks=len(planned),
        added_now=len(missing), already_there=already, resumed=resumed, requests=requests,
    )


def _record_created(store, row: int, spotify_id: str, url: str | None) -> None:
    """Record the id; a row that held it before is stale (the service gave the id out again) and is set
    aside, said once, so it never blocks this or a later write."""
    for old in store.mark_playlist_created(row, spotify_id, url):
        notices.warn(f"The playlist “{old['name']}” tastebot made earlier no longer has the id {spotify_id}: "
                     "Spotify now gives it to the new playlist, so tastebot stops refreshing the old one.")


def _add_missing(store, client, row: int, spotify_id: str, planned: list[dict], missing: list[dict], *,
                 on_request: RequestHook | None, progress, adds: int = 0) -> int:
    """Add the missing planned tracks in order, ADD_BATCH a request; returns the requests sent."""
    task = progress.add_task("adding tracks", total=len(planned), completed=len(planned) - len(missing)) if progress else None
    requests = 0
    for i in range(0, len(missing), ADD_BATCH):
        batch = missing[i : i + ADD_BATCH]
        requests += _add_batch(store, client, row, spotify_id, planned, batch)
        adds += 1
        if progress is not None:
            progress.advance(task, len(batch))
        if on_request:
            on_request("add", adds)
    return requests


# -- refreshing a playlist tastebot created, in place -------------------------------------------------
_LOOKS_LIKE_A_REF = re.compile(r"^(spotify:|https?://|open\.spotify\.com/)", re.IGNORECASE)


def own_playlist(store, ref: str) -> dict:
    """The store's row of the playlist tastebot created that `ref` names (its name, URI, link or id).
    Any other playlist is an InputError: tastebot replaces only the items of its own playlists."""

    made = [p for p in store.output_playlists() if p["spotify_id"]]
    text = (ref or "").strip()
    by_name = [p for p in made if p["name"] == text]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise InputError(f"{len(by_name)} playlists tastebot made are named “{text}”: give the one to refresh "
                         f"by its URI ({', '.join('spotify:playlist:' + p['spotify_id'] for p in by_name)}).")
    try:
        pid = parse_playlist_ref(text)
    except InputError as exc:
        if _LOOKS_LIKE_A_REF.match(text):  # a broken URI or link, not a name to create a playlist under
            raise InputError(f"--update-playlist: not a valid playlist reference. {exc.message}") from None
        raise InputError(f"No playlist tastebot made is named “{text}”: create it first with "
                         f"`tastebot recommend --create-playlist --name \"{text}\"`.") from None
    for p in made:
        if p["spotify_id"] == pid:
            return p
    raise InputError(f"Playlist {pid} was not made by tastebot: --update-playlist replaces the items of "
                     "tastebot's own playlists only.")


def refresh_playlist(
    store, client, ref: str, track_ids: Sequence[str], *, description: str, details: dict | None = None,
    dry_run: bool = False, on_request: RequestHook | None = None, progress=None,
) -> PlaylistResult:
    """Replace the items of the playlist tastebot made that `ref` names with `track_ids`, keeping its
    id. With dry_run nothing is recorded or sent."""
    pl = own_playlist(store, ref)
    if dry_run:
        return PlaylistResult(pl["spotify_id"], pl["url"], pl["name"], len(track_ids), 0, 0, False, dry_run=True)
    if pl["status"] != "complete":
        raise InputError(f"The playlist “{pl['name']}” is still being written: run again to finish it first.")
    if not track_ids:
        raise InputError("No tracks to put in a playlist.")
    if len(set(track_ids)) != len(track_ids):
        raise InputError("The planned playlist repeats a track.")
    old = [p["track_id"] for p in store.planned_tracks(pl["id"]) if p["added_at"] is not None]
    present = set(_items(client, pl["spotify_id"]))
    store.plan_refresh(pl["id"], _with_marker(description, pl["marker"]), list(track_ids),
                       json.dumps(details or {}), removed_by_listener=[t for t in old if t not in present])
    return _finish_refresh(store, client, store.output_playlist(pl["id"]), resumed=False, on_request=on_request,
                           progress=progress)


def _finish_refresh(store, client, pl: dict, *, resumed: bool, on_request: RequestHook | None, progress) -> PlaylistResult:
    """Finish a planned refresh: set the description, replace the items with the first batch (again,
    when that was not recorded: the same list twice is the same playlist), then add what is missing."""
    row, spotify_id = pl["id"], pl["spotify_id"]
    planned = store.planned_tracks(row)
    requests = 0
    replaced = any(p["added_at"] is not None for p in planned)
    already = 0
    if replaced:
        already = _reconcile(store, client, row, spotify_id, planned)
        planned = store.planned_tracks(row)
    else:
        client.change_description(spotify_id, pl["description"])
        first = planned[:ADD_BATCH]
        client.replace_items(spotify_id, [f"spotify:track:{p['track_id']}" for p in first])
        store.mark_tracks_added(row, [p["position"] for p in first])
        requests += 2
        if on_request:
            on_request("replace", 1)
        planned = store.planned_tracks(row)
    missing = [p for p in planned if p["added_at"] is None]
    requests += _add_missing(store, client, row, spotify_id, planned, missing, on_request=on_request, progress=progress)
    store.mark_playlist_complete(row)
    return PlaylistResult(
        spotify_id=spotify_id, url=pl["url"], name=pl["name"], tracks=len(planned),
        added_now=len(planned) - already, already_there=already, resumed=resumed,
        requests=requests,
    )


def write_playlist(
    store, client, track_ids: Sequence[str], *, name: str, description: str, public: bool = False,
    details: dict | None = None, dry_run: bool = False, on_request: RequestHook | None = None, progress=None,
) -> PlaylistResult:
    """Plan, create and fill a playlist. With dry_run nothing is recorded or sent."""
    if dry_run:
        return PlaylistResult(None, None, name, len(track_ids), 0, 0, False, dry_run=True)
    row = plan(store, track_ids, name=name, description=description, public=public, details=details)
    return finish(store, client, row, on_request=on_request, progress=progress)


def finish_unfinished(store, client, *, on_request: RequestHook | None = None, progress=None) -> list[PlaylistResult]:
    """Finish every playlist an earlier run planned or started but did not complete. One Spotify no
    longer has (deleted meanwhile, or made on a service since restarted) is set aside with a warning
    rather than block every later write."""

    done = []
    for pl in store.unfinished_playlists():
        try:
            done.append(finish(store, client, pl["id"], on_request=on_request, progress=progress))
        except PlaylistNotFound:
            store.set_playlist_aside(pl["id"])
            notices.warn(f"The playlist “{pl['name']}” tastebot was writing is gone from Spotify "
                         f"({pl['spotify_id']}): tastebot stops writing it.")
    return done


# -- helpers -----------------------------------------------------------------------------------------
def _write_or_read_back(client, write: Callable[[], Any], read_back: Callable[[], Any]) -> tuple[Any, int]:
    """write(); after a failure that may have reached Spotify (UncertainWrite), back off and ask
    read_back() what is there: its answer, when not None, stands for the write's, otherwise the
    write is sent again (what it sends may have shrunk). Returns (answer, requests sent)."""
    failures = 0
    while True:
        try:
            return write(), failures + 1
        except UncertainWrite:
            failures += 1
            if failures > client.policy.server_retries:
                raise
            client.policy.backoff(failures)
            found = read_back()
            if found is not None:
                return found, failures


def _add_batch(store, client, row: int, spotify_id: str, planned: list[dict], batch: list[dict]) -> int:
    """Add one batch of planned tracks and record it; returns the requests sent."""
    chunk = batch

    def add() -> bool:
        client.add_items(spotify_id, [f"spotify:track:{p['track_id']}" for p in chunk])
        store.mark_tracks_added(row, [p["position"] for p in chunk])
        return True

    def read_back() -> bool | None:
        # Keep only what the playlist lacks; nothing left means Spotify carried the add out.
        nonlocal chunk
        _reconcile(store, client, row, spotify_id, planned)
        still = {p["position"] for p in store.planned_tracks(row) if p["added_at"] is None}
        chunk = [p for p in chunk if p["position"] in still]
        return None if chunk else True

    return _write_or_read_back(client, add, read_back)[1]


def _find_by_marker(client, marker: str) -> dict | None:
    for p in client.my_playlists():
        if _marker_of(p.get("description")) == marker:
            return p
    return None


def _items(client, spotify_id: str) -> list[str]:

    ids: list[str] = []
    for page in client.playlist_items_pages(spotify_id):
        for item in page.get("items") or []:
            t = playlist_item_track(item)
            if t and t.get("id"):
                ids.append(t["id"])
    return ids


def _reconcile(store, client, row: int, spotify_id: str, planned: list[dict]) -> int:
    """Mark planned tracks the playlist already holds as added; returns how many it holds."""
    have = Counter(_items(client, spotify_id))
    found = []
    for p in planned:
        if have[p["track_id"]] > 0:
            have[p["track_id"]] -= 1
            found.append(p["position"])
    store.mark_tracks_added(row, found, request=False)
    return len(found)

