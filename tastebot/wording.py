"""Small wording helpers shared by the library and the CLI (no printing here)."""

from __future__ import annotations

import math

_IRREGULAR = {"playlist": "playlists", "dislike list": "dislike lists", "match": "matches"}


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """`1 track`, `2 tracks`, `1,200 tracks`: the count and the word in the right number."""
    word = singular if n == 1 else (plural_form or _IRREGULAR.get(singular) or singular + "s")
    return f"{n:,} {word}"


# Internal count names (store label counts, training data kinds) and what a person reads.
COUNT_WORDS: dict[str, str] = {
    "likes": "like",
    "dislikes_explicit": "explicit dislike",
    "dislikes_weak": "sampled (weak) dislike",
    "explicit_like": "like",
    "weak_like": "weak like",
    "explicit_dislike": "explicit dislike",
    "weak_dislike": "sampled (weak) dislike",
}


def counts(values: dict[str, int]) -> str:
    """{"likes": 215, "dislikes_explicit": 1} -> "215 likes, 1 explicit dislike"."""
    return ", ".join(plural(int(n), COUNT_WORDS.get(k, k.replace("_", " "))) for k, n in values.items())


def human_seconds(seconds: float) -> str:
    """A wait as a person reads it: `45 s`, `12 min`, `2.5 h` (rounded up to the second)."""
    seconds = int(math.ceil(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"
