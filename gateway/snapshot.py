"""An immutable in-memory view of the configuration that the data plane reads per request.

The runtime rebuilds it after every admin write and swaps it in one
assignment, so a request sees either the old or the new configuration, never
a mix, and authenticating a key is a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.acl import KeyRules
from gateway.guardrails import GuardrailSet
from gateway.models import Endpoint, ProviderKey, VirtualKey


@dataclass(frozen=True)
class Target:
    """Where an endpoint sends requests, as the access rules see it."""

    provider: str
    """Resolved provider, lower case, such as `openai`."""
    model: str
    """Model name without the provider prefix, such as `gpt-4o`."""
    litellm_model: str
    """The id passed to litellm, such as `openai/gpt-4o`."""

    @property
    def qualified(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True)
class Snapshot:
    provider_keys: Mapping[str, ProviderKey]
    endpoints_by_id: Mapping[str, Endpoint]
    endpoints_by_slug: Mapping[str, Endpoint]
    targets: Mapping[str, Target]
    """Resolved target of every endpoint, by endpoint id."""
    keys_by_hash: Mapping[str, VirtualKey]
    keys_by_id: Mapping[str, VirtualKey]
    rules: Mapping[str, KeyRules]
    """Compiled access rules of every key, by key id."""
    guardrails: GuardrailSet
    """The active guardrails, compiled."""


def resolve_target(model: str, key_provider: str, known_providers: Iterable[str]) -> Target:
    """Resolve an endpoint's model id and its provider key's provider into a `Target`.

    A prefix that is a known litellm provider (`anthropic/claude-3-5-haiku`)
    names the provider. Otherwise the provider key's provider applies and the
    whole id is the model name, so `gpt-4o` with an `openai` key becomes
    `openai/gpt-4o`, and a Hugging Face style `org/model` on an `ollama` key
    stays one model name.
    """
    model = model.strip()
    prefix, slash, rest = model.partition("/")
    if slash and prefix.lower() in set(known_providers):
        provider = prefix.lower()
        return Target(provider=provider, model=rest, litellm_model=f"{provider}/{rest}")
    provider = key_provider.strip().lower()
    return Target(provider=provider, model=model, litellm_model=f"{provider}/{model}")
