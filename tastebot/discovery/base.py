"""What every discovery provider deals in: the listener's seed artists, the artists a provider relates
to them, and those artists' tracks; plus the provider interface and the request cache.

A provider answers two questions by name or by its own ids, never with anything about the listener:
`related(seed, limit)` (artists like this one, best first) and `tracks(artist, limit)` (that
artist's best-known tracks, with the ISRC where the provider has one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from tastebot.errors import DiscoveryError, RateLimited
from tastebot.providers.openhttp import OpenService

CACHE_DAYS = 14.0  # provider answers change slowly; a second run within this asks nothing


@dataclass(frozen=True)
class Seed:
    """One of the listener's artists discovery starts from; `why` completes 'whom you ...'."""

    name: str
    spotify_id: str | None
    why: str  # "whom you play a lot" | "whom you like" | "whom you follow"


@dataclass(frozen=True)
class RelatedArtist:
    name: str
    ref: Any            # the provider's handle for the artist: its id, or the name
    seed: Seed
    rank: int           # 0 = the provider's closest to the seed


@dataclass(frozen=True)
class SuggestedTrack:
    title: str
    artist: str
    isrc: str | None
    related: RelatedArtist
    ref: Any = None     # the provider's track id, to read its ISRC when a list left it out


@dataclass
class ProviderOutcome:
    """One provider's part in a run, for the summary and --json."""

    status: str = "used"            # used | off | failing
    reason: str | None = None
    seeds_found: int = 0            # seed artists the provider knew
    artists: int = 0                # new artists it related to them
    suggested: int = 0              # tracks it suggested
    known: int = 0                  # of which the listener already knows (never-heard rule)
    matched: int = 0                # found on Spotify
    unmatched: int = 0
    requests: int = 0               # provider requests sent (cached answers cost none)
    cached: int = 0

    def line(self) -> str:
        if self.status == "off":
            return f"off ({self.reason})"
        body = (f"{self.artists} new artists related to {self.seeds_found} of yours, {self.matched} of their tracks "
                f"found on Spotify ({self.unmatched} not found, {self.known} you know); {self.requests} requests, "
                f"{self.cached} from the cache")
        if self.status == "failing":
            return f"failing: {self.reason} (kept what came before: {body})"
        return f"used: {body}"

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class Provider:
    """A discovery provider. Subclasses set `name` and `label`, say in their module docstring what
    they send, and implement `related` and `tracks`; `get` is their one way out: cached, bounded,
    the shared retry policy. Where it is asked: `public_url` (and `sandbox_path`, where the sandbox
    serves it), or `base` overridden; `off_reason` says why it cannot run with these settings.

    Adding one: a module tastebot/discovery/<name>.py whose `PROVIDER` is the subclass, and its name
    in `settings.DISCOVERY_PROVIDERS` (the order they are asked)."""

    name = ""
    label = ""
    public_url = ""
    sandbox_path = ""

    @classmethod
    def base(cls, settings) -> str:
        """The API base this provider asks, without a trailing slash."""
        return settings.open_service_url(None, cls.public_url, cls.sandbox_path)

    @classmethod
    def off_reason(cls, settings) -> str | None:
        """Why the provider cannot run with these settings (a missing key, say); None: it can."""
        return None

    def __init__(self, settings, store, http: OpenService):
        self.settings = settings
        self.store = store
        self.http = http
        self.outcome = ProviderOutcome()

    def related(self, seed: Seed, limit: int) -> list[RelatedArtist]:
        raise NotImplementedError

    def tracks(self, artist: RelatedArtist, limit: int) -> list[SuggestedTrack]:
        raise NotImplementedError

    def isrc(self, track: SuggestedTrack) -> str | None:
        """The ISRC of a suggested track the list gave without one (None: the provider has none)."""
        return track.isrc

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, secret: Mapping[str, Any] | None = None) -> Any:
        """The answer to GET path?params: from the store when fresh, else asked (and cached once it is
        an answer, not an error). `secret` params (an API key) are sent but never stored."""
        # keyed by the whole address (another server's answers are other data), without the secrets
        request = self.http.base + path + ("?" + "&".join(f"{k}={params[k]}" for k in sorted(params)) if params else "")
        cached = self.store.cached_answer(self.name, request, max_age_days=CACHE_DAYS)
        if cached is not None:
            self.outcome.cached += 1
            return cached
        before = self.http.request_count
        try:
            answer = self.fetch(path, {**(params or {}), **(secret or {})})
        except RateLimited as exc:  # an optional service asking for a long pause: go on without it
            raise DiscoveryError(f"{self.label} is rate-limiting tastebot and asks for a pause longer than "
                                 f"--max-wait ({exc.retry_after:g} s)", endpoint=self.name) from None
        finally:
            self.outcome.requests += self.http.request_count - before
        if answer is not None:
            self.store.cache_answer(self.name, request, answer)
        return answer

    def fetch(self, path: str, params: Mapping[str, Any]) -> Any:
        """Send one request: the answer when it is one, None when it says 'not found'; raise
        DiscoveryError when it is an error (providers that answer errors with HTTP 200 override it)."""
        return self.http.get_json(path, params)


def need(answer: Any, kind: type, what: str, provider: Provider) -> Any:
    """`answer` when it has the expected shape, else a DiscoveryError naming what was wrong."""
    if not isinstance(answer, kind):
        raise DiscoveryError(f"{provider.label} answered {what} with something unexpected ({type(answer).__name__}).",
                             endpoint=provider.name)
    return answer

