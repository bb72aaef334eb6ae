"""`POST /admin/playground/chat`: workbench chats through the data plane's checks.

Without `key_id` the admin is trusted: no key, access rule or budget
applies, but guardrails, the endpoint's rpm limit and logging do. With
`key_id`, that key's rules, limits and budget apply and it is charged.
Rows are logged with source `playground`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from gateway.admin_auth import require_admin
from gateway.bodies import read_body
from gateway.dataplane import call_for, logged, run_chat, runtime_of
from gateway.errors import InvalidRequest, NotFound
from gateway.models import VirtualKey
from gateway.pipeline import ADMIN_KEY, Call, check_key_usable
from gateway.request_body import parse_chat, parse_json
from gateway.runtime import Runtime

router = APIRouter(tags=["playground"], dependencies=[Depends(require_admin)])

PLAYGROUND_FIELDS = ("endpoint", "key_id")


@router.post("/admin/playground/chat")
async def playground_chat(request: Request) -> Response:
    """Send a chat request to an endpoint, as an admin or on behalf of a key.

    The body takes `endpoint` (a slug), `messages`, `stream`, `temperature`,
    `max_tokens`, the other OpenAI chat parameters, and optional `key_id`.
    The response is a chat completion with a `gateway` object
    (`request_id`, `cost_usd`, `latency_ms`, `prompt_tokens`,
    `completion_tokens`); streamed, the last chunk before `data: [DONE]`
    carries `usage` and `gateway`.
    """
    runtime = runtime_of(request)
    call = call_for(request, "playground")

    async def work() -> Response:
        body = await read_body(request, runtime.settings.max_body_bytes)
        payload = parse_json(body, request.headers.get("content-type"))
        key = _key_for(runtime, call, payload.pop("key_id", None))
        call.key = key
        chat = parse_chat(_as_chat_body(payload))
        call.endpoint_slug = chat.model
        return await run_chat(
            runtime, call, chat, key, trailer=_trailer, decorate=_decorate
        )

    return await logged(runtime, call, request, work)


def _as_chat_body(payload: dict[str, Any]) -> dict[str, Any]:
    if "model" in payload:
        raise InvalidRequest(
            "The playground takes the endpoint slug as 'endpoint', not 'model'.",
            code="unsupported_parameter",
            param="model",
        )
    if "endpoint" not in payload:
        raise InvalidRequest(
            "Missing required field 'endpoint'; send the slug of the endpoint to try.",
            code="missing_field",
            param="endpoint",
        )
    body = dict(payload)
    body["model"] = body.pop("endpoint")
    body.pop("stream_options", None)
    return body


def _key_for(runtime: Runtime, call: Call, key_id: Any) -> VirtualKey:
    if key_id is None:
        return ADMIN_KEY
    if not isinstance(key_id, str):
        raise InvalidRequest(
            "Invalid value for 'key_id': expected a virtual key id such as 'vk_...'.",
            param="key_id",
        )
    key = runtime.snapshot.keys_by_id.get(key_id)
    if key is None:
        raise NotFound(
            f"No virtual key with id '{key_id[:40]}'. "
            "Pick one from GET /admin/virtual-keys.",
            code="not_found",
            param="key_id",
        )
    check_key_usable(key, call.ts)
    return key


def gateway_info(call: Call) -> dict[str, Any]:
    return {
        "request_id": call.request_id,
        "cost_usd": call.cost_usd,
        "latency_ms": round(call.latency_ms, 1),
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
    }


def _usage(call: Call) -> dict[str, int]:
    return {
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "total_tokens": call.prompt_tokens + call.completion_tokens,
    }


def _decorate(call: Call, body: dict[str, Any]) -> None:
    body["gateway"] = gateway_info(call)


def _trailer(call: Call, last: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": last.get("id", call.request_id),
        "object": "chat.completion.chunk",
        "created": last.get("created", int(call.ts.timestamp())),
        "model": last.get("model", ""),
        "choices": [],
        "usage": _usage(call),
        "gateway": gateway_info(call),
    }
