"""Why each pick was made: the `Recommendation` rows `recommend` returns, with their reasons in words
(the retrievers that found a track, the nearest likes by sound, the corpus playlists shared with the
likes, the taste model's score)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tastebot.recommend.candidates import text_or_none
from tastebot.recommend.retrievers import labels


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
    taste: float | None  # the taste model's score (the MLP and the forest together)
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
        # `mlp`: the taste score's name before the rename, kept for scripts that read it.
        return {**self.__dict__, "mlp": self.taste}


def _num(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v, 4)




def _why(row: dict, reason: dict, taste: float | None) -> str:
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
    if taste is not None:
        parts.append(f"taste model {taste:.2f}")
    words = labels()
    found = [words[s] for s in row["sources"] if s in words]
    if found and not reason["shared_playlists"]:
        parts.append("found as " + ", ".join(found[:2]))
    return "; ".join(parts)


def recommendations(frame, picks, final, parts, taste, scorer, taste_only, notes=None) -> list[Recommendation]:
    """The picks (row positions of frame) as Recommendations; `notes` {row: text} goes first in "why"
    (e.g. the seed track that moved the pick up)."""
    notes = notes or {}
    picked = frame.iloc[picks].reset_index(drop=True)
    reasons = scorer.explain(picked)
    recs = []
    for rank, (i, reason) in enumerate(zip(picks, reasons), start=1):
        row = frame.iloc[i]
        p = parts.iloc[i]
        m = float(taste[i]) if taste is not None else None
        srcs = [s for s in str(row.get("sources") or "").split(",") if s]
        relation = row.get("relation") if isinstance(row.get("relation"), str) else None
        recs.append(Recommendation(
            rank=rank, track_id=row["track_id"], name=text_or_none(row.get("name")) or "",
            artist=text_or_none(row.get("artist_name")) or "",
            artist_id=row.get("primary_artist_id") if isinstance(row.get("primary_artist_id"), str) else None,
            album_id=row.get("album_id") if isinstance(row.get("album_id"), str) else None,
            uri=f"spotify:track:{row['track_id']}", url=f"https://open.spotify.com/track/{row['track_id']}",
            score=round(float(final[i]), 4), taste=_num(m), hybrid=round(float(p["hybrid"]), 4),
            collab=_num(p["collab"]), artist_affinity=_num(p["artist"]), content=_num(p["content"]),
            sources=srcs, nearest_liked=[r["name"] for r in reason["nearest_liked"]],
            shared_playlists=int(reason["shared_playlists"]), shared_playlist_names=reason["shared_playlist_names"],
            why="; ".join(x for x in (notes.get(i), _why({"artist": p["artist"], "sources": srcs, "relation": relation},
                                                          reason, m)) if x),
            taste_only=bool(taste_only[i]), relation=relation,
        ))
    return recs
