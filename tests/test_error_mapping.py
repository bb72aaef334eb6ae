"""Translation of litellm, openai and httpx exceptions into the gateway's errors."""

from __future__ import annotations

import asyncio
import inspect
import socket

import httpx
import litellm
import litellm.exceptions
import pytest

from gateway.error_mapping import (
    LITELLM_KINDS,
    map_provider_error,
    provider_detail,
    scrub,
)
from gateway.errors import GatewayError

PROVIDER_SECRET = "sk-provider-secret-0123456789"


def litellm_exception_classes() -> list[type[BaseException]]:
    """Every exception class that litellm defines and exports, from both namespaces."""
    found: dict[str, type[BaseException]] = {}
    for namespace in (litellm.exceptions, litellm):
        for name, value in vars(namespace).items():
            if name.startswith("_") or not inspect.isclass(value):
                continue
            if not issubclass(value, BaseException):
                continue
            if value.__module__.split(".")[0] != "litellm":
                continue
            found[f"{value.__module__}.{value.__qualname__}"] = value
    return sorted(found.values(), key=lambda cls: cls.__name__)


LITELLM_CLASSES = litellm_exception_classes()


def bare_instance(cls: type[BaseException]) -> BaseException:
    """An instance without running the constructor, whose signature varies by class."""
    exc = cls.__new__(cls)
    BaseException.__init__(
        exc, f"{cls.__name__}: OpenAIException - it failed {PROVIDER_SECRET}"
    )
    return exc


def test_litellm_exports_exception_classes() -> None:
    assert len(LITELLM_CLASSES) > 30


@pytest.mark.parametrize("cls", LITELLM_CLASSES, ids=lambda cls: cls.__name__)
def test_every_litellm_exception_is_listed(cls: type[BaseException]) -> None:
    assert cls in LITELLM_KINDS, f"add {cls.__module__}.{cls.__name__} to LITELLM_KINDS"


@pytest.mark.parametrize("cls", LITELLM_CLASSES, ids=lambda cls: cls.__name__)
def test_every_litellm_exception_maps_to_gateway_error(
    cls: type[BaseException],
) -> None:
    failure = map_provider_error(
        bare_instance(cls),
        provider="openai",
        endpoint="gpt4o",
        secrets=[PROVIDER_SECRET],
    )
    assert failure is not None
    assert isinstance(failure.error, GatewayError)
    assert failure.error.status_code in (400, 429, 502, 504)
    assert PROVIDER_SECRET not in failure.error.message


def litellm_error(cls: type[BaseException], status: int, message: str) -> BaseException:
    response = httpx.Response(
        status, request=httpx.Request("POST", "http://127.0.0.1/v1")
    )
    return cls(
        message=message, llm_provider="openai", model="gpt-4o", response=response
    )  # type: ignore[call-arg]


STATUS_CASES = [
    (litellm.exceptions.AuthenticationError, 401, 502, "upstream_auth_failed", False),
    (litellm.exceptions.PermissionDeniedError, 403, 502, "upstream_auth_failed", False),
    (litellm.exceptions.RateLimitError, 429, 429, "rate_limit_exceeded", False),
    (litellm.exceptions.InternalServerError, 500, 502, "upstream_error", True),
    (litellm.exceptions.ServiceUnavailableError, 503, 502, "upstream_error", True),
    (litellm.exceptions.BadRequestError, 400, 400, "invalid_field", False),
    (litellm.exceptions.NotFoundError, 404, 502, "upstream_error", False),
    (litellm.exceptions.ContextWindowExceededError, 400, 400, "invalid_field", False),
]


@pytest.mark.parametrize(
    ("cls", "status", "expected", "code", "retryable"), STATUS_CASES
)
def test_map_litellm_status_error(
    cls: type[BaseException], status: int, expected: int, code: str, retryable: bool
) -> None:
    exc = litellm_error(cls, status, f"it failed for key {PROVIDER_SECRET}")
    failure = map_provider_error(
        exc, provider="openai", endpoint="gpt4o", secrets=[PROVIDER_SECRET]
    )
    assert failure is not None
    assert failure.error.status_code == expected
    assert failure.error.code == code
    assert failure.retryable is retryable
    assert "gpt4o" in failure.error.message
    assert PROVIDER_SECRET not in failure.error.message


def test_map_generic_api_error_by_status() -> None:
    exc = litellm.exceptions.APIError(
        status_code=403, message="Forbidden", llm_provider="openai", model="m"
    )
    failure = map_provider_error(exc, provider="openai", endpoint="gpt4o")
    assert failure is not None
    assert failure.error.code == "upstream_auth_failed"


def test_map_timeout() -> None:
    exc = litellm.exceptions.Timeout(
        message="timed out", model="gpt-4o", llm_provider="openai"
    )
    failure = map_provider_error(exc, provider="openai", endpoint="gpt4o")
    assert failure is not None
    assert failure.error.status_code == 504
    assert failure.error.code == "upstream_timeout"
    assert failure.retryable is True


def test_map_provider_rate_limit_keeps_retry_after() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1")
    response = httpx.Response(429, headers={"retry-after": "7"}, request=request)
    exc = litellm.exceptions.RateLimitError(
        message="slow down", llm_provider="openai", model="gpt-4o", response=response
    )
    failure = map_provider_error(exc, provider="openai", endpoint="gpt4o")
    assert failure is not None
    assert failure.error.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (httpx.ReadTimeout("slow"), 504),
        (httpx.ConnectError("refused"), 502),
        (httpx.RemoteProtocolError("closed"), 502),
        (TimeoutError(), 504),
    ],
)
def test_map_httpx_and_builtin_errors(exc: BaseException, status: int) -> None:
    failure = map_provider_error(exc, provider="openai", endpoint="gpt4o")
    assert failure is not None
    assert failure.error.status_code == status
    assert failure.retryable is True


def closed_port() -> int:
    """Return a loopback port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_map_connect_refused_names_address() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    exc = httpx.ConnectError(
        "Cannot connect to host 127.0.0.1:9 ssl:default [Connect call failed]",
        request=request,
    )
    exc.__cause__ = ConnectionRefusedError(111, "Connect call failed")

    failure = map_provider_error(exc, provider="openai", endpoint="gpt4o")

    assert failure is not None
    assert failure.retryable is True
    assert failure.error.status_code == 502
    message = failure.error.message
    assert message.startswith("Could not connect to 127.0.0.1:9 for endpoint")
    assert "'gpt4o'" in message
    assert "connection refused" in message
    assert "base URL" in message
    assert "ssl:" not in message
    assert "Connect call failed" not in message


def test_map_litellm_connect_error_to_dead_port() -> None:
    port = closed_port()

    async def call() -> BaseException:
        try:
            await litellm.aembedding(
                model="openai/text-embedding-3-small",
                input=["hello"],
                api_key=PROVIDER_SECRET,
                api_base=f"http://127.0.0.1:{port}/v1",
                num_retries=0,
            )
        except Exception as exc:
            return exc
        raise AssertionError("the call to a closed port succeeded")

    exc = asyncio.run(call())
    failure = map_provider_error(
        exc, provider="openai", endpoint="embed", secrets=(PROVIDER_SECRET,)
    )

    assert failure is not None
    message = failure.error.message
    assert f"Could not connect to 127.0.0.1:{port}" in message
    assert "connection refused" in message
    assert "ssl:" not in message
    assert "Connect call failed" not in message
    assert PROVIDER_SECRET not in message


def test_map_connect_error_without_request() -> None:
    failure = map_provider_error(
        httpx.ConnectError("refused"), provider="openai", endpoint="gpt4o"
    )

    assert failure is not None
    assert failure.error.message.startswith("Could not connect to the provider")


def test_map_unrelated_exception_returns_none() -> None:
    assert (
        map_provider_error(KeyError("x"), provider="openai", endpoint="gpt4o") is None
    )


def test_provider_detail_drops_litellm_prefixes() -> None:
    exc = litellm_error(
        litellm.exceptions.InternalServerError, 500, "Internal server error."
    )
    assert provider_detail(exc) == "Internal server error."


@pytest.mark.parametrize(
    "text",
    [
        "Incorrect API key provided: sk-proj-abcdef123456.",
        "header Authorization: Bearer abcdef1234567890",
        'body {"api_key": "hunter2hunter2"}',
        "virtual key sk-gw-AbCdEf0123456789",
        "google key AIzaSyA1234567890123456789012",
    ],
)
def test_scrub_masks_secret_like_tokens(text: str) -> None:
    scrubbed = scrub(text)
    assert "[redacted]" in scrubbed
    for secret in (
        "abcdef123456",
        "abcdef1234567890",
        "hunter2",
        "AbCdEf01",
        "1234567890123",
    ):
        assert secret not in scrubbed


def test_scrub_masks_given_secret_and_shortens() -> None:
    scrubbed = scrub("x" * 500 + " plain-secret-value", ["plain-secret-value"])
    assert "plain-secret-value" not in scrubbed
    assert len(scrubbed) <= 300
