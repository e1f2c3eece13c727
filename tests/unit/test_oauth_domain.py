"""The OAuth rules that need no store: redirect URIs, resource indicators, PKCE, client id URLs."""

from __future__ import annotations

import pytest

from imagegen.domain.oauth import (
    OAuthError,
    canonical_resource,
    check_client_id_url,
    check_redirect_uri,
    is_s256_challenge,
    redirect_uri_matches,
    verifier_matches,
)
from tests.support.oauth_records import CHALLENGE, VERIFIER


@pytest.mark.parametrize(
    ("registered", "requested", "matches"),
    [
        ("https://app.example/cb", "https://app.example/cb", True),
        ("https://app.example/cb", "https://app.example:8443/cb", False),
        ("https://app.example/cb", "https://app.example/cb/", False),
        ("http://127.0.0.1:33418/callback", "http://127.0.0.1:50123/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1:50123/callback", True),
        ("http://[::1]:1/callback", "http://[::1]:2/callback", True),
        ("http://localhost:1/callback", "http://localhost:2/callback", True),
        ("http://127.0.0.1:1/callback", "http://127.0.0.1:2/other", False),
        ("http://127.0.0.1:1/callback", "http://localhost:1/callback", False),
        ("http://127.0.0.1:1/callback?a=1", "http://127.0.0.1:2/callback?a=2", False),
        ("https://127.0.0.1:1/callback", "https://127.0.0.1:2/callback", False),
    ],
)
def test_redirect_uris_match_exactly_except_loopback_ports(
    registered: str, requested: str, matches: bool
) -> None:
    assert redirect_uri_matches(registered, requested) is matches


@pytest.mark.parametrize(
    "uri",
    [
        "https://claude.ai/api/mcp/auth_callback",
        "http://127.0.0.1:6274/cb",
        "http://localhost/cb",
        "cursor://x/cb",
    ],
)
def test_acceptable_redirect_uris(uri: str) -> None:
    check_redirect_uri(uri)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://app.example/cb", "http for a host other than"),
        ("javascript:alert(1)", "javascript: scheme"),
        ("data:text/html,hi", "data: scheme"),
        ("https://app.example/cb#frag", "fragment"),
    ],
)
def test_unsafe_redirect_uris_are_refused(uri: str, reason: str) -> None:
    with pytest.raises(OAuthError, match=reason) as refused:
        check_redirect_uri(uri)
    assert refused.value.error == "invalid_redirect_uri"


def test_resource_indicators_compare_without_case_default_port_or_trailing_slash() -> None:
    assert canonical_resource("HTTPS://MCP.Example.com:443/mcp/") == "https://mcp.example.com/mcp"
    assert canonical_resource("http://127.0.0.1:8787/mcp") == "http://127.0.0.1:8787/mcp"
    assert canonical_resource("https://mcp.example.com/mcp") != canonical_resource(
        "https://mcp.example.com/other"
    )


def test_pkce_s256_verifier_matches_its_challenge_only() -> None:
    assert is_s256_challenge(CHALLENGE)
    assert verifier_matches(VERIFIER, CHALLENGE)
    assert not verifier_matches(VERIFIER[:-1] + "x", CHALLENGE)
    assert not verifier_matches("short", CHALLENGE)
    assert not verifier_matches(VERIFIER, VERIFIER)  # a plain challenge is not an S256 one
    assert not is_s256_challenge(CHALLENGE + "=")
    assert not is_s256_challenge(CHALLENGE[:-1])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://app.example/client.json", "not an https URL"),
        ("https://app.example/", "no path"),
        ("https://app.example", "no path"),
        ("https://user:pw@app.example/client.json", "credentials"),
        ("https://app.example/client.json#x", "fragment"),
        ("https://app.example/a/../client.json", ". or .. path segment"),
    ],
)
def test_client_id_urls_must_be_plain_https_document_urls(url: str, reason: str) -> None:
    with pytest.raises(OAuthError, match=reason) as refused:
        check_client_id_url(url)
    assert refused.value.error == "invalid_client"
