"""Pure helpers for the playground page: endpoints for a model, slugs, request bodies.

Nothing here imports Streamlit or does I/O, so the page's decisions can be
tested on plain dicts shaped like the admin API's JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

SLUG_MAX_LENGTH = 48
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def split_model_id(model_id: str) -> tuple[str | None, str]:
    """Split a model id into its provider prefix and name.

    `openai/gpt-4o` becomes `("openai", "gpt-4o")`, `gpt-4o` becomes `(None, "gpt-4o")`.
    """
    provider, sep, name = model_id.strip().partition("/")
    if not sep:
        return None, provider
    return provider.lower(), name


def serves_model(endpoint: Mapping[str, Any], model_id: str) -> bool:
    """Tell whether an endpoint listing row points at the catalog model `model_id`.

    An endpoint stores the litellm model id it was created with, which may
    lack the provider prefix (`gpt-4o` on an `openai` key), so the resolved
    `provider` fills in the prefix before comparing.
    """
    target = model_id.strip().lower()
    model = str(endpoint.get("model") or "").strip().lower()
    if not model:
        return False
    if model == target:
        return True
    provider = str(endpoint.get("provider") or "").lower()
    return f"{provider}/{model}" == target


def endpoints_for_model(
    endpoints: Iterable[Mapping[str, Any]],
    model_id: str,
    catalog_slugs: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Return the active endpoints that serve `model_id`, in listing order.

    `catalog_slugs` is the catalog's `endpoints` field for the model. An
    endpoint named there counts even when its stored model id is spelled
    differently from the catalog id.
    """
    named = {slug.lower() for slug in catalog_slugs}
    matches = []
    for endpoint in endpoints:
        if not endpoint.get("active", True):
            continue
        slug = str(endpoint.get("slug", "")).lower()
        if slug in named or serves_model(endpoint, model_id):
            matches.append(dict(endpoint))
    return matches


def suggest_slug(model_id: str) -> str:
    """Suggest an endpoint slug from a model id: `openai/gpt-4o` becomes `gpt-4o`.

    Slugs contain lower case letters, digits and dashes only.
    """
    _, name = split_model_id(model_id)
    name = name.rsplit("/", 1)[-1]
    slug = _NOT_SLUG.sub("-", name.lower()).strip("-")
    slug = slug[:SLUG_MAX_LENGTH].rstrip("-")
    return slug or "model"


def build_messages(
    system_prompt: str, history: Iterable[Mapping[str, str]]
) -> list[dict[str, str]]:
    """Prepend the system prompt, when one is set, to the chat history."""
    messages = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    for message in history:
        messages.append({"role": message["role"], "content": message["content"]})
    return messages


def build_request(
    endpoint: str,
    messages: list[dict[str, str]],
    *,
    temperature: float | None,
    max_tokens: int | None,
    key_id: str | None,
    stream: bool = True,
) -> dict[str, Any]:
    """Build the body of `POST /admin/playground/chat`, leaving out unset options."""
    body: dict[str, Any] = {
        "endpoint": endpoint,
        "messages": messages,
        "stream": stream,
    }
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens:
        body["max_tokens"] = max_tokens
    if key_id:
        body["key_id"] = key_id
    return body


def parse_request_json(text: str) -> dict[str, Any]:
    """Parse an edited playground request body and check the fields the page relies on.

    Raises ValueError with a message that names the problem and the fix.
    """
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"The request is not valid JSON: {exc.msg} at line {exc.lineno}."
        ) from exc
    if not isinstance(body, dict):
        raise ValueError(
            "The request must be a JSON object with `endpoint` and `messages`."
        )
    if not isinstance(body.get("endpoint"), str) or not body["endpoint"]:
        raise ValueError("The request needs `endpoint`, the slug of an endpoint.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError(
            "The request needs `messages`, a non-empty list of chat messages."
        )
    return body


def format_stats(gateway: Mapping[str, Any] | None) -> str:
    """Format a reply's `gateway` object as tokens, cost and latency for a caption."""
    if not gateway:
        return "no usage reported"
    prompt = int(gateway.get("prompt_tokens") or 0)
    completion = int(gateway.get("completion_tokens") or 0)
    cost = float(gateway.get("cost_usd") or 0.0)
    latency = float(gateway.get("latency_ms") or 0.0)
    return (
        f"{prompt} prompt + {completion} completion tokens · "
        f"${cost:.6f} · {latency:.0f} ms"
    )
