"""The sandbox's live state: the catalogue indexed for serving, plus everything requests change
(playlists, saved tracks, follows, authorization codes and tokens). One re-entrant lock guards it.

The catalogue dict itself is never changed; its `hidden` section is never read here.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote_plus, unquote_plus

LOCAL_PREFIX = "spotify:local:"
_EPOCH = datetime(2019, 1, 1, tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass
class PlaylistState:
    id: str
    name: str
    owner_id: str
    public: bool
    collaborative: bool
    description: str | None
    # Each entry: {"track_id": str|None, "local_uri": str|None, "added_at": str, "added_by": str}.
    # Both None is a `null` item, as old real playlists hold.
    entries: list[dict[str, Any]] = field(default_factory=list)
    version: int = 1
    followers: int = 0

    @property
    def snapshot_id(self) -> str:
        digest = hashlib.sha1(f"{self.id}:{self.version}".encode()).digest()[:18]
        return base64.b64encode(self.version.to_bytes(4, "big") + digest).decode("ascii")

    def changed(self) -> None:
        self.version += 1

    def track_ids(self) -> list[str | None]:
        """Ids in order; a local file appears as its uri and a null item as None."""
        return [e["track_id"] or e["local_uri"] for e in self.entries]


def local_file_parts(uri: str) -> dict[str, Any]:
    """spotify:local:artist:album:title:seconds -> its parts (Spotify's local-file URI layout)."""
    parts = uri[len(LOCAL_PREFIX):].split(":")
    parts += [""] * (4 - len(parts))
    artist, album, title, seconds = (unquote_plus(p) for p in parts[:4])
    try:
        duration_ms = int(float(seconds) * 1000)
    except ValueError:
        duration_ms = 0
    return {"artist": artist, "album": album, "name": title, "duration_ms": duration_ms}


class SandboxState:
    def __init__(self, catalog: dict[str, Any], seed: int = 0):
        self.lock = threading.RLock()
        self.seed = seed
        self.catalog = catalog
        self.artists: dict[str, dict] = {a["id"]: a for a in catalog.get("artists", [])}
        self.albums: dict[str, dict] = {a["id"]: a for a in catalog.get("albums", [])}
        self.tracks: dict[str, dict] = {t["id"]: t for t in catalog.get("tracks", [])}
        self.features: dict[str, dict] = dict(catalog.get("audio_features", {}) or {})
        self.users: dict[str, dict] = {u["id"]: u for u in catalog.get("users", [])}
        listener = catalog.get("listener", {})
        self.listener_id: str = listener.get("user_id", "listener")
        self.users.setdefault(self.listener_id, {"id": self.listener_id, "display_name": self.listener_id})

        self.album_tracks: dict[str, list[str]] = {}
        self.artist_tracks: dict[str, list[str]] = {}
        for t in self.tracks.values():
            self.album_tracks.setdefault(t["album_id"], []).append(t["id"])
            for aid in t.get("artist_ids", []):
                self.artist_tracks.setdefault(aid, []).append(t["id"])
        for ids in self.album_tracks.values():
            ids.sort(key=lambda tid: (self.tracks[tid].get("track_number") or 0, tid))
        # Albums an artist made (album_group = album_type) or appears on through a track.
        self.artist_albums: dict[str, list[tuple[str, str]]] = {}
        for album in self.albums.values():
            for aid in album.get("artist_ids", []):
                self.artist_albums.setdefault(aid, []).append((album["id"], album.get("album_type", "album")))
        for album_id, tids in self.album_tracks.items():
            album = self.albums.get(album_id)
            if album is None:
                continue
            own = set(album.get("artist_ids", []))
            guests = {aid for tid in tids for aid in self.tracks[tid].get("artist_ids", [])} - own
            for aid in sorted(guests):
                self.artist_albums.setdefault(aid, []).append((album_id, "appears_on"))
        for aid, entries in self.artist_albums.items():
            entries.sort(key=lambda e: (self.albums[e[0]].get("release_date") or "", e[0]), reverse=True)

        self.playlists: dict[str, PlaylistState] = {}
        for pl in catalog.get("playlists", []):
            self.playlists[pl["id"]] = self._playlist_from_catalog(pl)
        self.created_playlists: list[str] = []  # newest first
        self._ensure_realism_in_own_playlists()

        saved = sorted(listener.get("saved_tracks", []), key=lambda s: s["added_at"], reverse=True)
        self.saved: list[tuple[str, str]] = [(s["track_id"], s["added_at"]) for s in saved]
        self.top_tracks: dict[str, list[str]] = {k: list(v) for k, v in (listener.get("top_tracks") or {}).items()}
        played = sorted(listener.get("recently_played", []), key=lambda p: p["played_at"], reverse=True)
        # Only the last 50 plays exist for the API, as on Spotify.
        self.recently_played: list[tuple[str, str]] = [(p["track_id"], p["played_at"]) for p in played[:50]]
        self.followed_artists: list[str] = list(listener.get("followed_artist_ids", []))
        self.followed_playlists: list[str] = list(listener.get("followed_playlist_ids", []))

        # Accounts service state.
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self._created_seq = 0

    # -- catalogue helpers ---------------------------------------------------------------------

    def _playlist_from_catalog(self, pl: dict[str, Any]) -> PlaylistState:
        # Stable made-up "added" times: a start per playlist, then a few hours per item.
        start = _EPOCH + timedelta(days=zlib.crc32(pl["id"].encode()) % 1500)
        entries = []
        for i, ref in enumerate(pl.get("track_ids", [])):
            added = iso(start + timedelta(hours=7 * i, minutes=zlib.crc32(f"{pl['id']}{i}".encode()) % 300))
            entry = {"track_id": None, "local_uri": None, "added_at": added, "added_by": pl["owner_id"]}
            if isinstance(ref, str) and ref.startswith(LOCAL_PREFIX):
                entry["local_uri"] = ref
            elif isinstance(ref, str) and ref:
                entry["track_id"] = ref
            entries.append(entry)
        self._add_realism(pl["id"], pl["owner_id"], entries)
        followers = zlib.crc32(("f" + pl["id"]).encode()) % 50000 if pl["owner_id"] != self.listener_id else 0
        return PlaylistState(
            id=pl["id"], name=pl.get("name", ""), owner_id=pl["owner_id"], public=bool(pl.get("public", True)),
            collaborative=bool(pl.get("collaborative", False)), description=pl.get("description"),
            entries=entries, followers=followers,
        )

    def _ensure_realism_in_own_playlists(self) -> None:
        """The listener's own playlists hold at least one null item and one local file, so every
        client meets both (when the listener owns a playlist of 5 or more items)."""
        own = [p for p in self.playlists.values() if self.owns(p) and len(p.entries) >= 5]
        if not own:
            return
        entries = [e for p in own for e in p.entries]
        if not any(e["local_uri"] for e in entries):
            target = own[0]
            uri = LOCAL_PREFIX + ":".join(quote_plus(x) for x in ("The Basement Tapes", "Phone Memos", "Voice Memo 12", "143"))
            target.entries.insert(len(target.entries) // 2, {**target.entries[len(target.entries) // 2], "track_id": None, "local_uri": uri})
        if not any(e["track_id"] is None and not e["local_uri"] for e in entries):
            target = own[-1]
            target.entries.insert(1, {**target.entries[1], "track_id": None, "local_uri": None})

    def _add_realism(self, pid: str, owner_id: str, entries: list[dict[str, Any]]) -> None:
        """Real playlists hold a `null` item or a local file now and then; so do these (same per seed)."""
        if len(entries) < 5:
            return
        rng = random.Random(f"realism:{self.seed}:{pid}")
        if rng.random() < 0.3:
            at = rng.randrange(len(entries) + 1)
            added = entries[min(at, len(entries) - 1)]["added_at"]
            entries.insert(at, {"track_id": None, "local_uri": None, "added_at": added, "added_by": owner_id})
        if rng.random() < 0.25:
            at = rng.randrange(len(entries) + 1)
            n = rng.randrange(1, 100)
            parts = [f"Home Recordings {n % 7 + 1}", f"Demo Tapes Vol {n % 5 + 1}", f"Untitled Demo {n}", str(rng.randrange(90, 400))]
            uri = LOCAL_PREFIX + ":".join(quote_plus(p) for p in parts)
            added = entries[min(at, len(entries) - 1)]["added_at"]
            entries.insert(at, {"track_id": None, "local_uri": uri, "added_at": added, "added_by": owner_id})

    def owns(self, pl: PlaylistState) -> bool:
        return pl.owner_id == self.listener_id

    def can_read_items(self, pl: PlaylistState) -> bool:
        """Development apps: owner or collaborator only."""
        return self.owns(pl) or (pl.collaborative and pl.id in self.followed_playlists)

    def can_modify(self, pl: PlaylistState) -> bool:
        return self.can_read_items(pl)

    def listener_playlists(self) -> list[PlaylistState]:
        """What GET /me/playlists lists: created (newest first), own catalogue ones, then followed."""
        with self.lock:
            seen: set[str] = set()
            ordered: list[PlaylistState] = []
            ids = self.created_playlists + [p.id for p in self.playlists.values() if self.owns(p)] + self.followed_playlists
            for pid in ids:
                if pid in seen or pid not in self.playlists:
                    continue
                seen.add(pid)
                ordered.append(self.playlists[pid])
            return ordered

    def create_playlist(self, pid: str, name: str, public: bool, collaborative: bool, description: str | None) -> PlaylistState:
        with self.lock:
            pl = PlaylistState(id=pid, name=name, owner_id=self.listener_id, public=public,
                               collaborative=collaborative, description=description)
            self.playlists[pid] = pl
            self.created_playlists.insert(0, pid)
            return pl

    def snapshot(self) -> dict[str, Any]:
        """GET /_sandbox/state: what the listener has, as they would see it."""
        with self.lock:
            own = [p for p in self.listener_playlists() if self.owns(p)]
            return {
                "listener_id": self.listener_id,
                "playlists": [
                    {"id": p.id, "name": p.name, "public": p.public, "collaborative": p.collaborative,
                     "description": p.description, "snapshot_id": p.snapshot_id, "track_ids": p.track_ids()}
                    for p in own
                ],
                "saved_track_ids": [tid for tid, _ in self.saved],
                "followed_playlist_ids": list(self.followed_playlists),
                "followed_artist_ids": list(self.followed_artists),
            }
