"""Request, response and error types shared by the sandbox's handlers (no HTTP server here)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


class ApiError(Exception):
    """An error answer in Spotify's shape: {"error": {"status": N, "message": "..."}}.

    `message=None` leaves the message out, as Spotify's 403 on audio-features does.
    """

    def __init__(self, status: int, message: str | None = None, *, headers: dict[str, str] | None = None,
                 body: Any = None):
        super().__init__(message or str(status))
        self.status = status
        self.message = message
        self.headers = headers or {}
        self._body = body

    def body(self) -> Any:
        if self._body is not None:
            return self._body
        error: dict[str, Any] = {"status": self.status}
        if self.message is not None:
            error["message"] = self.message
        return {"error": error}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str -> text/html; bytes as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def encode(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", self.content_type or "application/json; charset=utf-8"
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), self.content_type or "text/html; charset=utf-8"
        return (json.dumps(self.body, separators=(",", ":")).encode("utf-8"),
                self.content_type or "application/json; charset=utf-8")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any  # email.message.Message-like: .get(name)
    body: bytes
    base_url: str
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    token: dict[str, Any] | None = None  # the access token's record once checked

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self, *, required: bool = False) -> Any:
        if not self.body or not self.body.strip():
            if required:
                raise ApiError(400, "Error parsing JSON.")
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Error parsing JSON.") from None

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qs

        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """An absolute URL on this sandbox, as Spotify writes `href` and `next`."""
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")


def parse_int(req: Request, name: str, default: int, lo: int, hi: int | None, message: str) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, message) from None
    if value < lo or (hi is not None and value > hi):
        raise ApiError(400, message)
    return value


def parse_limit(req: Request, default: int, hi: int, lo: int = 1) -> int:
    return parse_int(req, "limit", default, lo, hi, "Invalid limit")


def parse_offset(req: Request, hi: int | None = None) -> int:
    return parse_int(req, "offset", 0, 0, hi, "Invalid offset")


def paging(req: Request, path: str, items: list[Any], *, offset: int, limit: int, total: int,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Spotify's offset paging object; `items` is already the page."""
    extra = extra or {}

    def link(off: int) -> str:
        return req.url(path, {**extra, "offset": off, "limit": limit})

    return {
        "href": link(offset),
        "items": items,
        "limit": limit,
        "next": link(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }
