"""`corpus:cooc|share|factors|artist`: the imported corpus's tracks that share the most playlists with
the likes, that sit in the playlists most made of likes, nearest the likes' profile in the factor
space, and by the artists the listener likes most (tastebot.models.retrieval)."""

from __future__ import annotations

from tastebot.known import Known
from tastebot.models.retrieval import corpus_top
from tastebot.recommend.candidates import CandidatePool, add_corpus_ids

CORPUS_RETRIEVERS = (("cooc", "corpus:cooc"), ("share", "corpus:share"), ("factor", "corpus:factors"),
                     ("artist", "corpus:artist"))


def gather_corpus(store, scorer, known: Known, pool: CandidatePool, per_source: int) -> dict[str, int]:
    """The corpus retrievers: the top `per_source` unknown corpus tracks by co-occurrence with the
    likes, by factor nearness to the likes' profile, and by the artists the listener likes."""
    found = {}
    for kind, tag in CORPUS_RETRIEVERS:
        ids = corpus_top(scorer, kind, per_source, known.track_ids)
        add_corpus_ids(store, pool, ids, tag)
        found[tag] = len(ids)
    return found


class CorpusRetriever:
    name = "corpus"
    switch = "use_corpus"
    needs_client = False
    said_when_off = None
    labels = {"corpus:cooc": "in playlists with your likes", "corpus:share": "in playlists made of your likes",
              "corpus:factors": "near your likes in the playlist corpus", "corpus:artist": "by an artist you like"}

    def retrieve(self, ctx) -> None:
        found = gather_corpus(ctx.store, ctx.scorer, ctx.known, ctx.pool, ctx.options.per_source)
        stats = ctx.store.corpus_stats()
        if any(found.values()):
            ctx.sources["corpus"] = "used"
        elif stats["playlists"]:
            ctx.sources["corpus"] = (f"the corpus has {stats['playlists']} playlists and none shares a track or "
                                     "artist with your likes")
        else:
            ctx.sources["corpus"] = "empty: import one with `tastebot corpus import`"


RETRIEVER = CorpusRetriever()
