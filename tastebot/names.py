"""Every title and artist normaliser and key: one home, each variant named for its use. Pure.

The rules differ on purpose and are kept exactly as they were (so no stored key changes):

| function | used for | rule |
|---|---|---|
| `fold_text` | the base of the library's keys | accents dropped (NFKD), lower case |
| `normalise_title` | one song under its version marks (library, discovery's checked match) | folded; brackets, "- Remastered 2011"-style suffixes and "feat. X" dropped; punctuation to spaces |
| `title_artist_key` | the library's "same song" key, stored in `tracks` and `history_items` (`title_artist_key` columns) and matched by known.py | `normalise_title` + "\\|" + the folded artist, punctuation to spaces; keeps "the" and "&" |
| `library_artist_key` | the artist half of `title_artist_key` (known.py's excluded and known artists by name) | as above |
| `loose_artist_name` | discovery: an open service's artist against the listener's (Deezer, Last.fm, Spotify matches) | folded, "&" = "and", punctuation to spaces, a leading "the" dropped |
| `corpus_artist_key` / `corpus_artist_keys` | the collaborative scorer's artists (corpus and library tracks by artist name) | ASCII-folded, lower case, punctuation to spaces, a leading "the" dropped, None when empty; cached for one name, a plain loop for many |

So "The Beatles" is `the beatles` in the library's key and `beatles` for discovery and the scorer, and
"Simon & Garfunkel" is `simon and garfunkel` only for discovery. Unifying them would change stored keys
(a store migration) and what matches; that is a separate change with its own measurement.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

import numpy as np

__all__ = [
    "fold_text", "normalise_title", "title_artist_key", "library_artist_key",
    "loose_artist_name", "corpus_artist_key", "corpus_artist_keys",
]

# --------------------------------------------------------------------------------------------------
# The library's keys (stored: tracks.title_artist_key, history_items.title_artist_key)
# --------------------------------------------------------------------------------------------------

_BRACKETS = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]")
_VERSION_SUFFIX = re.compile(
    r"\s+-\s+.*\b(remaster\w*|live|version|edit|mix|mono|stereo|feat\.?|radio|acoustic|demo|deluxe|bonus|single)\b.*$"
)
_FEAT = re.compile(r"\s+(feat\.?|ft\.?|featuring)\s+.*$")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold_text(text: str) -> str:
    """Accents and case folded: 'Beyoncé' -> 'beyonce'."""
    if text.isascii():  # NFKD leaves ASCII as it is, with no combining marks: most names, 10x faster
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def normalise_title(title: str | None) -> str:
    """'Song (feat. X) - Remastered 2011' -> 'song': the version marks that hide one song."""
    t = fold_text(title or "")
    t = _BRACKETS.sub(" ", t)
    t = _VERSION_SUFFIX.sub("", t)
    t = _FEAT.sub("", t)
    return _NON_WORD.sub(" ", t).strip()


def title_artist_key(title: str | None, artist_name: str | None) -> str | None:
    """Normalised title + primary artist, e.g. 'yesterday|the beatles'; None when either is empty."""
    t = normalise_title(title)
    a = _NON_WORD.sub(" ", fold_text(artist_name or "")).strip()
    if not t or not a:
        return None
    return f"{t}|{a}"


def library_artist_key(name) -> str | None:
    """The artist half of `title_artist_key` ('the beatles'); None for no name."""
    key = title_artist_key("x", name) if isinstance(name, str) else None
    return key.split("|", 1)[1] if key else None


# --------------------------------------------------------------------------------------------------
# Discovery's artist names (open services against the listener's artists)
# --------------------------------------------------------------------------------------------------

def loose_artist_name(name: str | None) -> str:
    """An artist name as the services compare it: no accents or case, '&' = 'and', no leading
    'the' ('The Beatles' = 'beatles' = 'BEATLES'; 'Beyoncé' = 'beyonce')."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", " and ")
    text = _NON_WORD.sub(" ", text).strip()
    return text[4:] if text.startswith("the ") else text


# --------------------------------------------------------------------------------------------------
# The collaborative scorer's artists (models/collab.py)
# --------------------------------------------------------------------------------------------------

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def corpus_artist_key(name: object) -> str | None:
    """Lower case, accents and punctuation removed, a leading "the" dropped."""
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return None
    return _corpus_artist_key(str(name))


@lru_cache(maxsize=200_000)
def _corpus_artist_key(name: str) -> str | None:
    # NFKD is the identity on ASCII, which most names are: skipping it halves the time.
    s = name if name.isascii() else unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = _NOT_ALNUM.sub(" ", s.lower()).strip()
    if s.startswith("the "):
        s = s[4:]
    return s or None


def corpus_artist_keys(names) -> np.ndarray:
    """`corpus_artist_key` over many names at once; an object array with None where there is no name.
    (A plain loop over the uncached function: twice as fast as pandas' string methods, and a cache
    would only churn on the two million names of a whole-MPD corpus.)"""
    norm = _corpus_artist_key.__wrapped__
    out = np.empty(len(names), dtype=object)
    out[:] = [norm(v) if v.__class__ is str else corpus_artist_key(v) for v in names]
    return out
