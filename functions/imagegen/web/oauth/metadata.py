"""The discovery documents: Protected Resource Metadata (RFC 9728) for /mcp and Authorization Server
Metadata (RFC 8414), built with the SDK's models and its `build_metadata`, then told what the SDK's
defaults do not know: public clients, Client ID Metadata Documents and the `iss` response parameter."""

from __future__ import annotations

from functools import lru_cache

from mcp.server.auth.routes import build_metadata
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from pydantic import AnyHttpUrl

from imagegen.domain.oauth import SCOPE, ClientAuthMethod
from imagegen.web.oauth.urls import OAuthUrls

RESOURCE_NAME = "imagegen"
# Registration accepts whatever scopes a client asks for: every token carries the one scope there is, and
# RFC 6749 §3.3 lets a server grant other scopes than requested (refusing would turn away hosts that
# register with "openid profile" out of habit).
REGISTRATION = ClientRegistrationOptions(enabled=True)
CLIENT_AUTH_METHODS = [method.value for method in ClientAuthMethod]


# The Lambda app is built per invocation; the documents depend on the public URL only.
@lru_cache(maxsize=4)
def authorization_server_metadata(urls: OAuthUrls) -> OAuthMetadata:
    built = build_metadata(
        AnyHttpUrl(urls.issuer),
        service_documentation_url=None,
        client_registration_options=REGISTRATION,
        revocation_options=RevocationOptions(enabled=True),
    )
    document = built.model_dump(mode="json", exclude_none=True)
    # Validated again from strings: the model keeps a path-less issuer exactly as given (no trailing
    # slash), and RFC 8414 §3.3 compares issuers as strings.
    return OAuthMetadata.model_validate(
        {
            **document,
            "issuer": urls.issuer,
            "scopes_supported": [SCOPE],
            # Public clients (PKCE, no secret) are the usual MCP hosts and every metadata-document client.
            "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "code_challenge_methods_supported": ["S256"],
            "client_id_metadata_document_supported": True,
            "authorization_response_iss_parameter_supported": True,
        }
    )


@lru_cache(maxsize=4)
def protected_resource_metadata(urls: OAuthUrls) -> ProtectedResourceMetadata:
    return ProtectedResourceMetadata.model_validate(
        {
            "resource": urls.resource,
            "authorization_servers": [urls.issuer],
            "scopes_supported": [SCOPE],
            "bearer_methods_supported": ["header"],
            "resource_name": RESOURCE_NAME,
        }
    )
