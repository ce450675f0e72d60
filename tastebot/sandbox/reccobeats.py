"""ReccoBeats' audio-features endpoint as tastebot meets it: /reccobeats/v1/audio-features?ids=.

Its quirks, kept on purpose: each answer has ReccoBeats' own uuid as `id` and the Spotify id only at
the end of `href`; unknown ids (and tracks it has no features for) are silently left out; the answer
order is not the request order; no `time_signature`; `key` is -1 when unknown; more than 40 ids is a 400;
over its own rate limit (the fault option `reccobeats_rate_limit`), a 429 with Retry-After in Spring's
error shape. Every catalogue track with features is served by its Spotify id, corpus tracks included.
"""

from __future__ import annotations

import random
import uuid
import zlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from tastebot.sandbox.wire import ApiError, Request, Response
from tastebot.vocab import AUDIO_FEATURES

if TYPE_CHECKING:
    from tastebot.sandbox.server import Sandbox

MAX_IDS = 40
# ReccoBeats answers every audio feature but time_signature, in alphabetical order.
FEATURES = tuple(sorted(set(AUDIO_FEATURES) - {"time_signature"}))
_NAMESPACE = uuid.UUID("6f1c1f7e-3d0a-4c53-9a55-2b8e1d3f0a11")


class ReccoBeatsError(ApiError):
    """ReccoBeats is a Spring service: its errors are Spring's JSON, not Spotify's."""

    def __init__(self, status: int, error: str, message: str, path: str):
        super().__init__(status, message, body={
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+00:00"),
            "status": status, "error": error, "message": message, "path": path,
        })


class ReccoBeats:
    def __init__(self, sandbox: "Sandbox"):
        self.state = sandbox.state

    @staticmethod
    def too_many_requests(path: str, retry_after: int) -> Response:
        body = ReccoBeatsError(429, "Too Many Requests", "Rate limit exceeded", path.removeprefix("/reccobeats")).body()
        return Response(429, body, headers={"Retry-After": str(retry_after)})

    def audio_features(self, req: Request) -> Response:
        path = "/v1/audio-features"
        raw = req.arg("ids") or ""
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        if not ids:
            raise ReccoBeatsError(400, "Bad Request", "Required parameter 'ids' is not present.", path)
        if len(ids) > MAX_IDS:
            raise ReccoBeatsError(400, "Bad Request", f"Size of ids must be between 1 and {MAX_IDS}", path)
        content = []
        for sid in dict.fromkeys(ids):
            features = self.state.features.get(sid)
            if sid not in self.state.tracks or not features:
                continue
            obj = {"id": str(uuid.uuid5(_NAMESPACE, sid)), "href": f"https://open.spotify.com/track/{sid}"}
            for name in FEATURES:
                value = features.get(name)
                if value is not None:
                    obj[name] = value
            obj.setdefault("key", -1)
            content.append(obj)
        # Not in request order; the same request always gets the same order.
        random.Random(zlib.crc32(",".join(ids).encode())).shuffle(content)
        return Response(200, {"content": content})
