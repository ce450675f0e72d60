"""`taste`: the taste model over every corpus track with audio features: its top joins the pool,
whatever the corpus's co-occurrence says. On a large corpus `tastebot train` scores it once and
saves the top (`scan_corpus_taste`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from tastebot.known import Known
from tastebot.recommend.candidates import CandidatePool, add_corpus_ids
from tastebot.models.runs import TASTE_MEMBERS, load_taste_corpus

TASTE_BATCH = 8192


def gather_taste(store, model, known: Known, pool: CandidatePool, per_source: int,
                 batch: int = TASTE_BATCH) -> tuple[int, str]:
    """The taste model's top `per_source` unheard corpus tracks join the pool, whatever the corpus's
    co-occurrence says of them. A run that scored the corpus at train time (a large corpus, see
    `scan_corpus_taste`) is asked only for its saved top, so recommend stays fast; otherwise every
    corpus track with audio features is scored here. Returns (tracks added, the `taste` source line)."""

    saved = load_taste_corpus(model.run_dir) if model.run_dir is not None else None
    if saved is not None:
        scan = TasteScan.from_dict(saved)
        ids = [t for t in saved["track_ids"] if t not in known.track_ids]
        if tuple(model.members) == TASTE_MEMBERS:  # the model that ranked them: its order stands
            add_corpus_ids(store, pool, ids[:per_source], "taste")
            return len(ids[:per_source]), scan.line()
        tracks = store.corpus_tracks_frame(ids, with_features=True) if ids else store.corpus_tracks_frame([])
    else:
        tracks = store.corpus_tracks_frame(with_features=True)
        n_features = len(tracks)
        tracks = tracks[~tracks["track_id"].isin(known.track_ids)].reset_index(drop=True)
        scan = TasteScan(scored=len(tracks), with_features=n_features, corpus_tracks=store.corpus_stats()["tracks"])
    if not len(tracks) or per_source <= 0:
        return 0, scan.line()
    scores = _taste_scores(model, tracks, batch)
    top = np.argsort(-scores, kind="stable")[:per_source]
    for rec in tracks.iloc[top].to_dict("records"):
        pool.add_corpus(rec, "taste")
    return len(top), scan.line()


# A corpus with more unheard tracks with audio features than this is scored by `tastebot train`,
# which saves its top this many with the run: recommend then scores only those.
TASTE_SHORTLIST = 5000


@dataclass
class TasteScan:
    """How much of the corpus the taste model scored, and (when `train` scored it) its top ids."""
    scored: int                 # unheard corpus tracks with audio features: all were scored
    with_features: int          # corpus tracks with audio features
    corpus_tracks: int          # corpus tracks
    track_ids: list[str] = field(default_factory=list)  # the top by taste score, best first (train time only)
    run_id: str | None = None   # set when it was scored at train time

    def line(self) -> str:
        """'scored 27,950 of 28,356 corpus tracks (98.6 %) with audio features (...)' for `sources`."""
        if not self.corpus_tracks:
            return "no corpus imported"
        share = 100 * self.with_features / self.corpus_tracks
        text = (f"scored {self.scored:,} of {self.corpus_tracks:,} corpus tracks ({share:.1f} % have audio "
                f"features; the {self.with_features - self.scored:,} you know left out)")
        if self.run_id is not None:
            text += f" at train time (run {self.run_id}), which kept its top {len(self.track_ids):,}"
        if self.with_features < self.corpus_tracks:
            text += "; `tastebot corpus features` fetches the missing features"
        return text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TasteScan":
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def scan_corpus_taste(store, model, known_ids: set[str], keep: int = TASTE_SHORTLIST,
                      batch: int = TASTE_BATCH, chunk: int = 50_000) -> dict[str, Any] | None:
    """`tastebot train`'s scan: the taste model over every unheard corpus track with audio features,
    `chunk` corpus tracks at a time with a running top (a whole-MPD corpus never sits in memory at
    once). When more than `keep` were scored, returns the TasteScan (top `keep` ids, best first) to
    save with the run (models/runs.py); None on a corpus small enough for recommend to scan itself."""
    all_ids = store.corpus_track_ids()
    best_ids: list[str] = []
    best_scores = np.zeros(0)
    scored = n_features = 0
    for start in range(0, len(all_ids), chunk):
        tracks = store.corpus_tracks_frame(all_ids[start : start + chunk], with_features=True)
        n_features += len(tracks)
        tracks = tracks[~tracks["track_id"].isin(known_ids)]
        if not len(tracks):
            continue
        scored += len(tracks)
        ids = best_ids + tracks["track_id"].tolist()
        scores = np.concatenate([best_scores, _taste_scores(model, tracks, batch)])
        top = np.argsort(-scores, kind="stable")[:keep]
        best_ids, best_scores = [ids[i] for i in top], scores[top]
    if scored <= keep:
        return None
    return TasteScan(scored=scored, with_features=n_features, corpus_tracks=len(all_ids), track_ids=best_ids).as_dict()


def _taste_scores(model, tracks: pd.DataFrame, batch: int) -> np.ndarray:
    return np.concatenate([np.asarray(model.predict(tracks.iloc[s : s + batch]), dtype=float)
                           for s in range(0, len(tracks), batch)])


class TasteRetriever:
    name = "taste"
    switch = "use_corpus"  # it scans the corpus: off with --no-corpus
    needs_client = False
    said_when_off = None
    labels = {"taste": "the taste model's pick"}

    def retrieve(self, ctx) -> None:
        if ctx.model is not None:
            _, ctx.sources["taste"] = gather_taste(ctx.store, ctx.model, ctx.known, ctx.pool, ctx.options.per_source)


RETRIEVER = TasteRetriever()
