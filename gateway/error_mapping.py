"""Translate litellm, openai SDK and httpx exceptions into the gateway's errors.

This is the only module that imports those libraries' exception classes. Every
class that litellm exports is listed in `LITELLM_KINDS`, and a test fails
when a litellm upgrade adds one that is missing here.

Provider messages can quote credentials (an echoed key, an Authorization
header), so the text passed on to clients is shortened and scrubbed of
anything that looks like a secret.
"""

from __future__ import annotations

import asyncio
import enum
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
import litellm
import litellm.tool_loop
import litellm.types.router
import openai

from gateway.errors import (
    GatewayError,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)

_DETAIL_CHARS = 300


class Kind(enum.Enum):
    """The gateway's treatment of a provider-side exception."""

    BY_STATUS = "by_status"
    """Decide from the HTTP status of the provider's response."""
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    CLIENT = "client"
    """The provider rejected the request itself (context too long, bad tool schema)."""
    UNSERVED = "unserved"
    """The provider or litellm cannot serve this endpoint as configured."""


LITELLM_KINDS: dict[type[BaseException], Kind] = {
    litellm.exceptions.AuthenticationError: Kind.AUTH,
    litellm.exceptions.CallerCredentialAuthenticationError: Kind.AUTH,
    litellm.exceptions.PermissionDeniedError: Kind.AUTH,
    litellm.exceptions.NotFoundError: Kind.UNSERVED,
    litellm.exceptions.BadRequestError: Kind.BY_STATUS,
    litellm.exceptions.InvalidRequestError: Kind.BY_STATUS,
    litellm.exceptions.ImageFetchError: Kind.CLIENT,
    litellm.exceptions.MalformedRequestFieldError: Kind.CLIENT,
    litellm.exceptions.ContextWindowExceededError: Kind.CLIENT,
    litellm.exceptions.ContentPolicyViolationError: Kind.CLIENT,
    litellm.exceptions.RejectedRequestError: Kind.CLIENT,
    litellm.exceptions.UnprocessableEntityError: Kind.CLIENT,
    litellm.exceptions.VectorStoreSearchError: Kind.UNSERVED,
    litellm.exceptions.UnsupportedEndpointError: Kind.UNSERVED,
    litellm.exceptions.EndpointNotSupportedByModelError: Kind.UNSERVED,
    litellm.exceptions.UnsupportedParamsError: Kind.UNSERVED,
    litellm.exceptions.LiteLLMUnknownProvider: Kind.UNSERVED,
    litellm.exceptions.ModelNotMappedError: Kind.UNSERVED,
    litellm.exceptions.PaymentRequiredError: Kind.UNSERVED,
    litellm.exceptions.Timeout: Kind.TIMEOUT,
    litellm.exceptions.RateLimitError: Kind.RATE_LIMIT,
    litellm.exceptions.CallerCredentialRateLimitError: Kind.RATE_LIMIT,
    litellm.types.router.RouterRateLimitError: Kind.RATE_LIMIT,
    litellm.types.router.RouterRateLimitErrorBasic: Kind.RATE_LIMIT,
    litellm.exceptions.ServiceUnavailableError: Kind.BY_STATUS,
    litellm.exceptions.BadGatewayError: Kind.BY_STATUS,
    litellm.exceptions.InternalServerError: Kind.BY_STATUS,
    litellm.exceptions.MidStreamFallbackError: Kind.CONNECTION,
    litellm.exceptions.APIError: Kind.BY_STATUS,
    litellm.exceptions.APIConnectionError: Kind.CONNECTION,
    litellm.exceptions.APIResponseValidationError: Kind.CONNECTION,
    litellm.exceptions.JSONSchemaValidationError: Kind.CONNECTION,
    litellm.exceptions.OpenAIError: Kind.BY_STATUS,
    litellm.exceptions.MockException: Kind.BY_STATUS,
    litellm.exceptions.BudgetExceededError: Kind.UNSERVED,
    litellm.exceptions.GuardrailRaisedException: Kind.CLIENT,
    litellm.exceptions.BlockedPiiEntityError: Kind.CLIENT,
    litellm.exceptions.ModifyResponseException: Kind.UNSERVED,
    litellm.exceptions.SensitiveDataRouteException: Kind.UNSERVED,
    litellm.tool_loop.ToolLoopMaxRoundsExceeded: Kind.UNSERVED,
}

# Checked in this order, so the most specific class of each library comes first.
_FOREIGN_KINDS: tuple[tuple[type[BaseException], Kind], ...] = (
    (openai.APITimeoutError, Kind.TIMEOUT),
    (openai.APIConnectionError, Kind.CONNECTION),
    (openai.APIStatusError, Kind.BY_STATUS),
    (openai.APIError, Kind.CONNECTION),
    (httpx.TimeoutException, Kind.TIMEOUT),
    (httpx.HTTPStatusError, Kind.BY_STATUS),
    (httpx.HTTPError, Kind.CONNECTION),
    (TimeoutError, Kind.TIMEOUT),
    (asyncio.TimeoutError, Kind.TIMEOUT),
)

# Each pattern keeps its leading group (the key's kind or the header name) and
# replaces the secret part.
_SECRET_PATTERNS = (
    (re.compile(r"\b((?:sk|pk|rk|gsk|xai)[-_])[A-Za-z0-9_\-]{6,}"), r"\1[redacted]"),
    (
        re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=\-]{6,}"),
        r"\1[redacted]",
    ),
    (
        re.compile(
            r"(?i)\b((?:api[-_]?key|authorization|token)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"\b(AIza)[0-9A-Za-z_\-]{20,}"), r"\1[redacted]"),
)
_LITELLM_PREFIX = re.compile(
    r"^(?:litellm\.\w+:\s*)?(?:\w+(?:Error|Exception)\s*[:-]\s*)*"
)


@dataclass(frozen=True)
class ProviderFailure:
    """A provider-side exception as the client sees it, and whether to fall back."""

    error: GatewayError
    retryable: bool
    """True for provider faults (5xx, timeouts, broken connections), false for 4xx."""


def kind_of(exc: BaseException) -> Kind | None:
    """Return how to treat `exc`, or None when it is not a provider-side exception."""
    for cls in type(exc).__mro__:
        kind = LITELLM_KINDS.get(cls)
        if kind is not None:
            return kind
    for cls, kind in _FOREIGN_KINDS:
        if isinstance(exc, cls):
            return kind
    return None


def map_provider_error(
    exc: BaseException, *, provider: str, endpoint: str, secrets: Iterable[str] = ()
) -> ProviderFailure | None:
    """Translate a provider-side exception, or return None for any other exception.

    `secrets` are values that must never reach the client, such as the
    provider key used for the call. They are masked in the provider's text.
    """
    kind = kind_of(exc)
    if kind is None:
        return None
    status = status_of(exc)
    if kind is Kind.BY_STATUS:
        kind = _kind_for_status(status)
    if kind is Kind.CONNECTION:
        failure = _connect_failure(exc, endpoint, secrets)
        if failure is not None:
            return failure
    detail = scrub(provider_detail(exc), secrets)
    where = f"provider '{provider}' of endpoint '{endpoint}'"
    return _BUILDERS[kind](where, status, detail, exc)


def _connect_failure(
    exc: BaseException, endpoint: str, secrets: Iterable[str]
) -> ProviderFailure | None:
    """Describe a failed TCP connection by its address, without library internals.

    Returns None unless the exception chain contains an httpx `ConnectError`
    or an openai `APIConnectionError` (litellm wraps both).
    """
    chain = _exception_chain(exc)
    connect_error = next(
        (
            item
            for item in chain
            if isinstance(item, httpx.ConnectError)
            or (
                isinstance(item, openai.APIConnectionError)
                and not isinstance(item, openai.APITimeoutError)
            )
        ),
        None,
    )
    if connect_error is None:
        return None

    address = scrub(_request_address(connect_error) or "the provider", secrets)
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        reason = ": connection refused"
    elif any(isinstance(item, socket.gaierror) for item in chain):
        reason = ": host not found"
    else:
        reason = ""
    error = UpstreamError(
        f"Could not connect to {address} for endpoint '{endpoint}'{reason}. "
        "Check the provider key's base URL, or configure a fallback endpoint."
    )
    return ProviderFailure(error, retryable=True)


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _request_address(exc: BaseException) -> str | None:
    """Return `host:port` of the request that `exc` failed on, if it has one."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        # httpx raises RuntimeError for an error created without a request.
        return None
    if not isinstance(url, httpx.URL) or not url.host:
        return None
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return f"{url.host}:{port}" if port else url.host


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 100 <= status <= 599:
        return status
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    if isinstance(code, int) and 100 <= code <= 599:
        return code
    return None


def _kind_for_status(status: int | None) -> Kind:
    if status is None or status >= 500:
        return Kind.CONNECTION
    if status in (401, 403):
        return Kind.AUTH
    if status == 408:
        return Kind.TIMEOUT
    if status == 429:
        return Kind.RATE_LIMIT
    if status in (402, 404, 405):
        return Kind.UNSERVED
    return Kind.CLIENT


def provider_detail(exc: BaseException) -> str:
    """Return the provider's message from an exception, without litellm's prefixes."""
    text = _text_of(exc)
    text = text.split(" Original exception:", 1)[0]
    marker = "Exception - "
    if marker in text:
        text = text.split(marker, 1)[1]
    text = _LITELLM_PREFIX.sub("", text.strip(), count=1)
    return text.strip() or type(exc).__name__


def _text_of(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    try:
        return str(exc)
    except Exception:
        # Some litellm classes format their text from attributes that a
        # half-built instance lacks, so the class name is used as the text.
        return type(exc).__name__


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secrets and secret-looking tokens in `text`, then shorten it."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    if len(text) > _DETAIL_CHARS:
        text = text[: _DETAIL_CHARS - 3] + "..."
    return text


def _retry_after(exc: BaseException) -> float:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        headers = getattr(exc, "litellm_response_headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


def _status_text(status: int | None) -> str:
    return f" (HTTP {status})" if status is not None else ""


def _timeout(
    where: str, status: int | None, detail: str, exc: BaseException
) -> ProviderFailure:
    error = UpstreamTimeout(
        f"The {where} did not answer in time. Retry, or configure a fallback endpoint."
    )
    return ProviderFailure(error, retryable=True)


def _connection(
    where: str, status: int | None, detail: str, exc: BaseException
) -> ProviderFailure:
    error = UpstreamError(
        f"The {where} failed{_status_text(status)}: {detail}. "
        "Retry later, or configure a fallback endpoint."
    )
    return ProviderFailure(error, retryable=True)


def _auth(
    where: str, status: int | None, detail: str, exc: BaseException
) -> ProviderFailure:
    error = UpstreamError(
        f"The {where} rejected the gateway's provider key{_status_text(status)}. "
        "Update that provider key in the workbench "
        "or with PATCH /admin/provider-keys/{id}.",
        code="upstream_auth_failed",
    )
    return ProviderFailure(error, retryable=False)


def _rate_limit(
    where: str, status: int | None, detail: str, exc: BaseException
) -> ProviderFailure:
    wait = _retry_after(exc)
    error = RateLimited(
        f"The {where} is rate limiting requests: {detail}. "
        f"Retry after {int(wait + 0.999)} s.",
        retry_after=wait,
    )
    return ProviderFailure(error, retryable=False)


def _client(
    where: str, status: int | None, detail: str, exc: BaseException
) -> ProviderFailure:
    param = (
        "messages"
        if isinstance(exc, litellm.exceptions.ContextWindowExceededError)
        else None
    )
    error = InvalidRequest(
        f"The {where} rejected the request{_status_text(status)}: {detail}. "
        "Change the request and retry.",
        param=param,
    )
    return ProviderFailure(error, retryable=False)


def _unserved(
    where: str, status: int | None, detail: str, exc: BaseException
) -> ProviderFailure:
    error = UpstreamError(
        f"The {where} cannot serve this request{_status_text(status)}: {detail}. "
        "Check the endpoint's model and provider key in the workbench."
    )
    return ProviderFailure(error, retryable=False)


_BUILDERS = {
    Kind.TIMEOUT: _timeout,
    Kind.CONNECTION: _connection,
    Kind.AUTH: _auth,
    Kind.RATE_LIMIT: _rate_limit,
    Kind.CLIENT: _client,
    Kind.UNSERVED: _unserved,
}
