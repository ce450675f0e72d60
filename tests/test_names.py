"""tastebot.names: the one home of the title and artist normalisers; each variant keeps its own rule
(the library's stored key keeps "the" and "&", discovery's reads "&" as "and", the scorer's drops "the")."""

from __future__ import annotations

from tastebot.names import (
    corpus_artist_key, corpus_artist_keys, library_artist_key, loose_artist_name, normalise_title, title_artist_key,
)


def test_the_library_key_folds_versions_and_keeps_the_artist_as_written():
    assert title_artist_key("Yesterday - Remastered 2009", "The Beatles") == "yesterday|the beatles"
    assert title_artist_key("Corazón (feat. X)", "Ana Díaz") == "corazon|ana diaz"
    assert title_artist_key("(Intro)", "Someone") is None
    assert normalise_title("Song ft. Other") == "song"
    assert library_artist_key("Simon & Garfunkel") == "simon garfunkel"
    assert library_artist_key(None) is None


def test_the_variants_differ_on_purpose():
    assert loose_artist_name("The Beatles") == "beatles"
    assert loose_artist_name("Simon & Garfunkel") == "simon and garfunkel"
    assert corpus_artist_key("The Beatles") == "beatles"
    assert corpus_artist_key("Simon & Garfunkel") == "simon garfunkel"
    assert corpus_artist_key(float("nan")) is None and corpus_artist_key("!!") is None
    assert list(corpus_artist_keys(["Beyoncé", None, "The The"])) == ["beyonce", None, "the"]
