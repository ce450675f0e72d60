"""The open services and files beside Spotify that tastebot reads facts from (import the module; this
face imports nothing):

- `openhttp`: `OpenService`, JSON GET with the one `RetryPolicy` (tastebot.httpsession), for every
  open service (ReccoBeats here, Deezer and Last.fm in tastebot.discovery);
- `reccobeats`: the ReccoBeats client (audio features by Spotify id);
- `audio_features`: `FeatureChain`, the audio-feature providers in order, and the CSV import.
"""
