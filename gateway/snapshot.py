"""An immutable in-memory view of the configuration that each request reads.

The runtime rebuilds it after every admin write and swaps it in one
assignment, so a request sees either the old or the new configuration, never
a mix, and authenticating a key is a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from gateway.acl import KeyRules
from gateway.guardrails import GuardrailSet
from gateway.models import Endpoint, ProviderKey, VirtualKey

if TYPE_CHECKING:
    from gateway.crypto import SecretBox
    from gateway.store import Store


@dataclass(frozen=True)
class Target:
    """The provider and model of an endpoint, resolved as the access rules use them."""

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


def resolve_target(
    model: str, key_provider: str, known_providers: Iterable[str]
) -> Target:
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


def build_snapshot(store: Store, secret_box: SecretBox) -> Snapshot:
    """Read the whole configuration from the store into a new `Snapshot`.

    Provider secrets are decrypted here and kept in memory only. Inactive
    endpoints and revoked keys are included, because the data plane reports
    them with their own error codes.
    """
    from gateway.acl import compile_rules
    from gateway.catalog import known_providers
    from gateway.guardrails import compile_guardrails

    provider_keys = {
        row.id: ProviderKey(
            id=row.id,
            name=row.name,
            provider=row.provider,
            api_key=secret_box.decrypt(row.secret_encrypted),
            api_base=row.api_base,
            created_at=row.created_at,
        )
        for row in store.list_provider_keys()
    }
    endpoints = store.list_endpoints()
    providers = known_providers()
    targets = {
        endpoint.id: resolve_target(
            endpoint.model, _key_provider(provider_keys, endpoint), providers
        )
        for endpoint in endpoints
    }
    keys = store.list_virtual_keys()
    guardrails = [item for item in store.list_guardrails() if item.active]
    return Snapshot(
        provider_keys=MappingProxyType(provider_keys),
        endpoints_by_id=MappingProxyType({item.id: item for item in endpoints}),
        endpoints_by_slug=MappingProxyType({item.slug: item for item in endpoints}),
        targets=MappingProxyType(targets),
        keys_by_hash=MappingProxyType({key.key_hash: key for key in keys}),
        keys_by_id=MappingProxyType({key.id: key for key in keys}),
        rules=MappingProxyType({key.id: compile_rules(key) for key in keys}),
        guardrails=compile_guardrails(guardrails),
    )


def _key_provider(provider_keys: Mapping[str, ProviderKey], endpoint: Endpoint) -> str:
    # The admin API rejects deleting a provider key that an endpoint uses,
    # so a missing key means a hand-edited database; the model prefix still applies.
    key = provider_keys.get(endpoint.provider_key_id)
    return key.provider if key is not None else ""
