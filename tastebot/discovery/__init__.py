"""Discovery: new artists without Spotify's help (issue 14).

Spotify no longer tells an app which artists are related, so tastebot asks open services: Deezer's
public API (no key) and, with the user's own API key, Last.fm. For the listener's top and liked
artists each enabled provider names related artists and their best-known tracks; the tracks are found
on Spotify (by ISRC where the provider has one, else by title and artist), the ones the listener
knows are dropped (tastebot.known), and the rest join the candidate pool as `discovery:<provider>`
with the relation in their reasons. See docs/discovery.md.

Modules: `base` (seeds, suggestions, the provider interface and its cached, bounded requests),
`deezer`, `lastfm` (the providers), `match` (a suggestion on Spotify), `chain` (the run).
"""

from tastebot.discovery.base import Provider, ProviderOutcome, RelatedArtist, Seed, SuggestedTrack
from tastebot.discovery.chain import Limits, build_providers, discover, relation

__all__ = ["Limits", "Provider", "ProviderOutcome", "RelatedArtist", "Seed", "SuggestedTrack", "build_providers",
           "discover", "relation"]
