"""The retrievers: every way a candidate the listener has not heard comes into the pool, one module
each, all of one shape (`Retriever`), each tag it puts on a candidate with its words for "why".

Adding one: write `tastebot/recommend/retrievers/<name>.py` ending in `RETRIEVER = ...` (the shape
below), and list its name once in REGISTERED (the order they run in). Its switch is a
`RecommendOptions` flag (and a `--no-...` option of `tastebot recommend`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from tastebot.known import Known
from tastebot.recommend.candidates import CandidatePool

REGISTERED = ("corpus", "taste", "search", "albums", "discovery")


@dataclass
class RetrievalContext:
    """What every retriever may read: the run's settings, store, Spotify client (None offline),
    options, the likes, the taste model (None without one), the collaborative scorer, what the
    listener knows; and where it writes: the pool, `sources` (what each source did) and warnings."""

    settings: Any
    store: Any
    client: Any
    options: Any  # tastebot.recommend.run.RecommendOptions
    likes: pd.DataFrame
    model: Any
    scorer: Any
    known: Known
    pool: CandidatePool
    sources: dict[str, str]
    warnings: list[str]


class Retriever(Protocol):
    name: str                   # its name in REGISTERED and in `sources`
    switch: str                 # the RecommendOptions flag that turns it on
    needs_client: bool          # asks Spotify: not run offline
    said_when_off: str | None   # what `sources[name]` says when its switch is off (None: nothing)
    labels: dict[str, str]      # each tag it puts on candidates -> the words "why" uses

    def retrieve(self, ctx: RetrievalContext) -> None: ...


def registered() -> list[Retriever]:
    out = []
    for name in REGISTERED:
        retriever = importlib.import_module(f"tastebot.recommend.retrievers.{name}").RETRIEVER
        if retriever.name != name:
            raise TypeError(f"tastebot.recommend.retrievers.{name}.RETRIEVER is named {retriever.name!r}")
        out.append(retriever)
    return out


def labels() -> dict[str, str]:
    """Every retriever's tags with their words for "why"."""
    return {tag: words for r in registered() for tag, words in r.labels.items()}


def gather(ctx: RetrievalContext) -> None:
    """Every retriever whose switch is on (and, for those that ask Spotify, with a client) fills the pool."""
    for retriever in registered():
        if ctx.client is None and retriever.needs_client:
            continue
        if not getattr(ctx.options, retriever.switch):
            if retriever.said_when_off:
                ctx.sources[retriever.name] = retriever.said_when_off
            continue
        retriever.retrieve(ctx)
