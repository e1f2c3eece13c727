"""Every URL the authorization server names, from the one configured public URL.

Never from a request's Host header: the issuer in the metadata, the `iss` of every authorization
response and the resource every token is bound to must not change with whatever name a request used.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from imagegen.web.routes import (
    AUTHORIZE_PATH,
    CONSENT_PATH,
    MCP_PATH,
    MCP_RESOURCE_METADATA_PATH,
    REGISTER_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
)


@dataclass(frozen=True)
class OAuthUrls:
    public_url: str

    @property
    def issuer(self) -> str:
        """The authorization server's identifier (RFC 8414): the public URL, no trailing slash."""
        return self.public_url.rstrip("/")

    @property
    def resource(self) -> str:
        """The protected resource (RFC 8707, RFC 9728): the MCP endpoint."""
        return f"{self.issuer}{MCP_PATH}"

    @property
    def resource_metadata(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}{MCP_RESOURCE_METADATA_PATH}"

    @property
    def authorize(self) -> str:
        return f"{self.issuer}{AUTHORIZE_PATH}"

    @property
    def token(self) -> str:
        return f"{self.issuer}{TOKEN_PATH}"

    @property
    def register(self) -> str:
        return f"{self.issuer}{REGISTER_PATH}"

    @property
    def revoke(self) -> str:
        return f"{self.issuer}{REVOKE_PATH}"

    @property
    def consent(self) -> str:
        return f"{self.issuer}{CONSENT_PATH}"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def is_https(self) -> bool:
        return self.issuer.startswith("https://")
