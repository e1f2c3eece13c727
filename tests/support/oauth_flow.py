"""An OAuth client and a person's browser against one running server, doing by hand what MCP hosts and
people do, so that tests can also do what they must not (replay a code, swap a verifier, ...).

The browser is plain HTTP: it follows the authorization endpoint's redirect to the consent page, keeps
the cookie the page sets, reads the form's hidden fields and posts them back with the key from the
page's own origin, as a browser would.
"""

from __future__ import annotations

import html
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from imagegen.domain.oauth import ClientDocumentUnavailable, TokenSet
from imagegen.ports import ClientDocument, GrantStore
from imagegen.services.oauth import OAuthService
from tests.support.builders import ManualClock
from tests.support.oauth_records import s256

REDIRECT_URI = "http://127.0.0.1:53682/callback"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_ACTION = re.compile(r'<form method="post" action="([^"]+)">')


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Authorization:
    """One authorization request as a client makes it."""

    client_id: str
    redirect_uri: str = REDIRECT_URI
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    resource: str | None = None
    scope: str | None = "imagegen"

    def url(self, base_url: str) -> str:
        parameters = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": s256(self.verifier),
            "code_challenge_method": "S256",
            "state": self.state,
            **({"resource": self.resource} if self.resource else {}),
            **({"scope": self.scope} if self.scope else {}),
        }
        return f"{base_url}/authorize?{urlencode(parameters)}"


class OAuthDriver:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.resource = f"{base_url}/mcp"
        self.http = httpx.Client(timeout=30, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------ the client

    def register(self, redirect_uris: list[str] | None = None, **metadata: Any) -> dict[str, Any]:
        response = self.http.post(
            f"{self.base_url}/register",
            json={
                "client_name": "OAuth driver",
                "redirect_uris": redirect_uris or [REDIRECT_URI],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                **metadata,
            },
        )
        assert response.status_code == 201, response.text
        registered: dict[str, Any] = response.json()
        return registered

    def token(self, **form: str | None) -> httpx.Response:
        return self.http.post(
            f"{self.base_url}/token", data={name: value for name, value in form.items() if value is not None}
        )

    def exchange(self, authorization: Authorization, code: str, **overrides: str | None) -> httpx.Response:
        form: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "client_id": authorization.client_id,
            "code": code,
            "code_verifier": authorization.verifier,
            "redirect_uri": authorization.redirect_uri,
            "resource": self.resource,
        }
        return self.token(**{**form, **overrides})

    def refresh(self, client_id: str, refresh_token: str) -> httpx.Response:
        return self.token(
            grant_type="refresh_token",
            client_id=client_id,
            refresh_token=refresh_token,
            resource=self.resource,
        )

    def revoke(self, client_id: str, token: str) -> httpx.Response:
        return self.http.post(f"{self.base_url}/revoke", data={"client_id": client_id, "token": token})

    def call_mcp(self, access_token: str) -> httpx.Response:
        return self.http.post(
            self.resource,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={
                "authorization": f"Bearer {access_token}",
                "accept": "application/json, text/event-stream",
                "mcp-protocol-version": "2025-11-25",
            },
        )

    # ------------------------------------------------------------ the person's browser

    def consent_page(self, authorization: Authorization | str) -> httpx.Response:
        """Open the authorization URL and follow it to the consent page."""
        url = authorization if isinstance(authorization, str) else authorization.url(self.base_url)
        started = self.http.get(url)
        assert started.status_code == 302, started.text
        return self.http.get(urljoin(self.base_url, started.headers["location"]))

    def sign_in(self, authorization_url: str, key: str) -> str:
        """What a person does with an authorization URL a client opened: returns where the browser is
        sent back to (the client's redirect URI with the code)."""
        answer = self.decide(self.consent_page(authorization_url), key)
        assert answer.status_code == 303, answer.text
        return str(answer.headers["location"])

    def decide(
        self, page: httpx.Response, key: str, decision: str = "allow", origin: str | None = None
    ) -> httpx.Response:
        """Fill the consent form and send it, as the page's own browser tab would. `page` may be the
        consent page or the page that answered a wrong key (it shows the form again)."""
        assert page.status_code in (200, 401), page.text
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}
        found = _ACTION.search(page.text)
        assert found is not None, page.text
        return self.http.post(
            html.unescape(found.group(1)),
            data={**fields, "key": key, "decision": decision},
            headers={"origin": origin or self.base_url},
        )

    def authorize(self, authorization: Authorization, key: str) -> str:
        """The whole browser part: returns the code the client receives."""
        answer = self.decide(self.consent_page(authorization), key)
        assert answer.status_code == 303, answer.text
        back = query_of(answer.headers["location"])
        assert back["state"] == authorization.state and back["iss"] == self.base_url
        return back["code"]

    def tokens(self, client_id: str, key: str) -> dict[str, Any]:
        authorization = Authorization(client_id)
        response = self.exchange(authorization, self.authorize(authorization, key))
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens


class _NoDocuments:
    async def fetch(self, url: str) -> ClientDocument:
        raise ClientDocumentUnavailable("is not fetched by token minting")


async def mint_tokens(store: GrantStore, *, resource: str, owner: str, issued_at: datetime) -> TokenSet:
    """Tokens written straight into a server's grant store as another issuer's clock or another resource
    would have made them: what no request to the server itself can produce (an expired token, a token
    for the URL the server had before its custom domain)."""
    service = OAuthService(store, _NoDocuments(), ManualClock(issued_at), resource=resource)
    client = await service.register_client(
        client_id=f"minted-{uuid.uuid4()}",
        client_name="Minted",
        client_uri=None,
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        auth_method="none",
        secret=None,
    )
    verifier = secrets.token_urlsafe(48)
    consent = await service.begin_authorization(
        client,
        redirect_uri=REDIRECT_URI,
        redirect_uri_explicit=True,
        code_challenge=s256(verifier),
        state=None,
        resource=None,
    )
    code = (await service.approve(consent, owner)).code or ""
    return await service.exchange_code(
        client, code=code, code_verifier=verifier, redirect_uri=REDIRECT_URI, resource=None
    )
