"""The sandbox listener's Spotify data export: `tastebot sandbox export-history DIR`.

Writes what Spotify's privacy page would deliver for the catalogue's listener, in both formats:
`Spotify Extended Streaming History/Streaming_History_Audio_<years>_<n>.json` (every play of the
span, about 15,000 plays a file) and `Spotify Account Data/StreamingHistory_music_<n>.json` (the
last year, without ids) with `YourLibrary.json` (the saved tracks). Field names and types follow
../shared/spotify/EXPORTS-AND-OPEN-APIS.md, made-up personal fields included (IP address, user agent,
country, platform, username), so tests can check tastebot never keeps them.

The plays follow the listener's hidden taste. Sessions pick tracks from what the listener likes and
has met (saved, own playlists, top tracks), a seeded share `past_share` of the liked songs they
have not met yet in the catalogue (`hidden.future_likes`: the export's past holds some of them), and
tracks they do not like (the dislike list, and a seeded share `MET_SHARE` of the unheard tracks
outside the future likes, drawn by popularity as radio and shuffle would). Liked tracks are mostly played to the end, with favourites
repeated; disliked ones are mostly skipped within seconds. Noise: skips of liked songs, disliked
songs left playing, shuffle, podcasts, private sessions and playback errors.
`history_met(catalog, ...)` says which future likes the export holds, for benchmarks.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tastebot.sandbox.generator import CATALOG_NOW, DISLIKE_PLAYLIST_NAME

PER_FILE_EXTENDED = 15_000
PER_FILE_BASIC = 10_000
PAST_SHARE = 0.3
MET_SHARE = 0.4   # of the unheard tracks the listener does not like, the share their history meets
PLATFORMS = ("android", "ios", "windows", "osx", "web_player")
_IP = "198.51.100.{}"
_UA = "Spotify/8.9.{} Android/33 (Pixel 7)"


def _pools(catalog: dict, seed: int, past_share: float) -> dict[str, np.ndarray]:
    listener = catalog["listener"]
    me = listener["user_id"]
    tracks = [t["id"] for t in catalog["tracks"]]
    liked_known: list[str] = [e["track_id"] for e in listener["saved_tracks"]]
    disliked_known: list[str] = []
    followed = set(listener.get("followed_playlist_ids") or [])
    heard: set[str] = set(liked_known)
    for ids in (listener.get("top_tracks") or {}).values():
        liked_known += ids
        heard.update(ids)
    heard.update(e["track_id"] for e in listener.get("recently_played") or [])
    for p in catalog["playlists"]:
        if p["owner_id"] == me:
            heard.update(p["track_ids"])
            (disliked_known if p["name"] == DISLIKE_PLAYLIST_NAME else liked_known).extend(p["track_ids"])
        elif p["id"] in followed:
            heard.update(p["track_ids"])
    future = list((catalog.get("hidden") or {}).get("future_likes") or [])
    rng = np.random.default_rng([seed, 1])
    past = sorted(rng.choice(future, size=int(round(past_share * len(future))), replace=False).tolist()) if future else []
    future_set = set(future)
    unliked = [t for t in tracks if t not in heard and t not in future_set]
    # Nobody meets a whole catalogue: the rest stays unheard (what recommending is about).
    unliked = sorted(rng.choice(unliked, size=int(round(MET_SHARE * len(unliked))), replace=False).tolist()) \
        if unliked else []
    return {
        "liked": np.array(sorted(set(liked_known) | set(past))),
        "past_likes": np.array(past),
        "disliked": np.array(sorted(set(disliked_known) | set(unliked))),
    }


def history_met(catalog: dict, *, seed: int = 0, past_share: float = PAST_SHARE) -> set[str]:
    """The future likes (catalogue `hidden.future_likes`) the export of this seed plays."""
    return set(_pools(catalog, seed, past_share)["past_likes"].tolist())


def export_history(catalog: dict, out_dir: str | Path, *, plays: int = 20_000, seed: int = 0, years: float = 2.0,
                   past_share: float = PAST_SHARE, formats: tuple[str, ...] = ("extended", "basic")) -> dict[str, Any]:
    """Write the export into out_dir; returns what was written (files, play counts)."""
    out = Path(out_dir)
    entries = _listen(catalog, _Listener(catalog, seed, past_share), plays, years)
    written: dict[str, Any] = {"plays": len(entries), "files": []}
    if "extended" in formats:
        written["files"] += _write_extended(out, entries)
    written["basic_plays"] = 0
    if "basic" in formats:
        files, written["basic_plays"] = _write_basic(out, entries, catalog)
        written["files"] += files
    return written


class _Listener:
    """What the listener plays: favourites among the liked tracks (a few take most of the plays), and
    radio among the disliked ones following popularity."""

    def __init__(self, catalog: dict, seed: int, past_share: float):
        self.rng = np.random.default_rng([seed, 2])
        self.by_id = {t["id"]: t for t in catalog["tracks"]}
        self.artists = {a["id"]: a["name"] for a in catalog["artists"]}
        self.albums = {a["id"]: a["name"] for a in catalog["albums"]}
        pools = _pools(catalog, seed, past_share)
        self.liked, self.disliked = pools["liked"], pools["disliked"]
        fav = self.rng.pareto(1.2, len(self.liked)) + 0.2
        self.fav_p = fav / fav.sum()
        pop = np.array([float(self.by_id[t].get("popularity") or 0) for t in self.disliked])
        # Radio and shuffle follow popularity; a track the listener skips comes back less and less (they
        # skip it, hide it, leave the playlist that has it), one they let play a little less.
        # Nobody hears a song they dislike dozens of times: each is met a few times at most (the sandbox's
        # catalogue is small, a real one is not), then the listener plays what they like.
        self.radio_w = np.exp(pop / 30.0)
        self.plays_left = self.rng.integers(1, 6, len(self.disliked))
        self.user = catalog["listener"]["user_id"]

    def pick(self, deliberate: bool) -> tuple[str, bool, int | None]:
        """(track id, liked?, index among the disliked or None)."""
        like_p = 0.8 if deliberate else 0.45
        if self.rng.random() < like_p or not self.radio_w.any():
            return str(self.rng.choice(self.liked, p=self.fav_p)), True, None
        j = int(self.rng.choice(len(self.disliked), p=self.radio_w / self.radio_w.sum()))
        return str(self.disliked[j]), False, j

    def outcome(self, liked: bool, j: int | None, duration: int) -> tuple[str, int, str]:
        """(outcome, ms played, reason_end) of one play; a disliked track met comes back less."""
        rng = self.rng
        o = rng.random()
        if liked:
            outcome = "done" if o < 0.82 else ("early" if o < 0.9 else "middle")
        else:
            outcome = "early" if o < 0.72 else ("done" if o < 0.82 else "middle")
            self.radio_w[j] *= 0.35 if outcome == "early" else 0.6
            self.plays_left[j] -= 1
            if self.plays_left[j] <= 0:
                self.radio_w[j] = 0.0
        if outcome == "done":
            ms, end = duration, "trackdone"
        elif outcome == "early":
            ms, end = int(rng.integers(800, 25_000)), "fwdbtn"
        else:
            ms, end = int(rng.integers(30_000, max(30_001, int(0.7 * duration)))), ("fwdbtn" if rng.random() < 0.7 else "endplay")
        if rng.random() < 0.005:
            end = "trackerror"
        return outcome, ms, end


def _listen(catalog: dict, who: _Listener, plays: int, years: float) -> list[dict]:
    """Every play of the export, sessions of 4 to 20 plays spread over `years`, sorted by time."""
    rng = who.rng
    span_s = years * 365.25 * 86400
    start = CATALOG_NOW - timedelta(seconds=span_s)
    lengths: list[int] = []
    while sum(lengths) < plays:
        lengths.append(int(rng.integers(4, 21)))
    lengths[-1] -= sum(lengths) - plays
    session_starts = np.sort(rng.uniform(0, span_s, len(lengths)))
    entries: list[dict] = []
    for length, offset in zip(lengths, session_starts):
        _session(who, start + timedelta(seconds=float(offset)), length, entries)
    entries.sort(key=lambda e: e["ts"])
    return entries


def _session(who: _Listener, moment, length: int, entries: list[dict]) -> None:
    rng = who.rng
    deliberate = rng.random() < 0.55        # the listener picks (an album, a playlist) vs radio/autoplay
    shuffle = bool(rng.random() < (0.5 if deliberate else 0.2))
    platform = PLATFORMS[int(rng.integers(len(PLATFORMS)))]
    incognito = bool(rng.random() < 0.02)
    reason_start = "clickrow" if deliberate else ("appload" if rng.random() < 0.5 else "playbtn")
    for k in range(length):
        if rng.random() < 0.015:  # a podcast episode
            ms = int(rng.integers(60_000, 1_800_000))
            moment += timedelta(milliseconds=ms)
            entries.append(_entry(moment, None, ms, reason_start, "endplay", shuffle, False, platform, who.user,
                                  incognito, episode=f"Episode {int(rng.integers(1, 300))}"))
            reason_start = "clickrow"
            continue
        tid, is_liked, j = who.pick(deliberate)
        outcome, ms, end = who.outcome(is_liked, j, int(who.by_id[tid]["duration_ms"]))
        if k == length - 1 and end == "trackdone" and rng.random() < 0.3:
            end = "logout"
        moment += timedelta(milliseconds=ms + int(rng.integers(0, 4000)))
        entries.append(_entry(moment, who.by_id[tid], ms, reason_start, end, shuffle, end == "fwdbtn", platform,
                              who.user, incognito, artists=who.artists, albums=who.albums))
        # The next play: after a skip forward the listener moved on; a loved song is sometimes replayed.
        if is_liked and outcome == "done" and rng.random() < 0.06:
            reason_start = "backbtn"
        else:
            reason_start = {"trackdone": "trackdone", "fwdbtn": "fwdbtn"}.get(end, "clickrow")


def _write_extended(out: Path, entries: list[dict]) -> list[str]:
    folder = out / "Spotify Extended Streaming History"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for n, i in enumerate(range(0, len(entries), PER_FILE_EXTENDED)):
        chunk = entries[i:i + PER_FILE_EXTENDED]
        name = f"Streaming_History_Audio_{chunk[0]['ts'][:4]}-{chunk[-1]['ts'][:4]}_{n}.json"
        _write(folder / name, chunk)
        files.append(str(folder / name))
    return files


def _write_basic(out: Path, entries: list[dict], catalog: dict) -> tuple[list[str], int]:
    """The basic Account-data export: the last year's music plays without ids, and YourLibrary.json."""
    folder = out / "Spotify Account Data"
    folder.mkdir(parents=True, exist_ok=True)
    by_id = {t["id"]: t for t in catalog["tracks"]}
    artists = {a["id"]: a["name"] for a in catalog["artists"]}
    albums = {a["id"]: a["name"] for a in catalog["albums"]}
    year_ago = (CATALOG_NOW - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    basic = [{"endTime": e["ts"][:10] + " " + e["ts"][11:16], "artistName": e["master_metadata_album_artist_name"],
              "trackName": e["master_metadata_track_name"], "msPlayed": e["ms_played"]}
             for e in entries if e["ts"] >= year_ago and e["spotify_track_uri"] and not e["incognito_mode"]]
    files = []
    for n, i in enumerate(range(0, max(1, len(basic)), PER_FILE_BASIC)):
        _write(folder / f"StreamingHistory_music_{n}.json", basic[i:i + PER_FILE_BASIC])
        files.append(str(folder / f"StreamingHistory_music_{n}.json"))
    library = {"tracks": [], "albums": [], "shows": [], "episodes": [], "bannedTracks": [], "artists": [],
               "bannedArtists": [], "other": []}
    for e in catalog["listener"]["saved_tracks"]:
        t = by_id[e["track_id"]]
        library["tracks"].append({"artist": artists.get((t.get("artist_ids") or [None])[0], ""),
                                  "album": albums.get(t.get("album_id"), ""), "track": t["name"],
                                  "uri": f"spotify:track:{t['id']}"})
    (folder / "YourLibrary.json").write_text(json.dumps(library, ensure_ascii=False, indent=2), encoding="utf-8")
    files.append(str(folder / "YourLibrary.json"))
    return files, len(basic)


def _entry(moment, track: dict | None, ms: int, reason_start: str, reason_end: str, shuffle: bool, skipped: bool,
           platform: str, user: str, incognito: bool, *, artists=None, albums=None, episode: str | None = None) -> dict:
    return {
        "ts": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "username": user,
        "platform": platform,
        "ms_played": ms,
        "conn_country": "SE",
        "ip_addr": _IP.format(7 + len(platform)),
        "user_agent_decrypted": _UA.format(len(platform)),
        "master_metadata_track_name": track["name"] if track else None,
        "master_metadata_album_artist_name": artists.get((track.get("artist_ids") or [None])[0]) if track else None,
        "master_metadata_album_album_name": albums.get(track.get("album_id")) if track else None,
        "spotify_track_uri": f"spotify:track:{track['id']}" if track else None,
        "episode_name": episode,
        "episode_show_name": "The Example Show" if episode else None,
        "spotify_episode_uri": "spotify:episode:" + "4" * 22 if episode else None,
        "audiobook_title": None, "audiobook_uri": None, "audiobook_chapter_uri": None, "audiobook_chapter_title": None,
        "reason_start": reason_start,
        "reason_end": reason_end,
        "shuffle": shuffle,
        "skipped": skipped,
        "offline": False,
        "offline_timestamp": None,
        "incognito_mode": incognito,
    }


def _write(path: Path, entries: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("[\n")
        for i, e in enumerate(entries):
            fh.write((",\n" if i else "") + json.dumps(e, ensure_ascii=False))
        fh.write("\n]\n")
