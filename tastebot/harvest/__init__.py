"""The harvest: the listener's likes and dislikes, with metadata and audio features, into the store.

Sources (weights are data, in `signals.SOURCES`; docs/harvest.md explains each):
  likes     saved tracks, top tracks (3 time ranges), the last 50 plays (`sources`), the user's own
            playlists, playlists named with --like-playlist, tastebot playlists' tracks the user
            saved (`playlists`);
  dislikes  playlists named with --dislike-playlist, own playlists named as dislike lists
            ("Not for me", "Dislikes", ...), tracks the user removed from a tastebot playlist (`playlists`);
  weak      sampled negatives: random tracks the user shows no sign of knowing (--sampled-negatives,
            `sampling`).
Then artist genres and audio features (`enrichment`); `run` holds the order, the run's record and
its summary; `context` what the steps share.

Every page is committed together with its bookkeeping (cursors, resume offsets, snapshot ids), so a
harvest killed at any moment leaves a consistent store and the next run continues where it stopped.
Incremental by default: saved tracks stop at the first known one, playlists with an unchanged
snapshot_id are not read, recently-played asks only `after` its cursor, features are fetched only
for tracks that lack them. `full=True` re-reads everything.
"""

from tastebot.harvest.context import HarvestOptions, Reporter, SourceResult, parse_playlist_refs
from tastebot.harvest.run import Harvester, HarvestSummary, run_harvest
from tastebot.harvest.signals import DISLIKE_NAME, SOURCE_LABELS, SOURCES, TIME_RANGES, Source, source_label

__all__ = [
    "DISLIKE_NAME", "SOURCES", "SOURCE_LABELS", "TIME_RANGES", "HarvestOptions", "HarvestSummary", "Harvester",
    "Reporter", "Source", "SourceResult", "parse_playlist_refs", "run_harvest", "source_label",
]
