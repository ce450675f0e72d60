"""The Accounts service: GET/POST /authorize (PKCE consent) and POST /api/token.

Rules follow Spotify's as of 2025-11: redirect URIs must be https or http on a loopback IP literal
(127.0.0.1 or [::1], any port); `localhost` is refused. Codes are single use and live 10 minutes;
refresh tokens die `refresh_ttl` seconds after the first authorization (refreshing never extends them).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from tastebot.sandbox.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from tastebot.sandbox.server import Sandbox

CODE_TTL_S = 600
LOOPBACK_HOSTS = {"127.0.0.1", "::1"}
INSECURE = "INVALID_CLIENT: Insecure redirect URI"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def redirect_uri_problem(uri: str) -> str | None:
    """Spotify's error text for a redirect URI it refuses, or None when it is acceptable."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "INVALID_CLIENT: Invalid redirect URI"
    if not parts.scheme or not host:
        return "INVALID_CLIENT: Invalid redirect URI"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http":
        return None if host in LOOPBACK_HOSTS else INSECURE
    # Custom schemes are allowed for native apps, but not for a loopback-server tool; keep Spotify's rule.
    return None if parts.scheme not in {"ftp", "file", "javascript", "data"} else "INVALID_CLIENT: Invalid redirect URI"


def _error_page(status: int, text: str) -> Response:
    page = (f"<!doctype html><html><head><title>Error</title></head><body><h1>Oops! Something went wrong</h1>"
            f"<p>{html.escape(text)}</p></body></html>")
    return Response(status, page, content_type="text/html; charset=utf-8")


def _with_query(uri: str, params: dict[str, str]) -> str:
    sep = "&" if urlsplit(uri).query else "?"
    return uri + sep + urlencode(params)


class Accounts:
    def __init__(self, sandbox: "Sandbox"):
        self.sb = sandbox
        self.state = sandbox.state

    # -- /authorize ------------------------------------------------------------------------------

    def authorize(self, req: Request) -> Response:
        params = dict(req.form()) if req.method == "POST" else {}
        for key, values in req.query.items():
            params.setdefault(key, values[0])
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if not client_id:
            return _error_page(400, "INVALID_CLIENT: Invalid client")
        if not redirect_uri:
            return _error_page(400, "INVALID_CLIENT: Invalid redirect URI")
        problem = redirect_uri_problem(redirect_uri)
        if problem:
            return _error_page(400, problem)
        state = params.get("state")

        def back(extra: dict[str, str]) -> Response:
            if state is not None:
                extra = {**extra, "state": state}
            return self._redirect(req, _with_query(redirect_uri, extra))

        if params.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            # This sandbox has no client secrets: PKCE (S256) is the only way in.
            return back({"error": "invalid_request", "error_description": "code_challenge_method must be S256 with a code_challenge"})

        decision = params.get("decision")
        auto = params.get("auto_approve") in {"1", "true", "yes"} or "application/json" in (req.headers.get("Accept") or "")
        if decision == "deny":
            return back({"error": "access_denied"})
        if decision == "approve" or auto:
            code = secrets.token_urlsafe(48)
            with self.state.lock:
                self.state.codes[code] = {
                    "client_id": client_id, "redirect_uri": redirect_uri,
                    "challenge": params["code_challenge"], "scope": params.get("scope", ""),
                    "expires_at": time.time() + CODE_TTL_S,
                }
            return back({"code": code})
        return self._consent_page(params)

    def _redirect(self, req: Request, location: str) -> Response:
        body: Any = None
        if "application/json" in (req.headers.get("Accept") or ""):
            body = {"redirect": location}
        else:
            body = f'<!doctype html><html><body><a href="{html.escape(location)}">Continue</a></body></html>'
        return Response(302, body, headers={"Location": location})

    def _consent_page(self, params: dict[str, str]) -> Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items() if k not in {"decision", "auto_approve"}
        )
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split() if s)
        user = self.state.users.get(self.state.listener_id, {})
        page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>tastebot sandbox: authorize</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
<p><strong>This is the tastebot sandbox, a local test server. It is not Spotify.</strong></p>
<h1>Allow access?</h1>
<p>App <code>{html.escape(params.get('client_id', ''))}</code> asks to use the sandbox account of
<strong>{html.escape(str(user.get('display_name') or self.state.listener_id))}</strong> with these scopes:</p>
<ul>{scopes or '<li>(none)</li>'}</ul>
<form method="post" action="/authorize">{hidden}
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form></body></html>"""
        return Response(200, page, content_type="text/html; charset=utf-8")

    # -- /api/token ------------------------------------------------------------------------------

    def token(self, req: Request) -> Response:
        form = req.form()
        grant = form.get("grant_type")
        client_id = form.get("client_id") or self._basic_client_id(req)
        if grant == "authorization_code":
            return self._exchange_code(form, client_id)
        if grant == "refresh_token":
            return self._refresh(form, client_id)
        if not grant:
            raise self._oauth_error("invalid_request", "grant_type must be provided")
        raise self._oauth_error("unsupported_grant_type", "grant_type parameter is invalid")

    @staticmethod
    def _basic_client_id(req: Request) -> str | None:
        auth = req.headers.get("Authorization") or ""
        if not auth.startswith("Basic "):
            return None
        try:
            return base64.b64decode(auth[6:]).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return None

    @staticmethod
    def _oauth_error(error: str, description: str, status: int = 400) -> ApiError:
        return ApiError(status, description, body={"error": error, "error_description": description})

    def _exchange_code(self, form: dict[str, str], client_id: str | None) -> Response:
        if not client_id:
            raise self._oauth_error("invalid_client", "Invalid client")
        code = form.get("code", "")
        with self.state.lock:
            record = self.state.codes.pop(code, None)  # single use, even when the exchange fails
        if record is None:
            raise self._oauth_error("invalid_grant", "Invalid authorization code")
        if time.time() > record["expires_at"]:
            raise self._oauth_error("invalid_grant", "Authorization code expired")
        if record["client_id"] != client_id:
            raise self._oauth_error("invalid_client", "Invalid client")
        if form.get("redirect_uri") != record["redirect_uri"]:
            raise self._oauth_error("invalid_grant", "Invalid redirect URI")
        verifier = form.get("code_verifier")
        if not verifier:
            raise self._oauth_error("invalid_request", "code_verifier required")
        if s256(verifier) != record["challenge"]:
            raise self._oauth_error("invalid_grant", "code_verifier was incorrect")
        refresh = secrets.token_urlsafe(64)
        with self.state.lock:
            self.state.refresh_tokens[refresh] = {
                "client_id": client_id, "scope": record["scope"], "first_auth_at": time.time(),
                "revoked": False, "refreshes": 0,
            }
        answer = self._issue_access(client_id, record["scope"])
        answer["refresh_token"] = refresh
        return Response(200, answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _refresh(self, form: dict[str, str], client_id: str | None) -> Response:
        if not client_id:
            raise self._oauth_error("invalid_client", "Invalid client")
        refresh = form.get("refresh_token", "")
        refresh_ttl = self.sb.faults.config.refresh_ttl
        with self.state.lock:
            record = self.state.refresh_tokens.get(refresh)
            if record is None:
                raise self._oauth_error("invalid_grant", "Invalid refresh token")
            if record["revoked"]:
                raise self._oauth_error("invalid_grant", "Refresh token revoked")
            if refresh_ttl is not None and time.time() - record["first_auth_at"] > refresh_ttl:
                raise self._oauth_error("invalid_grant", "Refresh token expired")
            if record["client_id"] != client_id:
                raise self._oauth_error("invalid_client", "Invalid client")
            record["refreshes"] += 1
            answer = self._issue_access(client_id, record["scope"])
            # Spotify may leave refresh_token out of a refresh answer (then the old one stays
            # good); here every odd refresh leaves it out, every even one hands out a new one
            # with the same first-authorization time.
            if record["refreshes"] % 2 == 0:
                new = secrets.token_urlsafe(64)
                self.state.refresh_tokens[new] = {**record, "refreshes": 0}
                answer["refresh_token"] = new
        return Response(200, answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _issue_access(self, client_id: str, scope: str) -> dict[str, Any]:
        ttl = self.sb.faults.config.token_ttl
        token = secrets.token_urlsafe(96)
        with self.state.lock:
            self.state.access_tokens[token] = {
                "client_id": client_id, "scope": scope, "expires_at": time.time() + ttl,
                "user_id": self.state.listener_id,
            }
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(round(ttl)), "scope": scope}

    # -- bearer check for the Web API ----------------------------------------------------------

    def check_bearer(self, req: Request) -> dict[str, Any]:
        def unauthorized(message: str) -> ApiError:
            challenge = f'Bearer realm="spotify", error="invalid_token", error_description="{message}"'
            return ApiError(401, message, headers={"WWW-Authenticate": challenge})

        auth = req.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise unauthorized("No token provided")
        with self.state.lock:
            record = self.state.access_tokens.get(auth[7:].strip())
        if record is None:
            raise unauthorized("Invalid access token")
        if time.time() >= record["expires_at"]:
            raise unauthorized("The access token expired")
        return record

    def revoke_refresh_tokens(self) -> int:
        with self.state.lock:
            for record in self.state.refresh_tokens.values():
                record["revoked"] = True
            return len(self.state.refresh_tokens)

    def expire_access_tokens(self) -> int:
        now = time.time()
        with self.state.lock:
            for record in self.state.access_tokens.values():
                record["expires_at"] = min(record["expires_at"], now - 1)
            return len(self.state.access_tokens)
