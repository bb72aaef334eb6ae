"""Provider calls: the one function that calls litellm, fallbacks and usage metering.

`send` is the only place that calls litellm, so a faster OpenAI-compatible
pass-through can replace it for some providers without touching the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, TypeVar

import litellm

from gateway import passthrough
from gateway.error_mapping import map_provider_error
from gateway.errors import GatewayError, RateLimited, UpstreamError
from gateway.limits import Limiter
from gateway.pipeline import Call, Candidate

logger = logging.getLogger(__name__)
# litellm logs every call at INFO; the gateway writes its own line per request.
logging.getLogger("LiteLLM").setLevel(logging.WARNING)

Operation = Literal["chat", "embeddings"]
Result = TypeVar("Result")


async def send(
    operation: Operation, candidate: Candidate, payload: dict[str, Any], timeout: float
) -> Any:
    """Call the candidate's provider through litellm with its model, key and base URL.

    `payload` contains the OpenAI fields only (messages or input, parameters,
    `stream`); the credentials always come from the endpoint's provider key.
    litellm's own retries are off, because the gateway decides about retries
    with its fallbacks. Chat calls that litellm would send unchanged to an
    OpenAI-format provider go through `gateway.passthrough` instead.
    """
    if operation == "chat" and passthrough.handles(candidate, payload):
        return await passthrough.send(candidate, payload, timeout)
    provider_key = candidate.provider_key
    credentials: dict[str, Any] = {
        "model": candidate.target.litellm_model,
        "api_key": provider_key.api_key,
        "timeout": timeout,
        "num_retries": 0,
    }
    if provider_key.api_base:
        credentials["api_base"] = provider_key.api_base
    if operation == "embeddings":
        return await litellm.aembedding(**payload, **credentials)
    return await litellm.acompletion(**payload, **credentials)


async def with_fallbacks(
    call: Call,
    route: list[Candidate],
    attempt: Callable[[Candidate], Awaitable[Result]],
    limiter: Limiter | None = None,
) -> Result:
    """Run `attempt` on each candidate in turn until one succeeds.

    A provider fault (5xx, timeout, broken connection) moves on to the next
    candidate. A 4xx response, or the last candidate's fault, is raised as the
    gateway's error. `call.target` ends on the candidate that responded. A
    fallback whose endpoint rpm limit is full is skipped, using `limiter`.
    """
    for position, candidate in enumerate(route):
        if position > 0 and limiter is not None:
            try:
                limiter.check_endpoint(candidate.endpoint)
            except RateLimited:
                if position == len(route) - 1:
                    raise
                continue
        call.target = candidate.target
        started = time.perf_counter()
        try:
            result = await attempt(candidate)
        except GatewayError:
            raise
        except Exception as exc:
            failure = map_provider_error(
                exc,
                provider=candidate.target.provider,
                endpoint=candidate.endpoint.slug,
                secrets=(candidate.provider_key.api_key,),
            )
            if failure is None:
                raise
            call.upstream_ms += (time.perf_counter() - started) * 1000
            if not failure.retryable or position == len(route) - 1:
                raise failure.error from None
            _log_fallback(call, candidate, route[position + 1], failure.error)
            continue
        call.upstream_ms += (time.perf_counter() - started) * 1000
        return result
    raise UpstreamError("No endpoint could serve the request.")


def _log_fallback(
    call: Call, failed: Candidate, following: Candidate, error: GatewayError
) -> None:
    logger.warning(
        "%s endpoint %s failed (%s); trying fallback %s",
        call.request_id,
        failed.endpoint.slug,
        error.code,
        following.endpoint.slug,
    )


def chat_payload(
    candidate: Candidate, messages: list[dict[str, Any]], params: dict[str, Any]
) -> dict[str, Any]:
    """Apply the endpoint's defaults: a system prompt and temperature and max_tokens.

    The system prompt is prepended only when the request has no system
    message; temperature and max_tokens fill in only when the request omits
    them.
    """
    endpoint = candidate.endpoint
    payload = dict(params)
    if endpoint.system_prompt and not any(m.get("role") == "system" for m in messages):
        messages = [{"role": "system", "content": endpoint.system_prompt}, *messages]
    if endpoint.temperature is not None and "temperature" not in payload:
        payload["temperature"] = endpoint.temperature
    has_limit = "max_tokens" in payload or "max_completion_tokens" in payload
    if endpoint.max_tokens is not None and not has_limit:
        payload["max_tokens"] = endpoint.max_tokens
    payload["messages"] = messages
    return payload


def usage_of(response: Any) -> tuple[int, int] | None:
    """Return `(prompt_tokens, completion_tokens)` that a provider reported, if any."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    if not isinstance(prompt, int):
        return None
    return prompt, completion if isinstance(completion, int) else 0


def count_tokens(
    litellm_model: str, messages: list[dict[str, Any]], completion: str
) -> tuple[int, int]:
    """Count tokens with litellm's tokenizer for the model, when none were reported."""
    prompt = litellm.token_counter(model=litellm_model, messages=messages)
    produced = (
        litellm.token_counter(model=litellm_model, text=completion) if completion else 0
    )
    return int(prompt), int(produced)


async def close_stream(stream: Any) -> None:
    """Close a litellm stream so its provider connection is released."""
    closer = getattr(stream, "aclose", None)
    if closer is None:
        return
    try:
        await closer()
    except Exception:
        logger.debug("closing a provider stream failed", exc_info=True)


async def first_chunk(stream: Any) -> tuple[Any, AsyncIterator[Any]]:
    """Read a stream's first chunk, so provider errors come before the response."""
    iterator = stream.__aiter__()
    try:
        chunk = await iterator.__anext__()
    except StopAsyncIteration:
        return None, iterator
    except BaseException:
        await close_stream(stream)
        raise
    return chunk, iterator
