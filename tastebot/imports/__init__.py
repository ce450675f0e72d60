"""What the listener brings from outside (import the module; this face imports nothing):

- `history`: `tastebot history import`, the listener's own Spotify data export;
- `corpus`: `tastebot corpus import`, other people's playlists (MPD JSON slices, CSV);
- `features_csv`: `tastebot features import`, audio features from a table.
"""
