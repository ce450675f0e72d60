"""Everything that speaks to Spotify, one job a module (import the module you need; this face imports
nothing, so reading a link never loads the gateway):

- `client`: `SpotifyClient`, the gateway (the only user of spotipy's Web API client);
- `refs`: ids, URIs and links (`parse_playlist_ref`, `parse_spotify_ref`, `playlist_item_track`);
- `auth`: the API's auth manager (PKCE, refreshed ahead of expiry, never a prompt);
- `login_state`: login.json and the client id's two readers;
- `callback`: the login's loopback callback server and pasted addresses;
- `login`: `login`, `status`, `logout`;
- `tokens`: the token cache (keyring, 0600 file fallback).
"""
