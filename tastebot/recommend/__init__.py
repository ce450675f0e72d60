"""Recommending, one job a module: `candidates` (the retrievers and the candidate frame), `steering`
(moods, ranges, seed tracks), `pick` (the blend's shortlist, MMR and the per-artist cap), `explain`
(the rows and their reasons), `playlist` (writing and refreshing tastebot's playlists) and `run` (one
whole run: `recommend`, and `recommend_to_playlist`, which the CLI and the demo call)."""

from tastebot.recommend.run import (Delivery, PlaylistTarget, RecommendOptions, RecommendResult, recommend,
                                    recommend_to_playlist, recommendation_record, score_candidates)

__all__ = ["Delivery", "PlaylistTarget", "RecommendOptions", "RecommendResult", "recommend", "recommend_to_playlist",
           "recommendation_record", "score_candidates"]
