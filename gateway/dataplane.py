"""The OpenAI-compatible routes: chat completions, embeddings, models and health.

Handlers read the raw body themselves instead of through pydantic models,
so the error for a bad body has the OpenAI shape and names the field, and
so that the per-request work stays small.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from gateway import pricing
from gateway.bodies import read_body
from gateway.models import Source, VirtualKey
from gateway.pipeline import (
    Call,
    Candidate,
    admit,
    allowed_slugs,
    authenticate,
    estimate_prompt_tokens,
    finish,
    guard_messages,
    guard_text,
    key_prefix_hint,
    message_texts,
    record_error,
    resolve_route,
    start_call,
)
from gateway.request_body import ChatRequest, parse_chat, parse_embeddings, parse_json
from gateway.runtime import Runtime
from gateway.streaming import OpenStream, Trailer, stream_response
from gateway.upstream import (
    chat_payload,
    count_tokens,
    first_chunk,
    send,
    usage_of,
    with_fallbacks,
)

logger = logging.getLogger(__name__)

router = APIRouter(tags=["OpenAI-compatible API"])


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def call_for(request: Request, source: Source) -> Call:
    """Start a call under the request id that the middleware put in the scope."""
    request_id = str(request.scope.get("state", {}).get("request_id", ""))
    return start_call(request_id, source)


def json_response(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


async def logged(
    runtime: Runtime, call: Call, request: Request, work: Callable[[], Any]
) -> Response:
    """Run a handler's work; log the call when it fails or returns a plain response.

    A streamed response logs itself when its stream ends.
    """
    try:
        response: Response = await work()
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            call.fail(499, "client_disconnected")
        else:
            record_error(call, exc)
        if call.key is None:
            call.key = key_prefix_hint(runtime.snapshot, request.headers)
        finish(runtime, call)
        raise
    if not call.stream:
        finish(runtime, call)
    return response


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    """Create a chat completion through an endpoint, plain or streamed."""
    runtime = runtime_of(request)
    call = call_for(request, "api")

    async def work() -> Response:
        body = await read_body(request, runtime.settings.max_body_bytes)
        chat = parse_chat(parse_json(body, request.headers.get("content-type")))
        call.endpoint_slug = chat.model
        key = authenticate(runtime.snapshot, request.headers, call.ts)
        call.key = key
        return await run_chat(runtime, call, chat, key)

    return await logged(runtime, call, request, work)


async def run_chat(
    runtime: Runtime,
    call: Call,
    chat: ChatRequest,
    key: VirtualKey,
    trailer: Trailer | None = None,
    decorate: Callable[[Call, dict[str, Any]], None] | None = None,
) -> Response:
    """Run the checks after authentication, then forward the chat request.

    The playground passes `trailer` to add a last stream chunk and
    `decorate` to extend a plain response.
    """
    snapshot = runtime.snapshot
    route = resolve_route(snapshot, key, chat.model)
    call.target = route[0].target
    prompt = estimate_prompt_tokens(message_texts(chat.messages), len(chat.messages))
    admit(runtime, call, key, route, prompt, _max_tokens(chat, route[0]))
    messages = guard_messages(snapshot, call, chat.messages)
    if runtime.settings.store_bodies:
        call.request_body = orjson.dumps({"messages": messages, **chat.params}).decode()

    call.stream = chat.stream
    if chat.stream:
        opened = await with_fallbacks(
            call, route, _opener(runtime, messages, chat), runtime.limiter
        )
        return stream_response(
            runtime, call, opened, include_usage=chat.include_usage, trailer=trailer
        )
    body = await _complete(runtime, call, route, messages, chat)
    if decorate is not None:
        decorate(call, body)
    return json_response(body)


def _max_tokens(chat: ChatRequest, primary: Candidate) -> int | None:
    requested = chat.params.get("max_tokens") or chat.params.get(
        "max_completion_tokens"
    )
    return requested or primary.endpoint.max_tokens


def _opener(
    runtime: Runtime, messages: list[dict[str, Any]], chat: ChatRequest
) -> Callable[[Candidate], Any]:
    timeout = runtime.settings.upstream_timeout_seconds

    async def open_stream(candidate: Candidate) -> OpenStream:
        payload = chat_payload(candidate, messages, chat.params)
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
        stream = await send("chat", candidate, payload, timeout)
        first, iterator = await first_chunk(stream)
        return OpenStream(candidate, stream, iterator, first, payload["messages"])

    return open_stream


async def _complete(
    runtime: Runtime,
    call: Call,
    route: list[Candidate],
    messages: list[dict[str, Any]],
    chat: ChatRequest,
) -> dict[str, Any]:
    timeout = runtime.settings.upstream_timeout_seconds
    sent: list[dict[str, Any]] = []

    async def attempt(candidate: Candidate) -> Any:
        payload = chat_payload(candidate, messages, chat.params)
        sent[:] = payload["messages"]
        return await send("chat", candidate, payload, timeout)

    response = await with_fallbacks(call, route, attempt, runtime.limiter)
    body = _response_dict(response)
    _meter(call, response, sent, body)
    _guard_output(runtime, call, body)
    if runtime.settings.store_bodies:
        call.response_body = orjson.dumps(body).decode()
    return body


def _response_dict(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.model_dump()
    for choice in body.get("choices") or ():
        choice.pop("provider_specific_fields", None)
    usage = body.get("usage")
    if isinstance(usage, dict):
        usage.pop("cost", None)
    return body


def _meter(
    call: Call, response: Any, sent: list[dict[str, Any]], body: dict[str, Any]
) -> None:
    """Record the tokens the provider reported, or count them, and price them."""
    assert call.target is not None
    model = call.target.litellm_model
    reported = usage_of(response)
    if reported is None:
        text = "".join(_choice_texts(body))
        reported = count_tokens(model, sent, text)
    call.prompt_tokens, call.completion_tokens = reported
    call.cost_usd = pricing.cost(model, *reported)


def _choice_texts(body: dict[str, Any]) -> list[str]:
    texts = []
    for choice in body.get("choices") or ():
        content = (choice.get("message") or {}).get("content")
        if isinstance(content, str):
            texts.append(content)
    return texts


def _guard_output(runtime: Runtime, call: Call, body: dict[str, Any]) -> None:
    """Apply output guardrails to each choice: mask text, or withhold blocked text.

    A blocked response is returned like a provider's content filter: empty
    content and `finish_reason` `content_filter`. The request was served and
    is charged, so the status stays 200.
    """
    for choice in body.get("choices") or ():
        message = choice.get("message") or {}
        content = message.get("content")
        if not isinstance(content, str) or not content:
            continue
        text, blocked = guard_text(runtime.snapshot, call, content, "output")
        if blocked:
            message["content"] = ""
            choice["finish_reason"] = "content_filter"
        elif text != content:
            message["content"] = text


@router.post("/v1/embeddings")
async def embeddings(request: Request) -> Response:
    """Create embeddings through an endpoint whose model is an embedding model."""
    runtime = runtime_of(request)
    call = call_for(request, "api")

    async def work() -> Response:
        body = await read_body(request, runtime.settings.max_body_bytes)
        parsed = parse_embeddings(parse_json(body, request.headers.get("content-type")))
        call.endpoint_slug = parsed.model
        key = authenticate(runtime.snapshot, request.headers, call.ts)
        call.key = key
        return await _run_embeddings(
            runtime, call, key, parsed.model, parsed.input, parsed.params
        )

    return await logged(runtime, call, request, work)


async def _run_embeddings(
    runtime: Runtime,
    call: Call,
    key: VirtualKey,
    slug: str,
    inputs: str | list[Any],
    params: dict[str, Any],
) -> Response:
    snapshot = runtime.snapshot
    route = resolve_route(snapshot, key, slug)
    call.target = route[0].target
    texts = (
        [inputs]
        if isinstance(inputs, str)
        else [i for i in inputs if isinstance(i, str)]
    )
    admit(
        runtime, call, key, route, estimate_prompt_tokens(texts, 0) or len(inputs), None
    )
    inputs = _guard_inputs(runtime, call, inputs)
    timeout = runtime.settings.upstream_timeout_seconds

    async def attempt(candidate: Candidate) -> Any:
        return await send("embeddings", candidate, {"input": inputs, **params}, timeout)

    response = await with_fallbacks(call, route, attempt, runtime.limiter)
    body: dict[str, Any] = response.model_dump()
    assert call.target is not None
    reported = usage_of(response)
    call.prompt_tokens = reported[0] if reported else estimate_prompt_tokens(texts, 0)
    call.cost_usd = pricing.cost(call.target.litellm_model, call.prompt_tokens, 0)
    return json_response(body)


def _guard_inputs(
    runtime: Runtime, call: Call, inputs: str | list[Any]
) -> str | list[Any]:
    if isinstance(inputs, str):
        messages = guard_messages(
            runtime.snapshot, call, [{"role": "user", "content": inputs}]
        )
        return str(messages[0]["content"])
    if not all(isinstance(item, str) for item in inputs):
        return inputs
    messages = [{"role": "user", "content": item} for item in inputs]
    return [m["content"] for m in guard_messages(runtime.snapshot, call, messages)]


@router.get("/v1/models")
async def list_models(request: Request) -> Response:
    """List the endpoint slugs that the calling key may use, as OpenAI models."""
    runtime = runtime_of(request)
    snapshot = runtime.snapshot
    key = authenticate(snapshot, request.headers, call_for(request, "api").ts)
    data = [_model_entry(candidate) for candidate in allowed_slugs(snapshot, key)]
    return json_response({"object": "list", "data": data})


def _model_entry(candidate: Candidate) -> dict[str, Any]:
    created = candidate.endpoint.created_at
    return {
        "id": candidate.endpoint.slug,
        "object": "model",
        "created": int(created.timestamp()) if created is not None else 0,
        "owned_by": candidate.target.provider,
    }


@router.get("/health")
async def health() -> Response:
    """Report that the service is up; it needs no key."""
    return json_response({"status": "ok"})
