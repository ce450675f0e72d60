"""Small wording helpers shared by the library and the CLI (no printing here)."""

from __future__ import annotations

_IRREGULAR = {"playlist": "playlists", "dislike list": "dislike lists", "match": "matches"}


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """`1 track`, `2 tracks`, `1,200 tracks`: the count and the word in the right number."""
    word = singular if n == 1 else (plural_form or _IRREGULAR.get(singular) or singular + "s")
    return f"{n:,} {word}"
