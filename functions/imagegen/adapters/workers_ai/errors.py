"""How Workers AI errors are read: Cloudflare's codes and HTTP statuses, each with a reason code, whether
a later attempt may succeed, and an explanation a model or a person can act on."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from imagegen.domain.errors import ProviderError, ReasonCode


@dataclass(frozen=True)
class ErrorRule:
    reason: ReasonCode
    retryable: bool
    explanation: str  # what happened and what to do, written for the model or person reading the job
    # None: a transient failure, retried within the adapter's retry settings and then handed back as
    # retryable so the queue can try again later. A number: at most that many retries here, after which the
    # error is final, because the failure is only sometimes transient and a queue redelivery would retry it
    # again and again.
    retry_limit: int | None = None


@dataclass(frozen=True)
class MessageRules:
    """The rule for a code Cloudflare reuses for unrelated failures: the first pattern found in the message
    decides, and `otherwise` covers messages none of them knows."""

    by_pattern: Sequence[tuple[re.Pattern[str], ErrorRule]]
    otherwise: ErrorRule

    def rule_for(self, message: str) -> ErrorRule:
        for pattern, rule in self.by_pattern:
            if pattern.search(message):
                return rule
        return self.otherwise


_CAPACITY = ErrorRule(
    ReasonCode.RATE_LIMITED, True, "Workers AI is out of capacity for this model right now; try again shortly"
)
_DAILY_ALLOCATION = ErrorRule(
    ReasonCode.QUOTA_EXHAUSTED,
    False,
    "the Cloudflare account has used its daily Workers AI allocation (10,000 free neurons); it resets at "
    "00:00 UTC, or the account owner can upgrade to Workers Paid",
)
_TIMEOUT = ErrorRule(ReasonCode.PROVIDER_TIMEOUT, True, "Workers AI timed out generating the image")
_BAD_INPUT = ErrorRule(
    ReasonCode.INVALID_INPUT, False, "Workers AI rejected the input; check the prompt and parameters"
)
_TOO_LARGE = ErrorRule(ReasonCode.INVALID_INPUT, False, "the request is too large; shorten the prompt")
_UNKNOWN_MODEL = ErrorRule(
    ReasonCode.UNKNOWN_MODEL, False, "Workers AI does not offer this model; choose another one (list_models)"
)
_BAD_TOKEN = ErrorRule(
    ReasonCode.AUTH_FAILED,
    False,
    "Cloudflare rejected the API token; the server operator must check CLOUDFLARE_API_TOKEN (Workers AI "
    "permission) and CLOUDFLARE_ACCOUNT_ID",
)
_ACCOUNT_DENIED = ErrorRule(
    ReasonCode.AUTH_FAILED,
    False,
    "the Cloudflare account may not use this model (plan, account status or model terms); choose another "
    "model or ask the server operator",
)
# 7003 "Could not route to /client/v4/accounts/<id>/ai/run/..., perhaps your object identifier is invalid?":
# the URL names no account the API knows. It is the server's configuration, not the caller's input, and no
# retry can fix it.
_WRONG_ACCOUNT_ID = ErrorRule(
    ReasonCode.CONFIGURATION_ERROR,
    False,
    "Cloudflare could not route the request to the configured account, so the server is misconfigured: the "
    "server operator must set CLOUDFLARE_ACCOUNT_ID to the 32-character hexadecimal Account ID shown in the "
    "Cloudflare dashboard (not an email, zone id or token), and check WORKERS_AI_BASE_URL if it was changed",
)

# 3030 is Workers AI's generic "AiError": the same code carries a flagged prompt, input the model cannot use
# and a flagged *output*, and only the message tells them apart.
_PROMPT_FLAGGED = ErrorRule(
    ReasonCode.CONTENT_FILTERED,
    False,
    "the prompt was flagged by Workers AI's content filter; rephrase it without unsafe content",
)
# The safety check on generated images is known to flag the same prompt on one run and pass it on the next
# (DESIGN: "flagged outputs have been reported as intermittent"), so one more attempt is worth its cost; a
# second flag in a row is taken as meant, and more attempts would only spend money on a refused prompt.
_OUTPUT_FLAGGED = ErrorRule(
    ReasonCode.CONTENT_FILTERED,
    True,
    "Workers AI's safety check flagged the generated image (the check is known to flag harmless images now "
    "and then, so such a failure is retried once); if it persists, rephrase the prompt",
    retry_limit=1,
)
_INPUT_UNUSABLE = ErrorRule(
    ReasonCode.INVALID_INPUT,
    False,
    "Workers AI could not use the input (too long for the model, or not decodable); shorten or simplify the "
    "prompt and parameters",
)
# An unknown 3030 is neither retried nor labelled flagged or invalid: most 3030s are permanent, so a retry
# would mostly re-send a refused request (billed, and for a flagged prompt held against the account), and
# either label would send the model rewriting a prompt that may be fine. Cloudflare's own words are quoted.
_UNKNOWN_AI_ERROR = ErrorRule(
    ReasonCode.PROVIDER_ERROR,
    False,
    "Workers AI refused the request with its generic AiError (3030) for a reason this server does not "
    "recognise; see what Cloudflare said",
)
_AI_ERROR_3030 = MessageRules(
    by_pattern=(
        # The output check first: its messages say "flagged" or "NSFW" too, but about the image made.
        (
            re.compile(r"(?=.*\b(output|generated|result)\b)(?=.*\b(nsfw|flagged|unsafe)\b)", re.IGNORECASE),
            _OUTPUT_FLAGGED,
        ),
        (re.compile(r"\b(nsfw|flagged|unsafe|inappropriate)\b", re.IGNORECASE), _PROMPT_FLAGGED),
        (
            re.compile(
                r"invalid input|unable to decode|too long|must not have|must be|required", re.IGNORECASE
            ),
            _INPUT_UNUSABLE,
        ),
    ),
    otherwise=_UNKNOWN_AI_ERROR,
)

# Cloudflare's internal codes (errors[].code) decide first: the same HTTP status means different things, e.g.
# 429 is spare capacity running out (3040, retry) or the day's allocation being spent (3036, do not retry).
# Codes from https://developers.cloudflare.com/workers-ai/platform/errors/ plus 4006, 5035 and 7003 seen in
# practice.
CODE_RULES: Mapping[int, ErrorRule | MessageRules] = {
    3040: _CAPACITY,
    3036: _DAILY_ALLOCATION,
    4006: _DAILY_ALLOCATION,
    3007: _TIMEOUT,
    3008: ErrorRule(ReasonCode.PROVIDER_TIMEOUT, True, "Workers AI aborted the request"),
    5006: _BAD_INPUT,
    5004: _BAD_INPUT,
    3003: ErrorRule(ReasonCode.INVALID_INPUT, False, "the request was missing headers or body"),
    3006: _TOO_LARGE,
    5007: _UNKNOWN_MODEL,
    3042: _UNKNOWN_MODEL,
    3030: _AI_ERROR_3030,
    10000: _BAD_TOKEN,
    7003: _WRONG_ACCOUNT_ID,
    5016: ErrorRule(
        ReasonCode.AUTH_FAILED,
        False,
        "the Cloudflare account has not accepted this model's license terms; choose another model",
    ),
    5018: _ACCOUNT_DENIED,
    3041: _ACCOUNT_DENIED,
    3023: _ACCOUNT_DENIED,
    5035: ErrorRule(
        ReasonCode.AUTH_FAILED,
        False,
        "this model needs the Cloudflare Workers Paid plan; choose another model",
    ),
}

# Used when the answer carries no code this table knows.
STATUS_RULES: Mapping[int, ErrorRule] = {
    400: _BAD_INPUT,
    401: _BAD_TOKEN,
    403: _ACCOUNT_DENIED,
    404: ErrorRule(
        ReasonCode.UNKNOWN_MODEL,
        False,
        "Workers AI does not know this model, or the configured base URL or AI Gateway id is wrong",
    ),
    408: _TIMEOUT,
    413: _TOO_LARGE,
    429: ErrorRule(
        ReasonCode.RATE_LIMITED, True, "Workers AI is rate limiting this account; try again shortly"
    ),
}
SERVER_ERROR_RULE = ErrorRule(ReasonCode.PROVIDER_ERROR, True, "Workers AI had a server error")
FALLBACK_RULE = ErrorRule(ReasonCode.PROVIDER_ERROR, False, "Workers AI reported an error it did not explain")


@dataclass(frozen=True)
class CloudflareError:
    code: int | None
    message: str


def classify(status: int, errors: Sequence[CloudflareError]) -> tuple[ErrorRule, CloudflareError | None]:
    """The rule for an error answer, and the envelope entry it was decided by (if any)."""
    for error in errors:
        if error.code is not None and error.code in CODE_RULES:
            rule = CODE_RULES[error.code]
            if isinstance(rule, MessageRules):
                return rule.rule_for(error.message), error
            return rule, error
    first = errors[0] if errors else None
    if status in STATUS_RULES:
        return STATUS_RULES[status], first
    if status >= 500:
        return SERVER_ERROR_RULE, first
    return FALLBACK_RULE, first


class WorkersAIError(ProviderError):
    """A ProviderError that remembers what Cloudflare answered, for retries, logs and tests."""

    def __init__(
        self,
        reason: ReasonCode,
        message: str,
        *,
        retryable: bool,
        cloudflare_code: int | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        retry_limit: int | None = None,
    ) -> None:
        super().__init__(reason, message, retryable=retryable)
        self.cloudflare_code = cloudflare_code
        self.http_status = http_status
        self.retry_after = retry_after
        self.retry_limit = retry_limit  # see ErrorRule.retry_limit
