"""Domain records shared by the store, the admin API and the data plane.

They are plain frozen dataclasses: the store builds them from rows, the data
plane reads them from an in-memory snapshot, and nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

BudgetPeriod = Literal["none", "daily", "weekly", "monthly"]
GuardrailKind = Literal["pii", "keyword", "regex"]
GuardrailScope = Literal["input", "output", "both"]
GuardrailAction = Literal["block", "mask"]
Source = Literal["api", "playground"]

KEY_PREFIX = "sk-gw-"


@dataclass(frozen=True, repr=False)
class ProviderKey:
    """Credentials for one provider; `api_key` is the decrypted secret (memory only)."""

    id: str
    name: str
    provider: str
    api_key: str
    api_base: str | None
    created_at: datetime

    @property
    def masked(self) -> str:
        return mask_secret(self.api_key)

    def __repr__(self) -> str:
        return (
            f"ProviderKey(id={self.id!r}, provider={self.provider!r}, "
            f"api_key={self.masked!r})"
        )


@dataclass(frozen=True)
class Endpoint:
    """A slug that clients send as `model`, mapped to a provider model and key."""

    id: str
    slug: str
    display_name: str
    provider_key_id: str
    model: str
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    fallback_endpoint_ids: tuple[str, ...] = ()
    rpm_limit: int | None = None
    active: bool = True
    created_at: datetime | None = None


@dataclass(frozen=True)
class VirtualKey:
    """A client credential, stored as its SHA-256 hash and a display prefix."""

    id: str
    name: str
    key_hash: str
    key_prefix: str
    allowed_endpoints: tuple[str, ...] = ()
    allowed_models: tuple[str, ...] = ()
    blocked_models: tuple[str, ...] = ()
    allowed_providers: tuple[str, ...] = ()
    blocked_providers: tuple[str, ...] = ()
    max_budget_usd: float | None = None
    budget_period: BudgetPeriod = "none"
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    expires_at: datetime | None = None
    active: bool = True
    created_at: datetime | None = None


@dataclass(frozen=True)
class Guardrail:
    """A content rule applied to requests, responses or both."""

    id: str
    name: str
    kind: GuardrailKind
    scope: GuardrailScope
    action: GuardrailAction
    config: dict[str, Any] = field(default_factory=dict)
    active: bool = True
    created_at: datetime | None = None


@dataclass
class LogRow:
    """One request that reached the gateway, denied ones included."""

    request_id: str
    ts: datetime
    source: Source
    status: int
    key_id: str | None = None
    key_prefix: str | None = None
    endpoint: str | None = None
    provider: str | None = None
    model: str | None = None
    error_code: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    upstream_ms: float = 0.0
    stream: bool = False
    guardrail_actions: list[str] = field(default_factory=list)
    request_body: str | None = None
    response_body: str | None = None


def mask_secret(secret: str) -> str:
    """Show the first three and last four characters of a secret; stars when short."""
    if len(secret) < 12:
        return "*" * 8
    return f"{secret[:3]}...{secret[-4:]}"
