"""cdk-nag acknowledgements: each one sits next to the resource it excuses and says why."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one cdk-nag finding on `scope` and its children (`Rule` or `Rule[finding]`)."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
