"""OAuth 2.1 on both backends, over real HTTP: discovery, the flow a host and a person go through, and
every bad input the issue names, each with the answer the RFCs give it and without harm to anyone
else's grant.

The clients here are driven by hand (`OAuthDriver`) so that they can misbehave; the TypeScript SDK's
and the Python SDK's own OAuth clients run the good path in `test_clients.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import Backend, structured
from tests.support.client_documents import TEST_FETCH_TIMEOUT_SECONDS
from tests.support.oauth_flow import REDIRECT_URI, Authorization, OAuthDriver, mint_tokens, query_of


@pytest.fixture
def oauth(backend: Backend) -> Iterator[OAuthDriver]:
    driver = OAuthDriver(backend.url)
    yield driver
    driver.close()


def refusal(response: httpx.Response) -> tuple[int, str]:
    """(status, OAuth error code) of an error answer; it never carries a token."""
    body = response.json()
    assert "access_token" not in body and "refresh_token" not in body
    return response.status_code, body["error"]


# ---------------------------------------------------------------- discovery


def test_a_request_without_a_token_is_told_where_to_get_one(backend: Backend, oauth: OAuthDriver) -> None:
    unauthenticated = httpx.post(
        backend.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"accept": "application/json, text/event-stream"},
    )
    challenge = unauthenticated.headers["www-authenticate"]
    metadata_url = f"{backend.url}/.well-known/oauth-protected-resource/mcp"

    resource = httpx.get(metadata_url).json()
    root = httpx.get(f"{backend.url}/.well-known/oauth-protected-resource").json()
    server = httpx.get(f"{backend.url}/.well-known/oauth-authorization-server").json()
    openid = httpx.get(f"{backend.url}/.well-known/openid-configuration").json()

    assert unauthenticated.status_code == 401
    assert f'resource_metadata="{metadata_url}"' in challenge and 'scope="imagegen"' in challenge
    assert "error=" not in challenge  # RFC 6750 §3.1: no error code when no credentials were sent
    assert resource == root
    assert resource["resource"] == backend.mcp_url and resource["authorization_servers"] == [backend.url]
    assert server == openid
    assert server["issuer"] == backend.url
    assert server["authorization_endpoint"] == f"{backend.url}/authorize"
    assert server["token_endpoint"] == f"{backend.url}/token"
    assert server["registration_endpoint"] == f"{backend.url}/register"
    assert server["revocation_endpoint"] == f"{backend.url}/revoke"
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["client_id_metadata_document_supported"] is True
    assert server["authorization_response_iss_parameter_supported"] is True


# ---------------------------------------------------------------- the flow


async def test_an_oauth_token_acts_as_the_key_that_consented(backend: Backend, oauth: OAuthDriver) -> None:
    client = oauth.register()
    tokens = oauth.tokens(client["client_id"], backend.other_token)

    async with backend.client(token=tokens["access_token"]) as as_oauth:
        created = structured(await as_oauth.call_tool("generate_image", {"prompt": "an owl"}))
    async with backend.client(token=backend.other_token) as as_other:
        seen_by_key = structured(await as_other.call_tool("get_job_status", {"job_id": created["job_id"]}))
    async with backend.client() as as_default:
        seen_by_another = await as_default.call_tool("get_job_status", {"job_id": created["job_id"]})

    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600 and tokens["scope"] == "imagegen"
    assert seen_by_key["job_id"] == created["job_id"]
    assert seen_by_another.is_error


def test_a_client_id_metadata_document_client_needs_no_registration(
    backend: Backend, oauth: OAuthDriver
) -> None:
    client_id = backend.documents.client(f"/flow-{backend.name}.json", [REDIRECT_URI], name="Document app")
    authorization = Authorization(client_id)

    page = oauth.consent_page(authorization)
    tokens = oauth.exchange(authorization, oauth.authorize(authorization, backend.token))

    assert "Document app" in page.text and client_id in page.text
    assert tokens.status_code == 200
    assert oauth.call_mcp(tokens.json()["access_token"]).status_code == 200


def test_the_store_keeps_digests_of_codes_tokens_and_secrets_never_the_values(
    backend: Backend, oauth: OAuthDriver
) -> None:
    client = oauth.register(token_endpoint_auth_method="client_secret_post")
    authorization = Authorization(client["client_id"])
    page = oauth.consent_page(authorization)
    answer = oauth.decide(page, backend.token)
    code = query_of(answer.headers["location"])["code"]
    tokens = oauth.exchange(authorization, code, client_secret=client["client_secret"]).json()

    stored = backend.oauth_records()

    assert tokens["access_token"] and client["client_secret"]
    secrets_handed_out = [code, tokens["access_token"], tokens["refresh_token"], client["client_secret"]]
    assert client["client_id"] in stored  # the store is the one that served this flow
    assert [secret for secret in secrets_handed_out if secret in stored] == []
    consent_id = query_of(oauth.http.get(authorization.url(backend.url)).headers["location"])["request"]
    assert consent_id not in backend.oauth_records()


def test_a_loopback_redirect_may_use_any_port(backend: Backend, oauth: OAuthDriver) -> None:
    client_id = oauth.register(redirect_uris=["http://127.0.0.1/callback"])["client_id"]
    authorization = Authorization(client_id, redirect_uri="http://127.0.0.1:61234/callback")

    answer = oauth.decide(oauth.consent_page(authorization), backend.token)
    tokens = oauth.exchange(authorization, query_of(answer.headers["location"])["code"])

    assert answer.headers["location"].startswith("http://127.0.0.1:61234/callback?")
    assert tokens.status_code == 200


def test_the_consent_page_cannot_be_framed_and_names_where_the_answer_goes(
    backend: Backend, oauth: OAuthDriver
) -> None:
    client = oauth.register()

    page = oauth.consent_page(Authorization(client["client_id"]))

    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "an app on this computer (port 53682)" in page.text
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_denying_sends_access_denied_back_with_state_and_issuer(backend: Backend, oauth: OAuthDriver) -> None:
    authorization = Authorization(oauth.register()["client_id"])

    answer = oauth.decide(oauth.consent_page(authorization), key="", decision="deny")

    back = query_of(answer.headers["location"])
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(REDIRECT_URI)
    assert (back["error"], back["state"], back["iss"]) == ("access_denied", authorization.state, backend.url)
    assert "code" not in back


def test_a_wrong_key_is_refused_and_the_person_may_try_again(backend: Backend, oauth: OAuthDriver) -> None:
    authorization = Authorization(oauth.register()["client_id"])
    page = oauth.consent_page(authorization)

    wrong = oauth.decide(page, key="not-a-key-of-this-server")
    right = oauth.decide(wrong, key=backend.token)

    assert wrong.status_code == 401 and "That key is not valid" in wrong.text
    assert right.status_code == 303 and "code" in query_of(right.headers["location"])


@pytest.mark.parametrize("forgery", ["another origin", "no cookie"])
def test_a_consent_form_posted_from_elsewhere_is_refused(
    backend: Backend, oauth: OAuthDriver, forgery: str
) -> None:
    page = oauth.consent_page(Authorization(oauth.register()["client_id"]))
    if forgery == "no cookie":
        oauth.http.cookies.clear()

    answer = oauth.decide(
        page, backend.token, origin="https://evil.example" if forgery == "another origin" else None
    )

    assert answer.status_code == 403
    assert "location" not in answer.headers


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_confidential_client_must_present_its_secret(
    backend: Backend, oauth: OAuthDriver, method: str
) -> None:
    client = oauth.register(token_endpoint_auth_method=method)
    secret = client["client_secret"]

    def exchange(presented: str | None) -> httpx.Response:
        authorization = Authorization(client["client_id"])
        code = oauth.authorize(authorization, backend.token)
        if method == "client_secret_post":
            return oauth.exchange(authorization, code, client_secret=presented)
        basic = httpx.BasicAuth(client["client_id"], presented) if presented is not None else None
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": authorization.verifier,
            "redirect_uri": authorization.redirect_uri,
        }
        return oauth.http.post(
            f"{backend.url}/token",
            data=form if basic else {**form, "client_id": client["client_id"]},
            auth=basic,
        )

    wrong, missing, right = exchange("not-the-secret"), exchange(None), exchange(secret)

    assert refusal(wrong) == (401, "invalid_client")
    assert refusal(missing) == (401, "invalid_client")
    if method == "client_secret_basic":
        assert wrong.headers["www-authenticate"] == 'Basic realm="imagegen"'
    assert right.status_code == 200 and right.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_only_the_code_flow_with_pkce_s256_is_offered(
    backend: Backend, oauth: OAuthDriver, change: dict[str, str | None], error: str
) -> None:
    authorization = Authorization(oauth.register()["client_id"])
    parameters = {**query_of(authorization.url(backend.url)), **change}

    answer = oauth.http.get(
        f"{backend.url}/authorize",
        params={name: value for name, value in parameters.items() if value is not None},
    )

    back = query_of(answer.headers["location"])
    assert answer.status_code == 302 and answer.headers["location"].startswith(REDIRECT_URI)
    assert (back["error"], back["state"], back["iss"]) == (error, authorization.state, backend.url)


# ---------------------------------------------------------------- bad input at the token endpoint


def test_a_wrong_pkce_verifier_gets_invalid_grant_and_leaves_the_code_usable(
    backend: Backend, oauth: OAuthDriver
) -> None:
    authorization = Authorization(oauth.register()["client_id"])
    code = oauth.authorize(authorization, backend.token)

    wrong = oauth.exchange(authorization, code, code_verifier="w" * 43)
    right = oauth.exchange(authorization, code)

    assert refusal(wrong) == (400, "invalid_grant")
    assert right.status_code == 200


def test_a_replayed_code_gets_invalid_grant_and_revokes_what_it_granted(
    backend: Backend, oauth: OAuthDriver
) -> None:
    authorization = Authorization(oauth.register()["client_id"])
    code = oauth.authorize(authorization, backend.token)
    first = oauth.exchange(authorization, code).json()

    replay = oauth.exchange(authorization, code)

    assert refusal(replay) == (400, "invalid_grant")
    assert oauth.call_mcp(first["access_token"]).status_code == 401
    assert refusal(oauth.refresh(authorization.client_id, first["refresh_token"])) == (400, "invalid_grant")


def test_a_code_presented_by_another_client_gets_invalid_grant_and_stays_its_clients(
    backend: Backend, oauth: OAuthDriver
) -> None:
    owner = Authorization(oauth.register()["client_id"])
    thief = oauth.register()["client_id"]
    code = oauth.authorize(owner, backend.token)

    stolen = oauth.exchange(owner, code, client_id=thief)
    rightful = oauth.exchange(owner, code)

    assert refusal(stolen) == (400, "invalid_grant")
    assert rightful.status_code == 200


def test_a_mismatched_redirect_uri_is_refused_at_both_endpoints(backend: Backend, oauth: OAuthDriver) -> None:
    client_id = oauth.register()["client_id"]
    authorization = Authorization(client_id)
    code = oauth.authorize(authorization, backend.token)

    at_token = oauth.exchange(authorization, code, redirect_uri="http://127.0.0.1:53682/other")
    at_authorize = oauth.http.get(
        Authorization(client_id, redirect_uri="https://evil.example/cb").url(backend.url)
    )

    assert refusal(at_token) == (400, "invalid_grant")
    # RFC 6749 §4.1.2.1: never redirect to a URI that is not the client's; tell the person instead.
    assert refusal(at_authorize) == (400, "invalid_request")
    assert "location" not in at_authorize.headers


def test_an_unknown_client_is_refused_at_both_endpoints(backend: Backend, oauth: OAuthDriver) -> None:
    at_authorize = oauth.http.get(Authorization("no-such-client").url(backend.url))
    at_token = oauth.token(
        grant_type="authorization_code", client_id="no-such-client", code="x", code_verifier="y"
    )

    assert refusal(at_authorize) == (400, "invalid_request")
    assert refusal(at_token) == (401, "invalid_client")


def test_a_token_for_another_resource_is_refused_at_every_step(backend: Backend, oauth: OAuthDriver) -> None:
    client_id = oauth.register()["client_id"]
    elsewhere = "https://elsewhere.example/mcp"
    asking = Authorization(client_id, resource=elsewhere)

    at_authorize = oauth.http.get(asking.url(backend.url))
    authorization = Authorization(client_id)
    at_token = oauth.exchange(
        authorization, oauth.authorize(authorization, backend.token), resource=elsewhere
    )

    back = query_of(at_authorize.headers["location"])
    assert at_authorize.status_code == 302 and at_authorize.headers["location"].startswith(REDIRECT_URI)
    assert (back["error"], back["state"], back["iss"]) == ("invalid_target", asking.state, backend.url)
    assert refusal(at_token) == (400, "invalid_target")


async def test_a_token_minted_for_another_resource_is_rejected_at_the_endpoint(
    backend: Backend, oauth: OAuthDriver
) -> None:
    # The token the server issued when its public URL was another (before a custom domain, say).
    minted = await mint_tokens(
        backend.grants, resource="https://old-name.example/mcp", owner="default", issued_at=datetime.now(UTC)
    )

    answer = oauth.call_mcp(minted.access_token)

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


async def test_an_expired_access_token_is_rejected(backend: Backend, oauth: OAuthDriver) -> None:
    an_hour_and_more_ago = datetime.now(UTC) - timedelta(hours=1, minutes=1)
    minted = await mint_tokens(
        backend.grants, resource=oauth.resource, owner="default", issued_at=an_hour_and_more_ago
    )

    answer = oauth.call_mcp(minted.access_token)

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_a_revoked_token_is_rejected_and_revocation_answers_200_even_for_nonsense(
    backend: Backend, oauth: OAuthDriver
) -> None:
    client_id = oauth.register()["client_id"]
    tokens = oauth.tokens(client_id, backend.token)

    revoked = oauth.revoke(client_id, tokens["refresh_token"])
    nonsense = oauth.revoke(client_id, "ig_rt_not-a-token")

    assert (revoked.status_code, nonsense.status_code) == (200, 200)
    assert oauth.call_mcp(tokens["access_token"]).status_code == 401
    assert refusal(oauth.refresh(client_id, tokens["refresh_token"])) == (400, "invalid_grant")


def test_a_refresh_token_used_twice_revokes_its_family_and_no_one_elses(
    backend: Backend, oauth: OAuthDriver
) -> None:
    client_id, bystander_id = oauth.register()["client_id"], oauth.register()["client_id"]
    bystander = oauth.tokens(bystander_id, backend.token)
    first = oauth.tokens(client_id, backend.token)
    second = oauth.refresh(client_id, first["refresh_token"]).json()

    reused = oauth.refresh(client_id, first["refresh_token"])

    assert refusal(reused) == (400, "invalid_grant")
    assert oauth.call_mcp(second["access_token"]).status_code == 401
    assert refusal(oauth.refresh(client_id, second["refresh_token"])) == (400, "invalid_grant")
    assert oauth.call_mcp(bystander["access_token"]).status_code == 200
    assert oauth.refresh(bystander_id, bystander["refresh_token"]).status_code == 200


# ---------------------------------------------------------------- client id URLs that are not usable


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("http://{host}/plain.json", "not an https URL"),
        ("https://127.0.0.1:{port}/private.json", "points at a private address"),
        ("{origin}/slow.json", f"did not answer within {TEST_FETCH_TIMEOUT_SECONDS:g} s"),
        ("{origin}/huge.json", "larger than 5,120 bytes"),
    ],
)
def test_an_unusable_client_id_url_is_an_unknown_client(
    backend: Backend, oauth: OAuthDriver, path: str, reason: str
) -> None:
    documents = backend.documents
    client_id = path.format(host=documents.host, port=documents.port, origin=documents.origin)
    if "private" in path:
        documents.client("/private.json", [REDIRECT_URI])

    at_authorize = oauth.http.get(Authorization(client_id).url(backend.url))
    at_token = oauth.token(grant_type="authorization_code", client_id=client_id, code="x", code_verifier="y")

    assert refusal(at_authorize) == (400, "invalid_request")
    assert refusal(at_token) == (401, "invalid_client")
    assert reason in at_token.json()["error_description"]


# ---------------------------------------------------------------- grants


def test_owners_see_their_grants_and_the_admin_sees_and_revokes_everyones(
    backend: Backend, oauth: OAuthDriver
) -> None:
    client = oauth.register(client_name=f"grants-{backend.name}")
    others = oauth.tokens(client["client_id"], backend.other_token)

    def grants(token: str) -> list[dict[str, object]]:
        listed = httpx.get(f"{backend.url}/oauth/grants", headers={"authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        return [grant for grant in listed.json()["grants"] if grant["client_id"] == client["client_id"]]

    seen_by_owner, seen_by_default, seen_by_admin = (
        grants(backend.other_token),
        grants(backend.token),
        grants(backend.admin_token),
    )
    grant_id = seen_by_owner[0]["grant_id"]
    not_yours = httpx.delete(
        f"{backend.url}/oauth/grants/{grant_id}", headers={"authorization": f"Bearer {backend.token}"}
    )
    revoked = httpx.delete(
        f"{backend.url}/oauth/grants/{grant_id}", headers={"authorization": f"Bearer {backend.admin_token}"}
    )

    assert [grant["owner"] for grant in seen_by_owner] == ["other"]
    assert seen_by_default == [] and seen_by_admin == seen_by_owner
    assert not_yours.status_code == 404
    assert revoked.status_code == 200 and revoked.json()["grant"]["revoked_because"] == "revoked by the admin"
    assert oauth.call_mcp(others["access_token"]).status_code == 401
    assert grants(backend.other_token) == []


def test_grants_need_a_bearer_token(backend: Backend) -> None:
    answer = httpx.get(f"{backend.url}/oauth/grants")

    assert answer.status_code == 401
    assert urlsplit(backend.url).netloc in answer.headers["www-authenticate"]
