"""Parsing and validating OpenAI request bodies."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidRequest
from gateway.request_body import (
    ROUTING_FIELDS,
    parse_chat,
    parse_embeddings,
    parse_json,
)

MESSAGES = [{"role": "user", "content": "Hello"}]


def chat(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt4o", "messages": MESSAGES, **fields}


def rejection(payload: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse_chat(payload)
    return caught.value


def test_parse_json_accepts_object() -> None:
    assert parse_json(b'{"a": 1}', "application/json; charset=utf-8") == {"a": 1}


def test_parse_json_accepts_missing_content_type() -> None:
    assert parse_json(b"{}", None) == {}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b'{"a": 1}', "text/plain"),
        (b"model=x", "application/x-www-form-urlencoded"),
    ],
)
def test_parse_json_rejects_malformed(body: bytes, content_type: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_json(body, content_type)
    assert caught.value.code == "invalid_json"
    assert caught.value.status_code == 400


def test_parse_chat_keeps_documented_parameters() -> None:
    request = parse_chat(
        chat(model=" GPT4O ", temperature=0.5, max_tokens=10, stop=["x"], seed=3)
    )
    assert request.model == "gpt4o"
    assert request.messages == MESSAGES
    assert request.params == {
        "temperature": 0.5,
        "max_tokens": 10,
        "stop": ["x"],
        "seed": 3,
    }
    assert request.stream is False


def test_parse_chat_splits_stream_options() -> None:
    request = parse_chat(chat(stream=True, stream_options={"include_usage": True}))
    assert request.stream is True
    assert request.include_usage is True
    assert "stream" not in request.params
    assert "stream_options" not in request.params


def test_parse_chat_treats_null_as_absent() -> None:
    request = parse_chat(chat(temperature=None, tools=None))
    assert request.params == {}


def test_parse_chat_drops_plain_metadata() -> None:
    request = parse_chat(chat(metadata={"team": "search"}))
    assert "metadata" not in request.params


@pytest.mark.parametrize("field", sorted(ROUTING_FIELDS))
def test_parse_chat_rejects_routing_field(field: str) -> None:
    error = rejection(chat(**{field: "http://attacker.example"}))
    assert error.code == "unsupported_parameter"
    assert error.param == field
    assert field in error.message
    assert "attacker" not in error.message


def test_parse_chat_rejects_routing_metadata() -> None:
    error = rejection(chat(metadata={"api_base": "http://attacker.example"}))
    assert error.code == "unsupported_parameter"
    assert error.param == "metadata.api_base"


def test_parse_chat_rejects_unknown_field() -> None:
    error = rejection(chat(frobnicate=True))
    assert error.code == "unsupported_parameter"
    assert error.param == "frobnicate"
    assert "'frobnicate'" in error.message


@pytest.mark.parametrize("field", ["model", "messages"])
def test_parse_chat_requires_field(field: str) -> None:
    payload = chat()
    del payload[field]
    error = rejection(payload)
    assert error.code == "missing_field"
    assert error.param == field


@pytest.mark.parametrize(
    ("message", "param"),
    [({"content": "x"}, "messages[0].role"), ({"role": "user"}, "messages[0].content")],
)
def test_parse_chat_requires_message_field(message: dict[str, Any], param: str) -> None:
    error = rejection(chat(messages=[message]))
    assert error.code == "missing_field"
    assert error.param == param


INVALID_CHAT_FIELDS = [
    ("model", 5, "model"),
    ("model", "  ", "model"),
    ("messages", "hello", "messages"),
    ("messages", [], "messages"),
    ("messages", ["hello"], "messages[0]"),
    ("messages", [{"role": "wizard", "content": "x"}], "messages[0].role"),
    ("messages", [{"role": "user", "content": 5}], "messages[0].content"),
    (
        "messages",
        [{"role": "user", "content": [{"text": "x"}]}],
        "messages[0].content[0]",
    ),
    (
        "messages",
        [{"role": "user", "content": [{"type": "text", "text": 1}]}],
        "messages[0].content[0].text",
    ),
    ("temperature", "hot", "temperature"),
    ("temperature", 3, "temperature"),
    ("temperature", True, "temperature"),
    ("top_p", 1.5, "top_p"),
    ("n", 0, "n"),
    ("n", 1.5, "n"),
    ("stop", 5, "stop"),
    ("stop", ["a", "b", "c", "d", "e"], "stop"),
    ("max_tokens", 0, "max_tokens"),
    ("max_tokens", "10", "max_tokens"),
    ("max_completion_tokens", -1, "max_completion_tokens"),
    ("presence_penalty", 5, "presence_penalty"),
    ("frequency_penalty", "x", "frequency_penalty"),
    ("logit_bias", {"50256": 500}, "logit_bias"),
    ("user", 5, "user"),
    ("seed", 1.5, "seed"),
    ("tools", {"type": "function"}, "tools"),
    ("tool_choice", "sometimes", "tool_choice"),
    ("parallel_tool_calls", "yes", "parallel_tool_calls"),
    ("response_format", {"type": "yaml"}, "response_format"),
    ("stream", "true", "stream"),
    ("stream_options", {"include_usage": "yes"}, "stream_options"),
    ("logprobs", 1, "logprobs"),
    ("top_logprobs", 25, "top_logprobs"),
]


@pytest.mark.parametrize(("field", "value", "param"), INVALID_CHAT_FIELDS)
def test_parse_chat_rejects_invalid_field(field: str, value: Any, param: str) -> None:
    error = rejection(chat(**{field: value}))
    assert error.code == "invalid_field"
    assert error.param == param
    assert param in error.message


def test_parse_chat_accepts_tool_conversation() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    request = parse_chat(chat(messages=messages, tool_choice="auto"))
    assert request.messages == messages


def test_parse_embeddings_accepts_list() -> None:
    request = parse_embeddings({"model": "emb", "input": ["a", "b"], "dimensions": 8})
    assert request.input == ["a", "b"]
    assert request.params == {"dimensions": 8}


@pytest.mark.parametrize("value", ["", [], [""], [1, "a"], [[]], 5])
def test_parse_embeddings_rejects_bad_input(value: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_embeddings({"model": "emb", "input": value})
    assert caught.value.code == "invalid_field"
    assert caught.value.param == "input"


def test_parse_embeddings_requires_input() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_embeddings({"model": "emb"})
    assert caught.value.code == "missing_field"


def test_parse_embeddings_rejects_routing_field() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_embeddings({"model": "emb", "input": "a", "api_key": "sk-x"})
    assert caught.value.code == "unsupported_parameter"


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_parse_chat_bounds_token_limit(field: str) -> None:
    error = rejection(chat(**{field: 2**31}))
    accepted = parse_chat(chat(**{field: 2**31 - 1}))

    assert error.code == "invalid_field"
    assert error.param == field
    assert "2147483647" in error.message
    assert accepted.params[field] == 2**31 - 1


def test_parse_chat_empty_messages_explained() -> None:
    error = rejection(chat(messages=[]))

    assert error.code == "invalid_field"
    assert error.param == "messages"
    assert "is empty" in error.message
    assert "at least one message" in error.message


def test_parse_json_invalid_utf8_explained() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_json(b'{"model": "\xff"}', "application/json")

    assert caught.value.code == "invalid_json"
    assert "not valid UTF-8 JSON" in caught.value.message
    assert "position 11" in caught.value.message
    assert "surrogates" not in caught.value.message
