"""The consent page: where a person signs in with one of the server's keys and lets a client act as it.

It holds no session. What the person is deciding lives in the grant store (`ConsentRequest`, named by
the secret id in the page's URL), so any Lambda execution environment can show the page and any other
can take the answer. The form is protected against cross-site posting twice over: the browser must send
back a cookie the page set (SameSite=Strict, HttpOnly, `__Host-` on https) together with a form token
that is an HMAC of that cookie and this request's id, and a request from another origin is refused
before either is looked at. The page cannot be framed (frame-ancestors 'none', X-Frame-Options), runs
no script, and leaks nothing through Referer.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from collections.abc import Collection
from urllib.parse import urlsplit

from mcp.server.auth.provider import construct_redirect_uri
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from imagegen.domain.oauth import CONSENT_LIFETIME, ClientSource, OAuthError, is_loopback_http
from imagegen.services.oauth import ConsentView, OAuthService, Redirect
from imagegen.web.auth import KeyRing
from imagegen.web.oauth.urls import OAuthUrls

PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
SECURE_COOKIE = "__Host-imagegen-consent"
PLAIN_COOKIE = "imagegen-consent"


class ConsentEndpoints:
    def __init__(
        self, oauth: OAuthService, keyring: KeyRing, urls: OAuthUrls, own_origins: Collection[str]
    ) -> None:
        self._oauth = oauth
        self._keyring = keyring
        self._urls = urls
        self._origins = {origin.rstrip("/").lower() for origin in (urls.origin, *own_origins)}
        self._cookie = SECURE_COOKIE if urls.is_https else PLAIN_COOKIE

    async def handle(self, request: Request) -> Response:
        return await (self._show(request) if request.method == "GET" else self._decide(request))

    async def _show(self, request: Request) -> Response:
        consent_id = request.query_params.get("request", "")
        view = await self._view(consent_id)
        if view is None:
            return _expired()
        nonce = request.cookies.get(self._cookie) or secrets.token_urlsafe(32)
        response = _page(
            f"Connect {view.client.display_name}",
            _form(view, consent_id, _form_token(nonce, consent_id), self._urls),
        )
        response.set_cookie(
            self._cookie,
            nonce,
            max_age=int(CONSENT_LIFETIME.total_seconds()),
            path="/" if self._urls.is_https else urlsplit(self._urls.consent).path,
            secure=self._urls.is_https,
            httponly=True,
            samesite="strict",
        )
        return response

    async def _decide(self, request: Request) -> Response:
        if not self._same_origin(request):
            return _page("Not allowed", "<p>This form can only be sent from this server's own page.</p>", 403)
        form = await request.form()
        consent_id, token, decision, key = (
            str(form.get(name) or "") for name in ("request", "csrf", "decision", "key")
        )
        nonce = request.cookies.get(self._cookie, "")
        if not nonce or not hmac.compare_digest(_form_token(nonce, consent_id), token):
            return _page(
                "Please try again",
                "<p>The form expired or was not sent from this page. Go back to the app and connect again.</p>",
                403,
            )
        try:
            if decision == "deny":
                return self._back_to_client(await self._oauth.deny(consent_id))
            if decision != "allow":
                return _page("Please try again", "<p>Choose Allow or Deny.</p>", 400)
            caller = self._keyring.authenticate(key.strip()) if key.strip() else None
            if caller is None:
                view = await self._view(consent_id)
                if view is None:
                    return _expired()
                form_html = _form(view, consent_id, token, self._urls, problem="That key is not valid.")
                return _page(f"Connect {view.client.display_name}", form_html, 401)
            return self._back_to_client(await self._oauth.approve(consent_id, caller.owner))
        except OAuthError:
            return _expired()

    async def _view(self, consent_id: str) -> ConsentView | None:
        try:
            return await self._oauth.consent(consent_id)
        except OAuthError:  # the client's metadata document became unusable meanwhile
            return None

    def _same_origin(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site != "same-origin":
            return False
        return origin is None or origin.rstrip("/").lower() in self._origins

    def _back_to_client(self, redirect: Redirect) -> Response:
        """RFC 6749 §4.1.2 with RFC 9207's `iss`, so the client knows which server answered."""
        if redirect.code is None:
            parameters = {"error": "access_denied", "error_description": "The request was denied."}
        else:
            parameters = {"code": redirect.code}
        location = construct_redirect_uri(
            redirect.redirect_uri, **parameters, state=redirect.state, iss=self._urls.issuer
        )
        response = RedirectResponse(location, status_code=303, headers={"cache-control": "no-store"})
        response.delete_cookie(
            self._cookie, path="/" if self._urls.is_https else urlsplit(self._urls.consent).path
        )
        return response


def _form_token(nonce: str, consent_id: str) -> str:
    """Binds the form to this browser's cookie and to this one request."""
    return hmac.new(nonce.encode(), consent_id.encode(), hashlib.sha256).hexdigest()


def _destination(redirect_uri: str) -> str:
    parts = urlsplit(redirect_uri)
    if is_loopback_http(redirect_uri):
        return f"an app on this computer (port {parts.port or 80})"
    if parts.scheme in ("http", "https"):
        return parts.netloc
    return f"the app registered for {parts.scheme}:// links"


def _form(view: ConsentView, consent_id: str, token: str, urls: OAuthUrls, problem: str | None = None) -> str:
    esc = html.escape
    client = view.client
    if client.source is ClientSource.METADATA_DOCUMENT:
        identity = f"Its details are published at <code>{esc(client.client_id)}</code>."
    else:
        identity = "It registered itself with this server; its name is what it says about itself."
    warning = ""
    if is_loopback_http(view.consent.redirect_uri):
        warning = (
            "<p class=warn>The answer goes to a program on your own computer. Allow only if you started "
            "connecting this app yourself just now.</p>"
        )
    error = f"<p class=error>{esc(problem)}</p>" if problem else ""
    return f"""
<p><strong>{esc(client.display_name)}</strong> asks to use imagegen as you. {identity}</p>
<p>After you decide, you go back to <strong>{esc(_destination(view.consent.redirect_uri))}</strong>.</p>
{warning}
<p>Sign in with one of this server's keys. The app will act as that key's client: it can generate
images, see and manage that key's jobs and images, and it counts against that key's limits, until the
access is revoked.</p>
{error}
<form method="post" action="{esc(urls.consent)}">
<input type="hidden" name="request" value="{esc(consent_id)}">
<input type="hidden" name="csrf" value="{esc(token)}">
<label>Key <input type="password" name="key" autocomplete="current-password" autofocus></label>
<p><button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></p>
</form>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    esc = html.escape
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{esc(title)} - imagegen</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}}
input{{font:inherit;padding:.3rem;width:100%;box-sizing:border-box}}button{{font:inherit;padding:.4rem 1.2rem}}
.warn{{background:#fff4d6;padding:.5rem}}.error{{color:#a00}}code{{word-break:break-all}}</style></head>
<body><h1>{esc(title)}</h1>{body}</body></html>"""
    return HTMLResponse(document, status_code=status, headers=PAGE_HEADERS)


def _expired() -> HTMLResponse:
    return _page(
        "This sign-in has ended",
        "<p>It expired or was answered already. Go back to the app and connect again.</p>",
        400,
    )
