"""What every step of one harvest shares: the options, the progress hooks, each source's result,
and the context (settings, gateway, store, who is logged in) a step reads and writes through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from tastebot.vocab import CORPUS_HARVEST_REQUESTS
from tastebot.spotify.client import EndpointUnavailable, PlaylistNotFound, PlaylistRefused
from tastebot.spotify.refs import parse_playlist_ref


@dataclass
class HarvestOptions:
    full: bool = False
    like_playlists: tuple[str, ...] = ()
    dislike_playlists: tuple[str, ...] = ()
    sampled_negatives: str = "auto"
    seed: int = 0                   # the draw of sampled negatives: same library + same seed = same sample
    corpus_feature_requests: int = CORPUS_HARVEST_REQUESTS  # bound on the corpus tracks' features (0: none)

    def as_dict(self) -> dict[str, Any]:
        return {"full": self.full, "like_playlists": list(self.like_playlists),
                "dislike_playlists": list(self.dislike_playlists), "sampled_negatives": self.sampled_negatives,
                "seed": self.seed, "corpus_feature_requests": self.corpus_feature_requests}


@dataclass
class SourceResult:
    name: str
    status: str = "used"            # used | skipped | failed
    detail: str = ""
    items: int = 0                  # items read from Spotify (this run)
    new: int = 0                    # new signals (this run)
    requests: int = 0


class Reporter:
    """Progress hooks; the CLI shows them with rich. The default does nothing."""

    def start(self, source: str, description: str, total: int | None = None) -> None: ...
    def advance(self, source: str, n: int = 1, total: int | None = None) -> None: ...
    def finish(self, source: str, note: str = "") -> None: ...
    def notice(self, text: str) -> None: ...


def parse_playlist_refs(refs: Iterable[str]) -> list[str]:
    """Playlist ids from URIs, links or bare ids; the first bad one is an InputError."""
    return list(dict.fromkeys(parse_playlist_ref(r) for r in refs if r and str(r).strip()))


@dataclass
class HarvestContext:
    """One harvest's shared state. `user_id` and `app_kind` are set once the run knows who is logged in."""

    settings: Any
    client: Any                     # tastebot.spotify.SpotifyClient
    store: Any                      # tastebot.store.Store
    options: HarvestOptions
    reporter: Reporter
    like_ids: list[str] = field(default_factory=list)
    dislike_ids: list[str] = field(default_factory=list)
    user_id: str = ""
    app_kind: str = ""
    results: list[SourceResult] = field(default_factory=list)

    def run_source(self, name: str, fn: Callable[[SourceResult], None]) -> SourceResult:
        """Run one source; a refusal that only concerns it is reported and the harvest goes on."""
        result = SourceResult(name)
        before = self.client.request_count
        self.results.append(result)
        try:
            fn(result)
        except (PlaylistRefused, PlaylistNotFound, EndpointUnavailable) as exc:
            result.status, result.detail = "skipped", exc.message
            self.reporter.notice(f"{name} skipped: {exc.message}")
        finally:
            result.requests = self.client.request_count - before
        self.reporter.finish(name, result.detail)
        return result
