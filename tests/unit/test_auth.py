"""Key ring: named keys, hashing, admin, and the formats AUTH_TOKENS accepts."""

from __future__ import annotations

import pytest

from imagegen.domain.caller import Caller
from imagegen.web.auth import KeyRing, parse_token_map

A = "a" * 20
B = "b" * 20


def test_single_auth_token_is_the_default_client() -> None:
    ring = KeyRing.from_settings(A, None)
    assert ring.authenticate(A) == Caller(owner="default")
    assert ring.authenticate(B) is None


def test_named_keys_and_admin() -> None:
    ring = KeyRing.from_settings(None, f"alice:{A},bob:{B}", admin="bob")
    assert ring.authenticate(A) == Caller(owner="alice")
    assert ring.authenticate(B) == Caller(owner="bob", is_admin=True)


def test_json_token_map_is_accepted() -> None:
    assert parse_token_map(f'{{"alice": "{A}"}}') == {"alice": A}


@pytest.mark.parametrize(
    ("token", "tokens", "admin", "message"),
    [
        (None, None, None, "at least one"),
        ("short", None, None, "too short"),
        (None, "alice", None, "name:token"),
        (None, f"alice:{A}", "carol", "not one of the configured keys"),
    ],
)
def test_bad_key_configuration_is_refused_with_a_reason(
    token: str | None, tokens: str | None, admin: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        KeyRing.from_settings(token, tokens, admin)


def test_only_digests_are_kept() -> None:
    ring = KeyRing.from_settings(A, None)
    assert A not in repr(vars(ring)) and A.encode() not in b"".join(key.digest for key in ring._keys)


def test_an_oauth_grant_acts_as_its_owners_key_as_configured_now() -> None:
    ring = KeyRing.from_settings(None, f"alice:{A},bob:{B}", admin="bob")

    assert ring.caller_for("bob") == Caller(owner="bob", is_admin=True)
    assert ring.caller_for("alice") == Caller(owner="alice")
    assert ring.caller_for("carol") is None  # a removed key ends the grants made with it
