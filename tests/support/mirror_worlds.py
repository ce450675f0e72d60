"""Two sandbox worlds that mirror each other (issue 24): in one the playlist co-occurrence is right and
the taste model wrong, in the other the reverse. A listener's future likes are the hidden truth.

- "collab": the listener knows six public corpus playlists wholesale (their likes), and each playlist
  of future likes shares two tracks with them; the sound follows no pattern (likes, future likes and
  decoys alike), so the taste model has nothing to learn but "not like the dislikes". Co-occurrence
  finds the future likes.
- "taste": the future likes sound like the likes and fill playlists that hold no like; half the
  likes sit alone in playlists of decoys that sound like the dislikes. The taste model finds the
  future likes; co-occurrence the decoys.

In each world the wrong evidence is wrong on the listener's own data too (held-out likes show it):
nothing can follow evidence that holds for tracks the listener never met and for none they did.
"""

from __future__ import annotations

import numpy as np

from tastebot.sandbox.format import FORMAT

LISTENER = "mirror-listener"
# Sound clusters: the likes' (A) and the dislikes' (B), as (mean, spread) per feature.
SOUND = {
    "A": {"danceability": (0.8, 0.05), "energy": (0.85, 0.05), "acousticness": (0.05, 0.03), "valence": (0.75, 0.05),
          "tempo": (126.0, 4.0), "loudness": (-5.0, 1.0), "speechiness": (0.05, 0.02), "instrumentalness": (0.02, 0.01),
          "liveness": (0.1, 0.03)},
    "B": {"danceability": (0.3, 0.05), "energy": (0.2, 0.05), "acousticness": (0.85, 0.05), "valence": (0.25, 0.05),
          "tempo": (78.0, 4.0), "loudness": (-16.0, 1.5), "speechiness": (0.04, 0.02), "instrumentalness": (0.6, 0.1),
          "liveness": (0.12, 0.03)},
}


def sid(text: str) -> str:
    """A Spotify-shaped id (22 letters and digits) from a shorter unique one."""
    assert len(text) <= 22 and text.isalnum()
    return text + "Z" * (22 - len(text))


NOT_FOR_ME = sid("mirrorNotForMe")


def _features(rng, cluster: str | None) -> dict:
    if cluster is None:  # anything at all
        f = {"danceability": rng.random(), "energy": rng.random(), "acousticness": rng.random(), "valence": rng.random(),
             "tempo": float(rng.uniform(60, 180)), "loudness": float(rng.uniform(-25, -3)), "speechiness": rng.random() * 0.3,
             "instrumentalness": rng.random(), "liveness": rng.random() * 0.5}
    else:
        f = {k: float(m + s * rng.standard_normal()) for k, (m, s) in SOUND[cluster].items()}
    f = {k: (float(min(max(v, 0.0), 1.0)) if k not in ("tempo", "loudness") else round(float(v), 3)) for k, v in f.items()}
    return {**f, "key": int(rng.integers(0, 12)), "mode": int(rng.integers(0, 2)), "time_signature": 4}


def mirror_world(right: str, seed: int = 0) -> dict:
    """The catalogue of the world where `right` ("collab" or "taste") is the evidence to follow."""
    assert right in ("collab", "taste")
    rng = np.random.default_rng([seed, 0 if right == "collab" else 1])
    artists, albums, tracks, feats = [], [], [], {}
    groups: dict[str, list[str]] = {}
    sound = {"like": "A", "dislike": "B", "future": "A", "decoy": "B", "other": None} if right == "taste" else \
        {"like": None, "dislike": "B", "future": None, "decoy": None, "other": None}
    sizes = {"like": 120, "dislike": 60, "future": 100, "decoy": 300, "other": 2400}
    n_artists = {"like": 12, "dislike": 8, "future": 15, "decoy": 20, "other": 120}
    for group, n in sizes.items():
        ids = []
        for a in range(n_artists[group]):
            artists.append({"id": sid(f"{group}Artist{a}"), "name": f"{group.title()} Artist {a}", "genres": []})
            albums.append({"id": sid(f"{group}Album{a}"), "name": f"{group.title()} Album {a}",
                           "artist_ids": [sid(f"{group}Artist{a}")],
                           "release_date": f"{1990 + a % 30}", "release_date_precision": "year", "album_type": "album"})
        for i in range(n):
            tid = sid(f"{group}{seed}t{i:04d}")
            a = i % n_artists[group]
            tracks.append({"id": tid, "name": f"{group.title()} song {i}", "artist_ids": [sid(f"{group}Artist{a}")],
                           "album_id": sid(f"{group}Album{a}"), "duration_ms": int(rng.integers(150_000, 300_000)),
                           "explicit": False, "popularity": int(rng.integers(10, 90)),
                           "isrc": f"QZMW{seed}{len(tracks):07d}", "track_number": i // n_artists[group] + 1})
            feats[tid] = _features(rng, sound[group])
            ids.append(tid)
        groups[group] = ids
    playlists = _corpus(right, groups, rng)
    users = [{"id": LISTENER, "display_name": "Mirror Listener"}] + [
        {"id": f"curator{k}", "display_name": f"Curator {k}"} for k in range(10)]
    playlists.append({"id": NOT_FOR_ME, "name": "Not for me", "owner_id": LISTENER, "public": False,
                      "collaborative": False, "description": "", "track_ids": groups["dislike"]})
    saved = [{"track_id": t, "added_at": f"2026-10-{1 + i % 28:02d}T12:00:00Z"} for i, t in enumerate(groups["like"])]
    listener = {"user_id": LISTENER, "saved_tracks": saved,
                "top_tracks": {r: groups["like"][:30] for r in ("short_term", "medium_term", "long_term")},
                "recently_played": [], "followed_artist_ids": [], "followed_playlist_ids": []}
    return {"format": FORMAT, "artists": artists, "albums": albums, "tracks": tracks, "audio_features": feats,
            "users": users, "playlists": playlists, "listener": listener,
            "hidden": {"future_likes": groups["future"]}}


def _corpus(right: str, g: dict[str, list[str]], rng) -> list[dict]:
    lists: list[list[str]] = []
    likes = list(g["like"])
    if right == "collab":
        # The listener knows six public playlists wholesale; each future-like playlist shares two
        # tracks with them (issue 24's listeners of public playlists).
        for k in range(0, len(likes), 20):
            lists.append(likes[k:k + 20])
        for k in range(0, len(g["future"]), 10):
            lists.append(g["future"][k:k + 10] + list(rng.choice(likes, 2, replace=False)))
        for k in range(0, len(g["decoy"]), 10):
            lists.append(g["decoy"][k:k + 10] + list(rng.choice(g["other"], 2, replace=False)))
    else:
        decoys = list(g["decoy"]) * 2
        for k, like in enumerate(likes[::2]):  # half the likes, each alone among decoys
            lists.append([like] + decoys[k * 10:(k + 1) * 10] + list(rng.choice(g["other"], 1, replace=False)))
        for k in range(0, len(g["future"]), 8):
            lists.append(g["future"][k:k + 8] + list(rng.choice(g["other"], 4, replace=False)))
    for k in range(0, len(g["other"]), 12):  # the rest of the world, as many playlists again
        lists.append(g["other"][k:k + 12])
    return [{"id": sid(f"mirror{right}{k:03d}"), "name": f"Mix {k}", "owner_id": f"curator{k % 10}", "public": True,
             "collaborative": False, "description": "", "track_ids": list(dict.fromkeys(ids))}
            for k, ids in enumerate(lists)]
