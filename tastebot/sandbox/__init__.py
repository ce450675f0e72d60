"""A local stand-in for Spotify's Accounts service, Web API and ReccoBeats: the offline demo and
the ground every test stands on. It is a test server: it binds loopback only and holds no real data.
"""

from tastebot.sandbox.format import load_catalog, validate_catalog
from tastebot.sandbox.generator import generate_catalog
from tastebot.sandbox.server import Sandbox

__all__ = ["Sandbox", "generate_catalog", "load_catalog", "validate_catalog"]
