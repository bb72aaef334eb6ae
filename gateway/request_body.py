"""Parse and validate OpenAI request bodies before anything else looks at them.

Only the parameters listed here are forwarded. A routing field that litellm
would honour (`api_base`, `api_key`, `fallbacks`, `mock_response`...) and any
other unknown field is rejected with 400 `unsupported_parameter`, so the body
can never steer where a request goes or with which credentials.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import InvalidRequest

# The OpenAI chat parameters that the gateway forwards, besides `model` and `messages`.
CHAT_PARAMETERS = (
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "user",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "stream",
    "stream_options",
    "logprobs",
    "top_logprobs",
)
EMBEDDING_PARAMETERS = ("encoding_format", "dimensions", "user")

# Fields that litellm or the openai SDK read as routing, credentials or test
# hooks. They get their own message, because sending one is usually an attempt
# to reach a provider directly.
ROUTING_FIELDS = frozenset(
    {
        "api_base",
        "base_url",
        "api_key",
        "api_version",
        "azure_ad_token",
        "custom_llm_provider",
        "deployment_id",
        "organization",
        "fallbacks",
        "context_window_fallback_dict",
        "model_list",
        "mock_response",
        "mock_tool_calls",
        "mock_timeout",
        "litellm_params",
        "litellm_call_id",
        "litellm_logging_obj",
        "extra_headers",
        "extra_body",
        "extra_query",
        "headers",
        "timeout",
        "request_timeout",
        "stream_timeout",
        "num_retries",
        "max_retries",
        "input_cost_per_token",
        "output_cost_per_token",
        "proxy_server_request",
        "caching",
        "cache",
        "region_name",
        "vertex_project",
        "vertex_location",
        "vertex_credentials",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_region_name",
    }
)
MESSAGE_ROLES = frozenset(
    {"system", "developer", "user", "assistant", "tool", "function"}
)
MAX_METADATA_ENTRIES = 16
# The largest 32-bit signed integer. No model produces this many tokens, and a
# larger value would only fail at the provider or in integer columns.
MAX_TOKENS = 2_147_483_647


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated chat completion request."""

    model: str
    """The endpoint slug, trimmed and lower-cased."""
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    """Optional parameters to forward, without `stream` and `stream_options`."""
    stream: bool
    include_usage: bool
    """Whether a streaming client set `stream_options.include_usage`."""


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """A validated embeddings request."""

    model: str
    input: str | list[Any]
    params: dict[str, Any]


def parse_json(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Decode a request body that must be a JSON object, or raise 400 `invalid_json`."""
    if content_type and not _is_json_type(content_type):
        raise InvalidRequest(
            f"Content-Type {content_type[:60]!r} is not JSON. "
            "Send the body as JSON with 'Content-Type: application/json'.",
            code="invalid_json",
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        _check_utf8(body)
        raise InvalidRequest(
            f"The body is not valid JSON ({exc.msg} at position {exc.pos}). "
            "Send one JSON object.",
            code="invalid_json",
        ) from None
    if not isinstance(payload, dict):
        raise InvalidRequest(
            f"The body is a JSON {_json_type(payload)}, not an object. "
            'Send one JSON object such as {"model": "...", "messages": [...]}.',
            code="invalid_json",
        )
    return payload


def _check_utf8(body: bytes) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"The body is not valid UTF-8 JSON: the byte at position {exc.start} "
            "is not valid UTF-8. "
            "Send one JSON object encoded as UTF-8.",
            code="invalid_json",
        ) from None


def parse_chat(payload: Mapping[str, Any]) -> ChatRequest:
    """Validate a chat completion body, or raise 400 naming the first bad field."""
    check_fields(payload, ("model", "messages", "metadata", *CHAT_PARAMETERS))
    model = _model(payload)
    messages = _messages(payload.get("messages"))
    params = _params(payload, CHAT_PARAMETERS, _CHAT_CHECKS)

    stream = bool(params.pop("stream", False))
    options = params.pop("stream_options", None) or {}
    include_usage = stream and bool(options.get("include_usage", False))
    return ChatRequest(model, messages, params, stream, include_usage)


def parse_embeddings(payload: Mapping[str, Any]) -> EmbeddingRequest:
    """Validate an embeddings body, or raise 400 naming the first bad field."""
    check_fields(payload, ("model", "input", *EMBEDDING_PARAMETERS))
    model = _model(payload)
    if "input" not in payload:
        raise _missing("input", 'such as "input": "text to embed"')
    value = payload["input"]
    if not _is_embedding_input(value):
        raise _invalid(
            "input",
            value,
            "a non-empty string, a non-empty list of strings, "
            "a list of token ids or a list of token id lists",
        )
    params = _params(payload, EMBEDDING_PARAMETERS, _EMBEDDING_CHECKS)
    return EmbeddingRequest(model, value, params)


def check_fields(payload: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Reject routing fields and any field outside `allowed`."""
    for name in payload:
        if name in allowed:
            continue
        if name in ROUTING_FIELDS:
            raise InvalidRequest(
                f"'{name}' is not accepted: the endpoint decides where a request goes "
                f"and with which credentials. Remove '{name}' from the body.",
                code="unsupported_parameter",
                param=name,
            )
        raise InvalidRequest(
            f"Unsupported parameter '{name[:60]}'. Remove it; this route accepts: "
            f"{', '.join(allowed)}.",
            code="unsupported_parameter",
            param=name[:60],
        )
    if "metadata" in payload:
        _check_metadata(payload["metadata"])


def _model(payload: Mapping[str, Any]) -> str:
    if "model" not in payload or payload["model"] is None:
        raise _missing("model", 'the endpoint slug, such as "model": "gpt4o"')
    model = payload["model"]
    if not isinstance(model, str) or not model.strip():
        raise _invalid("model", model, "a non-empty string: the endpoint slug")
    return model.strip().lower()


def _messages(value: Any) -> list[dict[str, Any]]:
    if value is None:
        raise _missing("messages", 'such as [{"role": "user", "content": "Hello"}]')
    if not isinstance(value, list):
        raise _invalid("messages", value, "a non-empty list of message objects")
    if not value:
        raise InvalidRequest(
            "Invalid value for 'messages': the list is empty. Send at least one "
            'message, such as [{"role": "user", "content": "Hello"}].',
            code="invalid_field",
            param="messages",
        )
    for index, message in enumerate(value):
        _check_message(index, message)
    return value


def _check_message(index: int, message: Any) -> None:
    field = f"messages[{index}]"
    if not isinstance(message, dict):
        raise _invalid(
            field, message, 'an object such as {"role": "user", "content": "Hi"}'
        )
    role = message.get("role")
    if role is None:
        raise _missing(f"{field}.role", f"one of {', '.join(sorted(MESSAGE_ROLES))}")
    if role not in MESSAGE_ROLES:
        raise _invalid(
            f"{field}.role", role, f"one of {', '.join(sorted(MESSAGE_ROLES))}"
        )

    content = message.get("content")
    if content is None:
        if role in ("assistant", "function"):
            return
        raise _missing(f"{field}.content", "a string or a list of content parts")
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise _invalid(
            f"{field}.content", content, "a string or a list of content parts"
        )
    for position, part in enumerate(content):
        _check_part(f"{field}.content[{position}]", part)


def _check_part(field: str, part: Any) -> None:
    if not isinstance(part, dict) or not isinstance(part.get("type"), str):
        raise _invalid(
            field, part, 'an object with a "type", such as {"type": "text", ...}'
        )
    if part["type"] == "text" and not isinstance(part.get("text"), str):
        raise _invalid(f"{field}.text", part.get("text"), "a string")


def _params(
    payload: Mapping[str, Any],
    names: tuple[str, ...],
    checks: Mapping[str, tuple[Callable[[Any], bool], str]],
) -> dict[str, Any]:
    """Validate the optional parameters present; a null value counts as absent."""
    params: dict[str, Any] = {}
    for name in names:
        value = payload.get(name)
        if value is None:
            continue
        check, expected = checks[name]
        if not check(value):
            raise _invalid(name, value, expected)
        params[name] = value
    return params


def _check_metadata(value: Any) -> None:
    """Accept OpenAI's metadata (string pairs) only; it is never forwarded."""
    if value is None:
        return
    if not isinstance(value, dict) or len(value) > MAX_METADATA_ENTRIES:
        raise _invalid(
            "metadata", value, f"an object of at most {MAX_METADATA_ENTRIES} strings"
        )
    for name, item in value.items():
        if name in ROUTING_FIELDS or name.startswith(("litellm", "model_group")):
            raise InvalidRequest(
                f"metadata.{name[:60]} is not accepted: metadata cannot route. "
                f"Remove '{name[:60]}' from metadata.",
                code="unsupported_parameter",
                param=f"metadata.{name[:60]}",
            )
        if not isinstance(item, str):
            raise _invalid(f"metadata.{name[:60]}", item, "a string")


def _missing(field: str, hint: str) -> InvalidRequest:
    return InvalidRequest(
        f"Missing required field '{field}'; send it, {hint}.",
        code="missing_field",
        param=field,
    )


def _invalid(field: str, value: Any, expected: str) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid value for '{field}': got {_describe(value)}, expected {expected}.",
        code="invalid_field",
        param=field,
    )


def _describe(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"a JSON {_json_type(value)}"
    text = orjson.dumps(value).decode()
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({_json_type(value)})"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _is_json_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _number_between(low: float, high: float) -> Callable[[Any], bool]:
    return lambda value: _is_number(value) and low <= value <= high


def _int_between(low: int, high: int | None = None) -> Callable[[Any], bool]:
    return lambda value: (
        _is_int(value) and value >= low and (high is None or value <= high)
    )


def _is_stop(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return (
        isinstance(value, list)
        and 1 <= len(value) <= 4
        and all(isinstance(v, str) for v in value)
    )


def _is_logit_bias(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    return all(_is_number(bias) and -100 <= bias <= 100 for bias in value.values())


def _is_tools(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    return all(
        isinstance(tool, dict) and isinstance(tool.get("type"), str) for tool in value
    )


def _is_tool_choice(value: Any) -> bool:
    if isinstance(value, str):
        return value in ("none", "auto", "required")
    return isinstance(value, dict) and isinstance(value.get("type"), str)


def _is_response_format(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    return value.get("type") in ("text", "json_object", "json_schema")


def _is_stream_options(value: Any) -> bool:
    if not isinstance(value, dict) or set(value) - {
        "include_usage",
        "include_obfuscation",
    }:
        return False
    return all(isinstance(flag, bool) for flag in value.values())


def _is_embedding_input(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    if not isinstance(value, list) or not value:
        return False
    if all(isinstance(item, str) and item for item in value):
        return True
    if all(_is_int(item) for item in value):
        return True
    return all(
        isinstance(item, list) and item and all(_is_int(token) for token in item)
        for item in value
    )


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


_TOKEN_COUNT = f"an integer from 1 to {MAX_TOKENS}"
_CHAT_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "temperature": (_number_between(0, 2), "a number from 0 to 2"),
    "top_p": (_number_between(0, 1), "a number from 0 to 1"),
    "n": (_int_between(1, 128), "an integer from 1 to 128"),
    "stop": (_is_stop, "a string or a list of 1 to 4 strings"),
    "max_tokens": (_int_between(1, MAX_TOKENS), _TOKEN_COUNT),
    "max_completion_tokens": (_int_between(1, MAX_TOKENS), _TOKEN_COUNT),
    "presence_penalty": (_number_between(-2, 2), "a number from -2 to 2"),
    "frequency_penalty": (_number_between(-2, 2), "a number from -2 to 2"),
    "logit_bias": (
        _is_logit_bias,
        "an object mapping token ids to numbers from -100 to 100",
    ),
    "user": (_is_str, "a string"),
    "seed": (_is_int, "an integer"),
    "tools": (_is_tools, 'a list of tool objects, each with a "type"'),
    "tool_choice": (
        _is_tool_choice,
        '"none", "auto", "required" or a tool choice object',
    ),
    "parallel_tool_calls": (_is_bool, "true or false"),
    "response_format": (
        _is_response_format,
        'an object with "type" "text", "json_object" or "json_schema"',
    ),
    "stream": (_is_bool, "true or false"),
    "stream_options": (_is_stream_options, 'an object such as {"include_usage": true}'),
    "logprobs": (_is_bool, "true or false"),
    "top_logprobs": (_int_between(0, 20), "an integer from 0 to 20"),
}
_EMBEDDING_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "encoding_format": (
        lambda value: value in ("float", "base64"),
        '"float" or "base64"',
    ),
    "dimensions": (_int_between(1), "an integer of at least 1"),
    "user": (_is_str, "a string"),
}
