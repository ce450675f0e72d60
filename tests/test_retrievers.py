"""Issue 26: every retriever has one shape, a switch and words for every tag it puts on a candidate,
and adding one is one module plus its name in REGISTERED."""

from __future__ import annotations

import importlib
import pkgutil

from tastebot.recommend import retrievers
from tastebot.recommend.run import RecommendOptions


def test_every_retriever_module_is_registered_once_with_its_own_name():
    modules = {m.name for m in pkgutil.iter_modules(retrievers.__path__)}
    assert modules == set(retrievers.REGISTERED), "a retriever module that is not registered is never run"
    for r in retrievers.registered():
        assert isinstance(getattr(RecommendOptions(), r.switch), bool), r.switch  # its switch is an option
        assert r.labels and all(isinstance(w, str) and w for w in r.labels.values())


def test_a_registered_name_must_match_its_module(monkeypatch):
    import pytest

    search = importlib.import_module("tastebot.recommend.retrievers.search")
    monkeypatch.setattr(search.RETRIEVER, "name", "searching")
    with pytest.raises(TypeError, match="named 'searching'"):
        retrievers.registered()


def _with_corpus(copy_trained, tmp_path):
    from worlds import TRAINED_WORLD

    from tastebot.imports.corpus import import_corpus
    from tastebot.sandbox.format import export_corpus_csv
    from tastebot.sandbox.generator import generate_catalog
    from tastebot.store import open_store

    settings = copy_trained()
    export_corpus_csv(generate_catalog(**TRAINED_WORLD), tmp_path / "corpus.csv")
    with open_store(settings) as store:
        import_corpus(store, [tmp_path / "corpus.csv"])
    return settings


def test_every_tag_of_a_recommendation_has_words_for_why(copy_trained, tmp_path):
    """A tag with no words silently vanished from "why" (issue 26)."""
    from tastebot.recommend import recommend
    from tastebot.store import open_store

    settings = _with_corpus(copy_trained, tmp_path)
    with open_store(settings) as store:
        result = recommend(settings, store, None, RecommendOptions(n=200, max_per_artist=0))
    tags = {t for r in result.recommendations for t in r.sources}
    assert {"corpus:cooc", "taste"} <= tags and tags <= set(retrievers.labels()), tags - set(retrievers.labels())
    assert all(r.why for r in result.recommendations)


def test_a_switched_off_retriever_does_not_run(copy_trained, tmp_path):
    import pytest

    from tastebot.errors import NotEnoughData
    from tastebot.recommend import recommend
    from tastebot.store import open_store

    settings = _with_corpus(copy_trained, tmp_path)
    with open_store(settings) as store, pytest.raises(NotEnoughData, match="No candidate"):
        recommend(settings, store, None, RecommendOptions(n=20, use_corpus=False))  # offline: nothing else runs
