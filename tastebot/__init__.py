"""tastebot: learn one Spotify listener's taste on their own machine."""

__version__ = "0.1.0"
